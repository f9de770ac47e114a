"""Rows of the array table for running totals: ``np.cumsum`` and
``np.cumprod`` (and their methods), the running extremes
``np.maximum.accumulate`` and ``np.minimum.accumulate``, and ``np.diff``,
which undoes the sum.

The gradient of a cumulative sum is the cumulative sum of the adjoint
taken from the other end. That of a cumulative product is ``rev(g * y) /
x`` (``rev``: the reversed cumulative sum) where ``x`` is not 0,
``rev(g * y')`` at its first zero (``y'``: the products with that zero
taken as 1), the first zero times ``rev(g * y'')`` at the second (both
zeros as 1) and 0 at later zeros: exact at zeros, where dividing by ``x``
would give nan, and exact to first order as ``x`` moves off them, so a
Hessian is exact there too. The tangent is ``y * cumsum(dx / x)`` over the
nonzero factors plus ``y' * dx`` at the first zero carried forward.

A running extreme is the element where it was attained, taken along the
axis (``np.take_along_axis(x, at, axis)``, ``at`` the latest index so far
whose element equals it: where ties share the extreme, the latest takes
the gradient), so its gradient and tangent are that gather's.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_assemble import concatenate, stack
from ._ops_core import BROADCAST_TO, RESHAPE, reduce_sum, reshape
from ._ops_create import ARANGE
from ._ops_index import GETITEM, getitem
from ._ops_sort import TAKE_ALONG_AXIS
from ._program import ArrayOp, Step
from ._functions import where
from ._spell import Slot, call

__all__ = ["CUMSUM", "CUMPROD", "RUNNING_MAX", "RUNNING_MIN", "DIFF",
           "TRAPEZOID", "GRADIENT",
           "cumulative", "reversed_cumsum", "keyword_number"]


def cumulative(run: Any, op: ArrayOp, value: Any, axis: Any,
               node: ast.AST) -> Any:
    """``op`` (CUMSUM or CUMPROD) of ``value`` along ``axis`` (None: of
    the flattened array, as NumPy)."""
    array = run.number(value, node)
    shape = run.shape(array, node)
    if axis is None:
        if len(shape) != 1:
            array = reshape(run, array, (-1,), node)
        position = None
    else:
        if not shape:
            raise run.error(node, f"np.{op.name} of a scalar needs axis="
                                  "None")
        position = run.axis(axis, len(shape), node)
    source = run.materialize(array, node)
    return run.program.add(op, (source,), run.program.leaves[source].shape,
                           f"{op.name}_{source.name}", axis=position)


def _reversal(axis: int | None) -> tuple[Any, ...]:
    return (slice(None),) * (axis or 0) + (slice(None, None, -1),)


def reversed_cumsum(program: Any, value: sp.Expr, axis: int | None,
                    shape: tuple[int, ...], name: str,
                    sizes: tuple[Any, ...] | None = None) -> sp.Symbol:
    """The cumulative sum of ``value`` from the far end along ``axis``
    (``np.cumsum(v[::-1])[::-1]``, named ``name``): sums of the views, no
    copies. ``sizes``: ``shape`` as generated code reads it."""
    values = program.materialize(value, f"{name}_terms")
    if program.leaves[values].shape != shape:
        values = program.add(BROADCAST_TO, (values,), shape,
                             f"{name}_terms", shape=sizes or shape)
    flipped = program.add(GETITEM, (values,), shape, f"{name}_reversed",
                          index=_reversal(axis))
    total = program.add(CUMSUM, (flipped,), shape, f"{name}_backwards",
                        axis=axis)
    return program.add(GETITEM, (total,), shape, name,
                       index=_reversal(axis))


def keyword_number(run: Any, value: Any, node: ast.AST) -> Any:
    """A number given by keyword, which arrives as Python's, as exact
    SymPy, as literals are lowered (0.5 is 1/2)."""
    return run.number(value if isinstance(value, sp.Basic)
                      else sp.nsimplify(value), node)


def _lower_cumsum(run: Any, a: Any, axis: Any = None, *,
                  node: ast.AST) -> Any:
    return cumulative(run, CUMSUM, a, axis, node)


def _cumsum_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (source,) = step.operands
    shape = backward.program.leaves[source].shape
    backward.contribute(source, reversed_cumsum(
        backward.program, adjoint, step.option("axis"), shape,
        f"d_{source.name}", backward.program.shape_of(source)))


def _lower_cumprod(run: Any, a: Any, axis: Any = None, *,
                   node: ast.AST) -> Any:
    return cumulative(run, CUMPROD, a, axis, node)


def _cumprod_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (x,) = step.operands
    axis = step.option("axis")
    shape = program.leaves[x].shape
    zero = program.materialize(sp.Eq(x, 0), f"{x.name}_is_zero")
    zeros = program.add(CUMSUM, (zero,), shape, "zeros_so_far",
                        integer=True, axis=axis)
    first = program.materialize(sp.And(sp.Eq(zeros, 1), sp.Eq(x, 0)),
                                "first_zero")
    # The products with the first zero taken as 1: the factors of every
    # product that the first zero's derivative multiplies.
    others = program.add(CUMPROD, (program.materialize(
        where(first, 1, x), f"{x.name}_zero_as_one"),), shape,
        f"{step.target.name}_without_zero", axis=axis)
    sizes = program.shape_of(x)
    to_zero = reversed_cumsum(program, adjoint * step.target, axis, shape,
                              "tail_sums", sizes)
    at_zero = reversed_cumsum(program, adjoint * others, axis, shape,
                              "tail_sums_at_zero", sizes)
    # At the second zero the gradient is 0, written as the first zero
    # times the products without both: its derivative along the first.
    second = program.materialize(sp.And(sp.Eq(zeros, 2), sp.Eq(x, 0)),
                                 "second_zero")
    without_two = program.add(CUMPROD, (program.materialize(
        where(sp.Or(first, second), 1, x), f"{x.name}_zeros_as_one"),),
        shape, f"{step.target.name}_without_zeros", axis=axis)
    at_second = reversed_cumsum(program, adjoint * without_two, axis, shape,
                                "tail_sums_at_second_zero", sizes)
    first_value = program.add(CUMSUM, (program.materialize(
        where(first, x, 0), "first_zero_value"),), shape,
        "first_zero_so_far", axis=axis)
    # Away from zeros the gradient is rev(g * y) / x also after a zero
    # (where it is 0). Each of these forms stays exact as x moves off the
    # zeros, so a Hessian (forward mode over this) is exact at them too.
    nonzero = program.materialize(sp.Ne(x, 0), f"{x.name}_nonzero")
    backward.contribute(x, where(
        nonzero, to_zero / where(nonzero, x, 1),
        where(first, at_zero,
              where(second, first_value * at_second, 0))))


def _cumprod_jvp(forward: Any, step: Step) -> sp.Expr:
    """``y * cumsum(dx / x)`` over the nonzero factors plus ``y' * (dx at
    the first zero of x)`` from that zero on (``y'``: the products with
    that zero taken as 1, which a second zero makes 0); the batch of
    tangents rides on trailing axes."""
    program = forward.program
    (x,) = step.operands
    shape = forward.shape(x)
    axis = step.option("axis")
    if axis is None and forward.batch:
        axis = 0  # x is 1-D here; np.cumsum without an axis would flatten
    zero = program.materialize(sp.Eq(x, 0), f"{x.name}_is_zero")
    zeros = program.add(CUMSUM, (zero,), shape, "zeros_so_far",
                        integer=True, axis=step.option("axis"))
    first = program.materialize(sp.And(sp.Eq(zeros, 1), sp.Eq(x, 0)),
                                "first_zero")
    others = program.add(CUMPROD, (program.materialize(
        where(first, 1, x), f"{x.name}_zero_as_one"),), shape,
        f"{step.target.name}_without_zero", axis=step.option("axis"))
    nonzero = program.materialize(sp.Ne(x, 0), f"{x.name}_nonzero")
    tangent = forward.full_tangent(x)
    result = shape + forward.batch

    def running(terms: sp.Expr, name: str) -> sp.Symbol:
        return program.add(CUMSUM, (program.materialize(terms, name),),
                           result, f"{name}_so_far", axis=axis)

    # Every nonzero factor's share, also after a zero (where y is 0): then
    # the formula stays exact as x moves off a zero, for a second order.
    ratios = running(where(forward.along_batch(nonzero), tangent, 0)
                     / forward.along_batch(where(nonzero, x, 1)),
                     "relative_tangents")
    at_zero = running(where(forward.along_batch(first), tangent, 0),
                      "tangent_at_zero")
    return (forward.along_batch(step.target) * ratios
            + forward.along_batch(others) * at_zero)


def _spell_cumulative(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, axis=step.option("axis"))
    return spell


CUMSUM = ArrayOp("cumsum", numpy=("cumsum",), methods=("cumsum",),
                 lower=_lower_cumsum, vjp=_cumsum_vjp,
                 spell=_spell_cumulative("np.cumsum"),
                 any_size=True)
CUMPROD = ArrayOp("cumprod", numpy=("cumprod",), methods=("cumprod",),
                  lower=_lower_cumprod, vjp=_cumprod_vjp, jvp=_cumprod_jvp,
                  spell=_spell_cumulative("np.cumprod"),
                  any_size=True)


def _lower_running(run: Any, op: ArrayOp, array: Any, axis: Any,
                   dtype: Any, out: Any, node: ast.AST) -> Any:
    if out is not None or dtype is not None:
        raise run.error(node, f"np.{op.numpy[0]} with out= or dtype= is "
                              "not supported: use the array it returns "
                              "(cast it with .astype)")
    values = run.number(array, node)
    shape = run.shape(values, node)
    if not shape:
        raise run.error(node, f"np.{op.numpy[0]} needs an array of one or "
                              "more dimensions")
    source = run.materialize(values, node)
    leaf = run.program.leaves[source]
    return run.program.add(op, (source,), shape, f"running_{op.name[-3:]}",
                           integer=leaf.integer or _integer_where(
                               run.program, source),
                           boolean=leaf.boolean,
                           axis=run.axis(axis, len(shape), node))


def _integer_where(program: Any, symbol: sp.Symbol) -> bool:
    """Whether ``symbol`` is ``np.where(c, a, b)`` of integers ``a`` and
    ``b``: an integer array (the positions of extremes a gradient finds
    are, read back)."""
    step = program.definition().get(symbol)
    if step is None or step.op.name != "elementwise":
        return False
    expr = step.operands[0]
    return getattr(expr, "func", None) is where and all(
        program.is_integer(branch) for branch in expr.args[1:])


def _lower_running_max(run: Any, array: Any, axis: Any = 0,
                       dtype: Any = None, out: Any = None, *,
                       node: ast.AST) -> Any:
    return _lower_running(run, RUNNING_MAX, array, axis, dtype, out, node)


def _lower_running_min(run: Any, array: Any, axis: Any = 0,
                       dtype: Any = None, out: Any = None, *,
                       node: ast.AST) -> Any:
    return _lower_running(run, RUNNING_MIN, array, axis, dtype, out, node)


def _attained(program: Any, step: Step) -> Step:
    """``step`` (a running extreme) as the gather it equals:
    ``np.take_along_axis(x, at, axis)``, with ``at`` the latest index so
    far along the axis whose element equals the extreme (a constant)."""
    (x,) = step.operands
    axis = step.option("axis")
    shape = program.leaves[x].shape
    counting = program.add(ARANGE, (), (shape[axis],), "positions",
                           integer=True, bounds=(program.size(x, axis),))
    after = len(shape) - 1 - axis
    if after:  # counting along the axis, broadcast over the later ones
        counting = program.add(
            RESHAPE, (counting,), (shape[axis],) + (1,) * after,
            "positions_along", integer=True, shape=(-1,) + (1,) * after)
    marked = program.materialize(where(sp.Eq(x, step.target), counting, 0),
                                 "positions_of_extremes")
    at = program.add(RUNNING_MAX, (marked,), shape, "extreme_at",
                     integer=True, axis=axis)
    if len(shape) == 1:  # x[at], whose gradient is np.add.at at any size
        return Step(step.target, GETITEM, (x, at), (("index", (Slot(1),)),))
    return Step(step.target, TAKE_ALONG_AXIS, (x, at), (("axis", axis),))


def _running_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    gather = _attained(backward.program, step)
    assert gather.op.vjp is not None
    gather.op.vjp(backward, gather, adjoint)


def _running_jvp(forward: Any, step: Step) -> sp.Expr:
    forward.through([_attained(forward.program, step)])
    return forward.tangent.get(step.target, sp.S.Zero)


def _spell_running(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, axis=step.option("axis") or None)
    return spell


# axis: the one it runs along (0 by default, as NumPy's).
RUNNING_MAX = ArrayOp("running max", numpy=("maximum.accumulate",),
                      lower=_lower_running_max, vjp=_running_vjp,
                      jvp=_running_jvp,
                      spell=_spell_running("np.maximum.accumulate"),
                      any_size=True)
RUNNING_MIN = ArrayOp("running min", numpy=("minimum.accumulate",),
                      lower=_lower_running_min, vjp=_running_vjp,
                      jvp=_running_jvp,
                      spell=_spell_running("np.minimum.accumulate"),
                      any_size=True)


def _lower_diff(run: Any, a: Any, n: Any = 1, axis: Any = -1,
                prepend: Any = None, append: Any = None, *,
                node: ast.AST) -> Any:
    # Differences of neighbours are two slices subtracted, as a person
    # writes them (x[1:] - x[:-1]): their rules are the slices'.
    array = run.number(a, node)
    rank = len(run.shape(array, node))
    if not rank:
        raise run.error(node, "np.diff needs an array of one or more "
                              "dimensions")
    count = run.integer(n, node, "np.diff's n")
    if count < 0:
        raise run.error(node, f"np.diff's n must be 0 or more, not {count}")
    position = run.axis(axis, rank, node)
    if count and (prepend is not None or append is not None):
        parts = [array]
        if prepend is not None:
            parts.insert(0, _ends(run, array, prepend, position, node))
        if append is not None:
            parts.append(_ends(run, array, append, position, node))
        array = concatenate(run, parts, position, node)
    before = (slice(None),) * position
    for _ in range(count):
        array = (getitem(run, array, before + (slice(1, None),), node)
                 - getitem(run, array, before + (slice(None, -1),), node))
    return array


def _ends(run: Any, array: sp.Expr, given: Any, axis: int,
          node: ast.AST) -> Any:
    """np.diff's prepend= or append=: an array as it is, a number as one
    slice along ``axis`` (as NumPy broadcasts it)."""
    value = keyword_number(run, given, node)
    if run.shape(value, node):
        return value
    if len(run.shape(array, node)) == 1:
        return [value]
    source = run.materialize(array, node)
    sizes = list(run.program.shape_of(source))
    sizes[axis] = 1
    shape = list(run.shape(array, node))
    shape[axis] = 1
    return run.program.add(BROADCAST_TO, (
        run.materialize(value, node) if value.free_symbols else value,),
        tuple(shape), "ends", shape=tuple(sizes))


DIFF = ArrayOp("diff", numpy=("diff",), lower=_lower_diff)


def _lower_trapezoid(run: Any, y: Any, x: Any = None, dx: Any = 1.0,
                     axis: Any = -1, *, node: ast.AST) -> Any:
    """The trapezoid rule along ``axis``: the mean of neighbours times the
    steps between them (``x``'s differences, or ``dx``), summed, as a
    person writes it; linear in y, so its gradient is the weights."""
    array = run.number(y, node)
    rank = len(run.shape(array, node))
    if not rank:
        raise run.error(node, "np.trapezoid needs an array of one or more "
                              "dimensions")
    position = run.axis(axis, rank, node)
    before = (slice(None),) * position
    means = (getitem(run, array, before + (slice(1, None),), node)
             + getitem(run, array, before + (slice(None, -1),), node)) / 2
    if x is None:  # (a default of 1.0 is the exact 1, as literals are)
        steps = keyword_number(run, dx, node)
    else:
        grid = run.number(x, node)
        if len(run.shape(grid, node)) == 1:
            steps = _lower_diff(run, grid, node=node)
            if position != rank - 1:  # along an axis before the last
                steps = reshape(run, steps, (-1,) + (1,) * (
                    rank - 1 - position), node)
        else:
            steps = _lower_diff(run, grid, axis=position, node=node)
    return reduce_sum(run, means * steps, position, False, node)[0]


TRAPEZOID = ArrayOp("trapezoid", numpy=("trapezoid",),
                    lower=_lower_trapezoid)


def _lower_gradient(run: Any, f: Any, *varargs: Any, axis: Any = None,
                    edge_order: Any = 1, node: ast.AST) -> Any:
    """``np.gradient``: along each axis asked for, central differences
    inside and one-sided ones at the two ends (of first or second order),
    over a constant step per axis; linear in f. Several axes give a
    tuple, as NumPy 2's."""
    array = run.number(f, node)
    rank = len(run.shape(array, node))
    if not rank:
        raise run.error(node, "np.gradient needs an array of one or more "
                              "dimensions")
    if axis is None:
        axes = tuple(range(rank))
    else:  # in the order given, as the results are
        axes = tuple(run.axis(a, rank, node) for a in (
            axis if isinstance(axis, (tuple, list)) else (axis,)))
        if len(set(axes)) != len(axes):
            raise run.error(node, f"np.gradient's axis {axis} repeats an "
                                  "axis")
    order = run.integer(edge_order, node, "np.gradient's edge_order")
    if order not in (1, 2):
        raise run.error(node, "np.gradient's edge_order must be 1 or 2, "
                              f"not {order}")
    if len(varargs) not in (0, 1, len(axes)):
        raise run.error(node, f"np.gradient takes one spacing or one per "
                              f"axis ({len(axes)}), not {len(varargs)}")
    spacings = [keyword_number(run, h, node) for h in varargs]
    if any(run.shape(h, node) for h in spacings):
        raise run.error(node, "np.gradient's spacings must be numbers here "
                              "(coordinates are not supported): pass the "
                              "constant step of each axis")
    steps = spacings * len(axes) if len(spacings) == 1 else \
        spacings or [sp.S.One] * len(axes)
    derivatives = [
        _differences(run, array, position, order, node) / step
        for position, step in zip(axes, steps)]
    return derivatives[0] if len(derivatives) == 1 else tuple(derivatives)


def _differences(run: Any, array: sp.Expr, axis: int, order: int,
                 node: ast.AST) -> Any:
    """``np.gradient`` of ``array`` along ``axis`` with step 1: the mean
    of the two neighbours' differences inside, one-sided differences (of
    ``order`` 1 or 2) at the ends."""
    if run.shape(array, node)[axis] < order + 1:
        raise run.error(node, "np.gradient needs at least "
                              f"{order + 1} elements along each axis with "
                              f"edge_order={order}")
    before = (slice(None),) * axis

    def at(k: int) -> Any:
        return getitem(run, array, before + (k,), node)

    if order == 1:
        first = at(1) - at(0)
        last = at(-1) - at(-2)
    else:
        first = (4 * at(1) - 3 * at(0) - at(2)) / 2
        last = (3 * at(-1) - 4 * at(-2) + at(-3)) / 2
    inside = (getitem(run, array, before + (slice(2, None),), node)
              - getitem(run, array, before + (slice(None, -2),), node)) / 2
    # The ends stacked along the axis: a new axis of one, which the code
    # knows at every size (a slice x[:1] might be the whole axis).
    return concatenate(run, [stack(run, [first], axis, node), inside,
                             stack(run, [last], axis, node)], axis, node)


GRADIENT = ArrayOp("gradient", numpy=("gradient",), lower=_lower_gradient)
