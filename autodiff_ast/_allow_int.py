"""JAX's ``allow_int=True``: integer arguments are constants, with zeros.

Without it an int number a derivative is taken in is the float it stands
for (``grad(f)(2)`` is ``grad(f)(2.0)``), and an int or bool array is
refused. With it, as in JAX, an argument among ``argnums`` whose leaves
are all integers or bools (a Python int or bool, a NumPy integer or bool,
an array of them, a pytree of those) is not differentiated: the derivative
that answers is the one generated for the other arguments (code made once
per set of them, as any other; there may be none), and its place in the
result is filled with zeros. An int number beside floats in one pytree
is differentiated as the float it stands for, and its derivative then
replaced by a zero (its partner leaves' derivatives do not depend on
whether it moves).

Which arguments are integers is known only at the call, so the zeros are
added here, not written in generated code: the code that answers is the
derivative with respect to the arguments that hold floats, and says so in
its docstring; ``ad.source(df, *args)`` prints it.

A zero stands for JAX's float0 (which compares equal to 0): it has the
argument's shape (a Jacobian's: the output's, then the argument's), and is
a float, as a derivative at an int number is: ``0.0`` for a Python int or
bool, ``np.float64(0.0)`` for a NumPy scalar, ``np.zeros(shape)`` for an
array.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np
import optree

from ._argnums_per_call import Wrapping
from ._differentiate import split_aux
from ._errors import AutodiffError, InputError, OutputError

__all__ = ["IntegerZeros", "not_transformed_again"]

# Arguments that are floats already: the usual call looks no further.
_FLOATS = frozenset({float, np.float64, np.float32, np.float16})


class IntegerZeros(Wrapping):
    """``kind`` of ``fun`` (``grad``, ``value_and_grad`` or ``jacobian``)
    taken with ``allow_int=True``. ``made`` answers calls where no
    argument among ``argnums`` holds integers; ``make(positions)`` makes
    the transform for a tuple of the others."""

    def __init__(self, fun: Any, argnums: Any, has_aux: bool, kind: str,
                 made: Any, make: Callable[[tuple[int, ...]], Any]) -> None:
        self.fun = fun
        self.as_tuple = isinstance(argnums, (tuple, list))
        self.argnums = tuple(map(int, argnums if self.as_tuple
                                 else (argnums,)))
        self.has_aux = has_aux
        self.kind = kind
        self.made = made
        self.make = make
        self._by_floats: dict[tuple[int, ...], Any] = {}
        # (non-negative argnums name the same positions in every call)
        self._fixed = self.argnums if min(self.argnums) >= 0 else None
        self._passing = max(self.argnums) + 1
        self.show_as(made)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        positions = self._positions(len(args))
        if not kwargs and (self._passing <= len(args) if self._fixed
                           else len(args)):
            for p in positions:
                arg = args[p]
                if arg.__class__ not in _FLOATS and not (
                        arg.__class__ is np.ndarray
                        and arg.dtype.kind == "f"):
                    break
            else:  # (the usual call: nothing to fill)
                return self.made(*args, **kwargs)
        values = self._values(args, kwargs, positions)
        floats = self._floats(values, positions)
        if floats is None:
            return self.made(*args, **kwargs)
        if floats:
            result = self._for(floats)(*args, **kwargs)
        else:
            result = self._without_code(args, kwargs)
        return self._filled(result, values, positions, floats)

    def answering(self, args: tuple[Any, ...],
                  kwargs: dict[str, Any] | None = None) -> Any:
        """The derivative whose code answers a call at ``args`` (and
        ``kwargs``); an error where none does (every argument it is taken
        in holds integers)."""
        positions = self._positions(len(args))
        floats = self._floats(self._values(args, kwargs or {}, positions),
                              positions)
        if floats is None:
            return self.made
        if floats:
            return self._for(floats)
        names = ", ".join(_argument_name(self.made, p) for p in positions)
        raise AutodiffError(
            f"{getattr(self, '__name__', 'this derivative')} at these "
            f"arguments runs no generated code: {names} "
            f"hold{'s' if len(positions) == 1 else ''} integers, which "
            "allow_int=True gives zero derivatives without differentiating "
            "anything. Pass a float for an argument to see the code that "
            "differentiates it.")

    def _positions(self, count: int) -> tuple[int, ...]:
        """The non-negative positions ``argnums`` names in a call passing
        ``count`` arguments by position (as JAX counts a negative one)."""
        if self._fixed is not None:
            return self._fixed
        return tuple(i + count if i < 0 else i for i in self.argnums)

    def _values(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                positions: tuple[int, ...]) -> dict[int, Any]:
        """The argument at each of ``positions`` in a call: passed by
        position, else by name, else its default (the derivative takes
        each so; one found nowhere is the call's TypeError)."""
        values = {p: args[p] for p in positions if 0 <= p < len(args)}
        if len(values) == len(positions):
            return values
        try:
            parameters = list(inspect.signature(self.fun).parameters.values())
        except (TypeError, ValueError):
            return values
        for p in positions:
            if p in values or p >= len(parameters):
                continue
            parameter = parameters[p]
            if parameter.name in kwargs and \
                    parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                values[p] = kwargs[parameter.name]
            elif parameter.default is not parameter.empty:
                values[p] = parameter.default
        return values

    @staticmethod
    def _floats(values: dict[int, Any], positions: tuple[int, ...]
                ) -> tuple[int, ...] | None:
        """The positions to differentiate at ``values``: all but those of
        integers; None where ``made`` answers as it is (no integer
        anywhere in them)."""
        floats = tuple(p for p in positions
                       if p not in values or not _integers(values[p]))
        if floats == positions and not any(
                _some_int_numbers(value) for value in values.values()):
            return None
        return floats

    def _for(self, floats: tuple[int, ...]) -> Any:
        made = self._by_floats.get(floats)
        if made is None:
            made = self._by_floats[floats] = self.make(floats)
        return made

    def _without_code(self, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
        """What the transform for no argument would return: the value (or
        the output, for a Jacobian) and aux from ``fun`` itself, checked
        as a derivative checks them, and no derivatives."""
        where = _where(self.made)
        jacobian = self.kind == "jacobian"
        value, aux = split_aux(self.fun(*args, **kwargs), where,
                               self.has_aux, allow_tuple=jacobian)
        if not jacobian:
            _a_scalar(value, where)
        derivatives: Any = () if not jacobian else optree.tree_map(
            _Output, value)
        if self.kind == "value_and_grad":
            return ((value, aux) if self.has_aux else value), derivatives
        return (derivatives, aux) if self.has_aux else derivatives

    def _filled(self, result: Any, values: dict[int, Any],
                positions: tuple[int, ...], floats: tuple[int, ...]) -> Any:
        """``result`` of the transform for ``floats`` (a tuple of
        derivatives, one per argument), in the layout ``argnums`` asks for
        (``positions``), with zeros for the integers."""
        if self.kind == "value_and_grad":
            head, derivatives = result
        elif self.has_aux:
            derivatives, head = result
        else:
            derivatives, head = result, None

        def complete(by_float: tuple[Any, ...], leading: tuple[int, ...]
                     ) -> Any:
            given = dict(zip(floats, by_float))
            whole = tuple(
                _zeros_in(given[p], values.get(p)) if p in given
                else _zeros_like(values[p], leading)
                for p in positions)
            return whole if self.as_tuple else whole[0]

        if self.kind == "jacobian":
            inner = optree.tree_structure(tuple(values.get(p)
                                                for p in floats))
            completed = optree.tree_map(
                lambda by_float: complete((), by_float.shape)
                if isinstance(by_float, _Output) else complete(
                    by_float, _output_shape(by_float, values, floats)),
                derivatives, is_leaf=lambda node: isinstance(
                    node, _Output) or optree.tree_structure(node) == inner)
        else:
            completed = complete(derivatives, ())
        if self.kind == "value_and_grad":
            return head, completed
        return (completed, head) if self.has_aux else completed


class _Output:
    """An output of a Jacobian taken with respect to integers only: its
    shape leads each zero's."""

    def __init__(self, value: Any) -> None:
        self.shape = np.shape(value)


def not_transformed_again(fun: Any) -> None:
    """Refuse a transform of a derivative taken with allow_int=True: its
    derivatives are decided at each call, so it has no one code to
    differentiate."""
    if isinstance(fun, IntegerZeros):
        raise InputError(
            f"{getattr(fun, '__name__', 'this derivative')} was taken with "
            "allow_int=True, which decides at each call which arguments "
            "are integers, and so is not transformed again: transform the "
            "function itself (ad.hessian for second derivatives), with its "
            "integer arguments left out of argnums.")


# Arguments that are one leaf: no pytree to walk.
_LEAVES = frozenset({int, bool, float, np.ndarray, np.float64, np.float32,
                     np.int64, np.int32, np.bool_})


def _integer_leaf(leaf: Any) -> bool:
    return isinstance(leaf, (int, np.integer, np.bool_)) or (
        isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biu")


def _integers(arg: Any) -> bool:
    """Whether every leaf of ``arg`` is an integer or a bool (and it has
    one)."""
    if arg.__class__ in _LEAVES:
        return _integer_leaf(arg)
    leaves = optree.tree_leaves(arg)
    return bool(leaves) and all(map(_integer_leaf, leaves))


def _int_number(leaf: Any) -> bool:
    return _integer_leaf(leaf) and np.ndim(leaf) == 0 and not isinstance(
        leaf, (bool, np.bool_)) and np.asarray(leaf).dtype != np.bool_


def _some_int_numbers(arg: Any) -> bool:
    """Whether ``arg`` is a pytree holding an int number (a leaf of
    integers is ``_integers``)."""
    return arg.__class__ not in _LEAVES and any(
        map(_int_number, optree.tree_leaves(arg)))


def _zeros_like(arg: Any, leading: tuple[int, ...]) -> Any:
    """A zero for each leaf of ``arg``, as ``_zero``."""
    if arg.__class__ in _LEAVES:
        return _zero(arg, leading)
    return optree.tree_map(lambda leaf: _zero(leaf, leading), arg)


def _zero(leaf: Any, leading: tuple[int, ...] = ()) -> Any:
    """JAX's float0 zero for ``leaf`` (of ``leading`` + its shape)."""
    if isinstance(leaf, np.ndarray) or leading:
        return np.zeros(leading + np.shape(leaf))
    return np.float64(0.0) if isinstance(leaf, np.generic) else 0.0


def _zeros_in(derivative: Any, arg: Any) -> Any:
    """``derivative`` with respect to ``arg``, where a leaf of ``arg`` is
    an int number (differentiated as a float beside floats), a zero of
    its derivative's shape."""
    if not _some_int_numbers(arg):
        return derivative
    leaves, spec = optree.tree_flatten(derivative)
    given = optree.tree_leaves(arg)
    if len(leaves) != len(given):
        return derivative
    return optree.tree_unflatten(spec, [
        _zero(d) if _int_number(leaf) else d
        for d, leaf in zip(leaves, given)])


def _output_shape(by_float: tuple[Any, ...], values: dict[int, Any],
                  floats: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of an output, from its Jacobian with respect to the first
    leaf of the arguments that hold floats (shaped out.shape +
    leaf.shape); () where there are none (an empty container)."""
    for derivative, p in zip(by_float, floats):
        for block, leaf in zip(optree.tree_leaves(derivative),
                               optree.tree_leaves(values.get(p))):
            shape = np.shape(block)
            return shape[:len(shape) - np.ndim(leaf)]
    return ()


def _a_scalar(value: Any, where: str) -> None:
    """Refuse, as grad does, an output that is no number or not a scalar
    (here no code is generated to refuse it)."""
    if not isinstance(value, (int, float, np.number, np.bool_, np.ndarray)) \
            or np.asarray(value).dtype.kind not in "biuf":
        raise OutputError(f"{where} returns {type(value).__name__}, which "
                          "is not a number: grad needs a scalar output.")
    if np.ndim(value):
        raise OutputError(
            f"Gradient only defined for scalar-output functions. Output had "
            f"shape: {np.shape(value)}. {where} returns an array: reduce "
            "it, e.g. wrap the result in np.sum(...) or np.mean(...), or "
            "differentiate each output separately for a Jacobian.")


def _where(made: Any) -> str:
    """How errors name the user's function: "f (file.py:3)"."""
    origin = getattr(made, "__autodiff_ast__", None)
    if origin is not None:
        return f"{origin.base} ({origin.location})"
    if hasattr(made, "where"):
        return str(made.where)
    base = getattr(made, "base", None)
    if base is not None:
        return f"{base} ({made.location})"
    return repr(made)


def _argument_name(made: Any, position: int) -> str:
    names = getattr(made, "params", None) or getattr(made, "names", None)
    if names is None:
        code = getattr(made, "__code__", None)
        names = code.co_varnames[:code.co_argcount] if code else ()
    return names[position] if position < len(names) else \
        f"argument {position}"
