"""A negative ``argnums`` counts the positional arguments of each call.

JAX resolves ``argnums=-1`` against the arguments a call passes by
position, not against the signature: ``grad(f, -1)(x, y)`` of
``f(x, y, scale=2.0)`` is d/dy, and ``grad(f, -1)(x, y, 3.0)`` is
d/dscale. So a transform with a negative index is a ``PerCall``: each call
counts its positional arguments and is answered by the derivative (generated
once, cached as any other) for the non-negative indices that count gives.
A derivative of a ``PerCall`` (``grad(grad(f, -1))``) is one too, taken of
the derivative each count selects. So is a transform of a function of
``*args``: each count of arguments is a function of its own
(``_per_count``), whose parameters ``argnums`` count.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any, Callable

import numpy as np

from ._errors import ArgnumsError

__all__ = ["PerCall", "Wrapping", "negative", "positional_names"]


def negative(argnums: Any) -> bool:
    """Whether ``argnums`` holds a negative integer (anything else its
    validation explains)."""
    items = argnums if isinstance(argnums, (tuple, list)) else [argnums]
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            continue
        try:
            if operator.index(item) < 0:
                return True
        except TypeError:
            continue
    return False


def positional_names(fun: Any) -> tuple[str, ...] | None:
    """The names of the parameters ``fun`` takes by position (None when
    its signature cannot be read)."""
    if isinstance(fun, PerCall):
        return fun.names
    try:
        parameters = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    return tuple(p.name for p in parameters
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class Wrapping:
    """A callable standing for a derivative it makes answer (``PerCall``,
    ``allow_int``'s ``IntegerZeros``): named, documented and shown as
    that derivative."""

    def show_as(self, derivative: Any) -> None:
        for shown in ("__name__", "__qualname__", "__doc__",
                      "__autodiff_ast__"):
            if hasattr(derivative, shown):
                setattr(self, shown, getattr(derivative, shown))

    def __repr__(self) -> str:
        return f"<autodiff_ast {getattr(self, '__name__', 'derivative')}>"


class PerCall(Wrapping):
    """A transform whose ``argnums`` (or whose function) depends on how
    many arguments each call passes by position.

    ``make(function, argnums)`` transforms ``function`` (the user's, or
    what the inner ``PerCall`` selects for the count) with ``argnums``
    made non-negative; ``full`` is its result for a call that passes every
    positional argument, made when the transform is asked for, so bad
    code and bad ``argnums`` are refused there as for any transform.
    """

    def __init__(self, fun: Any, argnums: Any,
                 make: Callable[[Any, Any], Any], full: Any,
                 names: tuple[str, ...], where: str,
                 per_count: Callable[[int], Any] | None = None) -> None:
        self.fun = fun
        self.argnums = argnums
        self.make = make
        self.names = names
        self.where = where
        # For a function of *args: the function each count reads it as.
        self.per_count = per_count
        self.made: dict[int, Any] = {len(names): full}
        self.show_as(full)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.at(len(args))(*args, **kwargs)

    def at(self, count: int) -> Any:
        """The derivative that answers a call passing ``count`` arguments
        by position."""
        made = self.made.get(count)
        if made is None:
            if count > len(self.names) and not self.spreads:
                return self.made[len(self.names)]  # Python's TypeError
            inner = self.fun.at(count) if isinstance(self.fun, PerCall) \
                else self.per_count(count) if self.per_count is not None \
                else self.fun
            made = self.make(inner, self._resolved(count))
            self.made[count] = made
        return made

    @property
    def spreads(self) -> bool:
        """Whether it takes any number of arguments (``*args``)."""
        return self.per_count is not None or (
            isinstance(self.fun, PerCall) and self.fun.spreads)

    def names_at(self, count: int) -> tuple[str, ...]:
        """The names of the first ``count`` positional arguments."""
        if self.per_count is not None:
            return positional_names(self.per_count(count))[  # type: ignore
                :count]
        if isinstance(self.fun, PerCall):
            return self.fun.names_at(count)
        return self.names[:count]

    def _resolved(self, count: int) -> Any:
        """``argnums`` counted against ``count`` positional arguments, as
        JAX counts them: refused where an index is out of that range or
        names an argument twice."""
        as_tuple = isinstance(self.argnums, (tuple, list))
        items = list(self.argnums) if as_tuple else [self.argnums]
        passed = self.names_at(count)
        described = (f"{self.where} was called with {count} positional "
                     f"argument{'' if count == 1 else 's'}"
                     + (f" ({', '.join(passed)})" if passed else ""))
        numbers = []
        for item in map(operator.index, items):
            if count <= item and self.spreads:
                raise ArgnumsError(
                    f"argnums={self.argnums!r} is out of range for this "
                    f"call: {described}, and argnums count the arguments "
                    "passed, as in JAX. Pass the argument it names.")
            if not -count <= item < count:
                raise ArgnumsError(
                    f"argnums={self.argnums!r} is out of range for this "
                    f"call: {described}, and a negative index counts the "
                    "arguments passed by position, as in JAX. Pass the "
                    "argument by position, or name it with a non-negative "
                    "index.")
            numbers.append(item % count)
        if len(set(numbers)) < len(numbers):
            raise ArgnumsError(
                f"argnums={self.argnums!r} names an argument twice in this "
                f"call: {described}, and a negative index counts those, as "
                "in JAX. Pass every argument by position, or name each "
                "with a non-negative index.")
        return tuple(numbers) if as_tuple else numbers[0]
