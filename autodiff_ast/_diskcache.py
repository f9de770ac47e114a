"""Persistent cache: generated source kept on disk between processes.

An entry is keyed by a hash of everything the generated code depends on:
the file, first line, bytecode and constants of the function and of every function it can
reach through its globals, closure cells and defaults, the values of the
numbers it reads there, the options asked for, the working directory (the
docstring names files relative to it), and the autodiff_ast and SymPy
versions. A value that cannot be fingerprinted reliably makes the function
uncacheable rather than risk a stale derivative.

Location: ``AUTODIFF_AST_CACHE_DIR``, else ``$XDG_CACHE_HOME/autodiff_ast``,
else the platform's user cache folder. ``AUTODIFF_AST_CACHE=0`` turns it
off. A corrupt entry or an unwritable folder never breaks a caller: the
derivative is generated as if there were no cache. Entries are written to a
temporary file and renamed, so concurrent writers never leave a torn file.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sys
import tempfile
import types
from typing import Any

import numpy as np
import sympy

__all__ = ["cache_key", "load", "store", "cache_folder"]

_FORMAT = 1


def cache_folder() -> pathlib.Path | None:
    """Where entries live, or None when the cache is turned off."""
    if os.environ.get("AUTODIFF_AST_CACHE", "1").strip().lower() in (
            "0", "false", "no", "off"):
        return None
    explicit = os.environ.get("AUTODIFF_AST_CACHE_DIR")
    if explicit:
        return pathlib.Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return pathlib.Path(xdg) / "autodiff_ast"
    home = pathlib.Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "autodiff_ast"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = pathlib.Path(local) if local else home / "AppData" / "Local"
        return base / "autodiff_ast" / "Cache"
    return home / ".cache" / "autodiff_ast"


class _Unfingerprintable(Exception):
    """A dependency whose state cannot be captured in a key."""


def _describe(value: Any, seen: set[int]) -> Any:
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if isinstance(value, types.FunctionType):
        if id(value) in seen:
            return ["function", value.__qualname__]
        seen.add(id(value))
        return _function(value, seen)
    if value is None or isinstance(value, (bool, int, float, complex, str,
                                           bytes)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, (np.generic,)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, (tuple, list)):
        return [type(value).__name__] + [_describe(v, seen) for v in value]
    if isinstance(value, (np.ufunc, types.BuiltinFunctionType)) or (
            callable(value) and getattr(value, "__module__", "") and
            str(getattr(value, "__module__", "")).startswith(("numpy",
                                                              "math"))):
        return ["callable", getattr(value, "__module__", None),
                getattr(value, "__qualname__", getattr(value, "__name__",
                                                       None))]
    if isinstance(value, type):
        return ["type", value.__module__, value.__qualname__]
    text = repr(value)
    if " at 0x" in text:
        raise _Unfingerprintable(text)
    return ["object", type(value).__qualname__, text]


def _code(code: types.CodeType, globals_: dict[str, Any],
          seen: set[int]) -> Any:
    constants = [_code(c, globals_, seen) if isinstance(c, types.CodeType)
                 else repr(c) for c in code.co_consts]
    reached = [[name, _describe(globals_[name], seen)]
               for name in code.co_names if name in globals_]
    # File and line too: the docstring of a derivative names them.
    return [code.co_filename, code.co_firstlineno, code.co_code.hex(),
            constants, list(code.co_names), list(code.co_varnames),
            list(code.co_freevars), reached]


def _function(fn: types.FunctionType, seen: set[int]) -> Any:
    cells = [_describe(cell.cell_contents, seen)
             for cell in fn.__closure__ or ()]
    defaults = [_describe(v, seen) for v in fn.__defaults__ or ()]
    origin = getattr(fn, "__autodiff_ast__", None)
    generated = (None if origin is None else
                 [origin.base, origin.location, list(origin.wrt)])
    return ["function", fn.__qualname__, _code(fn.__code__, fn.__globals__,
                                                seen),
            cells, defaults, generated]


def cache_key(fun: Any, options: Any) -> str | None:
    """The hash of everything ``fun``'s derivative depends on, or None."""
    try:
        description = _describe(fun, set())
    except (_Unfingerprintable, RecursionError, ValueError):
        return None
    from . import __version__
    material = json.dumps([_FORMAT, __version__, sympy.__version__,
                           sys.version_info[:2], os.getcwd(), repr(options),
                           description], default=repr)
    return hashlib.sha256(material.encode()).hexdigest()


def load(key: str) -> dict[str, Any] | None:
    """The entry stored under ``key``; None if missing or unreadable."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        entry = json.loads((folder / f"{key}.json").read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not (isinstance(entry, dict) and entry.get("format") == _FORMAT
            and isinstance(entry.get("source"), str)
            and isinstance(entry.get("name"), str)):
        return None
    return entry


def store(key: str, entry: dict[str, Any]) -> None:
    """Write an entry atomically; any failure is ignored."""
    folder = cache_folder()
    if folder is None:
        return
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"format": _FORMAT, **entry}, handle)
        os.replace(temporary, folder / f"{key}.json")
    except OSError:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
