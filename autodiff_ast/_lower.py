"""Lower stage: run a function's AST symbolically into SymPy expressions.

Arguments become real SymPy symbols; statements are executed on them:
local names are bound, calls to the user's own functions are inlined by
reading their source, globals and closure cells are looked up in the
function's own namespaces, and branches on the arguments become
``Piecewise``. Float literals become exact rationals (0.1 -> 1/10) so the
algebra downstream stays exact.

Here are ``lower_primitive`` (a function of the rules table, np.tanh,
which has no source to run) and ``_Runner``, which runs a function's body
and inlines the functions it calls: the base of the array runner
(``_lower_arrays``), which adds array values, loops kept as loops and
the program of array steps. Its other parts are mixins: statements and
control flow (``_lower_statements``), expressions (``_lower_expressions``),
names and outside values (``_lower_names``), calls (``_lower_calls``) and
the checks of built values (``_lower_vetting``). What lowering produces is
in ``_lower_records``.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import math
import types
from typing import Any, Callable

from . import _fence
from ._errors import (AutodiffError, NoSourceError, ShapeError, error_at,
                      shape_error_at)
from ._forms import hypot_of_any_number
from ._functions import maximum, minimum
from ._lower_calls import Calls
from ._lower_expressions import Expressions
from ._lower_names import Names
from ._lower_records import Lowered, _Context, as_sympy, symbol
from ._lower_statements import Statements
from ._lower_vetting import Vetting
from ._partials import unwrapped
from ._rules import Primitive, namespace_of, primitive_for
from ._source import FunctionSource, get_source
from ._table_functions import primitive_parameters

__all__ = ["lower_primitive", "unbind", "readable_source"]


def lower_primitive(fn: Any, arity: int = 0) -> Lowered:
    """Lower ``fn``, a primitive of the rules table (``np.tanh``), to
    SymPy: its parameters, defaults and value. One that takes any number
    of arguments (math.hypot, max) is lowered as a function of ``arity``
    of them (its own count at least)."""
    primitive = primitive_for(fn)
    assert primitive is not None  # (functions with source: _lower_arrays)
    return _lower_primitive(fn, primitive, arity)


def unbind(fn: Any) -> tuple[types.FunctionType, tuple[Any, ...]]:
    """The Python function behind ``fn`` and the values bound to its first
    parameters (a bound method's ``self``)."""
    current = getattr(fn, "__autodiff_ast_current__", None)
    if current is not None:  # a derivative's handle: its generated code
        fn = current()
    fn = unwrapped(fn)  # functools.partial(loss, lr=0.1)
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__,
                                                       types.FunctionType):
        return fn.__func__, (fn.__self__,)
    call = getattr(type(fn), "__call__", None)
    if isinstance(call, types.FunctionType) and not isinstance(fn, type):
        return call, (fn,)  # an object called as a function: its __call__
    if not isinstance(fn, types.FunctionType):
        raise NoSourceError(
            f"cannot differentiate {fn!r}: it is neither a Python function "
            "nor a primitive in autodiff_ast's rules table. Wrap it in a "
            "function: `def f(x): return ...`.")
    return fn, ()


# The sources the fence let through, by identity (get_source gives one
# object per function while its file is unchanged): array code reads its
# function's source again for each transform and signature, and the fence
# walks the whole body five times (0.25 s for a 3000-statement function).
_FENCED: dict[int, FunctionSource] = {}
_MOST_FENCED = 4096


def readable_source(fn: types.FunctionType) -> FunctionSource:
    """``fn``'s source, past the fence."""
    source = get_source(fn)
    arguments = source.node.args
    if hasattr(fn, "__wrapped__") and (arguments.vararg or arguments.kwarg):
        raise NoSourceError(
            f"{fn.__qualname__} is a wrapper made by a decorator: its code "
            "is the wrapper's, which passes *args/**kwargs on. "
            f"Differentiate the undecorated function, "
            f"{fn.__name__}.__wrapped__, or a wrapper that names its "
            "arguments.")
    if _FENCED.get(id(source)) is not source:
        _fence.check(source)
        if len(_FENCED) >= _MOST_FENCED:
            _FENCED.clear()
        _FENCED[id(source)] = source
    return source


# Primitives that take any number of numbers, as nested calls of their
# two-argument form.
_VARIADIC: dict[Any, Callable[..., Any]] = {
    math.hypot: hypot_of_any_number,
    builtins.max: lambda *xs: functools.reduce(maximum, xs),
    builtins.min: lambda *xs: functools.reduce(minimum, xs),
}


def _lower_primitive(fn: Any, primitive: Primitive, arity: int) -> Lowered:
    if primitive.name == "where":
        raise NoSourceError(
            "np.where selects between values by a condition and has no "
            "derivative of its own: differentiate a function that calls it, "
            "e.g. `def f(x): return np.where(x > 0, x, 0.0)`.")
    variadic = _VARIADIC.get(fn)
    count = max(arity, primitive.nargs) if variadic else primitive.nargs
    module = ("builtins" if getattr(fn, "__module__", None) == "builtins"
              else namespace_of(fn) or "numpy")
    params, defaults = primitive_parameters(primitive, module, count)
    symbols = tuple(symbol(p) for p in params)
    name = (primitive.scipy_stats[0] if module == "scipy.stats"
            else fn.__name__)  # norm.logpdf
    qualified = f"{'np' if module == 'numpy' else module}.{name}"
    namespace = "math" if module == "math" else "numpy"
    try:
        output = (variadic or primitive.lower)(*symbols)
    except TypeError:  # it takes lists (math.prod, math.dist)
        form = primitive.form(module)
        raise NoSourceError(
            f"{qualified} takes {form.takes if form else 'other arguments'}"
            ", not numbers: differentiate a function that calls it with "
            "them.") from None
    return Lowered(fn.__name__, qualified, params, defaults, symbols, output,
                   namespace)


class _Runner(Statements, Expressions, Names, Calls, Vetting):
    """Executes one function body on symbolic values (the array runner's
    base: ``spawn`` and the hooks the mixins call are its)."""

    def __init__(self, fn: types.FunctionType, source: FunctionSource,
                 context: _Context) -> None:
        self.fn = fn
        self.source = source
        self.context = context
        self.cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))

    # -- errors ----------------------------------------------------------

    def error(self, node: ast.AST, message: str) -> AutodiffError:
        return error_at(node, message, self.source.filename,
                        list(self.source.lines))

    def shape_error(self, node: ast.AST, message: str) -> ShapeError:
        """The arguments' shapes do not fit the operation at ``node``
        (``message``: NumPy's words for the mismatch)."""
        return shape_error_at(node, message, self.source.filename,
                              list(self.source.lines))

    # -- entry -----------------------------------------------------------

    def call(self, arguments: dict[str, Any]) -> Any:
        # (a helper that changes one of these in place changes its caller's)
        self.passed_in = (self.source.name, tuple(arguments.values()))
        return self.body_value(self.source.node, self.fn.__code__,
                               self.source.name, dict(arguments))

    def body_value(self, node: ast.FunctionDef | ast.Lambda, key: Any,
                   name: str, scope: dict[str, Any]) -> Any:
        """What the body of ``node`` (a function, or a function defined
        inside this one) returns in ``scope``, with ``key`` marking it as
        being inlined (a call to it inside is recursion)."""
        self.context.inlining.append(key)
        try:
            if isinstance(node, ast.Lambda):
                return self.expression(node.body, scope)
            result = self.block(list(node.body), scope)
        finally:
            self.context.inlining.pop()
        if result is None:
            raise self.error(node, f"{name} does not return a value on "
                                   "every path: end each path with a "
                                   "return statement")
        return result

    def inline(self, callee: types.FunctionType, args: list[Any],
               kwargs: dict[str, Any], node: ast.Call) -> Any:
        if hasattr(callee, "__autodiff_ast_transform__"):
            # A derivative's handle called another way than by its name
            # (map(dh, xs), a default g=dh): its transform's code, and
            # what that code baked in, which this code bakes in too, as a
            # call by its name takes them.
            from ._nested import derivative_call
            if kwargs:
                raise self.error(node, f"call {callee.__name__} with its "
                                       "arguments by position here")
            return derivative_call(self, callee, args, node)
        if callee.__code__ in self.context.inlining:
            raise self.error(node, f"recursive call to {callee.__name__}: "
                                   "autodiff_ast inlines the functions it "
                                   "calls, so recursion cannot be followed; "
                                   "rewrite it as a loop over range()")
        source = readable_source(callee)
        try:
            bound = inspect.signature(callee).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(node, f"cannot call {source.name}: {exc}") from None
        bound.apply_defaults()
        arguments = {k: as_sympy(v) for k, v in bound.arguments.items()}
        return self.spawn(callee, source).call(arguments)

