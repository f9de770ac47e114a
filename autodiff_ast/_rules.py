"""The rules table: the one place where a primitive is declared.

A primitive is a NumPy, math or builtin callable that autodiff_ast knows how
to differentiate. Its row gives the callables it is recognised by (by object
identity, so ``np.tanh``, ``numpy.tanh`` and ``from numpy import tanh`` are
one primitive), the SymPy expression it lowers to, how generated code spells
it in NumPy, plain-Python/math and SciPy code, and the interval on which the
tests check its derivative. Where SymPy already has the function (sin, exp,
erf, ...), SymPy's derivative is used; the others are SymPy functions
defined in ``_functions.py``, each derivative one line. A callable that
takes other arguments than its SymPy function (``math.log``'s base,
``np.clip``'s None bounds, ``math.dist``'s points) has a ``Form`` of its
row for them (``_forms.py``).

SciPy is optional: scipy.special's and scipy.stats.norm's callables join
the table once the user's code has imported them, and generated code
calls them as ``scipy.special.expit(x)``.
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
import inspect
import math
import operator
import sys
from dataclasses import dataclass, replace
from typing import Any, Callable

import mpmath
import numpy as np
import sympy as sp

from ._distributions import (
    bernoulli_logpmf, bernoulli_pmf, beta_logpdf, beta_pdf, binom_logpmf,
    binom_pmf, cauchy_logpdf, cauchy_pdf, expon_logpdf, expon_pdf,
    gamma_logpdf, gamma_pdf, laplace_logpdf, laplace_pdf, logistic_logpdf,
    logistic_pdf, lognorm_logpdf, lognorm_pdf, norm_logsf, norm_ppf,
    norm_sf, poisson_logpmf, poisson_pmf, t_logpdf, t_pdf, uniform_logpdf,
    uniform_pdf)
from ._errors import RefusedAtAnyArguments
from ._forms import (Form, clip_with_open_bounds, distance,
                     hypot_of_any_number, log_with_base, norm_cdf,
                     norm_logcdf, norm_logpdf, norm_pdf, product)
from ._functions import (expm1, log1p, log2, log10, cbrt, absolute, sign,
                         floor, ceil, trunc, rint, copysign, heaviside, hypot,
                         maximum, minimum, logaddexp, floordiv, mod,
                         power_rule_exponent, zero_power, fmod, ieee_remainder, logaddexp2, sinc,
                         fmax, fmin, clip, nan_to_num, float32, float64, erfc,
                         lgamma, expit, logit, ndtr, ndtri, erfcx, log_ndtr,
                         xlogy, xlog1py, betaln, entr, log_expit, rel_entr,
                         kl_div, i0, i1, i0e, i1e, iv, ive, gammainc,
                         gammaincc, where,
                         isnan, isinf, isfinite, signbit, logical_and,
                         logical_or, logical_not, logical_xor, truth)
from ._functions import _elementary
from ._python_extrema import first_maximum, first_minimum

__all__ = ["Primitive", "Form", "PRIMITIVES", "primitive_for", "spelling_for",
           "call_form", "canonical", "rewritten_by_canonical",
           "scipy_module", "rounded", "python_round"]


def _round_decimals_exactly(x: sp.Rational, decimals: sp.Integer
                            ) -> sp.Rational:
    scale = sp.Integer(10) ** decimals
    return sp.Integer(round(x * scale)) / scale


# np.round(x, decimals): its derivative is 0 (as JAX's) in both arguments.
round_decimals = _elementary(
    "round_decimals", 2, lambda x, decimals: (sp.S.Zero, sp.S.Zero),
    lambda x, decimals: _round_decimals_exactly(x, decimals)
    if decimals.is_Integer else None,
    mp=lambda x, decimals: mpmath.mpf(np.round(float(x), int(decimals))))


# Python's round(x, ndigits) rounds a float's exact value (round(2.675,
# 2) is 2.67: the float 2.675 is a little below it, and np.round's
# scaling gives 2.68), and a NumPy scalar's as np.round does: so it
# prints as round() in NumPy code too, and computes what the user's
# code computed. Its derivative is 0, as np.round's.
python_round = _elementary(
    "python_round", 2, lambda x, ndigits: (sp.S.Zero, sp.S.Zero),
    lambda x, ndigits: sp.Rational(repr(round(float(x), int(ndigits))))
    if ndigits.is_Integer else None,
    mp=lambda x, ndigits: mpmath.mpf(round(float(x), int(ndigits))))


def python_rounded(number: sp.Expr, ndigits: sp.Expr | None = None
                   ) -> sp.Expr:
    """``round(number, ndigits)``: ``round(number)`` (np.rint's value,
    half to even) without ndigits or with None."""
    if ndigits is None:
        return rint(number)
    if ndigits.is_number and not ndigits.is_Integer:
        raise TypeError("ndigits must be an integer")
    return python_round(number, ndigits)


def rounded(x: sp.Expr, decimals: sp.Expr = sp.S.Zero) -> sp.Expr:
    """``np.round(x, decimals)``: ``np.rint(x)`` for decimals 0."""
    if decimals.is_number and not decimals.is_Integer:
        raise TypeError("decimals must be an integer")
    return rint(x) if decimals == 0 else round_decimals(x, decimals)


# ---------------------------------------------------------------------------
# The table.

@dataclass(frozen=True)
class Primitive:
    """One differentiable callable and everything the pipeline needs of it.

    ``numpy``/``math``/``builtin``/``operator``/``scipy`` name the
    attributes of those modules (``scipy``: of ``scipy.special``) it is
    recognised by; ``lower`` builds its SymPy expression from SymPy
    arguments; ``sympy_function`` is the SymPy class that prints back as
    this primitive (None for those that lower to arithmetic, like sqrt);
    ``np_spelling``/``py_spelling``/``scipy_spelling`` are how generated
    code calls it in NumPy code, in plain-Python/math code and from SciPy
    (None: that namespace has no such function; see ``spelling_for``);
    ``domain`` is where its derivative is tested. ``builtin_function`` is
    the SymPy function the builtin callable lowers to where Python's
    differs from NumPy's (``max`` gives a tie to its first argument,
    ``np.maximum`` half to each); it prints as ``sympy_function`` does.
    """

    name: str
    lower: Callable[..., sp.Expr]
    numpy: tuple[str, ...] = ()
    math: tuple[str, ...] = ()
    builtin: tuple[str, ...] = ()
    sympy_function: type | None = None
    np_spelling: str | None = None
    py_spelling: str | None = None
    domain: tuple[float, float] = (-3.0, 3.0)
    nargs: int = 1
    operator: tuple[str, ...] = ()
    scipy: tuple[str, ...] = ()
    scipy_spelling: str | None = None
    forms: tuple[Form, ...] = ()
    scipy_stats: tuple[str, ...] = ()
    builtin_function: type | None = None

    def form(self, namespace: str | None) -> Form | None:
        """How this primitive's callable from ``namespace`` lowers when it
        takes other arguments than ``nargs`` numbers, or None."""
        return next((f for f in self.forms if f.namespace == namespace),
                    None)


# Functions whose SymPy eval leaves f(c * x) and f(x) as they are, for c
# a positive rational and x a real symbol (tests/test_long_code.py checks
# each): their evals look for signs, multiples of i and pi, zeros and
# inverse functions, none of which such an argument is.
_INERT_ON_SCALED_SYMBOLS = (sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh,
                            sp.tanh)


def inert(function: type, args: tuple[sp.Basic, ...]) -> bool:
    """Whether SymPy's eval is known to leave ``function(*args)`` as it
    is: ``np.sin(3 * x)``, ``np.sin(x)``. There the eval's queries (is it
    a multiple of i? its sign? zero?) build and question new products,
    0.3 ms a call, most of lowering a written-out sum of 3000 sines."""
    if function not in _INERT_ON_SCALED_SYMBOLS or len(args) != 1:
        return False
    symbol = args[0]
    if isinstance(symbol, sp.Mul) and len(symbol.args) == 2:
        coefficient, symbol = symbol.args
        # (.p > 0: is_positive would deduce every fact of a new number)
        if not (isinstance(coefficient, sp.Rational)
                and coefficient.p > 0):
            return False
    return (isinstance(symbol, sp.Symbol)
            and symbol.assumptions0 == _REAL_SYMBOL)


# Their derivatives that are one of them at the same argument, up to sign
# (SymPy's fdiff; tests/test_long_code.py checks each against it).
_INERT_DERIVATIVES = {sp.sin: (1, sp.cos), sp.cos: (-1, sp.sin),
                      sp.sinh: (1, sp.cosh), sp.cosh: (1, sp.sinh)}


def inert_derivative(call: sp.Function) -> sp.Expr | None:
    """``call.fdiff()`` (cos(3 * x) for sin(3 * x)) built without SymPy's
    eval where that is inert, else None."""
    if type(call) not in _INERT_DERIVATIVES or not inert(type(call),
                                                         call.args):
        return None
    sign, derivative = _INERT_DERIVATIVES[type(call)]
    result = derivative(*call.args, evaluate=False)
    return result if sign == 1 else -result


def _scaled_without_eval(function: type) -> Callable[[sp.Expr], sp.Expr]:
    """``function``, built without SymPy's eval where it is inert."""
    def lower(arg: sp.Expr) -> sp.Expr:
        return function(arg, evaluate=not inert(function, (arg,)))
    return lower


# What a real symbol (the lowering's arguments) assumes, and no more.
_REAL_SYMBOL = sp.Symbol("x", real=True).assumptions0


def _row(name: str, function: type, numpy: tuple[str, ...],
         math_names: tuple[str, ...] = (), builtin: tuple[str, ...] = (),
         domain: tuple[float, float] = (-3.0, 3.0),
         py_spelling: str | None = None, operator: tuple[str, ...] = (),
         scipy: tuple[str, ...] = (),
         lower: Callable[..., sp.Expr] | None = None,
         forms: tuple[Form, ...] = (),
         builtin_function: type | None = None,
         nargs: int | None = None) -> Primitive:
    """A row whose SymPy function prints back under its NumPy/math/SciPy
    name (``lower``: how a call builds it, when not simply ``function``;
    ``nargs``: how many arguments it takes, when the SymPy function takes
    several counts: SymPy's beta(a) is beta(a, a))."""
    if py_spelling is None and math_names:
        py_spelling = f"math.{math_names[0]}"
    if nargs is None:
        nargs = int(next(iter(function.nargs)))
    if lower is None and function in _INERT_ON_SCALED_SYMBOLS:
        lower = _scaled_without_eval(function)
    return Primitive(
        name=name, lower=lower or function, numpy=numpy, math=math_names,
        builtin=builtin, sympy_function=function,
        np_spelling=f"np.{numpy[0]}" if numpy else None,
        py_spelling=py_spelling, domain=domain, nargs=nargs,
        operator=operator, scipy=scipy,
        scipy_spelling=f"scipy.special.{scipy[0]}" if scipy else None,
        forms=forms, builtin_function=builtin_function)


def _arithmetic(name: str, lower: Callable[..., sp.Expr],
                numpy: tuple[str, ...], math_names: tuple[str, ...] = (),
                builtin: tuple[str, ...] = (), nargs: int = 1,
                domain: tuple[float, float] = (-3.0, 3.0),
                operator: tuple[str, ...] = (),
                scipy: tuple[str, ...] = ()) -> Primitive:
    """A row that lowers to SymPy arithmetic (Pow) and prints as such."""
    return Primitive(name=name, lower=lower, numpy=numpy, math=math_names,
                     builtin=builtin, nargs=nargs, domain=domain,
                     operator=operator, scipy=scipy)


@functools.cache
def _scipy_installed() -> bool:
    return importlib.util.find_spec("scipy") is not None


def scipy_module() -> Any:
    """``scipy`` with its ``special`` submodule loaded, for generated code
    that calls ``scipy.special.*`` (ImportError without SciPy)."""
    import scipy.special  # noqa: F401  (loads the submodule)
    return sys.modules["scipy"]


def _needing_scipy(spelled: str, function: Callable[..., sp.Expr],
                   derivative: str) -> Callable[..., sp.Expr]:
    """``function``, refused where SciPy is missing: the derivative calls
    a function only SciPy provides (NumPy and math have no digamma)."""
    def lower(*args: sp.Expr) -> sp.Expr:
        if not _scipy_installed():
            # (lowering reports it at the user's call)
            raise RefusedAtAnyArguments(
                f"the derivative of {spelled} is {derivative}, which only "
                "SciPy provides: install SciPy (pip install "
                "'autodiff-ast[scipy]')")
        return function(*args)
    return lower


def _polygamma(n: sp.Expr, x: sp.Expr) -> sp.Expr:
    """polygamma(n, x); the order n is an integer >= 0 (it may be an
    argument, but it has no derivative)."""
    if n.is_number and not (n.is_Integer and n >= 0):
        raise RefusedAtAnyArguments(
            f"scipy.special.polygamma(n, x) takes an integer order n >= 0, "
            f"not {n}")
    return sp.polygamma(n, x)


def _stats(method: str, lower: Callable[..., sp.Expr], takes: str,
           domain: tuple[float, float] = (0.2, 3.0)) -> Primitive:
    """A row for a scipy.stats distribution's ``method`` ("norm.logpdf"),
    lowered by ``lower``, whose parameters are the method's (loc and
    scale with their defaults)."""
    return Primitive(name=method.replace(".", "_"), lower=lower,
                     nargs=len(inspect.signature(lower).parameters),
                     scipy_stats=(method,), domain=domain,
                     forms=(Form("scipy.stats", lower, takes),))


_LOC_SCALE = "x, and loc and scale (numbers or arrays)"
_WITH_SHAPE = "x and {}, and loc and scale (numbers or arrays)"
_COUNTS = "k and {}, and loc (numbers or arrays)"


PRIMITIVES: tuple[Primitive, ...] = (
    _row("sin", sp.sin, ("sin",), ("sin",)),
    _row("cos", sp.cos, ("cos",), ("cos",)),
    _row("tan", sp.tan, ("tan",), ("tan",), domain=(-1.4, 1.4)),
    _row("arcsin", sp.asin, ("arcsin", "asin"), ("asin",),
         domain=(-0.95, 0.95)),
    _row("arccos", sp.acos, ("arccos", "acos"), ("acos",),
         domain=(-0.95, 0.95)),
    _row("arctan", sp.atan, ("arctan", "atan"), ("atan",)),
    _row("arctan2", sp.atan2, ("arctan2", "atan2"), ("atan2",),
         domain=(0.2, 3.0)),
    _row("sinh", sp.sinh, ("sinh",), ("sinh",)),
    _row("cosh", sp.cosh, ("cosh",), ("cosh",)),
    _row("tanh", sp.tanh, ("tanh",), ("tanh",)),
    _row("arcsinh", sp.asinh, ("arcsinh", "asinh"), ("asinh",)),
    _row("arccosh", sp.acosh, ("arccosh", "acosh"), ("acosh",),
         domain=(1.1, 4.0)),
    _row("arctanh", sp.atanh, ("arctanh", "atanh"), ("atanh",),
         domain=(-0.95, 0.95)),
    _row("exp", sp.exp, ("exp",), ("exp",)),
    _arithmetic("exp2", lambda x: sp.Integer(2) ** x, ("exp2",), ("exp2",)),
    _row("expm1", expm1, ("expm1",), ("expm1",)),
    _row("log", sp.log, ("log",), ("log",), domain=(0.1, 4.0),
         forms=(Form("math", log_with_base, "x and an optional base"),)),
    _row("log2", log2, ("log2",), ("log2",), domain=(0.1, 4.0)),
    _row("log10", log10, ("log10",), ("log10",), domain=(0.1, 4.0)),
    _row("log1p", log1p, ("log1p",), ("log1p",), domain=(-0.9, 4.0)),
    _arithmetic("sqrt", sp.sqrt, ("sqrt",), ("sqrt",), domain=(0.1, 4.0)),
    _row("cbrt", cbrt, ("cbrt",), ("cbrt",), domain=(0.1, 4.0),
         py_spelling="np.cbrt"),
    _arithmetic("square", lambda x: x ** 2, ("square",)),
    _row("absolute", absolute, ("abs", "absolute", "fabs"), ("fabs",),
         ("abs",), py_spelling="abs", operator=("abs",)),
    _row("sign", sign, ("sign",)),
    _row("hypot", hypot, ("hypot",), ("hypot",),
         forms=(Form("math", hypot_of_any_number,
                     "any number of coordinates"),)),
    _arithmetic("power", lambda x, y: x ** y, ("power", "pow"), ("pow",),
                ("pow",), nargs=2, domain=(0.2, 3.0), operator=("pow",)),
    _arithmetic("float_power", lambda x, y: x ** y, ("float_power",),
                nargs=2, domain=(0.2, 3.0)),
    _row("maximum", maximum, ("maximum",), (), ("max",), py_spelling="max",
         builtin_function=first_maximum),
    _row("minimum", minimum, ("minimum",), (), ("min",), py_spelling="min",
         builtin_function=first_minimum),
    _row("logaddexp", logaddexp, ("logaddexp",)),
    _row("floor", floor, ("floor",), ("floor",)),
    _row("ceil", ceil, ("ceil",), ("ceil",)),
    _row("rint", rint, ("rint",), (), ("round",), py_spelling="round",
         forms=(Form("builtins", python_rounded,
                     "a number and ndigits, an integer or None"),)),
    # round(x, ndigits), the rint row's form for it.
    Primitive(name="python_round", lower=python_rounded, nargs=2,
              sympy_function=python_round, py_spelling="round"),
    # np.round(x) is np.rint(x); with decimals it prints as it was written
    # (np.round(x, 2), exact as NumPy's, which 0.01 * np.rint(100 * x) is
    # not always).
    Primitive(name="round", lower=rint, numpy=("round", "around"),
              sympy_function=round_decimals, np_spelling="np.round",
              forms=(Form("numpy", rounded, "x and decimals, an integer"),)),
    _row("trunc", trunc, ("trunc", "fix"), ("trunc",)),
    _row("copysign", copysign, ("copysign",), ("copysign",)),
    _row("heaviside", heaviside, ("heaviside",)),
    _row("where", where, ("where",)),
    # Conditions: as numbers (1 or 0) or as np.where's condition they are
    # constant to differentiation. A condition prints as the user wrote it
    # (np.logical_and(a, b), which takes arrays as well as numbers).
    _row("isnan", isnan, ("isnan",), ("isnan",)),
    _row("isinf", isinf, ("isinf",), ("isinf",)),
    _row("isfinite", isfinite, ("isfinite",), ("isfinite",)),
    _row("signbit", signbit, ("signbit",)),
    _row("logical_and", logical_and, ("logical_and",),
         lower=lambda a, b: logical_and(truth(a), truth(b))),
    _row("logical_or", logical_or, ("logical_or",),
         lower=lambda a, b: logical_or(truth(a), truth(b))),
    _row("logical_not", logical_not, ("logical_not",),
         lower=lambda a: logical_not(truth(a))),
    _row("logical_xor", logical_xor, ("logical_xor",),
         lower=lambda a, b: logical_xor(truth(a), truth(b))),
    # Operators spelled as functions; generated code writes the operator.
    _arithmetic("add", lambda a, b: a + b, ("add",), nargs=2,
                operator=("add",)),
    _arithmetic("subtract", lambda a, b: a - b, ("subtract",), nargs=2,
                operator=("sub",)),
    _arithmetic("multiply", lambda a, b: a * b, ("multiply",), nargs=2,
                operator=("mul",)),
    _arithmetic("divide", lambda a, b: a / b, ("divide", "true_divide"),
                nargs=2, domain=(0.2, 3.0), operator=("truediv",)),
    _arithmetic("floor_divide", floordiv, ("floor_divide",), nargs=2,
                domain=(0.2, 3.0), operator=("floordiv",)),
    _arithmetic("mod", mod, ("mod", "remainder"), nargs=2,
                domain=(0.2, 3.0), operator=("mod",)),
    _arithmetic("negative", lambda x: -x, ("negative",), operator=("neg",)),
    _arithmetic("positive", lambda x: x, ("positive",), operator=("pos",)),
    _arithmetic("reciprocal", lambda x: 1 / x, ("reciprocal",),
                domain=(0.2, 3.0)),
    # The real part and the conjugate of a real number are the number
    # (complex arguments are refused).
    _arithmetic("real", lambda x: x, ("real", "conj", "conjugate")),
    _arithmetic("deg2rad", lambda x: x * sp.pi / 180,
                ("deg2rad", "radians"), ("radians",)),
    _arithmetic("rad2deg", lambda x: x * 180 / sp.pi,
                ("rad2deg", "degrees"), ("degrees",)),
    _arithmetic("ldexp", lambda x, i: x * sp.Integer(2) ** i, ("ldexp",),
                ("ldexp",), nargs=2),
    _row("fmod", fmod, ("fmod",), ("fmod",), domain=(0.2, 3.0)),
    _row("ieee_remainder", ieee_remainder, (), ("remainder",),
         domain=(0.2, 3.0)),
    _row("logaddexp2", logaddexp2, ("logaddexp2",)),
    Primitive(name="dist", lower=distance, math=("dist",), nargs=2,
              forms=(Form("math", distance, "two points of the same "
                          "dimension, as lists or tuples of numbers"),)),
    Primitive(name="prod", lower=product, math=("prod",),
              forms=(Form("math", product, "a list or tuple of numbers, "
                          "and start="),)),
    _row("sinc", sinc, ("sinc",)),
    _row("fmax", fmax, ("fmax",)),
    _row("fmin", fmin, ("fmin",)),
    _row("clip", clip, ("clip",),
         forms=(Form("numpy", clip_with_open_bounds,
                     "an array and its bounds a_min and a_max, or min= and "
                     "max= (None for no bound)"),)),
    _row("nan_to_num", nan_to_num, ("nan_to_num",)),
    _row("float32", float32, ("float32",)),
    _row("float64", float64, ("float64",)),
    # Special functions: math's, and scipy.special's when SciPy is there.
    _row("erf", sp.erf, (), ("erf",), scipy=("erf",)),
    _row("erfc", erfc, (), ("erfc",), scipy=("erfc",)),
    _row("erfinv", sp.erfinv, (), scipy=("erfinv",),
         domain=(-0.95, 0.95)),
    _row("gamma", sp.gamma, (), ("gamma",), scipy=("gamma",),
         domain=(0.2, 4.0),
         lower=_needing_scipy("math.gamma", sp.gamma, "gamma(x) * digamma(x)")),
    _row("lgamma", lgamma, (), ("lgamma",), scipy=("gammaln",),
         domain=(0.2, 4.0),
         lower=_needing_scipy("math.lgamma", lgamma, "digamma")),
    Primitive(name="digamma", lower=lambda x: sp.polygamma(0, x),
              scipy=("digamma", "psi"),
              scipy_spelling="scipy.special.digamma", domain=(0.2, 4.0)),
    _row("polygamma", sp.polygamma, (), scipy=("polygamma",),
         domain=(0.2, 4.0), lower=_polygamma),
    _row("expit", expit, (), scipy=("expit",)),
    _row("logit", logit, (), scipy=("logit",), domain=(0.05, 0.95)),
    _row("ndtr", ndtr, (), scipy=("ndtr",)),
    _row("ndtri", ndtri, (), scipy=("ndtri",), domain=(0.05, 0.95)),
    _row("log_ndtr", log_ndtr, (), scipy=("log_ndtr",)),
    _row("erfcx", erfcx, (), scipy=("erfcx",)),
    _row("xlogy", xlogy, (), scipy=("xlogy",), domain=(0.2, 3.0)),
    _row("xlog1py", xlog1py, (), scipy=("xlog1py",), domain=(-0.5, 3.0)),
    _row("betaln", betaln, (), scipy=("betaln",), domain=(0.2, 4.0)),
    _row("entr", entr, (), scipy=("entr",), domain=(0.1, 3.0)),
    _row("log_expit", log_expit, (), scipy=("log_expit",)),
    _row("rel_entr", rel_entr, (), scipy=("rel_entr",), domain=(0.2, 3.0)),
    _row("kl_div", kl_div, (), scipy=("kl_div",), domain=(0.2, 3.0)),
    _row("beta", sp.beta, (), scipy=("beta",), domain=(0.2, 4.0), nargs=2),
    # NumPy has i0 but not i1, its derivative: np.i0 needs SciPy too.
    _row("i0", i0, ("i0",), scipy=("i0",),
         lower=_needing_scipy("np.i0", i0, "scipy.special.i1")),
    _row("i1", i1, (), scipy=("i1",), domain=(0.2, 3.0)),
    _row("i0e", i0e, (), scipy=("i0e",), domain=(0.2, 3.0)),
    _row("i1e", i1e, (), scipy=("i1e",), domain=(0.2, 3.0)),
    # Differentiated in x only: the order v and the shape a are held.
    _row("iv", iv, (), scipy=("iv",), domain=(0.2, 3.0)),
    _row("ive", ive, (), scipy=("ive",), domain=(0.2, 3.0)),
    _row("gammainc", gammainc, (), scipy=("gammainc",), domain=(0.2, 3.0)),
    _row("gammaincc", gammaincc, (), scipy=("gammaincc",),
         domain=(0.2, 3.0)),
    _stats("norm.logpdf", norm_logpdf, _LOC_SCALE),
    _stats("norm.pdf", norm_pdf, _LOC_SCALE),
    _stats("norm.cdf", norm_cdf, _LOC_SCALE),
    _stats("norm.logcdf", norm_logcdf, _LOC_SCALE),
    _stats("norm.sf", norm_sf, _LOC_SCALE),
    _stats("norm.logsf", norm_logsf, _LOC_SCALE),
    _stats("norm.ppf", norm_ppf, "q, and loc and scale (numbers or arrays)",
           domain=(0.05, 0.6)),
    _stats("t.logpdf", t_logpdf, _WITH_SHAPE.format("df")),
    _stats("t.pdf", t_pdf, _WITH_SHAPE.format("df")),
    _stats("gamma.logpdf", gamma_logpdf, _WITH_SHAPE.format("a")),
    _stats("gamma.pdf", gamma_pdf, _WITH_SHAPE.format("a")),
    _stats("poisson.logpmf", poisson_logpmf, _COUNTS.format("mu")),
    _stats("poisson.pmf", poisson_pmf, _COUNTS.format("mu")),
    _stats("beta.logpdf", beta_logpdf, _WITH_SHAPE.format("a and b")),
    _stats("beta.pdf", beta_pdf, _WITH_SHAPE.format("a and b")),
    _stats("expon.logpdf", expon_logpdf, _LOC_SCALE),
    _stats("expon.pdf", expon_pdf, _LOC_SCALE),
    _stats("laplace.logpdf", laplace_logpdf, _LOC_SCALE),
    _stats("laplace.pdf", laplace_pdf, _LOC_SCALE),
    _stats("cauchy.logpdf", cauchy_logpdf, _LOC_SCALE),
    _stats("cauchy.pdf", cauchy_pdf, _LOC_SCALE),
    _stats("logistic.logpdf", logistic_logpdf, _LOC_SCALE),
    _stats("logistic.pdf", logistic_pdf, _LOC_SCALE),
    _stats("uniform.logpdf", uniform_logpdf, _LOC_SCALE),
    _stats("uniform.pdf", uniform_pdf, _LOC_SCALE),
    _stats("binom.logpmf", binom_logpmf, _COUNTS.format("n and p"),
           domain=(0.05, 0.3)),
    _stats("binom.pmf", binom_pmf, _COUNTS.format("n and p"),
           domain=(0.05, 0.3)),
    _stats("bernoulli.logpmf", bernoulli_logpmf, _COUNTS.format("p"),
           domain=(0.05, 0.3)),
    _stats("bernoulli.pmf", bernoulli_pmf, _COUNTS.format("p"),
           domain=(0.05, 0.3)),
    _stats("lognorm.logpdf", lognorm_logpdf, _WITH_SHAPE.format("s")),
    _stats("lognorm.pdf", lognorm_pdf, _WITH_SHAPE.format("s")),
)

# Python operators that lower to these functions; printed as operators.
OPERATOR_FUNCTIONS = {floordiv: "//", mod: "%"}


def _recognised(modules: tuple[tuple[Any, str], ...]
                ) -> dict[object, Primitive]:
    """Each primitive's callables in ``modules`` ((module, field) pairs;
    a name may be dotted: ``norm.logpdf``). A builtin with Python's own
    derivative lowers to its ``builtin_function``."""
    table: dict[object, Primitive] = {}
    for primitive in PRIMITIVES:
        for module, field in modules:
            as_called = primitive
            if field == "builtin" and primitive.builtin_function:
                as_called = replace(primitive,
                                    lower=primitive.builtin_function)
            for name in getattr(primitive, field):
                obj = functools.reduce(
                    lambda value, part: getattr(value, part, None),
                    name.split("."), module)
                if obj is not None:
                    table[obj] = as_called
    return table


_BY_OBJECT = _recognised(((np, "numpy"), (math, "math"), (builtins, "builtin"),
                          (operator, "operator")))
_BY_SYMPY = {f: p for p in PRIMITIVES
             for f in (p.sympy_function, p.builtin_function) if f}
_BY_NAME = {p.name: p for p in PRIMITIVES}
# SciPy's callables join the table once the user's code has imported
# scipy.special or scipy.stats (importing them ourselves would cost every
# user 0.4 s). By value, not id: norm.logpdf is a new bound method at each
# access, equal to the others.
_SCIPY_MODULES = {"scipy.special": "scipy", "scipy.stats": "scipy_stats"}
_SCIPY_OBJECTS: dict[object, str] = {}
_SCIPY_ADDED: set[str] = set()


def _add_scipy() -> None:
    for name, field in _SCIPY_MODULES.items():
        module = sys.modules.get(name)
        if module is None or name in _SCIPY_ADDED:
            continue
        found = _recognised(((module, field),))
        _BY_OBJECT.update(found)
        _SCIPY_OBJECTS.update(dict.fromkeys(found, name))
        _SCIPY_ADDED.add(name)


def primitive_for(obj: object) -> Primitive | None:
    """The primitive a Python callable is, or None."""
    try:
        found = _BY_OBJECT.get(obj)
        if found is None and len(_SCIPY_ADDED) < len(_SCIPY_MODULES) and \
                "scipy.special" in sys.modules:
            _add_scipy()
            found = _BY_OBJECT.get(obj)
        return found
    except TypeError:  # unhashable: not a primitive
        return None


def namespace_of(obj: object) -> str | None:
    """'numpy', 'math', 'scipy.special' or 'scipy.stats' for a primitive
    callable from that module."""
    try:
        scipy = _SCIPY_OBJECTS.get(obj)
    except TypeError:  # unhashable
        scipy = None
    if scipy is not None:
        return scipy
    module = getattr(obj, "__module__", None) or ""
    if isinstance(obj, np.ufunc) or module.startswith("numpy"):
        return "numpy"
    if module == "math":
        return "math"
    return None


def spelling_for(function: type | str, namespace: str) -> str:
    """How generated code in ``namespace`` ('numpy' or 'math') calls the
    primitive whose SymPy class (or name) is ``function``.

    Math code uses math's function, else NumPy's, else SciPy's; NumPy code
    uses NumPy's, else SciPy's (which takes arrays) if SciPy is installed,
    else math's (the code then takes numbers, as the user's math call
    did). A function only SciPy has is spelled from SciPy everywhere.
    """
    primitive = (_BY_NAME[function] if isinstance(function, str)
                 else _BY_SYMPY[function])
    if namespace == "math":
        order = (primitive.py_spelling, primitive.np_spelling,
                 primitive.scipy_spelling)
    else:
        scipy = primitive.scipy_spelling if _scipy_installed() else None
        order = (primitive.np_spelling, scipy, primitive.py_spelling,
                 primitive.scipy_spelling)
    spelling = next(s for s in order if s is not None)
    return spelling


def call_form(expr: sp.Function) -> tuple[type | str, tuple[sp.Basic, ...]]:
    """The primitive (as ``spelling_for`` takes it) a SymPy call prints as,
    and its printed arguments: SymPy's polygamma(0, x) is digamma(x)."""
    if isinstance(expr, sp.polygamma) and expr.args[0] == 0:
        return "digamma", expr.args[1:]
    return type(expr), expr.args


def _nested(function: type) -> Callable[..., sp.Expr]:
    def build(*args: sp.Expr) -> sp.Expr:
        result = args[0]
        for arg in args[1:]:
            result = function(result, arg)
        return result
    return build


# SymPy's own functions that its automatic evaluation produces (sqrt(x**2)
# is Abs(x) for real x), mapped to the table's, whose derivatives follow
# the conventions above.
_SYMPY_EQUIVALENTS: dict[type, Callable[..., sp.Expr]] = {
    sp.Abs: absolute,
    sp.sign: sign,
    sp.floor: floor,
    sp.ceiling: ceil,
    sp.Heaviside: lambda x, h=sp.S.Half: heaviside(x, h),
    sp.Max: _nested(maximum),
    sp.Min: _nested(minimum),
}


# 1 - f(u) as the function that computes it without cancelling: 1 -
# expit(40) is 0.0 where expit(-40) is 4.2e-18 (the derivative of
# xlog1py(1 - y, -expit(z)), a cross-entropy, is 0/0 at z = 40 without it).
_COMPLEMENTS: dict[type, Callable[[sp.Expr], sp.Expr]] = {
    expit: lambda u: expit(-u),
    ndtr: lambda u: ndtr(-u),
    sp.erf: lambda u: erfc(u),
    erfc: lambda u: sp.erf(u),
}


def _complemented(add: sp.Add) -> sp.Expr:
    """``add`` with one ``c - c*f(u)`` in it written ``c*(1 - f(u))``."""
    constant, rest = add.as_coeff_Add()
    if constant == 0:
        return add
    for term in sp.Add.make_args(rest):
        coefficient, function = term.as_coeff_Mul()
        if coefficient == -constant and type(function) in _COMPLEMENTS:
            complement = _COMPLEMENTS[type(function)](*function.args)
            return rest - term + constant * complement
    return add


def rewritten_by_canonical(node: sp.Basic) -> bool:
    """Whether ``canonical`` may rewrite this node itself (not its parts)."""
    if type(node) in _SYMPY_EQUIVALENTS:
        return True
    if isinstance(node, sp.Pow):
        return bool(node.base.is_zero) and bool(node.exp.free_symbols)
    if isinstance(node, sp.Add) and node.as_coeff_Add()[0] != 0:
        return any(type(t.as_coeff_Mul()[1]) in _COMPLEMENTS
                   for t in node.args)
    return False


def canonical(expr: sp.Basic) -> sp.Basic:
    """``expr`` with SymPy's Abs, sign, Max, ... replaced by the table's
    (and ``0 ** y`` by ``zero_power(y)``, whose derivative is JAX's, and
    ``1 - expit(u)`` by ``expit(-u)``, which does not cancel)."""
    if not isinstance(expr, sp.Basic):
        return expr
    for sympy_function, replacement in _SYMPY_EQUIVALENTS.items():
        if expr.has(sympy_function):
            expr = expr.replace(sympy_function, replacement)
    if expr.has(sp.Pow):
        expr = expr.replace(
            lambda e: isinstance(e, sp.Pow) and e.base.is_zero
            and bool(e.exp.free_symbols),
            lambda e: zero_power(e.exp))
    if expr.has(*_COMPLEMENTS):
        expr = expr.replace(lambda e: isinstance(e, sp.Add), _complemented)
    return expr
