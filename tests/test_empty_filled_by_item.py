"""``np.empty(3)`` filled item by item, outside a loop that keeps it.

A loop that fills it one number per iteration keeps it as the list of its
values (``h[i] = ...`` in the generated loop too); filled item by item
(``y[0] = x0``), or by a short loop that unrolls, it holds zeros where the
function does not fill it, which a derivative never reads.
"""

import numpy as np
import pytest

import autodiff_ast as ad


def by_a_short_loop(x):
    h = np.empty(3)
    for i in range(3):
        h[i] = x ** i
    return np.sum(h)


def by_a_long_loop(x):
    h = np.empty(50)
    for i in range(50):
        h[i] = np.sin(i * x)
    return np.sum(h ** 2)


def read_by_another_name(x):
    h = np.empty(2)
    g = h
    h[0] = x
    h[1] = 2 * x
    return np.sum(g * h)


def test_filled_by_a_loop_that_unrolls():
    assert ad.grad(by_a_short_loop)(0.7) == pytest.approx(1 + 2 * 0.7,
                                                          rel=1e-15)


def test_a_loop_that_fills_it_still_writes_it():
    x = 0.3
    expected = sum(i * np.sin(2 * i * x) for i in range(50))
    assert ad.grad(by_a_long_loop)(x) == pytest.approx(expected, rel=1e-12)
    source = ad.source(ad.grad(by_a_long_loop), x)
    assert "    h = np.empty(50)\n" in source
    assert "        h[i] = np.sin(t)\n" in source


def test_another_name_for_it_read_after_a_fill_reads_the_fill():
    # g = h is one array: g * h is [x, 2x] squared, 5 x ** 2
    assert ad.grad(read_by_another_name)(0.7) == pytest.approx(10 * 0.7,
                                                               rel=1e-15)
