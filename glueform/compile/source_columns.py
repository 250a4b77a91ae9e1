"""The columns a source has on the engine, for binding: its files' columns with the declared
types cast over them, as the engine's view of the source gives them. No table is scanned: a
local Parquet source's footers, a local JSON source's first records (what DuckDB samples to
type it), or a local CSV file's header line when the source declares a type for every column it
names; any other source is "not known here"."""

from __future__ import annotations

import glob
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glueform.compile.binding import Columns
    from glueform.project.model import SourceTable


def source_columns(con: Any, table: SourceTable) -> Columns | None:
    """``table``'s columns read through ``con`` (a DuckDB connection), or None."""
    if "://" in table.path:
        return None
    files = sorted(glob.glob(table.path, recursive=True))
    if not files:
        return None
    if table.format == "csv":
        return _csv_columns(table, files[0])
    if table.format not in ("parquet", "json", "ndjson"):
        return None
    import duckdb

    from glueform.sql.scans import duckdb_scan

    declared = {c.name: c.type for c in table.columns if c.type}
    keys = [c.name for c in table.partition_keys]
    scan = duckdb_scan(table.path, table.format, table.options, declared, keys)
    try:  # the engine's own read of the source: its options, partitions and declared casts
        rows = con.execute(f"DESCRIBE ({scan})").fetchall()
    except duckdb.Error:
        return None  # the run says what is wrong with the files
    return tuple((str(r[0]), str(r[1])) for r in rows)


def _csv_columns(table: SourceTable, first: str) -> Columns | None:
    """The header's names with their declared types, when every name has one."""
    import csv

    declared = {c.name.casefold(): c.type for c in table.columns if c.type}
    options = table.options
    delim = str(options.get("delim") or options.get("sep") or options.get("delimiter") or ",")
    quote = str(options.get("quote") or '"')
    if len(delim) != 1 or len(quote) != 1 or table.partition_keys:
        return None
    try:
        with open(first, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f, delimiter=delim, quotechar=quote), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not header or any(h.casefold() not in declared for h in header):
        return None  # no header, or a column whose type the sniffer would choose
    return tuple((h, str(declared[h.casefold()])) for h in header)
