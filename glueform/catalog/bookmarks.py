"""Job bookmarks in the catalog: what each incremental model has read of each source.

A bookmark advances only inside ``CatalogStore.commit_builds``, in the transaction that makes
the model's new table version current: a failed or killed run advances nothing, so the next run
reads again exactly what was not committed. Every commit is kept (a row per file read, a row
per commit with its watermark), which is what ``rewind`` goes back through.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from glueform.catalog import schema as s
from glueform.catalog.model import BookmarkUpdate, CatalogTable, FileMark, Partition
from glueform.errors import UserError

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore


@dataclass(frozen=True)
class Bookmark:
    """A model's bookmark of one source, as of its latest commit."""

    node: str
    source: str
    kind: str
    run_id: str
    committed_at: float
    watermark: Any = None
    files: dict[str, FileMark] = field(default_factory=dict)  # path -> as last read
    commits: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "source": self.source,
            "kind": self.kind,
            "run_id": self.run_id,
            "committed_at": self.committed_at,
            "watermark": self.watermark,
            "files": len(self.files),
            "commits": self.commits,
        }


def write_bookmarks(conn: Any, run_id: str, marks: Sequence[BookmarkUpdate], now: float) -> None:
    """Record what builds read (called by ``commit_builds``, inside its transaction)."""
    conn.execute(
        insert(s.bookmark_commits),
        [
            {"node": m.node, "source": m.source, "run_id": run_id, "kind": m.kind,
             "watermark": m.watermark, "files": len(m.files), "committed_at": now}
            for m in marks
        ],
    )  # fmt: skip
    rows = [
        {"node": m.node, "source": m.source, "path": f.path, "size": f.size, "mtime": f.mtime,
         "committed_at": now}
        for m in marks
        for f in m.files
    ]  # fmt: skip
    if rows:
        conn.execute(insert(s.bookmark_files), rows)


def load_bookmarks(
    catalog: CatalogStore, node: str | None = None
) -> dict[tuple[str, str], Bookmark]:
    """Every bookmark (or one model's), as of its latest commit."""
    c, f = s.bookmark_commits, s.bookmark_files
    commits = select(c).order_by(c.c.committed_at)
    files = select(f.c.node, f.c.source, f.c.path, f.c.size, f.c.mtime).order_by(f.c.committed_at)
    if node is not None:
        commits, files = commits.where(c.c.node == node), files.where(f.c.node == node)
    with catalog.engine.connect() as conn:
        commit_rows = conn.execute(commits).mappings().all()
        file_rows = conn.execute(files).all()
    out: dict[tuple[str, str], Bookmark] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in commit_rows:
        key = (r["node"], r["source"])
        counts[key] = counts.get(key, 0) + 1
        out[key] = Bookmark(
            r["node"], r["source"], r["kind"], r["run_id"], r["committed_at"], r["watermark"],
            {}, counts[key],
        )  # fmt: skip
    for n, source, path, size, mtime in file_rows:
        mark = out.get((n, source))
        if mark is not None:
            mark.files[path] = FileMark(path, size, mtime)
    return out


def reset_bookmarks(catalog: CatalogStore, node: str | None = None) -> int:
    """Forget what a model (or every model) has read: its next run reads everything again and
    rebuilds its table from it. Returns how many source bookmarks were dropped."""
    c, f = s.bookmark_commits, s.bookmark_files
    with catalog.engine.begin() as conn:
        keys = select(c.c.node, c.c.source).distinct()
        if node is not None:
            keys = keys.where(c.c.node == node)
        dropped = len(conn.execute(keys).all())
        for table in (c, f):
            statement = table.delete()
            if node is not None:
                statement = statement.where(table.c.node == node)
            conn.execute(statement)
    return dropped


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


def rewind_bookmark(catalog: CatalogStore, node: str, database: str, run_id: str) -> CatalogTable:
    """Put a model back as of ``run_id``: its bookmarks and its table version, together (the
    bookmark alone would make the next run add rows the table already holds). Checks first,
    then changes everything in one transaction."""
    from glueform.catalog.store import _insert_versions, _put_tables, _replace_partitions

    c, f = s.bookmark_commits, s.bookmark_files
    with catalog.engine.connect() as conn:
        runs = conn.execute(
            select(c.c.run_id, c.c.committed_at).where(c.c.node == node).distinct()
        ).all()
    at = {r: t for r, t in runs}
    if run_id not in at:
        known = sorted(at, key=at.__getitem__)[-5:]
        raise UserError(
            f"{node} has no bookmark commit of run {run_id}",
            hint=f"its runs with a bookmark: {', '.join(known)}"
            if known
            else f"{node} has no bookmark; see: glueform bookmarks show",
        )
    versions = [v for v in catalog.table_versions(database, node) if v.run_id == run_id]
    current = catalog.table(database, node)
    if not versions or current is None:
        raise UserError(
            f"the table version that run {run_id} wrote of {database}.{node} is not in the catalog",
            hint=f"reset the bookmark instead: glueform bookmarks reset {node}",
        )
    old = versions[0].table
    if old.location and "://" not in old.location and not Path(old.location).exists():
        raise UserError(
            f"the data of {database}.{node} as of run {run_id} is gone ({old.location})",
            hint="it was removed by retention (keep_versions); reset the bookmark instead",
        )
    now = time.time()
    with catalog.engine.begin() as conn:
        later = at[run_id]
        conn.execute(c.delete().where(c.c.node == node, c.c.committed_at > later))
        conn.execute(f.delete().where(f.c.node == node, f.c.committed_at > later))
        if old.definition() != current.definition():
            (version,) = _put_tables(conn, [(old, current.version)], now)
            _insert_versions(conn, None, [(old, version)], now)
            if old.partition_keys and old.location:
                _replace_partitions(conn, database, node, _folders(old.location), now)
    restored = catalog.table(database, node)
    assert restored is not None
    return restored
