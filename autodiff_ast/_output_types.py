"""Each derivative in its argument's type, as JAX gives it.

JAX casts each gradient (each Jacobian or Hessian block) to its argument's
dtype, whatever dtype the computation ran in: a float32 argument's
gradient is float32 even through a float64 constant, a float64 argument's
float64 even through ``np.float32(x)``. Generated code computes in the
types its operations give, and some give others: ``np.where`` of numbers is
a 0-d array, a float64 global makes float64. So a derivative's outputs are
cast (``cast``) to the types of the arguments they are derivatives with
respect to (a plan of the outputs): NumPy scalars stay NumPy scalars of the
argument's type, arrays take its dtype, a Python float's derivative is a
Python float (``python_float``, also where the code computes NumPy's
float64), and so is an integer's (JAX refuses integers; a derivative at 2
is one at 2.0, and the handle passes 2.0 on).

Casting every result would cost a call on every call: 55 ns where the
derivative of ``x ** 3 + 2 * x`` costs 130 at a float (measured with the
handle's checks). So ``proof`` reads the generated code and, where it
can, proves that each output already has its argument's type when the
arguments share one type: every output is arithmetic, ``abs`` and
float-preserving NumPy ufuncs over the arguments, with Python numbers
(which NumPy 2 keeps weak) and ``math`` results (Python floats) mixed in.
The handle then casts only where the classes of the arguments (and of the
globals holding numbers the code reads) differ from what the proof
assumed, which a comparison per class shows (8 ns).
"""

from __future__ import annotations

import ast
import builtins
import functools
import math
import types
from typing import Any, Callable, Sequence

import numpy as np
import optree

from ._as_numpy import ARITHMETIC

__all__ = ["stored", "restored", "cast", "caster", "recast",
           "like", "python_float", "tree_like", "proof", "floats_as_computed",
           "GUARD_CELLS"]

# A plan mirrors what generated code returns (tuples of outputs): at each
# output, the position of the argument whose type it takes, or None where
# it is returned as computed (a value, aux data, a whole subtree of them).
Plan = Any


def stored(plan: Plan) -> Any:
    """``plan`` as JSON keeps it (lists)."""
    return list(map(stored, plan)) if isinstance(plan, tuple) else plan


def restored(kept: Any) -> Plan:
    """A plan read back from JSON; ValueError if it is not one."""
    if isinstance(kept, list):
        return tuple(map(restored, kept))
    if kept is None or type(kept) is int:
        return kept
    raise ValueError(f"not a plan of outputs: {kept!r}")


def cast(result: Any, args: tuple[Any, ...], plan: Plan,
         to: Callable[[Any, Any], Any] | None = None) -> Any:
    """``result`` with each output the plan names in its argument's
    type (``like``, or the function ``to``)."""
    if plan.__class__ is int:
        return (to or like)(result, args[plan])
    if plan is None:
        return result
    return tuple(cast(r, args, p, to) for r, p in zip(result, plan))


def caster(plan: Plan, params: Sequence[str],
           to: Callable[[Any, Any], Any] | None = None
           ) -> tuple[Callable[[Any, Any], Any], str]:
    """What casts a result by ``plan`` in a handle of ``params``, and what
    the handle passes it besides the result: the one argument an int plan
    names (``like(value, x)``, one call, or ``to``), else the tuple of
    them."""
    if isinstance(plan, int):
        return to or like, params[plan]
    packed = f"({', '.join(params)},)" if params else "()"
    return functools.partial(cast, plan=plan, to=to), packed


def recast(function: Callable[..., Any], plan: Plan,
           retry: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, its result cast by ``plan``; where Python's float
    arithmetic raises in it, ``retry`` (``_as_numpy``) answers."""
    return functools.partial(_recast, function, plan, retry)


def _recast(function: Callable[..., Any], plan: Plan,
            retry: Callable[..., Any], *args: Any, **keywords: Any) -> Any:
    try:
        return cast(function(*args, **keywords),
                    (*args, *keywords.values()), plan)
    except ARITHMETIC:  # (at Python floats where NumPy gives inf)
        return retry(*args, **keywords)


_FLOAT64 = np.dtype(np.float64)
_LEAVES = frozenset({np.ndarray, float, int, np.float64, np.float32})


def tree_like(values: Any, references: Any) -> Any:
    """``values``, leaf by leaf in the type of the leaf of ``references``
    (of the same structure) at its place: a jvp's tangents like its
    values, vjp's cotangents like the primals. As they are where the
    structures differ (the call is refused elsewhere)."""
    kind = references.__class__
    if kind is tuple and values.__class__ is tuple:
        if len(values) != len(references):
            return values
        return tuple(map(tree_like, values, references))
    if kind in _LEAVES or optree.tree_is_leaf(references):
        return like(values, references)
    try:
        return optree.tree_map(like, values, references)
    except (ValueError, TypeError):
        return values


def like(value: Any, arg: Any) -> Any:
    """``value`` in ``arg``'s type: a NumPy scalar of its type where both
    are numbers (a 0-d array too), an array of its dtype where ``value``
    is an array; as for a float where ``arg`` is an integer (a derivative
    at 2 is one at 2.0); as it is where ``arg`` is no number."""
    kind = arg.__class__
    if kind is int or isinstance(arg, np.integer):
        if value.__class__ is int:
            return float(value)
        kind = float
    elif value.__class__ is kind and (kind is not np.ndarray or (
            value.dtype is arg.dtype and value.ndim)):
        return value
    if kind is float:
        if value.__class__ is float or value.__class__ is np.float64:
            return value
        dtype = _FLOAT64
    elif isinstance(arg, (np.floating, np.ndarray)):
        dtype = arg.dtype
        if dtype.kind != "f":
            return value
    else:  # no number
        return value
    if not getattr(value, "ndim", 0):  # (np.ndim of a NumPy scalar: 1 us)
        return dtype.type(value)
    return value.astype(dtype, copy=False) if isinstance(
        value, np.ndarray) else np.asarray(value, dtype=dtype)


def python_float(value: Any, arg: Any) -> Any:
    """``value``, a derivative at the Python float ``arg``, as array code
    gives it: a Python float (an array of float64 where it is one)."""
    kind = value.__class__
    if kind is float:
        return value
    if kind is np.float64 or kind is int:  # (no np.ndim: 0.5 us)
        return float(value)
    return float(value) if np.ndim(value) == 0 else np.asarray(
        value, dtype=np.float64)


# -- proving that generated code needs no cast ----------------------------------

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod,
               ast.FloorDiv)
# A kind: the names whose classes decide a value's type. A Python int has
# none, a Python float "~float"; "~BETA" is a global (or cell) holding a
# Python number: NumPy 2 keeps them weak, unless a ufunc makes a float64.
Kind = frozenset[str] | None  # None: not known
_INT: frozenset[str] = frozenset()
_FLOAT = frozenset({"~float"})

# The math functions that give ints, not floats.
_MATH_INTS = frozenset({"floor", "ceil", "trunc", "factorial", "comb", "perm",
                        "gcd", "lcm", "isqrt"})

# What the conditions ``proof`` gives read besides the function's names.
GUARD_CELLS = {"_autodiff_ast_float": float, "_autodiff_ast_int": int}


def proof(definition: ast.FunctionDef, function: types.FunctionType,
          plan: Plan) -> list[str] | None:
    """Conditions on the classes of the arguments (and of the globals
    holding numbers the code reads) under which, every argument being a
    plain number, each output the plan names has its argument's type as
    the code computes it: ``x.__class__ is y.__class__``, ``BETA.__class__
    is _autodiff_ast_float``. None where that cannot be shown."""
    arguments = definition.args
    params = [a.arg for a in arguments.args + arguments.kwonlyargs]
    reading = _Reading(function, params, plan)
    if not reading.block(definition.body,
                         {p: frozenset({p}) for p in params}):
        return None
    return _same_classes(reading.pairs) + [
        f"{name}.__class__ is _autodiff_ast_{kind.__name__}"
        for name, kind in sorted(reading.weak.items())]


def floats_as_computed(definition: ast.FunctionDef,
                       function: types.FunctionType, plan: Plan,
                       floats: Sequence[str]) -> bool:
    """Whether, each parameter named in ``floats`` being a Python float,
    each output the plan names is a Python float as the code computes it:
    arithmetic, ``abs`` and ``math`` functions of those parameters and of
    Python numbers written in the code. Not through a NumPy function (its
    result is NumPy's float64) nor a global number (the code reads it
    when it runs: it may be another type by then)."""
    arguments = definition.args
    params = [a.arg for a in arguments.args + arguments.kwonlyargs]
    reading = _Reading(function, params, plan, numpy=False)
    if not reading.block(definition.body,
                         {p: frozenset({p}) for p in params}):
        return False
    named = {name for pair in reading.pairs for name in pair}
    return named | set(reading.weak) <= set(floats) and all(
        kind is float for kind in reading.weak.values())


def _same_classes(pairs: set[tuple[str, str]]) -> list[str]:
    """``pairs`` of names that must have one class, as one condition per
    name but the first of each group of names bound together."""
    group: dict[str, str] = {}

    def first(name: str) -> str:
        while group.get(name, name) != name:
            name = group[name]
        return name

    for a, b in sorted(pairs):
        a, b = sorted((first(a), first(b)))
        if a != b:
            group[b] = a
    return [f"{name}.__class__ is {first(name)}.__class__"
            for name in sorted(group)]


class _Reading:
    """The walk of one generated function: each local's kind, the pairs of
    names whose classes must agree, and the globals taken as weak
    numbers (with their class). Not ``numpy``: a NumPy function's result
    is not known (at Python floats it is NumPy's float64)."""

    def __init__(self, function: types.FunctionType, params: list[str],
                 plan: Plan, numpy: bool = True) -> None:
        self.function = function
        self.params = params
        self.plan = plan
        self.numpy = numpy
        self.pairs: set[tuple[str, str]] = set()
        self.weak: dict[str, type] = {}

    def block(self, body: list[ast.stmt], env: dict[str, Kind]) -> bool:
        for statement in body:
            if isinstance(statement, ast.Return):
                if statement.value is None or not self.returned(
                        statement.value, self.plan, env):
                    return False
            elif isinstance(statement, ast.Assign):
                kind = self.kind(statement.value, env)
                for target in statement.targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            single = isinstance(target, ast.Name)
                            env[name.id] = _either(
                                env.get(name.id, kind),
                                kind if single else None)
            elif isinstance(statement, ast.If):
                if not (self.block(statement.body, env)
                        and self.block(statement.orelse, env)):
                    return False
            elif not isinstance(statement, (ast.Expr, ast.Raise, ast.Pass)):
                return False  # (a loop: not read; its outputs are cast)
        return True

    def returned(self, node: ast.expr, plan: Plan,
                 env: dict[str, Kind]) -> bool:
        if plan is None:
            return True
        if isinstance(plan, tuple):
            return (isinstance(node, ast.Tuple)
                    and len(node.elts) == len(plan)
                    and all(self.returned(e, p, env)
                            for e, p in zip(node.elts, plan)))
        kind = self.kind(node, env)
        if kind is None:
            return False
        wrt = self.params[plan]
        strong = _strong(kind)
        self.pairs.update((name, wrt) for name in strong if name != wrt)
        weak = {name[1:]: type(self.outside(name[1:]))
                for name in kind - strong if name != "~float"}
        self.weak.update(weak)
        if not strong:  # a Python number: right where the argument is one
            if "~float" not in kind and float not in weak.values():
                return False
            self.weak[wrt] = float
        return True

    def kind(self, node: ast.expr, env: dict[str, Kind]) -> Kind:
        if isinstance(node, ast.Constant):
            return {int: _INT, float: _FLOAT}.get(type(node.value))
        if isinstance(node, ast.Name):
            return env[node.id] if node.id in env else self.named(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            return _both(self.kind(node.left, env),
                         self.kind(node.right, env))
        if isinstance(node, ast.UnaryOp) and isinstance(
                node.op, (ast.USub, ast.UAdd)):
            return self.kind(node.operand, env)
        if isinstance(node, ast.IfExp):
            return _either(self.kind(node.body, env),
                           self.kind(node.orelse, env))
        if isinstance(node, ast.Call) and not node.keywords:
            kinds = [None if isinstance(a, ast.Starred)
                     else self.kind(a, env) for a in node.args]
            if None in kinds:
                return None
            called = self.callee(node.func)
            if called == "math":
                if not self.numpy and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in _MATH_INTS:
                    return None  # (an int where a float is asked for)
                return _FLOAT  # (floor's int is as weak)
            if called != "ufunc":
                return None
            # (a ufunc of Python numbers is a float64: not known)
            return frozenset(name.lstrip("~") for kind in kinds
                             for name in kind if name != "~float") or None
        return None

    def named(self, name: str) -> Kind:
        """The kind of a global or cell the code reads: a number's (its
        class is checked on each call), else not known."""
        value = self.outside(name)
        if type(value) in (float, int):
            return frozenset({f"~{name}"})
        if isinstance(value, np.floating):
            return frozenset({name})
        return None

    def callee(self, func: ast.expr) -> str | None:
        """"ufunc" for a NumPy ufunc that keeps a float's type (and
        ``abs``), "math" for a function of the math module."""
        if isinstance(func, ast.Name):
            return "ufunc" if self.outside(func.id) is builtins.abs \
                else None
        if not (isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)):
            return None
        module = self.outside(func.value.id)
        if module is math:
            return "math"
        if module is np and self.numpy and _keeps_floats(
                getattr(np, func.attr, None)):
            return "ufunc"
        return None

    def outside(self, name: str) -> Any:
        """What ``name`` is in the generated function now: a global, a
        cell's content or a builtin (None for its own names)."""
        code = self.function.__code__
        if name in self.params or name in code.co_varnames:
            return None
        if name in code.co_freevars:
            cell = self.function.__closure__[code.co_freevars.index(name)]
            return cell.cell_contents
        scope = self.function.__globals__
        if name in scope:
            return scope.get(name)
        return getattr(builtins, name, None)


def _keeps_floats(ufunc: Any) -> bool:
    """Whether a NumPy ufunc of floats of one type gives that type (sin,
    heaviside, maximum; not isnan or greater)."""
    return isinstance(ufunc, np.ufunc) and ufunc.nout == 1 and all(
        f"{t * ufunc.nin}->{t}" in ufunc.types for t in "efdg")


def _both(a: Kind, b: Kind) -> Kind:
    """The kind of an arithmetic result: both operands' classes decide."""
    return None if a is None or b is None else a | b


def _either(a: Kind, b: Kind) -> Kind:
    """The kind of a value that is one of two: known where both are, and
    neither is a Python number alone while the other is not."""
    if a is None or b is None:
        return None
    if a == b:
        return a
    return a | b if _strong(a) and _strong(b) else None


def _strong(kind: frozenset[str]) -> frozenset[str]:
    """The names in ``kind`` whose class the value takes (not weak)."""
    return frozenset(name for name in kind if name[0] != "~")
