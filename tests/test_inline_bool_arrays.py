"""``np.array([True, False, ...])`` written in the code is a boolean
array, as NumPy makes it, and as an index a mask of known values (as a
global one is): never the integers 1 and 0, which pick elements 1 and 0
(once a silent wrong gradient)."""

import numpy as np

import autodiff_ast as ad

X = np.array([0.3, 1.0, 2.2, 5.0, -0.4])


def masked_inline(x):
    return np.sum(x[np.array([True, False, True, False, True])] ** 2)


def weighted_by_flags(x):
    return np.sum(np.array([True, False, True, True, False]) * x ** 2)


def flags_and_counts(x):
    return np.sum(np.array([True, 2, False, 1, 0]) * x)


def test_an_inline_mask_picks_the_elements_it_marks():
    np.testing.assert_allclose(ad.grad(masked_inline)(X),
                               2 * X * [1, 0, 1, 0, 1])
    text = ad.source(ad.grad(masked_inline), X)
    assert "mask = np.array([True, False, True, False, True])" in text
    assert "d_x[mask] = 2 * x[mask]" in text


def test_flags_multiply_as_ones_and_zeros():
    np.testing.assert_allclose(ad.grad(weighted_by_flags)(X),
                               2 * X * [1, 0, 1, 1, 0])
    np.testing.assert_allclose(ad.grad(flags_and_counts)(X),
                               [1.0, 2.0, 0.0, 1.0, 0.0])
