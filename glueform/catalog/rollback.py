"""One rollback for a table: its current version, its partitions and its model's bookmarks move
back together, in one transaction.

Why together: an incremental model's bookmarks say which files its table already holds. Moving
the table back alone leaves the bookmarks ahead, so the rows of the undone runs are never read
again; moving the bookmarks back alone makes the next run add rows the table already holds.

The bookmarks as of a version are the commits made up to that version's commit (a build commits
its table version and its bookmarks with one timestamp). Rolling back removes the later commits,
so the next run reads again what the undone runs had read. A version that an earlier rollback
undid has lost its bookmark commits that way: rolling back to it is refused with a hint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from glueform.catalog import schema as s
from glueform.catalog.model import CatalogTable, Partition, TableVersion
from glueform.errors import UserError

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore


@dataclass(frozen=True)
class RollbackResult:
    """What a rollback did: the table as now current, the version it went back to, and how many
    bookmark commits (of later runs) it undid."""

    table: CatalogTable
    to_version: int
    undone_commits: int


def rollback(
    catalog: CatalogStore,
    database: str,
    name: str,
    to_version: int | None = None,
    run_id: str | None = None,
) -> RollbackResult:
    """Make a table as it was at ``to_version`` (or after run ``run_id``) current again, with
    the bookmarks of its model as they were then. Checks first, then changes everything in one
    transaction; the caller holds the run lock, so no run commits meanwhile."""
    from glueform.catalog.store import CatalogError

    current = catalog.table(database, name)
    if current is None:
        raise CatalogError(
            f"no table {database}.{name} in the catalog",
            hint="list tables with 'glueform catalog ls'",
        )
    versions = sorted(catalog.table_versions(database, name), key=lambda v: v.version)
    target = _target(versions, database, name, to_version, run_id)
    old = target.table
    if old.location and "://" not in old.location and not Path(old.location).exists():
        raise CatalogError(
            f"the data of {database}.{name} version {target.version} is gone ({old.location})",
            hint="it was removed by retention (keep_versions); pick a newer version "
            "(glueform catalog history)",
        )
    commits = _bookmark_commits(catalog, name, {v.run_id for v in versions if v.run_id})
    later = [at for at in commits if at > target.created_at]
    if commits and _undone(versions, target):
        raise CatalogError(
            f"version {target.version} of {database}.{name} was undone by an earlier rollback, "
            "and the bookmarks of its model as of then with it",
            hint=f"roll back to a version the table went back to, or reset the model's bookmarks "
            f"(glueform bookmarks reset {name}) so its next run rebuilds it from all its input",
        )
    now = time.time()
    with catalog.engine.begin() as conn:
        from glueform.catalog.store import _insert_versions, _put_tables, _replace_partitions

        if later:
            c, f = s.bookmark_commits, s.bookmark_files
            conn.execute(c.delete().where(c.c.node == name, c.c.committed_at > target.created_at))
            conn.execute(f.delete().where(f.c.node == name, f.c.committed_at > target.created_at))
        if old.definition() != current.definition():
            stored = catalog.locations.store_table(old)
            (version,) = _put_tables(conn, [(stored, current.version)], now)
            _insert_versions(conn, None, [(stored, version)], now)
            if old.partition_keys and old.location and "://" not in old.location:
                parts = [catalog.locations.store_partition(p) for p in _folders(old.location)]
                _replace_partitions(conn, database, name, parts, now)
            n = s.node_state  # how the restored data was built is no longer known
            conn.execute(n.delete().where(n.c.node == name, n.c.database == database))
    restored = catalog.table(database, name)
    assert restored is not None
    return RollbackResult(restored, target.version, len(later))


def _target(
    versions: list[TableVersion],
    database: str,
    name: str,
    to_version: int | None,
    run_id: str | None,
) -> TableVersion:
    from glueform.catalog.store import CatalogError

    if run_id is not None:
        written = [v for v in versions if v.run_id == run_id]
        if not written:
            known = [v.run_id for v in versions if v.run_id][-5:]
            raise UserError(
                f"run {run_id} wrote no version of {database}.{name}",
                hint=f"the runs that did: {', '.join(known)}"
                if known
                else f"see its versions: glueform catalog history {database}.{name}",
            )
        return written[-1]
    found = [v for v in versions if v.version == to_version]
    if not found:
        raise CatalogError(
            f"{database}.{name} has no version {to_version}",
            hint=f"versions: {', '.join(str(v.version) for v in versions)}",
        )
    return found[0]


def _bookmark_commits(catalog: CatalogStore, node: str, run_ids: set[str]) -> list[float]:
    """When the model's bookmark commits were made, if ``node`` is the model writing this table
    (its commits belong to the runs that wrote the table's versions); else none."""
    c = s.bookmark_commits
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(c.c.run_id, c.c.committed_at).where(c.c.node == node)).all()
    if not any(r in run_ids for r, _ in rows):
        return []
    return sorted({at for _, at in rows})


def _undone(versions: list[TableVersion], target: TableVersion) -> bool:
    """Whether an earlier rollback went back past ``target``: a later version that is a copy of
    an earlier one (the same data folder) undid every version between the two."""
    first_at: dict[str, int] = {}
    for v in versions:
        location = v.table.location
        if not location:
            continue
        if location in first_at and first_at[location] < target.version < v.version:
            return True
        first_at.setdefault(location, v.version)
    return False


def _folders(location: str) -> list[Partition]:
    """The partition folders of a version folder, with their values and bytes."""
    from urllib.parse import unquote

    sizes: dict[Path, int] = {}
    for file in Path(location).rglob("*.parquet"):
        sizes[file.parent] = sizes.get(file.parent, 0) + file.stat().st_size
    return [
        Partition(
            tuple(unquote(p.split("=", 1)[1]) for p in folder.relative_to(location).parts),
            str(folder),
            None,
            size,
        )
        for folder, size in sorted(sizes.items())
    ]
