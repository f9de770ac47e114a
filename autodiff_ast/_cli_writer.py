"""Command line: the text export writes, for what has no source of its own:
a global's value as a literal that gives it back exactly, and an array
derivative's return statements giving what the library's handle
returns."""

from __future__ import annotations

import ast
import sys
import warnings
from typing import Any, Callable

import numpy as np
import optree

from ._array_transforms import call_in_full
from ._cli_derive import Derived
from ._cli_targets import CommandError
from ._output_types import tree_like
from ._returns import buildable, with_returns

__all__ = ["assignment", "returning_as_handle"]


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


def assignment(name: str, value: Any) -> str:
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


def returning_as_handle(derived: Derived) -> str:
    """The array derivative's source, returning what the library's handle
    returns (``ad.grad``'s, ``ad.hessian``'s, ...): generated code returns
    the result's structure (the arguments' for a gradient, tuples of tuples
    for a Hessian by two arguments, the output's for a Jacobian; a
    namedtuple's leaves flat) in the dtypes NumPy gives, which the handle
    casts to the arguments' dtypes (and puts into a namedtuple); an
    exported module has no handle, so its return statements do that."""
    handle, example = derived.handle, derived.example
    assert handle is not None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # the examples are not data
        try:
            returned = call_in_full(derived.function, example)
            wanted = handle.positionally(*example)  # (all of them)
            if handle.takes_tangents:  # (ad.jvp's: each in its value's type)
                value, tangent, *aux = wanted
                wanted = (value, tree_like(tangent, value), *aux)
        except Exception as exc:
            raise CommandError(
                f"cannot export {handle.__name__}: export runs it once at "
                "example arguments of the kinds given, to see the dtypes "
                f"of its results, and there it raised {type(exc).__name__}: "
                f"{exc}") from exc
    leaves, structure = optree.tree_flatten(wanted)
    try:  # (code returning the result's structure, or its leaves)
        flat = structure.flatten_up_to(returned)
    except (ValueError, TypeError):
        flat = list(returned) if isinstance(returned, tuple) else [returned]
    if len(leaves) != len(flat):
        raise CommandError(f"cannot export {handle.__name__}: its code "
                           f"returns {len(flat)} values for {len(leaves)} "
                           "results. Please report this with the function.")
    if not buildable(structure):
        raise CommandError(f"cannot export a result holding a "
                           f"{_first_other(wanted)}: an exported module "
                           "rebuilds only dicts, lists and tuples")
    casts = [_cast(got, want) for got, want in zip(flat, leaves)]
    return with_returns(derived.text, structure, lambda values: [
        cast(value) for cast, value in zip(casts, values)])


def _first_other(tree: Any) -> str:
    """The name of the first type in ``tree`` no literal builds."""
    if type(tree) in (dict, list, tuple):
        for item in (tree.values() if type(tree) is dict else tree):
            if not optree.tree_is_leaf(item):
                return _first_other(item)
        return type(tree).__name__
    return type(tree).__name__


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
