"""jvp and vjp of the logistic loss: autodiff_ast against hand-written NumPy.

Run: python benchmarks/bench_jvp_vjp.py

The JAX tutorial's loss of (W, b), float32, at inputs of shape
(10**6, 3), (10**6, 100) and (4, 3). Each call is timed as a user makes it:

- ``ad.jvp(loss, (W, b), (v, db))``, the loss and its derivative along
  (v, db), against the hand-written ``(preds - targets) @ (X @ v + db)``
  beside the loss;
- ``ad.vjp(loss, W, b)`` and then its function at a cotangent, against the
  hand-written loss and ``ct * (X.T @ (preds - targets), sum(...))``.

Ratios to the hand-written code, measured in the same run, the functions
timed in turns (``timing.best_times``). Issue 10's target: 1.3x or less.
"""

from __future__ import annotations

import numpy as np

import autodiff_ast as ad
import bench_logistic as tutorial  # the loss, of its module's data
from timing import best_times

loss, sigmoid = tutorial.loss, tutorial.sigmoid


def jvp_by_hand(W, b, v, db):
    inputs, targets = tutorial.inputs, tutorial.targets
    preds = sigmoid(np.dot(inputs, W) + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    value = -np.sum(np.log(label_probs))
    return value, np.dot(preds - targets, np.dot(inputs, v) + db)


def vjp_by_hand(W, b):
    inputs, targets = tutorial.inputs, tutorial.targets
    preds = sigmoid(np.dot(inputs, W) + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    value = -np.sum(np.log(label_probs))
    dz = preds - targets

    def pullback(ct):
        return ct * np.dot(inputs.T, dz), ct * np.sum(dz)

    return value, pullback


def main() -> None:
    rng = np.random.default_rng(0)
    one = np.float32(1)
    print(f"{'shape':>14} {'jvp by hand':>12} {'ad.jvp':>7} "
          f"{'vjp by hand':>12} {'ad.vjp':>7}")
    for rows, columns in ((10**6, 3), (10**6, 100), (4, 3)):
        tutorial.inputs = rng.standard_normal((rows, columns)).astype(
            np.float32)
        tutorial.targets = rng.uniform(size=rows) < 0.5
        # (weights of 1/sqrt(columns): the loss stays finite in float32)
        W = (rng.standard_normal(columns) / columns ** 0.5).astype(
            np.float32)
        b = np.float32(0.3)
        v = rng.standard_normal(columns).astype(np.float32)
        db = np.float32(-0.2)

        value, tangent = ad.jvp(loss, (W, b), (v, db))
        expected = jvp_by_hand(W, b, v, db)
        scale = rows ** 0.5
        np.testing.assert_allclose(value, expected[0], rtol=1e-4)
        np.testing.assert_allclose(tangent, expected[1], rtol=1e-3,
                                   atol=1e-3 * scale)
        value, pullback = ad.vjp(loss, W, b)
        grads = pullback(one)
        np.testing.assert_allclose(grads[0], vjp_by_hand(W, b)[1](one)[0],
                                   rtol=2e-3, atol=1e-3 * scale)

        calls = 3 if rows > 1000 else 2000

        def ours_jvp(_):
            return ad.jvp(loss, (W, b), (v, db))

        def hand_jvp(_):
            return jvp_by_hand(W, b, v, db)

        def ours_vjp(_):
            return ad.vjp(loss, W, b)[1](one)

        def hand_vjp(_):
            return vjp_by_hand(W, b)[1](one)

        t_ours_jvp, t_hand_jvp, t_ours_vjp, t_hand_vjp = best_times(
            [ours_jvp, hand_jvp, ours_vjp, hand_vjp], None, calls=calls)
        print(f"{str((rows, columns)):>14} {t_hand_jvp * 1e6:10.1f}us "
              f"{t_ours_jvp / t_hand_jvp:6.2f}x {t_hand_vjp * 1e6:10.1f}us "
              f"{t_ours_vjp / t_hand_vjp:6.2f}x")


if __name__ == "__main__":
    main()
