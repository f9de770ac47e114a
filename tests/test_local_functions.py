"""Functions defined inside the differentiated function (``def`` and
``lambda``): run where they are called, in the scope they were defined in,
read when they are called, as Python does; refused at the user's line
where they cannot be followed."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference

INPUTS = np.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.0]])


def layer_loss(W, b):
    def predict(inputs, shift=0.0):
        """The model, shifted."""
        return np.tanh(inputs @ W + b + shift)

    square = lambda v: v * v  # noqa: E731
    total = 0.0
    for k in range(3):
        total = total + np.sum(square(predict(INPUTS, shift=0.1 * k)))
    return total


def nested_scalars(x):
    f = lambda t: np.sin(t) * x  # noqa: E731

    def g(t):
        y = t * 2
        return f(y) + x
    return g(x) * f(x)


def late_binding(x):
    a = 1.0
    scale = lambda t: t * a  # noqa: E731
    a = 2.0
    return scale(x)


def stepped(x, n):
    step = lambda v: v - 0.1 * np.sin(v)  # noqa: E731
    for _ in range(n):
        x = step(x)
    return x


def recursive(x):
    def again(t):
        return again(t)
    return again(x)


def decorated(x):
    @functools.lru_cache
    def square(t):
        return t * t
    return square(x)


def variadic(x):
    def total(*values):
        return sum(values)
    return total(x, x)


def returns_on_one_path(x):
    def positive_part(t):
        if t > 0:
            return t
    return positive_part(x)


def derivative_of_a_local(x):
    square = lambda t: t * t  # noqa: E731
    return ad.grad(square)(x)


def line_of(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_a_def_and_a_lambda_inside_a_loss():
    W, b = np.array([0.2, -0.3]), 0.1
    grad_W, grad_b = ad.grad(layer_loss, argnums=(0, 1))(W, b)
    expected_W, expected_b = np.zeros(2), 0.0
    for k in range(3):
        t = np.tanh(INPUTS @ W + b + 0.1 * k)
        expected_W += INPUTS.T @ (2 * t * (1 - t ** 2))
        expected_b += np.sum(2 * t * (1 - t ** 2))
    np.testing.assert_allclose(grad_W, expected_W, rtol=1e-13)
    assert grad_b == pytest.approx(expected_b, rel=1e-13)


def test_scopes_as_python_has_them():
    assert ad.grad(nested_scalars)(0.7) == pytest.approx(
        central_difference(nested_scalars, (0.7,), 0), rel=1e-9)
    assert ad.grad(late_binding)(3.0) == 2.0  # a, when scale is called
    for n in (5, 1, 0):
        assert ad.grad(stepped)(0.7, n) == pytest.approx(
            central_difference(stepped, (0.7, n), 0), rel=1e-9)
    assert "for _ in range(n):" in ad.source(ad.grad(stepped), 0.7, 5)


@pytest.mark.parametrize("f, text, message", [
    (recursive, "return again(t)",
     "recursive call to again: autodiff_ast inlines the functions it calls, "
     "so recursion cannot be followed; rewrite it as a loop over range()"),
    (decorated, "@functools",
     "decorators on a function defined inside the differentiated function "
     "are not supported"),
    (variadic, "def total",
     "a function defined inside the differentiated function takes "
     "positional arguments only here: name each argument"),
    (returns_on_one_path, "def positive_part",
     "positive_part does not return a value on every path: end each path "
     "with a return statement"),
])
def test_what_cannot_be_followed_is_refused_at_its_line(f, text, message):
    with pytest.raises(ad.UnsupportedCodeError) as error:
        ad.grad(f)(0.5)
    assert str(error.value).startswith(message)
    assert f"test_local_functions.py:{line_of(f, text)}" in str(error.value)


def test_a_derivative_of_a_local_function():
    # was refused ("takes a function defined at module level"): the local
    # function is differentiated as a function of its arguments and of
    # what it reads from the outer function (tests/test_sweep5.py)
    assert ad.grad(derivative_of_a_local)(0.5) == 2.0
