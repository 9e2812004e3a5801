"""The coordinate MLP: encoded (x, y) in, RGB out. It knows nothing about training."""

import flax.linen as nn
import jax
import jax.numpy as jnp

# The paper's code (jax.example_libraries.stax.Dense) draws weights Glorot-normal and biases N(0, 0.01²);
# we do the same so our PSNRs are comparable with the paper's.
kernel_init = nn.initializers.glorot_normal()
bias_init = nn.initializers.normal(stddev=1e-2)


class MLP(nn.Module):
    """`depth` Dense layers: depth-1 hidden layers of `width` with ReLU, then Dense(3) and a sigmoid."""

    depth: int = 4
    width: int = 256

    @nn.compact
    def __call__(self, x):  # (..., C) encoded coordinates -> (..., 3) RGB in (0, 1)
        for _ in range(self.depth - 1):
            x = nn.relu(nn.Dense(self.width, kernel_init=kernel_init, bias_init=bias_init)(x))
        x = nn.Dense(3, kernel_init=kernel_init, bias_init=bias_init)(x)
        return nn.sigmoid(x)

    def flops_per_point(self, in_features: int) -> int:
        """Multiply-adds x2 of one forward pass for one input point (the bias adds and activations are ignored)."""
        dims = [in_features] + [self.width] * (self.depth - 1) + [3]
        return 2 * sum(a * b for a, b in zip(dims[:-1], dims[1:]))


def count_params(params) -> int:
    """Number of scalars in a parameter pytree."""
    return sum(int(jnp.size(p)) for p in jax.tree.leaves(params))


def make_model(config) -> nn.Module:
    """The network a config asks for."""
    return MLP(depth=config.depth, width=config.width)
