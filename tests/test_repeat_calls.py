"""A derivative of array code called again with arguments of the same
kinds answers from the code it made, without the full dispatch, and
still sees everything a call can change: globals and defaults it read,
an int it baked in, other shapes and dtypes, keyword arguments."""

import numpy as np
import pytest

import autodiff_ast as ad

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
    with pytest.raises(TypeError, match="takes 2 positional arguments but "
                       "3 were given"):
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


def test_a_repeated_jvp_checks_what_its_last_call_did_not_see(scale):
    global SCALE
    x, v = np.array([0.3, -0.7]), np.array([1.0, 2.0])
    value, tangent = ad.jvp(scaled, (x,), (v,))
    expected = slope(scaled, x) @ v
    assert ad.jvp(scaled, (x,), (v,)) == pytest.approx((value, expected))
    # a tangent of another shape is refused as on a first call
    with pytest.raises(ad.InputError, match=r"the tangent for x has shape "
                       r"\(3,\), but the argument has shape \(2,\)"):
        ad.jvp(scaled, (x,), (np.ones(3),))
    # other dtypes, sizes and a changed global are each seen
    value32, tangent32 = ad.jvp(scaled, (x.astype(np.float32),),
                                (v.astype(np.float32),))
    assert tangent32.dtype == np.float32
    assert tangent32 == pytest.approx(expected, rel=1e-5)
    # (again, where the last call's code answers: the same types, and a
    # float32 tangent of a float64 value in its value's type)
    again = ad.jvp(scaled, (x.astype(np.float32),), (v.astype(np.float32),))
    assert [type(r) for r in again] == [type(value32), type(tangent32)]
    value, tangent = ad.jvp(float64_total, (x.astype(np.float32),),
                            (v.astype(np.float32),))
    again = ad.jvp(float64_total, (x.astype(np.float32),),
                   (v.astype(np.float32),))
    assert type(value) is type(again[0]) is np.float64
    assert type(tangent) is type(again[1]) is np.float64
    y = np.array([0.1, 0.2, 0.3])
    assert ad.jvp(scaled, (y,), (np.ones(3),))[1] == pytest.approx(
        np.sum(slope(scaled, y)))
    SCALE = 0.5
    assert ad.jvp(scaled, (x,), (v,)) == pytest.approx(
        (scaled(x), slope(scaled, x) @ v))
    # the same kinds, another function
    assert ad.jvp(stepped, (x, 3), (v, 0))[1] == pytest.approx(
        slope(stepped, x, 3) @ v)


def test_a_repeated_vjp_checks_what_its_last_call_did_not_see(scale):
    global SCALE
    x = np.array([0.3, -0.7])
    for _ in range(2):
        value, pullback = ad.vjp(scaled, x)
        (pulled,) = pullback(2.0)
        assert value == pytest.approx(scaled(x))
        np.testing.assert_allclose(pulled, 2 * slope(scaled, x), rtol=1e-6)
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
