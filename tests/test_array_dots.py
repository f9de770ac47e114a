"""A derivative's sum of products of vectors is written as their dot
product (``_array_dots``); the user's own sums stay as written."""

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._api import _cached

from helpers import numeric_gradient

rng = np.random.default_rng(3)
MASK = rng.uniform(size=5) < 0.5


def energy(x, y):
    return np.sum(x * y) + 0.5 * np.sum(np.exp(x))


def masked(x):
    return np.sum(MASK * np.sin(x))


def last_lines(text: str, count: int) -> list[str]:
    return text.splitlines()[-count:]


def test_a_jvp_of_a_sum_of_products_is_a_dot_product_beside_the_users_sum():
    x, y, u, v = rng.normal(size=(4, 5))
    jvp = _cached(energy, 0, False, "jvp")
    assert last_lines(ad.source(jvp, x, y, u, v), 3) == [
        "    value = np.sum(x * y) + 0.5 * np.sum(terms_1)",
        "    tangent = 0.5 * (terms_1 @ x_dot) + np.sum(x * y_dot + x_dot * y)",
        "    return value, tangent"]
    value, tangent = ad.jvp(energy, (x, y), (u, v))
    assert value == energy(x, y)
    gx, gy = (numeric_gradient(energy, (x, y), n) for n in (0, 1))
    assert tangent == pytest.approx(gx @ u + gy @ v, rel=1e-7)


def test_a_boolean_factor_stays_a_sum_of_products():
    x, u = rng.normal(size=(2, 5))
    jvp = _cached(masked, 0, False, "jvp")
    assert "np.sum(" in last_lines(ad.source(jvp, x, u), 2)[0]
    _, tangent = ad.jvp(masked, (x,), (u,))
    assert tangent == pytest.approx(np.sum(MASK * np.cos(x) * u), rel=1e-12)
