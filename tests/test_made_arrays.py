"""The arrays generated code makes: as the user made them, no copy nothing
else reads (``_made_arrays``), fills written as the assignments they stand
for (``_fills_as_sets``); on code as the writer makes it, and on the
gradient of a wave equation stepped into its (T, N) history."""

from __future__ import annotations

import numpy as np

import autodiff_ast as ad
from autodiff_ast._fills_as_sets import fills_as_sets
from autodiff_ast._made_arrays import buffers_apart, copies_unneeded
from helpers import numeric_gradient, passed, same


def test_arrays_made_alike_are_made_as_the_user_made_them():
    assert passed("""
        zeros = np.zeros((n, 2), dtype=np.float32)
        x = np.zeros_like(zeros)
        v = np.ones_like(zeros)
    """, buffers_apart) == same("""
        x = np.zeros((n, 2), dtype=np.float32)
        v = np.ones((n, 2), dtype=np.float32)
    """)


def test_an_array_read_otherwise_still_makes_the_others():
    for code in ("""
        zeros = np.zeros(n)
        x = np.zeros_like(zeros)
        y = zeros + 1
    """, """
        n = 3
        zeros = np.zeros(n)
        n = 4
        x = np.zeros_like(zeros)
    """, """
        full = np.full(3, 1)
        x = np.zeros_like(full)
    """):
        assert passed(code, buffers_apart) == same(code)


def test_a_copy_of_an_array_nothing_else_reads_is_the_array():
    assert passed("""
        Y = np.zeros((31, n))
        Y[0] = y0
        Y_2 = np.copy(Y)
        Y_4 = np.copy(Y_2)
        for i in range(30):
            Y_4[i + 1] = f(Y_4[i])
        g = np.zeros(Y.shape[0])
        return Y_4
    """, copies_unneeded) == same("""
        Y = np.zeros((31, n))
        Y[0] = y0
        Y_2 = Y
        Y_4 = Y_2
        for i in range(30):
            Y_4[i + 1] = f(Y_4[i])
        g = np.zeros(Y.shape[0])
        return Y_4
    """)


def test_a_copy_stays_where_the_array_is_read_or_is_not_the_codes_own():
    for code in ("""
        Y = np.zeros(3)
        Y_2 = np.copy(Y)
        Y_2[0] = 1
        return Y + Y_2
    """, """
        Y = np.zeros(3)
        row = Y[1:]
        Y_2 = np.copy(Y)
        Y_2[1] = 1
        return row
    """, """
        Y_2 = np.copy(y0)
        Y_2[0] = 1
        return Y_2
    """, """
        Y = np.zeros(3)
        for i in range(2):
            Y = np.zeros(3)
        Y_2 = np.copy(Y)
        return Y_2
    """):
        assert passed(code, copies_unneeded) == same(code)


def test_a_copy_only_read_into_new_arrays_is_the_array():
    assert passed("""
        x_copy = np.copy(x)
        y = np.where(x > 1, 0, x_copy)
        t = np.zeros(x_copy.shape)
        t[0] = np.sum(x_copy)
        return y * np.cos(x_copy) + 2 * np.where(x > 1, 0, np.copy(x))
    """, copies_unneeded) == same("""
        x_copy = x
        y = np.where(x > 1, 0, x_copy)
        t = np.zeros(x_copy.shape)
        t[0] = np.sum(x_copy)
        return y * np.cos(x_copy) + 2 * np.where(x > 1, 0, x)
    """)


def test_a_copy_stays_where_a_read_may_keep_or_change_it():
    for code in ("""
        x_copy = np.copy(x)
        return x_copy
    """, """
        x_copy = np.copy(x)
        row = x_copy[1:]
        return row * 2
    """, """
        x_copy = np.copy(x)
        x_copy[0] = 1.0
        return x_copy * 2
    """, """
        x_copy = np.copy(x)
        x[0] = 1.0
        return x_copy * 2
    """, """
        x_copy = np.copy(x)
        row = x[1:]
        row[0] = 1.0
        return x_copy * 2
    """, """
        x_copy = np.copy(x)
        x = x * 2
        return x_copy * x
    """, """
        return np.copy(x)[1:], np.reshape(np.copy(x), (2, 2))
    """):
        assert passed(code, copies_unneeded) == same(code)


def test_a_masked_store_into_a_copy_reads_the_array():
    def zeroed(x):
        y = x.copy()
        z = np.sin(y)
        y[x > 1] = 0.0
        return np.sum(y ** 2) + np.sum(z * y)

    x = np.array([0.5, 1.5, 2.0, -1.0])
    text = ad.source(ad.grad(zeroed), x)
    assert "copy" not in text.split('"""')[-1], text
    np.testing.assert_allclose(ad.grad(zeroed)(x),
                               numeric_gradient(zeroed, (x,), 0), atol=1e-7)


def test_a_fill_of_a_fresh_copy_reading_the_original_is_the_assignment():
    assert passed("""
        U_2 = np.copy(U)
        U_2[1] += u0 - U[1]
    """, fills_as_sets) == same("""
        U_2 = np.copy(U)
        U_2[1] = u0
    """)
    for code in ("""
        U_2 = np.copy(U)
        U[1] += 1.0
        U_2[1] += u0 - U[1]
    """, """
        old = Y[k]
        row[0] = 2.0
        Y[k] += v - old
    """, """
        new = v - Y[k]
        k = k + 1
        Y[k] += new
    """):
        assert passed(code, fills_as_sets) == same(code)


def wave(u0, c):
    T, N = 30, u0.shape[0]
    U = np.zeros((T, N))
    U[0] = u0
    U[1] = u0
    for t in range(1, T - 1):
        lap = np.zeros(N)
        lap[1:-1] = U[t, 2:] - 2 * U[t, 1:-1] + U[t, :-2]
        U[t + 1] = 2 * U[t] - U[t - 1] + c * lap
    return np.sum(U[-1] ** 2)


def test_a_wave_equations_gradient_steps_its_history_as_the_user_did():
    u0 = np.sin(np.linspace(0.0, 3.0, 6))
    np.testing.assert_allclose(ad.grad(wave)(u0, 0.2),
                               numeric_gradient(wave, (u0, 0.2), 0),
                               rtol=1e-7)
    source = ad.source(ad.grad(wave), u0, 0.2)
    forward = source.split('"""')[2].split("    d_U")[0]
    assert forward == '''
    n = u0.shape[0]
    U = np.zeros((30, n))
    U[0] = u0
    U[1] = u0
    for t in range(1, 29):
        U_part = U[t, 2:]
        U_part_1 = U[t, 1:-1]
        U_part_2 = U[t, :-2]
        lap_values_2 = U_part - 2 * U_part_1 + U_part_2
        lap_2 = np.zeros(n)
        lap_2[1:-1] = lap_values_2
        U_part_3 = U[t]
        index_3 = t - 1
        U_part_4 = U[index_3]
        index_1_2 = t + 1
        U[index_1_2] = 2 * U_part_3 - U_part_4 + c * lap_2
'''
