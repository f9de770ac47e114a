"""A loop's counter read after a loop that stays a loop (its trip count
is known only when the function runs): Python leaves it at its value in
the last iteration that ran (the one that broke, if one did), and where
no iteration ran, at its value before the loop. Unbound before a loop
that ran no iteration, Python raises UnboundLocalError; the derivative
reads nan there, as it does for other names such a loop binds first,
never a number the function did not compute (it read -1, ``n - 1``).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient


def bound_before(x, n):
    i = 5
    for i in range(n):
        x = x * 2
    return x * i


def unbound_before(x, n):
    for i in range(n):
        x = x * 2
    return x * i


def breaks(x, n):
    k = -1
    for k in range(n):
        x = x * 2
        if x > 10:
            break
    return x * k


def backwards(x, n):
    i = 7
    for i in reversed(range(n)):
        x = x * 2 + i
    return x * i


def from_two(x, n):
    i = -3
    for i in range(2, n):
        x = x * 1.5
    return x * i


def enumerated(x, xs):
    i = 0.5
    for i, v in enumerate(xs):
        x = x * v
    return x * i


def copied(x, n):
    j = 2
    for i in range(n):
        j = i + 1
        x = x * 2
    return x * j + x * i


def of_an_array(x, n):
    i = 3
    for i in range(n):
        x = np.sin(x) * 1.5
    return np.sum(x ** 2) * i


@pytest.mark.parametrize("function,n", [
    (bound_before, 0), (bound_before, 1), (bound_before, 3),
    (unbound_before, 1), (unbound_before, 4),
    (breaks, 0), (breaks, 2), (breaks, 10),
    (backwards, 0), (backwards, 3),
    (from_two, 0), (from_two, 2), (from_two, 3), (from_two, 6),
    (copied, 1), (copied, 4)])
def test_value_and_gradient_read_the_counter_python_leaves(function, n):
    value, gradient = ad.value_and_grad(function)(1.5, n)
    assert value == function(1.5, n)
    assert gradient == pytest.approx(
        numeric_gradient(function, (1.5, n), 0), rel=1e-9)


def test_a_loop_that_ran_no_iteration_keeps_the_counter_before_it():
    assert ad.value_and_grad(bound_before)(1.5, 0) == (7.5, 5.0)
    assert ad.value_and_grad(from_two)(1.5, 1) == (-4.5, -3.0)
    assert ad.value_and_grad(backwards)(1.5, 0) == (10.5, 7.0)


def test_the_counter_of_a_loop_that_broke_is_where_it_broke():
    # x: 3, 6, 12 > 10 at k = 2 (not n - 1 = 9)
    assert ad.value_and_grad(breaks)(1.5, 10) == (24.0, 16.0)


def test_unbound_before_a_loop_that_ran_no_iteration_it_is_nan():
    with pytest.raises(UnboundLocalError):
        unbound_before(1.5, 0)
    value, gradient = ad.value_and_grad(unbound_before)(1.5, 0)
    assert math.isnan(value) and math.isnan(gradient)


def test_the_counter_is_carried_in_the_generated_loop():
    source = ad.source(ad.value_and_grad(bound_before), 1.5, 3)
    assert "    i_1 = 5\n" in source
    assert "    for i in range(n):\n" in source
    assert "        i_1 = i\n" in source
    assert "value = i_1 * x_1" in source


def test_enumerate_s_counter():
    xs = np.array([1.5, 0.5, 2.0])
    np.testing.assert_allclose(
        ad.value_and_grad(enumerated)(1.25, xs),
        (enumerated(1.25, xs), 1.5 * 0.5 * 2.0 * 2))
    assert ad.value_and_grad(enumerated)(1.25, xs[:0]) == (0.625, 0.5)


@pytest.mark.parametrize("n", [0, 2])
def test_array_code_gradient_and_hessian(n):
    x = np.array([0.3, -1.2, 0.8])
    np.testing.assert_allclose(ad.grad(of_an_array)(x, n),
                               numeric_gradient(of_an_array, (x, n), 0),
                               rtol=1e-8)
    gradient = ad.grad(of_an_array)
    hessian = np.array([numeric_gradient(
        lambda v: gradient(v, n)[k], (x,), 0) for k in range(3)])
    np.testing.assert_allclose(ad.hessian(of_an_array)(x, n), hessian,
                               rtol=1e-6, atol=1e-9)


def test_a_counter_that_was_an_array_before_the_loop_is_refused():
    def f(x, n):
        i = np.zeros(2)
        for i in range(n):
            x = x * 2
        return np.sum(x * i)
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(f)(np.ones(2), 3)
    assert ("i is read after the loop, and before it is not a number: "
            "where the loop runs no iteration it keeps that value. Give "
            "the counter a name of its own") == caught.value.msg
    line = inspect.getsourcelines(f)[1] + 2  # the for statement
    assert f"test_loop_counter_after.py:{line}" in str(caught.value)
