"""Job bookmarks in the catalog: what each incremental model has read of each source.

A bookmark advances only inside ``CatalogStore.commit_builds``, in the transaction that makes
the model's new table version current: a failed or killed run advances nothing, so the next run
reads again exactly what was not committed. Every commit is kept (a row per file read, a row
per commit with its watermark), which is what ``rewind`` goes back through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from glueform.catalog import schema as s
from glueform.catalog.model import BookmarkUpdate, CatalogTable, FileMark

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
    files: dict[str, FileMark] = field(default_factory=dict)  # path below root -> as last read
    commits: int = 1
    root: str | None = None  # the folder its files were named under at its latest commit

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
            "root": self.root,
        }


def write_bookmarks(conn: Any, run_id: str, marks: Sequence[BookmarkUpdate], now: float) -> None:
    """Record what builds read (called by ``commit_builds``, inside its transaction)."""
    conn.execute(
        insert(s.bookmark_commits),
        [
            {"node": m.node, "source": m.source, "run_id": run_id, "kind": m.kind,
             "watermark": m.watermark, "files": len(m.files), "committed_at": now, "root": m.root}
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
            {}, counts[key], r["root"],
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


def rewind_bookmark(catalog: CatalogStore, node: str, database: str, run_id: str) -> CatalogTable:
    """Put a model back as of ``run_id``: its bookmarks and its table version, together (the
    rollback of ``catalog/rollback.py``, named by the run instead of the version)."""
    from glueform.catalog.rollback import rollback

    return rollback(catalog, database, node, run_id=run_id).table
