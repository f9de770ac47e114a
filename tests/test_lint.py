"""Generated code a reviewer would accept, at every order.

``lint`` holds each generated function to what a careful person writes:
no assignment that is never read, no alias of another name, no line over
79 characters (a docstring line only when it is one unbreakable word, a
long path), no numeric literal over 20 characters (a float's shortest
repr excepted), no subexpression computed twice on one path, returned
values named after what they are (never ``t1``), powers of a named value
written from that name, cubes that read as cubes, and no like terms kept
apart by a shared factor (``t0 * (1 - s) - 2 * s * t0``).

It runs over a corpus of the project's own kinds of functions at orders
1-4 (exp(sin(x)) * tanh(x ** 2) to order 8, Lennard-Jones, an unrolled
Euler loop, the README's examples, the array examples) and, at the end of
the session, over every function the test suite generated (collected by
conftest.py).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import math
import pathlib
import re
import tokenize
from typing import Any, Callable, Iterator

import numpy as np
import pyflakes.checker
import pyflakes.messages
import pytest

import autodiff_ast as ad

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


# -- the lint itself ---------------------------------------------------------

# What the issue found, in one function.
BEFORE = "\n".join([
    "def d4f_dx4(x):",
    '    """Fourth derivative of f with respect to x."""',
    "    x_sq = x ** 2",
    "    x_sq_1 = x_sq",
    "    tanh_x_sq_sq = np.tanh(x_sq) ** 2",
    "    t0 = np.exp(-x_sq)",
    "    t1 = 44880209748209880044990001 / 10000000000000000000000000000",
    "    t2 = np.tanh(x_sq_1)",
    "    r_sq = r ** 2",
    "    return (t0 * (1 - x) - 2 * x * t0 + t2 ** 2 * t2"
    " + t1 / (((r ** 2) ** 2) ** 2 * (r ** 2) ** 2 * r)), t1",
    ""])


def test_the_lint_finds_what_the_issue_lists():
    assert lint(BEFORE) == [
        "line 10: 107 characters",
        "line 7: literal of 26 characters: 44880209748209880044990001",
        "line 7: literal of 29 characters: 10000000000000000000000000000",
        "line 5: tanh_x_sq_sq is assigned, never read",
        "line 9: r_sq is assigned, never read",
        "line 4: x_sq_1 = x_sq is an alias",
        "line 10: (r ** 2) ** 2 is computed twice",
        "line 10: r ** 2 is computed twice",
        "line 10: returns t1, a name that does not say what it is",
        "line 10: r ** 2 does not use r_sq",
        "line 10: t2 ** 2 * t2 is a cube",
        "line 10: ((r ** 2) ** 2) ** 2 * (r ** 2) ** 2 is a cube",
        "line 10: like terms kept apart by t0: t0 * (1 - x) - 2 * x * t0"
        " + t2 ** 2 * t2 + t1 / (((r ** 2) ** 2) ** 2 * (r ** 2) ** 2 * r)",
    ]


def test_the_lint_accepts_what_a_person_writes():
    source = '''\
def d2f_dx2(x, mu):
    """Second derivative of f with respect to x.

    f is defined at
    /a/path/that/is/far/too/long/to/fit/on/one/line/of/a/docstring/f.py:3.
    """
    x_sq = x ** 2
    r_sq = x_sq + mu ** 2
    t0 = np.exp(-x_sq)
    if x > 0:
        return t0 * (1 - 3 * x_sq) + 2 * r_sq ** 4, 6 * x ** 0
    grad_mu = np.tanh(r_sq)
    return (grad_mu * (r_sq * r_sq * r_sq + 0.30000000000000004 * x)
            + 1.2345678901234568e-05 * t0 + x_sq * t0), grad_mu
'''
    assert lint(source) == []


def test_two_arrays_filled_are_not_one_value_computed_twice():
    source = '''\
def jvp_f(x, x_dot):
    """Value of f and its derivative along the tangents."""
    value = np.zeros_like(x)
    value[1:] = x[:-1]
    tangent = np.zeros_like(x)
    tangent[1:] = x_dot[:-1]
    return value, tangent * np.zeros_like(x) * np.zeros_like(x)
'''
    assert lint(source) == ["line 7: np.zeros_like(x) is computed twice"]


# -- the corpus --------------------------------------------------------------

EPS, SIGMA = 1.0, 1.0


def lennard_jones(r):
    return 4 * EPS * ((SIGMA / r) ** 12 - (SIGMA / r) ** 6)


def lennard_jones_params(eps, sigma, r):
    s6 = (sigma / r) ** 6
    return 4 * eps * (s6 ** 2 - s6)


def euler(k):
    """y' = -k y from y = 1 to t = 0.1, in ten explicit steps."""
    y = 1.0
    for _ in range(10):
        y = y + 0.01 * (-k * y)
    return y


def oscillator(k, y0):
    """y'' = -k y - 0.1 y', semi-implicit Euler, six steps."""
    y, v = y0, 0.0
    for _ in range(6):
        v = v + 0.05 * (-k * y - 0.1 * v)
        y = y + 0.05 * v
    return y


def exp_sin_tanh(x):
    return np.exp(np.sin(x)) * np.tanh(x ** 2)


def gaussian(mu, sigma, x):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(
        2 * np.pi))


def smooth_abs(x):
    return np.sqrt(x ** 2 + 1e-30)


def rational(x):
    return (x ** 3 + 1) / (x ** 2 + 1) + math.atan(x) * x


def loss(w, b):  # README
    z = w * 1.5 + b
    return np.log(1 + np.exp(-z)) + 0.1 * w ** 2


def with_aux(x):  # README
    y = math.sin(x)
    return y * x, y


def relu(x):  # README
    if x > 0:
        return x ** 2
    return 0.0


def model(x, y):  # README
    return np.tanh(x * y) + np.log1p(x ** 2) * y


ORDERS = {
    "polynomial": (lambda x: x**3 + 2*x**2 - 3*x + 1, 4),
    "tanh": (np.tanh, 4),
    "math.sin": (math.sin, 4),
    "softplus": (lambda x: np.log(1 + np.exp(x)), 4),
    "logistic": (lambda x: 1 / (1 + np.exp(-x)), 4),
    "exprel": (lambda x: (np.exp(x) - 1) / x, 3),
    "x_log_x": (lambda x: x * np.log(x), 4),
    "smooth_abs": (smooth_abs, 4),
    "rational": (rational, 4),
    "lennard_jones": (lennard_jones, 4),
    "euler": (euler, 2),
    "relu": (relu, 3),
}


def _chain(function: Any, orders: int) -> list[str]:
    sources, derivative = [], function
    for _ in range(orders):
        derivative = ad.grad(derivative)
        try:
            sources.append(ad.source(derivative))
        except ad.AutodiffError:  # code with loops is generated per call
            sources.append(ad.source(derivative, 0.7))
    return sources


def check(sources: list[str]) -> None:
    findings = [f"{problem}\n{source}" for source in sources
                for problem in lint(source)]
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("name", ORDERS)
def test_derivatives_of_every_order_read_well(name):
    function, orders = ORDERS[name]
    check(_chain(function, orders))


def test_exp_sin_tanh_reads_well_to_order_8():
    # Lines of 324, 1,138 and 1,645 characters at orders 5-7, once.
    check(_chain(exp_sin_tanh, 8))


def test_transforms_of_several_arguments_read_well(generated):
    ad.jvp(model, (0.3, -1.2), (1.0, 0.5))
    ad.vjp(lennard_jones_params, 1.0, 1.1, 1.3)
    check([source for source in generated["scalar"]
           if source.startswith(("def jvp_model(",
                                 "def value_and_grad_lennard_jones_params("))]
          + [
        ad.source(ad.grad(lennard_jones_params, argnums=(0, 1, 2))),
        ad.source(ad.value_and_grad(gaussian, argnums=(0, 1))),
        # a loop that reads y and v twice per step stays a loop: its code
        # is generated per call signature
        ad.source(ad.grad(oscillator, argnums=(0, 1)), 0.5, 1.0),
        ad.source(ad.grad(ad.grad(oscillator)), 0.5, 1.0),
        ad.source(ad.grad(loss, argnums=(0, 1))),
        ad.source(ad.value_and_grad(loss, argnums=(0, 1))),
        ad.source(ad.grad(with_aux, has_aux=True)),
        ad.source(ad.value_and_grad(with_aux, has_aux=True)),
        ad.source(ad.hessian(model, argnums=(0, 1))),
        ad.source(ad.jacobian(lambda x, y: (x * y, np.sin(x) * y ** 2),
                              argnums=(0, 1))),
    ])


def _example(name: str) -> Any:
    path = pathlib.Path(__file__).parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_scalar_examples_read_well():
    derivatives = _example("derivatives")
    check(_chain(derivatives.softplus, 4)
          + [ad.source(ad.grad(derivatives.energy, argnums=(0, 1)))])


def test_the_array_examples_read_well():
    tutorial = _example("logistic_regression")
    W, b = tutorial.W, tutorial.b

    def mlp(params, x):
        hidden = np.tanh(x @ params["W1"] + params["b1"])
        return np.sum((hidden @ params["W2"]) ** 2)

    def cross_entropy(w, X, y):
        p = 1 / (1 + np.exp(-(X @ w)))
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 4)), "b1": np.zeros(4),
              "W2": rng.normal(size=4)}
    X = rng.normal(size=(5, 3))
    check([
        ad.source(ad.value_and_grad(tutorial.loss, (0, 1)), W, b),
        ad.source(ad.grad(tutorial.loss2), {"W": W, "b": b}),
        ad.source(ad.grad(mlp), params, X),
        ad.source(ad.grad(cross_entropy), np.zeros(3), X,
                  rng.uniform(size=5)),
    ])


# -- every function the session generated ------------------------------------

@pytest.mark.last
def test_every_scalar_function_the_suite_generated_reads_well(generated):
    """Runs after every other test (conftest.py) over all they made."""
    findings = [f"{problem}\n(made by {test})\n{source}"
                for source, test in generated["scalar"].items()
                for problem in lint(source)]
    assert not findings, (f"{len(findings)} findings:\n"
                          + "\n".join(findings[:40]))


@pytest.mark.last
def test_every_array_function_the_suite_generated_reads_well(generated):
    findings = [f"{problem}\n(made by {test})\n{source}"
                for source, test in generated["array"].items()
                for problem in lint(source)]
    assert not findings, (f"{len(findings)} findings:\n"
                          + "\n".join(findings[:40]))
