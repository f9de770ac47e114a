"""Rows of the array table that create arrays: ``np.zeros``, ``ones``,
``full``, ``empty``, ``eye``/``identity``, ``tri``, ``arange``,
``linspace``, the ``*_like`` functions, ``np.array`` of constants, and
``np.copy`` (a new array holding the values of another).

What they create is a constant to differentiation, written in generated
code as the user called it (``np.zeros((3, 2))``), except for the values
they are filled with: ``np.full(shape, a)`` and ``np.linspace(a, b, n)``
pass gradients and tangents on to ``a`` and ``b`` (not an integer or bool
array, which holds ``a`` rounded: a constant, as in JAX). Shapes must be
known when the code is generated (constants, or computed from
``.shape``).
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanAtom

from ._lower_records import Read
from ._ops_core import BROADCAST_TO, EXPAND_DIMS
from ._program import ArrayOp, Step
from ._spell import call, literal

__all__ = ["ZEROS", "ONES", "FULL", "EYE", "IDENTITY", "TRI", "ARANGE",
           "LINSPACE", "EMPTY", "ZEROS_LIKE", "EMPTY_LIKE", "ONES_LIKE",
           "FULL_LIKE", "CONSTANT", "COPY",
           "constant_array", "is_constant", "main_diagonal_eye",
           "is_identity"]


def _dtype(run: Any, dtype: Any, node: ast.AST) -> tuple[str | None, str]:
    """How generated code spells ``dtype`` (None: not given) and its kind
    ('f', 'i', 'u' or 'b')."""
    if dtype is None:
        return None, "f"
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        raise run.error(node, f"dtype={dtype!r} is not a NumPy dtype"
                        ) from None
    if kind not in "biuf":
        raise run.error(node, f"dtype={dtype!r}: only bool, integer and "
                              "floating arrays can be created here")
    if dtype in (float, int, bool):
        return dtype.__name__, kind
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        return f"np.{dtype.__name__}", kind
    return repr(str(np.dtype(dtype))), kind


def _dtype_keyword(step: Step) -> ast.expr | None:
    text = step.option("dtype")
    return None if text is None else ast.parse(text, mode="eval").body


def _shape(run: Any, shape: Any, node: ast.AST) -> tuple[Any, ...]:
    """The shape as the user wrote it: ints, and sizes read at run time
    (``np.zeros(x.shape)``)."""
    dims = run.dims(shape, node, "the shape")
    values = run.program.concrete(dims)
    if any(n < 0 for n in values):
        raise run.error(node, f"negative dimensions are not allowed: "
                              f"{tuple(int(n) for n in values)}")
    return dims


def _written(*values: Any) -> dict[str, Any]:
    """``as_written=True`` for a step whose sizes include numbers the user
    wrote (not sizes fixed from the arguments' shapes)."""
    flat = [n for v in values
            for n in (v if isinstance(v, tuple) else (v,))]
    if any(isinstance(n, int) and n not in (-1, 0, 1) for n in flat):
        return {"as_written": True}
    return {}


def _create(run: Any, op: ArrayOp, result: tuple[Any, ...], kind: str,
            suggestion: str, **options: Any) -> sp.Symbol:
    result = tuple(int(n) for n in run.program.concrete(result))
    return run.program.add(op, (), result, suggestion, boolean=kind == "b",
                           integer=kind in "iu", **options)


def _lower_zeros(run: Any, shape: Any, dtype: Any = None, *,
                 node: ast.AST) -> Any:
    dims = _shape(run, shape, node)
    spelled, kind = _dtype(run, dtype, node)
    return _create(run, ZEROS, dims, kind, "zeros", shape=dims,
                   dtype=spelled, **_written(dims))


def _lower_ones(run: Any, shape: Any, dtype: Any = None, *,
                node: ast.AST) -> Any:
    dims = _shape(run, shape, node)
    spelled, kind = _dtype(run, dtype, node)
    return _create(run, ONES, dims, kind, "ones", shape=dims, dtype=spelled,
                   **_written(dims))


def _spell_filled(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        shape = step.option("shape")
        return call(spelling,
                    [literal(shape[0] if len(shape) == 1 else shape)] + args,
                    dtype=_dtype_keyword(step))
    return spell


# ZEROS also keeps the shape of a result algebra cancelled (W - W is zeros
# of W's shape, not the number 0). The shape options of these rows (shape,
# rows, columns, bounds, num) hold ints and size symbols (np.zeros(
# x.shape), np.eye(len(y))); as_written: their ints are the user's.
ZEROS = ArrayOp("zeros", numpy=("zeros",), lower=_lower_zeros,
                spell=_spell_filled("np.zeros"), stops_gradient=True,
                any_size=True)
ONES = ArrayOp("ones", numpy=("ones",), lower=_lower_ones,
               spell=_spell_filled("np.ones"), stops_gradient=True,
               any_size=True)


def _lower_full(run: Any, shape: Any, fill_value: Any, dtype: Any = None,
                *, node: ast.AST) -> Any:
    dims = _shape(run, shape, node)
    spelled, kind = _dtype(run, dtype, node)
    value = run.number(fill_value, node)
    if run.shape(value, node) != ():
        raise run.error(node, "np.full takes a single fill value here: use "
                              "np.broadcast_to for an array")
    operand = value if not value.free_symbols else run.materialize(
        value, node, "fill")
    return run.program.add(FULL, (operand,), tuple(
        int(n) for n in run.program.concrete(dims)), "full",
        boolean=kind == "b", integer=kind in "iu", shape=dims,
        dtype=spelled, **_written(dims))


def _filled_with_numbers(program: Any, step: Step) -> bool:
    """Whether ``step`` fills a float array: an integer or bool one holds
    the fill value rounded, a constant to differentiation (as in JAX)."""
    leaf = program.leaves[step.target]
    return not (leaf.integer or leaf.boolean)


def _full_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    value = step.operands[-1]  # np.full's and np.full_like's fill value
    if value in backward.active and _filled_with_numbers(backward.program,
                                                         step):
        # every element is the fill value
        backward.contribute(value, adjoint,
                            backward.program.leaves[step.target].shape)


def _fill_jvp(forward: Any, step: Step) -> sp.Expr:
    """Every element's tangent is the fill value's."""
    tangent = forward.of_expression(step.operands[-1])
    if tangent == 0 or not _filled_with_numbers(forward.program, step):
        return sp.S.Zero
    return forward.program.add(
        BROADCAST_TO, (tangent,), forward.shape(step.target) + forward.batch,
        f"{step.target.name}_tangent", shape=forward.sizes(step.target))


FULL = ArrayOp("full", numpy=("full",), lower=_lower_full, vjp=_full_vjp,
               jvp=_fill_jvp, spell=_spell_filled("np.full"),
               any_size=True)


def _lower_eye(run: Any, N: Any, M: Any = None, k: Any = 0,
               dtype: Any = None, *, node: ast.AST) -> Any:
    return _diagonal_ones(run, EYE, N, M, k, dtype, node)


def _diagonal_ones(run: Any, op: ArrayOp, N: Any, M: Any, k: Any,
                   dtype: Any, node: ast.AST) -> Any:
    """``np.eye``'s ones on diagonal ``k``, or ``np.tri``'s at and below
    it, of ``N`` rows and ``M`` columns."""
    if isinstance(N, (tuple, list)) or isinstance(M, (tuple, list)):
        raise run.error(node, f"np.{op.name} takes a number of rows (and "
                              "of columns), not a shape")
    (rows,) = run.dims(N, node, "the number of rows")
    columns = rows if M is None else run.dims(M, node,
                                              "the number of columns")[0]
    offset = run.integer(k, node, "the diagonal")
    spelled, kind = _dtype(run, dtype, node)
    return _create(run, op, (rows, columns), kind, op.name, rows=rows,
                   columns=None if M is None else columns,
                   k=offset or None, dtype=spelled,
                   **_written(rows, columns))


def _spell_eye(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, [literal(step.option("rows"))]
                    + ([literal(step.option("columns"))]
                       if step.option("columns") is not None else []),
                    k=step.option("k"), dtype=_dtype_keyword(step))
    return spell


def _lower_identity(run: Any, n: Any, dtype: Any = None, *,
                    node: ast.AST) -> Any:
    return _lower_eye(run, n, dtype=dtype, node=node)


EYE = ArrayOp("eye", numpy=("eye",), lower=_lower_eye, stops_gradient=True,
              spell=_spell_eye("np.eye"), any_size=True)
IDENTITY = ArrayOp("identity", numpy=("identity",), lower=_lower_identity)


def _lower_tri(run: Any, N: Any, M: Any = None, k: Any = 0,
               dtype: Any = None, *, node: ast.AST) -> Any:
    return _diagonal_ones(run, TRI, N, M, k, dtype, node)


# Ones at and below a diagonal (a causal mask); options as np.eye's.
TRI = ArrayOp("tri", numpy=("tri",), lower=_lower_tri, stops_gradient=True,
              spell=_spell_eye("np.tri"), any_size=True)


def main_diagonal_eye(program: Any, symbol: Any,
                      definition: Any = None) -> Any:
    """The ``np.eye`` step that defines ``symbol`` with its ones on the
    main diagonal (no ``k``), or None; ``definition``: the program's, where
    the caller has it at hand."""
    if definition is None:
        definition = program.definition()
    step = definition.get(symbol)
    if step is not None and step.op is EYE and not step.option("k"):
        return step
    return None


def is_identity(program: Any, symbol: Any, definition: Any = None) -> bool:
    """Whether ``symbol`` is ``np.eye(n)``: square, ones on the main
    diagonal (a Jacobian's seed)."""
    step = main_diagonal_eye(program, symbol, definition)
    return step is not None and step.option("columns") is None


def _lower_arange(run: Any, *bounds: Any, dtype: Any = None,
                  node: ast.AST) -> Any:
    if not 1 <= len(bounds) <= 3:
        raise run.error(node, "np.arange takes one to three bounds: "
                              "stop, or start, stop and step")
    # A bound computed from sizes (np.arange(len(x))) stays one: the
    # code reads it when it runs.
    spelled_bounds = [b if run.is_size(b) else run.static_number(
        b, node, "np.arange's bounds") for b in bounds]
    # A float literal lowers to an exact number (1.0 is 1); np.arange(1.0,
    # 5.0) is still a float array, and is printed as written.
    if any(isinstance(part, ast.Constant) and isinstance(part.value, float)
           for a in getattr(node, "args", ()) for part in ast.walk(a)):
        spelled_bounds = [float(b) if isinstance(b, int) else b
                          for b in spelled_bounds]
    values = [int(v) if isinstance(v, sp.Basic) else v
              for v in run.program.concrete(tuple(spelled_bounds))]
    start, stop, step = ([0] + values + [1])[:3] if len(values) == 1 else (
        values + [1])[:3]
    if step == 0:
        raise run.error(node, "np.arange's step is 0: it would never stop")
    count = max(0, math.ceil((stop - start) / step))
    spelled, kind = _dtype(run, dtype, node)
    if dtype is None:
        kind = "i" if all(isinstance(v, int) for v in values) else "f"
    return _create(run, ARANGE, (count,), kind, "arange",
                   bounds=tuple(spelled_bounds), dtype=spelled,
                   **_written(tuple(spelled_bounds)))


ARANGE = ArrayOp("arange", numpy=("arange",), lower=_lower_arange,
                 stops_gradient=True,
                 spell=lambda step, args, name: call(
                     "np.arange", [literal(b) for b in step.option("bounds")],
                     dtype=_dtype_keyword(step)),
                 any_size=True)


def _lower_linspace(run: Any, start: Any, stop: Any, num: Any = 50,
                    endpoint: Any = True, retstep: Any = False,
                    dtype: Any = None, axis: Any = 0, *,
                    node: ast.AST) -> Any:
    count = run.integer(num, node, "np.linspace's number of samples")
    if count < 0:
        raise run.error(node, f"np.linspace needs a non-negative number of "
                              f"samples, got {count}")
    low, high = run.number(start, node), run.number(stop, node)
    if endpoint not in (True, False, sp.true, sp.false):
        raise run.error(node, "np.linspace's endpoint must be True or False")
    if _dtype(run, dtype, node)[1] != "f":
        raise run.error(node, "np.linspace is differentiated with a float "
                              "dtype only")
    closed = bool(endpoint)
    bounds = run.checked(high - low, node)
    shape = run.shape(bounds, node)
    if not shape and not low.free_symbols and not high.free_symbols:
        samples = _create(run, LINSPACE, (count,), "f", "grid",
                          bounds=(_float(low), _float(high)), num=count,
                          endpoint=None if closed else False,
                          **_written(count))
    else:
        # From a + (b - a) * t on [0, 1] the bounds get their gradients;
        # bounds that are arrays take the samples along ``axis``.
        unit = _create(run, LINSPACE, (count,), "f", "grid", bounds=(0, 1),
                       num=count, endpoint=None if closed else False,
                       **_written(count))
        if shape:
            at = run.axis(axis, len(shape) + 1, node)
            unit = EXPAND_DIMS.lower(run, unit, tuple(
                i for i in range(len(shape) + 1) if i != at), node=node)
            low, bounds = (EXPAND_DIMS.lower(run, value, at, node=node)
                           for value in (low, bounds))
        samples = run.checked(low + bounds * unit, node)
    if not retstep:
        return samples
    parts = count - 1 if closed else count
    if parts <= 0:
        raise run.error(node, f"np.linspace of {count} sample(s) has no "
                              "step (NumPy's is nan): ask for more samples")
    return samples, run.checked(bounds / parts, node)


def _float(value: sp.Expr) -> Any:
    return int(value) if value.is_Integer else float(value)


LINSPACE = ArrayOp("linspace", numpy=("linspace",), lower=_lower_linspace,
                   stops_gradient=True,
                   spell=lambda step, args, name: call(
                       "np.linspace",
                       [literal(b) for b in step.option("bounds")]
                       + [literal(step.option("num"))],
                       endpoint=step.option("endpoint")),
                   any_size=True)


def _like(run: Any, op: ArrayOp, a: Any, dtype: Any, node: ast.AST,
          fill: Any = None) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    spelled, kind = _dtype(run, dtype, node)
    source = run.materialize(array, node)
    if dtype is None:
        leaf = run.program.leaves[source]
        kind = "b" if leaf.boolean else "i" if leaf.integer else "f"
    operands: tuple[Any, ...] = (source,)
    if fill is not None:
        value = run.number(fill, node)
        if run.shape(value, node) != ():
            raise run.error(node, "np.full_like takes a single fill value "
                                  "here")
        operands += (value if not value.free_symbols
                     else run.materialize(value, node, "fill"),)
    return run.program.add(op, operands, shape, f"{op.name}_{source.name}",
                           boolean=kind == "b",
                           integer=kind in "iu",
                           dtype=spelled)


def _lower_zeros_like(run: Any, a: Any, dtype: Any = None, *,
                      node: ast.AST) -> Any:
    return _like(run, ZEROS_LIKE, a, dtype, node)


def _lower_ones_like(run: Any, a: Any, dtype: Any = None, *,
                     node: ast.AST) -> Any:
    return _like(run, ONES_LIKE, a, dtype, node)


def _lower_full_like(run: Any, a: Any, fill_value: Any, dtype: Any = None,
                     *, node: ast.AST) -> Any:
    return _like(run, FULL_LIKE, a, dtype, node, fill=fill_value)


def _spell_like(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        return call(spelling, args, dtype=_dtype_keyword(step))
    return spell


# Arrays to fill: as zeros (every element it reads it was given).
EMPTY = ArrayOp("empty", numpy=("empty",), lower=_lower_zeros)
EMPTY_LIKE = ArrayOp("empty_like", numpy=("empty_like",),
                     lower=_lower_zeros_like)
ZEROS_LIKE = ArrayOp("zeros_like", numpy=("zeros_like",),
                     lower=_lower_zeros_like, stops_gradient=True,
                     spell=_spell_like("np.zeros_like"),
                     any_size=True)
ONES_LIKE = ArrayOp("ones_like", numpy=("ones_like",),
                    lower=_lower_ones_like, stops_gradient=True,
                    spell=_spell_like("np.ones_like"),
                    any_size=True)
# Also what a gradient that is the same everywhere is written with.
FULL_LIKE = ArrayOp("full_like", numpy=("full_like",),
                    lower=_lower_full_like, vjp=_full_vjp, jvp=_fill_jvp,
                    spell=_spell_like("np.full_like"),
                    any_size=True)


# -- np.array of constants ----------------------------------------------------

def is_constant(values: Any) -> bool:
    """Whether ``values`` (nested lists) are all constant numbers."""
    if isinstance(values, (list, tuple)):
        return all(is_constant(v) for v in values)
    return isinstance(values, (sp.Number, BooleanAtom))


def constant_array(run: Any, values: Any, dtype: Any,
                   node: ast.AST) -> sp.Symbol:
    """An array of constants, written as the user wrote it: floats stay
    floats (1.0, not 1), whole numbers in a literal without a float stay
    integers (an index)."""
    if dtype is not None:
        try:
            kind = np.dtype(dtype).kind
        except TypeError:
            raise run.error(node, f"dtype={dtype!r} is not a NumPy dtype"
                            ) from None
    else:
        literal_node = node.args[0] if isinstance(node, ast.Call) and \
            node.args else None
        kind = _literal_kind(literal_node, values)
    if kind not in "biuf":
        raise run.error(node, f"dtype={dtype!r}: only bool, integer and "
                              "floating arrays are supported here")
    convert = {"b": bool, "i": int, "u": int}.get(kind, float)
    data = _converted(values, convert)
    try:
        shape = np.shape(np.array(data))
        np.array(data, dtype=float)
    except ValueError as exc:
        raise run.error(node, str(exc)) from None
    symbol = run.program.add(CONSTANT, (), shape,
                             "mask" if kind == "b" else "constants",
                             boolean=kind == "b", integer=kind in "iu",
                             values=data)
    masks = getattr(run.context, "masks", None)
    if kind == "b" and masks is not None:
        # A mask of known values, as a global one is: an index picks the
        # same elements at every call (a read that is always current).
        values = np.array(data, dtype=bool)
        masks[symbol] = Read({"mask": values}, "mask", values)
    return symbol


def _literal_kind(node: ast.AST | None, values: Any) -> str:
    """'f' if the literal holds a float (or, not a literal, a value that
    is not whole), 'b' if it holds only True and False, else 'i'."""
    if node is not None and isinstance(node, (ast.List, ast.Tuple)):
        floats = [n for n in ast.walk(node) if isinstance(n, ast.Constant)
                  and isinstance(n.value, float)]
        names = [n for n in ast.walk(node) if isinstance(n, (ast.Name,
                                                             ast.Attribute))]
        if floats or names:
            return "f"
        constants = [n for n in ast.walk(node) if isinstance(n, ast.Constant)]
        if constants and all(type(n.value) is bool for n in constants):
            return "b"  # (a mask, as NumPy makes it)
        return "i"
    flat = np.ravel(np.array(_converted(values, lambda v: v), dtype=object))
    return "i" if all(v.is_Integer for v in flat) else "f"


def _converted(values: Any, convert: Any) -> Any:
    if isinstance(values, (list, tuple)):
        return tuple(_converted(v, convert) for v in values)
    if isinstance(values, BooleanAtom):  # True and False, as 1 and 0
        values = sp.Integer(bool(values))
    return convert(values if convert is not float else float(values))


def _spell_constant(step: Step, args: list[ast.expr],
                    name: str) -> ast.expr:
    def listed(value: Any) -> ast.expr:
        if isinstance(value, tuple):
            return ast.List([listed(v) for v in value], ast.Load())
        return literal(value)
    return call("np.array", [listed(step.option("values"))])


# np.array([1.0, 2.0]) of constants: a constant to differentiation.
CONSTANT = ArrayOp("constant", spell=_spell_constant, stops_gradient=True,
                   any_size=True)


# -- np.copy ----------------------------------------------------------------

def _lower_copy(run: Any, a: Any, *, node: ast.AST) -> Any:
    # A step of its own, not the array itself: the copy is a new array,
    # which the function may then fill (d = np.copy(x); d[0] += v, as a
    # gradient prints a scatter into a named value) without changing x.
    values = run.number(a, node)
    source = run.materialize(values, node)
    return run.program.add(COPY, (source,), run.shape(values, node),
                           f"{source.name}_copy")


def _copy_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    (source,) = step.operands
    if source in backward.active:
        backward.contribute(source, adjoint)


COPY = ArrayOp("copy", numpy=("copy",), methods=("copy",), lower=_lower_copy,
               vjp=_copy_vjp, keeps_dtype=True,
               jvp=lambda forward, step: forward.tangent.get(
                   step.operands[0], sp.S.Zero),
               spell=lambda step, args, name: call("np.copy", args),
               any_size=True)
