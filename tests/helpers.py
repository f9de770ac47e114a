"""Numerical references shared by the tests."""

from __future__ import annotations

from typing import Callable

import numpy as np


def central_difference(f: Callable[..., float], args: tuple[float, ...],
                       argnum: int, step: float = 1e-6) -> float:
    """d f / d args[argnum] by a fourth-order central difference."""
    h = step * max(1.0, abs(args[argnum]))

    def at(offset: float) -> float:
        shifted = list(args)
        shifted[argnum] = args[argnum] + offset
        return float(f(*shifted))

    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def sample_points(low: float, high: float, count: int = 5) -> np.ndarray:
    """Points inside (low, high), avoiding the ends and exact integers."""
    return np.linspace(low, high, count + 2)[1:-1] + 0.0123
