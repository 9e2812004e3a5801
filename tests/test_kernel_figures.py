"""The Kernels view's figures fit their panels (issue 10: `none` showed empty default axes, and its reason and the
tangent-kernel title were cut off in panels ~320-400 px wide)."""

import numpy as np

from ffn.core import analysis
from ffn.present import plots

TITLE_CHARS = 36  # a 14 px title beside the y axis of a ~330 px panel (seen)
LINE_CHARS = 42  # a 12 px note line in the same panel, without axes (seen)


def test_none_has_no_axes_and_a_wrapped_reason():
    fig = plots.kernel_heatmap_figure(None, "none")
    assert not fig.data
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    (note,) = fig.layout.annotations
    lines = note.text.split("<br>")
    assert len(lines) > 1 and max(map(len, lines)) <= LINE_CHARS
    assert " ".join(lines).replace("&#x27;", "'") == analysis.NO_KERNEL_REASON.replace("'", "'")
    assert (note.x, note.y, note.xref, note.yref) == (0.5, 0.5, "paper", "paper")
    assert len(fig.layout.title.text) <= TITLE_CHARS and "none" in fig.layout.title.text


def test_titles_fit_half_a_page():
    b = np.random.default_rng(0).normal(size=(16, 2))
    long_spec = "posenc:4@1e-2"
    kernel = plots.kernel_heatmap_figure(b, long_spec, n=11)
    assert kernel.layout.xaxis.visible is not False and len(kernel.data) == 1
    for trained in (True, False):
        ntk = plots.ntk_heatmap_figure(np.eye(6), long_spec, trained=trained)
        title = ntk.layout.title.text
        assert len(title) <= TITLE_CHARS and long_spec in title and ("untrained" in title) == (not trained), title
    assert len(kernel.layout.title.text) <= TITLE_CHARS
