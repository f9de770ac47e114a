"""The derivatives of a log-determinant at a singular matrix, where the
user's ``np.linalg.slogdet`` returns (0, -inf) and ``np.linalg.inv``
(which the gradient ``inv(A).T`` called) raises LinAlgError: the
gradient is the limit of ``adj(A).T / det`` as det goes to +0, +-inf by
the sign of each cofactor, as JAX 0.10.2 gives it (JAX's LU gives nan
where it meets 0/0; the generated code does not compute with nan, so
a zero cofactor gives +inf). Invertible matrices keep ``inv(A).T``.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

S = np.array([[1.0, 2.0], [2.0, 4.0]])
S3 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
A = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.0, 0.4, 1.0]])


def logdet(a):
    sign, value = np.linalg.slogdet(a)
    return value


def summed_logdets(a):
    return np.sum(np.linalg.slogdet(a)[1])


def log_of_det(a):
    return np.log(np.linalg.det(a))


def test_the_gradient_at_a_singular_matrix_is_jaxs():
    value, gradient = ad.value_and_grad(logdet)(S)
    assert value == -np.inf
    # jax.grad(lambda a: jnp.linalg.slogdet(a)[1])(S)
    np.testing.assert_array_equal(gradient, [[np.inf, -np.inf],
                                             [-np.inf, np.inf]])
    # JAX: the same first two rows; its third is nan (its LU's 0/0)
    np.testing.assert_array_equal(ad.grad(logdet)(S3), [
        [-np.inf, np.inf, -np.inf], [np.inf, -np.inf, np.inf],
        [-np.inf, np.inf, -np.inf]])


def test_below_rank_n_minus_1_every_cofactor_is_0():
    np.testing.assert_array_equal(ad.grad(logdet)(np.zeros((3, 3))),
                                  np.full((3, 3), np.inf))
    rank_1 = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(logdet)(rank_1),
                                  np.full((3, 3), np.inf))


def test_a_stack_with_one_singular_matrix():
    stack = np.stack([S, A[:2, :2]])
    gradient = ad.grad(summed_logdets)(stack)
    np.testing.assert_array_equal(gradient[0], [[np.inf, -np.inf],
                                                [-np.inf, np.inf]])
    np.testing.assert_allclose(gradient[1], np.linalg.inv(A[:2, :2]).T,
                               rtol=1e-14)


def test_forward_mode_at_a_singular_matrix_does_not_raise():
    # The tangent contracts the limit with dA: 0 * inf is nan (JAX's
    # solve(A, dA) gives inf for dA = I)
    value, tangent = ad.jvp(logdet, (S,), (np.eye(2),))
    assert value == -np.inf and np.isnan(tangent)
    np.testing.assert_array_equal(ad.jacfwd(logdet)(S), ad.grad(logdet)(S))


@pytest.mark.parametrize("function", [logdet, log_of_det])
def test_invertible_matrices_keep_the_inverse(function):
    # (log(det(A)) takes Jacobi's formula, inv(A).T, with inv's
    # LinAlgError where A is singular: its own log warns of log(0) there)
    np.testing.assert_allclose(ad.grad(function)(A), np.linalg.inv(A).T,
                               rtol=1e-14)
    _, tangent = ad.jvp(function, (A,), (np.eye(3),))
    assert tangent == pytest.approx(np.trace(np.linalg.inv(A)), rel=1e-14)
    gradient = ad.grad(function)
    hessian = np.array([numeric_gradient(lambda a: gradient(a)[i, j],
                                         (A,), 0)
                        for i in range(3) for j in range(3)])
    np.testing.assert_allclose(ad.hessian(function)(A).reshape(9, 9),
                               hessian.reshape(9, 9), rtol=1e-6,
                               atol=1e-9)


def test_the_code_inverts_where_the_sign_is_not_0():
    source = ad.source(ad.grad(logdet), A)
    assert ("    sign_a = np.linalg.slogdet(a)[0]\n"
            "    if sign_a != 0:\n"
            "        inv_a = np.linalg.inv(a)\n"
            "    else:\n") in source
    assert source.endswith("    return inv_a.T\n")
