"""Fourier Features Explorer: watch coordinate MLPs learn an image, with and without Fourier features.

A thin Gradio shell over the `ffn` package: this file builds the page, checks what arrives from it and
streams the trainer's snapshots back. Run `python app.py` (see `--help`), or import `demo`.
"""

import argparse
import math
import os
import pathlib
import shutil
import tempfile
import threading
import time

import gradio as gr
import numpy as np

from ffn import config as configs
from ffn import cost, data, mappings, report, train

ROOT = pathlib.Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
EXAMPLES = [ASSETS / name for name in ("cat.png", "text.png", "pattern.png", "astronaut.png", "coffee.png")]
PAPER_URL = "https://arxiv.org/abs/2006.10739"
UPDATES_PER_SECOND = 3  # streamed page updates at most; each costs the trainer ~0.1 s of waiting
MAX_QUEUE = int(os.environ.get("FFN_MAX_QUEUE", 16))  # runs waiting beyond this are refused ("queue is full")
CONCURRENT_RUNS = int(os.environ.get("FFN_CONCURRENT_RUNS", 1))  # one run already uses every CPU core
RUNS_DIR = pathlib.Path(tempfile.gettempdir()) / "ffn-runs"  # per-run output folders, removed after the run

# What a click on "CPU quick look" sets, and the page's defaults: a run that ends in about a minute on a
# 2-core CPU and still shows the paper's point (see README.md for the measured numbers).
QUICK = configs.CPU
PAPER = configs.PAPER
QUICK_CHOICES = ("none", "basic", "posenc", "custom", "gauss:10")  # QUICK's mappings as the page's choices
QUICK_SIGMA = 2.5  # the custom σ of QUICK: right for 128 px (mappings.suggested_sigma)
PAPER_CHOICES = ("none", "basic", "posenc", "gauss:1", "gauss:10", "gauss:100")  # the original demo's set

# The mapping choices: (label, spec). "custom" stands for gauss at the σ slider's value.
CHOICES = [
    ("No mapping", "none"),
    ("Basic", "basic"),
    ("Positional encoding", "posenc"),
    ("Gaussian σ=1", "gauss:1"),
    ("Gaussian σ=10", "gauss:10"),
    ("Gaussian σ=100", "gauss:100"),
    ("Gaussian, custom σ ↓", "custom"),
]
SIZES = [64, 96, 128, 192, 256, 384, 512]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]


def image_input(**kwargs) -> gr.Image:
    """An image box (upload, drag and drop, paste) that hands the handler the uploaded file unopened.

    gr.Image decodes uploads with PIL before any handler runs, so a broken file would fail inside Gradio
    with a generic error; here `ffn.data` decodes it and says what is wrong. (Overridden on the instance:
    a subclass of a Gradio component makes Gradio write a .pyi file beside this one.)
    """
    box = gr.Image(type="filepath", **kwargs)
    box.preprocess = lambda payload: None if payload is None else payload.path
    return box


# --- What the page sends, checked and turned into a Config ------------------------------------------------------


def posenc_scale(size: int) -> float:
    """The positional-encoding S that suits a resolution: 6 at 512 px (the paper), one less per halving."""
    return max(1.0, round(6 + math.log2(size / 512)))


def resolve_specs(selected, sigma_log10, extra, size) -> tuple[str, ...]:
    """The page's mapping choices as spec strings; 'custom' becomes gauss at 10**sigma_log10."""
    if selected is None:
        selected = []
    if isinstance(selected, str):
        selected = [selected]
    if not isinstance(selected, (list, tuple)):
        raise ValueError("Mappings must be a list of choices such as ['none', 'gauss:10'].")
    specs = []
    for choice in selected:
        if choice == "custom":
            specs.append(f"gauss:{custom_sigma(_number(sigma_log10, 'Custom σ (log₁₀)', -2, 3)):g}")
        elif choice == "posenc":
            specs.append(f"posenc:{posenc_scale(size):g}")
        else:
            specs.append(choice)
    if extra is not None and not isinstance(extra, str):
        raise ValueError("More mappings must be text, e.g. 'gauss:7 none@1e-2'.")
    specs += (extra or "").replace(",", " ").split()
    if not specs:
        raise ValueError("Choose at least one mapping to train.")
    return tuple(dict.fromkeys(mappings.parse(s).spec for s in specs))  # canonical, duplicates dropped


def custom_sigma(sigma_log10: float) -> float:
    """σ from the log-scale slider, to two significant digits (10**0.4 -> 2.5)."""
    return float(f"{10 ** sigma_log10:.2g}")


def _number(value, name, low, high) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number between {low:g} and {high:g} (got {value!r}).")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g} (got {value:g}).")
    return float(value)


def make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed) -> configs.Config:
    """A checked Config from the page's values (ValueError with a sentence when one is wrong)."""
    size = data.check_size(size)
    specs = resolve_specs(selected, sigma_log10, extra, size)
    if paper_lr:  # the paper's 1e-2 for `none` and `basic` on natural images, unless a spec has its own
        specs = tuple(f"{s}@0.01" if s in ("none", "basic") else s for s in specs)
    if isinstance(lr, str):  # the learning-rate box also takes typed values
        try:
            lr = float(lr)
        except ValueError:
            raise ValueError(f"Learning rate must be a number such as 0.001 (got '{lr[:20]}').") from None
    lr = _number(lr, "Learning rate", 1e-6, 1)
    return configs.Config(mappings=specs, size=size, iters=iters, lr=lr, depth=depth, width=width,
                          features=features, seed=seed, every=QUICK.every)


# --- Cost and advice, shown before a run --------------------------------------------------------------------------

_rate = {"gflops": None}  # achieved GFLOP/s on this machine: a property of the server, shared on purpose


def achieved_gflops() -> float:
    """The trainer's FLOP rate here: measured by the last run, else 80% of a quick matmul measurement."""
    if _rate["gflops"] is None:
        _rate["gflops"] = 0.8 * cost.matmul_gflops(512, repeats=3)
    return _rate["gflops"]


def describe_plan(*values) -> str:
    """Markdown: what a run with these settings will do, how long it should take, and what to expect."""
    try:
        config = make_config(*values)
    except ValueError as e:
        return f"⚠️ {e}"
    seconds = cost.estimate_seconds(config, achieved_gflops(), efficiency=1.0)
    lines = [f"**{len(config.mappings)} mapping(s)** × {config.iters} steps at {config.size}×{config.size} px: "
             f"about **{_duration(seconds)}** here ({cost.run_flops(config) / 1e12:.1f} TFLOP)."]
    if seconds > 300:
        lines.append("That is long for this machine: try fewer steps, a smaller image or fewer mappings.")
    lines += [f"⚠️ {w}" for m in config.parsed if (w := mappings.overfit_warning(m, config.size))]
    return "  \n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


# --- Training, streamed -----------------------------------------------------------------------------------------

_stops: dict[str, threading.Event] = {}  # session -> its Stop flag; only the flag, never results, is kept here
_stops_lock = threading.Lock()


def _stop_flag(request: gr.Request | None) -> threading.Event:
    key = getattr(request, "session_hash", None) or "anonymous"
    with _stops_lock:
        return _stops.setdefault(key, threading.Event())


def stop(request: gr.Request):
    """Asks this visitor's run to end after the chunk in progress; the run then offers its downloads."""
    _stop_flag(request).set()


def forget_session(request: gr.Request):
    with _stops_lock:
        _stops.pop(getattr(request, "session_hash", None) or "anonymous", None)


def gallery(history: report.History, snap: train.Snapshot):
    """Reconstructions (captioned with the current test PSNR) and the ground truth."""
    items = [(snap.images[s], report.caption(s, snap.test_psnr[s])) for s in history.config.mappings]
    return items + [(history.ground_truth, "ground truth")]


def status(snap: train.Snapshot, rate: float | None, note: str = "") -> str:
    """Markdown status line: step, speed, time left (or taken), divergence, the best mapping so far."""
    parts = [f"**step {snap.step} / {snap.iters}**"]
    if snap.step == 0 and not note:
        parts.append("compiling… (the first chunk is slow, later ones are fast)")
    elif rate:
        left = (snap.iters - snap.step) / rate
        parts += [f"{rate:.1f} steps/s", f"{_duration(left)} left" if not note else f"{_duration(snap.elapsed)} in all"]
    if snap.diverged:
        parts.append("diverged: " + ", ".join(snap.diverged) + " (try a lower learning rate)")
    finite = {s: v for s, v in snap.test_psnr.items() if math.isfinite(v)}
    if finite and snap.step:
        best = max(finite, key=finite.get)
        parts.append(f"best test PSNR: {best} {finite[best]:.2f} dB")
    return " · ".join(parts) + (f"  \n{note}" if note else "")


def train_run(image_path, selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed,
              request: gr.Request = None):
    """Streams (status, gallery, train plot, test plot, downloads, video) while every mapping trains."""
    try:
        config = make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed)
        if image_path is None:
            raise ValueError("Pick an example or upload an image first.")
        image = data.load_image(image_path, config.size)
    except ValueError as e:  # data.ImageError is a ValueError
        raise gr.Error(str(e), print_exception=False) from None

    flag = _stop_flag(request)
    flag.clear()
    name = pathlib.Path(image_path).stem if isinstance(image_path, str) else "image"
    history = report.History(config, image, name)
    run = train.run(image, config)
    last_yield, rate, note = 0.0, None, ""
    try:
        for snap in run:
            history.add(snap)
            if snap.step > 0 and snap.train_seconds > 0:
                rate = snap.step / snap.train_seconds
            if flag.is_set():
                note = f"Stopped at step {snap.step}."
                break
            now = time.perf_counter()
            if snap.done or now - last_yield >= 1 / UPDATES_PER_SECOND:
                last_yield = now
                if not snap.done:
                    yield (status(snap, rate), gallery(history, snap), *history.figures(), None, None)
    finally:
        run.close()  # a closed page or a Stop: no more chunks run
    if rate:
        _rate["gflops"] = cost.iteration_flops(config) * rate / 1e9
    out = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=_runs_dir()))
    try:
        paths = report.write_outputs(out, history)
        files = [str(paths[k]) for k in ("training.mp4", "comparison.png", "metrics.json", "metrics.csv")]
        snap = history.last
        yield (status(snap, rate, note or "Done."), gallery(history, snap), *history.figures(), files,
               str(paths["training.mp4"]))
    finally:
        shutil.rmtree(out, ignore_errors=True)  # Gradio has copied what it serves into its own cache


def _runs_dir() -> pathlib.Path:
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    return RUNS_DIR


def check_image(image_path):
    """Says at once, on upload, when a file is no usable image (Train would refuse it too)."""
    if image_path is not None:
        try:
            data.decode_image(image_path)
        except ValueError as e:
            raise gr.Error(str(e), print_exception=False) from None


# --- The page ---------------------------------------------------------------------------------------------------

INTRO = f"""
# Fourier Features Explorer
A small network that maps a pixel's coordinates (x, y) to its colour learns smooth images easily but
struggles with fine detail: it has a **spectral bias** towards low frequencies. Tancik et al.
([NeurIPS 2020]({PAPER_URL})) show that passing the coordinates through **Fourier features**,
γ(v) = [sin 2πBv, cos 2πBv], lets the same network learn high frequencies. Pick an image and some
mappings, press **Train**, and watch.
"""

EXPLAIN = """
**What a mapping is.** The network sees γ(v) instead of the raw coordinates v ∈ [0, 1)². *No mapping*
gives it v itself; *basic* gives [sin 2πv, cos 2πv]; *positional encoding* uses axis-aligned frequencies
1 … 2^S − 1; *Gaussian* draws the rows of B from N(0, σ²). All Gaussian mappings of a run share one
random draw, so they differ only in σ.

**Why σ matters.** σ sets the frequencies the network can use, in cycles per image side. Too small and
the result is blurry (under-fitting); too large and the network fits every training pixel with noise in
between (over-fitting). The right σ grows with the image's resolution: about 10 suits a 512 px photo,
about 2.5 a 128 px one.

**Train vs test PSNR.** As in the paper, the networks train on every other pixel ([::2, ::2]) and are
tested on the pixels in between ([1::2, 1::2]). High train PSNR with low test PSNR means memorising, not
learning the image. PSNR = −10·log₁₀(MSE) on values in [0, 1]; higher is better.
"""

CSS = """
#recon img { image-rendering: pixelated; }
#status { min-height: 3.2em; }
"""


def build() -> gr.Blocks:
    with gr.Blocks(title="Fourier Features Explorer", delete_cache=(3600, 7200)) as blocks:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                image = image_input(label="Image (upload, drop or paste)", sources=["upload", "clipboard"],
                                   height=240, elem_id="image-input", format="png")
                gr.Examples(examples=[[str(p)] for p in EXAMPLES], inputs=[image], label="Examples: click one",
                            examples_per_page=len(EXAMPLES))
                selected = gr.CheckboxGroup(CHOICES, value=list(QUICK_CHOICES), label="Mappings to compare",
                                            elem_id="mappings")
                sigma = gr.Slider(-1, 2.5, value=round(math.log10(QUICK_SIGMA), 2), step=0.05, label="Custom σ (log₁₀ scale)",
                                  info=f"σ = {QUICK_SIGMA:g}", elem_id="sigma")
                with gr.Row():
                    size = gr.Dropdown(SIZES, value=QUICK.size, label="Resolution (px)", elem_id="size")
                    iters = gr.Slider(25, 5000, value=QUICK.iters, step=25, label="Iterations", elem_id="iters")
                with gr.Row():
                    lr = gr.Dropdown(LEARNING_RATES, value=QUICK.lr, label="Learning rate", allow_custom_value=True)
                    paper_lr = gr.Checkbox(value=False, label="Paper's lr for none/basic (1e-2)")
                with gr.Row():
                    quick = gr.Button("CPU quick look", size="sm")
                    paper = gr.Button("Paper setting (512 px, 2000 steps)", size="sm")
                plan = gr.Markdown(elem_id="plan")
                with gr.Row():
                    start = gr.Button("Train", variant="primary", elem_id="train")
                    halt = gr.Button("Stop", variant="stop", elem_id="stop")
                with gr.Accordion("Advanced", open=False):
                    extra = gr.Textbox(label="More mappings (specs)", placeholder="e.g. gauss:7 posenc:5 none@1e-2",
                                       info="none, basic, posenc:S, gauss:σ, each optionally @LR")
                    with gr.Row():
                        depth = gr.Slider(2, 8, value=QUICK.depth, step=1, label="Depth (layers)")
                        width = gr.Dropdown([32, 64, 128, 256, 512], value=QUICK.width, label="Width")
                    with gr.Row():
                        features = gr.Dropdown([16, 32, 64, 128, 256, 512], value=QUICK.features,
                                               label="Mapping size m (features)")
                        seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
            with gr.Column(scale=5):
                state = gr.Markdown("Pick an image and press **Train**.", elem_id="status")
                recon = gr.Gallery(label="Reconstructions (test PSNR) and ground truth", columns=4, height="auto",
                                   object_fit="contain", format="png", elem_id="recon", allow_preview=True)
                with gr.Row():
                    train_plot = gr.Plot(label="Train PSNR", show_label=False, elem_id="train-plot")
                    test_plot = gr.Plot(label="Test PSNR", show_label=False, elem_id="test-plot")
                with gr.Row():
                    video = gr.Video(label="Convergence video", elem_id="video", height=240)
                    files = gr.File(label="Downloads", file_count="multiple", elem_id="downloads")
                with gr.Accordion("What am I looking at?", open=False):
                    gr.Markdown(EXPLAIN)

        settings = [selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, seed]
        for control in settings:
            control.change(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private")
        blocks.load(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private")
        sigma.change(lambda s: gr.update(info=f"σ = {custom_sigma(s):g}"), sigma, sigma, queue=False,
                     show_progress="hidden", api_visibility="private")
        image.upload(check_image, image, None, queue=False, api_visibility="private")

        def preset(c: configs.Config, choices, sigma_value):
            return [gr.update(value=v) for v in (list(choices), round(math.log10(sigma_value), 2), c.size, c.iters,
                                                   c.lr, c.depth, c.width, c.features)]

        preset_outputs = [selected, sigma, size, iters, lr, depth, width, features]
        quick.click(lambda: preset(QUICK, QUICK_CHOICES, QUICK_SIGMA), None, preset_outputs, queue=False,
                    api_visibility="private")
        paper.click(lambda: preset(PAPER, PAPER_CHOICES, 10), None, preset_outputs, queue=False,
                    api_visibility="private")

        start.click(
            train_run, [image] + settings, [state, recon, train_plot, test_plot, files, video], api_name="train",
            concurrency_limit=CONCURRENT_RUNS, concurrency_id="train", show_progress="minimal", show_progress_on=[state])
        halt.click(stop, None, None, queue=False, api_name="stop")
        blocks.unload(forget_session)
    blocks.queue(max_size=MAX_QUEUE, default_concurrency_limit=CONCURRENT_RUNS)
    return blocks


demo = build()

LAUNCH = dict(max_file_size="20mb", css=CSS, run_history=False)  # serves only its own files and assets


def main(argv=None):
    p = argparse.ArgumentParser(description="Fourier Features Explorer: serve the app.")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to listen on")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port")
    p.add_argument("--share", action="store_true", help="also make a public link (needs the internet)")
    args = p.parse_args(argv)
    _, local_url, share_url = demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                                          prevent_thread_lock=True, quiet=True, **LAUNCH)
    print(f"Fourier Features Explorer is serving at {local_url}", flush=True)
    if args.share:
        if share_url:
            print(f"Public link: {share_url}", flush=True)
        else:
            print("Could not make a public link (no internet connection?); still serving locally at "
                  f"{local_url}", flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
