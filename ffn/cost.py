"""What a run costs: FLOPs counted from the network's shapes, and seconds estimated from a measured rate."""

import time

import numpy as np

from ffn.config import Config


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


def matmul_gflops(n: int = 1024, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate in GFLOP/s through XLA (the median of `repeats`)."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a).block_until_ready()
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / float(np.median(times)) / 1e9


def estimate_seconds(config: Config, gflops: float, efficiency: float = 0.8, compile_seconds: float = 3.0) -> float:
    """Wall-clock estimate of a run: compilation plus its FLOPs at `efficiency` of `gflops`."""
    return compile_seconds + run_flops(config) / (gflops * 1e9 * efficiency)
