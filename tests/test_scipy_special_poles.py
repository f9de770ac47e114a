"""scipy.special functions divided by something that vanishes at a point.

Codegen writes a removable 0/0 at zero, or where a linear denominator
vanishes, as its Taylor polynomial (``_singular.py``); where SymPy cannot expand (a pole of digamma or
gammaln at zero) the derivative is the formula, and nothing SymPy raises
reaches the user. Values against closed forms, central differences and
mpmath; the polynomial against a wrong one.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sc
import scipy.stats
import sympy as sp

import autodiff_ast as ad
from autodiff_ast._functions import expit
from autodiff_ast._singular import _meets
from helpers import central_difference


def test_gammaln_of_half_over_x_matches_its_closed_form():
    # was a PoleError: SymPy cannot expand digamma(x / 2) around 0
    x = 3.0
    expected = sc.digamma(x / 2) / (2 * x) - sc.gammaln(x / 2) / x ** 2
    assert ad.grad(lambda x: sc.gammaln(x / 2) / x)(x) == pytest.approx(
        expected, rel=1e-14)


# Each of these raised SymPy's PoleError from the Taylor expansion at zero.
POLES = [
    (lambda x: sc.gammaln(x) / x, 2.5),
    (lambda x: sc.gammaln(x) + np.log(x), 0.4),
    (lambda x: sc.polygamma(1, x) / x, 1.3),
    (lambda x: sc.betaln(x, 2.0) / x, 1.5),
    (lambda x: sc.betaln(x, x + 1) / (x * x), 1.5),
    (lambda x: sc.xlogy(x, x) / x, 0.3),
    (lambda x: scipy.stats.t.logpdf(0.5, x) / x, 2.4),
    (lambda x: scipy.stats.gamma.logpdf(1.5, x) / x, 2.4),
]


@pytest.mark.parametrize("f, x", POLES)
def test_poles_at_zero_leave_the_formula(f, x):
    assert ad.grad(f)(x) == pytest.approx(
        central_difference(f, (x,), 0), rel=1e-8)
    assert ad.hessian(f)(x) == pytest.approx(
        central_difference(ad.grad(f), (x,), 0), rel=1e-8)


@pytest.mark.parametrize("f, x", POLES[:3])
def test_poles_at_zero_elementwise_on_arrays(f, x):
    xs = np.array([x, 1.5 * x])
    gradient = ad.grad(lambda v: np.sum(f(v)))(xs)
    np.testing.assert_allclose(
        gradient, [central_difference(f, (v,), 0) for v in xs], rtol=1e-8)


def gammaln_of_one_plus_x_over_x(x):
    return sc.gammaln(1 + x) / x


def test_removable_singularity_with_zeta_coefficients():
    # was a KeyError: the Taylor polynomial of gammaln(1 + x) / x has
    # zeta(3) / 3 for a coefficient, which generated code cannot call.
    # gammaln(1 + x) / x = -EulerGamma + pi**2 x / 12 - zeta(3) x**2 / 3 ...
    df = ad.grad(gammaln_of_one_plus_x_over_x)
    assert df(0.0) == pytest.approx(np.pi ** 2 / 12, rel=1e-15)
    assert df(1e-9) == pytest.approx(
        np.pi ** 2 / 12 - 2 * 1.2020569031595942 * 1e-9 / 3, rel=1e-15)
    assert df(0.7) == pytest.approx(central_difference(
        gammaln_of_one_plus_x_over_x, (0.7,), 0), rel=1e-9)
    assert ad.hessian(gammaln_of_one_plus_x_over_x)(0.0) == pytest.approx(
        -2 * 1.2020569031595942 / 3, rel=1e-15)
    source = ad.source(df, 0.0)
    assert "zeta" not in source and "np.pi" not in source
    assert "0.8224670334241132" in source  # pi**2 / 12, as a number


def ndtr_over_x(x):
    return (sc.ndtr(x) - 0.5) / x


def test_ndtr_over_x_is_finite_at_zero():
    # (ndtr(x) - 1/2) / x = (1/sqrt(2 pi)) (1 - x**2 / 6 + ...)
    assert ad.grad(ndtr_over_x)(0.0) == 0.0
    assert ad.hessian(ndtr_over_x)(0.0) == pytest.approx(
        -1 / (3 * np.sqrt(2 * np.pi)), rel=1e-14)
    assert ad.grad(ndtr_over_x)(1e-7) == pytest.approx(
        -1e-7 / (3 * np.sqrt(2 * np.pi)), rel=1e-9)


def test_series_of_expit_is_sympys_logistic():
    # SymPy's expansion through expit's derivative gave expit(-x) an
    # x**2 term (and took 100 s for its quotient by x).
    x = sp.Symbol("x", real=True)
    assert sp.series(expit(-x), x, 0, 5).removeO() == \
        sp.S.Half - x / 4 + x ** 3 / 48


def test_a_wrong_polynomial_is_not_written():
    # d/dx sin(x)/x = -x/3 + x**3/30 - ...: its polynomial meets the
    # formula at the switch; one with a wrong term does not.
    x = sp.Symbol("x", real=True)
    derivative = sp.diff(sp.sin(x) / x, x)
    assert _meets(derivative, -x / 3 + x ** 3 / 30, x, 0.04, 1.0)
    assert not _meets(derivative, -x / 3 + x ** 2 / 8, x, 0.04, 1.0)


def log_over_x_minus_one(x):
    return np.log(x) / (x - 1)


def gammaln_over_x_minus_one(x):
    return sc.gammaln(x) / (x - 1)


def test_removable_singularity_where_a_linear_denominator_vanishes():
    # log(x) / (x - 1) = 1 - t/2 + t**2/3 - ... with t = x - 1; the
    # formula was a ZeroDivisionError at 1, and lost half its digits
    # at 1 + 1e-9.
    df = ad.grad(log_over_x_minus_one)
    assert df(1.0) == -0.5
    assert df(1 + 1e-9) == pytest.approx(-0.5 + 2e-9 / 3, rel=1e-15)
    assert df(1.2) == pytest.approx(central_difference(
        log_over_x_minus_one, (1.2,), 0), rel=1e-9)
    assert ad.hessian(log_over_x_minus_one)(1.0) == pytest.approx(2 / 3,
                                                                  rel=1e-15)
    # gammaln(x) / (x - 1) = -EulerGamma + pi**2 t / 12 - ...: the
    # formula gave nan at 1 and 1.8224669694900513 at 1 + 1e-9.
    dg = ad.grad(gammaln_over_x_minus_one)
    assert dg(1.0) == pytest.approx(np.pi ** 2 / 12, rel=1e-15)
    assert dg(1 + 1e-9) == pytest.approx(
        np.pi ** 2 / 12 - 2 * 1.2020569031595942 * 1e-9 / 3, rel=1e-14)
    assert "abs(t) < 0.04" in ad.source(df, 1.0)  # t = x - 1
