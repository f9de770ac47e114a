"""The lower stage's calls: what a call reaches, and how it is lowered.

A call may build or read a container, call a function defined inside the
one lowered, differentiate (``ad.grad(f)(x)``), or call a primitive of the
rules table (in one of its forms, such as ``math.log(x, base)``), a SciPy
function of the array table, or the user's own function, object or
method, which is inlined. Library code that is none of these is refused.
A mixin of ``_Runner`` (``_lower``), which provides ``inline``.
"""

from __future__ import annotations

import ast
import functools
import math
import sys
import types
from typing import Any

import numpy as np
import sympy as sp

from ._array_ops import plain
from ._array_rules import array_function
from ._containers import array_rows, container_call
from ._errors import UnsupportedCodeError, at_any_arguments
from ._local import LocalFunction, call_local
from ._nested import NOT_NESTED, called_inside
from ._ops_index import getitem
from ._ops_reduce import scipy_function
from ._rules import (Form, Primitive, namespace_of, primitive_for,
                     python_round, rounded, where)
from ._source import library_of, refused_call

__all__ = ["Calls"]

# Integer functions of the math module: of integers known when the code is
# lowered they are numbers (1 / math.factorial(k) in a series).
_INTEGER_FUNCTIONS = frozenset({math.factorial, math.comb, math.perm,
                                math.gcd, math.lcm, math.isqrt})


# What a number or an array computed from the arguments may be when the
# derivative runs.
_NUMERIC_TYPES = (bool, int, float, np.ndarray, np.bool_, np.integer,
                  np.floating)


def _ufunc_library(callee: Any) -> str | None:
    """The library of a ufunc that names no module of its own:
    scipy.special's (loggamma, zeta's kin) are SciPy's, refused as its
    other functions are."""
    special = sys.modules.get("scipy.special")
    if isinstance(callee, np.ufunc) and special is not None and getattr(
            special, callee.__name__, None) is callee:
        return "a SciPy function"
    return None


def _keyword_node(node: ast.Call, key: str) -> ast.AST:
    """Where the call passes keyword ``key``: its value, or the dict it
    was unpacked from (``**options``)."""
    for keyword in node.keywords:
        if keyword.arg == key:
            return keyword.value
    spread = [k.value for k in node.keywords if k.arg is None]
    return spread[0] if spread else node


class Calls:
    """Lowers calls."""

    def keyword_arguments(self, node: ast.Call, env: dict[str, Any]
                          ) -> dict[str, Any]:
        """The keyword arguments of a call, those unpacked from a dict
        (``f(x, **options)``) among them, as Python passes them."""
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self.expression(keyword.value, env)
            if keyword.arg is None:
                if not isinstance(value, dict) or not all(
                        isinstance(key, str) for key in value):
                    raise self.error(keyword.value, "keywords unpacked "
                                     "with ** must be a dict with string "
                                     "keys, known when the function is "
                                     "differentiated")
                items = value.items()
            else:
                items = [(keyword.arg, value)]
            for key, item in items:
                if key in kwargs:
                    raise self.error(node, f"{ast.unparse(node.func)}() "
                                     "got multiple values for keyword "
                                     f"argument {key!r}")
                kwargs[key] = item
        return kwargs

    def call_expression(self, node: ast.Call, env: dict[str, Any]) -> Any:
        callee = self.expression(node.func, env)
        contained = container_call(self, callee, node, env)
        if contained is not None:  # list(params.values()), zip(a, b)
            return contained
        nested = called_inside(self, callee, node, env)
        if nested is not NOT_NESTED:  # ad.grad(f)(x), ad.jvp(f, ...)
            return nested
        args = [self.expression(a, env) for a in node.args]
        kwargs = self.keyword_arguments(node, env)
        if callee is map:
            return self.mapped(args, kwargs, node)
        return self.called(callee, args, kwargs, node)

    def mapped(self, args: list[Any], kwargs: dict[str, Any],
               node: ast.Call) -> tuple[Any, ...]:
        """``map(f, xs, ...)``: f of the items of each, as Python gives
        them, the items of an array its rows (written out)."""
        if kwargs or len(args) < 2 or not (
                callable(args[0]) or isinstance(args[0], LocalFunction)):
            raise self.error(node, "map() takes a function and the lists, "
                                   "tuples or arrays to call it on")
        # (f's call, where f is refused)
        call = ast.copy_location(ast.Call(node.args[0], node.args[1:], []),
                                 node)
        columns = []
        for items, given in zip(args[1:], node.args[1:]):
            if isinstance(items, dict):
                items = list(items)
            elif isinstance(items, sp.Expr) and self.shape(items, given):
                items = array_rows(self, items, given, "map()")
            elif not isinstance(items, (list, tuple)):
                raise self.error(given, "map() runs over lists, tuples, "
                                        "dicts and the rows of arrays")
            columns.append(items)
        return tuple(self.called(args[0], list(row), {}, call)
                     for row in zip(*columns))

    def called(self, callee: Any, args: list[Any], kwargs: dict[str, Any],
               node: ast.Call) -> Any:
        """``callee(*args, **kwargs)``, of the arguments' values."""
        if isinstance(callee, LocalFunction):
            return call_local(self, callee, args, kwargs, node)
        if callee is functools.partial and args and callable(args[0]):
            # Its values may be symbols: it is only called, below.
            return functools.partial(*args, **kwargs)
        if isinstance(callee, functools.partial):  # the function, called
            args = [*callee.args, *args]
            kwargs = {**callee.keywords, **kwargs}
            callee = callee.func
        if callee is sorted:
            return self.sorted_items(args, kwargs, node)
        known = self.known_now(callee, args, kwargs, node)
        if known is not None:
            return known
        self.refuse_library(callee, node)
        primitive = primitive_for(callee)
        if primitive is not None:
            return self.call_primitive(callee, primitive, args, kwargs, node)
        if array_function(callee) is not None or callee in (len, math.fsum):
            return self.array_function_call(callee, args, kwargs, node)
        scipy_op = scipy_function(callee)  # scipy.special.logsumexp, ...
        if scipy_op is not None:
            return self.array_call(scipy_op, args, {
                k: plain(v) for k, v in kwargs.items()}, node)
        if isinstance(callee, types.MethodType) and isinstance(
                callee.__func__, types.FunctionType):
            return self.inline(callee.__func__, [callee.__self__] + args,
                               kwargs, node)
        if isinstance(callee, types.FunctionType):
            return self.inline(callee, args, kwargs, node)
        call = getattr(type(callee), "__call__", None)
        if isinstance(call, types.FunctionType) and not isinstance(
                callee, type):  # an object called as a function (a layer)
            return self.inline(call, [callee] + args, kwargs, node)
        if callee is float:
            if len(args) == 1 and not kwargs and isinstance(args[0], str):
                try:  # float('inf'), float('nan'): numbers spelled so
                    return self.constant(float(args[0]), node)
                except ValueError:
                    raise self.error(node, f"could not convert string to "
                                           f"float: {args[0]!r}") from None
            if len(args) == 1 and not kwargs:
                written = node.args[0] if isinstance(node, ast.Call) and len(
                    node.args) == 1 else node  # (a list refused names it)
                return self.operand(args[0], written)
        if isinstance(callee, type) and issubclass(callee, tuple) and \
                hasattr(callee, "_fields"):
            return callee(*args, **kwargs)  # a namedtuple of the values
        library = library_of(callee) or _ufunc_library(callee)
        if library is not None:  # np.cov: NumPy's, in Python or in C
            raise self.error(node.func, refused_call(
                ast.unparse(node.func), library))
        raise self.error(node.func, f"cannot differentiate through "
                                    f"{ast.unparse(node.func)}: it is not a "
                                    "primitive in autodiff_ast's rules table "
                                    "and has no Python source. Use a NumPy or "
                                    "math function from the table, or a "
                                    "Python function")

    def known_now(self, callee: Any, args: list[Any],
                  kwargs: dict[str, Any], node: ast.Call) -> Any:
        """The value of a call whose result is a constant when the function
        is differentiated: ``math.factorial(k)`` and its kind, ``int()`` of
        sizes, ``np.finfo(x.dtype)``; None for any other call."""
        # (by identity: a callee may be unhashable, a dataclass instance)
        if any(callee is f for f in _INTEGER_FUNCTIONS):
            return self.integer_function(callee, args, kwargs, node)
        if callee is int and len(args) == 1 and not kwargs:
            # int(0.25 * len(x)): an index from sizes, known now (the code
            # then checks the sizes); of a value, there is no derivative.
            value = self.concrete(args[0])
            if isinstance(value, sp.Basic) and value.free_symbols:
                raise self.error(node, "int() of a value computed from the "
                                       "arguments has no derivative: use "
                                       "sizes and constants here, or "
                                       "np.floor / np.round on arrays")
            if isinstance(value, (int, float, sp.Number)):
                return sp.Integer(int(value))
        if callee is isinstance and len(args) == 2 and not kwargs:
            return self.instance_of(args[0], args[1], node)
        if callee in (np.finfo, np.iinfo):  # np.finfo(x.dtype).eps
            if any(isinstance(a, sp.Basic) for a in [*args,
                                                    *kwargs.values()]):
                raise self.error(node, f"{ast.unparse(node.func)}() takes a "
                                       "dtype, not a value")
            return callee(*args, **kwargs)
        return None

    def instance_of(self, value: Any, kinds: Any,
                    node: ast.Call) -> sp.Basic:
        """``isinstance(value, kinds)``, decided when the function is
        differentiated: of a Python value lowering holds (a dict of
        parameters, a tuple, None, an option), as Python decides it; of a
        number or an array, only where no number or array can be one."""
        flat = kinds if isinstance(kinds, tuple) else (kinds,)
        if not all(isinstance(kind, type) for kind in flat):
            raise self.error(node, "isinstance() takes a type or a tuple "
                                   "of types here")
        if not isinstance(value, sp.Basic):
            return sp.true if isinstance(value, kinds) else sp.false
        if not any(issubclass(held, kind) for held in _NUMERIC_TYPES
                   for kind in flat):
            return sp.false  # isinstance(x, dict) of an array
        raise self.error(node, "isinstance() of a number or an array "
                               "cannot be decided when the derivative is "
                               "generated: its code takes floats and arrays "
                               "alike. Test np.asarray(x).ndim == 0 "
                               "instead, or pass an option that says which")

    def sorted_items(self, args: list[Any], kwargs: dict[str, Any],
                     node: ast.Call) -> list[Any]:
        """``sorted(x)`` of numbers (a 1-d array, a list or tuple): the
        list of the items of ``np.sort`` (whose gradient follows the
        permutation), so that what follows reads a list, as in Python."""
        reverse = kwargs.pop("reverse", False)
        if len(args) != 1 or kwargs or reverse not in (True, False):
            raise self.error(node, "sorted() is differentiated with one "
                                   "sequence of numbers and a constant "
                                   "reverse=: for a key, index by "
                                   "np.argsort of the keys")
        items = args[0]
        if isinstance(items, (list, tuple)):
            items = self.array_call(array_function(np.array), [list(items)],
                                    {}, node)
        axes = len(self.shape(items, node))
        if axes == 0:
            raise self.error(node, "sorted() takes a sequence, not a "
                                   "number")
        if axes > 1:
            raise self.error(node, "sorted() of an array of more than one "
                                   "axis compares its rows as sequences, "
                                   "which has no derivative: use np.sort(x, "
                                   "axis=...)")
        ordered = self.array_call(array_function(np.sort), [items], {}, node)
        count = self.concrete(self.shape(ordered, node)[0])
        # (a list of that many items: the code is for this size, checked)
        self.program.baked.append(f"sorted() gives a list of {count} items")
        rows = range(count - 1, -1, -1) if reverse else range(count)
        return [getitem(self, ordered, row, node) for row in rows]

    def integer_function(self, callee: Any, args: list[Any],
                         kwargs: dict[str, Any], node: ast.Call) -> Any:
        """``math.factorial(k)`` and its kind, of integers known when the
        function is differentiated (a loop's counter, a size): a number."""
        values = [*args, *kwargs.values()]
        if not all(isinstance(v, (int, sp.Integer)) and not isinstance(
                v, bool) for v in values):
            raise self.error(node, f"{ast.unparse(node.func)}() takes "
                                   "integers known when the function is "
                                   "differentiated (constants, loop counters, "
                                   "sizes), not values that vary with its "
                                   "arguments")
        try:
            return sp.Integer(callee(*[int(a) for a in args], **{
                key: int(value) for key, value in kwargs.items()}))
        except (TypeError, ValueError) as exc:
            raise self.error(node, str(exc)) from None

    def refuse_library(self, callee: Any, node: ast.Call) -> None:
        """Refuse a call to library code (see ``library_of``) that is not a
        primitive, at the user's call: its source is never read and
        inlined (it would be differentiated wrongly, or refused at a line
        of the library's)."""
        if primitive_for(callee) is not None or array_function(
                callee) is not None or scipy_function(callee) is not None:
            return
        function = (callee.__func__ if isinstance(callee, types.MethodType)
                    else callee)
        if not isinstance(function, types.FunctionType):
            return
        library = library_of(function)
        if library is not None:
            raise self.error(node.func, refused_call(
                ast.unparse(node.func), library))

    def call_primitive(self, callee: Any, primitive: Primitive,
                       args: list[Any], kwargs: dict[str, Any],
                       node: ast.Call) -> sp.Expr:
        spelled = ast.unparse(node.func)
        namespace = namespace_of(callee)
        # (a builtin's form, round(x, ndigits), says nothing of the
        # namespace the code is written in)
        form = primitive.form(namespace or getattr(callee, "__module__",
                                                   None))
        if form is not None:
            if namespace:
                self.context.namespaces.add(namespace)
            result = self.call_form(form, spelled, args, kwargs, node)
            if callee is round and self.shape(
                    result, node):
                # An array's elements are NumPy scalars, which round() rounds
                # as np.round does: the function taken elementwise.
                result = result.replace(python_round, rounded)
            return result
        if kwargs:
            raise self.miscalled(node, f"{spelled}() takes no keyword "
                                       "arguments here")
        if len(args) != primitive.nargs:
            raise self.miscalled(
                node, f"{spelled}() takes {primitive.nargs} argument"
                      f"{'s' if primitive.nargs > 1 else ''} here, got "
                      f"{len(args)}")
        if namespace:
            self.context.namespaces.add(namespace)
        if primitive.name == "where":
            condition = self.as_condition(args[0], node.args[0])
            return where(condition, self.number(args[1], node.args[1]),
                         self.number(args[2], node.args[2]))
        # NumPy's functions read a list as an array; math's and Python's
        # do not.
        read = self.number if namespace in ("numpy", "scipy.special") \
            else self.operand
        numbers = [read(a, n) for a, n in zip(args, node.args)]
        return self.vetted(primitive.lower(*numbers), node)

    def call_form(self, form: Form, spelled: str, args: list[Any],
                  kwargs: dict[str, Any], node: ast.Call) -> sp.Expr:
        """A primitive called with other arguments than its ``nargs``
        numbers (``math.log(x, base)``, ``np.clip(x, 0, None)``)."""
        def value(given: Any, at: ast.AST) -> Any:
            if given is None:
                return None
            if isinstance(given, (list, tuple)):  # math.dist's points
                return tuple(self.number(item, at) for item in given)
            return self.number(given, at)

        values = [value(a, n) for a, n in zip(args, node.args)]
        named = {key: value(given, _keyword_node(node, key))
                 for key, given in kwargs.items()}
        try:
            result = form.lower(*values, **named)
        except TypeError:
            raise self.miscalled(node, f"{spelled}() takes {form.takes} "
                                       "here") from None
        return self.vetted(result, node)

    def miscalled(self, node: ast.Call,
                  message: str) -> UnsupportedCodeError:
        """The refusal of a call written with arguments its callee does
        not take: at any arguments, unless they are unpacked (``*x``, as
        many as x has rows)."""
        error = self.error(node, message)
        unpacked = any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords)
        return error if unpacked else at_any_arguments(error)
