"""A call of array code at arguments of the kinds it last answered, as
one compiled function.

An optimiser calls a derivative again and again with arguments of one
kind (numbers of the same types, arrays of the same shapes and dtypes).
The transform's full call (``ArrayTransform.__call__``) finds the code for
them, checks what the code baked in, calls it and casts its result, each
a Python call of its own: at a float or a small array that costs more
than the code. Here those steps are written out once for the kinds last
seen, as the handle at floats writes its checks (``_handle``):

    def fast(*args):
        if len(args) == 2:
            _a0, _a1 = args
            if _a0.__class__ is _ndarray and _a0.shape == _s0 and ... \\
                    and not (<a value the code baked in changed>):
                result = _code(_a0, _a1)  # (or as NumPy runs it)
                if result.__class__ is tuple and ...:  # in its types
                    return result
                return _result(result)
        return _slow(*args)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._as_numpy import ARITHMETIC, numeric_retry
from ._lower_records import checked_reads, staleness

__all__ = ["fast_call"]


def fast_call(code: Callable[..., Any], kinds: Sequence[Any],
              defaults: Sequence[Any], reads: Sequence[Any],
              result: Callable[[Any], Any], structure: Any,
              dtypes: Sequence[Any], as_returned: bool,
              slow: Callable[..., Any]) -> Callable[..., Any]:
    """A function of the call's arguments that answers those of
    ``kinds`` (``kinds_of``'s: a type, or an array's shape and dtype) by
    ``code`` (with ``defaults`` after them) while ``reads`` are current,
    its result given as ``result`` gives it, and every other call by
    ``slow``. ``as_returned``: ``structure`` is made of tuples only, and
    a result whose leaves (of ``dtypes``) are already in their types is
    what the code returned."""
    names: dict[str, Any] = {"_code": code, "_result": result,
                             "_slow": slow, "_ndarray": np.ndarray,
                             "_arithmetic": ARITHMETIC,
                             "_retry": numeric_retry(code)}
    params = [f"_a{index}" for index in range(len(kinds))]
    tests = []
    for index, (param, kind) in enumerate(zip(params, kinds)):
        if isinstance(kind, tuple):
            names[f"_s{index}"], names[f"_d{index}"] = kind
            tests.append(f"{param}.__class__ is _ndarray and "
                         f"{param}.shape == _s{index} and "
                         f"{param}.dtype == _d{index}")
        else:
            names[f"_k{index}"] = kind
            tests.append(f"{param}.__class__ is _k{index}")
    condition, values = staleness(checked_reads(reads))
    names.update(values)
    if condition:
        tests.append(f"not ({condition})")
    passed = params + [f"_f{index}" for index in range(len(defaults))]
    names.update((f"_f{index}", value) for index, value in
                 enumerate(defaults))
    one_leaf = structure.num_nodes == 1
    given = _given_as_returned(structure, dtypes, names) if (
        as_returned or one_leaf) else None
    lines = [
        "def fast(*args):",
        f"    if len(args) == {len(params)}:",
        f"        {', '.join(params)}{',' * (len(params) == 1)} = args"
        if params else "        pass",
        f"        if {' and '.join(tests) or 'True'}:",
        "            try:",
        f"                result = _code({', '.join(passed)})",
        "            except _arithmetic:  # (as NumPy runs it: _as_numpy)",
        f"                result = _retry({', '.join(passed)})",
    ]
    if given is not None:
        lines += [f"            if {given}:",
                  "                return result"]
    if one_leaf and dtypes[0] is float:
        # (a float's derivative that NumPy computed: np.cos(x) * x)
        names["_float64"] = np.float64
        lines += ["            if result.__class__ is _float64:",
                  "                return float(result)"]
    lines += ["            return _result(result)",
              "    return _slow(*args)"]
    exec(compile("\n".join(lines) + "\n", "<autodiff_ast fast call>",
                 "exec"), names)
    return names["fast"]


def _given_as_returned(structure: Any, dtypes: Sequence[Any],
                       names: dict[str, Any]) -> str | None:
    """A condition on ``result`` that holds where each of its leaves is
    in its type already; None where a leaf's type cannot be told so."""
    paths = _tuple_paths(structure)
    tests = ["result.__class__ is tuple"] if structure.num_nodes > 1 \
        else []
    for index, (path, dtype) in enumerate(zip(paths, dtypes)):
        leaf = "result" + "".join(f"[{step}]" for step in path)
        if dtype is None:
            continue
        if dtype is float or isinstance(dtype, type) and issubclass(
                dtype, np.generic):
            names[f"_t{index}"] = dtype
            tests.append(f"{leaf}.__class__ is _t{index}")
        elif isinstance(dtype, np.dtype):
            names[f"_t{index}"] = dtype
            tests.append(f"{leaf}.__class__ is _ndarray and {leaf}.dtype "
                         f"is _t{index} and {leaf}.flags.writeable")
        else:
            return None
    return " and ".join(tests) or "True"


def _tuple_paths(structure: Any) -> list[tuple[int, ...]]:
    """The index of each leaf in a structure of tuples."""
    if structure.num_nodes == 1:
        return [()]
    return [(index, *path)
            for index, child in enumerate(structure.children())
            for path in _tuple_paths(child)]
