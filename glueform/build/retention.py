"""Retention: keep the newest N versions of each table's data, remove older version folders, and
the orphans a killed run left (a version folder written but never committed).

The catalog keeps every version's record (history stays complete); a rollback to a version
whose data was removed is refused with a clear message. A folder is removed only when it lies
inside the catalog's own warehouse root and no table or partition the catalog holds points into
it: a copied project whose catalog still names the original's folders never deletes them. Both
run under the run lock, so no build in flight has a folder here that is not yet committed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore

# A version folder's name: the run id that wrote it (see ``CatalogStore.begin_run``).
RUN_FOLDER = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


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
    return remove_folders(
        loc for loc in expired if not any(_overlap(Path(loc), ref) for ref in referenced)
    )


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


def remove_folders(locations: Iterable[str | Path]) -> list[str]:
    """Remove local folders (never a URL); return those removed."""
    removed = []
    for location in locations:
        if "://" not in str(location) and Path(location).is_dir():
            shutil.rmtree(location, ignore_errors=True)
            removed.append(str(location))
    return removed


def orphan_folders(
    catalog: CatalogStore, warehouse: Path, tables: Iterable[tuple[str, str]] | None = None
) -> list[Path]:
    """Version folders under ``warehouse`` (of ``tables``, or of every table folder there) that
    no catalog record points at: what a run killed before its commit wrote."""
    folders = (
        [warehouse / db / name for db, name in tables]
        if tables is not None
        else [t for db in _dirs(warehouse) for t in _dirs(db)]
    )
    candidates = [v for t in folders for v in _dirs(t) if RUN_FOLDER.match(v.name)]
    if not candidates:
        return []
    used = _recorded(catalog)
    return sorted(
        v for v in candidates if v.resolve() not in used and catalog.locations.inside(str(v))
    )


def _dirs(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []


def _recorded(catalog: CatalogStore) -> set[Path]:
    """Every location any table version or partition record holds, resolved."""
    from sqlalchemy import select

    from glueform.catalog import schema as s
    from glueform.catalog.store import _json

    with catalog.engine.connect() as conn:
        definitions = conn.execute(select(s.table_versions.c.definition)).scalars().all()
        definitions += conn.execute(select(s.tables.c.definition)).scalars().all()
        parts = conn.execute(select(s.partitions.c.location)).scalars().all()
    locations = [_json(d).get("location") for d in definitions] + list(parts)
    resolved = (catalog.locations.resolved(loc) for loc in locations)
    return {Path(loc).resolve() for loc in resolved if loc and "://" not in loc}
