"""Simplify stage: choose the cheapest numerically safe form of the outputs.

Candidates are cheap SymPy rewrites (as-is, together, factor, cancel), each
costed *after* common-subexpression elimination, because that is what the
generated code computes (see DESIGN.md: tree op counts pick the wrong
candidate). ``simplify()`` is never used: its time grows without bound and
it trades stable forms for overflowing ones.

Two guards keep a candidate honest: it may not introduce functions that
grow exponentially (exp, sinh, cosh) which the raw form did not have, and it
must agree numerically with the raw form at sample points, and stay finite
wherever the raw form is finite, large magnitudes included.

Before candidates are tried, ratios of exponentials such as the logistic
``exp(x)/(1 + exp(x))`` are rewritten in terms of ``tanh``, which cannot
overflow: ``exp(a) = (1 + tanh(a/2)) / (1 - tanh(a/2))``.
"""

from __future__ import annotations

import time
import warnings
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from ._printer import numeric_function

__all__ = ["simplify", "cost", "stabilize"]

# Total time the candidates of one function may take.
_BUDGET_SECONDS = 0.5

_GROWING = (sp.exp, sp.sinh, sp.cosh)
_CHEAP_OPS = {"ADD": 1, "SUB": 1, "MUL": 1, "NEG": 1, "DIV": 2, "POW": 2}
_FUNCTION_COST = 8


def cost(exprs: Sequence[sp.Expr]) -> int:
    """Operations the generated code performs for ``exprs``, after CSE."""
    replacements, reduced = sp.cse(list(exprs), order="none")
    total = 0
    for expr in [e for _, e in replacements] + list(reduced):
        visual = sp.count_ops(expr, visual=True)
        if visual == 0:
            continue
        for term in sp.Add.make_args(visual):
            count, op = term.as_coeff_Mul()
            total += int(count) * _CHEAP_OPS.get(str(op), _FUNCTION_COST)
    return total


def stabilize(expr: sp.Expr) -> sp.Expr:
    """Rewrite ratios of exponentials with tanh, where that removes overflow.

    For each ``exp(a)`` inside a denominator, substitute
    ``exp(a) = (1 + t)/(1 - t)`` with ``t = tanh(a/2)``; keep the result only
    if it is a polynomial in ``t`` (bounded, since |t| <= 1).
    """
    for power in sorted(expr.atoms(sp.Pow), key=sp.default_sort_key):
        if not (power.exp.is_Number and power.exp.is_negative):
            continue
        for exponential in sorted(power.base.atoms(sp.exp),
                                  key=sp.default_sort_key):
            argument = exponential.args[0]
            if not argument.free_symbols:
                continue
            t = sp.Dummy("t")
            substituted = expr.subs(exponential, (1 + t) / (1 - t))
            if substituted.has(sp.exp(argument)) or not substituted.has(t):
                continue
            rational = sp.cancel(sp.together(substituted))
            numerator, denominator = sp.fraction(rational)
            if denominator.has(t):
                continue
            tanh_form = rational.subs(t, sp.tanh(argument / 2))
            return stabilize(sp.expand(tanh_form) if tanh_form.is_Add
                             else tanh_form)
    return expr


def simplify(exprs: Sequence[sp.Expr]) -> list[sp.Expr]:
    """The cheapest stable rewriting of ``exprs``, all outputs together."""
    raw = [stabilize(e) for e in exprs]
    best, best_cost = raw, cost(raw)
    size = sum(sp.count_ops(e) for e in raw)
    started = time.perf_counter()
    for rewrite, limit in _REWRITES:
        if size > limit or time.perf_counter() - started > _BUDGET_SECONDS:
            continue
        try:
            candidate = [_apply(rewrite, e) for e in raw]
        except (sp.PolynomialError, sp.polys.polyerrors.PolificationFailed,
                TypeError, ValueError, NotImplementedError, RecursionError):
            continue
        candidate_cost = cost(candidate)
        if candidate_cost < best_cost and _is_stable(raw, candidate):
            best, best_cost = candidate, candidate_cost
    return best


def _expand_and_factor_terms(expr: sp.Expr) -> sp.Expr:
    return sp.factor_terms(sp.expand(expr))


# Each rewrite, and the size (SymPy operations) beyond which it is skipped:
# expansion stays cheap on large expressions and undoes the nesting that
# repeated differentiation builds up; rational-function rewrites do not.
_REWRITES: tuple[tuple[Callable[[sp.Expr], sp.Expr], int], ...] = (
    (sp.expand, 4000),
    (_expand_and_factor_terms, 4000),
    (sp.together, 300),
    (sp.factor, 300),
    (sp.cancel, 300),
)


def _apply(rewrite: Callable[[sp.Expr], sp.Expr], expr: sp.Expr) -> sp.Expr:
    if isinstance(expr, sp.Piecewise) or expr.has(sp.Piecewise):
        return expr  # rewrites can merge branches and their conditions
    return rewrite(expr)


def _is_stable(raw: Sequence[sp.Expr], candidate: Sequence[sp.Expr]) -> bool:
    for before, after in zip(raw, candidate):
        for growing in _GROWING:
            if len(after.atoms(growing)) > len(before.atoms(growing)):
                return False
    return _agrees_numerically(raw, candidate)


_MODERATE = (-2.3, -0.7, 0.4, 1.3, 2.9)
_LARGE = (-800.0, -30.0, 30.0, 800.0)
def _agrees_numerically(raw: Sequence[sp.Expr],
                        candidate: Sequence[sp.Expr]) -> bool:
    symbols = sorted(set().union(*(e.free_symbols for e in raw)),
                     key=lambda s: s.name)
    if not symbols:
        return all(abs(complex(sp.N(a - b))) < 1e-12
                   for a, b in zip(raw, candidate))
    try:
        before = numeric_function(raw, symbols)
        after = numeric_function(candidate, symbols)
    except TypeError:  # an expression we cannot print: do not risk it
        return False
    for points, compare_values in ((_MODERATE, True), (_LARGE, False)):
        for shift in range(len(symbols)):
            args = [np.array(np.roll(points, shift + i), dtype=float)
                    for i in range(len(symbols))]
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    expected = [np.broadcast_to(v, args[0].shape).astype(float)
                                for v in before(*args)]
                    actual = [np.broadcast_to(v, args[0].shape).astype(float)
                              for v in after(*args)]
                except Exception:
                    return False
            for e, a in zip(expected, actual):
                finite = np.isfinite(e)
                if np.any(finite & ~np.isfinite(a)):
                    return False
                if compare_values and not np.allclose(
                        a[finite], e[finite], rtol=1e-7, atol=1e-10):
                    return False
    return True
