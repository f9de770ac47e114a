"""Codegen stage for array programs: a spec -> a readable NumPy function.

Here are the spec, the function around the body (its docstring, one
``if`` per condition on scalars, the literals it returns) and the check
at its top: that arrays have the shapes the code was generated for,
where it bakes sizes in, or that sizes the function needs equal are
(``_size_checks``), where no step of the code compares them any more.
The body is written by ``_array_writer`` (printing with
``_array_printer``, then tidied by ``_array_passes``); long lines are
laid out by ``_array_layout``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import sympy as sp

from ._array_diagonals import diagonals_written
from ._array_dots import sums_as_dots
from ._array_layout import INLINED_LENGTHS, wrap_call
from ._array_passes import shared_with_tests
from ._array_printer import ArrayPrinter
from ._array_singular import removable_singularities_written
from ._array_writer import ArrayWriter
from ._program import SIZE, Program, Step
from ._size_checks import SizeChecks, size_checks
from ._unparse import Literal, readable_string, to_source
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
    # The last parameters' defaults, as the user's function has them.
    defaults: tuple[Any, ...] = ()
    # Where functions are spelled from: "math" for code on numbers the
    # user wrote with math (a while loop of math.sin), else "numpy".
    namespace: str = "numpy"
    # The int arguments whose values the code bakes in (np.linspace's
    # count, a loop unrolled), with those values.
    counts: dict[str, int] = field(default_factory=dict)
    # How many of the last parameters are keyword-only (``*, k=2.0``), as
    # in the user's function: the printed source is called as it is.
    keyword_only: int = 0
    # What the function computes (the outputs it was lowered to): the
    # sizes it requires to match are checked where the code does not.
    meant: Sequence[Any] = ()
    # The steps of the user's function (the others are a derivative's):
    # their values are as the function computes them.
    as_written: frozenset[sp.Symbol] = frozenset()


def generate_array_source(spec: ArrayFunctionSpec) -> str:
    """The source of ``spec``'s function; outputs that are ``Literal``s
    (aux strings, bools) are returned as written, in their places."""
    literals = {i: o for i, o in enumerate(spec.outputs)
                if isinstance(o, Literal)}
    computed = [i for i in range(len(spec.outputs)) if i not in literals]
    spec = replace(spec, outputs=[spec.outputs[i] for i in computed],
                   output_names=[spec.output_names[i] for i in computed],
                   shaped_like=[spec.shaped_like[i] for i in computed])
    spec = sums_as_dots(diagonals_written(
        removable_singularities_written(spec)))
    text = _source(spec, literals, len(computed), inlined=None)
    for inlined in INLINED_LENGTHS:
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
    branches = _branches(spec, inlined)
    if any(isinstance(statement, ast.If) for statement in branches):
        taken = set(spec.params) | {
            node.id for statement in branches for node in ast.walk(statement)
            if isinstance(node, ast.Name)}
        branches = shared_with_tests(branches, taken)
    body += branches
    if literals:
        for statement in body:
            for node in ast.walk(statement):
                if isinstance(node, ast.Return):
                    node.value = _with_literals(node.value, count,
                                                literals)
    function = ast.FunctionDef(name=spec.name, args=_arguments(spec),
                               body=body, decorator_list=[], returns=None,
                               type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        function.type_params = []
    module = ast.fix_missing_locations(ast.Module([function], []))
    def strings(text: str, *args: Any, **kwargs: Any) -> str:
        if text == docstring:
            return f'"""{_escaped(text)}"""'
        return readable_string(text, *args, **kwargs)

    text = "".join(wrap_call(line) for line in _wrap(
        to_source(module, strings)).splitlines(keepends=True))
    check = _shape_check(spec) or _size_check(spec)
    if not check:
        return text
    docstring = ast.parse(text).body[0].body[0]  # type: ignore[attr-defined]
    lines = text.splitlines(keepends=True)
    return "".join(lines[:docstring.end_lineno] + [check]
                   + lines[docstring.end_lineno:])


def _arguments(spec: ArrayFunctionSpec) -> ast.arguments:
    """The function's parameters, the last ``spec.keyword_only`` of them
    after a bare ``*``; the defaults are the tail of all of them."""
    split = len(spec.params) - spec.keyword_only
    first = len(spec.params) - len(spec.defaults)  # the first with one
    defaults: list[ast.expr | None] = [None] * first + [
        ast.Constant(d) for d in spec.defaults]
    return ast.arguments(
        posonlyargs=[], args=[ast.arg(p) for p in spec.params[:split]],
        vararg=None, kwonlyargs=[ast.arg(p) for p in spec.params[split:]],
        kw_defaults=defaults[split:], kwarg=None,
        defaults=[d for d in defaults[:split] if d is not None])


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
    sizes = _sizes_of(spec)
    reasons = list(dict.fromkeys(
        spec.program.baked + [
            reason for step in spec.program.steps
            for reason in [_baked_by(step, step.target in needed)]
            if reason])) or sizes.fixed
    # The arrays the code reads, and those whose sizes the function read.
    read = needed | sizes.fixed_inputs | {
        step.operands[0] for step in spec.program.steps if step.op is SIZE}
    arrays = sorted((symbol for symbol in read
                     if symbol not in definition
                     and symbol in spec.program.leaves
                     and spec.program.leaves[symbol].kind in ("param", "data")
                     and spec.program.leaves[symbol].shape),
                    key=lambda symbol: symbol.name)
    if not reasons or not (arrays or spec.counts):
        return ""
    tests, described = [], []
    for symbol in arrays:
        leaf = spec.program.leaves[symbol]
        read = leaf.access or symbol.name
        tests.append(f"{read}.shape != {leaf.shape!r}")
        described.append(f"{read} of shape {leaf.shape!r}")
    for name, value in spec.counts.items():
        tests.append(f"{name} != {value!r}")
        described.append(f"{name} = {value!r}")
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


def _sizes_of(spec: ArrayFunctionSpec) -> SizeChecks:
    # (kept with the spec: each layout tried for long lines asks again)
    known = spec.__dict__.get("_sizes")
    if known is None:
        known = spec.__dict__["_sizes"] = size_checks(
            spec.program, spec.outputs, spec.meant, spec.params)
    return known


def _size_check(spec: ArrayFunctionSpec) -> str:
    """A check at the code's top that inputs whose sizes the function
    needs equal have them, where no step of the code needs it any more
    (``np.sum(x * y)``'s gradient ``y``): NumPy raises for the function,
    so the code raises too, instead of answering for other sizes."""
    checks = _sizes_of(spec)
    if not checks.equal:
        return ""
    lines = _unequal(checks.equal)
    lines.append("        raise ValueError(")
    lines += [f"            {piece}" for piece in _shapes_message(
        checks.arrays, _WIDTH - 12 - 1)]
    lines[-1] += ")"
    return "".join(line + "\n" for line in lines)


def _unequal(pairs: list[tuple[str, str]]) -> list[str]:
    """``if a != b or c != d:`` on one line if it fits, else in
    parentheses, broken before ``or`` and ``!=`` where a line is full."""
    one = "    if " + " or ".join(f"{a} != {b}" for a, b in pairs) + ":"
    if len(one) <= _WIDTH:
        return [one]
    words = [word for i, (a, b) in enumerate(pairs)
             for word in (("or " if i else "") + a, "!= " + b)]
    lines = ["    if (" + words[0]]
    for word in words[1:]:
        if len(lines[-1] + " " + word) + len("):") <= _WIDTH:
            lines[-1] += " " + word
        else:
            lines.append("            " + word)
    lines[-1] += "):"
    return lines


def _shapes_message(arrays: list[str], width: int) -> list[str]:
    """The literals of the message that ``arrays`` do not fit together,
    with their shapes (f-strings), in pieces at most ``width`` long."""
    plain = any(set(array) & set('"\\{}') for array in arrays)
    if plain:
        # (an f-string cannot hold such a key before Python 3.12)
        shapes = arrays
    else:
        shapes = [f"{array} of shape {{{array}.shape}}" for array in arrays]
    message = (f"{shapes[0]} does not fit {shapes[1]}" if len(shapes) == 2
               else f"{', '.join(shapes[:-1])} and {shapes[-1]} do not fit "
               "together" if len(shapes) > 2
               else f"{shapes[0]} does not have the sizes the function "
               "needs")
    # (cut between words, but not inside {...}, which may hold a key)
    words = re.findall(r"(?:\{[^}]*\}|[^ ])+ ?", message)
    pieces = [""]
    for word in words:
        if pieces[-1] and len(repr(pieces[-1] + word)) + 1 > width:
            pieces.append("")
        pieces[-1] += word
    return [("f" if "{" in piece and not plain else "") + repr(piece)
            for piece in pieces]


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
        return ArrayWriter(spec, inlined).statements()
    printer = ArrayPrinter("numpy", {})
    spec, unpacked = _items_tested(spec, condition)
    return unpacked + (
        [ast.If(printer(condition),
                _branches(_specialized(spec, condition, True), inlined),
                [])]
        + _branches(_specialized(spec, condition, False), inlined))


def _items_tested(spec: ArrayFunctionSpec, condition: sp.Basic
                  ) -> tuple[ArrayFunctionSpec, list[ast.stmt]]:
    """The items of arguments ``condition`` tests, read before it (``if
    options_0 != 0:`` after ``options_0 = options[0]``), and ``spec``
    where the branches no longer read them again."""
    leaves = spec.program.leaves
    tested = sorted((s for s in condition.free_symbols
                     if s in leaves and leaves[s].access),
                    key=lambda s: s.name)
    if not tested:
        return spec, []
    unpacked = [ast.parse(f"{s.name} = {leaves[s].access}").body[0]
                for s in tested]
    program = Program(leaves={**leaves, **{
        s: replace(leaves[s], access=None) for s in tested}},
        names=spec.program.names)
    program.steps = spec.program.steps
    return replace(spec, program=program), unpacked


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
    # A flag (a bool argument) is also a number where a derivative
    # expanded it, t * E(1) + (1 - t) * E(0): there it is 1 or 0.
    as_number = {condition: sp.Integer(holds)} \
        if isinstance(condition, sp.Symbol) else {}

    def decided(value: Any) -> Any:
        if not isinstance(value, sp.Basic):
            return value
        value = value.replace(
            lambda e: isinstance(e, sp.Piecewise),
            lambda p: sp.Piecewise(*[(e, c.xreplace(known))
                                     for e, c in p.args]))
        return value.xreplace(as_number).xreplace(known) if isinstance(
            value, sp.Expr) else value.xreplace(known)

    program = Program(leaves=spec.program.leaves, names=spec.program.names)
    program.steps = [Step(step.target, step.op,
                          tuple(decided(o) for o in step.operands),
                          step.options) for step in spec.program.steps]
    return ArrayFunctionSpec(spec.name, spec.params, spec.docstring, program,
                             [decided(o) for o in spec.outputs],
                             spec.output_names, spec.labels, spec.shaped_like,
                             counts=spec.counts)
