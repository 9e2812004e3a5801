"""Text drawn into pictures never shows the font's missing-glyph box (issue 10: the error maps' title drew − as one)."""

import numpy as np
import pytest
from PIL import ImageDraw, ImageFont

from ffn.present import grids
from ffn.present import images
from ffn.experiments import runs

# Characters the project writes (titles, captions, the page's σ and ω₀ names) and ones a visitor's file name may hold.
PROJECT_CHARS = "σω×−²₀₁₀·…—–≈|:@/()°±"
NAME_CHARS = "éüñßøµΔΣ中"


def missing(char: str, size: int = 24) -> bool:
    """The slow, obvious reference: the font draws `char` exactly as it draws a private-use character."""
    font = ImageFont.load_default(size=size)
    mask, box = font.getmask(char), font.getmask("\ue000")
    return (mask.size, bytes(mask)) == (box.size, bytes(box))


def test_the_reference_sees_the_box():
    assert missing("−") and missing("σ") and not missing("-") and not missing("·")


@pytest.mark.parametrize("char", list(PROJECT_CHARS + NAME_CHARS + "".join(map(chr, range(0x20, 0x7F)))))
def test_every_character_becomes_drawable_text(char):
    assert images.has_glyph(char) == (not missing(char))
    plain = images.drawable(char)
    assert plain and not any(missing(c) for c in plain), f"{char!r} -> {plain!r}"


def test_known_equivalents():
    assert images.drawable("PSNR = −10·log₁₀(MSE)") == "PSNR = -10·log10(MSE)"
    assert images.drawable("σ = 10 × 2, ω₀ ≈ 30 — 10⁻²") == "sigma = 10 x 2, omega0 ~ 30 - 10^-2"
    assert images.drawable("café µ 中") == "cafe mu ?"


def test_a_minus_sign_is_drawn_as_a_hyphen():
    tile = [("gauss:10 · −1.5 dB", np.full((8, 8, 3), 0.5))]
    assert np.array_equal(images.tile_grid(tile, title="|reconstruction − ground truth|", min_tile=64),
                          images.tile_grid([("gauss:10 · -1.5 dB", tile[0][1])],
                                           title="|reconstruction - ground truth|", min_tile=64))


def test_the_pictures_draw_no_missing_glyph(monkeypatch):
    """Every string the report's pictures draw, caught at ImageDraw.text."""
    drawn = []
    text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, xy, t, *a, **k: (drawn.append(t), text(self, xy, t, *a, **k)))
    rng = np.random.default_rng(0)
    truth = rng.random((16, 16, 3))
    pictures = {"none": rng.random((16, 16, 3)), "gauss:10": rng.random((16, 16, 3))}
    grids.spectra_grid(pictures, truth, f"log |FFT| · {PROJECT_CHARS} · {NAME_CHARS}")
    grids.error_grid(pictures, truth)
    images.tile_grid([(runs.caption("gauss:10", 24.3, True), truth)], title="σ = 10, ω₀ = 30, 10⁻² × 2")
    assert len(drawn) >= 7
    bad = {t: [c for c in t if missing(c)] for t in drawn if any(missing(c) for c in t)}
    assert not bad, f"missing glyphs drawn: {bad}"
