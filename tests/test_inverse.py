"""The inverse problems: phantoms, the CT and MRI operators against slow references and their physics, the
trainer's gradient through an operator against `jax.grad` of the whole loss, and a tiny reconstruction."""

import cmath
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy import ndimage

from ffn.core import data, inverse, mappings, metrics, ntk, operators, phantom
from ffn.core.config import PAPER
from ffn.core.model import MLP

# ---------------------------------------------------------------------------------------------------------
# Phantoms


def test_textbook_phantom_has_the_published_grey_levels_where_the_table_puts_them():
    image = phantom.random_shepp_logan(64, seed=0, jitter=0.0)
    np.testing.assert_array_equal(image, phantom.shepp_logan(64))

    def at(x, y):  # the pixel whose centre is nearest to (x, y), y up
        return image[int((1 - y) * 32), int((x + 1) * 32)]

    assert at(0.0, -0.5) == pytest.approx(0.2)  # inside the skull: 1 - 0.8
    assert at(0.0, 0.35) == pytest.approx(0.3)  # the ellipse centred at (0, 0.35): + 0.1
    assert at(0.22, 0.0) == pytest.approx(0.0)  # the right ventricle: 0.2 - 0.2
    assert at(0.0, 0.9) == pytest.approx(1.0)  # the skull, between the outer two ellipses (b = 0.92 and 0.874)
    assert at(0.9, 0.9) == 0.0  # outside the head


def test_random_phantoms_are_seeded_jittered_and_in_range():
    a, b, c = (phantom.random_shepp_logan(64, s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, phantom.shepp_logan(64))
    for image in (a, c, phantom.random_shepp_logan(128, 5)):
        assert image.dtype == np.float32 and image.min() >= 0.0 and image.max() <= 1.0
    assert phantom.random_shepp_logan(128, 5).shape == (128, 128)
    table = phantom.jittered(phantom.MODIFIED_SHEPP_LOGAN_2D, seed=3)
    jitter = (table - phantom.MODIFIED_SHEPP_LOGAN_2D) / phantom.JITTER  # 60 draws of N(0, 1)
    assert abs(jitter.mean()) < 0.5 and 0.6 < jitter.std() < 1.4
    with pytest.raises(ValueError, match="even"):
        phantom.random_shepp_logan(63, 0)


def test_3d_phantoms_are_seeded_jittered_and_in_range():
    a, b, c = (phantom.random_shepp_logan_3d(16, s) for s in (1, 1, 2))
    assert a.shape == (16, 16, 16) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, phantom.shepp_logan_3d(16))
    assert a.min() >= 0.0 and a.max() <= 1.0 and 0.05 < a.mean() < 0.5
    volume = phantom.shepp_logan_3d(32)
    assert volume[16, 16, 16] == pytest.approx(0.2)  # the centre: 1 - 0.8
    with pytest.raises(ValueError, match="even"):
        phantom.random_shepp_logan_3d(15, 0)


def test_grey_is_the_luma_of_an_rgb_image():
    rgb = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    expected = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    np.testing.assert_allclose(phantom.grey(rgb), expected, rtol=1e-6)
    np.testing.assert_array_equal(phantom.grey(np.ones((4, 4, 3))), np.ones((4, 4)))
    with pytest.raises(ValueError, match="RGB"):
        phantom.grey(np.ones((4, 4)))


# ---------------------------------------------------------------------------------------------------------
# CT


def slow_ct(image: np.ndarray, angles) -> np.ndarray:
    """The notebook's projections, one pixel at a time: rotate by nearest neighbour (halves away from zero,
    zero outside), then the mean of each column."""
    size = image.shape[0]
    out = np.zeros((len(angles), size))
    for a, theta in enumerate(angles):
        for i in range(size):
            for j in range(size):
                x, y = j / size - 0.5, i / size - 0.5
                c = (x * math.cos(theta) - y * math.sin(theta) + 0.5) * size
                r = (x * math.sin(theta) + y * math.cos(theta) + 0.5) * size
                col = int(math.copysign(math.floor(abs(c) + 0.5), c))
                row = int(math.copysign(math.floor(abs(r) + 0.5), r))
                if 0 <= row < size and 0 <= col < size:
                    out[a, j] += image[row, col] / size
    return out


def test_ct_matches_a_pixel_loop():
    image = np.random.default_rng(1).random((12, 12)).astype(np.float32)
    angles = operators.ct_angles(7)
    op = operators.CT(jnp.asarray(operators.ct_indices(12, angles)))
    np.testing.assert_allclose(op(jnp.asarray(image)), slow_ct(image, angles), atol=1e-6)


def test_ct_matches_the_notebooks_sampler_and_is_a_column_mean_at_zero():
    # The notebook rotates with jax.scipy.ndimage.map_coordinates(order=0) on float32 coordinates.
    image = jnp.asarray(phantom.random_shepp_logan(32, 0))
    size = 32
    centred = jnp.arange(size, dtype=jnp.float32) / size - 0.5
    y, x = jnp.meshgrid(centred, centred, indexing="ij")
    expected = []
    for theta in operators.ct_angles(20):
        cols = (x * jnp.cos(theta) - y * jnp.sin(theta) + 0.5) * size
        rows = (x * jnp.sin(theta) + y * jnp.cos(theta) + 0.5) * size
        expected.append(ndimage.map_coordinates(image, [rows, cols], order=0, mode="constant").mean(axis=0))
    sinogram = operators.ct_operator(size)(image)
    assert sinogram.shape == (20, size)
    np.testing.assert_allclose(sinogram, jnp.stack(expected), atol=1e-6)
    np.testing.assert_allclose(sinogram[0], image.mean(axis=0), atol=1e-6)  # at θ = 0 nothing moves


def chord(r, s):
    """Length of the chord at distance s from the centre of a disk of radius r (0 outside)."""
    return 2 * math.sqrt(max(r * r - s * s, 0.0))


def test_ct_projections_of_a_centred_disk_are_its_chords_at_every_angle():
    size, r = 64, 20.0
    i = np.arange(size)
    disk = ((i[:, None] - size / 2) ** 2 + (i[None, :] - size / 2) ** 2 <= r * r).astype(np.float32)
    sinogram = np.asarray(operators.ct_operator(size)(jnp.asarray(disk))) * size  # pixels along each ray
    slack = math.sqrt(2) / 2  # nearest-neighbour sampling moves a sample point at most this far
    for j in range(size):
        s = j - size / 2
        low, high = chord(r - slack, s) - 1, chord(r + slack, s) + 1  # ±1: the count of lattice points on a chord
        assert np.all((sinogram[:, j] >= low) & (sinogram[:, j] <= high)), (j, sinogram[:, j], chord(r, s))
    err = sinogram - np.array([chord(r, j - size / 2) for j in range(size)])[None, :]
    assert np.abs(err).mean() < 0.6  # and on average within a fraction of a pixel


# ---------------------------------------------------------------------------------------------------------
# MRI


def slow_dft(image: np.ndarray) -> np.ndarray:
    """The unitary DFT over every axis, one coefficient at a time: F[k] = Σ_n x[n]·exp(−2πi k·n/R) / √(R^d)."""
    size, d = image.shape[0], image.ndim
    out = np.zeros(image.shape, complex)
    for k in np.ndindex(image.shape):
        for n in np.ndindex(image.shape):
            out[k] += image[n] * cmath.exp(-2j * math.pi * sum(a * b for a, b in zip(k, n)) / size)
    return out / math.sqrt(size**d)


@pytest.mark.parametrize("shape", [(8, 8), (4, 4, 4)])
def test_mri_matches_a_coefficient_loop(shape):
    image = np.random.default_rng(2).random(shape).astype(np.float32)
    op = operators.mri_operator(shape[0], len(shape), fraction=0.25, seed=1)
    np.testing.assert_allclose(op(jnp.asarray(image)), np.asarray(op.mask) * slow_dft(image), atol=2e-6)


@pytest.mark.parametrize("shape", [(16, 16), (8, 8, 8)])
def test_mri_with_a_full_mask_is_parseval(shape):
    rng = np.random.default_rng(3)
    obj, f = (jnp.asarray(rng.random(shape).astype(np.float32)) for _ in range(2))
    op = operators.mri_operator(shape[0], len(shape), fraction=1.0)
    assert float(jnp.min(op.mask)) == 1.0
    loss = operators.measurement_loss(op, f, op(obj))
    assert float(loss) == pytest.approx(0.5 * float(jnp.mean((f - obj) ** 2)), rel=1e-5)


def test_mri_masks_are_seeded_centred_and_of_the_asked_share():
    a, b, c = operators.mri_mask(64), operators.mri_mask(64), operators.mri_mask(64, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    for mask in (a, c, operators.mri_mask(32, 3), operators.mri_mask(96, fraction=0.3)):
        share = 0.3 if mask.shape == (96, 96) else operators.MRI_FRACTION
        assert mask.sum() == round(share * mask.size) and set(np.unique(mask)) == {0.0, 1.0}
    centred = np.fft.fftshift(a)  # DC at (32, 32)
    assert a[0, 0] == 1.0 and centred[28:37, 28:37].all()  # the low frequencies are all sampled
    assert centred[:8].sum() + centred[:, :8].sum() < centred[24:40, 24:40].sum() / 10  # and few high ones
    with pytest.raises(ValueError, match="fraction"):
        operators.mri_mask(16, fraction=0.0)


def test_mri_mask_width_is_the_notebooks_at_its_size():
    # The 3D notebook draws with covariance 2·96·I at 96³ and covers 12.5%: the same density at the centre and
    # the same share give back its width.
    assert operators.mri_sigma(96, 3, 0.125) == pytest.approx(math.sqrt(2 * 96), rel=0.01)


# ---------------------------------------------------------------------------------------------------------
# Both operators: adjoint, loss, PSNR


def operators_under_test():
    return {
        "ct": (operators.ct_operator(16, 5), (16, 16)),
        "mri2d": (operators.mri_operator(16), (16, 16)),
        "mri3d": (operators.mri_operator(8, 3), (8, 8, 8)),
    }


@pytest.mark.parametrize("name", ["ct", "mri2d", "mri3d"])
def test_the_vjp_is_the_adjoint(name):
    op, shape = operators_under_test()[name]
    rng = np.random.default_rng(4)
    x = jnp.asarray(rng.standard_normal(shape).astype(np.float32))
    ax, pullback = jax.vjp(op, x)
    y = rng.standard_normal(ax.shape)
    if jnp.iscomplexobj(ax):
        y = y + 1j * rng.standard_normal(ax.shape)
    y = jnp.asarray(y, ax.dtype)
    # ⟨Ax, y⟩ = Re Σ Ax·conj(y). JAX's VJP of a real-to-complex map takes a covector and does not conjugate
    # it, so Aᵀy (for the real inner product) is the VJP of conj(y).
    lhs = float(jnp.real(jnp.sum(ax * jnp.conj(y))))
    rhs = float(jnp.sum(x * pullback(jnp.conj(y))[0]))
    assert lhs == pytest.approx(rhs, rel=1e-5, abs=1e-4)


@pytest.mark.parametrize("name", ["ct", "mri2d"])
def test_loss_and_psnrs_are_the_papers(name):
    op, shape = operators_under_test()[name]
    rng = np.random.default_rng(5)
    obj = jnp.asarray(rng.random(shape).astype(np.float32))
    f = jnp.asarray(rng.normal(0.5, 0.4, shape).astype(np.float32))  # overshoots [0, 1] here and there
    y = op(obj)
    residual = np.asarray(op(f)) - np.asarray(y)
    loss = 0.5 * np.mean(np.abs(residual) ** 2)
    assert float(operators.measurement_loss(op, f, y)) == pytest.approx(loss, rel=1e-5)
    assert float(operators.measurement_psnr(op, f, y)) == pytest.approx(-10 * np.log10(2 * loss), abs=1e-4)
    clipped = np.clip(np.asarray(f), 0, 1)
    assert float(operators.reconstruction_psnr(f, obj)) == pytest.approx(metrics.psnr(clipped, obj), abs=1e-4)
    grad = jax.grad(lambda f: operators.measurement_loss(op, f, y))(jnp.zeros(shape))  # finite where A f = y
    assert np.all(np.isfinite(grad))


# ---------------------------------------------------------------------------------------------------------
# The trainer


@pytest.mark.parametrize("kind", ["ct", "mri"])
def test_task_gradient_equals_the_gradient_of_the_whole_loss(kind):
    size, block = 16, 64  # 4 blocks of 64 pixels: two steps of the scan, two chains each
    task = inverse.make_task(kind, phantom.random_shepp_logan(size, 0), angles=5)
    b = jnp.asarray(3.0 * mappings.gaussian_basis(jax.random.key(1), 16))
    coords = data.coordinates(size).reshape(-1, 2)  # every pixel, row by row
    model = MLP(depth=3, width=32, outputs=1)
    params = model.init(jax.random.key(2), jnp.zeros((1, 32)))
    features = mappings.encode(jnp.asarray(coords), b)  # (R², 32)
    blocks = jnp.swapaxes(features.reshape(-1, block, 32), 1, 2)  # (4, 32, 64)

    def whole(p):
        return task.loss(model.apply(p, features).reshape(size, size))

    loss, grads = jax.jit(lambda p: inverse.task_loss_and_grads(p, model, blocks, task))(params)
    ref_loss, ref_grads = jax.value_and_grad(whole)(params)
    assert float(loss) == pytest.approx(float(ref_loss), rel=1e-5)
    for g, r in zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads)):
        assert float(jnp.max(jnp.abs(r))) > 0
        np.testing.assert_allclose(g, r, atol=1e-5 * float(jnp.max(jnp.abs(r))))


def test_task_runs_stream_snapshots_of_the_reconstruction():
    obj = phantom.random_shepp_logan(16, 1)
    task = inverse.make_task("ct", obj)
    config = PAPER.replace(size=16, mappings=("none@0.01", "gauss:2"), iters=12, every=5, width=32, features=8)
    snaps = list(inverse.run_task(task, config))
    assert [s.step for s in snaps] == [0, 5, 10, 12]
    last = snaps[-1]
    for spec in config.mappings:
        picture = last.images[spec]
        assert picture.shape == (16, 16, 3) and picture.dtype == np.uint8
        assert np.array_equal(picture[..., 0], picture[..., 2])  # grey
        # The test PSNR is the reconstruction's against the object, over all pixels (up to 8-bit rounding).
        assert metrics.psnr(picture[..., 0] / 255.0, obj) == pytest.approx(last.test_psnr[spec], abs=0.15)
        assert last.train_psnr[spec] > snaps[0].train_psnr[spec]  # the measurements are fitted better
    again = inverse.train_task(task, config)
    assert again.test_psnr == last.test_psnr and again.train_psnr == last.train_psnr
    with pytest.raises(ValueError, match="32×32"):
        next(inverse.run_task(task, config.replace(size=32)))


def test_a_gaussian_mapping_reconstructs_a_ct_phantom_better_than_none():
    # 32 px, 20 angles, 150 steps of a 4×128 network: about 4 dB apart on seeds 0 and 1 (18 dB against 14).
    task = inverse.make_task("ct", phantom.random_shepp_logan(32, 0))
    config = PAPER.replace(size=32, mappings=("none@0.01", "gauss:2"), iters=150, every=150, width=128, features=64)
    last = inverse.train_task(task, config)
    assert last.test_psnr["gauss:2"] > last.test_psnr["none@0.01"] + 2.0, last.test_psnr


# ---------------------------------------------------------------------------------------------------------
# The infinite-width network through the operator


def slow_matrix(kind: str, op, size: int) -> np.ndarray:
    """A as an explicit matrix on the flattened image: CT by the pixel loop on every unit image; MRI by the DFT's
    formula at the mask's points, real rows then imaginary rows."""
    if kind == "ct":
        angles = operators.ct_angles(int(op.index.shape[0]))
        columns = []
        for p in range(size * size):
            unit = np.zeros(size * size)
            unit[p] = 1.0
            columns.append(slow_ct(unit.reshape(size, size), angles).reshape(-1))
        return np.stack(columns, axis=1)
    n = np.arange(size)
    k1, k2 = np.nonzero(np.asarray(op.mask))  # row-major order
    phase = -2j * np.pi * (k1[:, None, None] * n[None, :, None] + k2[:, None, None] * n[None, None, :]) / size
    rows = (np.exp(phase) / size).reshape(len(k1), -1)
    return np.concatenate([rows.real, rows.imag])


@pytest.mark.parametrize("kind", ["ct", "mri"])
def test_the_ntk_through_the_operator_is_kernel_regression_on_the_measurements(kind):
    size, steps = 16, [0, 7, 40]
    task = inverse.make_task(kind, phantom.random_shepp_logan(size, 2), angles=5, fraction=0.25)
    config = PAPER.replace(size=size, features=16, depth=3)
    a = slow_matrix(kind, task.operator, size)
    np.testing.assert_allclose(operators.matrix(task.operator, size), a, atol=1e-6)
    y = a @ np.asarray(task.obj, np.float64).ravel()  # the measurements, from the explicit matrix
    np.testing.assert_allclose(operators.real_measurements(task.operator, task.measurements), y, atol=1e-5)

    x = ntk.mapped_inputs("gauss:3", data.coordinates(size).reshape(-1, 2), config.features, ntk.run_gauss(config))
    k = ntk.relu_ntk(x, x, config.depth)
    m = a @ k @ a.T
    lam, v = np.linalg.eigh(m)
    ridged = m + ntk.RIDGE * np.mean(np.diag(m)) * np.eye(len(m))
    limit = k @ a.T @ np.linalg.solve(ridged, y)
    # After t steps of gradient descent at η = m/λ_max from f = 0: c_t = V g(Λ) Vᵀ y, g(λ) = (1 − (1 − λ/λ_max)^t)/λ.
    top = lam[-1]
    safe = np.where(lam > 1e-12 * top, lam, 1.0)
    expected = []
    for t in steps:
        g = np.where(lam > 1e-12 * top, (1 - (1 - lam / top) ** t) / safe, t / top)
        expected.append(k @ a.T @ (v @ (g * (v.T @ y))))

    got = ntk.operator_regression(task, "gauss:3", config, steps)
    assert got.shape == (size * size, len(steps) + 1)
    scale = np.abs(limit).max()
    for j, want in enumerate(expected + [limit]):
        np.testing.assert_allclose(got[:, j], want, atol=2e-4 * scale)
    assert np.all(got[:, 0] == 0)  # no step, no change from f = 0
    # The limit fits the measurements (up to the ridge) however little of the object they hold.
    assert np.abs(a @ limit - y).max() < 1e-3 * np.abs(y).max()
    pictures = ntk.operator_predictions(task, "gauss:3", config, [40])
    assert [p.steps for p in pictures] == [40, None] and pictures[1].picture.shape == (size, size, 3)
    assert pictures[1].train_psnr > pictures[0].train_psnr + 5  # the picture is clipped to [0, 1]: not an exact fit
    assert pictures[1].test_psnr == pytest.approx(
        float(operators.reconstruction_psnr(np.clip(limit.reshape(size, size), 0, 1), task.obj)), abs=1e-3)
    with pytest.raises(ValueError, match="limited to 64 px"):
        ntk.operator_size(128)


# ---------------------------------------------------------------------------------------------------------
# 3D MRI: the mappings on 3D coordinates


def test_mappings_take_3d_coordinates_and_keep_their_2d_form():
    two = mappings.posenc_basis(3.0, 8)
    assert two.shape == (8, 2) and np.array_equal(two[:4, 1], np.zeros(4)) and np.array_equal(two[4:, 0], np.zeros(4))
    three = mappings.posenc_basis(3.0, 256, dims=3)  # the MRI notebook's 85 frequencies per axis
    assert three.shape == (255, 3) and np.count_nonzero(three, axis=1).max() == 1
    np.testing.assert_allclose(three[:85, 0], 2.0 ** np.linspace(0, 3, 85) - 1, rtol=1e-6)
    gauss = mappings.gaussian_basis(jax.random.key(0), 16, dims=3)
    assert gauss.shape == (16, 3)
    assert mappings.basis(mappings.parse("basic"), 16, gauss).shape == (3, 3)
    assert [mappings.parse(s).width(256, 3) for s in ("none", "basic", "posenc:3", "gauss:2")] == [3, 6, 510, 512]
    assert [mappings.parse(s).width(256) for s in ("none", "basic", "posenc:3", "gauss:2")] == [2, 4, 512, 512]
    coords = inverse.coordinates(4, 3)
    assert coords.shape == (4, 4, 4, 3) and tuple(coords[1, 2, 3]) == (0.5, 0.25, 0.75)  # (x_j, y_i, z_k)


def test_3d_task_gradient_equals_the_gradient_of_the_whole_loss():
    size, block = 16, 1024  # 4096 voxels: 4 blocks
    task = inverse.make_task("mri", phantom.random_shepp_logan_3d(size, 0), fraction=0.2)
    assert task.measurements.shape == (16, 16, 16) and task.operator.mask.ndim == 3
    b = jnp.asarray(2.0 * mappings.gaussian_basis(jax.random.key(1), 8, dims=3))
    coords = inverse.coordinates(size, 3).reshape(-1, 3)
    model = MLP(depth=3, width=16, outputs=1)
    params = model.init(jax.random.key(2), jnp.zeros((1, 16)))
    features = mappings.encode(jnp.asarray(coords), b)  # (R³, 16)
    blocks = jnp.swapaxes(features.reshape(-1, block, 16), 1, 2)
    np.testing.assert_array_equal(np.asarray(inverse.grid_blocks(size, 3)), np.swapaxes(coords.reshape(-1, block, 3), 1, 2))
    loss, grads = jax.jit(lambda p: inverse.task_loss_and_grads(p, model, blocks, task))(params)
    ref_loss, ref_grads = jax.value_and_grad(lambda p: task.loss(model.apply(p, features).reshape(task.obj.shape)))(params)
    assert float(loss) == pytest.approx(float(ref_loss), rel=1e-5)
    for g, r in zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads)):
        np.testing.assert_allclose(g, r, atol=1e-5 * float(jnp.max(jnp.abs(r))))


def test_a_3d_run_pictures_its_middle_slice_and_scores_the_whole_volume():
    volume = phantom.random_shepp_logan_3d(16, 3)
    problem = inverse.Problem("mri", dims=3)
    config = PAPER.replace(size=16, mappings=("none", "gauss:2"), iters=4, every=2, width=16, features=8)
    last = inverse.train_task(problem.task(volume), config)
    assert last.step == 4 and last.images["gauss:2"].shape == (16, 16, 3)
    group = next(g for g in inverse.make_task_groups(config, 3) if "gauss:2" in g.specs)
    features = group.features[group.specs.index("gauss:2")]
    f = np.asarray(inverse.render_blocks(last.params["gauss:2"], group.model, features)).reshape(volume.shape)
    assert last.test_psnr["gauss:2"] == pytest.approx(float(operators.reconstruction_psnr(f, volume)), abs=1e-3)
    middle = np.round(np.clip(f[:, :, 8], 0, 1) * 255)
    assert np.abs(last.images["gauss:2"][..., 0] - middle).max() <= 1
    with pytest.raises(ValueError, match="needs a 3D object"):
        problem.task(volume[:, :, 0])
    with pytest.raises(ValueError, match="dims must be one of 2"):
        inverse.Problem("ct", dims=3)
    with pytest.raises(ValueError, match="A 3D object is a phantom"):
        inverse.load_object("assets/cat.png", 16, dims=3)
    assert problem.label() == "MRI in 3D, 12.5% of k-space" and problem.to_dict()["dims"] == 3
