"""Lower stage for array code: run a function on one input signature.

The arguments' pytrees are flattened (optree) and every leaf becomes a
symbol with its shape; global arrays become symbols named after the global,
so generated code reads ``inputs`` and ``targets`` by name. Elementwise code
builds SymPy expressions as in scalar lowering; array operations add steps to
the ``Program``; shapes are checked as NumPy would, at the user's line.
"""

from __future__ import annotations

import ast
import itertools
import math
import numbers
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optree
import sympy as sp
from sympy.logic.boolalg import Boolean

from . import _fence
from ._array_ops import ArrayOperations, plain, static_int
from ._array_rules import array_function, array_method, method_names
from ._errors import InputError, OutputError, truth_of_an_array
from ._functions import where
from ._containers import container_items, item_at_run_time
from ._dispatch import taken_as_constant
from ._in_place import copies
from ._limits import NAMED_FROM, written_out_size
from ._lists import as_lists, grown, made
from ._lower import _Runner, readable_source, unbind
from ._lower_loops import (Buffer, buffer, comprehended, constant_rows,
                           keep_loop, keep_while)
from ._lower_conditions import is_condition
from ._lower_names import is_library
from ._lower_records import (Read, _Context, as_sympy, current_check,
                             defaults_read)
from ._masked_reads import (Selection, applied, attribute_of,
                            check_not_returned, combined, compared,
                            connected, count,
                            holds_selection, negated, reduced, selection,
                            used_as_an_array)
from ._nan_masks import (NAN, Missing, check_reduced, holds_missing,
                         missing_applied, missing_arithmetic,
                         missing_negated, nan_marked, refused_use)
from ._masks import (known_masks, passed_flags, passed_masks,
                     resolved_reads)
from ._ops_assemble import store, store_item
from ._ops_cast import ASTYPE
from ._ops_core import FLOAT_CASTS, transpose
from ._ops_create import ZEROS
from ._ops_index import getitem
from ._ops_linalg import product
from ._ops_shape import check_shapes
from ._ops_reduce import stable_log_sum_exp
from ._outside_trees import data_tree, holds_arrays
from ._program import Leaf, Program, Shape, broadcast_shapes
from ._rules import canonical
from ._source import FunctionSource

__all__ = ["ArrayLowered", "ArgumentLayout", "lower_arrays",
           "computed_dtype"]


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
    # The modules its primitives were spelled from ("math", "numpy").
    namespaces: frozenset[str] = frozenset()
    # The int arguments whose values the code bakes in (a loop count, a
    # condition): their values key the code, as shapes do.
    fixed: frozenset[str] = frozenset()

    # (compiled once for ``reads``: checked on every call of the code)
    _check: tuple[tuple[Read, ...], Any] | None = field(
        default=None, repr=False, compare=False)

    def is_current(self) -> bool:
        """Whether every outside value the code baked in is unchanged."""
        if self._check is None or self._check[0] is not self.reads:
            self._check = (self.reads, current_check(self.reads))
        return self._check[1]()


@dataclass(frozen=True)
class _Method:
    """``array.sum`` (or a namedtuple's ``_replace``) before it is
    called."""

    name: str
    array: sp.Expr


@dataclass
class _ArrayContext(_Context):
    program: Program = field(default_factory=Program)
    data: dict[str, Any] = field(default_factory=dict)
    data_symbols: dict[int, sp.Symbol] = field(default_factory=dict)
    # Containers of arrays read from outside, by id: their data symbols.
    data_trees: dict[int, Any] = field(default_factory=dict)
    # The objects whose attributes generated code reads as the user spelled
    # them (``self`` for ``self.w``), by name.
    roots: dict[str, Any] = field(default_factory=dict)
    # Where generated code reaches the objects (and lists of them) the code
    # read, by id: ``self.layers[0]`` (with the object, held so that its
    # id is not another's while the code is made).
    object_paths: dict[int, tuple[Any, str]] = field(default_factory=dict)
    # Boolean arrays read from outside (a global MASK): how each was read,
    # so that indexing with one can depend on its values; and of a
    # condition of such masks, how they were read (``_masks``).
    masks: dict[sp.Symbol, Read] = field(default_factory=dict)
    derived_masks: dict[int, tuple[Read, ...]] = field(default_factory=dict)
    # Numeric arrays read from outside (LABELS): a comparison of them
    # (LABELS == 2) is a mask of known values too.
    compared: dict[sp.Symbol, Read] = field(default_factory=dict)
    # The lists the function made, which it may append to, by id (the
    # lists are held so that an id is never reused), with the number of
    # kept loops around the place that made each.
    lists: dict[int, tuple[list[Any], int]] = field(default_factory=dict)
    kept_loops: int = 0  # how many kept loops' bodies are being lowered
    # Names bound to an array Python made new (y = np.array(x)): the value
    # bound, the other names that held that value then (x, another array),
    # and how many steps the program had. The function may fill it.
    new_arrays: dict[str, tuple[Any, frozenset[str], int]] = field(
        default_factory=dict)
    # The int arguments (n), by symbol, with their values: each becomes a
    # size once the code sizes an array with it (np.zeros(n)).
    counts: dict[sp.Symbol, int] = field(default_factory=dict)
    fixed: set[str] = field(default_factory=set)  # ArrayLowered.fixed
    # The bools passed in beside the differentiated arguments, with their
    # values, for an assert on them (``_masks.flag_decided``).
    flags: dict[sp.Symbol, bool] = field(default_factory=dict)
    # The arrays that hold a list's items, appended to in a kept loop: the
    # function returns them as lists.
    listed: set[sp.Symbol] = field(default_factory=set)


def lower_arrays(fn: types.FunctionType, args: tuple[Any, ...],
                 argnums: tuple[int, ...],
                 transform: str = "grad", owner: str = "") -> ArrayLowered:
    """Lower ``fn`` for arguments like ``args`` (their structure, shapes
    and dtypes, not their values); ``transform`` (``hessian``) names what
    was called in the refusal of an integer argument, as JAX does, and
    ``owner`` (``f (demo.py:3)``) whose derivative is called, in the
    refusal of an argument that is not a real number."""
    fn, bound = unbind(fn)
    source = readable_source(fn)
    _fence.check_root(source)
    node = source.node
    params = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
    bound_names, params = params[:len(bound)], params[len(bound):]
    context = _ArrayContext(root=fn, bound=dict(zip(bound_names, bound)),
                            params=params)
    program = context.program
    for name in params:
        program.reserve(name)
    arguments = []
    env: dict[str, Any] = dict(zip(bound_names, bound))
    for index, (name, value) in enumerate(zip(params, args)):
        if index not in argnums and taken_as_constant(value):
            arguments.append(ArgumentLayout(name, optree.tree_structure(
                None), ()))
            env[name] = value
            continue
        layout, structured = _bind_argument(
            program, name, value, differentiable=index in argnums,
            transform=transform, owner=owner)
        arguments.append(layout)
        env[name] = structured
        if index not in argnums:  # (x[mask]: code made for its values)
            passed_masks(context, layout, value)
            passed_flags(context, layout, value)
        if _is_count(value, index in argnums):
            context.counts[layout.symbols[0]] = int(value)
    runner = _ArrayRunner(fn, source, context)
    output = runner.call(env)
    check_not_returned(runner, output)
    marked = holds_missing(output)
    if marked is not None:
        raise refused_use(runner, marked, marked.node, "it is returned")
    output = as_lists(runner, output, node)
    context.reads.extend(defaults_read(fn))
    reads: dict[tuple[int, Any], Read] = {}
    # one per value: the one that checks most
    for read in resolved_reads(context):
        key = (id(read.container), read.key)
        if key not in reads or read.tree is not None or (
                read.values is not None):
            reads[key] = read
    return ArrayLowered(source.name, source.location, params, arguments,
                        program, output, context.data, context.labels,
                        tuple(reads.values()), source,
                        frozenset(context.namespaces),
                        frozenset(context.fixed))


def _described(value: Any) -> str:
    """What a function returned that is not a number, as its user wrote
    it: a condition as an expression (x > 0), else by its type."""
    if isinstance(value, Boolean):  # (x > 0, np.isnan(x))
        return f"a bool, {sp.sstr(value)}"
    if isinstance(value, sp.Basic):
        return sp.sstr(value)
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _bind_argument(program: Program, name: str, value: Any,
                   differentiable: bool, transform: str = "grad",
                   owner: str = "") -> tuple[ArgumentLayout, Any]:
    accessors, leaves, spec = optree.tree_flatten_with_accessor(value)
    symbols = []
    for accessor, leaf in zip(accessors, leaves):
        where = accessor.codify(name)
        argument = f"argument {where}" + (
            f" of the derivative of {owner}" if owner else "")
        dtype = _dtype(leaf)
        if np.iscomplexobj(leaf):
            value_is = (f"an array of dtype {leaf.dtype}" if np.ndim(leaf)
                        else repr(leaf))
            raise InputError(
                f"{argument} is complex ({value_is}): autodiff_ast "
                "differentiates real functions of real arguments (complex "
                "differentiation, JAX's holomorphic=True, is not supported "
                f"yet). Pass the real part, e.g. {where}.real, if that is "
                "meant.")
        if dtype is None:
            what = (f"an array of dtype {leaf.dtype}"
                    if isinstance(leaf, np.ndarray)
                    else f"a {type(leaf).__name__}")
            fix = (f"Pass floats, e.g. np.asarray({where}, dtype=float)."
                   if isinstance(leaf, (np.ndarray, str, bytes)) else
                   "Pass numbers, NumPy arrays, or lists, tuples and dicts "
                   "of them, or leave it out of argnums.")
            raise InputError(
                f"{argument} is {what}, not a real number or an array of "
                f"them. {fix}")
        if differentiable and not np.issubdtype(dtype, np.floating):
            raise InputError(
                f"{transform} requires floating-point inputs, but argument "
                f"{where} has dtype {dtype}. Pass floats, e.g. "
                f"np.asarray({where}, dtype=float), or leave the argument "
                "out of argnums.")
        kind = "param" if differentiable else "data"
        leaf_info = Leaf(tuple(np.shape(leaf)), kind,
                         boolean=dtype == np.bool_,
                         integer=dtype.kind in "iu",
                         access=None if where == name else where,
                         dtype=dtype)
        if where == name:
            symbol = sp.Symbol(name, integer=True) if _is_count(
                leaf, differentiable) else sp.Symbol(name, real=True)
            program.leaves[symbol] = leaf_info
        else:
            symbol = program.new_symbol(where, leaf_info)
        symbols.append(symbol)
    structured = optree.tree_unflatten(spec, [
        _signed(program, symbol) for symbol in symbols])
    return ArgumentLayout(name, spec, tuple(symbols)), structured


def _free_symbols(value: Any) -> set[sp.Symbol]:
    """The symbols in ``value`` (an expression, or a tuple or list of
    them)."""
    if isinstance(value, sp.Basic):
        return value.free_symbols  # type: ignore[return-value]
    if isinstance(value, (tuple, list)):
        return set().union(*map(_free_symbols, value))
    return set()


def _is_count(leaf: Any, differentiable: bool) -> bool:
    """Whether an argument is an int the code may size arrays with."""
    return not differentiable and isinstance(leaf, (int, np.integer)) \
        and not isinstance(leaf, (bool, np.bool_))


def _signed(program: Program, symbol: sp.Symbol) -> sp.Symbol:
    """``symbol``, read as int64 where it holds unsigned integers: the
    simplified derivative of ``p * t + (1 - p) * (1 - t)`` reads ``2 * t
    - 1``, which wraps around in unsigned arithmetic (2 * 0 - 1 is 255 in
    uint8), where the user's code never went below 0 (sweep 4, bug 2)."""
    dtype = program.leaves[symbol].dtype
    if dtype is None or dtype.kind != "u":
        return symbol
    return program.add(ASTYPE, (symbol,), program.leaves[symbol].shape,
                       f"{symbol.name}_int64", integer=True,
                       dtype="np.int64")


def _dtype(leaf: Any) -> np.dtype | None:
    if isinstance(leaf, (bool, int, float)):
        return np.result_type(leaf)
    dtype = getattr(leaf, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return dtype
    return None


class _ArrayRunner(ArrayOperations, _Runner):
    """Executes a function body on symbolic arrays."""

    # Whether a nan constant lowers (to NAN): in np.where's values only.
    nan_allowed = False

    context: _ArrayContext

    @property
    def program(self) -> Program:
        return self.context.program

    def spawn(self, callee: types.FunctionType,
              source: FunctionSource) -> _Runner:
        return _ArrayRunner(callee, source, self.context)

    def call(self, arguments: dict[str, Any]) -> Any:
        result = super().call(arguments)
        if self.context.inlining:  # a helper's value, used by its caller
            result = self.named(result, self.source.name)
        return result

    # -- values ------------------------------------------------------------

    def constant(self, value: Any, node: ast.AST) -> Any:
        if self.nan_allowed and isinstance(
                value, float) and math.isnan(value):
            return NAN  # np.where(c, np.nan, x): elements marked missing
        if isinstance(value, float) and math.isinf(value):
            # np.inf as an argument (ord=np.inf) or a value (a clip bound):
            # SymPy's oo, which computes as IEEE floats do; only what is
            # undefined (inf - inf, 0 * inf) is refused.
            return sp.oo if value > 0 else -sp.oo
        return super().constant(value, node)

    def outside_value(self, identifier: str, read: Read,
                      node: ast.AST) -> Any:
        value = read.value
        if isinstance(value, np.ndarray):
            return self.data_symbol(identifier, value, node, read)
        if holds_arrays(value) or isinstance(value, (list, dict)):
            # params["W"], read when the code runs; CONFIG["k"], baked in
            return data_tree(self, identifier, read, node)
        return self.constant(value, node)

    def data_symbol(self, identifier: str, value: np.ndarray,
                    node: ast.AST, read: Read,
                    spelled: str | None = None) -> sp.Symbol:
        """The symbol generated code reads the array ``read`` found by,
        ``identifier``; for an attribute generated code can spell as the
        user did, ``spelled`` (``self.w``), read into ``identifier``
        (``self_w = self.w``)."""
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
            value.shape, "data", boolean=value.dtype == np.bool_,
            integer=value.dtype.kind in "iu", access=spelled,
            dtype=value.dtype)
        if spelled is None:
            self.context.data[identifier] = value
        else:
            self.hold_root(spelled)
        self.context.data_symbols[id(value)] = symbol
        if value.dtype == np.bool_:
            self.context.masks[symbol] = read
        else:
            self.context.compared[symbol] = read
        return symbol

    def shape(self, value: Any, node: ast.AST) -> Shape:
        try:
            return self.program.shape(value)
        except ValueError:
            shapes = sorted({self.program.leaves[s].shape
                             for s in value.free_symbols
                             if s in self.program.leaves})
            raise self.shape_error(
                node, "operands could not be broadcast together with "
                f"shapes {' '.join(map(str, shapes))}") from None

    def holds_booleans(self, value: sp.Symbol) -> bool:
        leaf = self.program.leaves.get(value)
        return leaf is not None and leaf.boolean

    def checked(self, value: Any, node: ast.AST) -> Any:
        self.shape(value, node)
        return value

    def name_for(self, value: Any, fallback: str) -> str:
        if isinstance(value, sp.Symbol):
            return value.name
        return fallback

    def number(self, value: Any, node: ast.AST) -> sp.Expr:
        if isinstance(value, Selection):
            raise used_as_an_array(self, value, node)
        if isinstance(value, Missing):
            raise refused_use(self, value, node)
        return super().number(value, node)

    def materialize(self, value: Any, node: ast.AST,
                    suggestion: str = "t") -> sp.Symbol:
        expr = self.number(value, node)
        return self.program.materialize(
            expr, self.context.labels.get(expr, suggestion))

    # -- expressions -------------------------------------------------------

    def _expression(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.List):
            return made(self, [self.expression(e, env) for e in node.elts])
        if isinstance(node, ast.ListComp):
            return made(self, comprehended(self, node, env))
        if isinstance(node, ast.GeneratorExp):
            return comprehended(self, node, env)
        if isinstance(node, (ast.Dict, ast.DictComp)):
            pairs = comprehended(self, node, env) if isinstance(
                node, ast.DictComp) else self.dict_items(node, env)
            if any(isinstance(k, sp.Basic) and k.free_symbols
                   for k, _ in pairs):
                raise self.error(node, "dict keys must be constants")
            return made(self, {plain(k): v for k, v in pairs})
        if isinstance(node, ast.Slice):
            bounds = []
            for part in (node.lower, node.upper, node.step):
                value = None if part is None else self.concrete(
                    self.expression(part, env), part)
                if value is not None and static_int(value) is None:
                    raise self.error(part or node, (
                        "slice bounds must be integers known when the "
                        "function is differentiated (numbers, sizes from "
                        ".shape, a loop's counter plus a number: x[i:i + "
                        "3]), not values computed from the arguments: make "
                        "the width a constant, or select with np.where"))
                bounds.append(None if value is None else static_int(value))
            return slice(*bounds)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (
                ast.USub, ast.UAdd)):
            operand = self.expression(node.operand, env)
            if isinstance(operand, Selection):
                return negated(self, operand, node)
            if isinstance(operand, Missing):
                return missing_negated(operand, node)
            number = self.operand(operand, node.operand)
            return -number if isinstance(node.op, ast.USub) else number
        return super()._expression(node, env)

    def dict_items(self, node: ast.Dict,
                   env: dict[str, Any]) -> list[tuple[Any, Any]]:
        """The (key, value) pairs of a dict display, a ``**mapping`` entry
        spread into its items (``{**params, 'b': b}``), in Python's order:
        a later key replaces an earlier one's value in place."""
        pairs = []
        for key, value in zip(node.keys, node.values):
            if key is not None:
                pairs.append((self.expression(key, env),
                              self.expression(value, env)))
                continue
            mapping = self.expression(value, env)
            if not isinstance(mapping, dict):
                raise self.error(value, (
                    f"** in a dict needs a dict, not "
                    f"{type(mapping).__name__}: spread a dict of the "
                    "function's own or one read from outside"))
            pairs.extend(mapping.items())
        return pairs

    def connective(self, op: ast.AST, operands: tuple[Any, ...],
                   node: ast.AST) -> Any:
        if holds_selection(operands) is not None:  # (r[m] > 0) & (r[m] < 1)
            return connected(self, op, operands, node)
        return super().connective(op, operands, node)

    def compared_whole(self, op: ast.cmpop, values: list[Any],
                       node: ast.Compare) -> Any:
        if holds_selection(values[-2:]) is None:
            return None
        return compared(self, op, values, node)  # np.abs(e[m]) < 1

    def arithmetic(self, op: ast.operator, left: Any, right: Any,
                   node: ast.AST) -> sp.Expr:
        if holds_selection([left, right]) is not None:  # (pred - y)[valid]
            return combined(self, op, left, right, node)
        if holds_missing([left, right]) is not None:  # np.where(c, nan, x)**2
            return missing_arithmetic(self, op, left, right, node)
        if isinstance(op, ast.MatMult):
            return product(self, left, right, node, style="@")
        if isinstance(op, ast.Mult) and isinstance(left, list):
            return buffer(self, left, right, node)
        result = super().arithmetic(op, left, right, node)
        if isinstance(result, (list, tuple)):  # joined: [x] + ys
            return result
        return self.shaped(result, (left, right), node)

    def call_primitive(self, callee: Any, primitive: Any, args: list[Any],
                       kwargs: dict[str, Any], node: ast.Call) -> sp.Expr:
        if holds_selection([args, kwargs]) is not None:  # np.abs(r[m])
            return applied(self, callee, primitive, args, kwargs, node)
        if holds_missing([args, kwargs]) is not None:
            return missing_applied(self, callee, primitive, args, kwargs,
                                   node)
        if primitive.name == "log" and len(args) == 1 and not kwargs:
            stable = stable_log_sum_exp(self, args[0], node)
            if stable is not None:
                return stable
        return self.shaped(
            super().call_primitive(callee, primitive, args, kwargs, node),
            tuple(args), node)

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
        sizes = []
        for axis, n in enumerate(expected):
            # The size of an operand that has this axis, read at run time.
            for operand in operands:
                if not isinstance(operand, sp.Basic):
                    continue
                own = self.program.shape(operand)
                at = axis - (len(expected) - len(own))
                if at >= 0 and own[at] == n:
                    sizes.append(self.program.size(operand, at))
                    break
        zeros = self.program.add(ZEROS, (), expected, "zeros",
                                 shape=tuple(sizes))
        return result + zeros

    def assign(self, target: ast.AST, value: Any,
               env: dict[str, Any]) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, list):
            value = tuple(value)  # a, b = [x, y] (a list argument, np.split)
        elif isinstance(target, ast.Tuple) and isinstance(value, sp.Expr):
            value = self.unpacked(value, target)  # x, y = point: its rows
        if isinstance(target, ast.Name):  # a, b = ...: each name in turn
            value = self.named(value, target.id)
        if isinstance(target, ast.Subscript):  # y[0], y[1] = y[1], y[0]
            store_item(self, target, value, env)
            return
        super().assign(target, value, env)

    def unpacked(self, array: sp.Expr, target: ast.Tuple) -> Any:
        """The rows of ``array`` (along its first axis), one for each name
        of ``target``, as Python unpacks an array."""
        shape = self.shape(array, target)
        if not shape:
            raise self.error(target, "cannot unpack a 0-d array (a number) "
                                     f"into {len(target.elts)} names")
        if shape[0] != len(target.elts):
            raise self.error(target, f"cannot unpack {shape[0]} rows of an "
                                     f"array of shape {shape} into "
                                     f"{len(target.elts)} names")
        rows = constant_rows(self, array, target)
        if rows is not None:  # (an array of constants keeps its shape)
            return tuple(rows)
        # At another number of rows Python raises where the code would
        # read the first ones: the code checks the shape it was made for.
        self.program.baked.append(f"{ast.unparse(target)} = ... unpacks "
                                  f"{shape[0]} rows")
        return tuple(getitem(self, array, row, target)
                     for row in range(shape[0]))

    def named(self, value: Any, name: str) -> Any:
        """``value``, or a step named after ``name`` that holds it once it
        is large written out: its uses then read the name, so a chain of
        statements that each read the last value twice grows linearly, not
        by doubling, and the chain rule runs over the names."""
        if isinstance(value, (list, dict)):
            # In place: another name for the same list sees the same items.
            for key in (range(len(value)) if isinstance(value, list)
                        else list(value)):
                item = self.named(value[key], name)
                if item is not value[key]:  # (never write to a list as is)
                    value[key] = item
            return value
        if isinstance(value, tuple):  # pair = (a, b): each item
            items = [self.named(item, name) for item in value]
            if all(a is b for a, b in zip(items, value)):
                return value
            return value._make(items) if hasattr(value, "_make") else \
                tuple(items)  # a namedtuple stays one
        if isinstance(value, sp.Expr) and not value.is_Atom and \
                written_out_size(value, memo=self.context.sizes) > NAMED_FROM:
            return self.program.materialize(value, name)
        return value

    def simple_statement(self, statement: ast.stmt,
                         env: dict[str, Any]) -> None:
        super().simple_statement(statement, env)
        if isinstance(statement, ast.Assign) and len(
                statement.targets) == 1 and isinstance(
                statement.targets[0], ast.Name) and (_makes_new(
                statement.value) or self.copied_by_index(
                statement.value, env.get(statement.targets[0].id))):
            # y = np.array(x), y = x * 1.0, y = x[[0, 1]]: Python made a
            # new array, which the function may fill, though its value is
            # x's.
            name = statement.targets[0].id
            value = env.get(name)
            self.context.new_arrays[name] = (value, frozenset(
                other for other, held in env.items()
                if held is value and other != name), len(self.program.steps))

    def copied_by_index(self, expression: ast.expr, value: Any) -> bool:
        """Whether ``expression``, which gave ``value``, is an index
        that copies (``x[[0, 1]]``, ``x[mask]``: see ``copies``)."""
        step = self.program.definition().get(value) if isinstance(
            expression, ast.Subscript) and isinstance(
            value, sp.Symbol) else None
        return step is not None and copies(self.program, step)

    def store(self, statement: ast.stmt, env: dict[str, Any]) -> None:
        targets = statement.targets if isinstance(
            statement, ast.Assign) else [getattr(statement, "target", None)]
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(
                    target.value, ast.Name) and isinstance(
                    env.get(target.value.id), _Empty):
                self.filled_by_item(target.value.id, env)
        if not grown(self, statement, env):
            store(self, statement, env)

    def filled_by_item(self, name: str, env: dict[str, Any]) -> None:
        """``name``, an ``np.empty(3)`` a loop does not fill (y[0] = x0,
        y[1] = ...), made the zeros it may as well hold: what np.empty
        holds where the function does not fill it is never read as a
        derivative."""
        empty = env[name]
        count = static_int(empty.count)
        zeros = self.program.add(ZEROS, (), (count,), name, shape=(count,))
        # Another name for it (g = y) holds the same array, which a fill
        # changes too: reading it after the fill is refused, as for zeros.
        for other, held in list(env.items()):
            if held is empty:
                env[other] = zeros
        self.context.new_arrays[name] = (zeros, frozenset(),
                                         len(self.program.steps))

    def guard(self, statement: ast.If, env: dict[str, Any]) -> None:
        check_shapes(self, statement, env)

    def known_dtype(self, array: sp.Expr) -> np.dtype | None:
        """The dtype of ``array``, where the inputs' dtypes decide it (the
        code is generated for the dtypes of its inputs), else None."""
        leaf = self.program.leaves.get(array)
        if leaf is not None and leaf.dtype is not None:
            return leaf.dtype
        return computed_dtype(self.program, array)

    def dtype_of(self, array: sp.Expr, node: ast.AST) -> np.dtype:
        """``x.dtype`` of an input (for ``.astype(x.dtype)``, ``dtype=``)
        or of a value computed from floats."""
        dtype = self.known_dtype(array)
        if dtype is None:
            raise self.error(node, ".dtype of a value computed from integers "
                                   "or booleans, or through a cast, is not "
                                   "supported: use the dtype of an "
                                   "argument or global array (x.dtype)")
        return dtype

    def subscript(self, node: ast.Subscript, env: dict[str, Any]) -> Any:
        container = self.expression(node.value, env)
        if isinstance(container, _INDEX_TRICKS):
            return self.joined(container, node, env)
        index = self.expression(node.slice, env)
        if isinstance(container, (dict, list, tuple)):
            key = plain(index)
            found = item_at_run_time(self, container, key, node) \
                if isinstance(container, (list, tuple)) else None
            if found is not None:  # WEIGHTS[n], n an int argument
                return found
            try:
                return container[key]
            except (KeyError, IndexError, TypeError):
                raise self.error(node, f"{key!r} is not in this "
                                       f"{type(container).__name__}"
                                       ) from None
        key = known_masks(self, index)
        selected = selection(self, container, key, node)
        if selected is not None:  # x[x > 0], read by a reduction
            return selected
        array = self.number(container, node.value)
        return getitem(self, array, key, node)

    def joined(self, trick: Any, node: ast.Subscript,
               env: dict[str, Any]) -> Any:
        """``np.r_[a, b, 0:3]`` (a concatenation of 1-D pieces, numbers
        and constant ranges) and ``np.c_[a, b]`` (columns side by side)."""
        spelled = "np.c_" if isinstance(trick, type(np.c_)) else "np.r_"
        parts = (node.slice.elts if isinstance(node.slice, ast.Tuple)
                 else [node.slice])
        # the rows' lowerings name the call they lower and point at it
        call = ast.copy_location(ast.Call(node.value, [], []), node)
        call.end_lineno, call.end_col_offset = (node.end_lineno,
                                                node.end_col_offset)
        pieces = []
        for part in parts:
            value = self.expression(part, env)
            if isinstance(value, slice):
                if value.stop is None:
                    raise self.error(part, f"{spelled}[...] needs a stop "
                                           "for a range, e.g. 0:3")
                bounds = [value.start or 0, value.stop] + (
                    [value.step] if value.step is not None else [])
                value = self.array_call(_op("arange"), bounds, {}, call)
            elif isinstance(value, str):
                raise self.error(part, f"{spelled}[...] with a directive "
                                       f"string ({value!r}) is not "
                                       "supported: use np.concatenate or "
                                       "np.stack with an axis")
            pieces.append(value)
        if spelled == "np.c_":
            return self.array_call(_op("column_stack"), [pieces], {}, call)
        pieces = [self.array_call(_op("atleast_1d"), [p], {}, call)
                  for p in pieces]
        return self.array_call(_op("concatenate"), [pieces], {}, call)

    def attribute(self, node: ast.Attribute, env: dict[str, Any]) -> Any:
        base = self.attribute_base(node.value, env)
        if isinstance(base, Missing):
            raise refused_use(self, base, node, f".{node.attr} is read")
        if isinstance(base, Selection):  # x[m].sum(), x[m].size
            if array_method(node.attr) is not None:
                return _Method(node.attr, base)  # type: ignore[arg-type]
            return attribute_of(self, base, node)
        if isinstance(base, tuple) and hasattr(base, "_fields"):
            if node.attr in base._fields:  # type: ignore[attr-defined]
                return getattr(base, node.attr)
            if node.attr == "_replace":  # state._replace(b=...)
                return _Method(node.attr, base)  # type: ignore[arg-type]
            member = self.tuple_member(base, node)  # pt.is_zero
            if member is not None:
                return member
        if not isinstance(base, sp.Basic):
            value = getattr(base, node.attr, None)
            if is_library(base) or not (isinstance(value, (np.ndarray, dict))
                                        or holds_arrays(value)):
                found = super().attribute(node, env)
                if not is_library(base):
                    self.remember_path(node, env, value)
                return found
            # self.X, constants.X: an array the code reads as data
            # (self_X), made again if the attribute is given another; a
            # container of them (self.params) read item by item
            read = Read(base, node.attr, value)
            spelled = self.readable_attribute(node, env)
            if not isinstance(value, np.ndarray):
                return data_tree(self, self.fresh(_attribute_name(node)),
                                 read, node, spelled)
            self.context.reads.append(read)
            known = self.context.data_symbols.get(id(value))
            if known is not None:
                return known
            return self.data_symbol(self.fresh(_attribute_name(node)),
                                    value, node, read, spelled)
        array = self.number(base, node.value)
        shape = self.shape(array, node)
        if node.attr == "T":
            return transpose(self, array, None, node)
        if node.attr == "mT":  # NumPy 2's: the last two axes swapped
            if len(shape) < 2:
                raise self.error(node, ".mT needs an array of two or more "
                                       "dimensions")
            order = tuple(range(len(shape) - 2)) + (len(shape) - 1,
                                                    len(shape) - 2)
            return transpose(self, array, order, node)
        if node.attr == "shape":
            # Sizes read when the code runs (X.shape[0]), not baked in.
            return tuple(sp.sympify(n) for n in self.program.shape_of(array))
        if node.attr == "ndim":
            return sp.Integer(len(shape))
        if node.attr == "dtype":
            return self.dtype_of(base, node)  # (a comparison's: bool)
        if node.attr == "size":
            return sp.sympify(self.program.size(array, None))
        op = array_method(node.attr)
        if op is not None and op.refused is not None:
            raise self.error(node, op.refused.format(
                spelled=f"{ast.unparse(node)}()"))
        if op is not None:
            # (the element of a boolean array, x.astype(bool).item(), is
            # a condition, as NumPy's is a bool)
            return _Method(node.attr, base if node.attr == "item" and
                           is_condition(base) else array)
        methods = ", ".join(f".{name}()" for name in method_names())
        raise self.error(node, f"the attribute .{node.attr} is not "
                               "supported: a differentiated value has .T, "
                               f".shape, .ndim, .size and the methods "
                               f"{methods}")

    def readable_attribute(self, node: ast.Attribute,
                           env: dict[str, Any]) -> str | None:
        """``self.w`` or ``self.params`` as the user spelled it, where
        generated code can read it so: its root is a name the derivative
        reaches (a bound method's ``self``, a global, a closure cell; not
        an argument, which the derivative may not take)."""
        spelled = self.spelled(node, env) or self.spelled_through(node, env)
        if spelled is None:
            return None
        root = spelled.partition(".")[0]
        if root in self.program.names and root not in self.context.roots:
            return None  # (the name means something else in the code)
        return spelled

    def hold_root(self, spelled: str) -> None:
        """Make the root of ``spelled`` (``self``) a name of generated
        code, bound to what it is now: the object, read again on each
        call (a changed attribute makes the code generated again)."""
        root = spelled.partition(".")[0]
        if root in self.context.roots:
            return
        function = self.context.root
        assert function is not None
        cells = self.context.bound | {
            name: cell.cell_contents for name, cell in zip(
                function.__code__.co_freevars, function.__closure__ or ())}
        value = cells[root] if root in cells else function.__globals__[root]
        self.context.roots[root] = self.context.data[root] = value
        self.program.reserve(root)

    def remember_path(self, node: ast.Attribute, env: dict[str, Any],
                      value: Any) -> None:
        """Where generated code reaches ``value``, an object (a layer) or a
        list of them (``self.layers``) read at ``node``, so that a method
        inlined on it spells its arrays from there (``self.layers[0].w``,
        not the method's own ``self.w``)."""
        spelled = self.readable_attribute(node, env)
        if spelled is None or not _an_object(value):
            return
        paths = self.context.object_paths
        paths.setdefault(id(value), (value, spelled))
        if isinstance(value, (list, tuple)):
            for place, item in enumerate(value):
                if _an_object(item):
                    paths.setdefault(id(item), (item, f"{spelled}[{place}]"))

    def spelled_through(self, node: ast.Attribute, env: dict[str, Any]
                        ) -> str | None:
        """``node`` spelled from where generated code reaches the object
        its name holds (``layer.w`` in an inlined method as
        ``self.layers[0].w``)."""
        parts = [node.attr]
        inner: ast.expr = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or inner.id not in env:
            return None
        known = self.context.object_paths.get(id(env[inner.id]))
        return None if known is None else ".".join([known[1]] + parts[::-1])

    def fresh(self, name: str) -> str:
        """``name``, or ``name_1``, ... where the program has it (another
        layer's self.W)."""
        fresh = name
        for number in itertools.count(1):
            if fresh not in self.program.names:
                return fresh
            fresh = f"{name}_{number}"
        raise AssertionError  # (count() never ends)

    # -- sizes used as constants --------------------------------------------

    def concrete(self, value: Any, node: ast.AST | None = None) -> Any:
        """``value`` for a use that decides the code's structure (a loop
        count, a slice bound, an index): sizes read at run time become the
        numbers they are now, and the code checks the shapes it was made
        for; a condition of global masks, a mask of known values."""
        return known_masks(self, self.fixed(value, node))

    def fixed(self, value: Any, node: ast.AST | None = None) -> Any:
        """``value`` with the sizes read at run time the numbers they are
        now."""
        value = super().concrete(value)
        counts = self.context.counts.keys() & _free_symbols(value)
        self.program.sizes.update(
            (count, self.context.counts[count]) for count in counts)
        fixed = self.program.concrete(value)
        if fixed is not value and fixed != value:
            self.context.fixed.update(count.name for count in counts)
            where = "a loop count or a condition" if node is None else (
                f"{ast.unparse(node)} at {self.source.filename}:"
                f"{getattr(node, 'lineno', '?')}")
            self.program.baked.append(f"a size is used as a constant "
                                      f"({where})")
        return fixed

    def condition(self, node: ast.expr, env: dict[str, Any]) -> Any:
        # A branch on a size (if len(x) > 3) is decided now: the code then
        # checks the sizes it was made for.
        return self.fixed(super().condition(node, env), node)

    def integers(self, value: Any, node: ast.AST, what: str
                 ) -> tuple[int, ...]:
        return super().integers(self.concrete(value, node), node, what)

    def integer(self, value: Any, node: ast.AST, what: str) -> int:
        return super().integer(self.concrete(value, node), node, what)

    def static_number(self, value: Any, node: ast.AST, what: str) -> float:
        return super().static_number(self.concrete(value, node), node, what)

    def axis(self, axis: Any, ndim: int, node: ast.AST) -> int:
        return super().axis(self.concrete(axis, node), ndim, node)

    def dims(self, shape: Any, node: ast.AST, what: str) -> tuple[Any, ...]:
        """A shape the user gave (ints, and sizes read at run time, which
        stay sizes) and its value now."""
        items = shape if isinstance(shape, (tuple, list)) else (shape,)
        return tuple(item if self.is_size(item)
                     else self.integer(item, node, what) for item in items)

    def is_size(self, value: Any) -> bool:
        """Whether ``value`` is computed from sizes alone (``len(x)``,
        ``2 * x.shape[0]``), an integer generated code computes."""
        if not (isinstance(value, sp.Expr) and bool(value.free_symbols)
                and value.free_symbols <= self.program.sizes.keys()
                | self.context.counts.keys() and value.is_integer is True):
            return False
        # An int argument that sizes an array is a size from now on (a
        # loop over range(n) after np.zeros(n) is a loop over its rows).
        self.program.sizes.update(
            (count, self.context.counts[count])
            for count in value.free_symbols & self.context.counts.keys())
        return True

    def fork(self, statement: ast.If, condition: Any, rest: list[Any],
             env: dict[str, Any]) -> Any:
        self.scalar_condition(condition, statement.test)
        return super().fork(statement, condition, rest, env)

    def merge(self, statement: ast.If, condition: Any,
              env: dict[str, Any]) -> None:
        self.scalar_condition(condition, statement.test)
        super().merge(statement, condition, env)

    def scalar_condition(self, condition: Any, node: ast.AST,
                         written: str = "if") -> None:
        if self.shape(condition, node) != ():
            raise truth_of_an_array(self.error(
                node, "the truth value of an array is ambiguous: select "
                      "elementwise with np.where(condition, a, b)"), written)

    def kept_loop(self, loop: ast.For, env: dict[str, Any]) -> bool:
        return keep_loop(self, loop, env)

    def kept_while(self, loop: ast.While, env: dict[str, Any]) -> None:
        keep_while(self, loop, env)

    def iteration_items(self, iterator: ast.expr,
                        env: dict[str, Any]) -> list[Any] | None:
        if isinstance(iterator, ast.Call):
            items = container_items(self, iterator, env)
            if items is not None:
                return list(items)
            if self.expression(iterator.func, env) in (range, reversed):
                return None
        items = self.expression(iterator, env)
        if isinstance(items, (list, tuple)):
            return list(items)
        if isinstance(items, dict):
            return list(items)
        rows = constant_rows(self, items, iterator)
        if rows is not None:
            return rows
        raise self.error(iterator, "for loops must iterate over range() or "
                                   "over a list, tuple or dict argument")

    # -- calls -------------------------------------------------------------

    def call_expression(self, node: ast.Call, env: dict[str, Any]) -> Any:
        callee = self.expression(node.func, env)
        if isinstance(callee, _Method) and callee.name == "_replace":
            if node.args:
                raise self.error(node, "_replace() takes the fields to "
                                       "change by name")
            try:  # a namedtuple of the new values, as Python's
                return callee.array._replace(  # type: ignore[attr-defined]
                    **self.keywords(node, env))
            except ValueError as exc:
                raise self.error(node, str(exc)) from None
        if isinstance(callee, _Method):
            args = [callee.array] + [self.expression(a, env)
                                     for a in node.args]
            op = array_method(callee.name)
            assert op is not None
            return self.array_call(op, args, self.keywords(node, env), node,
                                   method=True)
        if callee is np.empty and len(node.args) == 1 and not node.keywords:
            shape = self.expression(node.args[0], env)
            if isinstance(shape, tuple):
                # np.empty((n, d)): rows a loop fills (the histories our
                # gradients keep), as np.zeros, which reads the same there
                return self.array_call(array_function(np.zeros), [shape],
                                       {}, node)
            # np.empty(n): an array a loop fills, one number per iteration
            filled = buffer(self, [0.0], shape, node)
            if static_int(shape) is None:
                return filled
            return _Empty(filled.count, filled.fill)
        if any(callee is f for f in _OF_DTYPES):
            return self.of_dtypes(callee, node, env)
        if callee is np.where:
            marked = nan_marked(self, node, env)
            if marked is not None:
                return marked
        # A range taken as a value (probs[range(n), y], cs231n's softmax)
        # is the integers np.arange gives, as NumPy reads one in an index.
        # (Loops and comprehensions over range() never call it.)
        if callee is range or callee is len or array_function(
                sum if callee is math.fsum else callee) is not None:
            args = [self.expression(a, env) for a in node.args]
            return self.array_function_call(
                np.arange if callee is range else callee, args,
                self.keyword_arguments(node, env), node)
        return super().call_expression(node, env)

    def array_call(self, op: Any, args: list[Any], kwargs: dict[str, Any],
                   node: ast.Call, method: bool = False) -> Any:
        if holds_selection([args, kwargs]) is not None:  # np.mean(e[m])
            return reduced(self, op, args, kwargs, node, method)
        if holds_missing([args, kwargs]) is not None:  # np.nansum(y ** 2)
            check_reduced(self, op, args, kwargs, node)
        return super().array_call(op, args, kwargs, node, method)

    def array_function_call(self, callee: Any, args: list[Any],
                            kwargs: dict[str, Any], node: ast.Call) -> Any:
        if callee is len:
            (value,) = args
            if isinstance(value, Selection):  # the mask's count
                return count(self, value)
            if isinstance(value, (list, tuple, dict)):
                return sp.Integer(len(value))
            array = self.number(value, node)
            if not self.shape(array, node):
                raise self.error(node, "len() of a scalar")
            return sp.sympify(self.program.size(array, 0))
        # math.fsum is sum, exact in floats: its derivative is a sum's.
        op = array_function(sum if callee is math.fsum else callee)
        assert op is not None
        if op.refused is not None:
            raise self.error(node.func, op.refused.format(
                spelled=ast.unparse(node.func)))
        return self.array_call(op, args, {
            key: plain(value) for key, value in kwargs.items()}, node)

    def of_dtypes(self, callee: Any, node: ast.Call,
                  env: dict[str, Any]) -> Any:
        """``np.issubdtype(x.dtype, np.floating)`` and NumPy's other
        functions of dtypes: decided now, as the code is made for the
        dtypes of its arguments."""
        args = [self.expression(a, env) for a in node.args]
        kwargs = self.keywords(node, env)
        if any(isinstance(a, sp.Basic) for a in [*args, *kwargs.values()]):
            raise self.error(node, f"{ast.unparse(node.func)}() takes "
                                   "dtypes here, not values: pass x.dtype")
        return as_sympy(callee(*args, **kwargs))

    def keywords(self, node: ast.Call, env: dict[str, Any]) -> dict[str, Any]:
        return {key: plain(value) for key, value in
                self.keyword_arguments(node, env).items()}


# NumPy's functions of dtypes, which a check of arguments may call.
_OF_DTYPES = (np.dtype, np.issubdtype, np.can_cast, np.result_type,
              np.promote_types)


@dataclass(frozen=True)
class _Empty(Buffer):
    """``np.empty(3)``: a list a loop fills, as ``np.empty(n)`` (its loop
    keeps it so, the clearest code), or zeros filled item by item."""


def _an_object(value: Any) -> bool:
    """Whether ``value`` is an object whose attributes code may read (a
    layer, a list of layers), not a number, a string or an array."""
    return not isinstance(value, (numbers.Number, str, bytes, type(None),
                                  np.ndarray, sp.Basic, types.ModuleType))


def _makes_new(value: ast.expr) -> bool:
    """Whether ``value`` is a new array in Python whatever it equals:
    arithmetic, ``np.array(x)`` (which copies), ``np.copy(x)``,
    ``x.copy()``, ``x.flatten()`` and ``x.astype(t)`` (copies too),
    any of them or ``np.asarray(x)`` with ``copy=True``, ``np.zeros(n)``
    and the like."""
    if isinstance(value, (ast.BinOp, ast.UnaryOp)):
        return True
    if not isinstance(value, ast.Call):
        return False
    spelled = ast.unparse(value.func)
    if spelled.partition(".")[0] in ("np", "numpy") and spelled.rpartition(
            ".")[2] in _CONSTRUCTORS:
        return True
    copies = spelled.endswith((".copy", ".flatten", ".astype")) or spelled in (
        "np.array", "np.copy", "numpy.array", "numpy.copy")
    copy = next((k.value for k in value.keywords if k.arg == "copy"), None)
    if copy is None:
        return copies
    # (copy=None or False: x itself where it can be)
    return (copies or spelled in ("np.asarray", "numpy.asarray")) and \
        isinstance(copy, ast.Constant) and copy.value is True


# NumPy's functions that make a new array of given values: two calls with
# the same arguments are two arrays (x = np.zeros(5); v = np.zeros(5)).
_CONSTRUCTORS = frozenset(("zeros", "zeros_like", "ones", "ones_like",
                           "full", "full_like", "empty", "empty_like"))


def computed_dtype(program: Program, value: Any,
                   weak: frozenset[sp.Symbol] = frozenset()
                   ) -> np.dtype | None:
    """The dtype of ``value``, computed from floating-point inputs
    only: NumPy's promotion of theirs (numbers in the code are weak,
    as NumPy 2 takes Python's, and so are the inputs ``weak`` names);
    None where an integer or boolean value, a comparison made a number
    (``(x > 0) * 1.0`` is float64 for float32 x) or a cast takes part,
    which this does not follow, or where no input's dtype counts."""
    made = {step.target: step for step in program.steps}
    dtypes, seen, pending = set(), set(weak), [value]
    while pending:
        expr = pending.pop()
        if not isinstance(expr, sp.Expr) or program.is_integer(expr) \
                or expr.has(*FLOAT_CASTS.values()) or any(
                    _made_of_a_comparison(choice)
                    for choice in expr.atoms(where, sp.Piecewise)):
            return None
        for symbol in expr.free_symbols - seen:
            seen.add(symbol)
            leaf = program.leaves.get(symbol)
            if leaf is None or leaf.boolean or leaf.integer:
                return None
            if leaf.dtype is not None:
                dtypes.add(leaf.dtype)
            elif symbol in made and made[symbol].op is not ASTYPE:
                pending.extend(made[symbol].operands)
            else:
                return None
    if not dtypes or any(dtype.kind != "f" for dtype in dtypes):
        return None
    return np.result_type(*dtypes)


def _made_of_a_comparison(choice: sp.Basic) -> bool:
    """Whether ``choice`` (np.where, a Piecewise) chooses between
    constants: a comparison made a number (1 and 0), whose dtype NumPy
    takes from the constants, not from the values compared."""
    values = choice.args[1:] if isinstance(choice, where) else [
        value for value, _ in choice.args]
    return all(not value.free_symbols for value in values)


def _attribute_name(node: ast.Attribute) -> str:
    """``self_X`` for ``self.X``, ``model_layers_W`` for ``model.layers.W``:
    a name for an array an object holds."""
    return "_".join(part.strip("_") or "attribute" for part in
                    ast.unparse(node).replace(" ", "").split(".")
                    if part.isidentifier())


# np.r_ and np.c_: objects indexed to build an array.
_INDEX_TRICKS = (type(np.r_), type(np.c_))


def _op(name: str) -> Any:
    """The array table's row of ``np.<name>``."""
    op = array_function(getattr(np, name))
    assert op is not None
    return op


def check_output(lowered: ArrayLowered, has_aux: bool, value: Any,
                 where: str, own: bool = True) -> sp.Expr:
    """The scalar value to differentiate, or an error like JAX's
    (``where``: what returns it, ``f (demo.py:3)``; ``own``: the user's
    function, which could return an aux, not a derivative of it)."""
    if not isinstance(value, sp.Expr):
        raise OutputError(f"{where} returns {_described(value)}, which "
                          "is not a number: grad needs a scalar output."
                          + (" With has_aux=True, return (value, aux)."
                             if own and not has_aux else ""))
    shape = lowered.program.shape(value)
    if shape != ():
        raise OutputError(
            f"Gradient only defined for scalar-output functions. Output had "
            f"shape: {shape}. {where} returns an array: reduce it, e.g. "
            "wrap the result in np.sum(...) or np.mean(...), or "
            "differentiate each output separately for a Jacobian.")
    return canonical(value)

