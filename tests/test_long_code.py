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

import contextlib
import gc
import importlib
import pathlib
import sys

import numpy as np
import pytest
import sympy as sp
from sympy.core.cache import clear_cache

import autodiff_ast as ad
from autodiff_ast import (_api, _differentiate, _fence, _rules,
                          _simplify, _subexpressions, _sums)
from autodiff_ast._array_transforms import ArrayTransform
from autodiff_ast._lower_arrays import lower_arrays
from autodiff_ast._differentiate import checked_partial, partial
from autodiff_ast._lower_expressions import scaled
from autodiff_ast._printer import ExpressionPrinter
from autodiff_ast._sums import LONG, ordered_terms
from autodiff_ast._unparse import to_source
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
    (1 + x ** 2) ** x,
    2 ** x,
    sp.sqrt(1 + x ** 2) * y,
    sp.log(x) * sp.tanh(sp.sin(x) * x) * x ** 3,
    sp.Piecewise((x, x > 0), (x ** 2, True)) * sp.cos(x),
    absolute(x) * expit(x * y),
    where(x > y, x, -x ** 2) + maximum(x, y),
    logaddexp(x, 2 * x) - sp.atan2(y, x),
    _euler(6),
    _sum_of_sines(25),
], ids=["quotient", "(1+x**2)**x", "2**x", "sqrt", "nested", "Piecewise",
        "absolute, expit", "where, maximum", "logaddexp, atan2",
        "euler 6 steps", "25 sines"])
def test_partial_is_sympys_diff_term_for_term(expr):
    derivative = partial(expr, x)
    assert derivative == sp.diff(expr, x)
    assert derivative.args == sp.diff(expr, x).args


def test_a_power_whose_base_can_be_zero_takes_log_1_there():
    # SymPy's x**x * (log(x) + 1) is nan at 0; JAX's rule (and ours)
    # takes log(1) where the base is 0. A positive base keeps SymPy's log.
    assert partial(x ** x, x) == x ** x * (
        sp.log(where(sp.Eq(x, 0), 1, x)) + 1)
    assert partial(2 ** x, x) == sp.diff(2 ** x, x)


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


# -- the passes after differentiation: each term costs the same at any length


def _random_sums(count: int, seed: int) -> list[sp.Add]:
    """Sums of 16 to 40 terms of products of powers (negative, fractional
    and symbolic ones too), numbers (pi, sqrt(2)) and function calls."""
    import random
    rng = random.Random(seed)
    z = sp.Symbol("z", real=True)
    factors = [x, y, z, sp.sin(x), sp.cos(2 * y), sp.exp(x), sp.sqrt(x),
               sp.pi, sp.sqrt(2), sp.tanh(x * y), sp.log(z)]
    exponents = [1, 1, 2, 3, -1, -2, sp.Rational(1, 2), sp.Rational(3, 2), y]
    sums = []
    while len(sums) < count:
        terms = []
        for _ in range(rng.randint(16, 40)):
            term = (sp.Float(rng.uniform(-3, 3)) if rng.random() < 0.2 else
                    sp.Rational(rng.randint(-9, 9) or 1, rng.randint(1, 4)))
            for _ in range(rng.randint(0, 3)):
                term *= rng.choice(factors) ** rng.choice(exponents)
            terms.append(term)
        total = sp.Add(*terms)
        if isinstance(total, sp.Add) and len(total.args) >= LONG:
            sums.append(total)
    return sums


def test_ordered_terms_is_sympys_order():
    sums = _random_sums(150, seed=11) + [_sum_of_sines(40),
                                         partial(_sum_of_sines(40), x)]
    for total in sums:
        assert ordered_terms(total) == total.as_ordered_terms()


def test_the_printer_orders_a_long_sum_in_time_linear_in_its_terms(
        monkeypatch):
    # SymPy's as_ordered_terms gives each term an exponent vector over all
    # generators: n ** 2 entries for n cosines. The printer's key holds a
    # term's own generators only.
    entries = []
    key = _sums._monomial_key
    monkeypatch.setattr(_sums, "_monomial_key",
                        lambda e: entries.append(len(e)) or key(e))
    monkeypatch.setattr(sp.Expr, "as_ordered_terms", None)  # never called
    printed = []
    for terms in (500, 1000):
        entries.clear()
        derivative = partial(_sum_of_sines(terms), x)
        printer = ExpressionPrinter("numpy", {x: "x"})
        printed.append(to_source(printer(derivative)))
        assert sum(entries) == terms  # one generator, cos(k * x), a term
    assert printed[0].startswith("np.cos(x) + np.cos(2 * x) + ")
    assert printed[1].count("np.cos(") == 1000


def _cse_inputs() -> list[list[sp.Expr]]:
    u = sp.sin(x) * y
    return [
        [sp.exp(u) * u + sp.cos(u) ** 2, sp.exp(u) / (1 + u)],
        [sp.sqrt(1 + x ** 2) * y, 1 / sp.sqrt(1 + x ** 2), (1 + x ** 2) ** 3],
        [sp.Piecewise((x * y, x > y), (x ** 2 * y, True)) + x * y,
         sp.tanh(x * y) ** 2 - 2 * x * y],
        [-2 * x * y * k + 2 * x * y, sp.log(x + y) * (x + y)],
        [_sum_of_sines(30), partial(_sum_of_sines(30), x)],
        [x + y, sp.Integer(3), x],
    ]


@pytest.mark.parametrize("order", ["canonical", "none"])
@pytest.mark.parametrize("index", range(6))
def test_cse_is_sympys(index, order):
    exprs = _cse_inputs()[index]
    ours = _simplify.cse(exprs, sp.numbered_symbols("c"), order=order)
    assert ours == sp.cse(exprs, sp.numbered_symbols("c"), order=order)
    assert bool(ours[0]) == (index != 5)  # each of the others repeats


@pytest.mark.parametrize("terms", [300, 600])
def test_cse_does_not_evaluate_again_what_it_keeps(monkeypatch, terms):
    # SymPy's tree_cse builds every function call again (it compares new
    # arguments, a list, with the old, a tuple), evaluating cos(k * x) once
    # more: 0.2 ms each past its cache. Ours builds none of them.
    derivative = partial(_sum_of_sines(terms), x)
    evaluated = []
    monkeypatch.setattr(sp.cos, "eval", classmethod(
        lambda cls, arg: evaluated.append(arg)))
    clear_cache()  # (SymPy's cache would hide its evaluations)
    assert _simplify.cse([derivative]) == ([], [derivative])
    assert evaluated == []
    clear_cache()
    sp.cse([derivative])
    assert len(evaluated) == terms


def test_a_long_sum_that_expands_to_itself_is_not_counted(monkeypatch):
    # nor expanded: it is a sum of products of numbers and inert calls, and
    # its terms and nodes bound its size between the thresholds
    monkeypatch.setattr(sp, "expand", None)  # never called
    counted = []
    count_ops = sp.count_ops
    monkeypatch.setattr(sp, "count_ops", lambda e, *a, **kw:
                        counted.append(e) or count_ops(e, *a, **kw))
    value = partial(_sum_of_sines(400), x)
    assert _simplify.simplify([value]) == [value]
    assert counted == []
    small = partial(_sum_of_sines(40), x)
    _simplify.simplify([small])
    assert counted[0] == small  # a short sum is counted: it may factor


def test_a_horner_form_with_too_many_calls_is_refused_before_sorting(
        monkeypatch):
    value = partial(_sum_of_sines(200), x)
    monkeypatch.setattr(sp, "default_sort_key", None)  # never called
    assert _simplify._horner_in_atoms(value) is value


SCALED = [sp.Rational(1, 3), 1, 2, sp.Rational(7, 2), 10 ** 9,
          sp.Rational(3, 10)]


@pytest.mark.parametrize("function", _rules._INERT_ON_SCALED_SYMBOLS)
def test_inert_calls_are_what_sympys_eval_builds(function):
    for c in SCALED:
        arg = c * x
        assert _rules.inert(function, (arg,))
        built = function(arg, evaluate=False)
        assert built == function(arg) and sp.srepr(built) == sp.srepr(
            function(arg))
        derivative = _rules.inert_derivative(built)
        if derivative is not None:
            assert derivative == built.fdiff(1)
            assert sp.srepr(derivative) == sp.srepr(built.fdiff(1))


def test_only_scaled_real_symbols_are_inert():
    positive = sp.Symbol("p", positive=True)
    for arg in (-2 * x, 2 * positive, positive, x * y, 2 * x + 1,
                sp.pi * x / 2, sp.Float(2.5) * x, -x, sp.Integer(2)):
        assert not _rules.inert(sp.sin, (arg,))
    assert not _rules.inert(sp.exp, (2 * x,))  # not in the list
    assert _rules.inert_derivative(sp.tan(2 * x)) is None
    # Where SymPy's eval does change the call, lowering still runs it.
    lower = _rules.primitive_for(np.sin).lower
    assert lower(-2 * x) == -sp.sin(2 * x)
    assert lower(sp.pi * 0) == 0


def test_a_written_out_sum_builds_no_sine_or_cosine_through_eval(
        tmp_path, monkeypatch):
    evaluated = []
    for function in (sp.sin, sp.cos):
        eval_ = function.eval
        monkeypatch.setattr(function, "eval", classmethod(
            lambda cls, arg, e=eval_: evaluated.append(arg) or e(arg)))
    body = "    total = np.sin(1 * x) / 1\n" + "".join(
        f"    total = total + np.sin({j} * x) / {j}\n"
        for j in range(2, 41)) + "    return total\n"
    clear_cache()  # (SymPy's cache would hide its evaluations)
    df = ad.grad(_load(tmp_path, "no_eval", body))
    assert evaluated == []
    assert df(0.7) == pytest.approx(np.cos(np.arange(1, 41) * 0.7).sum(),
                                    rel=1e-13)


def test_a_long_sum_extended_term_by_term_keeps_one_set_of_parts():
    # Copying the set of the sum's parts at every statement was quadratic
    # in a sum written one statement per term.
    sums = _sums.Sums()
    total = _sum_of_sines(20)
    parts = None
    for j in range(21, 41):
        total = sums.plus(total, sp.sin(j * x) / j)
        assert parts is None or sums.parts[total] is parts
        parts = sums.parts[total]
    assert total == _sum_of_sines(40) and len(parts) == 40
    assert sums.plus(total, 2 * sp.sin(3 * x)) is None  # a like term


@pytest.mark.parametrize("function", _rules._INERT_ON_SCALED_SYMBOLS)
def test_what_simplify_does_not_expand_expands_to_itself(function):
    for c in SCALED:
        value = 3 * function(c * x) * y - function(x) / 7 + sp.Rational(1, 3)
        assert _simplify._expands_to_itself(value)
        assert sp.srepr(sp.expand(value)) == sp.srepr(value)
    for value in (function(x) * (x + 1), function(x + 1), sp.log(2 * x),
                  sp.exp(2 * x), function(x) ** 2, function(x * y)):
        assert not _simplify._expands_to_itself(value)


# -- a number times a product: SymPy's Mul without its flatten ---------------

_NUMBERS = [sp.Integer(-3), sp.Integer(-1), sp.Integer(2), sp.Integer(7),
            sp.Rational(1, 3), sp.Rational(-5, 2)]
_SCALED_FACTORS = [x, sp.sin(x), sp.cos(3 * x), sp.tanh(x), sp.log(x),
                   absolute(x), x * y, 3 * x * y, sp.sin(x) / 3,
                   -sp.cos(x), sp.sin(x) * sp.cos(x) * 2,
                   sp.Piecewise((x, x > 0), (0, True)),
                   where(x > 0, x, 0)]
_UNSCALED = [x + 1, 2 * (x + 1), sp.exp(x), 2 * sp.exp(x), x ** 2,
             sp.sqrt(x), sp.sqrt(2) * x, sp.Float(0.5) * x, sp.I * x,
             sp.pi, sp.oo, sp.Symbol("n", commutative=False)]


@pytest.mark.parametrize("number", _NUMBERS, ids=str)
def test_scaled_is_sympys_product(number):
    for factor in _SCALED_FACTORS:
        for a, b in ((number, factor), (factor, number)):
            assert sp.srepr(scaled(a, b)) == sp.srepr(a * b)
        inverse = sp.Rational(number.q, number.p)
        assert sp.srepr(scaled(factor, inverse)) == sp.srepr(
            factor / number)
    # the chain rule's product: back to the call itself
    assert scaled(1 / number, number * sp.cos(2 * x)) == sp.cos(2 * x)


def test_scaled_leaves_other_products_to_sympy():
    for factor in _UNSCALED:
        assert scaled(sp.Integer(2), factor) is None, factor
    for number in (sp.Integer(0), sp.Integer(1), sp.Float(2.0)):
        assert scaled(number, x) is None
    assert scaled(sp.Integer(2), sp.Integer(3)) is None
    assert scaled(x, y) is None
    # a coefficient that cancels to zero is Mul's to judge
    assert scaled(sp.Integer(2), sp.Mul(0, x, evaluate=False)) is None


def _flattened_products(monkeypatch) -> list:
    built = []
    flatten = sp.Mul.flatten.__func__
    monkeypatch.setattr(sp.Mul, "flatten", classmethod(
        lambda cls, seq: built.append(seq) or flatten(cls, seq)))
    return built


def test_a_written_out_sum_builds_no_product_per_term(tmp_path, monkeypatch):
    # Mul's flatten deduces every fact of each new number again (0.05 ms):
    # the written-out sum's k * x, sin(k * x) / k and the chain rule's
    # 1/k * (k * cos(k * x)) are built without it, so lowering and
    # differentiating build fewer products than the sum has terms.
    built = _flattened_products(monkeypatch)
    counts = []
    for terms in (40, 80):
        body = "    total = np.sin(1 * x) / 1\n" + "".join(
            f"    total = total + np.sin({j} * x) / {j}\n"
            for j in range(2, terms + 1)) + "    return total\n"
        lower_arrays(_load(tmp_path, f"products_{terms}", body), (0.7, 0.7),
                     (0,))
        built.clear()
        clear_cache()
        lowered = lower_arrays(_load(tmp_path, f"again_{terms}", body),
                               (0.7, 0.7), (0,))
        derivative = partial(lowered.output, x)
        for step in lowered.program.steps:  # (the first terms, named)
            derivative += partial(lowered.output, step.target) * partial(
                step.operands[0], x)
        counts.append(len(built))
        assert derivative == sp.Add(*[sp.cos(j * x)
                                      for j in range(1, terms + 1)])
    # (at 80 terms, a few more: array lowering names the first ones)
    assert max(counts) < 40


def test_a_long_return_is_printed_once(tmp_path, monkeypatch):
    printed = []
    call = ExpressionPrinter.__call__
    monkeypatch.setattr(ExpressionPrinter, "__call__",
                        lambda self, e: printed.append(e) or call(self, e))
    body = "    total = np.sin(1 * x) / 1\n" + "".join(
        f"    total = total + np.sin({j} * x) / {j}\n"
        for j in range(2, 61)) + "    return total\n"
    df = ad.grad(_load(tmp_path, "printed_once", body))
    assert [len(e.args) for e in printed if isinstance(e, sp.Add)] == [60]
    assert df(0.7) == pytest.approx(np.cos(np.arange(1, 61) * 0.7).sum(),
                                    rel=1e-13)


# -- the garbage collector: paused while a stage runs --------------------------

def test_the_stages_run_without_garbage_collections(tmp_path):
    # Each collection scans the stage's new objects, and each full one all
    # that SymPy holds: 7 full collections were 0.75 s of the 3000-term
    # gradient. 200 terms allocate enough for dozens of collections.
    body = "    total = np.sin(1 * x) / 1\n" + "".join(
        f"    total = total + np.sin({j} * x) / {j}\n"
        for j in range(2, 201)) + "    return total\n"
    f = _load(tmp_path, "collections", body)
    # (the derivative's chain of transforms, then each entry's code)
    stages = {_api._generate, ArrayTransform.entry_for}
    codes = {s.__code__ for s in stages}
    # (the pause's exit, where the collector resumes)
    resuming = contextlib._GeneratorContextManager.__exit__.__code__
    collections = []

    def count(phase, info):
        # (one may run as a stage ends, once the collector resumes: in the
        # pause's exit, or on Python 3.13 in the stage's own frame, where
        # the interpreter next checks for a collection)
        frame = sys._getframe().f_back
        if frame is not None and (frame.f_code is resuming
                                  or frame.f_code in codes):
            return
        while phase == "start" and frame is not None:
            if frame.f_code in codes:
                collections.append((frame.f_code.co_name, info))
                return
            frame = frame.f_back

    assert gc.isenabled()
    gc.callbacks.append(count)
    try:
        gradient = ad.grad(f)
        value = gradient(0.7)
    finally:
        gc.callbacks.remove(count)
    assert collections == []
    assert gc.isenabled() and ad.source(gradient).count("np.cos(") == 200
    assert value == pytest.approx(sum(np.cos(j * 0.7)
                                      for j in range(1, 201)), rel=1e-13)


def test_a_stage_leaves_the_collector_as_it_found_it(tmp_path):
    refused = _load(tmp_path, "refused", "    return 1 / (x - x)\n")
    with pytest.raises(ad.AutodiffError, match="division by zero"):
        ad.grad(refused)(0.7)
    assert gc.isenabled()  # re-enabled after an error too
    gc.disable()
    try:
        assert ad.grad(_load(tmp_path, "paused", "    return 2 * x\n"))(
            0.7) == 2.0
        assert not gc.isenabled()  # the program's choice is kept
    finally:
        gc.enable()


def test_the_chain_rule_asks_no_number_what_it_is(monkeypatch):
    # The first question to a number SymPy has just made deduces all of
    # its facts (0.05 ms): d(k * x) = k, then "is k zero?", per term.
    assumptions = importlib.import_module("sympy.core.assumptions")
    asked = []
    ask = assumptions._ask
    monkeypatch.setattr(assumptions, "_ask", lambda fact, obj: (
        isinstance(obj, sp.Rational) and asked.append((fact, obj))
        or ask(fact, obj)))
    numbers = [sp.Integer(10 ** 9 + j) for j in range(60)]  # new ones
    value = sp.Add(*[sp.sin(sp.Mul._from_args((n, x)), evaluate=False)
                     * sp.Rational(1, n.p) for n in numbers])
    asked.clear()
    derivative = partial(value, x)
    # (_rules.inert still asks each k whether it is positive)
    assert [obj for fact, obj in asked if fact == "zero"] == []
    assert derivative == sp.Add(*[sp.cos(n * x) for n in numbers])


def test_the_array_writer_sorts_no_long_sum(monkeypatch):
    # A sum's sort key holds a dense vector of exponents over all its
    # generators: sorting the 6000-term gradient's sum took 12 s, and only
    # sums of up to four terms are looked at.
    ordered = []
    as_ordered_terms = sp.Expr.as_ordered_terms
    monkeypatch.setattr(sp.Expr, "as_ordered_terms", lambda self, *a, **kw:
                        ordered.append(self) or as_ordered_terms(self, *a,
                                                                 **kw))
    value = partial(_sum_of_sines(300), x)
    tanh = sp.tanh(x)
    rewritten = _subexpressions._expanded_where_shared(
        [value * (1 - tanh ** 2), y * (tanh - 1) * (tanh + 1)])
    assert rewritten == [value * (1 - tanh ** 2), -y * (1 - tanh ** 2)]
    assert ordered and max(len(e.args) for e in ordered) <= 4


def test_a_function_is_fenced_once(tmp_path, monkeypatch):
    # Array code reads its function's source for each transform and input
    # signature; the fence walks the whole body five times each time.
    fenced = []
    check = _fence.check
    monkeypatch.setattr(_fence, "check",
                        lambda source: fenced.append(source.name)
                        or check(source))
    f = _load(tmp_path, "fenced_once",
              "    return np.sum(x ** 2) * np.sin(np.sum(x))\n")
    ad.grad(f)(np.ones(3))
    ad.grad(f)(np.ones(4))
    ad.hessian(f)(np.ones(3))
    assert fenced == ["f"]
    refused = _load(tmp_path, "refused_twice",
                    "    global z\n    return x\n")
    for _ in range(2):  # a refusal is not remembered as a pass
        with pytest.raises(ad.AutodiffError, match="global"):
            ad.grad(refused)
    assert fenced == ["f", "f", "f"]
