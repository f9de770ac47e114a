"""The writer of an array program's body: its steps as statements.

Only the steps the outputs need are written, in program order: leaves read
out of pytree arguments (``params_W = params['W']``), forward values,
adjoints. Elementwise expressions share one common-subexpression pass, so
what the value and the gradient have in common is computed once; a
temporary is written just before its first use, named for what it holds.
Steps used once and cheap to read (a transpose, a sum's operand) are
written inline where they are used, as a person would.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import sympy as sp

from ._array_passes import part_of_call, tidied
from ._array_printer import ArrayPrinter
from ._subexpressions import (_DEEPEST, _cse, _deepest_path,
                              _function_label, _is_trivial, _operations,
                              _shared, _suggest_name)
from ._collect import collected_all
from ._dead_code import without_dead
from ._filled_items import float64_arrays, items_as_filled, stored
from ._functions import where
from ._in_place import is_view
from ._fills_as_sets import fills_as_sets
from ._final_rows import rows_from_final
from ._loop_codegen import refilled, write_loop
from ._made_arrays import buffers_apart, copies_unneeded, sizes_written
from ._printer import ExpressionPrinter, _call
from ._program import (ELEMENTWISE, SIZE, Step, broadcast_shapes,
                       option_symbols, unique_name)
from ._selections import merged_selections
from ._simplify import collect_like_terms
from ._spell import Spelled
from ._unfilled_reads import (items_from_copies, items_from_original,
                              reads_through_fills)
from ._wrap import _WIDTH, _wrap_line

if TYPE_CHECKING:
    from ._array_codegen import ArrayFunctionSpec

__all__ = ["ArrayWriter"]


class ArrayWriter:
    """Writes the steps of one spec's program as statements."""

    def __init__(self, spec: ArrayFunctionSpec,
                 inlined: int | None = None) -> None:
        self.spec = spec
        self.inlined = inlined
        self.program = spec.program
        self.taken = (set(spec.program.names) | set(spec.params)
                      | {spec.name, "np", "math"} | set(keyword.kwlist)
                      | set(dir(builtins)))

    def live_steps(self) -> list[Step]:
        self.needed = self.program.needed(self.spec.outputs)
        return [s for s in self.program.steps
                if self.needed.intersection(s.results())]

    def statements(self) -> list[ast.stmt]:
        steps, outputs = self.used_once_in_place(self.live_steps(),
                                                 list(self.spec.outputs))
        elementwise = [s for s in steps if s.op is ELEMENTWISE]
        exprs, earlier = _reading_steps(elementwise, outputs)
        # The user's names of values, for values that now read steps.
        self.labels = dict(self.spec.labels)
        for value, label in self.spec.labels.items():
            if isinstance(value, sp.Basic) and not value.is_Atom:
                args = tuple(a.xreplace(earlier) for a in value.args)
                # (built again only where it reads a step: SymPy's eval
                # of each sin(k * x) of a long sum costs)
                self.labels.setdefault(value if args == value.args
                                       else value.func(*args), label)
        temporaries, reduced = _cse(exprs, share_squares=True)
        if len(elementwise) == len(steps):
            # Elementwise code alone (code at numbers): also the sharing
            # pass ``_shared``, which names 1 - tanh(x) ** 2 at every factor
            # and a Gaussian's x - mu once; the fewer operations win, and a
            # tie goes to it (``_cse`` keeps r ** 6 as r_sq * r_sq * r_sq).
            shared = _shared(exprs, True)
            if _operations(shared) <= _operations((temporaries, reduced)):
                temporaries, reduced = shared
        self.collected = collected_all(temporaries, reduced)
        reduced = self.collected.pop(None)
        temporaries += self.collected.pop(())
        self.rewritten = dict(zip([s.target for s in elementwise], reduced))
        outputs = reduced[len(elementwise):]
        # Operands of array steps that are expressions (broadcast_to,
        # full_like) are rewritten by the same temporaries.
        self.substitution = {value: temporary
                             for temporary, value in temporaries}
        self.uses = self.count_uses(
            steps, list(self.rewritten.values()) + outputs,
            [t for _, t in temporaries])
        self.inline: dict[sp.Symbol, ast.expr] = {}
        # Values that are numbers once written (a loop's carried tangent
        # that stays 1): put in the expressions that read them before
        # they are printed, so that 1 * v is v.
        self.numbers: dict[sp.Symbol, sp.Number] = {}
        self.names: dict[sp.Symbol, str] = {}
        self.temporaries = dict(temporaries)
        # A temporary that is returned is named for what it is (grad_x).
        self.output_labels: dict[sp.Symbol, str] = {}
        for value, label in zip(outputs, self.spec.output_names):
            if value in self.temporaries:
                self.output_labels.setdefault(value, label)
        self.written: set[sp.Symbol] = set()
        self.expanded: dict[sp.Symbol, sp.Expr] = {}
        self.out: list[ast.stmt] = []
        self.output_names = self.names_of_returned_steps(steps, outputs)
        self.steps_by_value = {
            value: s.target for s, value in zip(elementwise, exprs)
            if s.target not in self.output_names}
        for symbol, leaf in sorted(self.program.leaves.items(),
                                   key=lambda item: item[0].name):
            if leaf.access and symbol in self.needed:
                self.assign(symbol.name, ast.parse(leaf.access,
                                                   mode="eval").body)
        for step in steps:
            self.write_step(step)
        self.write_return(outputs)
        # Items of a filled copy read from what was copied (or, just
        # filled, as the value filled), and rows of a loop's history from
        # the array it ends with; then what nothing reads goes (a loop
        # written for a value the code after it no longer reads, a history
        # only a shape was read of); arrays whose history went are filled
        # in place, fills written as assignments, arrays made as the user
        # did and not copied where nothing else reads them.
        code = self.out
        if any(isinstance(s, (ast.For, ast.While)) for s in code):
            code = fills_as_sets(code)
            once = frozenset(n for n, count in stored(code).items()
                             if count == 1)
            code = items_as_filled(code, float64_arrays(code),
                                   self.number_names(), once)
            code = rows_from_final(without_dead(reads_through_fills(code),
                                                set()))
        code = refilled(without_dead(code, set()))
        code = copies_unneeded(items_from_copies(buffers_apart(
            sizes_written(fills_as_sets(code)))), self.number_names())
        code = without_dead(items_from_original(code), set())
        return tidied(code, self.taken)

    def number_names(self) -> frozenset[str]:
        """The names the code binds to values of the program that are
        numbers (0-d): what is kept in one is no view of an array."""
        numbers = {symbol for symbol, leaf in self.program.leaves.items()
                   if leaf.shape == ()}
        # (a step is written under its own name unless it got another)
        return frozenset(self.names.get(symbol, symbol.name)
                         for symbol in numbers)

    def used_once_in_place(self, steps: list[Step], outputs: list[Any]
                           ) -> tuple[list[Step], list[Any]]:
        """``steps`` and ``outputs`` with each elementwise value that only
        one elementwise expression reads, once, put in that expression, as
        it would be written inline anyway: SymPy then cancels or combines
        what it shares with its reader (2 * r - 2 * a * b, r = a * b, is
        0), which written inline would read as like terms kept apart."""
        if self.inlined is not None:
            return steps, outputs
        elementwise = [s for s in steps if s.op is ELEMENTWISE]
        read_otherwise = set().union(*[s.uses() for s in steps
                                       if s.op is not ELEMENTWISE])
        uses = self.count_uses([], [s.operands[0] for s in elementwise]
                               + [o for o in outputs
                                  if isinstance(o, sp.Basic)], [])
        once = {s.target: s.operands[0] for s in elementwise
                if uses.get(s.target) == 1 and s.target not in read_otherwise
                and s.target not in outputs}
        readers = [s.operands[0] for s in elementwise] + [
            o for o in outputs if isinstance(o, sp.Basic)]
        # The value as its reader reads it: in the names of values the
        # reader reads already (0.5 * beta * (y - X @ w) is 0.5 * beta * r
        # beside -0.5 * beta * r, and the two combine).
        computed = {s.target: s.operands[0] for s in elementwise
                    if not s.operands[0].is_Atom}

        def saves(target: sp.Symbol, value: sp.Expr) -> bool:
            return any(_saves(reader, target, value) for reader in readers
                       if target in reader.free_symbols)

        # Only where that saves operations: elsewhere the value written
        # inline keeps the order of its own factors (mask * (X + X.T)).
        chosen = {}
        for target, value in once.items():
            read = {computed[s]: s for reader in readers
                    if target in reader.free_symbols
                    for s in reader.free_symbols
                    if s in computed and s != target}
            for candidate in (_reading(value, read), value):
                if saves(target, candidate):
                    chosen[target] = candidate
                    break
        # (a value written in the names its reader reads may name another
        # value that is itself put in the reader, and so no longer named:
        # it is put in as it was, where that saves operations too)
        once = {target: value if not value.free_symbols & chosen.keys()
                else once[target] for target, value in chosen.items()
                if not value.free_symbols & chosen.keys()
                or saves(target, once[target])}
        if not once:
            return steps, outputs
        values: dict[sp.Symbol, sp.Expr] = {}
        kept = []
        for step in steps:
            if step.op is ELEMENTWISE:
                value = step.operands[0].xreplace(values)
                if step.target in once:
                    values[step.target] = once[step.target].xreplace(values)
                    continue
                if value != step.operands[0]:
                    step = replace(step, operands=(value,))
            kept.append(step)
        return kept, [o.xreplace(values) if isinstance(o, sp.Basic) else o
                      for o in outputs]

    def names_of_returned_steps(self, steps: list[Step],
                                outputs: list[sp.Expr]
                                ) -> dict[sp.Symbol, str]:
        """A step whose result is only returned is written under the name
        of what it is (grad_W), not of how it was computed; returned
        twice (two equal blocks of a Hessian), under the first's."""
        names: dict[sp.Symbol, str] = {}
        if len(outputs) < 2:
            return names
        written = self.rewritten.keys() | {s.target for s in steps}
        for value, label in zip(outputs, self.spec.output_names):
            if (isinstance(value, sp.Symbol) and value not in names
                    and self.uses.get(value) == outputs.count(value)
                    and value in written):
                names[value] = unique_name(label, self.taken)
                self.taken.add(names[value])
        return names

    def write_step(self, step: Step) -> None:
        if step.option("loop") is not None:
            write_loop(self, step)
            return
        target = step.target
        if step.op is ELEMENTWISE:
            value = self.rewritten[target]
            self.write_temporaries(value)
            if isinstance(value, sp.Symbol) and value in self.names \
                    and target not in self.output_names:
                # The same value under another name: no `b = a` line.
                self.names[target] = self.names[value]
                return
            value = self.fitted(
                value, self.output_names.get(target, target.name) + " = ")
            node = self.printer()(value)
        else:
            operands = tuple(
                o.xreplace(self.substitution) if isinstance(o, sp.Basic)
                else o for o in step.operands)
            for operand in operands:
                if isinstance(operand, sp.Basic):
                    self.write_temporaries(operand)
            name = self.output_names.get(target, target.name)
            node = self.array_operation(step, operands, name)
            if self.too_long(node, name):
                # The wrapper breaks sums, products and arguments, not a
                # call's first argument, and leaves statements other than
                # assignments and returns as they are: name the values it
                # reads first.
                self.name_inlined(operands)
                node = self.array_operation(step, operands, name)
            if isinstance(node, list):  # statements that fill `name`
                self.out.extend(node)
                self.names[target] = name
                return
        if target in self.output_names:
            if _a_derivative(self.output_names[target]) and _an_input_array(
                    self.program, target):
                node = _call("np.copy", [node])  # (see write_return)
            self.assign(self.output_names[target], node)
            self.names[target] = self.output_names[target]
        elif self.uses.get(target, 0) == 1 and part_of_call(
                node) is None and (self.inlined is None or len(
                    ast.unparse(node)) <= self.inlined):
            self.inline[target] = node
        else:
            self.assign(target.name, node)

    def too_long(self, node: ast.expr | list[ast.stmt], name: str) -> bool:
        """Whether the statements of a step (or, where lines did not fit
        before, its assignment) are longer than a line."""
        if isinstance(node, list):
            # (``d = a * b + c``, a scatter's first line, the wrapper
            # breaks as any assignment.)
            return any(len(ast.unparse(ast.fix_missing_locations(s)))
                       > _WIDTH - 4 for s in node
                       if not _wrapped_assignment(s))
        return self.inlined is not None and len(
            f"    {name} = {ast.unparse(node)}") > _WIDTH

    def name_inlined(self, operands: tuple[Any, ...]) -> None:
        """Assign the values of ``operands`` waiting to be inlined to their
        names."""
        for operand in operands:
            if isinstance(operand, sp.Symbol) and operand in self.inline:
                self.assign(operand.name, self.inline.pop(operand))

    def write_return(self, outputs: list[sp.Expr]) -> None:
        """``return value, grad_W, ...``, one named line per long output;
        a gradient a branch made constant still gets its argument's shape."""
        for value in outputs:
            self.write_temporaries(value)
        outputs = [self.fitted(value, "return " if len(outputs) == 1
                               else f"{label} = ")
                   for value, label in zip(outputs, self.spec.output_names)]
        printed = [self.printer()(value) for value in outputs]
        for index, (original, like, label) in enumerate(zip(
                self.spec.outputs, self.spec.shaped_like,
                self.spec.output_names)):
            if like is not None and original.is_Number and not (
                    self.program.leaves[like].shape) and (
                    self.program.leaves[like].access is None):
                # At a number, a constant as a careful person writes it:
                # return 2.0 (the call gives it the argument's type; a
                # pytree's 0-d leaf keeps np.full_like, a 0-d array), and
                # np.nan as the printer writes it.
                if original.is_finite:
                    printed[index] = ast.Constant(float(original))
            elif like is not None and (
                    not original.free_symbols or self.program.shape(original)
                    != self.program.leaves[like].shape):
                printed[index] = _call(
                    "np.full_like", [self.printer()(like), printed[index]])
            elif _a_derivative(label) and _an_input_array(
                    self.program, original) and original not in self.names:
                # A derivative that is an argument or a global array (or a
                # view of one, copied where its step is written) is given
                # as a copy: changing it in place (a clipped gradient)
                # would change the caller's array.
                printed[index] = _call("np.copy", [printed[index]])
        returned: set[str] = set()
        for index, (original, label) in enumerate(zip(
                self.spec.outputs, self.spec.output_names)):
            node = printed[index]
            if isinstance(node, ast.Name) and node.id in returned and \
                    _a_derivative(label) and self.program.shape(original):
                # (two equal blocks, of a Hessian by two arguments: two
                # arrays, so that changing one leaves the other)
                printed[index] = _call("np.copy", [node])
            elif isinstance(node, ast.Name):
                returned.add(node.id)
        if len(printed) == 1:
            self.out.append(ast.Return(printed[0]))
            return
        names = []
        # A number computed twice (a Hessian's equal blocks, -400 * x) is
        # written once; an array twice, so that changing one leaves the
        # other.
        numbers: dict[str, str] = {}
        for node, label, original in zip(printed, self.spec.output_names,
                                         self.spec.outputs):
            if isinstance(node, (ast.Name, ast.Constant)):
                names.append(node)
                continue
            key = ast.dump(node)
            if key in numbers:
                names.append(ast.Name(numbers[key], ast.Load()))
                continue
            name = unique_name(label, self.taken)
            self.taken.add(name)
            self.assign(name, node)
            names.append(ast.Name(name, ast.Load()))
            if isinstance(original, sp.Expr) and not self.program.shape(
                    original) and _computes(node):
                numbers[key] = name
        if self.spec.output_names[0] == "value" and isinstance(
                names[0], ast.Name):
            _value_first(self.out, names[0].id,
                         [n.id for n in names if isinstance(n, ast.Name)])
        self.out.append(ast.Return(ast.Tuple(names, ast.Load())))

    def fitted(self, value: sp.Expr, start: str) -> sp.Expr:
        """``value``, which a line starts with ``start``; where lines
        must fit at any cost (the last of INLINED_LENGTHS) and no layout
        of it fits (a deep Horner polynomial breaks into a staircase that
        runs off to the right), with parts of it named first, as scalar
        code names them: the largest on the way to its most deeply nested
        operation that fits on a line of its own."""
        if self.inlined != 0 or not isinstance(value, sp.Expr):
            return value
        room = _WIDTH - len("    part = ")
        while not _fits(f"    {start}{self.measured(value)}"):
            path = _deepest_path(value)
            part = next((node for node in path[1:] if _nameable(node)
                         and len(self.measured(node)) <= room), None)
            if part is None:
                # (the deepest operation too long for a line of its own is
                # a sum of small terms, 2 * t_6 among them: its largest
                # part that fits is named)
                part = next(filter(None, (
                    self.largest_part(node, room)
                    for node in reversed(path) if isinstance(node, sp.Expr)
                    and len(self.measured(node)) > room)), None)
            if part is None:
                break
            temporary = sp.Dummy("part")
            self.temporaries[temporary] = part
            self.written.add(temporary)
            name = unique_name(_suggest_name(part, self.names)
                               or _function_name(part), self.taken)
            self.taken.add(name)
            self.assign(name, self.printer()(part))
            self.names[temporary] = name
            # Its negation too: the printer folds a sign into a sum.
            value = value.xreplace({part: temporary, -part: -temporary})
        return value

    def largest_part(self, value: sp.Expr, room: int) -> sp.Expr | None:
        """The largest part of ``value`` that may be named and fits in
        ``room`` characters; None where there is none."""
        fitting = [(len(text), node) for node in sp.preorder_traversal(value)
                   if node is not value and _nameable(node)
                   for text in [self.measured(node)] if len(text) <= room]
        return max(fitting, key=lambda item: item[0],
                   default=(0, None))[1]

    def measured(self, value: sp.Expr) -> str:
        """``value`` as it prints, on one line: the np.where it would hoist
        into names of their own (``hoisted``) are left unwritten."""
        written, taken = len(self.out), set(self.taken)
        text = ast.unparse(self.printer()(value))
        del self.out[written:]
        self.taken = taken
        return text

    def count_uses(self, steps: list[Step], exprs: list[sp.Expr],
                   more: list[sp.Expr]) -> dict[sp.Symbol, int]:
        uses: dict[sp.Symbol, int] = {}
        for operand_list in ([s.operands for s in steps
                              if s.op is not ELEMENTWISE]
                             + [tuple(option_symbols(s.options))
                                for s in steps]
                             + [(e,) for e in exprs + more]):
            for operand in operand_list:
                if isinstance(operand, sp.Basic):
                    for symbol in operand.free_symbols:
                        # x / norm + norm reads norm twice
                        uses[symbol] = (uses.get(symbol, 0)
                                        + max(operand.count(symbol), 1))
        return uses

    def assign(self, name: str, node: ast.expr) -> None:
        self.out.append(ast.Assign([ast.Name(name, ast.Store())], node, None))

    def write_temporaries(self, expr: sp.Expr) -> None:
        """Define the temporaries ``expr`` uses that are not yet defined."""
        for symbol in sorted(expr.free_symbols, key=sp.default_sort_key):
            value = self.temporaries.get(symbol)
            if value is None or symbol in self.written:
                continue
            self.write_temporaries(value)
            self.write_temporaries(self.collected.get(symbol, value))
            self.written.add(symbol)
            full = value.xreplace(self.expanded)
            self.expanded[symbol] = full
            owner = self.steps_by_value.get(full)
            if owner is not None and owner not in self.names:
                # A step's whole value: the step's own name (the step
                # itself is then written as no more than that name).
                name = owner.name
            else:
                # A power is named after the power it is: r_pow4 =
                # r_sq ** 2, not r_sq_sq.
                power = full if isinstance(full, sp.Pow) and \
                    full.exp.is_Integer else value
                suggestion = (self.output_labels.get(symbol)
                              or self.labels.get(full)
                              or _suggest_name(power, self.names)
                              or _suggest_name(value, self.names)
                              or _stand_in_name(value, self.spec.params)
                              or _function_name(value))
                name = unique_name(suggestion, self.taken)
                self.taken.add(name)
            self.names[symbol] = name
            self.assign(name, self.printer()(self.collected.get(symbol,
                                                                 value)))

    def hoisted(self, node: ast.Call) -> ast.expr:
        """An np.where inside another, assigned to a name of its own (of
        its condition where that is a name: where_second_zero)."""
        condition = node.args[0]
        name = unique_name("where_" + condition.id if isinstance(
            condition, ast.Name) else "where", self.taken)
        self.taken.add(name)
        self.assign(name, node)
        return ast.Name(name, ast.Load())

    def shape_of(self, expr: sp.Expr) -> tuple[int, ...]:
        """The shape of ``expr``, over program symbols and temporaries."""
        shapes = [self.program.leaves[s].shape if s in self.program.leaves
                  else self.shape_of(self.temporaries[s])
                  for s in expr.free_symbols
                  if s in self.program.leaves or s in self.temporaries]
        return broadcast_shapes(*shapes) if shapes else ()

    def printer(self) -> ExpressionPrinter:
        printer = ArrayPrinter(self.spec.namespace, self.names)
        printer.shape_of = self.shape_of
        if self.inlined == 0:  # the last resort for lines that fit
            printer.hoist = self.hoisted
        inline = self.inline
        numbers = self.numbers
        plain = printer.print

        def print_with_inline(expr: sp.Basic) -> ast.expr:
            if isinstance(expr, sp.Symbol) and expr in inline:
                return inline[expr]
            if numbers and not expr.is_Atom \
                    and not expr.free_symbols.isdisjoint(numbers):
                expr = expr.xreplace(numbers)
            return plain(expr)

        printer.print = print_with_inline  # type: ignore[method-assign]
        return printer

    def operand(self, value: Any) -> ast.expr:
        if isinstance(value, sp.Basic):
            return self.printer()(value)
        return ast.Constant(value)

    def array_operation(self, step: Step, operands: tuple[Any, ...],
                        name: str) -> Any:
        """The step written as its row spells it: an expression, or (for
        a row spelled with statements) the statements that fill ``name``."""
        if step.op.spell is None:  # pragma: no cover - the table's tests
            raise TypeError(f"no spelling for the array operation "
                            f"{step.op.name}")
        if option_symbols(step.options):
            step = replace(step, options=tuple(
                (key, self.spelled_option(value))
                for key, value in step.options))
        return step.op.spell(step, [self.operand(o) for o in operands], name)

    def spelled_option(self, value: Any) -> Any:
        """An option holding sizes read at run time, printed: a size as
        ``X.shape[0]`` (or its name), a shape of sizes as a ``Spelled``
        (``X.shape`` where it is all of an input's axes in order)."""
        if isinstance(value, sp.Basic):
            return self.printer()(value)
        if not isinstance(value, tuple) or not option_symbols(value):
            return value
        entries = [self.spelled_option(v) for v in value]
        definition = self.program.definition()
        steps = [definition.get(v) if isinstance(v, sp.Symbol) else None
                 for v in value]
        whole = None
        if steps and all(s is not None and s.op is SIZE for s in steps):
            owner = steps[0].operands[0]
            if (owner not in definition
                    and len(self.program.leaves[owner].shape) == len(value)
                    and all(s.operands[0] == owner and s.option("axis") == i
                            for i, s in enumerate(steps))):
                whole = ast.Attribute(self.printer()(owner), "shape",
                                      ast.Load())
        return Spelled(entries, whole)


def _reading_steps(elementwise: list[Step], outputs: list[sp.Expr]
                   ) -> tuple[list[sp.Expr], dict[sp.Expr, sp.Symbol]]:
    """The expressions of the steps, then the outputs, each reading the
    steps before it where it computes their value again (``abs(x) ** 3``
    after ``terms = abs(x)`` is ``terms ** 3``): the common-subexpression
    pass then sees ``terms ** 2`` elsewhere as a part of it."""
    earlier: dict[sp.Expr, sp.Symbol] = {}
    exprs = []
    for step in elementwise:
        value = step.operands[0]
        exprs.append(_reading(value, earlier))
        if not value.is_Atom:
            earlier.setdefault(value, step.target)
            # (as the outputs read it: x_dot * right_1, not cos(x) * x_dot)
            if not exprs[-1].is_Atom:
                earlier.setdefault(exprs[-1], step.target)
    return exprs + [_reading(o, earlier) for o in outputs], earlier


def _saves(reader: sp.Expr, symbol: sp.Symbol, value: sp.Expr) -> bool:
    """Whether ``value`` put in ``reader`` for ``symbol`` takes fewer
    operations than the two apart (like terms cancel or combine, also
    where a shared factor hides them, or selections on one condition make
    one)."""
    return sp.count_ops(collect_like_terms(merged_selections(reader.xreplace(
        {symbol: value})))) < sp.count_ops(reader) + sp.count_ops(value)


def _reading(expr: Any, earlier: dict[sp.Expr, sp.Symbol]) -> Any:
    """``expr`` reading the names ``earlier`` gives values, also where a
    value is some of the terms of a longer sum or the factors of a longer
    product (``-2 * a * b`` after ``t = a * b`` is ``-2 * t``), which
    SymPy flattens out of sight of a replacement: written as they are,
    the name and its value would both appear (``2 * t - a * b``)."""
    if not earlier or not isinstance(expr, sp.Basic):
        return expr
    expr = expr.xreplace(earlier)
    by_first: dict[sp.Basic, list[tuple[sp.Expr, sp.Symbol]]] = {}
    for value, name in earlier.items():
        if isinstance(value, (sp.Add, sp.Mul)):
            by_first.setdefault(value.args[0], []).append((value, name))
    if not by_first:
        return expr
    done: dict[sp.Basic, sp.Basic] = {}

    def visit(node: sp.Basic) -> sp.Basic:
        if node.is_Atom:
            return node
        known = done.get(node)
        if known is not None:
            return known
        args = [visit(a) for a in node.args]
        if isinstance(node, (sp.Add, sp.Mul)):
            for value, name in [c for a in args for c in by_first.get(a, ())]:
                if type(value) is not type(node) or \
                        len(value.args) >= len(args):
                    continue
                rest = list(args)
                try:
                    for part in value.args:
                        rest.remove(part)
                except ValueError:
                    continue
                args = rest + [name]
        result = node.func(*args) if args != list(node.args) else node
        done[node] = result
        return result

    return visit(expr)


def _fits(line: str) -> bool:
    """Whether ``line``, as the wrapper breaks it, fits: no line too long,
    none starting so far right that little room is left."""
    lines = _wrap_line(line).splitlines()
    return all(len(text) <= _WIDTH for text in lines) and all(
        len(text) - len(text.lstrip()) <= _DEEPEST for text in lines)


def _nameable(node: sp.Basic) -> bool:
    """Whether ``node`` may be named to shorten a line: an operation on
    the arguments, not a name, a number or 2 * x."""
    return isinstance(node, sp.Expr) and bool(node.free_symbols) and not (
        isinstance(node, (sp.Symbol, sp.Number)) or _is_trivial(node))


def _computes(node: ast.expr) -> bool:
    """Whether ``node`` computes something (not np.nan, a name)."""
    return any(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call))
               for n in ast.walk(node))


def _value_first(out: list[ast.stmt], value: str,
                 returned: list[str]) -> None:
    """``value = ...``, where it is among the assignments of ``returned``
    names that end ``out``, moved up to just after the last statement it
    needs: before the gradient's or the tangent's lines, as ``return
    value, grad`` reads them and a person writes them (their steps are
    written where the program makes them, the value at the return). It
    does not move past a statement other than a plain assignment (an if,
    a loop)."""
    at = len(out) - 1
    while at >= 0 and _assigns(out[at], returned) and not _assigns(
            out[at], [value]):
        at -= 1
    if at < 0 or not _assigns(out[at], [value]):
        return
    moved = out[at]
    read = [node.id for node in ast.walk(moved.value)  # type: ignore
            if isinstance(node, ast.Name)]
    place = at
    while place > 0 and _assigns(out[place - 1]) and not _assigns(
            out[place - 1], read):
        place -= 1
    out[place:at + 1] = [moved, *out[place:at]]


def _assigns(statement: ast.stmt, names: list[str] | None = None) -> bool:
    """Whether ``statement`` is ``name = ...`` (of one of ``names``)."""
    return isinstance(statement, ast.Assign) and len(
        statement.targets) == 1 and isinstance(
        statement.targets[0], ast.Name) and (
        names is None or statement.targets[0].id in names)


def _wrapped_assignment(statement: ast.stmt) -> bool:
    """``name = <arithmetic>``: a statement the wrapper breaks."""
    return (isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, (ast.BinOp, ast.UnaryOp)))


def _stand_in_name(value: sp.Expr, params: Sequence[str]) -> str | None:
    """``safe_x`` for ``np.where(t, 1, x)``, the stand-in for an argument
    x that keeps a formula's removable singularity out of the branch not
    taken (as JAX's documentation names it)."""
    if isinstance(value, where) and value.args[1].is_Number and \
            value.args[1] != 0 and isinstance(value.args[2], sp.Symbol) \
            and value.args[2].name in params:
        return f"safe_{value.args[2].name}"
    return None


def _function_name(value: sp.Expr) -> str:
    """``tanh`` for a temporary holding a tanh of something long."""
    if isinstance(value, sp.Function):
        return _function_label(type(value))
    return "t"


def _a_derivative(label: str) -> bool:
    """Whether an output called ``label`` is a derivative (not a value
    or aux data, which are as the function computes them)."""
    return not label.startswith(("value", "aux"))


def _an_input_array(program: Any, value: Any) -> bool:
    """Whether ``value`` is an array the function was given or reads by
    name (an argument, a global), or a view of one (``A.T``)."""
    definition = None
    while isinstance(value, sp.Symbol):
        leaf = program.leaves.get(value)
        if leaf is None or not leaf.shape:
            return False
        if leaf.kind in ("param", "data"):
            return True
        definition = definition or program.definition()
        step = definition.get(value)
        if step is None or not is_view(program, step):
            return False
        value = step.operands[0]
    return False
