"""Models written as classes: an object called as a function is
differentiated through its ``__call__``, and arrays a method reads from
``self`` are data the generated code reads by name (made again when the
attribute is given another array), as JAX differentiates any callable."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad


class Layer:
    def __init__(self, weights, scale):
        self.weights = weights
        self.scale = scale

    def energy(self, x):
        return np.sum(np.tanh(self.weights @ x)) * self.scale

    def __call__(self, x):
        return self.energy(x) + np.sum(x ** 2)


class Cubic:
    def __init__(self, c):
        self.c = c

    def __call__(self, x):
        return self.c * x ** 3


WEIGHTS = np.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.0]])
X = np.array([0.1, -0.4])


def energy_gradient(weights, scale, x):
    return weights.T @ (scale * (1 - np.tanh(weights @ x) ** 2))


def test_arrays_read_from_self():
    layer = Layer(WEIGHTS, 2.0)
    gradient = ad.grad(layer.energy)
    np.testing.assert_allclose(gradient(X), energy_gradient(WEIGHTS, 2.0, X),
                               rtol=1e-14)
    assert "self_weights.T @" in ad.source(gradient, X)
    layer.weights = 2 * WEIGHTS  # another array: the code is made again
    np.testing.assert_allclose(gradient(X),
                               energy_gradient(2 * WEIGHTS, 2.0, X),
                               rtol=1e-14)
    layer.scale = 3.0
    np.testing.assert_allclose(gradient(X),
                               energy_gradient(2 * WEIGHTS, 3.0, X),
                               rtol=1e-14)


def test_objects_called_as_functions():
    cubic = Cubic(2.0)
    assert ad.grad(cubic)(0.5) == pytest.approx(1.5, rel=1e-15)
    assert ad.derivative(cubic, 2)(0.5) == pytest.approx(6.0, rel=1e-15)
    assert ad.source(ad.grad(cubic), 0.5).startswith(
        'def dCubic_dx(x):\n    """Derivative of Cubic with respect to x.')
    assert "return 3 * self.c * x ** 2" in ad.source(ad.grad(cubic), 0.5)
    cubic.c = 3.0
    assert ad.grad(cubic)(0.5) == pytest.approx(2.25, rel=1e-15)
    np.testing.assert_allclose(ad.hessian(cubic)(np.array([0.5, 1.0])),
                               np.einsum("i,ij,ik->ijk", [9.0, 18.0],
                                         np.eye(2), np.eye(2)), rtol=1e-15)
    layer = Layer(WEIGHTS, 2.0)
    np.testing.assert_allclose(ad.grad(layer)(X),
                               energy_gradient(WEIGHTS, 2.0, X) + 2 * X,
                               rtol=1e-14)


class Dense:
    def __init__(self, weights):
        self.weights = weights

    def __call__(self, x):
        return np.tanh(self.weights @ x)


class Network:
    def __init__(self, first, second):
        self.first = Dense(first)
        self.second = Dense(second)

    def loss(self, x):
        return np.sum(self.second(self.first(x)) ** 2)


def test_layers_called_as_functions_hold_arrays_of_one_name():
    first = np.array([[1.0, 0.5], [0.2, -0.3]])
    second = np.array([[0.4, 1.0], [-1.0, 0.1]])
    network = Network(first, second)
    x = np.array([0.3, -0.6])
    hidden = np.tanh(first @ x)
    out = np.tanh(second @ hidden)
    expected = first.T @ ((second.T @ (2 * out * (1 - out ** 2)))
                          * (1 - hidden ** 2))
    np.testing.assert_allclose(ad.grad(network.loss)(x), expected,
                               rtol=1e-14)
    # each layer's self.weights is its own array, named apart
    source = ad.source(ad.grad(network.loss), x)
    assert "self_weights @ x" in source and "self_weights_1 @" in source
