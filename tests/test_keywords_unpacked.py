"""Keywords unpacked into a call, ``f(x, **options)``, are passed as
Python passes them (once they were dropped, and the callee ran with its
defaults: a silent wrong value and derivative)."""

import numpy as np
import pytest

import autodiff_ast as ad

from helpers import assert_refused_at


def scaled(x, a=1.0, b=2.0):
    return a * x * b


OPTIONS = {"b": 3.0}


def scaled_by_global_options(x):
    return scaled(x, 2.0, **OPTIONS)


def twice_given(x):
    return scaled(x, b=1.0, **{"b": 2.0})


def spread_of_a_number(x):
    return scaled(x, **x)


def test_a_global_dict_of_options():
    assert ad.value_and_grad(scaled_by_global_options)(1.5) == (9.0, 6.0)


def test_a_local_function_and_a_numpy_function_take_them():
    def inner(x):
        def local(y, power=1):
            return y ** power
        return local(x, **{"power": 3}) + np.sum(
            np.cumsum(np.array([x, 2 * x]), **{"axis": 0}))

    assert ad.grad(inner)(2.0) == pytest.approx(3 * 4.0 + 1 + 3)


def test_a_keyword_given_twice_is_refused_as_python_refuses_it():
    assert_refused_at(lambda: ad.grad(twice_given)(1.0), twice_given, 1,
                      "scaled() got multiple values for keyword argument "
                      "'b'")


def test_only_a_dict_unpacks():
    assert_refused_at(lambda: ad.grad(spread_of_a_number)(1.0),
                      spread_of_a_number, 1, "keywords unpacked with ** "
                      "must be a dict with string keys, known when the "
                      "function is differentiated")
