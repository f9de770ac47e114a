"""Differentiate stage for array programs: forward mode over the steps.

The jvp transform. Each value ``v`` of the program gets a tangent, the
derivative of ``v`` along the inputs' tangents, computed by new steps
appended to the program. Tangents may come in a batch: a tangent of ``v``
then has shape ``v.shape + batch``, the batch axes last, so that seeding an
input ``x`` with the identity (batch ``x.shape``) gives its Jacobian in
JAX's layout, ``out.shape + x.shape``. Forward mode over a gradient program
with the identity as seed is a Hessian: for the logistic loss it derives
``inputs.T @ (inputs * (preds * (1 - preds))[:, None])``, O(N D^2).

Inside elementwise regions a tangent is ``sum of d expr / d s * tangent of
s``, each partial derivative simplified (of boolean data, the cheaper of
two forms, as in reverse mode: ``_cheapest``) and, with a batch, given
trailing axes of size 1 (``p[:, None]``) so that it broadcasts against the
batch.
Array operations have a rule each, below: linear operations (sums,
transposes, reshapes, indexing, scatters, broadcasts) are applied to the
tangent with the batch axes left alone; a product is differentiated factor
by factor. An operation without a rule is refused with its name.
"""

from __future__ import annotations

import string
from typing import Any, Callable

import sympy as sp

from ._array_diagonals import (cancelled, computed_by,
                               expanded_times_identity)
from ._cheapest import fewest_passes, zero_one_expanded
from ._differentiate import checked_partial
from ._errors import OutputError
from ._ops_core import (BROADCAST_TO, EXPAND_DIMS, MEAN, RESHAPE, SUM,
                        TRANSPOSE, reshaped, transposed)
from ._ops_create import FULL_LIKE, ONES, ZEROS, ZEROS_LIKE, is_identity
from ._ops_assemble import CONCATENATE, STACK
from ._ops_einsum import contract
from ._ops_index import GETITEM
from ._ops_linalg import DOT
from ._ops_scan import CUMSUM
from ._ops_scatter import SCATTER, explicit
from ._program import ELEMENTWISE, ArrayOp, Program, Shape, Step
from ._simplify import simplify
from ._tails import CANCELLING

__all__ = ["tangents"]


def tangents(program: Program, outputs: list[sp.Expr],
             seeds: dict[sp.Symbol, sp.Expr], batch: Shape,
             where: str, batch_sizes: tuple[Any, ...] = (),
             tails: bool = False) -> list[sp.Expr]:
    """The tangent of each of ``outputs`` (shape ``output.shape +
    batch``) given the tangents ``seeds`` of inputs (shape ``input.shape +
    batch``); new steps are appended to ``program``. ``batch_sizes``: the
    batch's sizes as generated code reads them (``W.shape[0]``); ``where``
    names the function in errors. ``tails``: partials in tail forms over
    arrays too, as at numbers (see stabilize's tails)."""
    return _Forward(program, seeds, batch, batch_sizes, where,
                    tails).run(outputs)


class _Forward:
    def __init__(self, program: Program, seeds: dict[sp.Symbol, sp.Expr],
                 batch: Shape, batch_sizes: tuple[Any, ...],
                 where: str, tails: bool = False) -> None:
        self.program = program
        self.tails = tails
        self.tangent: dict[sp.Symbol, sp.Expr] = {
            s: t for s, t in seeds.items() if t != 0}
        self.batch = tuple(batch)
        self.batch_sizes = tuple(batch_sizes)
        self.where = where
        self.seeded = sorted(self.tangent, key=lambda s: s.name)
        # A forward value a partial derivative computes again is read.
        # (Not a number: a step holding 1 would stand for every 1.)
        self.computed = {step.operands[0]: step.target
                         for step in program.steps
                         if step.op is ELEMENTWISE
                         and step.operands[0].free_symbols}
        # Values whose tail identities span steps: the Hessian of a
        # softplus reads the gradient's exp(z - terms) of a step holding
        # terms = logaddexp(0, z), and 1 - exp(z - terms) cancels as z
        # grows unless the partial is taken of the whole expression.
        self.written_out = {target: expr
                            for expr, target in self.computed.items()
                            if expr.has(*CANCELLING)}
        self.defined: tuple[list[Step] | None, int,
                            dict[sp.Symbol, Step]] = (None, 0, {})

    def run(self, outputs: list[sp.Expr]) -> list[sp.Expr]:
        # Only the tangents of what the outputs need: a gradient program
        # also computes the function's value.
        needed = self.program.needed(outputs)
        self.through([step for step in self.program.steps
                      if needed.intersection(step.results())])
        return [self.output(o) for o in outputs]

    def through(self, steps: list[Step]) -> None:
        """The tangents of what ``steps`` compute (those the tangents known
        reach), by each step's rule; the steps they add are appended to the
        program (a loop's body runs this over its own steps)."""
        for step in steps:
            if step.op.stops_gradient or not (
                    step.uses() & self.tangent.keys()) or _held_whole(
                    self.program, step):
                continue
            rule = step.op.jvp or _RULES.get(step.op)
            if rule is None:
                raise OutputError(
                    f"cannot differentiate {self.where} in forward mode "
                    f"(jvp, jacfwd, hessian): no forward rule for "
                    f"{_described(step.op)} yet. Its gradient (ad.grad) "
                    "works; please report the function.")
            value = rule(self, step)
            if value is not None and value != 0:
                self.tangent[step.target] = value

    def shape(self, symbol: sp.Symbol) -> Shape:
        return self.program.leaves[symbol].shape

    def output(self, expr: sp.Expr) -> sp.Expr:
        value = self.of_expression(expr)
        shape = self.program.shape(expr)
        if value.is_Number and not self.batch and not shape:
            # At a number, a constant as a number (return 2.0, not the
            # integer 2): the call gives it the arguments' type, as JAX.
            return sp.Float(value)
        like = next((s for s in self.seeded if self.shape(s) == shape),
                    None) if value.is_Number and not self.batch else None
        if like is not None:
            # A constant derivative of a map, in its argument's shape and
            # dtype: np.full_like(x, 6.0), np.zeros_like(x) (not the
            # read-only np.broadcast_to(6, x.shape) of ints).
            if value == 0:
                return self.program.add(ZEROS_LIKE, (like,), shape,
                                        f"zeros_like_{like.name}")
            return self.program.add(FULL_LIKE, (like, sp.Float(value)),
                                    shape, f"full_{like.name}")
        if value == 0 or self.program.shape(value) != self.program.shape(
                expr) + self.batch:
            return self.full(value, expr, "tangent")
        return value

    # -- elementwise regions -------------------------------------------------

    def of_expression(self, expr: Any) -> sp.Expr:
        """The tangent of an elementwise expression (0 if it has none)."""
        if not isinstance(expr, sp.Expr):
            return sp.S.Zero  # a number, or a condition (piecewise constant)
        expr = self.seen_through(expr)
        active = sorted(expr.free_symbols & self.tangent.keys(),
                        key=lambda s: s.name)
        expanded = zero_one_expanded(self.program, expr) if active else None
        # (see stabilize's tails)
        number = self.tails or not self.program.shape(expr)
        partials = []
        for symbol in active:
            partial = checked_partial(expr, symbol, self.where)
            if partial == 0:
                continue
            forms = [simplify([partial], tails=number)[0]]
            if expanded is not None:  # of boolean data: preds - targets
                forms.append(simplify([checked_partial(
                    expanded, symbol, self.where)], tails=number)[0])
            partials.append((symbol, fewest_passes(
                self.program, forms).xreplace(self.computed)))
        summed = self.summed_on_diagonal(expr, partials)
        # Tangents of equal partials are summed first: (p - t) * (db + dz),
        # where SymPy would not find the common factor of the terms.
        along: dict[sp.Expr, list[sp.Expr]] = {}
        for symbol, partial in partials:
            if symbol not in summed:
                along.setdefault(partial, []).append(self.tangent[symbol])
        terms = [self.along_batch(partial) * sp.Add(*tangents)
                 for partial, tangents in along.items()]
        terms += [self.along_batch(derivative.xreplace(self.computed)) * eye
                  for eye, derivative in dict(summed.values()).items()]
        total = sp.Add(*terms)
        if not self.batch and len(terms) > 1:
            total = simplify([total], tails=number)[0]
        return total

    def summed_on_diagonal(self, expr: sp.Expr,
                           partials: list[tuple[sp.Symbol, sp.Expr]]
                           ) -> dict[sp.Symbol, tuple[sp.Symbol, sp.Expr]]:
        """Seeded with the identity (a Hessian, a Jacobian), a vector's
        tangent is often its derivative on the diagonal, ``d[:, None] *
        I``: where the terms of a vector ``expr``'s tangent are such, and
        summed as vectors they cancel, the sum (the Hessian of
        sum(exp(x) * sin(x)) is 2 e^x cos(x) on the diagonal, not (e c -
        e s)[:, None] + (e c + e s)[:, None]). By symbol: its identity
        and the sum its term is part of."""
        shape = self.program.shape(expr)
        if not self.batch or len(shape) != 1:
            return {}
        definition = self.definition()
        on_diagonal: dict[sp.Symbol, list[tuple[sp.Symbol, sp.Expr]]] = {}
        for symbol, partial in partials:
            found = _on_diagonal(self.program, definition,
                                 self.tangent[symbol]) \
                if self.shape(symbol) == shape else None
            if found is not None:
                eye, derivative = found
                on_diagonal.setdefault(eye, []).append(
                    (symbol, partial * derivative))
        summed = {}
        for eye, parts in on_diagonal.items():
            derivative = cancelled(definition, sp.Add(*(
                product for _, product in parts))) if len(
                    parts) > 1 else None
            if derivative is not None:
                summed.update({symbol: (eye, derivative)
                               for symbol, _ in parts})
        return summed

    def definition(self) -> dict[sp.Symbol, Step]:
        """``program.definition()``, read on from the steps appended since
        it was last asked for (asked once per expression: a loop's body
        over a long program would build it again and again). Rules that
        replace steps (a loop's) give the program a new list of them."""
        steps = self.program.steps
        listed, count, definition = self.defined
        if steps is not listed or len(steps) < count:
            count, definition = 0, {}
        for step in steps[count:]:
            for result in step.results():
                definition[result] = step
        self.defined = (steps, len(steps), definition)
        return definition

    def seen_through(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with the values it reads that hold a cancelling
        function (``written_out``) written as what they compute, so that
        its partial derivatives are taken, and simplified, whole; the
        values are read again after (``computed``)."""
        for _ in range(len(self.written_out)):
            if not expr.free_symbols & self.written_out.keys():
                break
            expr = expr.xreplace(self.written_out)
        return expr

    def along_batch(self, partial: sp.Expr) -> sp.Expr:
        """``partial`` with trailing axes of size 1 for the batch, so it
        multiplies each tangent of the batch."""
        shape = self.program.shape(partial)
        if not self.batch or not shape:
            return partial
        source = self.program.materialize(partial, "partial")
        index = ((slice(None),) if len(shape) == 1 else (Ellipsis,)) + (
            None,) * len(self.batch)
        return self.program.add(GETITEM, (source,),
                                shape + (1,) * len(self.batch),
                                f"{source.name}_expanded", index=index)

    def sizes(self, like: Any) -> tuple[Any, ...]:
        """The shape of a tangent of ``like`` as generated code reads it."""
        return self.program.shape_of(like) + self.batch_sizes

    def full(self, value: sp.Expr, like: Any, name: str) -> sp.Symbol:
        """``value`` as an array of exactly the shape of a tangent of
        ``like`` (a symbol or an expression)."""
        shape = self.program.shape(like) + self.batch
        if value == 0:
            return self.program.add(ZEROS, (), shape, "zeros",
                                    shape=self.sizes(like), dtype=None)
        if self.program.shape(value) == shape and value.free_symbols:
            return self.program.materialize(value, name)
        return self.program.add(BROADCAST_TO, (value,), shape, name,
                                shape=self.sizes(like))

    def full_tangent(self, symbol: sp.Symbol) -> sp.Symbol:
        """The tangent of ``symbol`` as an array of its full shape."""
        return self.full(self.tangent.get(symbol, sp.S.Zero), symbol,
                         f"tangent_{symbol.name}")

    def along_first_axis(self, step: Step, **options: Any) -> sp.Symbol:
        """``step``'s op applied to its operand's tangent, with ``options``
        and ``axis`` kept (None, which flattens a 1-D array, is axis 0 of
        a batch of its tangents): np.roll's and np.repeat's rule."""
        (source,) = step.operands
        axis = step.option("axis")
        return self.program.add(
            step.op, (self.full_tangent(source),),
            self.shape(step.target) + self.batch,
            f"{step.target.name}_tangent", **options,
            axis=0 if axis is None and self.batch else axis)

    def batch_axes(self, rank: int) -> tuple[int, ...]:
        return tuple(range(rank, rank + len(self.batch)))


# -- rules -------------------------------------------------------------------

Rule = Callable[[_Forward, Step], Any]


def _elementwise(forward: _Forward, step: Step) -> sp.Expr:
    return forward.of_expression(step.operands[0])


def _reduction(forward: _Forward, step: Step) -> sp.Expr:
    (source,) = step.operands
    if step.op is SUM and not step.option("keepdims") and len(
            forward.shape(source)) == 1:
        seed = forward.tangent.get(source)
        definition = forward.definition()
        found = expanded_times_identity(forward.program, definition, seed)
        if found is not None:
            # sum_i p_i delta_ij = p_j: the sum of a vector's Jacobian of an
            # elementwise map is the map's derivative, not a matrix summed
            return found[1] * found[2]
        if is_identity(forward.program, seed, definition):
            # (the sum of the identity's rows: ones, not np.sum(eye, axis=0))
            eye = definition[seed]
            return forward.program.add(
                ONES, (), forward.shape(step.target) + forward.batch, "ones",
                shape=(eye.option("rows"),), dtype=eye.option("dtype"))
    tangent = forward.full_tangent(source)
    axis = step.option("axis")
    if axis is None and forward.batch:
        axis = tuple(range(len(forward.shape(source))))
    return forward.program.add(
        step.op, (tangent,), forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", axis=axis,
        keepdims=step.option("keepdims"))


def _on_diagonal(program: Program, definition: dict[sp.Symbol, Step],
                 tangent: sp.Expr) -> tuple[sp.Symbol, sp.Expr] | None:
    """``(I, d)`` where ``tangent`` is ``I`` or ``c * p[:, None] * I``, an
    identity seed ``I`` (``d = c * p``, with the expression an elementwise
    ``p`` computes in its stead, so that it may cancel with others); else
    None."""
    if is_identity(program, tangent, definition):
        return tangent, sp.S.One
    found = expanded_times_identity(program, definition, tangent)
    if found is None:
        return None
    eye, coefficient, vector = found
    return eye, coefficient * computed_by(definition, vector)


def _transpose(forward: _Forward, step: Step) -> sp.Expr:
    (source,) = step.operands
    rank = len(forward.shape(source))
    axes = step.option("axes")
    order = tuple(reversed(range(rank))) if axes is None else axes
    if forward.batch:
        order = order + forward.batch_axes(rank)
    elif axes is None:
        order = None
    return transposed(forward.program, forward.full_tangent(source), order,
                      f"{step.target.name}_tangent")


def _reshape(forward: _Forward, step: Step) -> sp.Expr:
    (source,) = step.operands
    return reshaped(forward.program, forward.full_tangent(source),
                    forward.sizes(step.target),
                    f"{step.target.name}_tangent")


def _expand_dims(forward: _Forward, step: Step) -> sp.Expr:
    (source,) = step.operands
    return forward.program.add(
        EXPAND_DIMS, (forward.full_tangent(source),),
        forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", axis=step.option("axis"))


def _broadcast_to(forward: _Forward, step: Step) -> sp.Expr:
    tangent = forward.of_expression(step.operands[0])
    if tangent == 0:
        return tangent
    shape = forward.shape(step.target) + forward.batch
    return forward.program.add(BROADCAST_TO, (tangent,), shape,
                               f"{step.target.name}_tangent",
                               shape=forward.sizes(step.target))


def _getitem(forward: _Forward, step: Step) -> sp.Expr:
    source, *slots = step.operands
    index = explicit(step.option("index"), len(forward.shape(source)))
    options = dict(step.options)
    options["index"] = index
    return forward.program.add(
        GETITEM, (forward.full_tangent(source), *slots),
        forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", **options)


def _dot(forward: _Forward, step: Step) -> sp.Expr:
    a, b = step.operands
    terms = []
    if b in forward.tangent:
        terms.append(_times(forward, step, a, forward.full_tangent(b),
                            tangent_first=False))
    if a in forward.tangent:
        terms.append(_times(forward, step, forward.full_tangent(a), b,
                            tangent_first=True))
    return sp.Add(*terms)


def _times(forward: _Forward, step: Step, left: sp.Symbol,
           right: sp.Symbol, tangent_first: bool) -> sp.Expr:
    """``left . right`` where one of them is a tangent (its factor's axes,
    then the batch's)."""
    program = forward.program
    a, b = step.operands
    sa, sb = forward.shape(a), forward.shape(b)
    batch = forward.batch
    result = forward.shape(step.target) + batch
    name = f"{step.target.name}_tangent"
    style = step.option("style")
    tangent = left if tangent_first else right
    identity = is_identity(program, tangent)
    if not batch:
        return program.add(DOT, (left, right), result, name, style=style)
    if not tangent_first:  # a . T: a's last axis with T's first
        if identity and len(sb) == 1:
            return a  # a @ I
        if len(sa) <= 2 and len(sb) + len(batch) <= 2:
            return program.add(DOT, (a, right), result, name, style=style)
        return _einsum(program, (a, right), (len(sa), len(sb) + len(batch)),
                       ((len(sa) - 1, 0),), result, name)
    if len(sa) == 1 and len(sb) == 2:  # T . b = b.T @ T
        b_t = transposed(program, b, None, f"{b.name}_T")
        if identity:
            return b_t
        if len(sa) + len(batch) <= 2:
            return program.add(DOT, (b_t, left), result, name, style=style)
    if identity and len(sa) == 1 and len(sb) == 1:
        return b  # I . b
    return _einsum(program, (left, b), (len(sa) + len(batch), len(sb)),
                   ((len(sa) - 1, 0),), result, name, batch_from_first=True,
                   batch=len(batch))


def _einsum(program: Program, operands: tuple[sp.Symbol, sp.Symbol],
            ranks: tuple[int, int], contracted: tuple[tuple[int, int], ...],
            result: Shape, name: str, batch_from_first: bool = False,
            batch: int = 0) -> sp.Symbol:
    """The product of two arrays summed over the ``contracted`` pairs of
    axes, the remaining axes in order (with ``batch_from_first``, the
    first operand's last ``batch`` axes moved to the end)."""
    letters = iter(string.ascii_lowercase)
    first = [next(letters) for _ in range(ranks[0])]
    second = [next(letters) for _ in range(ranks[1])]
    for i, j in contracted:
        second[j] = first[i]
    kept_first = [c for i, c in enumerate(first)
                  if i not in {i for i, _ in contracted}]
    kept_second = [c for j, c in enumerate(second)
                   if j not in {j for _, j in contracted}]
    if batch_from_first:
        out = kept_first[:-batch] + kept_second + kept_first[-batch:]
    else:
        out = kept_first + kept_second
    subscripts = f"{''.join(first)},{''.join(second)}->{''.join(out)}"
    # an identity seed (a Jacobian's) is contracted by hand, not multiplied
    return contract(program, subscripts, operands, name)


def _described(op: ArrayOp) -> str:
    return f"np.{op.numpy[0]}" if op.numpy else op.name


def _assembled(forward: _Forward, step: Step) -> sp.Expr:
    # np.stack and np.concatenate along a leading axis: of the tangents.
    parts = tuple(
        forward.full_tangent(item) if isinstance(item, sp.Symbol)
        else forward.full(sp.S.Zero, item, "zeros")
        for item in step.operands)
    return forward.program.add(
        step.op, parts, forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", **dict(step.options))


def _cumsum(forward: _Forward, step: Step) -> sp.Expr:
    (source,) = step.operands
    tangent = forward.full_tangent(source)
    shape = forward.shape(step.target)
    axis = step.option("axis")
    if axis is None and forward.batch:  # np.cumsum flattens
        size = forward.program.size(source, None)
        tangent = reshaped(forward.program, tangent,
                           (size,) + forward.batch_sizes,
                           f"{tangent.name}_flat")
        axis = 0
    return forward.program.add(
        CUMSUM, (tangent,), shape + forward.batch,
        f"{step.target.name}_tangent", **{**dict(step.options),
                                          "axis": axis})


def _held_whole(program: Program, step: Step) -> bool:
    """Whether ``step`` puts values into an array of integers (or bools),
    which holds them truncated: no tangent goes through it."""
    leaf = program.leaves[step.target]
    return step.op is SCATTER and (leaf.integer or leaf.boolean)


_RULES: dict[ArrayOp, Rule] = {
    STACK: _assembled,
    CONCATENATE: _assembled,
    CUMSUM: _cumsum,
    ELEMENTWISE: _elementwise,
    SUM: _reduction,
    MEAN: _reduction,
    TRANSPOSE: _transpose,
    RESHAPE: _reshape,
    EXPAND_DIMS: _expand_dims,
    BROADCAST_TO: _broadcast_to,
    GETITEM: _getitem,
    DOT: _dot,
}
