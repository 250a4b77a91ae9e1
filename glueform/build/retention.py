"""Retention: keep the newest N versions of each table's data, remove older version folders.

The catalog keeps every version's record (history stays complete); a rollback to a version
whose data was removed is refused with a clear message. A folder is removed only when it lies
inside the catalog's own warehouse root and no table or partition the catalog holds points into
it: a copied project whose catalog still names the original's folders never deletes them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore


def expire_versions(
    catalog: CatalogStore, tables: Iterable[tuple[str, str]], keep: int
) -> list[str]:
    """Remove the data of versions beyond the newest ``keep`` of ``tables``; return what went."""
    expired = [
        loc for loc in catalog.expired_locations(tables, keep) if catalog.locations.inside(loc)
    ]
    if not expired:
        return []
    referenced = _referenced(catalog)
    removed = []
    for location in expired:
        path = Path(location)
        if any(_overlap(path, ref) for ref in referenced) or not path.is_dir():
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(location)
    return removed


def _referenced(catalog: CatalogStore) -> list[Path]:
    """The local folders the catalog's current tables and their partitions point at."""
    paths = []
    for table in catalog.tables():
        if table.location and "://" not in table.location:
            paths.append(Path(table.location))
            if table.partition_keys:
                parts = catalog.partitions(table.database, table.name)
                paths += [Path(p.location) for p in parts if "://" not in p.location]
    return paths


def _overlap(folder: Path, ref: Path) -> bool:
    """Removing ``folder`` would remove (part of) ``ref``, or the folder ``ref`` lies in."""
    return folder == ref or folder in ref.parents or ref in folder.parents
