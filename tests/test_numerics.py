"""Dtypes, numerical stability and agreement with JAX's printed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad

# What JAX prints for grad, grad∘grad, grad∘grad∘grad of jnp.tanh at
# float32 2.0.
JAX_TANH_FLOAT32 = ["0.070650816", "-0.13621868", "0.25265405"]


def test_float32_in_float32_out_matching_jax_to_one_ulp():
    x = np.float32(2.0)
    derivative = np.tanh
    for printed in JAX_TANH_FLOAT32:
        derivative = ad.grad(derivative)
        value = derivative(x)
        assert type(value) is np.float32
        np.testing.assert_array_max_ulp(value, np.float32(printed), maxulp=1)


def test_first_tanh_derivative_is_correctly_rounded_in_float32():
    # sech(2)**2 = 0.0706508248...; JAX prints 0.070650816, one ulp low.
    assert repr(ad.grad(np.tanh)(np.float32(2.0))) == \
        "np.float32(0.07065082)"


def test_float32_arrays_stay_float32_for_every_order():
    grid = np.linspace(-2, 2, 5, dtype=np.float32)
    for order in range(1, 5):
        assert ad.derivative(np.tanh, order)(grid).dtype == np.float32
        polynomial = ad.derivative(lambda x: x**3 + 2*x**2 - 3*x + 1, order)
        assert polynomial(grid).dtype == np.float32
        assert polynomial(grid).shape == grid.shape


def test_constants_do_not_promote_float32():
    gradient = ad.grad(lambda x: np.exp2(x) + np.log10(x) + np.pi * x)
    assert gradient(np.float32(1.5)).dtype == np.float32


def test_python_floats_give_python_floats():
    # Each derivative in its argument's type, as JAX casts it: np.tanh
    # computes NumPy's float64, and at a Python float its derivative is a
    # Python float (an np.float64 at an np.float64)
    assert type(ad.grad(lambda x: x ** 3)(2.0)) is float
    assert type(ad.grad(np.tanh)(2.0)) is float
    assert type(ad.grad(np.tanh)(np.float64(2.0))) is np.float64


def softplus_in_a_branch(x, y):
    if x > 0:
        return x * y + np.log(1 + np.exp(y))
    return x - y ** 2


def softplus_in_a_where(x, y):
    return np.where(x > 0, np.log(1 + np.exp(y)), y ** 2)


def test_a_logistic_in_one_branch_keeps_its_tail_form():
    # (exp(y) / (exp(y) + 1) in the branch: nan at y = 800, where exp
    # overflows; pytest turns the overflow warning into an error)
    gradient = ad.grad(softplus_in_a_branch, (0, 1))
    assert gradient(1.0, 800.0) == (800.0, 2.0)
    assert gradient(1.0, -800.0) == (-800.0, 1.0)
    assert gradient(-1.0, 3.0) == (1.0, -6.0)
    gradient = ad.grad(softplus_in_a_where, 1)
    np.testing.assert_array_equal(
        gradient(np.array([1.0, 1.0, -1.0]), np.array([800.0, -800.0, 3.0])),
        [1.0, 0.0, 6.0])


def test_softplus_derivative_is_finite_where_jax_gives_nan():
    gradient = ad.grad(lambda x: np.log(1 + np.exp(x)))
    assert gradient(1000.0) == 1.0
    assert gradient(-1000.0) == 0.0
    second = ad.grad(gradient)
    assert second(1000.0) == 0.0 and second(0.0) == 0.25


def test_logistic_ratio_is_stable():
    gradient = ad.grad(lambda x: np.exp(x) / (1 + np.exp(x)))
    assert gradient(800.0) == 0.0
    assert gradient(0.0) == 0.25


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_tanh_derivatives_at_extremes_are_zero_without_warnings(x):
    # pytest turns every warning into an error (pyproject filterwarnings).
    derivative = np.tanh
    for _ in range(4):
        derivative = ad.grad(derivative)
        assert derivative(x) == 0.0
        assert derivative(np.array([x, -x])).tolist() == [0.0, 0.0]


def test_math_code_at_extremes():
    assert ad.grad(math.tanh)(1000.0) == 0.0


def test_exact_closed_forms():
    assert ad.grad(lambda x: x ** 0.5)(4.0) == 0.25
    assert ad.grad(lambda x: 1 / x)(4.0) == -1 / 16
    assert ad.derivative(np.sin, 4)(0.7) == np.sin(0.7)
