"""A fill that adds the new value minus the old, written as the assignment
it stands for.

The program writes ``Y[k] = v`` as an addition of ``v - Y[k]`` at ``k``
(one operation for every fill, and its adjoint reads the same way), so an
integrator's step printed as ``Y_old = Y[k]; Y_values = y - Y_old + h *
f(y); Y[k] += Y_values``, and its gradient took the row's adjoint away as
``d = -grad_Y[k]; grad_Y[k] += d``. Where the item is read just before and
nothing fills the array in between, these are ``Y[k] = y + h * f(y)`` and
``grad_Y[k] = 0``: the same numbers, as a person writes them. So is a
number filled in (a seed, ``x[0] = 1``, not ``np.broadcast_to(1, ())``).
"""

from __future__ import annotations

import ast
from typing import Callable

from ._dead_code import FILLING, filled_arrays
from ._dotted import dotted
from ._walk import walk

__all__ = ["fills_as_sets", "inner_bodies"]


def fills_as_sets(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` (and each loop's and branch's body in it) with each ``X[k]
    += V``, where ``V`` is a sum one of whose terms is ``-X[k]`` as read
    before it, written ``X[k] = `` the other terms."""
    inner_bodies(body, fills_as_sets)
    # (no rewrite here binds a name: where each is bound, found once)
    bound_at = _bound_at(body)
    for place in range(len(body)):
        _as_set(body, place, bound_at)
        _number_filled(body[place])
    return [s for s in body if not getattr(s, "unread", False)]


def inner_bodies(body: list[ast.stmt],
                 rewrite: Callable[[list[ast.stmt]], list[ast.stmt]]
                 ) -> None:
    """Each loop's and branch's body (and ``else``) in ``body`` rewritten
    by ``rewrite``."""
    for statement in body:
        for field in ("body", "orelse"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(
                    inner[0], ast.stmt):
                setattr(statement, field, rewrite(inner))


def _number_filled(statement: ast.stmt) -> None:
    """``x[0] = np.broadcast_to(1, ())`` (a seed) as ``x[0] = 1``."""
    value = getattr(statement, "value", None)
    if (isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Subscript)
            and isinstance(value, ast.Call)
            and dotted(value.func) == "np.broadcast_to"
            and len(value.args) == 2
            and isinstance(value.args[0], ast.Constant)
            and ast.unparse(value.args[1]) == "()"):
        statement.value = value.args[0]


def _as_set(body: list[ast.stmt], place: int,
            bound_at: dict[str, list[int]]) -> None:
    fill = body[place]
    if not (isinstance(fill, ast.AugAssign)
            and isinstance(fill.op, (ast.Add, ast.Sub))
            and isinstance(fill.target, ast.Subscript)
            and isinstance(fill.target.value, ast.Name)):
        return
    array, index = fill.target.value.id, ast.unparse(fill.target.slice)
    added = fill.value
    binding = None
    shared = False  # the value added is read elsewhere too, and stays
    if isinstance(added, ast.Name):
        binding = _only_binding(body, place, added.id, bound_at)
        if binding is None:
            return
        added = body[binding].value  # type: ignore[attr-defined]
        shared = _reads(body, fill.value.id) != 1  # type: ignore
    if shared and not (isinstance(fill.op, ast.Sub) or isinstance(
            added, ast.UnaryOp) and isinstance(added.op, ast.USub)):
        # Only ``X[k] += -X[k]`` (an adjoint taken away) is then ``X[k] =
        # 0``, which computes nothing again where the value was bound.
        return
    # (a fill of a copy just made, a = np.copy(x); a[k] += v - x[k], reads
    # the item of x: the same while neither changes)
    copied = _copy_of(body, place, array, bound_at)
    arrays = [array] if copied is None else [array, copied[1]]
    # (X[k] -= v subtracts each term of v)
    terms = _terms(added, -1 if isinstance(fill.op, ast.Sub) else 1)
    if shared and len(terms) != 1:
        return  # (the other terms would be computed again, later)
    for number, (sign, term) in enumerate(terms):
        old = next((o for o in (_old_item(body, place, term, a, index,
                                          bound_at)
                                for a in arrays) if o is not None), None)
        if sign < 0 and old is not None:
            break
    else:
        return
    read, old_name = old
    since = read if read is not None else binding if binding is not None \
        else place
    if copied is not None:
        since = min(since, copied[0])
    # (a fill of another array between may change this one through a
    # view of it)
    if any(_changes(s, a) or filled_arrays(s) - {array}
           for k, s in enumerate(body[since + 1:place], since + 1)
           if copied is None or k != copied[0] for a in arrays) or \
            not _indices_kept(body, since, place, fill.target.slice):
        return
    rest = terms[:number] + terms[number + 1:]
    body[place] = ast.copy_location(
        ast.Assign([fill.target], _sum(rest), None), fill)
    if binding is not None and not shared:
        body[binding].unread = True  # type: ignore[attr-defined]
    if old_name is not None and not any(
            _reads([s], old_name) for s in body
            if not getattr(s, "unread", False)):
        body[read].unread = True  # type: ignore[attr-defined,index]


def _copy_of(body: list[ast.stmt], place: int, array: str,
             bound_at: dict[str, list[int]]
             ) -> tuple[int, str] | None:
    """(where, x) of ``array = np.copy(x)``, its one binding, before
    ``place``."""
    binding = _only_binding(body, place, array, bound_at)
    if binding is None:
        return None
    value = body[binding].value  # type: ignore[attr-defined]
    if isinstance(value, ast.Call) and dotted(value.func) == "np.copy" \
            and len(value.args) == 1 and isinstance(value.args[0], ast.Name):
        return binding, value.args[0].id
    return None


def _terms(value: ast.expr, sign: int = 1) -> list[tuple[int, ast.expr]]:
    """The signed terms of a sum: ``a - b + c`` is (+a, -b, +c)."""
    if isinstance(value, ast.BinOp) and isinstance(value.op,
                                                   (ast.Add, ast.Sub)):
        right = -sign if isinstance(value.op, ast.Sub) else sign
        return _terms(value.left, sign) + _terms(value.right, right)
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return _terms(value.operand, -sign)
    return [(sign, value)]


def _sum(terms: list[tuple[int, ast.expr]]) -> ast.expr:
    if not terms:
        return ast.Constant(0)
    sign, first = terms[0]
    total: ast.expr = first if sign > 0 else ast.UnaryOp(ast.USub(), first)
    for sign, term in terms[1:]:
        total = ast.BinOp(total, ast.Add() if sign > 0 else ast.Sub(), term)
    return total


def _old_item(body: list[ast.stmt], place: int, term: ast.expr, array: str,
              index: str, bound_at: dict[str, list[int]]
              ) -> tuple[int | None, str | None] | None:
    """(where, name) of ``name = array[index]`` before ``place`` when
    ``term`` is that name; (None, None) when ``term`` is ``array[index]``
    itself; None otherwise."""
    if _is_item(term, array, index):
        return None, None
    if not isinstance(term, ast.Name):
        return None
    binding = _only_binding(body, place, term.id, bound_at)
    if binding is None or not _is_item(
            body[binding].value, array, index):  # type: ignore[attr-defined]
        return None
    return binding, term.id


def _is_item(value: ast.expr, array: str, index: str) -> bool:
    """Whether ``value`` is ``array[index]``, or a copy of it made to keep
    it (``np.copy(array[index])``)."""
    if isinstance(value, ast.Call) and dotted(value.func) == "np.copy" \
            and len(value.args) == 1:
        value = value.args[0]
    return (isinstance(value, ast.Subscript)
            and isinstance(value.value, ast.Name) and value.value.id == array
            and ast.unparse(value.slice) == index)


def _bound_at(body: list[ast.stmt]) -> dict[str, list[int]]:
    """Each name bound in ``body``: where, the statements that bind it."""
    bound_at: dict[str, list[int]] = {}
    for place, statement in enumerate(body):
        for name in {n.id for n in walk(statement) if isinstance(
                n, ast.Name) and isinstance(n.ctx, ast.Store)}:
            bound_at.setdefault(name, []).append(place)
    return bound_at


def _only_binding(body: list[ast.stmt], place: int, name: str,
                  bound_at: dict[str, list[int]]) -> int | None:
    """Where ``name = ...`` is, before ``place``, when it is bound there
    and nowhere else in ``body`` (``bound_at``: ``_bound_at(body)``)."""
    bindings = bound_at.get(name, [])
    if len(bindings) != 1 or bindings[0] >= place:
        return None
    statement = body[bindings[0]]
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):
        return None
    return bindings[0]


def _reads(body: list[ast.stmt], name: str) -> int:
    return sum(isinstance(n, ast.Name) and n.id == name
               and isinstance(n.ctx, ast.Load)
               for s in body for n in walk(s))


def _changes(statement: ast.stmt, array: str) -> bool:
    """Whether ``statement`` may change ``array``: fills it, binds it, or
    is a loop or branch that does."""
    for node in walk(statement):
        if isinstance(node, ast.Name) and node.id == array and isinstance(
                node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Subscript) and isinstance(
                node.value, ast.Name) and node.value.id == array and \
                isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Call) and node.args and isinstance(
                node.args[0], ast.Name) and node.args[0].id == array and \
                dotted(node.func) in FILLING:
            return True
    return False


def _indices_kept(body: list[ast.stmt], read: int, place: int,
                  index: ast.expr) -> bool:
    """Whether the names in ``index`` are bound the same at ``read`` and
    at ``place``."""
    names = {n.id for n in walk(index) if isinstance(n, ast.Name)}
    return not any(isinstance(n, ast.Name) and n.id in names
                   and isinstance(n.ctx, ast.Store)
                   for s in body[read + 1:place] for n in walk(s))
