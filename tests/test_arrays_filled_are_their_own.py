"""Arrays generated code fills in place are each their own: two made
alike (``np.copy(t)`` twice, for two tangents a loop carries from one
start) are not one value named once (``_array_passes._shared``)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_jacobian


def doubled_row(y0, h):
    n = 10
    Y = np.zeros(n + 1)
    Y[0] = y0
    for i in range(n):
        Y[i + 1] = np.sin(Y[i]) + h
        Y[i] = Y[i] * 2.0
    return np.sum(Y ** 3)


def test_two_tangents_starting_alike_are_two_arrays():
    # The Hessian carries two tangents of Y from one start; the code
    # shared their np.copy(...) as one array filled twice per step (d65358e
    # to here: 1609151.8 for 18.7445).
    args = (0.3, 0.1)
    expected = numeric_jacobian(ad.grad(doubled_row), args, 0)
    assert ad.hessian(doubled_row)(*args) == pytest.approx(expected,
                                                           rel=1e-7)
    source = ad.source(ad.hessian(doubled_row), *args)
    assert source.count("= np.copy(Y_tangent)") == 2


def row_from_the_one_before(y0, h):
    Y = np.zeros(10) + 0.5
    Y[0] = y0
    for i in range(10):
        Y[i] = np.sin(Y[i - 1]) + h * Y[i]
    return np.sum(Y ** 3)


def test_a_hessian_in_both_arguments_of_a_loop_filling_what_it_reads():
    args = (0.7, 0.3)
    hessian = ad.hessian(row_from_the_one_before, (0, 1))(*args)
    for argnum in (0, 1):
        expected = numeric_jacobian(ad.grad(row_from_the_one_before), args,
                                    argnum)
        assert hessian[0][argnum] == pytest.approx(expected, rel=1e-7)
    # (this one was 0.0166 for 0.0434)
    assert ad.hessian(row_from_the_one_before)(*args) == pytest.approx(
        hessian[0][0], rel=1e-12)
