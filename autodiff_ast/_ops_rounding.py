"""The array method ``x.round(decimals)``: ``np.round(x, decimals)``, an
elementwise row of the rules table (``_rules.py``), whose derivative is 0
as JAX's."""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._program import ArrayOp
from ._rules import rounded

__all__ = ["ROUND"]


def _lower_round(run: Any, a: Any, decimals: Any = 0, out: Any = None, *,
                 node: ast.AST) -> Any:
    if out is not None:
        raise run.error(node, ".round(out=...) is not supported: use the "
                              "array it returns")
    places = sp.Integer(run.integer(decimals, node, ".round()'s decimals"))
    return run.checked(rounded(run.number(a, node), places), node)


ROUND = ArrayOp("round", methods=("round",), lower=_lower_round)
