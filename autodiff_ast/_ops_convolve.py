"""Rows of the array table for ``np.convolve`` and ``np.correlate`` (modes
``full``, ``same`` and ``valid``), and ``np.apply_along_axis`` of them,
which convolves each column of an array with one kernel.

Each mode's result is a window of the full one (``np.convolve(a, v)``),
whose start depends on the mode and the two lengths. Both are linear in
each argument, and their adjoints are again convolutions and correlations:
the gradient of ``np.convolve(a, v)`` in ``a`` is ``np.correlate(g, v)``
over the window that gives ``a``'s length (``mode="valid"`` for a full
convolution, ``"full"`` for a valid one; other windows are a slice of the
full correlation), and in ``v`` a correlation with ``a``. A step's
tangent is the same operation of the tangents (the product rule). A batch
of tangents (Jacobians, Hessians) is convolved column by column, written
``np.apply_along_axis(np.convolve, 0, tangents, v)``; a batch of kernels
is made the signal (``np.convolve`` is symmetric, and a correlation is a
convolution with the kernel reversed). Where the signal is a batch of
columns, the kernel's gradient sums each column's correlation: an einsum
of the adjoint with the signal's windows (``padded[offsets]``, offsets
from ``np.arange``).

Which window a mode gives depends on the lengths, so code with these
steps checks the shapes it was generated for.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp

from ._ops_assemble import pad
from ._ops_create import ARANGE
from ._ops_einsum import einsum
from ._ops_index import GETITEM
from ._ops_shape import MOVEAXIS
from ._program import ArrayOp, Step
from ._spell import Slot, call

__all__ = ["CONVOLVE", "CORRELATE", "APPLY_ALONG_AXIS"]

_MODES = ("full", "same", "valid")


def window(kind: str, mode: str, n: int, m: int) -> tuple[int, int]:
    """Where ``np.<kind>(a, v, mode)`` of lengths ``n`` and ``m`` lies in
    the full result: its start and length (NumPy's conventions, which
    for 'same' differ between the two and with the longer argument)."""
    if mode == "full":
        return 0, n + m - 1
    if mode == "valid":
        return min(n, m) - 1, abs(n - m) + 1
    if kind == "convolve" or n >= m:
        return (min(n, m) - 1) // 2, max(n, m)
    return n // 2, m


# -- lowering -----------------------------------------------------------------

def _lower_convolve(run: Any, a: Any, v: Any, mode: Any = "full", *,
                    node: ast.AST) -> Any:
    return _lowered(run, CONVOLVE, a, v, mode, node)


def _lower_correlate(run: Any, a: Any, v: Any, mode: Any = "valid", *,
                     node: ast.AST) -> Any:
    return _lowered(run, CORRELATE, a, v, mode, node)


def _lowered(run: Any, op: ArrayOp, a: Any, v: Any, mode: Any,
             node: ast.AST, columns: bool = False) -> Any:
    if mode not in _MODES:
        raise run.error(node, f"np.{op.name}'s mode must be 'full', 'same' "
                              f"or 'valid', not {mode!r}")
    signal, kernel = (run.number(value, node) for value in (a, v))
    shapes = [run.shape(value, node) for value in (signal, kernel)]
    if (len(shapes[0]) < 1 if columns else len(shapes[0]) != 1) or len(
            shapes[1]) != 1:
        raise run.error(node, f"np.{op.name} takes two 1-D arrays, not "
                              f"arrays of shapes {shapes[0]} and "
                              f"{shapes[1]}")
    if not shapes[0][0] or not shapes[1][0]:
        raise run.error(node, f"np.{op.name}: the arrays cannot be empty")
    first = run.materialize(signal, node, "signal")
    second = run.materialize(kernel, node, "kernel")
    return convolution(run.program, op, first, second, mode)


def convolution(program: Any, op: ArrayOp, signal: sp.Symbol,
                kernel: sp.Symbol, mode: str) -> sp.Symbol:
    """The step ``np.<op>(signal, kernel, mode)``; a ``signal`` of more
    than one axis is a batch of columns (``np.apply_along_axis``)."""
    shape = program.leaves[signal].shape
    n, m = shape[0], program.leaves[kernel].shape[0]
    _, length = window(op.name, mode, n, m)
    return program.add(op, (signal, kernel), (length,) + shape[1:],
                       f"{op.name}_{signal.name}", mode=mode,
                       columns=True if len(shape) > 1 else None)


def _windowed(program: Any, op: ArrayOp, signal: sp.Symbol,
              kernel: sp.Symbol, start: int, length: int,
              name: str) -> sp.Symbol:
    """The window ``[start:start + length]`` of the full ``np.<op>(signal,
    kernel)``: the mode that gives it, or a slice of the full result."""
    shape = program.leaves[signal].shape
    n, m = shape[0], program.leaves[kernel].shape[0]
    for mode in ("valid", "full", "same"):
        if window(op.name, mode, n, m) == (start, length):
            return convolution(program, op, signal, kernel, mode)
    full = convolution(program, op, signal, kernel, "full")
    return program.add(GETITEM, (full,), (length,) + shape[1:], name,
                       index=(slice(start, start + length),))


def _reversed(program: Any, array: sp.Symbol) -> sp.Symbol:
    return program.add(GETITEM, (array,), program.leaves[array].shape,
                       f"{array.name}_reversed",
                       index=(slice(None, None, -1),))


# -- derivatives --------------------------------------------------------------

def _vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    signal, kernel = step.operands
    shape = program.leaves[step.target].shape
    n, m = program.leaves[signal].shape[0], program.leaves[kernel].shape[0]
    start, length = window(step.op.name, step.option("mode"), n, m)
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    other = CORRELATE if step.op is CONVOLVE else CONVOLVE
    if signal in backward.active:
        backward.contribute(signal, _windowed(
            program, other, full, kernel, m - 1 - start, n,
            f"d_{signal.name}"))
    if kernel in backward.active:
        if len(shape) > 1:  # each column's correlation, summed
            rest = _letters(len(shape) - 1)
            contribution = einsum(program, f"tj{rest},t{rest}->j",
                                  (_windows(program, step), full),
                                  f"d_{kernel.name}")
        elif step.op is CONVOLVE:  # symmetric: the kernel is a signal too
            contribution = _windowed(program, CORRELATE, full, signal,
                                     n - 1 - start, m, f"d_{kernel.name}")
        else:
            contribution = _windowed(program, CORRELATE, signal, full,
                                     start - m + length, m,
                                     f"d_{kernel.name}")
        backward.contribute(kernel, contribution)


def _jvp(forward: Any, step: Step) -> sp.Expr:
    """The product rule, each term the same operation (over the same
    window) with one argument's tangents: a batch of them is the signal
    (columns), the other argument the kernel."""
    program = forward.program
    signal, kernel = step.operands
    n, m = forward.shape(signal)[0], forward.shape(kernel)[0]
    start, length = window(step.op.name, step.option("mode"), n, m)
    name = f"{step.target.name}_tangent"
    terms = []
    if signal in forward.tangent:
        terms.append(_windowed(program, step.op,
                               forward.full_tangent(signal), kernel, start,
                               length, name))
    if kernel in forward.tangent:
        tangent = forward.full_tangent(kernel)
        if len(forward.shape(signal)) > 1:
            rest = _letters(len(forward.shape(signal)) - 1)
            batch = _letters(len(forward.batch), "pqrs")
            terms.append(einsum(
                program, f"tj{rest},j{batch}->t{rest}{batch}",
                (_windows(program, step), tangent), name))
        elif not forward.batch:
            terms.append(_windowed(program, step.op, signal, tangent, start,
                                   length, name))
        elif step.op is CONVOLVE:
            terms.append(_windowed(program, CONVOLVE, tangent, signal,
                                   start, length, name))
        else:  # np.correlate(a, w) is np.convolve(w[::-1], a), in full
            terms.append(_windowed(program, CONVOLVE,
                                   _reversed(program, tangent), signal,
                                   start, length, name))
    return sp.Add(*terms)


def _windows(program: Any, step: Step) -> sp.Symbol:
    """What each element of a step's result multiplies each element of
    the kernel with, when the signal is a batch of columns: the signal,
    padded with zeros, at the offsets ``[t, j]`` (result ``t``, kernel
    ``j``), of shape ``(length, m) + columns``."""
    signal, kernel = step.operands
    shape = program.leaves[signal].shape
    n, m = shape[0], program.leaves[kernel].shape[0]
    start, length = window(step.op.name, step.option("mode"), n, m)
    padded = pad(program, signal, ((m - 1, m - 1),) + ((0, 0),) * (
        len(shape) - 1), 0, f"{signal.name}_padded")
    results = program.add(ARANGE, (), (length,), "results", integer=True,
                          bounds=(length,))
    taps = program.add(ARANGE, (), (m,), "taps", integer=True, bounds=(m,))
    column = program.add(GETITEM, (results,), (length, 1), "results_column",
                         index=(slice(None), None))
    # a convolution reads signal[start + t - j], a correlation
    # signal[start + t + j - (m - 1)]; the padding shifts both by m - 1
    if step.op is CONVOLVE:
        offsets = column - taps + start + m - 1
    else:
        offsets = column + taps + start
    at = program.materialize(offsets, "offsets")
    return program.add(GETITEM, (padded, at), (length, m) + shape[1:],
                       "windows", index=(Slot(1),))


def _letters(count: int, pool: str = "abcdefgh") -> str:
    return pool[:count]


# -- spelling -----------------------------------------------------------------

def _spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    mode = step.option("mode")
    default = "full" if step.op is CONVOLVE else "valid"
    keyword = None if mode == default else mode
    function = ast.Attribute(ast.Name("np", ast.Load()), step.op.name,
                             ast.Load())
    if step.option("columns"):
        return call("np.apply_along_axis", [function, ast.Constant(0)]
                    + args, mode=keyword)
    return call(f"np.{step.op.name}", args, mode=keyword)


# -- np.apply_along_axis of np.convolve and np.correlate ----------------------

def _lower_apply_along_axis(run: Any, func1d: Any, axis: Any, arr: Any,
                            *args: Any, node: ast.AST,
                            **kwargs: Any) -> Any:
    op = {np.convolve: CONVOLVE, np.correlate: CORRELATE}.get(func1d)
    if op is None:
        raise run.error(node, "np.apply_along_axis is differentiated for "
                              "np.convolve and np.correlate only: write the "
                              "function of each column as an array "
                              "operation, or loop over the columns")
    array = run.number(arr, node)
    ndim = len(run.shape(array, node))
    if ndim < 1:
        raise run.error(node, "np.apply_along_axis takes an array of at "
                              "least one axis")
    along = run.axis(axis, ndim, node)
    if along:
        array = MOVEAXIS.lower(run, array, along, 0, node=node)
    names = ("v", "mode")
    bound = dict(zip(names, args))
    bound.update(kwargs)
    if "v" not in bound or set(bound) - set(names):
        raise run.error(node, f"np.apply_along_axis(np.{op.name}, axis, "
                              "arr, v, mode) takes the kernel v and the "
                              "mode only")
    result = _lowered(run, op, array, bound["v"], bound.get(
        "mode", "full" if op is CONVOLVE else "valid"), node, columns=True)
    if along:
        result = MOVEAXIS.lower(run, result, 0, along, node=node)
    return result


CONVOLVE = ArrayOp("convolve", numpy=("convolve",), lower=_lower_convolve,
                   vjp=_vjp, jvp=_jvp, spell=_spell)
CORRELATE = ArrayOp("correlate", numpy=("correlate",),
                    lower=_lower_correlate, vjp=_vjp, jvp=_jvp, spell=_spell)
APPLY_ALONG_AXIS = ArrayOp("apply_along_axis", numpy=("apply_along_axis",),
                           lower=_lower_apply_along_axis)
