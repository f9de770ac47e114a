"""Lower stage for array code: run a function on one input signature.

The arguments' pytrees are flattened (optree) and every leaf becomes a
symbol with its shape; global arrays become symbols named after the global,
so generated code reads ``inputs`` and ``targets`` by name. Elementwise code
builds SymPy expressions as in scalar lowering; array operations add steps to
the ``Program``; shapes are checked as NumPy would, at the user's line.
"""

from __future__ import annotations

import ast
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import optree
import sympy as sp

from ._array_rules import (ARRAY_METHODS, UNSUPPORTED_ARRAY_FUNCTIONS,
                           array_function)
from ._errors import InputError, OutputError
from ._lower import Read, _Context, _Runner, readable_source, unbind
from ._program import Leaf, Program, Shape, broadcast_shapes
from ._rules import canonical
from ._source import FunctionSource

__all__ = ["ArrayLowered", "ArgumentLayout", "lower_arrays"]


@dataclass
class ArgumentLayout:
    """One argument: its pytree structure and the symbol of each leaf."""

    name: str
    spec: Any  # optree.PyTreeSpec
    symbols: tuple[sp.Symbol, ...]


@dataclass
class ArrayLowered:
    name: str
    location: str
    params: tuple[str, ...]
    arguments: list[ArgumentLayout]
    program: Program
    output: Any  # an expression, or (value, aux) with has_aux
    data: dict[str, Any]  # global arrays generated code reads by name
    labels: dict[Any, str]  # the user's names of values
    reads: tuple[Read, ...] = ()
    source: FunctionSource | None = None

    def is_current(self) -> bool:
        return all(read.is_current() for read in self.reads)


@dataclass(frozen=True)
class _Method:
    """``array.sum`` before it is called."""

    name: str
    array: sp.Expr


@dataclass
class _ArrayContext(_Context):
    program: Program = field(default_factory=Program)
    data: dict[str, Any] = field(default_factory=dict)
    data_symbols: dict[int, sp.Symbol] = field(default_factory=dict)


def lower_arrays(fn: types.FunctionType, args: tuple[Any, ...],
                 argnums: tuple[int, ...]) -> ArrayLowered:
    """Lower ``fn`` for arguments like ``args`` (their structure, shapes
    and dtypes, not their values)."""
    fn, bound = unbind(fn)
    source = readable_source(fn)
    node = source.node
    params = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
    bound_names, params = params[:len(bound)], params[len(bound):]
    context = _ArrayContext()
    program = context.program
    for name in params:
        program.reserve(name)
    arguments = []
    env: dict[str, Any] = dict(zip(bound_names, bound))
    for index, (name, value) in enumerate(zip(params, args)):
        layout, structured = _bind_argument(
            program, name, value, differentiable=index in argnums)
        arguments.append(layout)
        env[name] = structured
    runner = _ArrayRunner(fn, source, context)
    output = runner.call(env)
    context.reads.append(Read(fn, "__defaults__", fn.__defaults__))
    reads = {(id(r.container), r.key): r for r in context.reads}
    return ArrayLowered(source.name, source.location, params, arguments,
                        program, output, context.data, context.labels,
                        tuple(reads.values()), source)


def _bind_argument(program: Program, name: str, value: Any,
                   differentiable: bool) -> tuple[ArgumentLayout, Any]:
    accessors, leaves, spec = optree.tree_flatten_with_accessor(value)
    symbols = []
    for accessor, leaf in zip(accessors, leaves):
        where = accessor.codify(name)
        dtype = _dtype(leaf)
        if dtype is None:
            raise InputError(
                f"argument {where} is {type(leaf).__name__}, not a number "
                "or an array: pass numbers and NumPy arrays (None leaves "
                "are allowed).")
        if differentiable and not np.issubdtype(dtype, np.floating):
            raise InputError(
                f"grad requires floating-point inputs, but argument {where} "
                f"has dtype {dtype}. Pass floats, e.g. "
                f"np.asarray({where}, dtype=float), or leave the argument "
                "out of argnums.")
        kind = "param" if differentiable else "data"
        leaf_info = Leaf(tuple(np.shape(leaf)), kind,
                         boolean=dtype == np.bool_,
                         access=None if where == name else where)
        if where == name:
            symbol = sp.Symbol(name, real=True)
            program.leaves[symbol] = leaf_info
        else:
            symbol = program.new_symbol(where, leaf_info)
        symbols.append(symbol)
    structured = optree.tree_unflatten(spec, symbols)
    return ArgumentLayout(name, spec, tuple(symbols)), structured


def _dtype(leaf: Any) -> np.dtype | None:
    if isinstance(leaf, (bool, int, float)):
        return np.result_type(leaf)
    dtype = getattr(leaf, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return dtype
    return None


def _static_int(value: Any) -> int | None:
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class _ArrayRunner(_Runner):
    """Executes a function body on symbolic arrays."""

    context: _ArrayContext

    @property
    def program(self) -> Program:
        return self.context.program

    def spawn(self, callee: types.FunctionType,
              source: FunctionSource) -> _Runner:
        return _ArrayRunner(callee, source, self.context)

    # -- values ------------------------------------------------------------

    def outside_value(self, identifier: str, value: Any,
                      node: ast.AST) -> Any:
        if isinstance(value, np.ndarray):
            return self.data_symbol(identifier, value, node)
        if isinstance(value, (list, dict)):
            raise self.error(node, f"the global {identifier} is a "
                                   f"{type(value).__name__}: make it a tuple "
                                   "or a NumPy array, or pass it as an "
                                   "argument")
        return self.constant(value, node)

    def data_symbol(self, identifier: str, value: np.ndarray,
                    node: ast.AST) -> sp.Symbol:
        known = self.context.data_symbols.get(id(value))
        if known is not None:
            return known
        if value.dtype.kind not in "biuf":
            raise self.error(node, f"the global array {identifier} has dtype "
                                   f"{value.dtype}: only numeric arrays can "
                                   "be used")
        if identifier in self.program.names:
            raise self.error(node, f"two different arrays are both called "
                                   f"{identifier}: rename one of them")
        self.program.reserve(identifier)
        symbol = sp.Symbol(identifier, real=True)
        self.program.leaves[symbol] = Leaf(
            value.shape, "data", boolean=value.dtype == np.bool_)
        self.context.data[identifier] = value
        self.context.data_symbols[id(value)] = symbol
        return symbol

    def constant(self, value: Any, node: ast.AST) -> Any:
        if value is None or value is Ellipsis or isinstance(value, str):
            return value
        return super().constant(value, node)

    def shape(self, value: Any, node: ast.AST) -> Shape:
        try:
            return self.program.shape(value)
        except ValueError:
            shapes = sorted({self.program.leaves[s].shape
                             for s in value.free_symbols
                             if s in self.program.leaves})
            raise self.error(node, "operands could not be broadcast "
                                   f"together with shapes "
                                   f"{' '.join(map(str, shapes))}") from None

    def checked(self, value: Any, node: ast.AST) -> Any:
        self.shape(value, node)
        return value

    def name_for(self, value: Any, fallback: str) -> str:
        if isinstance(value, sp.Symbol):
            return value.name
        return fallback

    def materialize(self, value: Any, node: ast.AST,
                    suggestion: str = "t") -> sp.Symbol:
        expr = self.number(value, node)
        return self.program.materialize(
            expr, self.context.labels.get(expr, suggestion))

    # -- expressions -------------------------------------------------------

    def _expression(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.List):
            return [self.expression(e, env) for e in node.elts]
        if isinstance(node, ast.Dict):
            keys = [self.expression(k, env) if k is not None else None
                    for k in node.keys]
            if any(isinstance(k, sp.Basic) and k.free_symbols for k in keys):
                raise self.error(node, "dict keys must be constants")
            return {_plain(k): self.expression(v, env)
                    for k, v in zip(keys, node.values)}
        if isinstance(node, ast.Slice):
            bounds = []
            for part in (node.lower, node.upper, node.step):
                value = None if part is None else self.expression(part, env)
                if value is not None and _static_int(value) is None:
                    raise self.error(part or node, "slice bounds must be "
                                                   "constant integers")
                bounds.append(None if value is None else _static_int(value))
            return slice(*bounds)
        return super()._expression(node, env)

    def arithmetic(self, op: ast.operator, left: Any, right: Any,
                   node: ast.AST) -> sp.Expr:
        if isinstance(op, ast.MatMult):
            return self.dot(left, right, node, style="@")
        return self.shaped(super().arithmetic(op, left, right, node),
                           (left, right), node)

    def call_primitive(self, callee: Any, primitive: Any, args: list[Any],
                       kwargs: dict[str, Any], node: ast.Call) -> sp.Expr:
        if primitive.name == "log" and len(args) == 1 and not kwargs:
            stable = self.logsumexp(args[0])
            if stable is not None:
                return stable
        return self.shaped(
            super().call_primitive(callee, primitive, args, kwargs, node),
            tuple(args), node)

    def logsumexp(self, argument: Any) -> sp.Expr | None:
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
        exponent = self.program.materialize(terms.operands[0].args[0],
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

    def shaped(self, result: Any, operands: tuple[Any, ...],
               node: ast.AST) -> Any:
        """``result`` with the broadcast shape of its operands, even where
        algebra cancelled the arrays out of it (``W - W`` is 0, an array of
        zeros, not the number 0)."""
        shapes = [self.shape(o, node) for o in operands
                  if isinstance(o, sp.Basic)]
        try:
            expected = broadcast_shapes(*shapes)
        except ValueError:
            expected = None
        shape = self.shape(result, node)
        if expected is None or shape == expected or not isinstance(
                result, sp.Expr):
            return result
        zeros = self.program.add("zeros", (), expected, "zeros",
                                 shape=expected)
        return result + zeros

    def subscript(self, node: ast.Subscript, env: dict[str, Any]) -> Any:
        container = self.expression(node.value, env)
        index = self.expression(node.slice, env)
        if isinstance(container, (dict, list, tuple)):
            key = _plain(index)
            try:
                return container[key]
            except (KeyError, IndexError, TypeError):
                raise self.error(node, f"{key!r} is not in this "
                                       f"{type(container).__name__}"
                                       ) from None
        array = self.number(container, node.value)
        return self.getitem(array, index, node)

    def getitem(self, array: sp.Expr, index: Any, node: ast.AST) -> Any:
        parts = index if isinstance(index, tuple) else (index,)
        static = []
        for part in parts:
            if isinstance(part, (slice, type(None), type(Ellipsis))):
                static.append(part)
            elif _static_int(part) is not None:
                static.append(_static_int(part))
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

    def attribute(self, node: ast.Attribute, env: dict[str, Any]) -> Any:
        base = self.expression(node.value, env)
        if isinstance(base, tuple) and hasattr(base, "_fields"):
            if node.attr in base._fields:  # type: ignore[attr-defined]
                return getattr(base, node.attr)
        if not isinstance(base, sp.Basic):
            return super().attribute(node, env)
        array = self.number(base, node.value)
        shape = self.shape(array, node)
        if node.attr == "T":
            return self.transpose(array, None, node)
        if node.attr == "shape":
            return tuple(sp.Integer(n) for n in shape)
        if node.attr == "ndim":
            return sp.Integer(len(shape))
        if node.attr == "size":
            return sp.Integer(int(np.prod(shape)))
        if node.attr in ARRAY_METHODS:
            return _Method(node.attr, array)
        raise self.error(node, f"the attribute .{node.attr} is not "
                               "supported: a differentiated value has .T, "
                               ".shape, .ndim, .size, .sum(), .mean(), "
                               ".reshape(), .dot() and .transpose()")

    def fork(self, statement: ast.If, condition: Any, rest: list[Any],
             env: dict[str, Any]) -> Any:
        self.scalar_condition(condition, statement.test)
        return super().fork(statement, condition, rest, env)

    def merge(self, statement: ast.If, condition: Any,
              env: dict[str, Any]) -> None:
        self.scalar_condition(condition, statement.test)
        super().merge(statement, condition, env)

    def scalar_condition(self, condition: Any, node: ast.AST) -> None:
        if self.shape(condition, node) != ():
            raise self.error(node, "the truth value of an array is "
                                   "ambiguous: select elementwise with "
                                   "np.where(condition, a, b)")

    def iteration_items(self, iterator: ast.expr,
                        env: dict[str, Any]) -> list[Any] | None:
        if isinstance(iterator, ast.Call):
            return None
        items = self.expression(iterator, env)
        if isinstance(items, (list, tuple)):
            return list(items)
        if isinstance(items, dict):
            return list(items)
        raise self.error(iterator, "for loops must iterate over range() or "
                                   "over a list, tuple or dict argument")

    # -- calls -------------------------------------------------------------

    def call_expression(self, node: ast.Call, env: dict[str, Any]) -> Any:
        callee = self.expression(node.func, env)
        if isinstance(callee, _Method):
            args = [callee.array] + [self.expression(a, env)
                                     for a in node.args]
            return self.array_call(ARRAY_METHODS[callee.name], args,
                                   self.keywords(node, env), node,
                                   method=True)
        if callee is len:
            (value,) = [self.expression(a, env) for a in node.args]
            if isinstance(value, (list, tuple, dict)):
                return sp.Integer(len(value))
            shape = self.shape(self.number(value, node), node)
            if not shape:
                raise self.error(node, "len() of a scalar")
            return sp.Integer(shape[0])
        kind = array_function(callee)
        if kind == "unsupported":
            raise self.error(node.func, UNSUPPORTED_ARRAY_FUNCTIONS[callee])
        if kind is not None:
            args = [self.expression(a, env) for a in node.args]
            return self.array_call(kind, args, self.keywords(node, env), node)
        return super().call_expression(node, env)

    def keywords(self, node: ast.Call, env: dict[str, Any]) -> dict[str, Any]:
        return {k.arg: _plain(self.expression(k.value, env))
                for k in node.keywords if k.arg is not None}

    def array_call(self, kind: str, args: list[Any], kwargs: dict[str, Any],
                   node: ast.Call, method: bool = False) -> Any:
        spelled = ast.unparse(node.func)
        lowering: dict[str, Callable[..., Any]] = {
            "dot": self.dot, "matmul": self.dot, "vdot": self.dot,
            "sum": self.reduce, "mean": self.reduce,
            "transpose": self.transpose, "reshape": self.reshape,
            "stack": self.stack, "array": self.array,
            "expand_dims": self.expand_dims, "outer": self.outer}
        try:
            if kind in ("sum", "mean"):
                return self.reduce(kind, *args, node=node, **kwargs)
            if kind == "reshape" and method:
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
            raise self.error(node, f"{spelled}() is called with arguments "
                                   f"autodiff_ast does not support here: "
                                   f"{exc}") from None

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
            value = _static_int(item)
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
            order = tuple(_static_int(a) for a in axes)
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
        wanted = tuple(_static_int(d) for d in dims)
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
        position = _static_int(axis)
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
        position = _static_int(axis)
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


def _plain(value: Any) -> Any:
    """A SymPy constant as the Python value a container key would be."""
    if isinstance(value, sp.Integer):
        return int(value)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _empty(shape: Shape) -> np.ndarray:
    """A zero-memory array of ``shape``, for computing result shapes."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype=bool), shape,
                                           (0,) * len(shape))


def _index_label(index: list[Any]) -> str:
    parts = [str(p) for p in index if isinstance(p, int)]
    return "_".join(parts) if parts and len(parts) == len(index) else "part"


def check_output(lowered: ArrayLowered, has_aux: bool,
                 value: Any) -> sp.Expr:
    """The scalar value to differentiate, or an error like JAX's."""
    where = f"{lowered.name} ({lowered.location})"
    if not isinstance(value, sp.Expr):
        raise OutputError(f"{where} returns {type(value).__name__}, which "
                          "is not a number: grad needs a scalar output."
                          + (" With has_aux=True, return (value, aux)."
                             if not has_aux else ""))
    shape = lowered.program.shape(value)
    if shape != ():
        raise OutputError(
            f"Gradient only defined for scalar-output functions. Output had "
            f"shape: {shape}. {where} returns an array: reduce it, e.g. "
            "wrap the result in np.sum(...) or np.mean(...), or "
            "differentiate each output separately for a Jacobian.")
    return canonical(value)

