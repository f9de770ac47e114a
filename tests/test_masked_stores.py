"""Stores through a boolean mask, as NumPy code writes a ReLU, a clip or a
fix-up in place (``y[y < 0] = 0.0``, ``y[mask] *= 3``, ``y[mask] =
w[mask]``): lowered as ``np.where(mask, new, y)``, whose derivative keeps
the shape. They were refused ("a number of elements that depends on the
data"), and a store through a global mask that replaced values crashed
inside the gradient."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, numeric_gradient

X = np.array([1.0, -2.0, 1.5, 0.3])
W = np.array([0.5, 0.25, 2.0, -1.0])
MASK = np.array([True, False, True, False])


def body(source: str) -> str:
    return source.split('"""')[-1]


def relu_squares(x):
    y = x.copy()
    y[y < 0] = 0.0
    return np.sum(y ** 2)


def clipped(x):
    y = x * 2
    y[y > 2.5] = 2.5
    return np.sum(y * x)


def scaled_and_shifted(x):
    y = np.sin(x)
    y[y > 0.5] *= 3.0
    y[y < -0.5] += x[y < -0.5]
    return np.sum(y ** 2)


def taken_from_w(x, w):
    y = x * 1.0
    y[x > 0] = w[x > 0]
    return np.sum(y * w)


def through_a_global_mask(x, w):
    y = x * 2
    y[MASK] = 0.0
    return np.sum(y * w)


def clipped_in_a_loop(x, w):
    y = x.copy()
    for _ in range(3):
        y = y * 1.5
        y[y > 2.0] = 2.0
    return np.sum(y * w)


def counted(x, w):
    c = np.zeros(4, dtype=int)
    c[x > 0] = 2.7  # NumPy truncates: 2
    return np.sum(c * x * w)


def global_mask_values(x, w):
    y = x * 2
    y[MASK] = w[MASK]
    y[MASK] *= 3.0
    y[MASK] += 1.0
    return np.sum(y * w)


def zeros_filled_by_a_global_mask(x, w):
    y = np.zeros(4)
    y[MASK] = np.cos(x[MASK])
    return np.sum(y * w)


STORES = [relu_squares, clipped, scaled_and_shifted, taken_from_w,
          through_a_global_mask, clipped_in_a_loop, counted,
          global_mask_values, zeros_filled_by_a_global_mask]


def _arguments(f):
    return (X,) if f.__code__.co_argcount == 1 else (X, W)


@pytest.mark.parametrize("f", STORES)
def test_gradients_match_central_differences(f):
    args = _arguments(f)
    argnums = tuple(range(len(args)))
    value, grads = ad.value_and_grad(f, argnums=argnums)(*args)
    assert value == f(*[a.copy() for a in args])
    for argnum, grad in zip(argnums, grads):
        np.testing.assert_allclose(grad, numeric_gradient(f, args, argnum),
                                   rtol=1e-7, atol=1e-9)


def test_a_hessian_through_masked_stores():
    gradient = ad.grad(scaled_and_shifted)
    expected = np.array([numeric_gradient(
        lambda x, i=i: gradient(x)[i], (X,), 0) for i in range(4)])
    np.testing.assert_allclose(ad.hessian(scaled_and_shifted)(X), expected,
                               rtol=1e-6, atol=1e-8)


def test_the_code_reads_as_a_where():
    assert body(ad.source(ad.grad(clipped), X)) == (
        "\n    y = 2 * x"
        "\n    return np.where(y > 2.5, 2.5, 2 * x + y)\n")
    # (w's length is checked: the gradient does not multiply by w)
    assert body(ad.source(ad.grad(through_a_global_mask, argnums=1),
                          X, W)) == (
        "\n    if x.shape[0] != w.shape[0]:"
        "\n        raise ValueError("
        "\n            f'x of shape {x.shape} does not fit w of shape "
        "{w.shape}')"
        "\n    return np.where(MASK, 0, 2 * x)\n")


def other_values(x):
    y = x * 1.0
    y[x > 0] = np.ones(3)
    return np.sum(y)


def rows_masked(x):
    y = np.outer(x, x)
    y[x > 0] = 0.0
    return np.sum(y)


def an_argument_changed(x):
    x[x < 0] = 0.0
    return np.sum(x)


@pytest.mark.parametrize("f, message", [
    (other_values, "y[mask] = values takes a number here, or the same "
     "mask's elements of an array of y's shape (y[mask] = w[mask]): for "
     "other values, write y = np.where(mask, ..., y)"),
    (rows_masked, "a mask of shape (4,) indexes y of shape (4, 4): a store "
     "through a mask takes a mask of y's shape here (write y = "
     "np.where(mask, ..., y) with the mask broadcast)"),
    (an_argument_changed, "assigning to an item of x mutates an object the "
     "function did not make, which cannot be differentiated: assign to a "
     "new local name instead, or fill an array made here (d = "
     "np.zeros_like(x); d[i] = v)")])
def test_what_is_not_a_where_is_refused_at_the_line(f, message):
    assert_refused_at(lambda: ad.grad(f)(X), f, 2 if f is not
                      an_argument_changed else 1, message)
