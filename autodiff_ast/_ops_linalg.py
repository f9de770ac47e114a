"""Rows of the array table for linear algebra: ``np.dot``, ``@``/
``np.matmul`` (and ``np.linalg.matmul``), ``np.vdot``, ``np.outer`` (and
``np.linalg.outer``), ``np.kron``, ``np.cross`` and ``np.trace``; the
norms' rows (``_ops_norm``) are listed here too.

Products lower to one ``dot`` step that remembers how the user spelled it
(``A @ B``, ``A.dot(B)``, ``np.dot(A, B)``), so the gradient is written the
same way: the product with the other factor transposed. Products of arrays
above two dimensions are einsum steps (``_ops_einsum``) spelled the same
way. The gradient of ``np.kron`` is that of an einsum (an outer product
with interleaved axes); that of ``np.cross`` is two more cross products
(the cross product of 2-vectors, their z component, is written out as
products of their components).
The gradient of a trace is the identity (``np.eye``). Their tangents
(forward mode) follow the same lines: ``kron`` and ``cross`` are
bilinear, a trace is linear; a batch of tangents rides along on
trailing axes (the other factor gets axes of 1 to match).
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_assemble import pad
from ._ops_core import (EXPAND_DIMS, SUM, TRANSPOSE, reduce_sum, reshape,
                        reshaped, transpose, transposed)
from ._ops_create import EYE, is_identity
from ._ops_index import GETITEM, getitem
from ._ops_shape import diagonal
from ._ops_einsum import (contraction, einsum, einsum_gradients,
                          identity_pairs)
from ._ops_norm import MATRIX_NORM, NORM, VECTOR_NORM
from ._program import (ELEMENTWISE, ArrayOp, Shape, Step,
                       broadcast_shapes)
from ._spell import call, literal

__all__ = ["DOT", "MATMUL", "VDOT", "OUTER", "LINALG_OUTER", "KRON", "CROSS",
           "TRACE", "NORM", "VECTOR_NORM", "MATRIX_NORM", "product",
           "diagonal_scale"]


def product(run: Any, left: Any, right: Any, node: ast.AST,
            style: str = "np.dot") -> Any:
    """``left`` times ``right`` as ``style`` (``np.dot``, ``.dot``, ``@``,
    ``np.matmul``, ``np.vdot``) multiplies them."""
    a = run.number(left, node)
    b = run.number(right, node)
    sa, sb = run.shape(a, node), run.shape(b, node)
    if style == "np.vdot":
        a, b = _flat(run, a, sa, node), _flat(run, b, sb, node)
        sa, sb, style = run.shape(a, node), run.shape(b, node), "np.dot"
    if style in ("@", "np.matmul") and (not sa or not sb):
        raise run.error(node, "matmul: input operand does not have enough "
                              "dimensions (use * for scalars)")
    if not sa or not sb:
        return run.checked(a * b, node)
    if len(sa) > 2 or len(sb) > 2:
        return _stacked_product(run, a, b, node, style)
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise run.shape_error(node, f"shapes {sa} and {sb} not aligned: "
                                    f"{inner_a} (dim {len(sa) - 1}) != "
                                    f"{inner_b}")
    first = run.materialize(a, node, "left")
    second = run.materialize(b, node, "right")
    return run.program.add(DOT, (first, second), sa[:-1] + sb[1:],
                           f"dot_{first.name}_{second.name}", style=style)


def _stacked_product(run: Any, a: sp.Expr, b: sp.Expr, node: ast.AST,
                     style: str) -> Any:
    """A product of arrays above two dimensions, as an einsum step written
    as the user wrote it: ``@``/``np.matmul`` multiply stacks of matrices
    (broadcasting the leading axes), ``np.dot`` sums the last axis of
    ``a`` with the second-to-last of ``b`` (all pairs of leading axes)."""
    first = run.materialize(a, node, "left")
    second = run.materialize(b, node, "right")
    sa, sb = run.shape(first, node), run.shape(second, node)
    if style in (".dot", "np.dot"):
        return contraction(run, first, second, [len(sa) - 1],
                           [max(len(sb) - 2, 0)], node, call=style)
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    try:
        broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise run.shape_error(
            node, f"matmul: the stacks of matrices of shapes {sa} and {sb} "
            "do not broadcast together: their leading axes must be equal or "
            "1") from None
    if sa[-1] != inner_b:
        raise run.shape_error(
            node, f"matmul: Input operand 1 has a mismatch in its core "
            f"dimension 0 (size {inner_b} is different from {sa[-1]}): "
            f"shapes {sa} and {sb}")
    left = "j" if len(sa) == 1 else "...ij"
    right = "j" if len(sb) == 1 else "...jk"
    output = "..." + ("i" if len(sa) > 1 else "") + ("k" if len(sb) > 1
                                                      else "")
    return einsum(run.program, f"{left},{right}->{output}",
                  (first, second), f"matmul_{first.name}_{second.name}",
                  call=style)


def _flat(run: Any, array: sp.Expr, shape: Shape, node: ast.AST) -> Any:
    return array if len(shape) <= 1 else reshape(run, array, (-1,), node)


def _dot_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    if backward.rank:
        _dot_vjp_batched(backward, step, adjoint)
        return
    if program.shape(adjoint) == () and len(program.leaves[
            step.target].shape):
        _dot_vjp_of_sum(backward, step, adjoint)
        return
    a, b = step.operands
    style = step.option("style")
    sa = program.leaves[a].shape
    sb = program.leaves[b].shape
    if not (len(sa) == 1 and len(sb) == 1):
        # (a number times b, for a vector . vector, is not an array: a
        # gradient of elementwise code that a Jacobian reads back as it
        # is, from an array argument)
        adjoint = backward.full(adjoint, program.leaves[step.target].shape,
                                f"d_{step.target.name}")

    def times(left: sp.Symbol, right: sp.Symbol, shape: Shape,
              name: str) -> sp.Symbol:
        return program.add(DOT, (left, right), shape, name, style=style)

    def transposed(symbol: sp.Symbol) -> sp.Symbol:
        step = program.definition().get(symbol)
        if step and step.op is TRANSPOSE and step.option("axes") is None:
            return step.operands[0]  # (A.T).T is A
        return program.add(TRANSPOSE, (symbol,),
                           program.leaves[symbol].shape[::-1],
                           f"{symbol.name}_T", axes=None)

    def column(symbol: sp.Symbol) -> sp.Symbol:
        return program.add(GETITEM, (symbol,),
                           program.leaves[symbol].shape + (1,),
                           f"{symbol.name}_column",
                           index=(slice(None), None))

    if a in backward.active:
        if len(sa) == 1 and len(sb) == 1:
            grad_a: sp.Expr = adjoint * b
        elif len(sb) == 1:  # (n, k) . (k,)
            grad_a = column(adjoint) * b
        elif len(sa) == 1:  # (k,) . (k, m)
            grad_a = times(b, adjoint, sa, f"d_{a.name}")
        else:
            grad_a = times(adjoint, transposed(b), sa, f"d_{a.name}")
        backward.contribute(a, grad_a)
    if b in backward.active:
        if len(sa) == 1 and len(sb) == 1:
            grad_b: sp.Expr = adjoint * a
        elif len(sa) == 1:  # (k,) . (k, m)
            grad_b = column(a) * adjoint
        else:
            grad_b = times(transposed(a), adjoint, sb, f"d_{b.name}")
        backward.contribute(b, grad_b)


def _dot_vjp_of_sum(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """The same adjoint for every element of the product (its sum, say):
    each factor's gradient is the other's sum over the axis the product
    runs along, not a product with an array of copies."""
    program = backward.program
    a, b = step.operands
    sa, sb = program.leaves[a].shape, program.leaves[b].shape

    def total(symbol: sp.Symbol, axis: int) -> sp.Symbol:
        shape = program.leaves[symbol].shape
        return program.add(SUM, (symbol,), shape[:axis] + shape[axis + 1:],
                           f"sum_{symbol.name}", axis=(axis,),
                           keepdims=False)

    if a in backward.active:
        # d/da of sum(a @ b): b's sums along its columns, for each row.
        other = b if len(sb) == 1 else total(b, 1)
        backward.contribute(a, adjoint * other, sa)
    if b in backward.active:
        other = a if len(sa) == 1 else total(a, 0)
        if len(sb) == 2:  # the same for each column of b
            other = program.add(GETITEM, (other,), (sb[0], 1),
                                f"{other.name}_column",
                                index=(slice(None), None))
        backward.contribute(b, adjoint * other, sb)


def _dot_vjp_batched(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """With the batch of a Jacobian in front, a product with the adjoint on
    the left is a matmul over a stack of rows (batch @ b.T); on the right,
    a.T @ batch broadcasts a.T over the batch."""
    program = backward.program
    a, b = step.operands
    sa, sb = program.leaves[a].shape, program.leaves[b].shape
    full = backward.full(adjoint, program.leaves[step.target].shape,
                         f"d_{step.target.name}")

    def times(left: sp.Symbol, right: sp.Symbol, name: str) -> sp.Expr:
        scale = diagonal_scale(program, left) if left is full else None
        if scale is not None:  # diag(p) @ right: p scales its rows
            rows = scale if not program.shape(scale) else \
                backward.column(program.materialize(scale, "scale"), None)
            return rows * right
        return _batched_matmul(program, left, right, name)

    def flipped(symbol: sp.Symbol) -> sp.Symbol:
        return transposed(program, symbol, None, f"{symbol.name}_T")

    if a in backward.active:
        if len(sb) == 1:  # (k,) . (k,) or (n, k) . (k,)
            grad_a: sp.Expr = backward.column(full, None) * b
        else:  # . (k, m): the adjoint times b.T
            grad_a = times(full, flipped(b), f"d_{a.name}")
        backward.contribute(a, grad_a)
    if b in backward.active:
        if len(sa) == 1 and len(sb) == 1:
            grad_b: sp.Expr = backward.column(full, None) * a
        elif len(sa) == 1:  # (k,) . (k, m)
            column = program.add(GETITEM, (a,), sa + (1,), f"{a.name}_column",
                                 index=(slice(None), None))
            grad_b = column * backward.column(full, None, slice(None))
        elif len(sb) == 1:  # (n, k) . (k,): the adjoint's rows times a
            grad_b = times(full, a, f"d_{b.name}")
        else:
            grad_b = times(flipped(a), full, f"d_{b.name}")
        backward.contribute(b, grad_b)


def _batched_matmul(program: Any, left: sp.Symbol, right: sp.Symbol,
                    name: str) -> sp.Symbol:
    """``left @ right``: a dot of matrices, or, where one holds the batch
    too, an einsum written ``@`` (a stack of matrices times one), whose
    rules take any rank where the dot's take two."""
    ranks = [len(program.leaves[o].shape) for o in (left, right)]
    if max(ranks) <= 2:
        shape = program.leaves[left].shape[:-1] + program.leaves[
            right].shape[1:]
        return program.add(DOT, (left, right), shape, name, style="@")
    first, second = ("...ij", "...jk") if min(ranks) > 1 else (
        ("j", "...jk") if ranks[0] == 1 else ("...ij", "j"))
    output = "..." + ("i" if ranks[0] > 1 else "") + (
        "k" if ranks[1] > 1 else "")
    return einsum(program, f"{first},{second}->{output}", (left, right),
                  name, call="@")


def diagonal_scale(program: Any, symbol: sp.Expr) -> sp.Expr | None:
    """``p`` where ``symbol`` (or the expression defining it) is
    ``np.eye(m) * p`` (``p`` a number or of shape ``(m,)``): the seed of a
    vector output times an elementwise derivative, which a product or a
    sum over its rows need not build; else None."""
    step = program.definition().get(symbol)
    expr = step.operands[0] if step is not None and (
        step.op is ELEMENTWISE) else symbol
    factors = sp.Mul.make_args(expr)
    eyes = [f for f in factors if is_identity(program, f)]
    rest = sp.Mul(*[f for f in factors if f not in eyes])
    if len(eyes) == 1 and len(program.shape(rest)) <= 1:
        return rest
    return None


def _of_matrices(program: Any, step: Step) -> bool:
    """Whether a dot's operands have two axes or fewer (the batched rule's
    products; np.dot of higher ranks sums over other axes)."""
    return all(len(program.leaves[o].shape) <= 2 for o in step.operands)


def _spell_dot(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    style = step.option("style")
    if style == "@":
        return ast.BinOp(args[0], ast.MatMult(), args[1])
    if style == ".dot":
        return ast.Call(ast.Attribute(args[0], "dot", ast.Load()),
                        [args[1]], [])
    return call(style, args)


def _lower_dot(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    return product(run, a, b, node, "np.dot")


def _lower_dot_method(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    return product(run, a, b, node, ".dot")


def _lower_matmul(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    return product(run, a, b, node, "np.matmul")


def _lower_vdot(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    return product(run, a, b, node, "np.vdot")


def _lower_outer(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    left = run.number(a, node)
    right = run.number(b, node)
    left = _flat(run, left, run.shape(left, node), node)
    right = _flat(run, right, run.shape(right, node), node)
    return run.checked(getitem(run, left, (slice(None), None), node)
                       * getitem(run, right, (None, slice(None)), node),
                       node)


def _lower_linalg_outer(run: Any, a: Any, b: Any, *, node: ast.AST
                        ) -> Any:
    """np.linalg.outer: np.outer of two vectors (it flattens nothing)."""
    ranks = [len(run.shape(run.number(v, node), node)) for v in (a, b)]
    if ranks != [1, 1]:
        raise run.error(node, "np.linalg.outer takes two 1-D vectors, not "
                              f"arrays of {ranks[0]} and {ranks[1]} "
                              "dimensions: use np.outer, which flattens "
                              "them")
    return _lower_outer(run, a, b, node=node)


def _lower_kron(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    left, right = run.number(a, node), run.number(b, node)
    sa, sb = run.shape(left, node), run.shape(right, node)
    if not sa or not sb:
        return run.checked(left * right, node)
    ndim = max(len(sa), len(sb))
    # The one with fewer axes gets leading axes of 1, as np.kron pads it
    # (np.expand_dims, whose gradient is a reshape to the sizes read at
    # run time).
    first = _padded(run, run.materialize(left, node, "a"), ndim)
    second = _padded(run, run.materialize(right, node, "b"), ndim)
    sa, sb = run.shape(first, node), run.shape(second, node)
    return run.program.add(KRON, (first, second),
                           tuple(n * m for n, m in zip(sa, sb)),
                           f"kron_{first.name}_{second.name}")


def _padded(run: Any, array: sp.Symbol, ndim: int) -> sp.Symbol:
    shape = run.program.leaves[array].shape
    if len(shape) == ndim:
        return array
    missing = ndim - len(shape)
    return run.program.add(EXPAND_DIMS, (array,), (1,) * missing + shape,
                           f"{array.name}_expanded",
                           axis=tuple(range(missing)))


def _kron_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """kron(a, b) is a's and b's outer product with their axes interleaved
    (``'ij,kl->ikjl'``) and merged pairwise: the adjoint, split back into
    those axes, is the einsum's."""
    program = backward.program
    a, b = step.operands
    sa = program.leaves[a].shape
    letters = "ijklmnopqrstuvwxyzabcdefgh"
    first, second = letters[:len(sa)], letters[len(sa):2 * len(sa)]
    interleaved = "".join(i + j for i, j in zip(first, second))
    if program.shape(adjoint) != ():
        full = backward.full(adjoint, program.leaves[step.target].shape,
                             f"d_{step.target.name}")
        adjoint = reshaped(program, full, tuple(
            n for pair in zip(program.shape_of(a), program.shape_of(b))
            for n in pair), f"{full.name}_split")
    einsum_gradients(backward, f"{first},{second}->{interleaved}", (a, b),
                     adjoint)


def _kron_jvp(forward: Any, step: Step) -> sp.Expr:
    """kron is bilinear: kron(da, b) + kron(a, db). The factor without a
    tangent gets trailing axes of 1 for the batch, so that np.kron pairs
    it with each tangent of the batch (the kron of 1 and n is n)."""
    a, b = step.operands
    program = forward.program
    shape = forward.shape(step.target) + forward.batch
    name = f"{step.target.name}_tangent"
    terms = []
    if a in forward.tangent:
        terms.append(program.add(KRON, (forward.full_tangent(a),
                                        forward.along_batch(b)), shape, name))
    if b in forward.tangent:
        terms.append(program.add(KRON, (forward.along_batch(a),
                                        forward.full_tangent(b)), shape, name))
    return sp.Add(*terms)


KRON = ArrayOp("kron", numpy=("kron",), lower=_lower_kron, vjp=_kron_vjp,
               jvp=_kron_jvp, spell=lambda step, args, name: call(
                   "np.kron", args), any_size=True)


# -- np.cross -----------------------------------------------------------------

def _lower_cross(run: Any, a: Any, b: Any, axisa: Any = -1, axisb: Any = -1,
                 axisc: Any = -1, axis: Any = None, *,
                 node: ast.AST) -> Any:
    """2- or 3-vectors along an axis of each (``axis`` sets all three)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    arrays, axes, sizes, shapes = [], [], [], []
    for value, where in ((a, axisa), (b, axisb)):
        array = run.number(value, node)
        shape = run.shape(array, node)
        if not shape:
            raise run.error(node, "np.cross takes arrays of vectors, not "
                                  "a number")
        moved = run.axis(where, len(shape), node)
        if shape[moved] not in (2, 3):
            raise run.error(node, f"np.cross: the vectors have "
                                  f"{shape[moved]} components: a cross "
                                  "product takes 2- or 3-vectors")
        arrays.append(array)
        axes.append(moved)
        sizes.append(shape[moved])
        shapes.append(shape[:moved] + shape[moved + 1:])
    try:
        lead = broadcast_shapes(*shapes)
    except ValueError:
        raise run.shape_error(
            node, f"np.cross: the arrays of vectors of shapes {shapes[0]} "
            f"and {shapes[1]} do not broadcast together") from None
    # Code for vectors of these sizes is wrong at others (a 2-vector is
    # crossed as a 3-vector with a zero third component).
    run.program.baked.append(f"np.cross crosses {sizes[0]}-vectors with "
                             f"{sizes[1]}-vectors")
    if sizes == [2, 2]:
        return _planar_cross(run, arrays, axes, node)
    first, second = (_vectors_last(run, array, moved, size, node)
                     for array, moved, size in zip(arrays, axes, sizes))
    result = run.program.add(CROSS, (first, second), lead + (3,),
                             f"cross_{first.name}_{second.name}")
    ndim = len(lead) + 1
    target = run.axis(axisc, ndim, node)
    order = list(range(ndim - 1))
    order.insert(target, ndim - 1)
    return transpose(run, result, tuple(order), node)


def _planar_cross(run: Any, arrays: list[Any], axes: list[int],
                  node: ast.AST) -> Any:
    """The cross product of 2-vectors is the z component of theirs as
    3-vectors, one number per pair, as NumPy and JAX give it. Written as
    ``a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]``, not ``np.cross``:
    NumPy 2 deprecates 2-vectors there (a DeprecationWarning at each call
    of the derivative), and the products differentiate as any others."""
    def component(array: Any, moved: int, index: int) -> Any:
        rank = len(run.shape(array, node))
        key = (Ellipsis, index) if moved == rank - 1 and rank > 1 else (
            (slice(None),) * moved + (index,))
        return getitem(run, array, key, node)

    (a, b), (at, bt) = arrays, axes
    return run.checked(component(a, at, 0) * component(b, bt, 1)
                       - component(a, at, 1) * component(b, bt, 0), node)


def _vectors_last(run: Any, array: Any, moved: int, size: int,
                  node: ast.AST) -> sp.Symbol:
    """``array``'s vectors on its last axis, where the step takes them; a
    2-vector (crossed with a 3-vector) gets a zero third component, as
    NumPy and JAX give it one."""
    rank = len(run.shape(array, node))
    order = tuple(i for i in range(rank) if i != moved) + (moved,)
    vectors = run.materialize(transpose(run, array, order, node), node)
    if size == 3:
        return vectors
    return pad(run.program, vectors, ((0, 0),) * (rank - 1) + ((0, 1),), 0,
               f"{vectors.name}_padded")


def _cross_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    """<g, a x b> = <a, b x g> = <b, g x a>."""
    program = backward.program
    a, b = step.operands
    shape = program.leaves[step.target].shape
    full = backward.full(adjoint, shape, f"d_{step.target.name}")
    for operand, (left, right) in ((a, (b, full)), (b, (full, a))):
        if operand in backward.active:
            backward.contribute(operand, program.add(
                CROSS, (left, right), shape, f"d_{operand.name}"), shape)


def _cross_jvp(forward: Any, step: Step) -> sp.Expr:
    """The cross product is bilinear: da x b + a x db. With a batch, the
    vectors' axes are named (the tangent's is not last), and the factor
    without a tangent gets trailing axes of 1 to broadcast."""
    a, b = step.operands
    program = forward.program
    shape = forward.shape(step.target) + forward.batch
    name = f"{step.target.name}_tangent"
    axes = None
    if forward.batch:
        axes = tuple(len(forward.shape(s)) - 1 for s in (a, b, step.target))
    terms = []
    for operand, other in ((a, b), (b, a)):
        if operand not in forward.tangent:
            continue
        pair = [forward.full_tangent(operand), forward.along_batch(other)]
        terms.append(program.add(CROSS, tuple(pair if operand is a
                                              else pair[::-1]),
                                 shape, name, axes=axes))
    return sp.Add(*terms)


def _spell_cross(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    axes = step.option("axes")  # (axisa, axisb, axisc): the vectors' axes
    if axes is None:
        return call("np.cross", args)
    if len(set(axes)) == 1:
        return call("np.cross", args, axis=axes[0])
    return call("np.cross", args, axisa=axes[0], axisb=axes[1],
                axisc=axes[2])


CROSS = ArrayOp("cross", numpy=("cross",), lower=_lower_cross,
                vjp=_cross_vjp, jvp=_cross_jvp, spell=_spell_cross,
                any_size=True)


DOT = ArrayOp("dot", numpy=("dot",), methods=("dot",), lower=_lower_dot,
              lower_method=_lower_dot_method, vjp=_dot_vjp,
              batched=_of_matrices, spell=_spell_dot)
MATMUL = ArrayOp("matmul", numpy=("matmul", "linalg.matmul"),
                 lower=_lower_matmul)
VDOT = ArrayOp("vdot", numpy=("vdot",), lower=_lower_vdot)
OUTER = ArrayOp("outer", numpy=("outer",), lower=_lower_outer)
LINALG_OUTER = ArrayOp("linalg.outer", numpy=("linalg.outer",),
                       lower=_lower_linalg_outer)


# -- trace --------------------------------------------------------------------

def _lower_trace(run: Any, a: Any, offset: Any = 0, axis1: Any = 0,
                 axis2: Any = 1, *, node: ast.AST) -> Any:
    array = run.number(a, node)
    shape = run.shape(array, node)
    k = run.integer(offset, node, "the diagonal's offset")
    if len(shape) == 2 and (run.axis(axis1, 2, node),
                            run.axis(axis2, 2, node)) == (0, 1):
        source = run.materialize(array, node)
        return run.program.add(TRACE, (source,), (), f"trace_{source.name}",
                               offset=k)
    return reduce_sum(run, diagonal(run, array, k, axis1, axis2, node), -1,
                      False, node)[0]


def _trace_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    (source,) = step.operands
    rows, columns = program.shape_of(source)  # read at run time
    eye = program.add(EYE, (), program.leaves[source].shape, "eye",
                      rows=rows, columns=columns if columns != rows else None,
                      k=step.option("offset") or None, dtype=None)
    backward.contribute(source, adjoint * eye)


def _trace_jvp(forward: Any, step: Step) -> sp.Expr:
    """Linear: the trace of the tangent. np.trace sums the diagonal of
    the first two axes, so the batch's axes (last) ride along."""
    (source,) = step.operands
    program = forward.program
    tangent = forward.full_tangent(source)
    offset = step.option("offset")
    if identity_pairs(program, tangent) == [(0, 2), (1, 3)]:
        # a Jacobian's seed: the trace's Jacobian is the identity's diagonal
        rows, columns = program.shape_of(source)
        return program.add(EYE, (), forward.batch, "eye", rows=rows,
                           columns=columns if columns != rows else None,
                           k=offset or None, dtype=None)
    return program.add(TRACE, (tangent,), forward.batch,
                       f"{step.target.name}_tangent", offset=offset)


TRACE = ArrayOp("trace", numpy=("trace",), methods=("trace",),
                lower=_lower_trace, vjp=_trace_vjp, jvp=_trace_jvp,
                any_size=True,
                spell=lambda step, args, name: call(
                    "np.trace", args + ([literal(step.option("offset"))]
                                        if step.option("offset") else [])))
