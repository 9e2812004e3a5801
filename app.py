"""Fourier Features Explorer: watch coordinate MLPs learn an image, with and without Fourier features.

This file assembles the pages (`ffn.pages`, one module each) into one Gradio app with a navbar, and serves it:
`python app.py` (see `--help`), or import `demo`. Every rule lives in `ffn.serve` and below.
"""

import argparse
import contextlib
import io
import os
import signal
import threading
import time

import gradio as gr
from starlette.middleware import Middleware

from ffn.core import config as configs
from ffn.core import train
from ffn.pages import about, common, images, inverse, lab, table1
from ffn.serve import disk, env, gate

PAGES = (  # (navbar name, path, module); the first is the landing page
    ("Images", "", images),
    ("1D lab", "lab", lab),
    ("Inverse problems: CT and MRI", "inverse", inverse),
    ("Paper's Table 1", "table1", table1),
    ("About this server", "about", about),
)


def build() -> gr.Blocks:
    """One Blocks, one queue, one server; each page a route of its own with its own URL."""
    with gr.Blocks(title="Fourier Features Explorer", delete_cache=(3600, 7200)) as demo:
        gr.Navbar(main_page_name=PAGES[0][0])
        PAGES[0][2].build(demo)
    for name, path, page in PAGES[1:]:
        with demo.route(name, path):
            gr.Navbar(main_page_name=PAGES[0][0])  # each page draws its own navbar: the same names on every one
            page.build(demo)
    demo.queue(max_size=env.MAX_QUEUE, default_concurrency_limit=env.CONCURRENT_RUNS)
    common.ADMISSION.queued = lambda session: _queued(demo, session)
    return demo


def _queued(demo: gr.Blocks, session: str) -> bool:
    """Whether `session` has an event waiting in Gradio's queue (a visitor whose job waits counts as busy)."""
    waiting = getattr(getattr(demo, "_queue", None), "event_queue_per_concurrency_id", {}).values()
    return any(event.session_hash == session for q in waiting for event in q.queue)


demo = build()

def _events() -> dict[int, int]:
    """{fn_index: inputs} of the events a client may call: those that run on the server (not the browser-only ones);
    Gradio's example loaders (-1: one whole number) take only an example's index."""
    return {i: -1 if fn.name == "load_example" else len(fn.inputs) for i, fn in demo.fns.items() if fn.fn is not None}


LAUNCH = dict(max_file_size=f"{gate.MAX_FILE_MB}mb", css=common.CSS, run_history=False,  # only its own files
              state_session_capacity=env.STATE_SESSIONS,
              app_kwargs={"middleware": [Middleware(gate.Gate, events=_events)]})  # uploads and calls, checked


def main(argv=None):
    host, port = env.listen_address()
    p = argparse.ArgumentParser(description="Fourier Features Explorer: serve the app.")
    p.add_argument("--host", default=host, help="address to listen on (on a Hugging Face Space: 0.0.0.0)")
    p.add_argument("--port", type=int, default=port, help="port")
    p.add_argument("--share", action="store_true", help="also make a public link (needs the internet; not on a Space)")
    args = p.parse_args(argv)
    share = args.share and not env.space_id()  # a Space is public already; Gradio ignores share there
    # Compiled programs survive restarts on disk, and the presets' programs compile while the page loads,
    # so the first Train click starts at once (docs/performance.md).
    disk.remove_leftovers()  # the run folders of a server that was killed (never a live one's)
    train.enable_compilation_cache(env.CACHE_DIR)
    warm = lambda: [train.warm_up(c) for c in (configs.CPU, configs.CLASS)]  # noqa: E731 (the presets' programs)
    if env.WARM_UP:
        threading.Thread(target=warm, name="warm-up", daemon=True).start()
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # Gradio's own lines, including a long one when sharing fails
        _, local_url, share_url = demo.launch(server_name=args.host, server_port=args.port, share=share,
                                              prevent_thread_lock=True, quiet=True, **LAUNCH)
    print(f"Fourier Features Explorer is serving at {local_url} ({env.hardware()})", flush=True)
    if args.share and env.space_id():
        print("On a Hugging Face Space the app is public already: no share link is made.", flush=True)
    elif share and share_url:
        print(f"Public link: {share_url}", flush=True)
    elif share:
        print(f"Could not make a public link (no internet connection?); still serving locally at {local_url}",
              flush=True)
    elif chatter.getvalue().strip():
        print(chatter.getvalue().strip(), flush=True)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _shut_down)
    demo.block_thread()


def _shut_down(signum, frame, patience: float = 30.0):
    """SIGTERM or SIGINT: every job is asked to end (each streams its results so far with a sentence saying why),
    the server waits up to `patience` seconds for them, removes its run folders, and exits."""
    print(f"Shutting down ({signal.Signals(signum).name}): stopping {common.ADMISSION.shut_down()} job(s)…", flush=True)
    deadline = time.monotonic() + patience
    while common.ADMISSION.running_jobs() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # the jobs' last updates reach their visitors, and the downloads they start finish
    demo.close()
    disk.remove_own()
    print("Stopped.", flush=True)
    os._exit(0)  # not sys.exit: raised in the main thread it would unwind under the trainer's native threads


if __name__ == "__main__":
    main()
