"""Array operations for SciPy's triangular solves, recognised by
``_ops_scipy``: ``scipy.linalg.solve_triangular`` (``lower=``,
``trans=``) and ``scipy.linalg.cho_solve((c, lower), b)``, which is two of
them, as SciPy computes it and as Gaussian-process code writes it
(the factors come from ``_ops_cholesky``).

solve_triangular reads one triangle of its matrix (the other is never
looked at), so its matrix's adjoint is that triangle of the usual
``-solve(op(T).T, g) @ x.T``, and its tangent reads that triangle of the
matrix's tangent. The derivatives are triangular solves again, with the
other ``trans``: generated code never forms an inverse.

Generated code calls ``scipy.linalg.solve_triangular``; the lowering puts
``scipy`` in the generated function's globals (as it does a global array
the code reads), since only the user's code imported it.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np
import sympy as sp

from ._matrices import square_matrix, transpose
from ._ops_core import RESHAPE
from ._ops_create import ONES
from ._ops_einsum import batch_letters, contract
from ._ops_index import GETITEM
from ._ops_linalg import DOT
from ._ops_shape import TRIL, TRIU
from ._program import ArrayOp, Step
from ._rules import scipy_module
from ._spell import call

__all__ = ["SOLVE_TRIANGULAR", "CHO_SOLVE", "flag", "solve_triangular",
           "solve_residual"]

_TRANSPOSED = {0: False, 1: True, 2: True, "N": False, "T": True, "C": True}


def flag(run: Any, value: Any, node: ast.AST, what: str) -> bool:
    """A constant True or False (SciPy's lower=)."""
    if value in (True, False, sp.true, sp.false, 0, 1):
        return bool(value)
    given = ("a value computed from the arguments"
             if isinstance(value, sp.Basic) and value.free_symbols
             else value)
    raise run.error(node, f"{what} must be True or False written in the "
                          f"code, not {given}: the triangle read decides "
                          "the derivative")


def solve_triangular(run: Any, a: Any, b: Any, lower: bool,
                     transposed: bool, node: ast.AST, spelled: str) -> Any:
    """``x`` with ``op(T) @ x == b``: T the lower (or upper) triangle of
    ``a``, op a transpose where ``transposed``."""
    matrix = square_matrix(run, a, node, spelled)
    program = run.program
    shape = program.leaves[matrix].shape
    if len(shape) != 2:
        raise run.error(node, f"{spelled}: a stack of matrices (shape "
                              f"{shape}) is not supported here: solve each "
                              "matrix of the stack")
    rhs = run.number(b, node)
    rhs_shape = run.shape(rhs, node)
    if len(rhs_shape) not in (1, 2):
        raise run.error(node, f"{spelled}: b of shape {rhs_shape} is not "
                              "supported here: pass b of shape (n,) or "
                              "(n, k)")
    if rhs_shape[0] != shape[0]:
        raise run.error(node, f"{spelled}: b has {rhs_shape[0]} rows but "
                              f"the matrix is {shape[0]} x {shape[1]}: "
                              "they must match")
    rhs = run.materialize(rhs, node, "b")
    # Generated code calls scipy.linalg, which the user's code imported
    # but the generated function's module does not.
    run.context.data["scipy"] = scipy_module()
    return program.add(SOLVE_TRIANGULAR, (matrix, rhs), rhs_shape,
                       f"solve_{matrix.name}_{rhs.name}", lower=lower,
                       transposed=transposed)


def _lower_solve_triangular(run: Any, a: Any, b: Any, trans: Any = 0,
                            lower: Any = False, unit_diagonal: Any = False,
                            overwrite_b: Any = False,
                            check_finite: Any = True, *,
                            node: ast.AST) -> Any:
    spelled = "scipy.linalg.solve_triangular"
    if flag(run, unit_diagonal, node, f"{spelled}'s unit_diagonal"):
        raise run.error(node, f"{spelled} with unit_diagonal=True is not "
                              "supported: pass the matrix with ones on its "
                              "diagonal and unit_diagonal=False")
    key = trans if isinstance(trans, str) else _integer(trans)
    if key not in _TRANSPOSED:
        raise run.error(node, f"{spelled}: trans must be 0, 1, 2, 'N', 'T' "
                              f"or 'C' written in the code, not {trans}")
    return solve_triangular(run, a, b, flag(run, lower, node,
                                             f"{spelled}'s lower"),
                            _TRANSPOSED[key], node, spelled)


def _integer(value: Any) -> Any:
    try:
        return int(value) if sp.sympify(value).is_Integer else value
    except (TypeError, ValueError, sp.SympifyError):
        return value


def _lower_cho_solve(run: Any, c_and_lower: Any, b: Any,
                     overwrite_b: Any = False, check_finite: Any = True, *,
                     node: ast.AST) -> Any:
    """Two triangular solves with the Cholesky factor: L then L.T (U.T
    then U for an upper factor)."""
    spelled = "scipy.linalg.cho_solve"
    if not (isinstance(c_and_lower, (tuple, list)) and len(c_and_lower)
            == 2):
        raise run.error(node, f"{spelled} takes the pair (c, lower) that "
                              "scipy.linalg.cho_factor returns, e.g. "
                              f"{spelled}((L, True), b)")
    factor, lower = c_and_lower
    lower = flag(run, lower, node, f"{spelled}'s lower")
    inner = solve_triangular(run, factor, b, lower, not lower, node,
                             spelled)
    return solve_triangular(run, factor, inner, lower, lower, node, spelled)


def _triangle(step: Step) -> ArrayOp:
    return TRIL if step.option("lower") else TRIU


def _solve_triangular_vjp(backward: Any, step: Step,
                          adjoint: sp.Expr) -> None:
    """x = solve(op(T), b): b's adjoint is solve(op(T).T, g); T's is the
    triangle of -d_b @ x.T (of its transpose where op transposes)."""
    matrix, rhs = step.operands
    program = backward.program
    shape = program.leaves[rhs].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    transposed = step.option("transposed")
    d_rhs = program.add(SOLVE_TRIANGULAR, (matrix, full), shape,
                        f"d_{rhs.name}", lower=step.option("lower"),
                        transposed=not transposed)
    if rhs in backward.active:
        backward.contribute(rhs, d_rhs)
    if matrix not in backward.active:
        return
    left, right = ((step.target, d_rhs) if transposed
                   else (d_rhs, step.target))
    if len(shape) == 1:  # an outer product, by broadcasting
        column = program.add(GETITEM, (left,), shape + (1,),
                             f"{left.name}_column",
                             index=(slice(None), None))
        outer = program.materialize(-column * right, f"d_{matrix.name}_full")
    else:
        outer = program.materialize(-program.add(
            DOT, (left, transpose(program, right)),
            program.leaves[matrix].shape, "outer", style="@"),
            f"d_{matrix.name}_full")
    backward.contribute(matrix, program.add(
        _triangle(step), (outer,), program.leaves[matrix].shape,
        f"d_{matrix.name}", k=0))


def _solve_triangular_jvp(forward: Any, step: Step) -> sp.Expr:
    """x = solve(op(T), b): dx = solve(op(T), db - op(dT) @ x), dT the
    triangle of the matrix's tangent."""
    matrix, _ = step.operands
    program = forward.program
    solution = step.target
    shape = forward.shape(solution) + forward.batch
    name = f"{solution.name}_tangent"
    residual = program.materialize(solve_residual(
        forward, step, lambda: _triangle_times(forward, step)),
        f"{solution.name}_rhs")
    options = {"lower": step.option("lower"),
               "transposed": step.option("transposed")}
    if len(shape) <= 2:  # b's axes and the batch's make one matrix
        return program.add(SOLVE_TRIANGULAR, (matrix, residual), shape,
                           name, **options)
    # Their columns as the columns of one matrix, and back.
    flat = program.add(RESHAPE, (residual,), shape[:1] + (int(np.prod(
        shape[1:])),), "columns", shape=program.shape_of(solution)[:1]
        + (-1,))
    solved = program.add(SOLVE_TRIANGULAR, (matrix, flat),
                         program.leaves[flat].shape, "solved", **options)
    return program.add(RESHAPE, (solved,), shape, name,
                       shape=forward.sizes(solution))


def solve_residual(forward: Any, step: Step,
                   times: Callable[[], sp.Expr]) -> sp.Expr:
    """db - dA @ x for a solve x of (A, b), ``times()`` giving dA @ x
    where A has a tangent."""
    matrix, rhs = step.operands
    residual: sp.Expr = (forward.full_tangent(rhs)
                         if rhs in forward.tangent else sp.S.Zero)
    if matrix in forward.tangent:
        residual -= times()
    return residual


def _triangle_times(forward: Any, step: Step) -> sp.Symbol:
    """op(dT) @ x for each tangent of the batch, dT the triangle of the
    matrix's tangent."""
    matrix, _ = step.operands
    program = forward.program
    solution = step.target
    tangent = forward.full_tangent(matrix)
    square = forward.shape(matrix)
    name = f"{tangent.name}_{solution.name}"
    vector = len(forward.shape(solution)) == 1
    if not forward.batch:
        triangle = program.add(_triangle(step), (tangent,), square,
                               f"{tangent.name}_triangle", k=0)
        if step.option("transposed"):
            triangle = transpose(program, triangle)
        return program.add(DOT, (triangle, solution),
                           forward.shape(solution), name, style="@")
    # The batch is on the last axes, where np.tril would look for the
    # matrix: the triangle is a mask of ones.
    ones = program.add(ONES, (), square, "ones", boolean=True,
                       shape=program.shape_of(matrix), dtype="bool")
    mask = program.add(_triangle(step), (ones,), square,
                       _triangle(step).name, boolean=True, k=0)
    triangle = program.materialize(forward.along_batch(mask) * tangent,
                                   f"{tangent.name}_triangle")
    batch = batch_letters(len(forward.batch), ["ijk"])
    rows = "ji" if step.option("transposed") else "ij"
    columns = "j" if vector else "jk"
    out = "i" if vector else "ik"
    return contract(program, f"{rows}{batch},{columns}->{out}{batch}",
                    (triangle, solution), name)


def _spell_solve_triangular(step: Step, args: list[ast.expr],
                            name: str) -> ast.expr:
    return call("scipy.linalg.solve_triangular", args,
                lower=True if step.option("lower") else None,
                trans="T" if step.option("transposed") else None)


SOLVE_TRIANGULAR = ArrayOp("solve_triangular", lower=_lower_solve_triangular,
                           vjp=_solve_triangular_vjp,
                           jvp=_solve_triangular_jvp,
                           spell=_spell_solve_triangular, any_size=True)
CHO_SOLVE = ArrayOp("cho_solve", lower=_lower_cho_solve)
