"""An int passed as an argument sizes arrays, as JAX takes a Python int.

``np.zeros(n)``, ``np.arange(n)``, ``x.reshape(k, -1)`` with ``n`` or
``k`` an argument: the generated code reads the int when it runs where it
can, and is made per value of the int only where its structure depends on
it (a loop unrolled, a branch taken). The same derivative called at n = 3,
then 5, then 3 again is right each time.
"""

import numpy as np
import pytest

import autodiff_ast as ad
from test_sweep4_physics import (grid_of_a_passed_size,
                                 ramp_of_a_passed_size,
                                 zeros_of_a_passed_size)


def filled_in_a_loop(x, n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = x * i
    return np.sum(y ** 2)


def folded_into_rows(x, k):
    return np.sum(x.reshape(k, -1).sum(axis=0) ** 2)


def branching_on_the_count(x, n):
    if n > 3:
        return np.sum(np.ones(n) * x ** 3)
    return np.sum(np.ones(n) * x ** 2)


X = 0.7


@pytest.mark.parametrize("f, expected", [
    (zeros_of_a_passed_size, lambda n: 1.0),
    (ramp_of_a_passed_size, lambda n: 2 * X * n * (n - 1) / 2),
    (grid_of_a_passed_size, lambda n: 2 * X * n / 2),
    (filled_in_a_loop, lambda n: 2 * X * sum(i * i for i in range(n))),
    (branching_on_the_count,
     lambda n: n * 3 * X ** 2 if n > 3 else n * 2 * X)],
    ids=["zeros", "arange", "linspace", "loop", "branch"])
def test_the_same_derivative_at_each_count(f, expected):
    g = ad.grad(f)
    for n in (3, 5, 3, 4):
        assert g(X, n) == pytest.approx(expected(n), rel=1e-13)


def test_a_shape_read_when_the_code_runs_serves_every_count():
    g = ad.grad(zeros_of_a_passed_size)
    assert "np.arange(1.0, n + 1)" in ad.source(g, X, 3)
    assert ad.source(g, X, 3) == ad.source(g, X, 5)


def test_reshaped_by_a_passed_count():
    x = np.arange(6.0)
    g = ad.grad(folded_into_rows)
    for k, expected in ((2, 2 * np.tile(x.reshape(2, -1).sum(axis=0), 2)),
                        (3, 2 * np.tile(x.reshape(3, -1).sum(axis=0), 3)),
                        (2, 2 * np.tile(x.reshape(2, -1).sum(axis=0), 2))):
        np.testing.assert_allclose(g(x, k), expected, rtol=1e-14)


def test_hessian_of_a_function_sized_by_a_count():
    def loss(w, n):
        return np.sum(np.arange(1.0, n + 1) * w ** 3)

    h = ad.hessian(loss)
    for w in (np.array([0.5, -1.0, 2.0]), np.array([0.5, -1.0, 2.0, 3.0])):
        n = len(w)
        np.testing.assert_allclose(
            h(w, n), np.diag(6 * np.arange(1.0, n + 1) * w), rtol=1e-14)
    assert ad.grad(loss)(1.5, 4) == pytest.approx(3 * 1.5 ** 2 * 10,
                                                  rel=1e-14)


def test_printed_code_that_bakes_a_count_checks_it():
    # np.linspace's count decides the code's structure, so its value is in
    # the code: pasted and called with another count, it must say so, not
    # return the gradient at the count it was printed for.
    source = ad.source(ad.grad(grid_of_a_passed_size), 0.7, 4)
    assert "    if n != 4:\n        raise ValueError(" in source
    namespace = {"np": np}
    exec(source, namespace)
    printed = namespace["dgrid_of_a_passed_size_dx"]
    assert printed(0.7, 4) == pytest.approx(2 * 0.7 * 2.0, rel=1e-14)
    with pytest.raises(ValueError, match="generated for n = 4"):
        printed(0.7, 7)
    # the handle makes the code again for another count
    assert ad.grad(grid_of_a_passed_size)(0.7, 7) == pytest.approx(
        2 * 0.7 * 3.5, rel=1e-14)
