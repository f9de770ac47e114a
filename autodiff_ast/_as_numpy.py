"""A derivative at a point where Python's float arithmetic raises.

Generated code divides as the user's code does, but at Python floats
``1 / x`` raises ZeroDivisionError at 0.0 and ``x ** 2`` OverflowError at
1e200, where the user's NumPy code (np.log(0.0) is -inf) and JAX give
inf, and where the same derivative at an np.float64 gives inf with
NumPy's RuntimeWarning. So a handle that meets one of these errors calls
its code once more as NumPy would run it (``numeric_retry``): its Python
floats as np.float64, and the math module's functions as NumPy's
(``0.5 / math.sqrt(x)`` divides a Python float even at an np.float64),
under the caller's np.errstate, so warnings (or errors) are NumPy's. The
printed source keeps its namespace; only this second call reads NumPy.

The retry costs nothing until an error is raised: the handle's ``try``
is free in Python 3.11 and later, and a test of the errors' classes is
all the handle adds. An error the NumPy call raises too, or any other,
is the first error raised again: the derivative is not defined there.
"""

from __future__ import annotations

import math
import sys
import types
from typing import Any, Callable

import numpy as np

__all__ = ["ARITHMETIC", "CAUGHT", "numeric_retry", "real"]

# What the handle catches: what Python floats raise where NumPy warns;
# as the handle's ``except`` spells it (builtins, read only when raised).
ARITHMETIC = (ZeroDivisionError, OverflowError)
CAUGHT = f"({', '.join(error.__name__ for error in ARITHMETIC)})"

# math's spellings whose NumPy function has another name.
_RENAMED = {"asin": "arcsin", "acos": "arccos", "atan": "arctan",
            "atan2": "arctan2", "asinh": "arcsinh", "acosh": "arccosh",
            "atanh": "arctanh", "pow": "power"}


def _numpy_math() -> types.SimpleNamespace:
    """The math module with each function NumPy has as a ufunc replaced
    by that ufunc (constants and the rest as math has them)."""
    names = {}
    for name in dir(math):
        if name.startswith("_"):
            continue
        ufunc = getattr(np, _RENAMED.get(name, name), None)
        names[name] = (ufunc if isinstance(ufunc, np.ufunc)
                       else getattr(math, name))
    return types.SimpleNamespace(**names)


_NUMPY_MATH = _numpy_math()


def numeric_retry(function: types.FunctionType,
                  cast: Callable[[Any, tuple[Any, ...]], Any] | None = None
                  ) -> Callable[..., Any]:
    """The retry of a handle of generated ``function``: called from the
    handle's ``except`` with its arguments (checked, and filled in), it
    calls ``function`` again with Python floats as np.float64 and
    ``math`` as NumPy, in the globals as they are now, and casts the
    result (``cast(result, arguments)``) as the handle does; where that
    raises, the first error again."""

    def numeric(*args: Any, **keywords: Any) -> Any:
        error = sys.exc_info()[1]
        code = function.__code__
        scope = {name: _NUMPY_MATH if value is math else value
                 for name, value in function.__globals__.items()}
        numpy_function = types.FunctionType(code, scope, code.co_name,
                                            function.__defaults__,
                                            function.__closure__)
        numpy_function.__kwdefaults__ = function.__kwdefaults__
        floats = tuple(np.float64(a) if a.__class__ is float else a
                       for a in args)
        named = {k: np.float64(a) if a.__class__ is float else a
                 for k, a in keywords.items()}
        try:
            result = numpy_function(*floats, **named)
        except Exception:  # (undefined there: say what the first call said)
            assert error is not None
            raise error from None
        return result if cast is None else cast(
            result, (*floats, *named.values()))

    return numeric


def real(value: Any) -> Any:
    """An argument a derivative is taken with respect to, as a real
    number: an integer as the float it stands for (a derivative at 2 is
    the derivative at 2.0, a float), an array of integers as floats;
    anything else as it is."""
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return value.astype(np.float64)
    return value
