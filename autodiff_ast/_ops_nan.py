"""Rows of the array table for the reductions that skip nan: ``np.nansum``,
``np.nanmean``, ``np.nanmax``, ``np.nanmin``, ``np.nanprod``,
``np.nanvar`` and ``np.nanstd``.

Each is its reduction over the array with every nan replaced by the
reduction's identity (0 for a sum, 1 for a product) and, for the means,
divided by the count of the others: so a nan entry gets a zero gradient,
as in JAX (where JAX's gradient of ``nanvar(x * x)`` is nan at a nan,
through ``2 * x``, ours is 0). ``np.nanmax`` and ``np.nanmin`` are steps,
as ``np.max`` is, whose gradient goes to the elements equal to the result,
which a nan never is.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_core import reduce_sum, spell_reduction
from ._ops_reduce import extreme, extremum_jvp, extremum_vjp, product
from ._nan_masks import values_kept
from ._program import ArrayOp
from ._rules import isnan, where

__all__ = ["NANSUM", "NANMEAN", "NANMAX", "NANMIN", "NANPROD", "NANVAR",
           "NANSTD"]


def _plain(run: Any, op_name: str, dtype: Any, out: Any,
           node: ast.AST) -> None:
    if dtype is not None or out is not None:
        raise run.error(node, f"np.{op_name} with dtype= or out= is not "
                              "supported: use the array it returns (cast "
                              "it with .astype)")


def _present(run: Any, a: Any, node: ast.AST) -> tuple[sp.Expr, Any]:
    """The array and where it is not nan (nor marked missing with nan:
    ``np.where(c, np.nan, x)``)."""
    marked = values_kept(a)
    if marked is not None:
        values, kept = marked
        array = run.number(values, node)
        return array, sp.And(kept, sp.Not(isnan(array)))
    array = run.number(a, node)
    return array, sp.Not(isnan(array))


def _count(run: Any, present: Any, axis: Any, keepdims: Any,
           node: ast.AST) -> sp.Expr:
    return reduce_sum(run, sp.Piecewise((1, present), (0, True)), axis,
                      keepdims, node)[0]


def _lower_nansum(run: Any, a: Any, axis: Any = None, dtype: Any = None,
                  out: Any = None, keepdims: Any = False, *,
                  node: ast.AST) -> Any:
    _plain(run, "nansum", dtype, out, node)
    array, present = _present(run, a, node)
    return reduce_sum(run, where(present, array, 0), axis, keepdims,
                      node)[0]


def _lower_nanmean(run: Any, a: Any, axis: Any = None, dtype: Any = None,
                   out: Any = None, keepdims: Any = False, *,
                   node: ast.AST) -> Any:
    _plain(run, "nanmean", dtype, out, node)
    array, present = _present(run, a, node)
    total = reduce_sum(run, where(present, array, 0), axis, keepdims,
                       node)[0]
    return total / _count(run, present, axis, keepdims, node)


def _nan_extreme(op_name: str) -> Any:
    def lower(run: Any, a: Any, axis: Any = None, out: Any = None,
              keepdims: Any = False, *, node: ast.AST) -> Any:
        _plain(run, op_name, None, out, node)
        return extreme(run, NANMAX if op_name == "nanmax" else NANMIN,
                       run.number(a, node), axis, keepdims, node)
    return lower


def _lower_nanprod(run: Any, a: Any, axis: Any = None, dtype: Any = None,
                   out: Any = None, keepdims: Any = False, *,
                   node: ast.AST) -> Any:
    _plain(run, "nanprod", dtype, out, node)
    array, present = _present(run, a, node)
    return product(run, where(present, array, 1), axis, keepdims, node)


def _nan_spread(op_name: str) -> Any:
    def lower(run: Any, a: Any, axis: Any = None, dtype: Any = None,
              out: Any = None, ddof: Any = 0, keepdims: Any = False, *,
              node: ast.AST) -> Any:
        """The mean square deviation from the mean of the elements that
        are not nan, over their count less ``ddof`` (its square root for
        np.nanstd)."""
        _plain(run, op_name, dtype, out, node)
        array, kept = _present(run, a, node)
        mean = _lower_nanmean(run, a, axis, keepdims=True, node=node)
        deviations = where(kept, array - mean, 0)
        squares = reduce_sum(run, deviations ** 2, axis, keepdims, node)[0]
        degrees = _count(run, kept, axis, keepdims, node) - \
            run.static_number(ddof, node, "ddof")
        variance = squares / degrees
        return sp.sqrt(variance) if op_name == "nanstd" else variance
    return lower


NANSUM = ArrayOp("nansum", numpy=("nansum",), lower=_lower_nansum)
NANMEAN = ArrayOp("nanmean", numpy=("nanmean",), lower=_lower_nanmean)
# A step, as np.max is: its gradient goes to the elements equal to it (a
# nan equals nothing), split among ties. Over nan alone the extreme is
# nan, and so is its gradient (0 / 0), as JAX's.
NANMAX = ArrayOp("nanmax", numpy=("nanmax",), lower=_nan_extreme("nanmax"),
                 vjp=extremum_vjp, jvp=extremum_jvp, batched=True,
                 spell=spell_reduction("np.nanmax"), any_size=True)
NANMIN = ArrayOp("nanmin", numpy=("nanmin",), lower=_nan_extreme("nanmin"),
                 vjp=extremum_vjp, jvp=extremum_jvp, batched=True,
                 spell=spell_reduction("np.nanmin"), any_size=True)
NANPROD = ArrayOp("nanprod", numpy=("nanprod",), lower=_lower_nanprod)
NANVAR = ArrayOp("nanvar", numpy=("nanvar",), lower=_nan_spread("nanvar"))
NANSTD = ArrayOp("nanstd", numpy=("nanstd",), lower=_nan_spread("nanstd"))
