"""The 2-layer tanh RNN of issue 11 against its peers, in one run.

Run: python benchmarks/bench_rnn.py

The gradient of ``rnn_loss`` (benchmarks/bench_growth.py) with respect to
its six weight arrays, over a (T, D) = (100, 32) sequence with ``for x_t in
xs``: ours (a loop forwards, then one backwards through the same
operations), a hand-written backpropagation through time (the reference,
1.0x), and, where they are installed, JAX's ``jit(grad)`` (its first call,
which compiles, is printed apart) and autograd's ``grad``. Each is checked
against the reference; times are each function's best, the functions run
in turns (benchmarks/timing.py), so the ratios compare times under the same
load.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import autodiff_ast as ad  # noqa: E402
from bench_growth import (RNN_STEPS, RNN_WIDTH, rnn_inputs,  # noqa: E402
                          rnn_loss, rnn_reference)
from timing import best_times  # noqa: E402


def _peers(params, xs):
    """name -> (gradient function, seconds of its first call)."""
    peers = {}
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        jax.config.update("jax_enable_x64", True)
        namespace = dict(rnn_loss.__globals__, np=jnp)
        traced = type(rnn_loss)(rnn_loss.__code__, namespace)
        jitted = jax.jit(jax.grad(traced))
        started = time.perf_counter()
        jax.block_until_ready(jitted(params, xs))
        first = time.perf_counter() - started
        peers["JAX jit(grad)"] = (
            lambda p: jax.block_until_ready(jitted(p, xs)), first)
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        pass
    else:
        namespace = dict(rnn_loss.__globals__, np=anp)
        traced = type(rnn_loss)(rnn_loss.__code__, namespace)
        peers["autograd grad"] = (lambda p, g=autograd.grad(traced):
                                  g(p, xs), 0.0)
    return peers


def main() -> None:
    params, xs = rnn_inputs(RNN_STEPS, RNN_WIDTH)
    started = time.perf_counter()
    ours = ad.grad(rnn_loss)
    ours(params, xs)
    generated = time.perf_counter() - started
    rows = {"hand-written BPTT": (lambda p: rnn_reference(p, xs), 0.0),
            "autodiff_ast grad": (lambda p: ours(p, xs), generated),
            **_peers(params, xs)}
    want = rnn_reference(params, xs)
    for name, (function, _) in rows.items():
        got = function(params)
        error = max(float(np.max(np.abs(np.asarray(got[k]) - want[k])))
                    for k in want)
        assert error < 1e-10, f"{name} differs from BPTT by {error}"
    times = best_times([f for f, _ in rows.values()], params, calls=3)
    print(f"RNN gradient, T = {RNN_STEPS}, D = {RNN_WIDTH} "
          "(ratio to the hand-written BPTT in this run)")
    for (name, (_, first)), seconds in zip(rows.items(), times):
        note = f"   first call {first:.2f} s" if first else ""
        print(f"  {name:<20} {seconds * 1e3:8.2f} ms  "
              f"{seconds / times[0]:5.2f}x{note}")


if __name__ == "__main__":
    main()
