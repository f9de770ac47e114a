"""Derivatives come back in their arguments' types whichever pipeline
made them: a Python float for Python floats (and ints), a NumPy scalar
for NumPy scalars and 0-d arrays, float32 for float32.

``written_out`` is scalar code; ``stepped`` loops over a count it is
passed, which only array lowering keeps as a loop.
"""

import numpy as np
import optree
import pytest

import autodiff_ast as ad
from autodiff_ast._array_transforms import ArrayTransform
from autodiff_ast._float_handle import transform_of


def written_out(x, n=3):
    return x * x * n


def stepped(x, n=3):
    for _ in range(n):
        x = x * x
    return x


POINTS = [1.5, 2, np.float64(1.5), np.float32(1.5), np.array(1.5),
          np.array([1.5, 2.0])]
TRANSFORMS = [ad.grad, ad.value_and_grad, ad.hessian, ad.jacobian]


@pytest.mark.parametrize("transform", TRANSFORMS,
                         ids=lambda t: t.__name__)
@pytest.mark.parametrize("x", POINTS, ids=repr)
def test_array_code_gives_the_types_scalar_code_gives(transform, x):
    assert not isinstance(transform(written_out), ArrayTransform)
    assert isinstance(transform_of(transform(stepped)), ArrayTransform)
    expected = optree.tree_leaves(transform(written_out)(x))
    got = optree.tree_leaves(transform(stepped)(x))
    assert [type(leaf) for leaf in got] == [type(leaf) for leaf in expected]
    assert [np.result_type(leaf) for leaf in got] == [
        np.result_type(leaf) for leaf in expected]


@pytest.mark.parametrize("x", [1.5, 2])
def test_value_and_grad_of_array_code_at_a_float(x):
    value, gradient = ad.value_and_grad(stepped)(x)
    # x ** 8 and 8 x ** 7
    assert (type(value), type(gradient)) == (float, float)
    assert value == pytest.approx(float(x) ** 8)
    assert gradient == pytest.approx(8 * float(x) ** 7)


SCALE64 = np.float64(2.0)


def kinked_steps(x, n=2):
    for _ in range(n):
        x = np.where(x > 0, x ** 2, -x)
    return x


def scaled_steps(x, n=2):
    for _ in range(n):
        x = SCALE64 * np.sin(x)
    return x


@pytest.mark.parametrize("x", [0.7, np.float64(0.7), np.float32(0.7),
                               np.array(0.7), np.array(0.7, np.float32)],
                         ids=repr)
@pytest.mark.parametrize("function", [kinked_steps, scaled_steps],
                         ids=lambda f: f.__name__)
def test_kept_loops_give_values_as_computed_and_derivatives_as_scalar_code(
        function, x):
    assert isinstance(transform_of(ad.grad(function)), ArrayTransform)
    number = float if type(x) is float else np.asarray(x).dtype.type
    computed = function(x)
    value, gradient = ad.value_and_grad(function)(x)
    # the value as the function computes it: np.where's 0-d array, the
    # float64 global's np.float64 at a Python float
    assert type(value) is type(computed) and value == computed
    assert np.result_type(value) == np.result_type(computed)
    # each derivative in its argument's type, a NumPy number for a 0-d
    # array as for a NumPy number
    hessian = ad.hessian(function)(x)
    assert (type(gradient), type(hessian)) == (number, number)
    # a jvp's tangent in its value's type, as JAX's
    value, tangent = ad.jvp(function, (x,), (np.float64(1.0),))
    assert np.result_type(tangent) == np.result_type(value)
    # the numbers themselves: against differences of the function
    step = 1e-6 if number is not np.float32 else 1e-3
    x64 = float(x)
    slope = (function(x64 + step) - function(x64 - step)) / (2 * step)
    curve = (function(x64 + step) - 2 * function(x64)
             + function(x64 - step)) / step ** 2
    rtol = 1e-6 if number is not np.float32 else 1e-3
    assert float(gradient) == pytest.approx(float(slope), rel=rtol)
    assert float(tangent) == pytest.approx(float(slope), rel=rtol)
    assert float(hessian) == pytest.approx(float(curve), rel=1e-3)


def kinked_by_a_list(x):
    parts = [x ** 2, -x]  # (a list: array code, without a loop)
    return np.where(x > 0, parts[0], parts[1])


@pytest.mark.parametrize("x", [np.float64(0.7), np.float32(0.7),
                               np.array(0.7), np.array(0.7, np.float32)],
                         ids=repr)
@pytest.mark.parametrize("transform", [ad.jacfwd, ad.jacobian, ad.hessian],
                         ids=lambda t: t.__name__)
def test_jacobians_at_a_numpy_number_are_numpy_numbers(transform, x):
    # jacfwd's code returns np.where's 0-d array: it came back as one.
    number = np.asarray(x).dtype.type
    got = transform(kinked_by_a_list)(x)
    assert type(got) is number
    assert got == (2.0 if transform is ad.hessian else number(1.4))


def constant_by_a_list(x):
    parts = [x]  # (array code)
    return 3.0 + parts[0] * 0.0


@pytest.mark.parametrize("x", [0.5, np.float64(0.5), np.float32(0.5)],
                         ids=repr)
def test_a_constant_value_is_the_float_the_function_returns(x):
    # Its 3.0 was an exact 3 in lowering, and the value came back int 3.
    value, _ = ad.value_and_grad(constant_by_a_list)(x)
    jvp_value, _ = ad.jvp(constant_by_a_list, (x,), (np.ones_like(x),))
    vjp_value, _ = ad.vjp(constant_by_a_list, x)
    for got in (value, jvp_value, vjp_value):
        assert isinstance(got, float) and got == 3.0
    assert ad.source(ad.value_and_grad(constant_by_a_list), 0.5).endswith(
        "    return 3.0, 0.0\n")


MATRIX = np.arange(6.0).reshape(2, 3)


def bilinear(x, y):
    return np.sum(x * y)


def linear(x):
    return MATRIX @ x


def transposed(x):
    return x @ MATRIX


def test_a_derivative_is_never_the_callers_array():
    # Changing a gradient in place (clipping it) must not change the
    # arguments or the globals it equals.
    x, y = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 4.0])
    gx, gy = ad.grad(bilinear, (0, 1))(x, y)
    np.testing.assert_array_equal(gx, y)
    np.testing.assert_array_equal(gy, x)
    assert not np.shares_memory(gx, y) and not np.shares_memory(gy, x)
    assert ad.source(ad.grad(bilinear, (0, 1)), x, y).splitlines()[-3:] == [
        "    grad_x = np.copy(y)", "    grad_y = np.copy(x)",
        "    return grad_x, grad_y"]
    for function, at in ((linear, x), (transposed, np.ones(2))):
        jacobian = ad.jacobian(function)(at)
        expected = MATRIX if function is linear else MATRIX.T
        np.testing.assert_array_equal(jacobian, expected)
        assert not np.shares_memory(jacobian, MATRIX)
    _, tangent = ad.jvp(lambda v: v, (x,), (y,))
    np.testing.assert_array_equal(tangent, y)
    assert not np.shares_memory(tangent, y)


def sine_product(x, y):
    return np.sum(x * y) + np.sum(np.sin(x) * y)


def test_equal_blocks_of_a_hessian_are_two_arrays():
    x, y = np.array([0.3, 0.5]), np.array([1.0, 2.0])
    (xx, xy), (yx, yy) = ad.hessian(sine_product, (0, 1))(x, y)
    np.testing.assert_allclose(xy, np.diag(np.cos(x) + 1), rtol=1e-15)
    np.testing.assert_array_equal(xy, yx)
    assert not np.shares_memory(xy, yx)
