"""The neural tangent kernel (NTK) of a ReLU MLP on mapped inputs: the theory behind the paper's Figures 2-3.

A coordinate MLP trained by gradient descent behaves, in the infinite-width limit, like kernel regression with
its NTK (Jacot et al. 2018; Lee et al. 2019). Without a mapping that kernel's spectrum falls off fast, so
high frequencies are learned slowly; a Fourier feature mapping makes it stationary (a function of v - v'
only) with a bandwidth that σ sets (Tancik et al. 2020, sections 3-5).

The kernel here is that of the NTK-parameterised network `NTKMLP` (linear read-out), not of our trainer's
standard-parameterised MLP with a sigmoid output: same depth, same mapping, a different infinite-width object.
`relu_ntk` is the closed form (Arora et al. 2019), `empirical_ntk` the finite-width kernel a test holds it to.
"""

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ffn import mappings

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
    """THEORY.md's recursion on one block: x1 (n, d0), x2 (m, d0), diag* (depth, n|m) -> (n, m) Theta_L."""
    sigma = x1 @ x2.T
    sigma *= sw2 / x1.shape[1]
    sigma += sb2
    theta = sigma.copy()
    for h in range(1, depth):
        scale = np.sqrt(np.outer(diag1[h - 1], diag2[h - 1]))  # sqrt(a b)
        # cos t; where a variance is 0 (only with s_b = 0 at γ = 0) the angle is undefined and Sigma_h = s_b²
        # whatever it is, so t = π/2 is as good as any.
        rho = np.divide(sigma, scale, out=np.zeros_like(sigma), where=scale > 0)
        np.clip(rho, -1.0, 1.0, out=rho)
        t = np.arccos(rho)
        pi_minus_t = np.pi - t
        # sin t + (π - t) cos t, with sin t = sqrt(1 - cos² t): one arccos is the only transcendental call
        sigma = np.sqrt(1.0 - rho * rho) + pi_minus_t * rho
        sigma *= scale * (sw2 / (2.0 * np.pi))
        sigma += sb2
        theta *= pi_minus_t * (sw2 / (2.0 * np.pi))  # Theta_{h-1} · SigmaDot_h
        theta += sigma
    return theta


def relu_ntk(x1, x2, depth: int, weight_std: float = WEIGHT_STD, bias_std: float = BIAS_STD) -> np.ndarray:
    """The infinite-width NTK Theta_L(x1, x2) of `NTKMLP(depth, ·)`: x1 (N, d0), x2 (M, d0) -> (N, M) float64.

    x are the mapped inputs γ(v) (`mapped_inputs`); `depth` counts Dense layers (depth - 1 ReLU layers, then
    the linear read-out), so depth 4 is the paper's MLP. The layer recursion of THEORY.md (Jacot et al. 2018,
    Arora et al. 2019's ReLU closed forms) in float64 NumPy, BLOCK entries at a time, so a (16384, 4096)
    kernel needs its own 512 MB and about 130 MB more. About 1 s per 10⁷ entries at depth 4 on 2 cores.
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
    for i in range(0, len(x1), rows):
        out[i:i + rows] = _ntk_block(x1[i:i + rows], x2, diag1[:, i:i + rows], diag2, depth, sw2, sb2)
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
        normal = nn.initializers.normal(stddev=1.0)
        for i in range(self.depth):
            units = self.width if i < self.depth - 1 else self.out
            w = self.param(f"w{i}", normal, (x.shape[-1], units))
            b = self.param(f"b{i}", normal, (units,))
            x = (self.weight_std / math.sqrt(x.shape[-1])) * (x @ w) + self.bias_std * b
            if i < self.depth - 1:
                x = nn.relu(x)
        return x


def _scalar(model, params, x):
    """The model's single output at points x (n, d0) -> (n,)."""
    return model.apply(params, x)[:, 0]


@functools.partial(jax.jit, static_argnums=0)
def _ntk_columns(model, params, x1, x2):
    """Theta_hat(x1, x2) (n, m): per column j, g = ∂f(x2_j)/∂θ (reverse mode), then J(x1) g (forward mode)."""

    def column(x):
        g = jax.grad(lambda p: _scalar(model, p, x[None])[0])(params)
        return jax.jvp(lambda p: _scalar(model, p, x1), (params,), (g,))[1]

    return jax.lax.map(column, x2).T  # one gradient alive at a time: memory is that of the parameters, twice


def empirical_ntk(model, params, x1, x2, block: int = 4096) -> np.ndarray:
    """The finite-width tangent kernel Σ_θ ∂f(x1)/∂θ · ∂f(x2)/∂θ: x1 (N, d0), x2 (M, d0) -> (N, M) float64.

    For a model with one output (e.g. `NTKMLP(out=1)`) at `params`. The Jacobians are never stored whole: for
    each x2 point one reverse-mode gradient, then one forward-mode (Jacobian-vector) pass over x1, `block`
    rows of x1 at a time. Cost about M backward and M forward passes over N points: at width 4096 and depth 4
    (33 M parameters) about 0.1 s per column on 2 cores. float32 inside, float64 out.
    """
    x1 = jnp.asarray(x1, jnp.float32)
    x2 = jnp.asarray(x2, jnp.float32)
    return np.concatenate([np.asarray(_ntk_columns(model, params, x1[i:i + block], x2), np.float64)
                           for i in range(0, len(x1), block)])


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
    (`ffn.train.make_groups`: the first half of split(key(seed))), so gauss:σ here is the trainer's σ·G."""
    key_b, _ = jax.random.split(jax.random.key(config.seed))
    return mappings.gaussian_basis(key_b, config.features)
