"""jax.random's draws, exactly, with one compiled sampler per size class instead of one per shape.

jax.random compiles its sampler for every output shape it is asked for, and a normal or truncated normal costs
~0.2 s of compiling on a CPU: most of what a small run compiles, since every layer of every network width, and
every mapping size, is a new shape. Its random bits are counter-based (`jax_threefry_partitionable`, JAX's
default): element i of a flat draw is the same whatever the draw's size, and the samplers' transforms are
elementwise. So a draw made at the next power of two (at least `MIN_SIZE`), of which the first n numbers are
kept, is exactly jax.random's own draw of those n numbers (tests/test_draws.py holds it to them, value for
value), and every shape of up to `MIN_SIZE` numbers shares one compiled sampler.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

MIN_SIZE = 1 << 14  # numbers drawn at least: every hidden layer of width ≤ 128 and every B shares one sampler


def _size(n: int) -> int:
    return max(MIN_SIZE, 1 << max(n - 1, 0).bit_length())


def _kept(flat, shape, scale, dtype):
    """The first prod(shape) numbers of `flat`, in `shape`, times `scale` (in `dtype`, as jax.random's callers
    multiply). Outside a trace this is NumPy's work and a `device_put`: no program to compile for the shape
    (`jnp.asarray` would compile a copy)."""
    n = math.prod(shape)
    if isinstance(flat, jax.core.Tracer):  # inside jit or eval_shape
        return flat[:n].reshape(shape) * jnp.asarray(scale, dtype)
    return jax.device_put(np.asarray(flat)[:n].reshape(shape) * np.asarray(scale, dtype))


def normal(key, shape, scale=1.0, dtype=jnp.float32):
    """jax.random.normal(key, shape, dtype) * scale."""
    return _kept(jax.random.normal(key, (_size(math.prod(shape)),), dtype), shape, scale, dtype)


def truncated_normal(key, lower, upper, shape, scale=1.0, dtype=jnp.float32):
    """jax.random.truncated_normal(key, lower, upper, shape, dtype) * scale."""
    flat = jax.random.truncated_normal(key, lower, upper, (_size(math.prod(shape)),), dtype)
    return _kept(flat, shape, scale, dtype)


def uniform(key, shape, low, high, dtype=jnp.float32):
    """jax.random.uniform(key, shape, dtype, low, high)."""
    return _kept(jax.random.uniform(key, (_size(math.prod(shape)),), dtype, low, high), shape, 1.0, dtype)
