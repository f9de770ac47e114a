"""A float put into an integer array is truncated toward zero, as NumPy
casts it, and its derivative through that array is zero (JAX's too: an
integer array carries no gradient). Before, the gradient went through the
array as if it held the float: a silent wrong derivative."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference


def counted(x, n=30):
    counts = np.zeros(n + 1, dtype=int)
    Y = np.zeros(n + 1)
    Y[0] = 1.0
    for i in range(n):
        counts[i + 1] = counts[i] + 1.7 * x
        Y[i + 1] = 0.9 * Y[i] * x + 0.01 * counts[i + 1]
    return Y[n]


def put_once(x):
    c = np.zeros(3, dtype=int)
    c[0] = 2.6 * x
    return x * c[0] + np.sum(c)


def added_once(x):
    c = np.zeros(2, dtype=int)
    c[1] += 1.5 * x
    c[0] -= 0.7 * x
    return x * np.sum(c)


TEMPLATE = np.array([3, -4])


def added_beside_a_template(x):
    # zeros like an array of other values: what is added to is 0
    c = np.zeros_like(TEMPLATE)
    c[0] += -1.5 * x
    c[1] -= 2.5 * x
    return x * np.sum(c)


def negative_put(x):
    c = np.zeros(2, dtype=np.int64)
    c[0] = -2.6 * x
    return x * c[0]


@pytest.mark.parametrize("f, x", [(counted, 0.8), (put_once, 1.0),
                                  (added_once, 1.9), (negative_put, 1.0),
                                  (added_beside_a_template, 1.0)])
def test_a_float_put_into_an_integer_array_is_truncated(f, x):
    value, slope = ad.value_and_grad(f)(x)
    assert value == f(x)
    assert slope == pytest.approx(central_difference(f, (x,), 0, 1e-7),
                                  rel=1e-8)


def test_the_printed_fill_truncates_as_numpy_does():
    text = ad.source(ad.grad(put_once), 1.0)
    assert "c[0] = np.trunc(2.6 * x)" in text


def whole_counts(x, n=4):
    steps = np.zeros(n + 1, dtype=int)
    total = 0.0
    for i in range(n):
        steps[i + 1] = steps[i] + 2
        total = total + steps[i + 1] * x ** 2
    return total


def test_integers_put_into_an_integer_array_are_not_truncated():
    text = ad.source(ad.grad(whole_counts), 0.5)
    assert "trunc" not in text
    assert ad.grad(whole_counts)(0.5) == pytest.approx(2 * 0.5 * (2 + 4 + 6 + 8))
