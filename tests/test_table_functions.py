"""Functions of the rules tables given to a transform directly, as
``jax.grad(jax.scipy.special.logsumexp)`` is: every transform gives what
it gives for the same call in a function of the user's own."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

import autodiff_ast as ad

X3 = np.array([0.5, -1.2, 2.0])
L = np.array([[2.0, 0.0], [0.5, 1.5]])
B = np.array([0.3, -0.7])

# (the function, the same call in a lambda, the arguments)
DIRECT = [
    (scipy.special.logsumexp, lambda a: scipy.special.logsumexp(a), (X3,)),
    (scipy.special.softmax, lambda x: scipy.special.softmax(x), (X3,)),
    (scipy.special.log_softmax, lambda x: scipy.special.log_softmax(x),
     (X3,)),
    (scipy.linalg.solve_triangular,
     lambda a, b: scipy.linalg.solve_triangular(a, b), (L.T, B)),
    (scipy.stats.multivariate_normal.logpdf,
     lambda x: scipy.stats.multivariate_normal.logpdf(x), (B,)),
    (np.linalg.det, lambda a: np.linalg.det(a), (L,)),
    (scipy.stats.norm.logpdf, lambda x: scipy.stats.norm.logpdf(x), (0.3,)),
    (scipy.stats.t.logpdf, lambda x, df: scipy.stats.t.logpdf(x, df),
     (0.3, 3.0)),
    (scipy.special.expit, lambda x: scipy.special.expit(x), (X3,)),
]
IDS = ["logsumexp", "softmax", "log_softmax", "solve_triangular",
       "multivariate_normal.logpdf", "det", "norm.logpdf", "t.logpdf",
       "expit"]


def _same(got, expected):
    for a, b in zip(np.atleast_1d(np.asarray(got, dtype=object)).ravel(),
                    np.atleast_1d(np.asarray(expected,
                                             dtype=object)).ravel()):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("direct, wrapped, args", DIRECT, ids=IDS)
@pytest.mark.parametrize("transform", ["jacobian", "jacfwd", "hessian"])
def test_every_transform_gives_what_the_call_in_a_function_gives(
        transform, direct, wrapped, args):
    got = getattr(ad, transform)(direct)(*args)
    expected = getattr(ad, transform)(wrapped)(*args)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


# (was a strict xfail: jvp read the defaults left out from
# inspect.signature(fun), which for a scipy.stats method is (x, *args,
# **kwds))
@pytest.mark.parametrize("direct, wrapped, args", DIRECT, ids=IDS)
def test_jvp_and_vjp_give_what_the_call_in_a_function_gives(direct, wrapped,
                                                            args):
    tangents = tuple(np.ones_like(a) if isinstance(a, np.ndarray) else 1.0
                     for a in args)
    for got, expected in zip(ad.jvp(direct, args, tangents),
                             ad.jvp(wrapped, args, tangents)):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    value, pull = ad.vjp(direct, *args)
    value_wrapped, pull_wrapped = ad.vjp(wrapped, *args)
    np.testing.assert_allclose(value, value_wrapped, rtol=1e-14)
    seed = np.ones_like(np.asarray(value))
    for got, expected in zip(pull(seed), pull_wrapped(seed)):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("direct, wrapped, args", [
    d for d, name in zip(DIRECT, IDS) if name not in (
        "softmax", "log_softmax", "solve_triangular", "expit")],
    ids=[n for n in IDS if n not in ("softmax", "log_softmax",
                                     "solve_triangular", "expit")])
def test_grad_and_value_and_grad_give_what_the_call_in_a_function_gives(
        direct, wrapped, args):
    np.testing.assert_allclose(ad.grad(direct)(*args),
                               ad.grad(wrapped)(*args), rtol=1e-13)
    value, gradient = ad.value_and_grad(direct)(*args)
    value_wrapped, gradient_wrapped = ad.value_and_grad(wrapped)(*args)
    assert value == pytest.approx(value_wrapped, rel=1e-14)
    np.testing.assert_allclose(gradient, gradient_wrapped, rtol=1e-13)


def test_norm_logpdf_given_directly_takes_loc_and_scale_too():
    gradient = ad.grad(scipy.stats.norm.logpdf, argnums=(0, 1, 2))
    assert gradient(0.3, 0.1, 2.0) == pytest.approx(
        (-0.05, 0.05, -0.495), rel=1e-13)
