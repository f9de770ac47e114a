"""Python lists (and dicts) a differentiated function builds for itself.

``history.append(h)`` and ``parts.extend(more)`` in a loop that is written
out, and ``history + [h]``, are how NumPy code collects values before
``np.stack`` or ``sum``. Lowering holds a list as the Python list of its
items' values, so appending to it in place keeps Python's meaning exactly,
another name for the same list included. Only a list the function made
(a display, a comprehension, a concatenation) may change: appending to an
argument or a global would change the caller's list, which a derivative
cannot do, and is refused at the user's line. A dict the function made
has items set by constant keys (``cache["z1"] = z``), as NumPy code keeps
its activations.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import optree
import sympy as sp

from ._array_ops import static_int
from ._ops_index import getitem

__all__ = ["GROWING", "Buffer", "as_lists", "buffer", "concatenated",
           "grown", "made", "returned_whole"]

GROWING = ("append", "extend")


@dataclass(frozen=True)
class Buffer:
    """``[0.0] * n`` or ``np.empty(n)``: a list or array a loop fills,
    one number per iteration (``history[i] = x``), as the code we generate
    stores what a gradient reads back; after the loop, the array of what
    was stored."""

    count: Any
    fill: Any = 0  # what the rows a loop that breaks does not reach hold


def buffer(run: Any, items: list[Any], count: Any, node: ast.AST) -> Buffer:
    """``[0.0] * count``."""
    if len(items) != 1 or not (isinstance(items[0], sp.Number)
                               or isinstance(items[0], (int, float))) or \
            not (isinstance(count, sp.Expr) and run.program.is_integer(count)
                 and run.shape(count, node) == ()):
        raise run.error(node, "a list times a count is supported as a "
                              "list a loop fills, [0.0] * n")
    return Buffer(count, items[0])


def made(run: Any, items: Any) -> Any:
    """``items`` (a list or a dict), noted as made by the function: it
    may grow, or have items set."""
    run.context.lists[id(items)] = items, run.context.kept_loops
    return items


def concatenated(run: Any, left: Any, right: Any, node: ast.AST) -> Any:
    """``left + right`` for two lists or two tuples, else None."""
    if isinstance(left, list) and isinstance(right, list):
        return made(run, left + right)
    if type(left) is tuple and type(right) is tuple:
        return left + right
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        kinds = f"{_kind(left)} + {_kind(right)}"
        raise run.error(node, f"{kinds} is not supported: concatenate two "
                              "lists or two tuples, or make the items "
                              "arrays and use np.concatenate")
    return None


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__}"
    return "a number or an array"


def grown(run: Any, statement: ast.stmt, env: dict[str, Any]) -> bool:
    """Run ``name.append(value)``, ``name.extend(values)`` or
    ``name[i] = value``, if that is what ``statement`` is, on a list the
    function made; False for any other statement (``d[i] = v`` of an
    array is filled by the array operations)."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Subscript):
        return _item_set(run, statement.targets[0], statement.value, env)
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not (isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in GROWING):
        return False
    method = call.func.attr
    target = run.expression(call.func.value, env)
    if not isinstance(target, list):
        return False  # not a list: refused with the other calls
    spelled = ast.unparse(call.func.value)
    _check_changeable(run, target, call, f"{spelled}.{method}(...)", spelled,
                      f"make a new list instead, {spelled} = {spelled} + "
                      "[...]")
    if len(call.args) != 1 or call.keywords:
        raise run.error(call, f"{spelled}.{method} takes one argument")
    value = run.expression(call.args[0], env)
    if method == "append":
        target.append(value)
    elif isinstance(value, (list, tuple)):
        target.extend(value)
    else:
        raise run.error(call.args[0], f"{spelled}.extend(...) takes a list "
                                      "or a tuple here: append an array's "
                                      "rows one by one")
    return True


def _item_set(run: Any, target: ast.Subscript, value_node: ast.expr,
              env: dict[str, Any]) -> bool:
    """``name[i] = value`` on a list the function made (the item replaced,
    as Python does); False if ``name`` is not a local list (a list the
    function made is one)."""
    items = env.get(target.value.id) if isinstance(
        target.value, ast.Name) else None
    if type(items) is Buffer and static_int(items.count) is not None:
        items = _listed(run, items, env, target)
    if isinstance(items, dict):
        return _key_set(run, items, target, value_node, env)
    if not isinstance(items, list):
        return False
    spelled = ast.unparse(target.value)
    _check_changeable(run, items, target, f"{spelled}[...] = ...", spelled,
                      f"make a new list instead, {spelled} = [...]")
    value = run.expression(value_node, env)
    key = run.concrete(run.expression(target.slice, env))
    key = int(key) if isinstance(key, sp.Integer) else key
    if not isinstance(key, (int, slice)) or isinstance(key, bool):
        raise run.error(target.slice, f"an item of the list {spelled} is "
                                      "assigned by an index known when the "
                                      "code is generated (a constant, a "
                                      "loop counter, a size)")
    try:
        items[key] = list(value) if isinstance(key, slice) else value
    except (IndexError, TypeError, ValueError) as exc:
        raise run.error(target, f"{spelled}[...] = ...: {exc}") from None
    return True


def _listed(run: Any, repeated: Buffer, env: dict[str, Any],
            node: ast.AST) -> list[Any]:
    """``[0.0] * 3`` set item by item where no loop kept as a loop fills
    it (a loop of 3 is written out): the list Python makes, under each
    name that holds it."""
    fill = repeated.fill if isinstance(repeated.fill, sp.Basic) else \
        run.constant(repeated.fill, node)
    items = made(run, [fill] * static_int(repeated.count))
    for name, held in list(env.items()):
        if held is repeated:
            env[name] = items
    return items


def _key_set(run: Any, items: dict[Any, Any], target: ast.Subscript,
             value_node: ast.expr, env: dict[str, Any]) -> bool:
    """``name[key] = value`` on a dict the function made (a cache of
    activations, ``d = {}; d["a"] = x ** 2``): the item set, as Python
    does, where the key is known when the code is generated."""
    spelled = ast.unparse(target.value)
    _check_changeable(run, items, target, f"{spelled}[...] = ...", spelled,
                      f"make a new dict instead, {spelled} = {{...}}")
    value = run.expression(value_node, env)
    key = run.concrete(run.expression(target.slice, env))
    if isinstance(key, sp.Integer):
        key = int(key)
    if isinstance(key, sp.Basic) or not isinstance(key, (str, int, tuple,
                                                           bytes)):
        raise run.error(target.slice, f"an item of the dict {spelled} is "
                                      "set by a key known when the code is "
                                      "generated (a constant, a loop "
                                      "counter, a string)")
    items[key] = value
    return True


def _check_changeable(run: Any, items: list[Any] | dict[Any, Any],
                      node: ast.AST, what: str,
                      spelled: str, fix: str) -> None:
    """Refuse ``what`` (a change of ``items`` in place) on a list the
    function did not make, or in a kept loop other than as a statement of
    that loop itself on a list made before it."""
    kind = type(items).__name__
    if id(items) not in run.context.lists:
        raise run.error(node, f"{what} would change a {kind} the function "
                              "did not make (an argument or a global), "
                              f"which a derivative cannot do: {fix}")
    if run.context.lists[id(items)][1] != run.context.kept_loops:
        raise run.error(node, f"{what} in a loop whose trip "
                              "count is known only when the function runs "
                              f"must be a statement of the loop itself, on "
                              f"a list made empty before it (not under an "
                              f"if, nor in a loop that can break): make "
                              f"{spelled} an array of zeros as long as the "
                              f"loop and fill {spelled}[i] instead")


def returned_whole(run: Any, name: str) -> bool:
    """Whether the function returns the list ``name`` whole (``return
    xs``, ``return xs, loss``, ``return {"path": xs}``): its result then
    holds a list, whose length its structure says."""
    def whole(node: ast.expr | None) -> bool:
        if isinstance(node, ast.Name):
            return node.id == name
        if isinstance(node, (ast.Tuple, ast.List)):
            return any(whole(item) for item in node.elts)
        if isinstance(node, ast.Dict):
            return any(whole(item) for item in node.values)
        return False

    return any(isinstance(node, ast.Return) and whole(node.value)
               for node in ast.walk(run.source.node))


def as_lists(run: Any, output: Any, node: ast.AST) -> Any:
    """The function's result with each list a kept loop appended to (held
    as an array of its items) a list again, of its items, as Python
    returns it: a Jacobian, a jvp's tangent, is then such a list too."""
    listed = getattr(run.context, "listed", set())
    if not listed:
        return output

    def items(value: Any) -> Any:
        if not (isinstance(value, sp.Symbol) and value in listed):
            return value
        count = run.shape(value, node)[0]
        return made(run, [getitem(run, value, k, node)
                          for k in range(count)])

    return optree.tree_map(items, output, none_is_leaf=True)
