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
from autodiff_ast import _forward
from autodiff_ast._array_rules import ARRAY_OPS
from autodiff_ast._ops_core import TRANSPOSE

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


# -- the rows, each in an array-valued function --------------------------------

def cumprod_vector(x):
    return np.cumprod(x) * x


def cumprod_rows(x):
    return np.cumprod(x, axis=1)


def cumprod_flat(x):
    return x.cumprod() ** 2


def roll_vector(x):
    return np.roll(x, 2) * x


def roll_rows(x):
    return np.roll(x, -1, axis=1) * x


def roll_flat(x):
    return np.roll(x, 3) * x


def roll_both(x):
    return np.roll(x, (1, 2), axis=(0, 1))


def diagonal_main(x):
    return np.diagonal(x) * x[0, :3]


def diagonal_offsets(x):
    return np.diagonal(x, 1) * np.diagonal(x, -1)[:2]


def diagonal_outer_axes(x):
    return np.diagonal(x, 0, 0, 2)


def diagonal_method(x):
    return x.diagonal(1, 2, 1) ** 2


def diag_matrix(x):
    return np.diag(x) * x


def diag_above(x):
    return np.diag(x, 2)


def diag_below(x):
    return np.diag(x, -1) @ np.diag(x, -1)


def diag_of_matrix(x):
    return np.diag(x) ** 2


def tril_product(x):
    return np.tril(x) * x


def triangles(x):
    return np.triu(x, 1) + np.tril(x, -1) ** 2


def tril_stack(x):
    return np.tril(x, -1) * x


def moved_axes(x):
    return np.moveaxis(x, 0, -1) * np.swapaxes(x, 1, 2)


def squeezed(x):
    return np.squeeze(x[:, None], axis=1) * np.ravel(x)[:3] + x.flatten()[
        -1]


def at_least(x):
    return np.atleast_2d(x[0]) * np.atleast_3d(x)[..., 0]


def flipped(x):
    return np.flip(x) * np.fliplr(x) + np.flipud(x) ** 2


def filled(x):
    return (np.full(x.shape, x[0]) * x + np.full((2, 3), np.sum(x))[0]
            + np.full_like(x, np.sum(x ** 2)))


def spaced(x):
    return np.linspace(x[0], x[1], 3) * x


def created(x):
    return (np.zeros_like(x) + np.zeros(x.shape) + np.ones_like(x) * x
            + np.ones(3) * x + np.array([1.0, 2.0, 3.0]) * x)


def counted(x):
    return np.arange(3) * x + np.arange(len(x)) * x ** 2 + np.eye(3) @ x \
        + np.identity(3) @ x ** 2 + np.eye(3, 3, 1) @ x


def cast_to_float(x):
    return x.astype(np.float64) * x + x.astype(float)


def cast_to_int(x):
    # Piecewise constant: no derivative through the casts.
    return x.astype(int) * x + x.astype(np.int32) + x.astype(bool) * x ** 2


def items(x):
    return x.item(1) * x + x[:1].item()


def clipped(x):
    return x.clip(-0.5, 0.5) * x + x.clip(max=0.1)


def integer_fills(x):
    # Arrays of ints and bools hold their fill value rounded: constants
    # (here 0, True and 2), whatever the value's own derivative.
    return (np.full(3, x[0], dtype=int) * x
            + np.full_like(x, x[1], dtype=bool) * x ** 2
            + np.full_like(x.astype(int), x[2]) * x)


def casts_and_fills(x):
    # The same rows over a 2-D argument: a batch of two axes.
    return (x.astype(float) * x.astype(int) + x.item(1, 2) * x.clip(-0.5, 0.5)
            + np.full_like(x, x.item(0)) * np.eye(2, 3)
            + np.linspace(x[0, 0], x[1, 1], 3) * np.ones(x.shape))


def _normal(*shape):
    return rng.normal(size=shape)


# Away from integers and the clip's bounds, where the casts and clip are
# piecewise constant or linear (central differences would straddle them).
VECTOR = np.array([0.3, -1.2, 2.7])
MATRIX = np.array([[0.3, -1.2, 2.7], [1.4, -0.2, 0.9]])

CASES = [
    (cumprod_vector, _normal(5)), (cumprod_rows, _normal(3, 4)),
    (cumprod_flat, _normal(2, 3)),
    (roll_vector, _normal(5)), (roll_rows, _normal(3, 4)),
    (roll_flat, _normal(3, 2)), (roll_both, _normal(3, 4)),
    (diagonal_main, _normal(3, 4)), (diagonal_offsets, _normal(3, 3)),
    (diagonal_outer_axes, _normal(3, 2, 4)),
    (diagonal_method, _normal(2, 3, 4)),
    (diag_matrix, _normal(3)), (diag_above, _normal(3)),
    (diag_below, _normal(3)), (diag_of_matrix, _normal(3, 4)),
    (tril_product, _normal(3, 4)), (triangles, _normal(4, 3)),
    (tril_stack, _normal(2, 3, 3)),
    (moved_axes, _normal(2, 2, 3)), (squeezed, _normal(3)),
    (at_least, _normal(2, 3)), (flipped, _normal(3, 4)),
    (filled, VECTOR), (spaced, VECTOR), (created, VECTOR),
    (counted, VECTOR), (cast_to_float, VECTOR), (cast_to_int, VECTOR),
    (items, VECTOR), (clipped, VECTOR), (casts_and_fills, MATRIX),
    (integer_fills, VECTOR),
]
IDS = [function.__name__ for function, _ in CASES]


def summed_integer_fills(x):
    return np.sum(integer_fills(x))


def test_an_integer_or_bool_fill_is_a_constant():
    # x ** 2 + 2 x: no derivative through x[0], x[1], x[2] as fill values.
    np.testing.assert_array_equal(ad.jacobian(integer_fills)(VECTOR),
                                  np.diag(2 * VECTOR + 2))
    np.testing.assert_array_equal(ad.grad(summed_integer_fills)(VECTOR),
                                  2 * VECTOR + 2)


# -- np.cumprod at zeros -------------------------------------------------------

def cumulative_product(x):
    return np.cumprod(x)


def running_product(x):
    return np.sum(np.cumprod(x) * x ** 2)


ZEROS = [[1.3, 0.0, 2.0, -0.7, 1.2], [0.0, 1.5, 2.0, -0.7, 1.2],
         [1.3, 0.0, 2.0, 0.0, 1.2], [0.0, 0.0, 2.0, 0.0, 1.2],
         [1.3, 0.5, 2.0, -0.7, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]


@pytest.mark.parametrize("x", ZEROS)
def test_a_cumulative_products_tangent_is_exact_at_zeros(x):
    # y * cumsum(dx / x) alone would divide by zero here.
    x = np.array(x)
    np.testing.assert_allclose(ad.jacobian(cumulative_product)(x),
                               numeric_jacobian(cumulative_product, x),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("x", ZEROS)
def test_a_cumulative_products_hessian_is_exact_at_zeros(x):
    # The gradient's form at a zero (and at a second one) must stay exact
    # as x moves off it, or the Hessian there misses the terms that pair
    # that zero with another factor.
    x = np.array(x)
    np.testing.assert_allclose(
        ad.hessian(running_product)(x),
        numeric_jacobian(ad.grad(running_product), x), rtol=1e-8, atol=1e-8)


# -- the code tangents are written as ------------------------------------------

def triangle(x):
    return np.tril(x, 1)


def upper_diagonal(x):
    return np.diagonal(x, 1)


def shifted(x):
    return np.roll(x, 1)


def above(x):
    return np.diag(x, 2)


def _tangent_line(function, x):
    """What the jvp program of ``function`` computes its tangent as (the
    right-hand side of its last assignment)."""
    return _jvp_body(function, x)[-2].split(" = ", 1)[1]


def test_a_linear_rows_tangent_is_the_row_of_the_tangent():
    matrix = _normal(3, 3)
    assert _tangent_line(triangle, matrix) == "np.tril(x_dot, 1)"
    # (np.diagonal's view of the caller's tangent is given as a copy)
    assert _tangent_line(upper_diagonal, matrix) == \
        "np.copy(np.diagonal(x_dot, 1))"
    assert _tangent_line(above, _normal(3)) == "np.diag(x_dot, 2)"


def test_jacobians_of_the_linear_rows_read_as_written_by_hand():
    # With a batch of tangents the rows that look at the last axes (tril,
    # diag) are a mask and an einsum of np.eye; roll along axis 0.
    assert _body(ad.jacobian(shifted), _normal(4)) == [
        "return np.roll(np.eye(x.size), 1, axis=0)"]
    assert _body(ad.jacobian(triangle), _normal(3, 4)) == [
        "n = x.shape[0]", "n1 = x.shape[1]",
        "return (np.reshape(np.eye(x.size), (n, n1, n, n1))",
        "* np.tril(np.ones(x.shape, dtype=bool), 1)[..., None, None])"]
    assert _body(ad.jacobian(above), _normal(3)) == [
        "n = x.shape[0]",
        "return np.einsum('il,jl->ijl', np.eye(n + 2, n), "
        "np.eye(n + 2, n, k=-2))"]


def test_jacobians_of_the_linear_rows_run_at_any_size():
    for function, shapes in [(shifted, [(4,), (6,)]),
                             (triangle, [(3, 4), (5, 2)]),
                             (above, [(3,), (5,)]),
                             (upper_diagonal, [(3, 4), (4, 6)]),
                             (diag_matrix, [(3,), (5,)]),
                             (tril_stack, [(2, 3, 3), (3, 4, 2)]),
                             (cumprod_rows, [(3, 4), (2, 5)])]:
        _check_printed_at_another_size(function, *shapes)


def _check_printed_at_another_size(function, made_at, called_at):
    """The printed Jacobian of ``function``, generated for an input of
    shape ``made_at``, is right at ``called_at``: it reads its sizes when
    it runs (no shape check)."""
    text = ad.source(ad.jacobian(function), _normal(*made_at))
    assert "raise ValueError" not in text, text
    namespace = {"np": np}
    exec(text, namespace)
    generated = namespace[f"jacobian_{function.__name__}"]
    x = _normal(*called_at)
    np.testing.assert_allclose(generated(x), numeric_jacobian(function, x),
                               rtol=1e-6, atol=1e-8)


def test_float32_stays_float32_through_the_masks():
    x = _normal(3, 3).astype(np.float32)
    for function, arg in [(triangle, x), (above, x[0]),
                          (upper_diagonal, x), (cumprod_rows, x)]:
        assert ad.jacobian(function)(arg).dtype == np.float32


# -- the table: a forward rule for every row -----------------------------------

def _without_forward_rule():
    """The rows a program can hold (they have a gradient rule or a
    spelling), are not constants, and have no forward rule."""
    return [op.name for op in ARRAY_OPS
            if (op.vjp is not None or op.spell is not None)
            and not op.stops_gradient
            and op.jvp is None and op not in _forward._RULES]


def test_every_row_has_a_forward_rule():
    missing = _without_forward_rule()
    assert not missing, (
        f"rows without a forward rule (jvp): {', '.join(missing)}. Give each "
        "a jvp= in its row (see _forward.py), or stops_gradient=True if "
        "its result is a constant.")


def transposed_product(x):
    return np.sin(x).T * x[:, 0]


def test_a_step_without_a_forward_rule_is_refused_by_name(monkeypatch):
    monkeypatch.delitem(_forward._RULES, TRANSPOSE)
    with pytest.raises(ad.AutodiffError) as caught:
        ad.jacobian(transposed_product)(_normal(2, 3))
    line = transposed_product.__code__.co_firstlineno
    assert str(caught.value) == (
        "cannot differentiate transposed_product (tests/test_forward_rows"
        f".py:{line}) in forward mode (jvp, jacfwd, hessian): no forward "
        "rule for np.transpose yet. Its gradient (ad.grad) works; please "
        "report the function.")


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


# Every row's cases: shape, scan, creation and cast rows, then reductions
# and assemblies.
ALL_CASES, ALL_IDS = CASES + ASSEMBLY_CASES, IDS + ASSEMBLY_IDS


@pytest.mark.parametrize("function, x", ALL_CASES, ids=ALL_IDS)
def test_jacobian_matches_central_differences(function, x):
    jacobian = ad.jacobian(function)(x)
    expected = numeric_jacobian(function, x)
    assert np.shape(jacobian) == expected.shape
    np.testing.assert_allclose(jacobian, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function, x", ALL_CASES, ids=ALL_IDS)
def test_jvp_matches_central_differences(function, x):
    tangent_in = _normal(*np.shape(x))
    value, tangent = ad.jvp(function, (x,), (tangent_in,))
    np.testing.assert_allclose(value, function(x), rtol=1e-12)
    step = 1e-6
    expected = (function(x + step * tangent_in)
                - function(x - step * tangent_in)) / (2 * step)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("function, x", ALL_CASES, ids=ALL_IDS)
def test_hessian_matches_central_differences_of_the_gradient(function, x):
    def total(x):
        return np.sum(np.sin(function(x)))

    hessian = ad.hessian(total)(x)
    expected = numeric_jacobian(ad.grad(total), x)
    assert np.shape(hessian) == expected.shape
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-7)


def spread(x):
    return np.var(x, axis=0)


def _tangent_text(function, x):
    """The expression the jvp program of ``function`` returns as the
    tangent, its lines joined."""
    body = _jvp_body(function, x)
    name = body[-1].rsplit(", ", 1)[1]
    start = next(i for i, line in enumerate(body)
                 if line.startswith(f"{name} = "))
    return " ".join(body[start:-1])[len(f"{name} = "):]


def test_tangents_of_reductions_read_as_written_by_hand():
    assert _tangent_text(spread, _normal(4, 3)) == (
        "(np.sum((x - np.mean(x, axis=0, keepdims=True)) * x_dot, "
        "axis=0) * (2 / n))")
    assert _tangent_text(prod_rows, _normal(3, 4)) == (
        "np.sum((np.pad(np.cumprod(x[:, :0:-1], axis=1)[:, ::-1], "
        "((0, 0), (0, 1)), constant_values=1) "
        "* np.pad(np.cumprod(x[:, :-1], axis=1), "
        "((0, 0), (1, 0)), constant_values=1) * x_dot), axis=1)")
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
        _check_printed_at_another_size(function, *shapes)


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


def _float32_case(case):
    function, x = case.values if hasattr(case, "values") else case
    marks = list(getattr(case, "marks", ()))
    return pytest.param(function, x.astype(np.float32), marks=marks)


@pytest.mark.parametrize("function, x",
                         [_float32_case(case) for case in ASSEMBLY_CASES],
                         ids=ASSEMBLY_IDS)
def test_tangents_keep_the_dtype_of_reductions_and_assemblies(function, x):
    # float32 in, float32 out, unless the function itself promotes (its
    # float64 weights).
    value, tangent = ad.jvp(function, (x,), (np.ones_like(x),))
    assert np.asarray(value).dtype == np.asarray(function(x)).dtype
    assert tangent.dtype == np.asarray(value).dtype
