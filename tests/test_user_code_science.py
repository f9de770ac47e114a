"""Scientific code as people write it, in NumPy: a behaviour sweep (issue 10).

Quadrature by hand and with slices, finite-difference Laplacians, cumulative
sums, Horner's rule, a spring-mass energy over pairs of points, ODEs
stepped by loops whose length is an argument, Newton and fixed-point
iterations in ``while`` loops, linear algebra in a loss (solve, det, inv,
cholesky), a Gaussian process likelihood and matrix functions of small
matrices, differentiated every way the API allows, against closed forms or
central differences, with JAX's structures and dtypes. The model half is
test_user_code.py; known bugs are strict xfails whose reason names them.
"""

from __future__ import annotations

import inspect
import math
from collections import namedtuple

import numpy as np
import pytest
import scipy.linalg

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient

rng = np.random.default_rng(1)


def numeric_jacobian(f, x):
    """d f(x) / d x laid out as JAX's: ``f(x).shape + x.shape``."""
    shape = np.shape(f(x))
    rows = [numeric_gradient(lambda v: np.asarray(f(v))[i], (x,), 0)
            for i in np.ndindex(shape)]
    return np.reshape(rows, shape + np.shape(x))


def line_of(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


# -- quadrature, finite differences, cumulative sums --------------------------

def trapezoid_by_hand(y, dx):
    total = 0.0
    for i in range(len(y) - 1):
        total = total + 0.5 * dx * (y[i] + y[i + 1])
    return total


def trapezoid_by_slices(y, dx):
    return np.sum((y[1:] + y[:-1]) / 2) * dx


def trapezoid_on_a_grid(x, y):
    return np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2)


def trapezoid_weights(n, dx):
    weights = np.full(n, dx)
    weights[[0, -1]] = dx / 2
    return weights


@pytest.mark.parametrize("rule", [trapezoid_by_hand, trapezoid_by_slices])
def test_trapezoid_rule(rule):
    for n in (9, 2):
        y = np.sin(np.linspace(0.0, 2.0, n))
        grad_y, grad_dx = ad.grad(rule, (0, 1))(y, 0.25)
        np.testing.assert_allclose(grad_y, trapezoid_weights(n, 0.25),
                                   rtol=1e-15)
        assert grad_dx == pytest.approx(np.sum((y[1:] + y[:-1]) / 2),
                                        rel=1e-14)
    np.testing.assert_array_equal(ad.grad(rule)(np.array([3.0]), 0.25), [0])
    ones = np.ones(5, np.float32)
    assert [np.asarray(g).dtype for g in ad.grad(rule, (0, 1))(
        ones, np.float32(0.25))] == [np.float32, np.float32]


def test_trapezoid_loop_gradient_allocates_nothing_per_step():
    # a read of y[i + 1] is a row written per step, not an array of y's
    # size per step (which made the gradient O(n^2))
    source = ad.source(ad.grad(trapezoid_by_hand), np.ones(5), 0.1)
    loop = source[source.index("    for "):source.index("    return")]
    assert "np.zeros" not in loop and "np.empty" not in loop


def test_trapezoid_on_a_nonuniform_grid():
    x = np.linspace(0.0, 1.0, 7) ** 2
    y = np.cos(3 * x)
    grad_x, grad_y = ad.grad(trapezoid_on_a_grid, (0, 1))(x, y)
    dx = np.diff(x)
    np.testing.assert_allclose(
        grad_y, np.r_[dx, 0] / 2 + np.r_[0, dx] / 2, rtol=1e-14)
    pairs = (y[1:] + y[:-1]) / 2
    np.testing.assert_allclose(grad_x, np.r_[0, pairs] - np.r_[pairs, 0],
                               rtol=1e-14, atol=1e-16)


def window_energy(x, k):
    total = 0.0
    for i in range(len(x) - k + 1):
        total = total + np.sum(x[i:i + k]) ** 2
    return total


def pair_window_energy(x):
    return window_energy(x, 2)


def test_sliding_window_sums():
    x = np.array([0.5, -1.0, 2.0, 0.25, 1.5])
    sums = x[:-1] + x[1:]
    np.testing.assert_allclose(ad.grad(pair_window_energy)(x),
                               2 * (np.r_[sums, 0] + np.r_[0, sums]),
                               rtol=1e-15)


def test_sliding_window_of_a_width_passed_in_is_refused_at_its_line():
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(window_energy)(np.ones(5), 2)
    assert caught.value.lineno == line_of(window_energy, "x[i:i + k]")
    assert caught.value.msg == (
        "slice bounds must be integers known when the function is "
        "differentiated (numbers, sizes from .shape, a loop's counter plus a "
        "number: x[i:i + 3]), not values computed from the arguments: make "
        "the width a constant, or select with np.where")


def laplacian_energy(u, h):
    lap = (u[2:] - 2 * u[1:-1] + u[:-2]) / h ** 2
    return 0.5 * np.sum(lap ** 2)


def laplacian_2d_energy(u):
    lap = (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:]
           - 4 * u[1:-1, 1:-1])
    return np.sum(lap ** 2)


def test_finite_difference_laplacians():
    u, h = np.sin(np.linspace(0.0, 3.0, 8)) + 0.1, 0.1
    D = np.diff(np.eye(8), 2, axis=0)  # the second-difference matrix
    grad_u, grad_h = ad.grad(laplacian_energy, (0, 1))(u, h)
    np.testing.assert_allclose(grad_u, D.T @ D @ u / h ** 4, rtol=1e-12)
    assert grad_h == pytest.approx(-4 * laplacian_energy(u, h) / h,
                                   rel=1e-13)
    # one generated gradient serves grids of other sizes
    for shape in ((5, 6), (7, 8)):
        grid = rng.normal(size=shape)
        np.testing.assert_allclose(
            ad.grad(laplacian_2d_energy)(grid),
            numeric_gradient(laplacian_2d_energy, (grid,), 0), rtol=1e-7,
            atol=1e-6)


def cumulative(x):
    return np.cumsum(x)


def cumulative_loss(x):
    return np.sum(np.cumsum(x) ** 2)


def test_cumsum():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    s = np.cumsum(x)
    np.testing.assert_allclose(ad.grad(cumulative_loss)(x),
                               np.cumsum((2 * s)[::-1])[::-1], rtol=1e-15)
    lower = np.tril(np.ones((4, 4)))
    np.testing.assert_array_equal(ad.jacrev(cumulative)(x), lower)
    np.testing.assert_array_equal(ad.jacfwd(cumulative)(x), lower)


def test_array_primitives_passed_to_a_transform():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    np.testing.assert_array_equal(ad.grad(np.sum)(x), np.ones(4))
    np.testing.assert_array_equal(ad.jacrev(np.cumsum)(x),
                                  np.tril(np.ones((4, 4))))
    np.testing.assert_allclose(ad.grad(np.linalg.det)(A),
                               np.linalg.det(A) * np.linalg.inv(A).T,
                               rtol=1e-13)
    np.testing.assert_allclose(ad.jacobian(np.linalg.solve, 1)(A, B),
                               np.linalg.inv(A), rtol=1e-13)


# -- Horner's rule ------------------------------------------------------------

def horner(coeffs, x):
    result = 0.0
    for c in coeffs:
        result = result * x + c
    return result


COEFFS = np.array([0.5, -1.0, 2.0, 0.3])


def test_horner_in_its_coefficients_and_its_point():
    x = 0.7
    np.testing.assert_allclose(ad.grad(horner)(COEFFS, x),
                               x ** np.arange(3, -1, -1), rtol=1e-15)
    assert ad.grad(horner, 1)(COEFFS, x) == pytest.approx(
        np.polyval(np.polyder(COEFFS), x), rel=1e-14)
    assert ad.hessian(horner, 1)(COEFFS, x) == pytest.approx(
        np.polyval(np.polyder(COEFFS, 2), x), rel=1e-14)
    # at an array of points: one row of powers per point
    points = np.array([0.1, 0.7, -0.4])
    powers = points[:, None] ** np.arange(3, -1, -1)
    for jacobian in (ad.jacrev, ad.jacfwd):
        np.testing.assert_allclose(jacobian(horner)(COEFFS, points), powers,
                                   rtol=1e-14)


# -- particles ----------------------------------------------------------------

def spring_energy(x, k, r0):
    d = x[:, None, :] - x[None, :, :]
    r = np.sqrt(np.sum(d ** 2, axis=-1) + np.eye(x.shape[0]))
    return 0.5 * k * np.sum(np.triu((r - r0) ** 2, 1))


POINTS = rng.normal(size=(4, 3))


def test_spring_energy_over_pairs_of_points():
    args = (POINTS, 2.0, 1.0)
    grads = ad.grad(spring_energy, (0, 1, 2))(*args)
    for i in range(3):
        np.testing.assert_allclose(
            grads[i], numeric_gradient(spring_energy, args, i), rtol=1e-7)
    assert grads[1] == pytest.approx(spring_energy(*args) / 2.0, rel=1e-14)
    # translation invariance: the forces sum to zero
    np.testing.assert_allclose(grads[0].sum(axis=0), 0.0, atol=1e-14)
    H = ad.hessian(spring_energy)(*args)
    assert H.shape == (4, 3, 4, 3)
    np.testing.assert_allclose(H, H.transpose(2, 3, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(H.sum(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose(H, numeric_jacobian(
        lambda p: ad.grad(spring_energy)(p, 2.0, 1.0), POINTS), rtol=1e-6,
        atol=1e-8)
    f32 = ad.grad(spring_energy)(POINTS.astype(np.float32), np.float32(2.0),
                                 np.float32(1.0))
    assert f32.dtype == np.float32


State = namedtuple("State", ["q", "p"])


def hamiltonian(s, m):
    return (0.5 * np.sum(s.p ** 2) / m + 0.5 * np.sum(s.q ** 2)
            + 0.1 * np.sum(s.q ** 4))


def leapfrog(s, dt):
    p = s.p - 0.5 * dt * (s.q + 0.4 * s.q ** 3)
    q = s.q + dt * p
    p = p - 0.5 * dt * (q + 0.4 * q ** 3)
    return State(q, p)


STATE = State(rng.normal(size=3), rng.normal(size=3))


def test_hamiltonian_of_a_namedtuple_state():
    q, p = STATE
    grads = ad.grad(hamiltonian)(STATE, 2.0)
    assert type(grads) is State
    np.testing.assert_allclose(grads.q, q + 0.4 * q ** 3, rtol=1e-15)
    np.testing.assert_allclose(grads.p, p / 2.0, rtol=1e-15)
    H = ad.hessian(hamiltonian)(STATE, 2.0)
    assert type(H) is State and type(H.q) is State
    np.testing.assert_allclose(H.q.q, np.diag(1 + 1.2 * q ** 2), rtol=1e-15)
    np.testing.assert_allclose(H.p.p, np.eye(3) / 2.0)
    np.testing.assert_array_equal(H.q.p, 0.0)
    value, derivative = ad.jvp(hamiltonian, (STATE, 2.0),
                               (State(np.ones(3), np.zeros(3)), 1.0))
    assert value == pytest.approx(hamiltonian(STATE, 2.0), rel=1e-15)
    assert derivative == pytest.approx(
        np.sum(q + 0.4 * q ** 3) - 0.5 * np.sum(p ** 2) / 4.0, rel=1e-14)


def test_leapfrog_step_is_symplectic():
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(leapfrog)(STATE, 0.1)
        assert type(J) is State and type(J.q) is State
        M = np.block([[J.q.q, J.q.p], [J.p.q, J.p.p]])
        omega = np.block([[np.zeros((3, 3)), np.eye(3)],
                          [-np.eye(3), np.zeros((3, 3))]])
        np.testing.assert_allclose(M.T @ omega @ M, omega, atol=1e-14)
        np.testing.assert_allclose(M, numeric_jacobian(
            lambda v: np.concatenate(leapfrog(State(v[:3], v[3:]), 0.1)),
            np.concatenate(STATE)), rtol=1e-7, atol=1e-10)
    out, pullback = ad.vjp(leapfrog, STATE, 0.1)
    cotangent, dt_cotangent = pullback(State(np.ones(3), np.zeros(3)))
    assert type(cotangent) is State
    np.testing.assert_allclose(np.concatenate(cotangent),
                               np.ones(3) @ M[:3], rtol=1e-13)
    assert dt_cotangent == pytest.approx(central_difference(
        lambda dt: np.sum(leapfrog(STATE, dt).q), (0.1,), 0), rel=1e-8)


# -- ODEs stepped by loops ----------------------------------------------------

def euler_decay(y0, k, dt, n):
    y = y0
    for i in range(n):
        y = y + dt * (-k * y)
    return y


def euler_nonlinear(y0, k, dt, n):
    y = y0
    for _ in range(n):
        y = y + dt * (-k * y ** 3 + np.sin(y))
    return np.sum(y ** 2)


def rk4_pendulum(state, dt, n):
    def f(s):
        return np.array([s[1], -np.sin(s[0])])
    for _ in range(n):
        k1 = f(state)
        k2 = f(state + 0.5 * dt * k1)
        k3 = f(state + 0.5 * dt * k2)
        k4 = f(state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return state


def test_euler_steps_of_a_linear_decay_against_the_closed_form():
    y0, k, dt = 1.3, 0.5, 0.04
    for n in (20, 1, 0):
        a = 1 - k * dt
        grads = ad.grad(euler_decay, (0, 1, 2))(y0, k, dt, n)
        expected = (a ** n, -y0 * n * dt * a ** (n - 1),
                    -y0 * n * k * a ** (n - 1))
        np.testing.assert_allclose(grads, expected, rtol=1e-13)
    n = 20
    H = ad.hessian(euler_decay, (1, 2))(y0, k, dt, n)
    c = y0 * n * (n - 1) * a ** (n - 2)
    cross = c * k * dt - y0 * n * a ** (n - 1)
    np.testing.assert_allclose(np.array(H, dtype=float),
                               [[c * dt ** 2, cross], [cross, c * k ** 2]],
                               rtol=1e-12)
    assert "for _ in range(n):" in ad.source(ad.grad(euler_decay),
                                             y0, k, dt, n)


def test_names_in_a_loops_hessian_are_whole_words():
    source = ad.source(ad.hessian(euler_decay, (1, 2)), 1.3, 0.5, 0.04, 20)
    assert "y_history = [0.0] * n" in source
    assert "_histor " not in source and "_histor[" not in source


def test_euler_steps_of_a_nonlinear_ode_on_an_array():
    y0 = np.array([0.3, -0.2, 1.0])
    for n in (20, 0):
        args = (y0, 0.5, 0.1, n)
        grads = ad.grad(euler_nonlinear, (0, 1, 2))(*args)
        for i in range(3):
            np.testing.assert_allclose(
                grads[i], numeric_gradient(euler_nonlinear, args, i),
                rtol=1e-7, atol=1e-12)
    args = (y0, 0.5, 0.1, 20)
    np.testing.assert_allclose(ad.hessian(euler_nonlinear)(*args),
                               numeric_jacobian(lambda y: ad.grad(
                                   euler_nonlinear)(y, 0.5, 0.1, 20), y0),
                               rtol=1e-6, atol=1e-8)
    f32 = ad.grad(euler_nonlinear, (0, 1))(y0.astype(np.float32),
                                           np.float32(0.5), np.float32(0.1),
                                           20)
    assert [np.asarray(g).dtype for g in f32] == [np.float32] * 2


def test_rk4_pendulum_jacobians_jvp_and_vjp():
    s0 = np.array([0.5, 0.1])
    J = numeric_jacobian(lambda s: rk4_pendulum(s, 0.1, 10), s0)
    np.testing.assert_allclose(ad.jacrev(rk4_pendulum)(s0, 0.1, 10), J,
                               rtol=1e-8)
    np.testing.assert_allclose(ad.jacfwd(rk4_pendulum)(s0, 0.1, 10), J,
                               rtol=1e-8)
    out, tangent = ad.jvp(rk4_pendulum, (s0, 0.1, 10),
                          (np.array([1.0, -2.0]), 0.0, 0))
    np.testing.assert_allclose(out, rk4_pendulum(s0, 0.1, 10), rtol=1e-15)
    np.testing.assert_allclose(tangent, J @ [1.0, -2.0], rtol=1e-8)
    _, pullback = ad.vjp(rk4_pendulum, s0, 0.1, 10)
    cotangent, dt_cotangent, n_cotangent = pullback(np.array([1.0, 0.0]))
    np.testing.assert_allclose(cotangent, J[0], rtol=1e-8)
    assert dt_cotangent == pytest.approx(central_difference(
        lambda dt: rk4_pendulum(s0, dt, 10)[0], (0.1,), 0), rel=1e-8)
    assert np.shape(n_cotangent) == () and n_cotangent == 0
    f32 = ad.jacobian(rk4_pendulum)(s0.astype(np.float32), np.float32(0.1),
                                    10)
    assert f32.dtype == np.float32


def trajectory_energy(y0, k, n):
    states = []
    for _ in range(n):
        y0 = y0 - 0.1 * k * y0 ** 3
        states.append(y0)
    return np.sum(np.array(states) ** 2)


def trajectory_of_six_steps(y0, k):
    return trajectory_energy(y0, k, 6)


def test_trajectory_collected_in_a_loop_of_constant_length():
    y0 = np.array([0.5, -0.3])
    grads = ad.grad(trajectory_of_six_steps, (0, 1))(y0, 0.7)
    for i in (0, 1):
        np.testing.assert_allclose(grads[i], numeric_gradient(
            trajectory_of_six_steps, (y0, 0.7), i), rtol=1e-8)


def test_trajectory_collected_in_a_loop_of_n_steps():
    y0 = np.array([0.5, -0.3])
    for n in (6, 1, 0):
        grads = ad.grad(trajectory_energy, (0, 1))(y0, 0.7, n)
        for i in (0, 1):
            np.testing.assert_allclose(grads[i], numeric_gradient(
                trajectory_energy, (y0, 0.7, n), i), rtol=1e-8, atol=1e-10)


# -- iterations ---------------------------------------------------------------

def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


def fixed_point_by_for(a):
    x = 1.0
    for _ in range(100):
        x = np.cos(a * x)
    return x


def fixed_point_by_while(a):
    x = 1.0
    x_new = np.cos(a * x)
    while abs(x_new - x) > 1e-12:
        x = x_new
        x_new = np.cos(a * x)
    return x_new


def test_newton_iteration_in_a_while_loop():
    for a in (2.0, 9.0, 0.3):
        assert ad.grad(newton_sqrt)(a) == pytest.approx(0.5 / np.sqrt(a),
                                                        rel=1e-11)
        assert ad.hessian(newton_sqrt)(a) == pytest.approx(
            -0.25 * a ** -1.5, rel=1e-9)
        assert ad.derivative(newton_sqrt, 3)(a) == pytest.approx(
            0.375 * a ** -2.5, rel=1e-8)


def test_newton_iteration_on_an_array_is_refused_at_its_condition():
    # (it takes numbers: the array is what does not fit)
    summed = ad.grad(lambda a: np.sum(newton_sqrt(a)))
    assert summed(2.0) == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-11)
    with pytest.raises(ad.InputError) as caught:
        summed(np.array([2.0, 3.0]))
    assert str(caught.value).endswith(
        f"branches on its arguments with a Python `while` ({__file__}:"
        f"{line_of(newton_sqrt, 'while abs')}), which takes one number at "
        "a time, but argument a is an array of shape (2,). Call the "
        "derivative on each element: a loop runs as many times as one "
        "number says.")


@pytest.mark.parametrize("iterate", [fixed_point_by_for,
                                     fixed_point_by_while])
def test_fixed_point_iteration_against_the_implicit_derivative(iterate):
    a = 0.7
    x = iterate(a)
    assert x == pytest.approx(np.cos(a * x), abs=1e-12)
    s = np.sin(a * x)
    assert ad.grad(iterate)(a) == pytest.approx(-x * s / (1 + a * s),
                                                rel=1e-9)
    assert ad.grad(iterate)(np.float32(a)).dtype == np.float32
    assert ad.derivative(iterate, 3)(a) == pytest.approx(central_difference(
        ad.derivative(iterate, 2), (a,), 0), rel=1e-7)


def sinkhorn_cost(C, a, b, eps):
    K = np.exp(-C / eps)
    u, v = np.ones_like(a), np.ones_like(b)
    for _ in range(50):
        u = a / (K @ v)
        v = b / (K.T @ u)
    return np.sum(u[:, None] * K * v[None, :] * C)


def sinkhorn_to_tolerance(C, a, b, eps):
    K = np.exp(-C / eps)
    u = np.ones_like(a)
    v = b / (K.T @ u)
    while np.max(np.abs(u * (K @ v) - a)) > 1e-10:
        u = a / (K @ v)
        v = b / (K.T @ u)
    return np.sum(u[:, None] * K * v[None, :] * C)


def sinkhorn_tested_inside(C, a, b, eps):
    K = np.exp(-C / eps)
    u = np.ones_like(a)
    v = b / (K.T @ u)
    while True:
        u = a / (K @ v)
        v = b / (K.T @ u)
        if np.max(np.abs(u * (K @ v) - a)) <= 1e-10:
            break
    return np.sum(u[:, None] * K * v[None, :] * C)


COST = rng.random((4, 3))
MARGINALS = (np.full(4, 0.25), np.full(3, 1 / 3))


@pytest.mark.parametrize("transport", [
    sinkhorn_cost, sinkhorn_tested_inside,
    sinkhorn_to_tolerance])  # array work in the condition: sweep 3, bug 10
def test_sinkhorn_iterations(transport):
    args = (COST,) + MARGINALS + (0.5,)
    grads = ad.grad(transport, (0, 3))(*args)
    for g, i in zip(grads, (0, 3)):
        np.testing.assert_allclose(g, numeric_gradient(transport, args, i),
                                   rtol=1e-6, atol=1e-9)


def fixed_point_of_a_map(A, b):
    x = np.zeros_like(b)
    while True:
        x_new = np.tanh(A @ x + b)
        if not np.linalg.norm(x_new - x) > 1e-12:
            break
        x = x_new
    return np.sum(x_new ** 2)


def test_fixed_point_of_a_vector_map():
    A, b = 0.3 * rng.normal(size=(3, 3)), rng.normal(size=3)
    x = np.zeros(3)
    for _ in range(200):
        x = np.tanh(A @ x + b)
    # implicit function theorem: dx = (I - D A)^-1 D db, D = diag(1 - x^2)
    D = np.diag(1 - x ** 2)
    grad_b = D @ np.linalg.solve((np.eye(3) - D @ A).T, 2 * x)
    np.testing.assert_allclose(ad.grad(fixed_point_of_a_map, 1)(A, b),
                               grad_b, rtol=1e-9)


def rayleigh_by_power_iteration(A):
    v = np.ones(A.shape[0])
    for _ in range(200):
        v = A @ v
        v = v / np.linalg.norm(v)
    return v @ A @ v


def test_power_iteration_gradient_is_the_top_eigenprojector():
    S = rng.normal(size=(3, 3))
    S = S @ S.T
    top = np.linalg.eigh(S)[1][:, -1]
    np.testing.assert_allclose(ad.grad(rayleigh_by_power_iteration)(S),
                               np.outer(top, top), rtol=1e-9, atol=1e-12)


def normal_cdf(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def black_scholes_call(S, K, T, r, sigma):
    d1 = ((math.log(S / K) + (r + 0.5 * sigma ** 2) * T)
          / (sigma * math.sqrt(T)))
    d2 = d1 - sigma * math.sqrt(T)
    return S * normal_cdf(d1) - K * math.exp(-r * T) * normal_cdf(d2)


def test_black_scholes_greeks_in_closed_form():
    S, K, T, r, sigma = 100.0, 95.0, 0.5, 0.02, 0.25
    d1 = (math.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    pdf = math.exp(-d1 ** 2 / 2) / math.sqrt(2 * math.pi)
    delta, rho, vega = ad.grad(black_scholes_call, (0, 3, 4))(S, K, T, r,
                                                              sigma)
    assert delta == pytest.approx(normal_cdf(d1), rel=1e-14)
    assert vega == pytest.approx(S * pdf * math.sqrt(T), rel=1e-12)
    assert rho == pytest.approx(K * T * math.exp(-r * T) * normal_cdf(d2),
                                rel=1e-12)
    assert ad.hessian(black_scholes_call)(S, K, T, r, sigma) == \
        pytest.approx(pdf / (S * sigma * math.sqrt(T)), rel=1e-12)


# -- linear algebra in a loss -------------------------------------------------

def solve_loss(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x ** 2)


def log_det_and_trace_of_inverse(A):
    return np.log(np.linalg.det(A)) + np.trace(np.linalg.inv(A))


def quadratic_form_of_inverse(A, b):
    return b @ np.linalg.inv(A) @ b


A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
B = rng.normal(size=3)


def test_solve_in_a_loss():
    x = np.linalg.solve(A, B)
    grad_A, grad_b = ad.grad(solve_loss, (0, 1))(A, B)
    np.testing.assert_allclose(grad_b, 2 * np.linalg.solve(A.T, x),
                               rtol=1e-13)
    np.testing.assert_allclose(grad_A, -np.outer(grad_b, x), rtol=1e-13)
    Ainv = np.linalg.inv(A)
    np.testing.assert_allclose(ad.hessian(solve_loss, 1)(A, B),
                               2 * Ainv.T @ Ainv, rtol=1e-13)
    H = ad.hessian(solve_loss, (0, 1))(A, B)
    assert [[h.shape for h in row] for row in H] == [
        [(3, 3, 3, 3), (3, 3, 3)], [(3, 3, 3), (3, 3)]]
    np.testing.assert_allclose(H[0][1], numeric_jacobian(
        lambda b: ad.grad(solve_loss)(A, b), B), rtol=1e-7)


def test_det_inv_and_trace_in_a_loss():
    Ainv = np.linalg.inv(A)
    np.testing.assert_allclose(ad.grad(log_det_and_trace_of_inverse)(A),
                               Ainv.T - (Ainv @ Ainv).T, rtol=1e-13)
    np.testing.assert_allclose(
        ad.hessian(log_det_and_trace_of_inverse)(A), numeric_jacobian(
            ad.grad(log_det_and_trace_of_inverse), A), rtol=1e-7, atol=1e-9)
    grad_A, grad_b = ad.grad(quadratic_form_of_inverse, (0, 1))(A, B)
    np.testing.assert_allclose(grad_b, (Ainv + Ainv.T) @ B, rtol=1e-13)
    np.testing.assert_allclose(grad_A, -np.outer(Ainv.T @ B, Ainv @ B),
                               rtol=1e-13)


def test_gradient_of_a_trace_of_an_inverse_reads_as_written_by_hand():
    source = ad.source(ad.grad(log_det_and_trace_of_inverse), A)
    assert source.endswith("    return inv_A_T - inv_A_T @ inv_A_T\n")


def rbf_kernel(x, length):
    d2 = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1)
    return np.exp(-0.5 * d2 / length ** 2)


def gp_negative_log_likelihood(log_length, log_noise, x, y):
    K = rbf_kernel(x, np.exp(log_length)) + \
        np.exp(2 * log_noise) * np.eye(x.shape[0])
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return (0.5 * y @ alpha + np.sum(np.log(np.diag(L)))
            + 0.5 * len(y) * np.log(2 * np.pi))


def test_gaussian_process_likelihood_with_cholesky():
    # (its own generator: drawn from the module's, after whichever tests
    # ran first on the worker, the data once put an entry of the gradient
    # at 1e-3, where central differences are 3e-7 off relatively)
    local = np.random.default_rng(662)
    x, y = local.normal(size=(6, 2)), local.normal(size=6)
    args = (0.1, -1.0, x, y)
    grads = ad.grad(gp_negative_log_likelihood, (0, 1, 2))(*args)
    for i in range(3):
        np.testing.assert_allclose(grads[i], numeric_gradient(
            gp_negative_log_likelihood, args, i), rtol=1e-7)
    # the closed form in the noise: 0.5 tr((K^-1 - alpha alpha^T) dK)
    K = rbf_kernel(x, np.exp(0.1)) + np.exp(-2.0) * np.eye(6)
    alpha = np.linalg.solve(K, y)
    dK = 2 * np.exp(-2.0) * np.eye(6)
    assert grads[1] == pytest.approx(0.5 * np.trace(
        (np.linalg.inv(K) - np.outer(alpha, alpha)) @ dK), rel=1e-12)


# -- matrix functions of small matrices ---------------------------------------

def expm_by_taylor(A):
    result = np.eye(A.shape[0])
    term = np.eye(A.shape[0])
    for k in range(1, 20):
        term = term @ A / k
        result = result + term
    return result


def sqrtm_by_denman_beavers(A):
    Y = A
    Z = np.eye(A.shape[0])
    for _ in range(12):
        Y, Z = 0.5 * (Y + np.linalg.inv(Z)), 0.5 * (Z + np.linalg.inv(Y))
    return Y


def sum_of_expm(A):
    return np.sum(expm_by_taylor(A))


def sum_of_sqrtm(A):
    return np.sum(sqrtm_by_denman_beavers(A))


def test_matrix_exponential_by_a_taylor_loop():
    M = 0.3 * rng.normal(size=(3, 3))
    # d sum(expm(A)) = <1, L(A, dA)> = <L(A^T, 1), dA> (the Frechet
    # derivative's adjoint)
    expected = scipy.linalg.expm_frechet(M.T, np.ones((3, 3)),
                                         compute_expm=False)
    np.testing.assert_allclose(ad.grad(sum_of_expm)(M), expected, rtol=1e-12)
    reverse = ad.jacrev(expm_by_taylor)(M)
    np.testing.assert_allclose(ad.jacfwd(expm_by_taylor)(M), reverse,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(reverse.sum(axis=(0, 1)), expected,
                               rtol=1e-12)
    assert ad.grad(sum_of_expm)(M.astype(np.float32)).dtype == np.float32


def test_matrix_square_root_by_an_iteration():
    S = rng.normal(size=(3, 3))
    S = S @ S.T + 3 * np.eye(3)
    Y = scipy.linalg.sqrtm(S).real
    np.testing.assert_allclose(sqrtm_by_denman_beavers(S), Y, rtol=1e-12)
    # dY solves Y dY + dY Y = dA, so the gradient of sum(Y) solves
    # Y G + G Y = ones (Y is symmetric)
    expected = scipy.linalg.solve_sylvester(Y, Y, np.ones((3, 3)))
    np.testing.assert_allclose(ad.grad(sum_of_sqrtm)(S), expected, rtol=1e-9)


# -- NumPy functions scientific code calls ------------------------------------

def trapezoid_with_diff(x, y):
    return np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2)


def test_np_diff():
    x = np.linspace(0.0, 1.0, 7) ** 2
    y = np.cos(3 * x)
    grad_x, grad_y = ad.grad(trapezoid_with_diff, (0, 1))(x, y)
    expected = ad.grad(trapezoid_on_a_grid, (0, 1))(x, y)
    np.testing.assert_allclose(grad_x, expected[0], rtol=1e-15)
    np.testing.assert_allclose(grad_y, expected[1], rtol=1e-15)


def polyval_loss(c, x):
    return np.sum(np.polyval(c, x) ** 2)


def smoothed(x):
    return np.sum(np.convolve(x, np.array([0.25, 0.5, 0.25]), 'valid') ** 2)


def eigenvalue_energy(A):
    return np.sum(np.linalg.eigvalsh(A) ** 2)


def expm_by_eigh(A):
    w, V = np.linalg.eigh(A)
    return np.sum(V @ np.diag(np.exp(w)) @ V.T)


def general_eigenvalues(A):
    return np.sum(np.abs(np.linalg.eigvals(A)))


def eigen_pairs(A):
    return np.sum(np.linalg.eig(A)[0])


def least_squares(A, b):
    return np.sum(np.linalg.lstsq(A, b, rcond=None)[0] ** 2)


def test_np_polyval_in_the_coefficients_and_the_points():
    x = np.array([0.5, -1.0, 2.0])
    powers = np.vander(x, len(COEFFS))
    values = powers @ COEFFS
    slopes = np.vander(x, len(COEFFS) - 1) @ np.polyder(COEFFS)
    grad_c, grad_x = ad.grad(polyval_loss, (0, 1))(COEFFS, x)
    np.testing.assert_allclose(grad_c, 2 * values @ powers, rtol=1e-14)
    np.testing.assert_allclose(grad_x, 2 * values * slopes, rtol=1e-14)


def test_least_squares_are_differentiated():
    A = np.array([[2.0, 0.5], [0.3, 1.0], [0.0, 0.4]])
    b = np.array([1.0, -2.0, 0.5])
    for argnum in (0, 1):
        np.testing.assert_allclose(
            ad.grad(least_squares, argnum)(A, b),
            numeric_gradient(least_squares, (A, b), argnum), rtol=1e-7)


def test_symmetric_eigenproblems_are_differentiated():
    # The sum of the squared eigenvalues of S is sum(S ** 2): 2 S.
    S = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, -1.0]])
    np.testing.assert_allclose(ad.grad(eigenvalue_energy)(S), 2 * S,
                               rtol=1e-12, atol=1e-14)
    # expm by eigh: the gradient of the function of the symmetrised
    # matrix, as JAX takes it.
    expected = numeric_gradient(lambda M: expm_by_eigh((M + M.T) / 2),
                                (S,), 0)
    np.testing.assert_allclose(ad.grad(expm_by_eigh)(S), expected,
                               rtol=1e-7)


def test_np_convolve_is_differentiated():
    # (it was refused as outside the rules table): the gradient of the
    # smoothed signal's energy is the smoothing applied back, a correlation
    x = np.array([0.3, -1.0, 2.0, 0.5, 1.2])
    kernel = np.array([0.25, 0.5, 0.25])
    expected = np.correlate(2 * np.convolve(x, kernel, 'valid'), kernel,
                            'full')
    np.testing.assert_allclose(ad.grad(smoothed)(x), expected, rtol=1e-14)


@pytest.mark.parametrize("f, name, args", [
    (general_eigenvalues, "np.linalg.eigvals", (np.eye(3),)),
    (eigen_pairs, "np.linalg.eig", (np.eye(3),)),
])
def test_functions_outside_the_rules_table_are_refused_at_their_line(
        f, name, args):
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(f)(*args)
    assert caught.value.lineno == line_of(f, name + "(")
    assert caught.value.msg == (
        f"{name} is not supported: it is a NumPy function outside "
        "autodiff_ast's rules table, and library code is never read and "
        "differentiated. Compute its result outside the function and pass "
        "it in (as an argument or a global), or write it with supported "
        "operations: arithmetic and the NumPy and math functions of the "
        "rules table")
