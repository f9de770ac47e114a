"""Functions the command-line tests point the real `autodiff-ast` at."""

import math

import numpy as np


def wave(x, y):
    return math.sin(x) * y ** 2


def listed_wave(u):  # (a list: array code, at floats)
    parts = [u, 2 * u]
    return np.sin(parts[0]) * parts[1]


def kink(x):
    return np.abs(x)


def guarded(x):
    try:  # refused: try
        return x / 2
    finally:
        pass


def total(W):
    return np.sum(W ** 2)


GAIN = 1.5


def damped(x):
    return GAIN * math.sin(x)


# Array code: its derivatives need argument kinds (--arg).

INPUTS = np.array([[0.52, 1.12, 0.77],
                   [0.88, -1.08, 0.15],
                   [0.52, 0.06, -1.30],
                   [0.74, -2.49, 1.39]], dtype=np.float32)
TARGETS = np.array([True, True, False, True])


def logistic(W, b):
    preds = 0.5 * (np.tanh((np.dot(INPUTS, W) + b) / 2) + 1)
    return -np.sum(np.log(preds * TARGETS + (1 - preds) * (1 - TARGETS)))


def logistic_tree(params):
    return logistic(params["W"], params["b"])


def least_squares(w, X, y):
    return np.mean((X @ w - y) ** 2)


SCALES = np.array([0.5, 2.0, -1.5])  # float64: a float32 w's gradient is cast


def scaled(w):
    return np.sum(SCALES * np.sin(w))


TABLE = np.linspace(0.0, 1.0, 2002).reshape(1001, 2)


def tabulated(w):
    return np.sum(np.tanh(TABLE @ w))


def inverse_sum(A):
    return np.sum(np.linalg.inv(A))


def negative_cholesky(A):  # -A is never positive definite at export's A
    return np.sum(np.linalg.cholesky(-A))


def predictions(W, b):  # array-valued: its Jacobian is a pytree of blocks
    z = np.dot(INPUTS, W) + b
    return 0.5 * (np.tanh(z / 2) + 1), np.sum(W ** 2)
