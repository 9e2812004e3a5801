"""Images in, pixel grids out: decoding, the centre-square resize, coordinates and the split.

Everything a person can hand the explorer (a path, an upload's bytes, an open file, a PIL image or a
NumPy array) passes through `load_image`, which returns a `(size, size, 3)` float32 array in [0, 1], or
`windows`, which cuts `size`-px windows from the picture at its own resolution (the cropped protocol).
This module is the edge: whatever cannot be used is refused here with an `ImageError` whose message
is a sentence for a person (what was wrong, what is allowed), so the rest of `ffn` can trust its
inputs.

Conventions, as in Tancik et al. (2020): colours are sRGB values scaled to [0, 1] (not
linearised), transparent pixels are shown on white, the image is the centre square of the picture,
and pixel `(row, col)` sits at coordinate `(col / size, row / size)` (see `coordinates`). The model
trains on the even rows and columns and is tested on the odd ones (`train_pixels`, `test_pixels`).
"""

from __future__ import annotations

import io
import math
import operator
import os
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ffn.core import checks

__all__ = [
    "ImageError",
    "MIN_SIDE",
    "MAX_PIXELS",
    "MAX_ASPECT",
    "MIN_RESOLUTION",
    "MAX_RESOLUTION",
    "check_size",
    "decode_image",
    "load_image",
    "Window",
    "MAX_WINDOWS",
    "window_boxes",
    "windows",
    "coordinates",
    "train_pixels",
    "test_pixels",
]

MIN_SIDE = 16  # px on the shorter side; below this there is nothing left to fit.
MAX_PIXELS = 50_000_000  # width * height; a 48 MP phone photo passes, a decompression bomb not.
MAX_ASPECT = 10.0  # longer / shorter side; past this the centre square keeps under a tenth of it.
MIN_RESOLUTION = 16  # px, smallest training grid `check_size` accepts.
MAX_RESOLUTION = 2048  # px, largest; 4 M pixels is already far past what trains interactively.
MAX_WINDOWS = 64  # windows cut from one picture (`windows`): an 8×8 grid

_FORMATS = "PNG, JPEG, GIF, WebP, BMP, TIFF, …"
# Pillow decoders tried on uploads. Plain raster formats only: EPS/PS would run Ghostscript on
# untrusted input, and WMF, FITS, MPEG and friends are not photographs anyway. MPO is how Pillow
# opens many phone JPEGs (they carry a second, preview picture).
_DECODERS = (
    "PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "DIB", "TIFF", "PPM", "ICO", "TGA", "AVIF", "QOI",
    "JPEG2000",
)


class ImageError(ValueError):
    """An image that cannot be used; `str(e)` is a sentence for a person."""


# --------------------------------------------------------------------------------------------------
# Public API


def check_size(size) -> int:
    """Validates a training resolution (px per side) and returns it as an `int`.

    It must be a whole, even number between `MIN_RESOLUTION` and `MAX_RESOLUTION`: even because the
    train/test split takes every other pixel, so both halves are then exactly `size // 2` per side.
    Whole floats (e.g. 256.0 from a UI slider) are accepted; bools, strings and fractions are not.
    Raises `checks.Invalid` (a ValueError) with a message for a person.
    """
    value = checks.whole(size, "size (resolution)", MIN_RESOLUTION, MAX_RESOLUTION, param="size")
    if value % 2:
        raise checks.Invalid(f"size (resolution) must be an even number of pixels (got {value}).", "size")
    return value


def decode_image(source) -> Image.Image:
    """Decodes any accepted source to an upright 8-bit RGB PIL image, full size and uncropped.

    `source` is a path (str or os.PathLike), the bytes of an encoded file (bytes, bytearray,
    memoryview), a binary file object, a PIL image, or a NumPy array of shape (H, W), (H, W, 1),
    (H, W, 3) or (H, W, 4) with dtype uint8, uint16, bool or float in [0, 1].
    The EXIF orientation is applied, an animation gives its first frame, and transparency is
    composited on white. Meant for display; `load_image` keeps more than 8 bits of precision.
    Raises `ImageError` for anything that cannot be used.
    """
    pixels = _to_rgb_float(_open(source))  # (H, W, 3) float32 in [0, 1]
    return Image.fromarray(np.round(pixels * 255.0).astype(np.uint8))


def load_image(source, size: int) -> np.ndarray:
    """Loads the centre square of an image, resized to `size` x `size`.

    `source` is anything `decode_image` accepts; `size` is checked by `check_size`.
    Returns a `(size, size, 3)` float32 array of sRGB values in [0, 1], transparency on white.
    Resampling is Lanczos on float channels, so 16-bit and float sources keep their precision.
    Raises `ImageError` for an unusable image and `ValueError` for a bad `size`.
    """
    size = check_size(size)
    picture = _open(source)
    if isinstance(picture, Image.Image):
        box = _centre_square(picture.width, picture.height)
        factor = (box[2] - box[0]) // (2 * size)
        if factor >= 2:
            # A big image of any mode is box-averaged by a whole factor first, so the float copy
            # below is ~2-4x the target instead of full size (800 MB of float32 for a 50 MP RGBA
            # image). Rounding the averages back to the mode's levels costs at most half a level;
            # Lanczos then still sees at least two source pixels per output pixel.
            picture = _reduce(picture, factor, box)
        else:
            picture = picture.crop(box)
        pixels = _to_rgb_float(picture)
    else:
        height, width = picture.shape[:2]
        left, top, right, bottom = _centre_square(width, height)
        pixels = _to_rgb_float(picture[top:bottom, left:right])
    return _resize(pixels, size)


class Window(NamedTuple):
    """A window cut from a picture at its own resolution (`windows`)."""

    box: tuple[int, int, int, int]  # (left, top, right, bottom) in the upright picture's pixels
    pixels: np.ndarray  # (size, size, 3) float32 sRGB in [0, 1]


def window_boxes(width: int, height: int, size: int, count: int = 1) -> list[tuple[int, int, int, int]]:
    """Where `windows` cuts `count` windows of `size`×`size` px from a `width`×`height` picture.

    The picture is split into a g×g grid of cells, g = ⌈√count⌉, and window k is centred in cell k, counting row by
    row from the top left: one window is the picture's centre; four are centred in its quarters. A cell is at least
    `size` px on each side, so windows never overlap. Returns (left, top, right, bottom) boxes; raises `ImageError`
    when the picture cannot hold them (with what it can hold) and `checks.Invalid` for a bad `size` or `count`.
    """
    size = check_size(size)
    count = checks.whole(count, "windows (how many per image)", 1, MAX_WINDOWS, param="windows")
    if min(width, height) < size:
        raise ImageError(
            f"This image is {width}×{height} pixels: a {size}-px window cut at its own resolution needs at least "
            f"{size} pixels on each side. Choose a smaller size, or train on the whole image scaled to {size} px "
            "(without crop)."
        )
    grid = math.isqrt(count - 1) + 1  # ⌈√count⌉
    fits = min(width, height) // size  # cells per side that are at least a window wide
    if grid > fits:
        raise ImageError(
            f"This {width}×{height} image holds at most {fits * fits} windows of {size} px that do not overlap "
            f"(a {fits}×{fits} grid); {count} were asked for."
        )
    boxes = []
    for k in range(count):
        row, col = divmod(k, grid)
        # The centre of cell (row, col) is ((2 col + 1) W / 2g, (2 row + 1) H / 2g); integer arithmetic, so a box
        # is the same on every machine.
        left = ((2 * col + 1) * width - grid * size) // (2 * grid)
        top = ((2 * row + 1) * height - grid * size) // (2 * grid)
        boxes.append((left, top, left + size, top + size))
    return boxes


def windows(source, size: int, count: int = 1) -> list[Window]:
    """`count` windows of `size`×`size` px cut from an image at its own resolution (`window_boxes` says where).

    The cropped protocol: a window keeps the picture's detail per pixel, where `load_image` scales the whole
    centre square to `size` and shrinks its detail with it (a 512-px page of text at 128 px has glyphs smaller
    than the training grid). `source` is anything `decode_image` accepts, checked as `load_image` checks it.
    A file is decoded once in its own 8- or 16-bit form and only the windows become float32, so a large photograph
    never costs a float copy of the whole of it (a NumPy source is the caller's array, converted as given).
    Returns a list of `Window(box, pixels)`, pixels `(size, size, 3)` float32 sRGB in [0, 1], transparency on
    white. Raises `ImageError` for an unusable image or one too small for the windows, `ValueError` for a bad
    `size` or `count`.
    """
    size = check_size(size)
    picture = _open(source)
    if isinstance(picture, Image.Image):
        boxes = window_boxes(picture.width, picture.height, size, count)
        return [Window(box, _to_rgb_float(picture.crop(box))) for box in boxes]
    height, width = picture.shape[:2]
    boxes = window_boxes(width, height, size, count)
    return [Window((left, top, right, bottom), _to_rgb_float(picture[top:bottom, left:right]))
            for left, top, right, bottom in boxes]


def to_uint8(image: np.ndarray) -> np.ndarray:
    """An image as uint8 (H, W, 3): uint8 passes through, floats are taken as [0, 1] (clipped, rounded).

    Grey (H, W) or (H, W, 1) is repeated to RGB and an alpha channel is dropped. NaN (a diverged
    network) becomes black rather than an undefined cast.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {image.shape}")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[:, :, :3]
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if np.issubdtype(image.dtype, np.integer):
        raise TypeError(f"integer images must be uint8 (0-255); got {image.dtype}")
    # astype also covers float16 and bfloat16 arrays, whose dtype is not an np.floating subtype.
    x = np.nan_to_num(image.astype(np.float32), nan=0.0)
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def coordinates(size: int) -> np.ndarray:
    """The input grid of the paper's demo: a `(size, size, 2)` float32 array in [0, 1).

    `[..., 0]` is the column (x) and varies along axis 1; `[..., 1]` is the row (y) and varies along
    axis 0. Spacing is `1 / size` with no endpoint, so the grid tiles periodically, as in the paper.
    """
    size = operator.index(size)
    if size < 1:
        raise ValueError(f"A coordinate grid needs at least 1 pixel per side (got {size}).")
    c = np.linspace(0, 1, size, endpoint=False)
    return np.stack(np.meshgrid(c, c), -1).astype(np.float32)


def train_pixels(a):
    """The paper's training split: even rows and columns, `(H, W, ...)` -> `(H/2, W/2, ...)`."""
    return a[::2, ::2]


def test_pixels(a):
    """The held-out test split: odd rows and odd columns, `(H, W, ...)` -> `(H/2, W/2, ...)`.

    Each test pixel sits diagonally between four training pixels, so it measures interpolation.
    """
    return a[1::2, 1::2]


# --------------------------------------------------------------------------------------------------
# Opening: every kind of source becomes a loaded, upright PIL image or a float array, or is refused.


def _open(source) -> Image.Image | np.ndarray:
    """A decoded, upright PIL image, or for NumPy sources an `(H, W, C)` float32 array in [0, 1]
    (C in 1, 3, 4). Sizes are checked; every failure becomes an `ImageError`."""
    if isinstance(source, np.ndarray):
        return _array_to_float(source)
    if isinstance(source, Image.Image):
        # The caller's image, taken at the frame it is on; only its size is checked here, and
        # `_load` works on a copy so the caller's object is not changed.
        _check_dimensions(*source.size)
        return _load(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ImageError("The file is empty (0 bytes); choose an image file.")
        return _decode(io.BytesIO(data))
    if isinstance(source, (str, os.PathLike)):
        return _decode_path(source)
    if hasattr(source, "read"):
        try:
            data = source.read()
        except OSError as err:
            raise ImageError(f"The file could not be read ({_reason(err)}).") from err
        if isinstance(data, str):
            raise ImageError("The file was opened as text; images must be read in binary mode.")
        return _open(bytes(data) if data is not None else b"")
    raise ImageError(
        "Expected an image as a file path, file bytes, a binary file, a PIL image or a NumPy "
        f"array (got {type(source).__name__})."
    )


def _decode_path(source) -> Image.Image:
    """Decodes the file at a path, naming the path in every refusal."""
    path = os.fspath(source)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not os.path.exists(path):
        raise ImageError(f"There is no file at {path!r}; check the name and folder.")
    if os.path.isdir(path):
        raise ImageError(f"{path!r} is a folder, not an image file.")
    try:
        if os.path.getsize(path) == 0:
            raise ImageError(f"The file {path!r} is empty (0 bytes); choose an image file.")
        with open(path, "rb") as file:
            return _decode(file)
    except PermissionError as err:
        raise ImageError(f"The file {path!r} cannot be read: permission denied.") from err
    except OSError as err:
        raise ImageError(f"The file {path!r} could not be read ({_reason(err)}).") from err


def _decode(file) -> Image.Image:
    """Decodes an open binary file, checking the declared size *before* any pixel is decoded."""
    try:
        # `Image.open` reads only the header. Pillow's own bomb guard (a warning past ~89 MP, an
        # error past ~179 MP) fires only above our stricter MAX_PIXELS, so it needs no silencing:
        # both just become our message. Warning filters are process-wide, so they stay untouched.
        image = Image.open(file, formats=_available_decoders())
    except UnidentifiedImageError as err:
        raise ImageError(f"This file is not an image that can be read ({_FORMATS}).") from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(
            f"This image declares far more than {MAX_PIXELS / 1e6:g} megapixels, the limit; "
            "it may be a decompression bomb. Use a smaller image."
        ) from err
    except Exception as err:  # Header parsers for a dozen formats raise a zoo of types.
        raise ImageError(
            f"This file looks damaged: its header could not be read ({_reason(err)})."
        ) from err
    with image:
        _check_dimensions(*image.size)
        return _load(image)


def _available_decoders() -> tuple[str, ...]:
    """The `_DECODERS` this Pillow build has (AVIF and JPEG 2000 depend on optional libraries)."""
    Image.init()  # Registers every plugin; cheap after the first call.
    return tuple(name for name in _DECODERS if name in Image.OPEN)


def _load(image: Image.Image) -> Image.Image:
    """Decodes the pixels (errors become `ImageError`) and returns an upright copy."""
    try:
        image.load()
    except Exception as err:  # Truncated or corrupt data: OSError, SyntaxError, EOFError, ...
        raise ImageError(
            "This image is damaged or cut short; its pixels could not be decoded "
            f"({_reason(err)}). Try exporting it again."
        ) from err
    try:
        if image.getexif().get(0x0112, 1) in (0, 1):  # upright already (0 is an invalid tag, read as upright)
            # No copy: a 50 MP RGBA image is 200 MB, and every later step (crop, reduce, convert) makes a new
            # image, so the caller's is never changed.
            return image
        return ImageOps.exif_transpose(image)
    except Exception:
        # Malformed EXIF is common in the wild and says nothing about the pixels: keep them as
        # stored rather than refuse a picture that displays fine everywhere else.
        return image


def _check_dimensions(width: int, height: int) -> None:
    """Refuses images too big, too small or too elongated to make a useful square."""
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"This image is {width}×{height} pixels ({width * height / 1e6:,.0f} megapixels); "
            f"the limit is {MAX_PIXELS / 1e6:g} megapixels. Use a smaller image."
        )
    short, long = min(width, height), max(width, height)
    if short < MIN_SIDE:
        raise ImageError(
            f"This image is too small ({width}×{height} pixels); it needs at least {MIN_SIDE} "
            "pixels on its shorter side."
        )
    if long > MAX_ASPECT * short:
        raise ImageError(
            f"This image is too elongated ({width}×{height} pixels, {long / short:.0f}:1); the "
            f"centre square would keep only a sliver of it. Use one no longer than "
            f"{MAX_ASPECT:g}:1, or crop it closer to a square."
        )


def _reason(err: BaseException) -> str:
    """A short, single-line reason from a library exception, for the end of our message."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


# --------------------------------------------------------------------------------------------------
# Pixels: any mode or array to (H, W, 3) float32 in [0, 1], then the resize.


def _array_to_float(array: np.ndarray) -> np.ndarray:
    """Validates a NumPy image (shape, size, dtype, values) and returns it as `(H, W, C)` float32
    in [0, 1], C in 1, 3, 4."""
    shapes = "(H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageError(f"An image array must have shape {shapes} (got {array.shape}).")
    _check_dimensions(array.shape[1], array.shape[0])  # before any float copy is made
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError("This image array contains NaN or infinite values; it needs numbers "
                             "in [0, 1].")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ImageError(
                f"A float image array must hold values in [0, 1] (got {low:g} to {high:g}); "
                "divide 8-bit levels by 255."
            )
        return array.astype(np.float32)
    raise ImageError(
        f"An image array must be uint8, uint16, bool or float in [0, 1] (got {array.dtype})."
    )


def _reduce(image: Image.Image, factor: int, box: tuple[int, int, int, int]) -> Image.Image:
    """The `box` of `image` box-averaged by a whole `factor`, in a mode whose average is right:
    transparent images premultiplied (so a transparent pixel's colour does not bleed into its
    neighbours), 16-bit ones widened to 32-bit integers, palettes, bilevel and colour spaces whose
    channels do not average (HSV) taken to 8-bit L, RGB or RGBA first. Done a strip of rows at a
    time, so no second full-size copy is made (a 50 MP RGBA image is 200 MB already), and no
    float copy at all."""
    mode = image.mode
    if mode == "1":
        work = result = "L"
    elif mode.startswith("I;16"):
        work = result = "I"
    elif mode == "P":
        transparent = "transparency" in image.info or image.palette.mode == "RGBA"
        result = "RGBA" if transparent else "RGB"
        work = "RGBa" if transparent else "RGB"
    elif mode in ("L", "I", "F", "RGB"):
        work = result = mode
    elif mode in ("RGBA", "LA"):
        work, result = {"RGBA": "RGBa", "LA": "La"}[mode], mode
    else:  # PA, La, RGBa, RGBX, CMYK, YCbCr, LAB, HSV
        alpha = "A" in image.getbands() or "a" in image.getbands()
        work, result = ("RGBa", "RGBA") if alpha else ("RGB", "RGB")
    left, top, right, bottom = box
    width, height = (right - left) // factor, (bottom - top) // factor
    out = Image.new(result, (width, height))
    rows = factor * max(1, 2**20 // (factor * (right - left)))  # about a megapixel a strip, whole output rows
    for y in range(top, top + height * factor, rows):
        strip = image.crop((left, y, left + width * factor, min(y + rows, top + height * factor)))
        try:
            strip = strip.convert(result) if strip.mode != result else strip  # P, 1, CMYK, … to L, RGB or RGBA
            strip = strip.convert(work) if strip.mode != work else strip  # then premultiplied, if transparent
        except ValueError as err:
            raise ImageError(f"Images in colour mode {mode} are not supported.") from err
        reduced = strip.reduce(factor)
        out.paste(reduced.convert(result) if reduced.mode != result else reduced, (0, (y - top) // factor))
    return out


def _mode_to_float(image: Image.Image) -> np.ndarray:
    """`(H, W, C)` float32 in [0, 1] from a PIL image of any mode; C is 1-4, alpha last if any."""
    mode = image.mode
    if mode.startswith("I;16"):  # I;16, I;16L, I;16B, I;16N: unsigned 16-bit greyscale.
        return np.asarray(image).astype(np.float32)[:, :, None] / 65535.0
    if mode == "I":
        # 32-bit signed. In practice it is widened 16-bit data (older PNG/TIFF paths, or a
        # convert("I")), so values up to 65535 are read as 16-bit; beyond that, the int32 range.
        values = np.asarray(image).astype(np.float64)
        top = 65535.0 if values.max(initial=0) <= 65535 else float(np.iinfo(np.int32).max)
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)[:, :, None]
    if mode == "F":
        values = np.asarray(image).astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ImageError("This image contains NaN or infinite values and cannot be shown.")
        # Float images are meant to be [0, 1]; some tools store 8- or 16-bit levels as floats.
        high = float(values.max(initial=0))
        top = 1.0 if high <= 1 else 255.0 if high <= 255 else 65535.0 if high <= 65535 else high
        return np.clip(values / top, 0.0, 1.0)[:, :, None]
    if mode == "1":
        image = image.convert("L")
    elif mode == "P":
        # Palette transparency (a tRNS entry or an RGBA palette) must survive as alpha.
        transparent = "transparency" in image.info or image.palette.mode == "RGBA"
        image = image.convert("RGBA" if transparent else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        # PA, La, RGBa, RGBX, CMYK, YCbCr, LAB, HSV: Pillow's own conversions handle them.
        target = "RGBA" if "A" in image.getbands() or "a" in image.getbands() else "RGB"
        try:
            image = image.convert(target)
        except ValueError as err:
            raise ImageError(f"Images in colour mode {mode} are not supported.") from err
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    return array.astype(np.float32) / 255.0


def _to_rgb_float(picture: Image.Image | np.ndarray) -> np.ndarray:
    """`(H, W, 3)` float32 in [0, 1], any alpha composited on white (the paper's background)."""
    pixels = _mode_to_float(picture) if isinstance(picture, Image.Image) else picture
    channels = pixels.shape[2]
    if channels in (2, 4):
        colour, alpha = pixels[:, :, :-1], pixels[:, :, -1:]
        pixels = colour * alpha + (1.0 - alpha)  # "over" a white background, straight alpha
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels, dtype=np.float32)


def _centre_square(width: int, height: int) -> tuple[int, int, int, int]:
    """The `(left, top, right, bottom)` box of the largest centred square, in pixels."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def _resize(pixels: np.ndarray, size: int) -> np.ndarray:
    """`(S, S, 3)` -> `(size, size, 3)` float32, Lanczos per channel in Pillow's float mode "F"
    (so no 8-bit rounding), clipped to [0, 1] because Lanczos rings past edges."""
    if pixels.shape[:2] == (size, size):
        return np.clip(pixels, 0.0, 1.0)
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(pixels[:, :, c])).resize(
                (size, size), Image.Resampling.LANCZOS, reducing_gap=3.0
            )
        )
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)
