"""A function of ``*args``, taken for the arguments each call passes.

JAX differentiates ``def f(*ws)`` at the arguments a call gives it, each
one a parameter that ``argnums`` counts. A derivative here is code with
named parameters, so for each count of positional arguments the function
is read as the one a person would write for that call::

    def f(ws_0, ws_1):
        return wrapped(ws_0, ws_1)

whose call inlines the user's own function (``ws`` bound to the tuple of
the two, as Python binds it), so errors still point at the user's lines.
``_argnums_per_call.PerCall`` makes a derivative per count.
"""

from __future__ import annotations

import inspect
import types
import weakref
from typing import Any

from ._compile import compile_function
from ._errors import NoSourceError
from ._program import unique_name

__all__ = ["takes_varargs", "written_for"]

# The function written for each count, while the user's function lives.
_WRITTEN: weakref.WeakKeyDictionary[Any, dict[int, types.FunctionType]] = \
    weakref.WeakKeyDictionary()


def _function(fun: Any) -> Any:
    return fun.__func__ if isinstance(fun, types.MethodType) else fun


def takes_varargs(fun: Any) -> bool:
    """Whether ``fun`` is a Python function (or method) with ``*args``."""
    function = _function(fun)
    return isinstance(function, types.FunctionType) and bool(
        function.__code__.co_flags & inspect.CO_VARARGS)


def written_for(fun: Any, count: int) -> types.FunctionType:
    """``fun`` (which takes ``*args``) as a function of ``count``
    positional arguments, each named."""
    try:
        known = _WRITTEN.setdefault(fun, {})
    except TypeError:  # (a bound method is made anew on each access)
        known = {}
    written = known.get(count)
    if written is None:
        written = known[count] = _written(fun, count)
    return written


def _written(fun: Any, count: int) -> types.FunctionType:
    function = _function(fun)
    code = function.__code__
    name = function.__name__ if function.__name__.isidentifier() \
        else "function"
    named = list(code.co_varnames[:code.co_argcount])
    if isinstance(fun, types.MethodType):
        named = named[1:]
    if code.co_kwonlyargcount:
        raise NoSourceError(
            f"cannot differentiate {function.__qualname__}: it takes "
            "keyword-only arguments after *args. Make them positional, "
            "before *args, or bind them with functools.partial.")
    rest = code.co_varnames[code.co_argcount]
    params = named + [f"{rest}_{i}" for i in range(count - len(named))]
    callee = unique_name("wrapped", {name, *params})
    text = (f"def {name}({', '.join(params)}):\n"
            f"    return {callee}({', '.join(params)})\n")
    written = compile_function(text, name, {callee: fun})
    if len(params) == len(named):  # (defaults only where they stay a tail)
        written.__defaults__ = function.__defaults__
    written.__doc__ = function.__doc__
    return written
