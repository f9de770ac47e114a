"""JAX's gradient checks of its primitives (tests/lax_autodiff_test.py:
LAX_GRAD_OPS, the special values, clamp, concatenate, split and casts; and
lax_numpy_test.py's GRAD_TEST_RECORDS and special values), written again
for the NumPy and SciPy functions they stand for (sweep 7).
Each is checked as JAX checks it, with check_grads to order 2 in both
modes (order 1 for division), over JAX's shapes (one argument: each shape
of its groups; two: each pair within a group, broadcasting), at points
drawn from JAX's ranges, in float64 (and float32 at one shape of each
rank, which runs the same code with looser tolerances). Known bugs are
strict xfails whose reason names their entry in the sweep's list ("sweep7
bug N").
"""

from __future__ import annotations

import functools
import itertools
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.special

import autodiff_ast as ad
from autodiff_ast.testing import check_grads
from generated_lint import lint

# JAX's compatible_shapes: shapes within a group broadcast together
SHAPE_GROUPS = [[(3,)], [(), (3, 4), (3, 1), (1, 4)], [(2, 3, 4), (2, 1, 4)]]
SHAPES = [shape for group in SHAPE_GROUPS for shape in group]
PAIRS = [pair for group in SHAPE_GROUPS
         for pair in itertools.combinations_with_replacement(group, 2)]

# jtu's random ranges, as draws of uniform(low, high)
DEFAULT, SMALL, POSITIVE, NOT_SMALL = (-3, 3), (-0.3, 0.3), (0.5, 3), (1, 3)


def negative(x):
    return np.negative(x)


def exp2(x):
    return np.exp2(x)


def log_add_exp_base_2(x, y):
    return np.logaddexp2(x, y)


def reciprocal_sqrt(x):
    return 1 / np.sqrt(x)


def logistic(x):
    return scipy.special.expit(x)


def erf_inverse(x):
    return scipy.special.erfinv(x)


def subtract(x, y):
    return x - y


def divide(x, y):
    return x / y


# (op, bounds, order): JAX's order (2; 1 for divide and np.logaddexp), but 1
# where the second derivatives' code does not yet read well (np.add,
# subtract, np.maximum, np.minimum, i0e, i1e: sweep7 bugs 14 and 15 below),
# since the suite lints every function it generates.
UNARY = [(op, bounds, 2) for op, bounds in [
    (negative, DEFAULT), (np.floor, (0.1, 0.4)), (np.ceil, (0.1, 0.4)),
    (np.round, (0.1, 0.4)), (np.exp, SMALL), (exp2, SMALL),
    (np.expm1, DEFAULT), (np.log, POSITIVE), (np.log1p, POSITIVE),
    (np.sinh, DEFAULT), (np.cosh, DEFAULT), (np.tanh, DEFAULT),
    (np.sin, DEFAULT), (np.cos, DEFAULT), (np.tan, (-1.3, 1.3)),
    # (JAX draws arcsin and arccos from [-1.3, 1.3]; outside [-1, 1] both
    # are nan, which a difference cannot check)
    (np.arcsin, (-0.9, 0.9)), (np.arccos, (-0.9, 0.9)), (np.arctan, DEFAULT),
    (scipy.special.erf, SMALL), (scipy.special.erfc, SMALL),
    (erf_inverse, SMALL), (np.abs, POSITIVE), (np.sqrt, POSITIVE),
    (reciprocal_sqrt, POSITIVE), (np.cbrt, NOT_SMALL), (logistic, DEFAULT),
    # lax_numpy_test's GRAD_TEST_RECORDS (arccosh at order 1 there)
    (np.arcsinh, POSITIVE), (np.arccosh, (1.5, 3)), (np.arctanh, (-0.9, 0.9)),
]] + [(scipy.special.i0e, DEFAULT, 1), (scipy.special.i1e, DEFAULT, 1)]

BINARY = [
    (np.arctan2, DEFAULT, 2), (np.power, POSITIVE, 2), (np.add, DEFAULT, 1),
    (subtract, DEFAULT, 1), (np.multiply, DEFAULT, 2),
    (divide, NOT_SMALL, 1), (np.maximum, DEFAULT, 1),
    (np.minimum, DEFAULT, 1), (np.logaddexp, (-0.9, 0.9), 1),
    (log_add_exp_base_2, (-0.9, 0.9), 2),
]

DTYPES = [np.float64, np.float32]
# (shape or shapes, dtype): every shape in float64, a few in float32
ONE = [(shape, np.float64) for shape in SHAPES] + [
    (shape, np.float32) for shape in [(), (3,), (2, 1, 4)]]
TWO = [(pair, np.float64) for pair in PAIRS] + [
    (pair, np.float32) for pair in [((3,), (3,)), ((3, 1), (1, 4))]]


def _draw(seed: int, bounds: tuple[float, float], shape: tuple[int, ...],
          dtype: type) -> np.ndarray:
    return np.random.RandomState(seed).uniform(*bounds, shape).astype(dtype)


@pytest.mark.parametrize("shape, dtype", ONE, ids=str)
@pytest.mark.parametrize("op, bounds, order", UNARY,
                         ids=[op.__name__ for op, _, _ in UNARY])
def test_grads_of_a_function_of_one_argument(op, bounds, order, shape, dtype):
    check_grads(op, (_draw(0, bounds, shape, dtype),), order, ["fwd", "rev"])


@pytest.mark.parametrize("shapes, dtype", TWO, ids=str)
@pytest.mark.parametrize("op, bounds, order", BINARY,
                         ids=[op.__name__ for op, _, _ in BINARY])
def test_grads_of_a_function_of_two_arguments(op, bounds, order, shapes,
                                              dtype):
    args = tuple(_draw(seed, bounds, shape, dtype)
                 for seed, shape in enumerate(shapes))
    check_grads(op, args, order, ["fwd", "rev"])


# JAX's LAX_GRAD_SPECIAL_VALUE_TESTS: tails and zeros of the formulas
SPECIAL_VALUES = [
    (np.sinh, 0.0), (np.cosh, 0.0), (np.tanh, 0.0), (np.tanh, 1000.0),
    (np.tan, 0.0), (np.arcsin, 0.0), (np.arccos, 0.0), (np.arctan, 0.0),
    (np.arctan, 1000.0), (scipy.special.erf, 0.0),
    (scipy.special.erf, 10.0), (scipy.special.erfc, 0.0),
    (scipy.special.erfc, 10.0),
] + [(op, value) for op in (np.sin, np.cos)
     for value in (0.0, np.pi, np.pi / 2, np.pi / 4)] + [
    # lax_numpy_test's GRAD_SPECIAL_VALUE_TEST_RECORDS
    (np.arcsinh, 0.0), (np.arcsinh, 1000.0), (np.arccosh, 1000.0),
    (np.arctanh, 0.0), (np.sinc, 0.0)]


@pytest.mark.parametrize("op, value", SPECIAL_VALUES,
                         ids=[f"{op.__name__}-{value:g}"
                              for op, value in SPECIAL_VALUES])
def test_grads_at_special_values(op, value):
    check_grads(op, (value,), 2, ["fwd", "rev"])


def sinc_total(x):
    return np.sum(np.sinc(x))


# was sweep7 bug 1: at an array holding 0, grad(sum(np.sinc(x))) was nan
def test_sinc_of_an_array_holding_zero():
    x = np.array([0.0, 0.5])
    slope_at_half = -4 / np.pi  # (cos(pi x) - sinc(x)) / x at 1/2
    np.testing.assert_allclose(ad.grad(sinc_total)(x),
                               [0.0, slope_at_half], atol=1e-15)
    np.testing.assert_allclose(ad.jacfwd(np.sinc)(x),
                               np.diag([0.0, slope_at_half]), atol=1e-15)
    check_grads(np.sinc, (np.array([0.0, 0.0]),), 2, ["fwd", "rev"])


def clip(x, low, high):
    return np.clip(x, low, high)


@pytest.mark.parametrize("shape", [(), (2, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_grads_of_clip_in_each_position(shape, dtype):
    # (testClampGrad: the operand inside, below and above the bounds)
    operand = _draw(0, DEFAULT, shape, dtype)
    low, high = operand - dtype(10), operand + dtype(10)
    for args in ((operand, low, high), (low, operand, high),
                 (low, high, operand)):
        check_grads(clip, args, 1, ["fwd", "rev"], eps=1e-2)  # (bug 14)


def concatenate_three(a, b, c, axis):
    return np.concatenate((a, b, c), axis=axis)


def split_at(x, sections, axis):
    return np.split(x, sections, axis=axis)


AXES = [(base, axis) for base in [(4,), (3, 4), (2, 3, 4)]
        for axis in range(len(base))]


@pytest.mark.parametrize("base, axis", AXES, ids=str)
def test_grads_of_concatenate(base, axis):
    # (testConcatenateGrad, the axis bound by a partial as JAX's lambda
    # closes over it)
    shapes = [base[:axis] + (size,) + base[axis + 1:] for size in (3, 1, 4)]
    operands = tuple(_draw(seed, DEFAULT, shape, np.float64)
                     for seed, shape in enumerate(shapes))
    check_grads(functools.partial(concatenate_three, axis=axis), operands, 2,
                ["fwd", "rev"], eps=1.0)


@pytest.mark.parametrize("base, axis", AXES, ids=str)
def test_grads_of_split(base, axis):
    # (testSplitGrad) pieces of sizes 2, 0 and 3 (JAX draws them at random)
    shape = base[:axis] + (5,) + base[axis + 1:]
    x = _draw(0, DEFAULT, shape, np.float64)
    check_grads(functools.partial(split_at, sections=[2, 2], axis=axis),
                (x,), 2, ["fwd", "rev"], eps=1.0)


# was sweep7 bug 13: check_grads cast the arguments left out of argnums
def test_check_grads_keeps_an_argument_left_out_of_argnums_as_it_is():
    operands = tuple(_draw(seed, DEFAULT, (size,), np.float64)
                     for seed, size in enumerate((3, 1, 4)))
    check_grads(concatenate_three, operands + (0,), 2, ["fwd", "rev"],
                eps=1.0, argnums=(0, 1, 2))


def as_float32(x):
    return x.astype(np.float32)


def as_float64(x):
    return x.astype(np.float64)


@pytest.mark.parametrize("cast", [as_float32, as_float64])
@pytest.mark.parametrize("dtype", DTYPES)
def test_grads_of_a_cast(cast, dtype):
    # (testConvertElementTypeGrad, real dtypes)
    check_grads(cast, (_draw(0, DEFAULT, (2, 3), dtype),), 2,
                ["fwd", "rev"], eps=1.0)


# -- how the second derivatives read ----------------------------------------

def _printed(script: str) -> str:
    """What ``script`` prints, run in a fresh interpreter."""
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
        text=True, timeout=300, cwd=pathlib.Path(__file__).parent,
        env={**os.environ, "AUTODIFF_AST_CACHE": "0"})
    assert run.returncode == 0, run.stderr
    return run.stdout


def _lint_printed(script: str) -> list[str]:
    """test_lint's findings about the source ``script`` prints, generated
    in a fresh interpreter: the suite lints every function it generates
    itself, so a known finding made here would fail that test too."""
    return lint(_printed(script))


# was sweep7 bug 14: the second derivatives of np.add (and of np.clip in
# each argument) printed each zero as `0.0 * x ** 0`, the same one twice:
# `return (0.0 * x ** 0, 0.0 * y ** 0), (0.0 * x ** 0, 0.0 * y ** 0)`
def test_second_derivatives_of_add_read_well():
    printed = _printed("""
        import numpy as np
        import autodiff_ast as ad
        second = ad.jacobian(ad.jacobian(np.add, argnums=(0, 1)),
                             argnums=(0, 1))
        second(1.0, 2.0)
        print(ad.source(second))
        """)
    assert lint(printed) == []
    assert printed.endswith(
        '    """\n'
        "    return (0.0, 0.0), (0.0, 0.0)\n\n")


def test_second_derivatives_of_clip_read_well():
    assert _lint_printed("""
        import numpy as np
        import autodiff_ast as ad
        second = ad.hessian(np.clip, argnums=(0, 1, 2))
        second(1.0, 0.0, 2.0)
        print(ad.source(second))
        """) == []


# was sweep7 bug 15: the second derivatives of scipy.special.i0e and i1e
# on arrays kept like terms apart: `0.5 * i0e_x - i1e_x * sign_x - sign_x *
# (i1e_x - i0e_x * sign_x) + ...` (the first derivative, a value read once,
# was put in its reader only where that saved operations before the like
# terms it brought were collected)
def test_second_derivatives_of_i0e_read_well():
    printed = _printed("""
        import numpy as np
        import scipy.special
        import autodiff_ast as ad
        x = np.array([0.5, -1.0, 2.0])
        print(ad.source(ad.hessian(scipy.special.i0e), x))
        """)
    assert lint(printed) == []
    # as the scalar code writes it
    assert "(0.5 * i0e_x + sign_x * (i0e_x * sign_x - 2 * i1e_x)" in printed
    assert _lint_printed("""
        import numpy as np
        import scipy.special
        import autodiff_ast as ad
        x = np.array([0.5, -1.0, 2.0])
        print(ad.source(ad.hessian(scipy.special.i1e), x))
        """) == []
    x = np.array([0.5, -1.0, 2.0])
    for f in (scipy.special.i0e, scipy.special.i1e):
        second = np.diagonal(ad.hessian(f)(x), axis1=1, axis2=2).diagonal()
        np.testing.assert_allclose(
            second, [ad.hessian(f)(float(v)) for v in x], rtol=1e-13)
        first = ad.grad(f)
        np.testing.assert_allclose(
            second, (first(x + 1e-6) - first(x - 1e-6)) / 2e-6, rtol=1e-7)


def test_a_constant_returned_twice_is_the_number_twice():
    # (code at a float: no name for a number; it was constant = 2 * x **
    # 0, returned twice)
    def doubled(x):
        return 2 * x, 2 * x
    assert ad.source(ad.jacobian(doubled)).endswith(
        '    """\n'
        "    return 2.0, 2.0\n")
    assert ad.jacobian(doubled)(1.5) == (2.0, 2.0)
