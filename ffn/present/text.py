"""The text a run is shown with: its status line, its numbers beside Table 1, a set's table beside the paper's.

Markdown for the page; the command line prints the same tables.
"""

import dataclasses
import math

from ffn.core import mappings
from ffn.core.config import Config
from ffn.core.cost import duration
from ffn.core.train import Snapshot
from ffn.experiments import lab1d, paper, runs


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
    """Markdown: a run's final PSNRs beside the paper's Table 1, whose numbers are always shown; a column says
    whether the run's setting is the paper's for that set, and below the table one short list says, once, what
    differs (`paper.differences`), so a 128 px run never seems to beat or lose to the paper like for like."""
    lines = ["| mapping | your train PSNR | your test PSNR | paper, natural images | paper, text images | "
             "like for like? |", "|---|---:|---:|---:|---:|---|"]
    differs: list[str] = []
    for spec in config.mappings:
        mine = [f"{v:.2f}" if math.isfinite(v) else "diverged" for v in (snap.train_psnr[spec], snap.test_psnr[spec])]
        kind = mappings.parse(spec).kind
        cells = [_mean_std(*paper.TABLE1[dataset][kind]) for dataset in paper.DATASETS]
        same = [d for d in paper.DATASETS if not paper.differences(config, spec, d, snap.step)]
        differs += [r for d in paper.DATASETS for r in paper.differences(config, spec, d, snap.step) if r not in differs]
        verdict = f"yes, {' and '.join(same)}" if same else "no"
        lines.append(f"| {spec} | {mine[0]} | {mine[1]} | {cells[0]} | {cells[1]} | {verdict} |")
    text = "\n".join(lines) + (
        "\n\nThe paper's numbers are test PSNRs (dB), mean ± std over its sets of natural and text images (Tancik "
        "et al. 2020, Table 1: 512 px, 2000 steps, 4×256 ReLU MLP, 256 features, σ and lr tuned per set). One image "
        "samples a set only: expect a few dB either way. `python -m ffn.table1` runs the protocol over a set.")
    if differs:
        text += "\n\n**Not like for like**, because this run's setting differs from the paper's: " + "; ".join(differs) + "."
    return text


def run_summary(config: Config, snap: Snapshot) -> str:
    """Markdown: what *this* run did, from its own numbers (ranking, ties, over-fitting), beside what the paper
    expects. Said after a run instead of predicted before it, since images differ (on one, every mapping may end
    within 2 dB)."""
    finite = {s: v for s, v in snap.test_psnr.items() if math.isfinite(v) and s not in snap.diverged}
    if not finite:
        return "**What this run shows:** every mapping diverged; try a lower learning rate."
    ranked = sorted(finite, key=finite.get, reverse=True)
    best = ranked[0]
    ties = [s for s in ranked[1:] if finite[best] - finite[s] < 0.5]
    said = [f"**What this run shows:** the best test PSNR is **{best}**'s, {finite[best]:.2f} dB"
            + (f", within 0.5 dB of {', '.join(ties)} (a tie at one seed)" if ties else "") + "."]
    if "none" in finite and best != "none":
        said.append(f"No mapping reached {finite['none']:.2f} dB: {finite[best] - finite['none']:.1f} dB below.")
    over = [s for s in finite if snap.train_psnr[s] - finite[s] > 8 and mappings.parse(s).kind == "gauss"]
    if over:
        said.append(f"{', '.join(over)} fit the training pixels far better than the held-out ones (train − test > 8 dB): "
                    "over-fitting.")
    spread = finite[best] - finite[ranked[-1]]
    if spread < 2 and len(finite) > 1:
        said.append(f"Every mapping ends within {spread:.1f} dB: this image has little detail that a plain network "
                    "cannot fit at this size.")
    said.append("The paper expects none < basic < positional encoding ≤ a well-chosen Gaussian σ, and a too-large σ "
                "to over-fit.")
    return " ".join(said)


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
    said = f"**step {snap.step} / {snap.steps}**{speed} · {theory}" + (f"  \n{note}" if note else "")
    if note and snap.theory_applies:  # the run has ended: how far the network was from its kernel, measured
        said += "\n\n" + lab1d.rate_text(snap).replace("\n", "  \n")
    return said


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
