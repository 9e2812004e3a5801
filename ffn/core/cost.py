"""What a run costs: FLOPs counted from the network's shapes, and seconds estimated from a measured rate."""

import math
import time

import numpy as np

from ffn.core.config import Config


def _dims(config: Config, in_features: int) -> list[int]:
    return [in_features] + [config.width] * (config.depth - 1) + [3]


def step_flops_per_point(config: Config, in_features: int) -> int:
    """FLOPs of one Adam step per training pixel: forward, weight gradients and input gradients.

    A Dense layer of a×b costs 2ab per point forward, 2ab for its weight gradient and 2ab for the gradient
    of its input, except the first layer, whose input (the encoding) needs no gradient. Bias adds,
    activations, the loss and Adam's update are O(a + b) or O(params) and left out.
    """
    layers = list(zip(_dims(config, in_features)[:-1], _dims(config, in_features)[1:]))
    forward = sum(2 * a * b for a, b in layers)
    return 2 * forward + sum(2 * a * b for a, b in layers[1:])


def iteration_flops(config: Config) -> int:
    """FLOPs of one iteration: one Adam step of every mapping on the (size/2)² training pixels."""
    pixels = (config.size // 2) ** 2
    return sum(pixels * step_flops_per_point(config, m.width(config.features)) for m in config.parsed)


def snapshot_flops(config: Config) -> int:
    """FLOPs of one evaluation: a forward pass of every mapping on all size² pixels."""
    return sum(config.size**2 * sum(2 * a * b for a, b in zip(_dims(config, m.width(config.features))[:-1],
                                                                 _dims(config, m.width(config.features))[1:]))
               for m in config.parsed)


def run_flops(config: Config) -> int:
    """FLOPs of a whole run: every step plus one evaluation per snapshot."""
    snapshots = 1 + -(-config.iters // config.every)
    return config.iters * iteration_flops(config) + snapshots * snapshot_flops(config)


def task_iteration_flops(config: Config) -> int:
    """FLOPs of one iteration through an inverse problem (`ffn.core.inverse`): a step of every mapping on all
    size² pixels, whose forward pass runs twice (the render, then again inside each block's VJP). The operator's
    own work (under 1% of a step, docs/inverse-protocol.md) and the network's one output instead of three are
    left out."""
    pixels = config.size**2
    return sum(pixels * step_flops_per_point(config, m.width(config.features)) for m in config.parsed) + snapshot_flops(config)


def task_run_flops(config: Config) -> int:
    """FLOPs of a whole run through an inverse problem: every step plus one evaluation per snapshot."""
    snapshots = 1 + -(-config.iters // config.every)
    return config.iters * task_iteration_flops(config) + snapshots * snapshot_flops(config)


def gemm_gflops(m: int, k: int, n: int, repeats: int = 5) -> float:
    """This machine's float32 rate in GFLOP/s for an (m, k) @ (k, n) product through XLA (median of `repeats`).

    Each sample times enough back-to-back products to last about 20 ms, so small shapes are measured too
    (their dispatch, some 0.1 ms per call, is counted).
    """
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (m, k), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (k, n), jnp.float32)
    f = jax.jit(lambda a, b: a @ b)
    f(a, b).block_until_ready()
    t0 = time.perf_counter()
    f(a, b).block_until_ready()
    calls = max(1, min(1000, int(0.02 / max(time.perf_counter() - t0, 1e-6))))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            out = f(a, b)
        out.block_until_ready()
        times.append((time.perf_counter() - t0) / calls)
    return 2 * m * k * n / float(np.median(times)) / 1e9


def matmul_gflops(n: int = 1024, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate in GFLOP/s through XLA (n×n by n×n; the median of `repeats`)."""
    return gemm_gflops(n, n, n, repeats)


def estimate_seconds(config: Config, gflops: float, efficiency: float = 0.8, compile_seconds: float = 3.0) -> float:
    """Wall-clock estimate of a run: compilation plus its FLOPs at `efficiency` of `gflops`."""
    return compile_seconds + run_flops(config) / (gflops * 1e9 * efficiency)


def memory_bytes(config: Config) -> int:
    """A cautious estimate of a run's peak memory in bytes, so a server can refuse runs it cannot hold.

    Counts, per mapping and training pixel ((size/2)² of them), its encoded input (C floats) and about 2.5
    floats per hidden unit of every layer, as a one-batch backward pass would hold. That was 1.1–1.8× what
    a CPU process really added with a one-batch trainer; `ffn.core.train` now sums the gradient over blocks of
    pixels and needs much less (1.1 GB measured at 512 px with five mappings, against 4.6 GB estimated),
    so this errs high on purpose: a cap built on it refuses only runs that are truly large. (An inverse
    problem's run: `task_memory_bytes`.)
    """
    pixels = (config.size // 2) ** 2
    per_pixel = sum(m.width(config.features) + 2.5 * config.depth * config.width for m in config.parsed)
    return int(4 * pixels * per_pixel)


def task_memory_bytes(config: Config, measurements: int = 0) -> int:
    """An estimate of the peak memory in bytes of a run through an inverse problem (`ffn.core.inverse`), twice
    the arrays it holds: each mapping's encoded coordinates of every pixel (size² × its channels), the rendered
    grid and its cotangent, a training block's activations per network (1024 pixels × width × depth, forward and
    backward) and the operator (`measurements` numbers, and for CT the gather's index: about size per
    measurement). The blocked task trainer never holds a whole grid's activations, which `memory_bytes` counts.
    For the CT notebook's setting (512 px, four mappings, 4×256, 256 features) this gives 2.3 GB; a whole
    `python -m ffn --task ct` process of it peaked at 2.4 GB resident (2 steps, 2026-12-05, 2 cores)."""
    pixels = config.size**2
    floats = sum(pixels * (m.width(config.features) + 2) + 3 * 1024 * config.width * config.depth for m in config.parsed)
    return int(2 * 4 * (floats + measurements * (config.size + 2)))


MEASURABLE_FLOPS = 1e9  # FLOPs per step from which a run's speed is mostly arithmetic (the default run: 5.7e9)


class Speed:
    """The trainer's FLOP rate on this server: measured by finished runs, per network shape, else 80% of a quick
    matmul measurement.

    A property of the machine, not of a visitor, so one instance serves every visitor. The rate depends on the
    shapes (a 4×64 network keeps the cores less busy than a 4×256 one), so each (resolution, depth, width,
    features) keeps its own; a shape not seen yet takes the nearest one seen (in network width, then resolution),
    or the matmul rate before any run.
    """

    def __init__(self):
        self.gflops: float | None = None  # the matmul-based rate, measured once
        self.observed: dict[tuple, float] = {}  # (size, depth, width, features) -> GFLOP/s a run reached

    @staticmethod
    def _shape(config: Config) -> tuple:
        return config.size, config.depth, config.width, config.features

    def rate(self, config: Config | None = None) -> float:
        if config is not None and self.observed:
            size, depth, width, features = self._shape(config)
            nearest = min(self.observed, key=lambda k: (abs(math.log(k[2] / width)), abs(math.log(k[0] / size)),
                                                         abs(k[1] - depth), abs(math.log(k[3] / features))))
            return self.observed[nearest]
        if self.gflops is None:
            self.gflops = 0.8 * matmul_gflops(512, repeats=3)
        return self.gflops

    def observe(self, config: Config, steps_per_second: float, task: bool = False) -> None:
        """Keeps the rate a finished run reached, if it was large enough to tell: a tiny run's time is mostly the
        fixed cost of each step and snapshot, and its FLOP rate would make every larger run look far slower.
        `task`: a run through an inverse problem (`task_iteration_flops`)."""
        flops = task_iteration_flops(config) if task else iteration_flops(config)
        if flops >= MEASURABLE_FLOPS:
            self.observed[self._shape(config)] = flops * steps_per_second / 1e9

    def estimate(self, config: Config, task: bool = False) -> float:
        """Seconds a run of `config` should take here, compilation included; `task`: through an inverse problem
        (`task_run_flops`), at the rate measured for the same shapes."""
        if task:
            return 3.0 + task_run_flops(config) / (self.rate(config) * 1e9)
        return estimate_seconds(config, self.rate(config), efficiency=1.0)


def duration(seconds: float) -> str:
    """'40 s', '12.5 min', '3 h 10 min'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
