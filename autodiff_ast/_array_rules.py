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

from typing import Any, Iterator

import builtins
import numpy as np

from . import _ops_core, _ops_linalg
from ._program import ELEMENTWISE, ArrayOp

__all__ = ["ARRAY_OPS", "array_function", "array_method", "spellings",
           "method_names"]

_FAMILIES = (_ops_core, _ops_linalg)

# Every row, in the order of its family's module.
ARRAY_OPS: tuple[ArrayOp, ...] = (ELEMENTWISE,) + tuple(
    getattr(family, name) for family in _FAMILIES for name in family.__all__
    if isinstance(getattr(family, name), ArrayOp))

_EINSUM = ArrayOp(
    "einsum", numpy=("einsum",),
    refused="np.einsum is not supported yet: write it with np.dot, @, "
            "broadcasting and np.sum")
_REFUSED = (
    _EINSUM,
    ArrayOp("prod", numpy=("prod",),
            refused="np.prod is not supported yet: its gradient divides by "
                    "each factor, which is wrong at zeros; for positive x "
                    "write np.exp(np.sum(np.log(x)))"),
    ArrayOp("concatenate", numpy=("concatenate",),
            refused="np.concatenate is not supported yet: use np.stack"),
    ArrayOp("max", numpy=("max",),
            refused="np.max is not supported yet: use np.maximum on the "
                    "elements"),
    ArrayOp("min", numpy=("min",),
            refused="np.min is not supported yet: use np.minimum on the "
                    "elements"),
)


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
        return _BY_OBJECT.get(obj)
    except TypeError:  # unhashable
        return None


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
