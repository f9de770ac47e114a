"""A negative argnums counts the arguments a call passes by position, as
JAX counts them (conformance bug 5): ``grad(f, -1)(x, y)`` of
``f(x, y, scale=2.0)`` is d/dy, ``grad(f, -1)(x, y, 3.0)`` is d/dscale.
Expected values are closed forms; JAX 0.10.2 gave the same."""

from __future__ import annotations

import inspect
import pathlib

import numpy as np
import pytest

import autodiff_ast as ad

THIS_FILE = pathlib.Path(__file__)
X = np.array([0.5, -1.0, 2.0])


def weighted(x, y, scale=2.0):
    return np.sum(x * y) * scale


def scaled(x, y, scale=2.0):
    return x * y ** 2 * scale


def where(function):
    line = inspect.getsourcelines(function)[1]
    path = (THIS_FILE.relative_to(pathlib.Path.cwd())
            if THIS_FILE.is_relative_to(pathlib.Path.cwd()) else THIS_FILE)
    return f"{function.__name__} ({path}:{line})"


def test_array_code_each_transform_counts_the_call():
    y = 2 * X
    np.testing.assert_allclose(ad.grad(weighted, -1)(X, y), 2 * X)
    np.testing.assert_allclose(ad.grad(weighted, -1)(X, y, 3.0),
                               np.sum(X * y))
    # y passed by keyword: the call passes one argument by position.
    np.testing.assert_allclose(ad.grad(weighted, -1)(X, y=y), 2 * y)
    value, grad = ad.value_and_grad(weighted, -2)(X, y, 3.0)
    np.testing.assert_allclose((value, *grad), (3 * np.sum(X * y),
                                                *(3 * X)))
    np.testing.assert_allclose(ad.jacobian(weighted, -1)(X, y), 2 * X)
    np.testing.assert_allclose(ad.jacrev(weighted, -1)(X, y, 3.0),
                               np.sum(X * y))
    np.testing.assert_allclose(ad.jacfwd(weighted, -1)(X, y), 2 * X)
    np.testing.assert_allclose(ad.hessian(weighted, -1)(X, y),
                               np.zeros((3, 3)))
    gx, gscale = ad.grad(weighted, (0, -1))(X, y, 3.0)
    np.testing.assert_allclose(gx, 3 * y)
    np.testing.assert_allclose(gscale, np.sum(X * y))


def test_scalar_code_each_transform_counts_the_call():
    x, y = 1.5, 2.5
    assert ad.grad(scaled, -1)(x, y) == 2 * x * y * 2.0
    assert ad.grad(scaled, -1)(x, y, 4.0) == x * y ** 2
    assert ad.value_and_grad(scaled, -1)(x, y) == (2 * x * y ** 2,
                                                   2 * x * y * 2.0)
    assert ad.jacobian(scaled, -1)(x, y) == 2 * x * y * 2.0
    assert ad.jacfwd(scaled, -1)(x, y, 4.0) == x * y ** 2
    assert ad.hessian(scaled, -1)(x, y) == 2 * x * 2.0
    assert ad.hessian(scaled, -1)(x, y, 4.0) == 0.0
    assert ad.hessian(scaled, (0, -1))(x, y, 4.0) == (
        (0.0, y ** 2), (y ** 2, 0.0))


def test_derivative_of_a_derivative_counts_each_call():
    x, y = 1.5, 2.5
    # d/dx of d/dy (two positional arguments) and of d/dscale (three).
    assert ad.grad(ad.grad(scaled, -1))(x, y) == 2 * y * 2.0
    assert ad.grad(ad.grad(scaled, -1))(x, y, 4.0) == y ** 2
    assert ad.grad(ad.grad(scaled), -1)(x, y) == 2 * y * 2.0
    assert ad.jvp(ad.grad(scaled, -1), (x, y, 4.0), (1.0, 0.0, 0.0)) == (
        x * y ** 2, y ** 2)


def test_source_shows_the_code_for_the_call():
    assert ad.source(ad.grad(scaled, -1)).startswith(
        "def dscaled_dscale(x, y, scale=2.0):")
    assert ad.source(ad.grad(scaled, -1), 1.0, 2.0).startswith(
        "def dscaled_dy(x, y, scale=2.0):")


def test_a_negative_index_out_of_the_call_is_refused():
    with pytest.raises(ad.ArgnumsError) as info:
        ad.grad(weighted, -2)(X, y=X)
    assert str(info.value) == (
        f"argnums=-2 is out of range for this call: {where(weighted)} was "
        "called with 1 positional argument (x), and a negative index "
        "counts the arguments passed by position, as in JAX. Pass the "
        "argument by position, or name it with a non-negative index.")
    with pytest.raises(ad.ArgnumsError) as info:
        ad.grad(scaled, (0, -2))(1.0, y=2.0)
    assert "argnums=(0, -2) is out of range for this call" in str(
        info.value)
    with pytest.raises(ad.ArgnumsError) as info:
        ad.hessian(scaled, (1, -1))(1.0, 2.0)
    assert str(info.value).startswith(
        f"argnums=(1, -1) names an argument twice in this call: "
        f"{where(scaled)} was called with 2 positional arguments (x, y)")


def test_out_of_the_signature_is_refused_when_asked_for():
    with pytest.raises(ad.ArgnumsError) as info:
        ad.jacfwd(weighted, -4)
    assert str(info.value) == (
        f"argnums=-4 is out of range: {where(weighted)} takes 3 positional "
        "arguments (x, y, scale); valid indices are 0..2 or -3..-1.")
