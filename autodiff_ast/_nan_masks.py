"""Elements marked missing with nan: ``y = np.where(x > 0.5, np.nan, x)``,
then ``np.nansum(y ** 2)`` or ``np.nanmean(y)``, as NumPy code drops
values before the reductions that skip nan.

A derivative cannot compute with nan (its algebra would cancel ``y - y``
to 0, where NumPy's value is nan). But code that only computes on ``y``
elementwise, where a nan stays nan, and then reduces it with a reduction
that skips nan, is what one writes without nan: ``np.nansum(y ** 2)`` is
``np.sum(np.where(x > 0.5, 0, x ** 2))``. So ``np.where(c, np.nan, v)``
lowers to a ``Missing``, the values ``v`` and the condition ``c`` under
which an element is nan, which arithmetic (``+ - * /``, ``**`` by a
number other than 0: ``nan ** 0`` is 1) and the elementwise functions
that keep nan nan compute on as the values, and which ``np.nansum``,
``np.nanmean``, ``np.nanvar``, ``np.nanstd`` and ``np.nanprod`` reduce
skipping the missing elements (and any nan of the values). The missing
elements get a zero derivative, as the elements they skip do. Any other
use (returned, stored, indexed, np.sum, a comparison) is refused, saying
what works, and nowhere else does a nan constant lower.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ._masked_reads import first_held

__all__ = ["Missing", "NAN", "nan_marked", "missing_arithmetic",
           "missing_negated", "missing_applied", "check_reduced",
           "holds_missing", "refused_use", "values_kept"]


class _Nan:
    """The constant nan, as an argument of np.where only."""

    def __repr__(self) -> str:
        return "nan"


NAN = _Nan()


@dataclass(frozen=True, eq=False)
class Missing:
    """Values whose elements are nan where ``missing`` holds."""

    values: Any
    missing: Any  # a condition, broadcasting against the values
    node: ast.Call  # the np.where that marked them, for messages

    def of(self, values: Any) -> Missing:
        """Other values missing where these are."""
        return Missing(values, self.missing, self.node)


# The reductions that skip nan, which a Missing may go into.
_SKIPPING = ("nansum", "nanmean", "nanvar", "nanstd", "nanprod")

_WORKS = ("elements marked nan can be reduced by np.nansum, np.nanmean, "
          "np.nanvar, np.nanstd and np.nanprod (also after arithmetic and "
          "elementwise functions), which skip them; for other uses mark "
          "them without nan: np.where(c, 0, v) for a sum, or np.sum(v, "
          "where=~c), np.mean(v, where=~c)")


def refused_use(run: Any, marked: Missing, node: ast.AST,
                use: str | None = None) -> Exception:
    """The refusal of a use of a Missing other than those that work."""
    spelled = ast.unparse(node)
    if use is None:
        use = ("it is used as an array" if isinstance(node, ast.Name)
               or spelled == ast.unparse(marked.node)
               else f"{spelled} takes it as an array")
    return run.error(node, f"{ast.unparse(marked.node)} marks elements "
                           "missing with nan, which a derivative cannot "
                           f"compute with: here {use}. Its {_WORKS}")


def nan_marked(run: Any, node: ast.Call, env: dict[str, Any]) -> Any:
    """``np.where(c, np.nan, v)`` (or ``np.where(c, v, np.nan)``) as the
    Missing it is; None for any other np.where (nothing evaluated but
    its names and literals)."""
    if len(node.args) != 3 or node.keywords:
        return None
    nans = [a for a in node.args[1:] if _spelled_constant(a)
            and _allowing_nan(run, a, env) is NAN]
    if not nans:
        return None
    if len(nans) == 2:
        raise run.error(node, "np.where(c, np.nan, np.nan) is nan "
                              "everywhere: it has no derivative")
    condition = run.as_condition(run.expression(node.args[0], env),
                                 node.args[0])
    other = node.args[2] if nans[0] is node.args[1] else node.args[1]
    values = run.number(run.expression(other, env), other)
    return Missing(values, condition if other is node.args[2]
                   else sp.Not(condition), node)


def _spelled_constant(node: ast.expr) -> bool:
    """Whether ``node`` may be the constant nan: a name or an attribute
    (np.nan, math.nan, a global), a literal, or float('nan')."""
    return isinstance(node, (ast.Name, ast.Attribute, ast.Constant)) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id == "float" and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant))


def _allowing_nan(run: Any, node: ast.expr, env: dict[str, Any]) -> Any:
    run.nan_allowed = True
    try:
        return run.expression(node, env)
    finally:
        run.nan_allowed = False


def missing_arithmetic(run: Any, op: ast.operator, left: Any, right: Any,
                       node: ast.AST) -> Missing:
    """``left op right`` where one is a Missing: on the values, missing
    where either is."""
    marked = left if isinstance(left, Missing) else right
    if isinstance(op, ast.MatMult):
        raise refused_use(run, marked, node, "@ adds each nan into a sum")
    if isinstance(op, ast.Pow):
        if isinstance(right, Missing):
            raise refused_use(run, marked, node, (
                "it is an exponent (1 ** nan is 1, not nan)"))
        exponent = run.concrete(right)
        if not isinstance(exponent, sp.Number) or exponent == 0:
            raise refused_use(run, marked, node, (
                "its power is not a constant number other than 0 (nan ** 0 "
                "is 1, not nan)"))
    elif not isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        raise refused_use(run, marked, node, (
            f"{type(op).__name__} does not keep nan nan"))
    values = [v.values if isinstance(v, Missing) else v
              for v in (left, right)]
    result = run.arithmetic(op, *values, node)
    return Missing(result, sp.Or(*[v.missing for v in (left, right)
                                   if isinstance(v, Missing)]), marked.node)


def missing_negated(marked: Missing, node: ast.UnaryOp) -> Missing:
    return marked.of(-marked.values if isinstance(node.op, ast.USub)
                     else marked.values)


def missing_applied(run: Any, callee: Any, primitive: Any, args: list[Any],
                    kwargs: dict[str, Any], node: ast.Call) -> Missing:
    """An elementwise function of one argument, a Missing, whose value
    at nan is nan (``np.exp``, ``np.abs``; not ``np.isnan``)."""
    marked = holds_missing([args, kwargs])
    assert marked is not None
    if len(args) != 1 or kwargs or not _keeps_nan(callee):
        raise refused_use(run, marked, node, (
            f"{ast.unparse(node.func)}() takes it (only a function of one "
            "argument whose value at nan is nan may)"))
    return marked.of(run.call_primitive(callee, primitive, [marked.values],
                                        {}, node))


def _keeps_nan(callee: Any) -> bool:
    try:
        with np.errstate(all="ignore"):
            result = callee(math.nan)
    except Exception:  # (a function of more arguments, or of no floats)
        return False
    return isinstance(result, float) and math.isnan(result)


def holds_missing(values: Any) -> Missing | None:
    """The first Missing in ``values`` (lists, tuples, dicts of them)."""
    return first_held(values, Missing)


def check_reduced(run: Any, op: Any, args: list[Any],
                  kwargs: dict[str, Any], node: ast.Call) -> None:
    """Refuses a call that takes a Missing, unless it is a reduction that
    skips nan taking it as its array (its lowering reads ``values_kept``)."""
    marked = holds_missing([args, kwargs])
    assert marked is not None
    if op.name not in _SKIPPING or not args or args[0] is not marked or \
            holds_missing([args[1:], kwargs]) is not None:
        raise refused_use(run, marked, node,
                          f"{ast.unparse(node.func)}() takes it")


def values_kept(values: Any) -> Any:
    """Where a Missing's elements are not marked (the reductions that skip
    nan skip the values' own nan too); None for other values."""
    if not isinstance(values, Missing):
        return None
    return values.values, sp.Not(values.missing)
