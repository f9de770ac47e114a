"""Command line: ``show``, the generated source of each derivative,
highlighted on a terminal."""

from __future__ import annotations

import argparse
import io
import keyword
import sys
import token
import tokenize
from typing import Any, Callable

from ._cli_derive import requested
from ._cli_kinds import parse_kinds
from ._cli_targets import check_kind_names, load_target

__all__ = ["command_show", "highlight"]


_COLORS = {"keyword": "\033[1;35m", "number": "\033[36m",
           "string": "\033[32m", "comment": "\033[2;37m",
           "function": "\033[1;34m"}
_RESET = "\033[0m"


def highlight(text: str) -> str:
    """ANSI colours for Python source: keywords, numbers, strings."""
    out, previous = [], None
    lines = text.splitlines(keepends=True)
    position = (1, 0)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    for tok in tokens:
        start, end = tok.start, tok.end
        out.append(_between(lines, position, start))
        kind = None
        if tok.type == token.NAME and keyword.iskeyword(tok.string):
            kind = "keyword"
        elif tok.type == token.NAME and previous == "def":
            kind = "function"
        elif tok.type == token.NUMBER:
            kind = "number"
        elif tok.type == token.STRING:
            kind = "string"
        elif tok.type == token.COMMENT:
            kind = "comment"
        piece = _between(lines, start, end)
        out.append(f"{_COLORS[kind]}{piece}{_RESET}" if kind else piece)
        position = end
        if tok.type not in (token.NL, token.NEWLINE, token.INDENT):
            previous = tok.string
    return "".join(out)


def _between(lines: list[str], start: tuple[int, int],
             end: tuple[int, int]) -> str:
    (row, column), (end_row, end_column) = start, end
    if (row, column) >= (end_row, end_column) or row > len(lines):
        return ""
    if row == end_row:
        return lines[row - 1][column:end_column]
    parts = [lines[row - 1][column:]]
    parts += lines[row:end_row - 1]
    if end_row <= len(lines):
        parts.append(lines[end_row - 1][:end_column])
    return "".join(parts)


def _heading(derivative: Callable[..., Any]) -> str:
    doc = (derivative.__doc__ or "").strip().splitlines()
    return f"# {doc[0]}" if doc else f"# {derivative.__name__}"


def command_show(options: argparse.Namespace) -> int:
    function = load_target(options.target)
    kinds = parse_kinds(options.arg)
    check_kind_names(kinds, [function])
    derived = requested(options, function, kinds)
    blocks = [f"{_heading(d.function)}\n{d.text}" for d in derived]
    text = "\n\n".join(blocks)
    for note in (note for d in derived for note in d.notes):
        print(f"autodiff-ast: {note}", file=sys.stderr)
    print(highlight(text) if sys.stdout.isatty() else text, end="")
    return 0
