"""The 1D lab: watch a coordinate MLP learn a signal frequency by frequency, next to what its NTK predicts.

The paper's 1D setup (Tancik et al. 2020, section 5 and the authors' 1D notebooks): a target on [0, 1)
sampled at N points v_i = i/N, the network trained on the even points and tested on the odd ones. Each
mapping γ feeds a wide ReLU MLP in the NTK parameterisation (`ntk.NTKMLP`, linear read-out), trained by
full-batch gradient descent on (1/2M)·Σ (f(v_i) - y_i)² over the M = N/2 training points. For that loss and
optimiser the linearised network's training residual follows THEORY.md's

    r_t = (I - η K / M)^t r_0,     K = NTK(γ(X_train), γ(X_train))      (M × M)

so the lab can show, for each frequency of the target, the residual the network keeps (measured: the DFT
of f_t - y on the training points, relative to step 0) next to the residual the infinite-width kernel
predicts from the same r_0 (the exact eigendecomposition of K, then the same DFT); `rate_ratio` says how
fast the network learnt each frequency as a fraction of that prediction. With Adam the theory does not
apply, and the lab says so instead of drawing it.

Mapping specs (1D analogues of `ffn.core.mappings`, B has one column):

    none       γ(v) = 2v - 1 (centred, like the authors' v - 0.5)      1 channel
    basic      [sin 2πv, cos 2πv]                                 2 channels
    posenc:S   b_j = 2**linspace(0, S, m) - 1, a_j = 1            2m channels (m = features)
    gauss:σ    b_j = σ·g_j with g ~ N(0, 1)^m (one draw per run), a_j = 1
    power:p    b_j = j for j = 1..M/2, a_j = j^(-p); p = 0 is flat, larger p favours low frequencies;
               power:inf keeps only j = 1 (a = e_1), which is `basic`

Fourier mappings are γ(v) = c·[a_j sin 2πb_j v, a_j cos 2πb_j v]_j with c = √(2J)/|a| (J frequencies), so
γ(v)·γ(v')/d0 = Σ_j a_j² cos 2πb_j(v - v') / Σ_j a_j², which is 1 at v = v': the network's first layer
(which divides by √d0) sees every mapping at the same scale, the mappings differ only in the shape of their
kernel, and one step size suits them all.

`run(config)` streams `LabSnapshot`s; `python -m ffn.lab1d` writes lab1d.json and lab1d.html.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ffn.core import checks, mappings, ntk
from ffn.core.train import copies

KINDS = ("none", "basic", "posenc", "gauss", "power")
TARGETS = ("sines", "powerlaw", "square")  # sum of sinusoids; random 1/f^α signal (the paper's); square wave
OPTIMIZERS = ("gd", "adam")  # full-batch gradient descent (the theory holds); Adam (it does not)
POINTS = (64, 128, 256, 512, 1024)  # grid sizes N; M = N/2 train on, frequencies up to M/2 - 1
MAX_SCALE = {"posenc": 16.0, "gauss": 10_000.0, "power": 64.0}
MAX_MAPPINGS = 8
MAX_FREQS = 8
# The network's bias scale s_b (its weights keep ntk.WEIGHT_STD = √2), in the network and in its kernel alike.
# Larger than ntk.BIAS_STD = 0.1 on purpose: a first-layer unit of the `none` network has its kink at
# 2v - 1 = -s_b·b/(s_w·w); with s_b = 0.1 nearly all kinks sit within a few hundredths of the centre, with
# s_b = 1 about 60% of them fall inside the data. Either way a finite `none` network learns far more slowly
# than its kernel predicts: `none` alone, width 256, 1000 steps, sines at 2, 8, 24 cycles, over 4 draws its
# mean `rate_ratio` is 0.34/0.20/0.18 with s_b = 1 and 0.30/0.33/0.27 with s_b = 0.1. Fourier mappings hardly care
# (their first-layer variance is s_w² + s_b² either way).
BIAS_STD = 1.0
USAGE = ("Use none, basic, posenc:S (e.g. posenc:6), gauss:σ (e.g. gauss:10) or power:p "
         "(e.g. power:1, power:inf).")

GUIDE = """\
**What to try first.** Keep the default target (sines at 2, 8 and 24 cycles) and run `none` against
`gauss:10`. Then swap the target for the 1/f^α signal, and try the power-law family `power:0`, `power:1`,
`power:inf`.

**What to notice.**
- Without a mapping most of the 2-cycle sine is learned in the first few hundred steps while the 24-cycle one
  has hardly moved after a thousand: the network's kernel (the eigenvalue chart) falls off steeply with frequency, and a
  component of the residual shrinks by (1 - η λ_f / M) per step.
- With `gauss:10` the spectrum is much flatter, so all three sines go within a few hundred steps.
- Solid lines are what the network did, dashed lines what its infinite-width tangent kernel predicts from the
  same starting residual (for plain gradient descent; with Adam the prediction is withdrawn, because Adam
  rescales each parameter's step). They agree on the order: frequencies with large eigenvalues go first, and
  the slowest frequency is the slowest in both. They do not agree on the speed: a finite network learns more
  slowly than its kernel predicts, most without a mapping (whose eigenvalues are the smallest), and falls
  further behind as training goes on (its own tangent kernel moves as its weights move). The rate ratio
  log(measured)/log(predicted) says by how much (1: they agree; none is given where the prediction is below
  1e-4, since what is left of a frequency there is what leaks in from slower ones). After 1000 steps on the
  default sines at the default width 256 (1024 in brackets), the network without a mapping learns 2, 8 and 24
  cycles at 0.34, 0.25 and 0.22 of the predicted rate (0.44, 0.32, 0.27), its 2-cycle residual 0.09 where
  0.0009 is predicted (0.06 where 0.0017); `power:1` learns 8 and 24 cycles at 0.58 and 0.58 (0.53, 0.61);
  `gauss:10` 24 cycles at 0.84 (0.82). Wider is closer, but slowly: for a lone 2-cycle sine the shortfall
  1 - ratio falls about as 1/√width (after 300 steps, over several draws: 0.42 at width 256, 0.12 at 4096). A
  smaller step, float64 or averaging
  several networks do not close it.
- Along the power-law family a larger p tilts the spectrum towards low frequencies (smoother, slower fits);
  p = 0 learns every frequency alike. Compare the train and held-out losses along the family.
"""


# ---------------------------------------------------------------------------------------------------------
# Mappings


Mapping1D = mappings.Mapping  # the lab's mappings are the package's, with `power:p` (mappings.KINDS_1D)


def parse(spec) -> Mapping1D:
    """A spec string ('none', 'basic', 'posenc:6', 'gauss:10', 'power:1', 'power:inf') in the mappings' one
    grammar (`mappings.parse` with the 1D kinds). Raises `checks.Invalid` (param 'mappings') with its sentence; a
    spec's own learning rate ('@LR') is refused: the lab trains every mapping at one step."""
    try:
        mapping = mappings.parse(spec, kinds=KINDS, usage=USAGE)
    except ValueError as e:
        raise checks.Invalid(str(e), "mappings") from None
    if mapping.lr is not None:
        raise checks.Invalid(f"The 1D lab trains every mapping at one step: '{spec}' can have no learning rate of its "
                             "own.", "mappings")
    return mapping


def features_of(mapping: Mapping1D, train_points: int, features: int, gauss: np.ndarray):
    """(a, b), amplitudes and frequencies (J,) in cycles per unit of a Fourier mapping, or None for `none`.

    train_points is M (power:p uses b_j = j, j = 1..M/2: every frequency the training grid can hold);
    gauss is the run's N(0, 1) draw (features,), shared by every gauss:σ so that they differ only in σ.
    """
    if mapping.kind == "none":
        return None
    if mapping.kind == "basic" or (mapping.kind == "power" and math.isinf(mapping.scale)):
        return np.ones(1), np.ones(1)
    if mapping.kind == "posenc":
        return np.ones(features), 2.0 ** np.linspace(0.0, mapping.scale, features) - 1.0
    if mapping.kind == "gauss":
        return np.ones(features), mapping.scale * np.asarray(gauss, np.float64)
    j = np.arange(1, train_points // 2 + 1, dtype=np.float64)
    return j ** -mapping.scale, j


def encode(v, ab) -> np.ndarray:
    """γ(v): positions v (P,) in [0, 1) -> (P, d0) float64; 2v - 1 as one channel when ab is None.

    Scaled so that γ(v)·γ(v')/d0 is the mapping's kernel with value 1 at v = v' (see the module docstring).
    """
    v = np.asarray(v, np.float64)
    if ab is None:
        # Centred and spread over [-1, 1): first-layer kinks sit at -s_b·b/(s_w·w), so about 60% of them fall
        # inside the data (a ReLU network of v alone is a straight line between its kinks).
        return (2.0 * v - 1.0)[:, None]
    a, b = ab
    phase = 2.0 * np.pi * v[:, None] * b[None, :]  # (P, J)
    scale = math.sqrt(2 * len(a)) / np.linalg.norm(a)
    return scale * np.concatenate([a * np.sin(phase), a * np.cos(phase)], axis=1)


# ---------------------------------------------------------------------------------------------------------
# Targets


@dataclasses.dataclass(frozen=True)
class Target:
    kind: str = "sines"  # one of TARGETS
    freqs: tuple[int, ...] = (2, 8, 24)  # sines: their frequencies (cycles per unit); also the tracked ones
    amps: tuple[float, ...] = ()  # sines: their amplitudes, one per frequency; empty means 1 each
    alpha: float = 1.0  # powerlaw: amplitude spectrum falls as 1/f^α (the paper's 1D data use α = 1)
    square_freq: int = 4  # square: cycles per unit of the ±0.5 square wave
    seed: int = 0  # powerlaw: draws the random phases and amplitudes


def tracked_frequencies(target: Target, points: int) -> tuple[int, ...]:
    """The frequencies whose residual the lab follows: the target's `freqs` (for a square wave whose
    freqs were left empty, its first three odd harmonics below the training grid's Nyquist frequency)."""
    if target.freqs or target.kind != "square":
        return tuple(target.freqs)
    return tuple(f for f in (target.square_freq * k for k in (1, 3, 5)) if f < points // 4) or (target.square_freq,)


def target_signal(target: Target, points: int) -> np.ndarray:
    """The target y on the grid v_i = i/points: (points,) float64.

    sines: Σ_k a_k sin 2πf_k v. powerlaw: as the authors' 1D notebook, complex Gaussian Fourier coefficients
    scaled by (1 + |k|)^-α for the positive frequencies k < points/4 (the rest 0, so the signal is
    band-limited below the training grid's Nyquist frequency), the real part of the inverse DFT, rescaled
    to [-0.5, 0.5]. square: ±0.5 with `square_freq` cycles (not band-limited: its harmonics above the
    Nyquist frequency alias).
    """
    v = np.arange(points) / points
    if target.kind == "sines":
        amps = target.amps or (1.0,) * len(target.freqs)
        return sum(a * np.sin(2 * np.pi * f * v) for f, a in zip(target.freqs, amps)) + np.zeros(points)
    if target.kind == "square":
        return np.where((target.square_freq * v) % 1.0 < 0.5, 0.5, -0.5)
    k = np.arange(points)
    decay = (1.0 + np.minimum(k, points - k)) ** -target.alpha
    decay[points // 4:] = 0.0
    raw = np.random.default_rng(target.seed).standard_normal((points, 2)) @ np.array([1.0, 1.0j])
    s = np.real(np.fft.ifft(raw * decay))
    return (s - s.min()) / (s.max() - s.min()) - 0.5


# ---------------------------------------------------------------------------------------------------------
# Settings


@dataclasses.dataclass(frozen=True)
class LabConfig:
    mappings: tuple[str, ...] = ("none", "gauss:10", "power:1")  # specs, trained together
    target: Target = Target()  # what to fit
    points: int = 128  # grid size N, one of POINTS; the even points train, the odd ones test (128: a default run in seconds)
    steps: int = 1000  # optimiser steps for every mapping
    every: int = 25  # steps between snapshots
    depth: int = 4  # Dense layers (depth - 1 ReLU layers, then the linear read-out); the paper's 4
    width: int = 256  # hidden units (the authors' 1D notebooks use 1024: 4x the time here); wider is closer to the NTK, slowly (GUIDE)
    features: int = 0  # m, frequencies of posenc and gauss; 0 means M/2, as many as power:p has
    optimizer: str = "gd"  # "gd": full-batch gradient descent, the theory's; "adam": Adam, no theory
    step_fraction: float = 0.5  # gd: η as a fraction of the stability limit 2M/λ_max (largest over mappings)
    adam_lr: float = 1e-3  # adam: its learning rate
    seed: int = 0  # the initial weights (shared by every mapping) and gauss's draw

    def __post_init__(self):
        specs = self.mappings
        if isinstance(specs, str):
            specs = tuple(s for s in specs.replace(",", " ").split() if s)
        if not isinstance(specs, (tuple, list)) or not specs:
            raise checks.Invalid("Choose at least one mapping.", "mappings")
        parsed = []
        for s in specs:
            m = parse(s)
            if m.spec not in (p.spec for p in parsed):  # a repeat would train the same network twice
                parsed.append(m)
        if len(parsed) > MAX_MAPPINGS:
            raise checks.Invalid(f"At most {MAX_MAPPINGS} mappings can be compared at once (got {len(parsed)}).",
                                 "mappings")
        object.__setattr__(self, "mappings", tuple(m.spec for m in parsed))
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("points", checks.one_of(self.points, "points (grid size N)", POINTS))
        set_("steps", checks.whole(self.steps, "steps", 1, 100_000))
        set_("every", checks.whole(self.every, "every (steps between snapshots)", 1, 10_000))
        set_("depth", checks.whole(self.depth, "depth", 2, 8))
        set_("width", checks.whole(self.width, "width", 16, 4096))
        set_("features", checks.whole(self.features, "features (frequencies m of posenc and gauss; 0 for M/2)", 0, 1024))
        set_("optimizer", checks.one_of(self.optimizer, "optimizer", OPTIMIZERS))
        set_("step_fraction", checks.real(self.step_fraction, "step_fraction (of the stability limit 2M/λ_max)",
                                          0.0, 0.95, above=True))
        set_("adam_lr", checks.real(self.adam_lr, "adam_lr", 0.0, 1.0, above=True))
        set_("seed", checks.whole(self.seed, "seed", 0, 2**31 - 1))
        set_("target", _checked_target(self.target, self.points))

    @property
    def train_points(self) -> int:
        """M, the training points (the even ones)."""
        return self.points // 2

    @property
    def m(self) -> int:
        """Frequencies of posenc and gauss."""
        return self.features or self.train_points // 2

    @property
    def parsed(self) -> tuple[Mapping1D, ...]:
        return tuple(parse(s) for s in self.mappings)

    @property
    def freqs(self) -> tuple[int, ...]:
        """The tracked frequencies (cycles per unit)."""
        return tracked_frequencies(self.target, self.points)

    @property
    def theory_applies(self) -> bool:
        """The NTK prediction holds for full-batch gradient descent only."""
        return self.optimizer == "gd"


def _checked_target(target: Target, points: int) -> Target:
    """The target with every value checked against a grid of `points` (frequencies below M/2, the training
    grid's Nyquist frequency, where a sine vanishes on the training points)."""
    if not isinstance(target, Target):
        raise checks.Invalid(f"target must be a Target (got {type(target).__name__}).", "target")
    top = points // 4 - 1
    kind = checks.one_of(target.kind, "target", TARGETS)
    freqs = target.freqs
    if isinstance(freqs, (int, float)) and not isinstance(freqs, bool):
        freqs = (freqs,)
    if not isinstance(freqs, (tuple, list)) or len(freqs) > MAX_FREQS:
        raise checks.Invalid(f"freqs must be a list of at most {MAX_FREQS} frequencies.", "freqs")
    freqs = tuple(dict.fromkeys(checks.whole(f, f"freqs (cycles per unit, below {top + 1} for {points} points)",
                                             1, top, "freqs") for f in freqs))
    if kind != "square" and not freqs:
        raise checks.Invalid("freqs must name at least one frequency.", "freqs")
    amps = tuple(target.amps) if isinstance(target.amps, (tuple, list)) else (target.amps,)
    amps = tuple(checks.real(a, "amps (amplitude of a sine)", -100.0, 100.0, "amps") for a in amps)
    if kind == "sines" and amps and len(amps) != len(freqs):
        raise checks.Invalid(f"amps must give one amplitude per frequency ({len(freqs)}), or none "
                             f"(got {len(amps)}).", "amps")
    return Target(kind, freqs, amps if kind == "sines" else (),
                  checks.real(target.alpha, "alpha (the 1/f^α power)", 0.0, 4.0),
                  checks.whole(target.square_freq, f"square_freq (cycles per unit, below {top + 1})", 1, top),
                  checks.whole(target.seed, "seed", 0, 2**31 - 1))


# ---------------------------------------------------------------------------------------------------------
# Kernel theory (float64 NumPy on the host: M × M matrices, M ≤ 512)


def frequency_spectrum(k: np.ndarray) -> np.ndarray:
    """λ_f = u_fᴴ K u_f for the unit Fourier modes u_f = exp(2πi f x_j)/√M of the training grid, f = 0..M/2.

    K (M, M) -> (M/2 + 1,). For a stationary kernel on the periodic grid K is circulant and these are its
    exact eigenvalues (the DFT of one row); otherwise (`none`, gauss's non-integer frequencies) they are
    the kernel's energy at each frequency: the rate at which gradient descent learns it.
    """
    m = k.shape[0]
    both = np.fft.ifft(np.fft.fft(k, axis=0), axis=1)  # (F K F^-1)[f, g]; the diagonal is u_fᴴ K u_f
    return np.real(np.diagonal(both))[: m // 2 + 1].copy()


def ntk_matrix(mapping: Mapping1D, v, depth: int, train_points: int, features: int, gauss) -> np.ndarray:
    """The infinite-width NTK of `NTKMLP(depth)` on γ(v): v (P,) -> (P, P) float64."""
    x = encode(v, features_of(mapping, train_points, features, gauss))
    return ntk.relu_ntk(x, x, depth, bias_std=BIAS_STD)


@dataclasses.dataclass(frozen=True)
class Theory:
    """Gradient descent on the linearised network of one mapping: K = U diag(λ) Uᵀ on the training points."""

    eigenvalues: np.ndarray  # (M,) λ of K, ascending
    eigenvectors: np.ndarray  # (M, M) U, columns orthonormal
    spectrum: np.ndarray  # (M/2 + 1,) `frequency_spectrum(K)`

    @classmethod
    def of(cls, k: np.ndarray) -> "Theory":
        lam, u = np.linalg.eigh(k)
        return cls(lam, u, frequency_spectrum(k))

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    def residuals(self, r0: np.ndarray, eta: float, steps) -> np.ndarray:
        """r_t = (I - ηK/M)^t r_0 for each t in steps: r0 (M,) -> (T, M) float64."""
        m = len(r0)
        factor = 1.0 - eta * self.eigenvalues / m  # (M,) per eigen-direction and step
        t = np.asarray(steps, np.float64)[:, None]
        decay = np.sign(factor) ** t * np.abs(factor) ** t  # a real power also for a (stable) negative factor
        return (decay * (self.eigenvectors.T @ r0)) @ self.eigenvectors.T


def fourier_components(r: np.ndarray, freqs) -> np.ndarray:
    """|DFT(r)| at `freqs` (cycles per unit) over the training grid: r (..., M) -> (..., F)."""
    return np.abs(np.fft.rfft(np.asarray(r, np.float64), axis=-1)[..., list(freqs)])


def relative(components: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """components (..., F) / initial (F,), with NaN where the initial component is 0 (nothing to learn)."""
    initial = np.asarray(initial, np.float64)
    return np.divide(components, initial, out=np.full(np.shape(components), np.nan), where=initial > 0)


# ---------------------------------------------------------------------------------------------------------
# Training (JAX): every mapping at once


def _loss(params, model, x, y):
    """(1/2M) Σ (f(x_i) - y_i)², the loss THEORY.md's dynamics are written for: x (M, D), y (M,)."""
    return 0.5 * jnp.mean((model.apply(params, x)[:, 0] - y) ** 2)


def _optimizer(kind: str, lr):
    return optax.sgd(lr) if kind == "gd" else optax.adam(lr)


@functools.partial(jax.jit, static_argnames=("model", "kind"), donate_argnums=(0,))
def train_chunk(state, steps, lr, x_train, y_train, x_grid, *, model, kind: str):
    """`steps` full-batch steps of K networks side by side, then each one's fit over the whole grid.

    state: (params, optimiser state), leading axis K; x_train (K, M, D) and x_grid (K, N, D) the mapped
    inputs of each network, y_train (M,). `steps` is traced, so one compiled program serves every chunk
    length, step 0's evaluation (steps = 0) included. Returns (state, fits (K, N)).
    """
    opt = _optimizer(kind, lr)

    def one(state, x_train, x_grid):
        def step(_, s):
            params, opt_state = s
            grads = jax.grad(_loss)(params, model, x_train, y_train)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

        state = jax.lax.fori_loop(0, steps, step, state)
        return state, model.apply(state[0], x_grid)[:, 0]

    return jax.vmap(one)(state, x_train, x_grid)


def padded_inputs(x: np.ndarray, width: int) -> np.ndarray:
    """γ (P, d0) as (P, width) float32: zero-padded and scaled by √(width/d0).

    `NTKMLP`'s first layer computes (s_w/√width)·W·x; the scale gives back (s_w/√d0)·W[:d0]·γ exactly, and the
    padded rows of W meet only zeros (their gradient is 0), so the network is the one with input width d0
    whose W1 is W's first d0 rows. Every mapping then has the same shapes: one compiled program for all.
    """
    p, d0 = x.shape
    out = np.zeros((p, width), np.float32)
    out[:, :d0] = x * math.sqrt(width / d0)
    return out


# ---------------------------------------------------------------------------------------------------------
# The run


@dataclasses.dataclass(frozen=True)
class LabSnapshot:
    """Where a 1D run stands after `step` steps of every mapping; the contract between `run` and the page.

    Per-spec dicts follow `specs` (the config's order). Histories hold one row per snapshot so far.
    """

    step: int
    steps: int  # the run's total
    elapsed: float  # seconds since the run started, compilation included
    compile_seconds: float  # seconds spent compiling
    specs: tuple[str, ...]
    labels: dict[str, str]  # spec -> human name
    grid: np.ndarray  # (N,) positions v_i = i/N
    target: np.ndarray  # (N,) y; the even points are the training set
    fits: dict[str, np.ndarray]  # spec -> (N,) the network over the grid now
    freqs: tuple[int, ...]  # tracked frequencies, cycles per unit
    history_steps: np.ndarray  # (T,) the steps of the snapshots so far, this one last
    train_mse: dict[str, np.ndarray]  # spec -> (T,) MSE on the training points
    test_mse: dict[str, np.ndarray]  # spec -> (T,) MSE on the held-out points
    measured: dict[str, np.ndarray]  # spec -> (T, F) |DFT(residual)| at freqs, relative to step 0
    predicted: dict[str, np.ndarray] | None  # the same from the NTK dynamics; None when theory_applies is False
    spectrum_freqs: np.ndarray  # (M/2 + 1,) 0..M/2 cycles per unit
    spectra: dict[str, np.ndarray]  # spec -> (M/2 + 1,) `frequency_spectrum` of its NTK on the training points
    eta: float  # the step size (gd) or Adam's learning rate
    theory_applies: bool  # False with Adam: no prediction is made

    @property
    def train_seconds(self) -> float:
        """Seconds of training and evaluation, compilation excluded."""
        return self.elapsed - self.compile_seconds

    @property
    def done(self) -> bool:
        return self.step >= self.steps


def stability_limit(lambda_max: float, train_points: int) -> float:
    """The largest stable gradient-descent step 2M/λ_max: beyond it the top eigen-direction grows."""
    return 2.0 * train_points / lambda_max


def run(config: LabConfig = LabConfig()) -> Iterator[LabSnapshot]:
    """Trains every mapping of `config` on its target, yielding a LabSnapshot at step 0 and after every
    `config.every` steps (the last at `config.steps`). Deterministic for a given config; closing the
    generator stops all work.

    The first chunk compiles (a second or two); later runs of the same shapes reuse the program.
    """
    start = time.perf_counter()
    n, m = config.points, config.train_points
    grid = np.arange(n) / n
    y = target_signal(config.target, n)
    y_train = y[::2]
    freqs = config.freqs
    key_b, key_init = jax.random.split(jax.random.key(config.seed))
    gauss = np.asarray(jax.random.normal(key_b, (config.m,), jnp.float32), np.float64)
    specs = config.mappings
    parsed = config.parsed

    # The theory first (a few ms per mapping): it also sets η, so it is needed before the first step.
    xs = {s: encode(grid, features_of(p, m, config.m, gauss)) for s, p in zip(specs, parsed)}
    # the one kernel function a test holds to the network's own tangent kernel
    theories = {s: Theory.of(ntk_matrix(p, grid[::2], config.depth, m, config.m, gauss))
                for s, p in zip(specs, parsed)}
    if config.optimizer == "gd":
        eta = config.step_fraction * stability_limit(max(t.lambda_max for t in theories.values()), m)
    else:
        eta = config.adam_lr

    width_in = max(x.shape[1] for x in xs.values())
    x_grid = jnp.asarray(np.stack([padded_inputs(xs[s], width_in) for s in specs]))  # (K, N, D)
    x_train = x_grid[:, ::2]  # (K, M, D)
    model = ntk.NTKMLP(depth=config.depth, width=config.width, bias_std=BIAS_STD)
    # One draw, shared by every mapping; no forward pass (lazy_init), and the K copies made on the host.
    params = model.lazy_init(key_init, jax.ShapeDtypeStruct((1, width_in), jnp.float32))
    state = (params, _optimizer(config.optimizer, eta).init(params))
    k = len(specs)
    state = jax.device_put(copies(state, k))
    lr = jnp.float32(eta)
    y_dev = jnp.asarray(y_train, jnp.float32)

    compile_seconds = 0.0
    compiled_once = False

    def advance(state, steps):
        nonlocal compile_seconds, compiled_once
        t0 = time.perf_counter()
        state, fits = train_chunk(state, jnp.int32(steps), lr, x_train, y_dev, x_grid, model=model,
                                  kind=config.optimizer)
        fits = np.asarray(fits, np.float64)  # the chunk's one host-device sync
        if not compiled_once:  # the first call compiles; what it takes beyond the work is compilation
            compile_seconds = time.perf_counter() - t0
            compiled_once = True
        return state, fits

    hist_steps: list[int] = []
    train_hist = {s: [] for s in specs}
    test_hist = {s: [] for s in specs}
    meas_hist = {s: [] for s in specs}
    r0_train: dict[str, np.ndarray] = {}
    c0: dict[str, np.ndarray] = {}
    spectra = {s: theories[s].spectrum for s in specs}
    labels = {s: p.label() for s, p in zip(specs, parsed)}

    def snapshot(step, fits) -> LabSnapshot:
        hist_steps.append(step)
        for i, s in enumerate(specs):
            err = fits[i] - y
            r = err[::2]
            if s not in r0_train:
                r0_train[s] = r
                c0[s] = fourier_components(r, freqs)
            train_hist[s].append(float(np.mean(r ** 2)))
            test_hist[s].append(float(np.mean(err[1::2] ** 2)))
            meas_hist[s].append(relative(fourier_components(r, freqs), c0[s]))
        steps_arr = np.asarray(hist_steps)
        predicted = None
        if config.theory_applies:
            predicted = {s: relative(fourier_components(theories[s].residuals(r0_train[s], eta, steps_arr), freqs), c0[s])
                         for s in specs}
        return LabSnapshot(
            step, config.steps, time.perf_counter() - start, compile_seconds, specs, labels, grid, y,
            {s: fits[i] for i, s in enumerate(specs)}, freqs, steps_arr,
            {s: np.asarray(train_hist[s]) for s in specs}, {s: np.asarray(test_hist[s]) for s in specs},
            {s: np.asarray(meas_hist[s]) for s in specs}, predicted, np.arange(m // 2 + 1), spectra, float(eta),
            config.theory_applies)

    state, fits = advance(state, 0)
    yield snapshot(0, fits)
    step = 0
    while step < config.steps:
        chunk = min(config.every, config.steps - step)
        state, fits = advance(state, chunk)
        step += chunk
        yield snapshot(step, fits)


def train(config: LabConfig = LabConfig()) -> LabSnapshot:
    """A whole run; returns its last snapshot (for notebooks and tests)."""
    last = None
    for last in run(config):
        pass
    return last


# ---------------------------------------------------------------------------------------------------------
# How far the network is from its kernel

# Below this predicted residual a frequency's measured residual is no longer its own rate's: it is what
# leaks in from slower components (power:1 at 2 cycles after 1000 steps: 3e-4 measured for 7e-12 predicted,
# the same when the network is trained in float64), and below about 1e-6 float32 rounding would decide it.
RATE_FLOOR = 1e-4
RATE_CEILING = 0.99  # above it the prediction has hardly moved: there is no rate to compare


def rate_ratio(snap: LabSnapshot, floor: float = RATE_FLOOR) -> dict[str, tuple[float | None, ...]] | None:
    """How fast each network learnt each tracked frequency, as a fraction of the rate its NTK predicts.

    spec -> (F,) log(measured) / log(predicted), the residuals of `snap.measured` and `snap.predicted` at the
    snapshot's step (both relative to step 0, from the same r_0). A component that shrinks by (1 - ηλ/M) per step
    has log(residual) = t·log(1 - ηλ/M), so the ratio is the network's effective λ over the kernel's: 1 means
    the network kept pace with the linearised infinite-width one, 0.5 that it needs about twice the steps, 0
    or less that it made no progress (or lost ground). None where the predicted residual is at or below
    `floor` or above RATE_CEILING, or the measured one is not a positive number; None for the whole snapshot
    when there is no prediction (Adam).
    """
    if snap.predicted is None:
        return None
    out = {}
    for s in snap.specs:
        meas, pred = snap.measured[s][-1], snap.predicted[s][-1]  # (F,) each
        out[s] = tuple(float(math.log(m) / math.log(p)) if floor < p < RATE_CEILING and math.isfinite(m) and m > 0
                       else None for m, p in zip(meas.tolist(), pred.tolist()))
    return out


def rate_text(snap: LabSnapshot) -> str:
    """`rate_ratio` as lines a page or terminal can print, one per mapping ('' without a prediction)."""
    ratios = rate_ratio(snap)
    if ratios is None:
        return ""
    head = (f"network's rate / NTK's rate at step {snap.step} (1: they agree; -: no rate to compare, the "
            f"prediction is below {RATE_FLOOR:g} or above {RATE_CEILING:g})")
    cell = lambda f, r: f"f={f} " + ("-" if r is None else f"{r:.2f}")  # noqa: E731
    return "\n".join([head] + [f"{s}: " + ", ".join(cell(f, r) for f, r in zip(snap.freqs, ratios[s]))
                               for s in snap.specs])


# ---------------------------------------------------------------------------------------------------------
# What a run writes


def _finite(x):
    """Nested lists of floats with NaN and ±inf as None (JSON has no NaN)."""
    a = np.asarray(x, np.float64)
    if a.ndim == 0:
        return float(a) if np.isfinite(a) else None
    return [_finite(v) for v in a]


def summary(snap: LabSnapshot) -> dict:
    """What lab1d.json holds: per mapping its tracked frequencies, snapshot steps, measured and predicted
    residuals ((T, F), relative to step 0; predicted null with Adam), `rate_ratio` at the last step ((F,), null
    where there is no rate to compare) and final train and test MSE."""
    ratios = rate_ratio(snap)
    return {
        "mappings": {
            s: {
                "label": snap.labels[s],
                "freqs": list(snap.freqs),
                "steps": [int(t) for t in snap.history_steps],
                "measured": _finite(snap.measured[s]),
                "predicted": None if snap.predicted is None else _finite(snap.predicted[s]),
                "rate_ratio": None if ratios is None else list(ratios[s]),
                "final_train_mse": _finite(snap.train_mse[s][-1]),
                "final_test_mse": _finite(snap.test_mse[s][-1]),
            }
            for s in snap.specs
        },
        "eta": snap.eta,
        "theory_applies": snap.theory_applies,
        "step": snap.step,
    }


def estimate_seconds(config: LabConfig) -> float:
    """About how long `run(config)` takes on 2 x86-64 cores: a second of compiling, then per step and mapping a
    fixed cost (the small products' dispatch and the snapshots' bookkeeping) plus the width² products, in
    proportion to the training points.

    Fitted to runs of 300 steps on 2 cores of an Intel Xeon (AVX-512) shared with other work (2026-12-05): 11.5 ms
    a step for 3 mappings at width 256, 37 ms at width 1024, 102 ms for 8 mappings at width 1024 (128 points).
    """
    per_mapping = (3.2e-3 + 8.5e-9 * config.width ** 2) * (config.depth / 4) * (config.points / 128)
    return 1.0 + config.steps * len(config.mappings) * per_mapping
