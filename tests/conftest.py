import os

import numpy as np
import pytest

# No network here or in CI: keep libraries from phoning home, and keep JAX on the CPU with a fixed device count.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def smooth_image(size: int = 16) -> np.ndarray:
    """A smooth (size, size, 3) float32 colour image in [0.1, 0.9] with some detail: learnable in a few dozen steps.

    Red varies along x, green along y at twice the frequency, blue is the product x·y.
    """
    c = np.linspace(0, 1, size, endpoint=False)
    x, y = np.meshgrid(c, c)
    return np.stack([0.5 + 0.4 * np.sin(2 * np.pi * x), 0.5 + 0.4 * np.cos(4 * np.pi * y), x * y], -1).astype(np.float32)


@pytest.fixture(scope="session")
def image() -> np.ndarray:
    """`smooth_image()`, shared by every test of the session and read-only, so no test can change another's input."""
    picture = smooth_image()
    picture.flags.writeable = False
    return picture
