"""Choosing among equal forms of a derivative, for both modes.

Reverse mode (``_backward``) and forward mode (``_forward``) differentiate
the same elementwise regions, and choose among the same candidate forms
by the same measure: the fewest passes over arrays, then the fewest
operations.

Boolean data is 0/1-valued, so an expression ``E(t)`` of boolean ``t``
equals ``t*E(1) + (1 - t)*E(0)``; differentiating that form turns the
log-likelihood of a sigmoid into ``preds - targets``. It is a candidate
only for data whose dtype is bool (generated code is specific to the
dtypes it was generated for).
"""

from __future__ import annotations

import sympy as sp

from ._program import Leaf, Program
from ._simplify import cost

__all__ = ["zero_one_expanded", "fewest_passes", "array_passes"]

_SCALAR = Leaf((), "data")
# A transcendental function costs several passes of arithmetic.
_FUNCTION_PASSES = 4


def zero_one_expanded(program: Program, expr: sp.Expr) -> sp.Expr | None:
    """``expr`` written linearly in each boolean symbol it uses
    non-polynomially; None if there is none."""
    result = expr
    for symbol in sorted(expr.free_symbols, key=lambda s: s.name):
        leaf = program.leaves.get(symbol)
        if leaf is None or not leaf.boolean:
            continue
        if result.is_polynomial(symbol):
            continue
        one, zero = result.subs(symbol, 1), result.subs(symbol, 0)
        if any(v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for v in (one, zero)):
            continue
        result = symbol * one + (1 - symbol) * zero
    return None if result == expr else result


def fewest_passes(program: Program, forms: list[sp.Expr]) -> sp.Expr:
    """The form of these equal expressions that makes the fewest passes
    over arrays (then the fewest operations; the first of equals)."""
    return min(forms, key=lambda f: (array_passes(program, f), cost([f])))


def array_passes(program: Program, expr: sp.Basic) -> int:
    """Operations in ``expr`` whose result is an array."""
    if expr.is_Atom:
        return 0
    inner = sum(array_passes(program, a) for a in expr.args)
    if not any(program.leaves.get(s, _SCALAR).shape
               for s in expr.free_symbols):
        return inner
    if isinstance(expr, sp.Add):
        return inner + len(expr.args) - 1
    if isinstance(expr, sp.Mul):
        # A factor -1 is printed as a subtraction, not a multiplication.
        folded = 1 if expr.as_coeff_Mul()[0] == -1 else 0
        return inner + len(expr.args) - 1 - folded
    if isinstance(expr, sp.Pow) and expr.exp in (2, -1):
        return inner + 1
    return inner + _FUNCTION_PASSES
