"""The pictures a page returns are never rewritten while they are served (ffn/pages/image_cache.py).

Gradio's own writer truncates and rewrites a cached picture each time it is returned again; a reader of the file
in between gets it cut short (a browser's download fails with "Too little data for declared Content-Length").
"""

import os
import threading
import time

import numpy as np
from gradio import processing_utils
from PIL import Image

import ffn.pages.common  # noqa: F401  (the page layer installs the writer)
from ffn.pages import image_cache

PICTURE = Image.fromarray((np.random.default_rng(0).random((128, 128, 3)) * 255).astype(np.uint8))


def short_reads(save, folder, seconds: float = 1.0, first: bool = False) -> tuple[int, int]:
    """(reads, reads shorter than the file) while another thread saves the same picture over and over; `first`:
    stop at the first short read."""
    path = save(PICTURE, str(folder))
    size = os.path.getsize(path)
    done = threading.Event()

    def again():
        while not done.is_set():
            assert save(PICTURE, str(folder)) == path

    writer = threading.Thread(target=again)
    writer.start()
    reads = short = 0
    end = time.time() + seconds
    try:
        while time.time() < end:
            with open(path, "rb") as file:
                short += len(file.read()) != size
            reads += 1
            if first and short:
                break
    finally:
        done.set()
        writer.join()
    return reads, short


def test_the_page_layer_replaces_gradios_writer():
    assert processing_utils.save_pil_to_cache is image_cache.save_pil_to_cache


def test_a_picture_saved_again_is_never_read_cut_short(tmp_path):
    reads, short = short_reads(image_cache.save_pil_to_cache, tmp_path)
    assert reads > 1000 and short == 0, (reads, short)


def test_gradios_own_writer_is_read_cut_short(tmp_path):
    """The race the writer closes, on Gradio's original: if this fails, Gradio has fixed it (drop image_cache)."""
    reads, short = short_reads(image_cache.GRADIOS, tmp_path, seconds=5.0, first=True)  # stops at the first short read
    assert short > 0, f"no short read in {reads}"


def test_the_path_is_gradios_and_the_file_is_the_picture(tmp_path):
    path = image_cache.save_pil_to_cache(PICTURE, str(tmp_path), format="png")
    assert path.endswith("image.png")
    assert os.path.basename(os.path.dirname(path)) == processing_utils.hash_bytes(
        processing_utils.encode_pil_to_bytes(PICTURE, "png"))
    assert np.array_equal(np.asarray(Image.open(path)), np.asarray(PICTURE))
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert [p.name for p in (tmp_path).rglob("*") if p.is_file()] == ["image.png"]  # no staging file left
