"""The expression printer of array code: elementwise conditions and branches.

NumPy needs ``np.where`` and ``np.logical_and`` where code on numbers has
``Piecewise``'s ``if`` and ``and``; a product of a large array with factors
that broadcast against it multiplies those first (one pass over the array,
not two); a long ``np.where`` inside another call may be named first.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._array_layout import INLINED_LENGTHS
from ._printer import ExpressionPrinter, _binary, _call, _name

__all__ = ["ArrayPrinter"]


def _common_factor_out(factor: sp.Expr) -> tuple[sp.Number, sp.Expr]:
    """``(c, s)`` with ``c * s == factor``: the rational every term of a
    sum shares (``2 * x - 2 * m`` is ``2 * (x - m)``), else ``(1, factor)``."""
    if not isinstance(factor, sp.Add):
        return sp.S.One, factor
    coefficients = {abs(term.as_coeff_Mul()[0]) for term in factor.args}
    if len(coefficients) != 1:
        return sp.S.One, factor
    (common,) = coefficients
    if not common.is_Rational or common == 1:
        return sp.S.One, factor
    return common, sp.Add(*[term / common for term in factor.args])


class ArrayPrinter(ExpressionPrinter):
    """Conditions and branches elementwise, as NumPy needs them."""

    # Where lines would not fit otherwise, the writer's callback that
    # names an np.where inside another (which computes every argument
    # anyway, so naming it first changes nothing but the line's length).
    hoist: Any = None
    depth = 0

    def piecewise(self, expr: sp.Piecewise) -> ast.expr:
        if self.namespace == "math":  # numbers: a conditional expression
            return super().piecewise(expr)
        self.depth += 1
        try:
            pieces = list(expr.args)
            result = (self.print(pieces.pop().expr)
                      if pieces[-1].cond is sp.true else _name("np.nan"))
            for piece in reversed(pieces):
                self.depth += 1
                result = self.hoisted(result)
                self.depth -= 1
                result = _call("np.where", [self.print(piece.cond),
                                            self.print(piece.expr), result])
        finally:
            self.depth -= 1
        return self.hoisted(result)

    def function(self, expr: sp.Function) -> ast.expr:
        self.depth += 1
        try:
            node = super().function(expr)
        finally:
            self.depth -= 1
        return self.hoisted(node)

    def hoisted(self, node: ast.expr) -> ast.expr:
        """``node``, named first if it is a long np.where inside another
        call and the writer asks for that."""
        if (self.hoist is not None and self.depth
                and isinstance(node, ast.Call)
                and ast.unparse(node.func) == "np.where"
                and len(ast.unparse(node)) > INLINED_LENGTHS[-2]):
            return self.hoist(node)
        return node

    def add(self, expr: sp.Add) -> ast.expr:
        # 0.5 * (a + b) is one pass over an array fewer than 0.5*a + 0.5*b.
        coefficients = {abs(t.as_coeff_Mul()[0]) for t in expr.args}
        if len(coefficients) == 1:
            (coefficient,) = coefficients
            if coefficient.is_Rational and coefficient != 1:
                inner = sp.Add(*[t / coefficient for t in expr.args])
                return self.mul_positive(coefficient, inner)
        return super().add(expr)

    # The shape of an expression, where the writer knows it (None: not
    # known, as in a branch's condition).
    shape_of: Any = None

    def mul_positive(self, coefficient: sp.Number,
                     rest: sp.Expr) -> ast.expr:
        """A product of a large array with factors that broadcast against
        it multiplies those first: ``exp_logits * (total / s)`` with
        ``total`` and ``s`` of shape (n, 1) is one pass over the large
        array, ``exp_logits * total / s`` two."""
        if self.shape_of is None or not self.wastes_passes(rest):
            return super().mul_positive(coefficient, rest)
        factors = [_common_factor_out(f) for f in sp.Mul.make_args(rest)]
        for common, _ in factors:
            coefficient *= common
        factors = [factor for _, factor in factors]
        full = self.shape_of(rest)
        small = [f for f in factors if self.shape_of(f) != full]
        # Two or more small factors (with a coefficient and a scalar count:
        # ``(x - mean) * (2 / x.size)``, one pass over x, not two).
        if len(small) + (coefficient != 1) < 2 or len(small) == len(
                factors):
            return super().mul_positive(coefficient, sp.Mul(*factors))
        large = [f for f in factors if f not in small]
        return _binary(super().mul_positive(sp.S.One, sp.Mul(*large)),
                       ast.Mult(),
                       super().mul_positive(coefficient, sp.Mul(*small)))

    def wastes_passes(self, rest: sp.Expr) -> bool:
        """Whether ``rest`` printed as it is (factors in order, divisors
        last) would apply a small factor to the large array after it is
        formed: a division by a count, or a small factor after a large
        one."""
        ordered = (rest.as_ordered_factors() if isinstance(rest, sp.Mul)
                   else [rest])
        full = self.shape_of(rest)
        seen_large = False
        for factor in ordered:
            small = self.shape_of(factor) != full
            divisor = (isinstance(factor, sp.Pow) and factor.exp.is_Number
                       and factor.exp.is_negative)
            if small and (divisor or seen_large):
                return any(self.shape_of(f) == full for f in ordered)
            seen_large = seen_large or not small
        return False

    def boolean(self, expr: sp.Basic) -> ast.expr:
        if isinstance(expr, (sp.And, sp.Or, sp.Not)) and (
                self.shape_of is None or self.shape_of(expr) == ()):
            # Of numbers (an `if` on scalars, which is where the shape is
            # not known): as Python writes it, `if lo <= k < hi:`.
            return super().boolean(expr)
        if isinstance(expr, (sp.And, sp.Or)):
            spelling = ("np.logical_and" if isinstance(expr, sp.And)
                        else "np.logical_or")
            ordered = sorted(expr.args, key=sp.default_sort_key)
            result = self.print(ordered[0])
            for other in ordered[1:]:
                result = _call(spelling, [result, self.print(other)])
            return result
        if isinstance(expr, sp.Not):
            return _call("np.logical_not", [self.print(expr.args[0])])
        return super().boolean(expr)
