"""The adjoint a backward loop carries is filled in place where its start
is floats: a state stepped component by component (symplectic Euler,
leapfrog) got a gradient that made an array of zeros the size of the whole
trajectory in each backward step and added it to the carried one, O(n) per
step and O(n^2) in all; now each step adds into the carried adjoint
(``Leaf.floats``, ``_ops_scatter._added_into``). The seed of a sum,
``np.broadcast_to(1, ...)``, is integers, into which nothing can be added
in place (it would truncate): where the trajectory is floats, the backward
loop starts from ``np.ones_like(Y)`` instead."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient


def stepped(x0, v0, k, n):
    Y = np.zeros((n + 1, 2))
    Y[0, 0] = x0
    Y[0, 1] = v0
    for i in range(n):
        Y[i + 1, 1] = Y[i, 1] - 0.5 * k * Y[i, 0]
        Y[i + 1, 0] = Y[i, 0] + 0.5 * Y[i + 1, 1]
    return Y


def oscillator(x0, v0, k, n):
    return np.sum(stepped(x0, v0, k, n)[:, 0] ** 2)


def summed(x0, v0, k, n):
    return np.sum(stepped(x0, v0, k, n))  # a seed of ones: integers


def test_the_backward_loop_adds_into_the_adjoint_it_carries():
    source = ad.source(ad.grad(oscillator, (0, 1, 2)), 1.0, 0.0, 2.0, 10)
    loop = source[source.index("    for i_1"):source.index("    d_Y_values =")]
    assert loop == '''\
    for i_1 in reversed(range(n)):
        Y_part_1_1 = Y[i_1, 0]
        index_1_1 = i_1 + 1
        d_Y_values_2_1_1 = d_Y_4[index_1_1, 0]
        d_Y_2_part_1_1_1 = 0.5 * d_Y_values_2_1_1
        d_Y_4[index_1_1, 0] = 0
        d_Y_4[index_1_1, 1] += d_Y_2_part_1_1_1
        d_Y_4[i_1, 0] += d_Y_values_2_1_1
        d_Y_values_1_1_1 = d_Y_4[index_1_1, 1]
        d_Y_part_1_1 = t * d_Y_values_1_1_1
        d_Y_4[index_1_1, 1] = 0
        d_Y_4[i_1, 0] += d_Y_part_1_1
        d_Y_4[i_1, 1] += d_Y_values_1_1_1
        grad_k = grad_k - 0.5 * Y_part_1_1 * d_Y_values_1_1_1
'''
    assert "np.zeros_like(Y)\n" not in loop


@pytest.mark.parametrize("f", [oscillator, summed])
@pytest.mark.parametrize("n", [0, 1, 7])
def test_gradients_of_a_state_stepped_by_component(f, n):
    args = (0.8, -0.3, 1.7, n)
    gradient = ad.grad(f, (0, 1, 2))(*args)
    for j in range(3):
        assert gradient[j] == pytest.approx(
            numeric_gradient(f, args, j), rel=1e-7, abs=1e-10)
    for j in range(3):
        second = numeric_gradient(lambda *a: ad.grad(f, j)(*a), args, j)
        assert ad.hessian(f, j)(*args) == pytest.approx(second, rel=1e-6,
                                                        abs=1e-8)


def test_a_seed_of_ones_starts_as_floats_and_is_filled_in_place():
    # (np.sum(Y)'s seed, np.broadcast_to(1, ...), is integers: adding
    # floats into it in place would truncate them)
    source = ad.source(ad.grad(summed, (0, 1, 2)), 1.0, 0.0, 2.0, 10)
    assert ad.grad(summed, 2)(1.0, 0.0, 2.0, 10) == pytest.approx(
        numeric_gradient(summed, (1.0, 0.0, 2.0, 10), 2), rel=1e-7)
    assert "np.broadcast_to(1" not in source
    assert "    grad_Y_4 = np.ones_like(Y)\n" in source
    loop = source[source.index("for i_1 in reversed"):]
    assert "np.zeros_like(Y)" not in loop and "np.copy" not in loop.split(
        "\n    d_")[0]
