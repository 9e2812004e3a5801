"""Measurements of the inverse problems (not tests): reconstruction PSNRs per mapping, and the operator's share
of a training step's time.

    python -m ffn.inverse_table table --kind ct --size 64 --iters 300 --seeds 0 1
    python -m ffn.inverse_table share --sizes 64 128

`table` trains each mapping alone (so its seconds are its own) on random Shepp-Logan phantoms of the given
seeds and prints one JSON line per (phantom, mapping): the reconstruction's PSNR against the object (test),
the measurements' fit (train), and the seconds of training and of compiling. `share` times one jitted Adam
step of a 4×256 network with a Gaussian mapping against the operator's part alone (A, the loss, Aᵀ on the
rendered grid), median of repeated calls.
"""

import argparse
import json
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from ffn.core import inverse, phantom
from ffn.core.config import PAPER

# The mappings of the measurement: the CT notebook trains none and basic at lr 1e-2, the rest at the run's lr.
CT_MAPPINGS = ("none@0.01", "basic@0.01", "posenc:3", "gauss:1", "gauss:2", "gauss:4")
MRI_MAPPINGS = ("none", "basic", "posenc:3", "gauss:1", "gauss:2", "gauss:4")


def table(kind: str, size: int, iters: int, width: int, seeds, specs, lr: float) -> list[dict]:
    """One row per (phantom seed, mapping): test and train PSNR (dB) after `iters` steps, seconds."""
    rows = []
    for seed in seeds:
        task = inverse.make_task(kind, phantom.random_shepp_logan(size, seed))
        for spec in specs:
            config = PAPER.replace(size=size, mappings=(spec,), iters=iters, every=iters, width=width, lr=lr)
            last = inverse.train_task(task, config)
            rows.append({"kind": kind, "size": size, "iters": iters, "width": width, "seed": seed, "mapping": spec,
                         "lr": config.learning_rates()[0], "test_psnr": round(last.test_psnr[spec], 2),
                         "train_psnr": round(last.train_psnr[spec], 2), "train_seconds": round(last.train_seconds, 1),
                         "compile_seconds": round(last.compile_seconds, 1)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _median_seconds(fn, *args, repeats: int) -> float:
    """Median wall time of fn(*args) (already compiled), waiting for its results."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def share(kind: str, size: int, width: int = 256, repeats: int = 10) -> dict:
    """Seconds of one training step and of the operator's part of it (loss and cotangent on the whole grid)."""
    task = inverse.make_task(kind, phantom.random_shepp_logan(size, 0))
    config = PAPER.replace(size=size, mappings=("gauss:2",), width=width)
    group = inverse.make_task_groups(config)[0]
    state = jax.tree.map(lambda x: x[0], group.state)
    features = group.features[0]
    step = jax.jit(lambda s, x, t: inverse.task_train_step(s, 1e-3, group.model, x, t)[0])
    operator = jax.jit(lambda f, t: jax.value_and_grad(t.loss)(f))
    f = jnp.asarray(np.random.default_rng(0).random((size, size), np.float32))
    step_s = _median_seconds(step, state, features, task, repeats=repeats)
    operator_s = _median_seconds(operator, f, task, repeats=repeats * 10)
    return {"kind": kind, "size": size, "width": width, "step_ms": round(1e3 * step_s, 2),
            "operator_ms": round(1e3 * operator_s, 3), "operator_share": round(operator_s / step_s, 4)}


def cpu_name() -> str:
    """The CPU's model name (Linux), else what `platform` knows: timings mean nothing without it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("table", help="reconstruction PSNRs per mapping")
    t.add_argument("--kind", choices=inverse.KINDS, required=True)
    t.add_argument("--size", type=int, default=64)
    t.add_argument("--iters", type=int, default=300)
    t.add_argument("--width", type=int, default=256)
    t.add_argument("--lr", type=float, default=1e-3, help="for the mappings without their own @LR")
    t.add_argument("--seeds", type=int, nargs="+", default=[0])
    t.add_argument("--mappings", nargs="+", default=None)
    s = sub.add_parser("share", help="the operator's share of a step's time")
    s.add_argument("--kinds", nargs="+", choices=inverse.KINDS, default=list(inverse.KINDS))
    s.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    s.add_argument("--width", type=int, default=256)
    args = parser.parse_args(argv)
    print(json.dumps({"cpu": cpu_name(), "jax": jax.__version__,
                      "devices": [str(d) for d in jax.devices()]}), flush=True)
    if args.command == "table":
        specs = args.mappings or (CT_MAPPINGS if args.kind == "ct" else MRI_MAPPINGS)
        table(args.kind, args.size, args.iters, args.width, args.seeds, specs, args.lr)
    else:
        for kind in args.kinds:
            for size in args.sizes:
                print(json.dumps(share(kind, size, args.width)), flush=True)


if __name__ == "__main__":
    main()
