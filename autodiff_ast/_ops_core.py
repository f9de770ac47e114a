"""Core rows of the array table: the steps the other families build on.

``np.sum``/``np.mean``, transposes, reshapes, ``np.expand_dims`` and the
``broadcast_to`` that gradients write. Each row keeps its lowering, its
vector-Jacobian rule and its spelling together.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._array_ops import empty, static_int
from ._functions import float32, float64
from ._functions import where as selected
from ._program import ArrayOp, Shape, Step
from ._spell import axis_literal, call, literal

__all__ = ["SUM", "MEAN", "SHIFT", "TRANSPOSE", "RESHAPE", "EXPAND_DIMS",
           "BROADCAST_TO", "reduce_sum", "transpose", "reshape",
           "reduced_shape", "expanded_shape", "reduced_count",
           "spell_reduction", "reshaped", "transposed", "broadcasts_to",
           "FLOAT_CASTS"]


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
    """``np.sum(x, axis=..., keepdims=True)``-style spelling (``dtype=``
    for a count taken in the dtype of the floats it divides)."""
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        dtype = step.option("dtype")
        return call(spelling, args, axis=step.option("axis"),
                    keepdims=True if step.option("keepdims") else None,
                    dtype=None if dtype is None
                    else ast.parse(dtype, mode="eval").body)
    return spell


# -- sum and mean ------------------------------------------------------------

def reduce_sum(run: Any, value: Any, axis: Any, keepdims: Any,
               node: ast.AST, dtype: str | None = None
               ) -> tuple[sp.Expr, int]:
    """The sum over ``axis`` and how many elements each total adds;
    ``dtype``: the float dtype it is taken in, as spelled
    (``np.float32``)."""
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
        keepdims=bool(keepdims), **({} if dtype is None else {"dtype": dtype}))
    return total, count


def _lower_sum(run: Any, a: Any, axis: Any = None, dtype: Any = None,
               out: Any = None, keepdims: Any = False, initial: Any = None,
               where: Any = True, *, node: ast.AST) -> Any:
    # dtype=np.float32 as the gradient of np.max prints a count of ties
    # (closure); a float64 sum is the sum written without it.
    if dtype is not None and (not isinstance(dtype, type) or not issubclass(
            dtype, (float, np.floating))):
        raise run.error(node, "np.sum's dtype must be a float type here "
                              "(np.float32, np.float64): cast integers "
                              "with .astype")
    _no_out(run, out, "np.sum", node)
    spelled = None if dtype in (None, float, np.float64) \
        else f"np.{dtype.__name__}"
    total = reduce_sum(run, _kept(run, a, where, node), axis, keepdims,
                       node, spelled)[0]
    if initial is None:
        return total
    return total + run.number(sp.sympify(initial) if isinstance(
        initial, (int, float)) else initial, node)


def _lower_mean(run: Any, a: Any, axis: Any = None, dtype: Any = None,
                out: Any = None, keepdims: Any = False, *,
                where: Any = True, node: ast.AST) -> Any:
    if dtype is not None:  # float32 data, a float64 mean: cast, then mean
        cast = FLOAT_CASTS.get(np.dtype(dtype) if dtype is not float
                                else np.dtype(np.float64))
        if cast is None:
            raise run.error(node, "np.mean's dtype must be a float type "
                                  "here (np.float32, np.float64)")
        a = cast(run.number(a, node))
    _no_out(run, out, "np.mean", node)
    total, count = reduce_sum(run, _kept(run, a, where, node), axis,
                              keepdims, node)
    if count == 0:
        raise run.error(node, "mean of an empty array: it has no value "
                              "(NumPy gives nan with a warning)")
    if where is True:
        return total / reduced_count(run, a, axis, node)
    # (over the elements where= keeps: nan where it keeps none, as NumPy)
    ones = _kept(run, sp.S.One, where, node)
    if run.shape(ones, node) != run.shape(a, node):
        raise run.error(node, "np.mean's where= has another shape than the "
                              "array: broadcast it to the array's shape "
                              "first (np.broadcast_to(mask, x.shape))")
    return total / reduce_sum(run, ones, axis, keepdims, node)[0]


def _kept(run: Any, a: Any, where: Any, node: ast.AST) -> Any:
    """``a`` where ``where`` holds, else 0: what a reduction with
    ``where=`` takes in."""
    if where is True:
        return a
    return selected(run.as_condition(where, node), run.number(a, node),
                    sp.S.Zero)


def _no_out(run: Any, out: Any, spelled: str, node: ast.AST) -> None:
    if out is not None:
        raise run.error(node, f"{spelled} with out= fills an array given "
                              "to it, which cannot be differentiated: "
                              "use the value it returns")


# A float dtype's cast, as .astype() and dtype= take it.
FLOAT_CASTS = {np.dtype(np.float32): float32, np.dtype(np.float64): float64}


def reduced_count(run: Any, value: Any, axis: Any, node: ast.AST) -> Any:
    """How many elements a reduction over ``axis`` takes into each result,
    as generated code reads it (``X.shape[0]``, ``x.size``)."""
    array = run.number(value, node)
    axes = run.axes(axis, len(run.shape(array, node)), node)
    if axes is None:
        return run.program.size(array, None)
    return sp.Mul(*[run.program.size(array, i) for i in axes])


def _sum_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    backward.contribute(step.operands[0], backward.restored(
        step, adjoint, f"d_{step.target.name}"))


SUM = ArrayOp("sum", numpy=("sum",), methods=("sum",), lower=_lower_sum,
              vjp=_sum_vjp, batched=True, spell=spell_reduction("np.sum"),
              any_size=True)
# np.mean lowers to a sum divided by the count; as a step (a gradient
# centering values) it is spelled np.mean.
MEAN = ArrayOp("mean", numpy=("mean",), methods=("mean",), lower=_lower_mean,
               spell=spell_reduction("np.mean"),
               any_size=True)
# The maximum that shifts a log-sum-exp: the result does not depend on it,
# so it is a constant to differentiation.
SHIFT = ArrayOp("shift", spell=spell_reduction("np.max"),
                stops_gradient=True,
                any_size=True)


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


def transposed(program: Any, source: sp.Symbol, axes: tuple[int, ...] | None,
               name: str) -> sp.Symbol:
    """``source`` with its axes permuted (None: reversed); a transpose of a
    transpose is one (or none: ``A.T.T`` is ``A``)."""
    ndim = len(program.leaves[source].shape)
    order = tuple(reversed(range(ndim))) if axes is None else axes
    step = program.definition().get(source)
    if step is not None and step.op is TRANSPOSE:
        inner = step.option("axes")
        inner = tuple(reversed(range(ndim))) if inner is None else inner
        source, order = step.operands[0], tuple(inner[i] for i in order)
    if order == tuple(range(ndim)):
        return source
    shape = program.leaves[source].shape
    return program.add(
        TRANSPOSE, (source,), tuple(shape[i] for i in order), name,
        axes=None if order == tuple(reversed(range(ndim))) else order)


def _transpose_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    # The inverse permutation, after the axes of a batch of adjoints.
    (source,) = step.operands
    full = backward.full(adjoint, backward.program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    axes = step.option("axes")
    order = None
    if axes is not None or backward.rank:
        rank = len(backward.program.leaves[source].shape)
        axes = axes or tuple(reversed(range(rank)))
        order = tuple(range(backward.rank)) + tuple(
            backward.rank + i for i in sorted(range(rank),
                                              key=lambda i: axes[i]))
    backward.contribute(source, transposed(backward.program, full, order,
                                           f"{full.name}_T"))


def _spell_transpose(step: Step, args: list[ast.expr],
                     name: str) -> ast.expr:
    axes = step.option("axes")
    if axes is None:
        return ast.Attribute(args[0], "T", ast.Load())
    return call("np.transpose", [args[0], literal(axes)])


TRANSPOSE = ArrayOp("transpose", numpy=("transpose",), methods=("transpose",),
                    keeps_dtype=True,
                    lower=_lower_transpose,
                    lower_method=_lower_transpose_method,
                    vjp=_transpose_vjp, batched=True, spell=_spell_transpose,
                    any_size=True)


# -- reshape -----------------------------------------------------------------

def reshape(run: Any, value: Any, shape: Any, node: ast.AST,
            written: bool = False) -> Any:
    """``value`` reshaped to ``shape`` (one -1 allowed): as the user
    ``written`` it (kept as spelled: -1, constants, sizes read at run
    time), or computed by a lowering rule."""
    array = run.number(value, node)
    current = run.shape(array, node)
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    spelled = tuple(d if run.is_size(d) else static_int(run.concrete(d, node))
                    for d in dims)
    if any(d is None for d in spelled):
        raise run.error(node, "reshape needs a constant shape: integers, or "
                              "computed from .shape (e.g. x.reshape("
                              "x.shape[0], -1)), not values computed from "
                              "the arguments")
    wanted = tuple(int(d) for d in run.program.concrete(spelled))
    try:
        new = empty(current).reshape(wanted).shape
    except ValueError as exc:
        if str(exc).startswith("cannot reshape"):  # (the array's size)
            raise run.shape_error(node, str(exc)) from None
        raise run.error(node, str(exc)) from None
    if new == current:
        return array
    source = run.materialize(array, node)
    options = {"as_written": True} if written and any(
        isinstance(d, int) and d not in (-1, 0, 1) for d in spelled) else {}
    return run.program.add(RESHAPE, (source,), new,
                           f"{source.name}_reshaped", shape=spelled,
                           **options)


def _lower_reshape(run: Any, a: Any, shape: Any, *, node: ast.AST) -> Any:
    return reshape(run, a, shape, node, written=True)


def _lower_reshape_method(run: Any, a: Any, *shape: Any,
                          node: ast.AST) -> Any:
    if not shape:
        raise run.error(node, "reshape needs the new shape")
    return reshape(run, a, shape if len(shape) > 1 else shape[0], node,
                   written=True)


def reshaped(program: Any, source: sp.Symbol, shape: Shape,
             name: str) -> sp.Symbol:
    """``source`` with its elements in ``shape``: a reshape of what a chain
    of reshapes started from (nothing, when it comes back to its shape)."""
    definitions = program.definition()
    step = definitions.get(source)
    while step is not None and step.op in (RESHAPE, EXPAND_DIMS):
        source = step.operands[0]
        step = definitions.get(source)
    concrete = tuple(int(n) for n in program.concrete(shape))
    if program.leaves[source].shape == concrete:
        return source
    return program.add(RESHAPE, (source,), concrete, name,
                       shape=tuple(shape))


def _reshape_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    # Also expand_dims's: both only relabel the same elements.
    (source,) = step.operands
    full = backward.full(adjoint, backward.program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    backward.contribute(source, reshaped(
        backward.program, full, backward.adjoint_sizes(source),
        f"{full.name}_reshaped"))


# shape: entries are ints (as the user wrote them, -1 kept) or size
# symbols (Program.size: X.shape[0]); as_written: its ints are the user's.
RESHAPE = ArrayOp("reshape", numpy=("reshape",), methods=("reshape",),
                  keeps_dtype=True,
                  lower=_lower_reshape, lower_method=_lower_reshape_method,
                  vjp=_reshape_vjp, batched=True,
                  spell=lambda step, args, name: call(
                      "np.reshape", [args[0], literal(step.option("shape"))]),
                  any_size=True)


def _lower_expand_dims(run: Any, a: Any, axis: Any, *,
                       node: ast.AST) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = run.axes(axis, len(shape) + count, node)
    assert axes is not None
    source = run.materialize(array, node)
    return run.program.add(
        EXPAND_DIMS, (source,), expanded_shape(shape, axes),
        f"{source.name}_expanded", axis=axes[0] if len(axes) == 1 else axes)


EXPAND_DIMS = ArrayOp("expand_dims", numpy=("expand_dims",),
                      keeps_dtype=True,
                      lower=_lower_expand_dims, vjp=_reshape_vjp,
                      batched=True,
                      spell=lambda step, args, name: call(
                          "np.expand_dims", [args[0], literal(axis_literal(
                              step.option("axis")))]),
                      any_size=True)


# -- steps that gradients write ----------------------------------------------

def _spell_broadcast_to(step: Step, args: list[ast.expr],
                        name: str) -> ast.expr:
    return call("np.broadcast_to", [args[0], literal(step.option("shape"))])


def _lower_broadcast_to(run: Any, array: Any, shape: Any, *,
                        node: ast.AST) -> Any:
    # Read back from a gradient's code (closure): the sizes in ``shape``
    # stay sizes read at run time.
    values = run.number(array, node)
    source = run.shape(values, node)
    dims = run.dims(shape, node, "np.broadcast_to's shape")
    target = tuple(int(n) for n in run.program.concrete(dims))
    if not broadcasts_to(source, target):
        raise run.error(node, f"np.broadcast_to cannot broadcast an array "
                              f"of shape {source} to {target}")
    if source == target or not values.free_symbols and not target:
        return values
    operand = run.materialize(values, node) if values.free_symbols \
        else values
    return run.program.add(BROADCAST_TO, (operand,), target, "broadcast",
                           shape=dims)


def _broadcast_to_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    # The adjoint holds for the whole broadcast: summed back to the
    # operand's shape, as for any broadcast.
    (source,) = step.operands
    if source in backward.active:
        backward.contribute(source, adjoint,
                            backward.program.leaves[step.target].shape)


# shape: entries are size symbols read from the array whose shape it is
# (ints where a rule could not say which, and the code checks its sizes).
BROADCAST_TO = ArrayOp("broadcast_to", numpy=("broadcast_to",),
                       lower=_lower_broadcast_to, vjp=_broadcast_to_vjp,
                       batched=True,
                       spell=_spell_broadcast_to, any_size=True)


def broadcasts_to(source: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of shape ``source`` broadcasts to ``target`` (not
    to a larger shape)."""
    try:
        return np.broadcast_shapes(source, target) == target
    except ValueError:
        return False
