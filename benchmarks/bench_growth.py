"""How generated derivatives grow: the baseline for issue 11.

Run: python benchmarks/bench_growth.py [--timeout SECONDS]

Issue 11 (loops that stay loops; derivatives that grow polynomially, not
exponentially) sets targets in seconds and lines; this prints them for the
library as it is, so the change can be measured against the same table.

1. A loop body repeated N = 10, 100, 1000, 10**4 times, first derivative:
   an explicit Euler step ``x = x + 0.1 * (-k * x)`` in ``for i in
   range(N)`` (each step reads x twice) and the same step written out N
   times (straight-line code whose tree doubles at every step), the sum of
   ``np.sin(k * x) / k`` written out one statement per term, the same sum
   as one expression four terms a line (Python cannot compile one
   expression of 10**4 terms, nor before 3.13 of 3000: those rows say so),
   and the sum as ``for k in range(1, N + 1)``.
2. Orders 1-8 of ``exp(sin x) * tanh(x**2)``, of a 12-step recurrence
   ``x = tanh(0.9 * x + 0.1)`` and of Newton's sqrt with 3 steps, each order
   generated from the previous one's source: seconds for that order, seconds
   from f, generated lines.
3. The issue's other targets: the Euler gradient with respect to (x0, k)
   with ``n_steps`` an argument (call time as a ratio to the forward
   simulation in the same run), Newton with a ``while`` loop (first and
   second derivatives against mpmath), a 3000-term written-out sum, and a
   2-layer tanh RNN over a (T, D) array with ``for x_t in xs`` (against a
   hand-written backpropagation through time, also as a call-time ratio).
   Where the library refuses, the row says "refused: <the error's first
   line>".

"Generate" is the time from calling ad.grad to a derivative ready to call
(for array code, which is generated per input signature, including its
first call), without imports and with the disk cache off. "Lines" counts
the generated function's code lines: no docstring, no blank lines. Every
derivative is checked against a closed form, mpmath or a hand-written
gradient; a wrong one prints "WRONG". Each cell runs in a subprocess of its
own (this file with ``--cell``) and is stopped after --timeout seconds
(default 20), printing "> 20 s"; larger sizes and higher orders after a
stopped cell are not run, and the whole table stays under 10 minutes.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from typing import Any, Callable, Iterator

import mpmath
import numpy as np

import autodiff_ast as ad

SIZES = (10, 100, 1000, 10 ** 4)
ORDERS = range(1, 9)
TIMEOUT = 20.0
BUDGET = 540.0   # seconds for the whole table, under the 10 minutes asked
TERMS = 3000     # the written-out sum
RNN_STEPS, RNN_WIDTH = 100, 32


# -- the functions measured ---------------------------------------------------
# Bodies repeated N times are written into a module file per N (the
# library reads source); the others are defined here.

def loop_source(kind: str, n: int) -> str:
    """The source of the function ``f`` for a loop case of size n."""
    if kind == "euler":
        return ("def f(x, k):\n"
                f"    for i in range({n}):\n"
                "        x = x + 0.1 * (-k * x)\n"
                "    return x\n")
    if kind == "sum":
        terms = "".join(f"    total = total + np.sin({k} * x) / {k}\n"
                        for k in range(2, n + 1))
        return ("def f(x):\n    total = np.sin(1 * x) / 1\n"
                f"{terms}    return total\n")
    if kind == "euler_written":
        return ("def f(x, k):\n" + "    x = x + 0.1 * (-k * x)\n" * n
                + "    return x\n")
    if kind == "sum_expression":
        lines = [" + ".join(f"np.sin({k} * x) / {k}"
                            for k in range(first, min(first + 4, n + 1)))
                 for first in range(1, n + 1, 4)]
        return ("def f(x):\n    return (" + "\n            + ".join(lines)
                + ")\n")
    if kind == "sum_loop":
        return ("def f(x):\n    total = 0.0\n"
                f"    for k in range(1, {n + 1}):\n"
                "        total = total + np.sin(k * x) / k\n"
                "    return total\n")
    raise ValueError(f"unknown loop case {kind!r}")


def smooth(x):
    return np.exp(np.sin(x)) * np.tanh(x ** 2)


def tanh_steps(x):
    for _ in range(12):
        x = np.tanh(0.9 * x + 0.1)
    return x


def newton_sqrt(a):
    x = a
    for _ in range(3):
        x = 0.5 * (x + a / x)
    return x


def euler(x0, k, n_steps):
    dt = 1.0 / n_steps
    x = x0
    for _ in range(n_steps):
        x = x + dt * (-k * x)
    return x


def newton_while(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


def rnn_loss(params, xs):
    h1 = np.zeros_like(params["b1"])
    h2 = np.zeros_like(params["b2"])
    for x_t in xs:
        h1 = np.tanh(params["W1"] @ x_t + params["U1"] @ h1 + params["b1"])
        h2 = np.tanh(params["W2"] @ h1 + params["U2"] @ h2 + params["b2"])
    return np.sum(h2 ** 2)


def rnn_reference(params, xs):
    """rnn_loss's gradient by hand: backpropagation through time."""
    W1, U1, b1 = params["W1"], params["U1"], params["b1"]
    W2, U2, b2 = params["W2"], params["U2"], params["b2"]
    h1s, h2s = [np.zeros_like(b1)], [np.zeros_like(b2)]
    for x_t in xs:
        h1s.append(np.tanh(W1 @ x_t + U1 @ h1s[-1] + b1))
        h2s.append(np.tanh(W2 @ h1s[-1] + U2 @ h2s[-1] + b2))
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    g_h2, g_h1 = 2 * h2s[-1], np.zeros_like(b1)
    for t in range(len(xs), 0, -1):
        g_z2 = g_h2 * (1 - h2s[t] ** 2)
        grads["W2"] += np.outer(g_z2, h1s[t])
        grads["U2"] += np.outer(g_z2, h2s[t - 1])
        grads["b2"] += g_z2
        g_z1 = (g_h1 + W2.T @ g_z2) * (1 - h1s[t] ** 2)
        grads["W1"] += np.outer(g_z1, xs[t - 1])
        grads["U1"] += np.outer(g_z1, h1s[t - 1])
        grads["b1"] += g_z1
        g_h2, g_h1 = U2.T @ g_z2, U1.T @ g_z1
    return grads


def rnn_inputs(steps: int, width: int) -> tuple[dict[str, np.ndarray],
                                                np.ndarray]:
    rng = np.random.default_rng(0)
    scale = 1 / np.sqrt(width)
    params = {name: scale * rng.normal(size=shape) for name, shape in [
        ("W1", (width, width)), ("U1", (width, width)), ("b1", (width,)),
        ("W2", (width, width)), ("U2", (width, width)), ("b2", (width,))]}
    return params, rng.normal(size=(steps, width))


def _tanh_steps_mp(x):
    for _ in range(12):
        x = mpmath.tanh(mpmath.mpf("0.9") * x + mpmath.mpf("0.1"))
    return x


def _newton_mp(a):
    x = a
    for _ in range(3):
        x = (x + a / x) / 2
    return x


# Orders 1-8: the function, where it is evaluated, and mpmath's version.
SERIES: dict[str, tuple[Callable[..., Any], float, Callable[[Any], Any]]] = {
    "exp(sin x) * tanh(x**2)": (
        smooth, 0.7,
        lambda x: mpmath.exp(mpmath.sin(x)) * mpmath.tanh(x ** 2)),
    "12-step tanh recurrence": (tanh_steps, 0.7, _tanh_steps_mp),
    "Newton sqrt, 3 steps": (newton_sqrt, 2.0, _newton_mp),
}


# -- measuring one cell (in this process) -------------------------------------

def code_lines(text: str) -> int:
    """Non-blank lines of generated source outside docstrings and comments."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.Module)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    return sum(1 for number, line in enumerate(text.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#")
               and number not in docstrings)


def _refusal(exc: Exception) -> dict[str, Any]:
    kind = "refused" if isinstance(exc, ad.AutodiffError) else "error"
    first = (str(exc).splitlines() or [""])[0]
    if kind == "error":
        first = f"{type(exc).__name__}: {first}"
    return {"status": kind, "message": first}


def _relative(got: Any, want: Any) -> float:
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)),
                                                  1e-300))


def _load(text: str, folder: str, name: str) -> Any:
    path = pathlib.Path(folder, f"{name}.py")
    path.write_text("import numpy as np\n\n\n" + text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def loop_cell(kind: str, n: int) -> dict[str, Any]:
    """First derivative of the loop case ``kind`` of size n."""
    euler = kind in ("euler", "euler_written")
    with tempfile.TemporaryDirectory() as folder:
        try:
            f = _load(loop_source(kind, n), folder, f"growth_{kind}_{n}")
        except RecursionError:  # one expression of thousands of terms
            return {"status": "error", "message": "Python cannot compile "
                    "the function (RecursionError during compilation)"}
        args = (1.3, 0.7) if euler else (0.7,)
        started = time.perf_counter()
        try:
            df = ad.grad(f)
            got = df(*args)  # code with loops is generated at its first call
        except Exception as exc:  # a refusal is a result here
            return _refusal(exc)
        seconds = time.perf_counter() - started
        if euler:
            error = _relative(got, (1 - 0.1 * args[1]) ** n)
        else:
            error = _relative(got, np.sum(np.cos(np.arange(1, n + 1)
                                                 * args[0])))
        return {"status": "ok" if error < 1e-9 else "WRONG",
                "seconds": seconds, "lines": code_lines(ad.source(df, *args)),
                "error": error}


def order_cells(name: str, orders: range = ORDERS) -> Iterator[dict[str, Any]]:
    """Orders of a SERIES function, each generated from the one before."""
    f, x, exact = SERIES[name]
    derivative, total = f, 0.0
    for order in orders:
        started = time.perf_counter()
        try:
            derivative = ad.grad(derivative)
            got = derivative(x)  # code with loops is generated when called
        except Exception as exc:
            yield dict(_refusal(exc), order=order)
            return
        seconds = time.perf_counter() - started
        total += seconds
        with mpmath.workdps(40):
            want = mpmath.diff(exact, mpmath.mpf(x), order)
        error = _relative(got, float(want))
        yield {"status": "ok" if error < 1e-8 else "WRONG", "order": order,
               "seconds": seconds, "total": total, "error": error,
               "lines": code_lines(ad.source(derivative, x))}


def _ratio(call: Callable[[], Any], reference: Callable[[], Any]) -> float:
    def best(fn: Callable[[], Any]) -> float:
        number = max(1, int(0.05 / max(timeit.timeit(fn, number=1), 1e-9)))
        return min(timeit.repeat(fn, number=number, repeat=5)) / number
    return best(call) / best(reference)


def euler_cell(n_steps: int) -> dict[str, Any]:
    """Gradient of euler w.r.t. (x0, k), n_steps an argument."""
    x0, k = 1.3, 0.7
    started = time.perf_counter()
    try:
        gradient = ad.grad(euler, argnums=(0, 1))
        got = gradient(x0, k, n_steps)
    except Exception as exc:
        return _refusal(exc)
    seconds = time.perf_counter() - started
    factor = 1 - k / n_steps
    error = _relative(got, (factor ** n_steps, -x0 * factor ** (n_steps - 1)))
    return {"status": "ok" if error < 1e-9 else "WRONG", "seconds": seconds,
            "error": error,
            "ratio": _ratio(lambda: gradient(x0, k, n_steps),
                            lambda: euler(x0, k, n_steps))}


def newton_while_cell(order: int) -> dict[str, Any]:
    """Derivative of the while-loop Newton against mpmath's sqrt."""
    a = 2.0
    started = time.perf_counter()
    try:
        derivative = ad.derivative(newton_while, order)
        got = derivative(a)
    except Exception as exc:
        return _refusal(exc)
    seconds = time.perf_counter() - started
    with mpmath.workdps(30):
        want = mpmath.diff(mpmath.sqrt, mpmath.mpf(a), order)
    error = _relative(got, float(want))
    return {"status": "ok" if error < 1e-9 else "WRONG", "seconds": seconds,
            "error": error}


def rnn_cell(steps: int, width: int) -> dict[str, Any]:
    """Gradient of rnn_loss w.r.t. its parameters against rnn_reference."""
    params, xs = rnn_inputs(steps, width)
    started = time.perf_counter()
    try:
        gradient = ad.grad(rnn_loss)
        got = gradient(params, xs)
    except Exception as exc:
        return _refusal(exc)
    seconds = time.perf_counter() - started
    want = rnn_reference(params, xs)
    error = max(_relative(got[name], want[name]) for name in want)
    return {"status": "ok" if error < 1e-10 else "WRONG", "seconds": seconds,
            "error": error, "lines": code_lines(ad.source(gradient, params,
                                                          xs)),
            "ratio": _ratio(lambda: gradient(params, xs),
                            lambda: rnn_reference(params, xs))}


# What --cell runs: a name and integer arguments -> results, one per line.
CELLS: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
    "loop": lambda kind, n: iter([loop_cell(kind, int(n))]),
    "orders": lambda index: order_cells(list(SERIES)[int(index)]),
    "euler": lambda n: iter([euler_cell(int(n))]),
    "newton_while": lambda order: iter([newton_while_cell(int(order))]),
    "rnn": lambda steps, width: iter([rnn_cell(int(steps), int(width))]),
}


# -- running cells in subprocesses with a deadline ----------------------------

STOPPED = None  # what run_cell returns for a result not received in time


def run_cell(arguments: list[str], timeout: float) -> list[Any]:
    """Run ``--cell arguments`` in a subprocess and return its results.

    Each result must arrive within ``timeout`` seconds of the one before
    (the clock starts once the subprocess has imported); otherwise the
    process is stopped and the list ends with STOPPED. A cell stops after
    a result that is not "ok".
    """
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--cell", *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, AUTODIFF_AST_CACHE="0"))
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # a thread, not select(): pipes on Windows too
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    results: list[Any] = []
    try:
        if lines.get(timeout=120) == "ready\n":  # imports: not measured
            while (line := lines.get(timeout=timeout)) is not None:
                results.append(json.loads(line))
        if not results:
            results.append({"status": "error", "message": (
                "the cell's process ended without a result; run "
                f"python {__file__} --cell {' '.join(arguments)}")})
    except queue.Empty:
        results.append(STOPPED)
    finally:
        process.kill()
        process.wait()
        reader.join()  # the pipe ends with the process
        process.stdout.close()
    return results


def _show(result: Any, timeout: float) -> str:
    """A result as a table cell."""
    if result is STOPPED:
        return f"> {timeout:g} s"
    if isinstance(result, str):
        return result
    if result["status"] in ("refused", "error"):
        return f"{result['status']}: {result['message']}"
    text = f"{result['seconds']:7.2f} s"
    if "total" in result:
        text += f" {result['total']:7.2f} s"
    if "lines" in result:
        text += f" {result['lines']:6d} lines"
    if "ratio" in result:
        text += f", call {result['ratio']:.2f}x the reference"
    if result["status"] != "ok":
        text += f"  WRONG (relative error {result['error']:.1e})"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=TIMEOUT)
    parser.add_argument("--cell", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.cell:
        print("ready", flush=True)
        name, *arguments = options.cell
        for result in CELLS[name](*arguments):
            print(json.dumps(result), flush=True)
        return
    timeout, deadline = options.timeout, time.monotonic() + BUDGET

    def cell(arguments: list[str]) -> list[Any]:
        if time.monotonic() > deadline:
            return ["not run (benchmark time budget)"]
        return run_cell(arguments, timeout)

    print("1. First derivative of a loop body repeated N times: "
          "generation, lines")
    names = {"euler": "Euler step, for i in range(N)",
             "euler_written": "Euler step, written out N times",
             "sum": "sum of sin(k x)/k, written out",
             "sum_expression": "sum of sin(k x)/k, one expression",
             "sum_loop": "sum of sin(k x)/k, for k in range"}
    for kind, label in names.items():
        stopped = False
        for n in SIZES:
            shown = f"not run (a smaller N took > {timeout:g} s)"
            if not stopped:
                [result] = cell(["loop", kind, str(n)])
                stopped = result is STOPPED
                shown = _show(result, timeout)
            print(f"  {label:<36}{n:>6}  {shown}", flush=True)

    print("\n2. Orders 1-8, each generated from the previous one's source:"
          "\n   seconds for that order, seconds from f, lines")
    measured: dict[str, list[Any]] = {}
    for index, label in enumerate(SERIES):
        measured[label] = cell(["orders", str(index)])
        results = measured[label]
        for order in ORDERS:
            shown = (_show(results[order - 1], timeout)
                     if order <= len(results)
                     else "not run (a lower order stopped)")
            print(f"  {label:<26} order {order}  {shown}", flush=True)

    def from_series(label: str, order: int) -> str:
        results = measured[label]
        if len(results) < order:
            return "not reached"
        result = results[order - 1]
        if isinstance(result, dict) and "total" in result:
            return (f"{result['total']:.2f} s from f, {result['lines']} lines"
                    + ("" if result["status"] == "ok" else "  WRONG"))
        return _show(result, timeout)

    print("\n3. Issue 11's targets")
    rows = [("Newton sqrt 3 steps, f''' (< 0.5 s)",
             from_series("Newton sqrt, 3 steps", 3)),
            ("12-step tanh, f''' (< 0.5 s, < 60 lines)",
             from_series("12-step tanh recurrence", 3))]
    for label, arguments in [
            (f"sum of {TERMS} sin(k x)/k written out, grad (< 3 s)",
             ["loop", "sum", str(TERMS)]),
            ("Euler, n_steps=10**3, grad (x0, k) (< 2 s, call <= 3x)",
             ["euler", "1000"]),
            ("Euler, n_steps=10**5, grad (x0, k) (< 2 s, call <= 3x)",
             ["euler", "100000"]),
            ("while-loop Newton, f' against mpmath", ["newton_while", "1"]),
            ("while-loop Newton, f'' against mpmath", ["newton_while", "2"]),
            (f"RNN T={RNN_STEPS} D={RNN_WIDTH}, grad (call <= 1.5x BPTT)",
             ["rnn", str(RNN_STEPS), str(RNN_WIDTH)])]:
        rows.append((label, _show(cell(arguments)[0], timeout)))
    for label, shown in rows:
        print(f"  {label:<56}{shown}", flush=True)


if __name__ == "__main__":
    main()
