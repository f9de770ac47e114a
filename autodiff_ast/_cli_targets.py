"""Command line: the function a command names (``path/to/file.py:func`` or
``pkg.mod:func``), the arguments it differentiates by (``--wrt``,
``--argnums``), and the error every command reports in one line."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pathlib
import re
import sys
from typing import Any, Callable, Sequence

__all__ = ["CommandError", "load_target", "parameter_names",
           "parse_argnums", "check_kind_names"]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def load_target(target: str) -> Callable[..., Any]:
    """The function named by ``path/to/file.py:func`` or ``pkg.mod:func``."""
    location, separator, name = target.rpartition(":")
    if not separator or not location or not name:
        raise CommandError(f"target {target!r} must look like "
                           "path/to/file.py:function or package.module:function")
    if location.endswith(".py") or os.sep in location:
        path = pathlib.Path(location)
        if not path.is_file():
            raise CommandError(f"no such file: {location}")
        module_name = "_autodiff_ast_target_" + re.sub(
            r"\W", "_", str(path.resolve().with_suffix("")))
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise CommandError(f"importing {location} failed: "
                               f"{type(exc).__name__}: {exc}") from exc
    else:
        sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(location)
        except ImportError as exc:
            raise CommandError(f"cannot import module {location}: {exc}") \
                from exc
    function: Any = module
    for part in name.split("."):
        if not hasattr(function, part):
            raise CommandError(f"{location} has no function {name!r}")
        function = getattr(function, part)
    if not callable(function):
        raise CommandError(f"{location}:{name} is not a function")
    return function


def parameter_names(function: Callable[..., Any],
                    keyword_only: bool = False) -> list[str]:
    """The names of the function's positional arguments (x, y, z for a
    NumPy ufunc, which has no code), and its keyword-only ones after them
    if ``keyword_only``."""
    code = getattr(function, "__code__", None)
    if code is not None:
        count = code.co_argcount + (code.co_kwonlyargcount if keyword_only
                                    else 0)
        return list(code.co_varnames[:count])
    count = getattr(function, "nin", 1)
    return ["x", "y", "z"][:count]


def parse_argnums(function: Callable[..., Any], argnums: str | None,
                  wrt: str | None) -> int | tuple[int, ...]:
    """The argnums ``--wrt NAME`` or ``--argnums 0,1`` asks for (0 when
    neither is given)."""
    if wrt is not None:
        names = parameter_names(function)
        if wrt not in names:
            raise CommandError(f"--wrt {wrt}: the function's arguments are "
                               f"{', '.join(names) or 'none'}")
        return names.index(wrt)
    if argnums is None:
        return 0
    try:
        numbers = tuple(int(a) for a in argnums.split(","))
    except ValueError:
        raise CommandError(f"--argnums {argnums!r} must be integers "
                           "separated by commas, like 0,1") from None
    return numbers[0] if len(numbers) == 1 else numbers


def check_kind_names(kinds: dict[str, Any],
                     functions: Sequence[Callable[..., Any]]) -> None:
    """An --arg that names no argument of any target is a typo."""
    known = {p for f in functions for p in parameter_names(f, True)}
    for name in kinds:
        if name not in known:
            described = " or ".join(
                f"{getattr(f, '__name__', f)} "
                f"({', '.join(parameter_names(f, True))})" for f in functions)
            raise CommandError(f"--arg {name} names no argument of "
                               f"{described}")
