"""scipy.stats distributions as SymPy expressions: the methods of
``norm`` (survival functions and ppf), ``t``, ``gamma``, ``poisson``,
``binom``, ``bernoulli``, ``beta``, ``expon``, ``laplace``, ``cauchy``,
``logistic``, ``lognorm`` and ``uniform`` that the rules table lowers,
with JAX's parametrization (jax.scipy.stats): loc and scale default to 0
and 1, a point outside the support has log density -inf (density 0).

Each takes its arguments as called (numbers as SymPy, keywords by name)
and raises TypeError for arguments the method does not take here (None).
Log densities are written with scipy.special's ``gammaln``, ``xlogy``,
``log1p`` and ``log_ndtr``, whose derivatives stay stable in the tails;
densities (and probabilities) are their exponentials (``_exp_of``).
"""

from __future__ import annotations

import functools
from typing import Callable

import sympy as sp

from ._functions import (absolute, betaln, lgamma, log1p, log_expit,
                         log_ndtr, logical_or, ndtr, ndtri, where, xlog1py,
                         xlogy)

__all__ = ["norm_sf", "norm_logsf", "norm_ppf", "t_logpdf", "t_pdf",
           "gamma_logpdf", "gamma_pdf", "poisson_logpmf", "poisson_pmf",
           "beta_logpdf", "beta_pdf", "expon_logpdf", "expon_pdf",
           "laplace_logpdf", "laplace_pdf", "cauchy_logpdf", "cauchy_pdf",
           "logistic_logpdf", "logistic_pdf", "uniform_logpdf",
           "uniform_pdf", "binom_logpmf", "binom_pmf", "bernoulli_logpmf",
           "bernoulli_pmf", "lognorm_logpdf", "lognorm_pdf"]


def _given(*values: sp.Expr | None) -> None:
    if any(value is None for value in values):
        raise TypeError("None")


def _standardized(x: sp.Expr, loc: sp.Expr, scale: sp.Expr) -> sp.Expr:
    _given(x, loc, scale)
    return (x - loc) / scale


def _exp_of(log_density: Callable[..., sp.Expr]) -> Callable[..., sp.Expr]:
    """The density (or probability) whose log is ``log_density``, with its
    parameters (which the rules table reads from its signature)."""
    @functools.wraps(log_density)
    def density(*args: sp.Expr, **kwargs: sp.Expr) -> sp.Expr:
        return sp.exp(log_density(*args, **kwargs))
    density.__name__ = density.__qualname__ = \
        log_density.__name__.replace("_log", "_")
    return density


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



t_pdf = _exp_of(t_logpdf)


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



gamma_pdf = _exp_of(gamma_logpdf)


def poisson_logpmf(k: sp.Expr, mu: sp.Expr, loc: sp.Expr = 0) -> sp.Expr:
    """The Poisson distribution of mean ``mu`` at ``k`` (counts, shifted
    by loc); -inf below 0."""
    _given(k, mu, loc)
    count = k - loc
    outside = count < 0
    inside = where(outside, 0, count)  # (gammaln has poles below 0)
    return where(outside, -sp.oo,
                 xlogy(inside, mu) - lgamma(inside + 1) - mu)



poisson_pmf = _exp_of(poisson_logpmf)


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



beta_pdf = _exp_of(beta_logpdf)


def expon_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                 ) -> sp.Expr:
    """The exponential distribution of mean ``scale``; -inf below loc."""
    y = _standardized(x, loc, scale)
    return where(y < 0, -sp.oo, -y - sp.log(scale))



expon_pdf = _exp_of(expon_logpdf)


def laplace_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                   ) -> sp.Expr:
    return -absolute(_standardized(x, loc, scale)) - sp.log(2 * scale)



laplace_pdf = _exp_of(laplace_logpdf)


def cauchy_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                  ) -> sp.Expr:
    z = _standardized(x, loc, scale)
    return -log1p(z ** 2) - sp.log(sp.pi * scale)



cauchy_pdf = _exp_of(cauchy_logpdf)


def logistic_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                    ) -> sp.Expr:
    """log(expit(z) * expit(-z)) / scale, finite in both tails."""
    z = _standardized(x, loc, scale)
    return log_expit(z) + log_expit(-z) - sp.log(scale)



logistic_pdf = _exp_of(logistic_logpdf)


def uniform_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                   ) -> sp.Expr:
    """-log(scale) on [loc, loc + scale] (edges included, as JAX's), -inf
    outside."""
    y = _standardized(x, loc, scale)
    return where(logical_or(y < 0, y > 1), -sp.oo, -sp.log(scale))


uniform_pdf = _exp_of(uniform_logpdf)


def _counts(k: sp.Expr, loc: sp.Expr, most: sp.Expr
            ) -> tuple[sp.Basic, sp.Expr]:
    """Whether the count ``k - loc`` is outside 0..``most``, and the count
    where it is inside (0 where it is not: gammaln has poles below 0)."""
    _given(k, loc, most)
    count = k - loc
    outside = logical_or(count < 0, count > most)
    return outside, where(outside, 0, count)


def binom_logpmf(k: sp.Expr, n: sp.Expr, p: sp.Expr, loc: sp.Expr = 0
                 ) -> sp.Expr:
    """``k`` successes in ``n`` trials of probability ``p``; -inf outside
    0..n."""
    _given(p)
    outside, count = _counts(k, loc, n)
    return where(outside, -sp.oo,
                 lgamma(n + 1) - lgamma(count + 1) - lgamma(n - count + 1)
                 + xlogy(count, p) + xlog1py(n - count, -p))


binom_pmf = _exp_of(binom_logpmf)


def bernoulli_logpmf(k: sp.Expr, p: sp.Expr, loc: sp.Expr = 0) -> sp.Expr:
    """One trial of probability ``p``: log p at 1, log(1 - p) at 0."""
    _given(p)
    outside, count = _counts(k, loc, 1)
    return where(outside, -sp.oo,
                 xlogy(count, p) + xlog1py(1 - count, -p))


bernoulli_pmf = _exp_of(bernoulli_logpmf)


def lognorm_logpdf(x: sp.Expr, s: sp.Expr, loc: sp.Expr = 0,
                   scale: sp.Expr = 1) -> sp.Expr:
    """The log-normal distribution of shape ``s`` (the standard deviation
    of the log); -inf at and below loc."""
    _given(s)
    y = _standardized(x, loc, scale)
    outside = y <= 0
    log_y = sp.log(where(outside, 1, y))  # (no log of a point outside)
    return where(outside, -sp.oo,
                 -log_y ** 2 / (2 * s ** 2) - log_y - sp.log(s)
                 - sp.log(2 * sp.pi) / 2 - sp.log(scale))


lognorm_pdf = _exp_of(lognorm_logpdf)
