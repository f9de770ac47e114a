"""Removable singularities of array derivatives, written as ``_singular``
writes them.

The gradient of np.sum(np.sin(x) / x) is (x cos x - sin x) / x**2
elementwise: nan at 0 and, around it, every digit lost to cancellation.
Each part of a derivative's steps and outputs that is an elementwise
function of one input gets ``_singular``'s treatment: its
Taylor polynomial near the 0/0 and the formula, of a stand-in kept away
from it, elsewhere. The function's own values are as it computes them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import sympy as sp

from ._program import ELEMENTWISE, Program, read_through
from ._singular import with_removable_singularity

if TYPE_CHECKING:
    from ._array_codegen import ArrayFunctionSpec

__all__ = ["removable_singularities_written"]


def removable_singularities_written(spec: ArrayFunctionSpec
                                    ) -> ArrayFunctionSpec:
    """``spec`` with its derivative's elementwise steps and outputs
    written so (a Hessian's diagonal, ``np.diag(d2)``, is built in steps
    from such a value, and one nan there fills a row)."""
    if spec.namespace != "numpy":
        return spec
    parts = _OneInputParts(spec.program)
    steps = []
    for step in spec.program.steps:
        if step.op is ELEMENTWISE and step.target not in spec.as_written:
            (value,) = step.operands
            rewritten = parts(value)
            if rewritten is not value:
                step = replace(step, operands=(rewritten,))
        steps.append(step)
    if any(a is not b for a, b in zip(steps, spec.program.steps)):
        spec = replace(spec, program=replace(spec.program, steps=steps))
    return replace(spec, outputs=[
        output if not isinstance(output, sp.Expr) or any(
            output == value for value in spec.meant
            if isinstance(value, sp.Basic)) else parts(output)
        for output in spec.outputs])


class _OneInputParts:
    """An expression of a program with each largest part that is a
    function of one input alone written with its removable singularity,
    if it has one; the expression as it is where none has one. Values of
    elementwise steps count as what they compute (``sinh_x / x``, where
    the user's step computes sinh_x, is a function of x alone)."""

    def __init__(self, program: Program) -> None:
        self.definition = program.definition()
        # (a condition's step, x > 0, is not a number to put in a product)
        self.other = {target for target, step in self.definition.items()
                      if step.op is not ELEMENTWISE
                      or not isinstance(step.operands[0], sp.Expr)}

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        expanded = read_through(expr, self.definition, _EXPANDED_NODES)
        rewritten = self.rewritten(expanded)
        return expr if rewritten is expanded else rewritten

    def rewritten(self, expr: sp.Basic) -> sp.Basic:
        if expr.is_Atom or not isinstance(expr, sp.Expr):
            return expr
        symbols = expr.free_symbols
        if len(symbols) == 1:
            return expr if symbols & self.other else \
                with_removable_singularity(expr)
        parts = [self.rewritten(part) for part in expr.args]
        if all(a is b for a, b in zip(parts, expr.args)):
            return expr
        return expr.func(*parts)


# The most nodes an expression read through elementwise steps may have:
# with_removable_singularity leaves alone what has more than 80
# operations.
_EXPANDED_NODES = 400
