"""Rows of the array table for matrix functions and decompositions:
``np.linalg.det``, ``slogdet``, ``inv``, ``solve`` and ``cholesky``.

Gradients are written with NumPy's own calls on whole matrices, as in
autograd and JAX: ``det * inv(A).T``, ``-inv.T @ g @ inv.T``, one more
``solve`` with ``A.T``. ``slogdet``'s sign is a constant (its derivative
is zero wherever it is defined). ``cholesky`` reads only the lower
triangle of its input; its gradient is JAX's, which symmetrises the input
first: ``(S + S.T) / 2`` (Murray, arXiv:1602.07527), so it is the
gradient along symmetric perturbations, the only ones that stay inside
cholesky's domain. Each takes a stack of matrices too (shape (..., n, n)),
as NumPy does; the gradients' transposes and products are then per
matrix.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

import sympy as sp

from ._ops_core import transposed
from ._ops_create import EYE
from ._ops_index import GETITEM
from ._ops_einsum import einsum
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
    return run.materialize(array, node)


def _product(program: Any, left: sp.Symbol, right: sp.Symbol,
             name: str) -> sp.Symbol:
    """``left @ right``, of matrices or of stacks of them."""
    sa, sb = program.leaves[left].shape, program.leaves[right].shape
    if len(sa) == len(sb) == 2:
        return program.add(DOT, (left, right), sa[:-1] + sb[1:], name,
                           style="@")
    return einsum(program, "...ij,...jk->...ik", (left, right), name,
                  call="@")


def _inverse(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    return program.add(INV, (matrix,), program.leaves[matrix].shape,
                       f"inv_{matrix.name}")


def _transpose(program: Any, matrix: sp.Symbol) -> sp.Symbol:
    """The matrix transposed (each of a stack of them)."""
    ndim = len(program.leaves[matrix].shape)
    axes = None if ndim == 2 else tuple(range(ndim - 2)) + (ndim - 1,
                                                            ndim - 2)
    return transposed(program, matrix, axes, f"{matrix.name}_T")


def _per_matrix(program: Any, value: sp.Expr, name: str) -> sp.Expr:
    """A value per matrix of a stack (shape (...,)) as (..., 1, 1), to
    broadcast against the matrices; a number as it is."""
    shape = program.shape(value)
    if not shape:
        return value
    source = program.materialize(value, name)
    return program.add(GETITEM, (source,), shape + (1, 1),
                       f"{source.name}_each", index=(Ellipsis, None, None))


def _spelled(spelling: str) -> Any:
    return lambda step, args, name: call(spelling, args)


# -- det and slogdet ----------------------------------------------------------

def _lower_det(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = _matrix(run, a, node, "np.linalg.det")
    return run.program.add(DET, (matrix,),
                           run.program.leaves[matrix].shape[:-2],
                           f"det_{matrix.name}")


def _det_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d det(A) / dA = det(A) * inv(A).T (Jacobi's formula)."""
    (matrix,) = step.operands
    program = backward.program
    inverse_t = _transpose(program, _inverse(program, matrix))
    backward.contribute(matrix, _per_matrix(
        program, adjoint * step.target, f"d_{matrix.name}") * inverse_t)


class SlogdetResult(NamedTuple):
    """What ``np.linalg.slogdet`` returns, read by index or by name."""

    sign: Any
    logabsdet: Any


def _lower_slogdet(run: Any, a: Any, *, node: ast.AST) -> Any:
    matrix = _matrix(run, a, node, "np.linalg.slogdet")
    shape = run.program.leaves[matrix].shape[:-2]
    sign = run.program.add(SLOGDET_SIGN, (matrix,), shape,
                           f"sign_{matrix.name}")
    logdet = run.program.add(SLOGDET, (matrix,), shape,
                             f"logdet_{matrix.name}")
    return SlogdetResult(sign, logdet)


def _slogdet_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d log|det(A)| / dA = inv(A).T."""
    (matrix,) = step.operands
    program = backward.program
    inverse_t = _transpose(program, _inverse(program, matrix))
    backward.contribute(matrix, _per_matrix(
        program, adjoint, f"d_{step.target.name}") * inverse_t)


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
    n = shape[-1]
    eye = program.add(EYE, (), (n, n), "eye", rows=n, columns=None, k=None,
                      dtype=None)
    phi = program.materialize(projected / (1 + eye), "phi")
    inverse = _inverse(program, factor)
    inner = _product(program, _transpose(program, inverse), phi, "S_left")
    s = _product(program, inner, inverse, "S")
    backward.contribute(matrix, (s + _transpose(program, s)) / 2)


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
