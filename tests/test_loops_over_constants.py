"""Loops over constant arrays: ``for w in np.array([...])``, over a global
``WEIGHTS`` (with ``enumerate``, ``zip`` and in a generator), in scalar
and in array code.

An array the function writes is known whatever the arguments: a short
one is unrolled over its values, as ``range(3)`` is, so closed forms come
out; a long one stays a loop over its rows. A global is read by name when
the code runs (DESIGN.md), so a loop over it stays a loop over
``WEIGHTS[i]``, as ``for i in range(len(WEIGHTS))`` does, and a changed
global changes the derivative.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient

WEIGHTS = np.array([0.5, 1.5])
OFFSETS = np.array([1.0, -2.0])
TABLE = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def body(fn, *example) -> str:
    """The generated source after its docstring."""
    return ad.source(fn, *example).split('"""')[-1].strip()


def over_literal(x):
    s = 0.0
    for w in np.array([1.0, 2.0, 3.0]):
        s = s + w * x ** 2
    return s


def test_a_loop_over_an_array_the_function_writes_is_unrolled():
    gradient = ad.grad(over_literal)
    assert gradient(1.5) == pytest.approx(12 * 1.5, rel=1e-15)
    assert body(gradient, 1.5) == "return 12 * x"
    x = np.array([0.5, -2.0])  # elementwise, as a list literal's loop is
    np.testing.assert_allclose(gradient(x), 12 * x, rtol=1e-15)


def test_a_generator_over_an_array_the_function_writes():
    def f(x):
        return sum(w * np.sin(x) for w in np.array([0.5, 2.0]))

    gradient = ad.grad(f)
    assert gradient(0.3) == pytest.approx(2.5 * np.cos(0.3), rel=1e-15)


def test_rows_of_a_matrix_the_function_writes():
    def f(x):
        s = 0.0
        for row in np.array([[1.0, 2.0], [3.0, 4.0]]):
            s = s + np.sum(row * x ** 2)
        return s

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(ad.grad(f)(x), [4 * 2 * 0.5, 6 * 2 * -1.5],
                               rtol=1e-15)


def test_a_long_array_the_function_writes_stays_a_loop_over_its_rows():
    def f(x):
        s = 0.0
        for w in np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
                           5.0, 5.5, 6.0]):
            s = s + w * np.sin(w * x)
        return s

    gradient = ad.grad(f)
    assert gradient(0.7) == pytest.approx(central_difference(f, (0.7,), 0),
                                          rel=1e-9)
    source = body(gradient, 0.7)
    assert "for i in range(constants.shape[0]):" in source
    assert "w = constants[i]" in source


def test_a_loop_over_computed_values_of_constants():
    def f(x):
        s = 0.0
        for w in np.linspace(0.0, 1.0, 5):
            s = s + w * x ** 2
        for w in np.arange(3):
            s = s + w * x
        for w in WEIGHTS * 2:
            s = s + w * x
        return s

    # 2.5 * 2x + 3 + 4
    assert ad.grad(f)(1.5) == pytest.approx(5 * 1.5 + 7, rel=1e-15)


def over_global(x):
    s = 0.0
    for w in WEIGHTS:
        s = s + w * x ** 2
    return s


def over_global_by_index(x):
    s = 0.0
    for i in range(len(WEIGHTS)):
        s += WEIGHTS[i] * x ** 2
    return s


def test_a_loop_over_a_global_reads_its_rows_by_name_as_a_range_loop_does():
    gradient = ad.grad(over_global)
    assert gradient(1.5) == pytest.approx(2 * 2 * 1.5, rel=1e-15)
    assert body(gradient, 1.5) == (
        "tangent_s = 0.0\n"
        "    t = 2 * x\n"
        "    for i in range(WEIGHTS.shape[0]):\n"
        "        w = WEIGHTS[i]\n"
        "        tangent_s = t * w + tangent_s\n"
        "    return tangent_s")
    indexed = ad.grad(over_global_by_index)
    assert "for i in range(WEIGHTS.shape[0]):" in body(indexed, 1.5)
    assert indexed(1.5) == gradient(1.5)


def test_a_loop_over_a_global_reads_the_global_when_called(monkeypatch):
    gradient = ad.grad(over_global)
    assert gradient(1.5) == pytest.approx(6.0, rel=1e-15)
    monkeypatch.setitem(globals(), "WEIGHTS", np.array([1.0, 2.0, 4.0]))
    assert gradient(1.5) == pytest.approx(2 * 7 * 1.5, rel=1e-15)


def test_generator_enumerate_and_zip_over_globals():
    def summed(x):
        return sum(w * x ** 2 for w in WEIGHTS)

    def enumerated(x):
        s = 0.0
        for i, w in enumerate(WEIGHTS):
            s = s + (i + 1) * w * x ** 2
        return s

    def zipped(x):
        s = 0.0
        for a, b in zip(WEIGHTS, OFFSETS):
            s = s + a * (x - b) ** 2
        return s

    for f in (summed, enumerated, zipped):
        assert ad.grad(f)(1.5) == pytest.approx(
            central_difference(f, (1.5,), 0), rel=1e-9), f.__name__


def test_loops_over_globals_in_array_code():
    def f(x):
        s = 0.0
        for w in WEIGHTS:
            s = s + w * np.sum(np.tanh(w * x))
        for row in TABLE:
            s = s + np.sum(row * x ** 2)
        return s

    x = np.array([0.3, -1.2])
    np.testing.assert_allclose(ad.grad(f)(x), numeric_gradient(f, (x,), 0),
                               rtol=1e-8)


def test_a_loop_over_the_rows_of_an_argument_still_works():
    def f(X):
        s = 0.0
        for row in X:
            s = s + np.sum(row ** 3)
        return s

    X = np.array([[0.5, 1.0], [-1.5, 2.0], [0.25, -0.75]])
    np.testing.assert_allclose(ad.grad(f)(X), 3 * X ** 2, rtol=1e-15)


def test_a_loop_unpacking_the_rows_of_a_global():
    def f(x):
        s = 0.0
        for a, b in TABLE:
            s = s + a * x ** 2 + b * x
        return s

    gradient = ad.grad(f)
    assert gradient(1.5) == pytest.approx(2 * 9 * 1.5 + 12, rel=1e-15)
    assert "for i in range(TABLE.shape[0]):" in body(gradient, 1.5)


def test_a_loop_unpacking_the_rows_of_constants_is_written_out():
    def f(x):
        s = 0.0
        for a, b in np.array([[1.0, 2.0], [3.0, 4.0]]):
            s = s + a * x ** 2 + b * x
        return s

    gradient = ad.grad(f)
    assert gradient(1.5) == pytest.approx(8 * 1.5 + 6, rel=1e-15)
    assert body(gradient, 1.5) == "return 8 * x + 6"
