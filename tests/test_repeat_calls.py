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
