"""Arguments that are not differentiated are taken as they are, as in JAX.

A string option (``reduction="sum"``) compared in an ``if``, and an object
of settings read by attribute (a dataclass), are constants to the code:
it is made for each string, and for each set of the object's field values
(a new object with the same values reuses it; what it read of the object
is checked on each call, so a changed attribute is seen).
"""

import os
from dataclasses import dataclass

import numpy as np
import pytest

import autodiff_ast as ad


def squared_norm(x, reduction="sum"):
    if reduction == "sum":
        return np.sum(x ** 2)
    return np.mean(x ** 2)


@dataclass(frozen=True)
class Prior:
    mean: float
    scale: float


@dataclass
class Settings:
    centre: np.ndarray
    weight: float


def log_prior(w, prior):
    return -np.sum((w - prior.mean) ** 2) / (2 * prior.scale ** 2)


def pulled_to_a_centre(w, settings):
    return settings.weight * np.sum((w - settings.centre) ** 2)


W = np.array([1.0, -1.0, 2.0])


def test_a_string_option_chooses_the_code():
    g = ad.grad(squared_norm)
    np.testing.assert_allclose(g(W), 2 * W, rtol=1e-15)
    np.testing.assert_allclose(g(W, "mean"), 2 * W / 3, rtol=1e-15)
    np.testing.assert_allclose(g(W, reduction="sum"), 2 * W, rtol=1e-15)
    assert "reduction: 'mean'" in ad.source(g, W, "mean")
    h = ad.hessian(squared_norm)
    np.testing.assert_allclose(h(W, "mean"), 2 * np.eye(3) / 3, rtol=1e-15)


def test_a_dataclass_of_settings_read_by_attribute():
    g = ad.grad(log_prior)
    np.testing.assert_allclose(g(W, Prior(0.5, 2.0)), -(W - 0.5) / 4.0,
                               rtol=1e-15)
    np.testing.assert_allclose(g(W, Prior(1.0, 1.0)), -(W - 1.0),
                               rtol=1e-15)
    np.testing.assert_allclose(g(W, Prior(0.5, 2.0)), -(W - 0.5) / 4.0,
                               rtol=1e-15)


def test_a_changed_attribute_of_the_same_object_is_seen():
    settings = Settings(np.ones(3), 2.0)
    g = ad.grad(pulled_to_a_centre)
    np.testing.assert_allclose(g(W, settings), 4 * (W - 1), rtol=1e-15)
    settings.weight = 3.0
    np.testing.assert_allclose(g(W, settings), 6 * (W - 1), rtol=1e-15)
    settings.centre = np.zeros(3)
    np.testing.assert_allclose(g(W, settings), 6 * W, rtol=1e-15)


def test_a_dataclass_differentiated_is_refused():
    with pytest.raises(ad.InputError) as caught:
        ad.grad(log_prior, argnums=1)(W, Prior(0.5, 2.0))
    assert str(caught.value) == (
        f"argument prior of the derivative of log_prior "
        f"({os.path.relpath(__file__)}:"
        f"{log_prior.__code__.co_firstlineno}) is a Prior, not a real number "
        "or an array of them. Pass numbers, NumPy arrays, or lists, tuples "
        "and dicts of them, or leave it out of argnums.")
