"""Rows of the array table that build arrays from arrays: ``np.stack``,
``np.array``, ``concatenate`` (and ``hstack``, ``vstack``,
``column_stack``, ``dstack``), ``split``/``array_split`` (and ``hsplit``,
``vsplit``), ``tile``, ``repeat`` and ``pad`` (constant).

The gradient of an assembly hands each piece its slice of the adjoint; that
of ``tile`` and ``repeat`` sums the copies (a reshape that puts the copies
on their own axis, then a sum over it); that of ``pad`` cuts the padding
off.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._ops_core import RESHAPE, SUM, reshape, reshaped
from ._ops_create import constant_array, is_constant
from ._ops_index import GETITEM, getitem
from ._program import ArrayOp, Step
from ._spell import call, literal

__all__ = ["STACK", "ARRAY", "CONCATENATE", "HSTACK", "VSTACK",
           "COLUMN_STACK", "DSTACK", "SPLIT", "ARRAY_SPLIT", "HSPLIT",
           "VSPLIT", "TILE", "REPEAT", "PAD", "pad"]


# -- np.stack, np.array -------------------------------------------------------

def stack(run: Any, values: Any, axis: Any, node: ast.AST) -> Any:
    items = run.arrays(values, node, "np.stack")
    shapes = {run.shape(v, node) for v in items}
    if len(shapes) != 1:
        raise run.error(node, "all input arrays must have the same shape, "
                              f"got {sorted(shapes)}")
    (shape,) = shapes
    position = run.axis(axis, len(shape) + 1, node)
    operands = tuple(v if not v.free_symbols
                     else run.program.materialize(v, "item") for v in items)
    result_shape = shape[:position] + (len(items),) + shape[position:]
    return run.program.add(STACK, operands, result_shape, "stacked",
                           axis=position)


def _lower_stack(run: Any, arrays: Any, axis: Any = 0, *,
                 node: ast.AST) -> Any:
    return stack(run, arrays, axis, node)


def _stack_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    axis = step.option("axis")
    for position, item in enumerate(step.operands):
        if item in backward.active:
            backward.contribute(item, program.add(
                GETITEM, (full,), program.leaves[item].shape,
                f"{full.name}_{position}",
                index=(slice(None),) * axis + (position,)))


STACK = ArrayOp("stack", numpy=("stack",), lower=_lower_stack,
                keeps_dtype=True,
                vjp=_stack_vjp,
                spell=lambda step, args, name: call(
                    "np.stack", [ast.List(args, ast.Load())],
                    axis=step.option("axis") or None))


def _lower_array(run: Any, values: Any, dtype: Any = None, *,
                 node: ast.AST) -> Any:
    if isinstance(values, (list, tuple)) and is_constant(values):
        return constant_array(run, values, dtype, node)
    if dtype not in (None, float, np.float64, np.float32):
        raise run.error(node, "np.array of differentiated values takes no "
                              "dtype other than float")
    if isinstance(values, (list, tuple)):
        return stack(run, [_lower_array(run, v, node=node) for v in values],
                     0, node)
    return run.number(values, node)


ARRAY = ArrayOp("array", numpy=("array", "asarray"), lower=_lower_array)


# -- np.concatenate and its spellings -----------------------------------------

def concatenate(run: Any, values: Any, axis: Any, node: ast.AST) -> Any:
    items = run.arrays(values, node, "np.concatenate")
    if axis is None:
        items = [reshape(run, v, (-1,), node) for v in items]
        axis = 0
    shapes = [run.shape(v, node) for v in items]
    if any(not shape for shape in shapes):
        raise run.error(node, "zero-dimensional arrays cannot be "
                              "concatenated")
    ndim = len(shapes[0])
    position = run.axis(axis, ndim, node)
    rest = {s[:position] + s[position + 1:] for s in shapes}
    if len(rest) != 1 or any(len(s) != ndim for s in shapes):
        raise run.error(node, "all the input array dimensions except for "
                              "the concatenation axis must match exactly: "
                              f"got shapes {shapes}")
    if len(items) == 1:
        return items[0]
    operands = tuple(run.materialize(v, node, "part") for v in items)
    shape = list(shapes[0])
    shape[position] = sum(s[position] for s in shapes)
    return run.program.add(CONCATENATE, operands, tuple(shape), "joined",
                           axis=position)


def _concatenate_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """Each piece gets its slice of the adjoint."""
    program = backward.program
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    axis = step.option("axis")
    start = 0
    for position, item in enumerate(step.operands):
        size = program.leaves[item].shape[axis]
        if item in backward.active:
            backward.contribute(item, program.add(
                GETITEM, (full,), program.leaves[item].shape,
                f"{full.name}_{position}",
                index=(slice(None),) * axis + (slice(start or None,
                                                     start + size),)))
        start += size


def _lower_concatenate(run: Any, arrays: Any, axis: Any = 0, *,
                       node: ast.AST) -> Any:
    return concatenate(run, arrays, axis, node)


def _at_least(run: Any, values: Any, ndim: int, node: ast.AST,
              what: str) -> list[Any]:
    """Each array with size-1 axes added as ``np.atleast_{ndim}d`` adds
    them."""
    result = []
    for value in run.arrays(values, node, what):
        shape = run.shape(value, node)
        if len(shape) < ndim:
            if ndim == 3 and len(shape) == 2:
                wanted = shape + (1,)
            elif ndim == 3 and len(shape) == 1:
                wanted = (1,) + shape + (1,)
            else:
                wanted = (1,) * (ndim - len(shape)) + shape
            value = reshape(run, value, wanted, node)
        result.append(value)
    return result


def _lower_hstack(run: Any, tup: Any, *, node: ast.AST) -> Any:
    items = _at_least(run, tup, 1, node, "np.hstack")
    flat = all(len(run.shape(v, node)) == 1 for v in items)
    return concatenate(run, items, 0 if flat else 1, node)


def _lower_vstack(run: Any, tup: Any, *, node: ast.AST) -> Any:
    return concatenate(run, _at_least(run, tup, 2, node, "np.vstack"), 0,
                       node)


def _lower_dstack(run: Any, tup: Any, *, node: ast.AST) -> Any:
    return concatenate(run, _at_least(run, tup, 3, node, "np.dstack"), 2,
                       node)


def _lower_column_stack(run: Any, tup: Any, *, node: ast.AST) -> Any:
    columns = []
    for value in run.arrays(tup, node, "np.column_stack"):
        shape = run.shape(value, node)
        if len(shape) < 2:
            value = reshape(run, value, (-1, 1), node)
        columns.append(value)
    return concatenate(run, columns, 1, node)


CONCATENATE = ArrayOp("concatenate", numpy=("concatenate",), keeps_dtype=True,
                      lower=_lower_concatenate, vjp=_concatenate_vjp,
                      spell=lambda step, args, name: call(
                          "np.concatenate", [ast.List(args, ast.Load())],
                          axis=step.option("axis") or None))
HSTACK = ArrayOp("hstack", numpy=("hstack",), lower=_lower_hstack)
VSTACK = ArrayOp("vstack", numpy=("vstack",), lower=_lower_vstack)
DSTACK = ArrayOp("dstack", numpy=("dstack",), lower=_lower_dstack)
COLUMN_STACK = ArrayOp("column_stack", numpy=("column_stack",),
                       lower=_lower_column_stack)


# -- np.split and its spellings -----------------------------------------------

def split(run: Any, value: Any, sections: Any, axis: Any, node: ast.AST,
          equal: bool) -> tuple[Any, ...]:
    """The pieces, as slices (a tuple, which unpacks and indexes as
    NumPy's list does)."""
    array = run.number(value, node)
    shape = run.shape(array, node)
    position = run.axis(axis, len(shape), node)
    total = shape[position]
    if isinstance(sections, (list, tuple)):
        cuts = list(run.integers(sections, node, "the split points"))
        bounds = [0] + cuts + [total]
    else:
        count = run.integer(sections, node, "the number of sections")
        if count <= 0:
            raise run.error(node, "number sections must be larger than 0")
        if equal and total % count:
            raise run.error(node, "array split does not result in an equal "
                                  f"division: {total} into {count}")
        size, extra = divmod(total, count)
        sizes = [size + 1] * extra + [size] * (count - extra)
        bounds = [int(b) for b in np.cumsum([0] + sizes)]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        start, stop = (min(max(b if b >= 0 else b + total, 0), total)
                       for b in (start, stop))
        pieces.append(getitem(run, array, (slice(None),) * position
                              + (slice(start or None, stop),), node))
    return tuple(pieces)


def _lower_split(run: Any, ary: Any, indices_or_sections: Any,
                 axis: Any = 0, *, node: ast.AST) -> Any:
    return split(run, ary, indices_or_sections, axis, node, equal=True)


def _lower_array_split(run: Any, ary: Any, indices_or_sections: Any,
                       axis: Any = 0, *, node: ast.AST) -> Any:
    return split(run, ary, indices_or_sections, axis, node, equal=False)


def _lower_hsplit(run: Any, ary: Any, indices_or_sections: Any, *,
                  node: ast.AST) -> Any:
    ndim = len(run.shape(run.number(ary, node), node))
    if ndim == 0:
        raise run.error(node, "hsplit only works on arrays of 1 or more "
                              "dimensions")
    return split(run, ary, indices_or_sections, 1 if ndim > 1 else 0, node,
                 equal=True)


def _lower_vsplit(run: Any, ary: Any, indices_or_sections: Any, *,
                  node: ast.AST) -> Any:
    if len(run.shape(run.number(ary, node), node)) < 2:
        raise run.error(node, "vsplit only works on arrays of 2 or more "
                              "dimensions")
    return split(run, ary, indices_or_sections, 0, node, equal=True)


SPLIT = ArrayOp("split", numpy=("split",), lower=_lower_split)
ARRAY_SPLIT = ArrayOp("array_split", numpy=("array_split",),
                      lower=_lower_array_split)
HSPLIT = ArrayOp("hsplit", numpy=("hsplit",), lower=_lower_hsplit)
VSPLIT = ArrayOp("vsplit", numpy=("vsplit",), lower=_lower_vsplit)


# -- np.tile, np.repeat -------------------------------------------------------

def _sum_of_copies(backward: Any, adjoint: sp.Symbol, copies: tuple[int, ...],
                   shape: tuple[int, ...], split_first: bool,
                   name: str) -> sp.Expr:
    """The adjoint of an array whose axis i was copied ``copies[i]``
    times: each copied axis split in two (copies then elements for tile,
    elements then copies for repeat) and the copies summed."""
    program = backward.program
    interleaved: list[int] = []
    summed = []
    for count, size in zip(copies, shape):
        if count == 1:
            interleaved.append(size)
            continue
        summed.append(len(interleaved) + (0 if split_first else 1))
        interleaved.extend((count, size) if split_first else (size, count))
    if not summed:  # one copy: the elements themselves
        return reshaped(program, adjoint, shape, f"{name}_reshaped")
    split_up = program.add(RESHAPE, (adjoint,), tuple(interleaved),
                           f"{name}_copies", shape=tuple(interleaved))
    return program.add(SUM, (split_up,), shape, f"{name}_summed",
                       axis=tuple(summed), keepdims=False)


def _lower_tile(run: Any, A: Any, reps: Any, *, node: ast.AST) -> Any:
    array = run.number(A, node)
    shape = run.shape(array, node)
    counts = run.integers(reps, node, "np.tile's reps")
    if any(c < 0 for c in counts):
        raise run.error(node, "np.tile's reps must not be negative")
    ndim = max(len(shape), len(counts))
    promoted = (1,) * (ndim - len(shape)) + shape
    copies = (1,) * (ndim - len(counts)) + counts
    result = tuple(n * c for n, c in zip(promoted, copies))
    if result == shape:
        return array
    source = run.materialize(array, node)
    return run.program.add(TILE, (source,), result, f"{source.name}_tiled",
                           reps=counts if isinstance(reps, (tuple, list))
                           else counts[0])


def _tile_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (source,) = step.operands
    result = program.leaves[step.target].shape
    source_shape = program.leaves[source].shape
    full = backward.full(adjoint, result, f"d_{step.target.name}")
    promoted = (1,) * (len(result) - len(source_shape)) + source_shape
    copies = tuple(n // m if m else 1 for n, m in zip(result, promoted))
    total = _sum_of_copies(backward, full, copies, promoted, True,
                           f"d_{source.name}")
    backward.contribute(source, reshaped(program, total, source_shape,
                                         f"d_{source.name}_reshaped"))


TILE = ArrayOp("tile", numpy=("tile",), lower=_lower_tile, vjp=_tile_vjp,
               keeps_dtype=True,
               spell=lambda step, args, name: call(
                   "np.tile", [args[0], literal(step.option("reps"))]))


def _lower_repeat(run: Any, a: Any, repeats: Any, axis: Any = None, *,
                  node: ast.AST) -> Any:
    array = run.number(a, node)
    if isinstance(repeats, (list, tuple)):
        raise run.error(node, "np.repeat takes one number of repeats here "
                              "(the same for every element)")
    count = run.integer(repeats, node, "the number of repeats")
    if count < 0:
        raise run.error(node, "negative dimensions are not allowed")
    spelled_axis = axis
    if axis is None:
        array = reshape(run, array, (-1,), node)
        axis = 0
    shape = run.shape(array, node)
    position = run.axis(axis, len(shape), node)
    if count == 1:
        return array
    result = list(shape)
    result[position] *= count
    source = run.materialize(array, node)
    return run.program.add(
        REPEAT, (source,), tuple(result), f"{source.name}_repeated",
        repeats=count, axis=None if spelled_axis is None and len(shape) == 1
        else position)


def _repeat_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (source,) = step.operands
    shape = program.leaves[source].shape
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    position = step.option("axis") or 0
    copies = tuple(step.option("repeats") if i == position else 1
                   for i in range(len(shape)))
    backward.contribute(source, _sum_of_copies(
        backward, full, copies, shape, False, f"d_{source.name}"))


REPEAT = ArrayOp("repeat", numpy=("repeat",), methods=("repeat",),
                 keeps_dtype=True,
                 lower=_lower_repeat, vjp=_repeat_vjp,
                 spell=lambda step, args, name: call(
                     "np.repeat", [args[0], literal(step.option("repeats"))],
                     axis=step.option("axis")))


# -- np.pad -------------------------------------------------------------------

def pad(program: Any, source: sp.Symbol, widths: tuple[tuple[int, int], ...],
        value: Any, name: str) -> sp.Symbol:
    """``source`` padded with ``value`` by ``widths`` (before, after) per
    axis."""
    shape = tuple(n + before + after for n, (before, after)
                  in zip(program.leaves[source].shape, widths))
    return program.add(PAD, (source,), shape, name, widths=widths,
                       value=value)


def _lower_pad(run: Any, array: Any, pad_width: Any, mode: Any = "constant",
               constant_values: Any = sp.S.Zero, *, node: ast.AST) -> Any:
    if mode != "constant":
        raise run.error(node, f"np.pad's mode {mode!r} is not supported: "
                              "only mode='constant'")
    value = run.number(constant_values, node)
    if value.free_symbols or not value.is_Number:
        raise run.error(node, "np.pad's constant_values must be one "
                              "constant number here")
    values = run.number(array, node)
    shape = run.shape(values, node)

    def integers(item: Any) -> Any:
        if isinstance(item, (list, tuple)):
            return [integers(i) for i in item]
        return run.integer(item, node, "np.pad's widths")

    try:
        widths = np.broadcast_to(np.array(integers(pad_width)),
                                 (len(shape), 2))
    except ValueError:
        raise run.error(node, f"np.pad's widths {pad_width} do not fit an "
                              f"array of dimension {len(shape)}") from None
    if (widths < 0).any():
        raise run.error(node, "np.pad's widths must not be negative")
    if not widths.any():
        return values
    source = run.materialize(values, node)
    return pad(run.program, source,
               tuple((int(b), int(a)) for b, a in widths),
               int(value) if value.is_Integer else float(value),
               f"{source.name}_padded")


def _pad_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The adjoint with the padding cut off."""
    program = backward.program
    (source,) = step.operands
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    parts = tuple(slice(before or None, -after if after else None)
                  for before, after in step.option("widths"))
    while parts and parts[-1] == slice(None):
        parts = parts[:-1]
    backward.contribute(source, program.add(
        GETITEM, (full,), program.leaves[source].shape,
        f"{full.name}_inner", index=parts))


def _spell_pad(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    widths = step.option("widths")
    value = step.option("value")
    return call("np.pad", [args[0], literal(widths[0] if len(widths) == 1
                                            else widths)],
                constant_values=value if value != 0 else None)


# Its widths are the user's (or a gradient's 0s and 1s), and its gradient
# cuts them off from both ends: it holds no size of its own.
PAD = ArrayOp("pad", numpy=("pad",), lower=_lower_pad, vjp=_pad_vjp,
              spell=_spell_pad, any_size=True)
