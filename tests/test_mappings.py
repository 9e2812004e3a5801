"""The maths of the paper against slow, obviously-correct references (the config's checks: test_config.py)."""

import math

import jax
import numpy as np
import pytest

from ffn.core import mappings, metrics


def slow_fourier(v, b):
    """γ(v) = [sin 2πBv, cos 2πBv] one point and one row at a time."""
    out = []
    for point in v:
        sins = [math.sin(2 * math.pi * (row[0] * point[0] + row[1] * point[1])) for row in b]
        coss = [math.cos(2 * math.pi * (row[0] * point[0] + row[1] * point[1])) for row in b]
        out.append(sins + coss)
    return np.array(out)


POINTS = np.random.default_rng(0).random((7, 2)).astype(np.float32)


def test_none_is_identity():
    np.testing.assert_array_equal(mappings.encode(POINTS, None), POINTS)


def test_basic_is_sin_cos_of_each_axis():
    b = mappings.basis(mappings.parse("basic"), 256, None)
    got = np.asarray(mappings.encode(POINTS, b))
    want = np.stack([np.sin(2 * np.pi * POINTS[:, 0]), np.sin(2 * np.pi * POINTS[:, 1]),
                     np.cos(2 * np.pi * POINTS[:, 0]), np.cos(2 * np.pi * POINTS[:, 1])], -1)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_posenc_frequencies_are_the_papers():
    b = mappings.basis(mappings.parse("posenc:6"), 16, None)
    freqs = [2 ** (6 * i / 7) - 1 for i in range(8)]  # 2**linspace(0, 6, m/2) - 1
    assert b.shape == (16, 2)
    np.testing.assert_allclose(b[:8, 0], freqs, rtol=1e-6)  # along x ...
    np.testing.assert_array_equal(b[:8, 1], 0)
    np.testing.assert_allclose(b[8:, 1], freqs, rtol=1e-6)  # ... then along y
    np.testing.assert_array_equal(b[8:, 0], 0)
    assert b[7, 0] == pytest.approx(63)


@pytest.mark.parametrize("spec", ["basic", "posenc:5", "gauss:10", "gauss:0.5"])
def test_fourier_encoding_matches_reference(spec):
    gauss = mappings.gaussian_basis(jax.random.key(1), 12)
    b = mappings.basis(mappings.parse(spec), 12, gauss)
    got = np.asarray(mappings.encode(POINTS, b))
    assert got.shape == (7, 2 * b.shape[0])
    np.testing.assert_allclose(got, slow_fourier(POINTS, b), atol=2e-4)


@pytest.mark.parametrize("spec", ["basic", "posenc:6", "gauss:1", "gauss:10", "gauss:100"])
def test_grid_encoding_by_angle_addition_is_as_accurate_as_encoding_each_point(spec):
    """The render's encoding of a grid from its rows' and columns' sines and cosines: the same features, laid
    out row by row as `encode_t` lays out the grid's points, and no further from float64 than `encode_t` is."""
    from ffn.core import data

    b = np.asarray(mappings.basis(mappings.parse(spec), 64, mappings.gaussian_basis(jax.random.key(0), 64)), np.float32)
    grid = data.coordinates(48)  # (48, 48, 2): point (i, j) is (x_j, y_i)
    rows = slice(8, 24)  # some of the grid's rows, as a rendering block takes them
    columns, (sv, cv) = mappings.grid_waves(grid[0, :, 0], grid[:, 0, 1], b)
    got = np.asarray(mappings.encode_grid_t(columns, (sv[:, rows], cv[:, rows])))
    points = grid[rows].reshape(-1, 2)
    direct = np.asarray(mappings.encode_t(points.T, b))
    exact = slow_fourier(points.astype(np.float64), b.astype(np.float64)).T
    assert got.shape == direct.shape == (2 * len(b), 16 * 48)
    scale = 1e-6 * max(1.0, float(np.abs(b).max()))  # float32 phases: their rounding grows with the frequency
    assert np.abs(got - exact).max() < 20 * scale
    assert np.sqrt(np.mean((got - exact) ** 2)) <= 1.1 * np.sqrt(np.mean((direct - exact) ** 2)) + 1e-8


def test_gaussian_scales_share_one_draw():
    gauss = mappings.gaussian_basis(jax.random.key(3), 64)
    b1 = mappings.basis(mappings.parse("gauss:1"), 64, gauss)
    b10 = mappings.basis(mappings.parse("gauss:10"), 64, gauss)
    np.testing.assert_allclose(b10, 10 * b1, rtol=1e-6)
    assert abs(gauss.std() - 1) < 0.2 and abs(gauss.mean()) < 0.2


def test_widths():
    assert [mappings.parse(s).width(256) for s in ("none", "basic", "posenc:6", "gauss:10")] == [2, 4, 512, 512]


@pytest.mark.parametrize("spec,canonical,lr", [
    ("gauss:10", "gauss:10", None), (" Gauss:10.0 ", "gauss:10", None), ("none@1e-2", "none@0.01", 0.01),
    ("posenc:6", "posenc:6", None), ("gaussian:2.5@0.001", "gauss:2.5@0.001", 0.001), ("basic", "basic", None),
])
def test_parse_valid(spec, canonical, lr):
    m = mappings.parse(spec)
    assert m.spec == canonical and m.lr == lr
    assert mappings.parse(m.spec) == m  # the canonical spec round-trips


@pytest.mark.parametrize("spec,words", [
    ("fourier", "Unknown mapping"), ("gauss", "needs a scale"), ("gauss:abc", "must be a number"),
    ("gauss:-1", "positive"), ("gauss:nan", "positive finite"), ("gauss:inf", "positive finite"),
    ("none:3", "takes no scale"), ("gauss:1e9", "at most"), ("none@0", "positive"), ("none@5", "at most 1"),
    ("", "not valid"), (3, "as text"),
])
def test_parse_refuses_with_a_reason(spec, words):
    with pytest.raises(ValueError, match=words):
        mappings.parse(spec)


def test_overfit_warning_depends_on_resolution():
    g10 = mappings.parse("gauss:10")
    assert mappings.overfit_warning(g10, 512) is None
    assert "overfit" in mappings.overfit_warning(g10, 128)
    assert "overfit" in mappings.overfit_warning(mappings.parse("gauss:100"), 512)
    assert mappings.overfit_warning(mappings.parse("none"), 16) is None


def test_psnr():
    assert metrics.mse_to_psnr(0.01) == pytest.approx(20.0)
    assert metrics.mse_to_psnr(1.0) == 0
    assert np.isnan(metrics.mse_to_psnr(float("nan")))
    a = np.zeros((4, 4, 3))
    b = np.full((4, 4, 3), 0.1)
    assert metrics.psnr(a, b) == pytest.approx(20.0)  # MSE 0.01, not 0.5 * MSE
    assert metrics.psnr(a, a) == math.inf
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(a, b[:2])
