"""Source stage: find a function's definition and parse it with real line numbers.

The whole file is parsed (not just the function's lines), so every AST node
carries the line and column it has in the user's file, and error messages can
quote that line. Works for ``def`` functions, lambdas (also several on one
line), nested functions and the functions autodiff_ast itself generated,
whose source lives in ``linecache``.

What is read must be what runs. A file edited after its module was
imported reads differently from the code that runs, and differentiating the
new text would give a wrong derivative; so the text found is compiled (the
whole file, once per version of it, so closures, methods, name mangling and
``from __future__`` come out as they did on import) and the function's code
object there is compared with the one that runs.

Only the user's code is read. Library code (NumPy, SciPy, SymPy, mpmath,
autodiff_ast itself, the standard library and every installed package) is
either a primitive of the rules table or refused: its source is never read
and inlined. See ``library_of``.
"""

from __future__ import annotations

import __future__
import ast
import copy
import linecache
import os
import site
import sys
import sysconfig
import types
from dataclasses import dataclass, field
from typing import Any

from ._compile import GENERATED_PREFIX
from ._errors import NoSourceError
from ._parameters import as_trailing

__all__ = ["FunctionSource", "display_location", "get_source",
           "library_of", "refused_call"]

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


# -- library code ------------------------------------------------------------

# Libraries known by their top-level module, wherever they are installed
# (a development checkout of NumPy is NumPy too).
_NAMED_LIBRARIES = {"numpy": "a NumPy function", "scipy": "a SciPy function",
                    "sympy": "a SymPy function",
                    "mpmath": "an mpmath function",
                    "autodiff_ast": "an autodiff_ast function"}


def _folders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(installed-package folders, standard-library folders), real paths
    ending in a separator."""
    paths = sysconfig.get_paths()
    installed = {paths.get("purelib"), paths.get("platlib")}
    try:
        installed.update(site.getsitepackages())
        installed.add(site.getusersitepackages())
    except AttributeError:  # an old virtualenv's site module
        pass
    standard = {paths.get("stdlib"), paths.get("platstdlib")}

    def real(folders: set[str | None]) -> tuple[str, ...]:
        return tuple(sorted({os.path.join(os.path.realpath(f), "")
                             for f in folders if f}))

    return real(installed), real(standard)


_INSTALLED, _STANDARD = _folders()
_PACKAGE_FOLDERS = ("site-packages", "dist-packages")


def display_location(location: str) -> str:
    """``location`` ("/home/me/demo.py:3") as users read it: relative to
    the working folder where it is inside it ("demo.py:3")."""
    path, _, line = location.rpartition(":")
    if not path or not os.path.isabs(path):
        return location
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return location
    return location if relative.startswith("..") else f"{relative}:{line}"


def library_of(fn: Any) -> str | None:
    """What library ``fn`` (a function or a module) belongs to, as "a NumPy
    function", or None when it is the user's own code.

    The rule: functions of NumPy, SciPy, SymPy, mpmath and autodiff_ast
    (by top-level module), and functions whose file lies in the standard
    library or in an installed-packages folder (``site-packages`` or
    ``dist-packages``, of any environment) are library code. Everything
    else is the user's: scripts, notebooks, a project's own modules (also
    when installed in editable mode) and the functions autodiff_ast
    generated.
    """
    if isinstance(fn, types.ModuleType):
        filename = getattr(fn, "__file__", None) or ""
        module = fn.__name__
        if module.partition(".")[0] in sys.builtin_module_names:
            return "a standard-library module"  # math has no file
    else:
        code = getattr(fn, "__code__", None)
        filename = (code.co_filename if isinstance(code, types.CodeType)
                    else "")
        module = getattr(fn, "__module__", None) or ""
    if filename.startswith((GENERATED_PREFIX, "<doctest ")):
        return None  # a derivative, or an example in a docstring
    top = module.partition(".")[0]
    if top in _NAMED_LIBRARIES:
        return _NAMED_LIBRARIES[top]
    if not filename or filename.startswith("<"):
        return None
    path = os.path.realpath(filename)
    parts = path.split(os.sep)
    folders = [f for f in _INSTALLED if path.startswith(f)]
    for named in _PACKAGE_FOLDERS:
        if named in parts[:-1]:
            folders.append(os.sep.join(parts[:parts.index(named) + 1]) +
                           os.sep)
    if folders:
        package = path[len(folders[0]):].split(os.sep)[0]
        return ("a function of the installed package "
                f"{top or os.path.splitext(package)[0]}")
    if path.startswith(_STANDARD):
        return "a standard-library function"
    return None


_SUPPORTED = ("supported operations: arithmetic and the NumPy and math "
              "functions of the rules table")


def refused_call(spelled: str, library: str) -> str:
    """Why a call to library code, spelled so in the user's code, is
    refused, and what to write instead."""
    if library == "an autodiff_ast function":
        return (f"{spelled} cannot be called inside a function being "
                "differentiated: there, ad.grad, ad.value_and_grad, "
                "ad.jacobian, ad.jacfwd, ad.hessian, ad.jvp and ad.vjp can "
                "be (their generated code is differentiated), not the rest "
                "of autodiff_ast's own code")
    return (f"{spelled} is not supported: it is {library} outside "
            "autodiff_ast's rules table, and library code is never read and "
            "differentiated. Compute its result outside the function and "
            "pass it in (as an argument or a global), or write it with "
            f"{_SUPPORTED}")


def _refuse_library(fn: Any, library: str) -> NoSourceError:
    name = _spelled(fn)
    if hasattr(fn, "__wrapped__"):
        return NoSourceError(
            f"{name} is a wrapper made by a decorator of a library "
            f"({library}), and library code is never read and "
            "differentiated. Differentiate the undecorated function, "
            f"{fn.__name__}.__wrapped__.")
    fix = f"Write your own function with {_SUPPORTED}"
    if library.startswith("a function of the installed package"):
        fix += ("; if the package is your own, install it in editable "
                "mode (pip install -e .) so that its source is yours")
    return NoSourceError(
        f"{name} is {library}, neither a primitive in autodiff_ast's rules "
        f"table nor your own code, and library code is never read and "
        f"differentiated. {fix}.")


def _spelled(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or ""
    qualname = getattr(fn, "__qualname__", None) or repr(fn)
    top = module.partition(".")[0]
    public = {"numpy": "np"}.get(top)
    return f"{public}.{qualname}" if public else f"{module}.{qualname}"


# -- reading a file ------------------------------------------------------------

@dataclass
class _File:
    """One version of a file: its tree, its functions by first line, and
    its code as compiled (per set of ``__future__`` flags)."""

    tree: ast.Module | None
    by_line: dict[int, list[FunctionNode]] = field(default_factory=dict)
    # Per flags: every code object, depth first (None: does not compile),
    # and those by (name, first line).
    codes: dict[int, list[types.CodeType] | None] = field(
        default_factory=dict)
    index: dict[int, dict[tuple[str, int], list[types.CodeType]]] = field(
        default_factory=dict)
    marked: dict[tuple[int, int], list[types.CodeType | None]] = field(
        default_factory=dict)


# Per file name, the version last read (keyed by its text): an edited file
# replaces its entry instead of growing the cache.
_files: dict[str, tuple[int, _File]] = {}


def _read(filename: str, text: str) -> _File:
    key = hash(text)
    known = _files.get(filename)
    if known is not None and known[0] == key:
        return known[1]
    try:
        tree: ast.Module | None = ast.parse(text, filename)
    except (SyntaxError, ValueError):
        tree = None
    entry = _File(tree)
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.Lambda)):
                entry.by_line.setdefault(_first_line(node), []).append(node)
        for nodes in entry.by_line.values():
            nodes.sort(key=lambda n: (n.lineno, n.col_offset))
    _files[filename] = (key, entry)
    return entry


def _first_line(node: FunctionNode) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _node_name(node: FunctionNode) -> str:
    return "<lambda>" if isinstance(node, ast.Lambda) else node.name


# The compiler flags of ``from __future__`` imports, which a code object
# records in co_flags: compiling with the same ones reproduces it.
_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag


def _codes(tree: ast.Module, filename: str, flags: int
           ) -> list[types.CodeType] | None:
    """Every code object of the module, outermost first (depth-first, in
    the order the compiler made them); None if it does not compile."""
    try:
        # dont_inherit: not this module's own `from __future__` imports.
        module = compile(tree, filename, "exec", flags=flags,
                         dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return None
    found: list[types.CodeType] = []

    def walk(code: types.CodeType) -> None:
        found.append(code)
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                walk(constant)

    walk(module)
    return found


def _compiled(entry: _File, filename: str, flags: int
              ) -> dict[tuple[str, int], list[types.CodeType]] | None:
    """The file's code objects by (name, first line); None if the file
    does not compile on its own (an IPython cell with top-level await)."""
    if flags not in entry.codes:
        assert entry.tree is not None
        codes = _codes(entry.tree, filename, flags)
        entry.codes[flags] = codes
        index: dict[tuple[str, int], list[types.CodeType]] = {}
        for code in codes or []:
            index.setdefault((code.co_name, code.co_firstlineno),
                             []).append(code)
        entry.index[flags] = index
    return entry.index[flags] if entry.codes[flags] is not None else None


# Lambdas on one line share their first line; compiled with each moved to
# a line of its own, their code objects say which lambda each one is.
_MARK = 10_000_000


def _marked(entry: _File, filename: str, line: int, flags: int
            ) -> list[types.CodeType | None]:
    """For each lambda starting at ``line`` (in source order), its code as
    compiled from this file; None where the compiler dropped it."""
    key = (line, flags)
    if key not in entry.marked:
        assert entry.tree is not None
        original = entry.codes[flags] or []
        lambdas = [n for n in entry.by_line.get(line, [])
                   if isinstance(n, ast.Lambda)]
        # Moved in place and back (a copy of a large tree costs more than
        # compiling it twice).
        positions = [(n.lineno, n.end_lineno, n.end_col_offset)
                     for n in lambdas]
        try:
            for number, node in enumerate(lambdas):
                node.lineno = node.end_lineno = _MARK + number
                node.end_col_offset = max(node.end_col_offset or 0,
                                          node.col_offset)
            marked = _codes(entry.tree, filename, flags) or []
        finally:
            for node, (start, end, end_column) in zip(lambdas, positions):
                node.lineno, node.end_lineno = start, end
                node.end_col_offset = end_column
        found: list[types.CodeType | None] = [None] * len(lambdas)
        # Moving lambdas changes no code object's place in the module, so
        # the original compile's code at the same place is the lambda's
        # (Python 3.10 merges identical lambdas: then the moved one, whose
        # bytecode does not depend on its first line, stands in).
        aligned = len(marked) == len(original)
        for place, code in enumerate(marked):
            number = code.co_firstlineno - _MARK
            if 0 <= number < len(lambdas) and code.co_name == "<lambda>":
                found[number] = original[place] if aligned else code
        entry.marked[key] = found
    return entry.marked[key]


# -- comparing code --------------------------------------------------------------

def _fingerprint(code: types.CodeType) -> tuple[Any, ...]:
    """What a code object computes: its bytecode, the names and constants
    it uses, its arguments and scopes, and so of every function nested in
    it. Line numbers are left out (pytest's assertion rewriting moves the
    lambdas inside an assert to the assert's position)."""
    return (code.co_name, code.co_code, code.co_names, code.co_varnames,
            code.co_freevars, code.co_cellvars, code.co_argcount,
            code.co_posonlyargcount, code.co_kwonlyargcount,
            code.co_flags & ~_FUTURE_FLAGS,
            tuple(_constant_key(c) for c in code.co_consts))


def _constant_key(constant: Any) -> Any:
    """A constant as compared by the compiler: 1, 1.0, True and -0.0 all
    differ."""
    if isinstance(constant, types.CodeType):
        return ("code", _fingerprint(constant))
    if isinstance(constant, tuple):
        return ("tuple", tuple(_constant_key(c) for c in constant))
    if isinstance(constant, frozenset):
        return ("frozenset", frozenset(_constant_key(c) for c in constant))
    return (type(constant), repr(constant))


def _positions(code: types.CodeType) -> tuple[Any, ...] | None:
    """Where each instruction is (Python 3.11+), None before."""
    positions = getattr(code, "co_positions", None)
    return tuple(positions()) if positions is not None else None


# -- finding a function ----------------------------------------------------------

# Found sources by code object (kept alive by the entry, so an id is never
# reused while it is here), with the text they were found in.
_found: dict[int, tuple[types.CodeType, str, int, FunctionSource]] = {}
_FOUND_LIMIT = 4096


def get_source(fn: types.FunctionType) -> FunctionSource:
    """Find and parse the definition of ``fn``.

    Raises NoSourceError when the function has no readable source (defined
    in a plain Python session, by ``python -c`` or ``exec``, or a builtin),
    when it is library code, and when its file was edited after it was
    imported.
    """
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        raise NoSourceError(
            f"cannot read the source of {fn!r}: it is not a Python function. "
            "autodiff_ast differentiates Python functions defined in a file, "
            "and the NumPy and math functions listed in its rules table.")
    library = library_of(fn)
    if library is not None:
        raise _refuse_library(fn, library)
    filename = code.co_filename
    linecache.checkcache(filename)  # a file edited since it was read
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise _without_source(fn, filename)
    text = "".join(lines)
    key = hash(text)
    known = _found.get(id(code))
    if known is not None and known[0] is code and known[1:3] == (filename,
                                                                  key):
        return known[3]
    entry = _read(filename, text)
    if entry.tree is None:
        raise _edited(fn, filename, code.co_firstlineno)
    node, name = _find(fn, code, entry, filename, lines)
    if name == "__call__" and "." in fn.__qualname__:
        # An object called as a function goes by its class's name (Poly).
        name = fn.__qualname__.split(".")[-2]
    source = FunctionSource(as_trailing(node), filename, tuple(lines), name)
    if len(_found) >= _FOUND_LIMIT:
        _found.clear()
    _found[id(code)] = (code, filename, key, source)
    return source


def _without_source(fn: types.FunctionType, filename: str) -> NoSourceError:
    return NoSourceError(
        f"cannot read the source of {fn.__qualname__}: it was defined "
        f"in {filename!r} (python -c, exec or the plain Python prompt), "
        "where Python keeps no source. Define it in a .py file and "
        "import it, or in an IPython or Jupyter cell: autodiff_ast "
        "reads both.")


def _edited(fn: types.FunctionType, filename: str,
            line: int) -> NoSourceError:
    if filename == "<string>":
        # Python 3.13 keeps `python -c`'s program as '<string>', which
        # every exec() of a string also names: a function exec'd in such
        # a process (a pytest-xdist worker) finds other text there, not
        # an edit.
        return _without_source(fn, filename)
    return NoSourceError(
        f"{fn.__qualname__} was edited after it was imported: its file now "
        "reads differently from the code that runs "
        f"({filename}:{line}). Reload the module (importlib.reload) or "
        "restart Python, then differentiate it again.")


def _find(fn: types.FunctionType, code: types.CodeType, entry: _File,
          filename: str, lines: list[str]) -> tuple[FunctionNode, str]:
    """The node whose code is ``code``, and the name a person calls it."""
    line = code.co_firstlineno
    candidates = [n for n in entry.by_line.get(line, [])
                  if _node_name(n) == code.co_name]
    if not candidates:
        raise _edited(fn, filename, line)
    assert entry.tree is not None
    if filename.startswith(GENERATED_PREFIX):
        # Named after its own text's digest: it cannot have changed (and
        # is compiled in a scope its text does not show).
        return candidates[0], _name(entry.tree, candidates[0])
    flags = code.co_flags & _FUTURE_FLAGS
    compiled = _compiled(entry, filename, flags)
    if compiled is None:  # no compiler check possible (top-level await)
        if len(candidates) > 1:
            raise NoSourceError(
                f"cannot tell which of the functions defined at "
                f"{filename}:{line} is {fn.__qualname__}: put it on a line "
                "of its own.")
        return candidates[0], _name(entry.tree, candidates[0])
    wanted = _fingerprint(code)
    if len(candidates) == 1:
        codes = compiled.get((code.co_name, line), [])
        if (len(codes) != 1 or _fingerprint(codes[0]) != wanted) and not \
                _rewritten_by_pytest(fn, entry, "".join(lines), flags):
            raise _edited(fn, filename, line)
        return candidates[0], _name(entry.tree, candidates[0])
    # Several lambdas start on this line.
    marked = _marked(entry, filename, line, flags)
    matching = [number for number, found in enumerate(marked)
                if found is not None and _fingerprint(found) == wanted]
    if not matching:
        raise _edited(fn, filename, line)
    if len(matching) > 1:
        # They compile alike, so any computes fn; the columns each
        # instruction comes from (Python 3.11+) tell which one fn is.
        here = _positions(code)
        exact = [n for n in matching
                 if here is not None and _positions(marked[n]) == here]
        if len(exact) == 1:
            matching = exact
    nodes = [candidates[n] for n in matching]
    names = {_name(entry.tree, n) for n in nodes}
    name = names.pop() if len(names) == 1 else "lambda"
    return nodes[0], name


def _rewritten_by_pytest(fn: types.FunctionType, entry: _File, text: str,
                         flags: int) -> bool:
    """Whether ``fn``'s module was imported by pytest, which rewrites the
    asserts of test modules, and its file rewritten so compiles to
    ``fn``'s code: a function with an assert, defined in a test file, is
    then read from that file as it is."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    loader = getattr(module, "__loader__", None)
    if type(loader).__name__ != "AssertionRewritingHook":
        return False
    try:
        from _pytest.assertion.rewrite import rewrite_asserts
    except ImportError:
        return False
    assert entry.tree is not None
    tree = copy.deepcopy(entry.tree)
    try:
        rewrite_asserts(tree, text.encode(), fn.__code__.co_filename,
                        getattr(loader, "config", None))
    except Exception:  # pytest's own machinery: never ours to explain
        return False
    code = fn.__code__
    wanted = _fingerprint(code)
    return any(c.co_name == code.co_name
               and c.co_firstlineno == code.co_firstlineno
               and _fingerprint(c) == wanted
               for c in _codes(tree, code.co_filename, flags) or [])


def _name(tree: ast.Module, node: FunctionNode) -> str:
    return (_lambda_name(tree, node) if isinstance(node, ast.Lambda)
            else node.name)


def _lambda_name(tree: ast.Module, node: ast.Lambda) -> str:
    """The variable a lambda is assigned to (``f = lambda x: ...``, also
    ``f, g = (lambda x: ...), (lambda x: ...)``), if any."""
    for parent in ast.walk(tree):
        if isinstance(parent, (ast.Assign, ast.AnnAssign)):
            targets = (parent.targets if isinstance(parent, ast.Assign)
                       else [parent.target])
            for target in targets[:1]:
                name = _target_of(target, parent.value, node)
                if name is not None:
                    return name
        if isinstance(parent, ast.keyword) and parent.value is node:
            return parent.arg or "lambda"
    return "lambda"


def _target_of(target: ast.AST, value: ast.AST | None,
               node: ast.Lambda) -> str | None:
    """The name ``node`` is bound to when ``value`` is assigned to
    ``target``; None if it is not bound to a name there."""
    if value is node:
        return target.id if isinstance(target, ast.Name) else None
    if (isinstance(target, (ast.Tuple, ast.List))
            and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)
            and not any(isinstance(e, ast.Starred) for e in target.elts)):
        for element, item in zip(target.elts, value.elts):
            name = _target_of(element, item, node)
            if name is not None:
                return name
    return None
