"""Rows of the array table for reductions beyond the sum: ``np.max``/
``np.min`` (``amax``, ``amin``, the methods), ``np.prod``, ``np.var``/
``np.std``, ``np.average``, and the builtins ``sum``, ``max`` and ``min``
over lists, tuples and arrays; ``log(sum(exp(u)))`` is recognised here and
computed stably, as are SciPy's ``logsumexp``, ``softmax`` and
``log_softmax``.

Where maths leaves a choice the convention is JAX's: the gradient of a
maximum is split equally among the elements that tie for it. The gradient
of a product is the product of the factors before and after each element
(exclusive cumulative products), so it is exact where factors are zero,
with no division; its tangent (forward mode) sums each tangent times the
same products. Counts (of a mean, a variance, an average) are read when
the code runs, so the code is right at any size.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean

from ._ops_assemble import pad, stack
from ._ops_core import (BROADCAST_TO, EXPAND_DIMS, MEAN, SHIFT, SUM,
                        expanded_shape, reduce_sum, reduced_count,
                        reduced_shape, reshape, reshaped, spell_reduction)
from ._ops_index import GETITEM
from ._ops_scan import CUMPROD, keyword_number
from ._ops_scatter import float_dtype
from ._program import ELEMENTWISE, ArrayOp, Step
from ._functions import maximum, minimum
from ._rules import primitive_for, where
from ._spell import call

__all__ = ["MAX", "MIN", "PTP", "ANY", "ALL", "PROD",
           "VAR", "STD", "AVERAGE", "BUILTIN_SUM", "BUILTIN_MAX",
           "BUILTIN_MIN", "LOGSUMEXP", "SOFTMAX", "LOG_SOFTMAX", "extremum",
           "extreme", "extremum_vjp", "extremum_jvp", "product",
           "unreduced", "ties_count", "stable_log_sum_exp", "log_sum_exp",
           "scipy_function"]


def _axes(run: Any, array: sp.Expr, axis: Any, node: ast.AST
          ) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """The array's shape and the axes reduced (None: all)."""
    shape = run.shape(array, node)
    axes = run.axes(axis, len(shape), node)
    if axes is not None and len(axes) == len(shape):
        axes = None
    return shape, axes


def unreduced(backward: Any, step: Step, value: sp.Expr,
              name: str) -> sp.Expr:
    """``value``, of the shape of ``step``'s result, with the reduced axes
    put back as size 1 (so it broadcasts against the input)."""
    axis = step.option("axis")
    if axis is None or step.option("keepdims"):
        return value
    return backward.expanded_along(
        value, backward.program.leaves[step.target].shape, axis, name)


# -- max and min --------------------------------------------------------------

def _extremum(op_name: str) -> Any:
    def lower(run: Any, a: Any, axis: Any = None, out: Any = None,
              keepdims: Any = False, initial: Any = None,
              where: Any = None, *, node: ast.AST) -> Any:
        """np.max(a, axis, out, keepdims, initial): with ``initial``, the
        larger of it and the maximum (a tie shares the gradient, as
        JAX's)."""
        if out is not None:
            raise run.error(node, f"np.{op_name} with out= is not "
                                  "supported: use the array it returns")
        array = run.number(a, node)
        if where is not None:
            # (np.where(mask, x, -np.inf) would be the way, but SymPy takes
            # a value that may be infinite for one that is never equal)
            raise run.error(node, f"np.{op_name} with where= is not "
                                  f"supported: write np.{op_name}(np.where("
                                  "mask, x, initial), initial=initial)")
        result = extreme(run, MAX if op_name == "max" else MIN, array, axis,
                         keepdims, node)
        if initial is None:
            return result
        bound = keyword_number(run, initial, node)
        return (maximum if op_name == "max" else minimum)(result, bound)
    return lower


def extreme(run: Any, op: ArrayOp, array: sp.Expr, axis: Any,
            keepdims: Any, node: ast.AST) -> sp.Expr:
    """``op`` (MAX, MIN or a row like them) of ``array`` over ``axis``
    (None: all), as np.max takes them."""
    shape, axes = _axes(run, array, axis, node)
    if not shape:
        return array
    if any(shape[i] == 0 for i in (axes if axes is not None
                                   else range(len(shape)))):
        raise run.error(node, "zero-size array to a reduction operation "
                              f"{op.name} which has no identity")
    return extremum(run, op, array, axes, bool(keepdims), node)


def extremum(run: Any, op: ArrayOp, array: sp.Expr,
             axes: tuple[int, ...] | None, keepdims: bool,
             node: ast.AST) -> sp.Symbol:
    source = run.materialize(array, node)
    shape = run.program.leaves[source].shape
    return run.program.add(op, (source,), reduced_shape(shape, axes, keepdims),
                           f"{source.name}_{op.name}", axis=axes,
                           keepdims=keepdims)


def extremum_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The adjoint goes to the elements equal to the extremum, split
    equally among ties (JAX's convention): ``is_max * g / count``."""
    program = backward.program
    (source,) = step.operands
    shape = program.leaves[source].shape
    axis = step.option("axis")
    if backward.rank:
        # The extremum has no batch: its axes go back as they were, the
        # adjoint's after the batch's.
        value = step.target
        if axis is not None and not step.option("keepdims"):
            value = program.add(
                EXPAND_DIMS, (value,), expanded_shape(program.leaves[
                    value].shape, axis), f"{value.name}_kept",
                axis=axis[0] if len(axis) == 1 else axis)
        adjoint = backward.restored(step, adjoint, f"d_{step.target.name}")
    else:
        value = unreduced(backward, step, step.target,
                          f"{step.target.name}_kept")
        adjoint = unreduced(backward, step, adjoint, f"d_{step.target.name}")
    ties = program.materialize(sp.Eq(source, value),
                               f"{source.name}_is_{step.op.name}")
    count = ties_count(program, source, ties, reduced_shape(
        shape, axis, True) if axis else (), axis, axis is not None)
    backward.contribute(source, ties * adjoint / count)


def ties_count(program: Any, source: sp.Symbol, ties: sp.Symbol,
               shape: tuple[int, ...], axis: tuple[int, ...] | None,
               keepdims: bool) -> sp.Symbol:
    """How many elements tie for the extremum: an integer count, or one
    in the dtype of ``source`` where that is a float other than float64,
    so that dividing by it keeps float32 float32."""
    dtype = float_dtype(program, source)
    return program.add(SUM, (ties,), shape, f"{ties.name}_count",
                       integer=dtype is None, axis=axis, keepdims=keepdims,
                       **({} if dtype is None else {"dtype": dtype}))


def extremum_jvp(forward: Any, step: Step) -> sp.Expr:
    """The tangent at the elements equal to the extremum, averaged over
    ties (JAX's convention, as the gradient splits among them)."""
    program = forward.program
    (source,) = step.operands
    shape = forward.shape(source)
    axes = step.option("axis")
    axes = tuple(range(len(shape))) if axes is None else axes
    kept = tuple(1 if i in axes else program.size(source, i)
                 for i in range(len(shape)))
    value = step.target
    if forward.shape(value) != tuple(1 if i in axes else n
                                     for i, n in enumerate(shape)):
        value = reshaped(program, value, kept, f"{value.name}_kept")
    ties = program.materialize(sp.Eq(source, value),
                               f"{source.name}_is_{step.op.name}")
    picked = program.materialize(
        forward.along_batch(ties) * forward.full_tangent(source),
        f"{step.target.name}_picked")
    keepdims = step.option("keepdims")
    total = program.add(SUM, (picked,),
                        forward.shape(step.target) + forward.batch,
                        f"{picked.name}_sum", axis=axes, keepdims=keepdims)
    count = ties_count(program, source, ties, forward.shape(step.target),
                       axes, keepdims)
    return total / forward.along_batch(count)


MAX = ArrayOp("max", numpy=("max", "amax"), methods=("max",),
              lower=_extremum("max"), vjp=extremum_vjp, jvp=extremum_jvp,
              batched=True,
              spell=spell_reduction("np.max"), any_size=True)
MIN = ArrayOp("min", numpy=("min", "amin"), methods=("min",),
              lower=_extremum("min"), vjp=extremum_vjp, jvp=extremum_jvp,
              batched=True,
              spell=spell_reduction("np.min"), any_size=True)


# -- np.ptp ------------------------------------------------------------------

def _lower_ptp(run: Any, a: Any, axis: Any = None, out: Any = None,
               keepdims: Any = False, *, node: ast.AST) -> Any:
    """The range, max - min (each with its gradient's ties)."""
    return _extremum("max")(run, a, axis, out, keepdims, node=node) - \
        _extremum("min")(run, a, axis, out, keepdims, node=node)


PTP = ArrayOp("ptp", numpy=("ptp",), lower=_lower_ptp)


# -- np.any, np.all ----------------------------------------------------------

def _truth(op_name: str) -> Any:
    def lower(run: Any, a: Any, axis: Any = None, keepdims: Any = False, *,
              node: ast.AST) -> Any:
        """Whether any (all) of the elements is true (nonzero): a boolean,
        a constant to differentiation, as a comparison is."""
        mask = a if isinstance(a, Boolean) else sp.Ne(run.number(a, node), 0)
        source = run.program.materialize(mask, "mask")
        shape, axes = _axes(run, source, axis, node)
        return run.program.add(
            ANY if op_name == "any" else ALL, (source,),
            reduced_shape(shape, axes, bool(keepdims)),
            f"{op_name}_{source.name}", boolean=True, axis=axes,
            keepdims=True if keepdims else None)
    return lower


ANY = ArrayOp("any", numpy=("any",), methods=("any",), lower=_truth("any"),
              stops_gradient=True, spell=spell_reduction("np.any"),
              any_size=True)
ALL = ArrayOp("all", numpy=("all",), methods=("all",), lower=_truth("all"),
              stops_gradient=True, spell=spell_reduction("np.all"),
              any_size=True)


def stable_log_sum_exp(run: Any, argument: Any,
                       node: ast.AST) -> sp.Expr | None:
    """``log(sum(exp(u)))`` computed as ``m + log(sum(exp(u - m)))`` with
    ``m = max(u)``, which neither overflows nor gives nan gradients at
    large ``u`` (the naive form's are inf / inf); None for other logs."""
    program = run.program
    definitions = program.definition()
    total = definitions.get(argument) if isinstance(
        argument, sp.Symbol) else None
    if total is None or total.op is not SUM:
        return None
    terms = definitions.get(total.operands[0])
    if terms is None or terms.op is not ELEMENTWISE or not isinstance(
            terms.operands[0], sp.exp):
        return None
    if _shifted(definitions, terms.operands[0].args[0], total.option("axis")):
        return None  # by its maximum already: it cannot overflow
    return log_sum_exp(run, terms.operands[0].args[0], total.option("axis"),
                       total.option("keepdims"), None, node)


def log_sum_exp(run: Any, exponent: sp.Expr, axis: tuple[int, ...] | None,
                keepdims: bool, weights: sp.Expr | None,
                node: ast.AST) -> sp.Expr:
    """``log(sum(weights * exp(exponent)))`` over ``axis`` (None: all),
    shifted by the maximum so that it cannot overflow."""
    largest, _, total = _shifted_exp_sum(run, exponent, axis, keepdims,
                                         weights, node)
    # The maximum keeps the summed axes; the sum may not: its sizes, read
    # at run time, reshape it.
    offset = reshaped(run.program, largest, run.program.shape_of(total),
                      f"{largest.name}_reshaped")
    return offset + sp.log(total)


def _shifted_exp_sum(run: Any, exponent: sp.Expr,
                     axis: tuple[int, ...] | None, keepdims: bool,
                     weights: sp.Expr | None, node: ast.AST
                     ) -> tuple[sp.Symbol, sp.Symbol, sp.Symbol]:
    """``m = max(u)`` (kept dims when along axes; a constant to
    differentiation, since the results do not depend on it), ``e =
    exp(u - m)`` and ``sum(weights * e)``."""
    program = run.program
    exponent = run.materialize(exponent, node, "exponent")
    shape = program.leaves[exponent].shape
    largest = program.add(
        SHIFT, (exponent,),
        reduced_shape(shape, axis, True) if axis is not None else (),
        f"{exponent.name}_max", axis=axis, keepdims=axis is not None)
    shifted = program.materialize(sp.exp(exponent - largest),
                                  f"exp_{exponent.name}")
    terms = shifted if weights is None else run.materialize(
        run.checked(weights * shifted, node), node, f"weighted_{shifted.name}")
    total = program.add(
        SUM, (terms,), reduced_shape(shape, axis, keepdims),
        f"sum_{shifted.name}", axis=axis, keepdims=keepdims)
    return largest, shifted, total


def _shifted(definitions: dict[sp.Symbol, Step], exponent: sp.Expr,
             axis: tuple[int, ...] | None) -> bool:
    """Whether ``exponent`` is ``u - max(u)`` with the maximum taken over
    the axes the sum adds up (the user's own log-sum-exp)."""
    for symbol in exponent.free_symbols:
        step = definitions.get(symbol)
        if (step is not None and step.op in (MAX, SHIFT)
                and step.option("axis") == axis
                and (axis is None or step.option("keepdims"))
                and sp.expand(exponent - step.operands[0] + symbol) == 0):
            return True
    return False


# -- SciPy's logsumexp, softmax and log_softmax -------------------------------
# Written out from the max-shifted pieces, as SciPy computes them, rather
# than as calls of SciPy's: their gradients need exp(x - max) and its sum,
# which a call would compute and throw away.

def _array_like(run: Any, value: Any, node: ast.AST, what: str) -> Any:
    """An array argument, which SciPy also takes as a list of numbers."""
    if isinstance(value, (list, tuple)):
        return stack(run, run.arrays(value, node, what), 0, node)
    return run.number(value, node)


def _lower_logsumexp(run: Any, a: Any, axis: Any = None, b: Any = None,
                     keepdims: Any = False, return_sign: Any = False, *,
                     node: ast.AST) -> Any:
    if return_sign:
        raise run.error(node, "logsumexp with return_sign=True is not "
                              "supported: the sign it returns has no "
                              "derivative; with weights b >= 0 the sign is "
                              "1, so leave return_sign out")
    array = _array_like(run, a, node, "logsumexp")
    shape, axes = _axes(run, array, axis, node)
    weights = None if b is None else _array_like(run, b, node, "logsumexp")
    if weights is not None and run.program.shape(
            run.checked(array * weights, node)) != shape:
        raise run.error(node, "logsumexp's weights b "
                              f"{run.shape(weights, node)} are larger than "
                              f"the array {shape}: b must broadcast to the "
                              "array's shape")
    if not shape:
        return array if weights is None else array + sp.log(weights)
    return log_sum_exp(run, array, axes, bool(keepdims), weights, node)


def _lower_softmax(run: Any, x: Any, axis: Any = None, *,
                   node: ast.AST) -> Any:
    """``exp(x - m) / sum(exp(x - m))``."""
    array = _array_like(run, x, node, "softmax")
    shape, axes = _axes(run, array, axis, node)
    if not shape:
        return sp.S.One
    _, shifted, total = _shifted_exp_sum(run, array, axes, True, None, node)
    return shifted / total


def _lower_log_softmax(run: Any, x: Any, axis: Any = None, *,
                       node: ast.AST) -> Any:
    """``x - m - log(sum(exp(x - m)))``."""
    array = _array_like(run, x, node, "log_softmax")
    shape, axes = _axes(run, array, axis, node)
    if not shape:
        return sp.S.Zero
    largest, _, total = _shifted_exp_sum(run, array, axes, True, None, node)
    return array - largest - sp.log(total)


LOGSUMEXP = ArrayOp("logsumexp", lower=_lower_logsumexp)
SOFTMAX = ArrayOp("softmax", lower=_lower_softmax)
LOG_SOFTMAX = ArrayOp("log_softmax", lower=_lower_log_softmax)


def scipy_function(obj: object) -> ArrayOp | None:
    """The row of a SciPy array function (scipy.special.logsumexp,
    scipy.linalg.solve_triangular, ...), once the user's code has imported
    its module; the rows are listed in ``_ops_scipy``."""
    # (imported here: _ops_scipy reads rows of families that import this)
    from ._ops_scipy import scipy_row
    return scipy_row(obj)


# -- prod ---------------------------------------------------------------------

def _lower_prod(run: Any, a: Any, axis: Any = None, keepdims: Any = False,
                *, node: ast.AST) -> Any:
    return product(run, a, axis, keepdims, node)


def product(run: Any, a: Any, axis: Any, keepdims: Any,
            node: ast.AST) -> sp.Expr:
    """The product of ``a``'s elements over ``axis`` (None: all)."""
    array = run.number(a, node)
    shape, axes = _axes(run, array, axis, node)
    if not shape:
        return array
    if axes is None:  # the product of every element, as one product
        total = _product(run, reshape(run, array, (-1,), node), None,
                         False, node)
        return reshape(run, total, (1,) * len(shape), node) if keepdims \
            else total
    # One axis at a time (the last first, so the others keep their
    # numbers): a product of products is the product.
    result = array
    for position in reversed(axes):
        result = _product(run, result, position, bool(keepdims), node)
    return result


def _product(run: Any, array: sp.Expr, axis: int | None, keepdims: bool,
             node: ast.AST) -> sp.Symbol:
    """The product along one axis (None: of a 1-D array)."""
    source = run.materialize(array, node)
    shape = run.program.leaves[source].shape
    return run.program.add(
        PROD, (source,), reduced_shape(shape, (axis or 0,), keepdims),
        f"prod_{source.name}", axis=axis, keepdims=keepdims)


def _prod_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d prod / d x_i is the product of the factors before x_i times that
    of the factors after it: exclusive cumulative products from each end,
    exact where factors are zero."""
    program = backward.program
    (x,) = step.operands
    axis = step.option("axis")
    kept = adjoint
    if axis is not None and not step.option("keepdims"):
        kept = backward.expanded_along(
            adjoint, program.leaves[step.target].shape, (axis,),
            f"d_{step.target.name}")
    count = program.leaves[x].shape[axis or 0]
    if count < 2:
        _check_few(program, x, axis or 0, count)
        if count == 1:
            backward.contribute(x, kept)
        return
    backward.contribute(x, _others(program, x, axis) * kept)


def _prod_jvp(forward: Any, step: Step) -> Any:
    """The sum over the axis of each tangent times the product of the
    other factors (exact where factors are zero, as the gradient)."""
    program = forward.program
    (x,) = step.operands
    axis = step.option("axis")
    count = program.leaves[x].shape[axis or 0]
    tangent = forward.full_tangent(x)
    if count < 2:
        _check_few(program, x, axis or 0, count)
        if count == 0:
            return sp.S.Zero
    else:
        tangent = program.materialize(
            forward.along_batch(_others(program, x, axis)) * tangent,
            f"{step.target.name}_terms")
    return program.add(SUM, (tangent,),
                       forward.shape(step.target) + forward.batch,
                       f"{step.target.name}_tangent", axis=(axis or 0,),
                       keepdims=step.option("keepdims"))


def _check_few(program: Any, x: sp.Symbol, position: int,
               count: int) -> None:
    """A product of fewer than 2 factors needs none of the others': code
    written so checks that the axis has that size when it runs."""
    if program.size(x, position) != count:
        program.baked.append(f"the gradient of np.prod is written for "
                             f"{count} element(s) along an axis")


def _others(program: Any, x: sp.Symbol, axis: int | None) -> sp.Expr:
    """For each element of ``x`` the product of the others along ``axis``
    (None: of a 1-D ``x``): the factors before it times those after it,
    exclusive cumulative products from each end."""
    shape = program.leaves[x].shape
    position = axis or 0

    def along(part: slice) -> tuple[Any, ...]:
        return (slice(None),) * position + (part,)

    def sliced(source: sp.Symbol, part: slice, name: str) -> sp.Symbol:
        cut = list(program.leaves[source].shape)
        cut[position] = len(range(*part.indices(cut[position])))
        return program.add(GETITEM, (source,), tuple(cut), name,
                           index=along(part))

    def widths(before: int, after: int) -> tuple[tuple[int, int], ...]:
        return tuple((before, after) if i == position else (0, 0)
                     for i in range(len(shape)))

    head = sliced(x, slice(None, -1), f"{x.name}_head")
    before = program.add(CUMPROD, (head,), program.leaves[head].shape,
                         f"cumprod_{head.name}", axis=axis)
    tail = sliced(x, slice(None, 0, -1), f"{x.name}_tail_reversed")
    after_reversed = program.add(CUMPROD, (tail,), program.leaves[tail].shape,
                                 f"cumprod_{tail.name}", axis=axis)
    after = sliced(after_reversed, slice(None, None, -1),
                   f"{x.name}_after")
    left = pad(program, before, widths(1, 0), 1, f"{x.name}_before_each")
    right = pad(program, after, widths(0, 1), 1, f"{x.name}_after_each")
    return left * right


def _spell_prod(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    return call("np.prod", args, axis=step.option("axis"),
                keepdims=True if step.option("keepdims") else None)


PROD = ArrayOp("prod", numpy=("prod",), methods=("prod",), lower=_lower_prod,
               vjp=_prod_vjp, jvp=_prod_jvp, spell=_spell_prod,
               any_size=True)


# -- var and std --------------------------------------------------------------

def _spread(op_name: str) -> Any:
    def lower(run: Any, a: Any, axis: Any = None, ddof: Any = 0,
              keepdims: Any = False, *, node: ast.AST) -> Any:
        array = run.number(a, node)
        shape, axes = _axes(run, array, axis, node)
        count = int(np.prod([n for i, n in enumerate(shape)
                             if axes is None or i in axes]))
        correction = run.static_number(ddof, node, "ddof")
        if count - correction <= 0:
            raise run.error(node, f"np.{op_name} with ddof={correction} of "
                                  f"{count} elements divides by "
                                  f"{count - correction}: degrees of freedom "
                                  "must be positive")
        source = run.materialize(array, node)
        # count: as generated code reads it (X.shape[0]), so that the
        # gradient's divisor follows the size the code is called at.
        return run.program.add(
            VAR if op_name == "var" else STD, (source,),
            reduced_shape(shape, axes, bool(keepdims)),
            f"{op_name}_{source.name}", axis=axes, ddof=correction or None,
            keepdims=bool(keepdims),
            count=reduced_count(run, source, axes, node))
    return lower


def _spread_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """d var / dx = 2 (x - mean) / (n - ddof); d std = d var / (2 std)."""
    program = backward.program
    (x,) = step.operands
    kept = unreduced(backward, step, adjoint, f"d_{step.target.name}")
    # (x - mean) first: a number times a sum would be multiplied out.
    centered = x - _mean(program, x, step.option("axis"),
                         step.option("count"))
    if step.op is VAR:
        backward.contribute(x, centered * kept * 2 / _degrees(step))
        return
    deviation = unreduced(backward, step, step.target,
                          f"{step.target.name}_kept")
    backward.contribute(x, centered * kept / (_degrees(step) * deviation))


def _spread_jvp(forward: Any, step: Step) -> sp.Expr:
    """d var = 2 sum((x - mean) dx) / (n - ddof); d std = d var /
    (2 std)."""
    program = forward.program
    (x,) = step.operands
    axis = step.option("axis")
    centered = forward.along_batch(program.materialize(
        x - _mean(program, x, axis, step.option("count")),
        f"{x.name}_centered"))
    terms = program.materialize(centered * forward.full_tangent(x),
                                f"{step.target.name}_terms")
    if axis is None and forward.batch:
        axis = tuple(range(len(forward.shape(x))))
    total = program.add(SUM, (terms,),
                        forward.shape(step.target) + forward.batch,
                        f"{terms.name}_sum", axis=axis,
                        keepdims=step.option("keepdims"))
    if step.op is VAR:
        return total * 2 / _degrees(step)
    return total / (_degrees(step) * forward.along_batch(step.target))


def _mean(program: Any, x: sp.Symbol, axis: tuple[int, ...] | None,
          count: Any) -> sp.Expr:
    """The mean of ``x`` over ``axis`` (kept as size-1 axes): the user's
    own, where the code takes it (np.mean lowers to a sum over the count:
    x - mu then is one value, not computed again as x - np.mean(x))."""
    for step in program.steps:
        if (step.op is SUM and step.operands == (x,)
                and step.option("axis") == axis
                and bool(step.option("keepdims")) == (axis is not None)):
            return step.target / count
    shape = program.leaves[x].shape
    return program.add(MEAN, (x,), reduced_shape(shape, axis, True)
                       if axis else (), f"mean_{x.name}", axis=axis,
                       keepdims=axis is not None)


def _degrees(step: Step) -> Any:
    """The count a spread divides by, as generated code reads it."""
    return step.option("count") - (step.option("ddof") or 0)


def _spell_spread(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, axis=step.option("axis"),
                    ddof=step.option("ddof"),
                    keepdims=True if step.option("keepdims") else None)
    return spell


VAR = ArrayOp("var", numpy=("var",), methods=("var",), lower=_spread("var"),
              vjp=_spread_vjp, jvp=_spread_jvp,
              spell=_spell_spread("np.var"), any_size=True)
STD = ArrayOp("std", numpy=("std",), methods=("std",), lower=_spread("std"),
              vjp=_spread_vjp, jvp=_spread_jvp,
              spell=_spell_spread("np.std"), any_size=True)


# -- average ------------------------------------------------------------------

def _lower_average(run: Any, a: Any, axis: Any = None, weights: Any = None,
                   returned: Any = False, *, keepdims: Any = False,
                   node: ast.AST) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    if weights is None:
        total, count = reduce_sum(run, array, axis, keepdims, node)
        if count == 0:
            raise run.error(node, "np.average of an empty array: it has no "
                                  "value")
        # The count as generated code reads it (X.shape[0]), as np.mean's:
        # a number here would be wrong at other sizes, and no step of its
        # own would make the code check them.
        count = reduced_count(run, array, axis, node)
        return (total / count, count) if returned else total / count
    weight = run.number(weights, node)
    weight_shape = run.shape(weight, node)
    if weight_shape != shape:
        if axis is None:
            raise run.error(node, f"np.average's weights {weight_shape} and "
                                  f"array {shape} differ in shape: pass "
                                  "the axis the weights go along, e.g. "
                                  "axis=0")
        if isinstance(axis, (tuple, list)) and len(axis) != 1:
            raise run.error(node, "np.average with weights of another shape "
                                  "takes one axis")
        position = run.axis(axis[0] if isinstance(axis, (tuple, list))
                            else axis, len(shape), node)
        if weight_shape != (shape[position],):
            raise run.error(node, "Length of weights not compatible with "
                                  f"specified axis: weights {weight_shape}, "
                                  f"array {shape}")
        # Along the axis, its length as read at run time.
        weight = reshape(run, weight, tuple(
            run.program.size(weight, 0) if i == position else 1
            for i in range(len(shape))), node)
    weighted = reduce_sum(run, run.checked(array * weight, node), axis,
                          keepdims, node)[0]
    scale = reduce_sum(run, weight, axis, keepdims, node)[0]
    average = run.checked(weighted / scale, node)
    if not returned:
        return average
    shape = run.shape(average, node)
    if run.shape(scale, node) != shape:  # NumPy returns it broadcast
        scale = run.program.add(BROADCAST_TO, (run.materialize(
            scale, node, "weights_sum"),), shape, "weights_sum",
            shape=run.program.shape_of(average))
    return average, scale


AVERAGE = ArrayOp("average", numpy=("average",), lower=_lower_average)


# -- builtins sum, max and min ------------------------------------------------

def _lower_builtin_sum(run: Any, iterable: Any, start: Any = sp.S.Zero, *,
                       node: ast.AST) -> Any:
    if isinstance(iterable, (list, tuple)):
        total = start
        for item in iterable:
            total = run.arithmetic(ast.Add(), total, item, node)
        return total
    array = run.number(iterable, node)
    if not run.shape(array, node):
        raise run.error(node, "sum() of a number: it needs a list, a tuple "
                              "or an array to iterate over")
    return run.arithmetic(ast.Add(), start,
                          reduce_sum(run, array, 0, False, node)[0], node)


def _builtin_extremum(name: str) -> Any:
    op = MAX if name == "max" else MIN
    callee = getattr(builtins, name)  # the elementwise primitive

    def lower(run: Any, *args: Any, node: ast.AST) -> Any:
        if len(args) == 2 and not any(isinstance(a, (list, tuple))
                                      for a in args):
            return run.call_primitive(callee, primitive_for(callee),
                                      list(args), {}, node)
        items = args[0] if len(args) == 1 else args
        if isinstance(items, (list, tuple)):
            values = run.arrays(items, node, f"{name}()")
            if any(run.shape(v, node) for v in values):
                raise run.error(node, f"{name}() of arrays compares whole "
                                      "arrays, which is ambiguous: use "
                                      f"np.{name}imum(a, b) elementwise, or "
                                      f"np.{name}(...)")
            # Python keeps the first of the numbers that tie, as the
            # pairwise builtin does: max(a, b, c) is max(max(a, b), c).
            result = values[0]
            for value in values[1:]:
                result = run.vetted(primitive_for(callee).lower(
                    result, value), node)
            return result
        array = run.number(items, node)
        shape = run.shape(array, node)
        if len(shape) != 1 or not shape[0]:
            raise run.error(node, f"{name}() of an array iterates over its "
                                  "rows: it takes a non-empty 1-D array "
                                  f"here; use np.{name}(..., axis=0)")
        return extremum(run, op, array, None, False, node)
    return lower


BUILTIN_SUM = ArrayOp("builtin sum", builtins=("sum",),
                      lower=_lower_builtin_sum)
BUILTIN_MAX = ArrayOp("builtin max", builtins=("max",),
                      lower=_builtin_extremum("max"))
BUILTIN_MIN = ArrayOp("builtin min", builtins=("min",),
                      lower=_builtin_extremum("min"))
