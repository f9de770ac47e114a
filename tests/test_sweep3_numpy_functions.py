"""NumPy functions that the third sweep of user code found refused
(issue 10, sweep 3): index arrays of pairs (``np.triu_indices``), grids
(``np.meshgrid``), polynomials (``np.polyval``), piecewise-linear
interpolation (``np.interp``) and running extremes
(``np.maximum.accumulate``). Derivatives are checked against closed forms
and central differences, second derivatives where the function has them.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

rng = np.random.default_rng(3)
POINTS = np.array([[0.0, 0.0, 0.0], [1.1, 0.1, -0.2], [0.2, 1.2, 0.3],
                   [1.0, 1.0, 1.1]])


# -- pairs i < j ----------------------------------------------------------------

def lennard_jones_by_pairs(x):
    i, j = np.triu_indices(x.shape[0], k=1)
    r2 = np.sum((x[i] - x[j]) ** 2, axis=1)
    return np.sum(4 * (r2 ** -6 - r2 ** -3))


def lennard_jones_by_broadcasting(x):
    d = x[:, None, :] - x[None, :, :]
    r2 = np.sum(d ** 2, axis=-1) + np.eye(x.shape[0])
    inv6 = (1 / r2) ** 3
    return 2 * np.sum((inv6 ** 2 - inv6) * (1 - np.eye(x.shape[0])))


def test_pairs_by_triu_indices_give_the_hessian_at_several_sizes():
    for x in (POINTS, POINTS[:2], np.vstack([POINTS, [[2.1, 0.0, 0.9]]])):
        np.testing.assert_allclose(
            ad.hessian(lennard_jones_by_pairs)(x),
            ad.hessian(lennard_jones_by_broadcasting)(x), rtol=1e-10,
            atol=1e-10)
    # one pair: V'(r) / r across the axis
    r = 1.3
    H = ad.hessian(lennard_jones_by_pairs)(np.array([[0.0, 0, 0],
                                                      [r, 0, 0]]))
    assert np.isclose(H[1, 1, 1, 1], 4 * (-12 * r ** -14 + 6 * r ** -8),
                      rtol=1e-13)


# -- grids and polynomials ------------------------------------------------------

ROW = np.array([0.3, -0.7, 1.2])


def on_a_meshgrid(x):
    A, B = np.meshgrid(x, x)
    return np.sum(A * B ** 2)


def on_a_grid_of_two(x, y):
    X, Y = np.meshgrid(x, y, indexing="ij")
    return np.sum(X ** 2 * Y)


def test_meshgrid_gradients_and_hessians_are_the_closed_forms():
    # sum_ij x_j x_i^2 = sum(x^2) sum(x)
    np.testing.assert_allclose(ad.grad(on_a_meshgrid)(ROW), np.sum(
        ROW ** 2) + 2 * ROW * np.sum(ROW), rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(on_a_meshgrid)(ROW), 2 * (
        ROW[:, None] + ROW[None, :]) + 2 * np.sum(ROW) * np.eye(3),
        rtol=1e-14)
    y = np.array([0.5, 2.0])
    g_x, g_y = ad.grad(on_a_grid_of_two, (0, 1))(ROW, y)
    np.testing.assert_allclose(g_x, 2 * ROW * np.sum(y), rtol=1e-14)
    np.testing.assert_allclose(g_y, np.full(2, np.sum(ROW ** 2)), rtol=1e-14)


def fitted(p, x):
    return np.sum(np.polyval(p, x) ** 2)


def quadratic(x):
    return np.polyval([2.0, -3.0, 0.5], x)


def test_polyval_in_the_points_and_the_coefficients():
    p = np.array([0.5, -1.0, 2.0, 0.3])
    x = np.array([0.0, 0.4, -1.3])  # 0 too: no 0 ** -1 in the powers
    powers = x[:, None] ** np.arange(3, -1, -1)  # the Vandermonde matrix
    values, slopes = powers @ p, powers[:, 1:] @ (p[:-1] * [3, 2, 1])
    g_p, g_x = ad.grad(fitted, (0, 1))(p, x)
    np.testing.assert_allclose(g_p, 2 * values @ powers, rtol=1e-14)
    np.testing.assert_allclose(g_x, 2 * values * slopes, rtol=1e-14)
    # quadratic in p: the Hessian is 2 V^T V
    np.testing.assert_allclose(ad.hessian(fitted, 0)(p, x),
                               2 * powers.T @ powers, rtol=1e-14)
    curvature = powers[:, 2:] @ (p[:-2] * [6, 2])
    np.testing.assert_allclose(ad.hessian(fitted, 1)(p, x), np.diag(
        2 * slopes ** 2 + 2 * values * curvature), rtol=1e-13)
    # coefficients written out: the closed form, any order
    assert ad.grad(quadratic)(0.7) == 4 * 0.7 - 3
    assert ad.derivative(quadratic, 2)(0.7) == 4.0
    source = ad.source(ad.grad(quadratic), 0.7)
    assert "return 4 * x - 3" in source


def squares_filled_then_sliced(x):
    squares = np.empty(len(x))
    for i in range(len(x)):
        squares[i] = x[i] ** 2
    return np.sum(squares[1:] * x[1:])


def test_an_array_a_loop_over_a_size_fills_can_be_sliced_after_it():
    # (the gradient of np.polyval's loop, read back, does this)
    np.testing.assert_allclose(ad.grad(squares_filled_then_sliced)(ROW),
                               [0.0, 3 * 0.49, 3 * 1.44], rtol=1e-14)


# -- piecewise-linear interpolation ---------------------------------------------

KNOTS = np.array([0.0, 1.0, 2.5])
HEIGHTS = np.array([0.3, 0.7, 1.2])


def interpolated(x, xp, fp):
    return np.sum(np.interp(x, xp, fp) ** 3)


def test_interp_in_the_points_the_values_and_the_knots():
    x = np.array([-1.0, 0.4, 1.7, 3.0])  # below, in both segments, above
    values = np.interp(x, KNOTS, HEIGHTS)
    g_x, g_xp, g_fp = ad.grad(interpolated, (0, 1, 2))(x, KNOTS, HEIGHTS)
    slopes = np.array([0.0, 0.4, 0.5 / 1.5, 0.0])
    np.testing.assert_allclose(g_x, 3 * values ** 2 * slopes, rtol=1e-14)
    # fp: each point's weights on the ends of its segment
    weights = np.array([[1, 0, 0], [0.6, 0.4, 0], [0, 0.8 / 1.5, 0.7 / 1.5],
                        [0, 0, 1]])
    np.testing.assert_allclose(g_fp, 3 * values ** 2 @ weights, rtol=1e-14)
    np.testing.assert_allclose(g_xp, numeric_gradient(
        interpolated, (x, KNOTS, HEIGHTS), 1), rtol=1e-8)
    # linear in fp between knots: the Hessian in x is 6 f f'^2
    np.testing.assert_allclose(ad.hessian(interpolated)(x, KNOTS, HEIGHTS),
                               np.diag(6 * values * slopes ** 2), rtol=1e-13)


def test_interp_at_the_knots_takes_the_slope_to_the_right_as_jax():
    slope = ad.grad(lambda x: np.interp(x, KNOTS, HEIGHTS))
    assert [slope(k) for k in KNOTS] == pytest.approx(
        [0.4, 0.5 / 1.5, 0.5 / 1.5], rel=1e-15)
    assert ad.grad(lambda x: np.interp(x, KNOTS, HEIGHTS, left=0.0,
                                       right=2.0))(-0.5) == 0.0


# -- running extremes -----------------------------------------------------------

PRICES = np.array([1.0, 3.0, 2.0, 4.0, 1.5, 2.5])


def max_drawdown(prices):
    peak = np.maximum.accumulate(prices)
    return np.max((peak - prices) / peak)


def squared_running_extremes(x):
    return (np.sum(np.maximum.accumulate(x) ** 2)
            + np.sum(np.minimum.accumulate(x, axis=1) ** 3))


def test_the_gradient_of_a_drawdown_goes_to_the_peak_and_the_trough():
    # the largest drop is from 4.0 (index 3) to 1.5 (index 4): 1 - 1.5 / 4
    assert max_drawdown(PRICES) == 1 - 1.5 / 4
    np.testing.assert_allclose(ad.grad(max_drawdown)(PRICES),
                               [0, 0, 0, 1.5 / 16, -1 / 4, 0], rtol=1e-15)
    # on 1-D prices it runs at any length
    longer = np.append(PRICES, [5.0, 1.0])
    np.testing.assert_allclose(ad.grad(max_drawdown)(longer),
                               [0, 0, 0, 0, 0, 0, 1 / 25, -1 / 5],
                               rtol=1e-15)


def test_running_extremes_along_an_axis_and_their_hessians():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.4]])
    running_max = np.maximum.accumulate(x)  # along axis 0
    running_min = np.minimum.accumulate(x, axis=1)
    # each element's gradient sums over the places it is the extreme
    # each element's derivatives sum over the places it is the extreme
    expected, curvature = np.zeros_like(x), np.zeros_like(x)
    for (i, j), peak in np.ndenumerate(running_max):
        at = np.flatnonzero(x[:, j] == peak)[-1], j
        expected[at] += 2 * peak
        curvature[at] += 2
    for (i, j), low in np.ndenumerate(running_min):
        at = i, np.flatnonzero(x[i] == low)[-1]
        expected[at] += 3 * low ** 2
        curvature[at] += 6 * low
    np.testing.assert_allclose(ad.grad(squared_running_extremes)(x),
                               expected, rtol=1e-15)
    np.testing.assert_allclose(
        ad.hessian(squared_running_extremes)(x).reshape(6, 6),
        np.diag(curvature.ravel()), rtol=1e-14)
    # (-1.0 is the minimum of row 0 twice, 2.0 the maximum of column 2)
    assert curvature.ravel().tolist() == pytest.approx([5, -10, 4, 11, 3.8,
                                                        -2.4])
