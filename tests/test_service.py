"""ffn.serve.rules: the page's vocabulary turned into a Config, this server's caps, and the plan text."""

import math

import pytest
from conftest import PAGE

from ffn.core import checks, config
from ffn.serve import rules


def test_custom_sigma_and_posenc_follow_the_page():
    assert rules.resolve_specs(["custom", "posenc"], 0.4, "gauss:7", 128) == ("posenc:4", "gauss:2.5", "gauss:7")
    assert rules.resolve_specs(["gauss:10", "custom", "none"], 0.4, "", 128) == ("none", "gauss:2.5", "gauss:10")
    assert rules.resolve_specs(["posenc"], 0, "", 512) == ("posenc:6",)
    made = rules.make_config(["none", "basic", "gauss:10"], 0, "", 128, 100, 1e-3, True, 4, 64, 64, 0)
    assert made.mappings == ("none@0.01", "basic@0.01", "gauss:10")


@pytest.mark.parametrize("preset", [config.CLASS, config.CPU, config.PAPER, config.PAPER_PROTOCOL_NATURAL,
                                    config.PAPER_PROTOCOL_TEXT, config.TINY.replace(size=64)])
def test_presets_reach_the_page_and_come_back_unchanged(preset):
    """page_values is the inverse of make_config: a preset shown on the page trains exactly the preset."""
    back = rules.make_config(**rules.page_values(preset))
    assert back.replace(every=preset.every) == preset


def test_the_default_page_is_the_cpu_quick_look():
    values = rules.page_values(config.CPU)
    assert values["selected"] == ["none", "basic", "posenc", "custom", "gauss:10"]
    assert rules.custom_sigma(values["sigma_log10"]) == 2.5 and values["size"] == 128


@pytest.mark.parametrize("field,value", [("iters", 0), ("iters", "abc"), ("seed", -1), ("size", 37), ("lr", 0),
                                         ("width", "abc"), ("depth", 1.5), ("w0", math.nan)])
def test_a_value_config_refuses_reads_the_same_from_the_page(field, value):
    with pytest.raises(ValueError) as from_config:
        config.PAPER.replace(**{field: value})
    with pytest.raises(checks.Invalid) as from_page:
        rules.make_config(**{**PAGE, field: value})
    assert str(from_page.value) == str(from_config.value) and from_page.value.param == field


def test_caps_refuse_what_config_allows_with_the_reason():
    with pytest.raises(checks.Invalid, match="This server runs iters up to 5000 .*no such limit") as refused:
        rules.make_config(**{**PAGE, "iters": 6000})
    assert refused.value.param == "iters"
    assert rules.make_config(**PAGE, caps=rules.Caps(iters=10_000)).iters == 50


def test_time_cap_refuses_a_run_well_over_it_with_the_estimate():
    speed = rules.Speed()
    speed.gflops = 100.0
    long = {**PAGE, "size": 512, "iters": 5000, "width": 256, "depth": 4, "features": 256}
    with pytest.raises(checks.Invalid, match=r"would take about .* here and this server allows 60 s per run"):
        rules.make_config(**long, caps=rules.Caps(seconds=60), speed=speed)
    assert rules.make_config(**PAGE, caps=rules.Caps(seconds=60), speed=speed).iters == 50
    assert rules.make_config(**long, caps=rules.Caps(seconds=0), speed=speed).iters == 5000  # 0: no limit


@pytest.mark.parametrize("seconds,text", [(12.4, "12 s"), (750, "12.5 min"), (11400, "3 h 10 min"), (7200, "2 h")])
def test_durations_read_as_a_person_says_them(seconds, text):
    assert rules.duration(seconds) == text


def test_plan_counts_mappings_in_words():
    speed = rules.Speed()
    speed.gflops = 100.0
    assert rules.plan(rules.make_config(**{**PAGE, "selected": ["none"]}), speed).startswith("**1 mapping** ×")


def test_speed_is_learnt_per_network_shape():
    """A 4×64 run's rate must not set the estimate of a 4×128 run (it made the default run's estimate 2.2× too long)."""
    speed = rules.Speed()
    speed.gflops = 100.0
    small, big = config.CLASS, config.CPU
    assert speed.rate(big) == 100.0  # nothing seen yet: the matmul-based rate
    speed.observe(small, 10.0)  # steps/s
    assert speed.rate(big) == pytest.approx(speed.rate(small))  # the nearest shape seen so far
    speed.observe(big, 5.0)
    from ffn.core import cost
    assert speed.rate(big) == pytest.approx(cost.iteration_flops(big) * 5.0 / 1e9)
    assert speed.rate(small) == pytest.approx(cost.iteration_flops(small) * 10.0 / 1e9)
    speed.observe(config.TINY, 1.0)  # too small to measure: kept out
    assert len(speed.observed) == 2


def test_crop_is_a_page_value_that_reaches_the_config_the_image_and_the_plan(tmp_path):
    import numpy as np
    from PIL import Image

    cropped = rules.make_config(**PAGE, crop=True)
    assert cropped.crop and not rules.make_config(**PAGE).crop  # unticked by default, as every page sends it
    assert rules.page_values(cropped)["crop"] is True and rules.make_config(**rules.page_values(cropped)) == cropped
    assert rules.make_sweep_config(1, 8, 3, 64, 50, 1e-3, 3, 32, 16, 0, crop=True).crop
    with pytest.raises(checks.Invalid, match="crop .* must be true or false") as refused:
        rules.make_config(**PAGE, crop="yes")
    assert refused.value.param == "crop"
    picture = np.random.default_rng(0).integers(0, 256, (80, 100, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(picture).save(path)
    np.testing.assert_array_equal(rules.read_image(path, 64, crop=True), picture[8:72, 18:82] / np.float32(255))
    assert rules.read_image(path, 64).shape == (64, 64, 3)  # the whole centre square, scaled
    assert rules.trained_label(64, True) == "What will be trained: the centre 64×64 px at the image's own resolution"
    speed = rules.Speed()
    speed.gflops = 100.0
    assert "at its own resolution" in rules.plan(cropped, speed) and "own resolution" not in rules.plan(
        rules.make_config(**PAGE), speed)
    assert "crop: true" in rules.api_description()
