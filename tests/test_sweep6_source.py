"""Printed source as a user takes it away (sweep 6): the text
``ad.source(df, *example_args)`` prints, executed in a namespace holding
only numpy, math, scipy and the globals the function reads, gives the
handle's values at another size than the one it was printed for
(logistic regression, layer norm, cross-entropy by integer labels, a loop
over the rows, cumulative sums of a reversed array, a Gaussian process
by Cholesky, scipy.special functions, a Hessian), and returns what the
handle returns (a tuple of one for ``argnums=(0,)``). Code whose size is
a constant of its structure says so when called at another size. Known
bugs are strict xfails whose reason names their entry in the sweep's
list ("sweep6 bug N").
"""

from __future__ import annotations

import math

import numpy as np
import optree
import pytest
import scipy
import scipy.special

import autodiff_ast as ad

rng = np.random.default_rng(6)


def executed(fn, *example_args, **globals_read):
    """The function that ``ad.source(fn, *example_args)`` defines, run from
    its text alone."""
    text = ad.source(fn, *example_args)
    namespace = {'np': np, 'math': math, 'scipy': scipy, **globals_read}
    exec(compile(text, '<printed>', 'exec'), namespace)
    return namespace[text.split('def ', 1)[1].split('(', 1)[0]]


def assert_same(a, b):
    if isinstance(a, tuple):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def logistic_nll(w, X, y):
    p = 1 / (1 + np.exp(-X @ w))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def layer_norm_cubed(x):
    mu = x.mean(-1, keepdims=True)
    return np.sum(((x - mu) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)) ** 3)


def cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return np.mean(lse - logits[np.arange(len(y)), y])


def weighted_sines(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sin(x[i]) * i
    return s


def reversed_running_sums(x):
    return np.sum(np.cumsum(x[::-1]) * np.diff(np.concatenate([[0.0], x])))


def gp_log_det(ls, X):
    K = (np.exp(-0.5 * (X[:, None] - X[None, :]) ** 2 / ls ** 2)
         + 1e-3 * np.eye(len(X)))
    L = np.linalg.cholesky(K)
    return 2 * np.sum(np.log(np.diag(L)))


def special_functions(x):
    return np.sum(scipy.special.logsumexp(x)
                  - scipy.special.gammaln(x ** 2 + 1))


CASES = {
    "logistic regression": (
        logistic_nll, 0,
        (np.ones(3), rng.normal(size=(5, 3)), np.ones(5)),
        (np.ones(3), rng.normal(size=(50, 3)),
         (rng.random(50) > 0.5) * 1.0)),
    "layer norm": (layer_norm_cubed, 0, (rng.normal(size=(2, 3)),),
                   (rng.normal(size=(7, 3)),)),
    "cross-entropy": (
        cross_entropy, 0, (rng.normal(size=(4, 3)), np.array([0, 2, 1, 1])),
        (rng.normal(size=(9, 3)), rng.integers(0, 3, 9))),
    "a loop over the items": (weighted_sines, 0, (rng.normal(size=3),),
                              (rng.normal(size=8),)),
    "running sums": (reversed_running_sums, 0, (rng.normal(size=3),),
                     (rng.normal(size=8),)),
    "gaussian process": (gp_log_det, (0, 1), (1.0, rng.normal(size=3)),
                         (0.7, rng.normal(size=8))),
    "scipy.special": (special_functions, 0, (rng.normal(size=3),),
                      (rng.normal(size=8),)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_printed_gradient_runs_at_another_size(name):
    f, argnums, small, large = CASES[name]
    g = ad.grad(f, argnums=argnums)
    assert_same(executed(g, *small)(*large), g(*large))


def test_printed_hessian_runs_at_another_size():
    def f(x):
        return np.sum(np.tanh(x) ** 2 * x[0])
    h = ad.hessian(f)
    x = rng.normal(size=6)
    assert_same(executed(h, rng.normal(size=3))(x), h(x))


def sum_of_squares_times(x, y):
    return np.sum(x ** 2 * y)


def test_printed_scalar_gradient_for_a_tuple_of_one_argnum_is_a_tuple():
    def f(x, y):
        return x ** 2 * y
    g = ad.grad(f, argnums=(0,))
    assert executed(g)(2.0, 3.0) == g(2.0, 3.0) == (12.0,)


# was sweep6 bug 12: argnums=(0,) printed a bare array
def test_printed_array_gradient_for_a_tuple_of_one_argnum_is_a_tuple():
    g = ad.grad(sum_of_squares_times, argnums=(0,))
    printed = executed(g, np.ones(2), 3.0)(np.ones(4), 3.0)
    assert isinstance(printed, tuple) and len(printed) == 1
    assert_same(printed, g(np.ones(4), 3.0))


def sorted_against_a_ramp(x):
    return np.sum(np.sort(x) * np.linspace(0, 1, x.shape[0]))


def test_a_size_baked_in_is_checked_when_called_at_another():
    g = ad.grad(sorted_against_a_ramp)
    printed = executed(g, np.ones(3))
    with pytest.raises(ValueError, match=(
            r"^grad_sorted_against_a_ramp was generated for x of shape "
            r"\(3,\), and is correct only at these sizes \(a size is used as "
            r"a constant \(np.linspace\(0, 1, x.shape\[0\]\) at "
            r".*test_sweep6_source.py:\d+\)\)")):
        printed(np.ones(5))
    x = rng.normal(size=5)
    np.testing.assert_allclose(g(x), np.linspace(0, 1, 5)[np.argsort(
        np.argsort(x))], rtol=1e-12)


def weighted_squares(p):
    return np.sum(p['w'] ** 2) * p['b']


def squares_times_squares(x, y):
    return np.sum(x * y ** 2)


def loss_with_aux(x):
    loss = np.sum(np.tanh(x) ** 2)
    return loss, {'loss': loss, 'mean': np.mean(x)}


def assert_same_tree(got, want):
    assert optree.tree_structure(got) == optree.tree_structure(want)
    for a, b in zip(optree.tree_leaves(got), optree.tree_leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_printed_scalar_hessian_returns_the_handles_structure():
    def f(x, y):
        return x * y ** 2
    h = ad.hessian(f, (0, 1))
    assert_same_tree(executed(h)(2.0, 3.0), h(2.0, 3.0))


# was sweep6 bug 27: printed array code returned flat leaves
def test_printed_array_code_returns_the_handles_structure():
    p = {'w': np.arange(5.0), 'b': 2.0}
    g = ad.grad(weighted_squares)
    assert_same_tree(executed(g, {'w': np.ones(3), 'b': 1.0})(p), g(p))
    h = ad.hessian(squares_times_squares, (0, 1))
    x, y = np.arange(5.0), np.ones(5)
    assert_same_tree(executed(h, np.ones(3), np.ones(3))(x, y), h(x, y))
    v = ad.value_and_grad(loss_with_aux, has_aux=True)
    assert_same_tree(executed(v, np.ones(3))(x), v(x))

