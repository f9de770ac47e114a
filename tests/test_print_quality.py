"""Generated code reads as a careful person writes it (issue 13).

Exact sources where the source is the product: powers divided by read
from the square they share with the rest of the code, names of powers that
say which power they are, an axis written as one number; every source's
values are checked too, so a better-reading form that computes something
else fails.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad

from helpers import central_difference


def code(source: str) -> str:
    """The source without its docstring, which names this file's path."""
    lines = source.splitlines()
    end = next(i for i, line in enumerate(lines[2:], 2)
               if line.strip() == '"""')
    return "\n".join(lines[:1] + lines[end + 1:])


X = np.linspace(0.8, 1.7, 4)


# -- negative powers read from the shared square --------------------------

def inverse_square_times_exp(x):
    return np.sum(x ** -2 * np.exp(x))


def lennard_jones(r):
    return np.sum(4 * (r ** -12 - r ** -6))


@pytest.mark.parametrize("function, source, diagonal", [
    # It was exp_x / (x * x * x) beside 3 * exp_x / (x ** 2) ** 2: the
    # square computed twice, once as a product.
    (inverse_square_times_exp,
     "def hessian_inverse_square_times_exp(x):\n"
     "    exp_x = np.exp(x)\n"
     "    x_sq = x ** 2\n"
     "    t = exp_x / (x_sq * x)\n"
     "    t_1 = x - 2\n"
     "    return np.diag(t + t_1 * (t - 3 * exp_x / x_sq ** 2))",
     np.exp(X) * (1 / X ** 2 - 4 / X ** 3 + 6 / X ** 4)),
    # It was shared = r_sq_sq ** 2 (and r_sq_sq = r_sq ** 2): a power of
    # a named power is named for the power it is. (And it was r_pow8 =
    # r_pow4 ** 2 beside 624 / (r_pow8 * r_pow4 * r_sq) - 168 / r_pow8,
    # one more name and two more operations, before a square's own powers
    # shared its square.)
    (lennard_jones,
     "def hessian_lennard_jones(r):\n"
     "    r_sq = r ** 2\n"
     "    r_pow4 = r_sq ** 2\n"
     "    return np.diag(24 * (26 / (r_sq * r_pow4) - 7) / r_pow4 ** 2)",
     4 * (156 / X ** 14 - 42 / X ** 8)),
], ids=["x**-2*exp(x)", "lennard_jones"])
def test_a_divisor_reads_the_powers_the_code_names(function, source,
                                                   diagonal):
    hessian = ad.hessian(function)
    assert code(ad.source(hessian, X)) == source
    np.testing.assert_allclose(hessian(X), np.diag(diagonal), rtol=1e-13)


def gaussian_log_likelihood(x, mu, sigma):
    return np.sum(-np.log(sigma) - (x - mu) ** 2 / (2 * sigma ** 2))


def test_a_divisor_of_several_factors_is_one_value():
    # It was t / sigma ** 2 beside t ** 2 / (sigma * sigma * sigma); a
    # divisor taken apart by CSE gave t = 1 / sigma ** 2 and sigma_inv =
    # 1 / sigma, multiplied again.
    grad = ad.grad(gaussian_log_likelihood, argnums=(1, 2))
    assert code(ad.source(grad, X, 0.2, 1.5)) == (
        "def grad_gaussian_log_likelihood(x, mu, sigma):\n"
        "    t = x - mu\n"
        "    sigma_sq = sigma ** 2\n"
        "    grad_mu = np.sum(t / sigma_sq)\n"
        "    grad_sigma = np.sum((t ** 2 / sigma_sq - 1) / sigma)\n"
        "    return grad_mu, grad_sigma")
    grad_mu, grad_sigma = grad(X, 0.2, 1.5)
    assert grad_mu == pytest.approx(np.sum(X - 0.2) / 1.5 ** 2, rel=1e-14)
    assert grad_sigma == pytest.approx(
        np.sum((X - 0.2) ** 2) / 1.5 ** 3 - X.size / 1.5, rel=1e-13)
    # A product of one name three times is named for the power it is
    # (it was shared).
    grad = ad.grad(lennard_jones)
    assert code(ad.source(grad, X)) == (
        "def grad_lennard_jones(r):\n"
        "    r_sq = r ** 2\n"
        "    r_pow6 = r_sq * r_sq * r_sq\n"
        "    return 24 * (1 - 2 / r_pow6) / (r_pow6 * r)")
    np.testing.assert_allclose(grad(X), 4 * (6 / X ** 7 - 12 / X ** 13),
                               rtol=1e-14)


def test_a_square_read_once_is_written_where_it_is_read():
    # A square read only by 1 / x ** 2 is no line of its own, as in
    # scalar code (-3 / (x ** 2) ** 2).
    grad = ad.grad(lambda x: np.sum(x ** -3))
    assert code(ad.source(grad, X)) == ("def grad_lambda(x):\n"
                                        "    return -3 / (x ** 2) ** 2")
    np.testing.assert_allclose(grad(X), -3 / X ** 4, rtol=1e-15)


def newton_like(x, n):
    for _ in range(n):
        x = x + 0.1 / x ** 3
    return x


def test_a_loop_body_divides_by_the_square_it_names():
    # The body computed (x_1 ** 2) ** 2 twice beside x_1 * x_1 * x_1.
    second = ad.grad(ad.grad(newton_like))
    source = code(ad.source(second, 1.5, 4))
    assert "x_1_sq = x_1 ** 2\n" in source
    assert "(x_1 ** 2)" not in source and "x_1 * x_1" not in source

    assert second(1.5, 4) == pytest.approx(
        central_difference(ad.grad(newton_like), (1.5, 4), 0), rel=1e-7)


# -- one axis is written as one number -------------------------------------

def log_sum_exp_of_columns(A):
    return np.sum(np.log(np.sum(np.exp(A), axis=0)))


def test_one_axis_is_written_as_a_number_not_a_tuple():
    # It was np.max(A, axis=(0,), keepdims=True) and np.sum(exp_A,
    # axis=(0,)): the table keeps axes as tuples.
    A = np.arange(6.0).reshape(2, 3) / 7 - 0.2
    grad = ad.grad(log_sum_exp_of_columns)
    assert code(ad.source(grad, A)) == (
        "def grad_log_sum_exp_of_columns(A):\n"
        "    exp_A = np.exp(A - np.max(A, axis=0, keepdims=True))\n"
        "    return np.expand_dims(1 / np.sum(exp_A, axis=0), 0) * exp_A")
    softmax = np.exp(A) / np.sum(np.exp(A), axis=0)
    np.testing.assert_allclose(grad(A), softmax, rtol=1e-15)


# -- a factored sum beside the sum expanded --------------------------------

def tanh_recurrence(x):
    for _ in range(12):
        x = np.tanh(0.9 * x + 0.1)
    return x


def test_a_factored_sum_reads_the_expanded_sum_beside_it():
    # The body computed t = 0.9 * (1 - tanh ** 2) and, beside it,
    # (tanh - 1) * (tanh + 1): the simplifier factors one tangent and
    # not the other, and CSE matches structure, not value.
    second = ad.grad(ad.grad(tanh_recurrence))
    assert code(ad.source(second, 0.3)) == (
        "def d2tanh_recurrence_dx2(x):\n"
        "    x_1 = x\n"
        "    tangent_x_1 = 1\n"
        "    tangent_tangent_x_1 = 0.0\n"
        "    for _ in range(12):\n"
        "        tanh = np.tanh(0.9 * x_1 + 0.1)\n"
        "        t = 1 - tanh ** 2\n"
        "        x_1 = tanh\n"
        "        tangent_tangent_x_1 = (t * (0.9 * tangent_tangent_x_1\n"
        "                                    - 1.62 * tanh * tangent_x_1 ** 2))"
        "\n"
        "        tangent_x_1 = 0.9 * t * tangent_x_1\n"
        "    return tangent_tangent_x_1")
    assert second(0.3) == pytest.approx(
        central_difference(ad.grad(tanh_recurrence), (0.3,), 0), rel=1e-8)


# -- a call's argument as written -----------------------------------------

def shifted_through_a_list(x):
    parts = [x]  # (array code at a float: a list)
    return np.tanh(1.1 * parts[0] + 0.3) * parts[0]


def test_a_factor_taken_out_leaves_a_calls_argument_as_written():
    # It was np.tanh(0.1 * (11 * x + 3)): the content of every sum came
    # out, also of the argument of the call.
    second = ad.grad(ad.grad(shifted_through_a_list))
    assert code(ad.source(second)) == (
        "def d2shifted_through_a_list_dx2(x):\n"
        "    exp = np.exp(-0.5 * abs(4.4 * x + 1.2))\n"
        "    t = 1 / (exp + 1) ** 2\n"
        "    return 0.88 * t * exp * (10 - 11 * x * np.tanh(1.1 * x + 0.3))")
    for x in (-0.7, 0.2, 1.3):
        assert second(x) == pytest.approx(central_difference(
            ad.grad(shifted_through_a_list), (x,), 0), rel=1e-7)
