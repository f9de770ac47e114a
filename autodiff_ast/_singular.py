"""Removable singularities: exact values near a 0/0 at zero.

The derivative of ``(exp(x) - 1) / x`` is ``(x*exp(x) - exp(x) + 1) / x**2``:
a 0/0 at x = 0 whose limit (1/2) is perfectly finite, but which floating
point evaluates as nan at 0 and loses every digit to cancellation for tiny
x. Where a derivative of one argument has such a removable singularity at
zero, it is written as its Taylor polynomial near zero and as the formula
elsewhere, switching where the polynomial's truncation error reaches
rounding level:

    np.where(abs(x) < eps, taylor(x), formula(x_away_from_zero))

The formula is evaluated at a safe stand-in (1.0) near zero, so neither
branch divides by zero.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import PoleError
from sympy.polys.polyerrors import PolynomialError

from ._limits import TimeUp, time_limit
from ._rules import canonical, where

__all__ = ["with_removable_singularity"]

_TERMS = 13  # Taylor terms up to x**12
_WIDEST = 0.1  # never switch farther from zero than this
_ROUNDING = 1e-17  # truncation error wanted at the switch, relative
_LARGEST = 80  # operations; larger expressions are left alone
_BUDGET_SECONDS = 1.0
# What SymPy's series raises where it cannot expand: a pole or a branch
# point of a special function at zero (PoleError: digamma(x) / x), a
# function it has no expansion for (NotImplementedError), a coefficient
# that is not a real number (TypeError from float()). Each means only that
# there is no removable singularity to write out.
_NO_EXPANSION = (PoleError, PolynomialError, ValueError, TypeError,
                 NotImplementedError, ArithmeticError, TimeUp)


def with_removable_singularity(expr: sp.Expr) -> sp.Expr:
    """``expr``, with its removable singularity at zero (if it has one)
    replaced by its Taylor polynomial nearby."""
    if len(expr.free_symbols) != 1 or expr.has(where, sp.Piecewise):
        return expr
    (x,) = expr.free_symbols
    # (a sum of n terms has n - 1 operations at least: counting all of a
    # long one would cost more than the whole check)
    if len(sp.Add.make_args(expr)) > _LARGEST + 1 or \
            sp.count_ops(expr) > _LARGEST:
        return expr
    # Only a division by something that vanishes at zero can make a 0/0
    # there (SymPy's series would take minutes on other expressions).
    if not any(p.exp.is_negative and p.base.has(x)
               and p.base.subs(x, 0) == 0 for p in expr.atoms(sp.Pow)):
        return expr
    try:
        with time_limit(_BUDGET_SECONDS):
            taylor = sp.series(expr, x, 0, _TERMS).removeO()
        if not taylor.is_polynomial(x) or taylor.has(sp.log) or taylor == 0:
            return expr  # a pole or a branch point, not removable
        coefficients = sp.Poly(taylor, x).all_coeffs()[::-1]
        leading = max(abs(float(c)) for c in coefficients)
        last = abs(float(coefficients[-1])) or leading * _ROUNDING
    except _NO_EXPANSION:
        return expr
    # Irrational coefficients are written as their values: generated code
    # has no zeta to call (zeta(3) / 3, of gammaln(1 + x) / x), and
    # 0.8224670334241132 reads better than 0.08333333333333333 * np.pi ** 2.
    taylor = sum((c if c.is_Rational else c.evalf(17)) * x ** k
                 for k, c in enumerate(coefficients))
    epsilon = min(_WIDEST, (_ROUNDING * leading / last) ** (1 / (_TERMS - 1)))
    epsilon = float(f"{epsilon:.1g}")  # a round number reads better
    if not _meets(expr, taylor, x, epsilon, leading):
        return expr
    near_zero = sp.Abs(x) < sp.Float(epsilon)
    away = expr.subs(x, where(near_zero, sp.S.One, x))
    return canonical(where(near_zero, sp.horner(taylor, x), away))


_AGREEMENT = 1e-9  # relative to the largest coefficient
_DIGITS = 40


def _meets(expr: sp.Expr, taylor: sp.Expr, x: sp.Symbol, epsilon: float,
           leading: float) -> bool:
    """Whether the polynomial equals the formula where one takes over from
    the other, the formula evaluated with enough digits to survive its
    cancellation. SymPy expands a function it knows only by its
    derivatives through them, and that went wrong: its series of expit(-x)
    had an x**2 term. A formula that cannot be evaluated exactly there is
    left alone."""
    point = sp.Rational(repr(epsilon))
    try:
        exact = expr.subs(x, point).evalf(_DIGITS)
        if not (exact.is_Number and exact.is_finite and exact.is_real):
            return False
        gap = abs(float(taylor.subs(x, point)) - float(exact))
    except _NO_EXPANSION:
        return False
    return gap <= _AGREEMENT * max(leading, abs(float(exact)))
