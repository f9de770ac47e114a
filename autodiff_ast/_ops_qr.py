"""The rows of the array table for the QR decomposition,
``np.linalg.qr`` (mode 'reduced', NumPy's default), of a matrix with at
least as many rows as columns (m >= n), or a stack of them.

Its derivatives are JAX's (Townsend, "Differentiating the QR
decomposition"): with ``X = Q.T @ dA @ inv(R)`` and ``O = L - L.T``, ``L``
the part of X below the diagonal, ``dQ = Q @ (O - X) + dA @ inv(R)`` and
``dR = (X - O) @ R``. Transposed, the adjoints ``Gq`` of Q and ``Gr`` of
R give A's ``(Gq + Q @ C) @ inv(R).T``, with ``W = Q.T @ Gq - Gr @ R.T``
and ``C = tril(W - W.T, -1) - W``. Where m < n, R's last columns are not
determined by a square factor and JAX refuses the derivative: refused
here too, at the user's line, as are the other modes. Where A has not
full column rank, R is singular and the derivatives are inf or nan.
The two results are two steps of one call, spelled
``np.linalg.qr(a)[k]``.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

import sympy as sp

from ._matrices import matmul, stacked_matrices, tangent_product, transpose
from ._ops_core import transposed
from ._ops_create import ONES
from ._ops_inverse import inverse
from ._ops_shape import TRIL
from ._program import ArrayOp, Step
from ._spell import call

__all__ = ["QR", "QR_R"]


class QRResult(NamedTuple):
    """What ``np.linalg.qr`` returns, read by index or by name."""

    Q: Any
    R: Any


def _lower_qr(run: Any, a: Any, mode: Any = "reduced", *,
              node: ast.AST) -> Any:
    array, shape = stacked_matrices(run, a, node, "np.linalg.qr")
    if mode != "reduced":
        raise run.error(node, f"np.linalg.qr(..., mode={mode!r}) is not "
                              "supported: use mode='reduced' (the default)")
    m, n = shape[-2:]
    if m < n:
        raise run.error(node, f"np.linalg.qr of a {m} x {n} matrix: with "
                              "fewer rows than columns, R's last columns "
                              "have no derivative as a function of the "
                              "matrix (JAX refuses it too): decompose the "
                              "transpose, or the first m columns")
    matrix = run.materialize(array, node)
    return QRResult(*_parts(run.program, matrix))


def _parts(program: Any, matrix: sp.Symbol) -> tuple[sp.Symbol, sp.Symbol]:
    shape = program.leaves[matrix].shape
    square = shape[:-2] + (shape[-1], shape[-1])
    return (program.add(QR, (matrix,), shape, f"Q_{matrix.name}"),
            program.add(QR_R, (matrix,), square, f"R_{matrix.name}"))


def _strictly_lower(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """The mask of the part below the diagonal: tril(ones, -1), so that a
    batch of tangents multiplies it as it is."""
    shape = program.leaves[matrix].shape
    n = program.size(matrix, len(shape) - 1)
    square = (shape[-1], shape[-1])
    ones = program.add(ONES, (), square, "ones", shape=(n, n), dtype=None)
    return program.add(TRIL, (ones,), square, "below", k=-1)


def _qr_jvp(forward: Any, step: Step) -> sp.Expr:
    (matrix,) = step.operands
    program = forward.program
    q, r = _parts(program, matrix)
    r_inv = inverse(program, r)
    rank = len(forward.shape(matrix))
    d_r_inv = tangent_product(forward, forward.full_tangent(matrix), r_inv,
                              "dA_inv_R")
    x = tangent_product(forward, q, d_r_inv, "X", flip_left=True)
    lower = program.materialize(
        x * forward.along_batch(_strictly_lower(program, matrix)), "L")
    o = program.materialize(lower - transposed(
        program, lower, tuple(range(rank - 2)) + (rank - 1, rank - 2)
        + forward.batch_axes(rank), f"{lower.name}_T"), "O")
    name = f"{step.target.name}_tangent"
    if step.op is QR:
        return tangent_product(forward, q, program.materialize(
            o - x, "O_X"), name) + d_r_inv
    return tangent_product(forward, program.materialize(x - o, "X_O"), r,
                           name)


def _qr_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (matrix,) = step.operands
    program = backward.program
    q, r = _parts(program, matrix)
    r_inv_t = transpose(program, inverse(program, r))
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    if step.op is QR:
        w = matmul(program, transpose(program, q), full, "W")
    else:
        w = -matmul(program, full, transpose(program, r), "W")
    w = program.materialize(w, "W")
    c = program.materialize(
        (w - transpose(program, w)) * _strictly_lower(program, matrix) - w,
        "C")
    through_q = matmul(program, q, c, "Q_C")
    if step.op is QR:
        through_q = full + through_q
    backward.contribute(matrix, matmul(
        program, program.materialize(through_q, "G_Q_C"), r_inv_t,
        f"d_{matrix.name}"))


def _spell(index: int) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return ast.Subscript(call("np.linalg.qr", args), ast.Constant(index),
                             ast.Load())
    return spell


QR = ArrayOp("qr", numpy=("linalg.qr",), lower=_lower_qr, vjp=_qr_vjp,
             jvp=_qr_jvp, spell=_spell(0), any_size=True)
QR_R = ArrayOp("qr R", vjp=_qr_vjp, jvp=_qr_jvp, spell=_spell(1),
               any_size=True)
