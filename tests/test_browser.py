"""The real app in a real browser: Debian's Chromium, headless, driven by Playwright."""

import os
import pathlib
import shutil
import socket
import time

import pytest

import app

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


def test_pick_example_train_watch_stop(page):
    page.locator(".gallery-item, [data-testid='examples'] button, table.gr-examples button").first.click()
    page.locator("#image-input img").first.wait_for(timeout=15_000)
    # Keep it short for CI: 64 px and a long run that we stop ourselves.
    page.locator("#size input").click()
    page.get_by_role("option", name="64", exact=True).click()
    set_number(page, "iters", 5000)
    page.get_by_role("button", name="Train", exact=True).click()

    seen_images, seen_plots = [], []
    deadline = time.time() + 120
    while time.time() < deadline and (len(set(seen_images)) < 3 or len(set(seen_plots)) < 3):
        sources = gallery_sources(page)
        if sources:
            seen_images.append(tuple(sources))
            seen_plots.append(plot_signature(page))
        time.sleep(0.3)
    assert len(set(seen_images)) >= 3, "the reconstructions did not change twice"
    assert len(set(seen_plots)) >= 3, "the PSNR plot did not change twice"
    assert "steps/s" in page.locator("#status").inner_text()

    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Stopped at step").wait_for(timeout=60_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "app.png"), full_page=True)
    page.locator("#downloads").get_by_text("comparison", exact=False).first.wait_for(timeout=30_000)

    # The views below the curves come from the same (stopped) run.
    page.get_by_role("tab", name="Spectra", exact=True).click()
    page.locator("#spectra img").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Paper's numbers", exact=True).click()
    assert "25.57" in page.locator("#paper-table").inner_text(timeout=30_000)
    assert (SCREENSHOTS / "app.png").stat().st_size > 10_000
