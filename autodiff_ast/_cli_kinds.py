"""Command line: argument kinds (``--arg W=float32[N,3]``), parsed, and
the example values of each kind that array derivatives are generated
and run at."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ._cli_targets import CommandError

__all__ = ["KIND_HELP", "Kind", "parse_kinds", "example_sizes",
           "examples_of", "leaf_kinds", "spelled_kind"]


# A size written as a name (float32[N,3]) is generated at an example size:
# the first name gets the smallest of these not written as a number in any
# --arg, the next name the next one. Not 1 (it broadcasts) and not 2 or 3
# (the sizes people write as numbers), so sizes rarely coincide by accident.
_FIRST_EXAMPLE_SIZE = 5
_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16",
           "int8", "uint64", "uint32", "uint16", "uint8", "bool")
_KIND = re.compile(r"\s*(\w+)\s*(?:\[([^\]]*)\])?\s*")
KIND_HELP = ("a kind is a dtype with an optional shape: float32[3], "
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
                               f"like --arg W=float32[3]; {KIND_HELP}")
        if name in kinds:
            raise CommandError(f"--arg {name} is given twice")
        if text.lstrip()[:1] in ("{", "["):
            try:
                tree = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--arg {name}: {text} is not JSON "
                                   f"({exc.msg}); {KIND_HELP}") from None
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
                           f"is not a kind; {KIND_HELP}")
    return _parse_kind(name, tree)


def _parse_kind(name: str, text: str) -> Kind:
    match = _KIND.fullmatch(text)
    if match is None:
        raise CommandError(f"--arg {name}={text}: {KIND_HELP}")
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


def leaf_kinds(kinds: Any) -> list[Kind]:
    """Every Kind in a sequence of kinds and pytrees of them, in order."""
    leaves = []
    for tree in kinds:
        if isinstance(tree, Kind):
            leaves.append(tree)
        elif isinstance(tree, dict):
            leaves += leaf_kinds(list(tree.values()))
        elif isinstance(tree, list):
            leaves += leaf_kinds(tree)
    return leaves


def example_sizes(kinds: Sequence[Any], after: int = 0) -> dict[str, int]:
    """The example size of each named size, in order of appearance: the
    smallest sizes from _FIRST_EXAMPLE_SIZE up (and above ``after``) that no
    --arg writes as a number."""
    leaves = leaf_kinds(kinds)
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


def examples_of(kinds: Any, sizes: dict[str, int]) -> Any:
    """A value of ``kinds`` (a Kind or a pytree of them)."""
    if isinstance(kinds, Kind):
        return kinds.example(sizes)
    if isinstance(kinds, dict):
        return {key: examples_of(value, sizes) for key, value in kinds.items()}
    if isinstance(kinds, list):
        return [examples_of(value, sizes) for value in kinds]
    return None


def spelled_kind(kinds: Any, sizes: dict[str, int]) -> str:
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
    return json.dumps(spelled_kind(kinds, sizes))
