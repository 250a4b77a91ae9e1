"""CSV sources read as the crawler reads them, on every engine: never fewer rows.

An engine left to sniff a ragged file guesses: DuckDB may take a short second row as the
shape of the file and read three rows as one, or the header as data; Spark pads short rows and
cuts long ones. So a CSV source is read with a fixed dialect (delimiter, quote, header): the
source's own options, else what the crawler's classifier finds in the first file, and strictly
(DuckDB's ``strict_mode``, Spark's ``FAILFAST``). A file that cannot be read that way fails
the read, and :func:`diagnose` names the file and the row (the engines' own messages name a
row of the sniffer's sample, or neither).
"""

from __future__ import annotations

import csv
import glob
import gzip
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from glueform.catalog.model import CatalogTable

DIALECT_KEYS = ("delim", "quote", "header")  # in DuckDB's names, as sources/*.yml spell them
DEFAULTS = {"delim": ",", "quote": '"', "header": True}
_OPENERS = {".gz": gzip.open}


def with_dialect(table: CatalogTable) -> CatalogTable:
    """The table with its delimiter, quote and header fixed (its own options win)."""
    options = dict(table.options)
    missing = [k for k in DIALECT_KEYS if k not in options]
    if not missing:
        return replace(table, options=options)
    found = _classified(table, options)
    for key in missing:
        options[key] = found.get(key, DEFAULTS[key])
    return replace(table, options=options)


def _classified(table: CatalogTable, options: dict[str, Any]) -> dict[str, Any]:
    """What the crawler's classifier makes of the first non-empty local file (the options the
    source gives are fixed, as a crawler's custom CSV classifier fixes them)."""
    from glueform.crawl.classify import CsvOptions, Skip, classify

    fixed = CsvOptions(options.get("delim"), options.get("quote"), options.get("header"))
    for path in _files(table):
        size = os.path.getsize(path)
        if size == 0:
            continue
        with open(path, "rb") as f:

            def read(offset: int, length: int, f: Any = f) -> bytes:
                f.seek(offset)
                data: bytes = f.read(length)
                return data

            try:
                return dict(classify(size, read, ("csv",), fixed).options)
            except Skip:
                return {}
    return {}


def diagnose(table: CatalogTable, files: Sequence[str] | None = None) -> str | None:
    """Why the table's local files cannot be read with its dialect: the first empty file, or
    the first row whose number of fields is not the header's (None when none is found)."""
    options = table.options
    delim, quote = str(options.get("delim", ",")), str(options.get("quote", '"'))
    for path in files if files is not None else _files(table):
        if "://" in path or not os.path.isfile(path):
            continue
        if os.path.getsize(path) == 0:
            return f"{path} is empty: it has no header row (a CSV source's files need one)"
        problem = _ragged_row(path, delim, quote, bool(options.get("header", True)))
        if problem:
            return problem
    return None


def _ragged_row(path: str, delim: str, quote: str, header: bool) -> str | None:
    opener = _OPENERS.get(os.path.splitext(path)[1])
    if opener is None and path.endswith((".zst", ".zstd", ".bz2")):
        return None
    with (opener or open)(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=delim, quotechar=quote or '"', strict=False)
        width = None
        for row in _rows(reader):
            if width is None:
                width = len(row)
                continue
            if len(row) != width:
                what = "the header has" if header else "the first row has"
                return (
                    f"{path}:{reader.line_num}: row of {len(row)} fields where {what} "
                    f"{width} (delimiter {delim!r}); fix the file, or set the source's "
                    "options (null_padding: true reads short rows with NULLs)"
                )
    return None


def _rows(reader: Any) -> Iterator[list[str]]:
    try:
        for row in reader:
            if row:  # blank lines are skipped by the engines too
                yield row
    except csv.Error:  # an unterminated quote: the engine's own message says more
        return


def _files(table: CatalogTable) -> list[str]:
    location = table.location or ""
    if "://" in location:
        return []
    if glob.has_magic(location):
        return sorted(glob.iglob(location, recursive=True))
    return [location] if os.path.isfile(location) else []
