"""Long sums: one more term without rebuilding the sum, and the order the
printer writes the terms in without a quadratic sort key.

SymPy's ``Add.flatten`` splits every term of ``total + term`` into its
number and the rest and multiplies them again (``Mul(c, s)``, cached only
up to SymPy's 1000 entries), so a function that adds one term per statement
pays for n products at its n-th statement: 74 ms at 3000 terms, quadratic
in all. When the term is new to the sum (no term has the same non-numeric
part) and finite and commutative, the sum SymPy builds is the old one with
the term inserted at its sorted place, which ``plus`` builds directly.

``Expr.as_ordered_terms`` (the printer's order) gives every term a dense
exponent vector over all the sum's generators: n terms of n generators
(``cos(k * x)``, k = 1..n) cost n ** 2, 2 s at 3000 terms. ``ordered_terms``
sorts by the same key, compared sparsely.
"""

from __future__ import annotations

import bisect
import functools

import sympy as sp
from sympy.core.exprtools import decompose_power

__all__ = ["Sums", "LONG", "ordered_terms"]

# Sums shorter than this are left to Add.flatten, which is as quick there.
LONG = 16

_ORDER = functools.cmp_to_key(sp.Basic.compare)  # Add's own sort order


class Sums:
    """Long sums and the non-numeric parts of their terms."""

    def __init__(self) -> None:
        self.parts: dict[sp.Add, set[sp.Expr]] = {}

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
        # one per statement, and extended in place, not copied, which was
        # quadratic; a sum extended twice recomputes its parts)
        parts = self.parts.pop(total, None)
        if parts is None:
            parts = {t.as_coeff_Mul()[1] for t in total.args}
        if part in parts:
            return None
        args = total.args
        at = bisect.bisect(args, _ORDER(term), 1 if head.is_Number else 0,
                           key=_ORDER)
        result = sp.Add._from_args(args[:at] + (term,) + args[at:], True)
        parts.add(part)
        self.parts[result] = parts
        return result


def ordered_terms(expr: sp.Add) -> list[sp.Expr]:
    """``expr.as_ordered_terms()``, in time n log n in the number of terms.

    SymPy sorts the terms by their exponents over the sorted generators,
    largest first (lexicographically), then by their non-commutative
    factors and their coefficient. Its exponent vectors are dense; here
    each holds only its nonzero entries, in a key that compares as the
    dense vector does (``_monomial_key``). Short sums, where SymPy also
    has a special case, are SymPy's own.
    """
    if len(expr.args) < LONG:
        return expr.as_ordered_terms()
    decomposed = []
    generators: set[sp.Expr] = set()
    for term in expr.args:
        number, rest = term.as_coeff_Mul()
        coefficient = (complex(number.p) if isinstance(number, sp.Integer)
                       and abs(number.p) < 2 ** 53 else complex(number))
        powers: dict[sp.Expr, int] = {}
        noncommutative: list[sp.Expr] = []
        if rest is not sp.S.One:
            for factor in sp.Mul.make_args(rest):
                if factor.is_number:
                    try:
                        coefficient *= complex(factor)
                    except (TypeError, ValueError):
                        pass
                    else:
                        continue
                if factor.is_commutative:
                    base, exponent = decompose_power(factor)
                    powers[base] = exponent
                    generators.add(base)
                else:
                    noncommutative.append(factor)
        decomposed.append((term, coefficient, powers, noncommutative))
    index = {g: i for i, g in enumerate(
        sorted(generators, key=sp.default_sort_key))}

    def key(item: tuple) -> tuple:
        _, coefficient, powers, noncommutative = item
        re, im = coefficient.real, coefficient.imag
        return (_monomial_key(sorted((index[b], e) for b, e in powers.items())),
                tuple(f.sort_key() for f in noncommutative),
                ((bool(im), im), (re, im)))

    return [item[0] for item in sorted(decomposed, key=key)]


def _monomial_key(entries: list[tuple[int, int]]) -> tuple:
    """A key that sorts sparse exponent vectors (``(generator, exponent)``
    pairs, by generator) as their dense vectors sort, largest first.

    At the first generator where two vectors differ, the larger exponent
    comes first, and a missing entry is a zero: a positive entry comes
    before any entry of a later generator and before the vector's end, a
    negative one after them. So positive entries are (0, generator,
    -exponent), the end is (1,), and negative entries (2, -generator,
    -exponent).
    """
    return tuple((0, i, -e) if e > 0 else (2, -i, -e)
                 for i, e in entries) + ((1,),)
