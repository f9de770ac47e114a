"""Rows of the array table for filling arrays: the scatter that is the
gradient of indexing, and what gradients do with scatters.

The gradient of ``x[index]`` writes the adjoint into zeros like ``x``: by
assignment where no element can be picked twice (``d[label] = -1``), with
``np.add.at`` (which adds up repeated indices) where it can. Several
pieces of one adjoint go into one array (``d[:3] = a; d[3:] += b``), into
the sum of the other terms where there is one (``d = p - q; d[rows,
labels] += -1``), and a scatter summed along the axes it fills is the
values themselves (``merged_scatters``, ``summed_scatter``).
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np
import sympy as sp

from ._array_ops import empty
from ._ops_core import EXPAND_DIMS, expanded_shape
from ._ops_create import ARANGE, CONSTANT
from ._ops_pairs import one_triangle
from ._program import ELEMENTWISE, ArrayOp, Program, Shape, Step
from ._spell import Slot, call, index

__all__ = ["SCATTER", "scatter", "shape_source", "merged_scatters",
           "summed_scatter", "float_dtype", "explicit"]


def _repeats(parts: tuple[Any, ...], program: Any,
             operands: tuple[Any, ...]) -> bool:
    """Whether this index can pick one element twice, so a gradient must
    add, not assign: any array of indices but one constant list of
    distinct non-negative integers, an np.arange as long as the index, or
    the rows and columns of one triangle (integer values alone pick one
    element)."""
    definitions = program.definition()

    def constants(part: Any) -> Any:
        if isinstance(part, tuple):
            return part
        step = definitions.get(operands[part.position])
        return step.option("values") if step and step.op is CONSTANT \
            else None

    advanced = [p for p in parts if isinstance(p, (Slot, tuple))]
    arrays = [p for p in advanced if isinstance(p, tuple)
              or program.leaves[operands[p.position]].shape]
    if not arrays:
        return False
    if len(advanced) == 1 and constants(advanced[0]) is not None:
        values = np.ravel(constants(advanced[0]))
        return bool((values < 0).any()) or len(set(values)) != len(values)
    # x[np.arange(n), labels]: the rows differ, so the pairs do, whatever
    # the labels (an arange as long as the index broadcasts to).
    shapes = [np.shape(p) if isinstance(p, tuple)
              else program.leaves[operands[p.position]].shape
              for p in advanced]
    whole = np.broadcast_shapes(*shapes)
    spanning = [definitions.get(operands[p.position])
                for p, shape in zip(advanced, shapes)
                if isinstance(p, Slot) and shape == whole]
    return not (any(_distinct(step) for step in spanning)
                or one_triangle(spanning))


def _distinct(step: Step | None) -> bool:
    """Whether ``step`` is an np.arange of distinct non-negative integers
    (an index that picks each element once, at any size)."""
    if step is None or step.op is not ARANGE:
        return False
    bounds = step.option("bounds")
    start = 0 if len(bounds) == 1 else bounds[0]
    stride = bounds[2] if len(bounds) == 3 else 1
    return isinstance(start, int) and start >= 0 and isinstance(
        stride, int) and stride > 0


def scatter(backward: Any, source: sp.Symbol, adjoint: sp.Expr,
            parts: tuple[Any, ...], slots: tuple[sp.Symbol, ...],
            name: str, distinct: bool = False) -> sp.Symbol:
    """Zeros like ``source`` with ``adjoint`` at ``parts`` (whose ``Slot``s
    are ``slots``), added up where an element may be picked twice (not
    when the caller knows the elements are ``distinct``)."""
    program = backward.program
    # A number is written as such (d[label] = -1), not named.
    values = program.materialize(adjoint, name) if adjoint.free_symbols \
        else adjoint
    operands = (shape_source(program, source), values) + slots
    moved = tuple(Slot(p.position + 1) if isinstance(p, Slot) else p
                  for p in parts)
    add = not distinct and _repeats(moved, program, operands)
    return program.add(SCATTER, operands, program.leaves[source].shape,
                       f"d_{source.name}", pieces=((moved, add),))


def shape_source(program: Any, symbol: sp.Symbol) -> sp.Symbol:
    """An array with the shape and dtype of ``symbol`` for zeros like it:
    ``logits`` rather than the log-softmax of it (which the gradient would
    compute only for its shape), where the elementwise expression defining
    ``symbol`` has an operand of its shape computed from the same inputs
    (so of its dtype); else ``symbol`` itself."""
    definitions = program.definition()
    step = definitions.get(symbol)
    if step is None or step.op is not ELEMENTWISE:
        return symbol
    shape = program.leaves[symbol].shape
    inputs = _inputs(program, symbol, definitions)
    for operand in sorted(step.operands[0].free_symbols, key=str):
        if (operand in program.leaves
                and program.leaves[operand].shape == shape
                and _inputs(program, operand, definitions) == inputs):
            return operand
    return symbol


def _inputs(program: Any, symbol: sp.Symbol,
            definitions: dict[sp.Symbol, Step]) -> frozenset[sp.Symbol]:
    """The values ``symbol`` is computed from that decide its dtype: the
    arguments, data and created arrays it reads (booleans, which promote
    nothing, left out)."""
    found: set[sp.Symbol] = set()
    pending, seen = [symbol], set()
    while pending:
        current = pending.pop()
        if current in seen or current not in program.leaves:
            continue
        seen.add(current)
        step = definitions.get(current)
        uses = step.uses() if step is not None else set()
        if not uses and not program.leaves[current].boolean:
            found.add(current)
        pending.extend(uses)
    return frozenset(found)


def float_dtype(program: Any, symbol: sp.Symbol) -> str | None:
    """How generated code spells the dtype of ``symbol``'s values where it
    is a float other than float64 (``np.float32``), for a count that must
    not promote them (float32 / int64 is float64): NumPy's promotion of
    the floating inputs it is computed from (the code is generated for
    their dtypes). None for float64, and where an input's dtype is not
    known (a created array)."""
    dtypes = []
    for found in _inputs(program, symbol, program.definition()):
        leaf = program.leaves[found]
        if leaf.integer:
            continue
        if leaf.dtype is None:
            return None
        dtypes.append(leaf.dtype)
    if not dtypes:
        return None
    dtype = np.result_type(*dtypes)
    if dtype.kind != "f" or dtype == np.float64:
        return None
    return f"np.{dtype.type.__name__}"


def merged_scatters(program: Any, symbol: sp.Symbol,
                    values: list[sp.Expr],
                    read_elsewhere: Callable[[], set[sp.Symbol]] = set
                    ) -> list[sp.Expr]:
    """``values`` (terms of ``symbol``'s adjoint) with the scatters into
    zeros like ``symbol`` made one: one array of zeros, each piece added
    into it (``d[:3] = a; d[3:] += b``), not one array per piece.
    ``read_elsewhere``: what the adjoints not yet summed (and those
    finished) read besides the program's steps."""
    definitions = program.definition()
    like = shape_source(program, symbol)
    scatters = [v for v in values if isinstance(v, sp.Symbol)
                and v in definitions and definitions[v].op is SCATTER
                and definitions[v].operands[0] == like
                and not definitions[v].option("base")]
    if len(scatters) < 2:
        return _added_into(program, symbol, values, scatters)
    operands: list[Any] = [like]
    pieces = []
    for scattered in scatters:
        step = definitions[scattered]
        offset = len(operands) - 1
        operands.extend(step.operands[1:])
        for parts, add in step.option("pieces"):
            pieces.append((tuple(Slot(p.position + offset)
                                 if isinstance(p, Slot) else p
                                 for p in parts), add))
    merged = set(scatters)
    if merged & (read_elsewhere() | {
            read for step in program.steps if step.target not in merged
            for read in step.uses()}):
        # A scatter read elsewhere too (the adjoint of t = z + b is z's
        # and b's) keeps its own pieces: the merged one is a new step.
        joined = program.add(SCATTER, tuple(operands),
                             program.leaves[symbol].shape,
                             f"d_{symbol.name}", pieces=tuple(pieces))
    else:  # (in the place of the scatters, with the first one's name)
        joined = program.join(scatters, SCATTER, tuple(operands),
                              pieces=tuple(pieces))
    return _added_into(program, symbol, [v for v in values
                                         if v not in scatters] + [joined],
                       [joined])


def _added_into(program: Any, symbol: sp.Symbol, values: list[sp.Expr],
                scatters: list[sp.Symbol]) -> list[sp.Expr]:
    """``values`` with a scatter into zeros and the other terms, of the
    whole shape of ``symbol``, made one: the pieces added into the sum of
    the others (``d = p - q; d[rows, labels] += -1``), as a person writes
    it, not into zeros then added (two more passes: 1.31x -> 1.06x the
    hand-written gradient of a cross-entropy at integer labels). A new
    step: the scatter may be read elsewhere."""
    rest = [v for v in values if v not in scatters]
    shape = program.leaves[symbol].shape
    if len(scatters) != 1 or not rest or not shape or program.shape(
            sp.Add(*rest)) != shape or not _floating(
                program, sp.Add(*rest), program.definition()):
        return values
    step = program.definition()[scatters[0]]
    base = program.materialize(sp.Add(*rest), f"d_{symbol.name}_terms")
    return [program.add(SCATTER, (base,) + step.operands[1:], shape,
                        f"d_{symbol.name}", pieces=step.option("pieces"),
                        base=True)]


def certainly_floats(program: Any, expr: sp.Basic) -> bool:
    """Whether ``expr`` is certainly an array (or number) of floats."""
    return _floating(program, expr, program.definition())


def _floating(program: Any, expr: sp.Basic,
              definitions: dict[sp.Symbol, Step]) -> bool:
    """Whether ``expr`` is certainly an array of floats (so float values
    can be added into it in place): computed from a float input by
    arithmetic, functions and array operations that keep floats. False
    where that is not known (an array of ones, a constant array)."""
    if isinstance(expr, sp.Symbol):
        leaf = program.leaves.get(expr)
        if leaf is None or leaf.integer or leaf.boolean:
            return False
        if leaf.floats:
            return True
        if leaf.dtype is not None:
            return np.dtype(leaf.dtype).kind == "f"
        step = definitions.get(expr)
        if step is None:
            return False
        return any(_floating(program, operand, definitions)
                   for operand in step.operands
                   if isinstance(operand, sp.Basic))
    if isinstance(expr, sp.Number):
        return not expr.is_Integer
    if isinstance(expr, sp.Pow) and expr.exp.is_negative:
        return True  # written as a division
    if isinstance(expr, (sp.Add, sp.Mul, sp.Pow)):
        return any(_floating(program, a, definitions) for a in expr.args)
    # A function of floats (np.where of a float branch) gives floats.
    return isinstance(expr, sp.Function) and any(
        _floating(program, a, definitions) for a in expr.args)


def summed_scatter(program: Any, value: sp.Expr, axes: tuple[int, ...],
                   target: tuple[int, ...]) -> sp.Expr | None:
    """The sum over ``axes`` of ``value`` (a scatter into zeros, times
    scalars), of shape ``target``, without the scatter: where each index
    picks one element of every line along ``axes`` and every line has one
    (``d[np.arange(n), labels] = v`` summed along axis 1, ``d[label] = v``
    summed whole), the sum is the values themselves. None elsewhere.

    The gradient of a log-softmax picked at labels sums its scatter so: the
    sum would cost a pass over the zeros (and one more to negate them):
    without it that gradient took 1.52x a hand-written one on 1000 x 1000
    logits, with it 1.31x (benchmarks/bench_numpy_ops.py)."""
    coefficient, scattered = value.as_coeff_Mul() if isinstance(
        value, sp.Mul) else (sp.S.One, value)
    if isinstance(scattered, sp.Mul):
        arrays = [f for f in scattered.args if program.shape(f)]
        if len(arrays) != 1:
            return None
        coefficient *= sp.Mul(*[f for f in scattered.args if f not in arrays])
        scattered = arrays[0]
    step = program.definition().get(scattered)
    if step is None or step.op is not SCATTER or step.option("base") or \
            len(step.option("pieces")) != 1:
        return None
    (parts, add), = step.option("pieces")
    shape = program.leaves[scattered].shape
    if add or len(parts) != len(shape) or not all(
            isinstance(p, (int, Slot)) for p in parts):
        return None
    operands = step.operands

    def part_shape(part: Any) -> tuple[int, ...]:
        return (program.leaves[operands[part.position]].shape
                if isinstance(part, Slot) else ())

    picked = np.broadcast_shapes(*[part_shape(p) for p in parts])
    kept = [i for i in range(len(shape)) if i not in axes]
    values = operands[1]
    filled = program.definition().get(values)
    if filled is not None and filled.op is ELEMENTWISE and not sp.sympify(
            filled.operands[0]).free_symbols:
        values = filled.operands[0]  # a number, written as such
    if program.shape(values) not in ((), picked):
        return None
    if not kept:
        return coefficient * values if picked == () else None
    if len(kept) != 1:
        return None
    (axis,) = kept
    rows = parts[axis]
    definition = program.definition().get(
        operands[rows.position]) if isinstance(rows, Slot) else None
    # The rows are np.arange(n) of the size read at run time, so every row
    # is picked once at any size (a constant np.arange(4) would not be).
    size = program.size(operands[0], axis)
    if (definition is None or definition.op is not ARANGE
            or definition.option("bounds") != (size,)
            or not isinstance(size, sp.Symbol) or picked != (shape[axis],)):
        return None
    if not program.shape(values) or target == (shape[axis],):
        return coefficient * values
    if target != expanded_shape((shape[axis],), tuple(sorted(axes))):
        return None
    return coefficient * program.add(
        EXPAND_DIMS, (values,), target, f"{values.name}_expanded",
        axis=tuple(sorted(axes)))


def _spell_scatter(step: Step, args: list[ast.expr],
                   name: str) -> list[ast.stmt]:
    """``d = np.zeros_like(a); d[index] = values``, then ``d[index] +=
    values`` for each further piece (``np.add.at(d, index, values)`` where
    an index repeats): written into a fresh array, never into an input.
    With ``base``, the pieces are added into ``a``: the array its
    arithmetic makes, else a copy (a named value may be read again)."""
    base = step.option("base")
    # (an array the line itself makes is filled as it is: np.zeros((n,
    # 2)), not np.zeros_like(np.zeros((n, 2))))
    made = ast.unparse(args[0].func) if isinstance(args[0], ast.Call) \
        else None
    if base:
        first = args[0] if isinstance(args[0], (
            ast.BinOp, ast.UnaryOp)) or made in _NEW else call(
            "np.copy", [args[0]])
    else:
        first = args[0] if made in _ZEROS else call("np.zeros_like",
                                                    [args[0]])
    statements: list[ast.stmt] = [ast.Assign(
        [ast.Name(name, ast.Store())], first, None)]
    position = 1
    pieces = []
    for parts, add in step.option("pieces"):
        pieces.append((parts, add, args[position]))
        position += 1 + sum(isinstance(p, Slot) for p in parts)
    distinct = not base and _at_distinct_numbers(pieces)
    if distinct:  # d[0] = a; d[1] = b, as a person fills an array
        pieces.sort(key=lambda piece: piece[0][0])
    for number, (parts, add, values) in enumerate(pieces):
        key = index(parts, args)
        if add:
            if any(isinstance(p, slice) or p is Ellipsis for p in parts):
                key = ast.Subscript(ast.Attribute(
                    ast.Name("np", ast.Load()), "s_", ast.Load()), key,
                    ast.Load())
            statements.append(ast.Expr(call(
                "np.add.at", [ast.Name(name, ast.Load()), key, values])))
            continue
        target = ast.Subscript(ast.Name(name, ast.Load()), key, ast.Store())
        if number == 0 and not base or distinct:
            statements.append(ast.Assign([target], values, None))
        elif isinstance(values, ast.UnaryOp) and isinstance(values.op,
                                                            ast.USub):
            statements.append(ast.AugAssign(target, ast.Sub(),
                                            values.operand))  # d[i] -= 1
        else:
            statements.append(ast.AugAssign(target, ast.Add(), values))
    return statements


# Calls that make a new array of zeros, and of any values.
_ZEROS = frozenset(("np.zeros", "np.zeros_like"))
_NEW = _ZEROS | {"np.ones", "np.ones_like", "np.full", "np.full_like",
                 "np.copy"}


def _at_distinct_numbers(pieces: list[tuple[Any, ...]]) -> bool:
    """Whether each piece fills one item at a constant index, no two the
    same (of one sign: d[-1] may be d[2]), so none adds to another."""
    keys = [parts[0] for parts, add, _ in pieces
            if not add and len(parts) == 1 and isinstance(parts[0], int)
            and not isinstance(parts[0], bool)]
    return len(keys) == len(pieces) and len(set(keys)) == len(keys) and (
        all(k >= 0 for k in keys) or all(k < 0 for k in keys))


def explicit(index: tuple[Any, ...], rank: int) -> tuple[Any, ...]:
    """``index`` with ``...`` written out as slices, so that it still
    selects the same leading axes of an array with more axes after them."""
    if Ellipsis not in index:
        return index
    used = sum(1 for part in index if part is not None and part is not
               Ellipsis)
    at = index.index(Ellipsis)
    return index[:at] + (slice(None),) * (rank - used) + index[at + 1:]


def _scatter_jvp(forward: Any, step: Step) -> sp.Expr:
    # Linear in the values (and in the base): the values' tangents put at
    # the same places, into zeros, or into the base's tangent; pieces of
    # constant values (a cross-entropy's -1 at its labels) put nothing.
    like = step.operands[0]
    program = forward.program
    shape = forward.shape(step.target) + forward.batch
    rank = len(forward.shape(step.target))
    base = bool(step.option("base")) and like in forward.tangent
    operands: list[Any] = [like]
    pieces = []
    position = 1  # of the piece's values among the step's operands
    for parts, add in step.option("pieces"):
        slots = sum(1 for p in parts if isinstance(p, Slot))
        values = step.operands[position]
        if values in forward.tangent:
            offset = len(operands) - position
            operands.append(forward.full_tangent(values))
            operands.extend(step.operands[position + 1:position + 1 + slots])
            pieces.append((explicit(tuple(
                Slot(p.position + offset) if isinstance(p, Slot) else p
                for p in parts), rank), add))
        position += 1 + slots
    if not pieces:
        return forward.tangent[like] if base else sp.S.Zero
    if base or forward.batch:
        # zeros like the tangent of what it is the adjoint of (the
        # identity, for a Hessian), which has the shape wanted
        operands[0] = forward.full_tangent(like)
    return program.add(SCATTER, tuple(operands), shape,
                       f"{step.target.name}_tangent", pieces=tuple(pieces),
                       **({"base": True} if base else {}))


def _scatter_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    # Each piece's values get the adjoint at their index (summed back where
    # they were broadcast, d[1:] = 1); a base gets all of it. Read back
    # from printed code (closure), a filled array is such a step.
    from ._ops_index import GETITEM  # it imports this module (scatter)
    program = backward.program
    like, *rest = step.operands
    shape = program.leaves[step.target].shape
    if step.option("base") and like in backward.active:
        backward.contribute(like, adjoint, shape)
    full = None
    position = 0
    for parts, _ in step.option("pieces"):
        values = rest[position]
        slots = tuple(rest[position + 1:position + 1 + sum(
            isinstance(p, Slot) for p in parts)])
        if values in backward.active and not program.shape(adjoint) and \
                not backward.batch and program.leaves[values].shape == \
                _picked(program, shape, parts, slots):
            # The same adjoint for every element (the seed of a sum): so
            # for the items filled, not an item of it broadcast.
            backward.contribute(values, adjoint)
        elif values in backward.active:
            if full is None:
                full = backward.full(adjoint, shape, f"d_{step.target.name}")
            moved, count = [], 0
            for part in parts:
                if isinstance(part, Slot):
                    count += 1
                    moved.append(Slot(count))
                else:
                    moved.append(part)
            picked_shape = _picked(program, shape, parts, slots)
            picked = program.add(GETITEM, (full,) + slots, picked_shape,
                                 f"d_{values.name}", index=tuple(moved))
            backward.contribute(values, picked, picked_shape)
        position += 1 + len(slots)


def _picked(program: Program, shape: Shape, parts: tuple[Any, ...],
            slots: tuple[sp.Symbol, ...]) -> Shape:
    """The shape of the items an index of ``parts`` (its arrays of
    indices the ``slots``) picks from an array of ``shape``."""
    probes, count = [], 0
    for part in parts:
        if isinstance(part, Slot):
            probes.append(np.zeros(program.leaves[slots[count]].shape,
                                   dtype=np.intp))
            count += 1
        else:
            probes.append(np.array(part, dtype=np.intp)
                          if isinstance(part, tuple) else part)
    return empty(shape)[tuple(probes)].shape


# operands (like, values, *slots, values, *slots, ...): zeros like
# ``like`` with each piece's values added at its index (``pieces``: the
# index parts of each, and whether it repeats elements); with ``base``,
# ``like`` itself with the pieces added.
SCATTER = ArrayOp("scatter", spell=_spell_scatter, vjp=_scatter_vjp,
                  jvp=_scatter_jvp, statement=True, any_size=True)
