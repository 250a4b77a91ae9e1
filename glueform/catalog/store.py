"""SQLite-backed catalog store (stdlib sqlite3, WAL), migrating its own schema forward."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Each entry migrates the schema from version i to i+1; an older file opens and upgrades.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE relations (
        name TEXT PRIMARY KEY,
        database TEXT NOT NULL,
        kind TEXT NOT NULL,             -- table | view
        location TEXT,                  -- folder of the current version (tables)
        view_sql TEXT,                  -- engine SQL of the view (views)
        dialect TEXT NOT NULL,
        version INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        sql_hash TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        upstream TEXT NOT NULL,         -- JSON {name: fingerprint} at build time
        rows INTEGER,
        run_id TEXT NOT NULL,
        built_at REAL NOT NULL
    );
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        command TEXT NOT NULL,
        status TEXT NOT NULL,           -- running | success | error
        started_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE TABLE node_runs (
        run_id TEXT NOT NULL REFERENCES runs(id),
        node TEXT NOT NULL,
        status TEXT NOT NULL,           -- success | error | skipped
        rows INTEGER,
        seconds REAL,
        message TEXT,
        PRIMARY KEY (run_id, node)
    );
    """,
)


@dataclass(frozen=True)
class TableRecord:
    """The current, committed version of one output."""

    name: str
    database: str
    kind: str
    location: str | None
    view_sql: str | None
    dialect: str
    version: int
    fingerprint: str
    sql_hash: str
    config_hash: str
    upstream: Mapping[str, str]
    rows: int | None
    run_id: str
    built_at: float


class CatalogStore:
    """One catalog file. Writes happen on the thread that opened it (the runner's main thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self._migrate()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for i, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as conn:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {i}")

    # -- outputs -------------------------------------------------------------------------------

    def tables(self) -> dict[str, TableRecord]:
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM relations").fetchall()
        return {row[0]: _record(row) for row in rows}

    def commit_output(self, record: TableRecord) -> None:
        """Make ``record`` the current version of its output (the atomic flip)."""
        values = {**record.__dict__, "upstream": json.dumps(dict(record.upstream), sort_keys=True)}
        with self.transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO relations ({_COLUMNS}) VALUES ({_PLACEHOLDERS})",
                [values[c] for c in _COLUMN_NAMES],
            )

    # -- runs ----------------------------------------------------------------------------------

    def begin_run(self, target: str, command: str) -> str:
        run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, target, command, status, started_at) VALUES (?, ?, ?, 'running', ?)",
                (run_id, target, command, time.time()),
            )
        return run_id

    def record_node_run(
        self,
        run_id: str,
        node: str,
        status: str,
        rows: int | None,
        seconds: float | None,
        message: str | None,
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO node_runs VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, node, status, rows, seconds, message),
            )

    def finish_run(self, run_id: str, status: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                (status, time.time(), run_id),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT id, target, command, status, started_at, finished_at FROM runs ORDER BY started_at DESC LIMIT ?",
            (limit,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


_COLUMN_NAMES = (
    "name", "database", "kind", "location", "view_sql", "dialect", "version", "fingerprint",
    "sql_hash", "config_hash", "upstream", "rows", "run_id", "built_at",
)  # fmt: skip
_COLUMNS = ", ".join(_COLUMN_NAMES)
_PLACEHOLDERS = ", ".join("?" for _ in _COLUMN_NAMES)


def _record(row: tuple[Any, ...]) -> TableRecord:
    values = dict(zip(_COLUMN_NAMES, row, strict=True))
    values["upstream"] = json.loads(values["upstream"])
    return TableRecord(**values)
