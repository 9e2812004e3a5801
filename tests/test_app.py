"""The app: its handler as a plain generator, the served app through gradio_client, and a real browser."""

import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file

import app
from ffn.serve import rules

CAT = str(app.ASSETS / "cat.png")
# image, mappings, log10 σ, more specs, size, iters, lr, paper lr, depth, width, features, seed
TINY = dict(selected=["none", "custom"], sigma_log10=0.3, extra="", size=64, iters=50, lr=1e-2, paper_lr=False,
            depth=3, width=32, features=16, seed=0)


def args(**changes):
    return list({**TINY, **changes}.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


# --- The handler, called directly -------------------------------------------------------------------------------


def test_handler_streams_snapshots_then_downloads():
    updates = list(app.train_run(CAT, *args()))
    assert len(updates) >= 3
    starting, first, last = updates[0], updates[1], updates[-1]
    assert "Starting" in starting[0]  # at once, before the first chunk compiles: no stale "Done." from a last run
    assert "step 0 / 50" in first[0] and "compiling" in first[0]
    assert "step 50 / 50" in last[0] and "Done" in last[0]
    gallery = last[1]
    assert [caption.split(" · ")[0] for _, caption in gallery] == ["none", "gauss:2", "ground truth"]
    assert gallery[0][0].shape == (64, 64, 3) and gallery[0][0].dtype == np.uint8
    assert not np.array_equal(first[1][1][0], last[1][1][0])  # the reconstruction changed
    train_fig, test_fig = last[2], last[3]
    assert [t.name for t in test_fig.data][:2] == ["none", "gauss:2"]
    bands_fig = last[4]
    assert [t.type for t in bands_fig.data] == ["heatmap", "heatmap"]  # one step × band panel per mapping
    assert first[5] is None and {pathlib.Path(f).name for f in last[5]} == {
        "training.mp4", "comparison.png", "bands.html", "metrics.json", "metrics.csv"}
    history = last[7]
    at, replayed = history.replay(30)  # the replay: snapshots every 25 steps, so step 30 shows step 25
    assert at == 25 and [c.split(" · ")[0] for _, c in replayed] == ["none", "gauss:2", "ground truth"]


def test_handler_refuses_bad_settings_with_a_sentence():
    with pytest.raises(gr.Error, match="Pick an example or upload an image"):
        next(app.train_run(None, *args()))
    with pytest.raises(gr.Error, match="at least one mapping"):
        next(app.train_run(CAT, *args(selected=[])))
    with pytest.raises(gr.Error, match=r"iters must be at least 1 \(got 0\)"):
        next(app.train_run(CAT, *args(iters=0)))
    with pytest.raises(gr.Error, match=r"lr \(learning rate\) must be a finite number"):
        next(app.train_run(CAT, *args(lr=float("nan"))))
    with pytest.raises(gr.Error, match="Unknown mapping 'fourier'"):
        next(app.train_run(CAT, *args(extra="fourier")))


def test_plan_estimates_seconds_and_warns_about_overfitting():
    text = app.describe_plan(["none", "gauss:10"], 0, "", 128, 500, 1e-3, False, 4, 128, 128, 0)
    assert "**2 mappings**" in text and "about" in text and "What to notice" in text
    assert "**gauss:10**: the too-large σ, here on purpose" in text  # the deliberate bad example says so
    assert "⚠️" in app.describe_plan([], 0, "", 128, 500, 1e-3, False, 4, 128, 128, 0)


def test_stop_flag_ends_the_run_and_still_offers_downloads():
    request = type("Request", (), {"session_hash": "test-stop"})()
    run = app.train_run(CAT, *args(iters=5000), request=request)
    assert "Starting" in next(run)[0]
    assert "step 0" in next(run)[0]
    app.stop(request)
    updates = list(run)
    assert "Stopped at step" in updates[-1][0]
    assert len(updates[-1][5]) == 5


# --- The served app, through gradio_client --------------------------------------------------------------------


def test_client_streams_updates_then_downloads(server, tmp_path):
    client = Client(server, verbose=False, download_files=str(tmp_path))
    job = client.submit(handle_file(CAT), *args(iters=150), api_name="/train")
    updates = list(job)
    assert len(updates) >= 2
    statuses = [u[0] for u in updates]
    assert "Starting" in statuses[0] and any("compiling" in s for s in statuses) and "Done" in statuses[-1]
    files = updates[-1][5]
    names = sorted(pathlib.Path(f).name for f in files)
    assert names == ["bands.html", "comparison.png", "metrics.csv", "metrics.json", "training.mp4"]
    metrics = json.loads(pathlib.Path(next(f for f in files if f.endswith(".json"))).read_text())
    assert list(metrics["mappings"]) == ["none", "gauss:2"]
    assert metrics["mappings"]["gauss:2"]["final_test_psnr"] > metrics["mappings"]["none"]["final_test_psnr"]


@pytest.mark.parametrize("upload,words", [
    ("CREDITS.md", "not an image"),
    ("empty.png", "empty"),
])
def test_client_gets_a_clear_message_for_bad_files(server, tmp_path, upload, words):
    path = tmp_path / upload
    if upload == "CREDITS.md":
        shutil.copy(app.ASSETS / "CREDITS.md", path)
    else:
        path.write_bytes(b"")
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match=words):
        client.predict(handle_file(str(path)), *args(), api_name="/train")


def test_client_gets_a_clear_message_for_bad_numbers(server):
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match="iters must be a whole number"):
        client.predict(handle_file(CAT), *args(iters=30.5), api_name="/train")
    # The server is still serving.
    assert len(client.predict(handle_file(CAT), *args(iters=25), api_name="/train")[5]) == 5


def test_readme_api_examples_run(server, monkeypatch, capsys):
    """Both gradio_client examples in README.md work as written (pointed at this test's server; runs are cut to
    100 steps so that the minimal call's default 500 stay quick)."""
    from ffn.core import train

    run = train.run
    monkeypatch.setattr(train, "run", lambda image, config: run(image, config.replace(iters=min(config.iters, 100))))
    readme = (app.ROOT / "README.md").read_text()
    section = readme[readme.index("### API"):readme.index("## Command line")]
    blocks = [part.split("```")[0] for part in section.split("```python")[1:]]
    assert len(blocks) == 2 and all('Client("http://127.0.0.1:7860/")' in code for code in blocks)
    monkeypatch.chdir(app.ROOT)
    for code in blocks:
        exec(compile(code.replace("http://127.0.0.1:7860/", server), "README.md", "exec"), {})
        printed = capsys.readouterr().out
        assert "step 100 / 100" in printed and "metrics.json" in printed and "bands.html" in printed


# --- The views of a finished run ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result():
    """A finished tiny run, as the page keeps it in its gr.State."""
    return list(app.train_run(CAT, *args(selected=["none", "custom", "posenc"])))[-1][6]


def test_views_of_a_finished_run(result):
    note, spectra, radial, row, errors, kernels, table, row_update, zoom_choices, kernel_choices = \
        app.show_views(result, 40)
    best = max(result.snapshot.test_psnr, key=result.snapshot.test_psnr.get)
    assert zoom_choices["value"] == kernel_choices["value"] == best and f"best mapping, {best}" in note
    assert spectra.dtype == np.uint8 and spectra.shape[1] > 4 * 64  # four tiles: three mappings and the truth
    assert [t.name for t in radial.data][:3] == ["none", "posenc:3", "gauss:2"]
    assert {"none", "gauss:2", "posenc:3", "ground truth"} <= {t.name for t in row.data} and len(row.data[0].y) == 64
    assert errors.dtype == np.uint8
    assert {t.name for t in kernels.data} == {"gauss:2", "posenc:3"}  # `none` has no stationary kernel
    assert "| gauss:2 |" in table and "Table 1" in table
    assert "not comparable" in table and "25.57" not in table  # a 64 px run is not set beside the paper's numbers
    assert "64 px, not 512" in table and "50 steps, not 2000" in table
    assert row_update["maximum"] == 63 and zoom_choices["choices"] == ["none", "posenc:3", "gauss:2"]


def test_zoom_renders_the_network_finer_than_it_was_trained(result):
    picture = app.zoom_view(result, "gauss:2", 2)
    assert picture.shape[1] >= 2 * 128 and picture.dtype == np.uint8
    with pytest.raises(gr.Error, match="no mapping 'gauss:9'"):
        app.zoom_view(result, "gauss:9", 2)


def test_kernel_and_ntk_heatmaps(result):
    kernel, ntk = app.kernel_view(result, "gauss:2", True)
    z = np.asarray(ntk.data[0].z, float)
    assert z.shape == (48, 48) and z[24, 24] == pytest.approx(1.0, abs=1e-3)
    untrained = np.asarray(app.kernel_view(result, "gauss:2", False)[1].data[0].z, float)
    assert not np.allclose(z, untrained)


def test_views_need_a_run_first():
    with pytest.raises(gr.Error, match="Train first"):
        app.zoom_view(None, "none", 2)
    assert app.show_views(None, 0)[0] == app.NO_RUN and app.show_views(None, 0)[1] is None


def test_sigma_sweep_streams_and_offers_its_best_sigma():
    updates = list(app.sweep_run(CAT, 0.5, 20, 5, 64, 50, 1e-2, 3, 32, 16, 0))
    status, figure, best = updates[-1]
    sigmas = list(figure.data[0].x)
    assert len(sigmas) == 5 and best in sigmas and "best σ" in status
    assert "σ = 0.5, " in app.describe_sweep(0.5, 20, 5, 64, 50, 1e-2, 3, 32, 16, 0) and "about" in \
        app.describe_sweep(0.5, 20, 5, 64, 50, 1e-2, 3, 32, 16, 0)
    slider, choices, said = app.use_sigma(best, ["none"])
    assert f"σ = {rules.custom_sigma(slider['value']):g} is now on the *Custom σ* slider" in said
    assert 10 ** slider["value"] == pytest.approx(best, rel=0.03) and choices["value"] == ["none", "custom"]
    with pytest.raises(gr.Error, match="must be below"):
        next(app.sweep_run(CAT, 5, 1, 5, 64, 50, 1e-2, 3, 32, 16, 0))


def test_siren_trains_from_the_page():
    last = list(app.train_run(CAT, *args(selected=["none"]), "siren", 30.0))[-1]
    assert "step 50 / 50" in last[0] and last[6].config.model == "siren"
    status = list(app.theory_view(last[6]))[-1][0]  # the theory is the ReLU network's: the page says so
    assert "Your networks are SIREN; the theory is that of the paper's ReLU network" in status


@contextlib.contextmanager
def app_process(args: list[str], env: dict, until: str):
    """`python app.py ARGS` in a process of its own: yields everything it printed up to the line holding `until`
    (or 120 s), then stops it."""
    proc = subprocess.Popen([sys.executable, "app.py", *args], cwd=app.ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines, deadline = [], time.time() + 120
        while time.time() < deadline and not any(until in line for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        yield "".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_share_without_internet_says_so_in_one_line_and_keeps_serving():
    """`python app.py --share` where no tunnel can be made: one clear line, and the local server answers."""
    port = free_port()
    # Make sure no tunnel can be reached, whatever this machine's network.
    env = {"GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", "HTTPS_PROXY": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
    with app_process(["--share", "--port", str(port)], env, until="public link") as text:
        assert f"serving at http://127.0.0.1:{port}/" in text
        assert "Could not make a public link" in text and "still serving locally" in text
        assert "frpc" not in text  # Gradio's long instructions are not shown
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status == 200


def test_on_a_space_the_app_listens_where_spaces_expect_and_makes_no_share_link(monkeypatch):
    """With the variables a Hugging Face Space sets (SPACE_ID; Gradio also reads SYSTEM=spaces), `python app.py
    --share` serves on every interface, says which Space and hardware it runs on, and makes no share link."""
    port = free_port()
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    env = {"GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", "SPACE_ID": "someone/ffn", "SYSTEM": "spaces",
           "GRADIO_SERVER_PORT": str(port), "CPU_CORES": "2", "MEMORY": "16Gi", "ACCELERATOR": "none"}
    with app_process(["--share"], env, until="no share link") as text:
        assert f"serving at http://0.0.0.0:{port}" in text or f"serving at http://localhost:{port}" in text, text
        assert "Hugging Face Space someone/ffn: CPU only, 2 CPU cores, 16Gi memory" in text
        assert "no share link is made" in text and "Could not make a public link" not in text
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status == 200


def test_the_paper_view_shows_the_newest_set_table(tmp_path, monkeypatch):
    from ffn.experiments import table1

    monkeypatch.setattr(app, "ROOT", tmp_path)
    assert "No set table on this server yet" in app.set_table_text()
    config = table1.protocol("natural", size=32, iters=10, width=16, features=8)
    per_image = {spec: [20.0 + i, 22.0 + i] for i, spec in enumerate(config.mappings)}
    table1.write(tmp_path / "runs" / "table1-natural-32px", table1.document("natural", config, ["a", "b"], per_image))
    text = app.set_table_text()
    assert "21.00 ± 1.00" in text and "19.32 ± 2.48" in text and "Not the paper's setting" in text


def test_the_1d_lab_streams_measured_and_predicted_residuals():
    updates = list(app.lab_run("sines", "2 8", "", 1.0, "none gauss:10", 100, "gd", 64))
    status, fit, loss, residuals, spectrum = updates[-1]
    assert "step 100 / 100" in status and "Done" in status and "NTK's prediction" in status
    assert {"none", "gauss:10"} <= {t.name for t in fit.data}
    names = [t.name for t in residuals.data]
    assert len(names) >= 4 and any("predict" in (t.line.dash or "") or t.line.dash == "dash" for t in residuals.data)
    with pytest.raises(gr.Error, match=r"freqs \(cycles per unit, below 32 for 128 points\) must be at most 31"):
        next(app.lab_run("sines", "2 80", "", 1.0, "none", 100, "gd", 64))
    adam = list(app.lab_run("sines", "2", "", 1.0, "none", 50, "adam", 64))[-1][0]
    assert "Adam rescales each parameter's step" in adam


def test_the_theory_view_streams_spectra_then_regression_pictures(result):
    updates = list(app.theory_view(result))
    status, figure, picture = updates[-1]
    steps = result.snapshot.step
    assert "Done" in status and f"After {steps} steps of gradient descent the theory's best test PSNR" in status
    assert [t.name for t in figure.data] == list(result.config.mappings)  # one spectrum per mapping
    # three rows (trained, the theory after the run's steps, converged) of three mappings and the ground truth
    assert picture.dtype == np.uint8 and picture.shape[1] > 4 * 64 and picture.shape[0] > 3 * 64
    with pytest.raises(gr.Error, match="Train first"):
        next(app.theory_view(None))


def test_the_replay_refuses_a_step_outside_the_run():
    history = list(app.train_run(CAT, *args(iters=50)))[-1][7]
    with pytest.raises(gr.Error, match=r"step must be at most 50 \(got 51\)"):
        app.replay(history, 51)
    assert "Step **50** of 50" in app.replay(history, 50)[2]
