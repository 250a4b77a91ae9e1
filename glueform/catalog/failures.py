"""What a failure of the catalog's database means for the user: a damaged file, a full disk, a
read-only file or an unreachable server, each a clear :class:`CatalogError` (exit 2) with what to
do (a :class:`CatalogError`), instead of a driver's exception. Nothing half-written is committed in any of these cases:
the transaction that failed is rolled back by the database.
"""

from __future__ import annotations

import errno

from glueform.errors import UserError


class CatalogError(UserError):
    """The catalog cannot be used as asked: unreachable, foreign, or out of date."""


# (words in the driver's message, what it means, what to do); the first match wins
_KINDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("malformed", "not a database", "file is encrypted", "disk i/o error"),
        "the catalog file is damaged",
        "restore it from a backup (sqlite3 FILE '.recover' may save what is readable); "
        "the tables' data folders are untouched",
    ),
    (
        ("disk is full", "no space left", "could not extend file", "disk full"),
        "the disk under the catalog is full",
        "free space there and run again: nothing half-written was committed",
    ),
    (
        ("readonly", "read-only", "permission denied", "unable to open database file"),
        "the catalog cannot be written (a read-only file, folder or disk)",
        "make the catalog file and its folder writable (SQLite writes -wal and -shm files "
        "beside it), or point the target at a writable catalog",
    ),
)

_OS_ERRORS = {
    errno.ENOSPC: ("the disk is full", "free space there and run again"),
    errno.EROFS: ("the file system is read-only", "use a writable folder"),
    errno.EACCES: ("permission denied", "check the folder's permissions"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space there and run again"),
}


def catalog_failure(url: str, exc: BaseException) -> UserError | None:
    """The user-facing error for ``exc`` raised by the catalog at ``url``, or None if it is
    not one of the known failures (a bug)."""
    from sqlalchemy.exc import DBAPIError

    from glueform.secrets import mask_url, url_secrets

    if isinstance(exc, OSError):
        return os_failure(exc)
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig or exc).splitlines()[0] if str(exc.orig or exc) else type(exc).__name__
    lowered = text.lower()
    for words, meaning, hint in _KINDS:
        if any(w in lowered for w in words):
            detail = url_secrets("catalog password", url).redact(text)
            return CatalogError(f"{meaning}: {mask_url(url)} ({detail})", hint=hint)
    return None


def os_failure(exc: OSError) -> UserError | None:
    """A file that cannot be written for a reason of the machine (full disk, read-only)."""
    known = _OS_ERRORS.get(exc.errno or 0)
    if known is None:
        return None
    meaning, hint = known
    where = f" ({exc.filename})" if exc.filename else ""
    return UserError(f"cannot write{where}: {meaning}", hint=hint)
