"""The row of the array table for ``np.cov``: lowered to what it computes
(each variable's deviations from its mean, their products summed and
divided by the number of observations less ``ddof``), so that its
derivatives are those of sums and products, as for ``np.var``.
"""

from __future__ import annotations

import ast
from typing import Any

from ._ops_core import reduce_sum, reduced_count, reshape, transpose
from ._ops_linalg import DOT
from ._program import ArrayOp

__all__ = ["COV"]


def _lower_cov(run: Any, m: Any, y: Any = None, rowvar: Any = True,
               bias: Any = False, ddof: Any = None, fweights: Any = None,
               aweights: Any = None, *, node: ast.AST,
               dtype: Any = None) -> Any:
    unsupported = [name for name, value in (
        ("y", y), ("fweights", fweights), ("aweights", aweights),
        ("dtype", dtype)) if value is not None]
    if unsupported:
        raise run.error(node, f"np.cov's {unsupported[0]}= is not "
                              "supported: pass the variables as the rows "
                              "of one array (np.cov(np.vstack([m, y])) "
                              "for y=), unweighted")
    data = run.number(m, node)
    shape = run.shape(data, node)
    if len(shape) not in (1, 2):
        raise run.error(node, f"np.cov takes a 1-D or 2-D array, not one of "
                              f"shape {shape}")
    if len(shape) == 2 and not bool(rowvar):
        data = transpose(run, data, None, node)
        shape = shape[::-1]
    if ddof is None:
        ddof = 0 if bool(bias) else 1
    ddof = run.integer(ddof, node, "ddof")
    if shape[-1] - ddof <= 0:
        raise run.error(node, f"np.cov of {shape[-1]} observations with "
                              f"ddof={ddof} divides by {shape[-1] - ddof}: "
                              "it needs more observations than ddof")
    axis = len(shape) - 1
    mean = reduce_sum(run, data, axis, True, node)[0] / reduced_count(
        run, data, axis, node)
    deviations = run.materialize(run.checked(data - mean, node), node,
                                 "deviations")
    if len(shape) == 1:
        products = run.program.add(DOT, (deviations, deviations), (),
                                   "squares", style="@")
    else:
        products = run.program.add(
            DOT, (deviations, run.materialize(transpose(
                run, deviations, None, node), node)), (shape[0],) * 2,
            "cross_products", style="@")
        if shape[0] == 1:  # NumPy squeezes one variable's 1 x 1 result
            products = reshape(run, products, (), node)
    return run.checked(products / (reduced_count(run, data, axis, node)
                                   - ddof), node)


COV = ArrayOp("cov", numpy=("cov",), lower=_lower_cov)
