"""A run's record: its history of snapshots, and the run loops (`record`, `record_task`) of the pages and the CLI.

The history holds the data (curves, band errors, small frames for the replay and the video, the last
snapshot); `ffn.present` draws and writes it (figures, picture grids, metrics.json, the video). An inverse
problem's run (`ffn.core.inverse`) keeps the same record, its object as the ground truth: its train PSNR is the
fit to the measurements, its test PSNR the reconstruction's against the object.
"""

import csv
import datetime
import io
import math
import re
from collections.abc import Iterator

import jax
import numpy as np
from PIL import Image

from ffn.core import bands, checks, data, inverse, train
from ffn.core.config import Config
from ffn.core.train import Snapshot

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


def best_mapping(snap: Snapshot) -> str | None:
    """The spec with the highest test PSNR at `snap`, diverged ones left out; None if every one diverged."""
    finite = {s: v for s, v in snap.test_psnr.items() if math.isfinite(v) and s not in snap.diverged}
    return max(finite, key=finite.get) if finite else None


def shrink(picture: np.ndarray, limit: int) -> np.ndarray:
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

    def __init__(self, config: Config, ground_truth: np.ndarray, name: str = "image", source=None,
                 problem: inverse.Problem | None = None):
        self.config = config
        # (R, R, 3): a grey object (R, R) is repeated to RGB; of a volume (R, R, R), its middle slice is kept
        self.ground_truth = data.to_uint8(ground_truth if problem is None else inverse.middle_slice(np.asarray(ground_truth)))
        self.name = name
        self.source = source  # the image file's path, when there is one: metrics.json records its checksum
        self.problem = problem  # the inverse problem the run was trained through; None for image regression
        # The object itself, (R, R) or (R, R, R) float32, which the ground truth's 8 bits only approximate; None for
        # an image.
        self.obj = None if problem is None else np.asarray(ground_truth, np.float32)
        self.steps: list[int] = []
        self.elapsed: list[float] = []  # seconds since the run started, at each snapshot
        self.train_psnr: dict[str, list[float]] = {s: [] for s in config.mappings}
        self.test_psnr: dict[str, list[float]] = {s: [] for s in config.mappings}
        self.frames: list[tuple[int, dict[str, np.ndarray], dict[str, str]]] = []  # step, pictures, captions
        self.last: Snapshot | None = None
        self.bands = bands.Meter(self.ground_truth)  # band edges, the truth's spectrum and empty bands, once
        self.band_errors: dict[str, list[np.ndarray]] = {s: [] for s in config.mappings}  # (count,) per snapshot

    def add(self, snap: Snapshot) -> None:
        self.steps.append(snap.step)
        self.elapsed.append(snap.elapsed)
        for spec in self.config.mappings:
            self.train_psnr[spec].append(snap.train_psnr[spec])
            self.test_psnr[spec].append(snap.test_psnr[spec])
        small = {s: shrink(p, VIDEO_TILE) for s, p in snap.images.items()}
        self.frames.append((snap.step, small, captions(snap)))
        self.last = snap
        # Band errors of every mapping at every snapshot: FFTs of the full-grid pictures, a few ms at 128 px
        # and well under 1% of a 25-step chunk at any size (see ffn.core.bands.Meter).
        errors = self.bands.errors([snap.images[s] for s in self.config.mappings])  # (K, count)
        for spec, row in zip(self.config.mappings, errors):
            self.band_errors[spec].append(row)

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

    def metrics(self) -> dict:
        """The metrics.json document (NaN written as null)."""
        snap = self.last
        train_seconds = snap.train_seconds if snap else 0.0
        steps = snap.step if snap else 0
        task = {}  # an image run's document has no "task"
        if self.problem is not None:
            every = "every voxel" if self.problem.dims == 3 else "every pixel"
            task = {"task": {**self.problem.to_dict(), "train_psnr": "the fit to the measurements (dB)",
                             "test_psnr": f"the reconstruction against the object, {every} (dB)"}}
        return {
            "image": self.name,
            **task,
            "config": self.config.to_dict(),
            "mappings": {
                s: {
                    "steps": list(self.steps),
                    "train_psnr": _finite(self.train_psnr[s]),
                    "test_psnr": _finite(self.test_psnr[s]),
                    "final_train_psnr": _finite(self.train_psnr[s][-1:])[0] if self.steps else None,
                    "final_test_psnr": _finite(self.test_psnr[s][-1:])[0] if self.steps else None,
                    "diverged": bool(snap and s in snap.diverged),
                    "band_error": {  # ffn.core.bands: relative error per frequency band; null in empty bands
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


def follow(history: History, run: Iterator[Snapshot]) -> Iterator[Snapshot]:
    """A trainer's snapshots, each added to `history` before it is yielded. Closing this generator closes `run`,
    which stops training."""
    try:
        for snap in run:
            history.add(snap)
            yield snap
    finally:
        run.close()


def snapshots(history: History, image: np.ndarray) -> Iterator[Snapshot]:
    """Trains `history.config` on `image` ((R, R, 3) floats in [0, 1]), adding each snapshot to `history` before
    yielding it. Closing the generator stops training."""
    return follow(history, train.run(image, history.config))


def task_snapshots(history: History, task: inverse.Task) -> Iterator[Snapshot]:
    """Trains `history.config` through the task's operator (`inverse.run_task`), adding each snapshot to
    `history` before yielding it. Closing the generator stops training."""
    return follow(history, inverse.run_task(task, history.config))


def record(image: np.ndarray, config: Config, name: str = "image", source=None) -> Iterator[tuple[History, Snapshot]]:
    """The command line's run loop: trains `config` on `image` (read from file `source`, if given) and yields
    (history, snapshot) after every snapshot, the history already holding it. Closing the generator stops training."""
    history = History(config, image, name, source)
    for snap in snapshots(history, image):
        yield history, snap


def record_task(problem: inverse.Problem, obj: np.ndarray, config: Config,
                name: str = "object") -> Iterator[tuple[History, Snapshot]]:
    """`record` for an inverse problem: trains `config` through `problem`'s operator on the grey object obj
    ((R, R), or (R, R, R) for a 3D problem) and yields (history, snapshot) after every snapshot."""
    history = History(config, obj, name, problem=problem)
    for snap in task_snapshots(history, problem.task(obj)):
        yield history, snap
