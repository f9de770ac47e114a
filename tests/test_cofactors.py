"""det's derivatives where the matrix is singular: the matrix of
cofactors, as JAX gives it (conformance bug 1 covers its gradient, jvp
and a Jacobian over a stack); here the ranks below n - 1, float32, and
what the second derivative does there."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad

RANK_ONE = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5])


def cofactors(A):
    n = A.shape[0]
    return np.array([[(-1) ** (i + j) * np.linalg.det(
        np.delete(np.delete(A, i, 0), j, 1)) for j in range(n)]
        for i in range(n)])


def test_below_rank_n_minus_one_the_cofactors_are_zero():
    # JAX: zeros, at the zero matrix and at a matrix of rank one.
    for A in (np.zeros((3, 3)), RANK_ONE):
        np.testing.assert_allclose(ad.grad(np.linalg.det)(A),
                                   np.zeros((3, 3)), atol=1e-14)


def test_a_singular_stack_takes_each_matrixs_cofactors():
    singular = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    regular = singular + np.eye(3)
    stack = np.stack([regular, singular, RANK_ONE])

    def total(a):
        return np.sum(np.linalg.det(a) * np.array([1.0, 2.0, -1.0]))

    gradient = ad.grad(total)(stack)
    for k, (A, weight) in enumerate(zip(stack, (1.0, 2.0, -1.0))):
        np.testing.assert_allclose(gradient[k], weight * cofactors(A),
                                   atol=1e-12)


def test_singular_float32_matrices_keep_float32():
    A = np.array([[1.0, 2.0], [2.0, 4.0]], dtype=np.float32)
    gradient = ad.grad(np.linalg.det)(A)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, [[4.0, -2.0], [-2.0, 1.0]],
                               rtol=1e-6)


def test_the_hessian_of_det_is_not_finite_at_a_singular_matrix():
    # Its formula divides by det: nan or inf, with NumPy's warnings, where JAX
    # differentiates its LU factors (at [[1, 2], [2, 4]], the constant
    # second derivative of a 2 x 2 det). Never a finite wrong number.
    with pytest.warns(RuntimeWarning) as record:
        hessian = ad.hessian(np.linalg.det)(np.array([[1.0, 2.0],
                                                      [2.0, 4.0]]))
    assert "invalid value encountered in divide" in [
        str(warning.message) for warning in record]
    assert not np.isfinite(hessian).any()
