"""Containers of arrays read from outside the function (conformance bug
13): a dict, tuple, list or namedtuple of arrays, nested, read from a
global or a closure cell is read by generated code by name when it runs
(``params['W']``), as JAX closes over any value; a change that the code
depends on (the container rebound, an item's shape, dtype or structure, a
number in it) makes it generated again, so a derivative is never stale.
Expected values are closed forms."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import autodiff_ast as ad

Layer = namedtuple("Layer", ["w", "b"])

rng = np.random.default_rng(13)
X = np.array([0.1, -0.2, 0.3])


def tanh_layer_grad(w, b, x):
    """d/dx sum(tanh(w @ x + b))."""
    return w.T @ (1 - np.tanh(w @ x + b) ** 2)


def tanh_layer_hessian(w, b, x):
    """d2/dx2 sum(tanh(w @ x + b))."""
    t = np.tanh(w @ x + b)
    return w.T @ np.diag(-2 * t * (1 - t ** 2)) @ w


PARAMS = {"W": rng.normal(size=(3, 3)), "b": rng.normal(size=3)}
NESTED = {"layers": (Layer(rng.normal(size=(3, 3)), rng.normal(size=3)),
                     [rng.normal(size=(3, 3)), rng.normal(size=3)]),
          "scale": 0.5, "name": "two layers"}


def dict_global(x):
    return np.sum(np.tanh(PARAMS["W"] @ x + PARAMS["b"]))


def nested_global(x):
    first, (w, b) = NESTED["layers"]
    hidden = np.tanh(first.w @ x + first.b)
    return NESTED["scale"] * np.sum(np.tanh(w @ hidden + b))


def closing_over(params):
    def loss(x):
        return np.sum(np.tanh(params[0] @ x + params[1]))
    return loss


def test_a_global_dict_by_grad_hessian_and_jvp():
    w, b = PARAMS["W"], PARAMS["b"]
    np.testing.assert_allclose(ad.grad(dict_global)(X),
                               tanh_layer_grad(w, b, X), rtol=1e-13)
    np.testing.assert_allclose(ad.hessian(dict_global)(X),
                               tanh_layer_hessian(w, b, X), rtol=1e-12)
    v = np.array([1.0, 2.0, -1.0])
    value, tangent = ad.jvp(dict_global, (X,), (v,))
    np.testing.assert_allclose(value, np.sum(np.tanh(w @ X + b)))
    np.testing.assert_allclose(tangent, tanh_layer_grad(w, b, X) @ v,
                               rtol=1e-13)


def test_generated_code_reads_the_items_by_name():
    code = ad.source(ad.grad(dict_global), X).split('    """\n', 1)[1]
    assert code == (
        "    PARAMS_W = PARAMS['W']\n"
        "    PARAMS_b = PARAMS['b']\n"
        "    return PARAMS_W.T @ (1 - np.tanh(PARAMS_b + PARAMS_W @ x) ** 2)\n")


def test_a_nested_global_of_namedtuples_lists_and_numbers():
    first, (w, b) = NESTED["layers"]
    hidden = np.tanh(first.w @ X + first.b)
    inner = 0.5 * (1 - np.tanh(w @ hidden + b) ** 2)
    expected = first.w.T @ ((1 - hidden ** 2) * (w.T @ inner))
    np.testing.assert_allclose(ad.grad(nested_global)(X), expected,
                               rtol=1e-13)


@pytest.mark.parametrize("make", [tuple, list], ids=["tuple", "list"])
def test_a_closure_over_a_tuple_or_list(make):
    w, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    loss = closing_over(make([w, b]))
    np.testing.assert_allclose(ad.grad(loss)(X), tanh_layer_grad(w, b, X),
                               rtol=1e-13)
    np.testing.assert_allclose(ad.hessian(loss)(X),
                               tanh_layer_hessian(w, b, X), rtol=1e-12)


def test_jax_style_lambda_over_the_parameters():
    def loss(params, x):
        return np.sum((params["W"] @ x - 1.0) ** 2)

    params = {"W": rng.normal(size=(2, 3))}
    grad = ad.grad(lambda x: loss(params, x))
    np.testing.assert_allclose(
        grad(X), 2 * params["W"].T @ (params["W"] @ X - 1.0), rtol=1e-13)


def test_an_item_replaced_between_calls():
    params = {"W": rng.normal(size=(3, 3)), "b": rng.normal(size=3)}
    loss = closing_over_dict(params)
    grad, hessian = ad.grad(loss), ad.hessian(loss)
    grad(X), hessian(X)
    # Another value of the same shape: read by the code as it runs.
    params["W"] = rng.normal(size=(3, 3))
    np.testing.assert_allclose(grad(X), tanh_layer_grad(
        params["W"], params["b"], X), rtol=1e-13)
    params["W"] *= 2.0  # in place
    np.testing.assert_allclose(hessian(X), tanh_layer_hessian(
        params["W"], params["b"], X), rtol=1e-12)
    # Another shape: the code is generated again (b now broadcasts to a
    # (2, 3) output, whose rows the sum adds).
    params["b"] = rng.normal(size=(2, 3))
    w, b = params["W"], params["b"]
    np.testing.assert_allclose(
        grad(X), tanh_layer_grad(w, b[0], X) + tanh_layer_grad(w, b[1], X),
        rtol=1e-13)
    # Another dtype: float32 weights.
    params["b"] = params["b"][0]
    params["W"] = params["W"].astype(np.float32)
    np.testing.assert_allclose(grad(X), tanh_layer_grad(
        params["W"].astype(np.float64), params["b"], X), rtol=1e-6)


def closing_over_dict(params):
    def loss(x):
        return np.sum(np.tanh(params["W"] @ x + params["b"]))
    return loss


SETTINGS = {"W": rng.normal(size=(3, 3)), "power": 2}


def powered(x):
    return np.sum((SETTINGS["W"] @ x) ** SETTINGS["power"])


def test_a_global_rebound_or_a_number_changed_between_calls():
    global SETTINGS
    grad = ad.grad(powered)
    w = SETTINGS["W"]
    np.testing.assert_allclose(grad(X), 2 * w.T @ (w @ X), rtol=1e-13)
    SETTINGS["power"] = 3  # a number is baked in: generated again
    np.testing.assert_allclose(grad(X), 3 * w.T @ (w @ X) ** 2, rtol=1e-13)
    saved = SETTINGS
    try:
        SETTINGS = {"W": 2.0 * w, "power": 2}  # rebound
        np.testing.assert_allclose(grad(X), 8 * w.T @ (w @ X), rtol=1e-13)
        SETTINGS["extra"] = np.ones(3)  # an item added
        np.testing.assert_allclose(grad(X), 8 * w.T @ (w @ X), rtol=1e-13)
    finally:
        SETTINGS = saved


CONFIG = {"k": 2.0, "n": 3}


def configured(x):
    return CONFIG["k"] * x ** CONFIG["n"]


def test_a_dict_of_numbers_read_from_outside():
    # It was refused: "CONFIG ... is a dict: make it a tuple of numbers".
    assert ad.grad(configured)(1.5) == 2.0 * 3 * 1.5 ** 2
    CONFIG["k"] = 4.0
    try:
        assert ad.grad(configured)(1.5) == 4.0 * 3 * 1.5 ** 2
    finally:
        CONFIG["k"] = 2.0


class Dense:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return np.tanh(self.w @ x)


LAYERS = [Dense(2.0 * np.eye(3)), Dense(rng.normal(size=(3, 3)))]


def through_layers(x):
    for layer in LAYERS:
        x = layer(x)
    return np.sum(x)


def layers_grad(weights, x):
    """d/dx sum(tanh(w_n @ ... tanh(w_1 @ x)))."""
    jacobian = np.eye(len(x))
    for w in weights:
        x = np.tanh(w @ x)
        jacobian = ((1 - x ** 2)[:, None] * w) @ jacobian
    return np.ones(len(x)) @ jacobian


def test_a_global_list_of_layers_and_one_appended():
    # It was refused: "LAYERS ... is a list: make it a tuple of numbers".
    grad = ad.grad(through_layers)
    np.testing.assert_allclose(
        grad(X), layers_grad([layer.w for layer in LAYERS], X), rtol=1e-13)
    LAYERS.append(Dense(rng.normal(size=(3, 3))))
    try:
        np.testing.assert_allclose(
            grad(X), layers_grad([layer.w for layer in LAYERS], X),
            rtol=1e-13)
    finally:
        LAYERS.pop()


class Model:
    def __init__(self):
        self.params = {"W": rng.normal(size=(3, 3)), "b": rng.normal(size=3)}

    def loss(self, x):
        return np.sum(np.tanh(self.params["W"] @ x + self.params["b"]))


def test_a_dict_of_arrays_held_by_an_object():
    model = Model()
    grad = ad.grad(model.loss)
    np.testing.assert_allclose(grad(X), tanh_layer_grad(
        model.params["W"], model.params["b"], X), rtol=1e-13)
    model.params = {"W": np.eye(3), "b": np.zeros(3)}  # rebound
    np.testing.assert_allclose(grad(X), tanh_layer_grad(np.eye(3),
                                                        np.zeros(3), X))


ORDERED = OrderedDict(W=rng.normal(size=(3, 3)), b=rng.normal(size=3))


def ordered_global(x):
    return np.sum(np.tanh(ORDERED["W"] @ x + ORDERED["b"]))


def test_another_kind_of_container_is_checked_by_optree():
    # The check walks dicts, lists and tuples itself, and leaves other
    # pytree nodes (an OrderedDict) to optree: a shape change is seen.
    grad = ad.grad(ordered_global)
    w, b = ORDERED["W"], ORDERED["b"]
    np.testing.assert_allclose(grad(X), tanh_layer_grad(w, b, X),
                               rtol=1e-13)
    ORDERED["b"] = np.stack([b, -b])
    try:
        np.testing.assert_allclose(
            grad(X), tanh_layer_grad(w, b, X) + tanh_layer_grad(w, -b, X),
            rtol=1e-13)
    finally:
        ORDERED["b"] = b
