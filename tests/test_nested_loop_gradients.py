"""Gradients of loops inside loops: an adjoint an inner loop passes
through unchanged (a total's), and what an inner loop reads of an array
by index added into its gradient in place."""

import numpy as np

import autodiff_ast as ad

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))


def rowsum_squares(F):
    total = 0.0
    for row in F:
        acc = 0.0
        for v in row:
            acc = acc + np.tanh(v)
        total = total + acc ** 2
    return total


def pair_energy(P):
    n = P.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = P[i] - P[j]
            energy = energy + 1.0 / np.sum(d ** 2)
    return energy


def central(f, x, h=1e-6):
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[k] = h
        grad[k] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def test_an_inner_loop_passes_the_outer_total_through():
    # The generated gradient read grad_total_inside, a name the outer loop
    # no longer defined (NameError): the inner loop's body kept it.
    exact = 2 * np.tanh(X).sum(axis=1, keepdims=True) * (1 - np.tanh(X) ** 2)
    np.testing.assert_allclose(ad.grad(rowsum_squares)(X), exact,
                               rtol=1e-13)
    text = ad.source(ad.grad(rowsum_squares), X)
    assert "grad_total" not in text


def test_pair_energy_gradient_adds_each_row_in_place():
    np.testing.assert_allclose(ad.grad(pair_energy)(X),
                               central(pair_energy, X), rtol=1e-6)
    text = ad.source(ad.grad(pair_energy), X)
    # No zeros of P's shape in each inner iteration (O(n^3 d) in all),
    # and no adjoint of the energy carried (it is 1 throughout).
    assert "np.zeros_like" not in text
    assert "grad_energy" not in text
    assert "        grad_P[i_2] += d_P_part_3_1_1\n" in text

