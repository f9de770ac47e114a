"""The lower stage's expressions: constants, arithmetic, conditions.

Operators build SymPy expressions (products and long sums without
SymPy's slow paths, ``scaled`` and ``Sums``); comparisons build conditions,
short-circuited as Python runs them; a conditional expression builds a
``Piecewise`` (``select``), and so do ``and``/``or`` of values (``k or
2.0``), which of conditions are their logical and/or. A mixin of
``_Runner`` (``_lower``), which provides names, calls and vetting.
"""

from __future__ import annotations

import ast
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanAtom

from . import _fence
from ._array_rules import array_function
from ._errors import AutodiffError
from ._functions import logical_and, logical_not, logical_or, logical_xor
from ._local import LocalFunction, defined
from ._lower_names import describe
from ._lower_records import NeedsArrays, as_sympy
from ._rules import floordiv, mod, rewritten_by_canonical, where
from ._stale import Stale
from ._sums import LONG

if TYPE_CHECKING:
    from ._lower import _Runner

__all__ = ["Expressions", "scaled", "select"]


class Expressions:
    """Evaluates expressions on symbolic values."""

    def expression(self, node: ast.expr, env: dict[str, Any]) -> Any:
        try:
            return self._expression(node, env)
        except AutodiffError:
            raise
        except (TypeError, ValueError, ArithmeticError, AttributeError,
                sp.SympifyError) as exc:
            raise self.error(node, f"cannot differentiate this expression: "
                                   f"{exc}") from None

    def _expression(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return self.constant(node.value, node)
        if isinstance(node, ast.Name):
            return self.name(node, env)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, env)
        if isinstance(node, ast.BinOp):
            left = self.expression(node.left, env)
            right = self.expression(node.right, env)
            return self.arithmetic(node.op, left, right, node)
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
            self.note_branch(condition, node)
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
        if isinstance(node, (ast.List, ast.Dict, ast.Slice, ast.ListComp,
                             ast.GeneratorExp, ast.DictComp)):
            raise NeedsArrays
        raise self.error(node, f"{type(node).__name__} expressions are not "
                               "supported")

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

    def subscript(self, node: ast.Subscript, env: dict[str, Any]) -> Any:
        container = self.expression(node.value, env)
        if isinstance(container, (type(np.r_), type(np.c_))):
            raise NeedsArrays  # np.r_[...] builds an array
        index = self.concrete(self.expression(node.slice, env))
        if isinstance(container, tuple) and isinstance(index, sp.Integer):
            try:
                return container[int(index)]
            except IndexError:
                raise self.error(node, f"index {index} is out of range for "
                                       f"a tuple of {len(container)}") from None
        if isinstance(container, (sp.Basic, tuple)):
            raise NeedsArrays  # an argument may be an array or a container
        raise self.error(node, "indexing is supported only on tuples, with a "
                               "constant integer index")

    def number(self, value: Any, node: ast.AST) -> sp.Expr:
        if isinstance(value, sp.Expr):
            return value
        if isinstance(value, Boolean):
            # A comparison used as a number ((x > 0) * x, np.sum(x < y))
            # is 1 or 0, as in NumPy, with derivative 0 through it.
            return where(value, 1, 0)
        if isinstance(value, str):
            raise self.error(node, f"the string {value!r} is used as a "
                                   "number: a differentiated function "
                                   "computes with numbers (strings may be "
                                   "dict keys and has_aux values)")
        if isinstance(value, (list, tuple)) and self.lowers_arrays:
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
        if type(op) in _CONNECTIVES:  # (a condition, not a number)
            return self.connective(op, (left, right), node)  # type: ignore
        a = self.operand(left, getattr(node, "left", node))
        b = self.operand(right, getattr(node, "right", node))
        if isinstance(op, ast.MatMult):
            raise NeedsArrays
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

    def connective(self, op: ast.AST, operands: tuple[Any, ...],
                   node: ast.AST) -> Boolean:
        """``a & b``, ``a | b``, ``a ^ b``, ``~a`` of conditions
        (comparisons, boolean arrays, ``np.isfinite(x)``, and these of
        them), as NumPy takes them: their logical and, or, xor and not,
        which generated code spells ``np.logical_and(a, b)`` and so on (on
        Python's bools ``~`` is no negation). Of numbers they work bit by
        bit, which has no derivative: refused."""
        for value in operands:
            if not (isinstance(value, Boolean) and not isinstance(
                    value, sp.Expr) or isinstance(value, sp.Symbol)
                    and self.holds_booleans(value)):
                raise self.error(node, _BITS_OF_NUMBERS[type(op)])
        return _CONNECTIVES[type(op)](*operands)

    def holds_booleans(self, value: sp.Symbol) -> bool:
        """Whether the argument or array ``value`` holds booleans: known
        to array lowering, which has the arguments' dtypes."""
        raise NeedsArrays

    def condition(self, node: ast.expr, env: dict[str, Any]) -> Boolean:
        if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return self.identity(node, env)
        if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            return self.membership(node, env)
        if isinstance(node, ast.Compare):
            return self.compared(node, env)
        if isinstance(node, ast.BoolOp):
            return self.connected(node, env)
        return self.as_condition(self.expression(node, env), node)

    def compared(self, node: ast.Compare, env: dict[str, Any]) -> Boolean:
        """``a < b``, and a chain ``lo <= x < hi`` as Python runs it: each
        operand read once, in order, and a comparison decided False now
        ends it, so the operands after it are never read (``0 < len(xs)
        <= xs[0]`` at an empty xs reads no ``xs[0]``)."""
        values = [self.expression(node.left, env)]
        parts = []
        for index, (op, right_node) in enumerate(zip(node.ops,
                                                     node.comparators)):
            values.append(self.expression(right_node, env))
            if any(isinstance(v, (str, np.dtype, type)) for v in values):
                values += [self.expression(n, env)
                           for n in node.comparators[index + 1:]]
                if any(isinstance(v, str) for v in values):
                    return self.option_comparison(node, values)
                return self.type_comparison(node, values)
            left_node = node.comparators[index - 1] if index else node.left
            relation = _compare(op, self.operand(values[-2], left_node),
                                self.operand(values[-1], right_node),
                                self, node)
            if relation.free_symbols and relation.free_symbols <= \
                    self.context.outside.keys():
                # Decided by outside values alone (`if ORDER > 2`): decide
                # it now, and check the values when called.
                relation = self.concrete(relation)
            relation = self.fixed(relation, node)
            if relation == sp.false:
                return sp.false
            parts.append(relation)
        return sp.And(*parts)

    def fixed(self, value: Any, node: ast.AST | None = None) -> Any:
        """``value`` with the sizes it reads the numbers they are now
        (array lowering's sizes; a scalar runner reads none)."""
        return value

    def connected(self, node: ast.BoolOp, env: dict[str, Any]) -> Boolean:
        """``a or b``, ``a and b``, short-circuited as Python does: a part
        decided now that decides the whole ends it, so the parts after it
        are never read (``x.ndim != 2 or x.shape[1] < 2`` at a vector
        reads no ``x.shape[1]``)."""
        deciding = sp.true if isinstance(node.op, ast.Or) else sp.false
        parts = []
        for value in node.values:
            part = self.as_condition(self.expression(value, env), value)
            if part == deciding:
                return deciding
            parts.append(part)
        return (sp.And if isinstance(node.op, ast.And) else sp.Or)(*parts)

    def either(self, node: ast.BoolOp, env: dict[str, Any]) -> Any:
        """``a or b`` and ``a and b`` used as values, as Python has them:
        ``a if a else b`` and ``b if a else a``, for any operands (``k = k
        or 2.0`` at k = 0.0 or None is 2.0). An operand whose truth is
        known now decides, and the operands after it are never read; one
        whose truth is known only when the code runs (``x or 2.0``) makes
        the value piecewise, as ``x if x else 2.0``. Of conditions alone
        this is their logical or (and), as ``if a or b:`` reads it."""
        deciding = sp.true if isinstance(node.op, ast.Or) else sp.false
        undecided: list[tuple[Any, Boolean, ast.expr]] = []
        for operand in node.values:
            value = self.expression(operand, env)
            if operand is node.values[-1]:
                break
            truth = self.as_condition(value, operand)
            if truth == deciding:
                break
            if isinstance(truth, BooleanAtom):
                continue  # decides nothing: the value is a later operand's
            self.scalar_condition(truth, operand)
            undecided.append((value, truth, operand))
        if all(_is_condition(v) for v, _, _ in undecided) and \
                _is_condition(value):
            parts = [truth for _, truth, _ in undecided]
            return (sp.Or if deciding else sp.And)(*parts, value)
        if _is_condition(value):  # (x > 0 and y > 0), among numbers
            value = self.number(value, node.values[-1])
        if undecided and not self.lowers_arrays and not all(
                isinstance(v, sp.Basic) for v in (value, *(
                    earlier for earlier, _, _ in undecided))):
            # `activation or np.tanh`: an argument may be None or a
            # function when called, which array lowering knows.
            raise NeedsArrays
        for earlier, truth, operand in reversed(undecided):
            if _is_condition(earlier):
                # Where it is chosen, its truth is known: True (1) for
                # `or`, False (0) for `and` (x > 0 and x is 0 elsewhere).
                earlier = sp.S.One if deciding else sp.S.Zero
            value = select(truth, *((earlier, value) if deciding
                                    else (value, earlier)), self, operand)
        return value

    def scalar_condition(self, condition: Any, node: ast.AST) -> None:
        """Refuses a condition that holds one truth per element (array
        lowering knows the shapes; a scalar runner's are all numbers)."""

    def option_comparison(self, node: ast.Compare,
                          values: list[Any]) -> Boolean:
        """``reduction == "sum"`` on an option known when the code is
        generated (a default bound by functools.partial, a global):
        decided now, as Python decides it."""
        if len(node.ops) != 1 or not isinstance(node.ops[0],
                                                (ast.Eq, ast.NotEq)):
            raise self.error(node, "strings are compared with == or != "
                                   "here, one comparison at a time")
        text = next(v for v in values if isinstance(v, str))
        for value, operand in zip(values, (node.left, node.comparators[0])):
            if isinstance(value, sp.Basic):
                bind = (f"functools.partial({self.source.name}, "
                        f"{operand.id}={text!r})"
                        if isinstance(operand, ast.Name) else "a constant")
                raise self.error(node, f"{ast.unparse(operand)} is compared "
                                       f"with the string {text!r}: an "
                                       "argument that is a string (an "
                                       "option) is not supported; bind it "
                                       f"before differentiating, {bind}, "
                                       "or read it from a global")
        same = values[0] == values[1]
        return sp.true if same == isinstance(node.ops[0], ast.Eq) \
            else sp.false

    def type_comparison(self, node: ast.Compare,
                        values: list[Any]) -> Boolean:
        """``x.dtype != np.float64``, ``x.dtype == float``: decided now,
        as Python decides it, since the code is made for the dtypes of
        its arguments (a call with another dtype makes it again)."""
        if not all(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            raise self.error(node, "dtypes and types are compared with == "
                                   "or != here")
        for value, operand in zip(values, (node.left, *node.comparators)):
            if isinstance(value, sp.Basic):
                raise self.error(node, f"{ast.unparse(operand)} is a value, "
                                       "compared with a dtype or a type: "
                                       "compare its dtype, "
                                       f"{ast.unparse(operand)}.dtype")
        holds = all((a == b) == isinstance(op, ast.Eq)
                    for op, a, b in zip(node.ops, values, values[1:]))
        return sp.true if holds else sp.false

    def identity(self, node: ast.Compare, env: dict[str, Any]) -> Boolean:
        """``b is None``, ``b is not None``: decided now, as the structure
        of the arguments (an optional bias passed or not) is, for which
        code is generated apart."""
        if len(node.ops) != 1:
            raise self.error(node, "chained `is` comparisons are not "
                                   "supported: compare one value with None")
        left, right = (self.expression(n, env)
                       for n in (node.left, node.comparators[0]))
        computed = [isinstance(v, sp.Basic) and bool(v.free_symbols)
                    for v in (left, right)]
        if any(computed) and not self.lowers_arrays:
            raise NeedsArrays  # an argument may be None when called
        if all(computed) or any(computed) and None not in (left, right):
            raise self.error(node, "`is` compares a value computed from the "
                                   "arguments with another value, which "
                                   "is decided only when the code runs: "
                                   "compare numbers with == or !=, or "
                                   "compare with None")
        same = False if any(computed) else left is right
        return sp.true if same == isinstance(node.ops[0], ast.Is) \
            else sp.false

    def membership(self, node: ast.Compare, env: dict[str, Any]) -> Boolean:
        """``'b' in params``: decided now, as a pytree's keys are part of
        the arguments' structure, for which code is generated apart."""
        if len(node.ops) != 1:
            raise self.error(node, "chained `in` comparisons are not "
                                   "supported: test one key at a time")
        key, container = (self.expression(n, env)
                          for n in (node.left, node.comparators[0]))
        if isinstance(container, sp.Basic) and not self.lowers_arrays:
            raise NeedsArrays  # an argument may be a dict or a list
        if not isinstance(container, (dict, list, tuple)) or isinstance(
                key, sp.Basic) and key.free_symbols:
            raise self.error(node, "`in` tests a key of a dict (or an item "
                                   "of a list or tuple) known when the "
                                   "function is differentiated: for array "
                                   "values, compare with == and np.any")
        found = key in container
        return sp.true if found == isinstance(node.ops[0], ast.In) \
            else sp.false

    def as_condition(self, value: Any, node: ast.AST) -> Boolean:
        """The truth of ``value``, as Python's ``if value:`` has it."""
        value = self.concrete(value)  # `if SCALE:` on a global number
        if isinstance(value, sp.Symbol) and self.lowers_arrays and not \
                self.holds_booleans(value):
            # Array code writes each branch with its condition replaced by
            # True, which must not replace the number k in `if k: k * x`.
            return sp.Ne(value, 0)
        if isinstance(value, Boolean):
            return value  # (a symbol too: scalar code keeps `if x:`)
        if isinstance(value, sp.Number):
            return sp.true if value != 0 else sp.false
        if value is None or isinstance(value, _KNOWN_TRUTHS) or callable(
                value):
            # Known now (None, a tuple, a function): its truth is Python's.
            try:
                return sp.true if value else sp.false
            except ValueError:  # (NumPy's, of an array of several)
                raise self.error(node, "the truth value of an array is "
                                       "ambiguous: select elementwise with "
                                       "np.where(condition, a, b)") from None
        text = ast.unparse(node) if isinstance(node, ast.expr) else "x"
        if not isinstance(value, sp.Basic):
            raise self.error(node, f"the truth value of {text}, "
                                   f"{describe(value)}, is not a condition "
                                   "here: test what it means explicitly, "
                                   f"e.g. `{text} is not None`")
        raise self.error(node, f"the truth value of {text}, a number "
                               "computed from the arguments, is not a "
                               "condition here: compare it explicitly, "
                               f"`{text} != 0`")


# Values known when the code is made whose truth is Python's (``if
# params:``, ``activation or np.tanh``); a local function is one too.
_KNOWN_TRUTHS = (str, bytes, tuple, list, dict, np.ndarray, np.generic,
                 LocalFunction)

# ``&``, ``|``, ``^`` and ``~`` of conditions, and why they are refused of
# numbers.
_CONNECTIVES = {ast.BitAnd: logical_and, ast.BitOr: logical_or,
                ast.BitXor: logical_xor, ast.Invert: logical_not}
_CONDITIONS = ("conditions (comparisons, boolean arrays, np.isfinite(x) "
               "and the like)")
_BITS_OF_NUMBERS = {
    ast.BitAnd: "& of numbers is a bitwise and, which has no derivative: "
                f"& is supported between {_CONDITIONS}, as their logical "
                "and; compare the numbers first, e.g. (x > 0) & (y > 0)",
    ast.BitOr: "| of numbers is a bitwise or, which has no derivative: | "
               f"is supported between {_CONDITIONS}, as their logical "
               "or; compare the numbers first, e.g. (x > 0) | (y > 0)",
    ast.BitXor: "^ of numbers is a bitwise xor, not a power: write ** for "
                f"a power (^ is supported between {_CONDITIONS}, as "
                "their logical xor)",
    ast.Invert: "~ of a number is its bitwise not (-x - 1 of an integer), "
                f"which has no derivative: ~ is supported on {_CONDITIONS}"
                ", as their logical not; write -x - 1 for the integer",
}


def _is_condition(value: Any) -> bool:
    """Whether ``value`` is a condition (a comparison, True), not a number
    (a Symbol is both to SymPy)."""
    return isinstance(value, Boolean) and not isinstance(value, sp.Expr)


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


def select(condition: Boolean, then_value: Any, else_value: Any,
           runner: _Runner, node: ast.AST) -> Any:
    """The value ``then_value if condition else else_value``, symbolically."""
    if isinstance(then_value, tuple) or isinstance(else_value, tuple):
        if not (isinstance(then_value, tuple) and isinstance(else_value, tuple)
                and len(then_value) == len(else_value)):
            raise runner.error(node, "the branches produce values of "
                                     "different shapes (a tuple on one path)")
        return tuple(select(condition, a, b, runner, node)
                     for a, b in zip(then_value, else_value))
    if then_value == else_value:
        return then_value
    for value in (then_value, else_value):
        if isinstance(value, Stale):  # read after, it is refused
            return value
    if all(isinstance(v, Boolean) and not isinstance(v, sp.Expr)
           for v in (then_value, else_value)):
        return sp.ITE(condition, then_value, else_value)  # a loop's flag
    if not isinstance(then_value, sp.Expr) or not isinstance(
            else_value, sp.Expr):
        raise runner.error(node, "both branches must produce numbers")
    return sp.Piecewise((then_value, condition), (else_value, True))


def _compare(op: ast.cmpop, a: sp.Expr, b: sp.Expr, runner: _Runner,
             node: ast.AST) -> Boolean:
    relations = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt,
                 ast.GtE: sp.Ge, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
    relation = relations.get(type(op))
    if relation is None:
        raise runner.error(node, f"the comparison {type(op).__name__} is not "
                                 "supported")
    return relation(a, b)
