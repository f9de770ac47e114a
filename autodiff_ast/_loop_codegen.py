"""Writing a loop step (``_ops_loop``) as a Python ``for`` or ``while``
loop.

Each carried value keeps one name before, in and after the loop (the
user's: ``x = x0``, ``for i in range(n_steps): x = ...``); values stored
per iteration fill an array made before the loop (``x_history[i] = x``);
a row read is ``x_t = xs[i]``. The body's expressions share their common
parts through temporaries, as a function's do. Only what the function's
outputs need is written: a carried value nothing reads after the loop and
no needed value reads in it is left out, and so is a history nothing
reads.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from ._codegen import _cse
from ._ops_loop import Carry, Loop, Stored, merged
from ._printer import _call
from ._program import Step, unique_name
from ._wrap import _WIDTH, _wrap_line

__all__ = ["write_loop"]


def write_loop(writer: Any, step: Step) -> None:
    """Append the statements running ``step``'s loop to ``writer.out``."""
    loop: Loop = step.option("loop")
    loop, same = merged(loop)
    loop = _unchanged(writer, loop)
    carries, stored = _live(loop, writer.needed | {
        kept for result, kept in same.items() if result in writer.needed})
    if not stored and loop.condition is None and all(
            c.update == c.inside for c in carries):
        return  # nothing changes in it
    # What the loop's body reads from before it is computed once, before
    # it (what it starts from may be written where it is used).
    body_reads = set().union(*[e.free_symbols for e in loop.body()]) | {
        r.array for r in loop.rows}
    for symbol in sorted(body_reads & loop.uses(), key=lambda s: s.name):
        if symbol in writer.inline:
            writer.assign(writer.names.get(symbol, symbol.name),
                          writer.inline.pop(symbol))
    names = writer.names
    for carry in carries:
        name = writer.output_names.get(carry.result, carry.result.name)
        names[carry.result] = names[carry.inside] = name
    for result, kept in same.items():
        if kept in names:
            names[result] = names[kept]
    for value in stored:
        names[value.result] = writer.output_names.get(value.result,
                                                      value.result.name)
    if loop.condition is None:  # a while loop's index is its count
        names[loop.index] = loop.index.name
    print_ = writer.printer()
    for carry in carries:
        node = print_(carry.initial)
        if not (isinstance(node, ast.Name) and node.id == names[carry.result]):
            writer.assign(names[carry.result], node)
    count = None if loop.stop is None else _bound(
        print_, loop.count() if loop.start != 0 else loop.stop)
    for value in stored:
        if count is None:  # a while loop's: as long as the loop runs
            writer.assign(names[value.result], ast.List([], ast.Load()))
            continue
        sizes = [print_(sp.sympify(s)) for s in value.sizes]
        if value.rows is not None:  # rows the loop may not reach are zero
            rows = print_(sp.sympify(value.rows))
            writer.assign(names[value.result], _call("np.zeros", [
                ast.Tuple([rows] + sizes, ast.Load()) if sizes else rows]))
            continue
        if not sizes and _only_read_by_loops(writer, value.result):
            # A list of numbers: its items stay Python floats, and numbers
            # compute several times faster than NumPy scalars.
            writer.assign(names[value.result], ast.BinOp(
                ast.List([ast.Constant(0.0)], ast.Load()), ast.Mult(),
                count))
            continue
        shape = ast.Tuple([count] + sizes, ast.Load()) if sizes else count
        # Rows a loop that breaks does not reach are zero, as the user's.
        writer.assign(names[value.result], _call(
            "np.empty" if loop.exit is None else "np.zeros", [shape]))
    body: list[ast.stmt] = []
    position = loop.index - loop.start
    exprs = [c.update for c in carries] + [s.value for s in stored]
    exprs = _hoisted(writer, [sp.factor_terms(e) for e in exprs],
                     loop.inside())
    changed = [c for c in carries if c.update != c.inside]
    ending = _ending(loop, changed)
    if ending is not None:
        exprs.append(_hoisted(writer, [ending], loop.inside() | {
            c.result for c in changed})[0])
    used = set().union(*[e.free_symbols for e in exprs]) if exprs else set()
    print_ = _in_body(writer)
    for row in loop.rows:
        if row.item in used:
            names[row.item] = row.item.name
            body.append(_assign(names[row.item], ast.Subscript(
                print_(row.array), print_(position), ast.Load())))
    condition = [] if loop.condition is None else [loop.condition]
    # As a function's body: powers over a shared square (x_sq, not x * x
    # * x beside it), trivial parts left inline.
    temporaries, reduced = _cse(condition + exprs, share_squares=True)
    # What the break's test reads of the values just updated is computed
    # after the updates.
    late = _after_updates(temporaries, {c.result for c in changed})
    temporaries = [t for t in temporaries if t not in late]
    if ending is not None:
        ending, reduced = reduced[-1], reduced[:-1]
    # What the condition shares with the body is computed before the loop
    # and again at the end of each iteration, for the next test.
    rotated: list[tuple[sp.Symbol, sp.Expr]] = []
    test = reduced[0] if condition else None
    if condition:
        wanted = set(reduced[0].free_symbols)
        for symbol, value in reversed(temporaries):
            if symbol in wanted:
                rotated.insert(0, (symbol, value))
                wanted |= value.free_symbols
        reduced = reduced[1:]
    rotating = {symbol for symbol, _ in rotated}
    for symbol, value in rotated:
        names[symbol] = _free(writer, _suggested(value, names))
        writer.assign(names[symbol], writer.printer()(value))
    for symbol, value in temporaries:
        if symbol in rotating:
            continue
        names[symbol] = _free(writer, _suggested(value, names))
        body += _fitted(writer, names[symbol], value, _in_body(writer))
    print_ = _in_body(writer)
    for value, expr in zip(stored, reduced[len(carries):]):
        if count is None:
            body.append(ast.Expr(_call(f"{names[value.result]}.append",
                                       [print_(expr)])))
            continue
        body.append(ast.Assign([ast.Subscript(
            ast.Name(names[value.result], ast.Load()), print_(position),
            ast.Store())], print_(expr), None))
    test_first = ending is not None and bool(
        ending.free_symbols & {c.inside for c in changed})
    if test_first:  # it reads values from before the updates: named first
        done = _free(writer, "done")
        body.append(_assign(done, print_(ending)))
    body += _updates([(c.inside, names[c.result], e)
                      for c, e in zip(carries, reduced) if e != c.inside],
                     print_, writer)
    for symbol, value in late:
        names[symbol] = _free(writer, _suggested(value, names))
        body += _fitted(writer, names[symbol], value, _in_body(writer))
    if ending is not None:
        breaking = ast.Name(done, ast.Load()) if test_first else \
            _in_body(writer)(ending)
        body.append(ast.If(breaking, [ast.Break()], []))
    if loop.condition is not None:
        body += [_assign(names[symbol], _in_body(writer)(value))
                 for symbol, value in rotated]
        writer.out.append(ast.While(_in_body(writer)(test),
                                    body or [ast.Pass()], []))
        return
    bounds = ([print_(loop.start)] if loop.start != 0 else []) + [
        _bound(print_, loop.stop)]
    iterator = _call("range", bounds)
    if loop.reverse:
        iterator = _call("reversed", [iterator])
    writer.out.append(ast.For(ast.Name(names[loop.index], ast.Store()),
                              iterator, body or [ast.Pass()], [], None))


def _ending(loop: Loop, changed: list[Carry]) -> sp.Basic | None:
    """The loop's break test: as the body computes it where the body
    does (``if t: break``, with ``t = abs(x) > 4`` selecting the updates),
    else over the values just updated where it reads them only whole (``s
    = s + t``, then ``if s > 10: break``), else over the values the
    iteration started from (tested before the updates)."""
    if loop.exit is None:
        return None
    if any(c.update.has(loop.exit) for c in changed):
        return loop.exit
    after = loop.exit.xreplace({c.update: c.result for c in changed})
    if after.free_symbols & {c.inside for c in changed}:
        return loop.exit
    return after


def _after_updates(temporaries: list[tuple[sp.Symbol, sp.Expr]],
                   updated: set[sp.Symbol]
                   ) -> list[tuple[sp.Symbol, sp.Expr]]:
    """The temporaries that read an updated value (and those that read
    them): the break's test alone reads those."""
    late: list[tuple[sp.Symbol, sp.Expr]] = []
    reading = set(updated)
    for symbol, value in temporaries:
        if value.free_symbols & reading:
            late.append((symbol, value))
            reading.add(symbol)
    return late


# The longest assignment that fits on a line in a loop's body.
_LINE = 79 - 8


def _updates(changed: list[tuple[sp.Symbol, str, sp.Expr]],
             print_: Any, taken: Any) -> list[ast.stmt]:
    """``name = update`` for each carried value, in an order where no
    update reads a value already updated in this iteration; values that
    read each other are assigned together (``a, b = ..., ...``)."""
    statements: list[ast.stmt] = []
    waiting = list(changed)
    while waiting:
        free = [c for c in waiting if not any(
            c[0] in e.free_symbols for o in waiting if o is not c
            for e in [o[2]])]
        if not free:
            together = ast.Assign(
                [ast.Tuple([ast.Name(n, ast.Store()) for _, n, _ in waiting],
                           ast.Store())],
                ast.Tuple([print_(e) for _, _, e in waiting], ast.Load()),
                None)
            fits = len(ast.unparse(ast.fix_missing_locations(together)))
            if fits <= _LINE:
                statements.append(together)
                break
            # Too long for one line: each new value first, then the names.
            following = [(name, _free(taken, f"{name}_next"))
                         for _, name, _ in waiting]
            for (_, _, e), (_, next_) in zip(waiting, following):
                statements += _fitted(taken, next_, e, print_)
            statements += [_assign(name, ast.Name(next_, ast.Load()))
                           for name, next_ in following]
            break
        for carried in free:
            statements += _fitted(taken, carried[1], carried[2], print_)
            waiting.remove(carried)
    return statements


def _fitted(writer: Any, name: str, value: sp.Expr,
            print_: Any) -> list[ast.stmt]:
    """``name = value`` in a loop's body, its largest terms named first
    (``term = ...``) while its lines, wrapped, do not fit."""
    statement = _assign(name, _in_body(writer)(value))
    text = " " * 8 + ast.unparse(ast.fix_missing_locations(statement))
    parts = sorted((a for a in value.args if not a.is_Atom),
                   key=sp.count_ops, reverse=True) if isinstance(
        value, (sp.Add, sp.Mul)) else []
    if not parts or max(map(len, _wrap_line(text + "\n").splitlines())) \
            <= _WIDTH:
        return [statement]
    part = sp.Symbol(f"_loop_part_{len(writer.names)}", real=True)
    writer.names[part] = _free(writer, "term")
    return (_fitted(writer, writer.names[part], parts[0], print_)
            + _fitted(writer, name, value.xreplace({parts[0]: part}),
                      print_))


def _hoisted(writer: Any, exprs: list[sp.Expr], inside: set[sp.Symbol]
             ) -> list[sp.Expr]:
    """``exprs`` with each part that is the same in every iteration (and
    takes an operation to compute) computed once before the loop."""
    before: dict[sp.Expr, sp.Symbol] = writer.__dict__.setdefault(
        "loop_invariants", {})

    def invariant(expr: sp.Basic) -> bool:
        return not (expr.free_symbols & inside)

    def hoist(expr: sp.Expr) -> sp.Expr:
        if expr.is_Atom or isinstance(expr, sp.Number):
            return expr
        if isinstance(expr, ExprCondPair):  # a piece, not a value
            return ExprCondPair(hoist(expr.expr), hoist(expr.cond))
        if invariant(expr):
            symbol = before.get(expr)
            if symbol is None:
                symbol = sp.Symbol(f"_loop_invariant_{len(before)}",
                                   real=True)
                before[expr] = symbol
                writer.names[symbol] = _free(writer,
                                             _suggested(expr, writer.names))
                writer.assign(writer.names[symbol], writer.printer()(expr))
            return symbol
        if isinstance(expr, (sp.Add, sp.Mul)):
            fixed = [a for a in expr.args if invariant(a)]
            if len(fixed) > 1 and not all(isinstance(a, sp.Number)
                                          for a in fixed):
                rest = [a for a in expr.args if a not in fixed]
                return expr.func(hoist(expr.func(*fixed)),
                                 *[hoist(a) for a in rest])
        return expr.func(*[hoist(a) for a in expr.args])

    return [hoist(e) for e in exprs]


def _suggested(value: sp.Expr, names: dict[sp.Symbol, str]) -> str:
    from ._array_codegen import _function_name, _suggest_name
    if isinstance(value, sp.Piecewise):
        return "where"
    return _suggest_name(value, names) or _function_name(value)


def _in_body(writer: Any) -> Any:
    """The writer's printer for what runs in each iteration: an np.where
    inside another stays where it is (named, it would be computed once,
    before the loop)."""
    printer = writer.printer()
    printer.hoist = None
    return printer


def _bound(print_: Any, value: sp.Expr) -> ast.expr:
    """A trip count: ``min(n, n_1)`` for zip over arrays of two sizes."""
    if isinstance(value, sp.Min):
        return _call("min", [_bound(print_, a) for a in value.args])
    return print_(value)


def _only_read_by_loops(writer: Any, symbol: sp.Symbol) -> bool:
    """Whether ``symbol`` is only read row by row, by loops."""
    if any(symbol in o.free_symbols for o in writer.spec.outputs
           if isinstance(o, sp.Basic)):
        return False
    for step in writer.program.steps:
        loop = step.option("loop")
        if loop is None:
            if symbol in step.uses():
                return False
        elif symbol in loop.uses() and (symbol not in {
                r.array for r in loop.rows} or any(
                symbol in e.free_symbols for e in loop.body())):
            return False
    return True


def _unchanged(writer: Any, loop: Loop) -> Loop:
    """``loop`` without the values it carries through unchanged (a
    tangent that is 1 in every iteration): after it, each is its value
    before it."""
    fixed = {c.inside: c.initial for c in loop.carries
             if c.update == c.inside and c.inside != loop.index}
    if not fixed:
        return loop
    for carry in loop.carries:
        if carry.inside in fixed:
            node = writer.printer()(carry.initial)
            if isinstance(node, (ast.Name, ast.Constant)):
                writer.inline[carry.result] = node
            else:
                name = writer.output_names.get(carry.result,
                                               carry.result.name)
                writer.assign(name, node)
                writer.names[carry.result] = name
    carries = tuple(Carry(c.inside, c.initial, c.update.xreplace(fixed),
                          c.result)
                    for c in loop.carries if c.inside not in fixed)
    return loop.substituted(fixed, carries)


def _live(loop: Loop, needed: set[sp.Symbol]
          ) -> tuple[list[Carry], list[Stored]]:
    """The carried and stored values the outputs need."""
    stored = [s for s in loop.stored if s.result in needed]
    live = {c for c in loop.carries if c.result in needed}
    while True:
        exprs = [c.update for c in live] + [s.value for s in stored] + \
            loop.tests()
        used = set().union(*[e.free_symbols for e in exprs]) if exprs \
            else set()
        grown = live | {c for c in loop.carries if c.inside in used}
        if grown == live:
            return [c for c in loop.carries if c in live], stored
        live = grown


def _free(writer: Any, suggestion: str) -> str:
    name = unique_name(suggestion, writer.taken)
    writer.taken.add(name)
    return name


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign([ast.Name(name, ast.Store())], value, None)
