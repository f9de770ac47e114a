"""Reads through a boolean mask computed from the data: ``x[mask]`` whose
elements are computed on elementwise and then reduced, as NumPy code skips
missing values (``np.mean((pred - y)[~np.isnan(y)] ** 2)``) or keeps the
positive residuals (``np.sum(r[r > 0])``). Each is the masked reduction of
the whole array, as one writes its gradient by hand; any other use of a
selection is refused at its line, saying what works."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, numeric_gradient

rng = np.random.default_rng(7)


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets with every third target missing (nan)."""
    targets = rng.normal(size=n)
    targets[1::3] = np.nan
    return rng.normal(size=n), targets


X, Y = data(5)
W = np.linspace(-0.8, 1.1, 5)


def body(fn, *example) -> str:
    """The generated source after its docstring."""
    return ad.source(fn, *example).split('"""')[-1].strip()


def loss(w, x, y):
    pred = x * w
    valid = ~np.isnan(y)
    return np.mean((pred - y)[valid] ** 2)


def test_the_mean_over_valid_targets_is_the_masked_mean():
    args = (0.5, np.arange(3.0), np.array([1.0, np.nan, 2.0]))
    # ((0 - 1) ** 2 + (1 - 2) ** 2) / 2, and its derivative in w:
    # (2 * 0 * -1 + 2 * 2 * -1) / 2 and (2 * 0 + 2 * 4) / 2
    assert loss(*args) == 1.0
    assert ad.grad(loss)(*args) == -2.0
    assert ad.hessian(loss)(*args) == 4.0
    assert body(ad.grad(loss), *args) == (
        "valid = np.logical_not(np.isnan(y))\n"
        "    return np.sum(np.where(valid, 2 * x * (w * x - y), 0)\n"
        "                  / np.count_nonzero(valid))")


def positive_part(w, x):
    r = x * w - 0.2
    return np.sum(r[r > 0])


def test_a_mask_of_the_differentiated_values_is_piecewise_constant():
    # d/dw sum(r[r > 0]) is the sum of x where r > 0.
    assert ad.grad(positive_part)(1.5, X) == pytest.approx(
        np.sum(X[X * 1.5 - 0.2 > 0]), rel=1e-15)
    assert ad.hessian(positive_part)(1.5, X) == 0.0
    assert body(ad.grad(positive_part), 1.5, X) == (
        "return np.sum(np.where(w * x - 0.2 > 0, x, 0))")


# Reductions of selections, with the parameters vector w.
def largest(w, x, y):
    e = np.sin(x * w)
    return np.max(e[~np.isnan(y)]) - np.min(e[~np.isnan(y)] ** 3)


def counted(w, x, y):
    e = x * w - y
    m = ~np.isnan(y)
    return np.sum(e[m] ** 2) / len(e[m]) + np.sum(np.tanh(e[m])) / e[m].size \
        + np.sum(e[m]) / e[m].shape[0] * e[m].ndim


def mean_absolute(w, x, y):
    e = x * w - y
    return np.mean(np.abs(e[~np.isnan(y)]))


def spreads(w, x, y):
    e = x * w - y
    m = ~np.isnan(y)
    return np.std(e[m]) + e[m].var(ddof=1)


def products(w, x, y):
    e = x * w - y
    m = ~np.isnan(y)
    return e[m] @ e[m] + np.dot(e[m], np.tanh(w)[m]) + np.prod(w[m])


def methods_and_builtins(w, x, y):
    s = (x * w)[y > 0]
    return s.sum() + s.mean() * s.max() + sum(-s * 2) + max(np.exp(s)) \
        + np.average(s ** 2)


def norms_and_casts(w, x, y):
    s = (x * w)[y > 0]
    return np.linalg.norm(s) + np.sum(s.clip(-0.5, 0.5).astype(np.float64))


def compared(w, x, y):
    r = (x * w - y)[~np.isnan(y)]
    huber = np.where(np.abs(r) < 0.5, 0.5 * r ** 2, 0.5 * (np.abs(r) - 0.25))
    return np.mean(huber) + np.mean(r > 0) * np.sum(r[r > 0] ** 2) \
        + np.sum((r < 0) * r ** 3)


def in_a_band(w, x, y):
    r = (x * w - y)[~np.isnan(y)]
    inside = (r > -1) & (r < 1)
    return np.sum(np.where(inside, r ** 2, 0)) + np.sum(r[~inside] ** 3) \
        + np.sum(np.logical_or(r > 1, r < -2) * r)


def in_a_loop(w, x, y):
    v = x * w
    for _ in range(40):  # (kept a loop: each step reads the last)
        v = v + 0.01 * np.mean(np.tanh(v)[y > 0]) - 0.02 * min(v[y > 0])
    return np.sum(v)


def shared_helper(values, mask):
    return values[mask]


def through_helpers(w, x, y):
    kept = shared_helper(np.cos(x * w), y > 0)
    return np.sum(kept ** 2) / np.count_nonzero(y > 0)


def of_rows(w, x, y):
    rows = np.tanh(np.outer(x, w))  # 5 rows, kept where y > 0
    kept = rows[y > 0]
    return np.sum(np.mean(kept, axis=0) ** 2) + np.mean(kept) \
        + np.sum(np.var(kept, axis=0)) + np.max(rows[y > 0, :])


def of_columns(w, x, y):
    table = np.tanh(np.outer(x, w))
    m = ~np.isnan(y)
    return np.mean(table[m, 0] ** 2) + np.sum(table[m, 1:3]) \
        + np.max(table[m][:, -1])


READS = [largest, counted, mean_absolute, spreads, products,
         methods_and_builtins, norms_and_casts, compared, in_a_band,
         in_a_loop, through_helpers, of_rows, of_columns]


@pytest.mark.parametrize("fun", READS, ids=lambda f: f.__name__)
def test_gradients_match_central_differences(fun):
    got = ad.grad(fun)(W, X, Y)
    np.testing.assert_allclose(got, numeric_gradient(fun, (W, X, Y), 0),
                               rtol=1e-6, atol=1e-8)
    assert got.shape == W.shape


@pytest.mark.parametrize("fun", READS, ids=lambda f: f.__name__)
def test_hessians_match_central_differences_of_the_gradient(fun):
    gradient = ad.grad(fun)
    rows = [numeric_gradient(lambda w: gradient(w, X, Y)[i], (W,), 0)
            for i in range(len(W))]
    np.testing.assert_allclose(ad.hessian(fun)(W, X, Y), np.array(rows),
                               rtol=1e-5, atol=1e-7)


def scaled_mean(w):
    return np.mean(np.exp(w[Y > 0])) * w


def test_jacobians_jvps_and_vjps_of_masked_reads():
    expected = np.array([numeric_gradient(lambda w: scaled_mean(w)[i],
                                          (W,), 0) for i in range(5)])
    np.testing.assert_allclose(ad.jacobian(scaled_mean)(W), expected,
                               rtol=1e-6, atol=1e-8)
    tangent = np.linspace(1.0, 2.0, 5)
    value, pushed = ad.jvp(scaled_mean, (W,), (tangent,))
    np.testing.assert_allclose(value, scaled_mean(W), rtol=1e-15)
    np.testing.assert_allclose(pushed, expected @ tangent, rtol=1e-6)
    value, pull = ad.vjp(scaled_mean, W)
    np.testing.assert_allclose(pull(tangent)[0], tangent @ expected,
                               rtol=1e-6)


def every_read(w, x, y):
    r = x * w - y
    valid = ~np.isnan(y)
    return (np.mean(r[valid] ** 2) + np.max(r[valid]) + np.std(r[valid])
            + len(r[valid]) * np.sum(r[r > 0]) / r[valid].size
            + r[valid] @ r[valid])


@pytest.mark.parametrize("transform", ["grad", "hessian"])
def test_code_printed_at_one_size_runs_at_another(transform):
    text = ad.source(getattr(ad, transform)(every_read), 0.7, X, Y)
    assert "raise" not in text
    namespace = {"np": np}
    exec(compile(text, "<copied>", "exec"), namespace)  # noqa: S102
    copied = namespace[text.split("(")[0].split()[-1]]
    x, y = data(7)
    expected = getattr(ad, transform)(every_read)(0.7, x, y)
    assert copied(0.7, x, y) == pytest.approx(expected, rel=1e-12)
    if transform == "grad":
        assert expected == pytest.approx(
            numeric_gradient(every_read, (0.7, x, y), 0), rel=1e-7)


def test_the_mean_of_no_elements_is_nan_as_numpy_gives():
    args = (0.5, np.arange(3.0), np.full(3, np.nan))
    with np.errstate(invalid="ignore"), pytest.warns(
            RuntimeWarning, match="Mean of empty slice"):
        assert np.isnan(loss(*args))
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert np.isnan(ad.grad(loss)(*args))  # 0 / 0, as JAX's


def test_float32_stays_float32():
    x, y = X.astype(np.float32), Y.astype(np.float32)
    got = ad.grad(mean_absolute)(W.astype(np.float32), x, y)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ad.grad(mean_absolute)(W, X, Y),
                               rtol=1e-5)


def counts_of_its_own(w, x):
    return np.sum(w ** 2) / np.count_nonzero(x > 0) + np.sum(
        np.count_nonzero(np.outer(x, w) > 0, axis=0) * w)


def test_np_count_nonzero_is_a_constant_count():
    expected = 2 * W / np.count_nonzero(X > 0) + np.count_nonzero(
        np.outer(X, W) > 0, axis=0)
    np.testing.assert_allclose(ad.grad(counts_of_its_own)(W, X), expected,
                               rtol=1e-15)


# -- refused uses, each at its line -------------------------------------------

def returned(w, y):
    return (w * 2)[y > 0]


def cumulated(w, y):
    return np.cumsum(w[y > 0])[-1]


def through_two_masks(w, y):
    e = w * 2
    return np.sum(e[y > 0] * e[~np.isnan(y)])


def against_an_array(w, y):
    return np.sum(w[y > 0] * w)


def indexed(w, y):
    picked = w[y > 0]
    return picked[0]


def cast(w, y):
    picked = w[y > 0]
    return float(picked)


def in_a_chain(w, y):
    picked = w[y > 0]
    return np.sum(np.where(0 < picked < 1, picked, 0))


def indexing_another(w, y):
    picked = w[y > 0]
    return np.sum(w[picked > 0])


def kept_dims(w, y):
    return np.sum(w[y > 0], keepdims=True)[0]


def along_another_axis(w, y):
    return np.sum(np.sum(np.outer(w, w)[y > 0], axis=1))


def mask_of_another_shape(w, y):
    return np.sum(w[y[:3] > 0])


def transposed(w, y):
    return np.sum(w[y > 0].T)


SELECTS = ("selects elements by a mask computed from the data, as many as "
           "the data says, which cannot be an array of a derivative: here ")
WORKS = ("A selection can be reduced (np.sum, np.mean, np.max, np.min, "
         "np.prod, np.var, np.std, np.average, np.linalg.norm, len(), "
         ".size, and @ or np.dot of two through the same mask), also after "
         "elementwise arithmetic, functions and comparisons with numbers "
         "and with selections through the same mask; for other uses keep "
         "the shape with np.where(mask, x, 0)")


@pytest.mark.parametrize("fun,offset,selected,use", [
    (returned, 1, "(w * 2)[y > 0]", "it is returned"),
    (cumulated, 1, "w[y > 0]", "np.cumsum() takes it"),
    (through_two_masks, 2, "e[y > 0]",
     "it is combined with e[~np.isnan(y)], a selection through another "
     "mask"),
    (against_an_array, 1, "w[y > 0]",
     "it is combined with an array of shape (5,), which would broadcast "
     "against its selected axis"),
    (indexed, 2, "w[y > 0]", "it is indexed"),
    (cast, 2, "w[y > 0]", "it is used as an array"),
    (in_a_chain, 2, "w[y > 0]",
     "a chain of comparisons takes it (compare once per condition)"),
    (indexing_another, 2, "w[y > 0]", "it indexes another array"),
    (kept_dims, 1, "w[y > 0]", "np.sum() takes it with keepdims=True"),
    (along_another_axis, 1, "np.outer(w, w)[y > 0]",
     "np.sum over axis 1 keeps the selected axis, whose length depends on "
     "the data"),
    (transposed, 1, "w[y > 0]", "its .T is read"),
], ids=lambda value: getattr(value, "__name__", None))
def test_other_uses_are_refused_saying_what_works(fun, offset, selected,
                                                  use):
    assert_refused_at(lambda: ad.grad(fun)(W, Y), fun, offset,
                      f"{selected} {SELECTS}{use}. {WORKS}")


def test_a_mask_of_another_shape_is_refused_as_numpy_refuses_it():
    assert_refused_at(lambda: ad.grad(mask_of_another_shape)(W, Y),
                      mask_of_another_shape, 1,
                      "a boolean mask of shape (3,) indexes an array of "
                      "shape (5,): a mask takes the shape of the array's "
                      "first axes (boolean index did not match indexed "
                      "array)")
