"""What the lower stage produces and shares between its parts.

``Lowered`` is a function as SymPy; ``Read`` one outside value lowering
used (``staleness`` and ``current_check``: whether the values read are
still those baked in, as a handle's compiled test); ``_Context`` what
lowering one top-level function accumulates. ``symbol`` and
``as_sympy`` say how arguments and Python numbers become SymPy.
"""

from __future__ import annotations

import math
import numbers
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import optree
import sympy as sp

from ._sums import Sums

__all__ = ["Lowered", "Read", "symbol", "as_sympy",
           "tree_signature", "defaults_read", "staleness", "current_check",
           "checked_reads", "DEFAULTS"]


@dataclass
class Lowered:
    """A primitive as SymPy (``_lower.lower_primitive``), or the outline
    of a function argnums are checked against: its parameters and the
    expression it returns."""

    name: str
    location: str  # "file.py:12", or the primitive's qualified name
    params: tuple[str, ...]
    defaults: tuple[Any, ...]
    symbols: tuple[sp.Symbol, ...]
    output: Any  # a SymPy expression, or a tuple of them
    namespace: str  # "numpy" or "math": how generated code spells functions
    # How many of the last params are keyword-only in the user's function
    # (options: argnums never name them).
    keyword_only: int = 0

    @property
    def positional(self) -> tuple[str, ...]:
        """The parameters argnums count."""
        return self.params[:len(self.params) - self.keyword_only]


@dataclass(frozen=True)
class Read:
    """One outside value lowering used: a global, a closure cell, or
    defaults. Generated code bakes such values in, so a change makes it
    stale."""

    container: Any  # a globals dict, a cell, or a function
    key: str | None
    value: Any
    # A list is read as the tuple of its items (a dict, keyword-only
    # defaults, as a copy); mutating it in place changes what the code
    # baked in, so compare items, not identity.
    as_items: bool = False
    # A container of arrays read as data (``_outside_trees``): what the
    # code depends on (its structure, each array's shape and dtype, each
    # other leaf's value), compared besides the container's identity.
    tree: Any = None
    # An array whose values the code depends on (a boolean mask it
    # indexes with: how many elements it picks), compared besides its
    # identity.
    values: Any = None

    def current(self) -> Any:
        if isinstance(self.container, dict):
            return self.container.get(self.key, _MISSING)
        if self.key is None:
            return self.container.cell_contents
        return getattr(self.container, self.key)

    def is_current(self) -> bool:
        now = self.current()
        if self.tree is not None:
            return now is self.value and tree_signature(now) == self.tree
        if self.values is not None:
            return now is self.value and np.array_equal(now, self.values)
        if self.as_items:
            if isinstance(self.value, dict):
                return _equal(now, self.value)
            return type(now) is list and _equal(tuple(now), self.value)
        if now is self.value:
            return True
        if isinstance(now, types.MethodType) and isinstance(
                self.value, types.MethodType):  # made anew on each access
            return (now.__func__ is self.value.__func__
                    and now.__self__ is self.value.__self__)
        plain = (int, float, complex, bool, str, tuple)
        return (type(now) is type(self.value) and isinstance(now, plain)
                and _equal(now, self.value))


def _equal(now: Any, then: Any) -> bool:
    """Whether two values read are equal; False where the comparison
    has no single answer (a tuple of defaults holding a new array)."""
    try:
        return bool(now == then)
    except (ValueError, TypeError):
        return False


def defaults_read(fn: types.FunctionType) -> list[Read]:
    """The reads of ``fn``'s defaults: a derivative takes them as its own
    (generated code writes them in its signature), so a change to
    ``fn.__defaults__`` or ``fn.__kwdefaults__`` makes it again, as JAX
    reads them on each call."""
    reads = [Read(fn, "__defaults__", fn.__defaults__)]
    if fn.__kwdefaults__:
        reads.append(Read(fn, "__kwdefaults__", dict(fn.__kwdefaults__),
                          as_items=True))
    return reads


def checked_reads(reads: Sequence[Read]) -> list[Read]:
    """The reads a derivative's call re-checks: not a module the function
    names (``np``, ``math``; rebinding one is not a change of the
    function's values, and the check would cost every call a lookup), nor
    the defaults of a function that has none."""
    return [r for r in reads
            if not isinstance(r.value, types.ModuleType)
            and not (r.key == "__defaults__" and r.value is None)]


_MISSING = object()
# The reads of a function's own defaults: always there to read.
DEFAULTS = ("__defaults__", "__kwdefaults__")


def staleness(reads: Sequence[Read], start: int = 0
              ) -> tuple[str, dict[str, Any]]:
    """A condition that is true once any read value differs from what was
    baked in, and the names it uses (numbered from ``start``). Identity
    is checked first: it is what almost every call finds."""
    terms = []
    values: dict[str, Any] = {"_autodiff_ast_missing": _MISSING}
    for index, read in enumerate(reads, start):
        where, value = f"_autodiff_ast_w{index}", f"_autodiff_ast_v{index}"
        values[where], values[value] = read.container, read.value
        if isinstance(read.container, dict):
            now = f"{where}.get({read.key!r}, _autodiff_ast_missing)"
        elif read.key is None:
            now = f"{where}.cell_contents"
        elif read.key in DEFAULTS:
            now = f"{where}.{read.key}"  # (always there: half getattr's cost)
        else:
            now = f"getattr({where}, {read.key!r}, _autodiff_ast_missing)"
        checked = f"_autodiff_ast_r{index}"
        if read.tree is not None or read.values is not None:
            # (the same object may hold other arrays, or other values)
            values[checked] = read
            terms.append(f"(not {checked}.is_current())")
        elif read.as_items and isinstance(read.value, dict):
            terms.append(f"({now} != {value})")  # keyword-only defaults
        elif read.as_items:
            terms.append(f"(type({now}) is not list or "
                         f"tuple({now}) != {value})")
        else:
            values[checked] = read
            terms.append(f"({now} is not {value} and "
                         f"not {checked}.is_current())")
    return " or ".join(terms), values


def current_check(reads: Sequence[Read]) -> Callable[[], bool]:
    """A function of no arguments telling whether every read is current,
    compiled once: a call of generated code checks it each time, and a
    loop over the reads would cost a small derivative's own time."""
    if not reads:
        return _always
    condition, namespace = staleness(reads)
    exec(compile(f"def current():\n    return not ({condition})\n",
                 "<autodiff_ast reads>", "exec"), namespace)
    return namespace["current"]


def _always() -> bool:
    return True



def tree_signature(value: Any) -> tuple[Any, ...]:
    """What code generated for the container ``value`` depends on: its
    structure, and each leaf's shape and dtype (an array), value (a
    number, a string) or identity (any other object: a layer)."""
    walked: list[Any] = []
    if _walked(value, walked):
        return tuple(walked)
    leaves, spec = optree.tree_flatten(value)
    return (spec, tuple(_leaf_signature(leaf) for leaf in leaves))


def _walked(value: Any, out: list[Any]) -> bool:
    """``value``'s structure and leaves' signatures into ``out`` for the
    containers code holds parameters in (dicts, lists, tuples,
    namedtuples): checked on every call, this takes a fifth of optree's
    time. False where it meets another kind of pytree node."""
    kind = type(value)
    if kind is np.ndarray:  # (the usual leaf first)
        out.append(("array", value.shape, value.dtype))
        return True
    if kind is dict:
        out.append(("dict", tuple(value)))
        return all(_walked(item, out) for item in value.values())
    if kind is list or kind is tuple or (
            isinstance(value, tuple) and hasattr(value, "_fields")):
        out.append((kind, len(value)))
        return all(_walked(item, out) for item in value)
    if isinstance(value, (np.ndarray, numbers.Number, str, np.generic)) or (
            value is None or optree.tree_is_leaf(value)):
        out.append(_leaf_signature(value))
        return True
    return False


def _leaf_signature(leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray):
        return ("array", leaf.shape, leaf.dtype)
    if isinstance(leaf, (numbers.Number, str, np.generic)):
        return (type(leaf), repr(leaf))  # (repr: nan is nan)
    return _Identity(leaf)


class _Identity:
    """An object compared by identity (its ``==`` may be anything)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


@dataclass
class _Context:
    """What lowering one top-level function accumulates."""

    namespaces: set[str] = field(default_factory=set)
    inlining: list[types.CodeType] = field(default_factory=list)
    paths: int = 1
    reads: list[Read] = field(default_factory=list)
    # The user's own name for a value, from the first assignment of it.
    labels: dict[Any, str] = field(default_factory=dict)
    sizes: dict[Any, int] = field(default_factory=dict)  # written_out_size
    # Values (and their parts) that passed vetted(): canonical, real,
    # not too large. A step looks only at the nodes it adds.
    vetted: set[Any] = field(default_factory=set)
    sums: Sums = field(default_factory=Sums)
    # The differentiated function itself: what generated code can reach by
    # name (its module's globals, its closure cells, its bound self).
    root: types.FunctionType | None = None
    bound: dict[str, Any] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    outside: dict[sp.Symbol, Read] = field(default_factory=dict)


def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def as_sympy(value: Any) -> Any:
    """Python numbers become exact SymPy numbers; other objects pass."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (bool, np.bool_)):
        return sp.true if value else sp.false
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if value == math.pi:
            return sp.pi
        if value == math.e:
            return sp.E
        if not math.isfinite(value):
            return None
        return sp.Rational(repr(value))
    if isinstance(value, tuple):
        items = [as_sympy(v) for v in value]
        # a namedtuple stays one, so the callee reads its fields (p.w)
        return type(value)(*items) if hasattr(value, "_fields") else tuple(
            items)
    return value
