"""Parquet footers read without an engine: a file's columns and row count from its FileMetaData
(Thrift compact protocol), for the crawler (local files and S3 ranged reads) and the engines
(rows of the files a build wrote).

Hand-written on purpose: on 100,000 small files it is faster than DuckDB's
``parquet_file_metadata()`` (see bench/footer_bench.py), needs no engine or connection, and
reads a footer from bytes already fetched (an S3 ranged read). Types are DuckDB's names, as
trees (see ``crawl/schema.py``).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

MAGIC = b"PAR1"
STRING = "VARCHAR"
Type = Any  # a DuckDB type name, or ("LIST", t), ("MAP", k, v), ("STRUCT", ((name, t), ...))
Columns = tuple[tuple[str, Type], ...]


class FormatError(ValueError):
    """The file claims a format but its bytes do not hold up (a corrupt footer, a bad header)."""


def footer_length(tail: bytes) -> int:
    """The footer's length from the file's last 8 bytes (length + ``PAR1``)."""
    if len(tail) < 8 or tail[-4:] != MAGIC:
        raise FormatError(
            "corrupt Parquet file: no PAR1 magic at the end (truncated or not Parquet)"
        )
    return int(struct.unpack("<i", tail[-8:-4])[0])


def footer_columns(footer: bytes) -> tuple[Columns, int]:
    """The columns and row count of a Parquet file from its footer (FileMetaData)."""
    try:
        meta = _Compact(footer).struct(stop_after=3)
        elements = meta[2]
        rows = int(meta.get(3, 0))
        columns, used = _children(elements, 1, elements[0].get(5, 0))
    except (IndexError, KeyError, struct.error, UnicodeDecodeError, RecursionError) as exc:
        raise FormatError(f"corrupt Parquet footer: {type(exc).__name__}") from None
    return columns, rows


def file_rows(path: Path) -> int:
    """A Parquet file's row count, from its footer alone."""
    with path.open("rb") as f:
        f.seek(-8, 2)
        length = footer_length(f.read(8))
        f.seek(-8 - length, 2)
        return footer_columns(f.read(length))[1]


def _children(elements: list[dict[int, Any]], at: int, count: int) -> tuple[Columns, int]:
    out = []
    for _ in range(count):
        element = elements[at]
        t, at = _element(elements, at)
        out.append((element[4].decode(), t))
    return tuple(out), at


def _element(elements: list[dict[int, Any]], at: int) -> tuple[Type, int]:
    """One schema element (and its children): its type and the index after it."""
    e = elements[at]
    children = e.get(5, 0)
    repeated = e.get(3) == 2
    logical = e.get(10, {})
    if not children:
        t = _primitive(e)
        return (("LIST", t) if repeated else t), at + 1
    converted = e.get(6)
    if converted == 3 or 3 in logical:  # LIST: group (LIST) > repeated group list > element
        inner = elements[at + 1]
        legacy = inner[4] == b"array" or inner[4].endswith(b"_tuple")
        if inner.get(5, 0) == 1 and not legacy:
            t, nxt = _element(elements, at + 2)
        else:  # an older writer: the repeated field itself is the element
            t, nxt = _element(elements, at + 1)
            t = t[1] if isinstance(t, tuple) and t[0] == "LIST" else t
        return ("LIST", t), nxt
    if converted in (1, 2) or 2 in logical:  # MAP: group > repeated key_value > key, value
        (_, key), (_, value) = _children(elements, at + 2, 2)[0]
        return ("MAP", key, value), _skip(elements, at)
    fields, nxt = _children(elements, at + 1, children)
    t = ("STRUCT", fields)
    return (("LIST", t) if repeated else t), nxt


def _skip(elements: list[dict[int, Any]], at: int) -> int:
    pending = 1
    while pending:
        pending += elements[at].get(5, 0) - 1
        at += 1
    return at


_PHYSICAL = {0: "BOOLEAN", 1: "INTEGER", 2: "BIGINT", 3: "TIMESTAMP", 4: "FLOAT", 5: "DOUBLE", 6: "BLOB", 7: "BLOB"}  # fmt: skip
_CONVERTED = {
    0: "VARCHAR", 4: "VARCHAR", 6: "DATE", 7: "TIME", 8: "TIME", 9: "TIMESTAMP", 10: "TIMESTAMP",
    11: "UTINYINT", 12: "USMALLINT", 13: "UINTEGER", 14: "UBIGINT", 15: "TINYINT", 16: "SMALLINT",
    17: "INTEGER", 18: "BIGINT", 19: "VARCHAR", 21: "INTERVAL",
}  # fmt: skip


def _primitive(e: dict[int, Any]) -> Type:
    logical = e.get(10, {})
    if 5 in logical or e.get(6) == 5:
        d = logical.get(5, {})
        return f"DECIMAL({d.get(2, e.get(8, 18))},{d.get(1, e.get(7, 0))})"
    if 8 in logical:  # TIMESTAMP(isAdjustedToUTC, unit)
        return "TIMESTAMP WITH TIME ZONE" if logical[8].get(1) else "TIMESTAMP"
    if 10 in logical:  # INTEGER(bitWidth, isSigned)
        bits, signed = logical[10].get(1, 32), logical[10].get(2, True)
        name = {8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}[bits]
        return name if signed else "U" + name
    if 1 in logical or 4 in logical or 12 in logical:
        return "VARCHAR"
    if 6 in logical:
        return "DATE"
    if 7 in logical:
        return "TIME"
    if 14 in logical:
        return "UUID"
    if e.get(6) in _CONVERTED:
        return _CONVERTED[e[6]]
    return _PHYSICAL.get(e.get(1, 6), STRING)


class _Compact:
    """Just enough of Thrift's compact protocol to read a Parquet FileMetaData."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self, stop_after: int | None = None) -> dict[int, Any]:
        out: dict[int, Any] = {}
        field = 0
        while True:
            header = self.byte()
            kind = header & 0x0F
            if kind == 0:
                return out
            delta = header >> 4
            field = field + delta if delta else self.zigzag()
            out[field] = self.value(kind)
            if stop_after is not None and field >= stop_after:
                return out

    def value(self, kind: int) -> Any:
        if kind in (1, 2):
            return kind == 1
        if kind == 3:
            return self.byte()
        if kind in (4, 5, 6):
            return self.zigzag()
        if kind == 7:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8 : self.pos])[0]
        if kind == 8:
            n = self.varint()
            self.pos += n
            return self.data[self.pos - n : self.pos]
        if kind in (9, 10):
            header = self.byte()
            size, elem = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            if elem in (1, 2):
                return [self.byte() == 1 for _ in range(size)]
            return [self.value(elem) for _ in range(size)]
        if kind == 11:
            size = self.varint()
            if not size:
                return {}
            types = self.byte()
            return {self.value(types >> 4): self.value(types & 0x0F) for _ in range(size)}
        if kind == 12:
            return self.struct()
        raise IndexError(f"unknown Thrift type {kind}")
