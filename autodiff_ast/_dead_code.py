"""Statements of generated code whose results nothing reads, taken away.

A loop's body is written step by step, and later passes (a copy-and-fill
made a fill in place) can leave a value, or a whole inner loop that
recomputes a history, that nothing reads any more: the gradient of an
update item by item ran its forward loop again in each backward step, to
fill a history no statement read. A statement goes when every name it
binds is read nowhere else, and every array it changes item by item is
one the same code made (``h = np.empty(...)``), which no other name can
hold; a loop goes when that is true of everything its body binds.
"""

from __future__ import annotations

import ast
from collections import Counter

from ._dotted import dotted
from ._walk import statements_in, walk

__all__ = ["FILLING", "filled_arrays", "owned_arrays", "without_dead"]

# Calls whose result is a new array (or list): changing its items changes
# nothing another name holds.
_FRESH = frozenset(("np.empty", "np.zeros", "np.ones", "np.full",
                    "np.empty_like", "np.zeros_like", "np.ones_like",
                    "np.full_like", "np.copy"))
# Calls made as statements that only change their first argument.
FILLING = frozenset(("np.add.at", "np.put_along_axis"))


def without_dead(body: list[ast.stmt], kept: set[str],
                 owned: frozenset[str] = frozenset()) -> list[ast.stmt]:
    """``body`` without the statements whose results nothing reads: no
    other statement of ``body`` and none of the ``kept`` names (what the
    code after it reads); and so in the body of each loop it keeps.
    ``owned``: arrays the code around ``body`` made (see ``owned_arrays``)."""
    # What each statement reads and fills, found once (a statement stays
    # as it is while others around it go; a loop is found again once its
    # body has been through this).
    facts: dict[int, tuple[ast.stmt, set[str], set[str]]] = {}

    def reads_and_fills(statement: ast.stmt) -> tuple[set[str], set[str]]:
        known = facts.get(id(statement))
        if known is None or known[0] is not statement:
            known = facts[id(statement)] = (
                statement, _loads(statement), filled_arrays(statement))
        return known[1], known[2]

    while True:
        owned = owned | owned_arrays(body)
        loads = [reads_and_fills(statement)[0] for statement in body]
        fills = [reads_and_fills(statement)[1] for statement in body]
        readers = Counter(name for names in loads for name in names)
        fillers = Counter(name for names in fills for name in names)
        dead = []
        for statement, read, filled_here in zip(body, loads, fills):
            changed = _changes(statement)
            if changed is None:
                continue
            bound, filled = changed
            if not bound | filled or not filled <= owned:
                continue
            # (an array a statement that stays fills is bound still)
            if not any(name in kept or readers[name] > (name in read)
                       for name in bound | filled) and not any(
                    fillers[name] > (name in filled_here) for name in bound):
                dead.append(statement)
        if not dead:
            break
        body = [s for s in body if not any(s is d for d in dead)]
    shortened = False
    for statement in body:
        if isinstance(statement, ast.For):
            # what the loop must keep: what the code around it reads
            around = kept | {name for other in body if other is not statement
                             for name in reads_and_fills(other)[0]}
            before = list(statement.body)
            statement.body = without_dead(statement.body, around,
                                          owned) or [ast.Pass()]
            shortened |= statement.body != before
            facts.pop(id(statement))  # (its loops' bodies may be shorter)
    return without_dead(body, kept, owned) if shortened else body


def _changes(statement: ast.stmt) -> tuple[set[str], set[str]] | None:
    """The names ``statement`` binds and the arrays it changes item by
    item; None when it may do anything else (a call for its effect, a
    return, a branch)."""
    if isinstance(statement, (ast.Assign, ast.AugAssign)):
        targets = statement.targets if isinstance(
            statement, ast.Assign) else [statement.target]
        bound: set[str] = set()
        filled: set[str] = set()
        for target in targets:
            if isinstance(target, ast.Name):
                bound.add(target.id)
            elif isinstance(target, ast.Subscript) and isinstance(
                    target.value, ast.Name):
                filled.add(target.value.id)
            else:
                return None
        return bound, filled
    if isinstance(statement, ast.Expr):
        call = statement.value
        if not (isinstance(call, ast.Call) and call.args
                and isinstance(call.args[0], ast.Name)):
            return None
        spelled = dotted(call.func)
        if spelled in FILLING:
            return set(), {call.args[0].id}
        return None
    if isinstance(statement, ast.Pass):
        return set(), set()
    if isinstance(statement, ast.For) and not statement.orelse:
        if not isinstance(statement.target, ast.Name):
            return None
        bound, filled = {statement.target.id}, set()
        for inner in statement.body:
            changed = _changes(inner)
            if changed is None:
                return None
            bound |= changed[0]
            filled |= changed[1]
        return bound, filled
    return None


def owned_arrays(body: list[ast.stmt]) -> frozenset[str]:
    """The names ``body`` binds to new arrays only (every binding of them,
    also in its loops, a fresh array), never to another name's value."""
    fresh: set[str] = set()
    other: set[str] = set()
    for statement in body:
        for node in statements_in(statement):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name):
                    (fresh if _makes_new(node.value) else other).add(
                        target.id)
    return frozenset(fresh - other)


def _makes_new(value: ast.expr) -> bool:
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        # a list of a loop's history, [0.0] * n
        return any(isinstance(side, ast.List) and all(
            isinstance(item, ast.Constant) for item in side.elts)
            for side in (value.left, value.right))
    return isinstance(value, ast.Call) and dotted(value.func) in _FRESH


def _loads(statement: ast.stmt) -> set[str]:
    """The names ``statement`` reads: of an item it assigns, the index
    and the value, not the array changed (``x[i] += v`` reads it); inside
    a ``for`` loop, not the loop's own counter."""
    if isinstance(statement, ast.For):
        inner = set().union(*[_loads(s) for s in statement.body])
        if isinstance(statement.target, ast.Name):
            inner.discard(statement.target.id)
        return inner | _names_read(statement.iter)
    if isinstance(statement, ast.Assign):
        names = _names_read(statement.value)
        for target in statement.targets:
            if isinstance(target, ast.Subscript) and isinstance(
                    target.value, ast.Name):
                names |= _names_read(target.slice)
            else:
                names |= _names_read(target)
        return names
    return _names_read(statement)


def filled_arrays(statement: ast.stmt) -> set[str]:
    """The arrays ``statement`` (or a statement in it) assigns items of."""
    filled = set()
    for node in walk(statement):
        if isinstance(node, ast.Call):
            if dotted(node.func) in FILLING and node.args and isinstance(
                    node.args[0], ast.Name):
                filled.add(node.args[0].id)
            continue
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        else:
            continue
        filled.update(t.value.id for t in targets
                      if isinstance(t, ast.Subscript)
                      and isinstance(t.value, ast.Name))
    return filled


def _names_read(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
