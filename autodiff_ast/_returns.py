"""Return statements that give a result's structure.

The code generated for array code computes the leaves of its result (the
gradients of each argument, the blocks of a Hessian) and, where the
result is built of dicts, lists, tuples and None, returns them in that
structure, as the library's handle and an exported module give them:
``return {'W': grad_W, 'b': grad_b}``, ``return grad_x,`` for
``argnums=(0,)``. A structure with other nodes (a namedtuple) is
returned as its leaves, which the handle puts into it.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import optree

from ._unparse import to_source
from ._wrap import (_WIDTH, _Layout, _Token, _depth, _tokens, _wrap,
                    _wrap_line)

__all__ = ["buildable", "structure_node", "leaf_nodes", "with_returns"]


def buildable(structure: Any) -> bool:
    """Whether code builds ``structure`` around its leaves with literals
    alone: dicts with constant keys, lists, tuples and None."""
    leaf = _Leaf(ast.Constant(None))

    def literal(tree: Any) -> bool:
        if tree is leaf or tree is None:
            return True
        if type(tree) is dict:
            return all(type(k) in (str, int, float, bool) for k in tree) \
                and all(literal(v) for v in tree.values())
        return type(tree) in (list, tuple) and all(literal(v) for v in tree)

    return literal(optree.tree_unflatten(
        structure, [leaf] * structure.num_leaves))


def structure_node(tree: Any) -> ast.expr:
    """The expression that builds ``tree`` (dicts, lists, tuples, None)
    around its leaves, which are expressions."""
    if isinstance(tree, ast.expr):
        return tree
    if tree is None:
        return ast.Constant(None)
    if type(tree) is dict:
        return ast.Dict([ast.Constant(k) for k in tree],
                        [structure_node(v) for v in tree.values()])
    if type(tree) is list:
        return ast.List([structure_node(v) for v in tree], ast.Load())
    if type(tree) is tuple:
        return ast.Tuple([structure_node(v) for v in tree], ast.Load())
    raise TypeError(f"no literal builds a {type(tree).__name__}")


def leaf_nodes(node: ast.expr, structure: Any) -> list[ast.expr]:
    """The expressions of ``node`` (a return statement's value) at the
    leaves of ``structure``, in its order: the whole value where the
    structure is one leaf, else the literal's entries."""
    if structure.num_nodes == 1:
        return [node]

    def tree(part: ast.expr) -> Any:
        if isinstance(part, ast.Dict) and all(
                isinstance(k, ast.Constant) for k in part.keys):
            return {k.value: tree(v)  # type: ignore[union-attr]
                    for k, v in zip(part.keys, part.values)}
        if isinstance(part, ast.Tuple):
            return tuple(tree(e) for e in part.elts)
        if isinstance(part, ast.List):
            return [tree(e) for e in part.elts]
        if isinstance(part, ast.Constant) and part.value is None:
            return None
        return _Leaf(part)

    built = tree(node)
    try:
        leaves = structure.flatten_up_to(built)
    except (ValueError, TypeError):  # returned flat
        leaves = list(node.elts) if isinstance(node, ast.Tuple) else [node]
    return [leaf.node if isinstance(leaf, _Leaf) else leaf
            for leaf in leaves]


class _Leaf:
    """An expression where the structure has a leaf (optree would take a
    bare ast.Tuple apart)."""

    def __init__(self, node: ast.expr) -> None:
        self.node = node


def with_returns(text: str, structure: Any,
                 rebuild: Callable[[list[ast.expr]], list[ast.expr]]
                 = lambda leaves: leaves) -> str:
    """``text`` (one function) with each return statement giving
    ``structure`` around its leaves (``rebuild`` of them: casts)."""
    (function,) = ast.parse(text).body
    returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
    lines = text.splitlines(keepends=True)
    changed = False
    for node in sorted(returns, key=lambda n: n.lineno, reverse=True):
        assert node.value is not None and node.end_lineno is not None
        leaves = rebuild(leaf_nodes(node.value, structure))
        rebuilt = structure_node(optree.tree_unflatten(structure, leaves))
        if ast.dump(rebuilt) == ast.dump(node.value):
            continue
        statement = ast.fix_missing_locations(
            ast.Module([ast.Return(rebuilt)], []))
        indent = " " * node.col_offset
        # (strings as repr: a key holding a newline stays on its line)
        lines[node.lineno - 1:node.end_lineno] = [
            _filled(indent + line) + "\n"
            for line in to_source(statement).splitlines()]
        changed = True
    return _wrap("".join(lines)) if changed else text


def _filled(line: str) -> str:
    """A long ``return a, {...}``, which ``_wrap`` would wrap in added
    parentheses, broken inside its widest bracket instead: the items
    filled line by line, aligned with the bracket (PEP 8), and an item
    still too long (a dict of dicts, a tuple in a dict) broken the same
    way inside its own brackets, level after level. Where aligned items
    would still pass the margin (long keys, deep nesting), each bracket
    that must break holds its items one level in, as black lays them
    out."""
    tokens = _tokens(line) if len(line) > _WIDTH else None
    if not tokens:
        return line
    outermost = [i for i, token in enumerate(tokens)
                 if token.text in "([{" and _depth(tokens, token) == 0]
    if not outermost:
        return line
    widest = max(outermost,
                 key=lambda i: tokens[tokens[i].partner].end - tokens[i].start)
    opening, closing = tokens[widest], tokens[tokens[widest].partner]
    inner = _Layout(line, tokens).content(
        widest + 1, opening.partner, opening.end, len(line) - closing.start)
    inner[0] = line[:opening.end] + inner[0]
    inner[-1] += line[closing.start:]
    indent = len(line) - len(line.lstrip())
    hanging = [line[:opening.end]] + _items_below(
        line, tokens, widest, indent + 4) + [
        " " * indent + line[closing.start:]]
    # (a leaf too long for any of these, a long product returned, is
    # broken at its operators, in added parentheses)
    candidates = [inner, hanging, _wrap_line(line).rstrip("\n").split("\n")]
    return "\n".join(min(candidates, key=lambda lines: sum(
        max(0, len(line) - _WIDTH) for line in lines)))


def _items_below(line: str, tokens: list[_Token], at: int,
                 indent: int) -> list[str]:
    """The lines between the bracket ``tokens[at]`` and its partner, as
    black writes a literal it splits: one item a line ``indent`` columns
    in, each with its comma, an item too long broken the same way inside
    its last bracket."""
    closing, commas, index = tokens[at].partner, [], at + 1
    while index < closing:  # the commas between items, not inside them
        if tokens[index].partner > index:
            index = tokens[index].partner
        elif tokens[index].text == ",":
            commas.append(index)
        index += 1
    starts = [at + 1] + [i + 1 for i in commas]
    items = [(a, b) for a, b in zip(starts, commas + [closing]) if a < b]
    # (a comma after the last item, as black ends a split literal, but in
    # parentheses that hold one value: a comma would make a tuple)
    comma = "," if commas or tokens[at].text != "(" else ""
    lines = []
    for number, (first, end) in enumerate(items):
        after = "," if number < len(items) - 1 else comma
        text = " " * indent + line[tokens[first].start:tokens[end - 1].end]
        last = tokens[end - 1]
        if len(text) + len(after) <= _WIDTH:
            lines.append(text + after)
            continue
        if not _literal(tokens, first, end):  # a leaf: at its operators
            pieces = _Layout(line, tokens).piece(first, end, indent,
                                                 len(after))
            lines += [" " * indent + pieces[0]] + pieces[1:-1] + [
                pieces[-1] + after] if len(pieces) > 1 else [
                " " * indent + pieces[0] + after]
            continue
        lines.append(" " * indent + line[tokens[first].start:tokens[
            last.partner].end])
        lines += _items_below(line, tokens, last.partner, indent + 4)
        lines.append(" " * indent + last.text + after)
    return lines


def _literal(tokens: list[_Token], first: int, end: int) -> bool:
    """Whether ``tokens[first:end]`` (an item) ends in a dict, list or
    tuple literal (``'W': {...}``), not in a call or a subscript."""
    opening = tokens[end - 1].partner
    if tokens[end - 1].text not in ")]}" or opening < first or not (
            opening == first or tokens[opening - 1].text in (":", ",")):
        return False
    # (parentheses around one value are no tuple)
    return tokens[opening].text != "(" or any(
        token.text == "," and _depth(tokens, token) == _depth(
            tokens, tokens[opening]) + 1
        for token in tokens[opening + 1:end - 1])
