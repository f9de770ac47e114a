"""Compile stage: turn generated source into a live function.

The source is registered in ``linecache`` under a name derived from its own
content (deterministic, never random), so ``inspect.getsource``, tracebacks
and pdb all show the generated lines, and the differentiator can read the
function again to produce the next derivative.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import math
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._rules import scipy_module

__all__ = ["compile_function", "GENERATED_PREFIX"]

GENERATED_PREFIX = "<autodiff_ast "


@dataclass(frozen=True)
class Scope:
    """What generated code reads by name when it runs, as the user's own
    function does: its module's globals and its closure cells (a bound
    method's ``self`` is one more cell)."""

    globals: dict[str, Any]
    cells: dict[str, types.CellType] = field(default_factory=dict)

    @classmethod
    def of(cls, fn: Any) -> Scope:
        """The scope of a Python function or bound method."""
        current = getattr(fn, "__autodiff_ast_current__", None)
        if current is not None:  # a derivative's handle
            fn = current()
        bound: dict[str, types.CellType] = {}
        call = getattr(type(fn), "__call__", None)
        if not isinstance(fn, (types.FunctionType, type)) and isinstance(
                call, types.FunctionType):
            fn = types.MethodType(call, fn)  # an object called as a function
        if isinstance(fn, types.MethodType):
            first = fn.__func__.__code__.co_varnames[:1]
            bound = {name: types.CellType(fn.__self__) for name in first}
            fn = fn.__func__
        if not isinstance(fn, types.FunctionType):
            return cls({})  # a primitive (np.tanh) reads nothing
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        return cls(fn.__globals__, {**cells, **bound})


def compile_function(source: str, name: str,
                     extra_globals: dict[str, Any] | None = None,
                     scope: Scope | None = None) -> types.FunctionType:
    """Compile ``source`` (one ``def name``) and return the function; with
    a ``scope``, the names it does not define are looked up there when it
    runs."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    filename = f"{GENERATED_PREFIX}{name} {digest}>"
    lines = source.splitlines(keepends=True)
    # mtime None: linecache.checkcache never evicts an entry with no file.
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace: dict[str, Any] = {"np": np, "math": math,
                                 "__name__": "autodiff_ast.generated"}
    if "scipy.special." in source:  # only code that calls SciPy loads it
        try:
            namespace["scipy"] = scipy_module()
        except ImportError:  # only named (in a docstring): not called
            pass
    namespace.update(extra_globals or {})
    if scope is None:
        exec(compile(source, filename, "exec"), namespace)
        function = namespace[name]
        assert isinstance(function, types.FunctionType)
        return function
    return _in_scope(source, filename, name, namespace, scope)


def _in_scope(source: str, filename: str, name: str,
              namespace: dict[str, Any], scope: Scope) -> types.FunctionType:
    """The function, closed over the user's cells, with the user's module
    as its globals: reading ``BETA`` or ``self.k`` costs what it costs in
    the user's own code, and always gives the current value."""
    tree = ast.parse(source, filename)
    (definition,) = tree.body
    assert isinstance(definition, ast.FunctionDef)
    # The cells become free variables of the function by defining it
    # inside a function that binds those names.
    binders: list[ast.stmt] = [
        ast.Assign([ast.Name(cell, ast.Store())], ast.Constant(None))
        for cell in sorted(scope.cells)]
    outer = ast.FunctionDef(
        name="_scope", args=ast.arguments([], [], None, [], [], None, []),
        body=binders + [definition, ast.Return(ast.Name(name, ast.Load()))],
        decorator_list=[], returns=None, type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        outer.type_params = []
    module = ast.Module([outer], [])
    for node in (outer, *binders, outer.body[-1]):
        for child in ast.walk(node):
            if child is definition:
                break
            child.lineno = child.end_lineno = 1  # type: ignore[attr-defined]
            child.col_offset = child.end_col_offset = 0  # type: ignore
    ast.fix_missing_locations(module)
    exec(compile(module, filename, "exec"), namespace)
    made = namespace["_scope"]()
    code = made.__code__
    function = types.FunctionType(
        code, _globals_for(scope.globals, namespace, code), name,
        made.__defaults__, tuple(scope.cells[n] for n in code.co_freevars))
    function.__kwdefaults__ = made.__kwdefaults__
    function.__doc__ = made.__doc__
    function.__qualname__ = name
    function.__module__ = namespace["__name__"]
    return function


def _globals_for(user: dict[str, Any], ours: dict[str, Any],
                 code: types.CodeType) -> dict[str, Any]:
    """The user's module globals where they spell np, math (and scipy) as
    we do and hold the arrays the code reads by the names it reads them
    (the usual case: no lookup costs more than in the user's code), else a
    namespace that has ours and falls back to the user's."""
    read = _names(code)
    if all(user.get(n, ours[n]) is ours[n] and (n in user or n not in read)
           for n in ours if n in read or n in ("np", "math", "scipy")):
        return user
    return _Fallback(ours, user)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


class _Fallback(dict):  # type: ignore[type-arg]
    """Our names first, then the user's module globals, looked up when
    the code runs."""

    def __init__(self, ours: dict[str, Any], user: dict[str, Any]) -> None:
        super().__init__(ours)
        self.user = user

    def __missing__(self, key: str) -> Any:
        return self.user[key]

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or key in self.user

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default
