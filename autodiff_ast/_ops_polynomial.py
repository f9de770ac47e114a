"""The row of the array table for ``np.polyval``: a polynomial's value by
Horner's rule.

``np.polyval(p, x)`` is lowered as the loop a person writes for it::

    value = np.zeros_like(x)
    for coefficient in p:
        value = value * x + coefficient

so its derivatives are a loop's (in ``x``, and in the coefficients, where
the polynomial is linear): a few coefficients written out (``[a, b, c]``)
unroll to the closed form ``(a*x + b)*x + c``; coefficients in an array
stay a loop over them, which serves every degree.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_create import ZEROS_LIKE
from ._program import ArrayOp

__all__ = ["POLYVAL"]

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
