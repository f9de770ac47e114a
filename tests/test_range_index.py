"""A range taken as a value, as an index (``probs[range(n), y]``, the
cs231n softmax): the integers np.arange gives, as NumPy reads a range in
an index (sweep4 bug 15). Loops and comprehensions over range() are
another path (test_loops)."""

from __future__ import annotations

import numpy as np

import autodiff_ast as ad


def tail_squares(x):
    return np.sum(x[range(1, len(x))] ** 2)


def picked(p, labels):
    return np.sum(np.log(p[range(p.shape[0]), labels]))


def test_range_of_a_size_as_an_index():
    x = np.array([3.0, -1.0, 0.5, 2.0])
    np.testing.assert_allclose(ad.grad(tail_squares)(x),
                               [0.0, -2.0, 1.0, 4.0])
    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    labels = np.array([1, 0, 1])
    expected = np.zeros_like(p)
    expected[[0, 1, 2], labels] = 1 / p[[0, 1, 2], labels]
    np.testing.assert_allclose(ad.grad(picked)(p, labels), expected)
