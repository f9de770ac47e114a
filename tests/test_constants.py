"""Derivatives that do not depend on their argument: JAX's values at inf
and nan, the argument's shape and type, and another derivative after them."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad


def double(x):
    return 2.0 * x


def half(x):
    return 0.5 * x


def cubic(x):
    return x ** 3 + 2 * x ** 2 - 3 * x + 1


def scaled_by(x, y):
    return x * y + np.sin(y)


def double_in_math(x):
    return 2.0 * x + math.sin(1.0)


@pytest.mark.parametrize("at", [math.inf, -math.inf, math.nan, 1.5])
def test_a_constant_derivative_is_the_constant_everywhere(at):
    value = ad.grad(double)(at)
    assert value == 2.0 and type(value) is float  # JAX: 2.0
    assert ad.derivative(cubic, 3)(at) == 6.0
    assert ad.derivative(cubic, 4)(at) == 0.0
    assert ad.grad(scaled_by)(at, 3.0) == 3.0


def test_shape_and_dtype_are_the_arguments():
    points = np.array([[np.inf, np.nan], [-np.inf, 1.0]], dtype=np.float32)
    for function, constant in ((double, 2.0), (half, 0.5)):
        gradient = ad.grad(function)
        assert gradient(np.float32(np.inf)) == np.float32(constant)
        assert type(gradient(np.float32(np.inf))) is np.float32
        result = gradient(points)
        assert result.dtype == np.float32 and result.shape == (2, 2)
        np.testing.assert_array_equal(result, np.full((2, 2), constant))
    fourth = ad.derivative(cubic, 4)(points.astype(np.float64))
    assert fourth.dtype == np.float64
    np.testing.assert_array_equal(fourth, np.zeros((2, 2)))


def test_integer_arguments_give_the_values_of_the_equal_floats():
    assert ad.grad(half)(3) == 0.5  # not truncated to the int 0
    assert type(ad.grad(half)(3)) is float
    assert ad.derivative(cubic, 3)(2) == 6


def test_math_code_returns_the_constant_itself():
    gradient = ad.grad(double_in_math)
    assert ad.source(gradient).splitlines()[-1] == "    return 2.0"
    assert gradient(math.inf) == 2.0 and type(gradient(1.0)) is float
    assert ad.grad(gradient)(math.inf) == 0.0


def test_constant_gradients_of_array_code_at_inf_and_nan():
    def loss(params):
        return np.sum(3.0 * params["w"]) + np.sum(params["v"] ** 2)

    params = {"w": np.array([np.inf, np.nan, 1.0]),
              "v": np.array([np.inf, 1.0])}
    gradient = ad.grad(loss)(params)
    np.testing.assert_array_equal(gradient["w"], [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(gradient["v"], [np.inf, 2.0])

    def ignores_w(w, v):
        return np.sum(v ** 2)

    unused = ad.grad(ignores_w)(np.array([np.inf, np.nan]), np.ones(2))
    np.testing.assert_array_equal(unused, [0.0, 0.0])


# -- array code at a number: a constant is written as the number ------------

def cubic_by_a_list(x):
    parts = [x]  # (a list: array code)
    return parts[0] ** 3 + 2 * parts[0] ** 2


def cubic_and_sine_by_a_list(x, y):
    parts = [x, y]
    return parts[0] ** 3 + np.sin(parts[1])


def body(source: str) -> str:
    return source.split('"""')[2].strip()


@pytest.mark.parametrize("at", [1.5, np.float32(1.5), np.array(1.5)])
def test_array_code_at_a_number_writes_a_constant_as_a_number(at):
    # It wrote np.full_like(x, 6), np.zeros(()) and np.zeros_like(x), each
    # a 0-d array that the call then turned into the number.
    kind = float if isinstance(at, float) else np.result_type(at).type
    third, fourth = ad.derivative(cubic_by_a_list, 3), \
        ad.derivative(cubic_by_a_list, 4)
    hessian = ad.hessian(cubic_and_sine_by_a_list, argnums=(0, 1))
    assert body(ad.source(third, at)) == "return 6.0"
    assert body(ad.source(fourth, at)) == "return 0.0"
    second = ad.derivative(cubic_by_a_list, 2)
    assert body(ad.source(ad.hessian(second), at)) == "return 0.0"
    # forward mode's constant too (np.full((), 6, dtype=np.float32))
    by_forward_mode = ad.hessian(ad.grad(cubic_by_a_list))
    assert body(ad.source(by_forward_mode, at)) == "return 6.0"
    assert body(ad.source(hessian, at, at)).splitlines()[-1].strip() == (
        "return (d2_dx2, 0.0), (0.0, d2_dy2)")
    values = [third(at), fourth(at), hessian(at, at)[0][1],
              ad.hessian(second)(at), by_forward_mode(at)]
    assert values == [6.0, 0.0, 0.0, 0.0, 6.0]
    assert [type(v) for v in values] == [kind] * 5


@pytest.mark.parametrize("at", [np.array([1.5, -2.0]),
                                np.ones((2, 3), np.float32)],
                         ids=["float64", "float32_matrix"])
def test_array_code_over_an_array_fills_a_constant_like_the_argument(at):
    # It wrote np.broadcast_to(6, x.shape), a read-only view of ints, and
    # np.zeros(x.shape[0]), float64 for a float32 argument: the call cast
    # both; the printed code returned something else than the derivative.
    third, fourth = ad.derivative(cubic_by_a_list, 3), \
        ad.derivative(cubic_by_a_list, 4)
    assert body(ad.source(third, at)) == "return np.full_like(x, 6.0)"
    assert body(ad.source(fourth, at)) == "return np.zeros_like(x)"
    for derivative, value in ((third, 6.0), (fourth, 0.0)):
        got = derivative(at)
        assert got.dtype == at.dtype and got.flags.writeable
        np.testing.assert_array_equal(got, np.full_like(at, value))
    assert ad.derivative(cubic_by_a_list, 5)(at).tolist() == (
        np.zeros_like(at).tolist())
