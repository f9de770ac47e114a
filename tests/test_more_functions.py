"""SciPy and NumPy functions that tutorials use and the tables gained late:
scipy.special's rel_entr, kl_div, beta, the modified Bessel functions
(i0, i1, i0e, i1e, iv, ive) and the incomplete gamma functions;
scipy.stats' binom, bernoulli and lognorm; scipy.integrate.trapezoid;
NumPy 2's np.linalg.vector_norm and matrix_norm, np.linalg.matmul and
np.linalg.outer.

Derivatives against closed forms and JAX 0.10.2's values (float64,
pasted in), away from the edges of a domain and at them; values against
SciPy's. tests/test_primitives.py checks each row of the rules table
against central differences.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.integrate
import scipy.special as sc
import scipy.stats as stats

import autodiff_ast as ad
from helpers import assert_refused_at, numeric_gradient

P = np.array([0.0, 0.2, 0.6])
Q = np.array([0.5, 0.3, 0.1])
POINTS = np.array([0.0, 0.4, -1.3, 2.5])


# -- relative entropy -------------------------------------------------------------

def relative_entropy(p, q):
    return np.sum(sc.rel_entr(p, q))


def kl_divergence(p, q):
    return np.sum(sc.kl_div(p, q))


@pytest.mark.parametrize("f, in_p, in_q", [
    # At p = 0 (an empty bin) JAX's 0 and -1, not the one-sided -inf.
    (relative_entropy, [0.0, np.log(2 / 3) + 1, np.log(6.0) + 1],
     [0.0, -0.2 / 0.3, -6.0]),
    (kl_divergence, [-1.0, np.log(2 / 3), np.log(6.0)],
     [1.0, 1 - 0.2 / 0.3, -5.0]),
])
def test_relative_entropies_in_both_arguments_as_jax(f, in_p, in_q):
    gradient = ad.grad(f, argnums=(0, 1))(P, Q)
    np.testing.assert_allclose(gradient[0], in_p, rtol=1e-12)
    np.testing.assert_allclose(gradient[1], in_q, rtol=1e-12)
    assert ad.value_and_grad(f)(P, Q)[0] == pytest.approx(
        float(np.sum((sc.rel_entr if f is relative_entropy
                      else sc.kl_div)(P, Q))), rel=1e-14)


def test_relative_entropy_computes_no_log_of_zero():
    # (the test suite turns warnings into errors: a log(0) in the branch
    # not selected would fail here)
    source = ad.source(ad.grad(relative_entropy), P, Q)
    assert "np.log(np.where(" in source
    assert ad.grad(lambda p: sc.rel_entr(p, 0.5))(0.0) == 0.0


def test_kl_divergence_hessian_is_diagonal_one_over_p():
    p = np.array([0.2, 0.6])
    np.testing.assert_allclose(ad.hessian(kl_divergence)(p, Q[:2]),
                               np.diag(1 / p), rtol=1e-12)


# -- the beta function ------------------------------------------------------------

def test_beta_function_in_both_arguments():
    a, b = 0.7, 2.0
    gradient = ad.grad(lambda a, b: sc.beta(a, b), argnums=(0, 1))(a, b)
    common = sc.digamma(a + b)
    np.testing.assert_allclose(gradient, (
        sc.beta(a, b) * (sc.digamma(a) - common),
        sc.beta(a, b) * (sc.digamma(b) - common)), rtol=1e-12)
    # JAX 0.10.2
    np.testing.assert_allclose(
        gradient, (-1.6947955652849371, -0.31428473436359133), rtol=1e-12)


def test_beta_function_derivative_reads_as_digammas():
    assert ad.source(ad.grad(lambda a: sc.beta(a, 2.0))).endswith(
        "    return ((scipy.special.digamma(a) - scipy.special.digamma(a "
        "+ 2))\n            * scipy.special.beta(a, 2))\n")


# -- modified Bessel functions ----------------------------------------------------

@pytest.mark.parametrize("name, derivative", [
    ("i0", lambda x: sc.i1(x)),
    ("i1", lambda x: (sc.i0(x) + sc.iv(2, x)) / 2),
    ("i0e", lambda x: sc.i1e(x) - np.sign(x) * sc.i0e(x)),
    ("i1e", lambda x: (sc.i0e(x) + sc.ive(2, x)) / 2
     - np.sign(x) * sc.i1e(x)),
])
def test_bessel_functions_match_their_closed_forms(name, derivative):
    function = getattr(sc, name)
    gradient = ad.grad(lambda x: np.sum(function(x)))(POINTS)
    np.testing.assert_allclose(gradient, derivative(POINTS), rtol=1e-12)


@pytest.mark.parametrize("name, expected", [
    # JAX 0.10.2 (at 0, i0's JAX value is 1.0, from |x|' = 1 in its
    # i0e(x) * exp(|x|): i0 is even, its derivative there is 0)
    ("i0", [0.0, 0.20402675573357054, -0.7973293149792692,
            2.516716245288698]),
    ("i1", [0.5, 0.530334892895415, 0.8559475556525054,
            2.2831526459346443]),
    ("i0e", [0.0, -0.5606389462637041, 0.1831273248889311,
             -0.06346179208093622]),
    ("i1e", [0.5, 0.21873088552413122, 0.01597533423517633,
             -0.019172067731570375]),
])
def test_bessel_functions_as_jax(name, expected):
    function = getattr(sc, name)
    np.testing.assert_allclose(
        ad.grad(lambda x: np.sum(function(x)))(POINTS), expected,
        rtol=1e-12, atol=1e-15)


def test_bessel_derivatives_are_exact_at_zero_to_any_order():
    # i1(x) = x/2 + x**3/16 + ...: i1'''(0) = 3/8, with no 0/0 (i1(x)/x)
    third = ad.grad(ad.grad(ad.grad(lambda x: sc.i1(x))))
    assert third(0.0) == pytest.approx(0.375, rel=1e-14)
    # i0(x) = 1 + x**2/4 + ...: i0''(0) = 1/2
    assert ad.grad(ad.grad(lambda x: sc.i0(x)))(0.0) == pytest.approx(0.5)


def test_bessel_function_of_any_order_in_x():
    def f(x):
        return np.sum(sc.iv(2.5, x) + sc.ive(1.5, x))
    x = np.array([0.3, 1.7])
    np.testing.assert_allclose(ad.grad(f)(x), numeric_gradient(f, (x,), 0),
                               rtol=1e-7)
    assert "scipy.special.iv(1.5, x)" in ad.source(ad.grad(f), x)


def bessel_in_its_order(v, x):
    return sc.iv(v, x)


def incomplete_gamma_in_its_shape(a, x):
    return np.sum(sc.gammainc(a, x))


@pytest.mark.parametrize("f, args, name, argument", [
    (bessel_in_its_order, (1.5, 0.7), "iv", "v"),
    (incomplete_gamma_in_its_shape, (np.array([2.0, 3.0]),
                                     np.array([0.5, 1.5])), "gammainc", "a"),
])
def test_a_parameter_without_a_closed_form_derivative_is_refused(
        f, args, name, argument):
    # (the file is named as the code path has it: absolute or relative)
    with pytest.raises(ad.OutputError, match=re.escape(
            f"test_more_functions.py:{f.__code__.co_firstlineno}) with "
            f"respect to {argument}: no derivative rule for {name}.")
            ) as info:
        ad.grad(f)(*args)
    assert str(info.value).startswith(
        f"cannot differentiate {f.__name__} (")
    # in x it has one
    assert np.all(np.isfinite(ad.grad(f, argnums=1)(*args)))


# -- incomplete gamma functions ---------------------------------------------------

X = np.array([0.3, 1.8, 4.0])


@pytest.mark.parametrize("f, a, sign, expected", [
    # JAX 0.10.2
    (sc.gammainc, 2.5, 1, [0.09157086945218226, 0.3002911205224752,
                           0.11022392188849088]),
    (sc.gammaincc, 0.7, -1, [-0.8189965519314117, -0.1067566593656963,
                             -0.009309168028781668]),
])
def test_incomplete_gamma_functions_in_x(f, a, sign, expected):
    gradient = ad.grad(lambda x: np.sum(f(a, x)))(X)
    density = X ** (a - 1) * np.exp(-X) / sc.gamma(a)
    np.testing.assert_allclose(gradient, sign * density, rtol=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-12)


def test_incomplete_gamma_keeps_float32_and_reads_as_its_density():
    x = X.astype(np.float32)
    gradient = ad.grad(lambda x: np.sum(sc.gammainc(2.0, x)))(x)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, x * np.exp(-x), rtol=1e-6)
    assert ad.source(ad.grad(lambda x: np.sum(sc.gammainc(2.0, x))),
                     x).endswith("    return x * np.exp(-x)\n")


# -- discrete distributions and the log-normal ------------------------------------

COUNTS = np.array([0, 3, 5, 10])


def binomial(p):
    return np.sum(stats.binom.logpmf(COUNTS, 10, p))


def test_binomial_log_probability_in_p():
    p = 0.35
    value, gradient = ad.value_and_grad(binomial)(p)
    assert value == pytest.approx(float(np.sum(stats.binom.logpmf(
        COUNTS, 10, p))), rel=1e-13)
    expected = np.sum(COUNTS / p - (10 - COUNTS) / (1 - p))
    assert gradient == pytest.approx(expected, rel=1e-12)
    assert gradient == pytest.approx(17.582417582417584, rel=1e-12)  # JAX


def test_binomial_probability_and_a_count_outside():
    p = 0.35
    gradient = ad.grad(lambda p: np.sum(stats.binom.pmf(COUNTS, 10, p)))(p)
    assert gradient == pytest.approx(0.2518923404296851, rel=1e-10)  # JAX
    # 11 successes in 10 trials: log probability -inf, no derivative
    value, slope = ad.value_and_grad(
        lambda p: stats.binom.logpmf(11, 10, p))(p)
    assert value == -np.inf and slope == 0.0


def test_bernoulli_log_probability_and_probability():
    k = np.array([0, 1, 1])
    gradient = ad.grad(lambda p: np.sum(stats.bernoulli.logpmf(k, p)))(0.35)
    assert gradient == pytest.approx(2 / 0.35 - 1 / 0.65, rel=1e-12)
    assert ad.grad(lambda p: np.sum(stats.bernoulli.pmf(k, p)))(0.35) == \
        pytest.approx(1.0, rel=1e-12)


def test_lognormal_log_density_in_shape_and_scale():
    x = np.array([0.5, 1.7])

    def f(s, scale):
        return np.sum(stats.lognorm.logpdf(x, s, scale=scale))
    s, scale = 0.8, 1.3
    gradient = ad.grad(f, argnums=(0, 1))(s, scale)
    z = np.log(x / scale)
    np.testing.assert_allclose(gradient, (
        np.sum(z ** 2 / s ** 3 - 1 / s), np.sum(z / (s ** 2 * scale))),
        rtol=1e-12)
    assert ad.value_and_grad(f)(s, scale)[0] == pytest.approx(
        float(np.sum(stats.lognorm.logpdf(x, s, scale=scale))), rel=1e-13)


def test_lognormal_density_outside_its_support():
    value, slope = ad.value_and_grad(
        lambda s: stats.lognorm.pdf(-1.0, s))(0.8)
    assert value == 0.0 and slope == 0.0


# -- scipy.integrate.trapezoid ----------------------------------------------------

GRID = np.linspace(0.0, 1.0, 11)


def test_scipy_trapezoid_is_numpy_trapezoid():
    def area(k):
        return scipy.integrate.trapezoid(np.exp(-k * GRID ** 2), GRID)
    expected = np.trapezoid(-GRID ** 2 * np.exp(-0.7 * GRID ** 2), GRID)
    assert ad.grad(area)(0.7) == pytest.approx(expected, rel=1e-13)


# -- NumPy 2's norms and np.linalg's products ------------------------------------

V = np.array([0.3, -1.2, 2.0])
M = np.array([[1.0, -2.0, 0.5], [3.0, 4.5, -1.0]])
T = np.arange(1.0, 25.0).reshape(2, 3, 4) / 7 - 1.3
WEIGHTS = np.array([1.0, 2.0, 3.0])

needs_numpy_2 = pytest.mark.skipif(
    not hasattr(np.linalg, "vector_norm"),
    reason="np.linalg.vector_norm, matrix_norm and matmul are NumPy 2's")


@needs_numpy_2
@pytest.mark.parametrize("f, x, expected", [
    # JAX 0.10.2
    (lambda x: np.linalg.vector_norm(x), V,
     [0.12757297666876868, -0.5102919066750747, 0.8504865111251245]),
    (lambda x: np.linalg.vector_norm(x, ord=3), V,
     [0.01971322415838309, -0.31541158653412943, 0.8761432959281372]),
    (lambda x: np.linalg.vector_norm(x, ord=1), V, [1.0, -1.0, 1.0]),
    (lambda x: np.linalg.vector_norm(x, ord=np.inf), V, [0.0, 0.0, 1.0]),
    (lambda x: np.linalg.matrix_norm(x, ord=1), M,
     [[0.0, -1.0, 0.0], [0.0, 1.0, 0.0]]),
    (lambda x: np.linalg.matrix_norm(x, ord=np.inf), M,
     [[0.0, 0.0, 0.0], [1.0, 1.0, -1.0]]),
])
def test_norms_as_jax(f, x, expected):
    np.testing.assert_allclose(ad.grad(f)(x), expected, rtol=1e-13)


@needs_numpy_2
@pytest.mark.parametrize("f", [
    # any number of axes, any order, keepdims; a stack of matrices
    lambda x: np.sum(np.linalg.vector_norm(x, axis=(0, 2)) * WEIGHTS),
    lambda x: np.sum(np.linalg.vector_norm(x, axis=(0, 2), ord=1.5,
                                           keepdims=True)
                     * WEIGHTS[None, :, None]),
    lambda x: np.sum(np.linalg.vector_norm(x, axis=-1, ord=-np.inf)
                     * WEIGHTS),
    lambda x: np.linalg.vector_norm(x, ord=4),
    lambda x: np.sum(np.linalg.matrix_norm(x)),
    lambda x: np.sum(np.linalg.matrix_norm(x, ord=-1, keepdims=True)
                     * np.array([1.0, -2.0])[:, None, None]),
])
def test_norms_over_axes_match_central_differences(f):
    np.testing.assert_allclose(ad.grad(f)(T), numeric_gradient(f, (T,), 0),
                               rtol=1e-7, atol=1e-9)


@needs_numpy_2
def test_norm_values_and_hessians():
    def p_norm(x):
        return np.linalg.vector_norm(x, ord=3)
    value, _ = ad.value_and_grad(p_norm)(V)
    assert value == pytest.approx(float(np.linalg.vector_norm(V, ord=3)),
                                  rel=1e-14)
    np.testing.assert_allclose(ad.hessian(p_norm)(V), [  # JAX 0.10.2
        [0.1310577444816338, 0.0058199985213883455, -0.01616666255941207],
        [0.0058199985213883455, 0.43256600121466876, 0.25866660095059313],
        [-0.01616666255941207, 0.25866660095059313, 0.1576249599542674]],
        rtol=1e-12)
    # the Frobenius norm squared: twice the identity
    np.testing.assert_allclose(
        ad.hessian(lambda x: np.linalg.matrix_norm(x) ** 2)(M).reshape(6, 6),
        2 * np.eye(6), atol=1e-14)


@needs_numpy_2
def test_vector_norm_gradient_reads_as_a_norm_and_runs_again():
    gradient = ad.grad(lambda x: np.linalg.vector_norm(x))
    assert ad.source(gradient, V).endswith(
        "    return x / np.linalg.norm(x)\n")
    # closure: the printed gradient is differentiated again
    np.testing.assert_allclose(
        ad.jacobian(gradient)(V),
        (np.eye(3) - np.outer(V, V) / (V @ V)) / np.linalg.norm(V),
        rtol=1e-13)


@needs_numpy_2
def test_vector_norm_keeps_float32():
    x = V.astype(np.float32)
    gradient = ad.grad(lambda x: np.linalg.vector_norm(x, ord=3))(x)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, np.sign(V) * V ** 2
                               / np.linalg.vector_norm(V, ord=3) ** 2,
                               rtol=1e-6)


def zero_order(x):
    return np.linalg.vector_norm(x, ord=0)


def nuclear(x):
    return np.linalg.matrix_norm(x, ord="nuc")


def spectral_of_a_stack(x):
    return np.sum(np.linalg.norm(x, 2, axis=(2, 1)) ** 2)


@pytest.mark.parametrize("f", [
    lambda A: np.linalg.norm(A, 2), lambda A: np.linalg.norm(A, -2),
    lambda A: np.linalg.norm(A, "nuc"), lambda A: np.linalg.norm(A.T, 2),
    nuclear, spectral_of_a_stack])
def test_matrix_norms_of_singular_values(f):
    # NumPy's: the largest or smallest singular value, or their sum
    A = np.array([[1.0, 2.0, 0.5], [-0.3, 0.7, 1.1]])
    x = np.stack([A, 2 * A[::-1]]) if f is spectral_of_a_stack else A
    if f is nuclear and not hasattr(np.linalg, "matrix_norm"):
        pytest.skip("np.linalg.matrix_norm is NumPy 2's")
    np.testing.assert_allclose(ad.grad(f)(x), numeric_gradient(f, (x,), 0),
                               rtol=1e-6, atol=1e-9)


def matrix_norm_of_a_vector(x):
    return np.linalg.matrix_norm(x)


def outer_of_matrices(x):
    return np.sum(np.linalg.outer(x, x))


@needs_numpy_2
@pytest.mark.parametrize("f, message", [
    (zero_order, "the vector norm of order 0 is not supported: use "
                 "ord=None, 1, 2, inf, -inf or a positive number"),
    (matrix_norm_of_a_vector, "np.linalg.matrix_norm takes a matrix (or a "
                              "stack of them), not an array of 1 "
                              "dimensions: use np.linalg.vector_norm"),
    (outer_of_matrices, "np.linalg.outer takes two 1-D vectors, not arrays "
                        "of 2 and 2 dimensions: use np.outer, which "
                        "flattens them"),
])
def test_unsupported_norms_and_outer_products_are_refused(f, message):
    x = V if f is matrix_norm_of_a_vector else M
    assert_refused_at(lambda: ad.grad(f)(x), f, 1, message)


@needs_numpy_2
def test_linalg_products_are_numpys():
    def f(a, b):
        return np.sum(np.linalg.matmul(a, b) ** 2) + np.sum(
            np.linalg.outer(a[0], b[:, 1]))
    a, b = M, M.T + 0.5
    gradient = ad.grad(f, argnums=(0, 1))(a, b)
    for argnum in (0, 1):
        np.testing.assert_allclose(gradient[argnum],
                                   numeric_gradient(f, (a, b), argnum),
                                   rtol=1e-7)
    assert "np.matmul(a, b)" in ad.source(ad.grad(f), a, b)
