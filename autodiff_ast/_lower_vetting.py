"""The lower stage's checks of the values it builds.

Each value an operation builds is put in canonical form (the table's Abs,
sign, ...) and refused, at the user's line, if it is too large written
out, complex or overflowing; only the nodes no earlier step checked are
looked at. A mixin of ``_Runner`` (``_lower``).
"""

from __future__ import annotations

import ast
import math

import sympy as sp

from ._limits import MOST_OPERATIONS, written_out_size
from ._rules import canonical, rewritten_by_canonical

__all__ = ["Vetting"]


class Vetting:
    """Vets the values lowering builds."""

    def vetted(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """``value`` in canonical form (the table's Abs, sign, ...) and
        refused if too large, complex or overflowing, looking only at the
        nodes that no earlier step checked: a function of n statements
        checks each node once, not the whole expression n times."""
        value = self.bounded(value, node)
        fresh = self.unvetted(value)
        if any(rewritten_by_canonical(n) for n in fresh):
            value = canonical(value)
            fresh = self.unvetted(value)
        if value.is_Number or any(n in _UNDEFINED for n in fresh):
            self.real(value, node)
        self.context.vetted.update(fresh)
        return value

    def unvetted(self, value: sp.Basic) -> list[sp.Basic]:
        """The nodes of ``value`` not yet vetted, each once."""
        known, found, stack = self.context.vetted, {}, [value]
        while stack:
            part = stack.pop()
            if part not in known and part not in found:
                found[part] = None
                stack.extend(part.args)
        return list(found)

    def bounded(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """``value``, refused once it is too large written out (before the
        tree walks of the next steps take exponential time)."""
        if written_out_size(value, memo=self.context.sizes) > MOST_OPERATIONS:
            raise self.error(
                node, f"this expression has more than {MOST_OPERATIONS} "
                      "operations when written out: too large to "
                      "differentiate symbolically. Split it into several "
                      "assignments (a large value assigned to a name is "
                      "then used by its name)")
        return value

    def real(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """``value``, refused if it is complex or overflows a float.
        Infinity itself (np.inf, float('inf')) is a float: a bound of
        np.clip, a value returned where the function is infinite."""
        if value.has(sp.I, sp.zoo, sp.nan):
            raise self.error(node, "this gives a complex or undefined value "
                                   "for constant operands (such as log of a "
                                   "negative number, or division by zero, "
                                   "or inf - inf)")
        if value.is_Number and value not in (sp.oo, -sp.oo):
            try:
                finite = math.isfinite(float(value))
            except OverflowError:
                finite = False
            if not finite:
                raise self.error(node, "this constant arithmetic overflows "
                                       "a float")
        return value


# Atoms that make a value complex or undefined (real() says which).
_UNDEFINED = frozenset({sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo})
