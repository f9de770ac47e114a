"""Conditions: np.isnan, np.isinf, np.isfinite, np.signbit (math's
isnan, isinf, isfinite) and np.logical_and, logical_or, logical_not,
logical_xor.

Used as numbers (1 or 0) or as np.where's condition they are constant to
differentiation, as comparisons are; generated code calls them as the user
did (np.logical_and takes arrays, where ``and`` would not), in scalar and
in array code. At nan and inf the derivative is the branch np.where
takes, as in JAX: the gradient of np.where(np.isnan(x), 0.0, x ** 2) at
nan is 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient

WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0])


def nan_to_zero_square(x):
    return np.where(np.isnan(x), 0.0, x ** 2)


def in_band(x):
    return np.logical_and(x > 0, x < 2) * x ** 2


def finite_sine(x):
    return np.where(np.logical_not(np.isfinite(x)), 0.0, np.sin(x))


def math_finite_square(x):
    return math.isfinite(x) * x ** 2


def negative_or_infinite(x):
    return np.where(np.logical_or(np.signbit(x), np.isinf(x)), -x, x ** 3)


def one_side(x, y):
    return np.where(np.logical_xor(x > 0, y > 0), x * y, x ** 2 + y)


def weighted_finite(x):
    finite = np.isfinite(x)
    return (np.sum(np.where(finite, x ** 2, 0.0) * WEIGHTS)
            + np.mean(np.where(finite, np.sin(x), 0.0)))


def count_and_square(x):
    return np.sum(np.isnan(x)) * np.sum(np.where(np.isnan(x), 0.0, x) ** 2)


def _body(fn, *example):
    return ad.source(fn, *example).split('"""')[-1].strip("\n")


def test_scalar_conditions_print_as_called():
    assert _body(ad.grad(nan_to_zero_square)) == (
        "    return np.where(np.isnan(x), 0, 2 * x)")
    assert _body(ad.grad(in_band)) == (
        "    return np.where(np.logical_and(x > 0, x < 2), 2 * x, 0)")
    assert _body(ad.grad(finite_sine)) == (
        "    return np.where(np.logical_not(np.isfinite(x)), 0, np.cos(x))")
    assert _body(ad.grad(math_finite_square)) == (
        "    return np.where(math.isfinite(x), 2 * x, 0)")
    assert _body(ad.grad(negative_or_infinite)) == (
        "    return np.where(np.logical_or(np.signbit(x), np.isinf(x)), -1, "
        "3 * x ** 2)")


@pytest.mark.parametrize("function", [
    nan_to_zero_square, in_band, finite_sine, math_finite_square,
    negative_or_infinite])
def test_scalar_gradients_match_central_differences(function):
    gradient = ad.grad(function)
    for x in (-1.7, -0.3, 0.4, 1.3, 2.6):
        assert float(gradient(x)) == pytest.approx(
            central_difference(function, (x,), 0), rel=1e-7, abs=1e-9)


def test_at_nan_and_inf_the_derivative_is_the_branch_taken():
    # JAX: grad(lambda x: jnp.where(jnp.isnan(x), 0.0, x ** 2))(nan) == 0.
    assert ad.grad(nan_to_zero_square)(math.nan) == 0
    assert ad.grad(nan_to_zero_square)(math.inf) == math.inf
    assert ad.grad(negative_or_infinite)(math.inf) == -1
    assert ad.grad(negative_or_infinite)(-0.0) == -1  # signbit(-0.0)
    assert ad.grad(negative_or_infinite)(0.0) == 0
    assert ad.grad(math_finite_square)(3.0) == 6.0


def test_logical_xor_selects_where_exactly_one_holds():
    gradient = ad.grad(one_side, argnums=(0, 1))
    assert _body(gradient) == (
        "    t = np.logical_xor(x > 0, y > 0)\n"
        "    grad_x = np.where(t, y, 2 * x)\n"
        "    grad_y = np.where(t, x, 1)\n"
        "    return grad_x, grad_y")
    for x, y in ((1.5, 2.0), (1.5, -2.0), (-1.5, 2.0), (-1.5, -2.0)):
        for argnum, value in enumerate(gradient(x, y)):
            assert float(value) == pytest.approx(central_difference(
                one_side, (x, y), argnum), rel=1e-7, abs=1e-9)


def test_scalar_code_runs_on_arrays_elementwise():
    # np.logical_and, not `and`: the printed code takes arrays.
    x = np.array([-1.0, 0.5, 1.5, 2.5, np.nan])
    np.testing.assert_array_equal(ad.grad(in_band)(x[:4]),
                                  [0.0, 1.0, 3.0, 0.0])
    np.testing.assert_array_equal(ad.grad(nan_to_zero_square)(x),
                                  [-2.0, 1.0, 3.0, 5.0, 0.0])


def test_array_conditions_are_named_once_and_read_twice():
    x = np.array([1.0, 2.0, -2.0, 0.5])
    assert _body(ad.grad(weighted_finite), x) == (
        "    isfinite_x = np.isfinite(x)\n"
        "    return (WEIGHTS * np.where(isfinite_x, 2 * x, 0)\n"
        "            + np.where(isfinite_x, np.cos(x), 0) / x.size)")


@pytest.mark.parametrize("function", [weighted_finite, count_and_square])
def test_array_gradients_match_central_differences(function):
    x = np.array([1.3, 2.1, -2.2, 0.4])
    np.testing.assert_allclose(ad.grad(function)(x), numeric_gradient(
        function, (x,), 0), rtol=1e-7, atol=1e-9)


def test_array_gradients_at_nan_and_inf_take_the_branch():
    x = np.array([1.5, np.nan, -2.0, np.inf])
    finite = np.array([1.5, 0.0, -2.0, 0.0])
    expected = np.where(np.isfinite(x), WEIGHTS * 2 * finite
                        + np.cos(finite) / 4, 0.0)
    with np.errstate(invalid="ignore"):  # np.cos(inf), in the branch unused
        np.testing.assert_allclose(ad.grad(weighted_finite)(x), expected,
                                   rtol=1e-15)
    # one nan: 1 * d/dx sum(x_finite ** 2)
    np.testing.assert_array_equal(ad.grad(count_and_square)(
        np.array([1.5, np.nan, -2.0])), [3.0, 0.0, -4.0])


def test_hessians_and_tangents_through_conditions():
    x = np.array([1.3, 2.1, -2.2, 0.4])
    expected = np.diag(2 * WEIGHTS - np.sin(x) / 4)
    np.testing.assert_allclose(ad.hessian(weighted_finite)(x), expected,
                               rtol=1e-14)
    value, tangent = ad.jvp(weighted_finite, (x,), (np.ones(4),))
    assert value == pytest.approx(weighted_finite(x), rel=1e-15)
    assert tangent == pytest.approx(
        np.sum(2 * WEIGHTS * x + np.cos(x) / 4), rel=1e-14)
    assert ad.derivative(negative_or_infinite, 3)(-1.0) == 0
    assert ad.derivative(negative_or_infinite, 3)(2.0) == 6


def test_logical_functions_of_numbers_test_them_against_zero():
    # np.logical_not(x - 1) is x == 1: as a number, 1 there, else 0.
    def not_one(x):
        return np.logical_not(x - 1.0) + np.logical_and(x, 2.0) * x ** 2

    gradient = ad.grad(not_one)
    assert _body(gradient) == "    return np.where(x != 0, 2 * x, 0)"
    assert [gradient(v) for v in (0.0, 1.0, 3.0)] == [0.0, 2.0, 6.0]


def test_float32_stays_float32():
    x = np.array([1.5, np.nan, -2.0], dtype=np.float32)
    grad = ad.grad(lambda x: np.sum(nan_to_zero_square(x)))
    assert grad(x).dtype == np.float32
    np.testing.assert_array_equal(grad(x), np.float32([3.0, 0.0, -4.0]))
