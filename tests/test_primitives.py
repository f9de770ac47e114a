"""Every primitive in the rules table, checked against central differences.

CASES is written by hand, one function per primitive; the first test makes
sure it and the table list the same primitives.
"""

from __future__ import annotations

import builtins
import math

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._rules import PRIMITIVES
from helpers import central_difference, sample_points

# name -> (function using the primitive, interval where it is smooth)
CASES = {
    "sin": (lambda x: np.sin(x), (-3, 3)),
    "cos": (lambda x: np.cos(x), (-3, 3)),
    "tan": (lambda x: np.tan(x), (-1.4, 1.4)),
    "arcsin": (lambda x: np.arcsin(x), (-0.95, 0.95)),
    "arccos": (lambda x: np.arccos(x), (-0.95, 0.95)),
    "arctan": (lambda x: np.arctan(x), (-3, 3)),
    "arctan2": (lambda y, x: np.arctan2(y, x), (0.2, 3)),
    "sinh": (lambda x: np.sinh(x), (-3, 3)),
    "cosh": (lambda x: np.cosh(x), (-3, 3)),
    "tanh": (lambda x: np.tanh(x), (-3, 3)),
    "arcsinh": (lambda x: np.arcsinh(x), (-3, 3)),
    "arccosh": (lambda x: np.arccosh(x), (1.1, 4)),
    "arctanh": (lambda x: np.arctanh(x), (-0.95, 0.95)),
    "exp": (lambda x: np.exp(x), (-3, 3)),
    "exp2": (lambda x: np.exp2(x), (-3, 3)),
    "expm1": (lambda x: np.expm1(x), (-3, 3)),
    "log": (lambda x: np.log(x), (0.1, 4)),
    "log2": (lambda x: np.log2(x), (0.1, 4)),
    "log10": (lambda x: np.log10(x), (0.1, 4)),
    "log1p": (lambda x: np.log1p(x), (-0.9, 4)),
    "sqrt": (lambda x: np.sqrt(x), (0.1, 4)),
    "cbrt": (lambda x: np.cbrt(x), (-4, -0.1)),
    "square": (lambda x: np.square(x), (-3, 3)),
    "absolute": (lambda x: np.abs(x) * x, (-3, 3)),
    "sign": (lambda x: np.sign(x) * x ** 2, (-3, 3)),
    "hypot": (lambda x, y: np.hypot(x, y), (-3, 3)),
    "power": (lambda x, y: np.power(x, y), (0.2, 3)),
    "maximum": (lambda x, y: np.maximum(x, y) * x, (-3, 3)),
    "minimum": (lambda x, y: np.minimum(x, y) * y, (-3, 3)),
    "logaddexp": (lambda x, y: np.logaddexp(x, y), (-3, 3)),
    "floor": (lambda x: np.floor(x) * x, (-3, 3)),
    "ceil": (lambda x: np.ceil(x) * x, (-3, 3)),
    "rint": (lambda x: np.rint(x) * x, (-3, 3)),
    "trunc": (lambda x: np.trunc(x) * x, (-3, 3)),
    "copysign": (lambda x, y: np.copysign(x, y) * y, (-3, 3)),
    "heaviside": (lambda x: np.heaviside(x - 0.5, 0.5) * x, (-3, 3)),
    "where": (lambda x: np.where(x > 0.5, x ** 2, np.sin(x)), (-3, 3)),
}


def test_cases_and_rules_table_cover_each_other():
    assert set(CASES) == {p.name for p in PRIMITIVES}


def _check_partials(function, low, high, points=5):
    arity = function.__code__.co_argcount
    gradient = ad.grad(function, argnums=tuple(range(arity)))
    grid = sample_points(low, high, points)
    for i, point in enumerate(grid):
        # Pair each point with a shifted one so two-argument functions see
        # x != y (kinks of maximum, minimum, copysign stay away).
        args = tuple(float(grid[(i + k) % len(grid)] + 0.31 * k)
                     for k in range(arity))
        analytic = gradient(*args)
        for argnum in range(arity):
            numeric = central_difference(function, args, argnum)
            assert float(analytic[argnum]) == pytest.approx(
                numeric, rel=1e-6, abs=1e-8), (function, args, argnum)


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivative_matches_central_differences(name):
    function, (low, high) = CASES[name]
    _check_partials(function, low, high)


def _aliases():
    for primitive in PRIMITIVES:
        for module, names in ((np, primitive.numpy), (math, primitive.math),
                              (builtins, primitive.builtin)):
            for alias in names:
                callable_ = getattr(module, alias, None)
                if callable_ is not None:
                    yield pytest.param(primitive, callable_,
                                       id=f"{module.__name__}.{alias}")


@pytest.mark.parametrize("primitive, callable_", list(_aliases()))
def test_every_alias_is_recognised_by_object(primitive, callable_):
    """ad.grad(np.arcsin), ad.grad(math.asin), ad.grad(abs): by identity."""
    if primitive.name == "where":
        with pytest.raises(ad.NoSourceError, match="np.where selects"):
            ad.grad(callable_)
        return
    low, high = CASES[primitive.name][1]
    gradient = ad.grad(callable_, argnums=tuple(range(primitive.nargs)))
    for point in sample_points(low, high, 3):
        args = tuple(float(point) + 0.31 * k for k in range(primitive.nargs))
        analytic = gradient(*args)
        for argnum in range(primitive.nargs):
            numeric = central_difference(callable_, args, argnum)
            assert float(analytic[argnum]) == pytest.approx(
                numeric, rel=1e-6, abs=1e-8)


def test_math_code_derives_to_math_code():
    source = ad.source(ad.grad(lambda x: math.sin(x) * math.exp(x)))
    assert "math.sin(x)" in source and "math.cos(x)" in source
    assert "np." not in source


def test_numpy_code_derives_to_numpy_code():
    source = ad.source(ad.grad(lambda x: np.sin(x) * np.exp(x)))
    assert "np.sin(x)" in source and "np.cos(x)" in source
    assert "math." not in source


def test_kink_conventions_match_jax():
    assert ad.grad(np.abs)(0.0) == 1.0
    assert ad.grad(lambda x: np.maximum(x, 0.0))(0.0) == 0.5
    assert ad.grad(lambda x: np.minimum(x, 0.0))(0.0) == 0.5
    assert ad.grad(np.sign)(0.0) == 0.0
    assert ad.grad(np.floor)(2.0) == 0.0
    with np.errstate(divide="ignore"):
        assert ad.grad(np.sqrt)(0.0) == np.inf
