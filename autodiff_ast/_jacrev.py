"""Differentiate stage for array programs: Jacobians in reverse mode.

Forward mode pushes the identity over the input (n x n) through every
array the code computes; for an output of m elements reverse mode costs
O(m n) instead (f: R^n -> R^3 at n = 10^4: 240 KB per array, not 800 MB).
Each output's Jacobian is written as a person would write it:

- of a number: its gradient (``_backward``'s reverse pass, every op);
- of ``np.stack`` of a few values: ``np.stack`` of their Jacobians, so
  three reductions of a vector give three gradient rows;
- of an array: one reverse pass over a batch of cotangents, the identity
  over the output (``np.eye(out.size)``, read when the code runs, reshaped
  to ``out.shape + out.shape``). The batch axes come first, as in JAX's
  layout ``out.shape + in.shape``: a cotangent of a value ``v`` has shape
  ``out.shape + v.shape``, so it broadcasts against the partial
  derivatives of an elementwise region (of ``v``'s shape) as they are.
  An array operation's row says whether its vjp rule takes the batch
  (``ArrayOp.batched``); the gradient's pass runs the same rules.

Where a step the output needs has no batched rule (or is a loop), the
caller takes forward mode: correct, only slower. It also does for an
output with as many elements as the arguments or more, where forward mode
costs no more (``_array_transforms._jacobian``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ._array_codegen import _baked_by
from ._backward import (check_ones, computed_values, first_of_shape,
                        gradients)
from ._differentiate import checked_partial
from ._ops_assemble import CONCATENATE, STACK
from ._ops_core import (BROADCAST_TO, EXPAND_DIMS, SUM, expanded_shape,
                        reshaped)
from ._ops_create import EYE, ZEROS, ZEROS_LIKE
from ._ops_index import GETITEM
from ._ops_linalg import diagonal_scale
from ._ops_scatter import float_dtype
from ._program import Program, Step
from ._simplify import simplified_reading, simplify

__all__ = ["reverse_jacobian"]

# np.stack of more values than this is an array to the batched pass: its
# Jacobian as rows would be code as long as the output.
_ROWS = 16


def reverse_jacobian(program: Program, output: Any, wrt: list[sp.Symbol],
                     where: str) -> list[sp.Symbol] | None:
    """d output / d each of ``wrt`` (shape ``output.shape + w.shape``) in
    reverse mode, appending steps to ``program``; None where a step it
    needs has no batched rule (the caller then takes forward mode; the
    program is then left as it was)."""
    if not _reversible(program, output, wrt):
        return None
    return _built(program, output, wrt, where)


def _built(program: Program, output: Any, wrt: list[sp.Symbol],
           where: str) -> list[sp.Symbol]:
    if not isinstance(output, sp.Basic) or not output.free_symbols:
        return [_zeros(symbol, program) for symbol in wrt]
    if not program.shape(output):
        return gradients(program, output, wrt, where)
    step = _stack_of_rows(program, output)
    if step is not None:
        return _stacked(program, step, wrt, where)
    return _Batched(program, output, wrt, where).run(output)


def _reversible(program: Program, output: Any,
                wrt: list[sp.Symbol]) -> bool:
    """Whether reverse_jacobian has a rule for every step ``output``
    needs (it looks only: a name taken would rename forward mode's)."""
    if not isinstance(output, sp.Basic) or not program.shape(output):
        return True
    step = _stack_of_rows(program, output)
    if step is not None:
        return all(_reversible(program, item, wrt) for item in step.operands)
    return all(len(step.results()) == 1 and step.option("loop") is None
               and step.op.takes_batch(program, step)
               for step in program.active_steps([output], wrt))


def _stack_of_rows(program: Program, output: sp.Basic) -> Step | None:
    """The np.stack of a few values that computes ``output``, if it is."""
    step = program.definition().get(output)
    if step is not None and step.op is STACK and len(
            step.operands) <= _ROWS:
        return step
    return None


def has_loop(program: Program, outputs: list[Any],
             wrt: list[sp.Symbol]) -> bool:
    """Whether a kept loop computes what ``outputs`` need from ``wrt``
    (forward mode carries their tangents in it instead)."""
    steps = program.active_steps(outputs, wrt)
    return any(step.option("loop") is not None or len(step.results()) > 1
               for step in steps)


def _zeros(symbol: sp.Symbol, program: Program) -> sp.Symbol:
    """The Jacobian of a number (a constant row of np.stack)."""
    return program.add(ZEROS_LIKE, (symbol,), program.leaves[symbol].shape,
                       f"zeros_like_{symbol.name}")


def _stacked(program: Program, step: Step, wrt: list[sp.Symbol],
             where: str) -> list[sp.Symbol]:
    """The Jacobian of ``np.stack(items, axis)``: ``np.stack`` of the
    items' Jacobians along the same axis."""
    rows = [_built(program, item, wrt, where) for item in step.operands]
    axis = step.option("axis")
    shape = program.leaves[step.target].shape
    blocks = []
    for j, symbol in enumerate(wrt):
        parts = tuple(program.materialize(row[j], "row") for row in rows)
        blocks.append(program.add(
            STACK, parts, shape + program.leaves[symbol].shape,
            f"d_{step.target.name}_d_{symbol.name}", axis=axis))
    return blocks


def _sizes(program: Program, output: Any) -> tuple[Any, ...]:
    """``output``'s shape as generated code reads it; a concatenation's
    from its pieces, its length their lengths' sum (not from the array,
    which the Jacobian would compute only for its size)."""
    step = program.definition().get(output)
    if step is None or step.op is not CONCATENATE:
        return program.shape_of(output)
    axis = step.option("axis")
    sizes = program.shape_of(step.operands[0])
    total = sp.Add(*[program.size(item, axis) for item in step.operands])
    return sizes[:axis] + (total,) + sizes[axis + 1:]


class _Batched:
    """Reverse mode with a batch of cotangents: the adjoint of a value of
    shape ``V`` has shape ``batch + R``, ``R`` of ``V``'s rank or more
    (an elementwise region it was broadcast into), broadcasting to ``V``;
    contributions are summed back to ``V``'s rank when they are all in."""

    def __init__(self, program: Program, output: Any, wrt: list[sp.Symbol],
                 where: str) -> None:
        self.program = program
        self.wrt = wrt
        self.where = where
        self.batch = program.shape(output)
        self.batch_sizes = _sizes(program, output)  # read when it runs
        self.rank = len(self.batch)
        self.steps = program.active_steps([output], wrt)
        self.active = set(wrt).union(*[s.results() for s in self.steps])
        self.adjoints: dict[sp.Symbol, list[sp.Expr]] = {}
        self.current: Step | None = None
        # A forward value a partial derivative computes again is read.
        self.computed = computed_values(program)

    def run(self, output: sp.Expr) -> list[sp.Symbol]:
        self.elementwise(output, self.seed(output))
        for step in reversed(self.steps):
            # A step written for fixed sizes fixes its adjoint's, though
            # the Jacobian may not compute the step itself: the code then
            # checks the shapes it was made for.
            reason = _baked_by(step, used=True)
            if reason:
                self.program.baked.append(reason)
            if step.target in self.adjoints:
                self.vjp(step, self.total(step.target))
        if self.program.baked:
            # The shape check then covers the arguments, which the
            # Jacobian may not read (of a linear map, say).
            for symbol in self.wrt:
                self.program.size(symbol, None)
        return [self.final(symbol) for symbol in self.wrt]

    def seed(self, output: sp.Expr) -> sp.Symbol:
        """The identity over ``output``: ``np.eye(out.size)``, reshaped to
        ``out.shape + out.shape`` (in the argument's float dtype: a
        float64 seed would make float32 code compute in float64)."""
        size = int(sp.Mul(*self.batch))
        step = self.program.definition().get(output)
        rows = sp.Mul(*self.batch_sizes) if step is not None and (
            step.op is CONCATENATE) else self.program.size(output, None)
        eye = self.program.add(
            EYE, (), (size, size), "eye", rows=rows, columns=None, k=None,
            dtype=float_dtype(self.program, self.wrt[0]))
        if self.rank == 1:
            return eye
        return reshaped(self.program, eye, self.batch_sizes * 2,
                        "d_output")

    def vjp(self, step: Step, adjoint: sp.Expr) -> None:
        """Contributions of ``adjoint`` through ``step``, by its row."""
        self.current = step
        try:
            step.op.vjp(self, step, adjoint)
        finally:
            self.current = None

    # -- adjoints ------------------------------------------------------------

    def contribute(self, symbol: sp.Symbol, value: sp.Expr,
                   region: tuple[Any, ...] | None = None,
                   witness: sp.Basic | None = None) -> None:
        """Add ``value`` to the adjoint of ``symbol``; a ``region`` (of the
        shape of ``witness`` when the code runs, by default the result of
        the step being differentiated) is one ``value`` was broadcast
        over, and summed back from when all contributions are in."""
        if region is not None:
            if witness is None and self.current is not None:
                witness = self.current.target
            check_ones(self.program, symbol, region, witness)
        if symbol in self.active and value != 0:
            self.adjoints.setdefault(symbol, []).append(value)

    def total(self, symbol: sp.Symbol) -> sp.Expr:
        """The adjoint of ``symbol``, of its rank (plus the batch's): each
        rank of contributions summed, then summed back over the axes it
        was broadcast along."""
        by_rank: dict[int, list[sp.Expr]] = {}
        for value in self.adjoints.pop(symbol, []):
            by_rank.setdefault(len(self.program.shape(value)), []).append(
                value)
        # Paths that meet at a value are collected (right_1 * x + right_1
        # is right_1 * (x + 1)), as forward mode's one partial would be.
        return sp.Add(*[self.unbroadcast(
            simplify([sp.Add(*values)], tails=not rank)[0]
            if len(values) > 1 else values[0], symbol)
            for rank, values in sorted(by_rank.items())])

    def unbroadcast(self, value: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
        target = self.program.leaves[symbol].shape
        shape = self.program.shape(value)
        lead = len(shape) - self.rank - len(target)
        start = self.rank + lead
        ones = tuple(start + i for i, n in enumerate(target)
                     if n == 1 and shape[start + i] != 1)
        if ones:
            source = self.program.materialize(value, f"d_{symbol.name}")
            value = self.program.add(
                SUM, (source,), tuple(1 if i in ones else n
                                      for i, n in enumerate(shape)),
                f"sum_{source.name}", axis=ones, keepdims=True)
            shape = self.program.shape(value)
        diagonal = diagonal_scale(self.program, value) if (
            self.rank, lead, target) == (1, 1, ()) else None
        if diagonal is not None and self.program.shape(
                diagonal) == self.batch:  # diag(p)'s rows sum to p
            return diagonal
        if lead:
            source = self.program.materialize(value, f"d_{symbol.name}")
            axes = tuple(range(self.rank, start))
            value = self.program.add(
                SUM, (source,), self.batch + shape[start:],
                f"sum_{source.name}", axis=axes, keepdims=False)
        return value

    def final(self, symbol: sp.Symbol) -> sp.Symbol:
        value = self.total(symbol)
        shape = self.program.leaves[symbol].shape
        if value == 0:
            return self.program.add(
                ZEROS, (), self.batch + shape, "zeros", dtype=None,
                shape=self.adjoint_sizes(symbol))
        return self.full(value, shape, f"d_{symbol.name}", symbol)

    def adjoint_sizes(self, like: Any) -> tuple[Any, ...]:
        """The shape of an adjoint of ``like`` as generated code reads it."""
        return self.batch_sizes + self.program.shape_of(like)

    def full(self, adjoint: sp.Expr, shape: tuple[Any, ...], name: str,
             like: sp.Symbol | None = None) -> sp.Symbol:
        """``adjoint`` as an array of exactly the shape of an adjoint of
        a value of ``shape`` (the batch's, then ``shape``), sized as
        ``like`` is when the code runs (by default, the result of the
        step being differentiated, or an operand, of that shape)."""
        batched = self.batch + shape
        if self.program.shape(adjoint) == batched:
            return self.program.materialize(adjoint, name)
        if like is None and self.current is not None:
            like = first_of_shape(self.program, shape, (
                self.current.target, *self.current.operands))
        if like is None:
            self.program.baked.append(
                f"the Jacobian of {self.where} writes a shape of fixed "
                "sizes")
            sizes: tuple[Any, ...] = batched
        else:
            sizes = self.adjoint_sizes(like)
        return self.program.add(BROADCAST_TO, (adjoint,), batched, name,
                                shape=sizes)

    def restored(self, step: Step, adjoint: sp.Expr, name: str) -> sp.Expr:
        """The adjoint of a reduction's result with the reduced axes put
        back, of size 1, after the batch's: it broadcasts against the
        operand."""
        if step.option("keepdims"):
            return adjoint
        rank = len(self.program.leaves[step.operands[0]].shape)
        full = self.full(adjoint, self.program.leaves[step.target].shape,
                         name)
        axes = step.option("axis")
        if axes is None:
            return self.column(full, *(None,) * rank)
        axes = (axes,) if isinstance(axes, int) else axes
        shifted = tuple(self.rank + a % rank for a in axes)
        return self.program.add(
            EXPAND_DIMS, (full,), expanded_shape(
                self.program.leaves[full].shape, shifted),
            f"{full.name}_expanded",
            axis=shifted[0] if len(shifted) == 1 else shifted)

    def column(self, symbol: sp.Symbol, *index: Any) -> sp.Symbol:
        """``symbol[..., index]``: each ``None`` of ``index`` adds an axis
        of size 1, each ``slice(None)`` keeps one of the last axes."""
        shape = self.program.leaves[symbol].shape
        kept = len(shape) - sum(part is not None for part in index)
        last = iter(shape[kept:])
        return self.program.add(
            GETITEM, (symbol,), shape[:kept] + tuple(
                1 if part is None else next(last) for part in index),
            f"{symbol.name}_column", index=(
                (slice(None),) * kept if kept <= 2 else (Ellipsis,)) + index)

    # -- elementwise regions -------------------------------------------------

    def elementwise(self, expr: sp.Expr, adjoint: sp.Expr) -> None:
        """``adjoint * d expr / d s`` to each active s: the partial (of
        the region's shape) broadcasts against the batch in front."""
        for symbol in sorted(expr.free_symbols & self.active,
                             key=lambda s: s.name):
            partial = checked_partial(expr, symbol, self.where)
            if partial == 0:
                continue
            partial = simplified_reading(partial).xreplace(
                self.computed)
            if self.program.shape(partial) and not partial.is_Symbol:
                # A step of its own, which code generation writes as it
                # writes forward mode's (like terms collected), where a
                # factor of a product with the batch would be left as is.
                partial = self.program.materialize(partial, "partial")
            check_ones(self.program, symbol, self.program.shape(expr), expr)
            self.contribute(symbol, adjoint * partial)
