"""Rows of the array table for NumPy functions that are compositions of
other rows: ``np.linalg.multi_dot`` (a chain of products), ``np.block``
(concatenations), ``np.select`` (nested ``np.where``), ``np.ediff1d``
(differences of neighbours), NumPy 2's ``np.unstack``, ``np.vecdot`` and
``np.cumulative_sum`` (indexing, a sum of products, ``np.cumsum``),
reductions by a ufunc (``np.add.reduce`` is ``np.sum`` over axis 0, and so
on), and ``np.isclose``/``np.allclose`` (comparisons).

Each is lowered to what it computes, so its derivatives are those of the
rows it is made of, in reverse and forward mode alike: the gradient of a
chain of products is the products with the other factors transposed; that
of a block matrix, the adjoint cut back into its blocks; that of a choice,
the adjoint where each choice was taken. ``np.isclose`` and
``np.allclose`` are booleans, constant to differentiation as comparisons
are, and written as the user called them.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._functions import where
from ._ops_assemble import CONCATENATE, pad
from ._ops_core import EXPAND_DIMS, SUM, reduce_sum, reshape
from ._ops_index import getitem
from ._ops_linalg import product
from ._ops_reduce import LOGSUMEXP, MAX, MIN, PROD
from ._ops_scan import CUMSUM, DIFF
from ._program import ArrayOp, Step, broadcast_shapes
from ._spell import call

__all__ = ["MULTI_DOT", "BLOCK", "SELECT", "EDIFF1D", "UNSTACK", "VECDOT",
           "CUMULATIVE_SUM", "ADD_REDUCE", "MULTIPLY_REDUCE",
           "MAXIMUM_REDUCE", "MINIMUM_REDUCE", "LOGADDEXP_REDUCE", "ISCLOSE",
           "ALLCLOSE"]


# -- np.linalg.multi_dot ------------------------------------------------------

def _lower_multi_dot(run: Any, arrays: Any, *, out: Any = None,
                     node: ast.AST) -> Any:
    if out is not None:
        raise run.error(node, "np.linalg.multi_dot's out= is not supported: "
                              "assign its result instead")
    if not isinstance(arrays, (list, tuple)) or len(arrays) < 2:
        raise run.error(node, "np.linalg.multi_dot takes a list of at least "
                              "two arrays")
    factors = [run.number(a, node) for a in arrays]
    shapes = [run.shape(f, node) for f in factors]
    if any(len(s) not in (1, 2) for s in shapes) or any(
            len(s) != 2 for s in shapes[1:-1]):
        raise run.error(node, f"np.linalg.multi_dot takes matrices, and "
                              f"vectors first and last: shapes {shapes}")
    return _chain(run, factors, _order(shapes), node)


def _order(shapes: list[tuple[int, ...]]) -> Any:
    """The cheapest parenthesization of the chain (as multi_dot finds it,
    by dynamic programming over the matrices' sizes): nested pairs of
    indices into the factors."""
    # factor i is dims[i] x dims[i + 1] (a first vector is a row, a last
    # one a column)
    dims = [1 if len(shapes[0]) == 1 else shapes[0][0]]
    dims += [s[-1] for s in shapes[:-1]]
    dims.append(1 if len(shapes[-1]) == 1 else shapes[-1][-1])
    count = len(shapes)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None  # type: ignore[call-overload]
            for k in range(i, j):
                c = (cost[i][k] + cost[k + 1][j]
                     + dims[i] * dims[k + 1] * dims[j + 1])
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def nested(i: int, j: int) -> Any:
        if i == j:
            return i
        return (nested(i, split[i][j]), nested(split[i][j] + 1, j))
    return nested(0, count - 1)


def _chain(run: Any, factors: list[Any], order: Any, node: ast.AST) -> Any:
    if isinstance(order, int):
        return factors[order]
    left, right = (_chain(run, factors, part, node) for part in order)
    return product(run, left, right, node, style="@")


# -- np.block -----------------------------------------------------------------

def _lower_block(run: Any, arrays: Any, *, node: ast.AST) -> Any:
    depth = _depth(run, arrays, node)
    leaves = _leaves(arrays)
    ndim = max([depth] + [len(run.shape(run.number(a, node), node))
                          for a in leaves])
    return _assembled(run, arrays, depth, ndim, node)


def _depth(run: Any, arrays: Any, node: ast.AST) -> int:
    """How deeply the lists nest (the same for every item, as NumPy
    requires)."""
    if isinstance(arrays, tuple):
        raise run.error(node, "np.block takes nested lists, not tuples")
    if not isinstance(arrays, list):
        return 0
    if not arrays:
        raise run.error(node, "np.block: lists cannot be empty")
    depths = {_depth(run, item, node) for item in arrays}
    if len(depths) != 1:
        raise run.error(node, "np.block: the lists must all nest equally "
                              "deeply")
    return depths.pop() + 1


def _leaves(arrays: Any) -> list[Any]:
    if isinstance(arrays, list):
        return [leaf for item in arrays for leaf in _leaves(item)]
    return [arrays]


def _assembled(run: Any, arrays: Any, depth: int, ndim: int,
               node: ast.AST) -> Any:
    """The innermost lists joined along the last axis, the next ones along
    the one before it, and so on; each block first given leading axes of
    1 up to ``ndim``."""
    if depth == 0:
        array = run.number(arrays, node)
        missing = ndim - len(run.shape(array, node))
        if not missing:
            return array
        return EXPAND_DIMS.lower(run, array, tuple(range(missing)),
                                 node=node)
    parts = [_assembled(run, item, depth - 1, ndim, node) for item in arrays]
    if len(parts) == 1:
        return parts[0]
    return CONCATENATE.lower(run, parts, -depth, node=node)


# -- np.select ----------------------------------------------------------------

def _lower_select(run: Any, condlist: Any, choicelist: Any,
                  default: Any = sp.S.Zero, *, node: ast.AST) -> Any:
    if not isinstance(condlist, (list, tuple)) or not isinstance(
            choicelist, (list, tuple)):
        raise run.error(node, "np.select takes a list of conditions and a "
                              "list of choices")
    if len(condlist) != len(choicelist):
        raise run.error(node, "list of cases must be same length as list "
                              "of conditions")
    if not condlist:
        raise run.error(node, "select with an empty condition list is not "
                              "possible")
    # The first condition that holds chooses, as in NumPy.
    result = run.number(default, node)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = where(run.as_condition(condition, node),
                       run.number(choice, node), result)
    return run.checked(result, node)


# -- np.ediff1d --------------------------------------------------------------

def _lower_ediff1d(run: Any, ary: Any, to_end: Any = None,
                   to_begin: Any = None, *, node: ast.AST) -> Any:
    """The differences of the flattened array's neighbours, between what
    ``to_begin`` and ``to_end`` add (numbers or arrays, flattened)."""
    def flat(value: Any) -> Any:
        return reshape(run, run.number(value, node), (-1,), node)

    parts = [flat(to_begin)] if to_begin is not None else []
    parts.append(DIFF.lower(run, flat(ary), node=node))
    if to_end is not None:
        parts.append(flat(to_end))
    if len(parts) == 1:
        return parts[0]
    return CONCATENATE.lower(run, parts, 0, node=node)


# -- NumPy 2's array-API names: np.unstack, np.vecdot, np.cumulative_sum ----

def _lower_unstack(run: Any, x: Any, *, axis: Any = 0,
                   node: ast.AST) -> Any:
    array = run.number(x, node)
    shape = run.shape(array, node)
    along = run.axis(axis, len(shape), node)  # (none for a number)
    before = (slice(None),) * along
    return tuple(getitem(run, array, before + (i,), node)
                 for i in range(shape[along]))


def _lower_vecdot(run: Any, x1: Any, x2: Any, *, axis: Any = -1,
                  node: ast.AST) -> Any:
    """The sum of the products along ``axis`` (of real vectors)."""
    products = run.checked(run.number(x1, node) * run.number(x2, node),
                           node)
    if not run.shape(products, node):
        raise run.error(node, "np.vecdot takes arrays of vectors, not "
                              "numbers")
    return reduce_sum(run, products, axis, False, node)[0]


def _lower_cumulative_sum(run: Any, x: Any, *, axis: Any = None,
                          dtype: Any = None, include_initial: Any = False,
                          node: ast.AST) -> Any:
    array = run.number(x, node)
    ndim = len(run.shape(array, node))
    if axis is None and ndim != 1:
        raise run.error(node, "np.cumulative_sum of an array of more than "
                              "one dimension needs axis=")
    if dtype is not None:
        raise run.error(node, "np.cumulative_sum's dtype= is not supported: "
                              "cast the array first (x.astype(...))")
    along = 0 if axis is None else run.axis(axis, ndim, node)
    total = CUMSUM.lower(run, array, along, node=node)
    if not include_initial:
        return total
    # the sums start from 0, one more element along the axis
    widths = ((0, 0),) * along + ((1, 0),) + ((0, 0),) * (ndim - along - 1)
    source = run.materialize(total, node)
    return pad(run.program, source, widths, 0, f"{source.name}_from_0")


# -- reductions by a ufunc: np.add.reduce, np.logaddexp.reduce, ... -----------

def _reduced_by(row: ArrayOp) -> Any:
    def lower(run: Any, array: Any, axis: Any = 0, dtype: Any = None,
              out: Any = None, keepdims: Any = False, *,
              node: ast.AST) -> Any:
        """``row``'s reduction, over axis 0 unless told (a ufunc's
        default, not the function's)."""
        if dtype is not None or out is not None:
            raise run.error(node, "a ufunc's reduce is differentiated "
                                  "without dtype= and out=")
        return row.lower(run, array, axis, keepdims=keepdims, node=node)
    return lower


# -- np.isclose, np.allclose --------------------------------------------------

def _lower_isclose(run: Any, a: Any, b: Any, rtol: Any = 1e-05,
                   atol: Any = 1e-08, equal_nan: Any = False, *,
                   node: ast.AST) -> Any:
    return _close(run, ISCLOSE, (a, b), rtol, atol, equal_nan, node)


def _lower_allclose(run: Any, a: Any, b: Any, rtol: Any = 1e-05,
                    atol: Any = 1e-08, equal_nan: Any = False, *,
                    node: ast.AST) -> Any:
    return _close(run, ALLCLOSE, (a, b), rtol, atol, equal_nan, node)


def _close(run: Any, op: ArrayOp, values: tuple[Any, Any], rtol: Any,
           atol: Any, equal_nan: Any, node: ast.AST) -> Any:
    """Whether ``values`` are equal within the tolerances, elementwise
    (``np.isclose``) or everywhere (``np.allclose``): a boolean step."""
    operands = []
    for value in values:
        number = run.number(value, node)
        operands.append(number if isinstance(number, sp.Number)
                        else run.materialize(number, node))
    shapes = [run.shape(o, node) for o in operands]
    try:
        shape = broadcast_shapes(*shapes)
    except ValueError:
        raise run.error(node, f"np.{op.name}: shapes {shapes[0]} and "
                              f"{shapes[1]} do not broadcast together"
                        ) from None
    tolerances = {name: run.static_number(value, node, name)
                  for name, value in (("rtol", rtol), ("atol", atol))}
    if equal_nan not in (True, False):
        raise run.error(node, "equal_nan must be True or False")
    return run.program.add(
        op, tuple(operands), shape if op is ISCLOSE else (),
        op.name, boolean=True, equal_nan=True if equal_nan else None,
        **{name: value for name, value in tolerances.items()
           if value != _DEFAULTS[name]})


_DEFAULTS = {"rtol": 1e-05, "atol": 1e-08}


def _spell_closeness(step: Step, args: list[ast.expr],
                     name: str) -> ast.expr:
    return call(f"np.{step.op.name}", args, **{
        keyword: step.option(keyword) for keyword in _KEYWORDS})


_KEYWORDS = ("rtol", "atol", "equal_nan")


# options: rtol and atol where not NumPy's defaults; equal_nan when True.
ISCLOSE = ArrayOp("isclose", numpy=("isclose",), stops_gradient=True,
                  lower=_lower_isclose, spell=_spell_closeness,
                  any_size=True)
ALLCLOSE = ArrayOp("allclose", numpy=("allclose",), stops_gradient=True,
                   lower=_lower_allclose, spell=_spell_closeness,
                   any_size=True)

MULTI_DOT = ArrayOp("multi_dot", numpy=("linalg.multi_dot",),
                    lower=_lower_multi_dot)
BLOCK = ArrayOp("block", numpy=("block",), lower=_lower_block)
SELECT = ArrayOp("select", numpy=("select",), lower=_lower_select)
EDIFF1D = ArrayOp("ediff1d", numpy=("ediff1d",), lower=_lower_ediff1d)
UNSTACK = ArrayOp("unstack", numpy=("unstack",), lower=_lower_unstack)
VECDOT = ArrayOp("vecdot", numpy=("vecdot",), lower=_lower_vecdot)
CUMULATIVE_SUM = ArrayOp("cumulative_sum", numpy=("cumulative_sum",),
                         lower=_lower_cumulative_sum)
ADD_REDUCE = ArrayOp("add.reduce", numpy=("add.reduce",),
                     lower=_reduced_by(SUM))
MULTIPLY_REDUCE = ArrayOp("multiply.reduce", numpy=("multiply.reduce",),
                          lower=_reduced_by(PROD))
MAXIMUM_REDUCE = ArrayOp("maximum.reduce", numpy=("maximum.reduce",),
                         lower=_reduced_by(MAX))
MINIMUM_REDUCE = ArrayOp("minimum.reduce", numpy=("minimum.reduce",),
                         lower=_reduced_by(MIN))
# (as SciPy's logsumexp: shifted by the maximum, stable)
LOGADDEXP_REDUCE = ArrayOp("logaddexp.reduce", numpy=("logaddexp.reduce",),
                           lower=_reduced_by(LOGSUMEXP))
