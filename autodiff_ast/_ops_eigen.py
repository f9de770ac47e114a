"""Rows of the array table for symmetric eigenproblems:
``np.linalg.eigvalsh`` and ``np.linalg.eigh``.

NumPy reads one triangle of the matrix (``UPLO``); as for cholesky, the
derivatives are JAX's, which symmetrises the input first: those of the
function of ``(A + A.T) / 2``, along symmetric perturbations. With
``A = Q diag(w) Q.T`` (Magnus 1985; Giles 2008):

- eigenvalues: ``dw = diag(Q.T @ dA @ Q)``, so ``w``'s adjoint ``g``
  gives ``A``'s ``(Q * g) @ Q.T``;
- eigenvectors: ``dQ = Q @ (F * (Q.T @ dA @ Q))`` (``dA`` symmetrised),
  ``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it; ``Q``'s
  adjoint ``G`` gives the symmetric part of ``Q @ (F * (Q.T @ G)) @
  Q.T``.

``F`` is written ``1 / (eye + w[None, :] - w[:, None]) - eye``, as JAX
writes it. Where two eigenvalues are equal the eigenvectors are not
differentiable (any rotation within their eigenspace is as good): ``F``
is then inf (NumPy warns of a division by zero) and the eigenvectors'
derivatives are inf or nan, as JAX's are; the eigenvalues' first
derivatives stay finite. ``eigh``'s two results are two steps, each
spelled ``np.linalg.eigh(a)[k]``, which the codegen computes once.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

import sympy as sp

from ._matrices import (masked_congruence, matmul, projected_diagonal,
                        reciprocal_gaps, row_of, square_matrix, transpose)
from ._ops_create import EYE
from ._program import ArrayOp, Step
from ._spell import call

__all__ = ["EIGVALSH", "EIGH", "EIGH_VECTORS", "column_weights"]


class EighResult(NamedTuple):
    """What ``np.linalg.eigh`` returns, read by index or by name."""

    eigenvalues: Any
    eigenvectors: Any


def _uplo(run: Any, UPLO: Any, node: ast.AST, spelled: str) -> str | None:
    """The triangle NumPy reads: None for the lower one (the default)."""
    if UPLO not in ("L", "U"):
        raise run.error(node, f"{spelled}: UPLO must be 'L' or 'U' (a "
                              f"constant string), not {UPLO!r}")
    return "U" if UPLO == "U" else None


def _values(program: Any, matrix: sp.Symbol, op: ArrayOp,
            uplo: str | None) -> sp.Symbol:
    return program.add(op, (matrix,), program.leaves[matrix].shape[:-1],
                       f"w_{matrix.name}", uplo=uplo)


def _vectors(program: Any, matrix: sp.Symbol,
             uplo: str | None) -> sp.Symbol:
    return program.add(EIGH_VECTORS, (matrix,), program.leaves[matrix].shape,
                       f"Q_{matrix.name}", uplo=uplo)


def _lower_eigvalsh(run: Any, a: Any, UPLO: Any = "L", *,
                    node: ast.AST) -> Any:
    matrix = square_matrix(run, a, node, "np.linalg.eigvalsh")
    return _values(run.program, matrix, EIGVALSH,
                   _uplo(run, UPLO, node, "np.linalg.eigvalsh"))


def _lower_eigh(run: Any, a: Any, UPLO: Any = "L", *, node: ast.AST) -> Any:
    matrix = square_matrix(run, a, node, "np.linalg.eigh")
    uplo = _uplo(run, UPLO, node, "np.linalg.eigh")
    return EighResult(_values(run.program, matrix, EIGH, uplo),
                      _vectors(run.program, matrix, uplo))


def column_weights(backward: Any, step: Step, adjoint: sp.Expr) -> sp.Expr:
    """The adjoint of values of shape (..., k) that scale the columns of a
    matrix: a number, the same for each, as it is; one row of weights for
    every matrix of a stack, as it is (it broadcasts); else an array of
    the values' shape."""
    program = backward.program
    target = program.leaves[step.target].shape
    given = program.shape(adjoint)
    if given == ():
        return adjoint
    name = f"d_{step.target.name}"
    if given == target[-len(given):]:
        return program.materialize(adjoint, name)
    return backward.full(adjoint, target, name)


def _values_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """A's adjoint is Q diag(g) Q.T: (Q * g) @ Q.T; g times the identity
    for the same g for each eigenvalue (their sum is the trace)."""
    (matrix,) = step.operands
    program = backward.program
    shape = program.leaves[matrix].shape
    weights = column_weights(backward, step, adjoint)
    if program.shape(weights) == () and len(shape) == 2:
        n = program.size(matrix, 1)
        backward.contribute(matrix, weights * program.add(
            EYE, (), shape, "eye", rows=n, columns=None, k=None, dtype=None))
        return
    vectors = _vectors(program, matrix, step.option("uplo"))
    scaled = program.materialize(vectors * row_of(program, weights),
                                 f"{vectors.name}_scaled")
    backward.contribute(matrix, matmul(program, scaled,
                                       transpose(program, vectors),
                                       f"d_{matrix.name}"))


def _values_jvp(forward: Any, step: Step) -> sp.Expr:
    """dw = diag(Q.T @ dA @ Q), for each tangent of the batch."""
    (matrix,) = step.operands
    vectors = _vectors(forward.program, matrix, step.option("uplo"))
    return projected_diagonal(forward, matrix, vectors, vectors, False,
                              f"{step.target.name}_tangent")


def _vectors_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """A's adjoint is the symmetric part of Q @ (F * (Q.T @ G)) @ Q.T."""
    (matrix,) = step.operands
    program = backward.program
    vectors = step.target
    full = backward.full(adjoint, program.leaves[matrix].shape,
                         f"d_{vectors.name}")
    values = _values(program, matrix, EIGH, step.option("uplo"))
    inner = program.materialize(
        matmul(program, transpose(program, vectors), full, "P")
        * reciprocal_gaps(program, values), "P_F")
    rotated = matmul(program, matmul(program, vectors, inner, "Q_P_F"),
                     transpose(program, vectors), "M")
    backward.contribute(matrix, (rotated + transpose(program, rotated)) / 2)


def _vectors_jvp(forward: Any, step: Step) -> sp.Expr:
    """dQ = Q @ (F * (Q.T @ dS @ Q)), dS = (dA + dA.T) / 2."""
    (matrix,) = step.operands
    vectors = step.target
    values = _values(forward.program, matrix, EIGH, step.option("uplo"))
    return masked_congruence(
        forward, matrix, vectors, vectors, True,
        lambda: reciprocal_gaps(forward.program, values), "F_X",
        f"{vectors.name}_tangent")


def _spell(function: str, index: int | None) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        result = call(function, args, UPLO=step.option("uplo"))
        if index is None:
            return result
        return ast.Subscript(result, ast.Constant(index), ast.Load())
    return spell


EIGVALSH = ArrayOp("eigvalsh", numpy=("linalg.eigvalsh",),
                   lower=_lower_eigvalsh, vjp=_values_vjp, jvp=_values_jvp,
                   spell=_spell("np.linalg.eigvalsh", None), any_size=True)
# eigh's eigenvalues (the row np.linalg.eigh is recognised by) and its
# eigenvectors: two steps of one call.
EIGH = ArrayOp("eigh", numpy=("linalg.eigh",), lower=_lower_eigh,
               vjp=_values_vjp, jvp=_values_jvp,
               spell=_spell("np.linalg.eigh", 0), any_size=True)
EIGH_VECTORS = ArrayOp("eigh vectors", vjp=_vectors_vjp, jvp=_vectors_jvp,
                       spell=_spell("np.linalg.eigh", 1), any_size=True)
