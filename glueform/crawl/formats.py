"""Schemas read straight from file headers and footers, without an engine: an Avro header (its
JSON schema) here, a Parquet footer in ``glueform/parquet.py``. Fast enough to read thousands of
files a second, and the same code serves local files and S3 ranged reads.
"""

from __future__ import annotations

import json
from typing import Any

from glueform.crawl.schema import NULL, STRING, Columns, Type
from glueform.parquet import FormatError

__all__ = ["AVRO_MAGIC", "FormatError", "avro_columns"]

AVRO_MAGIC = b"Obj\x01"


# -- Avro -------------------------------------------------------------------------------------


def avro_columns(head: bytes) -> Columns:
    """The columns of an Avro object container file from its header's JSON schema."""
    if head[:4] != AVRO_MAGIC:
        raise FormatError("not an Avro file (no Obj\\x01 magic)")
    reader = _Avro(head, 4)
    try:
        meta = reader.map()
        schema = json.loads(meta["avro.schema"])
    except (IndexError, KeyError, ValueError) as exc:
        raise FormatError(f"corrupt Avro header: {type(exc).__name__}") from None
    try:
        if not isinstance(schema, dict) or schema.get("type") != "record":
            return (("value", _avro_type(schema)),)
        return tuple((f["name"], _avro_type(f["type"])) for f in schema.get("fields", ()))
    except (KeyError, TypeError, AttributeError) as exc:  # a schema missing its "type"...
        raise FormatError(f"corrupt Avro schema: {type(exc).__name__}") from None


_AVRO_PRIMITIVES = {
    "null": NULL, "boolean": "BOOLEAN", "int": "INTEGER", "long": "BIGINT", "float": "FLOAT",
    "double": "DOUBLE", "bytes": "BLOB", "string": "VARCHAR",
}  # fmt: skip
_AVRO_LOGICAL = {
    "date": "DATE", "timestamp-millis": "TIMESTAMP", "timestamp-micros": "TIMESTAMP",
    "time-millis": "TIME", "time-micros": "TIME", "uuid": "UUID",
}  # fmt: skip


def _avro_type(t: Any) -> Type:
    if isinstance(t, list):  # a union: ["null", X] is a nullable X; others are strings
        branches = [b for b in t if b != "null"]
        return _avro_type(branches[0]) if len(branches) == 1 else STRING
    if isinstance(t, str):
        return _AVRO_PRIMITIVES.get(t, STRING)
    logical = t.get("logicalType")
    if logical == "decimal":
        return f"DECIMAL({t.get('precision', 18)},{t.get('scale', 0)})"
    if logical in _AVRO_LOGICAL:
        return _AVRO_LOGICAL[logical]
    kind = t.get("type")
    if kind == "record":
        return ("STRUCT", tuple((f["name"], _avro_type(f["type"])) for f in t.get("fields", ())))
    if kind == "array":
        return ("LIST", _avro_type(t["items"]))
    if kind == "map":
        return ("MAP", STRING, _avro_type(t["values"]))
    if kind in ("enum", "fixed"):
        return STRING if kind == "enum" else "BLOB"
    return _avro_type(kind)


class _Avro:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def long(self) -> int:
        shift = result = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7

    def bytes(self) -> bytes:
        n = self.long()
        self.pos += n
        if self.pos > len(self.data):
            raise IndexError("header longer than the bytes read")
        return self.data[self.pos - n : self.pos]

    def map(self) -> dict[str, bytes]:
        out = {}
        while True:
            count = self.long()
            if count == 0:
                return out
            if count < 0:
                count = -count
                self.long()  # the block's size in bytes
            for _ in range(count):
                key = self.bytes().decode()
                out[key] = self.bytes()
