"""Command line: print, check and export derivative source without a script.

    autodiff-ast show examples/derivatives.py:softplus --order 2
    autodiff-ast check examples/derivatives.py:softplus --at 1.5 --order 3
    autodiff-ast export examples/derivatives.py:softplus -o grads.py
    autodiff-ast export examples/logistic_regression.py:loss \
        --arg W=float32[3] --arg b=float32 --value-and-grad --hessian \
        -o newton.py

show and export give the gradient (and its derivatives, --order) unless
asked for other transforms: --jacobian, --hessian, --jvp, named after the
library's functions; several may be given (--grad keeps the gradient),
and each is printed or exported in that order. The derivative of array
code is generated for its arguments' kinds (dtype, shape, pytree
structure), given by --arg; an exported module holds the global arrays
the code reads and returns what the library's handle (ad.grad's,
ad.hessian's, ...) returns.
Errors print one line and exit with status 2 (``--traceback`` shows the
Python traceback); a failed check exits with status 1.

This module is the parser and the dispatch; each command is a module of
its own (_cli_show, _cli_check, _cli_export), over the targets
(_cli_targets), the argument kinds (_cli_kinds), the derivatives asked for
(_cli_derive) and the text of an exported module (_cli_writer).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Sequence

from . import __version__
from ._cli_check import command_check
from ._cli_export import command_export
from ._cli_show import command_show
from ._cli_targets import CommandError
from ._errors import AutodiffError

# The parts tests/test_cli.py checks (the kinds, the highlighting, the
# literals of an exported module), read here, where the command line is.
from ._cli_kinds import example_sizes, parse_kinds  # noqa: F401
from ._cli_show import highlight  # noqa: F401
from ._cli_writer import assignment as _assignment  # noqa: F401

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodiff-ast",
        description="Print, check and export the derivatives autodiff_ast "
                    "generates for a Python function.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  autodiff-ast show examples/derivatives.py:softplus --order 2\n"
               "  autodiff-ast check examples/derivatives.py:energy --at "
               "0.5,2 --wrt y\n"
               "  autodiff-ast export examples/derivatives.py:softplus -o "
               "grads.py")
    parser.add_argument("--version", action="version",
                        version=f"autodiff-ast {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the Python traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--order", type=int,
                         help="highest order of derivative (default 1): "
                              "the gradient, differentiated again")
        which = sub.add_mutually_exclusive_group()
        which.add_argument("--argnums", help="argument indices, like 0 or 0,1")
        which.add_argument("--wrt", help="the argument's name")
        sub.add_argument("--traceback", action="store_true",
                         default=argparse.SUPPRESS,
                         help="show the Python traceback of an error")

    def transforms(sub: argparse.ArgumentParser) -> None:
        # Flags named after the library's functions, as --value-and-grad
        # is; they combine (value_and_grad and hessian make a Newton step).
        sub.add_argument(
            "--grad", action="store_true",
            help="the gradient and, with --order, its derivatives (the "
                 "default when no other transform is asked for)")
        sub.add_argument(
            "--jacobian", action="store_true",
            help="the Jacobian, as ad.jacobian (ad.jacfwd and ad.jacrev "
                 "generate the same code)")
        sub.add_argument("--hessian", action="store_true",
                         help="the Hessian, as ad.hessian")
        sub.add_argument(
            "--jvp", action="store_true",
            help="the value and its derivative along tangents, as ad.jvp: "
                 "a function of the arguments and then one tangent per "
                 "argument (x, y, x_dot, y_dot)")

    def kinds(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--arg", action="append", default=[], metavar="NAME=KIND",
            help="the kind of an argument of array code, once per argument: "
                 "a dtype with an optional shape (W=float32[3], "
                 "b=float64 or b=float64[] for a scalar), or a JSON pytree "
                 "of kinds (params='{\"W\": \"float32[3]\", \"b\": "
                 "\"float32\"}'). A size may be a name (float32[N,3]): "
                 "the code is generated at an example size, 5 for the "
                 "first name, 6 for the next, skipping sizes written as "
                 "numbers; a note says so if the code holds that size")

    show = commands.add_parser(
        "show", help="print the generated source of each derivative",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast show examples/derivatives.py:"
               "softplus --order 2\n  autodiff-ast show numpy:tanh --order 3"
               "\n  autodiff-ast show examples/logistic_regression.py:loss "
               "--arg W=float32[3] --arg b=float32"
               "\n  autodiff-ast show examples/logistic_regression.py:loss "
               "--arg W=float32[3] --arg b=float32 --hessian")
    show.add_argument("target", help="path/to/file.py:function or "
                                     "package.module:function")
    common(show)
    transforms(show)
    kinds(show)

    check = commands.add_parser(
        "check", help="compare each derivative with central differences",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast check examples/derivatives.py:"
               "softplus --at 1.5 --order 3\n"
               "  autodiff-ast check examples/derivatives.py:energy --at 0.5,2"
               " --wrt y")
    check.add_argument("target", help="path/to/file.py:function or "
                                      "package.module:function")
    check.add_argument("--at", required=True,
                       help="the point: one number per argument, like 1.5,2")
    check.add_argument("--rtol", type=float, default=1e-6)
    check.add_argument("--atol", type=float, default=1e-8)
    common(check)

    export = commands.add_parser(
        "export", help="write the derivatives to a standalone module",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  autodiff-ast export examples/derivatives.py:"
               "softplus examples/derivatives.py:energy --argnums 0 "
               "--order 2 -o grads.py\n  autodiff-ast export "
               "examples/logistic_regression.py:loss --arg W=float32[3] "
               "--arg b=float32 --argnums 0,1 --value-and-grad -o "
               "logistic_grads.py\n  autodiff-ast export "
               "examples/logistic_regression.py:loss --arg W=float32[3] "
               "--arg b=float32 --value-and-grad --hessian -o newton.py"
               "\n\nThe module imports only numpy "
               "and/or math: it runs without autodiff_ast or sympy.")
    export.add_argument("targets", nargs="+", metavar="target",
                        help="path/to/file.py:function or "
                             "package.module:function")
    export.add_argument("-o", "--output", required=True,
                        help="the module to write")
    export.add_argument("--value-and-grad", action="store_true",
                        help="also export each function's value_and_grad")
    common(export)
    transforms(export)
    kinds(export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = _parser().parse_args(arguments)
    try:
        if options.command == "show":
            return command_show(options)
        if options.command == "check":
            return command_check(options)
        return command_export(options, arguments)
    except (CommandError, AutodiffError) as exc:
        if options.traceback:
            traceback.print_exc()
        print(f"autodiff-ast: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
