"""Removable singularities of derivatives in array code.

The derivative of np.sinc is (cos(pi x) - sinc(x)) / x, a 0/0 at x = 0
whose limit is 0. The rule writes it as its Taylor polynomial near 0 and
the formula elsewhere, so array code (whose Hessians and Jacobians write
a derivative's terms apart, each with its own 1 / x ** 2) is exact there
at every order, not only scalar code. Values: mpmath's derivatives of
sincpi (JAX's at 0: 0, -pi**2/3, 0, pi**4/5; near 0 JAX's third
derivative is off in its fifth digit, at 1e-3 0.0194828 for 0.0194818).
"""

from __future__ import annotations

import textwrap

import mpmath
import numpy as np
import pytest

import autodiff_ast as ad
from generated_lint import lint

# 0, tiny, either side of where the polynomial hands over (0.07), far
POINTS = np.array([0.0, 1e-9, 1e-3, -0.05, 0.0699, 0.07, -0.0701, 0.5, 1.5])


RTOL = {1: 1e-14, 2: 1e-13, 3: 1e-11}


def sinc_total(x):
    return np.sum(np.sinc(x))


def scaled_sinc_total(x, y):
    return np.sum(y * np.sinc(2 * x) + np.tanh(x))


def exact(order, points=POINTS, scale=1):
    return np.array([float(scale ** order * mpmath.diff(
        mpmath.sincpi, scale * mpmath.mpf(p), order)) for p in points])


def diagonal(array, order):
    indices = np.arange(array.shape[0])
    return array[(indices,) * order]


@pytest.mark.parametrize("order, derivative", [
    (1, ad.grad(sinc_total)),
    (1, ad.jacfwd(np.sinc)),
    (1, ad.jacrev(np.sinc)),
    (2, ad.hessian(sinc_total)),
    (2, ad.jacrev(ad.jacfwd(np.sinc))),
    (3, ad.jacfwd(ad.hessian(sinc_total))),
    (3, ad.jacrev(ad.jacfwd(ad.grad(sinc_total)))),
], ids=["grad", "jacfwd", "jacrev", "hessian", "jacrev_jacfwd",
        "jacfwd_hessian", "jacrev_jacfwd_grad"])
def test_every_order_of_sinc_is_exact_at_and_near_zero(order, derivative):
    got = derivative(POINTS)
    rank = got.ndim
    # (past the hand-over the formula cancels: at 0.07 the third
    # derivative's terms are 1 / x ** 3 times a difference of order x ** 2)
    np.testing.assert_allclose(diagonal(got, rank), exact(order),
                               rtol=RTOL[order], atol=1e-300)
    off = got.copy()
    off[(np.arange(POINTS.size),) * rank] = 0
    assert not off.any()  # rows at 0 held nan
    assert lint(ad.source(derivative, POINTS)) == []


def test_sinc_at_zero_is_jax_s_value_at_each_order():
    zero = np.zeros(2)
    np.testing.assert_array_equal(ad.grad(sinc_total)(zero), 0.0)
    np.testing.assert_allclose(np.diag(ad.hessian(sinc_total)(zero)),
                               -np.pi ** 2 / 3, rtol=1e-15)
    third = ad.jacfwd(ad.hessian(sinc_total))(zero)
    np.testing.assert_array_equal(third, 0.0)
    fourth = ad.jacfwd(ad.jacfwd(ad.hessian(sinc_total)))(zero)
    np.testing.assert_allclose(diagonal(fourth, 4), np.pi ** 4 / 5,
                               rtol=1e-14)


def test_jvp_and_a_scaled_argument_with_other_terms():
    tangents = np.linspace(-1, 1, POINTS.size)
    value, tangent = ad.jvp(np.sinc, (POINTS,), (tangents,))
    np.testing.assert_array_equal(value, np.sinc(POINTS))
    np.testing.assert_allclose(tangent, tangents * exact(1), rtol=1e-12,
                               atol=1e-300)
    y = np.linspace(0.5, 2, POINTS.size)
    gradient = ad.grad(scaled_sinc_total)(POINTS, y)
    np.testing.assert_allclose(
        gradient, y * exact(1, scale=2) + 1 - np.tanh(POINTS) ** 2,
        rtol=1e-12)
    hessian = ad.hessian(scaled_sinc_total)(POINTS, y)
    np.testing.assert_allclose(
        np.diag(hessian),
        y * exact(2, scale=2) - 2 * np.tanh(POINTS) / np.cosh(POINTS) ** 2,
        rtol=1e-12, atol=1e-300)


def test_code_with_no_such_point_is_written_as_before():
    # a derivative with no 0/0 gets no selection
    source = ad.source(ad.hessian(lambda x: np.sum(np.sin(x) / (1 + x ** 2))),
                       POINTS)
    assert "where" not in source


def test_a_singularity_that_cancels_leaves_the_formula():
    # x * sinc'(x) + sinc(x): the 1 / x cancels, so no selection is written
    def scaled(x):
        return np.sum(x * np.sinc(x))

    source = ad.source(ad.grad(scaled), POINTS)
    assert source.endswith("    return np.cos(np.pi * x)\n")
    assert "return np.cos(np.pi * x)\n" in ad.source(
        ad.grad(lambda x: x * np.sinc(x)))


def test_a_selection_of_the_user_s_own_is_kept():
    # the safe-log idiom looks like a written-out singularity, but its
    # branches differ: its derivative is 0 inside, 1 / x outside
    def safe_log_total(x):
        inside = abs(x) < 1
        return np.sum(x * np.where(inside, 0.0,
                                   np.log(np.where(inside, 1.0, x))))

    x = np.array([0.5, -0.25, 2.0, 3.0])
    np.testing.assert_allclose(ad.grad(safe_log_total)(x),
                               [0, 0, np.log(2) + 1, np.log(3) + 1])
    np.testing.assert_allclose(np.diag(ad.hessian(safe_log_total)(x)),
                               [0, 0, 1 / 2, 1 / 3])


def summed_sinc(x):
    return np.sum(np.sin(x) / x)


def test_a_gradient_with_a_removable_singularity_keeps_its_digits_near_it():
    # (x cos x - sin x) / x**2 is 0/0 at 0 and cancels every digit near
    # it (1e-7: 0.0008 where the derivative is -3.3e-8); written as scalar
    # code writes it, its Taylor polynomial near 0
    x = np.array([0.0, 1e-7, -1e-4, 0.05, 0.5, 3.0])
    with mpmath.workdps(40):
        expected = [float(mpmath.diff(lambda t: mpmath.sinc(t), mpmath.mpf(
            float(point)))) for point in x]
    np.testing.assert_allclose(ad.grad(summed_sinc)(x), expected,
                               rtol=1e-14, atol=0)
    printed = ad.source(ad.grad(summed_sinc), x)
    assert printed.endswith('    """\n' + textwrap.indent(textwrap.dedent("""\
        t = abs(x) < 0.1
        safe_x = np.where(t, 1, x)
        x_sq = x ** 2
        return np.where(t, x * (x_sq * (x_sq * (x_sq * (x_sq * (x_sq - 130)
                                                        + 11440) - 617760)
                                        + 17297280) - 172972800) / 518918400,
                        (np.cos(safe_x) - np.sin(safe_x) / safe_x) / safe_x)
        """), "    "))
    # the function's own value stays as it computes it (nan at 0)
    with np.errstate(invalid="ignore"):
        value, _ = ad.value_and_grad(summed_sinc)(x)
    assert np.isnan(value)


def sinc_derivative(order, points):
    with mpmath.workdps(40):
        return np.array([float(mpmath.diff(mpmath.sinc, mpmath.mpf(
            float(point)), order)) for point in points])


def test_hessians_and_jacobians_with_a_removable_singularity_keep_digits():
    # Their outputs are built in steps (np.diag(d2)): the elementwise
    # second derivative was a nan at 0 that filled its row, and at 1e-7
    # it was off in the third digit (-0.33386619 for -1/3)
    x = np.array([0.0, 1e-7, -1e-4, 0.05, 0.5, 3.0])
    hessian = ad.hessian(summed_sinc)(x)
    np.testing.assert_allclose(hessian, np.diag(sinc_derivative(2, x)),
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(ad.jacobian(ad.grad(summed_sinc))(x),
                               hessian, rtol=1e-14, atol=0)
    np.testing.assert_allclose(
        ad.jacobian(lambda x: np.sin(x) / x)(x),
        np.diag(sinc_derivative(1, x)), rtol=1e-14, atol=0)
    printed = ad.source(ad.hessian(summed_sinc), x)
    assert printed.endswith('    """\n' + textwrap.indent(textwrap.dedent("""\
        t = abs(x) < 0.1
        x_sq = x ** 2
        safe_x = np.where(t, 1, x)
        sin_safe_x = np.sin(safe_x)
        safe_x_sq = safe_x ** 2
        partial = np.where(
            t, x_sq * (x_sq * (x_sq * (x_sq * (x_sq * (1 / 47174400
                                                       - x_sq / 7185024000)
                                               - 1 / 443520) + 1 / 6480) - 1 / 168)
                       + 0.1) - 1 / 3,
            (2 * sin_safe_x / (safe_x * safe_x_sq) - 2 * np.cos(safe_x) / safe_x_sq
             - sin_safe_x / safe_x))
        return np.diag(partial)
        """), "    "))
    assert lint(printed) == []


def test_the_functions_own_steps_keep_their_values_in_a_jvp():
    # A jvp's value is the function's, nan at 0 as it computes it; only
    # its tangent, a derivative, is written by its Taylor polynomial
    def flipped_sinc(x):
        return np.flip(np.sin(x) / x)

    x = np.array([0.5, 1e-7, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        value, tangent = ad.jvp(flipped_sinc, (x,), (np.ones(3),))
    assert np.isnan(value[0])
    np.testing.assert_allclose(value[1:], np.sin(x[1::-1]) / x[1::-1],
                               rtol=1e-15)
    np.testing.assert_allclose(tangent, sinc_derivative(1, x)[::-1],
                               rtol=1e-14, atol=0)


def test_a_derivative_that_reads_the_users_own_step_keeps_its_digits():
    # The Hessian's diagonal reads the user's step sinh_x: sinh_x / x + 2 *
    # (sinh_x / x - cosh(x)) / x**2, a function of x alone, was nan at 0
    # and 5.44 at 1e-8, where the second derivative is 1/3
    def summed_shc(x):
        return np.sum(np.sinh(x) / x)

    x = np.array([0.0, 1e-8, -1e-3, 0.05, 0.5])
    with mpmath.workdps(40):
        expected = [float(mpmath.diff(lambda t: mpmath.sinh(t) / t
                                      if t else mpmath.mpf(1),
                                      mpmath.mpf(float(point)), 2))
                    for point in x[1:]]
    hessian = ad.hessian(summed_shc)(x)
    np.testing.assert_allclose(np.diag(hessian), [1 / 3] + expected,
                               rtol=1e-14, atol=0)
    assert not np.any(hessian - np.diag(np.diag(hessian)))


# -- the rule's form does not depend on the machine's load ---------------------

def _sinc_rule_form_again():
    from autodiff_ast import _functions
    form = _functions._sinc_slope.form
    form.cache_clear()
    return form


def _written_with_its_polynomial(form):
    from autodiff_ast import _functions
    point, _, written = form()
    assert isinstance(written, _functions.where)
    _, polynomial, _ = written.args
    assert polynomial.subs(point, 0) == 0  # the slope's value at 0


def test_the_sinc_rule_is_worked_out_whatever_time_its_series_takes(
        monkeypatch):
    # The form is kept for the process: a series cut short by its CPU-time
    # limit (a cold process on a busy machine) left every later derivative
    # of np.sinc in it nan at 0 (two Hessians here, once, on Python 3.13).
    from autodiff_ast import _singular
    form = _sinc_rule_form_again()
    monkeypatch.setattr(_singular, "_BUDGET_SECONDS", 1e-6)
    try:
        _written_with_its_polynomial(form)
    finally:
        form.cache_clear()


def test_a_time_limit_around_the_sinc_rule_leaves_no_form_behind():
    # A limit around the rule's first use that runs out raises through it,
    # not kept as "no Taylor polynomial" for the rest of the process.
    from autodiff_ast._limits import TimeUp, time_limit
    form = _sinc_rule_form_again()
    try:
        with time_limit(1e-6):
            form()
    except TimeUp:
        pass
    try:
        _written_with_its_polynomial(form)
    finally:
        form.cache_clear()
