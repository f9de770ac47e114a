"""Keyword-only parameters, taken as the trailing parameters they are.

``def loss(w, *, l1=0.1, l2=0.5)`` is how hyperparameters are written. A
derivative takes them as it takes any parameter with a default: the
function's node is read as ``def loss(w, l1=0.1, l2=0.5)``, so lowering,
dispatch and the generated signature see the parameters in one list and the
defaults as its tail. ``argnums`` count the positional parameters only, as
JAX's do: a keyword-only parameter is an option, never differentiated.

Keyword-only parameters that cannot trail that way (one without a default
after parameters with one) keep their node as written, and the fence
refuses them with the fix.
"""

from __future__ import annotations

import ast
import copy
import types
from typing import Any

__all__ = ["as_trailing", "keyword_only_names", "all_defaults"]

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def as_trailing(node: FunctionNode) -> FunctionNode:
    """``node``, or for a function with keyword-only parameters that can
    trail its positional ones (the defaults still a tail) a copy that
    takes them so."""
    arguments = node.args
    if not arguments.kwonlyargs or arguments.vararg or not trails(arguments):
        return node
    moved = copy.copy(arguments)
    moved.args = arguments.args + arguments.kwonlyargs
    moved.defaults = arguments.defaults + [
        d for d in arguments.kw_defaults if d is not None]
    moved.kwonlyargs, moved.kw_defaults = [], []
    written = copy.copy(node)
    written.args = moved
    return written


def trails(arguments: ast.arguments) -> bool:
    """Whether the keyword-only parameters of ``arguments`` can follow its
    positional ones with the defaults still a tail."""
    has_default = [False] * (len(arguments.posonlyargs) + len(arguments.args)
                             - len(arguments.defaults))
    has_default += [True] * len(arguments.defaults)
    has_default += [d is not None for d in arguments.kw_defaults]
    first = has_default.index(True) if True in has_default else len(
        has_default)
    return all(has_default[first:])


def keyword_only_names(fn: types.FunctionType) -> tuple[str, ...]:
    """The keyword-only parameters of ``fn``, in order."""
    code = fn.__code__
    start = code.co_argcount
    return code.co_varnames[start:start + code.co_kwonlyargcount]


def all_defaults(fn: types.FunctionType) -> tuple[Any, ...]:
    """The defaults of ``fn``'s parameters taken as one list: its
    positional defaults, then its keyword-only ones."""
    keywords = fn.__kwdefaults__ or {}
    return tuple(fn.__defaults__ or ()) + tuple(
        keywords[name] for name in keyword_only_names(fn) if name in keywords)
