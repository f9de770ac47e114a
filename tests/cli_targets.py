"""Functions the command-line tests point the real `autodiff-ast` at."""

import math

import numpy as np


def wave(x, y):
    return math.sin(x) * y ** 2


def kink(x):
    return np.abs(x)


def loops(x):
    while x > 1:  # refused: while
        x = x / 2
    return x


def total(W):
    return np.sum(W ** 2)


GAIN = 1.5


def damped(x):
    return GAIN * math.sin(x)
