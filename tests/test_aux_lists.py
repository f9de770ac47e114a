"""has_aux takes a list [value, aux] as JAX does, in every transform
(conformance bug 8), vjp included."""

import numpy as np

import autodiff_ast as ad

X = np.array([1.0, -2.0, 0.5])


def with_list_aux(x):
    return [np.sum(x ** 2), {"x": x}]


def test_every_transform_takes_a_list_of_two():
    grad, aux = ad.grad(with_list_aux, has_aux=True)(X)
    np.testing.assert_allclose(grad, 2 * X)
    np.testing.assert_array_equal(aux["x"], X)
    (value, _), grad = ad.value_and_grad(with_list_aux, has_aux=True)(X)
    assert value == np.sum(X ** 2)
    hessian, _ = ad.hessian(with_list_aux, has_aux=True)(X)
    np.testing.assert_allclose(hessian, 2 * np.eye(3))
    value, tangent, _ = ad.jvp(with_list_aux, (X,), (np.ones(3),),
                               has_aux=True)
    assert tangent == np.sum(2 * X)
    value, pullback, aux = ad.vjp(with_list_aux, X, has_aux=True)
    np.testing.assert_allclose(pullback(2.0)[0], 4 * X)
    np.testing.assert_array_equal(aux["x"], X)
