"""NumPy functions given a Python list read it as ``np.array(list)``, in
scalar code and array code; Python's own operators and math functions do
not (they join, repeat or refuse lists)."""

import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

X = np.array([0.5, -1.2, 2.0])


def norm_of_a_point(a, b):
    return np.linalg.norm([a * b, a - b, 1.0])


def sines_of_a_list(a):
    return np.sum(np.sin([a, 2 * a, 3.0]))


def chosen_from_a_list(a):
    return np.sum(np.where(a > 0, [a, a ** 2], 0.0))


@pytest.mark.parametrize("f, args", [
    (norm_of_a_point, (0.7, -1.2)),
    (sines_of_a_list, (0.7,)),
    (chosen_from_a_list, (0.7,)),
    (chosen_from_a_list, (-0.7,))])
def test_numpy_functions_of_lists_of_numbers(f, args):
    for argnum in range(len(args)):
        assert ad.grad(f, argnums=argnum)(*args) == pytest.approx(
            numeric_gradient(f, args, argnum), rel=1e-8)


def rows_summed(x):
    return np.sum(np.sum([x, 2 * x, x ** 2], axis=0) ** 2)


def largest_of_each(x):
    return np.max([x, np.sin(x)], axis=0)


def test_a_list_of_arrays_is_their_stack():
    np.testing.assert_allclose(ad.grad(rows_summed)(X),
                               numeric_gradient(rows_summed, (X,), 0),
                               rtol=1e-8)
    np.testing.assert_allclose(
        ad.jacobian(largest_of_each)(X),
        np.diag(np.where(X > np.sin(X), 1.0, np.cos(X))), rtol=1e-12)


def test_second_derivatives_through_a_list():
    # d2/da2 of a + a ** 3 + a * b, and the mixed one
    h = ad.hessian(lambda a, b: np.sum([a, a ** 3, a * b]),
                   argnums=(0, 1))(1.5, 2.0)
    np.testing.assert_allclose(np.array(h, dtype=float),
                               [[9.0, 1.0], [1.0, 0.0]])


def minus_a_list(a):
    return np.sum([a, a] - 1.0)


def math_of_a_list(a):
    return math.sin([a, 2.0])


def float_of_a_list(a):
    return float([a])


def sine_of_a_list_argument(a, x):
    return math.sin(a) * x


@pytest.mark.parametrize("f, message", [
    (minus_a_list, "[a, a] is a list of 2 items, not a number"),
    (math_of_a_list, "[a, 2.0] is a list of 2 items, not a number"),
    (float_of_a_list, "[a] is a list of 1 item, not a number"),
    (sine_of_a_list_argument, "a is a list of 2 items, not a number")])
def test_python_operators_and_math_refuse_lists(f, message):
    # (named by the code that gave the list: an argument's items are
    # symbols of ours, a_0 and a_1, which the user never wrote)
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        if f is sine_of_a_list_argument:
            ad.grad(f, argnums=1)([1.0, 2.0], 3.0)
        else:
            ad.grad(f)(0.7)
    assert caught.value.msg == message
    assert caught.value.lineno == f.__code__.co_firstlineno + 1
