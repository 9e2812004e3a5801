"""The app: its pages' handlers as plain generators and functions, the served app through gradio_client, and
`python app.py` itself.

The handlers live in their pages (`ffn.pages.images`, `.run_views`, `.lab`, `.table1`, `.about`, `.common`); what
they compute without Gradio is tested in test_serve.py.
"""

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import urllib.request

import gradio as gr
import numpy as np
import pytest
from conftest import ASSETS, CAT, ROOT, free_port, page_args
from gradio_client import Client, handle_file

import app
from ffn.pages import about, common, images, lab, run_views
from ffn.pages import table1 as table1_page
from ffn.serve import env, rules, views

DOWNLOADS = {"training.mp4", "comparison.png", "bands.html", "metrics.json", "metrics.csv"}


def request_of(session: str):
    """A stand-in for gr.Request: the handlers read only its session."""
    return type("Request", (), {"session_hash": session})()


# --- The Images page's run, called directly ------------------------------------------------------------------------


def test_handler_streams_snapshots_then_downloads_and_the_current_run():
    updates = list(images.train_run(CAT, *page_args()))
    assert len(updates) >= 3
    starting, first, last = updates[0], updates[1], updates[-1]
    # at once, before the run's program compiles: no stale "Done." from a last run, and the run named
    assert "Starting" in starting[0] and "run 1 (cat, 64 px)" in starting[0]
    assert isinstance(starting[6], views.Run) and not starting[6].done and starting[6].number == 1
    assert "compiling" in starting[0] and "step 0 / 50" in first[0] and "untrained networks" in first[0]
    assert "step 50 / 50" in last[0] and "Done" in last[0]
    gallery = last[1]
    assert [caption.split(" · ")[0] for _, caption in gallery] == ["none", "gauss:2", "ground truth"]
    assert gallery[0][0].shape == (64, 64, 3) and gallery[0][0].dtype == np.uint8
    assert not np.array_equal(first[1][1][0], last[1][1][0])  # the reconstruction changed
    train_fig, test_fig = last[2], last[3]
    assert [t.name for t in train_fig.data][:2] == [t.name for t in test_fig.data][:2] == ["none", "gauss:2"]
    bands_fig = last[4]
    assert [t.type for t in bands_fig.data] == ["heatmap", "heatmap"]  # one step × band panel per mapping
    assert first[5] is None and {pathlib.Path(f).name for f in last[5]} == DOWNLOADS
    current = last[6]
    assert current.done and current.number == 1 and current.label == "run 1 (cat, 64 px, step 50)"
    at, replayed = current.history.replay(30)  # the replay: snapshots every 25 steps, so step 30 shows step 25
    assert at == 25 and [c.split(" · ")[0] for _, c in replayed] == ["none", "gauss:2", "ground truth"]


def test_the_next_run_has_the_next_number_and_prepare_clears_the_views(result):
    """A Train click first empties every view of the previous run (`prepare`), then the run counts on."""
    note, replay_span, replay_gallery, replay_plot, replay_note, *cleared = images.prepare(CAT, *page_args(iters=25),
                                                                                          result)
    assert note == "Run 2 (cat) is training: the views will show it when it ends. The previous run's pictures were " \
                   "cleared."
    # The replay spans the new run, its pictures of the previous run gone; its value is left alone (a change would
    # draw the previous run again).
    assert replay_span["maximum"] == 25 and "value" not in replay_span
    assert replay_gallery == [] and replay_plot is None and replay_note.startswith("Run 2 (cat) is training")
    assert cleared == list(run_views.cleared()) and len(cleared) == 16
    pictures = [cleared[i] for i in (0, 1, 2, 3, 4, 6, 7, 8, 10, 11, 13, 14, 15)]  # every picture, chart, file, σ
    assert all(p is None for p in pictures)
    assert all("The new run is training" in cleared[i] for i in (5, 9, 12))  # kernel slices, theory, sweep say why
    assert images.prepare(CAT, *page_args(), None)[0].startswith("Run 1 (cat) is training")
    last = list(images.train_run(CAT, *page_args(iters=25), current=result))[-1]
    assert last[6].number == 2 and last[6].label == "run 2 (cat, 64 px, step 25)"


def test_handler_refuses_bad_settings_with_a_sentence():
    with pytest.raises(gr.Error, match="Pick an example or upload an image"):
        next(images.train_run(None, *page_args()))
    with pytest.raises(gr.Error, match="at least one mapping"):
        next(images.train_run(CAT, *page_args(selected=[])))
    with pytest.raises(gr.Error, match=r"iters must be at least 1 \(got 0\)"):
        next(images.train_run(CAT, *page_args(iters=0)))
    with pytest.raises(gr.Error, match=r"lr \(learning rate\) must be a finite number"):
        next(images.train_run(CAT, *page_args(lr=float("nan"))))
    with pytest.raises(gr.Error, match="Unknown mapping 'fourier'"):
        next(images.train_run(CAT, *page_args(extra="fourier")))


def test_a_refused_run_frees_the_visitors_place():
    """A run refused in its handler (the validator had let it queue) releases the visitor's claim."""
    who = "test-refused"
    common.ADMISSION.claim(who)
    with pytest.raises(gr.Error, match="iters must be at least 1"):
        next(images.train_run(CAT, *page_args(iters=0), request=request_of(who)))
    common.ADMISSION.claim(who)  # not "You already have a job"
    common.ADMISSION.release(who)


def test_plan_estimates_seconds_and_warns_about_overfitting():
    text = images.describe_plan(["none", "gauss:10"], 0, "", 128, 500, 1e-3, False, 4, 128, 128, 0)
    assert "**2 mappings**" in text and "about" in text and "What the paper leads us to expect" in text
    assert "**gauss:10**: the too-large σ, here on purpose" in text  # the deliberate bad example says so
    assert "⚠️" in images.describe_plan([], 0, "", 128, 500, 1e-3, False, 4, 128, 128, 0)


def test_the_presets_set_the_pages_controls():
    updates = images.preset(images.PRESETS["Class demo (30 s)"])
    values = dict(zip([n for n in images.SETTINGS if n != "seed"], (u["value"] for u in updates)))
    assert values["iters"] == 300 and values["size"] == 128 and values["width"] == 64
    assert values["selected"] == ["none", "basic", "posenc", "custom", "gauss:10"]


def test_stop_flag_ends_the_run_and_still_offers_downloads():
    request = request_of("test-stop")
    run = images.train_run(CAT, *page_args(iters=5000), request=request)
    assert "Starting" in next(run)[0]
    assert "step 0" in next(run)[0]
    assert common.ADMISSION.busy("test-stop")
    common.stop(request_of("someone-else"))  # another visitor's Stop reaches nothing of this run
    common.stop(request)
    updates = list(run)
    assert "Stopped at step" in updates[-1][0]
    assert len(updates[-1][5]) == 5 and updates[-1][6].done
    assert not common.ADMISSION.busy("test-stop")


# --- The served app, through gradio_client --------------------------------------------------------------------


def test_client_streams_updates_then_downloads(server, tmp_path):
    client = Client(server, verbose=False, download_files=str(tmp_path))
    job = client.submit(handle_file(CAT), *page_args(iters=150), api_name="/train")
    updates = list(job)
    assert len(updates) >= 2
    statuses = [u[0] for u in updates]
    assert "Starting" in statuses[0] and any("compiling" in s for s in statuses) and "Done" in statuses[-1]
    files = updates[-1][5]
    assert sorted(pathlib.Path(f).name for f in files) == sorted(DOWNLOADS)
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
        shutil.copy(ASSETS / "CREDITS.md", path)
    else:
        path.write_bytes(b"")
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match=words):
        client.predict(handle_file(str(path)), *page_args(), api_name="/train")


def test_client_gets_a_clear_message_for_bad_numbers(server):
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match="iters must be a whole number"):
        client.predict(handle_file(CAT), *page_args(iters=30.5), api_name="/train")
    # The server is still serving.
    assert len(client.predict(handle_file(CAT), *page_args(iters=25), api_name="/train")[5]) == 5


def test_readme_api_examples_run(server, monkeypatch, capsys):
    """Both gradio_client examples in README.md work as written (pointed at this test's server). The minimal call,
    the image alone, asks for the page's defaults: the CPU quick look, as its metrics.json records. To stay quick,
    the trainer here runs 25 steps of 3×32 networks with 16 features, whatever was asked."""
    from ffn.core import config as configs
    from ffn.core import train

    run = train.run
    monkeypatch.setattr(train, "run", lambda image, config: run(image, config.replace(
        iters=min(config.iters, 25), depth=3, width=32, features=16)))
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### API"):readme.index("## Command line")]
    blocks = [part.split("```")[0] for part in section.split("```python")[1:]]
    assert len(blocks) == 2 and all('Client("http://127.0.0.1:7860/")' in code for code in blocks)
    monkeypatch.chdir(ROOT)
    trained = []
    for code in blocks:
        names = {}
        exec(compile(code.replace("http://127.0.0.1:7860/", server), "README.md", "exec"), names)
        printed = capsys.readouterr().out
        assert "step 25 / 25" in printed and "metrics.json" in printed and "bands.html" in printed
        metrics = pathlib.Path(next(f for f in names["files"] if f.endswith("metrics.json")))
        trained.append(json.loads(metrics.read_text()))
    minimal, full = trained
    assert minimal["config"]["size"] == configs.CPU.size and minimal["config"]["width"] == configs.CPU.width
    assert list(minimal["mappings"]) == list(configs.CPU.mappings)
    assert full["config"]["size"] == 64 and list(full["mappings"]) == ["none", "posenc:3", "gauss:2.5"]


def test_the_public_endpoints_keep_their_names_and_minimal_calls(server, monkeypatch):
    """/train, /stop, /sweep and /lab1d: each named on the API page, each answering its minimal call (the image
    alone, or nothing; /train's is README's first example, run by the test above). To stay quick, the trainers
    here run 25 steps of 3×32 networks with 16 features (the sweep) and 100 steps at width 64 (the lab)."""
    from ffn.core import train
    from ffn.experiments import lab1d

    client = Client(server, verbose=False, download_files=False)
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/train", "/stop", "/sweep", "/lab1d"} <= set(named)
    run, lab_run = train.run, lab1d.run
    monkeypatch.setattr(train, "run", lambda image, config: run(image, config.replace(
        iters=min(config.iters, 25), depth=3, width=32, features=16)))
    monkeypatch.setattr(lab1d, "run", lambda config: lab_run(dataclasses.replace(
        config, steps=min(config.steps, 100), width=64)))
    assert client.predict(api_name="/stop") in (None, [], ())  # nothing in progress: nothing to stop
    status, chart, files = client.predict(handle_file(CAT), api_name="/sweep")  # the best σ is page state: not sent
    assert "σ sweep on cat done at step 25: best σ = " in status and chart is not None
    assert sorted(pathlib.Path(f["path"]).name for f in files) == ["sweep.csv", "sweep.json"]
    assert "step 100 / 100" in client.predict(api_name="/lab1d")[0]


# --- The views of a finished run ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result():
    """A finished tiny run of three mappings, the current run as the page keeps it in its gr.State."""
    return list(images.train_run(CAT, *page_args(selected=["none", "custom", "posenc"])))[-1][6]


def test_views_of_a_finished_run(result):
    note, spectra, radial, row, errors, kernels, table, row_update, zoom_menu, kernel_menu, theory_cost, \
        theory_status, sweep_status = run_views.Tabs.show(result, 40)
    # The views that wait for their button no longer say that the run is training: they say what to press.
    assert "compute the theory for this run" in theory_status and "Run σ sweep" in sweep_status
    best = max(result.snap.test_psnr, key=result.snap.test_psnr.get)
    assert zoom_menu["value"] == kernel_menu["value"] == best and f"best mapping, {best}" in note
    assert "These views show **run 1 (cat, 64 px, step 50)**" in note  # every view names the run it shows
    assert spectra.dtype == np.uint8 and spectra.shape[1] > 4 * 64  # four tiles: three mappings and the truth
    assert [t.name for t in radial.data][:3] == ["none", "posenc:3", "gauss:2"]
    assert {"none", "gauss:2", "posenc:3", "ground truth"} <= {t.name for t in row.data} and len(row.data[0].y) == 64
    assert errors.dtype == np.uint8
    assert {t.name for t in kernels.data} == {"gauss:2", "posenc:3"}  # `none` has no stationary kernel
    assert "| gauss:2 | " in table and "Table 1" in table and "| like for like? |" in table
    # The paper's numbers beside the run's, and a 64 px run said to be no like-for-like comparison, with why, once.
    assert "| gauss:2 | " in table and "| 25.57 ± 4.19 | 30.47 ± 2.11 | no |" in table and table.count("| no |") == 3
    assert "**Not like for like**" in table and "64 px, not 512" in table and "50 steps, not 2000" in table
    assert row_update["maximum"] == 63 and row_update["value"] == 40
    assert zoom_menu["choices"] == kernel_menu["choices"] == ["none", "posenc:3", "gauss:2"]
    assert theory_cost.startswith("For run 1 (cat, 64 px, step 50): each mapping's kernel spectrum")
    figure, note = run_views.row_view(result, 20)
    assert figure.layout.title.text == "Row 20 (grey)" and note == ""
    assert run_views.row_view(result, 64) == (gr.skip(), "⚠️ Row must be at most 63 (got 64). The chart still shows "
                                                         "the last row that was drawn.")
    assert run_views.row_view(None, 20) == (gr.skip(), "")  # before a run the slider changes nothing


def test_the_paper_view_says_each_difference_from_the_papers_setting_once(result):
    table = views.overview(result, 0)["paper"]
    for difference in ("64 px, not 512", "50 steps, not 2000", "a 3×32 network, not 4×256", "16 features, not 256"):
        assert table.count(difference) == 1, difference


def test_zoom_renders_the_network_finer_than_it_was_trained(result):
    picture = run_views.zoom_view(result, "gauss:2", 2)
    assert picture.shape[1] >= 2 * 128 and picture.dtype == np.uint8
    with pytest.raises(gr.Error, match=r"Choose one of run 1 \(cat, 64 px, step 50\)'s mappings"):
        run_views.zoom_view(result, "gauss:9", 2)
    with pytest.raises(gr.Error, match="Zoom must be one of"):
        run_views.zoom_view(result, "gauss:2", 3)


def test_kernel_and_ntk_heatmaps(result):
    kernel, ntk = run_views.kernel_view(result, "gauss:2", True)
    z = np.asarray(ntk.data[0].z, float)
    assert z.shape == (48, 48) and z[24, 24] == pytest.approx(1.0, abs=1e-3)
    untrained = np.asarray(run_views.kernel_view(result, "gauss:2", False)[1].data[0].z, float)
    assert not np.allclose(z, untrained)


def test_views_need_a_finished_run_first(result):
    with pytest.raises(gr.Error, match="Train first"):
        run_views.zoom_view(None, "none", 2)
    shown = run_views.Tabs.show(None, 0)
    assert shown[0] == views.NO_RUN and all(v is None for v in shown[1:6]) and shown[6] == views.NO_RUN
    assert shown[10] == views.NO_RUN
    training = views.Run(2, result.history)  # a run still training: the views wait for its end
    with pytest.raises(gr.Error, match="Run 2 is still training"):
        run_views.kernel_view(training, "gauss:2", True)
    assert run_views.Tabs.show(training, 0)[0].startswith("Run 2 is still training")
    assert run_views.theory_plan(training) == run_views.theory_plan(None) == \
        "Train first: the theory is computed for the run you just trained."


def test_sigma_sweep_streams_and_offers_its_best_sigma():
    updates = list(run_views.sweep_run(CAT, 0.5, 20, 5, 64, 50, 1e-2, 3, 32, 16, 0))
    status, figure, best, files = updates[-1]
    assert sorted(pathlib.Path(f).name for f in files) == ["sweep.csv", "sweep.json"]
    sigmas = list(figure.data[0].x)
    assert len(sigmas) == 5 and best in sigmas and "best σ" in status and "σ sweep on cat done at step 50" in status
    plan = run_views.describe_sweep(0.5, 20, 5, 64, 50, 1e-2, 3, 32, 16, 0)
    assert "σ = 0.5, " in plan and "about" in plan
    slider, choices, said = run_views.use_sigma(best, ["none"])
    assert f"σ = {rules.custom_sigma(slider['value']):g} is now on the *Custom σ* slider" in said
    assert 10 ** slider["value"] == pytest.approx(best, rel=0.03) and choices["value"] == ["none", "custom"]
    with pytest.raises(gr.Error, match="Run a σ sweep first"):
        run_views.use_sigma(None, ["none"])
    with pytest.raises(gr.Error, match="must be below"):
        next(run_views.sweep_run(CAT, 5, 1, 5, 64, 50, 1e-2, 3, 32, 16, 0))


def test_siren_trains_from_the_page():
    last = list(images.train_run(CAT, *page_args(selected=["none"], size=32), "siren", 30.0))[-1]  # 32 px: a quick theory
    assert "step 50 / 50" in last[0] and last[6].config.model == "siren"
    status = list(run_views.theory_view(last[6]))[-1][0]  # the theory is the ReLU network's: the page says so
    assert "Your networks are SIREN; the theory is that of the paper's ReLU network" in status


def test_the_theory_view_streams_spectra_then_regression_pictures(result):
    updates = list(run_views.theory_view(result))
    status, figure, picture = updates[-1]
    steps = result.snap.step
    assert "Done, for run 1 (cat, 64 px, step 50)" in status
    assert f"After {steps} steps of gradient descent the theory's best test PSNR" in status
    assert [t.name for t in figure.data] == list(result.config.mappings)  # one spectrum per mapping
    # three rows (trained, the theory after the run's steps, converged) of three mappings and the ground truth
    assert picture.dtype == np.uint8 and picture.shape[1] > 4 * 64 and picture.shape[0] > 3 * 64
    with pytest.raises(gr.Error, match="Train first"):
        next(run_views.theory_view(None))


def test_stop_ends_the_theory_view_before_the_next_mapping(result):
    request = request_of("test-theory-stop")
    theory = run_views.theory_view(result, request)
    assert "computing each mapping's kernel spectrum" in next(theory)[0]
    common.stop(request)
    status, figure, picture = list(theory)[-1]
    assert status == "Stopped after 0 of 3 mappings: press the button again to compute them."
    assert [t.name for t in figure.data] == list(result.config.mappings) and picture == gr.skip()  # spectra kept
    assert not common.ADMISSION.busy("test-theory-stop")


def test_the_replay_shows_any_step_and_refuses_one_outside_the_run(result):
    items, figure, said = images.replay(result, 50)
    assert "Step **50** of 50 (run 1 (cat, 64 px, step 50))" in said and len(items) == 4
    assert images.replay(result, 51) == (gr.skip(), gr.skip(), "⚠️ step must be at most 50 (got 51).")
    assert images.replay(None, 10)[2] == "⚠️ Train first: the replay shows the snapshots of your run."
    assert images.replay_range(result) == gr.update(maximum=50, step=25, value=50)  # it stands at the last step
    assert images.replay_range(None) == gr.skip()


# --- The other pages ---------------------------------------------------------------------------------------------


def test_the_paper_pages_show_the_newest_set_table(tmp_path, monkeypatch):
    from ffn.experiments import table1
    from ffn.present import outputs

    monkeypatch.setattr(env, "ROOT", tmp_path)
    assert "No set table on this server yet" in run_views.set_table_text()
    assert "No set table on this server yet" in table1_page.newest_table()
    config = table1.protocol("natural", size=32, iters=10, width=16, features=8)
    per_image = {spec: [20.0 + i, 22.0 + i] for i, spec in enumerate(config.mappings)}
    outputs.write_table1(tmp_path / "runs" / "table1-natural-32px", table1.document("natural", config, ["a", "b"], per_image))
    for text in (run_views.set_table_text(), table1_page.newest_table()):
        assert "21.00 ± 1.00" in text and "19.32 ± 2.48" in text and "Not the paper's setting" in text
    assert table1_page.newest_table().startswith("### The newest set table on this server (natural)")


def test_the_about_page_states_this_servers_limits():
    text = about.limits()
    assert f"**This server**: {env.hardware()}" in text
    assert f"up to {rules.CAPS.size} px, {rules.CAPS.iters} steps" in text
    assert f"{env.MAX_QUEUE} waiting at most, one run per visitor" in text


def test_the_1d_lab_streams_measured_and_predicted_residuals():
    updates = list(lab.lab_run("sines", "2 8", "", 1.0, "none gauss:10", 100, "gd", 64))
    status, fit, loss, residuals, spectrum = updates[-1]
    assert "step 100 / 100" in status and "Done" in status and "NTK's prediction" in status
    assert {"none", "gauss:10"} <= {t.name for t in fit.data}
    names = [t.name for t in residuals.data]
    assert len(names) >= 4 and any("predict" in (t.line.dash or "") or t.line.dash == "dash" for t in residuals.data)
    with pytest.raises(gr.Error, match=r"freqs \(cycles per unit, below 32 for 128 points\) must be at most 31"):
        next(lab.lab_run("sines", "2 80", "", 1.0, "none", 100, "gd", 64))
    adam = list(lab.lab_run("sines", "2", "", 1.0, "none", 50, "adam", 64))[-1][0]
    assert "Adam rescales each parameter's step" in adam


# --- python app.py: the launches, started with this file and tested at its end -------------------------------------


class AppProcess:
    """`python app.py ARGS` in a process of its own, started at once; `printed()` waits for the line holding
    `until` (or 120 s) and gives everything printed up to it."""

    def __init__(self, args: list[str], env: dict, until: str):
        env = {**env, "FFN_WARM_UP": "0", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}  # no presets
        # compiled at start-up: these tests only talk to the server
        self.until, self.lines = until, []
        self.proc = subprocess.Popen([sys.executable, "app.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)

    def printed(self) -> str:
        deadline = time.time() + 120
        while time.time() < deadline and not any(self.until in line for line in self.lines):
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
        return "".join(self.lines)



SHARE_PORT, SPACE_PORT = free_port(), free_port()


@pytest.fixture(scope="module", autouse=True)
def launched():
    """The two launches tested at the end of this file, started with it: each spends seconds importing and building
    the app, which they do while the tests before them run."""
    base = {k: v for k, v in os.environ.items() if k != "GRADIO_SERVER_NAME"}
    # --share where no tunnel can be made, whatever this machine's network.
    offline = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
               "NO_PROXY": "127.0.0.1,localhost"}
    # The variables a Hugging Face Space sets (SPACE_ID; Gradio also reads SYSTEM=spaces).
    space = {"SPACE_ID": "someone/ffn", "SYSTEM": "spaces", "GRADIO_SERVER_PORT": str(SPACE_PORT), "CPU_CORES": "2",
             "MEMORY": "16Gi", "ACCELERATOR": "none"}
    apps = {"offline": AppProcess(["--share", "--port", str(SHARE_PORT)], {**base, **offline}, until="public link"),
            "space": AppProcess(["--share"], {**base, **space}, until="no share link")}
    yield apps
    for process in apps.values():  # both asked to stop, then both waited for: each takes a second or two
        process.proc.terminate()
    for process in apps.values():
        process.proc.wait(timeout=30)


PAGES = {"": "image-input", "lab": "lab-run", "inverse": "inverse-task", "table1": "paper-table1",
         "about": "server-limits"}  # each page's path and an element only that page has


def test_the_app_assembles_every_page_at_its_own_url():
    served = {path: name for name, path, _ in app.PAGES}
    assert served[""] == "Images" and app.PAGES[0][1] == ""  # the landing page
    assert {"lab": "1D lab", "table1": "Paper's Table 1", "about": "About this server"}.items() <= served.items()
    assert len(served) == len(app.PAGES) and set(served) == set(PAGES)  # one URL per page, each tested below
    assert app.LAUNCH["state_session_capacity"] == env.STATE_SESSIONS and app.LAUNCH["max_file_size"] == "20mb"


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_answers_at_its_own_url_with_its_own_content(server, path):
    with urllib.request.urlopen(server + path, timeout=30) as r:
        assert r.status == 200
        html = r.read().decode()
    assert f'"elem_id":"{PAGES[path]}"' in html.replace(" ", "")  # the page's own components, in its config
    assert not any(f'"elem_id":"{own}"' in html.replace(" ", "") for other, own in PAGES.items() if other != path)


# --- python app.py ---------------------------------------------------------------------------------------------------


def test_share_without_internet_says_so_in_one_line_and_keeps_serving(launched):
    """`python app.py --share` where no tunnel can be made: one clear line, and the local server answers."""
    text = launched["offline"].printed()
    assert f"serving at http://127.0.0.1:{SHARE_PORT}/" in text
    assert "Could not make a public link" in text and "still serving locally" in text
    assert "frpc" not in text  # Gradio's long instructions are not shown
    assert urllib.request.urlopen(f"http://127.0.0.1:{SHARE_PORT}/", timeout=10).status == 200


def test_on_a_space_the_app_listens_where_spaces_expect_and_makes_no_share_link(launched):
    """With the variables a Hugging Face Space sets, `python app.py --share` serves on every interface, says which
    Space and hardware it runs on, and makes no share link."""
    text = launched["space"].printed()
    assert any(f"serving at http://{host}:{SPACE_PORT}" in text for host in ("0.0.0.0", "localhost")), text
    assert "Hugging Face Space someone/ffn: CPU only, 2 CPU cores, 16Gi memory" in text
    assert "no share link is made" in text and "Could not make a public link" not in text
    assert urllib.request.urlopen(f"http://127.0.0.1:{SPACE_PORT}/", timeout=10).status == 200
