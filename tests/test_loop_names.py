"""Names a kept loop binds that the code after it reads: a value first
bound in the body (carried from nan, which is what no iteration leaves),
the loop's counter (its last value), and an integer counter the body
reads in a while loop (its value in each iteration, in the gradient)."""

import numpy as np
import pytest

import autodiff_ast as ad


def last_step(a, n):
    x = 1.0
    for k in range(n):
        step = np.sin(a * x)
        x = x + step
    return step * k


def counted_powers(x):
    total = 0.0
    i = 0
    while i < 4:
        total = total + np.sum(x ** i)
        i += 1
    return total


def central(f, a, h=1e-6):
    return (f(a + h) - f(a - h)) / (2 * h)


def test_a_value_first_bound_in_the_loop_and_the_counter_after_it():
    for n in (1, 3, 12):
        assert ad.grad(last_step)(0.4, n) == pytest.approx(
            central(lambda a: last_step(a, n), 0.4), rel=1e-7)
    # no iteration: Python leaves step unbound, and the value is nan
    value, _ = ad.value_and_grad(last_step)(0.4, 0)
    assert np.isnan(value)


def test_a_while_counter_read_in_the_body():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(counted_powers)(x),
                               1 + 2 * x + 3 * x ** 2, rtol=1e-14)
