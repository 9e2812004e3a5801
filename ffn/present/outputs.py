"""The figures and files of a run: what the command line writes and the page offers as downloads.

`write_outputs` writes an image run (metrics, pictures, curves, band errors, the video); `write_spectra`,
`write_sweep` and `write_theory` what `python -m ffn` adds; `write_lab` the 1D lab's; `write_table1` a set's
Table 1.
"""

import json
import math
import pathlib
import sys

import numpy as np
from PIL import Image

from ffn.core import bands, checks, ntk
from ffn.experiments import lab1d, runs
from ffn.present import grids, plots, text, video


def _titles(history: runs.History) -> tuple[str, str]:
    return plots.TASK_TITLES if history.problem is not None else (plots.TRAIN_TITLE, plots.TEST_TITLE)


def run_figures(history: runs.History):
    """(train, test) PSNR Plotly figures, one colour per mapping in both (an inverse problem's: the fit to the
    measurements and the reconstruction's PSNR against the object)."""
    return plots.psnr_figures(history.steps, history.train_psnr, history.test_psnr, titles=_titles(history))


def band_figure(history: runs.History, height: int | None = None):
    """The relative error per frequency band against step, one small heatmap per mapping
    (`plots.band_error_figure`); bands.WHAT_TO_NOTICE says what to look for."""
    shape = (len(history.steps), history.bands.count)
    errors = {s: np.asarray(rows).reshape(shape) for s, rows in history.band_errors.items()}
    return plots.band_error_figure(history.steps, errors, history.bands.edges, history.bands.empty, None, height)


def test_figure_at(history: runs.History, step: int):
    """The test PSNR curves with the replayed step marked."""
    return plots.psnr_figure(history.steps, history.test_psnr, plots.TEST_TITLE, marker=step)


def write_outputs(out_dir, history: runs.History, video_file: bool = True) -> dict[str, pathlib.Path]:
    """Writes metrics.json, metrics.csv, one PNG per mapping, ground_truth.png, comparison.png, psnr.html,
    bands.html and training.mp4 into out_dir (created if needed). Returns name -> path."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}

    def save_png(name, picture):
        paths[name] = out / name
        Image.fromarray(picture).save(paths[name])

    paths["metrics.json"] = out / "metrics.json"
    paths["metrics.json"].write_text(json.dumps(history.metrics(), indent=1, allow_nan=False))
    paths["metrics.csv"] = out / "metrics.csv"
    paths["metrics.csv"].write_text(history.csv())
    for spec in history.config.mappings:
        save_png(f"{runs.filename(spec)}.png", history.last.images[spec])
    save_png("ground_truth.png", history.ground_truth)
    save_png("comparison.png", grids.comparison(history))
    paths["psnr.html"] = plots.write_psnr_html(out / "psnr.html", history.steps, history.train_psnr,
                                               history.test_psnr, title=f"PSNR · {history.name}",
                                               titles=_titles(history))
    paths["bands.html"] = plots.write_band_html(out / "bands.html", band_figure(history),
                                                title=f"Error per frequency band · {history.name}",
                                                note=bands.WHAT_TO_NOTICE)
    if video_file:
        paths["training.mp4"] = video.write_mp4(out / "training.mp4", grids.video_frames(history))
    return paths


def write_spectra(out: pathlib.Path, history) -> dict[str, pathlib.Path]:
    """spectra.html (radial power of every reconstruction and the ground truth) and spectra.png (log spectra)."""

    last = history.last
    paths = {"spectra.html": out / "spectra.html", "spectra.png": out / "spectra.png"}
    plots.radial_power_figure(last.images, history.ground_truth, height=480).write_html(
        paths["spectra.html"], include_plotlyjs=True)
    grid = grids.spectra_grid(last.images, history.ground_truth, f"log |FFT| · {history.name} · step {last.step}")
    Image.fromarray(grid).save(paths["spectra.png"])
    return paths


def write_sweep(out: pathlib.Path, summary: dict) -> dict[str, pathlib.Path]:
    """sweep.json (the summary of `ffn.sweep.summarise_sweep`) and sweep.html (PSNR against σ)."""

    paths = {"sweep.json": out / "sweep.json", "sweep.html": out / "sweep.html"}
    paths["sweep.json"].write_text(json.dumps(summary, indent=1, allow_nan=False))
    plots.sweep_figure(summary, height=480).write_html(paths["sweep.html"], include_plotlyjs=True)
    return paths


def write_theory(out: pathlib.Path, image, config, task=None) -> dict[str, pathlib.Path]:
    """What the infinite-width NTK predicts (`ffn.ntk.predictions`), per mapping: ntk_SPEC.png, the limit
    (kernel regression), and ntk_SPEC_ITERS_steps.png, after the run's number of gradient-descent steps, with
    their PSNRs as "ntk" in metrics.json's mappings; above `ntk.MAX_REGRESSION_SIZE` a one-line note instead.

    With `task` (an `inverse.Task`), the same through its operator (`ntk.operator_predictions`: kernel
    regression on the measurements), up to `ntk.MAX_OPERATOR_SIZE`; train PSNR is then the measurements' fit."""

    try:
        ntk.regression_size(config.size) if task is None else ntk.operator_size(config.size)
    except checks.Invalid as e:
        print(f"note: --theory skipped: {e}", file=sys.stderr)
        return {}
    predict = ((lambda spec: ntk.predictions(image, spec, config, steps=[config.iters])) if task is None else
               (lambda spec: ntk.operator_predictions(task, spec, config, steps=[config.iters])))
    fit = "train" if task is None else "measurement fit"
    metrics_path = out / "metrics.json"
    document = json.loads(metrics_path.read_text())
    finite = lambda v: round(v, 4) if math.isfinite(v) else None  # noqa: E731 (JSON has no inf)
    paths = {}
    for spec in config.mappings:
        at_steps, limit = predict(spec)
        stem = f"ntk_{runs.filename(spec)}"
        for name, prediction in ((f"{stem}.png", limit), (f"{stem}_{config.iters}_steps.png", at_steps)):
            paths[name] = out / name
            Image.fromarray(prediction.picture).save(paths[name])
        document["mappings"][spec]["ntk"] = {
            "train_psnr": finite(limit.train_psnr), "test_psnr": finite(limit.test_psnr),
            "at_steps": {"steps": config.iters, "train_psnr": finite(at_steps.train_psnr),
                         "test_psnr": finite(at_steps.test_psnr)}}
        print(f"NTK {spec}: after {config.iters} steps {fit} {at_steps.train_psnr:.2f} dB, test "
              f"{at_steps.test_psnr:.2f} dB; converged (kernel regression) {fit} {limit.train_psnr:.2f} dB, test "
              f"{limit.test_psnr:.2f} dB")
    metrics_path.write_text(json.dumps(document, indent=1, allow_nan=False))
    return paths


def lab_figures(snap: lab1d.LabSnapshot, height: int = 360) -> dict:
    """The page's four figures of a snapshot: fit, loss, residuals (measured vs predicted), spectrum."""
    colors = plots.mapping_colors(list(snap.specs))
    return {
        "fit": plots.lab1d_fit_figure(snap.grid, snap.target, snap.fits, colors=colors, height=height),
        "loss": plots.lab1d_loss_figure(snap.history_steps, snap.train_mse, snap.test_mse, colors=colors, height=height),
        "residuals": plots.lab1d_residual_figure(snap.history_steps, snap.freqs, snap.measured, snap.predicted,
                                                 colors=colors, height=height),
        "spectrum": plots.lab1d_spectrum_figure(snap.spectrum_freqs, snap.spectra, colors=colors, height=height),
    }


def write_lab(out, snap: lab1d.LabSnapshot, title: str = "Fourier features in 1D: what is learned when") -> dict:
    """lab1d.json (`lab1d.summary`) and lab1d.html (the four figures and GUIDE, plotly.js inlined) in folder `out`."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"lab1d.json": out / "lab1d.json", "lab1d.html": out / "lab1d.html"}
    paths["lab1d.json"].write_text(json.dumps(lab1d.summary(snap), indent=1, allow_nan=False))
    notes = lab1d.GUIDE.replace("**", "").replace("`", "")  # the page renders GUIDE as Markdown; here it is plain text
    plots.write_figures_html(paths["lab1d.html"], lab_figures(snap, height=400), title=title, notes=notes)
    return paths


def write_table1(out: str | pathlib.Path, doc: dict) -> dict[str, pathlib.Path]:
    """Writes table1.json and table1.md (`text.table_markdown`) into folder `out`; returns their paths."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"table1.json": out / "table1.json", "table1.md": out / "table1.md"}
    paths["table1.json"].write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    paths["table1.md"].write_text(text.table_markdown(doc) + "\n")
    return paths


# ---------------------------------------------------------------------------------------------------------
# The bundled text images
