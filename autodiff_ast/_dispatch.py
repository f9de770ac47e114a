"""Dispatch of array derivatives on their inputs' signatures.

A derivative of array code is generated per input signature: what its code
depends on (the arguments' pytree structure, shapes and dtypes), computed
here on every call, and the binding of a call's arguments as Python would
(defaults, keywords). ``_array_transforms.ArrayTransform`` keeps the code
generated for each signature.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from typing import Any

import numpy as np
import optree

__all__ = ["complete_arguments", "signature", "describe_argument",
           "spelled_kind", "taken_as_constant"]


def taken_as_constant(arg: Any) -> bool:
    """Whether an argument that is not differentiated is taken as the
    constant it is, as JAX passes such an argument on untouched: a string
    option (``reduction="sum"``), an enum member, a tuple or list of ints
    (a shape, indices, slice bounds: JAX's are Python ints outside jit),
    a function, an object read by attribute (a dataclass of settings).
    Code is made for each such value: a string's, an enum member's, the
    ints', a dataclass's attribute values, or another object's identity
    (what it read of the object is checked on each call, as for
    ``self``)."""
    if isinstance(arg, str) or _ints(arg):
        return True
    if arg is None or isinstance(arg, (bool, int, float, complex,
                                       np.ndarray, np.generic)):
        return False
    return optree.tree_is_leaf(arg) and not isinstance(
        getattr(arg, "dtype", None), np.dtype)


def complete_arguments(name: str, params: tuple[str, ...],
                       defaults: tuple[Any, ...], args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The positional arguments of a call ``name(*args, **kwargs)`` of a
    function with ``params`` and ``defaults``, as Python would bind them."""
    count = len(params)
    if not kwargs and len(args) == count:
        return args
    values = dict(zip(params, args))
    if len(args) > count:
        raise TypeError(f"{name}() takes {count} positional arguments but "
                        f"{len(args)} were given")
    for key, value in kwargs.items():
        if key not in params or key in values:
            raise TypeError(f"{name}() got an unexpected or repeated "
                            f"argument {key!r}")
        values[key] = value
    first_default = count - len(defaults)
    for index, param in enumerate(params):
        if param not in values:
            if index < first_default:
                raise TypeError(f"{name}() missing required argument "
                                f"{param!r}")
            values[param] = defaults[index - first_default]
    return tuple(values[param] for param in params)


def signature(args: tuple[Any, ...], by_rank: bool = False
              ) -> tuple[Any, ...]:
    """What generated code depends on: the arguments' structure, dtypes
    and shapes, and the values of boolean arrays (with ``by_rank``, only
    their numbers of axes and which axes are 1: the key of code that reads
    every size when it runs, and still broadcasts where an axis was 1).
    Dicts whose keys come in another order have the same key (the same
    code serves them)."""
    key: list[Any] = []
    for arg in args:
        kind = type(arg)
        if kind is np.ndarray:
            key.append((_rank(arg.shape), arg.dtype) if by_rank else
                       (arg.shape, arg.dtype, _mask_key(arg)))
        elif kind is int or isinstance(arg, np.integer):
            # (code that bakes an int's value in, a loop count, is keyed
            # by it; code that reads it when it runs serves every int)
            key.append(kind if by_rank else (kind, int(arg)))
        elif kind is bool or isinstance(arg, np.bool_):
            # (code that decides an assert on a flag is made for its
            # value: ``_masks.flag_decided``)
            key.append(kind if by_rank else (kind, bool(arg)))
        elif kind is float or isinstance(arg, np.generic):
            key.append(kind)
        elif taken_as_constant(arg):
            key.append((kind, arg if kind is str else _constant_key(arg)))
        else:
            leaves, spec = optree.tree_flatten(arg)
            key.append((spec, tuple(_leaf_key(leaf, by_rank)
                                    for leaf in leaves)))
    return tuple(key)


def _leaf_key(leaf: Any, by_rank: bool) -> Any:
    """``signature`` of a pytree's leaf."""
    if isinstance(leaf, (bool, int, float)):
        return type(leaf)
    shape = np.shape(leaf)
    kind = (_rank(shape) if by_rank else shape,
            getattr(leaf, "dtype", type(leaf)), isinstance(leaf, np.generic))
    return kind if by_rank else (*kind, _mask_key(leaf))


def _mask_key(leaf: Any) -> bytes | None:
    """A boolean array's values, packed: code that indexes with it (``x[
    mask]``) is made for them (``_masks``), and keyed by shapes, not ranks
    (it is "fixed"); None for any other leaf."""
    if isinstance(leaf, np.ndarray) and leaf.dtype == np.bool_:
        return np.packbits(leaf).tobytes()
    return None


def _ints(arg: Any) -> bool:
    """Whether ``arg`` is a tuple or list (of them too) of ints."""
    return type(arg) in (tuple, list) and bool(arg) and all(
        _ints(item) or isinstance(item, (int, np.integer)) for item in arg)


def _constant_key(arg: Any) -> Any:
    """What code made for the object ``arg`` is keyed by: a dataclass's
    attribute values, so that a new object with the same values (settings
    built afresh at each step of a loop) finds the code made for an equal
    one; an enum member's name; ints by their values; a function itself;
    any other object's identity."""
    if isinstance(arg, enum.Enum):
        return arg.name  # (with its class: the same in every process)
    if isinstance(arg, (tuple, list)):
        return _value_key(arg)  # of ints
    if isinstance(arg, _FUNCTIONS):
        # The function itself, held: a lambda made afresh for each call
        # may take a freed one's id, but never its place in this key.
        return arg
    if not dataclasses.is_dataclass(arg):
        return id(arg)
    state = (vars(arg).items() if hasattr(arg, "__dict__") else
             ((f.name, getattr(arg, f.name)) for f in dataclasses.fields(arg)))
    return tuple((name, _value_key(value)) for name, value in state)


# Functions, which a key holds (their equality is identity; a bound
# method's, its object's and function's).
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType,
              types.MethodType, np.ufunc)


def _value_key(value: Any) -> Any:
    """A number, string or tuple of them by its value; anything else (an
    array, an object) by identity: code that reads it holds it, so no
    other value takes its id while the code is kept."""
    kind = type(value)
    if kind in (int, bool, str, type(None)):
        return kind, value
    if kind is float or isinstance(value, np.generic):
        # (by its text: 0.0 and -0.0 are equal, nan is not nan)
        return kind, repr(value)
    if kind in (tuple, list):
        return kind, tuple(_value_key(item) for item in value)
    return kind, id(value)


def _rank(shape: tuple[int, ...]) -> tuple[bool, ...]:
    # Per axis, whether it is 1: code generated where an argument's axis
    # was 1 broadcasts it (its gradient sums over it), so an argument of
    # 3 there needs other code (a y of shape (1,) is not one of (3,)).
    return tuple(n == 1 for n in shape)


def spelled_kind(dtype: Any, sizes: list[str]) -> str:
    """A leaf's kind as a docstring says it: ``float64[N, 3]``, and a
    number's (shape ()) as its type alone, ``float32`` or ``float``."""
    return f"{dtype}[{', '.join(sizes)}]" if sizes else str(dtype)


def describe_argument(arg: Any) -> str:
    if taken_as_constant(arg):  # the code is made for this value
        if isinstance(arg, enum.Enum):
            return f"{type(arg).__name__}.{arg.name}"
        if isinstance(arg, _FUNCTIONS):
            return arg.__name__
        if isinstance(arg, str):
            return repr(arg)
        if _ints(arg):
            text = repr(arg)
            return text if len(text) <= 40 else (
                f"{type(arg).__name__} of {len(arg)} ints")
        return type(arg).__name__
    leaves, spec = optree.tree_flatten(arg)
    described = [spelled_kind(getattr(leaf, "dtype", type(leaf).__name__),
                              list(map(str, np.shape(leaf))))
                 for leaf in leaves]
    if spec.num_nodes == 1 and len(described) == 1:
        return described[0]
    return optree.tree_unflatten(spec, described).__repr__().replace("'", "")
