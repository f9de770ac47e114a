"""Rows of the array table for casts and conversions of array values,
``.astype(...)`` and ``.item()``, and for ``.clip()``, the method of an
elementwise function of the rules table. ``cast`` is also the ``dtype=``
of ``np.array``/``np.asarray``.

As in JAX, the derivative passes through a cast to a float type and stops
at a cast to an integer or bool type (zero derivative). A float cast is the
elementwise ``np.float32(x)``/``np.float64(x)`` of the rules table, so
simplification sees through it; a bool cast is ``x != 0``; an integer
cast is a step of its own, written ``x.astype(int)``, whose values are
NumPy's (``-1.0`` to ``np.uint8`` is 255: no arithmetic gives that).
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._forms import clip_with_open_bounds
from ._lower_conditions import is_condition
from ._ops_core import FLOAT_CASTS, reshape
from ._ops_index import getitem
from ._printer import _name
from ._program import ArrayOp, Step
from ._rules import canonical

__all__ = ["ASTYPE", "ITEM", "CLIP", "cast"]

_BUILTIN_TYPES = {int: "int", bool: "bool", float: "float"}


def _lower_astype(run: Any, a: Any, dtype: Any, copy: Any = True, *,
                  node: ast.AST) -> Any:
    return cast(run, a, dtype, node, ".astype({})")


def cast(run: Any, a: Any, dtype: Any, node: ast.AST, spelled: str) -> Any:
    """``a`` cast to ``dtype``, as ``.astype(dtype)`` and ``dtype=`` of
    ``np.array``/``np.asarray`` take it; ``spelled``: how the user's code
    names the cast, with ``{}`` where the dtype goes (for refusals)."""
    array = run.number(a, node)
    builtin = _BUILTIN_TYPES.get(dtype)
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise run.error(node, f"{spelled.format('')} needs a dtype known "
                              "when the function is differentiated (float, "
                              "np.float32, 'float64', int, bool, ...), not "
                              f"{_as_written(dtype, node)}") from None
    if target in FLOAT_CASTS:
        # (an array already of the dtype is itself, where np.float64(x)
        # would be written out for nothing; a number's cast stays, as it
        # makes a NumPy scalar of it)
        if run.shape(array, node) and run.known_dtype(array) == target:
            return array
        return FLOAT_CASTS[target](array)
    if target.kind == "b":
        return sp.Ne(array, 0)
    if target.kind in "iu":
        source = run.materialize(array, node)
        name = builtin or f"np.{target.name}"
        return run.program.add(ASTYPE, (source,), run.shape(source, node),
                               f"{source.name}_{target.name}", integer=True,
                               dtype=name)
    raise run.error(node, f"{spelled.format(target.name)} is not supported: "
                          "a derivative casts to np.float32 or np.float64 "
                          "(the derivative passes through), or to an "
                          "integer or bool dtype (it stops there)")


def _as_written(dtype: Any, node: ast.AST) -> str:
    """The dtype argument of the call ``node`` as the user's code writes
    it, where it is a value known only at the call (``x[0]``, not the
    symbol that stands for it); another value as its repr."""
    if not isinstance(dtype, sp.Basic) or not isinstance(node, ast.Call):
        return repr(dtype)
    given = [k.value for k in node.keywords if k.arg == "dtype"]
    at = 0 if isinstance(node.func, ast.Attribute) and \
        node.func.attr == "astype" else 1
    if not given and len(node.args) > at:
        given = [node.args[at]]
    return (f"{ast.unparse(given[0])}, a value known only at the call"
            if given else repr(dtype))


def _spell_astype(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    return ast.Call(ast.Attribute(args[0], "astype", ast.Load()),
                    [_name(step.option("dtype"))], [])


# An integer cast has no derivative: its result is a constant.
ASTYPE = ArrayOp("astype", methods=("astype",), lower=_lower_astype,
                 spell=_spell_astype, stops_gradient=True, any_size=True)


def _lower_item(run: Any, a: Any, *index: Any, node: ast.AST) -> Any:
    """``x.item()`` of a one-element array, ``x.item(k)`` (the k-th element
    in C order, written ``x[i, j]``), ``x.item(i, j)``: the element, whose
    derivative passes through. Of a boolean array (``x.astype(bool)``,
    ``x > 0``), the element is a condition, as NumPy's is a bool."""
    if is_condition(a):
        values = run.number(a, node)
        element = _lower_item(run, values, *index, node=node)
        return a if element is values else sp.Ne(element, 0)
    array = run.number(a, node)
    shape = run.shape(array, node)
    size = int(np.prod(shape))
    if len(index) == 1 and len(shape) != 1:
        k = run.integer(index[0], node, "the index of .item()")
        if not -size <= k < size:
            raise run.error(node, f"index {k} is out of bounds for .item() "
                                  f"of an array of size {size}")
        index = tuple(sp.Integer(int(i))
                      for i in np.unravel_index(k % size, shape))
    if index:
        return getitem(run, array, index if len(index) > 1 else index[0],
                       node)
    if size != 1:
        raise run.error(node, f".item() of an array of shape {shape}: it "
                              "takes an array of one element; pick one with "
                              ".item(k) or an index")
    return reshape(run, array, (), node) if shape else array


ITEM = ArrayOp("item", methods=("item",), lower=_lower_item)


def _lower_clip(run: Any, a: Any, min: Any = None, max: Any = None, *,
                node: ast.AST) -> Any:
    """``x.clip(min, max)``: ``np.clip``, either bound None or left out."""
    bounds = [None if bound is None else run.number(_exact(bound), node)
              for bound in (min, max)]
    return run.checked(canonical(clip_with_open_bounds(
        run.number(a, node), *bounds)), node)


def _exact(value: Any) -> Any:
    """A number passed by keyword (which arrives as Python's) as exact
    SymPy, as literals are lowered: 0.1 is 1/10."""
    if isinstance(value, float):
        return sp.Rational(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return sp.Integer(value)
    return value


CLIP = ArrayOp("clip", methods=("clip",), lower=_lower_clip)
