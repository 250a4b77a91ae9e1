"""Column types as small trees, and how the schemas of many files merge into one.

A type is a DuckDB type name (``BIGINT``, ``DECIMAL(10,2)``), or ``("STRUCT", ((name, type),
...))``, ``("LIST", type)``, ``("MAP", key, value)``. ``NULL`` is "not known yet" (a JSON null, an
empty CSV column) and yields to anything. Merging widens numbers (INTEGER → BIGINT → DOUBLE), dates
to timestamps, adds new columns and struct fields; any other conflict becomes VARCHAR, with a
warning that names the files, as Glue resolves it to string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Type = Any  # str | tuple (see the module docstring)
Columns = tuple[tuple[str, Type], ...]

NULL = "NULL"
STRING = "VARCHAR"
_INT_RANK = {
    "TINYINT": 1, "UTINYINT": 2, "SMALLINT": 2, "USMALLINT": 3, "INTEGER": 3, "UINTEGER": 4,
    "BIGINT": 4, "UBIGINT": 5, "HUGEINT": 5,
}  # fmt: skip
_RANK_INT = {1: "TINYINT", 2: "SMALLINT", 3: "INTEGER", 4: "BIGINT", 5: "HUGEINT"}
_FLOATS = {"FLOAT": 1, "DOUBLE": 2}
_DECIMAL_RE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_TIMES = {"DATE": 1, "TIMESTAMP": 2, "TIMESTAMP WITH TIME ZONE": 3}


def widen(a: Type, b: Type) -> Type | None:
    """The narrowest type holding both, or None when they conflict."""
    if a == b:
        return a
    if a == NULL:
        return b
    if b == NULL:
        return a
    if isinstance(a, tuple) or isinstance(b, tuple):
        return _widen_nested(a, b)
    if a in _INT_RANK and b in _INT_RANK:
        return _RANK_INT[max(_INT_RANK[a], _INT_RANK[b])]
    numeric = {a, b} <= {*_INT_RANK, *_FLOATS} or (_is_decimal(a) or _is_decimal(b))
    if numeric and all(_is_number(t) for t in (a, b)):
        return _widen_numbers(a, b)
    if a in _TIMES and b in _TIMES:
        return a if _TIMES[a] > _TIMES[b] else b
    return None


def _is_decimal(t: Type) -> bool:
    return isinstance(t, str) and _DECIMAL_RE.fullmatch(t) is not None


def _is_number(t: Type) -> bool:
    return t in _INT_RANK or t in _FLOATS or _is_decimal(t)


def _widen_numbers(a: str, b: str) -> str:
    if a in _FLOATS or b in _FLOATS:
        return "DOUBLE"
    pa, sa = _precision(a)
    pb, sb = _precision(b)
    scale = max(sa, sb)
    digits = max(pa - sa, pb - sb) + scale
    return "DOUBLE" if digits > 38 else f"DECIMAL({digits},{scale})"


def _precision(t: str) -> tuple[int, int]:
    m = _DECIMAL_RE.fullmatch(t)
    if m:
        return int(m[1]), int(m[2])
    return {1: 3, 2: 5, 3: 10, 4: 19, 5: 38}[_INT_RANK[t]], 0


def _widen_nested(a: Type, b: Type) -> Type | None:
    if not (isinstance(a, tuple) and isinstance(b, tuple)) or a[0] != b[0]:
        return None
    if a[0] == "LIST":
        inner = widen(a[1], b[1])
        return None if inner is None else ("LIST", inner)
    if a[0] == "MAP":
        key, value = widen(a[1], b[1]), widen(a[2], b[2])
        return None if key is None or value is None else ("MAP", key, value)
    fields = dict(a[1])
    for name, t in b[1]:
        merged = widen(fields[name], t) if name in fields else t
        fields[name] = STRING if merged is None else merged
    return ("STRUCT", tuple(fields.items()))


def finish(t: Type) -> Type:
    """A type fit for the catalog: what was never seen (``NULL``) becomes VARCHAR."""
    if t == NULL:
        return STRING
    if isinstance(t, tuple):
        if t[0] == "LIST":
            return ("LIST", finish(t[1]))
        if t[0] == "MAP":
            return ("MAP", finish(t[1]), finish(t[2]))
        return ("STRUCT", tuple((n, finish(x)) for n, x in t[1]))
    return t


def render(t: Type) -> str:
    """The DuckDB spelling of a type."""
    if isinstance(t, str):
        return t
    if t[0] == "LIST":
        return f"{render(t[1])}[]"
    if t[0] == "MAP":
        return f"MAP({render(t[1])}, {render(t[2])})"
    return "STRUCT(" + ", ".join(f"{_ident(n)} {render(x)}" for n, x in t[1]) + ")"


def _ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def parse(text: str) -> Type:
    """The tree of a DuckDB type name (the inverse of :func:`render`), read by the SQL layer's
    one type parser (sqlglot's DataType)."""
    from glueform.sql.types import type_tree

    return type_tree(text, "duckdb")


@dataclass(frozen=True)
class Merged:
    """The merged columns of many files, and the conflicts that were resolved to VARCHAR."""

    columns: Columns
    warnings: tuple[str, ...]


def merge(samples: Iterable[tuple[str, Columns]]) -> Merged:
    """Merge the schemas of ``(file, columns)`` samples: columns in order of first appearance."""
    types: dict[str, Type] = {}
    seen_in: dict[str, dict[str, list[str]]] = {}  # column -> rendered type -> files (a few)
    conflicts: set[str] = set()
    for file, columns in samples:
        for name, t in columns:
            files = seen_in.setdefault(name, {}).setdefault(render(t), [])
            if len(files) < 3:
                files.append(file)
            if name not in types:
                types[name] = t
                continue
            wider = widen(types[name], t)
            if wider is None:
                conflicts.add(name)
                wider = STRING
            types[name] = wider
    warnings = tuple(_conflict(name, seen_in[name]) for name in types if name in conflicts)
    return Merged(tuple((n, finish(t)) for n, t in types.items()), warnings)


def _conflict(name: str, by_type: dict[str, list[str]]) -> str:
    seen = "; ".join(f"{t} in {', '.join(files)}" for t, files in by_type.items() if t != NULL)
    return f"column {name!r} has conflicting types ({seen}): cataloged as VARCHAR"


def similar(a: Sequence[tuple[str, Type]], b: Sequence[tuple[str, Type]]) -> bool:
    """Schemas close enough to be one table: one's columns within the other's, or at least 70%
    of the names shared (Glue's rule of thumb for compatible schemas)."""
    na, nb = {n for n, _ in a}, {n for n, _ in b}
    if not na or not nb:
        return na == nb
    return na <= nb or nb <= na or len(na & nb) / len(na | nb) >= 0.7
