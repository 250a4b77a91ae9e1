"""Where a table's data is, as the catalog stores it: relative to the local warehouse root.

Why: a catalog that stored absolute paths pointed a copied project (``cp -a``) at the original's
folders, which the copy's retention then deleted, and made a moved project's tables unreadable.
A location inside the warehouse root is stored relative to it and resolved against the root the
catalog is opened with; anything else (an S3 URL, a source's files elsewhere) is kept as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from glueform.catalog.model import CatalogTable, Partition


@dataclass(frozen=True)
class Locations:
    """The local warehouse root a catalog was opened with (None: locations are kept as written)."""

    root: Path | None = None

    def stored(self, location: str | None) -> str | None:
        """The form the catalog keeps: relative (POSIX) when inside the root."""
        if location is None or self.root is None or "://" in location:
            return location
        path = Path(location)
        if not path.is_absolute() or not _within(path, self.root):
            return location
        return PurePosixPath(*path.relative_to(self.root).parts).as_posix()

    def resolved(self, location: str | None) -> str | None:
        """The path to read: a stored relative location under this catalog's root."""
        if location is None or self.root is None or "://" in location:
            return location
        if Path(location).is_absolute():
            return location
        return str(self.root / location)

    def inside(self, location: str) -> bool:
        """Whether ``location`` is a local folder strictly inside the warehouse root."""
        if self.root is None or "://" in location:
            return False
        path = Path(location)
        return path.is_absolute() and path != self.root and _within(path, self.root)

    def store_table(self, table: CatalogTable) -> CatalogTable:
        return replace(table, location=self.stored(table.location))

    def read_table(self, table: CatalogTable) -> CatalogTable:
        return replace(table, location=self.resolved(table.location))

    def store_partition(self, part: Partition) -> Partition:
        return replace(part, location=self.stored(part.location) or part.location)

    def read_partition(self, part: Partition) -> Partition:
        return replace(part, location=self.resolved(part.location) or part.location)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def files_root(pattern: str) -> str:
    """The folder a source's files are named under: its path up to the first wildcard (a single
    file's folder). File bookmarks key files by their path below it, so a moved or cloned
    checkout finds what it has read; Spark reads partition folders from it (basePath)."""
    fixed: list[str] = []
    for part in Path(pattern).parts:
        if any(ch in part for ch in "*?[{"):  # glob's wildcards, and Spark's {a,b}
            break
        fixed.append(part)
    else:
        fixed = fixed[:-1]
    return str(Path(*fixed)) if fixed else "."


def key_under(path: str, root: str) -> str:
    """A file's bookmark key: its POSIX path below ``root`` (unchanged when not below it)."""
    p, r = Path(path), Path(root)
    if p.is_absolute() == r.is_absolute() and _within(p, r) and p != r:
        return PurePosixPath(*p.relative_to(r).parts).as_posix()
    return path
