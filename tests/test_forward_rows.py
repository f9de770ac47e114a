"""Forward-mode rules (jvp) row by row: the shape, scan, creation, cast,
reduction and assembly rows of the array table through ad.jacobian, ad.jvp
and ad.hessian against central differences (a 2-D argument gives a batch of
tangents of two axes), the code their tangents are written as, and the
table's check that every row a program can hold has a forward rule.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

import autodiff_ast as ad

rng = np.random.default_rng(11)


def numeric_jacobian(f, x, h=1e-6):
    """d f / d x, of shape f(x).shape + x.shape, by central differences."""
    x = np.asarray(x, dtype=float)
    columns = []
    for position in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[position] = h
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step)))
                       / (2 * h))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def _body(derivative, *args):
    """The generated function's lines after its docstring, stripped."""
    source = ad.source(derivative, *args)
    first = ast.parse(source).body[0].body[1]
    return [line.strip() for line in source.splitlines()[first.lineno - 1:]]


def _jvp_body(function, x):
    """The lines of the jvp program of ``function`` (tangent ``x_dot``)."""
    return _body(ad._api._cached(function, (0,), False, "jvp"), x, x)


def _normal(*shape):
    return rng.normal(size=shape)


# -- reductions and assemblies (_ops_reduce, _ops_assemble) ------------------

def prod_vector(x):
    return np.prod(x) * x


def prod_rows(x):
    return np.prod(x, axis=1)


def prod_kept(x):
    return np.prod(x, axis=0, keepdims=True) * x + x.prod()


def prod_of_one_row(x):
    return np.prod(x[:1], axis=0) * x[1]


def spreads(x):
    return np.var(x, axis=0) + np.std(x, axis=0, ddof=1) * x[0]


def spreads_whole(x):
    return np.var(x) * x + np.std(x) ** 3 + x.std(ddof=2) * x[0]


def spread_kept(x):
    return np.std(x, axis=1, keepdims=True) * x + np.var(x, axis=(0, 1))


def averaged(x):
    return np.average(x, axis=0) * x[0] + np.average(
        x, axis=1, weights=np.array([1.0, 2.0, 0.5, 3.0]))[:, None] * x


def extremes_and_builtins(x):
    return (np.max(x, axis=1) * np.min(x) + max([x[0, 0], x[1, 1], x[2, 2]])
            + min(x[0]) * sum(x[1]) + sum([x[0, 1], x[2, 3]]))


def log_sum_exp_written(x):
    return np.log(np.sum(np.exp(x), axis=0)) * x[1]


try:
    from scipy import special
except ImportError:  # optional: its case skips
    special = None


def scipy_rows(x):
    return (special.softmax(x, axis=1) * special.log_softmax(x, axis=0)
            + special.logsumexp(x, axis=1, keepdims=True) * x
            + special.logsumexp(x, b=np.array([1.0, 0.5, 2.0, 1.5])))


def tiled(x):
    return np.tile(x, 2) * np.tile(x, (3, 2))[1]


def tiled_matrix(x):
    return (np.tile(x, (2, 1)) * np.tile(x, (2, 2, 1))[1]
            + np.tile(x, 2)[0, 2:5])


def repeated(x):
    return np.repeat(x, 2) * np.repeat(x[::-1], 2)


def repeated_matrix(x):
    return np.repeat(x, 3, axis=1) ** 2 + np.repeat(x, 2)[None, :9]


def padded(x):
    return np.pad(x, 1) * np.pad(x, (2, 0), constant_values=0.5)


def padded_matrix(x):
    return np.pad(x, ((1, 0), (0, 2)), constant_values=1.5) ** 2


def split_up(x):
    first, second = np.split(x, 2)
    left, middle, right = np.split(x, [1, -1])
    _, head, rest = np.split(x, [0, -1])  # an empty piece first
    return first * second + np.sum(middle) * (left + right) + np.sum(
        head) * rest


def split_matrix(x):
    top, bottom = np.vsplit(x, 2)
    a, b = np.hsplit(x, [2])
    pieces = np.array_split(x, 3, axis=1)
    return (top * bottom + np.sum(a * b, axis=1)) * np.sum(
        pieces[2] ** 2 + pieces[0][:, :1])


def joined(x):
    return np.concatenate([x, np.sin(x[:2]), np.tile(x, 2)]) ** 2 * np.sum(
        np.stack([x, x ** 2]), axis=0)[0]


def joined_matrix(x):
    return np.hstack([x, np.cos(x[:, :1])]) * np.vstack([x, x[:1]])[1:, :1]


ASSEMBLY_CASES = [
    (prod_vector, _normal(4)), (prod_rows, _normal(3, 4)),
    (prod_kept, _normal(3, 2)), (prod_of_one_row, _normal(2, 3)),
    (spreads, _normal(4, 3)), (spreads_whole, _normal(5)),
    (spread_kept, _normal(2, 3)), (averaged, _normal(3, 4)),
    (extremes_and_builtins, _normal(3, 4)),
    (log_sum_exp_written, _normal(3, 2)),
    pytest.param(scipy_rows, _normal(3, 4), marks=pytest.mark.skipif(
        special is None, reason="SciPy is not installed")),
    (tiled, _normal(3)), (tiled_matrix, _normal(2, 3)),
    (repeated, _normal(3)), (repeated_matrix, _normal(2, 3)),
    (padded, _normal(3)), (padded_matrix, _normal(2, 3)),
    (split_up, _normal(4)), (split_matrix, _normal(4, 4)),
    (joined, _normal(3)), (joined_matrix, _normal(3, 2)),
]
ASSEMBLY_IDS = [(case.values if hasattr(case, "values") else case)[
    0].__name__ for case in ASSEMBLY_CASES]


@pytest.mark.parametrize("function, x", ASSEMBLY_CASES, ids=ASSEMBLY_IDS)
def test_jacobians_of_reductions_and_assemblies(function, x):
    jacobian = ad.jacobian(function)(x)
    expected = numeric_jacobian(function, x)
    assert np.shape(jacobian) == expected.shape
    np.testing.assert_allclose(jacobian, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function, x", ASSEMBLY_CASES, ids=ASSEMBLY_IDS)
def test_jvps_of_reductions_and_assemblies(function, x):
    tangent_in = _normal(*np.shape(x))
    value, tangent = ad.jvp(function, (x,), (tangent_in,))
    np.testing.assert_allclose(value, function(x), rtol=1e-12)
    step = 1e-6
    expected = (function(x + step * tangent_in)
                - function(x - step * tangent_in)) / (2 * step)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function, x", ASSEMBLY_CASES, ids=ASSEMBLY_IDS)
def test_hessians_of_reductions_and_assemblies(function, x):
    def total(x):
        return np.sum(np.sin(function(x)))

    hessian = ad.hessian(total)(x)
    expected = numeric_jacobian(ad.grad(total), x)
    assert np.shape(hessian) == expected.shape
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-7)


def spread(x):
    return np.var(x, axis=0)


def test_tangents_of_reductions_read_as_written_by_hand():
    assert _jvp_body(spread, _normal(4, 3))[-3:] == [
        "tangent_1 = (2 * np.sum((x - np.mean(x, axis=(0,), keepdims=True))"
        " * x_dot,",
        "axis=(0,)) / n)", "return tangent_0, tangent_1"]
    assert _jvp_body(prod_rows, _normal(3, 4))[1:] == [
        "tangent_1 = np.sum((np.pad(np.cumprod(x[:, :0:-1], axis=1)[:, ::-1],",
        "((0, 0), (0, 1)), constant_values=1)",
        "* np.pad(np.cumprod(x[:, :-1], axis=1),",
        "((0, 0), (1, 0)), constant_values=1) * x_dot),",
        "axis=(1,))", "return tangent_0, tangent_1"]
    assert _body(ad.jacobian(padded_matrix), _normal(2, 3)) == [
        "return ((2 * np.pad(x, ((1, 0), (0, 2)),",
        "constant_values=1.5))[..., None, None]",
        "* np.pad(np.reshape(np.eye(x.size),",
        "(x.shape[0], x.shape[1], x.shape[0],", "x.shape[1])),",
        "((1, 0), (0, 2), (0, 0), (0, 0))))"]


def test_jacobians_of_reductions_and_assemblies_run_at_any_size():
    for function, shapes in [(prod_rows, [(3, 4), (5, 2)]),
                             (spreads, [(4, 3), (6, 2)]),
                             (spreads_whole, [(5,), (8,)]),
                             (tiled_matrix, [(2, 3), (4, 3)]),
                             (repeated, [(3,), (5,)]),
                             (padded_matrix, [(2, 3), (3, 1)]),
                             (split_up, [(4,), (8,)]),
                             (joined, [(3,), (5,)])]:
        text = ad.source(ad.jacobian(function), _normal(*shapes[0]))
        assert "raise ValueError" not in text, text
        namespace = {"np": np}
        exec(text, namespace)
        generated = namespace[f"jacobian_{function.__name__}"]
        x = _normal(*shapes[1])
        np.testing.assert_allclose(generated(x), numeric_jacobian(
            function, x), rtol=1e-6, atol=1e-8)


def test_vjp_of_a_gradient_through_the_pieces_of_a_concatenation():
    # grad(total) cuts its adjoint into pieces at sizes read at run time;
    # the pullback of those pieces pads them back with zeros.
    def total(x):
        return np.sum(np.sin(joined(x)))

    x, cotangent = _normal(3), _normal(3)
    value, pullback = ad.vjp(ad.grad(total), x)
    np.testing.assert_allclose(value, ad.grad(total)(x), rtol=1e-12)
    (pulled,) = pullback(cotangent)
    np.testing.assert_allclose(pulled, cotangent @ numeric_jacobian(
        ad.grad(total), x), rtol=1e-6, atol=1e-8)
