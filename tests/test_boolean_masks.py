"""Boolean masks combined with ``&``, ``|``, ``^`` and ``~``.

Between conditions (comparisons, boolean arrays given as arguments or
globals, ``np.isfinite(x)``, NumPy's bools, and these of them) the
operators are NumPy's logical and, or, xor and not, which generated code
spells ``np.logical_and(a, b)`` and so on, in scalar and in array code
alike (on Python's bools ``~`` is no negation: ``~True`` is -2). As
np.where's condition they select; as an index a condition of global masks
is known when the code is made, as a global mask is, and the code is made
again when a mask changes. Of numbers they work bit by bit, which has no
derivative: refused at the line, with the fix.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, central_difference, numeric_gradient

OBSERVED = np.array([True, False, True, False])
KEEP = np.array([True, True, False, False])
X = np.array([0.3, -0.7, 1.2, 0.5])


def _body(fn, *example):
    return ad.source(fn, *example).split('"""')[-1].strip("\n")


def band(x):
    inside = (x > 0) & (x < 1)
    return np.sum(np.where(inside, x ** 2, -x))


def kept(x):
    return np.sum(x[KEEP & ~OBSERVED] ** 3) + np.sum(np.sin(x[~OBSERVED]))


def either(x, y):
    return np.where((x > 0) | (y < 1), x * y, x ** 2)


def one_of(x, y):
    return np.where((x > 0) ^ (y > 0), x ** 3, y * x)


def outside(x):
    return np.where(~((x > -1) & (x < 1)), x ** 2, 0.0)


def masked_argument(x, mask):
    return np.sum(np.where(mask & ~np.isnan(x), x ** 2, 0.0))


def narrowed(x):
    chosen = x > 0
    chosen &= x < 1
    chosen |= OBSERVED
    return np.sum(np.where(chosen ^ np.True_, np.sin(x), x ** 3))


def test_a_condition_of_comparisons_selects_elementwise():
    expected = np.where((X > 0) & (X < 1), 2 * X, -1.0)
    np.testing.assert_array_equal(ad.grad(band)(X), expected)
    assert _body(ad.grad(band), X) == (
        "    return np.where(np.logical_and(x > 0, x < 1), 2 * x, -1)")
    np.testing.assert_allclose(ad.grad(band)(X), numeric_gradient(
        band, (X,), 0), rtol=1e-8)


@pytest.mark.parametrize("function", [either, one_of])
def test_scalar_code_matches_central_differences(function):
    gradient = ad.grad(function, argnums=(0, 1))
    for x, y in ((1.5, 2.0), (1.5, -2.0), (-1.5, 0.5), (-1.5, 2.5)):
        for argnum, value in enumerate(gradient(x, y)):
            assert float(value) == pytest.approx(central_difference(
                function, (x, y), argnum), rel=1e-8, abs=1e-9)


def test_scalar_code_spells_numpy_logic():
    # NumPy's functions take Python's floats and arrays alike
    assert _body(ad.grad(either)) == (
        "    return np.where(np.logical_or(x > 0, y < 1), y, 2 * x)")
    assert _body(ad.grad(one_of)) == (
        "    return np.where(np.logical_xor(x > 0, y > 0), 3 * x ** 2, y)")
    assert _body(ad.grad(outside)) == (
        "    return np.where(np.logical_not(np.logical_and(x > -1, x < 1)), "
        "2 * x, 0)")
    grid = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_array_equal(ad.grad(outside)(grid),
                                  [-4.0, 0.0, 0.0, 6.0])
    assert ad.grad(either)(-1.5, 2.5) == -3.0


def test_a_mask_given_as_an_argument():
    mask = np.array([True, True, False, True])
    x = np.array([0.3, np.nan, 1.2, 0.5])
    np.testing.assert_array_equal(ad.grad(masked_argument)(x, mask),
                                  [0.6, 0.0, 0.0, 1.0])


def test_conditions_of_conditions_and_in_place_operators():
    chosen = ((X > 0) & (X < 1)) | OBSERVED
    expected = np.where(chosen, 3 * X ** 2, np.cos(X))
    np.testing.assert_allclose(ad.grad(narrowed)(X), expected, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(narrowed)(X), numeric_gradient(
        narrowed, (X,), 0), rtol=1e-8)


def test_indexing_with_a_condition_of_global_masks():
    expected = np.where(KEEP & ~OBSERVED, 3 * X ** 2, 0.0) + np.where(
        ~OBSERVED, np.cos(X), 0.0)
    np.testing.assert_allclose(ad.grad(kept)(X), expected, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(kept)(X), numeric_gradient(
        kept, (X,), 0), rtol=1e-8)
    assert _body(ad.grad(kept), X) == (
        "    mask_1 = np.logical_not(OBSERVED)\n"
        "    mask = np.logical_and(KEEP, mask_1)\n"
        "    d_x = np.zeros_like(x)\n"
        "    d_x[mask_1] = np.cos(x[mask_1])\n"
        "    d_x[mask] += 3 * x[mask] ** 2\n"
        "    return d_x")


def test_a_changed_mask_makes_the_code_again():
    gradient = ad.grad(kept)
    before = gradient(X)
    saved = KEEP.copy()
    try:
        KEEP[:] = [False, True, True, True]
        expected = np.where(KEEP & ~OBSERVED, 3 * X ** 2, 0.0) + np.where(
            ~OBSERVED, np.cos(X), 0.0)
        np.testing.assert_allclose(gradient(X), expected, rtol=1e-15)
    finally:
        KEEP[:] = saved
    np.testing.assert_array_equal(gradient(X), before)


def test_hessians_jacobians_and_tangents_through_masks():
    np.testing.assert_allclose(ad.hessian(kept)(X), np.diag(
        np.where(KEEP & ~OBSERVED, 6 * X, 0.0)
        - np.where(~OBSERVED, np.sin(X), 0.0)), rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(ad.hessian(band)(X), np.diag(
        np.where((X > 0) & (X < 1), 2.0, 0.0)))
    grid = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_array_equal(ad.jacobian(outside)(grid),
                                  np.diag([-4.0, 0.0, 0.0, 6.0]))
    value, tangent = ad.jvp(kept, (X,), (np.ones(4),))
    assert value == pytest.approx(kept(X), rel=1e-15)
    assert tangent == pytest.approx(np.sum(ad.grad(kept)(X)), rel=1e-15)


def _pasted(source, tmp_path, name):
    """The functions of generated ``source`` in a module of their own,
    with the masks it reads."""
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n"
                    f"OBSERVED = np.array({OBSERVED.tolist()})\n"
                    f"KEEP = np.array({KEEP.tolist()})\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_printed_gradient_is_read_back_and_differentiated(tmp_path):
    printed = _pasted(ad.source(ad.grad(narrowed), X), tmp_path,
                      "printed_narrowed")
    np.testing.assert_array_equal(printed.grad_narrowed(X),
                                  ad.grad(narrowed)(X))
    chosen = ((X > 0) & (X < 1)) | OBSERVED
    np.testing.assert_allclose(ad.jacobian(printed.grad_narrowed)(X),
                               np.diag(np.where(chosen, 6 * X, -np.sin(X))),
                               rtol=1e-15)


# was the mask store bug: d[MASK] = v, as a gradient through x[MASK]
# prints it, was refused ('this index can pick an element twice')
def test_a_printed_gradient_that_fills_by_a_mask_is_read_back(tmp_path):
    printed = _pasted(ad.source(ad.grad(kept), X), tmp_path, "printed_kept")
    np.testing.assert_allclose(ad.jacobian(printed.grad_kept)(X),
                               ad.hessian(kept)(X), rtol=1e-15, atol=1e-15)


def a_mask_of_values(x):
    return np.sum(x[(x > 0) & (x < 1)] ** 2)


def bits_of_numbers(x):
    return (x > 0) & 3


def bits_of_arguments(x, n):
    return x ** 2 * (n | 1)


def a_caret_for_a_power(x):
    return x ^ 2


def inverted_number(x):
    return ~x * 2.0


def a_caret_through_a_list(x):
    parts = [x, 1.0]  # (array code at a float: a list)
    return parts[0] ^ 2


CONDITIONS = ("conditions (comparisons, boolean arrays, np.isfinite(x) and "
              "the like)")


def test_a_mask_computed_from_values_reads_through_it():
    # (a sum of the selection: tests/test_masked_reads.py) 2 x in (0, 1)
    np.testing.assert_array_equal(ad.grad(a_mask_of_values)(X),
                                  [0.6, 0.0, 0.0, 1.0])


def test_bitwise_operators_on_numbers_are_refused_with_the_fix():
    assert_refused_at(lambda: ad.grad(bits_of_numbers), bits_of_numbers, 1,
                      "& of numbers is a bitwise and, which has no "
                      f"derivative: & is supported between {CONDITIONS}, "
                      "as their logical and; compare the numbers first, "
                      "e.g. (x > 0) & (y > 0)")
    assert_refused_at(lambda: ad.grad(bits_of_arguments)(2.0, 3),
                      bits_of_arguments, 1,
                      "| of numbers is a bitwise or, which has no "
                      f"derivative: | is supported between {CONDITIONS}, "
                      "as their logical or; compare the numbers first, "
                      "e.g. (x > 0) | (y > 0)")
    assert_refused_at(lambda: ad.grad(a_caret_for_a_power)(2.0),
                      a_caret_for_a_power, 1,
                      "^ of numbers is a bitwise xor, not a power: write ** "
                      f"for a power (^ is supported between {CONDITIONS}, "
                      "as their logical xor)")
    # array code too, when the derivative is made: 2 is a number at any
    # arguments
    assert_refused_at(lambda: ad.grad(a_caret_through_a_list),
                      a_caret_through_a_list, 2,
                      "^ of numbers is a bitwise xor, not a power: write ** "
                      f"for a power (^ is supported between {CONDITIONS}, "
                      "as their logical xor)")
    assert_refused_at(lambda: ad.grad(inverted_number)(X),
                      inverted_number, 1,
                      "~ of a number is its bitwise not (-x - 1 of an "
                      "integer), which has no derivative: ~ is supported on "
                      f"{CONDITIONS}, as their logical not; write -x - 1 for "
                      "the integer")
