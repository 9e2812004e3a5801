"""The inverse problems page: its handler as a plain generator, /inverse through gradio_client against a real
server, and the page streaming a tiny run in a real browser (Debian's Chromium, headless, driven by Playwright)."""

import json
import pathlib
import shutil

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file

from ffn.core import inverse
from ffn.pages import common
from ffn.pages import inverse as page

CAT = str(common.EXAMPLES[0])
# object seed, then: task, angles, k-space, mappings, log10 σ, more specs, size, iters, lr, notebook lr, depth, width,
# features, seed. Shapes no other test file compiles at 16 px: 3×24 networks, 12 features.
TINY = dict(task="ct", angles=20, kspace=0.125, selected=["none", "gauss"], sigma_log10=0.9, extra="", size=16,
            iters=10, lr=1e-3, notebook_lr=True, depth=3, width=24, features=12, seed=0)


def args(**changes):
    return list({**TINY, **changes}.values())


@pytest.fixture(scope="module")
def finished():
    """Every update of a tiny CT run on phantom 1, called as the page calls it."""
    return list(page.inverse_run(None, 1, *args()))


# --- The handler, called directly -------------------------------------------------------------------------------


def test_handler_streams_reconstructions_then_downloads_and_what_to_notice(finished):
    starting, first, last = finished[0], finished[1], finished[-1]
    assert "Starting" in starting[0] and "CT, 20 angles" in starting[0]
    captions = [caption for _, caption in starting[1]]  # the object and its measurements, before any step
    assert captions[0].startswith("the object (phantom 1, 16 px)") and captions[1].startswith("sinogram: 20 angles")
    assert "step 0 / 10" in first[0] and "step 10 / 10" in last[0] and "Done" in last[0]
    assert [c.split(" · ")[0] for _, c in last[2]] == ["none@0.01", "gauss:4", "ground truth"]
    picture = last[2][0][0]
    assert picture.shape == (16, 16, 3) and np.array_equal(picture[..., 0], picture[..., 1])  # grey
    assert [t.name for t in last[4].data] == ["none@0.01", "gauss:4"]
    assert last[3].layout.title.text.startswith("Fit to the measurements")
    history = last[8].history
    best = max(history.last.test_psnr, key=history.last.test_psnr.get)
    assert f"**`{best}`** reconstructs the object best: **{history.last.test_psnr[best]:.2f} dB**" in last[6]
    names = {pathlib.Path(f).name for f in last[7]}
    assert names == {"training.mp4", "comparison.png", "bands.html", "metrics.json", "metrics.csv", "sinogram.png"}
    assert last[8].done and history.problem == inverse.Problem("ct")


def test_handler_takes_an_image_as_grey_for_mri():
    last = list(page.inverse_run(CAT, 0, *args(task="mri", kspace=0.25, selected=["none"])))[-1]
    assert "Done" in last[0] and {pathlib.Path(f).name for f in last[7]} >= {"kspace_mask.png", "kspace.png"}
    history = last[8].history
    assert history.name == "cat" and history.problem.kspace == 0.25 and history.obj.shape == (16, 16)


def test_handler_refuses_bad_values_with_a_sentence():
    with pytest.raises(gr.Error, match=r"angles \(CT projections\) must be at least 1 \(got 0\)"):
        next(page.inverse_run(None, 0, *args(angles=0)))
    with pytest.raises(gr.Error, match="must be at most 0.99, or 1 for the full k-space"):
        next(page.inverse_run(None, 0, *args(task="mri", kspace=0.995)))
    with pytest.raises(gr.Error, match=r"phantom_seed must be at least 0 \(got -1\)"):
        next(page.inverse_run(None, -1, *args()))
    with pytest.raises(gr.Error, match="paths on the server are not read"):
        next(page.inverse_run("/etc/hostname", 0, *args()))
    with pytest.raises(gr.Error, match="at least one mapping"):
        next(page.inverse_run(None, 0, *args(selected=[])))
    assert "⚠️" in page.describe_plan(*args(size=15)) and "measured numbers" in page.describe_plan(*args())


def test_the_theory_runs_under_the_trained_networks(finished):
    run = finished[-1][8]
    assert "about" in page.theory_plan(run) and "2 mappings" in page.theory_plan(run)
    updates = list(page.theory_view(run))
    status, picture = updates[-1]
    assert "Done" in status and "After 10 steps of gradient descent the theory's best reconstruction" in status
    assert picture.dtype == np.uint8 and picture.shape[0] > 3 * 16  # three rows: trained, after 10 steps, limit
    with pytest.raises(gr.Error, match="Train first"):
        next(page.theory_view(None))


# --- The served app, through gradio_client --------------------------------------------------------------------


def test_the_minimal_call_is_the_object_image_alone(server, tmp_path, monkeypatch):
    """Every other parameter has the page's default (64 px, the CT notebook's four mappings, 300 steps); the run
    is cut to 4 steps of a small network here so that the test stays short."""
    real = inverse.run_task
    monkeypatch.setattr(inverse, "run_task", lambda task, config: real(task, config.replace(
        iters=min(config.iters, 4), every=2, width=16, features=8)))
    client = Client(server, verbose=False, download_files=str(tmp_path))
    status, measured, recon, fit_plot, test_plot, band_plot, notice, files = client.predict(
        handle_file(CAT), api_name="/inverse")
    assert "step 4 / 4" in status and "Done" in status
    assert [pathlib.Path(f).name for f in files][-1] == "sinogram.png"
    metrics = json.loads(pathlib.Path(next(f for f in files if f.endswith("metrics.json"))).read_text())
    assert metrics["image"] == "cat" and metrics["task"]["kind"] == "ct" and metrics["task"]["angles"] == 20
    assert list(metrics["mappings"]) == ["none@0.01", "basic@0.01", "posenc:3", "gauss:4"]
    assert metrics["config"]["size"] == 64 and "reconstructs the object best" in notice


def test_the_api_refuses_what_this_server_will_not_run(server):
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match="This server runs size up to 512"):
        client.predict(handle_file(CAT), size=1024, api_name="/inverse")
    with pytest.raises(Exception, match="This run would take about"):
        client.predict(handle_file(CAT), size=512, iters=5000, api_name="/inverse")


# --- A real browser ---------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


SHOWN = """() => {  // window.shown: the gallery's picture addresses each time they change
    window.shown = [];
    const gallery = document.querySelector('#inverse-recon');
    const note = () => { const s = [...gallery.querySelectorAll('img')].map(i => i.src).join(' ');
                         if (s && window.shown.at(-1) !== s) window.shown.push(s); };
    new MutationObserver(note).observe(gallery, {subtree: true, childList: true, attributes: true,
                                                attributeFilter: ['src']});
}"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")
def test_the_page_streams_a_tiny_run(browser, server):
    sync_api = pytest.importorskip("playwright.sync_api")
    view = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        view.goto(server + "inverse")
        view.get_by_role("button", name="Reconstruct", exact=True).wait_for(timeout=60_000)
        sync_api.expect(view.locator("#inverse-measurements img")).to_have_count(2, timeout=30_000)
        for label in ("Basic", "Positional encoding (the notebook's S)"):  # two mappings keep it short
            view.locator("#inverse-mappings").get_by_text(label, exact=True).click()
        view.get_by_text("Settings: σ, steps, resolution, network").click()
        view.locator("#inverse-size input").click()
        view.get_by_role("option", name="32", exact=True).click()
        box = view.locator("#inverse-iters input[type=number]")
        box.fill("75")
        box.press("Enter")
        sync_api.expect(view.locator("#inverse-plan")).to_contain_text("× 75 steps at 32×32 px", timeout=30_000)
        sync_api.expect(view.locator("#inverse-plan")).to_contain_text("2 mappings")
        # Every set of pictures the gallery shows, as it shows it (a tiny run can end between two polls).
        view.evaluate(SHOWN)
        view.get_by_role("button", name="Reconstruct", exact=True).click()
        sync_api.expect(view.locator("#inverse-status")).to_contain_text("Done", timeout=120_000)
        assert len(set(view.evaluate("window.shown"))) >= 2, "the reconstructions did not stream"
        sync_api.expect(view.locator("#inverse-notice")).to_contain_text("reconstructs the object best")
        sync_api.expect(view.locator("#inverse-band-plot .gtitle")).to_contain_text("Relative error per frequency band")
        sync_api.expect(view.locator("#inverse-downloads")).to_contain_text("sinogram", timeout=30_000)
    finally:
        view.close()
