"""Jacobians, Hessians and Jacobian-vector products of scalar code.

Scalar code lowers to one SymPy expression per output, so each of these is
a table of partial derivatives laid out as JAX lays it out: a Jacobian has
the output's structure with, at each output, the partials with respect to
``argnums`` (a tuple of them when ``argnums`` is a tuple); a Hessian has a
tuple of tuples of second partials there; a Jacobian-vector product returns
the value and, with the same structure, the directional derivative along
one tangent per argument. All outputs are written into one function, so
their common subexpressions are computed once.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ._codegen import Literal
from ._differentiate import (Derivatives, aux_leaves, checked_partial,
                             split_aux)
from ._errors import OutputError
from ._lower_records import Lowered, symbol
from ._program import unique_name

__all__ = ["jacobian_outputs", "hessian_outputs", "jvp_outputs"]


class _Layout:
    """Flat outputs and the names a long return spells them with."""

    def __init__(self) -> None:
        self.outputs: list[sp.Expr] = []
        self.names: dict[int, str] = {}
        self.shape_of: dict[int, sp.Symbol] = {}

    def add(self, expr: sp.Expr, name: str,
            shaped_like: sp.Symbol | None = None) -> int:
        self.outputs.append(expr)
        index = len(self.outputs) - 1
        self.names[index] = name
        if shaped_like is not None:
            self.shape_of[index] = shaped_like
        return index

    def tree(self, value: Any, make: Any) -> Any:
        """``value``'s tuple structure with each leaf replaced by
        ``make(leaf, path)``."""
        def walk(node: Any, path: tuple[int, ...]) -> Any:
            if isinstance(node, tuple):
                return tuple(walk(v, path + (i,)) for i, v in enumerate(node))
            return make(node, path)
        return walk(value, ())


def _where(lowered: Lowered) -> str:
    return f"{lowered.name} ({lowered.location})"


def _number(leaf: Any, lowered: Lowered, what: str) -> sp.Expr:
    if not isinstance(leaf, sp.Expr):
        raise OutputError(
            f"{_where(lowered)} returns {leaf!r}, which is not a number: "
            f"{what} needs numbers (or tuples of them) as outputs.")
    return leaf


def _suffix(path: tuple[int, ...]) -> str:
    return "".join(f"_{i}" for i in path)


def _aux(layout: _Layout, aux: Any, lowered: Lowered) -> Any:
    where = _where(lowered)
    return layout.tree(aux_leaves(aux, where),
                       lambda leaf, path: leaf if isinstance(leaf, Literal)
                       else layout.add(leaf, "aux"))


def jacobian_outputs(lowered: Lowered, argnums: tuple[int, ...],
                     as_tuple: bool, has_aux: bool) -> Derivatives:
    """d output / d argument for each output and each of ``argnums``."""
    value, aux = split_aux(lowered.output, _where(lowered), has_aux,
                           allow_tuple=True)
    layout = _Layout()

    def partials(leaf: Any, path: tuple[int, ...]) -> Any:
        expr = _number(leaf, lowered, "jacobian")
        indices = tuple(
            layout.add(checked_partial(expr, lowered.symbols[i],
                                       _where(lowered)),
                       f"jac{_suffix(path)}_{lowered.params[i]}",
                       lowered.symbols[i])
            for i in argnums)
        return indices if as_tuple else indices[0]

    structure: Any = layout.tree(value, partials)
    if has_aux:
        structure = (structure, _aux(layout, aux, lowered))
    return Derivatives(layout.outputs, structure, layout.shape_of,
                       layout.names)


def hessian_outputs(lowered: Lowered, argnums: tuple[int, ...],
                    as_tuple: bool, has_aux: bool) -> Derivatives:
    """d2 output / d argument_i d argument_j for each output and each pair
    of ``argnums``."""
    value, aux = split_aux(lowered.output, _where(lowered), has_aux,
                           allow_tuple=True)
    layout = _Layout()
    where = _where(lowered)

    def second(leaf: Any, path: tuple[int, ...]) -> Any:
        expr = _number(leaf, lowered, "hessian")
        rows = []
        for i in argnums:
            first = checked_partial(expr, lowered.symbols[i], where)
            row = []
            for j in argnums:
                name = (f"d2_d{lowered.params[i]}2" if i == j else
                        f"d2_d{lowered.params[i]}_d{lowered.params[j]}")
                row.append(layout.add(
                    checked_partial(first, lowered.symbols[j], where),
                    name + _suffix(path), lowered.symbols[i]))
            rows.append(tuple(row) if as_tuple else row[0])
        return tuple(rows) if as_tuple else rows[0]

    structure: Any = layout.tree(value, second)
    if has_aux:
        structure = (structure, _aux(layout, aux, lowered))
    return Derivatives(layout.outputs, structure, layout.shape_of,
                       layout.names)


def jvp_outputs(lowered: Lowered, has_aux: bool) -> Derivatives:
    """The value and its derivative along tangents ``x_dot, y_dot, ...``
    (one per argument, which become parameters of the generated
    function)."""
    value, aux = split_aux(lowered.output, _where(lowered), has_aux,
                           allow_tuple=True)
    taken = set(lowered.params)
    tangent_names = []
    for param in lowered.params:
        name = unique_name(f"{param}_dot", taken)
        taken.add(name)
        tangent_names.append(name)
    tangents = [symbol(name) for name in tangent_names]
    layout = _Layout()
    where = _where(lowered)
    leaves: list[tuple[sp.Expr, tuple[int, ...]]] = []

    def value_leaf(leaf: Any, path: tuple[int, ...]) -> int:
        expr = _number(leaf, lowered, "jvp")
        leaves.append((expr, path))
        # (3.0 folded to the integer 3 is written 3.0: a value is a float)
        return layout.add(sp.Float(expr) if expr.is_Integer else expr,
                          "value" + _suffix(path))

    values = layout.tree(value, value_leaf)
    first = lowered.symbols[0] if lowered.symbols else None
    directional = iter([
        layout.add(sp.Add(*[checked_partial(expr, s, where) * t
                            for s, t in zip(lowered.symbols, tangents)]),
                   "tangent" + _suffix(path), first)
        for expr, path in leaves])
    tangent_structure = layout.tree(value, lambda leaf, path: next(
        directional))
    structure: Any = (values, tangent_structure)
    if has_aux:
        structure = (structure, _aux(layout, aux, lowered))
    return Derivatives(layout.outputs, structure, layout.shape_of,
                       layout.names,
                       params=tuple(lowered.params) + tuple(tangent_names))
