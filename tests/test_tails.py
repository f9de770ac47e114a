"""Relative accuracy in both tails, and values that were wrong by measurement.

Softplus, log-sigmoid, the logistic function and tanh, each written the
naive ways, have derivatives of orders 1-3 within 1e-13 of the exact value,
relatively, from x = -700 to 700 (exact: SymPy's derivative of the textbook
formula, evaluated by mpmath at 800 digits, enough for the 610 digits that
1 - tanh(700)**2 cancels), at Python floats and on float64 arrays, without
warnings. Where the exact value is below the smallest double the answer is
0.0; among subnormal doubles it is within a few units of the last place.
"""

from __future__ import annotations

import functools
import math
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

import autodiff_ast as ad


def softplus(x):
    return np.log(1 + np.exp(x))


def softplus_log1p(x):
    return np.log1p(np.exp(x))


def softplus_math(x):
    return math.log(1 + math.exp(x))


def softplus_logaddexp(x):
    return np.logaddexp(0, x)


def log_sigmoid(x):
    return np.log(1 / (1 + np.exp(-x)))


def log_sigmoid_tanh(x):
    return np.log(0.5 * (np.tanh(x / 2) + 1))


def log_sigmoid_math(x):
    return -math.log(1 + math.exp(-x))


def log_sigmoid_logaddexp(x):
    return -np.logaddexp(0, -x)


def logistic(x):
    return np.exp(x) / (1 + np.exp(x))


def logistic_reciprocal(x):
    return 1 / (1 + np.exp(-x))


def logistic_math(x):
    return 1 / (1 + math.exp(-x))


def tanh(x):
    return np.tanh(x)


def tanh_math(x):
    return math.tanh(x)


X = sp.Symbol("x", real=True)
EXACT = {"softplus": sp.log(1 + sp.exp(X)),
         "log_sigmoid": -sp.log(1 + sp.exp(-X)),
         "logistic": 1 / (1 + sp.exp(-X)),
         "tanh": sp.tanh(X)}
SPELLINGS = {"softplus": [softplus, softplus_log1p, softplus_math,
                          softplus_logaddexp],
             "log_sigmoid": [log_sigmoid, log_sigmoid_tanh, log_sigmoid_math,
                             log_sigmoid_logaddexp],
             "logistic": [logistic, logistic_reciprocal, logistic_math],
             "tanh": [tanh, tanh_math]}
# Every 5 from -700 to 700, and where the forms change regime: around 0,
# where exp(-x) drops below rounding (x ~ 37), where tanh's derivative
# becomes subnormal (x ~ 354) and then underflows (x ~ 373).
POINTS = sorted({*np.linspace(-700.0, 700.0, 281).tolist(),
                 *[sign * v for sign in (1, -1) for v in (
                     1e-300, 1e-8, 1e-3, 0.3, 0.7, 1.2, 2.5, 17.5, 19.1,
                     36.7, 37.5, 354.2, 360.5, 372.3, 375.0)]})
RELATIVE = 1e-13
SMALLEST_NORMAL = 2.2250738585072014e-308
SUBNORMAL_ULP = 5e-324

# Through np.logaddexp, orders 1 and 2: the third derivative vanishes at
# x = 0, and its form there is a difference whose factor 1 - exp(x)
# cancels: off by 1e-13 relatively at x = -0.001, 1.6e-8 at x = -1e-8
# (2e-17 absolutely). Written with expm1 it would keep every digit.
FIRST_TWO = {softplus_logaddexp, log_sigmoid_logaddexp}
CASES = [(name, function, order) for name in EXACT
         for function in SPELLINGS[name] for order in (1, 2, 3)
         if order < 3 or function not in FIRST_TWO]


@functools.lru_cache(maxsize=None)
def exact_values(name: str, order: int) -> list[float]:
    derivative = sp.lambdify(X, sp.diff(EXACT[name], X, order), "mpmath")
    with mpmath.workdps(800):
        return [float(derivative(mpmath.mpf(p))) for p in POINTS]


def assert_accurate(got: list[float], exact: list[float], what: str) -> None:
    for point, value, true in zip(POINTS, got, exact):
        if abs(true) < SUBNORMAL_ULP / 2:
            assert value == 0.0, (what, point, value, true)
        elif abs(true) < SMALLEST_NORMAL:
            assert abs(value - true) <= 64 * SUBNORMAL_ULP, (
                what, point, value, true)
        else:
            assert abs(value - true) <= RELATIVE * abs(true), (
                what, point, value, true, abs(value - true) / abs(true))


@pytest.mark.parametrize("name,function,order", CASES, ids=[
    f"{f.__name__}-{order}" for _, f, order in CASES])
def test_derivatives_are_relatively_accurate_in_both_tails(name, function,
                                                           order):
    derivative = ad.derivative(function, order)
    exact = exact_values(name, order)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        at_floats = [float(derivative(p)) for p in POINTS]
        on_array = None
        if not function.__name__.endswith("_math"):  # math takes scalars
            on_array = derivative(np.array(POINTS))
    assert_accurate(at_floats, exact, f"{function.__name__} at floats")
    if on_array is not None:
        assert on_array.dtype == np.float64 and on_array.shape == (
            len(POINTS),)
        assert_accurate(list(on_array), exact,
                        f"{function.__name__} on an array")


def test_logistic_at_minus_30_keeps_every_digit():
    # 0.5*tanh(x/2) + 0.5 gave 9.35918009759007e-14 here (1.7e-4 off).
    value = ad.grad(softplus)(-30.0)
    assert value == pytest.approx(9.357622968839299e-14, rel=1e-15)


# -- log(cosh(x)) and log(exp(x) + exp(-x)): tanh(x), finite at +-1000 ------

def log_cosh(x):
    return np.log(np.cosh(x))


def log_exp_plus_exp(x):
    return np.log(np.exp(x) + np.exp(-x))


@pytest.mark.parametrize("function", [log_cosh, log_exp_plus_exp])
def test_ratios_of_hyperbolic_functions_saturate_at_one(function):
    first, second = ad.grad(function), ad.derivative(function, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert first(1000.0) == 1.0 and first(-1000.0) == -1.0
        assert second(1000.0) == 0.0 and second(-1000.0) == 0.0
        np.testing.assert_array_equal(first(np.array([-1000.0, 1000.0])),
                                      [-1.0, 1.0])
        for point in (-40.0, -3.0, 0.25, 20.0):
            with mpmath.workdps(50):
                tanh_value = mpmath.tanh(point)
                sech_squared = 1 / mpmath.cosh(point) ** 2
            assert first(point) == pytest.approx(float(tanh_value),
                                                 rel=1e-15)
            assert second(point) == pytest.approx(float(sech_squared),
                                                  rel=1e-13)


# -- d/dy 0**y ---------------------------------------------------------------

def zero_to_the_power(y):
    return np.power(0.0, y)


def zero_to_the_power_operator(y):
    return 0.0 ** y


@pytest.mark.parametrize("function", [zero_to_the_power,
                                      zero_to_the_power_operator])
def test_a_zero_base_has_derivative_zero_as_in_jax(function):
    # SymPy's 0**y * log(0) is nan everywhere; JAX and autograd take
    # log(1) for the zero base: 0 for y >= 0 (y = 0 included).
    gradient = ad.grad(function)
    for y in (0.0996, 0.0, 2.0):
        assert gradient(y) == 0.0
    np.testing.assert_array_equal(gradient(np.array([0.5, 3.0])), [0.0, 0.0])
    assert ad.value_and_grad(function)(0.5) == (0.0, 0.0)
    assert ad.derivative(function, 2)(0.5) == 0.0


# -- fractional powers of a base that can be negative -------------------------

def arcsin(x):
    return np.arcsin(x)


def arccos(x):
    return np.arccos(x)


def arcsin_math(x):
    return math.asin(x)


def arccosh(x):
    return np.arccosh(x)


def root(x):
    return np.sqrt(x)


def power_three_halves(x):
    return x ** 1.5


def power_of_a_difference(x):
    return (1 - x * x) ** 0.3


# (function, order, a point inside the domain and the exact derivative
# there, points outside it)
FRACTIONAL = [
    (arcsin, 2, 0.5, 0.5 / 0.75 ** 1.5, (-2.0, 2.0)),
    (arcsin, 3, 0.5, (1 + 2 * 0.25) / 0.75 ** 2.5, (-2.0, 2.0)),
    (arccos, 2, 0.5, -0.5 / 0.75 ** 1.5, (-2.0, 2.0)),
    (arccos, 3, 0.5, -(1 + 2 * 0.25) / 0.75 ** 2.5, (-2.0, 2.0)),
    (arccosh, 2, 2.0, -2.0 / 3.0 ** 1.5, (0.5, -2.0)),
    (root, 2, 2.0, -0.25 * 2.0 ** -1.5, (-0.5,)),
    (power_three_halves, 3, 2.0, -0.375 * 2.0 ** -1.5, (-2.0,)),
    (power_of_a_difference, 2, 0.5, 0.3 * (-0.7 * 0.5 ** 2 * 2 ** 2
                                           * 0.75 ** -1.7 - 2 * 0.75 ** -0.7),
     (-2.0, 1.5)),
]


@pytest.mark.parametrize("function,order,inside,expected,outside",
                         FRACTIONAL,
                         ids=[f"{f.__name__}-{n}" for f, n, *_ in FRACTIONAL])
def test_fractional_powers_outside_the_domain_are_nan_not_complex(
        function, order, inside, expected, outside):
    # On a negative Python float, ** with a fractional exponent is complex:
    # (1 - 2.0**2) ** 1.5 was the second derivative of arcsin at 2.0.
    derivative = ad.derivative(function, order)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning where the truth is finite
        assert derivative(inside) == pytest.approx(expected, rel=1e-13)
        assert derivative(np.array([inside]))[0] == pytest.approx(
            expected, rel=1e-13)
    for point in outside:
        with np.errstate(invalid="ignore"):  # NumPy warns, as for arcsin(2)
            value = derivative(point)
            array = derivative(np.array([point]))
        assert not isinstance(value, complex) and math.isnan(value), value
        assert array.dtype == np.float64 and math.isnan(array[0])


def test_math_code_outside_the_domain_raises_as_math_does():
    second = ad.derivative(arcsin_math, 2)
    assert second(0.5) == pytest.approx(0.5 / 0.75 ** 1.5, rel=1e-13)
    with pytest.raises(ValueError, match="math domain error"):
        second(2.0)


# -- array code at numbers: the tail forms of scalar code ---------------------

def tanh_by_a_list(x):
    parts = [x]  # (a list: array code)
    return np.tanh(parts[0])


@pytest.mark.parametrize("point", [-372.3, -30.0, -0.7, 2.5, 19.1, 30.0,
                                   354.2])
def test_array_code_at_a_number_is_accurate_in_both_tails(point):
    # It wrote 1 - tanh(x)**2, which is 0.0 from x = 19.1 on. (A kept
    # loop still does, where the loop carries the tanh: the tail forms
    # of its second derivative came out as three exps of one value.)
    first, second = exact_values("tanh", 1), exact_values("tanh", 2)
    at = POINTS.index(point)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [ad.grad(tanh_by_a_list)(point),
               ad.jvp(tanh_by_a_list, (point,), (1.0,))[1],
               ad.grad(ad.grad(tanh_by_a_list))(point),
               ad.hessian(tanh_by_a_list)(point)]
    assert_accurate([got[0]], [first[at]], "grad")
    assert_accurate([got[1]], [first[at]], "jvp")
    assert_accurate(got[2:], [second[at]] * 2, "second derivatives")


def test_array_code_at_a_number_prints_the_tail_form():
    source = ad.source(ad.grad(tanh_by_a_list), -30.0)
    assert source.split('"""')[2] == """
    exp = np.exp(-2 * abs(x))
    return 4 * exp / (exp + 1) ** 2
"""


def test_array_code_for_an_elementwise_map_is_accurate_in_both_tails():
    # The derivative of a map over an array (grad of an array-valued
    # elementwise function) wrote 1 - tanh(x)**2 over arrays: 0.0 from
    # |x| = 19 on, where scalar code keeps every digit.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for order in (1, 2, 3):
            derivative = ad.derivative(tanh_by_a_list, order)
            on_array = derivative(np.array(POINTS))
            assert on_array.dtype == np.float64
            assert_accurate(list(on_array), exact_values("tanh", order),
                            f"order {order} on an array")


def test_array_code_for_an_elementwise_map_prints_the_tail_form():
    source = ad.source(ad.grad(tanh_by_a_list), np.array([-30.0, 0.5]))
    assert source.split('"""')[2] == """
    exp = np.exp(-2 * abs(x))
    return 4 * exp / (exp + 1) ** 2
"""
