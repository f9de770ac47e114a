"""Rows of the array table for norms: ``np.linalg.norm``, and NumPy 2's
``np.linalg.vector_norm`` and ``np.linalg.matrix_norm``.

A 2-norm (a Frobenius norm) is one step, whose gradient is ``x / norm``,
nan at zero (0/0) as in JAX, and whose tangent is ``sum(x * dx) / norm``.
Other orders lower to sums and maxima of ``abs``: a p-norm to
``sum(abs(x) ** p) ** (1/p)``, the matrix 1- and inf-norms to the largest
column and row sums. Orders of singular values (2, -2, 'nuc' of a
matrix) take the singular values, as NumPy does; vector orders of 0 and
below are refused.
"""

from __future__ import annotations

import ast
import math
import string
from typing import Any

import sympy as sp

from ._functions import absolute
from ._ops_core import (EXPAND_DIMS, SUM, reduce_sum, reduced_shape,
                        reshape, transposed)
from ._ops_reduce import MAX, MIN, extremum, unreduced
from ._ops_einsum import batch_letters, contract
from ._program import ArrayOp, Step
from ._spell import axis_literal, call

__all__ = ["NORM", "VECTOR_NORM", "MATRIX_NORM"]


def _lower_norm(run: Any, x: Any, ord: Any = None, axis: Any = None,
                keepdims: Any = False, *, node: ast.AST) -> Any:
    array = run.number(x, node)
    shape = run.shape(array, node)
    ndim = len(shape)
    if axis is None:
        if ord is None:
            return _two_norm(run, array, None, bool(keepdims), node)
        if ndim not in (1, 2):
            raise run.error(node, "Improper number of dimensions to norm.")
        axes = tuple(range(ndim))
    else:
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(run.axis(item, ndim, node) for item in items)
        if len(axes) not in (1, 2) or len(set(axes)) != len(axes):
            raise run.error(node, "np.linalg.norm takes one axis (vector "
                                  "norms) or two (matrix norms)")
    order = _order(run, ord, node)
    if order in (None, 2 if len(axes) == 1 else "fro"):
        return _two_norm(run, array, tuple(sorted(axes)), bool(keepdims),
                         node)
    if len(axes) == 1:
        result = _vector_norm(run, array, order, axes, node)
    else:
        result = _matrix_norm(run, array, order, axes, node)
    return _kept(run, result, shape, axes, bool(keepdims), node)


def _lower_vector_norm(run: Any, x: Any, *, axis: Any = None,
                       keepdims: Any = False, ord: Any = 2,
                       node: ast.AST) -> Any:
    """np.linalg.vector_norm: the norm of the elements over ``axis`` (any
    number of axes; None: all), as one vector."""
    array = run.number(x, node)
    shape = run.shape(array, node)
    axes = run.axes(axis, len(shape), node)
    order = _order(run, ord, node)
    # (np.linalg.norm, which the 2-norm's step is spelled as, takes at
    # most two axes, or all)
    if order in (None, 2) and (axes is None or len(axes) <= 2
                               or len(axes) == len(shape)):
        return _two_norm(run, array, axes, bool(keepdims), node)
    result = _vector_norm(run, array, order, axes, node)
    return _kept(run, result, shape, axes or tuple(range(len(shape))),
                 bool(keepdims), node)


def _lower_matrix_norm(run: Any, x: Any, *, keepdims: Any = False,
                       ord: Any = "fro", node: ast.AST) -> Any:
    """np.linalg.matrix_norm: the norm of each matrix of the last two
    axes."""
    array = run.number(x, node)
    shape = run.shape(array, node)
    if len(shape) < 2:
        raise run.error(node, "np.linalg.matrix_norm takes a matrix (or a "
                              f"stack of them), not an array of "
                              f"{len(shape)} dimensions: use "
                              "np.linalg.vector_norm")
    axes = (len(shape) - 2, len(shape) - 1)
    order = _order(run, ord, node)
    if order in (None, "fro"):
        return _two_norm(run, array, axes, bool(keepdims), node)
    result = _matrix_norm(run, array, order, axes, node)
    return _kept(run, result, shape, axes, bool(keepdims), node)


def _kept(run: Any, result: Any, shape: tuple[int, ...],
          axes: tuple[int, ...], keepdims: bool, node: ast.AST) -> Any:
    """A norm ``result`` with its reduced ``axes`` kept as size 1, where
    the call asked for ``keepdims``."""
    if not keepdims:
        return result
    return reshape(run, result, tuple(
        1 if i in axes else n for i, n in enumerate(shape)), node)


def _order(run: Any, ord: Any, node: ast.AST) -> Any:
    """The norm's order: None, 'fro', 'nuc', or a number (inf as math.inf)."""
    if ord is None or isinstance(ord, str):
        return ord
    if ord in (sp.oo, -sp.oo):
        return math.inf if ord == sp.oo else -math.inf
    return run.static_number(ord, node, "the norm's order")


def _two_norm(run: Any, array: sp.Expr, axes: tuple[int, ...] | None,
              keepdims: bool, node: ast.AST) -> sp.Symbol:
    source = run.materialize(array, node)
    shape = run.program.leaves[source].shape
    if axes is not None and len(axes) == len(shape):
        axes = None
    return run.program.add(NORM, (source,),
                           reduced_shape(shape, axes, keepdims),
                           f"norm_{source.name}", axis=axes,
                           keepdims=keepdims)


def _vector_norm(run: Any, array: sp.Expr, order: Any,
                 axes: tuple[int, ...] | None, node: ast.AST) -> Any:
    """The vector norm of ``order`` over ``axes`` (None: all)."""
    size = absolute(array)
    if order == 1:
        return reduce_sum(run, size, axes, False, node)[0]
    if order in (math.inf, -math.inf):
        return extremum(run, MAX if order > 0 else MIN, size, axes, False,
                        node)
    if isinstance(order, str) or order <= 0:
        raise run.error(node, f"the vector norm of order {order!r} is not "
                              "supported: use ord=None, 1, 2, inf, -inf "
                              "or a positive number")
    power = sp.nsimplify(order)
    return reduce_sum(run, size ** power, axes, False, node)[0] ** (1 / power)


def _matrix_norm(run: Any, array: sp.Expr, order: Any,
                 axes: tuple[int, ...], node: ast.AST) -> Any:
    if order in (1, -1, math.inf, -math.inf):
        rows, columns = axes
        # ord=1: the largest column sum; inf: the largest row sum.
        summed, kept = (rows, columns) if order in (1, -1) else (columns,
                                                                   rows)
        sums = reduce_sum(run, absolute(array), summed, False, node)[0]
        return extremum(run, MAX if order > 0 else MIN, sums,
                        (kept - (kept > summed),), False, node)
    if order in (2, -2, "nuc"):
        # NumPy's: the largest or smallest singular value, or their sum
        values = singular_values(run, array, axes, node)
        last = (len(run.shape(values, node)) - 1,)
        if order == "nuc":
            return reduce_sum(run, values, last, False, node)[0]
        return extremum(run, MAX if order == 2 else MIN, values, last,
                        False, node)
    raise run.error(node, f"{order!r} is not a norm order for matrices: use "
                          "ord=None ('fro'), 1, -1, inf or -inf")


def singular_values(run: Any, array: sp.Expr, axes: tuple[int, ...],
                    node: ast.AST) -> sp.Symbol:
    """The singular values of the matrices of ``array`` whose rows and
    columns are ``axes`` (the others lead): ``np.linalg.svd(...,
    compute_uv=False)``, whose derivatives are SVD's."""
    from ._ops_svd import svd_values  # (it imports _ops_linalg, this too)

    matrix = run.materialize(array, node)
    rank = len(run.shape(matrix, node))
    order = tuple(a for a in range(rank) if a not in axes) + tuple(axes)
    if order != tuple(range(rank)):
        matrix = transposed(run.program, matrix, order, f"{matrix.name}_T")
    return svd_values(run.program, matrix)


def _norm_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """x / norm: nan where the norm is 0, as in JAX."""
    (x,) = step.operands
    kept = unreduced(backward, step, adjoint, f"d_{step.target.name}")
    norm = unreduced(backward, step, step.target, f"{step.target.name}_kept")
    backward.contribute(x, kept * x / norm)


def _norm_jvp(forward: Any, step: Step) -> sp.Expr:
    """sum(x * dx) / norm over the norm's axes: nan where the norm is 0,
    as the gradient."""
    (x,) = step.operands
    program = forward.program
    axis = step.option("axis")
    shape = forward.shape(step.target) + forward.batch
    if not forward.batch:
        total = program.add(SUM, (program.materialize(
            x * forward.full_tangent(x), f"{x.name}_times_tangent"),),
            shape, f"{step.target.name}_tangent_sum", axis=axis,
            keepdims=step.option("keepdims"))
        return total / step.target
    # An einsum over the norm's axes, which contracts a Jacobian's seed
    # away (x itself, for the identity).
    rank = len(forward.shape(x))
    axes = range(rank) if axis is None else axis
    letters = string.ascii_lowercase[:rank]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    batch = batch_letters(len(forward.batch), [letters])
    total = contract(program, f"{letters},{letters}{batch}->{kept}{batch}",
                     (x, forward.full_tangent(x)),
                     f"{step.target.name}_tangent_sum")
    if step.option("keepdims"):
        total = program.add(EXPAND_DIMS, (total,), shape,
                            f"{total.name}_kept", axis=tuple(axes))
    return total / forward.along_batch(step.target)


def _spell_norm(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    return call("np.linalg.norm", args,
                axis=axis_literal(step.option("axis")),
                keepdims=True if step.option("keepdims") else None)


NORM = ArrayOp("norm", numpy=("linalg.norm",), lower=_lower_norm,
               vjp=_norm_vjp, jvp=_norm_jvp, spell=_spell_norm)
# Lowered to NORM steps, or to sums and maxima.
VECTOR_NORM = ArrayOp("vector_norm", numpy=("linalg.vector_norm",),
                      lower=_lower_vector_norm)
MATRIX_NORM = ArrayOp("matrix_norm", numpy=("linalg.matrix_norm",),
                      lower=_lower_matrix_norm)
