"""Positions in the SQL a model runs, mapped back to its .sql file.

The engine reports an offset (or a line and a caret) in the rendered SQL: Jinja expanded and
``ref()``/``source()`` replaced by relation names. The user needs the line of the file they
wrote. Text that Jinja copied through is aligned character by character with the file
(``difflib``, only when an error is reported); a position inside generated text goes to the
start of the Jinja expression that produced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from glueform.errors import SourceLocation, UserError, snippet_at

_LINE_RE = re.compile(r"^LINE (\d+): (.*)\n( *)\^", re.MULTILINE)


@dataclass(frozen=True)
class ModelText:
    """A model's file text and the SQL rendered from it."""

    path: Path
    source: str
    rendered: str

    def source_offset(self, offset: int) -> int:
        """The file offset of the rendered SQL's character ``offset``."""
        if self.rendered == self.source:
            return offset
        matcher = SequenceMatcher(None, self.rendered, self.source, autojunk=False)
        gap_start = 0  # where the source text after the previous matching block starts
        for a, b, size in matcher.get_matching_blocks():
            if offset < a:
                return gap_start
            if offset < a + size:
                return b + offset - a
            gap_start = b + size
        return min(gap_start, len(self.source))

    def location(self, offset: int) -> SourceLocation:
        at = max(0, min(self.source_offset(offset), len(self.source)))
        line = self.source.count("\n", 0, at) + 1
        col = at - (self.source.rfind("\n", 0, at) + 1) + 1
        return SourceLocation(self.path, line, col)

    def error(self, message: str, offset: int, hint: str | None, width: int = 1) -> UserError:
        """A user error at the rendered SQL's ``offset``, with the file's line under a caret."""
        loc = self.location(offset)
        return UserError(
            message, loc, hint=hint, snippet=snippet_at(self.source, loc.line, loc.col, width)
        )


def byte_to_char(text: str, position: int) -> int:
    """DuckDB's parser counts bytes of UTF-8; Python strings count characters."""
    if text.isascii():
        return position
    return len(text.encode("utf-8")[:position].decode("utf-8", errors="ignore"))


def caret_offset(message: str, text: str, first_line: int = 1) -> int | None:
    """The offset in ``text`` that an engine message's ``LINE n: ...`` and caret point at.
    ``first_line`` is the message's line number of ``text``'s first line (the SQL may have
    been wrapped); the shown line may be a window of the real one (``...`` at its ends)."""
    found = _LINE_RE.search(message)
    if found is None:
        return None
    number, shown, spaces = int(found.group(1)), found.group(2), found.group(3)
    caret = len(spaces) - len(f"LINE {number}: ")
    if shown.startswith("..."):
        shown, caret = shown[3:], caret - 3
    shown = shown.removesuffix("...")
    lines = text.split("\n")
    index = number - first_line
    if not 0 <= index < len(lines):
        return None
    line = lines[index]
    start = line.find(shown) if shown else 0
    if start < 0:
        start = 0
    line_start = sum(len(x) + 1 for x in lines[:index])
    return line_start + max(0, min(start + caret, len(line)))
