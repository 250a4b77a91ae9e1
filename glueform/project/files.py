"""Reading a project's files and folders: what the operating system refuses is the user's to fix.

Why: a file that is not UTF-8, a folder that cannot be read or a glueform.yml that is a folder
are mistakes on the user's side; they are reported at the file (and, for bad bytes, the line
and column) like any other, never as an internal error and never skipped in silence.
"""

from __future__ import annotations

import os
from pathlib import Path

from glueform.errors import SourceLocation, UserError


def read_text(path: Path) -> str:
    """The UTF-8 text of a project file, or a :class:`UserError` at the file."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, data, exc) from None


def read_bytes(path: Path) -> bytes:
    """A project file's bytes, or a :class:`UserError` at the file."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise UserError(
            f"{path.name} is a folder, not a file",
            SourceLocation(path),
            hint=f"remove or rename the folder {path}; the project reads a file of that name",
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot read {path.name}: {exc.strerror or exc}",
            SourceLocation(path),
            hint="give your user read permission on it (chmod u+r)",
        ) from None


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> UserError:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    before = data[line_start : exc.start].decode("utf-8", errors="replace")
    bad = data[exc.start : exc.end].hex(" ")
    return UserError(
        f"not UTF-8 text: byte {bad} cannot be read",
        SourceLocation(path, line, len(before) + 1),
        hint="save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8 FILE)",
    )


def check_folder(folder: Path, recursive: bool = False) -> None:
    """Raise a :class:`UserError` when ``folder`` (and, if ``recursive``, a folder below it)
    exists but cannot be listed: a glob would skip it and its files would vanish silently."""
    failed = _unlisted(folder, recursive)
    if failed is not None:
        where = Path(failed.filename or folder)
        raise UserError(
            f"cannot read the folder {where}: {failed.strerror or failed}",
            hint="give your user read and search permission on it (chmod u+rx)",
        )


def _unlisted(folder: Path, recursive: bool) -> OSError | None:
    """The first error listing ``folder`` (or a folder below it) raised; None when none did."""
    failed: list[OSError] = []
    try:
        if not folder.is_dir():
            return None
        if recursive:
            for _ in os.walk(folder, onerror=failed.append):
                if failed:
                    break
        else:
            with os.scandir(folder):
                pass
    except OSError as exc:  # the folder itself, or the one above it, cannot be searched
        failed.append(exc)
    return failed[0] if failed else None
