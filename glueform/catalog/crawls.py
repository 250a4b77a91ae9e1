"""What crawlers keep in the catalog: the record of each crawl, the folders each crawler has
seen (its incremental state), and the one-transaction write of a crawl's changes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, tuple_

from glueform.catalog import schema as s
from glueform.catalog.model import CatalogTable, Partition
from glueform.catalog.store import (
    CatalogStore,
    _delete_table,
    _ensure_databases,
    _insert_partitions,
    _insert_versions,
    _json,
    _partition,
    _put_tables,
)

CRAWLER_PARAM = "crawler"  # parameter naming the crawler that made a table
ROOT_PARAM = "crawl_root"  # the table's root folder (what new folders are matched against)


@dataclass(frozen=True)
class SeenFolder:
    folder: str  # location
    database: str
    table: str
    files: int
    bytes: int


@dataclass(frozen=True)
class CatalogChanges:
    """Everything one crawl writes, applied in one transaction or not at all."""

    crawler: str
    tables: Sequence[tuple[CatalogTable, int | None]] = ()  # (table, expected version; None: new)
    deletes: Sequence[tuple[str, str, int]] = ()  # database, name, expected version
    partitions_added: Sequence[tuple[str, str, Partition]] = ()
    partitions_removed: Sequence[tuple[str, str, tuple[str, ...]]] = ()
    folders: Sequence[SeenFolder] = ()
    replace_folders: bool = True  # a full crawl replaces the state; an incremental one adds
    databases: Sequence[str] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)


def partition_sets(
    store: CatalogStore, database: str, names: Sequence[str]
) -> dict[str, dict[tuple[str, ...], Partition]]:
    """The partitions of many tables in one query."""
    p = s.partitions
    query = select(p.c.table_name, p.c.partition_values, p.c.location, p.c.rows, p.c.bytes).where(
        p.c.database == database, p.c.table_name.in_(list(names))
    )
    out: dict[str, dict[tuple[str, ...], Partition]] = {n: {} for n in names}
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            part = store.locations.read_partition(_partition(r))
            out[r.table_name][part.values] = part
    return out


def seen_folders(store: CatalogStore, crawler: str) -> dict[str, SeenFolder]:
    f = s.crawl_folders
    query = select(f.c.folder, f.c.database, f.c.table_name, f.c.files, f.c.bytes).where(
        f.c.crawler == crawler
    )
    with store.engine.connect() as conn:
        return {r[0]: SeenFolder(*r) for r in conn.execute(query).all()}


def last_crawls(store: CatalogStore) -> dict[str, dict[str, Any]]:
    """The newest crawl of each crawler."""
    c = s.crawls
    newest = (
        select(c.c.crawler, func.max(c.c.started_at).label("started_at"))
        .group_by(c.c.crawler)
        .subquery()
    )
    query = select(c).join(
        newest, (c.c.crawler == newest.c.crawler) & (c.c.started_at == newest.c.started_at)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return {row["crawler"]: {**row, "summary": _json(row["summary"])} for row in rows}


def commit_crawl(
    store: CatalogStore, changes: CatalogChanges, started_at: float, crawl_id: str
) -> None:
    """Tables, versions, partitions, deletions, state and the crawl's record: all or nothing."""
    now = time.time()
    p, f = s.partitions, s.crawl_folders
    with store.engine.begin() as conn:
        _ensure_databases(conn, changes.databases, now, managed=False)
        tables = [(store.locations.store_table(t), v) for t, v in changes.tables]
        versions = _put_tables(conn, tables, now)
        _insert_versions(
            conn, crawl_id, [(t, v) for (t, _), v in zip(tables, versions, strict=True)], now
        )
        for database, name, expected in changes.deletes:
            _delete_table(conn, database, name, expected, hint="crawl again")
        removed = [(db, name, json.dumps(list(v))) for db, name, v in changes.partitions_removed]
        if removed:
            conn.execute(
                p.delete().where(tuple_(p.c.database, p.c.table_name, p.c.values_key).in_(removed))
            )
        added = changes.partitions_added
        _insert_partitions(
            conn, [(db, name, store.locations.store_partition(p)) for db, name, p in added], now
        )
        if changes.replace_folders:
            conn.execute(f.delete().where(f.c.crawler == changes.crawler))
        else:
            folders = [x.folder for x in changes.folders]
            for i in range(0, len(folders), 500):
                conn.execute(
                    f.delete().where(
                        f.c.crawler == changes.crawler, f.c.folder.in_(folders[i : i + 500])
                    )
                )
        if changes.folders:
            conn.execute(
                insert(f),
                [
                    {"crawler": changes.crawler, "folder": x.folder, "database": x.database,
                     "table_name": x.table, "files": x.files, "bytes": x.bytes, "crawled_at": now}
                    for x in changes.folders
                ],
            )  # fmt: skip
        conn.execute(
            insert(s.crawls).values(
                id=crawl_id,
                crawler=changes.crawler,
                status="success" if changes.summary.get("ok", True) else "failed",
                started_at=started_at,
                finished_at=now,
                summary=dict(changes.summary),
            )
        )
