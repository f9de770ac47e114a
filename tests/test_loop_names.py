"""Names a kept loop binds that the code after it reads: a value first
bound in the body (carried from nan, which is what no iteration leaves)
and the loop's counter (its last value). (A while loop's integer counter
read in the body: tests/test_sweep4_python_semantics.py, bug 4.)"""

import numpy as np
import pytest

import autodiff_ast as ad


def last_step(a, n):
    x = 1.0
    for k in range(n):
        step = np.sin(a * x)
        x = x + step
    return step * k


def central(f, a, h=1e-6):
    return (f(a + h) - f(a - h)) / (2 * h)


def test_a_value_first_bound_in_the_loop_and_the_counter_after_it():
    for n in (1, 3, 12):
        assert ad.grad(last_step)(0.4, n) == pytest.approx(
            central(lambda a: last_step(a, n), 0.4), rel=1e-7)
    # no iteration: Python leaves step unbound, and the value is nan
    value, _ = ad.value_and_grad(last_step)(0.4, 0)
    assert np.isnan(value)

