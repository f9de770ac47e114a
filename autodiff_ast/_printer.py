"""Print SymPy expressions as Python AST nodes, the way a person writes them.

``3*x**2 + 4*x - 3`` rather than ``3*x**2 + 4*x + (-3)``; exact decimal
fractions as the literal the user wrote (0.5, 0.1) and other fractions as a
division (x / 3); functions spelled in the namespace of the user's code
(``np.tanh`` or ``math.tanh``); square roots as sqrt; constants that stay
Python floats, so NumPy keeps an array's dtype (float32 in, float32 out).
"""

from __future__ import annotations

import ast
import copy
import itertools
import math
import sys
from fractions import Fraction
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean

from ._rules import (OPERATOR_FUNCTIONS, absolute, call_form, heaviside,
                     power_rule_exponent, scipy_module, spelling_for, where,
                     zero_power)
from ._sums import ordered_terms

__all__ = ["ExpressionPrinter", "decimal_text", "numeric_function"]


def decimal_text(value: sp.Rational) -> str | None:
    """The shortest decimal literal equal to ``value``, if one exists."""
    fraction = Fraction(int(value.p), int(value.q))
    q = fraction.denominator
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q != 1 or abs(fraction) > sys.float_info.max:
        return None  # (beyond float range: no literal equals it)
    text = repr(float(fraction))
    return text if Fraction(text) == fraction else None


def _name(identifier: str) -> ast.expr:
    node: ast.expr | None = None
    for part in identifier.split("."):
        node = (ast.Name(part, ast.Load()) if node is None
                else ast.Attribute(node, part, ast.Load()))
    assert node is not None
    return node


def _call(spelling: str, args: list[ast.expr]) -> ast.expr:
    return ast.Call(_name(spelling), args, [])


def _binary(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.expr:
    return ast.BinOp(left, op, right)


def _negate(node: ast.expr) -> ast.expr:
    return ast.UnaryOp(ast.USub(), node)


# Terms of one sum or factors of one product printed as a flat chain.
_LONGEST_CHAIN = 32

_LARGEST_FLOAT = sp.Integer(int(sys.float_info.max))
_LONGEST_INTEGER = sp.Integer(10) ** 20

_RELATIONS = {sp.StrictLessThan: ast.Lt, sp.LessThan: ast.LtE,
              sp.StrictGreaterThan: ast.Gt, sp.GreaterThan: ast.GtE,
              sp.Equality: ast.Eq, sp.Unequality: ast.NotEq}


class ExpressionPrinter:
    """Turns SymPy expressions into ``ast.expr`` for one namespace.

    ``names`` maps symbols (arguments, temporaries) to the identifiers the
    generated code uses for them.
    """

    def __init__(self, namespace: str,
                 names: Mapping[sp.Symbol, str] | None = None) -> None:
        self.namespace = namespace
        self.names = dict(names or {})
        self.module = "np" if namespace == "numpy" else "math"

    def __call__(self, expr: sp.Basic) -> ast.expr:
        return self.print(expr)

    def print(self, expr: sp.Basic) -> ast.expr:
        if isinstance(expr, sp.Symbol):
            return ast.Name(self.names.get(expr, expr.name), ast.Load())
        if isinstance(expr, sp.Number) or expr.is_NumberSymbol:
            return self.number(expr)
        if isinstance(expr, sp.Add):
            return self.add(expr)
        if isinstance(expr, sp.Mul):
            return self.mul(expr)
        if isinstance(expr, sp.Pow):
            return self.pow(expr)
        if isinstance(expr, sp.Piecewise):
            return self.piecewise(expr)
        if isinstance(expr, (sp.Rel, Boolean)):
            return self.boolean(expr)
        if isinstance(expr, sp.Function):
            return self.function(expr)
        raise TypeError(f"cannot print {type(expr).__name__}: {expr}")

    # -- numbers -----------------------------------------------------------

    def number(self, expr: sp.Basic) -> ast.expr:
        if isinstance(expr, sp.Integer) and abs(expr.p) < 10 ** 20:
            # (the common case, in Python integers: SymPy's comparisons
            # below cost 0.05 ms each, a sum of 3000 terms prints 3000)
            node = ast.Constant(abs(expr.p))
            return _negate(node) if expr.p < 0 else node
        if expr is sp.pi:
            return _name(f"{self.module}.pi")
        if expr is sp.E:
            return _name(f"{self.module}.e")
        if expr in (sp.oo, -sp.oo):  # np.inf in NumPy code, as pi
            node = _name(f"{self.module}.inf")
            return node if expr is sp.oo else _negate(node)
        if expr is sp.nan or expr is sp.zoo:
            return _name(f"{self.module}.nan")
        if isinstance(expr, sp.Rational) and abs(expr) > _LARGEST_FLOAT:
            # Beyond float range: what the user's float arithmetic gives.
            node = _name(f"{self.module}.inf")
            return _negate(node) if expr < 0 else node
        if isinstance(expr, sp.Integer):
            # Past 20 digits the float it becomes next to a float anyway
            # (1e+30, not 1000000000000000000000000000000).
            node = ast.Constant(abs(int(expr)) if abs(expr) < _LONGEST_INTEGER
                                else abs(float(expr)))
            return _negate(node) if expr < 0 else node
        if isinstance(expr, sp.Rational):
            text = decimal_text(abs(expr))
            if text is not None:
                node = ast.Constant(float(text))
            elif not _short_quotient(expr):
                node = ast.Constant(abs(float(expr)))
            else:
                node = _binary(ast.Constant(abs(int(expr.p))), ast.Div(),
                               ast.Constant(int(expr.q)))
            return _negate(node) if expr < 0 else node
        value = float(expr)
        node = ast.Constant(abs(value))
        return _negate(node) if value < 0 else node

    # -- arithmetic ----------------------------------------------------------

    def add(self, expr: sp.Add) -> ast.expr:
        return self.sum_of(ordered_terms(expr))

    def sum_of(self, terms: list[sp.Expr]) -> ast.expr:
        if len(terms) > _LONGEST_CHAIN:
            # Halves, so no chain nests deeper than Python's compiler (and
            # astor) can recurse.
            middle = len(terms) // 2
            return _binary(self.sum_of(terms[:middle]), ast.Add(),
                           self.sum_of(terms[middle:]))
        # Lead with a positive term: "8*t**2 - 6*t**4", not "-(6*t**4) + ...".
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        if positive and positive[0] is not terms[0]:
            terms.remove(positive[0])
            terms.insert(0, positive[0])
        result = self.print(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                result = _binary(result, ast.Sub(), self.print(-term))
            else:
                result = _binary(result, ast.Add(), self.print(term))
        return result

    def mul(self, expr: sp.Mul) -> ast.expr:
        coefficient, factors = expr.as_coeff_Mul()
        if not coefficient.is_negative:
            return self.mul_positive(coefficient, factors)
        sums = [f for f in sp.Mul.make_args(factors) if isinstance(f, sp.Add)]
        if sums:
            # Fold the sign into a sum: "(b - a) * c", not "-(a - b) * c".
            flipped = sp.Add(*[-term for term in sums[0].args],
                             evaluate=False)
            others = list(sp.Mul.make_args(factors))
            others.remove(sums[0])
            rest = sp.Mul(flipped, *others, evaluate=False)
            return self.mul_positive(-coefficient, rest)
        # Negate the leading factor, "-3 * x * y", not the product "-(3*x*y)".
        product = self.mul_positive(-coefficient, factors)
        node = product
        while isinstance(node, ast.BinOp) and isinstance(
                node.left, ast.BinOp) and isinstance(
                node.left.op, (ast.Mult, ast.Div)):
            node = node.left
        if isinstance(node, ast.BinOp) and isinstance(node.op,
                                                      (ast.Mult, ast.Div)):
            node.left = _negate(node.left)
            return product
        return _negate(product)

    def mul_positive(self, coefficient: sp.Number,
                     rest: sp.Expr) -> ast.expr:
        numerator: list[ast.expr] = []
        denominator: list[ast.expr] = []
        if isinstance(coefficient, sp.Rational) and coefficient != 1:
            if decimal_text(coefficient) is not None or not _short_quotient(
                    coefficient):
                numerator.append(self.number(coefficient))
            else:
                if coefficient.p != 1:
                    numerator.append(ast.Constant(int(coefficient.p)))
                denominator.append(ast.Constant(int(coefficient.q)))
        elif coefficient != 1:
            numerator.append(self.number(coefficient))
        factors = (rest.as_ordered_factors() if isinstance(rest, sp.Mul)
                   else [rest])
        for factor in factors:
            if factor == 1:
                continue
            base, exponent = factor.as_base_exp()
            if (isinstance(factor, sp.Pow) and exponent.is_Number
                    and exponent.is_negative):
                if self.fast_power(base ** -exponent):
                    denominator.extend(
                        self.power_factors(base, int(-exponent)))
                else:
                    denominator.append(self.print(base ** -exponent))
            elif self.fast_power(factor):
                numerator.extend(self.power_factors(base, int(exponent)))
            else:
                numerator.append(self.print(factor))
        result = _product(numerator) if numerator else ast.Constant(1)
        if denominator:
            result = _binary(result, ast.Div(), _product(denominator))
        return result

    def pow(self, expr: sp.Pow) -> ast.expr:
        base, exponent = expr.args
        if exponent.is_Number and exponent.is_negative:
            return _binary(ast.Constant(1), ast.Div(),
                           self.print(base ** -exponent))
        if exponent == sp.S.Half:
            return self.call_named("sqrt", [self.print(base)], base)
        if self.fast_power(expr):
            return _product(self.power_factors(base, int(exponent)))
        if (exponent.is_Number and not exponent.is_Integer
                and base.is_nonnegative is not True):
            return self.fractional_power(base, exponent)
        return _binary(self.print(base), ast.Pow(), self.print(exponent))

    def fractional_power(self, base: sp.Expr,
                         exponent: sp.Number) -> ast.expr:
        """``base ** exponent`` for a base that may be negative.

        On a negative Python float ``**`` with a fractional exponent is a
        complex number (``(-3.0) ** 1.5``), where NumPy, math and JAX give
        nan or raise ValueError. Through sqrt or pow they do the same here:
        ``np.sqrt(u) ** 3`` (``x * np.sqrt(x)`` for a name), else
        ``np.power(u, 1.7)`` (``math.pow`` in math code).
        """
        if (2 * exponent).is_Integer:
            root = self.call_named("sqrt", [self.print(base)], base)
            whole = int(exponent - sp.S.Half)
            if isinstance(base, sp.Symbol):
                if whole == 0:
                    return root
                return _binary(self.print(base ** whole), ast.Mult(), root)
            return _binary(root, ast.Pow(), ast.Constant(2 * whole + 1))
        args = [self.print(base), self.print(exponent)]
        if self.module == "math":
            return _call("math.pow", args)
        if not base.free_symbols:
            return self.of_constants("np.power", "math.pow", args)
        return _call("np.power", args)

    def fast_power(self, expr: sp.Basic) -> bool:
        """Whether to write an integer power as squares: NumPy squares
        arrays fast but computes other integer powers with the general
        pow, several times slower."""
        return (self.namespace == "numpy" and isinstance(expr, sp.Pow)
                and expr.exp.is_Integer and expr.exp > 2
                and bool(expr.base.free_symbols))

    def power_factors(self, base: sp.Expr, exponent: int) -> list[ast.expr]:
        """``[t ** 2, t]`` for ``t ** 3``, ``[(t ** 2) ** 2, t]`` for
        ``t ** 5``: repeated squaring, largest factor first. A cube of a
        name is ``t * t * t``, which reads as one (and is as fast)."""
        if exponent == 3 and isinstance(base, sp.Symbol):
            return [self.print(base) for _ in range(3)]
        factors = []
        square = self.print(base)
        while exponent:
            if exponent % 2:
                factors.append(copy.deepcopy(square))  # astor annotates nodes
            exponent //= 2
            if exponent:
                square = _binary(square, ast.Pow(), ast.Constant(2))
        return factors[::-1]

    def call_named(self, name: str, args: list[ast.expr],
                   *operands: sp.Basic) -> ast.expr:
        if self.module == "np" and not any(o.free_symbols for o in operands):
            return self.of_constants(f"np.{name}", f"math.{name}", args)
        return _call(f"{self.module}.{name}", args)

    def of_constants(self, spelling: str, math_spelling: str,
                     args: list[ast.expr]) -> ast.expr:
        """A function of constants (``np.log(2 * np.pi)``) as a Python
        float, which NumPy keeps weakly typed (a float32 array times it
        stays float32, where np.log's float64 scalar would make it
        float64): ``float(np.log(2 * np.pi))``, spelled as the user did,
        so NumPy code runs where only NumPy is imported; math's as it is."""
        if not spelling.startswith("np."):
            return _call(math_spelling, args)
        return _call("float", [_call(spelling, [
            _FloatsInside().visit(arg) for arg in args])])

    # -- functions and conditions ------------------------------------------

    def function(self, expr: sp.Function) -> ast.expr:
        cls = type(expr)
        primitive, arguments = call_form(expr)
        args = [self.print(a) for a in arguments]
        if cls in OPERATOR_FUNCTIONS:
            op = ast.FloorDiv() if OPERATOR_FUNCTIONS[cls] == "//" else ast.Mod()
            return _binary(args[0], op, args[1])
        if cls is zero_power:
            return _binary(ast.Constant(0.0), ast.Pow(), args[0])
        if cls is power_rule_exponent:  # n - 1 + (n == 0)
            return _binary(_binary(args[0], ast.Sub(), ast.Constant(1)),
                           ast.Add(), ast.Compare(args[0], [ast.Eq()],
                                                  [ast.Constant(0)]))
        if cls is absolute:
            # abs() is an operator (__abs__), as ** is: np.absolute on an
            # array of any kind, but 20 ns at a float where np.abs takes
            # 120 (the stable tanh' and softplus' forms call it).
            return _call("abs", args)
        if cls is sp.exp and expr.args[0] == 1:
            return self.number(sp.E)
        # Math code computes on Python floats, and stays math code (a
        # NumPy call would make its result NumPy's float): a step is the
        # float of a comparison.
        if cls is heaviside and self.namespace == "math":
            return self.step(*expr.args)
        spelling = spelling_for(primitive, self.namespace)
        if not expr.free_symbols and cls is not where:
            math_spelling = spelling_for(primitive, "math")
            if math_spelling.startswith("math."):
                return self.of_constants(spelling, math_spelling, args)
        return _call(spelling, args)

    def step(self, z: sp.Expr, at_zero: sp.Expr) -> ast.expr:
        """heaviside(z, at_zero) as math code writes it: ``float(z >= 0)``
        (at_zero 1; ``float(h <= 0)`` for z = -h), ``float(z > 0)`` (0),
        else the two weighted so (``0.5 * float(z >= 0) + 0.5 *
        float(z > 0)``). At a nan z it is 0, where NumPy's is nan."""
        negated = z.could_extract_minus_sign()
        side = self.print(-z if negated else z)

        def above(strictly: bool) -> ast.expr:
            compared = (ast.Gt if strictly else ast.GtE) if not negated \
                else (ast.Lt if strictly else ast.LtE)
            return _call("float", [ast.Compare(side, [compared()],
                                               [ast.Constant(0)])])
        if at_zero in (0, 1):
            return above(at_zero == 0)
        return _binary(_binary(self.print(at_zero), ast.Mult(), above(False)),
                       ast.Add(), _binary(self.print(1 - at_zero), ast.Mult(),
                                          above(True)))

    def piecewise(self, expr: sp.Piecewise) -> ast.expr:
        pieces = list(expr.args)
        if pieces[-1].cond is sp.true:
            result = self.print(pieces.pop().expr)
        else:
            result = _name(f"{self.module}.nan")  # no branch applies
        for piece in reversed(pieces):
            result = ast.IfExp(self.print(piece.cond), self.print(piece.expr),
                               result)
        return result

    def boolean(self, expr: sp.Basic) -> ast.expr:
        if expr is sp.true or expr is sp.false:
            return ast.Constant(bool(expr))
        relation = _RELATIONS.get(type(expr))
        if relation is not None:
            return ast.Compare(self.print(expr.lhs), [relation()],
                               [self.print(expr.rhs)])
        if isinstance(expr, sp.And):
            parts = self.chained(sorted(expr.args, key=sp.default_sort_key))
            return parts[0] if len(parts) == 1 else ast.BoolOp(ast.And(),
                                                               parts)
        if isinstance(expr, sp.Or):
            ordered = sorted(expr.args, key=sp.default_sort_key)
            return ast.BoolOp(ast.Or(), [self.print(a) for a in ordered])
        if isinstance(expr, sp.Not):
            return ast.UnaryOp(ast.Not(), self.print(expr.args[0]))
        if isinstance(expr, sp.core.function.Application):
            return self.function(expr)  # a table's condition: np.isnan(x)
        raise TypeError(f"cannot print the condition {expr}")

    def chained(self, conditions: list[sp.Basic]) -> list[ast.expr]:
        """The parts of ``a and b and ...``, where comparisons share an
        operand joined into a chain as Python writes it: ``lo <= x < hi``,
        not ``lo <= x and hi > x`` (SymPy keeps each comparison in its own
        canonical direction). Others print as they are, in order."""
        # Each chain: (the order of its first condition, its links).
        chains = [(order, [link]) for order, link in (
            (order, _ascending(c)) for order, c in enumerate(conditions))
            if link is not None]
        joined = True
        while joined:
            joined = False
            for (_, first), (_, then) in itertools.permutations(chains, 2):
                if first[-1][2] == then[0][0]:
                    first.extend(then)
                    chains = [c for c in chains if c[1] is not then]
                    joined = True
                    break
        starts = {order: links for order, links in chains}
        parts = []
        for order, condition in enumerate(conditions):
            links = starts.get(order)
            if links is not None and len(links) > 1:
                parts.append(ast.Compare(
                    self.print(links[0][0]), [op() for _, op, _ in links],
                    [self.print(right) for _, _, right in links]))
            elif _ascending(condition) is None or links is not None:
                parts.append(self.print(condition))
        return parts


def _ascending(condition: sp.Basic) -> tuple[sp.Expr, type, sp.Expr] | None:
    """``condition`` as ``(a, <, b)`` or ``(a, <=, b)`` where it orders
    two numbers (``hi > x`` is ``x < hi``), for a chain; else None."""
    if isinstance(condition, (sp.StrictLessThan, sp.LessThan)):
        return condition.lhs, _RELATIONS[type(condition)], condition.rhs
    if isinstance(condition, sp.StrictGreaterThan):
        return condition.rhs, ast.Lt, condition.lhs
    if isinstance(condition, sp.GreaterThan):
        return condition.rhs, ast.LtE, condition.lhs
    return None


# Integers that are exact floats: for such p and q, ``p / q`` is the
# correctly rounded float of p/q, so the quotient is exact to print.
_EXACT_INTEGER = 2 ** 53


def _short_quotient(value: sp.Rational) -> bool:
    """Whether ``value`` prints as the quotient ``p / q``: a fraction of
    exact floats (1 / 3, 1 / 518918400). Others, such as a coefficient of
    an unrolled loop with 28 decimals, print as the float they round to:
    the quotient would round twice (or raise OverflowError), and reads
    as noise."""
    return abs(value.p) <= _EXACT_INTEGER and value.q <= _EXACT_INTEGER


def _product(nodes: list[ast.expr]) -> ast.expr:
    if len(nodes) > _LONGEST_CHAIN:
        middle = len(nodes) // 2
        return _binary(_product(nodes[:middle]), ast.Mult(),
                       _product(nodes[middle:]))
    result = nodes[0]
    for node in nodes[1:]:
        result = _binary(result, ast.Mult(), node)
    return result


def numeric_function(exprs: Sequence[sp.Expr],
                     symbols: Sequence[sp.Symbol]) -> Callable[..., list[Any]]:
    """A NumPy function of ``symbols`` returning ``exprs``, for checks.

    Printed by the same printer as generated code, so a check measures
    exactly what the product will compute.
    """
    printer = ExpressionPrinter("numpy")
    body = ast.Return(ast.List([printer(e) for e in exprs], ast.Load()))
    args = ast.arguments(posonlyargs=[], args=[ast.arg(s.name) for s in symbols],
                         vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=[])
    function = ast.FunctionDef("check", args, [body], [], None, None)
    if "type_params" in ast.FunctionDef._fields:
        function.type_params = []
    module = ast.fix_missing_locations(ast.Module([function], []))
    namespace: dict[str, Any] = {"np": np, "math": math}
    if any(isinstance(n, ast.Name) and n.id == "scipy"
           for n in ast.walk(body)):
        namespace["scipy"] = scipy_module()
    exec(compile(module, "<autodiff_ast check>", "exec"), namespace)
    return namespace["check"]  # type: ignore[no-any-return]


class _FloatsInside(ast.NodeTransformer):
    """A constant's ``float(np.exp(c))`` inside another's call, as
    ``np.exp(c)``: only the outermost call's value needs to be a Python
    float (``float(np.log1p(np.exp(c)))``, not a float() at each call)."""

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "float" and \
                len(node.args) == 1 and isinstance(node.args[0], ast.Call):
            return node.args[0]
        return node
