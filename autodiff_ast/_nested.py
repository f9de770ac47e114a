"""Derivatives called inside a function being differentiated.

JAX composes its transforms freely: ``grad(lambda x: vdot(grad(f)(x), v))``
is a Hessian-vector product, ``grad(lambda x: jvp(f, (x,), (v,))[1])``
another, ``vjp(f, x)[1](v)`` a third. Here a derivative called inside is generated first, when the
outer function is lowered (its function and options must be known then),
and its generated code, which is ordinary input again, is inlined where it
is called: the outer derivative differentiates it as it would the user's
own code. A derivative of array code is generated for the shapes and
dtypes its arguments have there. A function defined inside the outer one
(``ad.grad(lambda x: net(params, x))(xs)``, a physics-informed residual,
or the function of ``ad.jvp`` and ``ad.vjp`` there) is first written as a
function of its arguments and of the values it reads from there, which
its derivative is then called with (in a jvp, with zero tangents for
them).
"""

from __future__ import annotations

import ast
import builtins
import types
from typing import Any

import numpy as np
import optree
import sympy as sp

from ._as_floats import as_floats

__all__ = ["NOT_NESTED", "called_inside", "derivative_call"]

NOT_NESTED = object()
_MADE_BY_NAME = ("grad", "value_and_grad", "jacobian", "jacrev", "jacfwd",
                 "hessian", "derivative")


def called_inside(run: Any, callee: Any, node: ast.Call,
                  env: dict[str, Any]) -> Any:
    """The value of ``node``, a call of ``callee``, if it makes or runs a
    derivative (``ad.grad(f)``, ``ad.jvp(f, primals, tangents)``, a
    derivative made before); else NOT_NESTED."""
    import autodiff_ast

    from ._array_transforms import ArrayTransform
    from ._float_handle import transform_of

    if any(callee is getattr(autodiff_ast, name, None)
           for name in _MADE_BY_NAME):
        args, kwargs = _known_arguments(run, node, env)
        if args and isinstance(args[0], _Lifted):
            return args[0].derivative(run, node, callee, args[1:], kwargs)
        return callee(*args, **kwargs)
    if isinstance(callee, _WithCaptured):
        if node.keywords:
            raise run.error(node, "call a derivative of a function defined "
                                  "inside with its arguments by position")
        args = [run.expression(a, env) for a in node.args]
        return derivative_call(run, callee.derivative,
                               [*args, *callee.captured], node)
    if callee is autodiff_ast.jvp:
        return _jvp(run, node, env)
    if callee is autodiff_ast.vjp:
        return _vjp(run, node, env)
    if isinstance(callee, _Pullback):
        return callee.call(run, node, env)
    callee = transform_of(callee)  # (array code's handle at floats)
    if isinstance(callee, ArrayTransform):
        args = [run.expression(a, env) for a in node.args]
        if node.keywords:
            raise run.error(node, f"call {callee.__name__} with its "
                                  "arguments by position here")
        return derivative_call(run, callee, args, node)
    return NOT_NESTED


def derivative_call(run: Any, derivative: Any, args: list[Any],
                    node: ast.Call) -> Any:
    """``derivative(*args)``, its generated code inlined."""
    from ._array_transforms import ArrayTransform
    from ._float_handle import transform_of

    derivative = transform_of(derivative)
    if not isinstance(derivative, ArrayTransform):
        # (a derivative made per call: with allow_int=True, whose code
        # depends on which arguments are ints)
        raise run.error(node, "a derivative made with allow_int=True is "
                              "not supported inside a function being "
                              "differentiated: leave allow_int out and "
                              "pass the int arguments as floats (their "
                              "derivatives are zero)")
    if not derivative.takes_tangents:  # (the arguments left out: defaults)
        missing = len(derivative.params) - len(args)
        defaults = derivative.defaults
        if 0 < missing <= len(defaults):
            args = [*args, *defaults[len(defaults) - missing:]]
    # (an int where it is differentiated is the float it stands for, as
    # when the derivative is called at the top level)
    entry = derivative.entry_for(as_floats(tuple(_examples(run, args, node)),
                                           derivative.differentiated))
    run.context.reads.extend(entry.lowered.reads)
    returned = run.inline(entry.function, args, {}, node)
    if entry.structured:  # (its code builds the result's structure)
        return returned
    return optree.tree_unflatten(entry.structure, list(returned) if
                                 isinstance(returned, tuple) else [returned])


def _known_arguments(run: Any, node: ast.Call, env: dict[str, Any]
                     ) -> tuple[list[Any], dict[str, Any]]:
    """The arguments of ``ad.grad(...)``: a function and its options,
    known when the outer function is differentiated."""
    args = [_known(run, node, a, env, local=index == 0)
            for index, a in enumerate(node.args)]
    kwargs = {k.arg: _known(run, node, k.value, env)
              for k in node.keywords if k.arg is not None}
    return args, kwargs


def _known(run: Any, node: ast.Call, part: ast.expr,
           env: dict[str, Any], local: bool = False) -> Any:
    """The value of ``part``, known before the outer function runs; with
    ``local``, a function defined inside it may be (``_Lifted``)."""
    from ._array_ops import plain

    from ._local import LocalFunction

    value = run.expression(part, env)
    if isinstance(value, LocalFunction) and local:
        lifted = _lifted(run, value)
        if lifted is None:
            raise run.error(part, f"{ast.unparse(node.func)}(...) of a "
                                  "function defined inside the one being "
                                  "differentiated takes one of positional "
                                  "arguments without defaults, which reads "
                                  "names bound on every path and calls no "
                                  "other function defined there: define it "
                                  "at module level")
        return lifted
    if isinstance(value, LocalFunction):
        raise run.error(part, f"{ast.unparse(node.func)}(...) inside a "
                              "function being differentiated takes a "
                              "function defined at module level (its "
                              "derivative is made before the outer one "
                              "runs), not one defined inside it")
    if isinstance(value, sp.Basic) and value.free_symbols:
        raise run.error(part, f"{ast.unparse(node.func)}(...) inside a "
                              "function being differentiated takes what "
                              "is known before it runs (a function, "
                              "argnums), not values computed from its "
                              "arguments")
    return plain(value) if isinstance(value, sp.Basic) else value


class _Lifted:
    """A function defined inside the function being differentiated, as a
    function of its own arguments followed by the values it reads from
    the scope it was defined in (``captured``): what ``ad.grad`` of it
    differentiates, before the outer function runs."""

    def __init__(self, function: types.FunctionType,
                 captured: list[Any]) -> None:
        self.function = function
        self.captured = captured

    def derivative(self, run: Any, node: ast.Call, transform: Any,
                   args: list[Any], kwargs: dict[str, Any]) -> _WithCaptured:
        """``transform(self, *args, **kwargs)``: with respect to the local
        function's own arguments, which come first."""
        argnums = kwargs.get("argnums", args[0] if args else 0)
        if any(isinstance(i, int) and i < 0 for i in (
                argnums if isinstance(argnums, (tuple, list)) else
                [argnums])):
            raise run.error(node, "argnums of a function defined inside the "
                                  "differentiated function count from its "
                                  "first argument: pass them non-negative")
        return _WithCaptured(transform(self.function, *args, **kwargs),
                             self.captured)


class _WithCaptured:
    """A derivative of a ``_Lifted`` function, called with the values it
    captured after the arguments the call passes."""

    def __init__(self, derivative: Any, captured: list[Any]) -> None:
        self.derivative = derivative
        self.captured = captured


def _lifted(run: Any, local: Any) -> _Lifted | None:
    """``local`` (a ``def`` or ``lambda`` inside the function being
    differentiated) written as a function of its arguments and then of the
    names it reads from the scope it was defined in (``lambda x:
    net(params, x)`` as ``def inner(x, params)``), compiled in the outer
    function's globals and cells; None where it has defaults, or reads
    another such function or a name not bound on every path."""
    from ._compile import Scope, compile_function
    from ._local import LocalFunction
    from ._stale import Stale

    definition = local.node
    arguments = definition.args
    if arguments.defaults or arguments.vararg or arguments.kwarg \
            or arguments.kwonlyargs:
        return None
    params = [a.arg for a in arguments.posonlyargs + arguments.args]
    body = ([ast.Return(definition.body)]
            if isinstance(definition, ast.Lambda) else definition.body)
    names = [n for statement in body for n in ast.walk(statement)
             if isinstance(n, ast.Name)]
    stored = set(params) | {n.id for n in names
                            if not isinstance(n.ctx, ast.Load)}
    read = {n.id for n in names if n.id not in stored}
    outside = run.fn.__globals__.keys() | run.cells.keys() | set(
        dir(builtins))
    if read - local.scope.keys() - outside or any(
            isinstance(local.scope[n], (LocalFunction, Stale))
            for n in read & local.scope.keys()):
        return None
    # Values computed from the outer function's arguments become arguments;
    # anything else it reads there (a function, an object, a constant) a
    # closure cell, read as the local function reads it.
    captured = sorted(n for n in read & local.scope.keys()
                      if _computed(local.scope[n]))
    cells = {**run.cells, **{n: types.CellType(_number(local.scope[n]))
                             for n in read & local.scope.keys()
                             if n not in captured}}
    name = local.name if local.name.isidentifier() else "inner"
    lifted = ast.FunctionDef(
        name=name, args=ast.arguments(
            [], [ast.arg(p) for p in params + captured], None, [], [], None,
            []),
        body=body, decorator_list=[], returns=None, type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        lifted.type_params = []
    source = ast.unparse(ast.fix_missing_locations(ast.Module([lifted], [])))
    function = compile_function(source + "\n", name,
                                scope=Scope(run.fn.__globals__, cells))
    return _Lifted(function, [local.scope[n] for n in captured])


def _computed(value: Any) -> bool:
    """Whether ``value`` holds a value lowering computed (a symbol)."""
    return any(isinstance(leaf, sp.Basic) and leaf.free_symbols
               for leaf in optree.tree_leaves(
                   value, is_leaf=lambda v: isinstance(v, sp.Basic),
                   none_is_leaf=True))


def _number(value: Any) -> Any:
    """A SymPy constant as the Python number a closure cell holds."""
    if isinstance(value, sp.Integer):
        return int(value)
    return float(value) if isinstance(value, sp.Number) else value


def _jvp(run: Any, node: ast.Call, env: dict[str, Any]) -> Any:
    """``ad.jvp(f, primals, tangents)``: (value, tangent) as ``ad.jvp``
    returns them, from f's generated Jacobian-vector product."""
    from ._api import _cached
    from ._array_transforms import ArrayTransform

    if len(node.args) != 3 or any(k.arg != "has_aux" for k in node.keywords):
        raise run.error(node, "ad.jvp takes (fun, primals, tangents) and "
                              "has_aux= here")
    fun, captured = _function_known(run, node, env)
    has_aux = any(bool(_known(run, node, k.value, env))
                  for k in node.keywords)
    primals = run.expression(node.args[1], env)
    tangents = run.expression(node.args[2], env)
    if not (isinstance(primals, (tuple, list))
            and isinstance(tangents, (tuple, list))
            and len(primals) == len(tangents)):
        raise run.error(node, "ad.jvp takes a tuple of primals and a tuple "
                              "of as many tangents")
    function = _cached(fun, 0, has_aux, "jvp")
    # (what a local function captured does not move: zero tangents)
    result = derivative_call(run, function, [
        *primals, *captured, *tangents, *_zeros(run, captured, node)], node)
    if has_aux and not isinstance(function, ArrayTransform):
        (value, tangent), aux = result
        return value, tangent, aux
    return result


class _Pullback:
    """The ``vjp_fun`` of ``ad.vjp`` called inside: the generated gradient
    of the cotangent's dot product with the output, inlined where it is
    called (as ``ad.vjp``'s own pullback runs it)."""

    def __init__(self, gradient: Any, primals: list[Any],
                 outputs: int) -> None:
        self.gradient = gradient
        self.primals = primals
        self.outputs = outputs

    def call(self, run: Any, node: ast.Call, env: dict[str, Any]) -> Any:
        if len(node.args) != 1 or node.keywords:
            raise run.error(node, "the pullback ad.vjp returns takes one "
                                  "cotangent, shaped as the output")
        cotangents = optree.tree_leaves(
            run.expression(node.args[0], env),
            is_leaf=lambda v: isinstance(v, sp.Basic))
        if len(cotangents) != self.outputs:
            entries = "entry" if len(cotangents) == 1 else "entries"
            outputs = "output" if self.outputs == 1 else "outputs"
            raise run.error(node, f"the cotangent has {len(cotangents)} "
                                  f"{entries}, but the function has "
                                  f"{self.outputs} {outputs}: pass one per "
                                  "output, in the output's structure")
        pulled = derivative_call(run, self.gradient,
                                 [*self.primals, *cotangents], node)
        return tuple(pulled)


def _vjp(run: Any, node: ast.Call, env: dict[str, Any]) -> Any:
    """``ad.vjp(f, *primals)``: (value, vjp_fun) as ``ad.vjp`` returns
    them; ``vjp_fun`` runs the generated gradient of the cotangent's dot
    product with f's output (``_pullback``)."""
    from ._api import grad
    from ._pullback import dot_product

    if any(k.arg != "has_aux" for k in node.keywords) or len(node.args) < 2:
        raise run.error(node, "ad.vjp takes (fun, *primals) and has_aux= "
                              "here")
    fun, captured = _function_known(run, node, env)
    has_aux = any(bool(_known(run, node, k.value, env))
                  for k in node.keywords)
    if not isinstance(fun, types.FunctionType):
        raise run.error(node.args[0], "ad.vjp inside a function being "
                                      "differentiated takes a Python "
                                      "function: wrap it, `def f(x): "
                                      "return ...`")
    primals = [run.expression(a, env) for a in node.args[1:]]
    if any(isinstance(p, sp.Basic) and run.program.is_integer(p)
           for p in primals):
        raise run.error(node, "ad.vjp inside a function being "
                              "differentiated takes float primals: a "
                              "primal of integers has no cotangent here")
    own = tuple(range(len(primals)))
    primals += captured  # (not differentiated: a local function read them)
    output = run.inline(fun, primals, {}, node)
    if has_aux and not (isinstance(output, tuple) and len(output) == 2):
        raise run.error(node, "vjp with has_aux=True needs the function "
                              "to return a pair (value, aux)")
    value, aux = output if has_aux else (output, None)
    leaves = optree.tree_leaves(value,
                                is_leaf=lambda v: isinstance(v, sp.Basic))
    dot = dot_product(fun, value, has_aux, len(primals))
    pull = _Pullback(grad(dot, argnums=own), primals, len(leaves))
    return (value, pull, aux) if has_aux else (value, pull)


def _function_known(run: Any, node: ast.Call, env: dict[str, Any]
                    ) -> tuple[Any, list[Any]]:
    """The function ``ad.jvp(f, ...)`` or ``ad.vjp(f, ...)`` takes, and
    the values it reads from the function being differentiated, which it
    is called with after its own arguments: none for a function known
    before the outer one runs; for one defined inside it, its
    ``_Lifted`` form and what that captured."""
    fun = _known(run, node, node.args[0], env, local=True)
    if isinstance(fun, _Lifted):
        return fun.function, list(fun.captured)
    return fun, []


def _zeros(run: Any, values: list[Any], node: ast.AST) -> list[Any]:
    """A zero tangent for each leaf of ``values``: ``np.zeros_like`` of
    an array, else a number, which the inlined code multiplies away."""
    from ._ops_create import ZEROS_LIKE

    def zero(leaf: Any) -> Any:
        if isinstance(leaf, sp.Basic) and run.shape(leaf, node):
            return ZEROS_LIKE.lower(run, leaf, node=node)
        return 0.0

    return optree.tree_map(zero, values,
                           is_leaf=lambda v: isinstance(v, sp.Basic))


def _examples(run: Any, args: list[Any], node: ast.AST) -> list[Any]:
    """Arrays of zeros with the shapes (at the sizes of the arguments the
    outer function was called with) and dtypes of ``args``: what a
    derivative of array code is generated for."""
    program = run.program
    sizes = {symbol: sp.Integer(size) for symbol, size in
             program.sizes.items()}

    def example(value: Any) -> Any:
        if not isinstance(value, sp.Basic):
            return value
        shape = tuple(int(sp.sympify(size).xreplace(sizes))
                      for size in run.shape(value, node))
        leaf = program.leaves.get(value)
        dtype = (leaf.dtype if leaf is not None and leaf.dtype is not None
                 else np.int64 if program.is_integer(value) else np.float64)
        return np.zeros(shape, dtype)

    return optree.tree_map(example, list(args),
                           is_leaf=lambda v: isinstance(v, sp.Basic))
