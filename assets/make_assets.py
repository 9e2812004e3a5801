"""Regenerates the bundled example images (a maintainer script; nothing imports it at run time).

    python assets/make_assets.py

`text.png` and `pattern.png` are drawn here from numpy and Pillow alone and come out byte-for-byte
the same on every run with the same Pillow. The three photographs are copied from an installed
scikit-image (its sample data, CC0 / public domain, see CREDITS.md): pixels unchanged, re-encoded
as optimised PNG without metadata (their embedded ICC profiles are plain sRGB, which is what the
loader assumes anyway). Without scikit-image the photographs already here are left alone.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ffn.experiments import table1  # noqa: E402 (the repository's package, run from anywhere)

HERE = os.path.dirname(os.path.abspath(__file__))
SIDE = 512  # px, the resolution of the paper's image experiments
PHOTOS = {"cat.png": "chelsea.png", "coffee.png": "coffee.png", "astronaut.png": "astronaut.png"}


def make_text(side: int = SIDE, seed: int = 2020) -> Image.Image:
    """Lines of words in several sizes and colours on a light background, like the paper's text set.

    Glyph edges are the sharp, high-frequency detail a coordinate MLP without Fourier features
    blurs. The font is Pillow's built-in default (Aileron, CC0), so no font file is needed.
    """
    rng = np.random.default_rng(seed)
    words = (
        "Fourier features let networks learn high frequency functions in low dimensional "
        "domains coordinate MLP spectral bias neural tangent kernel stationary Gaussian "
        "mapping positional encoding sharp edges fine detail"
    ).split()
    colours = [
        (20, 20, 20), (178, 34, 34), (25, 80, 170), (20, 120, 60),
        (150, 60, 160), (200, 110, 0), (0, 120, 130), (90, 90, 90),
    ]
    image = Image.new("RGB", (side, side), (250, 247, 240))
    draw = ImageDraw.Draw(image)
    margin, y, w = 14, 10, 0
    while True:
        font_size = int(rng.choice([16, 20, 24, 30, 38, 48, 60]))
        font = ImageFont.load_default(size=font_size)
        ascent, descent = font.getmetrics()
        if y + ascent + descent > side - 6:
            break
        x = margin
        while True:
            word = words[w % len(words)]
            width = draw.textlength(word, font=font)
            if x + width > side - margin:
                break
            colour = colours[int(rng.integers(len(colours)))]
            draw.text((x, y), word, font=font, fill=colour)
            x += width + draw.textlength(" ", font=font)
            w += 1
        y += ascent + descent + int(rng.integers(2, 10))
    return image


def make_pattern(side: int = SIDE, supersample: int = 4) -> Image.Image:
    """A colour zone plate (frequency rising from the centre) with a checkerboard corner.

    The local frequency grows linearly with the distance from the centre, reaching 0.22 cycles/px
    in the corners: under 0.25, the Nyquist limit of the training split (every other pixel) at
    512 px, so even the outermost rings are learnable from it and nothing aliases. Each pixel is
    the average of `supersample`^2 samples for clean rings. Red, green and blue are the
    same chirp a third of a cycle apart, so rings are rainbow-coloured. A plain MLP gets the smooth
    centre and smears the outer rings to grey: spectral bias at a glance.
    """
    n = side * supersample
    t = (np.arange(n) + 0.5) / supersample - side / 2  # px from the centre, at sample centres
    x, y = np.meshgrid(t, t)
    r2 = x**2 + y**2
    r_max = np.hypot(side / 2, side / 2)
    f_max = 0.22  # cycles/px at r_max; local frequency is f_max * r / r_max
    phase = np.pi * f_max * r2 / r_max  # d(phase)/dr / 2pi = f_max * r / r_max
    offsets = np.array([0.0, 2.0, 4.0]) * np.pi / 3
    rgb = 0.5 + 0.5 * np.cos(phase[..., None] + offsets)
    rgb = rgb.reshape(side, supersample, side, supersample, 3).mean(axis=(1, 3))

    # Top-left corner: a 128 px checkerboard of 8 px squares with a white frame, pixel-aligned so
    # its edges are perfectly sharp. 8 px squares still leave 2 px squares in the training split
    # of a 256 px load; 4 px ones would vanish there (every other pixel of a 1 px checkerboard).
    block, square, frame = 128, 8, 4
    rows, cols = np.mgrid[:block, :block]
    board = ((rows // square + cols // square) % 2).astype(float)
    rgb[:block, :block] = 1.0
    rgb[:block - frame, :block - frame] = board[:block - frame, :block - frame, None]
    return Image.fromarray(np.round(rgb * 255).astype(np.uint8))


def write_text_set(folder: str | pathlib.Path, seeds: Sequence[int] = (1, 2, 3, 4, 5), side: int = 512) -> list[pathlib.Path]:
    """Renders `table1.make_text_image(seed)` for each seed into folder/text-SEED.png (the bundled assets/text)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"text-{seed}.png" for seed in seeds]
    for seed, path in zip(seeds, paths):
        table1.make_text_image(seed, side).save(path, optimize=True)
    return paths


def copy_photos() -> None:
    """Copies the sample photographs from scikit-image, if it is installed."""
    try:
        import skimage.data
    except ImportError:
        print("scikit-image is not installed; keeping the photographs already here.")
        return
    folder = os.path.dirname(skimage.data.__file__)
    for name, original in PHOTOS.items():
        with Image.open(os.path.join(folder, original)) as photo:
            photo.convert("RGB").save(os.path.join(HERE, name), optimize=True)


def main() -> int:
    make_text().save(os.path.join(HERE, "text.png"), optimize=True)
    make_pattern().save(os.path.join(HERE, "pattern.png"), optimize=True)
    write_text_set(os.path.join(HERE, "text"))  # the text set of Table 1
    copy_photos()
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".png"):
            print(f"{name:15s} {os.path.getsize(os.path.join(HERE, name)) / 1024:6.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
