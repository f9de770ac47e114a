"""Comparisons with values that np.inf bounds or masks: np.where(m, x,
np.inf) == y, np.minimum(x, np.inf) == x, np.clip(x, -np.inf, 1) == 1.
SymPy's oo is not real, so these functions of it were taken for not real
and every ``==`` of them for the constant False: values and gradients
were silently those of another function (0.0 for 1.0)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad

X = np.array([3.0, 1.0, 2.0, -1.0])
MASK = np.array([True, True, False, True])


def square_at_the_masked_minimum(x, mask):
    masked = np.where(mask, x, np.inf)
    best = masked == np.min(masked)
    return np.sum(np.where(best, x ** 2, 0.0))


def where_equal_to_one(x):
    masked = np.where(x > 0, x, np.inf)
    return np.sum(x * (masked == 1.0))


def count_unchanged_by_minimum(x):
    return np.sum(np.minimum(x, np.inf) == x) * np.sum(x ** 2)


def clipped_to_one(x):
    return np.sum((np.clip(x, -np.inf, 1.0) == 1.0) * x)


@pytest.mark.parametrize("f, args, value, gradient", [
    (square_at_the_masked_minimum, (X, MASK), 1.0, [0.0, 0.0, 0.0, -2.0]),
    (where_equal_to_one, (X,), 1.0, [0.0, 1.0, 0.0, 0.0]),
    (count_unchanged_by_minimum, (X,), 60.0, 8 * X),
    (clipped_to_one, (X,), 6.0, [1.0, 1.0, 1.0, 0.0]),
], ids=lambda p: getattr(p, "__name__", ""))
def test_an_equality_with_an_infinite_bound_is_computed(f, args, value,
                                                        gradient):
    assert f(*args) == value  # NumPy's own value, for the record
    got_value, got_gradient = ad.value_and_grad(f)(*args)
    assert got_value == value
    np.testing.assert_array_equal(got_gradient, gradient)


def test_at_a_number_too():
    def unchanged(x):
        return (np.minimum(x, np.inf) == x) * x ** 2

    assert ad.value_and_grad(unchanged)(1.5) == (2.25, 3.0)
