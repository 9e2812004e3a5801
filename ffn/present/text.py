"""The text a run is shown with: its status line, its numbers beside Table 1, a set's table beside the paper's.

Markdown for the page; the command line prints the same tables.
"""

import dataclasses
import math

from ffn.core import mappings
from ffn.core.config import Config
from ffn.core.cost import duration
from ffn.core.train import Snapshot
from ffn.experiments import paper, runs


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
    best = runs.best_mapping(snap)
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


def _mean_std(mean, std) -> str:
    return "–" if mean is None else f"{mean:.2f} ± {std:.2f}"


def table_markdown(doc: dict) -> str:
    """A `table1.json` document of `ffn.table1` as Markdown: our mean ± std per mapping beside the paper's.

    Below the table it says how many images and what setting, and, when the setting is not the paper's,
    plainly so and how it differs (from `differences`, the same rule the page applies to a single run).
    """
    dataset = paper.check_dataset(doc["dataset"])
    fields = {k: v for k, v in doc["config"].items() if k in Config.__dataclass_fields__}
    config = Config(**fields)
    n = len(doc["images"])
    runs = len(doc.get("runs") or doc["images"])
    lines = [f"| mapping | ours, test PSNR (dB), n = {runs} | paper, {dataset} images |", "|---|---:|---:|"]
    reasons = []
    for spec, row in doc["mappings"].items():
        kind = mappings.parse(spec).kind
        theirs = doc.get("paper", {}).get(kind) or dict(zip(("mean", "std"), paper.TABLE1[dataset][kind]))
        diverged = sum(v is None for v in row["test_psnr"])
        ours = _mean_std(row["mean"], row["std"]) + (f" ({diverged} diverged, left out)" if diverged else "")
        name = dataclasses.replace(mappings.parse(spec), lr=None).label()  # the lr shows in the spec beside it
        lines.append(f"| {name} (`{spec}`) | {ours} | {_mean_std(theirs['mean'], theirs['std'])} |")
        reasons += [r for r in paper.differences(config, spec, dataset) if r not in reasons]
    c = config
    seeds = doc["config"].get("seeds") or [c.seed]
    seeds_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}"
    text = "\n".join(lines) + (
        (f"\n\n**Cropped protocol**: {doc['protocol'].removeprefix('cropped: ')}." if c.crop else "") +
        f"\n\nOurs: {n} {dataset} image{'s' * (n != 1)} at {c.size} px, {c.iters} steps, {c.depth}×{c.width} "
        f"{paper.NETWORKS.get(c.model, c.model)} network, {c.features} features, {seeds_text}; "
        f"± is the {doc.get('std', paper.STD)}. "
        "Paper: Tancik et al. 2020, Table 1 (512 px, 2000 steps, 4×256 ReLU MLP, 256 features; mean ± std over "
        f"its {'DIV2K photographs' if dataset == 'natural' else 'text images'}).")
    tuning = doc["config"].get("sigma_tuning")
    if tuning:
        text += (f" σ = {tuning['chosen']:g} was chosen by the best mean test PSNR on {len(tuning['images'])} "
                 f"tuning image{'s' * (len(tuning['images']) != 1)} from σ ∈ {{{', '.join(f'{s:g}' for s in tuning['sigmas'])}}}.")
    if reasons:
        text += "\n\n**Not the paper's setting**, so not like for like: " + "; ".join(reasons) + "."
    return text


def lab_status(snap, rate: float | None, note: str = "") -> str:
    """Markdown status of a 1D lab run: step, speed, and whether the dashed lines (the NTK's prediction) apply."""
    speed = f" · {rate:.0f} steps/s" if rate else (" · compiling…" if snap.step == 0 else "")
    theory = (f"dashed: the NTK's prediction, step η = {snap.eta:.3g}" if snap.theory_applies else
              "Adam rescales each parameter's step, so the NTK predicts nothing here")
    return f"**step {snap.step} / {snap.steps}**{speed} · {theory}" + (f"  \n{note}" if note else "")


def paper_table1() -> str:
    """The paper's Table 1 as Markdown: test PSNR (dB) of each mapping on each task, mean ± std where it gives one."""
    kinds = ("none", "basic", "posenc", "gauss")
    names = {"none": "No mapping", "basic": "Basic", "posenc": "Positional enc.", "gauss": "Gaussian"}
    columns = {"natural": "2D images, natural", "text": "2D images, text", **paper.INVERSE_NAMES}
    rows = ["| mapping | " + " | ".join(columns.values()) + " |", "|---|" + "---:|" * len(columns)]
    for kind in kinds:
        cells = []
        for dataset in columns:
            value = paper.TABLE1.get(dataset, {}).get(kind) or paper.TABLE1_INVERSE[dataset][kind]
            cells.append(_mean_std(*value) if isinstance(value, tuple) else f"{value:.2f}")
        rows.append(f"| {names[kind]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
