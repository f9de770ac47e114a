"""scipy.linalg's triangular solves: solve_triangular (lower=, trans=) and
cho_solve, as Gaussian-process code calls them. Gradients, forward-mode
Jacobians and Hessians against central differences; the generated code
solves with the triangle (no inverse); the triangle not read has no
gradient; unsupported arguments are refused at the user's line.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from scipy.linalg import cho_solve

import autodiff_ast as ad
from helpers import assert_refused_at, numeric_gradient

rng = np.random.default_rng(7)
A = rng.normal(size=(4, 4)) + 4 * np.eye(4)
B = rng.normal(size=4)
BM = rng.normal(size=(4, 2))


def solved_lower(a, b):
    return np.sum(np.sin(scipy.linalg.solve_triangular(a, b, lower=True)))


def solved_upper_transposed(a, b):
    return np.sum(np.sin(scipy.linalg.solve_triangular(a, b, trans=1)))


def solved_lower_transposed(a, b):
    return np.sum(np.sin(scipy.linalg.solve_triangular(a, b, trans="T",
                                                       lower=True)))


def solved_upper(a, b):
    return np.sum(np.sin(scipy.linalg.solve_triangular(a, b)))


def cho_solved_lower(a, b):
    L = np.linalg.cholesky(a @ a.T)
    return np.sum(np.sin(scipy.linalg.cho_solve((L, True), b)))


def cho_solved_upper(a, b):
    U = np.linalg.cholesky(a @ a.T).T
    return np.sum(np.sin(scipy.linalg.cho_solve((U, False), b)))


FUNCTIONS = [solved_lower, solved_upper_transposed, solved_lower_transposed,
             solved_upper, cho_solved_lower, cho_solved_upper]


@pytest.mark.parametrize("b", [B, BM], ids=["vector", "matrix"])
@pytest.mark.parametrize("f", FUNCTIONS)
def test_gradients_match_central_differences(f, b):
    grad_a, grad_b = ad.grad(f, argnums=(0, 1))(A, b)
    np.testing.assert_allclose(grad_a, numeric_gradient(f, (A, b), 0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grad_b, numeric_gradient(f, (A, b), 1),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("b", [B, BM], ids=["vector", "matrix"])
@pytest.mark.parametrize("f", FUNCTIONS)
def test_forward_mode_matches_the_gradient(f, b):
    grad_a, grad_b = ad.grad(f, argnums=(0, 1))(A, b)
    forward_a, forward_b = ad.jacfwd(f, argnums=(0, 1))(A, b)
    np.testing.assert_allclose(forward_a, grad_a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(forward_b, grad_b, rtol=1e-10, atol=1e-12)
    da, db = rng.normal(size=A.shape), rng.normal(size=b.shape)
    value, tangent = ad.jvp(f, (A, b), (da, db))
    assert value == pytest.approx(f(A, b), rel=1e-14)
    assert tangent == pytest.approx(np.sum(grad_a * da) + np.sum(grad_b * db),
                                    rel=1e-10)


@pytest.mark.parametrize("f", [solved_lower, solved_upper_transposed,
                               cho_solved_lower])
def test_hessian_matches_central_differences_of_the_gradient(f):
    hessian = ad.hessian(f, argnums=1)(A, B)
    gradient = ad.grad(f, argnums=1)
    expected = np.array([numeric_gradient(lambda b: gradient(A, b)[i], (B,), 0)
                         for i in range(B.size)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-9)
    by_matrix = ad.hessian(f, argnums=0)(A, B)
    grad_a = ad.grad(f, argnums=0)
    entry = numeric_gradient(lambda a: grad_a(a, B)[2, 1], (A,), 0)
    np.testing.assert_allclose(by_matrix[2, 1], entry, rtol=1e-6, atol=1e-9)


def test_the_triangle_not_read_has_no_gradient():
    grad_a = ad.grad(solved_lower)(A, B)
    assert np.all(np.triu(grad_a, 1) == 0)
    assert np.all(grad_a[np.tril_indices(4)] != 0)
    grad_a = ad.grad(solved_upper_transposed)(A, B)
    assert np.all(np.tril(grad_a, -1) == 0)


def test_generated_code_solves_with_the_triangle():
    text = ad.source(ad.grad(solved_lower, argnums=(0, 1)), A, B)
    assert text.split('"""')[-1] == """
    solve_a_b = scipy.linalg.solve_triangular(a, b, lower=True)
    d_b = scipy.linalg.solve_triangular(a, np.cos(solve_a_b), lower=True,
                                        trans='T')
    grad_a = np.tril(-d_b[:, None] * solve_a_b)
    return grad_a, d_b
"""


def test_the_value_is_scipys():
    value, _ = ad.value_and_grad(solved_upper_transposed)(A, BM)
    assert value == solved_upper_transposed(A, BM)


def quadratic_form(a, b):
    L = np.linalg.cholesky(a @ a.T)
    return b @ cho_solve((L, True), b)


def test_cho_solve_imported_by_name_and_a_closed_form():
    gradient = ad.grad(quadratic_form, argnums=1)(A, B)
    np.testing.assert_allclose(gradient, 2 * np.linalg.solve(A @ A.T, B),
                               rtol=1e-10)


def unit_diagonal(a, b):
    return np.sum(scipy.linalg.solve_triangular(a, b, unit_diagonal=True))


def other_trans(a, b):
    return np.sum(scipy.linalg.solve_triangular(a, b, trans="X"))


def a_stack(a, b):
    return np.sum(scipy.linalg.solve_triangular(np.stack([a, a]), b))


def not_a_pair(a, b):
    return np.sum(scipy.linalg.cho_solve(a, b))


@pytest.mark.parametrize("f, message", [
    (unit_diagonal, "scipy.linalg.solve_triangular with unit_diagonal=True "
     "is not supported: pass the matrix with ones on its diagonal and "
     "unit_diagonal=False"),
    (other_trans, "scipy.linalg.solve_triangular: trans must be 0, 1, 2, "
     "'N', 'T' or 'C' written in the code, not X"),
    (a_stack, "scipy.linalg.solve_triangular: a stack of matrices (shape "
     "(2, 4, 4)) is not supported here: solve each matrix of the stack"),
    (not_a_pair, "scipy.linalg.cho_solve takes the pair (c, lower) that "
     "scipy.linalg.cho_factor returns, e.g. scipy.linalg.cho_solve((L, "
     "True), b)")])
def test_unsupported_arguments_are_refused_at_the_call(f, message):
    assert_refused_at(lambda: ad.grad(f)(A, B), f, 1, message)
