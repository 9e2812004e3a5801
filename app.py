"""Fourier Features Explorer: watch coordinate MLPs learn an image, with and without Fourier features.

A thin Gradio shell over the `ffn` package: this file builds the page, checks what arrives from it and
streams the trainer's snapshots back. Run `python app.py` (see `--help`), or import `demo`.
"""

import argparse
import contextlib
import inspect
import io
import math
import numbers
import os
import pathlib
import shutil
import tempfile
import threading
import time
from typing import NamedTuple

import gradio as gr
import numpy as np

from ffn import analysis, images, paper, plots, report, sweep, train
from ffn import config as configs
from ffn import cost, data, mappings

ROOT = pathlib.Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
EXAMPLES = [ASSETS / name for name in ("cat.png", "text.png", "pattern.png", "astronaut.png", "coffee.png")]
PAPER_URL = "https://arxiv.org/abs/2006.10739"
UPDATES_PER_SECOND = 3  # streamed page updates at most; each costs the trainer ~0.1 s of waiting
MAX_QUEUE = int(os.environ.get("FFN_MAX_QUEUE", 16))  # runs waiting beyond this are refused ("queue is full")
CONCURRENT_RUNS = int(os.environ.get("FFN_CONCURRENT_RUNS", 1))  # one run already uses every CPU core
# Visitors whose page state (and finished run, for the views) the server keeps; the oldest beyond are forgotten.
# Gradio keeps 10000 by default, and a session holds ~1 MB of page state plus its run (~10 MB at 512 px): scripts
# that open a new session per call would otherwise fill the memory.
STATE_SESSIONS = int(os.environ.get("FFN_STATE_SESSIONS", 200))
RUNS_DIR = pathlib.Path(tempfile.gettempdir()) / "ffn-runs"  # per-run output folders, removed after the run

# What a click on "CPU quick look" sets, and the page's defaults: a run that ends well within a minute on a
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
CHOICE_VALUES = [spec for _, spec in CHOICES]
# The page's other limits. An API caller is held to the same ones (gradio_client skips the widgets).
SIGMA_LOG10 = (-1.0, 2.5)  # the custom-σ slider, log₁₀ scale
MAX_ITERS = 5000
DEPTHS = (2, 8)
WIDTHS = [32, 64, 128, 256, 512]
FEATURES = [16, 32, 64, 128, 256, 512]
MAX_SEED = configs.LIMITS["seed"][1]
MAX_EXTRA = 400  # characters of "More mappings"
MAX_RUN_GB = float(os.environ.get("FFN_MAX_RUN_GB", 8))  # estimated memory of one run (cost.memory_bytes) at most


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
    if not isinstance(selected, (list, tuple)) or len(selected) > len(CHOICES):
        raise Refused(f"selected (the mappings to compare) must be a list of choices such as ['none', 'gauss:10'] "
                      f"(got {_shown(selected)}).", "selected")
    sigma = custom_sigma(_real(sigma_log10, "sigma_log10 (custom σ, log₁₀ scale)", *SIGMA_LOG10))
    specs = []
    for choice in selected:
        if not isinstance(choice, str) or choice not in CHOICE_VALUES:
            raise Refused(f"selected: {_shown(choice)} is not one of {', '.join(CHOICE_VALUES)}; "
                          "other mappings go in extra, e.g. 'gauss:7 posenc:5'.", "selected")
        if choice == "custom":
            specs.append(f"gauss:{sigma:g}")
        elif choice == "posenc":
            specs.append(f"posenc:{posenc_scale(size):g}")
        else:
            specs.append(choice)
    if extra is not None and not isinstance(extra, str) or len(extra or "") > MAX_EXTRA:
        raise Refused(f"extra (more mappings) must be text of at most {MAX_EXTRA} characters, e.g. "
                      f"'gauss:7 none@1e-2' (got {_shown(extra)}).", "extra")
    specs += (extra or "").replace(",", " ").split()
    if not specs:
        raise Refused("Choose at least one mapping to train.", "selected")
    try:
        return tuple(dict.fromkeys(mappings.parse(s).spec for s in specs))  # canonical, duplicates dropped
    except ValueError as e:  # the choices are valid specs, so the typed ones are wrong
        raise Refused(str(e), "extra") from None


def custom_sigma(sigma_log10: float) -> float:
    """σ from the log-scale slider, to two significant digits (10**0.4 -> 2.5)."""
    return float(f"{10 ** sigma_log10:.2g}")


# What arrives is what was sent: the train and sweep events skip Gradio's preprocessing (see `build`), since a
# script can send anything (strings, lists, None, NaN, 10**400) and Gradio's own checks then fail with a bare
# "error". So each value is checked here, type first, against what the page's widgets allow: by the events'
# validators before a run joins the queue (validate_train), and again by the handlers.


class Refused(ValueError):
    """A value the app will not take; `param` names the API parameter it is about (the page marks that box)."""

    def __init__(self, message: str, param: str):
        super().__init__(message)
        self.param = param


def _shown(value) -> str:
    """A short repr of a refused value, for the message."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        return "a huge number"
    return text if len(text) <= 40 else text[:37] + "…"


def _real(value, name, low, high, param=None) -> float:
    """A number (not a bool) in [low, high]; NaN and infinities fail the range test."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise Refused(f"{name} must be a number between {low:g} and {high:g} (got {_shown(value)}).",
                      param or name.split()[0])
    return float(value)


def _whole(value, name, low, high) -> int:
    """A whole number in [low, high]; whole floats (3.0) pass, as sliders send them."""
    sent = value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise Refused(f"{name} must be a whole number between {low} and {high} (got {_shown(sent)}).", name.split()[0])
    if not low <= value <= high:
        raise Refused(f"{name} must be between {low} and {high} (got {_shown(sent)}).", name.split()[0])
    return int(value)


def _choice(value, name, allowed, unit="") -> int:
    """One of the page's numeric choices (64.0 counts as 64)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value not in allowed:
        raise Refused(f"{name} must be one of {', '.join(map(str, allowed))}{unit} (got {_shown(value)}).",
                      name.split()[0])
    return int(value)


def check_memory(config: configs.Config) -> configs.Config:
    """Refuses a run whose estimated memory is past MAX_RUN_GB: one such run would take the server down."""
    needed = cost.memory_bytes(config) / 1e9
    if needed > MAX_RUN_GB:
        raise Refused(f"This run would need about {needed:.0f} GB of memory and this server allows "
                      f"{MAX_RUN_GB:g} GB per run: use fewer mappings, a smaller image, fewer features or a "
                      "smaller network.", "size")
    return config


def make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed,
                model="relu", w0=30.0) -> configs.Config:
    """A checked Config from the page's values as sent (ValueError with a sentence when one is wrong)."""
    size = _choice(size, "size (resolution)", SIZES, " px")
    specs = resolve_specs(selected, sigma_log10, extra, size)
    if paper_lr is not None and not isinstance(paper_lr, bool):
        raise Refused(f"paper_lr (the paper's lr for none/basic) must be true or false (got {_shown(paper_lr)}).",
                      "paper_lr")
    if paper_lr:  # the paper's 1e-2 for `none` and `basic` on natural images, unless a spec has its own
        specs = tuple(f"{s}@0.01" if s in ("none", "basic") else s for s in specs)
    if isinstance(lr, str):  # the learning-rate box also takes typed values
        try:
            lr = float(lr)
        except ValueError:
            raise Refused(f"Learning rate must be a number such as 0.001 (got '{lr[:20]}').", "lr") from None
    lr = _real(lr, "Learning rate", 1e-6, 1, param="lr")
    if model not in configs.MODELS:
        raise Refused(f"model must be one of {', '.join(configs.MODELS)} (got {_shown(model)}).", "model")
    values = dict(iters=_whole(iters, "iters", 1, MAX_ITERS), depth=_whole(depth, "depth", *DEPTHS),
                  width=_choice(width, "width", WIDTHS), features=_choice(features, "features (mapping size m)", FEATURES),
                  seed=_whole(seed, "seed", 0, MAX_SEED), w0=_real(w0, "w0 (SIREN's ω₀)", *configs.W0_LIMITS))
    try:
        config = configs.Config(mappings=specs, size=size, lr=lr, every=QUICK.every, model=model, **values)
    except ValueError as e:  # what is left for Config to refuse is the list of mappings (too many, say)
        raise Refused(str(e), "extra") from None
    return check_memory(config)


def make_sweep_config(sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed, model="relu",
                      w0=30.0) -> configs.Config:
    """A checked Config of a σ sweep from the page's values as sent (Refused when one is wrong)."""
    top = mappings.MAX_SCALE["gauss"]
    low, high = _real(sigma_min, "sigma_min", 0, top), _real(sigma_max, "sigma_max", 0, top)
    n = _whole(n, "n (how many σ)", sweep.MIN_POINTS, configs.MAX_MAPPINGS)
    base = make_config(["none"], 0, "", size, iters, lr, False, depth, width, features, seed, model, w0)
    try:
        config = sweep.sweep_config(base, *sweep.check_sweep(low, high, n))
    except ValueError as e:  # the range: σ_min not below σ_max, or too narrow to give two scales
        raise Refused(str(e), "sigma_min") from None
    return check_memory(config)


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

# session -> the Stop flags of its runs in progress. Only flags, never results, are kept here, and each run
# removes its own when it ends, so nothing piles up however many visitors (or scripts) come and go.
_stops: dict[str, set[threading.Event]] = {}
_stops_lock = threading.Lock()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


def _stop_flag(request: gr.Request | None) -> threading.Event:
    """A new Stop flag for one run of this visitor; `_drop_flag` it when the run ends."""
    flag = threading.Event()
    with _stops_lock:
        _stops.setdefault(_session(request), set()).add(flag)
    return flag


def _drop_flag(request: gr.Request | None, flag: threading.Event) -> None:
    with _stops_lock:
        flags = _stops.get(_session(request), set())
        flags.discard(flag)
        if not flags:
            _stops.pop(_session(request), None)


def stop(request: gr.Request):
    """Asks this visitor's runs in progress to end after the chunk at hand; each then offers its downloads.

    Only the caller's own session is reached, and a Stop with no run in progress does nothing.
    """
    with _stops_lock:
        for flag in _stops.get(_session(request), ()):
            flag.set()


def gallery(history: report.History, snap: train.Snapshot):
    """Reconstructions (captioned with the current test PSNR) and the ground truth."""
    labels = report.captions(snap)
    items = [(snap.images[s], labels[s]) for s in history.config.mappings]
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
              model="relu", w0=30.0, request: gr.Request = None):
    """Streams (status, gallery, train plot, test plot, downloads, video, result) while every mapping trains.

    `result` (a gr.State, not part of the API) keeps the finished run for the views below the curves.
    """
    try:
        config = make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed,
                             model, w0)
        path = uploaded_path(image_path)
        image = read_image(path, config.size)
    except ValueError as e:  # data.ImageError is a ValueError
        raise gr.Error(str(e), print_exception=False) from None

    history = report.History(config, image, pathlib.Path(path).stem)
    run = train.run(image, config)
    last_yield, rate, note = 0.0, None, ""
    flag = _stop_flag(request)
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
                    yield (status(snap, rate), gallery(history, snap), *history.figures(), None, None, gr.skip())
    finally:
        run.close()  # a closed page or a Stop: no more chunks run
        _drop_flag(request, flag)
    if rate:
        _rate["gflops"] = cost.iteration_flops(config) * rate / 1e9
    out = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=_runs_dir()))
    try:
        paths = report.write_outputs(out, history)
        files = [str(paths[k]) for k in ("training.mp4", "comparison.png", "metrics.json", "metrics.csv")]
        snap = history.last
        yield (status(snap, rate, note or "Done."), gallery(history, snap), *history.figures(), files,
               str(paths["training.mp4"]), Result(config, history.ground_truth, snap, history.colors))
    finally:
        shutil.rmtree(out, ignore_errors=True)  # Gradio has copied what it serves into its own cache


class Result(NamedTuple):
    """A finished (or stopped) run, kept per visitor in a gr.State for the views below the curves."""

    config: configs.Config
    truth: np.ndarray  # (R, R, 3) uint8 ground truth
    snapshot: train.Snapshot  # the last one: pictures, PSNRs, weights and B of every mapping
    colors: dict  # spec -> colour, as in the PSNR curves


NO_RUN = "Train first: these views show the run you just trained."


def _need(result: Result | None) -> Result:
    if result is None:
        raise gr.Error(NO_RUN, print_exception=False)
    return result


def show_views(result: Result | None, row):
    """Every cheap view of a finished run: spectra, row slice, error maps, kernels, the paper's table."""
    if result is None:
        return (None,) * 6 + (gr.update(), gr.update(), gr.update())
    snap, truth, colors = result.snapshot, result.truth, result.colors
    specs = list(result.config.mappings)
    errors, vmax = analysis.error_maps(snap.images, truth)
    mean_error = {s: 255 * np.abs(analysis.as_float(snap.images[s]) - analysis.as_float(truth)).mean() for s in specs}
    error_tiles = images.tile_grid([(f"{s} · mean {mean_error[s]:.1f}/255", errors[s]) for s in specs],
                                   title=f"|reconstruction − ground truth|: dark 0, yellow {vmax * 255:.0f}/255 or more")
    choices = lambda: gr.update(choices=specs, value=specs[-1])  # noqa: E731 (a fresh update per output)
    return (report.spectra_grid(snap.images, truth, "log |FFT|: low frequencies in the centre"),
            plots.radial_power_figure(snap.images, truth, colors),
            row_figure(result, row),
            error_tiles,
            plots.kernel_slices_figure(snap.bases, colors),
            paper_table(result),
            gr.update(maximum=result.config.size - 1, value=min(int(row), result.config.size - 1)),
            choices(), choices())


def row_figure(result: Result | None, row):
    if result is None:
        return None
    row = int(min(max(0, row), result.config.size - 1))
    return plots.row_slice_figure(result.snapshot.images, result.truth, row, result.colors)


def paper_table(result: Result) -> str:
    """Markdown: this run's final PSNRs beside the paper's Table 1 (clearly the paper's)."""
    snap = result.snapshot
    lines = ["| mapping | your train PSNR | your test PSNR | paper, natural images | paper, text images |",
             "|---|---:|---:|---:|---:|"]
    for spec in result.config.mappings:
        kind = mappings.parse(spec).kind
        ref = [f"{paper.TABLE1_PSNR[d][kind]:.2f}" for d in ("natural", "text")]
        mine = [f"{v:.2f}" if math.isfinite(v) else "diverged" for v in (snap.train_psnr[spec], snap.test_psnr[spec])]
        lines.append(f"| {spec} | {mine[0]} | {mine[1]} | {ref[0]} | {ref[1]} |")
    c = result.config
    return ("\n".join(lines) + f"\n\nYour run: {c.size} px, {snap.step} steps, {c.depth}×{c.width} {c.model}, "
            f"{c.features} features. The paper's numbers are test PSNRs (dB) from Tancik et al. 2020, Table 1: "
            "512 px, 2000 steps, 4×256 ReLU MLP, 256 features, averaged over its datasets of natural and text "
            "images, with σ tuned per dataset (10 and 14). Use the *Paper protocol* buttons to train that setting.")


def zoom_view(result: Result | None, spec, factor):
    """A mapping's network rendered at factor× resolution, beside a bicubic upscale of its training pixels."""
    result = _need(result)
    try:
        factor = int(factor)
        zoomed = analysis.zoom(result.config, result.snapshot, spec, factor)
    except (TypeError, ValueError) as e:
        raise gr.Error(str(e), print_exception=False) from None
    bicubic = analysis.bicubic_from_training_pixels(result.truth, factor)
    return images.tile_grid([(f"{spec}: the network at {zoomed.shape[0]} px", zoomed),
                             (f"bicubic from the {result.config.size // 2} px training pixels", bicubic)], min_tile=1)


def kernel_view(result: Result | None, spec, trained):
    """The mapping's own kernel and the network's empirical NTK around the centre pixel, as heatmaps."""
    result = _need(result)
    if spec not in result.snapshot.params:
        raise gr.Error(f"Choose one of this run's mappings ({', '.join(result.config.mappings)}).",
                       print_exception=False)
    ntk = analysis.ntk_map(result.config, result.snapshot, spec, n=48, trained=trained)
    return (plots.kernel_heatmap_figure(result.snapshot.bases[spec], spec),
            plots.ntk_heatmap_figure(ntk, spec, trained=trained))


def sweep_run(image_path, sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed, model="relu",
              w0=30.0, request: gr.Request = None):
    """Trains one Gaussian mapping at n log-spaced σ in one batched run; streams (status, chart, best σ)."""
    try:
        config = make_sweep_config(sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed, model, w0)
        image = read_image(uploaded_path(image_path), config.size)
    except ValueError as e:
        raise gr.Error(str(e), print_exception=False) from None
    run, last_yield, summary = train.run(image, config), 0.0, None
    flag = _stop_flag(request)
    try:
        for snap in run:
            summary = sweep.summarise_sweep(snap)
            if flag.is_set():
                break
            if time.perf_counter() - last_yield >= 1 / UPDATES_PER_SECOND and not snap.done:
                last_yield = time.perf_counter()
                yield (f"σ sweep: step {snap.step} / {snap.iters}" + (" · compiling…" if snap.step == 0 else ""),
                       plots.sweep_figure(summary), gr.skip())
    finally:
        run.close()
        _drop_flag(request, flag)
    best = summary["best_sigma"]
    verdict = f"best σ = **{best:g}** (test PSNR {max(v for v in summary['final_test_psnr'] if v is not None):.2f} dB)" \
        if best is not None else "every σ diverged: lower the learning rate"
    yield f"σ sweep done at step {snap.step}: {verdict}", plots.sweep_figure(summary), best


def use_sigma(best, selected):
    """Puts the sweep's best σ on the custom-σ slider and ticks "custom"."""
    if best is None:
        raise gr.Error("Run a σ sweep first.", print_exception=False)
    chosen = list(selected or [])
    return gr.update(value=round(math.log10(best), 2)), gr.update(value=chosen + ["custom"] * ("custom" not in chosen))


def _runs_dir() -> pathlib.Path:
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    return RUNS_DIR


def uploaded_path(image) -> str:
    """The server path of the visitor's image: a file uploaded to this app, or one of the examples.

    `image` is what the train event was sent (a FileData dict; the page's image box hands on a path, and so
    do direct calls). Gradio refuses a FileData naming a file it did not receive only when the dict carries
    its `meta` tag; without the tag any path gets through, so every other file is refused here, before it is
    opened: a caller can neither read the server's files nor learn which exist.
    """
    if image is None:
        raise Refused("Pick an example or upload an image first.", "image_path")
    path = image.get("path") if isinstance(image, dict) else image
    try:
        real = os.path.realpath(path)
        uploads = os.path.realpath(gr.utils.get_upload_folder())
        if real in _EXAMPLE_FILES or os.path.commonpath([real, uploads]) == uploads and real != uploads:
            return real
    except (TypeError, ValueError, OSError):  # not a path at all (a number, a list, a NUL byte)
        pass
    raise Refused("The image must be a file uploaded to this app (with gradio_client: handle_file(path)); "
                  "paths on the server are not read.", "image_path")


_EXAMPLE_FILES = {os.path.realpath(p) for p in EXAMPLES}


def read_image(path: str, size: int):
    """The image at an `uploaded_path`, decoded by `ffn.data` (whose messages then name no server path)."""
    try:
        with open(path, "rb") as file:
            return data.load_image(file, size)
    except FileNotFoundError:
        raise ValueError("The uploaded image is no longer on the server (uploads are kept for a few hours); "
                         "upload it again.") from None
    except OSError:
        raise ValueError("The uploaded image could not be read on the server; upload it again.") from None


def check_image(image_path):
    """Says at once, on upload, when a file is no usable image (Train would refuse it too)."""
    if image_path is not None:
        try:
            with open(uploaded_path(image_path), "rb") as file:
                data.load_image(file, SIZES[0])  # decodes and checks it all, without a full-size float copy
        except OSError:
            raise gr.Error("The uploaded image could not be read on the server; upload it again.",
                           print_exception=False) from None
        except ValueError as e:
            raise gr.Error(str(e), print_exception=False) from None


def _verdicts(params, check) -> list:
    """Gradio validator answers: one gr.validate per input, the refused one carrying the message."""
    try:
        check()
    except Refused as e:
        where = e.param if e.param in params else params[0]
        return [gr.validate(p != where, str(e) if p == where else "") for p in params]
    return [gr.validate(True, "") for _ in params]


def validate_train(image_path, *settings):
    """Gradio's validator for /train: checks a run's values when it is asked for, before it joins the queue, so a
    mistake is answered at once (the page marks the box at fault) instead of after the runs ahead of it.

    The image is decoded only when the run starts (decoding costs CPU time, which the queue shares out); train_run
    checks everything again, for callers that skip this (direct calls, tests).
    """
    names = list(inspect.signature(train_run).parameters)[: 1 + len(settings)]
    return _verdicts(names, lambda: (make_config(*settings), uploaded_path(image_path)))


def validate_sweep(image_path, *settings):
    """As validate_train, for /sweep."""
    names = list(inspect.signature(sweep_run).parameters)[: 1 + len(settings)]
    return _verdicts(names, lambda: (make_sweep_config(*settings), uploaded_path(image_path)))


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

VIEW_NOTES = {
    "spectra": "The 2D Fourier transform of each reconstruction (log magnitude; low frequencies in the centre) and "
               "its power against frequency. Spectral bias made visible: without a mapping the power drops away "
               "where the ground truth still has detail; a σ that is too large adds power the image does not have.",
    "row": "One row of pixels (brightness) of every reconstruction and of the ground truth, as in the paper's "
           "figure: the plain network smooths the edges away, a good mapping follows them.",
    "errors": "Where each network is wrong: |reconstruction − ground truth| per pixel, all on one colour scale.",
    "zoom": "The network is a continuous function of (x, y), so it can be rendered at any resolution. Compare it "
            "with a bicubic upscale of the pixels it was trained on: what has it learned between them?",
    "kernels": "A Fourier mapping makes the network behave like a kernel regression whose kernel k(Δv) is the "
               "mean of cos(2π bᵀΔv) over B's rows: a small σ gives a wide kernel (blur), a large σ a narrow one "
               "(noise between training pixels). The neural tangent kernel (NTK) shows the same for the network "
               "itself: how much a step on the centre pixel moves every other pixel.",
    "sweep": "Trains one Gaussian mapping at many σ at once (same image, network and steps as above) and plots the "
             "final PSNRs against σ: under-fitting on the left, over-fitting on the right, where train and test part.",
    "paper": "Your final PSNRs beside the paper's Table 1. The paper trains at 512 px for 2000 steps; the buttons "
             "set that protocol (it takes a long time on a CPU).",
}

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
                sigma = gr.Slider(*SIGMA_LOG10, value=round(math.log10(QUICK_SIGMA), 2), step=0.05, label="Custom σ (log₁₀ scale)",
                                  info=f"σ = {QUICK_SIGMA:g}", elem_id="sigma")
                with gr.Row():
                    size = gr.Dropdown(SIZES, value=QUICK.size, label="Resolution (px)", elem_id="size")
                    iters = gr.Slider(25, MAX_ITERS, value=QUICK.iters, step=25, label="Iterations", elem_id="iters")
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
                        depth = gr.Slider(*DEPTHS, value=QUICK.depth, step=1, label="Depth (layers)")
                        width = gr.Dropdown(WIDTHS, value=QUICK.width, label="Width")
                    with gr.Row():
                        features = gr.Dropdown(FEATURES, value=QUICK.features,
                                               label="Mapping size m (features)")
                        seed = gr.Number(value=0, precision=0, label="Seed", minimum=0, maximum=MAX_SEED)
                    with gr.Row():
                        model = gr.Radio([("ReLU MLP (the paper's)", "relu"), ("SIREN (sine activations)", "siren")],
                                         value="relu", label="Network", elem_id="model",
                                         info="SIREN is the other standard answer to spectral bias; try it with No mapping")
                        w0 = gr.Slider(1, 100, value=30, step=1, label="SIREN ω₀", info="its first layer's frequency scale")
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
                gr.Markdown("### Look closer at the run")
                with gr.Tabs(elem_id="views"):
                    with gr.Tab("Spectra", elem_id="tab-spectra"):
                        gr.Markdown(VIEW_NOTES["spectra"])
                        spectra_img = gr.Image(label="Log spectra", show_label=False, format="png", interactive=False,
                                               elem_id="spectra")
                        radial_plot = gr.Plot(show_label=False, elem_id="radial-plot")
                    with gr.Tab("Row slice", elem_id="tab-row"):
                        gr.Markdown(VIEW_NOTES["row"])
                        row = gr.Slider(0, QUICK.size - 1, value=QUICK.size // 2, step=1, label="Row", elem_id="row")
                        row_plot = gr.Plot(show_label=False, elem_id="row-plot")
                    with gr.Tab("Error maps", elem_id="tab-errors"):
                        gr.Markdown(VIEW_NOTES["errors"])
                        error_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="errors")
                    with gr.Tab("Zoom", elem_id="tab-zoom"):
                        gr.Markdown(VIEW_NOTES["zoom"])
                        with gr.Row():
                            zoom_spec = gr.Dropdown([], label="Mapping", elem_id="zoom-spec")
                            zoom_factor = gr.Radio([2, 4], value=2, label="Zoom", elem_id="zoom-factor")
                            zoom_button = gr.Button("Render", elem_id="zoom-render")
                        zoom_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="zoom")
                    with gr.Tab("Kernels", elem_id="tab-kernels"):
                        gr.Markdown(VIEW_NOTES["kernels"])
                        kernel_plot = gr.Plot(show_label=False, elem_id="kernel-plot")
                        with gr.Row():
                            kernel_spec = gr.Dropdown([], label="Mapping", elem_id="kernel-spec")
                            trained = gr.Radio([("trained", True), ("untrained", False)], value=True, label="Network")
                            kernel_button = gr.Button("Show kernel and NTK", elem_id="kernel-render")
                        with gr.Row():
                            kernel_map = gr.Plot(show_label=False, elem_id="kernel-map")
                            ntk_map = gr.Plot(show_label=False, elem_id="ntk-map")
                    with gr.Tab("σ sweep", elem_id="tab-sweep"):
                        gr.Markdown(VIEW_NOTES["sweep"])
                        with gr.Row():
                            sweep_min = gr.Number(value=0.5, label="σ from", minimum=0)
                            sweep_max = gr.Number(value=50, label="σ to", minimum=0)
                            sweep_n = gr.Slider(2, 24, value=12, step=1, label="How many σ")
                        with gr.Row():
                            sweep_button = gr.Button("Run σ sweep", variant="primary", elem_id="sweep-run")
                            use_button = gr.Button("Use the best σ", elem_id="use-sigma")
                        sweep_status = gr.Markdown(elem_id="sweep-status")
                        sweep_plot = gr.Plot(show_label=False, elem_id="sweep-plot")
                    with gr.Tab("Paper's numbers", elem_id="tab-paper"):
                        gr.Markdown(VIEW_NOTES["paper"])
                        with gr.Row():
                            natural = gr.Button("Paper protocol: natural image", size="sm")
                            text = gr.Button("Paper protocol: text image", size="sm")
                        table = gr.Markdown(NO_RUN, elem_id="paper-table")

        result = gr.State(None, time_to_live=3600)  # this visitor's finished run (see Result)
        settings = [selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, seed, model, w0]
        # preprocess=False here and on the runs below: the handlers get the values as sent and check them all
        # themselves (make_config), with a sentence for each mistake; Gradio's own checks fail on some with a
        # bare "error" (a seed of NaN, a width of "abc", a list for a slider).
        for control in settings:
            control.change(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private",
                           preprocess=False)
        blocks.load(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private",
                    preprocess=False)
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
        protocol_outputs = preset_outputs + [extra, paper_lr, model]
        # Table 1's settings: natural images posenc:6, σ=10, lr 1e-2 for none/basic; text posenc:5, σ=14.
        natural.click(lambda: preset(PAPER, ("none", "basic", "posenc", "custom"), 10) + ["", True, "relu"], None,
                      protocol_outputs, queue=False, api_visibility="private")
        text.click(lambda: preset(PAPER, ("none", "basic", "custom"), 14) + ["posenc:5", False, "relu"], None,
                   protocol_outputs, queue=False, api_visibility="private")

        start.click(
            train_run, [image] + settings, [state, recon, train_plot, test_plot, files, video, result], api_name="train",
            concurrency_limit=CONCURRENT_RUNS, concurrency_id="train", show_progress="minimal", show_progress_on=[state],
            preprocess=False, validator=validate_train,
        ).then(show_views, [result, row], [spectra_img, radial_plot, row_plot, error_img, kernel_plot, table, row,
                                            zoom_spec, kernel_spec], api_visibility="private")
        row.release(row_figure, [result, row], row_plot, queue=False, api_visibility="private")
        zoom_button.click(zoom_view, [result, zoom_spec, zoom_factor], zoom_img, concurrency_id="train",
                          api_visibility="private")
        kernel_button.click(kernel_view, [result, kernel_spec, trained], [kernel_map, ntk_map], concurrency_id="train",
                            api_visibility="private")
        best_sigma = gr.State(None)
        sweep_button.click(
            sweep_run, [image, sweep_min, sweep_max, sweep_n, size, iters, lr, depth, width, features, seed, model, w0],
            [sweep_status, sweep_plot, best_sigma], api_name="sweep", concurrency_limit=CONCURRENT_RUNS,
            concurrency_id="train", show_progress="minimal", show_progress_on=[sweep_status], preprocess=False,
            validator=validate_sweep)
        use_button.click(use_sigma, [best_sigma, selected], [sigma, selected], queue=False, api_visibility="private")

        halt.click(stop, None, None, queue=False, api_name="stop")
    blocks.queue(max_size=MAX_QUEUE, default_concurrency_limit=CONCURRENT_RUNS)
    return blocks


demo = build()

LAUNCH = dict(max_file_size="20mb", css=CSS, run_history=False,  # serves only its own files and assets
              state_session_capacity=STATE_SESSIONS)


def main(argv=None):
    p = argparse.ArgumentParser(description="Fourier Features Explorer: serve the app.")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to listen on")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port")
    p.add_argument("--share", action="store_true", help="also make a public link (needs the internet)")
    args = p.parse_args(argv)
    # Compiled programs survive restarts on disk, and the defaults' programs compile while the page loads,
    # so the first Train click starts at once (see README, Performance).
    train.enable_compilation_cache()
    threading.Thread(target=train.warm_up, args=(QUICK,), name="warm-up", daemon=True).start()
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # Gradio's own lines, including a long one when sharing fails
        _, local_url, share_url = demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                                              prevent_thread_lock=True, quiet=True, **LAUNCH)
    print(f"Fourier Features Explorer is serving at {local_url}", flush=True)
    if args.share and share_url:
        print(f"Public link: {share_url}", flush=True)
    elif args.share:
        print(f"Could not make a public link (no internet connection?); still serving locally at {local_url}",
              flush=True)
    elif chatter.getvalue().strip():
        print(chatter.getvalue().strip(), flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
