"""Rows of the array table for matrix functions and decompositions:
``np.linalg.det``, ``slogdet``, ``inv``, ``solve`` and ``cholesky``, and
``matrix_power``, which is products of its matrix (or its inverse).

Gradients are written with NumPy's own calls on whole matrices, as in
autograd and JAX: det's cofactors (``det * inv(A).T`` where A is
invertible, ``_ops_cofactors``; Jacobi's formula itself where the adjoint
divides by det, as log(det) does), ``-inv.T @ g @ inv.T``, one more
``solve`` with ``A.T``. ``slogdet``'s sign is a constant (its derivative
is zero wherever it is defined). ``cholesky`` reads only the lower
triangle of its input; its gradient is JAX's, which symmetrises the input
first: ``(S + S.T) / 2`` (Murray, arXiv:1602.07527), so it is the
gradient along symmetric perturbations, the only ones that stay inside
cholesky's domain. Each takes a stack of matrices too (shape (..., n, n)),
as NumPy does; the gradients' transposes and products are then per
matrix.

Tangents (forward mode: jvp, jacobian, hessian) are the textbook ones:
``sum(cofactors * dA)``, ``-inv @ dA @ inv``, ``solve(A, db - dA @
x)``, ``L @ phi(inv(L) @ dA @ inv(L).T)`` (dA symmetrised, as for the
gradient; phi is a product with a mask, so that a Hessian can
differentiate the gradient's phi again). A batch of tangents has its
axes after each matrix's (``dA`` of shape (..., n, n) + batch), where
``@`` and ``solve`` would take them for matrix axes, so a batch is
contracted by einsum (or folded into the columns of ``solve``'s ``b``).
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from ._matrices import (masked_congruence, matmul, per_matrix, spelled,
                        square_matrix, stack_letters, transpose)
from ._ops_cofactors import COFACTORS, cofactors
from ._ops_core import RESHAPE, SUM, TRANSPOSE
from ._ops_cov import COV
from ._ops_create import EYE, ONES
from ._ops_index import GETITEM
from ._ops_einsum import (EINSUM, batch_letters, contract, einsum, parse,
                          written)
from ._ops_eigen import EIGH, EIGH_VECTORS, EIGVALSH
from ._ops_inverse import INV, inverse
from ._ops_inverse_limit import INVERSE_LIMIT, inverse_or_limit
from ._ops_linalg import DOT
from ._ops_lstsq import LSTSQ
from ._ops_pinv import PINV
from ._ops_qr import QR, QR_R
from ._ops_svd import SVD, SVD_U, SVD_VH
from ._ops_triangular import solve_residual
from ._ops_shape import TRIL
from ._program import ArrayOp, Step
from ._spell import call

# The rows of inv, cofactors, eigenproblems, the SVD, the pseudo-inverse,
# least squares, QR and np.cov are defined in _ops_inverse,
# _ops_cofactors, _ops_eigen, _ops_svd, _ops_pinv, _ops_lstsq, _ops_qr and
# _ops_cov, and listed here, with the decompositions, for the array table.
__all__ = ["DET", "SLOGDET", "SLOGDET_SIGN", "INV", "SOLVE", "CHOLESKY",
           "MATRIX_POWER", "COFACTORS", "EIGVALSH", "EIGH", "EIGH_VECTORS",
           "SVD", "SVD_U", "SVD_VH", "PINV", "COV", "QR", "QR_R", "LSTSQ",
           "INVERSE_LIMIT"]


def _inverse_reused(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """inv(matrix), written inv(A).T where the matrix is A.T (so that a
    program with inv(A) and solve(A.T, ...) computes one inverse)."""
    step = program.definition().get(matrix)
    if step is not None and step.op is TRANSPOSE and \
            step.option("axes") is None and len(
                program.leaves[matrix].shape) == 2:
        return transpose(program, inverse(program, step.operands[0]))
    return inverse(program, matrix)


def _trace_of_inverse_times(forward: Any, matrix: sp.Symbol,
                            sign: sp.Symbol) -> sp.Symbol:
    """trace(inv(A) @ dA) for each matrix of the stack and each tangent of
    the batch, the tangent of log|det A|: an einsum of inv(A).T and dA,
    with the inverse's limit where A is singular (its slogdet ``sign``
    0), where solve(A, dA) would raise."""
    program = forward.program
    batch = batch_letters(len(forward.batch), ["ij"])
    lead = stack_letters(program, matrix)
    return contract(program, f"{lead}ji,{lead}ij{batch}->{lead}{batch}",
                    (inverse_or_limit(program, matrix, sign),
                     forward.full_tangent(matrix)),
                    f"trace_inv_{matrix.name}_tangent")


# -- det and slogdet ----------------------------------------------------------

def _lower_det(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = square_matrix(run, a, node, "np.linalg.det")
    return run.program.add(DET, (matrix,),
                           run.program.leaves[matrix].shape[:-2],
                           f"det_{matrix.name}")


def _det_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d det(A) / dA is the matrix of cofactors: det(A) * inv(A).T
    (Jacobi's formula) where A is invertible. An adjoint divided by det
    (of log(det(A)), of 1 / det(A)) takes Jacobi's formula, where det
    cancels: log(det)'s gradient is inv(A).T, and is infinite anyway where
    A is singular."""
    (matrix,) = step.operands
    program = backward.program
    det = step.target
    _, denominator = sp.fraction(sp.together(adjoint))
    if denominator.has(det):
        inverse_t = transpose(program, inverse(program, matrix))
        backward.contribute(matrix, per_matrix(
            program, sp.cancel(adjoint * det), f"d_{matrix.name}")
            * inverse_t)
        return
    backward.contribute(matrix, per_matrix(
        program, adjoint, f"d_{matrix.name}") * cofactors(
            program, matrix, det))


def _det_jvp(forward: Any, step: Step) -> sp.Expr:
    """d det(A) = <cofactors(A), dA>: det(A) * trace(inv(A) @ dA) where A
    is invertible (Jacobi's formula)."""
    (matrix,) = step.operands
    program = forward.program
    factors = cofactors(program, matrix, step.target)
    tangent = forward.full_tangent(matrix)
    if not forward.batch and len(forward.shape(matrix)) == 2:
        return program.add(SUM, (program.materialize(
            factors * tangent, f"{factors.name}_times_tangent"),), (),
            f"{step.target.name}_tangent", axis=None, keepdims=False)
    batch = batch_letters(len(forward.batch), ["ij"])
    lead = stack_letters(program, matrix)
    return contract(program, f"{lead}ij,{lead}ij{batch}->{lead}{batch}",
                    (factors, tangent), f"{step.target.name}_tangent")


class SlogdetResult(NamedTuple):
    """What ``np.linalg.slogdet`` returns, read by index or by name."""

    sign: Any
    logabsdet: Any


def _lower_slogdet(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = square_matrix(run, a, node, "np.linalg.slogdet")
    shape = run.program.leaves[matrix].shape[:-2]
    sign = run.program.add(SLOGDET_SIGN, (matrix,), shape,
                           f"sign_{matrix.name}")
    logdet = run.program.add(SLOGDET, (matrix,), shape,
                             f"logdet_{matrix.name}")
    return SlogdetResult(sign, logdet)


def _slogdet_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d log|det(A)| / dA = inv(A).T; where A is singular (the sign 0),
    its limit, +-inf (``_ops_inverse_limit``)."""
    (matrix,) = step.operands
    program = backward.program
    inverse_t = transpose(program, inverse_or_limit(
        program, matrix, _sign(program, step)))
    backward.contribute(matrix, per_matrix(
        program, adjoint, f"d_{step.target.name}") * inverse_t)


def _slogdet_jvp(forward: Any, step: Step) -> sp.Expr:
    """d log|det(A)| = trace(inv(A) @ dA); the sign's tangent is zero."""
    return _trace_of_inverse_times(forward, step.operands[0],
                                   _sign(forward.program, step))


def _sign(program: Any, step: Step) -> sp.Symbol:
    """The sign of the slogdet ``step`` (0 where its matrix is singular)."""
    (matrix,) = step.operands
    for other in program.steps:
        if other.op is SLOGDET_SIGN and other.operands == (matrix,):
            return other.target
    return program.add(SLOGDET_SIGN, (matrix,),
                       program.leaves[step.target].shape,
                       f"sign_{matrix.name}")


def _spell_part(index: int) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return ast.Subscript(call("np.linalg.slogdet", args),
                             ast.Constant(index), ast.Load())
    return spell


# -- solve --------------------------------------------------------------------

def _lower_solve(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    matrix = square_matrix(run, a, node, "np.linalg.solve")
    stack = run.program.leaves[matrix].shape[:-2]
    n = run.program.leaves[matrix].shape[-1]
    rhs = run.number(b, node)
    shape = run.shape(rhs, node)
    # NumPy 1 and 2 read b alike when it is a vector for one matrix or a
    # matrix for each (they differ on a stack of vectors).
    if shape[:-2] != stack or len(shape) not in ((1, 2) if not stack
                                                 else (len(stack) + 2,)):
        wanted = ("(n,) or (n, k)" if not stack
                  else f"({', '.join(map(str, stack))}, n, k)")
        raise run.error(node, f"np.linalg.solve: b of shape {shape} is not "
                              f"supported here for matrices of shape "
                              f"{run.program.leaves[matrix].shape}: pass b "
                              f"of shape {wanted}")
    if shape[len(stack)] != n:
        raise run.error(node, f"np.linalg.solve: b has {shape[len(stack)]} "
                              f"rows but the matrix is {n} x {n}: they must "
                              "match")
    rhs = run.materialize(rhs, node, "b")
    return run.program.add(SOLVE, (matrix, rhs), shape,
                           f"solve_{matrix.name}_{rhs.name}")


def _solve_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """x = solve(A, b): b's adjoint is solve(A.T, g), A's is minus that
    times x.T."""
    matrix, rhs = step.operands
    program = backward.program
    shape = program.leaves[rhs].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    d_rhs = program.add(SOLVE, (transpose(program, matrix), full), shape,
                        f"d_{rhs.name}")
    if rhs in backward.active:  # not a constant (np.arange) with no rule
        backward.contribute(rhs, d_rhs)
    if matrix not in backward.active:
        return
    if len(shape) == 1:  # an outer product, by broadcasting
        column = program.add(GETITEM, (d_rhs,), shape + (1,),
                             f"{d_rhs.name}_column",
                             index=(slice(None), None))
        backward.contribute(matrix, -column * step.target,
                            program.leaves[matrix].shape)
    else:
        backward.contribute(matrix, -matmul(
            program, d_rhs, transpose(program, step.target),
            f"d_{matrix.name}"))


def _solve_jvp(forward: Any, step: Step) -> sp.Expr:
    """x = solve(A, b): dx = solve(A, db - dA @ x)."""
    matrix, _ = step.operands
    program = forward.program
    solution = step.target
    residual = solve_residual(
        forward, step, lambda: _tangent_times(forward, matrix, solution))
    shape = forward.shape(solution) + forward.batch
    name = f"{solution.name}_tangent"
    vector = len(forward.shape(solution)) == 1
    if not forward.batch or (vector and len(forward.batch) == 1):
        # b's axes and the batch's make one vector or matrix per matrix
        return program.add(SOLVE, (matrix, program.materialize(
            residual, f"{solution.name}_rhs")), shape, name)
    solved = []
    rest = []
    for term in sp.Add.make_args(residual):
        by_inverse = _rows_by_inverse(program, matrix, term, name)
        if by_inverse is None:
            rest.append(term)
        else:
            solved.append(by_inverse)
    if rest:
        solved.append(_solved_by_columns(forward, step, program.materialize(
            sp.Add(*rest), f"{solution.name}_rhs"), name))
    return sp.Add(*solved)


def _solved_by_columns(forward: Any, step: Step, residual: sp.Symbol,
                       name: str) -> sp.Symbol:
    """solve(A, residual) for a residual of shape b.shape + batch: b's
    columns and the batch's tangents as the columns of one matrix (per
    matrix of the stack), and back."""
    matrix, rhs = step.operands
    program = forward.program
    shape = forward.shape(step.target) + forward.batch
    rows = len(forward.shape(matrix)) - 1
    flat = program.add(RESHAPE, (residual,), shape[:rows] + (int(np.prod(
        shape[rows:])),), "columns",
        shape=program.shape_of(rhs)[:rows] + (-1,))
    solved = program.add(SOLVE, (matrix, flat), program.leaves[flat].shape,
                         "solved")
    active = rhs if rhs in forward.tangent else matrix
    batch = program.shape_of(forward.full_tangent(active))[
        len(forward.shape(active)):]
    return program.add(RESHAPE, (solved,), shape, name,
                       shape=program.shape_of(rhs) + batch)


def _rows_by_inverse(program: Any, matrix: sp.Symbol, term: sp.Expr,
                     name: str) -> sp.Expr | None:
    """solve(A, term) where only an np.eye carries the term's rows (an
    einsum a Jacobian's seed was contracted into, as dA @ x): the einsum
    with solve(A, I), that is inv(A), for the eye; else None."""
    if len(program.leaves[matrix].shape) != 2:
        return None
    coefficient, value = term.as_coeff_Mul()
    step = program.definition().get(value)
    if step is None or step.op is not EINSUM:
        return None
    parsed = parse(step.option("subscripts"),
                   [program.leaves[o].shape for o in step.operands])
    row = parsed.output[0]
    holders = [k for k, t in enumerate(parsed.inputs) if row in t]
    if len(holders) != 1:
        return None
    (k,) = holders
    eye = program.definition().get(step.operands[k])
    if eye is None or eye.op is not EYE or eye.option("k") or \
            eye.option("columns") is not None or len(parsed.inputs[k]) != 2 \
            or len(set(parsed.inputs[k])) != 2:
        return None
    inputs = list(parsed.inputs)
    inputs[k] = row + inputs[k].replace(row, "")  # the eye is symmetric
    operands = list(step.operands)
    operands[k] = _inverse_reused(program, matrix)
    return coefficient * einsum(
        program, written(inputs, parsed.output, parsed.ellipsis), operands,
        name, optimize=step.option("optimize"))


def _tangent_times(forward: Any, matrix: sp.Symbol,
                   solution: sp.Symbol) -> sp.Symbol:
    """dA @ x, for each tangent of the batch."""
    program = forward.program
    tangent = forward.full_tangent(matrix)
    name = f"{tangent.name}_{solution.name}"
    if len(forward.shape(solution)) == 1:
        if not forward.batch:
            return program.add(DOT, (tangent, solution),
                               forward.shape(solution), name, style="@")
        batch = batch_letters(len(forward.batch), ["ij"])
        return contract(program, f"ij{batch},j->i{batch}",
                        (tangent, solution), name)
    if not forward.batch:
        return matmul(program, tangent, solution, name)
    batch = batch_letters(len(forward.batch), ["ijk"])
    lead = stack_letters(program, matrix)
    return contract(program, f"{lead}ij{batch},{lead}jk->{lead}ik{batch}",
                    (tangent, solution), name)


# -- cholesky -----------------------------------------------------------------

def _lower_cholesky(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = square_matrix(run, a, node, "np.linalg.cholesky")
    return run.program.add(CHOLESKY, (matrix,),
                           run.program.leaves[matrix].shape,
                           f"chol_{matrix.name}")


def _cholesky_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """S = inv(L).T @ phi(L.T @ g) @ inv(L), where phi keeps the lower
    triangle and halves the diagonal; A's adjoint is (S + S.T) / 2."""
    (matrix,) = step.operands
    program = backward.program
    shape = program.leaves[matrix].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    factor = step.target
    phi = program.materialize(matmul(
        program, transpose(program, factor), full, "P")
        * _tril_halved(program, matrix), "phi")
    inverted = inverse(program, factor)
    inner = matmul(program, transpose(program, inverted), phi, "S_left")
    s = matmul(program, inner, inverted, "S")
    backward.contribute(matrix, (s + transpose(program, s)) / 2)


def _tril_halved(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """The mask that makes phi a product: ones below the diagonal, halves
    on it, zeros above. (np.tril of a tangent would need a forward rule
    of its own, and its batch axes moved out of the last two places.)"""
    shape = program.leaves[matrix].shape
    n = program.size(matrix, len(shape) - 1)
    square = shape[-2:]
    ones = program.add(ONES, (), square, "ones", shape=(n, n), dtype=None)
    lower = program.add(TRIL, (ones,), square, "lower", k=0)
    eye = program.add(EYE, (), square, "eye", rows=n, columns=None, k=None,
                      dtype=None)
    return program.materialize(lower - eye / 2, "tril_halved")


def _cholesky_jvp(forward: Any, step: Step) -> sp.Expr:
    """dL = L @ phi(inv(L) @ dS @ inv(L).T), with dS = (dA + dA.T) / 2:
    along the symmetric part of dA, as the gradient (and JAX) take it."""
    (matrix,) = step.operands
    factor = step.target
    return masked_congruence(
        forward, matrix, factor, inverse(forward.program, factor), False,
        lambda: _tril_halved(forward.program, matrix), "phi",
        f"{factor.name}_tangent")


DET = ArrayOp("det", numpy=("linalg.det",), lower=_lower_det, vjp=_det_vjp,
              jvp=_det_jvp, spell=spelled("np.linalg.det"), any_size=True)
SLOGDET = ArrayOp("slogdet", numpy=("linalg.slogdet",), lower=_lower_slogdet,
                  vjp=_slogdet_vjp, jvp=_slogdet_jvp, spell=_spell_part(1),
                  any_size=True)
# slogdet's sign: piecewise constant, so no gradient flows through it.
SLOGDET_SIGN = ArrayOp("slogdet sign", spell=_spell_part(0),
                       stops_gradient=True, any_size=True)
def _lower_matrix_power(run: Any, a: Any, n: Any, *, node: ast.AST) -> Any:
    # By squaring, as NumPy computes it: a ** 5 is (a @ a) @ (a @ a) @ a,
    # so a derivative runs through three products, not four.
    matrix = square_matrix(run, a, node, "np.linalg.matrix_power")
    power = run.integer(n, node, "the power")
    program = run.program
    if power == 0:
        if len(program.leaves[matrix].shape) > 2:
            raise run.error(node, "np.linalg.matrix_power(a, 0) of a stack "
                                  "of matrices is not supported: its value "
                                  "is the identity, a constant")
        return program.add(EYE, (), program.leaves[matrix].shape, "eye",
                           rows=program.size(matrix, 0), columns=None,
                           k=None, dtype=None)
    base = inverse(program, matrix) if power < 0 else matrix
    result = None
    power = abs(power)
    while power:
        if power & 1:
            result = base if result is None else matmul(
                program, result, base, f"{matrix.name}_power")
        power >>= 1
        if power:
            base = matmul(program, base, base, f"{matrix.name}_power")
    return result


MATRIX_POWER = ArrayOp("matrix_power", numpy=("linalg.matrix_power",),
                       lower=_lower_matrix_power)
SOLVE = ArrayOp("solve", numpy=("linalg.solve",), lower=_lower_solve,
                vjp=_solve_vjp, jvp=_solve_jvp,
                spell=spelled("np.linalg.solve"), any_size=True)
CHOLESKY = ArrayOp("cholesky", numpy=("linalg.cholesky",),
                   lower=_lower_cholesky, vjp=_cholesky_vjp,
                   jvp=_cholesky_jvp,
                   spell=spelled("np.linalg.cholesky"),
                   any_size=True)
