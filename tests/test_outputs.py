"""What a run shows and writes: PSNR figures and HTML (plots), labelled grids (images), MP4s (video)."""

import json
import re

import imageio.v2 as iio
import numpy as np
import pytest

from ffn.core.data import to_uint8
from ffn.present.images import tile_grid
from ffn.present.plots import (PALETTE, TEST_TITLE, TRAIN_TITLE, mapping_colors, psnr_figure, psnr_figures, spec_color,
                       write_psnr_html)
from ffn.present.video import write_mp4

SPECS = ["none", "basic", "posenc:6", "gauss:1", "gauss:10", "gauss:100"]


def _curves(n_points=100, seed=0):
    rng = np.random.default_rng(seed)
    steps = list(range(0, 20 * n_points, 20))
    train = {s: list(rng.uniform(10, 35, n_points)) for s in SPECS}
    test = {s: list(rng.uniform(10, 30, n_points)) for s in SPECS}
    return steps, train, test


# ----------------------------------------------------------------------------------------------- plots


def _rgb_distance(a: str, b: str) -> float:
    return float(np.linalg.norm([int(a[i:i + 2], 16) - int(b[i:i + 2], 16) for i in (1, 3, 5)]))


def test_mapping_colors_are_stable_distinct_and_the_mappings_own():
    specs = [f"gauss:{k}" for k in range(10)]
    colors = mapping_colors(specs)
    assert list(colors) == specs
    assert len(set(colors.values())) == 10
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors.values())
    assert mapping_colors(specs) == colors
    # A mapping has its own colour (`spec_color`), whatever comes before or after it in the run.
    assert mapping_colors(["none", "basic"])["none"] == mapping_colors(["none", "gauss:10"])["none"]
    assert mapping_colors(["gauss:10"])["gauss:10"] == mapping_colors(["none", "posenc:6", "gauss:10"])["gauss:10"] \
        == spec_color("gauss:10")
    assert mapping_colors(["train"]) == {"train": PALETTE[7]}  # a label that is no mapping: grey
    # Past the palette it still gives a colour rather than failing, one a reader can tell from the others.
    extra = mapping_colors(specs + ["extra"])
    assert min(_rgb_distance(extra["extra"], c) for spec, c in extra.items() if spec != "extra") >= 48


def test_psnr_figures_one_trace_per_spec_same_colours():
    steps, train, test = _curves()
    colors = mapping_colors(SPECS)
    fig_train, fig_test = psnr_figures(steps, train, test, colors=colors, height=300)
    for fig, data, title in [(fig_train, train, TRAIN_TITLE), (fig_test, test, TEST_TITLE)]:
        assert fig.layout.title.text == title
        assert fig.layout.template.layout.to_plotly_json() == {}  # template="none": the fast path
        assert fig.layout.height == 300
        assert [t.name for t in fig.data] == SPECS
        for trace in fig.data:
            np.testing.assert_array_equal(trace.x, steps)
            np.testing.assert_allclose(trace.y, data[trace.name])
    assert [t.line.color for t in fig_train.data] == [colors[s] for s in SPECS]
    assert [t.line.color for t in fig_test.data] == [t.line.color for t in fig_train.data]
    # Without explicit colours both figures still agree.
    a, b = psnr_figures(steps, train, test)
    assert [t.line.color for t in a.data] == [t.line.color for t in b.data]


def test_nan_leaves_a_gap_and_the_figure_still_serialises():
    steps, train, _ = _curves(n_points=5)
    train["gauss:100"] = [12.0, float("nan"), float("inf"), 14.0, float("nan")]
    fig = psnr_figure(steps, train, "Train")
    y = fig.data[SPECS.index("gauss:100")].y
    np.testing.assert_array_equal(np.isnan(y), [False, True, True, False, True])
    assert fig.data[0].connectgaps is False

    def reject(constant):
        raise AssertionError(f"figure JSON holds the non-standard constant {constant}")

    json.loads(fig.to_json(), parse_constant=reject)  # browsers reject bare NaN in JSON


def test_hover_shows_spec_step_and_value():
    steps, train, _ = _curves(n_points=3)
    fig = psnr_figure(steps, train, "Train")
    template = fig.data[SPECS.index("gauss:10")].hovertemplate
    assert template.startswith("gauss:10 · step %{x} · %{y:.2f} dB")


def test_reference_lines_are_dashed_and_labelled():
    steps, _, test = _curves(n_points=3)
    colors = mapping_colors(SPECS)
    fig = psnr_figure(steps, test, "Test", colors=colors, reference={"gauss:10": 25.57, "paper: basic": 21.0})
    assert [s.y0 for s in fig.layout.shapes] == [25.57, 21.0]
    assert all(s.line.dash == "dash" for s in fig.layout.shapes)
    assert fig.layout.shapes[0].line.color == colors["gauss:10"]
    assert [a.text for a in fig.layout.annotations] == ["gauss:10 25.57 dB", "paper: basic 21.00 dB"]


def test_series_length_must_match_steps():
    with pytest.raises(ValueError, match="'basic' has 2 values but there are 3 steps"):
        psnr_figure([0, 1, 2], {"none": [1, 2, 3], "basic": [1, 2]}, "Train")


def test_psnr_figure_holds_every_point_and_only_finite_references():
    """What a long run's figure is made of (this replaced a wall-clock bound, which no unit test should hold)."""
    steps, train, _ = _curves()
    reference = {"gauss:10": 25.0, "paper: none": None, "paper: basic": float("nan")}
    fig = psnr_figure(steps, train, "Train", reference=reference)
    assert fig.layout.template.layout.to_plotly_json() == {}  # template "none": nothing to merge on every build
    assert [t.name for t in fig.data] == SPECS
    for trace in fig.data:
        assert trace.mode == "lines"  # markers only for a single point, where a line would not show
        np.testing.assert_array_equal(trace.x, steps)
        np.testing.assert_array_equal(trace.y, train[trace.name])
    assert [s.y0 for s in fig.layout.shapes] == [25.0]  # a missing or NaN reference draws nothing
    assert [a.text for a in fig.layout.annotations] == ["gauss:10 25.00 dB"]
    single = psnr_figure([0], {"none": [12.0]}, "Train")
    assert single.data[0].mode == "lines+markers"
    assert psnr_figure(steps, train, "Train", reference={"gauss:10": 25.0}).to_json() == fig.to_json()


def test_write_psnr_html_is_standalone(tmp_path):
    steps, train, test = _curves(n_points=10)
    path = write_psnr_html(tmp_path / "run" / "psnr.html", steps, train, test, title="Demo <run>")
    assert path.exists()
    text = path.read_text(encoding="utf-8")
    assert TRAIN_TITLE in text and TEST_TITLE in text
    assert "Demo &lt;run&gt;" in text
    assert 'id="train-psnr"' in text and 'id="test-psnr"' in text and "Plotly.newPlot" in text
    assert re.search(r"plotly\.js v\d", text) and len(text) > 1_000_000  # plotly.js itself is inlined
    # plotly.js mentions its CDN in a default setting for map tiles; what matters is that nothing loads from it.
    assert not re.search(r"src\s*=\s*[\"']?https?://", text)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text), "no external scripts: the page must work offline"


# ---------------------------------------------------------------------------------------------- images

RED, BLUE = (220, 30, 40), (20, 60, 200)


def _bbox(mask):
    ys, xs = np.nonzero(mask)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def _dark(region):
    return (region.max(axis=-1) < 100).sum()


def test_to_uint8():
    floats = np.array([[[-0.5, 0.5, 1.5], [np.nan, 0.2, 1.0]]])
    np.testing.assert_array_equal(to_uint8(floats), [[[0, 128, 255], [0, 51, 255]]])
    u8 = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(to_uint8(u8), u8)
    assert to_uint8(np.zeros((4, 5), np.float32)).shape == (4, 5, 3)
    assert to_uint8(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    with pytest.raises(TypeError, match="uint8"):
        to_uint8(np.zeros((2, 2, 3), np.int32))


def test_tile_grid_shape_dtype_and_padding():
    tiles = [(s, np.full((10, 14, 3), 0.5)) for s in SPECS[:3]]
    grid = tile_grid(tiles, title="step 250 / 2000", min_tile=50)
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    assert grid.shape[0] % 16 == 0 and grid.shape[1] % 16 == 0
    assert grid.shape[1] >= 3 * 56  # each tile enlarged 4x to be >= 50 px wide, all in one row
    assert tile_grid(tiles, min_tile=1, multiple=1).shape[1] < grid.shape[1]
    # More than 6 tiles wrap into a near-square grid: narrower and taller than one row.
    one_row = tile_grid([(str(i), np.zeros((8, 8, 3))) for i in range(6)], min_tile=32)
    wrapped = tile_grid([(str(i), np.zeros((8, 8, 3))) for i in range(7)], min_tile=32)
    assert wrapped.shape[1] < one_row.shape[1] and wrapped.shape[0] > one_row.shape[0]


def test_tile_grid_upscales_with_nearest():
    checker = np.array([[RED, BLUE], [BLUE, RED]], np.uint8)
    grid = tile_grid([("checker", checker)], min_tile=64)
    is_red = (grid == RED).all(-1)
    is_blue = (grid == BLUE).all(-1)
    y0, y1, x0, x1 = _bbox(is_red | is_blue)
    assert (y1 - y0, x1 - x0) == (64, 64)  # 2 px enlarged by 32
    tile = grid[y0:y1, x0:x1]
    assert (is_red | is_blue)[y0:y1, x0:x1].all(), "interpolation invented colours"
    np.testing.assert_array_equal(tile[::32, ::32], checker)
    assert is_red.sum() == is_blue.sum() == 2 * 32 * 32


def test_tile_grid_labels_and_title_draw_dark_text():
    solid = np.broadcast_to(np.array(RED, np.uint8), (16, 16, 3))
    labelled = tile_grid([("gauss:10 · 24.31 dB", solid)], title="step 250 / 2000", min_tile=128)
    blank = tile_grid([("", solid)], min_tile=128)
    for grid, expect_text in [(labelled, True), (blank, False)]:
        y0, y1, x0, x1 = _bbox((grid == RED).all(-1))
        caption = grid[y1:, x0:x1]
        assert (_dark(caption) > 20) == expect_text
    y0, _, _, _ = _bbox((labelled == RED).all(-1))
    assert _dark(labelled[:y0]) > 20  # the title strip


def test_tile_grid_long_label_stays_under_its_tile():
    a = np.broadcast_to(np.array(RED, np.uint8), (16, 16, 3))
    b = np.broadcast_to(np.array(BLUE, np.uint8), (16, 16, 3))
    grid = tile_grid([("gauss:10 · a very long label that cannot fit at any readable size " * 2, a), ("", b)],
                     min_tile=128)
    y0, y1, x0, x1 = _bbox((grid == RED).all(-1))
    ys, xs = np.nonzero(grid[y1:].max(axis=-1) < 100)
    assert len(xs) > 20 and xs.min() >= x0 and xs.max() < x1


def test_tile_grid_rejects_bad_tiles():
    with pytest.raises(ValueError, match="same size"):
        tile_grid([("a", np.zeros((8, 8, 3))), ("b", np.zeros((8, 9, 3)))])
    with pytest.raises(ValueError, match="at least one"):
        tile_grid([])


# ----------------------------------------------------------------------------------------------- video


def _frames(n, h=32, w=48):
    # A generator on purpose: write_mp4 must stream it.
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        yield np.stack([xx / w, yy / h, np.full((h, w), i / max(n - 1, 1))], -1)


def _read(path):
    reader = iio.get_reader(path, format="FFMPEG")
    try:
        return reader.get_meta_data(), [frame for frame in reader]
    finally:
        reader.close()


def test_write_mp4_round_trip(tmp_path):
    path = write_mp4(tmp_path / "out" / "progress.mp4", _frames(5), fps=8, hold_s=1.0)
    assert path.exists() and path.stat().st_size > 0
    meta, frames = _read(path)
    assert meta["codec"] == "h264"
    assert len(frames) == 5 + 8  # the last frame held for one second at 8 fps
    assert all(f.shape == (32, 48, 3) for f in frames)
    first = to_uint8(next(_frames(1)))
    assert np.abs(frames[0].astype(int) - first).mean() < 6  # lossy, but close


def test_write_mp4_pads_odd_sizes(tmp_path):
    path = write_mp4(tmp_path / "odd.mp4", _frames(2, h=33, w=47), fps=4, hold_s=0)
    _, frames = _read(path)
    assert len(frames) == 2 and frames[0].shape == (34, 48, 3)


def test_write_mp4_rejects_no_frames_and_mixed_sizes(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        write_mp4(tmp_path / "empty.mp4", [])
    assert not (tmp_path / "empty.mp4").exists()

    mixed = [np.zeros((32, 48, 3), np.uint8), np.zeros((32, 48, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)]
    with pytest.raises(ValueError, match="frame 0 is 48x32 but frame 2 is 16x16"):
        write_mp4(tmp_path / "mixed.mp4", mixed)
    assert not (tmp_path / "mixed.mp4").exists()


def test_log_axes_write_every_tick_in_full():
    """Plotly's own log ticks labelled 0.5 and 50 both "5" (σ sweep) and 20 after 10 as "2" (NTK spectrum)."""
    from ffn.core import bands
    from ffn.present import plots

    edges = bands.band_edges(128)
    figure = plots.ntk_band_spectrum_figure(edges, {"gauss:2": np.linspace(1, 1e-4, len(edges) - 1)})
    text = list(figure.layout.xaxis.ticktext)
    assert text == [f"{t:g}" for t in figure.layout.xaxis.tickvals] and len(set(text)) == len(text)
    assert {"1", "10", "20", "50"} <= set(text)
    sweep = plots.sweep_figure({"sigmas": [0.5, 5, 50], "final_train_psnr": [20, 25, 30],
                                "final_test_psnr": [20, 24, 18], "best_sigma": 5})
    assert {"0.5", "5", "50"} <= set(sweep.layout.xaxis.ticktext)
