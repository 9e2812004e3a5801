"""The figures and files of a run: what the command line writes and the page offers as downloads.

`write_outputs` writes an image run (metrics, pictures, curves, band errors, the video); `write_spectra`,
`write_sweep` (`write_sweep_table`: its table as JSON and CSV), `write_seeds` and `write_theory` what
`python -m ffn` adds; `write_lab` the 1D lab's; `write_table1` a set's Table 1. Every JSON document written here
carries a "provenance" block (`ffn.core.provenance.record`: code, libraries, machine, input, setting, command, date).
"""

import csv
import dataclasses
import io
import json
import math
import pathlib
import sys

import numpy as np
from PIL import Image

from ffn.core import bands, checks, data, ntk, provenance
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


def run_inputs(config, source=None, command: str | None = None) -> list[dict]:
    """The image file a run of `config` read (`provenance.file_facts`), with the window it trained on when cropped;
    [] without a file. Without a `command` (the app) the file is named without its folder, which is the server's."""
    if source is None:
        return []
    facts = provenance.file_facts(source, None if command else pathlib.Path(source).name)
    if config.crop and facts["width"] is not None:  # a single run trains on the centre window
        facts["window"] = list(data.window_boxes(facts["width"], facts["height"], config.size, 1)[0])
    return [facts]


def run_provenance(config, source=None, command: str | None = None) -> dict:
    """The provenance block of a run's files: its `config`, its image file `source` (a path) and the command that
    ran it (None: the app)."""
    return provenance.record(config.to_dict(), run_inputs(config, source, command), command)


def write_outputs(out_dir, history: runs.History, video_file: bool = True, command: str | None = None,
                  charts: str = "inline") -> dict[str, pathlib.Path]:
    """Writes metrics.json, metrics.csv, one PNG per mapping, ground_truth.png, comparison.png, psnr.html,
    bands.html and training.mp4 into out_dir (created if needed). Returns name -> path.

    metrics.json's "provenance" names `command` (the command line that ran it; None from the app). `charts`:
    "inline" puts plotly.js (4.6 MB) in each chart page, which then opens offline (the command line); "cdn" has the
    page load it from plotly's public CDN (a server's downloads: a few kB a page, not 4.6 MB a run; the same numbers
    are in metrics.json)."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}

    def save_png(name, picture):
        paths[name] = out / name
        Image.fromarray(picture).save(paths[name])

    paths["metrics.json"] = out / "metrics.json"
    document = {**history.metrics(), "provenance": run_provenance(history.config, history.source, command)}
    paths["metrics.json"].write_text(json.dumps(document, indent=1, allow_nan=False))
    paths["metrics.csv"] = out / "metrics.csv"
    paths["metrics.csv"].write_text(history.csv())
    for spec in history.config.mappings:
        save_png(f"{runs.filename(spec)}.png", history.last.images[spec])
    save_png("ground_truth.png", history.ground_truth)
    save_png("comparison.png", grids.comparison(history))
    paths["psnr.html"] = plots.write_psnr_html(out / "psnr.html", history.steps, history.train_psnr,
                                               history.test_psnr, title=f"PSNR · {history.name}", plotlyjs=charts,
                                               titles=_titles(history))
    paths["bands.html"] = plots.write_band_html(out / "bands.html", band_figure(history),
                                                title=f"Error per frequency band · {history.name}",
                                                note=bands.WHAT_TO_NOTICE, plotlyjs=charts)
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


def sweep_csv(summary: dict) -> str:
    """A sweep's table as CSV: sigma, final_train_psnr, final_test_psnr, best (1 on the best σ's row); a diverged
    network's PSNR is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sigma", "final_train_psnr", "final_test_psnr", "best"])
    cell = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
    for sigma, train, test in zip(summary["sigmas"], summary["final_train_psnr"], summary["final_test_psnr"]):
        writer.writerow([f"{sigma:g}", cell(train), cell(test), int(sigma == summary["best_sigma"])])
    return out.getvalue()


def write_sweep_table(out, summary: dict, config, source=None, command: str | None = None) -> dict[str, pathlib.Path]:
    """sweep.json (the summary of `ffn.experiments.sweep.summarise_sweep` with the provenance of the sweep's
    `config`, its image file `source` and `command`, None from the app) and sweep.csv (`sweep_csv`) in folder `out`
    (created if needed): the sweep's table, to download."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"sweep.json": out / "sweep.json", "sweep.csv": out / "sweep.csv"}
    document = {**summary, "provenance": run_provenance(config, source, command)}
    paths["sweep.json"].write_text(json.dumps(document, indent=1, allow_nan=False))
    paths["sweep.csv"].write_text(sweep_csv(summary))
    return paths


def write_sweep(out: pathlib.Path, summary: dict, config, source=None, command: str | None = None) -> dict[str, pathlib.Path]:
    """sweep.json and sweep.csv (`write_sweep_table`) and sweep.html (PSNR against σ)."""

    paths = write_sweep_table(out, summary, config, source, command)
    paths["sweep.html"] = out / "sweep.html"
    plots.sweep_figure(summary, height=480).write_html(paths["sweep.html"], include_plotlyjs=True)
    return paths


def write_seeds(out, summary: dict, config, seeds, source=None, command: str | None = None) -> dict[str, pathlib.Path]:
    """seeds.json: `ffn.experiments.seeds.summarise` of runs of `config` repeated over `seeds`, with their
    provenance (the config's seed replaced by the list)."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    block = run_provenance(config, source, command)
    block["config"] = {**block["config"], "seed": None, "seeds": list(seeds)}
    path = out / "seeds.json"
    path.write_text(json.dumps({**summary, "provenance": block}, indent=1, allow_nan=False))
    return {"seeds.json": path}


def write_theory(out: pathlib.Path, image, config, task=None) -> dict[str, pathlib.Path]:
    """What the infinite-width NTK predicts (`ffn.core.ntk.predictions`), per mapping: ntk_SPEC.png, the limit
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


def write_lab(out, snap: lab1d.LabSnapshot, title: str = "Fourier features in 1D: what is learned when",
              config: lab1d.LabConfig | None = None, command: str | None = None) -> dict:
    """lab1d.json (`lab1d.summary`, with the provenance of `config`, the run's setting, and `command`) and
    lab1d.html (the four figures and GUIDE, plotly.js inlined) in folder `out`."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"lab1d.json": out / "lab1d.json", "lab1d.html": out / "lab1d.html"}
    setting = dataclasses.asdict(config) if config is not None else None
    document = {**lab1d.summary(snap), "provenance": provenance.record(setting, (), command)}
    paths["lab1d.json"].write_text(json.dumps(document, indent=1, allow_nan=False))
    notes = lab1d.GUIDE.replace("**", "").replace("`", "")  # the page renders GUIDE as Markdown; here it is plain text
    plots.write_figures_html(paths["lab1d.html"], lab_figures(snap, height=400), title=title, notes=notes)
    return paths


def write_table1(out: str | pathlib.Path, doc: dict, inputs=(), command: str | None = None) -> dict[str, pathlib.Path]:
    """Writes table1.json (with the provenance of the files in `inputs`, the images read or the shards' table1.json
    merged, and `command`) and table1.md (`text.table_markdown`) into folder `out`; returns their paths."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"table1.json": out / "table1.json", "table1.md": out / "table1.md"}
    doc = {**doc, "provenance": provenance.record(doc["config"], inputs, command)}
    paths["table1.json"].write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    paths["table1.md"].write_text(text.table_markdown(doc) + "\n")
    return paths


# ---------------------------------------------------------------------------------------------------------
# The bundled text images
