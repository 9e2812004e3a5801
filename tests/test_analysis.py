"""The analysis views' maths against slow references, the σ sweep and SIREN.

The config and the paper's presets are specified in test_config.py, `--sweep` in test_cli.py."""

import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ffn.core import analysis, mappings, train
from ffn.present import plots
from ffn.experiments import sweep
from ffn.core.config import TINY
from ffn.core.model import MLP, Siren
from ffn.present.plots import mapping_colors

SPECS = ("none", "posenc:3", "gauss:2", "gauss:20")  # two encoding widths: two compiled groups
# TINY at another width: the trainer keeps compiled programs for the whole process, and test_train expects
# to be the first to compile TINY's own shapes.
BASE = TINY.replace(width=24)


@pytest.fixture(scope="module")
def run(image):
    """A short run of every kind of mapping: (config, [snapshots])."""
    config = BASE.replace(mappings=SPECS, iters=20, every=10)
    return config, list(train.run(image, config))


def cosine(size, cycles, axis=1):
    """A zero-mean grey cosine of `cycles` periods along x (axis 1) or y (axis 0), as (size, size, 3) in [0, 1]."""
    c = np.arange(size) / size
    wave = 0.5 + 0.4 * np.cos(2 * np.pi * cycles * c)
    grey = np.broadcast_to(wave[None, :] if axis == 1 else wave[:, None], (size, size))
    return np.repeat(grey[:, :, None], 3, axis=2)


# ---------------------------------------------------------------------------------------- mapping kernel


def test_basic_kernel_is_its_closed_form():
    rng = np.random.default_rng(0)
    d = rng.uniform(-0.5, 0.5, (50, 2))
    k = analysis.mapping_kernel(np.eye(2), d)
    np.testing.assert_allclose(k, (np.cos(2 * np.pi * d[:, 0]) + np.cos(2 * np.pi * d[:, 1])) / 2, atol=1e-12)


@pytest.mark.parametrize("spec", ["basic", "posenc:4", "gauss:10"])
def test_mapping_kernel_is_the_dot_product_of_encodings(spec):
    """Against γ(v)ᵀγ(v')/rows, computed point by point: the kernel depends only on v − v'."""
    b = mappings.basis(mappings.parse(spec), 16, mappings.gaussian_basis(jax.random.key(0), 16))
    rng = np.random.default_rng(1)
    v, w = rng.uniform(0, 1, (20, 2)), rng.uniform(0, 1, (20, 2))
    slow = np.empty((20, 20))
    for i in range(20):
        for j in range(20):
            gv = np.asarray(mappings.encode(jnp.asarray(v[i], jnp.float32), b), np.float64)
            gw = np.asarray(mappings.encode(jnp.asarray(w[j], jnp.float32), b), np.float64)
            slow[i, j] = gv @ gw / len(b)
    fast = analysis.mapping_kernel(b, v[:, None, :] - w[None, :, :])
    np.testing.assert_allclose(fast, slow, atol=2e-4)  # float32 encodings of phases up to ~100 rad


def test_kernel_grid_and_slice_layout():
    b = np.array([[3.0, 0.0]])  # varies along x only
    grid = analysis.kernel_grid(b, n=11)
    d = analysis.delta_axis(11)
    assert grid.shape == (11, 11) and d[5] == 0
    np.testing.assert_allclose(grid, np.broadcast_to(np.cos(2 * np.pi * 3 * d)[None, :], (11, 11)), atol=1e-12)
    np.testing.assert_allclose(analysis.kernel_slice(b, n=11), grid[5])
    assert analysis.kernel_slice(np.eye(2), n=201).shape == (201,)
    assert analysis.kernel_grid(None) is None and analysis.kernel_slice(None) is None
    assert analysis.mapping_kernel(None, np.zeros((3, 2))) is None


def test_wider_sigma_means_a_narrower_kernel():
    g = mappings.gaussian_basis(jax.random.key(0), 256)
    width = lambda sigma: (analysis.kernel_slice(sigma * g) > 0.5).mean()  # noqa: E731
    assert width(1) > width(10) > width(100)


# ------------------------------------------------------------------------------- empirical tangent kernel


def test_empirical_ntk_against_full_jacobians():
    """k(v, c) = Σθ ∂f(v)/∂θ ∂f(c)/∂θ with f the mean of R, G, B, from explicit Jacobians."""
    model = MLP(depth=3, width=8)
    b = 3.0 * mappings.gaussian_basis(jax.random.key(1), 4)
    params = model.init(jax.random.key(2), jnp.zeros((1, 8)))
    points = np.random.default_rng(0).uniform(0, 1, (6, 2)).astype(np.float32)
    center = np.array([0.3, 0.7], np.float32)

    @jax.jit
    def grad_at(x):
        g = jax.grad(lambda p: jnp.mean(model.apply(p, mappings.encode(jnp.asarray(x)[None], b))))(params)
        return jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree.leaves(g)])

    gc = np.asarray(grad_at(center), np.float64)
    slow = np.array([np.asarray(grad_at(x), np.float64) @ gc for x in points]) / (gc @ gc)
    np.testing.assert_allclose(analysis.centred_ntk(model, params, b, points, center), slow, rtol=1e-4, atol=1e-6)


def test_ntk_map_is_one_at_the_centre_and_broader_without_a_mapping(run):
    config, snaps = run
    last = snaps[-1]
    spread = {}
    for spec in ("none", "gauss:20"):
        for trained in (False, True):
            k = analysis.ntk_map(config, last, spec, n=16, trained=trained)
            assert k.shape == (16, 16) and np.isfinite(k).all()
            assert k[8, 8] == pytest.approx(1.0, abs=1e-5)  # pixel (8, 8) is the centre (0.5, 0.5)
        spread[spec] = (analysis.ntk_map(config, last, spec, n=16, trained=False) > 0.5).mean()
    assert spread["none"] > 0.9 > 0.5 > spread["gauss:20"]  # spectral bias: `none` correlates everything


def test_initial_params_are_the_runs_step_zero_weights(run):
    config, snaps = run
    for spec in ("none", "posenc:3", "gauss:2"):
        same = jax.tree.map(np.array_equal, analysis.initial_params(config, spec), snaps[0].params[spec])
        assert all(jax.tree.leaves(same)), spec


# ------------------------------------------------------------------------------------------------ spectra


def test_log_spectrum_of_a_cosine_peaks_at_its_frequency():
    size, k = 32, 5
    for axis, where in ((1, (16, 16 + k)), (0, (16 + k, 16))):
        spec = analysis.log_spectrum(cosine(size, k, axis))
        assert spec.shape == (size, size) and spec.min() >= 0 and spec.max() <= 1
        spec[16, 16] = 0  # the mean (zero frequency) sits in the middle
        peaks = set(zip(*np.nonzero(spec == spec.max())))
        assert peaks == {where, (2 * 16 - where[0], 2 * 16 - where[1])}
    flat = analysis.log_spectrum(np.full((8, 8, 3), 255, np.uint8))
    assert flat[4, 4] == 1.0 and flat.sum() == 1.0  # all energy at zero frequency, the rest at the floor


def test_radial_power_of_a_cosine_peaks_at_its_radius():
    freqs, power = analysis.radial_power(cosine(32, 6))
    assert freqs.shape == power.shape == (17,)
    np.testing.assert_array_equal(freqs, np.arange(17))
    assert np.argmax(power[1:]) + 1 == 6
    assert power[0] == pytest.approx(0.5 ** 2)  # the squared mean
    # Parseval: the ring's total power (its mean times its size) is the variance of the image.
    _, counts = np.unique(np.rint(np.hypot(*np.meshgrid(np.fft.fftfreq(32) * 32, np.fft.fftfreq(32) * 32))), return_counts=True)
    assert power[6] * counts[6] == pytest.approx(np.var(0.4 * np.cos(2 * np.pi * 6 * np.arange(32) / 32)))


# ------------------------------------------------------------------------------------ slices and errors


def test_row_slice_picks_the_row():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 1, (8, 8, 3))
    recon = {"a": (truth * 255).astype(np.uint8), "b": truth * 0.5}
    rows = analysis.row_slice(recon, truth, 3)
    assert list(rows) == ["a", "b", analysis.GROUND_TRUTH]
    np.testing.assert_allclose(rows[analysis.GROUND_TRUTH], truth[3].mean(-1))
    np.testing.assert_allclose(rows["b"], 0.5 * truth[3].mean(-1))
    np.testing.assert_allclose(rows["a"], recon["a"][3].mean(-1) / 255)
    np.testing.assert_allclose(analysis.row_slice(recon, truth, 7, channel=0)["b"], 0.5 * truth[7, :, 0])
    for bad in (8, -1, 2.0, True):
        with pytest.raises(ValueError, match="row must be"):
            analysis.row_slice(recon, truth, bad)


def test_error_maps_share_one_scale():
    truth = np.full((4, 4, 3), 0.5)
    low, high = truth.copy(), truth.copy()
    low[0, 0] += 0.1
    high[1, 1] -= 0.2
    maps, vmax = analysis.error_maps({"perfect": truth, "low": low, "high": high}, truth)
    assert vmax == pytest.approx(0.2)
    assert all(m.shape == (4, 4, 3) and m.dtype == np.uint8 for m in maps.values())
    dark, bright = analysis.colormap(0.0), analysis.colormap(1.0)
    assert (maps["perfect"] == dark).all()
    np.testing.assert_array_equal(maps["high"][1, 1], bright)
    np.testing.assert_array_equal(maps["low"][0, 0], analysis.colormap(0.5))  # half the common maximum
    assert (maps["low"][1:] == dark).all()
    _, vmax = analysis.error_maps({"perfect": (truth * 255).astype(np.uint8)}, (truth * 255).astype(np.uint8))
    assert vmax == pytest.approx(1 / 255)  # never 0: a perfect fit is all dark, not a division by zero


def test_colormap_is_viridis_and_monotonic_in_lightness():
    c = analysis.colormap(np.linspace(0, 1, 50)).astype(float)
    np.testing.assert_array_equal(c[0], [0x44, 0x01, 0x54])
    np.testing.assert_array_equal(c[-1], [0xFD, 0xE7, 0x25])
    luma = c @ [0.299, 0.587, 0.114]
    assert (np.diff(luma) > 0).all()


# ------------------------------------------------------------------------------------------------- zooms


def test_zoom_holds_the_training_grid(run):
    config, snaps = run
    last = snaps[-1]
    for spec in ("none", "gauss:20"):
        fine = analysis.zoom(config, last, spec, 2)
        assert fine.shape == (32, 32, 3) and fine.dtype == np.uint8
        diff = np.abs(fine[::2, ::2].astype(int) - last.images[spec].astype(int))
        assert diff.max() <= 1  # the coarse grid is a subset of the fine one; only 8-bit rounding differs
    with pytest.raises(ValueError, match="Zoom factor"):
        analysis.zoom(config, last, "none", 0)
    with pytest.raises(ValueError, match="no mapping"):
        analysis.zoom(config, last, "gauss:3", 2)


def test_bicubic_upscale_lines_up_with_the_networks_grid(image):
    up = analysis.bicubic_upscale(image, 4)
    assert up.shape == (64, 64, 3) and up.dtype == np.uint8
    np.testing.assert_array_equal(up[::4, ::4], analysis.to_uint8(image))  # sample k lands on pixel 4k
    ramp = np.tile((np.arange(16) * 10 + 50)[None, :, None], (16, 1, 3)).astype(np.uint8)
    out = analysis.bicubic_upscale(ramp, 4)[5, 8:48, 0]  # bicubic reproduces a ramp away from the edges
    np.testing.assert_allclose(out, 50 + 10 * np.arange(8, 48) / 4, atol=0.5)
    fair = analysis.bicubic_from_training_pixels(image, 2)
    assert fair.shape == (32, 32, 3)
    np.testing.assert_array_equal(fair[::4, ::4], analysis.to_uint8(image)[::2, ::2])


# ---------------------------------------------------------------------------------------------- σ sweep


def test_sweep_config_is_log_spaced_rounded_and_unique():
    config = sweep.sweep_config(BASE, 1, 100, 5)
    assert config.mappings == ("gauss:1", "gauss:3.16", "gauss:10", "gauss:31.6", "gauss:100")
    assert (config.size, config.width, config.lr) == (BASE.size, BASE.width, BASE.lr)
    sigmas = sweep.sweep_sigmas(1, 1.01, 10)  # 3 significant digits leave two values
    assert sigmas == (1.0, 1.01)
    assert sweep.sweep_sigmas(0.5, 2, 3) == (0.5, 1.0, 2.0)
    for args, words in (((0, 1, 3), "sigma_min must be above 0 (got 0)."),
                        ((2, 1, 3), "The sweep's sigma_min must be below its sigma_max (got 2 and 1)."),
                        ((1, 2, 1), "n (how many σ) must be at least 2 (got 1)."),
                        ((1, 2, 25), "n (how many σ) must be at most 24 (got 25)."),
                        ((1, 2, 2.5), "n (how many σ) must be a whole number (got 2.5)."),
                        ((math.nan, 2, 3), "sigma_min must be a finite number (got nan)."),
                        ((1, math.inf, 3), "sigma_max must be a finite number (got inf)."),
                        ((1, 1e5, 3), "sigma_max must be at most 10000 (got 100000.0)."),
                        ((1, 1.001, 5), "gives only one scale")):
        with pytest.raises(ValueError, match=re.escape(words)):
            sweep.sweep_config(BASE, *args)


def test_a_sweep_trained_together_equals_each_sigma_alone(image):
    config = sweep.sweep_config(BASE.replace(iters=10, every=10), 1, 8, 3)
    together = train.train(image, config)
    summary = sweep.summarise_sweep(together)
    assert summary["sigmas"] == [1.0, 2.83, 8.0]
    for sigma, train_psnr, test_psnr in zip(summary["sigmas"], summary["final_train_psnr"], summary["final_test_psnr"]):
        spec = f"gauss:{sigma:g}"
        alone = train.train(image, config.replace(mappings=(spec,)))
        assert alone.test_psnr[spec] == test_psnr and alone.train_psnr[spec] == train_psnr
        np.testing.assert_array_equal(alone.images[spec], together.images[spec])
    best = summary["sigmas"][int(np.argmax(summary["final_test_psnr"]))]
    assert summary["best_sigma"] == best


def test_summarise_sweep_is_nan_safe_and_json_ready():
    snap = train.Snapshot(5, 10, 1.0, 0.5, {"gauss:10": 30.0, "gauss:1": 20.0, "none": 15.0, "gauss:100": math.nan},
                          {"gauss:10": 22.0, "gauss:1": 19.0, "none": 25.0, "gauss:100": math.nan}, {})
    summary = sweep.summarise_sweep(snap)
    assert summary == {"step": 5, "iters": 10, "sigmas": [1.0, 10.0, 100.0], "final_train_psnr": [20.0, 30.0, None],
                       "final_test_psnr": [19.0, 22.0, None], "best_sigma": 10.0,
                       "plateau": [10.0, 10.0]}  # `none` is not part of it; no other σ within 0.2 dB of the best
    json.dumps(summary, allow_nan=False)
    nan = {"gauss:1": math.nan, "gauss:2": math.nan}
    assert sweep.summarise_sweep(train.Snapshot(5, 5, 1.0, 0.5, nan, nan, {}))["best_sigma"] is None


# ------------------------------------------------------------------------------------------------- SIREN


def test_siren_initialisation_is_the_papers():
    w0, width = 30.0, 256
    model = Siren(depth=4, width=width, w0=w0)
    params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 2)))["params"]
    first, hidden = np.asarray(params["Dense_0"]["kernel"]), np.asarray(params["Dense_1"]["kernel"])
    assert np.abs(first).max() <= 1 / 2 and np.std(first) == pytest.approx(0.5 / math.sqrt(3), rel=0.1)
    limit = math.sqrt(6 / width) / w0
    assert np.abs(hidden).max() <= limit and np.std(hidden) == pytest.approx(limit / math.sqrt(3), rel=0.05)
    assert np.abs(np.asarray(params["Dense_3"]["kernel"])).max() <= limit
    assert np.abs(np.asarray(params["Dense_1"]["bias"])).max() <= 1 / math.sqrt(width)
    # w0·W has unit-ish pre-activations in the hidden layers, so activations stay spread over [-1, 1].
    x = np.random.default_rng(0).uniform(0, 1, (1024, 2)).astype(np.float32)
    out = np.asarray(jax.jit(model.apply)({"params": params}, x))
    assert out.shape == (1024, 3) and out.min() >= 0 and out.max() <= 1


def test_siren_output_is_clipped_but_its_gradient_is_not():
    model = Siren(depth=2, width=4, w0=30.0)
    params = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    params["params"]["Dense_1"]["bias"] = jnp.full((3,), 5.0)  # output far above 1
    x = jnp.zeros((1, 2))
    assert np.allclose(jax.jit(model.apply)(params, x), 1.0)
    grad = jax.jit(jax.grad(lambda p: jnp.sum((model.apply(p, x) - 0.5) ** 2)))(params)
    assert np.all(np.asarray(grad["params"]["Dense_1"]["bias"]) > 0)  # still pushed back towards the target


def test_siren_learns_a_tiny_image_faster_than_the_relu_network(image):
    config = BASE.replace(mappings=("none",), iters=60, every=60)
    relu = train.train(image, config)
    siren = train.train(image, config.replace(model="siren"))
    assert siren.train_psnr["none"] > relu.train_psnr["none"] + 10
    assert siren.test_psnr["none"] > relu.test_psnr["none"] + 3


# -------------------------------------------------------------------------------------------------- views


def test_views_build_fast_figures_with_the_runs_colours(run, image):
    config, snaps = run
    last = snaps[-1]
    colors = mapping_colors(config.mappings)
    figs = {
        "kernels": plots.kernel_slices_figure(last.bases, colors=colors),
        "kernel": plots.kernel_heatmap_figure(last.bases["gauss:2"], "gauss:2"),
        "no kernel": plots.kernel_heatmap_figure(None, "none"),
        "ntk": plots.ntk_heatmap_figure(analysis.ntk_map(config, last, "gauss:2", n=8), "gauss:2"),
        "spectra": plots.radial_power_figure(last.images, image, colors=colors),
        "row": plots.row_slice_figure(last.images, image, 8, colors=colors),
        "sweep": plots.sweep_figure({"sigmas": [1, 3, 10], "final_train_psnr": [20, 25, None],
                                     "final_test_psnr": [19, 21, None], "best_sigma": 3}),
    }
    for name, fig in figs.items():
        assert fig.layout.template.layout.to_plotly_json() == {}, name
        assert fig.layout.height == 320, name
        json.loads(fig.to_json(), parse_constant=lambda c: pytest.fail(f"{name}: bare {c} in JSON"))
    kernels = figs["kernels"]
    assert [t.name for t in kernels.data] == list(SPECS[1:])  # `none` has no kernel: named in a note instead
    assert "none" in kernels.layout.annotations[0].text
    assert [t.line.color for t in kernels.data] == [colors[s] for s in SPECS[1:]]
    spectra = figs["spectra"]
    assert [t.name for t in spectra.data] == [*SPECS, analysis.GROUND_TRUTH] and spectra.layout.yaxis.type == "log"
    assert [t.line.color for t in spectra.data[:-1]] == [colors[s] for s in SPECS]
    row = figs["row"]
    assert [t.name for t in row.data] == [*SPECS, analysis.GROUND_TRUTH, "training pixels"]
    np.testing.assert_allclose(row.data[-1].y, image[8, ::2].mean(-1))
    sweep_fig = figs["sweep"]
    assert sweep_fig.layout.xaxis.type == "log"
    assert sweep_fig.data[-1].name == "best σ = 3" and list(sweep_fig.data[-1].x) == [3]
