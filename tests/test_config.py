"""`ffn.config`: the one frozen config, the paper's defaults and presets, and the refusals every entry point shares."""

import math
import re

import pytest

from ffn.core import mappings
from ffn.experiments import paper
from ffn.core.config import PAPER, PAPER_PROTOCOL_NATURAL, PAPER_PROTOCOL_TEXT, TINY, Config
from ffn.core.model import MLP, Siren, make_model

BASE = TINY.replace(width=24)


@pytest.mark.parametrize("changes,words", [
    ({"iters": 0}, "iters must be at least 1 (got 0)."), ({"iters": 2.5}, "whole number"),
    ({"iters": float("nan")}, "whole number"),
    ({"lr": float("inf")}, "learning rate"), ({"lr": -1}, "learning rate"), ({"lr": "fast"}, "learning rate"),
    ({"depth": 1}, "depth"), ({"width": 10**6}, "width"), ({"seed": -1}, "seed"), ({"features": True}, "features"),
    ({"mappings": ()}, "at least one"), ({"mappings": ("gauss:1", "gauss:1.0")}, "twice"),
    ({"mappings": ("posenc:4",), "features": 7}, "even number of features"),
    ({"size": 15}, "size (resolution) must be at least 16 (got 15)."),
    ({"size": 17}, "size (resolution) must be an even number of pixels (got 17)."),
])
def test_config_refuses_with_a_reason(changes, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        TINY.replace(**changes)


def test_config_canonicalises_and_keeps_paper_defaults():
    c = Config(mappings="none@1e-2, gauss:10.0")
    assert c.mappings == ("none@0.01", "gauss:10")
    assert c.learning_rates() == (0.01, 1e-3)
    assert (c.size, c.iters, c.lr, c.depth, c.width, c.features, c.every) == (512, 2000, 1e-3, 4, 256, 256, 25)


def test_config_selects_and_checks_the_model():
    assert isinstance(make_model(TINY), MLP) and TINY.model == "relu" and TINY.w0 == 30.0
    siren = make_model(BASE.replace(model=" SIREN ", w0=20))
    assert isinstance(siren, Siren) and (siren.depth, siren.width, siren.w0) == (BASE.depth, BASE.width, 20.0)
    assert BASE.replace(model="siren").to_dict()["model"] == "siren"
    for changes, words in (({"model": "tanh"}, "model must be"), ({"model": None}, "model must be"),
                           ({"w0": 0.5}, "w0"), ({"w0": 101}, "w0"), ({"w0": math.nan}, "w0"), ({"w0": "30"}, "w0")):
        with pytest.raises(ValueError, match=words):
            BASE.replace(**changes)


def test_paper_numbers_and_presets():
    assert paper.TABLE1_PSNR["natural"]["gauss"] == 25.57 and paper.TABLE1_PSNR["text"]["posenc"] == 27.57
    assert all(set(t) == set(mappings.KINDS) for t in paper.TABLE1_PSNR.values())
    assert paper.PROTOCOLS == {"natural": PAPER_PROTOCOL_NATURAL, "text": PAPER_PROTOCOL_TEXT}
    with pytest.raises(ValueError, match="dataset"):
        paper.check_dataset("faces")
    assert PAPER_PROTOCOL_NATURAL.mappings == ("none@0.01", "basic@0.01", "posenc:6", "gauss:10")
    assert PAPER_PROTOCOL_TEXT.mappings == ("none", "basic", "posenc:5", "gauss:14")
    for preset in (PAPER_PROTOCOL_NATURAL, PAPER_PROTOCOL_TEXT):
        assert (preset.size, preset.iters, preset.lr, preset.features) == (512, 2000, 1e-3, 256)
        assert preset.replace(mappings=PAPER.mappings) == PAPER
