"""autodiff_ast.testing.check_grads, as users call it in their own tests."""

from __future__ import annotations

import math

import numpy as np
import optree
import pytest

from autodiff_ast.testing import check_grads


def model(x, y):
    return np.tanh(x * y) + np.log1p(x ** 2) * y


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_passes_on_smooth_functions(order):
    check_grads(model, (0.3, -1.2), order=order)
    check_grads(lambda x: math.exp(math.sin(x)), (0.7,), order=order)


def test_argnums_restricts_the_direction():
    check_grads(model, (0.3, -1.2), order=2, argnums=1)


def test_float32_uses_looser_default_tolerances():
    check_grads(model, (np.float32(0.3), np.float32(-1.2)), order=2)


def test_failure_names_order_point_and_both_values():
    # abs'(0) is 1 by convention; central differences give 0.
    with pytest.raises(AssertionError) as info:
        check_grads(np.abs, (0.0,))
    message = str(info.value)
    assert message == (
        "check_grads: the order-1 derivative of absolute (jacfwd) at (0.0,) "
        "along direction [1.] over arguments (0,) is 1.0 (autodiff_ast) but "
        "0.0 by central differences of order 0; |difference| 1 > atol 1e-09 "
        "+ rtol 1e-06 * |numeric|")


def test_failure_at_a_higher_order():
    def kinked(x):
        return np.maximum(x, 0.0) ** 3   # central differences of f' at 0
                                         # see the kink in f''

    check_grads(kinked, (0.0,), order=1)
    with pytest.raises(AssertionError, match="the order-2 derivative"):
        check_grads(kinked, (0.0,), order=2)


def layer_loss(params, x):
    hidden = np.tanh(np.dot(x, params["W"]) + params["b"])
    return np.sum(hidden ** 2)


def test_works_on_pytrees_of_arrays():
    params = {"W": np.array([[0.1, -0.3], [0.5, 0.2], [0.0, 0.4]]),
              "b": np.array([0.1, -0.2])}
    x = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 0.3]])
    check_grads(layer_loss, (params, x))
    check_grads(layer_loss, (params, x), argnums=0)


def weights_and_bias(params, x):
    weights, bias = params
    return np.sum(np.tanh(x @ weights + bias))


@pytest.mark.parametrize("order", [1, 2])
def test_a_tuple_of_an_array_and_a_number(order):
    # np.ndim of such a ragged tuple raises: it is a container first.
    x = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 0.3]])
    check_grads(weights_and_bias, ((np.array([0.2, -0.1, 0.4]), 0.3), x),
                order=order)


def wrong_on_purpose(params):
    return np.sum(params["w"] ** 2)


def test_pytree_failure_is_reported(monkeypatch):
    import autodiff_ast.testing as testing

    def bad_jacobian(fun, argnums):
        return lambda *args: ({"w": np.zeros(2)},)

    monkeypatch.setitem(testing._MODES, "rev", bad_jacobian)
    check_grads(wrong_on_purpose, ({"w": np.array([1.0, 2.0])},),
                modes=["fwd"])
    with pytest.raises(AssertionError, match=r"the order-1 derivative of "
                       r"wrong_on_purpose \(jacrev\)"):
        check_grads(wrong_on_purpose, ({"w": np.array([1.0, 2.0])},))


@pytest.mark.parametrize("order", [2, 3])
def test_higher_orders_of_arrays_and_pytrees(order):
    params = {"W": np.array([[0.1, -0.3], [0.5, 0.2], [0.0, 0.4]]),
              "b": np.array([0.1, -0.2])}
    x = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 0.3]])
    check_grads(layer_loss, (params, x), order=order)
    check_grads(layer_loss, (params, x), order=order, argnums=1)


def kinked_sum(x, scale):
    return np.sum(np.maximum(x, 0.0) ** 3) * scale


def test_failure_at_a_higher_order_of_an_array():
    x = np.array([0.0, 0.0])
    check_grads(kinked_sum, (x, 1.5), order=1)
    with pytest.raises(AssertionError, match="the order-2 derivative of "
                       "kinked_sum"):
        check_grads(kinked_sum, (x, 1.5), order=2)


def test_each_order_of_an_array_is_checked(monkeypatch):
    import autodiff_ast.testing as testing

    def zero_after_the_first(fun, argnums):
        if fun is cubic_sum:
            return testing.jacfwd(fun, argnums)
        return lambda *args: optree.tree_map(
            np.zeros_like, testing.jacfwd(fun, argnums)(*args))

    params = {"w": np.array([1.0, 2.0])}
    check_grads(cubic_sum, (params,), order=3)
    monkeypatch.setitem(testing._MODES, "fwd", zero_after_the_first)
    check_grads(cubic_sum, (params,), order=1)
    check_grads(cubic_sum, (params,), order=3, modes=("rev",))
    with pytest.raises(AssertionError, match=r"the order-2 derivative of "
                       r"cubic_sum \(jacfwd of jacfwd\)"):
        check_grads(cubic_sum, (params,), order=2)
    # the forward Jacobian of the reverse one is checked too
    with pytest.raises(AssertionError, match=r"the order-2 derivative of "
                       r"cubic_sum \(jacfwd of jacrev\)"):
        check_grads(cubic_sum, (params,), order=2, modes=("rev", "fwd"))


def sines(x):
    return np.sin(x) * x


def test_array_and_pytree_outputs_are_weighed_as_jax_does():
    x = np.array([0.3, -0.5, 1.2])
    check_grads(sines, (x,), order=2)
    check_grads(lambda x: {"s": np.sin(x), "c": np.cos(x[0])}, (x,), 2,
                ["rev"])


def test_modes_as_jax_test_util_takes_them():
    # jax.test_util.check_grads(f, args, order, modes, atol, rtol, eps)
    check_grads(model, (0.3, -1.2), 2, ["fwd"], 1e-8, 1e-6, 1e-3)
    check_grads(model, (0.3, -1.2), order=1, modes="rev")
    with pytest.raises(ValueError, match=(
            r"^check_grads: modes=\['lin'\] names 'lin', which is not a "
            r"mode autodiff_ast has. Pass modes made of 'fwd' \(forward, "
            r"jacfwd\) and 'rev' \(reverse, jacrev\), e.g. "
            r"modes=\('fwd', 'rev'\).$")):
        check_grads(model, (0.3, -1.2), modes=["lin"])
    with pytest.raises(ValueError, match=r"^check_grads: modes=\(\) names "
                       r"no mode. Pass"):
        check_grads(model, (0.3, -1.2), modes=())


def cubic_sum(params):
    return np.sum(params["w"] ** 3)


def head_squares(x, k):
    return np.sum(x[:k] ** 2)


def test_an_argument_left_out_of_argnums_is_passed_as_it_is():
    # An int k stays an int in the central differences (x[:2.0] raises).
    check_grads(head_squares, (np.array([0.5, -1.0, 2.0]), 2), order=2,
                argnums=0)
