"""The `autodiff-ast` command line run in the test's process, as a fresh
`autodiff-ast` process would run it from the repository's root: a second
or more faster than a process, which imports SymPy, NumPy and the
package before it does any work."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import subprocess
import sys
import traceback
import warnings

import numpy as np

from autodiff_ast._cli import main

ROOT = pathlib.Path(__file__).parent.parent

# A fresh interpreter's warning filters (CPython's defaults, no -W): pytest
# turns warnings into errors, where the command line prints them.
FRESH_WARNING_FILTERS = [("default", DeprecationWarning, "__main__"),
                         ("ignore", DeprecationWarning, ""),
                         ("ignore", PendingDeprecationWarning, ""),
                         ("ignore", ImportWarning, ""),
                         ("ignore", ResourceWarning, "")]
# A target file is loaded as a module of this name (a fresh one per run).
TARGET_MODULE_PREFIX = "_autodiff_ast_target_"


@contextlib.contextmanager
def _as_in_a_fresh_process(stderr: io.StringIO):
    """From the repository's root, with a fresh interpreter's warning
    filters (warnings printed to ``stderr``), a pipe's terminal width and
    NumPy's default error handling; the sys.path entries and the target
    modules a command adds are undone afterwards, so that one run leaves
    nothing for the next."""
    directory, path, modules = os.getcwd(), list(sys.path), set(sys.modules)
    columns = os.environ.get("COLUMNS")

    def show(message, category, filename, lineno, file=None, line=None):
        stderr.write(warnings.formatwarning(message, category, filename,
                                            lineno, line))

    try:
        os.chdir(ROOT)
        # argparse wraps help at $COLUMNS, else at the terminal's width,
        # which a pipe does not have: 80.
        os.environ["COLUMNS"] = columns or "80"
        with warnings.catch_warnings(), np.errstate(
                divide="warn", over="warn", under="ignore", invalid="warn"):
            warnings.resetwarnings()
            for action, category, module in reversed(FRESH_WARNING_FILTERS):
                warnings.filterwarnings(action, category=category,
                                        module=module)
            warnings.showwarning = show
            yield
    finally:
        os.chdir(directory)
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if name.startswith(TARGET_MODULE_PREFIX):
                del sys.modules[name]


def run(*arguments: str) -> subprocess.CompletedProcess:
    """The command line run in this process as the console script runs it
    (``sys.exit(main())``): its exit status, and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with _as_in_a_fresh_process(stderr), contextlib.redirect_stdout(
            stdout), contextlib.redirect_stderr(stderr):
        try:
            sys.exit(main(list(arguments)))
        except SystemExit as stop:
            status = stop.code
        except Exception:  # what the interpreter does with an uncaught one
            traceback.print_exc()
            status = 1
    if status is None:
        status = 0
    elif not isinstance(status, int):  # as sys.exit("message") does
        stderr.write(f"{status}\n")
        status = 1
    return subprocess.CompletedProcess(["autodiff-ast", *arguments], status,
                                       stdout.getvalue(), stderr.getvalue())
