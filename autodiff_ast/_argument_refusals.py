"""Lowering's refusals that are the arguments' fault, as InputErrors.

Array lowering runs the user's code at the arguments of a call, so some
of its refusals of the code are really refusals of those arguments:

- ``if x > 0:`` takes one number at a time. Called with an array, array
  lowering refuses the condition; where the function takes numbers
  there, the code is right and the arguments are what does not fit, so
  the refusal names the argument and says how to write the condition
  elementwise (``branch_on_arrays``).
- A string passed where the code computes with a number (``scaled(1.5,
  "3")``): lowering refuses a string used as a number (a string may be
  an option, a dict key, an aux value); where an argument holds that
  string, the argument is named (``string_as_a_number``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._errors import AutodiffError, InputError
from ._source import display_location

__all__ = ["branch_on_arrays", "string_as_a_number"]


def branch_on_arrays(error: AutodiffError, params: tuple[str, ...],
                     primals: tuple[Any, ...], where: str,
                     lowers_at_floats: Callable[[], Any]
                     ) -> InputError | None:
    """The InputError for ``error`` (array lowering's refusal of the truth
    of an array) at arguments ``primals`` of the function ``where`` names;
    None where no argument is an array, or the function does not take
    numbers either (``lowers_at_floats`` raises): the code is at fault."""
    written = getattr(error, "truth_of_an_array", None)
    if written is None:
        return None
    # (an argument that holds arrays, a dict, is no number at floats: a
    # function that takes one does not lower there)
    found = next(((name, value) for name, value in zip(params, primals)
                  if not isinstance(value, (list, tuple, dict))
                  and np.ndim(value)), None)
    if found is None:
        return None
    try:
        lowers_at_floats()
    except Exception:  # (it refuses numbers too: the code is at fault)
        return None
    name, array = found
    return _branch_refusal(where, written, getattr(error, "filename", "?"),
                           getattr(error, "lineno", "?"), name,
                           np.shape(array))


def _branch_refusal(where: str, written: str, filename: str, line: Any,
                    name: str, shape: tuple[int, ...]) -> InputError:
    """The refusal of a call of the function ``where`` names whose
    argument ``name`` is an array of ``shape`` where a Python ``written``
    (``if``, ``or``, ``while``) at ``filename``:``line`` tests it."""
    fix = ("Call the derivative on each element: a loop runs as many "
           "times as one number says" if written == "while" else
           "Write the condition with np.where(condition, a, b) to "
           "differentiate it elementwise, or call the derivative on each "
           "element")
    return InputError(
        f"{where} branches on its arguments with a Python `{written}` "
        f"({filename}:{line}), which takes one number at a time, but "
        f"argument {name} is an array of shape {shape}. {fix}.")


def string_as_a_number(error: AutodiffError, params: tuple[str, ...],
                       primals: tuple[Any, ...], where: str
                       ) -> InputError | None:
    """The InputError for ``error`` (lowering's refusal of a string used
    as a number) where an argument of the call holds that string; None
    where none does (the string is the code's own)."""
    text = getattr(error, "string_as_a_number", None)
    if text is None:
        return None
    name = next((name for name, value in zip(params, primals)
                 if isinstance(value, str) and value == text), None)
    if name is None:
        return None
    line = display_location(f"{getattr(error, 'filename', '?')}:"
                            f"{getattr(error, 'lineno', '?')}")
    return InputError(
        f"argument {name} of the derivative of {where} is a str "
        f"({text!r}), not a real number or an array of them, and the "
        f"function computes with it as a number ({line}). Pass a number.")
