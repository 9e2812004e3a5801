"""Fourier Features Explorer: watch coordinate MLPs learn an image, with and without Fourier features.

This file assembles the pages (`ffn.pages`, one module each) into one Gradio app with a navbar, and serves it:
`python app.py` (see `--help`), or import `demo`. Every rule lives in `ffn.serve` and below.
"""

import argparse
import contextlib
import io
import threading

import gradio as gr

from ffn.core import config as configs
from ffn.core import train
from ffn.pages import about, common, images, inverse, lab, table1
from ffn.serve import env

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
            page.build(demo)
    demo.queue(max_size=env.MAX_QUEUE, default_concurrency_limit=env.CONCURRENT_RUNS)
    common.ADMISSION.queued = lambda session: _queued(demo, session)
    return demo


def _queued(demo: gr.Blocks, session: str) -> bool:
    """Whether `session` has an event waiting in Gradio's queue (a visitor whose job waits counts as busy)."""
    waiting = getattr(getattr(demo, "_queue", None), "event_queue_per_concurrency_id", {}).values()
    return any(event.session_hash == session for q in waiting for event in q.queue)


demo = build()

LAUNCH = dict(max_file_size="20mb", css=common.CSS, run_history=False,  # serves only its own files and assets
              state_session_capacity=env.STATE_SESSIONS)


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
    train.enable_compilation_cache(env.CACHE_DIR)
    warm = lambda: [train.warm_up(c) for c in (configs.CPU, configs.CLASS)]  # noqa: E731 (the presets' programs)
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
    demo.block_thread()


if __name__ == "__main__":
    main()
