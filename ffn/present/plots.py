"""Every Plotly figure of the project: PSNR curves, kernels, tangent kernels, spectra, a row of pixels, the σ sweep.

One layout (`_layout`), one axis style (`_axis`) and one palette (`mapping_colors`), so a mapping has the
same colour in every chart of a run. The app rebuilds some figures 2-4 times a second while a run streams,
so they use `template="none"` (a named template alone costs 20-40 ms per figure) and style the axes by hand;
one figure of 6 specs x 100 points builds in about 2.5 ms. The analysis views take the numbers of
`ffn.core.analysis` / `ffn.experiments.sweep` (or compute the cheap ones themselves).
"""

from __future__ import annotations

import html
import json
import math
import pathlib
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from ffn.core import analysis, bands, mappings

# D3's category10: ten hues that stay distinguishable on white and for the common colour-vision
# deficiencies better than most; a run rarely compares more than ten mappings.
PALETTE = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#2ca02c",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#7f7f7f",  # grey
    "#bcbd22",  # olive
    "#17becf",  # cyan
)

TRAIN_TITLE = "Train PSNR"
TEST_TITLE = "Test PSNR (held-out pixels)"
# An inverse problem's (ffn.core.inverse): its train PSNR is the fit to the measurements, its test PSNR the
# reconstruction's against the object.
TASK_TITLES = ("Fit to the measurements (PSNR)", "Reconstruction vs the object (PSNR)")

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_TEXT = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"
_AXIS_LINE = "#9ca3af"
_REFERENCE = "#4b5563"  # a reference line whose label is not one of the plotted specs
_TRUTH = "#111827"  # the ground truth: near-black, drawn dashed, never one of the mapping colours


# Gaussian mappings are coloured by σ along this ramp (log₁₀ σ -> colour), so a σ looks the same in every run and
# neighbouring σ look alike; positional encodings by S along a ramp of greens.
_SIGMA_RAMP = ((-1.0, (0xe3, 0x77, 0xc2)), (0.0, (0xd6, 0x27, 0x28)), (1.0, (0x94, 0x67, 0xbd)), (2.0, (0x17, 0xbe, 0xcf)),
               (3.0, (0x7f, 0x7f, 0x7f)))
_S_RAMP = ((1.0, (0x98, 0xdf, 0x8a)), (6.0, (0x2c, 0xa0, 0x2c)), (12.0, (0x0b, 0x4d, 0x0b)))
_FIXED = {"none": PALETTE[0], "basic": PALETTE[1]}


def _ramp(stops, x: float) -> str:
    x = min(max(x, stops[0][0]), stops[-1][0])
    for (x0, c0), (x1, c1) in zip(stops, stops[1:]):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            return "#" + "".join(f"{round(a + t * (b - a)):02x}" for a, b in zip(c0, c1))
    return "#" + "".join(f"{v:02x}" for v in stops[-1][1])


def spec_color(spec: str) -> str:
    """The colour of a mapping, the same in every run: none blue, basic orange, posenc a green by S, gauss a colour
    by σ (pink, red, purple, cyan from σ = 0.1 to 100). Any other label (a sweep's 'train', say) gets grey."""
    try:
        m = mappings.parse(spec)
    except ValueError:
        return PALETTE[7]
    if m.kind == "gauss":
        return _ramp(_SIGMA_RAMP, math.log10(m.scale))
    if m.kind == "posenc":
        return _ramp(_S_RAMP, m.scale)
    return _FIXED[m.kind]


def mapping_colors(specs: Sequence[str]) -> dict[str, str]:
    """A colour per spec (`spec_color`), so a mapping looks the same in every chart of every run; where two specs of
    one run would look alike (none and none@0.01, two close σ) the later one takes an unused palette colour."""
    colors: dict[str, str] = {}
    for spec in specs:
        if spec in colors:
            continue
        color = spec_color(spec)
        if any(_close(color, c) for c in colors.values()):
            color = next((c for c in PALETTE if all(not _close(c, used) for used in colors.values())), color)
        colors[spec] = color
    return colors


def _close(a: str, b: str) -> bool:
    """Two colours a reader could confuse on a line chart (less than 48 apart in RGB)."""
    rgb = lambda c: np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], float)  # noqa: E731
    return float(np.linalg.norm(rgb(a) - rgb(b))) < 48


def _finite_or_nan(values: Sequence[float], spec: str, n_steps: int) -> np.ndarray:
    """PSNR values as float64 with every non-finite value (NaN, ±inf) as NaN, which Plotly draws as a gap."""
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if y.shape[0] != n_steps:
        raise ValueError(f"PSNR series {spec!r} has {y.shape[0]} values but there are {n_steps} steps")
    # An infinite PSNR (a pixel-perfect fit) would wreck the autorange and JSON turns it into null anyway.
    return np.where(np.isfinite(y), y, np.nan)


def _axis(title: str, **extra) -> dict:
    return dict(title=dict(text=title, font=dict(size=12, color=_MUTED), standoff=6), showgrid=True, gridcolor=_GRID,
                zeroline=False, showline=True, linecolor=_AXIS_LINE, ticks="outside", tickcolor=_AXIS_LINE, ticklen=4,
                automargin=True, **extra)


def _layout(title: str, xaxis: dict, yaxis: dict, height: int, legend: bool = True, **extra) -> dict:
    return dict(
        template="none",
        title=dict(text=html.escape(title, quote=False), x=0, xanchor="left", xref="paper", y=0.97, yanchor="top",
                   font=dict(size=14, color=_TEXT)),
        height=int(height), autosize=True, font=dict(family=_FONT, size=12, color=_TEXT),
        paper_bgcolor="white", plot_bgcolor="white", margin=dict(l=52, r=12, t=36, b=8),
        xaxis=xaxis, yaxis=yaxis, showlegend=legend,
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top", font=dict(size=11),
                    bgcolor="rgba(0,0,0,0)", itemwidth=30),
        hoverlabel=dict(font=dict(family=_FONT, size=12)), hovermode="closest", **extra)


def _name(spec: str) -> str:
    """A spec safe inside a Plotly hover template (only '%{' is special there)."""
    return spec.replace("%{", "% {")


def _colors(specs: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    fallback = mapping_colors(list(specs))
    return {s: (colors or {}).get(s, fallback[s]) for s in specs}


def _log_axis(title: str, values, **extra) -> dict:
    """A log axis ticked at 1, 2 and 5 per decade, each written out in full: Plotly's own log ticks write 0.5 and 50
    (or 20 after 10) as a bare "5" (or "2")."""
    values = np.asarray(values, np.float64)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    ticks = [m * 10.0 ** d for d in decades for m in (1, 2, 5) if low / 1.5 <= m * 10.0 ** d <= high * 1.5]
    return _axis(title, type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], **extra)


def _line(name, x, y, color, hover, dash=None, width=2) -> dict:
    return dict(type="scatter", mode="lines", name=name, x=np.asarray(x), y=np.asarray(y, np.float64),
                line=dict(color=color, width=width, dash=dash), hovertemplate=hover + "<extra></extra>")


def psnr_figure(
    steps: Sequence[int],
    psnr: Mapping[str, Sequence[float]],
    title: str,
    colors: Mapping[str, str] | None = None,
    height: int = 320,
    reference: Mapping[str, float] | None = None,
    marker: int | None = None,
) -> go.Figure:
    """One line per spec (in dict order) of PSNR in dB against training step.

    steps: (T,) step numbers shared by every spec (one run advances all mappings together).
    psnr: spec -> (T,) PSNR in dB; NaN (a diverged mapping) leaves a gap.
    colors: spec -> CSS colour, normally `mapping_colors(...)` of the whole run; missing specs get the
        palette colour of their position here.
    reference: label -> PSNR in dB drawn as a dashed horizontal line (e.g. the paper's number); it takes
        the colour of the spec of the same name if there is one.
    marker: a step to mark with a vertical line (the step a replay shows).
    """
    x = np.asarray(steps).reshape(-1)
    fallback = mapping_colors(list(psnr))
    traces = []
    for spec, values in psnr.items():
        color = (colors or {}).get(spec, fallback[spec])
        traces.append(
            dict(
                type="scatter",
                mode="lines+markers" if x.shape[0] <= 1 else "lines",
                name=spec,
                x=x,
                y=_finite_or_nan(values, spec, x.shape[0]),
                line=dict(color=color, width=2),
                marker=dict(color=color, size=6),
                connectgaps=False,
                # `spec` is user text inside a template: Plotly only treats "%{" specially, so neutralise it.
                hovertemplate=f"{spec.replace('%{', '% {')} · step %{{x}} · %{{y:.2f}} dB<extra></extra>",
            )
        )

    shapes, annotations = [], []
    for label, value in (reference or {}).items():
        if value is None or not math.isfinite(value):
            continue
        color = (colors or {}).get(label) or fallback.get(label) or _REFERENCE
        shapes.append(
            dict(
                type="line",
                xref="paper",
                x0=0,
                x1=1,
                yref="y",
                y0=value,
                y1=value,
                line=dict(color=color, width=1.5, dash="dash"),
                layer="below",
            )
        )
        annotations.append(
            dict(
                # Upper left: PSNR curves rise from the left, so a line near a final value is clear there.
                xref="paper",
                x=0.01,
                xanchor="left",
                yref="y",
                y=value,
                yanchor="bottom",
                text=f"{html.escape(str(label), quote=False)} {value:.2f} dB",
                showarrow=False,
                font=dict(size=10, color=color),
            )
        )

    if marker is not None:
        shapes.append(dict(type="line", xref="x", x0=marker, x1=marker, yref="paper", y0=0, y1=1,
                           line=dict(color=_TEXT, width=1.5, dash="dot")))
        annotations.append(dict(xref="x", x=marker, xanchor="left", yref="paper", y=1, yanchor="top", showarrow=False,
                                text=f" step {marker}", font=dict(size=10, color=_TEXT)))
    layout = _layout(title, _axis("step"), _axis("PSNR (dB)"), height, shapes=shapes, annotations=annotations)
    return go.Figure(data=traces, layout=layout)


def psnr_figures(
    steps: Sequence[int],
    train: Mapping[str, Sequence[float]],
    test: Mapping[str, Sequence[float]],
    colors: Mapping[str, str] | None = None,
    height: int = 320,
    reference: Mapping[str, float] | None = None,
    titles: tuple[str, str] = (TRAIN_TITLE, TEST_TITLE),
) -> tuple[go.Figure, go.Figure]:
    """(train, test) PSNR figures with one colour per spec across both; `reference` goes on the test one,
    where the paper reports its numbers. `titles`: `TASK_TITLES` for an inverse problem."""
    if colors is None:
        colors = mapping_colors([*train, *test])
    return (
        psnr_figure(steps, train, titles[0], colors=colors, height=height),
        psnr_figure(steps, test, titles[1], colors=colors, height=height, reference=reference),
    )


def write_psnr_html(
    path: str | pathlib.Path,
    steps: Sequence[int],
    train: Mapping[str, Sequence[float]],
    test: Mapping[str, Sequence[float]],
    title: str = "Fourier feature networks: PSNR by input mapping",
    colors: Mapping[str, str] | None = None,
    reference: Mapping[str, float] | None = None,
    plotlyjs: str = "inline",
    titles: tuple[str, str] = (TRAIN_TITLE, TEST_TITLE),
) -> pathlib.Path:
    """Write one standalone HTML page with the train and test charts side by side (stacked when narrow).

    plotly.js is inlined (about 4.6 MB) so the page works offline, or with plotlyjs="cdn" loaded from plotly's
    CDN; returns the path written.
    """
    train_fig, test_fig = psnr_figures(steps, train, test, colors=colors, height=400, reference=reference,
                                       titles=titles)
    return write_figures_html(path, {"train-psnr": train_fig, "test-psnr": test_fig}, title, plotlyjs=plotlyjs)


def kernel_slices_figure(bases: Mapping[str, np.ndarray | None], colors: Mapping[str, str] | None = None,
                         n: int = 201, height: int = 320) -> go.Figure:
    """k(Δx, 0) of every mapping's kernel (`analysis.kernel_slice`) on one chart; bases: spec -> B, e.g.
    `Snapshot.bases`. `none` has no stationary kernel and is named in a note instead of drawn."""
    colors = _colors(list(bases), colors)
    dx = analysis.delta_axis(n)
    traces, skipped = [], []
    for spec, b in bases.items():
        k = analysis.kernel_slice(b, n)
        if k is None:
            skipped.append(spec)
            continue
        traces.append(_line(spec, dx, k, colors[spec], f"{_name(spec)} · Δx %{{x:.3f}} · k %{{y:.3f}}"))
    notes = []
    if skipped:
        notes.append(dict(xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="bottom", showarrow=False,
                          text=html.escape(f"{', '.join(skipped)}: no stationary kernel (γ(v) = v)"),
                          font=dict(size=10, color=_MUTED)))
    layout = _layout("Kernel of each mapping, k(Δx, 0)", _axis("Δx (image sides)"), _axis("k", range=[-1.05, 1.05]),
                     height, annotations=notes)
    return go.Figure(data=traces, layout=layout)


PANEL_CHARS = 40  # characters per line of a 12 px note in a chart half a page wide (~320 px)


def kernel_heatmap_figure(b: np.ndarray | None, spec: str, n: int = 101, height: int = 320) -> go.Figure:
    """The 2D kernel k(Δv) of one mapping (`analysis.kernel_grid`) over Δv ∈ [-0.5, 0.5]²; for `none`, no axes
    and the reason, wrapped to fit a panel half a page wide (~320 px)."""
    k = analysis.kernel_grid(b, n)
    d = analysis.delta_axis(n)
    square = dict(scaleanchor="x", constrain="domain")
    if k is None:
        # Plotly never wraps an annotation, so the sentence is broken into lines here.
        lines = textwrap.wrap(analysis.NO_KERNEL_REASON, PANEL_CHARS)
        note = dict(xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, align="center",
                    text="<br>".join(html.escape(line, quote=False) for line in lines), font=dict(size=12, color=_MUTED))
        layout = _layout(f"{spec}: no kernel k(Δv) to draw", dict(visible=False), dict(visible=False), height,
                         legend=False, annotations=[note])
        layout["margin"] = dict(layout["margin"], l=12)  # no y axis: the note may use the whole width
        return go.Figure(layout=layout)
    layout = _layout(f"Kernel of {spec}, k(Δv)", _axis("Δx (image sides)", constrain="domain"),
                     _axis("Δy (image sides)", **square), height, legend=False)
    heat = go.Heatmap(z=k, x=d, y=d, colorscale="RdBu_r", zmin=-1, zmax=1, colorbar=dict(thickness=12),
                      hovertemplate="Δx %{x:.3f} · Δy %{y:.3f} · k %{z:.3f}<extra></extra>")
    return go.Figure(data=[heat], layout=layout)


def ntk_heatmap_figure(ntk: np.ndarray, spec: str, trained: bool = True, height: int = 320) -> go.Figure:
    """An empirical NTK map (`analysis.ntk_map`, (n, n), k = 1 at the centre) drawn like an image (row 0 on
    top), on a colour scale symmetric about 0."""
    ntk = np.asarray(ntk, np.float64)
    n = ntk.shape[0]
    limit = float(np.nanmax(np.abs(ntk))) if np.isfinite(ntk).any() else 1.0
    pos = np.arange(n) / n  # the coordinates it was evaluated at (ffn.core.data.coordinates(n))
    heat = go.Heatmap(z=ntk, x=pos, y=pos, colorscale="RdBu_r", zmin=-limit, zmax=limit,
                      colorbar=dict(thickness=12, title=dict(text="to centre", side="right", font=dict(size=11))),
                      hovertemplate="x %{x:.3f} · y %{y:.3f} · k %{z:.3f}<extra></extra>")
    state = "trained" if trained else "untrained"
    # Short enough for a panel half a page wide; "to the centre" is the colour bar's title.
    layout = _layout(f"NTK of {spec}, {state}", _axis("x", constrain="domain"),
                     _axis("y", autorange="reversed", scaleanchor="x", constrain="domain"), height, legend=False)
    return go.Figure(data=[heat], layout=layout)


def radial_power_figure(images: Mapping[str, np.ndarray], ground_truth, colors: Mapping[str, str] | None = None,
                        height: int = 320) -> go.Figure:
    """Radially averaged power spectra (`analysis.radial_power`) of every reconstruction and of the ground
    truth on one chart, log power against frequency (cycles per image side, zero frequency left out)."""
    colors = _colors(list(images), colors)
    traces = []
    for spec, image in [*images.items(), (analysis.GROUND_TRUTH, ground_truth)]:
        freq, power = analysis.radial_power(image)
        truth = spec == analysis.GROUND_TRUTH
        traces.append(_line(spec, freq[1:], np.maximum(power[1:], 1e-20), _TRUTH if truth else colors[spec],
                            f"{_name(spec)} · %{{x:g}} cycles · %{{y:.2e}}", dash="dash" if truth else None))
    layout = _layout("Power spectrum (radial mean)", _axis("frequency (cycles per image side)"),
                     _axis("power", type="log", exponentformat="power"), height)
    return go.Figure(data=traces, layout=layout)


def row_slice_figure(images: Mapping[str, np.ndarray], ground_truth, row: int, colors: Mapping[str, str] | None = None,
                     channel: int | None = None, height: int = 320) -> go.Figure:
    """One row of pixels of every reconstruction and of the ground truth (`analysis.row_slice`), as in the
    paper's figure; on an even row the training pixels (even columns) are marked on the ground truth."""
    values = analysis.row_slice(images, ground_truth, row, channel)
    colors = _colors(list(images), colors)
    what = "grey" if channel is None else "RGB"[channel]
    traces = []
    for label, y in values.items():
        truth = label == analysis.GROUND_TRUTH
        trace = _line(label, np.arange(len(y)), y, _TRUTH if truth else colors[label],
                      f"{_name(label)} · column %{{x}} · %{{y:.3f}}", dash="dash" if truth else None)
        traces.append(trace)
    if row % 2 == 0:
        truth = values[analysis.GROUND_TRUTH]
        traces.append(dict(type="scatter", mode="markers", name="training pixels", x=np.arange(0, len(truth), 2),
                           y=truth[::2], marker=dict(color=_TRUTH, size=5),
                           hovertemplate="training pixel · column %{x} · %{y:.3f}<extra></extra>"))
    title = f"Row {row} ({what})" + ("" if row % 2 == 0 else ": a held-out row, no training pixels on it")
    layout = _layout(title, _axis("column (pixel)"), _axis(f"{what} value", range=[-0.02, 1.02]), height)
    return go.Figure(data=traces, layout=layout)


def sweep_figure(summary: Mapping, height: int = 320) -> go.Figure:
    """Final train and test PSNR against σ (log axis) from `sweep.summarise_sweep`, the best σ starred.

    Train overtaking test as σ grows is the paper's overfitting regime; the best σ is where test peaks.
    """
    sigmas = np.asarray(summary["sigmas"], np.float64)
    train = np.asarray(summary["final_train_psnr"], np.float64)  # None (diverged) becomes NaN: a gap
    test = np.asarray(summary["final_test_psnr"], np.float64)
    colors = mapping_colors(["train", "test"])
    traces = [
        dict(type="scatter", mode="lines+markers", name="train PSNR", x=sigmas, y=train,
             line=dict(color=colors["train"], width=2, dash="dot"), marker=dict(size=6),
             hovertemplate="train · σ %{x:g} · %{y:.2f} dB<extra></extra>"),
        dict(type="scatter", mode="lines+markers", name="test PSNR", x=sigmas, y=test,
             line=dict(color=colors["test"], width=2), marker=dict(size=6),
             hovertemplate="test · σ %{x:g} · %{y:.2f} dB<extra></extra>"),
    ]
    best = summary.get("best_sigma")
    if best is not None:
        i = int(np.flatnonzero(sigmas == best)[0])
        traces.append(dict(type="scatter", mode="markers+text", name=f"best σ = {best:g}", x=[best], y=[test[i]],
                           marker=dict(symbol="star", size=14, color=colors["test"], line=dict(color=_TEXT, width=1)),
                           text=[f"best σ = {best:g}"], textposition="top center", textfont=dict(size=11),
                           hovertemplate=f"best σ {best:g} · %{{y:.2f}} dB<extra></extra>"))
    shapes, notes = [], []
    plateau = summary.get("plateau")
    if plateau and plateau[1] > plateau[0]:  # σ as good as the best, to a tenth of a dB or two: shaded
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=math.log10(plateau[0]), x1=math.log10(plateau[1]),
                           y0=0, y1=1, fillcolor=colors["test"], opacity=0.12, line=dict(width=0), layer="below"))
        notes.append(dict(xref="x", yref="paper", x=math.log10(plateau[0]), y=1, xanchor="left", yanchor="top",
                          text="as good as the best", showarrow=False, font=dict(size=11, color=_MUTED)))
    step, iters = summary.get("step"), summary.get("iters")
    title = "PSNR against σ" + (f" at step {step} of {iters}" if step is not None and step != iters else
                                f" after {step} steps" if step is not None else "")
    xaxis = _log_axis("σ (cycles per image side)", sigmas)
    return go.Figure(data=traces, layout=_layout(title, xaxis, _axis("PSNR (dB)"), height, shapes=shapes,
                                                 annotations=notes))


# ------------------------------------------------------------------------------------- frequency bands

_BAND_RANGE = (-3.0, 1.0)  # log10 of the relative error on the colour scale: 0.001 (learned) to 10
# Viridis from 0.001 (dark: learned) to 1 (yellow: not learned), then orange to red up to 10: a network that puts
# more detail in a band than the image has there (over-fitting noise, aliasing) must not look merely "unlearned".
_VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
            "#fde725")
_BAND_COLORSCALE = [[0.75 * i / 9, c] for i, c in enumerate(_VIRIDIS)] + [[0.875, "#f46d43"], [1.0, "#b2182b"]]
_BAND_COLUMNS = 240  # snapshots drawn at most (evenly picked, the last kept): the figure's JSON stays small
_EMPTY_BAND = "#e5e7eb"  # the panels' background, seen through NaN cells: bands the image has no power in


def band_error_figure(steps: Sequence[int], errors: Mapping[str, np.ndarray], edges, empty=None,
                      colors: Mapping[str, str] | None = None, height: int | None = None) -> go.Figure:
    """Relative error per frequency band against training step: one small heatmap per spec, one colour scale.

    steps: (T,) step numbers; errors: spec -> (T, count) relative errors (`ffn.core.bands`), NaN in empty bands;
    edges: (count+1,) band edges in cycles per image side; empty: (count,) bool, named in the title (their NaN
    cells show the grey background); colors: spec -> colour of each panel's title, as in the PSNR curves.
    More than _BAND_COLUMNS snapshots are thinned evenly for drawing.

    Why small multiples of step × band heatmaps: every mapping and every band stay on screen at once, on one
    shared log colour scale (viridis from 0.001 to 1, then red up to 10 where the network adds detail the
    image lacks), so six mappings read as six pictures of the same kind, and spectral bias shows as a shape
    (the dark area climbing from the coarse bands) rather than as 6 × 12 crossing lines. Bands are
    equal-height rows because they are equal steps in log frequency. Plain dicts and `template="none"`; it
    builds in about 4× the time of one PSNR figure (6 mappings × 13 snapshots × 10 bands: 58 ms against
    16 ms on a busy 2-core AMD EPYC where a PSNR figure alone takes 2.5 ms when idle).
    """
    specs = list(errors)
    colors = _colors(specs, colors)
    edges = np.asarray(edges, np.float64)
    count = len(edges) - 1
    x = np.asarray(steps).reshape(-1)
    picked = np.unique(np.linspace(0, len(x) - 1, min(len(x), _BAND_COLUMNS)).round().astype(int))
    x = x[picked]
    n = max(1, len(specs))
    cols = n if n <= 3 else 2 if n == 4 else 3
    rows = math.ceil(n / cols)
    height = int(height or 92 + 150 * rows)
    plot_px = height - 36 - 8 - 34  # margins and the x-axis title of the bottom row
    gap_y = min(0.3, 34 / max(plot_px, 1) * rows) / rows  # room for each panel's title
    gap_x = 0.05
    tick_positions = np.arange(0, count + 1, bands.BANDS_PER_OCTAVE if count > 8 else 1)  # at band edges
    tick_text = [f"{edges[j]:.3g}" for j in tick_positions]
    _bare_axis = dict(showline=True, linecolor=_AXIS_LINE, zeroline=False, ticks="")
    # Each cell's hover: its error and its band's edges (numbers, not strings: Plotly checks string arrays
    # cell by cell, which made this figure 10x slower to build).
    lo = np.broadcast_to(edges[:-1, None], (count, len(x)))
    hi = np.broadcast_to(edges[1:, None], (count, len(x)))
    traces, annotations, axes = [], [], {}
    for i, spec in enumerate(specs):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        e = np.asarray(errors[spec], np.float64).reshape(len(steps), count)[picked].T  # (count, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log10(np.maximum(e, 10 ** (_BAND_RANGE[0] - 1)))  # 0 would be -inf; NaN stays (a grey cell)
        traces.append(dict(
            type="heatmap", x=x, y=np.arange(count) + 0.5, z=z, coloraxis="coloraxis",
            customdata=np.stack([e, lo, hi], -1), xaxis=f"x{suffix}", yaxis=f"y{suffix}", ygap=1,
            hovertemplate=f"{_name(spec)} · step %{{x}} · %{{customdata[1]:.3g}}–%{{customdata[2]:.3g}} cycles"
                          " per side · error %{customdata[0]:.3g}<extra></extra>"))
        left, bottom = c == 0, i + cols >= n
        # Titles only on the outer panels: every axis object costs build time, and inner ones would repeat them.
        axes[f"xaxis{suffix}"] = dict(
            _axis("step") if bottom else _bare_axis, domain=[c / cols + gap_x / 2, (c + 1) / cols - gap_x / 2],
            anchor=f"y{suffix}", showticklabels=bottom, showgrid=False, **({} if i == 0 else dict(matches="x")))
        axes[f"yaxis{suffix}"] = dict(
            _axis("cycles per side") if left else _bare_axis, anchor=f"x{suffix}", showgrid=False,
            domain=[1 - (r + 1) / rows + gap_y / 2, 1 - r / rows - gap_y / 2], range=[0, count],
            tickvals=tick_positions, ticktext=tick_text, showticklabels=left)
        annotations.append(dict(xref=f"x{suffix} domain", yref=f"y{suffix} domain", x=0, y=1, xanchor="left",
                                yanchor="bottom", showarrow=False, text=html.escape(spec),
                                font=dict(size=12, color=colors[spec])))
    title = "Relative error per frequency band"
    if empty is not None and np.any(empty):
        title += " (grey: bands the image has almost no power in)"  # not a note up right: the modebar hides it
    ticks = np.arange(_BAND_RANGE[0], _BAND_RANGE[1] + 1)
    coloraxis = dict(colorscale=_BAND_COLORSCALE, cmin=_BAND_RANGE[0], cmax=_BAND_RANGE[1],
                     colorbar=dict(thickness=12, len=min(1.0, 320 / max(plot_px, 1)), y=1, yanchor="top",
                                   title=dict(text="error", font=dict(size=11, color=_MUTED)),
                                   tickvals=ticks, ticktext=[f"{10 ** t:g}" for t in ticks]))
    layout = _layout(title, axes.pop("xaxis"), axes.pop("yaxis"), height, legend=False,
                     coloraxis=coloraxis, annotations=annotations, **axes)
    layout["plot_bgcolor"] = _EMPTY_BAND
    return go.Figure(data=traces, layout=layout)


def write_band_html(path: str | pathlib.Path, figure: go.Figure, title: str, note: str = "",
                    plotlyjs: str = "inline") -> pathlib.Path:
    """One standalone HTML page with a heading, a note and `figure` (`write_figures_html`)."""
    return write_figures_html(path, {"bands": figure}, title, note, plotlyjs=plotlyjs)


# ---------------------------------------------------------------------------------------------------------
# The 1D lab (ffn.lab1d): the fit, the losses, the residual per frequency against the NTK's prediction, and
# each mapping's kernel spectrum. Colour per mapping throughout, as in the rest of a run's charts.

_THEORY_NOTE = "solid: the network · dashed: its NTK's prediction from the same start"


def lab1d_fit_figure(grid, target, fits: Mapping[str, np.ndarray], colors: Mapping[str, str] | None = None,
                     height: int = 320) -> go.Figure:
    """Each network over the grid, the target dashed and its training points (the even ones) marked.

    grid (N,) positions in [0, 1); target (N,); fits: spec -> (N,) the network's values on the grid.
    """
    colors = _colors(list(fits), colors)
    grid = np.asarray(grid, np.float64)
    target = np.asarray(target, np.float64)
    traces = [_line(spec, grid, y, colors[spec], f"{_name(spec)} · v %{{x:.3f}} · %{{y:.3f}}") for spec, y in fits.items()]
    traces.append(_line("target", grid, target, _TRUTH, "target · v %{x:.3f} · %{y:.3f}", dash="dash", width=1.5))
    traces.append(dict(type="scatter", mode="markers", name="training points", x=grid[::2], y=target[::2],
                       marker=dict(color=_TRUTH, size=4), hovertemplate="training point · v %{x:.3f} · %{y:.3f}<extra></extra>"))
    return go.Figure(data=traces, layout=_layout("The fit over [0, 1)", _axis("v"), _axis("f(v)"), height))


def lab1d_loss_figure(steps, train: Mapping[str, np.ndarray], test: Mapping[str, np.ndarray],
                      colors: Mapping[str, str] | None = None, height: int = 320) -> go.Figure:
    """Train (solid) and test (dotted) MSE against step, log scale; steps (T,), train and test: spec -> (T,)."""
    colors = _colors(list(train), colors)
    traces = []
    for spec in train:
        traces.append(_line(f"{spec} train", steps, np.maximum(train[spec], 1e-30), colors[spec],
                            f"{_name(spec)} train · step %{{x}} · %{{y:.3g}}"))
        traces.append(_line(f"{spec} test", steps, np.maximum(test[spec], 1e-30), colors[spec],
                            f"{_name(spec)} test · step %{{x}} · %{{y:.3g}}", dash="dot"))
    layout = _layout("Loss: train (solid) and held-out (dotted)", _axis("step"),
                     _axis("MSE", type="log", exponentformat="power"), height)
    return go.Figure(data=traces, layout=layout)


def lab1d_residual_figure(steps, freqs: Sequence[int], measured: Mapping[str, np.ndarray],
                          predicted: Mapping[str, np.ndarray] | None, colors: Mapping[str, str] | None = None,
                          height: int = 320) -> go.Figure:
    """One panel per tracked frequency (as in the paper's 1D figure): the residual left at that frequency,
    relative to step 0, measured (solid) and predicted by the NTK (dashed), one colour per mapping, log scale.

    steps (T,); measured and predicted: spec -> (T, F); predicted None (Adam) draws the measured lines only.
    The panels are laid out by hand (plotly.subplots costs seconds on first use, and this chart streams).
    """
    colors = _colors(list(measured), colors)
    n, gap = max(1, len(freqs)), 0.03
    span = (1.0 - gap * (n - 1)) / n
    domains = [[i * (span + gap), i * (span + gap) + span] for i in range(n)]
    traces = []
    for spec, values in measured.items():
        values = np.asarray(values, np.float64)
        for i, f in enumerate(freqs):
            axes = dict(xaxis=f"x{i + 1}" if i else "x", yaxis=f"y{i + 1}" if i else "y", legendgroup=spec)
            traces.append(dict(_line(spec, steps, values[:, i], colors[spec],
                                     f"{_name(spec)} · {f} cycles · step %{{x}} · %{{y:.3g}}"), showlegend=i == 0, **axes))
            if predicted is not None:
                guess = np.maximum(np.asarray(predicted[spec], np.float64)[:, i], 1e-30)
                traces.append(dict(_line(f"{spec} (NTK)", steps, guess, colors[spec],
                                         f"{_name(spec)} NTK · {f} cycles · step %{{x}} · %{{y:.3g}}", dash="dash"),
                                   showlegend=False, **axes))
    note = _THEORY_NOTE if predicted is not None else "the network (no NTK prediction: Adam is not gradient descent)"
    titles = [dict(xref="paper", yref="paper", x=sum(d) / 2, y=1.0, xanchor="center", yanchor="bottom", showarrow=False,
                   text=f"{f} cycles", font=dict(size=11, color=_MUTED)) for f, d in zip(freqs, domains)]
    titles.append(dict(xref="paper", yref="paper", x=1, y=1.08, xanchor="right", yanchor="bottom", showarrow=False,
                       text=html.escape(note, quote=False), font=dict(size=10, color=_MUTED)))
    layout = _layout("Residual left at each frequency", _axis("step", domain=domains[0]),
                     _axis("relative residual", type="log", exponentformat="power"), height, annotations=titles)
    for i in range(1, n):
        layout[f"xaxis{i + 1}"] = _axis("step", domain=domains[i], anchor=f"y{i + 1}")
        layout[f"yaxis{i + 1}"] = _axis("", type="log", matches="y", showticklabels=False, anchor=f"x{i + 1}")
    layout["margin"] = dict(l=52, r=12, t=56, b=8)
    return go.Figure(data=traces, layout=layout)


def lab1d_spectrum_figure(freqs, spectra: Mapping[str, np.ndarray], colors: Mapping[str, str] | None = None,
                          height: int = 320) -> go.Figure:
    """Each mapping's NTK eigenvalue against frequency on the training grid (the paper's Figure 3, left),
    log scale: a component of the residual at frequency f shrinks by (1 - η λ_f / M) per step.

    freqs (F,) cycles per unit (0 .. M/2); spectra: spec -> (F,) eigenvalues (`lab1d.frequency_spectrum`).
    """
    colors = _colors(list(spectra), colors)
    traces = [_line(spec, freqs, np.maximum(np.asarray(lam, np.float64), 1e-30), colors[spec],
                    f"{_name(spec)} · %{{x}} cycles · λ %{{y:.3g}}") for spec, lam in spectra.items()]
    layout = _layout("NTK eigenvalue per frequency", _axis("frequency (cycles per unit)"),
                     _axis("eigenvalue λ", type="log", exponentformat="power"), height)
    return go.Figure(data=traces, layout=layout)


def write_figures_html(path: str | pathlib.Path, figures: Mapping[str, go.Figure], title: str,
                       notes: str = "", plotlyjs: str = "inline") -> pathlib.Path:
    """One standalone page: a heading, `notes` (plain text, one paragraph per blank-line-separated block) and the
    figures two by two (stacked when narrow); figures: element id -> figure. plotly.js is inlined ("inline": the
    page works offline, 4.6 MB) or loaded from plotly's public CDN ("cdn": a few kB; needs the internet to open)."""
    if plotlyjs not in ("inline", "cdn"):
        raise ValueError(f"plotlyjs must be 'inline' or 'cdn' (got {plotlyjs!r}).")
    script = (f"<script type=\"text/javascript\">{plotly.offline.get_plotlyjs()}</script>" if plotlyjs == "inline" else
              f'<script src="https://cdn.plot.ly/plotly-{plotly.offline.get_plotlyjs_version()}.min.js" charset="utf-8"></script>')
    path = pathlib.Path(path)
    config = json.dumps({"responsive": True, "displaylogo": False})
    boxes = "\n".join(f'<div class="chart" id="{html.escape(name)}" style="height: {fig.layout.height or 400}px">'
                      '</div>' for name, fig in figures.items())
    paragraphs = "\n".join(f"<p>{html.escape(block.strip(), quote=False)}</p>" for block in notes.split("\n\n") if block.strip())
    plots_js = ", ".join(f"[{json.dumps(name)}, {fig.to_json()}]" for name, fig in figures.items())
    # Plot only after every box exists: a chart drawn while the page is still being parsed takes the full width and
    # is then clipped once its neighbour arrives. Plotly's JSON escapes "<", so no figure can end the script.
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title, quote=False)}</title>
<style>
  body {{ margin: 24px; font-family: {_FONT}; color: {_TEXT}; background: white; }}
  h1 {{ font-size: 20px; font-weight: 600; margin: 0 0 8px; }}
  p {{ color: {_MUTED}; max-width: 60em; margin: 0 0 8px; white-space: pre-line; }}
  .charts {{ display: flex; flex-wrap: wrap; gap: 24px; margin-top: 16px; }}
  .chart {{ flex: 1 1 520px; min-width: 0; height: 400px; }}
</style>
</head>
<body>
<h1>{html.escape(title, quote=False)}</h1>
{paragraphs}
<div class="charts">
{boxes}
</div>
{script}
<script type="text/javascript">
const config = {config};
for (const [id, fig] of [{plots_js}]) {{
  Plotly.newPlot(id, fig.data, fig.layout, config);
}}
</script>
</body>
</html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def ntk_band_spectrum_figure(edges, spectra: Mapping[str, np.ndarray], colors: Mapping[str, str] | None = None,
                             height: int = 320) -> go.Figure:
    """Each mapping's NTK spectrum on the frequency bands of `ffn.core.bands` (the paper's Figure 3 in 2D), log-log.

    edges: (count+1,) band edges in cycles per image side; spectra: spec -> (count,) the mean λ_f / max λ of
    each band (`ffn.core.ntk.band_spectrum`), NaN for a band with no frequency (a gap). A frequency at value v needs
    about 1/v times the steps of the fastest mode: without a mapping the curve falls fast, a larger σ keeps
    it flat further out.
    """
    edges = np.asarray(edges, np.float64)
    centres = bands.band_centres(edges)
    colors = _colors(list(spectra), colors)
    traces = []
    for spec, values in spectra.items():
        trace = _line(spec, centres, np.asarray(values, np.float64), colors[spec],
                      f"{_name(spec)} · %{{customdata[0]:.3g}}–%{{customdata[1]:.3g}} cycles per side · "
                      "λ / λmax %{y:.3g}")
        trace.update(mode="lines+markers", marker=dict(size=5, color=colors[spec]),
                     customdata=np.stack([edges[:-1], edges[1:]], -1))
        traces.append(trace)
    layout = _layout("NTK spectrum per frequency band", _log_axis("frequency (cycles per image side)", centres),
                     _axis("eigenvalue / largest", type="log", exponentformat="power"), height)
    return go.Figure(data=traces, layout=layout)
