"""Derivatives at extreme and boundary inputs, against exact values.

Each row: a function, points from -1e3 to 1e3 through ±1e-300 and 0, and
the exact first and second derivatives (SymPy's, evaluated at 50 digits by
mpmath). Where the exact derivative is finite ours must be finite and
right, without NumPy warnings (pytest turns warnings into errors); where
it is not, the table says what we give. `python tests/test_stability.py`
prints the table.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

import autodiff_ast as ad
import stability_functions as functions

X = sp.Symbol("x", real=True)
EXACT = {
    "softplus": sp.log(1 + sp.exp(X)),
    "log_sigmoid": -sp.log(1 + sp.exp(-X)),
    "logistic": sp.exp(X) / (1 + sp.exp(X)),
    "tanh": sp.tanh(X),
    "smooth_abs": sp.sqrt(X ** 2 + sp.Rational(1, 10 ** 30)),
    "x_log_x": X * sp.log(X),
    "exprel": (sp.exp(X) - 1) / X,
}
# ±30: where the tail forms must keep every digit (0.5*tanh(x/2) + 0.5,
# the logistic form before, was 1.7e-4 off at -30).
POINTS = [-1e3, -30.0, -1e-300, 0.0, 1e-300, 30.0, 1e3]

# (function, point) -> what we give where the exact derivative is not a
# finite number (first, second); the reason is in the README's table.
NOT_FINITE = {
    # log of a negative is nan; the second derivative 1/x forgets the log
    # (as JAX's does).
    ("x_log_x", -1e3): (math.nan, -1e-3),
    ("x_log_x", -30.0): (math.nan, -1 / 30),
    ("x_log_x", -1e-300): (math.nan, -1e300),
    ("x_log_x", 0.0): (-math.inf, math.inf),     # one-sided limits
    ("exprel", 1e3): (math.nan, math.nan),       # exp(1000) overflows
}


def exact(name: str, order: int, point: float) -> float:
    if name == "exprel" and point == 0.0:
        return [0.5, 1 / 3][order - 1]  # the continuous extension
    derivative = sp.diff(EXACT[name], X, order).subs(
        X, sp.Rational(repr(point)))
    # Adaptive precision: 1 - tanh(1000)**2 cancels 868 digits.
    value = derivative.evalf(30, maxn=10_000)
    return float(value) if value.is_finite else math.nan


def ours(name: str, order: int, point: float) -> float:
    function = ad.derivative(getattr(functions, name), order)
    # Warnings are expected only where the exact value is not finite.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return float(function(np.float64(point)))


ROWS = [(name, point) for name in EXACT for point in POINTS]


@pytest.mark.parametrize("name,point", ROWS,
                         ids=[f"{n}-{p:g}" for n, p in ROWS])
def test_derivatives_at_extremes(name, point):
    for order in (1, 2):
        if (name, point) in NOT_FINITE:
            expected = NOT_FINITE[name, point][order - 1]
            got = ours(name, order, point)
            assert (math.isnan(got) and math.isnan(expected)) or \
                got == pytest.approx(expected, rel=1e-12)
            continue
        expected = exact(name, order, point)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warnings
            got = float(ad.derivative(getattr(functions, name), order)(
                np.float64(point)))
        assert math.isfinite(got), (name, point, order, got)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-300), (
            name, point, order)


def softmax(values: list[float]) -> list[float]:
    with mpmath.workdps(50):
        exps = [mpmath.exp(mpmath.mpf(v)) for v in values]
        total = sum(exps)
        return [float(e / total) for e in exps]


@pytest.mark.parametrize("values", [[1000.0, 1000.0], [-1000.0, -999.0],
                                    [0.0, 1e-300], [800.0, -800.0, 0.0]])
def test_logsumexp_gradient_is_the_softmax_without_overflow(values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, gradient = ad.value_and_grad(functions.logsumexp)(
            np.array(values))
    np.testing.assert_allclose(gradient, softmax(values), rtol=1e-14)
    with mpmath.workdps(50):
        expected = mpmath.log(sum(mpmath.exp(mpmath.mpf(v))
                                  for v in values))
    assert value == pytest.approx(float(expected), rel=1e-15)


def print_table() -> None:
    lines = [f"{'function':<12} {'x':>7} {'ours (1st)':>24} "
             f"{'exact (1st)':>24} {'ours (2nd)':>12}"]
    for name, point in ROWS:
        first = ours(name, 1, point)
        second = ours(name, 2, point)
        reference = (NOT_FINITE[name, point][0] if (name, point)
                     in NOT_FINITE else exact(name, 1, point))
        lines.append(f"{name:<12} {point:>7g} {first!r:>24} "
                     f"{reference!r:>24} {second!r:>12}")
    print("\n".join(lines))


if __name__ == "__main__":
    print_table()
