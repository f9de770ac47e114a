"""JAX's allow_int=True: integer and bool arguments among argnums are
constants, and their derivatives zeros of their shape (JAX's float0).

Without the keyword an int number is the float it stands for and an int or
bool array is refused (the established behaviour, pinned here too). With
it, the code that runs is the derivative with respect to the arguments
that hold floats, and the zeros are put in their places: for grad,
value_and_grad and jacobian (jacrev), scalar and array code, a tuple of
argnums, has_aux, and pytrees.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad
from tests.helpers import numeric_gradient


def power(x, n):
    return x ** n


def item(x, i):
    return x[i]


def one_or_two(pred):
    return 1.0 if pred else 2.0


def scaled_sum(x, n):
    return np.sum(x ** 2) * n


def polar(r, t):
    return r * math.cos(t), r * math.sin(t)


def elementwise_times(x, n):
    return x * n


def loss(W, labels):
    return np.sum(np.log(1.0 + W[labels] ** 2))


# -- without allow_int: the established behaviour -----------------------------

def test_an_int_number_is_the_float_it_stands_for_without_allow_int():
    assert ad.grad(power, argnums=1)(2.0, 3) == pytest.approx(
        8.0 * math.log(2.0))


def test_an_int_array_is_refused_without_allow_int():
    with pytest.raises(ad.InputError, match=(
            r"grad requires floating-point inputs, but argument n has dtype "
            r"int64\. Pass floats, e\.g\. np\.asarray\(n, dtype=float\), or "
            r"leave the argument out of argnums\.")):
        ad.grad(scaled_sum, argnums=(0, 1))(np.ones(3), np.arange(3))


# -- grad of scalar code ------------------------------------------------------

def test_an_int_argument_alone_gets_a_zero():
    slope = ad.grad(power, argnums=1, allow_int=True)(2.0, 3)
    assert slope == 0 and type(slope) is float


def test_the_float_arguments_beside_an_int_are_differentiated():
    dx, dn = ad.grad(power, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert dx == 12.0  # n * x ** (n - 1)
    assert dn == 0 and type(dn) is float


def test_floats_are_differentiated_as_without_allow_int():
    dx, dn = ad.grad(power, argnums=(0, 1), allow_int=True)(2.0, 3.0)
    assert (dx, dn) == (12.0, pytest.approx(8.0 * math.log(2.0)))


def test_numpy_integers_and_bools_get_numpy_zeros():
    for n in (np.int32(3), np.uint8(3), np.bool_(True)):
        dx, dn = ad.grad(power, argnums=(0, 1), allow_int=True)(2.0, n)
        assert dx == pytest.approx(float(n) * 2.0 ** (float(n) - 1))
        assert dn == 0 and type(dn) is np.float64


def test_a_negative_argnums_counts_the_call():
    assert ad.grad(power, argnums=-1, allow_int=True)(2.0, 3) == 0


def power_with_defaults(x, n=2, scale=1.0):
    return scale * x ** n


def test_an_int_passed_by_name_or_left_to_its_default_gets_a_zero():
    assert ad.grad(power, argnums=1, allow_int=True)(2.0, n=3) == 0
    assert ad.grad(power, argnums=(0, 1), allow_int=True)(x=2.0, n=3) == (
        12.0, 0)
    gradient = ad.grad(power_with_defaults, argnums=(0, 1, 2),
                       allow_int=True)
    assert gradient(2.0) == (4.0, 0, 4.0)
    assert gradient(2.0, 3, 0.5) == (6.0, 0, 8.0)


def test_the_decorator_takes_allow_int():
    @ad.grad(argnums=1, allow_int=True)
    def times(x, n):
        return x * n

    assert times(2.0, 3) == 0


# -- value_and_grad and has_aux -----------------------------------------------

def test_value_and_grad_at_a_bool():
    assert ad.value_and_grad(one_or_two, allow_int=True)(True) == (1.0, 0)
    assert ad.value_and_grad(one_or_two, allow_int=True)(False) == (2.0, 0)


def with_aux(x, n):
    return x ** n, {"n": n}


def test_has_aux_beside_a_zero():
    (value, aux), (dx, dn) = ad.value_and_grad(
        with_aux, argnums=(0, 1), has_aux=True, allow_int=True)(2.0, 3)
    assert (value, aux, dx, dn) == (8.0, {"n": 3}, 12.0, 0)
    (dx, dn), aux = ad.grad(with_aux, argnums=(0, 1), has_aux=True,
                            allow_int=True)(2.0, 3)
    assert (dx, dn, aux) == (12.0, 0, {"n": 3})


def test_has_aux_with_only_integers():
    dn, aux = ad.grad(with_aux, argnums=1, has_aux=True,
                      allow_int=True)(2.0, 3)
    assert (dn, aux) == (0, {"n": 3})
    (value, aux), dn = ad.value_and_grad(with_aux, argnums=1, has_aux=True,
                                         allow_int=True)(2.0, 3)
    assert (value, aux, dn) == (8.0, {"n": 3}, 0)


def two_sums(x, n):
    return np.sum(x * n), np.sum(n)


def test_only_integers_still_need_a_scalar_output():
    # (a tuple at any arguments: refused when the derivative is made)
    with pytest.raises(ad.OutputError, match=(
            r"two_sums \(.*test_allow_int\.py:\d+\) returns a tuple of 2 "
            r"values, but grad needs a single scalar output\.")):
        ad.grad(two_sums, argnums=(0, 1), allow_int=True)
    gradient = ad.grad(elementwise_times, argnums=1, allow_int=True)
    with pytest.raises(ad.OutputError, match=(
            r"Gradient only defined for scalar-output functions\. Output had "
            r"shape: \(3,\)\.")):
        gradient(np.ones(3), np.arange(3))


# -- array code ---------------------------------------------------------------

def test_an_int_index():
    dx, di = ad.grad(item, argnums=(0, 1), allow_int=True)(np.ones(2), 1)
    np.testing.assert_array_equal(dx, [0.0, 1.0])
    assert di == 0 and type(di) is float


def test_int_labels_get_zeros_of_their_shape():
    W = np.array([0.5, -1.0, 2.0])
    labels = np.array([2, 0, 2, 1])
    dW, dlabels = ad.grad(loss, argnums=(0, 1), allow_int=True)(W, labels)
    np.testing.assert_allclose(dW, numeric_gradient(loss, (W, labels), 0),
                               rtol=1e-8)
    assert dlabels.shape == (4,) and dlabels.dtype == np.float64
    assert np.all(dlabels == 0)


def test_an_int_array_beside_a_float_array():
    x = np.array([1.0, -2.0, 3.0])
    dx, dn = ad.grad(scaled_sum, argnums=(0, 1), allow_int=True)(
        x, np.int64(4))
    np.testing.assert_allclose(dx, 8.0 * x)
    assert dn == 0 and type(dn) is np.float64


# -- pytrees ------------------------------------------------------------------

def weighted(x, p):
    return x * p["n"] * p["m"]


def pytree_loss(p):
    return np.sum(p["w"] ** 2) * p["n"]


def test_a_pytree_of_integers_gets_a_pytree_of_zeros():
    dx, dp = ad.grad(weighted, argnums=(0, 1), allow_int=True)(
        2.0, {"n": 3, "m": np.int32(2)})
    assert dx == 6.0
    assert dp == {"n": 0, "m": 0}
    assert type(dp["n"]) is float and type(dp["m"]) is np.float64


def test_an_int_number_in_a_pytree_of_floats_gets_a_zero():
    p = {"w": np.array([1.0, -2.0]), "n": 3}
    grads = ad.grad(pytree_loss, allow_int=True)(p)
    np.testing.assert_allclose(grads["w"], 6.0 * p["w"])
    assert grads["n"] == 0
    # (without allow_int it is the float it stands for)
    assert ad.grad(pytree_loss)(p)["n"] == 5.0


def times_items(x, sizes):
    return x * sizes[0] * sizes[1]


def test_a_tuple_of_ints_read_as_numbers():
    # A tuple of ints not differentiated is taken as the constant it is (a
    # shape); its items are numbers too (they were refused: "3 is not a
    # number").
    assert ad.grad(times_items)(2.0, (3, np.int32(4))) == 12.0
    assert ad.grad(times_items, argnums=(0, 1), allow_int=True)(
        2.0, (3, 4)) == (12.0, (0, 0))


# -- jacobian -----------------------------------------------------------------

def test_jacobian_of_scalar_code():
    (dr_r, dr_t), (dt_r, dt_t) = ad.jacobian(
        polar, argnums=(0, 1), allow_int=True)(2.0, 0)
    assert (dr_r, dt_r) == (1.0, 0.0)
    assert dr_t == 0 and dt_t == 0
    assert ad.jacrev(polar, argnums=1, allow_int=True)(2.0, 0) == (0, 0)


def test_jacobian_zeros_have_the_output_shape_then_the_argument_shape():
    n = np.array([0, 1, 2])
    dx, dn = ad.jacobian(elementwise_times, argnums=(0, 1),
                         allow_int=True)(np.ones(3), n)
    np.testing.assert_array_equal(dx, np.diag(n))
    np.testing.assert_array_equal(dn, np.zeros((3, 3)))
    (dn,) = ad.jacobian(elementwise_times, argnums=(1,), allow_int=True)(
        np.ones(2), np.arange(3)[:, None])
    np.testing.assert_array_equal(dn, np.zeros((3, 2, 3, 1)))


def test_jacobian_with_aux_and_only_integers():
    jac, aux = ad.jacobian(with_aux, argnums=1, has_aux=True,
                           allow_int=True)(np.ones(2), np.int32(3))
    np.testing.assert_array_equal(jac, np.zeros(2))
    assert aux == {"n": 3}


def test_jacfwd_and_hessian_take_no_allow_int_as_in_jax():
    # JAX's jacfwd and hessian take no allow_int (forward mode refuses
    # integer inputs): neither do ours.
    with pytest.raises(TypeError, match="allow_int"):
        ad.jacfwd(power, allow_int=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="allow_int"):
        ad.hessian(power, allow_int=True)  # type: ignore[call-arg]


# -- the printed source, and transforms of it ---------------------------------

def test_the_source_is_the_gradient_with_respect_to_the_floats():
    line = item.__code__.co_firstlineno
    gradient = ad.grad(item, argnums=(0, 1), allow_int=True)
    assert ad.source(gradient, np.ones(2), 1) == (
        'def grad_item(x, i):\n'
        '    """Gradient of item with respect to x.\n'
        '\n'
        f'    item is defined at tests/test_allow_int.py:{line}.\n'
        '    Generated by autodiff_ast for x: float64[N], i: int.\n'
        '    """\n'
        '    d_x = np.zeros_like(x)\n'
        '    d_x[i] = 1\n'
        '    return d_x,\n')


def test_no_source_where_every_argument_is_an_integer():
    with pytest.raises(ad.AutodiffError, match=(
            r"dpower_dn at these arguments runs no generated code: n holds "
            r"integers, which allow_int=True gives zero derivatives without "
            r"differentiating anything\. Pass a float for an argument to see "
            r"the code that differentiates it\.")):
        ad.source(ad.grad(power, argnums=1, allow_int=True), 2.0, 3)


def test_a_derivative_taken_with_allow_int_is_not_transformed_again():
    first = ad.grad(power, argnums=1, allow_int=True)
    message = (r"dpower_dn was taken with allow_int=True, which decides at "
               r"each call which arguments are integers, and so is not "
               r"transformed again")
    for transform in (ad.grad, ad.hessian, ad.jacobian):
        with pytest.raises(ad.InputError, match=message):
            transform(first)
    with pytest.raises(ad.InputError, match=message):
        ad.jvp(first, (2.0, 3), (1.0, 0))
    with pytest.raises(ad.InputError, match=message):
        ad.vjp(first, 2.0, 3)
