"""Table 1 of the paper over a set of images: `python -m ffn.table1 IMAGES... --dataset natural|text|ct|mri`.

Runs the paper's protocol for a dataset (`ffn.experiments.paper.PROTOCOLS`: mappings, learning rates, posenc S and σ) on
every image, optionally choosing σ first by a grid search on tuning images (the best mean test PSNR), and
writes `table1.json` and `table1.md`: each mapping's test PSNR per image, their mean ± std, and the paper's.

    python -m ffn.table1 --dataset natural                     # the bundled natural set, 512 px, 2000 steps
    python -m ffn.table1 --dataset text --size 128 --iters 500 --width 128 --features 128   # CPU-sized

At a smaller --size, σ and S are scaled with the resolution (σ counts cycles per image side), and the table
says plainly that this is not the paper's setting. On one machine an image's mappings train together (the
trainer batches them); across machines, `--shard I/N` runs the I-th of N slices of the sorted image list (a
cluster's job array) and `--merge DIR...` combines the slices' table1.json into the table one run would give.
With --tune, every shard repeats the same (deterministic) σ search; to spend it once, tune in one run and give
its σ to every shard with --sigma.

With --crop the images are not scaled: each gives `--windows` windows of --size px cut at its own resolution
(`ffn.core.data.windows`), so their detail per pixel is the image's (a 512-px page of text scaled to 128 px has
glyphs finer than the training grid). With --seeds every mapping trains once per seed on every picture. The table
is then over every run (image × window × seed) and says so.

The JSON document: {"dataset", "config": Config.to_dict() plus "sigma_tuning", "seeds" and "windows" (per image
with crop, else null), "images": [path, ...], "runs": [{"image", "window": [left, top, right, bottom] or null,
"seed"}, ...], "mappings": {spec: {"test_psnr": [dB per run, null if diverged], "mean", "std", "n"}},
"paper": {kind: {"mean", "std"}}, "std": what ± means, "protocol": the protocol in a sentence, "shard": [I, N] or
null, "seconds"}; `ffn.present.outputs.write_table1` adds its "provenance".

`--dataset ct|mri` runs the inverse problems' columns (`inverse_protocol`): objects are grey (files taken as grey,
or 'phantom:SEED'), σ and S come from the notebooks' grid search on tuning phantoms (`tune_inverse`), the
trainer is `inverse.run_task` (`task_runner`), the test PSNR is the reconstruction's against the object, and
the document adds "task" (the problem's settings); its "sigma_tuning" holds "images", "sigmas", "scales",
"mean_test_psnr" per spec, "chosen" (σ) and "chosen_scale" (S), and "paper" has means only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from ffn.core import checks, mappings
from ffn.experiments import paper
from ffn.core.config import MAX_MAPPINGS, Config

ASSETS = pathlib.Path(__file__).resolve().parents[2] / "assets"
# The bundled sets: the photographs and text image the explorer already ships, plus the folders added for Table 1.
BUNDLED = {
    "natural": ("astronaut.png", "cat.png", "coffee.png", "natural"),
    "text": ("text.png", "text"),
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")
EVERY = 50  # steps between the trainer's snapshots: the progress bar's grain (results do not depend on it)
SIGMA_LIMITS = (1e-3, 10_000.0)  # σ of a tuning grid, cycles per image side
TEXT_WORDS = (
    "Fourier features let networks learn high frequency functions in low dimensional domains coordinate "
    "multilayer perceptron spectral bias neural tangent kernel stationary Gaussian mapping positional encoding "
    "sharp edges fine detail image regression sinusoid bandwidth kernel regression 2020 NeurIPS 512 px"
).split()
TEXT_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf",
              "DejaVuSansMono.ttf", "DejaVuSansCondensed-Bold.ttf")


# ---------------------------------------------------------------------------------------------------------
# The protocol at a resolution


def protocol(dataset: str, size: int = 512, iters: int = 2000, depth: int = 4, width: int = 256,
             features: int = 256, seed: int = 0, sigma: float | None = None) -> Config:
    """The paper's Table 1 setting for `dataset` at `size` px: its mappings and learning rates, σ and S scaled
    to the resolution, with the given training length and network. `sigma` (cycles per side at `size`)
    replaces the Gaussian mapping's σ, as a grid search chooses it."""
    base = paper.PROTOCOLS[paper.check_dataset(dataset)]
    specs = []
    for m in base.parsed:
        scale = m.scale
        if m.kind == "posenc":
            scale = mappings.posenc_scale(size, at_512=scale)
        elif m.kind == "gauss":
            scale = mappings.suggested_sigma(size, at_512=scale) if sigma is None else sigma
        text = m.kind if scale is None else f"{m.kind}:{scale:g}"
        specs.append(text if m.lr is None else f"{text}@{m.lr:g}")
    return base.replace(mappings=tuple(specs), size=size, iters=iters, depth=depth, width=width,
                        features=features, seed=seed, every=min(EVERY, iters))


# ---------------------------------------------------------------------------------------------------------
# Image lists and shards


def expand_images(paths: Sequence[str | pathlib.Path]) -> list[pathlib.Path]:
    """Files and folders (their image files, not recursively) -> the sorted list of distinct image files.

    Sorted by path text, so every machine of a sharded run cuts the same list into the same slices.
    """
    found = set()
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            inside = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
            if not inside:
                raise ValueError(f"Folder {str(path)!r} holds no image files ({', '.join(IMAGE_SUFFIXES)}).")
            found.update(inside)
        elif path.is_file():
            found.add(path)
        else:
            raise ValueError(f"No file or folder {str(path)!r}.")
    if not found:
        raise ValueError("Give at least one image file or folder.")
    return sorted(found, key=str)


def image_name(path: str | pathlib.Path) -> str:
    """How table1.json names an image: relative to the repository for the bundled ones (so machines with the
    repository in different folders name them alike, and shards of one run merge), else the path as given."""
    try:
        return pathlib.Path(path).resolve().relative_to(ASSETS.parent).as_posix()
    except ValueError:
        return str(path)


def bundled_images(dataset: str) -> list[pathlib.Path]:
    """The images this repository ships for `dataset`'s table (see assets/CREDITS.md)."""
    return expand_images([ASSETS / name for name in BUNDLED[paper.check_dataset(dataset)]])


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' -> (I, N) with 1 ≤ I ≤ N: the I-th of N slices."""
    index, slash, count = str(text).partition("/")
    if not slash:
        raise checks.Invalid(f"shard must read I/N, e.g. 1/4 for the first of four slices (got {checks.shown(text)}).", "shard")
    count = checks.whole(checks.text_number(count.strip()), "shard count N", 1, 10_000, "shard")
    index = checks.whole(checks.text_number(index.strip()), "shard index I", 1, count, "shard")
    return index, count


def shard(items: Sequence, index: int, count: int) -> list:
    """The index-th (1-based) of `count` slices of `items`: every count-th item from index-1, so the slices
    are disjoint, cover the list and differ in length by at most one."""
    return list(items[index - 1::count])


# ---------------------------------------------------------------------------------------------------------
# Runs over images


def _finite(value: float) -> float | None:
    """JSON has no NaN: a diverged network's PSNR becomes None."""
    return float(value) if math.isfinite(value) else None


def summarise(values: Sequence[float | None]) -> dict:
    """Per-image test PSNRs (dB, None for a diverged network) -> {"test_psnr", "mean", "std", "n"}.

    mean and std are over the finite values (n of them), std the population one (`ffn.experiments.paper.STD`), as the
    paper's notebook computes it; None when no value is finite.
    """
    finite = np.array([v for v in values if v is not None], np.float64)
    if not finite.size:
        return {"test_psnr": list(values), "mean": None, "std": None, "n": 0}
    return {"test_psnr": list(values), "mean": float(np.mean(finite)), "std": float(np.std(finite)), "n": int(finite.size)}


def train_images(images: Sequence[np.ndarray], config: Config,
                 progress: Callable[[int, int], None] | None = None,
                 run: Callable | None = None) -> dict[str, list[float | None]]:
    """Trains every mapping of `config` on each (R, R, 3) image in turn; spec -> final test PSNR per image.

    `progress(image_index, steps_done)` is called after every snapshot (for a progress bar). `run(image,
    config)` is the trainer, `train.run` by default; an inverse problem's is `task_runner(problem)`, and its
    images are then grey objects (R, R).
    """
    from ffn.core import train

    run = run or train.run
    out = {spec: [] for spec in config.mappings}
    for i, image in enumerate(images):
        for snap in run(image, config):
            if progress is not None:
                progress(i, snap.step)
        for spec in config.mappings:
            out[spec].append(_finite(snap.test_psnr[spec]))
    return out


# ---------------------------------------------------------------------------------------------------------
# The cropped protocol and seeds


class Picture(NamedTuple):
    """One picture of a set as the protocol trains it: an image scaled to the resolution, or one window of it."""

    name: str  # the image's name in table1.json (`image_name`)
    window: tuple[int, int, int, int] | None  # (left, top, right, bottom) at the image's own resolution; None: scaled
    pixels: np.ndarray  # (R, R, 3) float32 in [0, 1]


def load_pictures(paths: Sequence[str | pathlib.Path], size: int, crop: bool = False, windows: int = 1) -> list[Picture]:
    """Every image of `paths` as the protocol trains it, each opened now (a bad one is refused before any training):
    its centre square scaled to `size` (`data.load_image`), or with `crop` its `windows` windows of `size` px cut at
    its own resolution (`data.windows`). `windows` > 1 needs `crop`."""
    from ffn.core import data

    if not crop:
        if windows != 1:
            raise checks.Invalid("windows are cut only with crop: give --crop with --windows.", "windows")
        return [Picture(image_name(p), None, data.load_image(p, size)) for p in paths]
    return [Picture(image_name(p), w.box, w.pixels) for p in paths for w in data.windows(p, size, windows)]


def describe_protocol(size: int, crop: bool, windows: int | None = None) -> str:
    """The protocol in a sentence, as table1.json and table1.md state it."""
    if not crop:
        return f"whole images: each image's centre square scaled to {size}×{size} px"
    windows = windows or 1
    where = ("its centre" if windows == 1 else
             f"centred in the cells of a {math.isqrt(windows - 1) + 1}-by-{math.isqrt(windows - 1) + 1} grid over it, "
             "row by row")
    return (f"cropped: {windows} window{'s' * (windows != 1)} of {size}×{size} px per image, cut at the image's own "
            f"resolution ({where}), not the image scaled to {size} px; σ and S are set for the window's size")


def train_pictures(pictures: Sequence[Picture], config: Config, seeds: Sequence[int] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> tuple[list[dict], dict[str, list[float | None]]]:
    """Trains every mapping of `config` on each picture once per seed (B and initial weights drawn from the seed;
    default: `config.seed` alone). Returns (runs, spec -> final test PSNR per run): runs are
    {"image", "window", "seed"} in the order picture, then seed, which is the order they train in;
    `progress(run_index, steps_done)` is called after every snapshot."""
    from ffn.core import train

    seeds = tuple(seeds) if seeds else (config.seed,)
    runs, out = [], {spec: [] for spec in config.mappings}
    for picture in pictures:
        for seed in seeds:
            index = len(runs)
            runs.append({"image": picture.name, "window": list(picture.window) if picture.window else None, "seed": seed})
            for snap in train.run(picture.pixels, config.replace(seed=seed)):
                if progress is not None:
                    progress(index, snap.step)
            for spec in config.mappings:
                out[spec].append(_finite(snap.test_psnr[spec]))
    return runs, out


def _grid(values, name: str, each: str, limits: tuple[float, float], example: str) -> tuple[float, ...]:
    """A search grid: 2 to MAX_MAPPINGS distinct numbers within `limits`, ascending, or `checks.Invalid` on `name`."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not 2 <= len(values) <= MAX_MAPPINGS:
        raise checks.Invalid(f"{name} must be 2 to {MAX_MAPPINGS} numbers, e.g. {example} (got {checks.shown(values)}).",
                             name)
    grid = sorted({checks.real(v, f"{name} ({each} of the grid)", *limits, name) for v in values})
    if len(grid) < 2:
        raise checks.Invalid(f"{name} must hold at least two different values.", name)
    return tuple(grid)


def check_sigmas(sigmas: Sequence) -> tuple[float, ...]:
    """A σ grid: 2 to MAX_MAPPINGS distinct positive numbers (cycles per image side), ascending."""
    return _grid(sigmas, "sigmas", "each σ", SIGMA_LIMITS, "5 10 20")


def tune_sigma(images: Sequence[np.ndarray], config: Config, sigmas: Sequence[float],
               progress: Callable[[int, int], None] | None = None) -> tuple[float, dict[str, float | None]]:
    """The paper's grid search: σ with the best mean test PSNR over `images`, and each σ's mean.

    Every gauss:σ of the grid trains in one run per image (one batch: they share B up to σ) with the
    protocol's Gaussian learning rate and the run's network. Returns (σ, {"σ": mean dB or None}).
    """
    gauss = next(m for m in config.parsed if m.kind == "gauss")
    lr = gauss.lr if gauss.lr is not None else config.lr
    grid = check_sigmas(sigmas)
    specs = tuple(f"gauss:{s:g}" for s in grid)
    per_image = train_images(images, config.replace(mappings=specs, lr=lr), progress)
    means = {f"{s:g}": summarise(per_image[spec])["mean"] for s, spec in zip(grid, specs)}
    finite = [s for s in grid if means[f"{s:g}"] is not None]
    if not finite:
        raise ValueError("Every σ of the grid diverged on the tuning images; try smaller values.")
    return max(finite, key=lambda s: means[f"{s:g}"]), means


# ---------------------------------------------------------------------------------------------------------
# The inverse problems' columns: 2D CT and MRI (`python -m ffn.table1 --dataset ct|mri`)

PHANTOMS = 8  # the CT notebook's count: 8 random phantoms for the grid search, 8 others for the results
# The notebooks' grid searches (docs/inverse-protocol.md): Gaussian σ and positional-encoding S.
INVERSE_GRIDS = {
    "ct": ((2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)),
    "mri": ((2.0, 3.0, 4.0, 5.0, 6.0), (1.0, 2.0, 3.0, 4.0, 5.0)),
}
SCALE_LIMITS = (0.1, mappings.MAX_SCALE["posenc"])  # posenc S of a tuning grid


def inverse_protocol(dataset: str, size: int | None = None, iters: int | None = None, depth: int = 4,
                     width: int = 256, features: int = 256, seed: int = 0, sigma: float | None = None,
                     scale: float | None = None) -> Config:
    """The notebook's setting for an inverse problem ('ct' or 'mri', `paper.INVERSE_PROTOCOLS`): its mappings and
    learning rates, with the given resolution (default the notebook's), steps (default 1000) and network.
    `sigma` and `scale` replace the Gaussian σ and the posenc S (the grid search's choice); left None, the
    notebook's own values stand (σ 4 and S 3 for CT, σ 2 and S 4 for MRI), for a run that then tunes them."""
    base = paper.INVERSE_PROTOCOLS[paper.check_inverse(dataset)]
    specs = []
    for m in base.parsed:
        value = {"gauss": sigma, "posenc": scale}.get(m.kind)
        specs.append(dataclasses.replace(m, scale=m.scale if value is None else float(value)).spec)
    iters = base.iters if iters is None else iters
    return base.replace(mappings=tuple(specs), size=base.size if size is None else size, iters=iters, depth=depth,
                        width=width, features=features, seed=seed, every=min(EVERY, iters))


def phantoms(seeds) -> list[str]:
    """Objects naming the paper's random Shepp-Logan phantoms of these seeds: ['phantom:0', ...]."""
    return [f"phantom:{int(s)}" for s in seeds]


def tuning_phantoms(count: int = PHANTOMS) -> list[str]:
    """The grid search's phantoms: seeds 0 to count − 1 (the notebooks draw them first)."""
    return phantoms(range(count))


def test_phantoms(count: int = PHANTOMS) -> list[str]:
    """The results' phantoms: the next `count` seeds, count to 2·count − 1, none of them a tuning phantom."""
    return phantoms(range(count, 2 * count))


def expand_objects(items: Sequence[str | pathlib.Path]) -> list:
    """Files, folders and 'phantom:SEED' names -> the distinct objects, sorted by `image_name` (as every machine of
    a sharded run sorts them); phantoms stay names, files become paths."""
    from ffn.core import inverse

    named = {str(i) for i in items if str(i).startswith(inverse.PHANTOM)}
    files = [i for i in items if str(i) not in named]
    found = [*named, *(expand_images(files) if files else [])]
    return sorted(found, key=image_name)


def load_objects(objects: Sequence, size: int) -> list[np.ndarray]:
    """Each object (`expand_objects`) as a grey (size, size) float32 array (`inverse.load_object`)."""
    from ffn.core import inverse

    return [inverse.load_object(o if isinstance(o, str) else pathlib.Path(o), size) for o in objects]


def task_runner(problem) -> Callable:
    """`train_images`' trainer for an inverse problem (`inverse.Problem`): (object (R, R), config) -> snapshots."""
    from ffn.core import inverse

    return lambda obj, config: inverse.run_task(problem.task(obj), config)


def check_scales(scales: Sequence) -> tuple[float, ...]:
    """A posenc S grid: 2 to MAX_MAPPINGS distinct positive numbers, ascending."""
    return _grid(scales, "scales", "each posenc S", SCALE_LIMITS, "2 3 4")


def tune_inverse(objects: Sequence[np.ndarray], problem, config: Config, sigmas: Sequence[float] | None,
                 scales: Sequence[float] | None, progress: Callable[[int, int], None] | None = None) -> dict:
    """The notebooks' grid search through an inverse problem: the Gaussian σ in `sigmas` and the posenc S in
    `scales` (either may be None: not searched) with the best mean reconstruction PSNR over `objects` (grey),
    each trained at the protocol's learning rate for its kind, all of them in one run per object.

    Returns {"sigmas", "scales", "mean_test_psnr": {spec: dB or None}, "chosen": σ or None, "chosen_scale": S or
    None}; ValueError when every value of a searched grid diverged.
    """
    own = {m.kind: m for m in config.parsed}
    grids = {"gauss": check_sigmas(sigmas) if sigmas is not None else (),
             "posenc": check_scales(scales) if scales is not None else ()}
    specs = {kind: [dataclasses.replace(own[kind], scale=float(v)).spec for v in grid] for kind, grid in grids.items()}
    everything = tuple(specs["gauss"] + specs["posenc"])
    if len(everything) > MAX_MAPPINGS:
        raise checks.Invalid(f"The σ and S grids may hold {MAX_MAPPINGS} values together (got {len(everything)}).", "sigmas")
    per_image = train_images(objects, config.replace(mappings=everything), progress, task_runner(problem))
    means = {spec: summarise(per_image[spec])["mean"] for spec in everything}
    chosen = {}
    for kind, grid in grids.items():
        finite = [(v, means[spec]) for v, spec in zip(grid, specs[kind]) if means[spec] is not None]
        if grid and not finite:
            raise ValueError(f"Every {kind} scale of the grid diverged on the tuning objects; try smaller values.")
        chosen[kind] = max(finite, key=lambda pair: pair[1])[0] if finite else None
    return {"sigmas": list(grids["gauss"]) or None, "scales": list(grids["posenc"]) or None,
            "mean_test_psnr": means, "chosen": chosen["gauss"], "chosen_scale": chosen["posenc"]}


def document(dataset: str, config: Config, names: Sequence[str], per_image: dict[str, list],
             tuning: dict | None = None, shard_of: tuple[int, int] | None = None, seconds: float | None = None,
             runs: Sequence[dict] | None = None, seeds: Sequence[int] | None = None, windows: int | None = None,
             problem=None) -> dict:
    """The table1.json document (module docstring) from the test PSNRs per run (`train_pictures`). Without `runs`,
    one run per image of `names`: the whole image, seed `config.seed`. `windows` is the windows per image (crop).
    An inverse problem's (`problem`, an `inverse.Problem`) adds "task", its settings, and the paper's column has
    means only."""
    if runs is None:
        runs = [{"image": name, "window": None, "seed": config.seed} for name in names]
    seeds = list(seeds or [config.seed])
    windows = (windows or 1) if config.crop else None
    parts = [f"{len(names)} image{'s' * (len(names) != 1)}"] + [f"{windows} windows"] * bool(windows and windows > 1) \
        + [f"{len(seeds)} seeds"] * (len(seeds) > 1)
    if dataset in paper.TABLE1:
        theirs = {kind: {"mean": m, "std": s} for kind, (m, s) in paper.TABLE1[dataset].items()}
    else:
        theirs = {kind: {"mean": m, "std": None} for kind, m in paper.TABLE1_INVERSE[paper.check_inverse(dataset)].items()}
    return {
        "dataset": dataset,
        **({"task": problem.to_dict()} if problem is not None else {}),
        "config": {**config.to_dict(), "sigma_tuning": tuning, "seeds": seeds, "windows": windows},
        "images": list(names),
        "runs": [dict(r) for r in runs],
        "mappings": {spec: summarise(per_image[spec]) for spec in config.mappings},
        "paper": theirs,
        "std": paper.STD if len(runs) == len(names) else
               f"population standard deviation over the {len(runs)} runs ({' × '.join(parts)}; np.std, ddof=0)",
        "protocol": describe_protocol(config.size, config.crop, windows),
        "shard": list(shard_of) if shard_of else None,
        "seconds": seconds,
    }


def merge(docs: Sequence[dict]) -> dict:
    """The shards of one sharded run (each a table1.json document) -> the document one unsharded run gives.

    Per-run values are put back in the sorted order of the whole image list (an image's runs in their order) and
    the means and stds recomputed from them; each shard's "provenance" is kept, in shard order, under
    "shard_provenance". Refuses, with a sentence, documents of different datasets or settings, a missing or
    repeated shard, or an image in two shards.
    """
    if not docs:
        raise ValueError("Nothing to merge: give the folders of every shard's table1.json.")
    first = docs[0]
    for doc in docs[1:]:
        if doc["dataset"] != first["dataset"]:
            raise ValueError(f"Cannot merge a {doc['dataset']} table with a {first['dataset']} table.")
        if doc.get("task") != first.get("task"):
            raise ValueError("Cannot merge runs of different inverse problems (their angles or k-space differ); "
                             "every shard must run the same command but for --shard.")
        if doc["config"] != first["config"]:
            changed = sorted(k for k in set(doc["config"]) | set(first["config"])
                             if doc["config"].get(k) != first["config"].get(k))
            raise ValueError(f"Cannot merge runs with different settings (they differ in {', '.join(changed)}); "
                             "every shard must run the same command but for --shard.")
    shards = [tuple(d["shard"]) if d.get("shard") else (1, 1) for d in docs]
    count = shards[0][1]
    if any(n != count for _, n in shards) or sorted(i for i, _ in shards) != list(range(1, count + 1)):
        listed = ", ".join(f"{i}/{n}" for i, n in sorted(shards))
        raise ValueError(f"Cannot merge shards {listed}: give each of the {count} shards of one run exactly once.")
    names = [name for d in docs for name in d["images"]]
    if len(set(names)) != len(names):
        raise ValueError("An image appears in two shards; these are not the slices of one run.")
    config = _config(first)
    runs = [r for d in docs for r in d.get("runs") or
            [{"image": name, "window": None, "seed": config.seed} for name in d["images"]]]
    order = sorted(range(len(runs)), key=lambda i: runs[i]["image"])  # stable: an image's runs keep their order
    values = {spec: [v for d in docs for v in d["mappings"][spec]["test_psnr"]] for spec in first["mappings"]}
    seconds = [d.get("seconds") for d in docs]
    merged = document(first["dataset"], config, sorted(names),
                      {spec: [v[i] for i in order] for spec, v in values.items()}, first["config"]["sigma_tuning"],
                      None, sum(seconds) if None not in seconds else None, [runs[i] for i in order],
                      first["config"].get("seeds"), first["config"].get("windows"), _problem(first))
    merged["config"] = first["config"]  # exactly as the shards wrote it
    merged["shard_provenance"] = [d.get("provenance") for _, d in sorted(zip(shards, docs), key=lambda t: t[0])]
    return merged


def _config(doc: dict) -> Config:
    return Config(**{k: v for k, v in doc["config"].items() if k in Config.__dataclass_fields__})


def _problem(doc: dict):
    """The inverse problem of a table1.json document (an `inverse.Problem`), or None for an image table."""
    if not doc.get("task"):
        return None
    from ffn.core import inverse

    return inverse.Problem(**doc["task"])


def read(folder: str | pathlib.Path) -> dict:
    """The table1.json document in `folder`, or ValueError with a sentence when there is none to read."""
    path = pathlib.Path(folder) / "table1.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"No table1.json in {str(folder)!r}: give the --out folders of finished runs.") from None
    except (OSError, ValueError) as e:
        raise ValueError(f"{str(path)!r} cannot be read as a table1.json ({e}).") from None
    if not isinstance(doc, dict) or not {"dataset", "config", "images", "mappings"} <= set(doc):
        raise ValueError(f"{str(path)!r} is not a table1.json of python -m ffn.table1.")
    return doc


def latest(root: str | pathlib.Path = "runs") -> dict | None:
    """The newest table1.json (by modification time) in root's sub-folders, as the page shows it; None if none."""
    found = sorted(pathlib.Path(root).glob("*/table1.json"), key=lambda p: p.stat().st_mtime)
    for path in reversed(found):
        try:
            return read(path.parent)
        except ValueError:  # a half-written or foreign file: try the next newest
            continue
    return None


def make_text_image(seed: int, side: int = 512):
    """Lines of words in several DejaVu faces, sizes and colours on a plain background, like the paper's
    rendered-text set; a function of `seed` (and the installed DejaVu fonts, found by name).

    Backgrounds are light or dark at random and every word's colour keeps a clear contrast with it, so the
    glyph edges (the detail a network without Fourier features blurs) are always there to fit.
    """
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    dark = bool(rng.integers(2))
    background = tuple(int(v) for v in (rng.integers(10, 70, 3) if dark else rng.integers(200, 256, 3)))
    image = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(image)
    y = int(rng.integers(4, 16))
    while True:
        points = int(rng.choice([14, 18, 22, 28, 36, 46, 60]))  # at 512 px; scaled with the side below
        font = ImageFont.truetype(str(rng.choice(TEXT_FONTS)), max(6, round(points * side / 512)))
        ascent, descent = font.getmetrics()
        if y + ascent + descent > side - 4:
            break
        x = int(rng.integers(4, 24))
        while True:
            word = str(rng.choice(TEXT_WORDS))
            width = draw.textlength(word, font=font)
            if x + width > side - 6:
                break
            colour = rng.integers(150, 256, 3) if dark else rng.integers(0, 110, 3)
            draw.text((x, y), word, font=font, fill=tuple(int(v) for v in colour))
            x += int(width + draw.textlength(" ", font=font))
        y += ascent + descent + int(rng.integers(0, 12))
    return image
