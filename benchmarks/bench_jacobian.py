"""Jacobian of a few outputs of a long vector: reverse mode, forward mode
and a hand-written Jacobian.

Run: python benchmarks/bench_jacobian.py

f: R^n -> R^3 at n = 10**3 and 10**4, two ways of having three outputs:
``layer`` (tanh of a 3 x n matrix times sin(x), one reverse pass over the
identity over the output) and ``stats`` (np.stack of three reductions of
a vector computed from x, one gradient row each). Times are ratios to the
hand-written Jacobian measured in the same run: ``ad.jacobian`` (reverse
mode, O(3 n)) and ``ad.jacfwd`` (forward mode, which pushes the n x n
identity through the code: O(n^2) time and memory, 800 MB per array at n
= 10**4). "generate" is the first call; the code written at n = 10**3
reads its sizes when it runs, so it serves n = 10**4 too.
"""

from __future__ import annotations

import time
import timeit

import numpy as np

import autodiff_ast as ad

P = np.zeros((3, 1))


def layer(x):
    return np.tanh(P @ np.sin(x))


def layer_by_hand(x):
    hidden = np.tanh(P @ np.sin(x))
    return (1 - hidden ** 2)[:, None] * P * np.cos(x)


def stats(x):
    y = np.tanh(x) * np.sum(x ** 2)
    return np.stack([np.sum(y), np.sum(y ** 2), np.max(y)])


def stats_by_hand(x):
    # dy/dx = diag((1 - t^2) s) + t (2 x)^T, row by row
    t = np.tanh(x)
    s = np.sum(x ** 2)
    y = t * s
    d = (1 - t ** 2) * s
    k = np.argmax(y)
    row_max = 2 * t[k] * x
    row_max[k] += d[k]
    return np.stack([d + 2 * np.sum(t) * x,
                     2 * y * d + 4 * np.sum(y * t) * x, row_max])


def best(call, number):
    return min(timeit.repeat(call, number=number, repeat=5)) / number


def main() -> None:
    global P
    rng = np.random.default_rng(0)
    print(f"{'case':<16}{'by hand':>10}{'jacobian':>10}{'jacfwd':>10}"
          f"{'generate':>10}")
    for n in (10 ** 3, 10 ** 4):
        P = rng.normal(size=(3, n)) / np.sqrt(n)
        x = rng.normal(size=n)
        for function, by_hand in ((layer, layer_by_hand),
                                  (stats, stats_by_hand)):
            start = time.perf_counter()
            reverse = ad.jacobian(function)
            got = reverse(x)
            generate = time.perf_counter() - start
            forward = ad.jacfwd(function)
            expected = by_hand(x)
            np.testing.assert_allclose(got, expected, rtol=1e-12,
                                       atol=1e-15)
            np.testing.assert_allclose(forward(x), expected, rtol=1e-12,
                                       atol=1e-15)
            number = 200 if n < 10 ** 4 else 20
            hand = best(lambda: by_hand(x), number)
            ratio = best(lambda: reverse(x), number) / hand
            # forward mode is O(n^2): fewer calls
            slow = best(lambda: forward(x), max(1, number // 20)) / hand
            print(f"{function.__name__ + f' n={n}':<16}"
                  f"{hand * 1e6:>8.0f}us{ratio:>9.2f}x{slow:>9.0f}x"
                  f"{generate:>9.2f}s")


if __name__ == "__main__":
    main()
