"""The JAX-compatible API against JAX's own behaviour (issue 10, conformance
sweep).

autodiff_ast promises JAX's names and semantics over NumPy code: ``grad``,
``value_and_grad``, ``jacobian`` (``jacrev``), ``jacfwd``, ``hessian``,
``jvp``, ``vjp``, ``argnums`` (int or tuple), ``has_aux``, pytrees, JAX's
output structures and shapes (``out.shape + in.shape``) and dtypes
(float32 in, float32 out). Each case here was run against JAX 0.10.2 (CPU,
``jax_enable_x64``) with ``np`` bound to ``jax.numpy``; the file does not
need JAX: expected values are closed forms, central differences
(``helpers.numeric_gradient``) or literals JAX printed (said so where
used), and expected structures, shapes and dtypes are the ones JAX gives.

Where our README documents a deliberate difference from JAX (elementwise
``grad`` of array code, ``argnums`` validation, ``np.maximum.accumulate``
ties, a finite softplus' at 1000, ...), it is not tested as one. Where we
differ and should not, the test is a strict xfail whose reason starts
"conformance bug N:", N being the bug's number in the sweep's list.

Sections: grad and value_and_grad; jacobian and jacfwd; hessian; jvp;
vjp; compositions; kinks and ties; linear algebra; dtypes; bad input;
more structures; the known differences (bugs 1-16; 2, 7, 12, 14 and 16 are
fixed and their tests now pass).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import optree
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

Pair = namedtuple("Pair", ["w", "b"])

rng = np.random.default_rng(2026)
W = rng.normal(size=(3, 4))
X4 = rng.normal(size=4)
V3 = rng.normal(size=3)


def assert_tree(ours, expected, rtol=1e-10, atol=1e-12, dtypes=True):
    """``ours`` has ``expected``'s pytree structure (node types included:
    a tuple is not a list, a namedtuple not a tuple), and each leaf its
    shape, its dtype (when ``dtypes``) and its value."""
    ours_leaves, ours_spec = optree.tree_flatten(ours, none_is_leaf=True)
    expected_leaves, expected_spec = optree.tree_flatten(
        expected, none_is_leaf=True)
    assert ours_spec == expected_spec, (ours_spec, expected_spec)
    for mine, reference in zip(ours_leaves, expected_leaves):
        reference = np.asarray(reference)
        assert np.shape(mine) == reference.shape, (np.shape(mine),
                                                   reference.shape)
        if dtypes:
            assert np.asarray(mine).dtype == reference.dtype, (
                np.asarray(mine).dtype, reference.dtype)
        np.testing.assert_allclose(np.asarray(mine, dtype=np.float64),
                                   reference.astype(np.float64),
                                   rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# grad and value_and_grad


def scalar_pair(x, y):
    return x ** 2 * y + np.sin(x * y)


def scalar_pair_grad(x, y):
    return (2 * x * y + y * np.cos(x * y), x ** 2 + x * np.cos(x * y))


def test_grad_argnums_int_tuple_and_one_tuple():
    x, y = 0.7, -1.3
    gx, gy = scalar_pair_grad(x, y)
    assert_tree(ad.grad(scalar_pair)(x, y), np.float64(gx))
    assert_tree(ad.grad(scalar_pair, 1)(x, y), np.float64(gy))
    # JAX: a tuple argnums gives a tuple, even of one.
    assert_tree(ad.grad(scalar_pair, (1, 0))(x, y),
                (np.float64(gy), np.float64(gx)))
    assert_tree(ad.grad(scalar_pair, (1,))(x, y), (np.float64(gy),))


def weighted(x, y, scale=2.0):
    return np.sum(x * y) * scale


def test_grad_negative_argnums_and_keyword_arguments_as_jax():
    def product(x, y):
        return np.sum(x * y) * 2.0
    # JAX takes argnums=-1 as the last positional argument, and passes
    # keyword arguments through undifferentiated.
    assert_tree(ad.grad(product, -1)(X4, 2 * X4), 2 * X4)
    assert_tree(ad.grad(weighted)(X4, 2 * X4, scale=3.0), 6 * X4)
    assert_tree(ad.grad(weighted, (0, -1))(X4, 2 * X4, 3.0),
                (6 * X4, np.float64(2 * np.sum(X4 ** 2))))


def test_negative_argnums_counts_the_arguments_passed():
    # was conformance bug 5: -1 counted the signature, defaults included
    assert_tree(ad.grad(weighted, -1)(X4, 2 * X4), 2 * X4)
    assert_tree(ad.grad(weighted, -1)(X4, 2 * X4, 3.0),
                np.float64(2 * np.sum(X4 ** 2)))


def with_aux(x, y):
    value = x ** 2 * y
    return value, {"x": x, "count": 2, "tag": "ok"}


def test_value_and_grad_with_aux_and_argnums_tuple():
    (value, aux), grads = ad.value_and_grad(with_aux, (0, 1),
                                            has_aux=True)(0.5, 2.0)
    assert_tree(value, np.float64(0.5))
    assert_tree(grads, (np.float64(2.0), np.float64(0.25)))
    # aux comes back as the function returned it, not differentiated.
    assert aux["count"] == 2 and aux["tag"] == "ok"
    np.testing.assert_allclose(aux["x"], 0.5)


def array_aux(W, x):
    y = W @ x
    return np.sum(y ** 2), {"y": y, "n": 3}


def test_grad_with_array_aux():
    grads, aux = ad.grad(array_aux, (0, 1), has_aux=True)(W, X4)
    y = W @ X4
    assert_tree(grads, (2 * np.outer(y, X4), 2 * W.T @ y))
    assert_tree(aux["y"], y)
    assert aux["n"] == 3


def pytree_loss(p, x):
    return (np.sum(p["a"][0] * x) + p["a"][1]["c"] ** 2
            + np.sum(p["b"] ** 3) + np.sum(p["n"].w) * p["n"].b)


def test_grad_keeps_nested_pytree_structure_and_node_types():
    p = {"a": (X4, {"c": 1.5}), "b": [V3, 2.0], "n": Pair(V3, 0.5)}

    def loss(p, x):
        return (np.sum(p["a"][0] * x) + p["a"][1]["c"] ** 2
                + np.sum(p["b"][0] ** 3) * p["b"][1]
                + np.sum(p["n"].w) * p["n"].b)

    grads = ad.grad(loss)(p, X4)
    expected = {"a": (X4, {"c": np.float64(3.0)}),
                "b": [6.0 * V3 ** 2, np.float64(np.sum(V3 ** 3))],
                "n": Pair(np.full(3, 0.5), np.float64(np.sum(V3)))}
    assert_tree(grads, expected)
    assert type(grads["n"]) is Pair and type(grads["b"]) is list


def test_grad_of_a_float32_pytree_keeps_float32_leaves():
    p = {"W": W.astype(np.float32), "b": np.float32(0.25)}

    def loss(p, x):
        return np.sum(np.tanh(p["W"] @ x + p["b"]))

    x = X4.astype(np.float32)
    grads = ad.grad(loss)(p, x)
    expected = numeric_gradient(
        lambda q: loss({"W": q["W"], "b": q["b"]}, X4),
        ({"W": W, "b": 0.25},), 0)
    assert grads["W"].dtype == np.float32 and grads["W"].shape == (3, 4)
    assert np.asarray(grads["b"]).dtype == np.float32
    np.testing.assert_allclose(grads["W"], expected["W"], rtol=2e-5,
                               atol=2e-6)
    np.testing.assert_allclose(grads["b"], expected["b"], rtol=2e-5)


def cross_entropy(w, X, labels):
    logits = X * w
    return -np.sum(logits[np.arange(X.shape[0]), labels])


def masked_loss(w, X, mask):
    return np.sum((X @ w) ** 2 * mask)


def test_integer_and_boolean_data_arguments():
    X = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    mask = np.array([True, False, True, True, False])
    expected = -np.array([X[labels == k, k].sum() for k in range(3)])
    assert_tree(ad.grad(cross_entropy)(V3, X, labels), expected)
    w = V3
    assert_tree(ad.grad(masked_loss)(w, X, mask),
                2 * X.T @ ((X @ w) * mask))
    assert_tree(ad.hessian(masked_loss)(w, X, mask),
                2 * X.T @ (X * mask[:, None]))


# ---------------------------------------------------------------------------
# jacobian (jacrev) and jacfwd


def dict_to_dict(p):
    return {"s": np.sum(p["u"] * p["v"]), "t": p["u"] * 2.0 + p["v"][0]}


def test_jacobian_of_a_dict_to_dict_function_nests_output_over_input():
    u, v = X4, X4[::-1].copy()
    eye, first = np.eye(4), np.zeros((4, 4))
    first[:, 0] = 1.0
    expected = {"s": {"u": v, "v": u},
                "t": {"u": 2.0 * eye, "v": first}}
    for transform in (ad.jacobian, ad.jacrev, ad.jacfwd):
        assert_tree(transform(dict_to_dict)({"u": u, "v": v}), expected)


def vector_of_two(x, y):
    return np.array([x * y, x + y, np.sin(x)])


def test_jacobian_argnums_tuple_of_scalar_arguments():
    x, y = 0.7, -1.3
    expected = (np.array([y, 1.0, np.cos(x)]), np.array([x, 1.0, 0.0]))
    assert_tree(ad.jacobian(vector_of_two, (0, 1))(x, y), expected)
    assert_tree(ad.jacfwd(vector_of_two, (0, 1))(x, y), expected)


def layer(W, x):
    return np.tanh(W @ x)


def test_jacobian_shapes_are_out_shape_plus_in_shape():
    t = np.tanh(W @ X4)
    d = 1 - t ** 2
    dW = np.einsum("ij,k->ijk", np.diag(d), X4)       # (3, 3, 4)
    dx = d[:, None] * W                               # (3, 4)
    for transform in (ad.jacobian, ad.jacfwd):
        assert_tree(transform(layer, (0, 1))(W, X4), (dW, dx))


def test_jacobian_of_a_scalar_to_vector_and_a_vector_to_scalar():
    def curve(t):
        return np.array([t, t ** 2, np.sin(t)])

    def cubic(x):
        return np.sum(x ** 3)

    for transform in (ad.jacobian, ad.jacfwd):
        assert_tree(transform(curve)(0.3),
                    np.array([1.0, 0.6, np.cos(0.3)]))
        assert_tree(transform(cubic)(X4), 3 * X4 ** 2)


def test_jacobian_with_aux_and_of_a_namedtuple_output():
    def squares(x):
        return x ** 2, {"s": np.sum(x)}

    def pair_out(x):
        return Pair(x * 2.0, np.sum(x))

    for transform in (ad.jacobian, ad.jacfwd):
        jac, aux = transform(squares, has_aux=True)(X4)
        assert_tree(jac, np.diag(2 * X4))
        np.testing.assert_allclose(aux["s"], np.sum(X4))
        out = transform(pair_out)(X4)
        assert type(out) is Pair
        assert_tree(out, Pair(2.0 * np.eye(4), np.ones(4)))


def test_jacobian_of_a_constant_output_is_zeros_of_jax_shape():
    def constant(x):
        return {"a": np.sum(x), "b": 2.0, "c": np.zeros(3)}

    expected = {"a": np.ones(4), "b": np.zeros(4), "c": np.zeros((3, 4))}
    for transform in (ad.jacobian, ad.jacfwd):
        assert_tree(transform(constant)(X4), expected)


# ---------------------------------------------------------------------------
# hessian


def test_hessian_of_two_scalar_arguments_is_a_tuple_of_tuples():
    x, y = 0.7, -1.3
    s, c = np.sin(x * y), np.cos(x * y)
    dxx = 2 * y - s * y ** 2
    dxy = 2 * x - x * y * s + c
    dyy = -s * x ** 2
    f = np.float64
    assert_tree(ad.hessian(scalar_pair, (0, 1))(x, y),
                ((f(dxx), f(dxy)), (f(dxy), f(dyy))))
    assert_tree(ad.hessian(scalar_pair, (1,))(x, y), ((f(dyy),),))


def sum_tanh(W, x):
    return np.sum(np.tanh(W @ x) ** 2)


def test_hessian_of_two_array_arguments_blocks_have_jax_shapes():
    blocks = ad.hessian(sum_tanh, (0, 1))(W, X4)
    assert [[np.shape(b) for b in row] for row in blocks] == [
        [(3, 4, 3, 4), (3, 4, 4)], [(4, 3, 4), (4, 4)]]
    # The x-x block by central differences of the gradient.
    grad_x = ad.grad(sum_tanh, 1)
    h = 1e-5
    numeric = np.stack([(grad_x(W, X4 + h * e) - grad_x(W, X4 - h * e))
                        / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(blocks[1][1], numeric, rtol=1e-7, atol=1e-8)
    # Symmetry across the two off-diagonal blocks.
    np.testing.assert_allclose(blocks[0][1], np.moveaxis(blocks[1][0], 0, 2),
                               rtol=1e-12, atol=1e-14)


def test_hessian_of_a_dict_argument_is_a_dict_of_dicts():
    def loss(p):
        return np.sum(p["W"] ** 2) * np.sum(p["x"] ** 3)

    p = {"W": W, "x": X4}
    hess = ad.hessian(loss)(p)
    a, b = np.sum(W ** 2), np.sum(X4 ** 3)
    expected = {
        "W": {"W": 2 * b * np.eye(12).reshape(3, 4, 3, 4),
              "x": 2 * W[:, :, None] * 3 * X4 ** 2},
        "x": {"W": 3 * X4[:, None, None] ** 2 * 2 * W[None],
              "x": np.diag(6 * a * X4)}}
    assert_tree(hess, expected)


def test_hessian_with_aux():
    def loss(x):
        return np.sum(x ** 3), x * 2.0

    hess, aux = ad.hessian(loss, has_aux=True)(X4)
    assert_tree(hess, np.diag(6 * X4))
    assert_tree(aux, 2.0 * X4)


# ---------------------------------------------------------------------------
# jvp


def test_jvp_with_pytree_primals_and_tangents():
    p = {"u": X4, "v": X4[::-1].copy()}
    t = {"u": np.ones(4), "v": np.arange(4.0)}
    value, tangent = ad.jvp(dict_to_dict, (p,), (t,))
    assert_tree(value, dict_to_dict(p))
    expected = {"s": np.sum(t["u"] * p["v"] + p["u"] * t["v"]),
                "t": 2.0 * t["u"] + t["v"][0]}
    assert_tree(tangent, {"s": np.float64(expected["s"]),
                          "t": expected["t"]})


def test_jvp_of_scalar_code_with_a_tuple_output_and_aux():
    def two(x, y):
        return x * y, x + y

    value, tangent = ad.jvp(two, (0.7, -1.3), (1.0, 0.5))
    assert_tree(value, (np.float64(0.7 * -1.3), np.float64(0.7 - 1.3)))
    assert_tree(tangent, (np.float64(-1.3 + 0.5 * 0.7), np.float64(1.5)))
    value, tangent, aux = ad.jvp(with_aux, (0.5, 2.0), (1.0, 0.0),
                                 has_aux=True)
    assert_tree(value, np.float64(0.5))
    assert_tree(tangent, np.float64(2.0))
    assert aux["count"] == 2


def test_jvp_of_a_namedtuple_argument():
    def loss(p):
        return np.sum(p.w ** 2) * p.b

    value, tangent = ad.jvp(loss, (Pair(X4, 2.0),), (Pair(X4, 1.0),))
    assert_tree(value, np.float64(2.0 * np.sum(X4 ** 2)))
    assert_tree(tangent, np.float64(4.0 * np.sum(X4 ** 2)
                                    + np.sum(X4 ** 2)))


# ---------------------------------------------------------------------------
# vjp


def test_vjp_with_a_dict_cotangent():
    p = {"u": X4, "v": X4[::-1].copy()}
    value, pullback = ad.vjp(dict_to_dict, p)
    assert_tree(value, dict_to_dict(p))
    (cotangent,) = pullback({"s": 2.0, "t": np.arange(4.0)})
    expected_v = 2.0 * p["u"]
    expected_v[0] += np.sum(np.arange(4.0))
    assert_tree(cotangent, {"u": 2.0 * p["v"] + 2.0 * np.arange(4.0),
                            "v": expected_v})


def test_vjp_of_a_list_and_tuple_output_and_with_aux():
    def mixed(x):
        return [x[0] * x[1], (x ** 2, np.sum(x))]

    value, pullback = ad.vjp(mixed, X4)
    assert type(value) is list and type(value[1]) is tuple
    (cotangent,) = pullback([1.0, (X4, 2.0)])
    expected = 2 * X4 * X4 + 2.0
    expected[0] += X4[1]
    expected[1] += X4[0]
    assert_tree(cotangent, expected)
    value, pullback, aux = ad.vjp(array_aux, W, X4, has_aux=True)
    y = W @ X4
    assert_tree(pullback(2.0), (4 * np.outer(y, X4), 4 * W.T @ y))
    assert aux["n"] == 3


def test_vjp_of_scalar_code_returns_one_cotangent_per_argument():
    value, pullback = ad.vjp(scalar_pair, 0.7, -1.3)
    gx, gy = scalar_pair_grad(0.7, -1.3)
    assert_tree(pullback(1.5), (np.float64(1.5 * gx), np.float64(1.5 * gy)))


# ---------------------------------------------------------------------------
# compositions: grad of grad, jacobian of grad, jvp of grad


def test_grad_of_grad_and_jacobian_of_grad_and_hvp():
    hess = ad.hessian(sum_tanh, 1)(W, X4)
    assert_tree(ad.jacobian(ad.grad(sum_tanh, 1), 1)(W, X4), hess)
    assert_tree(ad.jacfwd(ad.grad(sum_tanh, 1), 1)(W, X4), hess)
    v = np.arange(4.0) - 1.5
    _, hvp = ad.jvp(ad.grad(sum_tanh, 1), (W, X4), (np.zeros_like(W), v))
    assert_tree(hvp, hess @ v)

    def cube(x):
        return np.sin(x) * x ** 2

    x = 0.7
    # d3/dx3 (x^2 sin x) = -x^2 cos x - 6x sin x + 6 cos x
    third = -x ** 2 * np.cos(x) - 6 * x * np.sin(x) + 6 * np.cos(x)
    assert_tree(ad.grad(ad.grad(ad.grad(cube)))(x), np.float64(third))


# ---------------------------------------------------------------------------
# kinks and ties: JAX's conventions (values JAX 0.10.2 gives)


def test_conventions_at_kinks_match_jax():
    assert ad.grad(np.abs)(0.0) == 1.0                     # JAX: 1.0
    assert ad.grad(lambda x: np.maximum(x, 0.0))(0.0) == 0.5   # JAX: 0.5
    assert ad.grad(lambda x: np.where(x > 0, x ** 2, -x))(0.0) == -1.0
    clip = ad.grad(lambda x, lo, hi: np.clip(x, lo, hi), (0, 1, 2))
    assert_tree(clip(-1.0, -1.0, 1.0), (np.float64(0.5), np.float64(0.5),
                                        np.float64(0.0)))
    assert_tree(ad.grad(np.max)(np.array([1.0, 3.0, 3.0, -1.0])),
                np.array([0.0, 0.5, 0.5, 0.0]))
    assert_tree(ad.grad(lambda W: np.sum(np.max(W, axis=0)))(
        np.array([[1.0, 2.0, 2.0], [3.0, 2.0, 1.0]])),
        np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]))
    assert_tree(ad.grad(np.median)(np.array([1.0, 2.0, 2.0, 3.0, 2.0])),
                np.array([0.0, 0.0, 1.0, 0.0, 0.0]))     # JAX's choice
    assert_tree(ad.grad(lambda x: np.sum(np.sort(x) * np.arange(4.0)))(
        np.array([2.0, 1.0, 2.0, 0.0])), np.array([2.0, 1.0, 3.0, 0.0]))


def test_forward_mode_at_ties_agrees_with_reverse_mode():
    x = np.array([1.0, 3.0, 3.0, -1.0, 0.0, -1.0])
    t = np.array([0.5, 1.0, 2.0, -1.0, 3.0, 0.25])
    for f in (np.max, np.min, lambda x: np.sum(np.abs(x)),
              lambda x: np.sum(np.clip(x, -1.0, 1.0))):
        _, tangent = ad.jvp(f, (x,), (t,))
        np.testing.assert_allclose(tangent, ad.grad(f)(x) @ t, rtol=1e-12)
    # JAX: jvp of max over ties averages the tied tangents.
    assert ad.jvp(np.max, (x,), (t,))[1] == 1.5


# ---------------------------------------------------------------------------
# linear algebra


def test_linalg_gradients_and_jacobians():
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    inv = np.linalg.inv(A)
    assert_tree(ad.grad(np.linalg.det)(A), np.linalg.det(A) * inv.T,
                rtol=1e-9)

    def solve(A, b):
        return np.linalg.solve(A, b)

    x = inv @ V3
    assert_tree(ad.jacobian(solve, (0, 1))(A, V3),
                (-np.einsum("ij,k->ijk", inv, x), inv), rtol=1e-9)
    assert_tree(ad.grad(np.linalg.norm)(X4), X4 / np.linalg.norm(X4))


# ---------------------------------------------------------------------------
# dtypes: float32 in, float32 out


def test_float32_in_float32_out_for_every_transform():
    W32, x32 = W.astype(np.float32), X4.astype(np.float32)
    results = {
        "grad": ad.grad(sum_tanh, (0, 1))(W32, x32),
        "value_and_grad": ad.value_and_grad(sum_tanh, (0, 1))(W32, x32),
        "jacobian": ad.jacobian(layer, (0, 1))(W32, x32),
        "jacfwd": ad.jacfwd(layer, (0, 1))(W32, x32),
        "hessian": ad.hessian(sum_tanh, (0, 1))(W32, x32),
        "jvp": ad.jvp(layer, (W32, x32), (W32, x32)),
    }
    _, pullback = ad.vjp(layer, W32, x32)
    results["vjp"] = pullback(np.ones(3, np.float32))
    for name, result in results.items():
        for leaf in optree.tree_leaves(result):
            assert np.asarray(leaf).dtype == np.float32, name


# ---------------------------------------------------------------------------
# bad input: JAX raises, so must we (an autodiff_ast error, not a wrong
# number)


def vector(x):
    return np.sin(x) * np.sum(x)


def test_wrong_cotangent_and_tangent_shapes_are_refused():
    _, pullback = ad.vjp(vector, V3)
    for cotangent in (np.ones(2), 1.0, np.ones((3, 1))):
        with pytest.raises(ad.InputError, match="cotangent"):
            pullback(cotangent)
    with pytest.raises(ad.InputError, match="tangent"):
        ad.jvp(vector, (V3,), (np.ones(2),))
    with pytest.raises(ad.InputError, match="one tangent per primal"):
        ad.jvp(lambda x, y: np.sum(x * y), (V3, V3), (V3,))


def test_non_scalar_output_and_integer_inputs_are_refused_as_in_jax():
    def keep(x):
        return np.sum(x ** 2, keepdims=True)

    with pytest.raises(ad.OutputError,
                       match=r"scalar-output functions. Output had shape: "
                             r"\(1,\)"):
        ad.grad(keep)(V3)
    with pytest.raises(ad.InputError, match="floating-point"):
        ad.grad(lambda x: np.sum(x ** 2))(np.array([1, 2, 3]))


# ---------------------------------------------------------------------------
# More structures: vector-valued Hessians, mixed argnums, broadcasting,
# None leaves, partials, one handle over several signatures


def tanh_layer_out(x):
    return np.tanh(W[:2, :3] @ x)


def test_hessian_of_a_vector_output_has_shape_out_in_in():
    x = X4[:3]
    hess = ad.hessian(tanh_layer_out)(x)
    t = np.tanh(W[:2, :3] @ x)
    second = -2 * t * (1 - t ** 2)
    expected = np.einsum("i,ij,ik->ijk", second, W[:2, :3], W[:2, :3])
    assert_tree(hess, expected)


def scaled_wave(s, x):
    return np.sum(np.sin(s * x) * x) * s


def test_hessian_of_a_number_and_an_array_argument():
    s, x = 0.7, X4[:3]
    blocks = ad.hessian(scaled_wave, (0, 1))(s, x)
    assert [[np.shape(b) for b in row] for row in blocks] == [
        [(), (3,)], [(3,), (3, 3)]]
    # d2/ds2 by central differences of d/ds.
    ds = ad.grad(scaled_wave)
    h = 1e-5
    np.testing.assert_allclose(blocks[0][0],
                               (ds(s + h, x) - ds(s - h, x)) / (2 * h),
                               rtol=1e-7)
    np.testing.assert_allclose(blocks[0][1], blocks[1][0], rtol=1e-12)


def shifted(b, X):
    return np.sum(np.tanh(X + b) ** 2)


@pytest.mark.parametrize("shape", [(1, 4), (4,), (3, 1), (1, 1), ()])
def test_gradient_of_a_broadcast_parameter_has_its_shape(shape):
    b = np.full(shape, 0.3)
    X = W
    t = np.tanh(X + b)
    full = 2 * t * (1 - t ** 2)
    axes = tuple(range(full.ndim - len(shape)))
    expected = np.sum(full, axis=axes)
    expected = np.sum(expected, axis=tuple(
        i for i, n in enumerate(shape) if n == 1), keepdims=True)
    assert_tree(ad.grad(shifted)(b, X), expected.reshape(shape))


def optional_bias(p, x):
    bias = 0.0 if p["b"] is None else p["b"]
    return np.sum(p["w"] * x) + bias


def test_none_leaves_stay_none_in_gradients_and_tangents():
    p = {"w": V3, "b": None}
    assert_tree(ad.grad(optional_bias)(p, V3), {"w": V3, "b": None})
    _, tangent = ad.jvp(optional_bias, (p, V3), ({"w": V3, "b": None}, V3))
    assert_tree(tangent, np.float64(2 * np.sum(V3 ** 2)))


def test_partial_and_one_handle_over_several_signatures():
    import functools
    g = ad.grad(functools.partial(weighted, scale=0.5), (0, 1))
    assert_tree(g(X4, 2 * X4), (X4, 0.5 * X4))
    squares = ad.grad(squares_sum)
    for x in (np.arange(3.0), np.arange(5.0), np.arange(6.0).reshape(2, 3),
              np.arange(3.0, dtype=np.float32), np.arange(3.0)):
        assert_tree(squares(x), 2 * x)


# ---------------------------------------------------------------------------
# Known differences from JAX: conformance bugs (strict xfails)


def cofactors(A):
    """The matrix of cofactors, det's gradient also where A is singular."""
    n = A.shape[0]
    return np.array([[(-1) ** (i + j) * np.linalg.det(
        np.delete(np.delete(A, i, 0), j, 1)) for j in range(n)]
        for i in range(n)])


SINGULAR = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])


# was conformance bug 1: det's derivative at a singular matrix raised
# LinAlgError from inv inside the generated code (det * inv(A).T)
def test_grad_of_det_at_a_singular_matrix_is_the_cofactor_matrix():
    assert_tree(ad.grad(np.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]])),
                np.array([[4.0, -2.0], [-2.0, 1.0]]))
    # JAX: [[-3, 6, -3], [6, -12, 6], [-3, 6, -3]]
    assert_tree(ad.grad(np.linalg.det)(SINGULAR), cofactors(SINGULAR),
                atol=1e-9)


# was conformance bug 1: det's forward derivative at a singular matrix
# raised LinAlgError; JAX's jvp at [[1, 2], [2, 4]] along I is 5
def test_jvp_of_det_at_a_singular_matrix():
    value, tangent = ad.jvp(np.linalg.det,
                            (np.array([[1.0, 2.0], [2.0, 4.0]]),),
                            (np.eye(2),))
    assert_tree((value, tangent), (np.float64(0.0), np.float64(5.0)))


# was conformance bug 1: the Jacobian of det over a stack of matrices, one
# of them singular, raised LinAlgError; JAX gives each matrix's cofactors
def test_jacobian_of_a_batched_det_with_a_singular_matrix():
    stack = np.stack([2.0 * np.eye(2), np.array([[1.0, 2.0], [2.0, 4.0]])])
    expected = np.zeros((2, 2, 2, 2))
    expected[0, 0] = 2.0 * np.eye(2)
    expected[1, 1] = [[4.0, -2.0], [-2.0, 1.0]]
    assert_tree(ad.jacobian(np.linalg.det)(stack), expected)


def two_outputs(x):
    return {"s": x * 2.0, "t": x * 3.0}


# Conformance bug 2 (fixed in 65a7157): the pullback paired a dict
# cotangent with other keys by position, a silently wrong cotangent (2.0
# for pullback({'t': 1.0, 'u': 0.0})); JAX raises.
def test_vjp_refuses_a_cotangent_with_other_keys():
    _, pullback = ad.vjp(two_outputs, 1.0)
    with pytest.raises(ad.InputError):
        pullback({"t": 1.0, "u": 0.0})


def test_vjp_takes_a_dict_cotangent_by_key():
    _, pullback = ad.vjp(two_outputs, 1.0)
    assert_tree(pullback({"t": 1.0, "s": 0.0}), (np.float64(3.0),))


def power(x, y):
    return x ** y


# was conformance bug 3: d(x ** y)/dy at x = 0 was x ** y * log(x), nan
def test_derivative_of_a_power_in_its_exponent_at_a_zero_base():
    dy = ad.grad(power, 1)
    for y in (2.0, 1.0, 0.5, 0.0):
        with np.errstate(divide="ignore", invalid="ignore"):
            assert dy(np.float64(0.0), np.float64(y)) == 0.0, y
    grads = ad.grad(lambda x, y: np.sum(x ** y), 1)(
        np.array([0.0, 1.0, 2.0]), 2.0)
    np.testing.assert_allclose(grads, 4 * np.log(2.0))
    float_power = ad.grad(np.float_power, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert float_power(np.float64(0.0), np.float64(1.0)) == 0.0
    # Second derivatives there, as JAX's at (0, 2): x ** 2's 2, and 0 for
    # every partial in y (the mixed one too).
    assert_tree(ad.hessian(power, (0, 1))(np.float64(0.0), np.float64(2.0)),
                ((2.0, 0.0), (0.0, 0.0)), dtypes=False)


C64 = np.float64(2.0)


def times_c64(x):
    return np.sin(x) * C64


# was conformance bug 4: a float32 argument's gradient was float64 through
# a float64 global or argument (JAX casts it to the argument's dtype)
def test_float32_gradient_through_a_float64_constant():
    x = np.float32(0.5)
    g = ad.grad(times_c64)(x)
    assert np.asarray(g).dtype == np.float32
    np.testing.assert_allclose(g, 2 * np.cos(0.5), rtol=1e-6)
    gx, gy = ad.grad(lambda x, y: x * y, (0, 1))(x, np.float64(3.0))
    assert np.asarray(gx).dtype == np.float32
    assert np.asarray(gy).dtype == np.float64
    grads = ad.grad(times_c64)(np.array([0.5, 1.0], np.float32))
    assert grads.dtype == np.float32


def through_float32(x):
    return np.float32(x) ** 2


# was conformance bug 4: a float64 argument's gradient was float32 through
# np.float32(x) ** 2 (JAX gives float64, its argument's dtype)
def test_float64_gradient_through_a_float32_cast():
    g = ad.grad(through_float32)(np.float64(0.5))
    np.testing.assert_allclose(g, 1.0)
    assert np.asarray(g).dtype == np.float64


def dot_product(x, y):
    return np.sum(x * y)


# was conformance bug 4: jacobian(f, (0, 1)) of np.sum(x * y), x float32
# and y float64, gave a float64 block for x; JAX's jacrev gives each
# argument's dtype
def test_float32_jacobian_through_a_float64_argument():
    x32 = X4.astype(np.float32)
    assert ad.jacobian(dot_product, 0)(x32, X4).dtype == np.float32
    jac_x, jac_y = ad.jacobian(dot_product, (0, 1))(x32, X4)
    assert (jac_x.dtype, jac_y.dtype) == (np.float32, np.float64)
    np.testing.assert_allclose(jac_x, X4)


# was conformance bug 6: the gradients of np.fmax and np.fmin were float64
# (0-d arrays) for float32 arguments; JAX gives the arguments' dtype
def test_fmax_and_fmin_gradients_are_floats():
    for f in (np.fmax, np.fmin):
        for dtype in (np.float64, np.float32):
            gx, gy = ad.grad(f, (0, 1))(dtype(1.0), dtype(2.0))
            assert np.asarray(gx).dtype == dtype
            assert np.asarray(gy).dtype == dtype


def test_fmax_gradient_values_match_jax():
    gx, gy = ad.grad(np.fmax, (0, 1))(1.0, 2.0)
    assert (float(gx), float(gy)) == (0.0, 1.0)     # JAX: (0.0, 1.0)
    gx, gy = ad.grad(np.fmax, (0, 1))(np.nan, 2.0)
    assert (float(gx), float(gy)) == (0.0, 1.0)     # JAX: (0.0, 1.0)


# Conformance bug 7 (fixed in 9977831): this block was the Python int 2.
def test_hessian_blocks_of_a_python_float_leaf_are_floats():
    def loss(p):
        return p["c"] ** 2 + np.sum(p["b"] ** 3)

    hess = ad.hessian(loss)({"c": 1.5, "b": V3})
    assert_tree(hess, {"c": {"c": np.float64(2.0), "b": np.zeros(3)},
                       "b": {"c": np.zeros(3), "b": np.diag(6 * V3)}})


def aux_as_list(x):
    return [np.sum(x ** 2), x]


# was conformance bug 8: a list [value, aux] was refused as one value
def test_has_aux_takes_a_list_of_two():
    grads, aux = ad.grad(aux_as_list, has_aux=True)(X4)
    assert_tree(grads, 2 * X4)
    assert_tree(aux, X4)


def builtin_max(x, y):
    return max(x, y)


def builtin_min(x, y):
    return min(x, y)


# was conformance bug 9: max(x, y) and min(x, y) gave 0.5 to each at a tie
def test_builtin_max_and_min_at_a_tie_follow_the_first_argument():
    assert_tree(ad.grad(builtin_max, (0, 1))(1.0, 1.0),
                (np.float64(1.0), np.float64(0.0)), dtypes=False)
    assert_tree(ad.grad(builtin_min, (0, 1))(1.0, 1.0),
                (np.float64(1.0), np.float64(0.0)), dtypes=False)


def builtin_min_of_three(x, y, z):
    return min(x, y, z)


def builtin_max_of_a_list(x, y, z):
    return max([x, y, z])


def scaled_by_builtin_max(x, y):
    return np.sum(np.sin(x) * max(y, 0.5))


def test_builtin_max_and_min_of_more_numbers_and_in_array_code():
    # JAX: (1, 0, 0), (0, 1, 0) and (cos(1) * 0.5 * [1, 1, 1], 3 sin(1)):
    # the first of the numbers that tie takes the derivative.
    assert_tree(ad.grad(builtin_min_of_three, (0, 1, 2))(1.0, 1.0, 1.0),
                (1.0, 0.0, 0.0), dtypes=False)
    assert_tree(ad.grad(builtin_max_of_a_list, (0, 1, 2))(1.0, 2.0, 2.0),
                (0.0, 1.0, 0.0), dtypes=False)
    assert_tree(ad.grad(scaled_by_builtin_max, (0, 1))(np.ones(3), 0.5),
                (0.5 * np.cos(np.ones(3)), np.float64(3 * np.sin(1.0))))
    # np.maximum keeps JAX's jnp.maximum convention: half to each.
    assert_tree(ad.grad(np.maximum, (0, 1))(1.0, 1.0), (0.5, 0.5),
                dtypes=False)


def test_builtin_max_away_from_a_tie():
    assert_tree(ad.grad(builtin_max, (0, 1))(2.0, 1.0),
                (np.float64(1.0), np.float64(0.0)), dtypes=False)


def sum_eigvalsh(S):
    return np.sum(np.linalg.eigvalsh(S))


def sum_singular_values(A):
    return np.sum(np.linalg.svd(A, compute_uv=False))


def sum_cov(X):
    return np.sum(np.cov(X) ** 2)


def sum_of_q(A):
    return np.sum(np.linalg.qr(A)[0] * np.array([1.0, 2.0]))


def least_squares_fit(A):
    return np.sum(np.linalg.lstsq(A, np.array([1.0, 2.0]))[0] ** 2)


@pytest.mark.parametrize("function", [
    # was conformance bug 10: np.linalg.eigvalsh, eigh, svd, pinv, lstsq,
    # qr and np.cov were refused
    sum_eigvalsh, sum_singular_values, sum_cov, sum_of_q,
    least_squares_fit])
def test_eigenvalues_singular_values_and_covariance(function):
    S = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert_tree(ad.grad(function)(S), numeric_gradient(function, (S,), 0),
                rtol=1e-6, atol=1e-8)


def power_spectrum(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def test_refusal_of_a_numpy_function_says_why():
    # was conformance bug 11: np.cov (differentiated now) "has no Python
    # source", said falsely (np.convolve, the example here before, is
    # differentiated now too)
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(power_spectrum)(np.ones(3))
    assert info.value.msg == (
        "np.fft.fft is not supported: it is a NumPy function outside "
        "autodiff_ast's rules table, and library code is never read and "
        "differentiated. Compute its result outside the function and pass "
        "it in (as an argument or a global), or write it with supported "
        "operations: arithmetic and the NumPy and math functions of the "
        "rules table")


def halve_until_inside(x):
    while np.linalg.norm(x) > 1.0:
        x = x / 2
    return np.sum(x ** 2)


def test_while_loop_on_an_array_condition():
    # was conformance bug 12: refused, asking for while True/break
    x = np.array([3.0, 4.0, 0.0])
    # Three halvings: x / 8, sum(x^2) / 64, gradient 2 x / 64.
    assert_tree(ad.grad(halve_until_inside)(x), 2 * x / 64)


PARAMS = {"W": 2.0 * np.eye(3), "b": np.ones(3)}


def with_global_params(x):
    return np.sum(np.tanh(PARAMS["W"] @ x + PARAMS["b"]))


def closing_over(params):
    def loss(x):
        return np.sum(np.tanh(params["W"] @ x + params["b"]))
    return loss


@pytest.mark.parametrize("function", [with_global_params,
                                      closing_over(PARAMS)],
                         ids=["global", "closure"])
def test_reading_a_dict_of_parameters_from_outside(function):
    # was conformance bug 13: refused, a dict of arrays read from outside
    x = np.array([0.1, -0.2, 0.3])
    d = 1 - np.tanh(PARAMS["W"] @ x + PARAMS["b"]) ** 2
    assert_tree(ad.grad(function)(x), PARAMS["W"].T @ d)


def test_refusal_of_a_closure_dict_does_not_call_it_a_global():
    # was conformance bug 13's message: "the global params ... make it a
    # tuple", where a tuple of arrays is refused too. A dict of arrays is
    # read by name now, unless a key has no spelling that names its item.
    keyed = {**PARAMS, object(): np.ones(3)}
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(closing_over(keyed))(np.zeros(3))
    assert str(info.value).startswith(
        "params, read from outside the function, is a dict whose items "
        "generated code cannot read by name (params[<object object at ")
    assert str(info.value).split(">]", 1)[1].startswith(
        " does not name one): key it by strings or numbers, or pass params "
        "in as an argument (differentiated only if argnums names it)")


def squares_sum(x):
    return np.sum(x ** 2)


# Conformance bug 14 (fixed in 2900fb7): a TypeError, unexpected keyword.
def test_jax_keywords_holomorphic_and_allow_int():
    x = np.array([1.0, -2.0, 0.5])
    assert_tree(ad.grad(squares_sum, holomorphic=False)(x), 2 * x)
    assert_tree(ad.grad(squares_sum, allow_int=True)(x), 2 * x)
    assert_tree(ad.hessian(squares_sum, holomorphic=False)(x),
                2 * np.eye(3))


# was conformance bug 15: the refusal said grad for every transform
@pytest.mark.parametrize("name", ["jacobian", "jacfwd", "hessian"])
def test_integer_argument_refusal_names_the_transform_called(name):
    with pytest.raises(ad.InputError) as info:
        getattr(ad, name)(squares_sum)(np.array([1, 2]))
    assert str(info.value).startswith(
        f"{name} requires floating-point inputs, but argument x has dtype "
        "int64.")


def constant_three(x):
    return 3.0


def folds_to_two(x):
    return 2.0 + x * 0.0


# Conformance bug 16 (fixed in 2900fb7): the value was the Python int 3.
def test_value_of_a_constant_function_keeps_its_float_type():
    for function, expected in ((constant_three, 3.0), (folds_to_two, 2.0)):
        value, grad = ad.value_and_grad(function)(np.float64(0.5))
        assert value == expected and isinstance(value, float), value
        assert grad == 0.0
        value, tangent = ad.jvp(function, (0.5,), (1.0,))
        assert isinstance(value, float), value
    value, _ = ad.value_and_grad(constant_three)(np.ones(2))
    assert isinstance(value, float), value


def mixed_outputs(x, y):
    return {"sum": x * y, "x": 2 * x}, np.sum(y)


def test_jacobian_blocks_of_a_pytree_take_their_arguments_dtype():
    x32 = X4.astype(np.float32)
    (jac, aux) = ad.jacobian(mixed_outputs, (0, 1), has_aux=True)(x32, X4)
    assert [(jac[k][0].dtype, jac[k][1].dtype) for k in ("sum", "x")] == [
        (np.float32, np.float64)] * 2
    np.testing.assert_allclose(jac["sum"][0], np.diag(X4), rtol=1e-6)
    np.testing.assert_array_equal(jac["x"][1], np.zeros((4, 4)))
    assert aux == pytest.approx(np.sum(X4))
    # jacfwd pushes each argument's tangent through: the output's dtype
    fwd = ad.jacfwd(dot_product, (0, 1))(x32, X4)
    assert (fwd[0].dtype, fwd[1].dtype) == (np.float64, np.float64)
