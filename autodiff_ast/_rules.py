"""The rules table: the one place where a primitive is declared.

A primitive is a NumPy, math or builtin callable that autodiff_ast knows how
to differentiate. Its row gives the callables it is recognised by (by object
identity, so ``np.tanh``, ``numpy.tanh`` and ``from numpy import tanh`` are
one primitive), the SymPy expression it lowers to, how generated code spells
it in NumPy code and in plain-Python/math code, and the interval on which the
tests check its derivative. Where SymPy already has the function (sin, exp,
...), SymPy's derivative is used; the others are SymPy functions defined here,
each derivative one line in the table.

Derivative conventions at kinks follow JAX: abs'(0) = 1,
maximum(x, y)' = 0.5 where x == y, rounding functions have derivative 0, and
so has 0.0 ** y with respect to y.
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
import math
import operator
import sys
from dataclasses import dataclass
from typing import Any, Callable

import mpmath
import numpy as np
import sympy as sp
from sympy.core.logic import fuzzy_and
from sympy.logic.boolalg import Boolean

__all__ = ["Primitive", "PRIMITIVES", "primitive_for", "spelling_for",
           "call_form", "canonical", "scipy_module"]


# ---------------------------------------------------------------------------
# SymPy functions that SymPy lacks, or whose SymPy derivative breaks a
# convention (sign' is a DiracDelta there, abs'(0) is 0 there).

def _all_real(self: sp.Function) -> bool | None:
    return fuzzy_and(a.is_real for a in self.args
                        if not isinstance(a, Boolean))


def _elementary(name: str, nargs: int,
                derivatives: Callable[..., tuple[sp.Expr, ...]],
                numeric: Callable[..., float] | None = None,
                mp: Callable[..., Any] | None = None,
                series: Callable[..., sp.Expr] | None = None) -> type:
    """A SymPy function whose partial derivatives are ``derivatives(*args)``.

    ``numeric`` evaluates it at exact numbers (kept symbolic otherwise);
    ``mp`` at floats, with mpmath, for ``evalf`` (the stability checks of
    simplified forms and the tests' exact values); ``series`` is an equal
    expression in SymPy's own functions, for Taylor series (a removable
    singularity of a derivative, as sinc' has at 0).
    """

    def fdiff(self: sp.Function, argindex: int = 1) -> sp.Expr:
        return derivatives(*self.args)[argindex - 1]

    def eval(cls: type, *args: sp.Expr) -> sp.Expr | None:
        if numeric is not None and all(a.is_Rational for a in args):
            value = numeric(*args)
            if value is not None:
                return sp.sympify(value)
        return None

    namespace: dict[str, Any] = {
        "nargs": nargs, "fdiff": fdiff, "eval": classmethod(eval),
        "_eval_is_real": _all_real,
    }
    if mp is not None:
        # SymPy would otherwise look for an mpmath function of the same
        # name, and mpmath.sinc is not NumPy's sinc.
        namespace["_eval_mpmath"] = lambda self: (mp, self.args)
    if series is not None:
        def _eval_nseries(self: sp.Function, x: sp.Symbol, n: int,
                          logx: Any, cdir: Any = 0) -> sp.Expr:
            return series(*self.args)._eval_nseries(x, n, logx, cdir)
        namespace["_eval_nseries"] = _eval_nseries
    return type(name, (sp.Function,), namespace)


def _zero(*args: sp.Expr) -> tuple[sp.Expr, ...]:
    return tuple(sp.S.Zero for _ in args)


expm1 = _elementary("expm1", 1, lambda x: (sp.exp(x),),
                    lambda x: sp.exp(x) - 1 if x == 0 else None)
log1p = _elementary("log1p", 1, lambda x: (1 / (1 + x),),
                    lambda x: 0 if x == 0 else None)
log2 = _elementary("log2", 1, lambda x: (1 / (x * sp.log(2)),),
                   lambda x: 0 if x == 1 else None)
log10 = _elementary("log10", 1, lambda x: (1 / (x * sp.log(10)),),
                    lambda x: 0 if x == 1 else None)
cbrt = _elementary("cbrt", 1, lambda x: (1 / (3 * cbrt(x) ** 2),),
                   lambda x: sp.sign(x) * sp.root(abs(x), 3))
absolute = _elementary("absolute", 1, lambda x: (copysign(1, x),), abs)
sign = _elementary("sign", 1, _zero, sp.sign)
floor = _elementary("floor", 1, _zero, sp.floor)
ceil = _elementary("ceil", 1, _zero, sp.ceiling)
trunc = _elementary("trunc", 1, _zero,
                    lambda x: sp.sign(x) * sp.floor(abs(x)))
rint = _elementary("rint", 1, _zero, lambda x: round(sp.Rational(x)))
copysign = _elementary(
    "copysign", 2, lambda a, b: (copysign(1, a) * copysign(1, b), 0),
    lambda a, b: abs(a) * (1 if b >= 0 else -1))
heaviside = _elementary(
    "heaviside", 2, _zero,
    lambda z, h: 1 if z > 0 else (0 if z < 0 else h))
hypot = _elementary(
    "hypot", 2, lambda x, y: (x / hypot(x, y), y / hypot(x, y)),
    lambda x, y: sp.sqrt(x**2 + y**2))
maximum = _elementary(
    "maximum", 2,
    lambda a, b: (heaviside(a - b, sp.S.Half), heaviside(b - a, sp.S.Half)),
    lambda a, b: max(a, b))
minimum = _elementary(
    "minimum", 2,
    lambda a, b: (heaviside(b - a, sp.S.Half), heaviside(a - b, sp.S.Half)),
    lambda a, b: min(a, b))
logaddexp = _elementary(
    "logaddexp", 2,
    lambda a, b: (sp.exp(a - logaddexp(a, b)), sp.exp(b - logaddexp(a, b))))
floordiv = _elementary("floordiv", 2, _zero,
                       lambda a, b: sp.floor(a / b) if b != 0 else None)
mod = _elementary("mod", 2, lambda a, b: (1, -floordiv(a, b)),
                  lambda a, b: a - b * sp.floor(a / b) if b != 0 else None)
# ``0.0 ** y``: SymPy's d/dy 0**y is 0**y * log(0), nan everywhere. JAX
# and autograd take log(1) for log(0) there, which gives 0 for y >= 0 (and
# 0 * inf = nan for y < 0, where the function itself is inf in NumPy and
# raises ZeroDivisionError on Python floats; we give 0 there too, since
# generated code cannot hold a nan constant and stay differentiable).
zero_power = _elementary("zero_power", 1, _zero, lambda y: sp.S.Zero ** y)
# C's fmod (sign of the dividend) and IEEE 754's remainder (math.remainder:
# the quotient rounded half to even), as JAX differentiates lax.rem.
fmod = _elementary("fmod", 2, lambda a, b: (sp.S.One, -trunc(a / b)),
                   lambda a, b: a - b * trunc(a / b) if b != 0 else None,
                   lambda a, b: mpmath.fmod(a, b))
ieee_remainder = _elementary(
    "ieee_remainder", 2, lambda a, b: (sp.S.One, -rint(a / b)),
    lambda a, b: a - b * rint(a / b) if b != 0 else None,
    lambda a, b: a - b * mpmath.nint(a / b))
logaddexp2 = _elementary(
    "logaddexp2", 2,
    lambda a, b: (2 ** (a - logaddexp2(a, b)), 2 ** (b - logaddexp2(a, b))),
    mp=lambda a, b: mpmath.log(2 ** a + 2 ** b, 2))
# np.sinc is sin(pi x)/(pi x) (mpmath.sincpi; SymPy's sinc has no pi).
# Its derivative's 0/0 at x = 0 is removable: generated code writes its
# Taylor polynomial there (_singular.py), which needs the series.
sinc = _elementary(
    "sinc", 1, lambda x: ((sp.cos(sp.pi * x) - sinc(x)) / x,),
    lambda x: 1 if x == 0 else None, mpmath.sincpi,
    lambda x: sp.sin(sp.pi * x) / (sp.pi * x))
# JAX: fmax(x, y) is where((x > y) | isnan(y), x, y), so x's derivative
# is 1 exactly where fmax(x, y) != y: 0 at a tie (y takes it), 1 where y
# is nan. (maximum splits a tie 0.5/0.5.)
fmax = _elementary(
    "fmax", 2, lambda a, b: (where(sp.Ne(fmax(a, b), b), 1, 0),
                             where(sp.Eq(fmax(a, b), b), 1, 0)),
    lambda a, b: max(a, b))
fmin = _elementary(
    "fmin", 2, lambda a, b: (where(sp.Ne(fmin(a, b), b), 1, 0),
                             where(sp.Eq(fmin(a, b), b), 1, 0)),
    lambda a, b: min(a, b))
# JAX's clip is minimum(hi, maximum(lo, x)): at x == lo or x == hi the
# tie rule of maximum/minimum gives x 0.5 (and the bound the other 0.5).
clip = _elementary(
    "clip", 3,
    lambda x, lo, hi: (
        heaviside(x - lo, sp.S.Half) * heaviside(hi - x, sp.S.Half),
        heaviside(lo - x, sp.S.Half) * heaviside(hi - lo, sp.S.Half),
        heaviside(maximum(x, lo) - hi, sp.S.Half)),
    lambda x, lo, hi: min(max(x, lo), hi))
# nan_to_num: 1 where it returns its argument, 0 at nan and +-inf (JAX).
nan_to_num = _elementary(
    "nan_to_num", 1, lambda x: (where(sp.Eq(nan_to_num(x), x), 1, 0),),
    lambda x: x, lambda x: x)
# Casts keep the dtype the code asked for; for differentiation they are
# the identity.
float32 = _elementary("float32", 1, lambda x: (sp.S.One,), mp=lambda x: x)
float64 = _elementary("float64", 1, lambda x: (sp.S.One,), mp=lambda x: x)

# Special functions. erf, erfinv, gamma and polygamma are SymPy's own;
# erfc is not, since SymPy writes erfc(-x) as 2 - erfc(x), which is 0
# where erfc(-x) is tiny (x = -10: 2e-45).
erfc = _elementary(
    "erfc", 1, lambda x: (-2 * sp.exp(-x ** 2) / sp.sqrt(sp.pi),),
    lambda x: 1 if x == 0 else None, mpmath.erfc)
# math.lgamma and scipy.special.gammaln: log|gamma(x)|, real for x < 0
# too (SymPy's loggamma is complex there).
lgamma = _elementary(
    "lgamma", 1, lambda x: (sp.polygamma(0, x),),
    lambda x: 0 if x in (1, 2) else None,
    lambda x: mpmath.log(abs(mpmath.gamma(x))))
expit = _elementary(
    "expit", 1, lambda x: (expit(x) * expit(-x),),  # no 1 - expit(x):
    lambda x: sp.S.Half if x == 0 else None,       # it cancels for x > 0
    lambda x: 1 / (1 + mpmath.exp(-x)))
logit = _elementary(
    "logit", 1, lambda x: (1 / (x * (1 - x)),),
    lambda x: 0 if x == sp.S.Half else None,
    lambda x: mpmath.log(x / (1 - x)))
ndtr = _elementary(
    "ndtr", 1,
    lambda x: (sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi),),
    lambda x: sp.S.Half if x == 0 else None, mpmath.ncdf)
# erfcx(z) = exp(z**2) * erfc(z), finite where erfc underflows. Its
# derivative 2 z erfcx(z) - 2/sqrt(pi) is written with erfcx(z) factored
# out, so that quotients by erfcx(z) (log_ndtr'') cancel it: where it
# overflows (z < -26.6) they are then 0 instead of inf/inf.
erfcx = _elementary(
    "erfcx", 1,
    lambda z: ((2 * z - 2 / (sp.sqrt(sp.pi) * erfcx(z))) * erfcx(z),),
    lambda z: 1 if z == 0 else None,
    lambda z: mpmath.exp(z ** 2) * mpmath.erfc(z))
# log_ndtr' = pdf/cdf: a 0/0 below x = -38. JAX's exp(logpdf - log_ndtr)
# subtracts two numbers of size x**2/2, so it keeps 7 digits at x = -1e5
# and its derivative none (-7403 for -1). With cdf(x) = exp(-x**2/2) *
# erfcx(-x/sqrt(2)) / 2 the exponentials cancel exactly: every digit of
# the first derivative, 6 of the second at x = -1e5.
log_ndtr = _elementary(
    "log_ndtr", 1,
    lambda x: (sp.sqrt(2 / sp.pi) / erfcx(-x / sp.sqrt(2)),),
    mp=lambda x: mpmath.log(mpmath.ncdf(x)))
# x*log(y) and x*log1p(y), 0 where x == 0 (also at y = 0 or -1), as
# SciPy's; derivatives as JAX's: log(y) and x/y.
xlogy = _elementary(
    "xlogy", 2, lambda x, y: (sp.log(y), x / y),
    lambda x, y: 0 if x == 0 else None,
    lambda x, y: 0 if x == 0 else x * mpmath.log(y))
xlog1py = _elementary(
    "xlog1py", 2, lambda x, y: (log1p(y), x / (1 + y)),
    lambda x, y: 0 if x == 0 else None,
    lambda x, y: 0 if x == 0 else x * mpmath.log1p(y))


class where(sp.Function):
    """``np.where(condition, a, b)``: both branches are differentiated."""

    nargs = 3

    @classmethod
    def eval(cls, condition: sp.Basic, a: sp.Expr,
             b: sp.Expr) -> sp.Expr | None:
        if condition is sp.true or a == b:
            return a
        if condition is sp.false:
            return b
        return None

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        condition, a, b = self.args
        return where(condition, _known(a.diff(s), condition, True),
                     _known(b.diff(s), condition, False))

    def _eval_is_real(self) -> bool | None:
        return _all_real(self)


def _known(expr: sp.Expr, condition: sp.Basic, holds: bool) -> sp.Expr:
    """``expr`` inside the branch of a where where ``condition`` is known to
    hold (or not): a nested selection on the same condition between
    numbers is decided. (Selections of non-numbers stay: they keep the
    branch not taken away from its singularities.)"""
    def decided(node: sp.Basic) -> bool:
        if not isinstance(node, where) or node.args[0] != condition:
            return False
        return bool((node.args[1] if holds else node.args[2]).is_Number)
    return expr.replace(decided,
                        lambda node: node.args[1] if holds else node.args[2])


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
    ``domain`` is where its derivative is tested.
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


def _row(name: str, function: type, numpy: tuple[str, ...],
         math_names: tuple[str, ...] = (), builtin: tuple[str, ...] = (),
         domain: tuple[float, float] = (-3.0, 3.0),
         py_spelling: str | None = None, operator: tuple[str, ...] = (),
         scipy: tuple[str, ...] = (),
         lower: Callable[..., sp.Expr] | None = None) -> Primitive:
    """A row whose SymPy function prints back under its NumPy/math/SciPy
    name (``lower``: how a call builds it, when not simply ``function``)."""
    if py_spelling is None and math_names:
        py_spelling = f"math.{math_names[0]}"
    nargs = int(next(iter(function.nargs)))
    return Primitive(
        name=name, lower=lower or function, numpy=numpy, math=math_names,
        builtin=builtin, sympy_function=function,
        np_spelling=f"np.{numpy[0]}" if numpy else None,
        py_spelling=py_spelling, domain=domain, nargs=nargs,
        operator=operator, scipy=scipy,
        scipy_spelling=f"scipy.special.{scipy[0]}" if scipy else None)


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
            # A ValueError: lowering reports it at the user's call.
            raise ValueError(
                f"the derivative of {spelled} is {derivative}, which only "
                "SciPy provides: install SciPy (pip install "
                "'autodiff-ast[scipy]')")
        return function(*args)
    return lower


def _polygamma(n: sp.Expr, x: sp.Expr) -> sp.Expr:
    """polygamma(n, x); the order n is an integer >= 0 (it may be an
    argument, but it has no derivative)."""
    if n.is_number and not (n.is_Integer and n >= 0):
        raise ValueError(
            f"scipy.special.polygamma(n, x) takes an integer order n >= 0, "
            f"not {n}")
    return sp.polygamma(n, x)


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
    _row("log", sp.log, ("log",), ("log",), domain=(0.1, 4.0)),
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
    _row("hypot", hypot, ("hypot",), ("hypot",)),
    _arithmetic("power", lambda x, y: x ** y, ("power", "pow"), ("pow",),
                ("pow",), nargs=2, domain=(0.2, 3.0), operator=("pow",)),
    _arithmetic("float_power", lambda x, y: x ** y, ("float_power",),
                nargs=2, domain=(0.2, 3.0)),
    _row("maximum", maximum, ("maximum",), (), ("max",), py_spelling="max"),
    _row("minimum", minimum, ("minimum",), (), ("min",), py_spelling="min"),
    _row("logaddexp", logaddexp, ("logaddexp",)),
    _row("floor", floor, ("floor",), ("floor",)),
    _row("ceil", ceil, ("ceil",), ("ceil",)),
    _row("rint", rint, ("rint", "round"), (), ("round",),
         py_spelling="round"),
    _row("trunc", trunc, ("trunc",), ("trunc",)),
    _row("copysign", copysign, ("copysign",), ("copysign",)),
    _row("heaviside", heaviside, ("heaviside",)),
    _row("where", where, ("where",)),
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
    _row("sinc", sinc, ("sinc",)),
    _row("fmax", fmax, ("fmax",)),
    _row("fmin", fmin, ("fmin",)),
    _row("clip", clip, ("clip",)),
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
    _row("log_ndtr", log_ndtr, (), scipy=("log_ndtr",)),
    _row("erfcx", erfcx, (), scipy=("erfcx",)),
    _row("xlogy", xlogy, (), scipy=("xlogy",), domain=(0.2, 3.0)),
    _row("xlog1py", xlog1py, (), scipy=("xlog1py",), domain=(-0.5, 3.0)),
)

# Python operators that lower to these functions; printed as operators.
OPERATOR_FUNCTIONS = {floordiv: "//", mod: "%"}


def _recognised(modules: tuple[tuple[Any, str], ...]
                ) -> dict[object, Primitive]:
    """Each primitive's callables in ``modules`` ((module, field) pairs)."""
    table: dict[object, Primitive] = {}
    for primitive in PRIMITIVES:
        for module, field in modules:
            for name in getattr(primitive, field):
                obj = getattr(module, name, None)
                if obj is not None:
                    table[obj] = primitive
    return table


_BY_OBJECT = _recognised(((np, "numpy"), (math, "math"), (builtins, "builtin"),
                          (operator, "operator")))
_BY_SYMPY = {p.sympy_function: p for p in PRIMITIVES if p.sympy_function}
_BY_NAME = {p.name: p for p in PRIMITIVES}
# SciPy's callables join the table once the user's code has imported
# scipy.special (importing it ourselves would cost every user 0.4 s).
_SCIPY_OBJECTS: set[int] = set()


def _add_scipy() -> None:
    special = sys.modules.get("scipy.special")
    if special is None or _SCIPY_OBJECTS:
        return
    found = _recognised(((special, "scipy"),))
    _BY_OBJECT.update(found)
    _SCIPY_OBJECTS.update(id(obj) for obj in found)


def primitive_for(obj: object) -> Primitive | None:
    """The primitive a Python callable is, or None."""
    try:
        found = _BY_OBJECT.get(obj)
        if found is None and not _SCIPY_OBJECTS and \
                "scipy.special" in sys.modules:
            _add_scipy()
            found = _BY_OBJECT.get(obj)
        return found
    except TypeError:  # unhashable: not a primitive
        return None


def namespace_of(obj: object) -> str | None:
    """'numpy', 'math' or 'scipy.special' for a primitive callable from
    that module."""
    if id(obj) in _SCIPY_OBJECTS:
        return "scipy.special"
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


def canonical(expr: sp.Basic) -> sp.Basic:
    """``expr`` with SymPy's Abs, sign, Max, ... replaced by the table's
    (and ``0 ** y`` by ``zero_power(y)``, whose derivative is JAX's)."""
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
    return expr
