"""Selections on one condition, in a sum or a product, made one selection.

The derivative of ``np.where(c, a, b)`` is ``where(c, a', b')``, and the
chain rule multiplies it by, or adds it to, what else depends on the same
selection: the gradient of ``y[y > 2.5] = 2.5; np.sum(y * x)`` was
``where(c, 2.5, y) + 2 * x * where(c, 0, 1)``, which printed the
comparison twice, once as a step (``1 - np.heaviside(y - 2.5, 0)``). A
person writes one selection: ``np.where(y > 2.5, 2.5, 2 * x + y)``.

Terms (or factors) that depend on the condition ``c`` are taken into one
``where(c, T, F)``, ``T`` being them where ``c`` holds (each selection on
``c`` in them replaced by its first branch) and ``F`` where it does not.
A branch computes at every point, the points not selected too; so a
selection is replaced only by a branch that is a polynomial in the values
(no quotient, no function), which is finite wherever its values are, and
only where what reads it adds, multiplies or raises it to a whole power:
``t / where(x == 0, 1, x)`` keeps its divisor away from 0 in either
branch, and a branch ``log(x)`` kept out of the points ``x <= 0`` stays
kept out.
"""

from __future__ import annotations

import sympy as sp

from ._rules import where

__all__ = ["merged_selections"]


def merged_selections(expr: sp.Expr) -> sp.Expr:
    """``expr`` with, in each sum and product, the terms (factors) that
    select on one condition made one selection, and a selection inside
    a branch of one on the same condition decided."""
    if not isinstance(expr, sp.Basic) or not expr.has(where):
        return expr
    return _merged(expr)


def _merged(node: sp.Basic) -> sp.Basic:
    if not node.args or not node.has(where):
        return node
    args = tuple(_merged(arg) for arg in node.args)
    if isinstance(node, where):
        # (a selection inside a branch on the same condition is decided)
        condition, a, b = args
        held, failed = (_decided(a, condition, True),
                        _decided(b, condition, False))
        args = (condition, a if held is None else held,
                b if failed is None else failed)
    if args != node.args:
        node = node.func(*args)
    while isinstance(node, (sp.Add, sp.Mul)):
        merged = _one_selection(node)
        if merged is None:
            break
        node = merged
    return node


def _one_selection(node: sp.Expr) -> sp.Expr | None:
    """``node`` (a sum or a product) with its terms that select on one
    condition, two or more, taken into one selection; None if none can
    be."""
    conditions: dict[sp.Basic, list[sp.Expr]] = {}
    for arg in node.args:
        for condition in dict.fromkeys(
                w.args[0] for w in sp.preorder_traversal(arg)
                if isinstance(w, where)):
            conditions.setdefault(condition, []).append(arg)
    for condition, args in conditions.items():
        if len(args) < 2:
            continue
        held = [_decided(arg, condition, True) for arg in args]
        failed = [_decided(arg, condition, False) for arg in args]
        if None in held or None in failed:
            continue  # (taken in, a selection would stay as well)
        rest = [arg for arg in node.args if arg not in args]
        return node.func(where(condition, node.func(*held),
                               node.func(*failed)), *rest)
    return _absorbed(node) if isinstance(node, sp.Mul) else None


def _absorbed(product: sp.Mul) -> sp.Expr | None:
    """``product`` with a step (a selection between 0 and a number)
    taking in the factors that are polynomials (``2 * x * where(c, 0,
    1)`` is ``where(c, 0, 2 * x)``): one selection, not a step times
    them. None if it has no such factor."""
    selection = next((arg for arg in product.args if isinstance(arg, where)
                      and 0 in arg.args[1:] and arg.args[1].is_Number
                      and arg.args[2].is_Number), None)
    if selection is None:
        return None
    taken = [arg for arg in product.args
             if arg is not selection and _polynomial(arg)]
    if not taken:
        return None
    rest = [arg for arg in product.args
            if arg is not selection and arg not in taken]
    factor = sp.Mul(*taken)
    condition, a, b = selection.args
    return sp.Mul(where(condition, a * factor, b * factor), *rest)


def _decided(expr: sp.Expr, condition: sp.Basic, holds: bool
             ) -> sp.Expr | None:
    """``expr`` where ``condition`` holds (or not): each selection on it
    that ``expr`` only adds, multiplies or raises to whole powers
    replaced by its branch, if that is a polynomial (then finite where
    its values are, also at the points not selected); None if there is
    none such. A selection that keeps a divisor or a function's argument
    away from the points not selected (``t / where(c, 1, x)``) stays."""
    if isinstance(expr, where) and expr.args[0] == condition:
        chosen = expr.args[1] if holds else expr.args[2]
        return chosen if _polynomial(chosen) else None
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp >= 0:
        base = _decided(expr.base, condition, holds)
        return None if base is None else base ** expr.exp
    if not isinstance(expr, (sp.Add, sp.Mul)):
        return None
    args = [_decided(arg, condition, holds) for arg in expr.args]
    if all(arg is None for arg in args):
        return None
    return expr.func(*[new if new is not None else old
                       for new, old in zip(args, expr.args)])


def _polynomial(expr: sp.Basic) -> bool:
    """Whether ``expr`` is made of numbers, symbols, sums, products and
    powers by whole numbers 0 or more: finite where its values are."""
    if isinstance(expr, (sp.Number, sp.Symbol)):
        return True
    if isinstance(expr, sp.Pow):
        return expr.exp.is_Integer and expr.exp >= 0 and _polynomial(
            expr.base)
    return isinstance(expr, (sp.Add, sp.Mul)) and all(
        map(_polynomial, expr.args))
