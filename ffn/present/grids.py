"""Picture grids of a run: the comparison, the video's frames, spectra, error maps and the theory's rows.

Each is one labelled (H, W, 3) uint8 picture made with `images.tile_grid`.
"""

import numpy as np

from ffn.core import analysis, data
from ffn.experiments import runs
from ffn.present import images


def spectra_grid(pictures: dict[str, np.ndarray], ground_truth: np.ndarray, title: str) -> np.ndarray:
    """Log-magnitude spectra (`analysis.log_spectrum`) of each reconstruction and of the ground truth, labelled."""
    tiles = [(spec, analysis.log_spectrum(p)) for spec, p in pictures.items()]
    return images.tile_grid(tiles + [(analysis.GROUND_TRUTH, analysis.log_spectrum(ground_truth))], title=title)


def error_grid(pictures: dict[str, np.ndarray], ground_truth: np.ndarray) -> np.ndarray:
    """|reconstruction - ground truth| of each mapping (`analysis.error_maps`, one colour scale), labelled with its
    mean error in 8-bit levels."""
    maps, vmax = analysis.error_maps(pictures, ground_truth)
    mean = analysis.mean_abs_error(pictures, ground_truth)
    tiles = [(f"{s} · mean {255 * mean[s]:.1f}/255", maps[s]) for s in pictures]
    return images.tile_grid(tiles, title=f"|reconstruction - ground truth|: dark 0, yellow {vmax * 255:.0f}/255 or more")


def comparison(history: runs.History) -> np.ndarray:
    """The final reconstructions and the ground truth side by side, labelled with test PSNR."""
    snap = history.last
    labels = runs.captions(snap)
    tiles = [(labels[s], snap.images[s]) for s in history.config.mappings]
    tiles.append(("ground truth", history.ground_truth))
    return images.tile_grid(tiles, title=f"{history.name} · {history.config.size} px · step {snap.step}")

def video_frames(history: runs.History):
    """One labelled frame per snapshot (a generator: frames are composed as the encoder asks)."""
    truth = runs.shrink(history.ground_truth, runs.VIDEO_TILE)
    for step, pictures, labels in history.frames:
        tiles = [(labels[s], pictures[s]) for s in history.config.mappings]
        yield images.tile_grid(tiles + [("ground truth", truth)], title=f"step {step} / {history.config.iters}")


def prediction_grid(rows, ground_truth, title: str | None = None) -> np.ndarray:
    """Rows of pictures, each row ending with the ground truth captioned with the row's tag ('truth · TAG'), each
    picture captioned 'SPEC · 24.31 dB' (test PSNR), short enough to stay readable in a narrow tile: rows
    [(tag, {spec: (picture, test PSNR)})], e.g. the trained networks, the theory after as many steps, the theory's
    limit. Every row has the same specs in the same order. (H, W, 3) uint8."""
    rows = list(rows)
    truth = data.to_uint8(ground_truth)
    tiles = [tile for tag, pictures in rows
             for tile in [*((f"{spec} · {test:.2f} dB", picture) for spec, (picture, test) in pictures.items()),
                          (f"truth · {tag}", truth)]]
    return images.tile_grid(tiles, title=title, columns=len(tiles) // len(rows))
