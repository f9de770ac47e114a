"""How calls whose arguments differ from their SymPy function's lower.

A row of the rules table (``_rules.py``) lowers a call of ``nargs``
numbers by its SymPy function. Some callables take more: an optional
argument (``math.log(x, base)``), any number (``math.hypot``), lists
(``math.dist``, ``math.prod``), None for an absent bound (``np.clip(x, 0,
None)``) or keywords (``scipy.stats.norm.logpdf(x, loc, scale)``). Each
such call is a ``Form`` of its row: a function that builds the SymPy
expression from the arguments as called (numbers as SymPy, lists as
tuples, None as None) and raises TypeError for arguments the callable
does not take, which lowering reports at the user's call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

from ._functions import (absolute, clip, hypot, log_ndtr, maximum, minimum,
                         ndtr)

__all__ = ["Form", "log_with_base", "hypot_of_any_number", "distance",
           "product", "clip_with_open_bounds", "norm_logpdf", "norm_pdf",
           "norm_cdf", "norm_logcdf"]


@dataclass(frozen=True)
class Form:
    """A call that takes other arguments than the SymPy function's: an
    optional one (``math.log(x, base)``), any number (``math.hypot``), a
    None (``np.clip(x, 0, None)``) or keywords. ``lower`` gets the
    arguments as called, None as None and numbers as SymPy; ``takes`` says
    what it takes, for the error at a call it cannot bind."""

    namespace: str
    lower: Callable[..., sp.Expr]
    takes: str


def _given(*values: sp.Expr | None) -> None:
    if any(value is None for value in values):
        raise TypeError("None")


def log_with_base(x: sp.Expr, *base: sp.Expr) -> sp.Expr:
    """``math.log(x)`` or ``math.log(x, base)``."""
    if len(base) > 1:
        raise TypeError("too many arguments")
    _given(x, *base)
    return sp.log(x) / sp.log(base[0]) if base else sp.log(x)


def hypot_of_any_number(*coordinates: sp.Expr) -> sp.Expr:
    """``math.hypot(*coordinates)`` (any number since Python 3.8), as
    nested two-argument hypots: NumPy's hypot takes two, and each step
    scales as hypot does, so none overflows where the result does not."""
    _given(*coordinates)
    if len(coordinates) < 2:
        return absolute(coordinates[0]) if coordinates else sp.S.Zero
    result = coordinates[0]
    for coordinate in coordinates[1:]:
        result = hypot(result, coordinate)
    return result


def _points(*values: Any) -> None:
    if not all(isinstance(value, tuple) for value in values):
        raise TypeError("not a list or tuple")
    _given(*(item for value in values for item in value))


def distance(p: tuple[sp.Expr, ...], q: tuple[sp.Expr, ...]) -> sp.Expr:
    """``math.dist(p, q)``: the hypot of the differences."""
    _points(p, q)
    if len(p) != len(q):
        raise TypeError("points of different dimensions")
    return hypot_of_any_number(*(a - b for a, b in zip(p, q)))


def product(items: tuple[sp.Expr, ...], *, start: sp.Expr = 1) -> sp.Expr:
    """``math.prod(items, start=1)``."""
    _points(items)
    _given(start)
    return sp.Mul(start, *items)


def clip_with_open_bounds(a: sp.Expr, *bounds: sp.Expr | None,
                           **named: sp.Expr | None) -> sp.Expr:
    """``np.clip(a, a_min, a_max)``, or with NumPy 2.1's ``min=`` and
    ``max=`` (either may be left out); a bound that is None (or left out)
    is not there, so the clip is a maximum or a minimum (whose ties share
    the derivative, as JAX's clip's do)."""
    given = dict(zip(("a_min", "a_max"), bounds))
    if len(bounds) > 2 or set(named) & set(given) or \
            set(named) - {"a_min", "a_max", "min", "max"}:
        raise TypeError("arguments np.clip does not take")
    given.update(named)
    if {"min", "max"} & set(given):
        if {"a_min", "a_max"} & set(given):
            raise TypeError("both a_min/a_max and min/max")
        low, high = given.get("min"), given.get("max")
    elif len(given) == 2:
        low, high = given["a_min"], given["a_max"]
    else:
        raise TypeError("a bound is missing")
    _given(a)
    if low is None:
        return a if high is None else minimum(a, high)
    return maximum(a, low) if high is None else clip(a, low, high)


def _standardized(x: sp.Expr, loc: sp.Expr, scale: sp.Expr) -> sp.Expr:
    _given(x, loc, scale)
    return (x - loc) / scale


# scipy.stats.norm's methods, lowered to arithmetic and scipy.special's
# ndtr and log_ndtr (whose derivatives are stable in the tails).
def norm_logpdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                 ) -> sp.Expr:
    z = _standardized(x, loc, scale)
    return -z ** 2 / 2 - sp.log(scale) - sp.log(2 * sp.pi) / 2


def norm_pdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1) -> sp.Expr:
    z = _standardized(x, loc, scale)
    return sp.exp(-z ** 2 / 2) / (sp.sqrt(2 * sp.pi) * scale)


def norm_cdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1) -> sp.Expr:
    return ndtr(_standardized(x, loc, scale))


def norm_logcdf(x: sp.Expr, loc: sp.Expr = 0, scale: sp.Expr = 1
                 ) -> sp.Expr:
    return log_ndtr(_standardized(x, loc, scale))
