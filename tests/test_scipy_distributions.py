"""scipy.stats beta, expon, laplace, cauchy, logistic and uniform, norm.ppf
and scipy.special.ndtri: values and derivatives as JAX 0.10.2 gives them
(jax.scipy.stats, x64), at the edges of the support too.
"""

from __future__ import annotations

import pytest
import scipy.special
import scipy.stats as stats

import autodiff_ast as ad

# (function, point, JAX's value, JAX's derivative)
CASES = {
    "laplace at loc": (lambda x: stats.laplace.logpdf(x, 0.5, 2.0), 0.5,
                       -1.3862943611198906, -0.5),
    "laplace": (lambda x: stats.laplace.logpdf(x, 0.5, 2.0), 1.3,
                -1.7862943611198907, -0.5),
    "expon at loc": (lambda x: stats.expon.logpdf(x, 0.5, 2.0), 0.5,
                     -0.6931471805599453, -0.5),
    "expon below loc": (lambda x: stats.expon.logpdf(x, 0.5, 2.0), 0.2,
                        -float("inf"), 0.0),
    "uniform at its edge": (lambda x: stats.uniform.logpdf(x, 0.5, 2.0), 0.5,
                            -0.6931471805599453, 0.0),
    "uniform's scale": (lambda s: stats.uniform.logpdf(1.0, 0.5, s), 2.0,
                        -0.6931471805599453, -0.5),
    "beta": (lambda x: stats.beta.logpdf(x, 2.0, 3.0), 0.3,
             0.5675839575846013, 0.4761904761904763),
    "beta's a": (lambda a: stats.beta.logpdf(0.3, a, 3.0), 2.0,
                 0.5675839575846013, -0.1206394709926033),
    "cauchy": (lambda x: stats.cauchy.logpdf(x, 0.5, 2.0), 1.3,
               -1.9862970715276187, -0.3448275862068966),
    "logistic": (lambda x: stats.logistic.logpdf(x, 0.5, 2.0), 1.3,
                 -2.1191776853598503, -0.098687660112452),
    "logistic far out": (lambda x: stats.logistic.logpdf(x), 800.0,
                         -800.0, -1.0),
    "ndtri": (lambda q: scipy.special.ndtri(q), 0.3,
              -0.5244005127080408, 2.876103659264292),
    "norm.ppf": (lambda q: stats.norm.ppf(q, 0.5, 2.0), 0.3,
                 -0.5488010254160816, 5.752207318528584),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_derivatives_are_jaxs(name):
    f, x, value, derivative = CASES[name]
    got_value, got_derivative = ad.value_and_grad(f)(x)
    assert got_value == pytest.approx(value, rel=1e-14)
    assert got_derivative == pytest.approx(derivative, rel=1e-13, abs=1e-15)


def test_norm_ppf_inverts_the_cdf():
    # d/dq ppf(q) = 1 / pdf(ppf(q))
    q = 0.8
    expected = 1 / stats.norm.pdf(stats.norm.ppf(q))
    assert ad.grad(stats.norm.ppf)(q) == pytest.approx(expected, rel=1e-14)
