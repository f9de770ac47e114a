"""Rows of a loop's stored history read from the array the loop ends with.

A loop that fills an array row by row, ``Y[i + 1] = Y[i] + h * f(Y[i])``
(an integrator into its trajectory), carries the whole array, so its
gradient stored the array as it was in each iteration (``Y_history[i] =
Y``) to read one row of it back (``Y_i = Y_history[i_1]; Y_i[i_1]``):
O(n^2) memory and a copy per iteration for what needs O(n). A row no
later iteration fills again is the same in the array the loop ends with,
so the backward loop reads it there and the history goes (``without_dead``
then takes it away, and ``refilled`` fills the array in place).

Only what is proved is changed: every fill of the array in the loop at an
index ``i + b``, every row read at ``i + d`` with ``b > d``, both never
negative (a negative index is a row from the end), the same ``range`` both
ways, no ``break``.
"""

from __future__ import annotations

import ast
from typing import Iterator

import sympy as sp

from ._dead_code import FILLING
from ._dotted import dotted
from ._walk import walk

__all__ = ["first_index", "offset", "rows_from_final", "start_of"]

_INDEX = sp.Symbol("i", integer=True)


def rows_from_final(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` (and each loop's body in it) with the rows a backward loop
    reads of a forward loop's history read from the array the forward loop
    ends with, where no later iteration fills that row again."""
    for statement in body:
        if isinstance(statement, (ast.For, ast.While, ast.If)):
            statement.body = rows_from_final(statement.body)
    for place, statement in enumerate(body):
        if isinstance(statement, ast.For):
            for history, carried, offsets in _histories(statement):
                _read_from_final(body, place, history, carried, offsets)
    return body


def _histories(loop: ast.For
               ) -> Iterator[tuple[str, str, list[int]]]:
    """(history, carried, the b of each fill) for each ``history[i] =
    carried`` in ``loop`` whose rows the loop fills (itself or a copy of
    it) only at ``i + b``, none before the history is stored: carried's
    other names are its copies, and it is rebound only at the end, to one
    of them."""
    index = _counter(loop, reverse=False)
    if index is None or any(isinstance(n, ast.Break)
                            for n in walk(loop)):
        return
    for place, statement in enumerate(loop.body):
        if not (isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.value, ast.Name)):
            continue
        target = statement.targets[0]
        if not (isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and isinstance(target.slice, ast.Name)
                and target.slice.id == index):
            continue
        carried = statement.value.id
        versions = _versions(loop.body, carried)
        if versions is None or _bound_before(loop.body[:place], carried):
            continue
        offsets = _fill_offsets(loop.body, versions, index)
        if offsets is not None:
            yield target.value.id, carried, offsets


def _counter(loop: ast.For, reverse: bool) -> str | None:
    """The counter of ``for i in range(...)`` (``reversed(range(...))``
    when ``reverse``), None for another loop."""
    iterator = loop.iter
    if reverse:
        if not (isinstance(iterator, ast.Call)
                and dotted(iterator.func) == "reversed"
                and len(iterator.args) == 1):
            return None
        iterator = iterator.args[0]
    if not (isinstance(iterator, ast.Call) and isinstance(loop.target, ast.Name)
            and dotted(iterator.func) == "range"
            and len(iterator.args) in (1, 2) and not loop.orelse):
        return None
    return loop.target.id


def _range(loop: ast.For) -> str:
    iterator = loop.iter
    if dotted(iterator.func) == "reversed":  # type: ignore[attr-defined]
        iterator = iterator.args[0]  # type: ignore[attr-defined]
    return ast.unparse(iterator)


def start_of(loop: ast.For) -> int | None:
    """Where ``for i in range(...)`` (or ``reversed(range(...))``) starts:
    None when that is not an integer constant, or the loop is another."""
    if _counter(loop, reverse=False) is None and _counter(
            loop, reverse=True) is None:
        return None
    iterator = loop.iter
    if dotted(iterator.func) == "reversed":  # type: ignore[attr-defined]
        iterator = iterator.args[0]  # type: ignore[attr-defined]
    args = iterator.args  # type: ignore[attr-defined]
    if len(args) == 1:
        return 0
    start = args[0]
    return start.value if isinstance(start, ast.Constant) and \
        type(start.value) is int else None


def _versions(body: list[ast.stmt], carried: str) -> set[str] | None:
    """``carried`` and the names ``body`` binds to copies of it, when its
    only other binding is to one of them, at the end (``x = x_1``, among
    the other carried values' bindings: nothing after reads either);
    None otherwise."""
    versions = {carried}
    rebound = None
    for place, statement in enumerate(body):
        for node in walk(statement):
            if not isinstance(node, (ast.Assign, ast.AugAssign,
                                     ast.AnnAssign)):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [
                node.target]
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                if target.id == carried:
                    if node is not statement or rebound is not None or not (
                            isinstance(node.value, ast.Name)
                            and node.value.id in versions):
                        return None
                    rebound = place
                elif _copied(node.value) in versions:
                    versions.add(target.id)
    if rebound is None or any(
            isinstance(node, ast.Name) and node.id in versions
            for statement in body[rebound + 1:]
            for node in walk(statement)):
        return None
    return versions


def _copied(value: ast.expr | None) -> str | None:
    if isinstance(value, ast.Call) and dotted(value.func) == "np.copy" \
            and len(value.args) == 1 and isinstance(value.args[0], ast.Name):
        return value.args[0].id
    return None


def _bound_before(statements: list[ast.stmt], name: str) -> bool:
    """Whether ``statements`` fill or rebind ``name``."""
    return any(isinstance(node, ast.Name) and node.id == name
               and isinstance(node.ctx, ast.Store)
               for statement in statements for node in walk(statement)
               ) or _filled(statements, {name}) != []


def _filled(statements: list[ast.stmt], names: set[str]
            ) -> list[ast.expr] | None:
    """The indices ``statements`` fill ``names`` at; None when one of them
    is changed otherwise (a filling call)."""
    indices: list[ast.expr] = []
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.Call) and dotted(
                    node.func) in FILLING and any(
                    isinstance(a, ast.Name) and a.id in names
                    for a in node.args[:1]):
                return None
            targets = node.targets if isinstance(node, ast.Assign) else [
                node.target] if isinstance(node, ast.AugAssign) else []
            for target in targets:
                for part in walk(target):
                    if isinstance(part, ast.Subscript) and isinstance(
                            part.value, ast.Name) and part.value.id in names:
                        if part is not target:
                            return None
                        indices.append(part.slice)
    return indices


def _fill_offsets(body: list[ast.stmt], versions: set[str], index: str
                  ) -> list[int] | None:
    """The ``b`` of each ``i + b`` the loop fills the versions at, None if
    one is not of that form."""
    indices = _filled(body, versions)
    if indices is None:
        return None
    offsets = [offset(first_index(i), body, index) for i in indices]
    return None if any(o is None for o in offsets) else offsets


def first_index(index: ast.expr) -> ast.expr | None:
    """The first axis's index of ``index``, None for a slice."""
    if isinstance(index, ast.Tuple):
        index = index.elts[0] if index.elts else None
    return None if isinstance(index, (ast.Slice, type(None))) else index


def offset(index: ast.expr | None, body: list[ast.stmt], counter: str
           ) -> int | None:
    """``index - i`` when ``index`` is ``i`` plus an integer constant
    (through the names ``body`` binds once to such sums), else None."""
    if index is None:
        return None
    value = _as_sum(index, _simple_bindings(body), counter)
    if value is None:
        return None
    difference = sp.expand(value - _INDEX)
    return int(difference) if difference.is_Integer else None


def _simple_bindings(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """The names ``body``'s own statements bind exactly once, to what."""
    counts: dict[str, int] = {}
    for statement in body:
        for node in walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
    return {s.targets[0].id: s.value for s in body
            if isinstance(s, ast.Assign) and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and counts[s.targets[0].id] == 1}


def _as_sum(node: ast.expr, bound: dict[str, ast.expr], counter: str
            ) -> sp.Expr | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sp.Integer(node.value)
    if isinstance(node, ast.Name):
        if node.id == counter:
            return _INDEX
        return _as_sum(bound[node.id], bound, counter) \
            if node.id in bound else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _as_sum(node.operand, bound, counter)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add,
                                                            ast.Sub)):
        left = _as_sum(node.left, bound, counter)
        right = _as_sum(node.right, bound, counter)
        if left is None or right is None:
            return None
        return left + right if isinstance(node.op, ast.Add) else left - right
    return None


def _read_from_final(body: list[ast.stmt], place: int, history: str,
                     carried: str, offsets: list[int]) -> None:
    """Each later backward loop's ``row = history[i]`` read as ``carried``
    itself, when every read of the history is such a row, read only at
    rows no iteration from it on fills, and nothing after the forward loop
    changes ``carried``."""
    forward = body[place]
    assert isinstance(forward, ast.For)
    start = start_of(forward)
    after = body[place + 1:]
    if start is None or _bound_before(after, carried):
        return
    readers = []
    for statement in after:
        reads = [n for n in walk(statement) if isinstance(n, ast.Name)
                 and n.id == history]
        if not reads:
            continue
        row = _row_read(statement, history, forward)
        if row is None or len(reads) != 1:
            return
        readers.append((statement, row))
    for loop, (reading, row) in readers:
        counter = loop.target.id
        rows = [n for n in walk(loop) if isinstance(n, ast.Name)
                and n.id == row]
        reads = [n for n in walk(loop) if isinstance(n, ast.Subscript)
                 and isinstance(n.value, ast.Name) and n.value.id == row]
        # (the row is read only by item, at i + d with d below every fill,
        # or for its shape, the final array's)
        if len(rows) != len(reads) + len(_shape_reads(loop, row)) + 1:
            return
        for read in reads:
            if not isinstance(read.ctx, ast.Load):
                return
            row_at = offset(first_index(read.slice), loop.body, counter)
            if row_at is None or start + row_at < 0 or any(
                    b <= row_at or start + b < 0 for b in offsets):
                return
    for loop, (reading, row) in readers:
        loop.body.remove(reading)
        for node in walk(loop):
            if isinstance(node, ast.Name) and node.id == row:
                node.id = carried


def _shape_reads(loop: ast.For, name: str) -> list[ast.Name]:
    """``name`` read in ``loop`` for its shape only: ``name.shape``,
    ``np.zeros_like(name)``."""
    held = [node.args[0] if isinstance(node, ast.Call) else node.value
            for node in walk(loop)
            if isinstance(node, ast.Call) and node.args and dotted(
                node.func) in ("np.zeros_like", "np.ones_like",
                               "np.empty_like")
            or isinstance(node, ast.Attribute) and node.attr == "shape"]
    return [n for n in held if isinstance(n, ast.Name) and n.id == name]


def _row_read(statement: ast.stmt, history: str, forward: ast.For
              ) -> tuple[ast.Assign, str] | None:
    """(``row = history[i]``, row) when ``statement`` is a backward loop
    over the forward loop's range whose body starts reading the history
    so; None otherwise."""
    if not (isinstance(statement, ast.For)
            and _counter(statement, reverse=True) is not None
            and _range(statement) == _range(forward)):
        return None
    counter = statement.target.id  # type: ignore[union-attr]
    for inner in statement.body:
        if isinstance(inner, ast.Assign) and len(inner.targets) == 1 \
                and isinstance(inner.targets[0], ast.Name) \
                and isinstance(inner.value, ast.Subscript) \
                and isinstance(inner.value.value, ast.Name) \
                and inner.value.value.id == history \
                and isinstance(inner.value.slice, ast.Name) \
                and inner.value.slice.id == counter:
            return inner, inner.targets[0].id
    return None
