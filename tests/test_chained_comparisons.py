"""Chained comparisons (``lo <= x < hi``) run as Python runs them and
print as the user wrote them.

``a < b < c`` is ``a < b and b < c`` with b read once, and a comparison
that is False when the code is made ends the chain: the operands after it
are never read, so ``1 < len(x) < 10 * x[1]`` at a one-element x reads no
``x[1]`` (it was refused as out of bounds). Generated code joins
comparisons that share an operand into a chain again (``lo <= x < hi``,
not ``lo <= x and hi > x``).
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference

ORDER = 0


def banded(x, lo=0.0, hi=1.0):
    if lo <= x < hi:
        return x * x
    return 3 * x


def rising(x, y):
    if 0 < x < y <= 2:
        return x * y
    return x - y


def first_large(x, xs=()):
    if 0 < len(xs) <= xs[0]:
        return x * xs[0]
    return x * x


def second_large(x):
    if 1 < len(x) < 10 * x[1]:
        return np.sum(x ** 2)
    return np.sum(3 * x)


def ordered_global(x):
    if 0 < ORDER < x:
        return x ** 3
    return x * x


@pytest.mark.parametrize("args", [(0.5,), (-0.5,), (1.5,), (2.0, 1.0, 3.0),
                                  (0.25, 0.5, 1.0)])
def test_a_band_is_python_s(args):
    assert ad.grad(banded)(*args) == pytest.approx(
        central_difference(banded, args, 0))


@pytest.mark.parametrize("x, y", [(0.5, 1.5), (0.5, 2.5), (1.5, 0.5),
                                  (-0.5, 1.0)])
def test_a_chain_of_three_comparisons(x, y):
    both = ad.grad(rising, argnums=(0, 1))(x, y)
    assert both == pytest.approx((central_difference(rising, (x, y), 0),
                                  central_difference(rising, (x, y), 1)))


def test_a_band_prints_as_the_chain_written():
    assert ad.source(ad.grad(banded)).endswith(
        "    if lo <= x < hi:\n        return 2 * x\n"
        "    return 3.0\n")


def test_a_chain_of_three_prints_as_written():
    assert "    if 0 < x < y <= 2:\n" in ad.source(ad.grad(rising))


def test_a_comparison_false_now_ends_the_chain():
    # xs[0] of the empty tuple is never read, as in Python
    assert ad.grad(first_large)(2.0) == 4.0
    assert ad.grad(ordered_global)(2.0) == 4.0


def test_a_size_that_ends_the_chain_reads_no_item_after_it():
    np.testing.assert_array_equal(ad.grad(second_large)(np.array([2.0])),
                                  [3.0])
    np.testing.assert_array_equal(
        ad.grad(second_large)(np.array([2.0, 3.0])), [4.0, 6.0])
    np.testing.assert_array_equal(
        ad.grad(second_large)(np.array([2.0, 0.05])), [3.0, 3.0])


def scaled_in_band(x, k=0.5, lo=0.0, hi=1.0):
    if lo <= k < hi and not k == 0.25:
        return np.sum(k * x ** 2)
    return np.sum(x)


@pytest.mark.parametrize("k, expected", [(0.5, [1.0, -2.0]), (0.25, [1, 1]),
                                         (1.5, [1.0, 1.0])])
def test_an_if_on_scalars_in_array_code_prints_as_python_s(k, expected):
    x = np.array([1.0, -2.0])
    np.testing.assert_array_equal(ad.grad(scaled_in_band)(x, k), expected)
    # it printed `if np.logical_and(np.logical_and(k >= lo, hi > k), ...)`
    assert "    if lo <= k < hi and k != 0.25:\n" in ad.source(
        ad.grad(scaled_in_band), x, k)
