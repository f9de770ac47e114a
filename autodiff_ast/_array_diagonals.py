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
too, to sum a vector's tangents on the diagonal before they are columns
(``cancelled``). Where that saved nothing, the identity times a sum of
columns (``a[:, None] * b[:, None] + c[:, None]``) is one vector on the
diagonal too.
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
from ._program import ELEMENTWISE, Program, Step, read_through
from ._simplify import simplify

if TYPE_CHECKING:
    from ._array_codegen import ArrayFunctionSpec

__all__ = ["diagonals_written", "expanded_times_identity", "cancelled",
           "computed_by", "copied"]


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
    identity of ``d``'s size in ``d``'s dtype (or the identity times an
    expression of such columns, ``_columns_times_identity``); else
    None."""
    found = expanded_times_identity(program, definition, output)
    if found is not None:
        eye, coefficient, vector = found
    else:
        found = _columns_times_identity(program, definition, output)
        if found is None:
            return None
        (eye, vector), coefficient = found, sp.S.One
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


def _columns_times_identity(program: Program,
                            definition: dict[sp.Symbol, Step], value: Any
                            ) -> tuple[sp.Symbol, sp.Expr] | None:
    """``(I, d)`` where ``value`` is ``E * I`` (written out, or expanded:
    ``I * a + I * b``), ``I`` an identity and ``E`` an elementwise
    expression of columns ``v[:, None]`` (and of numbers): forward mode's
    sum of a vector's tangents on the diagonal, where summing them as
    vectors saved nothing (``a[:, None] * b[:, None] + c[:, None]``);
    ``d`` is ``E`` of the vectors. Else None."""
    if not isinstance(value, (sp.Mul, sp.Add)):
        return None
    eyes = [s for s in value.free_symbols
            if is_identity(program, s, definition)]
    if len(eyes) != 1:
        return None
    # (each term a multiple of I: I * a * b + I * c)
    rest = sp.Add(*[term / eyes[0] for term in sp.Add.make_args(value)])
    if eyes[0] in rest.free_symbols:
        return None
    vectors: dict[sp.Symbol, sp.Symbol] = {}
    for symbol in rest.free_symbols:
        if not program.shape(symbol):
            continue  # a number: it broadcasts alike
        expanded = definition.get(symbol)
        if (expanded is None or expanded.op is not GETITEM
                or expanded.option("index") != (slice(None), None)
                or len(expanded.operands) != 1):
            return None
        vectors[symbol] = expanded.operands[0]
    if not vectors:
        return None
    # A vector computed from another of them is written out, so that their
    # like terms are one (t + (t + e), not t + e + t).
    read = set().union(*[computed_by(definition, v).free_symbols
                         for v in vectors.values()])
    vector = rest.xreplace({
        column: v if v in read else computed_by(definition, v)
        for column, v in vectors.items()})
    return eyes[0], cancelled(definition, vector) or vector


def computed_by(definition: dict[sp.Symbol, Step],
                symbol: sp.Symbol) -> sp.Expr:
    """What ``symbol`` computes, where an elementwise step makes it; else
    the symbol."""
    made = definition.get(symbol)
    if made is not None and made.op is ELEMENTWISE and isinstance(
            made.operands[0], sp.Expr):
        return made.operands[0]
    return symbol


# The most nodes a sum of diagonal terms is written out to, to see whether
# its terms cancel.
_LARGEST_DIAGONAL = 200


def cancelled(definition: dict[sp.Symbol, Step], total: sp.Expr
              ) -> sp.Expr | None:
    """``total``, with the elementwise values it reads written as what they
    compute, simplified, where that has fewer operations (its terms
    cancel: e^x cos x + e^x sin x + e^x cos x - t, where t = e^x sin x),
    else None."""
    derivative = simplify([read_through(total, definition,
                                        _LARGEST_DIAGONAL)], tails=False)[0]
    return derivative if sp.count_ops(derivative) < sp.count_ops(
        total) else None


def copied(program: Program) -> Program:
    """A copy of ``program`` that steps can be added to, leaving it as it
    was."""
    return replace(program, leaves=dict(program.leaves),
                   steps=list(program.steps), names=set(program.names),
                   _memo=dict(program._memo), sizes=dict(program.sizes),
                   baked=list(program.baked))
