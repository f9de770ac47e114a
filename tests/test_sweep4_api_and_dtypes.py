"""The API at its edges, as JAX users call it (sweep 4): scalars of every
kind (Python floats, NumPy scalars, 0-d arrays, float32), shape () against
(1,), keyword and default arguments, methods, lambdas, partials, closures
made by a factory, one handle over many shapes; integer data of every
dtype; JAX's conventions at kinks (the double-``where`` trick, ``abs`` and
``clip`` and ``maximum`` at their corners); library functions passed to a
transform directly.

Expected numbers at kinks are JAX 0.10.2's (float64), pasted in. Known bugs
are strict xfails whose reason names their entry in the sweep's list.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.special
import scipy.stats

import autodiff_ast as ad
from helpers import numeric_gradient


def cubic_and_sine(x):
    return x ** 3 + np.sin(x)


def cubic_and_sine_slope(x):
    return 3 * x ** 2 + np.cos(x)


# -- scalars of every kind ---------------------------------------------------------

@pytest.mark.parametrize("x, dtype", [
    (1.5, np.float64),
    (np.float64(1.5), np.float64),
    (np.float32(1.5), np.float32),
    (np.array(1.5), np.float64),
    (np.array(1.5, dtype=np.float32), np.float32)])
def test_a_number_of_every_kind_keeps_its_dtype(x, dtype):
    g = ad.grad(cubic_and_sine)(x)
    assert np.ndim(g) == 0
    assert np.result_type(g) == dtype
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    assert float(g) == pytest.approx(cubic_and_sine_slope(1.5), rel=rtol)


def sum_of_squares(x):
    return np.sum(x ** 2)


def test_shape_one_and_shape_zero_stay_apart():
    # a (1,) argument gets a (1,) gradient, a 0-d argument a 0-d one
    g = ad.grad(sum_of_squares)
    assert np.shape(g(np.array([1.5]))) == (1,)
    assert np.shape(g(np.array(1.5))) == ()
    assert g(np.array([1.5]))[0] == 3.0
    assert g(np.array(1.5)) == 3.0


def test_one_handle_over_many_shapes_and_dtypes():
    g = ad.grad(sum_of_squares)
    for shape in [(2,), (3,), (2, 2), (), (1, 1, 3), (5,), (2,)]:
        x = np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape)
        assert np.shape(g(x)) == shape
        np.testing.assert_array_equal(g(x), 2 * x)
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    assert g(x32).dtype == np.float32
    value, gradient = ad.value_and_grad(sum_of_squares)(x32)
    assert value.dtype == np.float32 and gradient.dtype == np.float32
    assert ad.hessian(sum_of_squares)(x32).dtype == np.float32
    np.testing.assert_array_equal(ad.hessian(sum_of_squares)(x32),
                                  2 * np.eye(2, dtype=np.float32))


def test_an_integer_array_is_refused_as_in_jax():
    with pytest.raises(ad.InputError):
        ad.grad(sum_of_squares)(np.array([1, 2, 3]))


# -- how the function is given and called ------------------------------------------

def product(x, y=2.0, *, z=3.0):
    return x * y * z


def test_keyword_and_default_arguments_at_call_time():
    assert ad.grad(product)(1.0) == 6.0
    assert ad.grad(product)(1.0, y=5.0) == 15.0
    assert ad.grad(product)(1.0, z=5.0) == 10.0
    assert ad.grad(product, argnums=1)(1.0, 4.0) == 3.0
    assert ad.grad(product, argnums=1)(1.0) == 3.0
    assert ad.grad(functools.partial(product, y=3.0))(1.0) == 9.0
    assert ad.grad(functools.partial(product, 2.0))(3.0) == 6.0
    assert ad.grad(lambda x, a: a * x ** 2)(3.0, 2.0) == 12.0


class Ridge:
    def __init__(self, lam):
        self.lam = lam

    def loss(self, w):
        return self.lam * np.sum(w ** 2)

    def __call__(self, w):
        return self.loss(w) + np.sum(w)


def make_scaled(c):
    def scaled(x):
        return c * x ** 2
    return scaled


def test_methods_callables_and_closures_made_by_a_factory():
    w = np.array([1.0, -2.0])
    model = Ridge(2.0)
    g = ad.grad(model.loss)
    np.testing.assert_array_equal(g(w), 4 * w)
    model.lam = 5.0
    np.testing.assert_array_equal(g(w), 10 * w)
    np.testing.assert_array_equal(ad.grad(Ridge(7.0).loss)(w), 14 * w)
    np.testing.assert_array_equal(ad.grad(Ridge(1.0))(w), 2 * w + 1)
    scaled = [make_scaled(c) for c in (1.0, 2.0, 3.0)]
    assert [ad.grad(f)(1.0) for f in scaled] == [2.0, 4.0, 6.0]


# -- integer data ---------------------------------------------------------------------

def tutorial_loss(W, inputs, targets):
    # the JAX tutorial's logistic regression, jnp -> np
    preds = 0.5 * (np.tanh(np.dot(inputs, W) / 2) + 1)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def sigmoid_loss(W, inputs, targets):
    p = 1 / (1 + np.exp(-(inputs @ W)))
    return -np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p))


_rng = np.random.default_rng(4)
INPUTS = _rng.normal(size=(6, 3))
WEIGHTS = _rng.normal(size=3)
LABELS = np.array([1, 0, 1, 1, 0, 0])


@pytest.mark.parametrize("loss, dtype", [
    (tutorial_loss, bool), (tutorial_loss, np.int8), (tutorial_loss, np.int64),
    (tutorial_loss, np.float32), (sigmoid_loss, np.int32),
    (sigmoid_loss, np.uint8), (sigmoid_loss, np.uint64)])
def test_labels_of_any_integer_dtype(loss, dtype):
    expected = numeric_gradient(loss, (WEIGHTS, INPUTS, LABELS * 1.0), 0)
    np.testing.assert_allclose(
        ad.grad(loss)(WEIGHTS, INPUTS, LABELS.astype(dtype)), expected,
        rtol=1e-6, atol=1e-9)


# was sweep4 bug 2: 2 * t - 1 wrapped around in unsigned arithmetic
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32,
                                   np.uint64])
def test_unsigned_labels_in_the_tutorial_loss(dtype):
    expected = numeric_gradient(tutorial_loss, (WEIGHTS, INPUTS, LABELS * 1.0),
                                0)
    np.testing.assert_allclose(
        ad.grad(tutorial_loss)(WEIGHTS, INPUTS, LABELS.astype(dtype)),
        expected, rtol=1e-6, atol=1e-9)


# -- JAX's conventions at kinks ----------------------------------------------------

def safe_norm(x):
    sq = np.sum(x ** 2)
    return np.where(sq > 0, np.sqrt(np.where(sq > 0, sq, 1.0)), 0.0)


def safe_log(x):
    return np.sum(np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), -10.0))


def test_the_double_where_trick_gives_finite_gradients():
    np.testing.assert_array_equal(ad.grad(safe_norm)(np.zeros(3)), np.zeros(3))
    x = np.array([3.0, 4.0, 0.0])
    np.testing.assert_allclose(ad.grad(safe_norm)(x), [0.6, 0.8, 0.0],
                               rtol=1e-15)
    # JAX: [[0.128, -0.096, 0], [-0.096, 0.072, 0], [0, 0, 0.2]]
    np.testing.assert_allclose(
        ad.hessian(safe_norm)(x),
        [[0.128, -0.096, 0.0], [-0.096, 0.072, 0.0], [0.0, 0.0, 0.2]],
        rtol=1e-12, atol=1e-15)
    g = ad.grad(safe_log)(np.array([0.0, 2.0, -1.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.0])


@pytest.mark.parametrize("f, x, expected", [
    # values are JAX 0.10.2's
    (lambda x: np.sum(np.clip(x, -1.0, 1.0) ** 2),
     np.array([-1.0, 0.5, 1.0, 2.0]), [-1.0, 1.0, 1.0, 0.0]),
    (lambda x: np.sum(np.abs(x) * x), np.array([0.0, -2.0, 3.0]),
     [0.0, 4.0, 6.0]),
    (lambda x: np.sum(np.maximum(x, 0.0)), np.array([0.0, -2.0, 3.0]),
     [0.5, 0.0, 1.0]),
    (lambda x: np.max(x), np.array([1.0, 3.0, 3.0]), [0.0, 0.5, 0.5]),
    (lambda x: np.sum(np.abs(x)), np.array([0.0, -1.0, 2.0]),
     [1.0, -1.0, 1.0])])
def test_kinks_follow_jax(f, x, expected):
    np.testing.assert_array_equal(ad.grad(f)(x), expected)


# -- library functions given to a transform directly ------------------------------

X3 = np.array([0.5, -1.2, 2.0])


def test_scipy_special_functions_inside_a_function():
    lse = ad.grad(lambda z: scipy.special.logsumexp(z))(X3)
    np.testing.assert_allclose(lse, np.exp(X3) / np.sum(np.exp(X3)),
                               rtol=1e-14)
    assert ad.grad(scipy.special.expit)(1.3) == pytest.approx(
        scipy.special.expit(1.3) * scipy.special.expit(-1.3), rel=1e-14)


# was sweep4 bug 9: ad.grad(scipy.special.logsumexp) refused
def test_scipy_logsumexp_given_directly():
    np.testing.assert_allclose(ad.grad(scipy.special.logsumexp)(X3),
                               np.exp(X3) / np.sum(np.exp(X3)), rtol=1e-14)


# was sweep4 bug 9: ad.jacobian(scipy.special.softmax) refused
def test_scipy_softmax_given_directly():
    s = np.exp(X3) / np.sum(np.exp(X3))
    np.testing.assert_allclose(ad.jacobian(scipy.special.softmax)(X3),
                               np.diag(s) - np.outer(s, s), rtol=1e-12,
                               atol=1e-15)


def test_scipy_stats_norm_inside_a_function():
    g = ad.grad(lambda m: scipy.stats.norm.logpdf(0.3, loc=m, scale=2.0))(0.1)
    assert g == pytest.approx(0.05, rel=1e-14)


# was sweep4 bug 10: ad.grad(scipy.stats.norm.logpdf)(0.3) needed loc, scale
@pytest.mark.parametrize("method, expected", [
    ("logpdf", -0.3),
    ("pdf", -0.3 * scipy.stats.norm.pdf(0.3)),
    ("cdf", scipy.stats.norm.pdf(0.3)),
    ("logcdf", scipy.stats.norm.pdf(0.3) / scipy.stats.norm.cdf(0.3))])
def test_scipy_stats_norm_given_directly(method, expected):
    got = ad.grad(getattr(scipy.stats.norm, method))(0.3)
    assert got == pytest.approx(expected, rel=1e-12)


# was sweep4 bug 12: ad.grad(scipy.special.digamma)(1.3) returned a 0-d
# ndarray where every other derivative of a Python float is np.float64
def test_digamma_derivative_takes_its_arguments_type():
    g = ad.grad(scipy.special.digamma)(1.3)
    assert type(g) is float
    assert g == pytest.approx(scipy.special.polygamma(1, 1.3), rel=1e-12)
    assert type(ad.grad(scipy.special.digamma)(np.float64(1.3))) is \
        np.float64


# -- NumPy functions of Python lists -------------------------------------------------

# was sweep4 bug 8: a NumPy reduction of a Python list of computed values
# was refused with '[a, a**2, 3] is not a number'
@pytest.mark.parametrize("f, expected", [
    (lambda a: np.sum([a, a ** 2, 3.0]), 4.0),
    (lambda a: np.mean([a, a ** 2]), 2.0),
    (lambda a: np.max([a, 2 * a]), 2.0),
    (lambda a: np.linalg.norm([a, 2.0]), 1.5 / 2.5)])
def test_numpy_reductions_of_a_list(f, expected):
    assert ad.grad(f)(1.5) == pytest.approx(expected, rel=1e-14)


def sum_of_squares_of_each(*ws):
    return sum(np.sum(w ** 2) for w in ws)


# was sweep4 bug 21: a function of *args (def f(*ws)) was refused
def test_a_function_of_star_args():
    w0, w1 = np.ones(2), np.array([1.0, -2.0])
    g0, g1 = ad.grad(sum_of_squares_of_each, argnums=(0, 1))(w0, w1)
    np.testing.assert_array_equal(g0, 2 * w0)
    np.testing.assert_array_equal(g1, 2 * w1)
