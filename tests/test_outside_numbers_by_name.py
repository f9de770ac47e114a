"""Array code reads the numbers it finds outside the function (a global, a
closure cell, an attribute) by name when it runs, as scalar code does and
as a person writes it: ``2 * BETA * x``, not ``4 * x``. A changed number
is then read, not baked in and generated again (a temperature annealed in
a training loop cost a whole generation per step). A number that decides
the code's structure (a size, a loop count, a branch) is still baked in,
and a change makes the code again."""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._float_handle import transform_of

from helpers import numeric_gradient

BETA = 2.0
TEMPERATURE = 1.0
SIZE = 3
STEPS = 2
COUNT = 2  # an int: a factor in one place, an index and a count in others
N = 4  # named as the docstring names a size
SCALE64 = np.float64(0.5)


def body(source: str) -> str:
    """The lines after the docstring."""
    return source.split('"""')[2].strip("\n")


def energy(x):
    return np.sum(BETA * x ** 2)


def softened(x):
    return np.log(np.sum(np.exp(x / TEMPERATURE)))


def test_a_global_number_is_read_by_name_and_never_stale():
    global BETA, TEMPERATURE
    x = np.array([1.0, -2.0])
    gradient = ad.grad(energy)
    assert body(ad.source(gradient, x)) == "    return 2 * BETA * x"
    try:
        for beta in (2.0, 5.0, -1.5):
            BETA = beta
            np.testing.assert_array_equal(gradient(x), 2 * beta * x)
        soft = ad.grad(softened)
        for temperature in (1.0, 0.5, 2.0, 0.1):
            TEMPERATURE = temperature
            weights = np.exp(x / temperature)
            np.testing.assert_allclose(
                soft(x), weights / np.sum(weights) / temperature,
                rtol=1e-14)
    finally:
        BETA, TEMPERATURE = 2.0, 1.0
    # one code answered at every value: it was never generated again (the
    # other is the code for floats, made with the derivative)
    assert len(transform_of(gradient).sources_run()) == 2
    assert len(transform_of(soft).sources_run()) == 2


class Spring:
    def __init__(self, k):
        self.k = k

    def energy(self, x):
        return 0.5 * self.k * np.sum(x ** 2)


def test_an_attribute_is_read_by_name():
    spring = Spring(3.0)
    x = np.array([1.0, 2.0])
    force = ad.grad(spring.energy)
    assert body(ad.source(force, x)) == "    return self.k * x"
    spring.k = 10.0
    np.testing.assert_array_equal(force(x), 10.0 * x)
    assert len(transform_of(force).sources_run()) == 2


def closed_over(scale):
    def loss(x):
        return np.sum(np.sin(scale * x))
    return loss


def test_a_closure_cell_is_read_by_name():
    x = np.array([0.3, -0.7])
    gradient = ad.grad(closed_over(1.5))
    assert body(ad.source(gradient, x)) == (
        "    return scale * np.cos(scale * x)")
    np.testing.assert_allclose(gradient(x), 1.5 * np.cos(1.5 * x))


def sized(x):
    return np.sum(x * np.arange(SIZE)) * BETA


def repeated(x):
    for _ in range(STEPS):
        x = np.sin(x) * BETA
    return np.sum(x)


def test_numbers_that_decide_the_structure_are_baked_in_and_checked():
    global SIZE, STEPS
    x = np.array([1.0, 2.0, 3.0])
    gradient = ad.grad(sized)
    np.testing.assert_array_equal(gradient(x), 2.0 * np.arange(3.0))
    looped = ad.grad(repeated)
    np.testing.assert_allclose(looped(x), numeric_gradient(repeated, (x,), 0),
                               rtol=1e-7)
    try:
        SIZE, STEPS = 1, 3
        np.testing.assert_array_equal(gradient(x), [0.0, 0.0, 0.0])
        SIZE = 4  # made again, for shapes that no longer broadcast
        with pytest.raises(ad.ShapeError, match=(
                r"could not be broadcast together with shapes \(3,\) "
                r"\(4,\)")):
            gradient(x)
        np.testing.assert_allclose(looped(x),
                                   numeric_gradient(repeated, (x,), 0),
                                   rtol=1e-7)
    finally:
        SIZE, STEPS = 3, 2


def counted(x):
    return np.sum(COUNT * x ** 2)


def counted_through_a_list(x):
    parts = [x, COUNT * x]  # (array code at a float: a list)
    return parts[0] * parts[1]


def indexed_and_repeated(x):
    total = x[COUNT] * COUNT
    for _ in range(COUNT):
        total = total * np.sum(x[:COUNT])
    return total


def test_an_int_is_read_by_name_where_it_computes_and_baked_where_it_decides():
    global COUNT
    x = np.array([1.0, -2.0, 3.0])
    gradient, listed = ad.grad(counted), ad.grad(counted_through_a_list)
    assert body(ad.source(gradient, x)) == "    return 2 * COUNT * x"
    assert body(ad.source(listed)) == "    return 2 * COUNT * x"
    structured = ad.grad(indexed_and_repeated)
    np.testing.assert_allclose(
        structured(x), numeric_gradient(indexed_and_repeated, (x,), 0),
        rtol=1e-8)
    made = len(transform_of(gradient).sources_run())
    # a factor read by name; the index, the slice and the count baked in
    assert body(ad.source(structured, x)) == (
        "    sum_x_part = np.sum(x[:2])\n"
        "    d_x = np.zeros_like(x)\n"
        "    d_x[:2] = 2 * COUNT * sum_x_part * x[2]\n"
        "    d_x[2] += COUNT * sum_x_part ** 2\n"
        "    return d_x")
    try:
        COUNT = 1
        np.testing.assert_array_equal(gradient(x), 2 * x)
        assert listed(1.5) == 3.0
        # (x[1] * 1 * sum(x[:1]): the index, the count and the slice)
        np.testing.assert_allclose(
            structured(x), numeric_gradient(indexed_and_repeated, (x,), 0),
            rtol=1e-8)
        # read by name: no code made again; baked in: made again
        assert len(transform_of(gradient).sources_run()) == made
        assert body(ad.source(structured, x)) == (
            "    d_x = np.zeros_like(x)\n"
            "    d_x[:1] = COUNT * x[1]\n"
            "    d_x[1] += COUNT * np.sum(x[:1])\n"
            "    return d_x")
    finally:
        COUNT = 2


def times_n(x):
    return np.sum(N * x ** 2)


def test_a_size_is_not_named_as_a_global_the_code_reads():
    source = ad.source(ad.grad(times_n), np.ones(3))
    assert source.splitlines()[-3:] == [
        "    Generated by autodiff_ast for x: float64[M].",
        '    """',
        "    return 2 * N * x"]


def scaled(x):
    return x * BETA


def local_named_beta(x):
    BETA = x ** 2  # a local that hides the global inside this function
    return np.sum(scaled(x) + BETA)


def test_a_local_of_the_same_name_never_shadows_the_global_read():
    x = np.array([1.0, -2.0])
    np.testing.assert_array_equal(ad.grad(local_named_beta)(x),
                                  2.0 + 2 * x)


def scaled_float32(x):
    return np.sum(SCALE64 * x ** 2)


def test_float32_arguments_give_float32_derivatives():
    x = np.array([1.0, -2.0], dtype=np.float32)
    gradient = ad.grad(scaled_float32)(x)
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, np.array([1.0, -2.0],
                                                     dtype=np.float32))


def test_hessians_jacobians_and_jvps_read_by_name():
    global BETA
    x = np.array([0.5, -1.0])
    hessian = ad.hessian(softened)
    jacobian = ad.jacobian(lambda y: BETA * np.sin(y))
    try:
        for beta, temperature in ((2.0, 1.0), (3.0, 0.5)):
            BETA = beta
            globals()["TEMPERATURE"] = temperature
            z = x / temperature
            p = np.exp(z) / np.sum(np.exp(z))
            np.testing.assert_allclose(
                hessian(x), (np.diag(p) - np.outer(p, p)) / temperature ** 2,
                rtol=1e-12)
            np.testing.assert_allclose(jacobian(x), beta * np.diag(np.cos(x)),
                                       rtol=1e-15)
            value, tangent = ad.jvp(energy, (x,), (np.ones(2),))
            assert value == beta * np.sum(x ** 2)
            assert tangent == 2 * beta * np.sum(x)
        assert "TEMPERATURE" in ad.source(hessian, x)
    finally:
        BETA = 2.0
        globals()["TEMPERATURE"] = 1.0


def test_a_partial_reads_the_globals_of_its_function():
    global BETA
    bound = functools.partial(lambda x, y: np.sum(BETA * x * y), y=2.0)
    x = np.array([1.0, 3.0])
    gradient = ad.grad(bound)
    try:
        BETA = 3.0
        np.testing.assert_array_equal(gradient(x), [6.0, 6.0])
    finally:
        BETA = 2.0


SCRIPT = """
import numpy as np
import autodiff_ast as ad
from autodiff_ast._float_handle import transform_of

BETA = 2.0


def energy(x):
    return np.sum(BETA * x ** 2)


def scaled(x):
    return x * BETA


gradient = ad.grad(energy)
gradient(np.ones(2))
(at_floats, at_arrays) = transform_of(gradient).generated.values()
print(at_floats.function.__globals__ is globals(),
      at_arrays.function.__globals__ is globals(),
      gradient.__globals__ is globals(),
      ad.grad(scaled).__globals__ is globals())
"""


def test_a_scripts_code_runs_in_its_module_globals(tmp_path):
    # (a script's __builtins__ is the module, not the dict exec puts in
    # our namespace: that alone must not make the code look names up
    # through a fallback namespace)
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True True True True\n"


def test_the_code_runs_in_the_users_module_globals():
    # (no lookup of np or BETA costs more than in the user's own code: a
    # namespace that falls back to the module's would, on every call)
    x = np.array([1.0, -2.0])
    gradient = ad.grad(energy)
    gradient(x)
    for entry in transform_of(gradient).generated.values():
        assert entry.function.__globals__ is globals()
    assert gradient.__globals__ is globals()  # (its code at floats)
    assert ad.grad(scaled).__globals__ is globals()
