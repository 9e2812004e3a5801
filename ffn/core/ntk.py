"""The neural tangent kernel (NTK) of a ReLU MLP on mapped inputs: the theory behind the paper's Figures 2-3.

A coordinate MLP trained by gradient descent behaves, in the infinite-width limit, like kernel regression with
its NTK (Jacot et al. 2018; Lee et al. 2019). Without a mapping that kernel's spectrum falls off fast, so
high frequencies are learned slowly; a Fourier feature mapping makes it stationary (a function of v - v'
only) with a bandwidth that σ sets (Tancik et al. 2020, sections 3-5).

The kernel here is that of the NTK-parameterised network `NTKMLP` (linear read-out), not of our trainer's
standard-parameterised MLP with a sigmoid output: same depth, same mapping, a different infinite-width object.
`relu_ntk` is the closed form (Arora et al. 2019), `empirical_ntk` the finite-width kernel a test holds it to.

Two views build on it: `predictions`, the pictures the infinite-width network reaches after a number of
gradient-descent steps and in the limit (kernel regression on the training pixels), with their PSNRs, and
`kernel_spectrum` / `band_spectrum`, how fast each frequency is learned, on the frequency bands of `ffn.core.bands`.
The first shows spectral bias in pictures: after the steps a trained network takes, the kernel without a
mapping has learnt little but the image's coarse shapes, while in the limit every kernel interpolates the
training pixels and the pictures differ far less.
"""

import concurrent.futures
from collections.abc import Callable
import dataclasses
import functools
import math
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ffn.core import checks, data, draws, mappings, metrics

# s_w = √2 is He's gain: a ReLU keeps half the second moment of its input, so s_w² = 2 keeps
# Sigma_h(x, x) from shrinking or growing with depth, and the kernel's scale does not depend on `depth`.
WEIGHT_STD = math.sqrt(2.0)
# Small, like the trainer's 0.01-std biases, so the kernel is mostly the geometry of γ(v); but not 0, so
# the point v = 0 of the `none` mapping (γ(0) = 0) keeps a positive variance and its kernel row is defined.
BIAS_STD = 0.1
BLOCK = 1 << 21  # kernel entries computed at once: ~8 float64 temporaries of 16 MB each, whatever the kernel's size


def _diagonal(sq_norms: np.ndarray, depth: int, sw2: float, sb2: float, d0: int) -> np.ndarray:
    """Sigma_h(x, x) for h = 1..depth from |x|²: (n,) -> (depth, n). At x = x' the angle is 0, so the
    recursion's Sigma_h reduces to s_w² Sigma_{h-1} / 2 + s_b²."""
    out = [sw2 * sq_norms / d0 + sb2]
    for _ in range(depth - 1):
        out.append(sw2 * out[-1] / 2.0 + sb2)
    return np.stack(out)


def _ntk_block(x1, x2, diag1, diag2, depth, sw2, sb2) -> np.ndarray:
    """THEORY.md's recursion on one block: x1 (n, d0), x2 (m, d0), diag* (depth, n|m) -> (n, m) Theta_L.

    Each layer works in place in three (n, m) buffers besides Theta, and takes sqrt(a b) as sqrt(a) sqrt(b) from the
    diagonals' vectors: 1.4-2x as fast as the formulas written array by array (which made a new array for each
    step), the same numbers up to rounding (1e-8 relative on the diagonal, where arccos is ill-conditioned).
    """
    sigma = x1 @ x2.T
    sigma *= sw2 / x1.shape[1]
    sigma += sb2
    theta = sigma.copy()
    rho, angle = np.empty_like(sigma), np.empty_like(sigma)
    c = sw2 / (2.0 * np.pi)
    for h in range(1, depth):
        root1, root2 = np.sqrt(diag1[h - 1]), np.sqrt(diag2[h - 1])  # sqrt(a), sqrt(b)
        # cos t = Sigma / sqrt(a b); where a variance is 0 (only with s_b = 0 at γ = 0) the angle is undefined and
        # Sigma_h = s_b² whatever it is, so cos t = 0 (t = π/2) is as good as any.
        inv1 = np.divide(1.0, root1, out=np.zeros_like(root1), where=root1 > 0)
        inv2 = np.divide(1.0, root2, out=np.zeros_like(root2), where=root2 > 0)
        np.multiply(sigma, inv1[:, None], out=rho)
        rho *= inv2[None, :]
        np.clip(rho, -1.0, 1.0, out=rho)
        np.arccos(rho, out=angle)
        np.subtract(np.pi, angle, out=angle)  # π - t
        # sin t + (π - t) cos t, with sin t = sqrt(1 - cos² t): one arccos is the only transcendental call
        np.multiply(rho, rho, out=sigma)
        np.subtract(1.0, sigma, out=sigma)
        np.sqrt(sigma, out=sigma)
        rho *= angle
        sigma += rho
        sigma *= (c * root1)[:, None]  # × sqrt(a b) s_w² / 2π
        sigma *= root2[None, :]
        sigma += sb2
        angle *= c
        theta *= angle  # Theta_{h-1} · SigmaDot_h
        theta += sigma
    return theta


def relu_ntk(x1, x2, depth: int, weight_std: float = WEIGHT_STD, bias_std: float = BIAS_STD) -> np.ndarray:
    """The infinite-width NTK Theta_L(x1, x2) of `NTKMLP(depth, ·)`: x1 (N, d0), x2 (M, d0) -> (N, M) float64.

    x are the mapped inputs γ(v) (`mapped_inputs`); `depth` counts Dense layers (depth - 1 ReLU layers, then
    the linear read-out), so depth 4 is the paper's MLP. The layer recursion of THEORY.md (Jacot et al. 2018,
    Arora et al. 2019's ReLU closed forms) in float64 NumPy, BLOCK entries at a time, so a (16384, 4096)
    kernel needs its own 512 MB and about 130 MB more. About 0.5 s per 10⁷ entries at depth 4 on 2 cores (0.7 s with
    512 input features, whose products then count).
    """
    x1 = np.asarray(x1, np.float64)
    x2 = np.asarray(x2, np.float64)
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(f"relu_ntk needs x1 (N, d0) and x2 (M, d0) (got {x1.shape} and {x2.shape}).")
    sw2, sb2, d0 = float(weight_std) ** 2, float(bias_std) ** 2, x1.shape[1]
    diag1 = _diagonal(np.einsum("nd,nd->n", x1, x1), depth, sw2, sb2, d0)
    diag2 = _diagonal(np.einsum("nd,nd->n", x2, x2), depth, sw2, sb2, d0)
    out = np.empty((len(x1), len(x2)), np.float64)
    rows = max(1, BLOCK // max(1, len(x2)))

    def fill(i):
        out[i:i + rows] = _ntk_block(x1[i:i + rows], x2, diag1[:, i:i + rows], diag2, depth, sw2, sb2)

    # NumPy's element-wise functions (arccos above all) run on one core but release the GIL on large arrays,
    # so blocks in threads use every core: about 1.8x faster on 2 cores, the same numbers.
    with concurrent.futures.ThreadPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
        list(pool.map(fill, range(0, len(x1), rows)))
    return out


class NTKMLP(nn.Module):
    """The network `relu_ntk` describes, in the NTK parameterisation, W and b ~ N(0, 1):

    z_1 = (s_w/√d0) W_1 x + s_b b_1;  z_h = (s_w/√n) W_h relu(z_{h-1}) + s_b b_h (h = 2..depth);  f = z_depth.
    Hidden layers have `width` units, the read-out `out`. (..., d0) -> (..., out). The 1/√fan-in sits in the
    forward pass rather than in the weights, so every parameter's gradient is O(1) and the tangent kernel has
    a finite limit as width grows.
    """

    depth: int
    width: int
    out: int = 1
    weight_std: float = WEIGHT_STD
    bias_std: float = BIAS_STD

    @nn.compact
    def __call__(self, x):
        normal = draws.normal  # N(0, 1), as nn.initializers.normal(1.0)
        for i in range(self.depth):
            units = self.width if i < self.depth - 1 else self.out
            self.sow("intermediates", f"a{i}", x)  # layer i's input, for `layerwise_ntk`; free unless asked for
            w = self.param(f"w{i}", normal, (x.shape[-1], units))
            b = self.param(f"b{i}", normal, (units,))
            x = (self.weight_std / math.sqrt(x.shape[-1])) * (x @ w) + self.bias_std * b
            if i < self.depth - 1:
                x = nn.relu(x)
        return x


def _scalar(model, params, x):
    """The model's single output at points x (n, d0) -> (n,)."""
    return model.apply(params, x)[:, 0]


@functools.lru_cache(maxsize=64)
def output_of(model) -> Callable:
    """f(params, x) -> (n,): the single output of a one-output model (e.g. `NTKMLP(out=1)`), one function per model
    (so `empirical_ntk`'s compiled programs are reused)."""
    return functools.partial(_scalar, model)


@functools.partial(jax.jit, static_argnums=0)
def _ntk_columns(fn, params, x1, x2, *args):
    """Theta_hat(x1, x2) (n, m): per column j, g = ∂f(x2_j)/∂θ (reverse mode), then J(x1) g (forward mode)."""

    def column(x):
        g = jax.grad(lambda p: fn(p, x[None], *args)[0])(params)
        return jax.jvp(lambda p: fn(p, x1, *args), (params,), (g,))[1]

    return jax.lax.map(column, x2).T  # one gradient alive at a time: memory is that of the parameters, twice


def empirical_ntk(fn: Callable, params, x1, x2, *args, block: int = 4096) -> np.ndarray:
    """The finite-width tangent kernel Σ_θ ∂f(x1)/∂θ · ∂f(x2)/∂θ: x1 (N, d), x2 (M, d) -> (N, M) float64, for
    f = fn(params, x, *args) -> (n,), one scalar per point (`output_of(model)` for a one-output model; the Kernels
    view passes a network's mean over R, G, B on encoded coordinates, its B in `args`).

    The Jacobians are never stored whole: for each x2 point one reverse-mode gradient, then one forward-mode
    (Jacobian-vector) pass over x1, `block` rows of x1 at a time (each block padded to one compiled shape). Cost
    about M backward and M forward passes over N points: at width 4096 and depth 4 (33 M parameters) about 0.1 s
    per column on 2 cores. float32 inside, float64 out.
    """
    x1 = np.asarray(x1, np.float32)
    x2 = jnp.asarray(x2, jnp.float32)
    block = min(block, len(x1))
    padded = np.concatenate([x1, np.zeros((-len(x1) % block, *x1.shape[1:]), np.float32)])
    columns = [np.asarray(_ntk_columns(fn, params, jnp.asarray(padded[i:i + block]), x2, *args), np.float64)
               for i in range(0, len(padded), block)]
    return np.concatenate(columns)[: len(x1)]


@functools.partial(jax.jit, static_argnums=0)
def _layer_factors(model, params, x):
    """Per Dense layer i, its input a_i (n, fan-in) and δ_i = ∂f/∂z_i (n, units) at points x (n, d0)."""
    _, state = model.apply(params, x, mutable=["intermediates"])
    inputs = [state["intermediates"][f"a{i}"][0] for i in range(model.depth)]
    # ∂f/∂b_i = s_b δ_i; differentiating the biases alone never forms the weights' outer products
    biases = {k: v for k, v in params["params"].items() if k.startswith("b")}
    weights = {k: v for k, v in params["params"].items() if k.startswith("w")}
    per_point = jax.vmap(jax.grad(lambda b, xi: model.apply({"params": {**weights, **b}}, xi[None])[0, 0]),
                         in_axes=(None, 0))
    grads = per_point(biases, x)
    return inputs, [grads[f"b{i}"] / model.bias_std for i in range(model.depth)]


def layerwise_ntk(model: NTKMLP, params, x1, x2) -> np.ndarray:
    """`empirical_ntk` of an `NTKMLP` (out 1, bias_std > 0) without any parameter-sized array: (N, M) float64.

    Dense layer i has ∂f/∂W_i = (s_w/√fan-in) a_i ⊗ δ_i and ∂f/∂b_i = s_b δ_i, so the tangent kernel is
    Σ_i (δ_i·δ_i') (s_w² a_i·a_i' / fan-in + s_b²). Memory is N·width per layer instead of N·parameters,
    so a test can average many draws of width 4096; a test pins it to `empirical_ntk`.
    """
    a1, d1 = (jax.device_get(t) for t in _layer_factors(model, params, jnp.asarray(x1, jnp.float32)))
    a2, d2 = (jax.device_get(t) for t in _layer_factors(model, params, jnp.asarray(x2, jnp.float32)))
    sw2, sb2 = model.weight_std ** 2, model.bias_std ** 2
    out = np.zeros((len(a1[0]), len(a2[0])), np.float64)
    for i in range(model.depth):
        x_dot = np.asarray(a1[i], np.float64) @ np.asarray(a2[i], np.float64).T
        out += (np.asarray(d1[i], np.float64) @ np.asarray(d2[i], np.float64).T) * (sw2 * x_dot / a1[i].shape[1] + sb2)
    return out


def mapped_inputs(spec_or_mapping, v, features: int, gauss) -> np.ndarray:
    """γ(v) for a mapping spec ('gauss:10', ...) or `mappings.Mapping`: v (..., 2) in [0, 1)² -> (..., d0) float64.

    B is `mappings.basis(mapping, features, gauss)`, gauss the run's shared N(0, 1) draw (features, 2) (see
    `run_gauss`); d0 = 2 for `none`, 4 for `basic`, 2·features otherwise. The encoding itself is
    `mappings.encode` (float32, as the trainer feeds it), returned as float64 for the kernel's arithmetic.
    """
    mapping = mappings.parse(spec_or_mapping)
    b = mappings.basis(mapping, features, np.asarray(gauss, np.float32))
    v = np.asarray(v, np.float32)
    return np.asarray(v if b is None else mappings.encode(v, b), np.float64)


def run_gauss(config) -> np.ndarray:
    """The shared N(0, 1) draw G (features, 2) of a run with this config, by the trainer's key scheme
    (`ffn.core.train.make_groups`: the first half of split(key(seed))), so gauss:σ here is the trainer's σ·G."""
    key_b, _ = jax.random.split(jax.random.key(config.seed))
    return mappings.gaussian_basis(key_b, config.features)


# ------------------------------------------- what the infinite-width network predicts: after t steps, and t → ∞

MAX_REGRESSION_SIZE = 128  # px per side: 4096 training pixels, a 128 MB kernel, 15 s and 1 GB per mapping on 2 cores
RIDGE = 1e-6  # added to K(train, train)'s diagonal, times its mean diagonal entry: see `predictions`


def regression_size(size) -> int:
    """Checks that kernel regression at size×size px is affordable here; returns size as an int.

    Its time grows as size⁶ (a dense solve over (size/2)² training pixels) and its memory as size⁴.
    """
    size = checks.whole(size, "size", 4, 1 << 14)
    if size > MAX_REGRESSION_SIZE:
        pixels = (size // 2) ** 2
        raise checks.Invalid(
            f"The kernel-regression picture is limited to {MAX_REGRESSION_SIZE} px: at {size} px it would solve "
            f"a {pixels:,} × {pixels:,} system ({8 * pixels**2 / 2**30:.1f} GB of kernel, minutes of CPU).", "size")
    return size


def prediction_seconds(size: int, steps: int = 0) -> float:
    """About how long `predictions` takes for one mapping at size×size px with `steps` gradient-descent steps, on
    2 x86-64 cores: the kernel's entries (K(train, train) and K(grid, train), 5 N² of them for N = (size/2)²
    training pixels, each a depth-long arccos recursion in float64), a dense solve, then one product with K a step.

    Fitted to measurements on 2 cores of an Intel Xeon (AVX-512) under load (2026-12-05): 2.2 s at 64 px, 15.8 s
    at 128 px, and 12 s more for 500 steps at 128 px; the kernel's term then × 0.70, what the recursion in place
    (`_ntk_block`) takes of the old one's time at 128 px, measured side by side (2026-12-06). A server's page says
    it is "about" this: a loaded machine is slower, a quiet one faster (5.4 s at 128 px that day).
    """
    n = (size // 2) ** 2
    return 1.35 + 1.2e-7 * 5 * n * n + 1.43e-9 * n * n * steps


def _mapped_grid(spec, config, size: int) -> np.ndarray:
    """γ of every pixel of the size×size grid (`ffn.core.data.coordinates`): (size, size, d0) float64."""
    return mapped_inputs(spec, data.coordinates(size), config.features, run_gauss(config))


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One picture the theory predicts for a mapping, with its PSNRs (dB, of the picture's values)."""

    picture: np.ndarray  # (R, R, 3) uint8
    train_psnr: float
    test_psnr: float
    steps: int | None  # gradient-descent steps; None for the limit t → ∞, kernel regression


def largest_eigenvalue(k: np.ndarray, iterations: int = 200, rtol: float = 1e-6) -> float:
    """λ_max of a symmetric positive semi-definite matrix by power iteration (never above the true value).

    Each iteration is one product with K; it stops when the Rayleigh quotient changes by less than rtol. The
    NTK's top eigenvalue (its DC-like mode) stands far above the next, so a few dozen iterations do.
    """
    v = np.ones(len(k), np.float64) / math.sqrt(len(k))  # the constant vector: close to the top mode here
    estimate = 0.0
    for _ in range(iterations):
        w = k @ v
        new = float(v @ w)
        v = w / np.linalg.norm(w)
        if abs(new - estimate) <= rtol * abs(new):
            return new
        estimate = new
    return estimate


def descent_coefficients(k: np.ndarray, y: np.ndarray, steps, lam_max: float) -> list[np.ndarray]:
    """c_t with f_t(x*) = K(x*, X) c_t after t steps of gradient descent, for each t in `steps`:
    K (N, N), y (N, c) -> [(N, c) float64 per t], in one run of max(steps) steps.

    THEORY.md's linearised dynamics for the loss (1/2N) Σ (f(x_i) - y_i)² from f_0 = 0 (the network's mean
    output at initialisation), with the step η = N / λ_max: then the residual's component along K's
    eigenvector k shrinks by the factor (1 - λ_k / λ_max) per step, the fastest mode is learnt in one step and
    no mode overshoots; λ_k / λ_max is what `kernel_spectrum` plots. Run step by step, as the formula reads:
    r_{s+1} = r_s - K r_s / λ_max, c_{s+1} = c_s - r_s / λ_max, r_0 = -y; one product with K (float32) a step.
    """
    k32 = np.asarray(k, np.float32)
    r = -np.asarray(y, np.float32)
    c = np.zeros(r.shape, np.float64)
    rate = np.float32(1.0 / lam_max)
    at = {0: c.copy()}
    for step in range(1, max(steps, default=0) + 1):
        c -= rate * r
        r -= rate * (k32 @ r)
        if step in steps:
            at[step] = c.copy()
    return [at[t] for t in steps]


def predictions(image, spec: str, config, steps=()) -> list[Prediction]:
    """What the infinite-width `NTKMLP` predicts when trained on an image: the picture after each number of
    gradient-descent steps in `steps` (`descent_coefficients`), then the one it converges to (steps None).

    The limit is kernel regression, f = K(grid, train) (K(train, train) + λI)⁻¹ y, with K = `relu_ntk` at
    `config.depth` on the mapping's γ (B exactly as the trainer builds it, from `config.features` and
    `config.seed`), y the training pixels (`ffn.core.data.train_pixels`, R, G and B alike): gradient descent's
    limit from a network whose output starts at its mean, 0 (THEORY.md, f_inf). λ = RIDGE × mean diagonal of
    K: without it the `none` kernel, smooth and nearly low-rank, makes the solve numerically singular; at
    1e-6 it changes the Fourier mappings' fit by far less than one 8-bit level (the finite-step pictures need
    no ridge). image: (R, R, 3) in [0, 1] (floats or uint8), R <= MAX_REGRESSION_SIZE. Each picture is the
    prediction clipped to [0, 1]; its PSNRs are measured on the training and the held-out (`test_pixels`)
    pixels. At 128 px about 5.5 s per mapping for the limit, plus ~0.7 s per 100 steps, on 2 cores (2026-12-06).
    """
    truth = np.asarray(image)
    truth = truth / 255.0 if truth.dtype == np.uint8 else truth.astype(np.float64)
    if truth.ndim != 3 or truth.shape[0] != truth.shape[1] or truth.shape[2] != 3 or truth.shape[0] % 2:
        raise checks.Invalid(f"The image must be (R, R, 3) with R even (got {truth.shape}).")
    size = regression_size(truth.shape[0])
    steps = [checks.whole(t, "steps", 0, 10**6) for t in steps]
    x = _mapped_grid(spec, config, size)  # (R, R, d0)
    x_train = data.train_pixels(x).reshape(-1, x.shape[-1])  # (N, d0), N = (R/2)²
    y = data.train_pixels(truth).reshape(-1, 3)
    k = relu_ntk(x_train, x_train, config.depth)
    coefficients = []
    if steps:
        lam_max = largest_eigenvalue(k)
        coefficients = descent_coefficients(k, y, steps, lam_max)
    k[np.diag_indices_from(k)] += RIDGE * np.mean(np.diag(k))
    # LU, not Cholesky: NumPy has no triangular solve, and LU's 2/3 N³ flops take ~2 s of CPU at N = 4096
    coefficients.append(np.linalg.solve(k, y))  # (N, 3)
    del k
    c = np.concatenate(coefficients, axis=1)  # (N, 3 × pictures)
    pred = np.empty((size * size, c.shape[1]))
    flat = x.reshape(-1, x.shape[-1])
    rows = max(1, BLOCK // len(x_train))
    for i in range(0, len(flat), rows):  # K(grid, train) a block of rows at a time: never the whole matrix
        pred[i:i + rows] = relu_ntk(flat[i:i + rows], x_train, config.depth) @ c
    out = []
    for j, t in enumerate([*steps, None]):
        p = np.clip(pred[:, 3 * j:3 * j + 3].reshape(size, size, 3), 0.0, 1.0)
        out.append(Prediction(data.to_uint8(p), metrics.psnr(data.train_pixels(p), data.train_pixels(truth)),
                              metrics.psnr(data.test_pixels(p), data.test_pixels(truth)), t))
    return out


# ------------------------------------------- the same through a measurement operator: the inverse problems

MAX_OPERATOR_SIZE = 64  # px per side: K is (R²)² = 4096² at 64 px, computed a block of rows at a time


def operator_size(size) -> int:
    """Checks that the kernel view of an inverse problem is affordable at size×size px; returns size as an int.

    Its kernel has R⁴ entries (16.8 M at 64 px, 268 M at 128 px: minutes on 2 cores) and K Aᵀ holds R² × m floats.
    """
    size = checks.whole(size, "size", 4, 1 << 14)
    if size > MAX_OPERATOR_SIZE:
        raise checks.Invalid(
            f"The kernel view of an inverse problem is limited to {MAX_OPERATOR_SIZE} px: at {size} px its kernel "
            f"would have {size**4:,} entries (every pixel against every pixel).", "size")
    return size


def operator_prediction_seconds(size: int, measurements: int, steps: int = 0) -> float:
    """About how long `operator_predictions` takes for one mapping at size×size px with `measurements` real
    measurements (`operators.matrix`'s rows) and `steps` gradient-descent steps, on 2 x86-64 cores: the
    kernel's R⁴ entries (at `relu_ntk`'s ~0.7 s per 10⁷), K Aᵀ and A K Aᵀ (float64 products), a dense solve of
    the measurements' system and one product with it a step. A server's page says it is "about" this."""
    n = size * size
    return 1.0 + 0.7e-7 * n * n + 2 * n * measurements * (n + measurements) / 5e9 + 2e-9 * measurements**2 * steps


def operator_regression(task, spec: str, config, steps=()) -> np.ndarray:
    """What the infinite-width `NTKMLP` reconstructs when trained through a linear operator: the object after
    each number of gradient-descent steps in `steps`, then the one it converges to, as (R², len(steps) + 1)
    float64 values on the row-major grid (unclipped).

    `task` is an `ffn.core.inverse.Task` (operator A, measurements y, object R×R, R <= MAX_OPERATOR_SIZE). The
    network sees only y = A·obj, on the loss (1/2m)‖A f − y‖² over the m real measurements
    (`operators.real_measurements`; the trainer's loss up to a constant factor, which the step below absorbs).
    Its function moves as f ← f − (η/m) K Aᵀ (A f − y) from f_0 = 0, K = `relu_ntk` of every pixel of the
    grid (B as the trainer builds it, from config.features and config.seed), so f_t = K Aᵀ c_t, and the
    measurements' residual follows the kernel M = A K Aᵀ (m × m) exactly as an image's training pixels follow
    K(train, train): `descent_coefficients(M, y)` at the step η = m/λ_max(M). In the limit c = M⁻¹ y, kernel
    regression on the measurements: f = K Aᵀ (A K Aᵀ)⁻¹ y, the reconstruction that fits y exactly and is
    smoothest in the kernel's sense; whatever A cannot see (its null space) is filled in by the kernel alone.
    M gets RIDGE × its mean diagonal entry added before the solve, as in `predictions`, and needs it: rows of
    A can repeat (an MRI mask holding k and −k) or be zero (a detector that sees nothing).
    """
    obj = np.asarray(task.obj)
    if obj.ndim != 2 or obj.shape[0] != obj.shape[1]:
        raise checks.Invalid(f"The kernel view needs a square 2D object (got shape {obj.shape}).")
    size = operator_size(obj.shape[0])
    steps = [checks.whole(t, "steps", 0, 10**6) for t in steps]
    from ffn.core import operators  # imported here: the image views of this module never need it

    a = operators.matrix(task.operator, size)  # (m, N), N = R²
    y = np.asarray(operators.real_measurements(task.operator, task.measurements), np.float64)[:, None]  # (m, 1)
    x = _mapped_grid(spec, config, size).reshape(size * size, -1)  # (N, d0)
    ka = np.empty((len(x), len(a)))  # K Aᵀ (N, m), K a block of rows at a time: never the whole (N, N) kernel
    rows = max(1, BLOCK // len(x))
    for i in range(0, len(x), rows):
        ka[i:i + rows] = relu_ntk(x[i:i + rows], x, config.depth) @ a.T
    m = a @ ka  # A K Aᵀ (m, m)
    m = 0.5 * (m + m.T)  # symmetric up to rounding; exactly, for the power iteration and the solve
    coefficients = []
    if steps:
        coefficients = descent_coefficients(m, y, steps, largest_eigenvalue(m))
    m[np.diag_indices_from(m)] += RIDGE * np.mean(np.diag(m))
    coefficients.append(np.linalg.solve(m, y))
    return ka @ np.concatenate(coefficients, axis=1)


def operator_predictions(task, spec: str, config, steps=()) -> list[Prediction]:
    """`operator_regression` as pictures: after each number of `steps`, then the limit (steps None). Each
    picture is the prediction clipped to [0, 1], grey (R, R, 3) uint8; train_psnr is its fit to the
    measurements (`operators.measurement_psnr`, the trainer's train PSNR) and test_psnr its PSNR against the
    object over all pixels (`operators.reconstruction_psnr`, the trainer's test PSNR)."""
    from ffn.core import operators

    values = operator_regression(task, spec, config, steps)
    size = np.asarray(task.obj).shape[0]
    out = []
    for j, t in enumerate([*[int(s) for s in steps], None]):
        f = np.clip(values[:, j].reshape(size, size), 0.0, 1.0).astype(np.float32)
        out.append(Prediction(data.to_uint8(f), float(operators.measurement_psnr(task.operator, f, task.measurements)),
                              float(operators.reconstruction_psnr(f, task.obj)), t))
    return out


# ------------------------------------------------------------------- the kernel's spectrum: learning speeds

EXACT_SPECTRUM_SIZE = 64  # px: up to here the `none` spectrum averages over every pixel as centre


def kernel_spectrum(spec: str, config, size: int | None = None) -> np.ndarray:
    """How strongly the NTK acts on each Fourier mode of the size×size pixel grid: (size, size) float64 in (0, 1].

    λ_f = e_fᴴ K e_f / N for the grid's DFT mode e_f(v) = exp(2πi f·v), N = size² pixels, K = `relu_ntk` at
    `config.depth` on the mapping's γ (B as the trainer builds it); np.fft.fft2's layout, f in cycles per
    image side. When K is circulant (a stationary kernel whose frequencies are whole numbers: basic, and posenc
    when its 2^k - 1 are whole) these
    are exactly its eigenvalues, so λ_f sets how fast gradient descent learns frequency f: the residual's
    f-component shrinks by (1 - η λ_f / N) per step. A Gaussian B is not whole and `none` is not stationary
    (its kernel depends on where v is, not only on v - v'), so their K is not circulant; λ_f is then the
    rate at which a residual's f-component starts to shrink (its Rayleigh quotient), still what the band
    chart compares. λ_f is the DFT of the kernel row averaged over centres c and wrapped round the grid,
    k̄(δ) = mean_c K(c, c+δ mod 1). For a Fourier mapping K(c, x) = k(x - c) exactly, so k̄ is a weighted sum
    of k at the four unwrapped offsets: exact, from (2R-1)² kernel values. For `none` the mean is over every
    pixel as centre up to 64 px (exact; R⁴ kernel values, 2 s at 64 px on 2 cores); above, over the training
    pixels (every other row and column; about 10 s at 128 px), which a test finds within 5% of exact in
    every band but the top one, where aliasing at the Nyquist frequency leaves it within 20%.

    Normalised by the largest λ_f (the DC mode for every mapping here), so 1/value is how many times more
    steps that frequency needs than the fastest one at the same step size, and mappings are comparable (the
    largest stable step is itself set by the largest λ). Values below 1e-12 (rounding) are floored there.
    """
    size = checks.whole(config.size if size is None else size, "size", 4, 1 << 10)
    mapping = mappings.parse(spec)
    gauss = run_gauss(config)
    if mapping.fourier:
        offsets = np.arange(-(size - 1), size) / size  # (2R-1,) unwrapped offsets in image sides
        d = np.stack(np.meshgrid(offsets, offsets), -1)  # (2R-1, 2R-1, 2) as (Δx, Δy), rows Δy
        x0 = mapped_inputs(mapping, np.zeros((1, 2)), config.features, gauss)
        k = relu_ntk(x0, mapped_inputs(mapping, d.reshape(-1, 2), config.features, gauss), config.depth)
        k = k.reshape(2 * size - 1, 2 * size - 1)
        a = np.arange(size)
        keep = (size - a) / size  # share of centres c (on the grid) with c + δ still inside [0, 1) for δ = a/R
        # k̄(δ) = Σ over wrapping or not, per axis: weight × k(δ - wrap); index size-1+a is δ = a/R
        profile = np.zeros((size, size))
        for wy, ky in ((keep, size - 1 + a), (1 - keep, a - 1)):  # index of a/R or a/R - 1 (a = 0 has weight 0)
            for wx, kx in ((keep, size - 1 + a), (1 - keep, a - 1)):
                profile += wy[:, None] * wx[None, :] * k[np.ix_(ky, kx)]
    else:
        x = mapped_inputs(mapping, data.coordinates(size), config.features, gauss)  # (R, R, d0)
        step = 1 if size <= EXACT_SPECTRUM_SIZE else 2
        centres = x[::step, ::step].reshape(-1, x.shape[-1])  # at rows and columns step·i, step·j
        profile = np.zeros((size, size))
        for start in range(0, len(centres), 256):  # 256 kernel rows at a time
            rows = relu_ntk(centres[start:start + 256], x.reshape(-1, x.shape[-1]), config.depth)
            for c, row in zip(range(start, start + len(rows)), rows.reshape(-1, size, size)):
                i, j = divmod(c, size // step)
                profile += np.roll(row, (-step * i, -step * j), axis=(0, 1))  # its centre to δ = 0
        profile /= len(centres)
    lam = np.fft.fft2(profile).real  # k̄ is even up to rounding, so its DFT is real: the sign convention is moot
    lam /= lam.max()
    return np.maximum(lam, 1e-12)


def band_spectrum(spec: str, config, size: int | None = None, edges=None) -> tuple[np.ndarray, np.ndarray]:
    """`kernel_spectrum` on the frequency bands of `ffn.core.bands`: (edges (count+1,), values (count,)) float64.

    Each value is the mean normalised λ_f over the frequencies of the band (not their sum, so wide bands with
    many frequencies are not favoured); NaN for a band with no frequency in it (possible for the first
    bands at small sizes). edges default to `bands.band_edges(size)`.
    """
    from ffn.core import bands

    size = config.size if size is None else size
    edges = bands.band_edges(size) if edges is None else np.asarray(edges, np.float64)
    index = bands.band_index(size, edges)
    lam = kernel_spectrum(spec, config, size)
    count = len(edges) - 1
    sums = np.bincount(index[index >= 0], weights=lam[index >= 0], minlength=count)
    sizes = np.bincount(index[index >= 0], minlength=count)
    with np.errstate(invalid="ignore"):
        return edges, np.where(sizes > 0, sums / np.maximum(sizes, 1), np.nan)


# ------------------------------------------------------------------------------------- for the page and CLI


def band_spectra(config, size: int | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`band_spectrum` of every mapping of the config: (edges (count+1,), spec -> (count,)), for
    `ffn.present.plots.ntk_band_spectrum_figure`. About 1-3 s per Fourier mapping and 10 s for `none` at 128 px."""
    size = config.size if size is None else size
    spectra = {spec: band_spectrum(spec, config, size) for spec in config.mappings}
    edges = next(iter(spectra.values()))[0]
    return edges, {spec: values for spec, (_, values) in spectra.items()}
