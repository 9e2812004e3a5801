"""How well each frequency band of an image is learned: relative error per radial band of the 2D spectrum.

With F the 2D DFT of one (R, R) channel and f = (fx, fy) in cycles per image side, the relative error in
band k is

    e_k = Σ_{f in k} Σ_c |F_c(recon - truth)(f)|² / Σ_{f in k} Σ_c |F_c(truth)(f)|²

summed over the three channels c, DC left out: 1 means the band is not learned at all (e.g. a flat
reconstruction), 0 perfectly; above 1 the network puts more wrong detail there than the image holds.
Watching e_k over training shows the spectral bias of Tancik et al. (2020): a ReLU network on raw
coordinates learns the low bands first and the high ones hardly at all, Fourier features move the
boundary up.

Bands are log-spaced, two per octave from 1 cycle per side up to Nyquist (R/2): natural images have
power-law spectra (power ∝ |f|^-2 roughly), so each octave holds a similar share of the detail, and the
frequencies a mapping makes learnable scale with σ, also read on a log scale. Equal-width bands would put
almost all bands in the sparse high frequencies and lump every low one into the first. A band holds the
frequencies with lo <= |f| < hi, the last one also |f| = R/2; the corners of the grid past Nyquist
(R/2 < |f| <= R/√2) and DC belong to no band.

A band where the ground truth has almost no power (a flat area of the spectrum, or a band with no
frequency in it) gets NaN and is flagged `empty`: see `EMPTY_FACTOR`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.fft  # a dependency of JAX; its real FFT is about 4x faster than NumPy's here (float32, batched)

from ffn.core import checks

BANDS_PER_OCTAVE = 2  # half-octave bands: 12 at 128 px, 16 at 512 px
MIN_BANDS, MAX_BANDS = 6, 16  # the default count is kept in this range (fewer than 6 says little; more is noise)
MAX_SIZE = 1 << 14  # px per side accepted by these functions
# A band is empty when the ground truth's power there is below EMPTY_FACTOR times the power that 8-bit
# rounding alone spreads over those frequencies (white noise of 1/12 of a level squared per pixel and
# channel). Reconstructions are 8-bit pictures too, so their own rounding puts about that much error power
# in every band: in a band that is shown, rounding alone can account for at most 1/EMPTY_FACTOR = 0.1.
EMPTY_FACTOR = 10.0

WHAT_TO_NOTICE = ("Each panel is one mapping: frequency bands from coarse (bottom) to fine (top) against "
                  "training step, dark where a band is learned, yellow where it is not, red where the network adds "
                  "detail the image does not have; without Fourier features only the lowest bands darken, a "
                  "suitable σ darkens the fine bands too, too large a σ turns them red (grey: the image has almost "
                  "nothing there).")


def default_count(size: int) -> int:
    """Bands for an image of `size` px: two per octave from 1 to size/2, kept between MIN_BANDS and MAX_BANDS."""
    octaves = math.log2(size / 2)
    return int(min(MAX_BANDS, max(MIN_BANDS, round(BANDS_PER_OCTAVE * octaves))))


def band_edges(size: int, count: int | None = None) -> np.ndarray:
    """(count+1,) float64 band edges in cycles per image side, log-spaced from 1 to size/2 (Nyquist).

    count defaults to `default_count(size)` (12 at 128 px, 16 at 512 px).
    """
    size = checks.whole(size, "size", 4, MAX_SIZE)
    count = default_count(size) if count is None else checks.whole(count, "count (number of bands)", 1, 64)
    edges = np.geomspace(1.0, size / 2, count + 1)
    edges[0], edges[-1] = 1.0, size / 2  # exactly, whatever geomspace rounds
    return edges


def band_centres(edges) -> np.ndarray:
    """(count,) the geometric middle of each band, in cycles per image side: where a log axis centres it."""
    edges = np.asarray(edges, np.float64)
    return np.sqrt(edges[:-1] * edges[1:])


def band_labels(edges) -> list[str]:
    """'1–1.4', '1.4–2', ..., '45–64': each band's range in cycles per image side, for ticks and hovers."""
    fmt = lambda v: f"{v:.2g}" if v < 10 else f"{v:.0f}"  # noqa: E731
    edges = np.asarray(edges, np.float64)
    return [f"{fmt(lo)}–{fmt(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]


def _squared_edges(edges) -> np.ndarray:
    """edges² with values within 1e-9 of a whole number made whole: frequencies have whole |f|², and an edge
    such as 2^(1/2) must hold |f| = √2 on its upper side whatever the last bit of the float says."""
    e2 = np.asarray(edges, np.float64) ** 2
    whole = np.rint(e2)
    return np.where(np.abs(e2 - whole) <= 1e-9 * np.maximum(whole, 1.0), whole, e2)


def band_index(size: int, edges) -> np.ndarray:
    """(size, size) int: the band of each frequency in np.fft.fft2's layout, -1 for DC and past the last edge.

    Element [i, j] is the frequency (fy, fx) = (fftfreq(size)·size)[i], [j] in cycles per image side; it is in
    band k when edges[k] <= |f| < edges[k+1], or |f| = edges[-1] for the last band.
    """
    size = checks.whole(size, "size", 4, MAX_SIZE)
    e2 = _squared_edges(edges)
    f = np.fft.fftfreq(size, 1.0 / size)  # whole numbers: 0, 1, ..., -1
    r2 = f[:, None] ** 2 + f[None, :] ** 2  # exact in float64
    index = np.searchsorted(e2, r2, side="right") - 1
    count = len(e2) - 1
    index[r2 == e2[-1]] = count - 1
    index[(index < 0) | (index >= count) | (r2 == 0)] = -1
    return index


def band_sizes(size: int, edges) -> np.ndarray:
    """(count,) how many frequencies of the (size, size) DFT fall in each band."""
    index = band_index(size, edges)
    return np.bincount(index[index >= 0], minlength=len(edges) - 1)


def rounding_power(size: int, edges) -> np.ndarray:
    """(count,) the power 8-bit rounding puts in each band, summed over 3 channels, in the units of `Meter`'s
    powers (colour value² per pixel): 3 · (1/255)²/12 · (frequencies in the band) / size²."""
    return 3 * (1 / 255) ** 2 / 12 * band_sizes(size, edges) / size**2


def _as_float32(images) -> np.ndarray:
    """uint8 or float in [0, 1] -> float32 in [0, 1], same shape."""
    a = np.asarray(images)
    return a.astype(np.float32) * np.float32(1 / 255) if a.dtype == np.uint8 else a.astype(np.float32)


class Meter:
    """Band errors of reconstructions against one fixed ground truth, whose spectrum is computed once.

    A run measures every mapping at every snapshot against the same image, so the band of each frequency,
    the truth's band powers and the empty bands are prepared here once. Spectra are real FFTs in float32
    (the error is taken in pixel space first, so nothing cancels). Six reconstructions, measured on a busy
    2-core AMD EPYC: 7 ms at 128 px against 10.8 s for a 25-step chunk of the CPU preset (0.06%); 100 ms at
    512 px against 40 s for a 25-step chunk of width-64 networks (0.26%; the paper's width 256 costs more).
    """

    def __init__(self, truth, edges=None):
        """truth: (R, R, 3) uint8 or float in [0, 1]; edges: (count+1,) cycles per image side, default
        `band_edges(R)`."""
        truth = np.asarray(truth)
        if truth.ndim != 3 or truth.shape[0] != truth.shape[1] or truth.shape[2] != 3:
            raise ValueError(f"The ground truth must be a square (R, R, 3) image (got shape {truth.shape}).")
        size = truth.shape[0]
        self.size = size
        self.edges = band_edges(size) if edges is None else np.asarray(edges, np.float64)
        self.count = len(self.edges) - 1
        half = size // 2 + 1  # rfft2 keeps fx = 0 .. R/2; each other column stands for itself and its mirror
        index = band_index(size, self.edges)[:, :half]
        weights = np.full(half, 2.0)
        weights[0] = 1.0
        if size % 2 == 0:
            weights[-1] = 1.0  # the Nyquist column is its own mirror
        self._bins = (index + 1).ravel()  # 0: DC and past Nyquist, not counted
        self._weights = np.broadcast_to(weights, index.shape).ravel()
        self._truth = _as_float32(truth)  # (R, R, 3)
        self.truth_power = self._band_power(self._truth[None])[0]  # (count,)
        self.empty = self.truth_power < EMPTY_FACTOR * rounding_power(size, self.edges)  # (count,) bool

    def _band_power(self, stack) -> np.ndarray:
        """(n, R, R, 3) float32 -> (n, count) float64: Σ over a band's frequencies and the channels of |F|²/R⁴."""
        spectrum = scipy.fft.rfft2(stack, axes=(1, 2)).view(np.float32)  # (n, R, R/2+1, 3·2): re, im
        power = np.einsum("nijc,nijc->nij", spectrum, spectrum).reshape(len(stack), -1)  # (n, R·(R/2+1))
        n, width = len(stack), self.count + 1
        bins = (self._bins[None, :] + width * np.arange(n)[:, None]).ravel()
        sums = np.bincount(bins, weights=(power * self._weights).ravel(), minlength=n * width)
        return sums.reshape(n, width)[:, 1:] / float(self.size) ** 4

    def errors(self, recons: Sequence) -> np.ndarray:
        """(n, count) float64 relative error per band of n reconstructions ((R, R, 3) each), NaN in empty bands."""
        recons = [np.asarray(r) for r in recons]
        for r in recons:
            if r.shape != self._truth.shape:
                raise ValueError(f"Reconstructions must be {self.size}×{self.size}×3 like the ground truth "
                                 f"(got {r.shape}).")
        difference = np.empty((len(recons), *self._truth.shape), np.float32)  # (n, R, R, 3), one pass each
        for r, d in zip(recons, difference):
            if r.dtype == np.uint8:
                np.multiply(r, np.float32(1 / 255), out=d, dtype=np.float32)
            else:
                d[...] = r
            d -= self._truth
        error = self._band_power(difference)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = error / self.truth_power
        ratio[:, self.empty] = np.nan
        return ratio

    def __call__(self, recon) -> np.ndarray:
        """(count,) float64 relative error per band of one (R, R, 3) reconstruction, NaN in empty bands."""
        return self.errors([recon])[0]


def band_error(recon, truth, edges=None) -> np.ndarray:
    """(count,) float64 relative error of `recon` against `truth` per band (see the module's docstring).

    recon, truth: (R, R, 3) uint8 or float in [0, 1]; edges: (count+1,) cycles per image side, default
    `band_edges(R)`. NaN where the truth's power in the band is below EMPTY_FACTOR × the power of 8-bit
    rounding there (`Meter.empty`). For many reconstructions of one image, use one `Meter`.
    """
    return Meter(truth, edges)(recon)


def grating_image(size: int = 128, cycles: int = 20, amplitude: float = 0.15) -> np.ndarray:
    """A test pattern whose only detail is in one band: (size, size, 3) float32 in [0.15, 0.85].

    A smooth colour field (frequencies of 1 and √2 cycles per side) plus a grey cosine grating of `cycles`
    cycles per side along the direction (3, 4)/5, i.e. at frequency round(cycles·(0.6, 0.8)), which is
    exactly `cycles` when it is a multiple of 5. Periodic, so its spectrum has no leakage: a network on raw
    coordinates learns the field and leaves the grating, a suitable Fourier mapping learns both.
    """
    size = checks.whole(size, "size", 4, MAX_SIZE)
    c = np.arange(size) / size
    x, y = np.meshgrid(c, c)  # pixel (row, col) at (x, y) = (col, row) / size, as ffn.core.data.coordinates
    kx, ky = round(0.6 * cycles), round(0.8 * cycles)
    grating = amplitude * np.cos(2 * np.pi * (kx * x + ky * y))
    field = np.stack([0.5 + 0.2 * np.cos(2 * np.pi * x), 0.5 + 0.2 * np.sin(2 * np.pi * (x + y)),
                      0.5 + 0.2 * np.cos(2 * np.pi * (y - x))], axis=-1)
    return (field + grating[..., None]).astype(np.float32)
