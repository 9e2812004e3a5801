"""The streaming trainer: full-batch Adam on every mapping of a run, one compiled program per chunk.

`run(image, config)` is a generator of `Snapshot`s: one for the untrained networks (step 0), then one after
every chunk of `config.every` steps. Mappings whose encodings have the same width train together in one
program (`vmap` over a leading model axis K); a chunk is a `lax.fori_loop` of `train_step`s followed by an
evaluation on the full pixel grid, so nothing leaves the device inside a chunk. Closing the generator stops
all work: nothing runs in the background.
"""

import dataclasses
import functools
import time
from typing import Any, Callable, Iterator, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ffn import data, mappings
from ffn.config import Config
from ffn.metrics import mse_to_psnr
from ffn.model import MLP, make_model

RENDER_PIXELS = 1 << 15  # pixels per rendering block: bounds the activations of evaluation


class TrainState(NamedTuple):
    """Parameters and Adam moments of one network (or of K stacked ones, leading axis K)."""

    params: Any
    opt_state: Any


def loss_fn(params, model: MLP, features, target):
    """The original demo's loss, 0.5 * MSE; features (N, C), target (N, 3)."""
    return 0.5 * jnp.mean((model.apply(params, features) - target) ** 2)


def train_step(state: TrainState, lr, model: MLP, features, target) -> tuple[TrainState, jax.Array]:
    """One full-batch Adam step of one network; returns the new state and the loss before the step."""
    loss, grads = jax.value_and_grad(loss_fn)(state.params, model, features, target)
    updates, opt_state = optax.adam(lr).update(grads, state.opt_state, state.params)
    return TrainState(optax.apply_updates(state.params, updates), opt_state), loss


def render(params, model: MLP, b, coords):
    """The network's image: coords (R, R, 2) -> (R, R, 3) float in (0, 1), rendered in blocks of rows."""
    size = coords.shape[0]
    rows = max(1, min(size, RENDER_PIXELS // size))
    while size % rows:
        rows -= 1
    blocks = coords.reshape(size // rows, rows, size, 2)
    return jax.lax.map(lambda c: model.apply(params, mappings.encode(c, b)), blocks).reshape(size, size, 3)


def evaluate(params, model: MLP, b, coords, image):
    """Full-grid render of one network, its MSE on the train and test pixels, and the render as uint8."""
    pred = render(params, model, b, coords)
    err = (pred - image) ** 2
    train_mse = jnp.mean(data.train_pixels(err))
    test_mse = jnp.mean(data.test_pixels(err))
    picture = jnp.round(jnp.nan_to_num(pred, nan=0.0) * 255).astype(jnp.uint8)  # (R, R, 3)
    return picture, train_mse, test_mse


def train_chunk(state: TrainState, lr, b, steps, features, target, coords, image, *, model: MLP):
    """`steps` Adam steps of K stacked networks, then their evaluation. Leading axis K on state, lr, b, features.

    `steps` is traced (a while loop), so one compiled program serves every chunk length.
    """

    def one(state, lr, b, features):
        state = jax.lax.fori_loop(0, steps, lambda _, s: train_step(s, lr, model, features, target)[0], state)
        return state, evaluate(state.params, model, b, coords, image)

    return jax.vmap(one)(state, lr, b, features)


def evaluate_all(state: TrainState, b, coords, image, *, model: MLP):
    """Evaluation of K stacked networks (the step-0 snapshot)."""
    return jax.vmap(lambda p, b: evaluate(p, model, b, coords, image))(state.params, b)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Where a run stands after `step` steps of every mapping."""

    step: int
    iters: int  # the run's total
    elapsed: float  # seconds since the run started, compilation included
    compile_seconds: float  # seconds spent compiling so far
    train_psnr: dict[str, float]  # spec -> PSNR (dB) on the training pixels [::2, ::2]; NaN once diverged
    test_psnr: dict[str, float]  # spec -> PSNR (dB) on the held-out pixels [1::2, 1::2]
    images: dict[str, np.ndarray]  # spec -> (R, R, 3) uint8 reconstruction on the full grid
    params: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)  # spec -> host copy of its weights
    bases: dict[str, np.ndarray | None] = dataclasses.field(default_factory=dict, repr=False)  # spec -> its B

    @property
    def train_seconds(self) -> float:
        """Seconds of training and evaluation, compilation excluded."""
        return self.elapsed - self.compile_seconds

    @property
    def diverged(self) -> list[str]:
        """Specs whose network has stopped producing numbers (NaN or inf loss)."""
        return [s for s, v in self.train_psnr.items() if not np.isfinite(v)]

    @property
    def done(self) -> bool:
        return self.step >= self.iters


@dataclasses.dataclass
class Group:
    """Mappings of one encoding width, trained as one batch of K networks."""

    specs: tuple[str, ...]
    model: MLP
    state: TrainState  # leading axis K
    lr: jax.Array  # (K,)
    b: jax.Array | None  # (K, rows, 2), None for `none`
    features: jax.Array  # (K, N, C) encoded training coordinates, computed once per run


def init_state(key, model: MLP, width: int) -> TrainState:
    """Fresh parameters (the paper's initialisation) and Adam moments for inputs of `width` channels."""
    params = model.init(key, jnp.zeros((1, width), jnp.float32))
    return TrainState(params, optax.adam(1e-3).init(params))  # Adam's state does not depend on lr


def make_groups(config: Config, coords) -> list[Group]:
    """Splits the run's mappings into groups of equal encoding width, in the order they first appear.

    Every network starts from the same weights for its width (one init key per run), and every gauss:σ
    uses σ times the same Gaussian draw, as in the original demo: mappings differ only in the mapping.
    """
    key_b, key_init = jax.random.split(jax.random.key(config.seed))
    gauss = mappings.gaussian_basis(key_b, config.features)
    model = make_model(config)
    train_coords = jnp.asarray(data.train_pixels(coords).reshape(-1, 2))  # (N, 2)
    by_width: dict[tuple, list[int]] = {}
    for i, m in enumerate(config.parsed):
        by_width.setdefault((m.fourier, m.width(config.features)), []).append(i)
    groups = []
    lrs = config.learning_rates()
    for (fourier, width), idx in by_width.items():
        k = len(idx)
        state = init_state(key_init, model, width)
        state = jax.tree.map(lambda x: jnp.broadcast_to(x, (k,) + x.shape), state)
        b = jnp.asarray(np.stack([mappings.basis(config.parsed[i], config.features, gauss) for i in idx])) if fourier else None
        features = jax.vmap(lambda b: mappings.encode(train_coords, b))(b) if fourier else jnp.broadcast_to(train_coords, (k,) + train_coords.shape)
        groups.append(Group(tuple(config.mappings[i] for i in idx), model, state,
                            jnp.asarray([lrs[i] for i in idx], jnp.float32), b, features))
    return groups


_COMPILED: "dict[tuple, Any]" = {}
MAX_COMPILED = 32  # compiled programs kept for reuse by later runs (each is a few MB)


def compiled(fn: Callable, model: MLP, donate: bool, *args):
    """The compiled program of fn(*args, model=model) for these argument shapes, and its compile seconds.

    Runs reuse programs compiled by earlier runs of the same shapes (the app's warm start); the cache is
    bounded, oldest out first.
    """
    shapes = jax.tree.map(lambda x: (x.shape, x.dtype), args)
    key = (fn, model, donate, jax.tree.structure(args), tuple(jax.tree.leaves(shapes)))
    if key in _COMPILED:
        return _COMPILED[key], 0.0
    t0 = time.perf_counter()
    jitted = jax.jit(functools.partial(fn, model=model), donate_argnums=(0,) if donate else ())
    program = jitted.lower(*args).compile()
    if len(_COMPILED) >= MAX_COMPILED:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = program
    return program, time.perf_counter() - t0


def _block(tree):
    """Waits for a pytree of arrays and copies it to the host."""
    return jax.device_get(tree)


def run(image: np.ndarray, config: Config) -> Iterator[Snapshot]:
    """Trains every mapping of `config` on `image` ((R, R, 3) float in [0, 1], R = config.size).

    Yields a Snapshot at step 0 (untrained networks) and after every `config.every` steps, the last at
    `config.iters`. Deterministic for a given config and image.
    """
    image = np.asarray(image, np.float32)
    if image.shape != (config.size, config.size, 3):
        raise ValueError(f"Image must be {config.size}×{config.size}×3 for this config (got {image.shape}).")
    start = time.perf_counter()
    compile_seconds = 0.0
    coords = data.coordinates(config.size)
    image_dev, coords_dev = jnp.asarray(image), jnp.asarray(coords)
    target = jnp.asarray(data.train_pixels(image).reshape(-1, 3))  # (N, 3)
    groups = make_groups(config, coords)

    def call(fn, donate, group, *args):
        """Runs fn on a group's arrays, compiling it first if no earlier run did; compile time is kept apart."""
        nonlocal compile_seconds
        program, seconds = compiled(fn, group.model, donate, *args)
        compile_seconds += seconds
        return program(*args)

    bases = {}
    for g in groups:
        for i, spec in enumerate(g.specs):
            bases[spec] = None if g.b is None else np.asarray(g.b[i])

    def snapshot(step, results) -> Snapshot:
        # The one host-device sync of a chunk: metrics, pictures and a copy of the weights (donated next chunk).
        results, params = _block((results, [g.state.params for g in groups]))
        train, test, images, weights = {}, {}, {}, {}
        for group, (pictures, train_mse, test_mse), p in zip(groups, results, params):
            for i, spec in enumerate(group.specs):
                train[spec] = float(mse_to_psnr(train_mse[i]))
                test[spec] = float(mse_to_psnr(test_mse[i]))
                images[spec] = pictures[i]
                weights[spec] = jax.tree.map(lambda x: x[i], p)
        order = config.mappings
        pick = lambda d: {s: d[s] for s in order}  # noqa: E731
        return Snapshot(step, config.iters, time.perf_counter() - start, compile_seconds,
                        pick(train), pick(test), pick(images), pick(weights), bases)

    results = [call(evaluate_all, False, g, g.state, g.b, coords_dev, image_dev) for g in groups]
    yield snapshot(0, results)

    step = 0
    while step < config.iters:
        steps = min(config.every, config.iters - step)
        results = []
        for g in groups:
            g.state, evaluation = call(train_chunk, True, g, g.state, g.lr, g.b, jnp.int32(steps),
                                       g.features, target, coords_dev, image_dev)
            results.append(evaluation)
        step += steps
        yield snapshot(step, results)


def train(image: np.ndarray, config: Config, callback: Callable[[Snapshot], None] | None = None) -> Snapshot:
    """Runs a whole run and returns its last snapshot (a convenience for notebooks and tests)."""
    last = None
    for last in run(image, config):
        if callback is not None:
            callback(last)
    return last
