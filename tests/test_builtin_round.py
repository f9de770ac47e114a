"""Python's ``round(x, ndigits)``: derivative 0 almost everywhere, as
np.round's (and JAX's), printed as written so that the derivative
computes the very value the user's code computed: for a float, Python
rounds its exact value (``round(2.675, 2)`` is 2.67, the float being a
little below 2.675, where ``np.round`` gives 2.68).

NumPy arrays have no ``__round__`` (``round(array, 1)`` raises
TypeError); their elements, NumPy scalars, round as np.round does. So in
array code ``round()`` of an element prints as written and ``round()``
of a whole array is that function taken elementwise, ``np.round`` (as
``round(x)`` of an array is already ``np.rint``).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import autodiff_ast as ad


def weighted(x):
    return round(x, 2) * x ** 2


def with_math(x):
    return math.sin(x) * round(x, ndigits=1)


def by_an_argument(x, n):
    return round(x, n) * x


def tens_and_units(x):
    return round(x, -1) * x + round(x, None) * x


@pytest.mark.parametrize("x", [2.675, 1.005, -0.125, 3.14159, 1e-3])
def test_the_derivative_uses_pythons_rounding(x):
    value, gradient = ad.value_and_grad(weighted)(x)
    assert value == weighted(x)
    assert gradient == 2 * x * round(x, 2)


def test_where_python_and_numpy_round_differently_python_s_is_used():
    assert round(2.675, 2) != np.round(2.675, 2)
    assert ad.grad(weighted)(2.675) == 2 * 2.675 * 2.67
    assert ad.grad(by_an_argument)(2.675, 2) == 2.67


def test_the_second_derivative_is_that_of_x_squared_times_a_constant():
    # JAX: jax.hessian(lambda x: jnp.round(x, 2) * x ** 2)(2.675) is 5.36
    # (jnp.round's 2.68); Python's round gives 2.67
    assert ad.hessian(weighted)(2.675) == 2 * 2.67


def test_round_prints_as_written():
    assert "return math.cos(x) * round(x, 1)" in ad.source(ad.grad(with_math))
    assert "return 2 * round(x, 2)" in ad.source(ad.hessian(weighted))
    assert "return round(x, n)" in ad.source(ad.grad(by_an_argument),
                                               2.675, 2)
    source = ad.source(ad.grad(tens_and_units))
    assert "return round(x, -1) + np.rint(x)" in source


def test_negative_ndigits_and_none():
    assert ad.grad(tens_and_units)(14.5) == 10.0 + 14.0


def test_float32_stays_float32():
    gradient = ad.grad(weighted)(np.float32(2.675))
    assert type(gradient) is np.float32
    assert gradient == np.float32(2) * np.float32(2.675) * round(
        np.float32(2.675), 2)


def test_round_of_an_array_element_prints_as_written():
    def f(x):
        return round(x[0], 1) * x[1] + round(x[1]) * x[0]
    x = np.array([1.25, 2.5])
    np.testing.assert_array_equal(ad.grad(f)(x), [round(x[1]),
                                                  round(x[0], 1)])
    assert "round(x[0], 1)" in ad.source(ad.grad(f), x)


def test_round_of_an_array_is_np_round_of_its_elements():
    def f(x):
        return np.sum(round(x, 1) * x ** 2)
    x = np.array([1.25, -2.35, 0.05, 3.0])
    np.testing.assert_array_equal(
        ad.grad(f)(x), [2 * v * round(v, 1) for v in x])
    assert "np.round(x, 1)" in ad.source(ad.grad(f), x)


def test_ndigits_that_is_not_an_integer_is_refused_at_the_users_line():
    def f(x):
        return round(x, 0.5) * x
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(f)(1.0)
    assert caught.value.msg == ("round() takes a number and ndigits, an "
                                "integer or None here")
    line = inspect.getsourcelines(f)[1] + 1
    assert f"test_builtin_round.py:{line}" in str(caught.value)
