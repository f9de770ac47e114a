"""ad.jacobian (jacrev) of array code in reverse mode: values against
central differences and against ad.jacfwd (forward mode) in JAX's layout
(out.shape + in.shape, pytrees of pytrees, argnums tuples, has_aux),
float32 kept, the generated source where it is the product, and the cost:
a Jacobian of a few outputs of a long vector builds no n x n array."""

from __future__ import annotations

import tracemalloc

import numpy as np
import optree
import pytest

import autodiff_ast as ad
from test_array_jacobians import numeric_jacobian

rng = np.random.default_rng(11)
VECTOR = rng.normal(size=5)
MATRIX = rng.normal(size=(3, 5))
SQUARE = rng.normal(size=(4, 3))


def body(function, *args):
    """The generated function's statements after its docstring."""
    text = ad.source(function, *args)
    return [line[4:] for line in text.split('"""')[2].strip("\n")
            .splitlines()]


# -- functions of one array ---------------------------------------------------

def three_reductions(x):
    return np.stack([np.sum(x), np.sum(x ** 2), np.max(np.sin(x))])


def two_numbers(x):
    return np.sum(x * x), np.mean(np.sin(x))


def elementwise(x):
    return np.exp(x) * x


def column_sums(X):
    return np.sum(X ** 2, axis=0)


def row_sums_kept(X):
    return np.sum(np.tanh(X), axis=1, keepdims=True) * 2.0


def transposed_flat(X):
    return (X.T * np.cos(X.T)).reshape(-1)


def outer(x):
    return np.sin(x)[:, None] * x[None, :]


def vector_matrix(x):
    return np.sin(x) @ MATRIX.T


def squared_map(X):
    return np.expand_dims(np.sum(X @ X.T, axis=1), 0) ** 2


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def row_extremes(X):
    return np.max(np.sin(X), axis=1) * np.min(X ** 2)


def head(x):
    return x[:3] * np.sum(x ** 2)


def joined(x):
    return np.concatenate([np.sin(x[:2]), x[1:3] * np.sum(x ** 2)])


def side_by_side(X):
    return np.hstack([X[:, :1] * 2.0, np.tanh(X[:, 1:2])])


def neighbours(x):
    return x[1:] * x[:-1]


def running(x):
    return np.cumsum(x) ** 2


ONE_ARRAY = [
    (three_reductions, VECTOR), (two_numbers, VECTOR), (elementwise, VECTOR),
    (column_sums, SQUARE), (row_sums_kept, SQUARE),
    (transposed_flat, SQUARE), (outer, VECTOR), (vector_matrix, VECTOR),
    (squared_map, SQUARE), (softmax, VECTOR), (row_extremes, SQUARE),
    (head, VECTOR), (joined, VECTOR), (side_by_side, SQUARE),
    (neighbours, VECTOR), (running, VECTOR),
]


@pytest.mark.parametrize("function, x", ONE_ARRAY,
                         ids=[f.__name__ for f, _ in ONE_ARRAY])
def test_jacobian_matches_central_differences_and_jacfwd(function, x):
    jacobian = ad.jacobian(function)(x)
    forward = ad.jacfwd(function)(x)
    for got, by_forward, column in zip(
            optree.tree_leaves(jacobian), optree.tree_leaves(forward),
            optree.tree_leaves(numeric_jacobian(
                lambda v: optree.tree_map(np.asarray, function(v)), x)
                if not isinstance(function(x), tuple) else
                tuple(numeric_jacobian(lambda v, k=k: function(v)[k], x)
                      for k in range(len(function(x)))))):
        assert np.shape(got) == np.shape(column)
        np.testing.assert_allclose(got, column, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got, by_forward, rtol=1e-12, atol=1e-14)
    assert optree.tree_structure(jacobian) == optree.tree_structure(forward)


# -- several arguments, pytrees, aux ------------------------------------------

def layer(W, x):
    return np.tanh(W @ x)


def model(p, x):
    hidden = np.tanh(p["W"] @ x + p["b"])
    return {"out": hidden * p["scale"], "energy": np.sum(hidden ** 2)}


def with_aux(x):
    values = np.stack([np.sum(x ** 3), np.sum(np.cos(x))])
    return values, {"norm": np.sqrt(np.sum(x * x))}


def test_argnums_tuple_gives_a_block_per_argument():
    by_w, by_x = ad.jacobian(layer, argnums=(0, 1))(MATRIX, VECTOR)
    np.testing.assert_allclose(by_w, numeric_jacobian(
        lambda w: layer(w, VECTOR), MATRIX), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(by_x, numeric_jacobian(
        lambda v: layer(MATRIX, v), VECTOR), rtol=1e-6, atol=1e-8)
    forward = ad.jacfwd(layer, argnums=(0, 1))(MATRIX, VECTOR)
    np.testing.assert_allclose(by_w, forward[0], rtol=1e-12)
    np.testing.assert_allclose(by_x, forward[1], rtol=1e-12)
    (alone,) = ad.jacobian(layer, argnums=(1,))(MATRIX, VECTOR)
    np.testing.assert_allclose(alone, by_x, rtol=1e-12)


def test_a_dict_to_dict_function_gives_a_dict_of_dicts():
    p = {"W": MATRIX, "b": rng.normal(size=3), "scale": 1.5}
    jac = ad.jacobian(model)(p, VECTOR)
    assert list(jac) == ["out", "energy"]
    assert list(jac["out"]) == ["W", "b", "scale"]
    assert np.shape(jac["out"]["W"]) == (3, 3, 5)
    assert np.shape(jac["energy"]["b"]) == (3,)
    assert np.shape(jac["out"]["scale"]) == (3,)
    for key in p:
        def moved(v, key=key):
            return model({**p, key: v}, VECTOR)
        for out in ("out", "energy"):
            np.testing.assert_allclose(jac[out][key], numeric_jacobian(
                lambda v: moved(v)[out], p[key]), rtol=1e-6, atol=1e-8)
    forward = ad.jacfwd(model)(p, VECTOR)
    for got, expected in zip(optree.tree_leaves(jac),
                             optree.tree_leaves(forward)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_has_aux_returns_the_aux_as_computed():
    jac, aux = ad.jacobian(with_aux, has_aux=True)(VECTOR)
    np.testing.assert_allclose(jac, numeric_jacobian(
        lambda v: with_aux(v)[0], VECTOR), rtol=1e-6, atol=1e-8)
    assert list(aux) == ["norm"]
    np.testing.assert_allclose(aux["norm"], np.linalg.norm(VECTOR),
                               rtol=1e-14)


def test_float32_in_float32_out():
    x = VECTOR.astype(np.float32)
    for function in (three_reductions, elementwise, vector_matrix,
                     softmax):
        jac = ad.jacobian(function)(x)
        assert jac.dtype == np.float32
        np.testing.assert_allclose(jac, ad.jacfwd(function)(VECTOR),
                                   rtol=1e-5, atol=1e-6)
    # NumPy's float32 matrix-vector product has raised a spurious "invalid
    # value" warning here (not reproducible alone); the values are checked.
    with np.errstate(invalid="ignore"):
        by_w, by_x = ad.jacobian(layer, argnums=(0, 1))(
            MATRIX.astype(np.float32), x)
    np.testing.assert_allclose(by_x, ad.jacobian(layer, argnums=1)(
        MATRIX, VECTOR), rtol=1e-5, atol=1e-6)
    assert by_w.dtype == by_x.dtype == np.float32


# -- the code -----------------------------------------------------------------

def test_rows_of_reductions_are_their_gradients_stacked():
    assert body(ad.jacobian(three_reductions), VECTOR) == [
        "t = np.sin(x)",
        "t_is_max = t == np.max(t)",
        "return np.stack([np.full_like(x, 1), 2 * x,",
        "                 t_is_max * np.cos(x) / np.sum(t_is_max)])"]


def test_a_layer_scales_the_rows_of_its_matrix():
    # diag(1 - tanh ** 2) @ W, written as the rows scaled, with no eye.
    assert body(ad.jacobian(layer, argnums=1), MATRIX, VECTOR) == [
        "return W * (1 - np.tanh(W @ x) ** 2)[:, None]"]
    assert body(ad.jacobian(vector_matrix), VECTOR) == [
        "return MATRIX * np.cos(x)"]


def test_a_slice_is_padded_back_to_the_arguments_size():
    # x[:3] has 3 rows of x's n columns: the identity over the 3 outputs,
    # padded with n - 3 columns of zeros (read when the code runs).
    assert body(ad.jacobian(head), VECTOR) == [
        "x_part = x[:3]",
        "return (np.pad(np.eye(x_part.size) * np.sum(x ** 2),",
        "               ((0, 0), (0, x.shape[0] - 3))) + 2 * x * "
        "x_part[:, None])"]
    longer = rng.normal(size=8)
    np.testing.assert_allclose(ad.jacobian(head)(longer), numeric_jacobian(
        head, longer), rtol=1e-6, atol=1e-8)


def energy(x):
    return np.sum(np.tanh(MATRIX @ x))


def test_jacfwd_and_hessian_stay_in_forward_mode():
    # Forward mode pushes the identity over the argument (X.size); reverse
    # mode the identity over the output (of X.shape[1] elements).
    assert body(ad.jacfwd(column_sums), SQUARE) == [
        "return np.sum(np.reshape(np.eye(X.size),",
        "                         (X.shape[0], X.shape[1], X.shape[0],",
        "                          X.shape[1])) * (2 * X)[..., None, None], "
        "axis=0)"]
    assert body(ad.jacobian(column_sums), SQUARE) == [
        "return np.expand_dims(np.eye(X.shape[1]), 1) * (2 * X)"]
    # The Hessian is jacfwd of the gradient, as JAX's; ad.jacobian of the
    # gradient, with as many outputs as inputs, takes forward mode too.
    assert body(ad.hessian(energy), VECTOR) == body(
        ad.jacfwd(ad.grad(energy)), VECTOR) == body(
        ad.jacobian(ad.grad(energy)), VECTOR) == [
        "terms = np.tanh(MATRIX @ x)",
        "return (MATRIX.T",
        "        @ (MATRIX * ((1 - terms ** 2)[:, None] * "
        "(-2 * terms)[:, None])))"]


def test_code_runs_at_other_sizes():
    jacobian = ad.jacobian(layer, argnums=(0, 1))
    for size in (2, 9):
        W, x = rng.normal(size=(size, 7)), rng.normal(size=7)
        by_w, by_x = jacobian(W, x)
        np.testing.assert_allclose(by_x, numeric_jacobian(
            lambda v: layer(W, v), x), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(by_w, numeric_jacobian(
            lambda w: layer(w, x), W), rtol=1e-6, atol=1e-8)


# -- the cost ------------------------------------------------------------------

PROJECTION = rng.normal(size=(3, 20000)) / 100


def projected(x):
    return np.tanh(PROJECTION @ np.sin(x))


def test_a_few_outputs_of_a_long_vector_build_no_square_array():
    # At n = 20000 an n x n float64 array needs 3.2 GB; reverse mode needs
    # the 3 x n Jacobian (480 KB) and arrays of that size.
    x = rng.normal(size=20000)
    text = ad.source(ad.jacobian(projected), x)
    assert "x.size" not in text and "x.shape" not in text
    jacobian = ad.jacobian(projected)
    jacobian(x)  # generated outside the measurement
    tracemalloc.start()
    try:
        jac = jacobian(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 10 ** 6
    hidden = PROJECTION @ np.sin(x)
    expected = ((1 - np.tanh(hidden) ** 2)[:, None] * PROJECTION
                * np.cos(x))
    np.testing.assert_allclose(jac, expected, rtol=1e-12, atol=1e-15)


# -- forward mode where reverse has no rule yet -------------------------------

def decay(x0, k, n):
    x = x0
    for _ in range(n):
        x = x + 0.1 * (-k * x * x)
    return np.stack([np.sum(x), np.max(x)])


def test_an_op_without_a_batched_rule_takes_forward_mode():
    # np.cumsum has no batched reverse rule yet: the Jacobian of an array
    # computed through it is forward mode's, the same code as jacfwd's.
    def accumulated(x):
        return np.sum(x) * np.cumsum(x)[:2]

    x = rng.normal(size=6)
    assert ad.source(ad.jacobian(accumulated), x) == ad.source(
        ad.jacfwd(accumulated), x).replace("jacfwd_", "jacobian_")
    np.testing.assert_allclose(ad.jacobian(accumulated)(x), numeric_jacobian(
        accumulated, x), rtol=1e-6, atol=1e-8)


def test_a_kept_loop_takes_forward_mode():
    # forward mode carries the tangents in the loop it keeps
    x0 = np.array([0.5, 1.0, 1.5])
    jac = ad.jacobian(decay)(x0, 0.3, 4)
    np.testing.assert_allclose(jac, numeric_jacobian(
        lambda v: decay(v, 0.3, 4), x0), rtol=1e-6, atol=1e-8)
    assert ad.source(ad.jacobian(decay), x0, 0.3, 4) == ad.source(
        ad.jacfwd(decay), x0, 0.3, 4).replace("jacfwd_decay",
                                              "jacobian_decay")
