"""The paper's reported numbers, to draw beside a run's own (Tancik et al. 2020, Table 1).

Table 1 reports the mean test PSNR (dB) of 2D image regression at 512 px after 2000 steps, over a set of
natural photographs (DIV2K) and a set of text images; `ffn.config.PAPER_PROTOCOL_NATURAL` and
`PAPER_PROTOCOL_TEXT` are the matching settings. A single image of ours can land several dB either side of
these means (the paper's per-dataset standard deviations are 2-4 dB).
"""

from collections.abc import Sequence

from ffn import mappings

# dataset -> mapping kind (ffn.mappings.KINDS) -> mean test PSNR in dB.
TABLE1_PSNR = {
    "natural": {"none": 19.32, "basic": 21.72, "posenc": 24.95, "gauss": 25.57},
    "text": {"none": 18.40, "basic": 20.48, "posenc": 27.57, "gauss": 30.47},
}
DATASETS = tuple(TABLE1_PSNR)


def paper_reference(specs: Sequence[str], dataset: str = "natural") -> dict[str, float]:
    """spec -> the paper's test PSNR for its kind, for the first spec of each kind in `specs`.

    Keyed by our spec, so `ffn.plots.psnr_figure(..., reference=...)` draws each line in that mapping's
    colour; later specs of an already-listed kind are left out (the paper has one number per kind).
    """
    if dataset not in TABLE1_PSNR:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)} (got {dataset!r}).")
    table, out, seen = TABLE1_PSNR[dataset], {}, set()
    for spec in specs:
        kind = mappings.parse(spec).kind
        if kind not in seen:
            seen.add(kind)
            out[spec] = table[kind]
    return out
