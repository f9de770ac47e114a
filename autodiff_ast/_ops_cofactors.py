"""The row of the array table for a matrix's cofactors: the gradient of
``np.linalg.det``, ``det(A) * inv(A).T`` (Jacobi's formula) wherever
``A`` is invertible, and defined (as JAX defines it) where it is not.

Its code tests the determinant the forward pass computed: where it is
not 0 (NumPy's inv then succeeds: both factor A by the same LU), Jacobi's
formula, one inverse as before; else the cofactors from the SVD ``A = U
diag(s) Vh``: ``det(U @ Vh) * U @ diag(p) @ Vh``, ``p[i]`` the product of
the singular values other than ``s[i]`` (all 0 where the rank is below n
- 1). The SVD costs 2.5-3.5 times an inverse (n = 3 to 100), and runs
only for a singular matrix.

Its derivatives are written with the cofactors C and the determinant d
alone, as ``inv(A) = C.T / d``: ``dC = (C * <C, dA> - C @ dA.T @ C) /
d``, which is nan (NumPy warns of a division by zero) where A is
singular: the cofactors are differentiable there, but this formula is not
their derivative (the second derivative of det at a singular matrix).
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._matrices import matmul, per_matrix, stack_letters, transpose
from ._ops_core import SUM
from ._ops_einsum import batch_letters, contract
from ._program import ArrayOp, Step, unique_name
from ._spell import call

__all__ = ["COFACTORS", "cofactors"]


def cofactors(program: Any, matrix: sp.Symbol,
              det: sp.Symbol) -> sp.Symbol:
    """The cofactors of ``matrix`` (a step, one for each matrix), whose
    determinant is ``det``."""
    for step in program.steps:
        if step.op is COFACTORS and step.operands[:2] == (matrix, det):
            return step.target
    names = []
    for part in ("svd", "others"):  # the singular case's values
        names.append(unique_name(f"{part}_{matrix.name}", program.names))
        program.reserve(names[-1])
    shape = program.leaves[matrix].shape
    # det twice: the code reads it twice (the test and the formula), so
    # it is written as a name, not as a call inlined in each.
    return program.add(COFACTORS, (matrix, det, det), shape,
                       f"cofactors_{matrix.name}", names=tuple(names),
                       stacked=len(shape) > 2)


def _spell(step: Step, args: list[ast.expr], name: str) -> list[ast.stmt]:
    matrix, det = args[0], args[1]
    svd, others = (ast.Name(n, ast.Load()) for n in step.option("names"))
    stacked = step.option("stacked")

    def index(value: ast.expr, *items: Any) -> ast.expr:
        # (None: a whole axis, ':'; "new": an axis of 1, None)
        key = [ast.Slice() if item is None else ast.Constant(
            None if item == "new" else item) for item in items]
        return ast.Subscript(value, key[0] if len(key) == 1 else ast.Tuple(
            key, ast.Load()), ast.Load())

    def each(value: ast.expr) -> ast.expr:  # one per matrix of a stack
        return index(value, Ellipsis, "new", "new") if stacked else value

    def assign(target: ast.Name, value: ast.expr) -> ast.stmt:
        return ast.Assign([ast.Name(target.id, ast.Store())], value, None)

    u, s, vh = (index(svd, k) for k in range(3))
    inverse = call("np.linalg.inv", [matrix])
    inverse_t = (call("np.swapaxes", [inverse, ast.Constant(-1),
                                      ast.Constant(-2)]) if stacked
                 else ast.Attribute(inverse, "T", ast.Load()))
    nonzero = ast.Compare(det, [ast.NotEq()], [ast.Constant(0)])
    target = ast.Name(name, ast.Load())
    regular = assign(target, ast.BinOp(each(det), ast.Mult(), inverse_t))
    size = index(ast.Attribute(s, "shape", ast.Load()), -1)
    row = index(s, Ellipsis, "new", None)
    products = call("np.prod", [call("np.where", [
        call("np.eye", [size], dtype=ast.Name("bool", ast.Load())),
        ast.Constant(1.0), row])], axis=-1)
    sign = call("np.linalg.det", [ast.BinOp(u, ast.MatMult(), vh)])
    scaled = ast.BinOp(u, ast.Mult(), index(others, Ellipsis, "new", None)
                       if stacked else others)
    singular = [
        assign(svd, call("np.linalg.svd", [matrix])),
        assign(others, products),
        assign(target, ast.BinOp(ast.BinOp(each(sign), ast.Mult(), scaled),
                                 ast.MatMult(), vh))]
    return [ast.If(call("np.all", [nonzero]) if stacked else nonzero,
                   [regular], singular)]


def _jvp(forward: Any, step: Step) -> sp.Expr:
    """dC = (C * <C, dA> - C @ dA.T @ C) / det."""
    matrix, det, _ = step.operands
    program = forward.program
    c = step.target
    tangent = forward.full_tangent(matrix)
    if not forward.batch and not step.option("stacked"):
        inner = program.add(SUM, (program.materialize(
            c * tangent, f"{c.name}_times_tangent"),), (),
            f"{c.name}_inner", axis=None, keepdims=False)
        across = matmul(program, matmul(program, c, transpose(
            program, tangent), f"{c.name}_dT"), c, f"{c.name}_dT_C")
        return (c * inner - across) / det
    lead = stack_letters(program, matrix)
    batch = batch_letters(len(forward.batch), ["ijkl"])
    inner = contract(program, f"{lead}ij,{lead}kl,{lead}kl{batch}->"
                              f"{lead}ij{batch}", (c, c, tangent),
                     f"{c.name}_inner", optimize=True)
    across = contract(program, f"{lead}ik,{lead}lk{batch},{lead}lj->"
                               f"{lead}ij{batch}", (c, tangent, c),
                      f"{c.name}_dT_C", optimize=True)
    return (inner - across) / forward.along_batch(
        per_matrix(program, det, f"{det.name}_each"))


def _vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """A's adjoint is (C * <G, C> - C @ G.T @ C) / det."""
    matrix, det, _ = step.operands
    program = backward.program
    c = step.target
    shape = program.leaves[c].shape
    full = backward.full(adjoint, shape, f"d_{c.name}")
    lead = stack_letters(program, matrix)
    inner = contract(program, f"{lead}ij,{lead}ij->{lead}",
                     (full, c), f"{c.name}_inner")
    across = matmul(program, matmul(program, c, transpose(program, full),
                                    f"{c.name}_GT"), c, f"{c.name}_GT_C")
    backward.contribute(matrix, (c * per_matrix(program, inner, "inner")
                                 - across)
                        / per_matrix(program, det, f"{det.name}_each"))


COFACTORS = ArrayOp("cofactors", vjp=_vjp, jvp=_jvp, spell=_spell,
                    statement=True, any_size=True)
