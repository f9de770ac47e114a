"""What the rows of matrix functions (``_ops_decomp``, ``_ops_eigen``,
``_ops_svd``) share: the check that an operand is a square matrix (or a
stack of them), and products, transposes and per-matrix values written
for one matrix or for a stack alike (shape (..., n, n)).
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import sympy as sp

from ._ops_core import transposed
from ._ops_create import EYE
from ._ops_einsum import batch_letters, contract, einsum
from ._ops_index import GETITEM
from ._ops_linalg import DOT
from ._spell import call

__all__ = ["stacked_matrices", "square_matrix", "matmul", "transpose",
           "per_matrix", "stack_letters", "spelled", "masked_congruence",
           "row_of", "column_of", "reciprocal_gaps", "projected_diagonal",
           "tangent_product"]


def stacked_matrices(run: Any, a: Any, node: ast.AST,
                     spelled: str) -> tuple[Any, tuple[int, ...]]:
    """``a`` and its shape, checked as NumPy checks a matrix (or a stack
    of them): at least two axes."""
    array = run.number(a, node)
    shape = run.shape(array, node)
    if len(shape) < 2:
        raise run.error(node, f"{spelled}: {len(shape)}-dimensional array "
                              "given. Array must be at least two-"
                              "dimensional")
    return array, shape


def square_matrix(run: Any, a: Any, node: ast.AST,
                  spelled: str) -> sp.Symbol:
    """``a`` as a symbol holding one square matrix, or the error NumPy
    gives (and, for a stack of matrices, the way round it)."""
    array, shape = stacked_matrices(run, a, node, spelled)
    if shape[-1] != shape[-2]:
        raise run.error(node, f"{spelled}: last 2 dimensions of the array "
                              f"must be square (the shape is {shape})")
    return run.materialize(array, node)


def matmul(program: Any, left: sp.Symbol, right: sp.Symbol,
           name: str) -> sp.Symbol:
    """``left @ right``, of matrices or of stacks of them."""
    sa, sb = program.leaves[left].shape, program.leaves[right].shape
    if len(sa) == len(sb) == 2:
        return program.add(DOT, (left, right), sa[:-1] + sb[1:], name,
                           style="@")
    return einsum(program, "...ij,...jk->...ik", (left, right), name,
                  call="@")


def transpose(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """The matrix transposed (each of a stack of them)."""
    ndim = len(program.leaves[matrix].shape)
    axes = None if ndim == 2 else tuple(range(ndim - 2)) + (ndim - 1,
                                                            ndim - 2)
    return transposed(program, matrix, axes, f"{matrix.name}_T")


def per_matrix(program: Any, value: sp.Expr, name: str) -> sp.Expr:
    """A value per matrix of a stack (shape (...,)) as (..., 1, 1), to
    broadcast against the matrices; a number as it is."""
    shape = program.shape(value)
    if not shape:
        return value
    source = program.materialize(value, name)
    return program.add(GETITEM, (source,), shape + (1, 1),
                       f"{source.name}_each", index=(Ellipsis, None, None))


def stack_letters(program: Any, matrix: sp.Symbol) -> str:
    """``'...'`` where ``matrix`` is a stack of matrices, for einsums."""
    return "..." if len(program.leaves[matrix].shape) > 2 else ""


def spelled(spelling: str) -> Any:
    """A row's spelling: the NumPy call ``spelling`` of its operands."""
    return lambda step, args, name: call(spelling, args)


def masked_congruence(forward: Any, matrix: sp.Symbol, outer: sp.Symbol,
                      inner: sp.Symbol, inner_transposed: bool,
                      mask: Callable[[], sp.Symbol], masked_name: str,
                      name: str) -> sp.Expr:
    """``outer @ (mask * (X + X.T) / 2)`` with ``X = M @ dA @ M.T`` for
    each tangent ``dA`` of ``matrix`` in the batch, ``M`` being ``inner``
    (``inner.T`` with ``inner_transposed``): the tangent of cholesky's
    factor and of eigh's eigenvectors. ``(X + X.T) / 2`` is ``M @ dS @
    M.T`` for the symmetric part ``dS`` of ``dA``; X is written as one
    einsum for a batch, which contracts a Jacobian's seed away. ``mask()``
    adds the steps of the mask, after X's (as a person writes it)."""
    program = forward.program
    tangent = forward.full_tangent(matrix)
    rank = len(forward.shape(matrix))
    lead = stack_letters(program, matrix)
    batch = batch_letters(len(forward.batch), ["ijkl"])
    if not forward.batch:
        left, right = inner, transpose(program, inner)
        if inner_transposed:
            left, right = right, left
        x = matmul(program, matmul(program, left, tangent, f"{left.name}_d"),
                   right, "X")
    else:
        first, last = ("ji", "kl") if inner_transposed else ("ij", "lk")
        x = contract(program, f"{lead}{first},{lead}jk{batch},{lead}{last}"
                              f"->{lead}il{batch}", (inner, tangent, inner),
                     "X", optimize=True)
    swapped = transposed(program, x, tuple(range(rank - 2)) + (
        rank - 1, rank - 2) + forward.batch_axes(rank), f"{x.name}_T")
    masked = program.materialize(
        (x + swapped) / 2 * forward.along_batch(mask()), masked_name)
    if not forward.batch:
        return matmul(program, outer, masked, name)
    return contract(program, f"{lead}ij,{lead}jk{batch}->{lead}ik{batch}",
                    (outer, masked), name)


def row_of(program: Any, values: sp.Expr) -> sp.Expr:
    """Values per column, ``w`` of shape (..., k), as a row (``w[None,
    :]`` of each matrix of a stack): they then scale the columns of a
    matrix, as ``Q * w`` does for one matrix."""
    shape = program.shape(values)
    if len(shape) <= 1:
        return values
    source = program.materialize(values, "weights")
    return program.add(GETITEM, (source,), shape[:-1] + (1, shape[-1]),
                       f"{source.name}_row",
                       index=(Ellipsis, None, slice(None)))


def column_of(program: Any, values: sp.Symbol) -> sp.Symbol:
    """``w[:, None]`` (of each matrix of a stack): values that scale the
    rows of a matrix."""
    shape = program.leaves[values].shape
    lead = (Ellipsis,) if len(shape) > 1 else ()
    return program.add(GETITEM, (values,), shape + (1,),
                       f"{values.name}_column",
                       index=lead + (slice(None), None))


def reciprocal_gaps(program: Any, values: sp.Symbol,
                    power: int = 1) -> sp.Symbol:
    """F: ``1 / (w[j] ** power - w[i] ** power)`` off the diagonal, 0 on
    it, written ``1 / (eye + w[None, :] - w[:, None]) - eye`` as JAX
    writes it; inf where two values are equal."""
    shape = program.leaves[values].shape
    n = program.size(values, len(shape) - 1)
    eye = program.add(EYE, (), shape[-1:] * 2, "eye", rows=n, columns=None,
                      k=None, dtype=None)
    lead = (Ellipsis,) if len(shape) > 1 else ()
    row = program.add(GETITEM, (values,), shape[:-1] + (1, shape[-1]),
                      f"{values.name}_row", index=lead + (None, slice(None)))
    return program.materialize(
        1 / (eye + row ** power - column_of(program, values) ** power)
        - eye, "F")


def projected_diagonal(forward: Any, matrix: sp.Symbol, left: sp.Symbol,
                       right: sp.Symbol, right_rows: bool,
                       name: str) -> sp.Symbol:
    """``diag(left.T @ dA @ R)`` for each tangent ``dA`` of ``matrix`` in
    the batch, ``R`` being ``right`` (``right.T`` with ``right_rows``):
    the tangent of eigenvalues (``Q, Q``) and of singular values (``U,
    Vh``)."""
    program = forward.program
    lead = stack_letters(program, matrix)
    batch = batch_letters(len(forward.batch), ["ijk"])
    return contract(program, f"{lead}ji,{lead}jk{batch},{lead}"
                             f"{'ik' if right_rows else 'ki'}->"
                             f"{lead}i{batch}",
                    (left, forward.full_tangent(matrix), right), name,
                    optimize=True)


def tangent_product(forward: Any, left: sp.Symbol, right: sp.Symbol,
                    name: str, flip_left: bool = False,
                    flip_right: bool = False) -> sp.Symbol:
    """``left @ right`` (each transposed if asked), where one of them may
    be a tangent with the batch's axes after its matrix axes."""
    program = forward.program
    ranks = [len(program.leaves[o].shape) for o in (left, right)]
    if not forward.batch or ranks[0] == ranks[1]:
        if flip_left:
            left = transpose(program, left)
        if flip_right:
            right = transpose(program, right)
        return matmul(program, left, right, name)
    batch = batch_letters(len(forward.batch), ["ijk"])
    lead = "..." if min(ranks) > 2 else ""

    def term(rank: int, letters: str, flip: bool) -> str:
        carried = batch if rank > min(ranks) else ""
        return lead + (letters[::-1] if flip else letters) + carried

    return contract(program, f"{term(ranks[0], 'ij', flip_left)},"
                             f"{term(ranks[1], 'jk', flip_right)}->"
                             f"{lead}ik{batch}", (left, right), name)
