"""``.dtype`` of a value the function computed (``np.finfo(p.dtype)``, as
JAX code writes to clip a probability): the dtype NumPy gives it, from the
floating-point inputs it is computed from; refused where an integer or
boolean value, a comparison made a number, or a cast takes part."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad

X = np.array([0.1, -0.2, 30.0])


def clipped_log_sigmoid(x):
    p = 1 / (1 + np.exp(-x))
    eps = np.finfo(p.dtype).eps
    return np.sum(np.log(np.clip(p, eps, 1 - eps)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_finfo_of_a_computed_probability(dtype):
    x = X.astype(dtype)
    eps = np.finfo(dtype).eps
    x64 = x.astype(np.float64)
    p = 1 / (1 + np.exp(-x64))
    # d log(p) / dx = 1 - p inside the clip, 0 where p is clipped at
    # 1 - eps (x = 30 in float32, where p rounds to 1).
    expected = np.where(p < 1 - eps, 1 / (1 + np.exp(x64)), 0.0)
    grad = ad.grad(clipped_log_sigmoid)(x)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


W32 = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)


def scaled_by_eps(x):
    y = W32 @ x  # float32 @ float64 is float64
    return np.sum(y) * np.finfo(y.dtype).eps


def test_dtypes_promote_as_numpy_promotes_them():
    for x, eps in ((np.ones(2, np.float32), np.finfo(np.float32).eps),
                   (np.ones(2), np.finfo(np.float64).eps)):
        np.testing.assert_allclose(ad.grad(scaled_by_eps)(x),
                                   W32.sum(axis=0) * eps, rtol=1e-6)


def of_a_comparison(x):
    m = (x > 0) * 1.0  # float64 for float32 x: not x's dtype
    return np.sum(x) * np.finfo(m.dtype).eps


def test_a_comparison_made_a_number_is_refused():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(of_a_comparison)(np.ones(2, np.float32))
    assert info.value.msg == (
        ".dtype of a value computed from integers or booleans, or through "
        "a cast, is not supported: use the dtype of an argument or global "
        "array (x.dtype)")
