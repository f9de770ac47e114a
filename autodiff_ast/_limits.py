"""Bounds on generation: recursion headroom, expression size, and time
limits on single SymPy rewrites.

Symbolic work recurses once per level of nesting (lowering the AST, SymPy's
diff, printing), so a long chain ``x + x + ... + x`` or a deep ``sin(sin(
...))`` needs more than Python's default 1000 frames. Generation runs with
a raised limit, and if even that is exceeded the user gets an error that
says what to change instead of a RecursionError from inside SymPy. The
stages run with Python's cyclic garbage collector paused
(``collector_paused``).
"""

from __future__ import annotations

import ast
import contextlib
import gc
import signal
import sys
import threading
from typing import Any, Iterator

from ._errors import AutodiffError

__all__ = ["deep_recursion", "collector_paused", "written_out_size",
           "MOST_OPERATIONS", "NAMED_FROM", "time_limit", "TimeUp",
           "KEPT_FROM", "reads_twice"]

# Operations of a function's result written out as a tree (shared
# subexpressions counted each time they are used). Symbolic
# differentiation and simplification work on that tree: 20000 takes about
# ten seconds; each doubling, several times that.
MOST_OPERATIONS = 20_000

# Operations written out from which a value assigned to a name stays a
# named step of the program instead of being substituted where it is used:
# below it, substitution gives the closed forms (a chain of a few such
# values simplifies as one expression); above it, each use would copy the
# value, and a chain of statements that each read the last one twice would
# double at every statement.
NAMED_FROM = 400

# Constant trip counts from which a loop stays a loop where its body
# allows (shorter ones are unrolled, for their closed forms, unless
# reads_twice: written out, such a loop doubles at each step).
KEPT_FROM = 10


def reads_twice(loop: ast.For) -> bool:
    """Whether the loop's body reads a name it assigns more than once (x =
    0.5 * (x + a / x)): unrolled, the expression for x doubles in size at
    every iteration, so even a short such loop stays a loop."""
    assigned = {node.id for statement in loop.body
                for node in ast.walk(statement)
                if isinstance(node, ast.Name) and isinstance(node.ctx,
                                                             ast.Store)}
    reads: dict[str, int] = {}
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(
                    node.ctx, ast.Load) and node.id in assigned:
                reads[node.id] = reads.get(node.id, 0) + 1
    return any(count > 1 for count in reads.values())

# Deep enough for 1000-term expressions, shallow enough that recursion
# through C code cannot exhaust the C stack.
_RECURSION_LIMIT = 3000


@contextlib.contextmanager
def deep_recursion(what: str) -> Iterator[None]:
    """Run the body with recursion headroom; a RecursionError inside becomes
    an AutodiffError about ``what``."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _RECURSION_LIMIT))
    try:
        yield
    except RecursionError:
        raise AutodiffError(
            f"{what} is nested too deeply to differentiate symbolically "
            "(Python's recursion limit was reached): split long expressions "
            "into several assignments, or nest fewer calls.") from None
    finally:
        sys.setrecursionlimit(previous)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with Python's cyclic garbage collector paused (a
    decorator too).

    A stage allocates hundreds of thousands of SymPy objects that live
    until it ends, and the collector runs on allocations: each run scans
    them, and each full run everything SymPy holds. For the written-out
    sum of 3000 terms that was 7 full collections, 0.75 s of a 4 s
    gradient. What the stage leaves in cycles is collected after it, on
    the collector's own schedule (there 122,000 objects, 11 MB at most).
    """
    if not gc.isenabled():  # paused already (or by the program)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def written_out_size(expr: Any, limit: int = MOST_OPERATIONS,
                     memo: dict[Any, int] | None = None) -> int:
    """Nodes of ``expr`` as a tree, counted without expanding the DAG
    (a loop ``y = sin(y) * y`` doubles the tree at each step); stops
    counting once past ``limit``. ``memo`` carries counts across calls."""
    memo = {} if memo is None else memo

    def size(node: Any) -> int:
        known = memo.get(node)
        if known is None:
            known = 1 + sum(size(a) for a in getattr(node, "args", ()))
            memo[node] = min(known, limit + 1)
        return known

    return min(size(expr), limit + 1)


# Code a time limit may interrupt, and how soon to try again when the timer
# fires elsewhere.
_INTERRUPTIBLE = {"sympy", "mpmath", "autodiff_ast"}
_RETRY_SECONDS = 0.005


class TimeUp(BaseException):
    """A SymPy rewrite ran out of its time limit (the rewrite is skipped).

    A BaseException, like KeyboardInterrupt, so that no ``except
    Exception`` inside SymPy swallows it and carries on unbounded.
    """


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeUp in the body after ``seconds`` of this process's CPU
    time.

    A rewrite such as ``cancel`` can take minutes on a modest expression
    (multivariate gcds), and SymPy cannot be asked to stop: a timer signal
    interrupts it. Only where that is safe: in the main thread, on systems
    with interval timers, when the program has no SIGPROF handler of its
    own; elsewhere the size bounds alone apply. CPU time, not wall-clock
    time: on a busy machine a rewrite gets as far as on an idle one, so
    the generated code does not depend on the load (invariant 2: the same
    input gives the same source).
    """
    usable = (hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getsignal(signal.SIGPROF) in (signal.SIG_DFL,
                                                        signal.SIG_IGN, None)
              and signal.getitimer(signal.ITIMER_PROF)[0] == 0)
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        # Raise only inside the rewrite itself: an exception raised in a
        # garbage-collection or weakref callback that happens to be running
        # is "ignored" by Python (and the rewrite would run on).
        if frame is not None and frame.f_code is own_code:
            return  # already leaving: the finally below disarms the timer
        module = frame.f_globals.get("__name__", "") if frame else ""
        if (module.partition(".")[0] in _INTERRUPTIBLE
                and frame.f_code.co_name != "__del__"):
            raise TimeUp
        signal.setitimer(signal.ITIMER_PROF, _RETRY_SECONDS)

    own_code = sys._getframe().f_code

    previous = signal.signal(signal.SIGPROF, on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
