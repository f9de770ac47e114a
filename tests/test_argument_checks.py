"""A function that checks its arguments, ``if x.ndim != 1: raise
ValueError(...)``: a check of what the code is generated for (ranks,
shapes, sizes, ``len`` of a list, ``isinstance``) is decided when
the code is made, so the derivative of a function that validates its input
works, and a call the check refuses is refused with the function's own
message at its line. A check of values is still refused where it is
written, and so is a print() whose value the function uses (a print
statement, f-strings and all, is left out)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at

REFUSED = ("raise is not supported: check arguments before calling the "
           "function, or use np.where to handle the invalid region")


def norm_of_rows(x):
    if x.ndim != 2 or x.size < 4:
        raise ValueError("expected rows of two or more")
    return np.sum(x ** 2)


def total(xs):
    if len(xs) != 3:
        raise TypeError(f"three parts, not {len(xs)}")
    return xs[0] * xs[1] + xs[2]


def positive(x):
    if x < 0:
        raise ValueError("x must be positive")
    return x ** 2


def test_a_check_of_ranks_and_sizes_is_decided_when_the_code_is_made():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_allclose(ad.grad(norm_of_rows)(x), 2 * x)
    assert_refused_at(
        lambda: ad.grad(norm_of_rows)(np.ones(3)), norm_of_rows, 2,
        "x.ndim != 2 or x.size < 4 holds for these arguments, which "
        "the function refuses: expected rows of two or more")
    # (decided on x.size, the code is correct at that size only, and says
    # so where a size differs)
    assert "was generated for x of shape (2, 2)" in ad.source(
        ad.grad(norm_of_rows), x)
    np.testing.assert_allclose(ad.grad(norm_of_rows)(np.ones((3, 2))),
                               2 * np.ones((3, 2)))


def test_a_check_of_a_list_length():
    assert ad.grad(total)([2.0, 3.0, 1.0]) == [3.0, 2.0, 1.0]
    assert_refused_at(lambda: ad.grad(total)([2.0, 3.0]), total, 2,
                      "len(xs) != 3 holds for these arguments, which the "
                      "function refuses: three parts, not ")


def test_a_check_of_values_is_refused_where_it_is_written():
    assert_refused_at(lambda: ad.grad(positive), positive, 2, REFUSED)


def printed_value(x):
    shown = print(f"{x}")
    return x ** 2 + (shown is None)


def test_a_print_whose_value_is_used_keeps_the_f_string_refusal():
    # (print() as a statement is left out, f-strings in it too; its
    # value is not)
    assert_refused_at(lambda: ad.grad(printed_value), printed_value, 1,
                      "f-strings are not supported: a derivative computes "
                      "numbers only")
