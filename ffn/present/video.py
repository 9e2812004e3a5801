"""Training-progress videos: frames (e.g. `images.tile_grid` snapshots) to an H.264 MP4."""

from __future__ import annotations

import math
import pathlib
import warnings
from collections.abc import Iterable

import imageio_ffmpeg
import numpy as np

from ffn.core.data import to_uint8


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad a frame to even width and height by repeating its last row/column (yuv420p needs even sizes)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_mp4(
    path: str | pathlib.Path,
    frames: Iterable[np.ndarray],
    fps: int = 8,
    hold_s: float = 1.0,
) -> pathlib.Path:
    """Encode `frames` as an H.264 MP4 (yuv420p, which browsers and phones play) and return its path.

    frames: (H, W, 3) uint8, or float in [0, 1], all the same size; consumed one at a time, so a
        generator is never held in memory. An odd H or W is padded by one edge pixel.
    hold_s: the last frame is repeated for about this many extra seconds (round(fps * hold_s) frames)
        so the final result stays on screen.
    Raises ValueError if there are no frames or their sizes differ; no partial file is left behind.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive; got {fps}")
    if hold_s < 0 or not math.isfinite(hold_s):
        raise ValueError(f"hold_s must be a finite number >= 0; got {hold_s}")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    writer = None  # started on the first frame, when the size is known
    shape = None
    last = None
    count = 0
    try:
        for frame in frames:
            frame = to_uint8(frame)
            if shape is None:
                shape = frame.shape
                h, w = _even(frame).shape[:2]
                writer = imageio_ffmpeg.write_frames(
                    str(path),
                    (w, h),
                    fps=fps,
                    codec="libx264",
                    pix_fmt_out="yuv420p",
                    macro_block_size=1,  # we pad to even ourselves; never let ffmpeg rescale the pixels
                    quality=None,  # the CRF below decides
                    ffmpeg_log_level="error",
                    # CRF 18 keeps nearest-neighbour pixel edges crisp; faststart lets a browser play it
                    # before the whole file has arrived.
                    output_params=["-crf", "18", "-preset", "medium", "-movflags", "+faststart"],
                )
                with warnings.catch_warnings():
                    # JAX warns on any fork; this one is fork-then-exec of ffmpeg, which is safe.
                    warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
                    writer.send(None)  # start ffmpeg
            elif frame.shape != shape:
                raise ValueError(
                    f"all video frames must have the same size: frame 0 is {shape[1]}x{shape[0]} "
                    f"but frame {count} is {frame.shape[1]}x{frame.shape[0]} (width x height)"
                )
            last = np.ascontiguousarray(_even(frame))
            writer.send(last)
            count += 1
        if writer is None:
            raise ValueError("write_mp4 got no frames; a video needs at least one")
        for _ in range(round(fps * hold_s)):
            writer.send(last)
        writer.close()  # waits for ffmpeg to finish the file
    except BaseException:
        if writer is not None:
            writer.close()
        path.unlink(missing_ok=True)
        raise
    return path
