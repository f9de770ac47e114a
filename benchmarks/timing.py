"""The timer the benchmarks share: each function's best time, the
functions run in turns so that a load on a shared machine weighs on all of
them alike (a ratio compares times taken under the same load)."""

from __future__ import annotations

import timeit
from typing import Any, Callable, Sequence


def best_times(functions: Sequence[Callable[[Any], Any]], argument: Any,
               calls: int = 5, repeats: int = 9) -> list[float]:
    """Seconds per call of each of ``functions`` on ``argument``: the best
    of ``repeats`` rounds of ``calls`` calls, the functions in turns."""
    timers = [timeit.Timer(lambda f=f: f(argument)) for f in functions]
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for index, timer in enumerate(timers):
            best[index] = min(best[index], timer.timeit(calls) / calls)
    return best
