"""An integrator filling its trajectory row by row: the gradient reads each
row from the array the loop ends with, where no later step fills that row
again (``_final_rows``), and keeps a per-step history where one does."""

from __future__ import annotations

import ast
import textwrap
import tracemalloc

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._fills_as_sets import fills_as_sets
from autodiff_ast._unfilled_reads import reads_through_fills
from helpers import numeric_gradient, numeric_jacobian

Y0 = np.array([1.0, 0.5, -0.3])


def euler(y0, h):
    n = 30
    Y = np.zeros((n + 1, y0.shape[0]))
    Y[0] = y0
    for i in range(n):
        y = Y[i]
        Y[i + 1] = y + h * (np.sin(y) - y)
    return np.sum(Y ** 2)


def rk2(y0, h):
    n = 20
    Y = np.zeros((n + 1, 2))
    Y[0] = y0
    for i in range(n):
        y = Y[i]
        k1 = np.array([y[1], -np.sin(y[0])])
        z = y + 0.5 * h * k1
        k2 = np.array([z[1], -np.sin(z[0])])
        Y[i + 1] = y + h * (k1 + k2) / 2
    return np.sum(Y[:, 0] ** 2) + Y[-1, 1]


def by_component(y0, h):
    n = 12
    Y = np.zeros((n + 1, 2))
    Y[0] = y0
    for i in range(n):
        Y[i + 1, 0] = Y[i, 0] + h * Y[i, 1]
        Y[i + 1, 1] = Y[i, 1] - h * np.sin(Y[i, 0])
    return np.sum(Y[:, 0] ** 2)


def two_steps_back(y0, h):
    n = 12
    Y = np.zeros((n + 2, y0.shape[0]))
    Y[0] = y0
    Y[1] = y0 * 0.9
    for i in range(n):
        Y[i + 2] = Y[i + 1] + h * np.sin(Y[i])
    return np.sum(Y ** 2)


def steps_given(y0, h, n):
    Y = np.zeros((n + 1, y0.shape[0]))
    Y[0] = y0
    for i in range(n):
        y = Y[i]
        Y[i + 1] = y + h * np.tanh(y)
    return np.sum(Y[-1] ** 2) + np.sum(Y)


def two_steps_given(y0, h, n):
    Y = np.zeros((n + 2, y0.shape[0]))
    Y[0] = y0
    Y[1] = y0 * 0.9
    for i in range(n):
        Y[i + 2] = Y[i + 1] + h * np.sin(Y[i])
    return np.sum(Y ** 2)


# Rows filled again after a step read them: the history is needed.
def row_filled_again(y0, h):
    n = 12
    Y = np.zeros((n + 1, y0.shape[0]))
    Y[0] = y0
    for i in range(n):
        y = Y[i]
        Y[i + 1] = y + h * np.sin(y)
        Y[i] = Y[i] * 0.5 + Y[i + 1]
    return np.sum(Y ** 2)


def reads_the_last_row(y0, h):
    n = 12
    Y = np.zeros((n + 1, y0.shape[0]))
    Y[0] = y0
    for i in range(n):
        y = Y[i]
        Y[i + 1] = y + h * np.cos(y) * Y[-1]
    return np.sum(Y ** 2)


def reads_row_minus_one(y0, h):
    n = 10
    Y = np.zeros((n, y0.shape[0])) + 0.5
    Y[0] = y0
    for i in range(n):
        Y[i] = np.sin(Y[i - 1]) + h * Y[i]
    return np.sum(Y ** 3)


ROWS_FROM_THE_END = [(euler, (Y0, 0.1)), (rk2, (Y0[:2], 0.1)),
                     (by_component, (Y0[:2], 0.1)),
                     (two_steps_back, (Y0, 0.1)),
                     (steps_given, (Y0, 0.1, 9))]
HISTORY_KEPT = [(row_filled_again, (Y0, 0.1)),
                (reads_the_last_row, (Y0, 0.1)),
                (reads_row_minus_one, (Y0, 0.3))]


@pytest.mark.parametrize("f, args", ROWS_FROM_THE_END + HISTORY_KEPT,
                         ids=lambda p: getattr(p, "__name__", ""))
def test_gradients_and_hessians_match_central_differences(f, args):
    for argnum in (0, 1):
        np.testing.assert_allclose(ad.grad(f, argnum)(*args),
                                   numeric_gradient(f, args, argnum),
                                   rtol=1e-7, atol=1e-9)
    hessian = ad.hessian(f, (0, 1))(*args)
    for argnum in (0, 1):
        np.testing.assert_allclose(
            hessian[0][argnum],
            numeric_jacobian(ad.grad(f, 0), args, argnum),
            rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f, args", ROWS_FROM_THE_END,
                         ids=lambda p: getattr(p, "__name__", ""))
def test_a_trajectory_gradient_keeps_no_history(f, args):
    assert "history" not in ad.source(ad.grad(f), *args)
    # (a Hessian runs the gradient's loops with tangents beside)
    assert "history" not in ad.source(ad.hessian(f), *args)


@pytest.mark.parametrize("integrated", [steps_given, two_steps_given])
def test_a_trajectory_gradient_takes_memory_of_the_trajectory_only(
        integrated):
    # n steps of d: the trajectory is n d floats; a history of it per step
    # was n^2 d (48 MB here, for 48 kB), and so was a copy of the
    # gradient's array per step where a row of it is read after its fill
    steps, y0 = 2000, np.linspace(-1.0, 1.0, 3)
    gradient = ad.grad(integrated)
    gradient(y0, 0.01, steps)
    tracemalloc.start()
    gradient(y0, 0.01, steps)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * (steps + 1) * y0.size * 8


@pytest.mark.parametrize("f, args", HISTORY_KEPT,
                         ids=lambda p: getattr(p, "__name__", ""))
def test_a_row_filled_after_it_is_read_keeps_its_history(f, args):
    assert "history" in ad.source(ad.grad(f), *args)


def test_the_euler_gradient_reads_rows_of_the_trajectory():
    # The forward loop is the user's, filling Y itself; the backward one
    # reads each row of Y, takes the adjoint of the row Y[i + 1] was made
    # from and adds it to row i.
    assert ad.source(ad.grad(euler), Y0, 0.1).split('"""')[2] == '''
    Y = np.zeros((31, y0.shape[0]))
    Y[0] = y0
    for i in range(30):
        Y_part = Y[i]
        index_2 = i + 1
        Y[index_2] = Y_part + h * (np.sin(Y_part) - Y_part)
    grad_Y_2 = 2 * Y
    for i_1 in reversed(range(30)):
        Y_part_2 = Y[i_1]
        index_1_1 = i_1 + 1
        d_Y_values_1_1 = grad_Y_2[index_1_1]
        d_Y_part_2 = d_Y_values_1_1 * (h * (np.cos(Y_part_2) - 1) + 1)
        grad_Y_2[index_1_1] = 0
        grad_Y_2[i_1] += d_Y_part_2
    return grad_Y_2[0]
'''


def as_sets(code: str) -> str:
    body = ast.parse(textwrap.dedent(code)).body
    return ast.unparse(ast.Module(fills_as_sets(body), []))


def test_a_fill_adding_new_minus_old_is_the_assignment():
    assert as_sets("""
        old = Y[k]
        new = y - old + h * f
        Y[k] += new
    """) == "Y[k] = y + h * f"
    assert as_sets("""
        g_k = G[k]
        minus = -g_k
        other = 2 * g_k
        G[k] += minus
        G[j] += other
    """) == "g_k = G[k]\nother = 2 * g_k\nG[k] = 0\nG[j] += other"
    assert as_sets("Y[k, 0] += v - Y[k, 0]") == "Y[k, 0] = v"


def test_a_fill_stays_an_addition_where_the_item_may_have_changed():
    for code in ("""
        old = Y[k]
        Y[j] += w
        Y[k] += v - old
    """, """
        old = Y[k]
        k = k + 1
        Y[k] += v - old
    """, """
        old = Y[j]
        Y[k] += v - old
    """, """
        old = Z[k]
        Y[k] += v - old
    """, """
        old = Y[k]
        Y[k] += v + old
    """):
        assert as_sets(code) == ast.unparse(ast.parse(textwrap.dedent(code)))


def test_the_argument_is_not_filled_in_place():
    y0 = Y0.copy()
    ad.grad(euler)(y0, 0.1)
    ad.hessian(euler)(y0, 0.1)
    np.testing.assert_array_equal(y0, Y0)


def test_a_state_stepped_by_component_is_stepped_as_the_user_wrote_it():
    source = ad.source(ad.grad(by_component), Y0[:2], 0.1)
    assert source.split('"""')[2].split("    d_Y")[0] == '''
    Y = np.zeros((13, 2))
    Y[0] = y0
    for i in range(12):
        Y_part = Y[i, 0]
        Y_part_1 = Y[i, 1]
        index_2 = i + 1
        Y[index_2, 0] = Y_part + Y_part_1 * h
        Y_1_part_4 = Y[i, 1]
        Y_1_part_1_2 = Y[i, 0]
        Y[index_2, 1] = Y_1_part_4 - h * np.sin(Y_1_part_1_2)
'''


def through(code: str) -> str:
    body = ast.parse(textwrap.dedent(code)).body
    return ast.unparse(ast.Module(reads_through_fills(body), []))


def test_an_item_a_fill_did_not_touch_is_read_from_what_was_copied():
    assert through("""
        for i in range(n):
            c = np.copy(a)
            k = i + 1
            c[k, 0] += v
            x = c[i, 1]
            z = np.zeros_like(c)
    """) == textwrap.dedent("""\
        for i in range(n):
            c = np.copy(a)
            k = i + 1
            c[k, 0] += v
            x = a[i, 1]
            z = np.zeros_like(a)""")


def test_an_item_a_fill_may_have_touched_is_read_from_the_copy():
    for code in ("""
        for i in range(n):
            c = np.copy(a)
            c[i + 1] += v
            x = c[i + 1]
    """, """
        for i in range(n):
            c = np.copy(a)
            c[i + 1] += v
            x = c[i - 1]
    """, """
        for i in range(n):
            c = np.copy(a)
            c[j] += v
            x = c[i]
    """, """
        for i in range(n):
            c = np.copy(a)
            a[i] = 0.0
            x = c[i]
    """, """
        for i in range(n):
            c = np.copy(a)
            c[i + 1] += v
            x = c[i]
            a = c
    """, """
        for i in range(n):
            c = np.copy(a)
            c[i + 1] += v
            b[i] = 0.0
            x = c[i]
    """, """
        for x in xs:
            c = np.copy(a)
            c[1] += v
            y = c[0]
    """):
        assert through(code) == ast.unparse(ast.parse(textwrap.dedent(code)))
