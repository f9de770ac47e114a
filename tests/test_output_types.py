"""Each derivative in its argument's type, as JAX gives it.

JAX casts each gradient, each Jacobian and Hessian block (by its row's
argument) and each vjp cotangent to its argument's dtype, and gives a jvp's
tangent its value's dtype, whatever dtype the computation ran in (JAX
0.10.2 with x64: grad of x * y at float32 x, float64 y is (float32,
float64); hessian rows by argument; jvp of float32(x) ** 2 at a float64 is
float32). A NumPy scalar argument gets a NumPy scalar of its type, a 0-d
array too (as every other derivative of a number is one), an array its
dtype; a Python float a float or an np.float64. A value is as the function
computes it.
"""

import math

import numpy as np
import pytest
import scipy.special

import autodiff_ast as ad
from test_call_speed_shape import python_calls

C64 = np.float64(2.0)
SCALE = 3.0


def times_c64(x):
    return C64 * np.sin(x)


def through_float32(x):
    return np.float32(x) ** 2


def kinked(x):
    return np.where(x > 0, x ** 2, -x)


def scaled_sine(x):
    return SCALE * math.sin(x)


# (function, its derivative at 0.7 and its second derivative there)
FUNCTIONS = [
    (times_c64, 2 * math.cos(0.7), -2 * math.sin(0.7)),
    (through_float32, 1.4, 2.0),
    (kinked, 1.4, 2.0),
    (scipy.special.digamma, scipy.special.polygamma(1, 0.7),
     scipy.special.polygamma(2, 0.7)),
    (scaled_sine, 3 * math.cos(0.7), -3 * math.sin(0.7)),
]
IDS = ["float64 global", "float32 cast", "np.where", "digamma", "math"]
ARGUMENTS = [(0.7, (float, np.float64)),
             (np.float64(0.7), (np.float64,)),
             (np.float32(0.7), (np.float32,)),
             (np.array(0.7), (np.float64,)),
             (np.array(0.7, np.float32), (np.float32,))]
ARGUMENT_IDS = ["float", "np.float64", "np.float32", "0-d float64",
                "0-d float32"]


def assert_typed(value, types, expected, rtol=1e-12):
    assert type(value) in types, (type(value), types)
    assert float(value) == pytest.approx(expected, rel=rtol)


def tolerance(function, x):
    """float32's precision where the argument or the code is float32."""
    single = function is through_float32 or np.asarray(x).dtype == np.float32
    return 1e-6 if single else 1e-12


@pytest.mark.parametrize("function, first, second", FUNCTIONS, ids=IDS)
@pytest.mark.parametrize("x, types", ARGUMENTS, ids=ARGUMENT_IDS)
def test_every_transform_gives_the_argument_type(function, first, second,
                                                 x, types):
    rtol = tolerance(function, x)
    assert_typed(ad.grad(function)(x), types, first, rtol)
    value, slope = ad.value_and_grad(function)(x)
    assert_typed(slope, types, first, rtol)
    np.testing.assert_array_equal(value, function(x))  # as computed
    assert type(value) is type(function(x))
    assert_typed(ad.jacobian(function)(x), types, first, rtol)
    assert_typed(ad.jacfwd(function)(x), types, first, rtol)
    assert_typed(ad.hessian(function)(x), types, second, rtol)
    assert_typed(ad.derivative(function, 2)(x), types, second, rtol)
    _, pullback = ad.vjp(function, x)
    (pulled,) = pullback(np.float64(1.0))
    assert_typed(pulled, types, first, rtol)


@pytest.mark.parametrize("function, first, second", FUNCTIONS, ids=IDS)
@pytest.mark.parametrize("x", [0.7, np.float64(0.7), np.float32(0.7)],
                         ids=["float", "np.float64", "np.float32"])
def test_a_jvp_tangent_takes_its_value_type(function, first, second, x):
    value, tangent = ad.jvp(function, (x,), (np.float64(1.0),))
    kind = type(value) if np.ndim(value) == 0 and not isinstance(
        value, np.ndarray) else np.asarray(value).dtype.type
    # (a Python float's tangent may be an np.float64: both are floats)
    assert_typed(tangent, (kind, np.float64) if kind is float else (kind,),
                 first, tolerance(function, x))


def product(x, y):
    return x * y + x ** 2 * y


def test_mixed_arguments_each_take_their_own_type():
    x, y = np.float32(0.5), np.float64(3.0)
    gx, gy = ad.grad(product, (0, 1))(x, y)
    assert (type(gx), type(gy)) == (np.float32, np.float64)
    assert (float(gx), float(gy)) == pytest.approx((6.0, 0.75), rel=1e-6)
    gx, gy = ad.grad(product, (0, 1))(x, 3.0)
    assert (type(gx), type(gy)) == (np.float32, float)
    gx, gy = ad.grad(product, (0, 1))(0.5, y)
    assert (type(gx), type(gy)) == (float, np.float64)
    # JAX's hessian is jacfwd(jacrev): each row in its argument's type
    rows = ad.hessian(product, (0, 1))(x, y)
    assert [[type(b) for b in row] for row in rows] == [
        [np.float32, np.float32], [np.float64, np.float64]]
    np.testing.assert_allclose(np.array(rows, dtype=float),
                               [[6.0, 2.0], [2.0, 0.0]], rtol=1e-6)
    _, pullback = ad.vjp(product, x, y)
    cx, cy = pullback(np.float64(1.0))
    assert (type(cx), type(cy)) == (np.float32, np.float64)


def product_through_a_list(x, y):
    parts = [x, y]  # (a list: array code)
    return parts[0] * parts[1] + parts[0] ** 2 * parts[1]


def test_a_hessian_of_array_code_gives_each_row_its_arguments_type():
    # (its forward stage differentiates gradients already in their
    # arguments' types: a row took the types' promotion, float64)
    x, y = np.float32(0.5), np.float64(3.0)
    rows = ad.hessian(product_through_a_list, (0, 1))(x, y)
    assert [[type(b) for b in row] for row in rows] == [
        [np.float32, np.float32], [np.float64, np.float64]]
    np.testing.assert_allclose(np.array(rows, dtype=float),
                               [[6.0, 2.0], [2.0, 0.0]], rtol=1e-6)
    rows = ad.hessian(product_through_a_list, (0, 1))(
        np.array([x]), np.array([y]))
    assert [[b.dtype for b in row] for row in rows] == [
        [np.float32, np.float32], [np.float64, np.float64]]


def test_a_global_that_changes_type_is_seen():
    global SCALE
    g = ad.grad(scaled_sine)
    assert type(g(np.float32(0.7))) is np.float32
    assert type(g(0.7)) is float
    try:
        SCALE = np.float64(3.0)  # read by name: now a float64 multiplies
        assert type(g(np.float32(0.7))) is np.float32
        assert type(g(0.7)) is float  # (its argument's type, as JAX's)
        assert g(0.7) == pytest.approx(3 * math.cos(0.7), rel=1e-15)
    finally:
        SCALE = 3.0


def test_elementwise_code_at_an_array_keeps_its_dtype():
    x = np.array([0.5, 1.0], np.float32)
    g = ad.grad(times_c64)(x)
    assert g.dtype == np.float32 and g.shape == (2,)
    np.testing.assert_allclose(g, 2 * np.cos(x), rtol=1e-6)
    g = ad.grad(through_float32)(np.array([0.5, 1.0]))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [1.0, 2.0])


def polynomial(x, y):
    return x ** 3 * y + np.sin(x) * y


def test_a_call_at_floats_runs_the_code_made_for_them_and_casts():
    # At Python floats the handle runs the code made for them (one call
    # of it, no transform) and gives Python floats where it computes
    # NumPy's (np.sin, np.where); other numbers go on to the transform.
    g = ad.grad(polynomial, (0, 1))
    called = python_calls(g, 0.5, 2.0)
    assert called.count(g.__name__) == 1 and "answer" not in called
    assert [type(v) for v in g(0.5, 2.0)] == [float, float]
    assert "answer" in python_calls(g, np.float32(0.5), np.float32(2.0))
    assert [type(v) for v in g(np.float32(0.5), np.float32(2.0))] == [
        np.float32, np.float32]
    assert type(ad.grad(kinked)(0.5)) is float


def looped_quadratic(x):
    total = 0.0
    for _ in range(12):  # (kept a loop: array code answers)
        total = total + x * x / 12
    return total


@pytest.mark.parametrize("x, kind", [
    (0.7, float), (np.float64(0.7), np.float64), (np.array(0.7), np.float64),
    (np.float32(0.7), np.float32)],
    ids=["float", "np.float64", "0-d float64", "np.float32"])
def test_a_constant_second_derivative_of_array_code_takes_the_argument_type(
        x, kind):
    # (the code returns 2: an int, or a float, becomes the argument's type)
    for second in (ad.hessian(looped_quadratic),
                   ad.grad(ad.grad(looped_quadratic))):
        result = second(x)
        assert type(result) is kind and result == 2.0
