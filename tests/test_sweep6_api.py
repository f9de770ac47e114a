"""The API as the JAX cookbook and "advanced autodiff" docs use it, in NumPy
(sweep 6): Hessian-vector products four ways, ``jacfwd(jacrev(f))`` and
``jacrev(jacrev(f))`` against ``hessian``, jvp and vjp of vector maps and of
pytrees (dicts, namedtuples, lists with ``None``, aux), ``argnums`` over
mixed pytrees; JAX's values at kinks and ties; NumPy and math functions
given to a transform directly; matrix norms by singular values; options
that are not differentiated (bools, functions, enums, ints, floats, dicts,
tuples and lists of ints, lists held by an object); partials of functions
with defaults; integer powers at zero; check_grads as jax.test_util's is
called; refusals and their messages.

Expected numbers at kinks are JAX 0.10.2's (float64, jax_enable_x64),
pasted in. Known bugs are strict xfails whose reason names their entry in
the sweep's list ("sweep6 bug N").
"""

from __future__ import annotations

import enum
import functools
import math
import warnings
from collections import namedtuple

import numpy as np
import pytest
import scipy.linalg
from scipy.special import logsumexp

import autodiff_ast as ad
from autodiff_ast.testing import check_grads
from test_sweep5 import assert_tree_close

A = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]])
X3 = np.array([0.3, -1.2, 0.8])
V3 = np.array([1.0, 0.5, -2.0])


# -- the cookbook: Hessians, hvp, jvp, vjp ------------------------------------------

def tanh_energy(x):
    return np.sum(np.tanh(A @ x) ** 2) + np.sum(x ** 3) / 3


def tanh_energy_hessian(x):
    t = np.tanh(A @ x)
    s = 1 - t ** 2
    inner = 2 * s ** 2 - 4 * t ** 2 * s
    return A.T @ (inner[:, None] * A) + np.diag(2 * x)


def test_compositions_of_jacobians_are_the_hessian():
    H = tanh_energy_hessian(X3)
    np.testing.assert_allclose(ad.hessian(tanh_energy)(X3), H, rtol=1e-12)
    for composed in (ad.jacfwd(ad.jacrev(tanh_energy)),
                     ad.jacrev(ad.jacrev(tanh_energy)),
                     ad.jacfwd(ad.grad(tanh_energy))):
        np.testing.assert_allclose(composed(X3), H, rtol=1e-12)


def test_hessian_vector_products_four_ways():
    want = tanh_energy_hessian(X3) @ V3
    by_jvp = ad.jvp(ad.grad(tanh_energy), (X3,), (V3,))[1]
    by_grad_of_dot = ad.grad(
        lambda x: np.vdot(ad.grad(tanh_energy)(x), V3))(X3)
    by_grad_in_both = ad.grad(
        lambda x, v: ad.grad(tanh_energy)(x) @ v)(X3, V3)
    by_vjp = ad.vjp(ad.grad(tanh_energy), X3)[1](V3)[0]
    for got in (by_jvp, by_grad_of_dot, by_grad_in_both, by_vjp):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def vector_map(x):
    return np.array([x[0] * x[1], np.sin(x[2]), x[0] ** 2 + x[2]])


def test_jvp_vjp_and_jacobians_of_a_vector_map():
    J = np.array([[X3[1], X3[0], 0], [0, 0, np.cos(X3[2])],
                  [2 * X3[0], 0, 1]])
    np.testing.assert_allclose(ad.jacfwd(vector_map)(X3), J, atol=1e-15)
    np.testing.assert_allclose(ad.jacrev(vector_map)(X3), J, atol=1e-15)
    value, tangent = ad.jvp(vector_map, (X3,), (V3,))
    np.testing.assert_allclose(value, vector_map(X3))
    np.testing.assert_allclose(tangent, J @ V3, atol=1e-15)
    value, pullback = ad.vjp(vector_map, X3)
    np.testing.assert_allclose(pullback(V3)[0], V3 @ J, atol=1e-15)
    assert ad.hessian(vector_map)(X3).shape == (3, 3, 3)


def dict_to_tree(p):
    return {'y': p['a'] * p['b'], 'z': [np.sin(p['a']), p['b'] ** 2]}


def test_vjp_with_a_pytree_cotangent():
    p = {'a': np.array([1.0, 2.0]), 'b': np.array([0.5, -1.0])}
    ct = {'y': np.array([1.0, 2.0]),
          'z': [np.array([0.5, 0.5]), np.array([1.0, -1.0])]}
    (got,) = ad.vjp(dict_to_tree, p)[1](ct)
    assert_tree_close(got, {
        'a': ct['y'] * p['b'] + ct['z'][0] * np.cos(p['a']),
        'b': ct['y'] * p['a'] + 2 * p['b'] * ct['z'][1]})


Point = namedtuple('Point', 'x y')


def product_and_sine(p):
    return Point(p.x * p.y, np.sin(p.x))


def test_jacobians_jvp_and_vjp_of_namedtuples():
    p = Point(1.0, 2.0)
    want = Point(Point(2.0, 1.0), Point(math.cos(1.0), 0.0))
    assert ad.jacobian(product_and_sine)(p) == want
    assert ad.jacfwd(product_and_sine)(p) == want
    assert ad.vjp(product_and_sine, p)[1](Point(1.0, 0.5)) == (
        Point(2.0 + 0.5 * math.cos(1.0), 1.0),)
    assert ad.jvp(product_and_sine, (p,), (Point(1.0, 0.0),)) == (
        Point(2.0, math.sin(1.0)), Point(2.0, math.cos(1.0)))


def squares_and_a_none(x):
    return [x[0] * x[1], (x[1] ** 2, None)]


def test_an_output_with_a_none_leaf():
    x = np.array([1.0, 2.0])
    got = ad.jacobian(squares_and_a_none)(x)
    assert_tree_close(got, [np.array([2.0, 1.0]),
                            (np.array([0.0, 4.0]), None)])
    (ct,) = ad.vjp(squares_and_a_none, x)[1]([1.0, (1.0, None)])
    assert_tree_close(ct, np.array([2.0, 5.0]))


def tanh_layer(p, x):
    return np.sum(np.tanh(p['w'] * x + p['b']))


def norm_with_aux(p):
    loss = np.sum(p['w'] ** 2) + p['b']
    return loss, {'twice_b': p['b'] * 2}


def test_jvp_and_vjp_over_dicts_with_aux():
    p = {'w': np.array([1.0, 2.0]), 'b': 0.5}
    t = {'w': np.array([0.1, -0.2]), 'b': 1.0}
    x = np.array([0.3, 0.4])
    z = p['w'] * x + p['b']
    value, tangent = ad.jvp(tanh_layer, (p, x), (t, np.zeros(2)))
    assert value == pytest.approx(np.sum(np.tanh(z)), rel=1e-14)
    assert tangent == pytest.approx(
        np.sum((1 - np.tanh(z) ** 2) * (t['w'] * x + t['b'])), rel=1e-13)
    value, tangent, aux = ad.jvp(norm_with_aux, (p,), (t,), has_aux=True)
    assert (value, aux) == (5.5, {'twice_b': 1.0})
    assert tangent == pytest.approx(2 * (0.1 - 0.4) + 1.0, rel=1e-14)
    value, pullback, aux = ad.vjp(norm_with_aux, p, has_aux=True)
    assert (value, aux) == (5.5, {'twice_b': 1.0})
    assert_tree_close(pullback(1.0), ({'w': np.array([2.0, 4.0]),
                                       'b': 1.0},))


def trajectory(x0, n=3):
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] * 0.5 + 1.0)
    return xs


def square_and_triple(x):
    return [x ** 2, x * 3]


def test_the_jacobian_of_a_list_literal_is_a_list():
    assert ad.jacobian(square_and_triple)(2.0) == [4.0, 3.0]


# was sweep6 bug 22: a list appended to in a loop came back as an array
def test_the_jacobian_of_a_list_appended_to_is_a_list():
    assert trajectory(2.0) == [2.0, 2.0, 2.0, 2.0]
    want = [1.0, 0.5, 0.25, 0.125]
    for jacobian in (ad.jacobian, ad.jacfwd):
        got = jacobian(trajectory)(2.0)
        assert isinstance(got, list) and got == want
    value, tangent = ad.jvp(trajectory, (2.0,), (1.0,))
    assert isinstance(value, list) and isinstance(tangent, list)
    assert tangent == want


Params = namedtuple('Params', 'w b')


def least_squares(p, X, y):
    return np.sum((X @ p.w + p.b - y) ** 2)


def test_argnums_over_a_namedtuple_and_an_array():
    X = np.array([[0.3, -1.2, 2.2], [0.7, 1.9, -0.4], [-0.5, 0.1, 0.8],
                  [1.1, -0.6, 0.2]])
    y = np.array([1.0, -0.5, 0.2, 0.3])
    p = Params(X3, 0.3)
    r = X @ p.w + p.b - y
    want = (Params(2 * X.T @ r, 2 * np.sum(r)), -2 * r)
    assert_tree_close(ad.grad(least_squares, argnums=(0, 2))(p, X, y), want)
    assert_tree_close(ad.jacobian(least_squares, argnums=(0, 2))(p, X, y),
                      want)
    H = ad.hessian(least_squares)(p, X, y)
    np.testing.assert_allclose(H.w.w, 2 * X.T @ X, rtol=1e-12)
    np.testing.assert_allclose(H.w.b, 2 * X.sum(axis=0), rtol=1e-12)
    assert H.b.b == 8.0


def test_hessian_of_a_dict_is_a_dict_of_dicts():
    got = ad.hessian(lambda p: p['a'] ** 2 * p['b'])({'a': 1.0, 'b': 2.0})
    assert got == {'a': {'a': 4.0, 'b': 2.0}, 'b': {'a': 2.0, 'b': 0.0}}


# -- JAX's values at kinks and ties ---------------------------------------------------

KINKS = {
    # name: (function, point, JAX 0.10.2's gradient there)
    "clip at its bounds": (lambda x: np.sum(np.clip(x, -1.0, 1.0)),
                           [-1.0, 1.0, 0.0], [0.5, 0.5, 1.0]),
    "minimum at a tie": (lambda x: np.sum(np.minimum(x, 0.0)),
                         [0.0, 1.0], [0.5, 0.0]),
    "max of a tie": (lambda x: np.max(x), [1.0, 1.0, 0.0], [0.5, 0.5, 0.0]),
    "sort of a tie": (lambda x: np.sort(x)[0] * 1.0 + np.sort(x)[1] * 2.0,
                      [1.0, 1.0, 3.0], [1.0, 2.0, 0.0]),
    "abs at zero": (lambda x: np.sum(np.abs(x)), [0.0, 2.0], [1.0, 1.0]),
    "sign times x": (lambda x: np.sum(np.sign(x) * x), [0.0, 2.0],
                     [0.0, 1.0]),
    "relu by where": (lambda x: np.sum(np.where(x > 0, x, 0.0)), [0.0, 1.0],
                      [0.0, 1.0]),
    "a power 1.5 at zero": (lambda x: np.sum(x ** 1.5), [0.0, 1.0],
                            [0.0, 1.5]),
    "std of equal values": (lambda x: np.std(x), [1.0, 1.0],
                            [np.nan, np.nan]),
    "norms of a zero row": (
        lambda x: np.sum(np.linalg.norm(x, axis=1)),
        [[0.0, 0.0], [3.0, 4.0]], [[np.nan, np.nan], [0.6, 0.8]]),
    "norm of zero": (lambda x: np.linalg.norm(x), [0.0, 0.0, 0.0],
                     [np.nan, np.nan, np.nan]),
    "median of four": (lambda x: np.median(x), [3.0, 1.0, 2.0, 4.0],
                       [0.5, 0.0, 0.5, 0.0]),
    "percentile": (lambda x: np.percentile(x, 30.0),
                   [3.0, 1.0, 2.0, 4.0, 7.0], [0.2, 0.0, 0.8, 0.0, 0.0]),
    "fmax at a tie": (lambda x: np.sum(np.fmax(x, 1.0)), [1.0, 2.0],
                      [0.0, 1.0]),
    "round and floor": (lambda x: np.sum(np.round(x) * x + np.floor(x)),
                        [1.2, 2.7], [1.0, 3.0]),
    "logsumexp with -inf": (lambda x: logsumexp(x), [-np.inf, 0.0],
                            [0.0, 1.0]),
    "cumprod through a zero": (lambda x: np.sum(np.cumprod(x)),
                               [2.0, 0.0, 3.0], [1.0, 8.0, 0.0]),
    "prod of two zeros": (lambda x: np.prod(x), [2.0, 0.0, 0.0],
                          [0.0, 0.0, 0.0]),
    "det of a singular matrix": (lambda x: np.linalg.det(x),
                                 [[1.0, 2.0], [2.0, 4.0]],
                                 [[4.0, -2.0], [-2.0, 1.0]]),
    "min with initial": (lambda x: np.min(x, initial=0.5), [1.0, 2.0],
                         [0.0, 0.0]),
    "interp at a knot": (
        lambda x: np.interp(x[0], np.array([0.0, 1.0, 2.0]), x[1:4]),
        [1.0, 1.0, 2.0, 5.0], [3.0, 0.0, 1.0, 0.0]),
}


@pytest.mark.parametrize("name", list(KINKS))
def test_kinks_and_ties_follow_jax(name):
    f, point, want = KINKS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = ad.grad(f)(np.array(point))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# was sweep6 bug 8: abs'(-0.0) was -1 (np.copysign(1, x))
def test_abs_at_negative_zero_is_one_as_in_jax():
    assert ad.grad(np.abs)(-0.0) == 1.0
    assert ad.grad(abs)(-0.0) == 1.0
    assert_tree_close(ad.grad(lambda x: np.sum(np.abs(x)))(
        np.array([-0.0, 0.0])), np.array([1.0, 1.0]))
    # as np.where(x >= 0, x, -x) derives
    assert ad.source(ad.grad(np.abs), 1.0).endswith(
        "    return 2 * np.heaviside(x, 1) - 1\n")
    # JAX's copysign(x, y) is where(signbit(y), -abs(x), abs(x))
    assert ad.grad(np.copysign)(-0.0, 1.0) == 1.0
    assert ad.grad(np.copysign)(-0.0, -1.0) == -1.0
    assert ad.grad(np.copysign)(-3.0, -1.0) == 1.0


@pytest.mark.xfail(strict=True, reason=(
    "sweep6 bug 11: hypot's gradient at (0, 0) is nan; JAX gives 0.5 "
    "for each argument (a guard at the origin, tried, made every hypot's "
    "derivative longer and its generation 50% slower: not worth a value "
    "at the one point where hypot has no derivative)"))
def test_hypot_at_the_origin_as_in_jax():
    assert ad.grad(np.hypot, (0, 1))(0.0, 0.0) == (0.5, 0.5)
    assert ad.grad(math.hypot, (0, 1))(0.0, 0.0) == (0.5, 0.5)


def polynomial_design_loss(x, w):
    Phi = x[:, None] ** np.arange(4)
    return np.sum((Phi @ w - 1.0) ** 2)


def power_by_an_int_argument(x, k):
    return x ** k


# was sweep6 bug 29: x ** k at x = 0 with k = 0 had gradient nan
def test_integer_powers_at_zero_as_in_jax():
    x = np.array([0.0, 0.5, 1.0])
    w = np.array([1.0, -1.0, 0.5, 0.2])
    grad_x, grad_w = ad.grad(polynomial_design_loss, (0, 1))(x, w)
    # JAX 0.10.2
    assert_tree_close(grad_x, np.array([0.0, 0.245, -0.36]))
    assert_tree_close(grad_w, np.array([-1.3, -0.95, -0.775, -0.6875]))
    assert ad.grad(power_by_an_int_argument)(0.0, 0) == 0.0


# -- library functions given directly ------------------------------------------------

def test_numpy_and_math_functions_given_to_a_transform():
    x = np.array([0.5, -1.0, 2.0])
    assert_tree_close(ad.grad(np.sum)(x), np.ones(3))
    assert_tree_close(ad.grad(np.mean)(x), np.full(3, 1 / 3))
    assert_tree_close(ad.grad(np.prod)(x), np.array([-2.0, 1.0, -0.5]))
    assert_tree_close(ad.grad(np.max)(x), np.array([0.0, 0.0, 1.0]))
    assert_tree_close(ad.grad(np.linalg.norm)(x), x / np.linalg.norm(x))
    assert_tree_close(ad.grad(np.dot, argnums=(0, 1))(x, V3), (V3, x))
    assert_tree_close(ad.jacobian(np.cumsum)(x), np.tril(np.ones((3, 3))))
    assert ad.grad(math.exp)(1.0) == math.e


SPECTRAL = np.array([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]])


# was sweep6 bug 13: norms of orders 2, -2 and 'nuc' were refused
def test_matrix_norms_by_singular_values_against_jax():
    assert_tree_close(ad.grad(lambda A: np.linalg.norm(A, 2))(SPECTRAL),
                      np.array([[0.083680308321402, -0.09263874854160326,
                                 0.13104121795601806],
                                [0.45472094029379617, -0.5034013340711434,
                                 0.7120813371927414]]), rtol=1e-10)
    assert_tree_close(ad.grad(lambda A: np.linalg.norm(A, 'nuc'))(SPECTRAL),
                      np.array([[0.15801356237168515, 0.7298876134123794,
                                 0.665053220346906],
                                [0.44104171625489025, -0.654767267485865,
                                 0.613809441074373]]), rtol=1e-10)


def scipy_linalg_of_a_shifted_matrix(A):
    B = A + 2 * np.eye(3)
    return (np.sum(scipy.linalg.solve(B, np.ones(3)) ** 2)
            + np.sum(scipy.linalg.inv(B)) + scipy.linalg.det(B))


def numpy_linalg_of_a_shifted_matrix(A):
    B = A + 2 * np.eye(3)
    return (np.sum(np.linalg.solve(B, np.ones(3)) ** 2)
            + np.sum(np.linalg.inv(B)) + np.linalg.det(B))


# was sweep6 bug 24: scipy.linalg.solve, inv and det were refused
def test_scipy_linalg_solve_inv_and_det():
    assert_tree_close(ad.grad(scipy_linalg_of_a_shifted_matrix)(A),
                      ad.grad(numpy_linalg_of_a_shifted_matrix)(A))


# -- options that are not differentiated ----------------------------------------------

def squared_or_cubed(x, square):
    return x ** 2 if square else x ** 3


def normalised_square(x, normalize=False):
    if normalize:
        x = x / 2
    return np.sum(x ** 2)


def normalised_square_keyword(x, *, normalize=False):
    if normalize:
        x = x / 2
    return np.sum(x ** 2)


# was sweep6 bug 4: a bool option was refused or crashed
def test_bool_options_are_taken_as_static():
    x = np.array([1.0, 2.0])
    assert ad.grad(squared_or_cubed)(2.0, True) == 4.0
    assert ad.grad(squared_or_cubed)(2.0, square=False) == 12.0
    assert ad.grad(squared_or_cubed)(2.0, np.False_) == 12.0
    assert_tree_close(ad.grad(normalised_square)(x), 2 * x)
    assert_tree_close(ad.grad(normalised_square)(x, True), x / 2)
    assert_tree_close(ad.grad(normalised_square_keyword)(x), 2 * x)
    assert_tree_close(ad.grad(normalised_square_keyword)(x, normalize=True),
                      x / 2)


def activation_sum(x, fn=np.tanh):
    return np.sum(fn(x))


def rectifier(z):
    return z * (z > 0)


# was sweep6 bug 5: a function passed as an argument was refused
def test_a_function_passed_as_an_option():
    x = np.array([0.5, -1.0])
    assert_tree_close(ad.grad(activation_sum)(x), 1 - np.tanh(x) ** 2)
    assert_tree_close(ad.grad(activation_sum)(x, np.sin), np.cos(x))
    assert_tree_close(ad.grad(activation_sum)(x, fn=rectifier),
                      np.array([1.0, 0.0]))


class Polynomial:
    def __init__(self, coefficients):
        self.coefficients = coefficients

    def __call__(self, x):
        return np.polyval(self.coefficients, x)

    def leading(self, x):
        return self.coefficients[0] * x ** 2 + self.coefficients[2]


def test_a_callable_object_holding_an_array_or_a_tuple():
    for held in (np.array([1.0, 0.0, -2.0]), (1.0, 0.0, -2.0)):
        assert ad.grad(Polynomial(held))(3.0) == 6.0
        assert ad.value_and_grad(Polynomial(held).leading)(3.0) == (7.0, 6.0)


# was sweep6 bug 6: a list of numbers held by an object was refused
def test_a_callable_object_holding_a_list():
    p = Polynomial([1.0, 0.0, -2.0])
    assert ad.grad(p)(3.0) == 6.0
    assert ad.value_and_grad(p.leading)(3.0) == (7.0, 6.0)


def reshaped_row_sums(x, shape=(2, 3)):
    return np.sum((x.reshape(shape) @ np.ones(shape[1])) ** 2)


def squares_at(x, idx=[0, 2]):
    return np.sum(x[idx] ** 2)


def broadcast_into_ones(x, shape):
    return np.sum(np.ones(shape) * x)


def squares_between(x, bounds):
    return np.sum(x[bounds[0]:bounds[1]] ** 2)


# was sweep6 bug 14: a tuple or list of ints as an option was refused
def test_tuples_and_lists_of_ints_as_options():
    x = np.arange(1.0, 7.0)
    assert_tree_close(ad.grad(reshaped_row_sums)(x, (3, 2)),
                      np.repeat(2 * x.reshape(3, 2).sum(axis=1), 2))
    assert_tree_close(ad.grad(squares_at)(x),
                      np.array([2.0, 0.0, 6.0, 0.0, 0.0, 0.0]))
    assert_tree_close(ad.grad(squares_at)(x, [1, 3]),
                      np.array([0.0, 4.0, 0.0, 8.0, 0.0, 0.0]))
    assert_tree_close(ad.grad(broadcast_into_ones)(x, (2, 6)), np.full(6, 2.0))
    assert_tree_close(ad.grad(squares_between)(x, (0, 2)),
                      np.array([2.0, 4.0, 0.0, 0.0, 0.0, 0.0]))


def masked_squares(x, mask):
    return np.sum(x[mask] ** 2)


# was sweep6 bug 19: a boolean mask passed as an argument was refused
def test_a_boolean_mask_passed_as_an_argument():
    x = np.arange(1.0, 4.0)
    assert_tree_close(ad.grad(masked_squares)(x, np.array([True, False,
                                                           True])),
                      np.array([2.0, 0.0, 6.0]))


def quadratic_with_defaults(x, a=1.0, b=2.0):
    return a * x ** 2 + b * x


def summed_quadratic_with_defaults(x, a=1.0, b=2.0):
    return np.sum(a * x ** 2 + b * x)


# was sweep6 bug 30: a keyword the partial bound could not be passed again
def test_partials_keep_the_other_defaults():
    bound_b = functools.partial(quadratic_with_defaults, b=5.0)
    assert ad.grad(bound_b)(1.0) == 7.0
    assert ad.grad(bound_b)(1.0, b=7.0) == 9.0
    assert ad.grad(functools.partial(quadratic_with_defaults, 1.0))(3.0) == 1.0
    summed = functools.partial(summed_quadratic_with_defaults, b=5.0)
    assert_tree_close(ad.grad(summed)(np.array([1.0])), np.array([7.0]))
    assert ad.jvp(bound_b, (1.0,), (1.0,)) == (6.0, 7.0)


class Reduction(enum.Enum):
    SUM = 1
    MEAN = 2


def reduced_squares(x, reduction=Reduction.SUM):
    if reduction == Reduction.SUM:
        return np.sum(x ** 2)
    return np.mean(x ** 2)


# was sweep6 bug 15: an enum member as an option was refused
def test_an_enum_option():
    x = np.array([1.0, -2.0, 3.0])
    assert_tree_close(ad.grad(reduced_squares)(x), 2 * x)
    assert_tree_close(ad.grad(reduced_squares)(x, Reduction.MEAN), 2 * x / 3)


def int_power_norm(x, p=2):
    return np.sum(np.abs(x) ** p) ** (1 / p)


def scaled_by_a_dict(x, cfg):
    return np.sum(x ** cfg['p']) * cfg['scale']


def softmax_temperature(x, temperature=1.0):
    z = x / temperature
    return np.log(np.sum(np.exp(z - z.max()))) + z.max()


def test_int_float_dict_and_string_options():
    x = np.array([1.0, -2.0, 3.0])
    assert_tree_close(ad.grad(int_power_norm)(x), x / np.linalg.norm(x))
    assert_tree_close(ad.grad(int_power_norm)(x, p=1), np.sign(x))
    assert_tree_close(ad.grad(scaled_by_a_dict)(x, {'p': 2, 'scale': 0.5}),
                      x)
    z = x / 0.5
    softmax = np.exp(z) / np.sum(np.exp(z))
    assert_tree_close(ad.grad(softmax_temperature)(x, 0.5), softmax / 0.5)


def squared_tanh(x):
    return np.sum(np.tanh(x) ** 2)


def test_check_grads_at_every_order():
    check_grads(squared_tanh, (np.array([0.3, -0.5]),), order=2)
    check_grads(squared_tanh, (np.array([0.3, -0.5]),), 2, atol=1e-4,
                rtol=1e-4)


# was sweep6 bug 31: check_grads did not take JAX's modes=
def test_check_grads_takes_jax_modes():
    check_grads(squared_tanh, (np.array([0.3, -0.5]),), order=2,
                modes=["rev"])
    check_grads(squared_tanh, (np.array([0.3, -0.5]),), order=1,
                modes=("fwd", "rev"))


# -- refusals and their messages -------------------------------------------------------

def product(x, y):
    return x * y


def test_argnums_errors_name_the_function_and_the_fix():
    with pytest.raises(ad.ArgnumsError, match=(
            r"^argnums=2 is out of range: product \(.*test_sweep6_api.py:\d+\) "
            r"takes 2 positional arguments \(x, y\); valid indices are 0..1 "
            r"or -2..-1.$")):
        ad.grad(product, argnums=2)(1.0, 2.0)
    with pytest.raises(ad.ArgnumsError, match=(
            r"^argnums=\(0, 0\) names argument 0 \(x\) twice: each argument "
            r"is differentiated once. Pass argnums=\(0,\).$")):
        ad.grad(product, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(ad.ArgnumsError, match=r"^argnums=\(\) selects no "):
        ad.grad(product, argnums=())(1.0, 2.0)
    assert ad.grad(product, argnums=-1)(2.0, 3.0) == 2.0


def test_inputs_jax_refuses_are_refused_with_the_fix():
    with pytest.raises(ad.InputError, match=(
            r"^grad requires floating-point inputs, but argument x has dtype "
            r"int64. Pass floats, e.g. np.asarray\(x, dtype=float\), or leave "
            r"the argument out of argnums.$")):
        ad.grad(lambda x: np.sum(x ** 2))(np.array([1, 2]))
    with pytest.raises(ad.InputError, match=r"is complex \(\(1\+2j\)\)"):
        ad.grad(lambda z: z ** 2)(1.0 + 2j)
    with pytest.raises(ad.OutputError, match=(
            r"^Gradient only defined for scalar-output functions. Output had "
            r"shape: \(1,\).")):
        ad.grad(lambda x: np.sum(x, keepdims=True))(np.ones(3))
    with pytest.raises(ad.InputError, match=(
            r"^the tangent for x has shape \(2,\), but the argument has shape "
            r"\(3,\): pass tangents shaped like the primals.$")):
        ad.jvp(lambda x: np.sum(x ** 2), (np.ones(3),), (np.ones(2),))
    with pytest.raises(ad.InputError, match=r"^the cotangent of output 0 has"):
        ad.vjp(lambda x: x ** 2, np.ones(3))[1](np.ones(2))


def factorial_power(n, x):
    if n == 0:
        return 1.0
    return x * factorial_power(n - 1, x)


def test_recursion_is_refused_at_its_line_with_the_fix():
    with pytest.raises(ad.UnsupportedCodeError, match=(
            r"^recursive call to factorial_power: .* rewrite it as a loop "
            r"over range\(\) \(.*test_sweep6_api.py:\d+\)$")):
        ad.grad(factorial_power, 1)(3, 2.0)
