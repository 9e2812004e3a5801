"""Bounded per visitor: memory, disk and queue, for every handler, and a clean shutdown, against a real server.

One `python app.py` in a process of its own, with its own temporary folder (so its run folders and Gradio's cache
are this test's alone) and a 60-second job limit. The tests run in the order written: the memory test first,
on the fresh server (VmHWM, the peak of resident memory, never falls), the shutdown last.
"""

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from conftest import free_port

ROOT = pathlib.Path(__file__).resolve().parents[1]
CAT = str(ROOT / "assets" / "cat.png")
TINY = dict(selected=["none"], sigma_log10=0.3, extra="", size=16, iters=5, lr=1e-2, paper_lr=False, depth=2,
            width=8, features=8, seed=0)


def vmhwm(pid: int) -> int:
    """The process's peak resident memory in bytes (/proc/PID/status VmHWM)."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def settled(pid: int, quiet: float = 2.0, limit: float = 120.0) -> int:
    """VmHWM once it has not moved for `quiet` seconds (the server's start-up work done)."""
    last, since, deadline = vmhwm(pid), time.time(), time.time() + limit
    while time.time() < deadline and time.time() - since < quiet:
        time.sleep(0.5)
        now = vmhwm(pid)
        if now != last:
            last, since = now, time.time()
    return last


def folder_bytes(folder: pathlib.Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(url, process, its temporary folder, a 7000×7000 RGBA PNG) of a fresh server."""
    tmp = tmp_path_factory.mktemp("server")
    big = tmp / "big.png"
    pixels = np.zeros((7000, 7000, 4), np.uint8)
    pixels[..., 3] = 255
    pixels[::7, :, 0] = 200  # some content, still ~0.2 MB compressed
    Image.fromarray(pixels, "RGBA").save(big, compress_level=1)
    del pixels
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp), "GRADIO_TEMP_DIR": str(tmp / "gradio"), "PYTHONUNBUFFERED": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "FFN_MAX_RUN_SECONDS": "60", "FFN_CACHE_DIR": str(tmp / "jax"),
           "FFN_WARM_UP": "0"}
    log = open(tmp / "server.log", "w")
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    yield url, process, tmp, big
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)
    log.close()
    text = (tmp / "server.log").read_text()
    assert "Traceback" not in text, text[-3000:]


def test_a_huge_rgba_image_through_every_handler_that_decodes_stays_under_half_a_gigabyte(served):
    url, process, _, big = served
    client = Client(url, verbose=False)
    # The same runs on a small image first: their programs compile (XLA's own memory, once per process), so what
    # is measured below is what the huge image costs.
    client.predict(handle_file(CAT), *TINY.values(), api_name="/train")
    client.predict(handle_file(CAT), 0.5, 5, 2, 16, 5, 1e-2, 2, 8, 8, 0, api_name="/sweep")
    before = settled(process.pid)
    upload = handle_file(str(big))
    status = client.predict(upload, *TINY.values(), api_name="/train")[0]
    assert "step 5 / 5" in status and "Done" in status
    client.predict(upload, 0.5, 5, 2, 16, 5, 1e-2, 2, 8, 8, 0, api_name="/sweep")
    # The page's own handlers that decode, called by their fn_index as anyone could: the upload check, the preview.
    events = {d.get("api_name"): d["id"] for d in httpx.get(url + "config", timeout=10).json()["dependencies"]}
    stored = httpx.post(url + "gradio_api/upload", files={"files": ("big.png", big.read_bytes(), "image/png")},
                        timeout=60).json()[0]
    payload = {"path": stored, "meta": {"_type": "gradio.FileData"}, "orig_name": "big.png"}
    for name, values in (("check_image", [payload]), ("trained_preview", [payload, 512, False])):
        answer = httpx.post(url + "gradio_api/run/predict", timeout=120,
                            json={"fn_index": events[name], "data": values, "session_hash": "rss"})
        assert answer.status_code == 200, answer.text[:300]
    grown = vmhwm(process.pid) - before
    print(f"peak RSS grew by {grown / 1e6:.0f} MB")  # the figure docs/serving.md quotes (pytest -s)
    assert grown < 0.5e9, f"peak RSS grew by {grown / 1e9:.2f} GB"


def test_ten_tiny_runs_add_under_10_mb_to_the_temporary_folder(served):
    url, _, tmp, _ = served
    client = Client(url, verbose=False)
    client.predict(handle_file(CAT), *TINY.values(), api_name="/train")  # the first run's one-time files
    before = folder_bytes(tmp)
    for seed in range(1, 11):  # ten different runs: identical files would be cached once
        assert "Done" in client.predict(handle_file(CAT), *{**TINY, "seed": seed}.values(), api_name="/train")[0]
    added = folder_bytes(tmp) - before
    print(f"ten tiny runs added {added / 1e6:.2f} MB")
    assert added < 10e6, f"{added / 1e6:.1f} MB"


def test_a_second_long_job_of_any_kind_from_one_visitor_is_refused_with_a_sentence(served):
    url = served[0]
    client = Client(url, verbose=False)
    job = client.submit(handle_file(CAT), *{**TINY, "iters": 3000, "size": 32}.values(), api_name="/train")
    deadline = time.time() + 60
    while time.time() < deadline and not any("step" in str(o[0]) for o in job.outputs()):
        time.sleep(0.2)
    for call in (lambda: client.predict(handle_file(CAT), *TINY.values(), api_name="/train"),
                 lambda: client.predict(handle_file(CAT), 0.5, 5, 2, 16, 5, 1e-2, 2, 8, 8, 0, api_name="/sweep"),
                 lambda: client.predict("sines", "2", "", 1.0, "none", 100, "gd", 64, api_name="/lab1d")):
        with pytest.raises(Exception, match="You already have a job queued or running"):
            call()
    client.predict(api_name="/stop")
    assert "Stopped at step" in job.result(timeout=60)[0]


def test_an_over_long_lab_is_refused_before_it_queues(served):
    client = Client(served[0], verbose=False)
    start = time.time()
    with pytest.raises(Exception, match="This lab run would take about .* and this server allows 60 s per job"):
        client.predict("sines", "2 8 24", "", 1.0, "none basic posenc:4 gauss:1 gauss:3 gauss:10 power:0 power:1",
                       10000, "gd", 1024, api_name="/lab1d")
    assert time.time() - start < 10  # refused at once, not after training


def test_sigterm_while_outputs_are_written_leaves_no_run_folder_and_tells_the_visitor(served):
    url, process, tmp, _ = served
    runs = tmp / "ffn-runs" / str(process.pid)
    client = Client(url, verbose=False, download_files=False)  # what is measured is the server's own folder
    job = client.submit(handle_file(CAT), *{**TINY, "size": 128, "iters": 50, "width": 32}.values(), api_name="/train")
    deadline = time.time() + 120
    while time.time() < deadline and not (runs.is_dir() and any(runs.iterdir())):
        time.sleep(0.005)  # the run's output folder exists only while its files are being written
    assert runs.is_dir() and any(runs.iterdir()), "the run never wrote its outputs"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not runs.exists() or not any(runs.iterdir())
    assert "Done" in job.outputs()[-1][0]  # it was writing its files: it finished, and the visitor had its results


def test_a_start_removes_a_killed_servers_run_folders_but_never_a_live_ones(tmp_path, monkeypatch):
    from ffn.serve import disk

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / "ffn-runs" / str(dead.pid) / "run-x"
    live = tmp_path / "ffn-runs" / str(os.getppid()) / "run-y"  # another process's, alive
    own = tmp_path / "ffn-runs" / str(os.getpid()) / "run-z"
    for folder in (leftover, live, own):
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text("{}")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # TMPDIR, as a server started with it would read it
    assert disk.remove_leftovers() == [leftover.parent]
    assert not leftover.parent.exists() and live.exists() and own.exists()


def test_the_downloads_cap_removes_the_oldest_downloads_and_nothing_else(tmp_path):
    """`disk.cap_outputs` on a cache laid out as Gradio's (a folder per file hash): the oldest downloads go first,
    with their emptied folders, until the rest fit; other files (streamed pictures, uploads) stay."""
    from ffn.serve import disk

    for age in range(4):  # four 100-byte downloads, the oldest first
        download = tmp_path / f"hash{age}" / "metrics.json"
        download.parent.mkdir()
        download.write_bytes(b"x" * 100)
        os.utime(download, (1000 + age, 1000 + age))
    picture = tmp_path / "hash9" / "image.png"
    picture.parent.mkdir()
    picture.write_bytes(b"y" * 1000)
    assert disk.cap_outputs(tmp_path, ("metrics.json", "comparison.png"), 250) == 200
    assert sorted(p.parent.name for p in tmp_path.rglob("metrics.json")) == ["hash2", "hash3"]
    assert not (tmp_path / "hash0").exists() and not (tmp_path / "hash1").exists() and picture.exists()
    assert disk.cap_outputs(tmp_path, ("metrics.json",), 250) == 0  # within the cap: nothing more
