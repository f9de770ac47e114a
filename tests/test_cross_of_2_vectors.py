"""``np.cross`` of 2-vectors: the z component of their cross product as
3-vectors, one number per pair (JAX gives it; NumPy 2.0-2.4 deprecate it
and NumPy 2.5 refuses it), and of a 2-vector with a 3-vector (the 2-vector
gets a zero third component). Values, gradients against central
differences, Hessians against JAX 0.10.2's, and the generated code,
which must not call NumPy's deprecated 2-vector path (the suite turns
warnings into errors).
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

def _numpy_crosses_2_vectors() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            np.cross([1.0, 0.0], [0.0, 1.0])
        except ValueError:
            return False
    return True


# NumPy 2.5 refuses 2-vectors (2.0-2.4 deprecate them): where it does, the
# user's function itself cannot run, and the tests that compare with it
# are skipped; the derivative keeps JAX's z component.
crossed_by_numpy = pytest.mark.skipif(
    not _numpy_crosses_2_vectors(),
    reason=f"NumPy {np.__version__} refuses np.cross of 2-vectors")

A = np.array([[0.5, -1.25], [2.0, 0.75], [-0.3, 1.1]])
B = np.array([1.5, -0.5])
V = np.array([0.2, -1.0, 2.5])


def squared(a, b):
    return np.cross(a, b) ** 2


def sines(a, b):
    return np.sum(np.sin(np.cross(a, b)))


def cubes_along_axis_0(a, b):
    return np.sum(np.cross(a, b, axisa=0) ** 3)


def squares(a, b):
    return np.sum(np.cross(a, b) ** 2)


def _numpys(function, *args):
    """``function(*args)`` with NumPy's deprecation of 2-vectors quiet:
    the reference calls np.cross, the derivative must not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return function(*args)


def _matches_central_differences(function, args):
    gradients = ad.grad(function, argnums=(0, 1))(*args)
    for argnum, gradient in enumerate(gradients):
        assert gradient.shape == np.shape(args[argnum])
        expected = _numpys(numeric_gradient, function, args, argnum)
        np.testing.assert_allclose(gradient, expected, rtol=1e-7, atol=1e-9)


@crossed_by_numpy
def test_the_cross_product_of_2_vectors_is_its_z_component():
    value, (da, db) = ad.value_and_grad(squared, argnums=(0, 1))(B, V[:2])
    z = B[0] * V[1] - B[1] * V[0]
    assert value == z ** 2 == _numpys(squared, B, V[:2])
    np.testing.assert_allclose(da, 2 * z * np.array([V[1], -V[0]]))
    np.testing.assert_allclose(db, 2 * z * np.array([-B[1], B[0]]))


def test_the_z_component_is_written_out_not_by_deprecated_np_cross():
    source = ad.source(ad.value_and_grad(squared, argnums=(0, 1)), B, V[:2])
    assert "np.cross(" not in source
    assert "t = a_0 * b_1 - a_1 * b_0" in source
    assert "value = t ** 2" in source


@crossed_by_numpy
@pytest.mark.parametrize("function,args", [
    (sines, (A, B)),
    (sines, (A, A[::-1] + 1)),
    (sines, (A[:, None, :], A[:2])),  # (3, 1) and (2,) pairs broadcast
    (cubes_along_axis_0, (A.T, A)),
    (squares, (B, V)),
    (squares, (V, B)),
    (squares, (A, np.stack([V, -V, 2 * V]))),
], ids=["stack-vector", "stacks", "broadcast", "axisa", "2x3", "3x2",
        "stacked-2x3"])
def test_gradients_match_central_differences(function, args):
    _matches_central_differences(function, args)


@crossed_by_numpy
def test_values_are_numpys():
    for function, args in [(sines, (A, B)), (squares, (B, V)),
                           (squares, (V, B)), (cubes_along_axis_0, (A.T, A))]:
        value, _ = ad.value_and_grad(function)(*args)
        assert value == pytest.approx(_numpys(function, *args), rel=1e-14)


def test_hessians_are_jaxs():
    # jax.hessian(lambda a, b: jnp.sum(jnp.sin(jnp.cross(a, b))))(A, B)
    hessian = ad.hessian(sines)(A, B)
    assert hessian.shape == (3, 2, 3, 2)
    np.testing.assert_allclose(hessian[:, 0], [
        [[-0.24963284, -0.74889851], [0, 0], [0, 0]],
        [[0, 0], [0.21257995, 0.63773984], [0, 0]],
        [[0, 0], [0, 0], [0.24937375, 0.74812124]]], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ad.hessian(sines, argnums=1)(A, B), [
        [0.1250686, -1.57038843], [-1.57038843, 3.24142087]], rtol=1e-7)
    # a 2-vector crossed with a 3-vector
    np.testing.assert_allclose(ad.hessian(squares)(B, V),
                               [[14.5, 0.4], [0.4, 12.58]], rtol=1e-12)


def test_jacobian_of_the_stacked_z_components():
    jacobian = ad.jacfwd(lambda a, b: np.cross(a, b))(A, B)
    expected = np.zeros((3, 3, 2))
    for i in range(3):
        expected[i, i] = [B[1], -B[0]]
    np.testing.assert_array_equal(jacobian, expected)
    np.testing.assert_array_equal(
        ad.jacobian(lambda a, b: np.cross(a, b))(A, B), expected)


def test_float32_stays_float32():
    a, b = A.astype(np.float32), B.astype(np.float32)
    gradient = ad.grad(sines)(a, b)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, ad.grad(sines)(
        a.astype(np.float64), b.astype(np.float64)), rtol=1e-5)


@crossed_by_numpy
def test_code_for_3_vectors_is_not_reused_for_2_vectors():
    gradient = ad.grad(squares, argnums=(0, 1))
    np.testing.assert_allclose(gradient(V, V[::-1])[0],
                               numeric_gradient(squares, (V, V[::-1]), 0))
    for args in [(B, V), (B, V[:2]), (V, B)]:
        for argnum, got in enumerate(gradient(*args)):
            np.testing.assert_allclose(
                got, _numpys(numeric_gradient, squares, args, argnum),
                rtol=1e-7, atol=1e-9)


def test_vectors_of_4_components_are_refused_at_the_users_line():
    def f(v):
        return np.sum(np.cross(v, v))
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(f)(np.ones(4))
    assert caught.value.msg == ("np.cross: the vectors have 4 components: a "
                                "cross product takes 2- or 3-vectors")
    line = inspect.getsourcelines(f)[1] + 1
    assert f"test_cross_of_2_vectors.py:{line}" in str(caught.value)
