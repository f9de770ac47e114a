"""jacobian, jacfwd, hessian, jvp and vjp of code with array operations:
JAX's layouts (``out.shape + in.shape``, pytrees of pytrees), values against
closed forms and central differences, and the generated source where it is
the product (the logistic Hessian in matrix form)."""

from __future__ import annotations

import collections

import numpy as np
import optree
import pytest

import autodiff_ast as ad

rng = np.random.default_rng(7)
X = rng.normal(size=(6, 3))
Y = rng.normal(size=6)
LABELS = np.array([True, False, True, True, False, True])


def sigmoid(z):
    return 0.5 * (np.tanh(z / 2) + 1)


def logistic(W, b):
    preds = sigmoid(X @ W + b)
    label_probs = preds * LABELS + (1 - preds) * (1 - LABELS)
    return -np.sum(np.log(label_probs))


X32 = X.astype(np.float32)


def logistic32(W, b):
    preds = sigmoid(X32 @ W + b)
    label_probs = preds * LABELS + (1 - preds) * (1 - LABELS)
    return -np.sum(np.log(label_probs))


def mlp(params, x):
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    out = hidden @ params["W2"] + params["b2"]
    return np.mean((out - Y) ** 2)


def squash(x):
    return np.tanh(x) * np.sum(x ** 2)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def to_dict(p):
    return {"sum": np.sum(p["a"] * p["b"]), "prod": p["a"] ** 2 * p["b"]}


def numeric_jacobian(f, x, h=1e-6):
    """d f / d x, shape f(x).shape + x.shape, by central differences."""
    x = np.asarray(x, dtype=float)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step)))
                       / (2 * h))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def test_logistic_hessian_is_written_in_matrix_form():
    W, b = rng.normal(size=3), 0.3
    hessian = ad.hessian(logistic)
    text = ad.source(hessian, W, b)
    assert text.splitlines()[-1].startswith("    return X.T @ (X * ")
    assert "np.eye" not in text and "einsum" not in text
    preds = 1 / (1 + np.exp(-(X @ W + b)))
    expected = X.T @ (X * (preds * (1 - preds))[:, None])
    np.testing.assert_allclose(hessian(W, b), expected, rtol=1e-12)


def exp_sin(x):
    return np.sum(np.exp(x) * np.sin(x))


def test_an_elementwise_sum_has_its_second_derivative_on_the_diagonal():
    # The gradient e^x cos x + e^x sin x has three values of x: their
    # tangents along the identity are summed as vectors first, so that the
    # sines cancel; they were two columns, np.eye(x.size) * ((e c - e
    # s)[:, None] + (e c + e s)[:, None]). A vector on the diagonal is
    # np.diag's.
    x = np.array([0.3, -1.2, 2.0])
    hessian = ad.hessian(exp_sin)
    assert ad.source(hessian, x).splitlines()[-1] == (
        "    return np.diag(2 * np.exp(x) * np.cos(x))")
    np.testing.assert_allclose(hessian(x), np.diag(2 * np.exp(x) * np.cos(x)),
                               rtol=1e-15)
    np.testing.assert_allclose(hessian(x), numeric_jacobian(
        ad.grad(exp_sin), x), rtol=1e-7)


def abs_times_exp(x):
    return np.sum(np.abs(x) * np.exp(x))


def test_a_diagonal_whose_columns_do_not_cancel_is_one_vector():
    # Summing the tangents as vectors saves nothing here, and the Hessian
    # was np.eye(x.size) * (partial_1[:, None] + (partial_1 + exp_x *
    # abs(x))[:, None]): two n x n products of columns.
    x = np.array([0.3, -1.2, 2.0])
    hessian = ad.hessian(abs_times_exp)
    assert ad.source(hessian, x).split('"""')[2] == (
        "\n    exp_x = np.exp(x)\n"
        "    return np.diag(2 * exp_x * (2 * np.heaviside(x, 1) - 1)"
        " + exp_x * abs(x))\n")
    np.testing.assert_allclose(
        hessian(x), np.diag(np.exp(x) * (2 * np.sign(x) + np.abs(x))),
        rtol=1e-15)
    np.testing.assert_allclose(hessian(x), numeric_jacobian(
        ad.grad(abs_times_exp), x), rtol=1e-7)
    assert hessian(x.astype(np.float32)).dtype == np.float32


def branch_times_exp(x):
    return np.sum(np.where(x > 0, x ** 3, np.sin(x)) * np.exp(x))


def test_a_diagonal_that_reads_a_condition_is_summed_right():
    # the gradient reads the step x > 0, which is no number to write out
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(ad.hessian(branch_times_exp)(x),
                               numeric_jacobian(ad.grad(branch_times_exp), x),
                               rtol=1e-7)


def test_a_jacobian_on_the_diagonal_is_np_diag_of_it_in_its_dtype():
    x = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    for jacobian in (ad.jacobian, ad.jacfwd):
        assert ad.source(jacobian(np.sin), x).splitlines()[-1] == \
            "    return np.diag(np.cos(x))"
        result = jacobian(np.sin)(x)
        assert result.dtype == np.float32
        np.testing.assert_array_equal(result, np.diag(np.cos(x)))


def test_logistic_hessian_keeps_float32():
    W, b = rng.normal(size=3).astype(np.float32), np.float32(0.3)
    result = ad.hessian(logistic)(W, b)
    assert result.dtype == np.float32 and result.shape == (3, 3)
    W64, b64 = W.astype(float), float(b)
    preds = 1 / (1 + np.exp(-(X @ W64 + b64)))
    expected = X.T @ (X * (preds * (1 - preds))[:, None])
    np.testing.assert_allclose(result, expected, rtol=1e-5)


def test_hessian_with_argnums_tuple_is_a_tuple_of_tuples():
    W, b = rng.normal(size=3), 0.3
    blocks = ad.hessian(logistic, argnums=(0, 1))(W, b)
    assert [[np.shape(h) for h in row] for row in blocks] == [
        [(3, 3), (3,)], [(3,), ()]]
    grad_w = ad.grad(logistic, 0)
    grad_b = ad.grad(logistic, 1)
    np.testing.assert_allclose(
        blocks[0][1], numeric_jacobian(lambda v: grad_w(W, float(v)), b),
        rtol=1e-6)
    np.testing.assert_allclose(
        blocks[1][0], numeric_jacobian(lambda v: grad_b(v, b), W),
        rtol=1e-6)
    np.testing.assert_allclose(
        blocks[1][1], numeric_jacobian(lambda v: grad_b(W, float(v)), b),
        rtol=1e-6)


def test_hessian_of_a_dict_of_parameters_is_a_dict_of_dicts():
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=4), "b2": 0.3}
    hessian = ad.hessian(mlp)(params, X)
    assert list(hessian) == list(params)
    assert all(list(row) == list(params) for row in hessian.values())
    assert hessian["W1"]["W1"].shape == (3, 4, 3, 4)
    assert hessian["W1"]["b2"].shape == (3, 4)
    assert hessian["b2"]["W1"].shape == (3, 4)
    gradient = ad.grad(mlp)
    for key in params:
        def grad_at(value, key=key):
            changed = dict(params)
            changed[key] = value
            grads = gradient(changed, X)
            return [grads[row] for row in params]
        numeric = numeric_jacobian(
            lambda v: np.concatenate([np.ravel(g) for g in grad_at(v)]),
            params[key])
        ours = np.concatenate([
            np.reshape(hessian[row][key], (-1,) + np.shape(params[key]))
            for row in params])
        np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-8)


def test_hessian_through_indexing_and_scatter():
    x = np.array([0.3, -0.8, 1.1, 0.5])
    expected = np.zeros((4, 4))
    for i in range(3):
        expected[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        expected[i, i + 1] += -400 * x[i]
        expected[i + 1, i] += -400 * x[i]
        expected[i + 1, i + 1] += 200
    np.testing.assert_allclose(ad.hessian(rosenbrock)(x), expected,
                               rtol=1e-13)


def square_and_cubes(p):
    return p["c"] ** 2 + np.sum(p["b"] ** 3)


def test_a_constant_second_derivative_is_a_float_of_the_arguments_dtype():
    # JAX's dtypes: the Hessian block of c ** 2 is 2.0, not the integer 2.
    b = np.array([0.5, -1.0, 2.0])
    hess = ad.hessian(square_and_cubes)({"c": 1.5, "b": b})
    # (a float beside float64 arrays: a float or an np.float64, one float)
    assert hess["c"]["c"] == 2.0 and type(hess["c"]["c"]) in (float,
                                                              np.float64)
    np.testing.assert_array_equal(hess["b"]["b"], np.diag(6 * b))
    hess = ad.hessian(square_and_cubes)({"c": np.float32(1.5),
                                         "b": b.astype(np.float32)})
    assert hess["c"]["c"] == 2.0 and hess["c"]["c"].dtype == np.float32


def test_jacobian_of_a_vector_function_has_out_then_in_axes():
    x = rng.normal(size=4)
    jac = ad.jacobian(squash)(x)
    assert jac.shape == (4, 4)
    expected = (np.diag((1 - np.tanh(x) ** 2) * np.sum(x ** 2))
                + np.outer(np.tanh(x), 2 * x))
    np.testing.assert_allclose(jac, expected, rtol=1e-13)
    np.testing.assert_allclose(ad.jacfwd(squash)(x), expected, rtol=1e-13)
    np.testing.assert_allclose(ad.jacrev(squash)(x), expected, rtol=1e-13)
    matrix = rng.normal(size=(2, 3))
    jac = ad.jacobian(squash)(matrix)
    assert jac.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(jac, numeric_jacobian(squash, matrix),
                               rtol=1e-7)


def test_jacobian_of_a_dict_to_dict_function_is_a_dict_of_dicts():
    p = {"a": np.array([1.0, 2.0]), "b": np.array([0.5, -1.5])}
    jac = ad.jacobian(to_dict)(p)
    assert list(jac) == ["sum", "prod"]
    np.testing.assert_allclose(jac["sum"]["a"], p["b"], rtol=1e-15)
    np.testing.assert_allclose(jac["sum"]["b"], p["a"], rtol=1e-15)
    np.testing.assert_allclose(jac["prod"]["a"],
                               np.diag(2 * p["a"] * p["b"]), rtol=1e-15)
    np.testing.assert_allclose(jac["prod"]["b"], np.diag(p["a"] ** 2),
                               rtol=1e-15)


def test_jacobian_of_the_gradient_is_the_hessian():
    x = np.array([0.3, -0.8, 1.1, 0.5])
    np.testing.assert_allclose(ad.jacobian(ad.grad(rosenbrock))(x),
                               ad.hessian(rosenbrock)(x), rtol=1e-15)


Params = collections.namedtuple("Params", "w b")


def named_loss(p):
    return np.sum(np.tanh(X @ p.w + p.b) ** 2)


def test_hessian_of_a_namedtuple_and_has_aux():
    p = Params(rng.normal(size=3), 0.2)

    def with_aux(p):
        return named_loss(p), "aux"

    hessian, aux = ad.hessian(with_aux, has_aux=True)(p)
    assert aux == "aux"
    assert isinstance(hessian, Params) and isinstance(hessian.w, Params)
    gradient = ad.grad(named_loss)
    numeric = numeric_jacobian(lambda w: gradient(Params(w, p.b)).w, p.w)
    np.testing.assert_allclose(hessian.w.w, numeric, rtol=1e-6)


def test_jvp_of_array_code_and_hessian_vector_products():
    x, v = rng.normal(size=4), rng.normal(size=4)
    value, tangent = ad.jvp(squash, (x,), (v,))
    np.testing.assert_allclose(value, squash(x), rtol=1e-15)
    np.testing.assert_allclose(tangent, ad.jacobian(squash)(x) @ v,
                               rtol=1e-13)
    _, hvp = ad.jvp(ad.grad(rosenbrock), (x,), (v,))
    np.testing.assert_allclose(hvp, ad.hessian(rosenbrock)(x) @ v,
                               rtol=1e-12)
    W, b = rng.normal(size=3), 0.3
    dW, db = rng.normal(size=3), 0.7
    value, tangent = ad.jvp(logistic, (W, b), (dW, db))
    h = 1e-6
    expected = (logistic(W + h * dW, b + h * db)
                - logistic(W - h * dW, b - h * db)) / (2 * h)
    assert value == pytest.approx(logistic(W, b), rel=1e-14)
    assert tangent == pytest.approx(expected, rel=1e-8)


def test_jvp_source_reads_the_tangents_as_arguments():
    x = np.ones(3)
    function = ad.jvp  # the generated code is shown by ad.source
    assert function is ad.jvp
    text = ad.source(ad._api._cached(squash, 0, False, "jvp"), x, x)
    assert text.splitlines()[0] == "def jvp_squash(x, x_dot):"


def test_jvp_of_the_logistic_loss_is_preds_minus_targets_along_the_logits():
    # As the gradient, forward mode takes the partial derivative of the
    # log-likelihood written linearly in the boolean labels: (p - t) times
    # the logits' tangent, and the two tangents' terms summed first; the
    # sum of their products is their dot product, as a person writes it.
    W, b = rng.normal(size=3), 0.25
    text = ad.source(ad._api._cached(logistic, 0, False, "jvp"), W, b, W, b)
    assert text.splitlines()[-4:] == [
        "    preds = t + 0.5",
        "    value = -np.sum(np.log(preds * LABELS + (0.5 - t) * (1 - LABELS)))",
        "    tangent = (preds - LABELS) @ (b_dot + X @ W_dot)",
        "    return value, tangent"]
    # Where float32 probabilities round to 0 or 1 the loss is inf, as it is
    # by hand, but its tangent stays the finite (p - t) . (X @ v + db); as
    # a ratio of the label probabilities' derivatives it was nan.
    W32 = (40 * rng.normal(size=3)).astype(np.float32)
    v, db = rng.normal(size=3).astype(np.float32), np.float32(0.5)
    with np.errstate(divide="ignore"):
        value, tangent = ad.jvp(logistic32, (W32, np.float32(b)), (v, db))
        # (NumPy computes the value in float64, as 1 - LABELS is an int64
        # array; the tangent takes its value's type, as JAX's does)
        assert value.dtype == logistic32(W32, np.float32(b)).dtype
    preds = sigmoid(X32 @ W32 + np.float32(b))
    assert np.isfinite(tangent) and tangent.dtype == value.dtype
    assert tangent == pytest.approx(np.dot(preds - LABELS, X32 @ v + db),
                                    rel=1e-5)


def test_vjp_of_a_vector_function_is_the_cotangent_times_the_jacobian():
    x, c = rng.normal(size=4), rng.normal(size=4)
    value, pullback = ad.vjp(squash, x)
    np.testing.assert_allclose(value, squash(x), rtol=1e-15)
    (pulled,) = pullback(c)
    np.testing.assert_allclose(pulled, c @ ad.jacobian(squash)(x),
                               rtol=1e-13)
    p = {"a": np.array([1.0, 2.0]), "b": np.array([0.5, -1.5])}
    value, pullback = ad.vjp(to_dict, p)
    (pulled,) = pullback({"sum": 2.0, "prod": np.array([1.0, -1.0])})
    np.testing.assert_allclose(pulled["a"], 2.0 * p["b"]
                               + np.array([1.0, -1.0]) * 2 * p["a"] * p["b"],
                               rtol=1e-15)


def scaled_square_norm(x, k, scale=2.0):
    return scale * np.sum(x ** 2) * k, {"k": k}


def squares_or_first_row(x):
    return np.sum(x ** 2) if x.ndim == 1 else x[0] ** 2


def test_vjp_of_a_number_again_and_where_it_is_no_longer_one():
    # From its second call, vjp of a function that returned a number takes
    # the value and the gradient in one pass; the pullback scales it.
    x = rng.normal(size=4)
    for _ in range(2):
        value, pullback, aux = ad.vjp(scaled_square_norm, x, 3,
                                      has_aux=True)
        assert value == pytest.approx(6.0 * np.sum(x ** 2), rel=1e-15)
        assert aux == {"k": 3}
        by_x, by_k = pullback(0.5)
        np.testing.assert_allclose(by_x, 0.5 * 12.0 * x, rtol=1e-15)
        assert by_k.shape == () and by_k == 0.0  # an integer's: zeros
    with pytest.raises(ad.InputError, match="the cotangent of output 0 has "
                       r"shape \(2,\), but that output has shape \(\)"):
        pullback(np.ones(2))
    # At a matrix, the same function returns a vector: the pullback is the
    # cotangent times its Jacobian.
    for _ in range(2):
        value, pullback = ad.vjp(squares_or_first_row, x)
        assert pullback(2.0)[0] == pytest.approx(4.0 * x, rel=1e-15)
    matrix = rng.normal(size=(2, 3))
    value, pullback = ad.vjp(squares_or_first_row, matrix)
    np.testing.assert_allclose(value, matrix[0] ** 2, rtol=1e-15)
    cotangent = rng.normal(size=3)
    (pulled,) = pullback(cotangent)
    np.testing.assert_allclose(pulled, [2.0 * matrix[0] * cotangent,
                                        np.zeros(3)], rtol=1e-15)


def test_the_gradient_of_a_vector_gradient_is_refused_like_jax():
    with pytest.raises(ad.AutodiffError, match="Gradient only defined for "
                       "scalar-output functions"):
        ad.grad(ad.grad(rosenbrock))(np.ones(3))


A = rng.normal(size=(3, 4))


def by_max(x):
    return np.max(x ** 2, axis=1) * np.sum(x)


def by_concatenate(x):
    return np.concatenate([np.sin(x), x ** 2]) * 2.0


def by_stack(x):
    return np.stack([x, np.cos(x)], axis=1)


def by_cumsum(x):
    return np.cumsum(x ** 3) + np.cumsum(x.reshape(2, 2) ** 2, axis=0).ravel()


def by_matrices(x):
    m = x.reshape(2, 2)
    return (m.T @ np.tanh(m) + np.mean(m, axis=0, keepdims=True)).T


def by_products(x):
    return np.tanh(A.T @ x) @ A.T * np.expand_dims(x, 0)[..., 0]


def by_indexing(x):
    return x[..., ::2] * x[[1, 0, 1]].sum() + x[None, 1:3].sum(axis=0) ** 2


CASES = [(by_max, (3, 4)), (by_concatenate, (3,)), (by_stack, (3,)),
         (by_cumsum, (4,)), (by_matrices, (4,)), (by_products, (3,)),
         (by_indexing, (4,))]


@pytest.mark.parametrize("function, shape", CASES,
                         ids=[f.__name__ for f, _ in CASES])
def test_forward_rules_agree_with_central_differences(function, shape):
    x = rng.normal(size=shape)
    jac = ad.jacobian(function)(x)
    np.testing.assert_allclose(jac, numeric_jacobian(function, x),
                               rtol=1e-6, atol=1e-8)
    v = rng.normal(size=shape)
    _, tangent = ad.jvp(function, (x,), (v,))
    np.testing.assert_allclose(tangent, np.tensordot(jac, v, v.ndim),
                               rtol=1e-12, atol=1e-12)

    def total(y):
        return np.sum(function(y) ** 2)

    gradient = ad.grad(total)
    np.testing.assert_allclose(ad.hessian(total)(x),
                               numeric_jacobian(gradient, x),
                               rtol=1e-6, atol=1e-7)


def test_the_newton_example_converges_with_the_generated_hessian():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "examples" / "newton.py"
    spec = importlib.util.spec_from_file_location("newton_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    W, b = np.zeros(3), 0.0
    for _ in range(8):
        (g_W, g_b) = ad.grad(example.loss, (0, 1))(W, b)
        (H_WW, H_Wb), (H_bW, H_bb) = ad.hessian(example.loss, (0, 1))(W, b)
        H = np.block([[H_WW, H_Wb[:, None]], [H_bW[None, :], H_bb]])
        delta = np.linalg.solve(H, np.append(g_W, g_b))
        W, b = W - delta[:3], b - delta[3]
    gradient = np.append(*ad.grad(example.loss, (0, 1))(W, b))
    assert np.abs(gradient).max() < 1e-9  # quadratic convergence
    text = ad.source(ad.hessian(example.loss), W, b)
    assert text.rstrip().endswith(
        "    partial = 0.25 * (1 - np.tanh(0.5 * (b + np.dot(inputs, W))) "
        "** 2)\n    return np.dot(inputs.T, inputs * partial[:, None])")


def layered(layers, x, scale=0.5):
    hidden = x
    for weights, bias in layers:
        hidden = np.tanh(hidden @ weights + bias)
    return scale * np.sum(hidden ** 2)


def test_hessian_of_nested_lists_of_tuples_with_a_default_and_a_keyword():
    layers = [(rng.normal(size=(3, 2)), rng.normal(size=2)),
              (rng.normal(size=(2, 2)), np.array([0.1, -0.2]))]
    hessian = ad.hessian(layered)(layers, X)
    assert isinstance(hessian, list) and isinstance(hessian[1], tuple)
    assert isinstance(hessian[1][0], list)
    assert hessian[1][0][0][0].shape == (2, 2, 3, 2)  # d2 / dW2 dW1
    assert hessian[1][0][0][1].shape == (2, 2, 2)  # d2 / dW2 db1
    gradient = ad.grad(layered)

    def grad_of_first_weights(w):
        changed = [(w, layers[0][1]), layers[1]]
        return gradient(changed, X)[1][0]

    np.testing.assert_allclose(
        hessian[1][0][0][0], numeric_jacobian(grad_of_first_weights,
                                              layers[0][0]),
        rtol=1e-6, atol=1e-9)
    doubled = ad.hessian(layered)(layers, X, scale=1.0)
    np.testing.assert_allclose(doubled[0][1][1][0], 2 * hessian[0][1][1][0],
                               rtol=1e-14)
    # The printed code keeps the user's default: it is called as they
    # call layered.
    assert ad.source(ad.hessian(layered), layers, X).startswith(
        "def hessian_layered(layers, x, scale=0.5):")


def test_jacobian_with_respect_to_two_arguments_and_aux():
    def model(w, x):
        out = np.tanh(x @ w)
        return out, {"mean": np.mean(out)}

    w = rng.normal(size=3)
    (by_w, by_x), aux = ad.jacobian(model, argnums=(0, 1), has_aux=True)(w, X)
    assert by_w.shape == (6, 3) and by_x.shape == (6, 6, 3)
    np.testing.assert_allclose(aux["mean"], np.mean(np.tanh(X @ w)),
                               rtol=1e-15)
    np.testing.assert_allclose(
        by_w, numeric_jacobian(lambda v: np.tanh(X @ v), w), rtol=1e-7)
    np.testing.assert_allclose(
        by_x, numeric_jacobian(lambda v: np.tanh(v @ w), X), rtol=1e-7,
        atol=1e-10)


def _copied(text, **globals_):
    """The function printed in ``text``, exec'd as a user would paste it."""
    namespace = {"np": np, **globals_}
    exec(compile(text, "<copied>", "exec"), namespace)  # noqa: S102
    return namespace[text.split("(")[0].split()[-1]]


def _moved(**values):
    """Temporarily set this module's globals (the data functions read)."""
    module = globals()
    saved = {k: module[k] for k in values}
    module.update(values)
    return saved


def squash_total(x):
    return np.sum(squash(x) ** 2)


@pytest.mark.parametrize("transform", ["hessian", "jacobian", "jvp"])
def test_code_printed_at_one_size_runs_at_others(transform):
    def printed(function, *args):
        if transform == "jvp":
            chain = ad._api._cached(function, 0, False, "jvp")
            return ad.source(chain, *args, *args)
        return ad.source(getattr(ad, transform)(function), *args)

    vector = squash if transform != "hessian" else squash_total
    small = rng.normal(size=3)
    text_logistic = printed(logistic, small, 0.3)
    text_squash = printed(vector, small)
    text_rosenbrock = printed(rosenbrock, small)
    for n, d in [(7, 3), (1000, 5)]:
        data = np.random.default_rng(n)
        inputs, labels = data.normal(size=(n, d)), data.random(n) > 0.5
        W = data.normal(size=d)
        saved = _moved(X=inputs, LABELS=labels)
        try:
            cases = [(text_logistic, logistic, (W, 0.3)),
                     (text_squash, vector, (W,)),
                     (text_rosenbrock, rosenbrock, (W,))]
            for text, function, args in cases:
                copied = _copied(text, X=inputs, LABELS=labels)
                if transform == "jvp":
                    got = copied(*args, *args)
                    fresh = ad.jvp(function, args, args)
                else:
                    got = copied(*args)
                    fresh = getattr(ad, transform)(function)(*args)
                for mine, theirs in zip(optree.tree_leaves(got),
                                        optree.tree_leaves(fresh)):
                    np.testing.assert_allclose(mine, theirs, rtol=1e-12,
                                               atol=1e-12)
        finally:
            _moved(**saved)


WEIGHTS = np.array([0.5, -1.0, 2.0])


def spread(x):
    return np.sum(np.tanh(x * WEIGHTS) ** 2)


def test_higher_derivatives_of_array_code_with_a_scalar_input():
    x, h = 0.3, 1e-5
    previous = spread
    for order in (1, 2, 3, 4):
        current = ad.derivative(spread, order)
        expected = (previous(x + h) - previous(x - h)) / (2 * h)
        assert current(x) == pytest.approx(expected, rel=1e-7)
        previous = current
    text = ad.source(ad.derivative(spread, 3), x)
    assert text.splitlines()[:2] == [
        "def d3spread_dx3(x):",
        '    """Third derivative of spread with respect to x.']
    # A factor that collecting like terms makes and a temporary holds is
    # read by its name, not computed again (issue 13).
    fourth = ad.source(ad.derivative(spread, 4), x)
    assert "    t = 1 - terms\n" in fourth and fourth.count("1 - terms") == 1


def test_results_follow_the_callers_dict_order_with_one_generated_code():
    hessian = ad.hessian(to_dict_total)
    first = hessian({"a": np.array([1.0, 2.0]), "b": np.array([0.5, -1.5])})
    second = hessian({"b": np.array([0.5, -1.5]), "a": np.array([1.0, 2.0])})
    assert list(first) == ["a", "b"] and list(first["a"]) == ["a", "b"]
    assert list(second) == ["b", "a"] and list(second["b"]) == ["b", "a"]
    np.testing.assert_array_equal(first["a"]["b"], second["a"]["b"])
    assert len({entry.source for entry in hessian.generated.values()}) == 1


def to_dict_total(p):
    return np.sum(p["a"] ** 2 * p["b"]) + np.sum(np.sin(p["a"]))


def test_code_that_reads_its_sizes_is_generated_once_per_rank():
    hessian = ad.hessian(rosenbrock)
    for n in (3, 4, 7):
        x = rng.normal(size=n)
        np.testing.assert_allclose(hessian(x), numeric_jacobian(
            ad.grad(rosenbrock), x), rtol=1e-6, atol=1e-6)
    assert len(hessian.generated) == 1


def sine_and_square_of_sum(x):
    return np.sum(np.sin(x)) + np.sum(x) ** 2


def test_the_tangent_of_a_sum_along_the_identity_is_ones():
    # The sum of the identity's rows is a row of ones: the Hessian of
    # np.sum(x) ** 2 is 2 everywhere, not 2 * np.sum(eye, axis=0).
    x = np.array([0.3, -0.2, 0.9])
    text = ad.source(ad.hessian(sine_and_square_of_sum), x)
    assert text.splitlines()[-2:] == [
        "    size = x.size",
        "    return np.eye(size) * (-np.sin(x))[:, None] + 2 * np.ones(size)"]
    for dtype in (np.float64, np.float32):
        hessian = ad.hessian(sine_and_square_of_sum)(x.astype(dtype))
        assert hessian.dtype == dtype
        np.testing.assert_allclose(hessian, 2 - np.diag(np.sin(x)),
                                   rtol=1e-6 if dtype == np.float32
                                   else 1e-15)
