"""Long lines of generated array code, laid out to fit.

Steps used once are written where they are used only up to a length,
tried in turn until the function's lines fit (``INLINED_LENGTHS``); a
statement that is one long call, which the wrapper leaves as it is, is
broken after its commas as black would (``wrap_call``).
"""

from __future__ import annotations

import ast
from typing import Any

from ._wrap import _WIDTH

__all__ = ["INLINED_LENGTHS", "wrap_call"]


# Where a function's lines would not fit, a step used once is written
# where it is used only up to the first of these lengths with which they
# fit (0: every step is named).
INLINED_LENGTHS = (48, 24, 0)


def wrap_call(line: str) -> str:
    """A statement that is one long call (``np.add.at(d, index, values)``,
    which the wrapper leaves as it is) broken after its commas, each
    continuation aligned with the parenthesis it is inside, as black
    would; a tuple argument too long for its line broken the same way."""
    text = line.rstrip("\n")
    if len(text) <= _WIDTH or not text.startswith("    "):
        return line
    try:
        (statement,) = ast.parse(text.strip()).body
    except SyntaxError:  # a line of a longer statement
        return line
    if not (isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Call)):
        return line
    indent = text[:len(text) - len(text.lstrip())]
    return indent + "\n".join(_laid_out(statement.value, len(indent),
                                        0)) + "\n"


def _laid_out(node: ast.expr, column: int, trailing: int) -> list[str]:
    """``node`` written from ``column`` (``trailing`` characters follow
    it): on one line if it fits, else a call's or tuple's items filling
    lines inside its parentheses. Lines after the first are indented."""
    text = ast.unparse(node)
    items = _items(node) if isinstance(node, (ast.Call, ast.Tuple)) else []
    if column + len(text) + trailing <= _WIDTH or not items:
        return [text]
    opening = (ast.unparse(node.func) + "(" if isinstance(node, ast.Call)
               else "(")
    inner = column + len(opening)
    lines = [opening]
    for number, item in enumerate(items):
        last = number == len(items) - 1
        closing = ")" if last else ","
        tail = len(closing) + (trailing if last else 0)
        fresh = len(lines) == 1 and lines[0] == opening
        at = column + len(lines[0]) if len(lines) == 1 else len(lines[-1])
        separator = "" if fresh else " "
        pieces = ([item] if isinstance(item, str)
                  else _laid_out(item, at + len(separator), tail))
        if len(pieces) == 1 and at + len(separator) + len(
                pieces[0]) + tail <= _WIDTH:
            lines[-1] += separator + pieces[0] + closing
            continue
        if not fresh:  # start the item on a line of its own
            lines.append(" " * inner)
            pieces = ([item] if isinstance(item, str)
                      else _laid_out(item, inner, tail))
        lines[-1] += pieces[0]
        lines.extend(pieces[1:])
        lines[-1] += closing
    return lines


def _items(node: ast.expr) -> list[Any]:
    if isinstance(node, ast.Tuple):
        return list(node.elts) if len(node.elts) > 1 else []
    assert isinstance(node, ast.Call)
    return list(node.args) + [f"{k.arg}={ast.unparse(k.value)}"
                              for k in node.keywords]
