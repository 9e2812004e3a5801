"""This server's environment: every FFN_* variable is read here and nowhere else, and where the server runs.

| variable | default | what it sets |
|---|---|---|
| FFN_MAX_RUN_SECONDS | 1200 | seconds one long job (a run, a sweep, a lab run, a theory view) may compute; 0: no limit |
| FFN_MAX_RUN_GB | 8 | estimated memory one run may take |
| FFN_MAX_QUEUE | 16 | jobs that may wait in the queue; beyond it "queue is full" |
| FFN_CONCURRENT_RUNS | 1 | long jobs at once (one already uses every core of a small machine) |
| FFN_STATE_SESSIONS | 200 | visitors whose page state the server keeps (Gradio keeps 10000: ~1 MB each plus their run) |
| FFN_CONCURRENT_DECODES | 2 | uploads decoded at once (each takes a full-resolution copy, up to ~0.4 GB) |
| FFN_MAX_OUTPUT_MB | 200 | this server's run outputs kept for download, in all; the oldest go first beyond it |
| FFN_CACHE_DIR | .cache/jax | JAX's persistent compilation cache |
| FFN_WARM_UP | 1 | 1: compile the presets' programs at start-up, so the first Train starts at once; 0: not |

Spaces set SPACE_ID, CPU_CORES, MEMORY and ACCELERATOR; Gradio reads GRADIO_SERVER_NAME/PORT.
"""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _number(name: str, default: float) -> float:
    """The variable as a number, or `default` where it is unset or empty (a typo fails at start-up, loudly)."""
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        raise SystemExit(f"{name} must be a number (got {text!r}).") from None


MAX_RUN_SECONDS = _number("FFN_MAX_RUN_SECONDS", 1200.0)
MAX_RUN_GB = _number("FFN_MAX_RUN_GB", 8.0)
MAX_QUEUE = int(_number("FFN_MAX_QUEUE", 16))
CONCURRENT_RUNS = int(_number("FFN_CONCURRENT_RUNS", 1))
STATE_SESSIONS = int(_number("FFN_STATE_SESSIONS", 200))
CONCURRENT_DECODES = max(1, int(_number("FFN_CONCURRENT_DECODES", 2)))
MAX_OUTPUT_MB = _number("FFN_MAX_OUTPUT_MB", 200.0)
WARM_UP = bool(_number("FFN_WARM_UP", 1))
CACHE_DIR = pathlib.Path(os.environ.get("FFN_CACHE_DIR") or ROOT / ".cache" / "jax")


def space_id() -> str | None:
    """The Hugging Face Space this process serves ('owner/name'), or None: Spaces set SPACE_ID at run time (see
    docs/serving.md). Gradio itself also wants SYSTEM=spaces before it treats a process as a Space."""
    return os.environ.get("SPACE_ID") or None


def listen_address() -> tuple[str, int]:
    """(host, port) to serve on: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT when set; else on a Space every interface
    on port 7860 (where a Gradio Space expects the app), elsewhere this machine alone (127.0.0.1:7860)."""
    host = os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if space_id() else "127.0.0.1")
    return host, int(os.environ.get("GRADIO_SERVER_PORT") or 7860)


def hardware() -> str:
    """What this server computes on, in words: the accelerator (a Space's ACCELERATOR, else JAX's device) and the
    CPU cores and memory (a Space's CPU_CORES and MEMORY, else this machine's)."""
    import jax

    device = jax.devices()[0]
    accelerator = os.environ.get("ACCELERATOR")
    if device.platform != "cpu":
        chip = f"{len(jax.devices())} × {device.device_kind}"
    elif accelerator and accelerator != "none":
        chip = f"{accelerator} (JAX sees no GPU: install a CUDA build of JAX)"
    else:
        chip = "CPU only"
    cores = os.environ.get("CPU_CORES") or str(os.cpu_count())
    memory = os.environ.get("MEMORY") or _memory_text()
    where = f"Hugging Face Space {space_id()}" if space_id() else "this machine"
    return f"{where}: {chip}, {cores} CPU cores, {memory} memory"


def _memory_text() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return "unknown"
    return f"{pages * size / 2**30:.0f} GiB"
