"""Functions of the rules tables given to a transform directly:
``ad.grad(np.linalg.det)``, ``ad.jacobian(scipy.special.softmax)``,
``ad.grad(scipy.stats.norm.logpdf)``. Each is differentiated as the
one-line function that calls it (``def logsumexp(a): return
scipy.special.logsumexp(a)``), so every transform gives what it gives
for that call in the user's own function; here is how that call is
spelled and which parameters (with their defaults) it takes.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._array_rules import array_function, spelled_function
from ._ops_scipy import scipy_row, scipy_spelling
from ._program import ArrayOp
from ._rules import Primitive

__all__ = ["array_call", "array_parameters", "primitive_parameters"]


def array_call(fun: Any) -> tuple[str, ArrayOp] | None:
    """How code calls an array function of the tables (``np.linalg.det``,
    ``scipy.special.logsumexp``) and its row; None for anything else."""
    spelled = spelled_function(fun)
    if spelled is not None:
        return spelled, array_function(fun)  # type: ignore[return-value]
    spelled = scipy_spelling(fun)
    if spelled is not None:
        return spelled, scipy_row(fun)  # type: ignore[return-value]
    return None


def array_parameters(op: ArrayOp) -> list[str]:
    """The arguments an array function given directly takes: those its
    lowering takes without a default (np.linalg.solve: a, b), named as
    NumPy and SciPy name them."""
    assert op.lower is not None
    return [p.name for p in list(inspect.signature(
        op.lower).parameters.values())[1:]
        if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]


def primitive_parameters(primitive: Primitive, module: str, count: int
                         ) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The parameters of a primitive given directly, and the defaults of
    the last ones: scipy.stats.norm.logpdf's are (x, loc, scale) with
    loc=0 and scale=1, as SciPy's (and JAX's); others take ``count``
    numbers, x, y, z (x0, x1, ... beyond three)."""
    form = primitive.form(module)
    if module == "scipy.stats" and form is not None:
        parameters = inspect.signature(form.lower).parameters.values()
        return (tuple(p.name for p in parameters),
                tuple(p.default for p in parameters
                      if p.default is not p.empty))
    return ((("x", "y", "z")[:count] if count <= 3
             else tuple(f"x{i}" for i in range(count))), ())
