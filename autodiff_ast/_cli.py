"""Command line: print, check and export derivative source without a script.

    autodiff-ast show examples/derivatives.py:softplus --order 2
    autodiff-ast check examples/derivatives.py:softplus --at 1.5 --order 3
    autodiff-ast export examples/derivatives.py:softplus -o grads.py

Errors print one line and exit with status 2 (``--traceback`` shows the
Python traceback); a failed check exits with status 1.
"""

from __future__ import annotations

import argparse
import builtins
import dis
import hashlib
import importlib
import importlib.util
import inspect
import io
import keyword
import os
import pathlib
import re
import shlex
import sys
import token
import tokenize
import traceback
from typing import Any, Callable, Sequence

import numpy as np

from . import __version__
from ._api import grad, source, value_and_grad
from ._errors import AutodiffError

__all__ = ["main"]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


# -- targets -------------------------------------------------------------------

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


def _parameter_names(function: Callable[..., Any]) -> list[str]:
    code = getattr(function, "__code__", None)
    if code is not None:
        return list(code.co_varnames[:code.co_argcount])
    count = getattr(function, "nin", 1)
    return ["x", "y", "z"][:count]


def _argnums(function: Callable[..., Any], argnums: str | None,
             wrt: str | None) -> int | tuple[int, ...]:
    if wrt is not None:
        names = _parameter_names(function)
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


def _derivatives(function: Callable[..., Any], order: int,
                 argnums: int | tuple[int, ...]) -> list[Callable[..., Any]]:
    if order < 1:
        raise CommandError("--order must be at least 1")
    if isinstance(argnums, tuple) and order > 1:
        raise CommandError("--order above 1 needs a single argument: pass "
                           "--wrt NAME or one --argnums index")
    result, current = [], function
    for _ in range(order):
        current = grad(current, argnums=argnums)
        if not inspect.isfunction(current):
            raise CommandError(
                f"{getattr(function, '__name__', 'the target')} uses array "
                "operations or containers: its derivative is generated for "
                "the shapes and dtypes of its inputs, which the command "
                "line does not know. In Python: print(ad.source(ad.grad(f), "
                "*example_args))")
        result.append(current)
    return result


# -- show ----------------------------------------------------------------------

_COLORS = {"keyword": "\033[1;35m", "number": "\033[36m",
           "string": "\033[32m", "comment": "\033[2;37m",
           "function": "\033[1;34m"}
_RESET = "\033[0m"


def highlight(text: str) -> str:
    """ANSI colours for Python source: keywords, numbers, strings."""
    out, previous = [], None
    lines = text.splitlines(keepends=True)
    position = (1, 0)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    for tok in tokens:
        start, end = tok.start, tok.end
        out.append(_between(lines, position, start))
        kind = None
        if tok.type == token.NAME and keyword.iskeyword(tok.string):
            kind = "keyword"
        elif tok.type == token.NAME and previous == "def":
            kind = "function"
        elif tok.type == token.NUMBER:
            kind = "number"
        elif tok.type == token.STRING:
            kind = "string"
        elif tok.type == token.COMMENT:
            kind = "comment"
        piece = _between(lines, start, end)
        out.append(f"{_COLORS[kind]}{piece}{_RESET}" if kind else piece)
        position = end
        if tok.type not in (token.NL, token.NEWLINE, token.INDENT):
            previous = tok.string
    return "".join(out)


def _between(lines: list[str], start: tuple[int, int],
             end: tuple[int, int]) -> str:
    (row, column), (end_row, end_column) = start, end
    if (row, column) >= (end_row, end_column) or row > len(lines):
        return ""
    if row == end_row:
        return lines[row - 1][column:end_column]
    parts = [lines[row - 1][column:]]
    parts += lines[row:end_row - 1]
    if end_row <= len(lines):
        parts.append(lines[end_row - 1][:end_column])
    return "".join(parts)


def _heading(derivative: Callable[..., Any]) -> str:
    doc = (derivative.__doc__ or "").strip().splitlines()
    return f"# {doc[0]}" if doc else f"# {derivative.__name__}"


def command_show(options: argparse.Namespace) -> int:
    function = load_target(options.target)
    argnums = _argnums(function, options.argnums, options.wrt)
    blocks = [f"{_heading(d)}\n{source(d)}"
              for d in _derivatives(function, options.order, argnums)]
    text = "\n\n".join(blocks)
    print(highlight(text) if sys.stdout.isatty() else text, end="")
    return 0


# -- check ---------------------------------------------------------------------

def _central_difference(function: Callable[..., Any], point: list[float],
                        argnum: int, step: float) -> float:
    def at(offset: float) -> float:
        shifted = list(point)
        shifted[argnum] += offset
        return float(function(*shifted))

    h = step * max(1.0, abs(point[argnum]))
    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def command_check(options: argparse.Namespace) -> int:
    function = load_target(options.target)
    argnums = _argnums(function, options.argnums, options.wrt)
    if isinstance(argnums, tuple):
        raise CommandError("check differentiates one argument at a time: "
                           "pass --wrt NAME or one --argnums index")
    try:
        point = [float(v) for v in options.at.split(",")]
    except ValueError:
        raise CommandError(f"--at {options.at!r} must be numbers separated "
                           "by commas, like 1.5 or 1.5,2") from None
    expected = len(_parameter_names(function))
    if len(point) != expected:
        raise CommandError(f"--at gives {len(point)} value(s) but the "
                           f"function takes {expected}")
    rows, failed, previous = [], False, function
    for order, derivative in enumerate(
            _derivatives(function, options.order, argnums), 1):
        analytic = float(derivative(*point))
        numeric = _central_difference(previous, point, argnums, 1e-3)
        error = abs(analytic - numeric)
        ok = bool(np.isfinite(analytic)) and error <= (
            options.atol + options.rtol * abs(numeric))
        failed |= not ok
        rows.append((order, analytic, numeric, error, "OK" if ok else "FAIL"))
        previous = derivative
    name = _parameter_names(function)[argnums]
    print(f"d^n/d{name}^n of {options.target} at "
          f"({', '.join(map(repr, point))}), against central differences of "
          "the order before")
    print(f"{'order':>5}  {'autodiff_ast':>22}  {'central difference':>22}  "
          f"{'error':>9}  status")
    for order, analytic, numeric, error, status in rows:
        print(f"{order:>5}  {analytic:>22.15g}  {numeric:>22.15g}  "
              f"{error:>9.2e}  {status}")
    return 1 if failed else 0


# -- export --------------------------------------------------------------------

def command_export(options: argparse.Namespace,
                   argv: Sequence[str]) -> int:
    sources: list[str] = []
    files: dict[str, str] = {}
    names: set[str] = set()
    constants: dict[str, Any] = {}
    for target in options.targets:
        function = load_target(target)
        path = getattr(getattr(function, "__code__", None), "co_filename",
                       None)
        if path and os.path.isfile(path):
            digest = hashlib.sha256(pathlib.Path(path).read_bytes())
            files[os.path.relpath(path)] = digest.hexdigest()[:16]
        argnums = _argnums(function, options.argnums, options.wrt)
        derivatives = _derivatives(function, options.order, argnums)
        if options.value_and_grad:
            derivatives.insert(0, value_and_grad(function, argnums=argnums))
        for derivative in derivatives:
            if derivative.__name__ in names:
                raise CommandError(f"two derivatives are named "
                                   f"{derivative.__name__}: export the "
                                   "targets to separate files")
            names.add(derivative.__name__)
            sources.append(source(derivative))
            constants.update(_values_read_by_name(derivative))
    body = "\n\n\n".join(text.rstrip() for text in sources) + "\n"
    if constants:
        # The derivatives read these globals by name, as the source
        # functions do; the module holds their values at export time.
        body = "".join(f"{name} = {value!r}\n"
                       for name, value in sorted(constants.items())
                       ) + "\n\n" + body
    imports = []
    if re.search(r"\bmath\.", body):
        imports.append("import math")
    if re.search(r"\bnp\.", body):
        imports.append("import numpy as np")
    for submodule in sorted(set(re.findall(r"\bscipy\.(\w+)\.", body))):
        imports.append(f"import scipy.{submodule}")
    header = [f'"""Derivatives generated by autodiff_ast {__version__}."""',
              "",
              "# Generated by autodiff_ast " + __version__ + " with:",
              "#   autodiff-ast " + shlex.join(argv)]
    for path, digest in sorted(files.items()):
        header.append(f"# from {path} (sha256 {digest})")
    header.append("# Edit the source functions and export again rather than "
                  "editing this file.")
    text = "\n".join(header) + "\n\n" + "\n".join(imports)
    text += ("\n\n\n" if imports else "\n\n") + body
    output = pathlib.Path(options.output)
    try:
        output.write_text(text)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
    print(f"wrote {len(sources)} function(s) to {output}")
    return 0


def _values_read_by_name(derivative: Callable[..., Any]) -> dict[str, Any]:
    """The outside numbers a derivative's code reads by name (a global
    BETA), with their values now."""
    code = inspect.unwrap(derivative)
    names = {i.argval for i in dis.get_instructions(code.__code__)
             if i.opname == "LOAD_GLOBAL"} - {"np", "math", "scipy"}
    values = {}
    for name in sorted(names):
        if name in code.__globals__:
            value = code.__globals__[name]
        elif hasattr(builtins, name):
            continue
        else:
            raise CommandError(f"{derivative.__name__} reads {name}, which "
                               "is not a global of its module")
        if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)):
            raise CommandError(
                f"{derivative.__name__} reads the global {name} "
                f"({type(value).__name__}), which an exported module cannot "
                "hold as a number: pass it as an argument instead")
        values[name] = value.item() if isinstance(value, np.generic) \
            else value
    if code.__code__.co_freevars:
        raise CommandError(
            f"{derivative.__name__} reads "
            f"{', '.join(code.__code__.co_freevars)} from an enclosing "
            "function or object: export module-level functions")
    return values


# -- main ----------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodiff-ast",
        description="Print, check and export the derivatives autodiff_ast "
                    "generates for a Python function.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  autodiff-ast show examples/derivatives.py:softplus --order 2\n"
               "  autodiff-ast check examples/derivatives.py:energy --at "
               "0.5,2 --wrt y\n"
               "  autodiff-ast export examples/derivatives.py:softplus -o "
               "grads.py")
    parser.add_argument("--version", action="version",
                        version=f"autodiff-ast {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the Python traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--order", type=int, default=1,
                         help="highest order of derivative (default 1)")
        which = sub.add_mutually_exclusive_group()
        which.add_argument("--argnums", help="argument indices, like 0 or 0,1")
        which.add_argument("--wrt", help="the argument's name")
        sub.add_argument("--traceback", action="store_true",
                         default=argparse.SUPPRESS,
                         help="show the Python traceback of an error")

    show = commands.add_parser(
        "show", help="print the generated source of each derivative",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast show examples/derivatives.py:"
               "softplus --order 2\n  autodiff-ast show numpy:tanh --order 3")
    show.add_argument("target", help="path/to/file.py:function or "
                                     "package.module:function")
    common(show)

    check = commands.add_parser(
        "check", help="compare each derivative with central differences",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast check examples/derivatives.py:"
               "softplus --at 1.5 --order 3\n"
               "  autodiff-ast check examples/derivatives.py:energy --at 0.5,2"
               " --wrt y")
    check.add_argument("target", help="path/to/file.py:function or "
                                      "package.module:function")
    check.add_argument("--at", required=True,
                       help="the point: one number per argument, like 1.5,2")
    check.add_argument("--rtol", type=float, default=1e-6)
    check.add_argument("--atol", type=float, default=1e-8)
    common(check)

    export = commands.add_parser(
        "export", help="write the derivatives to a standalone module",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast export examples/derivatives.py:"
               "softplus examples/derivatives.py:energy --argnums 0 "
               "--order 2 -o grads.py\n\nThe module imports only numpy "
               "and/or math: it runs without autodiff_ast or sympy.")
    export.add_argument("targets", nargs="+", metavar="target",
                        help="path/to/file.py:function or "
                             "package.module:function")
    export.add_argument("-o", "--output", required=True,
                        help="the module to write")
    export.add_argument("--value-and-grad", action="store_true",
                        help="also export each function's value_and_grad")
    common(export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = _parser().parse_args(arguments)
    try:
        if options.command == "show":
            return command_show(options)
        if options.command == "check":
            return command_check(options)
        return command_export(options, arguments)
    except (CommandError, AutodiffError) as exc:
        if options.traceback:
            traceback.print_exc()
        print(f"autodiff-ast: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
