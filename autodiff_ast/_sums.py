"""A long sum plus one term, without rebuilding the sum.

SymPy's ``Add.flatten`` splits every term of ``total + term`` into its
number and the rest and multiplies them again (``Mul(c, s)``, cached only
up to SymPy's 1000 entries), so a function that adds one term per statement
pays for n products at its n-th statement: 74 ms at 3000 terms, quadratic
in all. When the term is new to the sum (no term has the same non-numeric
part) and finite and commutative, the sum SymPy builds is the old one with
the term inserted at its sorted place, which ``plus`` builds directly.
"""

from __future__ import annotations

import bisect
import functools

import sympy as sp

__all__ = ["Sums", "LONG"]

# Sums shorter than this are left to Add.flatten, which is as quick there.
LONG = 16

_ORDER = functools.cmp_to_key(sp.Basic.compare)  # Add's own sort order


class Sums:
    """Long sums and the non-numeric parts of their terms."""

    def __init__(self) -> None:
        self.parts: dict[sp.Add, frozenset[sp.Expr]] = {}

    def plus(self, total: sp.Expr, term: sp.Expr) -> sp.Expr | None:
        """``total + term`` built by insertion, or None where only
        Add.flatten knows the answer (like terms to combine, a number, a
        short sum). Both must be finite and real (lowering's checked
        values): infinities absorb terms, which insertion would not."""
        if not (isinstance(total, sp.Add) and len(total.args) >= LONG
                and isinstance(term, sp.Expr)) or term.is_Add \
                or term.is_Number or not term.is_commutative:
            return None
        head = total.args[0]
        if head.is_Number and not head.is_finite:
            return None
        part = term.as_coeff_Mul()[1]
        # (the sum extended is forgotten: one set of parts is kept, not
        # one per statement; a sum extended twice recomputes its parts)
        parts = self.parts.pop(total, None)
        if parts is None:
            parts = frozenset(t.as_coeff_Mul()[1] for t in total.args)
        if part in parts:
            return None
        args = total.args
        at = bisect.bisect(args, _ORDER(term), 1 if head.is_Number else 0,
                           key=_ORDER)
        result = sp.Add._from_args(args[:at] + (term,) + args[at:], True)
        self.parts[result] = parts | {part}
        return result
