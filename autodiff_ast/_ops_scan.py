"""Rows of the array table for running totals: ``np.cumsum`` and
``np.cumprod`` (and their methods).

The gradient of a cumulative sum is the cumulative sum of the adjoint
taken from the other end. That of a cumulative product is ``rev(g * y) /
x`` (``rev``: the reversed cumulative sum) before the first zero of ``x``,
``rev(g * y')`` at it (``y'``: the products with that zero taken as 1) and
0 after it: exact at zeros, where dividing by ``x`` would give nan.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_core import BROADCAST_TO, reshape
from ._ops_index import GETITEM
from ._program import ArrayOp, Step
from ._functions import where
from ._spell import call

__all__ = ["CUMSUM", "CUMPROD", "cumulative", "reversed_cumsum"]


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
    name = f"d_{step.target.name}"
    zero = program.materialize(sp.Eq(x, 0), f"{x.name}_is_zero")
    zeros = program.add(CUMSUM, (zero,), shape, "zeros_so_far",
                        integer=True, axis=axis)
    before = program.materialize(sp.Eq(zeros, 0), "before_first_zero")
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
    backward.contribute(x, where(before, to_zero / where(before, x, 1),
                                 where(first, at_zero, 0)))


def _spell_cumulative(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, axis=step.option("axis"))
    return spell


CUMSUM = ArrayOp("cumsum", numpy=("cumsum",), methods=("cumsum",),
                 lower=_lower_cumsum, vjp=_cumsum_vjp,
                 spell=_spell_cumulative("np.cumsum"),
                 any_size=True)
CUMPROD = ArrayOp("cumprod", numpy=("cumprod",), methods=("cumprod",),
                  lower=_lower_cumprod, vjp=_cumprod_vjp,
                  spell=_spell_cumulative("np.cumprod"),
                  any_size=True)
