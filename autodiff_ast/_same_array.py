"""Lower stage: which names hold one array, and the statement that bound
each.

``a = b = np.zeros(3)`` and ``b = a`` bind two names to one array, so a
store through either changes what both hold (``a[0] = x; b[1] = y``);
``a = np.zeros(3); b = np.zeros(3)`` bind two arrays of equal values,
one value in the program, which a store into one leaves apart. Values
cannot tell these apart, so each assignment is noted as it runs: the
statement, and a token per array that the names it binds to one array
share. Notes are kept per environment (a helper's names, and a branch's
copy of them, have none of the caller's), and a name bound anew loses
its note; where there is none, a store changes the one name it is
made through (the others that held the array are then refused where
they are read).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

__all__ = ["forget", "note", "same_array", "bound_by"]


@dataclass(frozen=True)
class _Note:
    statement: ast.Assign | None  # None: a name another was bound to
    array: object  # one per array: the names holding it share it


def _notes(run: Any, env: dict[str, Any]) -> dict[str, _Note]:
    kept = run.__dict__.setdefault("_arrays_bound", {})
    # (the environment is held with its notes, so its id is not reused)
    held = kept.setdefault(id(env), (env, {}))
    return held[1]


def forget(run: Any, name: str, env: dict[str, Any]) -> None:
    """``name`` is bound anew: nothing is known of its array yet."""
    notes = run.__dict__.get("_arrays_bound", {}).get(id(env))
    if notes is not None:
        notes[1].pop(name, None)


def note(run: Any, statement: ast.Assign, env: dict[str, Any]) -> None:
    """After ``statement`` bound its names: those it bound to one array
    (``a = b = ...``), or to the array another name holds (``b = a``),
    share a token; any other holds a new one."""
    names = [t.id for t in statement.targets if isinstance(t, ast.Name)]
    if not names:
        return
    notes = _notes(run, env)
    array: object = object()
    source = statement.value
    if isinstance(source, ast.Name) and source.id in env and \
            source.id not in names:
        known = notes.get(source.id)
        if known is None:
            notes[source.id] = known = _Note(None, array)
        array = known.array
    for name in names:
        notes[name] = _Note(statement, array)


def same_array(run: Any, name: str, env: dict[str, Any]) -> list[str]:
    """The other names bound to the array ``name`` holds (and holding its
    value still)."""
    notes = run.__dict__.get("_arrays_bound", {}).get(id(env))
    if notes is None or name not in notes[1]:
        return []
    array = notes[1][name].array
    return [other for other, known in notes[1].items()
            if other != name and known.array is array
            and env.get(other) is env.get(name)]


def bound_by(run: Any, name: str, env: dict[str, Any]) -> ast.Assign | None:
    """The assignment that bound ``name`` last, where it was noted."""
    notes = run.__dict__.get("_arrays_bound", {}).get(id(env))
    known = None if notes is None else notes[1].get(name)
    return None if known is None else known.statement
