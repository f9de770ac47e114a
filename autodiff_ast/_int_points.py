"""Integers among the primals of jvp and vjp, taken as grad takes them.

grad takes an int number as the float it stands for (the derivative of
x ** 2 at 2 is 4.0) and refuses an int array, which is labels or indices
far more often than a point (``_as_floats``). jvp and vjp follow it:

- jvp differentiates an argument whose tangent moves it, or that holds
  floats: its int numbers are floats there (``jvp(f, (2,), (1.0,))`` is
  f's at 2.0). An int left still (a step count with a zero tangent) stays
  an int, as JAX's float0 has it.
- vjp has no tangent to say which ints move: a primal of integers gets
  zeros (JAX's float0), as a step count should, and a vjp at integers
  only is refused, since all it could give is zeros that are no
  derivative. (In a pytree beside floats, an int number is a float, as
  grad takes it.)
- An int array beside floats in one argument is refused, naming it: code
  generated for array functions differentiates an argument's leaves
  together, and would drop the floats' derivatives with it.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np
import optree

from ._as_floats import FLOAT_NUMBERS, as_floats
from ._errors import InputError

__all__ = ["moved_as_floats", "no_integers_beside_floats", "argument_name",
           "some_floats", "floats_only"]


def argument_name(fun: Callable[..., Any], position: int) -> str:
    """What errors call ``fun``'s argument at ``position``: its name."""
    try:
        names = list(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        names = []
    return names[position] if position < len(names) else \
        f"argument {position}"


def floats_only(primals: Sequence[Any]) -> bool:
    """Whether every leaf of ``primals`` is a float or an array of floats:
    the common call, for which the checks here have nothing to do (they
    cost a jvp or vjp of small arrays more than its arithmetic)."""
    if all(map(_a_float, primals)):  # (no pytree walk: 1 us of its own)
        return True
    return all(map(_a_float, optree.tree_leaves(tuple(primals))))


def _a_float(value: Any) -> bool:
    kind = value.__class__
    if kind is np.ndarray:
        return value.dtype.kind == "f"
    return kind in FLOAT_NUMBERS or isinstance(value, np.floating)


def moved_as_floats(primals: Sequence[Any], tangents: Sequence[Any]
                    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """``primals`` and ``tangents``, the int numbers of each argument jvp
    differentiates (its tangent is not zero, or it holds floats) made
    floats."""
    moved = [n for n, (primal, tangent) in enumerate(zip(primals, tangents))
             if _holds_integer_numbers(primal) and (
                 _holds_floats(primal) or any(
                     np.any(np.asarray(seed) != 0)
                     for seed in optree.tree_leaves(tangent)))]
    if not moved:
        return tuple(primals), tuple(tangents)
    return as_floats(tuple(primals), moved), as_floats(tuple(tangents), moved)


def no_integers_beside_floats(fun: Callable[..., Any],
                              primals: Sequence[Any], transform: str) -> None:
    """Refuse an argument holding an int or bool array beside floats: its
    floats would not be differentiated. (An int number there is a float,
    as grad takes it.)"""
    for position, primal in enumerate(primals):
        if optree.tree_is_leaf(primal) or not _holds_floats(primal):
            continue
        accessors, leaves, _ = optree.tree_flatten_with_accessor(primal)
        for accessor, leaf in zip(accessors, leaves):
            if np.asarray(leaf).dtype.kind not in "biu" or \
                    _holds_integer_numbers(leaf):
                continue
            where = accessor.codify(argument_name(fun, position))
            raise InputError(
                f"{transform} differentiates each argument as a whole, and "
                f"{where} holds integers, which are not differentiated, "
                "beside floats: pass it as an argument of its own (labels, "
                f"indices), or as floats, e.g. np.asarray({where}, "
                "dtype=float).")


def _holds_floats(primal: Any) -> bool:
    return any(np.asarray(leaf).dtype.kind == "f"
               for leaf in optree.tree_leaves(primal))


def _holds_integers(primal: Any) -> bool:
    return any(np.asarray(leaf).dtype.kind in "biu"
               for leaf in optree.tree_leaves(primal))


def _holds_integer_numbers(primal: Any) -> bool:
    """Whether ``primal`` holds an int number: a Python int or NumPy
    integer, or a 0-d int array (not a bool)."""
    return any(np.ndim(leaf) == 0 and np.asarray(leaf).dtype.kind in "iu"
               and not isinstance(leaf, (bool, np.bool_))
               for leaf in optree.tree_leaves(primal))


def some_floats(fun: Callable[..., Any], primals: Sequence[Any]) -> None:
    """Refuse a vjp where no primal holds floats: integers are not
    differentiated, so every cotangent would be zeros."""
    if any(map(_holds_integers, primals)) and not any(
            map(_holds_floats, primals)):
        name = argument_name(fun, 0)
        raise InputError(
            f"vjp at integers only: integers are not differentiated (a "
            "count, labels, indices), so every cotangent would be zeros. "
            f"Pass the point as floats, e.g. np.asarray({name}, "
            "dtype=float).")
