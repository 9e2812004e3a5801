"""What a new visitor met in the first hour, in a real browser: each of these failed before its fix.

- a file that is no image, put in the image box by the file chooser, and as a second upload over an example: said
  at once under the box, no traceback in the server's log (Gradio decoded the second one first, with a traceback);
- Train with no image: the sentence, and the views' note unchanged (it said "a new run is starting");
- iterations typed far past the server's cap: a sentence naming the cap, no run (the slider snapped it to 5000);
- a row typed outside the image: a note beside the chart (an HTTP 500, nothing on the page).
"""

import shutil
import time

import pytest
from conftest import choose

expect = pytest.importorskip("playwright.sync_api").expect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"),
]
REFUSED = "That file was not used: This file is not an image that can be read"
EMPTY = "That file was not used: The file is empty (0 bytes)"


def test_the_first_hours_mistakes_are_each_answered_with_a_sentence(browser, server, tmp_path, capfd):
    text = tmp_path / "text.png"
    text.write_text("hello, I am not an image\n" * 20)
    failed = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(server)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    note = page.locator("#image-input-note")

    # Train with no image: refused where the image goes; the views' note is left as it was.
    before = page.locator("#views-note").inner_text()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Pick an example or upload an image first.").first).to_be_visible(timeout=10_000)
    assert page.locator("#views-note").inner_text() == before

    # Every path into the image box.
    page.locator("#image-input input[type=file]").set_input_files(str(text))
    expect(note).to_contain_text(REFUSED, timeout=15_000)
    page.locator("#examples .gallery-item").first.click()  # a second upload, over a picture in the box
    expect(note).to_have_text("", timeout=15_000)  # an example clears the note
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    page.locator("#image-input input[type=file]").set_input_files(str(empty))
    expect(note).to_contain_text(EMPTY, timeout=15_000)
    # A drop or a paste reaches the same change event, which takes the upload unopened whatever brought it (a
    # synthetic drop or paste does not reach Gradio's box here, so they are not driven).

    # Iterations typed far past the cap: said, and nothing trains.
    page.locator("#examples .gallery-item").first.click()
    page.get_by_text("Settings: σ, steps, resolution, network").click()
    iters = page.locator("#iters input")
    iters.fill("1000000000")
    iters.press("Tab")
    expect(page.locator("#plan")).to_contain_text("This server runs iters up to 5000", timeout=10_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("This server runs iters up to 5000").first).to_be_visible(timeout=10_000)
    page.wait_for_timeout(1500)
    assert "step" not in page.locator("#status").inner_text()  # no run started

    # A row outside the image, typed: a note beside the chart (after a tiny run, so there is a chart).
    iters.fill("25")
    iters.press("Tab")
    choose(page, page.locator("#size input"), "64")
    # Train once the page has the settings (on a busy machine a click could otherwise train at the old size).
    expect(page.locator("#plan")).to_contain_text("× 25 steps at 64×64 px", timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Done.", timeout=120_000)
    expect(page.locator("#views-note")).to_contain_text("These views show", timeout=60_000)  # the row spans 64 px now
    page.get_by_role("tab", name="Row slice", exact=True).click()
    # The tab draws its row when shown: typed before that draw lands, a row's note could be cleared by it.
    expect(page.locator("#row-plot .gtitle")).to_contain_text("Row ", timeout=30_000)
    row = page.locator("#row input[type=number]")
    row.fill("128")
    row.press("Enter")
    expect(page.locator("#row-note")).to_contain_text("Row must be at most 63 (got 128).", timeout=10_000)
    page.close()
    assert not failed, failed
    assert "Traceback" not in capfd.readouterr().err


def test_eight_mappings_keep_the_ground_truth_in_view_and_a_refused_preset_says_so_beside_train(browser, server):
    """With 8 mappings the gallery grows (the ground truth and its caption were cut off inside a scroll box); a chart
    drawn while its tab was hidden fills its panel when shown (it filled ~75%); the Paper setting's refusal is said
    right under Train, in view (it was two screens up)."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    page.locator("#examples .gallery-item").first.click()
    page.locator("#preset-2").click()  # the Paper setting: hours on this machine, past its limit
    plan = page.locator("#plan")
    expect(plan).to_contain_text("this server allows", timeout=10_000)
    box = plan.bounding_box()
    assert box is not None and box["y"] < 720, box  # in view, beside Train, without scrolling
    page.locator("#preset-0").click()  # the class demo, then 8 mappings at 64 px
    expect(plan).to_contain_text("5 mappings × 300 steps at 128×128 px", timeout=30_000)  # set before it is changed
    page.get_by_text("Settings: σ, steps, resolution, network").click()
    expect(page.locator("#settings [data-testid=accordion-content]")).to_be_visible()
    for label in ("Gaussian σ=1", "Gaussian σ=100"):
        page.get_by_label(label, exact=True).check()
    specs = page.get_by_label("More mappings (specs)")
    specs.fill("posenc:2")
    specs.press("Tab")
    expect(plan).to_contain_text("8 mappings × 300 steps at 128×128 px", timeout=30_000)  # the server has them all
    choose(page, page.locator("#size input"), "64")
    iters = page.locator("#iters input")
    iters.fill("25")
    iters.press("Tab")
    expect(plan).to_contain_text("8 mappings × 25 steps at 64×64 px", timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Done.", timeout=120_000)
    expect(page.locator("#views-note")).to_contain_text("These views show", timeout=60_000)  # the views drawn too
    gallery = page.locator("#recon")
    expect(gallery.get_by_text("ground truth", exact=True)).to_be_visible(timeout=10_000)
    outer = gallery.bounding_box()
    truth = gallery.get_by_text("ground truth", exact=True).bounding_box()
    assert truth["y"] + truth["height"] <= outer["y"] + outer["height"] + 1, (truth, outer)  # not cut off
    assert gallery.locator(".caption-label").count() >= 8  # 7 mappings or more and the truth: two rows, all shown
    # The radial spectrum was drawn while its tab was hidden; shown, it fills its panel.
    page.get_by_role("tab", name="Row slice", exact=True).click()
    page.get_by_role("tab", name="Spectra", exact=True).click()
    deadline = time.time() + 15
    while True:  # Plotly resizes the chart once its tab is shown
        panel = page.locator("#radial-plot").bounding_box()
        chart = page.locator("#radial-plot .main-svg").first.bounding_box()
        if chart["width"] > 0.9 * panel["width"] or time.time() > deadline:
            break
        page.wait_for_timeout(200)
    assert chart["width"] > 0.9 * panel["width"], (chart, panel)
    page.close()
