"""Command line: ``check``, each order of derivative at a point against
central differences of the order before."""

from __future__ import annotations

import argparse
from typing import Any, Callable

import numpy as np

from ._cli_derive import gradient_orders
from ._cli_targets import (CommandError, load_target, parameter_names,
                           parse_argnums)

__all__ = ["command_check"]


def _central_difference(function: Callable[..., Any], point: list[float],
                        argnum: int, step: float) -> float:
    def at(offset: float) -> float:
        shifted = list(point)
        shifted[argnum] += offset
        return float(function(*shifted))

    h = step * max(1.0, abs(point[argnum]))
    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def command_check(options: argparse.Namespace) -> int:
    function = load_target(options.target)
    argnums = parse_argnums(function, options.argnums, options.wrt)
    if isinstance(argnums, tuple):
        raise CommandError("check differentiates one argument at a time: "
                           "pass --wrt NAME or one --argnums index")
    try:
        point = [float(v) for v in options.at.split(",")]
    except ValueError:
        raise CommandError(f"--at {options.at!r} must be numbers separated "
                           "by commas, like 1.5 or 1.5,2") from None
    expected = len(parameter_names(function))
    if len(point) != expected:
        raise CommandError(f"--at gives {len(point)} value(s) but the "
                           f"function takes {expected}")
    highest = 1 if options.order is None else options.order
    rows, failed, previous = [], False, function
    for order, derived in enumerate(
            gradient_orders(function, highest, argnums), 1):
        derivative = derived.function
        analytic = float(derivative(*point))
        numeric = _central_difference(previous, point, argnums, 1e-3)
        error = abs(analytic - numeric)
        ok = bool(np.isfinite(analytic)) and error <= (
            options.atol + options.rtol * abs(numeric))
        failed |= not ok
        rows.append((order, analytic, numeric, error, "OK" if ok else "FAIL"))
        previous = derivative
    name = parameter_names(function)[argnums]
    print(f"d^n/d{name}^n of {options.target} at "
          f"({', '.join(map(repr, point))}), against central differences of "
          "the order before")
    print(f"{'order':>5}  {'autodiff_ast':>22}  {'central difference':>22}  "
          f"{'error':>9}  status")
    for order, analytic, numeric, error, status in rows:
        print(f"{order:>5}  {analytic:>22.15g}  {numeric:>22.15g}  "
              f"{error:>9.2e}  {status}")
    return 1 if failed else 0
