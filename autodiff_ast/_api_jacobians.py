"""Public API: jacobian, jacfwd, hessian, jvp and vjp, as JAX names them.

Each is a chain of transforms of the program (``_array_transforms``): a
Jacobian by reverse mode (``jacfwd``: forward mode), a Hessian by forward
mode over the gradient program, generated per input signature (``ad.source``
shows the code for one); they compose with ``grad``
(``jacobian(grad(f))``, and ``jvp(grad(f), ...)`` for Hessian-vector
products).
"""

from __future__ import annotations

import functools
import inspect
import weakref
from typing import Any, Callable, Sequence

import numpy as np
import optree

from ._allow_int import not_transformed_again
from ._api import _cached, _with_source, derivative_of, real_only
from ._argnums_per_call import PerCall
from ._array_transforms import MISSED, NUMBER_TYPES, ArrayTransform
from ._float_handle import transform_of
from ._errors import InputError
from ._int_points import (argument_name, floats_only, moved_as_floats,
                          no_integers_beside_floats, some_floats)
from ._output_types import tree_like
from ._partials import unwrapped
from ._pullback import (code_of_a_number, of_a_number, pullback,
                        times_gradients)

__all__ = ["jacobian", "jacrev", "jacfwd", "hessian", "jvp", "vjp"]

Argnums = int | Sequence[int]


def jacobian(fun: Callable[..., Any], argnums: Argnums = 0,
             has_aux: bool = False, holomorphic: bool = False,
             allow_int: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fun`` with respect to the argument(s) ``argnums``.

    ``fun`` may return a number or a tuple of numbers; the result has that
    structure with, at each output, its derivative with respect to the
    argument (a tuple of derivatives, one per argument, when ``argnums`` is
    a tuple). With ``has_aux=True`` it returns ``(jacobian, aux)``.
    ``holomorphic`` and ``allow_int`` are JAX's keywords, as
    :func:`grad` takes them: with ``allow_int=True`` the Jacobian with
    respect to an argument of integers is zeros of the output's shape
    followed by the argument's (JAX's float0).

    >>> import math
    >>> import autodiff_ast as ad
    >>> def polar(r, t):
    ...     return r * math.cos(t), r * math.sin(t)
    >>> ad.jacobian(polar, argnums=(0, 1))(2.0, 0.0)
    ((1.0, -0.0), (0.0, 2.0))
    """
    real_only("jacobian", holomorphic)
    return derivative_of(fun, argnums, has_aux, "jacobian", allow_int)


jacrev = jacobian


def jacfwd(fun: Callable[..., Any], argnums: Argnums = 0,
           has_aux: bool = False, holomorphic: bool = False
           ) -> Callable[..., Any]:
    """:func:`jacobian` in forward mode: the identity over each argument
    pushed forwards as a batch of tangents (cheaper than reverse mode
    where outputs outnumber inputs). The values are the same; the code
    may be written another way.

    >>> import autodiff_ast as ad
    >>> ad.jacfwd(lambda x: (x ** 2, 3 * x))(2.0)
    (4.0, 3.0)
    """
    real_only("jacfwd", holomorphic)
    return derivative_of(fun, argnums, has_aux, "jacobian", False, _forward)


def _forward(function: Any) -> Any:
    """``function``, a Jacobian in reverse mode, as the chain of
    transforms that computes it in forward mode."""
    transform = transform_of(function)  # (its handle at floats: reverse)
    if isinstance(transform, ArrayTransform):
        return transform.in_forward_mode()
    return function


def hessian(fun: Callable[..., Any], argnums: Argnums = 0,
            has_aux: bool = False, holomorphic: bool = False
            ) -> Callable[..., Any]:
    """The Hessian of ``fun``: second derivatives with respect to each pair
    of the arguments ``argnums``, a tuple of tuples when ``argnums`` is a
    tuple (JAX's layout), else the second derivative itself.

    >>> import autodiff_ast as ad
    >>> ad.hessian(lambda x, y: x ** 2 * y, argnums=(0, 1))(1.0, 3.0)
    ((6.0, 2.0), (2.0, 0.0))
    """
    real_only("hessian", holomorphic)
    return derivative_of(fun, argnums, has_aux, "hessian", False)


def _arguments_of(name: str, primals: Any, tangents: Any) -> None:
    if not isinstance(primals, (tuple, list)) or not isinstance(
            tangents, (tuple, list)):
        raise InputError(
            f"{name} takes primals and tangents as tuples, one entry per "
            "argument of the function, e.g. ad.jvp(f, (x, y), (dx, dy)); "
            f"got {type(primals).__name__} and {type(tangents).__name__}.")
    if len(primals) != len(tangents):
        raise InputError(
            f"{name} needs one tangent per primal: got {len(primals)} "
            f"primals and {len(tangents)} tangents.")


def _spelled(structure: Any) -> str:
    """A pytree structure as its repr shows it, without optree's wrapper:
    ``{'s': *, 't': *}``."""
    text = repr(structure)
    return text[len("PyTreeSpec("):-1] if text.startswith(
        "PyTreeSpec(") else text


def _leaf_pairs(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """(argument position, primal leaf, tangent leaf) for each argument
    whose tangent has its structure (of one apart, generation says
    which)."""
    for position, (primal, tangent) in enumerate(zip(primals, tangents)):
        leaves = optree.tree_leaves(primal)
        given = optree.tree_leaves(tangent)
        if len(leaves) != len(given):
            continue
        for leaf, seed in zip(leaves, given):
            yield position, leaf, seed


def _integers_still(fun: Callable[..., Any], primals: Sequence[Any],
                    tangents: Sequence[Any]) -> None:
    """Array code takes integers as data, not differentiated (JAX's
    float0 tangent): a tangent that moves one would be dropped."""
    for position, leaf, seed in _leaf_pairs(primals, tangents):
        if np.asarray(leaf).dtype.kind in "biu" and np.any(
                np.asarray(seed) != 0):
            name = argument_name(fun, position)
            raise InputError(
                f"the tangent for {name} is not zero, but {name} holds "
                "integers, which are not differentiated: pass a zero "
                f"tangent for it, or pass {name} as floats.")


def _shaped_like(fun: Callable[..., Any], primals: Sequence[Any],
                 tangents: Sequence[Any]) -> None:
    """Each tangent of its primal's shape, leaf by leaf: code generated
    for one input signature (rank and dtype) would broadcast a tangent of
    another size, or fail inside it."""
    if all(_same_kind(primal, tangent)
           for primal, tangent in zip(primals, tangents)):
        return  # (the usual call: 0.3 us per argument, not 3)
    for position, leaf, seed in _leaf_pairs(primals, tangents):
        if np.shape(leaf) != np.shape(seed):
            raise InputError(
                f"the tangent for {argument_name(fun, position)} has shape "
                f"{np.shape(seed)}, but the argument has shape "
                f"{np.shape(leaf)}: pass tangents shaped like the primals.")


def _same_kind(primal: Any, tangent: Any) -> bool:
    """Whether ``tangent`` is plainly shaped like ``primal``: arrays of one
    shape, or two numbers."""
    if primal.__class__ is np.ndarray:
        return tangent.__class__ is np.ndarray and \
            primal.shape == tangent.shape
    return primal.__class__ in NUMBER_TYPES and \
        tangent.__class__ in NUMBER_TYPES



def _defaults_after(fun: Callable[..., Any], function: Any,
                    primals: Sequence[Any], tangents: Sequence[Any]
                    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """``primals`` and ``tangents`` for each parameter of the generated
    ``function``: where ``fun(*primals)`` leaves the last ones to their
    defaults (as JAX calls it), those, with zero tangents."""
    count = (len(function.params) if isinstance(function, ArrayTransform)
             else function.__code__.co_argcount // 2)
    missing = count - len(primals)
    if missing <= 0:  # (the usual call: no signature read, 5 us each)
        return tuple(primals), tuple(tangents)
    try:  # (a partial's: those of the function written for it)
        parameters = list(
            inspect.signature(unwrapped(fun)).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        # a library function (scipy.stats.norm.logpdf is (x, *args,
        # **kwds)): the defaults of the function written for it
        written, spelled = _with_source(fun)
        if spelled is not None:
            parameters = list(inspect.signature(written).parameters.values())
    rest = parameters[len(primals):]
    if len(rest) != missing or any(
            p.default is p.empty for p in rest):
        names = (list(function.params) if isinstance(function, ArrayTransform)
                 else list(function.__code__.co_varnames[:count]))
        left = [name for name, p in zip(names[len(primals):], rest + [
            None] * missing) if p is None or p.default is p.empty]
        raise InputError(
            f"jvp of {getattr(unwrapped(fun), '__name__', 'the function')} "
            f"takes a primal and a tangent for each argument "
            f"({', '.join(names)}); got {len(primals)}, none for "
            f"{', '.join(left)}: pass ad.jvp(f, ({', '.join(names)}), "
            f"({', '.join('d' + n for n in names)})).")
    defaults = tuple(p.default for p in rest)
    zeros = tuple(optree.tree_map(_zero, d) for d in defaults)
    return (*primals, *defaults), (*tangents, *zeros)


def _zero(leaf: Any) -> Any:
    """A zero tangent like ``leaf`` (a Python float stays one); a leaf
    that is not a number (an option) as it is."""
    if isinstance(leaf, np.ndarray):
        return np.zeros_like(leaf)
    if isinstance(leaf, (int, float, np.number)) and not isinstance(
            leaf, (bool, np.bool_)):
        return type(leaf)(0)
    return leaf


def jvp(fun: Callable[..., Any], primals: Sequence[Any],
        tangents: Sequence[Any], has_aux: bool = False) -> Any:
    """``(fun(*primals), J @ tangents)``: the value and the derivative of
    ``fun`` at ``primals`` along ``tangents`` (one per argument), as JAX's
    ``jvp``; with ``has_aux=True``, ``(value, tangent, aux)``.

    >>> import math
    >>> import autodiff_ast as ad
    >>> ad.jvp(lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))
    (6.0, 3.0)
    """
    given = _last_jvp.get(has_aux)
    if given is not None and given[0]() is fun and \
            primals.__class__ is tuple and tangents.__class__ is tuple \
            and len(primals) == len(tangents):
        # Arguments of the kinds of the last call, which passed every
        # check below: its code answers (in an optimiser's loop at small
        # sizes, the checks cost a third of the call).
        result = given[1](*primals, *tangents)
        if result is not MISSED:
            value, tangent, *aux = result
            if value.__class__ in _FLOATS and tangent.__class__ in _FLOATS:
                if value.__class__ is not tangent.__class__:
                    # (tree_like's cast, at numbers: a float32 tangent of
                    # a float64 value is a float64)
                    tangent = value.__class__(tangent)
            else:
                tangent = tree_like(tangent, value)
            return (value, tangent, *aux)
    _arguments_of("jvp", primals, tangents)
    not_transformed_again(fun)
    if isinstance(fun, PerCall):  # a derivative with a negative argnums
        fun = fun.at(len(primals))
    _shaped_like(fun, primals, tangents)
    plain = floats_only(primals)  # (then no integer has a say below)
    if not plain:
        primals, tangents = moved_as_floats(primals, tangents)
    function = _cached(fun, 0, has_aux, "jvp")
    passed = primals
    primals, tangents = _defaults_after(fun, function, primals, tangents)
    if not plain and (isinstance(function, ArrayTransform) or not all(
            map(optree.tree_is_leaf, primals))):
        _integers_still(fun, primals, tangents)
        no_integers_beside_floats(fun, primals, "jvp")
    result = function(*primals, *tangents)
    if isinstance(function, ArrayTransform):
        value, tangent, *aux = result
        if plain and primals is passed:
            _remember_jvp(fun, has_aux, function.answering(
                primals + tangents))
    else:
        (value, tangent), *aux = result if has_aux else (result,)
    # (in the value's type, as JAX's: a float32 value, a float32 tangent)
    return (value, tree_like(tangent, value), *aux)


# The float numbers a jvp's value and tangent may be.
_FLOATS = frozenset((np.float64, np.float32, float))

# Per has_aux, the last jvp of array code that went through every check:
# (a weak reference to its function, what answers calls with primals and
# tangents of the same kinds: ArrayTransform.answering's).
_last_jvp: dict[bool, tuple[Any, Callable[..., Any]]] = {}


def _remember_jvp(fun: Callable[..., Any], has_aux: bool,
                  answering: Callable[..., Any] | None) -> None:
    try:
        if answering is None:
            raise TypeError  # (a pytree: the full dispatch decides)
        _last_jvp[has_aux] = (weakref.ref(fun), answering)
    except TypeError:  # (no weak reference to it: some builtins)
        _last_jvp.pop(has_aux, None)


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False
        ) -> Any:
    """``(fun(*primals), vjp_fun)``, where ``vjp_fun(cotangent)`` returns
    one cotangent per argument (``cotangent @ J``), as JAX's ``vjp``; with
    ``has_aux=True``, ``(value, vjp_fun, aux)``.

    >>> import autodiff_ast as ad
    >>> value, pullback = ad.vjp(lambda x, y: x * y, 2.0, 3.0)
    >>> value, pullback(1.0)
    (6.0, (3.0, 2.0))
    """
    given = _last_vjp.get(has_aux)
    if given is not None and given[0]() is fun:
        # Primals of the kinds of the last call of this loss, which passed
        # every check below: value_and_grad's code answers at once.
        answered = given[1](*primals)
        if answered is not MISSED:
            result, gradients = answered
            value, aux = result if has_aux else (result, None)
            pull = _scaling(gradients, value, primals, given[2])
            return (value, pull, aux) if has_aux else (value, pull)
    given_fun = fun
    not_transformed_again(fun)
    if isinstance(fun, PerCall):  # a derivative with a negative argnums
        fun = fun.at(len(primals))
    try:
        hash(fun)
    except TypeError:  # a dataclass instance: its pullbacks are kept by
        fun = functools.partial(type(fun).__call__, fun)  # a hashable key
    plain = floats_only(primals)
    if not plain:
        some_floats(fun, primals)
        no_integers_beside_floats(fun, primals, "vjp")
    name = getattr(unwrapped(fun), "__name__", "the function")
    known = of_a_number(fun, primals, has_aux)
    if known is not None:  # a loss: its value and gradient in one pass
        value, aux, pulled = known
        pull = _checked(pulled, _A_NUMBER, [value], primals, name)
        if plain and fun is given_fun:
            _remember_vjp(fun, has_aux, primals, name)
        return (value, pull, aux) if has_aux else (value, pull)
    output = fun(*primals)
    if has_aux and not (isinstance(output, (tuple, list))
                        and len(output) == 2):
        raise InputError(
            "vjp with has_aux=True needs the function to return a pair "
            "(value, aux).")
    value, aux = output if has_aux else (output, None)
    structure = optree.tree_structure(value)
    outputs = structure.flatten_up_to(value)
    pull = _checked(pullback(fun, value, has_aux, primals), structure,
                    outputs, primals, name)
    return (value, pull, aux) if has_aux else (value, pull)


# Per has_aux, the last vjp of a loss of array code whose primals were all
# floats: (a weak reference to the loss, what answers calls with primals of
# the same kinds by value_and_grad's code (ArrayTransform.answering's), the
# loss's name).
_last_vjp: dict[bool, tuple[Any, ...]] = {}


def _remember_vjp(fun: Callable[..., Any], has_aux: bool,
                  primals: tuple[Any, ...], name: str) -> None:
    code = transform_of(code_of_a_number(fun, primals, has_aux))
    answering = code.answering(primals) if isinstance(
        code, ArrayTransform) else None
    try:
        if answering is None:
            raise TypeError  # (numbers, a pytree: the full dispatch)
        _last_vjp[has_aux] = (weakref.ref(fun), answering, name)
    except TypeError:  # (no weak reference to it: some builtins)
        _last_vjp.pop(has_aux, None)


def _scaling(gradients: tuple[Any, ...], value: Any,
             primals: tuple[Any, ...], name: str
             ) -> Callable[..., tuple[Any, ...]]:
    """The pullback of a loss of array code at primals that are numbers
    and arrays, whose ``gradients`` are known: a number cotangent times
    each, in its primal's type; any other call as ``_checked`` answers
    it (and refuses what it refuses)."""
    def pull(cotangent: Any, *more: Any) -> tuple[Any, ...]:
        if cotangent.__class__ in NUMBER_TYPES and not more:
            return tree_like(tuple([cotangent * gradient
                                    for gradient in gradients]), primals)
        return _checked(times_gradients(primals, tuple(range(len(primals))),
                                        gradients),
                        _A_NUMBER, [value], primals, name)(cotangent, *more)

    return pull


# The structure of a loss's value (a number), known without a look.
_A_NUMBER = optree.tree_structure(0.0)


def _checked(pulled_back: Callable[..., tuple[Any, ...]],
             structure: Any, outputs: list[Any], primals: tuple[Any, ...],
             name: str) -> Callable[..., tuple[Any, ...]]:
    """``vjp_fun``: ``pulled_back`` of the cotangent's leaves, once they
    are one per output, in the output's ``structure`` (as JAX asks: a dict
    of other keys would be paired by position), each of its output's
    shape; each cotangent in its primal's type, as JAX gives it."""
    one = structure is _A_NUMBER or (
        structure.num_nodes == 1 and structure.num_leaves == 1
        and np.shape(outputs[0]) == ())

    def pull(cotangent: Any, *more: Any) -> tuple[Any, ...]:
        if one and cotangent.__class__ in NUMBER_TYPES and not more:
            return tree_like(pulled_back(cotangent), primals)  # a loss's
        if more:
            raise InputError(
                f"the vjp function of {name} takes one cotangent, in the "
                f"structure of {name}'s output; got {1 + len(more)} "
                "arguments: pass several as one tuple, vjp_fun((ct_0, "
                "ct_1)).")
        cotangents = optree.tree_leaves(cotangent)
        if len(cotangents) != len(outputs):
            raise InputError(
                f"the cotangent has {len(cotangents)} entr"
                f"{'y' if len(cotangents) == 1 else 'ies'}, but the "
                f"function has {len(outputs)} output"
                f"{'' if len(outputs) == 1 else 's'}: pass one per "
                "output, in the output's structure.")
        given = optree.tree_structure(cotangent)
        if given != structure:
            raise InputError(
                f"the cotangent's structure {_spelled(given)} is not the "
                f"output's, {_spelled(structure)}: pass a cotangent of the "
                "output's structure (the same containers and dict "
                "keys).")
        for index, (given, out) in enumerate(zip(cotangents, outputs)):
            if np.shape(given) != np.shape(out):
                raise InputError(
                    f"the cotangent of output {index} has shape "
                    f"{np.shape(given)}, but that output has shape "
                    f"{np.shape(out)}: pass a cotangent of each output's "
                    "shape.")
        return tree_like(pulled_back(*cotangents), primals)

    return pull

