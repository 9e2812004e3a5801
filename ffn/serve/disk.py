"""What this server keeps on disk: per-process run folders, and a cap on the outputs it offers for download.

A run writes its files into a folder of its own under `runs_root()/<pid>` and removes it once the page has them
(Gradio copies what it serves into its own cache). A folder of a process that is gone (a server that was killed)
is removed when the next server starts; a live server's never is. The downloads Gradio keeps are capped in all
(`FFN_MAX_OUTPUT_MB`): beyond it the oldest are removed first, so a looping client cannot fill the disk between
Gradio's hourly sweeps.
"""

import os
import pathlib
import shutil
import tempfile

ROOT_NAME = "ffn-runs"


def runs_root() -> pathlib.Path:
    """Where every server of this machine keeps its run folders: one sub-folder per process."""
    return pathlib.Path(tempfile.gettempdir()) / ROOT_NAME


def process_dir(pid: int | None = None) -> pathlib.Path:
    """This process's run folder (created)."""
    path = runs_root() / str(pid or os.getpid())
    path.mkdir(parents=True, exist_ok=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers() -> list[pathlib.Path]:
    """Removes the run folders of servers that are gone (never a live one's, nor this one's); returns them."""
    removed = []
    root = runs_root()
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.is_dir() and folder.name.isdigit() and int(folder.name) != os.getpid() and not _alive(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        elif folder.is_dir() and not folder.name.isdigit():  # a folder of an older version, which kept none per pid
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_own() -> None:
    """Removes this process's run folder (at shutdown)."""
    shutil.rmtree(runs_root() / str(os.getpid()), ignore_errors=True)


def cap_outputs(cache: str | os.PathLike, names, cap_bytes: float) -> int:
    """Removes the oldest downloads (files named one of `names`) under Gradio's cache `cache` until those left take
    at most `cap_bytes` together; returns the bytes removed. Uploads and streamed pictures are not touched."""
    files, names = [], set(names)
    for folder, _, found in os.walk(cache):  # (os.walk: half the time of Path.rglob on a cache of thousands)
        for name in names.intersection(found):
            path = pathlib.Path(folder, name)
            try:
                stat = path.stat()
            except OSError:  # removed meanwhile
                continue
            files.append((stat.st_mtime, stat.st_size, path))
    total, removed = sum(size for _, size, _ in files), 0
    for _, size, path in sorted(files):
        if total <= cap_bytes:
            break
        try:
            path.unlink()
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
        except OSError:
            continue
        total -= size
        removed += size
    return removed
