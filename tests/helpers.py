"""Numerical references shared by the tests, a check of a refusal, and
code as passes over written code leave it."""

from __future__ import annotations

import ast
import textwrap
from typing import Any, Callable

import numpy as np
import pytest

import autodiff_ast as ad


def central_difference(f: Callable[..., float], args: tuple[float, ...],
                       argnum: int, step: float = 1e-6) -> float:
    """d f / d args[argnum] by a fourth-order central difference."""
    h = step * max(1.0, abs(args[argnum]))

    def at(offset: float) -> float:
        shifted = list(args)
        shifted[argnum] = args[argnum] + offset
        return float(f(*shifted))

    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def sample_points(low: float, high: float, count: int = 5) -> np.ndarray:
    """Points inside (low, high), avoiding the ends and exact integers."""
    return np.linspace(low, high, count + 2)[1:-1] + 0.0123


def numeric_gradient(f: Callable[..., float], args: tuple, argnum: int,
                     step: float = 1e-6):
    """d f / d args[argnum] for a pytree argument of float64 arrays, one
    central difference per element."""
    import optree

    leaves, spec = optree.tree_flatten(args[argnum])
    gradients = []
    for index, leaf in enumerate(leaves):
        base = np.array(leaf, dtype=np.float64)
        result = np.zeros_like(base)
        for position in np.ndindex(base.shape):
            def at(offset: float) -> float:
                moved = base.copy()
                moved[position] += offset
                new_leaves = list(leaves)
                new_leaves[index] = moved if base.shape else moved[()]
                shifted = list(args)
                shifted[argnum] = optree.tree_unflatten(spec, new_leaves)
                return float(f(*shifted))
            h = step * max(1.0, abs(float(base[position])))
            result[position] = (-at(2 * h) + 8 * at(h) - 8 * at(-h)
                                + at(-2 * h)) / (12 * h)
        gradients.append(result if base.shape else result[()])
    return optree.tree_unflatten(spec, gradients)


def numeric_jacobian(f: Callable[..., Any], args: tuple, argnum: int,
                     step: float = 1e-6) -> np.ndarray:
    """d f / d args[argnum] of an array-valued f, by central differences:
    shape f's + the argument's."""
    base = np.asarray(args[argnum], dtype=np.float64)
    columns = []
    for position in np.ndindex(base.shape):
        def at(offset):
            moved = base.copy()
            moved[position] += offset
            shifted = list(args)
            shifted[argnum] = moved if base.shape else float(moved)
            return np.asarray(f(*shifted))
        columns.append((at(step) - at(-step)) / (2 * step))
    return np.stack(columns, axis=-1).reshape(columns[0].shape + base.shape)


def assert_refused_at(call: Callable[[], Any], function: Callable[..., Any],
                      offset: int, message: str) -> None:
    """``call()`` raises an UnsupportedCodeError saying ``message`` at the
    line ``offset`` lines below ``function``'s ``def``."""
    with pytest.raises(ad.UnsupportedCodeError) as info:
        call()
    assert info.value.msg == message
    assert info.value.lineno == function.__code__.co_firstlineno + offset


def passed(code: str, *passes: Callable[[list[ast.stmt]], list[ast.stmt]]
           ) -> str:
    """``code`` (statements, indented or not) after each of ``passes`` in
    turn, printed."""
    body = ast.parse(textwrap.dedent(code)).body
    for each in passes:
        body = each(body)
    return ast.unparse(ast.Module(body, []))


def same(code: str) -> str:
    """``code`` printed as ``passed`` prints it."""
    return ast.unparse(ast.parse(textwrap.dedent(code)))
