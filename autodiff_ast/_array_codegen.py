"""Codegen stage for array programs: steps -> a readable NumPy function.

Only the steps the outputs need are written, in program order: leaves read
out of pytree arguments (``params_W = params['W']``), forward values,
adjoints. Elementwise expressions share one common-subexpression pass, so
what the value and the gradient have in common is computed once; a
temporary is written just before its first use. Steps used once and cheap
to read (a transpose, a sum's operand) are written inline where they are
used, as a person would.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from dataclasses import dataclass, replace
from typing import Any, Sequence

import sympy as sp

from ._collect import collected_all
from ._codegen import (Literal, _cse, _function_label, _pretty_string,
                       _suggest_name)
from ._loop_codegen import write_loop
from ._printer import ExpressionPrinter, _binary, _call, _name
from ._program import (ELEMENTWISE, SIZE, Program, Step, broadcast_shapes,
                       option_symbols, unique_name)
from ._spell import Spelled
from ._unparse import to_source
from ._wrap import _WIDTH, _filled, _wrap

__all__ = ["ArrayFunctionSpec", "generate_array_source"]


@dataclass
class ArrayFunctionSpec:
    name: str
    params: Sequence[str]
    docstring: str
    program: Program
    outputs: list[sp.Expr | Literal]  # a Literal is returned as written
    output_names: list[str]  # one per output: value, grad_W, aux
    labels: dict[sp.Expr, str]  # the user's names of values
    # Per output, the argument whose shape it must have (a gradient), or
    # None; a branch can make a gradient a plain number.
    shaped_like: list[sp.Symbol | None]


def _common_factor_out(factor: sp.Expr) -> tuple[sp.Number, sp.Expr]:
    """``(c, s)`` with ``c * s == factor``: the rational every term of a
    sum shares (``2 * x - 2 * m`` is ``2 * (x - m)``), else ``(1, factor)``."""
    if not isinstance(factor, sp.Add):
        return sp.S.One, factor
    coefficients = {abs(term.as_coeff_Mul()[0]) for term in factor.args}
    if len(coefficients) != 1:
        return sp.S.One, factor
    (common,) = coefficients
    if not common.is_Rational or common == 1:
        return sp.S.One, factor
    return common, sp.Add(*[term / common for term in factor.args])


class _ArrayPrinter(ExpressionPrinter):
    """Conditions and branches elementwise, as NumPy needs them."""

    # Where lines would not fit otherwise, the writer's callback that
    # names an np.where inside another (which computes every argument
    # anyway, so naming it first changes nothing but the line's length).
    hoist: Any = None
    depth = 0

    def piecewise(self, expr: sp.Piecewise) -> ast.expr:
        self.depth += 1
        try:
            pieces = list(expr.args)
            result = (self.print(pieces.pop().expr)
                      if pieces[-1].cond is sp.true else _name("np.nan"))
            for piece in reversed(pieces):
                self.depth += 1
                result = self.hoisted(result)
                self.depth -= 1
                result = _call("np.where", [self.print(piece.cond),
                                            self.print(piece.expr), result])
        finally:
            self.depth -= 1
        return self.hoisted(result)

    def function(self, expr: sp.Function) -> ast.expr:
        self.depth += 1
        try:
            node = super().function(expr)
        finally:
            self.depth -= 1
        return self.hoisted(node)

    def hoisted(self, node: ast.expr) -> ast.expr:
        """``node``, named first if it is a long np.where inside another
        call and the writer asks for that."""
        if (self.hoist is not None and self.depth
                and isinstance(node, ast.Call)
                and ast.unparse(node.func) == "np.where"
                and len(ast.unparse(node)) > _INLINED[-2]):
            return self.hoist(node)
        return node

    def add(self, expr: sp.Add) -> ast.expr:
        # 0.5 * (a + b) is one pass over an array fewer than 0.5*a + 0.5*b.
        coefficients = {abs(t.as_coeff_Mul()[0]) for t in expr.args}
        if len(coefficients) == 1:
            (coefficient,) = coefficients
            if coefficient.is_Rational and coefficient != 1:
                inner = sp.Add(*[t / coefficient for t in expr.args])
                return self.mul_positive(coefficient, inner)
        return super().add(expr)

    # The shape of an expression, where the writer knows it (None: not
    # known, as in a branch's condition).
    shape_of: Any = None

    def mul_positive(self, coefficient: sp.Number,
                     rest: sp.Expr) -> ast.expr:
        """A product of a large array with factors that broadcast against
        it multiplies those first: ``exp_logits * (total / s)`` with
        ``total`` and ``s`` of shape (n, 1) is one pass over the large
        array, ``exp_logits * total / s`` two."""
        if self.shape_of is None or not self.wastes_passes(rest):
            return super().mul_positive(coefficient, rest)
        factors = [_common_factor_out(f) for f in sp.Mul.make_args(rest)]
        for common, _ in factors:
            coefficient *= common
        factors = [factor for _, factor in factors]
        full = self.shape_of(rest)
        small = [f for f in factors if self.shape_of(f) != full]
        # Two or more small factors (with a coefficient and a scalar count:
        # ``(x - mean) * (2 / x.size)``, one pass over x, not two).
        if len(small) + (coefficient != 1) < 2 or len(small) == len(
                factors):
            return super().mul_positive(coefficient, sp.Mul(*factors))
        large = [f for f in factors if f not in small]
        return _binary(super().mul_positive(sp.S.One, sp.Mul(*large)),
                       ast.Mult(),
                       super().mul_positive(coefficient, sp.Mul(*small)))

    def wastes_passes(self, rest: sp.Expr) -> bool:
        """Whether ``rest`` printed as it is (factors in order, divisors
        last) would apply a small factor to the large array after it is
        formed: a division by a count, or a small factor after a large
        one."""
        ordered = (rest.as_ordered_factors() if isinstance(rest, sp.Mul)
                   else [rest])
        full = self.shape_of(rest)
        seen_large = False
        for factor in ordered:
            small = self.shape_of(factor) != full
            divisor = (isinstance(factor, sp.Pow) and factor.exp.is_Number
                       and factor.exp.is_negative)
            if small and (divisor or seen_large):
                return any(self.shape_of(f) == full for f in ordered)
            seen_large = seen_large or not small
        return False

    def boolean(self, expr: sp.Basic) -> ast.expr:
        if isinstance(expr, (sp.And, sp.Or)):
            spelling = ("np.logical_and" if isinstance(expr, sp.And)
                        else "np.logical_or")
            ordered = sorted(expr.args, key=sp.default_sort_key)
            result = self.print(ordered[0])
            for other in ordered[1:]:
                result = _call(spelling, [result, self.print(other)])
            return result
        if isinstance(expr, sp.Not):
            return _call("np.logical_not", [self.print(expr.args[0])])
        return super().boolean(expr)


def generate_array_source(spec: ArrayFunctionSpec) -> str:
    """The source of ``spec``'s function; outputs that are ``Literal``s
    (aux strings, bools) are returned as written, in their places."""
    literals = {i: o for i, o in enumerate(spec.outputs)
                if isinstance(o, Literal)}
    computed = [i for i in range(len(spec.outputs)) if i not in literals]
    spec = replace(spec, outputs=[spec.outputs[i] for i in computed],
                   output_names=[spec.output_names[i] for i in computed],
                   shaped_like=[spec.shaped_like[i] for i in computed])
    text = _source(spec, literals, len(computed), inlined=None)
    for inlined in _INLINED:
        if not _too_wide(text):
            break
        # Nested calls and subscripts too long for a line: the wrapper
        # breaks lines only between terms and arguments, so name the
        # longer ones instead of writing them where they are used, the
        # shorter ones too if that is not enough.
        text = _source(spec, literals, len(computed), inlined=inlined)
    return text


def _too_wide(text: str) -> bool:
    """Whether a line of the function's code (after its docstring, which
    may hold a long path or key) is longer than a line should be."""
    docstring = ast.parse(text).body[0].body[0]  # type: ignore[attr-defined]
    return any(len(line) > _WIDTH
               for line in text.splitlines()[docstring.end_lineno:])


def _source(spec: ArrayFunctionSpec, literals: dict[int, Literal],
            count: int, inlined: int | None) -> str:
    """The function's text, inlining steps used once that are at most
    ``inlined`` characters long (None: any)."""
    docstring = _docstring(spec.docstring)
    body: list[ast.stmt] = [ast.Expr(ast.Constant(docstring))]
    body += _branches(spec, inlined)
    if literals:
        for statement in body:
            for node in ast.walk(statement):
                if isinstance(node, ast.Return):
                    node.value = _with_literals(node.value, count,
                                                literals)
    arguments = ast.arguments(
        posonlyargs=[], args=[ast.arg(p) for p in spec.params], vararg=None,
        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    function = ast.FunctionDef(name=spec.name, args=arguments, body=body,
                               decorator_list=[], returns=None,
                               type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        function.type_params = []
    module = ast.fix_missing_locations(ast.Module([function], []))
    def strings(text: str, *args: Any, **kwargs: Any) -> str:
        if text == docstring:
            return f'"""{_escaped(text)}"""'
        return _pretty_string(text, *args, **kwargs)

    text = "".join(_wrap_call(line) for line in _wrap(
        to_source(module, strings)).splitlines(keepends=True))
    check = _shape_check(spec)
    if not check:
        return text
    docstring = ast.parse(text).body[0].body[0]  # type: ignore[attr-defined]
    lines = text.splitlines(keepends=True)
    return "".join(lines[:docstring.end_lineno] + [check]
                   + lines[docstring.end_lineno:])


def _docstring(text: str) -> str:
    """``text`` filled to the width of a line as it will be written (a
    key's backslash or carriage return escaped, ``\\r``), so the docstring
    is a triple-quoted block whatever the pytree keys it names hold."""
    return ast.literal_eval('"""' + _filled(_escaped(text)) + '"""')


def _escaped(text: str) -> str:
    """``text`` as the inside of a triple-quoted literal: backslashes,
    quotes and characters that are not printable escaped, newlines kept."""
    quotes = '"""' in text or text.endswith('"')  # else they read as such
    return "".join(
        "\n" if c == "\n" else "\\\\" if c == "\\"
        else '\\"' if c == '"' and quotes
        else c if c.isprintable() else repr(c)[1:-1] for c in text)


def _wrap_call(line: str) -> str:
    """A statement that is one long call (``np.add.at(d, index, values)``,
    which the wrapper leaves as it is) broken after its commas, each
    continuation aligned with the parenthesis it is inside, as black
    would; a tuple argument too long for its line broken the same way."""
    text = line.rstrip("\n")
    if len(text) <= _WIDTH or not text.startswith("    "):
        return line
    try:
        (statement,) = ast.parse(text.strip()).body
    except SyntaxError:  # a line of a longer statement
        return line
    if not (isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Call)):
        return line
    indent = text[:len(text) - len(text.lstrip())]
    return indent + "\n".join(_laid_out(statement.value, len(indent),
                                        0)) + "\n"


def _laid_out(node: ast.expr, column: int, trailing: int) -> list[str]:
    """``node`` written from ``column`` (``trailing`` characters follow
    it): on one line if it fits, else a call's or tuple's items filling
    lines inside its parentheses. Lines after the first are indented."""
    text = ast.unparse(node)
    items = _items(node) if isinstance(node, (ast.Call, ast.Tuple)) else []
    if column + len(text) + trailing <= _WIDTH or not items:
        return [text]
    opening = (ast.unparse(node.func) + "(" if isinstance(node, ast.Call)
               else "(")
    inner = column + len(opening)
    lines = [opening]
    for number, item in enumerate(items):
        last = number == len(items) - 1
        closing = ")" if last else ","
        tail = len(closing) + (trailing if last else 0)
        fresh = len(lines) == 1 and lines[0] == opening
        at = column + len(lines[0]) if len(lines) == 1 else len(lines[-1])
        separator = "" if fresh else " "
        pieces = ([item] if isinstance(item, str)
                  else _laid_out(item, at + len(separator), tail))
        if len(pieces) == 1 and at + len(separator) + len(
                pieces[0]) + tail <= _WIDTH:
            lines[-1] += separator + pieces[0] + closing
            continue
        if not fresh:  # start the item on a line of its own
            lines.append(" " * inner)
            pieces = ([item] if isinstance(item, str)
                      else _laid_out(item, inner, tail))
        lines[-1] += pieces[0]
        lines.extend(pieces[1:])
        lines[-1] += closing
    return lines


def _items(node: ast.expr) -> list[Any]:
    if isinstance(node, ast.Tuple):
        return list(node.elts) if len(node.elts) > 1 else []
    assert isinstance(node, ast.Call)
    return list(node.args) + [f"{k.arg}={ast.unparse(k.value)}"
                              for k in node.keywords]


def _shape_check(spec: ArrayFunctionSpec) -> str:
    """Where the code bakes in a size it cannot read at run time, a check
    at its top that the arrays it reads have the shapes it was generated
    for: at other sizes it would be wrong, so it says so instead. Written
    as text: the line wrapper does not break conditions or strings."""
    needed = spec.program.needed(spec.outputs)
    definition = spec.program.definition()
    # Every step's op counts, used or not: a gradient rule that fixed a
    # size (a variance's count) may have left its own step unused; a size
    # written as a number counts where it is used.
    reasons = list(dict.fromkeys(
        spec.program.baked + [
            reason for step in spec.program.steps
            for reason in [_baked_by(step, step.target in needed)]
            if reason]))
    # The arrays the code reads, and those whose sizes the function read.
    read = needed | {step.operands[0] for step in spec.program.steps
                     if step.op is SIZE}
    arrays = sorted((symbol for symbol in read
                     if symbol not in definition
                     and symbol in spec.program.leaves
                     and spec.program.leaves[symbol].kind in ("param", "data")
                     and spec.program.leaves[symbol].shape),
                    key=lambda symbol: symbol.name)
    if not reasons or not arrays:
        return ""
    tests, described = [], []
    for symbol in arrays:
        leaf = spec.program.leaves[symbol]
        read = leaf.access or symbol.name
        tests.append(f"{read}.shape != {leaf.shape!r}")
        described.append(f"{read} of shape {leaf.shape!r}")
    arrays_text = (described[0] if len(described) == 1 else
                   f"{', '.join(described[:-1])} and {described[-1]}")
    message = (f"{spec.name} was generated for {arrays_text}, and is "
               f"correct only at these sizes ({'; '.join(reasons)}). For "
               f"other sizes, generate it again: ad.source({spec.name}, "
               "*args) prints it for args of those sizes.")
    lines = _joined("    if ", tests, " or ", ":", "    if (",
                    "            or ", "):")
    lines.append("        raise ValueError(")
    pieces = _pieces(message, _WIDTH - 12 - 3)
    lines += [f"            {piece!r}" for piece in pieces]
    lines[-1] += ")"
    return "".join(line + "\n" for line in lines)


def _joined(start: str, items: list[str], joiner: str, end: str,
            open_: str, continued: str, close: str) -> list[str]:
    """``start`` + items joined + ``end`` on one line if it fits, else in
    parentheses, a line per run of items that fits."""
    one = start + joiner.join(items) + end
    if len(one) <= _WIDTH:
        return [one]
    lines = [open_ + items[0]]
    for item in items[1:]:
        if len(lines[-1] + joiner + item) + len(close) <= _WIDTH:
            lines[-1] += joiner + item
        else:
            lines.append(continued + item)
    lines[-1] += close
    return lines


def _pieces(text: str, width: int) -> list[str]:
    """``text`` cut between words into pieces of at most ``width``
    characters (a longer word is a piece of its own), which put back
    together are ``text``."""
    pieces = [""]
    for word in text.split(" "):
        if pieces[-1] and len(pieces[-1] + word) > width:
            pieces.append("")
        pieces[-1] += word + " "
    pieces[-1] = pieces[-1][:-1]
    return pieces



# Rows of other families whose lowering and gradient read every size at
# run time (checked by hand: a product's gradient is products and
# transposes, a norm's the array over it); until their rows say so with
# any_size=True.
_AUDITED_ELSEWHERE = frozenset({"dot", "norm"})
# Options that hold sizes: written as ints only where the user wrote them.
_SIZE_OPTIONS = ("shape", "rows", "columns", "bounds", "num")


def _baked_by(step: Step, used: bool) -> str | None:
    """Why ``step`` holds a size it does not read at run time, if it
    does: an operation whose sizes are fixed when the code is generated,
    or (if the step is ``used``) a size written as a number where the
    user did not write it."""
    if not step.op.any_size and step.op.name not in _AUDITED_ELSEWHERE:
        return f"{step.op.name}'s code is written for them"
    if not used or step.option("as_written"):
        return None
    for key in _SIZE_OPTIONS:
        if any(isinstance(n, int) and n not in (-1, 0, 1)
               for n in _flat(step.option(key))):
            return f"{step.op.name}'s sizes are written for them"
    return None


def _flat(value: Any) -> list[Any]:
    if isinstance(value, tuple):
        return [item for v in value for item in _flat(v)]
    return [value]


def _with_literals(returned: ast.expr | None, count: int,
                   literals: dict[int, Literal]) -> ast.expr:
    """``returned`` (``count`` computed outputs) with the literals put
    among them."""
    assert returned is not None
    computed = iter(returned.elts if count > 1 and isinstance(
        returned, ast.Tuple) else [returned] if count else [])
    items = [ast.Constant(literals[i].value) if i in literals
             else next(computed) for i in range(count + len(literals))]
    return items[0] if len(items) == 1 else ast.Tuple(items, ast.Load())


def _branches(spec: ArrayFunctionSpec,
              inlined: int | None) -> list[ast.stmt]:
    """The body: one if-statement per condition on scalar values (``if lam
    > 0:``), each branch computing only its own values, so nothing is
    evaluated where it is not defined (np.where would compute both)."""
    condition = _scalar_condition(spec)
    if condition is None:
        return _Writer(spec, inlined).statements()
    printer = _ArrayPrinter("numpy", {})
    return ([ast.If(printer(condition),
                    _branches(_specialized(spec, condition, True), inlined),
                    [])]
            + _branches(_specialized(spec, condition, False), inlined))


def _scalar_condition(spec: ArrayFunctionSpec) -> sp.Basic | None:
    """The first condition of a branch that depends on scalars only."""
    exprs = [o for step in spec.program.steps for o in step.operands
             if isinstance(o, sp.Basic)] + list(spec.outputs)
    conditions = {piece.cond for e in exprs for p in e.atoms(sp.Piecewise)
                  for piece in p.args if piece.cond is not sp.true}
    # Tested at the top, so on what the function is given only (not on
    # what a step computes, as a loop that returns does).
    computed = {r for step in spec.program.steps for r in step.results()}
    scalar = [c for c in conditions if all(
        spec.program.leaves[s].shape == () for s in c.free_symbols
        if s in spec.program.leaves) and not c.free_symbols & computed]
    return min(scalar, key=sp.default_sort_key) if scalar else None


def _specialized(spec: ArrayFunctionSpec, condition: sp.Basic,
                 holds: bool) -> ArrayFunctionSpec:
    """``spec`` where ``condition`` is known to hold (or not)."""
    known = {condition: sp.true if holds else sp.false,
             sp.Not(condition): sp.false if holds else sp.true}

    def decided(value: Any) -> Any:
        return value.xreplace(known) if isinstance(value, sp.Basic) else value

    program = Program(leaves=spec.program.leaves, names=spec.program.names)
    program.steps = [Step(step.target, step.op,
                          tuple(decided(o) for o in step.operands),
                          step.options) for step in spec.program.steps]
    return ArrayFunctionSpec(spec.name, spec.params, spec.docstring, program,
                             [decided(o) for o in spec.outputs],
                             spec.output_names, spec.labels, spec.shaped_like)


class _Writer:
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
                self.labels.setdefault(value.func(*[
                    a.xreplace(earlier) for a in value.args]), label)
        temporaries, reduced = _cse(exprs, share_squares=True)
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
        return _unpacked(_read(_unaliased(_shared(_single_axes(self.out),
                                                  self.taken))))

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
        # Only where that saves operations: elsewhere the value written
        # inline keeps the order of its own factors (mask * (X + X.T)).
        once = {target: value for target, value in once.items()
                if any(_saves(reader, target, value) for reader in readers
                       if target in reader.free_symbols)}
        if not once:
            return steps, outputs
        values: dict[sp.Symbol, sp.Expr] = {}
        kept = []
        for step in steps:
            if step.op is ELEMENTWISE:
                value = step.operands[0].xreplace(values)
                if step.target in once:
                    values[step.target] = value
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
        of what it is (grad_W), not of how it was computed."""
        names: dict[sp.Symbol, str] = {}
        if len(outputs) < 2:
            return names
        written = self.rewritten.keys() | {s.target for s in steps}
        for value, label in zip(outputs, self.spec.output_names):
            if (isinstance(value, sp.Symbol) and self.uses.get(value) == 1
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
            self.assign(self.output_names[target], node)
            self.names[target] = self.output_names[target]
        elif self.uses.get(target, 0) == 1 and _part_of_call(
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
        printed = [self.printer()(value) for value in outputs]
        for index, (original, like) in enumerate(zip(self.spec.outputs,
                                                      self.spec.shaped_like)):
            if like is not None and (
                    not original.free_symbols or self.program.shape(original)
                    != self.program.leaves[like].shape):
                printed[index] = _call(
                    "np.full_like", [self.printer()(like), printed[index]])
        if len(printed) == 1:
            self.out.append(ast.Return(printed[0]))
            return
        names = []
        for node, label in zip(printed, self.spec.output_names):
            if isinstance(node, (ast.Name, ast.Constant)):
                names.append(node)
                continue
            name = unique_name(label, self.taken)
            self.taken.add(name)
            self.assign(name, node)
            names.append(ast.Name(name, ast.Load()))
        self.out.append(ast.Return(ast.Tuple(names, ast.Load())))

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
        printer = _ArrayPrinter("numpy", self.names)
        printer.shape_of = self.shape_of
        if self.inlined == 0:  # the last resort for lines that fit
            printer.hoist = self.hoisted
        inline = self.inline
        plain = printer.print

        def print_with_inline(expr: sp.Basic) -> ast.expr:
            if isinstance(expr, sp.Symbol) and expr in inline:
                return inline[expr]
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


# Where a function's lines would not fit, a step used once is written
# where it is used only up to the first of these lengths with which they
# fit (0: every step is named).
_INLINED = (48, 24, 0)


def _single_axes(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with ``axis=(1,)`` written ``axis=1``, as a person
    writes one axis (the same reduction for every NumPy function that
    takes a tuple of axes; the rows keep axes as tuples)."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.keyword) and node.arg == "axis" and \
                    isinstance(node.value, ast.Tuple) and \
                    len(node.value.elts) == 1:
                node.value = node.value.elts[0]
    return statements


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
    operations than the two apart (like terms cancel or combine)."""
    return sp.count_ops(reader.xreplace({symbol: value})) < (
        sp.count_ops(reader) + sp.count_ops(value))


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


def _shared(statements: list[ast.stmt], taken: set[str]
            ) -> list[ast.stmt]:
    """``statements`` with arithmetic of two operations or more that
    two places compute (the common-subexpression pass misses a part of a
    longer sum, ``a * c - b`` in ``x + a * c - b``) named once, before
    its first use. Names are bound once and arrays filled where they are
    made, so the value is the same there."""
    for _ in range(_LONGEST_SHARING):
        # A value named twice is then one name: what reads it is alike.
        statements = _unaliased(statements)
        places: dict[str, list[int]] = {}
        nodes: dict[str, ast.expr] = {}
        named: dict[str, tuple[str, int]] = {}  # values given a name
        for position, statement in enumerate(statements):
            if isinstance(statement, (ast.For, ast.While)):
                continue  # its names change from one iteration to the next
            if isinstance(statement, ast.Assign) and isinstance(
                    statement.targets[0], ast.Name):
                named.setdefault(ast.unparse(statement.value),
                                 (statement.targets[0].id, position))
            for node in ast.walk(statement):
                if _is_work(node):
                    # By text: np.hypot is an attribute of np or one name.
                    key = ast.unparse(node)
                    places.setdefault(key, []).append(position)
                    nodes.setdefault(key, node)
        repeated = [k for k, p in places.items() if len(p) > 1]
        if not repeated:
            return statements
        key = max(repeated, key=lambda k: len(k))  # the largest first
        name, where = named.get(key, ("", -1))
        if where != places[key][0]:
            # Named where it is first computed: by its own name, moved
            # up from where it was named later, else as shared.
            if where >= 0:
                del statements[where]
            else:
                name = unique_name(_shared_name(nodes[key], statements),
                                   taken)
                taken.add(name)
            statements.insert(places[key][0], ast.Assign(
                [ast.Name(name, ast.Store())], nodes[key], None))
        replacer = _Replacing(key, name)
        statements = [s if isinstance(s, (ast.For, ast.While)) or (
            isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id == name)
            else replacer.visit(s) for s in statements]
    return statements


# Arrays made to be filled: two of them are two arrays, never one.
_BUFFERS = ("np.zeros_like", "np.zeros", "np.empty_like", "np.empty")


def _wrapped_assignment(statement: ast.stmt) -> bool:
    """``name = <arithmetic>``: a statement the wrapper breaks."""
    return (isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, (ast.BinOp, ast.UnaryOp)))


def _is_work(node: ast.AST) -> bool:
    """A call (not of an array to fill) or arithmetic of two operations
    or more: what is worth computing once."""
    if isinstance(node, ast.Call):
        return ast.unparse(node.func) not in _BUFFERS
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return not (isinstance(node.right, ast.Constant)
                    and node.right.value == 0)  # x ** 0: x's shape only
    return isinstance(node, ast.BinOp) and sum(
        isinstance(n, (ast.BinOp, ast.Call)) for n in ast.walk(node)) > 1


def _shared_name(node: ast.expr, statements: list[ast.stmt]) -> str:
    """``x_sq`` for ``x ** 2``, ``r_pow8`` for ``r_pow4 ** 2`` (a power
    of a name that holds a power, as scalar code names it), ``shared``
    for other values."""
    powers = {s.targets[0].id: s.value for s in statements
              if isinstance(s, ast.Assign) and isinstance(s.targets[0],
                                                          ast.Name)
              and _integer_power(s.value) is not None}
    power = _integer_power(node)
    if power is None:
        return "shared"
    base, exponent = power
    while base in powers:  # a name bound once: a power of its base
        inner, times = _integer_power(powers[base])  # type: ignore[misc]
        base, exponent = inner, exponent * times
    suffix = {2: "sq", 3: "cube"}.get(exponent, f"pow{exponent}")
    return f"{base}_{suffix}"


def _integer_power(node: ast.expr) -> tuple[str, int] | None:
    """``("x", 4)`` for ``(x ** 2) ** 2``, ``("x", 3)`` for ``x * x * x``:
    a name to a power of 2 or more."""
    factors = _factors(node)
    if len(factors) > 1 and all(ast.dump(f) == ast.dump(factors[0])
                                for f in factors):
        one = ((factors[0].id, 1) if isinstance(factors[0], ast.Name)
               else _integer_power(factors[0]))
        return None if one is None else (one[0], one[1] * len(factors))
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
            and isinstance(node.right, ast.Constant)
            and type(node.right.value) is int and node.right.value > 1):
        return None
    if isinstance(node.left, ast.Name):
        return node.left.id, node.right.value
    inner = _integer_power(node.left)
    return None if inner is None else (inner[0],
                                       inner[1] * node.right.value)


# Rounds of _shared at most (each names one value).
_LONGEST_SHARING = 20


class _Replacing(ast.NodeTransformer):
    def __init__(self, key: str, name: str) -> None:
        self.key, self.name = key, name

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.expr) and ast.unparse(node) == self.key:
            return ast.Name(self.name, ast.Load())
        node = self.generic_visit(node)
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
                and ast.unparse(node.left) == ast.unparse(
                    _squared(node.right))):
            # (a * b) ** 2 * (a * b), named: shared ** 3
            return ast.BinOp(node.right, ast.Pow(), ast.Constant(3))
        return node


def _factors(node: ast.expr) -> list[ast.expr]:
    """The factors of a product, ``[a, b, c]`` for ``a * b * c``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _squared(node: ast.expr) -> ast.expr:
    return ast.BinOp(node, ast.Pow(), ast.Constant(2))


def _unaliased(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` without ``a = b`` (two temporaries found to hold one
    value): ``a`` is read as ``b``. Each name is bound once, so this is
    the same code."""
    bound: dict[str, int] = {}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx,
                                                         ast.Store):
                bound[node.id] = bound.get(node.id, 0) + 1
    aliases = {s.targets[0].id: s.value.id for s in statements
               if isinstance(s, ast.Assign) and len(s.targets) == 1
               and isinstance(s.targets[0], ast.Name)
               and isinstance(s.value, ast.Name)
               and bound[s.targets[0].id] == 1
               and bound.get(s.value.id, 0) <= 1}
    if not aliases:
        return statements

    def original(name: str) -> str:
        while name in aliases:
            name = aliases[name]
        return name

    kept = [s for s in statements if not (
        isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
        and s.targets[0].id in aliases)]
    for statement in kept:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                node.id = original(node.id)
    return kept


def _read(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` without assignments to names nothing reads (a size
    ``n = x.shape[0]`` counted as a use where a shape was then written
    whole, ``x.shape``); generated code has no side effects but the arrays
    it fills, which are read."""
    while True:
        read = {node.id for statement in statements
                for node in ast.walk(statement)
                if isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)}
        kept = [s for s in statements if not (
            isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id not in read)]
        if len(kept) == len(statements):
            return kept
        statements = kept


# Calls that return a tuple, by its length: where the code reads each of
# its parts, it unpacks them from one call (sign, logdet = slogdet(a)).
_TUPLES = {"np.linalg.slogdet": 2}


def _part_of_call(node: Any) -> tuple[str, int] | None:
    """``(call, i)`` for ``call(...)[i]`` of a call in _TUPLES."""
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) in _TUPLES
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)):
        return ast.dump(node.value), node.slice.value
    return None


def _unpacked(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with ``a = f(x)[0]`` ... ``b = f(x)[1]`` written as
    ``a, b = f(x)`` where they name every part of the tuple: one call,
    not one per part. Only assignments to names may lie between them
    (nothing that fills an array the call reads)."""
    groups: list[dict[int, int]] = []
    open_: dict[str, dict[int, int]] = {}
    for position, statement in enumerate(statements):
        if not isinstance(statement, ast.Assign):
            # An array filled, or a branch: the next calls are others.
            groups += open_.values()
            open_ = {}
            continue
        part = _part_of_call(statement.value)
        if part is not None and isinstance(statement.targets[0], ast.Name):
            open_.setdefault(part[0], {}).setdefault(part[1], position)
    groups += open_.values()
    merged: dict[int, ast.stmt] = {}
    dropped: set[int] = set()
    for parts in groups:
        first = min(parts.values())
        call = statements[first].value.value  # type: ignore[attr-defined]
        if sorted(parts) != list(range(_TUPLES[ast.unparse(call.func)])):
            continue
        names = [statements[parts[i]].targets[0] for i in sorted(parts)]
        merged[first] = ast.Assign([ast.Tuple(names, ast.Store())], call,
                                   None)
        dropped |= set(parts.values()) - {first}
    return [merged.get(i, s) for i, s in enumerate(statements)
            if i not in dropped]


def _function_name(value: sp.Expr) -> str:
    """``tanh`` for a temporary holding a tanh of something long."""
    if isinstance(value, sp.Function):
        return _function_label(type(value))
    return "t"
