"""Long straight-line code: the passes' work grows with the program.

Issue 11 asks for the gradient of a sum of 3000 ``np.sin(k * x) / k``
terms, written out one statement per term, in seconds. Timing belongs in
benchmarks/bench_growth.py; here the work is counted instead, so that a
pass which becomes quadratic again (or exponential on a shared value)
fails without a clock: the chain rule applies one rule per distinct
subexpression and never falls back to SymPy's ``diff`` on sums, products
and functions, and simplification does not cost (CSE) a long sum that no
rewrite changes. ``partial`` must give exactly SymPy's derivative, so the
generated text stays what it was.
"""

import pathlib

import numpy as np
import pytest
import sympy as sp

import autodiff_ast as ad
from autodiff_ast import _differentiate, _simplify
from autodiff_ast._differentiate import checked_partial, partial
from autodiff_ast._functions import (absolute, expit, logaddexp, maximum,
                                     where)

x, y, k = sp.symbols("x y k", real=True)


def _sum_of_sines(terms: int) -> sp.Expr:
    return sp.Add(*[sp.sin(j * x) / j for j in range(1, terms + 1)])


def _euler(steps: int) -> sp.Expr:
    """x after ``steps`` written-out Euler steps of dx/dt = -k x: each step
    reads x twice, so the tree doubles while the DAG grows by a few nodes."""
    value = x
    for _ in range(steps):
        value = value + sp.Rational(1, 10) * (-k * value)
    return value


def _distinct_nodes(expr: sp.Basic) -> int:
    seen, stack = set(), [expr]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(node.args)
    return len(seen)


@pytest.mark.parametrize("expr", [
    sp.sin(x) * sp.exp(x ** 2) / (1 + x),
    x ** x,
    2 ** x,
    sp.sqrt(1 + x ** 2) * y,
    sp.log(x) * sp.tanh(sp.sin(x) * x) * x ** 3,
    sp.Piecewise((x, x > 0), (x ** 2, True)) * sp.cos(x),
    absolute(x) * expit(x * y),
    where(x > y, x, -x ** 2) + maximum(x, y),
    logaddexp(x, 2 * x) - sp.atan2(y, x),
    _euler(6),
    _sum_of_sines(25),
], ids=["quotient", "x**x", "2**x", "sqrt", "nested", "Piecewise",
        "absolute, expit", "where, maximum", "logaddexp, atan2",
        "euler 6 steps", "25 sines"])
def test_partial_is_sympys_diff_term_for_term(expr):
    derivative = partial(expr, x)
    assert derivative == sp.diff(expr, x)
    assert derivative.args == sp.diff(expr, x).args


def test_each_distinct_subexpression_is_differentiated_once(monkeypatch):
    # 16 written-out Euler steps: 2**16 paths through the tree, a few
    # dozen distinct nodes.
    value = _euler(16)
    rules = []
    rule = _differentiate._rule
    monkeypatch.setattr(_differentiate, "_rule",
                        lambda *args: rules.append(args[0]) or rule(*args))
    derivative = partial(value, x)
    assert len(rules) == _distinct_nodes(value) < 100
    at = sp.lambdify((x, k), derivative, cse=True)(1.3, 0.7)
    assert at == pytest.approx((1 - 0.07) ** 16, rel=1e-13)


def test_a_3000_term_sum_is_differentiated_without_sympys_diff(monkeypatch):
    value = _sum_of_sines(3000)
    calls = []
    diff = sp.Expr.diff
    monkeypatch.setattr(sp.Expr, "diff",
                        lambda self, *a, **kw: calls.append(self)
                        or diff(self, *a, **kw))
    derivative = checked_partial(value, x, "f (test.py:1)")
    assert calls == []
    assert derivative == sp.Add(*[sp.cos(j * x) for j in range(1, 3001)])


def test_simplify_does_not_cost_a_long_sum_no_rewrite_changes(monkeypatch):
    value = partial(_sum_of_sines(400), x)
    costed = []
    cost = _simplify.cost
    monkeypatch.setattr(_simplify, "cost",
                        lambda exprs: costed.append(exprs) or cost(exprs))
    assert _simplify.simplify([value]) == [value]
    assert costed == []


def test_simplify_still_costs_and_takes_a_smaller_rewrite(monkeypatch):
    costed = []
    cost = _simplify.cost
    monkeypatch.setattr(_simplify, "cost",
                        lambda exprs: costed.append(exprs) or cost(exprs))
    assert _simplify.simplify([(x + 1) ** 2 - 1]) == [x * (x + 2)]
    assert costed[0] == [(x + 1) ** 2 - 1]  # the raw form, costed once
    assert [(x + 1) ** 2 - 1] not in costed[1:]


def _load(tmp_path: pathlib.Path, name: str, body: str):
    path = tmp_path / f"{name}.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x, k=0.7):\n{body}")
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["f"]


def test_a_written_out_sum_has_the_closed_form_gradient(tmp_path):
    terms = 200
    body = "    total = np.sin(1 * x) / 1\n" + "".join(
        f"    total = total + np.sin({j} * x) / {j}\n"
        for j in range(2, terms + 1)) + "    return total\n"
    df = ad.grad(_load(tmp_path, "written_sum", body))
    text = ad.source(df)
    assert text.count("np.cos(") == terms and "np.sin(" not in text
    assert "=" not in text.split('"""')[2]  # one return, no temporaries
    grid = np.linspace(-3.0, 3.0, 7)
    want = np.cos(np.outer(grid, np.arange(1, terms + 1))).sum(axis=1)
    assert np.allclose([df(g) for g in grid], want, rtol=1e-13, atol=1e-12)


def test_written_out_euler_steps_take_a_line_each_at_most(tmp_path):
    # Each step reads x twice: written out, the tree doubles per step, the
    # generated code does not (a chain of temporaries, or a closed form).
    def gradient(steps: int):
        body = "    x = x + 0.1 * (-k * x)\n" * steps + "    return x\n"
        return ad.grad(_load(tmp_path, f"euler_{steps}", body))

    for steps in (6, 12):
        df = gradient(steps)
        assert df(1.3) == pytest.approx(0.93 ** steps, rel=1e-14)
        lines = [line for line in ad.source(df).split('"""')[2].splitlines()
                 if line.strip()]
        assert len(lines) <= steps + 1
