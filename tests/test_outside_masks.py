"""Indexing with a boolean array read from outside the function (a
global, a closure cell or an attribute): ``x[MASK]`` picks the elements
the mask holds when the code is made, as JAX's grad indexes with a
concrete mask; the gradient is assigned back there, and the code is made
again when the mask's values change. A mask the function computes
(``x[x > 0]``) stays refused (test_hostile). Expected values are closed
forms."""

from __future__ import annotations

import numpy as np

import autodiff_ast as ad

X = np.array([0.1, -0.2, 0.3, 0.7])
MASK = np.array([True, False, True, True])


def masked_squares(x):
    return np.sum(x[MASK] ** 2)


def test_a_global_mask_by_grad_hessian_and_jvp():
    np.testing.assert_allclose(ad.grad(masked_squares)(X), 2 * X * MASK)
    np.testing.assert_allclose(ad.hessian(masked_squares)(X),
                               np.diag(2.0 * MASK))
    value, tangent = ad.jvp(masked_squares, (X,), (np.ones(4),))
    np.testing.assert_allclose((value, tangent), (np.sum(X[MASK] ** 2),
                                                  2 * np.sum(X[MASK])))


def test_the_gradient_is_assigned_where_the_mask_picks():
    code = ad.source(ad.grad(masked_squares), X).split('    """\n', 1)[1]
    assert code == ("    d_x = np.zeros_like(x)\n"
                    "    d_x[MASK] = 2 * x[MASK]\n"
                    "    return d_x\n")


def test_a_mask_changed_in_place_between_calls():
    grad = ad.grad(masked_squares)
    np.testing.assert_allclose(grad(X), 2 * X * MASK)
    MASK[1], MASK[3] = True, False
    try:
        np.testing.assert_allclose(grad(X), 2 * X * MASK)
    finally:
        MASK[1], MASK[3] = False, True


def rows_of(mask):
    def loss(x):
        return np.sum(np.sin(x[mask, 1:]))
    return loss


def test_a_closure_mask_with_a_slice():
    x = np.arange(12.0).reshape(4, 3) / 10
    rows = np.array([False, True, True, False])
    expected = np.zeros_like(x)
    expected[rows, 1:] = np.cos(x[rows, 1:])
    np.testing.assert_allclose(ad.grad(rows_of(rows))(x), expected)


class Selector:
    def __init__(self, keep):
        self.keep = keep

    def loss(self, x):
        return np.sum(np.exp(x[self.keep]))


def test_a_two_dimensional_mask_held_by_an_object():
    keep = np.array([[True, False], [False, True], [True, True]])
    x = np.arange(6.0).reshape(3, 2) / 10
    np.testing.assert_allclose(ad.grad(Selector(keep).loss)(x),
                               np.exp(x) * keep)
