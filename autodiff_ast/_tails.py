"""Tail forms: ratios of exponentials that keep every digit in both tails.

Softplus, the logistic function, tanh and their derivatives are rational
functions of exp(a) for some argument a (as are tanh, sinh and cosh of
multiples of a). Written as they come they overflow (exp(1000)) or cancel:
``1 - tanh(x)**2`` is 0 at x = 20 instead of 1.7e-17, and
``0.5*tanh(x/2) + 0.5`` keeps 4 digits at x = -30. Here such a ratio is
written as a polynomial in t = tanh(a/2), |t| <= 1, whose only factors that
can cancel, 1 + t (as a -> -inf) and 1 - t (as a -> +inf), are computed
from e = exp(-|a|) <= 1:

    1 - t**2 = 4*e / (1 + e)**2
    1 + t    = 2*exp(min(a, 0)) / (1 + e)     (twice the logistic of a)
    1 - t    = 2*exp(-max(a, 0)) / (1 + e)

Each is within a few rounding errors of the true value for every a, none
overflows, and what is left of the polynomial has no zero at t = +-1.

The next derivative, read back from such code, has |a|, min(a, 0),
max(a, 0) and their derivatives (copysign, heaviside) in it. Those are
resolved on each side of a = 0 first; where both sides are the same
function of exp(a), that function replaces them, so every order starts
again from plain exponentials and the forms above do not pile up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from sympy.polys.polyerrors import PolynomialError

from ._limits import TimeUp, time_limit
from ._rules import (absolute, copysign, expm1, heaviside, logaddexp,
                     maximum, minimum, sign, where)

__all__ = ["stabilize", "exact_differences", "CANCELLING"]

_HYPERBOLIC = (sp.exp, sp.tanh, sp.sinh, sp.cosh)
# The functions of ``exact_differences``' identities.
CANCELLING = (logaddexp, expm1)
_SIGNED = (absolute, minimum, maximum, copysign, heaviside, sign, where)
# Operations beyond which a ratio (or a difference of the two sides of
# a = 0) is left as it is: cancel grows fast with size.
_LARGEST = 150
_SECONDS = 1.0
_FAILURES = (PolynomialError, sp.polys.polyerrors.PolificationFailed,
             sp.polys.polyerrors.GeneratorsNeeded, TypeError, ValueError,
             NotImplementedError, RecursionError, ZeroDivisionError)


def stabilize(expr: sp.Expr, tails: bool = True) -> sp.Expr:
    """``expr`` with its ratios of exponentials in tail forms (above).

    With ``tails`` False, a polynomial in tanh stays as it is even where it
    cancels (``1 - tanh(x)**2``): it never overflows, and code that has
    the tanh at hand already computes it with two cheap operations where
    the tail form needs an exp (an array backward pass, whose gradient
    sums such terms, may prefer that). At a number, passes over a program
    take the tail forms: there an exp costs little next to the call.
    """
    if not isinstance(expr, sp.Expr) or not expr.has(*_HYPERBOLIC):
        return expr
    if expr.has(where, sp.Piecewise):
        # Each value a selection (an `if`, np.where) takes, on its own:
        # the ratio of exponentials in one branch is a term of no sum.
        # Held apart from the rest, whose pass would take the tail forms
        # made in them apart again.
        held: dict[sp.Symbol, sp.Basic] = {}
        rest = _selections_held(expr, tails, held)
        return stabilize(rest, tails).xreplace(held)
    expr = exact_differences(expr)
    try:
        with time_limit(_SECONDS):
            expr = _unfolded(expr)
            for line in _lines(expr):
                expr = _rewritten(expr, line, tails)
    except TimeUp:
        pass  # every step is an identity: what is done so far stands
    return expr


def _selections_held(expr: sp.Basic, tails: bool,
                     held: dict[sp.Symbol, sp.Basic]) -> sp.Basic:
    """``expr`` with each ``where`` and ``Piecewise`` in it (outermost
    ones) a symbol that ``held`` maps to it, its values stabilized."""
    if isinstance(expr, (where, sp.Piecewise)):
        if isinstance(expr, where):
            condition, chosen, other = expr.args
            selection = where(condition, stabilize(chosen, tails),
                              stabilize(other, tails))
        else:
            selection = sp.Piecewise(*[(stabilize(value, tails), condition)
                                       for value, condition in expr.args])
        symbol = sp.Dummy("selection")
        held[symbol] = selection
        return symbol
    if not expr.args or not expr.has(where, sp.Piecewise):
        return expr
    return expr.func(*[_selections_held(a, tails, held) for a in expr.args])


def exact_differences(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the differences that cancel where their terms grow
    written as the values they are (below)."""
    if not isinstance(expr, sp.Expr):
        return expr
    if expr.has(logaddexp):  # (the identities of CANCELLING)
        expr = expr.replace(lambda node: node.is_Add, _complemented)
        expr = expr.replace(_has_exponentials, _one_exponential)
    if expr.has(expm1):
        expr = expr.replace(lambda node: node.is_Add, _without_one)
        expr = expr.replace(lambda node: node.is_Mul, _over_expm1_squared)
    return expr


def _complemented(total: sp.Add) -> sp.Expr:
    """``total`` with ``1 - exp(a - logaddexp(a, b))``, which cancels as
    a grows (a softplus' second derivative from 30 on), written as the
    ``exp(b - logaddexp(a, b))`` it is; ``exp(a - logaddexp(a, b)) - 1``
    (log-sigmoid's, from -30 down) as ``-exp(b - logaddexp(a, b))``."""
    terms = list(total.args)
    for one in (sp.S.One, sp.S.NegativeOne):
        if one not in terms:
            continue
        for term in terms:
            power = -term * one  # exp(a - logaddexp(a, b)), if it is one
            if not isinstance(power, sp.exp):
                continue
            exponent = power.args[0]
            for pair in exponent.atoms(logaddexp):
                a, b = pair.args
                other = b if exponent == a - pair else (
                    a if exponent == b - pair else None)
                if other is not None:
                    terms.remove(one)
                    terms.remove(term)
                    return sp.Add(*terms, one * sp.exp(other - pair))
    return total


def _has_exponentials(node: sp.Basic) -> bool:
    return node.is_Mul and sum(isinstance(f, sp.exp)
                               for f in node.args) > 1


def _one_exponential(product: sp.Mul) -> sp.Expr:
    """``product`` with its exponentials multiplied into one: the
    complement above makes ``exp(-L) * exp(z - L)``, two calls where
    ``exp(z - 2*L)`` is one (and the product of two can overflow to
    inf * 0 where the one is finite)."""
    powers = [f for f in product.args if isinstance(f, sp.exp)]
    rest = [f for f in product.args if not isinstance(f, sp.exp)]
    return sp.Mul(*rest, sp.exp(sp.Add(*[p.args[0] for p in powers])))


def _without_one(total: sp.Add) -> sp.Expr:
    """``total`` with ``c * expm1(a) - c * exp(a)`` written as the ``-c``
    it is: computed, the difference is 0 or noise from a = 37 on (the
    softplus inverse's second derivative then has the wrong sign)."""
    terms = list(total.args)
    for term in terms:
        coefficient, rest = term.as_coeff_Mul()
        for factor in sp.Mul.make_args(rest):
            if not isinstance(factor, expm1):
                continue
            others = sp.Mul(*[f for f in sp.Mul.make_args(rest)
                              if f is not factor])
            twin = -coefficient * others * sp.exp(factor.args[0])
            if twin in terms:
                terms.remove(term)
                terms.remove(twin)
                return _without_one(sp.Add(*terms, -coefficient * others))
    return total


def _over_expm1_squared(product: sp.Mul) -> sp.Expr:
    """``product`` with ``exp(a) / expm1(a)**2`` written as the
    ``-1 / (expm1(a) * expm1(-a))`` it is: the square overflows from
    a = 355 on (inf / inf, nan) where the value is exp(-a), and the
    exponential from 710."""
    factors = list(product.args)
    for factor in factors:
        if not (isinstance(factor, sp.Pow) and factor.exp == -2
                and isinstance(factor.base, expm1)):
            continue
        a = factor.base.args[0]
        if sp.exp(a) in factors:
            factors.remove(factor)
            factors.remove(sp.exp(a))
            return -sp.Mul(*factors) / (expm1(a) * expm1(-a))
    return product


# -- lines: the arguments a0 whose multiples the exponentials take ----------

def _normalized(arg: sp.Expr) -> sp.Expr:
    """``arg`` without its numeric factor and sign: x for -2*x, 3*x - 1
    for 2 - 6*x, b + z for b/2 + z/2 (but b + 1.5*w stays, rather than
    2*b + 3*w)."""
    _, rest = arg.as_coeff_Mul()
    content, primitive = rest.as_content_primitive()
    if content.is_Integer or all(
            abs(term.as_coeff_Mul()[0]) == 1
            for term in sp.Add.make_args(primitive)):
        rest = primitive
    return -rest if rest.could_extract_minus_sign() else rest


def _multiple(arg: sp.Expr, line: sp.Expr) -> sp.Rational | None:
    """c if ``arg`` is c * ``line`` for a nonzero rational c."""
    c, rest = arg.as_coeff_Mul()
    if not c.is_Rational:
        return None
    if rest == line:
        return c
    if rest == -line:
        return -c
    if isinstance(line, sp.Add) and isinstance(rest, sp.Add) and len(
            rest.args) == len(line.args):
        # 2*b + 3*w is 2 * (b + 1.5*w): compare term by term.
        ratios = {sp.cancel(r / l) for r, l in zip(
            sorted(rest.args, key=_unsigned_key),
            sorted(line.args, key=_unsigned_key))}
        if len(ratios) == 1:
            (ratio,) = ratios
            if ratio.is_Rational and ratio != 0:
                return c * ratio
    return None


def _unsigned_key(term: sp.Expr) -> object:
    return sp.default_sort_key(term.as_coeff_Mul()[1])


def _has_signed(node: sp.Basic) -> bool:
    return any(node.has(f) for f in _SIGNED)


def _lines(expr: sp.Expr) -> list[sp.Expr]:
    """The distinct lines of the exponential-type atoms of ``expr``."""
    found: list[sp.Expr] = []
    for atom in sorted(expr.atoms(*_HYPERBOLIC), key=sp.default_sort_key):
        arg = atom.args[0]
        if not arg.free_symbols or _has_signed(arg):
            continue
        if not any(_multiple(arg, line) is not None for line in found):
            found.append(_normalized(arg))
    return found


def _line_atoms(expr: sp.Basic, line: sp.Expr) -> dict[sp.Expr, sp.Rational]:
    """Exponential-type atoms on ``line`` and the multiple of ``line`` at
    which each is a rational function of exp(multiple * line)."""
    atoms = {}
    for atom in expr.atoms(*_HYPERBOLIC):
        c = _multiple(atom.args[0], line)
        if c is not None:
            atoms[atom] = 2 * c if isinstance(atom, sp.tanh) else c
    return atoms


def _in_powers(atoms: dict[sp.Expr, sp.Rational], u: sp.Symbol
               ) -> tuple[dict[sp.Expr, sp.Expr], sp.Rational]:
    """Each atom as a rational function of u = exp(k * line), and k."""
    fractions = [Fraction(int(abs(m).p), int(m.q)) for m in atoms.values()]
    numerators = math.gcd(*[f.numerator for f in fractions])
    denominators = math.lcm(*[f.denominator for f in fractions])
    k = sp.Rational(numerators, denominators)
    mapping: dict[sp.Expr, sp.Expr] = {}
    for atom, m in atoms.items():
        n = int(m / k)
        if isinstance(atom, sp.exp):
            mapping[atom] = u ** n
        elif isinstance(atom, sp.tanh):
            mapping[atom] = (u ** n - 1) / (u ** n + 1)
        elif isinstance(atom, sp.sinh):
            mapping[atom] = (u ** n - u ** -n) / 2
        else:
            mapping[atom] = (u ** n + u ** -n) / 2
    return mapping, k


def _is_rational_in(expr: sp.Expr, u: sp.Symbol) -> bool:
    """Whether ``expr`` involves u only through integer powers (not inside
    a function, as log(1 + u) does)."""
    return expr.has(u) and not any(
        f.has(u) for f in expr.atoms(sp.Function)) and not any(
        p.exp.has(u) or not p.exp.is_Integer
        for p in expr.atoms(sp.Pow) if p.base.has(u))


# -- resolving |a|, min(a, 0), ... on each side of a = 0 --------------------

def _unfolded(expr: sp.Expr) -> sp.Expr:
    """``expr`` with |a|, min(a, 0), ... resolved, for each line a on whose
    two sides it is one function of exp(a) (module docstring)."""
    for line in _signed_lines(expr):
        positive = _resolved(expr, line, 1)
        negative = _resolved(expr, line, -1)
        if _same_function(positive, negative, line):
            expr = positive
    return expr


def _signed_lines(expr: sp.Expr) -> list[sp.Expr]:
    """Lines whose sign decides an exponential's argument (exp(-|a|))."""
    found: list[sp.Expr] = []
    for atom in sorted(expr.atoms(sp.exp), key=sp.default_sort_key):
        for node in sp.preorder_traversal(atom.args[0]):
            if isinstance(node, (absolute, minimum, maximum)):
                arg = _signed_argument(node)
                if arg is not None and arg.free_symbols and not any(
                        _multiple(arg, line) is not None for line in found):
                    found.append(_normalized(arg))
    return found


def _signed_argument(node: sp.Basic) -> sp.Expr | None:
    """The argument whose sign decides ``node``'s value, if one does."""
    if isinstance(node, (minimum, maximum)):
        a, b = node.args
        return a if b == 0 else (b if a == 0 else None)
    if isinstance(node, (absolute, sign, heaviside)):
        return node.args[0]
    if isinstance(node, copysign):
        return node.args[1] if node.args[0].is_Number else None
    if isinstance(node, where) and isinstance(node.args[0], sp.Rel):
        condition = node.args[0]
        return condition.lhs - condition.rhs
    return None


def _resolved(expr: sp.Expr, line: sp.Expr, side: int) -> sp.Expr:
    """``expr`` where ``line`` has the sign ``side`` (+1 or -1)."""

    def sign_of(node: sp.Basic) -> int | None:
        arg = _signed_argument(node)
        if arg is None:
            return None
        c = _multiple(arg, line)
        return None if c is None else (1 if c > 0 else -1) * side

    def value(node: sp.Basic) -> sp.Basic:
        s = sign_of(node)
        if s is None:
            return node
        arg = _signed_argument(node)
        if isinstance(node, absolute):
            return s * arg
        if isinstance(node, minimum):
            return arg if s < 0 else sp.S.Zero
        if isinstance(node, maximum):
            return arg if s > 0 else sp.S.Zero
        if isinstance(node, (sign, copysign)):
            magnitude = abs(node.args[0]) if isinstance(node, copysign) else 1
            return s * magnitude
        if isinstance(node, heaviside):
            return sp.S.One if s > 0 else sp.S.Zero
        condition = node.args[0]
        holds = {sp.StrictGreaterThan: s > 0, sp.GreaterThan: s > 0,
                 sp.StrictLessThan: s < 0, sp.LessThan: s < 0,
                 sp.Equality: False, sp.Unequality: True}[type(condition)]
        return node.args[1] if holds else node.args[2]

    return expr.replace(lambda node: isinstance(node, _SIGNED)
                        and sign_of(node) is not None, value)


def _same_function(a: sp.Expr, b: sp.Expr, line: sp.Expr) -> bool:
    """Whether ``a`` and ``b`` are one function of exp(line) (and of the
    other atoms, taken as they are)."""
    difference = a - b
    if difference == 0:
        return True
    if sp.count_ops(difference) > 2 * _LARGEST:
        return False
    atoms = _line_atoms(difference, line)
    if not atoms:
        return False
    u = sp.Dummy("u", positive=True)
    mapping, _ = _in_powers(atoms, u)
    try:
        return sp.cancel(sp.together(difference.xreplace(mapping))) == 0
    except _FAILURES:
        return False


# -- rewriting the ratios on one line -----------------------------------------

def _rewritten(expr: sp.Expr, line: sp.Expr, tails: bool) -> sp.Expr:
    """``expr`` with the terms that are rational in exp(k * line) in tail
    form: those with the same other factors together (``1 - tanh(x)**2``
    cancels only as a whole), each such class on its own (so that
    ``cos(x)*tanh(x**2) + 2*x*(1 - tanh(x**2)**2)`` keeps the factor that
    cancels), all classes at once where that cancels terms (T*(1 - t)/2 -
    (1 - T)*(1 + t)/2 is T - (1 + t)/2), else term by term."""
    atoms = _line_atoms(expr, line)
    if not atoms:
        return expr
    u, t = sp.Dummy("u", positive=True), sp.Dummy("t")
    mapping, k = _in_powers(atoms, u)
    kept: list[sp.Expr] = []
    classes: dict[sp.Expr, list[sp.Expr]] = {}
    for term in _apart_from_variables(expr, atoms):
        rational, other = [], []
        for factor in sp.Mul.make_args(term):
            if factor.has(*atoms) and _is_rational_in(
                    factor.xreplace(mapping), u):
                rational.append(factor)
            else:
                other.append(factor)
        if rational:
            number, rest = sp.Mul(*other).as_coeff_Mul()
            classes.setdefault(rest, []).append(number * sp.Mul(*rational))
        else:
            kept.append(term)
    # A term free of the line may complete a factor that cancels (the 1 in
    # 1 - tanh(x)**2), or spoil one (a constant from elsewhere added to
    # -tanh(x/2)*(1 - tanh(x/2)**2)/4): it joins its class if that gives
    # more such factors.
    polynomials: dict[sp.Expr, _Polynomial | None] = {}
    for rest, ratios in classes.items():
        polynomials[rest] = _polynomial(sp.Add(*ratios), mapping, u, t, k,
                                        line)
        free = [term for term in kept if not term.has(*atoms)
                and term.as_coeff_Mul()[1] == rest]
        if not free:
            continue
        joined = _polynomial(sp.Add(*ratios, *free), mapping, u, t, k, line)
        # As many such factors, and some: the free term cancels against
        # the ratio in the tail where the joined polynomial has its new
        # factor (1 - (1 - t)/2 is 0 as t -> -1; joined, (1 + t)/2).
        before, after = _cancelling(polynomials[rest], t), _cancelling(
            joined, t)
        if after > before or after == before > 0:
            polynomials[rest] = joined
            ratios.extend(free)
            kept = [term for term in kept if term not in free]
    combined = _combined(polynomials, t)
    if combined is not None:
        whole = _tail(combined, line, t, tails)
        if whole is not None:
            return sp.Add(*kept, whole)
    for rest, ratios in classes.items():
        polynomial = polynomials[rest]
        if polynomial is not None:
            # A polynomial that needs no rewriting as a whole cancels
            # nowhere, whatever its terms do apart.
            together = _tail(polynomial, line, t, tails)
            kept.append(rest * (sp.Add(*ratios) if together is None
                                else together))
            continue
        for ratio in ratios:
            alone = _polynomial(ratio, mapping, u, t, k, line)
            tail = None if alone is None else _tail(alone, line, t, tails)
            kept.append(rest * (ratio if tail is None else tail))
    return sp.Add(*kept)


def _apart_from_variables(expr: sp.Expr, atoms: dict[sp.Expr, sp.Rational]
                          ) -> list[sp.Expr]:
    """The terms of ``expr``, a factor that adds variables off the line
    to terms on it multiplied out: in ``(sigma(a) - y) / n`` the ratio
    has a factor that cancels only without ``- y``, which cannot complete
    one (it is not constant)."""
    terms = []
    for term in sp.Add.make_args(expr):
        factors = sp.Mul.make_args(term)
        for i, factor in enumerate(factors):
            if not (factor.is_Add and factor.has(*atoms)):
                continue
            variables = [a for a in factor.args
                         if not a.has(*atoms) and a.free_symbols]
            if variables:
                others = sp.Mul(*factors[:i], *factors[i + 1:])
                rest = [a for a in factor.args if a not in variables]
                terms += [others * v for v in variables]
                terms.append(others * sp.Add(*rest))
                break
        else:
            terms.append(term)
    return terms


@dataclass(frozen=True)
class _Polynomial:
    """A ratio as ``numerator / denominator``, the numerator a polynomial
    in t = tanh(k * line / 2) and the denominator free of t."""

    numerator: sp.Expr
    denominator: sp.Expr
    k: sp.Rational
    had_denominator: bool  # the ratio divided by an exponential
    # The numerator as q(t) * (1 + t)**plus * (1 - t)**minus, if known.
    factored: tuple[sp.Poly, int, int] | None = None


def _polynomial(ratio: sp.Expr, mapping: dict[sp.Expr, sp.Expr],
                u: sp.Symbol, t: sp.Symbol, k: sp.Rational, line: sp.Expr
                ) -> _Polynomial | None:
    """``ratio`` as a polynomial in tanh, or None if it is not one (not
    bounded, or too large to find out)."""
    if sp.count_ops(ratio) > _LARGEST:
        return None
    had_denominator = any(p.exp.is_negative and p.base.has(*mapping)
                          for p in ratio.atoms(sp.Pow))
    if not had_denominator and not ratio.has(sp.tanh):
        return None  # exp, sinh, cosh in numerators only: unbounded
    tanh_of = {atom: value.subs(u, (1 + t) / (1 - t))
               for atom, value in mapping.items()}
    try:
        fast = _laurent(ratio, tanh_of, t)
        if fast is not None:
            poly, plus, minus = fast
            return _Polynomial(
                poly.as_expr() * (1 + t) ** plus * (1 - t) ** minus,
                sp.S.One, k, had_denominator, fast)
        numerator, denominator = sp.fraction(sp.cancel(sp.together(
            ratio.xreplace(tanh_of))))
        if denominator.has(t):
            # Perhaps a ratio of exp(2*a) that is one of exp(a) only
            # through its powers: tanh(x) in u = exp(x).
            reduced, k = _fewest_powers(
                sp.cancel(sp.together(ratio.xreplace(mapping))), u, k)
            numerator, denominator = sp.fraction(sp.cancel(sp.together(
                reduced.subs(u, (1 + t) / (1 - t)))))
    except _FAILURES:
        return None
    if denominator.has(t):
        return None
    return _Polynomial(numerator, denominator, k, had_denominator)


def _laurent(expr: sp.Expr, tanh_of: dict[sp.Expr, sp.Expr],
             t: sp.Symbol) -> tuple[sp.Poly, int, int] | None:
    """``expr`` as a polynomial in t, if it is one, by arithmetic on
    polynomials times powers of 1 + t and 1 - t (the only denominators
    exponentials of the line have in t): much faster than cancel on the
    expression, and None where that does not suffice."""

    def walk(node: sp.Expr) -> tuple[sp.Poly, int, int] | None:
        if node in tanh_of:
            return walk(tanh_of[node])
        if not node.has(*tanh_of) and node.is_polynomial(t):
            return _normal(sp.Poly(node, t), 0, 0, t)
        if isinstance(node, sp.Mul):
            product = (sp.Poly(1, t), 0, 0)
            for factor in node.args:
                part = walk(factor)
                if part is None:
                    return None
                product = (product[0] * part[0], product[1] + part[1],
                           product[2] + part[2])
            return _normal(*product, t)
        if isinstance(node, sp.Add):
            parts = [walk(term) for term in node.args]
            if any(part is None for part in parts):
                return None
            plus = min(p[1] for p in parts)  # type: ignore[index]
            minus = min(p[2] for p in parts)  # type: ignore[index]
            total = sp.Poly(0, t)
            for poly, a, b in parts:  # type: ignore[misc]
                total += poly * sp.Poly((1 + t) ** (a - plus)
                                        * (1 - t) ** (b - minus), t)
            return _normal(total, plus, minus, t)
        if isinstance(node, sp.Pow) and node.exp.is_Integer:
            base = walk(node.base)
            if base is None:
                return None
            poly, a, b = base
            n = int(node.exp)
            if n >= 0:
                return poly ** n, a * n, b * n
            if poly.degree() > 0 or poly.is_zero:
                return None
            return sp.Poly(poly.as_expr() ** n, t), a * n, b * n
        return None

    try:
        found = walk(expr)
    except _FAILURES:
        return None
    if found is None or found[1] < 0 or found[2] < 0:
        return None
    return found


def _normal(poly: sp.Poly, plus: int, minus: int, t: sp.Symbol
            ) -> tuple[sp.Poly, int, int]:
    """The factors 1 + t and 1 - t of ``poly`` moved into the powers."""
    while poly.degree() > 0 and sp.expand(poly.eval(-1)) == 0:
        poly, plus = poly.exquo(sp.Poly(1 + t, t)), plus + 1
    while poly.degree() > 0 and sp.expand(poly.eval(1)) == 0:
        poly, minus = poly.exquo(sp.Poly(1 - t, t)), minus + 1
    return poly, plus, minus


def _combined(polynomials: dict[sp.Expr, _Polynomial | None],
              t: sp.Symbol) -> _Polynomial | None:
    """The classes' sum as one polynomial, if that has fewer terms than
    they have apart (their coefficients cancel), else None."""
    if len(polynomials) < 2 or None in polynomials.values():
        return None
    ks = {p.k for p in polynomials.values() if p is not None}
    if len(ks) != 1 or sum(sp.count_ops(rest)
                           for rest in polynomials) > _LARGEST:
        return None
    # The coefficients expanded too: 1 - T and T are not independent.
    parts = [sp.expand(rest * p.numerator / p.denominator)
             for rest, p in polynomials.items() if p is not None]
    total = sp.expand(sp.Add(*parts))
    if len(sp.Add.make_args(total)) >= sum(
            len(sp.Add.make_args(part)) for part in parts):
        return None
    numerator, denominator = sp.fraction(sp.together(total))
    return _Polynomial(sp.expand(numerator), denominator, ks.pop(),
                       any(p.had_denominator for p in polynomials.values()
                           if p is not None))


def _factored(ratio: _Polynomial, t: sp.Symbol
              ) -> tuple[sp.Poly, int, int] | None:
    """q, plus, minus with numerator q(t) * (1 + t)**plus * (1 - t)**minus
    and q(+-1) != 0."""
    try:
        return ratio.factored or _normal(sp.Poly(ratio.numerator, t), 0, 0, t)
    except _FAILURES:
        return None


def _cancelling(ratio: _Polynomial | None, t: sp.Symbol) -> int:
    """How many factors 1 + t and 1 - t ``ratio`` has (-1: not a ratio)."""
    factored = None if ratio is None else _factored(ratio, t)
    return -1 if factored is None else factored[1] + factored[2]


def _tail(ratio: _Polynomial, line: sp.Expr, t: sp.Symbol,
          tails: bool) -> sp.Expr | None:
    """The tail form of ``ratio`` (module docstring), or None where it
    needs none."""
    factored = _factored(ratio, t)
    if factored is None:
        return None
    polynomial, plus, minus = factored
    if not (ratio.had_denominator or (tails and plus and minus)):
        # A polynomial in tanh already: left as written unless it has
        # 1 - tanh**2 in it, which every derivative of tanh brings and which
        # cancels in both tails. (A user's own 0.5*tanh(x/2) + 0.5 stays:
        # its value is theirs, and it stays shared with the rest of their
        # code.)
        return None
    k = ratio.k
    e = sp.exp(-k * _absolute(line))
    both = min(plus, minus)
    factors = (4 * e / (1 + e) ** 2) ** both
    factors *= (2 * sp.exp(k * _negative_part(line)) / (1 + e)) ** (
        plus - both)
    factors *= (2 * sp.exp(-k * _positive_part(line)) / (1 + e)) ** (
        minus - both)
    # The polynomial's numeric content joins the other numbers: 4*e*(3*t**2
    # - 1)/8 reads e*(3*t**2 - 1)/2.
    content, rest = sp.factor_terms(polynomial.as_expr()).as_coeff_Mul()
    return content / ratio.denominator * factors * rest.subs(
        t, sp.tanh(k * line / 2))


def _absolute(a: sp.Expr) -> sp.Expr:
    """|a|, without the call where the sign is known (x**2)."""
    if a.is_nonnegative:
        return a
    if a.is_nonpositive:
        return -a
    return absolute(a)


def _positive_part(a: sp.Expr) -> sp.Expr:
    """max(a, 0), without the call where the sign is known."""
    if a.is_nonnegative:
        return a
    if a.is_nonpositive:
        return sp.S.Zero
    return maximum(a, 0)


def _negative_part(a: sp.Expr) -> sp.Expr:
    """min(a, 0), without the call where the sign is known."""
    if a.is_nonnegative:
        return sp.S.Zero
    if a.is_nonpositive:
        return a
    return minimum(a, 0)


def _fewest_powers(ratio: sp.Expr, u: sp.Symbol,
                   k: sp.Rational) -> tuple[sp.Expr, sp.Rational]:
    """``ratio`` in v = u**d, for the largest d that divides every power
    of u in it (tanh(x) is (u - 1)/(u + 1) in u = exp(2*x), not a ratio
    of u**2 in u = exp(x)), and the multiple of the line v is exp of."""
    numerator, denominator = sp.fraction(ratio)
    powers = [m[0] for part in (numerator, denominator)
              for m in sp.Poly(part, u).monoms()]
    d = math.gcd(*powers) if any(powers) else 1
    if d <= 1:
        return ratio, k
    return ratio.subs(u, u ** sp.Rational(1, d)), k * d
