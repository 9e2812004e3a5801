"""The app open to anyone: odd files, odd values, many visitors, Stop and cancel, and its files.

Everything goes through the served app (gradio_client, or plain HTTP where a script could send what the
client will not), because a public Space meets its visitors there. Runs are tiny (64 px, width 32, m 16),
so one compiled program serves nearly every test.
"""

import contextlib
import json
import math
import os
import re
import struct
import time
import urllib.error
import urllib.request
import zlib

import gradio
import numpy as np
import pytest
from conftest import CAT, ORDER, PAGE, ROOT, TEXT, page_kwargs, press_stop, raw_call, raw_values
from gradio_client import Client, handle_file
from PIL import Image

import app
from ffn.core import config, data, train
from ffn.pages import common, images
from ffn.serve import admission, disk, env, rules

tiny = page_kwargs  # keyword arguments of a tiny /train call


def visitor(server) -> Client:
    """A new visitor (its own session). Outputs are not downloaded: tests fetch only what they read."""
    return Client(server, verbose=False, download_files=False)


@pytest.fixture(scope="module")
def client(server):
    return visitor(server)


@pytest.fixture
def slow_chunks(monkeypatch):
    """Each chunk takes at least 20 ms, so a 5000-step run lasts seconds however fast the trainer is."""
    run = train.run

    def slowed(image, config):
        with contextlib.closing(run(image, config)) as snapshots:
            for snap in snapshots:
                time.sleep(0.02)
                yield snap

    monkeypatch.setattr(train, "run", slowed)


def metrics(result) -> dict:
    """metrics.json of a finished run, fetched from the server as a visitor would."""
    entry = next(f for f in result[5] if str(f["path"]).endswith("metrics.json"))
    with urllib.request.urlopen(entry["url"], timeout=10) as r:
        return json.loads(r.read())


def steps_of(update) -> int:
    """The step an update's status names (0 for the "Starting" line that comes before the first snapshot)."""
    found = re.search(r"step (\d+) /", update[0])
    return int(found.group(1)) if found else 0


def wait_until(condition, timeout=30.0, every=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return False


# --- Values at the edge: every refusal says what is allowed ---------------------------------------------------------

BAD_VALUES = [  # (parameter, value sent, words the message must contain)
    ("iters", "abc", "iters must be a whole number (got 'abc')"),
    ("iters", None, "iters must be a whole number"),
    ("iters", [5], "iters must be a whole number"),
    ("iters", True, "iters must be a whole number"),
    ("iters", 30.5, "iters must be a whole number"),
    ("iters", 0, "iters must be at least 1 (got 0)"),
    ("iters", 10**9, "This server runs iters up to 5000 (got 1000000000)"),  # the server's cap is checked first
    ("iters", 6000, "This server runs iters up to 5000 (got 6000)"),
    ("size", 33, "size (resolution) must be an even number of pixels (got 33)"),
    ("size", "sixty", "size (resolution) must be a whole number (got 'sixty')"),
    ("size", None, "size (resolution) must be a whole number"),
    ("size", 8, "size (resolution) must be at least 16"),
    ("size", 1024, "This server runs size up to 512"),
    ("sigma_log10", "abc", "sigma_log10 (custom σ, log₁₀ scale) must be a finite number"),
    ("sigma_log10", None, "sigma_log10"),
    ("sigma_log10", 5, "sigma_log10 (custom σ, log₁₀ scale) must be at most 2.5"),
    ("lr", 0, "lr (learning rate) must be above 0"),
    ("lr", 2, "lr (learning rate) must be at most 1"),
    ("lr", "fast", "lr (learning rate) must be a finite number (got 'fast')"),
    ("lr", "nan", "lr (learning rate) must be a finite number"),
    ("lr", "1e400", "lr (learning rate) must be a finite number"),
    ("lr", [0.1], "lr (learning rate) must be a finite number"),
    ("depth", 1, "depth must be at least 2"),
    ("depth", 2.5, "depth must be a whole number"),
    ("depth", 9, "This server runs depth up to 8"),
    ("width", 2, "width must be at least 4"),
    ("width", "abc", "width must be a whole number"),
    ("width", None, "width must be a whole number"),
    ("width", 1024, "This server runs width up to 512"),
    ("features", 0, "features (mapping size m) must be at least 1"),
    ("seed", None, "seed must be a whole number"),
    ("seed", -1, "seed must be at least 0"),
    ("seed", 1.5, "seed must be a whole number"),
    ("seed", "abc", "seed must be a whole number"),
    ("seed", 2**40, "seed must be at most 2147483647"),
    ("paper_lr", "yes", "paper_lr (the paper's lr for none/basic) must be true or false"),
    ("selected", ["bogus"], "'bogus' is not one of none, basic, posenc"),
    ("selected", [1], "selected: 1 is not one of"),
    ("selected", None, "Choose at least one mapping"),
    ("extra", "fourier", "Unknown mapping 'fourier'. Use none, basic, posenc:S"),
    ("extra", "gauss:nan", "the scale must be a positive finite number"),
    ("extra", "gauss:-1", "the scale must be a positive finite number"),
    ("extra", "none@0", "the learning rate must be a positive finite number"),
    ("extra", "gauss:1e9", "the scale must be at most 10000"),
    ("extra", ["gauss:3"], "extra (more mappings) must be text"),
    ("extra", "gauss:1 " * 100, "at most 400 characters"),
    ("extra", " ".join(f"gauss:{s}" for s in range(1, 26)), "At most 24 mappings"),
    ("model", "tanh", "model must be one of relu, siren"),
    ("w0", 0, "w0 (SIREN's ω₀) must be at least 1"),
]


@pytest.mark.parametrize("name,value,words", BAD_VALUES, ids=[f"{n}={v!r:.20}" for n, v, _ in BAD_VALUES])
def test_bad_values_are_refused_with_what_is_allowed(client, name, value, words):
    with pytest.raises(Exception) as refused:
        client.predict(**tiny(**{name: value}), api_name="/train")
    assert words in str(refused.value)


def test_a_run_too_big_for_the_server_is_refused_before_it_starts(client):
    big = dict(size=512, width=512, depth=8, features=512, selected=["none", "basic", "posenc", "gauss:1", "gauss:10"])
    with pytest.raises(Exception, match=r"would need about \d+ GB of memory and this server allows"):
        client.predict(**tiny(**big), api_name="/train")
    assert "GB of memory" in images.describe_plan(*[{**PAGE, **big}[k] for k in ORDER[:11]])  # said before Train, too
    rules.make_config(**rules.page_values(config.PAPER))  # the paper setting still fits in memory


@pytest.mark.parametrize("name,value,words", [
    ("iters", math.nan, "iters must be a whole number (got nan)"),
    ("seed", math.inf, "seed must be a whole number (got inf)"),
    ("sigma_log10", -math.inf, "must be a finite number (got -inf)"),
    ("lr", math.nan, "lr (learning rate) must be a finite number (got nan)"),
    ("width", math.nan, "width must be a whole number (got nan)"),
    ("seed", 10**400, "seed must be at most 2147483647"),
    ("w0", 10**400, "w0 (SIREN's ω₀) must be at most 100"),
])
def test_nan_infinity_and_huge_numbers_sent_as_raw_json(server, name, value, words):
    """gradio_client will not send NaN (it is not JSON), but a script can: Python's JSON reader accepts it."""
    event, payload = raw_call(server, raw_values(**{name: value}))
    assert event == "refused" and words in payload["error"]


def test_the_server_keeps_serving_after_bad_values(client):
    assert "Done" in client.predict(**tiny(iters=25), api_name="/train")[0]


def test_the_api_takes_the_dropdowns_numbers_as_text(client):
    """The API page declares the dropdowns' choices (resolution, learning rate, width, features) as text: "64"
    means 64, as on the page."""
    result = client.predict(**tiny(size="64", lr="0.01", width="32", features="16", iters=25), api_name="/train")
    assert "step 25 / 25" in result[0] and "Done" in result[0]
    got = metrics(result)["config"]
    assert (got["size"], got["lr"], got["width"], got["features"]) == (64, 0.01, 32, 16)


# --- Images: a clear message, or a sensible result ---------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes whose header declares width × height grey pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


def write_image(folder, kind: str) -> str:
    path = folder / {"text": "notes.png", "zero": "zero.png", "truncated": "cut.png", "bomb": "bomb.png",
                     "elongated": "strip.png", "tiny": "tiny.png", "gif": "anim.gif", "16bit": "deep.png",
                     "cmyk": "print.jpg", "rgba": "clear.png"}[kind]
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    if kind == "text":
        path.write_text("not a picture")
    elif kind == "zero":
        path.write_bytes(b"")
    elif kind == "truncated":
        whole = open(CAT, "rb").read()
        path.write_bytes(whole[: len(whole) // 2])
    elif kind == "bomb":
        path.write_bytes(bomb_png(100_000, 100_000))
    elif kind == "elongated":
        Image.fromarray(noise[:20].repeat(7, axis=1)).save(path)  # 448 × 20
    elif kind == "tiny":
        Image.fromarray(noise[:8, :8]).save(path)
    elif kind == "gif":  # a flat grey first frame, then noise: the first frame is the one to train on
        frames = [Image.fromarray(np.full((64, 64, 3), 128, np.uint8)), Image.fromarray(noise)]
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    elif kind == "16bit":
        ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
        Image.fromarray(ramp).save(path)  # mode I;16
    elif kind == "cmyk":
        Image.new("CMYK", (64, 64), (0, 160, 160, 0)).save(path, quality=95)
    elif kind == "rgba":  # noise colours, fully transparent: on white, as the paper shows them
        Image.fromarray(np.dstack([noise, np.zeros((64, 64), np.uint8)]), "RGBA").save(path)
    return str(path)


@pytest.mark.parametrize("kind,words", [
    ("text", "This file is not an image that can be read (PNG, JPEG"),
    ("zero", "The file is empty (0 bytes); choose an image file."),
    ("truncated", "This image is damaged or cut short"),
    ("bomb", "it may be a decompression bomb. Use a smaller image."),
    ("elongated", "too elongated (448×20 pixels"),
    ("tiny", "too small (8×8 pixels); it needs at least 16 pixels"),
])
def test_unusable_images_get_a_clear_message(client, tmp_path, kind, words):
    with pytest.raises(Exception) as refused:
        client.predict(**tiny(write_image(tmp_path, kind)), api_name="/train")
    message = str(refused.value)
    assert words in message and "/tmp" not in message and str(tmp_path) not in message  # no server paths


@pytest.mark.parametrize("kind,least_psnr", [
    ("gif", 30.0),  # trained on the flat first frame (the noise frame would give about 10 dB)
    ("rgba", 30.0),  # transparent noise is white (the noise itself would give about 10 dB)
    ("cmyk", 30.0),  # one flat colour
    ("16bit", 20.0),  # a smooth ramp, read at 16 bits
])
def test_unusual_images_train(client, tmp_path, kind, least_psnr):
    result = client.predict(**tiny(write_image(tmp_path, kind), iters=75), api_name="/train")
    assert "Done" in result[0]
    final = {s: m["final_test_psnr"] for s, m in metrics(result)["mappings"].items()}
    assert max(final.values()) > least_psnr, final


def test_an_upload_over_the_size_limit_is_refused(server):
    assert app.LAUNCH["max_file_size"] == "20mb"
    boundary = "ffnboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + b"\0" * 21_000_000 + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{server}gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413


# --- Files: only what the app serves, and only uploads are read ------------------------------------------------


@pytest.mark.parametrize("path", [
    "/etc/passwd",
    str(ROOT / "app.py"),
    "app.py",
    str(ROOT / "README.md"),
    "README.md",
    "../../../../../etc/passwd",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    os.path.join(os.path.realpath(gradio.utils.get_upload_folder()), "..", "..", "etc", "passwd"),
])
def test_the_server_serves_no_file_it_should_not(server, path):
    for route in ("gradio_api/file=", "file=", "gradio_api/file/"):
        try:
            with urllib.request.urlopen(server + route + path, timeout=10) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, b""
        assert status in (403, 404), (route, path, status)
        assert b"root:" not in body and b"gradio" not in body


@pytest.mark.parametrize("path", ["/etc/passwd", str(ROOT / "README.md"), str(ROOT / "app.py"),
                                  "../../../../etc/passwd", "http://127.0.0.1:9/x.png"])
def test_train_reads_no_file_it_was_not_sent(server, monkeypatch, path):
    """A FileData naming a server path: refused by Gradio with its `meta` tag, and by the app without it."""
    opened = []
    load = data.load_image
    monkeypatch.setattr(data, "load_image", lambda source, size: (opened.append(source), load(source, size))[1])
    for image in ({"path": path, "meta": {"_type": "gradio.FileData"}}, {"path": path}):
        event, payload = raw_call(server, raw_values(image))
        assert event == "refused", payload
        if "meta" not in image:
            assert "must be a file uploaded to this app" in payload["error"]
    assert opened == []  # the file was never opened


def test_the_sweep_endpoint_is_held_to_the_same_rules(server, client):
    sweep = [0.5, 20, 4, 64, 25, 0.01, 3, 32, 16, 0, "relu", 30, False]  # σ from, to, how many; then the run's
    event, payload = raw_call(server, [{"path": "/etc/passwd"}, *sweep], api="sweep")
    assert event == "refused" and "must be a file uploaded to this app" in payload["error"]
    event, payload = raw_call(server, [None, *sweep[:2], math.nan, *sweep[3:]], api="sweep")
    assert event == "refused" and "n (how many σ) must be a whole number (got nan)" in payload["error"]
    with pytest.raises(Exception, match="would need about"):
        client.predict(handle_file(CAT), 0.5, 20, 24, 512, 25, 0.01, 8, 512, 512, 0, "relu", 30, api_name="/sweep")


# --- Training that goes wrong ------------------------------------------------------------------------------------


def test_a_diverging_mapping_is_marked_and_the_others_go_on(client):
    """lr 1 saturates gauss:2's sigmoid output (no NaN): its train PSNR falls ~5 dB below its untrained value."""
    result = client.predict(**tiny(selected=["none"], extra="gauss:2@1", iters=100), api_name="/train")
    runs = metrics(result)["mappings"]
    assert runs["none"]["train_psnr"][-1] > runs["none"]["train_psnr"][0] + 3  # the other mapping learns on
    collapsed = runs["gauss:2@1"]["train_psnr"]
    assert collapsed[-1] < collapsed[0] - 3, collapsed
    assert "diverged: gauss:2@1" in result[0] and "none" not in result[0].split("diverged:")[1].split("(")[0]
    captions = [item["caption"] for item in result[1]]
    assert any(c.startswith("none · ") and c.endswith(" dB") for c in captions)


# --- Many visitors ---------------------------------------------------------------------------------------------


def test_two_visitors_get_their_own_correct_results(server):
    """Two visitors at once, different images and settings: each gets exactly what a run alone gives."""
    asks = {
        "cat": tiny(CAT, iters=150, seed=0),
        "text": tiny(TEXT, selected=["basic"], extra="gauss:4", iters=100, seed=1),
    }
    jobs = {name: visitor(server).submit(**ask, api_name="/train") for name, ask in asks.items()}
    results = {name: job.result(timeout=120) for name, job in jobs.items()}
    for name, ask in asks.items():
        got = metrics(results[name])
        expected_specs = {"cat": ["none", "gauss:2"], "text": ["basic", "gauss:4"]}[name]
        assert got["image"] == name and list(got["mappings"]) == expected_specs
        assert got["config"]["size"] == 64 and got["config"]["seed"] == ask["seed"]
        # The same run alone, in this process, gives the same numbers: nothing leaked between the two.
        settings = [ask[k] for k in ORDER[:11]]
        alone = train.train(data.load_image({"cat": CAT, "text": TEXT}[name], 64), rules.make_config(*settings))
        for spec in expected_specs:
            assert got["mappings"][spec]["final_test_psnr"] == pytest.approx(alone.test_psnr[spec], abs=1e-3)
    cat = metrics(results["cat"])["mappings"]
    assert cat["gauss:2"]["final_test_psnr"] > cat["none"]["final_test_psnr"]  # the paper's point, per visitor


def test_queue_shows_the_position_and_refuses_past_its_size(server, monkeypatch, slow_chunks):
    assert app.demo._queue.max_size == env.MAX_QUEUE
    # Every long job of every page shares one limit: CONCURRENT_RUNS at once on the whole server.
    assert app.demo._queue.default_concurrency_limit == env.CONCURRENT_RUNS == 1
    fns = {f.name: f for f in app.demo.fns.values()}
    for name in ("train_run", "sweep_run", "lab_run", "theory_view", "zoom_view", "kernel_view"):
        assert (fns[name].concurrency_id, fns[name].concurrency_limit) == ("jobs", "default"), name
    monkeypatch.setattr(app.demo._queue, "max_size", 1)  # one waiting run at most, for this test
    first, second, third = visitor(server), visitor(server), visitor(server)
    running = first.submit(**tiny(iters=5000), api_name="/train")
    assert wait_until(lambda: any(steps_of(u) > 0 for u in running.outputs()))
    waiting = second.submit(**tiny(iters=25), api_name="/train")
    assert wait_until(lambda: waiting.status().code.name == "IN_QUEUE")
    status = waiting.status()
    assert status.rank == 0 and status.queue_size >= 1  # "you are next"
    refused = third.submit(**tiny(iters=25), api_name="/train")
    with pytest.raises(Exception, match="Queue is full"):
        refused.result(timeout=30)
    assert press_stop(server, first.session_hash) == 200
    assert "Stopped at step" in running.result(timeout=30)[0]
    assert "Done" in waiting.result(timeout=60)[0]


def test_cancel_stops_the_work_and_the_next_visitor_starts(server, monkeypatch, slow_chunks):
    """A cancelled run (job.cancel(), as when a tab closes) computes at most about one more chunk."""
    chunks = []  # (iters of the run, step, time) for every snapshot the trainer computes
    run = train.run

    def counted(image, config):
        with contextlib.closing(run(image, config)) as snapshots:
            for snap in snapshots:
                chunks.append((config.iters, snap.step, time.monotonic()))
                yield snap

    monkeypatch.setattr(train, "run", counted)
    long = visitor(server).submit(**tiny(iters=5000), api_name="/train")
    assert wait_until(lambda: any(it == 5000 and step >= 100 for it, step, _ in chunks))
    short = visitor(server).submit(**tiny(iters=25), api_name="/train")
    assert wait_until(lambda: short.status().code.name == "IN_QUEUE")
    cancelled = time.monotonic()
    long.cancel()  # returns once the server has cancelled the run
    assert "Done" in short.result(timeout=60)[0]
    started = min(t for it, step, t in chunks if it == 25)
    assert started - cancelled < 5.0  # the queue moved on at once
    time.sleep(1.0)
    late = [(step, t - cancelled) for it, step, t in chunks if it == 5000 and t > cancelled]
    assert all(delay < 1.0 for _, delay in late), late  # at most the chunks of one page update after the cancel
    assert max(step for it, step, _ in chunks if it == 5000) < 5000


def test_stop_ends_only_the_callers_run(server, slow_chunks):
    owner, other = visitor(server), visitor(server)
    job = owner.submit(**tiny(iters=5000), api_name="/train")
    assert wait_until(lambda: any(steps_of(u) > 0 for u in job.outputs()))
    asked = time.monotonic()
    with pytest.raises(Exception, match="seed must be at least 0"):
        other.predict(**tiny(seed=-1), api_name="/train")
    assert time.monotonic() - asked < 3  # a mistake is answered at once, not after the run ahead in the queue
    other.predict(api_name="/stop")  # someone else's Stop
    before = steps_of(job.outputs()[-1])
    assert wait_until(lambda: steps_of(job.outputs()[-1]) > before + 50, timeout=20)  # still training
    owner.predict(api_name="/stop")
    result = job.result(timeout=30)
    assert "Stopped at step" in result[0] and steps_of(result) < 5000
    assert len(result[5]) == 5  # a stopped run still offers its downloads


def test_no_run_leaves_anything_behind(server, slow_chunks):
    """Per-run output folders, Stop flags, places in line and compiled programs: nothing piles up after runs
    (incl. cancelled)."""
    runs_dir = disk.process_dir()  # this process's run folders: the served app's, in these tests
    who = visitor(server)
    who.predict(**tiny(iters=25), api_name="/train")
    job = who.submit(**tiny(iters=5000), api_name="/train")
    assert wait_until(lambda: any(steps_of(u) > 0 for u in job.outputs()))
    job.cancel()
    assert wait_until(lambda: job.done(), timeout=30)
    assert wait_until(lambda: not list(runs_dir.iterdir()) and not common.ADMISSION.running_jobs(), timeout=10), \
        (list(runs_dir.iterdir()), common.ADMISSION.running_jobs())
    assert not common.ADMISSION.busy(who.session_hash)
    assert len(train._COMPILED) <= train.MAX_COMPILED
    assert app.demo.state_holder.capacity == env.STATE_SESSIONS <= 1000  # page state of so many visitors at most


# --- A fair public server: time budget, one run per visitor, an API that is easy to call ----------------------------


@pytest.fixture
def time_cap(monkeypatch):
    """A server that allows 4 seconds of training per job (FFN_MAX_RUN_SECONDS=4) and has measured its speed at
    10 TFLOP/s, so that estimates do not depend on how busy the machine running the tests is."""
    monkeypatch.setattr(rules, "CAPS", rules.Caps(seconds=4))
    monkeypatch.setattr(common.SPEED, "gflops", 1e4)
    monkeypatch.setattr(common.SPEED, "observed", {})  # no speed learnt from earlier tests' runs either


def test_a_run_far_over_the_time_limit_is_refused_before_it_queues(client, time_cap):
    with pytest.raises(Exception, match=r"would take about .* here and this server allows 4 s per run: use fewer steps"):
        client.predict(**tiny(size=256, iters=5000, width=256, depth=4, features=256), api_name="/train")
    with pytest.raises(Exception, match=r"this server allows 4 s per run"):
        client.predict(handle_file(CAT), 0.5, 20, 8, 256, 5000, 0.01, 4, 256, 256, 0, "relu", 30, api_name="/sweep")


def test_a_run_that_reaches_the_time_limit_stops_with_its_results(client, time_cap, slow_chunks):
    result = client.predict(**tiny(iters=5000), api_name="/train")
    assert re.search(r"Stopped at step \d+: this server's time limit of 4 s per job", result[0]), result[0]
    assert 0 < steps_of(result) < 5000 and len(result[5]) == 5  # its downloads come all the same
    assert metrics(result)["steps_done"] == steps_of(result)


def test_a_visitor_has_one_run_at_a_time(server, slow_chunks):
    who, other = visitor(server), visitor(server)
    first = who.submit(**tiny(iters=5000), api_name="/train")
    assert wait_until(lambda: any(steps_of(u) > 0 for u in first.outputs()))
    with pytest.raises(Exception, match=re.escape(admission.BUSY)):
        who.predict(**tiny(iters=25), api_name="/train")
    with pytest.raises(Exception, match=re.escape(admission.BUSY)):
        who.predict(handle_file(CAT), 0.5, 20, 3, 64, 25, 0.01, 3, 32, 16, 0, "relu", 30, api_name="/sweep")
    queued = other.submit(**tiny(iters=25), api_name="/train")  # another visitor still gets in line
    assert press_stop(server, who.session_hash) == 200
    assert "Stopped at step" in first.result(timeout=30)[0]
    assert "Done" in queued.result(timeout=60)[0]
    assert "Done" in who.predict(**tiny(iters=25), api_name="/train")[0]  # and the first may train again


def test_the_api_page_states_every_parameters_allowed_values(client):
    endpoint = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/train"]
    assert all(p["parameter_has_default"] for p in endpoint["parameters"][1:])  # all but the image
    description = endpoint["description"]
    for name in ORDER:
        assert f"{name}:" in description or f"{name} (" in description, name
    assert f"iters: 1 to {rules.CAPS.iters}" in description
