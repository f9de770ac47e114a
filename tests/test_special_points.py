"""Derivatives at special points where the function is finite: a power
with exponent 0 at 0, hypot at the origin, a Cholesky factor of a matrix
that has none. Expected values are JAX 0.10.2's, or the closed form where
JAX's is nan."""

import math

import numpy as np
import pytest

import autodiff_ast as ad


def power(x, k):
    return x ** k


@pytest.mark.parametrize("k, first, second, third", [
    (0, 0.0, 0.0, 0.0), (1, 1.0, 0.0, 0.0), (2, 0.0, 2.0, 0.0),
    (3, 0.0, 0.0, 6.0)])
def test_powers_by_an_int_argument_at_zero_as_in_jax(k, first, second,
                                                     third):
    # 0 * 0 ** -1 was nan at k = 0 (and at k = 1, 2 one order up)
    d1 = ad.grad(power)
    d2 = ad.grad(d1)
    assert d1(0.0, k) == first
    assert d2(0.0, k) == second
    assert ad.grad(d2)(0.0, k) == third


def test_powers_by_an_argument_away_from_zero():
    assert ad.grad(power)(2.0, -2) == -0.25
    assert ad.grad(power)(2.0, 0) == 0.0
    assert ad.grad(power)(2.0, 0.5) == pytest.approx(0.5 / math.sqrt(2),
                                                     rel=1e-15)
    with np.errstate(divide="ignore"):  # poles, as JAX's
        assert ad.grad(power)(0.0, -1) == -np.inf
        assert ad.grad(power)(0.0, 0.5) == np.inf


def test_a_float_exponent_of_zero_has_derivative_zero():
    # JAX gives nan (0.0 * 0.0 ** -1.0); x ** 0.0 is 1 for every x
    assert ad.grad(power)(0.0, 0.0) == 0.0
    assert ad.hessian(power)(0.0, 0.0) == 0.0


def test_the_power_rule_is_printed_with_its_exponent_kept_at_zero():
    # the exponent is k - 1 except at k = 0, where x ** -1 would make the
    # derivative nan at x = 0
    assert ad.source(ad.grad(power)).split('"""\n', 1)[1] == (
        "    return k * x ** (k - 1 + (k == 0))\n")


def monomials(x):
    return np.sum(x ** np.arange(4))


def test_powers_by_np_arange_at_zero_as_in_jax():
    assert ad.grad(monomials)(0.0) == 1.0
    np.testing.assert_array_equal(
        ad.grad(lambda x: np.sum(x ** np.arange(3)))(np.zeros(3)),
        [0.0, 1.0, 0.0])
    assert ad.source(ad.grad(monomials), 0.0).split('"""\n', 1)[1] == (
        "    arange = np.arange(4)\n"
        "    return np.sum(arange * x ** (arange - 1 + (arange == 0)))\n")


def polynomial_design_loss(x, w):
    Phi = x[:, None] ** np.arange(4)
    return np.sum((Phi @ w - 1.0) ** 2)


def test_hessian_of_polynomial_features_at_zero():
    # JAX's first row is nan; at x = 0 the closed form 2 p'(x)**2 +
    # 2 (p(x) - 1) p''(x), p = w @ x ** [0, 1, 2, 3], is 2 * (-1)**2 + 0.
    x = np.array([0.0, 0.5, 1.0])
    w = np.array([1.0, -1.0, 0.5, 0.2])
    np.testing.assert_allclose(ad.hessian(polynomial_design_loss)(x, w),
                               np.diag([2.0, -0.875, -0.6]), atol=1e-15)


def selected_power(x, k):
    return np.where(k == 0, 1.0, x ** k)


def test_a_power_inside_np_where_follows_the_power_rule():
    # was k * x ** k / x (SymPy's rule): nan at x = 0; JAX gives 0
    assert ad.grad(selected_power)(0.0, 2) == 0.0
    assert ad.grad(selected_power)(0.0, 1) == 1.0
    assert ad.grad(selected_power)(3.0, 2) == 6.0


# -- a Cholesky factor that does not exist -------------------------------------

def log_determinant(A):
    return 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(A))))


@pytest.mark.parametrize("transform", [
    ad.grad, ad.value_and_grad, ad.hessian,
    lambda f: lambda A: ad.jvp(f, (A,), (np.eye(2),))])
def test_cholesky_of_an_indefinite_matrix_raises_what_the_function_does(
        transform):
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError,
                       match="^Matrix is not positive definite$"):
        log_determinant(indefinite)
    with pytest.raises(np.linalg.LinAlgError,
                       match="^Matrix is not positive definite$"):
        transform(log_determinant)(indefinite)
