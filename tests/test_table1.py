"""Table 1 over image sets: the protocol at a resolution, sharded == unsharded, σ tuning, the command line,
the bundled sets, and the paper's numbers with the comparability rule."""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from ffn import table1 as table1_cli
from ffn.present import text as present_text
from ffn.core import checks, data, mappings, train
from ffn.experiments import paper, table1
from ffn.core.config import PAPER_PROTOCOL_NATURAL, PAPER_PROTOCOL_TEXT

# A tiny network of shapes no other test file compiles (the trainer keeps compiled programs per process).
TINY = dict(size=16, iters=6, width=20, features=6)
TINY_ARGS = ["--size", "16", "--iters", "6", "--width", "20", "--features", "6"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Five small PNGs of different detail, named so that their sorted order is not their creation order."""
    root = tmp_path_factory.mktemp("set")
    c = np.linspace(0, 1, 24, endpoint=False)
    x, y = np.meshgrid(c, c)
    for i, name in enumerate(["e", "b", "d", "a", "c"]):
        rgb = np.stack([0.5 + 0.4 * np.sin(2 * np.pi * (i + 1) * x), 0.5 + 0.4 * np.cos(2 * np.pi * (5 - i) * y), x * y], -1)
        Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(root / f"{name}.png")
    return root


def run_cli(*argv):
    return table1_cli.main([str(a) for a in argv])


# ------------------------------------------------------------------------------------------ the protocol


def test_protocol_is_the_paper_setting_at_512_and_scales_sigma_and_s_with_the_resolution():
    assert table1.protocol("natural") == PAPER_PROTOCOL_NATURAL.replace(every=table1.EVERY)
    assert table1.protocol("text") == PAPER_PROTOCOL_TEXT.replace(every=table1.EVERY)
    small = table1.protocol("natural", size=128, iters=500, width=128, features=128)
    assert small.mappings == ("none@0.01", "basic@0.01", "posenc:4", "gauss:2.5")
    assert (small.iters, small.width, small.features, small.depth) == (500, 128, 128, 4)
    assert table1.protocol("text", size=256).mappings == ("none", "basic", "posenc:4", "gauss:7")
    assert table1.protocol("natural", size=16, sigma=3).mappings[2:] == ("posenc:1", "gauss:3")  # S at least 1
    assert mappings.suggested_sigma(512, at_512=10) == mappings.suggested_sigma(512) == 10
    assert mappings.suggested_sigma(128, at_512=14) == 3.5
    assert [mappings.posenc_scale(s) for s in (512, 256, 128, 64, 16)] == [6, 5, 4, 3, 1]
    assert [mappings.posenc_scale(s, at_512=5) for s in (512, 256, 128, 64, 16)] == [5, 4, 3, 2, 1]
    with pytest.raises(ValueError, match="dataset must be one of natural, text"):
        table1.protocol("faces")


def test_shards_are_disjoint_cover_the_list_and_parse_with_a_sentence():
    items = list(range(7))
    slices = [table1.shard(items, i, 3) for i in (1, 2, 3)]
    assert sorted(sum(slices, [])) == items and max(map(len, slices)) - min(map(len, slices)) <= 1
    assert table1.parse_shard("2/3") == (2, 3)
    for text, message in (("3/2", "shard index I must be at most 2"), ("2", "I/N"), ("a/2", "whole number"),
                          ("0/2", "at least 1")):
        with pytest.raises(checks.Invalid, match=message):
            table1.parse_shard(text)


def test_std_is_the_population_one_and_diverged_images_are_left_out():
    row = table1.summarise([20.0, 22.0, None])
    assert row == {"test_psnr": [20.0, 22.0, None], "mean": 21.0, "std": 1.0, "n": 2}  # np.std, not ddof=1
    assert table1.summarise([None])["mean"] is None


# ------------------------------------------------------------------------------------------ runs


def test_sharded_runs_merge_to_exactly_the_unsharded_table(folder, tmp_path):
    assert run_cli(folder, "--dataset", "natural", *TINY_ARGS, "--out", tmp_path / "all") == 0
    for i in (1, 2):
        assert run_cli(folder, "--dataset", "natural", *TINY_ARGS, "--shard", f"{i}/2", "--out", tmp_path / f"s{i}") == 0
    assert run_cli("--merge", tmp_path / "s2", tmp_path / "s1", "--dataset", "natural", "--out", tmp_path / "merged") == 0
    whole = json.loads((tmp_path / "all" / "table1.json").read_text())
    merged = json.loads((tmp_path / "merged" / "table1.json").read_text())
    shard1 = json.loads((tmp_path / "s1" / "table1.json").read_text())
    assert shard1["shard"] == [1, 2] and len(shard1["images"]) == 3
    assert whole["images"] == merged["images"] == sorted(str(p) for p in folder.iterdir())
    assert merged["mappings"] == whole["mappings"]  # per-image values, means and stds, exactly
    assert merged["config"] == whole["config"] and merged["paper"] == whole["paper"]
    assert (tmp_path / "merged" / "table1.md").read_text() == (tmp_path / "all" / "table1.md").read_text()
    assert table1.latest(tmp_path) == merged and table1.latest(tmp_path / "nothing") is None
    row = whole["mappings"]["gauss:0.3125"]  # σ = 10 · 16/512
    assert row["mean"] == pytest.approx(np.mean(row["test_psnr"])) and row["n"] == 5
    assert set(whole["paper"]) == set(mappings.KINDS) and whole["paper"]["gauss"] == {"mean": 25.57, "std": 4.19}


def test_merge_refuses_different_settings_and_missing_shards(folder, tmp_path):
    config = table1.protocol("text", **TINY)
    doc = lambda c, shard: table1.document("text", c, [f"{shard}.png"], {s: [20.0] for s in c.mappings}, shard_of=(shard, 2))  # noqa: E731
    with pytest.raises(ValueError, match="different settings .*iters"):
        table1.merge([doc(config, 1), doc(config.replace(iters=7), 2)])
    with pytest.raises(ValueError, match="each of the 2 shards of one run exactly once"):
        table1.merge([doc(config, 1), doc(config, 1)])
    with pytest.raises(ValueError, match="each of the 2 shards"):
        table1.merge([doc(config, 2)])
    natural = table1.document("natural", table1.protocol("natural", **TINY), ["x.png"], {s: [1.0] for s in table1.protocol("natural", **TINY).mappings})
    with pytest.raises(ValueError, match="Cannot merge a natural table with a text table"):
        table1.merge([doc(config, 1), natural])


def test_tuning_picks_the_sigma_of_the_best_mean_test_psnr(folder, tmp_path):
    images = [data.load_image(p, 16) for p in sorted(folder.iterdir())[:2]]
    config = table1.protocol("text", **TINY)
    best, means = table1.tune_sigma(images, config, [4, 0.5, 1.5])
    assert list(means) == ["0.5", "1.5", "4"] and best == max((float(s) for s in means), key=lambda s: means[f"{s:g}"])
    assert run_cli(folder, "--dataset", "text", *TINY_ARGS, "--tune", *sorted(folder.iterdir())[:2],
                   "--sigmas", "4", "0.5", "1.5", "--out", tmp_path) == 0
    doc = json.loads((tmp_path / "table1.json").read_text())
    assert doc["config"]["sigma_tuning"]["chosen"] == best and f"gauss:{best:g}" in doc["mappings"]
    assert "was chosen by the best mean test PSNR on 2 tuning images" in (tmp_path / "table1.md").read_text()


def test_command_line_refuses_bad_input_with_one_sentence(folder, tmp_path, capsys):
    cases = [
        ([folder, "--shard", "3/2"], "shard index I must be at most 2"),
        ([folder, "--size", "15"], "size"),
        ([folder, "--iters", "0"], "iters must be"),
        ([tmp_path / "nothing"], "No file or folder"),
        ([folder, "--tune", folder], "--tune and --sigmas go together"),
        ([folder, "--tune", folder, "--sigmas", "2", "-1"], "sigmas (each σ of the grid) must be at least"),
        (["--merge", tmp_path], "No table1.json in"),
    ]
    for argv, message in cases:
        assert run_cli(*argv, "--dataset", "text") == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


# ------------------------------------------------------------------------------------------ crop and seeds


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """Two 40×40 PNGs of fine detail, large enough for four 16-px windows each."""
    root = tmp_path_factory.mktemp("large")
    rng = np.random.default_rng(7)
    for name in ("p", "q"):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / f"{name}.png")
    return root


def test_cropped_runs_cover_every_window_and_seed_and_their_shards_merge(large, tmp_path):
    argv = [large, "--dataset", "text", *TINY_ARGS, "--crop", "--windows", "4", "--seeds", "0", "1"]
    assert run_cli(*argv, "--out", tmp_path / "all") == 0
    doc = json.loads((tmp_path / "all" / "table1.json").read_text())
    names = [str(large / "p.png"), str(large / "q.png")]
    boxes = data.window_boxes(40, 40, 16, 4)
    assert doc["runs"] == [{"image": n, "window": list(b), "seed": s} for n in names for b in boxes for s in (0, 1)]
    assert doc["config"]["crop"] is True and doc["config"]["seeds"] == [0, 1] and doc["config"]["windows"] == 4
    assert doc["protocol"].startswith("cropped: 4 windows of 16×16 px per image, cut at the image's own resolution")
    row = doc["mappings"]["gauss:0.4375"]  # σ = 14 · 16/512, set for the window's size
    assert len(row["test_psnr"]) == row["n"] == 16
    assert row["mean"] == pytest.approx(np.mean(row["test_psnr"])) and row["std"] == pytest.approx(np.std(row["test_psnr"]))
    # Run 11 is q.png's second window with seed 1, trained as any run of that window and seed is.
    window = data.windows(large / "q.png", 16, 4)[1]
    alone = train.train(window.pixels, table1.protocol("text", **TINY, seed=1).replace(crop=True))
    assert row["test_psnr"][11] == alone.test_psnr["gauss:0.4375"]
    markdown = (tmp_path / "all" / "table1.md").read_text()
    assert "**Cropped protocol**: 4 windows of 16×16 px per image" in markdown and "over the 16 runs (2 images × 4 windows × 2 seeds; np.std, ddof=0)" in markdown
    assert "seeds 0, 1" in markdown
    for i in (1, 2):
        assert run_cli(*argv, "--shard", f"{i}/2", "--out", tmp_path / f"s{i}") == 0
    assert run_cli("--merge", tmp_path / "s2", tmp_path / "s1", "--out", tmp_path / "merged") == 0
    merged = json.loads((tmp_path / "merged" / "table1.json").read_text())
    assert merged["runs"] == doc["runs"] and merged["mappings"] == doc["mappings"] and merged["config"] == doc["config"]
    assert [p["command"].split("--shard ")[1][:3] for p in merged["shard_provenance"]] == ["1/2", "2/2"]
    assert (tmp_path / "merged" / "table1.md").read_text() == markdown


def test_table1_json_records_its_provenance_and_one_seed_has_no_spread(folder, tmp_path):
    one = sorted(folder.iterdir())[0]
    assert run_cli(one, "--dataset", "natural", *TINY_ARGS, "--seeds", "5", "--out", tmp_path) == 0
    doc = json.loads((tmp_path / "table1.json").read_text())
    alone = train.train(data.load_image(one, 16), table1.protocol("natural", **TINY, seed=5))
    for spec, row in doc["mappings"].items():
        assert row["std"] == 0.0 and row["mean"] == alone.test_psnr[spec]
    block = doc["provenance"]
    assert block["inputs"] == [{"path": str(one), "sha256": hashlib.sha256(one.read_bytes()).hexdigest(),
                                "bytes": one.stat().st_size, "width": 24, "height": 24}]
    assert block["config"] == doc["config"] and block["command"].startswith(f"python -m ffn.table1 {one} --dataset")
    assert doc["runs"] == [{"image": str(one), "window": None, "seed": 5}] and "Cropped" not in (tmp_path / "table1.md").read_text()


def test_crop_refusals_are_one_sentence(large, tmp_path, capsys):
    for argv, message in (([large, "--windows", "2"], "windows are cut only with crop"),
                          ([large, "--crop", "--windows", "5", "--size", "16"], "holds at most 4 windows of 16 px"),
                          ([large, "--crop", "--size", "48"], "needs at least 48 pixels on each side"),
                          ([large, "--seeds", "1", "1"], "seeds must differ")):
        assert run_cli(*argv, "--dataset", "text", "--out", tmp_path) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_the_cropped_protocol_keeps_the_text_result_that_scaling_loses(tmp_path):
    """A 512-px page of text scaled to 32 px has glyphs finer than the training grid: no mapping can fit them and the
    Gaussian gains nothing. A 32-px window at the page's own resolution keeps its edges, and the Gaussian mapping
    (σ set for the window) beats no mapping by several dB (measured: +9.5 dB cropped, +0.2 dB scaled)."""
    path = tmp_path / "text.png"
    table1.make_text_image(0, 512).save(path)
    config = table1.protocol("text", size=32, iters=100, width=32, features=32)
    none, gauss = config.mappings[0], config.mappings[3]
    gap = {}
    for crop in (True, False):
        _, per_run = table1.train_pictures(table1.load_pictures([path], 32, crop),
                                           config.replace(mappings=(none, gauss), crop=crop))
        gap[crop] = per_run[gauss][0] - per_run[none][0]
    assert gap[True] > 5 and gap[False] < 2, gap


# ------------------------------------------------------------------------------------------ bundled sets


def test_bundled_sets_hold_at_least_four_small_images_each_and_load():
    for dataset in paper.DATASETS:
        paths = table1.bundled_images(dataset)
        assert len(paths) >= 4, dataset
        for path in paths:
            with Image.open(path) as im:
                assert max(im.size) <= 600 and path.stat().st_size < 600_000
            assert data.load_image(path, 16).shape == (16, 16, 3)
    assert table1.image_name(table1.ASSETS / "natural" / "camera.png") == "assets/natural/camera.png"  # any checkout


def test_text_images_are_a_function_of_their_seed():
    a, b = np.asarray(table1.make_text_image(3, 64)), np.asarray(table1.make_text_image(3, 64))
    assert a.shape == (64, 64, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, np.asarray(table1.make_text_image(4, 64)))
    assert len(np.unique(a.reshape(-1, 3), axis=0)) > 2  # words were drawn, anti-aliased


# ------------------------------------------------------------------------------------------ the paper


def test_paper_table_holds_means_and_stds_in_one_table():
    assert paper.TABLE1["natural"]["gauss"] == (25.57, 4.19) and paper.TABLE1["text"]["posenc"] == (27.57, 3.07)
    assert paper.TABLE1_PSNR["text"]["none"] == 18.40
    assert all(set(t) == set(mappings.KINDS) for t in paper.TABLE1.values())
    assert not hasattr(paper, "paper_reference")


def test_comparability_is_none_only_for_the_paper_setting():
    for dataset, protocol in paper.PROTOCOLS.items():
        assert all(paper.comparability(protocol, spec, dataset) is None for spec in protocol.mappings)
    cpu = table1.protocol("natural", size=128, iters=500, width=128, features=128)
    why = paper.comparability(cpu, "gauss:2.5", "natural")
    for phrase in ("128 px, not 512", "500 steps, not 2000", "4×128 network, not 4×256", "128 features, not 256",
                   "gauss σ = 2.5, not 10"):
        assert phrase in why
    assert "features" not in paper.comparability(cpu, "none@0.01", "natural")  # none has no m
    assert paper.comparability(PAPER_PROTOCOL_NATURAL, "none", "natural") == (
        "none is not comparable with Table 1 (natural images): learning rate 0.001 for none, not 0.01.")
    assert "posenc S = 6, not 5" in paper.comparability(PAPER_PROTOCOL_NATURAL, "posenc:6", "text")
    assert "1500 steps" in paper.comparability(PAPER_PROTOCOL_TEXT, "gauss:14", "text", steps=1500)  # stopped early
    assert "SIREN network" in paper.comparability(PAPER_PROTOCOL_TEXT.replace(model="siren"), "gauss:14", "text")
    with pytest.raises(ValueError, match="dataset must be one of"):
        paper.comparability(PAPER_PROTOCOL_TEXT, "none", "faces")


def test_table_markdown_puts_ours_beside_the_papers_and_says_when_the_setting_differs():
    def doc(config):
        values = {spec: [20.0 + i, 22.0 + i] for i, spec in enumerate(config.mappings)}
        return table1.document("text", config, ["a.png", "b.png"], values)

    text = present_text.table_markdown(doc(table1.protocol("text", size=64, iters=100, width=32, features=16)))
    assert "| No mapping (`none`) | 21.00 ± 1.00 | 18.40 ± 2.34 |" in text
    assert "| Gaussian σ=1.75 (`gauss:1.75`) | 24.00 ± 1.00 | 30.47 ± 2.11 |" in text
    assert "**Not the paper's setting**" in text and "64 px, not 512" in text and "population" in text
    assert "Not the paper's setting" not in present_text.table_markdown(doc(table1.protocol("text")))


# ------------------------------------------------------------------------------------------ the inverse problems


def test_ct_table_on_tiny_phantoms_the_gaussian_beats_none(tmp_path, capsys):
    # 32 px, 20 angles, 150 steps of a 4×128 network on test phantoms 2 and 3: about 4 dB apart (19 dB against 15).
    assert run_cli("--dataset", "ct", "--size", "32", "--iters", "150", "--width", "128", "--features", "64",
                   "--phantoms", "2", "--sigma", "2", "--scale", "3", "--out", tmp_path) == 0
    doc = json.loads((tmp_path / "table1.json").read_text())
    assert doc["images"] == ["phantom:2", "phantom:3"] and doc["task"] == {"kind": "ct", "angles": 20}
    rows = doc["mappings"]
    assert list(rows) == ["none@0.01", "basic@0.01", "posenc:3", "gauss:2"]
    assert rows["gauss:2"]["mean"] > rows["none@0.01"]["mean"] + 2.0, rows
    assert doc["paper"]["gauss"] == {"mean": 28.33, "std": None}
    printed = capsys.readouterr().out
    assert "| Gaussian σ=2 (`gauss:2`) |" in printed and "| 28.33 |" in printed and "| 16.75 |" in printed
    assert "σ = 2 and S = 3 given, not tuned by this run" in printed and "32 px, not 512" in printed


@pytest.mark.slow  # python -m pytest -m slow
def test_inverse_tuning_chooses_sigma_and_s_and_shards_merge(tmp_path, capsys):
    tiny = [*TINY_ARGS, "--phantoms", "2"]
    assert run_cli("--dataset", "ct", *tiny, "--sigmas", "4", "2", "--scales", "2", "3", "--out", tmp_path / "all") == 0
    whole = json.loads((tmp_path / "all" / "table1.json").read_text())
    tuning = whole["config"]["sigma_tuning"]
    assert tuning["images"] == ["phantom:0", "phantom:1"] and tuning["sigmas"] == [2, 4] and tuning["scales"] == [2, 3]
    means = tuning["mean_test_psnr"]
    assert set(means) == {"gauss:2", "gauss:4", "posenc:2", "posenc:3"}
    assert tuning["chosen"] == max((2, 4), key=lambda s: means[f"gauss:{s}"])
    assert tuning["chosen_scale"] == max((2, 3), key=lambda s: means[f"posenc:{s}"])
    assert f"gauss:{tuning['chosen']:g}" in whole["mappings"] and f"posenc:{tuning['chosen_scale']:g}" in whole["mappings"]
    assert "had the best mean reconstruction PSNR on 2 random Shepp-Logan phantoms (seeds 0, 1)" in \
        (tmp_path / "all" / "table1.md").read_text()
    for i in (1, 2):  # each shard repeats the same search and gets the same σ and S
        assert run_cli("--dataset", "ct", *tiny, "--sigmas", "4", "2", "--scales", "2", "3", "--shard", f"{i}/2",
                       "--out", tmp_path / f"s{i}") == 0
    assert run_cli("--merge", tmp_path / "s1", tmp_path / "s2", "--out", tmp_path / "merged") == 0
    merged = json.loads((tmp_path / "merged" / "table1.json").read_text())
    assert merged["mappings"] == whole["mappings"] and merged["task"] == whole["task"]
    assert (tmp_path / "merged" / "table1.md").read_text() == (tmp_path / "all" / "table1.md").read_text()


def test_mri_table_on_grey_images_says_it_is_2d(folder, tmp_path):
    assert run_cli(folder, "--dataset", "mri", *TINY_ARGS, "--kspace", "0.25", "--sigma", "2", "--scale", "2",
                   "--out", tmp_path) == 0
    doc = json.loads((tmp_path / "table1.json").read_text())
    assert doc["task"] == {"kind": "mri", "kspace": 0.25, "mask_seed": 0} and len(doc["images"]) == 5
    assert list(doc["mappings"]) == ["none", "basic", "posenc:2", "gauss:2"]  # the MRI notebook: one lr for all
    text = (tmp_path / "table1.md").read_text()
    assert "5 images taken as grey, seen only through MRI, 25% of k-space" in text and "| 34.51 |" in text
    assert "2D slices at 16 px, not the paper's 3D volumes of 96³ voxels" in text
    assert "25% of k-space sampled, not 12.5%" in text


def test_inverse_command_line_refuses_bad_input_with_one_sentence(folder, capsys):
    cases = [
        (["--dataset", "natural", folder, "--angles", "5"], "--angles is a setting of --dataset ct or mri."),
        (["--dataset", "ct", "--kspace", "0.2"], "--kspace is a setting of --dataset mri."),
        (["--dataset", "ct", "--sigma", "3", "--sigmas", "2", "4"], "Give either --sigma or a grid"),
        (["--dataset", "ct", "--angles", "0"], "angles (CT projections) must be at least 1"),
        (["--dataset", "ct", "phantom:-2"], "must be at least 0"),
        (["--dataset", "mri", "--phantoms", "0"], "phantoms must be at least 1"),
    ]
    for argv, message in cases:
        assert run_cli(*argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
