"""Scalar benchmarks: call time and generation time of generated derivatives.

Run: python benchmarks/bench_scalar.py

Every timing is reported as a ratio to a reference measured in the same run
(absolute numbers drift between machines and runs):

1. Calling f', f'', f''', f'''' of the polynomial x**3 + 2x**2 - 3x + 1 and
   of tanh, against hand-written closed forms, at a Python float and on a
   10**6-element array; SymPy's lambdify of the same derivatives for
   comparison. "ours" calls what ad.grad returns, the checking handle;
   "code" calls the generated function itself (handle.__wrapped__), so the
   two columns separate the handle's cost from the generated code's.
   Every function is first checked to return the reference's values; a
   lambdify that returns one number for an array (a constant derivative)
   is shown as "scalar", not timed against filling an array.
2. Generating d^n/dx^n of exp(sin(x)) * tanh(x**2) for n = 1..8, each order
   read back from the previous generated source: time, generated lines,
   operations, and the call time against SymPy's diff + cse + lambdify.
   The total for orders 1-4 is measured in a cold process.
3. Calling the derivative of a function written with a list at a Python
   float, beside that of the same function written on numbers: what a
   list costs the code at floats.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import sympy as sp

import autodiff_ast as ad
from timing import best_times

SCALAR = 1.3
ARRAY = np.random.default_rng(0).uniform(-2, 2, 10**6)


def poly_d1(x):
    return 3 * x ** 2 + 4 * x - 3


def poly_d2(x):
    return 6 * x + 4


def poly_d3_scalar(x):
    return 6.0


def poly_d4_scalar(x):
    return 0.0


def poly_d3_array(x):
    return np.full_like(x, 6.0)


def poly_d4_array(x):
    return np.zeros_like(x)


def tanh_d1(x):
    return 1 - np.tanh(x) ** 2


def tanh_d2(x):
    t = np.tanh(x)
    return -2 * t * (1 - t ** 2)


def tanh_d3(x):
    t = np.tanh(x)
    s = 1 - t ** 2
    return 2 * s * (3 * t ** 2 - 1)


def tanh_d4(x):
    t = np.tanh(x)
    s = 1 - t ** 2
    return 8 * t * s * (2 - 3 * t ** 2)


REFERENCES = {
    "polynomial": ([poly_d1, poly_d2, poly_d3_scalar, poly_d4_scalar],
                   [poly_d1, poly_d2, poly_d3_array, poly_d4_array]),
    "tanh": ([tanh_d1, tanh_d2, tanh_d3, tanh_d4],) * 2,
}


def call_benchmark() -> None:
    print("1. Call time of generated derivatives, as a ratio to the "
          "hand-written closed form")
    x = sp.Symbol("x", real=True)
    functions = {"polynomial": (lambda x: x**3 + 2*x**2 - 3*x + 1,
                                x**3 + 2*x**2 - 3*x + 1),
                 "tanh": (np.tanh, sp.tanh(x))}
    print(f"{'function':12s}{'order':>6s}{'ref float':>11s}{'ours':>8s}"
          f"{'code':>8s}{'lambdify':>10s}{'ref array':>11s}{'ours':>8s}"
          f"{'code':>8s}{'lambdify':>10s}")
    for name, (function, expression) in functions.items():
        scalar_refs, array_refs = REFERENCES[name]
        derivative = function
        for order in range(1, 5):
            derivative = ad.grad(derivative)
            peer = sp.lambdify(x, sp.diff(expression, x, order), "numpy")
            row = f"{name:12s}{order:6d}"
            for refs, argument, calls in ((scalar_refs, SCALAR, 100_000),
                                          (array_refs, ARRAY, 10)):
                expected = refs[order - 1](argument)
                for candidate in (derivative, peer):
                    np.testing.assert_allclose(
                        candidate(argument), expected, rtol=1e-12,
                        err_msg=f"{name} order {order}")
                timed = [refs[order - 1], derivative, derivative.__wrapped__]
                shaped = np.shape(peer(argument)) == np.shape(argument)
                reference, ours, code, *theirs = best_times(
                    timed + [peer] * shaped, argument, calls)
                unit = (f"{reference * 1e9:8.0f}ns" if argument is SCALAR
                        else f"{reference * 1e6:8.0f}us")
                row += f"{unit:>11s}{ours / reference:7.2f}x" \
                       f"{code / reference:7.2f}x"
                row += (f"{theirs[0] / reference:9.2f}x" if theirs
                        else f"{'scalar':>10s}")
            print(row)
    print("scalar: lambdify returns one number for an array (here 6 or 0), "
          "no array to time.\ntanh: ours computes 1 - tanh(x)**2 as "
          "4*e/(1 + e)**2 with e = exp(-2|x|),\naccurate to the last digits "
          "for |x| > 19 where the reference's form is 0: one\nnp.exp more "
          "than the reference.")
    print()


def count_operations(source: str) -> int:
    tree = ast.parse(source)
    return sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call))
               for n in ast.walk(tree))


def body_lines(source: str) -> int:
    return len(source.split('"""')[-1].strip().splitlines())


COLD_START = textwrap.dedent("""
    import time
    started = time.perf_counter()
    import numpy as np
    import autodiff_ast as ad
    imported = time.perf_counter()
    def f(x):
        return np.exp(np.sin(x)) * np.tanh(x ** 2)
    derivative = f
    for order in range(4):
        derivative = ad.grad(derivative)
    print(imported - started, time.perf_counter() - imported)
""")


def generation_benchmark() -> None:
    print("2. Generating d^n/dx^n of exp(sin(x)) * tanh(x**2)")
    with tempfile.TemporaryDirectory() as folder:
        script = pathlib.Path(folder, "cold_start.py")
        script.write_text(COLD_START)
        output = subprocess.run([sys.executable, str(script)], check=True,
                                capture_output=True, text=True).stdout.split()
    print(f"cold process: import {float(output[0]):.2f} s, f' through f'''' "
          f"generated in {float(output[1]):.2f} s in total (target < 0.5 s)")
    x = sp.Symbol("x", real=True)
    expression = sp.exp(sp.sin(x)) * sp.tanh(x ** 2)

    def f(x):
        return np.exp(np.sin(x)) * np.tanh(x ** 2)

    print(f"{'order':>5s}{'generate':>10s}{'lines':>7s}{'ops':>6s}"
          f"{'peer ops':>10s}{'call float':>12s}{'call array':>12s}")
    derivative = f
    for order in range(1, 9):
        started = time.perf_counter()
        derivative = ad.grad(derivative)
        elapsed = time.perf_counter() - started
        source = ad.source(derivative)
        direct = sp.diff(expression, x, order)
        peer = sp.lambdify(x, direct, "numpy", cse=True)
        peer_source = inspect.getsource(peer)
        ratios = []
        for argument, calls in ((SCALAR, 20_000), (ARRAY[:10**5], 10)):
            ours, theirs = best_times([derivative, peer], argument, calls)
            ratios.append(ours / theirs)
        print(f"{order:5d}{elapsed:9.2f}s{body_lines(source):7d}"
              f"{count_operations(source):6d}"
              f"{count_operations(peer_source):10d}"
              f"{ratios[0]:11.2f}x{ratios[1]:11.2f}x")
    print("peer: SymPy's diff(f, x, n) + lambdify(cse=True) of the same order;"
          "\nops count calls and arithmetic operators in the source")


def sine_times_x(x):
    return np.sin(x) * x


def sine_times_x_by_a_list(x):
    parts = [x]  # (a list: array code)
    return np.sin(parts[0]) * parts[0]


def sine_times_x_d1(x):
    return x * np.cos(x) + np.sin(x)


def with_a_list_benchmark() -> None:
    print("3. At a Python float: the same derivative of a function written "
          "on numbers and\nof one written with a list, as a ratio to the "
          "hand-written closed form")
    on_numbers = ad.grad(sine_times_x)
    with_a_list = ad.grad(sine_times_x_by_a_list)
    for candidate in (on_numbers, with_a_list):
        np.testing.assert_allclose(candidate(SCALAR),
                                   sine_times_x_d1(SCALAR), rtol=1e-14)
    reference, ours_on_numbers, ours_with_a_list = best_times(
        [sine_times_x_d1, on_numbers, with_a_list], SCALAR, 100_000)
    print(f"reference {reference * 1e9:.0f}ns, on numbers "
          f"{ours_on_numbers / reference:.2f}x, with a list "
          f"{ours_with_a_list / reference:.2f}x")
    print()


if __name__ == "__main__":
    call_benchmark()
    with_a_list_benchmark()
    generation_benchmark()
