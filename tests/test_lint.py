"""Generated code a reviewer would accept, at every order.

The lint (generated_lint.py) is checked here against what it must find and
what it must accept, then run over a corpus of the project's own kinds of
functions at orders 1-4 (exp(sin(x)) * tanh(x ** 2) to order 8,
Lennard-Jones, an unrolled Euler loop, the README's examples, the array
examples). conftest.py runs it over every function the test suite
generates, at the end of the test that generated it.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
from typing import Any

import numpy as np
import pytest

import autodiff_ast as ad
from generated_lint import lint


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


def exprel_summed(x):
    return np.sum((np.exp(x) - 1) / x)


def exprel_by_a_list(x):
    parts = [np.exp(x) - 1]  # (a list: array code)
    return parts[0] / x


def test_a_deep_series_in_array_code_is_named_in_parts():
    # Array code wrote the series near 0 as a staircase, 80 and 82
    # characters wide at its first lines, where scalar code names parts.
    on_arrays = ad.source(ad.grad(exprel_summed), np.ones(3))
    assert on_arrays.split('"""')[2].splitlines()[4:7] == [
        "    t_1 = x * (x * (x / 6706022400 + 1 / 518918400) + 1 / 43545600)",
        "    t_2 = x * (x * (x * (t_1 + 1 / 3991680) + 1 / 403200)"
        " + 1 / 45360)",
        "    return np.where(t, x * (x * (x * (x * (x * (x * (t_2 + 1 / 5760)"
        " + 1 / 840)"]
    check([on_arrays] + _chain(exprel_by_a_list, 3))
    gradient = ad.grad(exprel_summed)
    for x in (0.05, -0.08, 0.5):
        assert gradient(np.array([x]))[0] == pytest.approx(
            (x * math.exp(x) - math.expm1(x)) / x ** 2, rel=1e-12)


def test_exp_sin_tanh_reads_well_to_order_8():
    # Lines of 324, 1,138 and 1,645 characters at orders 5-7, once.
    check(_chain(exp_sin_tanh, 8))


def test_transforms_of_several_arguments_read_well(made_by_this_test):
    ad.jvp(model, (0.3, -1.2), (1.0, 0.5))
    ad.vjp(lennard_jones_params, 1.0, 1.1, 1.3)
    check([source for source in made_by_this_test
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


# -- every function the suite generates -------------------------------------

def test_every_function_a_test_generates_is_linted_at_its_end(
        made_by_this_test):
    """conftest.py records what both writers hand to compile."""
    def lumpy(x):
        return x ** 3 * np.sin(x) / (2 + np.cos(x))

    scalar = ad.source(ad.grad(lumpy), 0.5)
    summed = ad.grad(lambda x: np.sum(lumpy(x)))
    array = ad.source(summed, np.ones(3))
    at_floats = ad.source(summed)  # (array code's for floats: made with it)
    assert "def dlumpy_dx(x):" in scalar and "def grad_" in array
    assert "def dlambda_dx(x):" in at_floats
    assert list(made_by_this_test)[-3:] == [scalar, at_floats, array]
