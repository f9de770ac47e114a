"""Line wrapping of generated source, as black would break it.

Long one-line statements are broken inside parentheses at operators and
commas, level by level, by reading Python's tokens: never inside a string
literal, nor inside a subscript but where the whole value is one
(``y = x[:, :, None]``, which breaks as black breaks it), and never on a
line inside a multi-line string.
Docstrings are filled to the same width.
"""

from __future__ import annotations

import functools
import io
import keyword
import textwrap
import tokenize
from typing import NamedTuple

_WIDTH = 79


def _filled(docstring: str) -> str:
    """``docstring`` with each line too long for _WIDTH columns broken
    between words (the first line follows the quotes that open it); a
    single word, such as a long path, stays whole."""
    lines = []
    for number, line in enumerate(docstring.split("\n")):
        indent = line[:len(line) - len(line.lstrip())]
        opening = '    """' if number == 0 else indent
        if len(opening) + len(line.lstrip()) <= _WIDTH:
            lines.append(line)
            continue
        pieces = textwrap.wrap(line.strip(), _WIDTH, initial_indent=opening,
                               subsequent_indent=indent or "    ",
                               break_long_words=False,
                               break_on_hyphens=False)
        lines.append(pieces[0][len(opening) - len(indent):])
        lines.extend(pieces[1:])
    return "\n".join(lines)


def _wrap(source: str) -> str:
    """``source`` with each long one-line statement broken by _wrap_line.

    Lines are found by Python's tokenizer, so a line inside a multi-line
    string (a docstring, a key holding a newline) is never touched.
    """
    lines = io.StringIO(source).readlines()  # split where tokenize splits
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    if tokens[-1].start[0] != len(lines) + 1:  # rows disagree: leave it
        return source
    spanned = {row for token in tokens if token.start[0] != token.end[0]
               for row in range(token.start[0], token.end[0] + 1)}
    return "".join(line if row in spanned else _wrap_line(line)
                   for row, line in enumerate(lines, 1))


def _assigned_from(tokens: list[_Token]) -> int:
    """Where the value starts in ``name = ...``, ``a, b, c = ...`` (the
    parts of a call unpacked) or ``name[i] = ...`` (a row a loop stores);
    0 for any other line."""
    if tokens[1].text == "=":
        return 2
    if tokens[1].text == ",":
        for index, token in enumerate(tokens):
            if token.text == "=":
                return index + 1
            if token.kind != tokenize.NAME and token.text != ",":
                return 0
        return 0
    if tokens[1].text != "[":
        return 0
    following = tokens[1].partner + 1
    return following + 1 if following < len(tokens) and tokens[
        following].text == "=" else 0


@functools.lru_cache(maxsize=4096)  # each statement is fitted, then wrapped
def _wrap_line(line: str) -> str:
    """Break a long ``name = ...``, ``name[i] = ...`` or ``return ...``
    line as a person would: inside parentheses, at its loosest-binding operators (after
    its commas, else before ``+`` and ``-``, else before ``*`` and ``/``,
    operators first on the line, as black places them), filling each line
    and aligning continuations with the opening parenthesis; a piece still
    too long is broken the same way inside its own parentheses, level
    after level.

    The line is read as tokens, so it is never broken inside a string
    literal (a pytree key may hold any text) or inside brackets.
    """
    text = line.rstrip("\n")
    if len(text) <= _WIDTH:
        return line
    tokens = _tokens(text)
    if tokens is None:
        return line
    if tokens[0].text == "def" and len(tokens) > 3:
        return _filled_in_brackets(text, tokens, 2) + "\n"
    first = _assigned_from(tokens) if len(tokens) > 2 and tokens[
        0].kind == tokenize.NAME else 0
    if first and tokens[1].text == "[" and \
            tokens[first - 1].start > _WIDTH // 2 and \
            tokens[first - 1].start - tokens[1].start > len(text) - \
            tokens[first - 1].start:
        # d[i, j, ...] = v with an index too long (longer than the value):
        # broken inside it
        return _filled_in_brackets(text, tokens, 1) + "\n"
    if len(tokens) > 1 and tokens[0].text == "return":
        first = 1
    elif len(tokens) > 2 and tokens[0].kind == tokenize.NAME and \
            _assigned_from(tokens):
        first = _assigned_from(tokens)
    else:
        return line
    start = tokens[first].start
    layout = _Layout(text, tokens)
    layout.whole = (first, len(tokens))
    lines = layout.parenthesized(first, len(tokens), start, 0) \
        if layout.points(first, len(tokens)) else None
    if lines is None or not layout.fits(lines, start, 0):
        # Aligned, deep operands may not fit: the value's widest
        # parentheses then open at the end of the first line and hold the
        # rest one level in (black's hanging indent).
        pieces = layout.piece(first, len(tokens), start, 0)
        if lines is None or layout.overflow(pieces, start, 0) < \
                layout.overflow(lines, start, 0):
            lines = pieces
    lines[0] = text[:start] + lines[0]
    if max(map(len, lines)) > _WIDTH:
        hanging = _hanging_subscript(text, tokens, first)
        if hanging is not None:
            return hanging + "\n"
    return "\n".join(lines) + "\n"


def _hanging_subscript(text: str, tokens: list[_Token], first: int
                       ) -> str | None:
    """``name = a.b[i, j, ...]`` (a value that is one subscript of a
    name) broken inside its brackets as black breaks it: the index on a
    line of its own, one level in, and the bracket closing below; None
    for any other value, an index too long for that line, or a key (a
    string: ``params['W']`` is read whole)."""
    opening = next((i for i in range(first, len(tokens))
                    if tokens[i].text == "["), None)
    if opening is None or tokens[opening].partner != len(tokens) - 1 or \
            any(t.kind != tokenize.NAME and t.text != "."
                for t in tokens[first:opening]) or \
            any(t.kind == tokenize.STRING for t in tokens[opening:]):
        return None
    indent = " " * (len(text) - len(text.lstrip()))
    inner = text[tokens[opening].end:tokens[-1].start].strip()
    if len(indent) + 4 + len(inner) > _WIDTH:
        return None
    return (f"{text[:tokens[opening].end]}\n{indent}    {inner}\n"
            f"{indent}]")


def _filled_in_brackets(text: str, tokens: list[_Token], at: int) -> str:
    """``text`` with the items between the bracket ``tokens[at]`` and its
    partner filled line by line, each continuation aligned with the first
    item (PEP 8): a long ``def f(a, b, ...):``, or the index of a long
    ``d[i, j, ...] = v``."""
    opening = tokens[at]
    closing = tokens[opening.partner]
    depth = _depth(tokens, opening) + 1
    commas = [t for t in tokens[at + 1:opening.partner]
              if t.text == "," and _depth(tokens, t) == depth]
    starts = [opening.end] + [comma.end for comma in commas]
    ends = [comma.start for comma in commas] + [closing.start]
    items = [text[a:b].strip() for a, b in zip(starts, ends)]
    lines = [text[:opening.end]]
    for number, item in enumerate(items):
        piece = item + ("," if number < len(items) - 1
                        else text[closing.start:])
        if len(lines[-1]) + len(piece) + 1 > _WIDTH and \
                lines[-1].strip() != text[:opening.end].strip():
            lines.append(" " * opening.end)
        separator = "" if lines[-1].endswith((text[opening.start], " ")) \
            else " "
        lines[-1] += separator + piece
    return "\n".join(line.rstrip() for line in lines)


def _depth(tokens: list[_Token], token: _Token) -> int:
    """How many brackets are open at ``token``."""
    depth = 0
    for other in tokens:
        if other is token:
            return depth
        if other.text in _OPENING:
            depth += 1
        elif other.text in _OPENING.values():
            depth -= 1
    return depth


class _Token(NamedTuple):
    kind: int  # a tokenize token type
    text: str
    start: int  # columns in the line
    end: int
    partner: int  # for a bracket, the index of the one that matches it


_OPENING = {"(": ")", "[": "]", "{": "}"}
_LAYOUT = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENDMARKER}
# Python 3.12 tokenizes an f-string (3.14 a t-string too) into parts; we
# keep it in one piece.
_STRING_STARTS = {getattr(tokenize, f"{p}STRING_START", None) for p in "FT"}
_STRING_ENDS = {getattr(tokenize, f"{p}STRING_END", None) for p in "FT"}


def _tokens(text: str) -> list[_Token] | None:
    """The tokens of ``text``, one whole statement on one line, or None
    if it is not one (part of a multi-line string, unbalanced, or with a
    comment)."""
    indent = len(text) - len(text.lstrip())
    try:
        raw = [t for t in tokenize.generate_tokens(
            io.StringIO(text[indent:] + "\n").readline)
            if t.type not in _LAYOUT]
    except (tokenize.TokenError, SyntaxError):
        return None
    tokens: list[_Token] = []
    nesting, opened, stack = 0, 0, []
    for token in raw:
        if token.type in (tokenize.ERRORTOKEN, tokenize.COMMENT) or \
                token.start[0] != 1 or token.end[0] != 1:
            return None
        start, end = token.start[1] + indent, token.end[1] + indent
        if token.type in _STRING_STARTS:
            nesting, opened = nesting + 1, opened if nesting else start
            continue
        if nesting:
            if token.type in _STRING_ENDS:
                nesting -= 1
                if not nesting:
                    tokens.append(_Token(tokenize.STRING,
                                         text[opened:end], opened, end, -1))
            continue
        if token.type == tokenize.OP and token.string in _OPENING:
            stack.append(len(tokens))
        elif token.type == tokenize.OP and token.string in ")]}":
            if not stack or _OPENING[tokens[stack[-1]].text] != token.string:
                return None
            match = stack.pop()
            tokens[match] = tokens[match]._replace(partner=len(tokens))
            tokens.append(_Token(token.type, token.string, start, end,
                                 match))
            continue
        tokens.append(_Token(token.type, token.string, start, end, -1))
    return tokens if tokens and not stack and not nesting else None


# Where a line may break, loosest-binding operators first: after a comma,
# before the keywords of a conditional expression, before and/or, before a
# comparison, before + and -, before * / // % @.
_CLASSES: tuple[frozenset[str], ...] = (
    frozenset({","}), frozenset({"if", "else"}), frozenset({"or"}),
    frozenset({"and"}), frozenset({"<", ">", "<=", ">=", "==", "!="}),
    frozenset({"+", "-"}), frozenset({"*", "/", "//", "%", "@"}))
# A first piece this short keeps the next on its line when that one
# must break anyway: "2 * np.where(...", not "2" alone on a line.
_SHORT = 12
# Tokens that bind more loosely than a class above them and have no split
# of their own (``not``, ``lambda``, a keyword argument's ``=``): a range
# holding one of them is never wrapped in added parentheses.
_LOOSE = frozenset({"not", "lambda", "=", ":", "in", "is", "|", "^", "&",
                    "<<", ">>", "for", "async", "await", "yield"})


class _Layout:
    """Lines for one long statement, laid out level by level.

    A method lays out ``tokens[first:end]`` starting at ``column`` with
    ``trailing`` characters still to follow on its last line; it returns
    the lines, the first without what precedes ``column``, the others
    indented. Each tries the layouts a person would, flattest first, and
    keeps the first that fits (else the narrowest).
    """

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        # Layouts already made: trying options level by level would
        # otherwise redo the levels below once per option above.
        self.made: dict[tuple[str, int, int, int, int], list[str]] = {}
        self.found: dict[tuple[int, int], list[int]] = {}
        # The statement's whole value: the one piece whose arguments may
        # start on a line of their own.
        self.whole = (0, len(tokens))

    def span(self, first: int, end: int) -> str:
        return self.text[self.tokens[first].start:self.tokens[end - 1].end]

    def points(self, first: int, end: int) -> list[int]:
        """Indices of the tokens a line may break at among
        ``tokens[first:end]``, outside any brackets: those of the
        loosest-binding class there (a comma ends its piece, an operator
        starts one)."""
        if (first, end) not in self.found:
            self.found[first, end] = self._points(first, end)
        return self.found[first, end]

    def _points(self, first: int, end: int) -> list[int]:
        found: dict[int, list[int]] = {}
        index = first
        while index < end:
            token = self.tokens[index]
            if token.partner > index:
                index = token.partner
            elif token.kind in (tokenize.OP, tokenize.NAME) and (
                    token.kind == tokenize.NAME or _is_binary(self.tokens,
                                                              index)):
                for rank, operators in enumerate(_CLASSES):
                    if token.text in operators:
                        found.setdefault(rank, []).append(index)
                        break
            index += 1
        return found[min(found)] if found else []

    def loose(self, first: int, end: int) -> bool:
        index = first
        while index < end:
            token = self.tokens[index]
            if token.partner > index:
                index = token.partner
            elif token.text in _LOOSE or (token.text in ("*", "**") and not
                                          _is_binary(self.tokens, index)):
                return True
            index += 1
        return False

    def content(self, first: int, end: int, column: int,
                trailing: int) -> list[str]:
        """The inside of parentheses that open just before ``column``: its
        pieces filled into lines aligned at ``column``."""
        key = ("content", first, end, column, trailing)
        if key not in self.made:
            self.made[key] = self._content(first, end, column, trailing)
        return list(self.made[key])

    def _content(self, first: int, end: int, column: int,
                 trailing: int) -> list[str]:
        text = self.span(first, end)
        if column + len(text) + trailing <= _WIDTH:
            return [text]
        points = self.points(first, end)
        if not points:
            return self.piece(first, end, column, trailing)
        starts = [first] + [p + 1 if self.tokens[p].text == "," else p
                            for p in points]
        ranges = [(a, b) for a, b in zip(starts, starts[1:] + [end]) if a < b]
        lines = [""]
        width = column  # of the line being filled
        for number, (a, b) in enumerate(ranges):
            tail = trailing if number == len(ranges) - 1 else 0
            piece = self.span(a, b)
            gap = " " if lines[-1].strip() else ""
            if width + len(gap) + len(piece) + tail <= _WIDTH:
                lines[-1] += gap + piece
                width += len(gap) + len(piece)
                continue
            if lines[-1].strip() and column + len(piece) + tail <= _WIDTH:
                lines.append(" " * column + piece)
                width = column + len(piece)
                continue
            # Too long for a line of its own: its operator and the start of
            # its operand begin the next line (or stay on this one, after a
            # short first piece: "2 * np.where(" or "x * (x * ("), and the
            # operand breaks inside its own parentheses.
            lead, comma = "", b - 1 if self.tokens[b - 1].text == "," else b
            if a in points:  # an operator starts the piece
                lead = self.tokens[a].text + " "
                a += 1
            if len(lines) > 1 or len(lines[-1]) > _SHORT:
                lines.append(" " * column)
                width, gap = column, ""
            operand = self.piece(a, comma, width + len(gap) + len(lead),
                                 tail + (b - comma))
            operand = [lead + operand[0]] + operand[1:]
            operand[-1] += "," if comma < b else ""
            lines[-1] += gap + operand[0]
            lines.extend(operand[1:])
            width = len(lines[-1]) + (column if len(lines) == 1 else 0)
        return lines

    def piece(self, first: int, end: int, column: int,
              trailing: int) -> list[str]:
        """One operand: broken inside one of its parentheses, the widest
        that gives lines that fit, else wrapped in parentheses of its own
        and broken at its operators."""
        key = ("piece", first, end, column, trailing)
        if key not in self.made:
            self.made[key] = self._piece(first, end, column, trailing)
        return list(self.made[key])

    def _piece(self, first: int, end: int, column: int,
               trailing: int) -> list[str]:
        text = self.span(first, end)
        if column + len(text) + trailing <= _WIDTH:
            return [text]
        candidates = []
        groups = sorted(self.groups(first, end), key=lambda g: self.tokens[
            g].start - self.tokens[self.tokens[g].partner].end)
        for opening in groups:
            closing = self.tokens[opening].partner
            start, stop = self.tokens[first].start, self.tokens[end - 1].end
            head = self.text[start:self.tokens[opening].end]
            tail = self.text[self.tokens[closing].start:stop]
            inner = self.content(opening + 1, closing, column + len(head),
                                 trailing + len(tail))
            candidates.append([head + inner[0]] + inner[1:])
            candidates[-1][-1] += tail
            if self.fits(candidates[-1], column, trailing):
                return candidates[-1]
        # Aligned with the parenthesis, the arguments would start too far
        # right: they start on a line of their own, indented one level
        # past the statement (black's hanging indent).
        hanging = self.tokens[0].start + 4
        for opening in groups if (first, end) == self.whole else ():
            closing = self.tokens[opening].partner
            start, stop = self.tokens[first].start, self.tokens[end - 1].end
            head = self.text[start:self.tokens[opening].end]
            if hanging >= column + len(head):
                continue
            tail = self.text[self.tokens[closing].start:stop]
            inner = self.content(opening + 1, closing, hanging,
                                 trailing + len(tail))
            candidates.append([head, " " * hanging + inner[0]] + inner[1:])
            candidates[-1][-1] += tail
            if self.fits(candidates[-1], column, trailing):
                return candidates[-1]
        if self.points(first, end) and not self.loose(first, end):
            candidates.append(self.parenthesized(first, end, column,
                                                 trailing))
        candidates.append([text])
        return min(candidates, key=lambda lines: self.overflow(
            lines, column, trailing))

    def parenthesized(self, first: int, end: int, column: int,
                      trailing: int) -> list[str]:
        inner = self.content(first, end, column + 1, trailing + 1)
        return ["(" + inner[0]] + inner[1:-1] + [inner[-1] + ")"] \
            if len(inner) > 1 else ["(" + inner[0] + ")"]

    def groups(self, first: int, end: int) -> list[int]:
        """The outermost parentheses among ``tokens[first:end]`` that hold
        something, a list's brackets (np.concatenate([a, b], axis=1)) and
        a dict's braces (a returned pytree), not a subscript's brackets."""
        groups, index = [], first
        while index < end:
            token = self.tokens[index]
            if token.partner > index:
                before = self.tokens[index - 1] if index else None
                subscript = before is not None and (
                    before.kind in (tokenize.NAME, tokenize.STRING)
                    and not keyword.iskeyword(before.text)
                    or before.text in (")", "]"))
                if token.partner > index + 1 and (token.text in "({" or (
                        token.text == "[" and not subscript)):
                    groups.append(index)
                index = token.partner
            index += 1
        return groups

    def overflow(self, lines: list[str], column: int, trailing: int) -> int:
        widths = [len(line) for line in lines]
        widths[0] += column
        widths[-1] += trailing
        return sum(max(0, w - _WIDTH) for w in widths) * 1000 + len(lines)

    def fits(self, lines: list[str], column: int, trailing: int) -> bool:
        return self.overflow(lines, column, trailing) < 1000


def _is_binary(tokens: list[_Token], index: int) -> bool:
    """Whether the operator at ``index`` follows an operand (``a - b``),
    rather than starting one (``-b``, ``x ** -1``, ``return -x``)."""
    if index == 0:
        return False
    before = tokens[index - 1]
    if before.kind == tokenize.NAME:
        return not keyword.iskeyword(before.text) or before.text in (
            "True", "False", "None")
    return before.kind in (tokenize.NUMBER, tokenize.STRING) or \
        before.text in (")", "]", "}")
