"""Retention: keep the newest N versions of each table's data, remove older version folders, and
the orphans a killed run left (a version folder written but never committed).

The catalog keeps every version's record (history stays complete); a rollback to a version
whose data was removed is refused with a clear message. Both run under the run lock, so no
build in flight has a folder here that is not yet committed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from glueform.catalog import schema as s

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore

# A version folder's name: the run id that wrote it (see ``CatalogStore.begin_run``).
RUN_FOLDER = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


def expire_versions(
    catalog: CatalogStore, tables: Iterable[tuple[str, str]], keep: int
) -> list[str]:
    """Remove the data of versions beyond the newest ``keep`` of ``tables``; return what went."""
    return remove_folders(catalog.expired_locations(tables, keep))


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
    used = _referenced(catalog, warehouse)
    return sorted(v for v in candidates if v.resolve() not in used)


def _dirs(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []


def _referenced(catalog: CatalogStore, warehouse: Path) -> set[Path]:
    """Every location a table version or partition record holds (relative ones below the
    warehouse root), resolved."""
    from glueform.catalog.store import _json

    with catalog.engine.connect() as conn:
        definitions = conn.execute(select(s.table_versions.c.definition)).scalars().all()
        definitions += conn.execute(select(s.tables.c.definition)).scalars().all()
        parts = conn.execute(select(s.partitions.c.location)).scalars().all()
    locations = [_json(d).get("location") for d in definitions] + list(parts)
    out = set()
    for location in locations:
        if location and "://" not in location:
            out.add((warehouse / location).resolve())  # an absolute path stays itself
    return out
