"""``a or b`` and ``a and b`` used as values, as Python has them.

``a or b`` is ``a if a else b`` and ``a and b`` is ``b if a else a``, for
any operands (numbers, None, tuples, conditions), and the operand after
one that decides is never read. ``k = k or 2.0`` at k = 0.0 or None is
2.0 (it once was the condition's truth, 1). Where the truth of a
differentiated number decides (``x or 2.0``) the value is piecewise, as
``if x:`` is; the truth of a number computed from the arguments is refused
as ``if 2 * x:`` is.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, central_difference, numeric_gradient

SCALE = 0.0


def default_or(x, k=0.0):
    k = k or 2.0
    return k * x * x


def none_or(x, k=None):
    k = k or 2.0
    return k * x * x


def if_k(x, k=0.0):
    if k:
        return k * x * x
    return 2.0 * x * x


def array_default_or(x, k=0.0):
    k = k or 2.0
    return np.sum(k * x ** 2)


def array_none_or(x, k=None):
    k = k or 2.0
    return np.sum(k * x ** 2)


def array_if_k(x, k=0.0):
    if k:
        c = k
    else:
        c = 2.0
    return np.sum(c * x ** 2)


def global_or(x):
    k = SCALE or 2.0
    return k * x * x


def differentiated_or(x):
    return (x or 2.0) * x


def differentiated_if(x):
    if x:
        return x * x
    return 2.0 * x


def condition_and_number(x, y):
    return (x > 0 and y) * x


def condition_or_number(x, y):
    return (x > 0 or y) * x


def number_and(x, k=1.0):
    return (k and x * x) + x


def first_option(x, options=()):
    scale = options and options[0] or 1.5
    return scale * x ** 3


def doubled_or(x):
    return (2 * x or 1.0) * x


def array_or(x):
    return np.sum(x or 2.0)


@pytest.mark.parametrize("fn", [default_or, none_or, if_k])
@pytest.mark.parametrize("args", [(3.0,), (3.0, 0.0), (3.0, 5.0),
                                  (-1.5, -0.5)])
def test_a_default_replaced_by_or_is_the_python_value(fn, args):
    if fn is none_or and args[1:] == (0.0,):
        args = (3.0, None)
    expected = central_difference(fn, args, 0)
    assert ad.grad(fn)(*args) == pytest.approx(expected, rel=1e-7)
    if len(args) == 2 and args[1]:
        both = ad.grad(fn, argnums=(0, 1))(*args)
        assert both == pytest.approx(
            (expected, central_difference(fn, args, 1)), rel=1e-7)
        # and only the second: k is differentiated, x a constant
        assert ad.grad(fn, argnums=1)(*args) == pytest.approx(both[1])


def test_or_of_a_zero_default_takes_the_other_value():
    # 2.0 * x * x at x = 3: the closed form 4 * x, not 1 * 2 * x.
    assert ad.grad(default_or)(3.0) == 12.0
    assert ad.grad(none_or)(3.0) == 12.0
    assert ad.value_and_grad(default_or, argnums=1)(3.0, 5.0) == (45.0, 9.0)


@pytest.mark.parametrize("fn", [array_default_or, array_none_or,
                                array_if_k])
@pytest.mark.parametrize("k", [(), (3.0,)])
def test_or_in_array_code(fn, k):
    x = np.array([1.0, -2.0, 0.5])
    expected = numeric_gradient(fn, (x, *k), 0)
    np.testing.assert_allclose(ad.grad(fn)(x, *k), expected, rtol=1e-8)
    if k:
        value, slope = ad.value_and_grad(fn, argnums=1)(x, *k)
        assert (value, slope) == pytest.approx((3.0 * 5.25, 5.25))


def test_if_k_in_array_code_keeps_k_a_number():
    x = np.array([1.0, 2.0])
    # the branch on k once replaced k by True inside it as well
    assert ad.source(ad.grad(array_if_k), x, 3.0).endswith(
        "    if k != 0:\n        return 2 * k * x\n    return 4 * x\n")


def test_a_global_decides_or_when_called():
    global SCALE
    grad = ad.grad(global_or)
    try:
        assert grad(3.0) == 12.0
        SCALE = 5.0
        assert grad(3.0) == 30.0
    finally:
        SCALE = 0.0


@pytest.mark.parametrize("x", [3.0, -1.25, 0.0])
def test_or_of_a_differentiated_number_is_piecewise_like_if(x):
    # (x or 2.0) * x is x * x where x != 0 and 2 * x at 0, as `if x:` has it
    expected = 2.0 if x == 0 else 2 * x
    assert ad.grad(differentiated_or)(x) == expected
    assert ad.grad(differentiated_if)(x) == expected
    if x:
        assert expected == pytest.approx(
            central_difference(differentiated_or, (x,), 0))


@pytest.mark.parametrize("x, y", [(3.0, 2.0), (-3.0, 2.0), (3.0, -0.5),
                                  (-1.0, 0.0)])
@pytest.mark.parametrize("fn", [condition_and_number, condition_or_number])
def test_conditions_among_numbers_count_as_one_and_zero(fn, x, y):
    # x > 0 and y is y where x > 0 and False (0) elsewhere; x > 0 or y is
    # True (1) where x > 0 and y elsewhere
    both = ad.grad(fn, argnums=(0, 1))(x, y)
    assert both == pytest.approx((central_difference(fn, (x, y), 0),
                                  central_difference(fn, (x, y), 1)))


@pytest.mark.parametrize("k, expected", [(1.0, 7.0), (0.0, 1.0)])
def test_and_of_a_number_takes_the_last_value_or_the_falsy_one(k, expected):
    assert ad.grad(number_and)(3.0, k) == expected


@pytest.mark.parametrize("options, expected", [
    ((), 1.5 * 3 * 4.0),
    ((2.0,), 2.0 * 3 * 4.0),
    ((0.0,), 1.5 * 3 * 4.0)])
def test_the_operand_after_a_deciding_one_is_not_read(options, expected):
    # options[0] of an empty tuple is never evaluated, as in Python
    assert ad.grad(first_option)(2.0, options) == pytest.approx(expected)


def scaled_by_first_option(x, options):
    if options[0] != 0:
        return options[0] * x ** 2
    return x


def test_an_item_tested_by_a_branch_is_read_before_it():
    # (it was read inside the branch, after the test: UnboundLocalError)
    gradient = ad.grad(scaled_by_first_option)
    assert gradient(2.0, (3.0,)) == 12.0
    assert gradient(2.0, (0.0,)) == 1.0
    assert ad.source(gradient, 2.0, (3.0,)).split('"""')[-1] == (
        "\n    options_0 = options[0]"
        "\n    if options_0 != 0:"
        "\n        return 2 * options_0 * x"
        "\n    return 1.0\n")


def test_the_truth_of_a_computed_number_is_refused_with_its_fix():
    assert_refused_at(
        lambda: ad.grad(doubled_or)(1.0), doubled_or, 1,
        "the truth value of 2 * x, a number computed from the arguments, "
        "is not a condition here: compare it explicitly, `2 * x != 0`")


def refused_branch(fn, written: str) -> str:
    """The refusal of ``fn``'s Python ``written`` on its first line when
    its argument x is an array of two."""
    line = fn.__code__.co_firstlineno
    shown = f"{__file__.rpartition('tests/')[1]}" \
            f"{__file__.rpartition('tests/')[2]}"
    return (f"{fn.__name__} ({shown}:{line}) branches on its arguments with "
            f"a Python `{written}` ({__file__}:{line + 1}), which takes one "
            "number at a time, but argument x is an array of shape (2,). "
            "Write the condition with np.where(condition, a, b) to "
            "differentiate it elementwise, or call the derivative on each "
            "element.")


def test_or_of_an_array_is_refused_as_python_refuses_it():
    # (the function takes numbers: the array is what does not fit)
    assert ad.grad(array_or)(np.array(0.0)) == 0.0
    with pytest.raises(ad.InputError) as caught:
        ad.grad(array_or)(np.array([1.0, 2.0]))
    assert str(caught.value) == refused_branch(array_or, "or")


def absolute_sum(x):
    return np.sum(x if x > 0 else -x)


def test_a_conditional_expression_on_an_array_is_refused_as_if_is():
    # Python raises for `x if x > 0 else -x` at an array of two; this was
    # taken elementwise, the derivative of a function that cannot run
    with pytest.raises(ad.InputError) as caught:
        ad.grad(absolute_sum)(np.array([1.0, -2.0]))
    assert str(caught.value) == refused_branch(absolute_sum, "if")
    assert ad.grad(absolute_sum)(np.array(-2.0)) == -1.0


WEIGHTS = np.array([1.0, 2.0])


def cube(t):
    return t ** 3


def activated(x, activation=None):
    activation = activation or np.tanh
    return np.sum(activation(x * WEIGHTS))


def weights_or_one(x):
    w = WEIGHTS or 1.0
    return np.sum(w * x)


def test_or_chooses_a_function_as_python_does():
    x = np.array([0.5, -0.3])
    np.testing.assert_allclose(ad.grad(activated)(x),
                               (1 - np.tanh(x * WEIGHTS) ** 2) * WEIGHTS,
                               rtol=1e-14)
    np.testing.assert_allclose(ad.grad(activated)(x, cube),
                               3 * (x * WEIGHTS) ** 2 * WEIGHTS, rtol=1e-14)


def test_or_of_a_global_array_is_refused_as_python_refuses_it():
    assert_refused_at(
        lambda: ad.grad(weights_or_one)(np.array([0.5, -0.3])),
        weights_or_one, 1,
        "the truth value of an array is ambiguous: select elementwise "
        "with np.where(condition, a, b)")
