"""jvp of a function with defaults, given primals for its first
arguments only: as JAX calls ``fun(*primals)``, the rest take their
defaults, with zero tangents (it raised a TypeError: the generated jvp
takes a primal and a tangent for every parameter). Closed forms; JAX
0.10.2 gives (7.5, 5.0) for the first case."""

from __future__ import annotations

import numpy as np

import autodiff_ast as ad


def scaled_product(x, y, scale=2.0):
    return x * y * scale


def weighted_powers(x, y, scale=2.0, *, power=2):
    return np.sum(x * y ** power) * scale


def test_scalar_code_takes_the_defaults():
    assert ad.jvp(scaled_product, (1.5, 2.5), (1.0, 0.0)) == (7.5, 5.0)
    assert ad.jvp(scaled_product, (1.5, 2.5, 3.0), (0.0, 0.0, 1.0)) == (
        11.25, 3.75)


def test_array_code_takes_the_defaults_keyword_only_too():
    x, y = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    value, tangent = ad.jvp(weighted_powers, (x, y),
                            (np.zeros(2), np.ones(2)))
    np.testing.assert_allclose(value, 2 * np.sum(x * y ** 2))
    np.testing.assert_allclose(tangent, 2 * np.sum(2 * x * y))
