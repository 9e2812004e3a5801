"""The About page: this server's hardware, measured speed and limits, and how a run is kept private."""

import gradio as gr

from ffn.pages import common
from ffn.serve import env, rules

PRIVACY = """
**What protects your run.** Each browser session of a page has its own random session id, which the server
never shows to anyone else; your run, its pictures and its downloads are kept for that session only (an hour
after its last use at most) and its output folder is removed when the downloads are copied. **Stop** reaches only
the jobs of the session that presses it. Uploaded images are opened only by this app's own decoder, and no file
of the server is ever read on request.
"""


def limits() -> str:
    return rules.limits_text(rules.CAPS, common.SPEED, env.CONCURRENT_RUNS, env.MAX_QUEUE)


def build(demo: gr.Blocks) -> None:
    gr.Markdown("## About this server")
    footer = gr.Markdown(elem_id="server-limits")
    gr.Markdown(PRIVACY)
    demo.load(limits, None, footer, queue=False, api_visibility="private")
