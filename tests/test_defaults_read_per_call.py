"""A derivative takes the user's defaults as they are when it is called.

JAX calls the function on each call, so ``f.__defaults__ = (5.0,)`` (or a
changed ``__kwdefaults__``) changes what an omitted argument is; the same
handle must agree, in scalar code and in array code, for every transform.
"""

import inspect

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast import _handle


def cubic(x, scale=2.0):
    return scale * x ** 3


def cubic_options(x, *, scale=2.0):
    return scale * x ** 3


def squares(w, scale=2.0):
    return scale * np.sum(w ** 2)


def two_defaults(x, a=1.0, b=2.0):
    return a * x ** 2 + b * x ** 3


def set_scale(f, value):
    if f.__kwdefaults__:
        f.__kwdefaults__ = {"scale": value}
    else:
        f.__defaults__ = (value,)


@pytest.fixture
def restored():
    yield
    cubic.__defaults__ = squares.__defaults__ = (2.0,)
    cubic_options.__kwdefaults__ = {"scale": 2.0}
    two_defaults.__defaults__ = (1.0, 2.0)


SCALES = (2.0, 5.0, 2.0, 7.0)  # changed, changed back, changed again


@pytest.mark.parametrize("f", [cubic, cubic_options], ids=["positional",
                                                           "keyword-only"])
def test_scalar_transforms_take_the_default_of_each_call(f, restored):
    x = 1.5
    g, vg, gg, h = (ad.grad(f), ad.value_and_grad(f), ad.grad(ad.grad(f)),
                    ad.hessian(f))
    for s in SCALES:
        set_scale(f, s)
        assert g(x) == pytest.approx(3 * s * x ** 2, rel=1e-14)
        assert g(x, scale=3.0) == pytest.approx(9 * x ** 2, rel=1e-14)
        assert vg(x) == pytest.approx((s * x ** 3, 3 * s * x ** 2),
                                      rel=1e-14)
        assert gg(x) == pytest.approx(6 * s * x, rel=1e-14)
        assert h(x) == pytest.approx(6 * s * x, rel=1e-14)
        assert ad.jvp(f, (x,), (1.0,)) == pytest.approx(
            (s * x ** 3, 3 * s * x ** 2), rel=1e-14)
        np.testing.assert_allclose(g(np.array([1.0, -2.0])),
                                   3 * s * np.array([1.0, 4.0]), rtol=1e-14)
        assert inspect.signature(g).parameters["scale"].default == s


def test_a_default_passed_by_position_is_the_value_passed(restored):
    g = ad.grad(cubic)
    cubic.__defaults__ = (5.0,)
    assert g(1.5, 2.0) == pytest.approx(6 * 1.5 ** 2, rel=1e-14)
    assert g(1.5) == pytest.approx(15 * 1.5 ** 2, rel=1e-14)


def test_array_transforms_take_the_default_of_each_call(restored):
    w = np.array([1.0, -2.0, 3.0])
    g, vg, h = ad.grad(squares), ad.value_and_grad(squares), ad.hessian(
        squares)
    for s in SCALES:
        squares.__defaults__ = (s,)
        np.testing.assert_allclose(g(w), 2 * s * w, rtol=1e-14)
        np.testing.assert_allclose(g(w, 3.0), 6 * w, rtol=1e-14)
        value, slope = vg(w)
        assert value == pytest.approx(s * 14.0, rel=1e-14)
        np.testing.assert_allclose(slope, 2 * s * w, rtol=1e-14)
        np.testing.assert_allclose(h(w), 2 * s * np.eye(3), rtol=1e-14)
        _, tangent = ad.jvp(squares, (w,), (np.ones(3),))
        assert tangent == pytest.approx(2 * s * 2.0, rel=1e-14)


def test_keyword_only_defaults_changed_in_place(restored):
    g = ad.grad(cubic_options)
    assert g(1.0) == pytest.approx(6.0, rel=1e-15)
    cubic_options.__kwdefaults__["scale"] = 4.0
    assert g(1.0) == pytest.approx(12.0, rel=1e-15)
    cubic_options.__kwdefaults__["scale"] = 2.0
    assert g(1.0) == pytest.approx(6.0, rel=1e-15)


def test_one_default_left_out_and_a_later_one_passed(restored):
    g = ad.grad(two_defaults)
    assert g(1.0, b=1.0) == pytest.approx(2.0 + 3.0, rel=1e-15)
    two_defaults.__defaults__ = (10.0, 2.0)
    assert g(1.0, b=1.0) == pytest.approx(20.0 + 3.0, rel=1e-15)
    assert g(1.0) == pytest.approx(20.0 + 6.0, rel=1e-15)
    two_defaults.__defaults__ = (1.0, 2.0)
    assert g(1.0, b=1.0) == pytest.approx(2.0 + 3.0, rel=1e-15)


def test_the_handle_without_the_generated_source_reads_them_too(
        restored, monkeypatch):
    # (the handle that calls the generated code, where its source is not
    # at hand to compile the checks into it)
    monkeypatch.setattr(_handle, "_checking_copy", lambda *args: None)
    g = ad.grad(two_defaults)
    two_defaults.__defaults__ = (10.0, 2.0)
    assert g(1.0) == pytest.approx(20.0 + 6.0, rel=1e-15)
    assert g(1.0, b=1.0) == pytest.approx(20.0 + 3.0, rel=1e-15)
    assert g(1.0, 1.0, 1.0) == pytest.approx(2.0 + 3.0, rel=1e-15)
