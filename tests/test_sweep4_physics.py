"""Physics and ODE code (sweep 4): RK4 steps of a harmonic oscillator in a
Python loop, a pendulum by symplectic Euler with keyword parameters, Newton
iterations differentiated through (against the implicit derivative), an
energy history collected by append, and trajectories that read their own
last point (``traj[-1]``) while growing.

Values are checked against closed forms (1e-12) or fourth-order central
differences of the user's function (rtol 1e-6). Known bugs are strict xfails
whose reason names their entry in the sweep's list.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient


def oscillator(y, k):
    return np.array([y[1], -k * y[0]])


def rk4_step(f, y, dt, k):
    k1 = f(y, k)
    k2 = f(y + dt / 2 * k1, k)
    k3 = f(y + dt / 2 * k2, k)
    k4 = f(y + dt * k3, k)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def energy_after(y0, k, n=50, dt=0.05):
    y = y0
    for _ in range(n):
        y = rk4_step(oscillator, y, dt, k)
    return 0.5 * y[1] ** 2 + 0.5 * k * y[0] ** 2


def position_after(y0, k, n, dt):
    y = y0
    for _ in range(n):
        y = rk4_step(oscillator, y, dt, k)
    return y[0]


Y0 = np.array([1.0, 0.3])


def test_rk4_energy_in_the_initial_state_and_the_stiffness():
    g_y0, g_k = ad.grad(energy_after, argnums=(0, 1))(Y0, 2.0)
    np.testing.assert_allclose(g_y0, numeric_gradient(energy_after, (Y0, 2.0), 0),
                               rtol=1e-6)
    assert g_k == pytest.approx(central_difference(energy_after, (Y0, 2.0), 1),
                                rel=1e-6)
    # RK4 nearly conserves the energy 0.5 v^2 + 0.5 k x^2: its gradient in
    # y0 is close to (k x0, v0)
    np.testing.assert_allclose(g_y0, [2.0, 0.3], rtol=1e-6)
    H = ad.hessian(energy_after)(Y0, 2.0)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    for i in range(2):
        np.testing.assert_allclose(
            H[i], numeric_gradient(
                lambda y: ad.grad(energy_after)(y, 2.0)[i], (Y0,), 0),
            rtol=1e-6, atol=1e-7)


def test_rk4_with_the_step_count_passed_in():
    g_y0, g_k = ad.grad(position_after, argnums=(0, 1))(Y0, 2.0, 40, 0.05)
    np.testing.assert_allclose(
        g_y0, numeric_gradient(position_after, (Y0, 2.0, 40, 0.05), 0),
        rtol=1e-6)
    assert g_k == pytest.approx(
        central_difference(position_after, (Y0, 2.0, 40, 0.05), 1), rel=1e-6)
    J = ad.jacobian(lambda y: rk4_step(oscillator, y, 0.1, 2.0))(Y0)
    # one RK4 step of y'' = -k y is the degree-4 Taylor polynomial of
    # exp(dt A), A = [[0, 1], [-k, 0]]
    A = np.array([[0.0, 1.0], [-2.0, 0.0]]) * 0.1
    taylor = np.eye(2) + A + A @ A / 2 + A @ A @ A / 6 + A @ A @ A @ A / 24
    np.testing.assert_allclose(J, taylor, rtol=1e-13)


def pendulum(theta0, omega0, g=9.81, L=1.0, dt=0.01, n=100):
    th, om = theta0, omega0
    for _ in range(n):
        th, om = th + dt * om, om - dt * g / L * math.sin(th)
    return th


def test_pendulum_in_initial_conditions_and_keyword_parameters():
    g_th, g_om = ad.grad(pendulum, argnums=(0, 1))(0.5, 0.0)
    assert g_th == pytest.approx(central_difference(pendulum, (0.5, 0.0), 0),
                                 rel=1e-6)
    assert g_om == pytest.approx(central_difference(pendulum, (0.5, 0.0), 1),
                                 rel=1e-6)
    g_long = ad.grad(pendulum)(0.5, 0.0, L=2.0)
    assert g_long == pytest.approx(central_difference(
        lambda t: pendulum(t, 0.0, L=2.0), (0.5,), 0), rel=1e-6)
    d2 = ad.hessian(pendulum)(0.5, 0.0)
    assert d2 == pytest.approx(central_difference(
        lambda t: ad.grad(pendulum)(t, 0.0), (0.5,), 0), rel=1e-6)


def newton_sqrt(a):
    x = a
    for _ in range(20):
        x = 0.5 * (x + a / x)
    return x


def newton_cube_root(c):
    x = 1.0
    for _ in range(30):
        fx = x ** 3 - c
        x = x - fx / (3 * x ** 2)
    return x


def test_newton_iterations_give_the_implicit_derivative():
    assert ad.grad(newton_sqrt)(2.0) == pytest.approx(0.5 / math.sqrt(2),
                                                      rel=1e-14)
    assert ad.derivative(newton_sqrt, 2)(2.0) == pytest.approx(
        -0.25 * 2 ** -1.5, rel=1e-12)
    assert ad.grad(newton_cube_root)(5.0) == pytest.approx(
        5 ** (-2 / 3) / 3, rel=1e-14)


def mean_energy(q0, p0, m, k, dt, n):
    q, p = q0, p0
    E = []
    for _ in range(n):
        p = p - dt * k * q
        q = q + dt * p / m
        E.append(0.5 * p ** 2 / m + 0.5 * k * q ** 2)
    return np.mean(np.array(E))


def test_an_energy_history_collected_by_append():
    args = (1.0, 0.0, 1.0, 1.0, 0.1, 30)
    grads = ad.grad(mean_energy, argnums=(0, 1, 2, 3))(*args)
    for i, g in enumerate(grads):
        assert g == pytest.approx(central_difference(mean_energy, args, i),
                                  rel=1e-6)


# -- lists that read their own last item while they grow -----------------------------

def trajectory_from_the_last_point(x0, n):
    traj = [x0]
    for _ in range(n):
        x = traj[-1]
        traj.append(x - 0.1 * x ** 3)
    return np.sum(np.array(traj) ** 2)


def geometric_series_by_append(a, n):
    ys = [1.0]
    for _ in range(n):
        ys.append(a * ys[-1])
    return sum(ys)


def geometric_series_of_twelve(a):
    ys = [1.0]
    for _ in range(12):
        ys.append(a * ys[-1])
    return sum(ys)


def geometric_series_of_four(a):
    ys = [1.0]
    for _ in range(4):
        ys.append(a * ys[-1])
    return sum(ys)


def fibonacci_like(a, n):
    ys = [1.0, a]
    for _ in range(n):
        ys.append(ys[-1] + ys[-2])
    return ys[-1]


def test_an_unrolled_loop_reads_the_last_item_appended():
    # 1 + a + a^2 + a^3 + a^4: derivative 1 + 2a + 3a^2 + 4a^3
    a = 0.7
    assert ad.grad(geometric_series_of_four)(a) == pytest.approx(
        1 + 2 * a + 3 * a ** 2 + 4 * a ** 3, rel=1e-14)


LAST_ITEM_BUG = pytest.mark.xfail(strict=True, reason=(
    "sweep4 bug 13: in a loop the code keeps (range(n), or 10 iterations "
    "or more), ys[-1] (and ys[-2]) read the list as it was before the loop, "
    "not what the last iteration appended: the geometric series "
    "1 + a + ... + a^n gets value 1 + n a and derivative n; x = traj[-1] "
    "integrates from x0 at every step; value and gradient are another "
    "function's"))


@LAST_ITEM_BUG
def test_geometric_series_by_append_in_a_loop_of_n():
    a, n = 0.7, 4
    value, slope = ad.value_and_grad(geometric_series_by_append)(a, n)
    assert value == pytest.approx((1 - a ** 5) / (1 - a), rel=1e-14)
    assert slope == pytest.approx(1 + 2 * a + 3 * a ** 2 + 4 * a ** 3,
                                  rel=1e-14)


@LAST_ITEM_BUG
def test_geometric_series_by_append_in_a_long_constant_loop():
    a = 0.7
    k = np.arange(13)
    value, slope = ad.value_and_grad(geometric_series_of_twelve)(a)
    assert value == pytest.approx(np.sum(a ** k), rel=1e-14)
    assert slope == pytest.approx(np.sum(k[1:] * a ** (k[1:] - 1)), rel=1e-14)


@LAST_ITEM_BUG
def test_fibonacci_like_recurrence_over_the_last_two_items():
    # ys = 1, a, 1+a, 1+2a, 2+3a, 3+5a, 5+8a: after 5 steps 5 + 8a
    value, slope = ad.value_and_grad(fibonacci_like)(0.7, 5)
    assert value == pytest.approx(5 + 8 * 0.7, rel=1e-14)
    assert slope == pytest.approx(8.0, rel=1e-14)


@LAST_ITEM_BUG
def test_a_trajectory_stepped_from_its_last_point():
    x0 = np.array([0.5, 1.0])
    value, gradient = ad.value_and_grad(trajectory_from_the_last_point)(x0, 6)
    assert value == pytest.approx(trajectory_from_the_last_point(x0, 6),
                                  rel=1e-14)
    np.testing.assert_allclose(
        gradient, numeric_gradient(trajectory_from_the_last_point, (x0, 6), 0),
        rtol=1e-6)
