"""Input mappings γ(v) of the paper, each named by a short spec string.

Specs (used by the command line, the app and every file we write):

    none          γ(v) = v                                   2 channels
    basic         γ(v) = [sin 2πv, cos 2πv]                  4 channels
    posenc:S      positional encoding, per axis the m/2 frequencies 2**linspace(0, S, m/2) - 1
    gauss:σ       Gaussian random Fourier features, B = σ·G with G ~ N(0, 1)^{m×2}

Fourier mappings are γ(v) = [sin 2πBv, cos 2πBv] with B of m rows (m = `features`), so 2m channels.
Coordinates are 2D (an image) unless said otherwise: the same mappings take d-dimensional v (a 3D volume of
the MRI problem, `ffn.core.inverse`), with B of d columns (`basis`'s `gauss` draw sets d).
A spec may end in `@LR` to give that mapping its own Adam learning rate (`none@1e-2`, as the paper does for
`none` and `basic` on natural images). v lies in [0, 1)², so σ and the posenc frequencies are in cycles per
image side: a σ that suits 512 px overfits at 128 px, where the Nyquist limit is 64 cycles.
"""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from ffn.core import checks, draws

KINDS = ("none", "basic", "posenc", "gauss")
KINDS_1D = KINDS + ("power",)  # the 1D lab's: power:p, the paper's power-law family b_j = j, a_j = j^-p
MAX_SCALE = {"posenc": 16.0, "gauss": 10_000.0, "power": 64.0}  # posenc:16 already reaches 65535 cycles per side
USAGE = "Use none, basic, posenc:S (e.g. posenc:6) or gauss:σ (e.g. gauss:10), optionally followed by @LR (e.g. none@1e-2)."


@dataclasses.dataclass(frozen=True)
class Mapping:
    kind: str  # one of KINDS
    scale: float | None = None  # posenc: S (log2 of the top frequency + 1); gauss: σ in cycles per unit
    lr: float | None = None  # this mapping's own learning rate; None means the run's

    @property
    def spec(self) -> str:
        """The canonical spec string, e.g. 'gauss:10' or 'none@0.01'."""
        text = self.kind if self.scale is None else f"{self.kind}:{self.scale:g}"
        return text if self.lr is None else f"{text}@{self.lr:g}"

    @property
    def fourier(self) -> bool:
        """True for mappings of the form [sin 2πBv, cos 2πBv]."""
        return self.kind != "none"

    def width(self, features: int, dims: int = 2) -> int:
        """Channels of γ(v) for `dims`-dimensional v: what the MLP's first layer sees."""
        return {"none": dims, "basic": 2 * dims, "posenc": 2 * dims * (features // dims)}.get(self.kind, 2 * features)

    def label(self) -> str:
        """A human name for plots and captions, e.g. 'Gaussian σ=10'."""
        name = {
            "none": "No mapping",
            "basic": "Basic",
            "posenc": f"Pos. enc. S={self.scale:g}" if self.scale is not None else "Pos. enc.",
            "gauss": f"Gaussian σ={self.scale:g}" if self.scale is not None else "Gaussian",
            "power": ("Power p=∞" if self.scale == math.inf else f"Power p={self.scale:g}") if self.scale is not None
            else "Power",
        }[self.kind]
        return name if self.lr is None else f"{name} (lr {self.lr:g})"


def _number(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"In mapping '{spec}': {what} must be a number (got '{text}'). {USAGE}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"In mapping '{spec}': {what} must be a positive finite number (got '{text}').")
    return value


def parse(spec, kinds: tuple[str, ...] = KINDS, usage: str = USAGE) -> Mapping:
    """Parses a spec string ('gauss:10', 'posenc:6', 'none@1e-2', ...) into a Mapping: the one grammar of every
    mapping, the 2D image mappings (`KINDS`) and the 1D lab's (`KINDS_1D`, which add 'power:p', p ≥ 0 or 'inf').

    Raises ValueError with a sentence for a person (`usage` ends it) when the spec is not one of the forms above.
    """
    if isinstance(spec, Mapping):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"A mapping must be given as text such as 'gauss:10' (got {type(spec).__name__}). {usage}")
    text = spec.strip().lower()
    if not text or len(text) > 40:
        raise ValueError(f"Mapping '{spec[:40]}' is not valid. {usage}")
    body, _, lr_text = text.partition("@")
    kind, colon, scale_text = body.partition(":")
    kind = {"gaussian": "gauss", "pe": "posenc", "identity": "none", "powerlaw": "power"}.get(kind.strip(), kind.strip())
    if kind not in kinds:
        raise ValueError(f"Unknown mapping '{spec}'. {usage}")
    scale = None
    if kind in ("posenc", "gauss", "power"):
        if not colon or not scale_text.strip():
            example = {"posenc": "posenc:6", "gauss": "gauss:10", "power": "power:1"}[kind]
            raise ValueError(f"Mapping '{spec}' needs a scale, e.g. '{example}'.")
        word = scale_text.strip()
        if kind == "power" and word in ("inf", "infinity", "∞"):
            scale = math.inf
        elif kind == "power":  # p = 0 is a flat spectrum, a mapping in its own right
            scale = checks.real(checks.text_number(word), f"In mapping '{spec}', the power p", 0.0, MAX_SCALE[kind],
                                "mappings")
        else:
            scale = _number(word, "the scale", spec)
        if scale > MAX_SCALE[kind] and scale != math.inf:
            raise ValueError(f"In mapping '{spec}': the scale must be at most {MAX_SCALE[kind]:g}.")
    elif colon:
        raise ValueError(f"Mapping '{kind}' takes no scale (got '{spec}'). {usage}")
    lr = None
    if lr_text.strip():
        lr = _number(lr_text.strip(), "the learning rate", spec)
        if lr > 1:
            raise ValueError(f"In mapping '{spec}': the learning rate must be at most 1.")
    return Mapping(kind, scale, lr)


def ordered(specs) -> tuple[str, ...]:
    """Canonical specs in one fixed order: none, basic, posenc, gauss, each by scale, then learning rate.

    The page lists a run's mappings in this order, so a mapping has the same place in every run, whatever
    order its box was ticked in.
    """
    parsed = [parse(s) for s in specs]
    return tuple(m.spec for m in sorted(parsed, key=lambda m: (KINDS.index(m.kind), m.scale or 0.0, m.lr or 0.0)))


def gaussian_basis(key, features: int, dims: int = 2) -> np.ndarray:
    """G ~ N(0, 1) of shape (features, dims); every gauss:σ of a run uses σ·G, so scales differ only in σ."""
    return np.asarray(draws.normal(key, (features, dims)))


def posenc_basis(scale: float, features: int, dims: int = 2) -> np.ndarray:
    """The paper's axis-aligned positional-encoding B, (dims·(features // dims), dims): features // dims log-spaced
    frequencies per axis, along x, then y (then z), as the authors' notebooks lay them out (85 per axis in 3D)."""
    freqs = 2.0 ** np.linspace(0.0, scale, features // dims) - 1.0
    rows = np.zeros((dims, len(freqs), dims))
    for axis in range(dims):
        rows[axis, :, axis] = freqs
    return rows.reshape(-1, dims).astype(np.float32)


def basis(mapping: Mapping, features: int, gauss: np.ndarray) -> np.ndarray | None:
    """B for a mapping: None for `none`, (d, d) for `basic`, (features, d) otherwise (posenc: d·(features // d)).

    `gauss` is the run's shared N(0, 1) draw of shape (features, d) (d is 2 for an image; None: d = 2, for the
    mappings that do not use it).
    """
    dims = 2 if gauss is None else np.shape(gauss)[1]
    if mapping.kind == "none":
        return None
    if mapping.kind == "basic":
        return np.eye(dims, dtype=np.float32)
    if mapping.kind == "posenc":
        return posenc_basis(mapping.scale, features, dims)
    return (mapping.scale * gauss).astype(np.float32)


def encode(x, b):
    """γ(v): (..., 2) coordinates in [0, 1) -> (..., 2·rows(B)) features, or x itself when B is None."""
    if b is None:
        return x
    x_proj = (2.0 * jnp.pi * x) @ b.T  # (..., rows)
    return jnp.concatenate([jnp.sin(x_proj), jnp.cos(x_proj)], axis=-1)


def encode_t(coords, b):
    """`encode` on feature-major coordinates, as the trainer lays them out: (d, P) -> (2·rows(B), P), or the
    coordinates themselves when B is None."""
    if b is None:
        return coords
    x_proj = b @ (2.0 * jnp.pi * coords)  # (rows, P)
    return jnp.concatenate([jnp.sin(x_proj), jnp.cos(x_proj)], axis=0)


def grid_waves(xs, ys, b):
    """The sines and cosines of a grid's phases, split by axis: b (rows, 2), xs (W,), ys (H,) ->
    (sin u, cos u) of shape (rows, W) and (sin v, cos v) of shape (rows, H).

    Point (x_j, y_i) has phase 2π·B·(x_j, y_i) = u[:, j] + v[:, i]: one part from its column, one from its row.
    """
    u, v = b[:, :1] * (2.0 * jnp.pi * xs), b[:, 1:] * (2.0 * jnp.pi * ys)
    return (jnp.sin(u), jnp.cos(u)), (jnp.sin(v), jnp.cos(v))


def encode_grid_t(column_waves, row_waves):
    """`encode_t` of the grid points (x_j, y_i), i over the given rows, j over all columns, row by row:
    `grid_waves`' (sin u, cos u) (rows(B), W) and (sin v, cos v) of some rows (rows(B), H) -> (2·rows(B), H·W).

    By angle addition, sin(u + v) = sin u cos v + cos u sin v and cos(u + v) = cos u cos v − sin u sin v: the
    features of a whole grid from H + W sines and cosines per feature instead of H·W (the trainer's evaluation
    renders every pixel at each snapshot). As accurate as `encode_t` (the phase of a sum is never rounded); the
    two differ by a few float32 ulps of the phase.
    """
    (su, cu), (sv, cv) = column_waves, row_waves
    su, cu, sv, cv = su[:, None, :], cu[:, None, :], sv[:, :, None], cv[:, :, None]
    rows = su.shape[0]
    return jnp.concatenate([(su * cv + cu * sv).reshape(rows, -1), (cu * cv - su * sv).reshape(rows, -1)], axis=0)


def suggested_sigma(size: int, at_512: float = 10.0) -> float:
    """σ for a size×size image, given the σ that suits 512 px (10 for a natural photograph, the paper's), scaled
    with the size.

    σ counts cycles per image side, so halving the resolution halves the detail there is to fit.
    """
    return at_512 * size / 512


def posenc_scale(size: int, at_512: float = 6.0) -> float:
    """The positional-encoding S for a size×size image, given the S that suits 512 px (6, the paper's): one less
    per halving, at least 1.

    posenc:S reaches 2**S - 1 cycles per side, so halving the resolution (and the detail there is) takes one off.
    """
    return float(max(1, round(at_512 + math.log2(size / 512))))


def overfit_warning(mapping: Mapping, size: int) -> str | None:
    """A sentence when a mapping's frequencies are well above what suits a size×size image, else None.

    Above about three times `suggested_sigma` the network fits the training pixels with frequencies the
    held-out pixels do not share: train PSNR climbs while test PSNR falls and the image turns to noise.
    """
    good = suggested_sigma(size)
    if mapping.kind == "gauss" and mapping.scale > 3 * good:
        return (f"{mapping.spec} is likely to overfit at {size} px (σ around {good:.3g} suits a photo at this "
                f"size): expect high train PSNR and a noisy test image.")
    top = 2 ** mapping.scale - 1 if mapping.kind == "posenc" else 0
    if top > 3 * 63 * size / 512:  # posenc:6 (63 cycles) suits 512 px
        return (f"{mapping.spec} reaches {top:g} cycles per side, a lot for {size} px: expect some overfitting.")
    return None
