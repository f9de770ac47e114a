"""Common subexpressions that CSE's structural matching misses (issue 13).

SymPy distributes a rational factor over a sum: ``2 * (1 - u)`` is
``2 - 2 * u``, so the derivatives of tanh code compute 1 - tanh ** 2 in
several forms (``4 - 4 * t ** 2`` beside ``2 - 2 * t ** 2``) and CSE,
which matches structure, shares none of them. ``_subexpressions`` writes
such sums over one value where that makes the code cheaper. The sources here
are the exact text; each is checked against its closed form.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import autodiff_ast as ad
from autodiff_ast import _subexpressions


def decaying(x):
    return np.exp(-x) * np.tanh(2 * x)


def gaussian(mu, sigma, x):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(
        2 * np.pi))


def squashed(x):
    return np.log(1 + np.tanh(x) ** 2)


def shifted(x):
    return np.tanh(1.1 * x + 0.3) * x


def body(function) -> str:
    return ad.source(function).split('"""')[2]


def second_derivative(exact, at: float) -> float:
    with mpmath.workdps(40):
        return float(mpmath.diff(exact, mpmath.mpf(at), 2))


POINTS = (-1.7, -0.2, 0.3, 2.4)


def test_one_minus_tanh_squared_is_one_value_at_every_factor():
    # It was t0 * t1 - 2 * t0 * t1 * (4 - 4 * t1_sq) - 2 * t0 * (2 - 2 *
    # t1_sq): 1 - tanh(2 x) ** 2 twice, at two factors.
    d2 = ad.grad(ad.grad(decaying))
    assert body(d2) == """
    exp = np.exp(-x)
    tanh = np.tanh(2 * x)
    t = 1 - tanh ** 2
    return exp * (tanh - 8 * tanh * t - 4 * t)
"""
    for x in POINTS:
        want = second_derivative(
            lambda t: mpmath.exp(-t) * mpmath.tanh(2 * t), x)
        assert d2(x) == pytest.approx(want, rel=1e-13)


def test_a_sum_and_its_double_are_one_value():
    # It was t0 = 1 / sigma_sq, t1 = (x - mu) ** 2 and, beside them,
    # 0.25 * t0 * sigma_inv * t2 * (2 * x - 2 * mu): x - mu twice.
    vg = ad.value_and_grad(gaussian, argnums=(0, 1))
    assert body(vg) == """
    sigma_inv = 1 / sigma
    sigma_sq = sigma ** 2
    t = 0.5 / sigma_sq
    t_1 = x - mu
    t_1_sq = t_1 ** 2
    t_2 = float(np.sqrt(2)) * np.exp(-t * t_1_sq) / float(np.sqrt(np.pi))
    value = 0.5 * sigma_inv * t_2
    grad_mu = t * sigma_inv * t_2 * t_1
    grad_sigma = t_2 * (0.5 * t_1_sq / sigma_sq ** 2 - t)
    return value, (grad_mu, grad_sigma)
"""
    mu, sigma, x = 0.3, 1.3, -0.4
    density = math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (
        sigma * math.sqrt(2 * math.pi))
    value, (grad_mu, grad_sigma) = vg(mu, sigma, x)
    assert value == pytest.approx(density, rel=1e-14)
    assert grad_mu == pytest.approx(density * (x - mu) / sigma ** 2,
                                    rel=1e-14)
    assert grad_sigma == pytest.approx(
        density * ((x - mu) ** 2 / sigma ** 3 - 1 / sigma), rel=1e-14)


def test_a_sum_named_once_is_read_at_its_other_factor():
    # It was t1 = 2 - 2 * tanh_x_sq beside (1 - tanh_x_sq) in the return.
    d2 = ad.grad(ad.grad(squashed))
    assert body(d2) == """
    tanh_x_sq = np.tanh(x) ** 2
    t = tanh_x_sq + 1
    t_inv = 1 / t
    t_1 = 1 - tanh_x_sq
    t_1_sq = t_1 ** 2
    return (t_inv * (2 * t_1_sq - 4 * tanh_x_sq * t_1)
            - 4 * tanh_x_sq * t_1_sq / t ** 2)
"""
    for x in POINTS:
        want = second_derivative(
            lambda t: mpmath.log(1 + mpmath.tanh(t) ** 2), x)
        assert d2(x) == pytest.approx(want, rel=1e-12)


def test_a_sum_only_written_at_other_factors_stays_as_written():
    # 1.1 * x + 0.3 and 4.4 * x + 1.2 are one sum, but its stand-in would
    # be 11 * x + 3, which nobody wrote: tanh(0.1 * t0) reads worse.
    d2 = ad.grad(ad.grad(shifted))
    assert body(d2) == """
    exp = np.exp(-0.5 * abs(4.4 * x + 1.2))
    t = 1 / (exp + 1) ** 2
    return 0.88 * t * exp * (10 - 11 * x * np.tanh(1.1 * x + 0.3))
"""
    for x in POINTS:
        want = second_derivative(
            lambda t: mpmath.tanh(1.1 * t + 0.3) * t, x)
        assert d2(x) == pytest.approx(want, rel=1e-12)


u, w, y = sp.symbols("u w y", real=True)


def test_a_sum_inside_a_larger_sum_reads_the_name():
    # 2.2 - 2.2 * u + w holds 2.2 * (1 - u), which the other output
    # computes: one temporary, read by both.
    temporaries, outputs = _subexpressions._shared(
        [sp.Rational(11, 5) * (1 - u) + w, (1 - u) * y * w], squares=True)
    assert len(temporaries) == 1
    name, value = temporaries[0]
    assert value == 1 - u
    assert outputs == [sp.Rational(11, 5) * name + w, name * w * y]


def test_a_sum_in_one_form_is_left_to_cse():
    # One form each: nothing to share, and CSE's answer stands.
    exprs = [sp.Rational(11, 5) - sp.Rational(11, 5) * u, w * y]
    assert _subexpressions._over_primitive_sums(exprs) == (exprs, [])
    assert _subexpressions._shared(exprs, squares=True) == ([], exprs)


def test_a_value_made_again_after_cse_reads_its_name():
    # Collecting like terms after the last CSE makes 16 * a * b + 16 * a *
    # b into 32 * a * b, which a temporary holds (the eighth derivative of
    # exp(sin(x)) * tanh(x ** 2) computed it twice; test_lint checks it).
    t1, t2, t3, k = sp.symbols("t1 t2 t3 k")
    product = 32 * u * w
    temporaries, outputs = _subexpressions._reading_names(
        [(t1, product), (t2, sp.sin(product) + 1),
         (t3, sp.sin(product) + 1), (k, product)],  # held twice: one name
        [product + y, t3 * t2 * k])
    assert temporaries == [(t1, product), (t2, sp.sin(t1) + 1)]
    assert outputs == [t1 + y, t1 * t2 ** 2]


def wave(x, y):
    return np.exp(-x * y) * np.sin(x + y)


def test_a_named_product_is_read_where_a_larger_product_holds_it():
    # It was t_1 = sin_t * exp beside sin_t * exp * x * y and sin_t * exp
    # * y ** 2: SymPy's CSE names a product where it stands whole, not
    # where it is a part of a larger one.
    hessian = ad.hessian(wave, argnums=(0, 1))
    assert body(hessian) == """
    t = x + y
    sin_t = np.sin(t)
    exp = np.exp(-x * y)
    t_1 = sin_t * exp
    t_2 = exp * np.cos(t)
    t_3 = t_2 * y
    t_4 = t_2 * x
    d2_dx_dy = t_1 * (x * y - 2) - t_3 - t_4
    d2_dx2 = t_1 * y ** 2 - t_1 - 2 * t_3
    d2_dy2 = t_1 * x ** 2 - t_1 - 2 * t_4
    return (d2_dx2, d2_dx_dy), (d2_dx_dy, d2_dy2)
"""
    x, y = mpmath.mpf("0.7"), mpmath.mpf("-0.3")

    def exact(*orders):
        with mpmath.workdps(40):
            return float(mpmath.diff(lambda a, b: mpmath.exp(-a * b)
                                     * mpmath.sin(a + b), (x, y), orders))

    (xx, xy), (yx, yy) = hessian(0.7, -0.3)
    assert xy == yx
    assert (xx, xy, yy) == (pytest.approx(exact(2, 0), rel=1e-14),
                            pytest.approx(exact(1, 1), rel=1e-14),
                            pytest.approx(exact(0, 2), rel=1e-14))
