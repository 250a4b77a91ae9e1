"""Classification by content: what a file is (Parquet, Avro, CSV/TSV/pipe, JSON, NDJSON, each
possibly gz/zstd/bz2-compressed) and its columns, from its first bytes (and a Parquet footer).

A file that cannot be classified raises :class:`Skip` with the reason; it is reported, not fatal.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from glueform import parquet
from glueform.crawl.formats import AVRO_MAGIC, FormatError, avro_columns
from glueform.crawl.schema import NULL, STRING, Columns, Type, widen

HEAD_BYTES = 64 * 1024  # read of a text file's start: enough rows to infer types
DELIMITERS = (",", "\t", "|", ";")
_COMPRESSION = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}
_INT = re.compile(r"[-+]?\d{1,18}")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?")
_BOOL = {"true", "false"}

Reader = Callable[[int, int], bytes]  # (offset, length) -> bytes


class Skip(Exception):
    """A file that is not cataloged, with the reason (empty, corrupt, unclassifiable...)."""


@dataclass(frozen=True)
class Classified:
    format: str  # parquet | avro | csv | json | ndjson
    columns: Columns
    options: Mapping[str, Any] = field(default_factory=dict)  # reader options (delim, header...)
    compression: str | None = None
    notes: tuple[str, ...] = ()  # not fatal: ragged rows...
    rows: int | None = None  # known from a Parquet footer


@dataclass(frozen=True)
class CsvOptions:
    """A custom CSV classifier's fixed choices (None: sniffed)."""

    delimiter: str | None = None
    quote: str | None = None
    header: bool | None = None


def classify(
    size: int,
    read: Reader,
    allowed: Sequence[str] = (),
    csv_options: CsvOptions | None = None,
    decompress_zstd: Callable[[], bytes] | None = None,
) -> Classified:
    """Classify one file of ``size`` bytes whose bytes ``read`` returns."""
    if size == 0:
        raise Skip("empty file")
    try:
        head = read(0, min(size, HEAD_BYTES))
    except OSError as exc:
        raise Skip(f"unreadable: {exc.strerror or exc}") from None
    allowed = tuple(allowed) or ("parquet", "avro", "json", "ndjson", "csv")
    if head[:4] == parquet.MAGIC:
        _require("parquet", allowed)
        return _parquet(size, head, read)
    if head[:4] == AVRO_MAGIC:
        _require("avro", allowed)
        return _raise_format(lambda: Classified("avro", avro_columns(head)))
    compression = next((c for magic, c in _COMPRESSION.items() if head.startswith(magic)), None)
    complete = size <= HEAD_BYTES
    if compression:
        head, complete = _decompress(compression, head, complete, decompress_zstd)
    found = classify_text(head, complete, allowed, csv_options or CsvOptions())
    return Classified(
        found.format, found.columns, found.options, compression, found.notes, found.rows
    )


def _require(fmt: str, allowed: Sequence[str]) -> None:
    if fmt not in allowed:
        raise Skip(f"a {fmt} file, but the crawler's classifiers are {', '.join(allowed)}")


def _raise_format(make: Callable[[], Classified]) -> Classified:
    try:
        return make()
    except FormatError as exc:
        raise Skip(str(exc)) from None


def _parquet(size: int, head: bytes, read: Reader) -> Classified:
    if size < 12:
        raise Skip("corrupt Parquet file: too short")
    try:
        tail = head[-8:] if size <= len(head) else read(size - 8, 8)
        length = parquet.footer_length(tail)
        if not 0 < length <= size - 12:
            raise FormatError(f"corrupt Parquet footer: length {length} in a {size}-byte file")
        start = size - 8 - length
        footer = head[start : start + length] if size <= len(head) else read(start, length)
        columns, rows = parquet.footer_columns(footer)
    except FormatError as exc:
        raise Skip(str(exc)) from None
    except OSError as exc:  # the file shrank or went away, an S3 read failed
        raise Skip(f"unreadable: {exc.strerror or exc}") from None
    return Classified("parquet", columns, rows=rows)


def _decompress(
    kind: str, data: bytes, complete: bool, zstd: Callable[[], bytes] | None
) -> tuple[bytes, bool]:
    """The decompressed start of a file (a partial stream is fine) and whether it is all of it."""
    try:
        if kind == "gzip":
            d = zlib.decompressobj(wbits=31)
            out = d.decompress(data, HEAD_BYTES)
            return out, complete and d.eof and not d.unconsumed_tail
        if kind == "bz2":
            b = bz2.BZ2Decompressor()
            out = b.decompress(data, HEAD_BYTES)
            return out, complete and b.eof
    except (OSError, zlib.error, EOFError, ValueError) as exc:
        raise Skip(f"corrupt {kind} stream: {exc}") from None
    if zstd is None:
        raise Skip("zstd-compressed: cannot be read here")
    try:
        out = zstd()
    except Exception as exc:
        raise Skip(f"corrupt zstd stream: {str(exc).splitlines()[0]}") from None
    return out[:HEAD_BYTES], len(out) < HEAD_BYTES and complete


@dataclass(frozen=True)
class _Text:
    format: str
    columns: Columns
    options: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    rows: int | None = None


def classify_text(
    data: bytes, complete: bool, allowed: Sequence[str], csv_options: CsvOptions
) -> _Text:
    if b"\x00" in data[:4096]:
        raise Skip("unclassifiable: binary content (not Parquet, Avro, CSV or JSON)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if complete or exc.start < len(data) - 4:
            raise Skip(f"unclassifiable: not UTF-8 text (byte {exc.start})") from None
        text = data[: exc.start].decode("utf-8")  # a character cut by the end of the read
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise Skip("empty file (only white space)")
    if stripped[0] in "[{" and ({"json", "ndjson"} & set(allowed)):
        return _json(text, complete)
    if "csv" not in allowed:
        raise Skip(f"unclassifiable by the crawler's classifiers ({', '.join(allowed)})")
    return _csv(text, complete, csv_options)


# -- JSON -------------------------------------------------------------------------------------


def _json(text: str, complete: bool) -> _Text:
    if complete:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as first:
            return _ndjson(text, complete, first)
        rows = doc if isinstance(doc, list) else [doc]
        one_line = isinstance(doc, dict) and "\n" not in text.strip()  # NDJSON of one record
        return _Text("ndjson" if one_line else "json", _json_columns(rows), {}, rows=len(rows))
    if text.lstrip().startswith("["):
        return _Text("json", _json_columns(_array_prefix(text)), {})
    return _ndjson(text, complete, None)


def _ndjson(text: str, complete: bool, whole_error: json.JSONDecodeError | None) -> _Text:
    lines = text.splitlines()
    if not complete:
        lines = lines[:-1]  # the last line may be cut by the end of the read
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            bad = whole_error if whole_error is not None and not rows else exc
            at = bad.lineno if bad is whole_error else number
            raise Skip(f"JSON syntax error at line {at}, column {bad.colno}: {bad.msg}") from None
    if not rows:
        raise Skip("unclassifiable: no complete JSON record in the first bytes")
    return _Text("ndjson", _json_columns(rows), {}, rows=len(rows) if complete else None)


def _array_prefix(text: str) -> list[Any]:
    """The complete elements at the start of a large JSON array."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    rows = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if rows:
                return rows  # cut by the end of the read
            raise Skip(
                f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        rows.append(value)


def _json_columns(rows: list[Any]) -> Columns:
    if rows and all(isinstance(r, dict) for r in rows):
        t: Type = NULL
        for row in rows:
            t = widen(t, json_type(row)) or _struct_union(t, json_type(row))
        return tuple(t[1]) if isinstance(t, tuple) else ()
    t = NULL
    for row in rows:
        t = widen(t, json_type(row)) or STRING
    return (("json", t),)


def _struct_union(a: Type, b: Type) -> Type:
    return widen(a, b) or STRING


def json_type(value: Any) -> Type:
    """The type of one JSON value: objects are structs, arrays lists (of their merged items)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT" if -(2**63) <= value < 2**63 else "DOUBLE"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return _string_type(value)
    if isinstance(value, list):
        inner: Type = NULL
        for item in value:
            inner = widen(inner, json_type(item)) or STRING
        return ("LIST", inner)
    return ("STRUCT", tuple((str(k), json_type(v)) for k, v in value.items()))


def _string_type(value: str) -> Type:
    if _DATE.fullmatch(value):
        return "DATE"
    if _TIMESTAMP.fullmatch(value):
        return "TIMESTAMP"
    return STRING


# -- CSV --------------------------------------------------------------------------------------


def _csv(text: str, complete: bool, fixed: CsvOptions) -> _Text:
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    quote = fixed.quote or '"'
    if fixed.delimiter:
        delimiter, rows = fixed.delimiter, _rows(lines, fixed.delimiter, quote)
    else:
        delimiter, rows = _sniff(lines, quote)
    header = fixed.header if fixed.header is not None else _has_header(rows)
    width = len(rows[0])
    names = (
        _names(rows[0]) if header else [f"column{i:0{len(str(width - 1))}d}" for i in range(width)]
    )
    data = rows[1:] if header else rows
    options: dict[str, Any] = {"delim": delimiter, "header": header, "quote": quote}
    notes = []
    ragged = [(i, len(r)) for i, r in enumerate(data, start=2 if header else 1) if len(r) != width]
    if ragged:
        line, count = ragged[0]
        notes.append(
            f"ragged rows: {len(ragged)} of {len(data)} sampled rows have another number of "
            f"fields than {width} (first: row {line} has {count})"
        )
        options["null_padding"] = True
    columns = []
    for i, name in enumerate(names):
        t: Type = NULL
        for row in data:
            if i < len(row):
                t = widen(t, _csv_type(row[i])) or STRING
        columns.append((name, STRING if t == NULL else t))
    return _Text("csv", tuple(columns), options, tuple(notes), rows=len(data) if complete else None)


def _rows(lines: Sequence[str], delimiter: str, quote: str) -> list[list[str]]:
    return [
        r
        for r in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter, quotechar=quote)
        if r
    ]


def _sniff(lines: Sequence[str], quote: str) -> tuple[str, list[list[str]]]:
    """The delimiter that splits the first rows into the same number (> 1) of fields most often.
    csv's parser honours quotes, so a delimiter inside quotes does not count."""
    best: tuple[int, int, str, list[list[str]]] | None = None
    probe = lines[:50]
    for rank, delimiter in enumerate(DELIMITERS):
        try:
            rows = _rows(probe, delimiter, quote)
        except csv.Error:
            continue
        if not rows:
            continue
        widths = [len(r) for r in rows]
        mode = max(set(widths), key=widths.count)
        if mode < 2:
            continue
        score = (widths.count(mode), -rank)
        if best is None or score > best[:2]:
            best = (*score, delimiter, rows)
    if best is None:
        raise Skip("unclassifiable: text without a consistent delimiter (not CSV or JSON)")
    delimiter = best[2]
    return delimiter, _rows(lines, delimiter, quote)


def _has_header(rows: list[list[str]]) -> bool:
    """A first row of distinct non-empty words, typed unlike the rows under it."""
    first = rows[0]
    if len(rows) == 1:
        return all(_csv_type(v) == STRING and v for v in first)
    if not all(v.strip() for v in first) or len(set(first)) != len(first):
        return False
    if any(_csv_type(v) != STRING for v in first):
        return False
    data = rows[1:]
    for i in range(len(first)):
        types = {_csv_type(r[i]) for r in data if i < len(r)} - {NULL}
        if types and types != {STRING}:
            return True
    values = {v for r in data for v in r}
    return not (set(first) & values)


def _names(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip() or f"column{i}"
        base, n = name, 1
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _csv_type(value: str) -> Type:
    v = value.strip()
    if not v:
        return NULL
    if _INT.fullmatch(v):
        return "BIGINT"
    if _FLOAT.fullmatch(v):
        return "DOUBLE"
    if v.lower() in _BOOL:
        return "BOOLEAN"
    return _string_type(v)
