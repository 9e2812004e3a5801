"""The 1D lab: its maths against slow references, the trained networks against the NTK's prediction, the CLI.

One training run (module fixture, 2000 gradient-descent steps of `none` and `gauss:10` side by side on sines at
2, 8 and 24 cycles, 128 points, width 256) serves the acceptance tests (a) and (b); the CLI test reuses its
shapes. The tests of the gap between network and kernel train their own: the lab's defaults (width 1024) and a
lone sine at widths 256 and 2048, the costliest runs here.
"""

import json
import math

import numpy as np
import pytest

from ffn import lab1d as lab1d_cli
from ffn.core import checks, ntk
from ffn.experiments import lab1d

FREQS = (2, 8, 24)
RUN = lab1d.LabConfig(mappings=("none", "gauss:10"), target=lab1d.Target("sines", FREQS), points=128,
                      steps=2000, every=25, width=256)


@pytest.fixture(scope="module")
def run():
    return lab1d.train(RUN)


# ---------------------------------------------------------------------------------------------------------
# Maths against slow references


def test_frequency_spectrum_is_rayleigh_quotient_and_dft_of_a_circulant_row():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 16))
    k = a @ a.T  # any symmetric kernel matrix
    x = np.arange(16) / 16
    slow = [np.real(np.conj(u) @ k @ u) for u in (np.exp(2j * np.pi * f * x) / 4 for f in range(9))]
    np.testing.assert_allclose(lab1d.frequency_spectrum(k), slow, rtol=1e-12, atol=1e-12)
    row = rng.standard_normal(16)
    row = row + np.roll(row[::-1], 1)  # symmetric: row[j] = row[-j]
    circulant = np.stack([np.roll(row, i) for i in range(16)])
    np.testing.assert_allclose(lab1d.frequency_spectrum(circulant), np.real(np.fft.fft(row))[:9], rtol=1e-10, atol=1e-10)


def test_theory_residuals_equal_repeated_gradient_steps():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((12, 12))
    k = a @ a.T
    theory = lab1d.Theory.of(k)
    eta = 1.5 * 12 / theory.lambda_max  # 0.75 of the stability limit: some factors are negative
    r = r0 = rng.standard_normal(12)
    slow = [r0]
    for _ in range(7):
        r = r - eta * k @ r / 12
        slow.append(r)
    np.testing.assert_allclose(theory.residuals(r0, eta, range(8)), slow, rtol=1e-9, atol=1e-12)


def test_encoding_kernel_is_normalised_and_stationary():
    v = np.arange(32) / 32
    for spec in ("basic", "posenc:4", "gauss:3", "power:1", "power:0"):
        ab = lab1d.features_of(lab1d.parse(spec), 32, 16, np.linspace(-1, 1, 16))
        x = lab1d.encode(v, ab)
        a, b = ab
        expected = (a ** 2 * np.cos(2 * np.pi * np.subtract.outer(v, v)[..., None] * b)).sum(-1) / (a ** 2).sum()
        np.testing.assert_allclose(x @ x.T / x.shape[1], expected, atol=1e-12, err_msg=spec)
    assert np.allclose(lab1d.encode(v, None)[:, 0], 2 * v - 1)


def test_power_inf_is_basic():
    basic = lab1d.features_of(lab1d.parse("basic"), 64, 16, np.zeros(16))
    inf = lab1d.features_of(lab1d.parse("power:inf"), 64, 16, np.zeros(16))
    assert all(np.array_equal(p, q) for p, q in zip(basic, inf))
    assert lab1d.parse("power:inf").spec == "power:inf"


def test_padded_inputs_give_the_same_network_and_kernel():
    import jax
    import jax.numpy as jnp

    v = np.arange(8) / 8
    x = lab1d.encode(v, lab1d.features_of(lab1d.parse("basic"), 8, 4, np.zeros(4)))  # d0 = 2
    model = ntk.NTKMLP(depth=3, width=32, bias_std=lab1d.BIAS_STD)
    params = model.init(jax.random.key(0), jnp.zeros((1, 6)))
    narrow = jax.tree.map(lambda p: p, params)
    narrow["params"]["w0"] = params["params"]["w0"][:2]  # the d0-input network made of W's first rows
    wide = np.asarray(model.apply(params, lab1d.padded_inputs(x, 6)))
    np.testing.assert_allclose(wide, np.asarray(model.apply(narrow, x.astype(np.float32))), rtol=1e-5, atol=1e-6)


def test_targets():
    y = lab1d.target_signal(lab1d.Target("sines", (3, 5), (1.0, -0.5)), 64)
    v = np.arange(64) / 64
    np.testing.assert_allclose(y, np.sin(6 * np.pi * v) - 0.5 * np.sin(10 * np.pi * v), atol=1e-12)
    p = lab1d.target_signal(lab1d.Target("powerlaw", seed=3), 256)
    assert p.min() == -0.5 and p.max() == 0.5
    assert np.all(np.abs(np.fft.rfft(p)[64:]) < 1e-9)  # band-limited below the training grid's Nyquist frequency
    assert np.array_equal(p, lab1d.target_signal(lab1d.Target("powerlaw", seed=3), 256))  # seeded
    sq = lab1d.target_signal(lab1d.Target("square", square_freq=4), 64)
    assert set(sq) == {-0.5, 0.5} and np.array_equal(sq[:8], [0.5] * 8)


# ---------------------------------------------------------------------------------------------------------
# The acceptance criteria of the 1D lab


def test_a_gauss10_measured_residuals_follow_the_ntk_prediction(run):
    """(a) gauss:10, sines at 2, 8, 24 cycles, width 256: where the predicted residual is between 1e-3 (above
    float32's floor) and 0.5 (far enough from 1 to have a rate), the measured log-residual is 0.6-1.4 times the
    predicted one (the same rate within 40%, a finite network's NTK is off by about 1/√width), and the slowest
    frequency, 24 cycles, is the slowest in both."""
    meas, pred = run.measured["gauss:10"], run.predicted["gauss:10"]
    assert meas.shape == pred.shape == (2000 // 25 + 1, 3)
    window = (pred > 1e-3) & (pred < 0.5)
    assert window.sum(0).min() >= 3  # every frequency has points to compare
    ratio = np.log(meas[window]) / np.log(pred[window])
    assert ratio.min() > 0.6 and ratio.max() < 1.4, ratio
    early = np.argmax(np.all(pred < 0.5, axis=1))  # the first snapshot where every frequency has moved
    assert np.argmax(meas[early]) == np.argmax(pred[early]) == 2


def test_b_no_mapping_learns_2_cycles_but_not_24(run):
    """(b) no mapping, after 2000 steps: the 24-cycle component keeps more than half of its initial residual,
    the 2-cycle one has lost more than 90%; the NTK predicts the same."""
    meas, pred = run.measured["none"][-1], run.predicted["none"][-1]
    assert run.step == 2000
    assert meas[0] < 0.1 and meas[2] > 0.5, meas
    assert pred[0] < 0.1 and pred[2] > 0.5, pred


def test_run_snapshots_and_losses(run):
    assert run.history_steps[0] == 0 and run.history_steps[-1] == 2000
    for spec in run.specs:
        assert run.fits[spec].shape == (128,)
        assert run.train_mse[spec][-1] < run.train_mse[spec][0]
        np.testing.assert_allclose(run.measured[spec][0], 1.0)
    assert run.train_mse["gauss:10"][-1] < 1e-3


def test_c_power_law_family_spectrum_falls_faster_with_p():
    """(c) b_j = j, a_j = j^-p: the larger p, the faster the NTK's eigenvalues fall with frequency; measured as
    λ_f / λ_1 at f = 4, 8, 16, 31, strictly decreasing along p = 0, 0.5, 1, 1.5, 2, inf."""
    v = np.arange(64) / 64
    falls = []
    for p in ("0", "0.5", "1", "1.5", "2", "inf"):
        lam = lab1d.frequency_spectrum(lab1d.ntk_matrix(lab1d.parse(f"power:{p}"), v, 4, 64, 32, np.zeros(32)))
        assert np.all(lam > 0)
        falls.append(lam[[4, 8, 16, 31]] / lam[1])
    falls = np.array(falls)
    assert np.all(np.diff(falls, axis=0) < 0), falls
    assert falls[0, -1] > 0.9  # p = 0: a flat spectrum


# ---------------------------------------------------------------------------------------------------------
# Command line and refusals


def test_d_cli_writes_json_and_html(tmp_path, capsys):
    code = lab1d_cli.main(["--freqs", "2", "8", "24", "--mappings", "none", "gauss:10", "--steps", "50", "--every", "25",
                       "--points", "128", "--width", "256", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "gauss:10" in printed and "wrote lab1d.json, lab1d.html" in printed
    data = json.loads((tmp_path / "lab1d.json").read_text())
    assert list(data["mappings"]) == ["none", "gauss:10"]
    for entry in data["mappings"].values():
        assert entry["freqs"] == [2, 8, 24] and entry["steps"] == [0, 25, 50]
        assert np.shape(entry["measured"]) == np.shape(entry["predicted"]) == (3, 3)
        assert entry["measured"][0] == [1.0, 1.0, 1.0]
        assert math.isfinite(entry["final_train_mse"]) and math.isfinite(entry["final_test_mse"])
    page = (tmp_path / "lab1d.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in page and len(page) > 1_000_000


@pytest.mark.parametrize("argv, sentence", [
    (["--mappings", "gauss"], "Mapping 'gauss' needs a scale, e.g. 'gauss:10'."),
    (["--mappings", "fourier:3"], "Unknown mapping 'fourier:3'."),
    (["--mappings", "power:-1"], "In mapping 'power:-1', the power p must be at least 0 (got -1)."),
    (["--freqs", "2", "40", "--points", "128"], "freqs (cycles per unit, below 32 for 128 points) must be at most 31 (got 40)."),
    (["--steps", "0"], "steps must be at least 1 (got 0)."),
    (["--width", "abc"], "width must be a whole number (got 'abc')."),
    (["--points", "100"], "points (grid size N) must be one of 64, 128, 256, 512, 1024 (got 100)."),
    (["--optimizer", "sgd"], "optimizer must be one of gd, adam (got 'sgd')."),
    (["--amps", "1", "2"], "amps must give one amplitude per frequency (3), or none (got 2)."),
])
def test_e_bad_values_are_refused_with_a_sentence(argv, sentence, capsys):
    assert lab1d_cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m ffn.lab1d: error: ") and sentence in err and "\n" not in err


def test_e_refusals_are_checks_invalid():
    with pytest.raises(checks.Invalid, match="step_fraction"):
        lab1d.LabConfig(step_fraction=2.0)
    with pytest.raises(checks.Invalid, match="At most 8 mappings"):
        lab1d.LabConfig(mappings=tuple(f"gauss:{s}" for s in range(1, 10)))


def test_cli_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as done:
        lab1d_cli.parse_args(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m ffn.lab1d")
    for flag in ("--target", "--freqs", "--amps", "--alpha", "--square-freq", "--optimizer", "--step-fraction", "--out"):
        assert flag in out


def test_adam_withdraws_the_prediction():
    snap = lab1d.train(lab1d.LabConfig(mappings=("gauss:10",), points=64, steps=4, every=2, width=32,
                                       optimizer="adam", target=lab1d.Target(freqs=(2, 5))))
    assert snap.predicted is None and not snap.theory_applies
    assert lab1d.summary(snap)["mappings"]["gauss:10"]["predicted"] is None


# ---------------------------------------------------------------------------------------------------------
# The measured gap between the network and its kernel


def test_rate_ratio_is_the_ratio_of_log_residuals_where_there_is_a_rate():
    import dataclasses

    snap = lab1d.train(lab1d.LabConfig(mappings=("none", "gauss:10"), points=64, steps=2, every=2, width=16,
                                       target=lab1d.Target(freqs=(2, 5, 7, 9))))
    meas = np.array([[1.0] * 4, [0.01, 1e-3, 0.5, np.nan]])
    pred = np.array([[1.0] * 4, [1e-4, 1e-6, 0.995, 0.1]])  # at the floor, below it, above the ceiling, NaN measured
    snap = dataclasses.replace(snap, measured={"none": meas, "gauss:10": np.array([[1.0] * 4, [0.1, 0.2, 1.5, 0.3]])},
                               predicted={"none": pred, "gauss:10": np.array([[1.0] * 4, [0.01, 0.04, 0.5, 0.3]])})
    ratios = lab1d.rate_ratio(snap)
    assert ratios["none"] == (None, None, None, None)
    np.testing.assert_allclose(ratios["gauss:10"], [0.5, math.log(0.2) / math.log(0.04), math.log(1.5) / math.log(0.5), 1.0])
    assert ratios["gauss:10"][2] < 0  # the network lost ground where the kernel predicts progress
    text = lab1d.rate_text(snap)
    assert "none: f=2 -, f=5 -, f=7 -, f=9 -" in text and "gauss:10: f=2 0.50" in text
    assert lab1d.summary(snap)["mappings"]["gauss:10"]["rate_ratio"][0] == 0.5
    adam = dataclasses.replace(snap, predicted=None, theory_applies=False)
    assert lab1d.rate_ratio(adam) is None and lab1d.rate_text(adam) == ""


def test_gap_at_2_cycles_falls_as_the_network_widens():
    """A single 2-cycle sine without a mapping, 100 steps: the network learns it at a fraction of its kernel's
    rate, a fraction that grows with width (over widths 256-4096 and several draws the shortfall 1 - ratio fell
    about as 1/√width). Here, one seeded draw each: at width 256 0.79 of the predicted rate and 1.30× the predicted
    residual left, at width 1024 0.85 and 1.22× (at 2048, 0.95 and 1.07×, four times the cost)."""
    ratio, excess = {}, {}
    for width in (256, 1024):
        snap = lab1d.train(lab1d.LabConfig(mappings=("none",), target=lab1d.Target(freqs=(2,)), points=64,
                                           steps=100, every=100, width=width))
        ratio[width] = lab1d.rate_ratio(snap)["none"][0]
        excess[width] = snap.measured["none"][-1, 0] / snap.predicted["none"][-1, 0]
    assert 0.7 < ratio[256] < ratio[1024] < 1.0 and ratio[1024] - ratio[256] > 0.04, ratio
    assert 1.0 < excess[1024] < excess[256] < 1.4 and excess[256] - excess[1024] > 0.05, excess


def test_defaults_network_against_its_kernel():
    """The lab's defaults (none, gauss:10, power:1 on sines at 2, 8, 24 cycles, width 256, 1000 steps): the
    stated gap, pinned. The order agrees (24 cycles is the slowest in both); the network's rates fall short of
    the kernel's: gauss:10 0.75 and 0.84 at 2 and 24 cycles (8 has no rate to compare: predicted below 1e-4),
    power:1 0.58 and 0.58 at 8 and 24 cycles, no mapping 0.34, 0.25, 0.22 (its 2-cycle residual 0.09 against
    0.0009 predicted). GUIDE states these numbers."""
    snap = lab1d.train(lab1d.LabConfig())
    assert snap.specs == ("none", "gauss:10", "power:1") and snap.freqs == FREQS and snap.step == 1000
    for spec in snap.specs:
        assert np.argmax(snap.measured[spec][-1]) == np.argmax(snap.predicted[spec][-1]) == 2, spec
    ratios = lab1d.rate_ratio(snap)
    lo_hi = {"none": [(0.25, 0.45), (0.17, 0.35), (0.15, 0.3)], "gauss:10": [(0.6, 0.9), None, (0.7, 0.95)],
             "power:1": [None, (0.45, 0.7), (0.45, 0.7)]}
    for spec, ranges in lo_hi.items():
        for f, r, bounds in zip(FREQS, ratios[spec], ranges):
            assert (r is None) if bounds is None else (bounds[0] < r < bounds[1]), (spec, f, r)
    assert np.all(snap.measured["gauss:10"][-1, :2] < 2e-3)
    meas, pred = snap.measured["none"][-1, 0], snap.predicted["none"][-1, 0]
    assert 0.05 < meas < 0.15 and 5e-4 < pred < 1.5e-3, (meas, pred)


def test_the_predicted_kernel_is_the_lab_networks_tangent_kernel():
    """The closed form the lab predicts with (`ntk_matrix`, s_b = BIAS_STD) against the empirical tangent kernel
    of the network `run` trains (padded inputs, NTKMLP with the same s_b), mean of 3 draws at width 1024: within
    finite-width noise (3-5% here, one draw 5-15%; the eigenvalues at the tracked frequencies within 2%). The
    closed form with ntk.BIAS_STD = 0.1 instead is 2.6-4.4 times the kernel's size off: a mismatch would show."""
    import jax
    import jax.numpy as jnp

    v = np.arange(128) / 128
    gauss = np.asarray(jax.random.normal(jax.random.key(5), (32,), jnp.float32), np.float64)
    model = ntk.NTKMLP(depth=4, width=1024, bias_std=lab1d.BIAS_STD)
    for spec in ("none", "gauss:10", "power:1"):
        mapping = lab1d.parse(spec)
        x = lab1d.padded_inputs(lab1d.encode(v[::2], lab1d.features_of(mapping, 64, 32, gauss)), 64)
        empirical = np.mean([ntk.layerwise_ntk(model, model.init(jax.random.key(seed), jnp.zeros((1, 64))), x, x)
                             for seed in range(3)], axis=0)
        closed = lab1d.ntk_matrix(mapping, v[::2], 4, 64, 32, gauss)
        assert np.linalg.norm(empirical - closed) / np.linalg.norm(closed) < 0.08, spec
        lam_e, lam_c = (lab1d.frequency_spectrum(k)[list(FREQS)] for k in (empirical, closed))
        np.testing.assert_allclose(lam_e, lam_c, rtol=0.1, err_msg=spec)
        other = ntk.relu_ntk(lab1d.encode(v[::2], lab1d.features_of(mapping, 64, 32, gauss)),
                             lab1d.encode(v[::2], lab1d.features_of(mapping, 64, 32, gauss)), 4, bias_std=0.1)
        assert np.linalg.norm(empirical - other) / np.linalg.norm(other) > 1.0, spec


def test_the_lab_parses_its_mappings_with_the_packages_one_grammar():
    from ffn.core import mappings

    assert lab1d.parse("Gaussian:10") == mappings.parse("gauss:10") == mappings.Mapping("gauss", 10.0)
    assert lab1d.parse("power:inf") == mappings.parse("power:inf", kinds=mappings.KINDS_1D)
    assert lab1d.parse("power:inf").label() == "Power p=∞" and lab1d.parse("power:0").spec == "power:0"
    with pytest.raises(ValueError, match="Unknown mapping 'power:1'"):  # an image has no power-law mapping
        mappings.parse("power:1")
    with pytest.raises(checks.Invalid, match="can have no learning rate of its own"):
        lab1d.parse("none@1e-2")
