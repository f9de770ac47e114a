"""Derivatives of decompositions by eigenvalues and singular values,
beyond the central differences of test_linalg's tables: JAX's values (JAX
0.10.2, x64, printed), the code generated for the common cases, what
happens where the decomposition is not differentiable, and errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient
from test_linalg import _body

S = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, -1.0]])
WEIGHTS = np.array([1.0, 2.0, 3.0])
W = np.arange(1.0, 10.0).reshape(3, 3)


def weighted_eigenvalues(a):
    return np.linalg.eigvalsh(a) @ WEIGHTS


def weighted_eigenvectors(a):
    return np.sum(np.linalg.eigh(a)[1] * W)


def sum_of_eigenvalues(a):
    return np.sum(np.linalg.eigvalsh(a))


def sum_of_squared_eigenvalues(a):
    return np.sum(np.linalg.eigvalsh(a) ** 2)


def eigenvalues(a):
    return np.linalg.eigvalsh(a)


def assert_nan_after_a_division_by_zero(gradient):
    """The gradient at I is nan, and NumPy warned of the division by zero
    that gave it."""
    with pytest.warns(RuntimeWarning) as record:
        value = gradient(np.eye(3))
    assert "divide by zero encountered in divide" in [
        str(warning.message) for warning in record]
    assert np.isnan(value).all()


# -- eigvalsh and eigh --------------------------------------------------------

def test_eigenvalue_and_eigenvector_gradients_are_jaxs():
    # jax.grad(lambda a: jnp.linalg.eigvalsh(a) @ weights)(S), and of
    # jnp.sum(jnp.linalg.eigh(a)[1] * W) (NumPy and JAX pick the same
    # signs of the eigenvectors of S).
    np.testing.assert_allclose(ad.grad(weighted_eigenvalues)(S), [
        [2.847029986464917, 0.35474614818868294, 0.06578611266182852],
        [0.35474614818868294, 2.141012864975182, 0.1141963508855051],
        [0.06578611266182852, 0.1141963508855051, 1.0119571485599015]],
        rtol=1e-12)
    np.testing.assert_allclose(ad.grad(weighted_eigenvectors)(S), [
        [2.4236852381487335, -2.0895125785625663, -2.1412771512935507],
        [-2.0895125785625663, -2.3727746588323835, -0.01934596990039328],
        [-2.1412771512935507, -0.01934596990039328, -0.05091057931635021]],
        rtol=1e-11)


def test_generated_eigen_derivatives_read_as_written_by_hand():
    assert _body(ad.grad(weighted_eigenvalues), S) == [
        "Q_a = np.linalg.eigh(a)[1]",
        "return Q_a * WEIGHTS @ Q_a.T"]
    # The sum of the eigenvalues is the trace: its gradient the identity.
    assert _body(ad.grad(sum_of_eigenvalues), S) == [
        "return np.eye(a.shape[1])"]
    assert _body(ad.jacobian(eigenvalues), S) == [
        "Q_a = np.linalg.eigh(a)[1]",
        "return np.einsum('ji,ki->ijk', Q_a, Q_a)"]
    assert _body(ad.grad(weighted_eigenvectors), S) == [
        "shared = np.linalg.eigh(a)",
        "w_a = shared[0]",
        "Q_a = shared[1]",
        "Q_a_T = Q_a.T",
        "eye = np.eye(w_a.shape[0])",
        "M = (Q_a @ ((1 / (eye - w_a[:, None] + w_a[None, :]) - eye)"
        " * (Q_a_T @ W))",
        "@ Q_a_T)",
        "return 0.5 * (M + M.T)"]


def test_at_repeated_eigenvalues_only_eigenvectors_are_nan():
    # As JAX: the gradient of sum(eigvalsh(a) ** 2) at I is 2 I; that of
    # the eigenvectors is nan (any rotation of an eigenspace is as good),
    # and NumPy warns of the division by zero that gives it.
    np.testing.assert_array_equal(
        ad.grad(sum_of_squared_eigenvalues)(np.eye(3)), 2 * np.eye(3))
    assert_nan_after_a_division_by_zero(ad.grad(weighted_eigenvectors))


def upper_eigenvalues(a):
    return np.sum(np.linalg.eigvalsh(a, UPLO="U") ** 3)


def test_the_upper_triangle_is_read_as_numpy_reads_it():
    a = np.triu(S) + np.tril(np.ones((3, 3)), -1)  # the lower one ignored
    assert _body(ad.grad(upper_eigenvalues), a) == [
        "Q_a = np.linalg.eigh(a, UPLO='U')[1]",
        "return Q_a * (3 * np.linalg.eigvalsh(a, UPLO='U') ** 2) @ Q_a.T"]
    symmetric = np.triu(S) + np.triu(S, 1).T
    np.testing.assert_allclose(ad.grad(upper_eigenvalues)(a),
                               ad.grad(upper_eigenvalues)(symmetric),
                               rtol=1e-12)
    np.testing.assert_allclose(
        ad.grad(upper_eigenvalues)(symmetric),
        numeric_gradient(lambda m: upper_eigenvalues((m + m.T) / 2),
                         (symmetric,), 0), rtol=1e-7)


def test_eigen_derivatives_keep_float32():
    a = S.astype(np.float32)
    assert ad.grad(weighted_eigenvalues)(a).dtype == np.float32
    assert ad.grad(weighted_eigenvectors)(a).dtype == np.float32
    assert ad.jacobian(eigenvalues)(a).dtype == np.float32


def bad_triangle(a):
    return np.sum(np.linalg.eigh(a, UPLO="X")[0])


def test_a_bad_triangle_is_refused_at_the_users_line():
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(bad_triangle)(S)
    line = inspect.getsourcelines(bad_triangle)[1] + 1
    assert ("np.linalg.eigh: UPLO must be 'L' or 'U' (a constant string), "
            f"not 'X' (") in str(caught.value)
    assert f"test_spectral.py:{line}" in str(caught.value)


# -- svd ----------------------------------------------------------------------

A = np.array([[2.0, 0.5, 0.1], [0.3, 1.0, 0.2], [0.0, 0.4, -1.0],
              [0.5, -0.2, 0.3]])
W43 = np.arange(1.0, 13.0).reshape(4, 3)


def svd_terms(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (np.sum(u ** 2 * W43) + np.sum(s ** 3)
            + np.sum(vh[0] ** 2 * np.array([1.0, 2.0, 3.0])))


def nuclear_norm(a):
    return np.sum(np.linalg.svd(a, compute_uv=False))


def sum_of_left_vectors(a):
    return np.sum(np.linalg.svd(a)[0])


def test_svd_gradients_are_jaxs():
    # jax.grad of the same function (jnp.linalg.svd, full_matrices=False)
    np.testing.assert_allclose(ad.grad(svd_terms)(A), [
        [12.027628781029224, 4.955018702409375, 1.1629043402575576],
        [3.702548469941724, 3.2850456422715837, 0.4579999431811718],
        [0.7715986593669457, 0.9511645717223931, -3.2922369501872075],
        [5.355309286244912, -2.638660964676857, 1.2784529010473211]],
        rtol=1e-11)
    # d sum(s) / dA = U @ Vh
    u, _, vh = np.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(ad.grad(nuclear_norm)(A), u @ vh,
                               rtol=1e-12)


def test_the_gradient_of_the_nuclear_norm_reads_as_written_by_hand():
    assert _body(ad.grad(nuclear_norm), A) == [
        "shared = np.linalg.svd(a, full_matrices=False)",
        "return shared[0] @ shared[2]"]


def test_at_repeated_singular_values_only_the_vectors_are_nan():
    # As JAX: the gradient of the sum of the singular values of I is I;
    # that of U is nan.
    np.testing.assert_allclose(ad.grad(nuclear_norm)(np.eye(3)), np.eye(3),
                               rtol=1e-15)
    assert_nan_after_a_division_by_zero(ad.grad(sum_of_left_vectors))


def wide_qr(a):
    return np.sum(np.linalg.qr(a.T)[1])


def complete_qr(a):
    return np.sum(np.linalg.qr(a, mode="complete")[0])


def full_tall_svd(a):
    return np.sum(np.linalg.svd(a)[0])


def hermitian_svd(a):
    return np.sum(np.linalg.svd(a, hermitian=True)[1])


@pytest.mark.parametrize("function,message", [
    (full_tall_svd, "np.linalg.svd of a 4 x 3 matrix with "
     "full_matrices=True: the extra columns of U are not determined by "
     "the matrix and have no derivative: pass full_matrices=False"),
    (hermitian_svd, "np.linalg.svd(..., hermitian=True) is not supported: "
     "leave hermitian=False (the default), or use np.linalg.eigh for a "
     "symmetric matrix"),
    (wide_qr, "np.linalg.qr of a 3 x 4 matrix: with fewer rows than "
     "columns, R's last columns have no derivative as a function of the "
     "matrix (JAX refuses it too): decompose the transpose, or the first "
     "m columns"),
    (complete_qr, "np.linalg.qr(..., mode='complete') is not supported: "
     "use mode='reduced' (the default)"),
])
def test_decompositions_without_derivatives_are_refused_at_the_users_line(
        function, message):
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(function)(A)
    assert message in str(caught.value)
    line = inspect.getsourcelines(function)[1] + 1
    assert f"test_spectral.py:{line}" in str(caught.value)


def test_svd_derivatives_keep_float32():
    a = A.astype(np.float32)
    assert ad.grad(svd_terms)(a).dtype == np.float32
    assert ad.jacobian(lambda m: np.linalg.svd(m, compute_uv=False))(
        a).dtype == np.float32


# -- pinv ---------------------------------------------------------------------

W34 = np.arange(1.0, 13.0).reshape(3, 4)


def weighted_pinv(a):
    return np.sum(np.linalg.pinv(a) * W34[:a.shape[1], :a.shape[0]])


def test_pinv_gradients_are_jaxs():
    # jax.grad of the same function; at a matrix of rank one, JAX's too
    # (along perturbations that keep the rank).
    np.testing.assert_allclose(ad.grad(weighted_pinv)(A), [
        [1.184666841235545, -2.446814162156568, -3.9676781078387853],
        [-5.209985627762308, -4.204584543511628, 7.2724863268947555],
        [2.8224190583592903, 8.757392815333747, 0.8584037446100967],
        [-3.364798051629873, 10.12327152558794, 14.015251791052497]],
        rtol=1e-11)
    rank_one = np.array([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])
    np.testing.assert_allclose(ad.grad(weighted_pinv)(rank_one), [
        [-0.07582766439909278, -0.09723356009070262],
        [-0.2126077097505664, -0.31637188208616696],
        [0.04970521541950112, 0.12662131519274375]], rtol=1e-10)


def test_the_gradient_of_pinv_reads_as_written_by_hand():
    assert _body(ad.grad(weighted_pinv), A) == [
        "pinv_a = np.linalg.pinv(a)",
        "W34_part = W34[:3, :4]",
        "pinv_a_T = pinv_a.T",
        "W34_part_T = W34_part.T",
        "return ((np.eye(a.shape[0])",
        "- a @ pinv_a) @ W34_part_T @ (pinv_a @ pinv_a_T)",
        "- pinv_a_T @ W34_part @ pinv_a_T",
        "+ pinv_a_T @ pinv_a @ (W34_part_T",
        "@ (np.eye(a.shape[1]) - pinv_a @ a)))"]


# -- lstsq --------------------------------------------------------------------

RHS = np.array([1.0, -2.0, 0.5, 3.0])


def fitted(a, b):
    return np.sum(np.sin(np.linalg.lstsq(a, b, rcond=None)[0]))


def test_least_squares_gradients_are_jaxs():
    # jax.grad(f, (0, 1)) of the same function (jnp.linalg.lstsq)
    grad_a, grad_b = ad.grad(fitted, (0, 1))(A, RHS)
    np.testing.assert_allclose(grad_a, [
        [-0.17154464239501577, 0.5289453803428251, -0.13290592162158932],
        [1.003425307367132, -1.9667129999052966, -0.44954040238826704],
        [1.0224980356280282, -2.0790734575969867, -0.3764773092108867],
        [-0.12342570114622853, -0.5639037145544384, 0.932367289380865]],
        rtol=1e-11)
    np.testing.assert_allclose(grad_b, [
        0.04321823336109813, -0.6140757379649828, -0.6017184210972062,
        0.33378805696233466], rtol=1e-11)


def residuals_read(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return np.sum(residuals)


def test_reading_lstsqs_residuals_is_refused_at_the_users_line():
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(residuals_read)(A, RHS)
    assert ("the residuals of np.linalg.lstsq, which depends on the rank "
            "found at run time (compute what you need from the solution x, "
            "e.g. np.sum((a @ x - b) ** 2, axis=0)), is not a number") in str(
                caught.value)
    line = inspect.getsourcelines(residuals_read)[1] + 2
    assert f"test_spectral.py:{line}" in str(caught.value)


# -- qr -----------------------------------------------------------------------

def qr_terms(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * W43) + np.sum(r ** 2 * W43[:3])


def test_qr_gradients_are_jaxs():
    # jax.grad of the same function (jnp.linalg.qr; the same signs)
    np.testing.assert_allclose(ad.grad(qr_terms)(A), [
        [5.51732432751885, 3.6657022679059477, -4.0658734804958],
        [-1.9905881103843366, 8.193346623873284, 7.524577389984216],
        [1.2039182539418671, 1.2181385571148724, -13.39518870983755],
        [-3.514944443844792, -9.978817045947753, 16.66874748799266]],
        rtol=1e-11)
