"""Options beside the differentiated arguments: enum members, tuples and
lists of ints, functions, and keywords a partial bound. Each is static, as
JAX's are outside jit: the code is made for its value, and a call with
another value never reuses code made for the first."""

from __future__ import annotations

import enum
import functools
import math

import numpy as np
import pytest

import autodiff_ast as ad
from test_partial_defaults import quadratic, summed


class Mode(enum.Enum):
    SQUARE = "square"
    CUBE = "cube"


class Power(enum.IntEnum):
    TWO = 2
    THREE = 3


def powered(x, mode=Mode.SQUARE):
    if mode == Mode.SQUARE:
        return x ** 2
    return x ** 3


def powered_unless(x, mode):
    if mode != Mode.CUBE:
        return np.sum(x ** 2)
    return np.sum(x ** 3)


def test_an_enum_member_picks_the_code_in_scalar_and_array_code():
    assert ad.grad(powered)(2.0) == 4.0
    assert ad.grad(powered)(2.0, Mode.CUBE) == 12.0
    assert ad.grad(powered)(2.0, mode=Mode.SQUARE) == 4.0
    x = np.array([1.0, -2.0])
    g = ad.grad(powered_unless)
    np.testing.assert_array_equal(g(x, Mode.CUBE), 3 * x ** 2)
    np.testing.assert_array_equal(g(x, Mode.SQUARE), 2 * x)
    assert "mode: Mode.SQUARE." in ad.source(g, x, Mode.SQUARE)
    assert "mode: Mode.CUBE." in ad.source(g, x, Mode.CUBE)


def test_an_int_enum_computes_as_its_number():
    def scaled(x, p):
        return x ** 2 * p

    assert ad.grad(scaled)(1.5, Power.TWO) == 6.0
    assert ad.grad(scaled)(1.5, Power.THREE) == 9.0


def compared_with_a_number(x):
    if x == Mode.SQUARE:
        return x ** 2
    return x


def test_a_number_compared_with_an_enum_member_is_refused():
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"^x is compared with an enum member, Mode.SQUARE: a number is "
            r"not an option; pass the option itself, bind it before "
            r"differentiating, functools.partial\(compared_with_a_number, "
            r"x=Mode.SQUARE\), or read it from a global \(.*"
            r"test_options.py:\d+\)")):
        ad.grad(compared_with_a_number)(1.0)


def window_sums(x, shape, rows):
    blocks = x.reshape(shape)
    return np.sum(blocks[rows[0]:rows[1]] ** 2) + np.sum(np.ones(shape)
                                                          * blocks)


def test_tuples_of_ints_make_code_for_each_value():
    x = np.arange(1.0, 7.0)
    g = ad.grad(window_sums)
    for shape, rows in [((2, 3), (0, 1)), ((3, 2), (1, 3)), ((2, 3), (0, 1)),
                        ((6, 1), [2, 4])]:
        blocks = x.reshape(shape)
        want = np.ones_like(blocks)
        want[rows[0]:rows[1]] += 2 * blocks[rows[0]:rows[1]]
        np.testing.assert_array_equal(g(x, shape, rows), want.ravel())
    # A tuple built afresh for each call finds the code made for its value.
    assert ad.source(g, x, (3, 2), (1, 3)) == ad.source(
        g, x, tuple([3, 2]), (1, 3))
    assert ad.source(g, x, (3, 2), (1, 3)) != ad.source(g, x, (2, 3),
                                                        (1, 3))
    docstring = " ".join(ad.source(g, x, (3, 2), (1, 3)).split())
    assert "shape: (3, 2), rows: (1, 3)." in docstring


def gathered(x, idx):
    return np.sum(x[idx] ** 2)


def test_a_nested_list_of_ints_indexes():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ad.grad(gathered)(x, [[0, 2], [2, 2]]),
                                  [2.0, 0.0, 18.0])
    np.testing.assert_array_equal(ad.grad(gathered)(x, [1]), [0.0, 4.0, 0.0])


def squashed_total(x, fn):
    return fn(np.sum(x ** 2))


def test_a_function_option_is_held_by_the_code_made_for_it():
    x = np.array([0.5, -1.0])
    g = ad.grad(squashed_total)
    s = np.sum(x ** 2)
    np.testing.assert_allclose(g(x, np.tanh), (1 - np.tanh(s) ** 2) * 2 * x)
    np.testing.assert_allclose(g(x, np.sin), np.cos(s) * 2 * x)
    # Lambdas made afresh for each call (whose ids Python may reuse once
    # one is freed) each get their own code.
    for k in (1.0, 2.0, 3.0, 1.0):
        np.testing.assert_allclose(g(x, lambda t, k=k: k * t ** 2),
                                   2 * k * s * 2 * x)
    assert "fn: sin." in ad.source(g, x, np.sin)


def test_a_partial_takes_its_keywords_again_as_python_does():
    bound = functools.partial(quadratic, b=5.0)
    assert ad.grad(bound)(1.0, b=7.0) == 9.0
    assert ad.grad(bound)(1.0, 2.0, b=7.0) == 11.0
    assert ad.value_and_grad(bound)(1.0, b=-1.0) == (0.0, 1.0)
    doubled = functools.partial(summed, a=2.0)
    x = np.array([1.0, -1.0])
    np.testing.assert_array_equal(ad.grad(doubled)(x, b=0.0), 4 * x)
    np.testing.assert_array_equal(ad.grad(doubled)(x, a=0.5), x + 2.0)


def linear(x, a, b):
    return a * x + b * x ** 2


def test_a_partial_that_leaves_a_keyword_without_a_default_is_refused():
    with pytest.raises(ad.NoSourceError, match=(
            r"it binds a by keyword, so b, after it, can only be passed by "
            r"keyword and has no default, which a derivative cannot take as "
            r"a trailing argument: bind b too, or bind the arguments before "
            r"it by position$")):
        ad.grad(functools.partial(linear, a=3.0))(1.0, b=2.0)
    assert ad.grad(functools.partial(linear, a=3.0, b=1.0))(1.0) == 5.0
    assert ad.grad(functools.partial(linear, 1.0), argnums=1)(3.0, 2.0) == 1.0


def scaled_activation(x, fn=math.tanh):
    return 2.0 * fn(x)


def test_a_function_option_of_scalar_code():
    assert ad.grad(scaled_activation)(0.5) == pytest.approx(
        2 * (1 - math.tanh(0.5) ** 2), rel=1e-15)
    assert ad.grad(scaled_activation)(0.5, math.sin) == pytest.approx(
        2 * math.cos(0.5), rel=1e-15)
    assert ad.grad(scaled_activation)(0.5, fn=lambda t: t ** 3) == 1.5


class Quadratic:
    def __init__(self, coefficients):
        self.coefficients = coefficients

    def __call__(self, x):
        return self.coefficients[0] * x ** 2 + self.coefficients[1] * x


def test_a_list_of_numbers_held_by_an_object_is_read_again_when_changed():
    q = Quadratic([1.0, 2.0])
    g = ad.grad(q)
    assert g(3.0) == 8.0
    q.coefficients[0] = 2.0  # in place
    assert g(3.0) == 14.0
    q.coefficients = [0.5, -1.0]  # bound anew
    assert g(3.0) == 2.0
    assert ad.grad(Quadratic([1.0, 2.0]))(3.0) == 8.0


def powered_if_in(x, mode):
    if mode in (Mode.SQUARE, "square"):
        return x ** 2
    return x ** 3


def test_an_option_tested_with_in():
    assert ad.grad(powered_if_in)(2.0, Mode.SQUARE) == 4.0
    assert ad.grad(powered_if_in)(2.0, "square") == 4.0
    assert ad.grad(powered_if_in)(2.0, Mode.CUBE) == 12.0
    assert ad.grad(powered_if_in)(2.0, "cube") == 12.0


def masked_squares(x, mask):
    return np.sum(x[mask] ** 2) + np.sum(x[~mask] ** 3)


def test_a_mask_passed_in_makes_code_for_its_values():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    g = ad.grad(masked_squares)
    for mask in ([True, False, True, False], [False, False, False, True],
                 [True, True, True, True], [True, False, True, False]):
        mask = np.array(mask)
        np.testing.assert_array_equal(g(x, mask),
                                      np.where(mask, 2 * x, 3 * x ** 2))


def masked_in_a_dict(x, data):
    return np.sum((x[data["keep"]] - data["target"]) ** 2)


def test_a_mask_in_a_pytree_argument():
    x = np.array([1.0, 2.0, 3.0])
    g = ad.grad(masked_in_a_dict)
    for keep, target in (([True, False, True], np.array([0.0, 1.0])),
                         ([False, True, False], np.array([1.0]))):
        data = {"keep": np.array(keep), "target": target}
        want = np.zeros(3)
        want[data["keep"]] = 2 * (x[data["keep"]] - target)
        np.testing.assert_array_equal(g(x, data), want)


def test_a_mask_used_elementwise_is_read_when_the_code_runs():
    x = np.array([1.0, 2.0, 3.0])

    def kept(x, mask):
        return np.sum(np.where(mask, x ** 2, 0.0))

    g = ad.grad(kept)
    for mask in ([True, False, True], [False, True, True]):
        np.testing.assert_array_equal(g(x, np.array(mask)),
                                      np.where(mask, 2 * x, 0.0))
    assert ad.source(g, x, np.array([True, True, False])) == ad.source(
        g, x, np.array([False, False, True]))


def square_with_unused_options(x, fn=np.tanh, mode=Mode.CUBE, p=Power.TWO):
    return x ** 2


def test_options_scalar_code_cannot_write_as_defaults():
    # Scalar code writes its defaults into its signature; these are
    # handed in when called (array code's way) instead.
    g = ad.grad(square_with_unused_options)
    assert g(3.0) == 6.0
    assert g(3.0, np.sin, Mode.SQUARE, Power.THREE) == 6.0
