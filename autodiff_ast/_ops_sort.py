"""Rows of the array table for choosing along an axis by position:
``np.take_along_axis``, the ``np.put_along_axis`` that is its gradient,
and the sorts and positions it applies (``np.sort``, ``np.argsort``,
``np.argmax``, ``np.argmin``; integer results, constants to
differentiation). A sort is a gather along its stable order, so its
gradient follows the permutation; a quantile (``np.median``,
``np.quantile``, ``np.percentile``) is the sorted values at its position,
so its gradient goes to the one or two elements it interpolates.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._array_ops import empty
from ._ops_core import reshape
from ._ops_index import getitem
from ._ops_index import GETITEM, integer_operand
from ._ops_scatter import shape_source
from ._program import ArrayOp, Step
from ._spell import Slot, call, index

__all__ = ["TAKE_ALONG_AXIS", "PUT_ALONG_AXIS", "SORT", "ARGSORT", "ARGMAX",
           "ARGMIN", "MEDIAN", "QUANTILE", "PERCENTILE", "take_along_axis"]


# -- np.take_along_axis -------------------------------------------------------

def _lower_take_along_axis(run: Any, arr: Any, indices: Any, axis: Any, *,
                           node: ast.AST) -> Any:
    return take_along_axis(run, arr, indices, axis, node)


def take_along_axis(run: Any, arr: Any, indices: Any, axis: Any,
                    node: ast.AST, distinct: bool = False) -> Any:
    """``np.take_along_axis``; ``distinct``: the indices never pick one
    element twice (a permutation)."""
    array = run.number(arr, node)
    if axis is None:
        array = reshape(run, array, (-1,), node)
        axis = 0
    shape = run.shape(array, node)
    position = run.axis(axis, len(shape), node)
    chosen = integer_operand(run, indices, node)
    chosen_shape = run.program.leaves[chosen].shape
    if len(chosen_shape) != len(shape):
        raise run.error(node, f"the indices ({len(chosen_shape)} dimensions) "
                              f"and the array ({len(shape)}) must have the "
                              "same number of dimensions")
    try:
        result = np.take_along_axis(empty(shape, float), np.zeros(
            chosen_shape, dtype=np.intp), position).shape
    except (ValueError, IndexError) as exc:
        raise run.error(node, str(exc)) from None
    source = run.materialize(array, node)
    return run.program.add(TAKE_ALONG_AXIS, (source, chosen), result,
                           f"{source.name}_taken", axis=position,
                           distinct=distinct or None)


def _take_along_axis_vjp(backward: Any, step: Step,
                         adjoint: sp.Expr) -> None:
    program = backward.program
    source, chosen = step.operands
    values = backward.full(adjoint, program.leaves[step.target].shape,
                           f"d_{step.target.name}")
    backward.contribute(source, program.add(
        PUT_ALONG_AXIS, (shape_source(program, source), chosen, values),
        program.leaves[source].shape, f"d_{source.name}",
        axis=step.option("axis"), shapes=(program.leaves[source].shape,
                                          program.leaves[chosen].shape),
        distinct=step.option("distinct")))


def _batched(forward: Any, chosen: sp.Symbol) -> sp.Symbol:
    """The indices ``chosen`` with a trailing axis of size 1 for each axis
    of the batch of tangents: np.take_along_axis and np.put_along_axis
    want as many axes as the array, and broadcast the others."""
    if not forward.batch:
        return chosen
    shape = forward.shape(chosen)
    return forward.program.add(
        GETITEM, (chosen,), shape + (1,) * len(forward.batch),
        f"{chosen.name}_expanded", integer=True,
        index=(Ellipsis,) + (None,) * len(forward.batch))


def _take_along_axis_jvp(forward: Any, step: Step) -> sp.Expr:
    # Linear in the array: the same elements of its tangent, each tangent
    # of the batch alike.
    source, chosen = step.operands
    return forward.program.add(
        TAKE_ALONG_AXIS, (forward.full_tangent(source),
                          _batched(forward, chosen)),
        forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", axis=step.option("axis"),
        distinct=step.option("distinct"))


TAKE_ALONG_AXIS = ArrayOp(
    "take_along_axis", numpy=("take_along_axis",),
    lower=_lower_take_along_axis, vjp=_take_along_axis_vjp,
    jvp=_take_along_axis_jvp,
    spell=lambda step, args, name: call("np.take_along_axis", args,
                                        axis=step.option("axis")))


def _spell_put_along_axis(step: Step, args: list[ast.expr],
                          name: str) -> list[ast.stmt]:
    """The gradient of ``np.take_along_axis(a, idx, axis)``: zeros like
    ``a`` with the adjoint put back where it was taken from. Where one
    element of ``a`` can be taken twice (several indices along the axis,
    or ``a`` broadcast against them), ``np.add.at`` adds them up."""
    like, chosen, values = args
    axis = step.option("axis")
    shapes = step.option("shapes")
    target = ast.Name(name, ast.Load())
    statements: list[ast.stmt] = [ast.Assign(
        [ast.Name(name, ast.Store())], call("np.zeros_like", [like]), None)]
    source_shape, chosen_shape = shapes
    # An element is put twice where indices along the axis may repeat, or
    # where ``a`` was broadcast against the indices (n == 1 < m); indices
    # broadcast against ``a`` (m == 1) put each element of a row once.
    once = (chosen_shape[axis] == 1 or step.option("distinct")) and all(
        m in (1, n) for i, (n, m) in enumerate(zip(source_shape,
                                                   chosen_shape))
        if i != axis)
    if once:
        statements.append(ast.Expr(call(
            "np.put_along_axis", [target, chosen, values], axis=axis)))
        return statements
    ndim = len(source_shape)
    key = []
    for i in range(ndim):
        if i == axis:
            key.append(chosen)
            continue
        places = tuple(slice(None) if j == i else None for j in range(ndim))
        size = ast.Subscript(ast.Attribute(target, "shape", ast.Load()),
                             ast.Constant(i), ast.Load())
        key.append(ast.Subscript(call("np.arange", [size]),
                                 index(places, []), ast.Load()))
    statements.append(ast.Expr(call("np.add.at", [
        target, ast.Tuple(key, ast.Load()), values])))
    return statements


def _put_along_axis_jvp(forward: Any, step: Step) -> sp.Expr:
    # Linear in the values put (``like`` gives only the shape): the
    # values' tangents put in zeros like the tangent of ``like``.
    like, chosen, values = step.operands
    if values not in forward.tangent:
        return sp.S.Zero
    batch = forward.batch
    indices = _batched(forward, chosen)
    return forward.program.add(
        PUT_ALONG_AXIS, (forward.full_tangent(like) if batch else like,
                         indices, forward.full_tangent(values)),
        forward.shape(step.target) + batch, f"{step.target.name}_tangent",
        axis=step.option("axis"),
        shapes=(forward.shape(like) + batch, forward.shape(indices)),
        distinct=step.option("distinct"))


# operands (like, indices, values): zeros like ``like`` with ``values`` put
# along ``axis`` at ``indices``; ``shapes``: those of ``like`` and
# ``indices``.
PUT_ALONG_AXIS = ArrayOp("put_along_axis", spell=_spell_put_along_axis,
                         jvp=_put_along_axis_jvp, statement=True)


# -- sorting and positions ----------------------------------------------------

def _order_step(run: Any, op: ArrayOp, a: Any, axis: Any, node: ast.AST,
                keepdims: bool = False, kind: Any = None
                ) -> tuple[sp.Symbol, sp.Symbol]:
    """The source and an integer step (argsort, argmax, argmin) of it."""
    array = run.number(a, node)
    shape = run.shape(array, node)
    if axis is None and op is ARGSORT:
        array = reshape(run, array, (-1,), node)
        shape = run.shape(array, node)
        axis = -1
    position = None if axis is None else run.axis(axis, len(shape), node)
    if op is ARGSORT:
        result = shape
    elif position is None:
        result = (1,) * len(shape) if keepdims else ()
    else:
        result = tuple(1 if i == position else n
                       for i, n in enumerate(shape) if keepdims
                       or i != position)
    source = run.materialize(array, node)
    spelled = (None if position is None or (op is ARGSORT and position ==
                                            len(shape) - 1) else position)
    return source, run.program.add(
        op, (source,), result, f"{op.name}_{source.name}", integer=True,
        axis=spelled, keepdims=True if keepdims else None,
        kind=kind)


def _lower_sort(run: Any, a: Any, axis: Any = -1, kind: Any = None, *,
                node: ast.AST) -> Any:
    """Sorted by gathering along the stable order: the gradient follows
    the permutation (equal elements keep their order, as in JAX)."""
    source, order = _order_step(run, ARGSORT, a, axis, node, kind="stable")
    shape = run.program.leaves[source].shape
    if len(shape) == 1:
        return run.program.add(GETITEM, (source, order), shape,
                               f"{source.name}_sorted", index=(Slot(1),),
                               distinct=True)
    return take_along_axis(run, source, order, axis, node, distinct=True)


def _lower_argsort(run: Any, a: Any, axis: Any = -1, kind: Any = None, *,
                   node: ast.AST) -> Any:
    if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
        raise run.error(node, f"np.argsort's kind {kind!r} is not a sort")
    return _order_step(run, ARGSORT, a, axis, node, kind=kind)[1]


def _position(op_name: str) -> Any:
    def lower(run: Any, a: Any, axis: Any = None, *, keepdims: Any = False,
              node: ast.AST) -> Any:
        array = run.number(a, node)
        shape = run.shape(array, node)
        if not int(np.prod(shape)):
            raise run.error(node, f"attempt to get {op_name} of an empty "
                                  "sequence")
        op = ARGMAX if op_name == "argmax" else ARGMIN
        return _order_step(run, op, array, axis, node, bool(keepdims))[1]
    return lower


def _spell_position(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, axis=step.option("axis"),
                    kind=step.option("kind"),
                    keepdims=step.option("keepdims"))
    return spell


SORT = ArrayOp("sort", numpy=("sort",), lower=_lower_sort)
# Integer results: constants to differentiation.
ARGSORT = ArrayOp("argsort", numpy=("argsort",), methods=("argsort",),
                  lower=_lower_argsort, stops_gradient=True,
                  spell=_spell_position("np.argsort"),
                  any_size=True)
ARGMAX = ArrayOp("argmax", numpy=("argmax",), methods=("argmax",),
                 lower=_position("argmax"), stops_gradient=True,
                 spell=_spell_position("np.argmax"),
                 any_size=True)
ARGMIN = ArrayOp("argmin", numpy=("argmin",), methods=("argmin",),
                 lower=_position("argmin"), stops_gradient=True,
                 spell=_spell_position("np.argmin"),
                 any_size=True)


# -- quantiles ----------------------------------------------------------------

def _quantile(run: Any, a: Any, q: Any, axis: Any, keepdims: Any,
              node: ast.AST, what: str) -> Any:
    """The sorted values at position ``q * (n - 1)`` along ``axis``,
    interpolated linearly between the two around it (NumPy's default
    method): the gradient goes to those two, as JAX's does."""
    fraction = run.static_number(q, node, f"{what}'s q")
    if not 0 <= fraction <= 1:
        raise run.error(node, f"{what}'s q must be in [0, 1] (percentiles "
                              f"in [0, 100]), got {q}")
    array = run.number(a, node)
    if axis is None:
        keep = (1,) * len(run.shape(array, node))
        array = reshape(run, array, (-1,), node)
        axis = 0
    else:
        keep = None
    shape = run.shape(array, node)
    position = run.axis(axis, len(shape), node)
    count = shape[position]
    if count == 0:
        raise run.error(node, f"{what} of an empty axis has no value")
    # Which sorted values it reads follows from the axis' size: the code
    # is written for this size, and checks it.
    run.program.baked.append(f"{what} picks its values by the size of "
                             f"the axis ({count})")
    ordered = _lower_sort(run, array, position, node=node)
    before = (slice(None),) * position
    at = fraction * (count - 1)
    low = int(np.floor(at))
    weight = sp.nsimplify(at - low)
    value = getitem(run, ordered, before + (low,), node)
    if weight != 0:
        above = getitem(run, ordered, before + (low + 1,), node)
        value = value + weight * (above - value)
    if keepdims and keep is not None:
        return reshape(run, value, keep, node)
    if keepdims:
        return getitem(run, run.materialize(value, node),
                       before + (None,), node)
    return value


def _lower_median(run: Any, a: Any, axis: Any = None, out: Any = None,
                  overwrite_input: Any = False, keepdims: Any = False, *,
                  node: ast.AST) -> Any:
    return _quantile(run, a, sp.Rational(1, 2), axis, keepdims, node,
                     "np.median")


def _lower_quantile(run: Any, a: Any, q: Any, axis: Any = None, *,
                    keepdims: Any = False, node: ast.AST) -> Any:
    return _quantile(run, a, q, axis, keepdims, node, "np.quantile")


def _lower_percentile(run: Any, a: Any, q: Any, axis: Any = None, *,
                      keepdims: Any = False, node: ast.AST) -> Any:
    return _quantile(run, a, run.static_number(
        q, node, "np.percentile's q") / 100, axis, keepdims, node,
        "np.percentile")


MEDIAN = ArrayOp("median", numpy=("median",), lower=_lower_median)
QUANTILE = ArrayOp("quantile", numpy=("quantile",), lower=_lower_quantile)
PERCENTILE = ArrayOp("percentile", numpy=("percentile",),
                     lower=_lower_percentile)
