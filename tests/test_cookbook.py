"""JAX's "Autodiff Cookbook" and its autodiff tutorials, in NumPy.

Each example is written as a JAX user would write it, with ``np`` for
``jnp`` and ``ad`` for ``jax``, and asserts JAX's semantics: values against
closed forms or central differences, and the output structure JAX gives
(tuples for tuple ``argnums``, dicts of dicts for dict-to-dict Jacobians,
``out.shape + in.shape`` blocks, ``(out, tangent_out)`` from jvp,
``(out, vjp_fun)`` from vjp, float32 kept float32).
"""

from __future__ import annotations

import importlib.util
import pathlib
from collections import namedtuple

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient


def numeric_jacobian(f, x, step=1e-6):
    """d f(x) / d x for an array ``x`` by fourth-order central differences,
    laid out as JAX's Jacobians: ``f(x).shape + x.shape``."""
    x = np.asarray(x, dtype=np.float64)
    columns = np.zeros(np.shape(f(x)) + x.shape)
    for position in np.ndindex(x.shape):
        h = step * max(1.0, abs(float(x[position])))

        def at(offset):
            moved = x.copy()
            moved[position] += offset
            return np.asarray(f(moved), dtype=np.float64)

        columns[(...,) + position] = (-at(2 * h) + 8 * at(h) - 8 * at(-h)
                                      + at(-2 * h)) / (12 * h)
    return columns


# -- the cookbook's logistic regression -------------------------------------
# examples/logistic_regression.py is the cookbook's code (its data float32);
# the parameters here are float64, so every product is computed in float64.

EXAMPLE = pathlib.Path(__file__).parent.parent / "examples" / \
    "logistic_regression.py"
spec = importlib.util.spec_from_file_location("cookbook_example", EXAMPLE)
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
sigmoid, predict, loss, loss2 = (example.sigmoid, example.predict,
                                 example.loss, example.loss2)
inputs, targets = example.inputs, example.targets


def loss_with_preds(W, b):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs)), preds


W = np.array([0.46, -0.82, 1.23])
b = -0.37


def preds_at(W, b):
    return 1 / (1 + np.exp(-(inputs @ W + b)))


def test_grad_of_tanh_to_third_order():
    # d/dx tanh = sech^2, then -2 tanh sech^2, then 4 tanh^2 sech^2 - 2 sech^4
    t, s2 = np.tanh(2.0), 1 / np.cosh(2.0) ** 2
    assert ad.grad(np.tanh)(2.0) == pytest.approx(s2, rel=1e-14)
    assert ad.grad(ad.grad(np.tanh))(2.0) == pytest.approx(-2 * t * s2,
                                                           rel=1e-14)
    third = ad.grad(ad.grad(ad.grad(np.tanh)))(2.0)
    assert third == pytest.approx(4 * t * t * s2 - 2 * s2 * s2, rel=1e-13)
    # the cookbook's printed float32 values
    assert third == pytest.approx(0.25265405, rel=1e-7)


def sum_logistic(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


def test_grad_of_sum_logistic_at_arange():
    # the tutorial's first example: grad(sum_logistic)(jnp.arange(3.))
    x_small = np.arange(3.)
    s = 1 / (1 + np.exp(-x_small))
    derivative = ad.grad(sum_logistic)(x_small)
    np.testing.assert_allclose(derivative, s * (1 - s), rtol=1e-14)
    # JAX's printed float32 values, to their 7 digits
    np.testing.assert_allclose(derivative, [0.25, 0.19661193, 0.10499357],
                               rtol=5e-7)
    eps = 1e-4
    first_finite_differences = [
        (sum_logistic(x_small + eps * v) - sum_logistic(x_small - eps * v))
        / (2 * eps) for v in np.eye(3)]
    np.testing.assert_allclose(derivative, first_finite_differences,
                               rtol=1e-8)
    x32 = np.arange(3., dtype=np.float32)
    assert ad.grad(sum_logistic)(x32).dtype == np.float32


def test_logistic_gradients_with_argnums():
    residual = preds_at(W, b) - targets
    W_grad = ad.grad(loss)(W, b)
    assert W_grad.shape == (3,) and W_grad.dtype == np.float64
    np.testing.assert_allclose(W_grad, inputs.T @ residual, rtol=1e-12)
    W_grad = ad.grad(loss, argnums=0)(W, b)
    np.testing.assert_allclose(W_grad, inputs.T @ residual, rtol=1e-12)
    b_grad = ad.grad(loss, 1)(W, b)
    assert np.ndim(b_grad) == 0
    assert b_grad == pytest.approx(np.sum(residual), rel=1e-12)
    pair = ad.grad(loss, (0, 1))(W, b)
    assert isinstance(pair, tuple) and len(pair) == 2
    np.testing.assert_allclose(pair[0], inputs.T @ residual, rtol=1e-12)
    assert pair[1] == pytest.approx(np.sum(residual), rel=1e-12)
    single = ad.grad(loss, (1,))(W, b)
    assert isinstance(single, tuple) and len(single) == 1
    assert single[0] == pytest.approx(np.sum(residual), rel=1e-12)


def test_checking_against_numerical_differences():
    # the cookbook's check: a centred difference in b, and W's gradient
    # along a unit vector against a difference in that direction
    eps = 1e-4
    b_grad_numerical = (loss(W, b + eps / 2.) - loss(W, b - eps / 2.)) / eps
    assert ad.grad(loss, 1)(W, b) == pytest.approx(b_grad_numerical,
                                                   rel=1e-7)
    vec = np.array([0.3, -1.1, 0.6])
    unitvec = vec / np.sqrt(np.vdot(vec, vec))
    W_grad_numerical = (loss(W + eps / 2. * unitvec, b)
                        - loss(W - eps / 2. * unitvec, b)) / eps
    assert np.vdot(ad.grad(loss)(W, b), unitvec) == pytest.approx(
        W_grad_numerical, rel=1e-7)


def test_value_and_grad():
    loss_value, Wb_grad = ad.value_and_grad(loss, (0, 1))(W, b)
    assert loss_value == pytest.approx(loss(W, b), rel=1e-14)
    assert isinstance(Wb_grad, tuple) and len(Wb_grad) == 2
    np.testing.assert_allclose(Wb_grad[0], numeric_gradient(loss, (W, b), 0),
                               rtol=1e-8)
    assert Wb_grad[1] == pytest.approx(central_difference(loss, (W, b), 1),
                                       rel=1e-8)


def test_value_and_grad_with_aux():
    (value, preds), W_grad = ad.value_and_grad(loss_with_preds,
                                               has_aux=True)(W, b)
    assert value == pytest.approx(loss(W, b), rel=1e-14)
    np.testing.assert_allclose(preds, preds_at(W, b), rtol=1e-14)
    np.testing.assert_allclose(W_grad, inputs.T @ (preds_at(W, b) - targets),
                               rtol=1e-12)
    (value, preds), (W_grad, b_grad) = ad.value_and_grad(
        loss_with_preds, (0, 1), has_aux=True)(W, b)
    assert b_grad == pytest.approx(np.sum(preds_at(W, b) - targets),
                                   rel=1e-12)
    W_grad, preds = ad.grad(loss_with_preds, has_aux=True)(W, b)
    assert preds.shape == (4,)
    np.testing.assert_allclose(W_grad, inputs.T @ (preds - targets),
                               rtol=1e-12)


def test_gradient_of_a_dict_of_parameters():
    grads = ad.grad(loss2)({'W': W, 'b': b})
    assert isinstance(grads, dict) and list(grads) == ['W', 'b']
    W_grad, b_grad = ad.grad(loss, (0, 1))(W, b)
    np.testing.assert_allclose(grads['W'], W_grad, rtol=1e-14)
    assert grads['b'] == pytest.approx(b_grad, rel=1e-14)


Params = namedtuple("Params", ["W", "b"])


def namedtuple_loss(params):
    preds = predict(params.W, params.b, inputs)
    return -np.sum(np.log(preds * targets + (1 - preds) * (1 - targets)))


def nested_loss(params):
    layer = params['layers'][0]
    scale, offset = params['scale']
    hidden = np.tanh(np.dot(inputs, layer.W) + layer.b)
    return np.sum(hidden * scale) + offset ** 2 * params['layers'][1]


def test_gradient_of_namedtuples_and_nested_pytrees():
    grads = ad.grad(namedtuple_loss)(Params(W, b))
    assert type(grads) is Params
    np.testing.assert_allclose(grads.W, inputs.T @ (preds_at(W, b) - targets),
                               rtol=1e-12)
    assert grads.b == pytest.approx(np.sum(preds_at(W, b) - targets),
                                    rel=1e-12)
    params = {'layers': [Params(W, b), 1.5], 'scale': (0.5, 2.0)}
    grads = ad.grad(nested_loss)(params)
    assert list(grads) == ['layers', 'scale']
    assert isinstance(grads['layers'], list) and len(grads['layers']) == 2
    assert type(grads['layers'][0]) is Params
    assert isinstance(grads['scale'], tuple)
    expected = numeric_gradient(nested_loss, (params,), 0)
    np.testing.assert_allclose(grads['layers'][0].W, expected['layers'][0].W,
                               rtol=1e-8)
    for got, want in [(grads['layers'][0].b, expected['layers'][0].b),
                      (grads['layers'][1], 4.0),
                      (grads['scale'][0], expected['scale'][0]),
                      (grads['scale'][1], 2 * 2.0 * 1.5)]:
        assert got == pytest.approx(want, rel=1e-8)


def test_float32_gradients_stay_float32():
    W32, b32 = W.astype(np.float32), np.float32(b)
    W_grad, b_grad = ad.grad(loss, (0, 1))(W32, b32)
    assert W_grad.dtype == np.float32
    assert isinstance(b_grad, np.float32)
    np.testing.assert_allclose(W_grad, ad.grad(loss)(W, b), rtol=1e-5)
    assert b_grad == pytest.approx(ad.grad(loss, 1)(W, b), rel=1e-5)
    assert isinstance(ad.grad(np.tanh)(np.float32(2.0)), np.float32)
    H = ad.hessian(loss)(W32, b32)
    assert H.dtype == np.float32 and H.shape == (3, 3)


# -- Hessians ----------------------------------------------------------------

def test_hessian_of_the_logistic_loss():
    p = preds_at(W, b)
    curvature = p * (1 - p)
    H = ad.hessian(loss)(W, b)
    assert H.shape == (3, 3)
    np.testing.assert_allclose(H, inputs.T @ (inputs * curvature[:, None]),
                               rtol=1e-12)
    blocks = ad.hessian(loss, (0, 1))(W, b)
    assert isinstance(blocks, tuple) and len(blocks) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in blocks)
    (WW, Wb), (bW, bb) = blocks
    assert (WW.shape, Wb.shape, bW.shape, np.shape(bb)) == (
        (3, 3), (3,), (3,), ())
    np.testing.assert_allclose(WW, H, rtol=1e-12)
    np.testing.assert_allclose(Wb, inputs.T @ curvature, rtol=1e-12)
    np.testing.assert_allclose(bW, inputs.T @ curvature, rtol=1e-12)
    assert bb == pytest.approx(np.sum(curvature), rel=1e-12)


def test_hessian_of_a_dict_of_parameters_is_a_dict_of_dicts():
    H = ad.hessian(loss2)({'W': W, 'b': b})
    assert list(H) == ['W', 'b']
    assert all(list(row) == ['W', 'b'] for row in H.values())
    assert (H['W']['W'].shape, H['W']['b'].shape, H['b']['W'].shape,
            np.shape(H['b']['b'])) == ((3, 3), (3,), (3,), ())
    (WW, Wb), (_, bb) = ad.hessian(loss, (0, 1))(W, b)
    np.testing.assert_allclose(H['W']['W'], WW, rtol=1e-12)
    np.testing.assert_allclose(H['W']['b'], Wb, rtol=1e-12)
    np.testing.assert_allclose(H['b']['W'], Wb, rtol=1e-12)
    assert H['b']['b'] == pytest.approx(bb, rel=1e-12)


def test_hessian_as_jacfwd_of_jacrev_and_of_grad():
    # the cookbook's `def hessian(f): return jacfwd(jacrev(f))`
    def f(x):
        return np.dot(x, x)

    x = np.array([1., 2., 3.])
    for H in (ad.hessian(f)(x), ad.jacfwd(ad.jacrev(f))(x),
              ad.jacfwd(ad.grad(f))(x), ad.jacobian(ad.grad(f))(x)):
        np.testing.assert_array_equal(H, 2 * np.eye(3))


def test_higher_derivatives_of_a_polynomial():
    def f(x):
        return x ** 3 + 2 * x ** 2 - 3 * x + 1

    dfdx = ad.grad(f)
    d2fdx = ad.grad(dfdx)
    d3fdx = ad.grad(d2fdx)
    d4fdx = ad.grad(d3fdx)
    assert [dfdx(1.), d2fdx(1.), d3fdx(1.), d4fdx(1.)] == [4., 10., 6., 0.]


# -- Jacobians ---------------------------------------------------------------

def f_of_W(W):
    return predict(W, b, inputs)


def test_jacfwd_and_jacrev_agree_on_a_vector_function():
    p = preds_at(W, b)
    expected = (p * (1 - p))[:, None] * inputs
    J_fwd = ad.jacfwd(f_of_W)(W)
    J_rev = ad.jacrev(f_of_W)(W)
    assert J_fwd.shape == J_rev.shape == (4, 3)
    np.testing.assert_allclose(J_fwd, expected, rtol=1e-12)
    np.testing.assert_allclose(J_rev, expected, rtol=1e-12)
    np.testing.assert_allclose(ad.jacobian(f_of_W)(W), J_rev, rtol=1e-15)
    np.testing.assert_allclose(J_rev, numeric_jacobian(f_of_W, W), rtol=1e-8)


def test_hessian_of_a_vector_function():
    # JAX's hessian is jacfwd(jacrev(f)): out.shape + in.shape + in.shape
    p = preds_at(W, b)
    third = p * (1 - p) * (1 - 2 * p)
    expected = third[:, None, None] * inputs[:, :, None] * inputs[:, None, :]
    H = ad.hessian(f_of_W)(W)
    assert H.shape == (4, 3, 3)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ad.jacfwd(ad.jacrev(f_of_W))(W), expected,
                               rtol=1e-12, atol=1e-15)
    blocks = ad.hessian(lambda W, b: predict(W, b, inputs), (0, 1))(W, b)
    assert [[block.shape for block in row] for row in blocks] == [
        [(4, 3, 3), (4, 3)], [(4, 3), (4,)]]
    np.testing.assert_allclose(blocks[0][0], expected, rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(blocks[0][1], third[:, None] * inputs,
                               rtol=1e-12)
    np.testing.assert_allclose(blocks[1][1], third, rtol=1e-12)
    H32 = ad.hessian(f_of_W)(W.astype(np.float32))
    assert H32.dtype == np.float32
    np.testing.assert_allclose(H32, expected, rtol=2e-5, atol=1e-6)


def test_hessian_of_a_tuple_of_outputs():
    def two(x):
        return np.sum(x ** 3), np.sum(np.sin(x))

    x = np.array([1.0, 2.0])
    cubes, sines = ad.hessian(two)(x)
    np.testing.assert_allclose(cubes, np.diag(6 * x), rtol=1e-15)
    np.testing.assert_allclose(sines, np.diag(-np.sin(x)), rtol=1e-15)
    H, aux = ad.hessian(lambda W: (predict(W, b, inputs), "tag"),
                        has_aux=True)(W)
    assert aux == "tag" and H.shape == (4, 3, 3)
    np.testing.assert_allclose(H, ad.hessian(f_of_W)(W), rtol=1e-15)


def test_hessian_of_a_dict_output_of_a_dict_input():
    # JAX: output tree, then input tree, then input tree again
    def g(p):
        return {'a': np.sum(p['u'] ** 2 * p['v']), 'b': p['u'] * p['v']}

    u = np.array([0.3, -0.7, 1.1])
    H = ad.hessian(g)({'u': u, 'v': 2.0})
    assert list(H) == ['a', 'b']
    assert all(list(H[k]) == ['u', 'v'] and all(
        list(H[k][i]) == ['u', 'v'] for i in 'uv') for k in 'ab')
    np.testing.assert_array_equal(H['a']['u']['u'], 4.0 * np.eye(3))
    np.testing.assert_array_equal(H['a']['u']['v'], 2 * u)
    np.testing.assert_array_equal(H['a']['v']['u'], 2 * u)
    assert H['a']['v']['v'] == 0.0
    np.testing.assert_array_equal(H['b']['u']['u'], np.zeros((3, 3, 3)))
    np.testing.assert_array_equal(H['b']['u']['v'], np.eye(3))
    np.testing.assert_array_equal(H['b']['v']['u'], np.eye(3))
    np.testing.assert_array_equal(H['b']['v']['v'], np.zeros(3))


def cube(x):
    return x ** 3


def test_hessian_of_elementwise_code_at_an_array_has_jaxs_shape():
    # an elementwise map of n numbers: n x n x n, f'' where i == j == k
    x = np.array([0.3, -0.7, 1.1])
    diagonal = np.zeros((3, 3, 3))
    diagonal[np.arange(3), np.arange(3), np.arange(3)] = 6 * x
    for hessian in (ad.hessian, lambda f: ad.jacfwd(ad.jacrev(f)),
                    lambda f: ad.jacobian(ad.jacobian(f))):
        np.testing.assert_array_equal(hessian(cube)(x), diagonal)
    t = np.tanh(x)
    diagonal[np.arange(3), np.arange(3), np.arange(3)] = -2 * t * (1 - t ** 2)
    np.testing.assert_allclose(ad.hessian(np.tanh)(x), diagonal, rtol=1e-14,
                               atol=1e-16)
    np.testing.assert_allclose(ad.jacobian(np.tanh)(x), np.diag(1 - t ** 2),
                               rtol=1e-14, atol=1e-16)
    # the code that answers at an array, which ad.source shows for one
    assert ad.source(ad.jacobian(np.tanh), x) == '''\
def jacobian_tanh(x):
    """Jacobian of tanh with respect to x.

    tanh is np.tanh.
    Generated by autodiff_ast for x: float64[N].
    """
    return np.diag(1 - np.tanh(x) ** 2)
'''
    assert ad.hessian(cube)(0.5) == 3.0  # at a number, the number

    def scaled(x, y):
        return x ** 2 * y

    (xx, xy), (yx, yy) = ad.hessian(scaled, (0, 1))(x, 2.0)
    np.testing.assert_array_equal(xx, np.einsum('ij,jk->ijk', np.eye(3),
                                                4.0 * np.eye(3)))
    np.testing.assert_array_equal(xy, np.diag(2 * x))
    np.testing.assert_array_equal(yx, np.diag(2 * x))
    np.testing.assert_array_equal(yy, np.zeros(3))


def curve(t):
    return np.array([np.cos(t), np.sin(t), t ** 2])


def test_a_vector_function_of_a_number():
    t = 0.5
    velocity = np.array([-np.sin(t), np.cos(t), 2 * t])
    acceleration = np.array([-np.cos(t), -np.sin(t), 2.0])
    for jacobian in (ad.jacfwd, ad.jacrev):
        np.testing.assert_allclose(jacobian(curve)(t), velocity, rtol=1e-15)
    np.testing.assert_allclose(ad.hessian(curve)(t), acceleration,
                               rtol=1e-15)
    value, tangent = ad.jvp(curve, (t,), (2.0,))
    np.testing.assert_allclose(value, curve(t), rtol=1e-15)
    np.testing.assert_allclose(tangent, 2.0 * velocity, rtol=1e-15)
    _, vjp_fun = ad.vjp(curve, t)
    (t_bar,) = vjp_fun(np.array([1.0, -1.0, 0.5]))
    assert t_bar == pytest.approx(velocity @ [1.0, -1.0, 0.5], rel=1e-15)
    assert ad.jacfwd(curve)(np.float32(t)).dtype == np.float32


def predict_dict(params, inputs):
    return predict(params['W'], params['b'], inputs)


def test_jacobian_with_respect_to_a_dict():
    p = preds_at(W, b)
    for jacobian in (ad.jacrev, ad.jacfwd):
        J_dict = jacobian(predict_dict)({'W': W, 'b': b}, inputs)
        assert list(J_dict) == ['W', 'b']
        assert J_dict['W'].shape == (4, 3) and J_dict['b'].shape == (4,)
        np.testing.assert_allclose(J_dict['W'], (p * (1 - p))[:, None]
                                   * inputs, rtol=1e-12)
        np.testing.assert_allclose(J_dict['b'], p * (1 - p), rtol=1e-12)


def test_jacobian_of_a_dict_to_dict_function_is_a_dict_of_dicts():
    def f(dct):
        return {'c': np.power(dct['a'], dct['b'])}

    a, e = 2.0, 3.0
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(f)({'a': a, 'b': e})
        assert list(J) == ['c'] and list(J['c']) == ['a', 'b']
        assert J['c']['a'] == pytest.approx(e * a ** (e - 1), rel=1e-15)
        assert J['c']['b'] == pytest.approx(a ** e * np.log(a), rel=1e-15)
        J32 = jacobian(f)({'a': np.float32(a), 'b': np.float32(e)})
        assert isinstance(J32['c']['a'], np.float32)
        assert isinstance(J32['c']['b'], np.float32)

    def g(dct):
        return {'prod': dct['u'] * dct['v'], 'norm': np.sum(dct['u'] ** 2)}

    u, v = np.array([1.0, -2.0, 0.5]), np.array([3.0, 4.0, 5.0])
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(g)({'u': u, 'v': v})
        assert list(J) == ['prod', 'norm']
        assert all(list(row) == ['u', 'v'] for row in J.values())
        np.testing.assert_array_equal(J['prod']['u'], np.diag(v))
        np.testing.assert_array_equal(J['prod']['v'], np.diag(u))
        np.testing.assert_array_equal(J['norm']['u'], 2 * u)
        np.testing.assert_array_equal(J['norm']['v'], np.zeros(3))


def test_jacobian_argnums_tuple_and_aux():
    p = preds_at(W, b)
    for jacobian in (ad.jacrev, ad.jacfwd):
        J_W, J_b = jacobian(lambda W, b: predict(W, b, inputs), (0, 1))(W, b)
        np.testing.assert_allclose(J_W, (p * (1 - p))[:, None] * inputs,
                                   rtol=1e-12)
        np.testing.assert_allclose(J_b, p * (1 - p), rtol=1e-12)
        J, aux = jacobian(lambda W: (predict(W, b, inputs), np.sum(W)),
                          has_aux=True)(W)
        assert aux == pytest.approx(np.sum(W), rel=1e-15)
        np.testing.assert_allclose(J, (p * (1 - p))[:, None] * inputs,
                                   rtol=1e-12)


def test_jacobian_of_a_matrix_function_has_out_shape_plus_in_shape():
    X = np.arange(12.0).reshape(3, 4) / 10 - 0.5
    # d out[i, j] / d X[k, l] is zero unless (i, j) == (k, l)
    diagonal = np.zeros((3, 4, 3, 4))
    for i, j in np.ndindex(3, 4):
        diagonal[i, j, i, j] = 2.0 * (1 - np.tanh(X[i, j]) ** 2)
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(lambda X: np.tanh(X) * 2.0)(X)
        assert J.shape == (3, 4, 3, 4)
        np.testing.assert_allclose(J, diagonal, rtol=1e-14)
    # d sum_i X[i, j]^2 / d X[k, l] = 2 X[k, j] where l == j
    columns = np.zeros((4, 3, 4))
    for k, j in np.ndindex(3, 4):
        columns[j, k, j] = 2 * X[k, j]
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(lambda X: np.sum(X ** 2, axis=0))(X)
        assert J.shape == (4, 3, 4)
        np.testing.assert_allclose(J, columns, rtol=1e-15)


# -- jvp and vjp -------------------------------------------------------------

v = np.array([0.7, -0.3, 1.1])


def test_jvp_of_a_vector_function():
    y, u = ad.jvp(f_of_W, (W,), (v,))
    np.testing.assert_allclose(y, f_of_W(W), rtol=1e-15)
    np.testing.assert_allclose(u, numeric_jacobian(f_of_W, W) @ v,
                               rtol=1e-8)
    y, u = ad.jvp(lambda W, b: predict(W, b, inputs), (W, b), (v, 0.5))
    J_W, J_b = ad.jacrev(lambda W, b: predict(W, b, inputs), (0, 1))(W, b)
    np.testing.assert_allclose(u, J_W @ v + 0.5 * J_b, rtol=1e-12)
    y, u = ad.jvp(lambda p: predict(p['W'], p['b'], inputs),
                  ({'W': W, 'b': b},), ({'W': v, 'b': 0.5},))
    np.testing.assert_allclose(u, J_W @ v + 0.5 * J_b, rtol=1e-12)
    y, u, aux = ad.jvp(lambda W: (predict(W, b, inputs), "aux"), (W,), (v,),
                       has_aux=True)
    assert aux == "aux"
    np.testing.assert_allclose(u, J_W @ v, rtol=1e-12)


A = np.array([[0.5, 0.1, 0.0], [0.2, 0.4, 0.1], [0.0, 0.3, 0.6]])


def rnn(h, steps):
    for _ in range(steps):
        h = np.tanh(A @ h + 0.1)
    return h


def test_jvp_with_an_integer_argument():
    # an integer has no tangent (JAX's float0): its tangent is not read
    h, t = np.array([0.3, -0.2, 0.5]), np.array([1.0, -0.5, 2.0])
    value, tangent = ad.jvp(rnn, (h, 5), (t, 0))
    np.testing.assert_allclose(value, rnn(h, 5), rtol=1e-15)
    np.testing.assert_allclose(
        tangent, numeric_jacobian(lambda h: rnn(h, 5), h) @ t, rtol=1e-8)
    np.testing.assert_allclose(tangent, ad.jacfwd(rnn)(h, 5) @ t,
                               rtol=1e-14)


def test_vjp_of_a_vector_function():
    y_bar = np.array([1.0, -0.5, 0.25, 2.0])
    y, vjp_fun = ad.vjp(f_of_W, W)
    np.testing.assert_allclose(y, f_of_W(W), rtol=1e-15)
    cotangents = vjp_fun(y_bar)
    assert isinstance(cotangents, tuple) and len(cotangents) == 1
    np.testing.assert_allclose(cotangents[0],
                               y_bar @ numeric_jacobian(f_of_W, W),
                               rtol=1e-8)
    y, vjp_fun = ad.vjp(lambda W, b: predict(W, b, inputs), W, b)
    W_bar, b_bar = vjp_fun(y_bar)
    p = preds_at(W, b)
    np.testing.assert_allclose(W_bar, (y_bar * p * (1 - p)) @ inputs,
                               rtol=1e-12)
    assert b_bar == pytest.approx(np.sum(y_bar * p * (1 - p)), rel=1e-12)
    y, vjp_fun = ad.vjp(lambda p: predict(p['W'], p['b'], inputs),
                        {'W': W, 'b': b})
    (grads,) = vjp_fun(y_bar)
    assert list(grads) == ['W', 'b']
    np.testing.assert_allclose(grads['W'], W_bar, rtol=1e-12)
    y, vjp_fun, aux = ad.vjp(lambda W: (predict(W, b, inputs), 3), W,
                             has_aux=True)
    assert aux == 3
    np.testing.assert_allclose(vjp_fun(y_bar)[0], W_bar, rtol=1e-12)


def test_vector_valued_gradient_with_vjp():
    # the cookbook's vgrad: the vjp of np.ones over the output
    def vgrad(f, x):
        y, vjp_fn = ad.vjp(f, x)
        return vjp_fn(np.ones(y.shape))[0]

    x = np.array([[1.0, 2.0, 3.0], [-0.5, 0.5, 1.5]])
    np.testing.assert_allclose(vgrad(lambda x: 3 * x ** 2, x), 6 * x,
                               rtol=1e-15)
    np.testing.assert_allclose(vgrad(lambda x: np.sin(x) * np.sum(x), x),
                               np.cos(x) * np.sum(x) + np.sum(np.sin(x)),
                               rtol=1e-12)


# -- Hessian-vector products -------------------------------------------------

def sum_tanh_squared(X):
    return np.sum(np.tanh(X) ** 2)


X = np.array([[0.3, -1.2, 0.8, 0.1], [1.5, -0.4, -0.9, 0.6],
              [0.05, 2.0, -1.7, 0.9]])
V = np.array([[1.0, 0.5, -0.2, 0.3], [-0.7, 0.2, 1.3, 0.4],
              [0.6, -1.1, 0.8, -0.5]])


def hvp_closed_form(X, V):
    # tanh^2'' = 2 sech^4 - 4 tanh^2 sech^2, and the Hessian is diagonal
    t = np.tanh(X)
    s2 = 1 - t ** 2
    return (2 * s2 ** 2 - 4 * t ** 2 * s2) * V


def test_hvp_forward_over_reverse():
    def hvp(f, primals, tangents):
        return ad.jvp(ad.grad(f), primals, tangents)[1]

    np.testing.assert_allclose(hvp(sum_tanh_squared, (X,), (V,)),
                               hvp_closed_form(X, V), rtol=1e-12, atol=1e-15)


def test_hvp_reverse_over_reverse():
    def hvp(f, x, v):
        return ad.vjp(ad.grad(f), x)[1](v)[0]

    np.testing.assert_allclose(hvp(sum_tanh_squared, X, V),
                               hvp_closed_form(X, V), rtol=1e-12, atol=1e-15)


def test_hvp_against_the_full_hessian_at_the_cookbooks_size():
    # the cookbook's check: hvp(f, (X,), (V,)) against
    # tensordot(hessian(f)(X), V, 2), at X of shape (30, 40)
    rng = np.random.default_rng(0)
    X, V = rng.normal(size=(30, 40)), rng.normal(size=(30, 40))
    H = ad.hessian(sum_tanh_squared)(X)
    assert H.shape == (30, 40, 30, 40)
    hvp = ad.jvp(ad.grad(sum_tanh_squared), (X,), (V,))[1]
    np.testing.assert_allclose(hvp, np.tensordot(H, V, 2), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(hvp, hvp_closed_form(X, V), rtol=1e-12,
                               atol=1e-14)


def test_hvp_of_the_logistic_loss_matches_its_hessian():
    H = ad.hessian(loss)(W, b)
    hv = ad.jvp(ad.grad(loss), (W, b), (v, 0.0))[1]
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12)


def test_grad_of_a_product_with_a_named_derivative_of_scalar_code():
    # grad-of-grad where the inner derivative is a name the function reads
    def f(x):
        return x ** 3 * np.sin(x)

    df = ad.grad(f)

    def directional(x):
        return df(x) * 2.0

    x = 0.7
    expected = 2.0 * (6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x)
                      - x ** 3 * np.sin(x))
    assert ad.grad(directional)(x) == pytest.approx(expected, rel=1e-13)


def test_hvp_grad_of_a_dot_with_grad():
    def hvp(f, x, v):
        return ad.grad(lambda x: np.vdot(ad.grad(f)(x), v))(x)

    np.testing.assert_allclose(hvp(sum_tanh_squared, X, V),
                               hvp_closed_form(X, V), rtol=1e-12, atol=1e-15)


def test_hvp_grad_of_a_dot_with_a_named_gradient():
    grad_f = ad.grad(sum_tanh_squared)

    def dot_with_grad(x):
        return np.vdot(grad_f(x), V)

    np.testing.assert_allclose(ad.grad(dot_with_grad)(X),
                               hvp_closed_form(X, V), rtol=1e-12, atol=1e-15)


def test_hvp_reverse_over_forward():
    def hvp(f, x, v):
        return ad.grad(lambda x: ad.jvp(f, (x,), (v,))[1])(x)

    np.testing.assert_allclose(hvp(sum_tanh_squared, X, V),
                               hvp_closed_form(X, V), rtol=1e-12, atol=1e-15)


# -- Python control flow and loops -------------------------------------------

def test_grad_through_python_if():
    def f(x):
        if x < 3:
            return 3. * x ** 2
        else:
            return -4 * x

    assert ad.grad(f)(2.) == 12.
    assert ad.grad(f)(4.) == -4.


def test_grad_through_a_while_loop_on_values():
    def doubled_past_ten(x):
        y = x
        while y < 10.0:
            y = y * 2.0
        return y ** 2

    # 1.5 doubles three times (y = 8x), 3.0 twice (y = 4x)
    assert ad.grad(doubled_past_ten)(1.5) == pytest.approx(128 * 1.5)
    assert ad.grad(doubled_past_ten)(3.0) == pytest.approx(32 * 3.0)

    def sines(x, n):
        total = 0.0
        i = 0
        while i < n:
            total = total + np.sin(x * i)
            i += 1
        return total

    assert ad.grad(sines)(0.7, 4) == pytest.approx(
        sum(i * np.cos(0.7 * i) for i in range(4)), rel=1e-13)


def iterated_sine(x):
    i = 0
    while i < 3:
        x = np.sin(x)
        i = i + 1
    return np.sum(x)


def test_grad_and_hessian_through_loops_over_arrays():
    x = np.array([0.3, 0.4, -1.1])
    np.testing.assert_allclose(ad.grad(iterated_sine)(x),
                               numeric_gradient(iterated_sine, (x,), 0),
                               rtol=1e-8)
    H = ad.hessian(iterated_sine)(x)
    assert H.shape == (3, 3)
    np.testing.assert_allclose(H, numeric_jacobian(ad.grad(iterated_sine), x),
                               rtol=1e-7, atol=1e-10)

    def layers(x):
        for _ in range(3):
            x = np.tanh(x) * 2.0
        return np.sum(x)

    np.testing.assert_allclose(ad.grad(layers)(x),
                               numeric_gradient(layers, (x,), 0), rtol=1e-8)


def per_example_loss(W, b, x, t):
    p = sigmoid(np.dot(x, W) + b)
    return -np.log(p * t + (1 - p) * (1 - t))


def test_per_example_gradients_by_a_loop():
    # JAX writes vmap(grad(loss), in_axes=(None, None, 0, 0)); a loop here
    per_example = ad.grad(per_example_loss, (0, 1))
    grads = [per_example(W, b, inputs[i], targets[i]) for i in range(4)]
    residual = preds_at(W, b) - targets
    for (W_grad, b_grad), x, r in zip(grads, inputs, residual):
        np.testing.assert_allclose(W_grad, r * x, rtol=1e-12)
        assert b_grad == pytest.approx(r, rel=1e-12)
    W_total, b_total = ad.grad(loss, (0, 1))(W, b)
    np.testing.assert_allclose(sum(g[0] for g in grads), W_total, rtol=1e-12)
    assert sum(g[1] for g in grads) == pytest.approx(b_total, rel=1e-12)


def zipped_loss(W, b):
    total = 0.0
    for x, t in zip(inputs, targets):
        p = sigmoid(np.dot(x, W) + b)
        total = total - np.log(p * t + (1 - p) * (1 - t))
    return total


def indexed_loss(W, b):
    total = 0.0
    for i in range(inputs.shape[0]):
        p = sigmoid(np.dot(inputs[i], W) + b)
        total = total - np.log(p * targets[i] + (1 - p) * (1 - targets[i]))
    return total


def test_a_loss_summed_over_examples_by_a_loop():
    W_total, b_total = ad.grad(loss, (0, 1))(W, b)
    W_grad, b_grad = ad.grad(zipped_loss, (0, 1))(W, b)
    np.testing.assert_allclose(W_grad, W_total, rtol=1e-12)
    assert b_grad == pytest.approx(b_total, rel=1e-12)


def test_a_loss_summed_over_examples_by_index():
    W_total, b_total = ad.grad(loss, (0, 1))(W, b)
    W_grad, b_grad = ad.grad(indexed_loss, (0, 1))(W, b)
    np.testing.assert_allclose(W_grad, W_total, rtol=1e-12)
    assert b_grad == pytest.approx(b_total, rel=1e-12)


# -- Jacobian-matrix and matrix-Jacobian products ------------------------------

def test_jacobian_matrix_products_by_a_loop_of_jvps_and_vjps():
    # JAX maps jvp and vjp with vmap; a loop over the columns (rows) here
    M = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.2]])
    J = ad.jacrev(f_of_W)(W)
    columns = [ad.jvp(f_of_W, (W,), (M[:, k],))[1] for k in range(2)]
    np.testing.assert_allclose(np.stack(columns, axis=1), J @ M, rtol=1e-12)
    L = np.array([[1.0, -2.0, 0.5, 0.0], [0.3, 0.3, -0.7, 1.5]])
    _, vjp_fun = ad.vjp(f_of_W, W)
    rows = [vjp_fun(L[k])[0] for k in range(2)]
    np.testing.assert_allclose(np.stack(rows), L @ J, rtol=1e-12)


# -- outputs as pytrees, and check_grads ---------------------------------------

def moments(x):
    return {'s': np.sum(x ** 2), 'v': np.sin(x)}


def test_jvp_and_vjp_of_a_dict_output():
    x, t = np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, -1.0])
    value, tangent = ad.jvp(moments, (x,), (t,))
    assert list(value) == list(tangent) == ['s', 'v']
    assert value['s'] == pytest.approx(np.sum(x ** 2), rel=1e-15)
    assert tangent['s'] == pytest.approx(np.dot(2 * x, t), rel=1e-15)
    np.testing.assert_allclose(tangent['v'], np.cos(x) * t, rtol=1e-15)
    value, vjp_fun = ad.vjp(moments, x)
    (x_bar,) = vjp_fun({'s': 2.0, 'v': t})
    np.testing.assert_allclose(x_bar, 4.0 * x + np.cos(x) * t, rtol=1e-15)


def test_grad_with_argnums_and_a_dict_of_aux():
    def loss_and_stats(W, b):
        preds = predict(W, b, inputs)
        value = -np.sum(np.log(preds * targets + (1 - preds) * (1 - targets)))
        return value, {'preds': preds, 'n': 4}

    (W_grad, b_grad), aux = ad.grad(loss_and_stats, (0, 1),
                                    has_aux=True)(W, b)
    assert list(aux) == ['preds', 'n'] and aux['n'] == 4
    np.testing.assert_allclose(aux['preds'], preds_at(W, b), rtol=1e-14)
    np.testing.assert_allclose(W_grad, inputs.T @ (preds_at(W, b) - targets),
                               rtol=1e-12)
    assert b_grad == pytest.approx(np.sum(preds_at(W, b) - targets),
                                   rel=1e-12)


def test_check_grads_first_order():
    # the tutorial's `check_grads(loss, (W, b), order=...)`
    from autodiff_ast.testing import check_grads
    check_grads(loss, (W, b), order=1)
    check_grads(lambda x, y: np.sin(x) * y ** 2, (0.3, 1.2), order=3)


def test_check_grads_second_order_of_array_code():
    from autodiff_ast.testing import check_grads
    check_grads(loss, (W, b), order=2)


Pair = namedtuple("Pair", ["total", "doubled"])


def test_jacobian_of_a_namedtuple_output():
    x = np.array([0.3, -0.2, 0.5])
    J = ad.jacobian(lambda x: Pair(np.sum(x), x * 2.0))(x)
    assert type(J) is Pair
    np.testing.assert_array_equal(J.total, np.ones(3))
    np.testing.assert_array_equal(J.doubled, 2.0 * np.eye(3))


# -- models written as classes -------------------------------------------------

class Logistic:
    """A model whose weights' data is an attribute, as in a user's class."""

    def __init__(self, inputs, targets):
        self.inputs = inputs
        self.targets = targets

    def loss(self, W, b):
        preds = predict(W, b, self.inputs)
        label_probs = (preds * self.targets
                       + (1 - preds) * (1 - self.targets))
        return -np.sum(np.log(label_probs))

    def __call__(self, W, b):
        return self.loss(W, b)


def test_gradient_of_a_method_reading_arrays_from_self():
    model = Logistic(inputs, targets)
    W_grad, b_grad = ad.grad(model.loss, (0, 1))(W, b)
    np.testing.assert_allclose(W_grad, inputs.T @ (preds_at(W, b) - targets),
                               rtol=1e-12)
    assert b_grad == pytest.approx(np.sum(preds_at(W, b) - targets),
                                   rel=1e-12)


def test_gradient_of_a_callable_object():
    model = Logistic(inputs, targets)
    W_grad = ad.grad(model)(W, b)
    np.testing.assert_allclose(W_grad, inputs.T @ (preds_at(W, b) - targets),
                               rtol=1e-12)


def relu_by_where(x):
    return np.where(x > 0, x, 0.0)


def test_gradient_of_relu_by_where_keeps_the_float_dtype():
    grad_relu = ad.grad(relu_by_where)
    x32 = np.array([0.5, -1.0], dtype=np.float32)
    assert grad_relu(x32).dtype == np.float32
    np.testing.assert_array_equal(grad_relu(x32), [1.0, 0.0])
    assert np.asarray(grad_relu(0.5)).dtype == np.float64
    assert grad_relu(0.5) == 1.0 and grad_relu(-0.5) == 0.0
