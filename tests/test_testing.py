"""autodiff_ast.testing.check_grads, as users call it in their own tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autodiff_ast.testing import check_grads


def model(x, y):
    return np.tanh(x * y) + np.log1p(x ** 2) * y


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_passes_on_smooth_functions(order):
    check_grads(model, (0.3, -1.2), order=order)
    check_grads(lambda x: math.exp(math.sin(x)), (0.7,), order=order)


def test_argnums_restricts_the_direction():
    check_grads(model, (0.3, -1.2), order=2, argnums=1)


def test_float32_uses_looser_default_tolerances():
    check_grads(model, (np.float32(0.3), np.float32(-1.2)), order=2)


def test_failure_names_order_point_and_both_values():
    # abs'(0) is 1 by convention; central differences give 0.
    with pytest.raises(AssertionError) as info:
        check_grads(np.abs, (0.0,))
    message = str(info.value)
    assert message.startswith("check_grads: the order-1 derivative of "
                              "absolute at (0.0,) along direction [1.] over "
                              "arguments (0,) is 1.0 (autodiff_ast) but 0.0 "
                              "by central differences of order 0")


def test_failure_at_a_higher_order():
    def kinked(x):
        return np.maximum(x, 0.0) ** 3   # central differences of f' at 0
                                         # see the kink in f''

    check_grads(kinked, (0.0,), order=1)
    with pytest.raises(AssertionError, match="the order-2 derivative"):
        check_grads(kinked, (0.0,), order=2)
