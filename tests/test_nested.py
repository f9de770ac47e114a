"""Derivatives called inside a function being differentiated, as JAX
composes its transforms: Hessian-vector products by grad of a dot with
grad, by grad of a jvp, and through a gradient made before; the inner
derivative's generated code is inlined and differentiated again."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference

X = np.array([0.3, -0.2, 0.7])
V = np.array([1.0, 0.5, -2.0])


def tanh_energy(x):
    return np.sum(np.tanh(x) ** 2 * np.arange(1.0, 4.0))


def hessian_of_energy(x):
    """tanh_energy's Hessian, diagonal: d2/dx2 of tanh(x)**2 times k."""
    t = np.tanh(x)
    return np.diag(np.arange(1.0, 4.0) * 2 * (1 - t ** 2) * (1 - 3 * t ** 2))


def hvp_by_grad_of_grad(f, x, v):
    return ad.grad(lambda x: np.vdot(ad.grad(f)(x), v))(x)


def hvp_by_grad_of_jvp(f, x, v):
    return ad.grad(lambda x: ad.jvp(f, (x,), (v,))[1])(x)


grad_energy = ad.grad(tanh_energy)


def dot_with_gradient(x):
    return np.dot(grad_energy(x), V)


def sine_times_exp(x):
    return np.sin(x) * np.exp(x)


def scalar_hvp(x, v):
    return ad.grad(lambda x: ad.grad(sine_times_exp)(x) * v)(x)


def value_and_slope(x):
    value, slope = ad.value_and_grad(sine_times_exp)(x)
    return value * slope


def curvature_sum(x):
    return np.sum(ad.hessian(tanh_energy)(x))


def computed_argnums(x, y):
    return ad.grad(np.multiply, argnums=(x > 0) * 1)(x, y)


def line_of(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


@pytest.mark.parametrize("hvp", [hvp_by_grad_of_grad, hvp_by_grad_of_jvp])
def test_hessian_vector_products_of_array_code(hvp):
    expected = hessian_of_energy(X) @ V
    np.testing.assert_allclose(hvp(tanh_energy, X, V), expected, rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(tanh_energy)(X) @ V, expected,
                               rtol=1e-12)


def test_a_gradient_made_before_is_differentiated_where_it_is_called():
    np.testing.assert_allclose(ad.grad(dot_with_gradient)(X),
                               hessian_of_energy(X) @ V, rtol=1e-12)
    # The same code serves another size, as the gradient's does.
    x = np.linspace(-1.0, 1.0, 3)
    np.testing.assert_allclose(ad.grad(dot_with_gradient)(x),
                               hessian_of_energy(x) @ V, rtol=1e-12)
    source = ad.source(ad.grad(dot_with_gradient), X)
    assert "np.tanh(x)" in source and "grad_energy" not in source


def test_scalar_code_inside():
    second = ad.derivative(sine_times_exp, 2)(0.3)
    assert scalar_hvp(0.3, 2.0) == pytest.approx(2.0 * second, rel=1e-14)
    assert hvp_by_grad_of_jvp(sine_times_exp, 0.3, 2.0) == pytest.approx(
        2.0 * second, rel=1e-14)
    assert ad.grad(value_and_slope)(0.4) == pytest.approx(
        central_difference(value_and_slope, (0.4,), 0), rel=1e-9)


def x_times_slope_of_x_plus_y(x):
    parts = [x]  # (a list: array code)

    def inner(y):
        return parts[0] + y
    return parts[0] * ad.grad(inner)(1.0)


def slope_counted(x):
    parts = [x]

    def inner(y, n):
        total = 0.0
        for _ in range(n):
            total = total + parts[0] * y
        return total
    return ad.grad(inner)(2, 3)


def test_a_literal_in_array_code_is_a_float_where_it_is_differentiated():
    # Lowering keeps 1.0 as the exact 1: the derivative inside was
    # generated for an int64 and refused it ("grad requires
    # floating-point inputs"). The count n stays an int.
    assert ad.grad(x_times_slope_of_x_plus_y)(1.5) == 1.0
    assert ad.grad(slope_counted)(1.5) == 3.0
    assert ad.grad(slope_counted)(np.float32(1.5)) == 3.0


def test_a_hessian_inside():
    gradient = ad.grad(curvature_sum)(X)
    t = np.tanh(X)
    # d/dx of 2k (1 - t^2)(1 - 3t^2) = 2k (1 - t^2) (12 t^3 - 8 t)
    expected = np.arange(1.0, 4.0) * 2 * (1 - t ** 2) * (12 * t ** 3 - 8 * t)
    np.testing.assert_allclose(gradient, expected, rtol=1e-12)


def test_options_of_a_derivative_inside_must_be_known():
    with pytest.raises(ad.UnsupportedCodeError) as error:
        ad.grad(computed_argnums)(0.5, 2.0)
    assert str(error.value).startswith(
        "ad.grad(...) inside a function being differentiated takes what is "
        "known before it runs (a function, argnums), not values computed "
        "from its arguments")
    assert f"test_nested.py:{line_of(computed_argnums, 'argnums=')}" in \
        str(error.value)


def with_a_local_int_derivative(x, s):
    def inner(y):
        return s * y ** 2
    return ad.grad(inner, allow_int=True)(x)


def test_a_derivative_with_allow_int_inside_is_refused_at_its_call():
    # (it was an AssertionError, and before that "'IntegerZeros' object
    # has no attribute '__code__'")
    with pytest.raises(ad.UnsupportedCodeError) as error:
        ad.grad(with_a_local_int_derivative)(1.5, 2.0)
    line = line_of(with_a_local_int_derivative, "allow_int=True")
    message = str(error.value)
    assert message.startswith(
        "a derivative made with allow_int=True is not supported inside a "
        "function being differentiated: leave allow_int out and pass the "
        "int arguments as floats (their derivatives are zero) (")
    assert message.endswith(f"test_nested.py:{line})")


SCALES = [2.0]  # (a list: its item is baked into the code, and checked)


def scaled_cube(x):
    return x ** 3 * SCALES[0]


d_scaled_cube = ad.grad(scaled_cube)


def slopes_by_map(x):
    return sum(map(d_scaled_cube, [x, 2 * x]))


def test_a_derivative_called_through_map_keeps_what_its_code_baked_in():
    # map() calls d_scaled_cube without its name: its code was inlined
    # without the values it baked in, so a changed SCALES[0] went unseen
    # (90, the old value, where 135 is right).
    gradient = ad.grad(slopes_by_map)
    assert gradient(1.5) == pytest.approx(2.0 * 6 * 1.5 * 5, rel=1e-15)
    SCALES[0] = 3.0
    try:
        assert gradient(1.5) == pytest.approx(3.0 * 6 * 1.5 * 5, rel=1e-15)
    finally:
        SCALES[0] = 2.0


def wave(x):
    return np.sin(x) * 2.0


WEIGHTS = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 0.0], [0.7, 0.2, 1.5]])


def weighted_jacobian(x):
    # wave's Jacobian at an array is the diagonal matrix diag(2 cos x),
    # as JAX's (the scalar code alone computes the vector 2 cos x, which
    # broadcasts against WEIGHTS to another sum)
    return np.sum(ad.jacobian(wave)(x) * WEIGHTS)


def test_a_jacobian_of_elementwise_code_inside_has_jaxs_shape():
    assert weighted_jacobian(X) == pytest.approx(
        np.sum(2 * np.cos(X) * np.diag(WEIGHTS)), rel=1e-14)
    np.testing.assert_allclose(ad.grad(weighted_jacobian)(X),
                               -2 * np.sin(X) * np.diag(WEIGHTS),
                               rtol=1e-13)


def sine_times(x):
    return np.sin(x) * x


def pulled_back_weights(x, v):
    out, pull = ad.vjp(sine_times, x)
    (cotangent,) = pull(v)
    return np.sum(cotangent * x)


def pulled_back_scalar(x):
    out, pull = ad.vjp(sine_times, x)
    return pull(1.0)[0] * out


def split_loss(params):
    return np.sum(params["w"] ** 2) * params["b"], {"b": params["b"]}


def pulled_back_dict(params):
    value, pull, aux = ad.vjp(split_loss, params, has_aux=True)
    (cotangent,) = pull(2.0)
    return cotangent["w"] @ params["w"] + aux["b"] * value


def test_vjp_called_inside_is_differentiated():
    # vjp's pullback is the gradient of the cotangent's dot product with
    # the output; called inside, its generated code is inlined.
    x, v = np.array([0.3, 1.2]), np.array([1.0, -2.0])
    first = np.cos(x) * x + np.sin(x)
    second = 2 * np.cos(x) - np.sin(x) * x
    np.testing.assert_allclose(ad.grad(pulled_back_weights)(x, v),
                               v * (second * x + first), rtol=1e-14)
    t = 0.7
    f, df = np.sin(t) * t, np.cos(t) * t + np.sin(t)
    d2f = 2 * np.cos(t) - np.sin(t) * t
    assert ad.grad(pulled_back_scalar)(t) == pytest.approx(
        d2f * f + df ** 2, rel=1e-14)
    params = {"w": np.array([0.5, -1.0]), "b": 1.5}
    # (2 * 2 b w) . w + b * (|w|^2 b) = 4 b |w|^2 + b^2 |w|^2
    b, w = params["b"], params["w"]
    gradient = ad.grad(pulled_back_dict)(params)
    np.testing.assert_allclose(gradient["w"], (8 * b + 2 * b ** 2) * w,
                               rtol=1e-14)
    assert gradient["b"] == pytest.approx((4 + 2 * b) * (w @ w), rel=1e-14)
