"""Logistic-regression gradient: autodiff_ast against hand-written NumPy.

Run: python benchmarks/bench_logistic.py

The gradient of the JAX tutorial's loss with respect to (W, b), at inputs of
shape (10**6, 3), (10**6, 100) and (4, 3), float32. Reported as ratios to
the best hand-written gradient, measured in the same run: it uses
``dz = preds - targets``, valid because the targets are 0/1. Also shown:
the plain hand-written chain rule. Peak memory (tracemalloc, which sees
NumPy's allocations) as a ratio to the reference's.
"""

from __future__ import annotations

import timeit
import tracemalloc

import numpy as np

import autodiff_ast as ad

inputs = np.zeros((1, 1), dtype=np.float32)
targets = np.zeros(1, dtype=bool)


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2) + 1)


def predict(W, b, inputs):
    return sigmoid(np.dot(inputs, W) + b)


def loss(W, b):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probs))


def reference(W, b):
    """The best hand-written gradient: dz = preds - targets."""
    preds = sigmoid(np.dot(inputs, W) + b)
    dz = preds - targets
    return np.dot(inputs.T, dz), np.sum(dz)


def chain_rule(W, b):
    """The plain hand-written chain rule, step by step."""
    z = np.dot(inputs, W) + b
    preds = sigmoid(z)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    with np.errstate(all="ignore"):  # float32 probabilities round to 0
        d_probs = -1 / label_probs
        d_preds = d_probs * (targets - (1 - targets))
        dz = d_preds * preds * (1 - preds)
    return np.dot(inputs.T, dz), np.sum(dz)


def seconds(function, args, number: int) -> float:
    timer = timeit.Timer(lambda: function(*args))
    return min(timer.repeat(repeat=7, number=number)) / number


def peak_bytes(function, args) -> int:
    function(*args)
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    global inputs, targets
    rng = np.random.default_rng(0)
    print(f"{'shape':>14} {'reference':>11} {'autodiff_ast':>13} "
          f"{'chain rule':>11} {'memory':>7}")
    for rows, columns, number in ((10**6, 3, 5), (10**6, 100, 2),
                                  (4, 3, 20000)):
        inputs = rng.standard_normal((rows, columns)).astype(np.float32)
        targets = rng.uniform(size=rows) < 0.5
        W = rng.standard_normal(columns).astype(np.float32)
        b = np.float32(0.3)
        ours = ad.grad(loss, (0, 1))
        expected = reference(W, b)
        got = ours(W, b)
        np.testing.assert_allclose(got[0], expected[0], rtol=2e-3,
                                   atol=1e-3 * rows ** 0.5)
        base = seconds(reference, (W, b), number)
        ratio = seconds(ours, (W, b), number) / base
        chain = seconds(chain_rule, (W, b), number) / base
        memory = peak_bytes(ours, (W, b)) / peak_bytes(reference, (W, b))
        print(f"{str((rows, columns)):>14} {base * 1e6:9.1f}us "
              f"{ratio:12.2f}x {chain:10.2f}x {memory:6.2f}x")
    print()
    print(ad.source(ours, W, b))


if __name__ == "__main__":
    main()
