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

