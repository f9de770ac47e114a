"""Builtins in user code (sweep 3 of user code, bug 30): sorted() is a
list of np.sort's items."""

import numpy as np

import autodiff_ast as ad
from helpers import assert_refused_at


def largest_two_multiplied(x):
    a, b = sorted([x[0] ** 2, x[1], x[2]], reverse=True)[:2]
    return a * b


def sorted_by_key(x):
    return sum(sorted(x, key=abs)[1:])


def test_sorted_items_follow_the_permutation():
    x = np.array([1.5, 0.5, 2.0])  # x[0] ** 2 = 2.25 and x[2] are largest
    np.testing.assert_allclose(ad.grad(largest_two_multiplied)(x),
                               [2 * 1.5 * 2.0, 0.0, 2.25], rtol=1e-15)
    assert_refused_at(
        lambda: ad.grad(sorted_by_key)(x), sorted_by_key, 1,
        "sorted() is differentiated with one sequence of numbers and a "
        "constant reverse=: for a key, index by np.argsort of the keys")


def sorted_tail(x):
    return sum(sorted(x)[1:])


def test_sorted_code_is_for_its_size():
    # a list of 4 items is written out; 5 items need other code
    grad = ad.grad(sorted_tail)
    np.testing.assert_array_equal(grad(np.array([0.3, -0.7, 1.2, 0.5])),
                                  [1, 0, 1, 1])
    np.testing.assert_array_equal(
        grad(np.array([0.3, -0.7, 1.2, 0.5, 0.1])), [1, 0, 1, 1, 1])
