"""Derivatives come back in their arguments' types whichever pipeline
made them: a Python float for Python floats (and ints), a NumPy scalar
for NumPy scalars and 0-d arrays, float32 for float32.

``written_out`` is scalar code; ``stepped`` loops over a count it is
passed, which only array lowering keeps as a loop.
"""

import numpy as np
import optree
import pytest

import autodiff_ast as ad
from autodiff_ast._array_transforms import ArrayTransform


def written_out(x, n=3):
    return x * x * n


def stepped(x, n=3):
    for _ in range(n):
        x = x * x
    return x


POINTS = [1.5, 2, np.float64(1.5), np.float32(1.5), np.array(1.5),
          np.array([1.5, 2.0])]
TRANSFORMS = [ad.grad, ad.value_and_grad, ad.hessian, ad.jacobian]


@pytest.mark.parametrize("transform", TRANSFORMS,
                         ids=lambda t: t.__name__)
@pytest.mark.parametrize("x", POINTS, ids=repr)
def test_array_code_gives_the_types_scalar_code_gives(transform, x):
    assert not isinstance(transform(written_out), ArrayTransform)
    assert isinstance(transform(stepped), ArrayTransform)
    expected = optree.tree_leaves(transform(written_out)(x))
    got = optree.tree_leaves(transform(stepped)(x))
    assert [type(leaf) for leaf in got] == [type(leaf) for leaf in expected]
    assert [np.result_type(leaf) for leaf in got] == [
        np.result_type(leaf) for leaf in expected]


@pytest.mark.parametrize("x", [1.5, 2])
def test_value_and_grad_of_array_code_at_a_float(x):
    value, gradient = ad.value_and_grad(stepped)(x)
    # x ** 8 and 8 x ** 7
    assert (type(value), type(gradient)) == (float, float)
    assert value == pytest.approx(float(x) ** 8)
    assert gradient == pytest.approx(8 * float(x) ** 7)
