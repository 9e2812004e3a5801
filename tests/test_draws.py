"""`ffn.core.draws` gives jax.random's and flax's numbers exactly, while compiling one sampler per size class."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ffn.core import draws, mappings, model

# A kernel that is no power of two, a bias, just past MIN_SIZE (a bigger size class), one number. (Each shape
# costs the reference, jax.random, a compiled sampler.)
SHAPES = [(34, 32), (3,), (draws.MIN_SIZE + 1,), (1,)]


def test_every_draw_is_jax_randoms_own():
    key = jax.random.key(7)
    for shape in SHAPES:
        np.testing.assert_array_equal(draws.normal(key, shape), jax.random.normal(key, shape), err_msg=str(shape))
        np.testing.assert_array_equal(draws.truncated_normal(key, -2, 2, shape),
                                      jax.random.truncated_normal(key, -2, 2, shape), err_msg=str(shape))
    np.testing.assert_array_equal(draws.uniform(key, (34, 32), -0.3, 0.3),
                                  jax.random.uniform(key, (34, 32), jnp.float32, -0.3, 0.3))
    # Inside a trace, the same numbers.
    traced = jax.jit(lambda k: draws.truncated_normal(k, -2, 2, (34, 32), 0.5))(key)
    np.testing.assert_array_equal(traced, draws.truncated_normal(key, -2, 2, (34, 32), 0.5))


def test_the_networks_are_initialised_as_flaxs_glorot_normal_and_normal_would():
    glorot, normal = nn.initializers.glorot_normal(), nn.initializers.normal(1e-2)

    class Reference(nn.Module):  # the paper's MLP with flax's own initialisers
        @nn.compact
        def __call__(self, x):
            for i in range(2):
                x = nn.relu(nn.Dense(34, kernel_init=glorot, bias_init=normal, name=f"Dense_{i}")(x))
            return nn.sigmoid(nn.Dense(3, kernel_init=glorot, bias_init=normal, name="Dense_2")(x))

    key, x = jax.random.key(3), jnp.zeros((1, 20))
    jax.tree.map(np.testing.assert_array_equal, model.MLP(depth=3, width=34).init(key, x), Reference().init(key, x))
    np.testing.assert_array_equal(mappings.gaussian_basis(key, 17, 2), jax.random.normal(key, (17, 2)))


def test_layers_of_new_shapes_compile_no_new_sampler():
    """jax.random compiles its samplers per shape (~0.2 s each here); through `draws`, once a layer has been
    drawn, the kernels and biases of every new width and input size (up to MIN_SIZE numbers a layer) compile
    nothing at all, where flax's own initialisers compile a program for each."""
    def compiles(initialise, shapes):
        seen = []

        def note(event, seconds, **_):
            if event == "/jax/core/compile/backend_compile_duration":
                seen.append(seconds)

        jax.monitoring.register_event_duration_secs_listener(note)
        try:
            for i, shape in enumerate(shapes):
                jax.block_until_ready(initialise(jax.random.key(i), shape))
        finally:
            jax.monitoring.unregister_event_duration_listener(note)
        return len(seen)

    glorot = nn.initializers.glorot_normal()
    for initialise in (model.kernel_init, model.bias_init, glorot):  # the samplers, once
        initialise(jax.random.key(0), (40, 10) if initialise is not model.bias_init else (40,))
    kernels = [(11, 41), (23, 57), (70, 96), (128, 128)]
    assert compiles(model.kernel_init, kernels) == 0
    assert compiles(model.bias_init, [(41,), (57,), (96,), (128,)]) == 0
    assert compiles(glorot, kernels[:2]) >= 2  # what this saves
