"""Scalar NumPy code derives to code that runs where NumPy alone is
imported, as array code does (tests/test_array_constants_spelled.py).

``np.sqrt(2.0) * x * x`` derives to ``2 * float(np.sqrt(2)) * x``: spelled
as the user's module spells it (it printed ``math.sqrt(2)``, which needs an
``import math`` the user's file may not have), and a Python float, which
NumPy keeps weakly typed, so the scalar derivative called on a float32
array stays float32. Code written with ``math`` keeps ``math``.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import autodiff_ast as ad


def root_two(x):
    return np.sqrt(2.0) * x * x


def math_root_two(x):
    return math.sqrt(2.0) * x * x


def log_two_pi(x):
    return np.sin(x) * np.log(2 * np.pi)


def test_a_numpy_constant_prints_as_numpy():
    assert ad.source(ad.grad(root_two)).endswith(
        "    return 2 * float(np.sqrt(2)) * x\n")
    assert ad.source(ad.grad(log_two_pi)).endswith(
        "    return float(np.log(2 * np.pi)) * np.cos(x)\n")


def test_a_math_constant_prints_as_math():
    assert ad.source(ad.grad(math_root_two)).endswith(
        "    return 2 * math.sqrt(2) * x\n")


def test_float32_stays_float32():
    grad = ad.grad(root_two)(np.ones(3, np.float32))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * np.sqrt(2.0), rtol=1e-7)


@pytest.mark.parametrize("fn", [root_two, log_two_pi])
def test_the_printed_source_runs_with_numpy_alone(fn, tmp_path):
    path = tmp_path / "printed.py"
    path.write_text("import numpy as np\n\n\n" + ad.source(ad.grad(fn)))
    spec = importlib.util.spec_from_file_location("printed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    printed = getattr(module, ad.grad(fn).__name__)
    assert printed(0.7) == ad.grad(fn)(0.7)


def beyond_float_range(x):
    return np.sin(x) * 1e300 * 1e300


def test_a_coefficient_beyond_float_range_is_numpy_s_inf():
    # It failed to print ("integer division result too large for a float")
    assert ad.source(ad.grad(beyond_float_range)).endswith(
        "    return np.inf * np.cos(x)\n")
    assert ad.grad(beyond_float_range)(0.5) == np.inf
