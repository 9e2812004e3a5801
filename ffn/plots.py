"""PSNR-curve figures (Plotly) for comparing input mappings during and after training.

The app rebuilds these figures 2-4 times a second while a run streams, so they use `template="none"`
(a named template alone costs 20-40 ms per figure) and style the axes by hand instead; one figure of
6 specs x 100 points builds in about 2.5 ms.
"""

from __future__ import annotations

import html
import json
import math
import pathlib
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.offline

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

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_TEXT = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"
_AXIS_LINE = "#9ca3af"
_REFERENCE = "#4b5563"  # a reference line whose label is not one of the plotted specs


def mapping_colors(specs: Sequence[str]) -> dict[str, str]:
    """A colour per spec by its position in `specs` (cycling after ten), so every chart of a run agrees."""
    colors: dict[str, str] = {}
    for spec in specs:
        if spec not in colors:
            colors[spec] = PALETTE[len(colors) % len(PALETTE)]
    return colors


def _finite_or_nan(values: Sequence[float], spec: str, n_steps: int) -> np.ndarray:
    """PSNR values as float64 with every non-finite value (NaN, ±inf) as NaN, which Plotly draws as a gap."""
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if y.shape[0] != n_steps:
        raise ValueError(f"PSNR series {spec!r} has {y.shape[0]} values but there are {n_steps} steps")
    # An infinite PSNR (a pixel-perfect fit) would wreck the autorange and JSON turns it into null anyway.
    return np.where(np.isfinite(y), y, np.nan)


def _axis(title: str) -> dict:
    return dict(
        title=dict(text=title, font=dict(size=12, color=_MUTED), standoff=6),
        showgrid=True,
        gridcolor=_GRID,
        zeroline=False,
        showline=True,
        linecolor=_AXIS_LINE,
        ticks="outside",
        tickcolor=_AXIS_LINE,
        ticklen=4,
        automargin=True,
    )


def psnr_figure(
    steps: Sequence[int],
    psnr: Mapping[str, Sequence[float]],
    title: str,
    colors: Mapping[str, str] | None = None,
    height: int = 320,
    reference: Mapping[str, float] | None = None,
) -> go.Figure:
    """One line per spec (in dict order) of PSNR in dB against training step.

    steps: (T,) step numbers shared by every spec (one run advances all mappings together).
    psnr: spec -> (T,) PSNR in dB; NaN (a diverged mapping) leaves a gap.
    colors: spec -> CSS colour, normally `mapping_colors(...)` of the whole run; missing specs get the
        palette colour of their position here.
    reference: label -> PSNR in dB drawn as a dashed horizontal line (e.g. the paper's number); it takes
        the colour of the spec of the same name if there is one.
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

    layout = dict(
        template="none",
        title=dict(text=html.escape(title, quote=False), x=0, xanchor="left", xref="paper", y=0.97, yanchor="top",
                   font=dict(size=14, color=_TEXT)),
        height=int(height),
        autosize=True,
        font=dict(family=_FONT, size=12, color=_TEXT),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=52, r=12, t=36, b=8),
        xaxis=_axis("step"),
        yaxis=_axis("PSNR (dB)"),
        showlegend=True,
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top", font=dict(size=11),
                    bgcolor="rgba(0,0,0,0)", itemwidth=30),
        hoverlabel=dict(font=dict(family=_FONT, size=12)),
        hovermode="closest",
        shapes=shapes,
        annotations=annotations,
    )
    return go.Figure(data=traces, layout=layout)


def psnr_figures(
    steps: Sequence[int],
    train: Mapping[str, Sequence[float]],
    test: Mapping[str, Sequence[float]],
    colors: Mapping[str, str] | None = None,
    height: int = 320,
    reference: Mapping[str, float] | None = None,
) -> tuple[go.Figure, go.Figure]:
    """(train, test) PSNR figures with one colour per spec across both; `reference` goes on the test one,
    where the paper reports its numbers."""
    if colors is None:
        colors = mapping_colors([*train, *test])
    return (
        psnr_figure(steps, train, TRAIN_TITLE, colors=colors, height=height),
        psnr_figure(steps, test, TEST_TITLE, colors=colors, height=height, reference=reference),
    )


def write_psnr_html(
    path: str | pathlib.Path,
    steps: Sequence[int],
    train: Mapping[str, Sequence[float]],
    test: Mapping[str, Sequence[float]],
    title: str = "Fourier feature networks: PSNR by input mapping",
    colors: Mapping[str, str] | None = None,
    reference: Mapping[str, float] | None = None,
) -> pathlib.Path:
    """Write one standalone HTML page with the train and test charts side by side (stacked when narrow).

    plotly.js is inlined (about 4.5 MB) so the page works offline; returns the path written.
    """
    path = pathlib.Path(path)
    train_fig, test_fig = psnr_figures(steps, train, test, colors=colors, height=400, reference=reference)
    config = json.dumps({"responsive": True, "displaylogo": False})
    # Plot only after both chart boxes exist: a chart drawn while the page is still being parsed takes the
    # full width and is then clipped once its neighbour arrives. Plotly's JSON escapes "<", so the
    # figures cannot close the <script> early.
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title, quote=False)}</title>
<style>
  body {{ margin: 24px; font-family: {_FONT}; color: {_TEXT}; background: white; }}
  h1 {{ font-size: 20px; font-weight: 600; margin: 0 0 16px; }}
  .charts {{ display: flex; flex-wrap: wrap; gap: 24px; }}
  .chart {{ flex: 1 1 420px; min-width: 0; height: 400px; }}
</style>
</head>
<body>
<h1>{html.escape(title, quote=False)}</h1>
<div class="charts">
<div class="chart" id="train-psnr"></div>
<div class="chart" id="test-psnr"></div>
</div>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
<script type="text/javascript">
const config = {config};
for (const [id, fig] of [["train-psnr", {train_fig.to_json()}], ["test-psnr", {test_fig.to_json()}]]) {{
  Plotly.newPlot(id, fig.data, fig.layout, config);
}}
</script>
</body>
</html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
