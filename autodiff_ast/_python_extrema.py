"""Python's builtin ``max`` and ``min`` of two numbers, whose ties differ
from ``np.maximum``'s and ``np.minimum``'s.

``max(a, b)`` returns ``a`` unless ``b > a`` (``min(a, b)``: unless
``b < a``), so at a tie the whole derivative goes to the first argument;
JAX's gradient of the builtin is the same, (1.0, 0.0). ``np.maximum``
splits a tie equally, 0.5 each, as ``jnp.maximum`` does. Each function
here is the table's maximum or minimum (same value, printing, eval and
assumptions; ``isinstance`` checks see it as one) with Python's partial
derivatives.
"""

from __future__ import annotations

import sympy as sp

from ._functions import heaviside, maximum, minimum

__all__ = ["first_maximum", "first_minimum"]


def _first_wins(function: type) -> type:
    """A subclass of ``function`` whose partial derivatives are the steps
    of ``a - b`` (for ``max``; ``b - a`` for ``min``) that take 1 at a
    tie for the first argument and 0 for the second."""
    sign = 1 if function is maximum else -1

    def fdiff(self: sp.Function, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        if argindex == 1:
            return heaviside(sign * (a - b), sp.S.One)
        return heaviside(sign * (b - a), sp.S.Zero)

    return type(f"first_{function.__name__}", (function,),
                {"fdiff": fdiff})


first_maximum = _first_wins(maximum)
first_minimum = _first_wins(minimum)
