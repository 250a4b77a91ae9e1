"""The read of a source's files on DuckDB, spelt once: the engine registers sources with it,
and validate's binding describes the same read to learn a source's columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glueform.sql.quoting import literal, quote_identifier, string_literal

DIALECT = "duckdb"
READERS = {
    "parquet": "read_parquet",
    "csv": "read_csv",
    "json": "read_json",
    "ndjson": "read_json",
    "avro": "read_avro",  # crawled Avro files; needs the duckdb-extension-avro wheel
}


def duckdb_scan(
    location: str,
    format: str,
    options: Mapping[str, Any],
    declared: Mapping[str, str],
    partition_keys: Sequence[str] = (),
    files: list[str] | None = None,
) -> str:
    """A read of ``location`` (or ``files``) with its reader options; Hive folders when there
    are partition keys; declared column types cast (a CSV that declares them is read as text
    first, as on Spark, so '007' stays '007' and both engines parse the same strings)."""
    if format not in READERS:  # a crawled avro file or SQL-database (jdbc) table
        raise ValueError(f"{format} tables cannot be read by this engine")
    opts = dict(options)
    if format == "ndjson":
        opts.setdefault("format", "newline_delimited")
    if format == "csv":  # the dialect is fixed (csv_files.py): a ragged row is an error
        opts.setdefault("strict_mode", True)
        opts.setdefault("null_padding", False)
        if declared:
            opts.setdefault("all_varchar", True)
    if partition_keys:
        opts.setdefault("hive_partitioning", True)
    projection = "*"
    if partition_keys and opts["hive_partitioning"] is False:
        # unnamed partition folders (2024/01/): each key is a folder of the file's path
        opts["filename"] = True
        n = len(partition_keys)
        keys = [
            f"string_split(filename, '/')[{i - n - 1}] AS {quote_identifier(name, DIALECT)}"
            for i, name in enumerate(partition_keys)
        ]
        projection = ", ".join(["* EXCLUDE (filename)", *keys])
    where = (
        string_literal(location, DIALECT)
        if files is None
        else "[" + ", ".join(string_literal(f, DIALECT) for f in files) + "]"
    )
    args = [where]
    args += [f"{quote_identifier(k, DIALECT)} = {literal(v, DIALECT)}" for k, v in opts.items()]
    scan = f"SELECT {projection} FROM {READERS[format]}({', '.join(args)})"
    if not declared:
        return scan
    casts = ", ".join(
        f"CAST({quote_identifier(n, DIALECT)} AS {t}) AS {quote_identifier(n, DIALECT)}"
        for n, t in declared.items()
    )
    return f"SELECT * REPLACE ({casts}) FROM ({scan})"
