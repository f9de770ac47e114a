"""Python containers read item by item: dict views, ``list``/``tuple``,
``enumerate``, ``zip`` and ``reversed`` over lists, tuples and dicts; new
dicts made by ``dict(...)`` and ``d.copy()``.

Lowering holds a pytree argument as the Python container of its leaves'
values (a dict of symbols), so ``for name, p in params.items()`` or
``sum(np.sum(p ** 2) for p in params.values())`` is run as Python runs
it, item by item, and the loop is written out. Over arrays, ``enumerate``
and ``zip`` stay loops over rows (``_lower_loops``); they are not read
here.
"""

from __future__ import annotations

import ast
import itertools
from typing import Any

import sympy as sp

from ._lists import made
from ._ops_assemble import ARRAY
from ._ops_index import getitem

__all__ = ["View", "array_rows", "view", "container_call", "container_items",
           "item_at_run_time"]

_VIEWS = ("keys", "values", "items")
_BUILDERS = (list, tuple, enumerate, zip, reversed)


class View:
    """``d.keys``, ``d.values`` or ``d.items`` of a dict lowering holds,
    before it is called."""

    def __init__(self, mapping: dict[Any, Any], name: str) -> None:
        self.mapping = mapping
        self.name = name

    def items(self) -> tuple[Any, ...]:
        return tuple(getattr(self.mapping, self.name)())


class Lookup:
    """``d.get`` of a dict lowering holds, before it is called."""

    def __init__(self, mapping: dict[Any, Any]) -> None:
        self.mapping = mapping


class Copy:
    """``d.copy`` of a dict lowering holds, before it is called."""

    def __init__(self, mapping: dict[Any, Any]) -> None:
        self.mapping = mapping


def view(base: Any, name: str) -> View | Lookup | Copy | None:
    """The view ``base.name`` is, if ``base`` is a dict and ``name`` one
    of its views (or ``get``, or ``copy``)."""
    if isinstance(base, dict) and name in _VIEWS:
        return View(base, name)
    if isinstance(base, dict) and name == "get":
        return Lookup(base)
    if isinstance(base, dict) and name == "copy":
        return Copy(base)
    return None


def container_items(run: Any, node: ast.expr,
                    env: dict[str, Any]) -> tuple[Any, ...] | None:
    """The items of ``node`` if it is a call that reads Python containers
    (``params.items()``, ``zip(names, weights)``), else None; nothing is
    lowered for a call it is not (``range(n)``, ``zip`` of arrays)."""
    if not isinstance(node, ast.Call) or any(
            isinstance(a, ast.Starred) for a in node.args):
        return None
    callee = run.expression(node.func, env)
    if callee in _COMBINATORICS:  # (product(range(n), repeat=2) too)
        return _combined(run, callee, node, env)
    # (enumerate's start is an argument like the others)
    counted = callee is enumerate and [k.arg for k in node.keywords] == [
        "start"] and len(node.args) == 1
    if node.keywords and not counted:
        return None
    if isinstance(callee, View):
        return None if node.args else callee.items()
    if not any(callee is b for b in _BUILDERS) or not node.args or any(
            container_items(run, a, env) is None
            for a in node.args if isinstance(a, ast.Call)):
        return None
    args = [run.expression(a, env)
            for a in node.args + [k.value for k in node.keywords]]
    if callee is enumerate or callee is zip:
        # (a loop keeps a loop over an array's rows; a comprehension
        # writes them out, as it does of the array itself)
        items = args[:1] if callee is enumerate else args
        items = [array_rows(run, a, node, f"{callee.__name__}()")
                 if isinstance(a, sp.Expr) and run.shape(a, node) else a
                 for a in items]
        args = items + args[len(items):]
    if callee is enumerate and len(args) == 2:
        return _counted(run, args, node)
    return _built(callee, args)


def _counted(run: Any, args: list[Any], node: ast.Call) -> Any:
    """``enumerate(items, start)`` of a list, tuple or dict: the pairs,
    counted from ``start``, an integer known now; None for other items
    (an array's rows are a loop's)."""
    items, start = args
    if not isinstance(items, (list, tuple, dict)):
        return None
    start = run.concrete(start)
    if not isinstance(start, (int, sp.Integer)):
        raise run.error(node, "enumerate() counts from an integer known "
                              "when the function is differentiated here")
    return tuple((sp.Integer(i), item)
                 for i, item in enumerate(items, int(start)))


def _combined(run: Any, callee: Any, node: ast.Call,
              env: dict[str, Any]) -> tuple[Any, ...]:
    """``itertools.combinations(range(n), 2)`` and its kind, over counts
    and items known when the function is differentiated: the tuples, as
    Python makes them."""
    args = []
    for arg in node.args:
        if isinstance(arg, ast.Call) and run.expression(
                arg.func, env) is range and not arg.keywords:
            bounds = [run.concrete(run.expression(a, env))
                      for a in arg.args]
            if not all(isinstance(b, (int, sp.Integer)) for b in bounds):
                raise run.error(arg, "a range here counts to a number known "
                                     "when the function is differentiated")
            args.append(range(*(int(b) for b in bounds)))
            continue
        value = run.concrete(run.expression(arg, env))
        if isinstance(value, sp.Integer):
            value = int(value)
        if isinstance(value, sp.Basic) and value.free_symbols:
            raise run.error(arg, f"{ast.unparse(node.func)}() runs over "
                                 "items known when the function is "
                                 "differentiated, not values computed from "
                                 "its arguments")
        args.append(value)
    keywords = {key: run.concrete(value) for key, value in
                run.keyword_arguments(node, env).items()}
    try:
        made = tuple(callee(*args, **{key: int(value) if isinstance(
            value, sp.Integer) else value for key, value in keywords.items()}))
    except TypeError as exc:
        raise run.error(node, str(exc)) from None
    return tuple(tuple(sp.Integer(item) if isinstance(item, int) else item
                       for item in combination) for combination in made)


# Products and choices of the items of ranges and containers.
_COMBINATORICS = (itertools.combinations, itertools.permutations,
                  itertools.product, itertools.combinations_with_replacement)


def _built(callee: Any, args: list[Any]) -> tuple[Any, ...] | None:
    if not all(isinstance(a, (list, tuple, dict)) for a in args):
        return None
    if callee is zip:
        return tuple(zip(*args))
    if len(args) != 1:
        return None
    (items,) = args
    if callee is enumerate:
        return tuple((sp.Integer(i), item) for i, item in enumerate(items))
    if callee is reversed:
        return tuple(reversed(items if not isinstance(items, dict)
                              else list(items)))
    return tuple(items)


def container_call(run: Any, callee: Any, node: ast.Call,
                   env: dict[str, Any]) -> Any:
    """The value of a call that reads Python containers, as Python gives
    it (``list(...)`` a list the function may append to, the others
    tuples); None for any other call."""
    if isinstance(callee, Lookup):  # params.get('b', 0.0)
        args = [run.expression(a, env) for a in node.args]
        if node.keywords or not 1 <= len(args) <= 2 or isinstance(
                args[0], sp.Basic) and args[0].free_symbols:
            raise run.error(node, "get() takes a key known when the "
                                  "function is differentiated and a "
                                  "default: d.get('b', 0.0)")
        return callee.mapping.get(args[0], None if len(args) == 1
                                  else args[1])
    if callee is dict or isinstance(callee, Copy):
        return _new_dict(run, callee, node, env)
    if not isinstance(callee, View) and not any(
            callee is b for b in _BUILDERS):
        return None
    items = container_items(run, node, env)
    if items is None:
        items = _of_an_array(run, callee, node, env)
    if items is None:
        return None
    if callee is list:
        return made(run, list(items))
    return items


def _of_an_array(run: Any, callee: Any, node: ast.Call,
                 env: dict[str, Any]) -> Any:
    """``list(x)``, ``tuple(x)`` or ``reversed(x)`` of an array: its rows
    (written out), or, reversed, the array of its rows from the last
    (``x[::-1]``, which a loop or a generator iterates); None for any
    other call."""
    if not (any(callee is b for b in (list, tuple, reversed))
            and len(node.args) == 1 and not node.keywords):
        return None
    array = run.expression(node.args[0], env)
    if not isinstance(array, sp.Expr):
        return None
    if not run.shape(array, node):
        raise run.error(node, f"{ast.unparse(node.func)}() of a number: "
                              "iteration over a 0-d array is not "
                              "possible; pass an array of one axis or more")
    if callee is reversed:
        return getitem(run, array, slice(None, None, -1), node)
    return tuple(array_rows(run, array, node, f"{callee.__name__}()"))


def _new_dict(run: Any, callee: Any, node: ast.Call,
              env: dict[str, Any]) -> dict[Any, Any]:
    """``dict(params, b=b)``, ``dict(a=x)``, ``dict(zip(names, values))``
    or ``params.copy()``: a new dict, which the function may set items
    of, as Python makes it."""
    if isinstance(callee, Copy):
        if node.args or node.keywords:
            raise run.error(node, "a dict's copy() takes no arguments")
        return made(run, dict(callee.mapping))
    if len(node.args) > 1 or any(isinstance(a, ast.Starred)
                                 for a in node.args):
        raise run.error(node, "dict() takes one dict or one sequence of "
                              "(key, value) pairs, and keywords: "
                              "dict(params, b=b)")
    items: dict[Any, Any] = {}
    if node.args:
        given = container_items(run, node.args[0], env)  # zip(keys, ...)
        if given is None:
            given = run.expression(node.args[0], env)
        pairs = given.items() if isinstance(given, dict) else given
        if not (isinstance(pairs, (list, tuple)) or isinstance(
                given, dict)) or not all(
                isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
            raise run.error(node.args[0], "dict() takes a dict or a "
                                          "sequence of (key, value) pairs")
        for key, value in pairs:
            if isinstance(key, sp.Basic) and key.free_symbols:
                raise run.error(node.args[0], "dict keys must be constants")
            items[int(key) if isinstance(key, sp.Integer) else key] = value
    for keyword in node.keywords:
        if keyword.arg is None:  # dict(**params)
            spread = run.expression(keyword.value, env)
            if not isinstance(spread, dict):
                raise run.error(keyword.value, "** in dict() needs a dict")
            items.update(spread)
        else:
            items[keyword.arg] = run.expression(keyword.value, env)
    return made(run, items)


def array_rows(run: Any, array: sp.Expr, node: ast.AST,
               reader: str) -> list[Any]:
    """The rows of ``array``, as Python iterates an array, for ``reader``
    (``list(x)``, a comprehension): written out, one value each, so the
    code is for this number of rows, and checks it."""
    count = run.shape(array, node)[0]
    run.program.baked.append(f"{reader} over the {count} rows of an array "
                             "is written out for them")
    return [getitem(run, array, row, node) for row in range(count)]


def item_at_run_time(run: Any, items: list[Any] | tuple[Any, ...],
                     index: Any, node: ast.Subscript) -> Any:
    """``items[n]`` where ``n`` is an integer known only when the code
    runs (an int argument, the counter of a loop kept as a loop): the row
    ``n`` of the array of the items, as ``np.array(items)[n]`` reads it,
    which is the item for every ``n``; None where ``index`` is not such an
    integer."""
    if not (isinstance(index, sp.Expr) and index.free_symbols
            and run.program.is_integer(index)
            and run.shape(index, node) == ()):
        return None
    spelled = ast.unparse(node)
    if not items or not all(isinstance(v, sp.Expr) for v in items) or len(
            {run.shape(v, node) for v in items}) != 1:
        raise run.error(node, f"{spelled}: an index known only when the "
                              f"function runs ({ast.unparse(node.slice)}) "
                              "reads the item as a row of the array of the "
                              "items, which must be numbers, or arrays of "
                              "one shape: give the items one shape, or bind "
                              "the index with functools.partial")
    return getitem(run, ARRAY.lower(run, items, node=node), index, node)
