"""Where a result came from: the code, the libraries, the machine, the input files, the setting and the command.

Every file of results (metrics.json, sweep.json, table1.json, lab1d.json) carries `record(...)` under
"provenance", so that a number can be traced to what made it and a run repeated. What cannot change while a
process runs (the libraries' versions, the machine, JAX's backend) is looked up once and kept; the checkout's
commit too, as it stood when first asked in this process. The input files' checksums and the date are taken
at every call. Gradio-free and cheap: no library is imported for its version (their installed metadata is
read) and the inputs are hashed in blocks.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import pathlib
import platform
import shlex
import subprocess
from collections.abc import Sequence
from importlib import metadata

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository, when ffn runs from a checkout
PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "gradio", "plotly", "pillow")  # whose versions are recorded
_HASH_BLOCK = 1 << 20  # bytes read at a time: a 50 MP photograph is hashed without holding its file
_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height (ffn.core.data shows the picture upright)


@functools.cache
def packages() -> dict[str, str | None]:
    """The installed version of each of `PACKAGES`, None where it is not installed (e.g. gradio, for the
    command line alone)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    """Git's answer in the repository (stripped), or None where git is missing or fails."""
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def checkout() -> dict | None:
    """{"commit": the checked-out commit, "dirty": whether tracked files differ from it} when ffn runs from a
    git checkout of its repository, else None (an installed copy, or no git). Untracked files (outputs, scratch)
    do not count as dirty."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or pathlib.Path(top).resolve() != ROOT:
        return None
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    if commit is None or status is None:
        return None
    return {"commit": commit, "dirty": bool(status)}


@functools.cache
def cpu() -> dict:
    """{"cpu": model name, "cores", "isa": the widest vector instructions the matmul kernels can use (AVX-512,
    AVX2, AVX, else the architecture), "avx512": bool}, from /proc/cpuinfo where there is one."""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    field = lambda name: next((l.split(":", 1)[1].strip() for l in lines if l.startswith(name)), "")  # noqa: E731,E741
    flags = field("flags").split()
    isa = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")) if flag in flags),
               platform.machine())
    return {"cpu": field("model name") or platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "isa": isa, "avx512": "avx512f" in flags}


@functools.cache
def backend() -> dict:
    """{"backend": JAX's default backend ("cpu", "gpu", "tpu"), "devices": its devices in words, e.g.
    "1 × NVIDIA H100 80GB HBM3"}."""
    import jax  # the caller has trained with it: already imported and initialised

    devices = jax.devices()
    return {"backend": jax.default_backend(), "devices": f"{len(devices)} × {devices[0].device_kind}"}


def environment() -> dict:
    """What does not change while this process runs: python, platform, packages, checkout, CPU, JAX's backend."""
    return {"python": platform.python_version(), "platform": platform.platform(), "packages": packages(),
            "checkout": checkout(), "machine": cpu(), **backend()}


def file_facts(path: str | os.PathLike, name: str | None = None) -> dict:
    """{"path", "sha256" (hex), "bytes", "width", "height"} of an image file. "path" is `name` where given (the app
    gives the file's name alone, so that no folder of the server is shown), else the path as given. The size in
    pixels is the upright picture's (EXIF orientation applied, as `ffn.core.data` decodes it), read from the header
    alone; None for a file that is not an image Pillow reads."""
    from PIL import Image, UnidentifiedImageError

    path = pathlib.Path(path)
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(_HASH_BLOCK):
            digest.update(block)
    width = height = None
    try:
        with Image.open(path) as image:  # the header only: no pixel is decoded
            width, height = image.size
            if image.getexif().get(0x0112) in _ROTATED:
                width, height = height, width
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        pass
    return {"path": str(path) if name is None else name, "sha256": digest.hexdigest(), "bytes": path.stat().st_size, "width": width,
            "height": height}


def command_line(prog: str, argv: Sequence[str] | None) -> str:
    """The command as typed, to paste again: `prog` then the arguments (argv, else this process's)."""
    import sys

    args = list(argv) if argv is not None else sys.argv[1:]
    return " ".join([prog, shlex.join(str(a) for a in args)]).strip()


def record(config: dict | None = None, inputs: Sequence[str | os.PathLike | dict] = (), command: str | None = None,
           **extra) -> dict:
    """The "provenance" block of a results file.

    `config` is the full setting (e.g. `Config.to_dict()`); `inputs` the image files read (paths, hashed here, or
    `file_facts` dicts already taken); `command` the command line (`command_line`), None when the result did not
    come from one (the app). `extra` adds entries (e.g. a cropped window). The date is UTC.
    """
    return {**environment(), "inputs": [i if isinstance(i, dict) else file_facts(i) for i in inputs],
            "config": config, "command": command, **extra,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
