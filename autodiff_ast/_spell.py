"""Small builders of Python AST for the spellings of array operations.

Each row of the array table says how generated code writes its step
(``np.sum(x, axis=1)``, ``x[:, ::-1]``); these helpers keep those one-liners
short: a call with keywords, a literal, an index with slices.
"""

from __future__ import annotations

import ast
from typing import Any, Sequence

from ._printer import _name

__all__ = ["Slot", "Spelled", "call", "literal", "index", "axis_literal"]


class Slot:
    """An index part given by a step operand (``logits[label]``): ``Slot(k)``
    is the step's operand ``k``, printed where the part goes."""

    __slots__ = ("position",)

    def __init__(self, position: int) -> None:
        self.position = position

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Slot) and other.position == self.position

    def __hash__(self) -> int:
        return hash(("Slot", self.position))

    def __repr__(self) -> str:
        return f"Slot({self.position})"


class Spelled(tuple):
    """A shape option as generated code reads it: its entries printed
    (``X.shape[0]``, ``3``), and ``whole`` (``X.shape``) where they are all
    of one array's axes. A tuple of AST nodes, so a spelling can take its
    length and its entries as of the shape itself."""

    whole: ast.expr | None

    def __new__(cls, entries: Sequence[ast.expr],
                whole: ast.expr | None = None) -> "Spelled":
        spelled = super().__new__(cls, entries)
        spelled.whole = whole
        return spelled


def call(spelling: str, args: Sequence[ast.expr],
         **keywords: Any) -> ast.expr:
    """``spelling(*args, key=value, ...)``; a keyword whose value is None
    is left out (NumPy's default), other values are Python literals or
    AST nodes."""
    written = [ast.keyword(key, value if isinstance(value, ast.AST)
                           else literal(value))
               for key, value in keywords.items() if value is not None]
    return ast.Call(_name(spelling), list(args), written)


def literal(value: Any) -> ast.expr:
    """A constant (number, tuple of numbers, string) as source; a shape
    read at run time (``Spelled``) as it reads it."""
    if isinstance(value, ast.AST):
        return value
    if isinstance(value, Spelled):
        if value.whole is not None:
            return value.whole
        return ast.Tuple([literal(v) for v in value], ast.Load())
    return ast.parse(repr(value), mode="eval").body


def axis_literal(axis: Any) -> Any:
    """An axis as a person writes it: ``1``, not ``(1,)``."""
    if isinstance(axis, tuple) and len(axis) == 1:
        return axis[0]
    return axis


def index(parts: tuple[Any, ...], operands: Sequence[ast.expr]) -> ast.expr:
    """The subscript for ``parts`` (ints, slices, None, ..., lists of ints
    as nested tuples, and ``Slot``s printed as ``operands[k]``)."""
    printed = [_part(p, operands) for p in parts]
    return printed[0] if len(printed) == 1 else ast.Tuple(printed, ast.Load())


def _part(part: Any, operands: Sequence[ast.expr]) -> ast.expr:
    if isinstance(part, Slot):
        return operands[part.position]
    if isinstance(part, slice):
        def bound(value: Any) -> ast.expr | None:
            return None if value is None else ast.Constant(value)
        return ast.Slice(bound(part.start), bound(part.stop), bound(part.step))
    if isinstance(part, tuple):  # a constant list of integers
        return ast.List([_part(p, operands) for p in part], ast.Load())
    if part is Ellipsis:
        return ast.Constant(Ellipsis)
    return ast.Constant(part)
