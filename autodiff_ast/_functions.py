"""SymPy functions for the primitives that SymPy lacks, or whose SymPy
derivative breaks a convention (sign' is a DiracDelta there, abs'(0) is 0
there, erfc(-x) becomes 2 - erfc(x), which cancels).

Each is a SymPy function whose partial derivatives are one line; the rules
table (``_rules.py``) maps NumPy, math and SciPy callables to them.
Conventions at kinks follow JAX: abs'(0) = 1, maximum(x, y)' = 0.5 where
x == y, rounding functions have derivative 0, and so has 0.0 ** y with
respect to y.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import mpmath
import sympy as sp
from sympy.core.logic import fuzzy_and, fuzzy_or
from sympy.core.function import Application
from sympy.logic.boolalg import Boolean

__all__ = ["expm1", "log1p", "log2", "log10", "cbrt", "absolute", "sign", "floor", "ceil", "trunc", "rint", "copysign", "heaviside", "hypot", "maximum", "minimum", "logaddexp", "floordiv", "mod", "power_rule_exponent", "zero_power", "fmod", "ieee_remainder", "logaddexp2", "sinc", "fmax", "fmin", "clip", "nan_to_num", "float32", "float64", "erfc", "lgamma", "expit", "logit", "ndtr", "ndtri", "erfcx", "log_ndtr", "xlogy", "xlog1py", "betaln", "entr", "log_expit", "rel_entr", "kl_div", "i0", "i1", "i0e", "i1e", "iv", "ive", "gammainc", "gammaincc", "where", "isnan", "isinf", "isfinite", "signbit", "logical_and", "logical_or", "logical_not", "logical_xor", "truth"]



def _all_real(self: sp.Function) -> bool | None:
    """Real where its arguments are; unknown with an infinite one
    (np.minimum(x, np.inf), np.clip(x, -np.inf, 1), np.where(m, x,
    np.inf) may be finite): SymPy's oo is not real, and a function called
    not real made ``== x`` the constant False."""
    numbers = [a for a in self.args if not isinstance(a, Boolean)]
    if any(a.is_infinite for a in numbers):
        return None
    return fuzzy_and(a.is_real for a in numbers)


def _elementary(name: str, nargs: int,
                derivatives: Callable[..., tuple[sp.Expr, ...]],
                numeric: Callable[..., float] | None = None,
                mp: Callable[..., Any] | None = None,
                series: Callable[..., sp.Expr] | None = None,
                infinite: bool = False,
                **assumptions: Callable[[sp.Function], bool | None]
                ) -> type:
    """A SymPy function whose partial derivatives are ``derivatives(*args)``.

    ``numeric`` evaluates it at exact numbers (kept symbolic otherwise);
    ``mp`` at floats, with mpmath, for ``evalf`` (the stability checks of
    simplified forms and the tests' exact values); ``series`` is an equal
    expression in SymPy's own functions, for Taylor series (a removable
    singularity of a derivative, as sinc' has at 0); ``assumptions`` are
    SymPy's ``_eval_is_...`` methods (``integer=``: whether it is one).
    With ``infinite``, ``numeric`` takes +-oo too (np.inf, a bound of
    np.clip).
    """
    exact = ((lambda a: a.is_Rational or a in (sp.oo, -sp.oo)) if infinite
             else (lambda a: a.is_Rational))

    def fdiff(self: sp.Function, argindex: int = 1) -> sp.Expr:
        return derivatives(*self.args)[argindex - 1]

    def eval(cls: type, *args: sp.Expr) -> sp.Expr | None:
        if numeric is not None and all(exact(a) for a in args):
            value = numeric(*args)
            if value is not None:
                return sp.sympify(value)
        return None

    namespace: dict[str, Any] = {
        "nargs": nargs, "fdiff": fdiff, "eval": classmethod(eval),
        "_eval_is_real": _all_real,
        **{f"_eval_is_{name}": rule for name, rule in assumptions.items()},
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
                    lambda x: sp.exp(x) - 1 if x == 0 else None,
                    series=lambda x: sp.exp(x) - 1)
log1p = _elementary("log1p", 1, lambda x: (1 / (1 + x),),
                    lambda x: 0 if x == 0 else None,
                    series=lambda x: sp.log(1 + x))
log2 = _elementary("log2", 1, lambda x: (1 / (x * sp.log(2)),),
                   lambda x: 0 if x == 1 else None)
log10 = _elementary("log10", 1, lambda x: (1 / (x * sp.log(10)),),
                    lambda x: 0 if x == 1 else None)
cbrt = _elementary("cbrt", 1, lambda x: (1 / (3 * cbrt(x) ** 2),),
                   lambda x: sp.sign(x) * sp.root(abs(x), 3))


def _abs_slope(x: sp.Expr) -> sp.Expr:
    """abs'(x) as JAX takes it: 1 where x >= 0, -0.0 included (not
    copysign(1, x), which is -1 there), else -1; np.where(x >= 0, x, -x)
    has the same derivative."""
    return 2 * heaviside(x, sp.S.One) - 1


absolute = _elementary("absolute", 1, lambda x: (_abs_slope(x),), abs)
sign = _elementary("sign", 1, _zero, sp.sign)
floor = _elementary("floor", 1, _zero, sp.floor)
ceil = _elementary("ceil", 1, _zero, sp.ceiling)
trunc = _elementary("trunc", 1, _zero,
                    lambda x: sp.sign(x) * sp.floor(abs(x)))
rint = _elementary("rint", 1, _zero, lambda x: round(sp.Rational(x)))
copysign = _elementary(
    "copysign", 2, lambda a, b: (_abs_slope(a) * copysign(1, b), 0),
    lambda a, b: abs(a) * (1 if b >= 0 else -1))
heaviside = _elementary(
    "heaviside", 2, _zero,
    lambda z, h: 1 if z > 0 else (0 if z < 0 else h), infinite=True)
hypot = _elementary(
    "hypot", 2, lambda x, y: (x / hypot(x, y), y / hypot(x, y)),
    lambda x, y: sp.sqrt(x**2 + y**2))


def _all_integer(self: sp.Function) -> bool | None:
    return fuzzy_and(a.is_integer for a in self.args)


# What SymPy knows of a maximum or minimum: the derivative of x ** k for
# an integer k >= 0 known only at run time is k * x ** maximum(k - 1, 0),
# and its own derivative needs to know that exponent is one too.
maximum = _elementary(
    "maximum", 2,
    lambda a, b: (heaviside(a - b, sp.S.Half), heaviside(b - a, sp.S.Half)),
    lambda a, b: max(a, b), integer=_all_integer,
    nonnegative=lambda self: fuzzy_or(a.is_nonnegative for a in self.args))
minimum = _elementary(
    "minimum", 2,
    lambda a, b: (heaviside(b - a, sp.S.Half), heaviside(a - b, sp.S.Half)),
    lambda a, b: min(a, b), integer=_all_integer,
    nonnegative=lambda self: fuzzy_and(a.is_nonnegative for a in self.args))
logaddexp = _elementary(
    "logaddexp", 2,
    lambda a, b: (sp.exp(a - logaddexp(a, b)), sp.exp(b - logaddexp(a, b))))
floordiv = _elementary("floordiv", 2, _zero,
                       lambda a, b: sp.floor(a / b) if b != 0 else None)
mod = _elementary("mod", 2, lambda a, b: (1, -floordiv(a, b)),
                  lambda a, b: a - b * sp.floor(a / b) if b != 0 else None)
# The exponent of the power rule's n * x ** (n - 1) for an n known only at
# run time (an argument): n - 1, but 0 at n = 0, where the derivative (of
# x ** 0 = 1) is 0 and 0 * 0.0 ** -1 would be nan (JAX: 0). Printed as
# n - 1 + (n == 0), which keeps Python numbers Python's, as np.where would
# not. Its own derivative is 1, as n - 1's (n = 0 is one point).
power_rule_exponent = _elementary(
    "power_rule_exponent", 1, lambda n: (sp.S.One,),
    lambda n: n - 1 if n != 0 else 0, lambda n: n - 1 if n != 0 else 0,
    integer=_all_integer)
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


def _exact_near_zero(derivative: Callable[[sp.Expr], sp.Expr]
                     ) -> Callable[[sp.Expr], sp.Expr]:
    """``derivative``, whose formula is 0/0 at 0, as the rule writes it:
    its Taylor polynomial near 0 and the formula elsewhere (_singular.py).
    Written so in the rule itself, every derivative taken of it is exact at
    0 too (the polynomial's, where the formula's would again be 0/0),
    whatever the derivative is combined with (a Hessian's terms are
    written apart, each with its own 1 / x**2).
    The form is worked out once, for a placeholder, and kept for the
    process: so its series has no time limit of its own (a busy machine
    must not leave every later derivative of the rule nan at 0)."""
    @functools.cache
    def form() -> tuple[sp.Dummy, sp.Expr, sp.Expr]:
        # (_singular reads the rules table, which reads this module)
        from ._singular import with_removable_singularity
        point = sp.Dummy("x", real=True)
        formula = derivative(point)
        return point, formula, with_removable_singularity(formula,
                                                          limited=False)

    def at(x: sp.Expr) -> sp.Expr:
        point, formula, written = form()
        if not isinstance(written, where):
            return formula.xreplace({point: x})
        near, polynomial, away = written.args
        if _stand_in(x, near, point):
            return formula.xreplace({point: x})
        # sinc(2 * x): SymPy multiplies out each (2 * x) ** 2 of the
        # polynomial, 4 * x ** 2 * (4 * x ** 2 * ...); its coefficients
        # take the 2 instead.
        scale, rest = x.as_coeff_Mul()
        if scale != 1:
            polynomial = sp.horner(sp.expand(
                polynomial.xreplace({point: scale * point})))
        return where(near.xreplace({point: x}),
                     polynomial.xreplace({point: rest}),
                     away.xreplace({point: x}))
    at.form = form  # type: ignore[attr-defined]
    return at


def _stand_in(x: sp.Expr, near: sp.Basic, point: sp.Dummy) -> bool:
    """Whether ``x`` is the stand-in of a form like ``_exact_near_zero``'s,
    ``where(near(y), a, y)`` with ``a`` not near: never near itself. The
    derivative of the formula's branch (sinc at the stand-in) then needs
    no second selection, which could never choose its polynomial. (The
    condition may have been read back from generated code, its bound an
    exact 7/100 for the Float 0.07.)"""
    if not isinstance(x, where) or near.xreplace({point: x.args[1]}) \
            is not sp.false:
        return False
    condition, expected = x.args[0], near.xreplace({point: x.args[2]})
    return (type(condition) is type(expected)
            and condition.lhs == expected.lhs and condition.rhs.is_Number
            and float(condition.rhs) == float(expected.rhs))


# np.sinc is sin(pi x)/(pi x) (mpmath.sincpi; SymPy's sinc has no pi).
# Its derivative's 0/0 at x = 0 is removable (JAX: 0 there, and -pi**2/3
# for the second); the Taylor polynomial needs the series.
_sinc_slope = _exact_near_zero(lambda x: (sp.cos(sp.pi * x) - sinc(x)) / x)
sinc = _elementary(
    "sinc", 1, lambda x: (_sinc_slope(x),),
    lambda x: 1 if x == 0 else None, mpmath.sincpi,
    lambda x: sp.sin(sp.pi * x) / (sp.pi * x))
# JAX: fmax(x, y) is where((x > y) | isnan(y), x, y), so x's derivative
# is 1 exactly where fmax(x, y) != y: 0 at a tie (y takes it), 1 where y
# is nan. (maximum splits a tie 0.5/0.5.) The 1 is a float: np.where of
# two ints would make the derivative an integer array.
fmax = _elementary(
    "fmax", 2, lambda a, b: (where(sp.Ne(fmax(a, b), b), sp.Float(1), 0),
                             where(sp.Eq(fmax(a, b), b), sp.Float(1), 0)),
    lambda a, b: max(a, b))
fmin = _elementary(
    "fmin", 2, lambda a, b: (where(sp.Ne(fmin(a, b), b), sp.Float(1), 0),
                             where(sp.Eq(fmin(a, b), b), sp.Float(1), 0)),
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
    lambda x: 1 if x == 0 else None, mpmath.erfc, sp.erfc)
# math.lgamma and scipy.special.gammaln: log|gamma(x)|, real for x < 0
# too (SymPy's loggamma is complex there).
lgamma = _elementary(
    "lgamma", 1, lambda x: (sp.polygamma(0, x),),
    lambda x: 0 if x in (1, 2) else None,
    lambda x: mpmath.log(abs(mpmath.gamma(x))), sp.loggamma)
# (The series are SymPy's own functions: its generic expansion of these,
# through their derivatives, takes seconds, and for expit(-x) is wrong.)
expit = _elementary(
    "expit", 1, lambda x: (expit(x) * expit(-x),),  # no 1 - expit(x):
    lambda x: sp.S.Half if x == 0 else None,       # it cancels for x > 0
    lambda x: 1 / (1 + mpmath.exp(-x)), lambda x: 1 / (1 + sp.exp(-x)))
logit = _elementary(
    "logit", 1, lambda x: (1 / (x * (1 - x)),),
    lambda x: 0 if x == sp.S.Half else None,
    lambda x: mpmath.log(x / (1 - x)), lambda x: sp.log(x / (1 - x)))
ndtr = _elementary(
    "ndtr", 1,
    lambda x: (sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi),),
    lambda x: sp.S.Half if x == 0 else None, mpmath.ncdf,
    lambda x: (1 + sp.erf(x / sp.sqrt(2))) / 2)
# The inverse of ndtr: its derivative is 1 / ndtr'(ndtri(q)).
ndtri = _elementary(
    "ndtri", 1,
    lambda q: (sp.sqrt(2 * sp.pi) * sp.exp(ndtri(q) ** 2 / 2),),
    lambda q: 0 if q == sp.S.Half else None,
    lambda q: mpmath.sqrt(2) * mpmath.erfinv(2 * q - 1),
    lambda q: sp.sqrt(2) * sp.erfinv(2 * q - 1))
# erfcx(z) = exp(z**2) * erfc(z), finite where erfc underflows. Its
# derivative 2 z erfcx(z) - 2/sqrt(pi) is written with erfcx(z) factored
# out, so that quotients by erfcx(z) (log_ndtr'') cancel it: where it
# overflows (z < -26.6) they are then 0 instead of inf/inf.
erfcx = _elementary(
    "erfcx", 1,
    lambda z: ((2 * z - 2 / (sp.sqrt(sp.pi) * erfcx(z))) * erfcx(z),),
    lambda z: 1 if z == 0 else None,
    lambda z: mpmath.exp(z ** 2) * mpmath.erfc(z),
    lambda z: sp.exp(z ** 2) * sp.erfc(z))
# log_ndtr' = pdf/cdf: a 0/0 below x = -38. JAX's exp(logpdf - log_ndtr)
# subtracts two numbers of size x**2/2, so it keeps 7 digits at x = -1e5
# and its derivative none (-7403 for -1). With cdf(x) = exp(-x**2/2) *
# erfcx(-x/sqrt(2)) / 2 the exponentials cancel exactly: every digit of
# the first derivative, 6 of the second at x = -1e5.
log_ndtr = _elementary(
    "log_ndtr", 1,
    lambda x: (sp.sqrt(2 / sp.pi) / erfcx(-x / sp.sqrt(2)),),
    mp=lambda x: mpmath.log(mpmath.ncdf(x)),
    series=lambda x: sp.log((1 + sp.erf(x / sp.sqrt(2))) / 2))
# x*log(y) and x*log1p(y), 0 where x == 0 (also at y = 0 or -1), as
# SciPy's; derivatives as JAX's: log(y) and x/y.
xlogy = _elementary(
    "xlogy", 2, lambda x, y: (sp.log(y), x / y),
    lambda x, y: 0 if x == 0 else None,
    lambda x, y: 0 if x == 0 else x * mpmath.log(y),
    lambda x, y: x * sp.log(y))
xlog1py = _elementary(
    "xlog1py", 2, lambda x, y: (log1p(y), x / (1 + y)),
    lambda x, y: 0 if x == 0 else None,
    lambda x, y: 0 if x == 0 else x * mpmath.log1p(y),
    lambda x, y: x * sp.log(1 + y))


def _product_where_nonzero(function: type,
                           log: Callable[[sp.Expr], sp.Expr]) -> None:
    """``function(x, y)`` is ``x * log(y)`` where x is a number other than
    0 (xlogy(2, mu) is 2 log(mu), which SymPy expands and simplifies)."""
    numeric = function.eval

    def eval(cls: type, x: sp.Expr, y: sp.Expr) -> sp.Expr | None:
        if x.is_number and x.is_zero is False:
            return x * log(y)
        return numeric(x, y)

    function.eval = classmethod(eval)


_product_where_nonzero(xlogy, sp.log)
_product_where_nonzero(xlog1py, log1p)

# log|B(a, b)|, by SciPy without the cancellation of three gammaln's.
betaln = _elementary(
    "betaln", 2, lambda a, b: (sp.polygamma(0, a) - sp.polygamma(0, a + b),
                               sp.polygamma(0, b) - sp.polygamma(0, a + b)),
    mp=lambda a, b: mpmath.log(abs(mpmath.beta(a, b))),
    series=lambda a, b: sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b))
# -x log(x), 0 at 0 (-inf below, where it has no derivative).
entr = _elementary(
    "entr", 1, lambda x: (-sp.log(x) - 1,),
    lambda x: 0 if x in (0, 1) else None,
    lambda x: 0 if x == 0 else -x * mpmath.log(x),
    lambda x: -x * sp.log(x))
# log(expit(x)), finite where expit(x) underflows; its derivative is
# expit(-x), not 1 - expit(x), which cancels for x > 0.
log_expit = _elementary(
    "log_expit", 1, lambda x: (expit(-x),),
    mp=lambda x: -mpmath.log1p(mpmath.exp(-x)),
    series=lambda x: -sp.log(1 + sp.exp(-x)))

# x log(x / y) and x log(x / y) - x + y, 0 and y at x = 0 (y >= 0), as
# SciPy's. Their derivatives in x at x = 0 are JAX's, 0 and -1 (rel_entr
# is constant there; kl_div is rel_entr - x + y), not the one-sided -inf
# that would end an optimisation of a distribution with an empty bin;
# the log is taken of 1 there, so the branch not selected computes no
# log(0).
def _log_ratio_plus(x: sp.Expr, y: sp.Expr, plus: int) -> sp.Expr:
    """log(x / y) + plus where x is not 0, and plus - 1 where it is."""
    empty = sp.Eq(x, 0)
    return where(empty, plus - 1, sp.log(where(empty, y, x) / y) + plus)


rel_entr = _elementary(
    "rel_entr", 2, lambda x, y: (_log_ratio_plus(x, y, 1), -x / y),
    lambda x, y: (0 if x == 0 and y >= 0
                  else x * sp.log(x / y) if x > 0 and y > 0 else None),
    lambda x, y: 0 if x == 0 else x * mpmath.log(x / y),
    lambda x, y: x * sp.log(x / y))
kl_div = _elementary(
    "kl_div", 2, lambda x, y: (_log_ratio_plus(x, y, 0), 1 - x / y),
    lambda x, y: (y if x == 0 and y >= 0
                  else x * sp.log(x / y) - x + y if x > 0 and y > 0
                  else None),
    lambda x, y: y if x == 0 else x * mpmath.log(x / y) - x + y,
    lambda x, y: x * sp.log(x / y) - x + y)


def _in_x_only(function: type) -> type:
    """``function(a, x)``, whose derivative in its first argument (a
    Bessel function's order, an incomplete gamma function's shape) has no
    closed form: it stays an unresolved derivative, which the transforms
    refuse at the user's line, never 0."""
    derivative_in_x = function.fdiff

    def fdiff(self: sp.Function, argindex: int = 1) -> sp.Expr:
        if argindex == 1:
            return sp.Function.fdiff(self, argindex)
        return derivative_in_x(self, argindex)

    function.fdiff = fdiff
    return function


def _bessel(name: str, scaled: bool, orders: tuple[type, type]) -> type:
    """A modified Bessel function of the first kind, iv(v, x), or its
    exponentially scaled form ive(v, x) = exp(-|x|) iv(v, x), finite
    where iv overflows. Its derivative in x is (f(v-1, x) + f(v+1, x))/2
    (minus sign(x) f(v, x), scaled: |x|' is sign(x), 0 at 0 as JAX's),
    exact at 0 too, where i1(x)/x would be 0/0. Orders 0 and 1 (and -1,
    as I_-n = I_n) are ``orders``: i0 and i1, or i0e and i1e."""
    def derivative(v: sp.Expr, x: sp.Expr) -> tuple[None, sp.Expr]:
        mean = (function(v - 1, x) + function(v + 1, x)) / 2
        return None, mean - sign(x) * function(v, x) if scaled else mean

    def mp(v: Any, x: Any) -> Any:
        value = mpmath.besseli(v, x)
        return mpmath.exp(-abs(x)) * value if scaled else value

    def series(v: sp.Expr, x: sp.Expr) -> sp.Expr:
        value = sp.besseli(v, x)
        return sp.exp(-sp.Abs(x)) * value if scaled else value

    def order(v: sp.Expr, x: sp.Expr) -> sp.Expr | None:
        if v.is_Integer and abs(v) <= 1:
            return orders[int(abs(v))](x)
        if v.is_Integer and v < 0:
            return function(-v, x)
        return None

    function = _in_x_only(_elementary(name, 2, derivative, mp=mp,
                                      series=series))
    function.eval = classmethod(lambda cls, v, x: order(v, x))
    return function


# i0' = i1 and i1' = (i0 + iv(2, x)) / 2 (iv's rule): exact at 0; the
# scaled forms' derivatives keep the scaling, finite for large |x|.
i0 = _elementary("i0", 1, lambda x: (i1(x),),
                 lambda x: 1 if x == 0 else None,
                 lambda x: mpmath.besseli(0, x),
                 lambda x: sp.besseli(0, x))
i1 = _elementary("i1", 1, lambda x: ((i0(x) + iv(2, x)) / 2,),
                 lambda x: 0 if x == 0 else None,
                 lambda x: mpmath.besseli(1, x),
                 lambda x: sp.besseli(1, x))
i0e = _elementary("i0e", 1, lambda x: (i1e(x) - sign(x) * i0e(x),),
                  lambda x: 1 if x == 0 else None,
                  lambda x: mpmath.exp(-abs(x)) * mpmath.besseli(0, x),
                  lambda x: sp.exp(-sp.Abs(x)) * sp.besseli(0, x))
i1e = _elementary("i1e", 1,
                  lambda x: ((i0e(x) + ive(2, x)) / 2 - sign(x) * i1e(x),),
                  lambda x: 0 if x == 0 else None,
                  lambda x: mpmath.exp(-abs(x)) * mpmath.besseli(1, x),
                  lambda x: sp.exp(-sp.Abs(x)) * sp.besseli(1, x))
iv = _bessel("iv", False, (i0, i1))
ive = _bessel("ive", True, (i0e, i1e))


def _incomplete_gamma_density(a: sp.Expr, x: sp.Expr) -> sp.Expr:
    """d/dx of the regularized lower incomplete gamma function: the gamma
    density x**(a-1) exp(-x) / gamma(a), through logs where a is known at
    run time only (gamma(a) overflows at a = 172, where the density is
    still a number). Where a is a number, SymPy writes it as a power
    (x * exp(-x) for a = 2), which overflows for a above about 140."""
    return sp.exp(xlogy(a - 1, x) - x - lgamma(a))


# The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P.
gammainc = _in_x_only(_elementary(
    "gammainc", 2, lambda a, x: (None, _incomplete_gamma_density(a, x)),
    lambda a, x: 0 if x == 0 and a > 0 else None,
    lambda a, x: mpmath.gammainc(a, 0, x, regularized=True)))
gammaincc = _in_x_only(_elementary(
    "gammaincc", 2, lambda a, x: (None, -_incomplete_gamma_density(a, x)),
    lambda a, x: 1 if x == 0 and a > 0 else None,
    lambda a, x: mpmath.gammainc(a, x, mpmath.inf, regularized=True)))


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
        return self.selecting(self.args[1].diff(s), self.args[2].diff(s))

    def selecting(self, da: sp.Expr, db: sp.Expr) -> sp.Expr:
        """The derivative, from its branches' (``da``, ``db``): the
        differentiate stage passes its own, which follow the power rule
        where SymPy's n * x ** n / x is nan at 0."""
        condition = self.args[0]
        return where(condition, _known(_by_horner(da), condition, True),
                     _known(_by_horner(db), condition, False))

    def _eval_is_real(self) -> bool | None:
        return _all_real(self)

    def _eval_is_commutative(self) -> bool:
        # A number, whatever its condition (a relation, which SymPy does
        # not call commutative). Taken for a non-commuting factor, it kept
        # a product's other factors apart: the derivative of
        # where(...) ** 2 was where(...) ** 2 * d * where(...) ** -1, nan
        # where the selection is 0.
        return True


def _by_horner(expr: sp.Expr) -> sp.Expr:
    """A polynomial in one variable with float coefficients (a Taylor
    polynomial of _singular.py's, differentiated) by Horner's rule, as the
    polynomial was written: the product rule's terms of a Horner form keep
    like terms apart, over a line of 128 characters at order 2."""
    if not expr.has(sp.Float) or len(expr.free_symbols) != 1:
        return expr
    if not expr.is_polynomial(*expr.free_symbols):
        return expr
    return sp.horner(sp.expand(expr))


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


# -- predicates: conditions on a number ---------------------------------------
# np.isnan, np.isinf, np.isfinite and np.signbit are true or false, so as
# numbers (1 or 0, through where(p, 1, 0)) and as conditions of np.where
# they are constant to differentiation. They stay calls on symbols: SymPy
# takes real symbols to be finite, which would make isnan(x) false, and
# the derivative of np.where(np.isnan(x), 0.0, x) at nan is JAX's 0.

def _predicate(name: str, holds: Callable[[float], bool]) -> type:
    """A SymPy condition ``name(x)``, decided at numbers by ``holds``."""

    def eval(cls: type, x: sp.Basic) -> sp.Basic | None:
        if isinstance(x, sp.Number):
            return sp.true if holds(float(x)) else sp.false
        return None

    # Not a BooleanFunction, whose arguments SymPy's logic simplification
    # takes for conditions (it simplified isnan(x) to True).
    return type(name, (Application, Boolean), {
        "nargs": 1, "eval": classmethod(eval),
        "__module__": __name__,
    })


def _connective(name: str, logic: type) -> type:
    """A SymPy condition ``name(a, ...)`` that prints as NumPy's call
    (``np.logical_and(a, b)``, which takes arrays, where ``a and b`` does
    not), and is SymPy's ``logic`` where that decides it (``Not(x > 3)``
    is ``x <= 3``; ``And(c, True)`` is ``c``)."""

    def eval(cls: type, *args: sp.Basic) -> sp.Basic | None:
        decided = logic(*args)
        return None if isinstance(decided, logic) else decided

    return type(name, (Application, Boolean), {
        "nargs": 1 if logic is sp.Not else 2, "eval": classmethod(eval),
        "__module__": __name__,
    })


def truth(value: sp.Basic) -> sp.Basic:
    """``value`` as a condition: a condition used as a number (``where(c,
    1, 0)``) is ``c`` again, and a number is true where it is not 0, as
    NumPy's logical functions take it."""
    if isinstance(value, where) and value.args[1:] == (1, 0):
        return value.args[0]
    if isinstance(value, sp.Expr):  # (a Symbol is also a Boolean)
        return sp.Ne(value, 0)
    return value


logical_and = _connective("logical_and", sp.And)
logical_or = _connective("logical_or", sp.Or)
logical_not = _connective("logical_not", sp.Not)
logical_xor = _connective("logical_xor", sp.Xor)
isnan = _predicate("isnan", math.isnan)
isinf = _predicate("isinf", math.isinf)
isfinite = _predicate("isfinite", math.isfinite)
signbit = _predicate("signbit", lambda x: math.copysign(1.0, x) < 0)
