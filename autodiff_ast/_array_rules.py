"""The array table: every array operation autodiff_ast knows, one row each.

Elementwise functions live in ``_rules.py``; this is the other table:
NumPy functions and array methods that reshape, reduce, assemble, index or
multiply arrays. Each row (an ``ArrayOp``, defined with its family in an
``_ops_*`` module) holds what it is recognised by, its lowering, its
vector-Jacobian rule and its spelling; lowering, the gradient and codegen
read nothing else. The lookups below, and the lists that error messages
give, are derived from the rows.
"""

from __future__ import annotations

import builtins
import random
from typing import Any, Iterator

import numpy as np

from . import (_masked_reads, _ops_assemble, _ops_cast, _ops_compose,
               _ops_convolve, _ops_core, _ops_create, _ops_decomp,
               _ops_einsum, _ops_grid, _ops_index, _ops_interp, _ops_linalg,
               _ops_nan, _ops_pairs, _ops_polynomial, _ops_reduce,
               _ops_rounding, _ops_scan, _ops_scatter, _ops_shape, _ops_sort)
from ._program import ELEMENTWISE, ArrayOp

__all__ = ["ARRAY_OPS", "array_function", "array_method", "spellings",
           "method_names", "spelled_function"]

_FAMILIES = (_ops_core, _ops_index, _ops_scatter, _ops_sort, _ops_create,
             _ops_pairs, _ops_shape, _ops_grid, _ops_assemble, _ops_scan,
             _ops_polynomial, _ops_interp, _ops_reduce, _ops_linalg,
             _ops_einsum, _ops_decomp, _ops_cast, _ops_compose,
             _ops_convolve, _ops_rounding, _ops_nan, _masked_reads)

# Every row, in the order of its family's module.
ARRAY_OPS: tuple[ArrayOp, ...] = (ELEMENTWISE,) + tuple(
    getattr(family, name) for family in _FAMILIES for name in family.__all__
    if isinstance(getattr(family, name), ArrayOp))

# Recognised and refused, each with its reason and its fix.
_DATA_SHAPED = ("{spelled} gives an array whose size depends on the values, "
                "which a derivative cannot have (its shapes follow from the "
                "inputs' shapes): compute it outside the function and pass "
                "it in, or keep the shape with np.where(condition, x, 0)")
_IN_PLACE = ("{spelled} changes the array in place, which cannot be "
             "differentiated: build a new array instead (np.where, "
             "np.concatenate, np.full_like)")
_REFUSED = (
    ArrayOp("data-shaped", numpy=("unique", "nonzero", "flatnonzero",
                                  "argwhere", "extract", "compress"),
            refused=_DATA_SHAPED),
    ArrayOp("sort in place", methods=("sort",),
            refused="{spelled} sorts the array in place, which cannot be "
                    "differentiated: use np.sort(...), which returns a "
                    "sorted copy (its gradient follows the permutation)"),
    ArrayOp("in place", methods=("fill", "put", "resize", "itemset",
                                 "partition", "setfield"),
            refused=_IN_PLACE),
)
# Random numbers: any function or method of numpy.random or the standard
# library's random module, recognised by what it is bound to.
_RANDOM = ArrayOp(
    "random",
    refused="{spelled} draws random numbers, which have no derivative (and "
            "would differ between the value and the gradient): draw them "
            "outside the function and pass them in as an argument")
_RANDOM_STATES = (np.random.Generator, np.random.RandomState,
                  np.random.BitGenerator, random.Random)


def _is_random(obj: object) -> bool:
    if isinstance(getattr(obj, "__self__", None), _RANDOM_STATES):
        return True
    module = getattr(obj, "__module__", None) or ""
    return module == "random" or module.startswith("numpy.random")


def _resolve(path: str) -> Any:
    value: Any = np
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def _by_object() -> dict[Any, ArrayOp]:
    table: dict[Any, ArrayOp] = {}
    for op in ARRAY_OPS + _REFUSED:
        for path in op.numpy:
            obj = _resolve(path)
            if obj is not None:
                table[obj] = op
        for name in op.builtins:
            table[getattr(builtins, name)] = op
    return table


_BY_OBJECT = _by_object()
_BY_METHOD = {name: op for op in ARRAY_OPS + _REFUSED for name in op.methods}


def array_function(obj: object) -> ArrayOp | None:
    """The row of a callable recognised as an array function (refused
    ones included), or None."""
    try:
        op = _BY_OBJECT.get(obj)
    except TypeError:  # unhashable
        return None
    if op is None and callable(obj) and _is_random(obj):
        return _RANDOM
    return op


def spelled_function(obj: object) -> str | None:
    """How code names an array function of the table that takes values
    to differentiate (``np.linalg.det``) or is refused (``np.unique``);
    None for anything else (``np.ones``: a constant)."""
    op = array_function(obj)
    if op is None or op.stops_gradient:
        return None
    return next((f"np.{path}" for path in op.numpy
                 if _resolve(path) is obj), None)


def array_method(name: str) -> ArrayOp | None:
    """The row of an array method, or None."""
    return _BY_METHOD.get(name)


def method_names() -> list[str]:
    """The methods a differentiated array has, sorted."""
    return sorted(name for name, op in _BY_METHOD.items()
                  if op.refused is None)


def spellings() -> Iterator[tuple[str, ArrayOp]]:
    """Each way user code names a supported row: ``np.linalg.norm``,
    ``.max()``, ``sum()``."""
    for op in ARRAY_OPS:
        for path in op.numpy:
            yield f"np.{path}", op
        for name in op.methods:
            yield f".{name}()", op
        for name in op.builtins:
            yield f"{name}()", op
