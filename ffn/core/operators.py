"""The measurement operators of the paper's inverse problems: CT projections and undersampled MRI k-space.

The network renders an object f on the pixel grid and is trained only through a linear operator A, on the
paper's loss ½·mean|A f − y|² with y = A(object); its reconstruction is then compared with the object itself
(`reconstruction_psnr`). Each operator is a small NamedTuple of arrays, a pytree: it goes into a jitted
function as an argument (no retracing per object), and its `__call__` is A, linear and differentiable, so
`jax.vjp` gives Aᵀ.

- `CT`: parallel-beam projections as the authors' `2d_CT.ipynb` computes them: for each of A angles θ in
  [0, π), rotate the image by θ about its centre with nearest-neighbour sampling (zero outside) and average
  over rows, (R, R) -> (A, R). Which source pixel each (angle, row, column) reads is computed once in NumPy
  (`ct_indices`), so A is one gather (and Aᵀ one scatter-add).
- `MRI`: A x = M ⊙ F x with F the unitary DFT (`norm="ortho"`) in 2D or 3D and M a fixed 0/1 mask of k-space
  points drawn from a Gaussian around the centre of k-space (`mri_mask`), as in the authors' `3d_MRI.ipynb`.
  Measurements are complex (complex64), on the full k-space grid (zero off the mask).
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

CT_ANGLES = 20  # the CT notebook's num_thetas
MRI_FRACTION = 0.125  # the share of k-space the 3D MRI notebook's mask covers (200000 draws at 96³ hit 12.6%)
# The 3D notebook draws 200000 k-space points at 96³ from a Gaussian of covariance 2·96·I around the centre: the
# expected number of draws landing on the centre point is 200000 / ((2π)^{3/2}·(2·96)^{3/2}) ≈ 4.77, so the low
# frequencies are all sampled and the mask thins out with the Gaussian. `mri_sigma` keeps this density at the
# centre and widens the Gaussian until the mask covers the asked share: at 96³ and 12.5% that gives 13.83 points,
# the notebook's √(2·96) = 13.86; in 2D 0.0964 of the side.
MRI_CENTRE_DRAWS = 200_000 / ((2 * math.pi) ** 1.5 * (2 * 96) ** 1.5)
MAX_DRAWS_PER_POINT = 64  # `mri_mask` gives up after this many draws per k-space point


# ---------------------------------------------------------------------------------------------------------
# CT


def ct_angles(count: int = CT_ANGLES) -> np.ndarray:
    """The notebook's projection angles: linspace(0, π, count + 1)[:-1], (count,) float64 radians."""
    return np.linspace(0.0, np.pi, count + 1)[:-1]


def _round_half_away(c: np.ndarray) -> np.ndarray:
    """The nearest integer, halves away from zero (jax.scipy.ndimage.map_coordinates' order-0 rule)."""
    return np.sign(c) * np.floor(np.abs(c) + 0.5)


def ct_indices(size: int, angles: np.ndarray) -> np.ndarray:
    """Which pixel of an (R, R) image each rotated pixel reads: (A, R, R) int32 flat indices, R·R for outside.

    Entry [a, i, j] is the source of pixel (row i, column j) of the image rotated by angles[a]: with centred
    coordinates x = j/R − 0.5, y = i/R − 0.5, it reads the image at column (x cos θ − y sin θ + 0.5)·R and row
    (x sin θ + y cos θ + 0.5)·R, each rounded to the nearest pixel, as the notebook's `ct_project` does with
    `map_coordinates(img, coords, order=0)`. The centre of rotation is pixel (R/2, R/2), the grid point
    (0.5, 0.5) of `data.coordinates`. Built once per (R, angles) in NumPy (float64).
    """
    centred = np.arange(size) / size - 0.5
    y, x = centred[:, None], centred[None, :]
    theta = np.asarray(angles, np.float64)[:, None, None]
    cols = _round_half_away((x * np.cos(theta) - y * np.sin(theta) + 0.5) * size)
    rows = _round_half_away((x * np.sin(theta) + y * np.cos(theta) + 0.5) * size)
    inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    return np.where(inside, rows * size + cols, size * size).astype(np.int32)


def ct_project(image, index):
    """The sinogram of an image: image (R, R), `ct_indices` (A, R, R) -> (A, R), each projection the mean over
    the R rows of the rotated image (the notebook's `ct_project`, so values stay in [0, 1])."""
    flat = jnp.concatenate([image.reshape(-1), jnp.zeros((1,), image.dtype)])  # the last entry reads as outside
    return jnp.mean(flat[index], axis=1)


class CT(NamedTuple):
    """Parallel-beam CT: A maps an (R, R) image to an (A, R) sinogram (see `ct_project`)."""

    index: jax.Array  # (A, R, R) int32, from `ct_indices`

    def __call__(self, image):
        return ct_project(image, self.index)


def ct_operator(size: int, angles: int = CT_ANGLES) -> CT:
    """The CT operator of an (size, size) image with `angles` equally spaced angles in [0, π)."""
    if isinstance(angles, bool) or not isinstance(angles, (int, np.integer)) or not 1 <= angles <= 1024:
        raise ValueError(f"The number of CT angles must be a whole number from 1 to 1024 (got {angles!r}).")
    return CT(jnp.asarray(ct_indices(size, ct_angles(angles))))


# ---------------------------------------------------------------------------------------------------------
# MRI


def _centre_distances(size: int, ndim: int) -> np.ndarray:
    """Squared distances of the k-space points from the centre (index size//2 per axis), broadcastable to
    (size,)*ndim."""
    c = (np.arange(size) - size // 2).astype(np.float64) ** 2
    return sum(np.meshgrid(*([c] * ndim), indexing="ij", sparse=True))


def mri_sigma(size: int, ndim: int = 2, fraction: float = MRI_FRACTION,
              centre_draws: float = MRI_CENTRE_DRAWS) -> float:
    """The mask's Gaussian width, standard deviation in k-space points per axis: the σ at which draws with
    `centre_draws` expected draws on the centre point are expected to cover `fraction` of the (size,)*ndim grid.

    A point at squared distance r² is missed by all draws with probability exp(−centre_draws·exp(−r²/2σ²));
    the expected coverage grows with σ and is solved for by bisection. ValueError when even a very wide
    Gaussian of that density cannot cover `fraction` (above 1 − exp(−centre_draws), 99% by default).
    """
    r2 = _centre_distances(size, ndim)

    def coverage(sigma):
        return float(np.mean(-np.expm1(-centre_draws * np.exp(-r2 / (2 * sigma * sigma)))))

    low, high = 1e-3, 4.0 * size
    if coverage(high) < fraction:
        raise ValueError(f"A Gaussian k-space mask cannot cover {fraction:.3g} of k-space; ask for less "
                         "(or 1 for the full mask).")
    for _ in range(60):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if coverage(mid) < fraction else (low, mid)
    return 0.5 * (low + high)


def mri_mask(size: int, ndim: int = 2, fraction: float = MRI_FRACTION, seed: int = 0) -> np.ndarray:
    """A fixed k-space sampling mask: (R,)*ndim float32 of 0/1, in FFT order (the DC term at index 0).

    As in the 3D notebook's `mri_mask`, points are drawn from a Gaussian around the centre of k-space (index
    R//2 per axis, before the shift to FFT order), rounded to the nearest point; draws outside the grid are
    dropped and repeated points count once. The Gaussian's width is `mri_sigma` (the notebook's density at the
    centre), and draws are taken in order until exactly round(fraction·R^ndim) distinct points are hit, so the
    share is the one asked for at any size and in 2D as in 3D. fraction=1 gives the full mask. Seeded: the
    same arguments give the same mask.
    """
    if ndim not in (2, 3):
        raise ValueError(f"An MRI mask is 2D or 3D (got ndim={ndim!r}).")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"The sampled fraction of k-space must lie in (0, 1] (got {fraction!r}).")
    total = size**ndim
    if fraction == 1.0:
        return np.ones((size,) * ndim, np.float32)
    sigma = mri_sigma(size, ndim, fraction)
    wanted = max(1, round(fraction * total))
    rng = np.random.default_rng(seed)
    hit = np.zeros(total, bool)
    count, draws = 0, 0
    while count < wanted:
        if draws > MAX_DRAWS_PER_POINT * total:  # not expected: the expected coverage at sigma is the fraction
            raise ValueError(f"Could not draw {fraction:.3g} of k-space from a Gaussian of width {sigma:.3g}.")
        batch = np.round(rng.normal(size // 2, sigma, (4096, ndim))).astype(np.int64)
        draws += len(batch)
        batch = batch[np.all((batch >= 0) & (batch < size), axis=1)]
        for flat in np.ravel_multi_index(tuple(batch.T), (size,) * ndim):
            if not hit[flat]:
                hit[flat] = True
                count += 1
                if count == wanted:
                    break
    return np.fft.ifftshift(hit.reshape((size,) * ndim)).astype(np.float32)


def mri_measure(image, mask):
    """Masked k-space of an image: image (R,)*d real, mask (R,)*d 0/1 in FFT order -> (R,)*d complex64,
    M ⊙ F image with F the unitary DFT over all d axes (so ‖F x‖ = ‖x‖)."""
    return mask * jnp.fft.fftn(image, norm="ortho")


class MRI(NamedTuple):
    """Undersampled MRI: A maps an image (2D or 3D) to its k-space on a fixed mask (see `mri_measure`)."""

    mask: jax.Array  # (R,)*d float32 0/1 in FFT order, from `mri_mask`

    def __call__(self, image):
        return mri_measure(image, self.mask)


def mri_operator(size: int, ndim: int = 2, fraction: float = MRI_FRACTION, seed: int = 0) -> MRI:
    """The MRI operator of a (size,)*ndim object sampling `fraction` of k-space (see `mri_mask`)."""
    return MRI(jnp.asarray(mri_mask(size, ndim, fraction, seed)))


# ---------------------------------------------------------------------------------------------------------
# Either operator as a matrix (for the kernel view of `ffn.core.ntk.operator_regression`)


def real_measurements(operator, measurements):
    """The measurements as one real vector, in the order of `matrix`'s rows: CT's sinogram angle by angle,
    (A·R,); MRI's sampled k-space points in the mask's row-major order, their real parts then their imaginary
    parts, (2·points,) (the zeros off the mask are no measurements). float32 (a jax.Array)."""
    if isinstance(operator, CT):
        return jnp.reshape(measurements, -1)
    sampled = np.flatnonzero(np.asarray(operator.mask))
    values = jnp.reshape(measurements, -1)[sampled]
    return jnp.concatenate([jnp.real(values), jnp.imag(values)])


def matrix(operator, size: int, block: int = 1024) -> np.ndarray:
    """A as a dense real matrix on the row-major flattened (size, size) image: (m, R²) float64, with
    `real_measurements(A x) = matrix @ x.ravel()`. Column p is A applied to pixel p's unit image, computed in
    float32 `block` images at a time (at 64 px: 4096 images; a CT matrix of 20 angles is 1280 × 4096, 40 MB).

    For a real image the k-space value at −k is the conjugate of the one at k, so an MRI mask holding both
    gives rows that repeat (up to sign), and a self-conjugate point (the DC term) an imaginary row of zeros:
    the rows are not independent, which a solve with this matrix must allow for.
    """
    pixels = size * size
    measure = jax.jit(jax.vmap(lambda e: real_measurements(operator, operator(e.reshape(size, size)))))
    columns = [np.asarray(measure(jnp.eye(min(block, pixels - i), pixels, k=i, dtype=jnp.float32)), np.float64)
               for i in range(0, pixels, block)]
    return np.concatenate(columns).T


# ---------------------------------------------------------------------------------------------------------
# The paper's loss and PSNRs


def _abs2(z):
    """|z|² for real or complex z. Not jnp.abs(z)**2: the gradient of |z| at a complex 0 (every point off the
    MRI mask) is NaN."""
    return jnp.real(z * jnp.conj(z))


def measurement_loss(operator, image, measurements):
    """The paper's loss ½·mean|A image − y|² over all measurement entries (for MRI all of k-space, zero off
    the mask, as the notebook takes the mean): a float32 scalar."""
    return 0.5 * jnp.mean(_abs2(operator(image) - measurements))


def measurement_psnr(operator, image, measurements):
    """The fit to the measurements in dB, −10·log10(mean|A image − y|²) (the notebook's −10·log10(2·loss)).

    For MRI with the unitary DFT this is the PSNR of the image's error restricted to the sampled frequencies
    (Parseval); for CT that of the projections, whose values lie in [0, 1] like the image's.
    """
    return -10.0 * jnp.log10(2.0 * measurement_loss(operator, image, measurements))


def reconstruction_psnr(reconstruction, obj):
    """PSNR in dB of a reconstruction against the object over all pixels: reconstruction clipped to [0, 1],
    peak value 1, −10·log10(MSE) (the notebooks' test PSNR). Any equal shapes."""
    return -10.0 * jnp.log10(jnp.mean((jnp.clip(reconstruction, 0.0, 1.0) - obj) ** 2))
