"""An inverse problem's measurements as pictures: the CT sinogram, the MRI k-space mask and its samples.

What the network is trained on instead of the object, drawn at the object's size so they sit beside it: the
command line writes them as PNGs (`write`), the inverse page shows them next to the object.
"""

import pathlib

import numpy as np
from PIL import Image

from ffn.core import data, operators


def _stretched(values: np.ndarray, size: int, top: float | None = None) -> np.ndarray:
    """A non-negative (h, w) array scaled to `top` (default its maximum; above it white) and resized to size×size by
    nearest neighbour, as uint8 (R, R, 3) grey (all black when it is all zero)."""
    top = float(values.max()) if top is None else top
    grey = Image.fromarray(data.to_uint8(values / top if top > 0 else values)[..., 0])
    return data.to_uint8(np.asarray(grey.resize((size, size), Image.Resampling.NEAREST)))


def pictures(task) -> list[tuple[str, str, np.ndarray]]:
    """(file name, caption, (R, R, 3) uint8 picture) of each view of a task's measurements (`inverse.Task`).

    CT: the sinogram, one row per angle from 0 (top) to 180° (bottom), one column per detector position, scaled
    to its maximum and stretched to R rows. MRI: the mask (white where k-space is sampled) and the log magnitude
    log(1 + |y|) of the samples, scaled to the 95th percentile of the sampled points' (the DC term alone stands far
    above the rest), both with the low frequencies in the centre (of a 3D
    problem: the plane kz = 0 of its k-space).
    """
    size = task.obj.shape[0]
    if isinstance(task.operator, operators.CT):
        sinogram = np.asarray(task.measurements, np.float64)  # (angles, R)
        return [("sinogram.png", f"sinogram: {sinogram.shape[0]} angles (rows, 0 to 180°) × {size} detector "
                                 "positions", _stretched(sinogram, size))]
    mask, samples = np.asarray(task.operator.mask, np.float64), np.log1p(np.abs(np.asarray(task.measurements)))
    share, plane = 100 * mask.mean(), ""
    if mask.ndim == 3:  # a volume's k-space: its plane through the centre, kz = 0 (index 0 in FFT order)
        mask, samples, plane = mask[:, :, 0], samples[:, :, 0], ", the plane kz = 0"
    mask, samples = np.fft.fftshift(mask), np.fft.fftshift(samples)
    return [("kspace_mask.png", f"k-space mask: {share:.3g}% of the points sampled (white){plane}", _stretched(mask, size)),
            ("kspace.png", f"sampled k-space, log magnitude (black off the mask){plane}",
             _stretched(samples, size, float(np.percentile(samples[mask > 0], 95))))]


def write(out: str | pathlib.Path, task) -> dict[str, pathlib.Path]:
    """Writes `pictures(task)` as PNGs into folder `out`; returns name -> path."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, _, picture in pictures(task):
        paths[name] = out / name
        Image.fromarray(picture).save(paths[name])
    return paths
