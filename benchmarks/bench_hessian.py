"""Logistic-regression Hessian: autodiff_ast against hand-written NumPy.

Run: python benchmarks/bench_hessian.py

The Hessian of the JAX tutorial's loss with respect to W, at inputs of
shape (10**5, 3), (10**5, 100) and (4, 3), float64 and float32, and at
issue 10's three sizes (10**5, 10), (10**6, 3) and (1000, 100), as a ratio
to the hand-written closed form ``X.T @ (X * (p * (1 - p))[:, None])``
measured in the same run (target: at most 1.2x), and how long generating
it takes (target: under 1 s). Also shown: the Hessian-vector product
``ad.jvp(ad.grad(loss), (W,), (v,))`` against ``X.T @ (p(1-p) * (X @ v))``.

Last, the Hessian of code on numbers, two arguments at Python floats
(``ad.hessian(f, argnums=(0, 1))``, a tuple of tuples), against the
hand-written closed form (issue 10's target: at most 1.2x).
"""

from __future__ import annotations

import pathlib
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import autodiff_ast as ad  # noqa: E402
from timing import best_times  # noqa: E402

inputs = np.zeros((1, 1))
targets = np.zeros(1, dtype=bool)


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2) + 1)


def loss(W, b):
    preds = sigmoid(np.dot(inputs, W) + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def reference(W, b):
    """The Hessian by hand: X.T diag(p (1 - p)) X, without the diagonal."""
    preds = sigmoid(np.dot(inputs, W) + b)
    return np.dot(inputs.T, inputs * (preds * (1 - preds))[:, None])


def reference_hvp(W, b, v):
    preds = sigmoid(np.dot(inputs, W) + b)
    return np.dot(inputs.T, preds * (1 - preds) * np.dot(inputs, v))


def best(call, number):
    return min(timeit.repeat(call, number=number, repeat=7)) / number


def main() -> None:
    global inputs, targets
    rng = np.random.default_rng(0)
    print(f"{'case':<24}{'generate':>10}{'hessian':>10}{'hvp':>8}")
    for rows, columns, dtype in [(10 ** 5, 3, np.float64),
                                 (10 ** 5, 100, np.float64),
                                 (10 ** 5, 100, np.float32),
                                 (4, 3, np.float64),
                                 (10 ** 5, 10, np.float64),
                                 (10 ** 6, 3, np.float64),
                                 (1000, 100, np.float64)]:
        inputs = rng.normal(size=(rows, columns)).astype(dtype)
        targets = rng.random(rows) > 0.5
        W = (0.1 * rng.normal(size=columns)).astype(dtype)
        b = dtype(0.2)
        v = rng.normal(size=columns).astype(dtype)
        start = time.perf_counter()
        hessian = ad.hessian(loss)
        hessian(W, b)
        generate = time.perf_counter() - start
        expected = reference(W, b)
        np.testing.assert_allclose(
            hessian(W, b), expected, rtol=0,
            atol=(1e-4 if dtype == np.float32 else 1e-12)
            * np.abs(expected).max())
        hvp = ad.grad(loss)
        number = 3 if rows > 10 ** 4 else 300 if rows > 10 else 20000
        ratio = best(lambda: hessian(W, b), number) / best(
            lambda: reference(W, b), number)
        ratio_hvp = best(lambda: ad.jvp(hvp, (W, b), (v, dtype(0))),
                         number) / best(lambda: reference_hvp(W, b, v),
                                        number)
        name = f"({rows}, {columns}) {np.dtype(dtype).name}"
        print(f"{name:<24}{generate:>9.2f}s{ratio:>9.2f}x{ratio_hvp:>7.2f}x")


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def rosenbrock_hessian(x, y):
    across = -400 * x
    return ((2 - 400 * y + 1200 * x ** 2, across), (across, 200.0))


def wave(x, y):
    return np.exp(-x * y) * np.sin(x + y)


def wave_hessian(x, y):
    decay = np.exp(-x * y)
    s, c = np.sin(x + y), np.cos(x + y)
    xx = decay * (y * y * s - 2 * y * c - s)
    yy = decay * (x * x * s - 2 * x * c - s)
    xy = decay * ((x * y - 1) * s - (x + y) * c - s)
    return ((xx, xy), (xy, yy))


def scalar_hessians() -> None:
    print(f"\n{'code on numbers':<24}{'hessian':>10}")
    point = (0.7, -0.3)
    for f, by_hand in ((rosenbrock, rosenbrock_hessian),
                       (wave, wave_hessian)):
        hessian = ad.hessian(f, argnums=(0, 1))
        np.testing.assert_allclose(np.array(hessian(*point)),
                                   np.array(by_hand(*point)), rtol=1e-13)
        ours, reference = best_times(
            [lambda p: hessian(*p), lambda p: by_hand(*p)], point, 20_000)
        print(f"{f.__name__ + ' (x, y)':<24}{ours / reference:>9.2f}x")


if __name__ == "__main__":
    main()
    scalar_hessians()
