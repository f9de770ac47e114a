"""Rows of the array table for products: ``np.dot``, ``@``/``np.matmul``,
``np.vdot``, ``np.outer``.

They lower to one ``dot`` step that remembers how the user spelled it
(``A @ B``, ``A.dot(B)``, ``np.dot(A, B)``), so the gradient is written the
same way: the product with the other factor transposed.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._ops_core import SUM, TRANSPOSE, reshape
from ._ops_index import GETITEM, getitem
from ._program import ArrayOp, Shape, Step
from ._spell import call

__all__ = ["DOT", "MATMUL", "VDOT", "OUTER", "product"]


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
        raise run.error(node, "products of arrays with more than two "
                              "dimensions are not supported yet: reshape "
                              "to matrices first")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise run.error(node, f"shapes {sa} and {sb} not aligned: {inner_a} "
                              f"(dim {len(sa) - 1}) != {inner_b}")
    first = run.materialize(a, node, "left")
    second = run.materialize(b, node, "right")
    return run.program.add(DOT, (first, second), sa[:-1] + sb[1:],
                           f"dot_{first.name}_{second.name}", style=style)


def _flat(run: Any, array: sp.Expr, shape: Shape, node: ast.AST) -> Any:
    return array if len(shape) <= 1 else reshape(run, array, (-1,), node)


def _dot_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    if program.shape(adjoint) == () and len(program.leaves[
            step.target].shape):
        _dot_vjp_of_sum(backward, step, adjoint)
        return
    adjoint = backward.full(adjoint, program.leaves[step.target].shape,
                            f"d_{step.target.name}")
    a, b = step.operands
    style = step.option("style")
    sa = program.leaves[a].shape
    sb = program.leaves[b].shape

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


DOT = ArrayOp("dot", numpy=("dot",), methods=("dot",), lower=_lower_dot,
              lower_method=_lower_dot_method, vjp=_dot_vjp,
              spell=_spell_dot)
MATMUL = ArrayOp("matmul", numpy=("matmul",), lower=_lower_matmul)
VDOT = ArrayOp("vdot", numpy=("vdot",), lower=_lower_vdot)
OUTER = ArrayOp("outer", numpy=("outer",), lower=_lower_outer)
