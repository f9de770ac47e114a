"""scipy.stats distributions (t, gamma, poisson, multivariate_normal,
norm's survival functions) and scipy.special's betaln, entr and log_expit:
derivatives against JAX 0.10.2's (float64, pasted in), with JAX's
parametrization (loc and scale default to 0 and 1), values against
SciPy's, -inf outside a support. tests/test_primitives.py checks each row
against central differences.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats

import autodiff_ast as ad
from helpers import assert_refused_at

C = np.array([[2.0, 0.3], [0.3, 1.0]])
X = np.array([[0.3, 0.6], [1.0, -0.5], [0.2, 0.1]])
M = np.array([0.3, 0.6])


@pytest.mark.parametrize("f, x, expected", [
    (lambda df, x=0.7: scipy.stats.t.logpdf(x, df, 0.2, 1.5), 3.0,
     0.032106215617364875),
    (lambda x: scipy.stats.t.logpdf(x, 3.0), 0.7, -0.8022922636103151),
    (lambda a: scipy.stats.gamma.logpdf(2.5, a, 0.5, 1.5), 2.0,
     -0.13510226264668662),
    (lambda s: scipy.stats.gamma.logpdf(2.5, 2.0, loc=0.5, scale=s), 1.5,
     -0.4444444444444444),
    (lambda mu: scipy.stats.poisson.logpmf(3, mu), 2.5, 0.2),
    (lambda x: scipy.stats.norm.sf(x, 0.3, 2.0), 1.1, -0.18413507015166164),
    (lambda x: scipy.stats.norm.logsf(x), -1.1, -0.2520463066289897),
    # (JAX's is -30.033259672197733, 1.6e-10 off: this is mpmath's)
    (lambda x: scipy.stats.norm.logsf(x), 30.0, -30.03325966743367704),
    (lambda x: scipy.special.entr(x), 0.7, -0.6433250560612676),
    (lambda x: scipy.special.log_expit(x), -40.0, 1.0),
    (lambda x: scipy.special.log_expit(x), 2.0, 0.11920292202211753)],
    ids=["t df", "t x", "gamma a", "gamma scale", "poisson mu", "norm.sf",
         "norm.logsf", "norm.logsf tail", "entr", "log_expit tail",
         "log_expit"])
def test_derivatives_match_jax(f, x, expected):
    assert ad.grad(f)(x) == pytest.approx(expected, rel=1e-12)
    value, _ = ad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-13)


def test_betaln_matches_jax():
    assert ad.grad(scipy.special.betaln, argnums=(0, 1))(1.5, 2.5) == \
        pytest.approx((-1.21962769, -0.55296103), rel=1e-8)
    source = ad.source(ad.value_and_grad(lambda a: scipy.special.betaln(a,
                                                                        2.0)))
    assert "scipy.special.betaln(a, 2)" in source


def test_outside_the_support_the_log_density_is_minus_infinity():
    value, slope = ad.value_and_grad(
        lambda x: scipy.stats.gamma.logpdf(x, 2.0))(np.array([-1.0, 0.5]))
    assert value[0] == -np.inf and slope[0] == 0.0
    assert value[1] == pytest.approx(scipy.stats.gamma.logpdf(0.5, 2.0),
                                     rel=1e-14)
    value, slope = ad.value_and_grad(
        lambda mu: scipy.stats.poisson.logpmf(np.array([-1, 2]), mu))(
        np.array([1.5, 1.5]))
    assert value[0] == -np.inf and slope[0] == 0.0
    assert slope[1] == pytest.approx(2 / 1.5 - 1, rel=1e-14)


def test_multivariate_normal_matches_jax():
    gradient = ad.grad(lambda c: np.sum(
        scipy.stats.multivariate_normal.logpdf(X, M, c)))(C)
    np.testing.assert_allclose(gradient, [
        [-0.6395932129053479, -0.11126339738494004],
        [-0.11126339738494004, -0.6456785724075548]], rtol=1e-12)


def test_multivariate_normal_in_its_point_is_minus_the_precision():
    def f(v):
        return scipy.stats.multivariate_normal.logpdf(v, cov=C)

    assert ad.value_and_grad(f)(M)[0] == pytest.approx(f(M), rel=1e-14)
    np.testing.assert_allclose(ad.grad(f)(M), -np.linalg.solve(C, M),
                               rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(f)(M), -np.linalg.inv(C),
                               rtol=1e-12)
    assert "solve_triangular" in ad.source(ad.grad(f), M)


def test_multivariate_normal_pdf():
    def f(v):
        return scipy.stats.multivariate_normal.pdf(v, M, C)

    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(ad.grad(f)(x),
                               -f(x) * np.linalg.solve(C, x - M), rtol=1e-12)


def singular(v):
    return scipy.stats.multivariate_normal.logpdf(v, cov=C,
                                                  allow_singular=True)


def a_stack_of_points(v):
    return scipy.stats.multivariate_normal.logpdf(np.ones((2, 2, 2)) * v,
                                                  cov=C)


@pytest.mark.parametrize("f, message", [
    (singular, "scipy.stats.multivariate_normal.logpdf with "
     "allow_singular=True is not supported: its covariance must be "
     "positive definite (a Cholesky factor is its derivative's way)"),
    (a_stack_of_points, "scipy.stats.multivariate_normal.logpdf takes x of "
     "shape (d,) or (n, d) and cov of shape (d, d) (or a number) here, not "
     "x (2, 2, 2) and cov (2, 2)")])
def test_unsupported_multivariate_normals_are_refused_at_the_call(f,
                                                                 message):
    assert_refused_at(lambda: ad.grad(f)(M), f, 1, message)


@pytest.mark.parametrize("cov", [1, 2.5])
@pytest.mark.parametrize("x", [M, X], ids=["a point", "rows"])
def test_multivariate_normal_with_a_variance(x, cov):
    def f(v):
        return np.sum(scipy.stats.multivariate_normal.logpdf(x, v, cov))

    value, gradient = ad.value_and_grad(f)(M)
    assert value == pytest.approx(f(M), rel=1e-14)
    np.testing.assert_allclose(
        gradient, np.sum(np.atleast_2d(x - M), axis=0) / cov, rtol=1e-13)
