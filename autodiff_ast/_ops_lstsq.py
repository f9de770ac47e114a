"""The row of the array table for least squares, ``np.linalg.lstsq``.

Its solution is ``x = pinv(A) @ b`` (the same cutoff of small singular
values as NumPy's, ``max(m, n) * eps`` by default), so its derivatives
are the pseudo-inverse's (``_ops_pinv``, JAX's rule) times ``b``, plus
``pinv(A) @ db``: ``A``'s adjoint is pinv's for ``g @ b.T``, ``b``'s is
``pinv(A).T @ g``. The code computes x with ``np.linalg.lstsq``, as the
user wrote it, and ``pinv(A)`` for the derivatives. The singular values
(the fourth result) are ``np.linalg.svd(a, compute_uv=False)``; the
residuals and the rank have shapes and values that depend on the rank
found at run time, and using them is refused.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._matrices import stacked_matrices
from ._ops_einsum import batch_letters, contract
from ._ops_pinv import pinv, pinv_adjoint, pinv_tangent
from ._ops_svd import SVD
from ._program import ArrayOp, Step
from ._spell import call

__all__ = ["LSTSQ"]


def _lower_lstsq(run: Any, a: Any, b: Any, rcond: Any = None, *,
                 node: ast.AST) -> Any:
    array, shape = stacked_matrices(run, a, node, "np.linalg.lstsq")
    if len(shape) != 2:
        raise run.error(node, f"np.linalg.lstsq takes one matrix, not a "
                              f"stack of shape {shape}")
    rhs = run.number(b, node)
    rhs_shape = run.shape(rhs, node)
    if len(rhs_shape) not in (1, 2) or rhs_shape[0] != shape[0]:
        raise run.error(node, f"np.linalg.lstsq: b of shape {rhs_shape} "
                              f"does not match a matrix of shape {shape}: "
                              f"pass b of shape ({shape[0]},) or "
                              f"({shape[0]}, k)")
    if rcond is not None:
        rcond = run.static_number(rcond, node, "rcond")
    matrix = run.materialize(array, node)
    rhs = run.materialize(rhs, node, "b")
    program = run.program
    solution = program.add(LSTSQ, (matrix, rhs), shape[1:] + rhs_shape[1:],
                           f"lstsq_{matrix.name}_{rhs.name}", rcond=rcond)
    values = program.add(SVD, (matrix,), (min(shape),), f"s_{matrix.name}",
                         uv=False)
    return (solution, _RankDependent("residuals"), _RankDependent("rank"),
            values)


class _RankDependent:
    """A result of lstsq whose value (and shape) depend on the rank found
    at run time: no derivative can follow it, and lowering refuses any
    use of it, naming it."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return (f"the {self.what} of np.linalg.lstsq, which depends on the "
                "rank found at run time (compute what you need from the "
                "solution x, e.g. np.sum((a @ x - b) ** 2, axis=0)),")


def _pinv_of(program: Any, step: Step) -> sp.Symbol:
    rcond = step.option("rcond")
    return pinv(program, step.operands[0],
                cutoff=(("rcond", rcond),) if rcond is not None else None)


def _lstsq_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    matrix, rhs = step.operands
    program = backward.program
    p = _pinv_of(program, step)
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    columns = "k" if len(program.leaves[rhs].shape) == 2 else ""
    if rhs in backward.active:  # pinv(A).T @ g
        backward.contribute(rhs, contract(
            program, f"ij,i{columns}->j{columns}", (p, full),
            f"d_{rhs.name}"))
    if matrix in backward.active:  # pinv's, for its adjoint g @ b.T
        outer = contract(program, f"i{columns},j{columns}->ij", (full, rhs),
                         "G")
        backward.contribute(matrix, pinv_adjoint(program, matrix, p, outer))


def _lstsq_jvp(forward: Any, step: Step) -> sp.Expr:
    matrix, rhs = step.operands
    program = forward.program
    p = _pinv_of(program, step)
    name = f"{step.target.name}_tangent"
    columns = "k" if len(program.leaves[rhs].shape) == 2 else ""
    batch = batch_letters(len(forward.batch), ["ijk"])
    terms = []
    if matrix in forward.tangent:
        d_p = program.materialize(pinv_tangent(forward, matrix, p, "P_dot"),
                                  "P_dot")
        terms.append(contract(program, f"ij{batch},j{columns}->"
                                       f"i{columns}{batch}", (d_p, rhs),
                              f"{name}_matrix"))
    if rhs in forward.tangent:
        terms.append(contract(program, f"ij,j{columns}{batch}->"
                                       f"i{columns}{batch}",
                              (p, forward.full_tangent(rhs)),
                              f"{name}_rhs"))
    return sp.Add(*terms)


def _spell_lstsq(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    rcond = step.option("rcond")
    return ast.Subscript(call("np.linalg.lstsq", args, rcond=ast.Constant(
        rcond)), ast.Constant(0), ast.Load())


LSTSQ = ArrayOp("lstsq", numpy=("linalg.lstsq",), lower=_lower_lstsq,
                vjp=_lstsq_vjp, jvp=_lstsq_jvp, spell=_spell_lstsq,
                any_size=True)
