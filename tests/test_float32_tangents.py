"""float32 in, float32 out, in the generated code itself (not only after
the handle casts what it returns): a Jacobian's identity seed is an
``np.eye`` of the argument's dtype, a gradient's seed for a 0-d output is
an array of the output's dtype, and the count of ties that divides the
derivative of np.max/np.min is taken in that dtype (float32 / int64 is
float64 in NumPy). float64 code is written as before.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

FACTOR = np.array([[0.5, -1.0], [2.0, 0.25], [1.5, -0.5]], dtype=np.float32)
FORM = np.array([[2.0, 0.5, -1.0], [0.25, 3.0, 0.75], [1.5, -0.5, 1.0]],
                dtype=np.float32)


def row_maxima(x):
    return np.max(x, axis=1) * x[:, 0]


def largest_times_smallest(x):
    return np.max(x) * np.min(x ** 2) + np.sum(x ** 2)


def contracted(x):
    return np.sum(np.einsum("ij,jk->ik", x, FACTOR) ** 2)


def quadratic_form(x):
    return x @ FORM @ x


def _printed(fn, x):
    """The generated source for ``x``, exec'd as a user would, and what it
    returns at ``x``."""
    source = ad.source(fn, x)
    namespace = {"np": np, "FACTOR": FACTOR, "FORM": FORM}
    exec(source, namespace)
    name = source.split("(", 1)[0].removeprefix("def ")
    return source, namespace[name](x)


X = np.array([[0.5, 2.0, -1.0], [3.0, 3.0, 0.25]])


def test_a_jacobians_identity_seed_has_the_arguments_dtype():
    source, jacobian = _printed(ad.jacfwd(row_maxima), X.astype(np.float32))
    words = " ".join(source.split())  # the lines as one
    assert "np.eye(x.size, dtype=np.float32)" in words
    assert "np.sum(x_is_max, axis=1, dtype=np.float32)" in words
    assert jacobian.dtype == np.float32
    # Row 1 ties at its maximum: the tangent is split between the two.
    expected = np.zeros((2, 2, 3))
    expected[0, 0] = [2.0, 0.5, 0.0]
    expected[1, 1] = [4.5, 1.5, 0.0]
    np.testing.assert_allclose(jacobian, expected, rtol=1e-6)
    source64, jacobian64 = _printed(ad.jacfwd(row_maxima), X)
    assert "np.eye(x.size)" in source64 and "dtype" not in source64
    np.testing.assert_allclose(jacobian64, expected, rtol=1e-15)


def test_the_tangent_of_an_extremum_keeps_float32():
    x = X.astype(np.float32)
    value, tangent = ad.jvp(row_maxima, (x,), (np.ones_like(x),))
    assert value.dtype == tangent.dtype == np.float32
    np.testing.assert_allclose(tangent, [2.5, 6.0], rtol=1e-6)


@pytest.mark.parametrize("function", [largest_times_smallest, contracted])
def test_printed_hessians_and_gradients_are_float32(function):
    x = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    if function is contracted:
        x = np.array([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]], dtype=np.float32)
    _, gradient = _printed(ad.grad(function), x)
    source, hessian = _printed(ad.hessian(function), x)
    assert gradient.dtype == hessian.dtype == np.float32, source
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(gradient, numeric_gradient(
        function, (x64,), 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hessian, ad.hessian(function)(x64),
                               rtol=1e-5, atol=1e-5)


def _body(source):
    """The code after the docstring."""
    return source.split('"""')[-1]


def test_the_seed_of_a_0d_float32_output_is_float32():
    # The seed of x @ A @ x was np.broadcast_to(1, ()), an int64 array
    # (NumPy 2 keeps only Python numbers weak), which made the float32
    # gradient and Hessian float64 in the printed code. The seed of a
    # product of vectors is the number 1, which is not written at all.
    x = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    gradient_source, gradient = _printed(ad.grad(quadratic_form), x)
    hessian_source, hessian = _printed(ad.hessian(quadratic_form), x)
    assert _body(gradient_source) == "\n    return FORM @ x + x @ FORM\n"
    # (x's length is checked: the Hessian reads only FORM, and x @ FORM @ x
    # is defined only where x fits FORM)
    assert _body(hessian_source) == (
        "\n    if x.shape[0] != FORM.shape[0]:"
        "\n        raise ValueError("
        "\n            f'x of shape {x.shape} does not fit FORM of shape "
        "{FORM.shape}')"
        "\n    return FORM + FORM.T\n")
    assert gradient.dtype == hessian.dtype == np.float32
    np.testing.assert_array_equal(hessian, FORM + FORM.T)
    np.testing.assert_allclose(gradient, numeric_gradient(
        quadratic_form, (x.astype(np.float64),), 0), rtol=1e-5, atol=1e-5)
    # float64 code is the same code.
    source64, gradient64 = _printed(ad.grad(quadratic_form),
                                    x.astype(np.float64))
    assert _body(source64) == _body(gradient_source)
    assert gradient64.dtype == np.float64
