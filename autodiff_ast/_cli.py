"""Command line: print, check and export derivative source without a script.

    autodiff-ast show examples/derivatives.py:softplus --order 2
    autodiff-ast check examples/derivatives.py:softplus --at 1.5 --order 3
    autodiff-ast export examples/derivatives.py:softplus -o grads.py
    autodiff-ast export examples/logistic_regression.py:loss \
        --arg W=float32[3] --arg b=float32 --value-and-grad --hessian \
        -o newton.py

show and export give the gradient (and its derivatives, --order) unless
asked for other transforms: --jacobian, --hessian, --jvp, named after the
library's functions; several may be given (--grad keeps the gradient),
and each is printed or exported in that order. The derivative of array
code is generated for its arguments' kinds (dtype, shape, pytree
structure), given by --arg; an exported module holds the global arrays
the code reads and returns what the library's handle (ad.grad's,
ad.hessian's, ...) returns.
Errors print one line and exit with status 2 (``--traceback`` shows the
Python traceback); a failed check exits with status 1.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import dis
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import keyword
import os
import pathlib
import re
import shlex
import sys
import textwrap
import token
import tokenize
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import optree

from . import __version__
from ._api import _cached, grad, source, value_and_grad
from ._api_jacobians import hessian, jacobian
from ._codegen import _pretty_string
from ._dispatch import describe_argument
from ._errors import AutodiffError
from ._unparse import to_source
from ._wrap import _wrap

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


@dataclass
class Derived:
    """One generated derivative, as the commands print and export it."""

    function: Callable[..., Any]  # what to call; its globals hold its reads
    text: str  # its source
    notes: list[str] = field(default_factory=list)
    # array code: the handle ad.grad returned and the example arguments
    handle: Callable[..., Any] | None = None
    example: tuple[Any, ...] = ()


def _derivatives(function: Callable[..., Any], order: int,
                 argnums: int | tuple[int, ...],
                 kinds: dict[str, Any] | None = None) -> list[Derived]:
    """Orders 1 to ``order``; array code needs ``kinds`` (None: this
    command takes no --arg)."""
    if order < 1:
        raise CommandError("--order must be at least 1")
    if isinstance(argnums, tuple) and order > 1:
        raise CommandError("--order above 1 needs a single argument: pass "
                           "--wrt NAME or one --argnums index")
    result, current = [], function
    for n in range(order):
        current = grad(current, argnums=argnums)
        result.append(_derived(function, current, kinds))
        if n == 0 and order > 1 and result[0].handle is not None:
            _check_scalar_argument(function, result[0], argnums, order)
    return result


def _check_scalar_argument(function: Callable[..., Any], first: Derived,
                           argnums: Any, order: int) -> None:
    """Differentiating a gradient again needs it to be a number: the
    library would say "Gradient only defined for scalar-output functions"
    of the gradient, which is not the function the user named."""
    value = first.example[argnums]
    if isinstance(value, (np.ndarray, np.generic, float, int)) \
            and np.ndim(value) == 0:
        return
    param = first.handle.params[argnums]  # type: ignore[union-attr]
    raise CommandError(
        f"--order {order} differentiates the gradient of "
        f"{getattr(function, '__name__', 'the target')} again, which needs "
        f"a scalar argument, and {param} is {describe_argument(value)}: "
        f"for its second derivatives pass --hessian --wrt {param} instead "
        f"of --order {order}")


# The transforms besides the gradient, by the flag that asks for each
# (named after the library's function), in the order they are printed:
# how to make its handle. ad.jvp takes primals and tangents in one call;
# its handle, which is what an exported jvp is, takes them as arguments
# (x, y, x_dot, y_dot): a tangent for every argument, so no argnums.
_TRANSFORMS: dict[str, Callable[[Callable[..., Any], Any], Any]] = {
    "jacobian": lambda f, argnums: jacobian(f, argnums=argnums),
    "hessian": lambda f, argnums: hessian(f, argnums=argnums),
    "jvp": lambda f, argnums: _cached(f, 0, False, "jvp"),
}


def _requested(options: argparse.Namespace, function: Callable[..., Any],
               kinds: dict[str, Any]) -> list[Derived]:
    """What show and export print: the gradient's orders (unless another
    transform is asked for without --grad), then each transform asked
    for."""
    others = [t for t in _TRANSFORMS if getattr(options, t)]
    gradients = options.grad or not others
    if options.order is not None and not gradients:
        flags = " ".join(f"--{t}" for t in others)
        raise CommandError(
            f"--order counts derivatives of the gradient, which {flags} "
            "leaves out: add --grad to have both, or leave out --order")
    which = "--wrt" if options.wrt is not None else "--argnums"
    if "jvp" in others and (options.wrt or options.argnums) is not None:
        raise CommandError(
            f"--jvp takes a tangent for every argument, as ad.jvp does, so "
            f"it has no {which}: leave {which} out, or ask for --jvp in a "
            "command of its own")
    argnums = _argnums(function, options.argnums, options.wrt)
    order = 1 if options.order is None else options.order
    result = (_derivatives(function, order, argnums, kinds)
              if gradients else [])
    for name in others:
        result.append(_derived(function, _TRANSFORMS[name](function, argnums),
                               kinds))
    return result


def _derived(function: Callable[..., Any], derivative: Any,
             kinds: dict[str, Any] | None) -> Derived:
    if inspect.isfunction(derivative):
        return Derived(derivative, source(derivative))
    name = getattr(function, "__name__", "the target")
    if kinds is None:
        raise CommandError(
            f"{name} uses array operations or containers: its derivative is "
            "generated for the shapes and dtypes of its inputs, which this "
            "command does not take. Use show or export with --arg, or in "
            "Python: print(ad.source(ad.grad(f), *example_args))")
    params, defaults = derivative.params, derivative.defaults
    required = params[:len(params) - len(defaults)]
    missing = [p for p in required if p not in kinds]
    if missing:
        adds = " ".join(f"--arg {p}=KIND" for p in missing)
        raise CommandError(
            f"{name} uses array operations or containers: its derivative is "
            "generated for the dtype and shape of each argument. Add "
            f"{adds}, for example --arg {missing[0]}=float64[3]; "
            f"{_KIND_HELP}")
    given = [kinds.get(p) for p in params]
    sizes = example_sizes(given)

    def arguments(sizes: dict[str, int]) -> tuple[Any, ...]:
        primals = tuple(_examples(kind, sizes) if p in kinds
                        else defaults[i - len(required)]
                        for i, (p, kind) in enumerate(zip(params, given)))
        # A jvp's tangents are shaped like its primals: the primals serve
        # (the code depends on kinds, not values).
        return primals * 2 if derivative.takes_tangents else primals

    example = arguments(sizes)
    # The handle of array code (an ArrayTransform) keeps what it generated
    # for each input signature: its compiled function, whose globals are
    # the arrays it reads by name, and its source.
    entry = derivative.entry_for(example)
    derived = Derived(entry.function, entry.source, [], derivative, example)
    if sizes:
        # Generated again at other sizes: code that differs holds a size.
        other = example_sizes(given, after=max(sizes.values()))
        if _code(entry.source) != _code(
                derivative.source_for(arguments(other))):
            derived.notes.append(_size_note(derivative.__name__, params,
                                            given, sizes, other))
    return derived


def _code(text: str) -> str:
    """A function's code without its docstring (which names the sizes)."""
    (function,) = ast.parse(text).body
    assert isinstance(function, ast.FunctionDef)
    return ast.dump(ast.Module(function.body[1:], []))


def _size_note(name: str, params: Sequence[str], given: list[Any],
               sizes: dict[str, int], other: dict[str, int]) -> str:
    def spelled(sizes: dict[str, int]) -> str:
        return ", ".join(f"{size}={value}" for size, value in sizes.items())

    param, kind = next((p, k) for p, k in zip(params, given)
                       if any(isinstance(d, str) for leaf in _leaf_kinds([k])
                              for d in leaf.shape))
    real = _spelled(kind, {size: 1000 for size in sizes})
    return (f"note: {name} is generated for the example size "
            f"{spelled(sizes)}, and its code holds that size (it differs at "
            f"{spelled(other)}): call it only with arguments of that size, "
            f"or write the size you need, like --arg {param}={real}")


# -- argument kinds --------------------------------------------------------------

# A size written as a name (float32[N,3]) is generated at an example size:
# the first name gets the smallest of these not written as a number in any
# --arg, the next name the next one. Not 1 (it broadcasts) and not 2 or 3
# (the sizes people write as numbers), so sizes rarely coincide by accident.
_FIRST_EXAMPLE_SIZE = 5
_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16",
           "int8", "uint64", "uint32", "uint16", "uint8", "bool")
_KIND = re.compile(r"\s*(\w+)\s*(?:\[([^\]]*)\])?\s*")
_KIND_HELP = ("a kind is a dtype with an optional shape: float32[3], "
              "float32[N,3] (a size named N), float64 or float64[] (a "
              "scalar), or a JSON pytree of kinds like "
              "'{\"W\": \"float32[3]\", \"b\": \"float32\"}'")


@dataclass(frozen=True)
class Kind:
    """One array argument's dtype and shape; a size may be a name."""

    dtype: str
    shape: tuple[int | str, ...]

    def __str__(self) -> str:
        return f"{self.dtype}[{','.join(map(str, self.shape))}]"

    def example(self, sizes: dict[str, int]) -> Any:
        """A value of this kind (a NumPy scalar for shape ()).

        Generated code depends on kinds only; export runs it once, at
        these values, to see the dtypes NumPy gives its results. So they
        are values most code runs at: integers 0 (an index into any
        axis), floats in [0.5, 1.5) (log and sqrt are finite), all
        different, with n added on the diagonal of n x n matrices (which
        inv, solve and cholesky accept).
        """
        shape = tuple(sizes.get(d, d) for d in self.shape)  # type: ignore
        if not self.dtype.startswith("float"):
            value = np.zeros(shape, dtype=self.dtype)
        else:
            golden = (np.arange(int(np.prod(shape))) * 0.6180339887) % 1
            value = (0.5 + golden).reshape(shape)
            if len(shape) >= 2 and shape[-1] == shape[-2]:
                value = value + shape[-1] * np.eye(shape[-1])
            value = value.astype(self.dtype)
        return value[()] if not shape else value


def parse_kinds(specs: Sequence[str]) -> dict[str, Any]:
    """``--arg NAME=KIND`` options as {name: a Kind or a pytree of them}."""
    kinds: dict[str, Any] = {}
    for spec in specs:
        name, separator, text = spec.partition("=")
        name = name.strip()
        if not separator or not name.isidentifier() or not text.strip():
            raise CommandError(f"--arg {spec} must look like NAME=KIND, "
                               f"like --arg W=float32[3]; {_KIND_HELP}")
        if name in kinds:
            raise CommandError(f"--arg {name} is given twice")
        if text.lstrip()[:1] in ("{", "["):
            try:
                tree = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--arg {name}: {text} is not JSON "
                                   f"({exc.msg}); {_KIND_HELP}") from None
            kinds[name] = _kind_tree(name, tree)
        else:
            kinds[name] = _parse_kind(name, text)
    return kinds


def _kind_tree(name: str, tree: Any) -> Any:
    """JSON objects become dicts (in their key order), arrays lists, null
    None; every other leaf is a kind."""
    if isinstance(tree, dict):
        return {key: _kind_tree(name, value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_kind_tree(name, value) for value in tree]
    if tree is None:
        return None
    if not isinstance(tree, str):
        raise CommandError(f"--arg {name}: {json.dumps(tree)} in its JSON "
                           f"is not a kind; {_KIND_HELP}")
    return _parse_kind(name, tree)


def _parse_kind(name: str, text: str) -> Kind:
    match = _KIND.fullmatch(text)
    if match is None:
        raise CommandError(f"--arg {name}={text}: {_KIND_HELP}")
    dtype, dims = match.groups()
    if dtype not in _DTYPES:
        raise CommandError(f"--arg {name}={text}: unknown dtype {dtype!r}; "
                           f"the dtypes are {', '.join(_DTYPES)}")
    shape: list[int | str] = []
    for dim in (dims.split(",") if dims and dims.strip() else []):
        dim = dim.strip()
        if dim.isdigit():
            shape.append(int(dim))
        elif dim.isidentifier():
            shape.append(dim)
        else:
            raise CommandError(f"--arg {name}={text}: a size must be a "
                               f"number or a name, like float32[N,3]; got "
                               f"{dim!r}")
    return Kind(dtype, tuple(shape))


def _leaf_kinds(kinds: Any) -> list[Kind]:
    leaves = []
    for tree in kinds:
        if isinstance(tree, Kind):
            leaves.append(tree)
        elif isinstance(tree, dict):
            leaves += _leaf_kinds(list(tree.values()))
        elif isinstance(tree, list):
            leaves += _leaf_kinds(tree)
    return leaves


def example_sizes(kinds: Sequence[Any], after: int = 0) -> dict[str, int]:
    """The example size of each named size, in order of appearance: the
    smallest sizes from _FIRST_EXAMPLE_SIZE up (and above ``after``) that no
    --arg writes as a number."""
    leaves = _leaf_kinds(kinds)
    written = {d for kind in leaves for d in kind.shape if isinstance(d, int)}
    sizes: dict[str, int] = {}
    candidate = max(_FIRST_EXAMPLE_SIZE, after + 1)
    for name in (d for kind in leaves for d in kind.shape):
        if isinstance(name, str) and name not in sizes:
            while candidate in written:
                candidate += 1
            sizes[name] = candidate
            candidate += 1
    return sizes


def _examples(kinds: Any, sizes: dict[str, int]) -> Any:
    if isinstance(kinds, Kind):
        return kinds.example(sizes)
    if isinstance(kinds, dict):
        return {key: _examples(value, sizes) for key, value in kinds.items()}
    if isinstance(kinds, list):
        return [_examples(value, sizes) for value in kinds]
    return None


def _spelled(kinds: Any, sizes: dict[str, int]) -> str:
    """A kind as written after --arg NAME=, with named sizes replaced."""
    if isinstance(kinds, Kind):
        return str(Kind(kinds.dtype, tuple(sizes.get(d, d)  # type: ignore
                                           for d in kinds.shape)))
    return "'" + _json_of(kinds, sizes) + "'"


def _json_of(kinds: Any, sizes: dict[str, int]) -> str:
    if isinstance(kinds, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {_json_of(value, sizes)}"
                               for key, value in kinds.items()) + "}"
    if isinstance(kinds, list):
        return "[" + ", ".join(_json_of(value, sizes) for value in kinds) + "]"
    if kinds is None:
        return "null"
    return json.dumps(_spelled(kinds, sizes))


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


def _check_kind_names(kinds: dict[str, Any],
                      functions: Sequence[Callable[..., Any]]) -> None:
    """An --arg that names no argument of any target is a typo."""
    known = {p for f in functions for p in _parameter_names(f)}
    for name in kinds:
        if name not in known:
            described = " or ".join(
                f"{getattr(f, '__name__', f)} "
                f"({', '.join(_parameter_names(f))})" for f in functions)
            raise CommandError(f"--arg {name} names no argument of "
                               f"{described}")


def command_show(options: argparse.Namespace) -> int:
    function = load_target(options.target)
    kinds = parse_kinds(options.arg)
    _check_kind_names(kinds, [function])
    derived = _requested(options, function, kinds)
    blocks = [f"{_heading(d.function)}\n{d.text}" for d in derived]
    text = "\n\n".join(blocks)
    for note in (note for d in derived for note in d.notes):
        print(f"autodiff-ast: {note}", file=sys.stderr)
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
    highest = 1 if options.order is None else options.order
    rows, failed, previous = [], False, function
    for order, derived in enumerate(
            _derivatives(function, highest, argnums), 1):
        derivative = derived.function
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
    notes: list[str] = []
    kinds = parse_kinds(options.arg)
    functions = [load_target(target) for target in options.targets]
    _check_kind_names(kinds, functions)
    for function in functions:
        path = getattr(getattr(function, "__code__", None), "co_filename",
                       None)
        if path and os.path.isfile(path):
            digest = hashlib.sha256(pathlib.Path(path).read_bytes())
            files[os.path.relpath(path)] = digest.hexdigest()[:16]
        derivatives = _requested(options, function, kinds)
        if options.value_and_grad:
            argnums = _argnums(function, options.argnums, options.wrt)
            derivatives.insert(0, _derived(
                function, value_and_grad(function, argnums=argnums), kinds))
        for derived in derivatives:
            name = derived.function.__name__
            if name in names:
                raise CommandError(f"two derivatives are named {name}: "
                                   "export the targets to separate files")
            names.add(name)
            sources.append(derived.text if derived.handle is None
                           else _returning_as_handle(derived))
            for read, value in _values_read_by_name(derived.function).items():
                if read in constants and not _same(constants[read], value):
                    raise CommandError(
                        f"two derivatives read different values named "
                        f"{read}: export them to separate files")
                constants[read] = value
            notes += derived.notes
    body = "\n\n\n".join(text.rstrip() for text in sources) + "\n"
    if constants:
        # The derivatives read these globals by name, as the source
        # functions do; the module holds their values at export time.
        body = "".join(_assignment(name, value)
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
    for note in notes:
        header += ["#"] + textwrap.wrap(note, 77, initial_indent="# ",
                                        subsequent_indent="#   ",
                                        break_on_hyphens=False)
    text = "\n".join(header) + "\n\n"
    text += ("\n".join(imports) + "\n\n\n" if imports else "\n") + body
    output = pathlib.Path(options.output)
    try:
        output.write_text(text)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
    for note in notes:
        print(f"autodiff-ast: {note}", file=sys.stderr)
    print(f"wrote {len(sources)} function(s) to {output}")
    return 0


def _values_read_by_name(derivative: Callable[..., Any]) -> dict[str, Any]:
    """The outside numbers and arrays a derivative's code reads by name (a
    global BETA, the data array inputs), with their values now."""
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
        if isinstance(value, np.ndarray):
            values[name] = _writable_array(derivative.__name__, name, value)
            continue
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


# An exported module is code, read and diffed by people: an array of up to
# this many elements (the constants and small tables code reads) is written
# into it as a literal; more is data, which belongs in a file the caller
# loads and passes as an argument, not in the text of a module.
_LARGEST_ARRAY = 1000


def _writable_array(reader: str, name: str, value: np.ndarray) -> np.ndarray:
    kind = f"{value.dtype}{list(value.shape)}"
    if value.dtype.kind not in "biuf":
        raise CommandError(f"{reader} reads the global array {name} ({kind}),"
                           " which an exported module cannot hold as numbers:"
                           " pass it as an argument instead")
    if value.size > _LARGEST_ARRAY:
        raise CommandError(
            f"{reader} reads the global array {name} ({kind}, {value.size} "
            f"elements); an exported module holds arrays of at most "
            f"{_LARGEST_ARRAY} elements as literals, and this one is data: "
            f"make {name} an argument of the function and pass it when you "
            "call the derivative")
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=True)))
    return type(a) is type(b) and (a == b or a != a and b != b)


def _float_literal(value: np.floating) -> str:
    if np.isnan(value):
        return "np.nan"
    if np.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    # str() of a NumPy float is the shortest text that gives it back in its
    # own dtype: 0.52 for a float32, not 0.5199999809265137. np.array reads
    # it as a float64 and rounds that to float32, which gives the same
    # number: rounding twice is exact when the first format has at least
    # 2p + 2 bits for p of the second (53 >= 2 * 24 + 2).
    return str(value)


_LITERALS: dict[str, Callable[[Any], str]] = {
    "float_kind": _float_literal, "bool": lambda v: str(bool(v)),
    "int_kind": lambda v: str(int(v))}


def _assignment(name: str, value: Any) -> str:
    """``name = value`` as a line of the module (or several, for an
    array), which gives back exactly ``value``."""
    if not isinstance(value, np.ndarray):
        return f"{name} = {value!r}\n"
    # np.bool is NumPy 2's spelling; np.bool_ is also NumPy 1's.
    dtype = "bool_" if value.dtype == np.bool_ else value.dtype.name
    prefix, suffix = f"{name} = np.array(", f", dtype=np.{dtype})"
    text = np.array2string(value, max_line_width=79, separator=", ",
                           prefix=prefix, suffix=suffix,
                           threshold=sys.maxsize, formatter=_LITERALS)
    return f"{prefix}{text}{suffix}\n"


def _returning_as_handle(derived: Derived) -> str:
    """The array derivative's source, returning what the library's handle
    returns (``ad.grad``'s, ``ad.hessian``'s, ...): generated code returns
    a flat tuple of the result's leaves in the dtypes NumPy gives, which
    the handle puts into the result's structure (the arguments' for a
    gradient, tuples of tuples for a Hessian by two arguments, the
    output's for a Jacobian) and dtypes; an exported module has no handle,
    so its return statements do that."""
    handle, example = derived.handle, derived.example
    assert handle is not None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # the examples are not data
        try:
            flat = derived.function(*example)
            wanted = handle(*example)
        except Exception as exc:
            raise CommandError(
                f"cannot export {handle.__name__}: export runs it once at "
                "example arguments of the kinds given, to see the dtypes "
                f"of its results, and there it raised {type(exc).__name__}: "
                f"{exc}") from exc
    flat = list(flat) if isinstance(flat, tuple) else [flat]
    leaves, structure = optree.tree_flatten(wanted)
    if len(leaves) != len(flat):
        raise CommandError(f"cannot export {handle.__name__}: its code "
                           f"returns {len(flat)} values for {len(leaves)} "
                           "results. Please report this with the function.")
    casts = [_cast(got, want) for got, want in zip(flat, leaves)]
    text = derived.text
    (function,) = ast.parse(text).body
    returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
    lines = text.splitlines(keepends=True)
    changed = False
    for node in sorted(returns, key=lambda n: n.lineno, reverse=True):
        assert node.value is not None and node.end_lineno is not None
        values = (list(node.value.elts) if len(flat) > 1
                  and isinstance(node.value, ast.Tuple) else [node.value])
        rebuilt = _structure_node(optree.tree_unflatten(structure, [
            cast(value) for cast, value in zip(casts, values)]))
        if ast.dump(rebuilt) == ast.dump(node.value):
            continue
        statement = ast.fix_missing_locations(
            ast.Module([ast.Return(rebuilt)], []))
        indent = " " * node.col_offset
        lines[node.lineno - 1:node.end_lineno] = [
            indent + line + "\n"
            for line in to_source(statement, _pretty_string).splitlines()]
        changed = True
    return _wrap("".join(lines)) if changed else text


def _cast(got: Any, want: Any) -> Callable[[ast.expr], ast.expr]:
    """How to turn the generated code's output into the handle's: a
    float32 argument's gradient is float32 even where NumPy computed it
    in float64 (from a float64 global), a NumPy scalar's is a scalar, and
    where the handle gives a 0-d array for a scalar the code computed, so
    does the module."""
    if type(got) is type(want) and getattr(got, "dtype", None) == getattr(
            want, "dtype", None):
        return lambda value: value
    dtype = ast.Attribute(ast.Name("np", ast.Load()),
                          str(getattr(want, "dtype", "")), ast.Load())
    if isinstance(want, np.generic):
        return lambda value: ast.Call(dtype, [value], [])
    if isinstance(want, np.ndarray) and isinstance(got, np.ndarray):
        return lambda value: ast.Call(
            ast.Attribute(value, "astype", ast.Load()), [dtype], [])
    if isinstance(want, np.ndarray):
        return lambda value: ast.Call(
            ast.Attribute(ast.Name("np", ast.Load()), "asarray", ast.Load()),
            [value], [ast.keyword("dtype", dtype)])
    if isinstance(want, float):
        return lambda value: ast.Call(ast.Name("float", ast.Load()),
                                      [value], [])
    return lambda value: value


def _structure_node(tree: Any) -> ast.expr:
    """The expression that builds ``tree`` (dicts, lists, tuples, None)
    around its leaves, which are expressions."""
    if isinstance(tree, ast.expr):
        return tree
    if tree is None:
        return ast.Constant(None)
    if type(tree) is dict:
        return ast.Dict([ast.Constant(k) for k in tree],
                        [_structure_node(v) for v in tree.values()])
    if type(tree) is list:
        return ast.List([_structure_node(v) for v in tree], ast.Load())
    if type(tree) is tuple:
        return ast.Tuple([_structure_node(v) for v in tree], ast.Load())
    raise CommandError(f"cannot export a result holding a "
                       f"{type(tree).__name__}: an exported module rebuilds "
                       "only dicts, lists and tuples")


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
        sub.add_argument("--order", type=int,
                         help="highest order of derivative (default 1): "
                              "the gradient, differentiated again")
        which = sub.add_mutually_exclusive_group()
        which.add_argument("--argnums", help="argument indices, like 0 or 0,1")
        which.add_argument("--wrt", help="the argument's name")
        sub.add_argument("--traceback", action="store_true",
                         default=argparse.SUPPRESS,
                         help="show the Python traceback of an error")

    def transforms(sub: argparse.ArgumentParser) -> None:
        # Flags named after the library's functions, as --value-and-grad
        # is; they combine (value_and_grad and hessian make a Newton step).
        sub.add_argument(
            "--grad", action="store_true",
            help="the gradient and, with --order, its derivatives (the "
                 "default when no other transform is asked for)")
        sub.add_argument(
            "--jacobian", action="store_true",
            help="the Jacobian, as ad.jacobian (ad.jacfwd and ad.jacrev "
                 "generate the same code)")
        sub.add_argument("--hessian", action="store_true",
                         help="the Hessian, as ad.hessian")
        sub.add_argument(
            "--jvp", action="store_true",
            help="the value and its derivative along tangents, as ad.jvp: "
                 "a function of the arguments and then one tangent per "
                 "argument (x, y, x_dot, y_dot)")

    def kinds(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--arg", action="append", default=[], metavar="NAME=KIND",
            help="the kind of an argument of array code, once per argument: "
                 "a dtype with an optional shape (W=float32[3], "
                 "b=float64 or b=float64[] for a scalar), or a JSON pytree "
                 "of kinds (params='{\"W\": \"float32[3]\", \"b\": "
                 "\"float32\"}'). A size may be a name (float32[N,3]): "
                 "the code is generated at an example size, 5 for the "
                 "first name, 6 for the next, skipping sizes written as "
                 "numbers; a note says so if the code holds that size")

    show = commands.add_parser(
        "show", help="print the generated source of each derivative",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast show examples/derivatives.py:"
               "softplus --order 2\n  autodiff-ast show numpy:tanh --order 3"
               "\n  autodiff-ast show examples/logistic_regression.py:loss "
               "--arg W=float32[3] --arg b=float32"
               "\n  autodiff-ast show examples/logistic_regression.py:loss "
               "--arg W=float32[3] --arg b=float32 --hessian")
    show.add_argument("target", help="path/to/file.py:function or "
                                     "package.module:function")
    common(show)
    transforms(show)
    kinds(show)

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
               "--order 2 -o grads.py\n  autodiff-ast export "
               "examples/logistic_regression.py:loss --arg W=float32[3] "
               "--arg b=float32 --argnums 0,1 --value-and-grad -o "
               "logistic_grads.py\n  autodiff-ast export "
               "examples/logistic_regression.py:loss --arg W=float32[3] "
               "--arg b=float32 --value-and-grad --hessian -o newton.py"
               "\n\nThe module imports only numpy "
               "and/or math: it runs without autodiff_ast or sympy.")
    export.add_argument("targets", nargs="+", metavar="target",
                        help="path/to/file.py:function or "
                             "package.module:function")
    export.add_argument("-o", "--output", required=True,
                        help="the module to write")
    export.add_argument("--value-and-grad", action="store_true",
                        help="also export each function's value_and_grad")
    common(export)
    transforms(export)
    kinds(export)
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
