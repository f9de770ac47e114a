"""Items of a filled copy that the fills did not touch, read from the
array copied.

A state stepped item by item into its trajectory (``Y[i + 1, 0] = ...;
Y[i + 1, 1] = f(Y[i, 0])``) is written as a copy filled twice, the second
value reading the copy after the first fill (``Y_1 = np.copy(Y); Y_1[i +
1, 0] += ...; a = Y_1[i, 0]``); its gradient made that copy again in each
backward step, from the trajectory as it was in that step, to read one
item of it. Row ``i`` is not row ``i + 1``: the item is the copied array's
(``a = Y[i, 0]``), the copy made only for it goes (``without_dead``), and
the trajectory's rows can be read from the array the loop ends with
(``_final_rows``).

Only what is proved is changed: the read's first index is ``i + d`` and
each fill's since the copy ``i + b``, ``b != d``, both never negative, in
a ``for i in range(...)`` loop.

Code without loops does the same with rows that are numbers: a gradient
through ``d[1] = ...`` takes the row's adjoint away in a copy (``g_1 =
np.copy(g); g_1[1] = 0``) and read its row 0 only, which is ``g[0]``
(``items_from_original``).
"""

from __future__ import annotations

import ast
from typing import Iterator

from ._dead_code import filled_arrays, owned_arrays
from ._dotted import dotted
from ._fills_as_sets import inner_bodies
from ._final_rows import first_index, offset, start_of
from ._walk import walk

__all__ = ["reads_through_fills", "items_from_original",
           "items_from_copies"]


def reads_through_fills(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with, in each ``for`` loop's body in it, ``v = c[k]``
    read as ``v = a[k]`` where ``c = np.copy(a)`` and no fill of ``c``
    since, nor any change of ``a``, can be at row ``k``."""
    inner_bodies(body, reads_through_fills)
    for statement in body:
        if isinstance(statement, ast.For) and isinstance(
                statement.target, ast.Name):
            start = start_of(statement)
            if start is not None and start >= 0:
                _through(statement.body, statement.target.id)
    return body


def _through(body: list[ast.stmt], counter: str) -> None:
    copies: dict[str, tuple[int, str]] = {}  # copy -> (where, of what)
    stores: dict[str, int] = {}
    for node in (n for s in body for n in walk(s)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    for place, statement in enumerate(body):
        if not (isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            continue
        value = statement.value
        if isinstance(value, ast.Call) and dotted(
                value.func) == "np.copy" and len(value.args) == 1 and \
                isinstance(value.args[0], ast.Name):
            if stores[statement.targets[0].id] == 1:
                copies[statement.targets[0].id] = (place, value.args[0].id)
            continue
        _shaped_by_original(statement, body[:place], copies)
        if not (isinstance(value, ast.Subscript) and isinstance(
                value.value, ast.Name) and value.value.id in copies):
            continue
        made, original = copies[value.value.id]
        read = offset(first_index(value.slice), body, counter)
        if read is None or read < 0:
            continue
        between = body[made + 1:place]
        fills = _fills(between, value.value.id)
        # (an original the body binds again, a carried array, may be the
        # copy itself once the loop fills it in place: its reads stay; and
        # a fill of any other array between may change the original
        # through a view)
        if fills is None or _changed(between, original) or any(
                isinstance(n, ast.Name) and n.id == original
                and isinstance(n.ctx, ast.Store)
                for s in body[made + 1:] for n in walk(s)) or any(
                filled_arrays(s) - {value.value.id} for s in between):
            continue
        offsets = [offset(first_index(index), body, counter)
                   for index in fills]
        if all(b is not None and b >= 0 and b != read for b in offsets):
            value.value = ast.Name(original, ast.Load())


def items_from_original(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` (straight code: its loops and branches are left alone)
    with ``c = np.copy(a)`` read as ``a`` where each read of ``c`` is of
    an item ``c[k]``, ``k`` a number, and since the copy no fill of ``c``
    can be at row ``k`` and nothing changed ``a``: the copy and its fills
    then go (``without_dead``)."""
    for made, copy, original, owned in _copies(body):
        for read in _item_reads(body, made, copy, copy, original,
                                owned) or ():
            read.value = ast.Name(original, ast.Load())
    return body


def items_from_copies(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` (straight code) with ``c = np.copy(a)`` where each read
    of ``a`` after it (but of its shape) is of an item ``a[k]`` that is
    ``c[k]`` there, read as ``c[k]``: ``a`` is then read only before the
    copy, which need not be made (``copies_unneeded``). The tangent of an
    array filled item by item read the item it had just copied."""
    for made, copy, original, owned in _copies(body):
        for read in _item_reads(body, made, original, copy, original,
                                owned) or ():
            read.value = ast.Name(copy, ast.Load())
    return body


def _copies(body: list[ast.stmt]
            ) -> Iterator[tuple[int, str, str, frozenset[str]]]:
    """(where, c, a, the arrays ``body`` made) of each ``c = np.copy(a)``
    in ``body``, where each is bound once and ``a`` is no view of an
    array the code fills (an argument, or an array it computed or made:
    a fill of another array made here then changes neither)."""
    stores: dict[str, int] = {}
    bound: dict[str, ast.expr] = {}
    for node in (n for s in body for n in walk(s)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            bound[node.targets[0].id] = node.value
    owned = owned_arrays(body)
    for made, statement in enumerate(body):
        value = getattr(statement, "value", None)
        if isinstance(statement, ast.Assign) \
                and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and stores[statement.targets[0].id] == 1 \
                and isinstance(value, ast.Call) \
                and dotted(value.func) == "np.copy" \
                and len(value.args) == 1 \
                and isinstance(value.args[0], ast.Name) \
                and stores.get(value.args[0].id, 0) <= 1 and (
                    value.args[0].id in owned
                    or value.args[0].id not in stores or isinstance(
                        bound.get(value.args[0].id),
                        (ast.BinOp, ast.UnaryOp))):
            yield made, statement.targets[0].id, value.args[0].id, owned


def _item_reads(body: list[ast.stmt], made: int, reader: str, copy: str,
                original: str, owned: frozenset[str]
                ) -> list[ast.Subscript] | None:
    """The reads of ``reader`` (``copy``, made at ``made``, or
    ``original``) after the copy (but of its shape), when each is of a
    row where the two are the same there; else None."""
    reads: list[ast.Subscript] = []
    for place in range(made + 1, len(body)):
        statement = body[place]
        # (a fill is no read, nor is a shape)
        skipped = {id(t.value) for t in getattr(statement, "targets", [
            getattr(statement, "target", None)]) if isinstance(
            t, ast.Subscript)} | {
            id(node.value) for node in walk(statement)
            if isinstance(node, ast.Attribute) and node.attr == "shape"}
        loads = [node for node in walk(statement)
                 if isinstance(node, ast.Name) and node.id == reader
                 and isinstance(node.ctx, ast.Load)
                 and id(node) not in skipped]
        if not loads:
            continue
        between = body[made + 1:place]
        fills = _fills(between, copy)
        # (a fill of an array not made here might be of a view of it)
        if fills is None or not isinstance(
                statement, (ast.Assign, ast.AugAssign, ast.Return)) or \
                _changed(between + [statement], original) or any(
                filled_arrays(s) - {copy} - owned for s in between):
            return None
        rows = [_row(index) for index in fills]
        items = {id(node.value): node for node in walk(statement)
                 if isinstance(node, ast.Subscript)
                 and isinstance(node.ctx, ast.Load)}
        for load in loads:
            item = items.get(id(load))
            row = None if item is None else _row(item.slice)
            if row is None or None in rows or row in rows:
                return None
            reads.append(item)
    return reads


def _row(index: ast.expr) -> int | None:
    """The first axis's index of ``index`` when it is a number, 0 or
    more (a negative one may be any row)."""
    first = first_index(index)
    if isinstance(first, ast.Constant) and type(first.value) is int \
            and first.value >= 0:
        return first.value
    return None


# Calls that read only the shape and dtype of their argument.
_LIKE = frozenset(("np.zeros_like", "np.ones_like", "np.empty_like"))


def _shaped_by_original(statement: ast.Assign, before: list[ast.stmt],
                        copies: dict[str, tuple[int, str]]) -> None:
    """``np.zeros_like(c)`` (``c.shape``) in ``statement`` read of ``a``
    where ``c = np.copy(a)`` (among the statements ``before`` it): a fill
    changes no shape, so the copy is not kept for its shape only."""
    for node in walk(statement):
        if isinstance(node, ast.Call) and dotted(node.func) in _LIKE:
            held = node.args[0] if node.args else None
        elif isinstance(node, ast.Attribute) and node.attr == "shape":
            held = node.value
        else:
            continue
        if isinstance(held, ast.Name) and held.id in copies:
            made, original = copies[held.id]
            if not any(isinstance(n, ast.Name) and n.id == original
                       and isinstance(n.ctx, ast.Store)
                       for s in before[made + 1:] for n in walk(s)):
                held.id = original


def _fills(statements: list[ast.stmt], name: str) -> list[ast.expr] | None:
    """The indices ``statements`` fill ``name`` at (``name[k] = v``,
    ``+=``, ``-=``), None when they may change it otherwise."""
    indices = []
    for statement in statements:
        if not any(isinstance(n, ast.Name) and n.id == name
                   for n in walk(statement)):
            continue
        target = statement.targets[0] if isinstance(
            statement, ast.Assign) and len(statement.targets) == 1 else \
            statement.target if isinstance(statement, ast.AugAssign) \
            else None
        if isinstance(target, ast.Subscript) and isinstance(
                target.value, ast.Name) and target.value.id == name:
            indices.append(target.slice)
        elif target is None or _changed([statement], name):
            return None  # (read only by statements that bind a name)
    return indices


def _changed(statements: list[ast.stmt], name: str) -> bool:
    """Whether ``statements`` may change ``name``: bind it, fill it, or
    pass it to a call."""
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.Name) and node.id == name and (
                    isinstance(node.ctx, ast.Store)):
                return True
            if isinstance(node, ast.Subscript) and isinstance(
                    node.value, ast.Name) and node.value.id == name and \
                    isinstance(node.ctx, ast.Store):
                return True
            if isinstance(node, ast.Call) and any(
                    isinstance(a, ast.Name) and a.id == name
                    for a in node.args) and dotted(node.func) != "np.copy":
                return True
    return False
