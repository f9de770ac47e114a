"""Rows of the array table that build arrays from arrays: ``np.stack``,
``np.array``, ``concatenate`` (and ``hstack``, ``vstack``,
``column_stack``, ``dstack``), ``split``/``array_split`` (and ``hsplit``,
``vsplit``), ``tile``, ``repeat`` and ``pad`` (constant).

The gradient of an assembly hands each piece its slice of the adjoint, cut
between the pieces' sizes as generated code reads them (``d[:n]``,
``d[n:]``); that of ``tile`` and ``repeat`` sums the copies (a reshape, by
sizes read at run time, that puts the copies on their own axis, then a sum
over it); that of ``pad`` cuts the padding off. Their tangents (forward
mode) are the same operation applied to the tangent, whose batch axes come
last. So code with them runs at any size, except ``np.array_split`` into
pieces of unequal sizes, which checks the sizes it was generated for.

An array the function made may also be assembled in place, as printed
gradients write a scatter (``d = np.zeros_like(x); d[1:] = v; np.add.at(d,
idx, w)``, ``np.put_along_axis``): ``store`` binds ``d`` to a new value
each time, so the program stays one of values, and refuses a fill that
another name or view of ``d`` would see.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._functions import trunc
from ._in_place import copies
from ._masked_stores import integral, mask_kind, store_through_mask
from ._ops_core import (BROADCAST_TO, RESHAPE, SUM, broadcasts_to, reshape,
                        reshaped, transposed)
from ._ops_create import ARANGE, COPY, constant_array, is_constant
from ._ops_index import GETITEM, getitem
from ._ops_scatter import SCATTER, _repeats
from ._program import ELEMENTWISE, ArrayOp, Leaf, Step
from ._same_array import same_array
from ._spell import Slot, call, literal
from ._stale import Stale
from ._view_stores import through_view

__all__ = ["STACK", "ARRAY", "CONCATENATE", "APPEND", "HSTACK", "VSTACK",
           "COLUMN_STACK", "DSTACK", "SPLIT", "ARRAY_SPLIT", "HSPLIT",
           "VSPLIT", "TILE", "REPEAT", "PAD", "PIECE", "pad", "piece",
           "pieces_of", "store", "store_item"]


# -- np.stack, np.array -------------------------------------------------------

def stack(run: Any, values: Any, axis: Any, node: ast.AST) -> Any:
    if isinstance(values, sp.Expr) and run.shape(values, node):
        # The rows of one array (a list of arrays a loop filled): stacked
        # along axis 0 they are the array itself.
        array = run.materialize(values, node, "rows")
        rank = len(run.shape(array, node))
        position = run.axis(axis, rank, node)
        if position == 0:
            return array
        order = tuple(range(1, position + 1)) + (0,) + tuple(
            range(position + 1, rank))
        return transposed(run.program, array, order, f"{array.name}_T")
    items = run.arrays(values, node, "np.stack")
    shapes = {run.shape(v, node) for v in items}
    if len(shapes) != 1:
        raise run.error(node, "all input arrays must have the same shape, "
                              f"got {sorted(shapes)}")
    (shape,) = shapes
    position = run.axis(axis, len(shape) + 1, node)
    operands = tuple(v if not v.free_symbols
                     else run.materialize(v, node, "item") for v in items)
    result_shape = shape[:position] + (len(items),) + shape[position:]
    return run.program.add(STACK, operands, result_shape, "stacked",
                           axis=position)


def _lower_stack(run: Any, arrays: Any, axis: Any = 0, *,
                 node: ast.AST) -> Any:
    return stack(run, arrays, axis, node)


def _same_everywhere(backward: Any, step: Step, adjoint: sp.Expr) -> bool:
    """Whether ``adjoint`` is one number for every element of the joined
    array (np.sum of it): then it is each piece's too, without the array
    joined again only to be cut up (``np.ones_like(a)``)."""
    if backward.rank or backward.program.shape(adjoint) != ():
        return False
    for item in step.operands:
        if item in backward.active:
            backward.contribute(item, adjoint)
    return True


def _stack_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    if _same_everywhere(backward, step, adjoint):
        return
    program = backward.program
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    before = (slice(None),) * (backward.rank + step.option("axis"))
    for position, item in enumerate(step.operands):
        if item in backward.active:
            backward.contribute(item, program.add(
                GETITEM, (full,), backward.batch + program.leaves[item].shape,
                f"{full.name}_{position}", index=before + (position,)))


STACK = ArrayOp("stack", numpy=("stack",), lower=_lower_stack,
                keeps_dtype=True,
                vjp=_stack_vjp, batched=True,
                spell=lambda step, args, name: call(
                    "np.stack", [ast.List(args, ast.Load())],
                    axis=step.option("axis") or None),
                any_size=True)


def _lower_array(run: Any, values: Any, dtype: Any = None, *,
                 copy: Any = None, node: ast.AST) -> Any:
    # A copy or not, the values are the same, and so is their derivative:
    # whether the name is a new array (which the function may fill) is
    # _lower_arrays._makes_new's to say.
    if copy not in (True, False, None):
        written = next(k.value for k in node.keywords if k.arg == "copy")
        raise run.error(node, f"{ast.unparse(node.func)}'s copy= must be "
                              "True, False or None (a constant), not "
                              f"{ast.unparse(written)}")
    listed = isinstance(values, (list, tuple))
    if copy is not None and not copy and listed:
        raise run.error(node, "copy=False cannot make an array of a list "
                              "without copying it (NumPy raises "
                              "ValueError): leave copy= out")
    if listed and is_constant(values):
        array = constant_array(run, values, dtype, node)
        # (its values as NumPy reads them: ints, bools or float64s)
        if dtype is None or np.dtype(dtype).kind != "f" or np.dtype(
                dtype) == np.float64:
            return array
    elif listed:
        array = stack(run, [_lower_array(run, v, node=node) for v in values],
                      0, node)
    else:
        array = run.number(values, node)
    if dtype is None:
        return array
    from ._ops_cast import cast  # (it reads _lower_conditions, which reads us)
    # dtype= is the type of the array the user's code goes on with, as
    # .astype(dtype) of it would be
    return cast(run, array, dtype, node,
                f"{ast.unparse(node.func)}'s dtype={{}}")


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
    if _same_everywhere(backward, step, adjoint):
        return
    full = backward.full(adjoint, backward.program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    for item, part in pieces_of(backward.program, step, full, backward.rank,
                                backward.active):
        backward.contribute(item, part)


def pieces_of(program: Any, step: Step, full: sp.Symbol, before: int,
              active: set[sp.Symbol]) -> list[tuple[sp.Symbol, sp.Symbol]]:
    """The adjoint ``full`` of a concatenation cut into each active
    piece's slice, between the sizes of the pieces before it as read at
    run time (``d[:n]``, ``d[n:]``); ``full`` has ``before`` axes in front
    of the result's (a batch of adjoints)."""
    axis = step.option("axis")
    start: Any = sp.S.Zero
    last = len(step.operands) - 1
    parts = []
    for position, item in enumerate(step.operands):
        stop = None if position == last else start + program.size(item, axis)
        if item in active:
            parts.append((item, piece(
                program, full, before + axis, None if start == 0 else start,
                stop, f"{full.name}_{position}")))
        if stop is not None:
            start = stop
    return parts


def _lower_concatenate(run: Any, arrays: Any, axis: Any = 0, *,
                       node: ast.AST) -> Any:
    return concatenate(run, arrays, axis, node)


def _lower_append(run: Any, arr: Any, values: Any, axis: Any = None, *,
                  node: ast.AST) -> Any:
    """``np.append``: a concatenation (of both flattened, by default)."""
    return concatenate(run, [arr, values], axis, node)


APPEND = ArrayOp("append", numpy=("append",), lower=_lower_append)


def _at_least(run: Any, values: Any, ndim: int, node: ast.AST,
              what: str) -> list[Any]:
    """Each array with size-1 axes added as ``np.atleast_{ndim}d`` adds
    them."""
    result = []
    for value in run.arrays(values, node, what):
        shape = run.program.shape_of(value)  # sizes read at run time
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
                      batched=True,
                      spell=lambda step, args, name: call(
                          "np.concatenate", [ast.List(args, ast.Load())],
                          axis=step.option("axis") or None),
                      any_size=True)


# -- a piece along one axis, between bounds read at run time ------------------

def piece(program: Any, source: sp.Symbol, axis: int, start: Any, stop: Any,
          name: str) -> sp.Symbol:
    """``source[start:stop]`` along ``axis``; a bound is None (the end),
    an int or a sum of size symbols (``n + n_1``) that generated code
    computes when it runs."""
    shape = list(program.leaves[source].shape)
    low = 0 if start is None else int(program.concrete(start))
    high = shape[axis] if stop is None else int(program.concrete(stop))
    shape[axis] = high - low
    return program.add(PIECE, (source,), tuple(shape), name, axis=axis,
                       start=start, stop=stop)


def _piece_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The adjoint padded with zeros back to the source's size."""
    program = backward.program
    (source,) = step.operands
    axis = step.option("axis")
    start, stop = step.option("start"), step.option("stop")
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    after = 0 if stop is None else program.size(source, axis) - stop
    widths = tuple((start or 0, after) if i == axis else (0, 0)
                   for i in range(len(program.leaves[source].shape)))
    backward.contribute(source, pad(program, full, widths, 0,
                                    f"{full.name}_padded"))


def _piece_jvp(forward: Any, step: Step) -> sp.Expr:
    # Linear: the same piece of the tangent (the batch axes come last).
    (source,) = step.operands
    return piece(forward.program, forward.full_tangent(source),
                 step.option("axis"), step.option("start"),
                 step.option("stop"), f"{step.target.name}_tangent")


def _spell_piece(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    def bound(value: Any) -> ast.expr | None:
        if value is None or isinstance(value, ast.AST):
            return value
        return ast.Constant(int(value))

    part = ast.Slice(bound(step.option("start")), bound(step.option("stop")))
    axis = step.option("axis")
    index: ast.expr = part if not axis else ast.Tuple(
        [ast.Slice() for _ in range(axis)] + [part], ast.Load())
    return ast.Subscript(args[0], index, ast.Load())


# operands (array,): array[start:stop] along ``axis``, the bounds None,
# ints or sums of size symbols (the gradient of a concatenation).
PIECE = ArrayOp("piece", vjp=_piece_vjp, jvp=_piece_jvp, spell=_spell_piece,
                keeps_dtype=True, any_size=True)
HSTACK = ArrayOp("hstack", numpy=("hstack",), lower=_lower_hstack)
VSTACK = ArrayOp("vstack", numpy=("vstack",), lower=_lower_vstack)
DSTACK = ArrayOp("dstack", numpy=("dstack",), lower=_lower_dstack)
COLUMN_STACK = ArrayOp("column_stack", numpy=("column_stack",),
                       lower=_lower_column_stack)


# -- np.split and its spellings -----------------------------------------------

def split(run: Any, value: Any, sections: Any, axis: Any, node: ast.AST,
          equal: bool) -> tuple[Any, ...]:
    """The pieces, as slices (a tuple, which unpacks and indexes as
    NumPy's list does), cut where they are at any size."""
    array = run.number(value, node)
    shape = run.shape(array, node)
    position = run.axis(axis, len(shape), node)
    total = shape[position]
    before = (slice(None),) * position
    if isinstance(sections, (list, tuple)):
        # As NumPy cuts: array[start:stop] with the points as written (so
        # counted from the end where negative), from the start to the end.
        cuts = list(run.integers(sections, node, "the split points"))
        bounds = [None] + cuts + [None]
        return tuple(getitem(run, array, before + (slice(start or None,
                                                         stop),), node)
                     for start, stop in zip(bounds[:-1], bounds[1:]))
    count = run.integer(sections, node, "the number of sections")
    if count <= 0:
        raise run.error(node, "number sections must be larger than 0")
    if equal and total % count:
        raise run.error(node, "array split does not result in an equal "
                              f"division: {total} into {count}")
    if count == 1:
        return (array,)
    if equal:
        # Equal pieces: the axis reshaped to (count, -1), so the pieces
        # follow the size the code is called at (the count is the user's).
        sizes = run.program.shape_of(array)
        grouped = reshape(run, array, sizes[:position] + (count, -1)
                          + sizes[position + 1:], node, written=True)
        return tuple(getitem(run, grouped, before + (i,), node)
                     for i in range(count))
    # np.array_split's pieces differ in size by how the count divides the
    # axis: the code is written for this size, and checks it.
    run.program.baked.append(f"np.array_split's pieces of {total} "
                             "elements are cut for them")
    size, extra = divmod(total, count)
    sizes = [size + 1] * extra + [size] * (count - extra)
    bounds = [int(b) for b in np.cumsum([0] + sizes)]
    return tuple(getitem(run, array, before + (slice(start or None, stop),),
                         node)
                 for start, stop in zip(bounds[:-1], bounds[1:]))


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
                   sizes: tuple[Any, ...], split_first: bool,
                   name: str) -> sp.Expr:
    """The adjoint of an array whose axis i (of size ``sizes[i]``, as
    generated code reads it) was copied ``copies[i]`` times: each copied
    axis split in two (copies then elements for tile, elements then copies
    for repeat) and the copies summed."""
    program = backward.program
    interleaved: list[Any] = []
    summed = []
    for count, size in zip(copies, sizes):
        if count == 1:
            interleaved.append(size)
            continue
        summed.append(len(interleaved) + (0 if split_first else 1))
        interleaved.extend((count, size) if split_first else (size, count))
    if not summed:  # one copy: the elements themselves
        return reshaped(program, adjoint, sizes, f"{name}_reshaped")
    # Its ints are the user's counts of copies (as_written); its sizes
    # are read at run time.
    split_up = program.add(RESHAPE, (adjoint,),
                           _concrete(program, interleaved), f"{name}_copies",
                           shape=tuple(interleaved), as_written=True)
    return program.add(SUM, (split_up,), _concrete(program, sizes),
                       f"{name}_summed", axis=tuple(summed), keepdims=False)


def _concrete(program: Any, sizes: Any) -> tuple[int, ...]:
    """The shape that ``sizes`` (ints and size symbols) has here."""
    return tuple(int(n) for n in program.concrete(tuple(sizes)))


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


def _copies(step: Step, ndim: int) -> tuple[int, ...]:
    """How many times a tile copies each of its result's axes (leading
    axes it adds count as copied)."""
    reps = step.option("reps")
    counts = tuple(reps) if isinstance(reps, tuple) else (reps,)
    return (1,) * (ndim - len(counts)) + counts


def _tile_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (source,) = step.operands
    result = program.leaves[step.target].shape
    full = backward.full(adjoint, result, f"d_{step.target.name}")
    sizes = program.shape_of(source)
    promoted = (1,) * (len(result) - len(sizes)) + sizes
    total = _sum_of_copies(backward, full, _copies(step, len(result)),
                           promoted, True, f"d_{source.name}")
    backward.contribute(source, reshaped(program, total, sizes,
                                         f"d_{source.name}_reshaped"))


def _tile_jvp(forward: Any, step: Step) -> sp.Expr:
    """The tangent tiled alike: reps of 1 for the batch axes, which come
    last (np.tile lines reps up with the last axes)."""
    (source,) = step.operands
    reps = step.option("reps")
    if forward.batch:
        reps = _copies(step, len(forward.shape(step.target))) + (1,) * len(
            forward.batch)
    return forward.program.add(
        TILE, (forward.full_tangent(source),),
        forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", reps=reps)


# reps and repeats are counts as the user wrote them; the sizes their
# gradients reshape to are read at run time.
TILE = ArrayOp("tile", numpy=("tile",), lower=_lower_tile, vjp=_tile_vjp,
               jvp=_tile_jvp,
               keeps_dtype=True,
               spell=lambda step, args, name: call(
                   "np.tile", [args[0], literal(step.option("reps"))]),
               any_size=True)


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
        backward, full, copies, program.shape_of(source), False,
        f"d_{source.name}"))


def _repeat_jvp(forward: Any, step: Step) -> sp.Expr:
    return forward.along_first_axis(step, repeats=step.option("repeats"))


REPEAT = ArrayOp("repeat", numpy=("repeat",), methods=("repeat",),
                 keeps_dtype=True,
                 lower=_lower_repeat, vjp=_repeat_vjp, jvp=_repeat_jvp,
                 spell=lambda step, args, name: call(
                     "np.repeat", [args[0], literal(step.option("repeats"))],
                     axis=step.option("axis")),
                 any_size=True)


# -- np.pad -------------------------------------------------------------------

def pad(program: Any, source: sp.Symbol, widths: tuple[tuple[int, int], ...],
        value: Any, name: str) -> sp.Symbol:
    """``source`` padded with ``value`` by ``widths`` (before, after) per
    axis: ints, or sizes read at run time (a piece's gradient)."""
    shape = tuple(n + int(program.concrete(before + after))
                  for n, (before, after)
                  in zip(program.leaves[source].shape, widths))
    return program.add(PAD, (source,), shape, name, widths=widths,
                       value=value)


def _lower_pad(run: Any, array: Any, pad_width: Any, mode: Any = "constant",
               constant_values: Any = sp.S.Zero, *, node: ast.AST) -> Any:
    if mode not in _GATHERING_MODES + ("constant",):
        raise run.error(node, f"np.pad's mode {mode!r} is not supported: "
                              "only 'constant', 'edge', 'reflect', "
                              "'symmetric' and 'wrap'")
    # A keyword's integer arrives as a Python int (constant_values=1, as
    # the gradient of np.prod writes it).
    value = run.number(sp.Integer(constant_values) if isinstance(
        constant_values, int) else constant_values, node)
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
    if mode != "constant":
        return _padded_by_copies(run, values, widths, mode, node)
    source = run.materialize(values, node)
    return pad(run.program, source,
               tuple((int(b), int(a)) for b, a in widths),
               int(value) if value.is_Integer else float(value),
               f"{source.name}_padded")


# Modes that pad with copies of the array's own elements: the padded array
# is pieces of it joined (reversed slices for 'reflect' and 'symmetric'),
# so its gradient adds each copy's back, as the pieces' rules do.
_GATHERING_MODES = ("edge", "reflect", "symmetric", "wrap")


def _padded_by_copies(run: Any, values: Any, widths: np.ndarray, mode: str,
                      node: ast.AST) -> Any:
    """``values`` padded by ``mode`` one axis after the other, as NumPy
    pads (the corners come from the axes padded first)."""
    array = values
    for axis, (before, after) in enumerate(widths.tolist()):
        if not before and not after:
            continue
        size = run.shape(array, node)[axis]
        most = size - 1 if mode == "reflect" else size
        if mode != "edge" and max(before, after) > most:
            raise run.error(node, f"np.pad's mode {mode!r} pads at most "
                                  f"{most} elements here on each side of an "
                                  f"axis of {size}: pad in steps (np.pad of "
                                  "np.pad), each within that")
        lead = (slice(None),) * axis

        def part(index: Any) -> Any:
            return getitem(run, array, lead + (index,), node)

        def end(count: int, first: bool) -> Any:
            if mode == "edge":  # one element along the axis, stacked
                return stack(run, [part(0 if first else -1)] * count, axis,
                             node)
            if mode == "wrap":
                return part(slice(-count, None) if first
                            else slice(None, count))
            skip = mode == "reflect"  # the edge itself is not repeated
            if first:
                return part(slice(count - 1 + skip, None if not skip else 0,
                                  -1))
            return part(slice(-1 - skip, -count - 1 - skip, -1))

        pieces = ([end(before, True)] if before else []) + [array] + (
            [end(after, False)] if after else [])
        array = concatenate(run, pieces, axis, node)
    return array


def _pad_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The adjoint with the padding cut off."""
    program = backward.program
    (source,) = step.operands
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    widths = step.option("widths")
    if any(isinstance(w, sp.Basic) for pair in widths for w in pair):
        # Sizes read at run time (a piece's gradient): one piece per axis.
        inner = full
        for axis, (before, after) in enumerate(widths):
            if before != 0 or after != 0:
                inner = piece(program, inner, axis, before or None,
                              program.size(inner, axis) - after,
                              f"{full.name}_inner")
        backward.contribute(source, inner)
        return
    parts = tuple(slice(before or None, -after if after else None)
                  for before, after in widths)
    while parts and parts[-1] == slice(None):
        parts = parts[:-1]
    backward.contribute(source, program.add(
        GETITEM, (full,), program.leaves[source].shape,
        f"{full.name}_inner", index=parts))


def _pad_jvp(forward: Any, step: Step) -> sp.Expr:
    # The padding is constant: the tangent padded with zeros (none along
    # the batch axes).
    (source,) = step.operands
    widths = step.option("widths") + ((0, 0),) * len(forward.batch)
    return pad(forward.program, forward.full_tangent(source), widths, 0,
               f"{step.target.name}_tangent")


def _spell_pad(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    widths = step.option("widths")
    value = step.option("value")
    return call("np.pad", [args[0], literal(widths[0] if len(widths) == 1
                                            else widths)],
                constant_values=value if value != 0 else None)


# Its widths are the user's (or a gradient's 0s and 1s), and its gradient
# cuts them off from both ends: it holds no size of its own.
PAD = ArrayOp("pad", numpy=("pad",), lower=_lower_pad, vjp=_pad_vjp,
              jvp=_pad_jvp, spell=_spell_pad, any_size=True)


# -- filling a local array ----------------------------------------------------

# What a new local array is made by: filling it changes nothing else.
FRESH = ("zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
          "copy", "elementwise", "scatter")
_READ_FIRST = ("{} is read before it is filled, and filling it would change "
               "what was read (a name for it, or a view of it): fill it "
               "first, then read it")
_IN_PLACE_CALL = ("expression statements are not supported: a call made for "
                  "its side effect (logging, mutation) cannot be "
                  "differentiated; remove it (print() is left out of "
                  "derivatives)")


def store(run: Any, statement: ast.stmt, env: dict[str, Any]) -> None:
    """``d[key] = v``, ``d[key] += v`` (or ``-=``), ``np.add.at(d, key,
    v)`` and ``np.put_along_axis(d, indices, v, axis)`` on an array ``d``
    the function made itself and has not read yet, as gradients print a
    scatter: ``d`` is bound to a new value, zeros like it with ``v`` at
    ``key`` (a scatter) added to what it held (less what was there, for
    ``=``). Closure: the code we print for a gradient is read back."""
    if isinstance(statement, ast.Expr):
        node = statement.value
        assert isinstance(node, ast.Call)  # what the runner passes
        callee = run.expression(node.func, env)
        if callee is np.put_along_axis:
            _put_along_axis(run, node, env)
            return
        if not (getattr(callee, "__self__", None) is np.add
                and getattr(callee, "__name__", None) == "at"):
            raise run.error(statement, _IN_PLACE_CALL)
        if len(node.args) != 3 or node.keywords:
            raise run.error(node, "np.add.at takes the array, the index and "
                                  "the values here")
        target, key_node, value_node = node.args
        key = _index_of(run, key_node, env)
        view = through_view(run, statement, ast.Subscript(
            target, key_node, ast.Store()), key, env, _made_here)
        _fill_through(run, target, key, run.expression(value_node, env),
                      env, node, "add", view)
        return
    assigned = (statement.targets[0] if isinstance(statement, ast.Assign)
                else statement.target)
    assert isinstance(assigned, ast.Subscript)
    if isinstance(statement, ast.Assign) and len(statement.targets) > 1:
        raise run.error(statement, "assign an item of one array at a time: "
                                   "d[key] = value")
    key = _index_of(run, assigned.slice, env)
    view = through_view(run, statement, assigned, key, env, _made_here)
    mask = None if view else _through_mask(run, statement, assigned, key,
                                           env)
    if mask is not None:
        aliases = _aliases(run, assigned.value.id, env)
        current = _local_array(run, assigned.value, env, aliases)
        env[assigned.value.id] = run.program.materialize(
            store_through_mask(run, statement, current, mask, env),
            assigned.value.id)
        for alias in aliases:
            env[alias] = env[assigned.value.id]
        return
    if isinstance(statement, ast.AugAssign) and not isinstance(
            statement.op, (ast.Add, ast.Sub)):
        # d[key] *= v is d[key] = d[key] * v (what was there, read first)
        read = ast.Subscript(assigned.value, assigned.slice, ast.Load())
        store(run, ast.fix_missing_locations(ast.copy_location(ast.Assign(
            [assigned], ast.BinOp(read, statement.op, statement.value)),
            statement)), env)
        return
    values = run.expression(statement.value, env)
    if isinstance(getattr(statement, "op", None), ast.Sub):
        values = -run.number(values, statement)
    _fill_through(run, assigned.value, key, values, env, statement,
                  "set" if isinstance(statement, ast.Assign) else "add once",
                  view)


def _fill_through(run: Any, target: ast.expr, key: Any, values: Any,
                  env: dict[str, Any], node: ast.AST, how: str,
                  view: tuple[str, tuple[Any, ...], tuple[Any, ...]] | None
                  ) -> None:
    """``_fill``, through ``view`` where ``target`` is one (``through_view``):
    ``row[1] = v`` with ``row = B[0]`` is ``B[0, 1] = v``, and ``row`` the
    row of the new ``B``."""
    if view is None:
        _fill(run, target, key, values, env, node, how)
        return
    base, key, at = view
    _fill(run, ast.copy_location(ast.Name(base, ast.Load()), target), key,
          values, env, node, how)
    env[target.id] = getitem(run, env[base], at, node)  # type: ignore


def _through_mask(run: Any, statement: ast.Assign | ast.AugAssign,
                  assigned: ast.Subscript, key: Any,
                  env: dict[str, Any]) -> Any:
    """The mask ``statement`` stores through as ``np.where``
    (``_masked_stores``), or None: a mask the code computes, or one of
    known values where the store replaces what an array held (``d[MASK] =
    v``, ``d[MASK] *= v``); adding through it is a scatter."""
    name = assigned.value.id if isinstance(assigned.value, ast.Name) \
        else None
    if name is None or not isinstance(env.get(name), sp.Basic):
        return None
    mask = run.concrete(key)
    kind = mask_kind(run, mask)
    if kind == "known" and isinstance(statement, ast.AugAssign) and \
            isinstance(statement.op, (ast.Add, ast.Sub)):
        return None
    return mask if kind is not None else None


def store_item(run: Any, target: ast.Subscript, value: Any,
               env: dict[str, Any]) -> None:
    """``d[key] = value`` for a value computed already: an item of a
    tuple assignment (``y[0], y[1] = y[1], y[0]`` reads both first)."""
    _fill(run, target.value, _index_of(run, target.slice, env), value, env,
          target, "set")


def _fill(run: Any, target: ast.expr, key: Any, values: Any,
          env: dict[str, Any], node: ast.AST, how: str,
          distinct: bool = False) -> None:
    """``target`` (a name) bound to its array with ``values`` at ``key``:
    ``how`` is "set" (``=``), "add once" (``+=``, which keeps one value
    where an index repeats, so it must not) or "add" (``np.add.at``);
    ``distinct``: the caller knows the index picks each element once."""
    aliases = _aliases(run, target.id, env)
    current = _local_array(run, target, env, aliases)
    values = run.number(values, node)
    program = run.program
    made = program.definition().get(current)  # None: carried by a loop
    zeros = made is not None and made.op.name in ("zeros", "zeros_like")
    like = made.operands[0] if zeros and made.op.name == "zeros_like" \
        else current
    # The elements picked (of ``like`` where ``d`` holds zeros: ``d`` is
    # then not read, and stays an array no step has read).
    picked = getitem(run, like if zeros else current, run.concrete(key),
                     node)
    step = program.definition()[picked]
    shape = program.leaves[picked].shape
    given = run.shape(values, node)
    if not broadcasts_to(given, shape):
        raise run.error(node, f"values of shape {given} do not fit the "
                              f"elements of shape {shape} they are put in")
    # (where ``d`` holds zeros, ``picked`` is of the array it is like)
    values = _as_held(program, current, sp.S.Zero if zeros else picked,
                      values, how)
    if how == "set" and not zeros:
        values = values - picked  # what is there is replaced
    if run.shape(values, node) != shape:
        # (a step's operands are symbols: its vjp adds to them)
        values = program.add(BROADCAST_TO, (program.materialize(
            values, f"{target.id}_value"),), shape, "filled",
            shape=program.shape_of(picked))
    slots = step.operands[1:]
    operands = (like, _values(program, values, f"{target.id}_values"),
                *slots)
    parts = tuple(Slot(p.position + 1) if isinstance(p, Slot) else p
                  for p in step.option("index"))
    # (a mask, as a gradient through x[MASK] fills it, picks each once)
    repeats = not (distinct or step.option("distinct") or _permutes(
        program, step)) and _repeats(parts, program, operands)
    if how != "add" and repeats:
        raise run.error(node, "this index can pick an element twice, and "
                              "d[key] = v (or += v) then keeps one value "
                              "of those: add them with np.add.at(d, key, "
                              "v)")
    # Named after the user's array (d, then d_1, ... as it is filled):
    # zeros with the values put, or (base) what it held with them added.
    base = not (zeros and how == "set")
    held = program.leaves[current]  # (its dtype, whatever is put in it)
    env[target.id] = program.add(
        SCATTER, (current,) + operands[1:] if base else operands,
        held.shape, target.id, boolean=held.boolean, integer=held.integer,
        pieces=((parts, repeats),), **({"base": True} if base else {}))
    for alias in aliases:  # (a = b = np.zeros(3): one array, filled)
        env[alias] = env[target.id]


def _aliases(run: Any, name: str, env: dict[str, Any]) -> list[str]:
    """The other names bound to the array ``name`` holds, which a store
    through it changes too. None in a kept loop's body: the loop carries
    the names it fills, so another name changed in it would hold the
    value of one iteration (it is retired instead, and refused where it
    is read)."""
    if getattr(run.context, "kept_loops", 0):
        return []
    return same_array(run, name, env)


def _made_here(run: Any, name: str, env: dict[str, Any]) -> bool:
    """Whether ``name`` holds an array the function made, which it may
    fill (as ``_local_array`` takes it): new in Python (a copy, a
    constructor, arithmetic), filled already, or carried by a loop."""
    value = env.get(name)
    new = getattr(run.context, "new_arrays", {}).get(name)
    if new is not None and new[0] is value:
        return True
    if not isinstance(value, sp.Expr):
        return False
    if not isinstance(value, sp.Symbol):
        return bool(value.free_symbols)
    made = run.program.definition().get(value)
    return (made is not None and made.op.name in FRESH) or value in getattr(
        run, "fillable", ())


def _as_held(program: Any, array: sp.Symbol, held: sp.Expr,
             values: sp.Expr, how: str) -> sp.Expr:
    """``values`` as an integer ``array`` holds them once put: NumPy casts
    a float put into it toward zero (``counts[i] = 1.7 * x`` keeps 1, which
    does not change with ``x``), so a value that may not be an integer is
    truncated, and its derivative is zero. ``held``: the elements there
    before, which ``d[k] += v`` adds to."""
    leaf = program.leaves[array]
    if not leaf.integer or leaf.boolean or integral(program, values):
        return values
    if how == "set":
        return trunc(values)
    return trunc(held + values) - held


def _values(program: Any, values: sp.Expr, name: str) -> sp.Symbol:
    """The values put, as a symbol: a number gets a step of its own, not
    the one any 1 materialized shares (a gradient's seed would read it)."""
    if values.free_symbols:
        return program.materialize(values, name)
    symbol = program.new_symbol(name, Leaf((), "value"))
    program.steps.append(Step(symbol, ELEMENTWISE, (values,)))
    return symbol


def _put_along_axis(run: Any, node: ast.Call, env: dict[str, Any]) -> None:
    """``np.put_along_axis(d, indices, v, axis=k)``: ``d[..., indices,
    ...]`` with ``np.arange`` of every other axis, where the indices pick
    each element once (one index per row, or an argsort along ``k``, as
    the gradient of np.take_along_axis prints it)."""
    arguments = [run.expression(a, env) for a in node.args]
    arguments += [run.expression(k.value, env) for k in node.keywords
                  if k.arg == "axis"]
    if len(arguments) != 4 or len(node.args) < 3 or any(
            k.arg != "axis" for k in node.keywords):
        raise run.error(node, "np.put_along_axis takes the array, the "
                              "indices, the values and the axis here")
    target = node.args[0]
    current = _local_array(run, target, env)
    program = run.program
    ndim = len(program.leaves[current].shape)
    axis = run.axis(arguments[3], ndim, node)
    indices = arguments[1]
    if not (isinstance(indices, sp.Symbol) and indices in program.leaves
            and _once_along(program, indices, current, axis)):
        raise run.error(node, "np.put_along_axis keeps one value where its "
                              "indices repeat: add them with np.add.at, or "
                              "put the indices of np.argsort")
    key = []
    for i in range(ndim):
        if i == axis:
            key.append(indices)
            continue
        rows = ARANGE.lower(run, program.size(current, i), node=node)
        key.append(getitem(run, rows, tuple(
            slice(None) if j == i else None for j in range(ndim)), node))
    _fill(run, target, tuple(key), arguments[2], env, node, "set",
          distinct=True)


def _once_along(program: Any, indices: sp.Symbol, array: sp.Symbol,
                axis: int) -> bool:
    """Whether ``indices`` put along ``axis`` of ``array`` put each element
    once: one index per row, or an argsort along that axis (with new axes
    of 1 at its end, as a batch of tangents has them); and no row of a
    broadcast ``array`` is put twice."""
    shape = program.leaves[indices].shape
    if any(m not in (1, n) for i, (n, m) in enumerate(
            zip(program.leaves[array].shape, shape)) if i != axis):
        return False
    if shape[axis] == 1:
        return True
    definitions = program.definition()
    made = definitions.get(indices)
    while made is not None and made.op.name == "getitem" and all(
            part in (None, Ellipsis, slice(None))
            for part in made.option("index")) and made.option(
            "index")[-1] is None:
        made = definitions.get(made.operands[0])
    if made is None or made.op.name != "argsort":
        return False
    # argsort's axis is None for its last (new axes of 1 come after it)
    rank = len(program.leaves[made.target].shape)
    along = made.option("axis")
    return (rank - 1 if along is None else along % rank) == axis


def _local_array(run: Any, target: ast.expr, env: dict[str, Any],
                 aliases: list[str] | None = None) -> Any:
    """The array a statement fills: one this function made and nothing has
    read yet (filling one that is read, or an argument, would change what
    was read, which a program of values cannot say); ``aliases``, other
    names of it, which the store rebinds."""
    program = run.program
    current = env.get(target.id) if isinstance(target, ast.Name) else None
    if isinstance(current, Stale):
        raise run.error(target, current.refusal())
    if isinstance(current, sp.Expr) and not isinstance(
            current, sp.Symbol) and current.free_symbols:
        # arithmetic makes a new array (d = p - q; d[i] += v)
        if any(name != target.id and name not in (aliases or ())
               and isinstance(value, sp.Basic)
               and value.has(current) for name, value in env.items()):
            raise run.error(target, _READ_FIRST.format(target.id))
        current = program.materialize(current, target.id)
        env[target.id] = current
    new = getattr(run.context, "new_arrays", {}).get(getattr(target, "id",
                                                               None))
    exempt: frozenset[str] = frozenset()
    if new is not None and isinstance(current, sp.Symbol) and \
            new[0] is current:
        # y = np.array(x), y = x * 1.0: a copy of x in Python, whatever
        # its value reads as; filled, it is that copy that changes (and
        # what took another name for it or a view of it since).
        _, others, first = new
        # (names made new later while this one held the same value: x =
        # np.zeros(5); v = np.zeros(5) are two arrays of equal values)
        twins = frozenset(other for other, (value, before, _) in
                 run.context.new_arrays.items()
                 if value is current and target.id in before)
        exempt = others | twins
        _retire(run, env, target, _views(
            program, current, program.steps[first:]), exempt)
        del run.context.new_arrays[target.id]
        made = program.definition().get(current)
        if made is None or made.op.name not in FRESH:
            current = program.add(COPY, (current,), program.leaves[
                current].shape, target.id)
            env[target.id] = current
    made = program.definition().get(current) if isinstance(
        current, sp.Symbol) else None
    # (an array a loop carries, made here before it: filled in each
    # iteration, as the values of the program it is)
    carried = current in getattr(run, "fillable", ())
    if not carried and (made is None or made.op.name not in FRESH):
        spelled = ast.unparse(target)
        raise run.error(target, f"assigning to an item of {spelled} "
                                "mutates an object the function did not "
                                "make, which cannot be differentiated: "
                                "assign to a new local name instead, or "
                                "fill an array made here (d = "
                                "np.zeros_like(x); d[i] = v)")
    if any(s.op is SCATTER and s.option("base") and s.operands[0] == current
           for s in program.steps):
        # (a fill on each path of an if: the code is written with one
        # array filled in place, so each fill must start from its own)
        raise run.error(target, f"{target.id} was filled from the same "
                                "value on another path: fill it once, after "
                                "the if, with the value each path computes "
                                f"({target.id}[i] = a if c else b)")
    _retire(run, env, target, _views(
        program, current, [s for s in program.steps if s is not made]),
        exempt)
    return current


def _retire(run: Any, env: dict[str, Any], target: ast.Name,
            views: set[sp.Symbol], also: frozenset[str]) -> None:
    """Before ``target`` is filled: each other name that holds one of
    ``views`` (the array, or a view of it) now holds a ``Stale`` (a row
    read into a name, ``y = Y[i]``, and the next row filled, is fine as
    long as ``y`` is not read again); a list, tuple or dict holding one is
    refused at the fill."""
    for other, value in list(env.items()):
        if other == target.id or other in also:
            continue
        if isinstance(value, sp.Symbol) and value in views:
            env[other] = Stale(other, target.id, target.lineno)
        elif _named_elsewhere({other: value}, target.id, views):
            raise run.error(target, _READ_FIRST.format(target.id))


def held_elsewhere(program: Any, env: dict[str, Any], name: str,
                   array: sp.Symbol, made: Step | None = None,
                   also: frozenset[str] = frozenset()) -> bool:
    """Whether filling ``array`` (bound to ``name``) would change what
    another name holds: another name for it, or a view of it (``r =
    d[1:]``, ``d.T``, a view of a view). What was computed from it is a
    value of its own (``d[0]``, ``d * 2``, ``np.sum(d)``, and ``d[t - 1] *
    0.5``, whose view is read once and gone), as in NumPy. Names in
    ``also`` hold arrays of their own (equal in value)."""
    return _named_elsewhere(env, name, _views(
        program, array, [s for s in program.steps if s is not made]), also)


def _views(program: Any, array: sp.Symbol, steps: list[Step]
           ) -> set[sp.Symbol]:
    """``array`` and the results of ``steps`` that are views of it."""
    views = {array}
    for step in steps:
        if any(v in step.uses() and not _reads_a_copy(program, step, v)
               for v in views):
            views.update(step.results())
    return views


def _named_elsewhere(env: dict[str, Any], name: str,
                     views: set[sp.Symbol],
                     also: frozenset[str] = frozenset()) -> bool:
    """Whether a name other than ``name`` (and those in ``also``) holds
    one of ``views``, itself or in a list, tuple or dict it holds."""
    def holds(value: Any) -> bool:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (tuple, list)):
            return any(holds(v) for v in value)
        return isinstance(value, sp.Symbol) and value in views

    return any(other != name and other not in also and holds(value)
               for other, value in env.items())


# Operations whose result is a new array (never a view of an operand).
_NEW_ARRAYS = frozenset((
    "elementwise", "sum", "mean", "max", "min", "prod", "var", "std",
    "average", "builtin sum", "builtin max", "builtin min", "dot", "matmul",
    "vdot", "outer", "inner", "trace", "norm", "kron", "cross", "einsum",
    "tensordot", "size", "copy", "logsumexp", "softmax", "log_softmax",
    "cumsum", "cumprod", "shift",
    # (an array after a fill: the array the fill was made on, whose other
    # names and views that fill retired; twins, x = np.zeros(5); v =
    # np.zeros(5), are one value but two arrays, so the fill of one made
    # the other look like a view of it)
    "scatter"))


def _reads_a_copy(program: Any, step: Step, array: sp.Symbol) -> bool:
    """Whether ``step`` reads ``array`` into a new value (``d[0]``,
    ``d[[0, 1]]``, ``d * 2``, ``np.sum(d)``), not a view of it (``d[1:]``,
    ``d.T``)."""
    if step.op.name == "getitem":
        return program.leaves[step.target].shape == () or copies(program,
                                                                 step)
    if step.op.name == "elementwise":
        return step.operands[0] != array
    return step.op.name in _NEW_ARRAYS


def _permutes(program: Any, step: Step) -> bool:
    """Whether ``step`` (``v[index]``) picks each element (or row) once:
    ``v[np.argsort(u)]`` for a vector ``u``, as the gradient of np.sort
    prints it."""
    if len(step.option("index")) != 1 or len(step.operands) != 2:
        return False
    order = program.definition().get(step.operands[1])
    return order is not None and order.op.name == "argsort" and len(
        program.leaves[order.target].shape) == 1


def _index_of(run: Any, node: ast.expr, env: dict[str, Any]) -> Any:
    """An index, also as ``np.s_[...]`` spells it."""
    if isinstance(node, ast.Subscript):
        container = run.expression(node.value, env)
        if container is np.s_ or container is np.index_exp:
            return run.expression(node.slice, env)
    return run.expression(node, env)
