"""The paper's reported numbers (Tancik et al. 2020, Table 1) and whether a run of ours can stand beside them.

Table 1 reports the test PSNR (dB) of 2D image regression at 512 px after 2000 steps of a 4×256 ReLU MLP with
256 features, as mean ± standard deviation over a set of natural photographs (DIV2K) and a set of text images;
`ffn.core.config.PAPER_PROTOCOL_NATURAL` and `PAPER_PROTOCOL_TEXT` are the matching settings. A single image of ours
can land several dB either side of these means (the standard deviations are 2-4 dB), so like is compared with
like only by `python -m ffn.table1`, which runs the protocol over a set of images.

`comparability` says why a run's mapping is not the paper's setting (or None when it is);
`ffn.present.text.table_markdown` renders a `table1.json` of `ffn.table1` beside the paper's numbers.
"""

from ffn.core import mappings
from ffn.core.config import PAPER_PROTOCOL_NATURAL, PAPER_PROTOCOL_TEXT, Config
from ffn.core.inverse import CT_PROTOCOL, MRI_PROTOCOL, Problem

# dataset -> mapping kind (ffn.core.mappings.KINDS) -> (mean, standard deviation) of the test PSNR in dB over the set.
TABLE1 = {
    "natural": {"none": (19.32, 2.48), "basic": (21.72, 2.72), "posenc": (24.95, 3.72), "gauss": (25.57, 4.19)},
    "text": {"none": (18.40, 2.34), "basic": (20.48, 1.96), "posenc": (27.57, 3.07), "gauss": (30.47, 2.11)},
}
DATASETS = tuple(TABLE1)
# Table 1's other columns (means only, as the paper prints them): the inverse problems, where the network sees only
# measurements of the object (2D CT: 20 parallel-beam projections; 3D MRI: a sparse set of k-space samples).
TABLE1_INVERSE = {
    "ct": {"none": 16.75, "basic": 23.31, "posenc": 26.89, "gauss": 28.33},
    "mri": {"none": 26.14, "basic": 28.58, "posenc": 32.23, "gauss": 34.51},
}
INVERSE_NAMES = {"ct": "2D CT", "mri": "3D MRI"}
INVERSE_DATASETS = tuple(TABLE1_INVERSE)
# The authors' notebooks' final settings for their Shepp-Logan phantoms (docs/inverse-protocol.md): CT at 512 px,
# MRI in 3D at 96³, 1000 steps, their learning rates and tuned σ and S. Ours runs the MRI in 2D.
INVERSE_PROTOCOLS = {"ct": CT_PROTOCOL, "mri": MRI_PROTOCOL}
INVERSE_MRI_VOLUME = 96  # the MRI notebook's volume side (96³ voxels)
# The means alone, for views that draw one number per kind (derived, so the table above stays the only one).
TABLE1_PSNR = {dataset: {kind: mean for kind, (mean, _) in row.items()} for dataset, row in TABLE1.items()}
# The spread over images is the population standard deviation (numpy's np.std, ddof=0), as in the authors'
# notebook; ffn.table1 computes ours the same way so that the two ± columns mean the same thing.
STD = "population standard deviation over images (np.std, ddof=0)"
PROTOCOLS = {"natural": PAPER_PROTOCOL_NATURAL, "text": PAPER_PROTOCOL_TEXT}
NETWORKS = {"relu": "ReLU", "siren": "SIREN"}  # Config.model -> its name in a sentence


def check_dataset(dataset) -> str:
    """`dataset` if it is one of Table 1's ('natural', 'text'), else ValueError with a sentence."""
    if dataset not in TABLE1:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)} (got {dataset!r}).")
    return dataset


def protocol_mapping(dataset: str, kind: str) -> mappings.Mapping:
    """The paper's mapping of `kind` for `dataset`, with its scale and its learning rate filled in."""
    protocol = PROTOCOLS[check_dataset(dataset)]
    for m, lr in zip(protocol.parsed, protocol.learning_rates()):
        if m.kind == kind:
            return mappings.Mapping(m.kind, m.scale, lr)
    raise ValueError(f"Table 1 has no mapping of kind {kind!r}.")


def differences(config: Config, spec: str, dataset: str, steps: int | None = None) -> list[str]:
    """What sets a run's mapping apart from Table 1's setting, one short phrase each ([] when nothing does).

    `steps` is where the run stopped (default: `config.iters`, a finished run). The image itself is not
    judged: Table 1 is a mean over a set, which a single image only samples.
    """
    protocol = PROTOCOLS[check_dataset(dataset)]
    mapping = mappings.parse(spec)
    steps = config.iters if steps is None else steps
    out = []
    if config.model != protocol.model:
        out.append(f"a {NETWORKS.get(config.model, config.model)} network, not the paper's ReLU MLP")
    if config.size != protocol.size:
        out.append(f"{config.size} px, not {protocol.size}")
    if steps != protocol.iters:
        out.append(f"{steps} steps, not {protocol.iters}")
    if (config.depth, config.width) != (protocol.depth, protocol.width):
        out.append(f"a {config.depth}×{config.width} network, not {protocol.depth}×{protocol.width}")
    if mapping.kind in ("posenc", "gauss") and config.features != protocol.features:
        out.append(f"{config.features} features, not {protocol.features}")  # none and basic have no m
    paper = protocol_mapping(dataset, mapping.kind)
    if mapping.scale != paper.scale:
        name = "σ" if mapping.kind == "gauss" else "S"
        out.append(f"{mapping.kind} {name} = {mapping.scale:g}, not {paper.scale:g}")
    lr = mapping.lr if mapping.lr is not None else config.lr
    if lr != paper.lr:
        out.append(f"learning rate {lr:g} for {mapping.kind}, not {paper.lr:g}")
    return out


def check_inverse(dataset) -> str:
    """`dataset` if it is one of Table 1's inverse problems ('ct', 'mri'), else ValueError with a sentence."""
    if dataset not in TABLE1_INVERSE:
        raise ValueError(f"The inverse problems are {', '.join(INVERSE_DATASETS)} (got {dataset!r}).")
    return dataset


def inverse_differences(config: Config, spec: str, dataset: str, problem: Problem | None = None) -> list[str]:
    """What sets a mapping of an inverse-problem run apart from the setting of Table 1's column for `dataset`
    (the notebook's final one, `INVERSE_PROTOCOLS`), one short phrase each ([] when nothing does).

    The objects are not judged (the paper's are its own random phantoms or volumes); a 2D MRI is never the
    paper's 3D one.
    """
    protocol = INVERSE_PROTOCOLS[check_inverse(dataset)]
    problem = problem or Problem(dataset)
    mapping = mappings.parse(spec)
    out = []
    if dataset == "mri":
        out.append(f"2D slices at {config.size} px, not the paper's 3D volumes of {INVERSE_MRI_VOLUME}³ voxels")
        if problem.kspace != Problem("mri").kspace:
            out.append(f"{100 * problem.kspace:.3g}% of k-space sampled, not {100 * Problem('mri').kspace:.3g}%")
    else:
        if config.size != protocol.size:
            out.append(f"{config.size} px, not {protocol.size}")
        if problem.angles != Problem("ct").angles:
            out.append(f"{problem.angles} angles, not {Problem('ct').angles}")
    if config.model != protocol.model:
        out.append(f"a {NETWORKS.get(config.model, config.model)} network, not the paper's ReLU MLP")
    if config.iters != protocol.iters:
        out.append(f"{config.iters} steps, not {protocol.iters}")
    if (config.depth, config.width) != (protocol.depth, protocol.width):
        out.append(f"a {config.depth}×{config.width} network, not {protocol.depth}×{protocol.width}")
    if mapping.kind in ("posenc", "gauss") and config.features != protocol.features:
        out.append(f"{config.features} features, not {protocol.features}")
    for m, lr in zip(protocol.parsed, protocol.learning_rates()):
        if m.kind != mapping.kind:
            continue
        if mapping.scale != m.scale:
            name = "σ" if mapping.kind == "gauss" else "S"
            out.append(f"{mapping.kind} {name} = {mapping.scale:g}, not the notebook's {m.scale:g}")
        own = mapping.lr if mapping.lr is not None else config.lr
        if own != lr:
            out.append(f"learning rate {own:g} for {mapping.kind}, not {lr:g}")
    return out


def comparability(config: Config, spec: str, dataset: str, steps: int | None = None) -> str | None:
    """None when mapping `spec` of a run with `config` had Table 1's setting for `dataset`, else a sentence
    saying why its PSNR is not like for like with the paper's (resolution, steps, network, σ or S, lr)."""
    reasons = differences(config, spec, dataset, steps)
    if not reasons:
        return None
    return f"{spec} is not comparable with Table 1 ({dataset} images): " + "; ".join(reasons) + "."
