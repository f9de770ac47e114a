"""jvp and vjp called with arguments that do not fit the function are
refused with an autodiff_ast error that names the function and the fix,
never the generated code's TypeError: too few primals for jvp (JAX's
test_jvp_mismatched_arguments), several cotangents passed to vjp's
function (test_vjp_multiple_arguments_error_message)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad


def times(x, y):
    return x * y


def summed_product(x, y):
    return np.sum(x * y)


def with_default(x, y, scale=2.0):
    return scale * x * y


def twice(x):
    return 2 * x


@pytest.mark.parametrize("function, primal", [
    (times, np.float32(2.0)), (summed_product, np.ones(2))])
def test_jvp_with_too_few_primals_names_what_is_missing(function, primal):
    with pytest.raises(ad.InputError) as info:
        ad.jvp(function, (primal,), (primal,))
    assert str(info.value) == (
        f"jvp of {function.__name__} takes a primal and a tangent for each "
        "argument (x, y); got 1, none for y: pass ad.jvp(f, (x, y), "
        "(dx, dy)).")


def test_jvp_leaves_a_default_to_its_value_and_refuses_the_rest():
    assert ad.jvp(with_default, (1.0, 3.0), (1.0, 0.0)) == (6.0, 6.0)
    with pytest.raises(ad.InputError, match=(
            r"^jvp of with_default takes a primal and a tangent for each "
            r"argument \(x, y, scale\); got 1, none for y: ")):
        ad.jvp(with_default, (1.0,), (1.0,))


@pytest.mark.parametrize("function, primals", [
    (twice, (1.0,)), (summed_product, (np.ones(2), np.ones(2)))])
def test_vjp_function_called_with_two_cotangents_names_the_fix(function,
                                                               primals):
    _, pullback = ad.vjp(function, *primals)
    with pytest.raises(ad.InputError) as info:
        pullback(1.0, 1.0)
    name = function.__name__
    assert str(info.value) == (
        f"the vjp function of {name} takes one cotangent, in the structure "
        f"of {name}'s output; got 2 arguments: pass several as one tuple, "
        "vjp_fun((ct_0, ct_1)).")


def test_vjp_function_still_takes_its_one_cotangent():
    _, pullback = ad.vjp(twice, 1.0)
    assert pullback(1.0) == (2.0,)
    _, pullback = ad.vjp(summed_product, np.ones(2), np.arange(2.0))
    cotangents = pullback(1.0)
    np.testing.assert_array_equal(cotangents[0], [0.0, 1.0])
    np.testing.assert_array_equal(cotangents[1], [1.0, 1.0])
