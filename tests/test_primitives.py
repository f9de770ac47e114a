"""Every primitive in the rules table, checked against central differences.

CASES is written by hand, one function per primitive; the first test makes
sure it and the table list the same primitives. Rows that only SciPy
provides are skipped where SciPy is not installed (tests/test_scipy.py
has SciPy's spellings, stability and conventions).
"""

from __future__ import annotations

import builtins
import math
import operator
import os
import subprocess
import sys

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._rules import PRIMITIVES
from helpers import central_difference, sample_points

try:
    import scipy.special as sc
    import scipy.stats as stats
except ImportError:  # an optional extra: those rows are skipped
    sc = stats = None

# name -> (function using the primitive, interval where it is smooth)
CASES = {
    "sin": (lambda x: np.sin(x), (-3, 3)),
    "cos": (lambda x: np.cos(x), (-3, 3)),
    "tan": (lambda x: np.tan(x), (-1.4, 1.4)),
    "arcsin": (lambda x: np.arcsin(x), (-0.95, 0.95)),
    "arccos": (lambda x: np.arccos(x), (-0.95, 0.95)),
    "arctan": (lambda x: np.arctan(x), (-3, 3)),
    "arctan2": (lambda y, x: np.arctan2(y, x), (0.2, 3)),
    "sinh": (lambda x: np.sinh(x), (-3, 3)),
    "cosh": (lambda x: np.cosh(x), (-3, 3)),
    "tanh": (lambda x: np.tanh(x), (-3, 3)),
    "arcsinh": (lambda x: np.arcsinh(x), (-3, 3)),
    "arccosh": (lambda x: np.arccosh(x), (1.1, 4)),
    "arctanh": (lambda x: np.arctanh(x), (-0.95, 0.95)),
    "exp": (lambda x: np.exp(x), (-3, 3)),
    "exp2": (lambda x: np.exp2(x), (-3, 3)),
    "expm1": (lambda x: np.expm1(x), (-3, 3)),
    "log": (lambda x: np.log(x), (0.1, 4)),
    "log2": (lambda x: np.log2(x), (0.1, 4)),
    "log10": (lambda x: np.log10(x), (0.1, 4)),
    "log1p": (lambda x: np.log1p(x), (-0.9, 4)),
    "sqrt": (lambda x: np.sqrt(x), (0.1, 4)),
    "cbrt": (lambda x: np.cbrt(x), (-4, -0.1)),
    "square": (lambda x: np.square(x), (-3, 3)),
    "absolute": (lambda x: np.abs(x) * x, (-3, 3)),
    "sign": (lambda x: np.sign(x) * x ** 2, (-3, 3)),
    "hypot": (lambda x, y: np.hypot(x, y), (-3, 3)),
    "power": (lambda x, y: np.power(x, y), (0.2, 3)),
    "maximum": (lambda x, y: np.maximum(x, y) * x, (-3, 3)),
    "minimum": (lambda x, y: np.minimum(x, y) * y, (-3, 3)),
    "logaddexp": (lambda x, y: np.logaddexp(x, y), (-3, 3)),
    "floor": (lambda x: np.floor(x) * x, (-3, 3)),
    "ceil": (lambda x: np.ceil(x) * x, (-3, 3)),
    "rint": (lambda x: np.rint(x) * x, (-3, 3)),
    "round": (lambda x: np.round(x, 1) * x, (-3, 3)),
    "python_round": (lambda x: round(x, 1) * x, (-3, 3)),
    "trunc": (lambda x: np.trunc(x) * x, (-3, 3)),
    "copysign": (lambda x, y: np.copysign(x, y) * y, (-3, 3)),
    "heaviside": (lambda x: np.heaviside(x - 0.5, 0.5) * x, (-3, 3)),
    "where": (lambda x: np.where(x > 0.5, x ** 2, np.sin(x)), (-3, 3)),
    # Conditions, as numbers and as np.where's condition (tests/
    # test_booleans.py has their source, arrays and nan and inf).
    "isnan": (lambda x: np.where(np.isnan(x), 0.0, x ** 2)
              + np.isnan(x) * x, (-3, 3)),
    "isinf": (lambda x: np.where(np.isinf(x), 1.0, np.sin(x))
              + np.isinf(x), (-3, 3)),
    "isfinite": (lambda x: np.isfinite(x) * x ** 2, (-3, 3)),
    "signbit": (lambda x: np.where(np.signbit(x), x ** 3, np.sin(x)),
                (-3, 3)),
    "logical_and": (lambda x, y: np.logical_and(x > 0, y < 1) * x * y,
                    (-3, 3)),
    "logical_or": (lambda x, y: np.where(np.logical_or(x > 1, y > 1),
                                         x * y, x - y), (-3, 3)),
    "logical_not": (lambda x: np.logical_not(x > 1) * x ** 2, (-3, 3)),
    "logical_xor": (lambda x, y: np.where(np.logical_xor(x > 0, y > 0),
                                          x * y, x + y ** 2), (-3, 3)),
    "add": (lambda x, y: np.add(x, y) * x, (-3, 3)),
    "subtract": (lambda x, y: np.subtract(x, y) * x, (-3, 3)),
    "multiply": (lambda x, y: np.multiply(x, y) * x, (-3, 3)),
    "divide": (lambda x, y: np.divide(x, y), (0.2, 3)),
    "floor_divide": (lambda x, y: np.floor_divide(x, y) * x, (0.2, 3)),
    "mod": (lambda x, y: np.mod(x, y), (0.2, 3)),
    "negative": (lambda x: np.negative(x) * x, (-3, 3)),
    "positive": (lambda x: np.positive(x) * x, (-3, 3)),
    "reciprocal": (lambda x: np.reciprocal(x), (0.2, 3)),
    "real": (lambda x: np.real(x) * np.conj(x), (-3, 3)),
    "float_power": (lambda x, y: np.float_power(x, y), (0.2, 3)),
    "deg2rad": (lambda x: np.sin(np.deg2rad(x)), (-3, 3)),
    "rad2deg": (lambda x: np.rad2deg(x) * x, (-3, 3)),
    "ldexp": (lambda x: math.ldexp(x, 3) * x, (-3, 3)),
    "fmod": (lambda x, y: np.fmod(x, y), (0.2, 3)),
    "ieee_remainder": (lambda x, y: math.remainder(x, y), (0.2, 3)),
    "logaddexp2": (lambda x, y: np.logaddexp2(x, y), (-3, 3)),
    "dist": (lambda x, y: math.dist((x, 1.0), (0.5, y)), (-3, 3)),
    "prod": (lambda x, y: math.prod([x, y, x], start=1.5), (-3, 3)),
    "sinc": (lambda x: np.sinc(x), (-3, 3)),
    "fmax": (lambda x, y: np.fmax(x, y) * x, (-3, 3)),
    "fmin": (lambda x, y: np.fmin(x, y) * y, (-3, 3)),
    # The points give clipping below, above, none, and lo > hi.
    "clip": (lambda x, lo, hi: np.clip(x, -lo, hi) * x, (-3, 3)),
    "nan_to_num": (lambda x: np.nan_to_num(x) * x, (-3, 3)),
    # Casts: compared with the exact derivative below, since central
    # differences of float32 values measure float32 rounding.
    "float32": (lambda x: np.float32(x) ** 2, (-3, 3)),
    "float64": (lambda x: np.float64(x) ** 2, (-3, 3)),
    "erf": (lambda x: math.erf(x), (-3, 3)),
    "erfc": (lambda x: math.erfc(x), (-3, 3)),
    "gamma": (lambda x: math.gamma(x), (0.2, 4)),
    "lgamma": (lambda x: math.lgamma(x), (0.2, 4)),
    # scipy.special only.
    "erfinv": (lambda x: sc.erfinv(x), (-0.95, 0.95)),
    "digamma": (lambda x: sc.digamma(x), (0.2, 4)),
    "polygamma": (lambda x: sc.polygamma(2, x) * x, (0.2, 4)),
    "expit": (lambda x: sc.expit(x), (-3, 3)),
    "logit": (lambda x: sc.logit(x), (0.05, 0.95)),
    "ndtr": (lambda x: sc.ndtr(x), (-3, 3)),
    "ndtri": (lambda q: sc.ndtri(q), (0.05, 0.95)),
    "log_ndtr": (lambda x: sc.log_ndtr(x), (-3, 3)),
    "erfcx": (lambda x: sc.erfcx(x), (-3, 3)),
    "xlogy": (lambda x, y: sc.xlogy(x, y), (0.2, 3)),
    "xlog1py": (lambda x, y: sc.xlog1py(x, y), (-0.5, 3)),
    "betaln": (lambda a, b: sc.betaln(a, b), (0.2, 4)),
    "entr": (lambda x: sc.entr(x), (0.1, 3)),
    "log_expit": (lambda x: sc.log_expit(x), (-3, 3)),
    "rel_entr": (lambda x, y: sc.rel_entr(x, y), (0.2, 3)),
    "kl_div": (lambda x, y: sc.kl_div(x, y), (0.2, 3)),
    "beta": (lambda a, b: sc.beta(a, b), (0.2, 4)),
    # NumPy's spelling: scipy.special.i0 is checked as its alias.
    "i0": (lambda x: np.i0(x), (-3, 3)),
    "i1": (lambda x: sc.i1(x), (0.2, 3)),
    "i0e": (lambda x: sc.i0e(x), (0.2, 3)),
    "i1e": (lambda x: sc.i1e(x), (0.2, 3)),
    # Bessel functions of any order and the incomplete gamma functions
    # are differentiated in x only.
    "iv": (lambda x: sc.iv(2.5, x), (0.2, 3)),
    "ive": (lambda x: sc.ive(3, -x), (0.2, 3)),
    "gammainc": (lambda x: sc.gammainc(2.5, x), (0.2, 3)),
    "gammaincc": (lambda x: sc.gammaincc(0.7, x), (0.2, 3)),
    # scipy.stats.norm's methods, with loc and scale as arguments.
    "norm_logpdf": (lambda x, loc, scale: stats.norm.logpdf(x, loc, scale),
                    (0.2, 3)),
    "norm_pdf": (lambda x, loc, scale: stats.norm.pdf(x, loc=loc,
                                                      scale=scale), (0.2, 3)),
    "norm_cdf": (lambda x, loc, scale: stats.norm.cdf(x, loc, scale),
                 (0.2, 3)),
    "norm_logcdf": (lambda x, loc, scale: stats.norm.logcdf(x, loc, scale),
                    (0.2, 3)),
    "norm_sf": (lambda x, loc, scale: stats.norm.sf(x, loc, scale), (0.2, 3)),
    "norm_logsf": (lambda x, loc, scale: stats.norm.logsf(x, loc=loc,
                                                          scale=scale),
                   (0.2, 3)),
    "norm_ppf": (lambda q, loc, scale: stats.norm.ppf(q, loc, scale),
                 (0.05, 0.6)),
    "t_logpdf": (lambda x, df, loc, scale: stats.t.logpdf(x, df, loc, scale),
                 (0.2, 3)),
    "t_pdf": (lambda x, df, loc, scale: stats.t.pdf(x, df, loc=loc,
                                                    scale=scale), (0.2, 3)),
    # x + 4 stays above loc (inside the support) at every point.
    "gamma_logpdf": (lambda x, a, loc, scale: stats.gamma.logpdf(
        x + 4, a, loc, scale), (0.2, 3)),
    "gamma_pdf": (lambda x, a, loc, scale: stats.gamma.pdf(
        x + 4, a, loc=loc, scale=scale), (0.2, 3)),
    # Counts are integers: the derivative is in the mean.
    "poisson_logpmf": (lambda mu: stats.poisson.logpmf(3, mu), (0.2, 3)),
    "poisson_pmf": (lambda mu: stats.poisson.pmf(3, mu, loc=1), (0.2, 3)),
    # x / 8 stays inside (loc, loc + scale) at every point.
    "beta_logpdf": (lambda x, a, b, loc, scale: stats.beta.logpdf(
        x / 8 + loc, a, b, loc, scale + 1), (0.2, 3)),
    "beta_pdf": (lambda x, a, b, loc, scale: stats.beta.pdf(
        x / 8 + loc, a, b, loc=loc, scale=scale + 1), (0.2, 3)),
    "expon_logpdf": (lambda x, loc, scale: stats.expon.logpdf(
        x + 3, loc, scale), (0.2, 3)),
    "expon_pdf": (lambda x, loc, scale: stats.expon.pdf(
        x + 3, loc=loc, scale=scale), (0.2, 3)),
    "laplace_logpdf": (lambda x, loc, scale: stats.laplace.logpdf(
        x, loc, scale), (0.2, 3)),
    "laplace_pdf": (lambda x, loc, scale: stats.laplace.pdf(
        x, loc=loc, scale=scale), (0.2, 3)),
    "cauchy_logpdf": (lambda x, loc, scale: stats.cauchy.logpdf(
        x, loc, scale), (0.2, 3)),
    "cauchy_pdf": (lambda x, loc, scale: stats.cauchy.pdf(
        x, loc=loc, scale=scale), (0.2, 3)),
    "logistic_logpdf": (lambda x, loc, scale: stats.logistic.logpdf(
        x, loc, scale), (0.2, 3)),
    "logistic_pdf": (lambda x, loc, scale: stats.logistic.pdf(
        x, loc=loc, scale=scale), (0.2, 3)),
    # The density is constant inside: the derivative is in the scale.
    "uniform_logpdf": (lambda x, loc, scale: stats.uniform.logpdf(
        x / 8 + loc, loc, scale + 1), (0.2, 3)),
    "uniform_pdf": (lambda x, loc, scale: stats.uniform.pdf(
        x / 8 + loc, loc=loc, scale=scale + 1), (0.2, 3)),
    # Counts are integers: the derivative is in the probability.
    "binom_logpmf": (lambda p: stats.binom.logpmf(3, 10, p), (0.05, 0.3)),
    "binom_pmf": (lambda p: stats.binom.pmf(4, 9, p, loc=1), (0.05, 0.3)),
    "bernoulli_logpmf": (lambda p: stats.bernoulli.logpmf(1, p),
                         (0.05, 0.3)),
    "bernoulli_pmf": (lambda p: stats.bernoulli.pmf(0, p), (0.05, 0.3)),
    "lognorm_logpdf": (lambda x, s, loc, scale: stats.lognorm.logpdf(
        x + 4, s, loc, scale), (0.2, 3)),
    "lognorm_pdf": (lambda x, s, loc, scale: stats.lognorm.pdf(
        x + 4, s, loc=loc, scale=scale), (0.2, 3)),
}

# Rows whose callables are all scipy.special's.
SCIPY_ONLY = {"erfinv", "digamma", "polygamma", "expit", "logit", "ndtr",
              "log_ndtr", "erfcx", "xlogy", "xlog1py", "betaln", "entr",
              "log_expit", "norm_logpdf", "norm_pdf", "norm_cdf",
              "norm_logcdf", "norm_sf", "norm_logsf", "t_logpdf", "t_pdf",
              "gamma_logpdf", "gamma_pdf", "poisson_logpmf", "poisson_pmf",
              "ndtri", "norm_ppf", "beta_logpdf", "beta_pdf", "expon_logpdf",
              "expon_pdf", "laplace_logpdf", "laplace_pdf", "cauchy_logpdf",
              "cauchy_pdf", "logistic_logpdf", "logistic_pdf",
              "uniform_logpdf", "uniform_pdf", "rel_entr", "kl_div", "beta",
              "i1", "i0e", "i1e", "iv", "ive", "gammainc",
              "gammaincc", "binom_logpmf", "binom_pmf", "bernoulli_logpmf",
              "bernoulli_pmf", "lognorm_logpdf", "lognorm_pdf"}

# Exact derivatives, for rows where central differences cannot measure.
EXACT = {
    "float32": lambda x: 2 * float(np.float32(x)),
    "float64": lambda x: 2 * x,
}


# Rows that return conditions (true or false): differentiated directly,
# their output is not a number.
CONDITIONS = {"isnan", "isinf", "isfinite", "signbit", "logical_and",
              "logical_or", "logical_not", "logical_xor"}


# Rows whose callables take lists (math.dist's points, math.prod's
# factors): differentiated directly, they are refused.
TAKES_LISTS = {"dist", "prod"}


# Arguments held fixed, position -> the value used: those that must be
# integers (polygamma's order, ldexp's exponent, a Poisson, binomial or
# Bernoulli count and its shift, a binomial's trials), the order of a
# Bessel function and the shape of an incomplete gamma function (neither
# has a derivative in closed form), and a gamma or
# log-normal density's x, kept inside its support (above loc), as the loc
# of beta, expon and uniform keeps x inside theirs.
FIXED_ARGUMENTS = {"polygamma": {0: 1}, "ldexp": {1: 3},
                   "poisson_logpmf": {0: 3, 2: 1},
                   "poisson_pmf": {0: 3, 2: 1},
                   "gamma_logpdf": {0: 5.0}, "gamma_pdf": {0: 5.0},
                   "beta_logpdf": {3: 0.0}, "beta_pdf": {3: 0.0},
                   "expon_logpdf": {1: 0.0}, "expon_pdf": {1: 0.0},
                   "uniform_logpdf": {1: 0.0}, "uniform_pdf": {1: 0.0},
                   "gammainc": {0: 2.5}, "gammaincc": {0: 0.7},
                   "iv": {0: 2.5}, "ive": {0: 3},
                   "binom_logpmf": {0: 3, 1: 10, 3: 0},
                   "binom_pmf": {0: 4, 1: 9, 3: 1},
                   "bernoulli_logpmf": {0: 1, 2: 0},
                   "bernoulli_pmf": {0: 0, 2: 0},
                   "lognorm_logpdf": {0: 4.0}, "lognorm_pdf": {0: 4.0}}


# math and NumPy rows whose derivative (digamma, i1) only SciPy provides;
# without it they are refused (tests/test_scipy.py, tests/test_numpy_i0.py).
DERIVATIVE_NEEDS_SCIPY = {"gamma", "lgamma", "i0"}


def _needs(name):
    if name in SCIPY_ONLY | DERIVATIVE_NEEDS_SCIPY and sc is None:
        pytest.skip("SciPy is not installed")


def test_cases_and_rules_table_cover_each_other():
    assert set(CASES) == {p.name for p in PRIMITIVES}
    scipy_only = {p.name for p in PRIMITIVES
                  if (p.scipy or p.scipy_stats)
                  and not (p.numpy or p.math or p.builtin or p.operator)}
    assert SCIPY_ONLY == scipy_only


def _check_partials(function, low, high, points=5, exact=None):
    arity = function.__code__.co_argcount
    gradient = ad.grad(function, argnums=tuple(range(arity)))
    grid = sample_points(low, high, points)
    for i, point in enumerate(grid):
        # Pair each point with a shifted one so two-argument functions see
        # x != y (kinks of maximum, minimum, copysign stay away).
        args = tuple(float(grid[(i + k) % len(grid)] + 0.31 * k)
                     for k in range(arity))
        analytic = gradient(*args)
        for argnum in range(arity):
            expected = (exact(*args)[argnum] if exact else
                        central_difference(function, args, argnum))
            assert float(analytic[argnum]) == pytest.approx(
                expected, rel=1e-6, abs=1e-8), (function, args, argnum)


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivative_matches_central_differences(name):
    _needs(name)
    function, (low, high) = CASES[name]
    exact = EXACT.get(name)
    _check_partials(function, low, high,
                    exact=exact and (lambda *args: (exact(*args),)))


def _aliases():
    for primitive in PRIMITIVES:
        for module, names in ((np, primitive.numpy), (math, primitive.math),
                              (builtins, primitive.builtin),
                              (operator, primitive.operator),
                              (sc, primitive.scipy),
                              (stats, primitive.scipy_stats)):
            for alias in names:
                callable_ = module
                for part in alias.split("."):  # norm.logpdf
                    callable_ = getattr(callable_, part, None)
                if callable_ is not None:
                    # np.fix is deprecated from NumPy 2.5 on (in favour of
                    # np.trunc, which generated code writes); code that
                    # calls it is still differentiated.
                    marks = pytest.mark.filterwarnings(
                        "ignore:numpy.fix is deprecated:DeprecationWarning"
                    ) if alias == "fix" else ()
                    yield pytest.param(primitive, callable_, marks=marks,
                                       id=f"{module.__name__}.{alias}")


@pytest.mark.parametrize("primitive, callable_", list(_aliases()))
def test_every_alias_is_recognised_by_object(primitive, callable_):
    """ad.grad(np.arcsin), ad.grad(math.asin), ad.grad(abs),
    ad.grad(operator.mul), ad.grad(scipy.special.expit): by identity."""
    if primitive.name == "where":
        with pytest.raises(ad.NoSourceError, match="np.where selects"):
            ad.grad(callable_)
        return
    if primitive.name in CONDITIONS:
        with pytest.raises(ad.OutputError, match=(
                "returns .*, which is not a number: grad needs a scalar "
                "output")):
            ad.grad(callable_, argnums=tuple(range(primitive.nargs)))
        return
    if primitive.name in TAKES_LISTS:
        with pytest.raises(ad.NoSourceError, match=(
                f"math.{primitive.name} takes .*, not numbers: "
                "differentiate a function that calls it with them")):
            ad.grad(callable_)
        return
    _needs(primitive.name)
    fixed = FIXED_ARGUMENTS.get(primitive.name, {})
    argnums = tuple(i for i in range(primitive.nargs) if i not in fixed)
    low, high = CASES[primitive.name][1]
    gradient = ad.grad(callable_, argnums=argnums)
    for point in sample_points(low, high, 3):
        args = tuple(fixed.get(k, float(point) + 0.31 * k)
                     for k in range(primitive.nargs))
        analytic = gradient(*args)
        for position, argnum in enumerate(argnums):
            expected = (1.0 if primitive.name in EXACT else
                        central_difference(callable_, args, argnum))
            assert float(analytic[position]) == pytest.approx(
                expected, rel=1e-6, abs=1e-8)


def test_math_code_derives_to_math_code():
    source = ad.source(ad.grad(lambda x: math.sin(x) * math.exp(x)))
    assert "math.sin(x)" in source and "math.cos(x)" in source
    assert "np." not in source


def test_numpy_code_derives_to_numpy_code():
    source = ad.source(ad.grad(lambda x: np.sin(x) * np.exp(x)))
    assert "np.sin(x)" in source and "np.cos(x)" in source
    assert "math." not in source


def test_kink_conventions_match_jax():
    assert ad.grad(np.abs)(0.0) == 1.0
    assert ad.grad(lambda x: np.maximum(x, 0.0))(0.0) == 0.5
    assert ad.grad(lambda x: np.minimum(x, 0.0))(0.0) == 0.5
    assert ad.grad(np.sign)(0.0) == 0.0
    assert ad.grad(np.floor)(2.0) == 0.0
    with np.errstate(divide="ignore"):
        assert ad.grad(np.sqrt)(0.0) == np.inf


def test_conventions_of_new_rows_match_jax():
    # Values from jax 0.10.2 (x64): jnp.clip is minimum(hi, maximum(lo,
    # x)), so a bound ties like maximum (0.5 each), and fmax(x, y) is
    # where((x > y) | isnan(y), x, y): y takes a tie, x takes y's nan.
    clip = ad.grad(lambda x, lo, hi: np.clip(x, lo, hi), argnums=(0, 1, 2))
    assert clip(0.0, 0.0, 1.0) == (0.5, 0.5, 0.0)
    assert clip(1.0, 0.0, 1.0) == (0.5, 0.0, 0.5)
    assert clip(0.5, 0.0, 1.0) == (1.0, 0.0, 0.0)
    assert clip(2.0, 0.0, 1.0) == (0.0, 0.0, 1.0)
    fmax = ad.grad(lambda x, y: np.fmax(x, y), argnums=(0, 1))
    fmin = ad.grad(lambda x, y: np.fmin(x, y), argnums=(0, 1))
    assert fmax(1.0, 1.0) == (0, 1) and fmin(1.0, 1.0) == (0, 1)
    assert fmax(2.0, np.nan) == (1, 0) and fmax(np.nan, 2.0) == (0, 1)
    assert fmin(2.0, np.nan) == (1, 0) and fmin(2.0, 3.0) == (1, 0)
    # floats, as JAX's: np.where of two ints gave an integer array
    assert {np.asarray(g).dtype for g in fmax(2.0, 3.0) + fmin(2.0, 3.0)
            } == {np.dtype(np.float64)}
    nan_to_num = ad.grad(np.nan_to_num)
    assert [nan_to_num(v) for v in (2.0, np.inf, -np.inf, np.nan)] == [
        1, 0, 0, 0]
    assert ad.grad(np.sinc)(0.0) == 0.0
    assert ad.derivative(np.sinc, 2)(0.0) == pytest.approx(-np.pi ** 2 / 3,
                                                          rel=1e-15)
    mod = ad.grad(lambda x, y: np.mod(x, y), argnums=(0, 1))
    fmod = ad.grad(lambda x, y: np.fmod(x, y), argnums=(0, 1))
    assert mod(-7.0, 2.0) == (1, 4.0) and fmod(-7.0, 2.0) == (1, 3.0)
    assert ad.grad(lambda x, y: math.remainder(x, y), argnums=1)(
        7.0, 2.0) == -4.0  # 7/2 rounds half to even: 4
    assert ad.grad(lambda x: np.logaddexp2(x, 1.0))(1.0) == 0.5


def test_comparisons_used_as_numbers_are_zero_one_with_zero_derivative():
    def relu(x):
        return (x > 0) * x

    def band(x):
        return (x > 0) * (x <= 1) * x ** 2

    gradient = ad.grad(relu)
    # a step, which keeps x's type (np.where(x > 0, 1, 0) gave integers)
    assert ad.source(gradient).endswith("    return np.heaviside(x, 0)\n")
    assert [gradient(v) for v in (2.0, 0.0, -1.0)] == [1, 0, 0]  # JAX's
    assert gradient(np.float32(2.0)).dtype == np.float32
    band_gradient = ad.grad(band)
    for x in (-0.5, 0.5, 1.0, 1.5):
        assert band_gradient(x) == (2 * x if 0 < x <= 1 else 0)

    def count_below(x, y):
        return np.sum(x < y) * np.sum(x ** 2)

    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 4.0])
    np.testing.assert_array_equal(ad.grad(count_below)(x, y), 2 * 2 * x)
    np.testing.assert_array_equal(ad.grad(count_below, 1)(x, y), 0 * y)


def test_operator_spellings_print_as_operators():
    def f(x, y):
        return operator.truediv(operator.mul(x, y), 2.0) + np.subtract(
            np.power(x, 3), np.negative(y))

    assert ad.source(ad.grad(f, argnums=(0, 1))).endswith(
        "    grad_x = 3 * x ** 2 + 0.5 * y\n"
        "    grad_y = 0.5 * x + 1\n"
        "    return grad_x, grad_y\n")


def test_math_code_with_new_rows_derives_to_math_code():
    def f(x):
        return math.erfc(x) + math.degrees(x) + math.fmod(x, 3.0)

    source = ad.source(ad.grad(f))
    assert source.endswith(
        "    return 1 + 180 / math.pi - 2 * math.exp(-x ** 2) / math.sqrt("
        "math.pi)\n")
    assert "np." not in source


def test_a_float32_cast_stays_in_the_code():
    def f(x):
        return np.float32(x) ** 2

    gradient = ad.grad(f)
    assert ad.source(gradient).endswith("    return 2 * np.float32(x)\n")
    assert gradient(np.float32(0.1)) == np.float32(0.2)
    assert gradient(np.float32(0.1)).dtype == np.float32


def test_a_primitive_derivative_comes_back_from_the_disk_cache(tmp_path):
    # A second process reads ad.grad(np.tanh) from the cache (this raised
    # AttributeError: a ufunc has no __code__ to take a scope from).
    script = ("import numpy as np, autodiff_ast as ad; "
              "print(ad.grad(np.tanh)(0.5))")
    env = {**os.environ, "AUTODIFF_AST_CACHE": "1",
           "AUTODIFF_AST_CACHE_DIR": str(tmp_path / "cache")}
    outputs = [subprocess.run([sys.executable, "-c", script], env=env,
                              capture_output=True, text=True)
               for _ in range(2)]
    assert outputs[0].stdout == outputs[1].stdout, outputs[1].stderr
    assert float(outputs[1].stdout) == pytest.approx(1 - np.tanh(0.5) ** 2,
                                                     rel=1e-15)
    assert len(list((tmp_path / "cache").iterdir())) == 1  # one entry


def squared_selection(x, p):
    y = np.where(x < 0, p[0], p[0] + x / (p[1] - p[2]))
    return np.sum(y ** 2)


def test_a_power_of_a_selection_is_differentiated_without_dividing_by_it():
    # d/dp of where(...) ** 2 came out as where(...) ** 2 * d * where(...)
    # ** -1, SymPy taking the selection for a factor that does not commute:
    # nan wherever the selection is 0 (here at x = 0 and x = 0.25).
    x = np.array([-1.0, 0.0, 0.25, 1.0, 2.0])
    p = np.array([0.0, 0.0, 1.0])
    (gradient,) = ad.grad(squared_selection, (1,))(x, p)
    y = np.where(x < 0, p[0], p[0] + x / (p[1] - p[2]))
    slope = np.where(x < 0, 0.0, x / (p[1] - p[2]) ** 2)
    np.testing.assert_allclose(gradient, [np.sum(2 * y), np.sum(
        -2 * y * slope), np.sum(2 * y * slope)], rtol=1e-15)
    assert "1 / " not in ad.source(ad.grad(squared_selection, (1,)), x, p)


@pytest.mark.parametrize("function, jacobians", [
    (operator.mul, lambda x, y: (np.diag(y), np.diag(x))),
    (operator.sub, lambda x, y: (np.eye(2), -np.eye(2))),
    (operator.truediv, lambda x, y: (np.diag(1 / y), np.diag(-x / y ** 2))),
    (operator.pow, lambda x, y: (np.diag(y * x ** (y - 1)),
                                 np.diag(np.log(x) * x ** y)))],
    ids=["mul", "sub", "truediv", "pow"])
def test_operator_functions_have_jacobians_at_arrays(function, jacobians):
    # (written out as operator.mul(x, y), not as NumPy's np.mul)
    x, y = np.array([1.5, 2.0]), np.array([3.0, 0.5])
    jacobian = ad.jacobian(function, argnums=(0, 1))
    for got, expected in zip(jacobian(x, y), jacobians(x, y)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert (f"    {function.__name__} is operator.{function.__name__}.\n"
            in ad.source(jacobian, x, y))
    negated = ad.jacobian(operator.neg)(x)
    np.testing.assert_array_equal(negated, -np.eye(2))
