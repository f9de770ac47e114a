"""Linear algebra beyond 2-D products: np.linalg.det, slogdet, inv, solve,
cholesky, np.einsum, np.tensordot, np.inner, np.kron, np.cross and
batched (stacked) matrix products. Each spelling's gradient against
central differences on its domain, the generated code for representative
cases, dtypes, and errors at the user's line. ``CASES`` is also read by
test_array_ops, whose tests check that the array table and the cases
cover each other."""

from __future__ import annotations

import ast
import inspect
import pickle
import re

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient, numeric_jacobian

RNG = np.random.default_rng(12)


def normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


def well_conditioned(n: int) -> np.ndarray:
    """A square matrix far from singular (its determinant is not near 0)."""
    return normal(n, n) + 3 * np.eye(n)


def positive_definite(n: int) -> np.ndarray:
    root = normal(n, n)
    return root @ root.T + n * np.eye(n)


W3 = normal(3, 3)
W32 = normal(3, 2)


# -- matrix functions ---------------------------------------------------------

def f_det(a):
    return np.linalg.det(a) ** 2


def f_det_of_product(a, b):
    return np.log(np.abs(np.linalg.det(a @ b)))


def f_slogdet(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet + logdet ** 2


def f_slogdet_field(a):
    return np.linalg.slogdet(a).logabsdet


def f_inv(a):
    return np.sum(np.linalg.inv(a) * W3)


def f_inv_twice(a):
    inverse = np.linalg.inv(a)
    return np.sum(inverse @ inverse) + np.trace(inverse)


def f_solve(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


def f_solve_matrix(a, b):
    return np.sum(np.sin(np.linalg.solve(a, b)))


def f_det_stack(a):
    return np.sum(np.linalg.det(a) ** 2)


def f_slogdet_stack(a):
    return np.sum(np.linalg.slogdet(a)[1] * np.array([1.0, -2.0]))


def f_inv_stack(a):
    return np.sum(np.sin(np.linalg.inv(a)))


def f_cholesky_stack(a):
    return np.sum(np.linalg.cholesky(a) ** 2 * W3)


def stack(*matrices):
    return np.stack(matrices)


def f_cholesky(a):
    return np.sum(np.linalg.cholesky(a) * W3)


def f_cholesky_logdet(a):
    # log det A = 2 * sum(log(diag(L))): the usual Gaussian likelihood.
    return 2 * np.sum(np.log(np.diag(np.linalg.cholesky(a))))


def f_matrix_power(a):
    return np.sum(np.linalg.matrix_power(a, 5) * W3)


def f_matrix_power_inverse(a):
    return np.sum(np.linalg.matrix_power(a, -2) * W3)


def f_matrix_power_stack(a):
    return np.sum(np.sin(np.linalg.matrix_power(a, 3)))


def f_matrix_power_zero(a):
    return np.sum(np.linalg.matrix_power(a, 0) * a ** 2)


CASES = {
    "np.linalg.matrix_power": [
        (f_matrix_power, (well_conditioned(3) / 3,)),
        (f_matrix_power_inverse, (well_conditioned(3),)),
        (f_matrix_power_stack, (stack(well_conditioned(2) / 3,
                                      well_conditioned(2) / 3),)),
        (f_matrix_power_zero, (normal(3, 3),))],
    "np.linalg.det": [(f_det, (well_conditioned(3),)),
                      (f_det_of_product, (well_conditioned(3),
                                          well_conditioned(3))),
                      (f_det_stack, (stack(well_conditioned(3),
                                           well_conditioned(3)),))],
    "np.linalg.slogdet": [(f_slogdet, (well_conditioned(4),)),
                          (f_slogdet, (-well_conditioned(3),)),
                          (f_slogdet_field, (well_conditioned(3),)),
                          (f_slogdet_stack, (stack(well_conditioned(3),
                                                   -well_conditioned(3)),))],
    "np.linalg.inv": [(f_inv, (well_conditioned(3),)),
                      (f_inv_twice, (well_conditioned(3),)),
                      (f_inv_stack, (stack(well_conditioned(2),
                                           well_conditioned(2)),))],
    "np.linalg.solve": [(f_solve, (well_conditioned(3), normal(3))),
                        (f_solve_matrix, (well_conditioned(3), normal(3, 2))),
                        (f_solve_matrix, (stack(well_conditioned(3),
                                                well_conditioned(3)),
                                          normal(2, 3, 2)))],
}
# Cholesky reads the lower triangle only; as JAX, its gradient is that of
# the function of the symmetrised input (A + A.T) / 2.
SYMMETRISED = {
    "np.linalg.cholesky": [(f_cholesky, (positive_definite(3),)),
                           (f_cholesky_logdet, (positive_definite(4),)),
                           (f_cholesky_stack, (stack(positive_definite(3),
                                                     positive_definite(3)),))],
}
CASES.update(SYMMETRISED)


# -- symmetric eigenproblems --------------------------------------------------
# As cholesky, eigvalsh and eigh read one triangle of the matrix; their
# derivatives are JAX's, those of the function of the symmetrised input.

SPECTRAL_RNG = np.random.default_rng(13)


def symmetric(n: int) -> np.ndarray:
    """A symmetric matrix whose eigenvalues are 1 apart (-1.3, -0.3, ...):
    its eigenvectors are differentiable."""
    q = np.linalg.qr(SPECTRAL_RNG.normal(size=(n, n)))[0]
    return (q * (np.arange(n) - 1.3)) @ q.T


def f_eigvalsh(a):
    return np.sum(np.linalg.eigvalsh(a) * np.array([1.0, -2.0, 0.5]))


def f_eigvalsh_upper(a):
    return np.sum(np.sin(np.linalg.eigvalsh(a, UPLO="U")))


def f_eigvalsh_stack(a):
    return np.sum(np.linalg.eigvalsh(a) ** 3)


def f_eigh(a):
    w, q = np.linalg.eigh(a)
    return np.sum(q * W3) + np.sum(w ** 2 * q[0])


def f_eigh_fields(a):
    result = np.linalg.eigh(a)
    return result.eigenvalues @ np.cos(result.eigenvectors[1])


def f_eigh_stack(a):
    w, q = np.linalg.eigh(a)
    return np.sum(np.exp(w)[..., None, :] * q ** 2 * W3)


SPECTRAL = {
    "np.linalg.eigvalsh": [(f_eigvalsh, (symmetric(3),)),
                           (f_eigvalsh_upper, (symmetric(4),)),
                           (f_eigvalsh_stack, (stack(symmetric(3),
                                                     symmetric(3)),))],
    "np.linalg.eigh": [(f_eigh, (symmetric(3),)),
                       (f_eigh_fields, (symmetric(4),)),
                       (f_eigh_stack, (stack(symmetric(3), symmetric(3)),))],
}
SYMMETRISED.update(SPECTRAL)
CASES.update(SPECTRAL)


# -- the singular value decomposition -----------------------------------------

def gaussian(*shape: int) -> np.ndarray:
    return SPECTRAL_RNG.normal(size=shape)


W43 = gaussian(4, 3)


def f_singular_values(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 2
                  * np.array([1.0, -2.0, 0.5]))


def f_nuclear(a):
    return np.sum(np.linalg.svd(a, compute_uv=False))


def f_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u ** 2 * W43) + np.sum(s ** 3) + np.sum(vh[0] * vh[1])


def f_svd_wide(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(vh ** 2 * W43.T) + np.sum(np.sin(u) * s)


def f_svd_square(a):
    result = np.linalg.svd(a)
    return np.sum(result.U * result.Vh.T) + np.sum(result.S ** 2)


def f_svd_stack(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u[..., 0] ** 2 * s[..., :1]) + np.sum(vh ** 3)


CASES.update({
    "np.linalg.svd": [(f_singular_values, (gaussian(4, 3),)),
                      (f_nuclear, (stack(gaussian(3, 4), gaussian(3, 4)),)),
                      (f_svd, (gaussian(4, 3),)),
                      (f_svd_wide, (gaussian(3, 4),)),
                      (f_svd_square, (gaussian(3, 3),)),
                      (f_svd_stack, (gaussian(2, 4, 3),)),
                      (f_svd_stack, (gaussian(2, 3, 4),))],
})


def f_pinv(a):
    return np.sum(np.linalg.pinv(a) * W43.T)


def f_pinv_stack(a):
    return np.sum(np.sin(np.linalg.pinv(a)))


CASES.update({
    "np.linalg.pinv": [(f_pinv, (gaussian(4, 3),)),
                       (f_pinv, (gaussian(3, 4).T @ gaussian(3, 3),)),
                       (f_pinv_stack, (stack(gaussian(2, 3),
                                             gaussian(2, 3)),)),
                       (f_pinv_stack, (gaussian(3, 3) + 3 * np.eye(3),))],
})


def f_lstsq(a, b):
    return np.sum(np.sin(np.linalg.lstsq(a, b, rcond=None)[0]))


def f_lstsq_values(a, b):
    x, _, _, s = np.linalg.lstsq(a, b)
    return np.sum(x ** 2) + np.sum(s * np.array([1.0, -0.5]))


CASES.update({
    "np.linalg.lstsq": [(f_lstsq, (gaussian(5, 3), gaussian(5))),
                        (f_lstsq, (gaussian(4, 2), gaussian(4, 3))),
                        (f_lstsq, (gaussian(2, 4), gaussian(2))),
                        (f_lstsq_values, (gaussian(4, 2), gaussian(4)))],
})


def f_qr(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.sin(q) * W43[:a.shape[0], :a.shape[1]]) + np.sum(r ** 3)


def f_qr_fields(a):
    result = np.linalg.qr(a)
    return np.sum(result.Q[..., 0, :]
                  * np.diagonal(result.R, axis1=-2, axis2=-1))


CASES.update({
    "np.linalg.qr": [(f_qr, (gaussian(4, 3),)), (f_qr, (gaussian(3, 3),)),
                     (f_qr_fields, (gaussian(4, 2),)),
                     (f_qr_fields, (stack(gaussian(3, 2),
                                          gaussian(3, 2)),))],
})


# -- np.cov: what it computes, lowered --------------------------------------


def f_cov(x):
    return np.sum(np.cov(x) ** 2)


def f_cov_columns(x):
    return np.sum(np.sin(np.cov(x, rowvar=False)))


def f_cov_options(x):
    return np.sum(np.cov(x, bias=True) * W3) + np.cov(x[0], ddof=2) ** 2


def f_cov_one_row(x):
    return np.cov(x[:1]) ** 2


CASES.update({
    "np.cov": [(f_cov, (gaussian(3, 5),)), (f_cov_columns, (gaussian(6, 2),)),
               (f_cov_options, (gaussian(3, 4),)),
               (f_cov_one_row, (gaussian(2, 5),))],
})


# -- einsum and the products written with it ----------------------------------

W34 = normal(3, 4)


def f_einsum_matmul(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b) * W34)


def f_einsum_summed(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b))


def f_einsum_trace(a):
    return np.einsum("ii", a) ** 2


def f_einsum_diagonal(a):
    return np.sum(np.sin(np.einsum("ii->i", a)))


def f_einsum_bilinear(x, m, y):
    return np.einsum("i,ij,j", x, m, y) ** 2


def f_einsum_batched(a, b):
    return np.sum(np.einsum("...ij,...jk->...ik", a, b) ** 2)


def f_einsum_broadcast(a, b):
    # Implicit output; a's first axis broadcasts from size 1.
    return np.sum(np.einsum("...ij,...jk", a, b) ** 2)


def f_einsum_labels_broadcast(a, b):
    return np.sum(np.einsum("ij,ij->ij", a, b) ** 2)


def f_einsum_transpose(a):
    return np.sum(np.einsum("ij->ji", a) * W34.T)


def f_einsum_outer_sum(a, b):
    return np.sum(np.einsum("ij,k->jk", a, b, optimize=True) ** 3)


def f_tensordot(a, b):
    return np.sum(np.tensordot(a, b, 2) ** 2)


def f_tensordot_pairs(a, b):
    return np.sum(np.tensordot(a, b, axes=([0, 2], [2, 1])) ** 2)


def f_tensordot_outer(a, b):
    return np.sum(np.tanh(np.tensordot(a, b, axes=0)))


def f_inner(a, b):
    return np.sum(np.inner(a, b) ** 2)


CASES.update({
    "np.einsum": [
        (f_einsum_matmul, (normal(3, 2), normal(2, 4))),
        (f_einsum_summed, (normal(3, 2), normal(2, 4))),
        (f_einsum_trace, (normal(3, 3),)),
        (f_einsum_diagonal, (normal(3, 3),)),
        (f_einsum_bilinear, (normal(3), normal(3, 4), normal(4))),
        (f_einsum_batched, (normal(2, 3, 2), normal(2, 2, 4))),
        (f_einsum_broadcast, (normal(1, 3, 2), normal(5, 2, 4))),
        (f_einsum_labels_broadcast, (normal(1, 3), normal(4, 3))),
        (f_einsum_transpose, (normal(3, 4),)),
        (f_einsum_outer_sum, (normal(2, 3), normal(2))),
    ],
    "np.tensordot": [
        (f_tensordot, (normal(2, 3, 4), normal(3, 4, 2))),
        (f_tensordot_pairs, (normal(2, 3, 4), normal(5, 4, 2))),
        (f_tensordot_outer, (normal(2), normal(2, 3))),
    ],
    "np.inner": [
        (f_inner, (normal(2, 3, 4), normal(5, 4))),
        (f_inner, (normal(2, 4), normal(5, 4))),
        (f_inner, (normal(2, 4), normal(4))),
        (f_inner, (normal(4), normal(3, 4))),
    ],
})


def f_kron(a, b):
    return np.sum(np.kron(a, b) * np.arange(1.0, 1.0 + a.size * b.size
                                            ).reshape(np.kron(a, b).shape))


def f_kron_mixed(a, b):
    return np.sum(np.sin(np.kron(a, b)))


def f_cross(a, b):
    return np.sum(np.cross(a, b) ** 2)


def f_cross_weighted(a, b):
    return np.sum(np.cross(a, b) * np.array([1.0, -2.0, 0.5]))


def f_cross_axis(a, b):
    return np.sum(np.cross(a, b, axis=0) ** 3)


def f_cross_axes(a, b):
    return np.sum(np.tanh(np.cross(a, b, axisa=0, axisc=0)))


CASES.update({
    "np.kron": [(f_kron, (normal(3), normal(2))),
                (f_kron, (normal(2, 3), normal(2, 2))),
                (f_kron_mixed, (normal(3), normal(2, 2)))],
    "np.cross": [(f_cross, (normal(3), normal(3))),
                 (f_cross_weighted, (normal(4, 3), normal(3))),
                 (f_cross_axis, (normal(3, 2), normal(3, 2))),
                 (f_cross_axes, (normal(3, 4), normal(4, 3)))],
})


# -- products of arrays above two dimensions ----------------------------------

def f_matmul_stacked(a, b):
    return np.sum((a @ b) ** 2)


def f_matmul_function(a, b):
    return np.sum(np.cos(np.matmul(a, b)))


def f_dot_stacked(a, b):
    return np.sum(np.dot(a, b) ** 2)


def f_dot_method_stacked(a, b):
    return np.sum(a.dot(b) ** 2)


BATCHED = {
    "@": [(f_matmul_stacked, (normal(2, 3, 4), normal(4, 5))),
          (f_matmul_stacked, (normal(4), normal(6, 4, 5))),
          (f_matmul_stacked, (normal(2, 3, 4), normal(4))),
          (f_matmul_stacked, (normal(3, 2, 4), normal(3, 4, 2)))],
    "np.matmul": [(f_matmul_function, (normal(1, 3, 4), normal(6, 4, 5))),
                  (f_matmul_function, (normal(2, 1, 3, 4),
                                       normal(5, 4, 2)))],
    "np.dot": [(f_dot_stacked, (normal(2, 3, 4), normal(5, 4, 2))),
               (f_dot_stacked, (normal(3, 4), normal(2, 4, 3)))],
    ".dot()": [(f_dot_method_stacked, (normal(2, 3, 4), normal(4)))],
}


def _float_argnums(args):
    return tuple(i for i, a in enumerate(args)
                 if np.asarray(a).dtype.kind == "f")


def _reference(function, spelling):
    if spelling not in SYMMETRISED:
        return function
    return lambda a: function((a + np.swapaxes(a, -1, -2)) / 2)


@pytest.mark.parametrize("spelling,function,args", [
    pytest.param(spelling, function, args,
                 id=f"{spelling}-{function.__name__}-{index}")
    for spelling, cases in list(CASES.items()) + list(BATCHED.items())
    for index, (function, args) in enumerate(cases)])
def test_gradient_matches_central_differences(spelling, function, args):
    argnums = _float_argnums(args)
    grads = ad.grad(function, argnums=argnums)(*args)
    reference = _reference(function, spelling)
    for argnum, grad in zip(argnums, grads):
        expected = numeric_gradient(reference, args, argnum)
        np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)
        assert np.shape(grad) == np.shape(args[argnum])


def test_the_gradient_of_a_determinant_is_jacobis_formula():
    a = well_conditioned(3)
    np.testing.assert_allclose(ad.grad(lambda a: np.linalg.det(a))(a),
                               np.linalg.det(a) * np.linalg.inv(a).T,
                               rtol=1e-12)
    source = ad.source(ad.grad(f_det), a)
    assert source.splitlines()[:2] == [
        "def grad_f_det(a):",
        '    """Gradient of f_det with respect to a.']
    line = inspect.getsourcelines(f_det)[1]
    assert "f_det is defined at " in source
    assert f"test_linalg.py:{line}." in source
    assert _body(ad.grad(f_det), a) == COFACTORS_OF_A + [
        "return cofactors_a * (2 * det_a)"]


# det's derivatives read its cofactors: Jacobi's formula where the
# determinant is not 0, else the cofactors from the SVD (conformance bug 1).
COFACTORS_OF_A = [
    "det_a = np.linalg.det(a)",
    "if det_a != 0:",
    "cofactors_a = det_a * np.linalg.inv(a).T",
    "else:",
    "svd_a = np.linalg.svd(a)",
    "others_a = np.prod(np.where(np.eye(svd_a[1].shape[-1], dtype=bool),",
    "1.0, svd_a[1][..., None, :]), axis=-1)",
    "cofactors_a = (np.linalg.det(svd_a[0] @ svd_a[2])",
    "* (svd_a[0] * others_a) @ svd_a[2])"]


def test_generated_gradients_of_inv_and_solve_read_as_written_by_hand():
    a, b = well_conditioned(3), normal(3)
    assert _body(ad.grad(f_inv), a) == [
        "inv_a_T = np.linalg.inv(a).T",
        "return -(inv_a_T @ W3 @ inv_a_T)"]
    assert _body(ad.grad(f_solve, argnums=(0, 1)), a, b) == [
        "solve_a_b = np.linalg.solve(a, b)",
        "d_b = np.linalg.solve(a.T, 2 * solve_a_b)",
        "grad_a = -d_b[:, None] * solve_a_b",
        "return grad_a, d_b"]


def test_the_gradient_of_cholesky_is_symmetric_as_in_jax():
    a = positive_definite(3)
    grad = ad.grad(f_cholesky)(a)
    np.testing.assert_allclose(grad, grad.T, rtol=0, atol=1e-15)
    # phi (the lower triangle, the diagonal halved) is a product with a
    # mask, so that forward mode (hessian) differentiates it as one.
    assert _body(ad.grad(f_cholesky), a) == [
        "chol_a = np.linalg.cholesky(a)",
        "n1 = a.shape[1]",
        "inv_chol_a = np.linalg.inv(chol_a)",
        "S = (inv_chol_a.T",
        "@ (chol_a.T @ W3 * (np.tril(np.ones((n1, n1))) - 0.5 * np.eye(n1)))",
        "@ inv_chol_a)",
        "return 0.5 * (S + S.T)"]


def test_the_sign_of_slogdet_stops_the_gradient():
    a = -well_conditioned(3)
    assert np.linalg.det(a) < 0
    np.testing.assert_allclose(
        ad.grad(lambda a: np.linalg.slogdet(a)[0] * 5.0)(a), np.zeros((3, 3)))
    np.testing.assert_allclose(
        ad.grad(lambda a: np.linalg.slogdet(a)[1])(a), np.linalg.inv(a).T,
        rtol=1e-12)


def test_a_matrix_function_in_a_pytree_argument():
    def loss(params, x):
        return np.linalg.slogdet(params["cov"])[1] + x @ np.linalg.solve(
            params["cov"], x)

    params = {"cov": positive_definite(3)}
    x = normal(3)
    grad = ad.grad(loss)(params, x)
    expected = numeric_gradient(loss, (params, x), 0)
    np.testing.assert_allclose(grad["cov"], expected["cov"], rtol=1e-6)


def test_float32_matrices_give_float32_gradients():
    a = well_conditioned(3).astype(np.float32)
    b = normal(3).astype(np.float32)
    for function, args in [(f_det, (a,)), (f_inv, (a,)),
                           (f_solve, (a, b))]:
        for grad in ad.grad(function, argnums=_float_argnums(args))(*args):
            assert grad.dtype == np.float32


@pytest.mark.parametrize("function,message", [
    (lambda v: np.linalg.det(v), "np.linalg.det: 1-dimensional array given. "
     "Array must be at least two-dimensional"),
    (lambda v: np.linalg.inv(v.reshape(1, 6)),
     "np.linalg.inv: last 2 dimensions of the array must be square (the "
     "shape is (1, 6))"),
    (lambda v: np.sum(np.linalg.solve(np.ones((3, 2, 2)) + v[:2], v[:2])),
     "np.linalg.solve: b of shape (2,) is not supported here for matrices "
     "of shape (3, 2, 2): pass b of shape (3, n, k)"),
    (lambda v: np.sum(np.linalg.solve(np.eye(2), v)),
     "np.linalg.solve: b has 6 rows but the matrix is 2 x 2: they must "
     "match"),
])
def test_bad_matrices_are_refused_at_the_users_line(function, message):
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(function)(np.ones(6))
    assert message in str(caught.value)
    line = inspect.getsourcelines(function)[1]
    assert f"test_linalg.py:{line}" in str(caught.value)


def test_the_gradients_of_an_einsum_are_einsums():
    a, b = normal(3, 2), normal(2, 4)
    assert _body(ad.grad(f_einsum_matmul, argnums=(0, 1)), a, b) == [
        "grad_a = np.einsum('ik,jk->ij', W34, b, optimize=True)",
        "grad_b = np.einsum('ij,ik->jk', a, W34, optimize=True)",
        "return grad_a, grad_b"]
    stacked = normal(2, 3, 2), normal(2, 2, 4)
    assert _body(ad.grad(f_einsum_batched, argnums=(0, 1)), *stacked) == [
        "d_einsum = 2 * np.einsum('...ij,...jk->...ik', a, b)",
        "grad_a = np.einsum('...ik,...jk->...ij', d_einsum, b, optimize=True)",
        "grad_b = np.einsum('...ij,...ik->...jk', a, d_einsum, optimize=True)",
        "return grad_a, grad_b"]


def test_a_diagonal_in_an_einsum_is_a_product_with_the_identity():
    a = normal(3, 3)
    assert _body(ad.grad(f_einsum_trace), a) == [
        "return 2 * np.einsum('ii', a) * np.eye(a.shape[0])"]
    np.testing.assert_allclose(ad.grad(f_einsum_trace)(a),
                               2 * np.trace(a) * np.eye(3), rtol=1e-12)


def test_products_above_two_dimensions_keep_their_spelling():
    a, b = normal(2, 3, 4), normal(4, 5)
    assert _body(ad.grad(f_matmul_stacked, argnums=(0, 1)), a, b) == [
        "d_matmul_a_b = 2 * (a @ b)",
        "grad_a = np.einsum('...ik,jk->...ij', d_matmul_a_b, b, "
        "optimize=True)",
        "grad_b = np.einsum('aij,aik->jk', a, d_matmul_a_b, optimize=True)",
        "return grad_a, grad_b"]
    assert "np.tensordot(a, b, 2)" in ad.source(
        ad.grad(f_tensordot), normal(2, 3, 4), normal(3, 4, 2))


def test_einsum_in_a_pytree_with_argnums():
    def loss(params, x):
        hidden = np.tanh(np.einsum("ij,bj->bi", params["W"], x))
        return np.sum(np.einsum("i,bi->b", params["v"], hidden) ** 2)

    params = {"W": normal(4, 3), "v": normal(4)}
    x = normal(5, 3)
    grad_params, grad_x = ad.grad(loss, argnums=(0, 1))(params, x)
    expected = numeric_gradient(loss, (params, x), 0)
    # (central differences err by about 1e-10 in absolute terms, which
    # is more than rtol of the gradient's small entries)
    for key in params:
        np.testing.assert_allclose(grad_params[key], expected[key],
                                   rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_x, numeric_gradient(loss, (params, x), 1),
                               rtol=1e-6, atol=1e-8)


def test_float32_products_give_float32_gradients():
    a = normal(3, 3).astype(np.float32)
    for function, args in [(f_einsum_trace, (a,)),
                           (f_matmul_stacked, (a[None], a)),
                           (f_cross, (a[0], a[1])), (f_kron, (a, a))]:
        for grad in ad.grad(function, argnums=_float_argnums(args))(*args):
            assert grad.dtype == np.float32


@pytest.mark.parametrize("function,message", [
    (lambda v: np.einsum("ij->", v),
     "np.einsum: the term 'ij' names 2 axes but operand 0 has 1 (shape "
     "(6,)): write one letter per axis, or '...' for the leading ones"),
    (lambda v: np.einsum("i,j", v),
     "np.einsum: the subscripts 'i,j' name 2 operand(s) but 1 are given"),
    (lambda v: np.einsum("i->j", v),
     "np.einsum: output subscript 'j' in 'i->j' is repeated or not in any "
     "operand"),
    (lambda v: np.einsum("i2", v),
     "np.einsum: invalid subscript '2' in 'i2'"),
    (lambda v: np.einsum("...i->i", v.reshape(2, 3)),
     "np.einsum: '...i->i' has '...' in its operands but not in its output"),
    (lambda v: np.einsum(v, [0]),
     "np.einsum's subscripts must be a constant string such as 'ij,jk->ik'"),
    (lambda v: np.sum(np.cross(v[:4], v[2:])),
     "np.cross: the vectors have 4 components: a cross product takes 2- "
     "or 3-vectors"),
])
def test_bad_products_are_refused_at_the_users_line(function, message):
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(function)(np.ones(6))
    assert message in str(caught.value)
    line = inspect.getsourcelines(function)[1]
    assert f"test_linalg.py:{line}" in str(caught.value)


# Shapes that do not fit are the arguments' fault, not unsupported code: a
# ShapeError (NumPy's ValueError, JAX's TypeError) at the user's line.
@pytest.mark.parametrize("function,message", [
    (lambda v: np.einsum("i,i", v, v[:3]),
     "np.einsum: the subscript 'i' has size 3 in operand 1 but 6 in an "
     "earlier one (shapes (6,), (3,)), where a letter names axes of one "
     "length"),
    (lambda v: np.sum(np.tensordot(v.reshape(2, 3), v.reshape(2, 3), 1)),
     "shape-mismatch for sum: axis 1 of (2, 3) has 3 elements but axis 0 "
     "of (2, 3) has 2"),
    (lambda v: np.sum(v.reshape(1, 2, 3) @ v.reshape(1, 2, 3)),
     "matmul: Input operand 1 has a mismatch in its core dimension 0 (size "
     "2 is different from 3): shapes (1, 2, 3) and (1, 2, 3)"),
    (lambda v: np.sum(v.reshape(3, 2, 1) @ v.reshape(2, 1, 3)),
     "matmul: the stacks of matrices of shapes (3, 2, 1) and (2, 1, 3) do "
     "not broadcast together: their leading axes must be equal or 1"),
    (lambda v: np.sum(v @ v[:3]),
     "shapes (6,) and (3,) not aligned: 6 (dim 0) != 3"),
    (lambda v: np.sum(v.reshape(4, -1)),
     "cannot reshape array of size 6 into shape (4,newaxis)"),
])
def test_shapes_that_do_not_fit_are_refused_at_the_users_line(function,
                                                              message):
    with pytest.raises(ad.ShapeError) as caught:
        ad.grad(function)(np.ones(6))
    assert caught.value.msg == message
    assert isinstance(caught.value, ValueError)
    line = inspect.getsourcelines(function)[1]
    assert str(caught.value) == (
        f"{message}: the function cannot be evaluated at arguments of these "
        "shapes; pass arrays whose shapes fit, as NumPy requires "
        f"(tests/test_linalg.py:{line})")  # (as every message names it)
    assert caught.value.filename.endswith("test_linalg.py")
    # (from a worker process, pickled, it keeps its line)
    assert str(pickle.loads(pickle.dumps(caught.value))) == str(caught.value)


# -- forward mode: jacobian, jvp and hessian ----------------------------------

def j_einsum(a, b):
    return np.einsum("ij,jk->ik", a, b)


def j_einsum_batched(a, b):
    return np.einsum("...ij,...jk->...ik", a, b)


def j_einsum_three(x, m, y):
    return np.einsum("i,ij,j->j", x, m, y)


def j_einsum_diagonal(a):
    return np.einsum("ii->i", a) * np.einsum("ii", a)


def j_tensordot(a, b):
    return np.tensordot(a, b, axes=([0, 2], [2, 1]))


def j_inner(a, b):
    return np.inner(a, b)


def j_det(a):
    return np.linalg.det(a)


def j_logdet(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet


def j_inv(a):
    return np.linalg.inv(a)


def j_solve(a, b):
    return np.linalg.solve(a, b)


def j_cholesky(a):
    return np.linalg.cholesky(a)


def j_kron(a, b):
    return np.kron(a, b)


def j_cross(a, b):
    return np.cross(a, b)


def j_cross_axes(a, b):
    return np.cross(a, b, axisa=0, axisc=0)


def j_trace(a):
    return np.trace(a) * a[0] + np.trace(a, 1)


def j_norm(x):
    return np.linalg.norm(x)


def j_norm_axis(x):
    return np.linalg.norm(x, axis=1) + np.linalg.norm(x, axis=0,
                                                      keepdims=True).T


# Array-valued functions, for ad.jacobian and ad.jvp (a function with a
# scalar value would test a Jacobian that is a gradient); each
# decomposition also on a stack of matrices.
FORWARD = {
    "np.einsum": [(j_einsum, (normal(3, 2), normal(2, 4))),
                  (j_einsum_batched, (normal(2, 3, 2), normal(2, 2, 4))),
                  (j_einsum_three, (normal(3), normal(3, 4), normal(4))),
                  (j_einsum_diagonal, (normal(3, 3),))],
    "np.tensordot": [(j_tensordot, (normal(2, 3, 4), normal(5, 4, 2)))],
    "np.inner": [(j_inner, (normal(2, 3, 4), normal(5, 4)))],
    "np.linalg.det": [(j_det, (well_conditioned(3),)),
                      (j_det, (stack(well_conditioned(3),
                                     well_conditioned(3)),))],
    "np.linalg.slogdet": [(j_logdet, (-well_conditioned(3),)),
                          (j_logdet, (stack(well_conditioned(3),
                                            -well_conditioned(3)),))],
    "np.linalg.inv": [(j_inv, (well_conditioned(3),)),
                      (j_inv, (stack(well_conditioned(2),
                                     well_conditioned(2)),))],
    "np.linalg.solve": [(j_solve, (well_conditioned(3), normal(3))),
                        (j_solve, (well_conditioned(3), normal(3, 2))),
                        (j_solve, (stack(well_conditioned(3),
                                         well_conditioned(3)),
                                   normal(2, 3, 2)))],
    "np.linalg.cholesky": [(j_cholesky, (positive_definite(3),)),
                           (j_cholesky, (stack(positive_definite(3),
                                               positive_definite(2 + 1)),))],
    "np.kron": [(j_kron, (normal(2, 3), normal(2, 2))),
                (j_kron, (normal(3), normal(2)))],
    "np.cross": [(j_cross, (normal(4, 3), normal(3))),
                 (j_cross_axes, (normal(3, 4), normal(4, 3)))],
    "np.trace": [(j_trace, (normal(3, 4),))],
    "np.linalg.norm": [(j_norm, (normal(3, 4),)),
                       (j_norm_axis, (normal(3, 4),))],
}


def j_eigvalsh(a):
    return np.linalg.eigvalsh(a)


def j_eigh(a):
    w, q = np.linalg.eigh(a)
    return q * np.sin(w)[..., None, :]


FORWARD.update({
    "np.linalg.eigvalsh": [(j_eigvalsh, (symmetric(3),)),
                           (j_eigvalsh, (stack(symmetric(3),
                                               symmetric(3)),))],
    "np.linalg.eigh": [(j_eigh, (symmetric(3),)),
                       (j_eigh, (stack(symmetric(3), symmetric(3)),))],
})


def j_singular_values(a):
    return np.linalg.svd(a, compute_uv=False)


def j_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u @ (vh * s[..., :, None] ** 2)


def j_svd_factors(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, np.swapaxes(vh, -1, -2)], axis=-2)


FORWARD.update({
    "np.linalg.svd": [(j_singular_values, (gaussian(4, 3),)),
                      (j_singular_values, (stack(gaussian(2, 3),
                                                 gaussian(2, 3)),)),
                      (j_svd, (gaussian(3, 4),)),
                      (j_svd_factors, (gaussian(4, 3),)),
                      (j_svd_factors, (gaussian(3, 3),)),
                      (j_svd_factors, (stack(gaussian(2, 3),
                                             gaussian(2, 3)),))],
})


def j_pinv(a):
    return np.linalg.pinv(a)


FORWARD.update({
    "np.linalg.pinv": [(j_pinv, (gaussian(4, 3),)),
                       (j_pinv, (gaussian(2, 3),)),
                       (j_pinv, (stack(gaussian(3, 2), gaussian(3, 2)),))],
})


def j_lstsq(a, b):
    return np.linalg.lstsq(a, b, rcond=None)[0]


FORWARD.update({
    "np.linalg.lstsq": [(j_lstsq, (gaussian(5, 3), gaussian(5))),
                        (j_lstsq, (gaussian(4, 2), gaussian(4, 3)))],
})


def j_qr(a):
    q, r = np.linalg.qr(a)
    return np.concatenate([q, r], axis=-2)


FORWARD.update({
    "np.linalg.qr": [(j_qr, (gaussian(4, 3),)),
                     (j_qr, (stack(gaussian(3, 2), gaussian(3, 2)),))],
})


def h_trace(a):
    return np.trace(a) ** 2 * np.sum(a ** 2) + np.trace(a @ a, -1)


def h_norm(x):
    return np.linalg.norm(x) ** 3 + np.sum(np.linalg.norm(x, axis=0) * x[0])


def h_gaussian(cov, x):
    # A Gaussian's negative log-likelihood, up to a constant.
    return 0.5 * np.linalg.slogdet(cov)[1] + 0.5 * x @ np.linalg.solve(cov, x)


def h_kron_cross(a, b):
    return np.sum(np.cross(np.kron(a, b)[:3], b) ** 2)


def h_kron_sum(a):
    # Its gradient sums a by np.einsum('j->', a): the Hessian, the
    # Jacobian of that sum, had the identity where it has ones.
    return np.sum(np.kron(a, a))


def h_einsum_total(a):
    return np.einsum("j->", a) * np.einsum("i,i->", a, a)


# Scalar functions for ad.hessian: each case of the gradient tests, and
# the rows they have none of here.
HESSIANS = [(spelling, function, args)
            for spelling, cases in list(CASES.items()) + list(BATCHED.items())
            for function, args in cases] + [
    ("np.trace", h_trace, (normal(3, 3),)),
    ("np.linalg.norm", h_norm, (normal(3, 4),)),
    ("np.kron", h_kron_cross, (normal(3), normal(3))),
    ("np.kron", h_kron_sum, (normal(3),)),
    ("np.einsum", h_einsum_total, (normal(4),)),
    ("np.linalg.solve", h_gaussian, (positive_definite(3), normal(3))),
]


def _forward_cases(table):
    return [pytest.param(spelling, function, args,
                         id=f"{spelling}-{function.__name__}-{index}")
            for spelling, cases in table.items()
            for index, (function, args) in enumerate(cases)]


@pytest.mark.parametrize("spelling,function,args", _forward_cases(FORWARD))
def test_jacobian_matches_central_differences(spelling, function, args):
    argnums = _float_argnums(args)
    jacobians = ad.jacobian(function, argnums=argnums)(*args)
    reference = _reference(function, spelling)
    for argnum, jacobian in zip(argnums, jacobians):
        expected = numeric_jacobian(reference, args, argnum)
        assert np.shape(jacobian) == expected.shape
        np.testing.assert_allclose(jacobian, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("spelling,function,args", _forward_cases(FORWARD))
def test_jvp_matches_central_differences(spelling, function, args):
    tangents = tuple(normal(*np.shape(a)) for a in args)
    value, tangent = ad.jvp(function, args, tangents)
    np.testing.assert_allclose(value, function(*args), rtol=1e-12)
    reference = _reference(function, spelling)
    step = 1e-6
    expected = (reference(*[a + step * t for a, t in zip(args, tangents)])
                - reference(*[a - step * t for a, t in zip(args, tangents)])
                ) / (2 * step)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("spelling,function,args", [
    pytest.param(spelling, function, args,
                 id=f"{spelling}-{function.__name__}-{index}")
    for index, (spelling, function, args) in enumerate(HESSIANS)])
def test_hessian_matches_central_differences_of_the_gradient(
        spelling, function, args):
    # The gradient is checked against central differences above; as the
    # gradient, the Hessian through cholesky is the function's of the
    # symmetrised input.
    gradient = ad.grad(function)
    if spelling in SYMMETRISED:
        def of(a):
            return gradient((a + np.swapaxes(a, -1, -2)) / 2)
    else:
        of = gradient
    hessian = ad.hessian(function)(*args)
    expected = numeric_jacobian(of, args, 0)
    assert np.shape(hessian) == expected.shape
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-7)


def _jvp_body(function, *args):
    """The lines of the jvp program of ``function`` (tangents named
    ``<argument>_dot``), its tangent output called ``tangent`` (what the
    rules write is tested here, not how the jvp names its outputs)."""
    generated = ad._api._cached(function, tuple(range(len(args))), False,
                                "jvp")
    lines = _body(generated, *args, *args)
    returned = ast.parse(lines[-1]).body[0].value.elts[-1].id
    return [re.sub(rf"\b{returned}\b", "tangent", line) for line in lines]


def test_tangents_of_matrix_functions_read_as_written_by_hand():
    a, b = well_conditioned(3), normal(3)
    assert _jvp_body(j_det, a) == COFACTORS_OF_A + [
        "tangent = np.sum(a_dot * cofactors_a)",
        "return det_a, tangent"]
    assert _jvp_body(j_inv, a) == [
        "inv_a = np.linalg.inv(a)",
        "tangent = -(inv_a @ a_dot @ inv_a)",
        "return inv_a, tangent"]
    assert _jvp_body(j_solve, a, b) == [
        "solve_a_b = np.linalg.solve(a, b)",
        "tangent = np.linalg.solve(a, b_dot - a_dot @ solve_a_b)",
        "return solve_a_b, tangent"]
    assert _jvp_body(j_cholesky, positive_definite(3)) == [
        "chol_a = np.linalg.cholesky(a)",
        "inv_chol_a = np.linalg.inv(chol_a)",
        "X = inv_chol_a @ a_dot @ inv_chol_a.T",
        "n1 = a.shape[1]",
        "tangent = (chol_a @ (0.5 * (np.tril(np.ones((n1, n1)))"
        " - 0.5 * np.eye(n1))",
        "* (X + X.T)))",
        "return chol_a, tangent"]


def test_a_jacobians_seed_is_contracted_away():
    # The identity a Jacobian starts from is not multiplied out: its
    # deltas rename letters (the Jacobian of det is its cofactors, of
    # inv an outer product of inverses) or stay as np.eye factors.
    a = well_conditioned(3)
    assert _body(ad.jacobian(j_det), a) == COFACTORS_OF_A + [
        "return cofactors_a"]
    assert _body(ad.jacobian(j_inv), a) == [
        "inv_a = np.linalg.inv(a)",
        "return -np.einsum('ij,kl->iljk', inv_a, inv_a)"]
    np.testing.assert_allclose(
        ad.jacobian(j_inv)(a),
        -np.einsum("ij,kl->iljk", np.linalg.inv(a), np.linalg.inv(a)),
        rtol=1e-12)
    assert _body(ad.jacobian(j_einsum, argnums=(0, 1)), normal(3, 2),
                 normal(2, 4)) == [
        "jacobian_a = np.einsum('il,jk->iklj', np.eye(a.shape[0]), b)",
        "jacobian_b = np.einsum('ij,km->ikjm', a, np.eye(b.shape[1]))",
        "return jacobian_a, jacobian_b"]
    x = normal(3, 4)
    assert _body(ad.jacobian(j_norm), x) == ["return x / np.linalg.norm(x)"]
    # solve(a, I) is inv(a): the Jacobian of x = solve(a, b) is
    # -inv(a)[i, k] x[j]
    assert _body(ad.jacobian(j_solve), a, normal(3)) == [
        "return -np.einsum('ik,j->ikj', np.linalg.inv(a), "
        "np.linalg.solve(a, b))"]


def test_forward_mode_keeps_float32():
    a = well_conditioned(3).astype(np.float32)
    b = normal(3).astype(np.float32)
    spd = positive_definite(3).astype(np.float32)
    for function, args in [(j_det, (a,)), (j_inv, (a,)), (j_solve, (a, b)),
                           (j_cholesky, (spd,)), (j_einsum, (a, a))]:
        for jacobian in ad.jacobian(function, argnums=_float_argnums(args))(
                *args):
            assert jacobian.dtype == np.float32
    for function, args in [(f_det, (a,)), (f_inv, (a,)), (f_solve, (a, b)),
                           (f_cholesky, (spd,)), (f_einsum_trace, (a,))]:
        assert ad.hessian(function)(*args).dtype == np.float32


@pytest.mark.parametrize("transform,function,small,large", [
    (ad.jacobian, j_det, (well_conditioned(3),), (well_conditioned(5),)),
    (ad.jacobian, j_inv, (well_conditioned(3),), (well_conditioned(4),)),
    (ad.jacobian, j_solve, (well_conditioned(3), normal(3, 2)),
     (well_conditioned(4), normal(4, 5))),
    (ad.jacobian, j_cholesky, (positive_definite(3),),
     (positive_definite(4),)),
    (ad.jacobian, j_einsum, (normal(3, 2), normal(2, 4)),
     (normal(2, 5), normal(5, 3))),
    (ad.jacobian, j_trace, (normal(3, 4),), (normal(5, 2),)),
    (ad.jacobian, j_norm_axis, (normal(3, 4),), (normal(2, 5),)),
    (ad.hessian, f_kron_mixed, (normal(3), normal(2, 2)),
     (normal(4), normal(3, 2))),
    (ad.grad, f_kron, (normal(2, 3), normal(2, 2)),
     (normal(3, 2), normal(1, 4))),
])
def test_forward_code_runs_at_any_size(transform, function, small, large):
    # Generated at one size, exec'd as a user would, called at another.
    source = ad.source(transform(function), *small)
    assert "was generated for" not in source  # (no check of its shapes)
    namespace = {"np": np}
    exec(source, namespace)
    generated = namespace[source.split("(")[0].removeprefix("def ")]
    np.testing.assert_allclose(generated(*large),
                               transform(function)(*large), rtol=1e-12)


def test_the_hessian_of_a_gaussians_likelihood_is_its_closed_form():
    # G = 0.5 * inv(S).T - 0.5 * w v.T (w = inv(S).T x, v = inv(S) x);
    # dG[k, l] / dS[i, j] by d inv(S) = -inv(S) dS inv(S).
    cov, x = positive_definite(5), normal(5)
    inverse = np.linalg.inv(cov)
    w, v = inverse.T @ x, inverse @ x
    expected = (-0.5 * np.einsum("jk,li->klij", inverse, inverse)
                + 0.5 * (np.einsum("jk,i,l->klij", inverse, w, v)
                         + np.einsum("k,li,j->klij", w, inverse, v)))
    np.testing.assert_allclose(ad.hessian(h_gaussian)(cov, x), expected,
                               rtol=1e-12, atol=1e-15)


# -- helpers ------------------------------------------------------------------

def _body(derivative, *args):
    """The generated function's lines after its docstring, dedented,
    without the check of the shapes it was generated for (that belongs
    to the codegen, tested with it)."""
    source = ad.source(derivative, *args)
    statements = ast.parse(source).body[0].body[1:]  # after the docstring
    first = statements[0]
    if isinstance(first, ast.If) and isinstance(first.body[0], ast.Raise):
        statements = statements[1:]
    lines = source.splitlines()[statements[0].lineno - 1:]
    return [line.strip() for line in lines]


def trace_of_inverse(a):
    return np.trace(np.linalg.inv(a))


def test_the_gradient_of_a_trace_of_an_inverse_has_no_identity_product():
    # trace's adjoint is an eye of the inverse's shape, which is square:
    # the identity, not a product computed (an O(n^3) one).
    a = well_conditioned(3)
    inverse = np.linalg.inv(a)
    np.testing.assert_allclose(ad.grad(trace_of_inverse)(a),
                               -(inverse @ inverse).T, rtol=1e-12)
    assert ad.source(ad.grad(trace_of_inverse), a).endswith(
        "    inv_a_T = np.linalg.inv(a).T\n"
        "    return -(inv_a_T @ inv_a_T)\n")
