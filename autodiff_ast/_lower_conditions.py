"""The lower stage's conditions: comparisons, truth, ``and``/``or``.

Comparisons build SymPy relations, a chain short-circuited as Python runs
it; ``is None``, ``in``, strings and dtypes are decided now; the truth of a
value is Python's (``if k:``, ``activation or np.tanh``) or, for a number
known only when the code runs, kept as a condition. ``and``/``or`` of
conditions are their logical and/or, of values a ``Piecewise``
(``select``), as Python's ``a if a else b``. A mixin of ``_Runner``
(``_lower``) through ``Expressions``.
"""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanAtom

from ._errors import at_any_arguments
from ._functions import logical_and, logical_not, logical_or, logical_xor
from ._local import LocalFunction
from ._lower_names import describe
from ._stale import Stale

if TYPE_CHECKING:
    from ._lower import _Runner

__all__ = ["CONNECTIVES", "Conditions", "is_condition", "select"]


class Conditions:
    """Evaluates conditions and the truth of values."""

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
                error = self.error(node, _BITS_OF_NUMBERS[type(op)])
                if any(isinstance(v, sp.Number) for v in operands):
                    # (a constant number is one at any arguments)
                    at_any_arguments(error)
                raise error
        return CONNECTIVES[type(op)](*operands)

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
            if any(_is_option(v) or isinstance(v, (np.dtype, type))
                   for v in values):
                values += [self.expression(n, env)
                           for n in node.comparators[index + 1:]]
                if any(_is_option(v) for v in values):
                    return self.option_comparison(node, values)
                return self.type_comparison(node, values)
            left_node = node.comparators[index - 1] if index else node.left
            standing = self.compared_whole(op, values, node)
            if standing is not None:  # (a comparison of selections)
                return standing
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
            self.scalar_condition(truth, operand,
                                  "or" if deciding else "and")
            undecided.append((value, truth, operand))
        if all(is_condition(v) for v, _, _ in undecided) and \
                is_condition(value):
            parts = [truth for _, truth, _ in undecided]
            return (sp.Or if deciding else sp.And)(*parts, value)
        if is_condition(value):  # (x > 0 and y > 0), among numbers
            value = self.number(value, node.values[-1])
        for earlier, truth, operand in reversed(undecided):
            if is_condition(earlier):
                # Where it is chosen, its truth is known: True (1) for
                # `or`, False (0) for `and` (x > 0 and x is 0 elsewhere).
                earlier = sp.S.One if deciding else sp.S.Zero
            value = select(truth, *((earlier, value) if deciding
                                    else (value, earlier)), self, operand)
        return value

    def option_comparison(self, node: ast.Compare,
                          values: list[Any]) -> Boolean:
        """``reduction == "sum"``, ``reduction == Reduction.SUM`` on an
        option known when the code is generated (an argument that is not
        differentiated, a default, a global): decided now, as Python
        decides it."""
        if len(node.ops) != 1 or not isinstance(node.ops[0],
                                                (ast.Eq, ast.NotEq)):
            raise self.error(node, "strings and enum members are compared "
                                   "with == or != here, one comparison at "
                                   "a time")
        option = next(v for v in values if _is_option(v))
        spelled = (repr(option) if isinstance(option, str) else
                   f"{type(option).__name__}.{option.name}")
        what = "a string" if isinstance(option, str) else "an enum member"
        for value, operand in zip(values, (node.left, node.comparators[0])):
            if isinstance(value, sp.Basic):
                bind = (f"functools.partial({self.source.name}, "
                        f"{operand.id}={spelled})"
                        if isinstance(operand, ast.Name) else "a constant")
                raise self.error(node, f"{ast.unparse(operand)} is compared "
                                       f"with {what}, {spelled}: a number "
                                       "is not an option; pass the option "
                                       "itself, bind it before "
                                       f"differentiating, {bind}, or read "
                                       "it from a global")
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
        if isinstance(value, sp.Symbol) and not self.holds_booleans(value):
            # Array code writes each branch with its condition replaced by
            # True, which must not replace the number k in `if k: k * x`.
            return sp.Ne(value, 0)
        if isinstance(value, Boolean):
            return value
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
CONNECTIVES = {ast.BitAnd: logical_and, ast.BitOr: logical_or,
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


def _is_option(value: Any) -> bool:
    """Whether ``value`` is an option compared as Python compares it: a
    string or an enum member (an IntEnum's is a number, and computes)."""
    return isinstance(value, str) or isinstance(value, enum.Enum) and \
        not isinstance(value, (int, float))


def is_condition(value: Any) -> bool:
    """Whether ``value`` is a condition (a comparison, True), not a number
    (a Symbol is both to SymPy)."""
    return isinstance(value, Boolean) and not isinstance(value, sp.Expr)


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
        # A loop's flag, in and/or/not (the printers spell those; an ITE
        # has no spelling in Python but the if-expression of a number).
        return _plainer(sp.Or(sp.And(condition, then_value),
                              sp.And(sp.Not(condition), else_value)))
    if not isinstance(then_value, sp.Expr) or not isinstance(
            else_value, sp.Expr):
        raise runner.error(node, "both branches must produce numbers")
    return sp.Piecewise((then_value, condition), (else_value, True))


def _plainer(flag: Boolean) -> Boolean:
    """A flag joined over the paths of a body, said the shortest way:
    ``v > 3.5``, not ``v >= 1.5 and v > 3.5`` when a ``continue`` on ``v <
    1.5`` comes before the break on ``v > 3.5``. (By hand: SymPy's
    simplify() changes its caches, and with them later lowerings.)"""
    if not isinstance(flag, (sp.And, sp.Or)):
        return flag
    kept: dict[tuple[Any, bool], Any] = {}
    others = []
    for part in flag.args:
        if isinstance(part, (sp.Gt, sp.Ge, sp.Lt, sp.Le)) and \
                part.rhs.is_number:
            above = isinstance(part, (sp.Gt, sp.Ge))
            key = (part.lhs, above)
            old = kept.get(key)
            if old is not None and old.rhs == part.rhs:
                others.append(part)  # (v > 1 and v >= 1: both kept)
                continue
            # and: the tighter bound decides; or: the looser one
            tighter = above == isinstance(flag, sp.And)
            if old is None or bool(part.rhs > old.rhs) == tighter:
                kept[key] = part
            continue
        others.append(part)
    return flag.func(*others, *kept.values())


def _compare(op: ast.cmpop, a: sp.Expr, b: sp.Expr, runner: _Runner,
             node: ast.AST) -> Boolean:
    relations = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt,
                 ast.GtE: sp.Ge, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
    relation = relations.get(type(op))
    if relation is None:
        raise runner.error(node, f"the comparison {type(op).__name__} is not "
                                 "supported")
    return relation(a, b)
