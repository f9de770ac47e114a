"""Array code: every array operation's gradient against central
differences, for several shapes, with broadcasting against scalars and
size-1 axes. ARRAY_CASES names the products, sums, reshapes and indexing
with constants (test_array_ops.py the rest of the array table, and checks
that the two lists and the table cover each other)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import assert_refused_at, numeric_gradient

RNG = np.random.default_rng(7)


def rand(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 1.5, size=shape)


def f_dot_mv(A, x):
    return np.sum(np.tanh(np.dot(A, x)))


def f_dot_vv(a, b):
    return np.dot(a, b) * np.sin(a[0])


def f_dot_vm(v, M):
    return np.sum(np.dot(v, M) ** 2)


def f_dot_mm(A, B):
    return np.sum(np.log(np.dot(A, B)))


def f_matmul_operator(A, B):
    return np.sum((A @ B) ** 3)


def f_matmul(A, x):
    return np.sum(np.exp(np.matmul(A, x)))


def f_sum_axis(A, b):
    return np.sum(np.sum(A * b, axis=1) ** 2)


def f_sum_keepdims(A, b):
    return np.sum(A / np.sum(A ** 2, axis=0, keepdims=True) + b)


def f_mean(A, b):
    return np.mean(np.sin(A) * b) + np.sum(np.mean(A, axis=0) ** 2)


def f_transpose(A, B):
    return np.sum(np.transpose(A) * B)


def f_T_attribute(A, B):
    return np.sum(np.dot(A.T, B) ** 2)


def f_reshape(A, B):
    return np.sum(np.reshape(A, (3, 2)) * B)


def f_stack(a, b):
    return np.sum(np.stack([a * b, np.sin(a)], axis=1) ** 2)


def f_array(a, b):
    v = np.array([a[0] * b, a[1] ** 2, 3.0])
    return np.sum(v * v)


def f_asarray(a, b):
    return np.sum(np.asarray(a) * b)


def f_expand_dims(a, B):
    return np.sum(np.expand_dims(a, 1) * B)


def f_broadcast_to(a, B):
    return np.sum(np.broadcast_to(np.sin(a), (2, 3)) * B)


def f_copy(a, B):
    return np.sum(np.copy(a) * B.copy())


def f_outer(a, b):
    return np.sum(np.cos(np.outer(a, b)))


def f_vdot(A, B):
    return np.vdot(A, B) ** 2


def f_method_sum(A, b):
    return (A * b).sum() + (A ** 2).sum(axis=0).sum()


def f_method_mean(A, b):
    return (np.exp(A) * b).mean()


def f_method_dot(A, x):
    return np.sum(A.dot(x) ** 2)


def f_method_transpose(A, B):
    return np.sum(A.transpose() * B)


def f_method_reshape(A, b):
    return np.sum(A.reshape(6) * b)


def f_indexing(A, b):
    return A[0, 1] * b + np.sum(A[1:, :] ** 2) + np.sum(A[:, None, 0] * b)


def f_broadcast_size_one(A, b):
    return np.sum(np.tanh(A * b))


def f_where(a, b):
    return np.sum(np.where(a > 1.0, a ** 2, b * a))


# How user code names the operation -> (function, argument shapes); the
# second argument is broadcast against the first. Besides the table's
# spellings, the operations written with syntax.
SYNTAX = {"@", ".T", "x[...]", "broadcasting", "np.where"}
ARRAY_CASES = {
    "np.dot": [(f_dot_mv, (4, 3), (3,)), (f_dot_vv, (3,), (3,)),
               (f_dot_vm, (4,), (4, 2)), (f_dot_mm, (2, 3), (3, 2))],
    "@": [(f_matmul_operator, (2, 3), (3, 4))],
    "np.matmul": [(f_matmul, (2, 3), (3,))],
    "np.sum": [(f_sum_axis, (3, 4), (4,)), (f_sum_keepdims, (3, 2), ())],
    "np.mean": [(f_mean, (3, 2), ())],
    "np.transpose": [(f_transpose, (2, 3), (3, 2))],
    ".T": [(f_T_attribute, (3, 2), (3, 4))],
    "np.reshape": [(f_reshape, (2, 3), (3, 1))],
    "np.stack": [(f_stack, (3,), ())],
    "np.array": [(f_array, (2,), ())],
    "np.asarray": [(f_asarray, (3,), (3,))],
    "np.expand_dims": [(f_expand_dims, (3,), (3, 2))],
    "np.broadcast_to": [(f_broadcast_to, (3,), (2, 3))],
    "np.copy": [(f_copy, (2, 3), (3,))],
    ".copy()": [(f_copy, (2, 3), (3,))],
    "np.outer": [(f_outer, (3,), (2,))],
    "np.vdot": [(f_vdot, (2, 3), (2, 3))],
    ".sum()": [(f_method_sum, (2, 3), (1, 3))],
    ".mean()": [(f_method_mean, (2, 3), (2, 1))],
    ".dot()": [(f_method_dot, (2, 3), (3,))],
    ".transpose()": [(f_method_transpose, (2, 3), (3, 2))],
    ".reshape()": [(f_method_reshape, (2, 3), (6,))],
    "x[...]": [(f_indexing, (3, 2), ())],
    "broadcasting": [(f_broadcast_size_one, (3, 1), (1, 4))],
    "np.where": [(f_where, (5,), (5,))],
}


@pytest.mark.parametrize("function,shape_a,shape_b", [
    pytest.param(*case, id=f"{op}-{case[0].__name__}")
    for op, cases in ARRAY_CASES.items() for case in cases])
def test_array_gradient_matches_central_differences(function, shape_a,
                                                    shape_b):
    args = (rand(*shape_a), rand(*shape_b) if shape_b else 0.8)
    expected = [numeric_gradient(function, args, i) for i in (0, 1)]
    grad_a, grad_b = ad.grad(function, argnums=(0, 1))(*args)
    np.testing.assert_allclose(grad_a, expected[0], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(grad_b, expected[1], rtol=1e-7, atol=1e-9)
    assert np.shape(grad_a) == np.shape(args[0])
    assert np.shape(grad_b) == np.shape(args[1])


def test_a_gradient_is_summed_back_to_a_scalar():
    args = (rand(3, 1), 0.7)
    grad = ad.grad(f_broadcast_size_one, argnums=1)(*args)
    assert np.shape(grad) == ()
    assert grad == pytest.approx(
        numeric_gradient(f_broadcast_size_one, args, 1), rel=1e-7)


def unused_argument(a, b):
    return np.sum(a ** 2)


def constant_gradient(a, b):
    return np.sum(a) * 3.0 + b


def test_unused_and_constant_gradients_have_the_argument_shape():
    a = rand(2, 3)
    grad_a, grad_b = ad.grad(unused_argument, (0, 1))(a, rand(4))
    np.testing.assert_allclose(grad_a, 2 * a)
    assert grad_b.shape == (4,) and not grad_b.any()
    grad_a, grad_b = ad.grad(constant_gradient, (0, 1))(a, 1.5)
    np.testing.assert_array_equal(grad_a, np.full((2, 3), 3.0))
    assert grad_b == 1.0


def cancels_to_zero(W, b):
    a = W - W
    return np.sum(np.dot(X_DATA, a) + b)


X_DATA = np.arange(12.0).reshape(4, 3)


def test_arrays_that_cancel_keep_their_shape():
    # Found by the property tests: W - W is an array of zeros, so the sum
    # runs over 4 elements and d/db is 4, not 1.
    grad_W, grad_b = ad.grad(cancels_to_zero, (0, 1))(np.ones(3), 0.5)
    assert grad_b == 4.0
    np.testing.assert_array_equal(grad_W, np.zeros(3))


def two_shared_squares(W, b):
    a = W ** 3 - np.logaddexp(b, b) ** 3
    z = X_DATA @ a + b
    return np.sum(z ** 3 - np.logaddexp(b, b) ** 3)


def test_generation_is_deterministic_with_several_shared_squares():
    # Found by the property tests: temporaries for two squares were written
    # in an order that changed between generations.
    derivative = ad.grad(two_shared_squares, (0, 1))
    W = np.array([0.4, -0.3, 0.8])
    first = ad.source(derivative, W, 0.35)
    for _ in range(3):
        derivative.generated.clear()
        assert ad.source(derivative, W, 0.35) == first
    assert "W_sq = W ** 2" in first


Y_ONE_HOT = np.eye(3)[[0, 2, 1, 1, 0, 2, 2, 1]]
X_BATCH = np.random.default_rng(3).standard_normal((8, 4))


def mlp_logits(params, x):
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    return hidden @ params["W2"] + params["b2"]


def mlp_cross_entropy(params):
    logits = mlp_logits(params, X_BATCH)
    log_norm = np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(Y_ONE_HOT * (logits - log_norm), axis=1)) + \
        1e-3 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


def test_a_two_layer_network_with_softmax_cross_entropy():
    from autodiff_ast.testing import check_grads
    rng = np.random.default_rng(1)
    params = {"W1": rng.standard_normal((4, 5)), "b1": np.zeros(5),
              "W2": rng.standard_normal((5, 3)), "b2": np.zeros(3)}
    check_grads(mlp_cross_entropy, (params,))
    text = ad.source(ad.value_and_grad(mlp_cross_entropy), params)
    # The forward pass is computed once, named as the user named it, and
    # the log-sum-exp is shifted by its maximum.
    assert "    hidden = np.tanh(X_BATCH @ params_W1 + params_b1)\n" in text
    assert "    logits = hidden @ params_W2 + params_b2\n" in text
    assert "    logits_max = np.max(logits, axis=1, keepdims=True)\n" \
        in text
    assert text.count("np.tanh") == 1 and text.count("np.exp") == 1
    large = {key: value * 300 for key, value in params.items()}
    value, grads = ad.value_and_grad(mlp_cross_entropy)(large)
    assert np.isfinite(value) and all(np.isfinite(g).all()
                                      for g in grads.values())


def row_sums_scaled(W, b):
    z = np.sum(X_DATA * W, axis=1) + b
    return np.sum(z / (2 + np.cos(b)))


def test_a_reduction_whose_adjoint_is_the_same_for_every_element():
    # Found by the property tests: the adjoint of np.sum(..., axis=1) was
    # a scalar, and putting the reduced axis back failed on it.
    args = (np.array([0.4, -0.3, 0.8]), 0.35)
    grad_W, grad_b = ad.grad(row_sums_scaled, (0, 1))(*args)
    np.testing.assert_allclose(grad_W, numeric_gradient(row_sums_scaled,
                                                        args, 0), rtol=1e-7)
    assert grad_b == pytest.approx(numeric_gradient(row_sums_scaled, args, 1),
                                   rel=1e-7)


def regularized(W, lam):
    fit = np.sum(W ** 2)
    if lam > 0:
        return fit + np.sqrt(lam) * np.sum(np.abs(W))
    return fit


def test_branches_on_scalars_become_if_statements():
    # np.where would evaluate sqrt(lam) at lam < 0 too, with a warning
    # (pytest turns warnings into errors).
    W = np.array([1.0, -2.0])
    derivative = ad.value_and_grad(regularized, (0, 1))
    value, (grad_W, grad_lam) = derivative(W, -1.0)
    assert value == 5.0 and grad_W.tolist() == [2.0, -4.0] and grad_lam == 0
    value, (grad_W, grad_lam) = derivative(W, 0.25)
    assert grad_W.tolist() == [2.5, -4.5] and grad_lam == 3.0
    text = ad.source(derivative, W, 0.25)
    assert "    if lam > 0:\n" in text and "np.where" not in text
    assert "    return value, (grad_W, 0.0)\n" in text


def himmelblau_on_a_point(p):
    x, y = p
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def three_from_a_point(p):
    x, y, z = p
    return x * y * z


def test_an_array_unpacks_into_its_rows():
    # As Python unpacks it; it was an internal exception (NeedsArrays).
    np.testing.assert_array_equal(
        ad.grad(himmelblau_on_a_point)(np.array([1.0, 2.0])), [-36, -32])
    np.testing.assert_array_equal(
        ad.hessian(himmelblau_on_a_point)(np.array([3.0, 2.0])),
        [[74, 20], [20, 34]])
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(three_from_a_point)(np.array([1.0, 2.0]))
    assert info.value.msg == ("cannot unpack 2 rows of an array of shape "
                              "(2,) into 3 names")
    assert info.value.lineno == three_from_a_point.__code__.co_firstlineno + 1


def filled_after_another_name(x):
    y = x * 1.0
    z = y
    y[0] = 0.0
    return np.sum(y ** 2) + np.sum(z)


def swapped_items(x):
    y = x.copy()
    y[0], y[1] = y[1], y[0]
    return np.sum(y * np.arange(3.0))


def test_an_array_python_made_new_is_filled_with_its_other_names():
    # x * 1.0 is a new array in Python, equal to x (test_user_code_physics
    # fills such arrays); swapped items are read before either is stored.
    x = np.array([0.3, -0.7, 1.2])
    np.testing.assert_array_equal(ad.grad(swapped_items)(x), [1.0, 0.0, 2.0])
    # Another name for it (z = y) sees the change, as in NumPy: z is the
    # filled y, x with a zero in front.
    np.testing.assert_allclose(ad.grad(filled_after_another_name)(x),
                               [0.0, 2 * x[1] + 1, 2 * x[2] + 1],
                               rtol=1e-15)


def weighted_terms(x):
    return np.sum(np.stack([x * w for w in np.linspace(0, 1, 3)]))


def squared_items(x):
    return np.sum(np.array([xi ** 2 for xi in x]))


def test_a_comprehension_over_the_rows_of_an_array_is_written_out():
    # As Python iterates an array; the code checks the rows it was written
    # for.
    assert ad.grad(weighted_terms)(0.7) == pytest.approx(1.5, rel=1e-15)
    x = np.array([0.3, -0.7, 1.2])
    np.testing.assert_allclose(ad.grad(squared_items)(x), 2 * x, rtol=1e-15)
    namespace: dict = {"np": np}
    exec(ad.source(ad.grad(squared_items), x), namespace)
    with pytest.raises(ValueError, match="generated for x of shape"):
        namespace["grad_squared_items"](np.ones(4))


def padded_with_a_list(x):
    return np.sum(np.concatenate([[1.0], x]) ** 2) + np.sum(
        np.stack([x, [1.0, 2.0]]) ** 2)


def test_a_list_of_numbers_among_arrays_is_the_array_it_lists():
    # It said "[1] is not a number".
    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(ad.grad(padded_with_a_list)(x), 4 * x,
                               rtol=1e-15)


def shape_checked(x):
    assert x.shape == (3,), "x must hold 3 numbers"
    return np.sum(x ** 2)


def value_checked(x):
    assert np.all(x > 0)
    return np.sum(np.log(x))


def test_asserts_on_shapes_are_decided_when_the_code_is_generated():
    # (This file's asserts are rewritten by pytest: the function is still
    # read from it, not refused as edited.)
    x = np.array([0.3, 0.7, 1.2])
    np.testing.assert_array_equal(ad.grad(shape_checked)(x), 2 * x)
    with pytest.raises(AssertionError, match="x must hold 3 numbers"):
        ad.grad(shape_checked)(np.ones(4))
    assert_refused_at(
        lambda: ad.grad(value_checked)(x), value_checked, 1,
        "assert on values computed from the arguments is not supported: a "
        "derivative cannot check them; assert on shapes, sizes or constants, "
        "or check before calling")


# -- np.empty, np.rot90, np.ediff1d -------------------------------------------

def empty_rows_filled(x):
    y = np.empty((2, x.shape[0]))
    y[0] = x ** 2
    y[1] = np.sin(x)
    return np.sum(y * x)


def empty_items_filled(x0):
    y = np.empty((3,), dtype=float)
    y[0] = x0
    y[1] = 2 * x0
    y[2] = x0 ** 2
    return np.sum(y ** 2)


def test_an_empty_array_filled_by_hand():
    x = np.array([0.3, -1.1, 0.8])
    np.testing.assert_allclose(ad.grad(empty_rows_filled)(x),
                               3 * x ** 2 + np.sin(x) + x * np.cos(x),
                               rtol=1e-14)
    assert ad.grad(empty_items_filled)(0.7) == pytest.approx(
        2 * 0.7 + 8 * 0.7 + 4 * 0.7 ** 3, rel=1e-14)


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (0, 2), (-1, 1)])
def test_rot90_against_central_differences(k, axes):
    t = rand(2, 3, 4)
    weights = rand(*np.rot90(t, k, axes).shape)

    def f(t):
        return np.sum(np.rot90(t, k, axes) * weights) + np.sum(
            np.rot90(t ** 2, k=k, axes=axes)[0])
    np.testing.assert_allclose(ad.grad(f)(t), numeric_gradient(f, (t,), 0),
                               rtol=1e-7, atol=1e-9)


def quarter_turned(m):
    return np.sum(np.rot90(m) * np.arange(12.0).reshape(4, 3))


def test_a_quarter_turn_is_a_flip_and_a_transpose():
    # the gradient is the weights turned back: np.rot90(w, -1)
    np.testing.assert_array_equal(
        ad.grad(quarter_turned)(rand(3, 4)),
        np.rot90(np.arange(12.0).reshape(4, 3), -1))


def differences_with_ends(m):
    steps = np.ediff1d(m ** 2, to_end=[1.0, m[1, 1]], to_begin=np.sin(m[0]))
    return np.sum(steps * np.arange(17.0))


def test_ediff1d_with_both_ends():
    m = rand(3, 4)
    np.testing.assert_allclose(
        ad.grad(differences_with_ends)(m),
        numeric_gradient(differences_with_ends, (m,), 0), rtol=1e-7)


# -- np.tri, np.diagflat, ravel(order='F') and NumPy 2's array-API names -----

def causal_energy(m):
    return np.sum(np.tri(3, 4, -1) * m ** 2)


def ravelled_by_columns(m):
    return np.sum(np.ravel(m, order="F") * np.arange(12.0)) + np.sum(
        m.ravel("F")[:3] ** 2)


def array_api_names(m):
    rows = np.unstack(np.matrix_transpose(m), axis=0)
    return (np.sum(np.vecdot(m, np.sin(m), axis=0) ** 2)
            + np.sum(rows[1] * rows[3])
            + np.sum(np.cumulative_sum(m, axis=1, include_initial=True) ** 2)
            + np.sum(np.diagflat(m[0], 1) ** 2))


def test_a_causal_mask_is_written_as_called():
    m = rand(3, 4)
    np.testing.assert_array_equal(ad.grad(causal_energy)(m),
                                  2 * m * np.tri(3, 4, -1))
    assert "np.tri(3, 4, k=-1)" in ad.source(ad.grad(causal_energy), m)


@pytest.mark.parametrize("f", [ravelled_by_columns, array_api_names])
def test_more_numpy_functions_against_central_differences(f):
    m = rand(3, 4)
    np.testing.assert_allclose(ad.grad(f)(m), numeric_gradient(f, (m,), 0),
                               rtol=1e-7)
    np.testing.assert_allclose(ad.hessian(f)(m),
                               ad.jacobian(ad.grad(f))(m), rtol=1e-10,
                               atol=1e-12)


def read_in_memory_order(m):
    return np.sum(np.ravel(m, order="K") ** 2)


def test_ravel_in_memory_order_is_refused():
    assert_refused_at(
        lambda: ad.grad(read_in_memory_order)(rand(2, 2)),
        read_in_memory_order, 1,
        "order='K' reads the elements in the order they lie in memory, "
        "which a derivative does not know: use order='C' or order='F'")


# -- reductions by a ufunc ----------------------------------------------------

def ufunc_reductions(m):
    return (np.sum(np.add.reduce(m) ** 2)
            + np.sum(np.multiply.reduce(m, axis=1, keepdims=True))
            + np.sum(np.maximum.reduce(m) * np.minimum.reduce(m, axis=None))
            + np.sum(np.logaddexp.reduce(m, axis=1)))


def test_ufunc_reductions_are_the_functions_over_axis_0():
    m = rand(3, 4)
    np.testing.assert_allclose(ad.grad(ufunc_reductions)(m),
                               numeric_gradient(ufunc_reductions, (m,), 0),
                               rtol=1e-7)
    np.testing.assert_allclose(ad.grad(lambda m: np.sum(np.add.reduce(m)
                                                        * np.arange(4.0)))(m),
                               np.broadcast_to(np.arange(4.0), (3, 4)))


def test_logaddexp_reduce_is_stable():
    # softmax of 1000 x: finite, as SciPy's logsumexp
    x = np.array([1.0, 2.0, 3.0])
    expected = np.exp(1000 * (x - 3.0)) / np.sum(np.exp(1000 * (x - 3.0)))
    np.testing.assert_allclose(
        ad.grad(lambda x: np.logaddexp.reduce(1000 * x))(x), 1000 * expected)


# -- np.linspace between arrays, with its step --------------------------------

def grid_between_arrays(x):
    samples = np.linspace(x[:2], x[2:4], 3, axis=-1)
    weights = np.arange(6.0).reshape(2, 3)
    return np.sum(samples ** 2 * weights)


def grid_step(x):
    samples, step = np.linspace(x[1], x[0], 5, endpoint=False, retstep=True)
    return np.sum(samples ** 2) + step ** 3


def one_sample_step(x):
    return np.linspace(0.0, x[0], 1, retstep=True)[1]


@pytest.mark.parametrize("f", [grid_between_arrays, grid_step])
def test_linspace_between_arrays_and_its_step(f):
    x = rand(4)
    np.testing.assert_allclose(ad.grad(f)(x), numeric_gradient(f, (x,), 0),
                               rtol=1e-7, atol=1e-9)


def test_a_step_of_one_sample_is_refused():
    assert_refused_at(
        lambda: ad.grad(one_sample_step)(rand(2)), one_sample_step, 1,
        "np.linspace of 1 sample(s) has no step (NumPy's is nan): ask for "
        "more samples")
