"""Loops the third sweep of user code found refused or wrong (issue 10,
sweep 3): a sum over the rows of a matrix, names first bound in a
``while`` loop's body, two fills of one array in an iteration, an item
read in each iteration and a ``while`` condition that does array work.
(An array filled in a loop over ``range(i + 1, n)`` inside another is
tested in test_user_code_physics.py.) Derivatives are checked against
closed forms, second derivatives too where the loop has them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad

def squared_row_sums(X):
    return sum(np.sum(row) ** 2 for row in X)


def test_a_sum_over_the_rows_of_a_matrix_and_its_hessian():
    X = np.array([[0.3, -0.7, 1.2], [0.6, -1.4, 2.4]])
    np.testing.assert_allclose(ad.grad(squared_row_sums)(X),
                               [[1.6] * 3, [3.2] * 3], rtol=1e-14)
    # each row's elements couple through their sum alone
    np.testing.assert_allclose(
        ad.hessian(squared_row_sums)(X).reshape(6, 6),
        np.kron(np.eye(2), 2 * np.ones((3, 3))), rtol=1e-14)


def last_height_above_ground(h, v):
    while h >= 0.0:
        last = h
        v = v - 0.1
        h = h + 0.1 * v
    return last


def test_a_name_first_bound_in_a_while_loop_is_nan_if_it_never_ran():
    value, grads = ad.value_and_grad(last_height_above_ground, (0, 1))(
        0.5, 0.3)
    h, v, steps = 0.5, 0.3, 0
    while h >= 0.0:
        last, v, steps = h, v - 0.1, steps + 1
        h = h + 0.1 * v
    # (the loop's additions in another order: the last bits differ)
    assert value == pytest.approx(last, rel=1e-14)
    assert grads == pytest.approx((1.0, 0.1 * (steps - 1)), rel=1e-14)
    # Python leaves it unbound there (UnboundLocalError): not a number
    value, _ = ad.value_and_grad(last_height_above_ground)(-1.0, 0.3)
    assert math.isnan(value)



def pushed_apart(x, n_steps):
    F = np.zeros_like(x)
    for i in range(n_steps):
        F[i] += x[i]
        F[i + 1] -= x[i]
    return np.sum(F ** 2)


def test_two_fills_of_an_array_in_a_loop_fill_it_in_place():
    x = np.array([[0.5, 1.0], [2.0, -1.0], [0.3, 0.2]])
    F = np.zeros_like(x)
    F[:2] += x[:2]
    F[1:] -= x[:2]
    np.testing.assert_allclose(ad.grad(pushed_apart)(x, 2),
                               2 * (F - np.roll(F, -1, axis=0)) * [
                                   [1], [1], [0]], rtol=1e-15)
    # no copy of F per iteration (which makes n iterations O(n^2))
    source = ad.source(ad.grad(pushed_apart), x, 2)
    assert "np.copy" not in source


def cycled(x, n_steps):
    total = 0.0
    for i in range(n_steps):
        total = total + x[i % len(x)] ** 3
    return total


def test_an_item_read_in_each_iteration_gets_its_gradient_added_in_place():
    x = np.array([0.5, -1.0, 2.0])
    # 7 steps read x[0] three times, x[1] and x[2] twice each
    np.testing.assert_allclose(ad.grad(cycled)(x, 7),
                               3 * x ** 2 * [3, 2, 2], rtol=1e-15)
    # added into the gradient at the index, not into zeros like x made
    # in each iteration (a pass over x per iteration)
    source = ad.source(ad.grad(cycled), x, 7)
    assert "np.zeros_like" not in source and "] += " in source


def quadratic(x):
    return np.sum((x - 1.0) ** 2)


def halved_until_below(x, limit):
    t = 1.0
    while quadratic(t * x) > limit:
        t = 0.5 * t
    return quadratic(t * x)


def test_a_while_condition_with_array_work_runs_in_each_iteration():
    # (it was refused: sweep 3, bug 10)
    x = np.array([3.0, 4.0])
    # |t x - 1|^2 at t = 1, 0.5, 0.25: 13, 1.25, 0.0625
    assert halved_until_below(x, 1.0) == 0.0625
    t = 0.25
    np.testing.assert_allclose(ad.grad(halved_until_below)(x, 1.0),
                               2 * t * (t * x - 1.0), rtol=1e-15)
    np.testing.assert_allclose(ad.hessian(halved_until_below)(x, 1.0),
                               2 * t ** 2 * np.eye(2), rtol=1e-15)
