"""The catalog's SQL schema (SQLAlchemy Core) and the migrations that bring an older one forward."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    select,
    text,
)

from glueform.catalog.locations import Locations

metadata = MetaData()

meta = Table(
    "glueform_meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text)
)

databases = Table(
    "databases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("managed", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

tables = Table(
    "tables",
    metadata,
    Column("database", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("table_type", String(32), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("database", "name"),
)

table_versions = Table(
    "table_versions",
    metadata,
    Column("database", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("run_id", String(64)),
    PrimaryKeyConstraint("database", "name", "version"),
)

partitions = Table(
    "partitions",
    metadata,
    Column("database", String(255), nullable=False),
    Column("table_name", String(255), nullable=False),
    Column("values_key", Text, nullable=False),
    Column("partition_values", JSON, nullable=False),
    Column("location", Text, nullable=False),
    Column("rows", BigInteger),
    Column("bytes", BigInteger),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("database", "table_name", "values_key"),
)

node_state = Table(
    "node_state",
    metadata,
    Column("node", String(255), primary_key=True),
    Column("database", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("sql_hash", String(64), nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("upstream", JSON, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("built_at", Float, nullable=False),
    Column("rows", BigInteger),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("target", String(255), nullable=False),
    Column("command", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("host", String(255)),  # the process running it (v8): a dead one's run is marked
    Column("pid", Integer),
)

node_runs = Table(
    "node_runs",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("node", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("rows", BigInteger),
    Column("seconds", Float),
    Column("message", Text),
    PrimaryKeyConstraint("run_id", "node"),
)

locks = Table(
    "locks",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("since", Float, nullable=False),
    # v8: locks are leases (see ``catalog/leases.py``)
    Column("heartbeat_at", Float, nullable=False, default=0.0),
    Column("expires_at", Float, nullable=False, default=0.0),
    Column("token", String(64), nullable=False, default=""),
)

# -- jobs, triggers and workflows (the scheduler's record; migration v3 adds them) -------------

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("job", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # RUNNING SUCCEEDED FAILED TIMEOUT STOPPED
    Column("trigger", String(255)),
    Column("workflow_run_id", String(64)),
    Column("fire_time", Float),  # the schedule time it serves (catch-up gives it back if stopped)
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("rows_read", BigInteger),
    Column("rows_written", BigInteger),
    Column("bytes_written", BigInteger),
    Column("error", Text),
    Column("transform_run_ids", JSON, nullable=False),
    Column("vars", JSON, nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
)

workflow_runs = Table(
    "workflow_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("workflow", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # RUNNING COMPLETED STOPPED
    Column("trigger", String(255)),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
)

trigger_state = Table(
    "trigger_state",
    metadata,
    Column("trigger", String(255), primary_key=True),
    Column("last_fire", Float, nullable=False),  # the latest schedule time claimed, or a baseline
    Column("updated_at", Float, nullable=False),
)

# -- crawlers (their records and incremental state; migration v4 adds them) ------------------

crawls = Table(
    "crawls",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("crawler", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("summary", JSON, nullable=False),  # what it found, changed and skipped (with reasons)
)

crawl_folders = Table(
    "crawl_folders",
    metadata,
    Column("crawler", String(255), nullable=False),
    Column("folder", Text, nullable=False),  # a leaf folder's location (path or s3:// URL)
    Column("database", String(255), nullable=False),
    Column("table_name", String(255), nullable=False),
    Column("files", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("crawled_at", Float, nullable=False),
    PrimaryKeyConstraint("crawler", "folder"),
)

# -- job bookmarks (what each incremental model has read of each source; migration v5) --------

bookmark_commits = Table(
    "bookmark_commits",
    metadata,
    Column("node", String(255), nullable=False),
    Column("source", String(511), nullable=False),  # "source_name.table_name"
    Column("run_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # files | column | partitions
    Column("watermark", JSON),  # kind column: the largest value read so far
    Column("files", Integer, nullable=False),  # files (or partitions) this commit added
    Column("committed_at", Float, nullable=False),
    Column("root", Text),  # the folder the source's files were named under (migration v7)
    PrimaryKeyConstraint("node", "source", "run_id"),
)

bookmark_files = Table(
    "bookmark_files",
    metadata,
    Column("node", String(255), nullable=False),
    Column("source", String(511), nullable=False),
    Column("path", Text, nullable=False),  # a file or a partition's folder, below the root
    Column("size", BigInteger, nullable=False),
    Column("mtime", Float, nullable=False),
    Column("committed_at", Float, nullable=False),  # a row per read: history for rewind
    PrimaryKeyConstraint("node", "source", "path", "committed_at"),
)

SCHEMA_VERSION = 8


def _create_v1(conn: Any) -> None:
    metadata.create_all(conn)


def _index_node_runs(conn: Any) -> None:
    """v2: a node's run history without scanning every run (same DDL on SQLite and PostgreSQL)."""
    conn.execute(text("CREATE INDEX IF NOT EXISTS node_runs_by_node ON node_runs (node, run_id)"))


def _create_schedule_tables(conn: Any) -> None:
    """v3: job runs, workflow runs and trigger firing state (see ``catalog/jobruns.py``)."""
    metadata.create_all(conn, tables=[job_runs, workflow_runs, trigger_state], checkfirst=True)
    conn.execute(text("CREATE INDEX IF NOT EXISTS job_runs_by_job ON job_runs (job, started_at)"))


def _create_crawl_tables(conn: Any) -> None:
    """v4: crawl records and the folders each crawler has seen (its incremental state)."""
    for table in (crawls, crawl_folders):
        table.create(conn, checkfirst=True)


def _create_bookmark_tables(conn: Any) -> None:
    """v5: job bookmarks (see ``catalog/bookmarks.py``)."""
    for table in (bookmark_commits, bookmark_files):
        table.create(conn, checkfirst=True)


def _relative_locations(conn: Any, locations: Locations) -> None:
    """v6: locations inside the local warehouse root become relative to it (``locations.py``),
    so the project can be moved or copied. Opened without a root, nothing is rewritten."""
    if locations.root is None:
        return
    for table, keys in (
        (tables, ("database", "name")),
        (table_versions, ("database", "name", "version")),
    ):
        for row in conn.execute(select(*(table.c[k] for k in keys), table.c.definition)).all():
            definition = row.definition
            if isinstance(definition, str):
                definition = json.loads(definition)
            location = definition.get("location")
            stored = locations.stored(location)
            if stored != location:
                where = [table.c[k] == getattr(row, k) for k in keys]
                conn.execute(
                    table.update()
                    .where(*where)
                    .values(definition={**definition, "location": stored})
                )
    p = partitions
    for row in conn.execute(
        select(p.c.database, p.c.table_name, p.c.values_key, p.c.location)
    ).all():
        stored = locations.stored(row.location)
        if stored != row.location:
            conn.execute(
                p.update()
                .where(p.c.database == row.database, p.c.table_name == row.table_name, p.c.values_key == row.values_key)
                .values(location=stored)
            )  # fmt: skip


def _relative_bookmark_keys(conn: Any, _locations: Locations) -> None:
    """v7: file bookmarks keyed by the path below their source's root (recorded per commit),
    so a moved or cloned checkout reads nothing twice. The root is taken from the source's
    location as the catalog holds it: the one the files were read from."""
    from sqlalchemy import inspect

    from glueform.catalog.locations import files_root, key_under

    c, f = bookmark_commits, bookmark_files
    if "root" not in {col["name"] for col in inspect(conn).get_columns(c.name)}:
        conn.execute(text("ALTER TABLE bookmark_commits ADD COLUMN root TEXT"))
    sources = {s for (s,) in conn.execute(select(c.c.source).where(c.c.root.is_(None)).distinct())}
    for source in sorted(sources):
        database, _, name = source.partition(".")
        definition = conn.execute(
            select(tables.c.definition).where(tables.c.database == database, tables.c.name == name)
        ).scalar()
        if isinstance(definition, str):
            definition = json.loads(definition)
        location = (definition or {}).get("location")
        if not location or "://" in location:
            continue
        root = files_root(location)
        conn.execute(c.update().where(c.c.source == source).values(root=root))
        rows = conn.execute(
            select(f.c.node, f.c.path, f.c.committed_at).where(f.c.source == source)
        )
        for node, path, at in rows.all():
            key = key_under(path, root)
            if key != path:
                conn.execute(
                    f.update()
                    .where(f.c.node == node, f.c.source == source, f.c.path == path, f.c.committed_at == at)
                    .values(path=key)
                )  # fmt: skip


def _leases(conn: Any) -> None:
    """v8: locks become leases (heartbeat, expiry, the holder's token); runs name their process.
    A lock row from before lasts one default lease from when it was taken."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    have = {c["name"] for c in inspector.get_columns("locks")}
    for column, ddl in (
        ("heartbeat_at", "FLOAT NOT NULL DEFAULT 0"),
        ("expires_at", "FLOAT NOT NULL DEFAULT 0"),
        ("token", "VARCHAR(64) NOT NULL DEFAULT ''"),
    ):
        if column not in have:
            conn.execute(text(f"ALTER TABLE locks ADD COLUMN {column} {ddl}"))
    conn.execute(
        text(
            "UPDATE locks SET heartbeat_at = since, expires_at = since + 300,"
            " token = 'v7:' || name WHERE token = ''"
        )
    )
    have = {c["name"] for c in inspector.get_columns("runs")}
    for column, ddl in (("host", "VARCHAR(255)"), ("pid", "INTEGER")):
        if column not in have:
            conn.execute(text(f"ALTER TABLE runs ADD COLUMN {column} {ddl}"))


def _schema_only(step: Callable[[Any], None]) -> Callable[[Any, Locations], None]:
    return lambda conn, _locations: step(conn)


# MIGRATIONS[i] brings a catalog from schema version i to i + 1 (given the connection and the
# warehouse root the catalog is opened with).
MIGRATIONS: list[Callable[[Any, Locations], None]] = [
    _schema_only(_create_v1),
    _schema_only(_index_node_runs),
    _schema_only(_create_schedule_tables),
    _schema_only(_create_crawl_tables),
    _schema_only(_create_bookmark_tables),
    _relative_locations,
    _relative_bookmark_keys,
    _schema_only(_leases),
]
