"""Printed array gradients run at any size: generated for a batch of 5,
exec'd as a user would (a fresh namespace holding ``np`` and the global
arrays the code reads) and called with batches of 7 and 1000, they agree
with the gradient generated for those sizes; where a size still cannot be
read at run time, the code says what it was generated for instead of
returning a wrong gradient."""

from __future__ import annotations

import sys

import numpy as np
import optree
import pytest

import autodiff_ast as ad

D, H = 3, 4
THIS = sys.modules[__name__]

# Globals the functions read; each test sets them for a batch size.
X = y = targets = None


def batch(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(n)
    return {"X": rng.normal(size=(n, D)), "y": rng.normal(size=n),
            "targets": rng.random(n) > 0.5}


def logistic_mean(W):
    preds = 1 / (1 + np.exp(-(X @ W)))
    return -np.mean(targets * np.log(preds)
                    + (1 - targets) * np.log(1 - preds))


def logistic_sum(W):
    preds = 1 / (1 + np.exp(-(X @ W)))
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def mlp(params):
    hidden = np.tanh(X @ params["W1"] + params["b1"])
    out = hidden @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def tanh_mean(W):
    return np.mean(np.tanh(X @ W) ** 2)


def mean_over_rows(W):
    return np.sum(np.mean(np.tanh(X * W), axis=0) ** 2)


def mean_method_keepdims(W):
    centered = X - X.mean(axis=0, keepdims=True)
    return (np.tanh(centered @ W) ** 2).mean()


def with_len(w):
    return np.sum((X @ w - y) ** 2) / len(y)


def with_shape_and_size(w):
    return np.sum(np.sin(X * w)) / X.shape[0] + np.sum(X @ w) / X.size


def reshape_minus_one(w):
    flat = (X * w).reshape(-1)
    return np.sum(flat ** 2 * np.cos(flat))


def reshape_from_shape(W):
    pairs = np.reshape(X @ W, (2 * X.shape[0], -1))
    return np.sum(np.tanh(pairs) * pairs[:, :1])


def broadcast_row(b):
    return np.sum((X - b) ** 2 * np.cos(b))


def broadcast_scalar(s):
    return np.mean(np.tanh(X * s)) + np.sum(np.sin(s) + X)


def slices(w):
    z = X @ w
    return np.sum(z[1:] * z[:-1]) + np.sum(z[::2] ** 2) + np.sum(
        X[:, 1:] * w[1:])


def zeros_from_shape(w):
    offset = np.zeros(X.shape) + np.ones(len(y))[:, None]
    return np.sum(np.tanh((X + offset) @ w))


def tuple_params(params):
    W, b = params
    return np.mean(np.log1p(np.exp(X @ W + b)))


def picked(W):
    logits = X @ W
    return -np.mean(logits[np.arange(len(y)), np.argmax(X, axis=1)])


def squeezed_and_rolled(w):
    column = np.atleast_2d(X @ w).T
    return np.sum(np.squeeze(column) ** 2 * np.roll(X, 1, axis=0)[:, 0]) \
        + np.sum(np.roll(X * w, 2) ** 2)


def cumulative(w):
    return np.sum(np.cumsum(X @ w) ** 2) + np.sum(np.cumprod(np.cos(X * w),
                                                           axis=0))


def on_the_diagonal(w):
    gram = (X * w) @ X.T
    return np.sum(np.diagonal(gram) ** 2) + np.sum(np.tril(gram))


def concatenated(w):
    z = np.concatenate([X @ w, y])
    return np.sum(z ** 2)


def split_unequally(w):
    first, second = np.array_split(X @ w + y, 2)
    return np.sum(first ** 2) - np.sum(np.sin(second))


def assembled(w):
    # Gradients of assemblies slice, sum copies and cut padding by sizes
    # read at run time.
    z = X @ w
    halves = np.split(z[:4], 2)
    head, middle, tail = np.split(X * w, [1, -2])
    columns = np.hsplit(np.tile(X * w, (1, 2)), 3)
    return (np.sum(np.concatenate([z, np.tile(w, 2), np.repeat(w, 3)]) ** 2)
            + np.sum(halves[0] * halves[1])
            + np.sum(np.vstack([head, np.cos(tail)]) * np.sum(middle))
            + np.sum(np.stack([z, y], axis=1) ** 3)
            + np.sum(np.repeat(X * w, 2, axis=1) ** 2 * columns[1][:, :1])
            + np.sum(np.hstack([np.sin(z), np.pad(z, 2)]) ** 2))


def loop_over_rows(w):
    z = X @ w
    total = 0.0
    for i in range(len(y)):
        total = total + z[i] ** 2
    return total


def branch_on_size(w):
    z = X @ w
    if len(y) > 3:
        return np.sum(z ** 2)
    return np.sum(z)


def averaged(w):
    # Unweighted np.average divides by the count, read at run time, and
    # returns it so.
    means, count = np.average(np.sin(X * w), axis=0, returned=True)
    return np.average(np.tanh(X @ w) ** 2) + np.sum(means ** 2 + count * w)


def weighted_averages(w):
    # Weights along the batch axis, reshaped to (N, 1) as read at run time.
    means, totals = np.average(np.sin(X * w), axis=0, weights=np.exp(y),
                               returned=True)
    return np.sum(means ** 2 * totals) + np.average(X @ w, weights=y ** 2)



def spreads(w):
    # np.var and np.std divide by the count (less ddof), read at run time.
    return np.sum(np.var(X * w, axis=0)) + np.std(X @ w, ddof=1) \
        + np.var(np.tanh(X @ w))


def extremes(w):
    z = X * w
    return (np.max(X @ w) + np.sum(np.min(z, axis=0) ** 2)
            + np.sum(np.prod(np.cos(z), axis=0))
            + np.prod(np.cos(X[:, 0] * w[0]))
            + np.sum(np.pad(z, ((1, 2), (0, 1)), constant_values=0.5)
                     * np.max(np.tanh(z))))


PARAMS = {
    logistic_mean: np.linspace(-0.5, 0.5, D),
    logistic_sum: np.linspace(-0.5, 0.5, D),
    mlp: {"W1": np.linspace(-1, 1, D * H).reshape(D, H),
          "b1": np.linspace(0.1, 0.4, H), "W2": np.linspace(-1, 1, H),
          "b2": 0.3},
    tanh_mean: np.linspace(-0.5, 0.5, D),
    mean_over_rows: np.linspace(-0.5, 0.5, D),
    mean_method_keepdims: np.linspace(-0.5, 0.5, D),
    with_len: np.linspace(-0.5, 0.5, D),
    with_shape_and_size: np.linspace(-0.5, 0.5, D),
    reshape_minus_one: np.linspace(-0.5, 0.5, D),
    reshape_from_shape: np.linspace(-0.5, 0.5, D * 4).reshape(D, 4),
    broadcast_row: np.linspace(-0.5, 0.5, D).reshape(1, D),
    broadcast_scalar: 0.7,
    slices: np.linspace(-0.5, 0.5, D),
    zeros_from_shape: np.linspace(-0.5, 0.5, D),
    tuple_params: (np.linspace(-0.5, 0.5, D), 0.2),
    picked: np.linspace(-0.5, 0.5, D * D).reshape(D, D),
    squeezed_and_rolled: np.linspace(-0.5, 0.5, D),
    cumulative: np.linspace(-0.5, 0.5, D),
    on_the_diagonal: np.linspace(-0.5, 0.5, D),
    averaged: np.linspace(-0.5, 0.5, D),
    weighted_averages: np.linspace(-0.5, 0.5, D),
    concatenated: np.linspace(-0.5, 0.5, D),
    assembled: np.linspace(-0.5, 0.5, D),
    spreads: np.linspace(-0.5, 0.5, D),
    extremes: np.linspace(-0.5, 0.5, D),
    loop_over_rows: np.linspace(-0.5, 0.5, D),  # a loop of len(y) steps
}
ANY_SIZE = list(PARAMS)
FIXED_SIZE = [split_unequally, branch_on_size]


@pytest.fixture
def sized(monkeypatch):
    """Set the globals for a batch of ``n``; return them."""
    def set_batch(n: int) -> dict[str, np.ndarray]:
        data = batch(n)
        for name, value in data.items():
            monkeypatch.setattr(THIS, name, value)
        return data
    return set_batch


def exported(fun, params, data, transform="grad"):
    """The printed source of ``transform`` (ad.grad, ad.hessian, ...) of
    ``fun``, made while the globals are ``data``, run as a user runs a copy
    of it."""
    text = ad.source(getattr(ad, transform)(fun), params)
    namespace = {"np": np}
    exec(compile(text, "<copied>", "exec"), namespace)  # noqa: S102
    # (ad.grad at a number is a derivative: dbroadcast_scalar_dx)
    function = namespace[text.split("(")[0].split()[-1]]
    return text, function, namespace


def leaves(value):
    return [np.asarray(leaf) for leaf in optree.tree_leaves(value)]


@pytest.mark.parametrize("fun", ANY_SIZE, ids=lambda f: f.__name__)
def test_code_printed_at_one_size_is_right_at_others(fun, sized):
    params = PARAMS[fun]
    text, copied, namespace = exported(fun, params, sized(5))
    assert "raise ValueError" not in text, text
    for n in (7, 1000, 5):
        data = sized(n)
        namespace.update(data)
        got = copied(params)  # in the structure the handle returns
        expected = ad.grad(fun)(params)
        assert optree.tree_structure(got) == optree.tree_structure(expected)
        got, expected = leaves(got), leaves(expected)
        for a, b in zip(got, expected):
            assert np.shape(a) == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fun", ANY_SIZE, ids=lambda f: f.__name__)
def test_gradient_at_another_size_agrees_with_central_differences(fun,
                                                                   sized):
    params = PARAMS[fun]
    _, copied, namespace = exported(fun, params, sized(5))
    namespace.update(sized(7))
    got = optree.tree_leaves(copied(params))  # (the params' structure)
    flat, spec = optree.tree_flatten(params)
    step = 1e-6
    for position, (leaf, grad) in enumerate(zip(flat, got)):
        base = np.asarray(leaf, dtype=float)
        numeric = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            values = []
            for sign in (1, -1):
                moved = base.copy()
                moved[index] += sign * step
                changed = list(flat)
                changed[position] = moved if moved.shape else float(moved)
                values.append(fun(optree.tree_unflatten(spec, changed)))
            numeric[index] = (values[0] - values[1]) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_sizes_are_read_where_they_enter_the_gradient(sized):
    sized(5)
    body = ad.source(ad.grad(tanh_mean), PARAMS[tanh_mean]).split('"""')[2]
    assert "/ X.shape[0]" in body and "0.2" not in body
    body = ad.source(ad.grad(with_len), PARAMS[with_len]).split('"""')[2]
    assert body == ("\n    return X.T @ ((X @ w - y) * (2 / y.shape[0]))\n")
    body = ad.source(ad.grad(broadcast_row),
                     PARAMS[broadcast_row]).split('"""')[2]
    assert "keepdims=True" in body and "(1, 3)" not in body
    body = ad.source(ad.grad(reshape_minus_one),
                     PARAMS[reshape_minus_one]).split('"""')[2]
    assert "np.reshape(X * w, (-1,))" in body and " X.shape)" in body
    assert "15" not in body


@pytest.mark.parametrize("fun", FIXED_SIZE, ids=lambda f: f.__name__)
def test_code_that_bakes_a_size_refuses_other_sizes(fun, sized):
    params = np.linspace(-0.5, 0.5, D)
    text, copied, namespace = exported(fun, params, sized(5))
    name = f"grad_{fun.__name__}"
    assert "    if X.shape != (5, 3) or w.shape != (3,)" in text
    namespace.update(sized(5))
    np.testing.assert_allclose(copied(params), ad.grad(fun)(params),
                               rtol=1e-12)
    namespace.update(sized(7))
    with pytest.raises(ValueError) as caught:
        copied(params)
    message = str(caught.value)
    assert message.startswith(
        f"{name} was generated for X of shape (5, 3), w of shape (3,) and "
        "y of shape (5,), and is correct only at these sizes (")
    assert message.endswith(
        f"For other sizes, generate it again: ad.source({name}, *args) "
        "prints it for args of those sizes.")
    # The gradient itself generates code for each size.
    assert np.shape(ad.grad(fun)(params)) == (D,)


@pytest.mark.parametrize("transform", ["value_and_grad", "hessian"])
def test_values_and_hessians_printed_at_one_size_are_right_at_others(
        transform, sized):
    W = PARAMS[logistic_mean]
    text, copied, namespace = exported(logistic_mean, W, sized(5), transform)
    assert "raise ValueError" not in text, text
    derivative = getattr(ad, transform)(logistic_mean)
    for n in (7, 1000):
        namespace.update(sized(n))
        for a, b in zip(leaves(copied(W)), leaves(derivative(W))):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_batch_of_one_that_decides_a_broadcast_is_checked(sized):
    # At N = 1, X - b has b's shape, so b's gradient sums nothing; at
    # N = 5 it must sum over the rows: the code printed at N = 1 says so.
    b = PARAMS[broadcast_row]
    text, copied, namespace = exported(broadcast_row, b, sized(1))
    assert "    if X.shape != (1, 3) or b.shape != (1, 3):" in text
    namespace.update(sized(1))
    np.testing.assert_allclose(copied(b), ad.grad(broadcast_row)(b),
                               rtol=1e-12)
    namespace.update(sized(5))
    with pytest.raises(ValueError, match="X and b both have size 1 along "
                                         "an axis, which decides how the "
                                         "gradient of b sums"):
        copied(b)


def product_of_rows(w):
    return np.prod(np.cos(X @ w))


def test_a_product_over_one_element_is_checked(sized):
    # At N = 1 the product's gradient is the adjoint itself; at N = 5 it
    # needs the products of the other factors: the code printed at N = 1
    # says so.
    w = np.linspace(-0.5, 0.5, D)
    text, copied, namespace = exported(product_of_rows, w, sized(1))
    assert "    if X.shape != (1, 3) or w.shape != (3,):" in text
    namespace.update(sized(1))
    np.testing.assert_allclose(copied(w), ad.grad(product_of_rows)(w),
                               rtol=1e-12)
    namespace.update(sized(5))
    with pytest.raises(ValueError, match=r"the gradient of np\.prod is "
                                         r"written for 1 element\(s\) "
                                         "along an axis"):
        copied(w)


@pytest.mark.parametrize("fun", [averaged, weighted_averages, spreads,
                                 extremes, concatenated, assembled],
                         ids=lambda f: f.__name__)
def test_hessians_of_reductions_and_assemblies_run_at_any_size(fun, sized):
    params = PARAMS[fun]
    text, copied, namespace = exported(fun, params, sized(5), "hessian")
    assert "raise ValueError" not in text, text
    for n in (7, 1000):
        namespace.update(sized(n))
        np.testing.assert_allclose(copied(params), ad.hessian(fun)(params),
                                   rtol=1e-12, atol=1e-12)


def product_of_three(p):
    a, b, c = p
    return a * b * c


def test_unpacking_rows_checks_their_number():
    # Python raises at four rows; the code for three read the first three
    # and gave the fourth a zero gradient.
    p = np.array([1.0, 2.0, 3.0])
    text = ad.source(ad.grad(product_of_three), p)
    assert "    if p.shape != (3,):" in text
    assert "((a, b, c) = ... unpacks 3 rows)" in " ".join(
        line.strip(" '") for line in text.splitlines())
    namespace = {"np": np}
    exec(compile(text, "<copied>", "exec"), namespace)  # noqa: S102
    np.testing.assert_array_equal(namespace["grad_product_of_three"](p),
                                  [6.0, 3.0, 2.0])
    with pytest.raises(ValueError, match="was generated for p of shape"):
        namespace["grad_product_of_three"](np.ones(4))
    with pytest.raises(ad.UnsupportedCodeError,
                       match=r"cannot unpack 4 rows of an array of shape "
                             r"\(4,\) into 3 names"):
        ad.grad(product_of_three)(np.ones(4))
