"""A number computed from the arguments put into a slice of an array
(``y[1:3] = 2 * s``, ``y[1:3] += np.sin(x[0])``): NumPy broadcasts it to
every element there, and its derivative is summed over them. (Once the
gradient of a computed number there was dropped: a silent 0.)"""

import numpy as np
import pytest

import autodiff_ast as ad

from helpers import numeric_gradient


def set_twice(s):
    y = np.zeros(4)
    y[1:3] = 2 * s
    return np.sum(y ** 2)


def added_to_scaled_ones(s):
    y = np.ones(4) * s
    y[1:3] += 2 * s
    return np.sum(y)


def row_of_a_matrix(x):
    y = np.outer(x, x)
    y[1] -= np.sin(x[0]) * x[2]
    return np.sum(y * y)


X = np.array([0.7, -1.3, 2.1])


@pytest.mark.parametrize("f, point, exact", [
    (set_twice, 1.5, 16 * 1.5),  # 2 (2 s)^2: 16 s
    (added_to_scaled_ones, 1.5, 8.0),  # 4 s + 2 (2 s)
])
def test_the_derivative_of_a_number_put_into_a_slice(f, point, exact):
    assert ad.grad(f)(point) == pytest.approx(exact)


def test_a_row_less_a_computed_number():
    np.testing.assert_allclose(ad.grad(row_of_a_matrix)(X),
                               numeric_gradient(row_of_a_matrix, (X,), 0),
                               rtol=1e-7)
    # second order: the Hessian's rows are gradients of the gradient
    hessian = ad.hessian(row_of_a_matrix)(X)
    for i in range(3):
        np.testing.assert_allclose(hessian[i], numeric_gradient(
            lambda x: ad.grad(row_of_a_matrix)(x)[i], (X,), 0), rtol=1e-6)


def test_forward_mode_sees_it_too():
    value, tangent = ad.jvp(set_twice, (1.5,), (1.0,))
    assert (value, tangent) == (pytest.approx(18.0), pytest.approx(24.0))
