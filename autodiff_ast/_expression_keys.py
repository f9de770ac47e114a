"""Keys of written expressions for passes that find one computed twice.

Two expressions get one key exactly when they have the same structure
(and so the same text), and a key is computed once per node from its
children's, where comparing ``ast.unparse`` texts prints every node again
for each node above it (``_array_passes._shared`` did, and took a third
of array code generation). With each key come two facts found on the way:
whether the expression reads a given set of names, and whether it holds a
call or arithmetic below its own operation.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

__all__ = ["Keys", "Facts"]

# Fields that do not change what an expression prints.
_NOT_TEXT = frozenset({"ctx", "kind", "type_comment"})


class Facts(NamedTuple):
    key: int
    reads: bool  # reads one of the names the keys were made for
    work_below: bool  # a call or arithmetic inside, below the node itself


class Keys:
    """Keys of the expressions of statements as they are now: a pass that
    changes a node's children says so (``changed``), or makes new
    ``Keys`` (the ``table`` of structures carries over, so keys stay
    comparable)."""

    def __init__(self, table: dict[tuple[object, ...], int],
                 names: set[str]) -> None:
        self.table = table
        self.names = names
        # id(node) -> (node, facts): the node is kept so that an id a
        # collected node had is never taken for a new node's.
        self.memo: dict[int, tuple[ast.AST, Facts]] = {}

    def of(self, node: ast.AST) -> Facts:
        known = self.memo.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        # Children before parents, without recursion (a sum of
        # thousands of terms is as deep).
        order, stack = [], [node]
        while stack:
            item = stack.pop()
            known = self.memo.get(id(item))
            if known is not None and known[0] is item:
                continue
            order.append(item)
            stack.extend(ast.iter_child_nodes(item))
        for item in reversed(order):
            self.memo[id(item)] = (item, self._made(item))
        return self.memo[id(node)][1]

    def key(self, node: ast.AST) -> int:
        return self.of(node).key

    def changed(self, node: ast.AST) -> None:
        """Forget ``node``'s key: a child of it was replaced."""
        self.memo.pop(id(node), None)

    def _made(self, node: ast.AST) -> Facts:
        parts: list[object] = [type(node).__name__]
        reads = isinstance(node, ast.Name) and node.id in self.names
        below = False
        for field, value in ast.iter_fields(node):
            if field in _NOT_TEXT:
                continue
            items = value if isinstance(value, list) else [value]
            keys: list[object] = []
            for item in items:
                if isinstance(item, ast.AST):
                    facts = self.memo[id(item)][1]
                    keys.append(facts.key)
                    reads = reads or facts.reads
                    below = below or facts.work_below or isinstance(
                        item, (ast.BinOp, ast.Call))
                else:
                    # (1 and True are equal, and print apart)
                    keys.append((type(item).__name__, repr(item)))
            parts.append(tuple(keys) if isinstance(value, list)
                         else keys[0])
        return Facts(self.table.setdefault(tuple(parts), len(self.table)),
                     reads, below)
