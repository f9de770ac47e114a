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
import io
import keyword
import tokenize
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import sympy as sp

from ._printer import ExpressionPrinter
from ._program import unique_name
from ._rules import OPERATOR_FUNCTIONS, spelling_for
from ._simplify import simplify
from ._singular import with_removable_singularity
from ._unparse import to_source

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


def generate_source(spec: FunctionSpec) -> str:
    """The Python source of the function described by ``spec``."""
    writer = _BodyWriter(spec)
    body: list[ast.stmt] = [ast.Expr(ast.Constant(spec.docstring))]
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


_WIDTH = 79


def _wrap(source: str) -> str:
    """``source`` with each long one-line statement broken by _wrap_line.

    Lines are found by Python's tokenizer, so a line inside a multi-line
    string (a docstring, a key holding a newline) is never touched.
    """
    lines = io.StringIO(source).readlines()  # split where tokenize splits
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    if tokens[-1].start[0] != len(lines) + 1:  # rows disagree: leave it
        return source
    spanned = {row for token in tokens if token.start[0] != token.end[0]
               for row in range(token.start[0], token.end[0] + 1)}
    return "".join(line if row in spanned else _wrap_line(line)
                   for row, line in enumerate(lines, 1))


def _wrap_line(line: str) -> str:
    """Break a long ``name = ...`` or ``return ...`` line at ``+``, ``-``
    and ``,`` inside one pair of parentheses, as a person would.

    The line is read as tokens, so it is never broken inside a string
    literal (a pytree key may hold any text) or inside brackets.
    """
    text = line.rstrip("\n")
    if len(text) <= _WIDTH:
        return line
    tokens = _tokens(text)
    if tokens is None:
        return line
    if len(tokens) > 1 and tokens[0].text == "return":
        first = 1
    elif len(tokens) > 2 and tokens[0].kind == tokenize.NAME and \
            tokens[1].text == "=":
        first = 2
    else:
        return line
    start, end = tokens[first].start, len(tokens)
    operators = _SUMS
    if not _split_points(tokens, first, end) and _split_points(
            tokens, first, end, _PRODUCTS):
        operators = _PRODUCTS
    if _split_points(tokens, first, end, operators):
        text = f"{text[:start]}({text[start:]})"
        tokens = _tokens(text)
        if tokens is None:
            return line
        opening: int | None = first
    else:
        opening = _widest_splittable_group(tokens, first, end)
        if opening is None:
            return line
    points = _split_points(tokens, opening + 1, tokens[opening].partner,
                           operators)
    continuation = " " * (tokens[opening].start + 1)
    pieces = [text[a:b] for a, b in zip([0] + points, points + [len(text)])]
    lines: list[str] = []
    current = pieces[0]
    for piece in pieces[1:]:
        # Pieces meet between tokens: after a comma or before an operator
        # (the space before it does not end up on the line).
        if len((current + piece).rstrip()) > _WIDTH:
            lines.append(current.rstrip())
            current = continuation + piece.lstrip()
        else:
            current += piece
    lines.append(current)
    return "\n".join(lines) + "\n"


class _Token(NamedTuple):
    kind: int  # a tokenize token type
    text: str
    start: int  # columns in the line
    end: int
    partner: int  # for a bracket, the index of the one that matches it


_OPENING = {"(": ")", "[": "]", "{": "}"}
_LAYOUT = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENDMARKER}
# Python 3.12 tokenizes an f-string (3.14 a t-string too) into parts; we
# keep it in one piece.
_STRING_STARTS = {getattr(tokenize, f"{p}STRING_START", None) for p in "FT"}
_STRING_ENDS = {getattr(tokenize, f"{p}STRING_END", None) for p in "FT"}


def _tokens(text: str) -> list[_Token] | None:
    """The tokens of ``text``, one whole statement on one line, or None
    if it is not one (part of a multi-line string, unbalanced, or with a
    comment)."""
    indent = len(text) - len(text.lstrip())
    try:
        raw = [t for t in tokenize.generate_tokens(
            io.StringIO(text[indent:] + "\n").readline)
            if t.type not in _LAYOUT]
    except (tokenize.TokenError, SyntaxError):
        return None
    tokens: list[_Token] = []
    nesting, opened, stack = 0, 0, []
    for token in raw:
        if token.type in (tokenize.ERRORTOKEN, tokenize.COMMENT) or \
                token.start[0] != 1 or token.end[0] != 1:
            return None
        start, end = token.start[1] + indent, token.end[1] + indent
        if token.type in _STRING_STARTS:
            nesting, opened = nesting + 1, opened if nesting else start
            continue
        if nesting:
            if token.type in _STRING_ENDS:
                nesting -= 1
                if not nesting:
                    tokens.append(_Token(tokenize.STRING,
                                         text[opened:end], opened, end, -1))
            continue
        if token.type == tokenize.OP and token.string in _OPENING:
            stack.append(len(tokens))
        elif token.type == tokenize.OP and token.string in ")]}":
            if not stack or _OPENING[tokens[stack[-1]].text] != token.string:
                return None
            match = stack.pop()
            tokens[match] = tokens[match]._replace(partner=len(tokens))
            tokens.append(_Token(token.type, token.string, start, end,
                                 match))
            continue
        tokens.append(_Token(token.type, token.string, start, end, -1))
    return tokens if tokens and not stack and not nesting else None


def _widest_splittable_group(tokens: list[_Token], first: int,
                             end: int) -> int | None:
    """Where the widest parenthesized group that has split points opens,
    looking inside a group (``np.sum(np.log(a + b))``) when it has none
    itself."""
    while True:
        groups = _groups(tokens, first, end)
        if not groups:
            return None
        opening = max(groups, key=lambda g: tokens[tokens[g].partner].end
                      - tokens[g].start)
        if _split_points(tokens, opening + 1, tokens[opening].partner):
            return opening
        first, end = opening + 1, tokens[opening].partner


def _groups(tokens: list[_Token], first: int, end: int) -> list[int]:
    """The outermost parentheses among ``tokens[first:end]``, not those in
    a subscript's or a display's brackets."""
    groups, index = [], first
    while index < end:
        token = tokens[index]
        if token.partner > index:
            if token.text == "(":
                groups.append(index)
            index = token.partner
        index += 1
    return groups


_SUMS = ("+", "-")
_PRODUCTS = ("*", "/")


def _split_points(tokens: list[_Token], first: int, end: int,
                  operators: tuple[str, ...] = _SUMS) -> list[int]:
    """Columns where a line may break among ``tokens[first:end]``, outside
    any brackets in them: before a binary operator of ``operators`` and
    after a comma."""
    points, index = [], first
    while index < end:
        token = tokens[index]
        if token.partner > index:
            index = token.partner
        elif token.kind == tokenize.OP and token.text == ",":
            points.append(token.end)
        elif token.kind == tokenize.OP and token.text in operators and \
                _is_binary(tokens, index):
            points.append(token.start)
        index += 1
    return points


def _is_binary(tokens: list[_Token], index: int) -> bool:
    """Whether the operator at ``index`` follows an operand (``a - b``),
    rather than starting one (``-b``, ``x ** -1``, ``return -x``)."""
    if index == 0:
        return False
    before = tokens[index - 1]
    if before.kind == tokenize.NAME:
        return not keyword.iskeyword(before.text) or before.text in (
            "True", "False", "None")
    return before.kind in (tokenize.NUMBER, tokenize.STRING) or \
        before.text in (")", "]", "}")


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
    return ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in spec.params],
                         vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=defaults)


class _BodyWriter:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        # Outside values read by name (BETA, self.k) must not be shadowed.
        outside = {s.name.partition(".")[0] for e in spec.outputs
                   if isinstance(e, sp.Basic) for s in e.free_symbols}
        self.reserved = (set(spec.params) | {spec.name, "np", "math"}
                         | outside | set(keyword.kwlist) | set(dir(builtins)))

    def branches(self, exprs: list[sp.Expr]) -> list[ast.stmt]:
        folded = [sp.piecewise_fold(e) for e in exprs]
        split = next((e for e in folded if isinstance(e, sp.Piecewise)), None)
        if split is None:
            return self.straight_line(folded)
        printer = self.printer({})
        statements: list[ast.stmt] = []
        conditions = [piece.cond for piece in split.args]
        for index, piece in enumerate(split.args):
            branch = [_piece(e, conditions, index) for e in folded]
            body = self.branches(branch)
            if piece.cond is sp.true:
                statements.extend(body)
                return statements
            statements.append(ast.If(printer(piece.cond), body, []))
        # No branch is the default: outside every condition the value is nan.
        nan = [sp.nan for _ in exprs]
        statements.extend(self.straight_line(nan))
        return statements

    def printer(self, names: dict[sp.Symbol, str]) -> ExpressionPrinter:
        return ExpressionPrinter(self.spec.namespace,
                                 {**self.spec.symbol_names, **names})

    def straight_line(self, exprs: list[sp.Expr]) -> list[ast.stmt]:
        chosen = [with_removable_singularity(e)
                  if index in self.spec.shape_of else e
                  for index, e in enumerate(simplify(exprs))]
        replacements, reduced = _cse(
            chosen, share_squares=self.spec.namespace == "numpy")
        names: dict[sp.Symbol, str] = {}
        taken = set(self.reserved)
        statements: list[ast.stmt] = []
        generic = 0
        for temporary, value in replacements:
            suggestion = _suggest_name(value, {**self.spec.symbol_names,
                                               **names})
            if suggestion is None:
                suggestion, generic = f"t{generic}", generic + 1
            name = unique_name(suggestion, taken)
            taken.add(name)
            statements.append(ast.Assign(
                [ast.Name(name, ast.Store())],
                self.printer(names)(value), None))
            names[temporary] = name
        printer = self.printer(names)
        printed = []
        for index, (original, expr) in enumerate(zip(chosen, reduced)):
            node = printer(expr)
            shape_symbol = self.spec.shape_of.get(index)
            if shape_symbol is not None and shape_symbol not in \
                    original.free_symbols:
                node = _broadcast_like(node, expr, printer(shape_symbol),
                                       self.spec.namespace)
            printed.append(node)
        result = _structure(self.spec.structure, printed)
        if isinstance(result, ast.Tuple) and len(
                to_source(ast.Return(result), _pretty_string)) > _WIDTH - 8:
            # A long tuple reads better as one named line per output.
            for index, node in enumerate(printed):
                if isinstance(node, (ast.Name, ast.Constant)):
                    continue
                name = unique_name(self.spec.output_names.get(index, "out"), taken)
                taken.add(name)
                statements.append(ast.Assign([ast.Name(name, ast.Store())],
                                             node, None))
                printed[index] = ast.Name(name, ast.Load())
            result = _structure(self.spec.structure, printed)
        statements.append(ast.Return(result))
        return statements


def _cse(exprs: list[sp.Expr], share_squares: bool
         ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Common subexpressions, except trivial ones (kept inline).

    With ``share_squares``, integer powers are rewritten over a shared
    square (``t**5`` -> ``t_sq**2 * t``), which NumPy computes fast.
    """
    squares: dict[sp.Expr, sp.Symbol] = {}
    if share_squares:
        bases = {p.base for e in exprs for p in e.atoms(sp.Pow)
                 if p.exp.is_Integer and p.exp > 2 and p.base.free_symbols}
        for base in sorted(bases, key=sp.default_sort_key):
            squares[base] = sp.Dummy("square")

        def over_square(power: sp.Pow) -> sp.Expr:
            exponent = int(power.exp)
            return (squares[power.base] ** (exponent // 2)
                    * power.base ** (exponent % 2))

        exprs = [e.replace(lambda p: isinstance(p, sp.Pow) and
                           p.base in squares and p.exp.is_Integer and
                           p.exp > 1, over_square) for e in exprs]
    replacements, reduced = sp.cse(
        exprs + [base ** 2 for base in squares],
        symbols=sp.numbered_symbols("_cse", cls=sp.Dummy))
    definitions = list(zip(squares.values(), reduced[len(exprs):]))
    reduced = reduced[:len(exprs)]
    kept: list[tuple[sp.Symbol, sp.Expr]] = []
    inline: dict[sp.Symbol, sp.Expr] = {}
    for temporary, value in _in_dependency_order(replacements, definitions):
        value = value.xreplace(inline)
        if _is_trivial(value):
            inline[temporary] = value
        else:
            kept.append((temporary, value))
    return kept, [e.xreplace(inline) for e in reduced]


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
    if depth > 1:
        return None
    if isinstance(expr, sp.Function) and type(expr) not in OPERATOR_FUNCTIONS:
        labels = [_label(a, names, depth + 1) for a in expr.args]
        if all(labels):
            return "_".join([_function_label(type(expr))] + labels)  # type: ignore[list-item]
    elif isinstance(expr, sp.Pow):
        base = _label(expr.base, names, depth + 1)
        if base and expr.exp == sp.S.Half:
            return f"sqrt_{base}"
        suffix = _POWER_SUFFIXES.get(expr.exp)  # type: ignore[call-overload]
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
