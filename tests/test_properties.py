"""Property-based tests: random scalar programs against mpmath.

Hypothesis draws a random program (nested expressions over the rules
table, local assignments, a helper function, a branch on an argument, a
constant-bound loop, one or two arguments). It is written out twice from
the same tree: as NumPy code in a real file, which autodiff_ast
differentiates, and as mpmath code, whose derivatives mpmath computes at 30
digits. Derivatives of orders 1 to 3, and the mixed partial, must agree.

The CI profile (tests/conftest.py) runs a bounded, derandomized set of
examples; run the thorough profile with `pytest tests/test_properties.py
--hypothesis-profile=thorough`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pathlib
import tempfile
from dataclasses import dataclass

import mpmath
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff_ast as ad
from autodiff_ast import _api
from autodiff_ast._float_handle import transform_of

# Each unary building block: how NumPy code and mpmath code spell it.
# Arguments are kept inside each function's smooth domain by construction.
UNARY = {
    "sin": ("np.sin({})", "mp.sin({})"),
    "cos": ("np.cos({})", "mp.cos({})"),
    "tanh": ("np.tanh({})", "mp.tanh({})"),
    "arctan": ("np.arctan({})", "mp.atan({})"),
    "arcsinh": ("np.arcsinh({})", "mp.asinh({})"),
    "exp_sin": ("np.exp(np.sin({}))", "mp.exp(mp.sin({}))"),
    "log_1p_sq": ("np.log(1 + ({}) ** 2)", "mp.log(1 + ({}) ** 2)"),
    "log1p_sq": ("np.log1p(({}) ** 2)", "mp.log(1 + ({}) ** 2)"),
    "sqrt_1p_sq": ("np.sqrt(1 + ({}) ** 2)", "mp.sqrt(1 + ({}) ** 2)"),
    "expm1_tanh": ("np.expm1(np.tanh({}))", "(mp.exp(mp.tanh({})) - 1)"),
    "cbrt_2p_sin": ("np.cbrt(2 + np.sin({}))", "mp.cbrt(2 + mp.sin({}))"),
    "square": ("np.square({})", "({}) ** 2"),
    "cube": ("({}) ** 3", "({}) ** 3"),
    "inverse": ("1 / (1 + ({}) ** 2)", "1 / (1 + ({}) ** 2)"),
    "softplus": ("np.log(1 + np.exp({}))", "mp.log(1 + mp.exp({}))"),
    "sinh_tanh": ("np.sinh(np.tanh({}))", "mp.sinh(mp.tanh({}))"),
    "arctan2_1": ("np.arctan2({}, 2.0)", "mp.atan2({}, 2)"),
}
BINARY = {
    "add": ("({} + {})", "({} + {})"),
    "sub": ("({} - {})", "({} - {})"),
    "mul": ("({} * {})", "({} * {})"),
    "div": ("({} / (2 + np.cos({})))", "({} / (2 + mp.cos({})))"),
    "hypot": ("np.hypot({}, 1 + ({}) ** 2)", "mp.hypot({}, 1 + ({}) ** 2)"),
    "logaddexp": ("np.logaddexp({}, {})",
                  "mp.log(mp.exp({}) + mp.exp({}))"),
}


@dataclass(frozen=True)
class Expr:
    numpy: str
    mpmath: str


def leaves(names: tuple[str, ...]) -> st.SearchStrategy[Expr]:
    constants = st.sampled_from(["0.5", "1.25", "2", "3", "0.1"]).map(
        lambda c: Expr(c, f"mp.mpf('{c}')"))
    symbols = st.sampled_from(names).map(lambda n: Expr(n, n))
    return st.one_of(symbols, symbols, constants)


def expressions(names: tuple[str, ...]) -> st.SearchStrategy[Expr]:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
            lambda t: Expr(UNARY[t[0]][0].format(t[1].numpy),
                           UNARY[t[0]][1].format(t[1].mpmath)))
        binary = st.tuples(st.sampled_from(sorted(BINARY)), children,
                           children).map(
            lambda t: Expr(BINARY[t[0]][0].format(t[1].numpy, t[2].numpy),
                           BINARY[t[0]][1].format(t[1].mpmath, t[2].mpmath)))
        return st.one_of(unary, binary)

    return st.recursive(leaves(names), extend, max_leaves=4)


@dataclass(frozen=True)
class Program:
    numpy_source: str
    mpmath_source: str
    arity: int
    threshold: float  # the branch is on x > threshold


@st.composite
def programs(draw: st.DrawFn) -> Program:
    arity = draw(st.integers(1, 2))
    names = ("x", "y")[:arity]
    local_names = names + ("a",)
    helper = draw(expressions(("u", "v")))
    # SCALE is a module global: derivatives read it by name when called.
    first = draw(expressions(names + ("SCALE",)))
    scale = draw(st.sampled_from(["0.75", "2", "1.5"]))
    then = draw(expressions(local_names))
    otherwise = draw(expressions(local_names))
    term = draw(expressions(local_names + ("k",)))
    loop_count = draw(st.integers(1, 3))
    threshold = draw(st.sampled_from([-0.5, 0.25, 1.0]))
    use_helper = draw(st.booleans())
    call_np = "helper(x, a)" if use_helper else "a"
    call_mp = "helper(x, a)" if use_helper else "a"
    params = ", ".join(names)
    numpy_source = f"""import numpy as np

SCALE = {scale}


def helper(u, v):
    return {helper.numpy}


def program({params}):
    a = {first.numpy}
    a = {call_np}
    total = 0.0
    for k in range(1, {loop_count + 1}):
        total += {term.numpy} / k
    if x > {threshold}:
        return {then.numpy} + total
    return {otherwise.numpy} - total
"""
    mpmath_source = f"""import mpmath as mp

SCALE = mp.mpf('{scale}')


def helper(u, v):
    return {helper.mpmath}


def program({params}):
    a = {first.mpmath}
    a = {call_mp}
    total = 0
    for k in range(1, {loop_count + 1}):
        k = mp.mpf(k)
        total += {term.mpmath} / k
    if x > {threshold}:
        return {then.mpmath} + total
    return {otherwise.mpmath} - total
"""
    return Program(numpy_source, mpmath_source, arity, threshold)


_LONGEST_PROGRAM = 600

_FOLDER = pathlib.Path(tempfile.mkdtemp(prefix="autodiff_ast_properties_"))


def load(source: str, kind: str):
    """Write ``source`` to a real file and import it (autodiff_ast reads
    the file, as it does a user's module)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = _FOLDER / f"{kind}_{digest}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.program


def reference(function, point: tuple[float, ...], orders: tuple[int, ...]
              ) -> float:
    with mpmath.workdps(30):
        value = mpmath.diff(function, [mpmath.mpf(p) for p in point], orders)
        return float(value)


def agree(ours: float, exact: float, scale: float) -> bool:
    return abs(ours - exact) <= 1e-7 * (abs(exact) + scale)


@given(program=programs(), shift=st.sampled_from([0.3, 0.45, 0.6]))
def test_random_programs_match_mpmath(program: Program, shift: float):
    # Long programs take seconds each to differentiate three times; keep
    # the run bounded (the thorough profile draws many more programs).
    assume(len(program.numpy_source) < _LONGEST_PROGRAM)
    under_test = load(program.numpy_source, "numpy")
    exact = load(program.mpmath_source, "mpmath")
    # One point on each side of the branch, away from its boundary.
    for x in (program.threshold + shift, program.threshold - shift):
        point = (x, 0.7)[:program.arity]
        with np.errstate(all="ignore"):
            values = [float(under_test(*point))]
        assume(all(np.isfinite(values)) and abs(values[0]) < 1e6)
        scale = 1.0 + abs(values[0])
        derivative = under_test
        for order in (1, 2, 3):
            derivative = ad.grad(derivative)
            expected = reference(exact, point,
                                 (order,) + (0,) * (program.arity - 1))
            assert agree(float(derivative(*point)), expected, scale), (
                program.numpy_source, point, order)
        first = ad.source(ad.grad(under_test))
        _api._generated.clear()  # generate again, not from memory
        assert ad.source(ad.grad(under_test)) == first
        if program.arity == 2:
            mixed = ad.grad(ad.grad(under_test, argnums=0), argnums=1)
            expected = reference(exact, point, (1, 1))
            assert agree(float(mixed(*point)), expected, scale), (
                program.numpy_source, point, "mixed")


# -- array programs ------------------------------------------------------------

MATRIX_STEPS = ["np.dot(X, {})", "X @ {}", "({}) @ X.T",
                "np.sum(X * ({}), axis=1)", "np.mean(X.T * ({})[:, None], "
                "axis=0)"]
REDUCTIONS = ["np.sum({})", "np.mean({})", "np.sum(({}) ** 2) / 4",
              "np.sum(({})[1:] * z[:-1])"]
ARRAY_PRELUDE = """import numpy as np

X = np.array([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.2, 0.9, 0.8],
              [0.6, -0.5, -1.0]])
"""


@st.composite
def array_programs(draw: st.DrawFn) -> str:
    """A function of W (shape (3,)) and b (a scalar): an elementwise region
    over W and b, a matrix step with X (shape (4, 3)) and broadcasting, a
    second elementwise region, and a reduction to a scalar."""
    first = draw(expressions(("W", "b")))
    assume("W" in first.numpy)
    second = draw(expressions(("z", "b", "z")))
    assume("z" in second.numpy)
    step = draw(st.sampled_from(MATRIX_STEPS))
    reduction = draw(st.sampled_from(REDUCTIONS))
    return ARRAY_PRELUDE + f"""

def program(W, b):
    a = {first.numpy}
    z = {step.format("a")} + b
    return {reduction.format(second.numpy)}
"""


# Array programs are quick to check: eight for every scalar program, and
# at least 200 under the default profile (the quick one, which CI uses on
# its other Pythons, draws 80).
_ARRAY_PROGRAMS = max(min(200, 8 * settings().max_examples),
                      settings().max_examples)


@settings(max_examples=_ARRAY_PROGRAMS)
@given(source=array_programs())
def test_random_array_programs_match_central_differences(source: str):
    from helpers import numeric_gradient

    assume(len(source) < _LONGEST_PROGRAM + len(ARRAY_PRELUDE))
    under_test = load(source, "array")
    W, b = np.array([0.4, -0.3, 0.8]), 0.35
    with np.errstate(all="ignore"):
        value = float(under_test(W, b))
    assume(np.isfinite(value) and abs(value) < 1e6)
    derivative = ad.grad(under_test, argnums=(0, 1))
    grad_W, grad_b = derivative(W, b)
    scale = 1.0 + abs(value)
    for ours, argnum in ((grad_W, 0), (grad_b, 1)):
        # Two step sizes: a steep program (sin of (W + 3)**9) defeats the
        # larger one, rounding the smaller one; ours must match either.
        estimates = [numeric_gradient(under_test, (W, b), argnum, step=step)
                     for step in (1e-6, 1e-8)]
        assert np.shape(ours) == np.shape(estimates[0])
        assert any(np.allclose(ours, expected, rtol=1e-6, atol=1e-7 * scale)
                   for expected in estimates), (source, argnum, ours,
                                                estimates)
    text = ad.source(derivative, W, b)
    compile(text, "generated", "exec")  # it parses
    transform_of(derivative).generated.clear()  # generate again
    assert ad.source(derivative, W, b) == text
