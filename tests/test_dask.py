"""Generated derivatives run unchanged on Dask arrays: gradients, Hessians,
Jacobians and jvps of array code take chunked, lazy arrays (larger than one
chunk) and return lazy results equal to NumPy's. Skipped without dask."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad

da = pytest.importorskip("dask.array")

rng = np.random.default_rng(3)
X = rng.normal(size=(1000, 3))
Y = rng.random(1000) > 0.5
XD = da.from_array(X, chunks=(250, 3))
YD = da.from_array(Y, chunks=250)
W = rng.normal(size=3)


def sigmoid(z):
    return 0.5 * (np.tanh(z / 2) + 1)


def loss(W, b, inputs, targets):
    preds = sigmoid(inputs @ W + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def features(W, inputs):
    return np.tanh(inputs @ W)


def test_gradient_and_hessian_of_dask_arrays_are_lazy_and_right():
    grad_w, grad_b = ad.grad(loss, (0, 1))(W, 0.2, XD, YD)
    assert isinstance(grad_w, da.Array)  # b is a float: its gradient too
    expected_w, expected_b = ad.grad(loss, (0, 1))(W, 0.2, X, Y)
    np.testing.assert_allclose(grad_w.compute(), expected_w, rtol=1e-12)
    assert grad_b == pytest.approx(expected_b, rel=1e-12)
    hessian = ad.hessian(loss)(W, 0.2, XD, YD)
    assert isinstance(hessian, da.Array)
    np.testing.assert_allclose(hessian.compute(),
                               ad.hessian(loss)(W, 0.2, X, Y), rtol=1e-12)


def test_jacobian_and_jvp_of_dask_arrays():
    jacobian = ad.jacobian(features)(W, XD)
    assert isinstance(jacobian, da.Array) and jacobian.shape == (1000, 3)
    np.testing.assert_allclose(jacobian.compute(),
                               ad.jacobian(features)(W, X), rtol=1e-12)
    v = np.array([1.0, -0.5, 0.25])
    _, tangent = ad.jvp(features, (W, XD), (v, da.zeros_like(XD)))
    np.testing.assert_allclose(np.asarray(tangent),
                               ad.jacobian(features)(W, X) @ v, rtol=1e-12)
