"""A visitor's current run and every view derived from it, without Gradio.

`Run` is the one run state of a visitor of the Images page: the run's number (1, 2, … for that visitor), its
history (every snapshot so far, the last one holding the weights) and whether it has ended. Each view below is
a function of a `Run` (and the view's own controls); it checks those controls with a sentence (`checks.Invalid`)
and names the run it shows, so a picture never stands beside another run's caption. A new run replaces the
`Run`, and the page clears every view derived from the old one (`cleared_note`).
"""

import dataclasses
import math
import time
from collections.abc import Iterator

import numpy as np

from ffn.core import analysis, checks, cost, data, ntk
from ffn.experiments import runs
from ffn.experiments import sweep as sweeps
from ffn.present import grids, measurements, outputs, plots, text
from ffn.serve import rules

NO_RUN = "Train first: these views show the run you just trained."
KERNEL_GRID = 48  # points per side of the empirical-NTK heatmap (a 48² grid: a second or two on 2 cores)


@dataclasses.dataclass(frozen=True)
class Run:
    """A visitor's current run: what every view of the Images page is derived from."""

    number: int  # this visitor's runs so far, this one included
    history: runs.History  # its snapshots; `history.last` holds the pictures, PSNRs, weights and B of each mapping
    done: bool = False  # it has ended (finished, stopped, or reached the time limit)

    @property
    def config(self):
        return self.history.config

    @property
    def snap(self):
        return self.history.last

    @property
    def label(self) -> str:
        """'run 2 (cat, 128 px, step 500)': what every view says it shows."""
        step = f", step {self.snap.step}" if self.snap is not None else ""
        return f"run {self.number} ({self.history.name}, {self.config.size} px{step})"


def require(run: Run | None) -> Run:
    """The visitor's finished run, or a sentence saying there is none yet (or that it is still training)."""
    if run is None:
        raise checks.Invalid(NO_RUN)
    if not run.done:
        raise checks.Invalid(f"Run {run.number} is still training: the views show it once it ends (or press Stop).")
    return run


def cleared_note(number: int, name: str) -> str:
    """What the views say while a new run trains: their old pictures are gone, and which run they will show."""
    cleared = " The previous run's pictures were cleared." if number > 1 else ""
    return f"Run {number} ({name}) is training: the views will show it when it ends.{cleared}"


def overview(run: Run, row) -> dict:
    """The cheap views of a finished run, computed at once when it ends: spectra, radial power, a row slice,
    error maps, the mappings' kernels and the run beside the paper's Table 1."""
    run = require(run)
    snap, truth, specs = run.snap, run.history.ground_truth, list(run.config.mappings)
    best = runs.best_mapping(snap) or specs[-1]
    row = min(max(0, int(row) if isinstance(row, (int, float)) and math.isfinite(row) else 0), run.config.size - 1)
    return dict(
        note=(f"These views show **{run.label}**: {', '.join(specs)}. The mapping menus start at its best mapping, "
              f"{best}."),
        spectra=grids.spectra_grid(snap.images, truth, f"log |FFT| · {run.label}: low frequencies in the centre"),
        radial=plots.radial_power_figure(snap.images, truth),
        row=row_figure(run, row), row_value=row, row_max=run.config.size - 1,
        errors=grids.error_grid(snap.images, truth),
        kernels=plots.kernel_slices_figure(snap.bases),
        paper=text.paper_table(run.config, snap),
        specs=specs, best=best)


def radial(run: Run | None):
    """The radial power spectra of the run's reconstructions and its ground truth (None before a run)."""
    return None if run is None or not run.done else plots.radial_power_figure(run.snap.images, run.history.ground_truth)


def kernel_slices(run: Run | None):
    """Each mapping's kernel along x (None before a run)."""
    return None if run is None or not run.done else plots.kernel_slices_figure(run.snap.bases)


def row_figure(run: Run, row):
    """One row of every reconstruction and the ground truth; the row is checked against the run's size."""
    run = require(run)
    row = checks.whole(row, "Row", 0, run.config.size - 1, param="row")
    return plots.row_slice_figure(run.snap.images, run.history.ground_truth, row)


def replay(run: Run | None, step) -> tuple[int, list, object, str]:
    """(the snapshot's step, gallery, test curves marked there, a sentence) at any step of the run so far; a step
    past the snapshots says which one it shows."""
    if run is None or not run.history.steps:
        raise checks.Invalid("Train first: the replay shows the snapshots of your run.", "step")
    history = run.history
    at, items = history.replay(step)
    said = f"Step **{at}** of {history.config.iters} ({run.label}): the networks as they were then."
    if isinstance(step, (int, float)) and step > history.steps[-1]:
        said += f" The run has no snapshot after step {history.steps[-1]} yet: this is its latest."
    return at, items, outputs.test_figure_at(history, at), said


def _mapping(run: Run, spec) -> str:
    if spec not in run.snap.params:
        raise checks.Invalid(f"Choose one of {run.label}'s mappings ({', '.join(run.config.mappings)}).", "spec")
    return spec


def zoom(run: Run, spec, factor):
    """A mapping's network rendered at factor× resolution beside a bicubic upscale of its training pixels."""
    run = require(run)
    spec = _mapping(run, spec)
    factor = checks.one_of(factor, "Zoom", (2, 4), param="factor")
    zoomed = analysis.zoom(run.config, run.snap, spec, factor)
    bicubic = analysis.bicubic_from_training_pixels(run.history.ground_truth, factor)
    return grids.images.tile_grid([(f"{spec} ({run.label}): the network at {zoomed.shape[0]} px", zoomed),
                                   (f"bicubic from the {run.config.size // 2} px training pixels", bicubic)],
                                  min_tile=1)


def kernels(run: Run, spec, trained) -> tuple:
    """(the mapping's own kernel, the network's empirical NTK around the centre pixel), as heatmaps."""
    run = require(run)
    spec = _mapping(run, spec)
    trained = checks.flag(trained, "trained")
    tangent = analysis.ntk_map(run.config, run.snap, spec, n=KERNEL_GRID, trained=trained)
    return (plots.kernel_heatmap_figure(run.snap.bases[spec], spec),
            plots.ntk_heatmap_figure(tangent, spec, trained=trained))


def theory_cost(run: Run | None) -> str:
    """What the theory view will compute for this run and about how long it takes here, said before it starts."""
    if run is None or not run.done:
        return "Train first: the theory is computed for the run you just trained."
    config = run.config
    try:
        ntk.regression_size(config.size)
    except checks.Invalid as e:
        return f"For {run.label}: the kernels' spectra only (a few seconds). {e}"
    seconds = len(config.mappings) * ntk.prediction_seconds(config.size, run.snap.step)
    return (f"For {run.label}: each mapping's kernel spectrum, then its pictures at {config.size} px, about "
            f"**{cost.duration(seconds)}** here for {len(config.mappings)} mappings.")


def theory_check(run: Run | None) -> Run:
    """The finished run whose theory a visitor asks for, refused up front when its estimate is over the limit."""
    run = require(run)
    try:
        size = ntk.regression_size(run.config.size)
    except checks.Invalid:
        return run  # the spectra alone: seconds
    seconds = len(run.config.mappings) * ntk.prediction_seconds(size, run.snap.step)
    rules.check_job_time(seconds, f"The theory's pictures for {run.label}", "current")
    return run


def theory(run: Run, flag=None, limit_seconds: float = 0.0) -> Iterator[tuple[str, object, object]]:
    """What the neural tangent kernel says about the run's mappings: each kernel's spectrum on the band chart's
    frequency axis, then (up to ntk.MAX_REGRESSION_SIZE px) the pictures the infinite-width network reaches after
    as many gradient-descent steps as the run took and in the limit, one mapping at a time, under the trained
    networks. Yields (status, spectrum figure or None to keep, pictures or None to keep). Between mappings it
    ends early, saying so, when `flag` (the visitor's Stop) is set or `limit_seconds` (0: none) have passed."""
    run = require(run)
    start = time.perf_counter()
    config, truth, snapshot = run.config, run.history.ground_truth, run.snap
    yield f"{run.label}: computing each mapping's kernel spectrum…", None, None
    edges, spectra = ntk.band_spectra(config)
    figure = plots.ntk_band_spectrum_figure(edges, spectra)
    try:
        ntk.regression_size(config.size)
    except checks.Invalid as e:
        yield f"Kernel spectra of {run.label}'s mappings above. No pictures: {e}", figure, None
        return
    image, results, steps = analysis.as_float(truth), {}, snapshot.step
    for i, spec in enumerate(config.mappings):
        if flag is not None and flag.is_set():
            yield f"Stopped after {i} of {len(config.mappings)} mappings: press the button again to compute them.", \
                figure, None
            return
        if limit_seconds and time.perf_counter() - start > limit_seconds:
            yield (f"Stopped after {i} of {len(config.mappings)} mappings: this server's time limit of "
                   f"{cost.duration(limit_seconds)} per job."), figure, None
            return
        yield f"{run.label}: the theory's pictures, {spec} ({i + 1} of {len(config.mappings)})…", figure, None
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
    yield (f"Done, for {run.label}. After {steps} steps of gradient descent the theory's best test PSNR is "
           f"**{best}**'s, {at_steps[best]:.2f} dB{none}; your trained networks' best: {yours}.{siren}", figure,
           grids.prediction_grid(rows, truth, f"Rows: trained (Adam) · NTK after {steps} gradient-descent steps · "
                                              "NTK limit (kernel regression)"))


def sweep_verdict(summary: dict, step: int, name: str, note: str = "") -> str:
    """The σ sweep's closing sentence: its best σ and the plateau of σ as good as it (`sweep.PLATEAU_DB`)."""
    after = f"  \n{note}" if note else ""
    if summary["best_sigma"] is None:
        return f"σ sweep on {name} at step {step}: every σ diverged: lower the learning rate.{after}"
    top = max(v for v in summary["final_test_psnr"] if v is not None)
    low, high = summary["plateau"]
    plateau = (f"; every σ from {low:g} to {high:g} is within {sweeps.PLATEAU_DB:g} dB of it (shaded): a plateau, "
               "not one best value" if high > low else "")
    return f"σ sweep on {name} done at step {step}: best σ = **{summary['best_sigma']:g}** (test PSNR {top:.2f} dB){plateau}.{after}"


# --- The inverse page's views ----------------------------------------------------------------------------------


def measurement_gallery(task, name: str) -> list[tuple]:
    """(picture, caption) of the object and of what the networks are trained on instead (`inverse.Task`)."""
    size = task.obj.shape[0]
    return [(data.to_uint8(np.asarray(task.obj)), f"the object ({name}, {size} px): never seen by the networks")] + \
        [(picture, caption) for _, caption, picture in measurements.pictures(task)]


def inverse_theory_cost(run: Run | None) -> str:
    """What the inverse page's theory will compute for this run and about how long it takes here, said before."""
    if run is None or not run.done or run.history.problem is None:
        return "Train first: the theory is computed for the run you just trained."
    config, problem = run.config, run.history.problem
    try:
        ntk.operator_size(config.size)
    except checks.Invalid as e:
        return f"For {run.label}: no theory. {e} Choose 64 px or less and train again."
    seconds = len(config.mappings) * ntk.operator_prediction_seconds(
        config.size, problem.measurement_count(config.size), run.snap.step)
    return (f"For {run.label}: for each mapping, the infinite-width network's reconstruction from the same "
            f"measurements after {run.snap.step} gradient-descent steps and in the limit, about "
            f"**{cost.duration(seconds)}** here for {len(config.mappings)} mappings.")


def inverse_theory(run: Run, flag=None, limit_seconds: float = 0.0) -> Iterator[tuple[str, object]]:
    """The NTK's reconstructions through the run's operator (`ntk.operator_predictions`), one mapping at a time,
    under the trained networks. Yields (status, picture or None to keep). Between mappings it ends early, saying
    so, when `flag` (the visitor's Stop) is set or `limit_seconds` (0: none) have passed."""
    run = require(run)
    start = time.perf_counter()
    config, history, snapshot = run.config, run.history, run.snap
    if history.problem is None:
        raise checks.Invalid("This run is not an inverse problem's.")
    ntk.operator_size(config.size)
    task = history.problem.task(history.obj)
    results, steps = {}, snapshot.step
    for i, spec in enumerate(config.mappings):
        if flag is not None and flag.is_set():
            yield f"Stopped after {i} of {len(config.mappings)} mappings: press the button again to compute them.", None
            return
        if limit_seconds and time.perf_counter() - start > limit_seconds:
            yield (f"Stopped after {i} of {len(config.mappings)} mappings: this server's time limit of "
                   f"{cost.duration(limit_seconds)} per job."), None
            return
        yield f"{run.label}: the theory's reconstructions, {spec} ({i + 1} of {len(config.mappings)})…", None
        results[spec] = ntk.operator_predictions(task, spec, config, steps=[steps])
    rows = [("trained", {s: (snapshot.images[s], snapshot.test_psnr[s]) for s in config.mappings}),
            (f"NTK {steps} steps", {s: (p[0].picture, p[0].test_psnr) for s, p in results.items()}),
            ("NTK limit", {s: (p[1].picture, p[1].test_psnr) for s, p in results.items()})]
    at_steps = {s: p[0].test_psnr for s, p in results.items()}
    limit = {s: p[1].test_psnr for s, p in results.items()}
    best, best_limit, trained = max(at_steps, key=at_steps.get), max(limit, key=limit.get), runs.best_mapping(snapshot)
    # Specs as code: none@0.01 would otherwise read as an e-mail address.
    yours = f"**`{trained}`**, {snapshot.test_psnr[trained]:.2f} dB" if trained else "none (every run diverged)"
    yield (f"Done, for {run.label}. After {steps} steps of gradient descent the theory's best reconstruction is "
           f"**`{best}`**'s, {at_steps[best]:.2f} dB; in the limit (kernel regression on the measurements, f = K Aᵀ "
           f"(A K Aᵀ)⁻¹ y) **`{best_limit}`**'s, {limit[best_limit]:.2f} dB; your trained networks' best: {yours}.",
           grids.prediction_grid(rows, history.ground_truth,
                                 f"Trained (Adam) · NTK after {steps} gradient-descent steps · NTK limit"))
