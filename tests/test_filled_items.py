"""A state stepped item by item, whose gradient reads an item the same step
filled (``k * Y[i + 1, 0]`` in the next item's update), is differentiated
in O(n): the backward loop takes that item from the value filled, reads
the trajectory the forward loop ends with, and keeps no history of it.
Before, each backward step copied the trajectory as it was then (an
``(n, n + 1, 2)`` history, 4 GB at 16000 steps)."""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._filled_items import float64_arrays, items_as_filled
from helpers import numeric_gradient


def damped(k, c, n=5):
    Y = np.zeros((n + 1, 2))
    Y[0] = [1.0, 0.0]
    for i in range(n):
        Y[i + 1, 0] = Y[i, 0] + 0.1 * Y[i, 1]
        Y[i + 1, 1] = Y[i, 1] - 0.1 * (k * Y[i + 1, 0] + c * Y[i, 1])
    return np.sum(Y[:, 0] ** 2)


def damped_state(state, n=40):
    Y = np.zeros((n + 1, 2))
    Y[0, 0] = state[0]
    Y[0, 1] = state[1]
    for i in range(n):
        Y[i + 1, 0] = Y[i, 0] + 0.1 * Y[i, 1]
        Y[i + 1, 1] = Y[i, 1] - 0.1 * (state[2] * Y[i + 1, 0]
                                       + state[3] * Y[i, 1])
    return np.sum(Y[:, 0] ** 2)


STEP_BACK = """\
    for i_1 in reversed(range(n)):
        Y_part_3 = Y[i_1, 0]
        Y_part_1_1 = Y[i_1, 1]
        index_1_1 = i_1 + 1
        Y_1_part_1_1_1 = 0.1 * Y_part_1_1 + Y_part_3
"""


@pytest.mark.parametrize("n", [3, 40, 400])
def test_the_gradient_reads_the_item_filled_and_keeps_no_history(n):
    gradient = ad.grad(damped, argnums=(0, 1))
    text = ad.source(gradient, 1.3, 0.2, n)
    assert "history" not in text and "np.copy" not in text
    assert STEP_BACK in text
    expected = [numeric_gradient(lambda k: damped(k, 0.2, n), (1.3,), 0),
                numeric_gradient(lambda c: damped(1.3, c, n), (0.2,), 0)]
    np.testing.assert_allclose(gradient(1.3, 0.2, n), expected, rtol=1e-7)


def test_a_state_vector_argument_the_same():
    state = np.array([1.0, 0.0, 1.3, 0.2])
    gradient = ad.grad(damped_state)
    assert "history" not in ad.source(gradient, state)
    np.testing.assert_allclose(gradient(state), numeric_gradient(
        damped_state, (state,), 0), rtol=1e-7)


def test_the_hessian_keeps_no_history_either():
    hessian = ad.hessian(damped, argnums=(0, 1))
    text = ad.source(hessian, 1.3, 0.2, 60)
    assert "history" not in text and "np.copy" not in text
    step = 1e-5
    gradient = ad.grad(damped, argnums=(0, 1))
    rows = [(np.array(gradient(1.3 + step, 0.2, 60))
             - np.array(gradient(1.3 - step, 0.2, 60))) / (2 * step),
            (np.array(gradient(1.3, 0.2 + step, 60))
             - np.array(gradient(1.3, 0.2 - step, 60))) / (2 * step)]
    np.testing.assert_allclose(hessian(1.3, 0.2, 60), rows, rtol=1e-6)


def _passed(code, numbers):
    body = ast.parse(textwrap.dedent(code)).body
    return ast.unparse(ast.Module(items_as_filled(
        body, float64_arrays(body), frozenset(numbers),
        frozenset(numbers)), []))


def test_only_an_item_of_a_float64_array_just_filled_is_forwarded():
    assert _passed("""\
        Y = np.zeros((4, 2))
        for i in range(3):
            Y_1 = np.copy(Y)
            Y_1[i + 1, 0] = Y[i, 0] + 1.5
            a = Y_1[i + 1, 0]
            Y = Y_1
        """, {"a"}) == textwrap.dedent("""\
        Y = np.zeros((4, 2))
        for i in range(3):
            Y_1 = np.copy(Y)
            a = Y[i, 0] + 1.5
            Y_1[i + 1, 0] = a
            Y = Y_1""")
    unchanged = [
        # an integer array: the item read is the value cast
        """\
        c = np.zeros(3, dtype=int)
        for i in range(2):
            c[i] = x * 1.5
            a = c[i]""",
        # a value not computed with a float64 item (a float32 argument's,
        # a comparison): the item read is it cast
        """\
        c = np.zeros(3)
        for i in range(2):
            c[i] = x * 1.5
            a = c[i]""",
        """\
        c = np.zeros(3)
        for i in range(2):
            c[i + 1] = c[i] > 0
            a = c[i + 1]""",
        # another index, or a name the index reads bound between
        """\
        c = np.zeros(3)
        for i in range(2):
            c[i] = x
            a = c[i + 1]""",
        """\
        c = np.zeros(3)
        for i in range(2):
            c[j] = x
            j = i
            a = c[j]""",
        # a row, not one item
        """\
        c = np.zeros((3, 2))
        for i in range(2):
            c[i] = x
            r = c[i]""",
        # a float64 array only in one of its bindings
        """\
        c = np.zeros(3)
        for i in range(2):
            c[i] = x
            a = c[i]
            c = np.arange(3)""",
    ]
    for code in unchanged:
        expected = ast.unparse(ast.parse(textwrap.dedent(code)))
        assert _passed(code, {"a"}) == expected, code
