"""The lower stage's statements and control flow.

Assignments bind names; an ``if`` on a symbolic condition runs both sides
and joins them (``merge``) or, when a side returns, runs the rest of the
function on each path (``fork``); ``for`` loops over constant ranges and
tuples are unrolled, and ``sum()`` of a generator runs as its loop. A
mixin of ``_Runner`` (``_lower``), which provides the expressions.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanAtom

from . import _fence
from ._errors import AutodiffError
from ._in_place import note_binding, shared_change
from ._same_array import forget, note
from ._local import defined
from ._loop_exits import after_return, jumpless, returned_names
from ._lower_expressions import select
from ._lists import made
from ._lower_names import describe
from ._masks import flag_decided
from ._ops_index import getitem

__all__ = ["Statements"]

# Branching on symbolic conditions copies the rest of the function into each
# branch; this many paths is far beyond hand-written code, and beyond it the
# generated source would be unreadable.
_MAX_PATHS = 256
# Unrolling turns loops into straight-line code; beyond this the symbolic
# work would take minutes rather than fail clearly.
_MAX_UNROLLED_STATEMENTS = 10_000


@dataclass(frozen=True)
class _Bind:
    """A synthetic statement binding a loop variable to one iteration."""

    target: ast.expr  # a name, or a tuple of names to unpack into
    value: Any


class Statements:
    """Runs statements on symbolic values."""

    def block(self, statements: list[Any], env: dict[str, Any]) -> Any:
        """Run statements; the value returned, or None if none returns."""
        for index, statement in enumerate(statements):
            rest = statements[index + 1:]
            if isinstance(statement, _Bind):
                self.assign(statement.target, statement.value, env)
            elif isinstance(statement, ast.Return):
                if statement.value is None:
                    raise self.error(statement, "return without a value: a "
                                                "differentiated function "
                                                "must return a number")
                return self.expression(statement.value, env)
            elif _fence.argument_check(statement):
                self.guard(statement, env)
            elif isinstance(statement, ast.Assert):
                self.asserted(statement, env)
            elif isinstance(statement, ast.If):
                condition = self.condition(statement.test, env)
                if isinstance(condition, BooleanAtom):
                    taken = statement.body if condition else statement.orelse
                    return self.block(list(taken) + rest, env)
                if _returns(statement.body) or _returns(statement.orelse):
                    return self.fork(statement, condition, rest, env)
                self.merge(statement, condition, env)
            elif isinstance(statement, ast.While):
                statement = jumpless(statement, env.keys())
                self.kept_while(statement, env)
                ending = self.returned(statement, env)
                if ending is not None:
                    return self.block([ending] + rest, env)
            elif isinstance(statement, ast.For):
                statement = jumpless(statement, env.keys())
                if self.kept_loop(statement, env):
                    ending = self.returned(statement, env)
                    if ending is not None:
                        return self.block([ending] + rest, env)
                    continue
                unrolled = self.unroll(statement, env)
                return self.block(unrolled + rest, env)
            else:
                self.simple_statement(statement, env)
        return None

    def simple_statement(self, statement: ast.stmt,
                         env: dict[str, Any]) -> None:
        if isinstance(statement, ast.FunctionDef):
            env[statement.name] = defined(self, statement, env)
        elif _prints(statement) and self.expression(
                statement.value.func, env) is print:  # type: ignore
            pass  # output, not part of the value: the derivative's is not
        elif _fills(statement):
            self.store(statement, env)
        elif isinstance(statement, ast.Assign):
            note_binding(self, statement)
            value = self.expression(statement.value, env)
            for target in statement.targets:
                if isinstance(target, ast.Tuple) and any(
                        isinstance(e, ast.Starred) for e in target.elts):
                    self.assign(*self.starred(target, value), env)
                else:
                    self.assign(target, value, env)
            note(self, statement, env)
        elif isinstance(statement, ast.AnnAssign):
            if statement.value is not None:
                self.assign(statement.target,
                            self.expression(statement.value, env), env)
        elif isinstance(statement, ast.AugAssign):
            target = statement.target
            assert isinstance(target, ast.Name)  # the fence guarantees it
            current = self.name(target, env)
            value = self.expression(statement.value, env)
            shared = shared_change(self, target.id, current, env)
            if shared is not None:
                rebound = ast.unparse(ast.Assign(
                    [target], ast.BinOp(ast.Name(target.id, ast.Load()),
                                        statement.op, statement.value),
                    lineno=0))
                raise self.error(statement, (
                    f"{ast.unparse(statement)} changes the array "
                    f"{target.id} holds in place, and {shared}: write "
                    f"{rebound} for a new array"))
            env[target.id] = self.arithmetic(statement.op, current, value,
                                             statement)
        # ast.Pass and docstrings do nothing.

    def asserted(self, statement: ast.Assert, env: dict[str, Any]) -> None:
        """``assert x.shape == (3,), "..."``: decided when the function is
        differentiated, as shapes, sizes and constants are (the code then
        checks the sizes it was made for); where it fails, Python's
        AssertionError. On values computed from the arguments it is
        refused: a derivative cannot check them."""
        holds = self.decided(statement.test, env)
        if holds is None:
            holds = self.decided_by_flags(statement.test, env)
        if holds is None:
            raise self.error(statement, "assert on values computed from the "
                                        "arguments is not supported: a "
                                        "derivative cannot check them; assert "
                                        "on shapes, sizes or constants, or "
                                        "check before calling")
        if not holds:
            message = statement.msg
            raise AssertionError(
                message.value if isinstance(message, ast.Constant)
                else f"assert {ast.unparse(statement.test)}")

    def decided(self, test: ast.expr, env: dict[str, Any]) -> bool | None:
        """Whether ``test`` holds, where that is known now; None where it
        depends on values computed from the arguments."""
        if isinstance(test, ast.Compare) and not any(
                isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn))
                for op in test.ops):
            values = [self.known(self.expression(n, env))
                      for n in [test.left, *test.comparators]]
            results: list[Any] = []
            if all(v is not _UNKNOWN for v in values):
                try:
                    results = [_COMPARED[type(op)](a, b) for op, a, b in zip(
                        test.ops, values, values[1:])]
                except TypeError:  # a shape and a number: as conditions
                    results = []
            if results and all(isinstance(r, (bool, np.bool_))
                               for r in results):
                return bool(all(results))  # (arrays compared: not decided)
        try:
            condition = self.condition(test, env)
        except AutodiffError:
            return None
        return bool(condition) if isinstance(condition, BooleanAtom) \
            else None

    def decided_by_flags(self, test: ast.expr,
                         env: dict[str, Any]) -> bool | None:
        """Whether ``test`` holds where it reads only bools passed beside
        the differentiated arguments (``assert flag``): known for their
        values, which the code is then made for; else None."""
        try:
            condition = self.condition(test, env)
        except AutodiffError:
            return None
        return flag_decided(self.context, condition)

    def known(self, value: Any) -> Any:
        """``value`` as Python holds it (a shape as a tuple of ints), or
        _UNKNOWN where it is computed from the arguments."""
        if isinstance(value, (tuple, list)):
            items = [self.known(item) for item in value]
            if any(item is _UNKNOWN for item in items):
                return _UNKNOWN
            return tuple(items) if isinstance(value, tuple) else items
        if isinstance(value, sp.Basic):
            value = self.concrete(value)
            if not isinstance(value, sp.Number):
                return _UNKNOWN
            return int(value) if value.is_Integer else float(value)
        return value

    def assign(self, target: ast.AST, value: Any,
               env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
            forget(self, target.id, env)
            if isinstance(value, sp.Expr) and not value.is_Atom:
                self.context.labels.setdefault(value, target.id)
            return
        if not isinstance(target, ast.Tuple):
            raise self.error(target, "only names, items of arrays and "
                                     "tuples of them can be assigned to")
        if not isinstance(value, tuple) or len(value) != len(target.elts):
            count = len(value) if isinstance(value, tuple) else 1
            raise self.error(target, f"cannot unpack {count} value(s) into "
                                     f"{len(target.elts)} names")
        for element, item in zip(target.elts, value):
            self.assign(element, item, env)

    def starred(self, target: ast.Tuple, value: Any
                ) -> tuple[ast.Tuple, tuple[Any, ...]]:
        """``head, *rest = value`` as ``head, rest = value[0], [...]``:
        the target with its starred name plain, and the items of
        ``value`` grouped as Python groups them (a new list for the
        starred name)."""
        items = self.items_to_unpack(value, target)
        at = next(i for i, e in enumerate(target.elts)
                  if isinstance(e, ast.Starred))
        after = len(target.elts) - at - 1
        if len(items) < len(target.elts) - 1:
            raise self.error(target, f"not enough values to unpack "
                                     f"(expected at least "
                                     f"{len(target.elts) - 1}, got "
                                     f"{len(items)})")
        middle = made(self, list(items[at:len(items) - after]))
        elements = [e.value if isinstance(e, ast.Starred) else e
                    for e in target.elts]
        plain = ast.copy_location(ast.Tuple(elements, ast.Store()), target)
        return plain, (*items[:at], middle, *items[len(items) - after:])

    def items_to_unpack(self, value: Any, target: ast.Tuple) -> list[Any]:
        """The items Python unpacks ``value`` into: of a list or tuple,
        its items; of an array, its rows (written out, so the code is
        for their number, and checks it)."""
        if isinstance(value, (list, tuple)):
            return list(value)
        if not isinstance(value, sp.Expr):
            raise self.error(target, f"cannot unpack {describe(value)}")
        shape = self.shape(value, target)
        if not shape:
            raise self.error(target, "cannot unpack a 0-d array (a number)")
        count = self.concrete(shape[0])
        self.program.baked.append(f"{ast.unparse(target)} = ... unpacks "
                                  f"{count} rows, written out")
        return [getitem(self, value, row, target) for row in range(count)]

    def merge(self, statement: ast.If, condition: Boolean,
              env: dict[str, Any]) -> None:
        """Run both sides of an if without returns; join what they assign."""
        then_env, else_env = dict(env), dict(env)
        self.block(list(statement.body), then_env)
        self.block(list(statement.orelse), else_env)
        for name in then_env.keys() & else_env.keys():
            env[name] = select(condition, then_env[name], else_env[name],
                                self, statement)
        for name in then_env.keys() ^ else_env.keys():
            env.pop(name, None)  # defined on one path only: unusable after

    def fork(self, statement: ast.If, condition: Boolean, rest: list[Any],
             env: dict[str, Any]) -> Any:
        """Run each side followed by the rest of the block; select."""
        self.context.paths += 1
        if self.context.paths > _MAX_PATHS:
            raise self.error(statement, f"more than {_MAX_PATHS} paths "
                                        "through the function: simplify its "
                                        "branching, or use np.where")
        then_value = self.block(list(statement.body) + rest, dict(env))
        else_value = self.block(list(statement.orelse) + rest, dict(env))
        if then_value is None or else_value is None:
            return None
        return select(condition, then_value, else_value, self, statement)

    def generated_sum(self, node: ast.Call, env: dict[str, Any]) -> Any:
        """``sum(f(k) for k in range(n) if c(k))``, run as the loop it is:
        ``total = 0``, then ``for k in range(n): if c(k): total = total +
        f(k)`` (a condition on values selects, as in the user's loop)."""
        generator = _fence.summed_generator(node)
        assert generator is not None
        total = "total"
        while total in env:
            total = f"{total}_"
        adding: ast.stmt = ast.Assign(
            [ast.Name(total, ast.Store())], ast.BinOp(
                ast.Name(total, ast.Load()), ast.Add(),
                node.args[0].elt),  # type: ignore[attr-defined]
            None)
        for test in reversed(generator.ifs):
            adding = ast.copy_location(ast.If(test, [adding], []), test)
        loop = ast.For(generator.target, generator.iter, [adding], [], None)
        start = ast.Assign([ast.Name(total, ast.Store())], ast.Constant(0),
                           None)
        for written in (adding, loop, start):
            ast.copy_location(written, node)
            ast.fix_missing_locations(written)
        scope = dict(env)
        self.block([start, loop], scope)
        return scope[total]

    def returned(self, loop: ast.For | ast.While, env: dict[str, Any]
                 ) -> ast.stmt | None:
        """After a loop kept as a loop whose body returns: the statement
        returning what it returned, if it did."""
        names = returned_names(loop)
        if names is None or names[0] not in env:
            return None
        return after_return(loop, names)

    def unroll(self, loop: ast.For, env: dict[str, Any]) -> list[Any]:
        iterator = loop.iter
        unpacked = isinstance(loop.target, ast.Tuple) and _names_only(
            loop.target)
        if not isinstance(loop.target, ast.Name) and not unpacked:
            raise self.error(loop.target, "the loop variable must be a "
                                          "name or a tuple of names")
        items = self.iteration_items(iterator, env)
        if items is not None:
            return _iterations(loop, items)
        if unpacked:
            raise self.error(loop.target, "a loop over range() has one "
                                          "loop variable")
        backwards = (isinstance(iterator, ast.Call) and len(
            iterator.args) == 1 and not iterator.keywords and isinstance(
            iterator.args[0], ast.Call) and self.expression(
            iterator.func, env) is reversed)
        if backwards:
            iterator = iterator.args[0]  # type: ignore[attr-defined]
        if not (isinstance(iterator, ast.Call)
                and self.expression(iterator.func, env) is range):
            raise self.error(iterator, "for loops must iterate over range() "
                                       "with constant bounds, e.g. `for i in "
                                       "range(3):`")
        bounds = [self.concrete(self.expression(a, env))
                  for a in iterator.args]
        if iterator.keywords or not all(
                isinstance(b, sp.Integer) for b in bounds):
            raise self.error(iterator, "range() bounds must be constant "
                                       "integers known when the function is "
                                       "differentiated, not values computed "
                                       "from the arguments")
        iterations = range(*(int(b) for b in bounds))
        if len(iterations) * len(loop.body) > _MAX_UNROLLED_STATEMENTS:
            raise self.error(iterator, f"this loop unrolls into more than "
                                       f"{_MAX_UNROLLED_STATEMENTS} statements"
                                       ", too many to differentiate "
                                       "symbolically: use fewer iterations, "
                                       "or a closed form of the sum")
        if backwards:
            iterations = iterations[::-1]
        return _iterations(loop, [sp.Integer(i) for i in iterations])

# A value lowering cannot know until the code runs.
_UNKNOWN = object()
_COMPARED = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
             ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}


def _prints(statement: ast.stmt) -> bool:
    """Whether ``statement`` is a call of a name made for its effect
    (``print(...)``)."""
    return isinstance(statement, ast.Expr) and isinstance(
        statement.value, ast.Call) and isinstance(statement.value.func,
                                                  ast.Name)


def _fills(statement: ast.stmt) -> bool:
    """Whether ``statement`` fills an array: an item assigned (``d[key] =
    v``, ``d[key] += v``) or a call made for its effect (``np.add.at``,
    which the fence lets through)."""
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Call)
    if isinstance(statement, ast.Assign):
        return isinstance(statement.targets[0], ast.Subscript)
    return isinstance(statement, ast.AugAssign) and isinstance(
        statement.target, ast.Subscript)


def _names_only(target: ast.expr) -> bool:
    """Whether ``target`` is a name or a tuple of such (``i, (W, b)``)."""
    if isinstance(target, ast.Tuple):
        return all(_names_only(e) for e in target.elts)
    return isinstance(target, ast.Name)


def _iterations(loop: ast.For, items: list[Any]) -> list[Any]:
    """The statements of ``loop`` unrolled over ``items``; after a break
    (the loop's flag, ``_loop_exits``), no more iterations run."""
    flag = getattr(loop, "broke", None)
    statements: list[Any] = []
    for item in reversed(items):
        iteration = [_Bind(loop.target, item), *loop.body]
        if statements and flag is not None:
            statements = [ast.fix_missing_locations(ast.copy_location(
                ast.If(ast.UnaryOp(ast.Not(), ast.Name(flag, ast.Load())),
                       statements, []), loop))]
        statements = iteration + statements
    return statements


def _returns(statements: list[ast.stmt]) -> bool:
    """Whether a return statement occurs anywhere in these statements."""
    return any(isinstance(n, ast.Return) for s in statements
               if isinstance(s, ast.AST) for n in ast.walk(s))
