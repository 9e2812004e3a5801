"""What the tests share: no network, JAX on the CPU, a smooth test image, a tiny run of the Images page, and the
served app (one server for the whole session).

The scripts in tests/scripts import the plain helpers (`free_port`, `ROOT`) from here; the settings below are
made in `pytest_configure`, so importing this module changes nothing for them.
"""

import json
import os
import pathlib
import shutil
import socket
import sys
import tempfile

import numpy as np
import pytest

collect_ignore = ["scripts"]  # tests/scripts holds commands, not tests

ROOT = pathlib.Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
CAT = str(ASSETS / "cat.png")
TEXT = str(ASSETS / "text.png")

# A tiny run of the Images page (64 px, a 3×32 network, 16 features, 50 steps; 'custom' is gauss:2 at
# σ = 10**0.3): its values by name, in the order the page and its /train endpoint take them after the image.
PAGE = dict(selected=["none", "custom"], sigma_log10=0.3, extra="", size=64, iters=50, lr=1e-2, paper_lr=False,
            depth=3, width=32, features=16, seed=0)
ORDER = [*PAGE, "model", "w0", "crop"]  # all of /train's parameters after the image; the last three have defaults


def page_args(**changes) -> list:
    """The tiny run's values, in order (a handler's positional arguments after the image), with `changes`."""
    return list({**PAGE, **changes}.values())


def page_kwargs(image: str = CAT, **changes) -> dict:
    """Keyword arguments of a tiny /train call through gradio_client (the image uploaded)."""
    from gradio_client import handle_file

    return {"image_path": handle_file(image), **PAGE, **changes}


def raw_values(image=None, **changes) -> list:
    """The tiny run as a raw HTTP payload's data (image first, then every parameter, those with defaults too)."""
    settings = {**PAGE, "model": "relu", "w0": 30.0, "crop": False, **changes}
    return [image] + [settings[name] for name in ORDER]


def raw_call(url: str, values: list, api: str = "train", timeout: float = 120) -> tuple[str, object]:
    """POSTs a JSON body to the endpoint `api` of the server at `url` as a script might (NaN and Infinity allowed)
    and returns the stream's last (event, payload); a call refused before it queued (the app's validator's 422,
    or Gradio's 400) gives ("refused", {"error": its message, "status": the HTTP code})."""
    import re
    import urllib.error
    import urllib.request

    body = json.dumps({"data": values}, allow_nan=True).encode()
    request = urllib.request.Request(f"{url}gradio_api/call/{api}", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            event_id = json.loads(r.read())["event_id"]
    except urllib.error.HTTPError as e:
        detail = json.loads(e.read() or b'{"detail": ""}').get("detail", "")
        if isinstance(detail, list):
            detail = " ".join(d.get("message", "") for d in detail if not d.get("is_valid", True))
        return "refused", {"error": detail, "status": e.code}
    with urllib.request.urlopen(f"{url}gradio_api/call/{api}/{event_id}", timeout=timeout) as r:
        text = r.read().decode()
    event, payload = re.findall(r"event: (\w+)\ndata: (.*)", text)[-1]
    return event, json.loads(payload)


def press_stop(url: str, session_hash: str) -> int:
    """Stop, as the page sends it: straight to the server, past the queue (gradio_client queues every call, so
    its /stop waits, or is refused, behind a full queue). Returns the HTTP status."""
    import urllib.request

    body = json.dumps({"data": [], "session_hash": session_hash}).encode()
    request = urllib.request.Request(f"{url}gradio_api/run/stop", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_configure(config):
    # No network here or in CI: keep libraries from phoning home, and keep JAX on the CPU with a fixed device
    # count. (Before any test module imports JAX or Gradio.)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if not hasattr(config, "workerinput"):
        # The session's temporary files in a folder of its own, removed at its end, for the workers and everything
        # they start (servers, Chromium): gradio_client leaves an empty folder in the temporary folder for every
        # file it downloads (23,600 of them had piled up in /tmp), and Gradio's cache, /tmp/gradio by default,
        # outlives every server (each run's end walked all that earlier sessions had left there).
        config._ffn_tmp = tempfile.mkdtemp(prefix="ffn-tests-")
        os.environ["TMPDIR"] = config._ffn_tmp
        os.environ["GRADIO_TEMP_DIR"] = os.path.join(config._ffn_tmp, "gradio")
        # JAX's persistent compilation cache in that folder, empty at the start as on a fresh machine, for every
        # process of the session: a program one worker (or a server or command it starts) compiled, the others read
        # instead of compiling it again (the two workers and their servers compile many of the same shapes).
        os.environ["JAX_COMPILATION_CACHE_DIR"] = os.environ["FFN_CACHE_DIR"] = os.path.join(config._ffn_tmp, "jax")
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # ours take 0.05-3 s: keep every one
        os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
        tempfile.tempdir = None  # read TMPDIR again
    _one_ssl_context()


def pytest_unconfigure(config):
    if folder := getattr(config, "_ffn_tmp", None):
        shutil.rmtree(folder, ignore_errors=True)


def _one_ssl_context():
    """gradio_client opens a new httpx client for every file it uploads or downloads, and each builds an SSL
    context from certifi's bundle (~30 ms of CPU) even for a loopback http:// address: ~20 s of the suite's CPU.
    Here every client with the default settings shares one context (an SSLContext is made to be shared)."""
    import functools

    import httpx._transports.default as transports

    build = transports.create_ssl_context
    shared = functools.lru_cache(maxsize=4)(build)

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        if isinstance(verify, bool) and cert is None:
            return shared(verify, None, trust_env)
        return build(verify, cert, trust_env)

    transports.create_ssl_context = create_ssl_context


# The longest files, handed to the two workers first, so that neither is left with a long one while the other has
# nothing to do (the lesson, 13 s, was last), and in turns: one that mostly waits on a browser or a server, then one
# that computes, so the two workers' files mostly share the two cores rather than fight over them.
LONGEST_FIRST = ["test_browser.py", "test_table1.py", "test_app.py", "test_inverse.py", "test_bounds.py",
                 "test_train.py", "test_reliability.py", "test_lab1d.py", "test_first_hour.py", "test_ntk.py",
                 "test_inverse_app.py", "test_bench.py", "test_lesson.py", "test_analysis.py", "test_cli.py"]


def pytest_collection_modifyitems(items):
    """The files in `LONGEST_FIRST`'s order, then the rest as collected; each file's tests keep their order."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort


def smooth_image(size: int = 16) -> np.ndarray:
    """A smooth (size, size, 3) float32 colour image in [0.1, 0.9] with some detail: learnable in a few dozen steps.

    Red varies along x, green along y at twice the frequency, blue is the product x·y.
    """
    c = np.linspace(0, 1, size, endpoint=False)
    x, y = np.meshgrid(c, c)
    return np.stack([0.5 + 0.4 * np.sin(2 * np.pi * x), 0.5 + 0.4 * np.cos(4 * np.pi * y), x * y], -1).astype(np.float32)


@pytest.fixture(autouse=True)
def _server_speed_left_as_found():
    """The speed the pages learn from finished runs (`ffn.pages.common.SPEED`, one per server) as it was before the
    test: a test that swaps in a smaller trainer would otherwise teach it an absurd rate for the shapes asked (the
    Paper setting then looked like minutes of work), and later tests would read it."""
    common = sys.modules.get("ffn.pages.common")
    observed = dict(common.SPEED.observed) if common else None
    yield
    if common is not None:
        common.SPEED.observed.clear()
        common.SPEED.observed.update(observed)


@pytest.fixture(scope="session")
def image() -> np.ndarray:
    """`smooth_image()`, shared by every test of the session and read-only, so no test can change another's input."""
    picture = smooth_image()
    picture.flags.writeable = False
    return picture


@pytest.fixture(scope="session")
def server():
    """The app (every page), served on a free loopback port for the whole session: its URL, ending in '/'."""
    import app

    port = free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH)
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Visitors:
    """Opens the tests' pages, each a visitor (a page load is a browser session of the app, with its own state), in
    one browser context: the app's scripts and styles are fetched, compressed by the server and compiled by Chromium
    once per worker, not at every page (a fresh context per page cost the server ~0.2 s of CPU a page load)."""

    def __init__(self, context):
        self.context = context

    def new_page(self, viewport: dict):
        page = self.context.new_page()
        page.set_viewport_size(viewport)
        return page


@pytest.fixture(scope="session")
def browser(server):
    """Debian's Chromium, headless, driven by Playwright (skipped where either is missing): one per worker, each test
    in pages of its own (`Visitors`)."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage"])
        context = browser.new_context()
        yield Visitors(context)
        context.close()
        browser.close()


def choose(page, box, option: str):
    """Picks `option` in a Gradio dropdown (`box`: its input) as a visitor does, by clicking it in the list (typing
    and Enter picks whichever option the list shows at that moment: on a busy machine, not always the typed one)."""
    from playwright.sync_api import expect

    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)

