"""Differentiate stage: the chain rule over SymPy expressions.

An elementwise value of a program is one SymPy expression, so its partial
derivative with respect to a symbol is the chain rule over that
expression (``partial``: SymPy's own rules, applied once per distinct
subexpression); the array transforms (``_backward``, ``_forward``,
``_jacrev``, loops in ``_ops_loop``) take it per step. The result is
checked for anything SymPy could not resolve, which would otherwise print
as wrong code (``checked_partial``). Also here: how a function's output
splits into its value and aux (``split_aux``), and how an aux leaf is
returned (``aux_leaf``).
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp
from sympy.core.function import ArgumentIndexError
from sympy.logic.boolalg import Boolean, BooleanAtom

from ._unparse import Literal
from ._errors import OutputError, at_any_arguments
from ._limits import collector_paused
from ._lower_expressions import scaled
from ._functions import maximum, power_rule_exponent, where
from ._rules import canonical, inert_derivative

__all__ = ["split_aux", "aux_leaf", "checked_partial", "partial"]


# Constants an aux output may hold, written into generated code as they are.
_LITERAL_TYPES = (str, bytes, bool, int, float, complex, type(None),
                  type(Ellipsis))


def aux_leaf(leaf: Any, where: str) -> sp.Expr | Literal:
    """A leaf of a function's aux output as generated code returns it: a
    computed number (an expression), or a constant, returned as written.
    Aux is not differentiated, so like JAX's it may hold any such value."""
    if isinstance(leaf, sp.Expr):
        return leaf
    if isinstance(leaf, BooleanAtom):
        return Literal(bool(leaf))
    if type(leaf) in _LITERAL_TYPES and _round_trips(leaf):
        return Literal(leaf)
    if isinstance(leaf, Boolean):
        raise OutputError(
            f"the aux output of {where} contains the condition {leaf}: "
            "return a number instead, e.g. np.where(condition, 1.0, 0.0).")
    raise OutputError(
        f"the aux output of {where} contains {leaf!r}, which generated "
        "code cannot return: aux may hold numbers, arrays, strings, bools, "
        "None and tuples, lists and dicts of them.")


def _round_trips(value: Any) -> bool:
    """Whether ``repr(value)`` reads back as ``value`` (not nan or inf)."""
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError):
        return False


def split_aux(output: Any, where: str, has_aux: bool,
              allow_tuple: bool = False) -> tuple[Any, Any]:
    """(value, aux) of a function's output; an error if the output does
    not have the form has_aux asks for. ``allow_tuple``: the value may be
    a tuple of outputs (a Jacobian's)."""
    if has_aux:
        # (a list of two as well, as JAX takes it: [value, aux])
        if not (isinstance(output, (tuple, list)) and len(output) == 2):
            got = (f"a {type(output).__name__} of {len(output)}"
                   if isinstance(output, (tuple, list))
                   else "a single value")
            raise OutputError(
                f"has_aux=True requires {where} to return a pair "
                f"(value, aux), but it returns {got}. Return "
                "`value, aux`, or drop has_aux.")
        return tuple(output)  # type: ignore[return-value]
    if isinstance(output, tuple) and not allow_tuple:
        raise OutputError(
            f"{where} returns a tuple of {len(output)} values, but grad "
            "needs a single scalar output. If the other values are "
            "auxiliary data, return `value, aux` and pass has_aux=True.")
    return output, None


@collector_paused()
def checked_partial(value: sp.Expr, symbol: sp.Symbol,
                    where: str) -> sp.Expr:
    """d value / d symbol, refused if it is complex or SymPy could not
    resolve it (``where`` names the function: "f (file.py:3)")."""
    derivative = canonical(partial(value, symbol))
    # The derivative of a step (sign, Heaviside) is zero almost everywhere.
    derivative = derivative.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    if derivative.has(sp.I):
        raise at_any_arguments(OutputError(
            f"the derivative of {where} with respect to {symbol.name} is "
            "complex (a constant base raised to the argument's power takes "
            "the log of a negative number?)."))
    unresolved = derivative.atoms(sp.Derivative)
    if unresolved:
        functions = sorted({type(d.expr).__name__ for d in unresolved})
        raise at_any_arguments(OutputError(
            f"cannot differentiate {where} with respect to {symbol.name}: "
            f"no derivative rule for {', '.join(functions)}."))
    return derivative


def partial(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    """``sp.diff(expr, symbol)``, the same expression, in time linear in
    the number of distinct subexpressions.

    SymPy's ``diff`` wraps every node in a ``Derivative`` whose
    constructor checks its arguments and then walks the whole result again
    (to put unevaluated derivatives in canonical form), so a sum of n terms
    or a chain n deep costs far more than n rule applications, and a value
    shared by several parts is differentiated once per use. Here sums,
    products, powers, ``where`` and functions with SymPy's default rule
    are differentiated by the same formulas SymPy's ``_eval_derivative``
    uses (powers by ``_exponent_less_one``), each distinct subexpression
    once; any other node (Piecewise, ...) is left to ``diff``.
    """
    memo: dict[sp.Basic, sp.Expr] = {}

    def d(node: sp.Expr) -> sp.Expr:
        known = memo.get(node)
        if known is None:
            known = memo[node] = _rule(node, symbol, d)
        return known

    return d(expr)


_DEFAULT_RULE = sp.Function._eval_derivative


def _rule(node: sp.Expr, symbol: sp.Symbol, d: Any) -> sp.Expr:
    """d node / d symbol, with ``d`` for the parts' derivatives: SymPy's
    formula for this kind of node, term for term."""
    if node == symbol:
        return sp.S.One
    if node.is_Atom:
        return sp.S.Zero
    if node.is_Add:
        return sp.Add(*[d(a) for a in node.args])
    if node.is_Mul:  # Leibniz, as Mul._eval_derivative_n_times for n = 1
        args = node.args
        return _total([_times(args[:i], da, args[i + 1:])
                       for i, da in enumerate(d(a) for a in args)
                       if da is not sp.S.Zero])
    if node.is_Pow and type(node)._eval_derivative is \
            sp.Pow._eval_derivative:
        dbase, dexp = d(node.base), d(node.exp)
        if dbase is sp.S.Zero and dexp is sp.S.Zero:
            return sp.S.Zero  # diff's answer for a constant
        if dexp is sp.S.Zero and not node.exp.is_Number:
            return dbase * node.exp * node.base ** _exponent_less_one(
                node.base, node.exp)
        return node * (dexp * exponent_log(node.base)
                       + dbase * node.exp / node.base)
    if isinstance(node, where):
        return node.selecting(d(node.args[1]), d(node.args[2]))
    if isinstance(node, sp.Function) and \
            type(node)._eval_derivative is _DEFAULT_RULE:
        terms = []
        for index, a in enumerate(node.args, 1):
            da = d(a)
            if da.p == 0 if isinstance(da, sp.Rational) else da.is_zero:
                continue  # (a new number asked is_zero deduces every fact)
            try:
                df = inert_derivative(node) if index == 1 else None
                if df is None:
                    df = node.fdiff(index)
            except ArgumentIndexError:
                df = sp.Function.fdiff(node, index)
            product = scaled(df, da)
            terms.append(df * da if product is None else product)
        return _total(terms)
    return node.diff(symbol)


def _exponent_less_one(base: sp.Expr, n: sp.Expr) -> sp.Expr:
    """The exponent of the power rule's n * base ** (n - 1), for an n known
    at run time (an argument, a loop's counter, np.arange(4)).

    SymPy's n * base ** n / base divides by zero at base = 0, where the
    power rule is 0 for n > 1. At n = 0 the rule's 0 * 0 ** -1 is nan
    too, where the derivative (of 1) is 0, as JAX's: there the exponent is
    0 instead, through ``maximum(n - 1, 0)`` for an integer n >= 0 (a
    loop's counter) and ``power_rule_exponent(n)`` for any other."""
    lower = n - 1
    if n.is_zero is False or base.is_zero is False or \
            lower.is_nonnegative:
        return lower
    if n.is_integer and n.is_nonnegative:
        return maximum(lower, 0)
    return power_rule_exponent(n)


def exponent_log(base: sp.Expr) -> sp.Expr:
    """log(base) as d(base ** e)/de = base ** e * log(base) takes it: where
    base can be 0, log(1) there (JAX's and autograd's convention), so the
    partial is 0 where 0 ** e is 0 (e > 0), not 0 * -inf = nan, and 0 at
    e = 0 too (JAX: 0.0), with no log(0) computed (no warning)."""
    if base.is_zero is False:  # 2.0 ** x, exp(u) ** x: log as it is
        return sp.log(base)
    return sp.log(where(sp.Eq(base, 0), 1, base))


def _total(terms: list[sp.Expr]) -> sp.Expr:
    """``Add(*terms)``; one term is its own sum (the chain rule's usual
    case, which Add's constructor would check and look up again)."""
    return terms[0] if len(terms) == 1 else sp.Add(*terms)


def _times(before: tuple[sp.Expr, ...], factor: sp.Expr,
           after: tuple[sp.Expr, ...]) -> sp.Expr:
    """``Mul(*before, factor, *after)``; a number times the factor (the
    chain rule's ``1/3 * (3 * cos(3 * x))``) without Mul's flatten."""
    if len(before) + len(after) == 1:
        if factor is sp.S.One:  # d(3 * x) = 3
            return (before or after)[0]
        product = scaled((before or after)[0], factor)
        if product is not None:
            return product
    return sp.Mul(*before, factor, *after)
