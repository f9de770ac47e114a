"""``walk``: ``ast.walk`` for the passes over generated code, faster;
``statements_in``: the statements only.

The passes that tidy a generated function walk its statements millions of
times in a test run, and ``ast.walk`` spends most of that in the
generators of ``ast.iter_child_nodes`` and ``ast.iter_fields``. This walk
yields the same nodes in the same breadth-first order (a pass that stops
at the first match stops at the same node), each node's children queued
before it is yielded (so a pass may replace them as it goes, as with
``ast.walk``), reading the fields directly.
"""

from __future__ import annotations

import ast
from typing import Iterator

__all__ = ["statements_in", "walk"]


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and every node below it, as ``ast.walk`` yields them."""
    return _breadth_first(node, into_expressions=True)


def statements_in(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes ``walk`` yields but expressions and what is in them,
    which holds no statement: every statement in ``node`` (in a loop's, a
    branch's body), for a pass that looks for assignments, without
    visiting each name and operator of each expression."""
    return _breadth_first(node, into_expressions=False)


def _breadth_first(node: ast.AST, into_expressions: bool
                   ) -> Iterator[ast.AST]:
    queue = [node]
    # (a list read while it grows: the breadth-first order of a deque)
    for item in queue:
        if not into_expressions and isinstance(item, ast.expr):
            continue
        for field in item._fields:
            value = getattr(item, field, None)
            if isinstance(value, ast.AST):
                queue.append(value)
            elif isinstance(value, list):
                queue.extend([v for v in value if isinstance(v, ast.AST)])
        yield item
