"""The streaming trainer: full-batch Adam on every mapping of a run, one compiled program per chunk.

`run(image, config)` is a generator of `Snapshot`s: one for the untrained networks (step 0), then one after
every chunk of `config.every` steps. Mappings whose encodings have the same width share one compiled program
(on one device each network runs it in turn; with several, they train together on a leading model axis split
among the devices); a chunk is a `lax.fori_loop` of Adam steps followed by an evaluation on the full pixel grid,
so nothing leaves the device inside a chunk. Closing the generator stops all work: nothing runs in the background.

How a chunk keeps the CPU's matrix units busy (measured by `python -m ffn.bench`):

- Activations are *feature-major*, (channels, pixels). Then every product of a step (forward, input
  gradient, weight gradient) is one the fast matmul kernels take; in the (pixels, channels) layout the weight
  gradient xᵀ·dy contracts the major axis of both operands and runs at about 2/3 of the speed.
- The full batch's gradient is summed over blocks of `BLOCK_PIXELS` pixels, so a block's activations stay in
  the cache while a layer's elementwise work (bias, ReLU, its gradient) runs over them.
- Each step of that sum takes `CHAINS` blocks, whose forward and backward passes are independent chains of
  products: XLA runs them side by side, one product per core, instead of splitting every ~1 ms product
  across the cores. On 2 AVX2 cores a product at the block's shapes gained only about 1.25x from its
  second thread, and two blocks per step summed a 512-wide network's gradient in 0.87x the time of one
  (paired runs, median of 12; a whole chunk of three such networks, evaluation included, 0.96x). The sum
  is still taken block after block, in the same order, so the numbers are those of one block per step.
- Evaluation renders in blocks of `RENDER_PIXELS`: at 32768 pixels a layer's activations (32 MB) left the
  cache, and a render took 1.09x as long as at 4096 (paired runs, median of 10). The grid's Fourier features
  come from its rows' and columns' sines and cosines by angle addition (`mappings.encode_grid_t`) instead of
  sin and cos per pixel: a Gaussian mapping's render at 256 px in 0.82x the time (median of 12 paired runs).
- The networks run one after another, each with every core and the whole cache; its arithmetic is that of
  training it alone. With several devices the K networks of a width are split among them (`lax.map` over each
  device's share).
- The training pixels are encoded once per run, and a chunk's state is donated (updated in place).

The step of the original notebook, `train_step` (one (pixels, channels) batch through `model.apply`), stays
here as the reference the trainer's `block_train_step` is tested against: same maths, summed in another order.
"""

import dataclasses
import functools
import os
import pathlib
import threading
import time
from typing import Any, Callable, Iterator, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ffn.core import data, mappings
from ffn.core.config import Config
from ffn.core.metrics import mse_to_psnr
from ffn.core.model import MLP, make_model

RENDER_PIXELS = 1 << 12  # pixels per rendering block: bounds the activations of evaluation and keeps them in cache
BLOCK_PIXELS = 1024  # training pixels per gradient block: (width, 1024) floats = 1 MB, a core's L2 cache
ACCELERATOR_BLOCK_PIXELS = 1 << 16  # on a GPU: the paper's whole 512-px training batch in one block (see block_size)
CHAINS = 2  # gradient blocks per step of the sum, computed side by side (one per core on a 2-core machine)
DIVERGED_DB = 3.0  # a train PSNR this far below the untrained network's means training has failed
NETWORKS = "networks"  # the mesh axis the K networks of a group are split along when there are several devices


class TrainState(NamedTuple):
    """Parameters and Adam moments of one network (or of K stacked ones, leading axis K)."""

    params: Any
    opt_state: Any


def loss_fn(params, model: MLP, features, target):
    """The original demo's loss, 0.5 * MSE; features (N, C), target (N, 3)."""
    return 0.5 * jnp.mean((model.apply(params, features) - target) ** 2)


def _adam(state: TrainState, lr, grads) -> TrainState:
    updates, opt_state = optax.adam(lr).update(grads, state.opt_state, state.params)
    return TrainState(optax.apply_updates(state.params, updates), opt_state)


def train_step(state: TrainState, lr, model: MLP, features, target) -> tuple[TrainState, jax.Array]:
    """One full-batch Adam step of one network; returns the new state and the loss before the step.

    The reference: features (N, C), target (N, 3) in one batch, as in the original notebook. The trainer
    runs the same step as `block_train_step`.
    """
    loss, grads = jax.value_and_grad(loss_fn)(state.params, model, features, target)
    return _adam(state, lr, grads), loss


def block_size(pixels: int, platform: str | None = None) -> int:
    """The largest divisor of `pixels` up to the platform's block, so that equal blocks tile the training pixels.

    On a CPU a block is at most BLOCK_PIXELS, to stay in cache. A GPU wants the opposite: products as large as
    its memory allows, since each product is a kernel launch (a step of 64 blocks would launch thousands of
    small ones); there a block is up to ACCELERATOR_BLOCK_PIXELS. Not yet timed on a GPU. `platform` is JAX's
    ("cpu", "gpu", ...), by default that of the default device.
    """
    limit = BLOCK_PIXELS if (platform or jax.default_backend()) == "cpu" else ACCELERATOR_BLOCK_PIXELS
    return max(d for d in range(1, min(pixels, limit) + 1) if pixels % d == 0)


def to_blocks(a: np.ndarray) -> np.ndarray:
    """(N, c) rows of pixels -> (N / block, c, block): the blocks of `block_size(N)` pixels, feature-major."""
    n, c = a.shape
    return np.ascontiguousarray(a.reshape(n // block_size(n), block_size(n), c).transpose(0, 2, 1))


def block_loss_and_grads(params, model, features, target):
    """`loss_fn` and its gradient, summed over blocks: features (nb, C, blk), target (nb, 3, blk).

    A step of the scan takes `CHAINS` consecutive blocks (fewer if nb is not a multiple): their gradients do
    not depend on each other, so XLA computes them concurrently; they are added to the total one after another.
    """
    scale = 0.5 / target.size  # 0.5 * the mean over every pixel and channel
    nb = features.shape[0]
    chains = max(c for c in range(1, CHAINS + 1) if nb % c == 0)

    def block(x, y):
        return jax.value_and_grad(lambda p: scale * jnp.sum((model.apply_t(p, x) - y) ** 2))(params)

    def step(total, batch):
        for x, y in zip(*batch):  # (chains, C, blk), (chains, 3, blk)
            total = jax.tree.map(jnp.add, total, block(x, y))
        return total, None

    zero = jax.tree.map(jnp.zeros_like, (jnp.zeros((), jnp.float32), params))
    steps = lambda a: a.reshape(nb // chains, chains, *a.shape[1:])  # noqa: E731
    return jax.lax.scan(step, zero, (steps(features), steps(target)))[0]


def block_train_step(state: TrainState, lr, model, features, target) -> tuple[TrainState, jax.Array]:
    """`train_step` as the trainer runs it: the same full-batch step on the training pixels in blocks."""
    loss, grads = block_loss_and_grads(state.params, model, features, target)
    return _adam(state, lr, grads), loss


# ---------------------------------------------------------------------------------------------------------
# Chunks and evaluation


def render(params, model: MLP, b, coords):
    """The network's image on a grid: coords (R, R, 2) -> (R, R, 3) float in (0, 1), rendered in blocks of rows.

    `coords` is a grid as `data.coordinates` makes it: point (i, j) is (x_j, y_i), so its Fourier features come
    from the sines and cosines of its row and its column (`mappings.encode_grid_t`).
    """
    size = coords.shape[0]
    rows = max(1, min(size, RENDER_PIXELS // size))
    while size % rows:
        rows -= 1
    if b is None:
        blocks = jnp.swapaxes(coords.reshape(size // rows, rows * size, 2), 1, 2)  # (blocks, 2, rows·R)
        pred = jax.lax.map(lambda c: model.apply_t(params, c), blocks)
    else:
        # The sines and cosines are computed here, once, outside the loop over blocks: inside it XLA would fuse
        # them into the products' operands and compute them again for every pixel.
        columns, (sv, cv) = mappings.grid_waves(coords[0, :, 0], coords[:, 0, 1], b)  # (F, R) each
        blocks = [jnp.swapaxes(a.reshape(-1, size // rows, rows), 0, 1) for a in (sv, cv)]  # (blocks, F, rows)
        pred = jax.lax.map(lambda v: model.apply_t(params, mappings.encode_grid_t(columns, v)), blocks)
    return jnp.swapaxes(pred, 1, 2).reshape(size, size, 3)  # pred: (blocks, 3, rows·R)


def evaluate(params, model: MLP, b, coords, image):
    """Full-grid render of one network, its MSE on the train and test pixels, and the render as uint8."""
    pred = render(params, model, b, coords)
    err = (pred - image) ** 2
    train_mse = jnp.mean(data.train_pixels(err))
    test_mse = jnp.mean(data.test_pixels(err))
    picture = jnp.round(jnp.nan_to_num(pred, nan=0.0) * 255).astype(jnp.uint8)  # (R, R, 3)
    return picture, train_mse, test_mse


def _mesh() -> Mesh | None:
    """The devices the networks of a group are split among; None when there is one."""
    devices = jax.devices()
    return Mesh(np.array(devices), (NETWORKS,)) if len(devices) > 1 else None


def _over_networks(fn: Callable, networks: tuple, shared: tuple):
    """fn(*network, *shared) for each network on the leading axis K of `networks`, one after another.

    With several devices each runs the same loop over its share of the networks (K is a multiple of their
    number, see `make_groups`), so a network's numbers do not depend on how many devices there are.
    """
    each = lambda networks, shared: jax.lax.map(lambda n: fn(*n, *shared), networks)  # noqa: E731
    mesh = _mesh()
    if mesh is None:
        return each(networks, shared)
    spec = PartitionSpec(NETWORKS)
    # check_vma=False: no collectives here, and the check would want every fresh zero (the gradient sums'
    # starting values) marked as varying per device.
    return jax.shard_map(each, mesh=mesh, in_specs=(spec, PartitionSpec()), out_specs=spec, check_vma=False)(networks, shared)


def train_chunk(state: TrainState, lr, b, steps, features, target, coords, image, *, model: MLP):
    """`steps` Adam steps of K stacked networks, then their evaluation.

    Leading axis K on state, lr (K,), b (K, rows, 2) and features (K, nb, C, blk); target (nb, 3, blk) are
    the training pixels' colours in the same blocks. `steps` is traced (a while loop), so one compiled
    program serves every chunk length.
    """

    def one(state, lr, b, features, steps, target, coords, image):
        step = lambda _, s: block_train_step(s, lr, model, features, target)[0]  # noqa: E731
        state = jax.lax.fori_loop(0, steps, step, state)
        return state, evaluate(state.params, model, b, coords, image)

    return _over_networks(one, (state, lr, b, features), (steps, target, coords, image))


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Where a run stands after `step` steps of every mapping."""

    step: int
    iters: int  # the run's total
    elapsed: float  # seconds since the run started, compilation included
    compile_seconds: float  # seconds spent compiling so far
    # An inverse problem's (`ffn.core.inverse`): train = the fit to the measurements, test = the reconstruction.
    train_psnr: dict[str, float]  # spec -> PSNR (dB) on the training pixels [::2, ::2]; NaN once diverged
    test_psnr: dict[str, float]  # spec -> PSNR (dB) on the held-out pixels [1::2, 1::2]
    images: dict[str, np.ndarray]  # spec -> (R, R, 3) uint8 reconstruction on the full grid
    params: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)  # spec -> host copy of its weights
    bases: dict[str, np.ndarray | None] = dataclasses.field(default_factory=dict, repr=False)  # spec -> its B
    initial_train_psnr: dict[str, float] = dataclasses.field(default_factory=dict, repr=False)  # spec -> at step 0

    @property
    def train_seconds(self) -> float:
        """Seconds of training and evaluation, compilation excluded."""
        return self.elapsed - self.compile_seconds

    @property
    def diverged(self) -> list[str]:
        """Specs whose training has failed: a NaN or inf loss, or a train PSNR `DIVERGED_DB` below the untrained
        network's. A sigmoid output never gives NaN: too large a learning rate instead saturates it (or kills
        the ReLUs) and the network sticks at a flat or two-tone picture, worse than where it started."""
        start = self.initial_train_psnr
        return [s for s, v in self.train_psnr.items()
                if not np.isfinite(v) or (self.step > 0 and s in start and v < start[s] - DIVERGED_DB)]

    @property
    def done(self) -> bool:
        return self.step >= self.iters


@dataclasses.dataclass
class Group:
    """Networks of one encoding width trained by one program, on a leading axis K: on one device a single network
    (K = 1); with several devices all the run's networks of that width, K padded to a multiple of their number
    with copies of the last network (the first len(specs) are the run's).
    """

    specs: tuple[str, ...]
    model: MLP
    state: TrainState  # leading axis K
    lr: jax.Array  # (K,)
    b: jax.Array | None  # (K, rows, 2), None for `none`
    features: jax.Array  # (K, nb, C, blk) encoded training coordinates in blocks, computed once per run


def init_state(key, model: MLP, width: int) -> TrainState:
    """Fresh parameters (the paper's initialisation) and Adam moments for inputs of `width` channels.

    Only the weights are drawn: `lazy_init` skips the forward pass that flax's `init` runs on a dummy input, and
    Adam's moments and count start at zero (what `optax.adam(lr).init` gives, for any lr), so a network of a new
    width compiles no small programs on the way (~20 ms each on a CPU; tests/test_train.py holds both to flax
    and optax).

    The same key, model and width give the same weights, so they are drawn once and kept (`MAX_INITIAL` of them; JAX
    arrays cannot be written, and a trainer copies them to the device): flax's tracing costs ~15 ms a call, and a run
    calls this for each network, a Table 1 for each image and seed (every network of a width starts from the same
    weights, `group_networks`). The moments are new zeros each time."""
    ident = (np.asarray(jax.random.key_data(key)).tobytes(), model, width)
    with _INITIALISING:
        entry = _INITIAL.get(ident)
        if entry is None:
            params = model.lazy_init(key, jax.ShapeDtypeStruct((1, width), jnp.float32))
            entry = params, jax.eval_shape(optax.adam(1e-3).init, params)
            if len(_INITIAL) >= MAX_INITIAL:
                _INITIAL.pop(next(iter(_INITIAL)))
            _INITIAL[ident] = entry
    params, moments = entry
    return TrainState(params, jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), moments))


_INITIAL: "dict[tuple, tuple]" = {}  # (key, model, width) -> (weights, the shapes of Adam's moments), oldest out first
_INITIALISING = threading.Lock()
MAX_INITIAL = 32  # the paper's 4×256 network's weights take 1 MB


def copies(tree, k: int):
    """K copies of every array of `tree` along a new leading axis, made on the host as NumPy views (an eager JAX
    broadcast would compile a program per shape); `_put` or `jax.device_put` copies them over."""
    return jax.tree.map(lambda x: np.broadcast_to(np.asarray(x), (k,) + np.shape(x)), tree)


def _put(tree, split: bool):
    """Arrays (NumPy's or JAX's) on the device(s): split along the leading network axis, or the same on every
    device. (`jax.device_put` copies NumPy arrays over as they are: `jnp.asarray` would compile a copy per shape.)"""
    mesh = _mesh()
    if mesh is None:
        return jax.device_put(tree)
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec(NETWORKS) if split else PartitionSpec()))


@jax.jit
def _encode_blocks(b, coords):
    """The K networks' encodings of coordinate blocks: b (K, rows, 2), coords (nb, 2, blk) -> (K, nb, C, blk)."""
    return jax.vmap(lambda b: jax.vmap(lambda c: mappings.encode_t(c, b))(coords))(b)


def make_groups(config: Config, coords) -> list[Group]:
    """The run's networks in groups (`group_networks`), in the order they first appear, each encoding the training
    pixels of the grid `coords` (R, R, 2) (`data.train_pixels`).

    Every network starts from the same weights for its width (one init key per run), and every gauss:σ
    uses σ times the same Gaussian draw, as in the original demo: mappings differ only in the mapping.
    """
    coord_blocks = to_blocks(np.asarray(data.train_pixels(coords)).reshape(-1, 2))  # (nb, 2, blk)
    return group_networks(config, coord_blocks, make_model(config))


def group_networks(config: Config, coord_blocks, model: MLP) -> list[Group]:
    """The run's networks of `model` in groups of one encoding width (one network a group on one device; every
    network of the width with several), each group's inputs the encodings of
    `coord_blocks` (nb, d, blk) (the image trainer's training pixels, or every pixel, or voxel with d = 3, for an
    inverse problem).

    B and the initial weights come from `config.seed` alone (the first half of split(key(seed)) draws the
    shared Gaussian G, the second the weights), so two trainers of the same config start alike.
    """
    dims = coord_blocks.shape[1]
    key_b, key_init = jax.random.split(jax.random.key(config.seed))
    gauss = mappings.gaussian_basis(key_b, config.features, dims)
    by_width: dict[tuple, list[int]] = {}
    for i, m in enumerate(config.parsed):
        by_width.setdefault((m.fourier, m.width(config.features, dims)), []).append(i)
    groups = []
    lrs = config.learning_rates()
    devices = len(jax.devices())
    # One device: a group a network; groups of a width share one compiled program (`compiled` keys on shapes), so
    # a run compiles a program per encoding width whatever its number of mappings, and a later run of that width
    # with other mappings or another σ compiles nothing.
    parts = [(key, idx) for key, same in by_width.items()
             for idx in ([[i] for i in same] if devices == 1 else [same])]
    for (fourier, width), idx in parts:
        k = len(idx) + -len(idx) % devices  # the last network repeated up to a multiple of the devices
        idx_padded = idx + idx[-1:] * (k - len(idx))
        state = copies(init_state(key_init, model, width), k)
        b = np.stack([mappings.basis(config.parsed[i], config.features, gauss) for i in idx_padded]).astype(np.float32) if fourier else None
        features = _encode_blocks(b, coord_blocks) if fourier else copies(coord_blocks, k)
        lr = np.asarray([lrs[i] for i in idx_padded], np.float32)
        groups.append(Group(tuple(config.mappings[i] for i in idx), model, *_put((state, lr, b, features), split=True)))
    return groups


_COMPILED: "dict[tuple, Any]" = {}
MAX_COMPILED = 32  # compiled programs kept for reuse by later runs (each is a few MB)
_COMPILING = threading.Lock()  # one compile at a time: a run waits for warm_up's program instead of compiling it twice
# On a CPU, XLA emits each fusion of the trainer's programs without building it in MLIR first (its older emitters): a
# quarter less compiling and the same training speed; the same numbers, bit for bit on the AVX-512 CPU measured and
# up to float rounding (a PSNR's 7th decimal) under AVX2 code (docs/performance.md, tests/test_bench.py).
CPU_COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def compiled(fn: Callable, model: MLP, donate: bool, *args):
    """The compiled program of fn(*args, model=model) for these argument shapes, and its compile seconds.

    Runs reuse programs compiled by earlier runs of the same shapes (the app's warm start); the cache is
    bounded, oldest out first. `args` may be arrays or `jax.ShapeDtypeStruct`s.
    """
    shapes = jax.tree.map(lambda x: (x.shape, x.dtype), args)
    key = (fn, model, donate, jax.tree.structure(args), tuple(jax.tree.leaves(shapes)))
    with _COMPILING:
        if key in _COMPILED:
            return _COMPILED[key], 0.0
        t0 = time.perf_counter()
        jitted = jax.jit(functools.partial(fn, model=model), donate_argnums=(0,) if donate else ())
        program = _compile(jitted.lower(*args))
        if len(_COMPILED) >= MAX_COMPILED:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = program
    return program, time.perf_counter() - t0


def _compile(lowered):
    """A lowered program compiled, with `CPU_COMPILER_OPTIONS` on a CPU (without them where this JAX lacks one)."""
    if jax.default_backend() != "cpu":
        return lowered.compile()
    try:
        return lowered.compile(compiler_options=CPU_COMPILER_OPTIONS)
    except jax.errors.JaxRuntimeError as e:
        if "No such compile option" not in str(e):
            raise
        return lowered.compile()


def _to_host(tree):
    """Waits for a pytree of arrays and copies it to the host."""
    return jax.device_get(tree)


def _setup(image: np.ndarray, config: Config) -> tuple[list[Group], tuple]:
    """A run's groups and the arrays every group shares: target (nb, 3, blk), coords (R, R, 2), image (R, R, 3)."""
    coords = data.coordinates(config.size)
    target = to_blocks(np.asarray(data.train_pixels(image)).reshape(-1, 3))
    return make_groups(config, coords), _put((target, coords, image), split=False)


def _chunk_args(group: Group, shared: tuple, steps) -> tuple:
    """The arguments of `train_chunk` for a group; `steps` is an int32 scalar on the device(s)."""
    target, coords, image = shared
    return group.state, group.lr, group.b, steps, group.features, target, coords, image


def warm_up(config: Config) -> float:
    """Compiles every program a run of `config` needs, without training; returns the seconds it took.

    Programs depend only on the shapes (size, mappings' widths, depth, width), so an app can call this in a
    background thread at start-up with its default config, and the first run of that shape starts at once.
    """
    groups, shared = _setup(np.zeros((config.size, config.size, 3), np.float32), config)
    steps = _put(np.int32(config.every), split=False)
    return sum(compiled(train_chunk, g.model, True, *_chunk_args(g, shared, steps))[1] for g in groups)


def enable_compilation_cache(path: str | os.PathLike) -> pathlib.Path:
    """Keeps compiled programs on disk in `path`, so a new process skips compiling shapes seen before.

    The app and the bench pass `ffn.serve.env.CACHE_DIR` (FFN_CACHE_DIR, else `.cache/jax` in the repository,
    git-ignored). Process-wide; call it once at start-up, before the first run.
    """
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # ours take 0.1-3 s to compile: keep all
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    from jax.experimental.compilation_cache import compilation_cache

    compilation_cache.reset_cache()  # JAX decides once whether to use the cache; let it decide again
    return path


@dataclasses.dataclass(frozen=True)
class Programs:
    """What `drive` runs on each group: the chunk of training and its arguments.

    `chunk(*chunk_args(group, steps), model=)` returns the new state and its evaluation: (pictures (K, R, R, 3)
    uint8, train MSE (K,), test MSE (K,)). The image trainer's train and test MSEs are those of its training and
    held-out pixels; an inverse problem's (`ffn.core.inverse`) are the measurements' residual and the
    reconstruction's error. A chunk of 0 steps is the step-0 evaluation: one program per group, not two (a
    second program cost a tiny run as much compiling as its whole training).
    """

    chunk: Callable
    chunk_args: Callable[[Group, Any], tuple]  # (group, steps as an int32 scalar on the device(s))


def drive(config: Config, groups: list[Group], programs: Programs, start: float) -> Iterator[Snapshot]:
    """The one training loop: a Snapshot of `groups` at step 0 (the chunk's program run for no steps), then after
    every chunk of `config.every` steps (the last at `config.iters`), each group's program compiled once
    (`compiled`) with its compile time kept apart.

    `start` is the run's `time.perf_counter()` at its beginning (its setup counts in `elapsed`). Closing the
    generator stops all work: a chunk runs only when the next snapshot is asked for.
    """
    compile_seconds = 0.0

    def call(group, *args):
        """Runs the chunk on a group's arrays (its state donated), compiling it first if no earlier run did;
        compile time is kept apart."""
        nonlocal compile_seconds
        program, seconds = compiled(programs.chunk, group.model, True, *args)
        compile_seconds += seconds
        return program(*args)

    bases = {spec: None if g.b is None else np.asarray(g.b[i]) for g in groups for i, spec in enumerate(g.specs)}
    initial: dict[str, float] = {}

    def snapshot(step, results) -> Snapshot:
        # The one host-device sync of a chunk: metrics, pictures and a copy of the weights (donated next chunk).
        results, params = _to_host((results, [g.state.params for g in groups]))
        train, test, images, weights = {}, {}, {}, {}
        for group, (pictures, train_mse, test_mse), p in zip(groups, results, params):
            for i, spec in enumerate(group.specs):
                train[spec] = float(mse_to_psnr(train_mse[i]))
                test[spec] = float(mse_to_psnr(test_mse[i]))
                images[spec] = pictures[i]
                weights[spec] = jax.tree.map(lambda x: x[i], p)
        pick = lambda d: {s: d[s] for s in config.mappings}  # noqa: E731
        if not initial:  # the step-0 train PSNRs, kept for `Snapshot.diverged`
            initial.update(pick(train))
        return Snapshot(step, config.iters, time.perf_counter() - start, compile_seconds,
                        pick(train), pick(test), pick(images), pick(weights), bases, dict(initial))

    def chunk(steps: int) -> list:
        """Every group's evaluation after `steps` more steps (0: as it stands)."""
        steps_dev = _put(np.int32(steps), split=False)
        results = []
        for g in groups:
            g.state, evaluation = call(g, *programs.chunk_args(g, steps_dev))
            results.append(evaluation)
        return results

    yield snapshot(0, chunk(0))
    step = 0
    while step < config.iters:
        steps = min(config.every, config.iters - step)
        results = chunk(steps)
        step += steps
        yield snapshot(step, results)


def run(image: np.ndarray, config: Config) -> Iterator[Snapshot]:
    """Trains every mapping of `config` on `image` ((R, R, 3) float in [0, 1], R = config.size).

    Yields a Snapshot at step 0 (untrained networks) and after every `config.every` steps, the last at
    `config.iters`. Deterministic for a given config and image.
    """
    image = np.asarray(image, np.float32)
    if image.shape != (config.size, config.size, 3):
        raise ValueError(f"Image must be {config.size}×{config.size}×3 for this config (got {image.shape}).")
    start = time.perf_counter()
    groups, shared = _setup(image, config)
    programs = Programs(train_chunk, lambda g, steps: _chunk_args(g, shared, steps))
    yield from drive(config, groups, programs, start)


def train(image: np.ndarray, config: Config, callback: Callable[[Snapshot], None] | None = None) -> Snapshot:
    """Runs a whole run and returns its last snapshot (a convenience for notebooks and tests)."""
    last = None
    for last in run(image, config):
        if callback is not None:
            callback(last)
    return last
