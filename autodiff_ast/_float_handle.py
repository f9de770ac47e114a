"""A derivative, called at Python floats as directly as hand-written code.

A derivative (``ArrayTransform``) is generated per input signature and
finds its code on each call: at a Python float that search cost as much
as the code (2.1x the hand-written derivative), and the user held an
object whose code ``inspect.getsource`` could not show. Where the
function takes Python floats, its code for them is made when the
derivative is (``ArrayTransform.entry_at_floats``), and the user gets a
handle of that code (``make_handle``): one call at Python floats (1.2x,
with the cast of NumPy's float64 to the Python float a derivative at a
float is), and ``inspect.getsource``, ``__wrapped__`` and ``ad.source``
show the code.
Every other call (arrays, NumPy numbers, ints, pytrees, another value of
an argument that is not a number) goes on to the transform, which made
this code and makes the others. A derivative of the handle continues the
transform's chain (``transform_of``).
"""

from __future__ import annotations

import types
from typing import Any, Callable, Sequence

import optree

from ._array_transforms import ArrayTransform
from ._errors import AutodiffError
from ._handle import make_handle
from ._lower_records import Read, checked_reads
from ._output_types import Plan
from ._parameters import all_defaults

__all__ = ["float_handle", "handle_at_floats", "transform_of"]


def transform_of(fn: Any) -> Any:
    """The array transform behind a handle at floats, else ``fn``."""
    return getattr(fn, "__autodiff_ast_transform__", fn)


def handle_at_floats(transform: ArrayTransform,
                     regenerate: Callable[[], types.FunctionType]
                     ) -> tuple[types.FunctionType, Any, Plan] | None:
    """The handle over ``transform``'s code at Python floats,
    that code's entry (its source, what it baked in) and the handle's
    plan of the result; None where there is none (a jvp, a function that
    indexes or counts with an argument, a result that is not numbers in
    tuples)."""
    if transform.takes_tangents:
        return None  # (jvp casts its tangents itself)
    try:
        # (the caller keeps the handle in the disk cache, or this code)
        entry = transform.entry_at_floats(keep=False)
    except AutodiffError:
        raise  # (one it refuses at any arguments: a complex derivative)
    except Exception:
        # (anything else that fails at floats fails at the first call, as
        # it did before the code at floats was made here)
        return None
    if entry is None:
        return None
    as_made = _as_made(transform, entry.function)
    floats = [i for i in range(len(transform.at_floats()))
              if as_made is not None and i not in as_made]
    plan = _plan(entry.dtypes, entry.structure, entry.one_leaf,
                 floats[0] if floats else None)
    if as_made is None or plan is _NOT_FLOATS or not (
            entry.one_leaf or entry.returns_result):
        entry.kept()  # (no handle: the transform answers, from its code)
        return None
    handle = float_handle(transform, entry.function,
                          checked_reads(entry.lowered.reads), plan,
                          regenerate)
    assert handle is not None  # (as_made is known to be written)
    return handle, entry, plan


def float_handle(transform: ArrayTransform, function: types.FunctionType,
                 reads: Sequence[Read], plan: Plan,
                 regenerate: Callable[[], types.FunctionType]
                 ) -> types.FunctionType | None:
    """The handle over ``function``, ``transform``'s code at Python floats
    (made now or read from the disk cache), which re-checks ``reads`` and
    passes every call it does not answer on to ``transform``; None where
    a default is not one the code can write."""
    as_made = _as_made(transform, function)
    if as_made is None:
        return None
    handle = make_handle(function, reads, regenerate, transform, plan,
                         as_made)
    handle.__autodiff_ast_transform__ = transform  # type: ignore
    return handle


def _as_made(transform: ArrayTransform, function: types.FunctionType
             ) -> tuple[int, ...] | None:
    """The positions of the arguments the code at floats was made for as
    they are, their defaults (an option, a count); None where one of them
    is not written in ``function``'s signature (a function, np.sum)."""
    arguments = transform.at_floats()
    as_made = tuple(i for i, a in enumerate(arguments)
                    if a.__class__ is not float)
    written = len(all_defaults(function))
    if as_made and as_made[0] < len(arguments) - written:
        return None
    return as_made


_NOT_FLOATS = object()


def _plan(dtypes: list[Any], structure: Any, one_leaf: bool,
          position: int | None) -> Plan:
    """The handle's plan of the result (``_output_types``): each output
    the transform gives as a float, in the type of the Python float at
    ``position`` (a Python float, also where the code computes NumPy's
    float64); the others as computed.
    ``_NOT_FLOATS`` where an output is given in another type."""
    leaves = []
    for dtype in dtypes:
        if dtype is None:
            leaves.append(None)
        elif dtype is float and position is not None:
            leaves.append(position)
        else:
            return _NOT_FLOATS
    if one_leaf:
        return leaves[0]
    return _collapsed(optree.tree_unflatten(structure, leaves))


def _collapsed(plan: Plan) -> Plan:
    """``plan`` with each tuple of outputs left as computed made None (no
    cast to call there)."""
    if not isinstance(plan, tuple):
        return plan
    inner = tuple(map(_collapsed, plan))
    return None if all(p is None for p in inner) else inner
