"""Builtins in user code and passed to grad (sweep 3 of user code, bugs 9
and 30): math.hypot, max and min take as many arguments as argnums name
(two at the least); sorted() is a list of np.sort's items."""

import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at


def test_math_hypot_of_as_many_coordinates_as_argnums_name():
    grads = ad.grad(math.hypot, (0, 1, 2, 3))(1.0, 2.0, 2.0, 4.0)
    assert grads == pytest.approx((0.2, 0.4, 0.4, 0.8), rel=1e-15)
    assert ad.grad(math.hypot)(3.0, 4.0) == pytest.approx(0.6, rel=1e-15)


def test_builtin_max_and_min_of_three():
    assert ad.grad(max, (0, 1, 2))(1.0, 2.0, 0.5) == (0.0, 1.0, 0.0)
    assert ad.grad(min, (0, 1, 2))(1.0, 2.0, 0.5) == (0.0, 0.0, 1.0)
    # the builtin, not np.max (a reduction), says the docstring
    assert "max is builtins.max." in ad.source(ad.grad(max, (0, 1)))


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
