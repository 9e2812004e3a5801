"""Training through a measurement operator: the paper's CT and MRI reconstructions, streamed like `train.run`.

The image trainer sums the full-batch gradient over blocks of training pixels, because each pixel's loss is
its own. Here the loss L = ½·mean|A f − y|² ties every pixel of the rendered grid f together, so a step
follows the chain rule ∂L/∂θ = Σ_p (∂L/∂f_p)·(∂f_p/∂θ) in three parts:

1. forward: render f on the whole grid, block by block (every pixel, not only the even ones: A needs them all);
2. the operator: L(f) and its gradient g = ∂L/∂f, an (R, R) cotangent (A, then Aᵀ by `jax.value_and_grad`);
3. backward: for each block, the VJP of the network's output with that block's g, summed over the blocks in
   the image trainer's way (`train.CHAINS` blocks side by side, added one after another).

The network's forward pass runs twice (in part 1, then again inside each block's VJP). Keeping every block's
activations instead would hold R²·width·(depth − 1) floats (800 MB for 4×256 at 512 px); recomputing costs about
a third more arithmetic per step, and a step's memory stays that of one block plus f and g.

The network is the paper's with one output channel (its CT and MRI notebooks end in Dense(1) + sigmoid): the
object is grey. Averaging three RGB channels instead would be another network (a mean of three sigmoids, with
its own NTK), not the paper's. A run yields `train.Snapshot`s with test PSNR = the reconstruction against the
object over all pixels (clipped to [0, 1]) and train PSNR = the fit to the measurements, −10·log10 of the mean
squared measurement residual (`operators.measurement_psnr`).
"""

import dataclasses
import time
from typing import Iterator, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ffn.core import checks, data, operators, phantom, train
from ffn.core.config import PAPER, Config
from ffn.core.model import make_model

KINDS = ("ct", "mri")

# The CT notebook's final settings for its Shepp-Logan set (its `params['shepp']`): 512 px, 1000 steps, lr 1e-2
# for no mapping and the basic one, 1e-3 for the rest, posenc scale 3, Gaussian σ = 4 (docs/inverse-protocol.md).
CT_PROTOCOL = PAPER.replace(mappings=("none@0.01", "basic@0.01", "posenc:3", "gauss:4"), iters=1000)
# The 3D MRI notebook's settings for its Shepp-Logan phantoms: lr 2e-3 for every mapping, posenc scale 4,
# Gaussian σ = 2, 1000 steps, on 96³. Here in 2D at 96 px: σ and posenc count cycles per side, so the same side
# keeps their relation to the grid's Nyquist limit.
MRI_PROTOCOL = PAPER.replace(mappings=("none", "basic", "posenc:4", "gauss:2"), lr=2e-3, iters=1000, size=96)


class Task(NamedTuple):
    """An inverse problem: the operator the network is trained through and the object it should recover.

    A pytree of arrays, passed to the compiled programs as an argument.
    """

    operator: operators.CT | operators.MRI
    measurements: jax.Array  # y = A(obj): (angles, R) float32 for CT, (R, R) (or (R, R, R)) complex64 for MRI
    obj: jax.Array  # (R, R) float32 in [0, 1]; for MRI also a volume (R, R, R)

    def loss(self, image):
        """The paper's ½·mean|A image − y|² for an image of the object's shape: a scalar."""
        return operators.measurement_loss(self.operator, image, self.measurements)


def make_task(kind: str, obj, *, angles: int = operators.CT_ANGLES, fraction: float = operators.MRI_FRACTION,
              seed: int = 0) -> Task:
    """The CT or MRI problem of a grey object: obj (R, R) in [0, 1], R even (see `data.check_size`); for MRI also
    a volume (R, R, R) (axes y, x, z, as `phantom.shepp_logan_3d` draws it).

    kind "ct": `angles` projections (`operators.ct_operator`); "mri": a 2D (or 3D) k-space mask covering
    `fraction` of k-space drawn from `seed` (`operators.mri_operator`). The measurements are the operator
    applied to obj.
    """
    if kind not in KINDS:
        raise ValueError(f"The task must be one of {', '.join(KINDS)} (got {kind!r}).")
    obj = np.asarray(obj, np.float32)
    volume = kind == "mri" and obj.ndim == 3
    if obj.ndim not in (2, 3) or (obj.ndim == 3 and not volume) or len(set(obj.shape)) != 1:
        raise ValueError(f"The object must be a square grey image (R, R){' or a cube (R, R, R)' * (kind == 'mri')} "
                         f"(got shape {obj.shape}).")
    size = data.check_size(obj.shape[0])
    if not np.all((obj >= 0) & (obj <= 1)):
        raise ValueError("The object's values must lie in [0, 1].")
    operator = (operators.ct_operator(size, angles) if kind == "ct"
                else operators.mri_operator(size, obj.ndim, fraction, seed))
    obj = jnp.asarray(obj)
    return Task(operator, operator(obj), obj)


MAX_ANGLES = 1024  # CT projections a problem may ask for
MAX_KSPACE = 0.99  # below the full mask, the largest share a Gaussian mask of the notebook's density covers
PHANTOM = "phantom:"  # an object named 'phantom:SEED' is the paper's random Shepp-Logan phantom of that seed


@dataclasses.dataclass(frozen=True)
class Problem:
    """Which inverse problem, with its settings: everything `make_task` needs besides the object."""

    kind: str = "ct"  # "ct": parallel-beam projections; "mri": a sampled share of k-space
    angles: int = operators.CT_ANGLES  # CT: projections, equally spaced in [0, π) (the notebook's 20)
    kspace: float = operators.MRI_FRACTION  # MRI: the share of k-space sampled (the notebook's 12.5%)
    mask_seed: int = 0  # MRI: draws the mask
    dims: int = 2  # 2: an image; 3: a volume (MRI only; the paper's MRI is 3D)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        set_("kind", checks.one_of(self.kind, "task", KINDS, param="task"))
        set_("angles", checks.whole(self.angles, "angles (CT projections)", 1, MAX_ANGLES, param="angles"))
        kspace = checks.real(self.kspace, "kspace (the share of k-space sampled)", 0.0, 1.0, param="kspace", above=True)
        if MAX_KSPACE < kspace < 1.0:
            raise checks.Invalid(f"kspace (the share of k-space sampled) must be at most {MAX_KSPACE:g}, or 1 for "
                                 f"the full k-space (got {kspace:g}).", "kspace")
        set_("kspace", kspace)
        set_("mask_seed", checks.whole(self.mask_seed, "mask_seed", 0, 2**31 - 1, param="mask_seed"))
        set_("dims", checks.one_of(self.dims, "dims", (2, 3) if self.kind == "mri" else (2,), param="dims"))

    def task(self, obj) -> "Task":
        """This problem for a grey object in [0, 1], (R, R) or with dims 3 (R, R, R) (`make_task`)."""
        if np.ndim(obj) != self.dims:
            raise ValueError(f"This problem needs a {self.dims}D object (got shape {np.shape(obj)}).")
        return make_task(self.kind, obj, angles=self.angles, fraction=self.kspace, seed=self.mask_seed)

    def to_dict(self) -> dict:
        """The settings that matter for this kind, as metrics.json and table1.json write them."""
        if self.kind == "ct":
            return {"kind": "ct", "angles": self.angles}
        volume = {"dims": 3} if self.dims == 3 else {}
        return {"kind": "mri", "kspace": self.kspace, "mask_seed": self.mask_seed, **volume}

    def label(self) -> str:
        """'CT, 20 angles' or 'MRI, 12.5% of k-space'."""
        if self.kind == "ct":
            return f"CT, {self.angles} angle{'s' * (self.angles != 1)}"
        return f"MRI{' in 3D' * (self.dims == 3)}, {100 * self.kspace:.3g}% of k-space"

    def measurement_count(self, size: int) -> int:
        """Real numbers the network is trained on at size px a side: CT's angles × R projections; MRI's sampled
        k-space points, each complex (two numbers; those of a real image come in conjugate pairs)."""
        return self.angles * size if self.kind == "ct" else 2 * max(1, round(self.kspace * size**self.dims))


def load_object(source, size: int, dims: int = 2) -> np.ndarray:
    """The grey object a command or a page names, (size, size) float32 in [0, 1]: 'phantom:SEED' is the paper's
    random modified Shepp-Logan phantom of that seed (`phantom.random_shepp_logan`); anything else is an image
    (`data.load_image`: its centre square at size px) taken as grey (`phantom.grey`). With dims 3 only a phantom
    can be named: the 3D one (`phantom.random_shepp_logan_3d`), (size, size, size)."""
    if isinstance(source, str) and source.startswith(PHANTOM):
        seed = checks.text_number(source[len(PHANTOM):].strip())
        seed = checks.whole(seed, f"The phantom's seed in {source!r}", 0, 2**31 - 1, param="seed")
        if dims == 3:
            return phantom.random_shepp_logan_3d(data.check_size(size), seed)
        return phantom.random_shepp_logan(data.check_size(size), seed)
    if dims == 3:
        raise ValueError(f"A 3D object is a phantom: name it phantom:SEED (got {str(source)!r}).")
    return phantom.grey(data.load_image(source, size))


# ---------------------------------------------------------------------------------------------------------
# The step


def render_blocks(params, model, features):
    """The network's one output channel on blocks of pixels: features (nb, C, blk) -> (nb, blk) in (0, 1)."""
    return jax.lax.map(lambda x: model.apply_t(params, x)[0], features)


def task_loss_and_grads(params, model, features, task: Task):
    """The task's loss and its gradient in the parameters: features (nb, C, blk), every pixel of the R×R grid (or
    voxel of the R³ one) in row-major order, encoded and in blocks (`grid_blocks`).

    Forward over the blocks, the operator's loss and cotangent on the whole grid, then a VJP per block with
    its part of the cotangent, summed as `train.block_loss_and_grads` sums its blocks. Equals
    `jax.value_and_grad` of the loss of the whole rendered grid, up to float32 rounding.
    """
    nb = features.shape[0]
    f = render_blocks(params, model, features)  # (nb, blk)
    loss, cotangent = jax.value_and_grad(lambda f: task.loss(f.reshape(task.obj.shape)))(f)  # (nb, blk)
    chains = max(c for c in range(1, train.CHAINS + 1) if nb % c == 0)

    def block(x, g):
        return jax.vjp(lambda p: model.apply_t(p, x)[0], params)[1](g)[0]

    def step(total, batch):
        for x, g in zip(*batch):  # (chains, C, blk), (chains, blk)
            total = jax.tree.map(jnp.add, total, block(x, g))
        return total, None

    steps = lambda a: a.reshape(nb // chains, chains, *a.shape[1:])  # noqa: E731
    grads = jax.lax.scan(step, jax.tree.map(jnp.zeros_like, params), (steps(features), steps(cotangent)))[0]
    return loss, grads


def task_train_step(state: train.TrainState, lr, model, features, task: Task):
    """One full-batch Adam step through the operator; returns the new state and the loss before the step."""
    loss, grads = task_loss_and_grads(state.params, model, features, task)
    return train._adam(state, lr, grads), loss


def evaluate_task(params, model, features, task: Task):
    """The reconstruction as a grey uint8 picture (R, R, 3) (of a volume: its middle slice, `middle_slice`), its
    mean squared measurement residual and its MSE against the object over all pixels or voxels (clipped to
    [0, 1]), as float32 scalars: `train.Programs`' evaluation."""
    f = render_blocks(params, model, features).reshape(task.obj.shape)
    measurement_mse = 2.0 * task.loss(f)
    reconstruction_mse = jnp.mean((jnp.clip(f, 0.0, 1.0) - task.obj) ** 2)
    picture = jnp.round(jnp.clip(jnp.nan_to_num(middle_slice(f), nan=0.0), 0.0, 1.0) * 255).astype(jnp.uint8)
    return jnp.repeat(picture[..., None], 3, axis=-1), measurement_mse, reconstruction_mse


def task_train_chunk(state, lr, steps, features, task: Task, *, model):
    """`steps` Adam steps of K stacked networks through the task's operator, then their evaluation.

    Leading axis K on state, lr (K,) and features (K, nb, C, blk); `steps` is traced, so one compiled
    program serves every chunk length.
    """

    def one(state, lr, features, steps, task):
        step = lambda _, s: task_train_step(s, lr, model, features, task)[0]  # noqa: E731
        state = jax.lax.fori_loop(0, steps, step, state)
        return state, evaluate_task(state.params, model, features, task)

    return train._over_networks(one, (state, lr, features), (steps, task))


# ---------------------------------------------------------------------------------------------------------
# Runs


def middle_slice(f):
    """What a picture shows of a reconstruction or object: an image (R, R) itself, a volume (R, R, R) its axial
    slice at z index R/2 (the slab's middle, as `phantom.shepp_logan_3d` lays the axes out)."""
    return f if f.ndim == 2 else f[:, :, f.shape[2] // 2]


def coordinates(size: int, dims: int = 2) -> np.ndarray:
    """The input grid: `data.coordinates` (size, size, 2) for an image; for a volume (size, size, size, 3) float32
    in [0, 1), point [i, j, k] = (x_j, y_i, z_k), axes in the order of `phantom.shepp_logan_3d`'s (y, x, z)."""
    if dims == 2:
        return data.coordinates(size)
    c = np.linspace(0, 1, size, endpoint=False)
    y, x, z = np.meshgrid(c, c, c, indexing="ij")
    return np.stack([x, y, z], -1).astype(np.float32)


def grid_blocks(size: int, dims: int = 2) -> np.ndarray:
    """Every pixel's (voxel's) coordinates of the grid (`coordinates`), in row-major order, in blocks: (nb, dims,
    blk) float32, blocks of `train.block_size(size**dims)` consecutive points (so a (nb, blk) render reshapes to
    the object's shape)."""
    return train.to_blocks(coordinates(size, dims).reshape(-1, dims))


def make_task_groups(config: Config, dims: int = 2) -> list[train.Group]:
    """`train.make_groups` for a task: the run's mappings grouped by encoding width, every network with one
    output, encoding every pixel (voxel, with dims 3) of the grid. The same seed gives the same B and initial
    weights for a width as `train.make_groups` in 2D (one Gaussian draw scaled by each σ; one init key)."""
    return train.group_networks(config, np.asarray(grid_blocks(config.size, dims)), make_model(config, outputs=1))


def task_programs(task: Task) -> train.Programs:
    """What `train.drive` runs for a task: `task_train_chunk` on a group's arrays."""
    return train.Programs(task_train_chunk, lambda g, steps: (g.state, g.lr, steps, g.features, task))


def run_task(task: Task, config: Config) -> Iterator[train.Snapshot]:
    """Trains every mapping of `config` through the task's operator (R = config.size, the object's side).

    Yields a `train.Snapshot` at step 0 and after every `config.every` steps, the last at `config.iters`:
    test_psnr is the reconstruction's PSNR against the object over all pixels (voxels), train_psnr the
    measurements' fit (see the module's docstring), images the reconstructions as (R, R, 3) uint8 greys (of a
    volume, its middle slice). Deterministic for a
    given config and task; closing the generator stops all work. The loop is the image trainer's
    (`train.drive`).
    """
    dims = task.obj.ndim
    if task.obj.shape != (config.size,) * dims:
        raise ValueError(f"The object must be {'×'.join([str(config.size)] * dims)} for this config (got "
                         f"{task.obj.shape}).")
    start = time.perf_counter()
    groups = make_task_groups(config, dims)
    yield from train.drive(config, groups, task_programs(train._put(task, split=False)), start)


def train_task(task: Task, config: Config) -> train.Snapshot:
    """A whole run of `run_task`; its last snapshot."""
    last = None
    for last in run_task(task, config):
        pass
    return last
