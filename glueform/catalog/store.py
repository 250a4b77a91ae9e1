"""The catalog store: SQLAlchemy Core over SQLite (WAL, the default) or PostgreSQL.

Updates are optimistic, like Glue's VersionId: a table update names the version it read, and
an update against a newer version is refused. A run of a project holds a lock row, so a second
run says clearly who holds it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, insert, select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from glueform.catalog import schema as s
from glueform.catalog.bookmarks import write_bookmarks
from glueform.catalog.failures import CatalogError
from glueform.catalog.locations import Locations
from glueform.catalog.model import Build, CatalogTable, NodeState, Partition, TableVersion

# The key of PostgreSQL's advisory lock held while a catalog's schema is created or migrated.
_SCHEMA_LOCK_KEY = 0x676C7565666F726D  # "glueform"


class StaleVersionError(CatalogError):
    """An update named a table version that is no longer current (a run failure: exit 1)."""

    exit_code = 1


class LockHeldError(CatalogError):
    """Another process holds the project's run lock (a run failure: exit 1)."""

    exit_code = 1


class LeaseLostError(LockHeldError):
    """This process's lease ran out and another process took the lock over."""


DEFAULT_LEASE_SECONDS = 300.0


class CatalogStore:
    """One catalog, opened from a URL (``sqlite:///path`` or ``postgresql://...``)."""

    def __init__(
        self,
        url: str,
        warehouse: Path | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        """``warehouse``: the local warehouse root, which locations inside it are stored
        relative to (and resolved against: a moved or copied project keeps its tables);
        ``lease_seconds``: how long a lock lasts without a heartbeat (``leases.py``)."""
        self.url = url
        self.locations = Locations(warehouse)
        self.lease_seconds = lease_seconds
        self._held: dict[str, Any] = {}  # the leases this store holds (checked at each commit)
        self.engine = _connect(url)
        try:
            self._migrate()
            self._mark_dead()
        except (OperationalError, DatabaseError) as exc:
            from glueform.catalog.failures import catalog_failure

            self.engine.dispose()
            failure = catalog_failure(url, exc)
            if failure is not None:
                raise failure from None
            raise CatalogError(
                f"cannot open the catalog at {_safe(url)}: "
                + _safe(url, str(exc.orig or exc).splitlines()[0]),
                hint="check the catalog URL (or file) of the target, and that its server runs",
            ) from None

    @classmethod
    def for_path(
        cls,
        path: Path,
        warehouse: Path | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> CatalogStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}", warehouse, lease_seconds)

    def _mark_dead(self) -> None:
        """Runs whose process died (this host: its pid is gone; another host: its lease expired)
        end now, so none stays RUNNING forever (job runs: ``Workspace.catalog``, as jobruns.py
        builds on this module)."""
        from glueform.catalog import leases

        leases.mark_dead_runs(self.engine, time.time())

    def close(self) -> None:
        self.engine.dispose()

    # -- schema --------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema to this version. Creation and migration run under a lock (SQLite:
        ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock): of processes that
        open a new catalog at once, one creates it and the others wait, then find it made."""
        with self.engine.connect() as conn:
            if self._schema_version(conn) == s.SCHEMA_VERSION:
                return  # the usual case: no write lock taken
            conn.rollback()
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            version = self._schema_version(conn)  # again: another process may have done it
            if version > s.SCHEMA_VERSION:
                raise CatalogError(
                    f"the catalog at {_safe(self.url)} was written by a newer glueform (schema {version})",
                    hint="upgrade glueform",
                )
            for i in range(version, s.SCHEMA_VERSION):
                s.MIGRATIONS[i](conn, self.locations)
            if version != s.SCHEMA_VERSION:
                conn.execute(s.meta.delete().where(s.meta.c.key == "schema_version"))
                conn.execute(
                    insert(s.meta).values(key="schema_version", value=str(s.SCHEMA_VERSION))
                )
            conn.commit()

    def _schema_version(self, conn: Any) -> int:
        """The schema version the catalog records (0: empty); tables of another program are refused."""
        existing = set(self.engine.dialect.get_table_names(conn))
        if s.meta.name not in existing:
            if existing & {t.name for t in s.metadata.sorted_tables}:
                raise CatalogError(
                    f"{_safe(self.url)} holds tables that glueform did not create",
                    hint="point the target's catalog at a new file or an empty database",
                )
            return 0
        row = conn.execute(select(s.meta.c.value).where(s.meta.c.key == "schema_version")).first()
        return int(row[0]) if row else 0

    # -- databases -----------------------------------------------------------------------------

    def ensure_databases(self, names: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            _ensure_databases(conn, names, time.time(), managed=True)

    def databases(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(s.databases.c.name).order_by(s.databases.c.name)).scalars()
            )

    # -- tables --------------------------------------------------------------------------------

    def table(self, database: str, name: str) -> CatalogTable | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                _table_query().where(s.tables.c.database == database, s.tables.c.name == name)
            ).first()
        return self.locations.read_table(_table(row)) if row else None

    def tables(self, database: str | None = None) -> list[CatalogTable]:
        query = _table_query().order_by(s.tables.c.database, s.tables.c.name)
        if database:
            query = query.where(s.tables.c.database == database)
        with self.engine.connect() as conn:
            return [self.locations.read_table(_table(row)) for row in conn.execute(query)]

    def search(self, text: str) -> list[CatalogTable]:
        """Tables whose name, description or any column name or comment contains ``text``."""
        needle = text.lower()
        return [t for t in self.tables() if needle in _search_text(t)]

    def table_versions(self, database: str, name: str) -> list[TableVersion]:
        v = s.table_versions
        query = select(v.c.version, v.c.definition, v.c.created_at, v.c.run_id).where(
            v.c.database == database, v.c.name == name
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(v.c.version.desc())).all()
        return [
            TableVersion(
                r.version,
                self.locations.read_table(
                    CatalogTable.from_definition(
                        _json(r.definition),
                        version=r.version,
                        created_at=r.created_at,
                        updated_at=r.created_at,
                    )
                ),
                r.created_at,
                r.run_id,
            )
            for r in rows
        ]

    def put_table(
        self, table: CatalogTable, expected_version: int | None, run_id: str | None = None
    ) -> CatalogTable:
        """Create (``expected_version`` None) or update a table; a new version is recorded."""
        now = time.time()
        stored_form = self.locations.store_table(table)
        with self.engine.begin() as conn:
            (version,) = _put_tables(conn, [(stored_form, expected_version)], now)
            _insert_versions(conn, run_id, [(stored_form, version)], now)
        stored = self.table(table.database, table.name)
        assert stored is not None
        return stored

    def delete_table(self, database: str, name: str, expected_version: int) -> None:
        """Remove a table, its versions, partitions and build state (only at the version read)."""
        with self.engine.begin() as conn:
            _delete_table(conn, database, name, expected_version, hint="plan again")
            conn.execute(
                s.node_state.delete().where(
                    s.node_state.c.database == database, s.node_state.c.node == name
                )
            )

    def expired_locations(self, tables: Iterable[tuple[str, str]], keep: int) -> list[str]:
        """Data folders of versions older than the newest ``keep`` of ``tables``, unless a kept
        version (say, after a rollback) still uses them. Two queries, however many tables."""
        wanted = set(tables)
        t, v = s.tables, s.table_versions
        old = (
            select(v.c.database, v.c.name)
            .join(t, (t.c.database == v.c.database) & (t.c.name == v.c.name))
            .where(v.c.version <= t.c.version - keep)
            .distinct()
        )
        with self.engine.connect() as conn:
            candidates = {tuple(row) for row in conn.execute(old)} & wanted
            if not candidates:
                return []
            query = select(v.c.database, v.c.name, v.c.version, v.c.definition).where(
                v.c.database.in_({db for db, _ in candidates}),
                v.c.name.in_({n for _, n in candidates}),
            )
            rows = conn.execute(query.order_by(v.c.version.desc())).all()
        by_table: dict[tuple[str, str], list[str | None]] = {}
        for row in rows:
            if (row.database, row.name) in candidates:
                by_table.setdefault((row.database, row.name), []).append(
                    self.locations.resolved(_json(row.definition).get("location"))
                )
        expired: set[str] = set()
        for locations in by_table.values():
            kept = set(locations[:keep])
            expired |= {loc for loc in locations[keep:] if loc and loc not in kept}
        return sorted(expired)

    def partitions(self, database: str, name: str) -> list[Partition]:
        p = s.partitions
        query = select(p.c.partition_values, p.c.location, p.c.rows, p.c.bytes).where(
            p.c.database == database, p.c.table_name == name
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(p.c.values_key)).all()
        return [self.locations.read_partition(_partition(r)) for r in rows]

    def replace_partitions(self, database: str, name: str, parts: Iterable[Partition]) -> None:
        with self.engine.begin() as conn:
            stored = [self.locations.store_partition(p) for p in parts]
            _replace_partitions(conn, database, name, stored, time.time())

    # -- builds --------------------------------------------------------------------------------

    def serial(self) -> str:
        """Changes whenever any table or build state changes: what makes a saved plan stale."""
        from glueform.fingerprint import digest

        with self.engine.connect() as conn:
            tables = conn.execute(
                select(s.tables.c.database, s.tables.c.name, s.tables.c.version)
            ).all()
            states = conn.execute(select(s.node_state.c.node, s.node_state.c.fingerprint)).all()
        return digest(sorted(map(list, tables)), sorted(map(list, states)))

    def node_states(self) -> dict[str, NodeState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.node_state)).mappings().all()
        return {r["node"]: NodeState(**{**r, "upstream": _json(r["upstream"])}) for r in rows}

    def commit_builds(self, run_id: str, builds: Sequence[Build], node_runs: Iterable[Any]) -> None:
        """The atomic flip of finished builds (each output's new table version, partitions, the
        fingerprints it was built from and its bookmarks) and the run's node records, in one
        transaction.

        ``node_runs`` are objects with ``name, status, rows, seconds, message``.
        """
        now = time.time()
        with self.engine.begin() as conn:
            self._check_leases(conn, now)
            changed = [
                (self.locations.store_table(b.table), b.expected_version)
                for b in builds
                if b.table is not None
            ]
            versions = _put_tables(conn, changed, now)
            _insert_versions(
                conn, run_id, [(t, v) for (t, _), v in zip(changed, versions, strict=True)], now
            )
            for build in builds:
                if build.partitions is not None:
                    parts = [self.locations.store_partition(p) for p in build.partitions]
                    _replace_partitions(conn, build.state.database, build.state.node, parts, now)
            marks = [m for b in builds for m in b.bookmarks]
            if marks:
                write_bookmarks(conn, run_id, marks, now)
            if builds:
                nodes = [b.state.node for b in builds]
                conn.execute(s.node_state.delete().where(s.node_state.c.node.in_(nodes)))
                conn.execute(insert(s.node_state), [_state_row(b.state) for b in builds])
            rows = [
                {"run_id": run_id, "node": r.name, "status": r.status, "rows": r.rows, "seconds": r.seconds, "message": r.message}
                for r in node_runs
            ]  # fmt: skip
            if rows:
                conn.execute(insert(s.node_runs), rows)

    # -- runs ----------------------------------------------------------------------------------

    def begin_run(self, target: str, command: str) -> str:
        run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.runs).values(
                    id=run_id,
                    target=target,
                    command=command,
                    status="running",
                    started_at=time.time(),
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
            )
        return run_id

    def finish_run(self, run_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.runs)
                .where(s.runs.c.id == run_id)
                .values(status=status, finished_at=time.time())
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(select(s.runs).order_by(s.runs.c.started_at.desc()).limit(limit))
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def run_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids of transform runs that start with ``prefix`` (a user may type only the start)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = select(s.runs.c.id).where(s.runs.c.id.like(pattern, escape="\\")).limit(limit)
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query)]

    def node_runs(self, run_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The node records of the given runs (what each built, its status, rows and seconds)."""
        query = select(s.node_runs).where(s.node_runs.c.run_id.in_(list(run_ids)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- locks ---------------------------------------------------------------------------------

    @contextmanager
    def lock(self, name: str, wait: float = 0.0) -> Iterator[None]:
        """Hold ``name`` as a lease for the duration (renewed by a heartbeat; see ``leases.py``),
        waiting up to ``wait`` seconds for another holder; an expired or dead one is taken over."""
        from glueform.catalog import leases

        deadline = time.monotonic() + wait
        while True:
            got = leases.try_acquire(self.engine, name, self.lease_seconds)
            if isinstance(got, leases.Held):
                break
            if time.monotonic() >= deadline:
                raise LockHeldError(_held_message(got), hint=_held_hint(got, wait))
            time.sleep(min(leases.POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
        heartbeat = leases.Heartbeat(self.engine, got)
        self._held[name] = got
        try:
            yield
        finally:
            heartbeat.stop()
            del self._held[name]
            leases.release(self.engine, got)

    def _check_leases(self, conn: Any, now: float) -> None:
        """Inside a commit: every lease this store holds is still ours (renewed, in the same
        transaction), or the commit is refused: another process took the lock over."""
        from glueform.catalog import leases

        for held in self._held.values():
            if not leases.renew(conn, held, now):
                raise LeaseLostError(
                    f"the lock {held.name} was taken over by another process: this process did "
                    f"not renew it within its lease ({held.seconds / 60:g} minutes)",
                    hint="nothing of this commit was written; run again (raise the target's "
                    "lock_lease_minutes if a run can stall that long)",
                )


def _held_message(holder: Any) -> str:
    return (
        f"another run holds the lock {holder.name}: pid {holder.pid} on {holder.host}, since "
        f"{_clock(holder.since)} (lease renewed {_clock(holder.heartbeat_at)}, "
        f"expires {_clock(holder.expires_at)})"
    )


def _held_hint(holder: Any, wait: float) -> str:
    waited = f"waited {wait:g}s; " if wait else ""
    return (
        f"{waited}wait for it to finish (run --lock-wait SECONDS waits); if that process is gone "
        f"the lock is taken over when its lease expires, or release it now: "
        f"glueform catalog unlock {holder.name}"
    )


def _clock(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _put_tables(
    conn: Any, items: Sequence[tuple[CatalogTable, int | None]], now: float
) -> list[int]:
    """Create or update many tables in one transaction; returns each one's new version."""
    t = s.tables
    new = [table for table, expected in items if expected is None]
    if new:
        try:
            conn.execute(
                insert(t),
                [
                    {
                        "database": x.database,
                        "name": x.name,
                        "table_type": x.table_type,
                        "definition": x.definition(),
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for x in new
                ],
            )
        except IntegrityError:
            raise StaleVersionError(
                "a table this run creates was created by someone else meanwhile",
                hint="run again: the catalog changed since the run started",
            ) from None
    statement = (
        update(t)
        .where(
            t.c.database == bindparam("b_database"),
            t.c.name == bindparam("b_name"),
            t.c.version == bindparam("b_version"),
        )
        .values(
            table_type=bindparam("b_type"),
            definition=bindparam("b_definition"),
            version=t.c.version + 1,
            updated_at=now,
        )
    )
    for table, expected in items:
        if expected is None:
            continue
        result = conn.execute(
            statement,
            {
                "b_database": table.database,
                "b_name": table.name,
                "b_version": expected,
                "b_type": table.table_type,
                "b_definition": table.definition(),
            },
        )
        if result.rowcount != 1:
            raise StaleVersionError(
                f"{table.key} changed meanwhile: expected version {expected}",
                hint="another process updated it; run or plan again",
            )
    return [1 if expected is None else expected + 1 for _, expected in items]


def _state_row(state: NodeState) -> dict[str, Any]:
    return {
        "node": state.node, "database": state.database, "kind": state.kind, "fingerprint": state.fingerprint,
        "sql_hash": state.sql_hash, "config_hash": state.config_hash, "upstream": dict(state.upstream),
        "run_id": state.run_id, "built_at": state.built_at, "rows": state.rows,
    }  # fmt: skip


def _replace_partitions(
    conn: Any, database: str, name: str, parts: Iterable[Partition], now: float
) -> None:
    p = s.partitions
    conn.execute(p.delete().where(p.c.database == database, p.c.table_name == name))
    _insert_partitions(conn, [(database, name, part) for part in parts], now)


def _insert_partitions(conn: Any, parts: Iterable[tuple[str, str, Partition]], now: float) -> None:
    """Add partitions, each as (database, table name, partition)."""
    values = [
        {"database": database, "table_name": name, "values_key": json.dumps(list(part.values)), "partition_values": list(part.values),
         "location": part.location, "rows": part.rows, "bytes": part.bytes, "created_at": now}
        for database, name, part in parts
    ]  # fmt: skip
    if values:
        conn.execute(insert(s.partitions), values)


def _partition(row: Any) -> Partition:
    """A partition from a row with partition_values, location, rows and bytes."""
    return Partition(tuple(_json(row.partition_values)), row.location, row.rows, row.bytes)


def _ensure_databases(conn: Any, names: Iterable[str], now: float, managed: bool) -> None:
    """Create the databases that do not exist yet (``managed``: created by the project)."""
    have = set(conn.execute(select(s.databases.c.name)).scalars())
    for name in sorted(set(names) - have):
        conn.execute(
            insert(s.databases).values(name=name, description="", managed=managed, created_at=now)
        )


def _delete_table(conn: Any, database: str, name: str, expected_version: int, hint: str) -> None:
    """Remove a table with its versions and partitions, only at the version read."""
    t = s.tables
    result = conn.execute(
        t.delete().where(
            t.c.database == database, t.c.name == name, t.c.version == expected_version
        )
    )
    if result.rowcount != 1:
        raise StaleVersionError(f"{database}.{name} changed meanwhile", hint=hint)
    for table, col in ((s.table_versions, "name"), (s.partitions, "table_name")):
        conn.execute(table.delete().where(table.c.database == database, table.c[col] == name))


def _insert_versions(
    conn: Any, run_id: str | None, items: Sequence[tuple[CatalogTable, int]], now: float
) -> None:
    if items:
        conn.execute(
            insert(s.table_versions),
            [
                {
                    "database": t.database,
                    "name": t.name,
                    "version": v,
                    "definition": t.definition(),
                    "created_at": now,
                    "run_id": run_id,
                }
                for t, v in items
            ],
        )


def _table_query() -> Any:
    t = s.tables
    return select(t.c.definition, t.c.version, t.c.created_at, t.c.updated_at)


def _table(row: Any) -> CatalogTable:
    return CatalogTable.from_definition(
        _json(row.definition),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _search_text(t: CatalogTable) -> str:
    parts = [
        t.database,
        t.name,
        t.description,
        *(c.name for c in t.columns),
        *(c.comment for c in t.columns),
    ]
    return " ".join(parts).lower()


def _safe(url: str, text: str | None = None) -> str:
    """The URL fit for messages (its password hidden, whatever the URL), or ``text`` with the
    URL's password masked."""
    from glueform.secrets import mask_url, url_secrets

    if text is None:
        return mask_url(url)
    return url_secrets("catalog password", url).redact(text)


def _connect(url: str) -> Engine:
    from glueform.secrets import quote_password

    url = quote_password(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad URL syntax (a port that is no number), missing driver
        raise CatalogError(
            f"cannot use catalog URL {_safe(url)}: {_safe(url, str(exc))}",
            hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    import sqlite3

    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    # Switching a new file to WAL needs the file to itself and may fail at once with "database
    # is locked" while another process creates the catalog, without waiting the busy timeout.
    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
