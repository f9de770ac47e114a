"""Source stage: find a function's definition and parse it with real line numbers.

The whole file is parsed (not just the function's lines), so every AST node
carries the line and column it has in the user's file, and error messages can
quote that line. Works for ``def`` functions, lambdas (also several on one
line), nested functions and the functions autodiff_ast itself generated,
whose source lives in ``linecache``.
"""

from __future__ import annotations

import ast
import linecache
import types
from dataclasses import dataclass

from ._errors import NoSourceError

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(frozen=True)
class FunctionSource:
    """A function's AST node with the file it came from."""

    node: FunctionNode
    filename: str
    lines: tuple[str, ...]
    name: str  # the name a person would use: a lambda takes its variable's

    @property
    def location(self) -> str:
        return f"{self.filename}:{self.node.lineno}"


_parsed: dict[tuple[str, int], ast.Module | None] = {}


def _parse_file(filename: str, text: str) -> ast.Module | None:
    key = (filename, hash(text))
    if key not in _parsed:
        try:
            _parsed[key] = ast.parse(text, filename)
        except (SyntaxError, ValueError):
            _parsed[key] = None
    return _parsed[key]


def _first_line(node: FunctionNode) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _arg_names(args: ast.arguments) -> tuple[str, ...]:
    every = args.posonlyargs + args.args + args.kwonlyargs
    names = [a.arg for a in every]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return tuple(names)


def _lambda_name(tree: ast.Module, node: ast.Lambda) -> str:
    """The variable a lambda is assigned to (``f = lambda x: ...``), if any."""
    for parent in ast.walk(tree):
        if isinstance(parent, ast.Assign) and parent.value is node:
            target = parent.targets[0]
            if isinstance(target, ast.Name):
                return target.id
        if isinstance(parent, ast.keyword) and parent.value is node:
            return parent.arg or "lambda"
    return "lambda"


def _compiles_to(node: FunctionNode, code: types.CodeType) -> bool:
    """Whether compiling ``node`` gives the bytecode of ``code``."""
    wrapper = ast.Expression(node) if isinstance(node, ast.Lambda) else \
        ast.Module([node], [])
    try:
        compiled = compile(ast.fix_missing_locations(wrapper), "<check>",
                           "eval" if isinstance(node, ast.Lambda) else "exec")
    except (SyntaxError, ValueError):
        return False
    for constant in compiled.co_consts:
        if isinstance(constant, types.CodeType):
            return (constant.co_code == code.co_code
                    and constant.co_names == code.co_names
                    and _plain(constant.co_consts) == _plain(code.co_consts))
    return False


def _plain(constants: tuple[object, ...]) -> tuple[object, ...]:
    return tuple(c for c in constants if not isinstance(c, types.CodeType))


def get_source(fn: types.FunctionType) -> FunctionSource:
    """Find and parse the definition of ``fn``.

    Raises NoSourceError when the function has no readable source (defined
    in a REPL or by ``exec``, or a builtin).
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        raise NoSourceError(
            f"cannot read the source of {fn!r}: it is not a Python function. "
            "autodiff_ast differentiates Python functions defined in a file, "
            "and the NumPy and math functions listed in its rules table.")
    filename = code.co_filename
    linecache.checkcache(filename)  # a file edited since it was read
    lines = linecache.getlines(filename, fn.__globals__)
    tree = _parse_file(filename, "".join(lines)) if lines else None
    if tree is None:
        raise NoSourceError(
            f"cannot read the source of {fn.__qualname__}: it was defined in "
            f"{filename!r}, which has no source file (an interactive session "
            "or exec). Define the function in a .py file and import it.")
    wanted_name = code.co_name
    candidates = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.Lambda)):
            continue
        if _first_line(node) != code.co_firstlineno:
            continue
        name = node.name if not isinstance(node, ast.Lambda) else "<lambda>"
        if name != wanted_name:
            continue
        if _arg_names(node.args) != code.co_varnames[:len(_arg_names(node.args))]:
            continue
        candidates.append(node)
    if len(candidates) > 1:
        # Several lambdas on one line: the one that compiles to fn's code.
        matching = [n for n in candidates if _compiles_to(n, code)]
        candidates = matching or candidates
        if len({ast.dump(n) for n in candidates}) > 1:
            raise NoSourceError(
                f"cannot tell which of the functions defined at "
                f"{filename}:{code.co_firstlineno} is {fn.__qualname__}: "
                "put it on a line of its own.")
    if not candidates:
        raise NoSourceError(
            f"cannot find the definition of {fn.__qualname__} in {filename} "
            f"at line {code.co_firstlineno}: the file changed after the "
            "function was defined. Reload the module and try again.")
    node = candidates[0]
    name = (_lambda_name(tree, node) if isinstance(node, ast.Lambda)
            else node.name)
    return FunctionSource(node, filename, tuple(lines), name)
