"""The row of the array table for the inverse that the derivative of a
log-determinant reads (``inv(A).T`` is the gradient of ``log|det(A)|``):
``inv(A)`` where A is invertible, and where it is not, the limit of
``adj(A) / det(A)`` as the determinant goes to +0: +inf or -inf, the
sign of the adjugate's element (+inf where it is 0: generated code does
not compute with nan, where 0/0 would give it). JAX's gradient is
+-inf there too (its LU solve divides by the zero pivot), and nan where
its LU meets 0/0. ``np.linalg.inv`` would raise LinAlgError instead,
where the user's ``slogdet`` returned (0, -inf).

Its code tests slogdet's sign, 0 exactly where NumPy finds A singular
(it factors A by the LU that ``inv`` does). Where it is 0, the adjugate
comes from the SVD ``A = U diag(s) Vh``: of a matrix of rank n - 1 it
is a positive multiple of ``det(U @ Vh) * outer(v, u)``, v and u its
null vectors (the last row of Vh and the last column of U); of a lower
rank (a singular value other than the last below
``np.linalg.matrix_rank``'s tolerance) it is 0. Its derivatives are the
inverse's (``_ops_inverse``), not finite where A is singular.

``log(det(A))`` keeps ``inv``: its Hessian also has det's cofactors
(``_ops_cofactors``), and the code writer would compute the SVD and the
inverse the two rows share once, before both tests.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any

import sympy as sp

from ._ops_inverse import INV
from ._program import ArrayOp, Step, unique_name

__all__ = ["INVERSE_LIMIT", "inverse_or_limit"]


def inverse_or_limit(program: Any, matrix: sp.Symbol,
                     test: sp.Symbol) -> sp.Symbol:
    """inv(matrix) (a step, one for each matrix of a stack), or its limit
    where ``test`` (0 where the matrix is singular) is 0."""
    known = next((step.target for step in program.steps
                  if step.op is INVERSE_LIMIT
                  and step.operands[:2] == (matrix, test)), None)
    if known is not None:
        return known
    # The names the singular branch assigns, taken now: no other value
    # may have them.
    names = tuple(unique_name(f"{part}_{matrix.name}", program.names)
                  for part in ("u", "s", "vh", "null", "regular"))
    for name in names:
        program.reserve(name)
    shape = program.leaves[matrix].shape
    # The test twice: the code reads it in the test and in the singular
    # branch of a stack, so it is written as a name.
    return program.add(INVERSE_LIMIT, (matrix, test, test), shape,
                       f"inv_{matrix.name}", names=names,
                       stacked=len(shape) > 2)


# The singular branch, with {a} the matrix, {t} the test, {inv} the
# result and {u}, {s}, {vh}, {null}, {regular} its temporaries.
_ONE = """
{u}, {s}, {vh} = np.linalg.svd({a})
{null} = np.linalg.det({u} @ {vh}) * np.outer({vh}[-1], {u}[:, -1])
{null} = np.where(np.any({s}[:-1] <= {s}[0] * {s}.size
                         * np.finfo({s}.dtype).eps), 0.0, {null})
{inv} = np.copysign(np.inf, {null})
"""
_STACK = """
{u}, {s}, {vh} = np.linalg.svd({a})
{null} = (np.linalg.det({u} @ {vh})[..., None, None]
        * {vh}[..., -1, :, None] * {u}[..., None, :, -1])
{null} = np.where(np.any({s}[..., :-1] <= {s}[..., :1] * {s}.shape[-1]
                         * np.finfo({s}.dtype).eps, axis=-1)[..., None, None],
                  0.0, {null})
{regular} = ({t} != 0)[..., None, None]
{inv} = np.where({regular}, np.linalg.inv(np.where({regular}, {a},
                                                   np.eye({s}.shape[-1]))),
                 np.copysign(np.inf, {null}))
"""


def _spell(step: Step, args: list[ast.expr], name: str) -> list[ast.stmt]:
    matrix, test = args[0], args[1]
    u, s, vh, null, regular_ = step.option("names")
    stacked = step.option("stacked")
    singular = ast.parse((_STACK if stacked else _ONE).format(
        a=ast.unparse(matrix), t=ast.unparse(test), inv=name, u=u, s=s,
        vh=vh, null=null, regular=regular_)).body
    nonzero = ast.Compare(test, [ast.NotEq()], [ast.Constant(0)])
    if stacked:
        nonzero = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "all",
                                         ast.Load()), [nonzero], [])
    regular = ast.Assign([ast.Name(name, ast.Store())], ast.Call(
        ast.Attribute(ast.Attribute(ast.Name("np", ast.Load()), "linalg",
                                    ast.Load()), "inv", ast.Load()),
        [matrix], []), None)
    return [ast.If(nonzero, [regular], singular)]


def _as_inverse(step: Step) -> Step:
    return replace(step, op=INV, operands=step.operands[:1])


INVERSE_LIMIT = ArrayOp(
    "inverse or its limit",
    vjp=lambda backward, step, adjoint: INV.vjp(backward, _as_inverse(step),
                                                adjoint),
    jvp=lambda forward, step: INV.jvp(forward, _as_inverse(step)),
    spell=_spell, statement=True, any_size=True)
