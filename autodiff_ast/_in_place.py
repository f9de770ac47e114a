"""Lower stage: whether ``x op= v`` on an array may rebind ``x``.

NumPy's augmented operators change an array in place, so every other
holder of it sees the change: another name bound to the same array
(``z = y``), a list or dict it was put in, a view of it (``y[1:]``,
``y.T``) or the array it is a view of, and the caller that passed it to a
helper. Lowering computes values, not objects: it rebinds ``x`` to ``x op
v``. That is Python's result only where nothing else holds the array;
elsewhere the statement is refused, with what holds it (``x = x op v``,
a new array, is what the rebinding computes).

Names bound to an array that exists already (``z = y``, ``a = b = ...``,
``h = state["h"]``) are noted as statements run (``note_binding``): two
names holding one value are one array only if one of them was bound so
(``a = np.zeros(3)`` and ``b = np.zeros(3)`` hold equal values, and are
two arrays).
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

__all__ = ["note_binding", "shared_change", "is_view", "copies"]

# Expressions whose value is an object that exists already.
_EXISTING = (ast.Name, ast.Subscript, ast.Attribute, ast.IfExp,
             ast.NamedExpr)

# Operations whose result is a view of their first operand.
_VIEWS = frozenset(("reshape", "transpose", "expand_dims", "broadcast_to",
                    "squeeze", "ravel", "swapaxes", "moveaxis", "diagonal",
                    "flip", "fliplr", "flipud"))


def note_binding(run: Any, statement: ast.Assign) -> None:
    """Note which names ``statement`` binds to an array that exists
    already, and which to a new one."""
    bound = run.__dict__.setdefault("_bound_to_existing", {})
    names = [node.id for target in statement.targets
             for node in ast.walk(target) if isinstance(node, ast.Name)]
    existing = len(statement.targets) > 1 or isinstance(
        statement.value, _EXISTING) or any(
        isinstance(target, (ast.Tuple, ast.List))
        for target in statement.targets)
    source = statement.value.id if isinstance(statement.value,
                                              ast.Name) else None
    for name in names:
        if existing:
            bound[name] = source  # z = y: y, the name it is said by
        else:
            bound.pop(name, None)


def shared_change(run: Any, name: str, current: Any,
                  env: dict[str, Any]) -> str | None:
    """What else sees ``name op= ...`` change the array ``name`` holds
    (``current``), said as the end of a sentence; None where nothing
    does, or it is not an array (numbers are rebound, as in Python)."""
    program = getattr(run, "program", None)
    if program is None or not isinstance(current, sp.Basic) or \
            not program.shape(current):
        return None
    bound = run.__dict__.get("_bound_to_existing", {})
    said = bound.get(name)
    if said is not None and said != name and env.get(said) is current:
        return f"{said} holds the same array"
    for other, value in env.items():
        if other == name:
            continue
        if value is current and (name in bound or other in bound):
            return f"{other} holds the same array"
        if isinstance(value, (list, tuple, dict)) and _holds(value, current):
            return f"the {type(value).__name__} {other} holds it"
    if not isinstance(current, sp.Symbol):
        return None
    step = program.definition().get(current)
    if step is not None and is_view(program, step):
        return "it is a view of another array, which changes with it"
    if any(current in other.operands[:1] and is_view(program, other)
           for other in program.steps):
        return "a view of it was taken, which changes with it"
    function, passed = getattr(run, "passed_in", ("", ()))
    if len(run.context.inlining) > 1 and any(
            value is current for value in passed):
        return f"it was passed to {function}, whose caller holds it too"
    return None


def is_view(program: Any, step: Any) -> bool:
    """Whether ``step``'s result is a view of its first operand."""
    if step.op.name == "getitem":  # a basic index (no index arrays)
        # (an integer read when the code runs, B[i], is one too)
        return bool(program.leaves[step.target].shape) and not copies(
            program, step)
    return step.op.name in _VIEWS


def copies(program: Any, step: Any) -> bool:
    """Whether ``step`` is an index that copies what it picks: NumPy's
    advanced indexing (a list of integers, an integer array or a mask
    anywhere in the index, ``B[[0, 1]]``, ``B[idx, 1]``, ``B[m]``) makes
    a new array, where a basic one (integers, slices, None) makes a
    view."""
    return step.op.name == "getitem" and (
        any(isinstance(part, tuple) for part in step.option("index"))
        or any(program.leaves[index].shape or program.leaves[index].boolean
               for index in step.operands[1:]))


def _holds(container: Any, value: Any) -> bool:
    items = container.values() if isinstance(container, dict) else container
    return any(item is value or isinstance(item, (list, tuple, dict))
               and _holds(item, value) for item in items)
