"""Common subexpressions of generated code: found, named, counted.

The code writer (``_array_writer``, and ``_loop_codegen`` for a loop's
body) names what its outputs compute more than once, as local variables
named after what they hold (``tanh_x``, ``x_sq``). Two passes find them:
``_cse`` (SymPy's CSE, integer powers over a shared square) and
``_shared``, which also writes powers as products of shared steps
(``r ** 6`` and ``r ** 13`` share ``r_sq``) and leaves no alias and no
value read once. Code that is only elementwise tries both and keeps the
form with fewer operations (``_operations``).
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import Application
from sympy.logic.boolalg import Boolean, BooleanFunction

from ._rules import OPERATOR_FUNCTIONS, spelling_for
from ._simplify import collect_like_terms, cost, cse

_LONGEST_NAME = 24


def _deepest_path(expr: sp.Basic) -> list[sp.Basic]:
    """``expr`` and its parts down to its most deeply nested one (the
    first of the deepest), not into a conditional expression's branches."""
    if isinstance(expr, sp.Piecewise) or not expr.args:
        return [expr]
    below = max((_deepest_path(a) for a in expr.args), key=len)
    return [expr] + below


# A continuation line may start at most this far right.
_DEEPEST = 48


def _cse(exprs: list[sp.Expr], share_squares: bool
         ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Common subexpressions, except trivial ones (kept inline), for the
    array writer; ``_shared`` also leaves no alias, no unused square and
    no value read once.

    With ``share_squares``, integer powers are rewritten over a shared
    square (``t**5`` -> ``t_sq**2 * t``), which NumPy computes fast. A
    divisor is a power like any other (``t**-3`` -> ``1 / (t_sq * t)``):
    a cube divided by beside a square multiplied by reads that square.
    """
    exprs = _expanded_where_shared(exprs)
    squares: dict[sp.Expr, sp.Symbol] = {}
    # Each divisor of several factors is one value (1 / divisor) while CSE
    # runs: as the product of reciprocals SymPy makes of it, CSE would
    # name 1 / t_sq and 1 / t apart (t = 1 / sigma ** 2, sigma_inv = 1 /
    # sigma, then t * sigma_inv, for sigma ** -3 beside sigma ** -2).
    divisors: dict[sp.Expr, sp.Symbol] = {}
    while share_squares:
        # A square's own powers share its square in turn (r ** 14 is
        # (r_sq_sq) ** 3 * r_sq, not (r_sq ** 2) ** 2 * r_sq ** 2 * r_sq).
        bases = {p.base for e in exprs for p in e.atoms(sp.Pow)
                 if p.exp.is_Integer and abs(p.exp) > 2
                 and p.base.free_symbols and p.base not in squares}
        if not bases:
            break
        for base in sorted(bases, key=sp.default_sort_key):
            squares[base] = sp.Dummy("square")

        def over_square(power: sp.Pow) -> sp.Expr:
            exponent = abs(int(power.exp))
            product = (squares[power.base] ** (exponent // 2)
                       * power.base ** (exponent % 2))
            if power.exp > 0:
                return product
            if isinstance(product, sp.Mul):
                product = divisors.setdefault(product, sp.Dummy("divisor"))
            return 1 / product

        exprs = [e.replace(lambda p: isinstance(p, sp.Pow) and
                           p.base in squares and p.exp.is_Integer and
                           abs(p.exp) > 1, over_square) for e in exprs]
    steps = [(square, base ** 2) for base, square in squares.items()] + [
        (divisor, product) for product, divisor in divisors.items()]
    replacements, reduced = cse(
        exprs + [value for _, value in steps],
        symbols=sp.numbered_symbols("_cse", cls=sp.Dummy))
    definitions = [(step, value) for (step, _), value in
                   zip(steps, reduced[len(exprs):])]
    reduced = reduced[:len(exprs)]
    kept: list[tuple[sp.Symbol, sp.Expr]] = []
    inline: dict[sp.Symbol, sp.Expr] = {}
    # A square or divisor read once is written where it is read: 1 / x **
    # 2, not x_sq = x ** 2 then x_sq_inv = 1 / x_sq.
    reads: dict[sp.Basic, int] = {}
    for _, value in replacements + definitions:
        _count_reads(value, True, reads)
    for expr in reduced:
        _count_reads(expr, True, reads)
    written_back = {step for step, _ in steps if reads.get(step, 0) <= 1}
    for temporary, value in _in_dependency_order(replacements, definitions):
        value = value.xreplace(inline)
        if _is_trivial(value) or temporary in written_back:
            inline[temporary] = value
        else:
            kept.append((temporary, value))
    return _over_named_products(kept, [e.xreplace(inline) for e in reduced])


def _expanded_where_shared(exprs: list[sp.Expr]) -> list[sp.Expr]:
    """``exprs`` with a product of two sums written as the sum it expands
    to where another part of ``exprs`` computes that sum (up to a rational
    factor): ``(t - 1) * (t + 1)`` beside ``0.9 * (1 - t ** 2)`` is
    ``-(1 - t ** 2)``, which CSE then shares.

    Simplification factors one expression and leaves another expanded
    (the tangent of tanh(u) carries 1 - tanh ** 2, its second tangent the
    factored form), and CSE matches structure, not value. Sums of up to
    _SMALL_SUM terms only: expanding larger ones costs more than it finds.
    """
    sums: dict[sp.Expr, tuple[sp.Expr, sp.Rational]] = {}
    for expr in exprs:
        # (small ones only are sorted: a sum's sort key holds a dense
        # vector of exponents over all its generators, n ** 2 entries for
        # n cosines, 12 s for a written-out sum of 6000 terms)
        small = [term for term in expr.atoms(sp.Add)
                 if len(term.args) <= _SMALL_SUM]
        for term in sorted(small, key=sp.default_sort_key):
            part, content = _primitive(term)
            sums.setdefault(part, (term, content))
    if not sums:
        return exprs

    def product_of_sums(expr: sp.Basic) -> bool:
        return isinstance(expr, sp.Mul) and sum(
            isinstance(f, sp.Add) and len(f.args) <= _SMALL_SUM
            for f in expr.args) >= 2

    def expanded(product: sp.Mul) -> sp.Expr:
        factors = list(product.args)
        for i, first in enumerate(factors):
            for second in factors[i + 1:]:
                if not (isinstance(first, sp.Add) and
                        isinstance(second, sp.Add)):
                    continue
                whole = sp.expand(first * second)
                if not isinstance(whole, sp.Add):
                    continue
                part, content = _primitive(whole)
                if part not in sums:
                    continue
                term, its_content = sums[part]
                rest = list(factors)
                rest.remove(first)
                rest.remove(second)
                written = sp.Mul(*rest) * (content / its_content) * term
                if written.has(term):  # not merged into a 2-term product
                    return written
        return product

    return [e.replace(product_of_sums, expanded) for e in exprs]


# Terms of the largest sum _expanded_where_shared multiplies out.
_SMALL_SUM = 4


def _primitive(term: sp.Expr) -> tuple[sp.Expr, sp.Rational]:
    """``(p, c)`` with ``term == c * p``, ``p`` one of ``±p`` whichever
    sorts first, so ``1 - t ** 2`` and ``2 * t ** 2 - 2`` share ``p``."""
    content, part = term.primitive()
    if sp.default_sort_key(-part) < sp.default_sort_key(part):
        content, part = -content, -part
    return part, content


def _shared(exprs: list[sp.Expr], squares: bool
            ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Temporaries for what ``exprs`` compute more than once, and ``exprs``
    written over them.

    Powers first become products of shared steps (``_Powers``), so that
    ``r ** 6`` and ``r ** 13`` share ``r_sq`` and ``r_pow4``; then SymPy's
    CSE finds the rest. Like terms that a shared factor hid are brought
    together (CSE makes a shared product one name, so some show only
    now). Last, every temporary the code would read at most once is
    written back where it is read, and so is every alias and
    every trivial value (``2 * x``): CSE and the power steps leave such
    temporaries behind (a power step used once, a value whose other use
    became a power of it).
    """
    plain = _shared_over(exprs, [], squares)
    stood_in, sums = _over_primitive_sums(exprs)
    if not sums:
        return plain
    over_sums = _shared_over(stood_in, sums, squares)
    if _operations(over_sums) < _operations(plain):
        return over_sums
    return plain


def _operations(code: tuple[list[tuple[sp.Symbol, sp.Expr]],
                            list[sp.Expr]]) -> int:
    temporaries, outputs = code
    return cost([value for _, value in temporaries] + outputs)


def _shared_over(exprs: list[sp.Expr],
                 sums: list[tuple[sp.Symbol, sp.Expr]], squares: bool,
                 ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """``_shared``'s work, with ``sums`` (stand-ins and the sums they hold)
    as steps of their own."""
    powers = _Powers(squares)
    rewritten = [powers.rewrite(e) for e in exprs]
    sums = [(stand_in, powers.rewrite(value)) for stand_in, value in sums]
    early = powers.steps + sums
    replacements, reduced = cse(
        rewritten + [value for _, value in early],
        symbols=sp.numbered_symbols("_cse", cls=sp.Dummy))
    steps = [(step, value) for (step, _), value in
             zip(early, reduced[len(exprs):])]
    ordered = _in_dependency_order(replacements, steps)
    outputs = reduced[:len(exprs)]
    ordered, outputs = _over_named_powers(ordered, outputs)
    ordered, outputs = _tidied(ordered, outputs, squares)
    # CSE once more: SymPy's misses a product whose coefficient differs
    # from the one it named (-2 * a * b beside 2 * a * b * c), and values
    # written back make some repeats only now. (Not when nothing was
    # named and nothing changed: it would find nothing again.)
    if not ordered and outputs == rewritten and not early:
        return ordered, outputs
    again, reduced = cse([v for _, v in ordered] + outputs,
                         symbols=sp.numbered_symbols("_again",
                                                     cls=sp.Dummy))
    if again:
        ordered = [(t, v) for (t, _), v in zip(ordered, reduced)]
        ordered, outputs = _tidied(
            _in_dependency_order(again + ordered, []),
            reduced[len(ordered):], squares)
    return _reading_names(*_over_named_products(ordered, outputs))


def _over_named_products(temporaries: list[tuple[sp.Symbol, sp.Expr]],
                         outputs: list[sp.Expr],
                         ) -> tuple[list[tuple[sp.Symbol, sp.Expr]],
                                    list[sp.Expr]]:
    """A product that holds a named product read by its name: ``t_1 * x *
    y`` for ``sin_t * exp * x * y`` once ``t_1 = sin_t * exp`` is a
    temporary. SymPy's CSE names a product where it stands whole, not
    where it is part of a larger one (a Hessian's terms, each the product
    times another factor)."""
    products = {t: frozenset(v.args) for t, v in temporaries
                if isinstance(v, sp.Mul)
                and not any(a.is_Number for a in v.args)}
    if not products:
        return temporaries, outputs

    def over(expr: sp.Expr, usable: dict[sp.Symbol, frozenset]) -> sp.Expr:
        def holds(node: sp.Basic) -> bool:
            return isinstance(node, sp.Mul) and any(
                factors <= set(node.args) for factors in usable.values())

        def rewritten(product: sp.Mul) -> sp.Expr:
            factors = set(product.args)
            while True:
                found = max((t for t, f in usable.items() if f <= factors),
                            key=lambda t: len(usable[t]), default=None)
                if found is None:
                    return sp.Mul(*factors)
                factors = (factors - usable[found]) | {found}

        return expr.replace(holds, rewritten) if usable else expr

    usable: dict[sp.Symbol, frozenset] = {}
    written = []
    for temporary, value in temporaries:  # (each over those before it)
        written.append((temporary, over(value, usable)))
        if temporary in products:
            usable[temporary] = products[temporary]
    return written, [over(e, usable) for e in outputs]


def _reading_names(temporaries: list[tuple[sp.Symbol, sp.Expr]],
                   outputs: list[sp.Expr],
                   ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """A value a temporary holds, read by its name where the code computes
    it again: collecting like terms after the last CSE can make one
    (16 * a * b + 16 * a * b is 32 * a * b, which t = 32 * a * b holds)."""
    names: dict[sp.Expr, sp.Symbol] = {}
    aliases: dict[sp.Basic, sp.Basic] = {}  # a value held twice: one name
    read = []
    for temporary, value in temporaries:
        value = value.xreplace(aliases).xreplace(names)
        if value in names or isinstance(value, sp.Symbol):
            aliases[temporary] = names.get(value, value)
            continue
        read.append((temporary, value))
        if not _is_trivial(value):
            names.setdefault(value, temporary)
    return read, [e.xreplace(aliases).xreplace(names) for e in outputs]


def _over_primitive_sums(exprs: list[sp.Expr]
                         ) -> tuple[list[sp.Expr],
                                    list[tuple[sp.Symbol, sp.Expr]]]:
    """``exprs`` with each small sum that they compute in more than one
    form, equal up to a rational factor, written over one stand-in for
    it, and the stand-ins with the sums they hold.

    SymPy distributes a rational factor over a sum (``1.1 * (1 - u)`` is
    ``1.1 - 1.1 * u``), so CSE, which matches structure, names ``1 - u``
    and computes ``1.1 - 1.1 * u`` (or ``2.2 - 2.2 * u + w``) beside it:
    the derivatives of tanh code hold 1 - tanh ** 2 times every constant
    the chain rule brings. A sum of up to _SMALL_SUM terms is shared when
    it appears in two forms, or as a whole and as part of a larger sum
    (whose other terms stay as they are), and one form is the sum itself
    (up to sign) or its coefficients are 1 and -1. Relations (conditions)
    are left as written. ``_shared`` keeps the result only where the code
    is then cheaper.
    """
    forms: dict[sp.Expr, set[sp.Expr]] = {}
    for expr in exprs:
        for term in expr.atoms(sp.Add):
            if _is_small_sum(term):
                part, _ = _primitive(term)
                forms.setdefault(part, set()).add(term)
    if not forms:
        return exprs, []
    # Where a part's first term appears in a larger sum, with any factor.
    leading: dict[sp.Expr, list[sp.Expr]] = {}
    for part in sorted(forms, key=sp.default_sort_key):
        first = part.args[0].as_coeff_Mul()[1]
        leading.setdefault(first, []).append(part)

    def inside(total: sp.Add) -> tuple[sp.Expr, sp.Rational] | None:
        """A part whose multiple is some of ``total``'s terms."""
        terms = set(total.args)
        for term in total.args:
            coefficient, rest = term.as_coeff_Mul()
            for part in leading.get(rest, ()):
                if len(part.args) >= len(total.args):
                    continue
                factor = coefficient / part.args[0].as_coeff_Mul()[0]
                if factor.is_Rational and all(
                        factor * t in terms for t in part.args):
                    return part, factor
        return None

    within: set[sp.Expr] = set()
    for expr in exprs:
        for total in expr.atoms(sp.Add):
            found = inside(total)
            if found is not None:
                within.add(found[0])
    # The stand-in holds the sum as the code writes it (-x ** 2 - x), or
    # with unit coefficients (1 - tanh ** 2 for 2 - 2 * tanh ** 2 beside
    # 4 - 4 * tanh ** 2). Other sums are left alone: for 1.1 * x + 0.3
    # beside 4.4 * x + 1.2 it would be 11 * x + 3, a value nobody wrote.
    signs: dict[sp.Expr, int] = {}
    for part in sorted(forms, key=sp.default_sort_key):
        written = {_primitive(term)[1] for term in forms[part]}
        if not (len(forms[part]) > 1 or part in within):
            continue
        if -1 in written and 1 not in written:
            signs[part] = -1
        elif 1 in written or all(abs(t.as_coeff_Mul()[0]) == 1
                                 for t in part.args):
            signs[part] = 1
    if not signs:
        return exprs, []
    dummies = {part: sp.Dummy("sum") for part in signs}
    # part == sign * dummy; the dummy holds the sum as written
    stand_ins = {part: signs[part] * dummies[part] for part in signs}
    done: dict[sp.Basic, sp.Basic] = {}

    def rewrite(expr: sp.Basic) -> sp.Basic:
        if not expr.args or isinstance(expr, (sp.Rel, Boolean)):
            return expr
        if expr not in done:
            done[expr] = rewritten(expr)
        return done[expr]

    def rewritten(expr: sp.Basic) -> sp.Basic:
        if isinstance(expr, sp.Add):
            if _is_small_sum(expr):
                part, content = _primitive(expr)
                if part in stand_ins:
                    return content * stand_ins[part]
            found = inside(expr)
            if found is not None and found[0] in stand_ins:
                part, factor = found
                matched = {factor * term for term in part.args}
                return sp.Add(*[rewrite(t) for t in expr.args
                                if t not in matched]) + \
                    factor * stand_ins[part]
        return _with_args(expr, [rewrite(a) for a in expr.args])

    return ([rewrite(e) for e in exprs],
            [(dummies[part], signs[part] * _with_args(
                part, [rewrite(a) for a in part.args])) for part in signs])


def _with_args(expr: sp.Basic, args: list[sp.Basic]) -> sp.Basic:
    return expr.func(*args) if args != list(expr.args) else expr


def _is_small_sum(expr: sp.Basic) -> bool:
    return (isinstance(expr, sp.Add) and len(expr.args) <= _SMALL_SUM
            and bool(expr.free_symbols))


def _tidied(temporaries: list[tuple[sp.Symbol, sp.Expr]],
            outputs: list[sp.Expr], squares: bool,
            ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Like terms collected, temporaries read at most once written back,
    and like terms that this brings together collected. (Collecting them
    may leave a value read once; writing that back too, round after
    round, undoes the nesting that keeps the next derivative small.)"""
    temporaries, outputs = _written_back(
        [(t, collect_like_terms(v)) for t, v in temporaries],
        [collect_like_terms(e) for e in outputs], squares)
    return ([(t, collect_like_terms(v)) for t, v in temporaries],
            [collect_like_terms(e) for e in outputs])


def _over_named_powers(temporaries: list[tuple[sp.Symbol, sp.Expr]],
                       outputs: list[sp.Expr],
                       ) -> tuple[list[tuple[sp.Symbol, sp.Expr]],
                                  list[sp.Expr]]:
    """Powers of a base written from its named powers: ``r_sq ** 6 * r``
    for ``r ** 13`` once ``r_sq = r ** 2`` is a temporary (in math code,
    and of constants, ``_Powers`` leaves integer powers whole)."""
    named: dict[sp.Expr, list[tuple[int, sp.Symbol]]] = {}
    for temporary, value in temporaries:
        if isinstance(value, sp.Pow) and value.exp.is_Integer and \
                value.exp > 1:
            named.setdefault(value.base, []).append((int(value.exp),
                                                     temporary))
    if not named:
        return temporaries, outputs

    def usable(power: sp.Basic) -> list[tuple[int, sp.Symbol]]:
        if not (isinstance(power, sp.Pow) and power.exp.is_Integer
                and power.base in named):
            return []
        exponent = int(power.exp)
        return [(k, t) for k, t in named[power.base]
                if k < abs(exponent) or k == -exponent]

    def rewritten(power: sp.Pow) -> sp.Expr:
        exponent = abs(int(power.exp))
        k, temporary = max(usable(power), key=lambda o: o[0])
        product = temporary ** (exponent // k) * power.base ** (exponent % k)
        return product if power.exp > 0 else 1 / product

    temporaries = [(t, v.replace(lambda e: bool(usable(e)), rewritten))
                   for t, v in temporaries]
    outputs = [e.replace(lambda e: bool(usable(e)), rewritten)
               for e in outputs]
    return _in_dependency_order(temporaries, []), outputs


class _Powers:
    """Integer powers as products of repeated squares, and half-integer
    powers over one square root, each step a value of its own.

    With ``squares`` (NumPy code), ``b ** 13`` is ``b_pow8 * b_pow4 * b``
    over the steps ``b_sq = b ** 2``, ``b_pow4 = b_sq ** 2``, ...: NumPy
    squares an array fast but computes other integer powers with the
    general pow, several times slower. Math code (Python floats) keeps
    ``b ** 13``, one call. ``b ** 1.5`` is ``b * sqrt_b`` in both, so it
    shares ``sqrt_b`` with the code that needs the root itself.
    """

    def __init__(self, squares: bool) -> None:
        self.squares = squares
        self.steps: list[tuple[sp.Dummy, sp.Expr]] = []
        self._levels: dict[sp.Expr, list[sp.Expr]] = {}
        self._powers: dict[tuple[sp.Expr, int], sp.Dummy] = {}
        self._roots: dict[sp.Expr, sp.Dummy] = {}

    def rewrite(self, expr: sp.Expr) -> sp.Expr:
        # replace works bottom-up: a base's own powers are rewritten first.
        return expr.replace(self._applies, self._power)

    def _applies(self, expr: sp.Basic) -> bool:
        if not (isinstance(expr, sp.Pow) and expr.exp.is_Rational
                and expr.base.free_symbols):
            return False
        if expr.exp.is_Integer:
            return self.squares and abs(expr.exp) >= 2
        return expr.exp.q == 2

    def _power(self, expr: sp.Pow) -> sp.Expr:
        base, exponent = expr.base, abs(expr.exp)
        if exponent.is_Integer:
            product = self._integer_power(base, int(exponent))
        else:
            whole = int(exponent - sp.S.Half)
            root = self._root(base)
            product = root * (self._integer_power(base, whole)
                              if self.squares else base ** whole)
        return product if expr.exp > 0 else 1 / product

    def _integer_power(self, base: sp.Expr, exponent: int) -> sp.Expr:
        """``base ** exponent`` over the squares, a step of its own when it
        takes several (``b_cube = b * b_sq``): inside a larger product its
        factors would merge with the others', and CSE then finds the
        power only in some of the products that hold it."""
        if (base, exponent) in self._powers:
            return self._powers[base, exponent]
        factors, bits, level = [], exponent, 0
        while bits:
            if bits % 2:
                factors.append(self._level(base, level))
            bits //= 2
            level += 1
        if len(factors) < 2:
            return sp.Mul(*factors)  # b, b_sq, or 1 for b ** 0
        step = sp.Dummy("power")
        self.steps.append((step, sp.Mul(*factors)))
        self._powers[base, exponent] = step
        return step

    def _level(self, base: sp.Expr, level: int) -> sp.Expr:
        """``base ** (2 ** level)``, a step of its own from level 1 up."""
        levels = self._levels.setdefault(base, [base])
        while len(levels) <= level:
            step = sp.Dummy("square")
            self.steps.append((step, levels[-1] ** 2))
            levels.append(step)
        return levels[level]

    def _root(self, base: sp.Expr) -> sp.Dummy:
        if base not in self._roots:
            self._roots[base] = sp.Dummy("root")
            self.steps.append((self._roots[base], sp.sqrt(base)))
        return self._roots[base]


def _written_back(temporaries: list[tuple[sp.Symbol, sp.Expr]],
                  outputs: list[sp.Expr], squares: bool,
                  ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """``temporaries`` without those the code would read at most once,
    aliases and trivial values, each written back where it is read."""
    inline: dict[sp.Symbol, sp.Expr] = {}
    kept: list[tuple[sp.Symbol, sp.Expr]] = []
    for temporary, value in temporaries:
        value = value.xreplace(inline)
        if isinstance(value, sp.Symbol) or _is_trivial(value):
            inline[temporary] = value
        else:
            kept.append((temporary, value))
    outputs = [e.xreplace(inline) for e in outputs]
    while True:
        reads: dict[sp.Basic, int] = {}
        for expr in [value for _, value in kept] + outputs:
            _count_reads(expr, squares, reads)
        once = {t for t, _ in kept if reads.get(t, 0) <= 1}
        if not once:
            return kept, outputs
        inline = {}
        remaining = []
        for temporary, value in kept:
            value = value.xreplace(inline)
            if temporary in once:
                inline[temporary] = value
            else:
                remaining.append((temporary, value))
        kept, outputs = remaining, [e.xreplace(inline) for e in outputs]


def _count_reads(expr: sp.Basic, squares: bool,
                 reads: dict[sp.Basic, int]) -> None:
    """Add to ``reads`` how often the printed ``expr`` names each symbol:
    a power may name its base more than once (``t * t * t``,
    ``x * np.sqrt(x)``), as ``ExpressionPrinter`` writes it."""
    if isinstance(expr, sp.Symbol):
        reads[expr] = reads.get(expr, 0) + 1
    elif isinstance(expr, sp.Pow) and isinstance(expr.base, sp.Symbol) \
            and expr.exp.is_Rational:
        exponent = abs(expr.exp)
        times = 1
        if not exponent.is_Integer and exponent.q == 2 and exponent > 1:
            times = 2  # x * sqrt(x)
        elif exponent.is_Integer and squares and exponent > 2:
            times = bin(int(exponent)).count("1") + (exponent == 3)
        reads[expr.base] = reads.get(expr.base, 0) + times
    else:
        for arg in expr.args:
            _count_reads(arg, squares, reads)


def _in_dependency_order(
        replacements: list[tuple[sp.Symbol, sp.Expr]],
        early: list[tuple[sp.Symbol, sp.Expr]],
) -> list[tuple[sp.Symbol, sp.Expr]]:
    """``replacements`` in their order, with each of ``early`` placed as
    soon as what it uses is defined."""
    temporaries = {t for t, _ in replacements} | {t for t, _ in early}
    pending, waiting = list(replacements), list(early)
    ordered: list[tuple[sp.Symbol, sp.Expr]] = []
    defined: set[sp.Symbol] = set()

    def ready(item: tuple[sp.Symbol, sp.Expr]) -> bool:
        return (item[1].free_symbols & temporaries) <= defined

    while pending or waiting:
        item = next((i for i in waiting if ready(i)), None)
        if item is not None:
            waiting.remove(item)
        else:
            item = next(i for i in pending if ready(i))
            pending.remove(item)
        ordered.append(item)
        defined.add(item[0])
    return ordered


def _suggest_name(expr: sp.Expr, names: dict[sp.Symbol, str]) -> str | None:
    """A name that says what a temporary holds, like ``tanh_x_sq``."""
    suggestion = _label(expr, names, depth=0)
    if suggestion is None or len(suggestion) > _LONGEST_NAME:
        return None
    return suggestion


_POWER_SUFFIXES = {2: "sq", 3: "cube", -1: "inv"}


def _label(expr: sp.Basic, names: dict[sp.Symbol, str],
           depth: int) -> str | None:
    if isinstance(expr, sp.Symbol):
        return names.get(expr, expr.name).replace(".", "_")
    if expr in (sp.pi, sp.E):
        return str(expr).lower()
    if depth > 1:
        return None
    # A call of the table's: a function, or a condition (np.isnan(x)).
    if isinstance(expr, Application) and not isinstance(
            expr, (BooleanFunction, *OPERATOR_FUNCTIONS)):
        labels = [_label(a, names, depth + 1) for a in expr.args]
        if all(labels):
            return "_".join([_function_label(type(expr))] + labels)  # type: ignore[list-item]
    elif isinstance(expr, sp.Pow):
        base = _label(expr.base, names, depth + 1)
        if base and expr.exp == sp.S.Half:
            return f"sqrt_{base}"
        suffix = _POWER_SUFFIXES.get(expr.exp)  # type: ignore[call-overload]
        if suffix is None and expr.exp.is_Integer and expr.exp > 3:
            suffix = f"pow{expr.exp}"
        if base and suffix:
            return f"{base}_{suffix}"
    return None


def _is_trivial(value: sp.Expr) -> bool:
    """Cheaper to recompute than to name: ``2*x``, ``-x``."""
    if isinstance(value, sp.Mul) and len(value.args) == 2:
        number, other = value.args
        return number.is_Number and isinstance(other, sp.Symbol)
    return False


def _function_label(cls: type) -> str:
    try:
        return spelling_for(cls, "math").split(".")[-1]
    except KeyError:
        return cls.__name__
