"""Public API: grad, value_and_grad, derivative and source.

Each transform is a chain of array transforms (``_array_transforms``),
which lower the function into a program per input signature,
differentiate it and write its code; where the function takes Python
floats, the user gets the handle of its code for them (``_float_handle``),
so that calling a derivative at a float costs what its code costs.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import operator
import sys
import types
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar, overload

import numpy as np

from . import _diskcache
from ._compile import Scope, compile_function
from ._errors import ArgnumsError, AutodiffError, InputError, NoSourceError
from ._limits import collector_paused, deep_recursion
from ._float_handle import float_handle, handle_at_floats, transform_of
from ._array_transforms import ArrayTransform, Stage, describe
from ._handle import implementation
from ._lower import lower_primitive, readable_source, unbind
from ._lower_records import Lowered, Read, checked_reads
from ._allow_int import IntegerZeros, not_transformed_again
from ._argnums_per_call import PerCall, negative, positional_names
from ._parameters import all_defaults, keyword_only_names
from ._output_types import restored, stored
from ._outside_trees import holds_arrays
from ._partials import unwrapped
from ._per_count import takes_varargs, written_for
from ._rules import primitive_for, scipy_module
from ._source import display_location
from ._table_functions import array_call, array_parameters

__all__ = ["grad", "value_and_grad", "derivative", "source"]

F = TypeVar("F", bound=Callable[..., Any])
Argnums = int | Sequence[int]

_ORDINALS = {2: "Second", 3: "Third", 4: "Fourth", 5: "Fifth", 6: "Sixth",
             7: "Seventh", 8: "Eighth", 9: "Ninth", 10: "Tenth"}


@dataclass(frozen=True)
class Provenance:
    """What a generated derivative is the derivative of."""

    base: str  # the user's function name
    location: str  # where the user's function is defined
    wrt: tuple[str, ...]  # argument names, one per order of differentiation
    source: str  # the generated source


def _provenance(fn: Any) -> Provenance | None:
    return getattr(fn, "__autodiff_ast__", None)


def _derivative_name(base: str, wrt: tuple[str, ...]) -> str:
    order = len(wrt)
    if len(set(wrt)) == 1:
        if order == 1:
            return f"d{base}_d{wrt[0]}"
        return f"d{order}{base}_d{wrt[0]}{order}"
    return f"d{order}{base}_" + "_".join(f"d{w}" for w in wrt)


def _derivative_title(base: str, wrt: tuple[str, ...]) -> str:
    order = len(wrt)
    kind = ("Derivative" if order == 1 else
            f"{_ORDINALS.get(order, f'Order-{order}')} derivative")
    if len(set(wrt)) == 1:
        return f"{kind} of {base} with respect to {wrt[0]}."
    return f"{kind} of {base} with respect to {', then '.join(wrt)}."


def _normalize_argnums(argnums: Any, lowered: Lowered
                       ) -> tuple[tuple[int, ...], bool]:
    """Validated argnums as a tuple of non-negative ints, and whether the
    caller asked for a tuple."""
    count = len(lowered.positional)
    where = f"{lowered.name} ({display_location(lowered.location)})"
    described = (f"takes {count} positional argument"
                 f"{'' if count == 1 else 's'} "
                 f"({', '.join(lowered.positional)})")
    options = lowered.params[count:]
    if options:
        described += (f" and the keyword-only option"
                      f"{'' if len(options) == 1 else 's'} "
                      f"{', '.join(options)}, which argnums do not count "
                      "(make one positional to differentiate it)")
    if count == 0:
        raise ArgnumsError(f"{where} takes no arguments: there is nothing to "
                           "differentiate with respect to.")
    as_tuple = isinstance(argnums, (tuple, list))
    items = []
    for item in list(argnums) if as_tuple else [argnums]:
        try:  # any integer, as JAX takes it (np.int64(1) too)
            if isinstance(item, (bool, np.bool_)):
                raise TypeError
            items.append(operator.index(item))
        except TypeError:
            raise ArgnumsError(
                f"argnums must be an int or a tuple of ints, got "
                f"{argnums!r}. {where} {described}: pass e.g. argnums=0 or "
                "argnums=(0, 1).") from None
    if not items:
        raise ArgnumsError(
            f"argnums=() selects no argument to differentiate. {where} "
            f"{described}: pass at least one index, e.g. argnums=0.")
    normalized = []
    for item in items:
        if not -count <= item < count:
            raise ArgnumsError(
                f"argnums={argnums!r} is out of range: {where} {described}; "
                f"valid indices are 0..{count - 1} or -{count}..-1.")
        normalized.append(item % count)
    seen: set[int] = set()
    for item in normalized:
        if item in seen:
            raise ArgnumsError(
                f"argnums={argnums!r} names argument {item} "
                f"({lowered.params[item]}) twice: each argument is "
                f"differentiated once. Pass argnums="
                f"{tuple(dict.fromkeys(normalized))!r}.")
        seen.add(item)
    return tuple(normalized), as_tuple


# In-process: per function and options, a check that what the derivative
# baked in is unchanged, and the derivative.
_Entry = tuple[Callable[[], bool], types.FunctionType]
_generated: weakref.WeakKeyDictionary[Any, dict[Any, _Entry]] = \
    weakref.WeakKeyDictionary()
_generated_for_primitives: dict[Any, dict[Any, _Entry]] = {}


def _cached(fun: Callable[..., Any], argnums: Any, has_aux: bool,
            kind: str) -> types.FunctionType:
    """_generate, remembered in memory per function and options, and on
    disk across processes, while everything it baked in is unchanged."""
    options = (tuple(argnums) if isinstance(argnums, list) else argnums,
               type(argnums).__name__, has_aux, kind)
    try:
        hash(options)
    except TypeError:  # an odd argnums: validation will explain it
        return _generate(fun, argnums, has_aux, kind)
    try:
        store = _generated.setdefault(fun, {})
    except TypeError:  # no weak reference to it (some builtins)
        try:
            store = _generated_for_primitives.setdefault(fun, {})
        except TypeError:
            # Unhashable (an instance of a dataclass with __eq__, which
            # sets __hash__ to None): not remembered, made on each ask.
            store = {}
    hit = store.get(options)
    if hit is not None and hit[0]():
        return hit[1]
    code = implementation(fun)
    key = _diskcache.cache_key(code, options)
    entry = _diskcache.load(key) if key else None

    def regenerate() -> types.FunctionType:
        return _cached(fun, argnums, has_aux, kind)

    # (an entry without code at floats is an earlier version's, of code
    # made another way: made again)
    function = None if entry is None or not entry.get("at_floats") else \
        _at_floats_from_entry(
            entry, code, regenerate,
            lambda: _array_chain(_partial_written(transform_of(fun)),
                                 argnums, has_aux, kind))
    if function is not None:
        store[options] = (lambda: _diskcache.cache_key(code, options) == key,
                          function)
        return function
    generated = _generate(fun, argnums, has_aux, kind)
    at_floats = handle_at_floats(generated, regenerate)
    if at_floats is None:
        # (where the code at floats was made, there was nothing to
        # refuse: the function is lowered at floats once)
        generated.refuse_early()
        store[options] = (lambda: True, generated)
        return generated
    handle, entry, plan = at_floats
    origin = Provenance(generated.base, generated.location,
                        _orders(generated), entry.source)
    # (on the code too, as the code read back from the disk cache has
    # it: a derivative of it is keyed by what it is)
    entry.function.__autodiff_ast__ = origin  # type: ignore
    handle.__autodiff_ast__ = origin  # type: ignore[attr-defined]
    reads = entry.lowered.reads
    store[options] = (lambda: all(r.is_current() for r in reads),
                      handle)
    checked = checked_reads(reads)
    described = None if any(map(_holds_arrays, checked)) else \
        _describe_reads(checked, code)
    if key and described is not None:
        # (read back as a handle over a transform made anew, which
        # makes the code for arrays when it is first called)
        _diskcache.store(key, {**_described(origin, entry.function),
                               "reads": described,
                               "outputs": stored(plan),
                               "at_floats": True})
    else:
        entry.kept()  # (found again once the function is lowered)
    return handle


def _described(origin: Provenance, function: types.FunctionType
               ) -> dict[str, Any]:
    """What a disk-cache entry says of generated code: its source and
    name, and what it is the derivative of."""
    return {"source": origin.source, "name": function.__name__,
            "base": origin.base, "location": origin.location,
            "wrt": list(origin.wrt)}


def _holds_arrays(read: Read) -> bool:
    """Whether ``read`` baked in arrays: the disk cache's key describes
    an array by its text, which elides most of a long one."""
    return read.tree is not None or read.values is not None or \
        isinstance(read.value, np.ndarray) or holds_arrays(read.value)


def transformed(fun: Callable[..., Any], argnums: Any, has_aux: bool,
                kind: str, finish: Callable[[Any], Any] = lambda f: f
                ) -> Any:
    """``kind`` of ``fun`` (``finish`` applied to what ``_cached``
    gives), or, where a negative ``argnums`` or ``fun`` depends on how
    many arguments a call passes by position, a ``PerCall`` that makes
    it for each count."""
    spread = takes_varargs(fun) and primitive_for(fun) is None and \
        array_call(fun) is None  # (scipy.stats.norm.pdf takes *args)
    if not (isinstance(fun, PerCall) or negative(argnums) or spread):
        return finish(_cached(fun, argnums, has_aux, kind))
    per_count = functools.partial(_per_count, fun) if spread else None
    if per_count is not None:  # f(*ws): first for the least count argnums
        names = positional_names(per_count(_least_arity(argnums) or 1))
    else:
        names = positional_names(fun)
    everything = fun.at(len(fun.names)) if isinstance(fun, PerCall) \
        else fun if per_count is None else per_count(len(names or ()))
    # Made now, so bad code and bad argnums are refused here, counted
    # against the signature (a call passing every argument by position).
    full = finish(_cached(everything, argnums, has_aux, kind))
    if names is None:  # (a NumPy function: always called in full)
        return full
    origin = _provenance(full)
    where = (f"{origin.base} ({origin.location})" if origin is not None
             else f"{full.base} ({full.location})"
             if isinstance(full, ArrayTransform) else repr(fun))
    return PerCall(fun, argnums,
                   lambda f, a: transformed(f, a, has_aux, kind, finish),
                   full, names, where, per_count)


def _per_count(fun: Any, count: int) -> types.FunctionType:
    """``fun``, a function of ``*args``, written for ``count`` positional
    arguments, and said to be ``fun`` (where it is defined) in the
    derivative's docstring and errors."""
    written = written_for(fun, count)
    if _provenance(written) is None:
        function, _ = unbind(fun)
        written.__autodiff_ast__ = Provenance(  # type: ignore[attr-defined]
            written.__name__, display_location(
                readable_source(function).location), (),
            inspect.getsource(written))
    return written


_DEFAULTS = ("__defaults__", "__kwdefaults__")


def _describe_reads(reads: list[Read], fn: Any) -> list[list[Any]] | None:
    """How to find each baked value again in a later process (a global of
    ``fn``'s module or of a module by name, or a closure cell of ``fn``);
    None if one cannot be
    described, and then the derivative is not stored on disk."""
    scope = Scope.of(fn) if isinstance(
        fn, (types.FunctionType, types.MethodType)) else None
    cells = scope.cells if scope else {}
    described: list[list[Any]] = []
    for read in reads:
        if read.key in _DEFAULTS:
            if read.container is not _function_of(fn):
                continue  # a derivative's: its handle reads them again
            # (in the cache key: the code found on disk has today's)
            described.append(["defaults", None, read.key, read.as_items])
            continue
        if scope and read.container is scope.globals:
            described.append(["global", None, read.key, read.as_items])
            continue
        if isinstance(read.container, dict):
            module = sys.modules.get(str(read.container.get("__name__")))
            if module is None or vars(module) is not read.container:
                return None
            described.append(["global", module.__name__, read.key,
                              read.as_items])
            continue
        name = next((n for n, c in cells.items() if c is read.container),
                    None)
        if name is None or read.key is not None:
            return None
        described.append(["cell", name, None, read.as_items])
    return described


def _function_of(fn: Any) -> types.FunctionType | None:
    """The Python function whose defaults ``fn`` takes (a method's
    function), if it has one."""
    try:
        return unbind(fn)[0]
    except NoSourceError:
        return None


def _reads_from(described: list[list[Any]], fn: Any) -> list[Read]:
    """The reads ``_describe_reads`` described, with today's values (the
    cache key matched, so they are the values the code baked in)."""
    scope = Scope.of(fn)
    reads = []
    for kind, where, key, as_items in described:
        if kind == "defaults":
            container: Any = _function_of(fn)
            value = getattr(container, key)
        elif kind == "global":
            container = (scope.globals if where is None
                         else vars(sys.modules[where]))
            value = container[key]
        else:
            container = scope.cells[where]
            value = container.cell_contents
        if as_items:  # (keyword-only defaults: a copy of the dict)
            value = dict(value) if isinstance(value, dict) else tuple(value)
        reads.append(Read(container, key, value, bool(as_items)))
    return reads


def _code_from_entry(entry: dict[str, Any], fn: Any
                     ) -> tuple[types.FunctionType, Provenance]:
    """The generated code a disk-cache entry holds, compiled to read
    ``fn``'s globals, and what it is the derivative of (raises on a bad
    entry)."""
    scope = Scope.of(fn) if isinstance(
        fn, (types.FunctionType, types.MethodType)) else None
    function = compile_function(entry["source"], entry["name"], scope=scope)
    origin = Provenance(
        str(entry["base"]), str(entry["location"]),
        tuple(str(w) for w in entry["wrt"]), entry["source"])
    function.__autodiff_ast__ = origin  # type: ignore[attr-defined]
    return function, origin


def _at_floats_from_entry(entry: dict[str, Any], fn: Any,
                          regenerate: Callable[[], types.FunctionType],
                          chain: Callable[[], ArrayTransform]
                          ) -> types.FunctionType | None:
    """The handle at floats of array code's derivative a disk-cache entry
    holds (its transform made anew: lowered when first asked for other
    arguments); None if the entry is bad."""
    try:
        function, origin = _code_from_entry(entry, fn)
        handle = float_handle(chain(), function,
                              _reads_from(entry.get("reads", []), fn),
                              restored(entry["outputs"]), regenerate)
    except (KeyError, TypeError, ValueError, SyntaxError, AssertionError,
            IndexError):
        return None
    if handle is not None:
        handle.__autodiff_ast__ = origin  # type: ignore[attr-defined]
    return handle


def _generate(fun: Callable[..., Any], argnums: Any, has_aux: bool,
              kind: str) -> ArrayTransform:
    # (the collector paused for the whole generation, not stage by stage:
    # it would run once each stage ends, on everything the next one holds)
    with deep_recursion(getattr(fun, "__name__", repr(fun))), \
            collector_paused():
        return _generate_deeply(fun, argnums, has_aux, kind)


def _generate_deeply(fun: Callable[..., Any], argnums: Any, has_aux: bool,
                     kind: str) -> ArrayTransform:
    # (a derivative: its chain of transforms, then this one)
    fun = _partial_written(transform_of(fun))
    called = array_call(fun)  # np.linalg.det passed as it is
    if called is not None:
        spelled, op = called
        if op.refused is not None:  # np.unique
            raise NoSourceError(op.refused.format(spelled=spelled))
    return _array_chain(fun, argnums, has_aux, kind)


def _partial_written(fun: Any) -> Any:
    """``fun``, or for a ``functools.partial`` the function written for it
    (``_partials``), which says where the function it wraps is defined."""
    written = unwrapped(fun)
    if written is fun or _provenance(written) is not None:
        return written
    inner, _ = unbind(fun.func)
    written.__autodiff_ast__ = Provenance(  # type: ignore[attr-defined]
        written.__name__, display_location(
            readable_source(inner).location), (), inspect.getsource(written))
    return written


def _array_chain(fun: Any, argnums: Any, has_aux: bool,
                 kind: str) -> ArrayTransform:
    """``kind`` of a function with array operations, or of a derivative of
    one (a chain of transforms of its program), generated per input
    signature when called."""
    if isinstance(fun, ArrayTransform):
        chain = fun
    else:
        fun, location = _with_source(fun, _least_arity(argnums))
        origin = _provenance(fun)  # a functools.partial's function
        location = location or (origin.location if origin else None)
        function, bound = unbind(fun)
        source = readable_source(function)
        node = source.node
        params = tuple(a.arg for a in node.args.posonlyargs
                       + node.args.args)[len(bound):]
        chain = ArrayTransform(fun, (), params,
                               functools.partial(all_defaults, function),
                               source.name,
                               location or display_location(
                                   source.location), source.name, "")
    outline = Lowered(chain.base, chain.location, chain.params, (), (), None,
                      "numpy", keyword_only=_keyword_only(chain))
    if kind == "jvp":
        numbers, as_tuple = tuple(range(len(chain.params))), True
    else:
        numbers, as_tuple = _normalize_argnums(argnums, outline)
    wrt = tuple(chain.params[i] for i in numbers)
    stages = ((Stage("grad", numbers, as_tuple, has_aux, mode="any"),
               Stage("jacobian", numbers, as_tuple, has_aux, "hessian",
                     "forward"))
              if kind == "hessian" else
              (Stage(kind, numbers, as_tuple, has_aux),))
    base = chain.__name__ if chain.stages else chain.base
    name = f"{kind}_{base}"
    title = describe(kind, base, wrt)
    history = _orders(chain)
    at_a_number = None
    if kind == "grad" and not (as_tuple or has_aux):
        derivative = (_derivative_name(chain.base, history + wrt),
                      _derivative_title(chain.base, history + wrt))
        if history:
            # a derivative of a derivative: d3f_dx3, "Third derivative of f"
            name, title = derivative
        else:
            # a gradient, and at a number a derivative: df_dx
            at_a_number = derivative
    for stage in stages[:-1]:
        chain = chain.then(stage, name, title)
    return chain.then(stages[-1], name, title, at_a_number)


def _keyword_only(chain: ArrayTransform) -> int:
    """How many of ``chain``'s last parameters are keyword-only in the
    user's function."""
    function, _ = unbind(chain.fun)
    return len(keyword_only_names(function))


def _least_arity(argnums: Any) -> int:
    """How many arguments ``argnums`` name at the least (0 if it is not
    valid: its validation explains)."""
    items = argnums if isinstance(argnums, (tuple, list)) else [argnums]
    if any(isinstance(i, (bool, np.bool_)) for i in items):
        return 0  # (NumPy warns that a bool will stop being an index)
    try:
        return max(operator.index(i) for i in items) + 1
    except (TypeError, ValueError):
        return 0


def _with_source(fun: Any, arity: int = 0) -> tuple[Any, str | None]:
    """``fun``, or for a primitive (``np.tanh``) or an array function
    (``np.linalg.det``), whose derivatives at arrays are taken as array
    code and so from source, a generated function that calls it, with
    what it is called (``np.tanh``)."""
    called = array_call(fun)
    if called is not None:
        spelled, op = called
        name = spelled.rsplit(".", 1)[1]
        params = ", ".join(array_parameters(op))
        text = (f"def {name}({params}):\n"
                f"    return {spelled}({params})\n")
        modules = ({"scipy": scipy_module()} if spelled.startswith("scipy.")
                   else {})
        return compile_function(text, name, modules), spelled
    if primitive_for(fun) is None:
        return fun, None
    lowered = lower_primitive(fun, arity)
    params = ", ".join(lowered.params)
    # (defaults as the primitive's: scipy.stats.norm.logpdf's loc=0)
    first = len(lowered.params) - len(lowered.defaults)
    written = ", ".join(
        [*lowered.params[:first], *(f"{p}={d!r}" for p, d in zip(
            lowered.params[first:], lowered.defaults))])
    # (operator.mul is called as itself: NumPy has no np.mul)
    spelled = (f"operator.{fun.__name__}"
               if getattr(operator, getattr(fun, "__name__", ""), None)
               is fun else lowered.location)
    text = (f"def {lowered.name}({written}):\n"
            f"    return {spelled}({params})\n")
    modules: dict[str, Any] = {"builtins": builtins, "operator": operator}
    if lowered.location.startswith("scipy."):  # scipy.special.expit
        importlib.import_module(lowered.location.rsplit(".", 2)[0])
        modules["scipy"] = sys.modules["scipy"]
    return compile_function(text, lowered.name, modules), spelled


def _orders(chain: ArrayTransform) -> tuple[str, ...]:
    """The arguments of a chain of plain derivatives (grad of one argument,
    no aux), one per order; () if it is anything else."""
    names = []
    for stage in chain.stages:
        if stage.kind != "grad" or stage.as_tuple or stage.has_aux:
            return ()
        names.append(chain.params[stage.argnums[0]])
    return tuple(names)


def real_only(transform: str, holomorphic: bool = False) -> None:
    """JAX's ``holomorphic`` keyword, taken at the value autodiff_ast
    implements: ``holomorphic=True`` (complex derivatives) is refused."""
    if holomorphic:
        raise InputError(
            f"{transform}(holomorphic=True): autodiff_ast differentiates "
            "real-valued code only; differentiate the real and imaginary "
            "parts as real functions, or drop holomorphic=True.")


def derivative_of(fun: Callable[..., Any], argnums: Any, has_aux: bool,
                  kind: str, allow_int: bool,
                  finish: Callable[[Any], Any] = lambda f: f) -> Any:
    """What a public transform returns: ``transformed``; with
    ``allow_int``, one that gives the integer arguments among ``argnums``
    zeros at each call (``_allow_int``)."""
    not_transformed_again(fun)
    derivative = transformed(fun, argnums, has_aux, kind, finish)
    if not allow_int:
        return derivative
    return IntegerZeros(fun, argnums, has_aux, kind, derivative,
                        lambda floats: transformed(fun, floats, has_aux,
                                                   kind, finish))


@overload
def grad(fun: F, argnums: Argnums = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False) -> F: ...
@overload
def grad(fun: None = None, argnums: Argnums = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False
         ) -> Callable[[F], F]: ...


def grad(fun: Callable[..., Any] | None = None, argnums: Argnums = 0,
         has_aux: bool = False, holomorphic: bool = False,
         allow_int: bool = False) -> Any:
    """The gradient of ``fun`` with respect to the argument(s) ``argnums``.

    Returns a generated Python function with ``fun``'s signature. With a
    tuple ``argnums`` it returns a tuple of gradients; with ``has_aux=True``
    ``fun`` returns ``(value, aux)`` and the result returns ``(grad, aux)``.
    Works as a decorator, bare or with arguments. ``holomorphic`` is
    JAX's keyword: complex derivatives are refused.

    Integers: by default an int number is taken as the float it stands for
    (``grad(f)(2)`` is ``grad(f)(2.0)``), and an int or bool array is
    refused. With ``allow_int=True``, as in JAX, an argument among
    ``argnums`` that holds integers or bools (a Python int or bool, a
    NumPy integer or bool, an array or pytree of them) is a constant, and
    its gradient a zero of its shape standing for JAX's float0: ``0.0``
    for a Python int or bool, ``np.float64(0.0)`` for a NumPy scalar,
    ``np.zeros(shape)`` for an array (an int number inside a pytree of
    floats gets a zero too). The code that runs is the gradient with
    respect to the other arguments; ``ad.source(df, *args)`` prints it.

    >>> import autodiff_ast as ad
    >>> df = ad.grad(lambda x: x**3 + 2*x**2 - 3*x + 1)
    >>> df(1.0)
    4.0
    """
    real_only("grad", holomorphic)
    if fun is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux,
                                 allow_int=allow_int)
    return derivative_of(fun, argnums, has_aux, "grad", allow_int)


def value_and_grad(fun: Callable[..., Any] | None = None,
                   argnums: Argnums = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False
                   ) -> Any:
    """Like :func:`grad`, but the result returns ``(value, grad)``.

    Value and gradient are computed in one pass that shares their common
    subexpressions. With ``has_aux=True`` it returns ``((value, aux), grad)``.
    ``allow_int=True`` gives integer arguments zeros, as :func:`grad`
    does.

    >>> import math
    >>> import autodiff_ast as ad
    >>> value, slope = ad.value_and_grad(lambda x: math.sin(x) * x)(0.0)
    >>> value, slope
    (0.0, 0.0)
    """
    real_only("value_and_grad", holomorphic)
    if fun is None:
        return functools.partial(value_and_grad, argnums=argnums,
                                 has_aux=has_aux, allow_int=allow_int)
    return derivative_of(fun, argnums, has_aux, "value_and_grad", allow_int)


def derivative(fun: Callable[..., Any], n: int = 1) -> Callable[..., Any]:
    """The n-th derivative of ``fun`` with respect to its first argument.

    Each order is generated from the source of the previous one, so every
    intermediate derivative is real code too. ``n=0`` returns ``fun``.

    >>> import numpy as np
    >>> import autodiff_ast as ad
    >>> d3 = ad.derivative(np.sin, 3)
    >>> float(d3(0.0))
    -1.0
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise AutodiffError(f"n must be a non-negative int, got {n!r}")
    result = fun
    for _ in range(n):
        result = grad(result)
    return result


def source(fn: Callable[..., Any], *example_args: Any,
           **example_kwargs: Any) -> str:
    """The generated source of a function made by autodiff_ast.

    The derivative of array code is generated per input signature
    (structure, shapes, dtypes): pass example arguments to see it, as
    you would call it, by position or by name (without them, it shows the
    code its calls ran, if they ran at one signature, else the code for a
    Python float in each parameter, where the function takes numbers).
    So is a Jacobian or Hessian of
    elementwise code at arrays (JAX's shape): example arrays show that
    code, numbers the elementwise one.

    >>> import autodiff_ast as ad
    >>> print(ad.source(ad.grad(lambda x: x**2)))  # doctest: +ELLIPSIS
    def dlambda_dx(x):
    ...
        return 2 * x
    <BLANKLINE>
    """
    if isinstance(fn, IntegerZeros):  # allow_int=True: the code that runs
        fn = fn.answering(example_args, example_kwargs) if (
            example_args or example_kwargs) else fn.made
    if isinstance(fn, PerCall):  # a negative argnums: counts the call's
        fn = fn.at(len(example_args) or len(fn.names))
    if (example_args or example_kwargs) and transform_of(fn) is not fn:
        fn = transform_of(fn)  # array code: the code for these arguments
    if isinstance(fn, ArrayTransform):
        if example_args or example_kwargs:
            return fn.source_for(example_args, example_kwargs)
        run = fn.sources_run()
        if len(run) == 1:  # the code its calls ran
            return run[0]
        at_floats = fn.entry_at_floats()  # (none run, or several)
        if at_floats is not None:
            return at_floats.source
        raise AutodiffError(
            f"{fn.__name__} is generated per input signature (its code "
            "depends on the arguments' structure, shapes and dtypes), and "
            + ("it has not been called yet" if not run else
               f"it has run at {len(run)} of them")
            + ": pass example arguments, e.g. ad.source(df, W, b).")
    origin = _provenance(fn)
    if origin is None:
        raise AutodiffError(
            f"{getattr(fn, '__qualname__', fn)!r} was not generated by "
            "autodiff_ast: ad.source prints the code of functions returned "
            "by grad, value_and_grad and derivative. For your own "
            "function use inspect.getsource.")
    return origin.source
