"""Like terms collected after the common-subexpression pass.

The pass names what several expressions share, which can leave terms
that differ only by a named factor side by side (``t0 * (1 - s) - 2 * s
* t0``); collecting them takes fewer operations (``t0 * (1 - 3 * s)``).
Both writers run it, the array program's and a loop body's.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ._functions import where

__all__ = ["collected_all"]


def collected_all(temporaries: list[tuple[sp.Symbol, sp.Expr]],
                  reduced: list[sp.Expr]) -> dict[Any, Any]:
    """The temporaries' values (by temporary) and the expressions (under
    None) with like terms collected, except where collecting makes a
    factor that two of them would compute (the common-subexpression pass
    has run: they would compute it twice)."""
    values = [v for _, v in temporaries] + list(reduced)
    collected = [_collected(v) for v in values]
    new = [{a for a in c.atoms(sp.Add)} - set(v.atoms(sp.Add))
           if c != v else set() for v, c in zip(values, collected)]
    seen: dict[sp.Expr, int] = {}
    for factors, c in zip(new, collected):
        for factor in factors:  # twice in one expression counts too
            # Equal subtrees, not SymPy's count(), which pattern-matches
            # every node against the factor (minutes on a long program).
            seen[factor] = seen.get(factor, 0) + sum(
                1 for node in sp.preorder_traversal(c) if node == factor)
    # A factor that is the whole of an expression no name holds (a loop's
    # new value, tangent_c = a + b, beside tangent_h = ... * (a + b))
    # would be computed twice too.
    whole = set(reduced)
    kept = [v if any(seen[f] > 1 or f in whole for f in factors) else c
            for v, c, factors in zip(values, collected, new)]
    # A factor collecting made may be a temporary's value: read the name
    # (t = 1 - terms, then ... * (1 - terms) computed it twice).
    owners = [t for t, _ in temporaries] + [None] * len(reduced)
    named = {v: t for t, v in temporaries}
    kept = [k if k == v else k.xreplace(
        {value: name for value, name in named.items() if name != own})
        for k, v, own in zip(kept, values, owners)]
    return ({t: v for (t, _), v in zip(temporaries, kept)}
            | {None: kept[len(temporaries):], (): []})


# A writer writes a function again when its lines do not fit (with less
# inlined), and collects the same expressions again: 5 s of a GRU
# Hessian's 11 before this memo.
_COLLECTED: dict[sp.Expr, sp.Expr] = {}
_MOST_COLLECTED = 8192
# Operations beyond which a sum's like terms are not looked for by
# expanding its terms (collected only where that is cheaper).
_MOST_EXPANDED = 60


def _collected(expr: sp.Expr) -> sp.Expr:
    """``expr`` with like terms that the common-subexpression pass has
    made visible collected (``t * (1 - s) - 2 * s * t`` is ``t * (1 - 3 *
    s)``), where that takes fewer operations."""
    if not isinstance(expr, sp.Expr) or not expr.has(sp.Add):
        return expr
    known = _COLLECTED.get(expr)
    if known is None:
        known = _collected_now(expr)
        if len(_COLLECTED) >= _MOST_COLLECTED:
            _COLLECTED.clear()
        _COLLECTED[expr] = known
    return known


def _collected_now(expr: sp.Expr) -> sp.Expr:
    best = expr
    candidate = _factored_outside_calls(expr)
    if _cost(candidate) < _cost(best):
        best = candidate
    if isinstance(best, sp.Add):
        return _collected_sum(best)
    sums = [f for f in sp.Mul.make_args(best) if isinstance(f, sp.Add)]
    if isinstance(best, sp.Mul) and len(sums) == 1:
        # The sum factor_terms left inside its content (-(a*x + x*(b +
        # c) + d)): collected there, the content kept outside.
        inner = _collected_sum(sums[0])
        if inner != sums[0]:
            best = sp.Mul(*[inner if f is sums[0] else f for f in best.args],
                          evaluate=False)
    return best


def _factored_outside_calls(expr: sp.Expr) -> sp.Expr:
    """``factor_terms(expr)``, leaving the arguments of the functions it
    calls as they are: factor_terms takes a common factor out of every
    sum, also inside a call (np.tanh(1.1 * x + 0.3) read np.tanh(0.1 *
    (11 * x + 3)), which nobody writes). The values a selection chooses
    between (np.where's) are its own sums, factored as any other."""
    calls = {call: sp.Dummy("call") for call in expr.atoms(sp.Function)
             if not isinstance(call, (where, sp.Piecewise))}
    if not calls:
        return sp.factor_terms(expr)
    # (xreplace takes the outermost call it meets: nested ones go along)
    factored = sp.factor_terms(expr.xreplace(calls))
    return factored.xreplace({dummy: call for call, dummy in calls.items()})


def _collected_sum(total: sp.Add) -> sp.Expr:
    """A factor of some of the terms (c * x + c * (2 * x + 1) + c - y is
    c * (3 * x + 2) - y), where factor_terms wants it in all: a symbol
    that is a factor of two terms or more (collect() takes the whole sum
    once per symbol it is asked for)."""
    best: sp.Expr = total
    for symbol in _factor_of_two_terms(total):
        collected = sp.collect(best, symbol)
        # At the same cost where like terms then add up (2 * y * (x - 7)
        # + y is y * (2 * x - 13), as a person writes it).
        cost, before = _cost(collected), _cost(best)
        if cost < before or cost == before and _adds_like_terms(best,
                                                                symbol):
            best = collected
    return best


def _adds_like_terms(total: sp.Expr, symbol: sp.Symbol) -> bool:
    """Whether the terms of ``total`` that ``symbol`` is a factor of,
    divided by it, have like terms among them (2 * (x - 7) and 1); not
    asked of long sums, whose expansion would cost more than it finds."""
    if _cost(total) > _MOST_EXPANDED:
        return False
    rests = [term / symbol for term in sp.Add.make_args(total)
             if symbol in sp.Mul.make_args(term)]
    apart = sum(len(sp.Add.make_args(sp.expand(rest))) for rest in rests)
    return len(sp.Add.make_args(sp.expand(sp.Add(*rests)))) < apart


def _cost(expr: sp.Expr) -> int:
    """Operations as printed: a fraction is one number (0.9 * x + 0.1,
    not 0.1 * (9 * x + 1), though SymPy counts its division)."""
    fractions = {r: sp.Float(r) for r in expr.atoms(sp.Rational)
                 if not r.is_Integer}
    return sp.count_ops(expr.xreplace(fractions) if fractions else expr)


def _factor_of_two_terms(total: sp.Add) -> list[sp.Symbol]:
    """The symbols that are a factor (or a power's base) of two of
    ``total``'s terms or more, by name."""
    seen: dict[sp.Symbol, int] = {}
    for term in total.args:
        bases = {f.base if isinstance(f, sp.Pow) else f
                 for f in sp.Mul.make_args(term)}
        for base in bases:
            if isinstance(base, sp.Symbol):
                seen[base] = seen.get(base, 0) + 1
    return sorted((s for s, n in seen.items() if n > 1), key=str)
