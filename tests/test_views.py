"""ffn.serve.views: a visitor's current run and the views derived from it, without Gradio, on a 16 px run.

Every view checks its controls with a sentence, refuses until the run has ended, and names the run it shows.
"""

import threading

import numpy as np
import pytest

from ffn.core import checks
from ffn.core.config import TINY
from ffn.experiments import runs
from ffn.serve import rules, views

CONFIG = TINY.replace(width=24, iters=10, every=5)  # gauss:2 and none, 16 px; TINY's own shapes are test_train's


@pytest.fixture(scope="module")
def finished(image):
    history = None
    for history, _ in runs.record(image, CONFIG, "smooth"):
        pass
    return views.Run(1, history, done=True)


@pytest.fixture(scope="module")
def stopped(image):
    """Run 2, stopped at step 5 of 10 (its history ends early)."""
    recording = runs.record(image, CONFIG, "smooth")
    for history, snap in recording:
        if snap.step == 5:
            recording.close()
            return views.Run(2, history, done=True)


def test_a_run_names_itself_as_every_view_will():
    fresh = views.Run(3, runs.History(CONFIG, np.zeros((16, 16, 3), np.float32), "cat"))
    assert fresh.label == "run 3 (cat, 16 px)" and fresh.snap is None and fresh.config is CONFIG


def test_the_label_gives_the_step_the_views_show(finished, stopped):
    assert finished.label == "run 1 (smooth, 16 px, step 10)"
    assert stopped.label == "run 2 (smooth, 16 px, step 5)"


def test_views_wait_for_a_finished_run():
    with pytest.raises(checks.Invalid, match=views.NO_RUN):
        views.require(None)
    training = views.Run(4, runs.History(CONFIG, np.zeros((16, 16, 3), np.float32), "cat"))
    with pytest.raises(checks.Invalid, match=r"Run 4 is still training: the views show it once it ends \(or press Stop\)"):
        views.require(training)
    for view in (lambda: views.overview(training, 0), lambda: views.zoom(training, "none", 2),
                 lambda: views.kernels(training, "none", True), lambda: views.row_figure(None, 0),
                 lambda: next(views.theory(training))):
        with pytest.raises(checks.Invalid):
            view()
    assert views.radial(training) is None and views.kernel_slices(None) is None


def test_a_new_run_says_what_the_views_will_show():
    assert views.cleared_note(1, "cat") == "Run 1 (cat) is training: the views will show it when it ends."
    assert views.cleared_note(2, "text").endswith("The previous run's pictures were cleared.")


def test_the_overview_names_the_run_and_keeps_the_row_inside_the_image(finished):
    shown = views.overview(finished, 7)
    assert shown["note"].startswith("These views show **run 1 (smooth, 16 px, step 10)**: none, gauss:2.")
    assert shown["specs"] == ["none", "gauss:2"] and shown["best"] in shown["specs"]
    assert shown["row_value"] == 7 and shown["row_max"] == 15
    assert views.overview(finished, 99)["row_value"] == 15 and views.overview(finished, float("nan"))["row_value"] == 0
    assert shown["spectra"].dtype == np.uint8 and "| gauss:2 |" in shown["paper"]
    with pytest.raises(checks.Invalid, match=r"Row must be at most 15 \(got 16\)") as refused:
        views.row_figure(finished, 16)
    assert refused.value.param == "row"


def test_the_views_refuse_a_mapping_the_run_does_not_have(finished):
    with pytest.raises(checks.Invalid, match=r"Choose one of run 1 \(smooth, 16 px, step 10\)'s mappings \(none, "
                                             r"gauss:2\)") as refused:
        views.zoom(finished, "gauss:9", 2)
    assert refused.value.param == "spec"
    with pytest.raises(checks.Invalid, match="Zoom must be one of"):
        views.zoom(finished, "gauss:2", 3)
    with pytest.raises(checks.Invalid, match="trained"):
        views.kernels(finished, "gauss:2", "maybe")


def test_zoom_and_kernels_name_their_run(finished):
    assert views.zoom(finished, "gauss:2", 2).shape[1] >= 2 * 32
    kernel, tangent = views.kernels(finished, "gauss:2", True)
    assert np.asarray(tangent.data[0].z).shape == (views.KERNEL_GRID, views.KERNEL_GRID)


def test_the_replay_says_which_snapshot_it_shows(finished, stopped):
    at, items, figure, said = views.replay(finished, 7)
    assert at == 5 and len(items) == 3 and said.startswith("Step **5** of 10 (run 1 (smooth, 16 px, step 10))")
    at, _, _, said = views.replay(stopped, 8)  # past the run's last snapshot: its latest, said so
    assert at == 5 and said.endswith("The run has no snapshot after step 5 yet: this is its latest.")
    with pytest.raises(checks.Invalid, match=r"step must be at most 10 \(got 11\)"):
        views.replay(finished, 11)
    with pytest.raises(checks.Invalid, match="Train first: the replay shows the snapshots of your run"):
        views.replay(None, 0)


def test_the_theory_says_what_it_will_cost_before_it_starts(finished):
    assert views.theory_cost(None) == "Train first: the theory is computed for the run you just trained."
    assert views.theory_cost(finished).startswith(
        "For run 1 (smooth, 16 px, step 10): each mapping's kernel spectrum, then its pictures at 16 px, about **")
    big = views.Run(1, runs.History(CONFIG.replace(size=256), np.zeros((256, 256, 3), np.float32), "cat"), done=True)
    assert views.theory_cost(big).startswith("For run 1 (cat, 256 px): the kernels' spectra only (a few seconds). "
                                             "The kernel-regression picture is limited to 128 px")


def test_the_theory_is_refused_up_front_past_the_time_limit(finished, monkeypatch):
    assert views.theory_check(finished) is finished
    monkeypatch.setattr(rules, "CAPS", rules.Caps(seconds=1e-6))
    with pytest.raises(checks.Invalid, match=r"The theory's pictures for run 1 \(smooth, 16 px, step 10\) would take "
                                             r"about .* per job") as refused:
        views.theory_check(finished)
    assert refused.value.param == "current"


def test_the_theory_streams_spectra_then_pictures_and_names_the_run(finished):
    *steps, (status, figure, picture) = views.theory(finished)
    assert steps[0] == ("run 1 (smooth, 16 px, step 10): computing each mapping's kernel spectrum…", None, None)
    assert [s for s, _, _ in steps[1:]] == ["run 1 (smooth, 16 px, step 10): the theory's pictures, none (1 of 2)…",
                                            "run 1 (smooth, 16 px, step 10): the theory's pictures, gauss:2 (2 of 2)…"]
    assert status.startswith("Done, for run 1 (smooth, 16 px, step 10). After 10 steps of gradient descent")
    assert [t.name for t in figure.data] == ["none", "gauss:2"] and picture.dtype == np.uint8


def test_stop_and_the_time_limit_end_the_theory_between_mappings(finished):
    flag = threading.Event()
    theory = views.theory(finished, flag)
    next(theory)
    flag.set()
    status, figure, picture = list(theory)[-1]
    assert status == "Stopped after 0 of 2 mappings: press the button again to compute them."
    assert figure is not None and picture is None  # the spectra computed so far stay
    status = list(views.theory(finished, threading.Event(), limit_seconds=1e-9))[-1][0]
    assert status.startswith("Stopped after 0 of 2 mappings: this server's time limit of ")


def test_the_sweeps_verdict():
    summary = dict(sigmas=[1.0, 2.0, 4.0], final_test_psnr=[20.0, 25.0, 24.95], best_sigma=2.0, plateau=(2.0, 4.0))
    said = views.sweep_verdict(summary, 50, "cat")
    assert said.startswith("σ sweep on cat done at step 50: best σ = **2** (test PSNR 25.00 dB); every σ from 2 to 4")
    alone = views.sweep_verdict({**summary, "plateau": (2.0, 2.0)}, 50, "cat", note="Stopped at step 50.")
    assert alone == "σ sweep on cat done at step 50: best σ = **2** (test PSNR 25.00 dB).  \nStopped at step 50."
    diverged = dict(sigmas=[1.0], final_test_psnr=[None], best_sigma=None, plateau=None)
    assert views.sweep_verdict(diverged, 5, "cat") == "σ sweep on cat at step 5: every σ diverged: lower the learning rate."
