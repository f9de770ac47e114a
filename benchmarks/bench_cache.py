"""Persistent cache: f'''' of exp(sin(x)) * tanh(x**2) in a second process.

Run: python benchmarks/bench_cache.py

Two fresh processes share an empty cache folder; each reports how long
ad.derivative(f, 4) took after imports. The first generates and stores,
the second reads. Target: the second at least 20x faster.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap

SCRIPT = textwrap.dedent("""
    import time
    import numpy as np
    import autodiff_ast as ad

    def f(x):
        return np.exp(np.sin(x)) * np.tanh(x ** 2)

    started = time.perf_counter()
    d4 = ad.derivative(f, 4)
    print(time.perf_counter() - started)
""")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        script = pathlib.Path(folder, "fourth.py")
        script.write_text(SCRIPT)
        environment = dict(os.environ, AUTODIFF_AST_CACHE="1",
                           AUTODIFF_AST_CACHE_DIR=str(pathlib.Path(
                               folder, "cache")))
        times = []
        for _ in range(2):
            result = subprocess.run([sys.executable, str(script)],
                                    env=environment, check=True,
                                    capture_output=True, text=True)
            times.append(float(result.stdout))
    print(f"first process (generates):  {times[0] * 1e3:8.1f} ms")
    print(f"second process (cache hit): {times[1] * 1e3:8.1f} ms")
    print(f"speed-up: {times[0] / times[1]:.0f}x (target >= 20x)")


if __name__ == "__main__":
    main()
