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


# was sweep4 bug 13: read the list as it was before the loop
def test_geometric_series_by_append_in_a_loop_of_n():
    a, n = 0.7, 4
    value, slope = ad.value_and_grad(geometric_series_by_append)(a, n)
    assert value == pytest.approx((1 - a ** 5) / (1 - a), rel=1e-14)
    assert slope == pytest.approx(1 + 2 * a + 3 * a ** 2 + 4 * a ** 3,
                                  rel=1e-14)


# was sweep4 bug 13: read the list as it was before the loop
def test_geometric_series_by_append_in_a_long_constant_loop():
    a = 0.7
    k = np.arange(13)
    value, slope = ad.value_and_grad(geometric_series_of_twelve)(a)
    assert value == pytest.approx(np.sum(a ** k), rel=1e-14)
    assert slope == pytest.approx(np.sum(k[1:] * a ** (k[1:] - 1)), rel=1e-14)


# was sweep4 bug 13: read the list as it was before the loop
def test_fibonacci_like_recurrence_over_the_last_two_items():
    # ys = 1, a, 1+a, 1+2a, 2+3a, 3+5a, 5+8a: after 5 steps 5 + 8a
    value, slope = ad.value_and_grad(fibonacci_like)(0.7, 5)
    assert value == pytest.approx(5 + 8 * 0.7, rel=1e-14)
    assert slope == pytest.approx(8.0, rel=1e-14)


# was sweep4 bug 13: read the list as it was before the loop
def test_a_trajectory_stepped_from_its_last_point():
    x0 = np.array([0.5, 1.0])
    value, gradient = ad.value_and_grad(trajectory_from_the_last_point)(x0, 6)
    assert value == pytest.approx(trajectory_from_the_last_point(x0, 6),
                                  rel=1e-14)
    np.testing.assert_allclose(
        gradient, numeric_gradient(trajectory_from_the_last_point, (x0, 6), 0),
        rtol=1e-6)


def trajectory_from_the_item_at_len_minus_one(x0, n):
    xs = [x0]
    for _ in range(n):
        xs.append(np.tanh(xs[len(xs) - 1] + 0.3))
    return np.sum(xs[-1])


def steps_until_the_last_item_passes(a):
    out = [0.0]
    while out[-1] < 5.0:
        out.append(out[-1] + a)
    return out[-1] * a


# was sweep4 bug 13: read the list as it was before the loop
def test_a_trajectory_stepped_from_the_item_at_len_minus_one():
    x0 = np.array([0.5, -1.2, 2.0])
    value, gradient = ad.value_and_grad(
        trajectory_from_the_item_at_len_minus_one)(x0, 5)
    assert value == pytest.approx(
        trajectory_from_the_item_at_len_minus_one(x0, 5), rel=1e-14)
    np.testing.assert_allclose(gradient, numeric_gradient(
        trajectory_from_the_item_at_len_minus_one, (x0, 5), 0), rtol=1e-6)


# was sweep4 bug 13: refused, out[-1] read as the list before the loop
def test_a_while_loop_on_the_last_item_appended():
    value, slope = ad.value_and_grad(steps_until_the_last_item_passes)(1.5)
    assert value == pytest.approx(9.0, rel=1e-14)
    assert slope == pytest.approx(12.0, rel=1e-14)


# -- arrays filled step by step ------------------------------------------------------

def decay_filled_item_by_item(x0):
    x = np.zeros(50)
    x[0] = x0
    for t in range(49):
        x[t + 1] = 0.9 * x[t] + 0.1
    return x[-1]


def smoothed_series(xs):
    out = np.zeros_like(xs)
    out[0] = xs[0]
    for t in range(1, xs.shape[0]):
        out[t] = 0.5 * out[t - 1] + xs[t]
    return np.sum(out ** 2)


def test_a_vector_filled_from_its_previous_item():
    # x_49 = 0.9^49 x0 + const
    assert ad.grad(decay_filled_item_by_item)(1.0) == pytest.approx(
        0.9 ** 49, rel=1e-12)
    xs = np.array([0.5, -1.2, 2.0, 0.7])
    np.testing.assert_allclose(ad.grad(smoothed_series)(xs),
                               numeric_gradient(smoothed_series, (xs,), 0),
                               rtol=1e-6)


def positions_filled_row_by_row(p0):
    P = np.zeros((4, 2))
    P[0] = p0
    for t in range(1, 4):
        P[t] = np.tanh(P[t - 1] * 0.5 + 0.1)
    return np.sum(P ** 2)


def rows_filled_over_the_data(p0, xs):
    P = np.zeros((xs.shape[0], 2))
    P[0] = p0
    for t in range(1, xs.shape[0]):
        P[t] = P[t - 1] * 0.5 + xs[t]
    return np.sum(P ** 2)


def euler_into_two_arrays(x0):
    x = np.zeros(5)
    v = np.zeros(5)
    x[0] = x0
    for t in range(4):
        v[t + 1] = v[t] - 0.1 * x[t]
        x[t + 1] = x[t] + 0.1 * v[t + 1]
    return x[-1]


def diffusion_2d_with_neumann_edges(u0):
    u = u0.copy()
    for n in range(3):
        un = u.copy()
        u[1:-1, 1:-1] = (un[1:-1, 1:-1]
                         + 0.1 * (un[2:, 1:-1] - 2 * un[1:-1, 1:-1]
                                  + un[:-2, 1:-1])
                         + 0.1 * (un[1:-1, 2:] - 2 * un[1:-1, 1:-1]
                                  + un[1:-1, :-2]))
        u[0, :] = u[1, :]
        u[-1, :] = u[-2, :]
        u[:, 0] = u[:, 1]
        u[:, -1] = u[:, -2]
    return np.sum(u ** 3)


def ends_copied_into_a_product(u0):
    un = u0 * 1.0
    un[1:-1] = u0[1:-1] * 0.5
    un[0] = un[1]
    un[-1] = un[-2]
    return np.sum(un ** 2)


# was sweep4 bug 18: refused as 'read before it is filled' (P[t] from
# P[t - 1], two arrays stepped together, ends copied from neighbours)
@pytest.mark.parametrize("f, args", [
    (positions_filled_row_by_row, (np.array([0.5, -1.2]),)),
    (rows_filled_over_the_data, (np.array([0.5, -1.2]), np.ones((4, 2)))),
    (euler_into_two_arrays, (np.array(1.0),)),
    (ends_copied_into_a_product, (np.array([0.5, -1.2, 2.0, 0.7]),)),
    (diffusion_2d_with_neumann_edges,
     (np.cos(np.arange(20.0) * 1.3).reshape(4, 5),))],
    ids=["rows-unrolled", "rows-over-data", "two-arrays", "product-copy",
         "neumann-2d"])
def test_histories_filled_from_the_previous_step(f, args):
    np.testing.assert_allclose(ad.grad(f)(*args),
                               numeric_gradient(f, args, 0), rtol=1e-6,
                               atol=1e-9)


def zeros_of_a_passed_size(x0, n):
    y = np.zeros(n)
    y[0] = x0
    return np.sum(y * np.arange(1.0, n + 1))


def ramp_of_a_passed_size(x, n):
    return np.sum(np.arange(n) * x ** 2)


def grid_of_a_passed_size(x, n):
    return np.sum(np.linspace(0.0, 1.0, n) * x ** 2)


def filled_by_hand(x0):
    y = np.empty(3)
    y[0] = x0
    y[1] = 2 * x0
    y[2] = x0 ** 2
    return np.sum(y ** 2)


# was sweep4 bug 19: arrays sized by an int argument were refused, and
# np.empty(3) filled item by item
@pytest.mark.parametrize("f, args, expected", [
    (zeros_of_a_passed_size, (0.7, 3), 1.0),
    (ramp_of_a_passed_size, (0.7, 4), 2 * 0.7 * 6),
    (grid_of_a_passed_size, (0.7, 3), 2 * 0.7 * 1.5),
    (filled_by_hand, (0.7,), 2 * 0.7 + 8 * 0.7 + 4 * 0.7 ** 3)],
    ids=["zeros", "arange", "linspace", "empty"])
def test_arrays_sized_when_the_function_runs(f, args, expected):
    assert ad.grad(f)(*args) == pytest.approx(expected, rel=1e-12)


# -- finite-difference solvers in the "CFD Python" style -----------------------------

def linear_convection_by_items(u0, c):
    u = u0.copy()
    nx = u.shape[0]
    dt, dx = 0.025, 0.1
    for n in range(4):
        un = u.copy()
        for i in range(1, nx):
            u[i] = un[i] - c * dt / dx * (un[i] - un[i - 1])
    return np.sum(u ** 2)


def burgers_periodic(u0, nu):
    u = u0.copy()
    dt, dx = 0.01, 0.1
    for n in range(4):
        un = u.copy()
        u[1:-1] = (un[1:-1] - un[1:-1] * dt / dx * (un[1:-1] - un[:-2])
                   + nu * dt / dx ** 2 * (un[2:] - 2 * un[1:-1] + un[:-2]))
        u[0] = (un[0] - un[0] * dt / dx * (un[0] - un[-2])
                + nu * dt / dx ** 2 * (un[1] - 2 * un[0] + un[-2]))
        u[-1] = u[0]
    return np.sum(u ** 2)


def diffusion_with_neumann_ends(u0):
    u = u0.copy()
    for n in range(3):
        un = u.copy()
        u[1:-1] = un[1:-1] + 0.2 * (un[2:] - 2 * un[1:-1] + un[:-2])
        u[0] = u[1]
        u[-1] = u[-2]
    return np.sum(u ** 2)


U0 = np.array([0.5, -1.2, 2.0, 0.7, 0.1, 0.3])


@pytest.mark.parametrize("f, args, argnum", [
    (linear_convection_by_items, (U0, 1.0), 0),
    (linear_convection_by_items, (U0, 1.0), 1),
    (burgers_periodic, (U0, 0.07), 0),
    (burgers_periodic, (U0, 0.07), 1),
    (diffusion_with_neumann_ends, (U0,), 0)])
def test_finite_difference_solvers_updating_in_place(f, args, argnum):
    np.testing.assert_allclose(ad.grad(f, argnums=argnum)(*args),
                               numeric_gradient(f, args, argnum), rtol=1e-6,
                               atol=1e-9)


def stencil_with_a_boundary_column(u0):
    u = u0.copy()
    for _ in range(2):
        un = u.copy()
        un[:, 3] = u[:, 0] * 0.7
        un[1:, :] = 0.5 * (u[1:, :] + u[:-1, :])
        un[1] = 0.5 * u[2] + np.tanh(u[1])
        u = un
    return np.sum(u ** 2 * np.arange(1.0, 13.0).reshape(3, 4))


# was sweep4 bug 23: the backward loop ran the item loop forwards again
# to fill a history it never read, and made zeros and a copy per item
def test_the_item_by_item_update_gradient_reads_well():
    from generated_lint import lint

    source = ad.source(ad.grad(linear_convection_by_items), U0, 1.0)
    assert "np.copy(u_1)" not in source and "_history[i - 1]" not in source
    assert "np.zeros_like" not in source
    assert not lint(source)


def heat_into_a_new_copy(u0, steps):
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        un[1:-1] = u[1:-1] + 0.2 * (u[2:] - 2 * u[1:-1] + u[:-2])
        un[0] = un[1]
        un[-1] = un[-2]
        u = un
    return np.sum(u ** 2)


def heat_into_a_new_copy_five_steps(u0):
    u = u0.copy()
    for _ in range(5):
        un = u.copy()
        un[1:-1] = u[1:-1] + 0.2 * (u[2:] - 2 * u[1:-1] + u[:-2])
        un[0] = un[1]
        un[-1] = un[-2]
        u = un
    return np.sum(u ** 2)


def halved_inside_with_both_ends_copied(u0, steps):
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        un[1:-1] = u[1:-1] * 0.5
        un[0] = un[1]
        un[-1] = un[-2]
        u = un
    return np.sum(u ** 2)


def a_slice_then_an_item_inside_it(u0, steps):
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        un[3:5] = 0.5 * u[0:2]
        un[4] = un[5]
        u = np.tanh(un)
    return np.sum(u ** 2)


# was sweep4 bug 20: zero gradient, a view read after its array was filled
@pytest.mark.parametrize("f, args", [
    (heat_into_a_new_copy, (U0, 3)),
    (heat_into_a_new_copy_five_steps, (U0,)),
    (halved_inside_with_both_ends_copied, (U0, 1)),
    (a_slice_then_an_item_inside_it, (U0, 2))],
    ids=["heat-steps", "heat-five", "halved-one", "slice-then-item"])
def test_a_copy_filled_inside_then_at_both_ends(f, args):
    gradient = ad.grad(f)(*args)
    np.testing.assert_allclose(gradient, numeric_gradient(f, args, 0),
                               rtol=1e-6, atol=1e-9)


def two_item_updates(u0):
    u = u0.copy()
    for _ in range(2):
        un = u.copy()
        un[2] = 2.0 * un[0] + u[2] ** 2
        un[4] = un[3]
        u = np.tanh(un) * 0.9
    return np.sum(u ** 2 * np.arange(1.0, 7.0))


def test_two_item_updates_gradient_and_hessian_vector_product():
    np.testing.assert_allclose(
        ad.grad(two_item_updates)(U0),
        numeric_gradient(two_item_updates, (U0,), 0), rtol=1e-6, atol=1e-9)
    H = np.array([numeric_gradient(lambda u: ad.grad(two_item_updates)(u)[i],
                                   (U0,), 0) for i in range(6)])
    t = np.ones(6)
    np.testing.assert_allclose(
        ad.jvp(ad.grad(two_item_updates), (U0,), (t,))[1], H @ t,
        rtol=1e-6, atol=1e-8)


# a form of bug 20 found after it was filed (a stencil with a boundary
# column), and bug 24 (a wrong Hessian, d2/du0[0]^2 = -0.807 for -2.958:
# the batched tangent code read a row view after changing it in place),
# both fixed with bug 20
def test_a_2d_stencil_with_a_boundary_column():
    U = np.cos(np.arange(12.0) * 1.7).reshape(3, 4)
    np.testing.assert_allclose(
        ad.grad(stencil_with_a_boundary_column)(U),
        numeric_gradient(stencil_with_a_boundary_column, (U,), 0),
        rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("transform", [ad.hessian,
                                       lambda f: ad.jacobian(ad.grad(f))],
                         ids=["hessian", "jacobian-of-grad"])
def test_two_item_updates_hessian(transform):
    H = np.array([numeric_gradient(lambda u: ad.grad(two_item_updates)(u)[i],
                                   (U0,), 0) for i in range(6)])
    np.testing.assert_allclose(transform(two_item_updates)(U0), H,
                               rtol=1e-6, atol=1e-8)
