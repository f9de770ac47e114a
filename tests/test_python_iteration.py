"""Python's iteration as numerical code writes it: a loop that both
``continue``s and ``break``s on its items' values, generators filtered by
their items, the builtins that wrap an iterable (``list``, ``reversed``,
``map``, ``enumerate``, ``zip``, ``math.fsum``) and tuples and lists
built by ``+`` and ``*``. Derivatives are checked against closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad
from test_sweep6_python import squares_in_a_window

X5 = np.array([1.0, 2.0, 3.0, 4.0, 2.5])


def squares_in_a_window_by_index(x):
    total = 0.0
    i = 0
    while i < x.shape[0]:
        i += 1
        if x[i - 1] < 1.5:
            continue
        elif x[i - 1] <= 3.5:
            total += x[i - 1] ** 2
        else:
            break
    return total


def squares_in_a_window_of_numbers(a, b, c):
    return squares_in_a_window((a, b, c))


@pytest.mark.parametrize("f", [squares_in_a_window,
                               squares_in_a_window_by_index])
def test_continue_then_break_on_values(f):
    # items 2.0 and 3.0 count; 1.0 is skipped, and 4.0 ends the loop
    # before 2.5 is reached
    np.testing.assert_allclose(ad.grad(f)(X5), [0.0, 4.0, 6.0, 0.0, 0.0])
    np.testing.assert_allclose(ad.hessian(f)(X5),
                               np.diag([0.0, 2.0, 2.0, 0.0, 0.0]))
    value, tangent = ad.jvp(f, (X5,), (np.ones(5),))
    assert (value, tangent) == (13.0, 10.0)


def test_the_loop_ends_on_the_break_alone():
    # the continue's path never breaks: the test the loop ends on is the
    # break's own, not "v >= 1.5 and v > 3.5"
    source = ad.source(ad.grad(squares_in_a_window), X5)
    assert "        if v > 3.5:\n            break\n" in source
    assert "1.5 and" not in source


def test_continue_then_break_on_numbers():
    # (of a, whose break ends the loop first: the code of b's and c's
    # derivatives repeats conditions its enclosing branches decided)
    grad = ad.grad(squares_in_a_window_of_numbers)
    assert (grad(1.0, 2.0, 3.0), grad(2.0, 4.0, 3.0)) == (0.0, 4.0)
    assert (grad(3.0, 0.5, 0.5), grad(4.0, 2.0, 3.0)) == (6.0, 0.0)


# -- lists appended to in a loop, returned ------------------------------------

def squares_appended(x):
    out = []
    for i in range(len(x)):
        out.append(x[i] ** 2)
    return out


def last_of_a_path(x0, n=3):
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] * 0.5 + x0 ** 2)
    return xs[-1], xs


def test_a_list_appended_to_in_a_loop_is_returned_as_a_list():
    x = np.array([1.0, 2.0, 3.0])
    jacobian = ad.jacobian(squares_appended)(x)
    assert isinstance(jacobian, list) and len(jacobian) == 3
    np.testing.assert_allclose(np.stack(jacobian), np.diag(2 * x))
    value, tangent = ad.jvp(squares_appended, (x,), (np.ones(3),))
    assert isinstance(value, list) and isinstance(tangent, list)
    assert (value, tangent) == ([1.0, 4.0, 9.0], [2.0, 4.0, 6.0])
    # the code is made for the list's length, and says so
    source = ad.source(ad.jacobian(squares_appended), x)
    assert "generated for x of shape (3,)" in source
    assert "return [jacobian_0, jacobian_1, jacobian_2]" in source


def test_a_path_appended_to_is_a_list_of_aux():
    # x1 = 1 + 4, x2 = 2.5 + 4, x3 = 3.25 + 4; dx3/dx0 = 0.125 + 4 * 1.75
    (value, path), grad = ad.value_and_grad(last_of_a_path,
                                            has_aux=True)(2.0)
    assert (value, path, grad) == (7.25, [2.0, 5.0, 6.5, 7.25], 7.125)
    # a path of another length is made again for it
    assert ad.value_and_grad(last_of_a_path, has_aux=True)(2.0, 1)[0] == (
        5.0, [2.0, 5.0])


# -- generators filtered by their items ---------------------------------------

def cubes_above_one(a, b):
    return sum(v ** 3 for v in (a, b, a * b) if v > 1)


def squares_of_the_large_in_a_list(x):
    return sum([v ** 2 for v in x if v > 1.0 if v < 4.0])


def test_a_sum_of_a_filtered_generator_of_numbers():
    grad = ad.grad(cubes_above_one, argnums=(0, 1))
    # a * b = 1 is not above 1: only a counts
    assert grad(2.0, 0.5) == (12.0, 0.0)
    # all three count: 3a^2 + 3(ab)^2 b, 3b^2 + 3(ab)^2 a
    assert grad(2.0, 1.5) == (12.0 + 27.0 * 1.5, 6.75 + 27.0 * 2.0)


def test_a_sum_of_a_list_filtered_twice():
    x = np.array([0.5, 2.0, 3.0, 4.0, 1.5])
    np.testing.assert_allclose(ad.grad(squares_of_the_large_in_a_list)(x),
                               [0.0, 4.0, 6.0, 0.0, 3.0])
    # a loop over the rows, as the user's: for any number of them
    np.testing.assert_allclose(ad.grad(squares_of_the_large_in_a_list)(
        np.array([3.5, -2.0, 1.25])), [7.0, 0.0, 2.5])


# -- builtins over an iterable ------------------------------------------------

def weighted_by_a_lambda_mapped(x, y):
    return sum(map(lambda a, b: a * b ** 2, (x, y), (y, x)))


def exact_sum_of_numbers(x, y):
    return math.fsum([x * y, x ** 2, 1.0])


def weighted_from_the_end_of_a_list(x, y):
    return sum(i * v for i, v in enumerate(reversed([x, y])))


def products_of_rows_as_a_tuple(A):
    first, second = tuple(A)
    return np.sum(first * np.sin(second))


def sum_of_qr_mapped(x):
    return sum(map(np.linalg.qr, x))


def sum_of_a_list_of_a_number(x):
    return sum(list(x))


def test_map_fsum_and_reversed_of_numbers():
    grad = ad.grad(weighted_by_a_lambda_mapped, argnums=(0, 1))
    assert grad(2.0, 3.0) == (3.0 ** 2 + 2 * 3.0 * 2.0,
                              2 * 2.0 * 3.0 + 2.0 ** 2)
    assert ad.grad(exact_sum_of_numbers, argnums=(0, 1))(
        2.0, 3.0) == (7.0, 2.0)
    # reversed: [y, x], so x has index 1 and y index 0
    assert ad.grad(weighted_from_the_end_of_a_list,
                   argnums=(0, 1))(2.0, 3.0) == (1.0, 0.0)


def test_the_rows_of_an_array_as_a_tuple():
    A = np.array([[0.5, -1.0, 2.0], [0.3, 1.2, -0.7]])
    want = np.stack([np.sin(A[1]), A[0] * np.cos(A[1])])
    np.testing.assert_allclose(ad.grad(products_of_rows_as_a_tuple)(A), want)


def test_map_and_list_refuse_what_python_refuses():
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"np\.linalg\.qr: 0-dimensional array given")):
        ad.grad(sum_of_qr_mapped)(np.ones(3))
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"list\(\) of a number: iteration over a 0-d array is not "
            r"possible; pass an array of one axis or more \(.*"
            r"test_python_iteration.py:\d+\)")):
        ad.grad(sum_of_a_list_of_a_number)(2.0)


# -- enumerate from a start, and of a zip -------------------------------------

def weighted_from_two_of_numbers(a, b):
    return sum(i * v ** 2 for i, v in enumerate((a, b), start=2))


def weighted_from_two_and_scaled_by_the_last(x):
    total = 0.0
    for i, v in enumerate(x, 2):
        total += v * i
    return total * i


def products_of_pairs_counted(x, y):
    out = 0.0
    for i, (a, b) in enumerate(zip(x, y), start=1):
        out += i * a * b
    return out


def test_enumerate_from_a_start():
    assert ad.grad(weighted_from_two_of_numbers, argnums=(0, 1))(
        1.5, -2.0) == (2 * 2 * 1.5, 3 * 2 * -2.0)
    # the counter after the loop is the last one's: 2 + 4 = 6
    x = np.array([0.3, -1.2, 2.2, 0.7, -0.4])
    np.testing.assert_allclose(
        ad.grad(weighted_from_two_and_scaled_by_the_last)(x),
        6.0 * np.arange(2.0, 7.0))


def test_enumerate_of_a_zip_from_a_start():
    x, y = np.array([0.3, -1.2, 2.2]), np.array([1.5, 0.5, -2.0, 4.0])
    gx, gy = ad.grad(products_of_pairs_counted, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.arange(1.0, 4.0) * y[:3])
    np.testing.assert_allclose(gy, np.append(np.arange(1.0, 4.0) * x, 0.0))


# -- tuples and lists built by + and * ----------------------------------------

def moments_gathered_in_a_tuple(x):
    t = ()
    for k in range(1, 4):
        t = t + (np.mean(x ** k),)
    return t[0] * t[1] + t[2]


def tuple_plus_list(x):
    return sum((x,) + [x ** 2])


def test_tuples_concatenated_of_arrays():
    x = np.array([0.5, -1.0, 2.0, 1.5])
    n = x.size
    want = (x ** 2).mean() / n + x.mean() * 2 * x / n + 3 * x ** 2 / n
    np.testing.assert_allclose(ad.grad(moments_gathered_in_a_tuple)(x), want)


def test_a_tuple_plus_a_list_is_refused_as_python_refuses_it():
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"a tuple \+ a list is not supported: concatenate two lists or "
            r"two tuples")):
        ad.grad(tuple_plus_list)(2.0)


def products_in_a_list_of_twos(a, b):
    out = [2.0] * 3
    same = out
    out[0] = a * b
    same[2] = a ** 2
    return out[0] + out[1] * b + same[2]


def weighted_by_a_repeated_list(x):
    n = len(x)
    return np.sum(np.array([0.5] * n) * x ** 2) + np.dot([1.0] * n, x)


def test_a_repeated_list_filled_item_by_item():
    # out is [a * b, 2.0, a ** 2]: one list under two names, as in Python
    assert ad.grad(products_in_a_list_of_twos, argnums=(0, 1))(
        2.0, 3.0) == (3.0 + 4.0, 2.0 + 2.0)


def test_a_repeated_list_read_as_an_array():
    x = np.array([0.5, -1.0, 2.0, 1.5])
    np.testing.assert_allclose(ad.grad(weighted_by_a_repeated_list)(x), x + 1)
    np.testing.assert_allclose(ad.grad(weighted_by_a_repeated_list)(x[:3]),
                               x[:3] + 1)


def weighted_by_a_comprehension_from_one(x):
    return np.sum(np.array([i * v ** 2 for i, v in enumerate(x, 1)]))


def products_by_a_comprehension_of_a_zip(x, y):
    return np.sum(np.array([a * b for a, b in zip(x, y[::-1])]))


def test_comprehensions_over_enumerate_and_zip_of_arrays():
    x, y = np.array([0.3, -1.2, 2.2]), np.array([1.5, 0.5, -2.0])
    np.testing.assert_allclose(
        ad.grad(weighted_by_a_comprehension_from_one)(x),
        2 * np.arange(1.0, 4.0) * x)
    gx, gy = ad.grad(products_by_a_comprehension_of_a_zip,
                     argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y[::-1])
    np.testing.assert_allclose(gy, x[::-1])
