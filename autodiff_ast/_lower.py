"""Lower stage: run a function's AST symbolically into SymPy expressions.

Arguments become real SymPy symbols; statements are executed on them:
local names are bound, calls to the user's own functions are inlined by
reading their source, globals and closure cells are looked up in the
function's own namespaces, ``for`` loops over constant ranges are unrolled
and branches on the arguments become ``Piecewise``. Float literals become
exact rationals (0.1 -> 1/10) so the algebra downstream stays exact.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import numbers
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanAtom

from . import _fence
from ._array_ops import plain
from ._array_rules import array_function
from ._errors import AutodiffError, NoSourceError, error_at
from ._containers import container_call, container_items, view
from ._loop_exits import after_return, jumpless, returned_names
from ._local import LocalFunction, call_local, defined
from ._nested import NOT_NESTED, called_inside
from ._limits import (KEPT_FROM, MOST_OPERATIONS, collector_paused,
                      reads_twice, written_out_size)
from ._ops_reduce import scipy_function
from ._rules import (Form, Primitive, canonical, floordiv, mod, namespace_of,
                     primitive_for, rewritten_by_canonical, where)
from ._source import FunctionSource, get_source, library_of, refused_call
from ._sums import LONG, Sums

__all__ = ["Lowered", "lower", "NeedsArrays"]

# Branching on symbolic conditions copies the rest of the function into each
# branch; this many paths is far beyond hand-written code, and beyond it the
# generated source would be unreadable.
_MAX_PATHS = 256
# Unrolling turns loops into straight-line code; beyond this the symbolic
# work would take minutes rather than fail clearly.
_MAX_UNROLLED_STATEMENTS = 10_000


@dataclass
class Lowered:
    """A function as SymPy: its parameters and the expression it returns."""

    name: str
    location: str  # "file.py:12", or the primitive's qualified name
    params: tuple[str, ...]
    defaults: tuple[Any, ...]
    symbols: tuple[sp.Symbol, ...]
    output: Any  # a SymPy expression, or a tuple of them
    namespace: str  # "numpy" or "math": how generated code spells functions
    source: FunctionSource | None = None
    reads: tuple[Read, ...] = ()  # outside values the result bakes in
    # Numbers the generated code reads by name when it runs (a global BETA,
    # a closure cell k, self.k): never stale, so never checked.
    outside: dict[sp.Symbol, Read] = field(default_factory=dict)
    # Where the function branches on an argument with a Python `if`
    # (file, line): such code takes one number, not an array.
    branch_site: tuple[str, int] | None = None

    def is_current(self) -> bool:
        """Whether every outside value lowering baked in is unchanged."""
        return all(read.is_current() for read in self.reads)


@dataclass(frozen=True)
class Read:
    """One outside value lowering used: a global, a closure cell, or
    defaults. Generated code bakes such values in, so a change makes it
    stale."""

    container: Any  # a globals dict, a cell, or a function
    key: str | None
    value: Any
    # A list is read as the tuple of its items; mutating it in place
    # changes what the code baked in, so compare items, not identity.
    as_items: bool = False

    def current(self) -> Any:
        if isinstance(self.container, dict):
            return self.container.get(self.key, _MISSING)
        if self.key is None:
            return self.container.cell_contents
        return getattr(self.container, self.key)

    def is_current(self) -> bool:
        now = self.current()
        if self.as_items:
            return type(now) is list and tuple(now) == self.value
        if now is self.value:
            return True
        if isinstance(now, types.MethodType) and isinstance(
                self.value, types.MethodType):  # made anew on each access
            return (now.__func__ is self.value.__func__
                    and now.__self__ is self.value.__self__)
        plain = (int, float, complex, bool, str, tuple)
        return (type(now) is type(self.value) and isinstance(now, plain)
                and now == self.value)


_MISSING = object()


class NeedsArrays(Exception):
    """Not an error: the function uses array operations (or containers),
    so its derivative is generated per input signature, at call time."""


@dataclass
class _Context:
    """What lowering one top-level function accumulates."""

    namespaces: set[str] = field(default_factory=set)
    inlining: list[types.CodeType] = field(default_factory=list)
    paths: int = 1
    reads: list[Read] = field(default_factory=list)
    # The user's own name for a value, from the first assignment of it.
    labels: dict[Any, str] = field(default_factory=dict)
    sizes: dict[Any, int] = field(default_factory=dict)  # written_out_size
    # Values (and their parts) that passed vetted(): canonical, real,
    # not too large. A step looks only at the nodes it adds.
    vetted: set[Any] = field(default_factory=set)
    sums: Sums = field(default_factory=Sums)
    # The differentiated function itself: what generated code can reach by
    # name (its module's globals, its closure cells, its bound self).
    root: types.FunctionType | None = None
    bound: dict[str, Any] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    outside: dict[sp.Symbol, Read] = field(default_factory=dict)
    branch_site: tuple[str, int] | None = None


def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


@collector_paused()
def lower(fn: Callable[..., Any]) -> Lowered:
    """Lower ``fn`` (a Python function or a primitive) to SymPy."""
    primitive = primitive_for(fn)
    if primitive is not None:
        return _lower_primitive(fn, primitive)
    fn, bound = unbind(fn)
    source = readable_source(fn)
    node = source.node
    params = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
    bound_names, params = params[:len(bound)], params[len(bound):]
    symbols = tuple(symbol(p) for p in params)
    context = _Context(root=fn, bound=dict(zip(bound_names, bound)),
                       params=params)
    runner = _Runner(fn, source, context)
    output = runner.call({**dict(zip(bound_names, bound)),
                          **dict(zip(params, symbols))})
    namespace = "math" if context.namespaces == {"math"} else "numpy"
    context.reads.append(Read(fn, "__defaults__", fn.__defaults__))
    return Lowered(source.name, source.location, params,
                   tuple(fn.__defaults__ or ()), symbols, output, namespace,
                   source, tuple(context.reads), dict(context.outside),
                   context.branch_site)


def unbind(fn: Any) -> tuple[types.FunctionType, tuple[Any, ...]]:
    """The Python function behind ``fn`` and the values bound to its first
    parameters (a bound method's ``self``)."""
    current = getattr(fn, "__autodiff_ast_current__", None)
    if current is not None:  # a derivative's handle: its generated code
        fn = current()
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__,
                                                       types.FunctionType):
        return fn.__func__, (fn.__self__,)
    call = getattr(type(fn), "__call__", None)
    if isinstance(call, types.FunctionType) and not isinstance(fn, type):
        return call, (fn,)  # an object called as a function: its __call__
    if not isinstance(fn, types.FunctionType):
        raise NoSourceError(
            f"cannot differentiate {fn!r}: it is neither a Python function "
            "nor a primitive in autodiff_ast's rules table. Wrap it in a "
            "function: `def f(x): return ...`.")
    return fn, ()


# The sources the fence let through, by identity (get_source gives one
# object per function while its file is unchanged): array code reads its
# function's source again for each transform and signature, and the fence
# walks the whole body five times (0.25 s for a 3000-statement function).
_FENCED: dict[int, FunctionSource] = {}
_MOST_FENCED = 4096


def readable_source(fn: types.FunctionType) -> FunctionSource:
    """``fn``'s source, past the fence."""
    source = get_source(fn)
    arguments = source.node.args
    if hasattr(fn, "__wrapped__") and (arguments.vararg or arguments.kwarg):
        raise NoSourceError(
            f"{fn.__qualname__} is a wrapper made by a decorator: its code "
            "is the wrapper's, which passes *args/**kwargs on. "
            f"Differentiate the undecorated function, "
            f"{fn.__name__}.__wrapped__, or a wrapper that names its "
            "arguments.")
    if _FENCED.get(id(source)) is not source:
        _fence.check(source)
        if len(_FENCED) >= _MOST_FENCED:
            _FENCED.clear()
        _FENCED[id(source)] = source
    return source


def _lower_primitive(fn: Any, primitive: Primitive) -> Lowered:
    if primitive.name == "where":
        raise NoSourceError(
            "np.where selects between values by a condition and has no "
            "derivative of its own: differentiate a function that calls it, "
            "e.g. `def f(x): return np.where(x > 0, x, 0.0)`.")
    params = ("x", "y", "z")[:primitive.nargs]
    symbols = tuple(symbol(p) for p in params)
    module = namespace_of(fn) or "numpy"
    name = (primitive.scipy_stats[0] if module == "scipy.stats"
            else fn.__name__)  # norm.logpdf
    qualified = f"{'np' if module == 'numpy' else module}.{name}"
    namespace = "math" if module == "math" else "numpy"
    try:
        output = primitive.lower(*symbols)
    except TypeError:  # it takes lists (math.prod, math.dist)
        form = primitive.form(module)
        raise NoSourceError(
            f"{qualified} takes {form.takes if form else 'other arguments'}"
            ", not numbers: differentiate a function that calls it with "
            "them.") from None
    return Lowered(fn.__name__, qualified, params, (), symbols, output,
                   namespace)


def _as_sympy(value: Any) -> Any:
    """Python numbers become exact SymPy numbers; other objects pass."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (bool, np.bool_)):
        return sp.true if value else sp.false
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if value == math.pi:
            return sp.pi
        if value == math.e:
            return sp.E
        if not math.isfinite(value):
            return None
        return sp.Rational(repr(value))
    if isinstance(value, tuple):
        items = [_as_sympy(v) for v in value]
        # a namedtuple stays one, so the callee reads its fields (p.w)
        return type(value)(*items) if hasattr(value, "_fields") else tuple(
            items)
    return value


class _Return(Exception):
    """Not an error: carries a return statement's value out of a block."""


@dataclass(frozen=True)
class _Bind:
    """A synthetic statement binding a loop variable to one iteration."""

    target: ast.expr  # a name, or a tuple of names to unpack into
    value: Any


class _Runner:
    """Executes one function body on symbolic values."""

    def __init__(self, fn: types.FunctionType, source: FunctionSource,
                 context: _Context) -> None:
        self.fn = fn
        self.source = source
        self.context = context
        self.cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))

    # -- errors ----------------------------------------------------------

    def error(self, node: ast.AST, message: str) -> AutodiffError:
        return error_at(node, message, self.source.filename,
                        list(self.source.lines))

    # -- entry -----------------------------------------------------------

    def call(self, arguments: dict[str, Any]) -> Any:
        return self.body_value(self.source.node, self.fn.__code__,
                               self.source.name, dict(arguments))

    def body_value(self, node: ast.FunctionDef | ast.Lambda, key: Any,
                   name: str, scope: dict[str, Any]) -> Any:
        """What the body of ``node`` (a function, or a function defined
        inside this one) returns in ``scope``, with ``key`` marking it as
        being inlined (a call to it inside is recursion)."""
        self.context.inlining.append(key)
        try:
            if isinstance(node, ast.Lambda):
                return self.expression(node.body, scope)
            result = self.block(list(node.body), scope)
        finally:
            self.context.inlining.pop()
        if result is None:
            raise self.error(node, f"{name} does not return a value on "
                                   "every path: end each path with a "
                                   "return statement")
        return result

    # -- statements --------------------------------------------------------

    def block(self, statements: list[Any], env: dict[str, Any]) -> Any:
        """Run statements; the value returned, or None if none returns."""
        for index, statement in enumerate(statements):
            rest = statements[index + 1:]
            if isinstance(statement, _Bind):
                self.assign(statement.target, statement.value, env)
            elif isinstance(statement, ast.Return):
                if statement.value is None:
                    raise self.error(statement, "return without a value: a "
                                                "differentiated function "
                                                "must return a number")
                return self.expression(statement.value, env)
            elif _fence.shape_guard(statement):
                self.guard(statement, env)
            elif isinstance(statement, ast.If):
                condition = self.condition(statement.test, env)
                self.note_branch(condition, statement)
                if isinstance(condition, BooleanAtom):
                    taken = statement.body if condition else statement.orelse
                    return self.block(list(taken) + rest, env)
                if _returns(statement.body) or _returns(statement.orelse):
                    return self.fork(statement, condition, rest, env)
                self.merge(statement, condition, env)
            elif isinstance(statement, ast.While):
                statement = jumpless(statement, env.keys())
                self.kept_while(statement, env)
                ending = self.returned(statement, env)
                if ending is not None:
                    return self.block([ending] + rest, env)
            elif isinstance(statement, ast.For):
                statement = jumpless(statement, env.keys())
                if self.kept_loop(statement, env):
                    ending = self.returned(statement, env)
                    if ending is not None:
                        return self.block([ending] + rest, env)
                    continue
                unrolled = self.unroll(statement, env)
                return self.block(unrolled + rest, env)
            else:
                self.simple_statement(statement, env)
        return None

    def simple_statement(self, statement: ast.stmt,
                         env: dict[str, Any]) -> None:
        if isinstance(statement, ast.FunctionDef):
            env[statement.name] = defined(self, statement, env)
        elif _fills(statement):
            self.store(statement, env)
        elif isinstance(statement, ast.Assign):
            value = self.expression(statement.value, env)
            for target in statement.targets:
                self.assign(target, value, env)
        elif isinstance(statement, ast.AnnAssign):
            if statement.value is not None:
                self.assign(statement.target,
                            self.expression(statement.value, env), env)
        elif isinstance(statement, ast.AugAssign):
            target = statement.target
            assert isinstance(target, ast.Name)  # the fence guarantees it
            current = self.name(target, env)
            value = self.expression(statement.value, env)
            env[target.id] = self.arithmetic(statement.op, current, value,
                                             statement)
        # ast.Pass and docstrings do nothing.

    def guard(self, statement: ast.If, env: dict[str, Any]) -> None:
        """``if x.shape != (4,): raise ...``: a check of array shapes
        (``_ArrayRunner.guard``)."""
        raise NeedsArrays

    def store(self, statement: ast.stmt, env: dict[str, Any]) -> None:
        """``d[key] = v`` or ``np.add.at(d, key, v)``: filling an array
        (``_ArrayRunner.store``)."""
        raise NeedsArrays

    def assign(self, target: ast.AST, value: Any,
               env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
            if isinstance(value, sp.Expr) and not value.is_Atom:
                self.context.labels.setdefault(value, target.id)
            return
        assert isinstance(target, ast.Tuple)
        if isinstance(value, sp.Symbol):
            raise NeedsArrays  # an argument may be a tuple
        if not isinstance(value, tuple) or len(value) != len(target.elts):
            count = len(value) if isinstance(value, tuple) else 1
            raise self.error(target, f"cannot unpack {count} value(s) into "
                                     f"{len(target.elts)} names")
        for element, item in zip(target.elts, value):
            self.assign(element, item, env)

    def note_branch(self, condition: Any, node: ast.AST) -> None:
        """Remember the first `if` that depends on an argument: generated
        code keeps it, so it takes one number at a time."""
        if (self.context.branch_site is None
                and isinstance(condition, sp.Basic)
                and condition.free_symbols - self.context.outside.keys()):
            self.context.branch_site = (self.source.filename,
                                        getattr(node, "lineno", 0))

    def merge(self, statement: ast.If, condition: Boolean,
              env: dict[str, Any]) -> None:
        """Run both sides of an if without returns; join what they assign."""
        then_env, else_env = dict(env), dict(env)
        self.block(list(statement.body), then_env)
        self.block(list(statement.orelse), else_env)
        for name in then_env.keys() & else_env.keys():
            env[name] = _select(condition, then_env[name], else_env[name],
                                self, statement)
        for name in then_env.keys() ^ else_env.keys():
            env.pop(name, None)  # defined on one path only: unusable after

    def fork(self, statement: ast.If, condition: Boolean, rest: list[Any],
             env: dict[str, Any]) -> Any:
        """Run each side followed by the rest of the block; select."""
        self.context.paths += 1
        if self.context.paths > _MAX_PATHS:
            raise self.error(statement, f"more than {_MAX_PATHS} paths "
                                        "through the function: simplify its "
                                        "branching, or use np.where")
        then_value = self.block(list(statement.body) + rest, dict(env))
        else_value = self.block(list(statement.orelse) + rest, dict(env))
        if then_value is None or else_value is None:
            return None
        return _select(condition, then_value, else_value, self, statement)

    def generated_sum(self, node: ast.Call, env: dict[str, Any]) -> Any:
        """``sum(f(k) for k in range(n))``, run as the loop it is: ``total
        = 0``, then ``for k in range(n): total = total + f(k)``."""
        generator = _fence.summed_generator(node)
        assert generator is not None
        total = "total"
        while total in env:
            total = f"{total}_"
        adding = ast.Assign([ast.Name(total, ast.Store())], ast.BinOp(
            ast.Name(total, ast.Load()), ast.Add(),
            node.args[0].elt),  # type: ignore[attr-defined]
            None)
        loop = ast.For(generator.target, generator.iter, [adding], [], None)
        start = ast.Assign([ast.Name(total, ast.Store())], ast.Constant(0),
                           None)
        for made in (adding, loop, start):
            ast.copy_location(made, node)
            ast.fix_missing_locations(made)
        scope = dict(env)
        self.block([start, loop], scope)
        return scope[total]

    def kept_loop(self, loop: ast.For, env: dict[str, Any]) -> bool:
        """Whether ``loop`` was lowered as a loop (array programs keep a
        loop whose trip count only the call knows); False: unroll it."""
        return False

    def returned(self, loop: ast.For | ast.While, env: dict[str, Any]
                 ) -> ast.stmt | None:
        """After a loop kept as a loop whose body returns: the statement
        returning what it returned, if it did."""
        names = returned_names(loop)
        if names is None or names[0] not in env:
            return None
        return after_return(loop, names)

    def kept_while(self, loop: ast.While, env: dict[str, Any]) -> None:
        """Lower a while loop (a loop step of an array program)."""
        raise NeedsArrays

    def unroll(self, loop: ast.For, env: dict[str, Any]) -> list[Any]:
        iterator = loop.iter
        unpacked = isinstance(loop.target, ast.Tuple) and _names_only(
            loop.target)
        if not isinstance(loop.target, ast.Name) and not unpacked:
            raise self.error(loop.target, "the loop variable must be a "
                                          "name or a tuple of names")
        items = self.iteration_items(iterator, env)
        if items is not None:
            return _iterations(loop, items)
        if unpacked and not self.lowers_arrays and isinstance(
                iterator, ast.Call) and self.expression(
                iterator.func, env) in (enumerate, zip):
            raise NeedsArrays  # over the rows of arrays: kept a loop
        if unpacked:
            raise self.error(loop.target, "a loop over range() has one "
                                          "loop variable")
        backwards = (isinstance(iterator, ast.Call) and len(
            iterator.args) == 1 and not iterator.keywords and isinstance(
            iterator.args[0], ast.Call) and self.expression(
            iterator.func, env) is reversed)
        if backwards:
            iterator = iterator.args[0]  # type: ignore[attr-defined]
        if not (isinstance(iterator, ast.Call)
                and self.expression(iterator.func, env) is range):
            raise self.error(iterator, "for loops must iterate over range() "
                                       "with constant bounds, e.g. `for i in "
                                       "range(3):`")
        bounds = [self.concrete(self.expression(a, env))
                  for a in iterator.args]
        if not iterator.keywords and any(
                isinstance(b, sp.Expr) and b.free_symbols for b in bounds):
            raise NeedsArrays  # a trip count the call decides: kept a loop
        if iterator.keywords or not all(
                isinstance(b, sp.Integer) for b in bounds):
            raise self.error(iterator, "range() bounds must be constant "
                                       "integers known when the function is "
                                       "differentiated, not values computed "
                                       "from the arguments")
        iterations = range(*(int(b) for b in bounds))
        if (len(iterations) >= KEPT_FROM or len(iterations) > 1 and
                reads_twice(loop)) and len(bounds) < 3 and not \
                self.lowers_arrays:
            raise NeedsArrays  # kept a loop where its body allows
        if len(iterations) * len(loop.body) > _MAX_UNROLLED_STATEMENTS:
            raise self.error(iterator, f"this loop unrolls into more than "
                                       f"{_MAX_UNROLLED_STATEMENTS} statements"
                                       ", too many to differentiate "
                                       "symbolically: use fewer iterations, "
                                       "or a closed form of the sum")
        if backwards:
            iterations = iterations[::-1]
        return _iterations(loop, [sp.Integer(i) for i in iterations])

    def iteration_items(self, iterator: ast.expr,
                        env: dict[str, Any]) -> list[Any] | None:
        """The items of a loop over a constant tuple; None for range loops."""
        if isinstance(iterator, ast.Call):
            items = container_items(self, iterator, env)
            return None if items is None else list(items)
        if not isinstance(iterator, (ast.Name, ast.Subscript, ast.Attribute,
                                     ast.Tuple, ast.List)):
            return None
        items = self.expression(iterator, env)
        if isinstance(items, tuple):
            return list(items)
        if isinstance(items, sp.Symbol):
            raise NeedsArrays  # a loop over a container argument
        return None

    # -- expressions -------------------------------------------------------

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
            number = self.number(operand, node.operand)
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            return self.condition(node, env)
        if isinstance(node, ast.IfExp):
            condition = self.condition(node.test, env)
            self.note_branch(condition, node)
            if isinstance(condition, BooleanAtom):
                return self.expression(node.body if condition else node.orelse,
                                       env)
            return _select(condition, self.expression(node.body, env),
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
        converted = _as_sympy(value)
        if converted is None:
            raise self.error(node, f"the constant {value!r} is not finite: "
                                   "a derivative cannot use it")
        return converted

    def name(self, node: ast.Name, env: dict[str, Any]) -> Any:
        identifier = node.id
        if identifier in env:
            return env[identifier]
        if identifier in self.cells:
            cell = self.cells[identifier]
            read = Read(cell, None, cell.cell_contents)
        elif identifier in self.fn.__globals__:
            read = Read(self.fn.__globals__, identifier,
                        self.fn.__globals__[identifier])
        elif hasattr(builtins, identifier):
            return getattr(builtins, identifier)
        else:
            raise self.error(node, f"name '{identifier}' is not defined")
        if self.reachable(identifier, env):
            named = self.by_name(identifier, read)
            if named is not None:
                return named
        if isinstance(read.value, list) and _all_numbers(read.value):
            # A list of constants is read like a tuple, compared item by
            # item (it can be changed in place).
            self.context.reads.append(Read(read.container, read.key,
                                           tuple(read.value), as_items=True))
            return self.constant(tuple(read.value), node)
        self.context.reads.append(read)
        return self.outside_value(identifier, read.value, node)

    # Array code is generated per call signature and re-checks what it
    # read on every call, so it bakes numbers in instead.
    names_outside_numbers = True
    lowers_arrays = False  # True for the array runner

    def by_name(self, spelled: str, read: Read) -> sp.Symbol | None:
        """A symbol the generated code spells ``spelled`` and reads when it
        runs, for a number; None for other values."""
        value = read.value
        if not self.names_outside_numbers or not _is_plain_number(value):
            return None
        outside = symbol(spelled)
        self.context.outside.setdefault(outside, read)
        return outside

    def reachable(self, identifier: str, env: dict[str, Any]) -> bool:
        """Whether ``identifier``, read here, means the same value when
        generated code for the differentiated function spells it."""
        context = self.context
        root = context.root
        if root is None or identifier in context.params:
            return False
        if self.fn is root:
            if identifier in env:
                return (identifier in context.bound
                        and env[identifier] is context.bound[identifier])
            return identifier in self.cells or identifier in root.__globals__
        root_cells = set(root.__code__.co_freevars) | set(context.bound)
        return (identifier not in env and identifier not in self.cells
                and identifier not in root_cells
                and self.fn.__globals__ is root.__globals__)

    def concrete(self, value: Any) -> Any:
        """``value`` with numbers read by name replaced by what they are
        now, for uses that decide the code's structure (a loop bound, an
        index); the code then bakes them in and is re-checked."""
        if not isinstance(value, sp.Basic):
            return value
        found = value.free_symbols & self.context.outside.keys()
        for outside in found:
            read = self.context.outside[outside]
            self.context.reads.append(read)
            value = value.xreplace({outside: _as_sympy(read.value)})
        return value

    def outside_value(self, identifier: str, value: Any,
                      node: ast.AST) -> Any:
        """A global or closure value the function reads."""
        if isinstance(value, (np.ndarray, list, dict)):
            raise NeedsArrays
        return self.constant(value, node)

    def attribute(self, node: ast.Attribute, env: dict[str, Any]) -> Any:
        base = self.expression(node.value, env)
        found = view(base, node.attr)  # params.items
        if found is not None:
            return found
        if isinstance(base, sp.Basic):
            raise NeedsArrays  # an argument may be an array or a namedtuple
        if isinstance(base, tuple):
            raise self.error(node, f"attribute .{node.attr} of a "
                                   "differentiated value is not supported "
                                   "for scalars")
        if not hasattr(base, node.attr):
            raise self.error(node, f"{_describe(base)} has no attribute "
                                   f"'{node.attr}'")
        value = getattr(base, node.attr)
        if isinstance(value, np.ndarray) and not self.lowers_arrays:
            raise NeedsArrays  # self.X: the program reads it as data
        if _is_library(base):
            return self.constant(value, node)  # np.pi, math.e
        # An object's attribute (self.scale) can change later.
        read = Read(base, node.attr, value)
        spelled = self.spelled(node, env)
        if spelled is not None:
            named = self.by_name(spelled, read)
            if named is not None:
                return named
        self.context.reads.append(read)
        return self.constant(value, node)

    def spelled(self, node: ast.Attribute, env: dict[str, Any]) -> str | None:
        """``self.cfg.k`` if generated code can spell this attribute so, as
        the user did."""
        parts = [node.attr]
        inner: ast.expr = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or not self.reachable(inner.id,
                                                                  env):
            return None
        return ".".join([inner.id] + parts[::-1])

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
        raise self.error(node, f"{_describe(value)} is not a number")

    def arithmetic(self, op: ast.operator, left: Any, right: Any,
                   node: ast.AST) -> sp.Expr:
        a = self.number(left, getattr(node, "left", node))
        b = self.number(right, getattr(node, "right", node))
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

    def condition(self, node: ast.expr, env: dict[str, Any]) -> Boolean:
        if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return self.identity(node, env)
        if isinstance(node, ast.Compare):
            parts = []
            left = self.number(self.expression(node.left, env), node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.number(self.expression(right_node, env),
                                    right_node)
                relation = _compare(op, left, right, self, node)
                if relation.free_symbols and relation.free_symbols <= \
                        self.context.outside.keys():
                    # Decided by outside values alone (`if ORDER > 2`):
                    # decide it now, and check the values when called.
                    relation = self.concrete(relation)
                parts.append(relation)
                left = right
            return sp.And(*parts)
        if isinstance(node, ast.BoolOp):
            values = [self.as_condition(self.expression(v, env), v)
                      for v in node.values]
            return (sp.And if isinstance(node.op, ast.And) else sp.Or)(*values)
        return self.as_condition(self.expression(node, env), node)

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

    def as_condition(self, value: Any, node: ast.AST) -> Boolean:
        value = self.concrete(value)  # `if SCALE:` on a global number
        if isinstance(value, Boolean):
            return value
        if isinstance(value, sp.Number):
            return sp.true if value != 0 else sp.false
        raise self.error(node, "the truth value of a differentiated number is "
                               "not a condition: compare it explicitly, e.g. "
                               "`x != 0`")

    def call_expression(self, node: ast.Call, env: dict[str, Any]) -> Any:
        callee = self.expression(node.func, env)
        contained = container_call(self, callee, node, env)
        if contained is not None:  # list(params.values()), zip(a, b)
            return contained
        if isinstance(callee, LocalFunction):
            args = [self.expression(a, env) for a in node.args]
            kwargs = {k.arg: self.expression(k.value, env)
                      for k in node.keywords if k.arg is not None}
            return call_local(self, callee, args, kwargs, node)
        nested = called_inside(self, callee, node, env)
        if nested is not NOT_NESTED:  # ad.grad(f)(x), ad.jvp(f, ...)
            return nested
        self.refuse_library(callee, node)
        args = [self.expression(a, env) for a in node.args]
        kwargs = {k.arg: self.expression(k.value, env) for k in node.keywords
                  if k.arg is not None}
        primitive = primitive_for(callee)
        if primitive is not None:
            return self.call_primitive(callee, primitive, args, kwargs, node)
        if array_function(callee) is not None or callee is len:
            raise NeedsArrays
        scipy_op = scipy_function(callee)  # scipy.special.logsumexp, ...
        if scipy_op is not None:
            if not self.lowers_arrays:
                raise NeedsArrays
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
            if len(args) == 1 and not kwargs:
                return self.number(args[0], node)
        if isinstance(callee, type) and issubclass(callee, tuple) and \
                hasattr(callee, "_fields"):
            if not self.lowers_arrays:
                # Scalar code writes its outputs' tuples out; the program
                # keeps a pytree's node types.
                raise NeedsArrays
            return callee(*args, **kwargs)  # a namedtuple of the values
        raise self.error(node.func, f"cannot differentiate through "
                                    f"{ast.unparse(node.func)}: it is not a "
                                    "primitive in autodiff_ast's rules table "
                                    "and has no Python source. Use a NumPy or "
                                    "math function from the table, or a "
                                    "Python function")

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
        form = primitive.form(namespace)
        if form is not None:
            self.context.namespaces.add(form.namespace)
            return self.call_form(form, spelled, args, kwargs, node)
        if kwargs:
            raise self.error(node, f"{spelled}() takes no keyword arguments "
                                   "here")
        if len(args) != primitive.nargs:
            if not self.lowers_arrays and array_function(callee) is not None:
                raise NeedsArrays  # max(xs), max(a, b, c): a reduction
            raise self.error(node, f"{spelled}() takes {primitive.nargs} "
                                   f"argument{'s' if primitive.nargs > 1 else ''}"
                                   f" here, got {len(args)}")
        if namespace:
            self.context.namespaces.add(namespace)
        if primitive.name == "where":
            condition = self.as_condition(args[0], node.args[0])
            return where(condition, self.number(args[1], node.args[1]),
                         self.number(args[2], node.args[2]))
        numbers = [self.number(a, n) for a, n in zip(args, node.args)]
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
        named = {k.arg: value(kwargs[k.arg], k.value)
                 for k in node.keywords if k.arg in kwargs}
        try:
            result = form.lower(*values, **named)
        except TypeError:
            raise self.error(node, f"{spelled}() takes {form.takes} "
                                   "here") from None
        return self.vetted(result, node)

    def vetted(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """``value`` in canonical form (the table's Abs, sign, ...) and
        refused if too large, complex or overflowing, looking only at the
        nodes that no earlier step checked: a function of n statements
        checks each node once, not the whole expression n times."""
        value = self.bounded(value, node)
        fresh = self.unvetted(value)
        if any(rewritten_by_canonical(n) for n in fresh):
            value = canonical(value)
            fresh = self.unvetted(value)
        if value.is_Number or any(n in _UNDEFINED for n in fresh):
            self.real(value, node)
        self.context.vetted.update(fresh)
        return value

    def unvetted(self, value: sp.Basic) -> list[sp.Basic]:
        """The nodes of ``value`` not yet vetted, each once."""
        known, found, stack = self.context.vetted, {}, [value]
        while stack:
            part = stack.pop()
            if part not in known and part not in found:
                found[part] = None
                stack.extend(part.args)
        return list(found)

    def bounded(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """``value``, refused once it is too large written out (before the
        tree walks of the next steps take exponential time)."""
        if written_out_size(value, memo=self.context.sizes) > MOST_OPERATIONS:
            if not self.lowers_arrays:
                raise NeedsArrays  # a program keeps its large values named
            raise self.error(
                node, f"this expression has more than {MOST_OPERATIONS} "
                      "operations when written out: too large to "
                      "differentiate symbolically. Split it into several "
                      "assignments (a large value assigned to a name is "
                      "then used by its name)")
        return value

    def real(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """``value``, refused if it is complex or overflows a float."""
        if value.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise self.error(node, "this gives a complex or undefined value "
                                   "for constant operands (such as log of a "
                                   "negative number, or division by zero)")
        if value.is_Number:
            try:
                finite = math.isfinite(float(value))
            except OverflowError:
                finite = False
            if not finite:
                raise self.error(node, "this constant arithmetic overflows "
                                       "a float")
        return value

    def inline(self, callee: types.FunctionType, args: list[Any],
               kwargs: dict[str, Any], node: ast.Call) -> Any:
        current = getattr(callee, "__autodiff_ast_current__", None)
        if current is not None:  # a derivative's handle: its generated code
            # and what that code baked in, which this code now bakes in too
            self.context.reads.extend(callee.__autodiff_ast_baked__())
            callee = current()
        if callee.__code__ in self.context.inlining:
            raise self.error(node, f"recursive call to {callee.__name__}: "
                                   "autodiff_ast inlines the functions it "
                                   "calls, so recursion cannot be followed; "
                                   "rewrite it as a loop over range()")
        source = readable_source(callee)
        try:
            bound = inspect.signature(callee).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(node, f"cannot call {source.name}: {exc}") from None
        bound.apply_defaults()
        arguments = {k: _as_sympy(v) for k, v in bound.arguments.items()}
        return self.spawn(callee, source).call(arguments)

    def spawn(self, callee: types.FunctionType,
              source: FunctionSource) -> _Runner:
        """A runner for a function this one calls."""
        return _Runner(callee, source, self.context)


# Atoms that make a value complex or undefined (real() says which).
_UNDEFINED = frozenset({sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo})


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


def _fills(statement: ast.stmt) -> bool:
    """Whether ``statement`` fills an array: an item assigned (``d[key] =
    v``, ``d[key] += v``) or a call made for its effect (``np.add.at``,
    which the fence lets through)."""
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Call)
    if isinstance(statement, ast.Assign):
        return isinstance(statement.targets[0], ast.Subscript)
    return isinstance(statement, ast.AugAssign) and isinstance(
        statement.target, ast.Subscript)


def _is_plain_number(value: Any) -> bool:
    """An int or float (not a bool) that generated code can compute with."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        return False
    return math.isfinite(value)


def _all_numbers(values: list[Any]) -> bool:
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool)
               for v in values)


def _is_library(value: Any) -> bool:
    """A module of NumPy, SciPy or the standard library: its constants
    (np.pi) are constants, not state."""
    return isinstance(value, types.ModuleType) and library_of(value) is not None


def _names_only(target: ast.expr) -> bool:
    """Whether ``target`` is a name or a tuple of such (``i, (W, b)``)."""
    if isinstance(target, ast.Tuple):
        return all(_names_only(e) for e in target.elts)
    return isinstance(target, ast.Name)


def _iterations(loop: ast.For, items: list[Any]) -> list[Any]:
    """The statements of ``loop`` unrolled over ``items``; after a break
    (the loop's flag, ``_loop_exits``), no more iterations run."""
    flag = getattr(loop, "broke", None)
    statements: list[Any] = []
    for item in reversed(items):
        iteration = [_Bind(loop.target, item), *loop.body]
        if statements and flag is not None:
            statements = [ast.fix_missing_locations(ast.copy_location(
                ast.If(ast.UnaryOp(ast.Not(), ast.Name(flag, ast.Load())),
                       statements, []), loop))]
        statements = iteration + statements
    return statements


def _returns(statements: list[ast.stmt]) -> bool:
    """Whether a return statement occurs anywhere in these statements."""
    return any(isinstance(n, ast.Return) for s in statements
               if isinstance(s, ast.AST) for n in ast.walk(s))


def _select(condition: Boolean, then_value: Any, else_value: Any,
            runner: _Runner, node: ast.AST) -> Any:
    """The value ``then_value if condition else else_value``, symbolically."""
    if isinstance(then_value, tuple) or isinstance(else_value, tuple):
        if not (isinstance(then_value, tuple) and isinstance(else_value, tuple)
                and len(then_value) == len(else_value)):
            raise runner.error(node, "the branches produce values of "
                                     "different shapes (a tuple on one path)")
        return tuple(_select(condition, a, b, runner, node)
                     for a, b in zip(then_value, else_value))
    if then_value == else_value:
        return then_value
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


def _describe(value: Any) -> str:
    name = getattr(value, "__qualname__", None) or getattr(
        value, "__name__", None)
    module = getattr(value, "__module__", None)
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if name and module and module != "builtins":
        return f"{module}.{name}"
    if name:
        return name
    return repr(value)
