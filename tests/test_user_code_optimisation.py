"""Optimisation, classical ML and finance code as people write it: a behaviour
sweep (issue 10, third round).

Optimisation test functions (N-d Rosenbrock by slices, Rastrigin, Ackley,
Beale, Himmelblau, Styblinski-Tang) with their gradients and Hessians at
known points; classical ML losses (L2-regularised logistic regression with a
separate intercept, hinge and squared hinge, focal loss, ridge and weighted
least squares, Poisson and Gamma GLMs, k-means distortion, a Gaussian
mixture by a hand logsumexp, Student-t); portfolio variance, Sharpe ratio
and softmax weights; and the API as JAX users call it (argnums tuples and
negative argnums, keyword arguments at call time, ``has_aux`` with dicts,
``value_and_grad`` of pytrees, ``jacfwd`` against ``jacrev``, ``vjp``
pulled back twice, one generation at several sizes, float32, printed
source run with ``exec``). Values are checked against closed forms or
central differences; structures, shapes and dtypes are JAX's. The physics
and scalar-code half is test_user_code_physics.py. Known bugs are strict
xfails whose reason names their entry in the sweep's list.
"""

from __future__ import annotations

import types
from typing import NamedTuple

import mpmath
import numpy as np
import optree
import pytest

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient

rng = np.random.default_rng(10)


def assert_tree_close(actual, expected, rtol=1e-7, atol=0.0):
    """Same pytree structure, shapes and values."""
    assert optree.tree_structure(actual) == optree.tree_structure(expected)
    for a, e in zip(optree.tree_leaves(actual), optree.tree_leaves(expected)):
        assert np.shape(a) == np.shape(e)
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def numeric_hessian(grad, x, step=1e-5):
    """Central differences of a gradient function, laid out x.shape * 2."""
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = step
        e = e.reshape(x.shape)
        columns.append((grad(x + e) - grad(x - e)) / (2 * step))
    return np.moveaxis(np.array(columns).reshape(x.shape + x.shape),
                       range(x.ndim), range(x.ndim, 2 * x.ndim))


def known_bug(case, number, reason, raises=ad.UnsupportedCodeError):
    """A parametrized case that fails today: entry ``number`` of the
    sweep's bug list, a strict xfail so that its fix is noticed."""
    return pytest.param(case, marks=pytest.mark.xfail(
        strict=True, raises=raises, reason=f"sweep3 bug {number}: {reason}"))


# -- optimisation test functions ----------------------------------------------

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_gradient(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def test_rosenbrock_at_every_size_from_one_generation():
    grad, hessian = ad.grad(rosenbrock), ad.hessian(rosenbrock)
    for n in (2, 4, 7):
        x = np.linspace(-1.2, 1.1, n)
        np.testing.assert_allclose(grad(x), rosenbrock_gradient(x),
                                   rtol=1e-14)
        # at the minimum: 0, and the known tridiagonal Hessian
        np.testing.assert_array_equal(grad(np.ones(n)), np.zeros(n))
        expected = (np.diag(np.r_[802.0, np.full(n - 2, 1002.0), 200.0])
                    - 400 * np.eye(n, k=1) - 400 * np.eye(n, k=-1))
        np.testing.assert_array_equal(hessian(np.ones(n)), expected)
        np.testing.assert_allclose(hessian(x), numeric_hessian(grad, x),
                                   rtol=1e-7, atol=1e-5)
    x32 = np.array([0.5, -0.2, 1.1], np.float32)
    assert grad(x32).dtype == hessian(x32).dtype == np.float32
    np.testing.assert_allclose(grad(x32), rosenbrock_gradient(
        x32.astype(float)), rtol=1e-6)


def test_rosenbrock_third_derivatives_by_composing_transforms():
    x = np.array([0.5, -0.2, 1.1, 0.7])
    expected = np.zeros((4, 4, 4))
    for i in range(3):
        expected[i, i, i] = 2400 * x[i]
        for index in ((i, i, i + 1), (i, i + 1, i), (i + 1, i, i)):
            expected[index] = -400
    for third in (ad.jacfwd(ad.hessian(rosenbrock)),
                  ad.jacrev(ad.hessian(rosenbrock)),
                  ad.hessian(ad.grad(rosenbrock))):
        np.testing.assert_array_equal(third(x), expected)


def rastrigin(x, A=10.0):
    return A * x.size + np.sum(x ** 2 - A * np.cos(2 * np.pi * x))


def test_rastrigin_with_its_amplitude_as_a_default_and_a_keyword():
    x = np.array([0.3, -1.2, 2.05])
    for A, kwargs in ((10.0, {}), (3.0, {'A': 3.0})):
        np.testing.assert_allclose(
            ad.grad(rastrigin)(x, **kwargs),
            2 * x + 2 * np.pi * A * np.sin(2 * np.pi * x), rtol=1e-14)
        np.testing.assert_allclose(
            ad.hessian(rastrigin)(x, **kwargs),
            np.diag(2 + 4 * np.pi ** 2 * A * np.cos(2 * np.pi * x)),
            rtol=1e-14, atol=1e-12)
    assert ad.grad(rastrigin, 1)(x, 3.0) == pytest.approx(
        x.size - np.sum(np.cos(2 * np.pi * x)), rel=1e-14)
    np.testing.assert_array_equal(ad.grad(rastrigin)(np.zeros(4)),
                                  np.zeros(4))


def ackley(x):
    n = x.shape[0]
    return (-20 * np.exp(-0.2 * np.sqrt(np.sum(x ** 2) / n))
            - np.exp(np.sum(np.cos(2 * np.pi * x)) / n) + 20 + np.e)


def test_ackley_gradient_and_hessian():
    for x in (np.array([0.3, -0.7, 1.2, 0.5]), np.array([1.5, -0.25])):
        n = x.size
        rms = np.sqrt(np.sum(x ** 2) / n)
        expected = (4 * np.exp(-0.2 * rms) * x / (n * rms)
                    + 2 * np.pi / n * np.exp(np.mean(np.cos(2 * np.pi * x)))
                    * np.sin(2 * np.pi * x))
        np.testing.assert_allclose(ad.grad(ackley)(x), expected, rtol=1e-13)
        H = ad.hessian(ackley)(x)
        np.testing.assert_allclose(H, H.T, rtol=1e-13)
        np.testing.assert_allclose(H, numeric_hessian(ad.grad(ackley), x),
                                   rtol=1e-7, atol=1e-8)


def beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def test_beale_hessian_at_its_minimum_is_gauss_newton():
    # the residuals vanish at (3, 1/2), so the Hessian is exactly 2 J^T J
    x, y = 3.0, 0.5
    assert ad.grad(beale, (0, 1))(x, y) == (0.0, 0.0)
    J = np.array([[y - 1, x], [y ** 2 - 1, 2 * x * y],
                  [y ** 3 - 1, 3 * x * y ** 2]])
    H = ad.hessian(beale, (0, 1))(x, y)
    assert isinstance(H, tuple) and all(isinstance(row, tuple) for row in H)
    np.testing.assert_array_equal(np.array(H, dtype=float), 2 * J.T @ J)
    H32 = ad.hessian(beale, (0, 1))(np.float32(x), np.float32(y))
    assert [type(h) for row in H32 for h in row] == [np.float32] * 4
    for point in ((1.0, 1.5), (-0.5, 2.0)):
        g = ad.grad(beale, (0, 1))(*point)
        assert g == pytest.approx(
            [central_difference(beale, point, i) for i in (0, 1)], rel=1e-9)


def himmelblau_by_index(p):
    return (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2


def himmelblau_unpacked(p):
    x, y = p
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def check_himmelblau(f):
    np.testing.assert_array_equal(ad.grad(f)(np.array([3.0, 2.0])), [0, 0])
    np.testing.assert_array_equal(ad.hessian(f)(np.array([3.0, 2.0])),
                                  [[74, 20], [20, 34]])
    np.testing.assert_array_equal(ad.grad(f)(np.array([1.0, 2.0])),
                                  [-36, -32])  # JAX's numbers


@pytest.mark.parametrize("f", [himmelblau_by_index, himmelblau_unpacked])
def test_himmelblau_at_its_minimum(f):
    check_himmelblau(f)  # unpacking was sweep3 bug 1


def styblinski_tang(x):
    return 0.5 * np.sum(x ** 4 - 16 * x ** 2 + 5 * x)


def test_styblinski_tang_at_its_minimum():
    # the minimum is the root of 4x^3 - 32x + 5 near -2.9035
    root = min(np.roots([4, 0, -32, 5]).real)
    x = np.full(3, root)
    np.testing.assert_allclose(ad.grad(styblinski_tang)(x), 0.0, atol=1e-13)
    np.testing.assert_allclose(ad.hessian(styblinski_tang)(x),
                               np.diag(0.5 * (12 * x ** 2 - 32)), rtol=1e-14)
    v = np.array([1.0, -2.0, 0.5])
    value, hv = ad.jvp(ad.grad(styblinski_tang), (x,), (v,))
    np.testing.assert_allclose(hv, 0.5 * (12 * x ** 2 - 32) * v, rtol=1e-14)


def griewank(x):
    i = np.arange(1, x.size + 1)
    return 1 + np.sum(x ** 2) / 4000 - np.prod(np.cos(x / np.sqrt(i)))


def levy(x):
    w = 1 + (x - 1) / 4
    middle = (w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2)
    return (np.sin(np.pi * w[0]) ** 2 + np.sum(middle)
            + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


def zakharov(x):
    s = np.sum(0.5 * np.arange(1, x.size + 1) * x)
    return np.sum(x ** 2) + s ** 2 + s ** 4


def dixon_price(x):
    i = np.arange(2, x.size + 1)
    return (x[0] - 1) ** 2 + np.sum(i * (2 * x[1:] ** 2 - x[:-1]) ** 2)


def trid(x):
    return np.sum((x - 1) ** 2) - np.sum(x[1:] * x[:-1])


def booth(p):
    return (p[0] + 2 * p[1] - 7) ** 2 + (2 * p[0] + p[1] - 5) ** 2


def easom(p):
    return (-np.cos(p[0]) * np.cos(p[1])
            * np.exp(-((p[0] - np.pi) ** 2 + (p[1] - np.pi) ** 2)))


_I = np.arange(1, 5)
MINIMA = {  # each function's known minimiser in 4 (or 2) dimensions
    griewank: np.zeros(4), levy: np.ones(4), zakharov: np.zeros(4),
    dixon_price: 2.0 ** (-(2.0 ** _I - 2) / 2.0 ** _I),
    trid: _I * (5.0 - _I), booth: np.array([1.0, 3.0]),
    easom: np.array([np.pi, np.pi])}


@pytest.mark.parametrize("f", list(MINIMA), ids=lambda f: f.__name__)
def test_benchmark_functions_at_a_point_and_at_their_minimum(f):
    x = np.array([0.3, -0.7, 1.2, 0.5])[:MINIMA[f].size]
    np.testing.assert_allclose(ad.grad(f)(x), numeric_gradient(f, (x,), 0),
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ad.hessian(f)(x),
                               numeric_hessian(ad.grad(f), x), rtol=1e-7,
                               atol=1e-8)
    x_star = MINIMA[f]
    np.testing.assert_allclose(ad.grad(f)(x_star), 0.0, atol=1e-13)
    H = ad.hessian(f)(x_star)
    np.testing.assert_allclose(H, H.T, rtol=1e-14)
    assert np.linalg.eigvalsh(H).min() > 0  # a strict minimum
    if f is trid:  # a quadratic: 2 on the diagonal, -1 beside it
        np.testing.assert_array_equal(
            H, 2 * np.eye(4) - np.eye(4, k=1) - np.eye(4, k=-1))


# -- classical ML losses ------------------------------------------------------

X = rng.normal(size=(8, 3))
Y01 = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
YPM = 2 * Y01 - 1
W = np.array([0.3, -0.5, 0.8])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def logistic_l2(w, b, X, y, lam=0.1):
    z = X @ w + b
    softplus = np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)
    return np.mean(softplus - y * z) + 0.5 * lam * np.dot(w, w)


def test_logistic_regression_with_a_separate_intercept():
    b, lam, n = 0.2, 0.1, len(Y01)
    p = sigmoid(X @ W + b)
    grad_w, grad_b = ad.grad(logistic_l2, (0, 1))(W, b, X, Y01)
    np.testing.assert_allclose(grad_w, X.T @ (p - Y01) / n + lam * W,
                               rtol=1e-13)
    assert grad_b == pytest.approx(np.mean(p - Y01), rel=1e-13)
    ((Hww, Hwb), (Hbw, Hbb)) = ad.hessian(logistic_l2, (0, 1))(W, b, X, Y01)
    s = p * (1 - p) / n
    np.testing.assert_allclose(Hww, X.T @ (s[:, None] * X) + lam * np.eye(3),
                               rtol=1e-12)
    np.testing.assert_allclose(Hwb, X.T @ s, rtol=1e-12)
    np.testing.assert_allclose(Hbw, X.T @ s, rtol=1e-12)
    assert Hwb.shape == Hbw.shape == (3,) and np.shape(Hbb) == ()
    assert Hbb == pytest.approx(np.sum(s), rel=1e-12)
    # the softplus written stably stays finite and exact at huge margins
    far = ad.grad(logistic_l2, (0, 1))(W, 800.0, X, Y01)
    np.testing.assert_allclose(far[0], X.T @ (1 - Y01) / n + lam * W,
                               rtol=1e-13)
    assert far[1] == pytest.approx(np.mean(1 - Y01), rel=1e-13)
    # lam by keyword at call time, and differentiated by position
    assert ad.grad(logistic_l2, 4)(W, b, X, Y01, 0.3) == pytest.approx(
        0.5 * W @ W, rel=1e-14)
    np.testing.assert_allclose(
        ad.grad(logistic_l2)(W, b, X, Y01, lam=0.3),
        X.T @ (p - Y01) / n + 0.3 * W, rtol=1e-13)


def softplus_total(z):
    return np.sum(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0))


def softplus_total_by_logaddexp(z):
    return np.sum(np.logaddexp(0, z))


TAILS = np.array([-700.0, -40.0, -30.0, -5.0, 0.3, 5.0, 30.0, 700.0])


def exact_sigmoid(z):
    return float(1 / (1 + mpmath.exp(-mpmath.mpf(z))))


@pytest.mark.parametrize("softplus", [softplus_total_by_logaddexp,
                                      softplus_total])
def test_softplus_derivative_keeps_every_digit_in_both_tails(softplus):
    # softplus_total's was 1 - exp(-max(z, 0)) / (1 + exp(-|z|)), which
    # cancelled for z < -30 (sweep3 bug 11)
    np.testing.assert_allclose(ad.grad(softplus)(TAILS),
                               [exact_sigmoid(z) for z in TAILS], rtol=1e-13)


def softplus(z):
    return np.logaddexp(0, z)


def exact_sigmoid_slope(z):
    return float(mpmath.exp(-mpmath.log1p(mpmath.exp(z))
                            - mpmath.log1p(mpmath.exp(-z))))


def log_sigmoid(z):
    return -np.logaddexp(0, -z)


SECOND_DERIVATIVES = {  # of softplus, s(1 - s); log-sigmoid's is minus it
    'softplus': lambda z: ad.derivative(softplus, 2)(z),
    # was sweep3 bug 13: the Hessian's s * (1 - s) cancelled in the right
    # tail, s and logaddexp(0, z) being the values of two steps
    'softplus_hessian': lambda z: np.diag(
        ad.hessian(softplus_total_by_logaddexp)(z)),
    'softplus_hvp': lambda z: ad.jvp(ad.grad(softplus_total_by_logaddexp),
                                     (z,), (np.ones_like(z),))[1],
    'log_sigmoid': lambda z: -ad.derivative(log_sigmoid, 2)(z)}


@pytest.mark.parametrize("second", SECOND_DERIVATIVES.values(),
                         ids=SECOND_DERIVATIVES.keys())
def test_second_derivatives_by_logaddexp_keep_both_tails(second):
    np.testing.assert_allclose(second(TAILS),
                               [exact_sigmoid_slope(z) for z in TAILS],
                               rtol=1e-13)


def test_softplus_hessian_is_one_exponential_of_the_whole_expression():
    # The partial is taken of exp(z - logaddexp(0, z)) whole, though the
    # gradient's program holds logaddexp(0, z) as a step of its own: one
    # exponential on the diagonal, where it was three passes over N x N
    # (t * (-partial)[:, None] + t).
    text = ad.source(ad.hessian(softplus_total_by_logaddexp), np.zeros(3))
    assert text.endswith(
        "    return np.diag(np.exp(z - 2 * np.logaddexp(0, z)))\n")


def softplus_inverse(y):  # a positive parameter's unconstrained form
    return np.log(np.expm1(y))


def test_softplus_inverse_second_derivative_in_the_right_tail():
    # was sweep3 bug 25: expm1(y) - exp(y) cancelled from y = 37 on, then
    # exp(y) / expm1(y) ** 2 overflowed from y = 355
    y = np.array([0.5, 20.0, 40.0, 700.0])
    exact = [float(-mpmath.exp(v) / mpmath.expm1(v) ** 2) for v in y]
    np.testing.assert_allclose(ad.derivative(softplus_inverse, 2)(y), exact,
                               rtol=1e-13)


def cross_entropy_with_eps(w):
    p = sigmoid(X @ w)
    eps = np.finfo(p.dtype).eps
    return -np.sum(Y01 * np.log(p + eps) + (1 - Y01) * np.log(1 - p + eps))


def cross_entropy_clipped_above(w):
    p = np.clip(sigmoid(X @ w), -np.inf, 1 - 1e-12)
    return -np.sum(Y01 * np.log(p) + (1 - Y01) * np.log(1 - p))


@pytest.mark.parametrize("loss", [
    cross_entropy_with_eps,  # was sweep3 bug 37 (np.finfo of p.dtype)
    cross_entropy_clipped_above],  # was sweep3 bug 36
    ids=['finfo_eps', 'clip_to_inf'])
def test_cross_entropy_with_the_usual_guards(loss):
    p = sigmoid(X @ W)
    eps = np.finfo(float).eps if loss is cross_entropy_with_eps else 0.0
    expected = X.T @ (-Y01 * (1 - p) * p / (p + eps)
                      + (1 - Y01) * p * (1 - p) / (1 - p + eps))
    np.testing.assert_allclose(ad.grad(loss)(W), expected, rtol=1e-12)


def hinge(w, b):
    margins = 1 - YPM * (X @ w + b)
    return np.mean(np.maximum(margins, 0)) + 0.01 * np.sum(w ** 2)


def squared_hinge(w, b):
    return np.sum(np.maximum(0, 1 - YPM * (X @ w + b)) ** 2)


def test_hinge_and_squared_hinge():
    b = 0.1
    margins = 1 - YPM * (X @ W + b)
    assert np.min(np.abs(margins)) > 0.05  # away from the kink
    active = (margins > 0) * YPM
    grad_w, grad_b = ad.grad(hinge, (0, 1))(W, b)
    np.testing.assert_allclose(grad_w, -active @ X / 8 + 0.02 * W, rtol=1e-14)
    assert grad_b == pytest.approx(-np.mean(active), rel=1e-14)
    slack = np.maximum(margins, 0)
    grad_w, grad_b = ad.grad(squared_hinge, (0, 1))(W, b)
    np.testing.assert_allclose(grad_w, -2 * (slack * YPM) @ X, rtol=1e-13)
    assert grad_b == pytest.approx(-2 * np.sum(slack * YPM), rel=1e-13)
    # np.maximum's tie: half the gradient, as JAX's. At w = 0, b = 1 the
    # positive rows sit exactly on the margin, the negative ones at 2.
    grad_w, grad_b = ad.grad(hinge, (0, 1))(np.zeros(3), 1.0)
    share = np.where(YPM > 0, 0.5, 1.0) * YPM
    np.testing.assert_allclose(grad_w, -share @ X / 8, rtol=1e-14)
    assert grad_b == -np.mean(share) == 0.25


def elastic_net(w, *, l1=0.1, l2=0.5):
    r = X @ w - YPM
    return 0.5 * r @ r + l1 * np.sum(np.abs(w)) + 0.5 * l2 * w @ w


def test_hyperparameters_as_keyword_only_arguments():  # was sweep3 bug 18
    r = X @ W - YPM
    np.testing.assert_allclose(ad.grad(elastic_net)(W),
                               X.T @ r + 0.1 * np.sign(W) + 0.5 * W,
                               rtol=1e-14)
    np.testing.assert_allclose(ad.grad(elastic_net)(W, l2=2.0, l1=0.0),
                               X.T @ r + 2.0 * W, rtol=1e-14)


DATA_MODULE = types.ModuleType("data")  # as `import data` would give
DATA_MODULE.X, DATA_MODULE.y = X, YPM


def least_squares_on_module_data(w):
    r = DATA_MODULE.X @ w - DATA_MODULE.y
    return r @ r


def test_data_read_from_an_imported_module():  # was sweep3 bug 19
    np.testing.assert_allclose(ad.grad(least_squares_on_module_data)(W),
                               2 * X.T @ (X @ W - YPM), rtol=1e-14)


def focal(w, gamma=2.0):
    p = sigmoid(X @ w)
    pt = np.where(Y01 == 1, p, 1 - p)
    return -np.sum((1 - pt) ** gamma * np.log(pt))


def test_focal_loss_in_weights_and_focusing_parameter():
    grads = ad.grad(focal, (0, 1))(W, 2.5)
    np.testing.assert_allclose(grads[0], numeric_gradient(focal, (W, 2.5), 0),
                               rtol=1e-8)
    assert grads[1] == pytest.approx(central_difference(focal, (W, 2.5), 1),
                                     rel=1e-9)
    # gamma = 0 is the cross-entropy, whose gradient is X^T (p - y)
    np.testing.assert_allclose(ad.grad(focal)(W, 0.0),
                               X.T @ (sigmoid(X @ W) - Y01), rtol=1e-13)


def ridge(w, lam):
    r = X @ w - YPM
    return r @ r + lam * w @ w


def weighted_least_squares(w, weights):
    r = X @ w - YPM
    return np.sum(weights * r ** 2) / np.sum(weights)


def test_ridge_and_weighted_least_squares():
    lam = 0.3
    grad_w, grad_lam = ad.grad(ridge, (0, 1))(W, lam)
    np.testing.assert_allclose(grad_w, 2 * X.T @ (X @ W - YPM) + 2 * lam * W,
                               rtol=1e-13)
    assert grad_lam == pytest.approx(W @ W, rel=1e-15)
    np.testing.assert_allclose(ad.hessian(ridge)(W, lam),
                               2 * (X.T @ X + lam * np.eye(3)), rtol=1e-14)
    # one Newton step from anywhere lands on the closed-form solution
    w_star = np.linalg.solve(X.T @ X + lam * np.eye(3), X.T @ YPM)
    newton = W - np.linalg.solve(ad.hessian(ridge)(W, lam),
                                 ad.grad(ridge)(W, lam))
    np.testing.assert_allclose(newton, w_star, rtol=1e-12)
    weights = rng.random(8) + 0.1
    r = X @ W - YPM
    grad_w, grad_weights = ad.grad(weighted_least_squares, (0, 1))(W, weights)
    np.testing.assert_allclose(grad_w, 2 * X.T @ (weights * r)
                               / weights.sum(), rtol=1e-13)
    loss = weighted_least_squares(W, weights)
    np.testing.assert_allclose(grad_weights, (r ** 2 - loss) / weights.sum(),
                               rtol=1e-12)


def huber_regression(w, delta):
    r = X @ w - YPM
    a = np.abs(r)
    return np.sum(np.where(a <= delta, 0.5 * r ** 2,
                           delta * (a - 0.5 * delta)))


def test_huber_robust_regression():
    r = X @ W - YPM
    inliers = np.abs(r) <= 1.5
    assert 0 < inliers.sum() < len(r)
    psi = np.where(inliers, r, 1.5 * np.sign(r))
    grad_w, grad_delta = ad.grad(huber_regression, (0, 1))(W, 1.5)
    np.testing.assert_allclose(grad_w, X.T @ psi, rtol=1e-14)
    assert grad_delta == pytest.approx(np.sum(~inliers * (np.abs(r) - 1.5)),
                                       rel=1e-14)
    # the Hessian sees the inliers only: a reweighted least squares
    np.testing.assert_allclose(ad.hessian(huber_regression)(W, 1.5),
                               X.T @ (inliers[:, None] * X), rtol=1e-14,
                               atol=1e-15)


def penalised(w, lam=0.1):
    return np.sum((X @ w - YPM) ** 2) + lam * np.sum(w ** 2)


def test_printed_gradient_runs_as_the_function_is_called():
    # was sweep3 bug 23: the printed source dropped lam's default
    namespace = {'np': np, 'X': X, 'YPM': YPM}
    exec(ad.source(ad.grad(penalised), W), namespace)
    np.testing.assert_array_equal(namespace['grad_penalised'](W),
                                  ad.grad(penalised)(W))


COUNTS = np.array([0.0, 1.0, 2.0, 0.0, 3.0, 1.0, 1.0, 4.0])
AMOUNTS = np.abs(YPM) + 0.5 * COUNTS + 0.3


def poisson_glm(w, offset):
    eta = X @ w + offset
    return np.sum(np.exp(eta) - COUNTS * eta)


def gamma_glm(w, log_shape):
    mu = np.exp(X @ w)
    k = np.exp(log_shape)
    return -np.sum(k * np.log(k / mu) + (k - 1) * np.log(AMOUNTS)
                   - k * AMOUNTS / mu)


def test_poisson_and_gamma_glms():
    offset = np.log(np.arange(1.0, 9.0))  # an exposure per row
    rate = np.exp(X @ W + offset)
    grad_w, grad_offset = ad.grad(poisson_glm, (0, 1))(W, offset)
    np.testing.assert_allclose(grad_w, X.T @ (rate - COUNTS), rtol=1e-13)
    np.testing.assert_allclose(grad_offset, rate - COUNTS, rtol=1e-13)
    np.testing.assert_allclose(ad.hessian(poisson_glm)(W, offset),
                               X.T @ (rate[:, None] * X), rtol=1e-13)
    k, mu = np.exp(0.4), np.exp(X @ W)
    grad_w, grad_log_shape = ad.grad(gamma_glm, (0, 1))(W, 0.4)
    np.testing.assert_allclose(grad_w, X.T @ (k * (1 - AMOUNTS / mu)),
                               rtol=1e-13)
    assert grad_log_shape == pytest.approx(
        central_difference(gamma_glm, (W, 0.4), 1), rel=1e-9)


ASSIGNMENT = np.array([0, 1, 2, 0, 1, 2, 0, 1])


def kmeans_distortion(centers):
    return np.sum((X - centers[ASSIGNMENT]) ** 2)


def test_kmeans_distortion_with_a_fixed_assignment():
    centers = rng.normal(size=(3, 3))
    counts = np.bincount(ASSIGNMENT)
    sums = np.array([X[ASSIGNMENT == k].sum(axis=0) for k in range(3)])
    np.testing.assert_allclose(ad.grad(kmeans_distortion)(centers),
                               2 * (counts[:, None] * centers - sums),
                               rtol=1e-13)
    # the k-means update is the Newton step: the means of the clusters
    H = ad.hessian(kmeans_distortion)(centers)
    assert H.shape == (3, 3, 3, 3)
    step = np.linalg.solve(H.reshape(9, 9),
                           ad.grad(kmeans_distortion)(centers).ravel())
    np.testing.assert_allclose(centers - step.reshape(3, 3),
                               sums / counts[:, None], rtol=1e-13)


RATINGS = rng.normal(size=(5, 4))
OBSERVED = rng.random((5, 4)) > 0.4


def factorisation_by_weights(U, V, lam=0.1):
    return (np.sum(OBSERVED * (RATINGS - U @ V.T) ** 2)
            + lam * (np.sum(U ** 2) + np.sum(V ** 2)))


def factorisation_by_mask(U, V, lam=0.1):
    return (np.sum((RATINGS - U @ V.T)[OBSERVED] ** 2)
            + lam * (np.sum(U ** 2) + np.sum(V ** 2)))


@pytest.mark.parametrize("loss", [
    factorisation_by_weights,
    factorisation_by_mask])  # was sweep3 bug 24 (a global boolean mask)
def test_matrix_factorisation_over_observed_entries(loss):
    U, V = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    E = OBSERVED * (RATINGS - U @ V.T)
    g_U, g_V = ad.grad(loss, (0, 1))(U, V)
    np.testing.assert_allclose(g_U, -2 * E @ V + 0.2 * U, rtol=1e-13)
    np.testing.assert_allclose(g_V, -2 * E.T @ U + 0.2 * V, rtol=1e-13)
    # with V fixed, the problem in U is least squares: one Newton step solves
    H = ad.hessian(loss)(U, V).reshape(10, 10)
    U_star = U - np.linalg.solve(H, g_U.ravel()).reshape(5, 2)
    np.testing.assert_allclose(ad.grad(loss)(U_star, V), 0.0, atol=1e-12)


def gmm_log_likelihood(means, log_vars, logits):
    d = X[:, None, :] - means[None, :, :]
    logp = (-0.5 * np.sum(d ** 2 / np.exp(log_vars)[None], axis=2)
            - 0.5 * np.sum(log_vars, axis=1)[None, :]
            - 0.5 * X.shape[1] * np.log(2 * np.pi))
    logw = logits - np.max(logits)
    logw = logw - np.log(np.sum(np.exp(logw)))
    a = logp + logw[None, :]
    m = np.max(a, axis=1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.sum(np.exp(a - m), axis=1)))


def test_gaussian_mixture_gradient_is_the_responsibilities():
    means = rng.normal(size=(3, 3))
    log_vars = 0.3 * rng.normal(size=(3, 3))
    logits = np.array([0.2, -0.4, 0.1])
    var = np.exp(log_vars)
    d = X[:, None, :] - means[None]
    logp = (-0.5 * np.sum(d ** 2 / var, axis=2) - 0.5 * log_vars.sum(1)
            + np.log(np.exp(logits) / np.exp(logits).sum()))
    r = np.exp(logp - logp.max(1, keepdims=True))
    r = r / r.sum(1, keepdims=True)
    g_means, g_log_vars, g_logits = ad.grad(gmm_log_likelihood, (0, 1, 2))(
        means, log_vars, logits)
    np.testing.assert_allclose(g_means, np.einsum('nk,nkd->kd', r, d) / var,
                               rtol=1e-12)
    np.testing.assert_allclose(
        g_log_vars, 0.5 * np.einsum('nk,nkd->kd', r, d ** 2 / var - 1),
        rtol=1e-12)
    weights = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(g_logits, r.sum(0) - len(X) * weights,
                               rtol=1e-12, atol=1e-14)
    # shifting the logits together changes nothing: finite at +-1000
    np.testing.assert_allclose(
        ad.grad(gmm_log_likelihood, 2)(means, log_vars, logits + 1000.0),
        g_logits, rtol=1e-9, atol=1e-12)


def student_t_nll(mu, log_scale, nu):
    z = (YPM - mu) / np.exp(log_scale)
    return np.sum(log_scale + 0.5 * (nu + 1) * np.log1p(z ** 2 / nu))


def test_student_t_negative_log_likelihood():
    args = (0.1, 0.2, 3.0)
    grads = ad.grad(student_t_nll, (0, 1, 2))(*args)
    r, s2 = YPM - 0.1, np.exp(0.4)
    assert grads[0] == pytest.approx(
        -np.sum(4.0 * r / (3.0 * s2 + r ** 2)), rel=1e-13)
    assert grads == pytest.approx(
        [central_difference(student_t_nll, args, i) for i in range(3)],
        rel=1e-9)
    H = ad.hessian(student_t_nll, (0, 1, 2))(*args)
    assert len(H) == 3 and all(len(row) == 3 for row in H)
    for i in range(3):
        row = [central_difference(
            lambda *a: ad.grad(student_t_nll, (0, 1, 2))(*a)[i], args, j)
            for j in range(3)]
        assert [H[i][j] for j in range(3)] == pytest.approx(row, rel=1e-8)


# -- portfolios and statistics ------------------------------------------------

_A = rng.normal(size=(4, 4))
COV = _A @ _A.T / 4 + 0.1 * np.eye(4)
MU = np.array([0.05, 0.1, 0.02, 0.07])
WEIGHTS = np.array([0.3, 0.2, 0.4, 0.1])
LOGITS = np.array([0.1, -0.3, 0.5, 0.0])


def mean_variance(w, cov, mu, risk_aversion):
    return risk_aversion * w @ cov @ w - w @ mu


def test_portfolio_variance_with_argnums_tuples_and_negative_argnums():
    args = (WEIGHTS, COV, MU, 2.0)
    variance = WEIGHTS @ COV @ WEIGHTS
    grad_w, grad_mu = ad.grad(mean_variance, (0, 2))(*args)
    np.testing.assert_allclose(grad_w, 4.0 * COV @ WEIGHTS - MU, rtol=1e-14)
    np.testing.assert_array_equal(grad_mu, -WEIGHTS)
    assert ad.grad(mean_variance, -1)(*args) == pytest.approx(variance,
                                                              rel=1e-15)
    grads = ad.grad(mean_variance, (0, -1))(*args)
    assert isinstance(grads, tuple) and len(grads) == 2
    np.testing.assert_allclose(grads[0], grad_w, rtol=1e-15)
    assert grads[1] == pytest.approx(variance, rel=1e-15)
    grad_cov = ad.grad(mean_variance, 1)(*args)
    np.testing.assert_allclose(grad_cov, 2.0 * np.outer(WEIGHTS, WEIGHTS),
                               rtol=1e-15)
    (value, (g0, g3)) = ad.value_and_grad(mean_variance, (0, 3))(*args)
    assert value == pytest.approx(2.0 * variance - WEIGHTS @ MU, rel=1e-15)
    assert g3 == pytest.approx(variance, rel=1e-15)


def test_argnums_given_as_numpy_integers():
    args = (WEIGHTS, COV, MU, 2.0)
    position = np.argmax([0, 0, 0, 1])  # np.int64(3)
    assert ad.grad(mean_variance, position)(*args) == pytest.approx(
        WEIGHTS @ COV @ WEIGHTS, rel=1e-15)
    np.testing.assert_array_equal(
        ad.grad(mean_variance, (np.int64(2), 3))(*args)[0], -WEIGHTS)


def sharpe(w, rf=0.01):
    return (w @ MU - rf) / np.sqrt(w @ COV @ w)


def test_sharpe_ratio_gradient_hessian_and_jacobians_agree():
    sd = np.sqrt(WEIGHTS @ COV @ WEIGHTS)
    excess = WEIGHTS @ MU - 0.01
    np.testing.assert_allclose(
        ad.grad(sharpe)(WEIGHTS),
        MU / sd - excess * COV @ WEIGHTS / sd ** 3, rtol=1e-13)
    assert ad.grad(sharpe, 1)(WEIGHTS, 0.02) == pytest.approx(-1 / sd,
                                                              rel=1e-14)
    # scale invariance: the gradient of a ratio of degree 0 in w (rf = 0)
    # is orthogonal to w, and the Hessian maps w to -grad
    g = ad.grad(sharpe)(WEIGHTS, 0.0)
    assert WEIGHTS @ g == pytest.approx(0.0, abs=1e-15)
    H = ad.hessian(sharpe)(WEIGHTS, 0.0)
    np.testing.assert_allclose(H @ WEIGHTS, -g, rtol=1e-12, atol=1e-15)
    for J in (ad.jacfwd(ad.grad(sharpe)), ad.jacrev(ad.grad(sharpe))):
        np.testing.assert_allclose(J(WEIGHTS, 0.0), H, rtol=1e-12,
                                   atol=1e-15)
    np.testing.assert_allclose(H, numeric_hessian(
        lambda w: ad.grad(sharpe)(w, 0.0), WEIGHTS), rtol=1e-7, atol=1e-8)


def softmax_weights(logits):
    e = np.exp(logits - np.max(logits))
    return e / np.sum(e)


def portfolio_report(logits, risk_aversion):
    w = softmax_weights(logits)
    utility = w @ MU - risk_aversion * w @ COV @ w
    return -utility, {'weights': w, 'return': w @ MU,
                      'volatility': np.sqrt(w @ COV @ w), 'model': 'mv'}


def test_softmax_weights_jacobians_and_pullbacks():
    w = softmax_weights(LOGITS)
    closed = np.diag(w) - np.outer(w, w)
    np.testing.assert_allclose(ad.jacrev(softmax_weights)(LOGITS), closed,
                               rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(ad.jacfwd(softmax_weights)(LOGITS), closed,
                               rtol=1e-13, atol=1e-16)
    value, pullback = ad.vjp(softmax_weights, LOGITS)
    np.testing.assert_allclose(value, w, rtol=1e-15)
    # one pullback, called twice: each cotangent gets its own row
    for cotangent in (np.array([1.0, 0, 0, 0]), np.array([0.5, -2.0, 0, 1])):
        (row,) = pullback(cotangent)
        np.testing.assert_allclose(row, cotangent @ closed, rtol=1e-13,
                                   atol=1e-16)
    value, tangent = ad.jvp(softmax_weights, (LOGITS,), (np.ones(4),))
    np.testing.assert_allclose(tangent, 0.0, atol=1e-15)  # shift invariant


def test_value_and_grad_with_a_dict_of_aux():
    ((value, aux), (g_logits, g_risk)) = ad.value_and_grad(
        portfolio_report, (0, 1), has_aux=True)(LOGITS, 2.0)
    w = softmax_weights(LOGITS)
    assert list(aux) == ['weights', 'return', 'volatility', 'model']
    assert aux['model'] == 'mv'
    np.testing.assert_allclose(aux['weights'], w, rtol=1e-15)
    assert aux['volatility'] == pytest.approx(np.sqrt(w @ COV @ w), rel=1e-15)
    assert value == pytest.approx(2.0 * w @ COV @ w - w @ MU, rel=1e-14)
    d_w = 4.0 * COV @ w - MU
    np.testing.assert_allclose(g_logits, w * (d_w - w @ d_w), rtol=1e-12,
                               atol=1e-16)
    assert g_risk == pytest.approx(w @ COV @ w, rel=1e-14)
    grads, aux = ad.grad(portfolio_report, has_aux=True)(LOGITS, 2.0)
    np.testing.assert_allclose(grads, g_logits, rtol=1e-14)
    assert aux['model'] == 'mv'


def profile_log_likelihood(x):
    # the Gaussian log-likelihood at the fitted mean and variance per column
    v = np.var(x, axis=0)
    return -0.5 * x.shape[0] * np.sum(np.log(2 * np.pi * v) + 1)


def sample_kurtosis(x):
    z = (x - np.mean(x, axis=0)) / np.std(x, axis=0, ddof=1)
    return np.mean(z ** 4, axis=0) @ np.arange(1.0, x.shape[1] + 1)


def weighted_spread(x, w):
    m = np.average(x, weights=w)
    return np.sum((x - m) ** 2)


def test_statistics_with_var_std_mean_along_an_axis_and_weights():
    x = rng.normal(size=(6, 2)) * [1.0, 3.0]
    m, v = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(ad.grad(profile_log_likelihood)(x),
                               -(x - m) / v, rtol=1e-13)
    H = ad.hessian(profile_log_likelihood)(x)
    assert H.shape == (6, 2, 6, 2)
    np.testing.assert_allclose(H, numeric_hessian(
        ad.grad(profile_log_likelihood), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ad.grad(sample_kurtosis)(x), numeric_gradient(
        sample_kurtosis, (x,), 0), rtol=1e-7, atol=1e-9)
    # kurtosis is invariant under shifts and scalings of each column
    g = ad.grad(sample_kurtosis)(x)
    np.testing.assert_allclose(g.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sum(g * x, axis=0), 0.0, atol=1e-12)
    values, weights = x[:, 0], np.arange(1.0, 7.0)
    mean = np.average(values, weights=weights)
    g_x, g_w = ad.grad(weighted_spread, (0, 1))(values, weights)
    total = np.sum(values - mean)
    np.testing.assert_allclose(
        g_x, 2 * (values - mean) - 2 * total * weights / weights.sum(),
        rtol=1e-13)
    np.testing.assert_allclose(
        g_w, -2 * total * (values - mean) / weights.sum(), rtol=1e-12)


def energy_and_where_it_peaks(x):
    return np.sum(x ** 2), {'argmax': np.argmax(x),
                            'n_positive': np.sum(x > 0)}


AUX_TRANSFORMS = {
    'grad': lambda f: ad.grad(f, has_aux=True),
    'value_and_grad': lambda f: lambda x: ad.value_and_grad(
        f, has_aux=True)(x)[0],
    'vjp': lambda f: lambda x: ad.vjp(f, x, has_aux=True)[1:],
    'jacobian': lambda f: ad.jacobian(f, has_aux=True),
    'jacfwd': lambda f: ad.jacfwd(f, has_aux=True),
    'hessian': lambda f: ad.hessian(f, has_aux=True),
    'jvp': lambda f: lambda x: ad.jvp(f, (x,), (np.ones_like(x),),
                                      has_aux=True)[1:]}


@pytest.mark.parametrize("transform", list(AUX_TRANSFORMS.values()),
                         ids=list(AUX_TRANSFORMS))
def test_integer_aux_values_keep_their_dtype(transform):
    # jacobian, jacfwd, hessian and jvp gave float64 (sweep3 bug 22)
    x = np.array([1.0, 3.0, 2.0])
    derivative, aux = transform(energy_and_where_it_peaks)(x)
    assert aux == {'argmax': 1, 'n_positive': 3}
    assert [np.asarray(v).dtype.kind for v in aux.values()] == ['i', 'i']
    assert x[aux['argmax']] == 3.0


def nan_robust(x):
    return np.nansum(x ** 2) + np.nanmean(x)


def spread(x):
    return np.ptp(x)


def accumulated_in_float64(x):
    return np.mean(x ** 2, dtype=np.float64)


def sorted_tail(x):
    return sum(sorted(x)[1:])


SPREAD_DATA = np.array([0.3, -0.7, 1.2, 0.5])


def median_squared(x):
    return np.median(x) ** 2


@pytest.mark.parametrize("case", [
    (nan_robust, 2 * SPREAD_DATA + 0.25),  # np.nansum: sweep3 bug 30
    (spread, [0, -1, 1, 0]),  # np.ptp: sweep3 bug 30
    (accumulated_in_float64, SPREAD_DATA / 2),  # dtype=: sweep3 bug 30
    (sorted_tail, [1, 0, 1, 1]),  # sorted(): was sweep3 bug 30
    (median_squared, [0.4, 0, 0, 0.4])],  # np.median was sweep3 bug 8
    ids=lambda case: case[0].__name__)
def test_statistics_spelled_with_other_numpy_functions(case):
    f, expected = case
    np.testing.assert_allclose(ad.grad(f)(SPREAD_DATA), expected, rtol=1e-15)


RETURNS = rng.normal(size=(8, 3)) * 0.01


def value_at_risk(w, R):
    pnl = R @ w
    k = int(0.25 * len(pnl))
    return -np.sort(pnl)[k]


def value_at_risk_by_floor_division(w, R):
    pnl = R @ w
    return -np.sort(pnl)[len(pnl) // 4]


@pytest.mark.parametrize("var", [
    value_at_risk_by_floor_division,
    value_at_risk],
    ids=['floor_division', 'int'])
def test_value_at_risk_follows_the_sorted_scenario(var):
    scenario = np.argsort(RETURNS @ WEIGHTS[:3])[2]
    g_w, g_R = ad.grad(var, (0, 1))(WEIGHTS[:3], RETURNS)
    np.testing.assert_array_equal(g_w, -RETURNS[scenario])
    expected = np.zeros_like(RETURNS)
    expected[scenario] = -WEIGHTS[:3]
    np.testing.assert_array_equal(g_R, expected)


def with_optional_bias(params):
    return np.sum(params['w'] ** 2) + 2 * params.get('b', 0.0)


def with_optional_bias_by_in(params):
    total = np.sum(params['w'] ** 2)
    if 'b' in params:
        total = total + 2 * params['b']
    return total


@pytest.mark.parametrize("loss", [
    with_optional_bias, with_optional_bias_by_in],
    ids=['get', 'in'])
def test_optional_parameters_of_a_dict(loss):
    w = np.array([0.3, -0.7])
    assert_tree_close(ad.grad(loss)({'w': w, 'b': 0.5}),
                      {'w': 2 * w, 'b': 2.0}, rtol=1e-15)
    assert_tree_close(ad.grad(loss)({'w': w}), {'w': 2 * w}, rtol=1e-15)


def gaussian_log_likelihood(params, data):
    z = (data - params['mu']) / params['sd']
    return np.sum(-0.5 * z ** 2 - np.log(params['sd']))


DATA = rng.normal(size=(6, 2)) * [1.0, 2.0] + [0.5, -1.0]
PARAMS = {'mu': np.array([0.1, -0.2]), 'sd': np.array([1.3, 0.8])}


def test_likelihood_of_a_dict_of_parameters_every_way():
    mu, sd = PARAMS['mu'], PARAMS['sd']
    r = DATA - mu
    expected = {'mu': r.sum(0) / sd ** 2,
                'sd': (r ** 2).sum(0) / sd ** 3 - len(DATA) / sd}
    value, grads = ad.value_and_grad(gaussian_log_likelihood)(PARAMS, DATA)
    assert_tree_close(grads, expected, rtol=1e-13)
    H = ad.hessian(gaussian_log_likelihood)(PARAMS, DATA)
    assert_tree_close(H, {
        'mu': {'mu': np.diag(-len(DATA) / sd ** 2),
               'sd': np.diag(-2 * r.sum(0) / sd ** 3)},
        'sd': {'mu': np.diag(-2 * r.sum(0) / sd ** 3),
               'sd': np.diag(-3 * (r ** 2).sum(0) / sd ** 4
                             + len(DATA) / sd ** 2)}}, rtol=1e-13)
    tangents = ({'mu': np.array([1.0, 0.0]), 'sd': np.array([0.0, 2.0])},
                np.zeros_like(DATA))
    value_j, derivative = ad.jvp(gaussian_log_likelihood, (PARAMS, DATA),
                                 tangents)
    assert value_j == pytest.approx(value, rel=1e-15)
    assert derivative == pytest.approx(
        expected['mu'][0] + 2.0 * expected['sd'][1], rel=1e-13)
    # the maximum-likelihood estimate is a stationary point
    mle = {'mu': DATA.mean(0), 'sd': DATA.std(0)}
    assert_tree_close(ad.grad(gaussian_log_likelihood)(mle, DATA),
                      {'mu': np.zeros(2), 'sd': np.zeros(2)}, atol=1e-13)


# -- optimisers written by hand, differentiated through -----------------------

X0 = np.array([-1.2, 1.0, 0.8])


def heavy_ball(lr, beta, x0, n_steps):
    x = x0
    v = np.zeros_like(x0)
    for _ in range(n_steps):
        v = beta * v + ad.grad(rosenbrock)(x)
        x = x - lr * v
    return rosenbrock(x)


def adam(lr, x0, n_steps):
    x = x0
    m = np.zeros_like(x0)
    s = np.zeros_like(x0)
    for t in range(1, n_steps + 1):
        g = ad.grad(rosenbrock)(x)
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g ** 2
        x = x - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t))
                                             + 1e-8)
    return rosenbrock(x)


def test_hyperparameter_gradients_through_optimiser_loops():
    grads = ad.grad(heavy_ball, (0, 1, 2))(1e-4, 0.9, X0, 15)
    assert grads[0] == pytest.approx(central_difference(
        heavy_ball, (1e-4, 0.9, X0, 15), 0, step=1e-9), rel=1e-7)
    assert grads[1] == pytest.approx(central_difference(
        heavy_ball, (1e-4, 0.9, X0, 15), 1), rel=1e-8)
    np.testing.assert_allclose(grads[2], numeric_gradient(
        heavy_ball, (1e-4, 0.9, X0, 15), 2), rtol=1e-7)
    # no steps: the loss at the start, which lr and beta do not touch
    assert ad.grad(heavy_ball, (0, 1))(1e-4, 0.9, X0, 0) == (0.0, 0.0)
    g_lr, g_x0 = ad.grad(adam, (0, 1))(0.01, X0, 12)
    assert g_lr == pytest.approx(central_difference(
        adam, (0.01, X0, 12), 0, step=1e-6), rel=1e-8)
    np.testing.assert_allclose(g_x0, numeric_gradient(adam, (0.01, X0, 12),
                                                      1), rtol=1e-7)


def newton_iterate(x0, n_steps):
    x = x0
    for _ in range(n_steps):
        x = x - np.linalg.solve(ad.hessian(rosenbrock)(x),
                                ad.grad(rosenbrock)(x))
    return np.sum(x)


def test_gradient_through_newton_steps_with_a_hessian_inside():
    x0 = np.array([-0.0, 1.1, 1.0])
    np.testing.assert_allclose(ad.grad(newton_iterate)(x0, 3),
                               numeric_gradient(newton_iterate, (x0, 3), 0),
                               rtol=1e-7)
    # one step from a quadratic's point lands on the minimum whatever x0
    # was; Rosenbrock is not quadratic, so the sensitivity is not zero
    assert np.abs(ad.grad(newton_iterate)(x0, 1)).max() > 0.1


def backtracking(x, d):
    t = 1.0
    while rosenbrock(x + t * d) > rosenbrock(x) - 1e-4 * t * np.dot(d, d):
        t = 0.5 * t
    return rosenbrock(x + t * d)


def backtracking_with_break(x, d):
    t = 1.0
    while True:
        if rosenbrock(x + t * d) <= rosenbrock(x) - 1e-4 * t * np.dot(d, d):
            break
        t = 0.5 * t
    return rosenbrock(x + t * d)


@pytest.mark.parametrize("search", [
    backtracking_with_break,
    backtracking])  # was sweep3 bug 10
def test_backtracking_line_search(search):
    d = -0.005 * rosenbrock_gradient(X0)
    # two halvings, then the step is fixed: the derivative is the loss's
    t = 0.25
    assert search(X0, d) == rosenbrock(X0 + t * d)
    g_x, g_d = ad.grad(search, (0, 1))(X0, d)
    np.testing.assert_allclose(g_x, rosenbrock_gradient(X0 + t * d),
                               rtol=1e-14)
    np.testing.assert_allclose(g_d, t * rosenbrock_gradient(X0 + t * d),
                               rtol=1e-14)


# -- structures of results, as JAX lays them out ------------------------------

def summary_and_features(x, y):
    return np.sum(x * y), {'a': x * 2.0 + y[0], 'b': np.sin(y)}


def layer_energy(params, z):
    W, b = params
    return np.sum(np.tanh(W @ z + b))


LAYER = [rng.normal(size=(2, 3)), rng.normal(size=2)]
Z = np.array([0.5, -1.0, 2.0])


def shapes(tree):
    return [np.shape(leaf) for leaf in optree.tree_leaves(tree)]


class Dense:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b)


class Network:
    def __init__(self, layers):
        self.layers = layers

    def loss(self, x):
        for layer in self.layers:
            x = layer(x)
        return np.sum(x ** 2)


DENSE_LAYERS = (Dense(np.eye(3) * 0.5, 0.1), Dense(np.ones((1, 3)), -0.2))


def network_loss(x):
    for layer in DENSE_LAYERS:
        x = layer(x)
    return np.sum(x ** 2)


@pytest.mark.parametrize("loss", [
    network_loss,
    Network(list(DENSE_LAYERS)).loss],  # was sweep3 bug 31
    ids=['tuple_global', 'list_attribute'])
def test_a_network_of_layer_objects(loss):
    h = np.tanh(0.5 * Z + 0.1)
    out = np.tanh(h.sum() - 0.2)
    np.testing.assert_allclose(ad.grad(loss)(Z),
                               2 * out * (1 - out ** 2) * (1 - h ** 2) * 0.5,
                               rtol=1e-14)


class Linear(NamedTuple):
    w: np.ndarray
    b: float


def with_bias_doubled(p):
    q = p._replace(b=p.b * 2)
    return np.sum(q.w ** 2) + q.b ** 2


def test_a_namedtuple_updated_by_replace():  # was sweep3 bug 32
    g = ad.grad(with_bias_doubled)(Linear(Z, 0.5))
    assert type(g) is Linear
    np.testing.assert_allclose(g.w, 2 * Z, rtol=1e-15)
    assert g.b == 4.0


def test_jacobians_of_a_pytree_output_with_argnums():
    x, y = Z, np.array([0.3, 0.2, -0.4])
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(summary_and_features, (0, 1))(x, y)
        # the output's structure, then the argnums tuple at each leaf
        assert optree.tree_structure(J) == optree.tree_structure(
            ((0, 0), {'a': (0, 0), 'b': (0, 0)}))
        assert shapes(J) == [(3,), (3,), (3, 3), (3, 3), (3, 3), (3, 3)]
        np.testing.assert_array_equal(J[0][0], y)
        np.testing.assert_array_equal(J[1]['a'][0], 2.0 * np.eye(3))
        np.testing.assert_array_equal(J[1]['a'][1], np.outer(np.ones(3),
                                                             [1, 0, 0]))
        np.testing.assert_allclose(J[1]['b'][1], np.diag(np.cos(y)),
                                   rtol=1e-15)
    value, pullback = ad.vjp(summary_and_features, x, y)
    g_x, g_y = pullback((1.0, {'a': np.ones(3), 'b': y}))
    np.testing.assert_allclose(g_x, y + 2.0, rtol=1e-15)
    np.testing.assert_allclose(g_y, x + [3, 0, 0] + y * np.cos(y),
                               rtol=1e-15)
    out, tangent = ad.jvp(summary_and_features, (x, y), (np.ones(3), y))
    assert optree.tree_structure(tangent) == optree.tree_structure(out)
    assert tangent[0] == pytest.approx(np.sum(y) + x @ y, rel=1e-15)


def test_gradient_and_hessian_of_a_list_of_parameters():
    g = ad.grad(layer_energy)(LAYER, Z)
    assert isinstance(g, list) and shapes(g) == [(2, 3), (2,)]
    s = 1 - np.tanh(LAYER[0] @ Z + LAYER[1]) ** 2
    np.testing.assert_allclose(g[0], np.outer(s, Z), rtol=1e-14)
    np.testing.assert_allclose(g[1], s, rtol=1e-14)
    g_params, g_z = ad.grad(layer_energy, (0, 1))(LAYER, Z)
    np.testing.assert_allclose(g_z, LAYER[0].T @ s, rtol=1e-14)
    H = ad.hessian(layer_energy)(LAYER, Z)
    assert isinstance(H, list) and all(isinstance(row, list) for row in H)
    assert shapes(H) == [(2, 3, 2, 3), (2, 3, 2), (2, 2, 3), (2, 2)]
    t = np.tanh(LAYER[0] @ Z + LAYER[1])
    np.testing.assert_allclose(H[1][1], np.diag(-2 * t * s), rtol=1e-13)
    H = ad.hessian(layer_energy, (0, 1))(LAYER, Z)
    # JAX's layout: argnums outside, each argument's structure, then the
    # argnums again, then the second argument's structure
    assert optree.tree_structure(H) == optree.tree_structure(
        ([([0, 0], 0), ([0, 0], 0)], ([0, 0], 0)))
    assert shapes(H) == [(2, 3, 2, 3), (2, 3, 2), (2, 3, 3), (2, 2, 3),
                         (2, 2), (2, 3), (3, 2, 3), (3, 2), (3, 3)]
    np.testing.assert_allclose(
        H[1][1], LAYER[0].T @ np.diag(-2 * t * s) @ LAYER[0], rtol=1e-13)
