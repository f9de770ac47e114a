"""Error types: every error autodiff_ast raises derives from AutodiffError.

Errors about the user's code subclass SyntaxError as well, so Python's own
traceback rendering shows the offending line of the user's file with a caret.
Warnings (nothing is wrong with the user's code) derive from UserWarning.
"""

from __future__ import annotations

import ast
from typing import TypeVar

__all__ = [
    "AutodiffError",
    "UnsupportedCodeError",
    "NoSourceError",
    "ArgnumsError",
    "OutputError",
    "InputError",
    "ShapeError",
    "CacheWarning",
]


class AutodiffError(Exception):
    """Base class of every error raised by autodiff_ast."""


class UnsupportedCodeError(AutodiffError, SyntaxError):
    """The user's function uses something autodiff_ast cannot differentiate.

    Carries ``filename``, ``lineno``, ``offset`` and ``text`` like a
    SyntaxError, so the traceback shows the user's line with a caret.
    """

    def __init__(self, message: str, filename: str, lineno: int, offset: int,
                 text: str, end_lineno: int | None = None,
                 end_offset: int | None = None) -> None:
        details = (filename, lineno, offset, text, end_lineno, end_offset)
        SyntaxError.__init__(self, message, details)

    def __str__(self) -> str:
        return f"{self.msg} ({self.filename}:{self.lineno})"


class NoSourceError(AutodiffError, TypeError):
    """The function has no Python source that autodiff_ast can read."""


class ArgnumsError(AutodiffError, TypeError, ValueError):
    """``argnums`` does not name the function's positional arguments.

    Both a TypeError (wrong type, as JAX raises) and a ValueError (a bad
    value: out of range, repeated, empty).
    """


class OutputError(AutodiffError, TypeError):
    """The function returns something grad cannot differentiate."""


class InputError(AutodiffError, TypeError):
    """The arguments a derivative is called with cannot be differentiated
    (an int leaf, a string), as JAX's TypeError."""


class ShapeError(InputError, ValueError):
    """The arguments' shapes do not fit an operation of the function (two
    arrays that do not broadcast, a product's inner sizes): the function
    itself cannot be evaluated at them. A ValueError, as NumPy raises
    there, and an InputError (a TypeError), as JAX raises.

    Where an operation of the function refuses the shapes, carries
    ``filename``, ``lineno`` and ``text``, the user's line, like
    UnsupportedCodeError, and ``msg`` is NumPy's description of the
    mismatch; where the arguments are refused before any line (elementwise
    code of arguments that do not broadcast), ``msg`` says it all.
    """

    def __init__(self, message: str, filename: str | None = None,
                 lineno: int | None = None, text: str | None = None) -> None:
        # (all four in args: a pickled error, from a worker process, keeps
        # its line)
        super().__init__(message, filename, lineno, text)
        self.msg = message
        self.filename = filename
        self.lineno = lineno
        self.text = text

    def __str__(self) -> str:
        if self.filename is None:
            return self.msg
        # (imported here: _source raises this module's errors)
        from ._source import display_location
        where = display_location(f"{self.filename}:{self.lineno}")
        return (f"{self.msg}: the function cannot be evaluated at arguments "
                "of these shapes; pass arrays whose shapes fit, as NumPy "
                f"requires ({where})")


class CacheWarning(UserWarning):
    """The disk cache folder, or an entry in it, is not private to the
    current user: autodiff_ast generates instead of running what it holds."""


def error_at(node: ast.AST, message: str, filename: str,
             lines: list[str]) -> UnsupportedCodeError:
    """An UnsupportedCodeError pointing at ``node`` in the user's file."""
    lineno = getattr(node, "lineno", 1)
    text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    offset = getattr(node, "col_offset", 0) + 1
    end_lineno = getattr(node, "end_lineno", None)
    end_offset = getattr(node, "end_col_offset", None)
    if end_lineno != lineno or end_offset is None:
        end_lineno, end_offset = lineno, len(text.rstrip("\n")) + 1
    else:
        end_offset += 1
    return UnsupportedCodeError(message, filename, lineno, offset, text,
                                end_lineno, end_offset)


_Marked = TypeVar("_Marked", bound=AutodiffError)


def at_any_arguments(error: _Marked) -> _Marked:
    """``error``, marked as one the code makes at any arguments (a call
    written with arguments its callee does not take, a derivative that is
    complex or has no rule): it is refused when the derivative is made,
    not at its first call (``ArrayTransform.refuse_early``,
    ``entry_at_floats``)."""
    error.at_any_arguments = True  # type: ignore[attr-defined]
    return error


class RefusedAtAnyArguments(ValueError):
    """A rule's refusal of the code itself (polygamma's order that is not
    an integer, a derivative only SciPy provides): lowering reports it at
    the user's call, marked ``at_any_arguments``."""


def truth_of_an_array(error: _Marked, written: str) -> _Marked:
    """``error``, marked as the test of a Python ``written`` (``if``,
    ``or``, ``while``) refused of an array: where the function takes
    numbers there, the arguments are what does not fit
    (``_argument_refusals``)."""
    error.truth_of_an_array = written  # type: ignore[attr-defined]
    return error


def string_as_a_number(error: _Marked, text: str) -> _Marked:
    """``error``, marked as the refusal of the string ``text`` used as a
    number: where an argument holds it, the argument is what does not fit
    (``_argument_refusals``)."""
    error.string_as_a_number = text  # type: ignore[attr-defined]
    return error


def shape_error_at(node: ast.AST, message: str, filename: str,
                   lines: list[str]) -> ShapeError:
    """A ShapeError pointing at ``node`` in the user's file."""
    lineno = getattr(node, "lineno", 1)
    text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    return ShapeError(message, filename, lineno, text)


# Tracebacks name the public path: autodiff_ast.UnsupportedCodeError.
for _public in (AutodiffError, UnsupportedCodeError, NoSourceError,
                ArgnumsError, OutputError, InputError, ShapeError,
                CacheWarning):
    _public.__module__ = "autodiff_ast"
