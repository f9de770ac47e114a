"""Rows of the array table for piecewise-linear interpolation:
``np.interp`` and the ``np.searchsorted`` it is written with.

``np.interp(x, xp, fp)`` is lowered to what it computes: the segment of
each point (``k = np.searchsorted(xp[1:-1], x, side='right')``, from 0 to
``len(xp) - 2``, so no clipping is needed), then the line through its two
ends, ``fp[k] + (x - xp[k]) * (fp[k + 1] - fp[k]) / (xp[k + 1] -
xp[k])``, and ``left``/``right`` (``fp[0]``, ``fp[-1]``) outside
``xp``. Its derivative in ``x`` is the segment's slope (at a knot, the
slope of the segment to its right, and at the last knot the last
segment's, as JAX's), 0 outside; in ``fp`` the two weights of the line,
added back with ``np.add.at``; in ``xp`` the line's, away from the knots.
``np.searchsorted`` gives integers: a constant to differentiation.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._functions import where
from ._ops_index import getitem
from ._program import ArrayOp
from ._spell import call

__all__ = ["SEARCHSORTED", "INTERP"]


def _lower_searchsorted(run: Any, a: Any, v: Any, side: Any = "left",
                        sorter: Any = None, *, node: ast.AST) -> Any:
    if side not in ("left", "right") or sorter is not None:
        raise run.error(node, "np.searchsorted takes side='left' or "
                              "side='right' here, and no sorter= (sort the "
                              "array first)")
    return _searchsorted(run, a, v, side, node)


def _searchsorted(run: Any, a: Any, v: Any, side: str,
                  node: ast.AST) -> sp.Symbol:
    ordered, values = run.arrays([a, v], node, "np.searchsorted")
    if len(run.shape(ordered, node)) != 1:
        raise run.error(node, "np.searchsorted needs a 1-D sorted array")
    operands = tuple(run.materialize(value, node)
                     if value.free_symbols else value
                     for value in (ordered, values))
    return run.program.add(SEARCHSORTED, operands, run.shape(values, node),
                           "segment", integer=True,
                           side=None if side == "left" else side)


SEARCHSORTED = ArrayOp(
    "searchsorted", numpy=("searchsorted",), lower=_lower_searchsorted,
    stops_gradient=True, any_size=True,
    spell=lambda step, args, name: call("np.searchsorted", args,
                                        side=step.option("side")))


def _lower_interp(run: Any, x: Any, xp: Any, fp: Any, left: Any = None,
                  right: Any = None, period: Any = None, *,
                  node: ast.AST) -> Any:
    if period is not None:
        raise run.error(node, "np.interp with period= is not supported: "
                              "wrap the points into one period first "
                              "(np.mod(x, period)) and extend xp and fp "
                              "by one point at each end")
    # (lists of numbers are the arrays they list, as NumPy reads them)
    points, knots, values = run.arrays([x, xp, fp], node, "np.interp")
    if len(run.shape(knots, node)) != 1 or \
            run.shape(knots, node) != run.shape(values, node):
        raise run.error(node, f"np.interp needs xp and fp of one axis and "
                              f"the same length, not of shapes "
                              f"{run.shape(knots, node)} and "
                              f"{run.shape(values, node)}")
    if run.shape(knots, node)[0] < 2:
        raise run.error(node, "np.interp needs two or more points xp here "
                              "(with one, the result is fp[0] everywhere)")
    segment = _searchsorted(run, getitem(run, knots, slice(1, -1), node),
                            points, "right", node)
    start, end = getitem(run, knots, segment, node), getitem(
        run, knots, segment + 1, node)
    low, high = getitem(run, values, segment, node), getitem(
        run, values, segment + 1, node)
    line = low + (points - start) * (high - low) / (end - start)
    below = getitem(run, values, 0, node) if left is None else \
        _bound(run, left, node)
    above = getitem(run, values, -1, node) if right is None else \
        _bound(run, right, node)
    return where(sp.StrictLessThan(points, getitem(run, knots, 0, node)),
                 below, where(sp.StrictGreaterThan(
                     points, getitem(run, knots, -1, node)), above, line))


def _bound(run: Any, value: Any, node: ast.AST) -> sp.Expr:
    """``left=`` or ``right=``: a number (a keyword's constant comes as
    the Python number it is) or an array of the points' shape."""
    return run.number(value if isinstance(value, sp.Basic)
                      else sp.nsimplify(value), node)


INTERP = ArrayOp("interp", numpy=("interp",), lower=_lower_interp)
