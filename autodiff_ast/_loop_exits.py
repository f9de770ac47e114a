"""``break`` and ``continue``, as statements the lowering runs.

A loop's body is rewritten so that nothing jumps: ``continue`` ends the
statements of its path, and the statements after the ``if`` that holds it
move into that ``if``'s branches that go on; ``break`` does the same and
first sets a flag of the loop's own (``broke``), which says, after each
iteration, whether the loop ends there. A loop kept as a loop ends on it
(``if ...: break`` in the code we write, and a gradient runs back over
the iterations taken); an unrolled loop runs its next iterations only
where the flag is not set, so their values are selected by the same
conditions as the user's code takes.

Loops inside the body keep their own ``break`` and ``continue``: they
are rewritten when the lowering reaches them.
"""

from __future__ import annotations

import ast
import copy
from typing import Collection, TypeVar

__all__ = ["after_return", "jumpless", "returned_names", "without_returns"]

_Loop = TypeVar("_Loop", ast.For, ast.While)


def jumpless(loop: _Loop, taken: Collection[str]) -> _Loop:
    """``loop`` with its body rewritten without jumps; its ``broke``
    attribute names the flag its breaks set (None: it has no break)."""
    if not any(_jumps(statement) for statement in loop.body):
        return loop
    flag = None
    if any(_jumps(statement, (ast.Break,)) for statement in loop.body):
        # Named after the loop's place, so a function lowers the same
        # every time (the disk cache keys on what lowering gives).
        flag = f"_broke_{loop.lineno}_{loop.col_offset}"
        while flag in taken:
            flag += "_"
    body = rewritten(list(loop.body), flag)
    if flag is not None:
        body.insert(0, _located(ast.Assign(
            [ast.Name(flag, ast.Store())], ast.Constant(False), None), loop))
    new = copy.copy(loop)
    new.body = body or [_located(ast.Pass(), loop)]
    new.broke = flag  # type: ignore[union-attr]
    return new


def rewritten(body: list[ast.stmt], flag: str | None) -> list[ast.stmt]:
    """``body`` without the ``break`` and ``continue`` that belong to its
    loop: the statements each path runs in one iteration, with ``flag =
    True`` where it breaks."""
    out: list[ast.stmt] = []
    for place, statement in enumerate(body):
        if isinstance(statement, ast.Continue):
            return out
        if isinstance(statement, ast.Break):
            assert flag is not None
            return out + [_located(ast.Assign(
                [ast.Name(flag, ast.Store())], ast.Constant(True), None),
                statement)]
        if isinstance(statement, ast.If) and _jumps(statement):
            rest = body[place + 1:]
            then = rewritten(list(statement.body) + rest, flag)
            other = rewritten(list(statement.orelse) + rest, flag)
            return out + [_located(ast.If(
                statement.test, then or [_located(ast.Pass(), statement)],
                other), statement)]
        out.append(statement)
    return out


def _jumps(node: ast.AST,
           kinds: tuple[type, ...] = (ast.Break, ast.Continue)) -> bool:
    """Whether ``node`` holds a jump of ``kinds`` out of the loop it is
    in (not out of a loop inside it)."""
    if isinstance(node, kinds):
        return True
    if isinstance(node, (ast.For, ast.While)):
        return any(_jumps(s, kinds) for s in node.orelse)
    return any(_jumps(child, kinds) for child in ast.iter_child_nodes(node)
               if isinstance(child, ast.stmt))


def _located(node: ast.stmt, like: ast.AST) -> ast.stmt:
    return ast.fix_missing_locations(ast.copy_location(node, like))


def returned_names(loop: ast.For | ast.While) -> tuple[str, str] | None:
    """For a loop whose body returns: the names of the number that says
    it returned (0.0, then 1.0) and of the value it returned, which a
    loop kept as a loop carries; None if its body does not return."""
    if not any(isinstance(node, ast.Return) for statement in loop.body
               for node in ast.walk(statement)):
        return None
    place = f"{loop.lineno}_{loop.col_offset}"
    return f"_returned_{place}", f"_result_{place}"


def without_returns(loop: _Loop, names: tuple[str, str],
                    taken: Collection[str]) -> _Loop | None:
    """``loop`` with each ``return value`` of its body an assignment of
    ``names`` and a break (a loop kept as a loop ends there, and the code
    after it returns the value); None if a return is inside a loop in
    the body (it would end that loop only)."""
    returned, result = names

    def replaced(statements: list[ast.stmt]) -> list[ast.stmt] | None:
        out: list[ast.stmt] = []
        for statement in statements:
            if isinstance(statement, ast.Return):
                value = statement.value or ast.Constant(None)
                out += [_located(ast.Assign([ast.Name(result, ast.Store())],
                                            value, None), statement),
                        _located(ast.Assign([ast.Name(returned, ast.Store())],
                                            ast.Constant(1.0), None),
                                 statement),
                        _located(ast.Break(), statement)]
            elif isinstance(statement, ast.If):
                then, other = (replaced(list(statement.body)),
                               replaced(list(statement.orelse)))
                if then is None or other is None:
                    return None
                new = copy.copy(statement)
                new.body, new.orelse = then, other
                out.append(new)
            elif any(isinstance(node, ast.Return)
                     for node in ast.walk(statement)):
                return None  # in a loop inside this one
            else:
                out.append(statement)
        return out

    body = replaced(list(loop.body))
    if body is None:
        return None
    new = copy.copy(loop)
    new.body = body
    return jumpless(new, taken)


def after_return(loop: ast.For | ast.While, names: tuple[str, str]
                 ) -> ast.stmt:
    """``if returned > 0.5: return result``: after a loop kept as a loop
    whose body returns."""
    returned, result = names
    return _located(ast.If(
        ast.Compare(ast.Name(returned, ast.Load()), [ast.Gt()],
                    [ast.Constant(0.5)]),
        [_located(ast.Return(ast.Name(result, ast.Load())), loop)], []),
        loop)
