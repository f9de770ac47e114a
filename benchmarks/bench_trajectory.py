"""An integrator that fills its trajectory row by row, differentiated.

Run: python benchmarks/bench_trajectory.py

``trajectory_loss`` steps a damped pendulum-like system with explicit Euler
into an (n + 1, d) array, ``Y[i + 1] = y + h * f(y)`` with ``y = Y[i]``,
the way physics code keeps its trajectory, and sums a loss over every row.
Its gradient in the initial state is timed against a hand-written adjoint
(the reference, 1.0x): one loop forwards filling the trajectory, one
backwards reading its rows. The peak memory of each (tracemalloc) is
printed beside it: a gradient that kept the whole array as it was in each
step would take O(n^2 d) memory and time. Times are each function's best,
the functions run in turns (benchmarks/timing.py).
"""

from __future__ import annotations

import pathlib
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import autodiff_ast as ad  # noqa: E402
from timing import best_times  # noqa: E402

STEPS = 1000
STEP = 0.01


def trajectory_loss(y0):
    Y = np.zeros((STEPS + 1, y0.shape[0]))
    Y[0] = y0
    for i in range(STEPS):
        y = Y[i]
        Y[i + 1] = y + STEP * (np.sin(y) - 0.5 * y)
    return np.sum(Y ** 2)


def trajectory_reference(y0):
    """The gradient written by hand: Y forwards, its adjoint backwards."""
    Y = np.zeros((STEPS + 1, y0.shape[0]))
    Y[0] = y0
    for i in range(STEPS):
        y = Y[i]
        Y[i + 1] = y + STEP * (np.sin(y) - 0.5 * y)
    adjoint = 2 * Y[STEPS]
    for i in reversed(range(STEPS)):
        y = Y[i]
        adjoint = 2 * y + adjoint * (1 + STEP * (np.cos(y) - 0.5))
    return adjoint


def leapfrog_loss(state):
    """A state stepped component by component (symplectic Euler): its
    gradient's backward loop adds into the adjoint it carries, where it
    made an array of zeros the trajectory's size per step (O(n^2))."""
    Y = np.zeros((STEPS + 1, 2))
    Y[0, 0] = state[0]
    Y[0, 1] = state[1]
    for i in range(STEPS):
        Y[i + 1, 1] = Y[i, 1] - STEP * state[2] * Y[i, 0]
        Y[i + 1, 0] = Y[i, 0] + STEP * Y[i + 1, 1]
    return np.sum(Y[:, 0] ** 2)


def leapfrog_reference(state):
    """Its gradient in (x0, v0, k) written by hand."""
    k = state[2]
    Y = np.zeros((STEPS + 1, 2))
    Y[0] = state[:2]
    for i in range(STEPS):
        Y[i + 1, 1] = Y[i, 1] - STEP * k * Y[i, 0]
        Y[i + 1, 0] = Y[i, 0] + STEP * Y[i + 1, 1]
    grad = np.zeros_like(Y)
    grad[:, 0] = 2 * Y[:, 0]
    grad_k = 0.0
    for i in reversed(range(STEPS)):
        a = grad[i + 1, 0]
        grad[i, 0] += a
        grad[i + 1, 1] += STEP * a
        b = grad[i + 1, 1]
        grad[i, 1] += b
        grad[i, 0] -= STEP * k * b
        grad_k -= STEP * Y[i, 0] * b
    return np.array([grad[0, 0], grad[0, 1], grad_k])


def damped_loss(state):
    """Stepped by component, position first, the velocity's step reading
    the position it has just filled (``k * Y[i + 1, 0]``): the gradient in
    k reads that item back, which kept a copy of the trajectory per step
    (an (n, n + 1, 2) history) until ``_filled_items``."""
    Y = np.zeros((STEPS + 1, 2))
    Y[0, 0] = state[0]
    Y[0, 1] = state[1]
    for i in range(STEPS):
        Y[i + 1, 0] = Y[i, 0] + STEP * Y[i, 1]
        Y[i + 1, 1] = Y[i, 1] - STEP * (state[2] * Y[i + 1, 0]
                                        + state[3] * Y[i, 1])
    return np.sum(Y[:, 0] ** 2)


def damped_reference(state):
    """Its gradient in (x0, v0, k, c) written by hand."""
    k, c = state[2], state[3]
    Y = np.zeros((STEPS + 1, 2))
    Y[0] = state[:2]
    for i in range(STEPS):
        Y[i + 1, 0] = Y[i, 0] + STEP * Y[i, 1]
        Y[i + 1, 1] = Y[i, 1] - STEP * (k * Y[i + 1, 0] + c * Y[i, 1])
    grad = np.zeros_like(Y)
    grad[:, 0] = 2 * Y[:, 0]
    grad_k = grad_c = 0.0
    for i in reversed(range(STEPS)):
        b = grad[i + 1, 1]
        grad[i, 1] += (1 - STEP * c) * b
        grad[i + 1, 0] -= STEP * k * b
        grad_k -= STEP * Y[i + 1, 0] * b
        grad_c -= STEP * Y[i, 1] * b
        a = grad[i + 1, 0]
        grad[i, 0] += a
        grad[i, 1] += STEP * a
    return np.array([grad[0, 0], grad[0, 1], grad_k, grad_c])


def peak_bytes(function, argument) -> int:
    tracemalloc.start()
    function(argument)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def compare(title: str, loss, reference, argument) -> None:
    started = time.perf_counter()
    ours = ad.grad(loss)
    ours(argument)
    generated = time.perf_counter() - started
    error = float(np.max(np.abs(ours(argument) - reference(argument))))
    assert error < 1e-10, f"the gradient differs from the adjoint by {error}"
    rows = {"hand-written adjoint": reference, "autodiff_ast grad": ours}
    times = best_times(list(rows.values()), argument, calls=3)
    print(f"{title} (ratio to the hand-written adjoint in this run)")
    for (name, function), seconds in zip(rows.items(), times):
        memory = peak_bytes(function, argument) / peak_bytes(
            reference, argument)
        note = f"   first call {generated:.2f} s" if function is ours else ""
        print(f"  {name:<22} {seconds * 1e3:8.2f} ms  "
              f"{seconds / times[0]:5.2f}x  memory {memory:5.2f}x{note}")


def main() -> None:
    y0 = np.linspace(-1.0, 1.0, 3)
    compare(f"Euler into a trajectory, n = {STEPS}, d = {y0.shape[0]}",
            trajectory_loss, trajectory_reference, y0)
    compare(f"Symplectic Euler by component, n = {STEPS}",
            leapfrog_loss, leapfrog_reference, np.array([1.0, 0.0, 2.0]))
    compare(f"Damped, reading the item just filled, n = {STEPS}",
            damped_loss, damped_reference, np.array([1.0, 0.0, 2.0, 0.3]))


if __name__ == "__main__":
    main()
