"""`python -m ffn`: the command line runs the trainer and writes what it ran, and refuses a bad value in one line."""

import json

import numpy as np
import pytest
from PIL import Image

from ffn.present import grids
from ffn import cli
from ffn.core import data, train
from ffn.experiments import sweep
from ffn.core.config import PAPER
from ffn.core.data import to_uint8


@pytest.fixture(scope="module")
def picture(tmp_path_factory, image):
    path = tmp_path_factory.mktemp("in") / "tiny.png"
    Image.fromarray((image * 255).round().astype(np.uint8)).save(path)
    return path


def test_cli_sweep_writes_its_summary_and_spectra(picture, tmp_path, capsys):
    out = tmp_path / "run"
    args = [str(picture), "--size", "16", "--iters", "4", "--every", "2", "--width", "16", "--features", "8",
            "--sweep", "1", "8", "3", "--no-video", "--out", str(out)]
    assert cli.main(args) == 0
    summary = json.loads((out / "sweep.json").read_text())
    block = summary.pop("provenance")
    assert block["config"]["mappings"] == ["gauss:1", "gauss:2.83", "gauss:8"] and block["command"].endswith(str(out))
    assert set(summary) == {"step", "iters", "sigmas", "final_train_psnr", "final_test_psnr", "best_sigma", "plateau"}
    low, high = summary["plateau"]  # σ within sweep.PLATEAU_DB of the best, the best among them
    assert low <= summary["best_sigma"] <= high
    assert summary["step"] == summary["iters"] == 4
    assert summary["sigmas"] == [1.0, 2.83, 8.0]
    assert len(summary["final_train_psnr"]) == len(summary["final_test_psnr"]) == 3
    # The same sweep run here, without the command line: the numbers written are exactly its numbers.
    config = sweep.sweep_config(PAPER.replace(size=16, iters=4, every=2, width=16, features=8), 1, 8, 3)
    loaded = data.load_image(picture, 16)
    alone = train.train(loaded, config)
    assert summary == sweep.summarise_sweep(alone)
    for name in ("sweep.html", "spectra.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert len(text) > 1_000_000 and "<script src=" not in text  # plotly.js inlined
    spectra = grids.spectra_grid(alone.images, to_uint8(loaded), "log |FFT| · tiny · step 4")
    np.testing.assert_array_equal(np.asarray(Image.open(out / "spectra.png")), spectra)
    np.testing.assert_array_equal(np.asarray(Image.open(out / "gauss_2.83.png")), alone.images["gauss:2.83"])
    assert f"best σ {summary['best_sigma']:g}" in capsys.readouterr().out
    rows = (out / "sweep.csv").read_text().splitlines()
    assert rows[0] == "sigma,final_train_psnr,final_test_psnr,best" and len(rows) == 4
    assert rows[2].split(",")[:3] == ["2.83", f"{summary['final_train_psnr'][1]:.4f}", f"{summary['final_test_psnr'][1]:.4f}"]
    assert [r.split(",")[3] for r in rows[1:]] == [str(int(s == summary["best_sigma"])) for s in summary["sigmas"]]


@pytest.mark.parametrize("sweep_args,words", [
    (["0", "8", "3"], "sigma_min must be above 0 (got 0)."),
    (["8", "1", "3"], "The sweep's sigma_min must be below its sigma_max (got 8 and 1)."),
    (["1", "8", "1"], "n (how many σ) must be at least 2 (got 1)."),
    (["1", "8", "25"], "n (how many σ) must be at most 24 (got 25)."),
    (["1", "8", "2.5"], "n (how many σ) must be a whole number (got 2.5)."),
    (["nan", "8", "3"], "sigma_min must be a finite number (got nan)."),
])
def test_cli_refuses_a_bad_sweep_in_one_line(picture, tmp_path, capsys, sweep_args, words):
    assert cli.main([str(picture), "--size", "16", "--sweep", *sweep_args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"python -m ffn: error: {words}\n"  # the sentence of ffn.checks, on one line
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args([str(picture), "--sweep", "1", "2"])  # too few numbers: argparse's one-line error
    assert exit_.value.code == 2


def test_cli_seeds_one_seed_has_no_spread_and_equals_the_single_run(picture, tmp_path, capsys):
    out = tmp_path / "seeds"
    args = [str(picture), "--size", "16", "--iters", "4", "--every", "2", "--width", "16", "--features", "8",
            "--mappings", "none", "gauss:2", "--no-video", "--out", str(out)]
    assert cli.main(args + ["--seeds", "3"]) == 0
    summary = json.loads((out / "seeds.json").read_text())
    alone = train.train(data.load_image(picture, 16), PAPER.replace(mappings=("none", "gauss:2"), size=16, iters=4,
                                                                     every=2, width=16, features=8, seed=3))
    assert summary["seeds"] == [3] and summary["provenance"]["config"]["seeds"] == [3]
    for spec, row in summary["mappings"].items():
        assert row["test"] == {"mean": alone.test_psnr[spec], "std": 0.0, "n": 1}  # float32 values, exactly
        assert row["train"]["mean"] == alone.train_psnr[spec] and row["train"]["std"] == 0.0
    metrics = json.loads((out / "seed-3" / "metrics.json").read_text())  # the seed's run writes a whole run
    assert metrics["config"]["seed"] == 3 and metrics["mappings"]["none"]["final_test_psnr"] == alone.test_psnr["none"]
    assert "± 0.00" in capsys.readouterr().out


def test_seeds_are_summarised_by_the_population_std_and_refused_with_a_sentence():
    from types import SimpleNamespace

    from ffn.core import checks
    from ffn.experiments import seeds

    snap = lambda train, test: SimpleNamespace(train_psnr={"none": train}, test_psnr={"none": test})  # noqa: E731
    summary = seeds.summarise({0: snap(10.0, 20.0), 1: snap(12.0, 24.0), 2: snap(11.0, float("nan"))})
    assert summary["seeds"] == [0, 1, 2]
    row = summary["mappings"]["none"]
    assert row["final_test_psnr"] == [20.0, 24.0, None] and row["test"] == {"mean": 22.0, "std": 2.0, "n": 2}
    assert row["train"] == {"mean": 11.0, "std": float(np.std([10.0, 12.0, 11.0])), "n": 3}
    assert seeds.check_seeds([2, 0]) == (2, 0)
    for bad, words in (([], "1 to 100 whole numbers"), ([1, 1], "must differ"), ([-1], "at least 0"),
                       ([1.5], "whole number")):
        with pytest.raises(checks.Invalid, match=words):
            seeds.check_seeds(bad)


def test_cli_crop_trains_on_the_centre_window_at_full_resolution(tmp_path, capsys):
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(picture).save(path)
    out = tmp_path / "crop"
    args = [str(path), "--size", "16", "--iters", "4", "--every", "2", "--width", "16", "--features", "8",
            "--mappings", "none", "--no-video", "--crop", "--out", str(out)]
    assert cli.main(args) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out / "ground_truth.png")), picture[12:28, 20:36])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["crop"] is True
    assert metrics["provenance"]["inputs"][0]["window"] == [20, 12, 36, 28]
    assert "centre window (20, 12)-(36, 28)" in capsys.readouterr().out
    assert cli.main([str(path), "--size", "48", "--crop", "--out", str(out)]) == 2  # a window larger than the image
    assert "needs at least 48 pixels on each side" in capsys.readouterr().err
def test_cli_task_writes_the_reconstructions_the_measurements_and_the_task(tmp_path, capsys):
    from ffn.core import inverse, phantom

    out = tmp_path / "ct"
    tiny = ["--size", "16", "--iters", "4", "--every", "2", "--width", "16", "--features", "8", "--no-video"]
    specs = ["none@0.01", "gauss:4"]
    assert cli.main(["phantom:5", "--task", "ct", "--angles", "7", "--mappings", *specs, *tiny, "--theory",
                     "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"]["kind"] == "ct" and metrics["task"]["angles"] == 7 and metrics["image"] == "phantom-5"
    assert list(metrics["mappings"]) == specs and metrics["config"]["lr"] == inverse.CT_PROTOCOL.lr
    # The numbers written are those of the task trainer run here without the command line.
    config = inverse.CT_PROTOCOL.replace(mappings=specs, size=16, iters=4, every=2, width=16, features=8)
    alone = inverse.train_task(inverse.make_task("ct", phantom.random_shepp_logan(16, 5), angles=7), config)
    for spec in specs:
        assert metrics["mappings"][spec]["final_test_psnr"] == pytest.approx(alone.test_psnr[spec], abs=1e-6)
        assert "ntk" in metrics["mappings"][spec]  # --theory: kernel regression on the measurements
    np.testing.assert_array_equal(np.asarray(Image.open(out / "gauss_4.png")), alone.images["gauss:4"])
    for name in ("sinogram.png", "ground_truth.png", "comparison.png", "bands.html", "ntk_gauss_4.png"):
        assert (out / name).exists(), name
    printed = capsys.readouterr().out
    assert "CT, 7 angles, 16 px:" in printed and "reconstruction (dB)" in printed

    assert cli.main([str(tmp_path / "nothing.png"), "--task", "mri", "--kspace", "0.25", *tiny[:-1], "--no-video",
                     "--out", str(tmp_path / "mri")]) == 2  # no such image
    capsys.readouterr()
    assert cli.main(["phantom:5", "--task", "mri", "--kspace", "0.25", *tiny, "--out", str(tmp_path / "mri")]) == 0
    assert {"kspace_mask.png", "kspace.png"} <= {p.name for p in (tmp_path / "mri").iterdir()}
    metrics = json.loads((tmp_path / "mri" / "metrics.json").read_text())
    assert metrics["task"]["kspace"] == 0.25
    assert list(metrics["mappings"]) == list(inverse.MRI_PROTOCOL.mappings)  # the MRI notebook's, by default


@pytest.mark.parametrize("argv,words", [
    (["--angles", "5"], "--angles is a setting of --task ct."),
    (["--task", "mri", "--angles", "5"], "--angles is a setting of --task ct."),
    (["--task", "ct", "--kspace", "0.2"], "--kspace is a setting of --task mri."),
    (["--task", "mri", "--kspace", "0.995"], "kspace (the share of k-space sampled) must be at most 0.99"),
    (["--task", "ct", "--dims", "3"], "--dims is a setting of --task mri."),
    (["--task", "mri", "--dims", "3"], "A 3D object is a phantom: name it phantom:SEED"),
    (["--task", "mri", "--dims", "4"], "dims must be one of 2, 3 (got 4)."),
])
def test_cli_refuses_a_task_setting_in_one_line(picture, tmp_path, capsys, argv, words):
    assert cli.main([str(picture), "--size", "16", *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m ffn: error: {words}") and err.count("\n") == 1


def test_cli_3d_mri_trains_on_a_volume_and_pictures_its_middle_slice(tmp_path, capsys):
    out = tmp_path / "mri3d"
    assert cli.main(["phantom:2", "--task", "mri", "--dims", "3", "--size", "16", "--iters", "2", "--every", "2",
                     "--mappings", "none", "gauss:2", "--width", "16", "--features", "8", "--no-video",
                     "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == {"kind": "mri", "kspace": 0.125, "mask_seed": 0, "dims": 3,
                               "train_psnr": "the fit to the measurements (dB)",
                               "test_psnr": "the reconstruction against the object, every voxel (dB)"}
    assert np.asarray(Image.open(out / "gauss_2.png")).shape == (16, 16, 3)
    assert "MRI in 3D, 12.5% of k-space, 16³ voxels (pictures: the middle slice):" in capsys.readouterr().out
    assert cli.main(["phantom:2", "--task", "mri", "--dims", "3", "--size", "16", "--theory"]) == 2
    assert "--theory is for 2D problems" in capsys.readouterr().err
