"""What makes a derivative cheap to call, checked by its shape, not by a
clock (benchmarks/bench_scalar.py times it): the handle of code that bakes
nothing in is the generated function itself with the argument check as its
first statement (one call, every line where the source shows it),
abs() is printed as the operator it is, and array code called again at
a float gives NumPy's float64 as a float without the general cast."""

from __future__ import annotations

import linecache
import math
import sys
import traceback

import mpmath
import numpy as np
import optree
import pytest

import autodiff_ast as ad
from autodiff_ast._handle import make_handle


def cubic(x):
    return x ** 3 + 2 * x ** 2 - 3 * x + 1


def root(x):
    return math.sqrt(x) * math.exp(x)


def scaled(x, a=2.0):
    return a * x ** 2


def product(x, y):
    return x * y ** 2


def signed_square(x):
    return x * np.abs(x)


def square(u):
    return u ** 2


def cube(u):
    return u ** 3


helper = square


def with_helper(x):
    return helper(x) + x


def python_calls(function, *args):
    """The Python functions that run while ``function(*args)`` does."""
    called = []

    def profile(frame, event, arg):
        if event == "call":
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        function(*args)
    finally:
        sys.setprofile(None)
    return called


def test_a_handle_that_bakes_nothing_is_a_single_call():
    second = ad.grad(ad.grad(cubic))
    assert python_calls(second, 1.3) == ["d2cubic_dx2"]
    assert python_calls(second.__wrapped__, 1.3) == ["d2cubic_dx2"]
    assert second(1.3) == 6 * 1.3 + 4
    # Arguments that are not Python floats go on to the transform, which
    # makes their code.
    assert python_calls(second, np.array([1.0, 2.0]))[:2] == [
        "d2cubic_dx2", "answer"]
    np.testing.assert_array_equal(second(np.array([1.0, 2.0])), [10.0, 16.0])


def test_code_that_bakes_a_helper_in_answers_itself_while_it_is_current():
    global helper
    gradient = ad.grad(with_helper)
    assert python_calls(gradient, 2.0) == ["dwith_helper_dx"]
    assert gradient(2.0) == 5.0
    try:
        helper = cube
        assert gradient(2.0) == 13.0  # 3 * x ** 2 + 1, regenerated
        assert "3 * x ** 2 + 1" in ad.source(gradient)
        assert "dwith_helper_dx" in python_calls(gradient, 2.0)[1:]
    finally:
        helper = square
    # Current again: the first code answers, in one call.
    assert gradient(2.0) == 5.0
    assert python_calls(gradient, 2.0) == ["dwith_helper_dx"]
    assert ad.source(gradient).endswith("return 2 * x + 1\n")


def test_code_without_source_at_hand_is_checked_and_called():
    namespace = {}
    exec("def doubled(x):\n    return 2 * x\n", namespace)  # no linecache
    passed_on = []
    handle = make_handle(namespace["doubled"], (), lambda: None,
                         lambda *args: passed_on.append(args) or "other",
                         plan=0, as_made=())
    assert python_calls(handle, 3.0) == ["doubled", "doubled",
                                         "python_float"]
    value = handle(3.0)
    assert value == 6.0 and type(value) is float
    assert handle.__wrapped__ is namespace["doubled"]
    # (not the Python float it was made for: the transform answers)
    assert handle(1j) == "other" and handle(np.float64(3.0)) == "other"
    assert passed_on == [(1j,), (np.float64(3.0),)]


def test_the_check_leaves_every_line_where_the_source_shows_it():
    gradient = ad.grad(root)
    lines = ad.source(gradient).splitlines()
    assert lines[-1] == "    return exp_x * (sqrt_x + 0.5 / sqrt_x)"
    for function in (gradient, gradient.__wrapped__):
        # sqrt's derivative at 0, in Python floats; NumPy's errors raising,
        # so the handle's retry as NumPy raises, and it raises the first
        with pytest.raises(ZeroDivisionError) as caught, \
                np.errstate(divide="raise"):
            function(0.0)
        frame = traceback.extract_tb(caught.tb)[-1]
        assert frame.filename == gradient.__wrapped__.__code__.co_filename
        assert frame.lineno == len(lines)
        assert frame.line == lines[-1].strip()
    assert gradient(2.0) == pytest.approx(
        math.exp(2.0) * (math.sqrt(2.0) + 0.5 / math.sqrt(2.0)), rel=1e-15)


def test_a_refused_argument_is_reported_at_the_derivatives_def_line():
    gradient = ad.grad(product, argnums=(0, 1))
    with pytest.raises(ad.InputError,
                       match=r"argument y of the derivative of product "
                             r"\(tests/test_call_speed_shape.py:\d+\) is "
                             r"complex \(1j\)") as caught:
        gradient(2.0, 1j)
    generated = gradient.__wrapped__.__code__.co_filename
    (frame,) = [f for f in traceback.extract_tb(caught.tb)
                if f.filename == generated]
    assert frame.lineno == 1
    assert linecache.getline(generated, 1).startswith(
        "def grad_product(x, y):")
    assert gradient(2.0, 3.0) == (9.0, 12.0)


def test_defaults_and_keywords_reach_the_checked_copy():
    gradient = ad.grad(scaled)
    assert gradient(1.5) == 6.0
    assert gradient(1.5, 3.0) == 9.0
    assert gradient(x=1.5, a=3.0) == 9.0
    with pytest.raises(ad.InputError, match="argument a .* is a str"):
        gradient(1.5, "3")


@pytest.mark.parametrize("x", [-300.0, -30.0, -2.0, 0.0, 0.5, 19.0, 300.0])
def test_tanh_derivative_calls_abs_and_keeps_every_digit(x):
    gradient = ad.grad(np.tanh)
    assert "np.exp(-2 * abs(x))" in ad.source(gradient)
    assert "np.abs" not in ad.source(gradient)
    truth = float(mpmath.sech(mpmath.mpf(x)) ** 2)
    assert gradient(x) == pytest.approx(truth, rel=4e-16)
    single = gradient(np.array([x, x], dtype=np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, truth, rtol=2e-7, atol=1e-45)


def test_abs_written_by_the_user_derives_to_the_operator_in_every_order():
    first = ad.grad(signed_square)
    assert "abs(x)" in ad.source(first)
    assert "np.abs" not in ad.source(first)
    assert first(-1.5) == 3.0
    grid = np.array([-1.5, 0.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(first(grid), [3.0, 0.0, 4.0])
    assert first(grid).dtype == np.float32
    # The operator keeps NumPy's namespace: the constant third derivative
    # still takes the shape of an array.
    third = ad.grad(ad.grad(first))
    np.testing.assert_array_equal(third(grid), [0.0, 0.0, 0.0])
    assert third(grid).dtype == np.float32


def sine_times_x_by_a_list(x):
    parts = [x]  # (a list: array code)
    return np.sin(parts[0]) * parts[0]


def test_array_code_at_a_float_returns_numpys_float_without_the_full_cast(
        monkeypatch):
    # The code computes an np.float64 (np.cos(x) * x + np.sin(x)); the
    # call at a float gives a float. The call for known kinds
    # (_fast_call) made it through the general cast of every result
    # (_Generated.result, _cast): 1.30 us a call, 0.73 us without it.
    from autodiff_ast import _array_transforms
    gradient = ad.grad(sine_times_x_by_a_list)
    gradient(0.3)
    gradient(0.4)  # (its kinds seen: the fast call answers)
    casts = []
    cast = _array_transforms._cast
    monkeypatch.setattr(_array_transforms, "_cast",
                        lambda *args: casts.append(args) or cast(*args))
    value = gradient(0.5)
    assert type(value) is float and casts == []
    assert value == pytest.approx(0.5 * math.cos(0.5) + math.sin(0.5),
                                  rel=1e-15)


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def wave(x, y):
    return np.exp(-x * y) * np.sin(x + y)


def test_several_outputs_at_floats_are_cast_where_they_stand():
    # The cast that walked the plan of a tuple of tuples (cast, its
    # generator, python_float per output) cost 4 us of a 2-argument
    # Hessian that computes in 0.25: each output is cast where the return
    # writes it, by float itself where the code computes a number (in C),
    # and not at all where arithmetic of Python floats gives one.
    for f, point in ((rosenbrock, (0.7, -0.3)), (wave, (0.7, -0.3))):
        for derivative in (ad.hessian(f, argnums=(0, 1)),
                           ad.grad(f, argnums=(0, 1))):
            derivative(*point)
            name = derivative.__wrapped__.__name__
            assert python_calls(derivative, *point) == [name]
            leaves = optree.tree_leaves(derivative(*point))
            assert len(leaves) in (2, 4)
            assert {type(leaf) for leaf in leaves} == {float}
    (xx, xy), (yx, yy) = ad.hessian(rosenbrock, argnums=(0, 1))(0.7, -0.3)
    assert (xx, xy, yx, yy) == (pytest.approx(2 + 400 * 0.3 + 1200 * 0.49,
                                              rel=1e-15), -280.0, -280.0,
                                200.0)
    decay, s, c = math.exp(0.21), math.sin(0.4), math.cos(0.4)
    (xx, xy), (yx, yy) = ad.hessian(wave, argnums=(0, 1))(0.7, -0.3)
    assert xy == yx == pytest.approx(
        decay * ((-0.21 - 1) * s - 0.4 * c - s), rel=1e-14)
    assert xx == pytest.approx(decay * (0.09 * s + 0.6 * c - s), rel=1e-14)
    assert yy == pytest.approx(decay * (0.49 * s - 1.4 * c - s), rel=1e-14)


def stepped(x, y):
    return x * math.floor(y) + y


def test_a_derivative_that_is_an_int_of_the_arguments_is_still_a_float():
    # math.floor gives an int: the code is not arithmetic of floats alone,
    # so its outputs are cast (they were returned as computed, 2 not 2.0)
    for derivative, want in ((ad.grad(stepped), 2.0),
                             (ad.grad(stepped, argnums=(0, 1)), (2.0, 1.0))):
        got = derivative(1.5, 2.5)
        assert got == want
        assert {type(v) for v in optree.tree_leaves(got)} == {float}
