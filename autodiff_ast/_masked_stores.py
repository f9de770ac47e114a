"""Assignments through a boolean mask computed from the data: ``y[y < 0] =
0.0``, ``y[mask] *= 2``, ``y[mask] = w[mask]``, as NumPy code writes a
ReLU, a clip or a fix-up in place.

The elements such a mask picks are known only when the code runs, so they
cannot be a step that picks them (a derivative of data-dependent size).
But a store through the mask keeps the array's shape: it is
``np.where(mask, new, y)``, elementwise, with its derivative
``np.where(mask, d new, d y)``. So it is lowered as that, where the new
values are a number, or the same mask's elements of an array of ``y``'s
shape (``w[mask]``, read as ``w``). A store through a mask of known values
(a global ``MASK``) is one too where it replaces what an array held, and
its values may be any elementwise function of the elements the mask
picks (``np.cos(x[MASK])``, computed as ``np.cos(x)``); adding through it
is the scatter ``_ops_assemble`` writes.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp
from sympy.logic.boolalg import Boolean

from ._functions import trunc, where
from ._ops_index import GETITEM

__all__ = ["integral", "mask_kind", "store_through_mask"]


def mask_kind(run: Any, key: Any) -> str | None:
    """What boolean mask the index ``key`` is: "computed" (a comparison of
    arrays, a boolean argument: its values known when the code runs),
    "known" (of values known now, a global ``MASK``), or None for any
    other index."""
    if isinstance(key, sp.Symbol):
        if key in getattr(run.context, "masks", {}):
            return "known"
        return "computed" if run.holds_booleans(key) else None
    if isinstance(key, Boolean) and key.free_symbols:
        return "computed"
    return None


def store_through_mask(run: Any, statement: ast.Assign | ast.AugAssign,
                       current: sp.Symbol, mask: Any,
                       env: dict[str, Any]) -> sp.Expr:
    """The value of the array ``current`` after ``statement`` stores
    through ``mask`` (the index, its known values resolved) into it:
    ``np.where(mask, new, current)``."""
    target = statement.targets[0] if isinstance(
        statement, ast.Assign) else statement.target
    assert isinstance(target, ast.Subscript) and isinstance(
        target.value, ast.Name)
    name = target.value.id
    shape = run.program.leaves[current].shape
    mask_shape = run.shape(mask, target)
    if mask_shape != shape:
        raise run.error(target, f"a mask of shape {mask_shape} indexes "
                                f"{name} of shape {shape}: a store through "
                                f"a mask takes a mask of {name}'s shape "
                                f"here (write {name} = np.where(mask, ..., "
                                f"{name}) with the mask broadcast)")
    values = _values(run, statement.value, target.slice, mask, shape, name,
                     env)
    if isinstance(statement, ast.AugAssign):
        values = run.arithmetic(statement.op, current, values, statement)
    leaf = run.program.leaves[current]
    if leaf.integer and not leaf.boolean and not integral(run.program,
                                                         values):
        values = trunc(values)  # as NumPy puts a float in an int array
    return where(mask, values, current)


def integral(program: Any, values: sp.Expr) -> bool:
    """Whether ``values`` are certainly integers: integer arithmetic on
    integer values."""
    integers = {s: sp.Dummy(integer=True) for s in values.free_symbols
                if s in program.leaves and (program.leaves[s].integer
                                            or program.leaves[s].boolean)}
    return values.xreplace(integers).is_integer is True


def _values(run: Any, node: ast.expr, mask_node: ast.expr, mask: Any,
            shape: tuple[Any, ...], name: str,
            env: dict[str, Any]) -> sp.Expr:
    """What is put at the mask's elements, as an array of the target's
    shape or a number: ``w[mask]`` (the same mask, as written) is ``w``,
    and so is an elementwise function of a known mask's elements."""
    if isinstance(node, ast.Subscript) and ast.dump(node.slice) == ast.dump(
            mask_node):
        whole = run.number(run.expression(node.value, env), node)
        if run.shape(whole, node) == shape:
            return whole
    values = run.number(run.expression(node, env), node)
    if run.shape(values, node) != ():
        values = _unpicked(run, values, mask, shape)
    if values is None or run.shape(values, node) not in ((), shape):
        raise run.error(node, f"{name}[mask] = values takes a number here, "
                              f"or the same mask's elements of an array of "
                              f"{name}'s shape ({name}[mask] = w[mask]): "
                              f"for other values, write {name} = "
                              f"np.where(mask, ..., {name})")
    return values


def _unpicked(run: Any, values: sp.Expr, mask: Any,
              shape: tuple[Any, ...]) -> Any:
    """``values``, computed elementwise from elements a mask of known
    values picks (``np.cos(x[MASK])``), computed from the whole arrays
    instead (``np.cos(x)``), which the where then picks from; None if
    they are computed otherwise."""
    program = run.program
    definition = program.definition()
    whole = {}
    for symbol in values.free_symbols:
        if symbol not in program.leaves or program.leaves[symbol].shape == ():
            continue
        step = definition.get(symbol)
        if step is None or step.op is not GETITEM or step.operands[1:] != (
                mask,) or program.leaves[step.operands[0]].shape != shape:
            return None
        whole[symbol] = step.operands[0]
    return values.xreplace(whole)
