"""The real app in a real browser: Debian's Chromium, headless, driven by Playwright."""

import os
import pathlib
import shutil
import socket
import time

import pytest

import app

expect = pytest.importorskip("playwright.sync_api").expect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"),
]
SCREENSHOTS = pathlib.Path(os.environ.get("FFN_SCREENSHOTS", pathlib.Path(__file__).parent / "screenshots"))


@pytest.fixture(scope="module")
def url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


@pytest.fixture(scope="module")
def page(url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
        yield page
        browser.close()


def gallery_sources(page) -> list[str]:
    return page.locator("#recon img").evaluate_all("imgs => imgs.map(i => i.src)")


def plot_signature(page) -> str:
    return page.locator("#test-plot").inner_html()


def set_number(page, elem_id: str, value):
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def test_a_file_that_is_not_an_image_is_refused_at_upload(page, tmp_path, capfd):
    """Issue 10: the upload answered HTTP 500 and the page said nothing until Train; now the note under the box
    gives ffn.data's sentence at once, the box lets the file go, and the server logs no traceback."""
    fake = tmp_path / "notes.png"
    fake.write_text("these are notes, not a picture\n")
    failed = []
    on_response = lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None  # noqa: E731
    page.on("response", on_response)
    try:
        page.locator("#image-input input[type=file]").set_input_files(str(fake))
        note = page.locator("#image-input-note")
        expect(note).to_contain_text("This file is not an image that can be read", timeout=30_000)
        expect(page.locator("#image-input img")).to_have_count(0)  # no broken picture left in the box
    finally:
        page.remove_listener("response", on_response)
    assert not failed
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    # Picking an example afterwards clears the note.
    page.locator(".gallery-item, [data-testid='examples'] button, table.gr-examples button").first.click()
    expect(note).not_to_contain_text("not an image", timeout=30_000)


def test_pick_example_train_watch_stop(page):
    page.locator(".gallery-item, [data-testid='examples'] button, table.gr-examples button").first.click()
    page.locator("#image-input img").first.wait_for(timeout=15_000)
    # Keep it short for CI: 64 px and a long run that we stop ourselves.
    page.locator("#size input").click()
    page.get_by_role("option", name="64", exact=True).click()
    set_number(page, "iters", 5000)
    page.get_by_role("button", name="Train", exact=True).click()

    seen_images, seen_plots, seen_bands = [], [], []
    deadline = time.time() + 120
    while time.time() < deadline and min(len(set(seen_images)), len(set(seen_plots)), len(set(seen_bands))) < 3:
        sources = gallery_sources(page)
        if sources:
            seen_images.append(tuple(sources))
            seen_plots.append(plot_signature(page))
            seen_bands.append(page.locator("#band-plot").inner_html())
        time.sleep(0.3)
    assert len(set(seen_images)) >= 3, f"the reconstructions did not change twice: {page.locator('#status').inner_text()}"
    assert len(set(seen_plots)) >= 3, "the PSNR plot did not change twice"
    assert len(set(seen_bands)) >= 3, "the band-error chart did not change twice while training"
    expect(page.locator("#band-plot .gtitle")).to_contain_text("Relative error per frequency band")
    assert "steps/s" in page.locator("#status").inner_text()

    page.locator("#stop").click()  # the σ sweep has its own Stop button
    page.get_by_text("Stopped at step").wait_for(timeout=60_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "app.png"), full_page=True)
    page.locator("#downloads").get_by_text("comparison", exact=False).first.wait_for(timeout=30_000)

    # The views below the curves come from the same (stopped) run.
    page.get_by_role("tab", name="Spectra", exact=True).click()
    page.locator("#spectra img").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Paper's numbers", exact=True).click()
    assert "paper, natural images" in page.locator("#paper-table").inner_text(timeout=30_000)
    assert (SCREENSHOTS / "app.png").stat().st_size > 10_000


def test_row_slice_follows_a_typed_row_and_the_arrow_keys(page):
    """Issue 10: the row chart changed only when the slider was dragged (it listened to release)."""
    page.get_by_role("tab", name="Row slice", exact=True).click()
    title = page.locator("#row-plot .gtitle")
    expect(title).to_contain_text("Row ", timeout=30_000)  # drawn for the stopped run
    box = page.locator("#row input[type=number]")
    box.fill("20")
    box.press("Enter")
    expect(title).to_have_text("Row 20 (grey)", timeout=30_000)
    box.press("ArrowUp")
    expect(title).to_have_text("Row 21 (grey)", timeout=30_000)
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(title).to_have_text("Row 19 (grey)", timeout=30_000)


RECORD = """([sel, key]) => {  // window[key]: the element's text now, then every new text it takes
    window[key] = [];
    const el = document.querySelector(sel);
    const note = () => { const t = el.querySelector('.prose')?.innerText.trim() ?? '';
                         if (t && window[key].at(-1) !== t) window[key].push(t); };
    note();
    new MutationObserver(note).observe(el, {subtree: true, childList: true, characterData: true});
}"""


def test_a_new_run_says_at_once_that_it_starts_and_what_the_views_show(page):
    """Issue 10: a second run showed the first one's "Done." until its first update, and the views below gave no
    sign that they still showed the first run."""
    set_number(page, "iters", 25)
    train = page.get_by_role("button", name="Train", exact=True)
    train.click()
    status = page.locator("#status")
    expect(status).to_contain_text("Done.", timeout=120_000)
    expect(page.locator("#views-note")).to_contain_text("These views show your run", timeout=60_000)

    page.evaluate(RECORD, ["#status", "statuses"])
    page.evaluate(RECORD, ["#views-note", "notes"])
    set_number(page, "iters", 100)
    train.click()
    page.wait_for_function("window.statuses.slice(1).some(t => t.includes('Done.'))", timeout=120_000)
    statuses, notes = page.evaluate("window.statuses"), page.evaluate("window.notes")
    assert "Done." in statuses[0] and "25 / 25" in statuses[0], statuses  # the first run's
    assert "Starting" in statuses[1] and "Done." not in statuses[1], statuses  # the very next text
    assert any("previous run" in n for n in notes), notes
    expect(page.locator("#views-note")).to_contain_text("These views show your run", timeout=60_000)


def test_the_replay_shows_any_step_of_the_run(page):
    """After the 100-step run above: the replay slider spans it and shows the gallery as it was at a chosen step."""
    page.get_by_text("Replay the run").click()
    box = page.locator("#replay-step input[type=number]")
    box.fill("50")
    box.press("Enter")
    expect(page.locator("#replay-note")).to_contain_text("Step 50 of 100", timeout=30_000)
    shown = page.locator("#recon img").count()  # every mapping of the run and the ground truth
    assert shown >= 3
    expect(page.locator("#replay-gallery img")).to_have_count(shown, timeout=30_000)
    expect(page.locator("#replay-plot .js-plotly-plot")).to_have_count(1, timeout=30_000)
    assert "step 50" in page.locator("#replay-plot").inner_text()  # the marker on the test curve


def test_the_class_demo_button_sets_its_preset_and_says_what_to_notice(page):
    page.locator("#class-demo").click()
    expect(page.locator("#iters input[type=number]")).to_have_value("300", timeout=30_000)
    plan = page.locator("#plan")
    expect(plan).to_contain_text("5 mappings × 300 steps at 128×128 px", timeout=60_000)
    expect(plan).to_contain_text("the too-large σ, here on purpose")


def test_the_1d_lab_runs_in_the_page(page):
    page.locator("#lab").scroll_into_view_if_needed()
    specs = page.locator("#lab-specs textarea, #lab-specs input").first
    specs.fill("none gauss:10")
    page.locator("#lab-run").click()
    status = page.locator("#lab-status")
    expect(status).to_contain_text("Done.", timeout=180_000)
    expect(status).to_contain_text("dashed: the NTK's prediction")
    residuals = page.locator("#lab-residuals")
    expect(residuals.locator(".js-plotly-plot")).to_have_count(1)
    assert "gauss:10" in residuals.inner_text() and "none" in residuals.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#lab").screenshot(path=str(SCREENSHOTS / "lab.png"))
