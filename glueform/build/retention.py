"""Retention: keep the newest N versions of each table's data, remove older version folders.

The catalog keeps every version's record (history stays complete); a rollback to a version
whose data was removed is refused with a clear message.
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
    removed = []
    for location in catalog.expired_locations(tables, keep):
        if "://" not in location and Path(location).is_dir():
            shutil.rmtree(location, ignore_errors=True)
            removed.append(location)
    return removed
