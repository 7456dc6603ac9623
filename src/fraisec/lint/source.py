"""SQL text → statements with exact positions, and the suppression comments.

A small hand-written scanner, not sqlglot's tokenizer, because it must never fail: it has to
split *any* PostgreSQL script (dollar-quoted plpgsql bodies, ``E''`` strings, nested block
comments, CREATE POLICY that sqlglot cannot read) and keep every character offset, so each
finding can point at its exact ``file:line``.

Each statement carries two texts of the same length: ``raw`` (as written) and ``masked``, in
which comments and the *contents* of string literals and dollar-quoted bodies are blanked
(newlines kept). Keyword regexes run on ``masked``, so a keyword inside a string, a comment or
a function body never matches; values are then read from ``raw`` at the same offsets.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

__all__ = ["SourceFile", "Statement", "Suppressions", "split_statements"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$")
_SUPPRESS = re.compile(r"--\s*fraisec:\s*(ignore-file|ignore)\b([^\n]*)", re.IGNORECASE)
_CODE = re.compile(r"FSC\d{3}", re.IGNORECASE)


@dataclass(frozen=True)
class SourceFile:
    """One input file: its name as the user gave it and its text."""

    name: str
    text: str
    line_starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0] + [m.end() for m in re.finditer(r"\n", self.text)]
        object.__setattr__(self, "line_starts", tuple(starts))

    def line_of(self, offset: int) -> int:
        """1-based line of a character offset."""
        return bisect.bisect_right(self.line_starts, max(offset, 0))

    def column_of(self, offset: int) -> int:
        """1-based column (in characters) of a character offset."""
        return max(offset, 0) - self.line_starts[self.line_of(offset) - 1] + 1


@dataclass(frozen=True)
class Statement:
    """One statement (without its ``;``); ``start`` is the offset of its first token."""

    file: SourceFile
    start: int
    raw: str
    masked: str

    @property
    def line(self) -> int:
        return self.file.line_of(self.start)

    def line_at(self, offset: int) -> int:
        """Line of an offset *within this statement*."""
        return self.file.line_of(self.start + offset)

    @property
    def keywords(self) -> str:
        """The masked text collapsed to single spaces and upper-cased, for prefix tests."""
        return " ".join(self.masked.split()).upper()


@dataclass(frozen=True)
class Suppressions:
    """``-- fraisec: ignore FSC3xx`` (this line or the next) and ``ignore-file`` comments."""

    by_line: dict[int, frozenset[str]]
    file_wide: frozenset[str]

    @classmethod
    def scan(cls, text: str) -> "Suppressions":
        by_line: dict[int, set[str]] = {}
        file_wide: set[str] = set()
        for lineno, line in enumerate(text.splitlines(), start=1):
            for m in _SUPPRESS.finditer(line):
                codes = {c.upper() for c in _CODE.findall(m.group(2))}
                if m.group(1).lower() == "ignore-file":
                    file_wide |= codes
                else:
                    by_line.setdefault(lineno, set()).update(codes)
        return cls({k: frozenset(v) for k, v in by_line.items()}, frozenset(file_wide))

    def silences(self, code: str, line: int | None, span: tuple[int, int] | None) -> bool:
        """True when ``code`` is ignored for the file, on ``line`` or the line before it, or
        anywhere in the statement ``span`` (first line - 1 .. last line)."""
        if code in self.file_wide:
            return True
        lines: set[int] = set()
        if line is not None:
            lines |= {line, line - 1}
        if span is not None:
            lines |= set(range(span[0] - 1, span[1] + 1))
        return any(code in self.by_line.get(n, ()) for n in lines)


def split_statements(source: SourceFile) -> tuple[list[Statement], list[int]]:
    """Split a script at top-level semicolons.

    Returns the statements and the offsets of constructs left unterminated at the end of the
    file (an open quote, comment or dollar body), which the caller reports.
    """
    text = source.text
    masked = _mask(text)
    statements: list[Statement] = []
    unterminated: list[int] = []
    begin = 0
    for end in _top_level_semicolons(masked.text):
        _append(statements, source, text, masked.text, begin, end)
        begin = end + 1
    _append(statements, source, text, masked.text, begin, len(text))
    if masked.open_at is not None:
        unterminated.append(masked.open_at)
    return statements, unterminated


def _append(out: list[Statement], source: SourceFile, text: str, masked: str, begin: int,
            end: int) -> None:
    chunk = masked[begin:end]
    stripped = len(chunk) - len(chunk.lstrip())
    if not chunk.strip():
        return
    start = begin + stripped
    stop = begin + len(chunk.rstrip())
    out.append(Statement(source, start, text[start:stop], masked[start:stop]))


def _top_level_semicolons(masked: str) -> list[int]:
    # Everything that may hide a ';' is blanked already, except SQL-standard function
    # bodies (BEGIN ATOMIC … END), whose inner statements end in ';' too.
    hits: list[int] = []
    atomic_depth = 0
    for m in re.finditer(r";|\bBEGIN\s+ATOMIC\b|\bCASE\b|\bEND\b", masked, re.IGNORECASE):
        word = m.group(0).upper()
        if word.startswith("BEGIN"):
            atomic_depth += 1
        elif word == "CASE" and atomic_depth:
            atomic_depth += 1
        elif word == "END" and atomic_depth:
            atomic_depth -= 1
        elif word == ";" and not atomic_depth:
            hits.append(m.start())
    return hits


@dataclass
class _Masked:
    text: str
    open_at: int | None


def _mask(text: str) -> _Masked:
    """Blank comments and literal contents, keeping quotes, newlines and every offset."""
    out = list(text)
    i, n = 0, len(text)
    open_at: int | None = None

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "\ufeff":  # a byte-order mark is not a token
            out[i] = " "
            i += 1
        elif c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and text.startswith("/*", i):
            j = _block_comment_end(text, i)
            if j < 0:
                open_at, j = i, n
            blank(i, j)
            i = j
        elif c in "'\"":
            escapes = c == "'" and i > 0 and text[i - 1] in "eE" and not _ident_char(text, i - 2)
            j = _quote_end(text, i, c, escapes)
            if j < 0:
                open_at, j = i, n
            if c == "'":
                blank(i + 1, j - 1)
            else:  # keep quoted identifiers readable, but a ';' in one never ends a statement
                for k in range(i + 1, j - 1):
                    if out[k] == ";":
                        out[k] = " "
            i = j
        elif c == "$" and not _ident_char(text, i - 1) and (m := _DOLLAR_TAG.match(text, i)):
            tag = m.group(0)
            j = text.find(tag, m.end())
            if j < 0:
                open_at, j = i, n - len(tag)
            blank(m.end(), j)
            i = j + len(tag)
        else:
            i += 1
    return _Masked("".join(out), open_at)


def _ident_char(text: str, k: int) -> bool:
    return k >= 0 and (text[k].isalnum() or text[k] in "_$")


def _block_comment_end(text: str, i: int) -> int:
    """PostgreSQL block comments nest."""
    depth, k = 0, i
    while k < len(text):
        if text.startswith("/*", k):
            depth, k = depth + 1, k + 2
        elif text.startswith("*/", k):
            depth, k = depth - 1, k + 2
            if depth == 0:
                return k
        else:
            k += 1
    return -1


def _quote_end(text: str, i: int, quote: str, escapes: bool) -> int:
    """Offset just past the closing quote ('' and "" double; E'' also takes backslashes)."""
    k = i + 1
    while k < len(text):
        ch = text[k]
        if escapes and ch == "\\":
            k += 2
            continue
        if ch == quote:
            if k + 1 < len(text) and text[k + 1] == quote:
                k += 2
                continue
            return k + 1
        k += 1
    return -1
