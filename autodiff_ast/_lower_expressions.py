"""The lower stage's expressions: constants, arithmetic, branches.

Operators build SymPy expressions (products and long sums without
SymPy's slow paths, ``scaled`` and ``Sums``); a conditional expression
builds a ``Piecewise`` (``select``). Comparisons, truth and ``and``/``or``
are ``Conditions`` (``_lower_conditions``). A mixin of ``_Runner``
(``_lower``), which provides names, calls and vetting.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanAtom

from . import _fence
from ._array_rules import array_function
from ._errors import (AutodiffError, RefusedAtAnyArguments, at_any_arguments,
                      string_as_a_number)
from ._lists import Buffer, concatenated
from ._local import defined
from ._lower_conditions import CONNECTIVES, Conditions, select
from ._lower_names import describe
from ._lower_records import as_sympy
from ._rules import floordiv, mod, rewritten_by_canonical, where
from ._sums import LONG

__all__ = ["Expressions", "scaled", "select"]


# What evaluating an expression on symbolic values may raise that is the
# user's code's doing (a string used as a number, a bad operand).
_FAILURES = (TypeError, ValueError, ArithmeticError, AttributeError,
             sp.SympifyError)


class Expressions(Conditions):
    """Evaluates expressions on symbolic values."""

    def expression(self, node: ast.expr, env: dict[str, Any]) -> Any:
        # (one frame a level, with _expression: nesting runs into the
        # recursion limit)
        try:
            return self._expression(node, env)
        except AutodiffError:
            raise
        except _FAILURES as exc:
            raise self.failure(node, exc) from None

    def failure(self, node: ast.expr, exc: Exception) -> AutodiffError:
        """``exc``, raised while evaluating ``node``, as the user's error
        at ``node``."""
        error = self.error(node, f"cannot differentiate this expression: "
                                 f"{exc}")
        if isinstance(exc, RefusedAtAnyArguments):
            at_any_arguments(error)
        return error

    def _expression(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return self.constant(node.value, node)
        if isinstance(node, ast.Name):
            return self.name(node, env)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env)
        if isinstance(node, ast.BinOp):
            return self.left_to_right(node, env)
        if isinstance(node, ast.UnaryOp):
            operand = self.expression(node.operand, env)
            if isinstance(node.op, ast.Not):
                return sp.Not(self.as_condition(operand, node.operand))
            if isinstance(node.op, ast.Invert):
                return self.connective(node.op, (operand,), node)
            number = self.operand(operand, node.operand)
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, ast.Compare):
            return self.condition(node, env)
        if isinstance(node, ast.BoolOp):
            return self.either(node, env)
        if isinstance(node, ast.IfExp):
            condition = self.condition(node.test, env)
            if isinstance(condition, BooleanAtom):
                return self.expression(node.body if condition else node.orelse,
                                       env)
            self.scalar_condition(condition, node.test)
            return select(condition, self.expression(node.body, env),
                           self.expression(node.orelse, env), self, node)
        if isinstance(node, ast.Tuple):
            return tuple(self.expression(e, env) for e in node.elts)
        if isinstance(node, ast.Lambda):
            return defined(self, node, env)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env)
        if isinstance(node, ast.Call):
            if _fence.summed_generator(node) and self.expression(
                    node.func, env) is sum:
                return self.generated_sum(node, env)
            return self.call_expression(node, env)
        raise self.error(node, f"{type(node).__name__} expressions are not "
                               "supported")

    def left_to_right(self, node: ast.BinOp, env: dict[str, Any]) -> Any:
        """``node``'s value, its chain of left operands (a + b + c + ...)
        taken in a loop: a sum of a thousand terms written out is a
        thousand BinOps deep, deeper than recursion can go."""
        chain = [node]
        while isinstance(chain[-1].left, ast.BinOp):
            chain.append(chain[-1].left)
        value = self.expression(chain[-1].left, env)
        for operation in reversed(chain):
            right = self.expression(operation.right, env)
            try:
                value = self.arithmetic(operation.op, value, right,
                                        operation)
            except AutodiffError:
                raise
            except _FAILURES as exc:
                raise self.failure(operation, exc) from None
        return value

    def constant(self, value: Any, node: ast.AST) -> Any:
        if value is None or value is Ellipsis or isinstance(value, str):
            # An index (x[:, None]), a key, an aux value: refused where it
            # is used as a number.
            return value
        converted = as_sympy(value)
        if converted is None:
            if math.isinf(value):  # np.inf, float('inf')
                return sp.oo if value > 0 else -sp.oo
            raise self.error(node, f"the constant {value!r} is not a "
                                   "number: a derivative cannot compute "
                                   "with nan")
        return converted

    def number(self, value: Any, node: ast.AST) -> sp.Expr:
        if isinstance(value, sp.Expr):
            return value
        if isinstance(value, Boolean):
            # A comparison used as a number ((x > 0) * x, np.sum(x < y))
            # is 1 or 0, as in NumPy, with derivative 0 through it.
            return where(value, 1, 0)
        if isinstance(value, str):
            raise string_as_a_number(self.error(
                node, f"the string {value!r} is used as a number: a "
                "differentiated function computes with numbers (strings "
                "may be dict keys and has_aux values)"), value)
        if isinstance(value, Buffer):
            # [1.0] * n, read by NumPy as the array it makes of the list:
            # np.full(n, 1.0).
            full = array_function(np.full)
            assert full is not None and full.lower is not None
            return full.lower(self, (value.count,), value.fill, node=node)
        if isinstance(value, (int, np.integer)) and not isinstance(
                value, (bool, np.bool_)):
            # an item of a tuple of ints taken as the constant it is (a
            # shape, sizes): x * shape[0]
            return sp.Integer(int(value))
        if isinstance(value, (list, tuple)):
            # A NumPy function reads a list as np.array(list) does:
            # np.sum([a, a ** 2]), np.linalg.norm([a, 2.0]). (Python's own
            # operators and math functions take ``operand``, which refuses.)
            listed = array_function(np.array)
            assert listed is not None and listed.lower is not None
            return listed.lower(self, list(value), node=node)
        raise self.not_a_number(value, node)

    def operand(self, value: Any, node: ast.AST) -> sp.Expr:
        """``value`` as a number where Python, not NumPy, takes it (an
        operator, a math function): a list is not one there (Python's
        ``+`` and ``*`` join and repeat lists)."""
        if isinstance(value, (list, tuple)):
            raise self.not_a_number(value, node)
        return self.number(value, node)

    def not_a_number(self, value: Any, node: ast.AST) -> Exception:
        """The refusal of ``value`` where a number is needed: a list or a
        tuple named by the code that gave it (``a is a list of 2 items``),
        not by the symbols it holds."""
        if isinstance(value, (list, tuple)) and isinstance(node, ast.expr):
            count = len(value)
            return self.error(node, (
                f"{ast.unparse(node)} is a {type(value).__name__} of "
                f"{count} item{'' if count == 1 else 's'}, not a number"))
        return self.error(node, f"{describe(value)} is not a number")

    def arithmetic(self, op: ast.operator, left: Any, right: Any,
                   node: ast.AST) -> sp.Expr:
        if type(op) in CONNECTIVES:  # (a condition, not a number)
            return self.connective(op, (left, right), node)  # type: ignore
        if isinstance(op, ast.Add):  # t + (x,)
            joined = concatenated(self, left, right, node)
            if joined is not None:
                return joined
        a = self.operand(left, getattr(node, "left", node))
        b = self.operand(right, getattr(node, "right", node))
        if isinstance(op, (ast.Add, ast.Sub)):
            term = b if isinstance(op, ast.Add) else -b
            result = (self.longer(a, term, node)
                      or self.longer(term, a, node) or a + term)
        elif isinstance(op, ast.Mult):
            result = scaled(a, b)
            if result is None:
                result = a * b
        elif isinstance(op, ast.Div):
            if b == 0:
                raise self.error(node, "division by zero")
            result = scaled(a, sp.Rational(b.q, b.p)) if isinstance(
                b, sp.Rational) else None
            if result is None:
                result = a / b
        elif isinstance(op, ast.Pow):
            # An integer power is part of the closed form (x ** 3 -> 3 x**2
            # rather than N x**N / x): bake it in, checked when called.
            exponent = self.concrete(b)
            result = a ** (exponent if exponent.is_Integer else b)
        elif isinstance(op, ast.FloorDiv):
            result = floordiv(a, b)
        elif isinstance(op, ast.Mod):
            result = mod(a, b)
        else:
            raise self.error(node, f"the operator {type(op).__name__} is not "
                                   "supported")
        return self.vetted(result, node)

    def longer(self, total: sp.Expr, term: sp.Expr,
               node: ast.AST) -> sp.Expr | None:
        """``total + term`` when total is a long vetted sum (a sum written
        one statement per term): built and checked in the time the term
        takes, not the sum."""
        known = self.context.vetted
        if not (isinstance(total, sp.Add) and len(total.args) >= LONG
                and total in known):
            return None
        term = self.vetted(term, node)  # -b is new; b itself was vetted
        result = self.context.sums.plus(total, term)
        if result is not None:
            sizes = self.context.sizes
            sizes[result] = sizes[total] + sizes[term]
            if not rewritten_by_canonical(result):
                known.add(result)
        return result

def scaled(a: sp.Expr, b: sp.Expr) -> sp.Expr | None:
    """``a * b`` where one is a rational number and the other a product of
    a rational, symbols and calls (``3 * x``, ``sin(3 * x) / 3``,
    ``1/3 * (3 * cos(3 * x))``), built as SymPy's Mul builds it, without
    its flatten; None for any other product.

    Mul.flatten asks a new number whether it is zero, and SymPy answers
    by deducing all of the number's facts again (0.05 ms), once per term
    of a written-out sum in lowering and again in the chain rule. Here
    the numbers multiply as Python integers do, and the symbols and calls
    keep their order, which a number cannot change."""
    if not isinstance(a, sp.Rational):
        a, b = b, a
    if not isinstance(a, sp.Rational) or a.p == 0 or a is sp.S.One:
        return None
    if isinstance(b, sp.Mul):
        coefficient, *factors = b.args
        if not isinstance(coefficient, sp.Rational):
            coefficient, factors = sp.S.One, list(b.args)
    else:
        coefficient, factors = sp.S.One, [b]
    if not all(isinstance(f, sp.Symbol) and f.is_commutative
               or isinstance(f, sp.Function) and f.as_base_exp()[0] is f
               and f.is_commutative for f in factors):
        return None
    coefficient = a * coefficient
    if coefficient.p == 0:
        return None  # 0 * f: Mul's answer depends on f
    if coefficient.p == coefficient.q == 1:
        return sp.Mul._from_args(factors, True)
    return sp.Mul._from_args([coefficient] + factors, True)
