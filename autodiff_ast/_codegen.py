"""Codegen stage: SymPy outputs -> the source of a readable Python function.

Branches (``Piecewise`` at the top of the outputs) become if-statements with
early returns, so each branch computes only what it needs and nothing is
evaluated outside its domain. Within a branch, common subexpressions become
local variables named after what they hold (``tanh_x``, ``x_sq``), never
clashing with the user's names. The source is emitted through astor.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from dataclasses import dataclass, field
from typing import Any, Sequence

import astor
import sympy as sp

from ._printer import ExpressionPrinter
from ._program import unique_name
from ._rules import OPERATOR_FUNCTIONS, spelling_for
from ._simplify import simplify
from ._singular import with_removable_singularity

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
    text = astor.to_source(module, pretty_string=_pretty_string,
                           pretty_source="".join)
    return "".join(_wrap(line) for line in text.splitlines(keepends=True))


_WIDTH = 79


def _wrap(line: str) -> str:
    """Break a long ``name = ...`` or ``return ...`` line at ``+``, ``-``
    and ``,`` inside one pair of parentheses, as a person would."""
    text = line.rstrip("\n")
    if len(text) <= _WIDTH:
        return line
    indent = text[:len(text) - len(text.lstrip())]
    body = text.strip()
    if body.startswith("return "):
        head = "return "
    elif " = " in body and body.split(" = ", 1)[0].isidentifier():
        head = body.split(" = ", 1)[0] + " = "
    else:
        return line
    start = len(indent) + len(head)
    operators: tuple[str, ...] = _SUMS
    if not _split_points(f"({text[start:]})", 0) and _split_points(
            f"({text[start:]})", 0, _PRODUCTS):
        operators = _PRODUCTS
    if _split_points(f"({text[start:]})", 0, operators):
        text = f"{text[:start]}({text[start:]})"
        opening = start
    else:
        opening = _widest_splittable_group(text, start)
        if opening is None:
            return line
    points = _split_points(text, opening, operators)
    if not points:
        return line
    continuation = " " * (opening + 1)
    lines: list[str] = []
    pieces = []
    previous = 0
    for point in points:
        pieces.append(text[previous:point])
        previous = point
    pieces.append(text[previous:])
    current = pieces[0]
    for piece in pieces[1:]:
        stripped_piece = piece.lstrip(", ") if piece.startswith(",") else \
            piece.lstrip()
        joined = current + piece
        if len(joined) > _WIDTH:
            if piece.startswith(","):
                lines.append(current + ",")
            else:
                lines.append(current)
            current = continuation + stripped_piece
        else:
            current = joined
    lines.append(current)
    return "\n".join(lines) + "\n"


def _widest_splittable_group(text: str, start: int) -> int | None:
    """Where the widest group that has split points opens, looking inside
    a group (``np.sum(np.log(a + b))``) when it has none itself."""
    while True:
        groups = _groups(text, start)
        if not groups:
            return None
        opening, closing = max(groups, key=lambda g: g[1] - g[0])
        if _split_points(text, opening):
            return opening
        text = text[:closing]
        start = opening + 1


def _groups(text: str, start: int) -> list[tuple[int, int]]:
    """(open, close) indices of the outermost parentheses after ``start``."""
    groups, depth, opened = [], 0, 0
    for index in range(start, len(text)):
        if text[index] == "(":
            if depth == 0:
                opened = index
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                groups.append((opened, index))
    return groups


_SUMS = (" + ", " - ")
_PRODUCTS = (" * ", " / ")


def _split_points(text: str, opening: int,
                  operators: tuple[str, ...] = _SUMS) -> list[int]:
    """Where to break inside the group opened at ``opening``: before the
    ``operators`` (+ and -) and at commas, directly inside that group."""
    points, depth = [], 0
    for index in range(opening, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and (text.startswith(operators, index)
                             or char == ","):
            points.append(index)
    return points


def _pretty_string(text: str, embedded: bool, current_line: Any,
                   uni_lit: bool = False, **kwargs: Any) -> str:
    """Docstrings as triple-quoted blocks; other strings as repr."""
    if "\n" in text and '"""' not in text and "\\" not in text:
        return f'"""{text}"""'
    return repr(text)


def _arguments(spec: FunctionSpec) -> ast.arguments:
    defaults = []
    for value in spec.defaults:
        node = ast.Constant(value)
        try:
            if ast.literal_eval(astor.to_source(node).strip()) != value:
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
        self.reserved = (set(spec.params) | {spec.name, "np", "math"}
                         | set(keyword.kwlist) | set(dir(builtins)))

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
                node = _broadcast_like(node, expr, printer(shape_symbol))
            printed.append(node)
        result = _structure(self.spec.structure, printed)
        if isinstance(result, ast.Tuple) and len(
                astor.to_source(ast.Return(result))) > _WIDTH - 8:
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


def _broadcast_like(node: ast.expr, expr: sp.Expr,
                    argument: ast.expr) -> ast.expr:
    """``expr`` with the argument's shape and dtype: ``expr + 0.0 * x``."""
    zeros = ast.BinOp(ast.Constant(0.0), ast.Mult(), argument)
    if expr == 0:
        return zeros
    return ast.BinOp(node, ast.Add(), zeros)


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
        return names.get(expr, expr.name)
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
