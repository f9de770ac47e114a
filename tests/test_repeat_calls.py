"""A derivative of array code called again with arguments of the same
kinds answers from the code it made, without the full dispatch, and
still sees everything a call can change: globals and defaults it read,
an int it baked in, other shapes and dtypes, keyword arguments."""

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast import _api_jacobians

from helpers import numeric_gradient

SCALE = 2.0


def scaled(x, n=3):
    for _ in range(n):
        x = SCALE * np.sin(x)
    return np.sum(x)


def stepped(x, n):
    if n > 2:  # n's value decides the code: it is baked in
        return np.sum(x ** 3)
    return np.sum(x ** 2)


def slope(f, x, *rest):
    return numeric_gradient(f, (x, *rest), 0)


@pytest.fixture
def scale():
    global SCALE
    yield
    SCALE = 2.0


def test_a_changed_global_is_read_on_the_next_call(scale):
    global SCALE
    df = ad.grad(scaled)
    x = np.array([0.3, -0.7])
    first = df(x)
    assert df(x) == pytest.approx(first)  # (the second call: the same code)
    np.testing.assert_allclose(first, slope(scaled, x), rtol=1e-6)
    SCALE = 0.5
    np.testing.assert_allclose(df(x), slope(scaled, x), rtol=1e-6)
    assert not np.allclose(df(x), first)


def test_changed_defaults_are_read_on_the_next_call():
    def f(x, k=2.0):
        for _ in range(3):
            x = k * np.tanh(x)
        return x

    df = ad.grad(f)
    assert df(0.4) == pytest.approx(slope(f, 0.4))
    assert df(0.4) == pytest.approx(slope(f, 0.4))
    f.__defaults__ = (0.5,)
    assert df(0.4) == pytest.approx(slope(lambda x: f(x, 0.5), 0.4))


def test_an_int_baked_in_is_not_reused_for_another_value():
    df = ad.grad(stepped)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(df(x, 3), 3 * x ** 2)
    np.testing.assert_allclose(df(x, 3), 3 * x ** 2)
    np.testing.assert_allclose(df(x, 1), 2 * x)
    np.testing.assert_allclose(df(x, 1), 2 * x)
    np.testing.assert_allclose(df(x, 5), 3 * x ** 2)


def test_other_shapes_dtypes_and_keywords_after_a_repeated_call():
    df = ad.grad(scaled)
    x = np.array([0.3, -0.7])
    df(x), df(x)
    longer = np.array([0.3, -0.7, 1.1])
    np.testing.assert_allclose(df(longer), slope(scaled, longer),
                               rtol=1e-6)
    single = np.float32([0.3, -0.7])
    assert df(single).dtype == np.float32
    np.testing.assert_allclose(df(x, n=1), slope(scaled, x, 1), rtol=1e-6)
    assert df(0.3) == pytest.approx(slope(scaled, 0.3))
    assert type(df(0.3)) is float
    with pytest.raises(TypeError, match=r"dscaled_dx\(\) takes from 1 to 2 "
                       "positional arguments but 3 were given"):
        df(x, 1, 2)


WEIGHTS = np.array([1.0, 2.0])  # float64: float32 arguments meet it
MASK = np.array([True, False])


def weighted(x, b):
    return np.sum(np.where(MASK, WEIGHTS * x ** 2, x)) * b


@pytest.fixture
def mask():
    yield
    MASK[:] = [True, False]


def test_repeated_calls_give_each_kind_its_types_and_see_values_changed(
        mask):
    dw = ad.grad(weighted, (0, 1))
    x32, x64 = np.float32([0.5, -1.5]), np.array([0.5, -1.5])
    for _ in range(3):  # kinds in turn, each answered as the first time
        g32, b32 = dw(x32, np.float32(2.0))
        assert g32.dtype == np.float32 and type(b32) is np.float32
        g64, b64 = dw(x64, 2.0)
        assert g64.dtype == np.float64 and type(b64) is float
        np.testing.assert_allclose(g64, [2.0, 2.0])
        np.testing.assert_allclose(g32, g64)
        assert b64 == pytest.approx(0.25 - 1.5) and b32 == b64
    g32[:] = 0.0  # (each call's result is its own)
    np.testing.assert_allclose(dw(x32, np.float32(2.0))[0], [2.0, 2.0])
    MASK[:] = [False, True]  # changed in place: the values the code read
    np.testing.assert_allclose(dw(x64, 2.0)[0], [2.0, -12.0])
    np.testing.assert_allclose(dw(x32, np.float32(2.0))[0], [2.0, -12.0])
    with pytest.raises(TypeError, match=r"grad_weighted\(\) takes 2 "
                       "positional arguments but 3 were given"):
        dw(x64, 2.0, 1.0)
    with pytest.raises(TypeError, match="missing"):
        dw(x64)


COUNTS = np.array([1, 2])


def float64_total(x):
    # (a float32 sum plus an int64 one is a float64; its tangent, float32)
    return np.sum(np.sin(x)) + np.sum(COUNTS)


def scaled_loss(x, y):
    return np.sum(SCALE * np.sin(x) * y)


def test_a_repeated_jvp_checks_what_its_last_call_did_not_see(scale):
    global SCALE
    x, y = np.array([0.3, -0.7]), np.array([2.0, 0.5])
    v, w = np.array([1.0, 2.0]), np.array([-1.0, 0.25])

    def expected(x, y, v, w):
        return (scaled_loss(x, y),
                slope(scaled_loss, x, y) @ v
                + numeric_gradient(scaled_loss, (x, y), 1) @ w)

    for _ in range(2):  # (the second call is answered by the first's code)
        assert ad.jvp(scaled_loss, (x, y), (v, w)) == pytest.approx(
            expected(x, y, v, w))
    assert _api_jacobians._last_jvp  # (which the calls below start from)
    # tangents of another shape, or not one per primal, are refused as on
    # a first call
    with pytest.raises(ad.InputError, match=r"the tangent for y has shape "
                       r"\(3,\), but the argument has shape \(2,\)"):
        ad.jvp(scaled_loss, (x, y), (v, np.ones(3)))
    with pytest.raises(ad.InputError, match="jvp needs one tangent per "
                       "primal: got 3 primals and 1 tangents"):
        ad.jvp(scaled_loss, (x, y, v), (w,))
    # other dtypes and sizes, and a changed global, are each seen
    x32, y32, v32, w32 = (a.astype(np.float32) for a in (x, y, v, w))
    for _ in range(2):
        value32, tangent32 = ad.jvp(scaled_loss, (x32, y32), (v32, w32))
        assert (value32.dtype, tangent32.dtype) == (np.float32, np.float32)
        assert (value32, tangent32) == pytest.approx(expected(x, y, v, w),
                                                     rel=1e-5)
    z = np.array([0.1, 0.2, 0.3])
    assert ad.jvp(scaled_loss, (z, z), (z, z)) == pytest.approx(
        expected(z, z, z, z))
    SCALE = 0.5
    assert ad.jvp(scaled_loss, (x, y), (v, w)) == pytest.approx(
        expected(x, y, v, w))
    # a float32 tangent of a float64 value is in its value's type, again
    for _ in range(2):
        value, tangent = ad.jvp(float64_total, (x32,), (v32,))
        assert type(value) is type(tangent) is np.float64


def test_a_repeated_vjp_checks_what_its_last_call_did_not_see(scale):
    global SCALE
    x = np.array([0.3, -0.7])
    for _ in range(2):
        value, pullback = ad.vjp(scaled, x)
        (pulled,) = pullback(2.0)
        assert value == pytest.approx(scaled(x))
        np.testing.assert_allclose(pulled, 2 * slope(scaled, x), rtol=1e-6)
    assert _api_jacobians._last_vjp  # (the second call was answered so)
    # a cotangent that is not a number is refused as on a first call
    with pytest.raises(ad.InputError, match="the cotangent of output 0 has "
                       r"shape \(2,\), but that output has shape \(\)"):
        pullback(np.ones(2))
    (pulled32,) = ad.vjp(scaled, x.astype(np.float32))[1](1.0)
    assert pulled32.dtype == np.float32
    SCALE = 0.5
    value, pullback = ad.vjp(scaled, x)
    assert value == pytest.approx(scaled(x))
    np.testing.assert_allclose(pullback(1.0)[0], slope(scaled, x),
                               rtol=1e-6)
    # an integer primal beside the floats: its cotangent is zeros
    assert ad.vjp(stepped, x, 3)[1](1.0)[1] == 0
