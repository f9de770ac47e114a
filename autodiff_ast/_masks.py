"""Masks known when the code is made: conditions of global arrays.

An index that is a boolean mask picks as many elements as it holds True,
so a derivative is made for the mask's values: a global ``MASK`` is read
as such (``_ops_index``), and so is a condition of such masks and of
comparisons of global numeric arrays alone (``x[~OBSERVED]``, ``x[KEEP &
~DROPPED]``, ``x[LABELS == 2]``). Here the condition is computed now to
tell the index its values; the code computes it again when it runs
(``np.logical_not(OBSERVED)``, ``LABELS == 2``), and is made again when an
array it reads changes.

A boolean array passed in beside the differentiated arguments
(``x[mask]``) is such a mask too (``passed_masks``): code that indexes
with it is made for its values, and dispatch keys that code by them
(``_dispatch.signature``), as JAX's grad takes a concrete mask. A bool
passed in so (a flag) decides an ``assert`` on it alone now, and keys the
code that does by its value (``passed_flags``).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np
import optree
import sympy as sp
from sympy.logic.boolalg import Boolean

from ._functions import logical_and, logical_not, logical_or, logical_xor
from ._lower_records import Read

__all__ = ["PASSED", "flag_decided", "known_masks", "passed_flags",
           "passed_masks", "resolved_reads"]

# How a mask passed in as an argument is read: its values, which code that
# indexes with it is made for (the argument joins ``fixed``, the names
# whose values key the code).
PASSED = "passed mask"

_LOGIC = {logical_and: np.logical_and, sp.And: np.logical_and,
          logical_or: np.logical_or, sp.Or: np.logical_or,
          logical_xor: np.logical_xor, sp.Xor: np.logical_xor}
_RELATIONS = {sp.Eq: operator.eq, sp.Ne: operator.ne, sp.Lt: operator.lt,
              sp.Le: operator.le, sp.Gt: operator.gt, sp.Ge: operator.ge}
# Arithmetic of the arrays compared (LABELS + 1 == 3, 2 * W > B).
_ARITHMETIC = {sp.Add: np.add, sp.Mul: np.multiply, sp.Pow: np.power}


def known_masks(run: Any, key: Any) -> Any:
    """``key`` (an index, or a tuple of its parts) with each condition of
    known masks a step whose values ``run`` knows as it knows a global
    mask's (``context.masks``, which ``_ops_index`` reads)."""
    if type(key) is tuple:  # (a namedtuple is no index)
        known = tuple(known_masks(run, part) for part in key)
        return key if all(a is b for a, b in zip(known, key)) else known
    values = _values(run, key)
    if values is None:
        return key
    symbol = run.program.materialize(key, "mask")
    # Told by a read that is always current, which the masks' own reads
    # replace once lowering is done (``resolved_reads``).
    holder = {"mask": values}
    run.context.masks[symbol] = Read(holder, "mask", values)
    known = _known(run)
    reads = tuple(known[array] for array in sorted(key.free_symbols, key=str))
    run.context.derived_masks[id(holder)] = reads
    if any(read.key == PASSED for read in reads):  # (x[~mask])
        run.context.fixed.add(symbol.name)
    return symbol


def passed_masks(context: Any, layout: Any, value: Any) -> None:
    """The boolean arrays of an argument that is not differentiated
    (``layout`` binds ``value``), as masks whose values are known now."""
    for symbol, leaf in zip(layout.symbols, optree.tree_leaves(value)):
        if isinstance(leaf, np.ndarray) and leaf.dtype == np.bool_:
            context.masks[symbol] = Read({PASSED: leaf}, PASSED, leaf)


def passed_flags(context: Any, layout: Any, value: Any) -> None:
    """The bools of an argument that is not differentiated (``flag=True``,
    ``np.array(True)``), with their values: an ``assert`` on them is
    decided now (``flag_decided``)."""
    for symbol, leaf in zip(layout.symbols, optree.tree_leaves(value)):
        if np.ndim(leaf) == 0 and np.result_type(leaf) == np.bool_:
            context.flags[symbol] = bool(leaf)


def flag_decided(context: Any, condition: Any) -> bool | None:
    """Whether ``condition``, of flags passed in alone (``flag``, ``not
    verbose``), holds for their values now; None for any other condition.
    The code is then made for those values (they join ``fixed``, and
    dispatch keys the code by them), as JAX's grad runs the assert on
    the flag it is given."""
    # (a condition of a 0-d mask passed in, not verbose, is a known mask
    # of its own: its value is known too)
    flags = {**{symbol: bool(read.value) for symbol, read
                in getattr(context, "masks", {}).items()
                if np.ndim(read.value) == 0},
             **getattr(context, "flags", {})}
    if not isinstance(condition, Boolean) or not condition.free_symbols or \
            not condition.free_symbols <= flags.keys():
        return None
    decided = condition.xreplace({symbol: sp.true if flags[symbol]
                                  else sp.false
                                  for symbol in condition.free_symbols})
    if decided not in (sp.true, sp.false):
        return None
    context.fixed.update(symbol.name for symbol in condition.free_symbols)
    return decided is sp.true


def resolved_reads(context: Any) -> list[Read]:
    """``context.reads`` with each read of a condition's values replaced
    by the reads of the values of the masks it is a condition of: the
    code is made again when one of them changes."""
    return [each for read in context.reads
            for each in _resolved(context, read)]


def _resolved(context: Any, read: Read) -> list[Read]:
    masks = context.derived_masks.get(id(read.container))
    if masks is None:
        return [read]
    return [each for mask in masks for each in _resolved(context, Read(
        mask.container, mask.key, mask.value, values=mask.value.copy()))]


def _values(run: Any, part: Any) -> np.ndarray | None:
    """The values of ``part`` where it is a condition of known masks
    (and numbers); else None."""
    known = _known(run)
    if not isinstance(part, Boolean) or isinstance(part, sp.Expr) or \
            not part.free_symbols or not part.free_symbols <= known.keys():
        return None
    masks = {symbol: known[symbol].value for symbol in part.free_symbols}
    values = _computed(part, masks)
    return None if values is None else np.asarray(values, dtype=bool)


def _known(run: Any) -> dict[sp.Symbol, Read]:
    """The arrays read from outside whose values a mask may be computed
    from, and how each was read: masks, and numeric arrays compared."""
    return {**run.context.compared, **run.context.masks}


def _computed(expr: sp.Basic, masks: dict[sp.Symbol, np.ndarray]) -> Any:
    """``expr`` computed at these masks' values, as NumPy computes it; None
    where it holds anything else."""
    if expr in masks:
        return masks[expr]
    if isinstance(expr, sp.Number):
        return float(expr)
    if expr is sp.true or expr is sp.false:
        return bool(expr)
    args = [_computed(a, masks) for a in expr.args]
    if any(a is None for a in args):
        return None
    if isinstance(expr, (logical_not, sp.Not)):
        return np.logical_not(args[0])
    logic = _LOGIC.get(type(expr)) or _ARITHMETIC.get(type(expr))
    if logic is not None:
        return functools.reduce(logic, args)
    relation = _RELATIONS.get(type(expr))
    if relation is not None:
        return relation(*args)
    return None
