"""The public API: grad, value_and_grad, derivative, source, argnums, aux."""

from __future__ import annotations

import functools
import inspect
import math
import pathlib
import traceback

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference

THIS_FILE = pathlib.Path(__file__)


def product(x, y, z=2.0):
    return x * y ** 2 * z + math.sin(x)


def with_aux(x, y):
    value = x ** 2 * y
    return value, value + 1


def test_argnums_int_gives_one_gradient():
    assert ad.grad(product)(1.0, 3.0) == pytest.approx(
        9 * 2 + math.cos(1.0))
    assert ad.grad(product, argnums=1)(1.0, 3.0) == pytest.approx(12.0)


def test_argnums_tuple_gives_a_tuple_in_the_order_asked():
    gradient = ad.grad(product, argnums=(1, 0))(1.0, 3.0)
    assert isinstance(gradient, tuple) and len(gradient) == 2
    assert gradient[0] == pytest.approx(12.0)
    assert gradient[1] == pytest.approx(18 + math.cos(1.0))


def test_argnums_tuple_of_one_still_gives_a_tuple():
    gradient = ad.grad(product, argnums=(0,))(1.0, 3.0)
    assert isinstance(gradient, tuple) and len(gradient) == 1


def test_negative_argnums_count_from_the_end():
    assert ad.grad(product, argnums=-1)(1.0, 3.0, 2.0) == pytest.approx(9.0)


@pytest.mark.parametrize("argnums, message", [
    (3, "argnums=3 is out of range: product ({}) takes 3 positional "
        "arguments (x, y, z); valid indices are 0..2 or -3..-1."),
    (-4, "argnums=-4 is out of range: product ({}) takes 3 positional "
         "arguments (x, y, z); valid indices are 0..2 or -3..-1."),
    ((0, 0), "argnums=(0, 0) names argument 0 (x) twice: each argument is "
             "differentiated once. Pass argnums=(0,)."),
    ((0, -3), "argnums=(0, -3) names argument 0 (x) twice: each argument is "
              "differentiated once. Pass argnums=(0,)."),
    ((), "argnums=() selects no argument to differentiate. product ({}) "
         "takes 3 positional arguments (x, y, z): pass at least one index, "
         "e.g. argnums=0."),
    ("x", "argnums must be an int or a tuple of ints, got 'x'. product ({}) "
          "takes 3 positional arguments (x, y, z): pass e.g. argnums=0 or "
          "argnums=(0, 1)."),
    (1.0, "argnums must be an int or a tuple of ints, got 1.0. product ({}) "
          "takes 3 positional arguments (x, y, z): pass e.g. argnums=0 or "
          "argnums=(0, 1)."),
    (True, "argnums must be an int or a tuple of ints, got True. product ({})"
           " takes 3 positional arguments (x, y, z): pass e.g. argnums=0 or "
           "argnums=(0, 1)."),
])
def test_bad_argnums_are_explained(argnums, message):
    line = inspect.getsourcelines(product)[1]
    location = f"{THIS_FILE.relative_to(pathlib.Path.cwd())}:{line}" \
        if THIS_FILE.is_relative_to(pathlib.Path.cwd()) else \
        f"{THIS_FILE}:{line}"
    with pytest.raises(ad.ArgnumsError) as info:
        ad.grad(product, argnums=argnums)
    assert str(info.value) == message.format(location)
    assert isinstance(info.value, (TypeError, ValueError))


def test_has_aux_passes_aux_through():
    gradient, aux = ad.grad(with_aux, has_aux=True)(2.0, 3.0)
    assert gradient == 12.0 and aux == 13.0


def test_value_and_grad_returns_value_and_gradient():
    value, gradient = ad.value_and_grad(product, argnums=(0, 1))(1.0, 3.0)
    assert value == pytest.approx(product(1.0, 3.0))
    assert gradient[0] == pytest.approx(18 + math.cos(1.0))
    assert gradient[1] == pytest.approx(12.0)


def test_value_and_grad_with_aux():
    (value, aux), gradient = ad.value_and_grad(with_aux, has_aux=True)(
        2.0, 3.0)
    assert (value, aux, gradient) == (12.0, 13.0, 12.0)


def test_value_and_grad_computes_shared_work_once():
    source = ad.source(ad.value_and_grad(lambda x: np.exp(np.sin(x))))
    assert source.count("np.sin(x)") == 1
    assert source.count("np.exp(") == 1


def test_decorator_forms():
    @ad.grad
    def bare(x):
        return x ** 3

    @ad.grad(argnums=1)
    def with_arguments(x, y):
        return x * y ** 2

    @ad.value_and_grad
    def both(x):
        return x ** 2

    assert bare(2.0) == 12.0
    assert with_arguments(2.0, 3.0) == 12.0
    assert both(3.0) == (9.0, 6.0)


def test_signature_keeps_names_and_defaults():
    gradient = ad.grad(product)
    assert str(inspect.signature(gradient)) == "(x, y, z=2.0)"
    assert gradient(1.0, 3.0) == gradient(1.0, 3.0, 2.0)


def test_getsource_is_the_generated_source():
    gradient = ad.grad(product)
    assert inspect.getsource(gradient) == ad.source(gradient)
    assert ad.source(gradient).startswith("def dproduct_dx(x, y, z=2.0):")


def test_docstring_names_the_function_its_line_and_argument():
    line = inspect.getsourcelines(product)[1]
    doc = ad.grad(product, argnums=1).__doc__
    assert doc.splitlines()[0] == "Derivative of product with respect to y."
    assert f"test_api.py:{line}." in doc
    second = ad.grad(ad.grad(product, argnums=1), argnums=0)
    assert second.__name__ == "d2product_dy_dx"
    assert second.__doc__.splitlines()[0] == (
        "Second derivative of product with respect to y, then x.")


def test_traceback_inside_generated_code_shows_its_lines():
    gradient = ad.grad(lambda x: math.log(x))
    # (NumPy errors raising: the retry as NumPy fails, and the first error,
    # Python's, is raised again with its lines)
    with pytest.raises(ZeroDivisionError) as info, \
            np.errstate(divide="raise"):
        gradient(0.0)
    frames = traceback.extract_tb(info.tb)
    assert frames[-1].filename.startswith("<autodiff_ast ")
    assert frames[-1].line == "return 1 / x"


def test_derivative_applies_grad_n_times():
    third = ad.derivative(np.sin, 3)
    assert third.__name__ == "d3sin_dx3"
    assert float(third(0.3)) == pytest.approx(-math.cos(0.3))
    assert ad.derivative(np.sin, 0) is np.sin
    with pytest.raises(ad.AutodiffError, match="n must be a non-negative"):
        ad.derivative(np.sin, -1)


def test_source_of_a_non_generated_function_is_an_error():
    with pytest.raises(ad.AutodiffError, match="was not generated by "
                       "autodiff_ast"):
        ad.source(product)


def test_derivative_is_a_thin_handle_over_the_generated_function():
    gradient = ad.grad(product)
    generated = gradient.__wrapped__
    assert generated.__code__.co_filename.startswith("<autodiff_ast ")
    assert inspect.getsource(gradient) == ad.source(gradient)
    assert inspect.signature(gradient) == inspect.signature(product)
    assert gradient.__name__ == generated.__name__ == "dproduct_dx"
    assert gradient.__qualname__ == "dproduct_dx"
    assert gradient(2.0, 3.0) == generated(2.0, 3.0)


def test_inner_function_with_closure():
    def make(scale):
        def scaled(x):
            return np.exp(scale * x)
        return scaled

    gradient = ad.grad(make(1.5))
    assert float(gradient(0.2)) == pytest.approx(1.5 * math.exp(0.3))


def test_mixed_partials_against_central_differences():
    dxy = ad.grad(ad.grad(product, argnums=0), argnums=1)
    dx = ad.grad(product, argnums=0)
    assert dxy(0.7, 1.3) == pytest.approx(
        central_difference(dx, (0.7, 1.3), 1), rel=1e-8)


def test_function_of_no_arguments_has_nothing_to_differentiate():
    def constant():
        return 1.0

    with pytest.raises(ad.ArgnumsError, match=r"constant \(.*\) takes no "
                       r"arguments: there is nothing to differentiate"):
        ad.grad(constant)


SCALE = 2.0


def scaled(x):
    return SCALE * x ** 2


def test_a_second_grad_of_the_same_function_is_not_generated_again():
    assert ad.grad(product) is ad.grad(product)
    assert ad.grad(np.tanh) is ad.grad(np.tanh)
    assert ad.grad(product, argnums=(0, 1)) is not ad.grad(product)


def test_a_derivative_reads_a_global_number_when_called():
    global SCALE
    before = ad.grad(scaled)
    assert before(1.0) == 4.0
    SCALE = 3.0
    try:
        assert before(1.0) == 6.0  # the handle the user already holds
        assert ad.grad(scaled) is before  # nothing to generate again
    finally:
        SCALE = 2.0


def test_changing_a_closure_cell_regenerates_the_derivative():
    factor = 2.0

    def closure(x):
        return factor * x

    assert ad.grad(closure)(1.0) == 2.0
    factor = 5.0
    assert ad.grad(closure)(1.0) == 5.0


MATRIX = np.array([[2.0, 1.0], [0.5, 3.0]])


def test_array_functions_are_differentiated_as_they_are():
    # As JAX's grad(jnp.sum): each through a generated function that calls
    # it, named by its arguments as NumPy names them.
    np.testing.assert_array_equal(ad.grad(np.sum)(np.ones(3)), np.ones(3))
    np.testing.assert_allclose(ad.grad(np.linalg.det)(MATRIX),
                               np.linalg.det(MATRIX)
                               * np.linalg.inv(MATRIX).T, rtol=1e-14)
    np.testing.assert_array_equal(ad.jacobian(np.cumsum)(np.ones(3)),
                                  np.tril(np.ones((3, 3))))
    np.testing.assert_allclose(
        ad.jacobian(np.linalg.solve, argnums=1)(MATRIX, np.ones(2)),
        np.linalg.inv(MATRIX), rtol=1e-14)
    np.testing.assert_array_equal(ad.hessian(np.mean)(np.ones(2)),
                                  np.zeros((2, 2)))
    # det's gradient, its cofactors: Jacobi's formula where det(a) != 0
    # (and from the SVD where a is singular).
    assert "        cofactors_a = det_a * np.linalg.inv(a).T\n" in ad.source(
        ad.grad(np.linalg.det), MATRIX)


def test_an_array_function_without_a_derivative_says_why():
    with pytest.raises(ad.NoSourceError) as caught:
        ad.grad(np.unique)
    assert str(caught.value) == (
        "np.unique gives an array whose size depends on the values, which a "
        "derivative cannot have (its shapes follow from the inputs' shapes): "
        "compute it outside the function and pass it in, or keep the shape "
        "with np.where(condition, x, 0)")


def scaled_sine(x, scale):
    return scale * math.sin(x)


def least_squares(w, X, y, lam=0.1):
    return np.sum((X @ w - y) ** 2) + lam * np.sum(w ** 2)


def squared_scaled_sine(x):
    half = functools.partial(scaled_sine, scale=0.5)
    return half(x) ** 2 + functools.partial(scaled_sine, x)(3.0)


def test_a_partial_is_differentiated_in_the_arguments_it_leaves_open():
    # As JAX's grad(functools.partial(f, ...)): the bound values are read
    # by the names of the parameters they bind.
    derivative = ad.grad(functools.partial(scaled_sine, scale=2.0))
    assert derivative(0.7) == pytest.approx(2 * math.cos(0.7), rel=1e-15)
    lines = ad.source(derivative).splitlines()
    assert lines[3].endswith(
        f"test_api.py:{scaled_sine.__code__.co_firstlineno}.")
    assert lines[-1] == "    return scale * math.cos(x)"
    by_position = ad.grad(functools.partial(scaled_sine, 0.7))
    assert by_position(2.0) == pytest.approx(math.sin(0.7), rel=1e-15)
    X, y, w = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1.0, 0.0]), \
        np.array([0.3, -0.2])
    fitted = functools.partial(least_squares, X=X, y=y)
    np.testing.assert_allclose(ad.grad(fitted)(w),
                               2 * X.T @ (X @ w - y) + 0.2 * w, rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(fitted)(w),
                               2 * X.T @ X + 0.2 * np.eye(2), rtol=1e-14)


def scaled_values(*values):
    return values[0]


def test_a_partial_of_a_lambda_and_of_a_function_of_args():
    derivative = ad.grad(functools.partial(lambda x, s: s * math.sin(x),
                                           s=2.0))
    assert derivative(0.7) == pytest.approx(2 * math.cos(0.7), rel=1e-15)
    with pytest.raises(ad.NoSourceError, match="the function it wraps takes "
                       r"\*args. Wrap it in a function that names its "
                       "arguments"):
        ad.grad(functools.partial(scaled_values, 1.0))


def test_a_partial_made_and_called_inside_a_function_is_inlined():
    assert ad.grad(squared_scaled_sine)(0.5) == pytest.approx(
        0.5 * math.sin(0.5) * math.cos(0.5) + 3.0 * math.cos(0.5),
        rel=1e-14)



def logged_sine(x):
    print("x is", x)
    return math.sin(x)


def test_print_is_left_out_of_derivatives(capsys):
    # Output, not part of the value (JAX prints its tracers there).
    derivative = ad.grad(logged_sine)
    assert derivative(0.5) == math.cos(0.5)
    assert ad.source(derivative).splitlines()[-1] == \
        "    return math.cos(x)"
    assert capsys.readouterr().out == ""


def test_argnums_may_be_any_integer_as_in_jax():
    assert ad.grad(product, np.int64(1))(1.0, 3.0) == pytest.approx(12.0)
    assert ad.grad(product, (np.int64(0), 1))(1.0, 3.0)[1] == \
        pytest.approx(12.0)
    with pytest.raises(ad.ArgnumsError, match="argnums must be an int"):
        ad.grad(product, np.True_)


def test_jax_keywords_at_the_values_implemented():
    # grad(f, holomorphic=False) and allow_int= are accepted, as JAX takes
    # them; complex derivatives are refused, naming the transform.
    x = np.array([1.0, -2.0])

    def squares(v):
        return np.sum(v ** 2)

    np.testing.assert_array_equal(
        ad.grad(squares, holomorphic=False, allow_int=True)(x), 2 * x)
    assert ad.value_and_grad(squares, allow_int=True)(x)[0] == 5.0
    np.testing.assert_array_equal(ad.hessian(squares, holomorphic=False)(x),
                                  2 * np.eye(2))
    np.testing.assert_array_equal(ad.jacfwd(squares, holomorphic=False)(x),
                                  2 * x)
    for transform in (ad.grad, ad.value_and_grad, ad.jacobian, ad.jacfwd,
                      ad.hessian):
        with pytest.raises(ad.InputError) as error:
            transform(squares, holomorphic=True)
        assert str(error.value) == (
            f"{transform.__name__}(holomorphic=True): autodiff_ast "
            "differentiates real-valued code only; differentiate the real "
            "and imaginary parts as real functions, or drop "
            "holomorphic=True.")


def summed_sine_times(x):
    return np.sum(np.sin(x) * x)


@pytest.mark.parametrize("x", [0.5, np.float32(0.5), np.array(0.5)],
                         ids=["float", "float32", "0-d array"])
def test_array_codes_gradient_at_a_number_is_named_a_derivative(x):
    # as scalar code names it, and as array code's second order is named;
    # at an array it is a gradient
    text = ad.source(ad.grad(summed_sine_times), x)
    assert text.startswith(
        'def dsummed_sine_times_dx(x):\n'
        '    """Derivative of summed_sine_times with respect to x.\n')
    assert ad.grad(summed_sine_times)(x) == pytest.approx(
        np.sin(0.5) + 0.5 * np.cos(0.5), rel=1e-6)
    assert ad.source(ad.grad(summed_sine_times), np.ones(2)).startswith(
        'def grad_summed_sine_times(x):\n'
        '    """Gradient of summed_sine_times with respect to x.\n')
