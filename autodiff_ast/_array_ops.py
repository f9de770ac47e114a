"""Lowering of NumPy's array operations to program steps.

Each operation checks its operands' shapes as NumPy would (an error at the
user's line otherwise), computes the result's shape, and adds a ``Step``
to the program: ``dot``, ``sum`` (``mean`` is a sum divided by the count),
``transpose``, ``reshape``, ``getitem``, ``stack``. ``log(sum(exp(u)))``
is recognised and computed stably. A mixin of the array runner, which
provides ``number``, ``shape``, ``checked``, ``materialize``, ``error``
and ``program``.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np
import sympy as sp

from ._program import Program, Shape

__all__ = ["ArrayOperations", "plain", "static_int"]


def static_int(value: Any) -> int | None:
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def plain(value: Any) -> Any:
    """A SymPy constant as the Python value a container key would be."""
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def _empty(shape: Shape) -> np.ndarray:
    """A zero-memory array of ``shape``, for computing result shapes."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype=bool), shape,
                                           (0,) * len(shape))


def _index_label(index: list[Any]) -> str:
    parts = [str(p) for p in index if isinstance(p, int)]
    return "_".join(parts) if parts and len(parts) == len(index) else "part"


class ArrayOperations:
    """The array operations of ``_ArrayRunner``."""

    program: Program

    # Provided by the runner.
    number: Callable[..., sp.Expr]
    shape: Callable[..., Shape]
    checked: Callable[..., Any]
    materialize: Callable[..., sp.Symbol]
    error: Callable[..., Exception]

    def array_call(self, kind: str, args: list[Any], kwargs: dict[str, Any],
                   node: ast.Call, method: bool = False) -> Any:
        spelled = ast.unparse(node.func)
        lowering: dict[str, Callable[..., Any]] = {
            "transpose": self.transpose, "reshape": self.reshape,
            "stack": self.stack, "array": self.array,
            "expand_dims": self.expand_dims, "outer": self.outer}
        try:
            if kind in ("sum", "mean"):
                return self.reduce(kind, *args, node=node, **kwargs)
            if kind == "reshape" and method:
                if len(args) < 2:
                    raise self.error(node, "reshape needs the new shape")
                shape = args[1:] if len(args) > 2 else args[1]
                return self.reshape(args[0], shape, node=node, **kwargs)
            if kind in ("dot", "matmul", "vdot"):
                style = {"matmul": "np.matmul", "vdot": "np.vdot"}.get(
                    kind, ".dot" if method else "np.dot")
                return self.dot(*args, node=node, style=style, **kwargs)
            return lowering[kind](*args, node=node, **kwargs)
        except TypeError as exc:
            if "argument" not in str(exc):
                raise
            # Say it in the user's terms, not those of the method behind it.
            reason = ("too many arguments" if "'node'" in str(exc) else
                      str(exc).split(") ", 1)[-1])
            raise self.error(node, f"{spelled}() is called with arguments "
                                   f"autodiff_ast does not support here: "
                                   f"{reason}") from None

    def dot(self, left: Any, right: Any, node: ast.AST,
            style: str = "np.dot") -> Any:
        a = self.number(left, node)
        b = self.number(right, node)
        sa, sb = self.shape(a, node), self.shape(b, node)
        if style == "np.vdot":
            a, b = self.flatten(a, sa, node), self.flatten(b, sb, node)
            sa, sb, style = self.shape(a, node), self.shape(b, node), "np.dot"
        if style in ("@", "np.matmul") and (not sa or not sb):
            raise self.error(node, "matmul: input operand does not have "
                                   "enough dimensions (use * for scalars)")
        if not sa or not sb:
            return self.checked(a * b, node)
        if len(sa) > 2 or len(sb) > 2:
            raise self.error(node, "products of arrays with more than two "
                                   "dimensions are not supported yet: "
                                   "reshape to matrices first")
        inner_a = sa[-1]
        inner_b = sb[0] if len(sb) == 1 else sb[-2]
        if inner_a != inner_b:
            raise self.error(node, f"shapes {sa} and {sb} not aligned: "
                                   f"{inner_a} (dim {len(sa) - 1}) != "
                                   f"{inner_b}")
        shape = sa[:-1] + sb[1:]
        first = self.materialize(a, node, "left")
        second = self.materialize(b, node, "right")
        return self.program.add("dot", (first, second), shape,
                                f"dot_{first.name}_{second.name}",
                                style=style)

    def flatten(self, array: sp.Expr, shape: Shape, node: ast.AST) -> Any:
        if len(shape) <= 1:
            return array
        return self.reshape(array, (-1,), node=node)

    def reduce(self, kind: str, value: Any, axis: Any = None,
               keepdims: bool = False, node: ast.AST | None = None,
               **rest: Any) -> Any:
        assert node is not None
        if rest:
            raise TypeError(f"unexpected argument {next(iter(rest))!r}")
        array = self.number(value, node)
        shape = self.shape(array, node)
        axes = self.axes(axis, len(shape), node)
        reduced = tuple(n for i, n in enumerate(shape)
                        if axes is not None and i not in axes)
        if keepdims:
            reduced = tuple(1 if axes is None or i in axes else n
                            for i, n in enumerate(shape))
        count = int(np.prod([n for i, n in enumerate(shape)
                             if axes is None or i in axes]))
        if not shape:
            total: Any = array
        else:
            source = self.materialize(array, node, "terms")
            total = self.program.add(
                "sum", (source,), reduced, f"sum_{source.name}",
                axis=axes if axes is None or len(axes) != len(shape) else None,
                keepdims=bool(keepdims))
        if kind == "mean":
            if count == 0:
                raise self.error(node, "mean of an empty array")
            return total / count
        return total

    def axes(self, axis: Any, ndim: int, node: ast.AST
             ) -> tuple[int, ...] | None:
        if axis is None:
            return None
        items = axis if isinstance(axis, tuple) else (axis,)
        result = []
        for item in items:
            value = static_int(item)
            if value is None or not -ndim <= value < ndim:
                raise self.error(node, f"axis {item} is out of bounds for "
                                       f"an array of dimension {ndim}")
            result.append(value % ndim)
        return tuple(sorted(set(result)))

    def transpose(self, value: Any, axes: Any = None,
                  node: ast.AST | None = None) -> Any:
        assert node is not None
        array = self.number(value, node)
        shape = self.shape(array, node)
        if axes is not None:
            order = tuple(static_int(a) for a in axes)
            if sorted(o % max(len(shape), 1) for o in order if o is not None
                      ) != list(range(len(shape))):
                raise self.error(node, "axes don't match array")
            order = tuple(o % len(shape) for o in order)  # type: ignore
        else:
            order = tuple(reversed(range(len(shape))))
        if order == tuple(range(len(shape))):
            return array
        source = self.materialize(array, node)
        return self.program.add(
            "transpose", (source,), tuple(shape[i] for i in order),
            f"{source.name}_T",
            axes=None if order == tuple(reversed(range(len(shape))))
            else order)

    def reshape(self, value: Any, shape: Any, node: ast.AST | None = None,
                **rest: Any) -> Any:
        assert node is not None
        if rest:
            raise TypeError(f"unexpected argument {next(iter(rest))!r}")
        array = self.number(value, node)
        current = self.shape(array, node)
        dims = shape if isinstance(shape, (tuple, list)) else (shape,)
        wanted = tuple(static_int(d) for d in dims)
        if any(d is None for d in wanted):
            raise self.error(node, "reshape needs a constant shape")
        try:
            new = _empty(current).reshape(wanted).shape
        except ValueError as exc:
            raise self.error(node, str(exc)) from None
        if new == current:
            return array
        source = self.materialize(array, node)
        return self.program.add("reshape", (source,), new,
                                f"{source.name}_reshaped", shape=new)

    def expand_dims(self, value: Any, axis: Any,
                    node: ast.AST | None = None) -> Any:
        assert node is not None
        array = self.number(value, node)
        ndim = len(self.shape(array, node))
        position = static_int(axis)
        if position is None or not -ndim - 1 <= position <= ndim:
            raise self.error(node, f"axis {axis} is out of bounds")
        position %= ndim + 1
        index: tuple[Any, ...] = (slice(None),) * position + (None,)
        return self.getitem(array, index, node)

    def outer(self, left: Any, right: Any,
              node: ast.AST | None = None) -> Any:
        assert node is not None
        a = self.flatten(self.number(left, node),
                         self.shape(self.number(left, node), node), node)
        b = self.flatten(self.number(right, node),
                         self.shape(self.number(right, node), node), node)
        return self.checked(self.getitem(a, (slice(None), None), node)
                            * self.getitem(b, (None, slice(None)), node),
                            node)

    def stack(self, values: Any, axis: Any = 0,
              node: ast.AST | None = None) -> Any:
        assert node is not None
        if not isinstance(values, (list, tuple)) or not values:
            raise self.error(node, "np.stack takes a non-empty list of "
                                   "arrays")
        items = [self.number(v, node) for v in values]
        shapes = {self.shape(v, node) for v in items}
        if len(shapes) != 1:
            raise self.error(node, "all input arrays must have the same "
                                   f"shape, got {sorted(shapes)}")
        (shape,) = shapes
        position = static_int(axis)
        if position is None or not -len(shape) - 1 <= position <= len(shape):
            raise self.error(node, f"axis {axis} is out of bounds")
        position %= len(shape) + 1
        operands = tuple(v if not v.free_symbols
                         else self.program.materialize(v, "item")
                         for v in items)
        result_shape = shape[:position] + (len(items),) + shape[position:]
        return self.program.add("stack", operands, result_shape, "stacked",
                                axis=position)

    def array(self, values: Any, dtype: Any = None,
              node: ast.AST | None = None) -> Any:
        assert node is not None
        if dtype not in (None, float, np.float64, np.float32):
            raise self.error(node, "np.array of differentiated values takes "
                                   "no dtype other than float")
        if isinstance(values, (list, tuple)):
            return self.stack([self.array(v, node=node) for v in values],
                              node=node)
        return self.number(values, node)


    def logsumexp(self, argument: Any, node: ast.AST) -> sp.Expr | None:
        """``log(sum(exp(u)))`` computed as ``m + log(sum(exp(u - m)))``
        with ``m = max(u)``, which neither overflows nor gives nan
        gradients at large ``u`` (the naive form's are inf / inf). ``m`` is
        a constant to differentiation: the result does not depend on it."""
        definitions = self.program.definition()
        total = definitions.get(argument) if isinstance(
            argument, sp.Symbol) else None
        if total is None or total.op != "sum":
            return None
        terms = definitions.get(total.operands[0])
        if terms is None or terms.op != "elementwise" or not isinstance(
                terms.operands[0], sp.exp):
            return None
        exponent = self.materialize(terms.operands[0].args[0], node,
                                    "exponent")
        shape = self.program.leaves[exponent].shape
        axis = total.option("axis")
        kept = tuple(1 if axis is None or i in axis else n
                     for i, n in enumerate(shape))
        largest = self.program.add(
            "max", (exponent,), kept if axis is not None else (),
            f"{exponent.name}_max", axis=axis,
            keepdims=axis is not None)
        shifted = self.program.materialize(sp.exp(exponent - largest),
                                           f"exp_{exponent.name}")
        result_shape = self.program.leaves[argument].shape
        shifted_total = self.program.add(
            "sum", (shifted,), result_shape, f"sum_{shifted.name}",
            axis=axis, keepdims=total.option("keepdims"))
        offset = largest
        if self.program.leaves[largest].shape != result_shape:
            offset = self.program.add("reshape", (largest,), result_shape,
                                      f"{largest.name}_reshaped",
                                      shape=result_shape)
        return offset + sp.log(shifted_total)

    def getitem(self, array: sp.Expr, index: Any, node: ast.AST) -> Any:
        parts = index if isinstance(index, tuple) else (index,)
        static = []
        for part in parts:
            if isinstance(part, (slice, type(None), type(Ellipsis))):
                static.append(part)
            elif static_int(part) is not None:
                static.append(static_int(part))
            else:
                raise self.error(node, "indices must be constant integers, "
                                       "slices, None or ...: indexing with "
                                       "arrays or computed values is not "
                                       "supported")
        shape = self.shape(array, node)
        try:
            result_shape = _empty(shape)[tuple(static)].shape
        except IndexError as exc:
            raise self.error(node, f"{exc} (the array has shape {shape})"
                             ) from None
        source = self.materialize(array, node)
        suggestion = f"{source.name}_{_index_label(static)}"
        return self.program.add("getitem", (source,), result_shape,
                                suggestion, index=tuple(static))
