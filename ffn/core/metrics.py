"""Image-quality metrics, as the paper reports them."""

import numpy as np


def mse_to_psnr(mse):
    """PSNR in dB from a mean squared error of values in [0, 1] (peak value 1).

    The original demo trains on 0.5 * MSE and reports -10 log10(2 * loss); this takes the MSE itself.
    Host-side (floats or NumPy arrays); an MSE of 0 gives inf, a NaN (a diverged net) stays NaN.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return -10.0 * np.log10(mse)


def psnr(a, b):
    """PSNR in dB between two images of values in [0, 1] (any equal shapes)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Images differ in shape: {a.shape} vs {b.shape}.")
    return float(mse_to_psnr(np.mean((a - b) ** 2)))
