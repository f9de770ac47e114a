"""Outputs that are a vector on the diagonal of the identity, written
``np.diag(d)``.

The Jacobian of an elementwise map and the Hessian of a sum of one are
their derivatives on the diagonal. Forward mode over the identity seed and
reverse mode alike build them as ``np.eye(n) * d[:, None]``: an n x n
identity made and multiplied through. ``np.diag(d)`` says what the matrix
is, and makes one array of zeros with d on its diagonal. A vector written
with another dtype than the identity's (float32 values beside a float64
identity, which promotes) stays as it is.

``expanded_times_identity`` finds such a product; forward mode reads it
too, to sum a vector's tangents on the diagonal before they are columns.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ._lower_arrays import computed_dtype
from ._ops_create import is_identity
from ._ops_index import GETITEM
from ._ops_shape import DIAG
from ._program import Program, Step

if TYPE_CHECKING:
    from ._array_codegen import ArrayFunctionSpec

__all__ = ["diagonals_written", "expanded_times_identity", "copied"]


def diagonals_written(spec: ArrayFunctionSpec) -> ArrayFunctionSpec:
    """``spec`` with each output that is ``c * d[:, None] * np.eye(n)``
    (d a vector of n values) computed by ``np.diag(c * d)``."""
    definition = spec.program.definition()
    program: Program | None = None
    outputs = []
    for output in spec.outputs:
        vector = _diagonal(spec.program, definition, output)
        if vector is None:
            outputs.append(output)
            continue
        if program is None:  # (the spec's own program is left as it was)
            program = copied(spec.program)
        on_diagonal = program.materialize(vector, "diagonal")
        outputs.append(program.add(DIAG, (on_diagonal,),
                                   spec.program.shape(output), "diagonal",
                                   k=0))
    if program is None:
        return spec
    return replace(spec, program=program, outputs=outputs)


def _diagonal(program: Program, definition: dict[sp.Symbol, Step],
              output: object) -> sp.Expr | None:
    """``c * d`` where ``output`` is ``c * d[:, None] * I``, ``I`` the
    identity of ``d``'s size in ``d``'s dtype; else None."""
    found = expanded_times_identity(program, definition, output)
    if found is None:
        return None
    eye, coefficient, vector = found
    shape = program.shape(vector)
    if len(shape) != 1 or program.shape(eye) != shape * 2:
        return None
    spelled = definition[eye].option("dtype")
    dtype = np.dtype(np.float64 if spelled is None
                     else spelled.removeprefix("np."))
    if computed_dtype(program, coefficient * vector) != dtype:
        return None
    return coefficient * vector


def expanded_times_identity(program: Program,
                            definition: dict[sp.Symbol, Step], value: Any
                            ) -> tuple[sp.Symbol, sp.Expr, sp.Symbol] | None:
    """``(I, c, p)`` where ``value`` is ``c * p[:, None] * I``, ``I`` an
    identity (``np.eye(n)``); else None."""
    if not isinstance(value, sp.Mul):
        return None
    coefficient, rest = value.as_coeff_Mul()
    factors = sp.Mul.make_args(rest)
    if len(factors) != 2:
        return None
    for column, eye in (factors, factors[::-1]):
        expanded = definition.get(column)
        if (is_identity(program, eye, definition) and expanded is not None
                and expanded.op is GETITEM
                and expanded.option("index") == (slice(None), None)
                and len(expanded.operands) == 1):
            return eye, coefficient, expanded.operands[0]
    return None


def copied(program: Program) -> Program:
    """A copy of ``program`` that steps can be added to, leaving it as it
    was."""
    return replace(program, leaves=dict(program.leaves),
                   steps=list(program.steps), names=set(program.names),
                   _memo=dict(program._memo), sizes=dict(program.sizes),
                   baked=list(program.baked))
