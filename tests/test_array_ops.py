"""The array table's operations beyond products and sums: each spelling's
gradient against central differences on its domain, the conventions where
maths leaves a choice (ties, zeros), the generated code, and the table and
these tests covering each other."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._array_rules import ARRAY_OPS, spellings
from autodiff_ast._float_handle import transform_of
from helpers import numeric_gradient
from test_array_jacobians import numeric_jacobian
from test_arrays import ARRAY_CASES, SYNTAX
from test_linalg import CASES as LINALG_CASES

RNG = np.random.default_rng(11)


def rand(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 1.5, size=shape)


def signed(*shape: int) -> np.ndarray:
    """Values of both signs, none near zero, all distinct."""
    values = RNG.uniform(0.3, 1.5, size=shape)
    return values * RNG.choice([-1.0, 1.0], size=shape)


WEIGHTS = np.linspace(0.5, 2.0, 12)
MATRIX_WEIGHTS = np.arange(12.0).reshape(3, 4) / 7 - 0.5
LABELS = np.array([2, 0, 1, 1])
PICKS = np.array([4, 0, 4, 2])  # 4 twice: its gradient adds up


# -- reductions ---------------------------------------------------------------

def f_max(x):
    return np.max(np.sin(x) * x)


def f_max_axis(x):
    return np.sum(np.max(x, axis=1) ** 2)


def f_max_keepdims(x):
    return np.sum(x / np.max(x, axis=0, keepdims=True))


def f_amax(x):
    return np.sum(np.amax(x, axis=(0, 2)) * np.arange(1.0, 4.0))


def f_max_method(x):
    return np.sum(np.exp(x.max(axis=1)))


def f_min(x):
    return np.min(x ** 2 + x)


def f_amin(x):
    return np.sum(np.amin(x, axis=0) ** 3)


def f_min_method(x):
    return x.min() * np.sum(x)


def f_prod(x):
    return np.prod(x)


def f_prod_axis(x):
    return np.sum(np.prod(x, axis=1) ** 2)


def f_prod_axes(x):
    return np.sum(np.sin(np.prod(x, axis=(0, 2), keepdims=True)) * x)


def f_prod_all_of_matrix(x):
    return np.prod(x) + np.prod(x[0])


def f_prod_method(x):
    return np.sum(x.prod(axis=0))


def f_var(x):
    return np.var(x)


def f_var_axis(x):
    return np.sum(np.var(x, axis=0, ddof=1) * np.arange(1.0, 5.0))


def f_var_method(x):
    return np.sum(np.sqrt(x.var(axis=1, keepdims=True)) * x)


def f_std(x):
    return np.std(x, ddof=1)


def f_std_method(x):
    return np.sum(x.std(axis=0) ** 3)


def f_cumsum(x):
    return np.sum(WEIGHTS * np.cumsum(x))


def f_diff(x):
    return np.sum(np.diff(x) ** 2)


def f_diff_axis(x):
    return np.sum(np.sin(np.diff(x, n=2, axis=0)))


def f_cumsum_axis(x):
    return np.sum(np.sin(np.cumsum(x, axis=1)))


def f_cumsum_flattened(x):
    return np.sum(WEIGHTS * np.cumsum(x) ** 2)


def f_cumsum_method(x):
    return np.sum(MATRIX_WEIGHTS * x.cumsum(axis=0))


def f_cumprod(x):
    return np.sum(WEIGHTS[:5] * np.cumprod(x))


def f_cumprod_axis(x):
    return np.sum(MATRIX_WEIGHTS * np.cumprod(x, axis=1))


def f_cumprod_method(x):
    return np.sum(MATRIX_WEIGHTS * x.cumprod(axis=0))


def f_average(x, w):
    return np.average(np.sin(x), weights=w)


def f_average_axis(x, w):
    return np.sum(np.average(x ** 2, axis=1, weights=w) ** 2)


def f_average_plain(x):
    value, count = np.average(x, axis=0, returned=True)
    return np.sum(value ** 2 * count)


def f_trace(x):
    return np.trace(x) ** 2 + np.trace(x, 1)


def f_trace_axes(x):
    return np.sum(np.trace(x, axis1=0, axis2=2) ** 2)


def f_trace_method(x):
    return x.trace() * np.sum(x)


def f_norm(x):
    return np.linalg.norm(x)


def f_norm_orders(x):
    return (np.linalg.norm(x, 1) + np.linalg.norm(x, 2)
            + np.linalg.norm(x, np.inf) + np.linalg.norm(x, -np.inf)
            + np.linalg.norm(x, 3))


def f_norm_axis(x):
    return np.sum(np.linalg.norm(x, axis=1) ** 3) + np.sum(
        np.linalg.norm(x, axis=0, keepdims=True) * x)


def f_norm_matrix(x):
    return (np.linalg.norm(x, "fro") + np.linalg.norm(x, 1)
            + np.linalg.norm(x, np.inf) + np.linalg.norm(x, -1))


def f_norm_matrix_axes(x):
    return np.sum(np.linalg.norm(x, axis=(0, 2)) * np.arange(1.0, 4.0))


def f_vector_norm(x):
    return (np.linalg.vector_norm(x) + np.linalg.vector_norm(x, ord=3)
            + np.sum(np.linalg.vector_norm(x, axis=0, ord=1, keepdims=True)
                     * x))


def f_matrix_norm(x):
    return np.sum(np.linalg.matrix_norm(x) + np.linalg.matrix_norm(
        x, ord=np.inf) * np.arange(1.0, 3.0))


def f_linalg_products(x):
    return np.sum(np.linalg.matmul(x, x.T) ** 2) + np.sum(
        np.linalg.outer(x[0], x[:, 1]))


def f_builtin_sum(xs):
    return sum(xs) ** 2 + sum((xs[0], xs[1]), 1.5) * xs[2]


def f_builtin_sum_of_array(x):
    return np.sum(sum(x) ** 2)


# (Each reaches the array code before its first max(): in scalar code,
# max of one argument or of three is refused for now.)
def f_builtin_max(xs):
    first, second, third = xs
    return max(xs) * first + max(second, third) + max(first, second, 0.5)


def f_builtin_max_of_array(x):
    return max(x[1:]) ** 2 + max(x)


def f_builtin_min(xs):
    first, second, third = xs
    return min(xs) ** 2 + min(first * 2, second, third)


# -- shapes and assembly ------------------------------------------------------

def f_concatenate(a, b):
    return np.sum(WEIGHTS[:7] * np.concatenate([np.sin(a), b * a[0]]))


def f_concatenate_axis(a, b):
    return np.sum(np.concatenate((a, b), axis=1) ** 2
                  * np.arange(1.0, 6.0))


def f_hstack(a, b):
    return np.sum(WEIGHTS[:7] * np.hstack([a, b]) ** 2)


def f_vstack(a, b):
    return np.sum(np.vstack([a, b]) ** 3 * np.arange(1.0, 4.0))


def f_column_stack(a, b):
    return np.sum(np.column_stack([a, b]) @ np.array([1.0, -2.0, 0.5]) ** 2)


def f_dstack(a, b):
    return np.sum(np.dstack([a, b])[..., 1] * a)


def f_squeeze(x):
    return np.sum(np.squeeze(x) * WEIGHTS[:3]) + np.sum(
        np.squeeze(x, axis=0) ** 2)


def f_squeeze_method(x):
    return np.sum(x.squeeze() ** 3)


def f_ravel(x):
    return np.sum(np.ravel(x) * WEIGHTS[:6])


def f_ravel_method(x):
    return np.sum(x.ravel() ** 2 * WEIGHTS[:6])


def f_flatten(x):
    return np.sum(np.sin(x.flatten()) * WEIGHTS[:6])


def f_atleast_1d(x):
    return np.sum(np.atleast_1d(x) * 2.0) ** 2


def f_atleast_2d(x):
    return np.sum(np.atleast_2d(x) @ np.ones((3, 2)) * MATRIX_WEIGHTS[0, :2])


def f_atleast_3d(x):
    a, b = np.atleast_3d(x, x[0])
    return np.sum(a[:, :, 0] ** 2) + np.sum(b ** 3)


def f_moveaxis(x):
    return np.sum(np.moveaxis(x, 0, -1) * MATRIX_WEIGHTS[:2, :3].T)


def f_swapaxes(x):
    return np.sum(np.swapaxes(x, 0, 2)[:, 1, :] ** 2 * np.arange(1.0, 3.0))


def f_swapaxes_method(x):
    return np.sum(x.swapaxes(1, 0) @ np.array([1.0, 2.0]))


def f_flip(x):
    return np.sum(np.flip(x) * MATRIX_WEIGHTS) + np.sum(
        np.flip(x, axis=1) ** 2 * MATRIX_WEIGHTS)


def f_fliplr(x):
    return np.sum(np.fliplr(x) * MATRIX_WEIGHTS)


def f_flipud(x):
    return np.sum(np.flipud(x) ** 2 * MATRIX_WEIGHTS)


def f_roll(x):
    return np.sum(np.roll(x, 2) * WEIGHTS[:5])


def f_roll_axis(x):
    return np.sum(np.roll(x, -1, axis=1) * MATRIX_WEIGHTS) + np.sum(
        np.roll(x, 3) * MATRIX_WEIGHTS)


def f_tile(x):
    return np.sum(np.tile(x, 2) * WEIGHTS[:6])


def f_tile_matrix(x):
    return np.sum(np.tile(x, (2, 1, 2))[1] ** 2 * MATRIX_WEIGHTS[:2])


def f_repeat(x):
    return np.sum(np.repeat(x, 3) * WEIGHTS[:9])


def f_repeat_method(x):
    return np.sum(x.repeat(2, axis=1) ** 2 * MATRIX_WEIGHTS[:2])


def f_diag(x):
    return np.sum(np.diag(x) * MATRIX_WEIGHTS[:3, :3]) + np.sum(
        np.diag(x, 1) ** 2)


def f_diag_of_matrix(x):
    return np.sum(np.diag(x) ** 2 * np.arange(1.0, 4.0))


def f_diagonal(x):
    return np.sum(np.diagonal(x, 1) ** 2) + np.sum(np.diagonal(x, -1))


def f_diagonal_axes(x):
    return np.sum(np.diagonal(x, 0, 0, 2) ** 2 * MATRIX_WEIGHTS[:, :2])


def f_diagonal_method(x):
    return np.sum(np.exp(x.diagonal()))


def f_tril(x):
    return np.sum(np.tril(x) ** 2 * MATRIX_WEIGHTS) + np.sum(np.tril(x, -1))


def f_triu(x):
    return np.sum(np.triu(x, 1) * MATRIX_WEIGHTS) + np.sum(np.triu(x) ** 3)


def f_split(x):
    a, b, c = np.split(x, 3)
    return np.sum(a * b) + np.sum(c ** 3)


def f_split_at(x):
    left, right = np.split(x, [1], axis=1)
    return np.sum(left ** 2) + np.sum(np.sin(right))


def f_array_split(x):
    parts = np.array_split(x, 3)
    return np.sum(parts[0] ** 2) + np.sum(parts[2] * 3.0)


def f_hsplit(x):
    a, b = np.hsplit(x, 2)
    return np.sum(a * b)


def f_vsplit(x):
    a, b = np.vsplit(x, 2)
    return np.sum(a ** 2 * b)


def f_pad(x):
    return np.sum(np.pad(x, (1, 2)) * WEIGHTS[:8])


def f_pad_matrix(x):
    return np.sum(np.pad(x, ((0, 1), (2, 0)), constant_values=1.5) ** 2
                  * np.arange(1.0, 7.0))


# -- creation -----------------------------------------------------------------

def f_zeros(x):
    z = np.zeros((3, 4)) + x
    return np.sum(z ** 2) + np.sum(np.zeros(4, dtype=int) * x)


def f_ones(x):
    return np.sum(np.ones(x.shape) * x ** 2 + np.ones(4))


def f_full(x, a):
    return np.sum(np.full((3, 4), a) * x) + np.sum(np.full(4, 2.5) * x)


def f_eye(x):
    return np.sum(np.eye(3) @ x) + np.sum(np.eye(3, 4, k=1) * x ** 2)


def f_identity(x):
    return np.sum((np.identity(3) + x) ** 2)


def f_arange(x):
    return np.sum(np.arange(3) * x) + np.sum(np.arange(0.5, 2.0, 0.5) * x)


def f_linspace(x, a):
    return np.sum(np.linspace(0.0, 1.0, 3) * x) + np.sum(
        np.linspace(a, 2 * a, 3) ** 2)


def f_zeros_like(x):
    return np.sum((np.zeros_like(x) + 1.0) * x ** 2)


def f_ones_like(x):
    return np.sum(np.ones_like(x) * np.sin(x))


def f_full_like(x, a):
    return np.sum(np.full_like(x, a) * x) + np.sum(np.full_like(x, 0.5) * x)


# -- indexing -----------------------------------------------------------------

def cross_entropy(logits, label):
    shift = np.max(logits)
    return np.log(np.sum(np.exp(logits - shift))) + shift - logits[label]


def f_index_array(x, idx):
    return np.sum(x[idx] ** 2 * np.arange(1.0, 5.0))


def f_index_list(x):
    return np.sum(x[[0, 2, 2]] ** 2) + np.sum(x[[1, 3]] * 2.0)


def f_index_rows(x, idx):
    return np.sum(x[np.arange(4), idx] ** 2)


def f_take(x):
    return np.sum(np.take(x, PICKS) ** 2) + np.sum(np.take(x, 1))


def f_take_axis(x):
    return np.sum(np.take(x, LABELS, axis=1) * MATRIX_WEIGHTS[:, :4])


def f_take_method(x):
    return np.sum(x.take(PICKS) ** 3)


def f_take_along_axis(x, idx):
    picked = np.take_along_axis(x, idx[:, None], axis=1)
    return np.sum(np.log(picked))


def f_take_along_axis_repeats(x):
    chosen = np.take_along_axis(x, np.array([[0, 0, 1], [2, 2, 2]]), axis=1)
    return np.sum(chosen ** 2 * np.arange(1.0, 4.0))


def f_sort(x):
    return np.sum(np.sort(x) * WEIGHTS[:5])


def f_sort_axis(x):
    return np.sum(np.sort(x, axis=0) * MATRIX_WEIGHTS)


def f_argsort(x):
    return np.sum(x[np.argsort(x)] * WEIGHTS[:5])


def f_argsort_method(x):
    return np.sum(np.take_along_axis(x, x.argsort(axis=1), axis=1)
                  * MATRIX_WEIGHTS)


def f_argmax(x):
    return x[np.argmax(x)] ** 2 + np.sum(np.argmax(x) * x)


def f_argmax_method(x):
    return np.sum(np.take_along_axis(x, x.argmax(axis=1)[:, None], axis=1))


def f_argmin(x):
    return x[np.argmin(x)] ** 3


def f_argmin_method(x):
    return x[x.argmin()] * np.sum(x)


def f_any_all(x):
    # Booleans: constants to differentiation, as comparisons are.
    return np.sum(np.where(np.all(x > -5), x ** 2, 0.0)) * \
        np.sum(np.any(x > 0, axis=1))


def f_truth_methods(x):
    return np.sum(x ** 2) * (x > 0).any(axis=0).sum() * (x > -5).all()


def f_count_nonzero(x):
    # Counts: constants to differentiation, as comparisons are.
    return np.sum(x ** 2) / np.count_nonzero(x > 0) + np.sum(
        np.count_nonzero(x > 0, axis=0) * x)


def f_ptp(x):
    return np.ptp(x) * np.sum(np.ptp(x, axis=0) ** 2)


def f_nan_skipping(x):
    return np.nansum(x ** 2) + np.nanmean(np.sin(x), axis=0).sum()


def f_nan_extremes(x):
    return np.nanmax(x ** 2) * np.sum(np.nanmin(x, axis=0)) + np.sum(
        np.nanprod(x, axis=1))


def f_nan_spreads(x):
    return np.nanvar(x ** 2) + np.sum(np.nanstd(x, axis=1, ddof=1))


def f_round_method(x):
    return np.sum(x.round(1) * x ** 2)


def f_mean_in_float64(x):
    return np.mean(x ** 2, dtype=np.float64)


def f_multi_dot(x):
    return np.linalg.multi_dot([x, np.outer(x, x[::-1]), x ** 2])


def f_block(x):
    return np.sum(np.block([[x, x ** 2], [np.sin(x), x]]) ** 2)


def f_select(x):
    return np.sum(np.select([x < 0.0, x > 1.0], [x ** 2, np.sin(x)],
                            default=x))


def f_isclose(x):
    return np.sum(np.where(np.isclose(x, x[0], rtol=0.0, atol=1e-3),
                           x ** 2, x ** 3))


def f_allclose(x):
    return np.sum(x ** 2) if np.allclose(x, 0.0) else np.sum(x ** 3)


def f_convolve(x, v):
    return np.sum(np.sin(np.convolve(x, v, mode="same")))


def f_correlate(x, v):
    return np.sum(np.correlate(x, v ** 2, mode="full") ** 2)


def f_apply_along_axis(x):
    return np.sum(np.apply_along_axis(np.convolve, 1, x, x[0]) ** 2)


def f_empty_filled(x):
    y = np.empty((2, 4))
    y[0] = x ** 2
    y[1] = np.sin(x)
    return np.sum(y * x)


def f_rot90(x):
    return np.sum(np.rot90(x, 1, (1, 0)) * np.arange(12.0).reshape(4, 3))


def f_ediff1d(x):
    return np.sum(np.ediff1d(x, to_begin=x[0] ** 2) ** 2)


def f_tri(x):
    return np.sum(np.tri(3, 4, -1) * x ** 2)


def f_diagflat(x):
    return np.sum(np.diagflat(x, 1) @ np.arange(5.0))


def f_matrix_transpose(x):
    return np.sum(np.matrix_transpose(x) * np.arange(12.0).reshape(4, 3))


def f_unstack(x):
    first, second, third = np.unstack(x)
    return np.sum(first * second ** 2 - third)


def f_vecdot(x):
    return np.sum(np.vecdot(x, np.sin(x), axis=0) ** 2)


def f_cumulative_sum(x):
    return np.sum(np.cumulative_sum(x, axis=1, include_initial=True) ** 2)


def f_ufunc_reductions(x):
    return (np.sum(np.add.reduce(x) ** 2)
            + np.sum(np.multiply.reduce(x, axis=1))
            + np.sum(np.maximum.reduce(x) * np.minimum.reduce(x, axis=None))
            + np.logaddexp.reduce(x, axis=None))


def f_empty_like_filled(x):
    y = np.empty_like(x)
    y[0] = x[0] ** 2
    y[1:] = x[1:] * 3
    return np.sum(y * x)


def f_append(x):
    return np.sum(np.append(x, x[:2] ** 2) ** 2) + np.sum(
        np.append(x, x, axis=0) * 2)


def f_trapezoid(x):
    return np.trapezoid(x[0] ** 2, dx=0.1) + np.sum(
        np.trapezoid(np.sin(x), x[0], axis=1)) + np.sum(
        np.trapezoid(x, axis=0) ** 2)


def f_gradient(x):
    return np.sum(np.gradient(x) ** 2) + np.sum(np.sin(np.gradient(x, 0.5)))


def f_pairs_above(x):
    i, j = np.triu_indices(len(x), k=1)
    return np.sum(np.sin(x[i] * x[j])) + np.sum(
        x[np.triu_indices(3, 1, 4)[1]] ** 2)


def f_pairs_below(x):
    i, j = np.tril_indices(x.shape[0], -1)
    return np.sum(np.sqrt(np.sum((x[i] - x[j]) ** 2, axis=1)))


def f_pairs_of_a_square(x):
    return (np.sum(x[np.triu_indices_from(x)] ** 3)
            + np.sum(np.cos(x[np.tril_indices_from(x, k=-1)])))


def f_diagonal_set(x):
    B = np.tanh(x)
    B[np.diag_indices(x.shape[0])] = np.diag(x) ** 2
    return np.sum(B @ B)


def f_diagonal_of_a_cube(x):
    C = x[:, :, None] * x[:, None, :]
    C[np.diag_indices_from(C)] += 1.0
    return np.sum(np.sin(C)) + np.sum(x[np.diag_indices(2, ndim=2)] ** 3)


def f_meshgrid(x):
    X, Y = np.meshgrid(x, x[:2] ** 2)
    U, V = np.meshgrid(x, np.cos(x), indexing="ij", sparse=True)
    return np.sum(np.sin(X * Y) + X) + np.sum(U * V ** 2)


def f_polyval(p, x):
    return np.sum(np.polyval(p, x) ** 2) + np.polyval([1.5, p[0], -2.0],
                                                      x[0])


def f_vander(x, w):
    # (the default number of columns, len(x), and the powers counting up)
    return (np.sum(np.vander(x) @ x)
            + np.sum((np.vander(x, w.shape[0], increasing=True) @ w) ** 2))


KNOTS = np.array([-1.0, 0.0, 0.5, 2.0])


def f_interp(x, fp):
    return np.sum(np.interp(x, KNOTS, fp) ** 2) + np.interp(
        x[0], [-2.0, 2.0], fp[:2] * 3, left=0.5)


def f_searchsorted(x):
    bins = np.searchsorted(KNOTS, x) + np.searchsorted(KNOTS, x,
                                                        side="right")
    return np.sum(x ** 2 * bins)


def f_running_extremes(x):
    return np.sum(np.maximum.accumulate(x) ** 2) + np.sum(np.sin(
        np.minimum.accumulate(x, axis=1)))


def f_drawdown(x):
    return np.max(np.maximum.accumulate(x) - x) * np.sum(
        np.minimum.accumulate(x ** 2))


def f_median(x):
    # An even count: the mean of the two middle values.
    return np.median(x) ** 2 + np.median(x[:3]) * np.sum(x)


def f_median_rows(x):
    return np.sum(np.median(x, axis=1, keepdims=True) * x)


def f_quantile(x):
    return np.sum(np.quantile(x, 0.3, axis=0) ** 2) + np.quantile(x, 1.0)


def f_percentile(x):
    return np.percentile(x, 90) * np.sum(x)


def f_log_sum_exp(x):
    return np.sum(np.log(np.sum(np.exp(x), axis=1)))


def f_astype(x):  # tests/test_coverage.py has the casts' conventions
    return np.sum(x.astype(float) ** 2 + x.astype(int) * x)


def f_item(x):
    return x.item(1) * np.sum(x).item()


def f_clip_method(x):
    return np.sum(x.clip(-0.5, 1.0) * x + x.clip(max=0.2))


# How user code names the operation -> (function, arguments); the integer
# arguments are not differentiated.
CASES = {
    "np.max": [(f_max, (signed(7),)), (f_max_axis, (signed(3, 4),)),
               (f_max_keepdims, (rand(3, 4),))],
    "np.amax": [(f_amax, (signed(2, 3, 4),))],
    ".max()": [(f_max_method, (signed(3, 4),))],
    "np.min": [(f_min, (signed(6),))],
    "np.amin": [(f_amin, (signed(3, 4),))],
    ".min()": [(f_min_method, (signed(5),))],
    "np.prod": [(f_prod, (signed(6),)), (f_prod_axis, (signed(3, 4),)),
                (f_prod_axes, (signed(2, 3, 2),)),
                (f_prod_all_of_matrix, (signed(2, 3),))],
    ".prod()": [(f_prod_method, (signed(3, 4),))],
    "np.var": [(f_var, (signed(7),)), (f_var_axis, (signed(3, 4),))],
    ".var()": [(f_var_method, (signed(3, 4),))],
    "np.std": [(f_std, (signed(6),))],
    ".std()": [(f_std_method, (signed(3, 4),))],
    "np.cumsum": [(f_cumsum, (signed(12),)), (f_cumsum_axis, (signed(3, 4),)),
                  (f_cumsum_flattened, (signed(3, 4),))],
    ".cumsum()": [(f_cumsum_method, (signed(3, 4),))],
    "np.diff": [(f_diff, (signed(7),)), (f_diff_axis, (signed(4, 3),))],
    "np.cumprod": [(f_cumprod, (signed(5),)),
                   (f_cumprod_axis, (signed(3, 4),))],
    ".cumprod()": [(f_cumprod_method, (signed(3, 4),))],
    "np.average": [(f_average, (signed(3, 4), rand(3, 4))),
                   (f_average_axis, (signed(3, 4), rand(4))),
                   (f_average_plain, (signed(3, 4),))],
    "np.trace": [(f_trace, (signed(3, 4),)),
                 (f_trace_axes, (signed(3, 2, 3),))],
    ".trace()": [(f_trace_method, (signed(3, 3),))],
    "np.linalg.norm": [(f_norm, (signed(3, 4),)),
                       (f_norm_orders, (signed(6),)),
                       (f_norm_axis, (signed(3, 4),)),
                       (f_norm_matrix, (signed(3, 4),)),
                       (f_norm_matrix_axes, (signed(2, 3, 4),))],
    "sum()": [(f_builtin_sum, ([0.3, -1.2, 0.8],)),
              (f_builtin_sum_of_array, (signed(3, 4),))],
    "max()": [(f_builtin_max, ([0.3, -1.2, 0.8],)),
              (f_builtin_max_of_array, (signed(5),))],
    "min()": [(f_builtin_min, ([0.3, -1.2, 0.8],))],
    "np.concatenate": [(f_concatenate, (signed(4), signed(3))),
                       (f_concatenate_axis, (signed(2, 3), signed(2, 2)))],
    "np.hstack": [(f_hstack, (signed(4), signed(3)))],
    "np.vstack": [(f_vstack, (signed(3), signed(2, 3)))],
    "np.column_stack": [(f_column_stack, (signed(4), signed(4, 2)))],
    "np.dstack": [(f_dstack, (signed(2, 3), signed(2, 3)))],
    "np.squeeze": [(f_squeeze, (signed(1, 3),))],
    ".squeeze()": [(f_squeeze_method, (signed(3, 1, 2),))],
    "np.ravel": [(f_ravel, (signed(2, 3),))],
    ".ravel()": [(f_ravel_method, (signed(3, 2),))],
    ".flatten()": [(f_flatten, (signed(2, 3),))],
    "np.atleast_1d": [(f_atleast_1d, (0.7,))],
    "np.atleast_2d": [(f_atleast_2d, (signed(3),))],
    "np.atleast_3d": [(f_atleast_3d, (signed(2, 3),))],
    "np.moveaxis": [(f_moveaxis, (signed(2, 3),))],
    "np.swapaxes": [(f_swapaxes, (signed(2, 3, 4),))],
    ".swapaxes()": [(f_swapaxes_method, (signed(2, 3),))],
    "np.flip": [(f_flip, (signed(3, 4),))],
    "np.fliplr": [(f_fliplr, (signed(3, 4),))],
    "np.flipud": [(f_flipud, (signed(3, 4),))],
    "np.roll": [(f_roll, (signed(5),)), (f_roll_axis, (signed(3, 4),))],
    "np.tile": [(f_tile, (signed(3),)), (f_tile_matrix, (signed(2, 2),))],
    "np.repeat": [(f_repeat, (signed(3),))],
    ".repeat()": [(f_repeat_method, (signed(2, 2),))],
    "np.diag": [(f_diag, (signed(3),)), (f_diag_of_matrix, (signed(3, 4),))],
    "np.diagonal": [(f_diagonal, (signed(3, 4),)),
                    (f_diagonal_axes, (signed(2, 3, 2),))],
    ".diagonal()": [(f_diagonal_method, (signed(4, 3),))],
    "np.tril": [(f_tril, (signed(3, 4),))],
    "np.triu": [(f_triu, (signed(3, 4),))],
    "np.split": [(f_split, (signed(6),)), (f_split_at, (signed(2, 3),))],
    "np.array_split": [(f_array_split, (signed(7),))],
    "np.hsplit": [(f_hsplit, (signed(3, 4),))],
    "np.vsplit": [(f_vsplit, (signed(4, 3),))],
    "np.pad": [(f_pad, (signed(5),)), (f_pad_matrix, (signed(1, 4),))],
    "np.zeros": [(f_zeros, (signed(4),))],
    "np.ones": [(f_ones, (signed(4),))],
    "np.full": [(f_full, (signed(4), 0.7))],
    "np.eye": [(f_eye, (signed(3, 4),))],
    "np.identity": [(f_identity, (signed(3),))],
    "np.arange": [(f_arange, (signed(3),))],
    "np.linspace": [(f_linspace, (signed(3), 0.7))],
    "np.zeros_like": [(f_zeros_like, (signed(2, 3),))],
    "np.ones_like": [(f_ones_like, (signed(2, 3),))],
    "np.full_like": [(f_full_like, (signed(2, 3), 0.7))],
    "x[label]": [(cross_entropy, (signed(5), 3)),
                 (cross_entropy, (signed(5), np.int32(-1)))],
    "x[idx]": [(f_index_array, (signed(5), PICKS)),
               (f_index_list, (signed(4),)),
               (f_index_rows, (signed(4, 3), LABELS))],
    "np.take": [(f_take, (signed(5),)), (f_take_axis, (signed(3, 5),))],
    ".take()": [(f_take_method, (signed(5),))],
    "np.take_along_axis": [(f_take_along_axis, (rand(4, 3), LABELS)),
                           (f_take_along_axis_repeats, (signed(2, 3),))],
    "np.sort": [(f_sort, (signed(5),)), (f_sort_axis, (signed(3, 4),))],
    "np.argsort": [(f_argsort, (signed(5),))],
    ".argsort()": [(f_argsort_method, (signed(3, 4),))],
    "np.argmax": [(f_argmax, (signed(5),))],
    ".argmax()": [(f_argmax_method, (signed(3, 4),))],
    "np.argmin": [(f_argmin, (signed(5),))],
    ".argmin()": [(f_argmin_method, (signed(5),))],
    "np.any": [(f_any_all, (signed(3, 4),))],
    "np.all": [(f_any_all, (signed(3, 4),))],
    ".any()": [(f_truth_methods, (signed(3, 4),))],
    ".all()": [(f_truth_methods, (signed(3, 4),))],
    "np.count_nonzero": [(f_count_nonzero, (signed(3, 4),))],
    "np.ptp": [(f_ptp, (signed(3, 4),))],
    "np.trapezoid": [(f_trapezoid, (signed(3, 4),))],
    "np.gradient": [(f_gradient, (signed(5),))],
    "np.meshgrid": [(f_meshgrid, (signed(3),))],
    "np.polyval": [(f_polyval, (signed(4), signed(3)))],
    "np.vander": [(f_vander, (signed(4), signed(3)))],
    "np.interp": [(f_interp, (np.array([-1.5, 0.2, 1.9, 2.5]),
                              signed(4)))],
    "np.searchsorted": [(f_searchsorted, (signed(5),))],
    "np.maximum.accumulate": [(f_running_extremes, (signed(3, 4),)),
                              (f_drawdown, (signed(6),))],
    "np.minimum.accumulate": [(f_running_extremes, (signed(4, 3),))],
    "np.triu_indices": [(f_pairs_above, (signed(4),))],
    "np.tril_indices": [(f_pairs_below, (signed(4, 3),))],
    "np.triu_indices_from": [(f_pairs_of_a_square, (signed(3, 3),))],
    "np.tril_indices_from": [(f_pairs_of_a_square, (signed(3, 3),))],
    "np.diag_indices": [(f_diagonal_set, (signed(3, 3),))],
    "np.diag_indices_from": [(f_diagonal_of_a_cube, (signed(3, 3),))],
    "np.empty_like": [(f_empty_like_filled, (signed(4),))],
    "np.add.reduce": [(f_ufunc_reductions, (signed(3, 4),))],
    "np.multiply.reduce": [(f_ufunc_reductions, (signed(3, 4),))],
    "np.maximum.reduce": [(f_ufunc_reductions, (signed(3, 4),))],
    "np.minimum.reduce": [(f_ufunc_reductions, (signed(3, 4),))],
    "np.logaddexp.reduce": [(f_ufunc_reductions, (signed(3, 4),))],
    "np.tri": [(f_tri, (signed(3, 4),))],
    "np.diagflat": [(f_diagflat, (signed(4),))],
    "np.matrix_transpose": [(f_matrix_transpose, (signed(3, 4),))],
    "np.unstack": [(f_unstack, (signed(3, 4),))],
    "np.vecdot": [(f_vecdot, (signed(3, 4),))],
    "np.cumulative_sum": [(f_cumulative_sum, (signed(3, 4),))],
    "np.rot90": [(f_rot90, (signed(3, 4),))],
    "np.ediff1d": [(f_ediff1d, (signed(2, 3),))],
    "np.empty": [(f_empty_filled, (signed(4),))],
    "np.convolve": [(f_convolve, (signed(5), signed(2)))],
    "np.correlate": [(f_correlate, (signed(3), signed(4)))],
    "np.apply_along_axis": [(f_apply_along_axis, (signed(3, 4),))],
    "np.linalg.multi_dot": [(f_multi_dot, (signed(4),))],
    "np.block": [(f_block, (signed(4),))],
    "np.select": [(f_select, (signed(5) * 2,))],
    "np.isclose": [(f_isclose, (signed(4),))],
    "np.allclose": [(f_allclose, (signed(4),))],
    "np.append": [(f_append, (signed(4),))],
    "np.nansum": [(f_nan_skipping, (signed(3, 4),))],
    "np.nanmean": [(f_nan_skipping, (signed(3, 4),))],
    "np.nanmax": [(f_nan_extremes, (signed(3, 4),))],
    "np.nanmin": [(f_nan_extremes, (signed(3, 4),))],
    "np.nanprod": [(f_nan_extremes, (signed(3, 4),))],
    "np.nanvar": [(f_nan_spreads, (signed(3, 4),))],
    "np.nanstd": [(f_nan_spreads, (signed(3, 4),))],
    ".round()": [(f_round_method, (signed(3, 4),))],
    "np.median": [(f_median, (signed(4),)), (f_median_rows, (signed(3, 4),))],
    "np.quantile": [(f_quantile, (signed(4, 3),))],
    "np.percentile": [(f_percentile, (signed(5),))],
    "log(sum(exp))": [(f_log_sum_exp, (signed(3, 4),))],
    ".astype()": [(f_astype, (signed(3, 4) * 2,))],
    ".item()": [(f_item, (signed(2, 3),))],
    ".clip()": [(f_clip_method, (signed(3, 4),))],
}
if hasattr(np.linalg, "vector_norm"):  # NumPy 2's
    CASES.update({
        "np.linalg.vector_norm": [(f_vector_norm, (signed(3, 4),))],
        "np.linalg.matrix_norm": [(f_matrix_norm, (signed(2, 3, 4),))],
        "np.linalg.matmul": [(f_linalg_products, (signed(3, 4),))],
        "np.linalg.outer": [(f_linalg_products, (signed(3, 4),))],
    })
SPELLED_BY_SYNTAX = {"x[label]", "x[idx]", "log(sum(exp))"}


def test_cases_and_the_array_table_cover_each_other():
    table = {spelling for spelling, _ in spellings()}
    tested = ((set(ARRAY_CASES) - SYNTAX) | (set(CASES) - SPELLED_BY_SYNTAX)
              | set(LINALG_CASES))
    assert tested == table


def _float_argnums(args):
    return tuple(i for i, a in enumerate(args)
                 if np.asarray(a).dtype.kind == "f")


@pytest.mark.parametrize("function,args", [
    pytest.param(function, args, id=f"{spelling}-{function.__name__}")
    for spelling, cases in CASES.items() for function, args in cases])
def test_gradient_matches_central_differences(function, args):
    argnums = _float_argnums(args)
    grads = ad.grad(function, argnums=argnums)(*args)
    for argnum, grad in zip(argnums, grads):
        expected = numeric_gradient(function, args, argnum)
        np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)
        assert np.shape(grad) == np.shape(args[argnum])


def test_every_step_of_the_table_is_generated_by_these_tests():
    """Each row that is a step (a vjp or a spelling) is written by some
    case here or in test_arrays, so its rule has run."""
    used = set()
    for cases in list(CASES.values()) + list(LINALG_CASES.values()) + [
            [(f, (rand(*a), rand(*b) if b else 0.8)) for f, a, b in items]
            for items in ARRAY_CASES.values()]:
        for function, args in cases:
            derivative = ad.value_and_grad(function,
                                           argnums=_float_argnums(args))
            derivative(*args)
            for entry in transform_of(derivative).generated.values():
                used |= {step.op for step in entry.lowered.program.steps}
    steps = {op for op in ARRAY_OPS if op.spell or op.vjp}
    assert {op.name for op in steps - used} == set()


# -- conventions where maths leaves a choice ----------------------------------

def test_the_gradient_of_a_maximum_is_split_equally_among_ties():
    # As JAX: jax.grad(jnp.max)(jnp.array([1., 3., 3., 2.])) is
    # [0, 0.5, 0.5, 0].
    x = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda x: np.max(x))(x),
                                  [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda x: np.min(x))(x),
                                  [1.0, 0.0, 0.0, 0.0])
    matrix = np.array([[1.0, 4.0, 4.0], [4.0, 2.0, 0.0]])
    np.testing.assert_array_equal(
        ad.grad(lambda m: np.max(m))(matrix),
        [[0.0, 1 / 3, 1 / 3], [1 / 3, 0.0, 0.0]])
    np.testing.assert_array_equal(
        ad.grad(lambda m: np.sum(np.max(m, axis=1) * np.array([1.0, 2.0])))(
            matrix), [[0.0, 0.5, 0.5], [2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(
        ad.grad(lambda m: np.sum(m.min(axis=0, keepdims=True)))(
            np.array([[1.0, 2.0], [1.0, 3.0]])), [[0.5, 1.0], [0.5, 0.0]])


def builtin_max_of_ties(xs):
    a, b, c = xs
    return max(a, b, c)


def test_builtin_max_of_several_keeps_the_first_of_ties():
    # max(a, b, c) returns the first of the numbers that tie, and JAX's
    # gradient of the builtin goes all to it: [1, 0, 0] and [0, 1, 0].
    assert ad.grad(builtin_max_of_ties)([2.0, 2.0, 2.0]) == [1.0, 0.0, 0.0]
    assert ad.grad(builtin_max_of_ties)([1.0, 2.0, 2.0]) == [0.0, 1.0, 0.0]


def test_the_gradient_of_a_product_is_exact_at_zeros():
    prod = ad.grad(lambda x: np.prod(x))
    np.testing.assert_array_equal(prod(np.array([2.0, 0.0, 3.0, 5.0])),
                                  [0.0, 30.0, 0.0, 0.0])
    np.testing.assert_array_equal(prod(np.array([2.0, 0.0, 3.0, 0.0])),
                                  [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(prod(np.array([0.0])), [1.0])
    rows = ad.grad(lambda m: np.sum(np.prod(m, axis=1)))
    np.testing.assert_array_equal(
        rows(np.array([[0.0, 2.0, 3.0], [1.0, 2.0, 4.0]])),
        [[6.0, 0.0, 0.0], [8.0, 4.0, 2.0]])
    # No division: the product underflows to 0, the products of the others
    # do not (prod / x would give 0 for the first two).
    tiny = np.array([1e-200, 1e-200, 1e-10])
    np.testing.assert_allclose(prod(tiny), [1e-210, 1e-210, 0.0], rtol=1e-12)


def f_cumprod_weighted(x):
    return np.sum(np.array([0.5, -1.0, 2.0, 1.5, 3.0]) * np.cumprod(x))


@pytest.mark.parametrize("x", [
    [2.0, 0.0, 3.0, 0.5, 1.5], [0.0, 2.0, 3.0, 0.5, 1.5],
    [2.0, 0.0, 3.0, 0.0, 1.5], [1.5, 2.0, 3.0, 0.5, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0]])
def test_the_gradient_of_a_cumulative_product_is_exact_at_zeros(x):
    # Dividing by x would give nan here (and a warning, an error in tests).
    x = np.array(x)
    expected = numeric_gradient(f_cumprod_weighted, (x,), 0)
    np.testing.assert_allclose(ad.grad(f_cumprod_weighted)(x), expected,
                               rtol=1e-9, atol=1e-9)


def test_sorting_hands_each_gradient_back_along_the_stable_order():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    weights = np.array([10.0, 20.0, 30.0, 40.0])
    # sorted: 1 (x[1]), 2 (x[3]), 3 (x[0]), 3 (x[2]): equal keys in order.
    grad = ad.grad(lambda x: np.sum(np.sort(x) * weights))(x)
    np.testing.assert_array_equal(grad, [30.0, 10.0, 40.0, 20.0])


def picked_along_rows(x):
    return np.take_along_axis(x, np.array([[2, 0], [1, 1], [0, 3]]),
                              axis=1) * x[:, :2]


def sorted_columns(x):
    return np.sort(x * x[0], axis=0)


def sorted_rows(x):
    return np.sort(np.sin(x), axis=1)[:, 1:]


def sorted_flat(x):
    return np.sort(x, axis=None) ** 2


def row_maxima_taken(x):
    return np.take_along_axis(x, x.argmax(axis=1)[:, None], axis=1) * x


def sorted_vector(x):
    return np.cumsum(np.sort(x ** 3))


FORWARD_CASES = [(picked_along_rows, (3, 4)), (sorted_columns, (3, 4)),
                 (sorted_rows, (3, 4)), (sorted_flat, (2, 3)),
                 (row_maxima_taken, (3, 4)), (sorted_vector, (5,))]


@pytest.mark.parametrize("function, shape", FORWARD_CASES,
                         ids=[f.__name__ for f, _ in FORWARD_CASES])
def test_forward_rules_of_indexing_agree_with_central_differences(
        function, shape):
    # take_along_axis (sort's gather along the order) and, in the Hessian,
    # put_along_axis (its gradient), with a batch of tangents over a 2-D
    # parameter: trailing batch axes the indices must broadcast against.
    x = signed(*shape)
    jacobian = ad.jacobian(function)(x)
    np.testing.assert_allclose(jacobian, numeric_jacobian(function, x),
                               rtol=1e-7, atol=1e-9)
    v = signed(*shape)
    _, tangent = ad.jvp(function, (x,), (v,))
    np.testing.assert_allclose(tangent, np.tensordot(jacobian, v, v.ndim),
                               rtol=1e-12, atol=1e-12)

    def total(y):
        return np.sum(function(y) ** 2 * np.cos(y[..., :1]))

    np.testing.assert_allclose(ad.hessian(total)(x), numeric_jacobian(
        ad.grad(total), x), rtol=1e-6, atol=1e-7)


def test_the_gradient_of_a_norm_at_zero_is_nan_as_in_jax():
    with pytest.warns(RuntimeWarning, match="invalid value"):
        grad = ad.grad(lambda x: np.linalg.norm(x))(np.zeros(3))
    assert np.isnan(grad).all()
    np.testing.assert_array_equal(
        ad.grad(lambda x: np.linalg.norm(x, 1))(np.array([0.0, -2.0])),
        [1.0, -1.0])  # abs'(0) = 1, as JAX


def test_gradients_keep_the_dtype_of_their_arguments():
    x = np.array([1.0, 3.0, 2.0], dtype=np.float32)
    for function in (lambda x: np.max(x), lambda x: np.prod(x),
                     lambda x: np.var(x), lambda x: np.sum(np.cumsum(x))):
        assert ad.grad(function)(x).dtype == np.float32


# -- the generated code -------------------------------------------------------

def _body(function, *args, **options):
    text = ad.source(ad.grad(function, **options), *args)
    return text.split('"""\n', 1)[1]


def max_of(x):
    return np.max(x)


def prod_of(x):
    return np.prod(x)


def variance(x):
    return np.var(x, ddof=1)


def running_total(x):
    return np.sum(WEIGHTS * np.cumsum(x))


def norm_of(x):
    return np.linalg.norm(x)


def softmax_cross_entropy(logits, label):
    return np.log(np.sum(np.exp(logits))) - logits[label]


def test_the_generated_gradients_read_like_numpy():
    x = signed(12)
    assert _body(max_of, x) == (
        "    x_is_max = x == np.max(x)\n"
        "    return x_is_max / np.sum(x_is_max)\n")
    assert _body(prod_of, x) == (
        "    return (np.pad(np.cumprod(x[:0:-1])[::-1], (0, 1), "
        "constant_values=1)\n"
        "            * np.pad(np.cumprod(x[:-1]), (1, 0), "
        "constant_values=1))\n")
    # The variance's gradient divides by its count, read at run time.
    assert _body(variance, x) == (
        "    return (x - np.mean(x)) * (2 / (x.size - 1))\n")
    assert _body(running_total, x) == (
        "    return np.cumsum(WEIGHTS[::-1])[::-1]\n")
    assert _body(norm_of, x) == "    return x / np.linalg.norm(x)\n"
    assert _body(softmax_cross_entropy, x, 3) == (
        "    exp_logits = np.exp(logits - np.max(logits))\n"
        "    d_logits_1 = exp_logits / np.sum(exp_logits)\n"
        "    d_logits_1[label] -= 1\n"
        "    return d_logits_1\n")


def test_indices_given_as_arguments_are_read_when_the_code_runs():
    grad = ad.grad(softmax_cross_entropy)
    logits = signed(5)
    generated = None
    for label in (0, 3, -1):
        expected = np.exp(logits) / np.sum(np.exp(logits))
        expected[label] -= 1
        np.testing.assert_allclose(grad(logits, label), expected,
                                   rtol=1e-12)
        generated = generated or dict(grad.generated)
        assert grad.generated == generated  # one code for every label


# -- refused, in the user's terms ---------------------------------------------

def split_unequally(x):
    return np.sum(np.split(x, 4)[0])


def repeat_each(x):
    return np.sum(np.repeat(x, [1, 2, 3]))


def index_by_a_float(x, y):
    return x[y]


@pytest.mark.parametrize("function,args,message", [
    (split_unequally, (signed(6),),
     "array split does not result in an equal division: 6 into 4"),
    (repeat_each, (signed(3),),
     "np.repeat takes one number of repeats here (the same for every "
     "element)"),
    (index_by_a_float, (signed(3), 1.0),
     "indices must be integers (constants, integer arguments or integer "
     "arrays), slices, None or ...: this one is a float, or computed from "
     "floats"),
])
def test_refused_with_the_reason_at_the_users_line(function, args, message):
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(function)(*args)
    assert info.value.msg == message
    assert info.value.lineno == function.__code__.co_firstlineno + 1


def weighted_by_literals(x):
    w = np.array([1.0, -2.0, 0.5])
    return np.sum(x ** 2 * w) + np.sum(x[np.array([0, 2])])


def halves(w):
    a, b = np.split(w, 2)
    return np.sum(a * b)


def total_of_product(A, B):
    return np.sum(A @ B)


def test_constant_arrays_keep_the_dtype_of_their_literals():
    # [1.0, -2.0, 0.5] stays float (1.0, not the integer 1); [0, 2] is an
    # integer array, usable as an index.
    x = signed(3)
    assert _body(weighted_by_literals, x) == (
        "    d_x_1 = 2 * np.array([1.0, -2.0, 0.5]) * x\n"
        "    d_x_1[np.array([0, 2])] += 1\n"
        "    return d_x_1\n")
    np.testing.assert_allclose(ad.grad(weighted_by_literals)(x),
                               numeric_gradient(weighted_by_literals, (x,), 0),
                               rtol=1e-7)


def test_the_pieces_of_a_gradient_are_written_into_one_array():
    # np.split's equal pieces are rows of a reshape, cut at any size.
    assert _body(halves, signed(6)) == (
        "    w_reshaped = np.reshape(w, (2, -1))\n"
        "    d_w_reshaped = np.zeros_like(w_reshaped)\n"
        "    d_w_reshaped[0] = w_reshaped[1]\n"
        "    d_w_reshaped[1] = w_reshaped[0]\n"
        "    return np.reshape(d_w_reshaped, w.shape)\n")


def test_the_sum_of_a_product_needs_no_product_in_its_gradient():
    # Not ones((n, m)) @ B.T: each factor's gradient sums the other.
    assert _body(total_of_product, signed(2, 3), signed(3, 4),
                 argnums=(0, 1)) == (
        "    grad_A = np.full_like(A, np.sum(B, axis=1))\n"
        "    grad_B = np.full_like(B, np.sum(A, axis=0)[:, None])\n"
        "    return grad_A, grad_B\n")


def test_a_mean_in_another_float_dtype_casts_first():
    # float32 data, a float64 mean: the gradient keeps its argument's
    # dtype, as every gradient does.
    x = np.array([0.3, -0.7, 1.2, 0.5], dtype=np.float32)
    gradient = ad.grad(f_mean_in_float64)(x)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, x / 2, rtol=1e-7)
