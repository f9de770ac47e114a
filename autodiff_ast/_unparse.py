"""Python AST -> source text, the same bytes on every Python.

Generated code is printed by astor, the printer its golden sources were
written against, where astor works: astor 0.8.1 looks up ``ast.Num`` and
its siblings when it is imported, which warns on Python 3.12 and 3.13 (so a
user's ``-W error`` run would fail just by importing us), and it predates
Python 3.14, which removed them. So astor is imported with that one warning
silenced, and only before 3.14; elsewhere (or without astor) the standard
library's ``ast.unparse`` prints, with the few places where it spells
things differently from astor bridged here (see ``_AstorSpelling``).
tests/test_portability.py holds the two to the same text.

``AUTODIFF_AST_PRINTER=unparse`` (read at import) or ``use_astor(False)``
forces ``ast.unparse``, so that path can be tested on any Python.
"""

from __future__ import annotations

import ast
import copy
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

__all__ = ["to_source", "use_astor", "printer_name", "Literal",
           "readable_string"]

PrettyString = Callable[..., str]


def _import_astor() -> ModuleType | None:
    if sys.version_info >= (3, 14):
        return None  # astor 0.8.1 was not made for the AST of 3.14
    try:
        with warnings.catch_warnings():
            # astor builds its precedence table with getattr(ast, "Num",
            # None) and the like; only that deprecation is silenced.
            warnings.filterwarnings(
                "ignore", category=DeprecationWarning,
                message=r"ast\.\w+ is deprecated")
            import astor
    except ImportError:
        return None
    return astor


_ASTOR = _import_astor()
_use_astor = (_ASTOR is not None
              and os.environ.get("AUTODIFF_AST_PRINTER", "") != "unparse")


def use_astor(enabled: bool) -> bool:
    """Print through astor (``True``; only where it can be imported) or
    through ``ast.unparse``. Returns the previous setting."""
    global _use_astor
    if enabled and _ASTOR is None:
        raise RuntimeError("astor cannot be used on this Python; "
                           "generated code is printed by ast.unparse")
    previous, _use_astor = _use_astor, enabled
    return previous


def printer_name() -> str:
    """``"astor"`` or ``"ast.unparse"``: the printer in use."""
    return "astor" if _use_astor else "ast.unparse"


def to_source(node: ast.AST, pretty_string: PrettyString | None = None
              ) -> str:
    """The source of ``node`` (a module, statement or expression), one
    logical line per line, ending with a newline.

    ``pretty_string(text, embedded, current_line)`` spells each string
    constant, as astor's hook of that name does. It must decide from
    ``text`` alone: ``ast.unparse`` cannot tell where on a line a string
    stands, so it passes ``False`` and ``""`` for the other two.
    """
    hook = pretty_string or _repr
    if isinstance(node, ast.expr):
        node = ast.Expr(node)  # astor would parenthesize a lone number
    if _use_astor:
        assert _ASTOR is not None
        return str(_ASTOR.to_source(node, pretty_string=hook,
                                    pretty_source="".join))
    tree = copy.deepcopy(node)  # the stand-ins below replace parts of it
    return _AstorSpelling(hook, _unused_prefix(tree)).source(tree)


def _repr(text: str, *args: Any, **kwargs: Any) -> str:
    return repr(text)


class _AstorSpelling(ast.NodeTransformer):
    """``ast.unparse`` made to write what astor writes.

    Each part that ``ast.unparse`` would spell differently is replaced by a
    stand-in name, and the name by astor's text after printing. A name is
    an atom, which ``ast.unparse`` never parenthesizes, so the stand-in's
    text carries whatever parentheses astor writes there. Both printers
    parenthesize by precedence; for the trees our code generators build,
    they differ only in these places:

    - strings: the caller's hook spells them (``ast.unparse`` has its own
      quoting and docstring rules);
    - infinite and nan floats: ``1e1000``, not ``1e309``;
    - a number before ``.``, ``[`` or ``(``: ``(2).T``, not ``2 .T``;
    - operands of ``and`` and ``or``: ``ast.unparse`` asks more of each
      later operand (``a and (not b)``); astor parenthesizes only an
      operand that binds no tighter than the operator;
    - a unary operator right of ``**``: ``x ** -y``, not ``x ** (-y)``;
    - a tuple returned, assigned or assigned to: ``return a, b`` and
      ``a, b = c``, not ``return (a, b)`` and (Python 3.10)
      ``(a, b) = c``.
    """

    def __init__(self, pretty_string: PrettyString, prefix: str) -> None:
        self.pretty_string = pretty_string
        self.prefix = prefix
        self.spellings: list[str] = []

    def source(self, node: ast.AST) -> str:
        """``node``'s text as astor writes it: newline-ended for a
        statement or module, bare for an expression."""
        text = re.sub(rf"{self.prefix}(\d+)",
                      lambda match: self.spellings[int(match[1])],
                      ast.unparse(self.visit(node)))
        return text if isinstance(node, ast.expr) else text + "\n"

    def stand_in(self, text: str, node: ast.AST) -> ast.Name:
        self.spellings.append(text)
        name = ast.Name(f"{self.prefix}{len(self.spellings) - 1}", ast.Load())
        return ast.copy_location(name, node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, str):
            text = self.pretty_string(value, False, "")
            return self.stand_in((node.kind or "") + text, node)
        if isinstance(value, float) and not math.isfinite(value):
            return self.stand_in(_number(value), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # an f-string's parts are not literals of their own

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        return self.visit_with_operand(node, "value")

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        return self.visit_with_operand(node, "value")

    def visit_Call(self, node: ast.Call) -> ast.AST:
        return self.visit_with_operand(node, "func")

    def visit_with_operand(self, node: ast.AST, field: str) -> ast.AST:
        operand = getattr(node, field)
        if isinstance(operand, ast.Constant) and isinstance(
                operand.value, (int, float)):  # bool is an int
            setattr(node, field,
                    self.stand_in(f"({_number(operand.value)})", operand))
        return self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        values = []
        for value in node.values:
            text = self.source(value)
            if isinstance(value, (ast.IfExp, ast.Lambda)) or (
                    isinstance(value, ast.BoolOp) and (
                        type(value.op) is type(node.op)
                        or isinstance(value.op, ast.Or))):
                text = f"({text})"
            values.append(self.stand_in(text, value))
        node.values = values  # type: ignore[assignment]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        right = node.right
        if isinstance(node.op, ast.Pow) and isinstance(
                right, ast.UnaryOp) and not isinstance(right.op, ast.Not):
            node.right = self.stand_in(self.source(right), right)
        return self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> ast.AST:
        return self.visit_statement(node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        return self.visit_statement(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        return self.visit_statement(node)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        return self.visit_statement(node)

    def visit_statement(self, node: Any) -> ast.AST:
        node.value = self.bare_tuple(node.value)
        if isinstance(node, ast.Assign):
            node.targets = [self.bare_tuple(t) for t in node.targets]
        return self.generic_visit(node)

    def bare_tuple(self, node: ast.expr) -> ast.expr:
        if not isinstance(node, ast.Tuple) or not node.elts:
            return node
        text = ", ".join(self.source(e) for e in node.elts)
        return self.stand_in(text + ("," if len(node.elts) == 1 else ""), node)


def _number(value: int | float) -> str:
    """A number as astor spells it (``ast.unparse`` writes 1e309)."""
    if isinstance(value, float) and math.isinf(value):
        return "-1e1000" if value < 0 else "1e1000"
    if isinstance(value, float) and math.isnan(value):
        return "(1e1000-1e1000)"
    return repr(value)


def _unused_prefix(tree: ast.AST) -> str:
    """A prefix for stand-in names that no name or string in ``tree``
    contains, so replacing the stand-ins touches nothing else."""
    words = set()
    for node in ast.walk(tree):
        for field in ("id", "attr", "arg", "name", "value", "module"):
            value = getattr(node, field, None)
            if isinstance(value, str):
                words.add(value)
    prefix = "_autodiff_ast_literal_"
    while any(prefix in word for word in words):
        prefix = "_" + prefix
    return prefix


@dataclass(frozen=True)
class Literal:
    """A constant the generated code returns as written: a string, None or
    a bool that a function returns in its aux output."""

    value: Any


def readable_string(text: str, embedded: bool, current_line: Any,
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
