"""One error tree for the whole library.

A :class:`UserError` is the user's mistake (bad YAML, unknown ref, cycle, bad SQL): the CLI prints
``path:line:col: message`` and the hint, exits 2, and shows no traceback unless ``--debug``.
Work that fails at run time is a run result (exit 1), not an exception; a run that cannot go on
for a reason of the moment (:class:`RunFailure`, another run's lock) exits 1 too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceLocation:
    """Where something was written: the file and a 1-based line and column."""

    path: Path
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{_display(self.path)}:{self.line}:{self.col}"


def _display(path: Path) -> str:
    """A path relative to the working folder when it lies below it (shorter, clickable)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class GlueformError(Exception):
    """Root of every error glueform raises on purpose."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        location: SourceLocation | None = None,
        hint: str | None = None,
        snippet: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.snippet = snippet

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.snippet:
            text += "\n" + self.snippet
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "error": type(self).__name__,
            "message": self.message,
            "path": str(loc.path) if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "hint": self.hint,
        }


class UserError(GlueformError):
    """A mistake in the project or on the command line; fixable by the user."""

    exit_code = 2


class RunFailure(GlueformError):
    """Something valid failed at run time (a table's data is gone or unreadable): exit 1, as a
    failed build. The catalog's "changed meanwhile" and "lock held" errors exit 1 alike."""


def snippet_at(text: str, line: int, col: int, width: int = 1) -> str:
    """The offending line of ``text`` with a caret under ``col`` (both 1-based)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    src = lines[line - 1]
    gutter = f"{line:>5} | "
    caret = " " * (len(gutter) + max(col - 1, 0)) + "^" * max(width, 1)
    return f"{gutter}{src}\n{caret}"


def locate(text: str, path: Path, *needles: str, skip: int = 0) -> SourceLocation:
    """Where the first of ``needles`` is written in ``text``, ``skip`` characters in
    (the file's start if nowhere)."""
    for i, line in enumerate(text.splitlines(), start=1):
        for needle in needles:
            col = line.find(needle)
            if col >= 0:
                return SourceLocation(path, i, col + 1 + skip)
    return SourceLocation(path, 1, 1)


def quoted(name: str) -> tuple[str, str]:
    """``'name'`` and ``"name"``: the two ways a Jinja call can spell an argument."""
    return f"'{name}'", f'"{name}"'
