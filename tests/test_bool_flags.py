"""A bool passed beside the arguments a derivative is taken with respect
to is a flag, as JAX takes it, and array code tests it as the user's does. (Scalar
code refused it as "a bool, not a real number", and array code whose
derivative multiplied by the flag crashed inside SymPy.)"""

import numpy as np
import pytest

import autodiff_ast as ad


def squared_or_cubed(x, square):
    return x ** 2 if square else x ** 3


def halved_first(x, halve=False):
    if halve:
        x = x / 2
    return np.sum(x ** 2)


X = np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize("flag, expected", [
    (True, 4.0), (False, 12.0), (np.True_, 4.0), (np.False_, 12.0)])
def test_a_flag_beside_a_number(flag, expected):
    assert ad.grad(squared_or_cubed)(2.0, flag) == expected
    assert ad.grad(squared_or_cubed)(2.0, square=flag) == expected
    assert ad.value_and_grad(squared_or_cubed)(2.0, flag)[1] == expected


def test_a_flag_beside_an_array():
    np.testing.assert_allclose(ad.grad(halved_first)(X), 2 * X)
    np.testing.assert_allclose(ad.grad(halved_first)(X, True), X / 2)
    np.testing.assert_allclose(ad.grad(halved_first)(X, halve=False), 2 * X)
    text = ad.source(ad.grad(halved_first), X, True)
    assert text.endswith("    if halve:\n"
                         "        return 0.5 * x\n"
                         "    return 2 * x\n")


def test_a_bool_taken_as_the_argument_is_refused():
    with pytest.raises(ad.InputError, match="grad requires floating-point "
                       "inputs, but argument x has dtype bool"):
        ad.grad(squared_or_cubed)(True, True)
