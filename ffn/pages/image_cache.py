"""Gradio's cache of the pictures a handler returns, written so that a file being served is never rewritten.

Gradio (6.31) saves each returned picture at a path named by the hash of its bytes, and writes it again at every
return, truncating it first. The same picture is returned again and again (the ground truth in each of a run's
streamed galleries, the last reconstructions in the final update, two visitors' runs of the same image): a
browser, or a `gradio_client`, still fetching the earlier copy then reads a file cut short, and the server logs
`h11.LocalProtocolError: Too little data for declared Content-Length` with a traceback. Here a picture whose file
exists is left alone (touched, so the cache's age-based cleaning counts the new use), and a new one is written
under a temporary name and renamed into place, as Gradio already does for files it copies.
"""

import os
import pathlib
import tempfile

from gradio import processing_utils

GRADIOS = processing_utils.save_pil_to_cache  # the writer this replaces (install() is this module's only caller)


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """The same path as Gradio's `save_pil_to_cache` (the hash of the encoded bytes), never written twice."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = pathlib.Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    if target.exists():
        try:
            os.utime(target)
        except OSError:  # removed by the cache's cleaning in between: written again below
            pass
        else:
            return str(target)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(staging, 0o644)  # as a plain write would leave it (mkstemp makes it private)
        os.replace(staging, target)
    except BaseException:
        pathlib.Path(staging).unlink(missing_ok=True)
        raise
    return str(target)


def install() -> None:
    """Every Gradio component that saves a picture (Image, Gallery, AnnotatedImage) looks the function up in
    `processing_utils` when it runs, so replacing it there covers them all."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
