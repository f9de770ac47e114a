"""Our Jacobians, Hessians, jvps and vjps of array code against JAX's, on
the same functions (each run by JAX with ``np`` bound to ``jax.numpy``).
Skipped where JAX is not installed (it is not a test dependency: the
closed-form and finite-difference tests elsewhere run everywhere)."""

from __future__ import annotations

import types

import numpy as np
import optree
import pytest

import autodiff_ast as ad
from test_loop_arrays import recurrence, rnn_loss as rnn
from test_loop_exits import grows, newton

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

rng = np.random.default_rng(11)
inputs = rng.normal(size=(50, 4))
targets = rng.random(50) > 0.5
labels = rng.normal(size=50)


def in_jax(function):
    """``function``, and the functions of its module it calls, with the
    global ``np`` bound to ``jax.numpy``."""
    namespace = {**function.__globals__, "np": jnp}
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == \
                function.__module__:
            namespace[name] = types.FunctionType(
                value.__code__, namespace, value.__name__,
                value.__defaults__)
    return namespace[function.__name__]


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2) + 1)


def logistic(W, b):
    preds = sigmoid(np.dot(inputs, W) + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def mlp(params, x):
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    out = hidden @ params["W2"] + params["b2"]
    return np.mean((out - labels) ** 2)


def features(W, x):
    return {"tanh": np.tanh(x @ W), "norm": np.sqrt(np.sum(W ** 2))}


def agree(ours, theirs, rtol):
    ours, theirs = optree.tree_leaves(ours), optree.tree_leaves(theirs)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        reference = np.asarray(reference)
        assert np.shape(mine) == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=rtol,
                                   atol=rtol * np.abs(reference).max())


def test_logistic_hessian_in_float64():
    W, b = rng.normal(size=4), 0.3
    for argnums in (0, (0, 1)):
        agree(ad.hessian(logistic, argnums)(W, b),
              jax.hessian(in_jax(logistic), argnums)(W, b), 1e-12)


def test_logistic_hessian_in_float32_is_as_close_to_the_truth_as_jax():
    global inputs
    W, b = rng.normal(size=4), 0.3
    truth = ad.hessian(logistic)(W, b)
    saved = inputs
    inputs = saved.astype(np.float32)
    try:
        W32, b32 = W.astype(np.float32), np.float32(b)
        ours = ad.hessian(logistic)(W32, b32)
        theirs = np.asarray(jax.hessian(in_jax(logistic))(W32, b32))
    finally:
        inputs = saved
    assert ours.dtype == np.float32
    scale = np.abs(truth).max()
    # JAX differentiates the log-likelihood as written, which loses digits
    # in float32 where a probability is near 1; ours is p (1 - p) itself.
    ours_error = np.abs(ours - truth).max() / scale
    jax_error = np.abs(theirs - truth).max() / scale
    assert ours_error < 1e-5
    assert ours_error <= 2 * jax_error + 1e-7


def test_mlp_hessian_of_a_dict():
    params = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=3),
              "W2": rng.normal(size=3), "b2": 0.1}
    ours = ad.hessian(mlp)(params, inputs)
    theirs = jax.hessian(in_jax(mlp))(params, inputs)
    agree(ours, theirs, 1e-11)


def test_jacobians_jvp_and_vjp_of_a_dict_output():
    W = rng.normal(size=4)
    for ours, theirs in [(ad.jacobian, jax.jacrev), (ad.jacfwd, jax.jacfwd)]:
        agree(ours(features, argnums=(0, 1))(W, inputs),
              theirs(in_jax(features), argnums=(0, 1))(W, inputs), 1e-12)
    v = rng.normal(size=4)
    dx = rng.normal(size=inputs.shape)
    agree(ad.jvp(features, (W, inputs), (v, dx)),
          jax.jvp(in_jax(features), (W, inputs), (v, dx)), 1e-12)
    cotangent = {"tanh": rng.normal(size=50), "norm": 0.7}
    _, pull = ad.vjp(features, W, inputs)
    _, pull_jax = jax.vjp(in_jax(features), W, inputs)
    agree(pull(cotangent), pull_jax(cotangent), 1e-12)


def test_hessian_vector_product():
    W, b, v = rng.normal(size=4), 0.3, rng.normal(size=4)
    ours = ad.jvp(ad.grad(logistic), (W, b), (v, 0.0))[1]
    theirs = jax.jvp(jax.grad(in_jax(logistic)), (W, b), (v, 0.0))[1]
    agree(ours, theirs, 1e-12)


def test_loops_with_array_operations_and_breaks():
    width = 16
    scale = 1 / np.sqrt(width)
    params = {name: scale * rng.normal(size=shape) for name, shape in [
        ("W1", (width, width)), ("U1", (width, width)), ("b1", (width,)),
        ("W2", (width, width)), ("U2", (width, width)), ("b2", (width,))]}
    xs = rng.normal(size=(30, width))
    agree(ad.grad(rnn)(params, xs), jax.grad(in_jax(rnn))(params, xs),
          1e-10)
    for n in (0, 3, 30):
        agree(ad.grad(grows, argnums=(0, 1))(0.3, 0.8, n),
              jax.grad(in_jax(grows), argnums=(0, 1))(0.3, 0.8, n), 1e-12)
    agree(ad.grad(ad.grad(newton))(2.0),
          jax.grad(jax.grad(in_jax(newton)))(2.0), 1e-9)


def test_hessian_and_jvp_through_a_loop_of_array_operations():
    W, xs = rng.normal(size=(3, 3)) / 2, rng.normal(size=(6, 3))
    agree(ad.hessian(recurrence)(W, xs),
          jax.hessian(in_jax(recurrence))(W, xs), 1e-10)
    direction = rng.normal(size=(3, 3))
    agree(ad.jvp(lambda w: recurrence(w, xs), (W,), (direction,)),
          jax.jvp(lambda w: in_jax(recurrence)(w, xs), (W,), (direction,)),
          1e-12)


def nested(x, k, n):
    s = 0.5
    for i in range(n):
        for j in range(i):
            s = s * 0.9 + np.sin(x * s + k * j)
            if s > 2.5:
                break
    return s


def test_nested_loops_with_a_break():
    for n in (0, 2, 6):
        agree(ad.grad(nested, argnums=(0, 1))(0.3, 0.7, n),
              jax.grad(in_jax(nested), argnums=(0, 1))(0.3, 0.7, n), 1e-12)
        agree(ad.hessian(nested, argnums=(0, 1))(0.3, 0.7, n),
              jax.hessian(in_jax(nested), argnums=(0, 1))(0.3, 0.7, n),
              1e-10)
