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

from ._limits import TimeUp, time_limit
from ._rules import canonical, where

__all__ = ["with_removable_singularity"]

_TERMS = 13  # Taylor terms up to x**12
_WIDEST = 0.1  # never switch farther from zero than this
_ROUNDING = 1e-17  # truncation error wanted at the switch, relative
_LARGEST = 80  # operations; larger expressions are left alone
_BUDGET_SECONDS = 1.0


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
    except (ValueError, TypeError, NotImplementedError, ZeroDivisionError,
            TimeUp):
        return expr
    if not taylor.is_polynomial(x) or taylor.has(sp.log) or taylor == 0:
        return expr  # a pole or a branch point, not removable
    coefficients = sp.Poly(taylor, x).all_coeffs()[::-1]
    leading = max(abs(float(c)) for c in coefficients)
    last = abs(float(coefficients[-1])) or leading * _ROUNDING
    epsilon = min(_WIDEST, (_ROUNDING * leading / last) ** (1 / (_TERMS - 1)))
    epsilon = float(f"{epsilon:.1g}")  # a round number reads better
    near_zero = sp.Abs(x) < sp.Float(epsilon)
    away = expr.subs(x, where(near_zero, sp.S.One, x))
    return canonical(where(near_zero, sp.horner(taylor, x), away))
