"""The rules table: the one place where a primitive is declared.

A primitive is a NumPy, math or builtin callable that autodiff_ast knows how
to differentiate. Its row gives the callables it is recognised by (by object
identity, so ``np.tanh``, ``numpy.tanh`` and ``from numpy import tanh`` are
one primitive), the SymPy expression it lowers to, how generated code spells
it in NumPy code and in plain-Python/math code, and the interval on which the
tests check its derivative. Where SymPy already has the function (sin, exp,
...), SymPy's derivative is used; the others are SymPy functions defined here,
each derivative one line in the table.

Derivative conventions at kinks follow JAX: abs'(0) = 1,
maximum(x, y)' = 0.5 where x == y, rounding functions have derivative 0, and
so has 0.0 ** y with respect to y.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.core.logic import fuzzy_and
from sympy.logic.boolalg import Boolean

__all__ = ["Primitive", "PRIMITIVES", "primitive_for", "spelling_for",
           "canonical"]


# ---------------------------------------------------------------------------
# SymPy functions that SymPy lacks, or whose SymPy derivative breaks a
# convention (sign' is a DiracDelta there, abs'(0) is 0 there).

def _all_real(self: sp.Function) -> bool | None:
    return fuzzy_and(a.is_real for a in self.args
                        if not isinstance(a, Boolean))


def _elementary(name: str, nargs: int,
                derivatives: Callable[..., tuple[sp.Expr, ...]],
                numeric: Callable[..., float] | None = None) -> type:
    """A SymPy function whose partial derivatives are ``derivatives(*args)``.

    ``numeric`` evaluates it at exact numbers (kept symbolic otherwise).
    """

    def fdiff(self: sp.Function, argindex: int = 1) -> sp.Expr:
        return derivatives(*self.args)[argindex - 1]

    def eval(cls: type, *args: sp.Expr) -> sp.Expr | None:
        if numeric is not None and all(a.is_Rational for a in args):
            value = numeric(*args)
            if value is not None:
                return sp.sympify(value)
        return None

    return type(name, (sp.Function,), {
        "nargs": nargs, "fdiff": fdiff, "eval": classmethod(eval),
        "_eval_is_real": _all_real,
    })


def _zero(*args: sp.Expr) -> tuple[sp.Expr, ...]:
    return tuple(sp.S.Zero for _ in args)


expm1 = _elementary("expm1", 1, lambda x: (sp.exp(x),),
                    lambda x: sp.exp(x) - 1 if x == 0 else None)
log1p = _elementary("log1p", 1, lambda x: (1 / (1 + x),),
                    lambda x: 0 if x == 0 else None)
log2 = _elementary("log2", 1, lambda x: (1 / (x * sp.log(2)),),
                   lambda x: 0 if x == 1 else None)
log10 = _elementary("log10", 1, lambda x: (1 / (x * sp.log(10)),),
                    lambda x: 0 if x == 1 else None)
cbrt = _elementary("cbrt", 1, lambda x: (1 / (3 * cbrt(x) ** 2),),
                   lambda x: sp.sign(x) * sp.root(abs(x), 3))
absolute = _elementary("absolute", 1, lambda x: (copysign(1, x),), abs)
sign = _elementary("sign", 1, _zero, sp.sign)
floor = _elementary("floor", 1, _zero, sp.floor)
ceil = _elementary("ceil", 1, _zero, sp.ceiling)
trunc = _elementary("trunc", 1, _zero,
                    lambda x: sp.sign(x) * sp.floor(abs(x)))
rint = _elementary("rint", 1, _zero, lambda x: round(sp.Rational(x)))
copysign = _elementary(
    "copysign", 2, lambda a, b: (copysign(1, a) * copysign(1, b), 0),
    lambda a, b: abs(a) * (1 if b >= 0 else -1))
heaviside = _elementary(
    "heaviside", 2, _zero,
    lambda z, h: 1 if z > 0 else (0 if z < 0 else h))
hypot = _elementary(
    "hypot", 2, lambda x, y: (x / hypot(x, y), y / hypot(x, y)),
    lambda x, y: sp.sqrt(x**2 + y**2))
maximum = _elementary(
    "maximum", 2,
    lambda a, b: (heaviside(a - b, sp.S.Half), heaviside(b - a, sp.S.Half)),
    lambda a, b: max(a, b))
minimum = _elementary(
    "minimum", 2,
    lambda a, b: (heaviside(b - a, sp.S.Half), heaviside(a - b, sp.S.Half)),
    lambda a, b: min(a, b))
logaddexp = _elementary(
    "logaddexp", 2,
    lambda a, b: (sp.exp(a - logaddexp(a, b)), sp.exp(b - logaddexp(a, b))))
floordiv = _elementary("floordiv", 2, _zero,
                       lambda a, b: sp.floor(a / b) if b != 0 else None)
mod = _elementary("mod", 2, lambda a, b: (1, -floordiv(a, b)),
                  lambda a, b: a - b * sp.floor(a / b) if b != 0 else None)
# ``0.0 ** y``: SymPy's d/dy 0**y is 0**y * log(0), nan everywhere. JAX
# and autograd take log(1) for log(0) there, which gives 0 for y >= 0 (and
# 0 * inf = nan for y < 0, where the function itself is inf in NumPy and
# raises ZeroDivisionError on Python floats; we give 0 there too, since
# generated code cannot hold a nan constant and stay differentiable).
zero_power = _elementary("zero_power", 1, _zero, lambda y: sp.S.Zero ** y)


class where(sp.Function):
    """``np.where(condition, a, b)``: both branches are differentiated."""

    nargs = 3

    @classmethod
    def eval(cls, condition: sp.Basic, a: sp.Expr,
             b: sp.Expr) -> sp.Expr | None:
        if condition is sp.true or a == b:
            return a
        if condition is sp.false:
            return b
        return None

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        condition, a, b = self.args
        return where(condition, _known(a.diff(s), condition, True),
                     _known(b.diff(s), condition, False))

    def _eval_is_real(self) -> bool | None:
        return _all_real(self)


def _known(expr: sp.Expr, condition: sp.Basic, holds: bool) -> sp.Expr:
    """``expr`` inside the branch of a where where ``condition`` is known to
    hold (or not): a nested selection on the same condition between
    numbers is decided. (Selections of non-numbers stay: they keep the
    branch not taken away from its singularities.)"""
    def decided(node: sp.Basic) -> bool:
        if not isinstance(node, where) or node.args[0] != condition:
            return False
        return bool((node.args[1] if holds else node.args[2]).is_Number)
    return expr.replace(decided,
                        lambda node: node.args[1] if holds else node.args[2])


# ---------------------------------------------------------------------------
# The table.

@dataclass(frozen=True)
class Primitive:
    """One differentiable callable and everything the pipeline needs of it.

    ``numpy``/``math``/``builtin`` name the attributes it is recognised by;
    ``lower`` builds its SymPy expression from SymPy arguments;
    ``sympy_function`` is the SymPy class that prints back as this
    primitive (None for those that lower to arithmetic, like sqrt);
    ``np_spelling``/``py_spelling`` are how generated NumPy and
    plain-Python code call it (py_spelling None: math has no such function,
    NumPy's is used); ``domain`` is where its derivative is tested.
    """

    name: str
    lower: Callable[..., sp.Expr]
    numpy: tuple[str, ...] = ()
    math: tuple[str, ...] = ()
    builtin: tuple[str, ...] = ()
    sympy_function: type | None = None
    np_spelling: str | None = None
    py_spelling: str | None = None
    domain: tuple[float, float] = (-3.0, 3.0)
    nargs: int = 1


def _row(name: str, function: type, numpy: tuple[str, ...],
         math_names: tuple[str, ...] = (), builtin: tuple[str, ...] = (),
         domain: tuple[float, float] = (-3.0, 3.0),
         py_spelling: str | None = None) -> Primitive:
    """A row whose SymPy function prints back under its NumPy/math name."""
    if py_spelling is None and math_names:
        py_spelling = f"math.{math_names[0]}"
    nargs = int(next(iter(function.nargs)))
    return Primitive(
        name=name, lower=function, numpy=numpy, math=math_names,
        builtin=builtin, sympy_function=function,
        np_spelling=f"np.{numpy[0]}", py_spelling=py_spelling,
        domain=domain, nargs=nargs)


def _arithmetic(name: str, lower: Callable[..., sp.Expr],
                numpy: tuple[str, ...], math_names: tuple[str, ...] = (),
                builtin: tuple[str, ...] = (), nargs: int = 1,
                domain: tuple[float, float] = (-3.0, 3.0)) -> Primitive:
    """A row that lowers to SymPy arithmetic (Pow) and prints as such."""
    return Primitive(name=name, lower=lower, numpy=numpy, math=math_names,
                     builtin=builtin, nargs=nargs, domain=domain)


PRIMITIVES: tuple[Primitive, ...] = (
    _row("sin", sp.sin, ("sin",), ("sin",)),
    _row("cos", sp.cos, ("cos",), ("cos",)),
    _row("tan", sp.tan, ("tan",), ("tan",), domain=(-1.4, 1.4)),
    _row("arcsin", sp.asin, ("arcsin", "asin"), ("asin",),
         domain=(-0.95, 0.95)),
    _row("arccos", sp.acos, ("arccos", "acos"), ("acos",),
         domain=(-0.95, 0.95)),
    _row("arctan", sp.atan, ("arctan", "atan"), ("atan",)),
    _row("arctan2", sp.atan2, ("arctan2", "atan2"), ("atan2",),
         domain=(0.2, 3.0)),
    _row("sinh", sp.sinh, ("sinh",), ("sinh",)),
    _row("cosh", sp.cosh, ("cosh",), ("cosh",)),
    _row("tanh", sp.tanh, ("tanh",), ("tanh",)),
    _row("arcsinh", sp.asinh, ("arcsinh", "asinh"), ("asinh",)),
    _row("arccosh", sp.acosh, ("arccosh", "acosh"), ("acosh",),
         domain=(1.1, 4.0)),
    _row("arctanh", sp.atanh, ("arctanh", "atanh"), ("atanh",),
         domain=(-0.95, 0.95)),
    _row("exp", sp.exp, ("exp",), ("exp",)),
    _arithmetic("exp2", lambda x: sp.Integer(2) ** x, ("exp2",), ("exp2",)),
    _row("expm1", expm1, ("expm1",), ("expm1",)),
    _row("log", sp.log, ("log",), ("log",), domain=(0.1, 4.0)),
    _row("log2", log2, ("log2",), ("log2",), domain=(0.1, 4.0)),
    _row("log10", log10, ("log10",), ("log10",), domain=(0.1, 4.0)),
    _row("log1p", log1p, ("log1p",), ("log1p",), domain=(-0.9, 4.0)),
    _arithmetic("sqrt", sp.sqrt, ("sqrt",), ("sqrt",), domain=(0.1, 4.0)),
    _row("cbrt", cbrt, ("cbrt",), ("cbrt",), domain=(0.1, 4.0),
         py_spelling="np.cbrt"),
    _arithmetic("square", lambda x: x ** 2, ("square",)),
    _row("absolute", absolute, ("abs", "absolute", "fabs"), ("fabs",),
         ("abs",), py_spelling="abs"),
    _row("sign", sign, ("sign",)),
    _row("hypot", hypot, ("hypot",), ("hypot",)),
    _arithmetic("power", lambda x, y: x ** y, ("power", "pow"), ("pow",),
                ("pow",), nargs=2, domain=(0.2, 3.0)),
    _row("maximum", maximum, ("maximum",), (), ("max",), py_spelling="max"),
    _row("minimum", minimum, ("minimum",), (), ("min",), py_spelling="min"),
    _row("logaddexp", logaddexp, ("logaddexp",)),
    _row("floor", floor, ("floor",), ("floor",)),
    _row("ceil", ceil, ("ceil",), ("ceil",)),
    _row("rint", rint, ("rint", "round"), (), ("round",),
         py_spelling="round"),
    _row("trunc", trunc, ("trunc",), ("trunc",)),
    _row("copysign", copysign, ("copysign",), ("copysign",)),
    _row("heaviside", heaviside, ("heaviside",)),
    _row("where", where, ("where",)),
)

# Python operators that lower to these functions; printed as operators.
OPERATOR_FUNCTIONS = {floordiv: "//", mod: "%"}


def _recognised() -> dict[object, Primitive]:
    table: dict[object, Primitive] = {}
    for primitive in PRIMITIVES:
        for module, names in ((np, primitive.numpy), (math, primitive.math),
                              (builtins, primitive.builtin)):
            for name in names:
                obj = getattr(module, name, None)
                if obj is not None:
                    table[obj] = primitive
    return table


_BY_OBJECT = _recognised()
_BY_SYMPY = {p.sympy_function: p for p in PRIMITIVES if p.sympy_function}


def primitive_for(obj: object) -> Primitive | None:
    """The primitive a Python callable is, or None."""
    try:
        return _BY_OBJECT.get(obj)
    except TypeError:  # unhashable: not a primitive
        return None


def namespace_of(obj: object) -> str | None:
    """'numpy' or 'math' for a primitive callable from that module."""
    module = getattr(obj, "__module__", None) or ""
    if isinstance(obj, np.ufunc) or module.startswith("numpy"):
        return "numpy"
    if module == "math":
        return "math"
    return None


def spelling_for(function: type, namespace: str) -> str:
    """How generated code in ``namespace`` ('numpy' or 'math') calls it."""
    primitive = _BY_SYMPY[function]
    if namespace == "math" and primitive.py_spelling:
        return primitive.py_spelling
    assert primitive.np_spelling is not None
    return primitive.np_spelling



def _nested(function: type) -> Callable[..., sp.Expr]:
    def build(*args: sp.Expr) -> sp.Expr:
        result = args[0]
        for arg in args[1:]:
            result = function(result, arg)
        return result
    return build


# SymPy's own functions that its automatic evaluation produces (sqrt(x**2)
# is Abs(x) for real x), mapped to the table's, whose derivatives follow
# the conventions above.
_SYMPY_EQUIVALENTS: dict[type, Callable[..., sp.Expr]] = {
    sp.Abs: absolute,
    sp.sign: sign,
    sp.floor: floor,
    sp.ceiling: ceil,
    sp.Heaviside: lambda x, h=sp.S.Half: heaviside(x, h),
    sp.Max: _nested(maximum),
    sp.Min: _nested(minimum),
}


def canonical(expr: sp.Basic) -> sp.Basic:
    """``expr`` with SymPy's Abs, sign, Max, ... replaced by the table's
    (and ``0 ** y`` by ``zero_power(y)``, whose derivative is JAX's)."""
    if not isinstance(expr, sp.Basic):
        return expr
    for sympy_function, replacement in _SYMPY_EQUIVALENTS.items():
        if expr.has(sympy_function):
            expr = expr.replace(sympy_function, replacement)
    if expr.has(sp.Pow):
        expr = expr.replace(
            lambda e: isinstance(e, sp.Pow) and e.base.is_zero
            and bool(e.exp.free_symbols),
            lambda e: zero_power(e.exp))
    return expr
