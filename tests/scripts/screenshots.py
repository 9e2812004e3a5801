"""Takes README's pictures of the app in headless Chromium (not a test: `python tests/scripts/screenshots.py`).

Starts the app and saves every page it serves (`app.PAGES`: /, /lab, /inverse, /table1, /about) as
a visitor's window shows it at 1280×720 (a classroom projector) and at 1920×1080, one PNG each
(page-<name>-<width>x<height>.png). Then, on the Images page, it clicks the cat example, trains with the page's
defaults (or the class demo), saves the page, the band-error chart and the replay, opens every view, runs the 1D
lab on its page, and saves one PNG each. Everything goes into assets/readme/ unless --out says otherwise.
"""

import argparse
import pathlib
import shutil
import sys
import time

sys.path[:0] = [str(pathlib.Path(__file__).resolve().parents[i]) for i in (2, 1)]  # the app, and tests/
from conftest import ROOT, free_port  # noqa: E402

import app  # noqa: E402

WINDOWS = ((1280, 720), (1920, 1080))
MARKS = {"": "#image-input", "lab": "#lab-run", "inverse": "#inverse-task", "table1": "#paper-table1",
         "about": "#server-limits"}  # an element of each page, to wait for


def save_pages(browser, url: str, out: pathlib.Path) -> None:
    """Every page of the app at each window size, as it first appears."""
    for name, path, _ in app.PAGES:
        slug = path or "images"
        for width, height in WINDOWS:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            response = page.goto(url + path)
            if response is None or response.status != 200:
                raise SystemExit(f"{name} (/{path}) answered {response.status if response else 'nothing'}")
            page.locator(MARKS.get(path, ".gradio-container")).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # the page's load events fill its texts (the page never idles: it streams)
            page.screenshot(path=str(out / f"page-{slug}-{width}x{height}.png"))
            page.close()
        print(f"saved the page {name} (/{path})", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "assets" / "readme")
    p.add_argument("--sweep", action="store_true", help="also run the σ sweep (about a minute more)")
    p.add_argument("--class-demo", action="store_true", help="train the class demo preset instead of the defaults")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--disable-gpu", "--no-sandbox"])
        save_pages(browser, url, args.out)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        page.goto(url)
        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
        page.locator("#examples .gallery-item").first.click()
        page.locator("#image-input img").first.wait_for(timeout=15_000)
        if args.class_demo:
            page.locator("#preset-0").click()  # "Class demo (30 s)"
            page.wait_for_timeout(1000)
        page.screenshot(path=str(args.out / "before.png"), full_page=True)
        t0 = time.time()
        page.get_by_role("button", name="Train", exact=True).click()
        page.locator("#status").get_by_text("Done.").wait_for(timeout=300_000)
        print(f"default run: {time.time() - t0:.1f} s from the click", flush=True)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(args.out / "app.png"), full_page=True)
        page.locator("#band-plot").screenshot(path=str(args.out / "bands.png"))
        page.get_by_text("Replay the run").click()
        replay = page.locator("#replay-step input[type=number]")
        replay.fill("100")
        replay.press("Enter")
        page.wait_for_timeout(2000)
        page.locator("#replay").screenshot(path=str(args.out / "replay.png"))
        print("saved bands, replay", flush=True)

        def shoot(tab, name, selector="#views", before=None, wait=None):
            page.get_by_role("tab", name=tab, exact=True).click()
            page.wait_for_timeout(500)
            if before:
                before()
            if wait:
                page.locator(wait).first.wait_for(timeout=600_000)
                page.wait_for_timeout(1000)
            page.locator(selector).screenshot(path=str(args.out / f"view-{name}.png"))
            print("saved", name, flush=True)

        shoot("Spectra", "spectra")
        shoot("Row slice", "row")
        shoot("Error maps", "errors")
        shoot("Zoom", "zoom", before=lambda: page.locator("#zoom-render").click(), wait="#zoom img")
        shoot("Kernels", "kernels", before=lambda: page.locator("#kernel-render").click(), wait="#ntk-map .js-plotly-plot")
        shoot("Why: the NTK", "theory", before=lambda: page.locator("#theory-run").click(),
              wait="#theory-status >> text=best test PSNR")
        shoot("Paper's numbers", "paper")
        if args.sweep:
            shoot("σ sweep", "sweep", before=lambda: page.locator("#sweep-run").click(),
                  wait="#sweep-status >> text=done at step")
        page.goto(url + "lab")
        page.locator("#lab-run").click()
        page.locator("#lab-status").get_by_text("Done.").wait_for(timeout=300_000)
        page.wait_for_timeout(1500)
        page.locator("#lab").screenshot(path=str(args.out / "lab.png"))
        print("saved lab", flush=True)
        browser.close()
    app.demo.close()


if __name__ == "__main__":
    main()
