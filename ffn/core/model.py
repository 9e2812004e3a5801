"""The coordinate networks: encoded (x, y) in, RGB out. They know nothing about training.

`MLP` is the paper's ReLU network; `Siren` is the sine-activated network of Sitzmann et al. (NeurIPS 2020,
"Implicit Neural Representations with Periodic Activation Functions"), the other common way to fit high
frequencies, usually fed the raw coordinates (the `none` mapping).

Each network runs two ways on the same parameters: `model.apply(params, x)` on (points, channels), as Flax
does, and `model.apply_t(params, x)` on *feature-major* (channels, points) inputs, which the trainer uses:
in that layout every product of a training step, the weight gradient included, takes the fast matmul path
(see `ffn.core.train`). The paper's MLP writes its feature-major pass out with `dense_t`; SIREN falls back to
its own `apply` on the transposed block: right, only slower.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ffn.core import draws


# The paper's code (jax.example_libraries.stax.Dense) draws weights Glorot-normal and biases N(0, 0.01²);
# we do the same so our PSNRs are comparable with the paper's. Both are flax's initializers, value for value
# (`nn.initializers.glorot_normal()` and `normal(1e-2)`), drawn through `draws` so that a new width compiles
# no new sampler.
def kernel_init(key, shape, dtype=jnp.float32):
    """Glorot normal for a (fan_in, fan_out) kernel: a normal truncated at ±2 standard deviations, rescaled
    to variance 2 / (fan_in + fan_out) (0.8796… is that truncated normal's standard deviation)."""
    fan_in, fan_out = shape
    std = np.sqrt(np.asarray(1.0 / ((fan_in + fan_out) / 2), dtype)) / np.asarray(.87962566103423978, dtype)
    return draws.truncated_normal(key, -2, 2, shape, std, dtype)


def bias_init(key, shape, dtype=jnp.float32):
    """N(0, 0.01²)."""
    return draws.normal(key, shape, 1e-2, dtype)


@jax.custom_vjp
def dense_t(kernel, bias, x):
    """A Dense layer (flax's x·W + b) on feature-major inputs: kernel (C, F), bias (F,), x (C, P) -> (F, P)."""
    # Wᵀ is copied (it is small) behind a barrier: XLA would fold a bare transpose into the product, which
    # would then contract the kernel's major axis and leave the fast matmul path.
    return jax.lax.optimization_barrier(kernel.T) @ x + bias[:, None]


def _dense_t_forward(kernel, bias, x):
    return dense_t(kernel, bias, x), (kernel, x)


def _dense_t_backward(residuals, g):  # g (F, P)
    kernel, x = residuals
    d_kernel = jax.lax.dot_general(x, g, (((1,), (1,)), ((), ())))  # (C, F); the pixels are minor in both
    # The input's gradient kernel·g (C, P) is not needed for the first layer; XLA drops it there.
    return d_kernel, jnp.sum(g, axis=1), kernel @ g


dense_t.defvjp(_dense_t_forward, _dense_t_backward)


def _layer(i: int) -> str:
    """The name of Dense layer i in the parameters, set explicitly so that `MLP.apply_t` can find it."""
    return f"Dense_{i}"


class MLP(nn.Module):
    """`depth` Dense layers: depth-1 hidden layers of `width` with ReLU, then Dense(outputs) and a sigmoid.

    `outputs` is 3 (RGB) for images; the paper's CT and MRI networks end in Dense(1): a grey object.
    """

    depth: int = 4
    width: int = 256
    outputs: int = 3

    @nn.compact
    def __call__(self, x):  # (..., C) encoded coordinates -> (..., outputs) in (0, 1)
        for i in range(self.depth - 1):
            x = nn.relu(nn.Dense(self.width, kernel_init=kernel_init, bias_init=bias_init, name=_layer(i))(x))
        x = nn.Dense(self.outputs, kernel_init=kernel_init, bias_init=bias_init, name=_layer(self.depth - 1))(x)
        return nn.sigmoid(x)

    @nn.nowrap
    def apply_t(self, params, x):
        """`apply` on feature-major inputs, written out with `dense_t`: x (C, P) -> (outputs, P)."""
        layers = params["params"]
        for i in range(self.depth):
            x = dense_t(layers[_layer(i)]["kernel"], layers[_layer(i)]["bias"], x)
            x = jax.nn.relu(x) if i < self.depth - 1 else jax.nn.sigmoid(x)
        return x

    def flops_per_point(self, in_features: int) -> int:
        """Multiply-adds x2 of one forward pass for one input point (the bias adds and activations are ignored)."""
        dims = [in_features] + [self.width] * (self.depth - 1) + [self.outputs]
        return 2 * sum(a * b for a, b in zip(dims[:-1], dims[1:]))


def _uniform(limit: float):
    """An initializer drawing U(-limit, limit)."""

    def init(key, shape, dtype=jnp.float32):
        return draws.uniform(key, shape, -limit, limit, dtype)

    return init


class Siren(nn.Module):
    """`depth` Dense layers: depth-1 sine layers sin(w0·(Wx + b)) of `width`, then a linear Dense(outputs).

    Initialisation as in the SIREN paper's code: the first layer's W ~ U(-1/in, 1/in), every later W ~
    U(-√(6/in)/w0, √(6/in)/w0) (so w0·W has unit-variance pre-activations), biases U(-1/√in, 1/√in)
    (its framework's Dense default). The output is 0.5 + 0.5·(linear output): SIREN fits targets in
    [-1, 1] with a linear last layer, and this is that same network for our [0, 1] targets (the 0.5 only
    scales the loss, which Adam ignores). The result is then clipped to [0, 1] with a straight-through
    gradient, so the trainer's PSNR and uint8 pictures see displayable values while an overshoot still
    gets a gradient back towards its target.
    """

    depth: int = 4
    width: int = 256
    w0: float = 30.0
    outputs: int = 3  # 1 for a grey object (CT, MRI)

    @nn.compact
    def __call__(self, x):  # (..., C) encoded coordinates -> (..., outputs) in [0, 1]
        for i in range(self.depth - 1):
            fan_in = x.shape[-1]
            limit = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / self.w0
            dense = nn.Dense(self.width, kernel_init=_uniform(limit), bias_init=_uniform(1.0 / math.sqrt(fan_in)))
            x = jnp.sin(self.w0 * dense(x))
        fan_in = x.shape[-1]
        x = nn.Dense(self.outputs, kernel_init=_uniform(math.sqrt(6.0 / fan_in) / self.w0),
                     bias_init=_uniform(1.0 / math.sqrt(fan_in)))(x)
        y = 0.5 + 0.5 * x
        return y + jax.lax.stop_gradient(jnp.clip(y, 0.0, 1.0) - y)  # clipped forward, identity backward

    @nn.nowrap
    def apply_t(self, params, x):
        """`apply` on feature-major inputs through the (points, channels) layout: x (C, P) -> (outputs, P)."""
        return self.apply(params, x.T).T

    def flops_per_point(self, in_features: int) -> int:
        """Multiply-adds x2 of one forward pass for one input point (as `MLP.flops_per_point`)."""
        return MLP(self.depth, self.width, self.outputs).flops_per_point(in_features)


def make_model(config, outputs: int = 3) -> nn.Module:
    """The network a config asks for: its `model` family ("relu" or "siren") at its depth and width, with
    `outputs` channels (3 for an RGB image, 1 for a grey object)."""
    if getattr(config, "model", "relu") == "siren":
        return Siren(depth=config.depth, width=config.width, w0=config.w0, outputs=outputs)
    return MLP(depth=config.depth, width=config.width, outputs=outputs)
