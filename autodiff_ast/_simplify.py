"""Simplify stage: choose the cheapest numerically safe form of the outputs.

Candidates are cheap SymPy rewrites (as-is, factor, together, cancel,
expand, and a Horner nesting of the expanded polynomial), each
costed *after* common-subexpression elimination, because that is what the
generated code computes (see DESIGN.md: tree op counts pick the wrong
candidate). ``simplify()`` is never used: its time grows without bound and
it trades stable forms for overflowing ones.

Two guards keep a candidate honest: it may not introduce functions that
grow exponentially (exp, sinh, cosh) which the raw form did not have, and it
must agree with the raw form to a relative error at sample points, large
magnitudes of both signs included, and stay finite wherever the raw form is
finite. Relative, because a form can stay finite and still lose every digit
in a tail: ``0.5*tanh(x/2) + 0.5`` is 1e-13 off at x = -30, absolutely
close and relatively 1.7e-4 wrong.

Before candidates are tried, ratios of exponentials such as the logistic
``exp(x)/(1 + exp(x))`` are put in tail forms that neither overflow nor
cancel (``_tails``).
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import sympy as sp
from sympy.core.sorting import ordered
from sympy.polys.polyfuncs import horner
from sympy.polys.rootoftools import RootOf
from sympy.simplify.cse_main import Unevaluated, opt_cse
from sympy.utilities.iterables import iterable

from ._limits import TimeUp, time_limit
from ._printer import numeric_function
from ._rules import absolute, heaviside, inert, maximum, minimum, where
from ._selections import merged_selections
from ._singular import cancelled
from ._tails import exact_differences, stabilize

__all__ = ["simplify", "cost", "cse", "stabilize", "expanded_if_stable",
           "collect_like_terms"]

# Total time the candidates of one function may take, and one rewrite.
_BUDGET_SECONDS = 2.0
_REWRITE_SECONDS = 1.0

_GROWING = (sp.exp, sp.sinh, sp.cosh)
_CHEAP_OPS = {"ADD": 1, "SUB": 1, "MUL": 1, "NEG": 1, "DIV": 2, "POW": 2}
_FUNCTION_COST = 8


def cse(exprs: Sequence[sp.Expr], symbols: Iterator[sp.Symbol] | None = None,
        order: str = "canonical",
        ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """``sp.cse(exprs, symbols, order=order)``, without rebuilding what
    it does not change.

    SymPy's tree_cse rebuilds every node whose arguments it compares as a
    list with their tuple (a function call, a power, with order="none" a
    sum too), so every ``cos(k * x)`` is evaluated again; past its cache's
    1000 entries each costs 0.2 ms (about 1 s per CSE of a 3000-term sum).
    Here a node whose arguments are unchanged is kept as it is, which is
    what rebuilding an evaluated node gives. The rest is SymPy's: its
    opt_cse, then the same traversal, so the same temporaries in the same
    order.
    """
    symbols = iter(symbols if symbols is not None else
                   sp.numbered_symbols(cls=sp.Symbol))
    # (terms simplified apart, a gradient's contributions, may select on
    # one condition: one selection computes it once)
    exprs = [merged_selections(e) for e in exprs]
    opt_subs = opt_cse(exprs, order)
    seen: set[sp.Basic] = set()
    repeated: set[sp.Basic] = set()
    excluded: set[str] = set()

    def find_repeated(expr: sp.Basic) -> None:
        if not isinstance(expr, (sp.Basic, Unevaluated)) or isinstance(
                expr, RootOf):
            return
        if isinstance(expr, sp.Basic) and (expr.is_Atom or expr.is_Order):
            if expr.is_Symbol:
                excluded.add(expr.name)
            return
        if iterable(expr):
            args = expr
        else:
            if expr in seen:
                repeated.add(expr)
                return
            seen.add(expr)
            expr = opt_subs.get(expr, expr)
            args = expr.args
        for arg in args:
            find_repeated(arg)

    for expr in exprs:
        if isinstance(expr, sp.Basic):
            find_repeated(expr)
    names = (s for s in symbols if s.name not in excluded)
    replacements: list[tuple[sp.Symbol, sp.Expr]] = []
    named: dict[sp.Basic, sp.Symbol] = {}

    def rebuild(expr: Any) -> Any:
        if not isinstance(expr, (sp.Basic, Unevaluated)) or not expr.args:
            return expr
        if iterable(expr):
            return expr.func(*[rebuild(a) for a in expr.args])
        if expr in named:
            return named[expr]
        original = expr
        expr = opt_subs.get(expr, expr)
        args: Sequence[Any] = expr.args
        if order != "none":
            if isinstance(expr, sp.Mul):
                commutative, noncommutative = expr.args_cnc()
                args = noncommutative if commutative == [1] else list(
                    ordered(commutative)) + noncommutative
            elif isinstance(expr, sp.Add):
                args = list(ordered(expr.args))
        new_args = [rebuild(a) for a in args]
        if isinstance(expr, Unevaluated) or new_args != list(args):
            expr = expr.func(*new_args)
        if original in repeated:
            name = next(names)
            named[original] = name
            replacements.append((name, expr))
            return name
        return expr

    return replacements, [rebuild(e) for e in exprs]


def cost(exprs: Sequence[sp.Expr]) -> int:
    """Operations the generated code performs for ``exprs``, after CSE."""
    replacements, reduced = cse(list(exprs), order="none")
    total = 0
    for expr in [e for _, e in replacements] + list(reduced):
        visual = sp.count_ops(expr, visual=True)
        if visual == 0:
            continue
        for term in sp.Add.make_args(visual):
            count, op = term.as_coeff_Mul()
            total += int(count) * _CHEAP_OPS.get(str(op), _FUNCTION_COST)
    return total


# Forward mode asks again for what it asked before: a loop's body over a
# batch of tangents per argument, then its writer, simplify the same
# expressions (a Hessian of a 4-matrix GRU: 1964 calls, 480 distinct;
# 15.6 s of generation before this memo).
_SIMPLIFIED: dict[tuple[tuple[sp.Expr, ...], bool], list[sp.Expr]] = {}
_MOST_SIMPLIFIED = 8192


def simplify(exprs: Sequence[sp.Expr], tails: bool = True) -> list[sp.Expr]:
    """The cheapest stable rewriting of ``exprs``, all outputs together
    (``tails``: see ``stabilize``)."""
    key = (tuple(exprs), tails)
    try:
        known = _SIMPLIFIED.get(key)
    except TypeError:  # not hashable: simplified each time
        return _simplified(exprs, tails)
    if known is None:
        known = _simplified(exprs, tails)
        if len(_SIMPLIFIED) >= _MOST_SIMPLIFIED:
            _SIMPLIFIED.clear()
        _SIMPLIFIED[key] = known
    return list(known)


def simplified_reading(expr: sp.Expr) -> sp.Expr:
    """``expr`` (a partial derivative in a pass over a program)
    simplified for such a pass: a polynomial in a tanh the code already
    has stays one (``1 - hidden**2`` where ``hidden = np.tanh(...)``: two
    cheap operations on a value at hand, where a tail form computes an
    exp), but a tanh that simplification would bring in for exponentials
    is written in tail form (``0.5*tanh(z/2) + 0.5`` keeps 4 digits at
    z = -30; ``exp(min(z, 0))/(1 + exp(-|z|))`` all of them)."""
    quick = simplify([expr], tails=False)[0]
    if quick.atoms(sp.tanh) <= expr.atoms(sp.tanh):
        return quick
    return simplify([expr])[0]


def _simplified(exprs: Sequence[sp.Expr], tails: bool) -> list[sp.Expr]:
    raw = [_as_steps(merged_selections(stabilize(cancelled(e), tails)))
           for e in exprs]
    best, best_cost = raw, 0
    raw_cost: int | None = None
    started = time.process_time()  # CPU time: the same on a busy machine
    for candidate in _candidates(raw):
        if candidate is None:
            continue
        # (combining terms may form expm1(y) - exp(y), which is -1)
        candidate = [exact_differences(c) for c in candidate]
        if candidate == raw:
            continue
        if raw_cost is None:
            # Costed once a candidate differs: on a long sum that no
            # rewrite changes, this CSE is most of simplify's work. Its
            # time is not the candidates' budget.
            before = time.process_time()
            best_cost = raw_cost = cost(raw)
            started += time.process_time() - before
        candidate_cost = cost(candidate)
        if (candidate_cost < min(best_cost, _KEEP_STRUCTURE * raw_cost)
                and _is_stable(raw, candidate)):
            best, best_cost = candidate, candidate_cost
        if time.process_time() - started > _BUDGET_SECONDS:
            break
    return best


# The step each comparison is, as heaviside(z, value at z = 0) of z > 0.
_STEPS = {sp.StrictGreaterThan: (1, 0), sp.GreaterThan: (1, 1),
          sp.StrictLessThan: (-1, 0), sp.LessThan: (-1, 1)}


def _as_steps(expr: sp.Expr) -> sp.Expr:
    """``where(x > a, c1, c2)`` with numbers c1, c2 (relu's derivative) as
    ``c2 + (c1 - c2) * heaviside(x - a, 0)``: a step keeps what x is
    (float32 stays float32, a float a float), where np.where(x > 0, 1, 0)
    returns integers, and integers times a float32 array give float64."""
    if not isinstance(expr, sp.Basic) or not expr.has(where):
        return expr

    def step(node: sp.Basic) -> sp.Basic:
        condition, a, b = node.args
        if type(condition) not in _STEPS or not (a.is_Number
                                                  and b.is_Number):
            return node
        sign, at_zero = _STEPS[type(condition)]
        return b + (a - b) * heaviside(
            sign * (condition.lhs - condition.rhs), at_zero)

    return expr.replace(lambda node: isinstance(node, where), step)


# A rewrite must save this share of the raw form's cost to be taken: the
# raw chain-rule form keeps the nesting that makes the *next* derivative
# small (for exp(sin x) tanh(x**2), expanding at order 3 to save 4% makes
# order 8 cost twice as much after CSE).
_KEEP_STRUCTURE = 0.8
# Sizes (SymPy operations) up to which rewrites are tried: rational-function
# rewrites grow fast with size; expansion stays affordable much longer.
_SMALL = 300
_EXPANDABLE = 20000
# Bounds that keep expansion and Horner nesting polynomial in cost, so no
# input can make simplification run away (by design, not by a timer).
_MOST_EXPANDED_TERMS = 3000
_MOST_GENERATORS = 8
# factor() over many generators (a sum of 80 cosines of multiples of x)
# runs to its time limit without finding a factor: not tried.
_MOST_FACTORED_GENERATORS = 24


def _candidates(raw: list[sp.Expr]) -> Iterator[list[sp.Expr] | None]:
    """Rewritings of ``raw``, cheapest to compute first; None on failure."""
    size = _operations(raw)
    has_fraction = any(p.exp.is_negative for e in raw
                       for p in e.atoms(sp.Pow))
    if size <= _SMALL and _generators(raw) <= _MOST_FACTORED_GENERATORS:
        yield _each(sp.factor, raw)
        if has_fraction:
            yield _each(sp.together, raw)
            yield _each(sp.cancel, raw)
    if size <= _EXPANDABLE and all(
            _expanded_terms(e) <= _MOST_EXPANDED_TERMS for e in raw):
        expanded = (raw if all(_expands_to_itself(e) for e in raw)
                    else _each(sp.expand, raw))
        yield expanded
        # (an expansion that changed nothing, a long sum's often, has the
        # size already counted: count_ops costs 0.1 ms a term)
        if expanded is not None and size > _SMALL and (
                size if expanded == raw else
                sum(sp.count_ops(e) for e in expanded)) <= _SMALL:
            # An unrolled loop is large until expanded, and its factors
            # show only then: 1e-19 * (k - 100) ** 9, not a Horner staircase.
            yield _each(sp.factor, expanded)
        if expanded is not None and size > _SMALL:
            # Horner saves real work only on large polynomials; on small
            # ones "3*x**2 + 4*x - 3" reads better than "x*(3*x + 4) - 3".
            yield _each(_horner_in_atoms, expanded)


def _operations(raw: list[sp.Expr]) -> int:
    """SymPy's count of the operations in ``raw``, or, where bounds decide
    every threshold above (_SMALL < size <= _EXPANDABLE, or beyond), a
    bound: count_ops takes 0.08 ms a term, 0.25 s on a written-out sum's
    derivative of 3000 terms. A sum of n terms has n - 1 operations at
    least, and an expression no more operations than nodes."""
    least = sum(len(sp.Add.make_args(e)) - 1 for e in raw)
    if least > _EXPANDABLE:
        return least
    if least > _SMALL and sum(
            1 for e in raw for _ in sp.preorder_traversal(e)) <= _EXPANDABLE:
        return least
    return sum(sp.count_ops(e) for e in raw)


def _expands_to_itself(expr: sp.Expr) -> bool:
    """Whether ``sp.expand`` leaves ``expr`` as it is, known without
    expanding: a sum of products of numbers, symbols and calls on which
    SymPy's eval is inert (``cos(3 * x)``, ``sin(x)``), as a written-out
    sum's derivative is. Expanding builds a fraction of every product,
    0.2 ms a term once SymPy's cache is full."""
    for term in sp.Add.make_args(expr):
        for factor in sp.Mul.make_args(term):
            if factor.is_Number or factor.is_Symbol or (
                    isinstance(factor, sp.Function)
                    and inert(type(factor), factor.args)):
                continue
            return False
    return True


def _generators(raw: list[sp.Expr]) -> int:
    """The generators factor() would take: symbols and outermost calls."""
    calls = set().union(*[e.atoms(sp.Function) for e in raw])
    inner = set().union(*(c.atoms(sp.Function) - {c} for c in calls))
    symbols = set().union(*[e.free_symbols for e in raw])
    return len(calls - inner) + len(symbols)


def collect_like_terms(expr: sp.Expr) -> sp.Expr:
    """``expr`` with like terms that a shared factor hides brought together:
    ``t * (1 - 3 * s)``, not ``t * (1 - s) - 2 * s * t``.

    In every sum, terms that share a factor are written as that factor
    times the sum of the rest when like terms in that sum then combine
    (``-s`` and ``-2 * s``); inner sums first. Only then: collecting a
    factor that combines nothing saves one multiplication here but makes
    the next derivative larger (the product rule's terms no longer merge):
    collecting every shared factor made the 7th derivative of
    exp(sin(x)) * tanh(x ** 2) 2.2 times larger (2517 operations, not
    1125) and over 3 times slower to generate.
    """
    return expr.replace(lambda e: isinstance(e, sp.Add), _collect_sum)


def _collect_sum(expr: sp.Expr) -> sp.Expr:
    terms = list(sp.Add.make_args(expr))
    factors = [[f for f in sp.Mul.make_args(t) if not f.is_Number]
               for t in terms]
    counts: dict[sp.Expr, int] = {}
    for term_factors in factors:
        for factor in set(term_factors):
            counts[factor] = counts.get(factor, 0) + 1
    shared = sorted((f for f, n in counts.items() if n > 1),
                    key=lambda f: (-counts[f], sp.default_sort_key(f)))
    for common in shared:
        inside, outside = [], []
        for term, term_factors in zip(terms, factors):
            if common in term_factors:
                rest = list(sp.Mul.make_args(term))
                rest.remove(common)
                inside.extend(sp.Add.make_args(sp.Mul(*rest)))
            else:
                outside.append(term)
        combined = sp.Add(*inside)
        if len(sp.Add.make_args(combined)) < len(inside):
            return (common * _collect_sum(combined)
                    + _collect_sum(sp.Add(*outside)))
    return expr


def expanded_if_stable(expr: sp.Expr) -> sp.Expr | None:
    """``expand(expr)``, if that stays small, quick and as accurate."""
    if _expanded_terms(expr) > _MOST_EXPANDED_TERMS:
        return None
    expanded = _each(sp.expand, [expr])
    if expanded is None or not _is_stable([expr], expanded):
        return None
    return expanded[0]


def _expanded_terms(expr: sp.Basic) -> int:
    """An upper bound on the number of terms ``expand(expr)`` produces,
    computed without expanding."""
    if isinstance(expr, sp.Add):
        return sum(_expanded_terms(a) for a in expr.args)
    if isinstance(expr, sp.Mul):
        return math.prod(_expanded_terms(a) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 1:
        terms = _expanded_terms(expr.base)
        return math.comb(terms + int(expr.exp) - 1, int(expr.exp))
    if isinstance(expr, sp.Function):
        # expand works inside arguments too; the call stays one term.
        return 1 if max((_expanded_terms(a) for a in expr.args),
                        default=1) <= _MOST_EXPANDED_TERMS \
            else _MOST_EXPANDED_TERMS + 1
    return 1


def _each(rewrite: Callable[[sp.Expr], sp.Expr],
          exprs: list[sp.Expr]) -> list[sp.Expr] | None:
    """``rewrite`` applied to every output, or None if SymPy gives up or
    takes longer than a rewrite may."""
    try:
        with time_limit(_REWRITE_SECONDS):
            return [_apply(rewrite, e) for e in exprs]
    except (sp.PolynomialError, sp.polys.polyerrors.PolificationFailed,
            sp.polys.polyerrors.GeneratorsNeeded, TypeError, ValueError,
            NotImplementedError, RecursionError, TimeUp):
        return None


def _horner_in_atoms(expr: sp.Expr) -> sp.Expr:
    """Nest an expanded polynomial in the expression's function calls and
    symbols Horner-style, highest degree outermost.

    High-order derivatives are polynomials in a few atoms (sin x, tanh(x**2),
    x, ...); the nested form shares far more work than the expanded sum.
    """
    calls = expr.atoms(sp.Function)
    inner = set().union(*(a.atoms(sp.Function) - {a} for a in calls))
    if len(calls - inner) > _MOST_GENERATORS:
        # Each outermost call is a generator: too many, known before
        # sorting and replacing them all (3000 in a long sum of cosines).
        return expr
    atoms = sorted(calls, key=sp.default_sort_key)
    stand_ins = {atom: sp.Dummy(f"atom{i}") for i, atom in enumerate(atoms)}
    replaced = expr.xreplace(stand_ins)
    generators = sorted(replaced.free_symbols, key=sp.default_sort_key)
    if len(generators) > _MOST_GENERATORS or not replaced.is_polynomial(
            *generators):
        # Fractions make SymPy build composite coefficient domains, whose
        # cost has no useful bound.
        return expr
    polynomial = sp.Poly(replaced, *generators)
    degrees = polynomial.degree_list()
    order = sorted(range(len(polynomial.gens)), key=lambda i: -degrees[i])
    nested = horner(polynomial, *[polynomial.gens[i] for i in order])
    restored = nested.xreplace({v: k for k, v in stand_ins.items()})
    return sp.factor_terms(restored)


def _apply(rewrite: Callable[[sp.Expr], sp.Expr], expr: sp.Expr) -> sp.Expr:
    if isinstance(expr, sp.Piecewise) or expr.has(sp.Piecewise):
        return expr  # rewrites can merge branches and their conditions
    return rewrite(expr)


def _is_stable(raw: Sequence[sp.Expr], candidate: Sequence[sp.Expr]) -> bool:
    for before, after in zip(raw, candidate):
        for growing in _GROWING:
            if len(_growing(after, growing)) > len(_growing(before, growing)):
                return False
    return _agrees_numerically(raw, candidate)


_NONNEGATIVE = sp.Dummy("nonnegative", nonnegative=True)


def _growing(expr: sp.Expr, function: type) -> set[sp.Expr]:
    """The calls of ``function`` in ``expr`` that can overflow: not
    ``exp(-|a|)`` or ``exp(min(a, 0))``, whose arguments are never
    positive."""
    found = set()
    for atom in expr.atoms(function):
        if function is sp.exp:
            bounded = atom.args[0].replace(
                lambda e: isinstance(e, absolute) or (
                    isinstance(e, maximum) and 0 in e.args),
                lambda e: _NONNEGATIVE).replace(
                lambda e: isinstance(e, minimum) and 0 in e.args,
                lambda e: -_NONNEGATIVE)
            if bounded.is_nonpositive:
                continue
        found.add(atom)
    return found


_MODERATE = (-2.3, -0.7, 0.4, 1.3, 2.9)
_LARGE = (-800.0, -300.0, -30.0, 30.0, 300.0, 800.0)
# How far a candidate may stray from the raw form, relatively: rounding
# differences between two forms of one function stay far below it, a form
# that cancels in a tail (0.5*tanh(x/2) + 0.5 at x = -30: 1.7e-4) does not.
_RELATIVE = 1e-8


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
    for points in (_MODERATE, _LARGE):
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
            for expr, e, a in zip(raw, expected, actual):
                if not _as_accurate(expr, symbols, args, e, a):
                    return False
    return True


def _as_accurate(raw: sp.Expr, symbols: Sequence[sp.Symbol],
                 args: Sequence[np.ndarray], expected: np.ndarray,
                 actual: np.ndarray) -> bool:
    """Whether a candidate's values ``actual`` are as accurate as the raw
    form's ``expected``: relatively close to them, or, where they differ,
    no farther from the exact value than they are (the raw form can be
    the one that cancels, as ``1/sqrt(u) - x**2/u**1.5`` does)."""
    with np.errstate(all="ignore"):
        close = np.abs(actual - expected) <= _RELATIVE * np.abs(expected)
    close |= ~np.isfinite(expected) & ~np.isfinite(actual)
    for index in np.flatnonzero(~close):
        if not np.isfinite(expected[index]) and np.isfinite(actual[index]):
            continue  # the raw form overflows here; a finite value is better
        exact = _exact(raw, symbols, [float(a[index]) for a in args])
        if exact is None or (math.isfinite(exact)
                             and not math.isfinite(actual[index])):
            return False
        if math.isfinite(exact) and abs(actual[index] - exact) > max(
                _RELATIVE * abs(exact), abs(expected[index] - exact)):
            return False
    return True


def _exact(expr: sp.Expr, symbols: Sequence[sp.Symbol],
           values: Sequence[float]) -> float | None:
    """``expr`` at ``values`` to 15 correct digits (None if SymPy cannot
    evaluate it): the working precision grows until cancellation is
    resolved, as far as 1 - tanh(800)**2 needs."""
    point = {s: sp.Rational(v) for s, v in zip(symbols, values)}
    try:
        with time_limit(_REWRITE_SECONDS):
            value = expr.xreplace(point).evalf(20, maxn=8000)
    except (TypeError, ValueError, ZeroDivisionError, TimeUp):
        return None
    if not value.is_Number:
        return None
    return float(value) if value.is_finite else math.nan
