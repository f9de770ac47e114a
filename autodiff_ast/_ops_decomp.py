"""Rows of the array table for matrix functions and decompositions:
``np.linalg.det``, ``slogdet``, ``inv``, ``solve`` and ``cholesky``.

Gradients are written with NumPy's own calls on whole matrices, as in
autograd and JAX: ``det * inv(A).T``, ``-inv.T @ g @ inv.T``, one more
``solve`` with ``A.T``. ``slogdet``'s sign is a constant (its derivative
is zero wherever it is defined). ``cholesky`` reads only the lower
triangle of its input; its gradient is JAX's, which symmetrises the input
first: ``(S + S.T) / 2`` (Murray, arXiv:1602.07527), so it is the
gradient along symmetric perturbations, the only ones that stay inside
cholesky's domain.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

import sympy as sp

from ._ops_core import TRANSPOSE, transposed
from ._ops_create import EYE
from ._ops_index import GETITEM
from ._ops_linalg import DOT
from ._ops_shape import TRIL
from ._program import ArrayOp, Step
from ._spell import call

__all__ = ["DET", "SLOGDET", "SLOGDET_SIGN", "INV", "SOLVE", "CHOLESKY"]


def _matrix(run: Any, a: Any, node: ast.AST, spelled: str) -> sp.Symbol:
    """``a`` as a symbol holding one square matrix, or the error NumPy
    gives (and, for a stack of matrices, the way round it)."""
    array = run.number(a, node)
    shape = run.shape(array, node)
    if len(shape) < 2:
        raise run.error(node, f"{spelled}: {len(shape)}-dimensional array "
                              "given. Array must be at least two-"
                              "dimensional")
    if shape[-1] != shape[-2]:
        raise run.error(node, f"{spelled}: last 2 dimensions of the array "
                              f"must be square (the shape is {shape})")
    if len(shape) > 2:
        raise run.error(node, f"{spelled} of a stack of matrices (shape "
                              f"{shape}) is not supported yet: call it on "
                              "each matrix (a list comprehension over the "
                              "first axis)")
    return run.materialize(array, node)


def _product(program: Any, left: sp.Symbol, right: sp.Symbol,
             name: str) -> sp.Symbol:
    shape = program.leaves[left].shape[:-1] + program.leaves[right].shape[1:]
    return program.add(DOT, (left, right), shape, name, style="@")


def _inverse(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    return program.add(INV, (matrix,), program.leaves[matrix].shape,
                       f"inv_{matrix.name}")


def _transpose(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    return transposed(program, matrix, None, f"{matrix.name}_T")


def _spelled(spelling: str) -> Any:
    return lambda step, args, name: call(spelling, args)


# -- det and slogdet ----------------------------------------------------------

def _lower_det(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = _matrix(run, a, node, "np.linalg.det")
    return run.program.add(DET, (matrix,), (), f"det_{matrix.name}")


def _det_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d det(A) / dA = det(A) * inv(A).T (Jacobi's formula)."""
    (matrix,) = step.operands
    program = backward.program
    inverse_t = _transpose(program, _inverse(program, matrix))
    backward.contribute(matrix, adjoint * step.target * inverse_t)


class SlogdetResult(NamedTuple):
    """What ``np.linalg.slogdet`` returns, read by index or by name."""

    sign: Any
    logabsdet: Any


def _lower_slogdet(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = _matrix(run, a, node, "np.linalg.slogdet")
    sign = run.program.add(SLOGDET_SIGN, (matrix,), (), f"sign_{matrix.name}")
    logdet = run.program.add(SLOGDET, (matrix,), (), f"logdet_{matrix.name}")
    return SlogdetResult(sign, logdet)


def _slogdet_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d log|det(A)| / dA = inv(A).T."""
    (matrix,) = step.operands
    program = backward.program
    inverse_t = _transpose(program, _inverse(program, matrix))
    backward.contribute(matrix, adjoint * inverse_t)


def _spell_part(index: int) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return ast.Subscript(call("np.linalg.slogdet", args),
                             ast.Constant(index), ast.Load())
    return spell


# -- inv and solve ------------------------------------------------------------

def _lower_inv(run: Any, a: Any, *, node: ast.AST) -> Any:
    return _inverse(run.program, _matrix(run, a, node, "np.linalg.inv"))


def _inv_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d inv(A) = -inv(A) dA inv(A), so A's adjoint is
    -inv.T @ g @ inv.T."""
    (matrix,) = step.operands
    program = backward.program
    shape = program.leaves[matrix].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    inverse_t = _transpose(program, step.target)
    left = _product(program, inverse_t, full, f"{inverse_t.name}_d")
    backward.contribute(matrix, -_product(program, left, inverse_t,
                                          f"d_{matrix.name}"))


def _lower_solve(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    matrix = _matrix(run, a, node, "np.linalg.solve")
    n = run.program.leaves[matrix].shape[0]
    rhs = run.number(b, node)
    shape = run.shape(rhs, node)
    if len(shape) not in (1, 2):
        raise run.error(node, f"np.linalg.solve: b of shape {shape} is not "
                              "supported here: pass a vector (n,) or a "
                              "matrix (n, k) of right-hand sides")
    if shape[0] != n:
        raise run.error(node, f"np.linalg.solve: b has {shape[0]} rows but "
                              f"the matrix is {n} x {n}: they must match")
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
    d_rhs = program.add(SOLVE, (_transpose(program, matrix), full), shape,
                        f"d_{rhs.name}")
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
        backward.contribute(matrix, -_product(
            program, d_rhs, _transpose(program, step.target),
            f"d_{matrix.name}"))


# -- cholesky -----------------------------------------------------------------

def _lower_cholesky(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = _matrix(run, a, node, "np.linalg.cholesky")
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
    projected = program.add(TRIL, (_product(
        program, _transpose(program, factor), full, "P"),), shape, "P_tril",
        k=0)
    eye = program.add(EYE, (), shape, "eye", rows=shape[0], columns=None,
                      k=None, dtype=None)
    phi = program.materialize(projected / (1 + eye), "phi")
    inverse = _inverse(program, factor)
    inner = _product(program, _transpose(program, inverse), phi, "S_left")
    s = _product(program, inner, inverse, "S")
    backward.contribute(matrix, (s + program.add(
        TRANSPOSE, (s,), shape, "S_T", axes=None)) / 2)


DET = ArrayOp("det", numpy=("linalg.det",), lower=_lower_det, vjp=_det_vjp,
              spell=_spelled("np.linalg.det"), any_size=True)
SLOGDET = ArrayOp("slogdet", numpy=("linalg.slogdet",), lower=_lower_slogdet,
                  vjp=_slogdet_vjp, spell=_spell_part(1), any_size=True)
# slogdet's sign: piecewise constant, so no gradient flows through it.
SLOGDET_SIGN = ArrayOp("slogdet sign", spell=_spell_part(0),
                       stops_gradient=True, any_size=True)
INV = ArrayOp("inv", numpy=("linalg.inv",), lower=_lower_inv, vjp=_inv_vjp,
              spell=_spelled("np.linalg.inv"), any_size=True)
SOLVE = ArrayOp("solve", numpy=("linalg.solve",), lower=_lower_solve,
                vjp=_solve_vjp, spell=_spelled("np.linalg.solve"),
                any_size=True)
CHOLESKY = ArrayOp("cholesky", numpy=("linalg.cholesky",),
                   lower=_lower_cholesky, vjp=_cholesky_vjp,
                   spell=_spelled("np.linalg.cholesky"),
                   any_size=True)
