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


def starting_line(what: str, mappings: int, iters: int) -> str:
    """Markdown status at a Train click, before the step-0 snapshot: `what` runs, and why the first picture can take
    a moment (the run's program compiles before it, unless this server has run the same shapes)."""
    return (f"**Starting** {what}: {mappings} mapping{'s' * (mappings != 1)} × {iters} steps · compiling… (once per "
            "network shape on this server)")


def status_line(snap: Snapshot, rate: float | None, note: str = "") -> str:
    """Markdown status of a run: step, speed, time left (or taken), divergence, the best mapping so far."""
    parts = [f"**step {snap.step} / {snap.iters}**"]
    if snap.step == 0 and not note:
        parts.append("the untrained networks; the first chunk is training…")
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
        for reason in (r for d in paper.DATASETS for r in paper.differences(config, spec, d, snap.step)):
            if reason not in differs:
                differs.append(reason)
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
    # Over-fitting: a Gaussian mapping that fits the training pixels far better than the held-out ones *and* ends
    # well below the best (a good σ also fits its training pixels better: that alone is no fault).
    over = [s for s in finite if mappings.parse(s).kind == "gauss" and snap.train_psnr[s] - finite[s] > 8
            and finite[s] < finite[best] - 2]
    if over:
        said.append(f"{', '.join(over)} fit the training pixels far better than the held-out ones (train − test > 8 dB) "
                    "and end more than 2 dB below the best: over-fitting.")
    spread = finite[best] - finite[ranked[-1]]
    if spread < 2 and len(finite) > 1:
        said.append(f"Every mapping ends within {spread:.1f} dB: this image has little detail that a plain network "
                    "cannot fit at this size.")
    said.append("The paper expects none < basic < positional encoding ≤ a well-chosen Gaussian σ, and a too-large σ "
                "to over-fit.")
    return " ".join(said)


def _mean_std(mean, std) -> str:
    if mean is None:
        return "–"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def table_markdown(doc: dict) -> str:
    """A `table1.json` document of `ffn.table1` as Markdown: our mean ± std per mapping beside the paper's.

    Below the table it says how many images and what setting, and, when the setting is not the paper's,
    plainly so and how it differs (from `differences`, the same rule the page applies to a single run).
    """
    if doc["dataset"] in paper.INVERSE_DATASETS:
        return _inverse_table_markdown(doc)
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


def _seeds_text(seeds: list[int]) -> str:
    """'8–15' for a run of consecutive seeds, else '1, 4, 9'."""
    seeds = sorted(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def objects_text(names: list[str]) -> str:
    """What a table's objects are: '8 random Shepp-Logan phantoms (seeds 8–15)', '5 grey images', or both."""
    seeds = [int(n.split(":", 1)[1]) for n in names if n.startswith("phantom:")]
    files = len(names) - len(seeds)
    parts = []
    if seeds:
        parts.append(f"{len(seeds)} random Shepp-Logan phantom{'s' * (len(seeds) != 1)} (seed{'s' * (len(seeds) != 1)} "
                     f"{_seeds_text(seeds)})")
    if files:
        parts.append(f"{files} image{'s' * (files != 1)} taken as grey")
    return " and ".join(parts)


def _grid(values) -> str:
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def _inverse_table_markdown(doc: dict) -> str:
    """`table_markdown` of an inverse problem's table (`python -m ffn.table1 --dataset ct|mri`): our mean ± std of
    the reconstruction PSNR beside the paper's mean, the σ and S used and how they were chosen, and how the
    setting differs from the notebook's."""
    from ffn.core import inverse

    dataset = paper.check_inverse(doc["dataset"])
    problem = inverse.Problem(**doc["task"]) if doc.get("task") else inverse.Problem(dataset)
    c = Config(**{k: v for k, v in doc["config"].items() if k in Config.__dataclass_fields__})
    n = len(doc["images"])
    column = paper.INVERSE_NAMES[dataset]
    lines = [f"| mapping | ours, reconstruction PSNR (dB), n = {n} | paper, {column} (mean) |", "|---|---:|---:|"]
    reasons = []
    for spec, row in doc["mappings"].items():
        kind = mappings.parse(spec).kind
        theirs = doc.get("paper", {}).get(kind) or {"mean": paper.TABLE1_INVERSE[dataset][kind], "std": None}
        diverged = sum(v is None for v in row["test_psnr"])
        ours = _mean_std(row["mean"], row["std"]) + (f" ({diverged} diverged, left out)" if diverged else "")
        name = dataclasses.replace(mappings.parse(spec), lr=None).label()
        lines.append(f"| {name} (`{spec}`) | {ours} | {_mean_std(theirs['mean'], None)} |")
        reasons += [r for r in paper.inverse_differences(c, spec, dataset, problem) if r not in reasons]
    scales = {m.kind: m.scale for m in c.parsed}
    text = "\n".join(lines) + (
        f"\n\nOurs: {objects_text(doc['images'])}, seen only through {problem.label()}, at {c.size} px, {c.iters} "
        f"steps, {c.depth}×{c.width} {paper.NETWORKS.get(c.model, c.model)} network, {c.features} features, seed "
        f"{c.seed}; the reconstruction's PSNR against the object over every pixel; ± is the {paper.STD}.")
    tuning = doc["config"].get("sigma_tuning") or {}
    chosen = [(name, kind, grid) for name, kind, grid in (("σ", "gauss", tuning.get("sigmas")), ("S", "posenc", tuning.get("scales")))
              if grid]
    if chosen:
        values = " and ".join(f"{name} = {scales[kind]:g}" for name, kind, _ in chosen)
        grids = " and ".join(f"{name} ∈ {_grid(grid)}" for name, _, grid in chosen)
        count = len(tuning.get("images", []))
        text += (f" {values} had the best mean reconstruction PSNR on {objects_text(tuning.get('images', []))} "
                 f"from {grids}, at this size" if count else f" {values} chosen from {grids}") + "."
    given = [f"{name} = {scales[kind]:g}" for name, kind in (("σ", "gauss"), ("S", "posenc"))
             if kind in scales and not any(k == kind for _, k, _ in chosen)]
    if given:
        text += f" {' and '.join(given)} given, not tuned by this run."
    volume = paper.INVERSE_MRI_VOLUME
    setting = (f"a 3D problem, {volume}³ volumes in the authors' notebook" if dataset == "mri" else
               f"the authors' notebook at {paper.INVERSE_PROTOCOLS['ct'].size} px, {inverse.Problem('ct').angles} angles")
    text += f" Paper: Tancik et al. 2020, Table 1, {column} column, means only ({setting})."
    if reasons:
        text += "\n\n**Not the paper's setting**, so not like for like: " + "; ".join(reasons) + "."
    return text


def inverse_notice(snap: Snapshot, problem, size: int) -> str:
    """Markdown: what to notice in an inverse problem's run, said from its results at `snap` (`problem` an
    `inverse.Problem`, the object size×size px): the best reconstruction and its margin over no mapping, the
    ranking, and how far the fit to the measurements runs ahead of the reconstruction."""
    tests = {s: v for s, v in snap.test_psnr.items() if math.isfinite(v) and s not in snap.diverged}
    if not tests:
        return "Every network diverged: lower the learning rate and train again."
    best = max(tests, key=tests.get)
    kinds = {s: mappings.parse(s).kind for s in tests}
    code = lambda spec: f"`{spec}`"  # noqa: E731 (a spec such as none@0.01 would otherwise read as an e-mail address)
    lines = [f"- **{code(best)}** reconstructs the object best: **{tests[best]:.2f} dB** against the object"]
    plain = [s for s in tests if kinds[s] == "none"]
    if plain and best not in plain:
        lines[0] += f", {tests[best] - tests[plain[0]]:.1f} dB above no mapping ({tests[plain[0]]:.2f} dB)"
    elif plain:
        lines[0] += ": no mapping wins this run"
    lines[0] += "."
    if len(tests) > 1:
        ranked = sorted(tests, key=tests.get, reverse=True)
        lines.append("- From best to worst: " + " > ".join(f"{code(s)} {tests[s]:.2f}" for s in ranked) + " dB.")
    fit = snap.train_psnr[best]
    measured, pixels = problem.measurement_count(size), size * size
    if math.isfinite(fit) and fit - tests[best] > 3 and measured < pixels:
        lines.append(f"- It fits the measurements to {fit:.1f} dB but the object only to {tests[best]:.1f} dB: "
                     f"{measured:,} measured numbers for {pixels:,} pixels leave part of the object undetermined (the "
                     "operator's null space), and what a network puts there comes from its mapping, not the data.")
    elif math.isfinite(fit):
        lines.append(f"- Its fit to the measurements: {fit:.1f} dB; to the object: {tests[best]:.1f} dB "
                     f"({measured:,} measured numbers for {pixels:,} pixels).")
    fits = {s: snap.train_psnr[s] for s in tests if math.isfinite(snap.train_psnr[s])}
    if fits:
        tightest = max(fits, key=fits.get)
        if tightest != best and fits[tightest] > fits.get(best, -math.inf):
            lines.append(f"- {code(tightest)} fits the measurements best ({fits[tightest]:.1f} dB) yet reconstructs "
                         f"{tests[best] - tests[tightest]:.1f} dB worse than {code(best)}: a closer fit to the measurements "
                         "is not a better reconstruction.")
    if snap.diverged:
        lines.append(f"- Diverged: {', '.join(map(code, snap.diverged))} (try a lower learning rate).")
    return f"**What to notice** (step {snap.step}):\n" + "\n".join(lines)


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
