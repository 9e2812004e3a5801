"""Plotly figures of the analysis views: mapping kernels, tangent kernels, spectra, a row of pixels, the σ sweep.

Each takes the arrays of `ffn.analysis` / `ffn.sweep` (or computes the cheap ones itself) and returns a
`go.Figure` styled like `ffn.plots`: `template="none"` for speed, a fixed height, and one colour per spec
from `plots.mapping_colors`, so a mapping looks the same in every chart of a run.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ffn import analysis
from ffn.plots import mapping_colors

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_TEXT = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"
_AXIS_LINE = "#9ca3af"
_TRUTH = "#111827"  # the ground truth: near-black, drawn dashed, never one of the mapping colours


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
                    bgcolor="rgba(0,0,0,0)"),
        hovermode="closest", **extra)


def _name(spec: str) -> str:
    """A spec safe inside a Plotly hover template (only '%{' is special there)."""
    return spec.replace("%{", "% {")


def _colors(specs: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    fallback = mapping_colors(list(specs))
    return {s: (colors or {}).get(s, fallback[s]) for s in specs}


def _line(name, x, y, color, hover, dash=None, width=2) -> dict:
    return dict(type="scatter", mode="lines", name=name, x=np.asarray(x), y=np.asarray(y, np.float64),
                line=dict(color=color, width=width, dash=dash), hovertemplate=hover + "<extra></extra>")


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


def kernel_heatmap_figure(b: np.ndarray | None, spec: str, n: int = 101, height: int = 320) -> go.Figure:
    """The 2D kernel k(Δv) of one mapping (`analysis.kernel_grid`) over Δv ∈ [-0.5, 0.5]²; for `none`, an
    empty chart that says why."""
    k = analysis.kernel_grid(b, n)
    d = analysis.delta_axis(n)
    square = dict(scaleanchor="x", constrain="domain")
    layout = _layout(f"Kernel of {spec}, k(Δv)", _axis("Δx (image sides)", constrain="domain"),
                     _axis("Δy (image sides)", **square), height, legend=False)
    if k is None:
        layout["annotations"] = [dict(xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                                      text=html.escape(analysis.NO_KERNEL_REASON), font=dict(size=11, color=_MUTED))]
        return go.Figure(layout=layout)
    heat = go.Heatmap(z=k, x=d, y=d, colorscale="RdBu_r", zmin=-1, zmax=1, colorbar=dict(thickness=12),
                      hovertemplate="Δx %{x:.3f} · Δy %{y:.3f} · k %{z:.3f}<extra></extra>")
    return go.Figure(data=[heat], layout=layout)


def ntk_heatmap_figure(ntk: np.ndarray, spec: str, trained: bool = True, height: int = 320) -> go.Figure:
    """An empirical NTK map (`analysis.ntk_map`, (n, n), k = 1 at the centre) drawn like an image (row 0 on
    top), on a colour scale symmetric about 0."""
    ntk = np.asarray(ntk, np.float64)
    n = ntk.shape[0]
    limit = float(np.nanmax(np.abs(ntk))) if np.isfinite(ntk).any() else 1.0
    pos = np.arange(n) / n  # the coordinates it was evaluated at (ffn.data.coordinates(n))
    heat = go.Heatmap(z=ntk, x=pos, y=pos, colorscale="RdBu_r", zmin=-limit,
                      zmax=limit, colorbar=dict(thickness=12),
                      hovertemplate="x %{x:.3f} · y %{y:.3f} · k %{z:.3f}<extra></extra>")
    state = "trained" if trained else "untrained"
    layout = _layout(f"Tangent kernel of {spec} ({state}) to the centre", _axis("x", constrain="domain"),
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
    layout = _layout(f"Row {row} ({what})", _axis("column (pixel)"), _axis(f"{what} value", range=[-0.02, 1.02]), height)
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
    layout = _layout("Final PSNR against σ", _axis("σ (cycles per image side)", type="log"), _axis("PSNR (dB)"), height)
    return go.Figure(data=traces, layout=layout)
