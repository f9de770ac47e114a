"""The array program: what lowering produces for code with array operations.

Elementwise arithmetic stays SymPy, over symbols that each stand for a whole
array (every element at once). Array operations (dot, sum, transpose,
indexing, ...) cannot be SymPy, so each becomes a ``Step`` whose result is a
fresh symbol; elementwise SymPy expressions then use that symbol like any
other. A step's operation is an ``ArrayOp``, a row of the array table
(``_array_rules``) that holds everything the pipeline needs of it. Shapes
are known (the program is built for one input signature), so broadcasting
is checked while lowering and undone exactly in the gradient.
"""

from __future__ import annotations

import keyword
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean

__all__ = ["ArrayOp", "ELEMENTWISE", "Leaf", "Step", "Program",
           "broadcast_shapes", "unique_name"]

Shape = tuple[int, ...]


@dataclass(frozen=True, eq=False)
class ArrayOp:
    """One array operation: everything lowering, the gradient and codegen
    need of it, in one row.

    ``numpy``, ``methods`` and ``builtins`` name what it is recognised by
    (``"linalg.norm"`` is ``np.linalg.norm``; by object, not spelling).
    ``lower(run, *args, node=..., **kwargs)`` checks the arguments as NumPy
    would and adds steps to the runner's program (``lower_method`` for the
    method, when it takes its arguments differently). A step of this op is
    differentiated by ``vjp(backward, step, adjoint)`` and written by
    ``spell(step, args, name)`` (an expression, or with ``statement`` a
    list of statements that fill ``name``). ``stops_gradient``: its result
    is a constant to differentiation; ``keeps_dtype``: its result has its
    operands' dtype (it moves elements, as a reshape, or assembles them).
    ``refused``: recognised, and refused with this reason and fix
    (``{spelled}`` is how the user called it).
    """

    name: str
    numpy: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    lower: Callable[..., Any] | None = None
    lower_method: Callable[..., Any] | None = None
    vjp: Callable[..., None] | None = None
    spell: Callable[..., Any] | None = None
    stops_gradient: bool = False
    statement: bool = False
    keeps_dtype: bool = False
    refused: str | None = None

    def __repr__(self) -> str:
        return f"<array op {self.name}>"


def _elementwise_vjp(backward: Any, step: "Step", adjoint: sp.Expr) -> None:
    backward.elementwise(step.operands[0], adjoint)


# A SymPy expression over program symbols, computed element by element
# (written by the codegen's common-subexpression pass, not by a spelling).
ELEMENTWISE = ArrayOp("elementwise", vjp=_elementwise_vjp)


@dataclass(frozen=True)
class Leaf:
    """What a symbol of the program stands for."""

    shape: Shape
    kind: str  # "param": differentiable input; "data": constant; "value"
    boolean: bool = False  # 0/1-valued data: its dtype is bool
    integer: bool = False  # an integer dtype: usable as an index
    access: str | None = None  # how generated code reads it (params['W'])


@dataclass(frozen=True)
class Step:
    """``target = op(*operands, **options)``.

    ``ELEMENTWISE`` has one SymPy operand, the expression computed; other
    ops take symbols (or, for ``stack``, numbers) and static options.
    """

    target: sp.Symbol
    op: ArrayOp
    operands: tuple[Any, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def uses(self) -> set[sp.Symbol]:
        used: set[sp.Symbol] = set()
        for operand in self.operands:
            if isinstance(operand, sp.Basic):
                used |= operand.free_symbols
        return used


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy's broadcast of ``shapes``; ValueError if incompatible."""
    return tuple(np.broadcast_shapes(*shapes))


@dataclass
class Program:
    """Symbols with their shapes, and the steps that define computed ones."""

    leaves: dict[sp.Symbol, Leaf] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    _memo: dict[tuple[Any, ...], sp.Symbol] = field(default_factory=dict)

    def new_symbol(self, suggestion: str, leaf: Leaf) -> sp.Symbol:
        name = unique_name(_identifier(suggestion), self.names)
        self.names.add(name)
        symbol = sp.Symbol(name, real=True)
        self.leaves[symbol] = leaf
        return symbol

    def reserve(self, name: str) -> None:
        self.names.add(name)

    def shape(self, expr: Any) -> Shape:
        """The shape of an elementwise expression over program symbols."""
        if not isinstance(expr, sp.Basic):
            return ()
        shapes = [self.leaves[s].shape for s in expr.free_symbols
                  if s in self.leaves]
        return broadcast_shapes(*shapes) if shapes else ()

    def add(self, op: ArrayOp, operands: tuple[Any, ...],
            result_shape: Shape, suggestion: str, *, boolean: bool = False,
            integer: bool = False, **options: Any) -> sp.Symbol:
        """The symbol for ``op(operands)``, reusing an identical step;
        ``boolean``/``integer``: the dtype of its result."""
        key = (op, operands, _hashable(tuple(sorted(options.items()))))
        existing = self._memo.get(key)
        if existing is not None:
            return existing
        if op.keeps_dtype and operands:
            integer = all(self.is_integer(o) for o in operands)
            boolean = all(o in self.leaves and self.leaves[o].boolean
                          for o in operands)
        target = self.new_symbol(suggestion, Leaf(
            tuple(result_shape), "value", boolean=boolean, integer=integer))
        self.steps.append(Step(target, op, operands,
                               tuple(sorted(options.items()))))
        self._memo[key] = target
        return target

    def join(self, targets: list[sp.Symbol], op: ArrayOp,
             operands: tuple[Any, ...], **options: Any) -> sp.Symbol:
        """One step ``op(operands)`` in place of the steps that define
        ``targets``: it defines the first of them (and keeps its name), in
        the place of the last (after every operand of theirs)."""
        joined = set(targets)
        places = [i for i, step in enumerate(self.steps)
                  if step.target in joined]
        step = Step(targets[0], op, operands, tuple(sorted(options.items())))
        self.steps[places[-1]] = step
        self.steps = [s for i, s in enumerate(self.steps)
                      if i not in places[:-1]]
        self._memo = {key: value for key, value in self._memo.items()
                      if value not in joined}
        return targets[0]

    def materialize(self, expr: sp.Expr, suggestion: str) -> sp.Symbol:
        """A symbol holding ``expr`` (the expression itself if a symbol)."""
        if isinstance(expr, sp.Symbol) and expr in self.leaves:
            return expr
        return self.add(ELEMENTWISE, (expr,), self.shape(expr), suggestion,
                        boolean=isinstance(expr, Boolean),
                        integer=self.is_integer(expr))

    def is_integer(self, expr: Any) -> bool:
        """Whether ``expr`` has an integer dtype: integer arithmetic (+, -,
        *) on integer constants and integer arrays."""
        if isinstance(expr, (int, sp.Integer)):
            return True
        if isinstance(expr, sp.Symbol):
            leaf = self.leaves.get(expr)
            return leaf is not None and leaf.integer
        if isinstance(expr, (sp.Add, sp.Mul)):
            return all(self.is_integer(a) for a in expr.args)
        return False

    def definition(self) -> dict[sp.Symbol, Step]:
        return {step.target: step for step in self.steps}


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_1``, ``name_2``, ... if it is taken."""
    if name not in taken:
        return name
    index = 1
    while f"{name}_{index}" in taken:
        index += 1
    return f"{name}_{index}"


def _hashable(value: Any) -> Any:
    """``value`` with slices (unhashable before Python 3.12) as tuples."""
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _identifier(text: str) -> str:
    # Python reads identifiers NFKC-normalised ("ﬁ" is "fi"), so names are
    # made from the normalised text, keeping only characters an identifier
    # may hold ("²" is alphanumeric but not one of them).
    text = unicodedata.normalize("NFKC", text)
    cleaned = "".join(c if ("a" + c).isidentifier() else "_" for c in text)
    cleaned = "_".join(part for part in cleaned.split("_") if part) or "t"
    if cleaned[0].isdigit() or keyword.iskeyword(cleaned):
        cleaned = f"v_{cleaned}"
    return cleaned[:24].rstrip("_")
