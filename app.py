"""Fourier Features Explorer: watch coordinate MLPs learn an image, with and without Fourier features.

The page: this file lays out the Blocks, wires events, and turns `ffn`'s refusals (`checks.Invalid`, any
ValueError) into the page's errors. What a run may be, and every rule, lives in `ffn.service` and `ffn.config`.
Run `python app.py` (see `--help`), or import `demo`.
"""

import argparse
import contextlib
import functools
import inspect
import io
import math
import os
import pathlib
import shutil
import tempfile
import threading
import time
from typing import NamedTuple

import gradio as gr
import numpy as np

from ffn.core import analysis, bands, checks, data, ntk, train
from ffn.present import images, plots
from ffn.experiments import lab1d, paper, runs, sweep, table1
from ffn.serve import rules
from ffn.core import config as configs

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
SPEED = rules.Speed()  # this server's measured training rate, shared by every visitor on purpose
QUICK = rules.page_values(configs.CPU)  # the page's defaults: the CPU quick look


def image_input(**kwargs) -> gr.Image:
    """An image box (upload, drag and drop, paste) that hands handlers the uploaded file unopened, with a note
    under it that says at once when a file is no usable image (`check_image`).

    gr.Image decodes uploads with PIL before any handler runs, so a broken file would fail inside Gradio
    with a generic error; here `ffn.data` decodes it and says what is wrong. (Overridden on the instance:
    a subclass of a Gradio component makes Gradio write a .pyi file beside this one.)
    """
    box = gr.Image(type="filepath", **kwargs)
    box.preprocess = lambda payload: None if payload is None else payload.path
    note = gr.Markdown(elem_id=f"{kwargs.get('elem_id', 'image')}-note")
    # On change, not upload: an example picked after a refused file clears the note too.
    box.change(check_image, box, [box, note], queue=False, show_progress="hidden", api_visibility="private")
    return box


# --- Before a run ----------------------------------------------------------------------------------------------


def _error(e: ValueError) -> gr.Error:
    """ffn's sentence as the page's error (no traceback: a refusal is not a fault)."""
    return gr.Error(str(e), print_exception=False)


def describe_plan(*values) -> str:
    """Markdown: what a run with these settings will do and cost here, or why it cannot run."""
    try:
        return rules.plan(rules.make_config(*values, speed=SPEED), SPEED)
    except ValueError as e:
        return f"⚠️ {e}"


def uploaded_path(image) -> str:
    """`rules.uploaded_path` for this server: Gradio's upload folder and the bundled examples."""
    return rules.uploaded_path(image, gr.utils.get_upload_folder(), _EXAMPLE_FILES)


_EXAMPLE_FILES = {os.path.realpath(p) for p in EXAMPLES}


def check_image(image_path):
    """(box, note) for a new image: a file that is no usable image leaves the box (the browser could only draw
    a broken picture of it) and the note gives ffn.data's sentence; a usable one clears the note.

    An answer, not a gr.Error: Gradio 6.31 shows nothing for the error of a queue=False event (the page gets an
    HTTP 500 and drops its message), so the sentence came only after Train.
    """
    if image_path is None:  # cleared, by the visitor or by this check
        return gr.skip(), gr.skip()
    try:
        rules.read_image(uploaded_path(image_path), rules.SIZES[0])
    except ValueError as e:
        return None, f"⚠️ That file was not used: {e} Choose another file or an example."
    return gr.skip(), ""


def trained_preview(image_path, size):
    """What a run will train on: the image's centre square at the chosen resolution (nothing when it cannot be read;
    the upload check says why)."""
    if image_path is None:
        return None, gr.update(label="What will be trained")
    try:
        size = data.check_size(size)
        picture = images.to_uint8(rules.read_image(uploaded_path(image_path), size))
    except ValueError:
        return None, gr.update(label="What will be trained")
    return picture, gr.update(label=f"What will be trained: the centre square at {size}×{size} px")


def _verdicts(params, check) -> list:
    """Gradio validator answers: one gr.validate per input, the refused one carrying the message."""
    try:
        check()
    except ValueError as e:
        where = getattr(e, "param", None)
        where = where if where in params else params[0]
        return [gr.validate(p != where, str(e) if p == where else "") for p in params]
    return [gr.validate(True, "") for _ in params]


# One run per visitor, queued or running: session -> when its last run was let into the queue (monotonic
# seconds; inf while it trains). A visitor whose run is in Gradio's queue counts as busy too, so an entry that
# never reached the queue (refused as full) frees itself after FAIR_GRACE seconds.
_active: dict[str, float] = {}
_active_lock = threading.Lock()
FAIR_GRACE = 10.0
BUSY = "You already have a run queued or running: wait for it to end, or press Stop first."


def _queued(session: str) -> bool:
    queue = getattr(demo, "_queue", None)
    waiting = getattr(queue, "event_queue_per_concurrency_id", {}).values()
    return any(event.session_hash == session for q in waiting for event in q.queue)


def _claim(request: gr.Request | None) -> None:
    """Lets this visitor's run into the queue, or refuses it (checks.Invalid) if they have one queued or running."""
    session = _session(request)
    if session == "anonymous":  # a direct call, not through the server: nobody to share with
        return
    with _active_lock:
        since = _active.get(session)
        if since is not None and (since == math.inf or _queued(session) or time.monotonic() - since < FAIR_GRACE):
            raise checks.Invalid(BUSY, "image_path")
        _active[session] = time.monotonic()


def _release(request: gr.Request | None) -> None:
    """Frees this visitor's place: their run ended, or was refused when it started."""
    with _active_lock:
        _active.pop(_session(request), None)


@contextlib.contextmanager
def _running(request: gr.Request | None):
    """Marks this visitor's run as running until it ends."""
    session = _session(request)
    with _active_lock:
        _active[session] = math.inf
    try:
        yield
    finally:
        _release(request)


def _validator(handler, make_config):
    """Gradio's validator for a run event: checks a run's values when it is asked for, before it joins the queue, so a
    mistake is answered at once (the page marks the box at fault) instead of after the runs ahead of it, and lets
    each visitor have one run queued or running.

    It takes the handler's signature, so Gradio hands it the visitor's request as it does the handler. The image is
    decoded only when the run starts (decoding costs CPU time, which the queue shares out); the handler checks
    everything again, for callers that skip this (direct calls, tests).
    """
    names = list(inspect.signature(handler).parameters)

    def validate(*values):
        request = next((v for v in values if isinstance(v, gr.Request)), None)
        image_path, *settings = [v for v in values if not isinstance(v, gr.Request)]
        return _verdicts(names[: 1 + len(settings)], lambda: (make_config(*settings, speed=SPEED),
                                                               uploaded_path(image_path), _claim(request)))

    validate.__signature__ = inspect.signature(handler)
    validate.__annotations__ = handler.__annotations__
    return validate


# --- Training, streamed -----------------------------------------------------------------------------------------

# session -> the Stop flags of its runs in progress. Only flags, never results, are kept here, and each run
# removes its own when it ends, so nothing piles up however many visitors (or scripts) come and go.
_stops: dict[str, set[threading.Event]] = {}
_stops_lock = threading.Lock()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


@contextlib.contextmanager
def _stop_flag(request: gr.Request | None):
    """A Stop flag for one run of this visitor, dropped when the run ends."""
    flag = threading.Event()
    with _stops_lock:
        _stops.setdefault(_session(request), set()).add(flag)
    try:
        yield flag
    finally:
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


def _stopped(flag: threading.Event, snap: train.Snapshot) -> str:
    """Why a run ends before its last step ('' while it goes on): the visitor's Stop or the server's time limit."""
    if flag.is_set():
        return f"Stopped at step {snap.step}."
    limit = rules.CAPS.seconds  # counts training, not compiling (which a busy server's visitors do not choose)
    if limit and snap.step and snap.train_seconds >= limit and not snap.done:
        return f"Stopped at step {snap.step}: this server's time limit of {rules.duration(limit)} per run."
    return ""


def train_run(image_path, selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features, seed,
              model="relu", w0=30.0, request: gr.Request = None):
    """Streams (status, gallery, train plot, test plot, band-error plot, downloads, result, history) while every
    mapping trains.

    `result` and `history` (gr.States, not part of the API) keep the finished run for the views below the curves
    and every snapshot so far for the replay.
    """
    try:
        config = rules.make_config(selected, sigma_log10, extra, size, iters, lr, paper_lr, depth, width, features,
                                     seed, model, w0, speed=SPEED)
        path = uploaded_path(image_path)
        image = rules.read_image(path, config.size)
    except ValueError as e:  # data.ImageError is a ValueError
        _release(request)
        raise _error(e) from None

    last_yield, rate, note = 0.0, None, ""
    yield (f"**Starting** a run of {len(config.mappings)} mappings × {config.iters} steps at {config.size} px…",
           *[gr.skip()] * 7)
    with _running(request), _stop_flag(request) as flag, \
            contextlib.closing(runs.record(image, config, pathlib.Path(path).stem)) as run:
        for history, snap in run:
            if snap.step > 0 and snap.train_seconds > 0:
                rate = snap.step / snap.train_seconds
            if note := _stopped(flag, snap):
                break
            now = time.perf_counter()
            if not snap.done and now - last_yield >= 1 / UPDATES_PER_SECOND:
                last_yield = now
                yield (runs.status_line(snap, rate), history.gallery(snap), *history.figures(), history.band_figure(),
                       None, gr.skip(), history)
    if history.steady_rate():
        SPEED.observe(config, history.steady_rate())
    out = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=_runs_dir()))
    try:
        paths = runs.write_outputs(out, history)
        files = [str(paths[k]) for k in DOWNLOADS]
        snap = history.last
        yield (runs.status_line(snap, rate, note or "Done."), history.gallery(snap), *history.figures(),
               history.band_figure(), files, Result(config, history.ground_truth, snap, history.colors), history)
    finally:
        shutil.rmtree(out, ignore_errors=True)  # Gradio has copied what it serves into its own cache


DOWNLOADS = ("training.mp4", "comparison.png", "bands.html", "metrics.json", "metrics.csv")  # of runs.write_outputs


def replay(history: runs.History | None, step):
    """The gallery at any step of this visitor's run (its snapshots are kept), and the test curves marked there."""
    if history is None or not history.steps:
        return gr.skip(), gr.skip(), "Train first: the replay shows the snapshots of your run."
    try:
        at, items = history.replay(step)
    except ValueError as e:
        raise _error(e) from None
    return items, history.test_figure_at(at), f"Step **{at}** of {history.config.iters}: the networks as they were then."


def replay_range(history: runs.History | None):
    """The replay slider spans the snapshots of the run."""
    if history is None or not history.steps:
        return gr.skip()
    return gr.update(maximum=max(history.steps[-1], 1), step=history.config.every)


def starting(iters):
    """At a Train click: the views say they show the last run until this one ends; the replay spans its steps."""
    note = "A new run is starting: until it ends, the views below still show your previous run."
    try:
        return note, gr.update(maximum=rules.replay_span(iters), value=0)
    except ValueError:  # the run itself will say what is wrong
        return note, gr.skip()


def _runs_dir() -> pathlib.Path:
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    return RUNS_DIR


class Result(NamedTuple):
    """A finished (or stopped) run, kept per visitor in a gr.State for the views below the curves."""

    config: configs.Config
    truth: np.ndarray  # (R, R, 3) uint8 ground truth
    snapshot: train.Snapshot  # the last one: pictures, PSNRs, weights and B of every mapping
    colors: dict  # spec -> colour, as in the PSNR curves


# --- The views of a finished run --------------------------------------------------------------------------------

NO_RUN = "Train first: these views show the run you just trained."


def _need(result: Result | None) -> Result:
    if result is None:
        raise gr.Error(NO_RUN, print_exception=False)
    return result


def show_views(result: Result | None, row):
    """Every cheap view of a finished run: spectra, row slice, error maps, kernels, the paper's table."""
    if result is None:
        return (NO_RUN,) + (None,) * 6 + (gr.update(), gr.update(), gr.update())
    snap, truth, colors = result.snapshot, result.truth, result.colors
    specs = list(result.config.mappings)
    best = runs.best_mapping(snap) or specs[-1]
    choices = lambda: gr.update(choices=specs, value=best)  # noqa: E731 (a fresh update per output)
    return (f"These views show your run of {', '.join(specs)} at {result.config.size} px, step {snap.step}; "
            f"the mapping menus start at its best mapping, {best}.",
            runs.spectra_grid(snap.images, truth, "log |FFT|: low frequencies in the centre"),
            plots.radial_power_figure(snap.images, truth, colors),
            row_figure(result, row),
            runs.error_grid(snap.images, truth),
            plots.kernel_slices_figure(snap.bases, colors),
            runs.paper_table(result.config, snap),
            gr.update(maximum=result.config.size - 1, value=min(int(row), result.config.size - 1)),
            choices(), choices())


def set_table_text() -> str:
    """The newest table1.json under runs/ (what `python -m ffn.table1` writes there by default) beside the paper's."""
    doc = table1.latest(ROOT / "runs")
    if doc is None:
        return ("No set table on this server yet. `python -m ffn.table1 --dataset natural` runs the paper's protocol "
                "over the bundled natural images (`--size 128` for a CPU-sized version) and writes its mean ± std "
                "beside the paper's; this view then shows it.")
    return paper.table_markdown(doc)


def row_figure(result: Result | None, row):
    if result is None:
        return None
    row = int(min(max(0, row), result.config.size - 1))
    return plots.row_slice_figure(result.snapshot.images, result.truth, row, result.colors)


def zoom_view(result: Result | None, spec, factor):
    """A mapping's network rendered at factor× resolution, beside a bicubic upscale of its training pixels."""
    result = _need(result)
    try:
        factor = int(factor)
        zoomed = analysis.zoom(result.config, result.snapshot, spec, factor)
    except (TypeError, ValueError) as e:
        raise _error(ValueError(str(e))) from None
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


def theory_view(result: Result | None):
    """What the neural tangent kernel says about this run's mappings: each kernel's spectrum on the band-error
    chart's frequency axis, then (up to ntk.MAX_REGRESSION_SIZE px) the pictures the infinite-width network
    reaches after as many gradient-descent steps as the run took and in the limit, one mapping at a time,
    under the trained networks. Streams (status, spectrum figure, pictures)."""
    result = _need(result)
    config, truth, snapshot = result.config, result.truth, result.snapshot
    yield "Computing each mapping's kernel spectrum…", gr.skip(), gr.skip()
    edges, spectra = ntk.band_spectra(config)
    figure = plots.ntk_band_spectrum_figure(edges, spectra, colors=result.colors)
    try:
        ntk.regression_size(config.size)
    except ValueError as e:
        yield f"Kernel spectra of every mapping above. No pictures: {e}", figure, None
        return
    image, results, steps = analysis.as_float(truth), {}, snapshot.step
    for i, spec in enumerate(config.mappings):
        yield f"The theory's pictures: {spec} ({i + 1} of {len(config.mappings)})…", figure, gr.skip()
        results[spec] = ntk.predictions(image, spec, config, steps=[steps])
    rows = [("trained", {s: (snapshot.images[s], snapshot.test_psnr[s]) for s in config.mappings}),
            (f"NTK {steps} steps", {s: (p[0].picture, p[0].test_psnr) for s, p in results.items()}),
            ("NTK limit", {s: (p[1].picture, p[1].test_psnr) for s, p in results.items()})]
    at_steps = {s: p[0].test_psnr for s, p in results.items()}
    best, trained = max(at_steps, key=at_steps.get), runs.best_mapping(snapshot)
    none = f" (`none`: {at_steps['none']:.2f} dB)" if "none" in at_steps and best != "none" else ""
    yours = f"**{trained}**, {snapshot.test_psnr[trained]:.2f} dB" if trained else "none (every run diverged)"
    siren = (" Your networks are SIREN; the theory is that of the paper's ReLU network on the same mappings."
             if config.model == "siren" else "")
    yield (f"Done. After {steps} steps of gradient descent the theory's best test PSNR is **{best}**'s, "
           f"{at_steps[best]:.2f} dB{none}; your trained networks' best: {yours}.{siren}", figure,
           ntk.prediction_grid(rows, truth, f"Trained (Adam) · NTK after {steps} gradient-descent steps · NTK limit"))


def sweep_run(image_path, sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed, model="relu",
              w0=30.0, request: gr.Request = None):
    """Trains one Gaussian mapping at n log-spaced σ in one batched run; streams (status, chart, best σ)."""
    try:
        config = rules.make_sweep_config(sigma_min, sigma_max, n, size, iters, lr, depth, width, features, seed,
                                           model, w0, speed=SPEED)
        image = rules.read_image(uploaded_path(image_path), config.size)
    except ValueError as e:
        _release(request)
        raise _error(e) from None
    last_yield, summary, note, rate = 0.0, None, "", None
    with _running(request), _stop_flag(request) as flag, contextlib.closing(train.run(image, config)) as run:
        for snap in run:
            summary = sweep.summarise_sweep(snap)
            if snap.step > 0 and snap.train_seconds > 0:
                rate = snap.step / snap.train_seconds
            if note := _stopped(flag, snap):
                break
            if time.perf_counter() - last_yield >= 1 / UPDATES_PER_SECOND and not snap.done:
                last_yield = time.perf_counter()
                yield "σ sweep: " + runs.status_line(snap, rate), plots.sweep_figure(summary), gr.skip()
    best = summary["best_sigma"]
    verdict = f"best σ = **{best:g}** (test PSNR {max(v for v in summary['final_test_psnr'] if v is not None):.2f} dB)" \
        if best is not None else "every σ diverged: lower the learning rate"
    yield f"σ sweep done at step {snap.step}: {verdict}" + (f"  \n{note}" if note else ""), plots.sweep_figure(summary), best


def lab_run(target, freqs, amps, alpha, specs, steps, optimizer, width, request: gr.Request = None):
    """The 1D lab: trains wide networks on a 1D signal and streams (status, fit, loss, residuals, spectrum), each
    frequency's residual measured beside what the network's NTK predicts."""
    try:
        config = rules.make_lab_config(target, freqs, amps, alpha, specs, steps, optimizer, width)
    except ValueError as e:
        raise _error(e) from None
    last_yield, snap, note, rate = 0.0, None, "", None
    with _running(request), _stop_flag(request) as flag, contextlib.closing(lab1d.run(config)) as run:
        for snap in run:
            if snap.step > 0 and snap.train_seconds > 0:
                rate = snap.step / snap.train_seconds
            if note := _stopped(flag, snap):
                break
            if not snap.done and time.perf_counter() - last_yield >= 1 / UPDATES_PER_SECOND:
                last_yield = time.perf_counter()
                yield (_lab_status(snap, rate), *lab1d.figures(snap).values())
    yield (_lab_status(snap, rate, note or "Done."), *lab1d.figures(snap).values())


def _lab_status(snap, rate, note: str = "") -> str:
    speed = f" · {rate:.0f} steps/s" if rate else (" · compiling…" if snap.step == 0 else "")
    theory = ("dashed: the NTK's prediction, step η = " f"{snap.eta:.3g}" if snap.theory_applies else
              "Adam rescales each parameter's step, so the NTK predicts nothing here")
    return f"**step {snap.step} / {snap.steps}**{speed} · {theory}" + (f"  \n{note}" if note else "")


def use_sigma(best, selected):
    """Puts the sweep's best σ on the custom-σ slider and ticks "custom", and says so where the button is."""
    if best is None:
        raise gr.Error("Run a σ sweep first.", print_exception=False)
    chosen = list(selected or [])
    sigma_log10 = rules.page_values(configs.CPU.replace(mappings=(f"gauss:{best:g}",)))["sigma_log10"]
    said = (f"✔ σ = {rules.custom_sigma(sigma_log10):g} is now on the *Custom σ* slider at the top of the page, and "
            "*Gaussian, custom σ* is ticked: press **Train** to compare it with the other mappings.")
    return gr.update(value=sigma_log10), gr.update(value=chosen + ["custom"] * ("custom" not in chosen)), said


def describe_sweep(*values) -> str:
    """What a σ sweep with these settings will train and cost here, or why it cannot run."""
    try:
        config = rules.make_sweep_config(*values, speed=SPEED)
    except ValueError as e:
        return f"⚠️ {e}"
    sigmas = ", ".join(m.spec.split(":")[1] for m in config.parsed)
    return (f"σ = {sigmas}: {len(config.mappings)} networks × {config.iters} steps at {config.size} px, about "
            f"**{rules.duration(SPEED.estimate(config))}** here.")


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
from 0 to 2<sup>S</sup> − 1, log-spaced; *Gaussian* draws the rows of B from N(0, σ²). All Gaussian mappings of a
run share one random draw, so they differ only in σ.

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
               "its power against frequency (cycles per image side). Where a reconstruction's curve falls below the "
               "ground truth's, it lacks detail at that frequency: spectral bias made visible. What the chart does "
               "**not** show is whether that power is in the right place: power is not phase. A too-large σ can "
               "match the truth's power with noise and still score several dB worse, and a network without a mapping "
               "has some fine-scale power from its own creases and blocks, which is not the image's detail. The "
               "band-error chart above measures what matches: the error in each band, not its power.",
    "row": "One row of pixels (brightness) of every reconstruction and of the ground truth, as in the paper's "
           "figure: the plain network smooths the edges away, a good mapping follows them.",
    "errors": "Where each network is wrong: |reconstruction − ground truth| per pixel, all on one colour scale.",
    "zoom": "The network is a continuous function of (x, y), so it can be rendered at any resolution. Compare it "
            "with a bicubic upscale of the pixels it was trained on: what has it learned between them?",
    "kernels": "A Fourier mapping makes the network behave like a kernel regression whose kernel k(Δv) is the "
               "mean of cos(2π bᵀΔv) over B's rows: a small σ gives a wide kernel (blur), a large σ a narrow one "
               "(noise between training pixels). The positional encoding's kernel levels off at 0.5: its frequencies "
               "are axis-aligned, so for an offset along x the half of B's rows that point along y do not change at "
               "all and keep contributing 1. The neural tangent kernel (NTK) shows the same for the network itself: "
               "how much a step on the centre pixel moves every other pixel.",
    "sweep": "Trains one Gaussian mapping at many σ at once (same image, network and steps as above) and plots the "
             "PSNRs against σ: under-fitting on the left, over-fitting on the right, where train and test part. "
             "The best σ grows with the resolution (σ counts cycles per image side).",
    "paper": "Your final PSNRs beside the paper's Table 1, only where your run had the paper's setting (512 px, 2000 "
             "steps, 4×256 network, 256 features, the tuned σ, S and lr); anything else is marked as not comparable, "
             "with the reason. The buttons set the protocol (it takes hours on a CPU). To check the table itself over "
             "a set of images: `python -m ffn.table1 IMAGES --dataset natural` (see README).",
}

THEORY_NOTE = """
**Why a mapping changes what is learned** (Tancik et al. 2020, §3-5). A wide coordinate network trained by
gradient descent behaves like kernel regression with its *neural tangent kernel* (NTK, §3): each frequency of
its error shrinks at a rate set by the kernel's spectrum at that frequency. A Fourier feature mapping makes the
kernel stationary, a function of v − v′ alone (§4), and σ sets how far its spectrum reaches (§5).

1. The **band-error chart** above: which frequency bands each trained network has learned, step by step.
2. The **kernel's spectrum** here, on the same frequency axis: the bands a network learns late are those where
   its kernel's spectrum is small. Without a mapping it falls steeply; a larger σ keeps it flat further out.
3. The **pictures**, one column per mapping. Top: your trained networks. Middle: what the theory predicts
   after as many steps, for the NTK-parameterised, linear-output network of the same depth and mapping at
   infinite width, trained by plain gradient descent at the step η = N/λ_max (N training pixels, λ_max the
   kernel's largest eigenvalue), so that each frequency's error shrinks by the factor 1 − λ_f/λ_max per step,
   the spectrum's value: spectral bias, in pictures. Bottom: where that gradient descent ends if it runs
   forever, kernel regression f = K(grid, train) K(train, train)⁻¹ y: every kernel then interpolates the
   training pixels and the mappings differ far less. The theory is not our finite, sigmoid-output network
   trained by Adam (which moves faster than plain gradient descent): compare the rows in kind, not dB for dB.
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
                preview = gr.Image(label="What will be trained", height=140, interactive=False, format="png",
                                   elem_id="trained-preview", buttons=[])
                selected = gr.CheckboxGroup(list(rules.CHOICES), value=QUICK["selected"], label="Mappings to compare",
                                            elem_id="mappings")
                sigma = gr.Slider(*rules.SIGMA_LOG10, value=QUICK["sigma_log10"], step=0.05,
                                  label="Custom σ (log₁₀ scale)", elem_id="sigma",
                                  info=f"σ = {rules.custom_sigma(QUICK['sigma_log10']):g}")
                # Iterations on a row of its own: beside the resolution its slider had no room to show "5000".
                iters = gr.Slider(25, rules.CAPS.iters, value=QUICK["iters"], step=25, label="Iterations", elem_id="iters")
                size = gr.Dropdown(list(rules.SIZES), value=QUICK["size"], label="Resolution (px)", elem_id="size")
                with gr.Row():
                    lr = gr.Dropdown(list(rules.LEARNING_RATES), value=QUICK["lr"], label="Learning rate", allow_custom_value=True)
                    paper_lr = gr.Checkbox(value=QUICK["paper_lr"], label="Paper's lr for none/basic (1e-2)")
                with gr.Row():
                    demo_button = gr.Button("Class demo (under 30 s)", size="sm", elem_id="class-demo")
                    quick = gr.Button("CPU quick look", size="sm")
                    paper = gr.Button("Paper setting (512 px, 2000 steps)", size="sm")
                plan = gr.Markdown(elem_id="plan")
                with gr.Row():
                    start = gr.Button("Train", variant="primary", elem_id="train")
                    halt = gr.Button("Stop", variant="stop", elem_id="stop")
                with gr.Accordion("Advanced", open=False):
                    extra = gr.Textbox(value=QUICK["extra"], label="More mappings (specs)", placeholder="e.g. gauss:7 posenc:5 none@1e-2",
                                       info="none, basic, posenc:S, gauss:σ, each optionally @LR")
                    with gr.Row():
                        depth = gr.Slider(2, rules.CAPS.depth, value=QUICK["depth"], step=1, label="Depth (layers)")
                        width = gr.Dropdown(list(rules.WIDTHS), value=QUICK["width"], label="Width")
                    with gr.Row():
                        features = gr.Dropdown(list(rules.FEATURES), value=QUICK["features"],
                                               label="Mapping size m (features)")
                        seed = gr.Number(value=QUICK["seed"], precision=0, label="Seed", minimum=0,
                                         maximum=configs.LIMITS["seed"][2])
                    with gr.Row():
                        model = gr.Radio([("ReLU MLP (the paper's)", "relu"), ("SIREN (sine activations)", "siren")],
                                         value=QUICK["model"], label="Network", elem_id="model",
                                         info="SIREN is the other standard answer to spectral bias; try it with No mapping")
                        w0 = gr.Slider(*configs.W0_LIMITS, value=QUICK["w0"], step=1, label="SIREN ω₀", info="its first layer's frequency scale")
            with gr.Column(scale=5):
                state = gr.Markdown("Pick an image and press **Train**.", elem_id="status")
                gr.Markdown("**Reconstructions** (captioned with their test PSNR) and the ground truth")
                recon = gr.Gallery(show_label=False, columns=4, height="auto", object_fit="contain", format="png",
                                   elem_id="recon", allow_preview=True)
                with gr.Row():
                    train_plot = gr.Plot(label="Train PSNR", show_label=False, elem_id="train-plot")
                    test_plot = gr.Plot(label="Test PSNR", show_label=False, elem_id="test-plot")
                gr.Markdown(f"**Which frequencies each network has learned, step by step.** {bands.WHAT_TO_NOTICE}")
                band_plot = gr.Plot(label="Error by frequency band", show_label=False, elem_id="band-plot")
                with gr.Accordion("Replay the run: any step, without training again", open=False, elem_id="replay"):
                    gr.Markdown("Drag to any step of your run (during or after it): its reconstructions as they were "
                                "then, and where that step lies on the test curves. The convergence video (MP4) is "
                                "among the downloads.")
                    replay_step = gr.Slider(0, 1, value=0, step=1, label="Step", elem_id="replay-step")
                    replay_note = gr.Markdown(elem_id="replay-note")
                    replay_gallery = gr.Gallery(show_label=False, columns=4, height="auto", object_fit="contain",
                                                format="png", elem_id="replay-gallery")
                    replay_plot = gr.Plot(show_label=False, elem_id="replay-plot")
                files = gr.File(label="Downloads", file_count="multiple", elem_id="downloads")
                with gr.Accordion("What am I looking at?", open=False):
                    gr.Markdown(EXPLAIN)
                gr.Markdown("### Look closer at the run")
                views_note = gr.Markdown(NO_RUN, elem_id="views-note")
                with gr.Tabs(elem_id="views"):
                    with gr.Tab("Spectra", elem_id="tab-spectra"):
                        gr.Markdown(VIEW_NOTES["spectra"])
                        spectra_img = gr.Image(label="Log spectra", show_label=False, format="png", interactive=False,
                                               elem_id="spectra")
                        radial_plot = gr.Plot(show_label=False, elem_id="radial-plot")
                    with gr.Tab("Row slice", elem_id="tab-row"):
                        gr.Markdown(VIEW_NOTES["row"])
                        row = gr.Slider(0, QUICK["size"] - 1, value=QUICK["size"] // 2, step=1, label="Row", elem_id="row")
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
                    with gr.Tab("Why: the NTK", elem_id="tab-theory"):
                        gr.Markdown(THEORY_NOTE)
                        theory_button = gr.Button("Compute the theory for this run", variant="primary",
                                                  elem_id="theory-run")
                        theory_status = gr.Markdown(elem_id="theory-status")
                        theory_plot = gr.Plot(show_label=False, elem_id="theory-spectrum")
                        theory_img = gr.Image(show_label=False, format="png", interactive=False, elem_id="theory-img")
                    with gr.Tab("σ sweep", elem_id="tab-sweep"):
                        gr.Markdown(VIEW_NOTES["sweep"])
                        with gr.Row():
                            sweep_min = gr.Number(value=0.5, label="σ from", minimum=0)
                            sweep_max = gr.Number(value=50, label="σ to", minimum=0)
                            sweep_n = gr.Slider(2, 24, value=12, step=1, label="How many σ")
                        with gr.Row():
                            sweep_button = gr.Button("Run σ sweep", variant="primary", elem_id="sweep-run")
                            use_button = gr.Button("Use the best σ", elem_id="use-sigma")
                        sweep_plan = gr.Markdown(elem_id="sweep-plan")
                        sweep_status = gr.Markdown(elem_id="sweep-status")
                        sweep_plot = gr.Plot(show_label=False, elem_id="sweep-plot")
                    with gr.Tab("Paper's numbers", elem_id="tab-paper"):
                        gr.Markdown(VIEW_NOTES["paper"])
                        with gr.Row():
                            natural = gr.Button("Paper protocol: natural image", size="sm")
                            text = gr.Button("Paper protocol: text image", size="sm")
                        table = gr.Markdown(NO_RUN, elem_id="paper-table")
                        gr.Markdown("#### Over a set of images: `python -m ffn.table1`")
                        set_table = gr.Markdown(elem_id="set-table")

        gr.Markdown("## The 1D lab: what is learned when, and what the theory predicts")
        with gr.Row(equal_height=False, elem_id="lab"):
            with gr.Column(scale=2, min_width=320):
                gr.Markdown(lab1d.GUIDE)
                lab_target = gr.Radio(list(rules.LAB_TARGETS), value="sines", label=f"Target on [0, 1), {rules.LAB_POINTS} points",
                                      elem_id="lab-target")
                with gr.Row():
                    lab_freqs = gr.Textbox(value="2 8 24", label="Frequencies (cycles)", elem_id="lab-freqs",
                                           info="the sines, and the components whose residual is followed")
                    lab_amps = gr.Textbox(value="", label="Amplitudes", placeholder="1 each",
                                          info="one per frequency, or none")
                lab_alpha = gr.Slider(0, 4, value=1.0, step=0.25, label="α of the 1/f^α signal")
                lab_specs = gr.Textbox(value="none gauss:10 power:1", label="Mappings", elem_id="lab-specs",
                                       info="none, basic, posenc:S, gauss:σ, power:p (b_j = j, a_j = j^-p)")
                with gr.Row():
                    lab_steps = gr.Slider(100, rules.LAB_STEPS, value=1000, step=100, label="Steps")
                    lab_width = gr.Dropdown(list(rules.LAB_WIDTHS), value=256, label="Width")
                lab_optimizer = gr.Radio([("Gradient descent (the theory's)", "gd"), ("Adam", "adam")], value="gd",
                                         label="Optimizer")
                with gr.Row():
                    lab_start = gr.Button("Run the 1D lab", variant="primary", elem_id="lab-run")
                    lab_halt = gr.Button("Stop", variant="stop")
            with gr.Column(scale=5):
                lab_status = gr.Markdown("Press **Run the 1D lab**.", elem_id="lab-status")
                with gr.Row():
                    lab_fit = gr.Plot(show_label=False, elem_id="lab-fit")
                    lab_loss = gr.Plot(show_label=False, elem_id="lab-loss")
                lab_residuals = gr.Plot(show_label=False, elem_id="lab-residuals")
                lab_spectrum = gr.Plot(show_label=False, elem_id="lab-spectrum")
        lab_start.click(lab_run, [lab_target, lab_freqs, lab_amps, lab_alpha, lab_specs, lab_steps, lab_optimizer,
                                  lab_width], [lab_status, lab_fit, lab_loss, lab_residuals, lab_spectrum],
                        api_name="lab1d", concurrency_limit=CONCURRENT_RUNS, concurrency_id="train",
                        show_progress="minimal", show_progress_on=[lab_status], preprocess=False)
        lab_halt.click(stop, None, None, queue=False, api_name="stop_lab", api_visibility="private")

        with gr.Accordion("About this server: hardware, speed and limits", open=False):
            footer = gr.Markdown(elem_id="server-limits")
        blocks.load(lambda: rules.limits_text(rules.CAPS, SPEED, CONCURRENT_RUNS, MAX_QUEUE), None, footer,
                    queue=False, api_visibility="private")

        blocks.load(set_table_text, None, set_table, queue=False, api_visibility="private")
        result = gr.State(None, time_to_live=3600)  # this visitor's finished run (see Result)
        history = gr.State(None, time_to_live=3600)  # this visitor's run so far, every snapshot (for the replay)
        settings = [selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, seed, model, w0]
        # preprocess=False here and on the runs below: the handlers get the values as sent and check them all
        # themselves (make_config), with a sentence for each mistake; Gradio's own checks fail on some with a
        # bare "error" (a seed of NaN, a width of "abc", a list for a slider).
        for control in settings:
            control.change(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private",
                           preprocess=False)
        blocks.load(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private",
                    preprocess=False)
        sigma.change(lambda s: gr.update(info=f"σ = {rules.custom_sigma(s):g}"), sigma, sigma, queue=False,
                     show_progress="hidden", api_visibility="private")
        for trigger in (image.change, size.change):
            trigger(trained_preview, [image, size], [preview, preview], queue=False, show_progress="hidden",
                    api_visibility="private", preprocess=False)

        # Presets are defined in ffn.config; the page shows them through rules.page_values.
        preset_outputs = [selected, sigma, extra, size, iters, lr, paper_lr, depth, width, features, model, w0]

        def preset(config: configs.Config):
            values = rules.page_values(config)
            return [gr.update(value=values[name]) for name in ("selected", "sigma_log10", "extra", "size", "iters", "lr",
                                                               "paper_lr", "depth", "width", "features", "model", "w0")]

        for button, config in ((demo_button, configs.CLASS), (quick, configs.CPU), (paper, configs.PAPER),
                               (natural, configs.PAPER_PROTOCOL_NATURAL),
                               (text, configs.PAPER_PROTOCOL_TEXT)):
            button.click(functools.partial(preset, config), None, preset_outputs, queue=False, api_visibility="private")

        # Registered before the run: the page handles one trigger's listeners in order, each after the last ends.
        start.click(starting, iters, [views_note, replay_step], queue=False, api_visibility="private", preprocess=False)
        train_event = start.click(
            train_run, [image] + settings, [state, recon, train_plot, test_plot, band_plot, files, result, history],
            api_name="train",
            concurrency_limit=CONCURRENT_RUNS, concurrency_id="train", show_progress="minimal", show_progress_on=[state],
            preprocess=False, validator=_validator(train_run, rules.make_config), api_description=rules.api_description(),
        ).then(show_views, [result, row], [views_note, spectra_img, radial_plot, row_plot, error_img, kernel_plot, table,
                                            row, zoom_spec, kernel_spec], api_visibility="private")
        # A State's change event does not fire when the same History object grows, so the replay's range is set
        # from the steps asked for at the click, and to the steps done when the run ends (a Stop ends it early).
        train_event.then(replay_range, history, replay_step, queue=False, api_visibility="private")
        # The plans are estimated again with the speed this run measured.
        train_event.then(describe_plan, settings, plan, queue=False, show_progress="hidden", api_visibility="private",
                         preprocess=False)
        replay_step.change(replay, [history, replay_step], [replay_gallery, replay_plot, replay_note], queue=False,
                           show_progress="hidden", api_visibility="private", preprocess=False)
        # .change, not .release: typing a row or stepping with the arrow keys must redraw too.
        row.change(row_figure, [result, row], row_plot, queue=False, show_progress="hidden", api_visibility="private")
        zoom_button.click(zoom_view, [result, zoom_spec, zoom_factor], zoom_img, concurrency_id="train",
                          api_visibility="private")
        theory_button.click(theory_view, result, [theory_status, theory_plot, theory_img], concurrency_id="train",
                            api_visibility="private")
        kernel_button.click(kernel_view, [result, kernel_spec, trained], [kernel_map, ntk_map], concurrency_id="train",
                            api_visibility="private")
        best_sigma = gr.State(None)
        sweep_button.click(
            sweep_run, [image, sweep_min, sweep_max, sweep_n, size, iters, lr, depth, width, features, seed, model, w0],
            [sweep_status, sweep_plot, best_sigma], api_name="sweep", concurrency_limit=CONCURRENT_RUNS,
            concurrency_id="train", show_progress="minimal", show_progress_on=[sweep_status], preprocess=False,
            validator=_validator(sweep_run, rules.make_sweep_config))
        use_button.click(use_sigma, [best_sigma, selected], [sigma, selected, sweep_status], queue=False,
                         api_visibility="private")
        sweep_settings = [sweep_min, sweep_max, sweep_n, size, iters, lr, depth, width, features, seed, model, w0]
        train_event.then(describe_sweep, sweep_settings, sweep_plan, queue=False, show_progress="hidden",
                         api_visibility="private", preprocess=False)
        for control in sweep_settings:
            control.change(describe_sweep, sweep_settings, sweep_plan, queue=False, show_progress="hidden",
                           api_visibility="private", preprocess=False)
        blocks.load(describe_sweep, sweep_settings, sweep_plan, queue=False, show_progress="hidden",
                    api_visibility="private", preprocess=False)

        halt.click(stop, None, None, queue=False, api_name="stop")
    blocks.queue(max_size=MAX_QUEUE, default_concurrency_limit=CONCURRENT_RUNS)
    return blocks


demo = build()

LAUNCH = dict(max_file_size="20mb", css=CSS, run_history=False,  # serves only its own files and assets
              state_session_capacity=STATE_SESSIONS)


def main(argv=None):
    host, port = rules.listen_address()
    p = argparse.ArgumentParser(description="Fourier Features Explorer: serve the app.")
    p.add_argument("--host", default=host, help="address to listen on (on a Hugging Face Space: 0.0.0.0)")
    p.add_argument("--port", type=int, default=port, help="port")
    p.add_argument("--share", action="store_true", help="also make a public link (needs the internet; not on a Space)")
    args = p.parse_args(argv)
    share = args.share and not rules.space_id()  # a Space is public already; Gradio ignores share there
    # Compiled programs survive restarts on disk, and the defaults' programs compile while the page loads,
    # so the first Train click starts at once (see README, Performance).
    train.enable_compilation_cache()
    warm = lambda: [train.warm_up(c) for c in (configs.CPU, configs.CLASS)]  # noqa: E731 (the presets' programs)
    threading.Thread(target=warm, name="warm-up", daemon=True).start()
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # Gradio's own lines, including a long one when sharing fails
        _, local_url, share_url = demo.launch(server_name=args.host, server_port=args.port, share=share,
                                              prevent_thread_lock=True, quiet=True, **LAUNCH)
    print(f"Fourier Features Explorer is serving at {local_url} ({rules.hardware()})", flush=True)
    if args.share and rules.space_id():
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
