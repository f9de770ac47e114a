"""Lower stage: a store through a view of an array the function made.

A view shares its elements with the array it is taken from, so a store
through it changes that array: ``row = B[0]; row[1] = 5.0`` is the store
``B[0, 1] = 5.0``, after which ``row`` is the row of the new ``B``. A
view by integers (a row, a sub-row) is differentiated so, where the
store picks its elements with integers and slices (the two indices then
compose into one). Through any other view (``B.T``, ``y.reshape(2, 3)``,
``y[1:]``), or in a kept loop's body (whose carried arrays are the names
it fills), the store is refused, naming the view and the array it
changes, as ``v *= 3`` on a view is.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import sympy as sp
from sympy.logic.boolalg import BooleanAtom

from ._array_ops import static_int
from ._in_place import is_view
from ._program import ELEMENTWISE
from ._same_array import bound_by
from ._spell import Slot

__all__ = ["through_view"]


def through_view(run: Any, statement: ast.stmt, assigned: ast.Subscript,
                 key: Any, env: dict[str, Any],
                 made_here: Callable[[Any, str, dict[str, Any]], bool]
                 ) -> tuple[str, tuple[Any, ...], tuple[Any, ...]] | None:
    """Where ``assigned`` (``v[key]``) stores through a view ``v`` of an
    array the function made (``made_here``): the name of that array, the
    key into it, and the integers ``v`` is taken at; refused where that
    store cannot be written so. None where ``v`` is not a view, or is one
    of an array the function did not make."""
    if not isinstance(assigned.value, ast.Name):
        return None
    name = assigned.value.id
    program = run.program
    value = env.get(name)
    step = program.definition().get(value) if isinstance(
        value, sp.Symbol) else None
    if step is None or not is_view(program, step) or made_here(
            run, name, env):  # (y = np.copy(x.T) is a new array)
        return None
    base, direct = _viewed(run, name, step.operands[0], env)
    if base is not None and not made_here(run, base, env):
        return None
    at = _integers(step)
    parts = key if isinstance(key, tuple) else (key,)
    if direct and at is not None and all(
            _basic(run, part) for part in parts) and not getattr(
            run.context, "kept_loops", 0):
        return base, at + parts, at  # type: ignore[return-value]
    binding = bound_by(run, name, env)
    spelled = ast.unparse(statement)
    if base is None:
        raise run.error(statement, (
            f"{spelled} stores into {name}, a view of another array, and "
            "so changes that array too, which a derivative cannot follow "
            "through the view: store into that array itself, at the same "
            "elements"))
    taken = "" if binding is None else f" ({ast.unparse(binding)})"
    again = "" if binding is None else \
        f", then take {ast.unparse(binding)} again where it is read"
    raise run.error(statement, (
        f"{spelled} stores into {name}, a view of {base}{taken}, and so "
        f"changes {base} too, which a derivative cannot follow through the "
        f"view: store into {base} itself, at the same elements{again}"))


def _viewed(run: Any, name: str, array: sp.Symbol, env: dict[str, Any]
            ) -> tuple[str | None, bool]:
    """The name of the array a view (other than ``name``) is taken from,
    up a chain of views to the first held by a name, and whether it is
    taken from it directly; None where no name (or, of two arrays of one
    value, not the one the view was bound from) holds it."""
    program = run.program
    binding = bound_by(run, name, env)
    mentioned = set() if binding is None else {
        node.id for node in ast.walk(binding.value)
        if isinstance(node, ast.Name)}
    direct = True
    while True:
        held = [other for other, value in env.items() if other != name
                and _holds(program, value, array)]
        if len(held) > 1:
            held = [other for other in held if other in mentioned]
        if len(held) == 1:
            return held[0], direct
        if held:
            return None, direct
        step = program.definition().get(array)
        if step is None or not is_view(program, step):
            return None, direct
        array, direct = step.operands[0], False


def _holds(program: Any, value: Any, array: sp.Symbol) -> bool:
    """Whether a name holding ``value`` holds ``array``: the array, or the
    arithmetic it was made of once a view of it was taken."""
    if value is array:
        return True
    if not isinstance(value, sp.Expr) or isinstance(value, sp.Symbol):
        return False
    made = program.definition().get(array)
    return made is not None and made.op is ELEMENTWISE and \
        made.operands[0] == value


def _integers(step: Any) -> tuple[Any, ...] | None:
    """The integers a view by integers (``B[0]``, ``B[1, 2]``, ``B[i]``)
    is taken at, constants or the integer values read then; None for any
    other view."""
    if step.op.name != "getitem":
        return None
    index = tuple(step.operands[part.position] if isinstance(part, Slot)
                  else part for part in step.option("index"))
    if not all(static_int(part) is not None or isinstance(part, sp.Symbol)
               for part in index):
        return None
    return index


def _basic(run: Any, part: Any) -> bool:
    """Whether ``part`` of a key is a slice or one integer: what composes
    with the integers of a view as NumPy indexes (no array, whose axes
    would move, and no None or ``...``)."""
    if isinstance(part, slice):
        return True
    if isinstance(part, (bool, BooleanAtom)):
        return False
    if static_int(part) is not None:
        return True
    return isinstance(part, sp.Expr) and not run.program.shape(part) and \
        run.program.is_integer(part)
