"""The array operations autodiff_ast differentiates, recognised by object.

Elementwise functions live in ``_rules.py``; this is the other table: NumPy
functions and array methods that reshape, reduce or multiply arrays, each
mapped to the program step it lowers to (``_lower_arrays.py``), whose
vector-Jacobian rule is in ``_backward.py`` and whose spelling in generated
code is in ``_array_codegen.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ARRAY_FUNCTIONS", "ARRAY_METHODS", "array_function",
           "UNSUPPORTED_ARRAY_FUNCTIONS"]

# NumPy function -> what it lowers to.
ARRAY_FUNCTIONS: dict[Any, str] = {
    np.dot: "dot",
    np.matmul: "matmul",
    np.sum: "sum",
    np.mean: "mean",
    np.transpose: "transpose",
    np.reshape: "reshape",
    np.stack: "stack",
    np.array: "array",
    np.asarray: "array",
    np.expand_dims: "expand_dims",
    np.outer: "outer",
    np.vdot: "vdot",
}

# Array method -> what it lowers to; the array is the first operand.
ARRAY_METHODS: dict[str, str] = {
    "dot": "dot",
    "sum": "sum",
    "mean": "mean",
    "transpose": "transpose",
    "reshape": "reshape",
}

# Recognised, refused with a reason and what to write instead.
UNSUPPORTED_ARRAY_FUNCTIONS: dict[Any, str] = {
    np.prod: "np.prod is not supported yet: its gradient divides by each "
             "factor, which is wrong at zeros; for positive x write "
             "np.exp(np.sum(np.log(x)))",
    np.einsum: "np.einsum is not supported yet: write it with np.dot, @, "
               "broadcasting and np.sum",
    np.concatenate: "np.concatenate is not supported yet: use np.stack",
    np.max: "np.max is not supported yet: use np.maximum on the elements",
    np.min: "np.min is not supported yet: use np.minimum on the elements",
}


def array_function(obj: object) -> str | None:
    """The step an object lowers to, if it is a recognised array function."""
    try:
        return ARRAY_FUNCTIONS.get(obj) or (
            "unsupported" if obj in UNSUPPORTED_ARRAY_FUNCTIONS else None)
    except TypeError:  # unhashable
        return None
