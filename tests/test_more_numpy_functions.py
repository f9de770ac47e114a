"""np.convolve and np.correlate (and np.apply_along_axis of them),
np.linalg.multi_dot, np.block, np.select, np.isclose and np.allclose:
derivatives against JAX's values and central differences, the code they
print, and what they refuse."""

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

S = np.array([0.3, -1.0, 2.0, 0.5, 1.2])
K = np.array([0.5, -1.0, 2.0, 0.25])
KERNEL = np.array([1.0, -2.0, 1.0])


def weighted_sines(kind, mode):
    function = getattr(np, kind)
    weights = np.arange(1.0, 1.0 + len(function(np.ones(5), np.ones(4),
                                                mode)))

    def f(x, k):
        return np.sum(np.sin(function(x, k, mode=mode)) * weights)
    return f


# jax.grad(f, argnums=(0, 1))(S, K) and jax.hessian(f)(S, K)[0] of the same
# function with jnp.convolve / jnp.correlate (JAX 0.10.2, float64).
JAX = {
    ("convolve", "full"): (
        [-6.901439937978, -4.570512158773, -4.002000835588, 12.11113043553,
         -17.141792833055],
        [-12.516668046429, 1.079979055271, -8.908032387103, 20.543480707978],
        [-4.915781384044, 1.358711573089, -1.038033831994, -0.254235141735,
         0.0]),
    ("convolve", "same"): (
        [-4.770071376352, -3.863745425955, -3.154672000948, 11.299341820749,
         -6.295480563903],
        [-9.06099651374, 0.969533107792, -1.617745888193, 11.815989543572],
        [-3.501993061823, 0.940622016631, -0.64965003104, -0.190676356301,
         0.0]),
    ("convolve", "valid"): (
        [-0.21526988451, -2.101858605645, -2.176516698512, 1.088258349256,
         -0.759399059138],
        [-2.253097510949, -2.481558135214, -2.176516698512, 1.260474256864],
        [-0.031779392717, -0.254235141735, 0.127117570867, -0.063558785434,
         0.0]),
    ("correlate", "full"): (
        [5.75518750892, -2.12121816339, -0.627892163158, 12.01861393325,
         -11.968989955308],
        [-2.864098136568, 3.258772777744, -0.572601815404, 0.298138347364],
        [1.019542613247, -7.877714166645, 2.653075424683, 0.42293264348,
         0.0]),
    ("correlate", "same"): (
        [3.133244491774, -1.549439444992, -0.790047971357, 8.153700299908,
         -9.347223897019],
        [-10.678955743387, -1.265044387262, -1.164437971933, 0.691231006561],
        [1.210502997155, -5.335637357681, 2.050672045442, 0.31719948261,
         0.0]),
    ("correlate", "valid"): (
        [0.266698292231, -0.171038829985, 0.34207765997, 1.582780164022,
         0.181178877238],
        [-0.564696533615, 0.916034433445, 1.4291509234, 1.136356902975],
        [0.21146632174, -0.42293264348, 0.84586528696, 0.10573316087, 0.0]),
}


@pytest.mark.parametrize("kind, mode", sorted(JAX))
def test_convolutions_give_jax_values(kind, mode):
    f = weighted_sines(kind, mode)
    signal, kernel, hessian_row = JAX[kind, mode]
    gx, gk = ad.grad(f, argnums=(0, 1))(S, K)
    np.testing.assert_allclose(gx, signal, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gk, kernel, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.hessian(f)(S, K)[0], hessian_row,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n, m", [(5, 2), (2, 5), (4, 4), (1, 3), (3, 1)])
def test_every_window_against_central_differences(kind, mode, n, m):
    # NumPy's windows differ with the mode, the function and which of the
    # two is longer ('same' and 'valid' swap the arguments).
    rng = np.random.default_rng(n * 10 + m)
    x, v = rng.normal(size=n), rng.normal(size=m)
    function = getattr(np, kind)
    weights = rng.normal(size=len(function(x, v, mode)))

    def f(x, v):
        return np.sum(np.tanh(function(x, v, mode=mode)) * weights)
    for argnum, g in enumerate(ad.grad(f, argnums=(0, 1))(x, v)):
        np.testing.assert_allclose(g, numeric_gradient(f, (x, v), argnum),
                                   rtol=1e-6, atol=1e-9)
    tangent = ad.jvp(f, (x, v), (np.ones(n), -np.ones(m)))[1]
    assert tangent == pytest.approx(
        (f(x + 1e-6, v - 1e-6) - f(x - 1e-6, v + 1e-6)) / 2e-6, rel=1e-6,
        abs=1e-9)


def smoothed_energy(x):
    return np.sum(np.convolve(x, KERNEL, mode="valid") ** 2)


def test_the_adjoint_of_a_convolution_is_a_correlation():
    assert ad.source(ad.grad(smoothed_energy), S).endswith(
        "    return np.correlate(2 * np.convolve(x, KERNEL, mode='valid'), "
        "KERNEL,\n                        mode='full')\n")


def test_jacobians_of_a_convolution_are_its_matrix():
    def smoothed(x):
        return np.convolve(x, KERNEL, mode="same")
    matrix = np.stack([smoothed(e) for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(ad.jacfwd(smoothed)(S), matrix, atol=1e-15)
    np.testing.assert_allclose(ad.jacrev(smoothed)(S), matrix, atol=1e-15)
    np.testing.assert_allclose(ad.hessian(smoothed_energy)(S),
                               2 * (lambda v: v.T @ v)(np.stack(
                                   [np.convolve(e, KERNEL, mode="valid")
                                    for e in np.eye(5)], axis=1)),
                               atol=1e-13)


def columns_filtered(a, v):
    return np.sum(np.sin(np.apply_along_axis(np.correlate, 1, a, v,
                                             mode="same")))


def test_each_column_convolved_with_one_kernel():
    a = np.random.default_rng(5).normal(size=(3, 6))
    v = np.array([0.2, -0.7, 1.1])
    for argnum, g in enumerate(ad.grad(columns_filtered, argnums=(0, 1))(
            a, v)):
        np.testing.assert_allclose(
            g, numeric_gradient(columns_filtered, (a, v), argnum),
            rtol=1e-6, atol=1e-9)
    hessian = ad.hessian(columns_filtered, argnums=1)(a, v)
    np.testing.assert_allclose(hessian, np.stack([numeric_gradient(
        lambda v: ad.grad(columns_filtered, argnums=1)(a, v)[i], (v,), 0)
        for i in range(3)]), rtol=1e-6, atol=1e-8)


def mode_misspelled(x):
    return np.sum(np.convolve(x, KERNEL, mode="wrap"))


def of_a_matrix(x):
    return np.sum(np.correlate(np.outer(x, x), KERNEL))


def applied_to_another(x):
    return np.sum(np.apply_along_axis(np.cumsum, 0, np.outer(x, x)))


@pytest.mark.parametrize("f, message", [
    (mode_misspelled, "np.convolve's mode must be 'full', 'same' or "
                      "'valid', not 'wrap'"),
    (of_a_matrix, "np.correlate takes two 1-D arrays, not arrays of shapes "
                  "(5, 5) and (3,)"),
    (applied_to_another, "np.apply_along_axis is differentiated for "
                         "np.convolve and np.correlate only: write the "
                         "function of each column as an array operation, "
                         "or loop over the columns")])
def test_what_convolutions_refuse(f, message):
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(f)(S)
    assert caught.value.msg == message
    assert caught.value.lineno == f.__code__.co_firstlineno + 1


# -- compositions of other rows -----------------------------------------------

def chained(x):
    return np.linalg.multi_dot([x, np.outer(x, x ** 2), np.ones((5, 3)),
                                np.arange(3.0)])


def blocks(x):
    return np.sum(np.block([[np.outer(x, x), x[:, None]],
                            [x[None, :] ** 2, np.ones((1, 1))]]) ** 2)


def chosen(x):
    return np.sum(np.select([x < 0.0, x > 1.0], [x ** 2, np.sin(x)],
                            default=x))


def near_two(x):
    return np.sum(np.where(np.isclose(x, 2.0), 0.0, x ** 2))


def branch_on_closeness(x):
    if np.allclose(x, S, atol=1e-3):
        return np.sum(x ** 3)
    return np.sum(x)


@pytest.mark.parametrize("f, expected", [
    (chained, None), (blocks, None), (chosen, None),
    (near_two, 2 * S * (S != 2.0)), (branch_on_closeness, 3 * S ** 2)])
def test_compositions_of_rows(f, expected):
    if expected is None:
        expected = numeric_gradient(f, (S,), 0)
    np.testing.assert_allclose(ad.grad(f)(S), expected, rtol=1e-7,
                               atol=1e-9)
    np.testing.assert_allclose(ad.hessian(f)(S),
                               ad.jacobian(ad.grad(f))(S), rtol=1e-12,
                               atol=1e-12)


def test_branch_on_closeness_takes_the_other_branch_away_from_s():
    np.testing.assert_array_equal(ad.grad(branch_on_closeness)(S + 0.1),
                                  np.ones(5))


def test_closeness_is_written_as_called():
    text = ad.source(ad.grad(branch_on_closeness), S)
    assert "np.allclose(x, S, atol=0.001)" in text
    assert "np.where(np.isclose(x, 2), 0, 2 * x)" in ad.source(
        ad.grad(near_two), S)
