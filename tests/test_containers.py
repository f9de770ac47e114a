"""Python containers read item by item: a params dict's ``.items()``,
``.values()`` and ``.keys()``, ``list``/``tuple``, ``enumerate``, ``zip``
and ``reversed`` over lists and dicts, loop targets that unpack nested
tuples (``for i, (W, b) in enumerate(layers)``) and dict comprehensions,
as JAX users write code over pytrees of parameters."""

from __future__ import annotations

import itertools

import optree
import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, numeric_gradient

RNG = np.random.default_rng(7)
PARAMS = {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)}
LAYERS = [(RNG.normal(size=(3, 5)) * 0.5, RNG.normal(size=5)),
          (RNG.normal(size=(5, 2)) * 0.5, RNG.normal(size=2))]
X = RNG.normal(size=(6, 3))


def l2_values(params):
    return 0.5 * sum(np.sum(p ** 2) for p in params.values())


def l2_items(params):
    total = 0.0
    for name, p in params.items():
        total = total + np.sum(p ** 2)
    return 0.5 * total


def l2_keys(params):
    return 0.5 * sum([np.sum(params[k] ** 2) for k in params.keys()])


def l2_listed(params):
    leaves = list(params.values())
    return 0.5 * (np.sum(leaves[0] ** 2) + np.sum(leaves[1] ** 2))


@pytest.mark.parametrize("loss", [l2_values, l2_items, l2_keys, l2_listed])
def test_dict_views(loss):
    gradient = ad.grad(loss)(PARAMS)
    assert list(gradient) == ["W", "b"]
    for name in PARAMS:
        np.testing.assert_allclose(gradient[name], PARAMS[name], rtol=1e-12)


def mlp(layers, x):
    h = x
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.tanh(h)
    return np.mean(h ** 2)


def mlp_zipped(weights, biases, x):
    h = x
    for W, b in zip(weights, biases):
        h = np.tanh(h @ W + b)
    return np.mean(h ** 2)


def mlp_backwards(layers, x):
    h = x
    for W, b in reversed(list(reversed(layers))):
        h = np.tanh(h @ W + b)
    return np.mean(h ** 2)


@pytest.mark.parametrize("loss", [mlp, mlp_backwards])
def test_layers_enumerated_and_reversed(loss):
    gradient = ad.grad(loss)(LAYERS, X)
    expected = numeric_gradient(loss, (LAYERS, X), 0)
    assert optree.tree_structure(gradient) == optree.tree_structure(LAYERS)
    for ours, theirs in zip(optree.tree_leaves(gradient),
                            optree.tree_leaves(expected)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_zip_of_two_lists():
    weights = [W for W, _ in LAYERS]
    biases = [b for _, b in LAYERS]
    gradient = ad.grad(mlp_zipped, argnums=(0, 1))(weights, biases, X)
    for argnum in (0, 1):
        expected = numeric_gradient(mlp_zipped, (weights, biases, X), argnum)
        for ours, theirs in zip(gradient[argnum], expected):
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def sgd_step_loss(params, grads):
    updated = {k: params[k] - 0.1 * grads[k] for k in params}
    return sum(np.sum(v ** 2) for v in updated.values())


def test_dict_comprehension():
    grads = {"W": np.ones((3, 4)), "b": np.full(4, 2.0)}
    by_params, by_grads = ad.grad(sgd_step_loss, argnums=(0, 1))(PARAMS,
                                                                  grads)
    for name in PARAMS:
        updated = PARAMS[name] - 0.1 * grads[name]
        np.testing.assert_allclose(by_params[name], 2 * updated, rtol=1e-12)
        np.testing.assert_allclose(by_grads[name], -0.2 * updated,
                                   rtol=1e-12)


def squared(params):
    return {k: v ** 2 for k, v in params.items()}


def test_jacobian_of_a_dict_comprehension_is_a_dict_of_dicts():
    params = {"a": np.array([1.0, 2.0]), "b": np.array([3.0])}
    jacobian = ad.jacobian(squared)(params)
    assert list(jacobian) == ["a", "b"]
    assert all(list(row) == ["a", "b"] for row in jacobian.values())
    np.testing.assert_array_equal(jacobian["a"]["a"], np.diag([2.0, 4.0]))
    np.testing.assert_array_equal(jacobian["a"]["b"], np.zeros((2, 1)))
    np.testing.assert_array_equal(jacobian["b"]["a"], np.zeros((1, 2)))
    np.testing.assert_array_equal(jacobian["b"]["b"], [[6.0]])


def cubes(params):
    return sum(np.sum(v ** 3) for v in params.values())


def test_hessian_over_dict_values():
    params = {"a": np.array([1.0, 2.0]), "b": np.array([3.0])}
    hessian = ad.hessian(cubes)(params)
    np.testing.assert_array_equal(hessian["a"]["a"], np.diag([6.0, 12.0]))
    np.testing.assert_array_equal(hessian["b"]["b"], [[18.0]])
    np.testing.assert_array_equal(hessian["a"]["b"], np.zeros((2, 1)))


def weighted(values):
    total = 0.0
    for i, v in enumerate(values):
        total = total + (i + 1) * v ** 2
    return total


def test_enumerate_a_tuple_of_numbers():
    assert ad.grad(weighted)((1.0, 2.0, 3.0)) == (2.0, 8.0, 18.0)


def test_generated_source_reads_the_dict():
    # The loop is written out: the gradient of 0.5 * sum of squares is
    # the parameters themselves, leaf by leaf.
    assert ad.source(ad.grad(l2_items), PARAMS).split('"""')[-1] == (
        "\n    params_W = params['W']\n    params_b = params['b']\n"
        "    grad_params_W = np.copy(params_W)\n"
        "    grad_params_b = np.copy(params_b)\n"
        "    return {'W': grad_params_W, 'b': grad_params_b}\n")


def test_dict_comprehension_of_a_number():
    def picked(x):
        return {k: x * k for k in range(3)}[2]
    assert ad.grad(picked)(1.5) == 2.0


def with_optional_bias(params, x):
    z = params["W"] @ x + params.get("c", 0.0)
    if "b" in params:
        z = z + params["b"]
    return np.sum(z ** 2)


def member_of_values(x):
    if x in (1.0, 2.0):
        return x
    return 2 * x


def test_optional_parameters_by_get_and_in():
    # A pytree's keys are part of its structure: decided when the code is
    # generated, for each structure apart.
    W, x = np.eye(2), np.array([1.0, 2.0])
    without = ad.grad(with_optional_bias)({"W": W}, x)
    np.testing.assert_array_equal(without["W"], 2 * np.outer(W @ x, x))
    full = ad.grad(with_optional_bias)({"W": W, "b": 1.0, "c": 0.5}, x)
    z = W @ x + 1.5
    np.testing.assert_array_equal(full["W"], 2 * np.outer(z, x))
    assert full["b"] == full["c"] == 2 * np.sum(z)
    assert_refused_at(
        lambda: ad.grad(member_of_values)(0.7), member_of_values, 1,
        "`in` tests a key of a dict (or an item of a list or tuple) known "
        "when the function is differentiated: for array values, compare "
        "with == and np.any")


def pair_energy(x):
    energy = 0.0
    for i, j in itertools.combinations(range(x.shape[0]), 2):
        energy = energy + 1 / np.sum((x[i] - x[j]) ** 2)
    return energy


def mixed_powers(a, b):
    return sum(a ** i * b ** j
               for i, j in itertools.product(range(2), range(3)))


def test_pairs_and_products_of_counts_known_now_are_written_out():
    x = np.array([[0.0, 0.1], [1.0, 0.3], [0.2, 1.4], [1.1, 1.2]])
    np.testing.assert_allclose(ad.grad(pair_energy)(x),
                               numeric_gradient(pair_energy, (x,), 0),
                               rtol=1e-7)
    assert ad.grad(mixed_powers)(0.5, 2.0) == 7.0  # (1 + b + b ** 2)


def all_pairs(x):
    total = 0.0
    for i, j in itertools.product(range(x.shape[0]), repeat=2):
        total = total + x[i] * x[j]
    return total


def test_a_product_with_repeat_is_written_out():
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(all_pairs)(x), [6.0, 6.0])
