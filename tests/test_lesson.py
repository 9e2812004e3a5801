"""The guided lesson, end to end in a real browser: every step sets up the Images page and says what to look at,
the theory's step is trained (at 64 px, with the NTK's spectrum and pictures computed for its run), and the last
step's link opens the 1D lab with the lesson's settings. (Every other step's run is the Images page's own Train
on the settings checked here; the other browser tests train those.)"""

import shutil

import pytest

from ffn.pages import lesson

expect = pytest.importorskip("playwright.sync_api").expect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"),
]


def test_every_step_is_a_small_run_that_the_page_can_start():
    for step in lesson.STEPS:
        assert step.says.count(".") >= 2  # what to do, then what to look at
        if step.config is not None:
            assert step.config.size <= 128 and step.config.width <= 64 and step.config.iters <= 300
    assert "lab?" in lesson.STEPS[-1].says and lesson.STEPS[-1].config is None


def test_the_lesson_runs_end_to_end(browser, server):
    failed = []
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(server)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    page.get_by_text("A guided lesson for a class").click()
    for i, step in enumerate(lesson.STEPS):
        expect(page.locator(f"#lesson-text-{i}")).to_contain_text(step.says.split(".")[0].replace("**", ""),
                                                                  timeout=10_000)
        if step.config is not None:
            page.locator(f"#lesson-setup-{i}").click()
            expect(page.locator(f"#lesson-said-{i}")).to_contain_text(f"{step.config.size} px", timeout=10_000)
            checked = page.locator("#mappings input:checked").count()
            assert checked >= 1, i
        if i == 2:  # the theory's step (64 px) opened the theory's tab: train, then its spectrum and pictures
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.locator("#views-note")).to_contain_text("These views show run 1 (cat, 64 px, step 300)",
                                                                timeout=120_000)
            page.locator("#theory-run").click()
            expect(page.locator("#theory-status")).to_contain_text("Done, for run 1", timeout=120_000)
        if i + 1 < len(lesson.STEPS):
            page.locator(f"#lesson-next-{i}").click()
    # The last step links to the 1D lab with its settings in the address.
    href = page.locator("#lesson-text-5 a").get_attribute("href")
    page.goto(server.rstrip("/") + "/" + href.lstrip("/"))
    expect(page.locator("#lab-freqs textarea, #lab-freqs input").first).to_have_value("2 8 24", timeout=30_000)
    expect(page.locator("#lab-specs textarea, #lab-specs input").first).to_have_value("none gauss:10 power:1")
    page.close()
    assert not failed, failed
