"""Which sizes a function requires to match that its derivative's code
must check itself.

``np.sum(x * y)`` requires x and y to have the same length, and NumPy
raises when they do not. Its gradient with respect to x is ``y``, which
multiplies nothing: code made for any length would return y's length for
x of another and raise nothing. So a requirement of the function (two
sizes its steps need equal: broadcast axes, a product's inner axes, the
axes an einsum names with one letter) that no step of the generated code
enforces any more is checked at the code's top. Sizes of two inputs are
compared when the code runs (``x.shape[0] != y.shape[0]``); a size fixed
by a constant array (``np.dot(x, np.ones(5))``) fixes the input's size,
so the code is then checked for the shapes it was generated for, and made
again at others, where the function's own error reaches the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import sympy as sp

from ._program import Program, Step

__all__ = ["SizeChecks", "size_checks"]

# An input's axis whose size code reads ("input", symbol, axis); a size a
# constant array fixes ("constant", size); or None, one code cannot name.
Node = Any


@dataclass
class SizeChecks:
    """What the generated code checks at its top."""

    # (left, right) size readers that must be equal: "x.shape[0]".
    equal: list[tuple[str, str]] = field(default_factory=list)
    # The inputs those read, as the code reads them, arguments first in
    # the function's order.
    arrays: list[str] = field(default_factory=list)
    # Why the code must be checked for the shapes it was made for, if it
    # must (a size a constant fixes), and the inputs whose sizes are fixed.
    fixed: list[str] = field(default_factory=list)
    fixed_inputs: set[sp.Symbol] = field(default_factory=set)


def size_checks(program: Program, computed: Iterable[Any],
                meant: Iterable[Any], params: Iterable[str]) -> SizeChecks:
    """The checks code computing ``computed`` (expressions over
    ``program``) needs so that it raises where the function, whose
    outputs are ``meant``, would: every requirement of ``program``'s
    steps and of both sets of expressions that the steps ``computed``
    needs, and ``computed`` itself, do not enforce. Only requirements on
    the sizes of what the code is called with (``params``) are checked:
    arrays it reads from outside (a global dataset and its targets) fit
    each other as the function found them."""
    computed = [e for e in computed if isinstance(e, sp.Basic)]
    definition = program.definition()
    needed = program.needed(computed)
    sources = _Sources(program, definition, params)

    enforced = _UnionFind()
    for group in _groups(program, computed, [
            s for s in program.steps if s.target in needed]):
        nodes = [n for n in map(sources.node, group) if n is not None]
        for node in nodes[1:]:
            enforced.union(nodes[0], node)

    checks = SizeChecks()
    compared: list[Node] = []
    meant = [e for e in meant if isinstance(e, sp.Basic)]
    for group in _groups(program, meant, [
            s for s in program.steps if s.target not in needed]):
        nodes = [n for n in map(sources.node, group) if n is not None]
        for node in nodes[1:]:
            first = nodes[0]
            if enforced.find(first) == enforced.find(node):
                continue
            # (each side as the best-read size it is known equal to: an
            # argument's rather than a global's the code already matched)
            first, node = (min(enforced.members(n), key=sources.order)
                           for n in (first, node))
            enforced.union(first, node)
            if not any(sources.passed(n) for n in (first, node)):
                continue
            constant = [n for n in (first, node) if n[0] == "constant"]
            if constant:
                checks.fixed.append(
                    "the function combines them with a constant array of "
                    f"size {constant[0][1]}")
                checks.fixed_inputs.update(n[1] for n in (first, node)
                                           if n[0] == "input")
                continue
            pair = sorted((first, node), key=sources.order)
            checks.equal.append((sources.read(pair[0]),
                                 sources.read(pair[1])))
            compared.extend(pair)
    checks.fixed = list(dict.fromkeys(checks.fixed))
    checks.arrays = list(dict.fromkeys(
        sources.array(n) for n in sorted(compared, key=sources.order)))
    return checks


def _groups(program: Program, expressions: list[sp.Basic],
            steps: list[Step]) -> Iterator[list[tuple[sp.Symbol, int]]]:
    """Each set of (array, axis) whose sizes the expressions and steps
    require to be equal (sizes above 1: an axis of 1 broadcasts)."""
    for expression in expressions:
        yield from _broadcast(program, expression)
    for step in steps:
        if step.option("loop") is not None:
            continue  # its body is its own program
        for operand in step.operands:
            if isinstance(operand, sp.Basic) and not isinstance(
                    operand, sp.Symbol):
                yield from _broadcast(program, operand)
        yield from _of_step(program, step)


def _broadcast(program: Program, expression: sp.Basic
               ) -> Iterator[list[tuple[sp.Symbol, int]]]:
    """The axes elementwise arithmetic aligns: the last axes of every
    array in it, that have the size of the result there."""
    return _aligned(program, list(expression.free_symbols))


def _aligned(program: Program, symbols: list[Any]
             ) -> Iterator[list[tuple[sp.Symbol, int]]]:
    """The axes NumPy broadcasting aligns among ``symbols``' arrays."""
    arrays = [(s, program.leaves[s].shape) for s in sorted(
        (s for s in symbols if isinstance(s, sp.Symbol)), key=str)
        if s in program.leaves and program.leaves[s].shape]
    if len(arrays) < 2:
        return
    rank = max(len(shape) for _, shape in arrays)
    for back in range(1, rank + 1):
        group = [(s, len(shape) - back) for s, shape in arrays
                 if len(shape) >= back and shape[-back] > 1]
        if len(group) > 1:
            yield group


def _of_step(program: Program, step: Step
             ) -> Iterator[list[tuple[sp.Symbol, int]]]:
    """The axes of ``step``'s operands it requires equal."""
    name = step.op.name
    shapes = [program.leaves[o].shape if isinstance(o, sp.Symbol)
              and o in program.leaves else () for o in step.operands]
    if name == "dot" and all(shapes):
        a, b = step.operands
        inner = 0 if len(shapes[1]) == 1 else len(shapes[1]) - 2
        if shapes[0][-1] > 1:
            yield [(a, len(shapes[0]) - 1), (b, inner)]
    elif name == "einsum":
        from ._ops_einsum import parse
        parsed = parse(step.option("subscripts"), shapes)
        for letter, size in parsed.sizes.items():
            group = [(operand, axis) for operand, term, shape in zip(
                step.operands, parsed.inputs, shapes)
                for axis, named in enumerate(term)
                if named == letter and shape[axis] > 1]
            if size > 1 and len(group) > 1:
                yield group
    elif name in ("full_like", "broadcast_to"):
        # (the value fills an array of the first operand's or the
        # result's shape: np.full_like(A, np.sum(B, axis=1)))
        yield from _aligned(program, [*step.operands, step.target])
    elif name in ("concatenate", "stack"):
        joined = step.option("axis") if name == "concatenate" else None
        rank = len(shapes[0]) if shapes else 0
        for axis in range(rank):
            group = [(operand, axis) for operand, shape in zip(
                step.operands, shapes) if isinstance(operand, sp.Symbol)
                and shape and axis != joined and shape[axis] > 1]
            if len(group) > 1:
                yield group


class _Sources:
    """Where sizes come from: the input axis code reads, or a constant."""

    def __init__(self, program: Program, definition: dict[sp.Symbol, Step],
                 params: Iterable[str]):
        self.program = program
        self.definition = definition
        self.params = list(params)
        self._constant: dict[sp.Symbol, bool] = {}
        self._nodes: dict[tuple[sp.Symbol, int], Node] = {}

    def node(self, where: tuple[sp.Symbol, int]) -> Node:
        known = self._nodes.get(where, False)
        if known is False:
            known = self._nodes[where] = self._node(where)
        return known

    def _node(self, where: tuple[sp.Symbol, int]) -> Node:
        found = self.program.size_source(where[0], where[1],
                                         self.definition)
        if found is None:
            return None
        array, axis = found
        leaf = self.program.leaves[array]
        if axis is None:
            return None
        if array not in self.definition and leaf.kind in ("param", "data"):
            return ("input", array, axis)
        if self.is_constant(array):
            return ("constant", leaf.shape[axis])
        return None

    def is_constant(self, symbol: sp.Symbol) -> bool:
        """Whether ``symbol`` is computed from numbers the code holds
        only (``np.ones(5)``, ``np.arange(3.0) * 2``)."""
        known = self._constant.get(symbol)
        if known is None:
            step = self.definition.get(symbol)
            self._constant[symbol] = False  # (until shown otherwise)
            known = step is not None and step.option("loop") is None \
                and all(self.is_constant(s) for s in step.uses())
            self._constant[symbol] = known
        return known

    def passed(self, node: Node) -> bool:
        """Whether ``node`` is a size of what the code is called with (an
        argument, or an array in one: ``params['W']``)."""
        return node[0] == "input" and self._root(node) in self.params

    def order(self, node: Node) -> tuple[int, str, int]:
        """Arguments first, in the function's order; then what the code
        reads from outside, by name."""
        if node[0] != "input":
            return len(self.params) + 1, "", node[1]
        root = self._root(node)
        place = self.params.index(root) if root in self.params else len(
            self.params)
        return place, self.array(node), node[2]

    def _root(self, node: Node) -> str:
        found = re.match(r"\w*", self.array(node))
        return found.group() if found else ""

    def array(self, node: Node) -> str:
        symbol = node[1]
        return self.program.leaves[symbol].access or symbol.name

    def read(self, node: Node) -> str:
        return f"{self.array(node)}.shape[{node[2]}]"


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}

    def find(self, node: Node) -> Node:
        root = self.parent.get(node, node)
        if root != node:
            root = self.parent[node] = self.find(root)
        return root

    def members(self, node: Node) -> list[Node]:
        """``node`` and the nodes known equal to it."""
        root = self.find(node)
        return [node] + [n for n in self.parent if n != node
                         and self.find(n) == root]

    def union(self, a: Node, b: Node) -> None:
        for node in (a, b):
            self.parent.setdefault(node, node)
        self.parent[self.find(a)] = self.find(b)
