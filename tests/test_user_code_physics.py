"""Physics, geometry and plain scalar code as people write it: a behaviour
sweep (issue 10, third round).

Pair potentials of N particles by broadcasting (Lennard-Jones, Coulomb,
gravity; the diagonal masked with ``np.eye``, pairs by ``np.triu_indices``
or by loops; periodic boundaries by ``np.round``), bond and dihedral angles,
polygon areas by the shoelace formula with ``np.roll``, rotation matrices
built from angles, arc lengths by ``np.diff``, harmonic chains, a robot
arm's forward kinematics, projectile ranges and a brachistochrone; then
scalar code as it is written by hand: ``math`` functions, defaults and
keyword arguments, helpers calling helpers, module constants, callable
objects, dataclasses, ``functools.partial``, recursion, ``sum`` of a
generator, powers, ``abs``/``min``/``max`` and conditional expressions, and
printed source run by ``exec``. Values are checked against closed forms,
physical invariants (forces sum to zero, torques vanish) or central
differences. The optimisation and ML half is test_user_code_optimisation.py.
Known bugs are strict xfails whose reason names their entry in the sweep's
list.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
from dataclasses import dataclass

import numpy
import numpy as np
import pytest
from numpy import sum as npsum

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient

rng = np.random.default_rng(11)
# four particles in 3-D, no two closer than 0.9
POINTS = np.array([[0.0, 0.0, 0.0], [1.1, 0.1, -0.2], [0.2, 1.2, 0.3],
                   [1.0, 1.0, 1.1]])
CHARGES = np.array([1.0, -1.0, 0.5, 2.0])


def line_of(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


def numeric_jacobian(f, x):
    """d f(x) / d x laid out as JAX's: ``f(x).shape + x.shape``."""
    shape = np.shape(f(x))
    rows = [numeric_gradient(lambda v: np.asarray(f(v))[i], (x,), 0)
            for i in np.ndindex(shape)]
    return np.reshape(rows, shape + np.shape(x))


def pairwise_forces(x, dV_dr, box=None):
    """dE/dx of E = sum over pairs of V(|x_i - x_j|), by loops (with the
    nearest periodic image in a cubic box of side ``box``)."""
    g = np.zeros_like(x)
    for i in range(len(x)):
        for j in range(len(x)):
            if i != j:
                d = x[i] - x[j]
                if box is not None:
                    d = d - box * np.round(d / box)
                r = np.linalg.norm(d)
                g[i] += dV_dr(r, i, j) * d / r
    return g


def known_bug(case, number, reason, raises=ad.UnsupportedCodeError):
    """A parametrized case that fails today: entry ``number`` of the
    sweep's bug list, a strict xfail so that its fix is noticed."""
    return pytest.param(case, marks=pytest.mark.xfail(
        strict=True, raises=raises, reason=f"sweep3 bug {number}: {reason}"))


# -- pair potentials ----------------------------------------------------------

def lennard_jones(x):
    d = x[:, None, :] - x[None, :, :]
    r2 = np.sum(d ** 2, axis=-1) + np.eye(x.shape[0])
    inv6 = (1 / r2) ** 3
    return 2 * np.sum((inv6 ** 2 - inv6) * (1 - np.eye(x.shape[0])))


def lennard_jones_by_loops(x):
    n = x.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            r = np.linalg.norm(x[i] - x[j])
            energy = energy + 4 * ((1 / r) ** 12 - (1 / r) ** 6)
    return energy


def lennard_jones_by_triu_indices(x):
    i, j = np.triu_indices(x.shape[0], k=1)
    r = np.sqrt(np.sum((x[i] - x[j]) ** 2, axis=1))
    return np.sum(4 * (r ** -12 - r ** -6))


def lj_dV_dr(r, i, j):
    return 4 * (-12 * r ** -13 + 6 * r ** -7)


@pytest.mark.parametrize("energy", [
    lennard_jones, lennard_jones_by_loops,
    lennard_jones_by_triu_indices])  # was sweep3 bug 2
def test_lennard_jones_forces(energy):
    g = ad.grad(energy)(POINTS)
    np.testing.assert_allclose(g, pairwise_forces(POINTS, lj_dV_dr),
                               rtol=1e-12)
    # no net force and no net torque on an isolated cluster
    np.testing.assert_allclose(g.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.cross(POINTS, g).sum(axis=0), 0.0,
                               atol=1e-12)


def test_lennard_jones_hessian_at_several_sizes():
    for x in (POINTS, POINTS[:2], np.vstack([POINTS, [[2.1, 0.0, 0.9]]])):
        H = ad.hessian(lennard_jones)(x)
        n = len(x)
        assert H.shape == (n, 3, n, 3)
        np.testing.assert_allclose(H, H.transpose(2, 3, 0, 1), rtol=1e-12)
        # translations are a null space
        np.testing.assert_allclose(H.sum(axis=2), 0.0, atol=1e-9)
    # two particles: along the axis, V''(r); across it, V'(r) / r
    r = 1.3
    H = ad.hessian(lennard_jones)(np.array([[0.0, 0, 0], [r, 0, 0]]))
    assert H[1, 0, 1, 0] == pytest.approx(
        4 * (156 * r ** -14 - 42 * r ** -8), rel=1e-13)
    assert H[1, 1, 1, 1] == pytest.approx(lj_dV_dr(r, 0, 1) / r, rel=1e-13)
    x32 = POINTS.astype(np.float32)
    assert ad.grad(lennard_jones)(x32).dtype == np.float32
    np.testing.assert_allclose(ad.grad(lennard_jones)(x32),
                               pairwise_forces(POINTS, lj_dV_dr), rtol=2e-5)


DIRECTION = rng.normal(size=POINTS.shape)


def lj_directional_slope(x):
    return np.vdot(ad.grad(lennard_jones)(x), DIRECTION)


def lj_directional_derivative(x):
    return ad.jvp(lennard_jones, (x,), (DIRECTION,))[1]


def test_lennard_jones_hessian_vector_products_three_ways():
    H = ad.hessian(lennard_jones)(POINTS)
    expected = np.einsum('ijkl,kl->ij', H, DIRECTION)
    _, forward_over_reverse = ad.jvp(ad.grad(lennard_jones), (POINTS,),
                                     (DIRECTION,))
    for hvp in (forward_over_reverse, ad.grad(lj_directional_slope)(POINTS),
                ad.grad(lj_directional_derivative)(POINTS)):
        np.testing.assert_allclose(hvp, expected, rtol=1e-12, atol=1e-12)


def coulomb_over_combinations(x, q):
    energy = 0.0
    for i, j in itertools.combinations(range(x.shape[0]), 2):
        energy = energy + q[i] * q[j] / np.linalg.norm(x[i] - x[j])
    return energy


def coulomb(x, q):
    n = x.shape[0]
    d = x[:, None, :] - x[None, :, :]
    r = np.sqrt(np.sum(d ** 2, axis=-1) + np.eye(n))
    return np.sum(np.triu(np.outer(q, q) / r, k=1))


@pytest.mark.parametrize("energy", [
    coulomb,
    coulomb_over_combinations], ids=['triu', 'combinations'])
def test_coulomb_energy_in_positions_and_charges(energy):
    g_x, g_q = ad.grad(energy, (0, 1))(POINTS, CHARGES)
    np.testing.assert_allclose(g_x, pairwise_forces(
        POINTS, lambda r, i, j: -CHARGES[i] * CHARGES[j] / r ** 2),
        rtol=1e-13)
    r = np.linalg.norm(POINTS[:, None] - POINTS[None], axis=-1)
    np.fill_diagonal(r, np.inf)
    np.testing.assert_allclose(g_q, (CHARGES[None, :] / r).sum(1),
                               rtol=1e-14)
    # the energy is quadratic in the charges: the Hessian is 1/r
    np.testing.assert_allclose(ad.hessian(energy, 1)(POINTS, CHARGES),
                               1 / r, rtol=1e-14)


def spring_forces_over_pairs(x):
    n = x.shape[0]
    F = np.zeros_like(x)
    for i in range(n):
        for j in range(i + 1, n):
            d = x[i] - x[j]
            F[i] += d
            F[j] -= d
    return np.sum(F ** 2)


def spring_forces_over_ordered_pairs(x):
    n = x.shape[0]
    F = np.zeros_like(x)
    for i in range(n):
        for j in range(n):
            F[i] += x[i] - x[j]
    return np.sum(F ** 2)


@pytest.mark.parametrize("f", [
    spring_forces_over_ordered_pairs,
    spring_forces_over_pairs])  # was sweep3 bug 17
def test_forces_accumulated_over_pairs_in_an_array_made_here(f):
    # each F_i = n x_i - sum(x), so d/dx sum |F|^2 = 2 n F (sum F = 0)
    for x in (POINTS, POINTS[:2]):
        F = len(x) * x - x.sum(axis=0)
        np.testing.assert_allclose(ad.grad(f)(x), 2 * len(x) * F,
                                   rtol=1e-13, atol=1e-13)
    # F = (n I - J) x in each coordinate, so the energy is x^T (n^2 I -
    # n J) x: its Hessian is 2 (n^2 I - n J) in each coordinate
    n = 3
    pairs = 2 * (n ** 2 * np.eye(n) - n * np.ones((n, n)))
    np.testing.assert_allclose(ad.hessian(f)(POINTS[:n]), np.einsum(
        "ij,kl->ikjl", pairs, np.eye(3)), rtol=1e-13, atol=1e-12)


BOX = 3.0


def periodic_lennard_jones(x):
    d = x[:, None, :] - x[None, :, :]
    d = d - BOX * np.round(d / BOX)
    r2 = np.sum(d ** 2, axis=-1) + np.eye(x.shape[0])
    inv6 = 1 / r2 ** 3
    return 2 * np.sum((inv6 ** 2 - inv6) * (1 - np.eye(x.shape[0])))


def test_minimum_image_convention():
    # particle 3 sits near the far corner: its nearest images are across
    # the box, so the periodic forces differ from the open-space ones
    x = POINTS.copy()
    x[3] = [2.45, 2.8, 2.35]  # no component of d / BOX near a half
    g = ad.grad(periodic_lennard_jones)(x)
    np.testing.assert_allclose(g, pairwise_forces(x, lj_dV_dr, BOX),
                               rtol=1e-12)
    shifted = x + np.array([BOX, 0.0, -BOX])  # whole images of the box
    np.testing.assert_allclose(ad.grad(periodic_lennard_jones)(shifted), g,
                               rtol=1e-10)
    assert not np.allclose(g, ad.grad(lennard_jones)(x))


def gravity(x, m):
    n = len(m)
    d = x[:, None, :] - x[None, :, :]
    r = np.sqrt(np.sum(d ** 2, axis=-1) + np.eye(n))
    return -0.5 * np.sum(np.outer(m, m) * (1 - np.eye(n)) / r)


def test_gravitational_potential_of_point_masses():
    m = np.abs(CHARGES)
    g_x, g_m = ad.grad(gravity, (0, 1))(POINTS, m)
    np.testing.assert_allclose(g_x, pairwise_forces(
        POINTS, lambda r, i, j: m[i] * m[j] / r ** 2), rtol=1e-13)
    r = np.linalg.norm(POINTS[:, None] - POINTS[None], axis=-1)
    np.fill_diagonal(r, np.inf)
    np.testing.assert_allclose(g_m, -(m[None, :] / r).sum(1), rtol=1e-14)


# -- bonds, polygons, rotations, curves ---------------------------------------

def bond_angle_energy(x, k=1.0, theta0=1.9):
    a = x[0] - x[1]
    b = x[2] - x[1]
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    theta = np.arccos(np.clip(cos, -1.0, 1.0))
    return 0.5 * k * (theta - theta0) ** 2


def dihedral_energy(x):
    b1 = x[1] - x[0]
    b2 = x[2] - x[1]
    b3 = x[3] - x[2]
    n1 = np.cross(b1, b2)
    n2 = np.cross(b2, b3)
    m1 = np.cross(n1, b2 / np.linalg.norm(b2))
    phi = np.arctan2(np.dot(m1, n2), np.dot(n1, n2))
    return 1 + np.cos(3 * phi)


def test_bond_angle_energy():
    x = POINTS[:3]
    a, b = x[0] - x[1], x[2] - x[1]
    theta = np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    grads = ad.grad(bond_angle_energy, (0, 1, 2))(x, 2.0, 1.5)
    assert grads[1] == pytest.approx(0.5 * (theta - 1.5) ** 2, rel=1e-14)
    assert grads[2] == pytest.approx(-2.0 * (theta - 1.5), rel=1e-14)
    # dtheta/dx0 is perpendicular to a, in the plane, of length 1/|a|
    unit = (b - (a @ b) / (a @ a) * a)
    unit = -unit / np.linalg.norm(unit)
    np.testing.assert_allclose(
        grads[0][0], 2.0 * (theta - 1.5) * unit / np.linalg.norm(a),
        rtol=1e-12)
    np.testing.assert_allclose(grads[0].sum(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(grads[0], numeric_gradient(
        bond_angle_energy, (x, 2.0, 1.5), 0), rtol=1e-8)


def test_dihedral_energy_is_invariant_under_rigid_motion():
    g = ad.grad(dihedral_energy)(POINTS)
    np.testing.assert_allclose(g, numeric_gradient(dihedral_energy,
                                                   (POINTS,), 0), rtol=1e-7)
    np.testing.assert_allclose(g.sum(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.cross(POINTS, g).sum(axis=0), 0.0,
                               atol=1e-14)
    H = ad.hessian(dihedral_energy)(POINTS)
    np.testing.assert_allclose(H, numeric_jacobian(
        ad.grad(dihedral_energy), POINTS), rtol=1e-6, atol=1e-8)


def shoelace_area(x, y):
    return 0.5 * np.abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def signed_area_of_points(p):
    x, y = p[:, 0], p[:, 1]
    return 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


PENTAGON_X = np.array([0.0, 2.0, 2.5, 1.0, -0.3])
PENTAGON_Y = np.array([0.0, 0.1, 1.5, 2.2, 1.0])


def test_shoelace_area_with_np_roll():
    x, y = PENTAGON_X, PENTAGON_Y
    dx = 0.5 * (np.roll(y, -1) - np.roll(y, 1))
    dy = 0.5 * (np.roll(x, 1) - np.roll(x, -1))
    grad_x, grad_y = ad.grad(shoelace_area, (0, 1))(x, y)
    np.testing.assert_allclose(grad_x, dx, rtol=1e-15)
    np.testing.assert_allclose(grad_y, dy, rtol=1e-15)
    # clockwise: the signed area is negative, abs flips the gradient
    grad_x, grad_y = ad.grad(shoelace_area, (0, 1))(x[::-1], y[::-1])
    np.testing.assert_allclose(grad_x, -0.5 * (np.roll(y[::-1], -1)
                                               - np.roll(y[::-1], 1)))
    p = np.stack([x, y], axis=1)
    np.testing.assert_allclose(ad.grad(signed_area_of_points)(p),
                               np.stack([dx, dy], axis=1), rtol=1e-15)
    # the area is bilinear: its Hessian is constant, a rotation in (x, y)
    H = ad.hessian(signed_area_of_points)(p)
    assert H.shape == (5, 2, 5, 2)
    S = 0.5 * (np.eye(5, k=-1) + np.eye(5, k=4) - np.eye(5, k=1)
               - np.eye(5, k=-4))
    np.testing.assert_array_equal(H[:, 0, :, 1], -S)
    np.testing.assert_array_equal(H[:, 1, :, 0], S)


EDGES = np.array([[0, 1], [1, 2], [2, 0], [2, 3], [3, 0]])
TRIANGLES = np.array([[0, 1, 2], [0, 2, 3]])


def edge_spring_energy(x):
    d = x[EDGES[:, 0]] - x[EDGES[:, 1]]
    return np.sum((np.linalg.norm(d, axis=1) - 1.0) ** 2)


def mesh_area(x):
    a = x[TRIANGLES[:, 1]] - x[TRIANGLES[:, 0]]
    b = x[TRIANGLES[:, 2]] - x[TRIANGLES[:, 0]]
    return np.sum(0.5 * np.linalg.norm(np.cross(a, b), axis=1))


def tetrahedron_volume(x):
    return np.linalg.det(np.stack([x[1] - x[0], x[2] - x[0], x[3] - x[0]])) / 6


def test_mesh_energies_through_index_arrays():
    g = ad.grad(edge_spring_energy)(POINTS)
    expected = np.zeros_like(POINTS)
    for i, j in EDGES:
        d = POINTS[i] - POINTS[j]
        r = np.linalg.norm(d)
        expected[i] += 2 * (r - 1) * d / r
        expected[j] -= 2 * (r - 1) * d / r
    np.testing.assert_allclose(g, expected, rtol=1e-13)
    g = ad.grad(mesh_area)(POINTS)
    np.testing.assert_allclose(g, numeric_gradient(mesh_area, (POINTS,), 0),
                               rtol=1e-8)
    np.testing.assert_allclose(g.sum(axis=0), 0.0, atol=1e-14)
    # vertices 1 and 3 are in one triangle each: dA/dx_i = n x (x_k - x_j) / 2
    def unit_normal(a, b, c):
        n = np.cross(b - a, c - a)
        return n / np.linalg.norm(n)
    x0, x1, x2, x3 = POINTS
    np.testing.assert_allclose(
        g[1], 0.5 * np.cross(unit_normal(x0, x1, x2), x0 - x2), rtol=1e-13)
    np.testing.assert_allclose(
        g[3], 0.5 * np.cross(unit_normal(x0, x2, x3), x2 - x0), rtol=1e-13)
    expected = np.array([np.zeros(3), np.cross(x2 - x0, x3 - x0),
                         np.cross(x3 - x0, x1 - x0),
                         np.cross(x1 - x0, x2 - x0)]) / 6
    expected[0] = -expected[1:].sum(axis=0)
    np.testing.assert_allclose(ad.grad(tetrahedron_volume)(POINTS), expected,
                               rtol=1e-13, atol=1e-15)


def distance_to_segment(p, a, b):
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0)
    return np.linalg.norm(p - (a + t * ab))


def test_distance_to_a_segment_on_both_sides_of_the_clip():
    a, b = np.array([0.0, 0.0]), np.array([1.0, 0.2])
    beside = np.array([0.3, 0.8])  # projects inside the segment
    t = (beside - a) @ (b - a) / ((b - a) @ (b - a))
    foot = a + t * (b - a)
    normal = (beside - foot) / np.linalg.norm(beside - foot)
    g_p, g_a, g_b = ad.grad(distance_to_segment, (0, 1, 2))(beside, a, b)
    np.testing.assert_allclose(g_p, normal, rtol=1e-14)
    np.testing.assert_allclose(g_a, -(1 - t) * normal, rtol=1e-13)
    np.testing.assert_allclose(g_b, -t * normal, rtol=1e-13)
    beyond = np.array([1.5, 0.8])  # nearest to the end b: t clipped at 1
    unit = (beyond - b) / np.linalg.norm(beyond - b)
    g_p, g_a, g_b = ad.grad(distance_to_segment, (0, 1, 2))(beyond, a, b)
    np.testing.assert_allclose(g_p, unit, rtol=1e-14)
    np.testing.assert_array_equal(g_a, [0.0, 0.0])
    np.testing.assert_allclose(g_b, -unit, rtol=1e-14)


def rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def rotation_by_math(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def misfit_after_rotation(theta, v, target):
    return np.sum((rotation(theta) @ v - target) ** 2)


@pytest.mark.parametrize("rot", [rotation, rotation_by_math])
def test_rotation_matrix_jacobians(rot):
    theta = 0.4
    c, s = math.cos(theta), math.sin(theta)
    expected = np.array([[-s, -c], [c, -s]])
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(rot)(theta)
        assert J.shape == (2, 2)
        np.testing.assert_allclose(J, expected, rtol=1e-15)
    value, tangent = ad.jvp(rot, (theta,), (2.0,))
    np.testing.assert_allclose(tangent, 2.0 * expected, rtol=1e-15)


def test_fitting_an_angle_through_a_rotation():
    v, target = np.array([1.0, 2.0]), np.array([0.5, 1.5])
    theta = 0.4
    R, dR = rotation(theta), np.array([[-math.sin(theta), -math.cos(theta)],
                                       [math.cos(theta), -math.sin(theta)]])
    g_theta, g_v = ad.grad(misfit_after_rotation, (0, 1))(theta, v, target)
    assert g_theta == pytest.approx(2 * (R @ v - target) @ dR @ v, rel=1e-14)
    np.testing.assert_allclose(g_v, 2 * R.T @ (R @ v - target), rtol=1e-14)
    assert ad.hessian(misfit_after_rotation)(theta, v, target) == (
        pytest.approx(2 * (dR @ v) @ (dR @ v) - 2 * (R @ v - target)
                      @ R @ v, rel=1e-13))


def rotation_of_quaternion(q):
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def pose_misfit(q, t):
    return np.sum((POINTS @ rotation_of_quaternion(q).T + t - TARGETS) ** 2)


TARGETS = POINTS[::-1] + 0.1


def test_pose_fitting_through_a_quaternion():
    q, t = np.array([0.9, 0.1, -0.2, 0.3]), np.array([0.1, -0.1, 0.05])
    R = rotation_of_quaternion(q)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-15)
    g_q, g_t = ad.grad(pose_misfit, (0, 1))(q, t)
    np.testing.assert_allclose(
        g_t, 2 * np.sum(POINTS @ R.T + t - TARGETS, axis=0), rtol=1e-14)
    np.testing.assert_allclose(g_q, numeric_gradient(pose_misfit, (q, t), 0),
                               rtol=1e-8)
    assert q @ g_q == pytest.approx(0.0, abs=1e-13)  # scale invariant
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(rotation_of_quaternion)(q)
        assert J.shape == (3, 3, 4)
        np.testing.assert_allclose(J, numeric_jacobian(
            rotation_of_quaternion, q), rtol=1e-8, atol=1e-10)


def arc_length(x, y):
    return np.sum(np.sqrt(np.diff(x) ** 2 + np.diff(y) ** 2))


def test_arc_length_gradient_is_the_difference_of_unit_tangents():
    x, y = PENTAGON_X, PENTAGON_Y
    t = np.stack([np.diff(x), np.diff(y)])
    t = t / np.linalg.norm(t, axis=0)
    expected = np.pad(t, ((0, 0), (1, 0))) - np.pad(t, ((0, 0), (0, 1)))
    grad_x, grad_y = ad.grad(arc_length, (0, 1))(x, y)
    np.testing.assert_allclose(grad_x, expected[0], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(grad_y, expected[1], rtol=1e-14, atol=1e-16)
    # interior points of a straight line feel no pull along it
    line = np.linspace(0.0, 1.0, 6)
    grad_x, grad_y = ad.grad(arc_length, (0, 1))(line, 2 * line)
    np.testing.assert_allclose(grad_x[1:-1], 0.0, atol=1e-15)
    assert grad_x[0] == pytest.approx(-1 / math.sqrt(5), rel=1e-15)


def chain_energy(x, k=2.0, rest=1.0):
    return 0.5 * k * np.sum((x[1:] - x[:-1] - rest) ** 2)


def test_harmonic_chain():
    x = np.array([0.0, 1.2, 1.9, 3.3, 4.0])
    stretch = np.diff(x) - 1.0
    expected = 2.0 * (np.r_[0, stretch] - np.r_[stretch, 0])
    np.testing.assert_allclose(ad.grad(chain_energy)(x), expected,
                               rtol=1e-14, atol=1e-15)
    laplacian = (np.diag([1.0, 2, 2, 2, 1]) - np.eye(5, k=1)
                 - np.eye(5, k=-1))
    np.testing.assert_array_equal(ad.hessian(chain_energy)(x, k=3.0),
                                  3.0 * laplacian)
    grads = ad.grad(chain_energy, (0, 1, 2))(x, 3.0, 0.5)
    assert grads[1] == pytest.approx(0.5 * np.sum((np.diff(x) - 0.5) ** 2),
                                     rel=1e-15)
    assert grads[2] == pytest.approx(-3.0 * np.sum(np.diff(x) - 0.5),
                                     rel=1e-15)


def chain_with_fixed_ends(x, k=2.0):
    # the first and last beads are pinned at 0 and 4
    full = np.concatenate([[0.0], x, [4.0]])
    return 0.5 * k * np.sum((full[1:] - full[:-1] - 1.0) ** 2)


def chain_with_fixed_ends_by_hstack(x, k=2.0):
    full = np.hstack([0.0, x, 4.0])
    return 0.5 * k * np.sum((full[1:] - full[:-1] - 1.0) ** 2)


@pytest.mark.parametrize("energy", [
    chain_with_fixed_ends_by_hstack,
    chain_with_fixed_ends],  # a list literal in np.concatenate: bug 38
    ids=['hstack', 'concatenate'])
def test_a_chain_with_pinned_ends(energy):
    x = np.array([1.2, 1.9, 3.3])
    stretch = np.diff(np.r_[0.0, x, 4.0]) - 1.0
    np.testing.assert_allclose(ad.grad(energy)(x),
                               2.0 * (stretch[:-1] - stretch[1:]), rtol=1e-14)
    laplacian = 2 * np.eye(3) - np.eye(3, k=1) - np.eye(3, k=-1)
    np.testing.assert_allclose(ad.hessian(energy)(x), 2.0 * laplacian,
                               rtol=1e-15)


def arm_tip(angles, lengths):
    cum = np.cumsum(angles)
    return np.array([np.sum(lengths * np.cos(cum)),
                     np.sum(lengths * np.sin(cum))])


def test_forward_kinematics_of_a_planar_arm():
    angles, lengths = np.array([0.3, -0.5, 0.9]), np.array([1.0, 0.7, 0.4])
    cum = np.cumsum(angles)
    tail_sin = np.cumsum((lengths * np.sin(cum))[::-1])[::-1]
    tail_cos = np.cumsum((lengths * np.cos(cum))[::-1])[::-1]
    expected = np.stack([-tail_sin, tail_cos])
    for jacobian in (ad.jacrev, ad.jacfwd):
        J = jacobian(arm_tip)(angles, lengths)
        assert J.shape == (2, 3)
        np.testing.assert_allclose(J, expected, rtol=1e-14)
    tip, pullback = ad.vjp(arm_tip, angles, lengths)
    np.testing.assert_allclose(tip, [tail_cos[0], tail_sin[0]], rtol=1e-15)
    for cotangent in ([1.0, 0.0], [0.3, -2.0]):
        g_angles, g_lengths = pullback(np.array(cotangent))
        np.testing.assert_allclose(g_angles, cotangent @ expected,
                                   rtol=1e-14)
        np.testing.assert_allclose(
            g_lengths, cotangent @ np.stack([np.cos(cum), np.sin(cum)]),
            rtol=1e-14)


# -- ballistics and a brachistochrone -----------------------------------------

def projectile_range(theta, v, g=9.81):
    return v ** 2 * math.sin(2 * theta) / g


def range_from_a_height(theta, v, h=1.0, g=9.81):
    vx, vy = v * math.cos(theta), v * math.sin(theta)
    t = (vy + math.sqrt(vy ** 2 + 2 * g * h)) / g
    return vx * t


def test_projectile_range_in_angle_and_speed():
    theta, v = 0.6, 20.0
    grads = ad.grad(projectile_range, (0, 1))(theta, v)
    assert grads == pytest.approx(
        (2 * v ** 2 * math.cos(2 * theta) / 9.81,
         2 * v * math.sin(2 * theta) / 9.81), rel=1e-15)
    assert ad.grad(projectile_range)(math.pi / 4, v) == pytest.approx(
        0.0, abs=1e-13)  # 45 degrees goes furthest on flat ground
    assert ad.derivative(projectile_range, 3)(theta, v) == pytest.approx(
        -8 * v ** 2 * math.cos(2 * theta) / 9.81, rel=1e-14)
    assert ad.grad(projectile_range, 2)(theta, v, g=1.62) == pytest.approx(
        -v ** 2 * math.sin(2 * theta) / 1.62 ** 2, rel=1e-14)
    grads32 = ad.grad(projectile_range, (0, 1))(np.float32(theta),
                                                np.float32(v))
    assert [type(g) for g in grads32] == [np.float32, np.float32]
    assert grads32 == pytest.approx(grads, rel=1e-6)


def test_range_from_a_height_peaks_below_45_degrees():
    args = (0.6, 20.0, 2.0)
    grads = ad.grad(range_from_a_height, (0, 1, 2))(*args)
    assert grads == pytest.approx(
        [central_difference(range_from_a_height, args, i) for i in range(3)],
        rel=1e-8)
    # Newton's method on the derivative finds the best angle, which from a
    # height is atan(v / sqrt(v^2 + 2 g h))
    d1 = ad.grad(range_from_a_height)
    d2 = ad.derivative(range_from_a_height, 2)
    theta = 0.7
    for _ in range(6):
        theta = theta - d1(theta, 20.0, 2.0) / d2(theta, 20.0, 2.0)
    assert theta == pytest.approx(
        math.atan(20.0 / math.sqrt(400.0 + 2 * 9.81 * 2.0)), rel=1e-12)


def landing_distance(theta, v0, k=0.1, dt=0.01):
    pos = np.zeros(2)
    vel = v0 * np.array([np.cos(theta), np.sin(theta)])
    while True:
        prev = pos
        acc = -k * np.linalg.norm(vel) * vel - np.array([0.0, 9.81])
        vel = vel + dt * acc
        pos = pos + dt * vel
        if pos[1] < 0:
            break
    # interpolate between the last two steps to the ground
    return prev[0] + (pos[0] - prev[0]) * prev[1] / (prev[1] - pos[1])


def height_before_landing(h, v0):
    y, v = h, v0
    while y >= 0.0:
        y_prev = y
        v = v - 0.01 * 9.81
        y = y + 0.01 * v
    return y_prev


LAUNCH = (0.7, 20.0, 0.1)


def test_projectile_with_drag_stepped_until_it_lands():
    for i in range(3):
        assert ad.grad(landing_distance, i)(*LAUNCH) == pytest.approx(
            central_difference(landing_distance, LAUNCH, i, step=1e-7),
            rel=1e-7)


def test_projectile_with_drag_gradient_in_every_argument_at_once():
    # was sweep3 bug 20: prev, first bound in the loop, started as a number
    grads = ad.grad(landing_distance, (0, 1, 2))(*LAUNCH)
    assert grads == pytest.approx(
        [ad.grad(landing_distance, i)(*LAUNCH) for i in range(3)], rel=1e-14)


def test_a_name_bound_inside_a_while_loop_and_read_after_it():
    # was sweep3 bug 21
    steps = 0  # the loop's trip count, counted the same way
    y, v = 1.0, 0.5
    while y >= 0.0:
        v = v - 0.01 * 9.81
        y, steps = y + 0.01 * v, steps + 1
    assert ad.grad(height_before_landing, (0, 1))(1.0, 0.5) == (
        pytest.approx((1.0, 0.01 * (steps - 1)), rel=1e-13))


def anharmonic_potential(q):
    return 0.5 * np.sum(q ** 2) + 0.1 * np.sum(q ** 4) + 0.05 * q[0] * q[1]


def velocity_verlet(z, dt, n_steps):
    q, p = z[:2], z[2:]
    for _ in range(n_steps):
        p = p - 0.5 * dt * ad.grad(anharmonic_potential)(q)
        q = q + dt * p
        p = p - 0.5 * dt * ad.grad(anharmonic_potential)(q)
    return np.concatenate([q, p])


def test_many_verlet_steps_with_forces_by_grad_are_symplectic():
    z = np.array([0.3, -0.5, 0.8, 0.1])
    omega = np.block([[np.zeros((2, 2)), np.eye(2)],
                      [-np.eye(2), np.zeros((2, 2))]])
    for jacobian in (ad.jacrev, ad.jacfwd):
        M = jacobian(velocity_verlet)(z, 0.05, 12)
        np.testing.assert_allclose(M.T @ omega @ M, omega, atol=1e-14)
        np.testing.assert_allclose(M, numeric_jacobian(
            lambda v: velocity_verlet(v, 0.05, 12), z), rtol=1e-7,
            atol=1e-9)
    np.testing.assert_allclose(
        ad.jacobian(velocity_verlet, 1)(z, 0.05, 12),
        [central_difference(lambda dt: velocity_verlet(z, dt, 12)[i],
                            (0.05,), 0) for i in range(4)], rtol=1e-8)


def heat_energy(u0, r, n_steps):
    u = u0
    for _ in range(n_steps):
        u = u + r * (np.roll(u, 1) - 2 * u + np.roll(u, -1))
    return np.sum(u ** 2)


def wave_energy(u0, v0, c, n_steps):
    u, v = u0, v0
    for _ in range(n_steps):
        v = v + 0.1 * c ** 2 * (np.roll(u, 1) - 2 * u + np.roll(u, -1))
        u = u + 0.1 * v
    stretch = np.roll(u, -1) - u
    return 0.5 * np.sum(v ** 2) + 0.5 * c ** 2 * np.sum(stretch ** 2)


def test_periodic_heat_and_wave_equations_stepped_by_loops():
    u0 = rng.normal(size=8)
    ring = np.roll(np.eye(8), 1, axis=0) + np.roll(np.eye(8), -1, axis=0)
    step = np.eye(8) + 0.2 * (ring - 2 * np.eye(8))  # symmetric
    grad = ad.grad(heat_energy)
    for n_steps in (0, 1, 7, 30):
        np.testing.assert_allclose(
            grad(u0, 0.2, n_steps),
            2 * np.linalg.matrix_power(step, 2 * n_steps) @ u0,
            rtol=1e-12, atol=1e-14)
    assert ad.grad(heat_energy, 1)(u0, 0.2, 7) == pytest.approx(
        central_difference(heat_energy, (u0, 0.2, 7), 1), rel=1e-8)
    args = (u0, rng.normal(size=8), 1.3, 20)
    grads = ad.grad(wave_energy, (0, 1, 2))(*args)
    for i in range(3):
        np.testing.assert_allclose(grads[i], numeric_gradient(
            wave_energy, args, i), rtol=1e-7, atol=1e-9)


def eccentric_anomaly(M, e):
    # Kepler's equation E - e sin E = M, by Newton's method
    E = M
    while abs(E - e * math.sin(E) - M) > 1e-14:
        E = E - (E - e * math.sin(E) - M) / (1 - e * math.cos(E))
    return E


def orbit_radius(M, e, a=1.0):
    E = eccentric_anomaly(M, e)
    return a * (1 - e * math.cos(E))


def kepler_partials(M, e):
    E = eccentric_anomaly(M, e)
    dE_dM = 1 / (1 - e * math.cos(E))
    return E, dE_dM, math.sin(E) * dE_dM


def test_keplers_equation_solved_in_a_while_loop():
    M, e = 1.2, 0.3
    E, dE_dM, dE_de = kepler_partials(M, e)
    assert ad.grad(eccentric_anomaly, (0, 1))(M, e) == pytest.approx(
        (dE_dM, dE_de), rel=1e-14)
    assert ad.derivative(eccentric_anomaly, 2)(M, e) == pytest.approx(
        -e * math.sin(E) * dE_dM ** 3, rel=1e-13)


def test_a_while_loop_in_math_code_derives_to_math_code():
    # was sweep3 bug 34: it derived to np.sin/np.cos and returned np.float64
    source = ad.source(ad.grad(eccentric_anomaly, (0, 1)), 1.2, 0.3)
    assert "math.sin(" in source and "np." not in source
    assert [type(g) for g in ad.grad(eccentric_anomaly, (0, 1))(1.2, 0.3)] \
        == [float, float]


def test_orbit_radius_from_keplers_equation():
    # was sweep3 bug 33: sin(E) after the loop was sin of E's start value
    M, e = 1.2, 0.3
    E, dE_dM, dE_de = kepler_partials(M, e)
    assert ad.grad(orbit_radius, (0, 1, 2))(M, e, 1.5) == pytest.approx(
        (1.5 * e * math.sin(E) * dE_dM,
         1.5 * (-math.cos(E) + e * math.sin(E) * dE_de),
         1 - e * math.cos(E)), rel=1e-13)


def descent_time(y, dx=0.1, g=9.81):
    # a bead sliding down the curve y(x) from rest at height y[0]
    ds = np.sqrt(dx ** 2 + np.diff(y) ** 2)
    drop = y[0] - 0.5 * (y[1:] + y[:-1])
    return np.sum(ds / np.sqrt(2 * g * drop))


def test_brachistochrone_descent_time():
    y = -np.linspace(0.0, 1.0, 7) ** 0.5 + 1.0  # height, falling with x
    y[0] = 1.2
    grad = ad.grad(descent_time)(y)
    np.testing.assert_allclose(grad, numeric_gradient(descent_time, (y,), 0),
                               rtol=1e-7, atol=1e-10)
    H = ad.hessian(descent_time)(y)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    np.testing.assert_allclose(H, numeric_jacobian(ad.grad(descent_time), y),
                               rtol=1e-6, atol=1e-8)


# -- scalar code as people write it -------------------------------------------

AIR_DENSITY = 1.225


def polar_angle_times_radius(x, y):
    return math.hypot(x, y) * math.atan2(y, x)


def special_functions(x):
    return math.log1p(x ** 2) + math.expm1(-x) + math.erf(x / 2)


def distance_from_origin(x, y, z):
    return math.hypot(x, y, z)


def test_math_module_functions():
    x, y = 0.6, 1.3
    r, phi = math.hypot(x, y), math.atan2(y, x)
    grads = ad.grad(polar_angle_times_radius, (0, 1))(x, y)
    assert grads == pytest.approx((x / r * phi - y / r, y / r * phi + x / r),
                                  rel=1e-15)
    assert type(grads[0]) is float  # math code derives to math code
    assert ad.grad(special_functions)(0.7) == pytest.approx(
        1.4 / 1.49 - math.exp(-0.7) + math.exp(-0.1225) / math.sqrt(math.pi),
        rel=1e-15)
    assert ad.derivative(special_functions, 3)(0.7) == pytest.approx(
        central_difference(ad.derivative(special_functions, 2), (0.7,), 0),
        rel=1e-9)
    assert ad.grad(distance_from_origin, (0, 1, 2))(1.0, 2.0, 2.0) == (
        pytest.approx((1 / 3, 2 / 3, 2 / 3), rel=1e-15))


def test_grad_of_math_hypot_of_three_coordinates():  # was sweep3 bug 9
    assert ad.grad(math.hypot, (0, 1, 2))(1.0, 2.0, 2.0) == pytest.approx(
        (1 / 3, 2 / 3, 2 / 3), rel=1e-15)


def drag_force(v, cd=0.47, area=0.01):
    return 0.5 * AIR_DENSITY * cd * area * v ** 2


def scaled_sine(x, scale=2.0):
    return scale * math.sin(x)


def sine_terms(x):
    return scaled_sine(x) + scaled_sine(x, scale=0.5) ** 2


def sine_by_keywords(x, y):
    return scaled_sine(scale=y, x=x)


def test_defaults_keywords_helpers_and_module_constants():
    global AIR_DENSITY
    grad = ad.grad(drag_force)
    assert grad(3.0) == pytest.approx(1.225 * 0.47 * 0.01 * 3.0, rel=1e-15)
    assert ad.grad(drag_force, (0, 1, 2))(3.0, area=0.02, cd=0.3) == (
        pytest.approx((1.225 * 0.3 * 0.02 * 3.0, 0.5 * 1.225 * 0.02 * 9.0,
                       0.5 * 1.225 * 0.3 * 9.0), rel=1e-15))
    try:
        AIR_DENSITY = 1.0  # the same derivative reads the new value
        assert grad(3.0) == pytest.approx(0.47 * 0.01 * 3.0, rel=1e-15)
    finally:
        AIR_DENSITY = 1.225
    x = 0.7
    assert ad.grad(sine_terms)(x) == pytest.approx(
        2 * math.cos(x) + 0.25 * math.sin(2 * x), rel=1e-15)
    assert ad.grad(sine_by_keywords, (0, 1))(x, 1.3) == pytest.approx(
        (1.3 * math.cos(x), math.sin(x)), rel=1e-15)


def test_grad_of_a_partial():  # was sweep3 bug 4
    assert ad.grad(functools.partial(scaled_sine, scale=2.0))(0.7) == (
        pytest.approx(2.0 * math.cos(0.7), rel=1e-15))


class Pendulum:
    def __init__(self, length, g=9.81):
        self.length = length
        self.g = g

    def energy(self, theta, omega):
        return (0.5 * self.length ** 2 * omega ** 2
                + self.g * self.length * (1 - math.cos(theta)))

    def __call__(self, theta):
        return self.energy(theta, 0.0)


@dataclass
class Prior:
    mean: float
    scale: float


PRIOR = Prior(0.5, 2.0)


def log_prior(w):
    return -np.sum((w - PRIOR.mean) ** 2) / (2 * PRIOR.scale ** 2)


def log_prior_passed(w, prior):
    return -np.sum((w - prior.mean) ** 2) / (2 * prior.scale ** 2)


def test_objects_methods_and_dataclasses():
    pendulum = Pendulum(2.0)
    grad_call = ad.grad(pendulum)
    assert grad_call(0.3) == pytest.approx(9.81 * 2.0 * math.sin(0.3),
                                           rel=1e-15)
    assert ad.grad(pendulum.energy, (0, 1))(0.3, 1.5) == pytest.approx(
        (9.81 * 2.0 * math.sin(0.3), 4.0 * 1.5), rel=1e-15)
    H = ad.hessian(pendulum.energy, (0, 1))(0.3, 1.5)
    assert H == ((pytest.approx(9.81 * 2.0 * math.cos(0.3), rel=1e-15), 0.0),
                 (0.0, 4.0))
    pendulum.g = 1.62  # an attribute is read when the derivative runs
    assert grad_call(0.3) == pytest.approx(1.62 * 2.0 * math.sin(0.3),
                                           rel=1e-15)
    w = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(log_prior)(w), -(w - 0.5) / 4.0,
                               rtol=1e-15)


# was sweep3 bug 6: a dataclass argument not differentiated was refused
def test_a_dataclass_passed_as_an_argument():
    w = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(log_prior_passed)(w, PRIOR),
                               -(w - 0.5) / 4.0, rtol=1e-15)


def squared_norm(x, reduction="sum"):
    if reduction == "sum":
        return np.sum(x ** 2)
    return np.mean(x ** 2)


# was sweep3 bug 7: `if reduction == "sum":` on a str argument was refused
def test_a_string_option_compared_in_an_if():
    w = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(ad.grad(squared_norm)(w), 2 * w, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(squared_norm)(w, "mean"), 2 * w / 3,
                               rtol=1e-15)


def power_by_recursion(x, n):
    if n == 0:
        return 1.0
    return x * power_by_recursion(x, n - 1)


def test_recursion_is_refused_at_the_recursive_call():
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(power_by_recursion)(1.7, 4)
    assert caught.value.lineno == line_of(power_by_recursion,
                                          "return x * power")
    assert str(caught.value).startswith(
        "recursive call to power_by_recursion: autodiff_ast inlines the "
        "functions it calls, so recursion cannot be followed; rewrite it as "
        "a loop over range()")


def exp_by_series(x):
    return sum(x ** k / math.factorial(k) for k in range(8))


def sine_harmonics(x):
    return sum(math.sin(k * x) / k for k in range(1, 6))


def test_sum_of_a_generator():
    assert ad.grad(sine_harmonics)(0.7) == pytest.approx(
        sum(math.cos(k * 0.7) for k in range(1, 6)), rel=1e-15)
    assert ad.derivative(sine_harmonics, 2)(0.7) == pytest.approx(
        -sum(k * math.sin(k * 0.7) for k in range(1, 6)), rel=1e-14)


def test_taylor_series_with_math_factorial():  # was sweep3 bug 5
    assert ad.grad(exp_by_series)(0.7) == pytest.approx(
        sum(0.7 ** k / math.factorial(k) for k in range(7)), rel=1e-15)


def squares_by_list(x):
    return np.sum(np.array([xi ** 2 for xi in x]))


def squares_by_generator(x):
    return sum(xi ** 2 for xi in x)


def row_energies(X):
    return sum(np.sum(row) ** 2 for row in X)


def first_two_swapped(x):
    y = x.copy()
    y[0], y[1] = y[1], y[0]
    return np.sum(y * np.arange(len(y)))


ROW = np.array([0.3, -0.7, 1.2])


@pytest.mark.parametrize("case", [
    (squares_by_generator, ROW, 2 * ROW),
    (squares_by_list, ROW, 2 * ROW),  # was sweep3 bug 27
    (row_energies, np.stack([ROW, 2 * ROW]),
     [[1.6] * 3, [3.2] * 3]),  # was sweep3 bug 27
    (first_two_swapped, ROW, [1.0, 0.0, 2.0])],  # was sweep3 bug 26
    ids=lambda case: case[0].__name__)
def test_iterating_over_and_swapping_items_of_arrays(case):
    f, x, expected = case
    np.testing.assert_allclose(ad.grad(f)(x), expected, rtol=1e-14)


def zeroed_copy(x):
    y = x.copy()
    y[0] = 0.0
    return np.sum(y ** 2)


def zeroed_array_copy(x):
    y = np.array(x)
    y[0] = 0.0
    return np.sum(y ** 2)


def zeroed_product(x):
    y = x * 1.0
    y[0] = 0.0
    return np.sum(y ** 2)


def tripled_in_a_list(x):
    parts = [x[0], x[1]]
    parts[0] = parts[0] * 3
    return parts[0] * parts[1]


def head_and_rest(x):
    a, *rest = x
    return a ** 2 + np.sum(np.array(rest))


@pytest.mark.parametrize("case", [
    (zeroed_copy, [0.0, -1.4, 2.4]),
    (zeroed_array_copy, [0.0, -1.4, 2.4]),  # these two were sweep3 bug 28
    (zeroed_product, [0.0, -1.4, 2.4]),
    (tripled_in_a_list, [-2.1, 0.9, 0.0]),  # was sweep3 bug 28
    (head_and_rest, [0.6, 1.0, 1.0])],  # was sweep3 bug 28
    ids=lambda case: case[0].__name__)
def test_items_of_arrays_and_lists_made_here(case):
    f, expected = case
    np.testing.assert_allclose(ad.grad(f)(ROW), expected, rtol=1e-14)


def filled_after_empty_like(x):
    y = np.empty_like(x)
    y[0] = x[0] ** 2
    y[1:] = x[1:] * 3
    return np.sum(y)


def weighted_after_append(x):
    return np.sum(np.append(x, 1.0) * np.arange(len(x) + 1))


def on_a_meshgrid(x):
    A, B = np.meshgrid(x, x)
    return np.sum(A * B ** 2)


@pytest.mark.parametrize("case", [
    (filled_after_empty_like, [0.6, 3.0, 3.0]),  # sweep3 bug 39
    (weighted_after_append, [0.0, 1.0, 2.0]),  # sweep3 bug 39
    # was sweep3 bug 39
    (on_a_meshgrid, np.sum(ROW ** 2) + 2 * ROW * np.sum(ROW))],
    ids=lambda case: case[0].__name__)
def test_arrays_built_by_other_numpy_functions(case):
    f, expected = case
    np.testing.assert_allclose(ad.grad(f)(ROW), expected, rtol=1e-14)


def guarded_sqrt(x):
    if x < 0:
        return float('inf')
    return math.sqrt(x)


def masked_log(x):
    return np.sum(np.where(np.all(x > 0), np.log(np.abs(x)), 0.0))


@pytest.mark.parametrize("case", [
    (guarded_sqrt, 0.7, 0.5 / math.sqrt(0.7)),  # was sweep3 bug 29
    (masked_log, ROW[:2] ** 2, 1 / ROW[:2] ** 2)],  # np.all was bug 29 too
    ids=lambda case: case[0].__name__)
def test_infinity_by_float_and_all_in_a_condition(case):
    f, x, expected = case
    np.testing.assert_allclose(ad.grad(f)(x), expected, rtol=1e-15)


def powers(x):
    return x ** 3 + x ** 2.5 + 2.0 ** x + x ** -1 + x ** 0.5


def monomial(x, n):
    return 2.0 * x ** n


def test_integer_float_and_negative_powers():
    x = 1.7
    assert ad.grad(powers)(x) == pytest.approx(
        3 * x ** 2 + 2.5 * x ** 1.5 + 2.0 ** x * math.log(2.0) - x ** -2
        + 0.5 * x ** -0.5, rel=1e-15)
    assert ad.derivative(powers, 2)(x) == pytest.approx(
        6 * x + 3.75 * x ** 0.5 + 2.0 ** x * math.log(2.0) ** 2
        + 2 * x ** -3 - 0.25 * x ** -1.5, rel=1e-14)
    assert ad.grad(monomial)(x, 4) == pytest.approx(8 * x ** 3, rel=1e-15)
    assert ad.grad(monomial, 1)(x, 4.0) == pytest.approx(
        2 * x ** 4 * math.log(x), rel=1e-15)


def test_power_with_an_exponent_argument_at_zero():
    # was sweep3 bug 3: n * x ** n / x, nan or ZeroDivisionError at 0
    np.testing.assert_array_equal(ad.grad(monomial)(np.zeros(2), 3), [0, 0])
    np.testing.assert_array_equal(
        ad.grad(monomial)(np.array([0.0, 1.0]), 2), [0.0, 4.0])
    assert ad.grad(monomial)(0.0, 1) == 2.0
    assert ad.hessian(monomial)(0.0, 2) == 4.0


def kinks(x, y):
    return abs(x - y) + min(x, y) ** 2 + max(x, 2 * y)


def either_side(x):
    return x ** 2 if x > 0 else -x ** 3


def test_abs_min_max_and_conditional_expressions():
    assert ad.grad(kinks, (0, 1))(0.7, 0.2) == pytest.approx(
        (1 + 1, -1 + 2 * 0.2), rel=1e-15)
    assert ad.grad(kinks, (0, 1))(0.2, 0.7) == pytest.approx(
        (-1 + 2 * 0.2, 1 + 2), rel=1e-15)
    # ties, as JAX: abs'(0) = 1, and min(x, y) is x there (Python's
    # min returns its first argument), so x takes its gradient
    assert ad.grad(kinks, (0, 1))(0.3, 0.3) == pytest.approx(
        (1 + 2 * 0.3, -1 + 2), rel=1e-15)
    assert ad.grad(either_side)(0.7) == pytest.approx(1.4, rel=1e-15)
    assert ad.grad(either_side)(-0.7) == pytest.approx(-3 * 0.49, rel=1e-15)
    assert ad.derivative(either_side, 2)(-0.7) == pytest.approx(4.2,
                                                                rel=1e-15)
    with pytest.raises(ad.InputError) as caught:
        ad.grad(either_side)(np.array([-1.0, 0.5]))
    assert "np.where(condition, a, b)" in str(caught.value)


def documented_energy(x: np.ndarray, k: float = 2.0, /) -> float:
    """A spring energy, as a careful person writes one.

    Args:
        x: positions along a line.
        k: the stiffness.
    """
    stretch: np.ndarray = numpy.diff(x) - 1.0
    if 0 < k < 10:
        return 0.5 * k * numpy.sum(stretch ** 2)
    return k * npsum(stretch ** 2)


def in_units_of(scale):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(x):
            return fn(x) / scale
        return wrapper
    return decorate


@in_units_of(2.0)
def decorated_energy(x):
    return np.sum(x ** 3)


def harmonics_by_closures(x):
    terms = [lambda v, k=k: np.sin(k * v) for k in range(1, 4)]
    return np.sum(sum(term(x) for term in terms))


def test_annotations_docstrings_imports_decorators_and_closures():
    x = np.array([0.0, 1.2, 1.9, 3.3])
    stretch = np.diff(x) - 1.0
    expected = np.r_[0, stretch] - np.r_[stretch, 0]
    np.testing.assert_allclose(ad.grad(documented_energy)(x), 2.0 * expected,
                               rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ad.grad(documented_energy)(x, 20.0),
                               40.0 * expected, rtol=1e-14, atol=1e-15)
    assert ad.grad(documented_energy, 1)(x, 3.0) == pytest.approx(
        0.5 * np.sum(stretch ** 2), rel=1e-15)
    np.testing.assert_allclose(ad.grad(decorated_energy)(x), 1.5 * x ** 2,
                               rtol=1e-15)
    np.testing.assert_allclose(
        ad.grad(harmonics_by_closures)(x),
        sum(k * np.cos(k * x) for k in range(1, 4)), rtol=1e-14)


def test_printed_source_runs_by_exec():
    namespace = {'math': math, 'np': np}
    exec(ad.source(ad.grad(polar_angle_times_radius, (0, 1))), namespace)
    generated = namespace['grad_polar_angle_times_radius']
    assert generated(0.6, 1.3) == ad.grad(polar_angle_times_radius,
                                          (0, 1))(0.6, 1.3)
    source = ad.source(ad.hessian(lennard_jones), POINTS)
    namespace = {'np': np}
    exec(source, namespace)
    (name,) = [key for key in namespace if key.startswith('hessian')]
    np.testing.assert_array_equal(namespace[name](POINTS),
                                  ad.hessian(lennard_jones)(POINTS))


# -- what physics code calls that is refused ----------------------------------

def work_by_trapezoid(y):
    return np.trapezoid(y ** 2, dx=0.1)


def smoothness(y):
    return np.sum(np.gradient(y) ** 2)


def sampled(y):
    return np.sum(np.interp([0.5, 1.5], [0.0, 1.0, 2.0], y))


SAMPLES = np.array([0.3, 0.7, 1.2])


@pytest.mark.parametrize("f, expected", [
    (work_by_trapezoid, 0.1 * SAMPLES * [1, 2, 1]),  # was sweep3 bug 15
    (smoothness, numeric_gradient(smoothness, (SAMPLES,), 0)),
    (sampled, [0.5, 1.0, 0.5])],  # np.interp was sweep3 bug 15 too
    ids=["trapezoid", "gradient", "interp"])
def test_numpy_functions_physics_code_calls(f, expected):
    np.testing.assert_allclose(ad.grad(f)(SAMPLES), expected, rtol=1e-9)


def checked_energy(x):
    assert x.shape == (3,), f"bad shape {x.shape}"
    return np.sum(x ** 2)


def logged_energy(x):
    print("x is", x)
    return np.sum(x ** 2)


@pytest.mark.parametrize("f", [
    checked_energy,  # in a pytest module, its assert rewritten: bug 16
    logged_energy])  # an assert and a print were sweep3 bug 14
def test_asserts_on_shapes_and_prints(f):
    np.testing.assert_array_equal(ad.grad(f)(SAMPLES), 2 * SAMPLES)


def moves_the_first_particle(x):
    x[0] = 0.0
    return lennard_jones(x)


def jiggled(x):
    return lennard_jones(x + 0.01 * np.random.normal(size=x.shape))


@pytest.mark.parametrize("f, text, message", [
    (moves_the_first_particle, "x[0] = 0.0",
     "assigning to an item of x mutates an object the function did not "
     "make, which cannot be differentiated"),
    (jiggled, "np.random",
     "np.random.normal draws random numbers, which have no derivative")])
def test_mutation_and_random_numbers_are_refused_at_their_line(
        f, text, message):
    x = POINTS.copy()
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(f)(x)
    assert caught.value.lineno == line_of(f, text)
    assert caught.value.filename == __file__
    assert message in str(caught.value)
    np.testing.assert_array_equal(x, POINTS)  # the argument is untouched
