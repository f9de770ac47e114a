"""An item read back right after it is filled, taken from what was filled.

A state stepped item by item (``Y[i + 1, 0] = ...; Y[i + 1, 1] = f(k *
Y[i + 1, 0])``) is written as a copy filled item by item; the gradient
with respect to ``k`` reads ``Y[i + 1, 0]`` again in each backward step,
from a copy it made of the trajectory as it was in that step (``Y_1 =
np.copy(Y_i); Y_1[i + 1, 0] = e; a = Y_1[i + 1, 0]``). That read kept the
copy, and the copy kept a history of the whole trajectory per step: O(n^2)
time and memory for what needs O(n). Read as the value filled (``a = e;
Y_1[i + 1, 0] = a``), nothing reads the copy, which goes
(``without_dead``), and the rows the step reads come from the array the
loop ends with (``_final_rows``).

Only what is proved is changed: the read is of the very index filled,
spelled alike, with nothing between that binds a name the index or the
value reads or changes an array; the read is a number (one item); and the
filled array holds float64 (made by ``np.zeros`` and the like without a
dtype, or copied or cut from such an array) as the value filled does (it
computes with an item of such an array), so the item read is the value
filled, not that value cast.
"""

from __future__ import annotations

import ast
from collections import Counter

from ._dead_code import FILLING
from ._dotted import dotted
from ._fills_as_sets import inner_bodies
from ._walk import walk

__all__ = ["float64_arrays", "items_as_filled", "stored"]

# Calls that make a float64 array when given no dtype.
_MADE = frozenset(("np.zeros", "np.ones", "np.empty"))
# Calls whose result has the dtype of their first argument.
_KEEPING = frozenset(("np.copy", "np.zeros_like", "np.ones_like",
                      "np.empty_like"))


def float64_arrays(code: list[ast.stmt]) -> frozenset[str]:
    """The names ``code`` binds only to float64 arrays (and items of
    them): each binding is a simple assignment of ``np.zeros(shape)``
    and the like without a dtype, or a copy, an item or a cut of such a
    name. The largest such set, so that a value a loop carries (``Y_1 =
    Y`` before it, ``Y_1 = Y_2`` in it, ``Y_2 = np.copy(Y_1)``) is one."""
    bindings: dict[str, list[ast.expr | None]] = {}
    stores = stored(code)
    for node in (n for s in code for n in walk(s)):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(
                       node, (ast.AugAssign, ast.AnnAssign, ast.For))
                   else [])
        for target in targets:
            for part in walk(target):
                if isinstance(part, ast.Name) and isinstance(
                        part.ctx, ast.Store):
                    simple = isinstance(node, ast.Assign) and target is part
                    bindings.setdefault(part.id, []).append(
                        node.value if simple else None)
    # (a name bound otherwise too, in a comprehension, is left out)
    floats = {name for name, values in bindings.items()
              if len(values) == stores[name]}
    while True:
        kept = {name for name in floats
                if all(_float64(value, floats) for value in bindings[name])}
        if kept == floats:
            return frozenset(floats)
        floats = kept


def stored(code: list[ast.stmt]) -> Counter[str]:
    """How many times ``code`` binds each name."""
    return Counter(n.id for s in code for n in walk(s)
                   if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))


def _float64(value: ast.expr | None, floats: set[str]) -> bool:
    if isinstance(value, ast.Name):
        return value.id in floats
    if isinstance(value, ast.Subscript):
        return isinstance(value.value, ast.Name) and value.value.id in floats
    if not (isinstance(value, ast.Call) and value.args
            and not value.keywords):
        return False
    spelled = dotted(value.func)
    if spelled in _MADE:
        return len(value.args) == 1
    return spelled in _KEEPING and len(value.args) == 1 and _float64(
        value.args[0], floats)


def _computes_float64(value: ast.expr, floats: frozenset[str]) -> bool:
    """Whether ``value`` is certainly a float64 number where it is one
    item: an item of a float64 array, or arithmetic with such an operand,
    which NumPy computes in float64 (not a comparison, a bool)."""
    if isinstance(value, (ast.Name, ast.Subscript)):
        return _float64(value, floats)
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return _computes_float64(value.operand, floats)
    return isinstance(value, ast.BinOp) and isinstance(value.op, (
        ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)) and (
        _computes_float64(value.left, floats)
        or _computes_float64(value.right, floats))


def items_as_filled(body: list[ast.stmt], floats: frozenset[str],
                    numbers: frozenset[str], bound_once: frozenset[str]
                    ) -> list[ast.stmt]:
    """``body`` (and each loop's and branch's body in it) with ``v =
    c[k]`` right after ``c[k] = e`` written ``v = e; c[k] = v``, where
    ``c`` is among ``floats``, ``v`` among ``numbers`` (one item) and
    ``bound_once`` (no other binding sees it moved)."""
    inner_bodies(body, lambda inner: items_as_filled(inner, floats, numbers,
                                                     bound_once))
    place = 0
    while place < len(body):
        fill = body[place]
        target = _filled_item(fill, floats)
        if target is not None:
            _forward(body, place, target, floats, numbers, bound_once)
        place += 1
    return body


def _filled_item(statement: ast.stmt, floats: frozenset[str]
                 ) -> ast.Subscript | None:
    """The target of ``c[k] = e`` for ``c`` among ``floats``."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Subscript)):
        return None
    target = statement.targets[0]
    if isinstance(target.value, ast.Name) and target.value.id in floats \
            and not isinstance(target.slice, ast.Slice) and not any(
                isinstance(n, ast.Slice) for n in walk(target.slice)):
        return target
    return None


def _forward(body: list[ast.stmt], place: int, target: ast.Subscript,
             floats: frozenset[str], numbers: frozenset[str],
             bound_once: frozenset[str]) -> None:
    fill = body[place]
    assert isinstance(fill, ast.Assign)
    if not _computes_float64(fill.value, floats):
        return  # (a float32 or a bool put in is read back as float64)
    array = target.value.id  # type: ignore[attr-defined]
    index = ast.dump(target.slice)
    read = {n.id for n in walk(target.slice) if isinstance(n, ast.Name)}
    read |= {n.id for n in walk(fill.value) if isinstance(n, ast.Name)}
    seen: set[str] = set()  # names loaded since the fill
    for later in range(place + 1, len(body)):
        statement = body[later]
        if not (isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)) or any(
                isinstance(n, ast.Call) and dotted(n.func) in FILLING
                for n in walk(statement)):
            return
        name = statement.targets[0].id
        value = statement.value
        if isinstance(value, ast.Subscript) and isinstance(
                value.value, ast.Name) and value.value.id == array and \
                ast.dump(value.slice) == index and name in numbers and \
                name in bound_once and name not in seen:
            body[place:place + 1] = [
                ast.copy_location(ast.Assign(
                    [ast.Name(name, ast.Store())], fill.value), fill),
                ast.copy_location(ast.Assign(
                    [target], ast.Name(name, ast.Load())), fill)]
            del body[later + 1]
            return
        if name in read or name == array:
            return
        seen |= {n.id for n in walk(value) if isinstance(n, ast.Name)}
