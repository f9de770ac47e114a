"""scipy.linalg's triangular solves: solve_triangular (lower=, trans=) and
cho_solve, with the factors of cholesky and cho_factor, as
Gaussian-process code calls them; and the solvers NumPy also has (solve
with each assume_a, inv, det, eigh, eigvalsh, norm, svd). Gradients, forward-mode
Jacobians and Hessians against central differences; the generated code
solves with the triangle (no inverse); the triangle not read has no
gradient; unsupported arguments are refused at the user's line.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

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


# -- cho_factor and scipy.linalg.cholesky -------------------------------------

X = np.linspace(0.0, 2.0, 5)
Y = np.sin(3 * X) + 0.1 * np.cos(7 * X)
THETA = np.array([0.7, 0.3])


def log_marginal_likelihood(theta, y):
    """A Gaussian process's, with an exponential kernel of length scale
    theta[0] and noise variance theta[1]; cho_factor's default upper
    factor, its other triangle left as SciPy leaves it."""
    K = (np.exp(-np.abs(X[:, None] - X[None, :]) / theta[0])
         + theta[1] * np.eye(5))
    c, low = scipy.linalg.cho_factor(K)
    alpha = scipy.linalg.cho_solve((c, low), y)
    return (-0.5 * y @ alpha - np.sum(np.log(np.diag(c)))
            - 5 / 2 * np.log(2 * np.pi))


def squared_exponential(theta):
    return (np.exp(-(X[:, None] - X[None, :]) ** 2 / theta[0] ** 2)
            + theta[1] * np.eye(5))


def cho_factor_inline(theta, y):
    K = squared_exponential(theta)
    return y @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(K, lower=True),
                                      y)


def cholesky_lower(theta, y):
    L = scipy.linalg.cholesky(squared_exponential(theta), lower=True)
    alpha = cho_solve((L, True), y)
    return -0.5 * y @ alpha - np.sum(np.log(np.diag(L)))


def cholesky_upper(theta, y):
    U = scipy.linalg.cholesky(squared_exponential(theta))
    z = scipy.linalg.solve_triangular(U, y, trans="T")
    return -0.5 * z @ z - np.sum(np.log(np.diag(U)))


FACTORED = [log_marginal_likelihood, cho_factor_inline, cholesky_lower,
            cholesky_upper]


@pytest.mark.parametrize("f", FACTORED)
def test_factors_gradients_match_central_differences(f):
    value, (grad_theta, grad_y) = ad.value_and_grad(f, argnums=(0, 1))(
        THETA, Y)
    assert value == pytest.approx(f(THETA, Y), rel=1e-13)
    np.testing.assert_allclose(grad_theta, numeric_gradient(f, (THETA, Y), 0),
                               rtol=1e-7)
    np.testing.assert_allclose(grad_y, numeric_gradient(f, (THETA, Y), 1),
                               rtol=1e-7)


@pytest.mark.parametrize("f", FACTORED)
def test_factors_forward_mode_matches_the_gradient(f):
    gradients = ad.grad(f, argnums=(0, 1))(THETA, Y)
    forward = ad.jacfwd(f, argnums=(0, 1))(THETA, Y)
    for by_rows, by_columns in zip(gradients, forward):
        np.testing.assert_allclose(by_columns, by_rows, rtol=1e-10)


@pytest.mark.parametrize("f", [log_marginal_likelihood, cholesky_upper])
def test_factors_hessian_matches_central_differences(f):
    gradient = ad.grad(f)
    expected = np.array([
        numeric_gradient(lambda t: gradient(t, Y)[i], (THETA,), 0)
        for i in range(2)])
    np.testing.assert_allclose(ad.hessian(f)(THETA, Y), expected, rtol=1e-6)


def test_log_marginal_likelihood_has_its_closed_form_gradient():
    # d/dtheta_j = (alpha alpha.T - inv(K)) : dK/dtheta_j / 2; the noise's
    # dK is the identity.
    K = (np.exp(-np.abs(X[:, None] - X[None, :]) / THETA[0])
         + THETA[1] * np.eye(5))
    alpha = np.linalg.solve(K, Y)
    expected = 0.5 * (alpha @ alpha - np.trace(np.linalg.inv(K)))
    assert ad.grad(log_marginal_likelihood)(THETA, Y)[1] == pytest.approx(
        expected, rel=1e-12)


def upper_factor_squared(k):
    return np.sum(scipy.linalg.cholesky(k) * np.arange(25.0).reshape(5, 5))


def cho_factor_triangle(k):
    return np.sum(np.triu(scipy.linalg.cho_factor(k)[0]) ** 2)


@pytest.mark.parametrize("f", [upper_factor_squared, cho_factor_triangle])
def test_factors_values_are_scipys(f):
    K = squared_exponential(THETA)
    value, gradient = ad.value_and_grad(f)(K)
    assert value == pytest.approx(f(K), rel=1e-13)
    expected = numeric_gradient(f, (K,), 0)
    # (along the symmetric part, as the gradient of np.linalg.cholesky)
    np.testing.assert_allclose(gradient, (expected + expected.T) / 2,
                               rtol=1e-6, atol=1e-9)


def lower_from_an_argument(a, b):
    c = scipy.linalg.cho_factor(a @ a.T, lower=b[0] > 0)
    return np.sum(c[0])


def test_cho_factor_lower_must_be_written_in_the_code():
    assert_refused_at(
        lambda: ad.grad(lower_from_an_argument)(A, B),
        lower_from_an_argument, 1,
        "scipy.linalg.cho_factor's lower must be True or False written in "
        "the code, not a value computed from the arguments: the triangle "
        "read decides the derivative")


def stacked_factors(a):
    return np.sum(np.sin(scipy.linalg.cholesky(
        a @ np.swapaxes(a, -1, -2) + np.eye(3))))


def test_a_stack_of_factors_matches_central_differences():
    # (SciPy factors each matrix of a stack, as NumPy does; the SciPy that
    # Python 3.10 installs factors one matrix only, and so refuses the
    # user's own function)
    stack = rng.normal(size=(2, 3, 3))
    try:
        stacked_factors(stack)
    except ValueError:
        pytest.skip("this SciPy's cholesky takes one matrix, not a stack")
    value, gradient = ad.value_and_grad(stacked_factors)(stack)
    assert value == pytest.approx(stacked_factors(stack), rel=1e-14)
    np.testing.assert_allclose(
        gradient, numeric_gradient(stacked_factors, (stack,), 0),
        rtol=1e-6, atol=1e-9)


def not_square(a, b):
    return np.sum(scipy.linalg.cho_factor(a[:2])[0])


def a_vector(a, b):
    return np.sum(scipy.linalg.cholesky(b))


@pytest.mark.parametrize("f, message", [
    (not_square, "scipy.linalg.cho_factor: last 2 dimensions of the array "
     "must be square (the shape is (2, 4))"),
    (a_vector, "scipy.linalg.cholesky: 1-dimensional array given. Array "
     "must be at least two-dimensional")])
def test_factors_of_what_is_not_a_matrix_are_refused(f, message):
    assert_refused_at(lambda: ad.grad(f)(A, B), f, 1, message)


# -- the solvers NumPy also has: solve, inv, det, eigh, eigvalsh, norm, svd ----

# Not symmetric, well conditioned: what SciPy ignores of it matters.
M = (A @ A.T + 0.3 * rng.normal(size=(4, 4))) / 4 + np.eye(4)


def solved_general(a, b):
    return np.sum(np.sin(scipy.linalg.solve(a, b)))


def solved_transposed(a, b):
    return np.sum(np.sin(scipy.linalg.solve(a, b, transposed=True)))


def solved_symmetric_upper(a, b):
    return np.sum(np.sin(scipy.linalg.solve(a, b, assume_a="sym")))


def solved_positive_lower(a, b):
    return np.sum(np.sin(scipy.linalg.solve(a, b, assume_a="pos",
                                            lower=True)))


def solved_lower_triangular(a, b):
    return np.sum(np.sin(scipy.linalg.solve(a, b,
                                            assume_a="lower triangular")))


def solved_tridiagonal(a, b):
    return np.sum(np.sin(scipy.linalg.solve(a, b, assume_a="tridiagonal")))


def inverted(a, b):
    return np.sum(np.sin(scipy.linalg.inv(a) @ b))


def inverted_symmetric(a, b):
    return np.sum(np.sin(scipy.linalg.inv(a, assume_a="her") @ b))


def determinant(a, b):
    return scipy.linalg.det(a) * np.sum(b)


def norms(a, b):
    return (scipy.linalg.norm(a) + scipy.linalg.norm(a, 2)
            + scipy.linalg.norm(a @ b, 3) + np.sum(scipy.linalg.norm(a,
                                                                axis=0)))


def singular_values(a, b):
    u, s, vh = scipy.linalg.svd(a)
    return np.sum(s ** 3) + np.sum(scipy.linalg.svd(a, compute_uv=False)) \
        + np.sum(np.abs(u[:, 0] @ b))


SOLVERS = [solved_general, solved_transposed, solved_symmetric_upper,
           solved_positive_lower, solved_lower_triangular,
           solved_tridiagonal, inverted, inverted_symmetric, determinant,
           norms, singular_values]
# (SciPy's inv takes assume_a since 1.16; 1.15 is the last for Python 3.10)
INV_TAKES_ASSUME_A = "assume_a" in inspect.signature(
    scipy.linalg.inv).parameters


@pytest.mark.parametrize("f", [
    pytest.param(f, marks=pytest.mark.skipif(
        f is inverted_symmetric and not INV_TAKES_ASSUME_A,
        reason="this SciPy's inv takes no assume_a")) for f in SOLVERS])
def test_solvers_match_central_differences_and_scipys_value(f):
    value, (grad_a, grad_b) = ad.value_and_grad(f, argnums=(0, 1))(M, B)
    np.testing.assert_allclose(value, f(M, B), rtol=1e-13)
    np.testing.assert_allclose(grad_a, numeric_gradient(f, (M, B), 0),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_b, numeric_gradient(f, (M, B), 1),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", [solved_symmetric_upper, inverted, norms])
def test_solvers_forward_mode_and_hessian(f):
    gradient = ad.grad(f)
    np.testing.assert_allclose(ad.jacfwd(f)(M, B), gradient(M, B),
                               rtol=1e-12, atol=1e-14)
    hessian = ad.hessian(f)(M, B)
    expected = np.stack([numeric_gradient(lambda a, b, i=i: gradient(a, b)[i],
                                          (M, B), 0)
                         for i in np.ndindex(4, 4)]).reshape(4, 4, 4, 4)
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-7)


def test_what_scipy_does_not_read_has_no_gradient():
    upper = ad.grad(solved_symmetric_upper)(M, B)
    assert np.all(np.tril(upper, -1) == 0)
    assert np.all(upper[np.triu_indices(4)] != 0)
    lower = ad.grad(solved_positive_lower)(M, B)
    assert np.all(np.triu(lower, 1) == 0)
    assert np.all(lower[np.tril_indices(4)] != 0)
    band = ad.grad(solved_tridiagonal)(M, B)
    assert np.all(np.triu(band, 2) == 0) and np.all(np.tril(band, -2) == 0)


def symmetric_solve_squared(a, b):
    return np.sum(scipy.linalg.solve(a, b, assume_a="sym") ** 2)


def test_a_symmetric_solve_reads_as_the_triangle_and_its_mirror():
    source = ad.source(ad.grad(symmetric_solve_squared), M, B)
    assert source.split('"""')[-1] == (
        "\n    t = np.triu(a) + np.triu(a, 1).T"
        "\n    solve_t_b = np.linalg.solve(t, b)"
        "\n    d_a_triu_1_T = -np.linalg.solve(t.T, 2 * solve_t_b)[:, None]"
        " * solve_t_b"
        "\n    return np.triu(d_a_triu_1_T.T, 1) + np.triu(d_a_triu_1_T)\n")


def eigen_values_and_vectors(a, b):
    w, v = scipy.linalg.eigh(a)
    return np.sum(w ** 3) + np.sum(v[:, 0] ** 4) + np.sum(
        scipy.linalg.eigvalsh(a, lower=False) * b) + np.sum(
            scipy.linalg.eigh(a, eigvals_only=True) ** 2)


def numpy_eigen_values_and_vectors(a, b):
    w, v = np.linalg.eigh(a)
    return np.sum(w ** 3) + np.sum(v[:, 0] ** 4) + np.sum(
        np.linalg.eigvalsh(a, UPLO="U") * b) + np.sum(
            np.linalg.eigvalsh(a) ** 2)


def test_eigh_is_numpys_with_the_triangle_scipy_reads():
    # (the gradient of a symmetric eigendecomposition is JAX's: as if the
    # matrix were symmetric, whichever triangle is read)
    symmetric = M + M.T
    value, gradient = ad.value_and_grad(eigen_values_and_vectors)(
        symmetric, B)
    np.testing.assert_allclose(
        value, eigen_values_and_vectors(symmetric, B), rtol=1e-13)
    np.testing.assert_allclose(
        gradient, ad.grad(numpy_eigen_values_and_vectors)(symmetric, B),
        rtol=1e-13)


def general_eigenproblem(a, b):
    return np.sum(scipy.linalg.eigh(a, np.eye(4)))


def some_eigenvalues(a, b):
    return np.sum(scipy.linalg.eigvalsh(a, subset_by_index=[0, 1]))


def banded_solve(a, b):
    return np.sum(scipy.linalg.solve(a, b, assume_a="banded"))


def lower_computed(a, b):
    return np.sum(scipy.linalg.solve(a, b, assume_a="sym", lower=b[0] > 0))


@pytest.mark.parametrize("f, message", [
    (general_eigenproblem, "scipy.linalg.eigh(a, b): the generalized "
     "eigenproblem is not supported: solve the standard one (leave b out)"),
    (some_eigenvalues, "scipy.linalg.eigvalsh: subset_by_index and "
     "subset_by_value are not supported: take all the eigenvalues and "
     "index them"),
    (banded_solve, "scipy.linalg.solve(..., assume_a='banded') is not "
     "supported: use one of diagonal, gen, general, her, hermitian, lower "
     "triangular, pos, positive definite, sym, symmetric, tridiagonal, "
     "upper triangular"),
    (lower_computed, "scipy.linalg.solve's lower must be True or False "
     "written in the code, not a value computed from the arguments: the "
     "triangle read decides the derivative")])
def test_what_numpy_has_no_row_for_is_refused_at_the_call(f, message):
    assert_refused_at(lambda: ad.grad(f)(M, B), f, 1, message)


def test_every_scipy_linalg_row_is_tested_here():
    from autodiff_ast._ops_scipy import SCIPY_ROWS

    rows = {name for module, name in SCIPY_ROWS if module == "scipy.linalg"}
    called = {node.attr for f in [*FUNCTIONS, *FACTORED, *SOLVERS,
                                  eigen_values_and_vectors]
              for node in ast.walk(ast.parse(textwrap.dedent(
                  inspect.getsource(f))))
              if isinstance(node, ast.Attribute)
              and ast.unparse(node.value) == "scipy.linalg"}
    assert rows == called | {"cho_solve"}  # (imported by name above)
