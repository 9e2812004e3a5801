"""Several devices: the networks of a group are split among them, and every number stays what one device gives.

The devices are CPU ones (XLA_FLAGS=--xla_force_host_platform_device_count=4), in a subprocess: the count is
fixed when JAX starts. Equality is exact, not approximate: each device runs the same per-network program as a
single device does (a loop over its share of the networks), so nothing is summed in another order.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ffn.core import train
from ffn.core.config import TINY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Group sizes 1 (none), 3 (gauss:1, gauss:3@0.01, posenc:3) and 1 (basic): every group is padded to 4 networks.
CONFIG = TINY.replace(mappings=("none", "gauss:1", "gauss:3@0.01", "posenc:3", "basic"), iters=20, every=10)

CHILD = """
import json, sys
import jax, numpy as np
from ffn.core import data, train
from ffn.core.config import TINY
config = TINY.replace(mappings=tuple(sys.argv[2:]), iters=20, every=10)
image = np.load(sys.argv[1])
groups = train.make_groups(config, data.coordinates(config.size))
last = train.train(image, config)
np.savez(sys.argv[1] + ".out.npz", **{spec: picture for spec, picture in last.images.items()})
print(json.dumps({"devices": len(jax.devices()),
                  "groups": [[len(g.specs), g.lr.shape[0], len(g.features.sharding.device_set)] for g in groups],
                  "train": last.train_psnr, "test": last.test_psnr}))
"""


@pytest.mark.slow  # python -m pytest -m slow
def test_four_devices_give_the_numbers_of_one(tmp_path, image):
    path = tmp_path / "image.npy"
    np.save(path, image)
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), *CONFIG.mappings], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    four = json.loads(done.stdout.strip().splitlines()[-1])
    assert four["devices"] == 4
    assert four["groups"] == [[1, 4, 4], [3, 4, 4], [1, 4, 4]]  # padded to 4 networks, one per device

    one = train.train(image, CONFIG)  # this process: one device
    assert four["train"] == one.train_psnr and four["test"] == one.test_psnr  # padding dropped, numbers identical
    pictures = np.load(str(path) + ".out.npz")
    for spec in CONFIG.mappings:
        np.testing.assert_array_equal(pictures[spec], one.images[spec])
