"""DuckDB, in-process: the embedded default engine.

Each run opens an in-memory database; sources and committed outputs are registered as views over
their files, so the catalog (not a DuckDB file) is the source of truth and two processes never
fight over a database lock. Tables are written with ``COPY ... TO`` as Parquet.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from glueform.catalog.model import EXTERNAL_TABLE, CatalogTable, ColumnDef, Partition
from glueform.compile.dag import Graph, Node
from glueform.engines import BuildOutput
from glueform.engines.incremental import Increment, NewRows, build_next_version
from glueform.errors import UserError
from glueform.project.model import Target
from glueform.sql import (
    cast_columns,
    literal,
    normalize_type,
    quote_identifier,
    quote_relation,
    stored_types,
    string_literal,
)
from glueform.sql.scans import duckdb_scan

DIALECT = "duckdb"
# Tables are unordered sets (as on Spark): not keeping scan order makes COPY faster and leaner.
# A query's own ORDER BY is still honoured.
DEFAULT_SETTINGS = {"preserve_insertion_order": False}
_EXTENSIONS = {"avro": "avro"}  # format -> DuckDB extension, loaded from its PyPI wheel
# (and httpfs, for s3:// locations, from duckdb-extension-httpfs)
_EXTRAS = {"avro": "avro", "httpfs": "s3"}  # the glueform extra that installs each


class DuckDBEngine:
    name = "duckdb"
    dialect = DIALECT
    SUPPORTS_PARALLEL_BUILDS = True

    def __init__(self, target: Target, project_root: Path) -> None:
        self.target = target
        self.project_root = project_root
        self._conn: Any = None
        self._local = threading.local()
        self._cursors: list[Any] = []
        self._lock = threading.Lock()
        self._session: Any = None
        self._s3_ready = False
        self._dialects: dict[tuple[str, str, str | None], CatalogTable] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def open(self) -> None:
        import duckdb

        self._conn = duckdb.connect(":memory:")
        settings = {**DEFAULT_SETTINGS, "TimeZone": self.target.timezone, **self.target.settings}
        for key, value in settings.items():
            try:
                self._conn.execute(f"SET {quote_identifier(key, DIALECT)} = {_literal(value)}")
            except duckdb.Error as exc:  # memory_limit: banana, an unknown setting
                raise UserError(
                    f"engine setting {key}: {value!r} is refused by DuckDB: "
                    + str(exc).splitlines()[0],
                    self.target.setting_locations.get(key),
                    hint="fix or remove it in the target's settings (they are DuckDB's SET "
                    "options)",
                ) from None

    def interrupt(self) -> None:
        """Stop queries in flight (on Ctrl-C) so the run ends now, committing nothing more."""
        with self._lock:
            for cur in self._cursors:
                cur.interrupt()

    def close(self) -> None:
        self._cursors.clear()
        self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _cursor(self) -> Any:
        """One cursor per thread: DuckDB connections are not shared across threads."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._conn.cursor()
            with self._lock:
                self._cursors.append(cur)
        return cur

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement and fetch all of its rows (DuckDB 1.5 wants results fully fetched)."""
        rows: list[tuple[Any, ...]] = self._cursor().execute(sql).fetchall()
        return rows

    # -- registration --------------------------------------------------------------------------

    def create_databases(self, names: set[str]) -> None:
        for name in sorted(names):
            self.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(name, DIALECT)}")

    def register(self, table: CatalogTable) -> None:
        """A view over a catalog table: its files (sources), its current version, or its SQL."""
        if table.is_view:
            assert table.view_sql is not None
            select_sql = table.view_sql
        elif table.table_type == EXTERNAL_TABLE:
            if table.format in _EXTENSIONS:
                self._load_extension(_EXTENSIONS[table.format])
            if (table.location or "").startswith("s3://"):
                self._reach_s3()
            if table.format == "csv":
                self._register_csv(self._csv(table))
                return
            select_sql = external_scan(table)
        else:
            assert table.location is not None
            select_sql = _parquet_scan(table.location, partitioned=bool(table.partition_keys))
        self._create_view(table.database, table.name, select_sql)

    def _csv(self, table: CatalogTable) -> CatalogTable:
        """A CSV table with its dialect fixed (``csv_files.py``), found once per run."""
        from glueform.engines.csv_files import with_dialect

        key = (table.database, table.name, table.location)
        if key not in self._dialects:
            self._dialects[key] = with_dialect(table)
        return self._dialects[key]

    def _register_csv(self, table: CatalogTable) -> None:
        """Creating the view sniffs the files: a file that cannot be read as declared fails
        here, and is named with its row."""
        from glueform.engines.csv_files import diagnose

        try:
            self._create_view(table.database, table.name, external_scan(table))
        except Exception as exc:
            problem = diagnose(table)
            if problem is None:
                raise
            raise ValueError(problem) from exc

    def _reach_s3(self) -> None:
        """httpfs and an S3 secret from the target's ``s3:`` settings and the standard AWS
        variables (once per run; the secret lives only in this in-memory database)."""
        import os
        from urllib.parse import urlsplit

        if self._s3_ready:
            return
        self._load_extension("httpfs")
        settings = self.target.s3
        options: dict[str, Any] = {}
        env = {"KEY_ID": "AWS_ACCESS_KEY_ID", "SECRET": "AWS_SECRET_ACCESS_KEY",
               "SESSION_TOKEN": "AWS_SESSION_TOKEN"}  # fmt: skip
        options |= {k: os.environ[v] for k, v in env.items() if os.environ.get(v)}
        region = (
            settings.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        )
        if region:
            options["REGION"] = region
        if settings.endpoint_url:  # a local or compatible server: path-style URLs
            url = urlsplit(settings.endpoint_url)
            options |= {
                "ENDPOINT": url.netloc,
                "URL_STYLE": "path",
                "USE_SSL": url.scheme == "https",
            }
        body = ", ".join(f"{k} {_literal(v)}" for k, v in options.items())
        self.execute(f"CREATE OR REPLACE SECRET glueform_s3 (TYPE s3, {body})")
        self._s3_ready = True

    def _load_extension(self, name: str) -> None:
        """``INSTALL '<file in the duckdb-extension-NAME wheel>'; LOAD NAME``: no download."""
        import importlib.util

        spec = importlib.util.find_spec(f"duckdb_extension_{name}")
        found = (
            sorted(Path(spec.origin).parent.glob(f"extensions/*/{name}.duckdb_extension"))
            if spec and spec.origin
            else []
        )
        if not found:
            raise ValueError(
                f"reading {name} needs the duckdb-extension-{name} package: pip install 'glueform[{_EXTRAS[name]}]'"
            )
        self.execute(f"INSTALL {string_literal(str(found[-1]), DIALECT)}")
        self.execute(f"LOAD {name}")

    def _create_view(self, database: str, name: str, select_sql: str) -> None:
        self.execute(
            f"CREATE OR REPLACE VIEW {quote_relation(database, name, DIALECT)} AS {select_sql}"
        )

    # -- building ------------------------------------------------------------------------------

    def build(self, node: Node, sql: str, location: str) -> BuildOutput:
        if node.materialized == "view":
            self._create_view(node.database, node.name, sql)
            return BuildOutput(None, None, sql, self.columns(node.database, node.name))
        return self._write(node, sql, location)

    def _write(
        self, node: Node, sql: str, location: str, link: Callable[[], Any] | None = None
    ) -> BuildOutput:
        """COPY the query into the version folder; ``link`` then adds the previous version's
        files (an increment that does not rewrite them), and the rows are counted from footers."""
        Path(location).mkdir(parents=True, exist_ok=True)
        sql, stored = self._stored(node, sql)
        stem = f"data_{Path(location).name}" if link else "data"
        if node.partition_by:
            keys = ", ".join(quote_identifier(c, DIALECT) for c in node.partition_by)
            pattern = string_literal(stem + "_{i}", DIALECT)
            options = f"FORMAT parquet, PARTITION_BY ({keys}), FILENAME_PATTERN {pattern}"
            target = location
        else:
            options, target = "FORMAT parquet", f"{location}/{stem}_0.parquet"
        rows = self.execute(f"COPY ({sql}) TO {string_literal(target, DIALECT)} ({options})")
        if link is not None:
            link()
        scan = _parquet_scan(location, bool(node.partition_by))
        self._create_view(node.database, node.name, scan)
        if link is not None:
            rows = self.execute(
                f"SELECT count(*) FROM {quote_relation(node.database, node.name, DIALECT)}"
            )
        # as written; a partition key's type is what readers infer from its folders' names
        columns = self.columns(node.database, node.name) if node.partition_by or link else stored
        keys_set = set(node.partition_by)
        return BuildOutput(
            rows=int(rows[0][0]) if rows else None,
            location=location,
            view_sql=None,
            columns=tuple(c for c in columns if c.name not in keys_set),
            partition_keys=tuple(c for k in node.partition_by for c in columns if c.name == k),
            partitions=self._partitions(node, location) if node.partition_by else (),
        )

    def build_incremental(
        self, node: Node, sql: str, location: str, increment: Increment
    ) -> BuildOutput:
        """The next version is written by one COPY (see ``build_next_version``)."""
        return build_next_version(
            increment,
            location,
            DIALECT,
            self._new_rows(node, sql),
            self.execute,
            lambda combined, link: self._write(node, combined, location, link),
        )

    @contextmanager
    def _new_rows(self, node: Node, sql: str) -> Iterator[NewRows]:
        """The new rows as a table (the sources are read once), seen through a view that casts
        them to their stored types; both dropped afterwards."""
        raw = quote_identifier(f"glueform_new__{node.database}__{node.name}", DIALECT)
        new = quote_identifier(f"glueform_new__{node.database}__{node.name}__stored", DIALECT)
        try:
            self.execute(f"CREATE OR REPLACE TABLE {raw} AS {sql}")
            stored = self._stored(node, f"SELECT * FROM {raw}")[0]
            self.execute(f"CREATE OR REPLACE VIEW {new} AS {stored}")
            columns = [(n, t) for n, t, *_ in self.execute(f"DESCRIBE {new}")]
            yield NewRows(
                new, columns, lambda: int(self.execute(f"SELECT count(*) FROM {new}")[0][0])
            )
        finally:
            self.execute(f"DROP VIEW IF EXISTS {new}")
            self.execute(f"DROP TABLE IF EXISTS {raw}")

    def register_files(self, name: str, table: CatalogTable, files: list[str]) -> str:
        """A source over the listed files only (what a bookmark says is new), inlined as a
        subquery: a view or macro would be bound (its files sniffed) once more when created."""
        if table.format in _EXTENSIONS:
            self._load_extension(_EXTENSIONS[table.format])
        if table.format == "csv":
            table = self._csv(table)
        return f"({external_scan(table, files)})"

    def register_view(self, name: str, select_sql: str) -> str:
        relation = quote_identifier(name, DIALECT)
        self.execute(f"CREATE OR REPLACE VIEW {relation} AS {select_sql}")
        return relation

    def value(self, sql: str) -> Any:
        rows = self.execute(sql)
        return rows[0][0] if rows else None

    def build_python(
        self, node: Node, graph: Graph, location: str, vars: Mapping[str, Any]
    ) -> BuildOutput:
        """The transform runs on sqlframe over this run's connection; its DataFrame becomes
        SQL that is built like any model's (no rows pass through Python)."""
        from sqlframe.duckdb import functions
        from sqlframe.duckdb.dataframe import DuckDBDataFrame

        from glueform.transforms.runtime import call_transform

        with self._lock:  # sqlframe keeps one session per process
            session = self._sqlframe_session()

            def table(database: str, name: str) -> Any:
                return session.table(quote_relation(database, name, DIALECT))

            frame = call_transform(node, graph, table, functions, DuckDBDataFrame, self.name, vars)
            sql = frame.sql(dialect=DIALECT, optimize=False, pretty=False)
        return self.build(node, sql, location)

    def _sqlframe_session(self) -> Any:
        """sqlframe's (process-wide) session, bound to this run's database."""
        from sqlframe.base.session import _BaseSession
        from sqlframe.duckdb import DuckDBSession

        if self._session is None:
            _BaseSession._instance = None  # a session of an earlier run holds a closed database
            self._session = DuckDBSession(conn=self._conn.cursor())
        return self._session

    def _stored(self, node: Node, sql: str) -> tuple[str, tuple[ColumnDef, ...]]:
        """The query with its columns cast to their declared or storage types (see
        storage_type), and the columns it then has."""
        columns = [(name, type_) for name, type_, *_ in self.execute(f"DESCRIBE ({sql})")]
        wanted = stored_types(columns, node.declared_types)
        exprs = cast_columns(columns, wanted, DIALECT)
        stored = tuple(ColumnDef(n, normalize_type(wanted[n], DIALECT)) for n, _ in columns)
        if exprs is None:
            return sql, stored
        return f"SELECT {', '.join(exprs)} FROM ({sql}) AS stored", stored

    def columns(self, database: str, name: str) -> tuple[ColumnDef, ...]:
        rows = self.execute(f"DESCRIBE {quote_relation(database, name, DIALECT)}")
        return tuple(ColumnDef(name, normalize_type(type_, DIALECT)) for name, type_, *_ in rows)

    def _partitions(self, node: Node, location: str) -> tuple[Partition, ...]:
        """Each partition folder with its values, rows (from the Parquet footers) and bytes."""
        from glueform.parquet import file_rows

        folders: dict[str, list[int]] = {}
        for file in sorted(Path(location).rglob("*.parquet")):
            entry = folders.setdefault(str(file.parent), [0, 0])
            entry[0] += file_rows(file)
            entry[1] += file.stat().st_size
        out = []
        for folder, (count, size) in sorted(folders.items()):
            parts = Path(folder).relative_to(location).parts
            values = tuple(unquote(p.split("=", 1)[1]) for p in parts)
            out.append(Partition(values, folder, count, size))
        return tuple(out)

    def discard(self, location: str) -> None:
        """Remove a version folder that was never committed."""
        shutil.rmtree(location, ignore_errors=True)


def external_scan(table: CatalogTable, files: list[str] | None = None) -> str:
    """A read of a source's files (``sql.scans.duckdb_scan``: the one spelling of it, which
    validate's binding uses too)."""
    assert table.location is not None and table.format is not None
    return duckdb_scan(
        table.location,
        table.format,
        table.options,
        table.declared_types,
        [c.name for c in table.partition_keys],
        files,
    )


def _parquet_scan(location: str, partitioned: bool = False) -> str:
    """A scan of a table's version folder; partition folders become columns (with pruning)."""
    if partitioned:
        files = string_literal(f"{location}/**/*.parquet", DIALECT)
        return f"SELECT * FROM read_parquet({files}, hive_partitioning = true)"
    files = string_literal(
        location if location.endswith(".parquet") else f"{location}/*.parquet", DIALECT
    )
    return f"SELECT * FROM read_parquet({files})"


def _literal(value: Any) -> str:
    return literal(value, DIALECT)
