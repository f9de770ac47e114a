"""A ``functools.partial`` keeps the defaults of the arguments it leaves
open: the derivative of ``partial(f, b=5.0)`` of ``f(x, a=1.0, b=2.0)``
is called with x alone, as the partial is (once a TypeError: "missing
required argument a")."""

import functools

import numpy as np

import autodiff_ast as ad


def quadratic(x, a=1.0, b=2.0):
    return a * x ** 2 + b * x


def summed(x, a=1.0, b=2.0):
    return np.sum(a * x ** 2 + b * x)


def test_the_open_arguments_keep_their_defaults():
    bound = functools.partial(quadratic, b=5.0)
    assert ad.grad(bound)(1.0) == 7.0  # 2 a x + b
    assert ad.grad(bound)(1.0, 3.0) == 11.0
    assert ad.grad(functools.partial(quadratic, 1.0))(3.0) == 1.0  # d/da
    np.testing.assert_allclose(
        ad.grad(functools.partial(summed, b=5.0))(np.array([1.0, 2.0])),
        [7.0, 9.0])
    # (b, bound by keyword, stays a keyword the call may pass again)
    assert ad.source(ad.grad(bound)).startswith("def dquadratic_dx(x, "
                                                "a=1.0, *, b=5.0):\n")
    assert ad.grad(bound)(1.0, b=7.0) == 9.0


def test_jvp_fills_in_the_defaults_after_the_primals():
    bound = functools.partial(quadratic, b=5.0)
    assert ad.jvp(bound, (1.0,), (1.0,)) == (6.0, 7.0)
