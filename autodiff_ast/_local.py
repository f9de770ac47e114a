"""Functions defined inside the differentiated function.

``def predict(x): return np.tanh(x @ W)`` or ``square = lambda v: v * v``
inside a loss is how NumPy (and JAX) code names a piece it uses twice.
Such a function is a value of lowering, its definition and the scope it
was defined in; called, its body runs on the arguments' values in that
scope, read when it is called (Python's late binding), as a helper
defined at module level is inlined. Its own assignments stay its own.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

__all__ = ["LocalFunction", "call_local", "defined"]


@dataclass(eq=False)
class LocalFunction:
    """A ``def`` or ``lambda`` inside the differentiated function."""

    node: ast.FunctionDef | ast.Lambda
    scope: dict[str, Any]  # where it was defined: read when it is called
    defaults: list[Any]

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")


def defined(run: Any, node: ast.FunctionDef | ast.Lambda,
            env: dict[str, Any]) -> LocalFunction:
    """The function ``node`` defines in ``env``."""
    if isinstance(node, ast.FunctionDef) and node.decorator_list:
        raise run.error(node.decorator_list[0], "decorators on a function "
                                                "defined inside the "
                                                "differentiated function "
                                                "are not supported")
    arguments = node.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs:
        raise run.error(node, "a function defined inside the differentiated "
                              "function takes positional arguments only "
                              "here: name each argument")
    defaults = [run.expression(d, env) for d in arguments.defaults]
    return LocalFunction(node, env, defaults)


def call_local(run: Any, function: LocalFunction, args: list[Any],
               kwargs: dict[str, Any], node: ast.Call) -> Any:
    """``function(*args, **kwargs)``: its body run on the values."""
    definition = function.node
    if definition in run.context.inlining:
        raise run.error(node, f"recursive call to {function.name}: "
                              "autodiff_ast inlines the functions it calls, "
                              "so recursion cannot be followed; rewrite it "
                              "as a loop over range()")
    params = [a.arg for a in definition.args.posonlyargs
              + definition.args.args]
    if len(args) > len(params) or set(kwargs) - set(params[len(args):]):
        raise run.error(node, f"cannot call {function.name}: it takes "
                              f"({', '.join(params)})")
    bound = dict(zip(params, args))
    bound.update(kwargs)
    first_default = len(params) - len(function.defaults)
    for index, param in enumerate(params):
        if param not in bound:
            if index < first_default:
                raise run.error(node, f"cannot call {function.name}: "
                                      f"missing argument {param!r}")
            bound[param] = function.defaults[index - first_default]
    # (what it changes in place of these, its caller sees: _in_place)
    caller_passed = getattr(run, "passed_in", ("", ()))
    run.passed_in = (function.name, tuple(bound.values()))
    try:
        return run.body_value(definition, definition, function.name,
                              {**function.scope, **bound})
    finally:
        run.passed_in = caller_passed
