"""JAX's own tests of its autodiff API (tests/api_test.py, APITest), read and
written again for NumPy code (sweep 7): grad and value_and_grad with
argnums (ints, tuples, negative) and keyword flags, has_aux for grad,
jacfwd, jacrev, hessian and jvp, Jacobians and Hessians over pytrees
(tuples, dicts, namedtuples and their subclasses), nested transforms
(issue 1372's sixteen compositions, grad inside grad), Python control flow
on a differentiated value, closures, and the dtypes of Jacobians over
mixed precisions. The refusals are in test_sweep7_jax_refusals.py.

Each test names the JAX test it follows. JAX-only features (jit, vmap,
tracers, devices, float0) are left out. Expected numbers are closed forms,
or JAX 0.10.2's (float64, jax_enable_x64), pasted in. Known bugs are
strict xfails whose reason names their entry in the sweep's list
("sweep7 bug N").
"""

from __future__ import annotations

import math
import typing
from collections import namedtuple

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at
from test_sweep5 import assert_tree_close

RNG = np.random.RandomState(0)
A43 = RNG.randn(4, 3)
X3 = RNG.randn(3)
A44 = RNG.randn(4, 4)
X4 = RNG.randn(4)
X44, Y44 = RNG.randn(4, 4), RNG.randn(4, 4)


# -- argnums and keyword flags (test_grad_argnums, test_value_and_grad_argnums,
#    test_grad_negative_argnums) -----------------------------------------------

def weighted(x, y, z, flag=False):
    assert flag
    return 1.0 * x + 2.0 * y + 3.0 * z


def test_grad_argnums_with_a_keyword_flag():
    # (sweep7 bug 4) JAX runs the assert on the flag's value
    assert ad.grad(weighted)(1.0, 1.0, 1.0, flag=True) == 1.0
    assert ad.grad(weighted, argnums=1)(1.0, 1.0, 1.0, flag=True) == 2.0
    assert ad.grad(weighted, argnums=(2, 0))(
        1.0, 1.0, 1.0, flag=True) == (3.0, 1.0)


def test_value_and_grad_argnums_with_a_keyword_flag():
    y = weighted(1.0, 1.0, 1.0, flag=True)
    assert ad.value_and_grad(weighted)(1.0, 1.0, 1.0, flag=True) == (y, 1.0)
    assert ad.value_and_grad(weighted, argnums=1)(
        1.0, 1.0, 1.0, flag=True) == (y, 2.0)
    assert ad.value_and_grad(weighted, argnums=(2, 0))(
        1.0, 1.0, 1.0, flag=True) == (y, (3.0, 1.0))


def quiet_and_strict(x, verbose=False, strict=True):
    assert not verbose and strict, "quiet and strict only"
    return np.sum(x ** 2)


def test_an_assert_on_flags_runs_on_their_values():
    g = ad.grad(quiet_and_strict)
    np.testing.assert_array_equal(g(np.ones(2)), [2.0, 2.0])
    for flags in [(True, True), (False, np.False_), (np.array(True), True)]:
        with pytest.raises(AssertionError, match="quiet and strict only"):
            g(np.ones(2), *flags)
    np.testing.assert_array_equal(g(np.ones(2), False, np.array(True)),
                                  [2.0, 2.0])
    with pytest.raises(AssertionError, match="assert flag"):
        ad.grad(weighted)(1.0, 1.0, 1.0, flag=False)


def sum_product(x, y):
    return x.sum() * y.sum()


def test_grad_negative_argnums_of_arrays():
    x, y = X44, Y44
    np.testing.assert_allclose(ad.grad(sum_product, argnums=-1)(x, y),
                               np.full((4, 4), x.sum()), rtol=1e-12)
    gx, gy = ad.grad(sum_product, argnums=(-2, -1))(x, y)
    np.testing.assert_allclose(gx, np.full((4, 4), y.sum()), rtol=1e-12)
    np.testing.assert_allclose(gy, np.full((4, 4), x.sum()), rtol=1e-12)


def times(x, y):
    return x * y


def test_grad_negative_argnums_of_numbers():
    # (functorch's test_negative_argnums, which copies JAX's convention)
    assert ad.grad(times, argnums=-2)(2.0, 3.0) == 3.0
    assert ad.grad(times, argnums=-1)(2.0, 3.0) == 2.0
    assert ad.grad(times, argnums=(-2,))(2.0, 3.0) == (3.0,)
    assert ad.grad(times, argnums=(-2, -1))(2.0, 3.0) == (3.0, 2.0)


# -- what grad returns (test_ad_weak_types, test_grad_wrap, test_grad_item) -----

def identity(x):
    return x


@pytest.mark.parametrize("transform", [ad.grad, ad.jacfwd, ad.jacrev])
def test_derivative_of_the_identity_is_a_float(transform):
    out = transform(identity)(1.0)
    assert out == 1.0
    assert np.result_type(out) == np.float64


def x_or_zeros(x, flag):
    return x if flag else np.zeros_like(x)


@pytest.mark.parametrize("transform", [ad.grad, ad.jacfwd, ad.jacrev])
def test_a_flag_after_the_argument(transform):
    assert transform(x_or_zeros)(1.0, False) == 0.0
    assert transform(x_or_zeros)(1.0, True) == 1.0


def doubled_if(x, flag):
    return x * 2.0 if flag else x


def tripled_if_first(x, flags):
    return x * 3.0 if flags[0] else x


@pytest.mark.parametrize("transform", [ad.grad, ad.jacfwd, ad.jacrev])
def test_a_flag_or_flags_in_a_bool_array_after_the_argument(transform):
    # scalar code took a Python bool or np.True_ but refused a bool array
    # (first called so here: a derivative called with a bool before
    # answers with array code from then on)
    assert transform(doubled_if)(1.0, np.array(True)) == 2.0
    assert transform(doubled_if)(1.0, np.array(False)) == 1.0
    assert transform(tripled_if_first)(1.0, np.array([True, False])) == 3.0
    assert transform(tripled_if_first)(1.0, np.array([False, True])) == 1.0


def square_if_nonzero(x):
    if x.astype(bool).item():
        return x ** 2
    else:
        return x


def sum_or_squares_by_an_element(x):
    if (x > 1).item(1):
        return np.sum(x ** 2)
    return np.sum(x)


def test_grad_through_item_of_a_condition():
    # (sweep7 bug 6) the element of a boolean array is a bool: JAX takes
    # the branch it picks (grad 4.0 at 2.0)
    assert ad.grad(square_if_nonzero)(np.float64(2.0)) == 4.0
    assert ad.grad(square_if_nonzero)(np.float64(0.0)) == 1.0
    np.testing.assert_array_equal(
        ad.grad(sum_or_squares_by_an_element)(np.array([1.0, 2.0])),
        [2.0, 4.0])
    np.testing.assert_array_equal(
        ad.grad(sum_or_squares_by_an_element)(np.array([3.0, 0.5])),
        [1.0, 1.0])


# -- Python control flow on the value (test_switch_value_jit, test_range_err,
#    test_list_index_err, taken under grad) --------------------------------------

def absolute(x):
    y = x > 0
    if y:
        return x
    else:
        return -x


def test_grad_of_a_branch_on_a_named_comparison():
    assert ad.grad(absolute)(1.0) == 1.0
    assert ad.grad(absolute)(-1.0) == -1.0


def add_range(x, n):
    for i in range(n):
        x = x + i
    return x


def test_grad_with_an_int_loop_bound():
    assert ad.grad(add_range)(0.0, 5) == 1.0
    assert ad.value_and_grad(add_range)(0.0, 5) == (10.0, 1.0)


WEIGHTS = [1.0, 2.0, 3.0]


def list_item_times(x, n):
    return WEIGHTS[n] * x


def test_grad_with_an_int_index_into_a_global_list():
    # (sweep7 bug 5) JAX reads the item: grad 2.0 at n=1
    assert ad.grad(list_item_times)(2.0, 1) == 2.0
    assert ad.grad(list_item_times)(2.0, 2) == 3.0
    assert ad.grad(list_item_times)(2.0, -1) == 3.0


MATRICES = [np.eye(2), 2.0 * np.eye(2)]
SHAPES_DIFFER = [np.eye(2), np.ones(3)]


def item_of_a_list_holding_the_argument(x, n):
    return [1.0, x, 3.0][n] * x


def matrix_item_applied(x, n):
    return np.sum(MATRICES[n] @ x)


def scaled_by_the_first_weights(x, n):
    for i in range(n):
        x = x * WEIGHTS[i]
    return x


def item_of_arrays_of_two_shapes(x, n):
    return np.sum(SHAPES_DIFFER[n] * x)


def test_grad_with_an_int_index_into_lists_of_values_and_of_arrays():
    for n, want in [(0, 1.0), (1, 4.0), (2, 3.0)]:
        assert ad.grad(item_of_a_list_holding_the_argument)(2.0, n) == want
    for n in (0, 1):
        np.testing.assert_allclose(ad.grad(matrix_item_applied)(X4[:2], n),
                                   MATRICES[n].sum(axis=0), rtol=1e-15)
    # the counter of a loop kept as a loop indexes the list
    assert ad.grad(scaled_by_the_first_weights)(2.0, 3) == 6.0


def test_an_int_index_into_arrays_of_two_shapes_is_refused():
    assert_refused_at(
        lambda: ad.grad(item_of_arrays_of_two_shapes)(np.ones(2), 0),
        item_of_arrays_of_two_shapes, 1,
        "SHAPES_DIFFER[n]: an index known only when the function runs (n) "
        "reads the item as a row of the array of the items, which must be "
        "numbers, or arrays of one shape: give the items one shape, or bind "
        "the index with functools.partial")


# -- Jacobians and Hessians (test_jacobian, test_hessian, test_hessian_aux) -----

def linear_map(x):
    return np.dot(A43, x)


def tanh_of_linear_map(x):
    return np.tanh(np.dot(A43, x))


def test_jacobians_of_a_linear_map():
    np.testing.assert_allclose(ad.jacfwd(linear_map)(X3), A43, rtol=1e-12)
    np.testing.assert_allclose(ad.jacrev(linear_map)(X3), A43, rtol=1e-12)


def test_jacfwd_and_jacrev_agree_on_tanh_of_a_linear_map():
    want = (1 - np.tanh(A43 @ X3) ** 2)[:, None] * A43
    np.testing.assert_allclose(ad.jacfwd(tanh_of_linear_map)(X3), want,
                               rtol=1e-12)
    np.testing.assert_allclose(ad.jacrev(tanh_of_linear_map)(X3), want,
                               rtol=1e-12)


def quadratic_form(x):
    return np.dot(x, np.dot(A44, x))


def quadratic_form_and_x(x):
    return np.dot(x, np.dot(A44, x)), x


def test_hessian_of_a_quadratic_form():
    np.testing.assert_allclose(ad.hessian(quadratic_form)(X4), A44 + A44.T,
                               rtol=1e-12)


def test_hessian_with_aux():
    h, aux = ad.hessian(quadratic_form_and_x, has_aux=True)(X4)
    np.testing.assert_allclose(h, A44 + A44.T, rtol=1e-12)
    np.testing.assert_array_equal(aux, X4)


# -- pytrees (test_jacobian_on_pytrees, test_hessian_on_pytrees,
#    test_namedtuple_transparency, test_namedtuple_subclass_transparency) --------

def pair(x, y):
    return (x, y)


def first_two(x):
    return x[:2]


def x_and_outer(x, y):
    return {'x': x, 'xy': np.outer(x, y)}


@pytest.mark.parametrize("jacfun", [ad.jacfwd, ad.jacrev])
def test_jacobians_of_tuples_of_numbers(jacfun):
    assert jacfun(pair)(0.0, 1.0) == (1.0, 0.0)
    assert jacfun(pair, 1)(0.0, 1.0) == (0.0, 1.0)
    assert jacfun(pair, (0, 1))(0.0, 1.0) == ((1.0, 0.0), (0.0, 1.0))


@pytest.mark.parametrize("jacfun", [ad.jacfwd, ad.jacrev])
def test_jacobian_of_a_slice_of_a_tuple_argument(jacfun):
    assert jacfun(first_two)((1.0, 2.0, 3.0)) == (
        (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


@pytest.mark.parametrize("jacfun", [ad.jacfwd, ad.jacrev])
def test_jacobian_of_a_dict_with_an_outer_product(jacfun):
    x = np.array([0.5, -1.5])
    y = np.array([2.0, 0.25, -1.0])
    got = jacfun(x_and_outer)(x, y)
    assert_tree_close(got, {
        'x': np.eye(2),
        'xy': np.kron(np.eye(2), y[:, None]).reshape(2, 3, 2)})


def squares_of_a_tuple(x):
    return np.array(x) ** 2


def test_hessian_of_a_function_of_a_tuple():
    got = ad.hessian(squares_of_a_tuple)((1.0, 2.0))
    assert_tree_close(got, ((np.array([2.0, 0.0]), np.array([0.0, 0.0])),
                            (np.array([0.0, 0.0]), np.array([0.0, 2.0]))))


Point = namedtuple("Point", ["x", "y"])


class ZeroPoint(Point):
    def is_zero(self):
        return (self.x == 0) and (self.y == 0)


def point_norm(pt):
    return np.sqrt(pt.x ** 2 + pt.y ** 2)


def norm_unless_zero(pt):
    return 0.0 if pt.is_zero() else np.sqrt(pt.x ** 2 + pt.y ** 2)


def test_grad_of_a_namedtuple_is_that_namedtuple():
    g = ad.grad(point_norm)(Point(1.0, 2.0))
    assert type(g) is Point
    assert g == pytest.approx(Point(1 / math.sqrt(5), 2 / math.sqrt(5)),
                              rel=1e-15)


def test_grad_of_a_namedtuple_subclass_with_a_method():
    # (sweep7 bug 7) JAX calls the method
    # JAX: ZeroPoint(0., 0.) at the origin, ZeroPoint(0.6, 0.8) at (3, 4)
    g = ad.grad(norm_unless_zero)(ZeroPoint(0.0, 0.0))
    assert type(g) is ZeroPoint and g == (0.0, 0.0)
    g = ad.grad(norm_unless_zero)(ZeroPoint(3.0, 4.0))
    assert type(g) is ZeroPoint
    assert g == pytest.approx((0.6, 0.8), rel=1e-15)


class Vector(typing.NamedTuple):
    a: float
    b: float

    @property
    def squared_norm(self):
        return self.a ** 2 + self.b ** 2

    def scaled(self, k):
        return Vector(k * self.a, k * self.b)

    @staticmethod
    def doubled(v):
        return 2.0 * v


UNIT = Vector(0.6, 0.8)


def through_methods_and_a_property(v):
    return v.scaled(3.0).squared_norm + v.doubled(v.a) + Vector.doubled(v.b)


def times_a_global_vectors_norm(x):
    return UNIT.squared_norm * x + UNIT.b


def test_grad_through_a_namedtuples_methods_and_property():
    # d/da (9 (a^2 + b^2) + 2 a + 2 b) = 18 a + 2, and d/db 18 b + 2
    g = ad.grad(through_methods_and_a_property)(Vector(1.0, 2.0))
    assert type(g) is Vector and g == (20.0, 38.0)
    assert ad.grad(times_a_global_vectors_norm)(2.0) == pytest.approx(
        1.0, rel=1e-15)


# -- compositions (test_issue1372) ---------------------------------------------

def dot_self(x):
    return np.dot(x, x)


def two_quadratics(x, u):
    return dot_self(x) + dot_self(u)


COMPOSITIONS = [(outer, inner, i, j)
                for outer in ("jacrev", "jacfwd")
                for inner in ("jacrev", "jacfwd")
                for i in (0, 1) for j in (0, 1)]


@pytest.mark.parametrize("outer, inner, i, j", COMPOSITIONS)
def test_sixteen_compositions_of_jacobians(outer, inner, i, j):
    x, u = np.ones(5), np.ones(2)
    got = getattr(ad, outer)(getattr(ad, inner)(two_quadratics, i), j)(x, u)
    sizes = (5, 2)
    want = 2 * np.eye(sizes[i]) if i == j else np.zeros((sizes[i], sizes[j]))
    assert_tree_close(got, want)


# -- has_aux (test_grad_and_aux_basic, _nested, _constant, _no_tracers,
#    test_jacfwd_and_aux_*, test_jacrev_and_aux_*, test_jvp_and_aux_basic) ------

def cube_and_square(x):
    return x ** 3, [x ** 2]


def cube_and_cube(x):
    return x ** 3, [x ** 3]


def test_grad_with_aux():
    g, aux = ad.grad(cube_and_square, has_aux=True)(3.0)
    assert g == 27.0 and aux == [9.0]


@pytest.mark.parametrize("jacfun", [ad.jacfwd, ad.jacrev])
def test_jacobians_with_aux(jacfun):
    jac, aux = jacfun(cube_and_square, has_aux=True)(3.0)
    assert jac == 27.0 and aux == [9.0]


def test_jvp_with_aux():
    assert ad.jvp(cube_and_square, (3.0,), (4.0,), has_aux=True) == (
        27.0, 108.0, [9.0])


def cube_by_aux(x):
    g, aux = ad.grad(cube_and_cube, has_aux=True)(x)
    return aux[0]


def cube_by_aux_times_sine(x):
    g, aux = ad.grad(cube_and_cube, has_aux=True)(x)
    return aux[0] * np.sin(x)


@pytest.mark.parametrize("transform", [ad.grad, ad.jacfwd, ad.jacrev])
def test_derivatives_of_the_aux_of_an_inner_grad(transform):
    assert transform(cube_by_aux)(4.0) == 48.0
    assert transform(cube_by_aux_times_sine)(4.0) == pytest.approx(
        48.0 * math.sin(4.0) + 64.0 * math.cos(4.0), rel=1e-14)


def cube_and_constant(x):
    return x ** 3, [4.0]


def cube_square_and_constant(x):
    return x ** 3, [x ** 2, 4.0]


def square_and_dict(x):
    aux = dict(identity=x, p1=x + 1)
    return x ** 2, aux


def test_grad_with_a_constant_aux():
    assert ad.grad(cube_and_constant, has_aux=True)(4.0) == (48.0, [4.0])
    assert ad.grad(cube_square_and_constant, has_aux=True)(4.0) == (
        48.0, [16.0, 4.0])


def test_aux_dict_holds_plain_values():
    g, aux = ad.grad(square_and_dict, has_aux=True)(3.0)
    assert g == 6.0
    assert type(aux) is dict and aux == {'identity': 3.0, 'p1': 4.0}


def test_vjp_with_aux():
    value, pullback, aux = ad.vjp(cube_and_square, 3.0, has_aux=True)
    assert value == 27.0 and aux == [9.0]
    assert pullback(1.0) == (27.0,)


# -- closures (test_jvp_jit_cached without jit, perturbation confusion) --------

def two_products(x):
    def inner(y):
        return y * x
    return inner(4.0) + inner(5.0)


def test_jvp_of_a_function_calling_a_closure_twice():
    assert ad.jvp(two_products, (5.0,), (1.0,)) == (45.0, 9.0)


def x_times_slope_of_x_plus_y(x):
    def inner(y):
        return x + y
    return x * ad.grad(inner)(1.0)


def slope_of_x_times_y_at_x(x):
    def inner(y):
        return x * y
    return ad.grad(inner)(x)


def test_inner_grad_of_a_closure_does_not_confuse_perturbations():
    # d/dx [x * d/dy (x + y)] = 1, not 2; d/dx [d/dy (x * y)] = 1
    assert ad.grad(x_times_slope_of_x_plus_y)(1.0) == 1.0
    assert ad.grad(slope_of_x_times_y_at_x)(3.0) == 1.0


# -- dtypes of Jacobians over mixed precisions (test_heterogeneous_jacfwd,
#    test_heterogeneous_jacrev) -------------------------------------------------

def both_and_sum(pair_of_arrays):
    x, y = pair_of_arrays
    return x, y, x + y


HALF_AND_SINGLE = (np.array([2.0], dtype=np.float16),
                   np.array([3.0], dtype=np.float32))


def both_and_sum_jacobian(dtypes):
    """The Jacobian of both_and_sum at any point, block (i, j) of shape
    (1, 1) and dtype ``dtypes[i][j]``."""
    values = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0))
    return tuple(tuple(np.full((1, 1), value, dtype=dtype)
                       for value, dtype in zip(row, kinds))
                 for row, kinds in zip(values, dtypes))


def test_jacrev_has_the_dtypes_of_the_inputs():
    # JAX 0.10.2: each block in its input's dtype
    assert_tree_close(ad.jacrev(both_and_sum)(HALF_AND_SINGLE),
                      both_and_sum_jacobian([(np.float16, np.float32)] * 3))


WEIGHTS64 = np.array([1.0, 3.0])


def running_sums_and_weights(x, s):
    return np.cumsum(x) * s, x[0] * WEIGHTS64


# was sweep7 bug 3: jacfwd over a (float16, float32) pair returned every
# block as float32
def test_jacfwd_has_the_dtypes_of_the_outputs():
    assert_tree_close(ad.jacfwd(both_and_sum)(HALF_AND_SINGLE),
                      both_and_sum_jacobian([(np.float16, np.float16),
                                             (np.float32, np.float32),
                                             (np.float32, np.float32)]))
    # as NumPy computes them: a Python float is weak (float16 times 2.0 is
    # float16), a float64 array is not
    x = np.array([1.5, -2.0], dtype=np.float16)
    assert_tree_close(ad.jacfwd(running_sums_and_weights)(x, 2.0),
                      (np.array([[2.0, 0.0], [2.0, 2.0]], dtype=np.float16),
                       np.array([[1.0, 0.0], [3.0, 0.0]])))


# -- pytree arguments: lists, None leaves, dicts -------------------------------

def product_of_a_list(xs):
    return xs[0] * xs[1]


def square_of_first(t):
    return t[0] ** 2


def weighted_sum_plus_square(p, x):
    return np.sum(p['w'] * x) + p['b'] ** 2


def test_grad_of_a_list_and_of_a_tuple_with_none():
    assert ad.grad(product_of_a_list)([1.0, 2.0]) == [2.0, 1.0]
    assert ad.grad(square_of_first)((3.0, None)) == (6.0, None)


def test_value_and_grad_over_a_dict_and_an_array():
    p = {'w': np.array([1.0, 2.0]), 'b': 3.0}
    x = np.array([0.5, -1.0])
    value, (gp, gx) = ad.value_and_grad(weighted_sum_plus_square,
                                        argnums=(0, 1))(p, x)
    assert value == 7.5
    assert_tree_close(gp, {'w': x, 'b': 6.0})
    assert_tree_close(gx, p['w'])
