"""Core rows of the array table: the steps the other families build on.

``np.sum``/``np.mean``, transposes, reshapes, indexing with constants (and
the scatter that is its gradient), ``np.stack``/``np.array``, and the
steps gradients write (``broadcast_to``, ``zeros_like``, ``full_like``).
Each row keeps its lowering, its vector-Jacobian rule and its spelling
together; ``log(sum(exp(u)))`` is recognised here and computed stably.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._array_ops import empty, static_int
from ._program import ELEMENTWISE, ArrayOp, Shape, Step
from ._spell import Slot, call, index, literal

__all__ = ["SUM", "MEAN", "SHIFT", "TRANSPOSE", "RESHAPE", "EXPAND_DIMS",
           "GETITEM", "SCATTER", "STACK", "ARRAY", "BROADCAST_TO", "ZEROS",
           "ZEROS_LIKE", "FULL_LIKE", "reduce_sum", "transpose", "reshape",
           "getitem", "stack", "stable_log_sum_exp", "reduced_shape",
           "expanded_shape"]


# -- shared shape rules ------------------------------------------------------

def reduced_shape(shape: Shape, axes: tuple[int, ...] | None,
                  keepdims: bool) -> Shape:
    """The shape of a reduction of ``shape`` over ``axes`` (None: all)."""
    if keepdims:
        return tuple(1 if axes is None or i in axes else n
                     for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape)
                 if axes is not None and i not in axes)


def expanded_shape(shape: Shape, axes: tuple[int, ...]) -> Shape:
    """``shape`` with size-1 axes put back at ``axes``."""
    dims = list(shape)
    for axis in sorted(axes):
        dims.insert(axis, 1)
    return tuple(dims)


def spell_reduction(spelling: str) -> Any:
    """``np.sum(x, axis=..., keepdims=True)``-style spelling."""
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, axis=step.option("axis"),
                    keepdims=True if step.option("keepdims") else None)
    return spell


# -- sum and mean ------------------------------------------------------------

def reduce_sum(run: Any, value: Any, axis: Any, keepdims: Any,
               node: ast.AST) -> tuple[sp.Expr, int]:
    """The sum over ``axis`` and how many elements each total adds."""
    array = run.number(value, node)
    shape = run.shape(array, node)
    axes = run.axes(axis, len(shape), node)
    count = int(np.prod([n for i, n in enumerate(shape)
                         if axes is None or i in axes]))
    if not shape:
        return array, count
    source = run.materialize(array, node, "terms")
    every_axis = axes is None or len(axes) == len(shape)
    total = run.program.add(
        SUM, (source,), reduced_shape(shape, axes, bool(keepdims)),
        f"sum_{source.name}", axis=None if every_axis else axes,
        keepdims=bool(keepdims))
    return total, count


def _lower_sum(run: Any, a: Any, axis: Any = None, keepdims: Any = False,
               *, node: ast.AST) -> Any:
    return reduce_sum(run, a, axis, keepdims, node)[0]


def _lower_mean(run: Any, a: Any, axis: Any = None, keepdims: Any = False,
                *, node: ast.AST) -> Any:
    total, count = reduce_sum(run, a, axis, keepdims, node)
    if count == 0:
        raise run.error(node, "mean of an empty array: it has no value "
                              "(NumPy gives nan with a warning)")
    return total / count


def _sum_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (source,) = step.operands
    axis = step.option("axis")
    if axis is not None and not step.option("keepdims"):
        shape = backward.program.leaves[step.target].shape
        adjoint = backward.expanded_along(adjoint, shape, axis,
                                          f"d_{step.target.name}")
    backward.contribute(source, adjoint)


SUM = ArrayOp("sum", numpy=("sum",), methods=("sum",), lower=_lower_sum,
              vjp=_sum_vjp, spell=spell_reduction("np.sum"))
MEAN = ArrayOp("mean", numpy=("mean",), methods=("mean",), lower=_lower_mean)
# The maximum that shifts a log-sum-exp: the result does not depend on it,
# so it is a constant to differentiation.
SHIFT = ArrayOp("shift", spell=spell_reduction("np.max"),
                stops_gradient=True)


def stable_log_sum_exp(run: Any, argument: Any,
                       node: ast.AST) -> sp.Expr | None:
    """``log(sum(exp(u)))`` computed as ``m + log(sum(exp(u - m)))`` with
    ``m = max(u)``, which neither overflows nor gives nan gradients at
    large ``u`` (the naive form's are inf / inf); None for other logs."""
    program = run.program
    definitions = program.definition()
    total = definitions.get(argument) if isinstance(
        argument, sp.Symbol) else None
    if total is None or total.op is not SUM:
        return None
    terms = definitions.get(total.operands[0])
    if terms is None or terms.op is not ELEMENTWISE or not isinstance(
            terms.operands[0], sp.exp):
        return None
    exponent = run.materialize(terms.operands[0].args[0], node, "exponent")
    shape = program.leaves[exponent].shape
    axis = total.option("axis")
    largest = program.add(
        SHIFT, (exponent,),
        reduced_shape(shape, axis, True) if axis is not None else (),
        f"{exponent.name}_max", axis=axis, keepdims=axis is not None)
    shifted = program.materialize(sp.exp(exponent - largest),
                                  f"exp_{exponent.name}")
    result_shape = program.leaves[argument].shape
    shifted_total = program.add(
        SUM, (shifted,), result_shape, f"sum_{shifted.name}",
        axis=axis, keepdims=total.option("keepdims"))
    offset = largest
    if program.leaves[largest].shape != result_shape:
        offset = program.add(RESHAPE, (largest,), result_shape,
                             f"{largest.name}_reshaped", shape=result_shape)
    return offset + sp.log(shifted_total)


# -- transpose ---------------------------------------------------------------

def transpose(run: Any, value: Any, axes: Any, node: ast.AST) -> Any:
    """``value`` with its axes permuted (None: reversed)."""
    array = run.number(value, node)
    shape = run.shape(array, node)
    ndim = len(shape)
    if axes is None:
        order = tuple(reversed(range(ndim)))
    else:
        given = run.integers(axes, node, "transpose's axes")
        order = tuple(a % ndim if -ndim <= a < ndim else a for a in given)
        if sorted(order) != list(range(ndim)):
            raise run.error(node, f"axes {given} don't match an array of "
                                  f"dimension {ndim}: list each of the axes "
                                  f"0 to {ndim - 1} once")
    if order == tuple(range(ndim)):
        return array
    source = run.materialize(array, node)
    return run.program.add(
        TRANSPOSE, (source,), tuple(shape[i] for i in order),
        f"{source.name}_T",
        axes=None if order == tuple(reversed(range(ndim))) else order)


def _lower_transpose(run: Any, a: Any, axes: Any = None, *,
                     node: ast.AST) -> Any:
    return transpose(run, a, axes, node)


def _lower_transpose_method(run: Any, a: Any, *axes: Any,
                            node: ast.AST) -> Any:
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0],
                                                         (tuple, list))):
        axes = axes[0]
    return transpose(run, a, axes or None, node)


def _transpose_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (source,) = step.operands
    full = backward.full(adjoint, backward.program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    axes = step.option("axes")
    inverse = None if axes is None else tuple(
        sorted(range(len(axes)), key=lambda i: axes[i]))
    backward.contribute(source, backward.program.add(
        TRANSPOSE, (full,), backward.program.leaves[source].shape,
        f"{full.name}_T", axes=inverse))


def _spell_transpose(step: Step, args: list[ast.expr],
                     name: str) -> ast.expr:
    axes = step.option("axes")
    if axes is None:
        return ast.Attribute(args[0], "T", ast.Load())
    return call("np.transpose", [args[0], literal(axes)])


TRANSPOSE = ArrayOp("transpose", numpy=("transpose",), methods=("transpose",),
                    lower=_lower_transpose,
                    lower_method=_lower_transpose_method,
                    vjp=_transpose_vjp, spell=_spell_transpose)


# -- reshape -----------------------------------------------------------------

def reshape(run: Any, value: Any, shape: Any, node: ast.AST) -> Any:
    """``value`` reshaped to ``shape`` (one -1 allowed)."""
    array = run.number(value, node)
    current = run.shape(array, node)
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    wanted = tuple(static_int(d) for d in dims)
    if any(d is None for d in wanted):
        raise run.error(node, "reshape needs a constant shape: integers, or "
                              "computed from .shape (e.g. x.reshape("
                              "x.shape[0], -1)), not values computed from "
                              "the arguments")
    try:
        new = empty(current).reshape(wanted).shape
    except ValueError as exc:
        raise run.error(node, str(exc)) from None
    if new == current:
        return array
    source = run.materialize(array, node)
    return run.program.add(RESHAPE, (source,), new,
                           f"{source.name}_reshaped", shape=new)


def _lower_reshape(run: Any, a: Any, shape: Any, *, node: ast.AST) -> Any:
    return reshape(run, a, shape, node)


def _lower_reshape_method(run: Any, a: Any, *shape: Any,
                          node: ast.AST) -> Any:
    if not shape:
        raise run.error(node, "reshape needs the new shape")
    return reshape(run, a, shape if len(shape) > 1 else shape[0], node)


def _reshape_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (source,) = step.operands
    full = backward.full(adjoint, backward.program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    source_shape = backward.program.leaves[source].shape
    backward.contribute(source, backward.program.add(
        RESHAPE, (full,), source_shape, f"{full.name}_reshaped",
        shape=source_shape))


RESHAPE = ArrayOp("reshape", numpy=("reshape",), methods=("reshape",),
                  lower=_lower_reshape, lower_method=_lower_reshape_method,
                  vjp=_reshape_vjp,
                  spell=lambda step, args, name: call(
                      "np.reshape", [args[0], literal(step.option("shape"))]))


def _lower_expand_dims(run: Any, a: Any, axis: Any, *,
                       node: ast.AST) -> Any:
    array = run.number(a, node)
    ndim = len(run.shape(array, node))
    axes = run.axes(axis, ndim + len(axis if isinstance(axis, (tuple, list))
                                     else (axis,)), node)
    assert axes is not None
    parts: list[Any] = [None if i in axes else slice(None)
                        for i in range(ndim + len(axes))]
    while parts and parts[-1] == slice(None):
        parts.pop()
    return getitem(run, array, tuple(parts), node)


# From np.expand_dims: indexing with None. As a step (a gradient putting
# back the axes a sum removed) it is spelled np.expand_dims.
EXPAND_DIMS = ArrayOp("expand_dims", numpy=("expand_dims",),
                      lower=_lower_expand_dims,
                      spell=lambda step, args, name: call(
                          "np.expand_dims",
                          [args[0], literal(step.option("axis"))]))


# -- indexing ----------------------------------------------------------------

def getitem(run: Any, array: Any, key: Any, node: ast.AST) -> Any:
    """``array[key]`` for constant integers, slices, None and ``...``."""
    parts = key if isinstance(key, tuple) else (key,)
    static = []
    for part in parts:
        if isinstance(part, (slice, type(None), type(Ellipsis))):
            static.append(part)
        elif static_int(part) is not None:
            static.append(static_int(part))
        else:
            raise run.error(node, "indices must be constant integers, "
                                  "slices, None or ...: indexing with "
                                  "arrays or computed values is not "
                                  "supported")
    array = run.number(array, node)
    shape = run.shape(array, node)
    try:
        result_shape = empty(shape)[tuple(static)].shape
    except IndexError as exc:
        raise run.error(node, f"{exc} (the array has shape {shape})"
                        ) from None
    source = run.materialize(array, node)
    return run.program.add(GETITEM, (source,), result_shape,
                           f"{source.name}_{_index_label(static)}",
                           index=tuple(static))


def _index_label(index: list[Any]) -> str:
    parts = [str(p) for p in index if isinstance(p, int)]
    return "_".join(parts) if parts and len(parts) == len(index) else "part"


def _getitem_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    source = step.operands[0]
    program = backward.program
    values = program.materialize(adjoint, f"d_{step.target.name}")
    backward.contribute(source, program.add(
        SCATTER, (source, values) + step.operands[1:],
        program.leaves[source].shape, f"d_{source.name}",
        index=_moved(step.option("index"), 1)))


def _moved(parts: tuple[Any, ...], offset: int) -> tuple[Any, ...]:
    """Index ``parts`` whose slots refer to operands ``offset`` later."""
    return tuple(Slot(p.position + offset) if isinstance(p, Slot) else p
                 for p in parts)


GETITEM = ArrayOp("getitem", vjp=_getitem_vjp,
                  spell=lambda step, args, name: ast.Subscript(
                      args[0], index(step.option("index"), args), ast.Load()))


def _spell_scatter(step: Step, args: list[ast.expr],
                   name: str) -> list[ast.stmt]:
    """``d = np.zeros_like(a); d[index] = values``: a gradient of indexing,
    written into a fresh array (never into an input)."""
    return [
        ast.Assign([ast.Name(name, ast.Store())],
                   call("np.zeros_like", [args[0]]), None),
        ast.Assign([ast.Subscript(ast.Name(name, ast.Load()),
                                  index(step.option("index"), args),
                                  ast.Store())], args[1], None)]


# operands (like, values, *slots): zeros like ``like`` with ``values`` at
# ``index``.
SCATTER = ArrayOp("scatter", spell=_spell_scatter, statement=True)


# -- assembling arrays -------------------------------------------------------

def stack(run: Any, values: Any, axis: Any, node: ast.AST) -> Any:
    if not isinstance(values, (list, tuple)) or not values:
        raise run.error(node, "np.stack takes a non-empty list of arrays")
    items = [run.number(v, node) for v in values]
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
                vjp=_stack_vjp,
                spell=lambda step, args, name: call(
                    "np.stack", [ast.List(args, ast.Load())],
                    axis=step.option("axis") or None))


def _lower_array(run: Any, values: Any, dtype: Any = None, *,
                 node: ast.AST) -> Any:
    if dtype not in (None, float, np.float64, np.float32):
        raise run.error(node, "np.array of differentiated values takes no "
                              "dtype other than float")
    if isinstance(values, (list, tuple)):
        return stack(run, [_lower_array(run, v, node=node) for v in values],
                     0, node)
    return run.number(values, node)


ARRAY = ArrayOp("array", numpy=("array", "asarray"), lower=_lower_array)


# -- steps that gradients write ----------------------------------------------

def _spell_broadcast_to(step: Step, args: list[ast.expr],
                        name: str) -> ast.expr:
    return call("np.broadcast_to", [args[0], literal(step.option("shape"))])


BROADCAST_TO = ArrayOp("broadcast_to", spell=_spell_broadcast_to)
# An array of zeros that keeps the shape of a result algebra cancelled
# (W - W is zeros of W's shape, not the number 0).
ZEROS = ArrayOp("zeros", stops_gradient=True,
                spell=lambda step, args, name: call(
                    "np.zeros", [literal(step.option("shape"))]))
ZEROS_LIKE = ArrayOp("zeros_like", stops_gradient=True,
                     spell=lambda step, args, name: call("np.zeros_like",
                                                         args))
FULL_LIKE = ArrayOp("full_like",
                    spell=lambda step, args, name: call("np.full_like",
                                                        args))
