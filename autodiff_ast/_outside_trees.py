"""Containers of arrays read from outside the function, by name.

JAX's usual way to fix a model's parameters is to close over them:
``grad(lambda x: loss(params, x))``, with ``params`` a dict (or tuple,
list, namedtuple, nested) of arrays. Array lowering reads such a global
or closure value as data, as it reads one global array: each array leaf
is a data symbol that generated code reads by its path when it runs
(``params_W = params['W']``), and other leaves (numbers, strings,
functions) are constants baked in.

The code is generated for the container as it was, so the read records
its structure and, per leaf, what the code depends on: an array's shape
and dtype (its values are read when the code runs), any other leaf's
value. A container rebound, an item added or removed, an array replaced by
one of another shape or dtype, or a number changed, and the derivative is
generated again; an array replaced by another of its shape and dtype, or
changed in place, is read by the code as it is.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import optree

from ._lower_records import Read, tree_signature
from ._program import Leaf

__all__ = ["data_tree", "holds_arrays"]


def holds_arrays(value: Any) -> bool:
    """Whether ``value`` is a container with an array among its leaves."""
    return isinstance(value, (list, dict, tuple)) and any(
        isinstance(leaf, np.ndarray) for leaf in optree.tree_leaves(value))


def data_tree(runner: Any, identifier: str, read: Read,
              node: ast.AST, spelled: str | None = None) -> Any:
    """The container ``read`` found (a global or a closure cell named
    ``identifier``, or an attribute generated code reads as ``spelled``,
    ``self.params``) with each array leaf a data symbol read by its path,
    and the read recorded so that a change the code depends on makes it
    generated again."""
    value = read.value
    context = runner.context
    known = context.data_trees.get(id(value))
    if known is not None:
        context.reads.append(Read(read.container, read.key, value,
                                  tree=tree_signature(value)))
        return known
    accessors, leaves, spec = optree.tree_flatten_with_accessor(value)
    paths = [accessor.codify(identifier) for accessor in accessors]
    unreadable = next((p for p, leaf in zip(paths, leaves)
                       if not _reads(p, identifier, value, leaf)), None)
    if unreadable is not None:
        raise runner.error(node, (
            f"{identifier}, read from outside the function, is a "
            f"{type(value).__name__} whose items generated code cannot read "
            f"by name ({unreadable} does not name one): key it by strings "
            f"or numbers, or pass {identifier} in as an argument "
            "(differentiated only if argnums names it)"))
    if identifier in runner.program.names:
        raise runner.error(node, f"two different values are both called "
                                 f"{identifier}: rename one of them")
    runner.program.reserve(identifier)
    items = []
    for accessor, path, leaf in zip(accessors, paths, leaves):
        if not isinstance(leaf, np.ndarray):
            items.append(runner.constant(leaf, node))
            continue
        if leaf.dtype.kind not in "biuf":
            raise runner.error(node, f"{path}, read from outside the "
                                     f"function, has dtype {leaf.dtype}: "
                                     "only numeric arrays can be used")
        items.append(runner.program.new_symbol(path, Leaf(
            leaf.shape, "data", boolean=leaf.dtype == np.bool_,
            integer=leaf.dtype.kind in "iu",
            access=path if spelled is None else accessor.codify(spelled),
            dtype=leaf.dtype)))
    structured = optree.tree_unflatten(spec, items)
    if spelled is None:
        context.data[identifier] = value
    else:
        runner.hold_root(spelled)
    context.data_trees[id(value)] = structured
    context.reads.append(Read(read.container, read.key, value,
                              tree=tree_signature(value)))
    return structured


def _reads(path: str, identifier: str, value: Any, leaf: Any) -> bool:
    """Whether ``path`` (``params['W']``) is Python that reads ``leaf``
    from ``value`` named ``identifier`` (a key's repr may not be)."""
    try:
        found = eval(compile(path, "<path>", "eval"),  # a path of keys
                     {"__builtins__": {}}, {identifier: value})
    except Exception:  # (a key's repr may raise anything)
        return False
    return found is leaf
