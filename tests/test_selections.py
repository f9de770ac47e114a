"""Selections on one condition in a sum or a product made one selection
(``_selections``): the gradient of a store through a mask computes its
comparison once, in one np.where, not once more as a step."""

from __future__ import annotations

import numpy as np
import sympy as sp

import autodiff_ast as ad
from autodiff_ast._rules import where
from autodiff_ast._selections import merged_selections
from helpers import numeric_gradient

x, y, t = sp.symbols("x y t", real=True)
C = y > 2.5


def test_terms_and_factors_on_one_condition_are_one_selection():
    assert merged_selections(where(C, 2.5, y) + 2 * x * where(C, 0, 1)) \
        == where(C, 2.5, y + 2 * x)
    assert merged_selections(2 * where(C, 2.5, y) * where(C, 0, 1)) \
        == 2 * where(C, 0, y)
    assert merged_selections(where(C, 0, 2 * where(C, 2.5, y))) \
        == where(C, 0, 2 * y)


def test_a_selection_that_keeps_a_value_away_stays():
    # a divisor kept from 0, a function's argument kept in its domain, a
    # branch that is no polynomial: deciding them would compute them where
    # they were not selected
    for expr in (where(C, 0, t / where(C, 1, x)),
                 where(C, 0, sp.log(where(C, 1, x))),
                 where(C, 0, 1) * sp.sqrt(x),
                 where(C, sp.log(x), 0) + where(C, 0, 1)):
        assert merged_selections(expr) == expr


def clipped(x):
    y = 2 * x
    y[y > 2.5] = 2.5
    return np.sum(y ** 2) / 2


def test_a_store_through_a_mask_derives_to_one_where():
    gradient = ad.grad(clipped)
    x0 = np.array([0.3, -2.0, 1.5, 0.9])
    assert ad.source(gradient, x0).split('"""')[-1] == (
        "\n    y = 2 * x\n    return 2 * np.where(y > 2.5, 0, y)\n")
    np.testing.assert_allclose(gradient(x0),
                               numeric_gradient(clipped, (x0,), 0),
                               rtol=1e-7, atol=1e-8)
