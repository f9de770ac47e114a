"""The row of the array table for ``np.linalg.inv`` (of a matrix or a
stack of them): ``d inv(A) = -inv(A) @ dA @ inv(A)``, so A's adjoint is
``-inv.T @ g @ inv.T``. Its own module, for the rows of other
decompositions whose derivatives divide by a factor (QR's R).
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._matrices import matmul, spelled, square_matrix, stack_letters, transpose
from ._ops_create import main_diagonal_eye
from ._ops_einsum import batch_letters, contract
from ._program import ArrayOp, Step

__all__ = ["INV", "inverse"]


def inverse(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """The step inv(matrix)."""
    return program.add(INV, (matrix,), program.leaves[matrix].shape,
                       f"inv_{matrix.name}")


def _lower_inv(run: Any, a: Any, *, node: ast.AST) -> Any:
    return inverse(run.program,
                   square_matrix(run, a, node, "np.linalg.inv"))


def _inv_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d inv(A) = -inv(A) dA inv(A), so A's adjoint is
    -inv.T @ g @ inv.T."""
    (matrix,) = step.operands
    program = backward.program
    shape = program.leaves[matrix].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    inverse_t = transpose(program, step.target)
    # An eye of the inverse's shape (a trace's adjoint) is the identity:
    # the inverse is square whenever the code runs.
    left = inverse_t if main_diagonal_eye(program, full) else matmul(
        program, inverse_t, full, f"{inverse_t.name}_d")
    backward.contribute(matrix, -matmul(program, left, inverse_t,
                                        f"d_{matrix.name}"))


def _inv_jvp(forward: Any, step: Step) -> sp.Expr:
    """d inv(A) = -inv(A) @ dA @ inv(A)."""
    (matrix,) = step.operands
    program = forward.program
    inverted = step.target
    tangent = forward.full_tangent(matrix)
    name = f"{inverted.name}_tangent"
    if not forward.batch:
        left = matmul(program, inverted, tangent, f"{inverted.name}_d")
        return -matmul(program, left, inverted, name)
    batch = batch_letters(len(forward.batch), ["ijkl"])
    lead = stack_letters(program, matrix)
    return -contract(program, f"{lead}ij,{lead}jk{batch},{lead}kl->"
                              f"{lead}il{batch}",
                     (inverted, tangent, inverted), name, optimize=True)


INV = ArrayOp("inv", numpy=("linalg.inv",), lower=_lower_inv, vjp=_inv_vjp,
              jvp=_inv_jvp, spell=spelled("np.linalg.inv"), any_size=True)
