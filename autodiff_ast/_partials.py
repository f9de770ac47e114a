"""``functools.partial`` objects as functions with source.

``ad.grad(functools.partial(loss, lr=0.1))`` is how hyperparameters are
fixed before differentiating, in JAX as in NumPy code. A partial has no
source of its own, so it is read as the function a person would write for
it: the arguments it leaves open, and a call of the wrapped function with
the values it binds. A value bound by position is read by the name of the
parameter it binds (the derivative then reads it when it runs, as it
reads a global); one bound by keyword is that keyword-only parameter's
default, as ``inspect.signature`` of the partial has it, so a call may
pass another. ``argnums`` count the arguments it leaves open by position,
as JAX's do.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from typing import Any

from ._compile import compile_function
from ._errors import NoSourceError
from ._program import unique_name

__all__ = ["unwrapped"]

_OPEN = (inspect.Parameter.POSITIONAL_ONLY,
         inspect.Parameter.POSITIONAL_OR_KEYWORD)


# The function written for each partial while the partial lives (lowering
# asks again for each transform and input signature).
_WRITTEN: weakref.WeakKeyDictionary[functools.partial[Any], Any] = \
    weakref.WeakKeyDictionary()


def unwrapped(fun: Any) -> Any:
    """``fun``, or for a ``functools.partial`` a function with source that
    does what it does."""
    if not isinstance(fun, functools.partial):
        return fun
    written = _WRITTEN.get(fun)
    if written is None:
        written = _WRITTEN[fun] = _written(fun)
    return written


def _written(fun: functools.partial[Any]) -> Any:
    name = getattr(fun.func, "__name__", "")
    if not name.isidentifier():  # a lambda's is <lambda>
        name = "partial"
    try:
        wrapped = list(inspect.signature(fun.func).parameters.values())
        remaining = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError) as exc:
        raise NoSourceError(f"cannot differentiate {fun!r}: {exc}") from exc
    if any(p.kind is p.VAR_POSITIONAL for p in wrapped):
        raise NoSourceError(
            f"cannot differentiate {fun!r}: the function it wraps takes "
            "*args. Wrap it in a function that names its arguments")
    if len(fun.args) > len([p for p in wrapped if p.kind in _OPEN]):
        raise NoSourceError(f"cannot differentiate {fun!r}: it binds more "
                            "arguments than its function takes")
    bound = {p.name: value for p, value in zip(wrapped, fun.args)}
    # The partial's own signature: the parameters it leaves open, with
    # the defaults it leaves them; those it binds by keyword, and those
    # after them, keyword-only, with the values bound as their defaults
    # (partial(f, b=5.0) of f(x, a=1.0, b=2.0) is still called f(x),
    # and f(x, b=7.0) overrides b, as Python's partial does).
    open_ = [p for p in remaining if p.kind in _OPEN]
    keywords = [p for p in remaining if p.kind is p.KEYWORD_ONLY]
    _check_trailing(fun, open_ + keywords)
    callee = unique_name("wrapped", {name} | set(bound) | {
        p.name for p in open_ + keywords})
    parameters = [p.name for p in open_] + (
        ["*"] + [p.name for p in keywords] if keywords else [])
    arguments = [*bound] + [p.name for p in open_] + [
        f"{p.name}={p.name}" for p in keywords]
    text = (f"def {name}({', '.join(parameters)}):\n"
            f"    return {callee}({', '.join(arguments)})\n")
    function = compile_function(text, name, {callee: fun.func, **bound})
    function.__doc__ = fun.func.__doc__
    function.__defaults__ = tuple(p.default for p in open_
                                  if p.default is not p.empty) or None
    function.__kwdefaults__ = {p.name: p.default for p in keywords
                               if p.default is not p.empty} or None
    return function


def _check_trailing(fun: functools.partial[Any],
                    parameters: list[inspect.Parameter]) -> None:
    """Refuse a partial whose parameters with defaults are not a tail: a
    derivative takes its keyword-only parameters as trailing ones (see
    ``_parameters``), as for a function written so."""
    start = next((i for i, p in enumerate(parameters)
                  if p.default is not p.empty), len(parameters))
    later = next((p.name for p in parameters[start:]
                  if p.default is p.empty), None)
    if later is None:
        return
    # (bound by keyword: a function's own defaults are a tail)
    first = parameters[start].name
    raise NoSourceError(
        f"cannot differentiate {fun!r}: it binds {first} by keyword, so "
        f"{later}, after it, can only be passed by keyword and has no "
        f"default, which a derivative cannot take as a trailing argument: "
        f"bind {later} too, or bind the arguments before it by position")
