"""Removable singularities: exact values near a 0/0.

The derivative of ``(exp(x) - 1) / x`` is ``(x*exp(x) - exp(x) + 1) / x**2``:
a 0/0 at x = 0 whose limit (1/2) is perfectly finite, but which floating
point evaluates as nan at 0 and loses every digit to cancellation for tiny
x. Where a derivative of one argument has such a removable singularity at
zero, or where a linear denominator vanishes (``log(x) / (x - 1)`` at 1),
it is written as its Taylor polynomial near that point and as the
formula elsewhere, switching where the polynomial's truncation error
reaches rounding level:

    np.where(abs(x - a) < eps, taylor(x - a), formula(x_away_from_a))

The formula is evaluated at a safe stand-in (a + 1) near the point, so
neither branch divides by zero.
"""

from __future__ import annotations

import contextlib

import sympy as sp
from sympy.core.function import PoleError
from sympy.polys.polyerrors import PolynomialError

from ._limits import TimeUp, time_limit
from ._rules import absolute, canonical, where

__all__ = ["with_removable_singularity", "cancelled"]

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


def with_removable_singularity(expr: sp.Expr,
                               limited: bool = True) -> sp.Expr:
    """``expr``, with its removable singularity (if it has one) replaced
    by its Taylor polynomial nearby: at zero, or where a linear
    denominator vanishes (log(x) / (x - 1) at 1).

    SymPy's series gets ``_BUDGET_SECONDS`` of CPU time; not ``limited``,
    it gets what it takes, and a time limit around the call that runs out
    raises: a rule's own small formula is worked out so, once for the
    process (``_functions._exact_near_zero``), and a series cut short
    there would leave every later derivative of the rule nan at 0."""
    if len(expr.free_symbols) != 1 or expr.has(where, sp.Piecewise):
        return expr
    (x,) = expr.free_symbols
    # (a sum of n terms has n - 1 operations at least: counting all of a
    # long one would cost more than the whole check)
    if len(sp.Add.make_args(expr)) > _LARGEST + 1 or \
            sp.count_ops(expr) > _LARGEST:
        return expr
    for point in _vanishing(expr, x):
        # (at zero the series is tried anyway, as it always was)
        if point != 0 and not _bounded_near(expr, x, point):
            continue
        rewritten = _near(expr, x, point, limited)
        if rewritten is not None:
            return rewritten
    return expr


def _vanishing(expr: sp.Expr, x: sp.Symbol) -> list[sp.Rational]:
    """The points where something ``expr`` divides by vanishes: zero, and
    the root of each linear denominator. Only there can a 0/0 be (SymPy's
    series would take minutes on other expressions)."""
    points: set[sp.Rational] = set()
    for power in expr.atoms(sp.Pow):
        if not (power.exp.is_negative and power.base.has(x)):
            continue
        if power.base.subs(x, 0) == 0:
            points.add(sp.S.Zero)
            continue
        line = sp.Poly(power.base, x) if power.base.is_polynomial(x) \
            else None
        if line is not None and line.degree() == 1:
            root = -line.nth(0) / line.nth(1)
            if root.is_Rational:
                points.add(root)
    return sorted(points, key=lambda point: (point != 0, abs(point)))[:2]


def _bounded_near(expr: sp.Expr, x: sp.Symbol, point: sp.Rational) -> bool:
    """Whether ``expr`` stays bounded as it nears ``point``: a cheap test
    that keeps SymPy's series (up to its whole budget) off the poles of
    1 / (x + 1), which every derivative of log(x + 1) has."""
    try:
        near, far = (expr.subs(x, point + step).evalf(_DIGITS)
                     for step in (sp.Rational(1, 10 ** 8),
                                  sp.Rational(1, 100)))
        if not all(v.is_Number and v.is_finite and v.is_real
                   for v in (near, far)):
            return False
        return abs(float(near)) <= 1e3 * (abs(float(far)) + 1)
    except _NO_EXPANSION:
        return False


def _near(expr: sp.Expr, x: sp.Symbol, point: sp.Rational,
          limited: bool) -> sp.Expr | None:
    """``expr`` as its Taylor polynomial near ``point`` and as itself
    elsewhere, or None where it has no removable singularity there (or,
    ``limited``, none found in time)."""
    shifted = expr.subs(x, x + point) if point else expr
    try:
        with (time_limit(_BUDGET_SECONDS) if limited
              else contextlib.nullcontext()):
            taylor = sp.series(shifted, x, 0, _TERMS).removeO()
        if not taylor.is_polynomial(x) or taylor.has(sp.log) or taylor == 0:
            return None  # a pole or a branch point, not removable
        coefficients = sp.Poly(taylor, x).all_coeffs()[::-1]
        leading = max(abs(float(c)) for c in coefficients)
        last = abs(float(coefficients[-1])) or leading * _ROUNDING
    except _NO_EXPANSION as error:
        if isinstance(error, TimeUp) and not limited:
            raise  # (another limit's: not an answer to keep)
        return None
    # Irrational coefficients are written as their values: generated code
    # has no zeta to call (zeta(3) / 3, of gammaln(1 + x) / x), and
    # 0.8224670334241132 reads better than 0.08333333333333333 * np.pi ** 2.
    taylor = sum((c if c.is_Rational else c.evalf(17)) * x ** k
                 for k, c in enumerate(coefficients))
    epsilon = min(_WIDEST, (_ROUNDING * leading / last) ** (1 / (_TERMS - 1)))
    epsilon = float(f"{epsilon:.1g}")  # a round number reads better
    if not _meets(shifted, taylor, x, epsilon, leading):
        return None
    offset = x - point
    near = sp.Abs(offset) < sp.Float(epsilon)
    # The formula is evaluated at a stand-in near the point, so neither
    # branch divides by zero.
    away = expr.subs(x, where(near, point + 1, x))
    return canonical(where(near, sp.horner(taylor, x).subs(x, offset), away))


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


def cancelled(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each removable-singularity form in it (a rule's,
    np.sinc's derivative) written as its formula again where the formula's
    0/0 cancels: d/dx x * sinc(x) is cos(pi * x), not x times a
    selection."""
    if not expr.has(where):
        return expr
    for node in sorted(expr.atoms(where), key=sp.default_sort_key):
        formula = _formula(node)
        if formula is None:
            continue
        candidate = expr.xreplace({node: formula})
        if not any(_vanishes(power.base, node.args[0])
                   for power in candidate.atoms(sp.Pow)
                   if power.exp.is_negative):
            expr = candidate
    return expr


def _formula(node: where) -> sp.Expr | None:
    """The formula of a form ``where(near, taylor, formula(stand-in))``,
    the stand-in ``where(near, number, u)`` put back to ``u``; None for any
    other selection."""
    near, taylor, away = node.args
    for stand_in in away.atoms(where):
        if stand_in.args[0] == near and stand_in.args[1].is_Number:
            formula = away.xreplace({stand_in: stand_in.args[2]})
            return formula if _same_inside(taylor, formula, near) else None
    return None


def _same_inside(taylor: sp.Expr, formula: sp.Expr, near: sp.Basic
                 ) -> bool:
    """Whether the formula equals the polynomial halfway to where the form
    hands over: a removable singularity written out, not a selection of
    the user's own (np.where(abs(x) < 1, 0, np.log(x_safe)))."""
    if not isinstance(near, sp.StrictLessThan) or \
            not isinstance(near.lhs, absolute) or not near.rhs.is_Number:
        return False
    (offset,) = near.lhs.args
    symbols = (taylor - formula).free_symbols
    if symbols != offset.free_symbols or len(symbols) != 1:
        return False
    (x,) = symbols
    try:
        (inside,) = sp.solve(offset - near.rhs / 2, x)
        values = [e.subs(x, inside).evalf(_DIGITS) for e in (taylor, formula)]
        if not all(v.is_Number and v.is_finite and v.is_real for v in values):
            return False
        a, b = (float(v) for v in values)
    except (*_NO_EXPANSION, IndexError):
        return False
    return abs(a - b) <= _AGREEMENT * max(abs(a), abs(b), 1e-300)


def _vanishes(base: sp.Expr, near: sp.Basic) -> bool:
    """Whether ``base`` may vanish at the point ``near`` selects
    (``abs(u - a) < eps``): yes unless ``u`` is linear in one symbol and
    ``base`` is not 0 there."""
    if not isinstance(near, sp.StrictLessThan) or \
            not isinstance(near.lhs, absolute):
        return True
    (offset,) = near.lhs.args
    if len(offset.free_symbols) != 1:
        return True
    (x,) = offset.free_symbols
    if x not in base.free_symbols:
        return False
    if not offset.is_polynomial(x) or sp.Poly(offset, x).degree() != 1:
        return True
    (root,) = sp.solve(offset, x)
    return base.subs(x, root) == 0
