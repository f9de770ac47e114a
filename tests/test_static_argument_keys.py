"""Code made for a dataclass argument is found again by its values.

A dataclass of settings is a constant to the code made for it (its values
are baked in), as JAX takes such an argument as static. A new object with
the same values finds the same code, so a training loop that builds its
settings afresh at each step does not make the code again; other values
make other code, and an array in it is the same one or another.
"""

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._array_transforms import ArrayTransform
from test_static_arguments import (W, Prior, Settings, log_prior,
                                   pulled_to_a_centre)


@pytest.fixture
def generations(monkeypatch):
    """The names of the array derivatives made, one per generation."""
    made = []
    original = ArrayTransform.generate

    def counting(self, *args, **kwargs):
        made.append(self.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ArrayTransform, "generate", counting)
    return made


def test_an_equal_frozen_dataclass_finds_the_code_made(generations):
    g = ad.grad(log_prior)
    generations.clear()  # (its try at Python floats, when it is made)
    for _ in range(3):  # a new object with the same values at each step
        np.testing.assert_allclose(g(W, Prior(0.5, 2.0)), -(W - 0.5) / 4.0,
                                   rtol=1e-15)
    assert generations == ["grad_log_prior"]
    np.testing.assert_allclose(g(W, Prior(1.0, 1.0)), -(W - 1.0),
                               rtol=1e-15)
    np.testing.assert_allclose(g(W, Prior(0.5, 2.0)), -(W - 0.5) / 4.0,
                               rtol=1e-15)
    assert generations == ["grad_log_prior"] * 2


def test_an_equal_mutable_dataclass_finds_the_code_made(generations):
    centre = np.ones(3)
    g = ad.grad(pulled_to_a_centre)
    generations.clear()
    for _ in range(3):
        np.testing.assert_allclose(g(W, Settings(centre, 2.0)),
                                   4 * (W - 1), rtol=1e-15)
    assert len(generations) == 1
    settings = Settings(centre, 2.0)
    settings.weight = 3.0  # changed after it was made: other code
    np.testing.assert_allclose(g(W, settings), 6 * (W - 1), rtol=1e-15)
    np.testing.assert_allclose(g(W, Settings(centre, 3.0)), 6 * (W - 1),
                               rtol=1e-15)
    assert len(generations) == 2
    centre[:] = 0.0  # the same array, changed in place: read by the code
    np.testing.assert_allclose(g(W, Settings(centre, 3.0)), 6 * W,
                               rtol=1e-15)
    np.testing.assert_allclose(g(W, Settings(np.full(3, 2.0), 3.0)),
                               6 * (W - 2), rtol=1e-15)
    assert len(generations) == 3
