"""Arguments as JAX takes them: containers with no numbers in them (``[]``,
``{}``, ``()``, None, nested), beside the numbers a function is
differentiated with respect to, in every transform; and functions defined
inside the function being differentiated, in ``ad.jvp`` and ``ad.vjp``
called there.

Expected values are JAX 0.10.2's (float64, jax_enable_x64), pasted in:
``jax.grad(f, argnums=(0, 1))([], 3.0)`` is ``([], 6.0)``.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient


def square_beside(extra, x):
    return x ** 2


EMPTY = [[], {}, (), None, [[], {}], {"a": ()}]


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_gradient_with_respect_to_an_empty_container_is_it(empty):
    assert ad.grad(square_beside, argnums=(0, 1))(empty, 3.0) == (empty, 6.0)
    assert ad.grad(square_beside, argnums=1)(empty, 3.0) == 6.0


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_value_and_gradient_beside_an_empty_container(empty):
    assert ad.value_and_grad(square_beside, argnums=(0, 1))(empty, 3.0) \
        == (9.0, (empty, 6.0))


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_jacobian_and_hessian_beside_an_empty_container(empty):
    assert ad.jacobian(square_beside, argnums=(0, 1))(empty, 3.0) \
        == (empty, 6.0)
    assert ad.hessian(square_beside, argnums=1)(empty, 3.0) == 2.0


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_jvp_and_vjp_beside_an_empty_container(empty):
    assert ad.jvp(square_beside, (empty, 3.0), (empty, 1.0)) == (9.0, 6.0)
    value, pullback = ad.vjp(square_beside, empty, 3.0)
    assert value == 9.0
    assert pullback(1.0) == (empty, 6.0)
    assert pullback(0.5) == (empty, 3.0)


def test_a_container_the_code_does_not_read_gets_zeros():
    # JAX: ([0.0, 0.0], 6.0)
    assert ad.grad(square_beside, argnums=(0, 1))([1.0, 2.0], 3.0) \
        == ([0.0, 0.0], 6.0)
    assert ad.jacobian(square_beside, argnums=(0, 1))({"a": 1.0}, 3.0) \
        == ({"a": 0.0}, 6.0)


def test_numbers_still_take_the_scalar_code():
    derivative = ad.grad(square_beside, argnums=(0, 1))
    assert derivative(1.0, 3.0) == (0.0, 6.0)
    assert derivative([], 3.0) == ([], 6.0)
    assert derivative(1.0, -2.0) == (0.0, -4.0)


# jvp and vjp, called inside a function being differentiated, of a lambda
# or def defined there: closed forms in x, and central differences.

def tangent_of_a_lambda(x):
    inner = lambda t: t ** 2 * x  # noqa: E731
    return ad.jvp(inner, (x,), (1.0,))[1]  # 2 x^2


def pulled_back_through_a_lambda(x):
    inner = lambda t: t ** 2 * x  # noqa: E731
    value, pullback = ad.vjp(inner, x)
    return pullback(1.0)[0] + value  # 2 x^2 + x^3


def jacobian_of_a_lambda(x):
    inner = lambda t: t ** 3 * x  # noqa: E731
    return ad.jacobian(inner)(x)  # 3 x^3


def hessian_of_a_lambda(x):
    inner = lambda t: t ** 3 * x  # noqa: E731
    return ad.hessian(inner)(x)  # 6 x^2


@pytest.mark.parametrize("function, value, slope", [
    (tangent_of_a_lambda, lambda x: 2 * x ** 2, lambda x: 4 * x),
    (pulled_back_through_a_lambda, lambda x: 2 * x ** 2 + x ** 3,
     lambda x: 4 * x + 3 * x ** 2),
    (jacobian_of_a_lambda, lambda x: 3 * x ** 3, lambda x: 9 * x ** 2),
    (hessian_of_a_lambda, lambda x: 6 * x ** 2, lambda x: 12 * x),
], ids=lambda f: getattr(f, "__name__", ""))
def test_derivatives_of_a_local_function_inside(function, value, slope):
    for x in (1.5, -0.5):
        assert function(x) == pytest.approx(value(x), rel=1e-15)
        assert ad.grad(function)(x) == pytest.approx(slope(x), rel=1e-15)


W = np.array([1.0, 2.0, 3.0])


def tangent_of_a_local_network(w):
    def net(x):
        return np.sum(np.tanh(w * x))
    return ad.jvp(net, (W,), (np.ones(3),))[1]


def pulled_back_through_a_local_network(w):
    def net(x):
        return np.tanh(w * x)
    _, pullback = ad.vjp(net, W)
    return np.sum(pullback(np.ones(3))[0])


@pytest.mark.parametrize("function", [tangent_of_a_local_network,
                                      pulled_back_through_a_local_network])
def test_jvp_and_vjp_of_a_local_function_of_arrays(function):
    # both are sum_i w_i (1 - tanh(w_i W_i)^2), whose gradient is
    # (1 - t^2) (1 - 2 w W t) with t = tanh(w W)
    w = np.array([0.3, 0.6, 0.9])
    t = np.tanh(w * W)
    assert function(w) == pytest.approx(np.sum(w * (1 - t ** 2)),
                                        rel=1e-14)
    np.testing.assert_allclose(ad.grad(function)(w),
                               (1 - t ** 2) * (1 - 2 * w * W * t),
                               rtol=1e-14)
    np.testing.assert_allclose(ad.grad(function)(w),
                               numeric_gradient(function, (w,), 0), rtol=1e-8)


# Integers among jvp's and vjp's primals, taken as grad takes them: an int
# number is the float it stands for (grad(f)(2) is f'(2.0)) where jvp moves
# it; an int array is labels or indices, refused where its neighbours'
# derivatives would be dropped with it; a vjp at integers only is refused.

def weighted(p):
    return np.sum(p["w"] ** 2) * p["n"]


def sum_of_squares(x):
    return np.sum(x ** 2)


def square(x):
    return x ** 2


def test_jvp_of_a_pytree_with_an_int_number_in_it():
    point = {"w": np.ones(3), "n": 2}
    # JAX, with a float0 tangent for n: (6.0, 12.0)
    assert ad.jvp(weighted, (point,), ({"w": np.ones(3), "n": 0},)) \
        == (6.0, 12.0)
    # along n alone: sum(w ** 2)
    assert ad.jvp(weighted, (point,), ({"w": np.zeros(3), "n": 1},)) \
        == (6.0, 3.0)


@pytest.mark.parametrize("function", [square, sum_of_squares])
def test_jvp_at_an_int_is_at_the_float(function):
    assert ad.grad(function)(2) == 4.0
    assert ad.jvp(function, (2,), (1.0,)) == (4.0, 4.0)
    assert ad.jvp(function, (np.int64(3),), (0.5,)) == (9.0, 3.0)


def picked(p):
    return np.sum(p["w"][p["i"]] ** 2)


def test_integers_beside_floats_are_refused_not_dropped():
    point = {"w": np.arange(4.0), "i": np.array([0, 2])}
    move = {"w": np.ones(4), "i": np.zeros(2, dtype=int)}
    message = (
        "{} differentiates each argument as a whole, and p['i'] holds "
        "integers, which are not differentiated, beside floats: pass it as "
        "an argument of its own (labels, indices), or as floats, e.g. "
        "np.asarray(p['i'], dtype=float).")
    with pytest.raises(ad.InputError) as caught:
        ad.jvp(picked, (point,), (move,))
    assert str(caught.value) == message.format("jvp")
    with pytest.raises(ad.InputError) as caught:
        ad.vjp(picked, point)
    assert str(caught.value) == message.format("vjp")
    # as their own arguments, the indices are data (JAX's float0: zeros)
    value, pullback = ad.vjp(lambda w, i: np.sum(w[i] ** 2), point["w"],
                             point["i"])
    assert value == 4.0
    gradient, zeros = pullback(1.0)
    assert gradient.tolist() == [0.0, 0.0, 4.0, 0.0]
    assert zeros.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("point", [2, np.array([1, 2])], ids=repr)
@pytest.mark.parametrize("function", [square, sum_of_squares])
def test_vjp_at_integers_only_is_refused(function, point):
    # (not a zero cotangent where the float point's is 2 x)
    with pytest.raises(ad.InputError) as caught:
        ad.vjp(function, point)
    assert str(caught.value) == (
        "vjp at integers only: integers are not differentiated (a count, "
        "labels, indices), so every cotangent would be zeros. Pass the "
        "point as floats, e.g. np.asarray(x, dtype=float).")
    # as floats: 2 x
    assert ad.vjp(sum_of_squares, np.array([1.0, 2.0]))[1](1.0)[0].tolist() \
        == [2.0, 4.0]
