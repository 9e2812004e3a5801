"""Runs repeated over seeds: each seed draws its own B and initial weights, and the spread says how much of a
difference between mappings is the draw's.

`python -m ffn IMAGE --seeds 0 1 2` and `python -m ffn.table1 ... --seeds 0 1 2` train every mapping once per
seed; `summarise` gives each mapping's final PSNRs per seed and their mean ± the population standard deviation
(`STD`), as Table 1's spread is computed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ffn.core import checks
from ffn.core.config import LIMITS
from ffn.core.train import Snapshot

MAX_SEEDS = 100
STD = "population standard deviation over seeds (np.std, ddof=0)"


def check_seeds(seeds) -> tuple[int, ...]:
    """1 to MAX_SEEDS distinct seeds, each a whole number in Config's range; in the order given."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not 1 <= len(seeds) <= MAX_SEEDS:
        raise checks.Invalid(f"seeds must be 1 to {MAX_SEEDS} whole numbers, e.g. 0 1 2 (got {checks.shown(seeds)}).",
                             "seeds")
    _, low, high = LIMITS["seed"]
    values = tuple(checks.whole(s, "seeds (each seed)", low, high, param="seeds") for s in seeds)
    if len(set(values)) != len(values):
        raise checks.Invalid(f"seeds must differ from one another (got {' '.join(map(str, values))}).", "seeds")
    return values


def mean_std(values: Sequence[float | None]) -> dict:
    """{"mean", "std", "n"} over the finite values (None or NaN: a diverged network, left out); std the
    population one; mean and std None when no value is finite."""
    finite = np.array([v for v in values if v is not None and math.isfinite(v)], np.float64)
    if not finite.size:
        return {"mean": None, "std": None, "n": 0}
    return {"mean": float(np.mean(finite)), "std": float(np.std(finite)), "n": int(finite.size)}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # JSON has no NaN


def summarise(finals: Mapping[int, Snapshot]) -> dict:
    """The last snapshot of each seed's run (seed -> Snapshot, the same mappings in each) -> the seeds.json document:

    {"seeds": [seed, ...], "std": STD, "mappings": {spec: {"final_train_psnr": [dB per seed], "final_test_psnr":
    [...], "train": mean_std, "test": mean_std}}}; a diverged network's PSNR is null and left out of the mean.
    """
    if not finals:
        raise ValueError("No seed has run: nothing to summarise.")
    seeds = list(finals)
    specs = list(next(iter(finals.values())).test_psnr)
    out = {}
    for spec in specs:
        train = [_finite(finals[s].train_psnr[spec]) for s in seeds]
        test = [_finite(finals[s].test_psnr[spec]) for s in seeds]
        out[spec] = {"final_train_psnr": train, "final_test_psnr": test, "train": mean_std(train),
                     "test": mean_std(test)}
    return {"seeds": seeds, "std": STD, "mappings": out}
