"""Applying a plan's catalog changes: declare sources, remove what the project no longer defines.

Builds are the runner's; this module changes catalog entries (and removes the data of deleted
outputs, which only glueform wrote).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from glueform.catalog.model import MANAGED_TABLE
from glueform.compile.dag import Graph
from glueform.plan.builder import TableChange
from glueform.plan.desired import source_table

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore


def apply_table_changes(
    catalog: CatalogStore, graph: Graph, changes: Iterable[TableChange], run_id: str | None = None
) -> None:
    """Apply source declarations and deletions; model tables change by being built."""
    for change in changes:
        current = catalog.table(change.database, change.name)
        if change.action == "delete":
            if current is None:
                continue
            catalog.delete_table(change.database, change.name, current.version)
            folder = str(Path(current.location).parent) if current.location else None
            # only inside this catalog's own warehouse (a copied project's catalog may still
            # name the original's folders)
            if current.table_type == MANAGED_TABLE and folder and catalog.locations.inside(folder):
                shutil.rmtree(folder, ignore_errors=True)  # every version
        else:
            source = graph.sources.get(change.key)
            if source is None:
                continue  # a model's table: created or updated by its build
            catalog.ensure_databases([change.database])
            catalog.put_table(source_table(source), current.version if current else None, run_id)
