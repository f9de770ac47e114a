"""Lowering a loop that stays a loop (see ``_ops_loop``).

A ``for`` loop over ``range()`` with a bound the call decides (an integer
argument, a size), over the rows of arrays (``xs``, ``enumerate(xs)``,
``zip(xs, ys)``), and a ``while`` loop cannot be unrolled. A loop of a
constant count is kept too where its body allows if it is long (at least
``KEPT_FROM`` iterations: the derivatives of a long recurrence grow with
every order) or reads a value it assigns twice (written out, that value
doubles at each step); other short loops are unrolled, so their closed
forms come out; so is a short loop over an array of constants the
function writes (``np.array([1.0, 2.0])``), over its values. A kept
loop's body is lowered once, over symbols for the values it carries from
one iteration to the next (the names it assigns that were bound before
it), for the loop variable and for the rows read (``xs[i]`` at the loop
variable is one). It must be elementwise in what
changes from one iteration to the next; array operations on values from
before the loop are computed once, before it. A list the loop fills one
number per iteration (``h = [0.0] * n`` or ``np.empty(n)``, then ``h[i] =
x``; ``h = []``, then ``h.append(x)`` in a while loop), as the gradients
we print store what they read back, is the array of those values.
"""

from __future__ import annotations

import ast
import copy
import itertools
import re
from typing import Any

import sympy as sp

from ._containers import array_rows
from ._errors import AutodiffError
from ._limits import KEPT_FROM, reads_twice
from ._last_items import LAST_ITEM, with_last_items
from ._lists import GROWING, Buffer, buffer, returned_whole
from ._loop_exits import jumpless, returned_names, without_returns
from ._ops_assemble import FRESH, concatenate, held_elsewhere, stack
from ._ops_create import CONSTANT, constant_array
from ._ops_index import GETITEM, getitem
from ._ops_loop import Carry, Loop, Row, Stored, loop_step
from ._spell import Slot
from ._program import ELEMENTWISE, Leaf, Step, broadcast_shapes

__all__ = ["Buffer", "buffer", "comprehended", "constant_rows", "keep_loop",
           "keep_while"]


class _NotKept(Exception):
    """The body cannot be kept as a loop's (the message says why)."""

    def __init__(self, node: ast.AST, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


class _TestedInside(_NotKept):
    """The while loop's condition runs array operations on values that
    change in it: the loop is kept tested at the top of its body."""


# Times the body is lowered again at most while the shapes or dtypes of
# what it carries settle (acc = 0.0, then acc = acc + x: an array).
_SETTLING = 3


def keep_loop(run: Any, loop: ast.For, env: dict[str, Any]) -> bool:
    """Lower ``loop`` as a loop step if it must stay one; False if it is
    to be unrolled (its trip count is known now)."""
    if loop.orelse:
        return False
    iterator = loop.iter
    program = run.program
    if isinstance(loop.target, ast.Tuple):
        if _kept_pairs(run, loop, env):
            return True
        # for a, b in M: over M's rows, each unpacked (a, b = row)
        rows = _rows_unpacked(loop, env)
        return rows is not None and keep_loop(run, rows, env)
    if not isinstance(loop.target, ast.Name):
        return False
    reverse = False
    if isinstance(iterator, ast.Call) and len(iterator.args) == 1 and \
            isinstance(iterator.args[0], ast.Call) and \
            run.expression(iterator.func, env) is reversed:
        iterator, reverse = iterator.args[0], True
    if isinstance(iterator, ast.Call) and run.expression(
            iterator.func, env) is range:
        if iterator.keywords or not 1 <= len(iterator.args) <= 2:
            return False
        bounds = [run.outside_now(run.expression(a, env))
                  for a in iterator.args]  # (range(STEPS): baked in)
        decided = [b for b in bounds if isinstance(b, sp.Expr)
                   and b.free_symbols - program.sizes.keys()]
        if not decided:
            # A count read from a size (range(len(x))) stays a loop where it
            # can, so the code serves every size; a constant one if long.
            constant = all(isinstance(b, sp.Integer) for b in bounds)
            count = len(range(*(int(b) for b in bounds))) if constant else 0
            if constant and count < KEPT_FROM and not (
                    count > 1 and reads_twice(_without_appends(loop))):
                return False
            start, stop = ([sp.S.Zero] + bounds)[-2:]
            return _kept_if_possible(run, loop, env, start, stop, reverse)
        for bound, node in zip(bounds, iterator.args):
            if not (isinstance(bound, sp.Expr) and program.is_integer(bound)
                    and run.shape(bound, node) == ()):
                raise run.error(node, "range() bounds must be integers: "
                                      "pass the number of steps as an int"
                                      + _differentiated(program, bound))
        start, stop = ([sp.S.Zero] + bounds)[-2:]
        _lowered_or_refused(run, loop, env, start, stop, [],
                            loop.target.id, reverse)
        return True
    if reverse:
        return False
    array = _array(run, iterator, env)
    if array is None:
        return False
    rows = constant_rows(run, array, iterator)
    if rows is not None and len(rows) < KEPT_FROM and not (
            len(rows) > 1 and reads_twice(_without_appends(loop))):
        return False  # unrolled over its values, as range(3) is
    _lowered_or_refused(run, loop, env, sp.S.Zero,
                        sp.sympify(program.size(array, 0)),
                        [(loop.target.id, array)], None)
    return True


def _differentiated(program: Any, bound: Any) -> str:
    """Why a bound that is an argument's number is no integer: it is
    differentiated, so taken as a float (an int leaf of a dict among
    ``argnums``, ``p["steps"]``)."""
    if not isinstance(bound, sp.Symbol):
        return ""
    leaf = program.leaves.get(bound)
    if leaf is None or leaf.kind != "param":
        return ""
    shown = leaf.access or bound.name
    return (f" ({shown} is differentiated, as argnums asks, so it is a "
            "float here: pass it as an argument argnums leaves out)")


def _array(run: Any, node: ast.expr, env: dict[str, Any]
           ) -> sp.Symbol | None:
    """The array ``node`` is, if it is one (of one axis or more)."""
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript,
                             ast.Call, ast.BinOp)):
        return None
    items = run.expression(node, env)
    if not (isinstance(items, sp.Expr) and run.shape(items, node)):
        return None
    return run.materialize(items, node, "rows")


def constant_rows(run: Any, array: Any, node: ast.AST) -> list[Any] | None:
    """The rows of ``array`` if it is an array of constants the function
    writes (``np.array([1.0, 2.0])``), known now whatever the arguments:
    numbers, or arrays of constants; None for any other array (a global
    is read when the code runs, and may change)."""
    step = run.program.definition().get(array)
    if step is None or step.op is not CONSTANT:
        return None
    leaf = run.program.leaves[array]
    if len(leaf.shape) == 1:
        return [run.constant(value, node) for value in step.option("values")]
    dtype = bool if leaf.boolean else int if leaf.integer else float
    return [constant_array(run, row, dtype, node)
            for row in step.option("values")]


def _rows_unpacked(loop: ast.For, env: dict[str, Any]) -> ast.For | None:
    """``for row in M: a, b = row; ...`` for ``for a, b in M: ...`` (M
    not a call of enumerate, zip or range, whose items are pairs); None
    for those."""
    if isinstance(loop.iter, ast.Call):
        return None
    taken = set(env) | {n.id for n in ast.walk(loop) if isinstance(
        n, ast.Name)}
    name = next(f"row{suffix}" for suffix in itertools.chain(
        [""], itertools.count(1)) if f"row{suffix}" not in taken)
    rows = copy.copy(loop)  # (with the flags lowering set on it: broke)
    rows.target = ast.Name(name, ast.Store())
    rows.body = [ast.Assign([loop.target], ast.Name(name, ast.Load()),
                            None), *loop.body]
    for node in (rows.target, rows.body[0]):
        ast.copy_location(node, loop.target)
        ast.fix_missing_locations(node)
    return rows


def _kept_pairs(run: Any, loop: ast.For, env: dict[str, Any]) -> bool:
    """``for i, x_t in enumerate(xs, start=1)``, ``for a, b in zip(xs,
    ys)`` and ``for i, (a, b) in enumerate(zip(xs, ys))`` over arrays,
    kept as loops over their rows; False otherwise."""
    iterator, target = loop.iter, loop.target
    counter, offset = None, sp.S.Zero
    if isinstance(iterator, ast.Call) and run.expression(
            iterator.func, env) is enumerate:
        offset = _enumerate_start(run, iterator, env)
        if offset is None or not (isinstance(target, ast.Tuple) and len(
                target.elts) == 2 and isinstance(target.elts[0], ast.Name)):
            return False
        counter = target.elts[0].id
        iterator, target = iterator.args[0], target.elts[1]
    if isinstance(target, ast.Name) and counter is not None:
        arrays = [_array(run, iterator, env)]
        names = [target.id]
    elif isinstance(target, ast.Tuple) and all(
            isinstance(e, ast.Name) for e in target.elts) and isinstance(
            iterator, ast.Call) and not iterator.keywords and run.expression(
            iterator.func, env) is zip and len(iterator.args) == len(
            target.elts) >= 1:
        arrays = [_array(run, a, env) for a in iterator.args]
        names = [e.id for e in target.elts]  # type: ignore[attr-defined]
    else:
        return False
    if any(a is None for a in arrays):
        return False
    stop = sp.Min(*[sp.sympify(run.program.size(a, 0)) for a in arrays])
    _lowered_or_refused(run, loop, env, sp.S.Zero, stop,
                        list(zip(names, arrays)), counter, False, offset)
    return True


def _enumerate_start(run: Any, call: ast.Call,
                     env: dict[str, Any]) -> Any:
    """Where ``enumerate(xs)``, ``enumerate(xs, 1)`` or ``enumerate(xs,
    start=1)`` counts from; None for another call of enumerate."""
    given = call.args[1:] + [k.value for k in call.keywords
                             if k.arg == "start"]
    if not 1 <= len(call.args) <= 2 or len(given) + 1 != len(
            call.args) + len(call.keywords) or len(given) > 1:
        return None
    if not given:
        return sp.S.Zero
    start = run.expression(given[0], env)
    if not (isinstance(start, sp.Expr) and run.program.is_integer(start)
            and run.shape(start, given[0]) == ()):
        raise run.error(given[0], "enumerate() counts from an integer")
    return start


def _lowered_or_refused(run: Any, loop: ast.For, env: dict[str, Any],
                        *bounds: Any) -> None:
    try:
        _lower(run, loop, env, *bounds)
    except _NotKept as refusal:
        raise run.error(refusal.node, refusal.message) from None


def _kept_if_possible(run: Any, loop: ast.For, env: dict[str, Any],
                      start: sp.Expr, stop: sp.Expr, reverse: bool) -> bool:
    """Keep a loop of a constant count as a loop; if its body does not
    allow that, forget what lowering it added and unroll it."""
    program = run.program
    before = len(program.steps)
    try:
        _lower(run, loop, env, start, stop, [],
               loop.target.id, reverse)  # type: ignore[attr-defined]
    except (_NotKept, AutodiffError):
        kept = program.steps[:before]
        defined = {r for s in kept for r in s.results()}
        program.steps = kept
        program._memo = {key: value for key, value in program._memo.items()
                         if value in defined}
        return False
    return True


def _without_appends(loop: ast.For) -> ast.For:
    """``loop`` without its statements ``history.append(value)``: what
    they read is stored, not computed from again, so written out they do
    not make the loop's values grow."""
    body = [statement for statement in loop.body
            if not (isinstance(statement, ast.Expr)
                    and isinstance(statement.value, ast.Call)
                    and isinstance(statement.value.func, ast.Attribute)
                    and statement.value.func.attr in GROWING)]
    return ast.For(loop.target, loop.iter, body, loop.orelse, None)


def keep_while(run: Any, loop: ast.While, env: dict[str, Any]) -> None:
    """Lower ``while condition: body`` as a loop step that counts its
    iterations (a gradient runs them backwards)."""
    if loop.orelse:
        raise run.error(loop, "while ... else is not supported: put the "
                              "else block after the loop")
    if isinstance(loop.test, ast.Constant) and loop.test.value is True:
        # Names `while True:` binds before its first break, and the code
        # after it reads, are bound when it ends: carried, from a value no
        # iteration reads.
        read = _read_after(run, loop)
        for name in _bound_first(loop.body):
            if name in read:
                env.setdefault(name, sp.S.Zero)
    else:
        # So are those of `while condition:`, which Python leaves unbound
        # when no iteration runs: then they are nan, not a number the
        # function never computed.
        read = _read_after(run, loop)
        for name in _bound_first(loop.body):
            if name in read:
                env.setdefault(name, sp.nan)
    try:
        try:
            _lower(run, loop, env, sp.S.Zero, None, [], None)
        except _TestedInside:
            # while condition: body is while True: (if not condition:
            # break), body; tested in the body, the condition's array
            # operations run in each iteration, as the body's do.
            _lower(run, jumpless(_tested_in_the_body(loop), env.keys()),
                   env, sp.S.Zero, None, [], None)
    except _NotKept as refusal:
        raise run.error(refusal.node, refusal.message) from None


def _tested_in_the_body(loop: ast.While) -> ast.While:
    """``while True:`` with ``if not condition: break`` first in the
    body, at the condition's place."""
    test = loop.test
    stop = ast.If(ast.UnaryOp(ast.Not(), test), [ast.Break()], [])
    for node in (stop, stop.test, stop.body[0]):
        ast.copy_location(node, test)
    forever = ast.copy_location(ast.Constant(True), test)
    return ast.copy_location(ast.While(forever, [stop, *loop.body], []),
                             loop)


def _read_after(run: Any, loop: ast.For | ast.While) -> set[str]:
    """The names the function's code after ``loop`` reads."""
    end = getattr(loop, "end_lineno", None)
    if end is None:
        return set()
    return {node.id for node in ast.walk(run.source.node)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            and getattr(node, "lineno", 0) > end}


def _bound_first(body: list[ast.stmt]) -> list[str]:
    """The names the plain assignments at the start of ``body`` bind,
    before any other statement (a test that may break)."""
    names = []
    for statement in body:
        if not isinstance(statement, ast.Assign):
            break
        names += [t.id for t in statement.targets if isinstance(t, ast.Name)]
    return names


def _fills(run: Any, loop: ast.For | ast.While, env: dict[str, Any],
           counter: str | None, stop: sp.Expr | None
           ) -> tuple[list[ast.stmt], dict[str, str]]:
    """The body with each ``history[i] = value`` into a list made before
    the loop (``[0.0] * n``, as long as the loop: n is its count) or an
    array of zeros (``np.zeros((n, d))``, read nowhere else) at the loop's
    variable read as the value stored that iteration (assigned to a name
    of its own), and those names."""
    body: list[ast.stmt] = []
    filled: dict[str, str] = {}
    for statement in loop.body:
        appended = _appended(statement, env)
        if appended is not None:
            # history.append(x) into a list made empty before the loop
            name, value = appended
            filled[name] = f"_stored_{name}"
            body.append(ast.fix_missing_locations(ast.copy_location(
                ast.Assign([ast.Name(filled[name], ast.Store())], value,
                           None), statement)))
            continue
        target = statement.targets[0] if isinstance(
            statement, ast.Assign) and len(statement.targets) == 1 else None
        if (counter is not None and isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and (isinstance(env.get(target.value.id), Buffer)
                     and sp.sympify(env[target.value.id].count - stop) == 0
                     or _rows_of_zeros(run, loop, env, target.value.id,
                                       stop))
                and isinstance(target.slice, ast.Name)
                and target.slice.id == counter):
            filled[target.value.id] = f"_stored_{target.value.id}"
            statement = ast.fix_missing_locations(ast.copy_location(
                ast.Assign([ast.Name(filled[target.value.id], ast.Store())],
                           statement.value,  # type: ignore[union-attr]
                           None), statement))
        body.append(statement)
    return body, filled


def _rows_of_zeros(run: Any, loop: ast.For | ast.While,
                   env: dict[str, Any], name: str, stop: sp.Expr) -> bool:
    """Whether ``name`` is an array of zeros made before the loop, with a
    row per iteration, that only the statement filling it names in the
    loop and nothing has read."""
    value = env.get(name)
    program = run.program
    made = program.definition().get(value) if isinstance(
        value, sp.Symbol) else None
    if made is None or made.op.name != "zeros" or not program.leaves[
            value].shape or sp.sympify(program.shape_of(value)[0] - stop) != 0:
        return False
    mentions = sum(isinstance(node, ast.Name) and node.id == name
                   for statement in loop.body for node in ast.walk(statement))
    return mentions == 1 and not held_elsewhere(program, env, name, value)


def _appended(statement: ast.stmt, env: dict[str, Any]
              ) -> tuple[str, ast.expr] | None:
    """``(name, value)`` of ``name.append(value)`` where ``name`` is a
    list of numbers or arrays (``[]``, ``[y0]``)."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name)
            and isinstance(env.get(call.func.value.id), list)
            and all(isinstance(item, sp.Expr)
                    for item in env[call.func.value.id])
            and len(call.args) == 1 and not call.keywords):
        return call.func.value.id, call.args[0]
    return None


def _assigned(statements: list[ast.stmt]) -> set[str]:
    """The names the statements bind or fill (``d[i] = v``,
    ``np.add.at(d, i, v)``): what may change from one iteration to the
    next."""
    names = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            filled = None
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = (node.targets if isinstance(node, ast.Assign)
                           else [node.target])
                filled = [t.value for t in targets
                          if isinstance(t, ast.Subscript)]
            elif isinstance(node, ast.Expr) and isinstance(node.value,
                                                           ast.Call):
                filled = node.value.args[:1]
            for target in filled or []:
                if isinstance(target, ast.Name):
                    names.add(target.id)
    return names


def _lower(run: Any, loop: ast.For | ast.While, env: dict[str, Any],
           start: sp.Expr, stop: sp.Expr | None,
           rows: list[tuple[str, sp.Symbol]], counter: str | None,
           reverse: bool = False, offset: Any = sp.S.Zero) -> None:
    """The loop ``for counter in range(start, stop)`` (``reversed``),
    reading the rows ``name = array[i]`` of each of ``rows``, with the
    counter ``offset`` from the index (``enumerate(xs, start=1)``);
    ``stop`` None: a while loop. A body that returns carries whether it
    returned and what (``_loop_exits.returned_names``), for the code
    after the loop to return."""
    names = returned_names(loop)
    if names is None:
        _lower_body(run, loop, env, start, stop, rows, counter, reverse,
                    offset)
        return
    ending = without_returns(loop, names, env.keys())
    if ending is None:
        raise _NotKept(loop, "return inside a loop in a loop whose trip "
                             "count is known only when the function runs "
                             "is not supported: assign the value, break, "
                             "and return after the loops")
    scope = {**env, names[0]: sp.S.Zero, names[1]: sp.S.Zero}
    _lower_body(run, ending, scope, start, stop, rows, counter, reverse,
                offset)
    env.clear()
    env.update(scope)


def _shown(name: str) -> str:
    """The name code shows for a value the body carries: the user's,
    ``returned`` and ``result`` for what a return in it sets, or
    ``ys_last`` for the last item of a list it appends to."""
    name = re.sub(LAST_ITEM, lambda m: f"{m[2]}_last" + (
        "" if m[1] == "1" else f"_{m[1]}"), name)
    return re.sub(r"^_(returned|result)_\d+_\d+_*$", r"\1", name)


def _lower_body(run: Any, loop: ast.For | ast.While, env: dict[str, Any],
                start: sp.Expr, stop: sp.Expr | None,
                rows: list[tuple[str, sp.Symbol]], counter: str | None,
                reverse: bool, offset: Any) -> None:
    """``_lower``, for a body without returns."""
    program = run.program
    previous = env.get(counter) if counter is not None else None
    if isinstance(loop, ast.For):
        # A name the body binds first and the code after it reads is
        # carried, from nan: Python leaves it unbound where no iteration
        # ran (Sinkhorn's v = 1 / (K.T @ u), read after the loop).
        read = _read_after(run, loop)
        for name in _bound_first(loop.body):
            if name in read:
                env.setdefault(name, sp.nan)
    loop = with_last_items(loop, env, _NotKept)
    body, filled = _fills(run, loop, env,
                          counter if start == 0 == offset else None,
                          stop)
    bound = {name for name, _ in rows} | {counter} | set(filled)
    carried = sorted(n for n in _assigned(body) if n in env
                     and n not in bound)
    for name in carried:
        if isinstance(env[name], Buffer):
            raise _NotKept(loop, f"{name} is a list this loop fills: make it "
                                 "as long as the loop ([0.0] * n for range("
                                 "n)) and fill it at the loop's variable ("
                                 f"{name}[i] = ...), one number each "
                                 "iteration")
        if isinstance(env[name], list):
            raise _NotKept(loop, f"the loop makes {name} a new list in each "
                                 "iteration: append to it instead ("
                                 f"{name}.append(...)), a list made empty "
                                 "before the loop")
        if not isinstance(env[name], sp.Expr):
            raise _NotKept(loop, f"the loop changes {name}, which is not "
                                  "a number or an array: a loop whose trip "
                                  "count is known only when the function "
                                  "runs can change numbers and arrays")
    if getattr(loop, "broke", None) is not None:
        for name in filled:
            # (a list appended to, or rows of np.zeros, hold no other value)
            if getattr(env[name], "fill", 0) != 0:
                raise _NotKept(loop, f"{name} is filled by a loop that can "
                                     "break: make it with zeros ([0.0] * n),"
                                     " which the rows it does not reach "
                                     "keep")
    initial = {n: env[n] for n in carried}
    kinds = {n: (run.shape(initial[n], loop), program.is_integer(initial[n]))
             for n in carried}
    index = program.new_symbol(
        "iterations_inside" if stop is None
        else counter if counter not in (None, "_") else "i",
        Leaf((), "data", integer=True), integer=True,
        # Conditions on it that its range decides are decided (i < 0).
        nonnegative=bool(sp.sympify(start).is_nonnegative) or None)
    read = []
    for name, array in rows:
        leaf = program.leaves[array]
        read.append(Row(program.new_symbol(name, Leaf(
            leaf.shape[1:], "value", boolean=leaf.boolean,
            integer=leaf.integer)), array))
    variables = {name: row.item for (name, _), row in zip(rows, read)}
    if counter is not None:
        variables[counter] = index + offset
    # xs[i] read as a row (a loop from 0 only: rows count from 0).
    reads: dict[sp.Symbol, Row] | None = {} if start == 0 else None
    fresh = _fresh_arrays(run, env, carried)
    for _ in range(_SETTLING):
        inside = {n: program.new_symbol(f"{_shown(n)}_inside", Leaf(
            kinds[n][0], "value", integer=kinds[n][1],
            shaped_like=_start_of(run, env[n], kinds[n][0])))
            for n in carried}
        # An array made before the loop, and read by nothing else, may be
        # filled in it (out[i] = h, acc[k] += v).
        run.fillable = getattr(run, "fillable", frozenset()) | {
            inside[n] for n in fresh}
        updates, condition, exit_, steps = _body(
            run, loop, body, env, inside, variables, index, reads,
            list(filled.values()))
        settled = {n: (broadcast_shapes(kinds[n][0],
                                        run.shape(updates[n], loop)),
                       kinds[n][1] and program.is_integer(updates[n]))
                   for n in carried}
        if settled == kinds:
            break
        for name in carried:
            if settled[name][0] != kinds[name][0]:
                # The value before the loop as an array of the shape the
                # loop gives it (acc = 0.0; acc = acc + x).
                # (not what the loop's own array operations compute)
                computed = {r for step in steps for r in step.results()}
                outer = [s for s in updates[name].free_symbols
                         if s in program.leaves and s not in inside.values()
                         and s not in (index, *variables.values())
                         and s not in computed]
                initial[name] = run.shaped(
                    initial[name] + sp.S.Zero, (initial[name], *outer), loop)
        kinds = settled
    else:
        raise _NotKept(loop, "the values this loop carries change shape "
                              "or dtype from one iteration to the next")
    carries = []
    for name in carried:
        shape, integer = kinds[name]
        result = program.new_symbol(_shown(name), Leaf(
            shape, "value", integer=integer))
        carries.append(Carry(inside[name], initial[name], updates[name],
                             result))
        env[name] = result
    if reads:  # xs[i] is read by the loop itself, a row each iteration.
        program.steps = [s for s in program.steps if s.target not in reads]
        program._memo = {key: value for key, value in program._memo.items()
                         if value not in reads}
    stored = []
    before = {name: env[name] for name in filled
              if isinstance(env[name], list)}
    after: list[tuple[str, list[Any], sp.Symbol]] = []
    for name, hidden in filled.items():
        value = updates.pop(hidden)
        if isinstance(env[name], sp.Symbol):  # rows of an array of zeros
            shape = program.leaves[env[name]].shape
            if run.shape(value, loop) != shape[1:]:
                raise _NotKept(loop, f"{name}[i] = ... stores values of "
                                     f"shape {run.shape(value, loop)} in "
                                     f"rows of shape {shape[1:]}: store "
                                     "values of the rows' shape")
            result = program.new_symbol(name, Leaf(shape, "value"))
            stored.append(Stored(value, result,
                                 program.shape_of(env[name])[1:]))
            env[name] = result
            continue
        # One row for now: the count is known when the code runs. Of
        # arrays (a trajectory), the rows of one array, whose sizes are
        # read before the loop: from the values it starts from.
        shape = run.shape(value, loop)
        sizes: tuple[Any, ...] = ()
        if shape:
            sizes = _sizes_before(program, value, shape, {
                inside[n]: initial[n] for n in carried}, read, steps)
            if sizes is None:
                raise _NotKept(loop, f"this loop appends to {name} arrays "
                                     "whose shape it computes: fill the "
                                     "rows of an array of zeros instead "
                                     f"({name} = np.zeros((n, ...)); "
                                     f"{name}[i] = ...)")
        # A loop over a size (range(n) with n = x.shape[0]) has a count
        # known now; other counts are one row for now. The function
        # returns a list as long as the count: the count is known now (the
        # code checks it), as the list's structure is.
        listed = stop is not None and returned_whole(run, name)
        count = run.fixed(sp.sympify(stop), loop.iter) if listed else \
            program.concrete(sp.sympify(stop))
        rows_now = int(count) if isinstance(count, sp.Integer) else 1
        result = program.new_symbol(name, Leaf((rows_now,) + shape, "value"))
        stored.append(Stored(value, result, sizes))
        env[name] = result
        if before.get(name):  # [y0], then a row per iteration
            after.append((name, before[name], result))
        elif listed:
            run.context.listed.add(result)
    last = None
    if counter is not None and stop is not None and isinstance(
            loop, ast.For) and counter in _read_after(run, loop):
        last = _counter_after(run, loop, counter, previous, index + offset)
        carries.append(last)
    counted = None
    if exit_ is not None and stop is not None:
        if reverse:
            raise _NotKept(loop, "break is supported in a loop forwards "
                                 "over range() or rows; end this loop by a "
                                 "condition (while ...)")

        counted = program.new_symbol("taken_inside", Leaf((), "data",
                                                          integer=True))
        taken = program.new_symbol("taken", Leaf((), "value", integer=True))
        carries.append(Carry(counted, sp.S.Zero, counted + 1, taken))
    if stop is not None and (carries or stored):
        loop_step(program, Loop(start, stop, index, tuple(carries),
                                tuple(read) + tuple((reads or {}).values()),
                                tuple(stored), reverse=reverse, exit=exit_,
                                counted=counted, steps=steps))
    elif stop is None:
        count = program.new_symbol("iterations", Leaf((), "value",
                                                      integer=True))
        carries.insert(0, Carry(index, sp.S.Zero, index + 1, count))
        loop_step(program, Loop(start, None, index, tuple(carries),
                                stored=tuple(stored), condition=condition,
                                exit=exit_, steps=steps))
    for name, items, result in after:
        env[name] = concatenate(run, [stack(run, items, 0, loop), result], 0,
                                loop)
        if isinstance(env[name], sp.Symbol) and returned_whole(run, name):
            run.context.listed.add(env[name])
    for name in variables:
        env.pop(name, None)
    if last is not None:
        env[counter] = last.result


def _counter_after(run: Any, loop: ast.For, counter: str, previous: Any,
                   index: sp.Expr) -> Carry:
    """The loop's counter as the code after it reads it: carried, as
    Python leaves it, at its value in the last iteration that ran (the
    one that broke), or at its value before the loop where none ran; nan
    where it was not bound before (Python raises UnboundLocalError)."""
    program = run.program
    if previous is None:
        previous = sp.nan
    elif not (isinstance(previous, sp.Expr)
              and run.shape(previous, loop) == ()):
        raise _NotKept(loop, f"{counter} is read after the loop, and "
                             "before it is not a number: where the loop "
                             "runs no iteration it keeps that value. Give "
                             "the counter a name of its own")
    integer = previous is sp.nan or program.is_integer(previous)
    inside = program.new_symbol(f"{counter}_inside", Leaf(
        (), "value", integer=integer))
    result = program.new_symbol(counter, Leaf((), "value", integer=integer))
    return Carry(inside, previous, index, result)


def _sizes_before(program: Any, value: sp.Expr, shape: tuple[int, ...],
                  starts: dict[sp.Symbol, Any], rows: list[Row],
                  steps: tuple[Step, ...]) -> tuple[Any, ...] | None:
    """The sizes of ``value`` (computed in each iteration) as code reads
    them before the loop: from the start of a value the loop carries, or
    from the array whose rows it reads, that ``value`` is shaped like
    (``np.tanh(W @ h + x)`` is shaped like h, and x of xs); None if none
    is (the loop's own array operations decide them)."""
    sizes = program.shape_of(value.xreplace(starts))
    inside = set(starts) | {row.item for row in rows} | {
        result for step in steps for result in step.results()}
    # (a size is a symbol of its own, read from the array it is of)
    if len(sizes) == len(shape) and not program.needed(
            [sp.sympify(n) for n in sizes]) & inside:
        return sizes
    for symbol in sorted(value.free_symbols, key=lambda s: s.name):
        if program.shape(symbol) != shape:
            continue
        if symbol in starts:
            return program.shape_of(starts[symbol])
        row = next((r for r in rows if r.item == symbol), None)
        if row is not None:
            return program.shape_of(row.array)[1:]
    return _traced_through(program, value.xreplace(starts), shape, inside,
                           steps)


def _traced_through(program: Any, value: sp.Expr, shape: tuple[int, ...],
                    inside: set[sp.Symbol], steps: tuple[Step, ...]
                    ) -> tuple[Any, ...] | None:
    """The sizes of ``value`` traced through the loop's own array
    operations to arrays from before the loop (``np.tanh(Wh @ h + Wx @
    x)`` is as long as Wh's rows); None where one is the loop's own."""
    definition = {**program.definition(),
                  **{r: step for step in steps for r in step.results()}}
    sizes = []
    for axis in range(len(shape)):
        found = program.size_source(value, axis, definition)
        if found is not None and found[0] in inside:
            return None
        sizes.append(1 if found is None else program.size(*found))
    return tuple(sizes)


def _row_read(program: Any, step: Any, index: sp.Symbol,
              changing: set[sp.Symbol]) -> bool:
    """Whether ``step`` is ``xs[i]``, a row of an array from before the
    loop at the loop's variable (counting from 0)."""
    return (step.op is GETITEM and len(step.operands) == 2
            and step.operands[1] == index
            and step.operands[0] not in changing
            and step.option("index") == (Slot(1),))


def _ahead(program: Any, step: Any, index: sp.Symbol,
           changing: set[sp.Symbol]) -> int:
    """``k`` where ``step`` is ``xs[i + k]`` (k > 0), a row of an array
    from before the loop ahead of the loop's variable; else 0."""
    if not (step.op is GETITEM and len(step.operands) == 2
            and step.operands[0] not in changing
            and step.option("index") == (Slot(1),)):
        return 0
    definition = program.definition().get(step.operands[1])
    if definition is None or definition.op is not ELEMENTWISE:
        return 0
    offset = sp.expand(definition.operands[0] - index)
    return int(offset) if offset.is_Integer and offset > 0 else 0


def _body(run: Any, loop: ast.For | ast.While, body: list[ast.stmt],
          env: dict[str, Any], inside: dict[str, sp.Symbol],
          variables: dict[str, sp.Symbol], index: sp.Symbol,
          reads: dict[sp.Symbol, Row] | None, stored: list[str]
          ) -> tuple[dict[str, sp.Expr], sp.Basic | None, sp.Basic | None,
                     tuple[Step, ...]]:
    """The values the body leaves in each carried name, a while loop's
    condition, the condition its break ends it on (None: none) and the
    array operations it runs on values that change; ``reads`` gathers the
    rows it reads (``xs[i]``)."""
    program = run.program
    scope = dict(env)
    scope.update(inside)
    scope.update(variables)
    before = len(program.steps)
    returns = any(isinstance(node, ast.Return) for statement in body
                  for node in ast.walk(statement))
    if returns:
        raise _NotKept(loop, "return inside a loop whose trip count is "
                              "known only when the function runs is not "
                              "supported yet: assign the value and return "
                              "after the loop")
    condition = None
    if isinstance(loop, ast.While):
        condition = run.condition(loop.test, scope)
        run.scalar_condition(condition, loop.test, "while")
    run.context.kept_loops += 1
    try:
        run.block(list(body), scope)
    finally:
        run.context.kept_loops -= 1
    flag = getattr(loop, "broke", None)
    exit_ = None if flag is None or scope[flag] is sp.false else scope[flag]
    if exit_ is not None:
        run.scalar_condition(exit_, loop)
    if isinstance(loop, ast.While) and (not isinstance(
            condition, sp.Basic) or condition is sp.false or (
            condition is sp.true and exit_ is None)):
        raise _NotKept(loop.test, "this while loop's condition does not "
                                  "change in the loop: it runs never or "
                                  "forever")
    # Rows read by an earlier lowering of this body (while its carries
    # settled) are memo hits now, made before this pass: they change too.
    changing = (set(inside.values()) | set(variables.values()) | {index}
                | set(reads or ()))
    steps: list[Step] = []
    for step in program.steps[before:]:
        if reads is not None and isinstance(loop, ast.For) and _row_read(
                program, step, index, changing):
            reads[step.target] = Row(step.target, step.operands[0])
            changing.add(step.target)  # a row: what reads it is in the loop
            continue
        ahead = _ahead(program, step, index, changing) if (
            reads is not None and isinstance(loop, ast.For)) else None
        if ahead:
            # xs[i + k]: row i of xs[k:], so that its gradient is a row
            # written per iteration, not an array of xs's size.
            rows = getitem(run, step.operands[0], (slice(ahead, None),),
                           loop)
            reads[step.target] = Row(step.target, rows)
            changing.add(step.target)
            continue
        if step.uses() & changing:
            # Run in each iteration (W @ h); what reads none of the values
            # that change is computed once, before the loop.
            steps.append(step)
            changing.update(step.results())
    if steps:
        _removed(program, steps)
        if condition is not None and condition.free_symbols & {
                r for step in steps for r in step.results()}:
            raise _TestedInside(loop.test, "this while loop's condition "
                                           "runs array operations on values "
                                           "that change in the loop")
    updates = {}
    for name in [*inside, *stored]:
        value = scope.get(name)
        if not isinstance(value, sp.Basic):
            raise _NotKept(loop, f"the loop makes {name} a "
                                  f"{type(value).__name__}: it must stay a "
                                  "number or an array")
        updates[name] = run.number(value, loop)
    # An update a step of the body computes already is read from it.
    computed = {step.operands[0]: step.target for step in steps
                if step.op is ELEMENTWISE}
    updates = {name: computed.get(value, value.xreplace(computed))
               for name, value in updates.items()}
    return updates, condition, exit_, tuple(steps)


def _start_of(run: Any, value: Any, shape: tuple[int, ...]) -> Any:
    """A carried value's start, where the loop keeps its shape (its sizes
    are then the start's, read once before the loop)."""
    if isinstance(value, sp.Basic) and value.free_symbols and \
            run.program.shape(value) == shape:
        return value
    return None


def _fresh_arrays(run: Any, env: dict[str, Any], carried: list[str]
                  ) -> list[str]:
    """The carried names bound to an array this function made that no
    other name holds and nothing has read: filling it in the loop changes
    nothing else. (In a loop inside a loop, such an array of the outer
    loop, carried in, is one too.)"""
    program = run.program
    definition = program.definition()
    fresh = []
    for name in carried:
        value = env[name]
        made = definition.get(value) if isinstance(value, sp.Symbol) \
            else None
        outer = value in getattr(run, "fillable", ())
        if not outer and (made is None or made.op.name not in FRESH
                          or not run.shape(value, None)):
            continue
        if not held_elsewhere(program, env, name, value):
            fresh.append(name)
    return fresh


def _removed(program: Any, steps: list[Step]) -> None:
    """``program`` without ``steps`` (they run inside a loop)."""
    gone = {r for step in steps for r in step.results()}
    program.steps = [s for s in program.steps
                     if not any(s is step for step in steps)]
    program._memo = {key: value for key, value in program._memo.items()
                     if value not in gone}


def comprehended(run: Any,
                 node: ast.ListComp | ast.GeneratorExp | ast.DictComp,
                 env: dict[str, Any]) -> list[Any]:
    """``[f(k) for k in range(3) if k != 1]``, over a count or items known
    when the function is differentiated: the list of the values (written
    out, as a short loop is); of a dict comprehension, the list of its
    (key, value) pairs. Conditions must be decided by the items."""
    values: list[Any] = []

    def run_from(place: int, scope: dict[str, Any]) -> None:
        if place == len(node.generators):
            values.append(
                (run.expression(node.key, scope),
                 run.expression(node.value, scope))
                if isinstance(node, ast.DictComp)
                else run.expression(node.elt, scope))
            return
        generator = node.generators[place]
        for item in _items(run, generator.iter, scope):
            # One scope for the whole comprehension, as in Python: a
            # lambda made in it reads its variables when it is called,
            # after the last item ([lambda t: t * i for i in range(3)]
            # multiplies by 2 in each).
            run.assign(generator.target, item, scope)
            conditions = [run.condition(test, scope)
                          for test in generator.ifs]
            for condition, test in zip(conditions, generator.ifs):
                if not isinstance(condition, sp.logic.boolalg.BooleanAtom):
                    raise run.error(test, "a comprehension's condition must "
                                          "be decided by its items, not by "
                                          "values computed from the "
                                          "arguments: select with np.where")
            if all(conditions):
                run_from(place + 1, scope)

    run_from(0, dict(env))
    return values


def _items(run: Any, iterator: ast.expr, env: dict[str, Any]) -> list[Any]:
    """What a comprehension runs over: a range of a count known now, or
    the items of a list, tuple or dict."""
    if isinstance(iterator, ast.Call) and run.expression(
            iterator.func, env) is range and not iterator.keywords:
        bounds = [run.concrete(run.expression(a, env))
                  for a in iterator.args]
        if all(isinstance(b, (int, sp.Integer)) for b in bounds):
            return [sp.Integer(i) for i in range(*(int(b) for b in bounds))]
        raise run.error(iterator, "a comprehension runs over a count known "
                                  "when the function is differentiated: for "
                                  "one the call decides, fill the rows of an "
                                  "array of zeros in a for loop")
    items = run.expression(iterator, env)
    if isinstance(items, (list, tuple, dict)):
        return list(items)
    if isinstance(items, sp.Expr) and run.shape(items, iterator):
        return array_rows(run, items, iterator, "a comprehension")
    raise run.error(iterator, "a comprehension runs over range(), a list, "
                              "a tuple, a dict or the rows of an array")

