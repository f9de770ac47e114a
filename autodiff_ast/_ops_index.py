"""Rows of the array table for indexing: ``x[...]`` and ``np.take``.

An index may hold constants (integers, slices, None, ``...``, lists of
integers, and lists of bools, NumPy's masks) and integer values the function is given (``logits[label]``,
``x[idx]`` with an integer array argument or global): those are operands of
the step, read by generated code when it runs. The gradient is a scatter
of the adjoint into zeros (``_ops_scatter``). A boolean mask the function
computes picks a number of elements that depends on the data: it is read
by the reductions of ``_masked_reads`` and refused here. One read
from outside (a global ``MASK``) or passed in (``_masks``) is known when
the code is made, which then depends on its values (``_known_mask``), as
JAX's grad takes a concrete mask.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanAtom

from ._array_ops import empty, static_int
from ._lower_records import Read
from ._masks import PASSED
from ._ops_core import reshape
from ._ops_create import constant_array
from ._ops_scatter import explicit, scatter
from ._program import ArrayOp, Step
from ._spell import Slot, index

__all__ = ["GETITEM", "TAKE", "getitem", "integer_operand"]


_MASK = ("indexing with a boolean mask selects a number of elements that "
         "depends on the data, which a derivative cannot have: keep the "
         "shape with np.where(mask, x, 0) (then np.sum), or pass the "
         "indices np.flatnonzero(mask) in as an integer array")


def getitem(run: Any, array: Any, key: Any, node: ast.AST) -> Any:
    """``array[key]``: constants, lists of integers and integer values."""
    key = run.outside_now(key)  # (x[K], K a global int: baked in)
    array = run.number(array, node)
    shape = run.shape(array, node)
    source = run.materialize(array, node)
    operands: list[sp.Symbol] = [source]
    parts: list[Any] = []
    probes: list[Any] = []  # the index with arrays, to compute the shape
    for part in key if isinstance(key, tuple) else (key,):
        if isinstance(part, list) and _all_booleans(part):
            # x[[True, False, True]]: NumPy's mask, of known values
            part = constant_array(run, part, bool, node)
        if isinstance(part, (slice, type(None), type(Ellipsis))):
            parts.append(part)
            probes.append(part)
        elif static_int(part) is not None:
            parts.append(static_int(part))
            probes.append(static_int(part))
        elif isinstance(part, list):
            values = _integer_list(run, part, node)
            parts.append(values)
            probes.append(np.array(values, dtype=np.intp))
        else:
            mask = _known_mask(run, part)
            symbol = part if mask is not None else integer_operand(
                run, part, node)
            parts.append(Slot(len(operands)))
            operands.append(symbol)
            probes.append(mask if mask is not None else np.zeros(
                run.program.leaves[symbol].shape, dtype=np.intp))
    try:
        result_shape = empty(shape)[tuple(probes)].shape
    except IndexError as exc:
        raise run.error(node, f"{exc} (the array has shape {shape})"
                        ) from None
    leaf = run.program.leaves[source]
    # A mask, the only array in the index, picks each element once: the
    # gradient is assigned there, not added up.
    options = {"distinct": True} if len(operands) == 2 and any(
        getattr(p, "dtype", None) == np.bool_ for p in probes) else {}
    return run.program.add(GETITEM, tuple(operands), result_shape,
                           f"{source.name}_{_index_label(parts)}",
                           boolean=leaf.boolean, integer=leaf.integer,
                           index=tuple(parts), **options)


def _known_mask(run: Any, part: Any) -> np.ndarray | None:
    """The values of a boolean array read from outside (a global MASK),
    which an index may hold: the code is made for the elements it picks
    (their number is a size of the result), so it is made again when
    they change. None for any other index."""
    read = getattr(run.context, "masks", {}).get(part)
    if read is None:
        return None
    if read.key == PASSED:  # an argument's: its values key the code
        run.context.fixed.add(part.name)
    run.context.reads.append(Read(read.container, read.key, read.value,
                                  values=read.value.copy()))
    return read.value


def _all_booleans(values: list[Any]) -> bool:
    """Whether ``values`` (nested lists) are all True or False."""
    return bool(values) and all(
        _all_booleans(v) if isinstance(v, list) else isinstance(
            v, BooleanAtom) for v in values)


def _integer_list(run: Any, values: list[Any], node: ast.AST) -> Any:
    """A constant list of integers (nested), as nested tuples."""
    items = []
    for value in values:
        if isinstance(value, list):
            items.append(_integer_list(run, value, node))
        elif static_int(value) is not None:
            items.append(static_int(value))
        else:
            raise run.error(node, "a list used as an index must hold "
                                  "constant integers: pass computed "
                                  "indices as an integer array")
    return tuple(items)


def integer_operand(run: Any, part: Any, node: ast.AST) -> sp.Symbol:
    """An index part computed when the code runs: an integer value."""
    program = run.program
    if (isinstance(part, Boolean) and not isinstance(part, sp.Expr)) or (
            isinstance(part, sp.Symbol) and part in program.leaves
            and program.leaves[part].boolean):
        raise run.error(node, _MASK)
    if not isinstance(part, sp.Expr) or not program.is_integer(part):
        raise run.error(node, "indices must be integers (constants, integer "
                              "arguments or integer arrays), slices, None "
                              "or ...: this one is a float, or computed "
                              "from floats")
    return program.materialize(part, "index")


def _index_label(index: list[Any]) -> str:
    parts = [str(p) for p in index if isinstance(p, int)]
    return "_".join(parts) if parts and len(parts) == len(index) else "part"


def _getitem_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    if backward.rank:
        _getitem_vjp_batched(backward, step, adjoint)
        return
    source = step.operands[0]
    backward.contribute(source, scatter(
        backward, source, adjoint, step.option("index"), step.operands[1:],
        f"d_{step.target.name}", distinct=bool(step.option("distinct"))))


def _getitem_vjp_batched(backward: Any, step: Step, adjoint: sp.Expr
                         ) -> None:
    """With the batch of a Jacobian in front, the adjoint of x[a:b] is
    padded back with zeros to x's size (a and x.size - b along the axis),
    of x[i] given the axis back first; the axes an index's None made are
    dropped."""
    # (_ops_assemble, which pads, reads this module's GETITEM)
    from ._ops_assemble import pad

    program = backward.program
    source = step.operands[0]
    parts = basic_index(program, step)
    assert parts is not None  # the row's batched= asked
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    picks: list[Any] = [slice(None)] * backward.rank
    widths: list[tuple[Any, Any]] = [(0, 0)] * backward.rank
    axis = 0
    for part in parts:
        if part is None:
            picks.append(0)
            continue
        size = program.size(source, axis)
        if isinstance(part, int):
            picks.append(None)
            start = part if part >= 0 else size + part
            widths.append((start, size - start - 1))
        else:
            picks.append(slice(None))
            start, stop = part.start or 0, part.stop
            widths.append((start if start >= 0 else size + start,
                           0 if stop is None else
                           size - stop if stop >= 0 else -stop))
        axis += 1
    if any(part != slice(None) for part in picks):
        full = program.add(
            GETITEM, (full,), empty(program.leaves[full].shape)[tuple(
                picks)].shape, f"{full.name}_axes", index=tuple(picks))
    if any(width != (0, 0) for width in widths):
        full = pad(program, full, tuple(widths), 0, f"{full.name}_padded")
    backward.contribute(source, full)


def basic_index(program: Any, step: Step) -> tuple[Any, ...] | None:
    """A GETITEM step's index with one part per axis of its operand
    (ints, slices of step 1 and ``None``s), where it is such an index
    (no index arrays) and each part lies inside the operand; else None."""
    (source, *slots) = step.operands
    shape = program.leaves[source].shape
    parts = explicit(step.option("index"), len(shape))
    if slots or Ellipsis in parts:
        return None
    used = sum(part is not None for part in parts)
    parts = parts + (slice(None),) * (len(shape) - used)
    sizes = iter(shape)
    for part in parts:
        if part is None:
            continue
        size = next(sizes)
        if isinstance(part, int):
            if not -size <= part < size:
                return None
        elif not isinstance(part, slice) or part.step not in (None, 1) or any(
                bound is not None and not (isinstance(bound, int)
                                           and -size <= bound <= size)
                for bound in (part.start, part.stop)):
            return None
    return parts


GETITEM = ArrayOp("getitem", vjp=_getitem_vjp,
                  batched=lambda program, step: basic_index(
                      program, step) is not None,
                  spell=lambda step, args, name: ast.Subscript(
                      args[0], index(step.option("index"), args), ast.Load()),
                  any_size=True)


# -- np.take ------------------------------------------------------------------

def _lower_take(run: Any, a: Any, indices: Any, axis: Any = None, *,
                node: ast.AST) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    if axis is None:
        return getitem(run, reshape(run, array, (-1,), node), indices, node)
    position = run.axis(axis, len(shape), node)
    return getitem(run, array, (slice(None),) * position + (indices,), node)


TAKE = ArrayOp("take", numpy=("take",), methods=("take",), lower=_lower_take)
