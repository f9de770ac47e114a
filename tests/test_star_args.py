"""Functions of ``*args``, differentiated at the arguments each call passes.

As in JAX (whose api tests write ``def f(*args)`` with ``argnums=(0, 1)``),
each positional argument a call passes is a parameter that ``argnums``
count; the derivative is made for each count of arguments.
"""

import numpy as np
import pytest

import autodiff_ast as ad


def sum_of_squares_of_each(*ws):
    return sum(np.sum(w ** 2) for w in ws)


def cubes(*xs):
    return sum(x ** 3 for x in xs)


def scaled(a, *rest):
    return a * sum(r ** 2 for r in rest)


def with_options(*xs, power=2):
    return sum(x ** power for x in xs)


def test_arrays_passed_as_star_args():
    w0, w1 = np.ones(2), np.array([1.0, -2.0])
    g0, g1 = ad.grad(sum_of_squares_of_each, argnums=(0, 1))(w0, w1)
    np.testing.assert_array_equal(g0, 2 * w0)
    np.testing.assert_array_equal(g1, 2 * w1)
    g = ad.grad(sum_of_squares_of_each)
    np.testing.assert_array_equal(g(w1), 2 * w1)
    np.testing.assert_array_equal(g(w1, w0, w0), 2 * w1)


def test_numbers_passed_as_star_args_each_count():
    assert ad.grad(cubes)(2.0) == 12.0
    assert ad.grad(cubes, argnums=1)(1.0, 2.0) == 12.0
    assert ad.grad(cubes, argnums=-1)(1.0, 2.0, 3.0) == 27.0
    assert ad.value_and_grad(cubes, argnums=(0, 1))(1.0, 2.0) == (
        9.0, (3.0, 12.0))
    assert ad.hessian(cubes, argnums=(0, 1))(1.0, 2.0) == (
        (6.0, 0.0), (0.0, 12.0))
    assert ad.grad(ad.grad(cubes))(2.0, 5.0) == 12.0
    assert ad.grad(scaled, argnums=(0, 2))(2.0, 1.0, 3.0) == (10.0, 12.0)


def test_the_code_names_each_argument():
    source = ad.source(ad.grad(cubes, argnums=1), 1.0, 2.0)
    assert source.startswith("def dcubes_dxs_1(xs_0, xs_1):\n")
    assert "return 3 * xs_1 ** 2" in source


def test_argnums_beyond_the_arguments_passed():
    with pytest.raises(ad.ArgnumsError) as caught:
        ad.grad(cubes, argnums=2)(1.0, 2.0)
    assert str(caught.value).startswith(
        "argnums=2 is out of range for this call: cubes (")
    assert str(caught.value).endswith(
        "was called with 2 positional arguments (xs_0, xs_1), and argnums "
        "count the arguments passed, as in JAX. Pass the argument it names.")


def test_keyword_only_options_after_star_args_are_refused():
    with pytest.raises(ad.NoSourceError) as caught:
        ad.grad(with_options)(1.0, 2.0)
    assert str(caught.value) == (
        "cannot differentiate with_options: it takes keyword-only arguments "
        "after *args. Make them positional, before *args, or bind them "
        "with functools.partial.")


def first_squared(*xs):
    return xs[0] ** 2


def test_the_tuple_of_star_args_is_read_by_item():
    assert ad.grad(first_squared)(3.0, 1.0) == 6.0
    assert ad.grad(first_squared, argnums=1)(3.0, 1.0) == 0.0
