"""What a run leaves behind: its history of snapshots and the files written from it.

The command line writes these files at the end of a run; the app offers the same files as downloads.
"""

import csv
import datetime
import io
import json
import math
import pathlib
import re
from collections.abc import Iterator

import jax
import numpy as np
from PIL import Image

from ffn import analysis, bands, checks, images, mappings, paper, plots, train, video
from ffn.service import duration
from ffn.config import Config
from ffn.train import Snapshot

VIDEO_TILE = 256  # video frames keep each reconstruction at most this many pixels wide (memory: ~0.2 MB each)


def filename(spec: str) -> str:
    """A safe file stem for a spec: 'gauss:10' -> 'gauss_10', 'none@0.01' -> 'none_lr0.01'."""
    return re.sub(r"[^a-z0-9._-]", "_", spec.replace("@", "_lr"))


def caption(spec: str, psnr: float, diverged: bool = False) -> str:
    """'gauss:10 · 24.31 dB', 'gauss:10 · 7.80 dB · diverged', or 'gauss:10 · diverged' when it is NaN."""
    if not math.isfinite(psnr):
        return f"{spec} · diverged"
    return f"{spec} · {psnr:.2f} dB" + (" · diverged" if diverged else "")


def captions(snap: Snapshot) -> dict[str, str]:
    """spec -> its caption at this snapshot (test PSNR, and whether it has diverged)."""
    diverged = set(snap.diverged)
    return {s: caption(s, v, s in diverged) for s, v in snap.test_psnr.items()}


def spectra_grid(pictures: dict[str, np.ndarray], ground_truth: np.ndarray, title: str) -> np.ndarray:
    """Log-magnitude spectra (`analysis.log_spectrum`) of each reconstruction and of the ground truth, labelled."""
    tiles = [(spec, analysis.log_spectrum(p)) for spec, p in pictures.items()]
    return images.tile_grid(tiles + [(analysis.GROUND_TRUTH, analysis.log_spectrum(ground_truth))], title=title)


def error_grid(pictures: dict[str, np.ndarray], ground_truth: np.ndarray) -> np.ndarray:
    """|reconstruction - ground truth| of each mapping (`analysis.error_maps`, one colour scale), labelled with its
    mean error in 8-bit levels."""
    maps, vmax = analysis.error_maps(pictures, ground_truth)
    mean = analysis.mean_abs_error(pictures, ground_truth)
    tiles = [(f"{s} · mean {255 * mean[s]:.1f}/255", maps[s]) for s in pictures]
    return images.tile_grid(tiles, title=f"|reconstruction - ground truth|: dark 0, yellow {vmax * 255:.0f}/255 or more")


def best_mapping(snap: Snapshot) -> str | None:
    """The spec with the highest test PSNR at `snap`, diverged ones left out; None if every one diverged."""
    finite = {s: v for s, v in snap.test_psnr.items() if math.isfinite(v) and s not in snap.diverged}
    return max(finite, key=finite.get) if finite else None


def status_line(snap: Snapshot, rate: float | None, note: str = "") -> str:
    """Markdown status of a run: step, speed, time left (or taken), divergence, the best mapping so far."""
    parts = [f"**step {snap.step} / {snap.iters}**"]
    if snap.step == 0 and not note:
        parts.append("compiling… (the first chunk is slow, later ones are fast)")
    elif rate:
        left = (snap.iters - snap.step) / rate
        parts += [f"{rate:.1f} steps/s", f"{duration(left)} left" if not note else f"{duration(snap.elapsed)} in all"]
    if snap.diverged:
        parts.append("diverged: " + ", ".join(snap.diverged) + " (try a lower learning rate)")
    best = best_mapping(snap)
    if best is not None and snap.step:
        parts.append(f"best test PSNR: {best} {snap.test_psnr[best]:.2f} dB")
    return " · ".join(parts) + (f"  \n{note}" if note else "")


def paper_table(config: Config, snap: Snapshot) -> str:
    """Markdown: a run's final PSNRs beside Table 1, where the run is like for like with the paper's setting.

    A mapping whose setting is not Table 1's for a dataset (resolution, steps, network, σ or S, lr: see
    `paper.differences`) gets "not comparable" in that column and the reasons below the table, so a 128 px run
    never seems to beat the paper.
    """
    lines = ["| mapping | your train PSNR | your test PSNR | paper, natural images | paper, text images |",
             "|---|---:|---:|---:|---:|"]
    notes = []
    for spec in config.mappings:
        mine = [f"{v:.2f}" if math.isfinite(v) else "diverged" for v in (snap.train_psnr[spec], snap.test_psnr[spec])]
        cells = []
        for dataset in paper.DATASETS:
            reasons = paper.differences(config, spec, dataset, snap.step)
            mean, std = paper.TABLE1[dataset][mappings.parse(spec).kind]
            cells.append(f"{mean:.2f} ± {std:.2f}" if not reasons else "not comparable")
            if reasons:
                notes.append(f"- **{spec}**, {dataset} images: " + "; ".join(reasons) + ".")
        lines.append(f"| {spec} | {mine[0]} | {mine[1]} | {cells[0]} | {cells[1]} |")
    text = "\n".join(lines) + (
        "\n\nThe paper's numbers are test PSNRs (dB), mean ± std over its sets of natural and text images (Tancik "
        "et al. 2020, Table 1: 512 px, 2000 steps, 4×256 ReLU MLP, 256 features, σ and lr tuned per set). One image "
        "samples a set only: expect a few dB either way. `python -m ffn.table1` runs the protocol over a set.")
    if notes:
        text += "\n\n**Not like for like** (what differs from the paper's setting):\n" + "\n".join(notes)
    return text


def _shrink(picture: np.ndarray, limit: int) -> np.ndarray:
    factor = math.ceil(picture.shape[0] / limit)
    if factor <= 1:
        return picture
    h, w = picture.shape[0] // factor, picture.shape[1] // factor
    return np.asarray(Image.fromarray(picture).resize((w, h), Image.Resampling.BOX))


def _finite(values):
    """JSON has no NaN: a diverged value is written as null."""
    return [v if math.isfinite(v) else None for v in values]


class History:
    """Everything a run's snapshots said: PSNR curves, timing, and small frames for the video."""

    def __init__(self, config: Config, ground_truth: np.ndarray, name: str = "image"):
        self.config = config
        self.ground_truth = images.to_uint8(ground_truth)  # (R, R, 3)
        self.name = name
        self.steps: list[int] = []
        self.elapsed: list[float] = []  # seconds since the run started, at each snapshot
        self.train_psnr: dict[str, list[float]] = {s: [] for s in config.mappings}
        self.test_psnr: dict[str, list[float]] = {s: [] for s in config.mappings}
        self.frames: list[tuple[int, dict[str, np.ndarray], dict[str, str]]] = []  # step, pictures, captions
        self.last: Snapshot | None = None
        self.colors = plots.mapping_colors(config.mappings)
        self.bands = bands.Meter(self.ground_truth)  # band edges, the truth's spectrum and empty bands, once
        self.band_errors: dict[str, list[np.ndarray]] = {s: [] for s in config.mappings}  # (count,) per snapshot

    def add(self, snap: Snapshot) -> None:
        self.steps.append(snap.step)
        self.elapsed.append(snap.elapsed)
        for spec in self.config.mappings:
            self.train_psnr[spec].append(snap.train_psnr[spec])
            self.test_psnr[spec].append(snap.test_psnr[spec])
        small = {s: _shrink(p, VIDEO_TILE) for s, p in snap.images.items()}
        self.frames.append((snap.step, small, captions(snap)))
        self.last = snap
        # Band errors of every mapping at every snapshot: FFTs of the full-grid pictures, a few ms at 128 px
        # and well under 1% of a 25-step chunk at any size (see ffn.bands.Meter).
        errors = self.bands.errors([snap.images[s] for s in self.config.mappings])  # (K, count)
        for spec, row in zip(self.config.mappings, errors):
            self.band_errors[spec].append(row)

    def figures(self):
        """(train, test) PSNR Plotly figures, one colour per mapping in both."""
        return plots.psnr_figures(self.steps, self.train_psnr, self.test_psnr, colors=self.colors)

    def band_figure(self, height: int | None = None):
        """The relative error per frequency band against step, one small heatmap per mapping
        (`plots.band_error_figure`); bands.WHAT_TO_NOTICE says what to look for."""
        shape = (len(self.steps), self.bands.count)
        errors = {s: np.asarray(rows).reshape(shape) for s, rows in self.band_errors.items()}
        return plots.band_error_figure(self.steps, errors, self.bands.edges, self.bands.empty, self.colors, height)

    def steady_rate(self) -> float | None:
        """Steps per second from the first trained snapshot on: the speed a run keeps, without the first chunk's
        one-time costs (compiling, and a first execution that can take longer still); None before two chunks."""
        if len(self.steps) < 3 or self.elapsed[-1] <= self.elapsed[1]:
            return None
        return (self.steps[-1] - self.steps[1]) / (self.elapsed[-1] - self.elapsed[1])

    def gallery(self, snap: Snapshot) -> list[tuple[np.ndarray, str]]:
        """(picture, caption) of every reconstruction at `snap` (captioned with its test PSNR), then the ground truth."""
        labels = captions(snap)
        return [(snap.images[s], labels[s]) for s in self.config.mappings] + [(self.ground_truth, "ground truth")]

    def replay(self, step: int) -> tuple[int, list[tuple[np.ndarray, str]]]:
        """The gallery as it stood at the last snapshot at or before `step`: (that snapshot's step, [(picture,
        caption)] with the ground truth last). Pictures are the video's (at most VIDEO_TILE px wide). A step that is
        no whole number from 0 to the run's steps raises `checks.Invalid`."""
        step = checks.whole(step, "step", 0, self.config.iters)
        index = max(0, int(np.searchsorted(self.steps, step, side="right")) - 1)
        at, pictures, labels = self.frames[index]
        return at, [(pictures[s], labels[s]) for s in self.config.mappings] + [(self.ground_truth, "ground truth")]

    def test_figure_at(self, step: int):
        """The test PSNR curves with the replayed step marked."""
        return plots.psnr_figure(self.steps, self.test_psnr, plots.TEST_TITLE, colors=self.colors, marker=step)

    def comparison(self) -> np.ndarray:
        """The final reconstructions and the ground truth side by side, labelled with test PSNR."""
        snap = self.last
        labels = captions(snap)
        tiles = [(labels[s], snap.images[s]) for s in self.config.mappings]
        tiles.append(("ground truth", self.ground_truth))
        return images.tile_grid(tiles, title=f"{self.name} · {self.config.size} px · step {snap.step}")

    def video_frames(self):
        """One labelled frame per snapshot (a generator: frames are composed as the encoder asks)."""
        truth = _shrink(self.ground_truth, VIDEO_TILE)
        for step, pictures, labels in self.frames:
            tiles = [(labels[s], pictures[s]) for s in self.config.mappings]
            yield images.tile_grid(tiles + [("ground truth", truth)], title=f"step {step} / {self.config.iters}")

    def metrics(self) -> dict:
        """The metrics.json document (NaN written as null)."""
        snap = self.last
        train_seconds = snap.train_seconds if snap else 0.0
        steps = snap.step if snap else 0
        return {
            "image": self.name,
            "config": self.config.to_dict(),
            "mappings": {
                s: {
                    "steps": list(self.steps),
                    "train_psnr": _finite(self.train_psnr[s]),
                    "test_psnr": _finite(self.test_psnr[s]),
                    "final_train_psnr": _finite(self.train_psnr[s][-1:])[0] if self.steps else None,
                    "final_test_psnr": _finite(self.test_psnr[s][-1:])[0] if self.steps else None,
                    "diverged": bool(snap and s in snap.diverged),
                    "band_error": {  # ffn.bands: relative error per frequency band; null in empty bands
                        "edges": [round(float(e), 6) for e in self.bands.edges],  # cycles per image side
                        "empty": [bool(e) for e in self.bands.empty],  # the image has almost no power there
                        "steps": list(self.steps),
                        "relative_error": [_finite([float(f"{v:.5g}") for v in row]) for row in self.band_errors[s]],
                    },
                }
                for s in self.config.mappings
            },
            "steps_done": steps,
            "compile_seconds": round(snap.compile_seconds, 3) if snap else 0.0,
            "train_seconds": round(train_seconds, 3),
            "steps_per_second": round(steps / train_seconds, 3) if train_seconds > 0 else None,
            "backend": jax.default_backend(),
            "written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }

    def csv(self) -> str:
        """Long-format CSV: step, mapping, train_psnr, test_psnr (one row per snapshot and mapping)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["step", "mapping", "train_psnr", "test_psnr"])
        for i, step in enumerate(self.steps):
            for s in self.config.mappings:
                writer.writerow([step, s, f"{self.train_psnr[s][i]:.4f}", f"{self.test_psnr[s][i]:.4f}"])
        return out.getvalue()


def write_outputs(out_dir, history: History, video_file: bool = True) -> dict[str, pathlib.Path]:
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
        save_png(f"{filename(spec)}.png", history.last.images[spec])
    save_png("ground_truth.png", history.ground_truth)
    save_png("comparison.png", history.comparison())
    paths["psnr.html"] = plots.write_psnr_html(out / "psnr.html", history.steps, history.train_psnr,
                                               history.test_psnr, title=f"PSNR · {history.name}")
    paths["bands.html"] = plots.write_band_html(out / "bands.html", history.band_figure(),
                                                title=f"Error per frequency band · {history.name}",
                                                note=bands.WHAT_TO_NOTICE)
    if video_file:
        paths["training.mp4"] = video.write_mp4(out / "training.mp4", history.video_frames())
    return paths


def record(image: np.ndarray, config: Config, name: str = "image") -> Iterator[tuple[History, Snapshot]]:
    """The one run loop of the app and the command line: trains `config` on `image` and yields (history,
    snapshot) after every snapshot, the history already holding it. Closing the generator stops training."""
    history = History(config, image, name)
    run = train.run(image, config)
    try:
        for snap in run:
            history.add(snap)
            yield history, snap
    finally:
        run.close()
