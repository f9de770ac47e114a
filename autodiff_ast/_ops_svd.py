"""Rows of the array table for the singular value decomposition,
``np.linalg.svd``: its singular values alone (``compute_uv=False``) or
all of ``U, S, Vh`` (of a square matrix, or with
``full_matrices=False``).

With ``A = U diag(s) Vh`` of shape (m, n), k = min(m, n) singular values,
``V = Vh.T`` and ``X = U.T @ dA @ V`` (Townsend 2016; JAX's rule, for
real matrices):

- ``ds = diag(X)``; ``s``'s adjoint ``g`` gives ``A``'s ``(U * g) @
  Vh``;
- ``dU = U @ (F * (X * s + s[:, None] * X.T))``, plus ``(dA @ V - U @
  X) / s`` when m > n;
- ``dVh = -(F * (s[:, None] * X + X.T * s)) @ Vh``, plus ``(U.T @ dA -
  X @ Vh) / s[:, None]`` when n > m;

with ``F[i, j] = 1 / (s[j] ** 2 - s[i] ** 2)`` off the diagonal, 0 on it.
The adjoints of ``U`` and ``Vh`` are these maps transposed. Where two
singular values are equal, or one is 0 with m != n, ``U`` and ``Vh`` are
not differentiable: their derivatives are then inf or nan (NumPy warns
of the division by zero), as JAX's are; the singular values' first
derivatives stay finite where they are distinct from one another.

``full_matrices=True`` (NumPy's default) of a matrix that is not square
adds columns to U (or rows to Vh) that the matrix does not determine:
refused, as JAX refuses to differentiate them. The three results are
three steps of one call, ``np.linalg.svd(a, full_matrices=False)``
whatever the shape (the same for a square matrix), so that the singular
values' code runs at any size; the rules of U and Vh depend on whether
m > n, so code with them checks the shapes it was generated for.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

import sympy as sp

from ._matrices import (column_of, matmul, projected_diagonal,
                        reciprocal_gaps, row_of, stacked_matrices,
                        tangent_product, transpose)
from ._ops_core import transposed
from ._ops_eigen import column_weights
from ._program import ArrayOp, Step
from ._spell import call

__all__ = ["SVD", "SVD_U", "SVD_VH", "svd_values"]


class SVDResult(NamedTuple):
    """What ``np.linalg.svd`` returns, read by index or by name."""

    U: Any
    S: Any
    Vh: Any


def _lower_svd(run: Any, a: Any, full_matrices: Any = True,
               compute_uv: Any = True, hermitian: Any = False, *,
               node: ast.AST) -> Any:
    array, shape = stacked_matrices(run, a, node, "np.linalg.svd")
    if hermitian is not False:
        raise run.error(node, "np.linalg.svd(..., hermitian=True) is not "
                              "supported: leave hermitian=False (the "
                              "default), or use np.linalg.eigh for a "
                              "symmetric matrix")
    matrix = run.materialize(array, node)
    program = run.program
    if not bool(compute_uv):
        return _values(program, matrix, False)
    m, n = shape[-2:]
    if bool(full_matrices) and m != n:
        raise run.error(node, f"np.linalg.svd of a {m} x {n} matrix with "
                              "full_matrices=True: the extra "
                              f"{'columns of U' if m > n else 'rows of Vh'}"
                              " are not determined by the matrix and have "
                              "no derivative: pass full_matrices=False")
    return SVDResult(_part(program, matrix, SVD_U),
                     _values(program, matrix, True),
                     _part(program, matrix, SVD_VH))


def _sizes(program: Any, matrix: sp.Symbol) -> tuple[int, int, int]:
    m, n = program.leaves[matrix].shape[-2:]
    return m, n, min(m, n)


def _values(program: Any, matrix: sp.Symbol, uv: bool) -> sp.Symbol:
    """The singular values: of ``np.linalg.svd(a)`` (``uv``), or of
    ``np.linalg.svd(a, compute_uv=False)``."""
    m, n, k = _sizes(program, matrix)
    return program.add(SVD, (matrix,), program.leaves[matrix].shape[:-2]
                       + (k,), f"s_{matrix.name}", uv=uv)


def svd_values(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """``np.linalg.svd(matrix, compute_uv=False)``."""
    return _values(program, matrix, False)


def _part(program: Any, matrix: sp.Symbol, op: ArrayOp) -> sp.Symbol:
    m, n, k = _sizes(program, matrix)
    lead = program.leaves[matrix].shape[:-2]
    shape = lead + ((m, k) if op is SVD_U else (k, n))
    return program.add(op, (matrix,), shape,
                       f"{'U' if op is SVD_U else 'Vh'}_{matrix.name}",
                       uv=True)


def _factors(program: Any, step: Step) -> tuple[sp.Symbol, sp.Symbol,
                                                 sp.Symbol]:
    (matrix,) = step.operands
    return (_part(program, matrix, SVD_U), _values(program, matrix, True),
            _part(program, matrix, SVD_VH))


# -- the singular values ------------------------------------------------------

def _values_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """A's adjoint is U diag(g) Vh: (U * g) @ Vh."""
    (matrix,) = step.operands
    program = backward.program
    u, _, vh = _factors(program, step)
    weights = column_weights(backward, step, adjoint)
    if program.shape(weights) == ():
        backward.contribute(matrix, weights * matmul(
            program, u, vh, f"{u.name}_{vh.name}"))
        return
    scaled = program.materialize(u * row_of(program, weights),
                                 f"{u.name}_scaled")
    backward.contribute(matrix, matmul(program, scaled, vh,
                                       f"d_{matrix.name}"))


def _values_jvp(forward: Any, step: Step) -> sp.Expr:
    """ds = diag(U.T @ dA @ V), for each tangent of the batch."""
    (matrix,) = step.operands
    u, _, vh = _factors(forward.program, step)
    return projected_diagonal(forward, matrix, u, vh, True,
                              f"{step.target.name}_tangent")


# -- U and Vh -----------------------------------------------------------------

def _vectors_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The adjoint G of U gives A's U @ ((F * (B - B.T)) * s) @ Vh, B =
    U.T @ G, plus (G - U @ B) / s @ Vh when m > n; that of Vh gives U @
    (s[:, None] * (F * (C - C.T))) @ Vh, C = Vh @ G.T, plus U @ (G - C.T
    @ Vh) / s[:, None] when n > m."""
    (matrix,) = step.operands
    program = backward.program
    u, s, vh = _factors(program, step)
    m, n, _ = _sizes(program, matrix)
    left = step.op is SVD_U
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    if left:
        b = matmul(program, transpose(program, u), full, "B")
        scale = row_of(program, s)
    else:
        b = matmul(program, vh, transpose(program, full), "C")
        scale = column_of(program, s)
    inner = program.materialize(
        reciprocal_gaps(program, s, 2) * (b - transpose(program, b))
        * scale, f"{b.name}_F")
    result = matmul(program, matmul(program, u, inner, f"U_{inner.name}"),
                    vh, f"d_{matrix.name}")
    if left and m > n:
        outside = program.materialize(
            (full - matmul(program, u, b, "U_B")) / scale, "outside")
        result += matmul(program, outside, vh, f"d_{matrix.name}_outside")
    if not left and n > m:
        outside = program.materialize(
            (full - matmul(program, transpose(program, b), vh, "C_Vh"))
            / scale, "outside")
        result += matmul(program, u, outside, f"d_{matrix.name}_outside")
    backward.contribute(matrix, result)


def _projected(forward: Any, step: Step) -> tuple[sp.Symbol, sp.Symbol]:
    """X = U.T @ dA @ V and its transpose (per tangent of the batch)."""
    (matrix,) = step.operands
    program = forward.program
    u, _, vh = _factors(program, step)
    rank = len(forward.shape(matrix))
    dx = tangent_product(forward, u, forward.full_tangent(matrix),
                         f"{u.name}_T_d", flip_left=True)
    x = tangent_product(forward, dx, vh, "X", flip_right=True)
    swapped = transposed(program, x, tuple(range(rank - 2)) + (
        rank - 1, rank - 2) + forward.batch_axes(rank), f"{x.name}_T")
    return x, swapped


def _vectors_jvp(forward: Any, step: Step) -> sp.Expr:
    """dU = U @ (F * (X * s + s[:, None] * X.T)) (+ (dA @ V - U @ X) / s
    when m > n); dVh = -(F * (s[:, None] * X + X.T * s)) @ Vh (+ (U.T @
    dA - X @ Vh) / s[:, None] when n > m)."""
    (matrix,) = step.operands
    program = forward.program
    u, s, vh = _factors(program, step)
    m, n, _ = _sizes(program, matrix)
    left = step.op is SVD_U
    x, swapped = _projected(forward, step)
    row = forward.along_batch(row_of(program, s))
    column = forward.along_batch(column_of(program, s))
    gaps = forward.along_batch(reciprocal_gaps(program, s, 2))
    name = f"{step.target.name}_tangent"
    tangent = forward.full_tangent(matrix)
    if left:
        inner = program.materialize(gaps * (x * row + column * swapped),
                                    "F_X")
        result = tangent_product(forward, u, inner, name)
        outside = (tangent_product(forward, tangent, vh, "dA_V",
                                   flip_right=True)
                   - tangent_product(forward, u, x, "U_X")) if m > n else None
    else:
        inner = program.materialize(gaps * (column * x + swapped * row),
                                    "F_X")
        result = -tangent_product(forward, inner, vh, name)
        outside = (tangent_product(forward, u, tangent, "U_T_dA",
                                   flip_left=True)
                   - tangent_product(forward, x, vh, "X_Vh")
                   ) if n > m else None
    if outside is not None:
        result += program.materialize(outside / (row if left else column),
                                      "outside")
    return result


def _spell(index: int) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        if not step.option("uv"):
            return call("np.linalg.svd", args, compute_uv=False)
        result = call("np.linalg.svd", args, full_matrices=False)
        return ast.Subscript(result, ast.Constant(index), ast.Load())
    return spell


SVD = ArrayOp("svd", numpy=("linalg.svd",), lower=_lower_svd,
              vjp=_values_vjp, jvp=_values_jvp, spell=_spell(1),
              any_size=True)
SVD_U = ArrayOp("svd U", vjp=_vectors_vjp, jvp=_vectors_jvp,
                spell=_spell(0))
SVD_VH = ArrayOp("svd Vh", vjp=_vectors_vjp, jvp=_vectors_jvp,
                 spell=_spell(2))
