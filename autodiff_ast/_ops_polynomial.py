"""The rows of the array table for polynomials: ``np.polyval``, a
polynomial's value by Horner's rule, and ``np.vander``, the matrix of the
powers of points.

``np.polyval(p, x)`` is lowered as the loop a person writes for it::

    value = np.zeros_like(x)
    for coefficient in p:
        value = value * x + coefficient

so its derivatives are a loop's (in ``x``, and in the coefficients, where
the polynomial is linear): a few coefficients written out (``[a, b, c]``)
unroll to the closed form ``(a*x + b)*x + c``; coefficients in an array
stay a loop over them, which serves every degree.

``np.vander(x, N, increasing)`` is lowered as the broadcast powers it is,
``x[:, None] ** np.arange(N)`` (the powers counting down unless
increasing), so its derivatives are those of a power; a number of columns
read from sizes (``len(x)``, the default, or ``w.shape[0]``) stays one, so
the code serves every size.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_create import ARANGE, ZEROS_LIKE
from ._ops_index import getitem
from ._program import ArrayOp

__all__ = ["POLYVAL", "VANDER"]

# The loop, parsed once; its nodes are placed at the user's call.
_HORNER = ast.parse("for coefficient in coefficients:\n"
                    "    value = value * x + coefficient\n").body[0]


def _lower_polyval(run: Any, p: Any, x: Any, *, node: ast.AST) -> Any:
    points = run.number(x, node)
    if isinstance(p, (list, tuple)):
        coefficients: Any = [run.number(c, node) for c in p]
        if any(run.shape(c, node) for c in coefficients):
            raise run.error(node, "np.polyval's coefficients must be "
                                  "numbers, or a 1-D array of them")
    else:
        coefficients = run.number(p, node)
        if len(run.shape(coefficients, node)) != 1:
            raise run.error(node, "np.polyval's coefficients must be a 1-D "
                                  "array (poly1d objects are not "
                                  "supported)")
    loop = ast.fix_missing_locations(ast.copy_location(
        _located(_HORNER, node), node))
    start = sp.S.Zero if not run.shape(points, node) else \
        run.program.add(ZEROS_LIKE, (run.materialize(points, node),),
                        run.shape(points, node), "zeros")
    env = {"coefficients": coefficients, "x": points, "value": start}
    run.block([loop], env)
    return env["value"]


def _located(tree: ast.AST, node: ast.AST) -> ast.AST:
    """A copy of ``tree`` with every node at ``node``'s place."""
    copy = ast.parse(ast.unparse(tree)).body[0]
    for part in ast.walk(copy):
        ast.copy_location(part, node)
    return copy


POLYVAL = ArrayOp("polyval", numpy=("polyval",), lower=_lower_polyval)


def _lower_vander(run: Any, x: Any, N: Any = None, increasing: Any = False,
                  *, node: ast.AST) -> Any:
    points = run.number(x, node)
    if len(run.shape(points, node)) != 1:
        raise run.error(node, "np.vander's points must be a 1-D array, not "
                              f"one of shape {run.shape(points, node)}")
    if increasing not in (True, False):
        raise run.error(node, "np.vander's increasing must be True or False")
    columns = run.program.size(points, 0) if N is None else N
    if not run.is_size(columns):
        columns = run.integer(columns, node, "np.vander's number of columns")
        if columns < 0:
            raise run.error(node, "np.vander's number of columns must not "
                                  f"be negative, got {columns}")
    bounds = (columns,) if increasing else (columns - 1, -1, -1)
    # (np.arange of these bounds alone, at the user's call: not of the
    # points, whose float literals would make the powers floats)
    at_call = ast.copy_location(ast.Call(node.func, [], []), node)
    powers = ARANGE.lower(run, *bounds, node=at_call)
    return run.checked(getitem(run, points, (slice(None), None), node)
                       ** powers, node)


VANDER = ArrayOp("vander", numpy=("vander",), lower=_lower_vander)
