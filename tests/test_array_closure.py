"""Closure for array code (issue 10): the source we print is valid input.

For a function per row of the array table (``_array_rules``), each
derivative's printed source is pasted into a module of its own, as a user
would (``import numpy as np`` and the global arrays it reads), imported,
and checked to give the values the derivative gives; then the pasted
function is differentiated again (``ad.jacobian``: a gradient of array code
is an array) and that derivative is checked against central differences of
the pasted function. Grads, Hessians and jvps of scalar functions, and
Jacobians and jvps of vector functions, are read back this way.
"""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import optree
import pytest
import scipy.special

import autodiff_ast as ad
from autodiff_ast import _api
from helpers import numeric_gradient

rng = np.random.default_rng(11)
A = rng.normal(size=(3, 4))
PICKS = np.array([2, 0, 3, 2])  # an index that repeats (np.add.at)
B = np.arange(1.0, 5.0)
VECTOR = rng.normal(size=4)
MATRIX = rng.normal(size=(4, 4))
WELL_POSED = MATRIX + 4 * np.eye(4)
DATA = {"A": A, "PICKS": PICKS, "B": B}


# -- one function per row (or family of rows) ---------------------------------

def sums(x):
    return np.sum(np.tanh(x) ** 2) + x.sum(axis=0) @ np.cos(x).sum(axis=0)


def means(x):
    return np.mean(np.sin(x), axis=1) @ x.mean(axis=1) + np.mean(x ** 3)


def transposes(x):
    return (np.sum(np.transpose(x) * np.cos(x.T))
            + np.sum(x.transpose() @ np.sin(x)))


def reshapes(x):
    return np.sum(np.reshape(x, (2, -1)) ** 2 * np.sin(x.reshape(-1, 2)).sum())


def expanded(x):
    return np.sum(np.expand_dims(x, 0) * np.tanh(x)[:, None])


def broadcast(x):
    return np.sum(np.broadcast_to(x, (3, 4)) ** 2 * A)


def slices(x):
    return np.sum(x[1:] * x[:-1]) + x[0] ** 3 * np.sum(x[::2] ** 2)


def fancy_indices(x):
    return np.sum(np.sin(x[PICKS]) * x[[1, 0, 1, 2]])


def takes(x):
    return np.sum(np.take(x, PICKS) ** 2 * np.cos(x.take([1, 1, 0, 2])))


def taken_along_axis(x):
    order = np.argsort(x, axis=1)
    return np.sum(np.take_along_axis(x, order, axis=1) ** 2 * np.arange(4.0))


def sorted_(x):
    return np.sum(np.sort(x) * np.arange(4.0) * np.tanh(x))


def masked(x):
    return np.sum(np.where(np.all(x > -5), np.log(np.abs(x)), 0.0)) * \
        np.sum(np.any(x > 0, axis=0, keepdims=True))


def counted(x):
    return np.sum(x[x > 0] ** 3) / np.sum(np.count_nonzero(x, axis=0))


def ranges_of_values(x):
    return np.ptp(x) * np.sum(np.ptp(x, axis=0) ** 2)


def nan_skipping(x):
    return np.nansum(x ** 2) + np.sum(np.nanmean(np.sin(x), axis=0))


def nan_extremes_and_spreads(x):
    return (np.nanmax(x ** 2) * np.sum(np.nanmin(x, axis=0))
            + np.sum(np.nanprod(x, axis=1)) + np.nanvar(x ** 2)
            + np.sum(np.nanstd(x, axis=1, ddof=1)))


def rounded(x):
    return np.sum(x.round(1) * x ** 2)


def composed(x):
    chained = np.linalg.multi_dot([x, np.outer(x, x[::-1]), x ** 2])
    blocks = np.block([[x, x ** 2], [np.sin(x), x]])
    chosen = np.select([x < 0.0, x > 1.0], [x ** 2, np.sin(x)], default=x)
    near = np.where(np.isclose(x, x[0]), x ** 2, x ** 3)
    return chained + np.sum(blocks ** 2) + np.sum(chosen * near) + (
        0.0 if np.allclose(x, 0.0) else np.sum(x))


def convolved(x):
    smooth = np.convolve(x, np.array([0.25, 0.5, 0.25]), mode="same")
    columns = np.apply_along_axis(np.correlate, 0, np.outer(x, x), x[:2],
                                  mode="valid")
    return np.sum(np.sin(np.correlate(smooth, x, mode="full"))) + np.sum(
        columns ** 2)


def filled_from_empty(x):
    y = np.empty((2, 4))
    y[0] = x ** 2
    y[1] = np.sin(x)
    return np.sum(y * x)


def turned_and_differenced(x):
    turned = np.rot90(np.outer(x, x ** 2), k=3)
    return np.sum(turned * B) + np.sum(np.ediff1d(turned, to_end=x) ** 2)


def array_api_names(x):
    m = np.outer(x, x ** 2) * np.tri(4, 4, 1)
    rows = np.unstack(np.matrix_transpose(m))
    return (np.sum(np.vecdot(m, np.sin(m))) + np.sum(rows[1] * rows[2])
            + np.sum(np.diagflat(x[:2]) ** 2)
            + np.sum(np.cumulative_sum(x, include_initial=True) ** 2))


def reduced_by_ufuncs(x):
    m = np.outer(x, np.sin(x))
    return (np.sum(np.add.reduce(m) ** 2) + np.sum(np.multiply.reduce(m))
            + np.maximum.reduce(x) - np.minimum.reduce(x ** 2)
            + np.sum(np.logaddexp.reduce(m, axis=1)))


def filled_empty(x):
    y = np.empty_like(x)
    y[1:] = x[1:] * 3
    y[0] = x[0] ** 2
    return np.sum(y * x)


def appended(x):
    return np.sum(np.append(x, x[:2] ** 2) ** 2)


def trapezoids(x):
    return np.sum(np.trapezoid(x ** 2, x[0], axis=1))


def gradients_of_samples(x):
    return np.sum(np.gradient(x, 0.5) ** 2)


def medians(x):
    return np.median(x) * np.sum(np.tanh(x))


def quantiles(x):
    return np.sum(np.quantile(x, 0.25, axis=0) ** 2)


def percentiles(x):
    return np.percentile(x, 60) * np.sum(x ** 2)


def positions(x):
    return np.sum(x[np.argmax(x), None] * x ** 2) + x[np.argmin(x)] ** 3


def filled(x):
    offset = np.zeros(x.shape) + np.ones((4,)) + np.full(4, 2.0)
    return np.sum(offset * np.sin(x) ** 2)


def identities(x):
    return np.sum((np.eye(4) + np.identity(4)) @ x * x)


def ranges(x):
    return np.sum(np.arange(4) * x ** 2 + np.linspace(0, 1, 4) * np.sin(x))


def likes(x):
    offset = np.zeros_like(x) + np.ones_like(x) + np.full_like(x, 0.5)
    return np.sum(offset * x ** 3)


def constants(x):
    return np.sum(np.array([1.0, 2.0, -1.0, 0.5]) * np.tanh(x) ** 2)


def copies(x):
    y = np.copy(x)
    y[0] += 1.0
    return np.sum(y * x.copy() ** 2)


def squeezed(x):
    return np.sum(np.squeeze(x[None, :]) ** 3
                  + np.ravel(x[:, None]) * x.flatten())


def at_least(x):
    return np.sum(np.atleast_2d(x) * np.atleast_1d(x[0])
                  * np.atleast_3d(np.sin(x)))


def moved_axes(x):
    return np.sum(np.moveaxis(x, 0, 1) * np.swapaxes(np.sin(x), 0, 1)
                  + x.swapaxes(0, 1) ** 3)


def flipped(x):
    return np.sum(np.flip(x) * x ** 2 + np.fliplr(x) * np.flipud(np.sin(x)))


def rolled(x):
    return np.sum(np.roll(x, 1) * x ** 2 + np.roll(x, -1, axis=0) * np.sin(x))


def diag(x):
    return np.sum(np.diag(np.sin(x)) @ x * x)


def diagonals(x):
    return np.sum(np.diagonal(x) ** 3 + np.diag(x) * x.diagonal(1).sum())


def triangles(x):
    return np.sum(np.tril(x) ** 2 * np.triu(np.sin(x), 1))


def stacked(x):
    return np.sum(np.stack([x, np.sin(x)], axis=1) ** 2
                  * np.array([x, x ** 2]).T)


def concatenated(x):
    return np.sum(np.concatenate([x, x ** 2]) * np.hstack([np.sin(x), x]))


def stacked_ways(x):
    return np.sum(np.vstack([x, x ** 2]) ** 2
                  * np.column_stack([x, np.cos(x)]).T
                  + np.dstack([x, x]).sum())


def split(x):
    a, b = np.split(x, 2)
    return np.sum(a * b ** 2) + np.sum(np.array_split(x, 3)[0] ** 3)


def split_ways(x):
    a, b = np.hsplit(x, 2)
    c, d = np.vsplit(x, 2)
    return np.sum(a * b ** 2) + np.sum(c * np.sin(d))


def tiled(x):
    return np.sum(np.tile(x, 2) ** 2 * np.repeat(x, 2) + x.repeat(2) ** 3)


def padded(x):
    return np.sum(np.pad(x, 1) ** 2 * np.pad(np.sin(x), (2, 0)))


def cumulative(x):
    return np.sum(np.cumsum(x) ** 2) + np.sum(x.cumsum()
                                              * np.cumprod(np.cos(x)))


def extremes(x):
    return (np.max(x ** 2) + np.sum(np.min(np.sin(x), axis=0))
            + x.max() * x.min())


def products(x):
    return np.prod(np.cos(x)) + x.prod() * np.sum(x)


def spreads(x):
    return np.var(x) + np.std(np.sin(x)) * x.var() + x.std()


def averages(x):
    return (np.average(x ** 2, weights=np.arange(1.0, 5.0))
            + np.average(np.sin(x)))


def builtins(x):
    return sum(x ** 2) + max(np.sin(x)) * min(x)


def log_sum_exp(x):
    return (scipy.special.logsumexp(x)
            + np.sum(scipy.special.softmax(x) * x)
            + np.sum(scipy.special.log_softmax(x) ** 2))


def dots(x):
    return np.dot(np.sin(x), x) + np.sin(x).dot(x ** 2) + np.matmul(x,
                                                                    np.cos(x))


def matmul(x):
    return np.sum(np.tanh(A @ x) ** 2)


def inner_products(x):
    return np.vdot(x, np.sin(x)) + np.inner(x, x ** 2)


def outer_products(x):
    return np.sum(np.outer(x, np.sin(x)) ** 2) + np.sum(np.kron(x, x[:2]) ** 2)


def crossed(x):
    return np.sum(np.cross(x[:3], np.sin(x[1:])) ** 2)


def traces(x):
    return np.trace(x @ x) + x.trace() ** 2


def norms(x):
    return np.linalg.norm(x) ** 3 + np.linalg.norm(np.sin(x), axis=0).sum()


def einsums(x):
    return (np.einsum('ij,ij->', x, np.sin(x))
            + np.sum(np.einsum('ij,jk->ik', x, x) ** 2))


def einsum_spellings(x):
    return (np.einsum('ii', x) ** 2 + np.sum(np.einsum('ij->j', x ** 2) ** 2)
            + np.sum(np.einsum('...j,jk', x, np.cos(x)) ** 2)
            + np.einsum('ij,ji', x, x))


def tensordots(x):
    return (np.sum(np.tensordot(x, np.sin(x), axes=1) ** 2)
            + np.tensordot(x, x, 2))


def determinant(x):
    return np.linalg.det(x)


def log_determinant(x):
    sign, logdet = np.linalg.slogdet(x)
    return sign * logdet


def inverse(x):
    return np.sum(np.linalg.inv(x) ** 2)


def solved(x):
    return (np.sum(np.linalg.solve(x, np.arange(1.0, 5.0)) ** 2)
            + np.sum(np.linalg.solve(x, B) * np.sin(np.diag(x))))


def cholesky(x):
    return np.sum(np.log(np.diag(np.linalg.cholesky(x @ x.T))))


def eigenvalues(x):
    return np.sum(np.linalg.eigvalsh(x + x.T) * np.arange(1.0, 5.0))


def eigenvectors(x):
    w, q = np.linalg.eigh(x + x.T)
    return np.sum(q ** 2 * B) + np.sum(np.sin(w))


def singular_values(x):
    return np.sum(np.linalg.svd(x, compute_uv=False) ** 3)


def left_singular_vectors(x):
    u = np.linalg.svd(x[:, :3], full_matrices=False)[0]
    return np.sum(u ** 2 * B[:, None])


def right_singular_vectors(x):
    vh = np.linalg.svd(x[:3], full_matrices=False)[2]
    return np.sum(vh ** 2 * B)


def pseudo_inverse(x):
    return np.sum(np.linalg.pinv(x[:, :3]) ** 2 * B[:, None].T)


def covariances(x):
    return np.sum(np.cov(x) ** 2) + np.cov(x[0], bias=True)


def orthogonalised(x):
    q, r = np.linalg.qr(x[:, :3])
    return np.sum(q * B[:, None]) + np.sum(r ** 2)


def least_squares(x):
    return np.sum(np.linalg.lstsq(x[:, :3], B, rcond=None)[0])


def casts(x):
    return (np.sum(x.astype(np.float64) ** 3)
            + np.sin(x).sum().item() * x[0].item())


def clipped(x):
    return np.sum(x.clip(-0.5, 0.5) ** 2 + np.clip(x, -1, None) * x)


def differences(x):
    return np.sum(np.diff(x) ** 2 + np.sin(np.diff(x, n=2)).sum())


def pair_distances(x):
    i, j = np.triu_indices(x.shape[0], k=1)
    return np.sum(np.sqrt(np.sum((x[i] - x[j]) ** 2, axis=1)))


def grids(x):
    X, Y = np.meshgrid(x, x[:3])
    return np.sum(X * np.sin(Y) + X ** 2)


def polynomials(x):
    return (np.sum(np.polyval(x, x[1:]) ** 2) + np.polyval([2.0, -1.0], x[0])
            + np.sum(np.vander(x, 3) @ x[:3]))


def interpolated(x):
    return np.sum(np.interp(B - 0.5, B, x) ** 3 * np.searchsorted(B, x))


def running_extremes(x):
    return np.sum(np.maximum.accumulate(x) * np.minimum.accumulate(
        x[None] * B[:, None], axis=1))


def matrix_powers(a):
    return np.sum(np.linalg.matrix_power(a, 3) - np.linalg.matrix_power(
        a, -1))


# Each row of the array table (by its name), the function that reads it and
# the point where it is differentiated.
SCALAR = {
    "sum": (sums, MATRIX), "mean": (means, MATRIX),
    "transpose": (transposes, MATRIX), "reshape": (reshapes, VECTOR),
    "expand_dims": (expanded, VECTOR), "broadcast_to": (broadcast, VECTOR),
    "getitem": (slices, VECTOR), "scatter": (fancy_indices, VECTOR),
    "take": (takes, VECTOR), "take_along_axis": (taken_along_axis, MATRIX),
    "sort": (sorted_, VECTOR), "argmax": (positions, VECTOR),
    "any": (masked, MATRIX), "all": (masked, MATRIX),
    "count_nonzero": (counted, MATRIX),
    "ptp": (ranges_of_values, MATRIX), "nansum": (nan_skipping, MATRIX),
    "nanmean": (nan_skipping, MATRIX), "empty_like": (filled_empty, VECTOR),
    "nanmax": (nan_extremes_and_spreads, MATRIX),
    "nanmin": (nan_extremes_and_spreads, MATRIX),
    "nanprod": (nan_extremes_and_spreads, MATRIX),
    "nanvar": (nan_extremes_and_spreads, MATRIX),
    "nanstd": (nan_extremes_and_spreads, MATRIX),
    "round": (rounded, MATRIX),
    "add.reduce": (reduced_by_ufuncs, VECTOR),
    "multiply.reduce": (reduced_by_ufuncs, VECTOR),
    "maximum.reduce": (reduced_by_ufuncs, VECTOR),
    "minimum.reduce": (reduced_by_ufuncs, VECTOR),
    "logaddexp.reduce": (reduced_by_ufuncs, VECTOR),
    "tri": (array_api_names, VECTOR),
    "diagflat": (array_api_names, VECTOR),
    "matrix_transpose": (array_api_names, VECTOR),
    "unstack": (array_api_names, VECTOR),
    "vecdot": (array_api_names, VECTOR),
    "cumulative_sum": (array_api_names, VECTOR),
    "rot90": (turned_and_differenced, VECTOR),
    "ediff1d": (turned_and_differenced, VECTOR),
    "empty": (filled_from_empty, VECTOR),
    "convolve": (convolved, VECTOR), "correlate": (convolved, VECTOR),
    "apply_along_axis": (convolved, VECTOR),
    "multi_dot": (composed, VECTOR), "block": (composed, VECTOR),
    "select": (composed, VECTOR), "isclose": (composed, VECTOR),
    "allclose": (composed, VECTOR),
    "append": (appended, VECTOR), "trapezoid": (trapezoids, MATRIX),
    "gradient": (gradients_of_samples, VECTOR),
    "median": (medians, VECTOR), "quantile": (quantiles, MATRIX),
    "percentile": (percentiles, VECTOR),
    "zeros": (filled, VECTOR), "eye": (identities, VECTOR),
    "arange": (ranges, VECTOR), "zeros_like": (likes, VECTOR),
    "constant": (constants, VECTOR), "copy": (copies, VECTOR),
    "squeeze": (squeezed, VECTOR),
    "atleast_1d": (at_least, VECTOR), "moveaxis": (moved_axes, MATRIX),
    "flip": (flipped, MATRIX), "roll": (rolled, VECTOR),
    "diag": (diag, VECTOR), "diagonal": (diagonals, MATRIX),
    "tril": (triangles, MATRIX), "stack": (stacked, VECTOR),
    "concatenate": (concatenated, VECTOR), "vstack": (stacked_ways, VECTOR),
    "split": (split, VECTOR), "hsplit": (split_ways, MATRIX),
    "tile": (tiled, VECTOR), "pad": (padded, VECTOR),
    "cumsum": (cumulative, VECTOR), "max": (extremes, MATRIX),
    "prod": (products, VECTOR), "var": (spreads, VECTOR),
    "average": (averages, VECTOR), "builtin sum": (builtins, VECTOR),
    "logsumexp": (log_sum_exp, VECTOR), "dot": (dots, VECTOR),
    "matmul": (matmul, VECTOR), "vdot": (inner_products, VECTOR),
    "outer": (outer_products, VECTOR), "cross": (crossed, VECTOR),
    "trace": (traces, MATRIX), "norm": (norms, MATRIX),
    "einsum": (einsums, MATRIX), "einsum spellings": (einsum_spellings,
                                                       MATRIX),
    "tensordot": (tensordots, MATRIX), "det": (determinant, WELL_POSED),
    "cofactors": (determinant, WELL_POSED),
    "slogdet": (log_determinant, WELL_POSED), "inv": (inverse, WELL_POSED),
    "solve": (solved, WELL_POSED), "cholesky": (cholesky, WELL_POSED),
    "eigvalsh": (eigenvalues, WELL_POSED), "eigh": (eigenvectors, WELL_POSED),
    "eigh vectors": (eigenvectors, WELL_POSED),
    "svd": (singular_values, MATRIX),
    "svd U": (left_singular_vectors, MATRIX),
    "svd Vh": (right_singular_vectors, MATRIX),
    "pinv": (pseudo_inverse, MATRIX),
    "lstsq": (least_squares, MATRIX),
    "qr": (orthogonalised, MATRIX), "qr R": (orthogonalised, MATRIX),
    "cov": (covariances, MATRIX),
    "astype": (casts, VECTOR), "clip": (clipped, VECTOR),
    "diff": (differences, VECTOR), "triu_indices": (pair_distances, MATRIX),
    "meshgrid": (grids, VECTOR), "polyval": (polynomials, VECTOR),
    "vander": (polynomials, VECTOR),
    "interp": (interpolated, VECTOR),
    "running max": (running_extremes, VECTOR),
    "running min": (running_extremes, VECTOR), "searchsorted": (interpolated, VECTOR),
    "matrix_power": (matrix_powers,
                                                    WELL_POSED),
}


def indexed(x):
    return x[PICKS] * x[::-1] + np.concatenate([x[:1], np.tanh(x[1:])])


def reduced(x):
    return np.cumsum(x ** 2) * np.max(x) + np.sort(x) * np.prod(np.cos(x))


def assembled(x):
    return np.ravel(np.outer(x[:2], np.sin(x)) + np.stack([x, x ** 2])[1:])


def linear_algebra(x):
    m = np.reshape(x, (2, 2)) + 3 * np.eye(2)
    return np.ravel(np.linalg.inv(m) + np.einsum('ij,kj->ik', m, m))


VECTOR_VALUED = {"getitem": indexed, "cumsum": reduced, "outer": assembled,
                 "inv": linear_algebra}


# -- pasting, as a user would -------------------------------------------------

_COUNT = itertools.count()


def pasted(text, directory):
    """The function printed in ``text``, pasted into a module file (after
    ``import numpy as np``, with the global arrays it reads) and imported:
    a function whose source autodiff_ast can read again."""
    path = directory / f"pasted_{next(_COUNT)}.py"
    path.write_text("import numpy as np\n\n\n" + text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(DATA)
    spec.loader.exec_module(module)
    return getattr(module, text.split("(")[0].split()[-1])


def jvp_chain(function):
    """The generated jvp of ``function``, whose source takes the primals
    and then the tangents."""
    return _api._cached(function, 0, False, "jvp")


def numeric_jacobian(f, x, h=1e-6):
    """d f / d x by central differences: the shape ``out.shape + x.shape``
    at each leaf of f's output."""
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        high = optree.tree_leaves(f(x + step))
        low = optree.tree_leaves(f(x - step))
        columns.append([(np.asarray(a) - np.asarray(b)) / (2 * h)
                        for a, b in zip(high, low)])
    base = optree.tree_leaves(f(x))
    return [np.stack([column[k] for column in columns], axis=-1).reshape(
        np.shape(value) + x.shape) for k, value in enumerate(base)]


def check_read_back(derivative, args, directory):
    """The printed source of ``derivative`` at ``args``, pasted, gives its
    values; its Jacobian (with respect to the first argument) agrees with
    central differences of the pasted function."""
    copy = pasted(ad.source(derivative, *args), directory)
    for mine, theirs in zip(optree.tree_leaves(copy(*args)),
                            optree.tree_leaves(derivative(*args))):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-13)
    again = ad.jacobian(copy)(*args)
    x, rest = args[0], args[1:]
    expected = numeric_jacobian(lambda y: copy(y, *rest), x)
    for mine, theirs in zip(optree.tree_leaves(again), expected):
        scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
        np.testing.assert_allclose(mine, theirs, rtol=1e-6,
                                   atol=1e-6 * scale)


@pytest.mark.parametrize("transform", ["grad", "hessian", "jvp"])
@pytest.mark.parametrize("row", sorted(SCALAR))
def test_printed_derivatives_of_scalar_functions_read_back(row, transform,
                                                           tmp_path):
    function, x = SCALAR[row]
    if transform == "jvp":
        check_read_back(jvp_chain(function), (x, np.ones_like(x)), tmp_path)
    else:
        check_read_back(getattr(ad, transform)(function), (x,), tmp_path)


@pytest.mark.parametrize("row", sorted(SCALAR))
def test_printed_float32_gradients_read_back(row, tmp_path):
    # float32 code spells its dtypes (np.eye(..., dtype=np.float32), a
    # count summed with dtype=np.float32), and those are read back too.
    function, x = SCALAR[row]
    small = x.astype(np.float32)
    gradient = ad.grad(function)
    copy = pasted(ad.source(gradient, small), tmp_path)
    np.testing.assert_allclose(copy(small), gradient(small), rtol=1e-6,
                               atol=1e-6)
    again = ad.jacobian(copy)(small)
    expected = ad.hessian(function)(x)
    assert again.dtype == np.float32
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(again, expected, rtol=2e-3,
                               atol=2e-3 * scale)


@pytest.mark.parametrize("transform", ["jacobian", "jvp"])
@pytest.mark.parametrize("row", sorted(VECTOR_VALUED))
def test_printed_derivatives_of_vector_functions_read_back(row, transform,
                                                           tmp_path):
    function, x = VECTOR_VALUED[row], VECTOR
    if transform == "jvp":
        check_read_back(jvp_chain(function), (x, np.ones_like(x)), tmp_path)
    else:
        check_read_back(ad.jacobian(function), (x,), tmp_path)


def test_every_row_with_a_spelling_is_read_back():
    from autodiff_ast._array_rules import ARRAY_OPS
    covered = set(SCALAR) | set(VECTOR_VALUED)
    # Rows that only gradients write (their code is read back through the
    # rows above) and the rows a function above reads under another name.
    written = {"elementwise", "shift", "piece", "put_along_axis",
               "slogdet sign", "argsort", "argmin", "ones", "full",
               "identity", "linspace", "ones_like", "full_like", "ravel",
               "flatten", "atleast_2d", "atleast_3d", "swapaxes", "fliplr",
               "flipud", "triu", "array", "hstack", "column_stack", "dstack",
               "array_split", "vsplit", "repeat", "cumprod", "min", "std",
               "builtin max", "builtin min", "softmax", "log_softmax",
               "kron", "inner", "item", "tril_indices", "triu_indices_from",
               "tril_indices_from", "diag_indices", "diag_indices_from",
               "inverse or its limit", "vector_norm",
               "matrix_norm", "linalg.outer"}
    assert {op.name for op in ARRAY_OPS} - written == covered - {
        "einsum spellings"}


# -- filling an array, as printed scatters do ---------------------------------

def filled_in_pieces(x):
    d = np.zeros_like(x)
    d[1:] = x[:-1] ** 2
    d[0] += 3 * x[0]
    np.add.at(d, PICKS, np.sin(x))
    return np.sum(d * x)


def filled_over_ones(x):
    d = np.ones_like(x)
    d[::2] = np.tanh(x[1::2])
    d[1] -= x[0]
    return np.sum(d ** 2)


def put_along_rows(x):
    order = np.argsort(x, axis=1)
    d = np.zeros_like(x)
    np.put_along_axis(d, order, np.cos(x) * np.arange(4.0), axis=1)
    return np.sum(d * x)


@pytest.mark.parametrize("function, x", [
    (filled_in_pieces, VECTOR), (filled_over_ones, VECTOR),
    (put_along_rows, MATRIX)], ids=["pieces", "over ones", "put along"])
def test_an_array_the_function_fills_is_differentiated(function, x):
    gradient = ad.grad(function)
    expected = numeric_jacobian(function, x)[0]
    np.testing.assert_allclose(gradient(x), expected, rtol=1e-7, atol=1e-8)
    (hessian,) = numeric_jacobian(gradient, x)
    np.testing.assert_allclose(ad.hessian(function)(x), hessian, rtol=1e-6,
                               atol=1e-7)


def filled_after_an_alias(x):
    d = np.zeros_like(x)
    e = d
    d[0] = x[0]
    return np.sum(e * x)


def filled_after_a_view(x):
    d = np.ones_like(x)
    head = d[:2]
    d[0] = x[0]
    return np.sum(head * x[:2])


def filled_twice_at_once(x):
    d = np.zeros_like(x)
    d[PICKS] += x
    return np.sum(d * x)


def put_where_indices_repeat(x):
    d = np.zeros_like(x)
    np.put_along_axis(d, np.zeros((4, 4), dtype=int), x, axis=1)
    return np.sum(d * x)


@pytest.mark.parametrize("function, line, message", [
    (filled_twice_at_once, 2,
     "this index can pick an element twice, and d[key] = v (or += v) then "
     "keeps one value of those: add them with np.add.at(d, key, v)"),
    (put_where_indices_repeat, 2,
     "np.put_along_axis keeps one value where its indices repeat: add them "
     "with np.add.at, or put the indices of np.argsort"),
], ids=["repeated index", "repeated put"])
def test_filling_what_would_change_a_value_read_is_refused(function, line,
                                                           message):
    x = MATRIX if function is put_where_indices_repeat else VECTOR
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(function)(x)
    assert info.value.msg == message
    assert info.value.filename == __file__
    assert info.value.lineno == function.__code__.co_firstlineno + line


def view_read_after_the_fill_overlaps(p):
    P = np.zeros((3, 2))
    P[0] = p
    w = P[0:2] * 0.5  # a value: the view is read here, before P[1] changes
    P[1] = np.tanh(p)
    return np.sum(w ** 2) + np.sum(P ** 3)


def rows_from_the_row_before(p):
    P = np.zeros((4, 2))
    P[0] = p
    total = 0.0
    for t in range(1, 4):
        before = P[t - 1] * 0.5
        P[t] = before + np.sin(p)
        total = total + np.sum(before ** 2)
    return total + np.sum(P ** 2)


def two_arrays_of_zeros_stepped_together(p):
    x = np.zeros(4)
    v = np.zeros(4)
    x[0], v[0] = p[0], p[1]
    for t in range(3):
        v[t + 1] = v[t] - 0.1 * x[t]
        x[t + 1] = x[t] + 0.1 * v[t + 1]
    return x[-1] * v[-1] + np.sum(x * v)


def a_copy_filled_from_itself(p):
    u = p * 1.0
    a = u[1:] * 2
    u[0] = u[1]
    u[1:] = a * u[0]
    return np.sum(u ** 2)


@pytest.mark.parametrize("function", [
    view_read_after_the_fill_overlaps, rows_from_the_row_before,
    two_arrays_of_zeros_stepped_together, a_copy_filled_from_itself])
def test_filling_after_a_view_was_read_into_a_value(function):
    # NumPy reads a view when the expression holding it is computed, so
    # filling the array afterwards changes nothing computed from it.
    p = np.array([0.3, -0.7, 1.1])[:2 if function is not
                                   a_copy_filled_from_itself else 3]
    value, gradient = ad.value_and_grad(function)(p)
    assert value == pytest.approx(function(p), rel=1e-14)
    np.testing.assert_allclose(gradient, numeric_gradient(function, (p,), 0),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        ad.hessian(function)(p),
        [numeric_gradient(lambda q: ad.grad(function)(q)[i], (p,), 0)
         for i in range(p.size)], rtol=1e-6, atol=1e-8)


def oscillator(y, k):
    return np.array([y[1], -k * y[0]])


def rk4_into_a_trajectory(y0, k):
    h = 0.1
    Y = np.zeros((6, 2))
    Y[0] = y0
    for i in range(5):
        y = Y[i]  # a view of row i; row i + 1 is filled, y not read again
        k1 = oscillator(y, k)
        k2 = oscillator(y + 0.5 * h * k1, k)
        k3 = oscillator(y + 0.5 * h * k2, k)
        k4 = oscillator(y + h * k3, k)
        Y[i + 1] = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(Y[:, 0] ** 2)


def euler_into_a_trajectory(y0, k, ts):
    Y = np.zeros((ts.shape[0], 2))
    Y[0] = y0
    for i in range(ts.shape[0] - 1):
        y = Y[i]
        Y[i + 1] = y + (ts[i + 1] - ts[i]) * oscillator(y, k)
    return np.sum(Y ** 2)


@pytest.mark.parametrize("function, args", [
    (rk4_into_a_trajectory, (np.array([1.0, 0.0]), 2.0)),
    (euler_into_a_trajectory, (np.array([1.0, 0.0]), 2.0,
                               np.linspace(0.0, 1.0, 8)))],
    ids=["rk4 unrolled", "euler kept"])
def test_a_row_read_into_a_name_then_the_next_row_filled(function, args):
    for argnum in (0, 1):
        np.testing.assert_allclose(
            ad.grad(function, argnum)(*args),
            numeric_gradient(function, args, argnum), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        ad.hessian(function)(*args),
        [numeric_gradient(lambda y: ad.grad(function)(y, *args[1:])[i],
                          (args[0],), 0) for i in range(2)], rtol=1e-6)


def filled_on_both_paths(x):
    Y = np.zeros((3, 2))
    Y[0] = x[:2]
    if np.sum(x) > 0:
        Y[1] = 2 * x[:2]
    else:
        Y[1] = 3 * x[:2]
    return np.sum(Y ** 2)


def filled_on_one_path(x):
    Y = np.zeros((3, 2))
    Y[0] = x[:2]
    if np.sum(x) > 0:
        Y[1] = 2 * x[:2]
    Y[2] = Y[1] + x[:2]
    return np.sum(Y ** 2)


def test_an_array_filled_on_one_path_of_an_if_and_on_both():
    for x in (VECTOR, -VECTOR):
        np.testing.assert_allclose(
            ad.grad(filled_on_one_path)(x),
            numeric_gradient(filled_on_one_path, (x,), 0), rtol=1e-7,
            atol=1e-9)
    # (both fills started from one value; the code writer fills one array
    # in place, so the second path would have added to the first's)
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(filled_on_both_paths)(VECTOR)
    assert info.value.msg == (
        "Y was filled from the same value on another path: fill it once, "
        "after the if, with the value each path computes (Y[i] = a if c "
        "else b)")
    assert info.value.lineno == filled_on_both_paths.__code__.co_firstlineno + 6


def filled_while_a_transpose_is_held(x):
    d = np.zeros((2, 2))
    d[0] = x[:2]
    dt = d.T
    d[1] = x[2:]
    return np.sum(dt * x.reshape(2, 2))


def filled_while_a_view_of_a_view_is_held(x):
    d = np.zeros_like(x)
    last = d[1:][1:]
    d[3] = x[0]
    return np.sum(last * x[2:])


def filled_while_a_list_holds_a_view(x):
    d = np.zeros_like(x)
    rows = [d[1:]]
    d[3] = x[0]
    return np.sum(rows[0] * x[1:])


def test_reading_another_name_for_an_array_filled_since_reads_the_fill():
    # e = d is one array: the fill of d is seen through e, as in NumPy
    np.testing.assert_allclose(
        ad.grad(filled_after_an_alias)(VECTOR),
        numeric_gradient(filled_after_an_alias, (VECTOR,), 0), rtol=1e-7,
        atol=1e-9)


@pytest.mark.parametrize("function, held, fill, read", [
    (filled_after_a_view, "head", 3, 4),
    (filled_while_a_transpose_is_held, "dt", 4, 5),
    (filled_while_a_view_of_a_view_is_held, "last", 3, 4)],
    ids=["view", "transpose", "view of a view"])
def test_reading_a_name_for_an_array_filled_since_is_refused(function, held,
                                                             fill, read):
    # NumPy would read the filled values through it; refused where it is
    # read (a row read into a name, and the next row filled, is fine)
    first = function.__code__.co_firstlineno
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(function)(VECTOR)
    assert info.value.msg == (
        f"{held} holds d or a view of it, and d was filled since (line "
        f"{first + fill}), which changes {held} too: to read the filled "
        f"values, take {held} from d again after the fill; to read the "
        f"values from before it, make {held} a copy (.copy() where it is "
        "bound)")
    assert info.value.lineno == first + read


def test_filling_while_a_list_holds_a_view_is_refused_at_the_fill():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(filled_while_a_list_holds_a_view)(VECTOR)
    assert info.value.msg == (
        "d is read before it is filled, and filling it would change what "
        "was read (a name for it, or a view of it): fill it first, then "
        "read it")
    assert info.value.lineno == \
        filled_while_a_list_holds_a_view.__code__.co_firstlineno + 3


# -- the shape check of code that holds a size --------------------------------

def test_a_pasted_shape_check_is_checked_where_it_is_read_again(tmp_path):
    text = ad.source(ad.grad(broadcast), VECTOR)
    assert ("    if A.shape != (3, 4) or x.shape != (4,):\n"
            "        raise ValueError(") in text
    copy = pasted(text, tmp_path)
    raise_line = text.splitlines().index("        raise ValueError(") + 4
    np.testing.assert_allclose(ad.jacobian(copy)(VECTOR),
                               numeric_jacobian(copy, VECTOR)[0], rtol=1e-6,
                               atol=1e-8)
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.jacobian(copy)(np.ones(5))
    assert info.value.msg == (
        "x.shape is not (4,), which the function refuses: grad_broadcast "
        "was generated for A of shape (3, 4) and x of shape (4,), and is "
        "correct only at these sizes (broadcast_to's sizes are written for "
        "them). For other sizes, generate it again: ad.source("
        "grad_broadcast, *args) prints it for args of those sizes.")
    assert info.value.lineno == raise_line


# -- docstrings say what the code serves --------------------------------------

def product_with_data(X, w):
    return np.sum(np.tanh(X @ w + w[0]) ** 2)


def test_docstrings_name_sizes_read_at_run_time_and_give_checked_shapes():
    X = rng.normal(size=(5, 3))
    text = ad.source(ad.grad(product_with_data, (0, 1)), X, VECTOR[:3])
    assert ("    Generated by autodiff_ast for X: float64[N, M], w: "
            "float64[M].\n") in text
    column = ad.source(ad.hessian(product_with_data), X[:, :1], VECTOR[:1])
    assert ("    Generated by autodiff_ast for X: float64[N, 1], w: "
            "float64[1].\n") in column
    assert ("    Generated by autodiff_ast for x: float64[4].\n"
            in ad.source(ad.grad(broadcast), VECTOR))
    # float32 arguments and a pytree keep their dtype and structure.
    params = {"X": X.astype(np.float32), "w": VECTOR[:3].astype(np.float32)}
    text = ad.source(ad.grad(lambda p: product_with_data(p["X"], p["w"])),
                     params)
    assert ("Generated by autodiff_ast for p: {X: float32[N, M], w: "
            "float32[M]}.") in text


def shifted_rows(X, b):
    return np.sum(np.tanh(X + b) ** 2)


def test_code_read_at_any_size_is_not_reused_where_an_axis_was_one():
    # Generated where b has 3 elements, the gradient sums over X's rows;
    # where b has 1, it must also sum over the columns it broadcasts on.
    gradient = ad.grad(shifted_rows, argnums=(0, 1))
    first = rng.normal(size=(5, 3))
    gradient(first, VECTOR[:3])
    X = rng.normal(size=(7, 4))
    for b in (VECTOR, VECTOR[:1]):
        by_X, by_b = gradient(X, b)
        assert by_b.shape == b.shape
        np.testing.assert_allclose(
            by_b, numeric_jacobian(lambda c: shifted_rows(X, c), b)[0],
            rtol=1e-7, atol=1e-9)
    assert "b: float64[1]" in ad.source(gradient, X, VECTOR[:1])
