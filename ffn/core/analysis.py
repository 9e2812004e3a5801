"""The maths behind the analysis views of a finished run: kernels, tangent kernels, spectra, slices, errors, zooms.

Everything here works from what a run leaves behind (its final `Snapshot`, its `Config` and the ground-truth
image) and never retrains. Conventions are those of `ffn.core.data`: images are (R, R, 3), uint8 or float in
[0, 1]; pixel (row, col) sits at v = (x, y) = (col/R, row/R) in [0, 1)², so offsets Δv are in image sides
and frequencies in cycles per image side (the units of σ and of posenc's frequencies).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from ffn.core import data, mappings, ntk, train
from ffn.core.data import to_uint8
from ffn.core.model import make_model

GROUND_TRUTH = "ground truth"  # the label of the ground truth beside the specs in every dict returned here
NO_KERNEL_REASON = ("No mapping (γ(v) = v) induces no stationary kernel: γ(v)ᵀγ(v') = v·v' depends on where "
                    "v and v' are, not only on v − v'.")
NTK_PIXELS = 1 << 14  # points per tangent-kernel block: bounds the memory of the forward and tangent passes
MAX_ZOOM_SIDE = 2048  # px per side of a zoomed render: 512 px × 4, about 40 s on a 2-core CPU at width 256

# The viridis colour map (perceptually uniform, readable in grey and for common colour-vision deficiencies)
# at 9 evenly spaced points; linear interpolation between them is indistinguishable from the full table.
_VIRIDIS = np.array([[0x44, 0x01, 0x54], [0x47, 0x2D, 0x7B], [0x3B, 0x52, 0x8B], [0x2C, 0x72, 0x8E],
                     [0x21, 0x91, 0x8C], [0x28, 0xAE, 0x80], [0x5E, 0xC9, 0x62], [0xAD, 0xDC, 0x30],
                     [0xFD, 0xE7, 0x25]], np.float64)


# ------------------------------------------------------------------------------------ kernel of a mapping


def delta_axis(n: int) -> np.ndarray:
    """The offsets of `kernel_grid` and `kernel_slice`: (n,) Δ from -0.5 to 0.5 image sides (0 in the middle for odd n)."""
    return np.linspace(-0.5, 0.5, n)


def mapping_kernel(b: np.ndarray | None, deltas) -> np.ndarray | None:
    """k(Δv) = mean_j cos(2π b_jᵀΔv): the stationary kernel a Fourier mapping induces (all amplitudes 1).

    It is γ(v)ᵀγ(v')/rows(B) for v − v' = Δv, since sin a sin a' + cos a cos a' = cos(a − a'): the kernel of
    the mapping alone, before the network (the paper's composed NTK is a function of this dot product).
    b: (rows, 2) B in cycles per image side, as in `Snapshot.bases`; deltas: (..., 2) offsets (Δx, Δy) in
    image sides. Returns (...,) float64 in [-1, 1] with k(0) = 1, or None for the `none` mapping (b None),
    which has no stationary kernel (see NO_KERNEL_REASON).
    """
    if b is None:
        return None
    b = np.asarray(b, np.float64)
    deltas = np.asarray(deltas, np.float64)
    return np.cos(2.0 * np.pi * (deltas @ b.T)).mean(axis=-1)  # (..., rows) -> (...)


def kernel_grid(b: np.ndarray | None, n: int = 101) -> np.ndarray | None:
    """The mapping kernel on an n×n grid of offsets Δv ∈ [-0.5, 0.5]²: (n, n) float64, [i, j] at (Δx, Δy) =
    (delta_axis(n)[j], delta_axis(n)[i]) (rows are Δy, as in an image); None for `none`."""
    d = delta_axis(n)
    return mapping_kernel(b, np.stack(np.meshgrid(d, d), -1))


def kernel_slice(b: np.ndarray | None, n: int = 201) -> np.ndarray | None:
    """The mapping kernel along x: (n,) float64 k((Δx, 0)) at Δx = delta_axis(n); None for `none`."""
    d = delta_axis(n)
    return mapping_kernel(b, np.stack([d, np.zeros_like(d)], -1))


# ------------------------------------------------------------------------------- empirical tangent kernel


def _mean_output(model, params, x, b):
    """The network's mean over R, G, B at encoded points: (N, 2) coordinates -> (N,)."""
    return jnp.mean(model.apply(params, mappings.encode(x, b)), axis=-1)


@functools.lru_cache(maxsize=64)
def _mean_output_of(model):
    return functools.partial(_mean_output, model)  # one function per network shape: its programs are reused


def centred_ntk(model, params, b: np.ndarray | None, coords, center=None) -> np.ndarray:
    """The empirical neural tangent kernel k(v, c) = ∇θf(v) · ∇θf(c) of one network (`ntk.empirical_ntk`, the one
    implementation), normalised so k(c, c) = 1.

    f is the network's mean output over R, G, B (one scalar per point; the kernel of the summed outputs is
    9 times this), and θ is every parameter. For a Fourier mapping and an untrained network this is the
    stationary kernel of the paper's Figure 3; after training it shows what the network has become.
    model: the network (`make_model(config)`); params: its weights, e.g. `Snapshot.params[spec]` (host
    copies are fine); b: its B, e.g. `Snapshot.bases[spec]` (None for `none`); coords: (..., 2) points in
    [0, 1)², e.g. `ffn.core.data.coordinates(32)`; center: (2,) the point c, default (0.5, 0.5).
    Returns (...,) float32. Cost: one backward pass at c and one forward-mode pass over the points, in
    blocks of NTK_PIXELS, so memory is that of rendering those points twice. NaN if ∇θf(c) = 0.
    """
    coords = np.asarray(coords, np.float32)
    points = coords.reshape(-1, 2)
    center = np.asarray([0.5, 0.5] if center is None else center, np.float32).reshape(1, 2)
    args = (None if b is None else jnp.asarray(b, jnp.float32),)  # None (no mapping) is an empty argument to JAX
    fn = _mean_output_of(model)
    params = jax.tree.map(jnp.asarray, params)
    norm = float(ntk.empirical_ntk(fn, params, center, center, *args)[0, 0])
    if not (math.isfinite(norm) and norm > 0):
        return np.full(coords.shape[:-1], np.nan, np.float32)
    k = ntk.empirical_ntk(fn, params, points, center, *args, block=NTK_PIXELS)[:, 0]
    return (k / norm).astype(np.float32).reshape(coords.shape[:-1])


def initial_params(config, spec: str):
    """The untrained weights the trainer started `spec` from (host copies), for the tangent kernel at step 0.

    The trainer draws one set per encoding width from the second half of `split(key(seed))`; a test checks
    this against a run's step-0 snapshot.
    """
    _, key_init = jax.random.split(jax.random.key(config.seed))
    width = mappings.parse(spec).width(config.features)
    return jax.device_get(train.init_state(key_init, make_model(config), width).params)


def ntk_map(config, snapshot, spec: str, n: int = 32, trained: bool = True) -> np.ndarray:
    """A network's empirical NTK between the image centre and every pixel of an n×n grid: (n, n) float32.

    The grid is `ffn.core.data.coordinates(n)` (its pixel (n/2, n/2) is the centre (0.5, 0.5), where k = 1);
    `trained=False` uses the weights the run started from. About 20 ms at n = 32 and 50 ms at n = 64 for
    width 256 on a 2-core CPU, plus 1-2 s to compile the first time for a network shape.
    """
    params = snapshot.params[spec] if trained else initial_params(config, spec)
    return centred_ntk(make_model(config), params, snapshot.bases[spec], data.coordinates(n), (0.5, 0.5))


# ------------------------------------------------------------------------------------------------ spectra


def as_float(image) -> np.ndarray:
    """An image as float64 in [0, 1]: uint8 is divided by 255, floats pass through."""
    a = np.asarray(image)
    return a / 255.0 if a.dtype == np.uint8 else a.astype(np.float64)


def greyscale(image) -> np.ndarray:
    """(H, W) float64 in [0, 1]: the mean of R, G and B (uint8 is divided by 255; grey passes through)."""
    a = as_float(image)
    return a.mean(axis=-1) if a.ndim == 3 else a


def _spectrum(image) -> np.ndarray:
    """|F| / (H·W) of the greyscale image, zero frequency in the middle: (H, W); the DC term is the mean grey."""
    grey = greyscale(image)
    return np.abs(np.fft.fftshift(np.fft.fft2(grey))) / grey.size


def log_spectrum(image, floor: float = 1e-5) -> np.ndarray:
    """The log-magnitude of the centred 2D FFT of the greyscale image, for display: (H, W) float64 in [0, 1].

    Pixel (H/2 + fy, W/2 + fx) is the frequency (fx, fy) in cycles per image side. The magnitude |F|/(H·W)
    (at most 1 for values in [0, 1]) is drawn on a fixed log scale from `floor` (0) to 1 (1), so spectra of
    different reconstructions of one image can be compared tile by tile.
    """
    magnitude = np.maximum(_spectrum(image), floor)
    return np.clip(1.0 - np.log10(magnitude) / np.log10(floor), 0.0, 1.0)


def radial_power(image) -> tuple[np.ndarray, np.ndarray]:
    """The power spectrum of the greyscale image averaged over rings: (frequencies, power), each (R/2 + 1,).

    frequencies: 0, 1, ..., R/2 cycles per image side (R = the shorter side; rings past Nyquist are dropped);
    power: mean |F/(H·W)|² over the frequencies that round to each radius (bin 0 is the squared mean).
    """
    grey = greyscale(image)
    h, w = grey.shape
    power = (np.abs(np.fft.fft2(grey)) / grey.size) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h) * h, np.fft.fftfreq(w) * w, indexing="ij")
    radius = np.rint(np.hypot(fx, fy)).astype(int)
    top = min(h, w) // 2
    keep = radius <= top
    counts = np.bincount(radius[keep], minlength=top + 1)
    sums = np.bincount(radius[keep], weights=power[keep], minlength=top + 1)
    return np.arange(top + 1, dtype=np.float64), sums / np.maximum(counts, 1)


# ------------------------------------------------------------------------------------ slices and errors


def row_slice(images: Mapping[str, np.ndarray], ground_truth, row: int, channel: int | None = None) -> dict[str, np.ndarray]:
    """One row of every reconstruction and of the ground truth: label -> (W,) float64 in [0, 1].

    Greyscale (the mean of R, G, B) by default; `channel` 0, 1 or 2 takes that colour alone (the authors'
    notebook plots channel 0 of the middle row). Keys: the specs of `images` in order, then GROUND_TRUTH.
    Training pixels are the even columns of an even row; test pixels the odd columns of an odd row.
    """
    truth = np.asarray(ground_truth)
    height = truth.shape[0]
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not 0 <= row < height:
        raise ValueError(f"row must be a whole number from 0 to {height - 1} (got {row!r}).")
    if channel not in (None, 0, 1, 2):
        raise ValueError(f"channel must be None (grey), 0, 1 or 2 (got {channel!r}).")

    def pick(image):
        a = as_float(np.asarray(image)[row])
        return a.mean(axis=-1) if channel is None else a[:, channel]

    return {**{spec: pick(image) for spec, image in images.items()}, GROUND_TRUTH: pick(truth)}


def colormap(values) -> np.ndarray:
    """Viridis colours of values in [0, 1] (clipped; NaN is the low end): (...) -> (..., 3) uint8."""
    t = np.nan_to_num(np.clip(np.asarray(values, np.float64), 0.0, 1.0), nan=0.0) * (len(_VIRIDIS) - 1)
    i = np.minimum(t.astype(int), len(_VIRIDIS) - 2)
    frac = (t - i)[..., None]
    return np.rint(_VIRIDIS[i] * (1 - frac) + _VIRIDIS[i + 1] * frac).astype(np.uint8)


def mean_abs_error(images: Mapping[str, np.ndarray], ground_truth) -> dict[str, float]:
    """spec -> the mean over pixels and channels of |reconstruction - ground truth|, in [0, 1] units."""
    truth = as_float(ground_truth)
    return {spec: float(np.abs(as_float(image) - truth).mean()) for spec, image in images.items()}


def error_maps(images: Mapping[str, np.ndarray], ground_truth, vmax: float | None = None) -> tuple[dict[str, np.ndarray], float]:
    """|reconstruction − ground truth| of every mapping as heatmaps on one common scale.

    The error of a pixel is the mean over R, G, B of the absolute difference, in [0, 1] units (1 = 255
    levels). Returns (spec -> (H, W, 3) uint8 viridis heatmap, vmax): dark is 0 and yellow is vmax, which is
    the largest error of all maps unless given (never below 1/255, so a perfect fit is all dark).
    """
    truth = as_float(ground_truth)
    errors = {spec: np.abs(as_float(image) - truth).mean(axis=-1) for spec, image in images.items()}
    if vmax is None:
        vmax = max([float(np.nanmax(e)) for e in errors.values() if np.isfinite(e).any()] or [0.0])
    vmax = max(float(vmax), 1.0 / 255.0)
    return {spec: colormap(e / vmax) for spec, e in errors.items()}, vmax


# ------------------------------------------------------------------------------------------------- zooms


_render = jax.jit(train.render, static_argnums=1)


def zoom(config, snapshot, spec: str, factor: int) -> np.ndarray:
    """A trained network rendered at factor × the training resolution: (R·factor, R·factor, 3) uint8.

    The grid is `ffn.core.data.coordinates(R·factor)` (linspace(0, 1, R·factor, endpoint=False)), which holds
    the training grid: pixel (factor·i, factor·j) is the coordinate of the run's pixel (i, j), so
    zoom[::factor, ::factor] equals the snapshot's picture up to 8-bit rounding. Rendered in blocks of
    rows (`ffn.core.train.render`), so memory stays that of a 32k-pixel batch. Cost grows with (R·factor)²: at
    width 256 on a 2-core CPU about 0.7 s at 128 px ×2, 1.6 s at 128 px ×4 and 2.6 s at 256 px ×2, plus
    1-2 s to compile the first time for a network shape and size.
    """
    if spec not in snapshot.params:
        raise ValueError(f"This run has no mapping '{spec}' (it has {', '.join(snapshot.params)}).")
    largest = MAX_ZOOM_SIDE // config.size
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or not 1 <= factor <= largest:
        raise ValueError(f"Zoom factor must be a whole number from 1 to {largest} at "
                         f"{config.size} px (got {factor!r}).")
    b = snapshot.bases[spec]
    params = jax.tree.map(jnp.asarray, snapshot.params[spec])
    coords = jnp.asarray(data.coordinates(config.size * factor))
    pred = _render(params, make_model(config), None if b is None else jnp.asarray(b), coords)
    return to_uint8(np.asarray(pred))


def bicubic_upscale(image, factor: int) -> np.ndarray:
    """Bicubic (Pillow BICUBIC) enlargement by an integer factor on the networks' grid: (H·f, W·f, 3) uint8.

    Input pixel k is placed at output pixel f·k (not at the centre of an f×f block, Pillow's default), so the
    result lines up with `zoom`'s coordinate grid and out[::f, ::f] reproduces the input.
    """
    picture = to_uint8(image)
    h, w = picture.shape[:2]
    # Pillow samples output pixel x at input position box_left + (x + 0.5)/f, where input pixel k is centred
    # at k + 0.5; this box puts output f·k on input k. Its box must lie inside the image, so the image is
    # first padded by repeating its edge (what bicubic does at a border anyway) by the filter's reach, 2.
    pad = 2
    offset = pad + 0.5 - 0.5 / factor
    padded = np.pad(picture, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    box = (offset, offset, offset + w, offset + h)
    return np.asarray(Image.fromarray(padded).resize((w * factor, h * factor), Image.Resampling.BICUBIC, box=box))


def bicubic_from_training_pixels(ground_truth, factor: int) -> np.ndarray:
    """The fair classical baseline for `zoom(..., factor)`: the training pixels (image[::2, ::2], all the
    networks saw) enlarged bicubically by 2·factor, so (R·factor, R·factor, 3) uint8 on the same grid."""
    return bicubic_upscale(data.train_pixels(to_uint8(ground_truth)), 2 * factor)
