"""Differentiate stage for array programs: reverse mode over the steps.

Each step's vector-Jacobian rule, from its row of the array table, adds
steps to the program (``dot`` -> a product with the transpose, ``sum`` ->
broadcasting back, indexing -> scattering into zeros, the pieces of one
gradient into one array). Inside elementwise regions the adjoint is SymPy:
``adjoint * diff(expression, symbol)``, simplified, then summed back over
the axes it was broadcast along, so every gradient has its input's shape.

Boolean data is 0/1-valued: of an expression of boolean targets, the
partial derivative of ``t*E(1) + (1 - t)*E(0)`` is a candidate too
(``_cheapest``), which turns the log-likelihood of a sigmoid into
``preds - targets``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ._cheapest import fewest_passes, zero_one_expanded
from ._differentiate import checked_partial
from ._errors import OutputError
from ._ops_core import (BROADCAST_TO, EXPAND_DIMS, RESHAPE, SUM,
                        expanded_shape, reshaped)
from ._ops_create import FULL, FULL_LIKE, ZEROS_LIKE
from ._ops_scatter import float_dtype, merged_scatters, summed_scatter
from ._program import ELEMENTWISE, Leaf, Program, Shape, Step, broadcast_shapes
from ._simplify import expanded_if_stable, simplified_reading, simplify

__all__ = ["gradients", "check_ones", "computed_values", "first_of_shape"]


def gradients(program: Program, output: sp.Expr, wrt: list[sp.Symbol],
              where: str) -> list[sp.Expr]:
    """d output / d each of ``wrt``, as expressions over program symbols
    (new steps are appended to ``program``); ``where`` names the function
    in errors."""
    return _Backward(program, wrt, where).run(output)


def computed_values(program: Program) -> dict[sp.Expr, sp.Symbol]:
    """The forward values a backward pass computes again, by value: it
    reads their steps instead. (Not numbers: a step holding 1 would stand
    for every 1.)"""
    return {step.operands[0]: step.target for step in program.steps
            if step.op is ELEMENTWISE and step.operands[0].free_symbols}


class _Backward:
    def __init__(self, program: Program, wrt: list[sp.Symbol],
                 where: str) -> None:
        self.program = program
        self.wrt = wrt
        self.where = where
        # Per symbol, contributions to its adjoint, each with the shape of
        # the region it holds for element by element; summing back over
        # broadcast axes waits until they are all in (it is linear, so one
        # sum of the total replaces a sum per contribution).
        # Each also with a witness, a value whose shape at run time is the
        # region's (so sums and copies read its sizes, not numbers).
        self.adjoints: dict[sp.Symbol,
                            list[tuple[sp.Expr, Shape, sp.Basic | None]]] = {}
        self.current: Step | None = None
        # A gradient's adjoints have no batch of cotangents in front
        # (rules shared with _jacrev's batched pass read these).
        self.batch: Shape = ()
        self.rank = 0
        self.active = set(wrt)
        for step in program.steps:
            if step.uses() & self.active and not step.op.stops_gradient:
                self.active.update(step.results())
        self.computed = computed_values(program)
        self.finished: list[sp.Expr] = []  # (the gradients, one per wrt)

    def run(self, output: sp.Expr) -> list[sp.Expr]:
        forward = list(self.program.steps)
        self.elementwise(output, sp.S.One)
        self.back_through(forward)
        for symbol in self.wrt:
            self.finished.append(self.final(symbol))
        return self.finished

    def back_through(self, steps: list[Step]) -> None:
        """The adjoints flowing back through ``steps``, last to first (a
        loop's body runs this over its own steps)."""
        for step in reversed(steps):
            if len(step.results()) > 1 or step.option("loop") is not None:
                # A loop: the adjoints of all it defines at once.
                adjoints = {r: self.total(r) for r in step.results()
                            if r in self.adjoints}
                if adjoints:
                    self.vjp(step, adjoints)
            elif step.target in self.adjoints:
                self.vjp(step, self.total(step.target))

    def contribute(self, symbol: sp.Symbol, value: sp.Expr,
                   region: Shape | None = None,
                   witness: sp.Basic | None = None) -> None:
        """Add ``value`` to the adjoint of ``symbol``; ``value`` holds for
        each element of a ``region`` (by default, the symbol's shape),
        which is the shape of ``witness`` when the code runs (by default,
        the symbol's or the result's of the step being differentiated, if
        the region is theirs)."""
        if value != 0:
            if region is None:
                region = self.program.leaves[symbol].shape
            if witness is None:
                witness = self.witness(region, symbol)
            self.adjoints.setdefault(symbol, []).append(
                (value, region, witness))

    def witness(self, shape: Shape, *candidates: sp.Symbol
                ) -> sp.Symbol | None:
        """Of ``candidates`` and the result of the step being
        differentiated, the first whose shape is ``shape``: a gradient
        rule asks for an array of the shape of one of them."""
        if self.current is not None:
            candidates += (self.current.target,)
        return first_of_shape(self.program, shape, candidates)

    def total(self, symbol: sp.Symbol) -> sp.Expr:
        """The adjoint of ``symbol``: its contributions summed, region by
        region, and each region's sum summed back to the symbol's shape."""
        by_region: dict[Shape, list[sp.Expr]] = {}
        witnesses: dict[Shape, sp.Basic | None] = {}
        for value, region, witness in self.adjoints.pop(symbol, []):
            by_region.setdefault(region, []).append(value)
            if witnesses.get(region) is None:
                witnesses[region] = witness
        return sp.Add(*[self.unbroadcast(
            sp.Add(*merged_scatters(self.program, symbol, values,
                                    self.read_by_adjoints)), symbol,
            region, witnesses[region])
            for region, values in by_region.items()])

    def read_by_adjoints(self) -> set[sp.Symbol]:
        """The symbols the contributions not yet summed read, and the
        gradients finished."""
        return {read for held in self.adjoints.values()
                for value, _, _ in held for read in value.free_symbols} | {
                    read for done in self.finished
                    for read in done.free_symbols}

    def final(self, symbol: sp.Symbol) -> sp.Expr:
        total = self.total(symbol)
        shape = self.program.leaves[symbol].shape
        if shape == () and total.is_Number and total.is_finite and (
                self.program.leaves[symbol].access is None):
            # At a number, a constant is written as one (return 2.0, not
            # np.full_like(x, 2)): ArrayWriter.write_return. (A pytree's
            # leaf may be a 0-d array, whose gradient is one.)
            return sp.Float(total)
        if total == 0:
            return self.program.add(ZEROS_LIKE, (symbol,), shape,
                                    f"zeros_like_{symbol.name}")
        if self.program.shape(total) != shape or not total.free_symbols:
            return self.program.add(FULL_LIKE, (symbol, total), shape,
                                    f"full_{symbol.name}")
        return total

    # -- elementwise regions -------------------------------------------------

    def elementwise(self, expr: sp.Expr, adjoint: sp.Expr) -> None:
        """Contributions of ``adjoint * d expr / d s`` to each active s."""
        targets = sorted(expr.free_symbols & self.active, key=_name)
        if not targets:
            return
        expanded = zero_one_expanded(self.program, expr)
        region = broadcast_shapes(self.program.shape(expr),
                                  self.program.shape(adjoint))
        witness = sp.Tuple(expr, adjoint)  # its free symbols make the region
        for symbol in targets:
            partials = [checked_partial(expr, symbol, self.where)]
            if expanded is not None:
                partials.append(checked_partial(expanded, symbol,
                                                self.where))
            best = self.cheapest([adjoint * p for p in partials],
                                 not region).xreplace(self.computed)
            self.contribute(symbol, best, region, witness)

    def cheapest(self, raws: list[sp.Expr], number: bool) -> sp.Expr:
        """The form of these equal expressions that makes the fewest passes
        over arrays (then the fewest operations); at a ``number``, in tail
        forms (see stabilize's tails)."""
        forms = []
        for raw in raws:
            simplified = simplify([raw])[0] if number else \
                simplified_reading(raw)
            forms.append(simplified)
            if isinstance(simplified, sp.Mul) and simplified.has(sp.Add):
                expanded = expanded_if_stable(simplified)
                if expanded is not None:
                    forms.append(expanded)
        return fewest_passes(self.program, forms)

    def unbroadcast(self, value: sp.Expr, symbol: sp.Symbol,
                    region: Shape, witness: sp.Basic | None) -> sp.Expr:
        """``value``, which holds for each element of an elementwise region
        of shape ``region`` (``witness``'s when the code runs), summed over
        the axes along which ``symbol`` was broadcast into that region."""
        target = self.program.leaves[symbol].shape
        shape = self.program.shape(value)
        self.check_ones(symbol, region, witness)
        if shape != region:
            if target == ():
                # Each element of value stands for this many of the region.
                copies = self.copies(region, shape, witness)
                if shape == ():
                    return value * copies
                return self.unbroadcast(value, symbol, shape, value) * copies
            if len(region) > len(target) or any(
                    n == 1 and m != 1 for n, m in zip(target[::-1],
                                                      region[::-1])):
                value = self.program.add(
                    BROADCAST_TO, (value,), region,
                    f"d_{symbol.name}_terms",
                    shape=self.sizes(region, witness))
                shape = region
        lead = len(shape) - len(target)
        if lead < 0 or shape == target:
            return value
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(target)
            if n == 1 and shape[lead + i] != 1)
        if not axes:
            return value
        value, factor = self.constant_along(value, shape, axes, len(target))
        folded = summed_scatter(self.program, value, axes, target)
        if folded is not None:
            return folded * factor
        source = self.program.materialize(value, f"d_{symbol.name}")
        every_axis = len(axes) == len(shape)
        if lead == 0:
            # Summed only along its axes of size 1: keep them.
            return self.program.add(SUM, (source,), target,
                                    f"sum_{source.name}",
                                    axis=None if every_axis else axes,
                                    keepdims=True) * factor
        reduced = tuple(n for i, n in enumerate(shape) if i not in axes)
        total = self.program.add(SUM, (source,), reduced,
                                 f"sum_{source.name}",
                                 axis=None if every_axis else axes,
                                 keepdims=False)
        if reduced != target:
            total = reshaped(self.program, total,
                             self.program.shape_of(symbol),
                             f"{total.name}_reshaped")
        return total * factor

    def constant_along(self, value: sp.Expr, shape: Shape,
                       axes: tuple[int, ...], rank: int
                       ) -> tuple[sp.Expr, sp.Expr]:
        """``value`` (of ``shape``, to be summed over ``axes`` into an array
        of ``rank`` axes) split into the factors that vary along ``axes``
        and those that do not, which multiply the sum instead: the sum of
        ``onehot / s`` over a row is ``sum(onehot) / s``, one division per
        row, not per element (1.5x -> 1.2x a softmax cross-entropy's
        gradient by hand, measured)."""
        if not isinstance(value, sp.Mul):
            return value, sp.S.One
        inside, outside = [], []
        for factor in value.args:
            own = self.program.shape(factor)
            lead = len(shape) - len(own)
            # Scalars stay inside: the sum of ``t / sigma ** 2`` reads
            # as well, and saves no pass over an array.
            constant = 0 < len(own) <= rank and all(
                i < lead or own[i - lead] == 1 for i in axes)
            (outside if constant else inside).append(factor)
        # A sum of booleans or integers alone counts in int64, which would
        # promote a float32 factor: keep such sums as they were.
        floats = any(not (self.program.leaves[s].boolean
                          or self.program.leaves[s].integer)
                     for f in inside for s in f.free_symbols
                     if s in self.program.leaves)
        # What is summed keeps the shape the axes are numbered in (a
        # factor broadcast along a summed axis would be counted once).
        if not outside or not floats or self.program.shape(
                sp.Mul(*inside)) != shape:
            return value, sp.S.One
        return sp.Mul(*inside), sp.Mul(*outside)

    def check_ones(self, symbol: sp.Symbol, region: Shape,
                   witness: sp.Basic | None) -> None:
        check_ones(self.program, symbol, region, witness)

    def copies(self, region: Shape, shape: Shape,
               witness: sp.Basic | None) -> sp.Expr:
        """How many elements of ``region`` each element of a value of
        ``shape`` stands for: the sizes of the axes it was broadcast
        along, read from ``witness`` when the code runs."""
        lead = len(region) - len(shape)
        axes = [i for i, n in enumerate(region)
                if i < lead or (shape[i - lead] == 1 and n != 1)]
        if witness is None:
            self.program.baked.append(
                f"the gradient of {self.where} counts copies of a "
                "broadcast value")
            return sp.Integer(int(np.prod([region[i] for i in axes])))
        return sp.Mul(*[self.program.size(witness, i) for i in axes])

    def sizes(self, shape: Shape, like: sp.Basic | None) -> tuple[Any, ...]:
        """``shape`` as generated code reads it, from the sizes of
        ``like`` (an array of that shape when the code runs)."""
        if like is None or self.program.shape(like) != shape:
            if any(n not in (0, 1) for n in shape):
                self.program.baked.append(
                    f"the gradient of {self.where} writes a shape of "
                    "fixed sizes")
            return shape
        return self.program.shape_of(like)

    def adjoint_sizes(self, like: sp.Symbol) -> tuple[Any, ...]:
        """The shape of an adjoint of ``like`` as generated code reads it."""
        return self.program.shape_of(like)

    # -- array operations ----------------------------------------------------

    def full(self, adjoint: sp.Expr, shape: Shape, name: str) -> sp.Symbol:
        """The adjoint as an array of exactly ``shape``."""
        if self.program.shape(adjoint) == shape and adjoint.free_symbols:
            return self.program.materialize(adjoint, name)
        dtype = None if self.current is None else float_dtype(
            self.program, self.current.target)
        if shape == () and dtype is not None:
            # The seed of a 0-d float32 output: np.broadcast_to(1, ()) is
            # an int64 array, which NumPy 2 does not keep weak, and it made
            # the gradient float64. (As the number 1 it would not be
            # written at all, but then the gradient of np.dot(np.sin(x), x)
            # is purely elementwise code, which reads back as code on numbers:
            # ad.jacobian of it is elementwise, not the (n, n) Jacobian.)
            return self.program.add(FULL, (adjoint,), shape, name, shape=(),
                                    dtype=dtype)
        return self.program.add(BROADCAST_TO, (adjoint,), shape, name,
                                shape=self.sizes(shape, self.witness(shape)))

    def vjp(self, step: Step, adjoint: Any) -> None:
        """Contributions of ``adjoint`` through ``step``, by its row."""
        if step.op.vjp is None:  # pragma: no cover - the table's tests
            raise OutputError(f"no gradient rule for the array operation "
                              f"{step.op.name}")
        self.current = step
        try:
            step.op.vjp(self, step, adjoint)
        finally:
            self.current = None

    def restored(self, step: Step, adjoint: sp.Expr, name: str) -> sp.Expr:
        """The adjoint of a reduction's result with the reduced axes put
        back as size 1, so it broadcasts against the operand."""
        axis = step.option("axis")
        if axis is None or step.option("keepdims"):
            return adjoint
        return self.expanded_along(
            adjoint, self.program.leaves[step.target].shape, axis, name)

    def expanded_along(self, value: sp.Expr, shape: Shape,
                       axes: tuple[int, ...], name: str) -> sp.Expr:
        """``value`` (of a reduction's result ``shape``) with the reduced
        ``axes`` put back as size 1, so it broadcasts against the input."""
        if self.program.shape(value) == ():
            return value  # the same for every element: broadcasts as it is
        full = self.full(value, shape, name)
        expanded = expanded_shape(shape, axes)
        step = self.program.definition().get(full)
        if step is not None and step.op in (RESHAPE, EXPAND_DIMS):
            sizes = expanded_shape(self.sizes(shape, full), axes)
            return reshaped(self.program, full, sizes, f"{name}_expanded")
        return self.program.add(EXPAND_DIMS, (full,), expanded,
                                f"{name}_expanded", axis=axes)


def first_of_shape(program: Program, shape: Shape,
                   candidates: tuple[Any, ...]) -> sp.Symbol | None:
    """The first of ``candidates`` that is a value of the program of
    ``shape``."""
    return next((c for c in candidates if isinstance(c, sp.Symbol)
                 and c in program.leaves
                 and program.leaves[c].shape == shape), None)


def check_ones(program: Program, symbol: sp.Symbol, region: Shape,
               witness: sp.Basic | None) -> None:
    """Where ``symbol`` and its region both have size 1 along an axis,
    another array of the region with size 1 there may have more when
    the code runs (a batch of 1), and the gradient would then need a
    sum it does not have: such code checks the sizes it was made for."""
    target = program.leaves[symbol].shape
    if witness is None or 1 not in target:
        return
    lead = len(region) - len(target)
    for i, n in enumerate(target):
        if n != 1 or region[lead + i] != 1:
            continue
        for other in sorted(witness.free_symbols - {symbol}, key=_name):
            own = program.leaves.get(other, _SCALAR).shape
            at = lead + i - (len(region) - len(own))
            if at >= 0 and own[at] == 1 and program.size(
                    other, at) != program.size(symbol, i):
                program.baked.append(
                    f"{other.name} and {symbol.name} both have size 1 "
                    "along an axis, which decides how the gradient of "
                    f"{symbol.name} sums")
                return


_SCALAR = Leaf((), "data")


def _name(symbol: sp.Symbol) -> str:
    return symbol.name

