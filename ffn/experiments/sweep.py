"""The σ sweep: Gaussian Fourier features at log-spaced scales, trained together, and the best σ.

Every gauss:σ of a run is σ times one shared N(0, 1) draw and has the same encoding width, so the trainer
trains the whole sweep as one batch of networks (one compiled program) and each result equals that σ
trained alone. This is the paper's recipe for choosing σ (its Figure 4 / Table 1 grid searches).
"""

import math

import numpy as np

from ffn.core import checks, mappings
from ffn.core.config import MAX_MAPPINGS, Config

MIN_POINTS = 2
PLATEAU_DB = 0.2  # test PSNR within this of the best counts as the same: one seed cannot tell them apart


def check_sweep(sigma_min, sigma_max, n) -> tuple[float, float, int]:
    """Validates a sweep's range and count; returns (σ_min, σ_max, n) or raises `checks.Invalid` with a reason."""
    top = mappings.MAX_SCALE["gauss"]
    low = checks.real(sigma_min, "sigma_min", 0, top, above=True)
    high = checks.real(sigma_max, "sigma_max", 0, top, above=True)
    if not low < high:
        raise checks.Invalid(f"The sweep's sigma_min must be below its sigma_max (got {low:g} and {high:g}).",
                             "sigma_min")
    return low, high, checks.whole(n, "n (how many σ)", MIN_POINTS, MAX_MAPPINGS)


def sweep_sigmas(sigma_min: float, sigma_max: float, n: int) -> tuple[float, ...]:
    """n log-spaced σ from σ_min to σ_max, each rounded to 3 significant digits, duplicates dropped (ascending).

    Raises ValueError when the range is so narrow that fewer than two distinct values remain.
    """
    sigma_min, sigma_max, n = check_sweep(sigma_min, sigma_max, n)
    sigmas = []
    for s in np.geomspace(sigma_min, sigma_max, n):
        s = float(f"{s:.3g}")
        if s not in sigmas:
            sigmas.append(s)
    if len(sigmas) < MIN_POINTS:
        raise ValueError(f"σ from {sigma_min:g} to {sigma_max:g} gives only one scale at 3 significant digits; widen the range.")
    return tuple(sigmas)


def sweep_config(base: Config, sigma_min: float, sigma_max: float, n: int) -> Config:
    """`base` with its mappings replaced by gauss:σ for every σ of `sweep_sigmas` (all at base's lr)."""
    return base.replace(mappings=tuple(f"gauss:{s:g}" for s in sweep_sigmas(sigma_min, sigma_max, n)))


def _finite(value: float):
    """JSON has no NaN: a diverged value becomes None."""
    return float(value) if math.isfinite(value) else None


def summarise_sweep(snapshot) -> dict:
    """A sweep's outcome from its final snapshot, JSON-ready, one entry per gauss spec in ascending σ.

    Returns {"step": steps done, "iters": the run's steps, "sigmas": [σ, ...], "final_train_psnr": [dB, ...],
    "final_test_psnr": [dB, ...],
    "best_sigma": σ with the highest final test PSNR, "plateau": [lowest σ, highest σ] whose test PSNR is within
    PLATEAU_DB of the best}; a diverged network's PSNR is None and never best, and best_sigma and plateau are None
    if every network diverged. Other mappings in the run are ignored. A flat top (σ from 1.8 to 4 within 0.2 dB
    at 128 px) is the usual outcome: the plateau, not one best σ, is what a sweep finds.
    """
    rows = sorted((mappings.parse(spec).scale, spec) for spec in snapshot.test_psnr
                  if mappings.parse(spec).kind == "gauss")
    if not rows:
        raise ValueError("This run has no gauss:σ mapping to summarise.")
    test = [_finite(snapshot.test_psnr[spec]) for _, spec in rows]
    finite = [i for i, v in enumerate(test) if v is not None]
    best = max(finite, key=lambda i: test[i]) if finite else None
    near = [rows[i][0] for i in finite if test[i] >= test[best] - PLATEAU_DB] if best is not None else []
    return {
        "step": snapshot.step,
        "iters": snapshot.iters,
        "sigmas": [sigma for sigma, _ in rows],
        "final_train_psnr": [_finite(snapshot.train_psnr[spec]) for _, spec in rows],
        "final_test_psnr": test,
        "best_sigma": rows[best][0] if best is not None else None,
        "plateau": [min(near), max(near)] if near else None,
    }
