"""Python as NumPy users write it around their mathematics (sweep 6):
updates of slices and rows in place (``y[1:3] += ...`` on a copy or on
zeros), ``break`` and ``continue`` in a loop over an array, an early
``return`` inside a ``for``, ``zip`` of a list with an array, list and
array indices, ndarray methods, builtins, ``float()`` and ``.item()`` of an
item, fills of an empty array, and lists built by ``append``.

Each case is checked against closed forms or fourth-order central
differences of the user's own function, and ``value_and_grad``'s value
against the function's own value. Known bugs are strict xfails whose
reason names their entry in the sweep's list ("sweep6 bug N").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad
from test_sweep5 import assert_matches_differences, assert_tree_close

X4 = np.array([1.0, 2.0, 3.0, 4.0])
V5 = np.array([0.3, -1.2, 2.2, 0.7, -0.4])
A23 = np.arange(1.0, 7.0).reshape(2, 3)


def assert_value_and_differences(f, args, argnums=0):
    """value_and_grad's value is f's and its gradient the differences'."""
    value, _ = ad.value_and_grad(f, argnums=argnums)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    assert_matches_differences(f, args, argnums)


# -- slices and rows updated in place -----------------------------------------------

def slice_times_item(x):
    y = x.copy()
    y[:2] *= x[3]
    return np.sum(y ** 2)


def slice_over_item(x):
    y = x.copy()
    y[1:3] /= x[0]
    return np.sum(y ** 2)


def slice_plus_item_of_a_difference(x):
    y = x - 0.0
    y[1:3] += x[0]
    return np.sum(y ** 2)


def column_plus_item(A):
    B = A.copy()
    B[:, 0] += A[0, 1]
    return np.sum(B ** 2)


def row_centred(A):
    B = A.copy()
    B[0] -= B[0].mean()
    return np.sum(B ** 2)


def columns_centred(A):
    B = A.copy()
    B -= B.mean(axis=0)
    return np.sum(B ** 3)


def slice_plus_slice(x):
    y = np.array(x)
    y[2:] += x[:2] * x[3]
    return np.sum(y ** 2)


def items_by_index_array_plus_item(x):
    y = x.copy()
    y[[0, 2]] += x[1]
    return np.sum(y ** 2)


def every_item_plus_item(x):
    y = x.copy()
    y[:] += x[0]
    return np.sum(y ** 2)


def slice_plus_bare_item(x):
    y = x.copy()
    y[1:3] += x[3]
    return np.sum(y ** 2)


def test_slices_and_rows_updated_in_place():
    for f in (slice_times_item, slice_over_item,
              slice_plus_item_of_a_difference, slice_plus_slice,
              items_by_index_array_plus_item, every_item_plus_item,
              slice_plus_bare_item):
        assert_value_and_differences(f, (X4,))
    for f in (column_plus_item, row_centred, columns_centred):
        assert_value_and_differences(f, (A23,))


def zeros_slice_plus_twice(s):
    y = np.zeros(3)
    y[0:2] += 2 * s
    return np.sum(y)


def copy_slice_plus_twice_an_item(x):
    y = x.copy()
    y[1:3] += 2 * x[3]
    return np.sum(y ** 2)


def copy_slice_minus_an_item(x):
    y = x.copy()
    y[1:] -= x[0]
    return np.sum(y ** 2)


def zeros_row_plus_sine(x):
    y = np.zeros((2, 3))
    y[0] += np.sin(x[0])
    return np.sum(y)


# was sweep6 bug 2: a computed number added to a slice lost its gradient
def test_a_computed_number_added_to_a_slice():
    assert ad.grad(zeros_slice_plus_twice)(1.0) == 4.0
    assert_value_and_differences(copy_slice_plus_twice_an_item, (X4,))
    assert_value_and_differences(copy_slice_minus_an_item, (X4,))
    assert_tree_close(ad.grad(zeros_row_plus_sine)(X4),
                      np.array([3 * np.cos(1.0), 0.0, 0.0, 0.0]))


# -- control flow -------------------------------------------------------------------

def squares_of_the_large(x):
    total = 0.0
    for v in x:
        if v < 1.5:
            continue
        total += v ** 2
    return total


def squares_in_a_window(x):
    total = 0.0
    for v in x:
        if v < 1.5:
            continue
        if v > 3.5:
            break
        total += v ** 2
    return total


def fixed_point_with_an_early_return(x):
    for i in range(10):
        x = x - 0.1 * np.cos(x)
        if np.abs(np.cos(x)) < 1e-3:
            return x
    return x


def test_break_continue_and_an_early_return_on_values():
    assert_tree_close(ad.grad(squares_of_the_large)(X4),
                      np.array([0.0, 4.0, 6.0, 8.0]))
    assert_value_and_differences(fixed_point_with_an_early_return, (0.5,))


# was sweep6 bug 3: a loop with both continue and break on values crashed
def test_continue_and_break_in_one_loop():
    assert_tree_close(ad.grad(squares_in_a_window)(X4),
                      np.array([0.0, 4.0, 6.0, 0.0]))


def weighted_by_enumerate(ws):
    total = 0.0
    for i, w in enumerate(ws):
        total = total + (i + 1) * w ** 2
    return total


def products_of_zipped_arrays(x, y):
    total = 0.0
    for a, b in zip(x, y):
        total += a * b ** 2
    return total


def items_from_both_ends(x):
    s = 0.0
    i = 0
    while i < len(x):
        s += x[i] * x[len(x) - 1 - i]
        i += 1
    return s


def test_loops_by_enumerate_zip_and_while():
    assert_tree_close(ad.grad(weighted_by_enumerate)(V5),
                      2 * np.arange(1, 6) * V5)
    assert_tree_close(ad.grad(products_of_zipped_arrays, (0, 1))(X4, 2 * X4),
                      (4 * X4 ** 2, 4 * X4 ** 2))
    assert_tree_close(ad.grad(items_from_both_ends)(V5), 2 * V5[::-1])


def weighted_by_a_zipped_list(x):
    total = 0.0
    for w, v in zip([1.0, 2.0, 3.0], x):
        total += w * v ** 2
    return total


def weighted_by_a_zipped_tuple(x):
    return sum(w * v ** 2 for w, v in zip((1.0, 2.0, 3.0), x))


def named_by_zip(x):
    d = dict(zip(("a", "b", "c"), x))
    return d["a"] * d["b"] + d["c"]


# was sweep6 bug 10: zip of a list or tuple with an array was refused
def test_zip_of_a_list_with_an_array():
    x = X4[:3]
    assert_tree_close(ad.grad(weighted_by_a_zipped_list)(x),
                      np.array([2.0, 8.0, 18.0]))
    assert_tree_close(ad.grad(weighted_by_a_zipped_tuple)(x),
                      np.array([2.0, 8.0, 18.0]))
    assert_tree_close(ad.grad(named_by_zip)(x), np.array([2.0, 1.0, 1.0]))


def squares_of_the_positive_by_a_loop(x):
    total = 0.0
    for v in x:
        if v > 0:
            total += v ** 2
    return total


def squares_of_the_positive_by_a_generator(x):
    return sum(v ** 2 for v in x if v > 0)


def squares_of_the_positive_items(x):
    return sum(x[i] ** 2 for i in range(len(x)) if x[i] > 0)


def squares_at_even_places(x):
    return sum(v ** 2 for i, v in enumerate(x) if i % 2 == 0)


def squares_or_zero_by_a_generator(x):
    return sum(v ** 2 if v > 0 else 0.0 for v in x)


def test_a_condition_on_values_in_a_loop_and_a_generator_expression():
    want = np.array([0.6, 0.0, 4.4, 1.4, 0.0])
    assert_tree_close(ad.grad(squares_of_the_positive_by_a_loop)(V5), want)
    assert_tree_close(ad.grad(squares_or_zero_by_a_generator)(V5), want)


# was sweep6 bug 16: a generator filtered by its items' values was refused
def test_generators_filtered_by_their_items():
    want = np.array([0.6, 0.0, 4.4, 1.4, 0.0])
    assert_tree_close(ad.grad(squares_of_the_positive_by_a_generator)(V5),
                      want)
    assert_tree_close(ad.grad(squares_of_the_positive_items)(V5), want)
    assert_tree_close(ad.grad(squares_at_even_places)(V5),
                      np.array([0.6, 0.0, 4.4, 0.0, -0.8]))


def sum_of_a_list_of_items(x):
    return sum(list(x))


def discounted_from_the_end(x):
    return sum(v * i for i, v in enumerate(reversed(x)))


def sum_of_sines_by_map(x):
    return sum(map(np.sin, x))


def exact_sum(x):
    return math.fsum([x[0], x[1] ** 2])


# was sweep6 bug 17: list(x), reversed(x), map(f, x), math.fsum were refused
def test_list_reversed_map_and_fsum():
    assert_tree_close(ad.grad(sum_of_a_list_of_items)(V5), np.ones(5))
    assert_tree_close(ad.grad(discounted_from_the_end)(V5),
                      np.arange(4.0, -1.0, -1.0))
    assert_tree_close(ad.grad(sum_of_sines_by_map)(V5), np.cos(V5))
    assert_tree_close(ad.grad(exact_sum)(V5),
                      np.array([1.0, -2.4, 0.0, 0.0, 0.0]))


def scaled(a, b=2.0):
    return a * b


def scaled_by_keywords_unpacked(x, y):
    kw = {'b': y}
    return scaled(x, **kw)


def scaled_by_constant_keywords_unpacked(x):
    kw = {'b': 10.0}
    return scaled(x, **kw)


def scaled_by_options_unpacked(x, opts):
    return scaled(x, **opts)


def l1_norm_by_unpacked_options(x):
    return np.linalg.norm(x, **{'ord': 1})


def column_means_by_unpacked_options(x):
    return np.sum(np.mean(x.reshape(2, 2), **{'axis': 0}) ** 2)


# was sweep6 bug 20: keywords unpacked into a call were dropped
def test_keywords_unpacked_into_a_call():
    assert ad.value_and_grad(scaled_by_keywords_unpacked, (0, 1))(
        3.0, 5.0) == (15.0, (5.0, 3.0))
    assert ad.value_and_grad(scaled_by_constant_keywords_unpacked)(
        3.0) == (30.0, 10.0)
    assert ad.grad(scaled_by_options_unpacked)(3.0, {'b': 10.0}) == 10.0
    assert_tree_close(ad.grad(l1_norm_by_unpacked_options)(
        np.array([1.0, -2.0])), np.array([1.0, -1.0]))
    assert_tree_close(ad.grad(column_means_by_unpacked_options)(X4),
                      np.array([2.0, 3.0, 2.0, 3.0]))


def sum_of_functions_zipped(x):
    fs = [np.sin, np.cos, np.tanh]
    return sum(f(v) for f, v in zip(fs, x))


# was sweep6 bug 21: zip of a list of functions with an array was refused
def test_a_list_of_functions_zipped_with_an_array():
    x = V5[:3]
    assert_tree_close(ad.grad(sum_of_functions_zipped)(x), np.array(
        [np.cos(x[0]), -np.sin(x[1]), 1 - np.tanh(x[2]) ** 2]))


def weighted_from_one(x):
    return sum(i * v for i, v in enumerate(x, start=1))


def weighted_differences(x):
    out = 0.0
    for i, (a, b) in enumerate(zip(x[:-1], x[1:])):
        out += (i + 1) * (b - a) ** 2
    return out


# was sweep6 bug 28: enumerate(x, start=1), enumerate(zip(a, b)) were refused
def test_enumerate_from_one_and_of_a_zip():
    assert_tree_close(ad.grad(weighted_from_one)(V5), np.arange(1.0, 6.0))
    d = np.diff(V5)
    weights = np.arange(1.0, 5.0)
    want = np.zeros(5)
    want[1:] += 2 * weights * d
    want[:-1] -= 2 * weights * d
    assert_tree_close(ad.grad(weighted_differences)(V5), want)


# -- indices, methods and builtins --------------------------------------------------

def masked_by_a_list(x):
    return np.sum(x[[True, False, True, False, True]] ** 2)


def rows_and_elements_by_lists_of_bools(x):
    return (np.sum(x[[True, False], 1:] ** 2)
            + np.sum(x[[[True, False, True], [False, False, True]]]))


def test_a_list_of_bools_indexes_as_a_mask():
    # (sweep6 bug 9) NumPy reads a list of bools as a mask
    assert_tree_close(ad.grad(masked_by_a_list)(V5),
                      np.array([0.6, 0.0, 4.4, 0.0, -0.8]))
    assert_tree_close(ad.grad(rows_and_elements_by_lists_of_bools)(A23),
                      np.array([[1.0, 4.0, 7.0], [0.0, 0.0, 1.0]]))
    # of another length, NumPy's error, as the function itself raises
    with pytest.raises(IndexError, match="boolean index did not match"):
        ad.grad(masked_by_a_list)(np.ones(6))


def ndarray_methods(x):
    return (x.max() + x.min() + x.prod() + x.cumsum().sum() + x.std()
            + x.var() + x.clip(-0.2, 0.2).sum())


def slices_with_steps(x):
    return (np.sum(x[::-1] * x) + np.sum(x[::2]) + np.sum(x[1:-1] ** 2)
            + np.sum(x[..., None] * x[None]))


def items_as_python_numbers(x):
    return float(x[0]) * x[1] + x[2].item() * 3 + np.float64(x[3]) ** 2


def conversions(x):
    return (np.sum(np.asarray(x) ** 2) + np.sum(x.astype(np.float64))
            + np.sum(np.array(x, dtype=float) ** 3))


def python_builtins(x):
    return (pow(x[0], 2) + abs(x[1]) + max(x[2], x[3]) + min(x[0], 0.1)
            + sum([x[4], x[3]], 1.0))


def top_two(x):
    return np.sum(np.sort(x)[::-1][:2])


def math_of_two(a, b):
    return (math.atan2(a, b) + math.hypot(a, b) + math.erf(a)
            + math.gamma(b + 3) + math.lgamma(b + 3) + math.expm1(a)
            + math.log1p(b ** 2) + math.log(a ** 2, 2))


def test_methods_builtins_and_conversions_match_differences():
    for f in (ndarray_methods, slices_with_steps, items_as_python_numbers,
              conversions, python_builtins, top_two):
        assert_value_and_differences(f, (V5,))
    assert_value_and_differences(math_of_two, (0.3, 0.8), (0, 1))


# -- arrays filled and lists appended -----------------------------------------------

def filled_in_a_loop(x):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i] * (i + 1)
    return np.dot(out, out)


def empty_filled_by_rows(x):
    out = np.empty((2, 2))
    out[0, :] = x[:2]
    out[1] = x[2:4] ** 2
    return np.linalg.det(out)


def appended_then_averaged(x):
    lst = []
    for i in range(3):
        lst.append(x[i] ** 2)
    return np.mean(np.array(lst))


def squares_of_a_comprehension(x):
    return np.sum(np.array([x[i] * i for i in range(3)]))


def powers_by_a_generator(x):
    return sum(x ** i for i in range(4))


def flattened_then_filled(x):
    # (y * x, as the sweep had it, broadcasts (6,) with (2, 3): NumPy
    # raises; the gradient below is that of y * x's elements in order)
    y = x.flatten()
    y[0] = 0.0
    return np.sum(y * x.reshape(-1))


def cast_then_added_to(x):
    y = x.astype(np.float64)
    y[1] += x[0] ** 2
    return np.sum(y ** 2)


def test_a_flattened_copy_filled():
    # (sweep6 bug 18) x.flatten() and x.astype(t) are copies
    assert_tree_close(ad.grad(flattened_then_filled)(A23),
                      np.array([[0.0, 4.0, 6.0], [8.0, 10.0, 12.0]]))
    # x0^2 + (x1 + x0^2)^2 + x2^2 at (1, 2, 3)
    assert_tree_close(ad.grad(cast_then_added_to)(np.array([1.0, 2.0, 3.0])),
                      np.array([14.0, 6.0, 6.0]))


def powers_gathered_in_a_tuple(x):
    t = ()
    for i in range(3):
        t = t + (x ** i,)
    return sum(t)


def pair_concatenated_to_a_tuple(x):
    t = (1.0,)
    t = t + (x, x ** 2)
    return sum(t)


def powers_gathered_in_a_list(x):
    l = []
    for i in range(3):
        l = l + [x ** i]
    return sum(l)


def test_a_list_concatenated_in_a_loop():
    assert ad.grad(powers_gathered_in_a_list)(2.0) == 5.0


# was sweep6 bug 23: tuples concatenated by + were refused in scalar code
def test_tuples_concatenated():
    assert ad.grad(powers_gathered_in_a_tuple)(2.0) == 5.0
    assert ad.grad(pair_concatenated_to_a_tuple)(2.0) == 5.0


def squares_in_a_list_of_three_zeros(x):
    out = [0.0] * 3
    for i in range(3):
        out[i] = x[i] ** 2
    return sum(out)


def squares_in_a_list_of_n_zeros(x):
    n = len(x)
    out = [0.0] * n
    for i in range(n):
        out[i] = x[i] ** 2
    return sum(out)


def test_a_list_of_n_zeros_filled_item_by_item():
    assert_tree_close(ad.grad(squares_in_a_list_of_n_zeros)(V5), 2 * V5)


# was sweep6 bug 25: [0.0] * 3 filled item by item was refused
def test_a_list_of_three_zeros_filled_item_by_item():
    assert_tree_close(ad.grad(squares_in_a_list_of_three_zeros)(V5),
                      np.array([0.6, -2.4, 4.4, 0.0, 0.0]))


def doubled_by_an_array_of_a_repeated_list(x):
    return np.sum(x * np.array([2.0] * len(x)))


def dotted_with_a_repeated_list(x):
    return np.dot(x, [1.0] * 5)


# was sweep6 bug 26: a list made by [c] * n used as an array was refused
def test_a_repeated_list_used_as_an_array():
    assert_tree_close(ad.grad(doubled_by_an_array_of_a_repeated_list)(V5),
                      np.full(5, 2.0))
    assert_tree_close(ad.grad(dotted_with_a_repeated_list)(V5), np.ones(5))


def test_arrays_filled_and_lists_appended():
    for f in (filled_in_a_loop, empty_filled_by_rows, appended_then_averaged,
              squares_of_a_comprehension):
        assert_value_and_differences(f, (V5,))
    assert ad.grad(powers_by_a_generator)(1.5) == pytest.approx(
        1 + 2 * 1.5 + 3 * 1.5 ** 2, rel=1e-12)
