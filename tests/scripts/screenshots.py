"""Takes README's pictures of the app in headless Chromium (not a test: `python tests/screenshots.py`).

Starts the app, clicks the cat example, trains with the page's defaults (or the class demo), then saves the
page, the band-error chart and the replay, opens every view, runs the 1D lab, and saves one PNG each into
assets/readme/.
"""

import argparse
import pathlib
import shutil
import socket
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import app  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "assets" / "readme")
    p.add_argument("--sweep", action="store_true", help="also run the σ sweep (about a minute more)")
    p.add_argument("--class-demo", action="store_true", help="train the class demo preset instead of the defaults")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--disable-gpu", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
        page.locator(".gallery-item, [data-testid='examples'] button, table.gr-examples button").first.click()
        page.locator("#image-input img").first.wait_for(timeout=15_000)
        if args.class_demo:
            page.locator("#class-demo").click()
            page.wait_for_timeout(1000)
        page.screenshot(path=str(args.out / "before.png"), full_page=True)
        t0 = time.time()
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Done.").wait_for(timeout=300_000)
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
            shoot("σ sweep", "sweep", before=lambda: page.locator("#sweep-run").click(), wait="text=σ sweep done")
        page.locator("#lab-run").click()
        page.locator("#lab-status").get_by_text("Done.").wait_for(timeout=300_000)
        page.wait_for_timeout(1500)
        page.locator("#lab").screenshot(path=str(args.out / "lab.png"))
        print("saved lab", flush=True)
        browser.close()
    app.demo.close()


if __name__ == "__main__":
    main()
