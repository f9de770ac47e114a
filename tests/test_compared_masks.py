"""Masks that compare global numeric arrays: ``x[LABELS == 2]``.

A global (or closure, or attribute) array is known when the code is made,
so a comparison of it with constants or with another such array is a mask
of known values, as a global boolean mask is (tests/test_outside_masks.py):
the code computes the comparison when it runs, and is made again when an
array it compares changes. A mask computed from the arguments is known
only when the code runs: a sum through it is a masked sum
(tests/test_masked_reads.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

LABELS = np.array([1, 2, 2, 3])
SCORES = np.array([0.5, -1.0, 2.0, 0.0])

def body(fn, *example) -> str:
    """The generated source after its docstring."""
    return ad.source(fn, *example).split('"""')[-1].strip()


def of_class_two(x):
    return np.sum(x[LABELS == 2] ** 2)


X = np.array([1.0, 2.0, 3.0, 4.0])


def test_a_global_integer_array_compared_with_a_constant_is_a_mask():
    gradient = ad.grad(of_class_two)
    np.testing.assert_array_equal(gradient(X), [0.0, 4.0, 6.0, 0.0])
    assert body(gradient, X) == (
        "mask = LABELS == 2\n"
        "    d_x = np.zeros_like(x)\n"
        "    d_x[mask] = 2 * x[mask]\n"
        "    return d_x")


def test_conditions_and_arithmetic_of_compared_globals():
    def f(x):
        return np.sum(x[(LABELS >= 2) & (SCORES > 0)] ** 3)

    def g(x):
        return np.sum(np.sin(x[LABELS > SCORES]))

    def h(x):
        return np.sum(x[2 * LABELS - 1 == 3] ** 2)

    np.testing.assert_array_equal(ad.grad(f)(X), [0.0, 0.0, 27.0, 0.0])
    np.testing.assert_allclose(ad.grad(g)(X), np.cos(X) * [1, 1, 0, 1],
                               rtol=1e-15)
    np.testing.assert_array_equal(ad.grad(h)(X), [0.0, 4.0, 6.0, 0.0])
    assert "mask = 2 * LABELS - 1 == 3" in body(ad.grad(h), X)


def test_rows_selected_by_a_compared_global():
    def f(M):
        return np.sum(np.tanh(M[LABELS != 2]))

    M = np.arange(8.0).reshape(4, 2) / 8
    np.testing.assert_allclose(ad.grad(f)(M), numeric_gradient(f, (M,), 0),
                               rtol=1e-8, atol=1e-9)
    assert not ad.grad(f)(M)[1:3].any()


def test_closure_and_attribute_arrays_compared():
    labels = np.array([0, 1, 0, 1])

    def closure(x):
        return np.sum(x[labels == 1] ** 2)

    class Model:
        def __init__(self):
            self.labels = np.array([3, 3, 1, 1])

        def loss(self, x):
            return np.sum(x[self.labels == 3] ** 2)

    np.testing.assert_array_equal(ad.grad(closure)(X), [0.0, 4.0, 0.0, 8.0])
    model = Model()
    np.testing.assert_array_equal(ad.grad(model.loss)(X),
                                  [2.0, 4.0, 0.0, 0.0])
    model.labels = np.array([1, 3, 3, 3])
    np.testing.assert_array_equal(ad.grad(model.loss)(X),
                                  [0.0, 4.0, 6.0, 8.0])


def test_the_code_is_made_again_when_a_compared_global_changes(monkeypatch):
    gradient = ad.grad(of_class_two)
    np.testing.assert_array_equal(gradient(X), [0.0, 4.0, 6.0, 0.0])
    monkeypatch.setitem(globals(), "LABELS", np.array([2, 2, 1, 2]))
    np.testing.assert_array_equal(gradient(X), [2.0, 4.0, 0.0, 8.0])
    LABELS[:] = [1, 1, 1, 2]  # (the new array, changed in place)
    np.testing.assert_array_equal(gradient(X), [0.0, 0.0, 0.0, 8.0])


def test_a_mask_compared_from_an_argument_is_read_when_the_code_runs():
    def f(x, y):
        return np.sum(x[LABELS == y])

    gradient = ad.grad(f)
    np.testing.assert_array_equal(gradient(X, 2.0), [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gradient(X, 3.0), [0.0, 0.0, 0.0, 1.0])

    def g(x):
        return np.sum(x[SCORES < x])

    np.testing.assert_array_equal(ad.grad(g)(X - 1.5), [0.0, 1.0, 0.0, 1.0])


COMPARISONS = [
    (lambda x: np.sum(x[LABELS == 2] ** 2), LABELS == 2),
    (lambda x: np.sum(x[LABELS != 2] ** 2), LABELS != 2),
    (lambda x: np.sum(x[LABELS < 2] ** 2), LABELS < 2),
    (lambda x: np.sum(x[LABELS <= 2] ** 2), LABELS <= 2),
    (lambda x: np.sum(x[LABELS > 2] ** 2), LABELS > 2),
    (lambda x: np.sum(x[LABELS >= 2] ** 2), LABELS >= 2),
]


@pytest.mark.parametrize("f, picked", COMPARISONS,
                         ids=["==", "!=", "<", "<=", ">", ">="])
def test_each_comparison(f, picked):
    np.testing.assert_array_equal(ad.grad(f)(X), np.where(picked, 2 * X, 0.0))


# was a bug: the size of x[mask] was traced to the mask's own length
def test_the_mean_of_a_selection_divides_by_the_count_it_picks():
    def f(x):
        return np.mean(x[LABELS == 2]) + np.mean(x[LABELS != 2])

    np.testing.assert_allclose(ad.grad(f)(X), [0.5, 0.5, 0.5, 0.5])
