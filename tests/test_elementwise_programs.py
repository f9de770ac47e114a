"""Gradients of elementwise code that lowers to a program (a kept loop)
called with arrays: the derivative at each element, as scalar code's is
(README: "except for purely elementwise code, which is differentiated
elementwise"), not the refusal of a non-scalar output. Code that mixes
elements (a sum, an index) is still refused, as JAX refuses it."""

import numpy as np
import pytest

import autodiff_ast as ad

XS = np.array([-0.7, 0.2, 0.9, 1.6])


def horner(x, n=40):
    # sum of x ** k for k < 40, kept a loop (40 iterations)
    s = 0.0
    for _ in range(n):
        s = s * x + 1.0
    return s


def damped(x, y, n=30):
    s = x
    for _ in range(n):
        s = 0.5 * s + np.sin(y * s)
    return s


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_gradient_of_a_loop_at_an_array_is_the_derivative_at_each_element():
    exact = sum(k * XS ** (k - 1) for k in range(1, 40))
    np.testing.assert_allclose(ad.grad(horner)(XS), exact, rtol=1e-12)
    for x in XS:  # the same code serves numbers
        np.testing.assert_allclose(ad.grad(horner)(x),
                                   exact[list(XS).index(x)], rtol=1e-12)


def test_second_derivative_of_a_loop_at_an_array():
    exact = sum(k * (k - 1) * XS ** (k - 2) for k in range(2, 40))
    np.testing.assert_allclose(ad.grad(ad.grad(horner))(XS), exact,
                               rtol=1e-12)


def test_value_and_gradient_of_a_loop_at_an_array():
    value, grad = ad.value_and_grad(horner)(XS)
    np.testing.assert_allclose(value, horner(XS), rtol=1e-14)
    np.testing.assert_allclose(grad, central(horner, XS), rtol=1e-6)


def test_each_argument_of_an_elementwise_loop():
    y = np.array([0.3, -1.2, 0.8, 2.0])
    dx, dy = ad.grad(damped, argnums=(0, 1))(XS, y)
    np.testing.assert_allclose(dx, central(lambda x: damped(x, y), XS),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dy, central(lambda v: damped(XS, v), y),
                               rtol=1e-6, atol=1e-9)


def test_float32_elements_keep_their_dtype():
    grad = ad.grad(horner)(XS.astype(np.float32))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, ad.grad(horner)(XS), rtol=1e-4)


def mixing(x, n=3):
    s = x
    for _ in range(n):
        s = s + np.sum(s)
    return s


def test_a_loop_that_mixes_elements_is_still_refused():
    with pytest.raises(ad.OutputError) as info:
        ad.grad(mixing)(XS)
    assert str(info.value).startswith(
        "Gradient only defined for scalar-output functions. Output had "
        "shape: (4,). mixing (")


def test_the_generated_loop_carries_the_tangent():
    text = ad.source(ad.grad(horner), XS)
    assert text.endswith('''
    n_1 = x.shape[0]
    s = np.zeros(n_1)
    tangent_s = np.zeros(n_1)
    for _ in range(n):
        tangent_s = s + tangent_s * x
        s = s * x + 1
    return tangent_s
''')
