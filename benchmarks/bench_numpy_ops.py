"""Gradients of NumPy reductions: autodiff_ast against hand-written NumPy.

Run: python benchmarks/bench_numpy_ops.py

For np.max, np.prod, np.linalg.norm, np.var and np.cumsum on 10**6
float64 elements (and np.max along an axis of a 1000 x 1000 matrix,
np.linalg.det and np.einsum('ij,jk->ik') of 1000 x 1000 matrices (by
hand: det * inv(a).T, and the weights @ the other factor's transpose),
and with SciPy the softmax cross-entropy of 1000 x 1000 logits, against
one-hot rows and integer labels: by hand, softmax - onehot), the
time of the generated gradient as a ratio to a careful hand-written one,
measured in the same run (the best of 9 interleaved repeats each). The
hand-written gradients are what a person who knows NumPy writes: ties share the
gradient of a maximum, the gradient of a product uses no division (so it
is right at zeros), a cumulative sum's is a reversed cumulative sum.
"""

from __future__ import annotations

import os

# One BLAS thread (np.linalg.norm calls BLAS): with others running on the
# machine, threaded timings jump between two modes run to run (0.4 ms and
# 2 ms for the same call), whoever's turn it is.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autodiff_ast as ad  # noqa: E402
from timing import best_times  # noqa: E402

try:
    import scipy.special
except ImportError:  # an optional extra: its rows are left out
    scipy = None

WEIGHTS = np.zeros(1)
FACTOR = np.zeros((1, 1))
MATRIX_WEIGHTS = np.zeros((1, 1))
LABELS = np.zeros(1, dtype=int)
ONEHOT = np.zeros((1, 1))


def max_of(x):
    return np.max(x)


def row_maxima(x):
    return np.sum(np.max(x, axis=1))


def prod_of(x):
    return np.prod(x)


def norm_of(x):
    return np.linalg.norm(x)


def variance(x):
    return np.var(x)


def running_total(x):
    return np.sum(WEIGHTS * np.cumsum(x))


def cross_entropy(logits):
    return -np.sum(ONEHOT * scipy.special.log_softmax(logits, axis=1))


def cross_entropy_labels(logits):
    rows = np.arange(logits.shape[0])
    return -np.sum(scipy.special.log_softmax(logits, axis=1)[rows, LABELS])


def determinant(a):
    return np.linalg.det(a)


def contraction(x):
    return np.sum(MATRIX_WEIGHTS * np.einsum("ij,jk->ik", x, FACTOR))


def max_by_hand(x):
    ties = x == x.max()
    return ties / ties.sum()


def row_maxima_by_hand(x):
    ties = x == x.max(axis=1, keepdims=True)
    return ties / ties.sum(axis=1, keepdims=True)


def prod_by_hand(x):
    before = np.empty_like(x)
    before[0] = 1.0
    np.cumprod(x[:-1], out=before[1:])
    after = np.empty_like(x)
    after[-1] = 1.0
    np.cumprod(x[:0:-1], out=after[-2::-1])
    return before * after


def norm_by_hand(x):
    return x / np.linalg.norm(x)


def variance_by_hand(x):
    return (2.0 / x.size) * (x - x.mean())


def running_total_by_hand(x):
    return np.cumsum(WEIGHTS[::-1])[::-1]


def cross_entropy_by_hand(logits):
    exp_logits = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp_logits / exp_logits.sum(axis=1, keepdims=True) - ONEHOT


def cross_entropy_labels_by_hand(logits):
    exp_logits = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax = exp_logits / exp_logits.sum(axis=1, keepdims=True)
    softmax[np.arange(logits.shape[0]), LABELS] -= 1.0
    return softmax


def determinant_by_hand(a):
    return np.linalg.det(a) * np.linalg.inv(a).T


def contraction_by_hand(x):
    return MATRIX_WEIGHTS @ FACTOR.T


def main() -> None:
    global WEIGHTS, LABELS, ONEHOT, FACTOR, MATRIX_WEIGHTS
    rng = np.random.default_rng(0)
    vector = rng.uniform(0.5, 1.5, 10**6)
    near_one = rng.uniform(1 - 1e-4, 1 + 1e-4, 10**6)  # a finite product
    matrix = rng.uniform(0.5, 1.5, (1000, 1000))
    WEIGHTS = rng.uniform(-1.0, 1.0, 10**6)
    cases = [("np.max", max_of, max_by_hand, vector),
             ("np.max(axis=1)", row_maxima, row_maxima_by_hand, matrix),
             ("np.prod", prod_of, prod_by_hand, near_one),
             ("np.linalg.norm", norm_of, norm_by_hand, vector),
             ("np.var", variance, variance_by_hand, vector),
             ("np.cumsum", running_total, running_total_by_hand, vector)]
    # A determinant far from overflow (det of a random 1000 x 1000 matrix
    # is inf), and einsum's matrix product of 1000 x 1000 matrices.
    near_identity = np.eye(1000) + rng.normal(scale=0.01, size=(1000, 1000))
    FACTOR = rng.normal(size=(1000, 1000))
    MATRIX_WEIGHTS = rng.normal(size=(1000, 1000))
    cases += [("np.linalg.det", determinant, determinant_by_hand,
               near_identity),
              ("einsum ij,jk->ik", contraction, contraction_by_hand, matrix)]
    if scipy is not None:  # softmax cross-entropy, 1000 classes
        LABELS = rng.integers(0, 1000, 1000)
        ONEHOT = np.eye(1000)[LABELS]
        logits = rng.normal(size=(1000, 1000))
        cases += [("log_softmax xent", cross_entropy, cross_entropy_by_hand,
                   logits),
                  ("... int labels", cross_entropy_labels,
                   cross_entropy_labels_by_hand, logits)]
    print(f"{'gradient of':>16} {'by hand':>10} {'autodiff_ast':>13}")
    for label, function, by_hand, x in cases:
        ours = ad.grad(function)
        np.testing.assert_allclose(ours(x), by_hand(x), rtol=1e-9,
                                   atol=1e-15)
        base, mine = best_times([by_hand, ours], x)
        ratio = mine / base
        print(f"{label:>16} {base * 1e3:8.2f}ms {ratio:12.2f}x")
    print()
    for label, function, by_hand, x in cases:
        print(ad.source(ad.grad(function), x))


if __name__ == "__main__":
    main()
