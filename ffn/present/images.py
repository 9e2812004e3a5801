"""Labelled image grids (Pillow) for side-by-side reconstructions: one tile per mapping, a caption under each.

Tiles are enlarged by an integer factor with nearest-neighbour sampling, so the blur of an
under-fitting mapping (spectral bias) is the network's and not the resampler's.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ffn.core.data import to_uint8

_INK = (17, 24, 39)  # near-black text
_BORDER = (209, 213, 219)  # light grey hairline, so a white-ish tile still has an edge
_WHITE = 255


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled FreeType font (Aileron) at `size` px; no system fonts are needed."""
    return ImageFont.load_default(size=size)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> tuple:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@functools.lru_cache(maxsize=4096)
def has_glyph(char: str) -> bool:
    """Whether the bundled font draws `char` (one character) as itself rather than as its missing-glyph box.

    Pillow's Aileron is a subset (ASCII and a few signs such as · … ± ° “ ”: no Greek, no −, no ×, no é),
    and Pillow exposes no character map, so the glyph is compared with that of a private-use character.
    """
    font = _font(20)
    return _glyph(font, char) != _glyph(font, "\ue000")


# What we write, and visitors' file names may hold, spelled with glyphs the font has. Greek letters are
# spelled out from their Unicode names (σ -> sigma), accents are dropped (é -> e), anything else is "?".
_PLAIN = {"−": "-", "–": "-", "—": "-", "‐": "-", "×": "x", "≈": "~", "≤": "<=", "≥": ">=", "≠": "!=",
          "→": "->", "←": "<-", "∞": "inf", "√": "sqrt", "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE",
          "✓": "", "✔": "", "⚠": "!"}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉₋₊", "0123456789-+")


def drawable(text: str) -> str:
    """`text` with every character the bundled font lacks replaced by an equivalent it has (one place for all
    the pictures' text): − -> -, × -> x, σ -> sigma, ω₀ -> omega0, 10⁻² -> 10^-2, é -> e, else "?"."""
    out, superscript = [], False
    for char in text:
        if has_glyph(char):
            out.append(char)
            superscript = False
            continue
        plain = char.translate(_SUPERSCRIPTS)
        if plain != char:  # a run of superscripts after one caret: 10⁻² -> 10^-2
            out.append(plain if superscript else "^" + plain)
            superscript = True
            continue
        superscript = False
        if (plain := char.translate(_SUBSCRIPTS)) != char:
            out.append(plain)
        elif char in _PLAIN:
            out.append(_PLAIN[char])
        elif unicodedata.name(char, "").startswith("GREEK"):  # GREEK SMALL LETTER SIGMA -> sigma
            name = unicodedata.name(char).split()[-1].lower()
            out.append(name.capitalize() if "CAPITAL" in unicodedata.name(char) else name)
        elif (decomposed := unicodedata.normalize("NFKD", char)) != char:  # é -> e, µ -> μ -> mu, ﬁ -> fi
            out.append(drawable("".join(c for c in decomposed if not unicodedata.combining(c))) or "?")
        else:
            out.append("?")
    return "".join(out)


def _fit(text: str, max_width: float, max_size: int, min_size: int = 10) -> tuple[str, ImageFont.FreeTypeFont]:
    """The largest font size <= max_size at which `text` fits `max_width`; past min_size it is cut with '…'.
    Characters the font lacks are replaced first (`drawable`), so no missing-glyph box is ever drawn."""
    text = drawable(text)
    for size in range(max_size, min_size - 1, -1):
        font = _font(size)
        if font.getlength(text) <= max_width:
            return text, font
    font = _font(min_size)
    while len(text) > 1 and font.getlength(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…", font


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def tile_grid(
    tiles: Sequence[tuple[str, np.ndarray]],
    title: str | None = None,
    columns: int | None = None,
    min_tile: int = 256,
    multiple: int = 16,
) -> np.ndarray:
    """Lay labelled images out on a white canvas: each tile above its caption, an optional title on top.

    tiles: (label, image) pairs; images (h, w, 3) uint8 or float in [0, 1], all the same size.
    columns: tiles per row; by default one row for up to 6 tiles, else a near-square grid.
    min_tile: each tile is enlarged by the smallest integer factor that makes it at least this wide.
    multiple: the canvas is padded (white, content centred) so H and W are multiples of this, as
        H.264 encoders want.
    Returns uint8 (H, W, 3).
    """
    if not tiles:
        raise ValueError("tile_grid needs at least one (label, image) tile")
    if min_tile < 1 or multiple < 1:
        raise ValueError(f"min_tile and multiple must be >= 1; got {min_tile} and {multiple}")
    labels = [str(label) for label, _ in tiles]
    images = [to_uint8(image) for _, image in tiles]
    sizes = {img.shape[:2] for img in images}
    if len(sizes) > 1:
        listed = ", ".join(f"{label!r}: {img.shape[1]}x{img.shape[0]}" for label, img in zip(labels, images))
        raise ValueError(f"all tiles must have the same size (width x height); got {listed}")

    n = len(images)
    if columns is None:
        columns = n if n <= 6 else math.ceil(math.sqrt(n))
    if columns < 1:
        raise ValueError(f"columns must be >= 1; got {columns}")
    columns = min(columns, n)
    rows = math.ceil(n / columns)

    h, w = images[0].shape[:2]
    scale = max(1, math.ceil(min_tile / w))
    tw, th = w * scale, h * scale  # tile size on the canvas
    gap = max(8, tw // 32)  # between tiles and around the edge
    caption_h = min(max(round(tw * 0.12), 22), 44)
    title_h = round(caption_h * 1.3) if title else 0

    content_w = columns * tw + (columns + 1) * gap
    content_h = title_h + rows * (th + caption_h) + rows * gap + (gap if not title else gap // 2)
    width, height = _round_up(content_w, multiple), _round_up(content_h, multiple)
    left, top = (width - content_w) // 2, (height - content_h) // 2

    canvas = np.full((height, width, 3), _WHITE, dtype=np.uint8)
    origins = []  # top-left corner of each tile
    y0 = top + (title_h + gap // 2 if title else gap)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        x = left + gap + c * (tw + gap)
        y = y0 + r * (th + caption_h + gap)
        origins.append((x, y))
        # A 1 px hairline just outside the tile; the tile itself is never drawn over.
        canvas[y - 1 : y + th + 1, x - 1 : x + tw + 1] = _BORDER
        canvas[y : y + th, x : x + tw] = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)  # NEAREST

    pil = Image.fromarray(canvas)
    draw = ImageDraw.Draw(pil)
    caption_size = round(caption_h * 0.58)
    for label, (x, y) in zip(labels, origins):
        if label:
            text, font = _fit(label, tw - 8, caption_size)
            draw.text((x + tw / 2, y + th + caption_h / 2 + 1), text, fill=_INK, font=font, anchor="mm")
    if title:
        text, font = _fit(title, content_w - 2 * gap, round(title_h * 0.6))
        draw.text((left + content_w / 2, top + title_h / 2 + gap / 2), text, fill=_INK, font=font, anchor="mm")
    return np.asarray(pil)
