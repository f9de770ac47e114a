"""The last items of a list a kept loop appends to (ys[-1], ys[-2],
ys[len(ys) - 1]) are what the previous iterations appended: values the
loop carries. Other reads of such a list in the loop are refused at
their line, since they would read the list as it was before the loop."""

import numpy as np
import pytest

import autodiff_ast as ad


def series(a, n):
    ys = [1.0]
    for _ in range(n):
        ys.append(a * ys[-1])
    return ys[-1]


def two_back(a, n):
    ys = [0.0, 1.0]
    for _ in range(n):
        ys.append(ys[-1] + a * ys[len(ys) - 2])
    return ys[-1]


def two_back_closed(a, n):
    ys = [0.0, 1.0]
    for _ in range(n):
        ys.append(ys[-1] + a * ys[-2])
    return ys[-1]


def by_index(a, n):
    ys = [1.0]
    for i in range(n):
        ys.append(a * ys[i])
    return sum(ys)


def one_item_for_two(a, n):
    ys = [1.0]
    for _ in range(n):
        ys.append(ys[-1] + ys[-2])
    return ys[-1]


def test_the_last_item_is_the_one_appended_before():
    value, slope = ad.value_and_grad(series)(0.7, 6)
    assert value == pytest.approx(0.7 ** 6, rel=1e-14)
    assert slope == pytest.approx(6 * 0.7 ** 5, rel=1e-14)


def test_two_items_back():
    # y_k = y_{k-1} + a y_{k-2}: central differences of the recurrence
    for n in (0, 1, 7):
        h = 1e-6
        expected = (two_back_closed(0.3 + h, n)
                    - two_back_closed(0.3 - h, n)) / (2 * h)
        assert ad.grad(two_back)(0.3, n) == pytest.approx(
            expected, rel=1e-8, abs=1e-12)


def test_the_gradient_carries_the_last_item():
    # (what is read after the loop is the list made of what it stored)
    assert """
    ys_last = 1
    tangent_ys_last = 0.0
    tangent_ys = np.empty(n)
    for i in range(n):
        t = a * tangent_ys_last + ys_last
        tangent_ys[i] = t
        ys_last = a * ys_last
        tangent_ys_last = t
""" in ad.source(ad.grad(series), 0.7, 6)


def test_other_reads_of_the_list_are_refused_at_their_line():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(by_index)(0.7, 4)
    assert str(info.value) == (
        "the loop reads ys, a list it appends to, other than by its last "
        "items (ys[-1]): carry the values it needs in names of their own, "
        "or fill an array of zeros at the loop's variable (ys[i] = ...) "
        f"({__file__}:36)")


def test_a_list_too_short_for_the_items_read_is_refused():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(one_item_for_two)(0.7, 4)
    assert str(info.value).startswith(
        "the loop reads ys[-2] of a list that has 1 items before it: give "
        "ys 2 items before the loop (")
