"""Codegen stage: SymPy outputs -> the source of a readable Python function.

Branches (``Piecewise`` at the top of the outputs) become if-statements with
early returns, so each branch computes only what it needs and nothing is
evaluated outside its domain. Within a branch, common subexpressions become
local variables named after what they hold (``tanh_x``, ``x_sq``), never
clashing with the user's names. The source is printed by ``_unparse``.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import sympy as sp
from sympy.core.function import Application
from sympy.logic.boolalg import Boolean, BooleanFunction

from ._limits import collector_paused
from ._printer import ExpressionPrinter
from ._program import unique_name
from ._rules import OPERATOR_FUNCTIONS, spelling_for
from ._simplify import collect_like_terms, cost, cse, simplify
from ._singular import with_removable_singularity
from ._unparse import to_source
from ._wrap import _WIDTH, _filled, _wrap, _wrap_line

__all__ = ["FunctionSpec", "Literal", "generate_source"]

_LONGEST_NAME = 24


@dataclass(frozen=True)
class Literal:
    """A constant the generated code returns as written: a string, None or
    a bool that a function returns in its aux output."""

    value: Any


@dataclass
class FunctionSpec:
    """Everything needed to write one generated function.

    ``structure`` is the shape of the return value: an int indexes
    ``outputs``, a tuple returns a tuple of such structures, a ``Literal``
    is returned as written (an aux string or None). ``shape_of``
    maps an output index to the argument whose shape that output must have
    even where it does not depend on it (a constant gradient).
    """

    name: str
    params: Sequence[str]
    defaults: Sequence[Any]
    docstring: str
    namespace: str
    outputs: Sequence[sp.Expr]
    structure: Any
    shape_of: dict[int, sp.Symbol] = field(default_factory=dict)
    output_names: dict[int, str] = field(default_factory=dict)
    symbol_names: dict[sp.Symbol, str] = field(default_factory=dict)
    # How many of the last parameters are keyword-only (``*, k=2.0``), as
    # in the user's function: the printed source is called as it is.
    keyword_only: int = 0


@collector_paused()
def generate_source(spec: FunctionSpec) -> str:
    """The Python source of the function described by ``spec``."""
    writer = _BodyWriter(spec)
    docstring = _filled(spec.docstring)
    body: list[ast.stmt] = [ast.Expr(ast.Constant(docstring))]
    body += writer.branches(list(spec.outputs))
    function = ast.FunctionDef(
        name=spec.name, args=_arguments(spec), body=body, decorator_list=[],
        returns=None, type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        function.type_params = []
    module = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(module)
    text = to_source(module, _pretty_string)
    return _wrap(text)


def _pretty_string(text: str, embedded: bool, current_line: Any,
                   uni_lit: bool = False, **kwargs: Any) -> str:
    """Docstrings as triple-quoted blocks; other strings as repr.

    Only text that a triple-quoted literal holds unchanged: no backslash,
    no closing quotes inside or at its end, and nothing but printable
    characters and newlines (a carriage return would be read back as a
    newline). A pytree key can hold any text.
    """
    if ("\n" in text and '"""' not in text and "\\" not in text
            and not text.endswith('"')
            and text.replace("\n", "").isprintable()):
        return f'"""{text}"""'
    return repr(text)


def _arguments(spec: FunctionSpec) -> ast.arguments:
    defaults = []
    for value in spec.defaults:
        node = ast.Constant(value)
        try:
            if ast.literal_eval(to_source(node).strip()) != value:
                raise ValueError
        except (ValueError, SyntaxError):
            raise TypeError(f"the default value {value!r} cannot be written "
                            "into generated source") from None
        defaults.append(node)
    split = len(spec.params) - spec.keyword_only
    last = len(defaults) - spec.keyword_only
    return ast.arguments(posonlyargs=[],
                         args=[ast.arg(p) for p in spec.params[:split]],
                         vararg=None,
                         kwonlyargs=[ast.arg(p) for p in spec.params[split:]],
                         kw_defaults=defaults[last:], kwarg=None,
                         defaults=defaults[:last])


class _BodyWriter:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        # Outside values read by name (BETA, self.k) must not be shadowed.
        outside = {s.name.partition(".")[0] for e in spec.outputs
                   if isinstance(e, sp.Basic) for s in e.free_symbols}
        self.reserved = (set(spec.params) | {spec.name, "np", "math"}
                         | outside | set(keyword.kwlist) | set(dir(builtins)))

    def branches(self, exprs: list[sp.Expr], indent: int = 4
                 ) -> list[ast.stmt]:
        folded = [sp.piecewise_fold(e) for e in exprs]
        split = next((e for e in folded if isinstance(e, sp.Piecewise)), None)
        if split is None:
            return self.straight_line(folded, indent)
        printer = self.printer({})
        statements: list[ast.stmt] = []
        conditions = [piece.cond for piece in split.args]
        for index, piece in enumerate(split.args):
            branch = [_piece(e, conditions, index) for e in folded]
            if piece.cond is sp.true:
                statements.extend(self.branches(branch, indent))
                return statements
            statements.append(ast.If(printer(piece.cond),
                                     self.branches(branch, indent + 4), []))
        # No branch is the default: outside every condition the value is nan.
        nan = [sp.nan for _ in exprs]
        statements.extend(self.straight_line(nan, indent))
        return statements

    def printer(self, names: dict[sp.Symbol, str]) -> ExpressionPrinter:
        return ExpressionPrinter(self.spec.namespace,
                                 {**self.spec.symbol_names, **names})

    def straight_line(self, exprs: list[sp.Expr],
                      indent: int) -> list[ast.stmt]:
        chosen = [with_removable_singularity(e)
                  if index in self.spec.shape_of else e
                  for index, e in enumerate(simplify(exprs))]
        replacements, reduced = _shared(
            chosen, squares=self.spec.namespace == "numpy")
        # A value that is returned is named after what it is (grad_x),
        # though other values read it too.
        returned: dict[sp.Basic, str] = {}
        for index, expr in enumerate(reduced):
            if index in self.spec.output_names:
                returned.setdefault(expr, self.spec.output_names[index])
        lines = _Lines(self, indent)
        for temporary, value in replacements:
            lines.assign(temporary, value, returned.get(temporary))
        # Outputs that do not depend on the argument they are the gradient
        # of still take its shape; done once, where the output is written.
        unshaped = {index for index, original in enumerate(chosen)
                    if index in self.spec.shape_of and
                    self.spec.shape_of[index] not in original.free_symbols}

        def shaped(index: int, expr: sp.Expr, node: ast.expr) -> ast.expr:
            if index not in unshaped:
                return node
            return _broadcast_like(
                node, expr, lines.printer()(self.spec.shape_of[index]),
                self.spec.namespace)

        # An output that only takes an argument's shape (0.0 * x ** 0)
        # and is returned more than once (the four zeros of the Hessian of
        # x + y) is computed once, named for what it is.
        alike: dict[tuple[sp.Expr, sp.Symbol], list[int]] = {}
        for index in sorted(unshaped):
            alike.setdefault((reduced[index], self.spec.shape_of[index]),
                             []).append(index)
        repeated = {key: indices for key, indices in alike.items()
                    if len(indices) > 1 and self.spec.namespace != "math"}
        for (expr, argument), indices in repeated.items():
            name = _SHAPED_NAMES.get(expr, "constant")
            spelled = lines.printer()(argument)
            if len(repeated) > 1 and isinstance(spelled, ast.Name):
                name = f"{name}_{spelled.id}"  # zero_x beside zero_y
            temporary = sp.Dummy("shaped")
            lines.assign(temporary, expr, name,
                         lambda e, node, i=indices[0]: shaped(i, e, node))
            for index in indices:
                reduced[index] = temporary
                unshaped.discard(index)

        def returning(outputs: list[sp.Expr]) -> ast.stmt:
            printer = lines.printer()
            printed = [shaped(index, expr, printer(expr))
                       for index, expr in enumerate(outputs)]
            return ast.Return(_structure(self.spec.structure, printed))

        statement = returning(reduced)
        as_printed: list[sp.Expr] | None = reduced
        if isinstance(statement.value, ast.Tuple) and len(  # type: ignore
                to_source(statement, _pretty_string)) > _WIDTH - 8:
            # A long tuple reads better as one named line per output.
            for index in range(len(reduced)):
                expr = reduced[index]  # an equal output may be named now
                if isinstance(expr, sp.Symbol) or expr.is_Number or \
                        index not in self.spec.output_names:
                    continue
                temporary = sp.Dummy("output")
                lines.assign(temporary, expr, self.spec.output_names[index],
                             lambda e, node, i=index: shaped(i, e, node))
                unshaped.discard(index)
                reduced = [temporary if e == expr else e for e in reduced]
            as_printed = None

        def returned_once(outputs: list[sp.Expr]) -> ast.stmt:
            # The statement printed above, not printed again: a long sum
            # takes as long to print as the rest of the code together.
            if outputs == as_printed:
                return statement
            return returning(outputs)

        lines.add(reduced, returned_once)
        return lines.statements


class _Lines:
    """The statements of one straight-line block, each line named and
    fitted to _WIDTH columns.

    When no layout of a statement fits (a deeply nested Horner polynomial
    breaks into a staircase that runs off to the right), a part of it that
    fits on a line of its own gets a name first, as a person would split
    it.
    """

    def __init__(self, writer: _BodyWriter, indent: int) -> None:
        self.writer = writer
        self.indent = indent
        self.statements: list[ast.stmt] = []
        self.names: dict[sp.Symbol, str] = {}
        self.taken = set(writer.reserved)
        self.generic = 0
        # Temporaries' powers (r_pow4 -> r ** 4), to name what uses them.
        self.powers: dict[sp.Symbol, sp.Expr] = {}
        self.parts: dict[sp.Expr, sp.Symbol] = {}  # named to fit a line

    def printer(self) -> ExpressionPrinter:
        return self.writer.printer(self.names)

    def name(self, value: sp.Expr, suggestion: str | None = None) -> str:
        # Named after the power it is: r_pow4 = r_sq ** 2.
        suggestion = suggestion or _suggest_name(
            value.xreplace(self.powers),
            {**self.writer.spec.symbol_names, **self.names})
        if suggestion is None:
            suggestion, self.generic = f"t{self.generic}", self.generic + 1
        name = unique_name(suggestion, self.taken)
        self.taken.add(name)
        return name

    def assign(self, temporary: sp.Symbol, value: sp.Expr,
               suggestion: str | None = None,
               finish: Callable[[sp.Expr, ast.expr], ast.expr] | None = None,
               ) -> None:
        """``name = value``, named after ``suggestion`` or what it holds;
        ``finish`` completes the printed value."""
        def assignment(values: list[sp.Expr]) -> ast.stmt:
            node = self.printer()(values[0])
            if finish is not None:
                node = finish(values[0], node)
            return ast.Assign([ast.Name(name, ast.Store())], node, None)

        name = self.name(value, suggestion)
        self.add([value], assignment)
        self.names[temporary] = name
        power = value.xreplace(self.powers)
        if isinstance(power, sp.Pow) and power.exp.is_Integer:
            self.powers[temporary] = power

    def add(self, values: list[sp.Expr],
            build: Callable[[list[sp.Expr]], ast.stmt]) -> None:
        """The statement ``build`` makes of ``values``, after the
        temporaries it needs to fit."""
        values = [v.xreplace(self.parts) for v in values]
        while True:
            statement = build(values)
            if self.fits(statement):
                break
            part = self.part(values)
            if part is None:
                break
            temporary = sp.Dummy("part")
            self.assign(temporary, part)
            # Its negation too: the printer folds a sign into a sum, so
            # -(a - 32 * b * c) would print 32 * b * c beside the name.
            named = {part: temporary, -part: -temporary}
            self.parts.update(named)
            values = [v.xreplace(named) for v in values]
        self.statements.append(statement)

    def fits(self, statement: ast.stmt) -> bool:
        """Whether the statement's lines fit, none of them starting so far
        right that little room is left (a staircase)."""
        module = ast.Module(body=[statement], type_ignores=[])
        text = " " * self.indent + to_source(ast.fix_missing_locations(
            module), _pretty_string)
        lines = _wrap_line(text).splitlines()
        return all(len(line) <= _WIDTH for line in lines) and all(
            len(line) - len(line.lstrip()) <= _DEEPEST for line in lines)

    def part(self, values: list[sp.Expr]) -> sp.Expr | None:
        """The part of ``values`` to name first: on the way to their most
        deeply nested operation, the largest part that fits on a line of
        its own (never one inside a branch of a conditional expression,
        which runs only when its condition holds)."""
        room = _WIDTH - self.indent - len("t00 = ")
        printer = self.printer()
        deepest: list[sp.Expr] = []
        for value in values:
            path = _deepest_path(value)
            if len(path) > len(deepest):
                deepest = path
        for node in deepest[1:]:
            if isinstance(node, sp.Expr) and node.free_symbols and not \
                    isinstance(node, (sp.Symbol, sp.Number)) and not \
                    _is_trivial(node) and len(
                    to_source(printer(node)).strip()) <= room:
                return node
        return None


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
    array writer (``_array_codegen``); scalar code uses ``_shared``, which
    also leaves no alias, no unused square and no value read once.

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
    return kept, [e.xreplace(inline) for e in reduced]


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
    return _reading_names(ordered, outputs)


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


# Names of a constant output with an argument's shape (``zero = 0.0 * x **
# 0``), where it is named; other constants are a ``constant``.
_SHAPED_NAMES = {sp.Integer(0): "zero", sp.Integer(1): "one"}


def _broadcast_like(node: ast.expr, expr: sp.Expr, argument: ast.expr,
                    namespace: str) -> ast.expr:
    """``expr``, which does not depend on the argument, with the argument's
    shape and type: ``6 * x ** 0``.

    ``x ** 0`` is 1 for every x, inf and nan included (IEEE 754 pow), and
    keeps what x is: a Python float stays a float, np.float32 stays
    float32, an array keeps its shape and dtype, an int gives exact
    integers as the rest of the code does. It is plain arithmetic, so the
    next derivative reads it like any other code. (``expr + 0.0 * x``, the
    form before, was nan at inf and nan. ``np.full_like`` is one pass over
    an array instead of two, but is 20 times slower at a float, truncates
    ``full_like(3, 0.5)`` to 0 and is not in the rules table.)
    Math code only ever takes Python scalars: there the constant alone.
    """
    if namespace == "math":
        if isinstance(expr, sp.Integer):  # a float, as math functions give
            constant = ast.Constant(float(abs(int(expr))))
            return constant if expr >= 0 else ast.UnaryOp(ast.USub(), constant)
        return node
    ones = ast.BinOp(argument, ast.Pow(), ast.Constant(0))
    if expr == 0:
        return ast.BinOp(ast.Constant(0.0), ast.Mult(), ones)
    if expr == 1:
        return ones
    # -1 * x ** 0, not -x ** 0, which reads as (-x) ** 0.
    return ast.BinOp(node, ast.Mult(), ones)


def _structure(structure: Any, printed: list[ast.expr]) -> ast.expr:
    if isinstance(structure, Literal):
        return ast.Constant(structure.value)
    if isinstance(structure, int):
        return printed[structure]
    return ast.Tuple([_structure(s, printed) for s in structure], ast.Load())


def _piece(expr: sp.Expr, conditions: list[sp.Basic], index: int) -> sp.Expr:
    if isinstance(expr, sp.Piecewise) and [
            p.cond for p in expr.args] == conditions:
        return expr.args[index].expr
    return expr


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
