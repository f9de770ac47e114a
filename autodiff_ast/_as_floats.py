"""Int numbers differentiated in array code, as the floats they stand for.

The derivative of a real function at 2 is its derivative at 2.0, a float,
so the numbers among the arguments a derivative differentiates (a Python
int, a NumPy integer, a 0-d int array) become float64 before the code is
generated and called, and the results are float64 too. An int array keeps
JAX's refusal (``_lower_arrays``): it is labels or indices far more often
than a point to differentiate at. An int that is not differentiated stays
an int, as sizes and counts must.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import optree

__all__ = ["as_floats", "FLOAT_NUMBERS"]

# Numbers that are floats already: mapping a pytree function over one
# costs more than the call it precedes (a 0-d float32 bias, 3 us of 12).
FLOAT_NUMBERS = frozenset({float, np.float64, np.float32, np.float16,
                           np.longdouble})


def as_floats(args: tuple[Any, ...], numbers: Iterable[int]
              ) -> tuple[Any, ...]:
    """``args``, with each int number in the arguments at ``numbers``
    (at any depth of their pytrees) a float: ``float`` for a Python int or
    a NumPy integer, a float64 array for a 0-d
    one."""
    converted = list(args)
    for n in numbers:
        arg = args[n]
        kind = type(arg)
        if kind in FLOAT_NUMBERS or kind is np.ndarray and \
                arg.dtype.kind == "f":
            continue  # (the usual call: nothing to look at)
        converted[n] = optree.tree_map(_as_float, arg, none_is_leaf=True)
    return tuple(converted)


def _as_float(leaf: Any) -> Any:
    if isinstance(leaf, (bool, np.bool_)):
        return leaf  # (refused as a bool is, with the fix)
    if isinstance(leaf, (int, np.integer)):
        return float(leaf)
    if isinstance(leaf, np.ndarray) and leaf.ndim == 0 \
            and leaf.dtype.kind in "iu":
        return leaf.astype(np.float64)
    return leaf
