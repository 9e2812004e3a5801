"""What every page shares: the server's admission and speed, the image box, error translation, long jobs.

The pages only lay out, wire and translate: a rule or a check lives in `ffn.serve` (or below), and a refusal
(`checks.Invalid`, any ValueError) reaches the visitor here as the page's error, with no traceback in the log.
"""

import contextlib
import functools
import inspect
import os
from collections.abc import Callable, Iterator

import gradio as gr

from ffn.core import config as configs
from ffn.core.cost import Speed
from ffn.pages import image_cache
from ffn.serve import admission, env, rules, stream

image_cache.install()  # before any page returns a picture
ASSETS = env.ROOT / "assets"
EXAMPLES = [ASSETS / name for name in ("cat.png", "text.png", "pattern.png", "astronaut.png", "coffee.png")]
_EXAMPLE_FILES = {os.path.realpath(p) for p in EXAMPLES}
SPEED = Speed()  # this server's measured training rate, shared by every visitor on purpose
ADMISSION = admission.Admission()  # one long job per visitor; the app tells it how to read Gradio's queue
CSS = """
#recon img, #replay-gallery img, #inverse-recon img, #inverse-measurements img { image-rendering: pixelated; }
#status { min-height: 3.2em; }
#examples button.gallery-item, #examples .gallery-item { width: 64px !important; height: 64px !important; }
#examples .gallery-item img { width: 64px !important; height: 64px !important; object-fit: cover; }
.caption-label { white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  max-width: 100% !important; }
#title h2 { font-size: 1.3em; margin: 0; }
#title p { margin: 0; }
/* Presentation mode (a class at the back of a room): controls folded away, results full width, text 18 px or more. */
.presentation #controls, .presentation #lesson, .presentation #title p { display: none !important; }
.presentation .prose, .presentation .prose *, .presentation .caption-label, .presentation label span,
.presentation button { font-size: 20px !important; }
.presentation .js-plotly-plot text { font-size: 18px !important; }
"""


def error(e: BaseException) -> gr.Error:
    """ffn's sentence as the page's error (no traceback: a refusal is not a fault)."""
    return gr.Error(str(e), print_exception=False)


def translated(fn: Callable) -> Callable:
    """`fn` with every ValueError (`checks.Invalid`, `data.ImageError`) raised as the page's error."""
    @functools.wraps(fn)
    def plain(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as e:
            raise error(e) from None
    return plain


def session(request: gr.Request | None) -> str:
    """The visitor: their browser session of this page (a direct call of a handler is 'anonymous')."""
    return getattr(request, "session_hash", None) or admission.ANONYMOUS


def uploaded_path(image) -> str:
    """`rules.uploaded_path` for this server: Gradio's upload folder and the bundled examples."""
    return rules.uploaded_path(image, gr.utils.get_upload_folder(), _EXAMPLE_FILES)


def preview(image, size, crop=False) -> tuple:
    """`rules.preview` for this server."""
    return rules.preview(image, gr.utils.get_upload_folder(), _EXAMPLE_FILES, size, crop)


def read_object(image, phantom_seed, size) -> tuple:
    """`rules.read_object` for this server: (the grey object, its name)."""
    return rules.read_object(image, phantom_seed, size, gr.utils.get_upload_folder(), _EXAMPLE_FILES)


def check_object(image, phantom_seed) -> None:
    """`rules.check_object` for this server."""
    rules.check_object(image, phantom_seed, gr.utils.get_upload_folder(), _EXAMPLE_FILES)


def check_image(image_path):
    """(box, note) for a new image: a file that is no usable image leaves the box (the browser could only draw a
    broken picture of it) and the note gives ffn.core.data's sentence; a usable one clears the note.

    An answer, not a gr.Error: Gradio 6.31 shows nothing for the error of a queue=False event.
    """
    if image_path is None:  # cleared, by the visitor or by this check
        return gr.skip(), gr.skip()
    try:
        rules.read_image(uploaded_path(image_path), rules.SIZES[0])
    except ValueError as e:
        return None, f"⚠️ That file was not used: {e} Choose another file or an example."
    return gr.skip(), ""


def image_input(**kwargs) -> gr.Image:
    """An image box (upload, drag and drop, paste) with a note under it that says at once when a file is no usable
    image (`check_image`).

    gr.Image decodes uploads with PIL in its preprocessing, so a broken file would fail inside Gradio with a
    traceback and a bare "Error". Every event that takes this box has `preprocess=False` and gets the upload's
    FileData as sent, which `uploaded_path` resolves and `ffn.core.data` alone decodes. (Overriding `preprocess` on the
    instance is not enough: Gradio rebuilds a component it has updated for a session, without the override.)
    """
    box = gr.Image(type="filepath", **kwargs)
    note = gr.Markdown(elem_id=f"{kwargs.get('elem_id', 'image')}-note")
    # On change, not upload: an example picked after a refused file clears the note too.
    box.change(check_image, box, [box, note], queue=False, show_progress="hidden", api_visibility="private",
               preprocess=False)
    return box


def verdicts(params: list[str], check: Callable[[], object]) -> list:
    """Gradio validator answers: one gr.validate per input, the refused one carrying the message."""
    try:
        check()
    except ValueError as e:
        where = getattr(e, "param", None)
        where = where if where in params else params[0]
        return [gr.validate(p != where, str(e) if p == where else "") for p in params]
    return [gr.validate(True, "") for _ in params]


def validator(handler: Callable, check: Callable, param: str = "image_path", claim: bool = True) -> Callable:
    """Gradio's validator for a long job: checks its values when it is asked for, before it joins the queue, so a
    mistake is answered at once (the page marks the box at fault) instead of after the jobs ahead of it, and lets
    each visitor have one long job queued or running (`Admission.claim`).

    `check(*values)` takes the handler's values but its request; the handler checks everything again, for callers
    that skip this (direct calls, tests). It takes the handler's signature, so Gradio hands it what it hands the
    handler. With `claim=False` it checks that the visitor has no job, without claiming (for a quick event that
    leads to the job).
    """
    names = [n for n in inspect.signature(handler).parameters if n != "request"]

    def validate(*values):
        request = next((v for v in values if isinstance(v, gr.Request)), None)
        values = [v for v in values if not isinstance(v, gr.Request)]
        admit = ADMISSION.claim if claim else ADMISSION.check
        return verdicts(names[: len(values)], lambda: (check(*values), admit(session(request), param)))

    validate.__signature__ = inspect.signature(handler)
    validate.__annotations__ = handler.__annotations__
    return validate


@contextlib.contextmanager
def refused(request: gr.Request | None):
    """Around a long job's checks in its handler: a refusal frees the visitor's claim (not when the refusal is that
    they already have a job: that one keeps its place) and reaches the page."""
    try:
        yield
    except ValueError as e:
        if not isinstance(e, admission.Busy):
            ADMISSION.release(session(request))
        raise error(e) from None


@contextlib.contextmanager
def job(request: gr.Request | None, param: str):
    """A job that claims its place when it starts (a view computed from the visitor's run: its inputs are no boxes
    a validator could mark): refused with a sentence while the visitor has another; yields its Stop flag."""
    ADMISSION.claim(session(request), param)
    with ADMISSION.running(session(request)) as flag:
        yield flag


@contextlib.contextmanager
def running(request: gr.Request | None) -> Iterator:
    """Around the whole of a long job's handler, its last update included (so that a server shutting down waits
    until every visitor has had it); yields the job's Stop flag."""
    with ADMISSION.running(session(request)) as flag:
        yield flag


def updates(snapshots: Iterator, flag) -> Iterator[stream.Update]:
    """A long job's updates (`stream.stream`) until it ends, Stop, the time limit or the server's shutdown."""
    return stream.stream(snapshots, flag, rules.CAPS.seconds, closing=ADMISSION.closing)


def redraw(triggers: list, fn: Callable, inputs, outputs) -> None:
    """`fn(*inputs)` into `outputs` whenever any of `triggers` fires, as one cheap private event (queue=False, values
    as sent: `fn` checks them): while its answer is pending a new trigger waits, then it runs once more with the
    latest values. (One event per trigger let an earlier answer land after a later one's: a stale plan or note.)"""
    gr.on(triggers, fn, inputs, outputs, queue=False, trigger_mode="always_last", show_progress="hidden",
          api_visibility="private", preprocess=False)


def stop(request: gr.Request):
    """Asks this visitor's jobs in progress to end after the chunk at hand; each then offers what it has.
    Only the caller's own session is reached, and a Stop with nothing in progress does nothing."""
    ADMISSION.stop(session(request))


def stop_button(label: str = "Stop", elem_id: str | None = None, api_name: str = "stop") -> gr.Button:
    """A Stop button for this page's long jobs (a `queue=False` event: it must not wait behind the job)."""
    button = gr.Button(label, variant="stop", elem_id=elem_id)
    button.click(stop, None, None, queue=False, api_name=api_name,
                 api_visibility="public" if api_name == "stop" else "private")
    return button


def network_controls(values: dict, seed_label: str = "Seed") -> tuple:
    """The settings every training page offers beyond its own: more mapping specs, depth, width, mapping size and
    seed, at `values` (a page's `page_values`). Returns (extra, depth, width, features, seed)."""
    extra = gr.Textbox(value=values["extra"], label="More mappings (specs)", placeholder="e.g. gauss:7 posenc:5 none@1e-2",
                       info="none, basic, posenc:S, gauss:σ, each optionally @LR")
    with gr.Row():
        depth = gr.Slider(2, rules.CAPS.depth, value=values["depth"], step=1, label="Depth (layers)")
        width = gr.Dropdown(list(rules.WIDTHS), value=values["width"], label="Width")
    with gr.Row():
        features = gr.Dropdown(list(rules.FEATURES), value=values["features"], label="Mapping size m (features)")
        seed = gr.Number(value=values["seed"], precision=0, label=seed_label, minimum=0,
                         maximum=configs.LIMITS["seed"][2])
    return extra, depth, width, features, seed
