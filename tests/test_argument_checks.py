"""A function that checks its arguments, ``if x.ndim != 1: raise
ValueError(...)``: a check of what the code is generated for (ranks,
shapes, sizes, ``len`` of a list, ``isinstance``) is decided when
the code is made, so the derivative of a function that validates its input
works, and a call the check refuses is refused with the function's own
message at its line. Dtypes are what the code is made for too (``if
x.dtype != np.float64:``, ``np.issubdtype(x.dtype, np.floating)``), and
``or``/``and`` short-circuit as Python's do: ``x.ndim != 2 or x.shape[1]
< 2`` never reads ``x.shape[1]`` of a vector. A check of values is still
refused where it is written, and so is a print() whose value the function
uses (a print statement, f-strings and all, is left out)."""

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


def matrix_of_pairs(x):
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError("expected a matrix of two columns or more")
    return np.sum(x[:, 0] * x[:, 1])


def only_float64(x):
    if x.dtype != np.float64:
        raise TypeError("float64 only")
    return np.sum(np.sin(x))


def floats_in_a_vector(x):
    if not np.issubdtype(x.dtype, np.floating) and x.dtype.kind != "f":
        raise TypeError("floats only")
    if x.dtype == np.float32 or x.ndim != 1:
        raise TypeError("a float64 vector")
    return np.sum(x ** 3)


def single_or_double(x):
    if x.dtype not in (np.float32, np.float64):
        raise TypeError("float32 or float64")
    if x.dtype == np.dtype("float16") or x.dtype.itemsize < 4:
        raise TypeError("no half precision")
    return np.sum(x ** 2)


def test_or_and_and_short_circuit_as_python_does():
    # (x.shape[1] of a vector was read: "1 is not in this tuple")
    x = np.array([[1.0, 2.0, 5.0], [3.0, -1.0, 7.0]])
    expected = np.zeros_like(x)
    expected[:, 0], expected[:, 1] = x[:, 1], x[:, 0]
    np.testing.assert_array_equal(ad.grad(matrix_of_pairs)(x), expected)
    message = ("x.ndim != 2 or x.shape[1] < 2 holds for these arguments, "
               "which the function refuses: expected a matrix of two "
               "columns or more")
    assert_refused_at(lambda: ad.grad(matrix_of_pairs)(np.ones(3)),
                      matrix_of_pairs, 2, message)
    assert_refused_at(lambda: ad.grad(matrix_of_pairs)(np.ones((3, 1))),
                      matrix_of_pairs, 2, message)


def test_a_check_of_the_dtype_is_decided_for_each_dtype():
    gradient = ad.grad(only_float64)
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(gradient(x), np.cos(x), rtol=1e-15)
    assert_refused_at(lambda: gradient(x.astype(np.float32)), only_float64,
                      2, "x.dtype != np.float64 holds for these arguments, "
                         "which the function refuses: float64 only")
    np.testing.assert_allclose(gradient(x), np.cos(x), rtol=1e-15)


def test_dtype_kinds_and_numpy_functions_of_dtypes():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(floats_in_a_vector)(x), 3 * x ** 2,
                               rtol=1e-15)
    assert_refused_at(
        lambda: ad.grad(floats_in_a_vector)(np.float32(x)),
        floats_in_a_vector, 4, "x.dtype == np.float32 or x.ndim != 1 holds "
                               "for these arguments, which the function "
                               "refuses: a float64 vector")


def test_dtypes_named_spelled_and_sized():
    for dtype in (np.float32, np.float64):
        x = np.array([0.5, -1.0, 2.0], dtype=dtype)
        gradient = ad.grad(single_or_double)(x)
        assert gradient.dtype == dtype
        np.testing.assert_array_equal(gradient, 2 * x)
    assert_refused_at(
        lambda: ad.grad(single_or_double)(np.ones(2, dtype=np.float16)),
        single_or_double, 2, "x.dtype not in (np.float32, np.float64) "
                             "holds for these arguments, which the function "
                             "refuses: float32 or float64")
