"""The loop step: a ``for`` loop whose trip count is known only when the
code runs (``range(n_steps)`` with ``n_steps`` an argument, ``for x_t in
xs`` over an array) stays a loop in generated code.

A loop is a scan, as JAX's ``lax.scan``: values carried from one iteration
to the next, arrays read one row per iteration, and values stored one row
per iteration. Its body is elementwise: SymPy expressions over the values
at the start of an iteration, the rows read, the loop variable and values
computed before the loop. That kind of loop is closed under both
transforms, so a derivative of a derivative is again such a loop:

- forward mode carries each tangent beside its value, in the same loop;
- reverse mode has the loop store each carried value per iteration and
  runs a second loop backwards over them, carrying the adjoints; the
  adjoint of a value read from before the loop is accumulated as one more
  carried value and summed back to its shape after the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import sympy as sp

from ._differentiate import checked_partial
from ._errors import OutputError
from ._ops_core import BROADCAST_TO, broadcasts_to
from ._ops_create import FULL_LIKE, ONES, ONES_LIKE, ZEROS, ZEROS_LIKE
from ._ops_scatter import certainly_floats
from ._program import ELEMENTWISE, ArrayOp, Leaf, Program, Step
from ._simplify import simplify

__all__ = ["LOOP", "Carry", "Row", "Stored", "Loop", "loop_step", "merged",
           "is_elementwise"]


@dataclass(frozen=True, eq=False)
class Carry:
    """A value carried through the loop: ``inside`` at the start of an
    iteration, ``update`` (over the body's symbols) at its end,
    ``initial`` before the loop, ``result`` after it."""

    inside: sp.Symbol
    initial: sp.Expr
    update: sp.Expr
    result: sp.Symbol


@dataclass(frozen=True, eq=False)
class Row:
    """``item``: row ``index - start`` of ``array`` in each iteration."""

    item: sp.Symbol
    array: sp.Symbol


@dataclass(frozen=True, eq=False)
class Stored:
    """``value`` stored each iteration as row ``index - start`` of
    ``result``; ``sizes``: the shape of ``value`` as code reads it.
    ``rows``: how many rows ``result`` has where that is not the loop's
    count (the gradient of an array a loop that breaks reads a row at a
    time: zero in the rows it did not reach)."""

    value: sp.Expr
    result: sp.Symbol
    sizes: tuple[Any, ...]
    rows: Any = None


def is_elementwise(step: Step) -> bool:
    """Whether ``step`` computes each element of its result from the same
    element of its operands (an elementwise region, or such a loop)."""
    if step.op is ELEMENTWISE or step.op in (FULL_LIKE, ONES_LIKE,
                                               ZEROS_LIKE):
        return True  # (a fill: each element is the fill's, broadcast)
    loop = step.option("loop")
    return loop is not None and loop.is_elementwise()


@dataclass(frozen=True, eq=False)
class Loop:
    """``for index in range(start, stop)`` (backwards if ``reverse``); or,
    with a ``condition`` (over the carried values), ``while condition``,
    where ``index`` is carried, counting the iterations from 0, and
    ``stop`` is None. With an ``exit`` (over the same symbols as the
    updates), the loop ends after the iteration where it holds (a
    ``break``); a ``for`` loop then carries ``counted``, which counts the
    iterations taken, for a gradient to run back over."""

    start: sp.Expr
    stop: sp.Expr | None
    index: sp.Symbol
    carries: tuple[Carry, ...]
    rows: tuple[Row, ...] = ()
    stored: tuple[Stored, ...] = ()
    reverse: bool = False
    condition: sp.Basic | None = None
    exit: sp.Basic | None = None
    counted: sp.Symbol | None = None
    # Array operations on values that change from one iteration to the
    # next (``W @ h``), run in order at the start of each iteration; the
    # updates read their results.
    steps: tuple[Step, ...] = ()

    def inside(self) -> set[sp.Symbol]:
        """The symbols bound by the loop in each iteration."""
        return ({self.index} | {c.inside for c in self.carries}
                | {r.item for r in self.rows}
                | {r for s in self.steps for r in s.results()})

    def tests(self) -> list[sp.Basic]:
        """The conditions that end it: the while test, the break."""
        return [t for t in (self.condition, self.exit) if t is not None]

    def body(self) -> list[sp.Basic]:
        return ([c.update for c in self.carries]
                + [s.value for s in self.stored] + self.tests())

    def substituted(self, mapping: dict[sp.Basic, sp.Basic],
                    carries: tuple[Carry, ...]) -> Loop:
        """This loop with ``carries``, and ``mapping`` applied to what it
        stores and tests."""
        stored = tuple(replace(s, value=s.value.xreplace(mapping))
                       for s in self.stored)
        condition, exit_ = (None if t is None else t.xreplace(mapping)
                            for t in (self.condition, self.exit))
        # (a loop inside reads them too: its own body is mapped)
        steps = tuple(_loop_again(step.option("loop"), mapping)
                      if step.option("loop") is not None else
                      replace(step, operands=tuple(
                          o.xreplace(mapping) if isinstance(o, sp.Basic)
                          else o for o in step.operands))
                      for step in self.steps)
        return replace(self, carries=carries, stored=stored,
                       condition=condition, exit=exit_, steps=steps)

    def results(self) -> tuple[sp.Symbol, ...]:
        return (tuple(c.result for c in self.carries)
                + tuple(s.result for s in self.stored))

    def uses(self) -> set[sp.Symbol]:
        """The values from before the loop it reads."""
        used: set[sp.Symbol] = set()
        for value in ([self.start, self.stop or sp.S.Zero]
                      + [c.initial for c in self.carries]
                      + [r.array for r in self.rows] + self.body()
                      + [n for s in self.stored for n in (*s.sizes, s.rows)]):
            if isinstance(value, sp.Basic):
                used |= value.free_symbols
        for step in self.steps:
            used |= step.uses()
        return used - self.inside()

    def is_elementwise(self) -> bool:
        """Whether each element of what the loop carries out is computed
        from the same element of what it reads: it neither reads rows nor
        fills arrays, and it runs a number of times no value decides."""
        return not (self.rows or self.stored or self.tests()) and all(
            is_elementwise(step) for step in self.steps)

    def count(self) -> sp.Expr:
        assert self.stop is not None
        return self.stop - self.start

    def counter(self) -> Carry | None:
        """The count of iterations taken, of a loop that can end before
        its range does (a while loop's, or one with a break)."""
        counting = self.index if self.condition is not None else \
            self.counted
        if counting is None:
            return None
        return next(c for c in self.carries if c.inside == counting)

    def __repr__(self) -> str:  # for the disk cache's digest of a program
        carries = [(c.inside, c.initial, c.update, c.result)
                   for c in self.carries]
        stored = [(s.value, s.result, s.sizes, s.rows) for s in self.stored]
        return (f"Loop({self.start}, {self.stop}, {self.index}, {carries}, "
                f"{[(r.item, r.array) for r in self.rows]}, {stored}, "
                f"{self.reverse}, {self.condition}, {self.exit}, "
                f"{self.counted}, {list(self.steps)})")


def loop_step(program: Program, loop: Loop) -> Step:
    """Append the step running ``loop`` to ``program``."""
    step = Step(loop.results()[0], LOOP,
                tuple(sorted(loop.uses(), key=lambda s: s.name)),
                (("loop", loop),))
    program.steps.append(step)
    return step


def merged(loop: Loop, droppable: set[sp.Symbol] | None = None
           ) -> tuple[Loop, dict[sp.Symbol, sp.Symbol]]:
    """``loop`` with carried values that are always equal carried once
    (the tangents of one value that each order of forward mode seeds
    anew); and, for each left out, the result of the one kept. Only
    carries whose results are ``droppable`` are left out (None: any)."""
    groups: dict[Any, list[Carry]] = {}
    for carry in loop.carries:
        groups.setdefault(carry.initial, []).append(carry)
    while True:
        kept = {c.inside: group[0].inside for group in groups.values()
                for c in group}
        split: dict[Any, list[Carry]] = {}
        for key, group in groups.items():
            for carry in group:
                split.setdefault((key, _canonical(carry.update.xreplace(
                    kept))), []).append(carry)
        if len(split) == len(groups):
            break
        groups = split
    same = {c.result: group[0].result for group in groups.values()
            for c in group[1:]
            if droppable is None or c.result in droppable}
    if not same:
        return loop, {}
    kept = {c.inside: group[0].inside for group in groups.values()
            for c in group if c.result in same or c is group[0]}
    carries = tuple(Carry(c.inside, c.initial, c.update.xreplace(kept),
                          c.result) for c in loop.carries
                    if c.result not in same)
    return loop.substituted(kept, carries), same


def _canonical(update: sp.Expr) -> sp.Expr:
    """``update`` in a form two equal updates share: expanded, where it
    is small. A tangent the function carries itself (read back from a
    printed derivative) and the one forward mode seeds for the same value
    are one rational function written two ways: (t (x^2 - a) / x + 1) /
    (2 x) and t (x^2 - a) / (2 x^2) + 1 / (2 x)."""
    if sp.count_ops(update) > _CANONICAL_OPS:
        return update
    return sp.expand(update)


# Updates larger than this are compared as written (expand grows fast).
_CANONICAL_OPS = 60


def _replaced(program: Program, old: Step, loop: Loop) -> None:
    """``old`` in ``program`` becomes a step running ``loop`` (which
    defines what ``old`` did, and more)."""
    new = Step(old.target, LOOP,
               tuple(sorted(loop.uses(), key=lambda s: s.name)),
               (("loop", loop),))
    place = next(i for i, s in enumerate(program.steps) if s is old)
    # Sizes the transform read (x0.shape[0] for a history) come first,
    # and what they are computed from.
    needed = new.uses() - old.uses()
    later = program.steps[place + 1:]
    while True:
        moved = [s for s in later if needed.intersection(s.results())]
        grown = needed.union(*[s.uses() for s in moved])
        if grown == needed:
            break
        needed = grown
    program.steps = [s for s in program.steps if not any(
        s is m for m in moved)]
    program.steps[place:place + 1] = moved + [new]


def _partial(value: sp.Expr, symbol: sp.Symbol, where: str) -> sp.Expr:
    partial = checked_partial(value, symbol, where)
    return partial if partial == 0 else simplify([partial], tails=False)[0]


def _full(program: Program, value: sp.Expr, like: sp.Basic,
          name: str, batch: tuple[int, ...] = (),
          batch_sizes: tuple[Any, ...] = ()) -> sp.Basic:
    """``value`` as an array of the shape of ``like`` (and the batch),
    whose sizes code reads from ``like``."""
    shape = program.shape(like) + batch
    sizes = program.shape_of(like) + batch_sizes
    if value == 0:
        if not shape:
            return sp.Float(0.0)
        return program.add(ZEROS, (), shape, name, shape=sizes, dtype=None)
    if program.shape(value) == shape:
        return value
    return program.add(BROADCAST_TO, (value,), shape, name, shape=sizes)


def _floats_where_known(program: Program, adjoint: sp.Expr,
                        carry: Carry) -> sp.Expr:
    """The adjoint a loop's carried value starts its way back with, as
    floats where the value is certainly floats and the adjoint is the same
    number everywhere (np.sum's seed, ``np.broadcast_to(1, ...)``, of
    integers): ``np.ones_like(Y)``. The body then adds into it in place,
    where it added into zeros of the whole carried value, per step."""
    shape = program.leaves[carry.result].shape
    if not shape or certainly_floats(program, adjoint) or not \
            certainly_floats(program, carry.initial):
        return adjoint  # (a number is no array filled in place)
    number = adjoint
    step = program.definition().get(adjoint) if isinstance(
        adjoint, sp.Symbol) else None
    if step is not None and step.op is BROADCAST_TO:
        number = step.operands[0]
    if not isinstance(number, sp.Number) or _is_zero(number):
        return adjoint
    if number == 1:
        return program.add(ONES_LIKE, (carry.result,), shape,
                           f"ones_like_{carry.result.name}", dtype=None)
    return program.add(FULL_LIKE, (carry.result, number), shape,
                       f"full_like_{carry.result.name}", dtype=None)


def _is_zero(value: sp.Basic) -> bool:
    """Whether ``value`` is the number 0, also as a float (in SymPy 1.14
    ``Float(0.0) == 0`` is False): a zero adjoint, not a value."""
    return isinstance(value, sp.Number) and value.is_zero is True


def _symbol(program: Program, name: str, shape: tuple[int, ...],
            kind: str = "value") -> sp.Symbol:
    return program.new_symbol(name, Leaf(tuple(shape), kind))


# -- reverse mode -------------------------------------------------------------


def _vjp(backward: Any, step: Step, adjoints: dict[sp.Symbol, sp.Expr]
         ) -> None:
    loop: Loop = step.option("loop")
    program: Program = backward.program
    where = backward.where
    outer = sorted((set().union(*[e.free_symbols for e in loop.body()],
                                *[st.uses() for st in loop.steps])
                    - loop.inside()) & backward.active,
                   key=lambda s: s.name)
    index = _symbol(program, "i", (), "data")
    # In the backward loop, each value of the forward one is read from
    # what the forward loop stored (carried values) or read (rows).
    history: dict[sp.Symbol, sp.Symbol] = {}
    rows: list[Row] = []
    stored = list(loop.stored)
    kept = {s.value: s.result for s in loop.stored}
    moving = [c for c in loop.carries
              if not program.leaves[c.inside].integer]
    # (an integer the loop counts, i += 1, has no adjoint, but what the
    # backward loop reads of it is its value in that iteration)
    for carry in [c for c in loop.carries if c.inside != loop.index]:
        shape = program.leaves[carry.inside].shape
        result = kept.get(carry.inside)
        if result is None:
            result = _symbol(program, f"{carry.result.name}_history",
                             (0,) + shape)
            stored.append(Stored(carry.inside, result,
                                 program.shape_of(carry.initial)))
        item = _symbol(program, f"{carry.result.name}_i", shape)
        history[carry.inside] = item
        rows.append(Row(item, result))
    for row in loop.rows:
        item = _symbol(program, f"{row.item.name}_i",
                       program.leaves[row.item].shape)
        history[row.item] = item
        rows.append(Row(item, row.array))
    history[loop.index] = index
    # The adjoints flowing back: one carried per carried value, one read
    # per stored value.
    flowing: list[tuple[sp.Expr, sp.Symbol]] = []
    carried: list[tuple[Carry, sp.Symbol]] = []
    starts: dict[sp.Symbol, sp.Expr] = {}
    for carry in moving:
        start = starts[carry.result] = _floats_where_known(
            program, adjoints.get(carry.result, sp.S.Zero), carry)
        # (floats where its start is: the body's scatters then add into
        # it, d[i] += v, not into zeros added to it, O(size) per step)
        adjoint = program.new_symbol(
            f"grad_{carry.result.name}_inside",
            Leaf(program.leaves[carry.inside].shape, "value",
                 floats=certainly_floats(program, start)))
        carried.append((carry, adjoint))
        flowing.append((carry.update, adjoint))
    for value in loop.stored:
        adjoint = adjoints.get(value.result, sp.S.Zero)
        if adjoint == 0:
            continue
        array = _full(program, adjoint, value.result,
                      f"grad_{value.result.name}")
        if not isinstance(array, sp.Symbol):  # a sum of adjoints: one array
            array = program.materialize(array, f"grad_{value.result.name}")
        item = _symbol(program, f"grad_{value.result.name}",
                       program.leaves[value.result].shape[1:])
        rows.append(Row(item, array))
        flowing.append((value.value, item))

    steps: tuple[Step, ...] = ()
    adjoint_of: Callable[[sp.Symbol], sp.Expr]

    def adjoint_of(symbol: sp.Symbol) -> sp.Expr:
        terms = [adjoint * _partial(value, symbol, where)
                 for value, adjoint in flowing]
        return sp.Add(*terms).xreplace(history)

    read_rows = [r.item for r in loop.rows if r.array in backward.active]
    if loop.steps or any(
            program.shape(adjoint_of(item)) != program.leaves[item].shape
            for item in read_rows):
        # Array operations to run back through, or a row's adjoint to sum
        # back to its shape (c = coeffs[i] in result * x + c): steps.
        wanted = [c.inside for c in moving] + outer + read_rows
        totals, steps = _through_steps(backward, loop, history, flowing,
                                       wanted)
        adjoint_of = totals.__getitem__

    carries = []
    for carry, adjoint in carried:
        initial = _full(program, starts[carry.result], carry.result,
                        f"grad_{carry.result.name}")
        update = adjoint_of(carry.inside)
        if update == 0 or _is_zero(update):
            # (zeros of the carried shape: a value first bound in the loop
            # starts as a number, of another shape)
            like = carry.initial if program.shape(carry.initial) == \
                program.leaves[carry.inside].shape else carry.result
            update = _full(program, update, like,
                           f"zeros_{carry.result.name}")
        update = _spread(program, update, carry.inside,
                         program.shape_of(carry.result))
        _check_shape(program, update, carry.inside, where)
        carries.append(Carry(adjoint, initial, update,
                             _symbol(program, f"grad_{carry.result.name}",
                                     program.leaves[adjoint].shape)))
    accumulated = []
    for symbol in outer:
        contribution = adjoint_of(symbol)
        if contribution == 0 or _is_zero(contribution):
            continue
        shape = program.shape(contribution)
        witness = _witness(program, shape, loop, symbol)
        if witness is None:
            raise _unsupported(where, f"the adjoint of {symbol.name} in the "
                                      "loop has a shape of no value it "
                                      "carries")
        result = _symbol(program, f"grad_{symbol.name}", shape)
        total = _symbol(program, f"grad_{symbol.name}_inside", shape)
        carries.append(Carry(total, _full(program, sp.S.Zero, witness,
                                          f"zeros_{symbol.name}"),
                             total + contribution, result))
        accumulated.append((symbol, carries[-1].result, shape, witness))
    out: list[tuple[sp.Symbol, Stored]] = []
    for row in loop.rows:
        if row.array not in backward.active:
            continue
        contribution = _spread(program, adjoint_of(row.item), row.item,
                               program.shape_of(row.array)[1:])
        if contribution == 0 or _is_zero(contribution):
            continue
        _check_shape(program, contribution, row.item, where)
        result = _symbol(program, f"grad_{row.array.name}",
                         program.leaves[row.array].shape)
        sizes = program.shape_of(row.array)
        # Zero in the rows the loop does not reach: those after a break,
        # or past its range (for i in range(len(y) - 1) reads y[i]).
        covers = loop.counter() is None and sp.sympify(
            loop.stop - loop.start - sizes[0]) == 0
        out.append((row.array, Stored(
            contribution, result, sizes[1:], None if covers else sizes[0])))
    if not carries and not out:
        return
    # The forward loop stores the carried values the backward one reads.
    inside = {index, *history.values(), *(c.inside for c in carries)}
    steps = _hoisted(program, steps, inside)
    body = [c.update for c in carries] + [s.value for _, s in out]
    read = set().union(*[e.free_symbols for e in body])
    # Only the steps the updates read, and what those read: running the
    # forward steps again makes some the adjoints never need, and a row
    # they alone read would be stored for nothing.
    for again in reversed(steps):
        if read & set(again.results()):
            read |= again.uses()
    # (a step they do not need would read rows no longer stored)
    steps = tuple(again for again in steps if read & set(again.results()))
    rows = [r for r in rows if r.item in read]
    arrays = {r.array for r in rows}
    stored = [s for s in stored if s in loop.stored or s.result in arrays]
    if len(stored) > len(loop.stored):
        _replaced(program, step, replace(loop, stored=tuple(stored)))
    # Back over the iterations the loop took: all of its range, or as
    # many as it counted (a while loop, a break).
    counter = loop.counter()
    stop = loop.stop if counter is None else counter.result + loop.start
    back, through = _passed_through(program, Loop(
        loop.start, stop, index, tuple(carries), tuple(rows),
        tuple(s for _, s in out), reverse=not loop.reverse, steps=steps))
    if back.results():
        loop_step(program, back)
    for carry, (original, _) in zip(carries, carried):
        backward.elementwise(original.initial,
                             through.get(carry.result, carry.result))
    for symbol, result, shape, witness in accumulated:
        backward.contribute(symbol, result, shape, witness)
    for array, value in out:
        backward.contribute(array, value.result)


def _passed_through(program: Program, loop: Loop
                    ) -> tuple[Loop, dict[sp.Symbol, sp.Expr]]:
    """``loop`` without the adjoints it carries unchanged (of a sum's
    total, which each iteration reads and none adds to), read where they
    start instead; and what each one left out is after the loop. An
    outer loop then sees an inner one pass its adjoint through, and
    carries no copy of it either. (A start that is an expression is
    computed once, before the loop, as the result it stands for.)"""
    unchanged = [c for c in loop.carries if c.update == c.inside]
    if not unchanged:
        return loop, {}
    fixed: dict[sp.Basic, sp.Basic] = {}
    through: dict[sp.Symbol, sp.Expr] = {}
    for carry in unchanged:
        if isinstance(carry.initial, (sp.Symbol, sp.Number)):
            fixed[carry.inside] = through[carry.result] = carry.initial
        else:
            program.steps.append(Step(carry.result, ELEMENTWISE,
                                      (carry.initial,)))
            fixed[carry.inside] = carry.result
    carries = tuple(Carry(c.inside, c.initial, c.update.xreplace(fixed),
                          c.result)
                    for c in loop.carries if c.inside not in fixed)
    return loop.substituted(fixed, carries), through


def _through_steps(backward: Any, loop: Loop,
                   history: dict[sp.Symbol, sp.Symbol],
                   flowing: list[tuple[sp.Expr, sp.Symbol]],
                   wanted: list[sp.Symbol]
                   ) -> tuple[dict[sp.Symbol, sp.Expr], tuple[Step, ...]]:
    """The adjoints of ``wanted`` (values of the forward loop's body and
    from before it) in an iteration of the backward loop, for a body with
    array operations: those operations again, over what the forward loop
    stored, then reverse mode back through them (the same rules as the
    whole program's); and the steps that compute them."""
    program: Program = backward.program
    mapping: dict[sp.Symbol, sp.Symbol] = dict(history)
    copies = []
    for step in loop.steps:
        if step.option("loop") is not None:
            # A loop in the loop: run again over the stored values (its
            # results keep their symbols: they live in one iteration).
            copies.append(_loop_again(step.option("loop"), mapping))
            continue
        target = _symbol(program, step.target.name,
                         program.leaves[step.target].shape)
        copies.append(Step(target, step.op, tuple(
            o.xreplace(mapping) if isinstance(o, sp.Basic) else o
            for o in step.operands), step.options))
        mapping[step.target] = target
    before = len(program.steps)
    # Over the whole program, so sizes are traced to the inputs they read.
    body = Program(program.leaves, list(program.steps) + copies,
                   program.names, program._memo, program.sizes,
                   program.baked)
    mapped = [mapping.get(s, s) for s in wanted]
    inner = type(backward)(body, mapped, backward.where)
    for value, adjoint in flowing:
        inner.elementwise(value.xreplace(mapping), adjoint)
    inner.back_through(copies)
    totals = {s: inner.total(m) for s, m in zip(wanted, mapped)}
    return totals, tuple(body.steps[before:])


def _loop_again(loop: Loop, mapping: dict[sp.Symbol, sp.Symbol]) -> Step:
    """The step running ``loop`` with the values it reads from before it
    replaced by ``mapping``."""
    def mapped(value: Any) -> Any:
        return value.xreplace(mapping) if isinstance(value, sp.Basic) \
            else value

    steps = tuple(
        _loop_again(st.option("loop"), mapping)
        if st.option("loop") is not None else replace(
            st, operands=tuple(mapped(o) for o in st.operands))
        for st in loop.steps)
    again = replace(
        loop, start=mapped(loop.start), stop=mapped(loop.stop),
        carries=tuple(Carry(c.inside, mapped(c.initial), mapped(c.update),
                            c.result) for c in loop.carries),
        rows=tuple(Row(r.item, mapping.get(r.array, r.array))
                   for r in loop.rows),
        stored=tuple(replace(s, value=mapped(s.value),
                             sizes=tuple(mapped(n) for n in s.sizes),
                             rows=mapped(s.rows)) for s in loop.stored),
        condition=mapped(loop.condition), exit=mapped(loop.exit),
        steps=steps)
    return Step(again.results()[0], LOOP,
                tuple(sorted(again.uses(), key=lambda s: s.name)),
                (("loop", again),))


def _hoisted(program: Program, steps: tuple[Step, ...],
             inside: set[sp.Symbol]) -> tuple[Step, ...]:
    """Of ``steps`` (a loop's body), those that read what changes in
    the loop; the others are put before it in ``program`` (``W.T``)."""
    changing = set(inside)
    kept = []
    for step in steps:
        if step.uses() & changing:
            kept.append(step)
            changing.update(step.results())
        else:
            program.steps.append(step)
    return tuple(kept)


def _reached(loop: Loop, symbols: set[sp.Symbol]) -> set[sp.Symbol]:
    """``symbols`` and what the loop's body steps compute from them."""
    reached = set(symbols)
    for step in loop.steps:
        if step.uses() & reached:
            reached.update(step.results())
    return reached


def _witness(program: Program, shape: tuple[int, ...], loop: Loop,
             symbol: sp.Symbol) -> sp.Basic | None:
    """A value from before the loop whose shape is ``shape``."""
    for candidate in [symbol] + [c.initial for c in loop.carries] + [
            c.result for c in loop.carries]:
        if program.shape(candidate) == shape:
            return candidate
    return None


def _spread(program: Program, adjoint: sp.Expr, symbol: sp.Symbol,
            sizes: tuple[Any, ...]) -> sp.Expr:
    """``adjoint`` of ``symbol`` (a row or a carried value of the loop)
    over all of its shape, where it holds for every element alike (the
    adjoint of ``np.sum(row)`` is one number): times ones of that shape,
    made before the loop (``sizes``: as code reads them there)."""
    shape = program.leaves[symbol].shape
    if program.shape(adjoint) == shape or not broadcasts_to(
            program.shape(adjoint), shape):
        return adjoint
    return adjoint * program.add(ONES, (), shape, "ones", shape=sizes,
                                 dtype=None)


def _check_shape(program: Program, value: sp.Expr, symbol: sp.Symbol,
                 where: str) -> None:
    if program.shape(value) != program.leaves[symbol].shape:
        raise _unsupported(where, f"a value of shape "
                                  f"{program.shape(value)} in the loop "
                                  f"contributes to {symbol.name}, of shape "
                                  f"{program.leaves[symbol].shape}")


def _unsupported(where: str, why: str) -> OutputError:
    return OutputError(f"cannot differentiate the loop in {where}: {why} "
                       "(not supported yet). Carry values of one shape "
                       "through the loop, or unroll it with a constant "
                       "range().")


# -- forward mode -------------------------------------------------------------


def _jvp(forward: Any, step: Step) -> None:
    loop: Loop = step.option("loop")
    program: Program = forward.program
    where = forward.where
    batch, batch_sizes = forward.batch, forward.batch_sizes
    tangent: dict[sp.Symbol, sp.Expr] = {
        s: forward.tangent[s] for s in loop.uses() if s in forward.tangent}
    rows = list(loop.rows)
    for row in loop.rows:
        if row.array in forward.tangent:
            array = forward.full_tangent(row.array)
            item = _symbol(program, f"tangent_{row.item.name}",
                           program.leaves[row.item].shape + batch)
            rows.append(Row(item, array))
            tangent[row.item] = item
    initial = {c: forward.of_expression(c.initial) for c in loop.carries}
    active = {c for c in loop.carries if initial[c] != 0}
    while True:
        moving = _reached(loop, set(tangent) | {c.inside for c in active})
        grown = {c for c in loop.carries
                 if c.update.free_symbols & moving} | active
        if grown == active:
            break
        active = grown
    for carry in loop.carries:
        if carry in active:
            tangent[carry.inside] = _symbol(
                program, f"tangent_{carry.result.name}_inside",
                program.leaves[carry.inside].shape + batch)

    # A body with array operations: their tangents, by the same rules as
    # the whole program's, computed in each iteration after them.
    body = Program(program.leaves, list(program.steps) + list(loop.steps),
                   program.names, program._memo, program.sizes,
                   program.baked)
    before = len(program.steps)
    tangent_of: Callable[[sp.Expr], sp.Expr]
    if loop.steps or batch and any(program.leaves[c.inside].shape
                                   for c in loop.carries):
        # (and a batch of tangents of arrays: partials get batch axes)
        inner = type(forward)(body, tangent, batch, batch_sizes, where)
        # (a loop in the body is replaced in it by one carrying tangents)
        inner.through(list(body.steps[before:]))
        tangent_of = inner.of_expression
    else:
        def tangent_of(value: sp.Expr) -> sp.Expr:
            terms = []
            for symbol in sorted(value.free_symbols & tangent.keys(),
                                 key=lambda s: s.name):
                partial = _partial(value, symbol, where)
                if partial == 0:
                    continue
                if batch and program.shape(partial):
                    raise _unsupported(where, "a batch of tangents "
                                              "(jacobian, hessian) through "
                                              "a loop over arrays")
                terms.append(partial * tangent[symbol])
            return sp.Add(*terms)
    carries = list(loop.carries)
    results: dict[sp.Symbol, sp.Symbol] = {}
    for carry in loop.carries:
        if carry not in active:
            continue
        inside = tangent[carry.inside]
        result = _symbol(program, f"tangent_{carry.result.name}",
                         program.leaves[inside].shape)
        start = _full(program, initial[carry], carry.initial, inside.name,
                      batch, batch_sizes)
        update = tangent_of(carry.update)
        if update == 0 or _is_zero(update):
            update = _full(program, update, carry.initial, inside.name,
                           batch, batch_sizes)
        if (program.shape(update)
                            != program.leaves[inside].shape):
            raise _unsupported(where, f"the tangent of {carry.result.name} "
                                      "changes shape in the loop")
        carries.append(Carry(inside, start, update, result))
        results[carry.result] = result
    stored = list(loop.stored)
    for value in loop.stored:
        moved = tangent_of(value.value)
        if moved == 0:
            continue
        result = _symbol(program, f"tangent_{value.result.name}",
                         program.leaves[value.result].shape + batch)
        stored.append(Stored(moved, result, value.sizes + batch_sizes,
                             value.rows))
        results[value.result] = result
    if not results:
        return
    steps = _hoisted(program, tuple(body.steps[before:]),
                     loop.inside() | {c.inside for c in carries}
                     | {r.item for r in rows})
    # A tangent equal to one the loop carries already is that one (each
    # order of forward mode seeds the tangent of x anew).
    new, same = merged(replace(loop, carries=tuple(carries),
                               rows=tuple(rows), stored=tuple(stored),
                               steps=steps),
                       set(results.values()))
    _replaced(program, step, new)
    forward.tangent.update({original: same.get(result, result)
                            for original, result in results.items()})


LOOP = ArrayOp("loop", vjp=_vjp, jvp=_jvp, any_size=True)
