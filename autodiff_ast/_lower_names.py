"""The lower stage's names and attributes, and the outside values they read.

A local name is its value; a global, a closure cell or an object's
attribute is an outside value: a number generated code can reach is read
by name when the code runs (``by_name``), anything else is baked in and
recorded as a ``Read``, so the code is known stale when it changes. A
mixin of ``_Runner`` (``_lower``), which provides the expressions.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import numbers
import types
from typing import Any

import numpy as np
import sympy as sp

from ._containers import view
from ._lower_records import Read, as_sympy, symbol
from ._source import library_of
from ._stale import Stale

__all__ = ["Names", "describe", "is_library"]


class Names:
    """Reads names and attributes, from the function and from outside."""

    def name(self, node: ast.Name, env: dict[str, Any]) -> Any:
        identifier = node.id
        if identifier in env:
            value = env[identifier]
            if isinstance(value, Stale):
                raise self.error(node, value.refusal())  # type: ignore
            return value
        if identifier in self.cells:
            cell = self.cells[identifier]
            read = Read(cell, None, cell.cell_contents)
        elif identifier in self.fn.__globals__:
            read = Read(self.fn.__globals__, identifier,
                        self.fn.__globals__[identifier])
        elif hasattr(builtins, identifier):
            return getattr(builtins, identifier)
        else:
            raise self.error(node, f"name '{identifier}' is not defined")
        if self.reachable(identifier, env):
            named = self.by_name(identifier, read)
            if named is not None:
                return named
        if isinstance(read.value, list) and _all_numbers(read.value):
            # A list of constants is read like a tuple, compared item by
            # item (it can be changed in place).
            self.context.reads.append(Read(read.container, read.key,
                                           tuple(read.value), as_items=True))
            return self.constant(tuple(read.value), node)
        self.context.reads.append(read)
        return self.outside_value(identifier, read, node)

    def by_name(self, spelled: str, read: Read) -> sp.Symbol | None:
        """A symbol the generated code spells ``spelled`` and reads when it
        runs, for a number; None for other values."""
        value = read.value
        if not _is_plain_number(value) or not self.reads_by_name(spelled,
                                                                 value):
            return None
        outside = symbol(spelled)
        self.context.outside.setdefault(outside, read)
        return outside

    def reachable(self, identifier: str, env: dict[str, Any]) -> bool:
        """Whether ``identifier``, read here, means the same value when
        generated code for the differentiated function spells it."""
        context = self.context
        root = context.root
        if root is None or identifier in context.params:
            return False
        if self.fn is root:
            if identifier in env:
                return (identifier in context.bound
                        and env[identifier] is context.bound[identifier])
            return identifier in self.cells or identifier in root.__globals__
        root_cells = set(root.__code__.co_freevars) | set(context.bound)
        return (identifier not in env and identifier not in self.cells
                and identifier not in root_cells
                and self.fn.__globals__ is root.__globals__)

    def concrete(self, value: Any) -> Any:
        """``value`` with numbers read by name replaced by what they are
        now, for uses that decide the code's structure (a loop bound, an
        index); the code then bakes them in and is re-checked."""
        return self.outside_now(value)

    def outside_now(self, value: Any) -> Any:
        """``value`` (a number, or an index: a tuple, a slice) with the
        numbers read by name replaced by what they are now (array
        lowering's ``concrete`` fixes sizes too, which an index or a loop
        count keeps reading when the code runs)."""
        if isinstance(value, tuple):
            return tuple(map(self.outside_now, value))
        if isinstance(value, slice):
            return slice(*map(self.outside_now,
                              (value.start, value.stop, value.step)))
        if not isinstance(value, sp.Basic):
            return value
        found = value.free_symbols & self.context.outside.keys()
        for outside in found:
            read = self.context.outside[outside]
            self.context.reads.append(read)
            value = value.xreplace({outside: as_sympy(read.value)})
        return value

    def attribute(self, node: ast.Attribute, env: dict[str, Any]) -> Any:
        base = self.attribute_base(node.value, env)
        found = view(base, node.attr)  # params.items
        if found is not None:
            return found
        member = self.tuple_member(base, node)
        if member is not None:
            return member
        if isinstance(base, tuple):
            raise self.error(node, f"attribute .{node.attr} of a "
                                   "differentiated value is not supported "
                                   "for scalars")
        if not hasattr(base, node.attr):
            raise self.error(node, f"{describe(base)} has no attribute "
                                   f"'{node.attr}'")
        value = getattr(base, node.attr)
        listed = isinstance(value, list) and bool(value) and _all_numbers(
            value)
        if is_library(base):
            return self.constant(value, node)  # np.pi, math.e
        # An object's attribute (self.scale) can change later; a list of
        # them (self.layers) in place too.
        read = Read(base, node.attr, tuple(value), True) if isinstance(
            value, list) else Read(base, node.attr, value)
        spelled = self.spelled(node, env)
        if spelled is not None:
            named = self.by_name(spelled, read)
            if named is not None:
                return named
        self.context.reads.append(read)
        if listed:  # self.c = [1.0, 0.0, -2.0]: its numbers, baked in
            return [self.constant(v, node) for v in value]
        return self.constant(value, node)

    def tuple_member(self, base: Any, node: ast.Attribute) -> Any:
        """``pt.x``, ``pt.is_zero`` or ``pt.norm`` of a namedtuple: a
        field's value; for a method or property its class, the user's
        code, defines (a subclass's), the method bound to the tuple of
        values, which a call inlines, or the property's value, its getter
        inlined; None for anything else (a method of tuple or of
        namedtuple itself)."""
        if not (isinstance(base, tuple) and hasattr(base, "_fields")):
            return None
        if node.attr in base._fields:
            return getattr(base, node.attr)
        member = inspect.getattr_static(type(base), node.attr, None)
        function = member.fget if isinstance(member, property) else getattr(
            member, "__func__", member)
        if not isinstance(function, types.FunctionType) or library_of(
                function) is not None or isinstance(member, classmethod):
            return None
        if isinstance(member, property):
            return self.inline(function, [base], {}, node)  # type: ignore
        if isinstance(member, staticmethod):
            return function
        return types.MethodType(function, base)

    def attribute_base(self, node: ast.expr, env: dict[str, Any]) -> Any:
        """What ``node.attr`` reads an attribute of: ``node``'s value, or,
        for ``super()`` in a method, as Python makes it, the object the
        method runs on seen from the parent of the class that defines the
        method (its ``__class__`` cell)."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "super" and not node.keywords
                and len(node.args) in (0, 2)) or self.expression(
                    node.func, env) is not super:  # type: ignore[attr-defined]
            return self.expression(node, env)  # type: ignore[attr-defined]
        if node.args:  # super(Scaled, self)
            cls, instance = (self.expression(a, env)  # type: ignore
                             for a in node.args)
        else:
            cell = self.cells.get("__class__")
            code = self.fn.__code__
            first = code.co_varnames[0] if code.co_argcount else None
            cls = None if cell is None else cell.cell_contents
            instance = None if cell is None else env.get(first)
        if not isinstance(cls, type) or instance is None or isinstance(
                instance, (sp.Basic, Stale)):
            raise self.error(node, "super() is supported in a method of a "
                                   "class, called on an instance: "
                                   "differentiate the bound method "
                                   "(ad.grad(model.loss))")
        return super(cls, instance)

    def spelled(self, node: ast.Attribute, env: dict[str, Any]) -> str | None:
        """``self.cfg.k`` if generated code can spell this attribute so, as
        the user did."""
        parts = [node.attr]
        inner: ast.expr = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or not self.reachable(inner.id,
                                                                  env):
            return None
        return ".".join([inner.id] + parts[::-1])


def _is_plain_number(value: Any) -> bool:
    """An int or float (not a bool) that generated code can compute with."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        return False
    return math.isfinite(value)


def _all_numbers(values: list[Any]) -> bool:
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool)
               for v in values)


def is_library(value: Any) -> bool:
    """A module of NumPy, SciPy or the standard library: its constants
    (np.pi) are constants, not state."""
    return isinstance(value, types.ModuleType) and \
        library_of(value) is not None


def describe(value: Any) -> str:
    """How an error message names ``value`` (``numpy.linalg.norm``)."""
    name = getattr(value, "__qualname__", None) or getattr(
        value, "__name__", None)
    module = getattr(value, "__module__", None)
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if isinstance(value, np.ndarray):  # not its repr: it may be large
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if name and module and module != "builtins":
        return f"{module}.{name}"
    if name:
        return name
    return repr(value)
