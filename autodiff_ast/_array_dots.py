"""Sums of products of vectors, written as their dot product.

Forward mode writes the tangent of a loss as ``np.sum(u * v)`` over two
vectors (the jvp of the logistic loss: ``np.sum((targets - preds) * (b_dot
+ X @ W_dot))``), and a Hessian's block of two numbers as ``np.sum(p * (1 -
p))``. That makes an array of n products and sums it through NumPy's
reduction machinery, about 3 us of Python at a few elements; ``u @ v`` is
one call with no array made, which is also what a person writes. A sum of
the user's own function stays as written: its value is as the function
computes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import sympy as sp

from ._array_diagonals import copied
from ._ops_core import SUM
from ._ops_linalg import DOT
from ._program import ELEMENTWISE, Program, Step

if TYPE_CHECKING:
    from ._array_codegen import ArrayFunctionSpec

__all__ = ["sums_as_dots"]


def sums_as_dots(spec: ArrayFunctionSpec) -> ArrayFunctionSpec:
    """``spec`` with each sum of all of a vector that is a product of two
    or more vectors computed as ``u @ v``, where only outputs read the sum
    and only the sum reads the vector (an adjoint that a gradient's matrix
    product also reads stays one array). A sum of several such products
    stays as it is: in the higher orders of a loss, written as dot
    products, its terms lose the factors they share."""
    readers: dict[sp.Symbol, int] = {}  # how many steps read each
    for step in spec.program.steps:
        for symbol in step.uses():
            readers[symbol] = readers.get(symbol, 0) + 1
    read_by_outputs = {symbol for output in spec.outputs
                       if isinstance(output, sp.Basic)
                       for symbol in output.free_symbols}
    definition = spec.program.definition()
    program: Program | None = None
    replaced: dict[sp.Expr, sp.Expr] = {}
    for step in spec.program.steps:
        if step.op is not SUM or step.target in spec.as_written \
                or step.target in readers \
                or readers.get(step.operands[0]) != 1 \
                or step.operands[0] in read_by_outputs \
                or step.option("axis") is not None \
                or step.option("keepdims") or step.option("dtype"):
            continue
        # (an output -total: its sign is taken into the product too)
        negated = all(output == -step.target for output in spec.outputs
                      if isinstance(output, sp.Basic)
                      and step.target in output.free_symbols)
        product = _product(spec.program, definition, step, negated)
        if product is None:
            continue
        if program is None:  # (the spec's own program is left as it was)
            program = copied(spec.program)
        coefficient, left, right = product
        dot = program.add(DOT, (program.materialize(left, "left"),
                                program.materialize(right, "right")),
                          (), f"dot_{step.target.name}", style="@")
        replaced[-step.target if negated else step.target] = \
            coefficient * dot
    if program is None:
        return spec
    outputs = [replaced.get(output, output.xreplace(replaced))
               if isinstance(output, sp.Basic) else output
               for output in spec.outputs]
    return replace(spec, program=program, outputs=outputs)


def _product(program: Program, definition: dict[sp.Symbol, Step],
             total: Step, negated: bool
             ) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """``(c, u, v)`` where ``total`` (``-total`` if ``negated``) sums ``c
    * u * v``, u and v vectors of its terms' length (v a product of
    several) and c a number; a factor -1 is taken into a difference, put
    first (``-(t - p)`` is ``p - t``). None where the terms are anything
    else, or integers or booleans (whose dot product is not their sum's
    type)."""
    terms = definition.get(total.operands[0])
    shape = program.leaves[total.operands[0]].shape
    if terms is None or terms.op is not ELEMENTWISE or len(shape) != 1 \
            or not isinstance(terms.operands[0], sp.Expr):
        return None
    coefficient, rest = terms.operands[0].as_coeff_Mul()
    coefficient = -coefficient if negated else coefficient
    vectors = [f for f in sp.Mul.make_args(rest) if program.shape(f)]
    numbers = [f for f in sp.Mul.make_args(rest) if not program.shape(f)]
    if len(vectors) < 2 or any(program.shape(f) != shape for f in vectors):
        return None
    left, right = vectors[0], sp.Mul(*vectors[1:])
    if any(program.is_integer(f)
           or f in program.leaves and program.leaves[f].boolean
           for f in (left, right)):
        return None
    if coefficient == -1:
        if isinstance(right, sp.Add):
            coefficient, left, right = sp.S.One, -right, left
        elif isinstance(left, sp.Add):
            coefficient, left = sp.S.One, -left
    return coefficient * sp.Mul(*numbers), left, right
