"""Statements of generated code that nothing reads are taken away, and only
those: ``without_dead`` on code as the writers make it, and on what the
gradient of an array filled row by row prints."""

from __future__ import annotations

import ast
import textwrap

import numpy as np

import autodiff_ast as ad
from autodiff_ast._dead_code import without_dead
from helpers import numeric_gradient


def kept_of(code: str, kept: set[str] = frozenset()) -> str:
    body = ast.parse(textwrap.dedent(code)).body
    return ast.unparse(ast.Module(without_dead(body, set(kept)), []))


def test_a_value_nothing_reads_goes_and_then_what_only_it_read():
    assert kept_of("""
        a = np.sin(x)
        b = a * 2
        c = np.cos(x)
        return c
    """) == "c = np.cos(x)\nreturn c"


def test_a_loop_that_fills_a_history_nothing_reads_goes():
    assert kept_of("""
        h = np.empty((n, 3))
        u = np.copy(u0)
        for i in range(n):
            u_1 = np.copy(u)
            u_1[i] += 1.0
            h[i] = u
            u = u_1
        return np.sum(g)
    """) == "return np.sum(g)"


def test_a_history_read_after_the_loop_stays_and_only_unread_lines_go():
    code = kept_of("""
        h = np.empty((n, 3))
        u = np.copy(u0)
        for i in range(n):
            unused = u * 3
            h[i] = u
            u = u + 1
        return h
    """)
    assert code == ("h = np.empty((n, 3))\nu = np.copy(u0)\n"
                    "for i in range(n):\n    h[i] = u\n    u = u + 1\n"
                    "return h")


def test_a_fill_of_an_array_another_name_may_hold_stays():
    # g is bound to what the caller passed: filling it changes that array
    code = """
        g = grad
        g[0] += 1.0
        return x
    """
    assert kept_of(code) == "g = grad\ng[0] += 1.0\nreturn x"
    code = """
        d = np.zeros(3)
        e = d
        d[0] = 1.0
        return e
    """
    assert kept_of(code) == textwrap.dedent(code).strip()


def test_a_value_the_next_iteration_reads_stays():
    code = """
        for i in range(n):
            s = t + 1
            t = s * 2
    """
    assert kept_of(code, {"t"}) == textwrap.dedent(code).strip()
    # what only feeds itself goes
    assert kept_of("""
        for i in range(n):
            s = s + 1
            t = x
    """, {"t"}) == "for i in range(n):\n    t = x"


def test_a_later_loops_counter_is_not_a_read_of_this_loops():
    assert kept_of("""
        for i in range(n):
            v = i * 2
        for i in range(m):
            w = w + i
        return w
    """) == "for i in range(m):\n    w = w + i\nreturn w"


def test_statements_with_effects_stay():
    code = """
        if x > 0:
            y = 1
        values.append(x)
        while k < 3:
            k = k + 1
        return 0
    """
    assert kept_of(code) == textwrap.dedent(code).strip()


def rows_from_the_row_before(p0, xs):
    P = np.zeros((xs.shape[0], 2))
    P[0] = p0
    for t in range(1, xs.shape[0]):
        P[t] = 0.5 * P[t - 1] + xs[t]
    return np.sum(P ** 2)


def test_a_history_filled_row_by_row_is_filled_in_place_without_one():
    # The backward loop reads no row of P's history (the fills are linear
    # in P), so there is none, and the forward loop fills P in place:
    # O(n) per row, where a copy per row and an n x n history were O(n^2).
    p0, xs = np.array([0.5, -1.2]), np.ones((5, 2))
    np.testing.assert_allclose(
        ad.grad(rows_from_the_row_before)(p0, xs),
        numeric_gradient(rows_from_the_row_before, (p0, xs), 0), rtol=1e-7)
    source = ad.source(ad.grad(rows_from_the_row_before), p0, xs)
    assert "history" not in source and "np.zeros_like" not in source
    # (P is the function's own array, read by nothing after the loop: the
    # loop fills it, no copy)
    assert "np.copy" not in source
    assert "P[t] = 0.5 * P_part + xs_part_2" in source


def test_a_list_history_nothing_reads_goes_with_the_value_it_kept():
    assert kept_of("""
        s = 0.0
        t = 0.0
        s_history = [0.0] * n
        t_history = [0.0] * n
        for i in range(n):
            s_history[i] = s
            t_history[i] = t
            t = t * x + s
            s = np.sin(s + x)
        g = 0.0
        for i in reversed(range(n)):
            g = g + s_history[i]
        return g
    """) == textwrap.dedent("""\
        s = 0.0
        s_history = [0.0] * n
        for i in range(n):
            s_history[i] = s
            s = np.sin(s + x)
        g = 0.0
        for i in reversed(range(n)):
            g = g + s_history[i]
        return g""")


def damped_sum(x, y):
    s = 0.0
    for _ in range(40):
        s = s + np.sin(x * s + y) * 0.5
    return s


def test_a_hessian_of_a_loop_computes_no_second_order_tangent_it_drops():
    # (forward over the gradient's loop computed a tangent of a tangent,
    # and its history, that the backward loop never read)
    hessian = ad.hessian(damped_sum, argnums=(0, 1))
    source = ad.source(hessian, 0.3, 0.2)
    assert "tangent_tangent" not in source
    gradient = ad.grad(damped_sum, argnums=(0, 1))
    rows = [numeric_gradient(lambda x, y, i=i: gradient(x, y)[i],
                             (0.3, 0.2), j)
            for i in range(2) for j in range(2)]
    np.testing.assert_allclose(np.array(hessian(0.3, 0.2)).ravel(), rows,
                               rtol=1e-6)
