"""scipy.stats distributions as SymPy expressions: the methods of
``norm`` (survival functions and ppf), ``t``, ``gamma``, ``poisson``,
``beta``, ``expon``, ``laplace``, ``cauchy``, ``logistic`` and
``uniform`` that the rules table lowers, with JAX's parametrization
(jax.scipy.stats): loc and scale default to 0 and 1, a point outside the
support has log density -inf (density 0).

Each takes its arguments as called (numbers as SymPy, keywords by name)
and raises TypeError for arguments the method does not take here (None).
Log densities are written with scipy.special's ``gammaln``, ``xlogy``,
``log1p`` and ``log_ndtr``, whose derivatives stay stable in the tails;
densities are their exponentials.
"""

from __future__ import annotations

import sympy as sp

from ._functions import (absolute, betaln, lgamma, log1p, log_expit,
                         log_ndtr, logical_or, ndtr, ndtri, where, xlog1py,
                         xlogy)

__all__ = ["norm_sf", "norm_logsf", "norm_ppf", "t_logpdf", "t_pdf",
           "gamma_logpdf", "gamma_pdf", "poisson_logpmf", "poisson_pmf",
           "beta_logpdf", "beta_pdf", "expon_logpdf", "expon_pdf",
           "laplace_logpdf", "laplace_pdf", "cauchy_logpdf", "cauchy_pdf",
           "logistic_logpdf", "logistic_pdf", "uniform_logpdf",
           "uniform_pdf"]


def _given(*values: sp.Expr | None) -> None:
    if any(value is None for value in values):
        raise TypeError("None")


def _standardized(x: sp.Expr, loc: sp.Expr, scale: sp.Expr) -> sp.Expr:
    _given(x, loc, scale)
    return (x - loc) / scale


def norm_sf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1) -> sp.Expr:
    """1 - cdf, as the cdf of the reflected point (no cancellation)."""
    return ndtr(-_standardized(x, loc, scale))


def norm_logsf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
               ) -> sp.Expr:
    return log_ndtr(-_standardized(x, loc, scale))


def t_logpdf(x: sp.Expr, df: sp.Expr, loc: sp.Expr = 0,
             scale: sp.Expr = 1) -> sp.Expr:
    """Student's t with ``df`` degrees of freedom."""
    _given(df)
    z = _standardized(x, loc, scale)
    return (lgamma((df + 1) / 2) - lgamma(df / 2) - sp.log(df * sp.pi) / 2
            - sp.log(scale) - (df + 1) / 2 * log1p(z ** 2 / df))


def t_pdf(x: sp.Expr, df: sp.Expr, loc: sp.Expr = 0,
          scale: sp.Expr = 1) -> sp.Expr:
    return sp.exp(t_logpdf(x, df, loc, scale))


def gamma_logpdf(x: sp.Expr, a: sp.Expr, loc: sp.Expr = 0,
                 scale: sp.Expr = 1) -> sp.Expr:
    """The gamma distribution of shape ``a``; -inf below loc."""
    _given(a)
    y = _standardized(x, loc, scale)
    outside = y < 0
    # (y where the log is taken: np.where computes both branches, and the
    # log of a point outside would warn)
    inside = where(outside, 1, y)
    return where(outside, -sp.oo,
                 xlogy(a - 1, inside) - y - lgamma(a) - sp.log(scale))


def gamma_pdf(x: sp.Expr, a: sp.Expr, loc: sp.Expr = 0,
              scale: sp.Expr = 1) -> sp.Expr:
    return sp.exp(gamma_logpdf(x, a, loc, scale))


def poisson_logpmf(k: sp.Expr, mu: sp.Expr, loc: sp.Expr = 0) -> sp.Expr:
    """The Poisson distribution of mean ``mu`` at ``k`` (counts, shifted
    by loc); -inf below 0."""
    _given(k, mu, loc)
    count = k - loc
    outside = count < 0
    inside = where(outside, 0, count)  # (gammaln has poles below 0)
    return where(outside, -sp.oo,
                 xlogy(inside, mu) - lgamma(inside + 1) - mu)


def poisson_pmf(k: sp.Expr, mu: sp.Expr, loc: sp.Expr = 0) -> sp.Expr:
    return sp.exp(poisson_logpmf(k, mu, loc))


def norm_ppf(q: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1) -> sp.Expr:
    """The quantile of probability ``q``."""
    _given(q, loc, scale)
    return loc + scale * ndtri(q)


def beta_logpdf(x: sp.Expr, a: sp.Expr, b: sp.Expr, loc: sp.Expr = 0,
                scale: sp.Expr = 1) -> sp.Expr:
    """The beta distribution on [loc, loc + scale]; -inf outside (its
    edges are inside, as JAX's)."""
    _given(a, b)
    y = _standardized(x, loc, scale)
    outside = logical_or(y < 0, y > 1)
    inside = where(outside, sp.S.Half, y)
    return where(outside, -sp.oo,
                 xlogy(a - 1, inside) + xlog1py(b - 1, -inside)
                 - betaln(a, b) - sp.log(scale))


def beta_pdf(x: sp.Expr, a: sp.Expr, b: sp.Expr, loc: sp.Expr = 0,
             scale: sp.Expr = 1) -> sp.Expr:
    return sp.exp(beta_logpdf(x, a, b, loc, scale))


def expon_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                 ) -> sp.Expr:
    """The exponential distribution of mean ``scale``; -inf below loc."""
    y = _standardized(x, loc, scale)
    return where(y < 0, -sp.oo, -y - sp.log(scale))


def expon_pdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1) -> sp.Expr:
    return sp.exp(expon_logpdf(x, loc, scale))


def laplace_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                   ) -> sp.Expr:
    return -absolute(_standardized(x, loc, scale)) - sp.log(2 * scale)


def laplace_pdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                ) -> sp.Expr:
    return sp.exp(laplace_logpdf(x, loc, scale))


def cauchy_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                  ) -> sp.Expr:
    z = _standardized(x, loc, scale)
    return -log1p(z ** 2) - sp.log(sp.pi * scale)


def cauchy_pdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
               ) -> sp.Expr:
    return sp.exp(cauchy_logpdf(x, loc, scale))


def logistic_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                    ) -> sp.Expr:
    """log(expit(z) * expit(-z)) / scale, finite in both tails."""
    z = _standardized(x, loc, scale)
    return log_expit(z) + log_expit(-z) - sp.log(scale)


def logistic_pdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                 ) -> sp.Expr:
    return sp.exp(logistic_logpdf(x, loc, scale))


def uniform_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                   ) -> sp.Expr:
    """-log(scale) on [loc, loc + scale] (edges included, as JAX's), -inf
    outside."""
    y = _standardized(x, loc, scale)
    return where(logical_or(y < 0, y > 1), -sp.oo, -sp.log(scale))


def uniform_pdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                ) -> sp.Expr:
    return sp.exp(uniform_logpdf(x, loc, scale))
