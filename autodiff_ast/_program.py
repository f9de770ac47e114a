"""The array program: what lowering produces for code with array operations.

Elementwise arithmetic stays SymPy, over symbols that each stand for a whole
array (every element at once). Array operations (dot, sum, transpose,
indexing, ...) cannot be SymPy, so each becomes a ``Step`` whose result is a
fresh symbol; elementwise SymPy expressions then use that symbol like any
other. A step's operation is an ``ArrayOp``, a row of the array table
(``_array_rules``) that holds everything the pipeline needs of it. Shapes
are known (the program is built for one input signature), so broadcasting
is checked while lowering and undone exactly in the gradient.

Shapes are concrete, but generated code must not bake them in: a size that
enters a value (a mean's count, ``len(x)``) or a shape the code spells (a
reshape, a broadcast) is a size symbol, a scalar program symbol defined by a
``SIZE`` step (``X.shape[0]``, ``x.size``) that generated code reads when it
runs; ``Program.sizes`` holds its value for checking. A size that must
still be a constant (a loop count) is recorded in ``Program.baked``, and the
code then checks the shapes it was generated for.
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
           "broadcast_shapes", "read_through", "unique_name"]

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
    differentiated by ``vjp(backward, step, adjoint)`` in reverse mode
    and ``jvp(forward, step)`` in forward mode (see ``_forward``), and
    written by
    ``spell(step, args, name)`` (an expression, or with ``statement`` a
    list of statements that fill ``name``). ``stops_gradient``: its result
    is a constant to differentiation; ``keeps_dtype``: its result has its
    operands' dtype (it moves elements, as a reshape, or assembles them).
    ``refused``: recognised, and refused with this reason and fix
    (``{spelled}`` is how the user called it). ``any_size``: its lowering
    and gradient write only sizes read at run time (size symbols, shapes
    as the user wrote them), so code with it runs at any size; code with
    a step of an op without it checks the shapes it was generated for.
    ``batched``: its vjp rule also takes a batch of cotangents, the
    ``backward.rank`` axes in front of every adjoint that a Jacobian in
    reverse mode has (``_jacrev``); with none, it is the gradient's rule.
    A function of the program and the step says it for some steps only
    (``takes_batch``).
    """

    name: str
    numpy: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    lower: Callable[..., Any] | None = None
    lower_method: Callable[..., Any] | None = None
    vjp: Callable[..., None] | None = None
    jvp: Callable[..., Any] | None = None
    spell: Callable[..., Any] | None = None
    stops_gradient: bool = False
    statement: bool = False
    keeps_dtype: bool = False
    refused: str | None = None
    any_size: bool = False
    batched: bool | Callable[["Program", "Step"], bool] = False

    def __repr__(self) -> str:
        return f"<array op {self.name}>"

    def takes_batch(self, program: "Program", step: "Step") -> bool:
        """Whether the vjp rule of ``step`` (of this op) takes a batch of
        cotangents."""
        if callable(self.batched):
            return self.batched(program, step)
        return self.batched


def _elementwise_vjp(backward: Any, step: "Step", adjoint: sp.Expr) -> None:
    backward.elementwise(step.operands[0], adjoint)


# A SymPy expression over program symbols, computed element by element
# (written by the codegen's common-subexpression pass, not by a spelling).
ELEMENTWISE = ArrayOp("elementwise", vjp=_elementwise_vjp, any_size=True,
                      batched=True)


def _spell_size(step: "Step", args: list[Any], name: str) -> Any:
    import ast
    axis = step.option("axis")
    if axis is None:
        return ast.Attribute(args[0], "size", ast.Load())
    return ast.Subscript(ast.Attribute(args[0], "shape", ast.Load()),
                         ast.Constant(axis), ast.Load())


# operands (array,): the size of the array along ``axis`` (None: its
# number of elements), read when the code runs; a constant to
# differentiation.
SIZE = ArrayOp("size", spell=_spell_size, stops_gradient=True,
               any_size=True)


@dataclass(frozen=True)
class Leaf:
    """What a symbol of the program stands for."""

    shape: Shape
    kind: str  # "param": differentiable input; "data": constant; "value"
    boolean: bool = False  # 0/1-valued data: its dtype is bool
    integer: bool = False  # an integer dtype: usable as an index
    access: str | None = None  # how generated code reads it (params['W'])
    dtype: Any = None  # an input's NumPy dtype (x.dtype in the code)
    # A value of the same shape when the code runs: a loop's carried
    # value has its start's (x.size read once, not in each iteration).
    shaped_like: Any = None
    # Floats for certain, though no input's dtype says so: a loop's
    # carried adjoint whose start is floats (values may be added into it
    # in place: ``_ops_scatter``).
    floats: bool = False


@dataclass(frozen=True)
class Step:
    """``target = op(*operands, **options)``.

    ``ELEMENTWISE`` has one SymPy operand, the expression computed; other
    ops take symbols (or, for ``stack``, numbers) and static options. An
    option that is a shape (``shape``, ``rows``, ...) holds ints (as the
    user wrote them) or size symbols (``Program.size``), read at run time.
    """

    target: sp.Symbol
    op: ArrayOp
    operands: tuple[Any, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def uses(self) -> set[sp.Symbol]:
        loop = self.option("loop")
        if loop is not None:
            return loop.uses()
        # Kept with the step, which never changes: SymPy walks the whole
        # tree for free_symbols each time, and passes over a program ask
        # every step what it uses, once per step they look at.
        known = self.__dict__.get("_uses")
        if known is None:
            known = set(option_symbols(self.options))
            for operand in self.operands:
                if isinstance(operand, sp.Basic):
                    known |= operand.free_symbols
            object.__setattr__(self, "_uses", frozenset(known))
        return set(known)

    def results(self) -> tuple[sp.Symbol, ...]:
        """What the step defines: its target, or each value a loop
        carries out."""
        loop = self.option("loop")
        return (self.target,) if loop is None else loop.results()


def option_symbols(value: Any) -> set[sp.Symbol]:
    """The size symbols a step's options hold (in shapes)."""
    if isinstance(value, sp.Basic):
        return set(value.free_symbols)
    if isinstance(value, tuple):
        found: set[sp.Symbol] = set()
        for item in value:
            found |= option_symbols(item)
        return found
    return set()


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
    # The value of each size symbol, for the checks lowering does.
    sizes: dict[sp.Symbol, int] = field(default_factory=dict)
    # Why generated code cannot read every size at run time (a size used
    # as a loop count): it then checks the shapes it was generated for.
    baked: list[str] = field(default_factory=list)

    def new_symbol(self, suggestion: str, leaf: Leaf,
                   **assumptions: bool) -> sp.Symbol:
        """A symbol for a value of kind ``leaf``; ``assumptions`` are
        SymPy's (a loop's index is a nonnegative integer)."""
        name = unique_name(_identifier(suggestion), self.names)
        self.names.add(name)
        symbol = sp.Symbol(name, real=True, **assumptions)
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
        if isinstance(expr, (sp.Add, sp.Mul)) or isinstance(
                expr, sp.Function) and expr.func.__name__ in ("mod",
                                                              "floordiv"):
            return all(self.is_integer(a) for a in expr.args)  # i % 3
        return False

    def definition(self) -> dict[sp.Symbol, Step]:
        return {result: step for step in self.steps
                for result in step.results()}

    def needed(self, outputs: Any) -> set[sp.Symbol]:
        """The symbols ``outputs`` (expressions) are computed from."""
        definition = self.definition()
        needed: set[sp.Symbol] = set()
        pending = [s for e in outputs if isinstance(e, sp.Basic)
                   for s in e.free_symbols]
        while pending:
            symbol = pending.pop()
            if symbol not in needed:
                needed.add(symbol)
                step = definition.get(symbol)
                if step is not None:
                    pending.extend(step.uses())
        return needed

    def active_steps(self, outputs: list[Any],
                     wrt: list[sp.Symbol]) -> list[Step]:
        """The steps between ``wrt`` and ``outputs`` that carry
        derivatives."""
        active = set(wrt)
        needed = self.needed(outputs)
        steps = []
        for step in self.steps:
            if step.uses() & active and not step.op.stops_gradient:
                active.update(step.results())
                if needed.intersection(step.results()):
                    steps.append(step)
        return steps

    # -- sizes read at run time ---------------------------------------------

    def size(self, array: Any, axis: int | None) -> Any:
        """The size of ``array`` (a symbol or an elementwise expression)
        along ``axis`` (None: its number of elements), as generated code
        reads it: a size symbol defined as ``X.shape[0]`` of the input
        the size comes from, or the int 1 for an axis that is always 1."""
        definition = self.definition()
        if axis is None:
            shape = self.shape(array)
            sources = [self._size_source(array, i, definition)
                       for i in range(len(shape))]
            owner = sources[0][0] if shape and sources[0] else None
            if owner is not None and len(self.leaves[owner].shape) == len(
                    shape) and sources == [(owner, i)
                                           for i in range(len(shape))]:
                return self._size_step(owner, None)  # x.size
            return sp.Mul(*[1 if found is None else self._size_step(*found)
                            for found in sources])
        found = self._size_source(array, axis, definition)
        if found is None:
            return 1
        return self._size_step(*found)

    def shape_of(self, array: Any) -> tuple[Any, ...]:
        """``array``'s shape as generated code reads it (entries are size
        symbols, or 1 for axes that are always 1)."""
        return tuple(self.size(array, i)
                     for i in range(len(self.shape(array))))

    def concrete(self, value: Any) -> Any:
        """``value`` with its size symbols replaced by their values."""
        if isinstance(value, sp.Basic):
            known = {s: sp.Integer(self.sizes[s]) for s in value.free_symbols
                     if s in self.sizes}
            return value.xreplace(known) if known else value
        if isinstance(value, tuple):
            return tuple(self.concrete(v) for v in value)
        if isinstance(value, list):
            return [self.concrete(v) for v in value]
        return value

    def _size_step(self, array: sp.Symbol, axis: int | None) -> sp.Symbol:
        key = (SIZE, (array,), (("axis", axis),))
        existing = self._memo.get(key)
        if existing is not None:
            return existing
        shape = self.leaves[array].shape
        value = int(np.prod(shape)) if axis is None else shape[axis]
        name = unique_name("size" if axis is None else
                           "n" if axis == 0 else f"n{axis}", self.names)
        self.names.add(name)
        target = sp.Symbol(name, integer=True, positive=True)
        self.leaves[target] = Leaf((), "value", integer=True)
        self.sizes[target] = value
        self.steps.append(Step(target, SIZE, (array,), (("axis", axis),)))
        self._memo[key] = target
        return target

    def size_source(self, array: Any, axis: int,
                    definition: dict[sp.Symbol, Step]
                    ) -> tuple[sp.Symbol, int | None] | None:
        """The array (an input, where the size is traced to one) and axis
        whose size ``array`` has along ``axis`` (None: it is always 1);
        ``definition`` is the program's, which the caller keeps."""
        return self._size_source(array, axis, definition)

    def _size_source(self, array: Any, axis: int,
                     definition: dict[sp.Symbol, Step]
                     ) -> tuple[sp.Symbol, int] | None:
        """The array (an input where the size can be traced to one) and
        axis whose size ``array`` has along ``axis``; None where that size
        is always 1."""
        shape = self.shape(array)
        if not isinstance(array, sp.Symbol) or array not in self.leaves:
            # An elementwise expression: the size of any operand that has
            # that axis with the same size (broadcasting aligns the last
            # axes); 1 if every operand has 1 there.
            candidates = []
            for symbol in array.free_symbols:
                own = self.leaves[symbol].shape if symbol in self.leaves \
                    else ()
                at = axis - (len(shape) - len(own))
                if at >= 0 and own[at] == shape[axis]:
                    candidates.append((not self._is_input(symbol),
                                       symbol.name, symbol, at))
            for _, _, symbol, at in sorted(candidates):
                found = self._size_source(symbol, at, definition)
                if found is not None:
                    return found
            return None
        step = definition.get(array)
        like = self.leaves[array].shaped_like
        if step is None and like is not None:
            return self._size_source(like, axis, definition)
        traced = None if step is None else _traced(self, step, axis)
        if traced is not None:
            source, at = traced
            if source is None:
                return None
            if isinstance(source, sp.Symbol) and source in self.sizes:
                size = definition.get(source)
                if size is None:  # read in a loop's body: not traced here
                    return array, axis
                return size.operands[0], size.option("axis")
            return self._size_source(source, at, definition)
        return array, axis  # read from the array itself

    def _is_input(self, symbol: sp.Symbol) -> bool:
        leaf = self.leaves.get(symbol)
        return leaf is not None and leaf.kind in ("param", "data")


def _traced(program: Program, step: Step, axis: int) -> Any:
    """Where the size of ``step``'s result along ``axis`` comes from: an
    operand and its axis, a size symbol (with None), (None, None) for an
    axis that is always 1, or None if the step does not say."""
    name = step.op.name
    if name == "elementwise":
        return step.operands[0], axis
    if name == "transpose":
        axes = step.option("axes")
        ndim = len(program.leaves[step.target].shape)
        order = tuple(reversed(range(ndim))) if axes is None else axes
        return step.operands[0], order[axis]
    if name == "argsort":
        return step.operands[0], axis
    if name in ("sum", "mean", "shift", "max", "min", "norm", "prod",
                "argmax", "argmin"):
        reduced = step.option("axis")
        if isinstance(reduced, int):
            reduced = (reduced,)
        ndim = len(program.leaves[step.operands[0]].shape)
        kept = [i for i in range(ndim) if reduced is not None
                and i not in reduced]
        if step.option("keepdims"):
            if reduced is None or axis in reduced:
                return None, None
            return step.operands[0], axis
        return step.operands[0], kept[axis]
    if name == "expand_dims":
        inserted = step.option("axis")
        inserted = (inserted,) if isinstance(inserted, int) else inserted
        if axis in inserted:
            return None, None
        return step.operands[0], axis - sum(i < axis for i in inserted)
    if name == "dot":
        a, b = step.operands
        lead = len(program.leaves[a].shape) - 1
        if axis < lead:
            return a, axis
        return b, axis - lead + 1
    if name == "arange":
        bounds = step.option("bounds")
        if len(bounds) == 1 and isinstance(bounds[0], sp.Symbol) \
                and bounds[0] in program.sizes:
            return bounds[0], None  # np.arange(n) has n elements
        return None
    if name == "getitem":
        return _indexed(program, step, axis)
    if name in ("zeros_like", "ones_like", "full_like"):
        return step.operands[0], axis
    if name in ("reshape", "broadcast_to", "zeros", "ones", "full"):
        entry = step.option("shape")[axis]
        if isinstance(entry, sp.Symbol) and entry in program.sizes:
            return entry, None
        if entry == 1:
            return None, None
    return None


def _indexed(program: Program, step: Step, axis: int) -> Any:
    """Where an axis of ``x[index]`` gets its size: a whole slice (``:``)
    keeps the source's axis; an array of indices (or several, broadcast)
    gives its own axes; a new axis is 1. None where it depends on bounds."""
    source = step.operands[0]
    ndim = len(program.leaves[source].shape)
    parts = list(step.option("index"))
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        taken = sum(p is not None for p in parts) - 1
        parts[at:at + 1] = [slice(None)] * (ndim - taken)
    parts += [slice(None)] * (ndim - sum(p is not None for p in parts))
    advanced = [i for i, p in enumerate(parts)
                if not isinstance(p, (slice, int, type(None)))]
    arrays = [step.operands[p.position] if hasattr(p, "position") else p
              for p in (parts[i] for i in advanced)]
    index_shape = broadcast_shapes(*[
        program.leaves[a].shape if isinstance(a, sp.Symbol)
        else np.shape(a) for a in arrays]) if arrays else ()
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1)) \
        if advanced else True
    result: list[Any] = []  # per result axis: where its size comes from
    source_axis = 0
    for position, part in enumerate(parts):
        if advanced and position == (advanced[0] if adjacent else -1):
            result.extend(("index", i) for i in range(len(index_shape)))
        if part is None:
            result.append(None)
            continue
        if isinstance(part, slice):
            result.append((source, source_axis) if part == slice(None)
                          else None if _one_element(part) else "bounds")
        source_axis += 1
    if advanced and not adjacent:
        result[:0] = [("index", i) for i in range(len(index_shape))]
    where = result[axis]
    if where is None:
        return None, None
    if where == "bounds":
        return None
    if where[0] != "index":
        return where
    at = where[1]
    if any(isinstance(a, sp.Symbol) and program.leaves[a].boolean
           for a in arrays):
        return None  # a mask's length is not how many elements it picks
    for array in arrays:
        if isinstance(array, sp.Symbol):
            own = program.leaves[array].shape
            lead = len(index_shape) - len(own)
            if at >= lead and own[at - lead] == index_shape[at]:
                return array, at - lead
    return None


def _one_element(part: slice) -> bool:
    """Whether the slice takes one element of any axis long enough for
    it (``x[:1]``, ``x[2:3]``): bounds that count from the start."""
    start, stop, step = part.start or 0, part.stop, part.step or 1
    return (stop is not None and start >= 0 and stop >= 0 and step > 0
            and len(range(start, stop, step)) == 1)


def read_through(expr: sp.Expr, definition: dict[sp.Symbol, Step],
                 most_nodes: int) -> sp.Expr:
    """``expr`` with the values of the elementwise steps it reads written
    as what they compute, level by level while it has at most
    ``most_nodes`` nodes (a chain of steps, an Euler loop's, would grow
    with every level). A condition's step (x > 0) is no number to put in
    an expression: it stays read."""
    for _ in range(len(definition)):
        inner = {symbol: definition[symbol].operands[0]
                 for symbol in expr.free_symbols
                 if symbol in definition
                 and definition[symbol].op is ELEMENTWISE
                 and isinstance(definition[symbol].operands[0], sp.Expr)}
        if not inner:
            break
        wider = expr.xreplace(inner)
        if _nodes_past(wider, most_nodes):
            break
        expr = wider
    return expr


def _nodes_past(expr: sp.Basic, limit: int) -> bool:
    """Whether ``expr`` has more than ``limit`` nodes (counted no
    further)."""
    for count, _ in enumerate(sp.preorder_traversal(expr), 1):
        if count > limit:
            return True
    return False


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
    if len(cleaned) <= _LONGEST_NAME:
        return cleaned
    # A word the cut would leave one letter short is kept whole
    # (tangent_tangent_y_history, not ..._histor).
    whole = _LONGEST_NAME + 1
    if cleaned[whole:whole + 1] in ("", "_"):
        return cleaned[:whole]
    return cleaned[:_LONGEST_NAME].rstrip("_")


_LONGEST_NAME = 24
