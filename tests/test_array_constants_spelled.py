"""Functions of constants in NumPy code print as NumPy, as Python floats.

``np.log(2 * np.pi)`` in a loss prints as ``float(np.log(2 * np.pi))``:
spelled as the user wrote it, so the source runs in a file that imports
NumPy alone (``math.log`` would need ``import math``), and a Python float,
which NumPy keeps weakly typed (a float32 array times it stays float32,
where ``np.log``'s float64 scalar would make it float64).
"""

import importlib.util

import numpy as np
import pytest

import autodiff_ast as ad


def constants(s, x):
    return np.sum(np.sqrt(2.0) * s * x + 0.5 * np.log(2 * np.pi) * s ** 2
                  + np.exp(3.0) * x)


X = np.array([0.5, 1.5, -2.0])


def test_the_constants_are_numpy_functions_as_floats():
    text = ad.source(ad.value_and_grad(constants), 0.3, X)
    assert text.splitlines()[6:] == [
        "    t = float(np.sqrt(2)) * x",
        "    log = float(np.log(2 * np.pi))",
        "    value = np.sum(t * s + 0.5 * log * s ** 2 + x * "
        "float(np.exp(3)))",
        "    grad_s = np.sum(t + log * s)",
        "    return value, grad_s"]


def test_float32_stays_float32():
    value, grad = ad.value_and_grad(constants)(np.float32(0.3),
                                               X.astype(np.float32))
    assert (value.dtype, grad.dtype) == (np.float32, np.float32)
    expected = np.sum(np.sqrt(2.0) * X + np.log(2 * np.pi) * 0.3)
    assert float(grad) == pytest.approx(expected, rel=1e-6)


def test_the_source_runs_with_numpy_alone_and_derives_again(tmp_path):
    path = tmp_path / "printed.py"
    path.write_text("import numpy as np\n\n\n"
                    + ad.source(ad.grad(constants), 0.3, X))
    spec = importlib.util.spec_from_file_location("printed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = np.sum(np.sqrt(2.0) * X + np.log(2 * np.pi) * 0.3)
    assert module.dconstants_ds(0.3, X) == pytest.approx(expected,
                                                         rel=1e-15)
    second = ad.grad(module.dconstants_ds)
    assert ad.source(second, 0.3, X).endswith(
        "    return x.shape[0] * float(np.log(2 * np.pi))\n")
    assert second(0.3, X) == pytest.approx(3 * np.log(2 * np.pi),
                                           rel=1e-15)


def nested_constants(z):
    return np.sum(np.hypot(z, 1 + np.log1p(np.exp(np.expm1(np.tanh(1.25))))
                           ** 2))


def test_a_function_of_functions_of_constants_is_one_float():
    # Only the outermost value needs to be a Python float: a float() at
    # each call made a line of 93 characters no wrapping could break
    z = np.array([0.5, -1.0])
    text = ad.source(ad.grad(nested_constants), z)
    assert text.endswith(
        '    """\n    return z / np.hypot(\n        z, 1 + float(np.log1p('
        'np.exp(np.expm1(np.tanh(1.25))))) ** 2)\n')
    c = 1 + np.log1p(np.exp(np.expm1(np.tanh(1.25)))) ** 2
    np.testing.assert_allclose(ad.grad(nested_constants)(z),
                               z / np.sqrt(z ** 2 + c ** 2), rtol=1e-15)
