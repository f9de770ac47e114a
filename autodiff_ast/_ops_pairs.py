"""Rows of the array table for the indices of a triangle of a matrix:
``np.triu_indices`` and ``np.tril_indices`` (and their ``*_from``), the
pairs ``i < j`` of pairwise energies; and of its diagonal,
``np.diag_indices`` (and ``_from``), an ``np.arange`` for each axis.

They are integer constants given the matrix's size, so ``x[i] - x[j]``
with them is a gather like any other integer index, whose gradient adds
the adjoint back at the indices (``np.add.at``: a row appears in many
pairs). Each of the two index arrays is a step of its own, written as
the user called the function (``np.triu_indices(x.shape[0], k=1)[0]``),
so the code runs at any size. The pairs of one triangle differ, and so do
the items of an ``np.arange``: a store at them (``L[np.tril_indices(n)] =
theta``, ``A[np.diag_indices(n)] = d``) puts each element once.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._ops_create import ARANGE
from ._program import ArrayOp, Step
from ._spell import call, literal

__all__ = ["TRIU_INDICES", "TRIL_INDICES", "TRIU_INDICES_FROM",
           "TRIL_INDICES_FROM", "DIAG_INDICES", "DIAG_INDICES_FROM",
           "one_triangle"]


def _triangle(run: Any, op: ArrayOp, n: Any, k: Any, m: Any,
              node: ast.AST) -> tuple[sp.Symbol, sp.Symbol]:
    """The row and column indices of ``op``'s triangle of an ``n`` by
    ``m`` matrix, from diagonal ``k``: two integer arrays."""
    if isinstance(n, (tuple, list)) or isinstance(m, (tuple, list)):
        raise run.error(node, f"np.{op.name} takes a number of rows (and "
                              "of columns), not a shape")
    (rows,) = run.dims(n, node, "the number of rows")
    columns = rows if m is None else run.dims(m, node,
                                              "the number of columns")[0]
    offset = run.integer(k, node, "the diagonal k")
    counted = getattr(np, op.name)(*(int(v) for v in run.program.concrete(
        (rows, offset, columns))))
    count = len(counted[0])
    return tuple(run.program.add(  # type: ignore[return-value]
        op, (), (count,), name, integer=True, n=rows, k=offset or None,
        m=None if m is None else columns, which=which)
        for which, name in enumerate(("rows", "columns")))


def _square(run: Any, arr: Any, node: ast.AST) -> Any:
    """The number of rows of the square array ``arr`` (``*_from``)."""
    array = run.number(arr, node)
    shape = run.shape(array, node)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise run.error(node, f"np.triu_indices_from and np.tril_indices_"
                              f"from need a square 2-D array, not one of "
                              f"shape {shape}")
    return run.program.size(array, 0)


def _lower_triu(run: Any, n: Any, k: Any = 0, m: Any = None, *,
                node: ast.AST) -> Any:
    return _triangle(run, TRIU_INDICES, n, k, m, node)


def _lower_tril(run: Any, n: Any, k: Any = 0, m: Any = None, *,
                node: ast.AST) -> Any:
    return _triangle(run, TRIL_INDICES, n, k, m, node)


def _lower_triu_from(run: Any, arr: Any, k: Any = 0, *,
                     node: ast.AST) -> Any:
    return _triangle(run, TRIU_INDICES, _square(run, arr, node), k, None,
                     node)


def _lower_tril_from(run: Any, arr: Any, k: Any = 0, *,
                     node: ast.AST) -> Any:
    return _triangle(run, TRIL_INDICES, _square(run, arr, node), k, None,
                     node)


def _lower_diag(run: Any, n: Any, ndim: Any = 2, *,
                node: ast.AST) -> tuple[Any, ...]:
    """``np.diag_indices(n, ndim)``: ``np.arange(n)`` for each axis."""
    if isinstance(n, (tuple, list)):
        raise run.error(node, "np.diag_indices takes the length of the "
                              "diagonal, not a shape")
    (size,) = run.dims(n, node, "the length of the diagonal")
    axes = run.integer(ndim, node, "the number of axes")
    return (ARANGE.lower(run, size, node=node),) * axes


def _lower_diag_from(run: Any, arr: Any, *, node: ast.AST
                     ) -> tuple[Any, ...]:
    array = run.number(arr, node)
    shape = run.shape(array, node)
    if len(shape) < 2 or any(size != shape[0] for size in shape):
        raise run.error(node, "np.diag_indices_from needs an array of two "
                              "axes or more, all of one length, not one of "
                              f"shape {shape}")
    return _lower_diag(run, run.program.size(array, 0), len(shape),
                       node=node)


def one_triangle(steps: list[Step | None]) -> bool:
    """Whether ``steps`` include the row and the column indices of one
    triangle (one op, of one ``n``, ``k`` and ``m``): its pairs differ, so
    an index holding both picks each element once (``L[np.tril_indices(n)]
    = theta`` is a store, not a sum, and so is its gradient's)."""
    found: dict[tuple[Any, ...], set[int]] = {}
    for step in steps:
        if step is not None and step.op in (TRIU_INDICES, TRIL_INDICES):
            found.setdefault((step.op.name, step.option("n"),
                              step.option("k"), step.option("m")),
                             set()).add(step.option("which"))
    return any(which == {0, 1} for which in found.values())


def _spell(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        indices = call(spelling, [literal(step.option("n"))],
                       k=step.option("k"),
                       m=None if step.option("m") is None
                       else literal(step.option("m")))
        return ast.Subscript(indices, ast.Constant(step.option("which")),
                             ast.Load())
    return spell


# options: n (and m), the rows (and columns) of the matrix, ints or sizes
# read at run time; k, the first diagonal; which, 0 for the row indices
# and 1 for the column indices.
TRIU_INDICES = ArrayOp("triu_indices", numpy=("triu_indices",),
                       lower=_lower_triu, spell=_spell("np.triu_indices"),
                       stops_gradient=True, any_size=True)
TRIL_INDICES = ArrayOp("tril_indices", numpy=("tril_indices",),
                       lower=_lower_tril, spell=_spell("np.tril_indices"),
                       stops_gradient=True, any_size=True)
TRIU_INDICES_FROM = ArrayOp("triu_indices_from",
                            numpy=("triu_indices_from",),
                            lower=_lower_triu_from)
TRIL_INDICES_FROM = ArrayOp("tril_indices_from",
                            numpy=("tril_indices_from",),
                            lower=_lower_tril_from)
DIAG_INDICES = ArrayOp("diag_indices", numpy=("diag_indices",),
                       lower=_lower_diag)
DIAG_INDICES_FROM = ArrayOp("diag_indices_from",
                            numpy=("diag_indices_from",),
                            lower=_lower_diag_from)
