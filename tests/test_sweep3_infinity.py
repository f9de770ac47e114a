"""Infinity as a value in user code: np.inf as a bound of np.clip and of
np.minimum/np.maximum, in comparisons, and returned where a function is
infinite (sweep 3 of user code, bugs 29 and 36)."""

import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, central_difference


def clipped_below(x):
    return np.clip(x, 0.5, np.inf) ** 2


def bounded_by_infinities(x):
    return np.minimum(x, np.inf) * np.maximum(x, -np.inf)


def below_infinity(x):
    if x < math.inf:
        return x ** 3
    return x


def inverse_or_infinity(x):
    return 1 / x if x > 0 else float('inf')


def infinity_minus_infinity(x):
    return x + (np.inf - np.inf)


def test_infinite_bounds_leave_the_other_side_alone():
    d = ad.grad(clipped_below)
    assert d(0.3) == 0.0
    assert d(2.0) == 4.0
    np.testing.assert_array_equal(d(np.array([0.3, 2.0])), [0.0, 4.0])
    assert ad.grad(bounded_by_infinities)(3.0) == 6.0
    # the bound's step, heaviside(inf - x), is 1 when the code is made
    assert "heaviside(np.inf" not in ad.source(d)
    assert "np.clip(x, 0.5, np.inf)" in ad.source(d)


def test_comparisons_with_infinity_and_infinity_returned():
    assert ad.grad(below_infinity)(2.0) == 12.0
    d = ad.grad(inverse_or_infinity)
    assert d(2.0) == pytest.approx(central_difference(
        inverse_or_infinity, (2.0,), 0), rel=1e-9)
    assert d(-1.0) == 0.0
    value, slope = ad.value_and_grad(inverse_or_infinity)(-1.0)
    assert (value, slope) == (math.inf, 0.0)


def test_infinity_minus_infinity_is_refused():
    assert_refused_at(
        lambda: ad.grad(infinity_minus_infinity)(1.0),
        infinity_minus_infinity, 1,
        "this gives a complex or undefined value for constant operands "
        "(such as log of a negative number, or division by zero, or "
        "inf - inf)")
