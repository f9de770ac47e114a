"""Arguments as JAX takes them: containers with no numbers in them (``[]``,
``{}``, ``()``, None, nested), beside the numbers a function is
differentiated with respect to, in every transform.

Expected values are JAX 0.10.2's (float64, jax_enable_x64), pasted in:
``jax.grad(f, argnums=(0, 1))([], 3.0)`` is ``([], 6.0)``.
"""

from __future__ import annotations

import pytest

import autodiff_ast as ad


def square_beside(extra, x):
    return x ** 2


EMPTY = [[], {}, (), None, [[], {}], {"a": ()}]


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_gradient_with_respect_to_an_empty_container_is_it(empty):
    assert ad.grad(square_beside, argnums=(0, 1))(empty, 3.0) == (empty, 6.0)
    assert ad.grad(square_beside, argnums=1)(empty, 3.0) == 6.0


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_value_and_gradient_beside_an_empty_container(empty):
    assert ad.value_and_grad(square_beside, argnums=(0, 1))(empty, 3.0) \
        == (9.0, (empty, 6.0))


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_jacobian_and_hessian_beside_an_empty_container(empty):
    assert ad.jacobian(square_beside, argnums=(0, 1))(empty, 3.0) \
        == (empty, 6.0)
    assert ad.hessian(square_beside, argnums=1)(empty, 3.0) == 2.0


@pytest.mark.parametrize("empty", EMPTY, ids=repr)
def test_jvp_and_vjp_beside_an_empty_container(empty):
    assert ad.jvp(square_beside, (empty, 3.0), (empty, 1.0)) == (9.0, 6.0)
    value, pullback = ad.vjp(square_beside, empty, 3.0)
    assert value == 9.0
    assert pullback(1.0) == (empty, 6.0)
    assert pullback(0.5) == (empty, 3.0)


def test_a_container_the_code_does_not_read_gets_zeros():
    # JAX: ([0.0, 0.0], 6.0)
    assert ad.grad(square_beside, argnums=(0, 1))([1.0, 2.0], 3.0) \
        == ([0.0, 0.0], 6.0)
    assert ad.jacobian(square_beside, argnums=(0, 1))({"a": 1.0}, 3.0) \
        == ({"a": 0.0}, 6.0)


def test_numbers_still_take_the_scalar_code():
    derivative = ad.grad(square_beside, argnums=(0, 1))
    assert derivative(1.0, 3.0) == (0.0, 6.0)
    assert derivative([], 3.0) == ([], 6.0)
    assert derivative(1.0, -2.0) == (0.0, -4.0)
