"""Lowering of NumPy calls: what the rows of the array table share.

A call of a recognised function or method (``np.sum(x, axis=1)``,
``x.max()``) is handed to its row's ``lower``: the arguments are bound to
the row's signature first, so a call with arguments we do not take is
refused in the user's terms. The helpers here read the static arguments
(axes, shapes, integers) as NumPy would, with errors at the user's line.
A mixin of the array runner, which provides ``number``, ``shape``,
``checked``, ``materialize``, ``error`` and ``program``.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any, Callable

import numpy as np
import sympy as sp

from ._program import ArrayOp, Program, Shape

__all__ = ["ArrayOperations", "empty", "plain", "static_int"]


def static_int(value: Any) -> int | None:
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(
            value, (bool, np.bool_)):
        return int(value)
    return None


def plain(value: Any) -> Any:
    """A SymPy constant as the Python value a container key would be."""
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def empty(shape: Shape, dtype: Any = bool) -> np.ndarray:
    """A zero-memory array of ``shape``, for computing result shapes."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype=dtype), shape,
                                           (0,) * len(shape))


class ArrayOperations:
    """The runner's side of the array table's lowering rules."""

    program: Program

    # Provided by the runner.
    number: Callable[..., sp.Expr]
    shape: Callable[..., Shape]
    checked: Callable[..., Any]
    materialize: Callable[..., sp.Symbol]
    error: Callable[..., Exception]

    def array_call(self, op: ArrayOp, args: list[Any],
                   kwargs: dict[str, Any], node: ast.Call,
                   method: bool = False) -> Any:
        """``op`` called with ``args`` (for a method, the array first)."""
        spelled = ast.unparse(node.func)
        if op.refused is not None:
            raise self.error(node.func, op.refused.format(spelled=spelled))
        lower = (op.lower_method or op.lower) if method else op.lower
        assert lower is not None
        try:
            bound = inspect.signature(lower).bind(self, *args, node=node,
                                                  **kwargs)
        except TypeError as exc:
            raise self.error(node, f"{spelled}() is called with arguments "
                                   f"autodiff_ast does not support here: "
                                   f"{_in_user_terms(str(exc))}") from None
        return lower(*bound.args, **bound.kwargs)

    def reads_by_name(self, spelled: str, value: Any) -> bool:
        """A number outside the function (a rate, a temperature, a scale)
        is read by name when the code runs, as hand-written code reads it,
        so a changed value costs nothing; where it sizes an array, counts a
        loop or indexes, the code is made for its value (``concrete``,
        ``outside_now``), baked in and checked on each call. So is a
        number whose name (or root, ``self``) means something else in the
        code."""
        root = spelled.partition(".")[0]
        context = self.context  # type: ignore[attr-defined]
        if root in self.program.names and root not in context.roots and all(
                outside.name.partition(".")[0] != root
                for outside in context.outside):
            return False
        self.program.reserve(root)
        return True

    # -- static arguments ----------------------------------------------------

    def axes(self, axis: Any, ndim: int, node: ast.AST
             ) -> tuple[int, ...] | None:
        """``axis`` (None, an int or a tuple of ints) as sorted
        non-negative axes; None for all of them."""
        if axis is None:
            return None
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        result = [self.axis(item, ndim, node) for item in items]
        if len(set(result)) != len(result):
            raise self.error(node, f"repeated axis in {plain(axis)}")
        return tuple(sorted(result))

    def axis(self, axis: Any, ndim: int, node: ast.AST) -> int:
        """One axis of an array of ``ndim`` dimensions, non-negative."""
        value = static_int(axis)
        if value is None:
            raise self.error(node, f"the axis must be a constant integer, "
                                   f"not {axis}")
        if not -ndim <= value < ndim:
            raise self.error(node, f"axis {value} is out of bounds for an "
                                   f"array of dimension {ndim}")
        return value % ndim

    def integers(self, value: Any, node: ast.AST, what: str
                 ) -> tuple[int, ...]:
        """A constant int or sequence of ints (a shape, shifts, reps)."""
        items = value if isinstance(value, (tuple, list)) else (value,)
        result = tuple(static_int(item) for item in items)
        if any(item is None for item in result):
            raise self.error(node, f"{what} must be constant integers known "
                                   "when the function is differentiated "
                                   "(numbers, or computed from .shape), not "
                                   f"values computed from the arguments: "
                                   f"got {plain(value)}")
        return result  # type: ignore[return-value]

    def integer(self, value: Any, node: ast.AST, what: str) -> int:
        """A constant int."""
        if isinstance(value, (tuple, list)):
            raise self.error(node, f"{what} must be one integer, got "
                                   f"{plain(value)}")
        return self.integers(value, node, what)[0]

    def static_number(self, value: Any, node: ast.AST, what: str) -> float:
        """A constant number (not computed from the arguments)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, sp.Number):
            return int(value) if value.is_Integer else float(value)
        raise self.error(node, f"{what} must be a constant number known when "
                               "the function is differentiated, not a value "
                               "computed from the arguments")

    def arrays(self, values: Any, node: ast.AST, what: str) -> list[sp.Expr]:
        """The arrays of a list or tuple argument (np.concatenate's)."""
        if not isinstance(values, (list, tuple)) or not values:
            raise self.error(node, f"{what} takes a non-empty list or tuple "
                                   "of arrays")
        from ._array_rules import array_function  # (the table reads us)
        # An item written as a list ([1.0], [a, b]) is the array it lists.
        listed = array_function(np.array)
        return [self.array_call(listed, [v], {}, node)  # type: ignore
                if isinstance(v, (list, tuple)) else self.number(v, node)
                for v in values]


def _in_user_terms(message: str) -> str:
    """A binding error of a lowering function, as said of the user's call."""
    if "too many positional" in message:
        return "too many arguments"
    if "unexpected keyword argument" in message:
        return "unexpected argument " + message.split("argument ", 1)[1]
    if "missing a required argument" in message:
        return "missing argument " + message.split(": ", 1)[1]
    return message
