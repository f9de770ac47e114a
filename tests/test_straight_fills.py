"""Arrays filled item by item in code without loops: their derivatives
fill one array in place, as a person writes them, with no copy per item
(``_unfilled_reads.items_from_original`` and ``items_from_copies``,
``_made_arrays.copies_unneeded`` with the names of numbers,
``_made_arrays.sizes_written``), and stay right where a copy is needed:
a row kept in a name is a view of the array."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._fills_as_sets import fills_as_sets
from autodiff_ast._made_arrays import copies_unneeded, sizes_written
from autodiff_ast._unfilled_reads import (items_from_copies,
                                          items_from_original)
from helpers import numeric_gradient, numeric_jacobian, passed, same


def chain(a):
    y = np.zeros(4)
    y[0] = a
    for i in range(1, 4):
        y[i] = np.sin(y[i - 1]) * a
    return y


def oscillator(s, k):
    d = np.zeros(2)
    d[0] = s[1]
    d[1] = -k * s[0] - 0.5 * s[1]
    return d


def energy(s, k):
    d = oscillator(s, k)
    return np.sum(d ** 2) + d[0] * d[1]


S = np.array([0.3, -1.2])


# What chain's derivatives compute of y first: its items, in place.
CHAIN_FORWARD = '''
    y = np.zeros(4)
    y[0] = a
    y_0 = y[0]
    sin_y_0 = np.sin(y_0)
    y[1] = sin_y_0 * a
    y_2_1 = y[1]
    sin_y_2_1 = np.sin(y_2_1)
    y[2] = sin_y_2_1 * a
    y_3_2 = y[2]
'''


def test_jacobian_of_a_vector_filled_item_by_item_fills_one_tangent():
    assert ad.source(ad.jacobian(chain), 0.7).split('"""')[2] == \
        CHAIN_FORWARD + '''\
    y_tangent = np.zeros(4)
    y_tangent[0] = 1
    y_tangent[1] = sin_y_0 + a * y_tangent[0] * np.cos(y_0)
    y_tangent[2] = sin_y_2_1 + a * y_tangent[1] * np.cos(y_2_1)
    y_tangent[3] = a * y_tangent[2] * np.cos(y_3_2) + np.sin(y_3_2)
    return y_tangent
'''
    for a in (0.7, -1.3):
        np.testing.assert_allclose(
            ad.jacobian(chain)(a), numeric_jacobian(chain, (a,), 0),
            rtol=1e-8)
    second = ad.hessian(lambda a: np.sum(chain(a) ** 2))
    fd = numeric_gradient(ad.grad(lambda a: np.sum(chain(a) ** 2)), (0.7,),
                          0)
    assert second(0.7) == pytest.approx(fd, rel=1e-7)


def test_gradient_through_items_filled_reads_the_adjoint_it_has():
    # The adjoint of row 1 was taken away in a copy read only at row 0.
    assert ad.source(ad.grad(energy), S, 2.0).split('"""')[2] == '''
    s_1 = s[1]
    d = np.zeros(2)
    d[0] = s_1
    d[1] = -(k * s[0]) - 0.5 * s_1
    d_d_2_2 = 2 * d
    d_d_2_2[1] += d[0]
    d_d_2_2[0] += d[1]
    d_d_values = d_d_2_2[1]
    d_d_1 = -d_d_values
    d_s = np.zeros_like(s)
    d_s[0] = d_d_1 * k
    d_s[1] = d_d_2_2[0] - 0.5 * d_d_values
    return d_s
'''
    np.testing.assert_allclose(ad.grad(energy)(S, 2.0),
                               numeric_gradient(energy, (S, 2.0), 0),
                               rtol=1e-8)
    np.testing.assert_allclose(ad.hessian(energy)(S, 2.0),
                               numeric_jacobian(ad.grad(energy), (S, 2.0), 0),
                               rtol=1e-7, atol=1e-9)


def test_a_jacobian_makes_its_rows_of_a_size_that_is_a_number():
    source = ad.source(ad.jacobian(oscillator), S, 2.0)
    assert "    d_tangent = np.zeros((2, s.shape[0]))\n" in source
    np.testing.assert_allclose(ad.jacobian(oscillator)(S, 2.0),
                               [[0, 1], [-2.0, -0.5]], rtol=1e-15)


def rows_kept(x):
    y = np.zeros((3, 2))
    y[0] = x[:2]
    r = y[0]  # a view of y: z is y's copy, and may not be y
    z = y.copy()
    z[0] = 2 * x[1:]
    z[1] = r * x[:2]
    return np.sum(z * z) + np.sum(r)


def row_read_after(x):
    y = np.zeros(3)
    y[0] = x[0]
    y[1] = y[0] * x[1]
    z = y * 1.0
    z[0] = np.sin(y[1])
    return z[0] * y[0] + z[1] * z[2] + np.sum(z * x[2])


def number_then_fill(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    t = y[0]
    y[0] = t * t
    y[1] = t + y[0]
    return np.sum(y ** 2) * t


@pytest.mark.parametrize("f", [rows_kept, row_read_after, number_then_fill])
def test_items_filled_in_turn_are_differentiated_right(f):
    x = np.array([0.4, -0.9, 1.7])
    np.testing.assert_allclose(ad.grad(f)(x), numeric_gradient(f, (x,), 0),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ad.hessian(f)(x),
                               numeric_jacobian(ad.grad(f), (x,), 0),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.jacobian(ad.grad(f))(x),
                               ad.hessian(f)(x), rtol=1e-12)


def test_a_copy_read_at_rows_it_was_not_filled_at_reads_the_original():
    assert passed("""
        b = np.copy(a)
        b[1] = 0
        c = b[0] + b[2, 1]
    """, items_from_original) == same("""
        b = np.copy(a)
        b[1] = 0
        c = a[0] + a[2, 1]
    """)
    kept = """
        b = np.copy(a)
        b[1] = 0
        c = b[0] + b[1]
    """  # row 1 is the copy's own
    assert passed(kept, items_from_original) == same(kept)
    negative = """
        b = np.copy(a)
        b[1] = 0
        c = b[-1]
    """  # row -1 may be row 1
    assert passed(negative, items_from_original) == same(negative)
    changed = """
        b = np.copy(a)
        b[1] = 0
        a[0] = 3
        c = b[0]
    """
    assert passed(changed, items_from_original) == same(changed)
    whole = """
        b = np.copy(a)
        b[1] = 0
        c = b[0] + np.sum(b)
    """
    assert passed(whole, items_from_original) == same(whole)


def test_an_original_read_at_rows_its_copy_still_has_reads_the_copy():
    assert passed("""
        t = np.zeros(3)
        t[0] = 1
        u = np.copy(t)
        u[1] = 2 * t[0]
        v = np.copy(u)
        v[2] = u[1] + t[0]
    """, items_from_copies, copies_unneeded) == same("""
        t = np.zeros(3)
        t[0] = 1
        u = t
        u[1] = 2 * u[0]
        v = u
        v[2] = v[1] + v[0]
    """)
    # t's row 1 after u's fill of row 1 is not u's
    kept = """
        t = np.zeros(3)
        u = np.copy(t)
        u[1] = 2
        w = t[1]
    """
    assert passed(kept, items_from_copies, copies_unneeded) == same(kept)
    # a fill of an array the code did not make may be of a view of t
    foreign = """
        t = np.zeros(3)
        u = np.copy(t)
        x[0] = 1
        w = t[1]
    """
    assert passed(foreign, items_from_copies) == same(foreign)


def test_a_row_kept_in_a_name_keeps_its_array_copied():
    code = """
        y = np.zeros((3, 2))
        y[0] = x
        r = y[0]
        y_2 = np.copy(y)
        y_2[0] = 2 * x
        z = r * y_2[0]
    """
    assert passed(code, copies_unneeded) == same(code)
    assert passed(code, lambda body: copies_unneeded(body, frozenset(
        {"r"}))) == same(code.replace("np.copy(y)", "y"))


def test_sizes_of_an_array_made_of_numbers_are_the_numbers():
    assert passed("""
        d = np.zeros((np.zeros(2).shape[0], n))
        e = np.ones((2, 3)).shape
        f = np.full(4, v).shape[0]
        g = np.zeros(m).shape[0]
        h = np.zeros(2).shape[1]
    """, sizes_written) == same("""
        d = np.zeros((2, n))
        e = (2, 3)
        g = m
        h = (2,)[1]
    """)
    assert passed("""
        zeros = np.zeros((n + 1, x.shape[0]))
        Y = np.zeros((zeros.shape[0], x.shape[0], 2))
        Z = np.empty(zeros.shape[1])
    """, sizes_written) == same("""
        zeros = np.zeros((n + 1, x.shape[0]))
        Y = np.zeros((n + 1, x.shape[0], 2))
        Z = np.empty(x.shape[0])
    """)
    rebound = """
        zeros = np.zeros((n + 1, 2))
        for i in range(3):
            n = n + i
        Y = np.zeros((zeros.shape[0], 2))
    """  # (n + 1 read after the loop is another size)
    assert passed(rebound, sizes_written) == same(rebound)


def total(a):
    return np.sum(chain(a))


def test_a_seed_the_same_for_every_item_is_read_as_it_is():
    # The adjoint of np.sum is 1 for each item: the fills' values take 1,
    # not an item of np.broadcast_to(1, (y.shape[0],)); an adjoint taken
    # away, `g[2] -= g_old[2]`, is `g[2] = 0`.
    assert ad.source(ad.grad(total), 0.7).split('"""')[2] == \
        CHAIN_FORWARD + '''\
    d_y_3 = np.zeros_like(y)
    d_y_3[2] = a * np.cos(y_3_2)
    d_y_3[3] = -1
    d_y_3_3 = d_y_3 + 1
    d_y_values_1 = d_y_3_3[2]
    d_y_2_4 = np.copy(d_y_3_3)
    d_y_2_4[2] = 0
    d_y_2_4[1] += a * d_y_values_1 * np.cos(y_2_1)
    d_y_values = d_y_2_4[1]
    d_y_2_4[1] = 0
    d_y_2_4[0] += a * d_y_values * np.cos(y_0)
    return (sin_y_0 * d_y_values + sin_y_2_1 * d_y_values_1 + d_y_2_4[0]
            + np.sin(y_3_2))
'''
    for a in (0.7, -2.1):
        assert ad.grad(total)(a) == pytest.approx(
            numeric_gradient(total, (a,), 0), rel=1e-8)
        assert ad.hessian(total)(a) == pytest.approx(
            numeric_gradient(ad.grad(total), (a,), 0), rel=1e-7)


def test_a_fill_that_subtracts_the_old_item_sets_it():
    assert passed("""
        v = a[2]
        b = np.copy(a)
        b[2] -= v
        c = v * b
    """, fills_as_sets) == same("""
        v = a[2]
        b = np.copy(a)
        b[2] = 0
        c = v * b
    """)
    assert passed("""
        v = a[2] - w
        b = np.copy(a)
        b[2] -= v
        c = b
    """, fills_as_sets) == same("""
        b = np.copy(a)
        b[2] = w
        c = b
    """)
    changed = """
        v = a[2]
        a[2] = 7
        b = np.copy(a)
        b[2] -= v
        c = v * b
    """  # (b[2] is 7 - v)
    assert passed(changed, fills_as_sets) == same(changed)


def test_a_copy_of_a_view_of_an_array_filled_keeps_its_own_items():
    for code in ("""
        a = X[0]
        c = np.copy(a)
        X[0, 1] = 5
        w = c[1]
    """, """
        a = X[0]
        c = np.copy(a)
        c[0] = 2
        X[0, 1] = 5
        w = a[1]
    """):  # (X made here: a fill of it changes a, not c)
        code = "X = np.zeros((2, 2))\n" + textwrap.dedent(code)
        assert passed(code, items_from_original, items_from_copies) == \
            same(code)


def view_then_fill(x):
    X = np.zeros((2, 2))
    X[0] = x[:2]
    a = X[0]
    c = a.copy()
    X[0, 1] = x[2]
    return np.sum(c * x[1:]) + X[0, 1] * c[1]


def test_a_copy_of_a_view_is_differentiated_right():
    x = np.array([0.3, 1.1, -0.7])
    assert view_then_fill(x) == pytest.approx(
        ad.value_and_grad(view_then_fill)(x)[0], rel=1e-15)
    np.testing.assert_allclose(
        ad.grad(view_then_fill)(x),
        numeric_gradient(view_then_fill, (x,), 0), rtol=1e-7, atol=1e-10)


def test_a_size_found_to_be_a_number_is_read_as_the_number():
    assert passed("""
        zeros = np.zeros((n, 2))
        m = zeros.shape[1]
        h = np.empty((k, n, m))
    """, sizes_written) == same("""
        zeros = np.zeros((n, 2))
        h = np.empty((k, n, 2))
    """)
