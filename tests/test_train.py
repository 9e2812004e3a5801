"""The trainer on tiny images: it learns, it is deterministic, batching changes nothing, and it stops; its fast
step and render equal the plain reference ones."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ffn.core import data, mappings, train
from ffn.core.config import TINY
from ffn.core.model import MLP, make_model

SEED_MARGIN_DB = 0.05  # seeds 0 and 1 give 10-step test PSNRs 0.085 dB apart: far beyond float rounding

def test_snapshots_come_at_step_zero_and_every_chunk(image, monkeypatch):
    monkeypatch.setattr(train, "_COMPILED", {})  # compile afresh, whatever earlier tests compiled
    snaps = list(train.run(image, TINY.replace(iters=12, every=5)))
    assert [s.step for s in snaps] == [0, 5, 10, 12]  # the last chunk is shorter
    last = snaps[-1]
    assert last.done and not snaps[1].done
    assert list(last.test_psnr) == list(TINY.mappings)
    for spec, picture in last.images.items():
        assert picture.shape == (16, 16, 3) and picture.dtype == np.uint8
    assert all(b.elapsed >= a.elapsed for a, b in zip(snaps, snaps[1:]))
    assert last.compile_seconds > 0 and last.train_seconds > 0


def test_loss_goes_down_and_images_change(image):
    config = TINY.replace(mappings=("none", "gauss:2"), lr=1e-2, iters=60, every=20)
    snaps = list(train.run(image, config))
    first, last = snaps[0], snaps[-1]
    for spec in config.mappings:
        assert last.train_psnr[spec] > first.train_psnr[spec] + 3, spec
        assert last.test_psnr[spec] > first.test_psnr[spec] + 3, spec
        # The reported PSNRs are those of the returned pictures (up to 8-bit rounding): so the pictures, too,
        # came more than 3 dB closer to the image.
        for snap in (first, last):
            err = (snap.images[spec] / 255.0 - image) ** 2
            assert -10 * np.log10(err[1::2, 1::2].mean()) == pytest.approx(snap.test_psnr[spec], abs=0.1), spec
            assert -10 * np.log10(err[::2, ::2].mean()) == pytest.approx(snap.train_psnr[spec], abs=0.1), spec


def test_training_together_equals_training_alone(image):
    config = TINY.replace(iters=20, every=10)
    together = train.train(image, config.replace(mappings=("none", "gauss:1", "gauss:3@0.01", "posenc:3", "basic")))
    for spec in ("gauss:3@0.01", "posenc:3", "none"):
        alone = train.train(image, config.replace(mappings=(spec,)))
        assert alone.test_psnr[spec] == together.test_psnr[spec]
        assert alone.train_psnr[spec] == together.train_psnr[spec]
        np.testing.assert_array_equal(alone.images[spec], together.images[spec])


def test_runs_are_deterministic_and_depend_on_the_seed(image):
    config = TINY.replace(iters=10, every=10)
    a, b = train.train(image, config), train.train(image, config)
    c = train.train(image, config.replace(seed=1))
    assert a.test_psnr == b.test_psnr
    np.testing.assert_array_equal(a.images["gauss:2"], b.images["gauss:2"])
    # The seed draws B (the first of its two keys) and so the result: each run's B is its own seed's draw.
    for snap, seed in ((a, 0), (c, 1)):
        key_b, _ = jax.random.split(jax.random.key(seed))
        drawn = np.asarray(mappings.gaussian_basis(key_b, config.features))
        np.testing.assert_allclose(snap.bases["gauss:2"], 2 * drawn, rtol=1e-6)
    assert abs(a.test_psnr["gauss:2"] - c.test_psnr["gauss:2"]) > SEED_MARGIN_DB


def test_per_mapping_learning_rate_matters(image):
    config = TINY.replace(iters=10, every=10)
    last = train.train(image, config.replace(mappings=("gauss:2", "gauss:2@0.01")))
    # Each network trains exactly as a run of its own at its learning rate (the run's lr, or the spec's @lr).
    default = train.train(image, config.replace(mappings=("gauss:2",)))
    faster = train.train(image, config.replace(mappings=("gauss:2",), lr=0.01))
    assert last.train_psnr["gauss:2"] == default.train_psnr["gauss:2"]
    assert last.train_psnr["gauss:2@0.01"] == faster.train_psnr["gauss:2"]
    np.testing.assert_array_equal(last.images["gauss:2@0.01"], faster.images["gauss:2"])
    assert abs(last.train_psnr["gauss:2"] - last.train_psnr["gauss:2@0.01"]) > 1  # and the two rates differ by far


def test_a_diverging_mapping_is_reported_and_the_others_go_on(image):
    last = train.train(image, TINY.replace(mappings=("gauss:2", "gauss:2@1", "gauss:3"), iters=40, every=20, width=64))
    healthy = train.train(image, TINY.replace(mappings=("gauss:2", "gauss:3"), iters=40, every=20, width=64))
    assert last.diverged == ["gauss:2@1"]  # collapsed to a saturated picture, below its untrained PSNR
    # Whatever lr 1 does to its own network, it never touches the others.
    assert last.test_psnr["gauss:2"] == healthy.test_psnr["gauss:2"]
    assert last.test_psnr["gauss:3"] == healthy.test_psnr["gauss:3"]


def test_nan_or_a_collapse_is_reported_as_diverged(image):
    snap = train.Snapshot(5, 10, 1.0, 0.5, {"a": math.nan, "b": 20.0, "c": 9.0}, {"a": math.nan, "b": 19.0, "c": 9.0},
                          {}, initial_train_psnr={"a": 12.0, "b": 12.0, "c": 12.5})
    assert snap.diverged == ["a", "c"]  # c is 3.5 dB below its untrained network
    assert snap.train_seconds == 0.5


def test_closing_the_generator_stops_all_work(image, monkeypatch):
    calls = []
    real = train.compiled

    def counting(*args):
        calls.append(args[0].__name__)
        return real(*args)

    monkeypatch.setattr(train, "compiled", counting)
    run = train.run(image, TINY.replace(iters=1000, every=5))
    next(run), next(run)
    n = len(calls)
    run.close()
    with pytest.raises(StopIteration):
        next(run)
    assert len(calls) == n  # nothing ran after the close
    assert calls == ["train_chunk"] * 4  # step 0 (a chunk of no steps), then one chunk, of each group (none; gauss:2)


def test_wrong_image_shape_is_refused(image):
    with pytest.raises(ValueError, match="16×16×3"):
        next(train.run(image[:8], TINY))


def test_initialisation_is_the_papers():
    model = MLP(depth=4, width=256)
    params = train.init_state(jax.random.key(0), model, 512).params["params"]
    assert [params[f"Dense_{i}"]["kernel"].shape for i in range(4)] == [(512, 256), (256, 256), (256, 256), (256, 3)]
    w = np.asarray(params["Dense_1"]["kernel"])
    assert np.std(w) == pytest.approx(math.sqrt(2 / 512), rel=0.1)  # Glorot: variance 2 / (fan_in + fan_out)
    b = np.concatenate([np.asarray(params[f"Dense_{i}"]["bias"]) for i in range(3)])
    assert np.std(b) == pytest.approx(0.01, rel=0.15)  # biases N(0, 0.01²), not zeros
    assert model.flops_per_point(512) == 2 * (512 * 256 + 2 * 256 * 256 + 256 * 3)


@pytest.mark.parametrize("model", ["relu", "siren"])
def test_a_fresh_state_is_flaxs_init_and_optaxs_adam_exactly(model):
    """`init_state` draws the weights without flax's forward pass and starts Adam at zero without optax: the same
    state, value for value, leaf type for leaf type, as the plain `init` and `optax.adam(lr).init`."""
    net = make_model(TINY.replace(model=model))
    state = train.init_state(jax.random.key(4), net, 10)
    params = net.init(jax.random.key(4), jnp.zeros((1, 10)))
    plain = train.TrainState(params, optax.adam(3e-2).init(params))
    assert jax.tree.structure(state) == jax.tree.structure(plain)
    for ours, theirs in zip(jax.tree.leaves(state), jax.tree.leaves(plain)):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


def test_initial_weights_are_drawn_once_and_training_leaves_them_as_drawn(image, monkeypatch):
    """A network's first weights depend only on the key, the model and its input width: drawn once and kept (flax's
    tracing costs ~15 ms a call, made for every network of a run), and a run, which updates its own copy in place
    (donated buffers), leaves the kept weights exactly as drawn."""
    monkeypatch.setattr(train, "_INITIAL", {})
    config = TINY.replace(mappings=("gauss:2", "posenc:2"), iters=10)
    _, key_init = jax.random.split(jax.random.key(config.seed))
    net, width = make_model(config), 2 * config.features
    first = train.init_state(key_init, net, width)
    drawn = [np.array(leaf) for leaf in jax.tree.leaves(first.params)]
    again = train.init_state(key_init, net, width)
    assert all(a is b for a, b in zip(jax.tree.leaves(first.params), jax.tree.leaves(again.params)))  # kept
    assert len(train._INITIAL) == 1
    list(train.run(image, config))  # two networks of this width trained from these weights
    assert len(train._INITIAL) == 1  # the run drew nothing new
    for kept, before in zip(jax.tree.leaves(train.init_state(key_init, net, width).params), drawn):
        np.testing.assert_array_equal(kept, before)
    monkeypatch.setattr(train, "_INITIAL", {})
    for fresh, before in zip(jax.tree.leaves(train.init_state(key_init, net, width).params), drawn):
        np.testing.assert_array_equal(fresh, before)  # and as a new draw gives them
    assert not any(np.any(m) for m in jax.tree.leaves(again.opt_state))  # Adam starts at zero, count and moments


# ------------------------------------------------------------------ the fast step and render against the plain ones


@pytest.mark.parametrize("model, n", [("relu", 2048), ("siren", 2048), ("relu", 3072)])
def test_block_step_equals_the_reference_step(model, n):
    """The trainer's step (feature-major, summed over blocks) is `train_step` up to float rounding.

    2048 pixels are two blocks, one step of `CHAINS` = 2 side by side; 3072 are three, summed one at a time."""
    config = TINY.replace(mappings=("gauss:2",), model=model)
    net = make_model(config)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(n, 2 * config.features)).astype(np.float32) * 2 - 1
    y = rng.uniform(size=(n, 3)).astype(np.float32)
    state = train.init_state(jax.random.key(0), net, 2 * config.features)
    for _ in range(3):  # Adam's first steps move every weight by about lr: differences would show
        ref, ref_loss = jax.jit(train.train_step, static_argnums=2)(state, 1e-3, net, x, y)
        fast, fast_loss = jax.jit(train.block_train_step, static_argnums=2)(state, 1e-3, net, train.to_blocks(x), train.to_blocks(y))
        assert float(fast_loss) == pytest.approx(float(ref_loss), rel=1e-5)
        for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(fast)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        state = ref


def test_every_product_asks_for_float32():
    """The paper's arithmetic: float32 products, also where JAX would use TF32 (NVIDIA GPUs) by default."""
    net = make_model(TINY)
    params = train.init_state(jax.random.key(0), net, 4).params
    x = train.to_blocks(np.zeros((64, 4), np.float32))
    step = jax.jit(train.block_train_step, static_argnums=2).lower(
        train.TrainState(params, optax.adam(1e-3).init(params)), 1e-3, net, x, train.to_blocks(np.zeros((64, 3), np.float32)))
    dots = [line for line in step.as_text().splitlines() if "dot_general" in line]
    assert dots and all("precision = [HIGHEST, HIGHEST]" in line for line in dots)


def test_render_equals_model_apply():
    config = TINY.replace(size=32)
    net = make_model(config)
    params = train.init_state(jax.random.key(0), net, 2 * config.features).params
    b = np.random.default_rng(0).normal(size=(config.features, 2)).astype(np.float32) * 3
    coords = data.coordinates(32)
    expected = net.apply(params, mappings.encode(coords, b))
    np.testing.assert_allclose(train.render(params, net, b, coords), expected, rtol=1e-5, atol=1e-6)
    plain = train.init_state(jax.random.key(0), net, 2).params  # the `none` mapping: the coordinates themselves
    np.testing.assert_allclose(train.render(plain, net, None, coords), net.apply(plain, coords), rtol=1e-5, atol=1e-6)


def test_blocks_tile_the_training_pixels():
    assert train.block_size(64 * 64) == train.BLOCK_PIXELS
    assert train.block_size(125 * 125) == 625 and train.block_size(64) == 64
    assert train.block_size(256 * 256, "gpu") == 256 * 256 and train.block_size(512 * 512, "gpu") == train.ACCELERATOR_BLOCK_PIXELS
    assert train.block_size(256 * 256, "cpu") == train.BLOCK_PIXELS
    a = np.arange(12 * 5).reshape(12, 5)
    blocks = train.to_blocks(a)
    assert blocks.shape == (1, 5, 12) and np.array_equal(blocks[0].T, a)
