"""Tests for `ffn.data`: decoding every kind of source and mode, the crop, the refusals, the grids.

Images are built in the test (a few dozen pixels) and loaded at their own size where exact values
are asserted, so no resampling blurs the expectation.
"""

import io
import os
import pathlib
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ffn.core import data
from ffn.core.data import ImageError

ASSETS = pathlib.Path(__file__).resolve().parent.parent / "assets"
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def png_with_declared_size(width: int, height: int) -> bytes:
    """A valid tiny PNG whose IHDR claims `width` x `height` (CRC fixed): a fake bomb."""
    raw = bytearray(encode(Image.new("RGB", (16, 16))))
    assert raw[12:16] == b"IHDR"
    raw[16:24] = struct.pack(">II", width, height)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    return bytes(raw)


# --- Modes ----------------------------------------------------------------------------------------


def test_greyscale_gives_equal_channels():
    levels = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) % 256
    out = data.load_image(Image.fromarray(levels.astype(np.uint8), "L"), 32)
    assert out.shape == (32, 32, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    np.testing.assert_allclose(out[..., 0], levels / 255.0, atol=1e-6)


def test_alpha_is_composited_on_white():
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., :3] = (200, 0, 0)
    rgba[:, :16, 3] = 0  # fully transparent: must be white whatever its stored colour
    rgba[:, 16:, 3] = 128
    out = data.load_image(encode(Image.fromarray(rgba, "RGBA")), 32)
    np.testing.assert_allclose(out[:, :16], 1.0, atol=1e-6)
    a = 128 / 255
    expected = [200 / 255 * a + (1 - a), 1 - a, 1 - a]
    np.testing.assert_allclose(out[:, 16:], np.broadcast_to(expected, (32, 16, 3)), atol=1e-6)


def test_greyscale_with_alpha():
    la = Image.merge("LA", (Image.new("L", (16, 16), 0), Image.new("L", (16, 16), 0)))
    np.testing.assert_allclose(data.load_image(la, 16), 1.0)


def test_palette_without_transparency():
    image = Image.new("P", (32, 32), 1)
    image.putpalette([*RED, *BLUE] + [0] * (256 * 3 - 6))
    image.paste(0, (0, 0, 16, 32))
    out = data.load_image(encode(image), 32)
    np.testing.assert_allclose(out[:, :16], np.broadcast_to([1, 0, 0], (32, 16, 3)))
    np.testing.assert_allclose(out[:, 16:], np.broadcast_to([0, 0, 1], (32, 16, 3)))


def test_palette_transparency_becomes_white():
    image = Image.new("P", (32, 32), 1)
    image.putpalette([*RED, *BLUE] + [0] * (256 * 3 - 6))
    image.paste(0, (0, 0, 16, 32))
    out = data.load_image(encode(image, transparency=1), 32)  # index 1 (blue) is transparent
    np.testing.assert_allclose(out[:, :16], np.broadcast_to([1, 0, 0], (32, 16, 3)))
    np.testing.assert_allclose(out[:, 16:], 1.0)


def test_16_bit_ramp_keeps_full_precision():
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    decoded = Image.open(io.BytesIO(encode(Image.fromarray(ramp))))
    assert decoded.mode == "I;16"  # so the test really exercises the 16-bit path
    out = data.load_image(encode(Image.fromarray(ramp)), 256)
    np.testing.assert_allclose(out[..., 0], ramp / 65535.0, rtol=0, atol=1e-6)
    assert out.min() == 0.0 and out.max() == 1.0


@pytest.mark.parametrize("size", [32, 16])  # own size, then through the float resize
def test_16_bit_levels_equal_in_8_bits_stay_distinct(size):
    low, high = 1024, 1200  # both are level 4 once reduced to 8 bits
    assert low >> 8 == high >> 8
    levels = np.full((32, 32), low, np.uint16)
    levels[:, 16:] = high
    out = data.load_image(encode(Image.fromarray(levels)), size)
    left, right = out[size // 2, 2, 0], out[size // 2, size - 3, 0]
    assert left != right
    np.testing.assert_allclose([left, right], [low / 65535, high / 65535], atol=1e-6)


def test_32_bit_int_and_float_modes():
    levels = np.full((16, 16), 30000, np.uint16)
    as_int = Image.fromarray(levels).convert("I")
    np.testing.assert_allclose(data.load_image(as_int, 16), 30000 / 65535, atol=1e-6)
    as_float = Image.fromarray(np.full((16, 16), 0.25, np.float32))
    assert as_float.mode == "F"
    np.testing.assert_allclose(data.load_image(as_float, 16), 0.25)


def test_cmyk():
    image = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # no cyan, full magenta+yellow: red
    out = data.load_image(encode(image, "TIFF"), 16)
    np.testing.assert_allclose(out, np.broadcast_to([1, 0, 0], (16, 16, 3)))


@pytest.mark.parametrize("mode", ["1", "YCbCr", "RGBX", "PA"])
def test_other_modes_convert(mode):
    image = Image.new("RGB", (16, 16), (255, 255, 255)).convert(mode)
    np.testing.assert_allclose(data.load_image(image, 16), 1.0, atol=2 / 255)


# --- Geometry -------------------------------------------------------------------------------------


def marked_landscape() -> Image.Image:
    """48 wide x 32 tall, blue, with a red 8x8 marker at x 12-20, y 0-8 of the stored pixels."""
    image = Image.new("RGB", (48, 32), BLUE)
    image.paste(RED, (12, 0, 20, 8))
    return image


def jpeg_with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def is_red(pixel) -> bool:
    return pixel[0] > 0.7 and pixel[2] < 0.3


def test_exif_orientation_6_rotates_clockwise():
    encoded = jpeg_with_orientation(marked_landscape(), 6)
    upright = np.asarray(data.decode_image(encoded)) / 255.0
    assert upright.shape == (48, 32, 3)  # now portrait
    # Rotating 90° clockwise sends stored (x, y) to (31 - y, x): the marker to x 24-32, y 12-20.
    assert is_red(upright[16, 28]) and not is_red(upright[16, 3])
    # The centre square keeps rows 8-40, so the marker sits at rows 4-12, right edge.
    out = data.load_image(encoded, 32)
    assert is_red(out[8, 28]) and not is_red(out[8, 3]) and not is_red(out[28, 28])


def test_exif_orientation_8_rotates_anticlockwise():
    encoded = jpeg_with_orientation(marked_landscape(), 8)
    upright = np.asarray(data.decode_image(encoded)) / 255.0
    assert upright.shape == (48, 32, 3)
    # Rotating 90° anticlockwise sends stored (x, y) to (y, 47 - x): the marker to x 0-8, y 28-36.
    assert is_red(upright[32, 3]) and not is_red(upright[32, 28])


@pytest.mark.parametrize("width, height", [(96, 64), (64, 96)])
def test_non_square_is_centre_cropped(width, height):
    image = Image.new("RGB", (width, height), BLUE)
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image.paste(RED, (left, top, left + side, top + side))
    np.testing.assert_allclose(data.load_image(image, 64), np.broadcast_to([1, 0, 0], (64, 64, 3)))
    # Through the resize the crop is still exact: no blue from the margins bleeds in.
    np.testing.assert_allclose(data.load_image(image, 32), np.broadcast_to([1, 0, 0], (32, 32, 3)))


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (32, 32), colour) for colour in (RED, BLUE, GREEN)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(gif)).n_frames == 3
    np.testing.assert_allclose(data.load_image(gif, 32), np.broadcast_to([1, 0, 0], (32, 32, 3)))


def test_upsampling_stays_in_range():
    out = data.load_image(noise_image(20, 20), 64)
    assert out.shape == (64, 64, 3) and out.min() >= 0.0 and out.max() <= 1.0


def test_large_8_bit_image_matches_the_float_path():
    # 1024 px to 64 takes the 8-bit box pre-reduction; a float array of the same pixels does not.
    y, x = np.mgrid[:1024, :1024] / 1024.0
    rgb = np.stack([x, y, 0.5 + 0.5 * np.sin(20 * x)], -1)
    as_uint8 = np.round(rgb * 255).astype(np.uint8)
    fast = data.load_image(Image.fromarray(as_uint8), 64)
    reference = data.load_image(as_uint8.astype(np.float32) / 255.0, 64)
    np.testing.assert_allclose(fast, reference, atol=1.0 / 255)


# --- Sources --------------------------------------------------------------------------------------


def test_every_kind_of_source_gives_the_same_array(tmp_path):
    image = noise_image(40, 30, seed=1)
    encoded = encode(image)
    path = tmp_path / "noise.png"
    path.write_bytes(encoded)
    expected = data.load_image(encoded, 16)
    assert expected.shape == (16, 16, 3)
    sources = {
        "bytearray": bytearray(encoded),
        "memoryview": memoryview(encoded),
        "file object": io.BytesIO(encoded),
        "pathlib path": path,
        "str path": str(path),
        "PIL image": image,
        "uint8 array": np.asarray(image),
        "float array": np.asarray(image) / 255.0,
        "uint16 array": np.asarray(image).astype(np.uint16) * 257,
    }
    for name, source in sources.items():
        np.testing.assert_allclose(data.load_image(source, 16), expected, atol=1e-6, err_msg=name)
    with open(path, "rb") as file:
        np.testing.assert_array_equal(data.load_image(file, 16), expected)


def test_array_shapes_and_dtypes():
    grey = np.full((16, 16), 0.5)
    for array in (grey, grey[..., None], np.full((16, 16), 32768, np.uint16)):
        np.testing.assert_allclose(data.load_image(array, 16), 0.5, atol=1e-4)
    np.testing.assert_array_equal(data.load_image(np.ones((16, 16), bool), 16), 1.0)
    rgba = np.zeros((16, 16, 4), np.float32)  # transparent black
    np.testing.assert_array_equal(data.load_image(rgba, 16), 1.0)


def test_caller_image_is_not_changed():
    image = Image.new("P", (32, 32), 0)
    data.load_image(image, 16)
    assert image.mode == "P" and image.size == (32, 32)


def test_decode_image_returns_full_rgb():
    decoded = data.decode_image(encode(Image.new("L", (40, 20), 128)))
    assert decoded.mode == "RGB" and decoded.size == (40, 20)
    assert decoded.getpixel((0, 0)) == (128, 128, 128)


# --- Refusals -------------------------------------------------------------------------------------


def refusal(source, size=32) -> str:
    with pytest.raises(ImageError) as caught:
        data.load_image(source, size)
    assert "Traceback" not in str(caught.value) and str(caught.value).endswith(".")
    return str(caught.value)


def test_garbage_bytes():
    assert "not an image" in refusal(b"this is certainly not a picture" * 10)


def test_postscript_is_not_decoded():
    # Decoding EPS would run Ghostscript on an untrusted upload; it is refused like any non-image.
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n%%EOF\n"
    assert "not an image" in refusal(eps)


def test_empty_bytes_and_empty_file(tmp_path):
    assert "empty" in refusal(b"")
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in refusal(tmp_path / "empty.png")
    assert "empty" in refusal(io.BytesIO())


def test_truncated_png():
    encoded = encode(noise_image(64, 64))
    assert "damaged" in refusal(encoded[: len(encoded) // 2])


def test_bomb_declared_by_the_header():
    # Far past Pillow's own guard: refused before any pixel is decoded.
    assert "megapixels" in refusal(png_with_declared_size(100_000, 100_000))
    # Under Pillow's guard but over ours (64 MP > 50 MP): our own check, with the numbers.
    message = refusal(png_with_declared_size(8000, 8000))
    assert "8000×8000" in message and "limit" in message


def test_tiny_image():
    message = refusal(Image.new("RGB", (40, 8)))
    assert "too small" in message and "40×8" in message and str(data.MIN_SIDE) in message


def test_extreme_aspect_ratio():
    message = refusal(encode(Image.new("RGB", (400, 20))))
    assert "elongated" in message and "10:1" in message


def test_missing_path_and_folder(tmp_path):
    assert "no file" in refusal(tmp_path / "missing.png")
    assert "folder" in refusal(tmp_path)


@pytest.mark.parametrize(
    "array, keyword",
    [
        (np.zeros((16, 16, 2), np.uint8), "shape"),
        (np.zeros((16,), np.uint8), "shape"),
        (np.zeros((16, 16, 3), np.int64), "uint8, uint16, bool or float"),
        (np.full((16, 16, 3), np.nan), "NaN"),
        (np.full((16, 16, 3), 255.0), "[0, 1]"),
        (np.zeros((8, 16, 3), np.uint8), "too small"),
    ],
)
def test_bad_arrays(array, keyword):
    assert keyword in refusal(array)


def test_unsupported_source_type():
    assert "Expected an image" in refusal(12345)


def test_text_mode_file(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(encode(Image.new("RGB", (16, 16))))
    with open(path, encoding="latin-1") as file:
        assert "binary" in refusal(file)


@pytest.mark.parametrize("size, words", [
    (37, "must be an even number of pixels (got 37)."), (0, "must be at least 16 (got 0)."),
    (-64, "must be at least 16 (got -64)."), (1e9, "must be at most 2048 (got 1000000000.0)."),
    (3.5, "must be a whole number (got 3.5)."), (True, "must be a whole number (got True)."),
    ("abc", "must be a whole number (got 'abc')."), (None, "must be a whole number (got None)."),
    (14, "must be at least 16 (got 14)."), (2050, "must be at most 2048 (got 2050)."),
    (float("nan"), "must be a whole number (got nan)."),
])
def test_bad_sizes(size, words):
    with pytest.raises(ValueError) as caught:
        data.check_size(size)
    assert str(caught.value) == f"size (resolution) {words}"
    with pytest.raises(ValueError) as loading:
        data.load_image(Image.new("RGB", (32, 32)), size)
    assert str(loading.value) == str(caught.value)  # the loader refuses it with the same sentence


def test_good_sizes():
    assert data.check_size(16) == 16 and data.check_size(2048) == 2048
    assert data.check_size(256.0) == 256 and type(data.check_size(np.int64(64))) is int
    assert "(got 37)" in pytest.raises(ValueError, data.check_size, 37).value.args[0]


# --- Windows (the cropped protocol) ---------------------------------------------------------------


def test_window_boxes_centre_one_and_centre_the_others_in_grid_cells_without_overlap():
    assert data.window_boxes(512, 512, 128) == [(192, 192, 320, 320)]  # one: the centre
    assert data.window_boxes(512, 512, 128, 4) == [(64, 64, 192, 192), (320, 64, 448, 192),
                                                  (64, 320, 192, 448), (320, 320, 448, 448)]  # the quarters' centres
    assert data.window_boxes(512, 512, 128, 3) == data.window_boxes(512, 512, 128, 4)[:3]  # row by row
    assert data.window_boxes(128, 128, 128) == [(0, 0, 128, 128)]  # the whole picture
    for width, height, count in ((512, 512, 16), (700, 530, 9), (1000, 300, 4), (97, 131, 1)):
        boxes = data.window_boxes(width, height, 32 if width < 200 else 128, count)
        for left, top, right, bottom in boxes:
            assert 0 <= left < right <= width and 0 <= top < bottom <= height
        cells = {(l * 2 // width, t * 2 // height) for l, t, *_ in boxes}  # noqa: E741
        assert len(boxes) == count and len(set(boxes)) == count and (count < 4 or len(cells) == 4)
        for a in boxes:  # no two overlap
            assert all(a == b or a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1] for b in boxes)


def test_windows_are_the_pixels_at_full_resolution_from_any_source(tmp_path):
    picture = noise_image(70, 50, seed=3)
    path = tmp_path / "noise.png"
    picture.save(path)
    stored = np.asarray(picture, np.float32) / 255.0
    for source in (path, encode(picture), picture, np.asarray(picture), stored):
        cut = data.windows(source, 16, 4)
        assert [w.box for w in cut] == data.window_boxes(70, 50, 16, 4)
        for (left, top, right, bottom), pixels in cut:
            assert pixels.dtype == np.float32 and pixels.shape == (16, 16, 3)
            np.testing.assert_array_equal(pixels, stored[top:bottom, left:right])


def test_windows_follow_the_exif_orientation_and_composite_alpha_on_white():
    (box, upright), = data.windows(jpeg_with_orientation(marked_landscape(), 6), 32)
    assert box == (0, 8, 32, 40)  # the upright picture is 32 wide, 48 tall
    assert is_red(upright[8, 28]) and not is_red(upright[8, 3])  # the marker, right edge, rows 4-12 of the window
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    np.testing.assert_array_equal(data.windows(rgba, 16)[0].pixels, 1.0)


def test_windows_refuse_too_small_a_picture_too_many_windows_and_what_load_image_refuses():
    with pytest.raises(ImageError, match=r"This image is 40×30 pixels: a 32-px window .* at least 32 pixels on each side"):
        data.windows(noise_image(40, 30), 32)
    with pytest.raises(ImageError, match=r"holds at most 4 windows of 16 px that do not overlap \(a 2×2 grid\); 5 were"):
        data.windows(noise_image(40, 32), 16, 5)
    with pytest.raises(ValueError, match="windows \\(how many per image\\) must be at least 1"):
        data.windows(noise_image(40, 32), 16, 0)
    with pytest.raises(ValueError, match="even number"):
        data.windows(noise_image(40, 32), 17)
    with pytest.raises(ImageError, match="megapixels"):
        data.windows(png_with_declared_size(8000, 8000), 16)
    with pytest.raises(ImageError, match="not an image"):
        data.windows(b"not an image", 16)


# --- Coordinates and split ------------------------------------------------------------------------


def test_coordinates():
    grid = data.coordinates(8)
    assert grid.shape == (8, 8, 2) and grid.dtype == np.float32
    np.testing.assert_array_equal(grid[0, 0], [0, 0])
    np.testing.assert_allclose(grid[-1, -1], [7 / 8, 7 / 8])
    np.testing.assert_allclose(grid[2, 5], [5 / 8, 2 / 8])  # [..., 0] is the column (x)
    assert np.all(grid[:, :, 0] == grid[0, :, 0]) and np.all(grid[:, :, 1] == grid[:, :1, 1])
    c = np.linspace(0, 1, 8, endpoint=False)  # the paper's demo, verbatim
    np.testing.assert_array_equal(grid, np.stack(np.meshgrid(c, c), -1).astype(np.float32))


def test_train_and_test_pixels_are_disjoint_and_interleaved():
    index = np.arange(8 * 8).reshape(8, 8)
    train, test = data.train_pixels(index), data.test_pixels(index)
    assert train.shape == test.shape == (4, 4)
    assert not set(train.ravel()) & set(test.ravel())
    rows, cols = np.divmod(train, 8)
    assert np.all(rows % 2 == 0) and np.all(cols % 2 == 0)
    rows, cols = np.divmod(test, 8)
    assert np.all(rows % 2 == 1) and np.all(cols % 2 == 1)
    # Each test pixel sits diagonally between its four training neighbours.
    np.testing.assert_array_equal(test, train + 8 + 1)
    grid = data.coordinates(8)
    np.testing.assert_allclose(data.test_pixels(grid) - data.train_pixels(grid), 1 / 8)


# --- Bundled assets -------------------------------------------------------------------------------


BUNDLED = ["cat.png", "coffee.png", "astronaut.png", "text.png", "pattern.png"]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_assets_load(name):
    path = ASSETS / name
    assert path.stat().st_size < 600 * 1024
    out = data.load_image(path, 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert out.std() > 0.05 and 0.0 <= out.min() and out.max() <= 1.0


def test_assets_credited():
    credits = (ASSETS / "CREDITS.md").read_text(encoding="utf-8")
    for name in sorted(os.listdir(ASSETS)):
        if name.endswith((".png", ".jpg")):
            assert f"`{name}`" in credits
