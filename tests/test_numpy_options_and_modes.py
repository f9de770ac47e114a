"""NumPy functions with the options and modes real code passes:
``np.round(x, decimals)``, the nan-skipping reductions, ``np.max(x,
initial=)``, ``np.diff(x, prepend=, append=)``, ``np.cross`` of
2-vectors, ``np.pad``'s gathering modes and ``np.gradient`` along each
axis. Each is checked against central differences or JAX's values, for
the gradient and for a second derivative (the gradient is itself code
that is differentiated again).
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

X = np.array([1.2345, -2.5, 0.125, 3.75])


def _matches_central_differences(f, x, rtol=1e-6, atol=1e-8):
    """The value is f's; the gradient is its central differences'."""
    value, gradient = ad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-12)
    np.testing.assert_allclose(gradient, numeric_gradient(f, (x,), 0),
                               rtol=rtol, atol=atol)


# -- np.round(x, decimals) ----------------------------------------------------

def _rounded_weights(x):
    return np.sum(np.round(x, 2) * x ** 2 + np.around(x, decimals=-1) * x)


def test_round_with_decimals_has_the_derivative_zero_as_in_jax():
    gradient = ad.grad(_rounded_weights)(X)
    np.testing.assert_allclose(
        gradient, 2 * X * np.round(X, 2) + np.round(X, -1), rtol=1e-12)
    # JAX: jax.hessian of sum(round(x, 2) * x ** 2) is diag(2 round(x, 2))
    np.testing.assert_allclose(ad.hessian(_rounded_weights)(X),
                               np.diag(2 * np.round(X, 2)), atol=1e-12)


def test_round_with_decimals_prints_as_written_and_is_numpys_value():
    def f(x):
        return np.round(x, 2) * x
    source = ad.source(ad.grad(f))
    assert "return np.round(x, 2)" in source
    # exactly NumPy's value: 0.01 * np.rint(100 * x) differs in the last
    # digit for about one x in eight
    grid = np.arange(2000) / 1000 + 0.0049
    assert all(ad.grad(f)(float(x)) == np.round(x, 2) for x in grid)


def test_round_method_with_decimals():
    def f(x):
        return np.sum(x.round(1) * x ** 2)
    np.testing.assert_allclose(ad.grad(f)(X), 2 * X * X.round(1),
                               rtol=1e-12)
    np.testing.assert_allclose(
        ad.jvp(ad.grad(f), (X,), (np.ones(4),))[1], 2 * X.round(1),
        rtol=1e-12)


def test_round_refuses_decimals_that_are_not_an_integer():
    def f(x):
        return np.round(x, 1.5)
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"np.round\(\) takes x and decimals, an integer here")):
        ad.grad(f)(1.0)


# -- nan-skipping reductions --------------------------------------------------

WITH_NAN = np.array([1.5, np.nan, -2.0, 0.5, 3.0])

# JAX 0.10.2's values and gradients of each of x * x (nanprod: of x). At
# the nan JAX's gradient is nan (0 times 2 * x), and so is ours for nanmax
# and nanmin, whose gradients are 0 at elements other than the extreme; the
# others never multiply by 2 * x there, and give 0.
NAN_REDUCTIONS = {
    "nanmax": (lambda x: np.nanmax(x * x), 9.0, [0, np.nan, 0, 0, 6]),
    "nanmin": (lambda x: np.nanmin(x * x), 0.25, [0, np.nan, 0, 1, 0]),
    "nanmean": (lambda x: np.nanmean(x * x), 3.875,
                [0.75, 0, -1, 0.25, 1.5]),
    "nanvar": (lambda x: np.nanvar(x * x), 10.515625,
               [-2.4375, 0, -0.25, -1.8125, 15.375]),
    "nanstd": (lambda x: np.nanstd(x * x), 3.2427804427682116,
               [-0.37583488, 0, -0.03854717, -0.27946696, 2.37065078]),
    "nanprod": (lambda x: np.nanprod(x), -4.5, [-3, 0, 2.25, -9, -1.5]),
    "nansum": (lambda x: np.nansum(x * x), 15.5, [3, 0, -4, 1, 6]),
}


@pytest.mark.parametrize("name", sorted(NAN_REDUCTIONS))
def test_nan_reductions_match_jax_and_give_nan_entries_zero(name):
    f, value, gradient = NAN_REDUCTIONS[name]
    result, computed = ad.value_and_grad(f)(WITH_NAN)
    assert result == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(computed, gradient, rtol=1e-7, atol=1e-12)


def nan_mean_of_square(x):
    return np.nanmean(x * x)


def test_a_nan_reduction_at_a_number_tests_once_and_returns_nan():
    # x ** 2 was computed in the test and again in the branch, and the
    # gradient at nan was written (1e1000-1e1000), astor's float nan
    derivative = ad.value_and_grad(nan_mean_of_square)
    assert ad.source(derivative, 2.0).split('"""')[2] == (
        "\n    x_sq = x ** 2\n"
        "    if not np.isnan(x_sq):\n"
        "        value = x_sq\n"
        "        grad_x = 2 * x\n"
        "        return value, grad_x\n"
        "    value = np.nan\n"
        "    grad_x = np.nan\n"
        "    return value, grad_x\n")
    assert derivative(3.0) == (9.0, 6.0)
    value, gradient = derivative(np.nan)
    assert math.isnan(value) and math.isnan(gradient)


def test_a_value_a_later_line_changes_is_not_named_before_the_test():
    # (the pass that named x ** 2 above: a carried h read after a loop is
    # another value than the test's)
    from autodiff_ast._array_passes import shared_with_tests
    body = ast.parse(
        "if np.all(h * 2 != 0):\n    return h * 2\n"
        "for i in range(3):\n    h = h + 1\n"
        "return h * 2\n").body
    before = [ast.dump(s) for s in body]
    assert [ast.dump(s) for s in shared_with_tests(body, {"h"})] == before
    named = shared_with_tests(ast.parse(
        "if y * 2 > 0:\n    return y * 2\nreturn -(y * 2)\n").body, {"y"})
    assert ast.unparse(ast.fix_missing_locations(ast.Module(named, []))) == (
        "shared = y * 2\nif shared > 0:\n    return shared\n"
        "return -shared")


# JAX's Hessian diagonals (without its nan at the nan entry).
@pytest.mark.parametrize("name, diagonal", [
    ("nanmax", [0, 0, 0, 0, 2]),
    ("nanvar", [1.75, 0, 6.125, -3.25, 18.625]),
    ("nanstd", [0.2262713, 0, 0.94394738, -0.52519799, 1.1386879]),
])
def test_nan_reductions_hessians_match_jax(name, diagonal):
    hessian = ad.hessian(NAN_REDUCTIONS[name][0])(WITH_NAN)
    np.testing.assert_allclose(np.diag(hessian), diagonal, rtol=1e-7,
                               atol=1e-12)


def test_nanvar_with_ddof_matches_jax():
    gradient = ad.grad(lambda x: np.nanvar(x, ddof=1))(WITH_NAN)
    np.testing.assert_allclose(gradient, [0.5, 0, -11 / 6, -1 / 6, 1.5],
                               rtol=1e-12)


# Over nan alone the value is nan, and so is the gradient, as JAX's (each
# with NumPy's warning: the function's own, and 0 / 0 ties).
@pytest.mark.filterwarnings("ignore:All-NaN slice encountered")
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_nanmax_along_an_axis_is_nan_where_all_are_nan():
    def f(m):
        return np.nanmax(m, axis=1)
    m = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    values, pullback = ad.vjp(f, m)
    np.testing.assert_array_equal(values, [3.0, np.nan])
    (cotangent,) = pullback(np.array([2.0, 0.0]))
    np.testing.assert_array_equal(cotangent, [[0, 0, 2], [np.nan] * 3])


# -- np.max(initial=, where=) -------------------------------------------------

def test_max_with_initial_shares_a_tie_as_jax():
    def f(x, c):
        return np.max(x, initial=c)
    x = np.array([1.0, 3.0, 2.0])
    gradient = ad.grad(f, argnums=(0, 1))
    np.testing.assert_array_equal(gradient(x, 0.5)[0], [0, 1, 0])
    np.testing.assert_array_equal(gradient(x, 3.0)[0], [0, 0.5, 0])
    assert gradient(x, 4.0)[1] == 1.0


def test_min_with_initial_along_an_axis():
    def f(x):
        return np.sum(np.min(x * x, axis=0, initial=1.0) * x[0])
    x = np.array([[1.5, -0.5], [0.5, -4.0]])
    _matches_central_differences(f, x, atol=1e-6)
    # f is x[1, 0] ** 2 * x[0, 0] + x[0, 1] ** 3 here
    np.testing.assert_allclose(ad.hessian(f)(x).reshape(4, 4), [
        [0, 0, 2 * x[1, 0], 0], [0, 6 * x[0, 1], 0, 0],
        [2 * x[1, 0], 0, 2 * x[0, 0], 0], [0, 0, 0, 0]], atol=1e-12)


def test_max_with_where_is_refused_with_the_way_to_write_it():
    def f(x):
        return np.max(x, where=x > 0, initial=0.0)
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"np.max with where= is not supported: write np.max\(np.where\("
            r"mask, x, initial\), initial=initial\)")):
        ad.grad(f)(X)


# -- np.diff(prepend=, append=) -----------------------------------------------

M = np.array([[1.0, 2.0, 4.0], [3.0, 7.0, 11.0], [0.5, -1.0, 2.0]])


def test_diff_with_prepend_has_the_hessian_of_its_differences():
    def f(x):
        return np.sum(np.diff(x, prepend=0.0) ** 2)
    x = np.array([1.0, 3.0, 2.5, -1.0])
    differences = np.eye(4) - np.eye(4, k=-1)  # x - [0, x[:-1]]
    np.testing.assert_allclose(ad.grad(f)(x),
                               2 * differences.T @ differences @ x)
    np.testing.assert_allclose(ad.hessian(f)(x),
                               2 * differences.T @ differences)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_second_differences_with_both_ends_along_an_axis(axis):
    def f(m, c):
        ends = m[:1] if axis == 0 else m[:, :1]
        return np.sum(np.diff(m * m, n=2, axis=axis, prepend=c,
                              append=ends) ** 2)
    value, (gradient_m, gradient_c) = ad.value_and_grad(
        f, argnums=(0, 1))(M, 0.5)
    assert value == pytest.approx(f(M, 0.5), rel=1e-12)
    np.testing.assert_allclose(gradient_m, numeric_gradient(f, (M, 0.5), 0),
                               rtol=1e-6)
    assert gradient_c == pytest.approx(numeric_gradient(f, (M, 0.5), 1),
                                       rel=1e-6)


def test_diff_with_append_jvp():
    def f(m):
        return np.diff(m, axis=1, append=np.ones((3, 1)))
    tangent = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(ad.jvp(f, (M,), (tangent,))[1],
                               np.diff(tangent, axis=1, append=0.0))


# -- np.gradient along each axis ----------------------------------------------

GRID = np.array([1.0, 3.0, 2.5, -1.0, 0.5])


def both_axes(x):
    gy, gx = np.gradient(np.outer(x, np.sin(x)), 0.5, 2.0)
    return np.sum(gy * gx)


def second_order_ends(x):
    return np.sum(np.gradient(np.outer(x, x ** 2), axis=1,
                              edge_order=2) ** 2)


def along_axis_0_with_a_step(x):
    return np.sum(np.gradient(np.outer(x, x), 0.25, axis=0) * x)


@pytest.mark.parametrize("f", [both_axes, second_order_ends,
                               along_axis_0_with_a_step])
def test_gradient_of_a_matrix_against_central_differences(f):
    _matches_central_differences(f, GRID, atol=1e-6)


def test_gradient_is_linear_so_its_jacobian_is_its_matrix():
    def f(m):
        return np.gradient(m, 2.0, edge_order=2)[1]
    m = np.outer(GRID, GRID)
    jacobian = ad.jacobian(f)(m).reshape(25, 25)
    columns = np.eye(25).reshape(25, 5, 5)
    expected = np.stack([np.gradient(c, 2.0, edge_order=2)[1].ravel()
                         for c in columns], axis=1)
    np.testing.assert_allclose(jacobian, expected, atol=1e-12)


def test_gradient_along_axes_in_the_order_given():
    def f(m):
        dx, dy = np.gradient(m, axis=(1, -2))
        return np.sum(dx * m) + np.sum(dy ** 2)
    _matches_central_differences(f, np.outer(GRID, np.cos(GRID)))


def test_gradient_with_coordinates_is_refused():
    def f(x):
        return np.sum(np.gradient(x, np.arange(5.0)))
    with pytest.raises(ad.UnsupportedCodeError, match=(
            "np.gradient's spacings must be numbers here \\(coordinates are "
            "not supported\\): pass the constant step of each axis")):
        ad.grad(f)(GRID)


# -- np.pad's modes that copy elements -----------------------------------------

PAD_CASES = [(2, "edge"), ((1, 3), "edge"), (2, "reflect"), ((0, 2), "reflect"),
             (3, "symmetric"), ((2, 1), "symmetric"), (2, "wrap"),
             ((3, 1), "wrap")]


@pytest.mark.parametrize("width, mode", PAD_CASES)
def test_pad_of_a_vector_by_mode(width, mode):
    def f(x):
        padded = np.pad(x, width, mode=mode)
        return np.sum(padded ** 2 * np.arange(1.0, padded.size + 1))
    x = np.array([1.0, -2.0, 0.5, 3.0])
    _matches_central_differences(f, x)
    # f is a weighted sum of squares: its Hessian is 2 P^T W P, P the
    # 0/1 matrix that pads
    rows = (width, width) if np.ndim(width) == 0 else width
    copies = np.pad(np.eye(4), (rows, (0, 0)), mode=mode)
    weights = np.diag(np.arange(1.0, len(copies) + 1))
    np.testing.assert_allclose(ad.hessian(f)(x),
                               2 * copies.T @ weights @ copies, atol=1e-12)


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
def test_pad_of_a_matrix_by_mode_has_numpys_corners(mode):
    def f(m):
        return np.sum(np.sin(np.pad(m, ((1, 2), (2, 1)), mode=mode))
                      * np.arange(36.0).reshape(6, 6))
    _matches_central_differences(f, M)
    tangent = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(
        ad.jvp(lambda m: np.pad(m, ((1, 2), (2, 1)), mode=mode), (M,),
               (tangent,))[1],
        np.pad(tangent, ((1, 2), (2, 1)), mode=mode))


def test_pad_wider_than_reflect_allows_is_refused():
    def f(x):
        return np.sum(np.pad(x, 4, mode="reflect"))
    with pytest.raises(ad.UnsupportedCodeError, match=(
            "np.pad's mode 'reflect' pads at most 3 elements here on each "
            "side of an axis of 4: pad in steps \\(np.pad of np.pad\\), each "
            "within that")):
        ad.grad(f)(X)


def test_pad_mode_mean_is_refused():
    def f(x):
        return np.sum(np.pad(x, 1, mode="mean"))
    with pytest.raises(ad.UnsupportedCodeError, match=(
            "np.pad's mode 'mean' is not supported: only 'constant', 'edge', "
            "'reflect', 'symmetric' and 'wrap'")):
        ad.grad(f)(X)


# -- np.sum and np.mean with where= and initial= -------------------------------

def sum_where(x):
    return np.sum(x ** 2, where=x > 0)


def sum_initial(x):
    return np.sum(x ** 2, initial=1.0)


def mean_where(x):
    return np.mean(x ** 2, where=x > 0)


def mean_where_along(x):
    return np.sum(np.mean(x ** 3, axis=0, where=x < 2, keepdims=True))


def methods_where(x):
    return x.sum(where=x > 0) + x.mean(where=x < 0)


@pytest.mark.parametrize("f", [sum_where, sum_initial, mean_where,
                               mean_where_along, methods_where],
                         ids=lambda f: f.__name__)
def test_sum_and_mean_take_where_and_initial(f):
    # the elements where= leaves out get no gradient, as in JAX; a mean
    # divides by the number it keeps
    value, gradient = ad.value_and_grad(f)(X)
    assert value == pytest.approx(f(X), rel=1e-14)
    np.testing.assert_allclose(gradient, numeric_gradient(f, (X,), 0),
                               rtol=1e-8, atol=1e-9)


def test_sum_where_hessian_is_zero_where_left_out():
    hessian = ad.hessian(sum_where)(X).reshape(X.size, X.size)
    np.testing.assert_array_equal(hessian, np.diag(2.0 * (X > 0).ravel()))


def sum_into(x):
    total = np.zeros(())
    return np.sum(x ** 2, out=total)


def test_sum_into_an_array_is_refused_at_the_users_line():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(sum_into)(X)
    assert info.value.msg == (
        "np.sum with out= fills an array given to it, which cannot be "
        "differentiated: use the value it returns")
    assert info.value.lineno == sum_into.__code__.co_firstlineno + 2


def mean_of_the_finite(x):
    return np.mean(x, where=np.isfinite(x))


def test_mean_where_counts_what_it_keeps():
    y = np.array([1.0, np.inf, 3.0])
    value, gradient = ad.value_and_grad(mean_of_the_finite)(y)
    assert value == 2.0
    np.testing.assert_array_equal(gradient, [0.5, 0.0, 0.5])


ROW_MASK = np.array([[True, False, True]])


def mean_where_broadcast(x):
    return np.mean(x ** 2, where=ROW_MASK)


def test_mean_where_of_another_shape_is_refused():
    # (its count would be the mask's, not the broadcast mask's)
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(mean_where_broadcast)(np.ones((2, 3)))
    assert info.value.msg == (
        "np.mean's where= has another shape than the array: broadcast it "
        "to the array's shape first (np.broadcast_to(mask, x.shape))")
    assert info.value.lineno == \
        mean_where_broadcast.__code__.co_firstlineno + 1
