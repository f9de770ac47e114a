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
import copy
import re
from dataclasses import replace
from typing import Any

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from ._subexpressions import _cse, _suggest_name
from ._collect import collected_all
from ._dead_code import without_dead
from ._dotted import dotted
from ._ops_loop import Carry, Loop, Stored, merged
from ._printer import _call
from ._program import ELEMENTWISE, Step, unique_name
from ._walk import walk
from ._wrap import _WIDTH, _wrap_line

__all__ = ["write_loop"]


def write_loop(writer: Any, step: Step) -> None:
    """Append the statements running ``step``'s loop to ``writer.out``."""
    # Where each loop being written is written, and what it binds: a
    # value the same in every iteration is computed as far out as it is
    # the same (before the outermost loop it does not read).
    scopes = writer.__dict__.setdefault("loop_scopes", [])
    scopes.append((writer.out, step.option("loop").inside()))
    try:
        _write_loop(writer, step)
    finally:
        scopes.pop()


def _outermost(writer: Any, symbols: set[sp.Symbol]) -> list[ast.stmt]:
    """The statements of the outermost place where a value reading
    ``symbols`` (none of the innermost loop's) can be computed."""
    scopes = writer.loop_scopes
    depth = len(scopes) - 1
    while depth > 0 and not symbols & scopes[depth - 1][1]:
        depth -= 1
    return scopes[depth][0]


def _assigned_in(writer: Any, place: list[ast.stmt], name: str,
                 node: ast.expr) -> None:
    saved, writer.out = writer.out, place
    try:
        writer.assign(name, node)
    finally:
        writer.out = saved


def _write_loop(writer: Any, step: Step) -> None:
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
        r.array for r in loop.rows} | _read_by_steps(loop)
    for symbol in sorted(body_reads & loop.uses(), key=lambda s: s.name):
        if symbol in writer.inline:  # (a value of the function's own)
            _assigned_in(writer, writer.loop_scopes[0][0],
                         writer.names.get(symbol, symbol.name),
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
    owned: dict[str, ast.Assign | None] = {}  # how each carry starts
    for carry in carries:
        node = print_(carry.initial)
        if not (isinstance(node, ast.Name) and node.id == names[carry.result]):
            writer.assign(names[carry.result], node)
            owned[names[carry.result]] = writer.out[-1]
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
    # What a step of the body computes is read from it (the gradient of
    # a bias is the adjoint a product's rule materialized).
    computed = {step.operands[0]: step.target for step in loop.steps
                if step.op is ELEMENTWISE}
    exprs = [e.xreplace(computed) for e in
             [c.update for c in carries] + [s.value for s in stored]]
    exprs = _hoisted(writer, [sp.factor_terms(e) for e in exprs],
                     loop.inside())
    changed = [c for c in carries if c.update != c.inside]
    ending = _ending(loop, changed)
    if ending is not None:
        exprs.append(_hoisted(writer, [ending], loop.inside() | {
            c.result for c in changed})[0])
    steps = _needed_steps(loop, exprs + ([] if loop.condition is None
                                         else [loop.condition]))
    elementwise = [step for step in steps if step.op is ELEMENTWISE]
    step_exprs = _hoisted(writer, [sp.factor_terms(step.operands[0])
                                   for step in elementwise], loop.inside())
    used = set().union(*[e.free_symbols for e in exprs + step_exprs])
    used |= set().union(*[step.uses() for step in steps])
    print_ = _in_body(writer)
    for row in loop.rows:
        if row.item in used:
            names[row.item] = row.item.name
            body.append(_assign(names[row.item], ast.Subscript(
                print_(row.array), print_(position), ast.Load())))
    condition = [] if loop.condition is None else [loop.condition]
    # As a function's body: powers over a shared square (x_sq, not x * x
    # * x beside it), trivial parts left inline; shared with what the
    # body's elementwise steps compute.
    roots, rooted = _over_roots(condition + exprs + step_exprs)
    # The roots' arguments share their parts with the rest (sqrt(v / c)
    # beside u / v computes v once).
    temporaries, reduced = _cse(rooted + [value for _, value in roots],
                                share_squares=True)
    collected = collected_all(temporaries, reduced)
    reduced = collected.pop(None)
    roots = [(root, value) for (root, _), value in zip(
        roots, reduced[len(rooted):])]
    reduced = reduced[:len(rooted)]
    temporaries = roots + [(t, collected[t]) for t, _ in temporaries]
    if step_exprs:
        reduced, step_exprs = (reduced[:-len(step_exprs)],
                               reduced[-len(step_exprs):])
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
    # Each temporary is computed just before the first statement that
    # reads it, after the steps whose values it reads.
    pending = {s: v for s, v in temporaries if s not in rotating}

    def needed_by(expr: sp.Basic) -> list[ast.stmt]:
        statements: list[ast.stmt] = []
        for symbol in [s for s in pending if s in expr.free_symbols]:
            if symbol not in pending:
                continue  # written while writing another's
            value = pending.pop(symbol)
            statements += needed_by(value)
            names[symbol] = _free(writer, _suggested(value, names))
            statements += _fitted(writer, names[symbol], value,
                                  _in_body(writer))
        return statements

    # What the body reads is needed of a loop inside it.
    writer.needed = writer.needed | used | set().union(
        *[e.free_symbols for e in reduced + step_exprs])
    body += _steps(writer, steps, dict(zip(
        [step.target for step in elementwise], step_exprs)), needed_by)
    for symbol in list(pending):
        body += needed_by(symbol)
    print_ = _in_body(writer)
    for value, expr in zip(stored, reduced[len(carries):]):
        if count is None:
            body.append(ast.Expr(_call(f"{names[value.result]}.append",
                                       [print_(expr)])))
            continue
        body += _fitted(writer, ast.Subscript(
            ast.Name(names[value.result], ast.Load()), print_(position),
            ast.Store()), expr, print_)
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
    kept = {names[c.result] for c in carries} | {
        names[value.result] for value in stored}
    body = without_dead(_without_aliases(body), kept)
    program = writer.program
    shapes = {name: program.leaves[symbol].shape
              for symbol, name in writer.names.items()
              if symbol in program.leaves}
    # (an array that starts as integers, a gradient's seed of ones, takes
    # floats by a new array each iteration: filled in place it could not)
    fillable = [c for c in changed if not program.is_integer(c.initial)
                and not (names[c.result] in owned and _integers(
                    owned[names[c.result]].value))]  # type: ignore[union-attr]
    # (an array the loop starts from another is copied before it: one
    # pass there, where zeros made in each iteration are one per
    # iteration)
    _added_in_place(body, {names[c.result]: program.leaves[c.inside].shape
                           for c in fillable}, shapes)
    filled = _filled_in_place(body, [names[c.result] for c in fillable],
                              shapes)
    for name in filled:
        _owned_by_the_loop(writer, name, owned.get(name))
    # (what a fill in place no longer reads: the rows a zeros' shape came
    # from, and the loop that recomputed them)
    body = without_dead(body, kept)
    if loop.condition is not None:
        body += [_assign(names[symbol], _in_body(writer)(value))
                 for symbol, value in rotated]
        writer.out.append(ast.While(_in_body(writer)(test),
                                    body or [ast.Pass()], []))
        for value in stored:
            # A list the loop appended to, read as an array after it
            # (np.sum(hist ** 2)): made one, its rows of the values' shape
            # also when the loop ran no iteration.
            if not _only_read_by_loops(writer, value.result):
                name = names[value.result]
                sizes = [print_(sp.sympify(s)) for s in value.sizes]
                shape = ast.Tuple([_call("len", [ast.Name(name, ast.Load())])]
                                  + sizes, ast.Load())
                writer.assign(name, _call("np.reshape", [
                    ast.Name(name, ast.Load()), shape]) if sizes else _call(
                    "np.array", [ast.Name(name, ast.Load())]))
        return
    bounds = ([print_(loop.start)] if loop.start != 0 else []) + [
        _bound(print_, loop.stop)]
    iterator = _call("range", bounds)
    if loop.reverse:
        iterator = _call("reversed", [iterator])
    index = names[loop.index] if any(
        _reads(statement, names[loop.index]) for statement in body) else "_"
    written = ast.For(ast.Name(index, ast.Store()), iterator,
                      body or [ast.Pass()], [], None)
    # (what ``refilled`` may fill in place once the code after the loop
    # reads no history of it)
    written.refill = (  # type: ignore[attr-defined]
        [names[c.result] for c in fillable if names[c.result] not in filled],
        shapes, owned)
    writer.out.append(written)


def refilled(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with the copy-and-fill of an array a loop carries made a
    fill in place where that became possible after the loop was written:
    the history of it the loop stored was read by nothing (``without_dead``
    took it away). A copy per iteration makes a loop over n rows O(n^2)."""
    out: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, (ast.For, ast.While)):
            statement.body = refilled(statement.body)
        refill = getattr(statement, "refill", None)
        if refill is not None:
            carried, shapes, starts = refill
            # (only arrays whose start shows floats: a gradient's seed,
            # np.broadcast_to(1, shape), is integers, which an addition in
            # place cannot make floats)
            carried = [name for name in carried if starts.get(name)
                       and not _integers(starts[name].value)]
            for name in _filled_in_place(statement.body, carried, shapes):
                if not _made_new(starts[name]):
                    starts[name].value = _call("np.copy", [
                        starts[name].value])
        out.append(statement)
    return out


def _integers(value: ast.expr) -> bool:
    """Whether ``value`` may be an array of integers: an integer constant,
    or an array made of one (``np.broadcast_to(1, (n,))``)."""
    if isinstance(value, ast.Call) and len(value.args) >= 2:
        spelled = dotted(value.func)
        if spelled == "np.broadcast_to":
            return _integers(value.args[0])
        if spelled in ("np.full", "np.full_like"):
            return _integers(value.args[1])
    return isinstance(value, ast.Constant) and type(value.value) is int


def _over_roots(exprs: list[sp.Basic]
                ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Basic]]:
    """``exprs`` with the half-integer powers of a base that several read
    written over one square root (``s ** 1.5`` and ``s ** -0.5`` share
    ``sqrt_s``), and the roots' definitions."""
    def halves(power: sp.Basic) -> bool:
        return isinstance(power, sp.Pow) and power.exp.is_Rational and \
            power.exp.q == 2 and bool(power.base.free_symbols)

    counts: dict[sp.Expr, int] = {}
    for expr in exprs:
        for power in expr.atoms(sp.Pow):
            if halves(power):
                counts[power.base] = counts.get(power.base, 0) + 1
    roots = {base: sp.Dummy("root") for base, count in counts.items()
             if count > 1}
    if not roots:
        return [], exprs
    def over_root(power: sp.Pow) -> sp.Expr:
        twice = int(2 * power.exp)  # odd: s ** 1.5 is s * root
        sign = 1 if twice > 0 else -1
        return power.base ** ((twice - sign) // 2) * roots[power.base] ** sign

    rooted = [expr.replace(lambda p: halves(p) and p.base in roots,
                           over_root) for expr in exprs]
    return [(root, sp.sqrt(base)) for base, root in roots.items()], rooted


def _needed_steps(loop: Loop, exprs: list[sp.Basic]) -> tuple[Step, ...]:
    """The body's steps that what ``exprs`` read needs (a gradient's loop
    computes again only the forward values its rules read)."""
    needed = set().union(*[e.free_symbols for e in exprs]) if exprs \
        else set()
    kept: list[Step] = []
    for step in reversed(loop.steps):
        if needed.intersection(step.results()):
            kept.insert(0, step)
            inner = step.option("loop")
            if inner is None:
                needed |= step.uses()
                continue
            # Of a loop in the loop, what its live values read: the start
            # of a carried value nothing reads is not written.
            carries, stored = _live(inner, needed)
            needed |= replace(inner, carries=tuple(carries),
                              stored=tuple(stored)).uses()
    return tuple(kept)


def _read_by_steps(loop: Loop) -> set[sp.Symbol]:
    return set().union(*[step.uses() for step in loop.steps])


def _steps(writer: Any, steps: tuple[Step, ...],
           reduced: dict[sp.Symbol, sp.Expr],
           needed_by: Any) -> list[ast.stmt]:
    """The array operations the body runs on values that change, each
    assigned to a name (``W_h = W @ h``); an elementwise one computes its
    expression over the body's temporaries (``reduced``), which
    ``needed_by`` writes first."""
    statements: list[ast.stmt] = []
    for step in steps:
        if step.option("loop") is not None:  # a loop in the loop
            saved, writer.out = writer.out, []
            write_loop(writer, step)
            statements += writer.out
            writer.out = saved
            continue
        name = _free(writer, _step_name(step.target.name))
        if step.op is ELEMENTWISE:
            value = reduced[step.target]
            statements += needed_by(value)
            if isinstance(value, sp.Symbol) and value in writer.names:
                writer.names[step.target] = writer.names[value]
                continue  # a temporary holds it: no alias
            node = _in_body(writer)(value)
        else:
            saved, writer.out = writer.out, []
            node = writer.array_operation(step, step.operands, name)
            statements += writer.out  # what writing it named first
            writer.out = saved
        writer.names[step.target] = name
        statements += node if isinstance(node, list) else [
            _assign(name, node)]
    return statements


def _without_aliases(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` with ``g = d`` gone where ``d`` is read nowhere else: the
    statement computing ``d`` assigns ``g`` (``grad_h = U_T @ d_z``), if
    nothing between them reads ``g``."""
    body = list(body)
    for place in reversed(range(len(body))):
        alias = body[place]
        if not (isinstance(alias, ast.Assign) and len(alias.targets) == 1
                and isinstance(alias.targets[0], ast.Name)
                and isinstance(alias.value, ast.Name)):
            continue
        name, value = alias.targets[0].id, alias.value.id
        made = [k for k in range(place) if _binds(body[k], value)]
        if len(made) != 1 or sum(_reads(s, value) for s in body) != 1:
            continue
        first = made[0]
        if any(_reads(s, name) or _stores(s, name)
               for s in body[first:place]):
            continue
        statement = body[first]
        assert isinstance(statement, ast.Assign)
        body[first] = ast.Assign([ast.Name(name, ast.Store())],
                                 statement.value, None)
        del body[place]
    return body


def _added_in_place(body: list[ast.stmt], carried: dict[str, tuple],
                    shapes: dict[str, tuple]) -> None:
    """``body`` with zeros filled at an index and added to a carried array
    of their shape (``d = np.zeros_like(x); d[i] = v; g = d + g``, a
    gradient's contribution of ``x[i]`` read in an iteration) written as
    a copy-and-fill of that array (``d = np.copy(g); d[i] += v; g = d``),
    which ``_filled_in_place`` makes a fill of ``g`` itself: no array of
    zeros per iteration. Rewrites ``body``."""
    for end, statement in enumerate(body):
        value = getattr(statement, "value", None)
        if not (isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(value, ast.BinOp)
                and isinstance(value.op, ast.Add)
                and isinstance(value.left, ast.Name)
                and isinstance(value.right, ast.Name)):
            continue
        total = statement.targets[0].id
        terms = {value.left.id, value.right.id} - {total}
        if total not in carried or len(terms) != 1:
            continue
        (zeros,) = terms
        starts = [k for k in range(end) if _binds(body[k], zeros)]
        if len(starts) != 1 or shapes.get(zeros) != carried[total]:
            continue
        start = starts[0]
        made = body[start].value  # type: ignore[attr-defined]
        fills = [k for k in range(start + 1, end)
                 if _fills_at(body[k], zeros)]
        # (d[i] = v first: i picks each element once, of zeros; then only
        # additions, d[j] += w, which add to g as they add to zeros)
        if not (isinstance(made, ast.Call) and dotted(made.func) in (
                "np.zeros_like", "np.zeros")) or not fills or any(
                isinstance(body[k], ast.Assign) for k in fills[1:]) or any(
                _reads(s, zeros) for k, s in enumerate(body)
                if k not in (*fills, end)) or any(
                _reads(s, total) or _stores(s, total)
                for s in body[start:end]):
            continue
        fill = body[fills[0]]
        if isinstance(fill, ast.Assign):
            fill = ast.AugAssign(fill.targets[0], ast.Add(), fill.value)
        body[start] = _assign(zeros, _call("np.copy", [
            ast.Name(total, ast.Load())]))
        body[fills[0]] = fill
        body[end] = _assign(total, ast.Name(zeros, ast.Load()))


def _fills_at(statement: ast.stmt, name: str) -> bool:
    """Whether ``statement`` is ``name[...] = v``, ``name[...] += v`` (or
    ``-=``) or ``np.add.at(name, ...)``, reading ``name`` nowhere else."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
            or isinstance(statement, ast.AugAssign) and isinstance(
                statement.op, (ast.Add, ast.Sub)):
        target = statement.targets[0] if isinstance(
            statement, ast.Assign) else statement.target
        return (isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == name
                and not _reads(statement.value, name)
                and not _reads(target.slice, name))
    call = getattr(statement, "value", None)
    return (isinstance(statement, ast.Expr) and isinstance(call, ast.Call)
            and dotted(call.func) == "np.add.at" and bool(call.args)
            and isinstance(call.args[0], ast.Name)
            and call.args[0].id == name
            and not any(_reads(a, name) for a in call.args[1:]))


def _filled_in_place(body: list[ast.stmt], carried: list[str],
                     shapes: dict[str, tuple]) -> list[str]:
    """The carried arrays whose copy-and-fill in ``body`` (``c_1 =
    np.copy(c); c_1[i] += v; ...; c = c_1``, as a fill of a value that is
    also read elsewhere is written) becomes a fill of the carried array
    itself, where nothing between reads its old value: a copy per
    iteration makes a loop over n rows O(n^2). Rewrites ``body``."""
    _merged_copies(body, shapes)
    filled = []
    for name in carried:
        ends = [k for k, s in enumerate(body) if _binds(s, name)
                and isinstance(s.value, ast.Name)]
        if len(ends) != 1:
            continue
        end = ends[0]
        made = body[end].value.id  # type: ignore[attr-defined]
        starts = [k for k, s in enumerate(body) if _binds(s, made)]
        if len(starts) != 1 or not _copies(body[starts[0]], name):
            continue
        start = starts[0]
        if start > end or any(_reads(s, name) or _stores(s, name)
                              for s in body[start + 1:end]) or sum(
                _stores(s, made) for s in body) != 1:
            continue
        views = _views_read_after(body, name, start, shapes, made)
        # (a row of the array read into a name and read after the fill,
        # a gradient's row also added elsewhere: that row copied, O(row),
        # where the array copied was O(array) per iteration)
        if views and not all(_row_read(view, name) for view in views):
            continue
        for view in views:
            view.value = _call("np.copy", [view.value])
        renamed = [_renamed(s, made, name) for s in body]
        body[:] = [s for k, s in enumerate(renamed) if k not in (start, end)]
        filled.append(name)
    return filled


def _merged_copies(body: list[ast.stmt], shapes: dict[str, tuple]) -> None:
    """``body`` with a copy of a copy it made (``c_1 = np.copy(c); c_1[i]
    += v; c_2 = np.copy(c_1); c_2[j] -= v``, two fills of one array in an
    iteration) filling the first copy again, where nothing after reads
    the first: one copy per iteration, which ``_filled_in_place`` can then
    take away. Rewrites ``body``."""
    merged = True
    while merged:
        merged = False
        made = {s.targets[0].id: k for k, s in enumerate(body)  # type: ignore
                if isinstance(s, ast.Assign) and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Call)
                and dotted(s.value.func) in ("np.copy", "numpy.copy")}
        for name, place in made.items():
            source = body[place].value.args  # type: ignore[attr-defined]
            if len(source) != 1 or not isinstance(source[0], ast.Name):
                continue
            first = source[0].id
            if made.get(first, place) >= place or sum(
                    _stores(s, name) for s in body) != 1 or any(
                    _reads(s, first) or _stores(s, first)
                    for s in body[place + 1:]) or _view_read_after(
                        body, first, place, shapes, name):
                continue
            body[place:] = [_renamed(s, name, first)
                            for s in body[place + 1:]]
            merged = True
            break


def _view_read_after(body: list[ast.stmt], name: str, place: int,
                     shapes: dict[str, tuple], made: str) -> bool:
    """Whether a name bound before ``place`` to what may be a view of the
    array ``name`` (``v = d[1:-1]``, ``d.T``, ``np.reshape(d, ...)``) is
    read after it: filling ``name`` in place from there would change it
    (sweep 4, bug 20: a heat equation's gradient was exactly zero). An
    item, of shape () in ``shapes``, is a number of its own."""
    return bool(_views_read_after(body, name, place, shapes, made))


def _views_read_after(body: list[ast.stmt], name: str, place: int,
                      shapes: dict[str, tuple], made: str
                      ) -> list[ast.Assign]:
    """The statements binding names that may hold a view of ``name`` (or
    of ``made``, its copy made at ``place``, which becomes ``name``) read
    once ``made`` is filled: after its first fill, whose value is computed
    before the fill."""
    first = next((k for k in range(place + 1, len(body))
                  if _fills(body[k], made)), len(body))
    views: dict[str, ast.Assign] = {}
    for statement in body[:first]:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and shapes.get(statement.targets[0].id) != ()
                and _may_view(statement.value, {name, made} | set(views))):
            views[statement.targets[0].id] = statement
    return [views[view] for view in views
            if any(_reads(s, view) for s in body[first + 1:])]


def _fills(statement: ast.stmt, name: str) -> bool:
    """Whether ``statement`` is ``name[k] = v`` (``+=``, ``-=``) and
    nothing else of it reads ``name``."""
    target = statement.targets[0] if isinstance(statement, ast.Assign) \
        and len(statement.targets) == 1 else getattr(statement, "target",
                                                     None)
    return isinstance(statement, (ast.Assign, ast.AugAssign)) and isinstance(
        target, ast.Subscript) and isinstance(target.value, ast.Name) and \
        target.value.id == name and not _reads(statement.value, name)


def _row_read(statement: ast.Assign, name: str) -> bool:
    """Whether ``statement`` is ``v = name[i]`` (``name[i, j]``) for
    integers: a row (or item) of ``name``, no slice of it."""
    value = statement.value
    parts = value.slice.elts if isinstance(value, ast.Subscript) and \
        isinstance(value.slice, ast.Tuple) else [getattr(value, "slice",
                                                         None)]
    return (isinstance(value, ast.Subscript)
            and isinstance(value.value, ast.Name) and value.value.id == name
            and all(isinstance(p, (ast.Name, ast.Constant, ast.BinOp))
                    for p in parts))


# What reads an array into a view of it, not a new value.
_VIEW_CALLS = {"np.reshape", "np.transpose", "np.swapaxes", "np.moveaxis",
               "np.squeeze", "np.expand_dims", "np.broadcast_to", "np.ravel",
               "np.diagonal", "np.flip", "np.fliplr", "np.flipud"}
_VIEW_METHODS = {"reshape", "transpose", "swapaxes", "squeeze", "ravel",
                 "diagonal", "view"}


def _may_view(value: ast.expr, arrays: set[str]) -> bool:
    """Whether ``value`` may be a view of one of ``arrays``: an index of
    it (a slice is one), its ``.T``, or a call that views it."""
    def named(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in arrays or \
            _may_view(node, arrays)

    if isinstance(value, ast.Subscript):
        return named(value.value)
    if isinstance(value, ast.Attribute):
        return value.attr == "T" and named(value.value)
    if isinstance(value, ast.Call):
        if isinstance(value.func, ast.Attribute) and \
                value.func.attr in _VIEW_METHODS:
            return named(value.func.value)
        return dotted(value.func) in _VIEW_CALLS and bool(
            value.args) and named(value.args[0])
    return False


def _copies(statement: ast.stmt, name: str) -> bool:
    """Whether ``statement`` is ``... = np.copy(name)``."""
    value = getattr(statement, "value", None)
    return isinstance(value, ast.Call) and dotted(value.func) in (
        "np.copy", "numpy.copy") and len(value.args) == 1 and not \
        value.keywords and isinstance(value.args[0], ast.Name) and \
        value.args[0].id == name


def _renamed(statement: ast.stmt, old: str, new: str) -> ast.stmt:
    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            return ast.Name(new, node.ctx) if node.id == old else node

    return Rename().visit(copy.deepcopy(statement))


# Calls that make a new array, which a loop may fill as it is: those the
# writer never gives a second name (_array_codegen._BUFFERS). Two equal
# np.ones(n) may become one name, which a fill would change under the
# other: such an array is copied once before the loop.
_FRESH = {"np.zeros", "np.zeros_like", "np.empty", "np.empty_like",
          "np.ones", "np.ones_like", "np.full", "np.full_like"}


def _made_new(start: ast.Assign | None) -> bool:
    """Whether a carried array starts as a new array (``np.zeros(n)``,
    ``2 * h``: arithmetic makes one) that the loop may fill without a
    copy."""
    if start is not None and isinstance(start.value, (ast.BinOp,
                                                      ast.UnaryOp)):
        return True
    return start is not None and isinstance(start.value, ast.Call) and \
        dotted(start.value.func) in _FRESH


def _owned_by_the_loop(writer: Any, name: str,
                       start: ast.Assign | None) -> None:
    """Make the array ``name`` starts the loop with one that no other name
    holds (the loop fills it in place): a copy, unless it is made anew."""
    if start is not None:
        if _made_new(start):
            return
        start.value = _call("np.copy", [start.value])
        return
    writer.assign(name, _call("np.copy", [ast.Name(name, ast.Load())]))


def _binds(statement: ast.stmt, name: str) -> bool:
    return isinstance(statement, ast.Assign) and len(
        statement.targets) == 1 and isinstance(
        statement.targets[0], ast.Name) and statement.targets[0].id == name


def _stores(statement: ast.stmt, name: str) -> bool:
    """Whether ``statement`` binds ``name`` anywhere (``a, name = ...``,
    a loop's variable); filling an item of it reads it."""
    return any(isinstance(node, ast.Name) and node.id == name
               and isinstance(node.ctx, ast.Store)
               for node in walk(statement))


def _reads(statement: ast.stmt, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name
               and isinstance(node.ctx, ast.Load)
               for node in walk(statement))


def _step_name(name: str) -> str:
    """A body step's name without what says where its operands come from
    or how they are multiplied (``W_h``, not ``dot_W_h_inside``)."""
    shown = re.sub(r"(^|_)dot_", r"\1", re.sub(r"_(inside|i)(?=_|$)", "",
                                               name))
    return shown or name


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


def _fitted(writer: Any, name: str | ast.expr, value: sp.Expr,
            print_: Any) -> list[ast.stmt]:
    """``name = value`` in a loop's body (``name``: a name, or a target
    such as ``grad_y[i]``), its largest terms named first (``term =
    ...``) while its lines, wrapped, do not fit."""
    target = ast.Name(name, ast.Store()) if isinstance(name, str) else name
    statement = ast.Assign([target], _in_body(writer)(value), None)
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
    before: dict[sp.Expr, tuple[sp.Symbol, list[ast.stmt]]] = \
        writer.__dict__.setdefault("loop_invariants", {})
    open_places = [place for place, _ in writer.loop_scopes]

    def invariant(expr: sp.Basic) -> bool:
        return not (expr.free_symbols & inside)

    def hoist(expr: sp.Expr) -> sp.Expr:
        if expr.is_Atom or isinstance(expr, sp.Number) or (
                isinstance(expr, sp.Mul) and expr.args[0] == -1
                and len(expr.args) == 2 and expr.args[1].is_Atom):
            # (-b: as cheap as reading a name, and written -b - r in one
            # place, -(b + r) in another, a name for it hides that the
            # two are one value)
            return expr
        if isinstance(expr, ExprCondPair):  # a piece, not a value
            return ExprCondPair(hoist(expr.expr), hoist(expr.cond))
        if invariant(expr):
            symbol, place = before.get(expr, (None, None))
            if symbol is None or not any(place is p for p in open_places):
                # (computed where this loop is not: inside a loop before)
                symbol = sp.Symbol(f"_loop_invariant_{len(before)}",
                                   real=True)
                place = _outermost(writer, expr.free_symbols)
                before[expr] = (symbol, place)
                writer.names[symbol] = _free(writer,
                                             _suggested(expr, writer.names))
                _assigned_in(writer, place, writer.names[symbol],
                             writer.printer()(expr))
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
    from ._array_writer import _function_name
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
    fixed: dict[sp.Basic, sp.Basic] = {}
    for carry in loop.carries:
        if carry.update != carry.inside or carry.inside == loop.index:
            continue
        node = writer.printer()(carry.initial)
        if isinstance(node, (ast.Name, ast.Constant)):
            writer.inline[carry.result] = node
            fixed[carry.inside] = carry.initial
            if isinstance(carry.initial, sp.Number):
                writer.numbers[carry.result] = carry.initial
        else:  # computed once, before the loop, and read by its name
            name = writer.output_names.get(carry.result, carry.result.name)
            writer.assign(name, node)
            writer.names[carry.result] = name
            fixed[carry.inside] = carry.result
    if not fixed:
        return loop
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
            loop.tests() + [o for step in loop.steps for o in step.operands
                            if isinstance(o, sp.Basic)]
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
