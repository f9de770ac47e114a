"""What a reviewer would send back about one generated function.

``lint`` holds a generated function to what a careful person writes: no
assignment that is never read, no alias of another name, no line over 79
characters (a docstring line only when it is one unbreakable word, a long
path), no numeric literal over 20 characters (a float's shortest repr
excepted), no subexpression computed twice on one path, returned values
named after what they are (never ``t1``), powers of a named value written
from that name, cubes that read as cubes, and no like terms kept apart by
a shared factor (``t0 * (1 - s) - 2 * s * t0``).

test_lint.py tests it and runs it over a corpus; conftest.py runs it over
every function each test generates.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Any, Callable, Iterator

import pyflakes.checker
import pyflakes.messages

WIDTH = 79
LONGEST_LITERAL = 20
GENERIC_NAME = re.compile(r"(t|out)\d*(_\d+)?$")


def lint(source: str) -> list[str]:
    """What a reviewer would send back about one generated function."""
    tree = ast.parse(source)
    (function,) = tree.body
    assert isinstance(function, ast.FunctionDef)
    checks: list[Callable[..., list[str]]] = [
        _unread, _aliases, _repeated, _generic_returns, _powers_unnamed,
        _cubes, _like_terms_apart]
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    problems = _long_lines(source, tokens) + _long_literals(tokens)
    try:
        for check in checks:
            problems += check(tree if check is _unread else function)
    finally:
        _ASKED.clear()
    return list(dict.fromkeys(problems))  # each once, in order


# What the checks ask of each node of the function being linted, by the
# question and the node's id, while it is linted: they ask again and again
# about the same statements and expressions (every path through the
# function walks its statements, each value is printed as a key and
# searched for names), and a generated Hessian has thousands of nodes.
# Nothing changes the tree while it is linted.
_ASKED: dict[tuple[str, int], Any] = {}


def _walk(node: ast.AST) -> list[ast.AST]:
    """ast.walk(node), as a list."""
    key = ("walk", id(node))
    if key not in _ASKED:
        _ASKED[key] = list(ast.walk(node))
    return _ASKED[key]


def _names_in(node: ast.AST) -> frozenset[str]:
    """The names read or bound anywhere in ``node``."""
    key = ("names", id(node))
    if key not in _ASKED:
        _ASKED[key] = frozenset(n.id for n in _walk(node)
                                if isinstance(n, ast.Name))
    return _ASKED[key]


def _dump(node: ast.AST) -> str:
    """ast.dump(node): the same text for the same expression."""
    key = ("dump", id(node))
    if key not in _ASKED:
        _ASKED[key] = ast.dump(node)
    return _ASKED[key]


def _unread(tree: ast.Module) -> list[str]:
    return [f"line {m.lineno}: {m.message_args[0]} is assigned, never read"
            for m in pyflakes.checker.Checker(tree).messages
            if isinstance(m, pyflakes.messages.UnusedVariable)]


def _aliases(function: ast.FunctionDef) -> list[str]:
    """``a = b``, and ``t = 1``: a second name for a value or a number
    (not where a loop then changes the name: ``x = x0`` is its start)."""
    bound: dict[str, int] = {}
    for node in _walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] = bound.get(node.id, 0) + 1
    return [f"line {n.lineno}: {ast.unparse(n)} is an alias"
            for n in _walk(function) if isinstance(n, ast.Assign)
            and isinstance(n.targets[0], ast.Name)
            and bound[n.targets[0].id] == 1
            and isinstance(n.value, (ast.Name, ast.Constant))]


def _long_lines(source: str, tokens: list[tokenize.TokenInfo]
                ) -> list[str]:
    strings = set()  # rows inside string literals (the docstring)
    # A one-line string that alone makes its line too long (a pytree key
    # the user wrote, params["a long key"]) cannot be broken.
    longest: dict[int, int] = {}
    for token in tokens:
        if token.type == tokenize.STRING:
            strings.update(range(token.start[0], token.end[0] + 1))
            if token.start[0] == token.end[0]:
                longest[token.start[0]] = max(longest.get(token.start[0], 0),
                                              len(token.string))
    return [f"line {row}: {len(line)} characters"
            for row, line in enumerate(source.splitlines(), 1)
            if len(line) > WIDTH
            and not (row in strings and len(line.split()) == 1)
            and len(line) - longest.get(row, 0) + 2 > WIDTH]


def _long_literals(tokens: list[tokenize.TokenInfo]) -> list[str]:
    problems = []
    for token in tokens:
        text = token.string
        if token.type != tokenize.NUMBER or len(text) <= LONGEST_LITERAL:
            continue
        shortest = isinstance(ast.literal_eval(text), float) and repr(
            float(text)) == text  # a float needs its 17 digits
        if not shortest:
            problems.append(f"line {token.start[0]}: literal of "
                            f"{len(text)} characters: {text}")
    return problems


def _paths(body: list[ast.stmt], before: list[ast.AST]
           ) -> Iterator[list[ast.AST]]:
    """What runs on each way through ``body`` to a return: statements
    and the conditions tested on the way."""
    done = list(before)
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _paths(statement.body, done + [statement.test])
            done.append(statement.test)
            if statement.orelse:
                yield from _paths(statement.orelse, done)
                return
        else:
            done.append(statement)
            if isinstance(statement, ast.Return):
                yield done
                return


def _is_work(node: ast.AST) -> bool:
    """Whether computing ``node`` twice is work a reviewer would name: a
    call, a power (``x ** 0``, which only gives x's shape, aside) or two
    operations or more."""
    if isinstance(node, ast.Call):
        # range(n) in a loop and in the loop run backwards costs nothing,
        # nor reversed(range(n)) in two loops run backwards
        return ast.unparse(node.func) not in ("range", "reversed")
    if not isinstance(node, ast.BinOp):
        return False
    if isinstance(node.op, ast.Pow):
        return not (isinstance(node.right, ast.Constant)
                    and node.right.value == 0)
    return sum(isinstance(n, (ast.BinOp, ast.Call))
               for n in _walk(node)) > 1


def _is_prefix(node: ast.AST, parent: ast.AST | None) -> bool:
    """Whether ``node`` is the start of a longer product, ``a * b`` in
    ``a * b * c`` (Python computes it first, but it is no value of its
    own: the product has factors a, b and c)."""
    products = (ast.Mult, ast.Div)
    return isinstance(node, ast.BinOp) and isinstance(node.op, products) \
        and isinstance(parent, ast.BinOp) and isinstance(
            parent.op, products) and parent.left is node


BUFFERS = ("np.zeros_like", "np.zeros", "np.empty_like", "np.empty",
           "np.copy")


def _is_buffer(node: ast.AST, parent: ast.AST | None) -> bool:
    """Whether ``node`` makes a fresh array to fill (``d = np.zeros_like(x)``
    then ``d[idx] = ...``; ``g = np.copy(zeros)`` that a loop adds into):
    two such arrays are two values, not one value computed twice."""
    return isinstance(node, ast.Call) and isinstance(parent, ast.Assign) \
        and ast.unparse(node.func) in BUFFERS


def _repeated(function: ast.FunctionDef) -> list[str]:
    """Values computed twice on one way through the function. The start
    of a product counts when it is a value elsewhere: ``t = 2 * a * b``
    then ``2 * a * b * c``, not ``a * b * c`` beside ``a * b * d``."""
    problems = set()
    changing = _rebound(function)
    parents = {id(child): node for node in _walk(function)
               for child in ast.iter_child_nodes(node)}
    for path in _paths(function.body, []):
        values: dict[str, ast.AST] = {}
        prefixes: dict[str, ast.AST] = {}
        for statement in path:
            for node in _walk(statement):
                if not _is_work(node) or _is_buffer(
                        node, parents.get(id(node))) or _reads(node, changing):
                    continue
                key = _dump(node)
                if _is_prefix(node, parents.get(id(node))):
                    prefixes.setdefault(key, node)
                    again = key in values
                else:
                    again = key in values or key in prefixes
                    values.setdefault(key, node)
                if again:
                    problems.add(f"line {node.lineno}: "  # type: ignore
                                 f"{ast.unparse(node)} is computed twice")
    return sorted(problems)


def _returned(node: ast.AST | None) -> Iterator[ast.Name]:
    if isinstance(node, ast.Name):
        yield node
    elif isinstance(node, ast.Tuple):
        for element in node.elts:
            yield from _returned(element)


def _generic_returns(function: ast.FunctionDef) -> list[str]:
    assigned = {target.id for n in _walk(function)
                if isinstance(n, ast.Assign) for target in n.targets
                if isinstance(target, ast.Name)}
    return [f"line {n.lineno}: returns {name.id}, a name that does not say "
            "what it is"
            for n in _walk(function) if isinstance(n, ast.Return)
            for name in _returned(n.value)
            if name.id in assigned and GENERIC_NAME.match(name.id)]


def _rebound(function: ast.FunctionDef) -> set[str]:
    """Names a loop changes (bound more than once): the same text reading
    them computes another value in the next iteration."""
    bound: dict[str, int] = {}
    for node in _walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] = bound.get(node.id, 0) + 1
    return {name for name, count in bound.items() if count > 1}


def _reads(node: ast.AST, names: set[str]) -> bool:
    return not _names_in(node).isdisjoint(names)


def _powers_unnamed(function: ast.FunctionDef) -> list[str]:
    """``b ** m`` written out on a path where ``name = b ** k`` is
    defined, k <= m (``np.pi ** 10`` cannot use ``pi_pow12``)."""
    problems = []
    changing = _rebound(function)
    for path in _paths(function.body, []):
        named: dict[str, ast.Assign] = {}
        for statement in path:
            for node in _walk(statement):
                if not (isinstance(node, ast.BinOp) and isinstance(
                        node.op, ast.Pow) and isinstance(
                        node.right, ast.Constant)) or \
                        node.right.value in (0, 0.5) or _reads(node, changing):
                    continue
                definition = named.get(ast.dump(node.left))
                if definition is not None and node.right.value >= \
                        definition.value.right.value:  # type: ignore
                    problems.append(
                        f"line {node.lineno}: {ast.unparse(node)} does not "
                        f"use {definition.targets[0].id}")  # type: ignore
            if isinstance(statement, ast.Assign) and isinstance(
                    statement.value, ast.BinOp) and isinstance(
                    statement.value.op, ast.Pow) and isinstance(
                    statement.value.right, ast.Constant):
                named[ast.dump(statement.value.left)] = statement
    return problems


def _cubes(function: ast.FunctionDef) -> list[str]:
    return [f"line {n.lineno}: {ast.unparse(n)} is a cube"
            for n in _walk(function)
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult)
            and isinstance(n.left, ast.BinOp)
            and isinstance(n.left.op, ast.Pow)
            and isinstance(n.left.right, ast.Constant)
            and n.left.right.value == 2
            and ast.dump(n.left.left) == ast.dump(n.right)]


def _terms(node: ast.AST) -> Iterator[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add,
                                                            ast.Sub)):
        yield from _terms(node.left)
        yield from _terms(node.right)
    else:
        yield node


def _factors(node: ast.AST) -> Iterator[str]:
    """The factors of a term, each as text, numbers and signs left out."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        yield from _factors(node.left)
        yield from _factors(node.right)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        yield from _factors(node.left)
        yield "/ " + ast.unparse(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield from _factors(node.operand)
    elif not isinstance(node, ast.Constant):
        yield ast.unparse(node)


def _monomials(factors: list[str]) -> list[tuple[str, ...]]:
    """The terms of the product of ``factors``: those of a sum if that is
    the only factor (``(1 - s)`` -> ``()``, ``(s,)``), else the product."""
    if len(factors) == 1 and not factors[0].startswith("/ "):
        node = ast.parse(factors[0], mode="eval").body
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add,
                                                                ast.Sub)):
            return [tuple(sorted(_factors(term))) for term in _terms(node)]
    return [tuple(sorted(factors))]


def _like_terms_apart(function: ast.FunctionDef) -> list[str]:
    """Sums whose terms share a factor and, divided by it, hold like
    terms: ``t0 * (1 - s) - 2 * s * t0`` is ``t0 * (1 - 3 * s)``."""
    problems = set()
    sums = [n for n in _walk(function) if isinstance(n, ast.BinOp)
            and isinstance(n.op, (ast.Add, ast.Sub))]
    inner = {id(n.left) for n in sums} | {id(n.right) for n in sums}
    for node in sums:
        if id(node) in inner:  # part of a longer sum
            continue
        terms = [list(_factors(t)) for t in _terms(node)]
        for common in {f for factors in terms for f in factors}:
            seen: set[tuple[str, ...]] = set()
            for factors in terms:
                if common not in factors:
                    continue
                rest = list(factors)
                rest.remove(common)
                for monomial in _monomials(rest):
                    if monomial in seen:
                        problems.add(f"line {node.lineno}: like terms kept "
                                     f"apart by {common}: "
                                     f"{ast.unparse(node)}")
                    seen.add(monomial)
    return sorted(problems)
