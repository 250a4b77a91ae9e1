"""Apache Spark: ``local[*]``, a master URL, or Spark Connect (``sc://``) for clusters.

The project's SQL is transpiled by sqlglot to Spark SQL; tables are written as Parquet in the
same versioned layout as on DuckDB and registered in the same catalog. One Spark session serves
a whole process (it is costly to start); each run replaces the databases it registers.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from glueform.catalog.model import EXTERNAL_TABLE, CatalogTable, ColumnDef, Partition
from glueform.compile.dag import Graph, Node
from glueform.engines import BuildOutput
from glueform.engines.incremental import (
    Increment,
    combine_sql,
    duplicate_key_error,
    duplicate_key_sql,
    link_previous,
    links_previous,
)
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
    type_sql,
)

DIALECT = "spark"
# Spark's reader names and options for the formats sources declare (DuckDB spells some apart).
_FORMATS = {"parquet": "parquet", "csv": "csv", "json": "json", "ndjson": "json"}
_OPTION_NAMES = {"delim": "sep", "delimiter": "sep"}
# Fast start (C1 only, serial GC); a long session generates much code: room for it.
_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m"


class SparkEngine:
    name = "spark"
    dialect = DIALECT
    SUPPORTS_PARALLEL_BUILDS = False  # Spark parallelises inside each job

    def __init__(self, target: Target, project_root: Path) -> None:
        self.target = target
        self.project_root = project_root
        self.spark: Any = None
        self._csv_tables: dict[tuple[str, str, str | None], CatalogTable] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def open(self) -> None:
        self.spark = spark_session(self.target, self.project_root)

    def close(self) -> None:
        """The session stays for the next run of this process; nothing of this run is open."""

    def interrupt(self) -> None:
        if self.spark is not None:
            self.spark.interruptAll()  # classic and Spark Connect sessions alike

    def sql(self, statement: str) -> Any:
        return self.spark.sql(statement)

    # -- registration --------------------------------------------------------------------------

    def create_databases(self, names: set[str]) -> None:
        for name in sorted(names):
            db = quote_identifier(name, DIALECT)
            self.sql(f"DROP DATABASE IF EXISTS {db} CASCADE")  # nothing of an earlier run leaks in
            self.sql(f"CREATE DATABASE {db}")

    def register(self, table: CatalogTable) -> None:
        relation = quote_relation(table.database, table.name, DIALECT)
        if table.is_view:
            assert table.view_sql is not None
            self.sql(f"CREATE OR REPLACE VIEW {relation} AS {table.view_sql}")
        elif table.table_type == EXTERNAL_TABLE:
            self._register_files(relation, table)
        else:
            assert table.location is not None
            self.sql(
                f"CREATE OR REPLACE VIEW {relation} AS SELECT * FROM parquet.`{table.location}`"
            )

    def _csv(self, table: CatalogTable) -> CatalogTable:
        """A CSV table with its dialect fixed (``csv_files.py``), remembered so that a
        malformed row met while building can be named with its file."""
        from glueform.engines.csv_files import with_dialect

        key = (table.database, table.name, table.location)
        if key not in self._csv_tables:
            self._csv_tables[key] = with_dialect(table)
        return self._csv_tables[key]

    @contextmanager
    def _csv_rows_named(self) -> Iterator[None]:
        """Spark's FAILFAST names a malformed CSV record, not its file nor its line: find them."""
        from glueform.engines.csv_files import diagnose

        try:
            yield
        except Exception as exc:
            if "MALFORMED_CSV_RECORD" not in str(exc):
                raise
            for table in self._csv_tables.values():
                problem = diagnose(table)
                if problem:
                    raise ValueError(problem) from exc
            raise

    def _register_files(self, relation: str, table: CatalogTable) -> None:
        """A source's files as a table; with declared column types, a view casting them over
        a table of the files (a CSV then read as text, as on DuckDB)."""
        if table.format == "csv":
            table = self._csv(table)
        declared = table.declared_types
        files = quote_relation(table.database, f"{table.name}__files", DIALECT)
        target = files if declared else relation
        with self._csv_rows_named():  # inferring the schema reads the files
            self.sql(_external_table(target, table, infer=not declared))
        if _hive_partitioned(table):  # a partitioned catalog table shows no rows until then
            self.sql(f"ALTER TABLE {target} RECOVER PARTITIONS")
        if not declared:
            return
        columns = [(f.name, f.dataType.simpleString()) for f in self.spark.table(files).schema]
        exprs = cast_columns(columns, declared, DIALECT) or [
            quote_identifier(n, DIALECT) for n, _ in columns
        ]
        exprs += _folder_columns(table, {n for n, _ in columns})
        self.sql(f"CREATE OR REPLACE VIEW {relation} AS SELECT {', '.join(exprs)} FROM {files}")

    # -- building ------------------------------------------------------------------------------

    def build(self, node: Node, sql: str, location: str) -> BuildOutput:
        relation = quote_relation(node.database, node.name, DIALECT)
        if node.materialized == "view":
            self.sql(f"CREATE OR REPLACE VIEW {relation} AS {sql}")
            return BuildOutput(None, None, sql, self.columns(node.database, node.name))
        with self._csv_rows_named():
            return self._write(node, self.sql(sql), location)

    def build_python(
        self, node: Node, graph: Graph, location: str, vars: Mapping[str, Any]
    ) -> BuildOutput:
        from pyspark.sql import DataFrame, functions

        from glueform.transforms.runtime import call_transform

        def table(database: str, name: str) -> Any:
            return self.spark.table(quote_relation(database, name, DIALECT))

        frame = call_transform(node, graph, table, functions, DataFrame, self.name, vars)
        with self._csv_rows_named():
            return self._write(node, frame, location)

    def build_incremental(
        self, node: Node, sql: str, location: str, increment: Increment
    ) -> BuildOutput:
        with self._csv_rows_named():
            return self._increment(node, sql, location, increment)

    def _increment(self, node: Node, sql: str, location: str, increment: Increment) -> BuildOutput:
        """The new rows are cached once (checks and the combination read them); the next
        version is written like any table."""
        from dataclasses import replace

        new_frame = self._stored(node, self.sql(sql)).cache()
        view = f"glueform_new__{node.database}__{node.name}"
        new_frame.createOrReplaceTempView(view)
        new = quote_identifier(view, DIALECT)
        try:
            if increment.strategy == "merge":
                found = self.sql(duplicate_key_sql(increment, new, DIALECT)).collect()
                if found:
                    raise duplicate_key_error(increment, tuple(found[0]))
            columns = [(c.name, c.type) for c in _column_defs(new_frame.schema)]
            added = new_frame.count()
            link = None
            if links_previous(increment, columns):
                assert increment.previous is not None
                previous, overwrite = increment.previous, increment.strategy == "insert_overwrite"
                link = lambda: link_previous(previous, location, overwrite)  # noqa: E731
            combined = self.sql(combine_sql(increment, new, columns, DIALECT))
            output = self._write(node, combined, location, link)
        finally:
            self.spark.catalog.dropTempView(view)
            new_frame.unpersist()
        return replace(output, added=int(added))

    def register_files(self, name: str, table: CatalogTable, files: list[str]) -> str:
        """A source over the listed files only (what a bookmark says is new), as a temporary
        view; declared column types are cast as for the whole source."""
        assert table.format is not None and table.location is not None
        if table.format == "csv":
            table = self._csv(table)
        options = {k: v for k, v in _reader_options(table).items() if k != "path"}
        if table.partition_keys:
            from glueform.catalog.locations import files_root

            options["basePath"] = files_root(table.location)
        reader = self.spark.read.format(_FORMATS[table.format])
        for key, value in options.items():
            reader = reader.option(key, str(value).lower() if isinstance(value, bool) else value)
        frame = reader.load(files)
        declared = table.declared_types
        columns = [(f.name, f.dataType.simpleString()) for f in frame.schema]
        exprs = cast_columns(columns, declared, DIALECT) if declared else None
        (frame.selectExpr(*exprs) if exprs else frame).createOrReplaceTempView(name)
        return quote_identifier(name, DIALECT)

    def register_view(self, name: str, select_sql: str) -> str:
        relation = quote_identifier(name, DIALECT)
        self.sql(f"CREATE OR REPLACE TEMPORARY VIEW {relation} AS {select_sql}")
        return relation

    def value(self, sql: str) -> Any:
        rows = self.sql(sql).collect()
        return rows[0][0] if rows else None

    def _write(
        self, node: Node, frame: Any, location: str, link: Callable[[], Any] | None = None
    ) -> BuildOutput:
        """Write the frame; ``link`` then adds the previous version's files (an increment that
        does not rewrite them). Rows are counted from the files' footers where they are local;
        a remote warehouse counts them while writing (an Observation: about 20% slower)."""
        import uuid

        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        relation = quote_relation(node.database, node.name, DIALECT)
        stored = self._stored(node, frame)
        local = "://" not in location
        counted = None if local else Observation(f"glueform_{uuid.uuid4().hex}")
        writer = (stored if counted is None else stored.observe(counted, F.count(F.lit(1)))).write
        writer = writer.mode("error")  # never over an existing version
        if node.partition_by:
            writer = writer.partitionBy(*node.partition_by)
        writer.parquet(location)
        if link is not None:
            link()
        self.sql(f"CREATE OR REPLACE VIEW {relation} AS SELECT * FROM parquet.`{location}`")
        if local:
            rows = _footer_rows(Path(location))
        elif link is None:
            rows = next(iter(counted.get.values()))
        else:
            rows = self.spark.table(relation).count()
        columns = _column_defs(stored.schema)
        keys = set(node.partition_by)
        return BuildOutput(
            rows=int(rows),
            location=location,
            view_sql=None,
            columns=tuple(c for c in columns if c.name not in keys),
            partition_keys=tuple(c for k in node.partition_by for c in columns if c.name == k),
            partitions=_partitions(Path(location), node.partition_by) if node.partition_by else (),
        )

    def _stored(self, node: Node, frame: Any) -> Any:
        """The frame with its columns cast to their declared or storage types (see storage_type)."""
        columns = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
        wanted = stored_types(columns, node.declared_types, DIALECT)
        exprs = cast_columns(columns, wanted, DIALECT)
        return frame if exprs is None else frame.selectExpr(*exprs)

    def columns(self, database: str, name: str) -> tuple[ColumnDef, ...]:
        return _column_defs(self.spark.table(quote_relation(database, name, DIALECT)).schema)

    def discard(self, location: str) -> None:
        shutil.rmtree(location, ignore_errors=True)


def spark_session(target: Target, project_root: Path) -> Any:
    """The process's Spark session for ``target`` (created once; pyspark imported only here)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError(
            "the spark engine needs pyspark", hint="pip install 'glueform[spark]'"
        ) from None
    settings = target.spark
    _check_reachable(settings.remote or settings.master)
    builder = SparkSession.builder.appName(f"glueform-{project_root.name}")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        _check_java()
        builder = builder.master(settings.master)
        state = (target.state_dir / "spark").resolve()
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.warehouse.dir", str(state / "warehouse"))
            .config("spark.driver.extraJavaOptions", f"{_JVM_OPTIONS} -Dderby.system.home={state}")
            .config("spark.sql.shuffle.partitions", "4")
        )
    builder = builder.config("spark.sql.session.timeZone", target.timezone)
    for key, value in settings.conf.items():
        builder = builder.config(key, str(value))
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        where = settings.remote or settings.master
        raise UserError(
            f"cannot start a Spark session on {where}: {str(exc).splitlines()[0]}",
            hint="check the target's spark: settings",
        ) from None
    if not settings.remote:
        session.sparkContext.setLogLevel("OFF")  # errors reach the user through glueform, once
    _quiet_python_loggers()
    return session


def _quiet_python_loggers() -> None:
    """pyspark also logs each failed query's stack to stderr; glueform reports the error once."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


MIN_JAVA = 17  # Spark 4


def _check_java() -> None:
    """Spark 4 needs Java 17+; an older one fails deep in the JVM's start with a class-version
    error, so say it first. (JAVA_HOME wins over PATH, as in Spark's own scripts.)"""
    import os
    import re
    import subprocess

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    hint = f"install Java {MIN_JAVA} or newer, e.g. apt-get install openjdk-17-jre-headless"
    if not java or not Path(java).exists():
        raise UserError(f"the spark engine needs Java ({MIN_JAVA} or newer) on PATH", hint=hint)
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(found.group(1)) if found else MIN_JAVA
    if major == 1 and found and found.group(2):  # "1.8.0_392" is Java 8
        major = int(found.group(2))
    if major < MIN_JAVA:
        raise UserError(
            f"the spark engine needs Java {MIN_JAVA} or newer; {java} is Java {major}", hint=hint
        )


def _check_reachable(url: str) -> None:
    """Spark retries an absent master for a minute; a TCP probe says so in seconds."""
    import socket
    from urllib.parse import urlsplit

    if not url.startswith(("spark://", "sc://")):
        return  # local[*], yarn, k8s://...: Spark's own checks
    for address in url.split("://", 1)[1].split(","):  # spark://a:7077,b:7077 (standby masters)
        parts = urlsplit(f"//{address}")
        try:
            with socket.create_connection((parts.hostname or "", parts.port or 7077), timeout=3):
                return
        except OSError:
            continue
    raise UserError(
        f"the Spark master at {url} does not answer",
        hint="check that it runs and the target's spark: master/remote",
    )


def _column_defs(schema: Any) -> tuple[ColumnDef, ...]:
    return tuple(
        ColumnDef(f.name, normalize_type(f.dataType.simpleString(), DIALECT, to="duckdb"))
        for f in schema.fields
    )


def _reader_options(table: CatalogTable, infer: bool = False) -> dict[str, Any]:
    """Spark's reader options for a source (its own, renamed, and glueform's defaults)."""
    options: dict[str, Any] = {"path": table.location}
    for key, value in table.options.items():
        options[_OPTION_NAMES.get(key, key)] = value
    if _hive_partitioned(table) and _GLOB.search(table.location):
        # key=value folders: Spark discovers them from the root folder, not from a glob; the
        # glob's file pattern (*.csv) still applies
        root, pattern = _GLOB.split(table.location, 1)[0], table.location.rsplit("/", 1)[-1]
        options["path"] = root
        if _GLOB.search("/" + pattern):
            options.setdefault("pathGlobFilter", pattern)
    if table.format == "json":
        options.setdefault("multiLine", True)
    if table.format == "csv":  # the dialect is fixed (csv_files.py); quotes escaped as on DuckDB
        options.setdefault("header", True)
        options.setdefault("inferSchema", infer)
        options.setdefault("escape", options.get("quote", '"'))
        options.setdefault("mode", "PERMISSIVE" if options.get("null_padding") else "FAILFAST")
    return options


def _external_table(relation: str, table: CatalogTable, infer: bool = True) -> str:
    assert table.location is not None and table.format is not None
    options = _reader_options(table, infer)
    rendered = ", ".join(f"{quote_identifier(k, DIALECT)} {_option(v)}" for k, v in options.items())
    return f"CREATE TABLE {relation} USING {_FORMATS[table.format]} OPTIONS ({rendered})"


_GLOB = re.compile(r"/[^/]*[*?\[]")  # the first path component with a glob character


def _hive_partitioned(table: CatalogTable) -> bool:
    return bool(table.partition_keys) and table.options.get("hive_partitioning") is not False


def _folder_columns(table: CatalogTable, have: set[str]) -> list[str]:
    """Partition keys of unnamed folders (2024/01/: ``partition_0``, ``partition_1``), which
    Spark does not discover: the folders of each row's file, as DuckDB's reads give them."""
    keys = [c for c in table.partition_keys if c.name not in have]
    n = len(keys)
    return [
        f"CAST(element_at(split(_metadata.file_path, '/'), {i - n - 1}) AS"
        f" {type_sql(c.type or 'VARCHAR', DIALECT)}) AS {quote_identifier(c.name, DIALECT)}"
        for i, c in enumerate(keys)
    ]


def _option(value: Any) -> str:
    if isinstance(value, bool):
        return string_literal(str(value).lower(), DIALECT)
    if isinstance(value, str):
        return string_literal(value, DIALECT)
    return literal(value, DIALECT)


def _footer_rows(location: Path) -> int:
    from glueform.crawl.formats import parquet_file_rows

    return sum(parquet_file_rows(f) for f in location.rglob("*.parquet"))


def _partitions(location: Path, keys: tuple[str, ...]) -> tuple[Partition, ...]:
    from urllib.parse import unquote

    folders: dict[Path, list[int]] = {}
    for file in location.rglob("*.parquet"):
        entry = folders.setdefault(file.parent, [0])
        entry[0] += file.stat().st_size
    out = []
    for folder, (size,) in sorted(folders.items()):
        parts = folder.relative_to(location).parts
        values = tuple(unquote(p.split("=", 1)[1]) for p in parts)
        if len(values) == len(keys):
            out.append(Partition(values, str(folder), None, size))
    return tuple(out)
