"""``functools.partial`` objects as functions with source.

``ad.grad(functools.partial(loss, lr=0.1))`` is how hyperparameters are
fixed before differentiating, in JAX as in NumPy code. A partial has no
source of its own, so it is read as the function a person would write for
it: the arguments it leaves open, and a call of the wrapped function with
the values it binds, each read by the name of the parameter it binds (the
derivative then reads ``lr`` when it runs, as it reads a global).
``argnums`` count the arguments it leaves open, as JAX's do.
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
    bound.update(fun.keywords)
    open_ = [p.name for p in remaining
             if p.kind in _OPEN and p.name not in bound]
    callee = unique_name("wrapped", {name} | set(bound) | set(open_))
    arguments = [*bound][:len(fun.args)] + open_ + [
        f"{key}={key}" for key in fun.keywords]
    text = (f"def {name}({', '.join(open_)}):\n"
            f"    return {callee}({', '.join(arguments)})\n")
    function = compile_function(text, name, {callee: fun.func, **bound})
    function.__doc__ = fun.func.__doc__
    # The defaults of the arguments it leaves open, as the partial has
    # them (partial(f, b=5.0) of f(x, a=1.0, b=2.0) is still called f(x)).
    defaults = tuple(p.default for p in remaining
                     if p.kind in _OPEN and p.name not in bound
                     and p.default is not p.empty)
    function.__defaults__ = defaults or None
    return function

