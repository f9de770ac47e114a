"""Lower stage, kept loops: the last items of a list the loop appends to.

``ys.append(a * ys[-1])`` in a loop kept as a loop reads, in each
iteration, what the one before appended: not the list as it was before
the loop, which is all the loop's lowering holds of it (the appended
values are stored rows, made when the loop ends). So a read of
``ys[-k]`` (or ``ys[len(ys) - k]``) becomes a value the loop carries,
``_last_k_ys``: it starts as the list's k-th item from the end before
the loop, and each append shifts the values by one:

    _appended_ys = a * _last_1_ys
    ys.append(_appended_ys)
    _last_1_ys = _appended_ys

Any other read of the list in the loop (``ys[t]``, ``sum(ys)``) would
read the list before the loop: it is refused, with the reason.
"""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable

__all__ = ["with_last_items", "LAST_ITEM"]

# How the values are named (_last_1_ys), for code to show them (ys_last).
LAST_ITEM = r"^_last_(\d+)_(\w+)$"


def with_last_items(loop: ast.For | ast.While, env: dict[str, Any],
                    refused: Callable[[ast.AST, str], Exception]
                    ) -> ast.For | ast.While:
    """``loop`` with its reads of the last items of each list it appends
    to (top-level ``name.append(value)``) read from values it carries,
    which ``env`` gets (their values before the loop); ``refused(node,
    why)`` is raised for any other read of such a list in the loop."""
    appended = {name for statement in loop.body
                if (name := _appended_to(statement, env)) is not None}
    if not appended:
        return loop
    loop = copy.deepcopy(loop)
    depth: dict[str, int] = {}
    reader = _LastItems(appended, depth)
    loop.body = [reader.visit(statement) for statement in loop.body]
    if isinstance(loop, ast.While):
        loop.test = reader.visit(loop.test)
    for node, name in reader.other_reads:
        raise refused(node, f"the loop reads {name}, a list it appends to, "
                            f"other than by its last items ({name}[-1]): "
                            "carry the values it needs in names of their "
                            "own, or fill an array of zeros at the loop's "
                            f"variable ({name}[i] = ...)")
    for node, name, k in reader.first:
        if k >= len(env[name]):
            raise refused(node, f"the loop reads {name}[{k}], an item it "
                                "appends: read it by its place from the "
                                f"end ({name}[-1]), or fill an array of "
                                f"zeros at the loop's variable")
    for name, k in depth.items():
        items = env[name]
        if len(items) < k:
            raise refused(loop, f"the loop reads {name}[-{k}] of a list "
                                f"that has {len(items)} items before it: "
                                f"give {name} {k} items before the loop")
        for j in range(1, k + 1):
            env[_last(j, name)] = items[-j]
    body: list[ast.stmt] = []
    for statement in loop.body:
        name = _appended_to(statement, env)
        if name is None or name not in depth:
            body.append(statement)
            continue
        call = statement.value  # type: ignore[attr-defined]
        value = f"_appended_{name}"
        body.append(_assign(value, call.args[0], statement))
        call.args[0] = ast.Name(value, ast.Load())
        body.append(statement)
        for j in range(depth[name], 1, -1):
            body.append(_assign(_last(j, name),
                                ast.Name(_last(j - 1, name), ast.Load()),
                                statement))
        body.append(_assign(_last(1, name), ast.Name(value, ast.Load()),
                            statement))
    loop.body = body
    return loop


def _appended_to(statement: ast.stmt, env: dict[str, Any]) -> str | None:
    """The name of the list ``statement`` appends one value to."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name)
            and isinstance(env.get(call.func.value.id), list)
            and len(call.args) == 1 and not call.keywords):
        return call.func.value.id
    return None


def _last(k: int, name: str) -> str:
    return f"_last_{k}_{name}"


def _assign(name: str, value: ast.expr, where: ast.AST) -> ast.stmt:
    return ast.fix_missing_locations(ast.copy_location(
        ast.Assign([ast.Name(name, ast.Store())], value, None), where))


class _LastItems(ast.NodeTransformer):
    """Reads ``name[-k]`` and ``name[len(name) - k]`` of the lists
    appended to, as names; other reads of them gathered."""

    def __init__(self, lists: set[str], depth: dict[str, int]) -> None:
        self.lists = lists
        self.depth = depth
        self.other_reads: list[tuple[ast.AST, str]] = []
        self.first: list[tuple[ast.AST, str, int]] = []

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        name = node.value.id if isinstance(node.value, ast.Name) else None
        if name in self.lists and isinstance(node.ctx, ast.Load):
            if isinstance(node.slice, ast.Constant) and isinstance(
                    node.slice.value, int) and node.slice.value >= 0:
                # an item from before the loop, which appends leave alone
                self.first.append((node, name, node.slice.value))
                return node
            k = _from_the_end(node.slice, name)
            if k is not None:
                self.depth[name] = max(self.depth.get(name, 0), k)
                return ast.copy_location(ast.Name(_last(k, name), ast.Load()),
                                         node)
        return self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if (isinstance(node.value, ast.Name) and node.value.id in self.lists
                and node.attr == "append"):
            return node  # the append itself
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.lists and isinstance(node.ctx, ast.Load):
            self.other_reads.append((node, node.id))
        return node


def _from_the_end(index: ast.expr, name: str) -> int | None:
    """k, where ``index`` is ``-k`` or ``len(name) - k`` (k >= 1)."""
    if (isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
            and isinstance(index.operand, ast.Constant)):
        k = index.operand.value
    elif (isinstance(index, ast.BinOp) and isinstance(index.op, ast.Sub)
          and isinstance(index.right, ast.Constant)
          and isinstance(index.left, ast.Call)
          and isinstance(index.left.func, ast.Name)
          and index.left.func.id == "len" and len(index.left.args) == 1
          and isinstance(index.left.args[0], ast.Name)
          and index.left.args[0].id == name):
        k = index.right.value
    else:
        return None
    return k if isinstance(k, int) and not isinstance(k, bool) and k >= 1 \
        else None
