"""The row of the array table for the pseudo-inverse,
``np.linalg.pinv``.

Its derivative is JAX's (Golub and Pereyra 1973), with ``P = pinv(A)``:
``dP = -P @ dA @ P + P @ P.T @ dA.T @ (I - A @ P) + (I - P @ A) @ dA.T
@ P.T @ P``, so ``P``'s adjoint ``G`` gives ``A``'s ``-P.T @ G @ P.T +
(I - A @ P) @ G.T @ P @ P.T + P.T @ P @ G.T @ (I - P @ A)``. It holds
where the rank of A does not change: along perturbations that keep a
rank-deficient matrix's rank (the pseudo-inverse jumps where the rank
does). A stack of matrices (..., m, n) takes each matrix's.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._matrices import matmul, stacked_matrices, tangent_product, transpose
from ._ops_create import EYE
from ._program import ArrayOp, Step
from ._spell import call

__all__ = ["PINV", "pinv", "pinv_adjoint", "pinv_tangent"]


def _lower_pinv(run: Any, a: Any, rcond: Any = None, hermitian: Any = False,
                *, node: ast.AST, **rtol: Any) -> Any:
    array, shape = stacked_matrices(run, a, node, "np.linalg.pinv")
    matrix = run.materialize(array, node)
    cutoff = {key: run.static_number(value, node, "the cutoff")
              for key, value in (("rcond", rcond), *rtol.items())
              if value is not None}
    if set(rtol) - {"rtol"}:
        raise run.error(node, f"np.linalg.pinv takes no argument "
                              f"{sorted(set(rtol) - {'rtol'})[0]}")
    return pinv(run.program, matrix, hermitian=bool(hermitian) or None,
                cutoff=tuple(sorted(cutoff.items())) or None)


def pinv(program: Any, matrix: sp.Symbol, **options: Any) -> sp.Symbol:
    """The step pinv(matrix)."""
    shape = program.leaves[matrix].shape
    return program.add(PINV, (matrix,), shape[:-2] + shape[-1:]
                       + shape[-2:-1], f"pinv_{matrix.name}",
                       hermitian=options.get("hermitian"),
                       cutoff=options.get("cutoff"))


def _residuals(program: Any, matrix: sp.Symbol,
               inverse: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """I - A @ P and I - P @ A (each of shape of a square of A's sides)."""
    shape = program.leaves[matrix].shape
    rows, columns = (program.size(matrix, len(shape) - k) for k in (2, 1))

    def eye(size: Any, n: int) -> sp.Symbol:
        return program.add(EYE, (), (n, n), "eye", rows=size, columns=None,
                           k=None, dtype=None)

    return (eye(rows, shape[-2]) - matmul(program, matrix, inverse,
                                          f"{matrix.name}_{inverse.name}"),
            eye(columns, shape[-1]) - matmul(program, inverse, matrix,
                                             f"{inverse.name}_{matrix.name}"))


def pinv_adjoint(program: Any, matrix: sp.Symbol, p: sp.Symbol,
                 full: sp.Symbol) -> sp.Expr:
    """A's adjoint for the adjoint ``full`` of ``p = pinv(A)``."""
    p_t, g_t = transpose(program, p), transpose(program, full)
    outside_rows, outside_columns = _residuals(program, matrix, p)
    left = program.materialize(outside_rows, "I_AP")
    right = program.materialize(outside_columns, "I_PA")
    return (
        -matmul(program, matmul(program, p_t, full, "PT_G"), p_t, "PT_G_PT")
        + matmul(program, matmul(program, left, g_t, "I_AP_GT"),
                 matmul(program, p, p_t, "P_PT"), "I_AP_GT_P_PT")
        + matmul(program, matmul(program, p_t, p, "PT_P"),
                 matmul(program, g_t, right, "GT_I_PA"), "PT_P_GT_I_PA"))


def _pinv_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (matrix,) = step.operands
    program = backward.program
    p = step.target
    full = backward.full(adjoint, program.leaves[p].shape, f"d_{p.name}")
    backward.contribute(matrix, pinv_adjoint(program, matrix, p, full))


def pinv_tangent(forward: Any, matrix: sp.Symbol, p: sp.Symbol,
                 name: str) -> sp.Expr:
    """The tangent of ``p = pinv(A)`` (per tangent of the batch)."""
    program = forward.program
    tangent = forward.full_tangent(matrix)
    outside_rows, outside_columns = _residuals(program, matrix, p)
    left = program.materialize(outside_columns, "I_PA")
    right = program.materialize(outside_rows, "I_AP")
    p_pt = matmul(program, p, transpose(program, p), "P_PT")
    pt_p = matmul(program, transpose(program, p), p, "PT_P")
    return (
        -tangent_product(forward, tangent_product(forward, p, tangent, "P_d"),
                         p, name)
        + tangent_product(forward, tangent_product(
            forward, p_pt, tangent, "P_PT_dT", flip_right=True), right,
            f"{name}_rows")
        + tangent_product(forward, tangent_product(
            forward, left, tangent, "I_PA_dT", flip_right=True), pt_p,
            f"{name}_columns"))


def _pinv_jvp(forward: Any, step: Step) -> sp.Expr:
    (matrix,) = step.operands
    return pinv_tangent(forward, matrix, step.target,
                        f"{step.target.name}_tangent")


def _spell_pinv(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    return call("np.linalg.pinv", args, **dict(step.option("cutoff") or ()),
                hermitian=step.option("hermitian"))


PINV = ArrayOp("pinv", numpy=("linalg.pinv",), lower=_lower_pinv,
               vjp=_pinv_vjp, jvp=_pinv_jvp, spell=_spell_pinv,
               any_size=True)
