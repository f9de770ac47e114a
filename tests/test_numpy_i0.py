"""np.i0, NumPy's modified Bessel function of order 0: the rules table's
i0 row, as scipy.special.i0 is. Its derivative is i1, which NumPy lacks:
the generated code calls scipy.special.i1, and without SciPy np.i0 is
refused at the user's line with the fix.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast import _rules
from helpers import assert_refused_at, numeric_gradient

try:
    import scipy.special as sc
except ImportError:  # optional: the tests that need it skip
    sc = None

requires_scipy = pytest.mark.skipif(sc is None,
                                    reason="SciPy is not installed")


def body(fn, *example) -> str:
    """The generated source after its docstring."""
    return ad.source(fn, *example).split('"""')[-1].strip()


def weighted_i0(x):
    return np.sum(np.i0(x) * x)


@requires_scipy
def test_np_i0_in_array_code_derives_to_scipy_i1():
    x = np.array([0.5, -1.5, 2.25])
    gradient = ad.value_and_grad(weighted_i0)
    value, grad_x = gradient(x)
    assert value == pytest.approx(np.sum(np.i0(x) * x), rel=1e-15)
    np.testing.assert_allclose(grad_x, numeric_gradient(weighted_i0, (x,), 0),
                               rtol=1e-8)
    np.testing.assert_allclose(grad_x, np.i0(x) + x * sc.i1(x), rtol=1e-15)
    assert body(gradient, x) == (
        "i0_x = np.i0(x)\n"
        "    value = np.sum(i0_x * x)\n"
        "    grad_x = i0_x + x * scipy.special.i1(x)\n"
        "    return value, grad_x")


@requires_scipy
def test_np_i0_of_a_number_and_its_second_derivative():
    derivative = ad.grad(lambda x: 2.0 * np.i0(x))
    assert body(derivative) == "return 2 * scipy.special.i1(x)"
    assert derivative(0.7) == pytest.approx(2 * sc.i1(0.7), rel=1e-15)
    # i1' = (i0 + iv(2, x)) / 2; i0''(0) = 1/2 (i0 = 1 + x**2/4 + ...)
    second = ad.derivative(np.i0, 2)
    assert second(0.7) == pytest.approx((sc.i0(0.7) + sc.iv(2, 0.7)) / 2,
                                        rel=1e-14)
    assert second(0.0) == pytest.approx(0.5)


@requires_scipy
def test_np_i0_gradient_keeps_float32():
    x = np.array([0.5, -1.5], dtype=np.float32)
    grad_x = ad.grad(weighted_i0)(x)
    assert grad_x.dtype == np.float32
    np.testing.assert_allclose(grad_x, np.i0(x) + x * sc.i1(x), rtol=1e-6)


def test_without_scipy_np_i0_is_refused_at_its_line(monkeypatch):
    # (a whole run without SciPy: tests/test_scipy.py)
    monkeypatch.setattr(_rules, "_scipy_installed", lambda: False)

    def bessel(x):
        return np.sum(np.i0(x))

    assert_refused_at(
        lambda: ad.grad(bessel)(np.array([0.5])), bessel, 1,
        "cannot differentiate this expression: the derivative of np.i0 is "
        "scipy.special.i1, which only SciPy provides: install SciPy (pip "
        "install 'autodiff-ast[scipy]')")
