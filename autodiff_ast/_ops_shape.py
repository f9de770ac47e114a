"""Rows of the array table that move elements around: ``np.squeeze``,
``ravel``/``flatten``, ``atleast_1d/2d/3d``, ``moveaxis``, ``swapaxes``,
``flip``/``fliplr``/``flipud``, ``rot90``, ``matrix_transpose``, ``roll``,
``diag``/``diagflat``/``diagonal``, ``tril`` and ``triu``.

Most lower to the core steps (a reshape, a transpose, a reversed slice),
so their gradients are those steps'; ``roll``, ``diag``, ``diagonal`` and
``tril``/``triu`` are steps of their own, each the other's gradient or
(``diagonal``) a scatter of the adjoint onto the diagonal.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanAtom

from ._array_ops import empty
from ._fence import REFUSED_RAISE, shape_guard
from ._ops_core import TRANSPOSE, reshape, transpose, transposed
from ._ops_create import ARANGE, EYE, ONES
from ._ops_einsum import contract
from ._ops_index import GETITEM, getitem
from ._ops_scatter import scatter
from ._program import ArrayOp, Step
from ._spell import Slot, call, literal

__all__ = ["SQUEEZE", "RAVEL", "FLATTEN", "ATLEAST_1D", "ATLEAST_2D",
           "ATLEAST_3D", "MOVEAXIS", "SWAPAXES", "FLIP", "FLIPLR", "FLIPUD",
           "ROT90", "MATRIX_TRANSPOSE", "ROLL", "DIAG", "DIAGFLAT",
           "DIAGONAL", "TRIL", "TRIU", "diagonal", "check_shapes"]


def _lower_squeeze(run: Any, a: Any, axis: Any = None, *,
                   node: ast.AST) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    axes = run.axes(axis, len(shape), node)
    if axes is None:
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
    elif any(shape[i] != 1 for i in axes):
        raise run.error(node, "cannot select an axis to squeeze out which "
                              f"has size not equal to one (shape {shape})")
    sizes = run.program.shape_of(array)
    return reshape(run, array, tuple(n for i, n in enumerate(sizes)
                                     if i not in axes), node)


def _lower_ravel(run: Any, a: Any, order: Any = "C", *,
                 node: ast.AST) -> Any:
    if order not in ("C", "F"):
        raise run.error(node, f"order={order!r} reads the elements in the "
                              "order they lie in memory, which a derivative "
                              "does not know: use order='C' or order='F'")
    if order == "F":  # the transpose's rows, as NumPy reads it
        a = transpose(run, run.number(a, node), None, node)
    return reshape(run, a, (-1,), node)


SQUEEZE = ArrayOp("squeeze", numpy=("squeeze",), methods=("squeeze",),
                  lower=_lower_squeeze)
RAVEL = ArrayOp("ravel", numpy=("ravel",), methods=("ravel",),
                lower=_lower_ravel)
FLATTEN = ArrayOp("flatten", methods=("flatten",), lower=_lower_ravel)


def _at_least(ndim: int) -> Any:
    """``np.atleast_{ndim}d``: size-1 axes added as NumPy adds them."""
    def lower(run: Any, *arys: Any, node: ast.AST) -> Any:
        if not arys:
            raise run.error(node, f"np.atleast_{ndim}d needs an array")
        results = []
        for value in arys:
            array = run.number(value, node)
            shape = run.program.shape_of(array)  # read at run time
            if len(shape) < ndim:
                if ndim == 3 and len(shape) == 2:
                    shape = shape + (1,)
                elif ndim == 3 and len(shape) == 1:
                    shape = (1,) + shape + (1,)
                else:
                    shape = (1,) * (ndim - len(shape)) + shape
                array = reshape(run, array, shape, node)
            results.append(array)
        return results[0] if len(results) == 1 else tuple(results)
    return lower


ATLEAST_1D = ArrayOp("atleast_1d", numpy=("atleast_1d",), lower=_at_least(1))
ATLEAST_2D = ArrayOp("atleast_2d", numpy=("atleast_2d",), lower=_at_least(2))
ATLEAST_3D = ArrayOp("atleast_3d", numpy=("atleast_3d",), lower=_at_least(3))


def _lower_moveaxis(run: Any, a: Any, source: Any, destination: Any, *,
                    node: ast.AST) -> Any:
    array = run.number(a, node)
    ndim = len(run.shape(array, node))
    sources = [run.axis(s, ndim, node) for s in run.integers(
        source, node, "np.moveaxis's axes")]
    targets = [run.axis(d, ndim, node) for d in run.integers(
        destination, node, "np.moveaxis's axes")]
    if len(sources) != len(targets):
        raise run.error(node, "`source` and `destination` arguments must "
                              "have the same number of elements")
    order = [n for n in range(ndim) if n not in sources]
    for target, moved in sorted(zip(targets, sources)):
        order.insert(target, moved)
    return transpose(run, array, tuple(order), node)


def _lower_swapaxes(run: Any, a: Any, axis1: Any, axis2: Any, *,
                    node: ast.AST) -> Any:
    array = run.number(a, node)
    ndim = len(run.shape(array, node))
    first, second = run.axis(axis1, ndim, node), run.axis(axis2, ndim, node)
    order = list(range(ndim))
    order[first], order[second] = second, first
    return transpose(run, array, tuple(order), node)


MOVEAXIS = ArrayOp("moveaxis", numpy=("moveaxis",), lower=_lower_moveaxis)
SWAPAXES = ArrayOp("swapaxes", numpy=("swapaxes",), methods=("swapaxes",),
                   lower=_lower_swapaxes)


def _flipped(run: Any, array: Any, axes: tuple[int, ...] | None,
             node: ast.AST) -> Any:
    """``array`` reversed along ``axes`` (None: all): a reversed slice."""
    ndim = len(run.shape(array, node))
    chosen = range(ndim) if axes is None else axes
    parts = [slice(None, None, -1) if i in chosen else slice(None)
             for i in range(ndim)]
    while parts and parts[-1] == slice(None):
        parts.pop()
    return getitem(run, array, tuple(parts), node) if parts else array


def _lower_flip(run: Any, m: Any, axis: Any = None, *, node: ast.AST) -> Any:
    array = run.number(m, node)
    return _flipped(run, array, run.axes(axis, len(run.shape(array, node)),
                                         node), node)


def _lower_fliplr(run: Any, m: Any, *, node: ast.AST) -> Any:
    array = run.number(m, node)
    if len(run.shape(array, node)) < 2:
        raise run.error(node, "np.fliplr needs an array of two or more "
                              "dimensions")
    return _flipped(run, array, (1,), node)


def _lower_flipud(run: Any, m: Any, *, node: ast.AST) -> Any:
    array = run.number(m, node)
    if len(run.shape(array, node)) < 1:
        raise run.error(node, "np.flipud needs an array of one or more "
                              "dimensions")
    return _flipped(run, array, (0,), node)


def _lower_rot90(run: Any, m: Any, k: Any = 1, axes: Any = (0, 1), *,
                 node: ast.AST) -> Any:
    """A quarter turn is a flip and a swap of the two axes, as NumPy
    writes it; a half turn flips both."""
    array = run.number(m, node)
    ndim = len(run.shape(array, node))
    if ndim < 2:
        raise run.error(node, "np.rot90 needs an array of two or more "
                              "dimensions")
    pair = run.integers(axes, node, "np.rot90's axes")
    if len(pair) != 2:
        raise run.error(node, "len(axes) must be 2.")
    first, second = (run.axis(a, ndim, node) for a in pair)
    if first == second:
        raise run.error(node, "Axes must be different.")
    turns = run.integer(k, node, "np.rot90's k") % 4
    if turns == 0:
        return array
    if turns == 2:
        return _flipped(run, array, (first, second), node)
    order = list(range(ndim))
    order[first], order[second] = second, first
    if turns == 1:
        return transpose(run, _flipped(run, array, (second,), node),
                         tuple(order), node)
    return _flipped(run, transpose(run, array, tuple(order), node),
                    (second,), node)


def _lower_matrix_transpose(run: Any, x: Any, *, node: ast.AST) -> Any:
    array = run.number(x, node)
    ndim = len(run.shape(array, node))
    if ndim < 2:
        raise run.error(node, "np.matrix_transpose needs an array of two or "
                              "more dimensions")
    order = tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return transpose(run, array, order, node)


FLIP = ArrayOp("flip", numpy=("flip",), lower=_lower_flip)
FLIPLR = ArrayOp("fliplr", numpy=("fliplr",), lower=_lower_fliplr)
FLIPUD = ArrayOp("flipud", numpy=("flipud",), lower=_lower_flipud)
ROT90 = ArrayOp("rot90", numpy=("rot90",), lower=_lower_rot90)
MATRIX_TRANSPOSE = ArrayOp("matrix_transpose", numpy=("matrix_transpose",),
                           lower=_lower_matrix_transpose)


# -- np.roll -----------------------------------------------------------------

def _lower_roll(run: Any, a: Any, shift: Any, axis: Any = None, *,
                node: ast.AST) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    shifts = run.integers(shift, node, "np.roll's shift")
    if axis is None:
        if len(shifts) != 1:
            raise run.error(node, "np.roll without an axis takes one shift")
        if len(shape) == 1:
            return _roll(run, array, shifts[0], None, node)
        flat = reshape(run, array, (-1,), node)
        return reshape(run, _roll(run, flat, shifts[0], None, node),
                       run.program.shape_of(array), node)
    axes = [run.axis(x, len(shape), node) for x in run.integers(
        axis, node, "np.roll's axis")]
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise run.error(node, "np.roll: shift and axis must have the same "
                              "number of entries")
    for amount, position in zip(shifts, axes):
        array = _roll(run, array, amount, position, node)
    return array


def _roll(run: Any, array: Any, shift: int, axis: int | None,
          node: ast.AST) -> Any:
    """One roll along ``axis`` (None: a 1-D array, spelled without)."""
    source = run.materialize(array, node)
    return run.program.add(ROLL, (source,), run.program.leaves[source].shape,
                           f"{source.name}_rolled", shift=shift, axis=axis)


def _roll_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (source,) = step.operands
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    backward.contribute(source, program.add(
        ROLL, (full,), program.leaves[source].shape, f"d_{source.name}",
        shift=-step.option("shift"), axis=step.option("axis")))


def _roll_jvp(forward: Any, step: Step) -> sp.Expr:
    # np.roll without an axis would roll the batch axes with it.
    return forward.along_first_axis(step, shift=step.option("shift"))


ROLL = ArrayOp("roll", numpy=("roll",), lower=_lower_roll, vjp=_roll_vjp,
               jvp=_roll_jvp, keeps_dtype=True,
               spell=lambda step, args, name: call(
                   "np.roll", [args[0], literal(step.option("shift"))],
                   axis=step.option("axis")),
               any_size=True)


# -- np.diag, np.diagonal ---------------------------------------------------

def diagonal(run: Any, array: Any, offset: int, axis1: int, axis2: int,
             node: ast.AST) -> Any:
    """The diagonal of ``array`` over two axes, last in the result."""
    shape = run.shape(array, node)
    if len(shape) < 2:
        raise run.error(node, "a diagonal needs an array of two or more "
                              "dimensions")
    first = run.axis(axis1, len(shape), node)
    second = run.axis(axis2, len(shape), node)
    if first == second:
        raise run.error(node, "axis1 and axis2 cannot be the same")
    result = np.diagonal(empty(shape), offset, first, second).shape
    source = run.materialize(array, node)
    return run.program.add(DIAGONAL, (source,), result,
                           f"{source.name}_diagonal", offset=offset,
                           axes=(first, second))


def _lower_diagonal(run: Any, a: Any, offset: Any = 0, axis1: Any = 0,
                    axis2: Any = 1, *, node: ast.AST) -> Any:
    return diagonal(run, run.number(a, node),
                    run.integer(offset, node, "the diagonal's offset"),
                    axis1, axis2, node)


def _diagonal_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The adjoint put on the diagonal of zeros (``adjoint * np.eye(...)``
    when it is the same for every element of a matrix's diagonal)."""
    program = backward.program
    (source,) = step.operands
    shape = program.leaves[source].shape
    offset = step.option("offset")
    first, second = step.option("axes")
    if program.shape(adjoint) == () and len(shape) == 2:
        rows, columns = shape if first == 0 else shape[::-1]
        # np.eye(n) where the matrix is square (its two sizes read from one
        # axis pair of the same input), else np.eye(n, m).
        sizes = program.shape_of(source)
        row_size, column_size = sizes if first == 0 else sizes[::-1]
        eye = program.add(EYE, (), (rows, columns), "eye", rows=row_size,
                          columns=column_size
                          if column_size != row_size else None,
                          k=offset or None, dtype=None)
        if first == 1:
            eye = program.add(TRANSPOSE, (eye,), shape, "eye_T", axes=None)
        backward.contribute(source, adjoint * eye)
        return
    result = program.leaves[step.target].shape
    length = program.size(step.target, len(result) - 1)  # read at run time
    values = backward.full(adjoint, result, f"d_{step.target.name}")
    # Advanced indices at two adjacent axes put their axis there; at two
    # apart, first (NumPy's rule); the diagonal's axis is last in values.
    place = min(first, second) if abs(first - second) == 1 else 0
    if place != len(result) - 1:
        order = list(range(len(result) - 1))
        order.insert(place, len(result) - 1)
        values = program.add(TRANSPOSE, (values,),
                             tuple(result[i] for i in order),
                             f"{values.name}_moved", axes=tuple(order))
    starts = {first: max(-offset, 0), second: max(offset, 0)}
    slots = []
    parts: list[Any] = []
    count = result[-1]
    for axis in range(len(shape)):
        if axis in starts:
            slots.append(program.add(
                ARANGE, (), (count,), "arange", integer=True,
                bounds=(starts[axis], starts[axis] + length)
                if starts[axis] else (length,), dtype=None))
            parts.append(Slot(len(slots)))
        else:
            parts.append(slice(None))
    backward.contribute(source, scatter(
        backward, source, values, tuple(parts), tuple(slots),
        f"d_{step.target.name}", distinct=True))


def _spell_diagonal(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    offset = step.option("offset")
    axes = step.option("axes")
    extra = [literal(offset)] if offset or axes != (0, 1) else []
    if axes != (0, 1):
        extra += [literal(axes[0]), literal(axes[1])]
    return call("np.diagonal", [args[0]] + extra)


def _diagonal_jvp(forward: Any, step: Step) -> sp.Expr:
    """The same diagonal of the tangent, whose diagonal axis NumPy puts
    last, after the batch axes: moved back before them."""
    program = forward.program
    (source,) = step.operands
    shape = forward.shape(step.target)
    tangent = forward.full_tangent(source)
    first, second = step.option("axes")
    diagonal_shape = shape[:-1] + forward.batch + shape[-1:]
    result = program.add(DIAGONAL, (tangent,), diagonal_shape,
                         f"{step.target.name}_tangent",
                         offset=step.option("offset"), axes=(first, second))
    if not forward.batch:
        return result
    last = len(diagonal_shape) - 1
    order = tuple(range(len(shape) - 1)) + (last,) + tuple(
        range(len(shape) - 1, last))
    return transposed(program, result, order, f"{result.name}_moved")


DIAGONAL = ArrayOp("diagonal", numpy=("diagonal",), methods=("diagonal",),
                   lower=_lower_diagonal, vjp=_diagonal_vjp,
                   jvp=_diagonal_jvp,
                   spell=_spell_diagonal,
                   any_size=True)


def _lower_diag(run: Any, v: Any, k: Any = 0, *, node: ast.AST) -> Any:
    array = run.number(v, node)
    shape = run.shape(array, node)
    offset = run.integer(k, node, "np.diag's k")
    if len(shape) == 2:
        return diagonal(run, array, offset, 0, 1, node)
    if len(shape) != 1:
        raise run.error(node, "np.diag takes a 1-D array (to build a "
                              "matrix) or a 2-D one (to read its diagonal)")
    size = shape[0] + abs(offset)
    source = run.materialize(array, node)
    return run.program.add(DIAG, (source,), (size, size), "diagonal_matrix",
                           k=offset)


def _lower_diagflat(run: Any, v: Any, k: Any = 0, *, node: ast.AST) -> Any:
    return _lower_diag(run, reshape(run, run.number(v, node), (-1,), node),
                       k, node=node)


def _diag_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (source,) = step.operands
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")
    backward.contribute(source, program.add(
        DIAGONAL, (full,), program.leaves[source].shape,
        f"{full.name}_diagonal", offset=step.option("k"), axes=(0, 1)))


def _diag_jvp(forward: Any, step: Step) -> sp.Expr:
    """``np.diag`` of the tangent; with a batch, ``np.eye(n)[..., None] *
    t[None]`` (each tangent on the diagonal), or off it (k != 0) the
    einsum of the tangents with the two ``np.eye(n + |k|, n, k)`` that
    place their rows and columns."""
    program = forward.program
    (source,) = step.operands
    k = step.option("k")
    shape = forward.shape(step.target)
    tangent = forward.full_tangent(source)
    name = f"{step.target.name}_tangent"
    if not forward.batch:
        return program.add(DIAG, (tangent,), shape, name, k=k)
    n = program.size(source, 0)
    if not k:
        eye = program.add(EYE, (), shape, "eye", rows=n, columns=None,
                          k=None, dtype=None)
        placed = program.add(GETITEM, (tangent,), (1,) + forward.shape(
            tangent), f"{tangent.name}_placed", index=(None,))
        return program.materialize(forward.along_batch(eye) * placed, name)
    length = shape[0] - abs(k)
    rows, columns = (program.add(
        EYE, (), (shape[0], length), "eye", rows=n + abs(k), columns=n,
        k=-offset or None, dtype=None) for offset in (max(-k, 0), max(k, 0)))
    batch = "pqrstuvw"[:len(forward.batch)]
    return contract(program, f"il,jl,l{batch}->ij{batch}",
                    [rows, columns, tangent], name)


DIAG = ArrayOp("diag", numpy=("diag",), lower=_lower_diag, vjp=_diag_vjp,
               jvp=_diag_jvp,
               spell=lambda step, args, name: call(
                   "np.diag", args + ([literal(step.option("k"))]
                                      if step.option("k") else [])),
               any_size=True)
DIAGFLAT = ArrayOp("diagflat", numpy=("diagflat",), lower=_lower_diagflat)


# -- np.tril, np.triu ---------------------------------------------------------

def _triangle(op_name: str) -> Any:
    def lower(run: Any, m: Any, k: Any = 0, *, node: ast.AST) -> Any:
        array = run.number(m, node)
        shape = run.shape(array, node)
        if len(shape) < 2:
            raise run.error(node, f"np.{op_name} takes an array of two or "
                                  "more dimensions here")
        source = run.materialize(array, node)
        op = TRIL if op_name == "tril" else TRIU
        return run.program.add(op, (source,), shape,
                               f"{source.name}_{op_name}",
                               k=run.integer(k, node, f"np.{op_name}'s k"))
    return lower


def _triangle_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """A triangle's adjoint is the same triangle of the adjoint."""
    program = backward.program
    (source,) = step.operands
    shape = program.leaves[step.target].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    backward.contribute(source, program.add(
        step.op, (full,), shape, f"d_{source.name}", k=step.option("k")))


def _triangle_jvp(forward: Any, step: Step) -> sp.Expr:
    """The same triangle of the tangent; with a batch (on the last axes,
    where np.tril would look for the matrix), the tangent times the
    triangle of ones, as a mask."""
    program = forward.program
    (source,) = step.operands
    shape = forward.shape(source)
    tangent = forward.full_tangent(source)
    k = step.option("k")
    if not forward.batch:
        return program.add(step.op, (tangent,), shape,
                           f"{step.target.name}_tangent", k=k)
    matrix = shape[-2:]
    ones = program.add(ONES, (), matrix, "ones", boolean=True,
                       shape=program.shape_of(source)[-2:], dtype="bool")
    mask = program.add(step.op, (ones,), matrix, step.op.name, boolean=True,
                       k=k)
    return program.materialize(forward.along_batch(mask) * tangent,
                               f"{step.target.name}_tangent")


def _spell_triangle(spelling: str) -> Any:
    def spell(step: Step, args: list[ast.expr], name: str) -> ast.expr:
        k = step.option("k")
        return call(spelling, args + ([literal(k)] if k else []))
    return spell


TRIL = ArrayOp("tril", numpy=("tril",), lower=_triangle("tril"),
               vjp=_triangle_vjp, jvp=_triangle_jvp,
               spell=_spell_triangle("np.tril"), any_size=True)
TRIU = ArrayOp("triu", numpy=("triu",), lower=_triangle("triu"),
               vjp=_triangle_vjp, jvp=_triangle_jvp,
               spell=_spell_triangle("np.triu"), any_size=True)


# -- the shapes a function checks ---------------------------------------------

def check_shapes(run: Any, statement: ast.If, env: dict[str, Any]) -> None:
    """``if x.shape != (4, 3) or ...: raise ValueError(message)``, which
    code that holds a size prints at its top (closure: it is read back):
    nothing where the shapes are those, else the error it would raise,
    at its line. Its derivative checks its own sizes where it needs to."""
    tests = shape_guard(statement)
    if tests is None:  # another check of what the code is made for
        _checked(run, statement, env)
        return
    for test in tests:
        array = run.expression(test.left.value, env)
        expected = ast.literal_eval(test.comparators[0])
        if run.shape(run.number(array, test), test) != expected:
            raised = statement.body[0]
            message = next(
                (node.value for node in ast.walk(raised)
                 if isinstance(node, ast.Constant)
                 and isinstance(node.value, str)),
                f"{ast.unparse(test.left)} must be {expected}")
            raise run.error(raised, f"{ast.unparse(test.left)} is not "
                                    f"{expected}, which the function "
                                    f"refuses: {message}")


def _checked(run: Any, statement: ast.If, env: dict[str, Any]) -> None:
    """``if x.ndim != 1: raise ValueError(message)``: decided now (the
    code is made for these ranks, sizes and dtypes), nothing where it does
    not hold, else the error it would raise, at its line."""
    raised = statement.body[0]
    holds = run.condition(statement.test, env)
    if not isinstance(holds, BooleanAtom):
        raise run.error(raised, REFUSED_RAISE)
    if holds:
        message = next((node.value for node in ast.walk(raised)
                        if isinstance(node, ast.Constant)
                        and isinstance(node.value, str)),
                       ast.unparse(statement.test))
        raise run.error(raised, f"{ast.unparse(statement.test)} holds for "
                                f"these arguments, which the function "
                                f"refuses: {message}")
