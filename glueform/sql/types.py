"""Column types: one spelling per type, the storage type written on every engine, casts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from glueform.sql.quoting import quote_identifier

if TYPE_CHECKING:
    from sqlglot import exp


@lru_cache(maxsize=4096)  # a pure function of short strings, called for every column of every build
def normalize_type(type_sql: str, dialect: str, to: str | None = None) -> str:
    """One spelling per type (DuckDB says VARCHAR, sqlglot TEXT), so types compare equal;
    ``to`` converts to another dialect's names (Spark's ``string`` is DuckDB's VARCHAR)."""
    out = to or dialect
    if dialect == out == "duckdb" and (known := _duckdb_scalar(type_sql)):
        return known[0]
    parsed = _parse_type(type_sql, dialect)
    text = parsed.sql(dialect=out) if parsed is not None else type_sql.upper()
    return _duckdb_names(text) if out == "duckdb" else text


def _duckdb_names(text: str) -> str:
    """The names DuckDB itself reports (sqlglot prints TEXT and INT), nested types included."""
    import re

    return re.sub(r"\b(TEXT|INT)\b", lambda m: _TYPE_NAMES[m.group(1)], text)


_TYPE_NAMES = {"TEXT": "VARCHAR", "INT": "INTEGER"}


@lru_cache(maxsize=4096)
def storage_type(type_sql: str, dialect: str = "duckdb") -> str:
    """The type a column is written as, the same on every engine (the documented mapping):
    integers are BIGINT, DECIMAL(p, s) is DECIMAL(38, s) (each engine widens sums and products
    its own way), FLOAT is DOUBLE, and a timestamp is
    the wall-clock time in the target's zone (TIMESTAMP); inside structs, lists and maps too.
    DuckDB's HUGEINT sums and Spark's INT years would otherwise differ on disk."""
    if dialect == "duckdb" and (known := _duckdb_scalar(type_sql)):
        return known[1]
    from sqlglot import exp

    parsed = _parse_type(type_sql, dialect)
    if parsed is None:
        return normalize_type(type_sql, dialect)
    T = exp.DataType.Type
    integers = {T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.INT128, T.UTINYINT, T.USMALLINT, T.UINT}
    for node in list(parsed.walk()):
        if not isinstance(node, exp.DataType):
            continue
        if node.this in integers:
            node.set("this", T.BIGINT)
        elif node.this in (T.UBIGINT, T.UINT128):  # past BIGINT's range: exact as DECIMAL
            node.set("this", T.DECIMAL)
            node.set(
                "expressions",
                [
                    exp.DataTypeParam(this=exp.Literal.number(38)),
                    exp.DataTypeParam(this=exp.Literal.number(0)),
                ],
            )
        elif node.this == T.FLOAT:
            node.set("this", T.DOUBLE)
        elif node.this in (T.TIMESTAMPTZ, T.TIMESTAMPLTZ, T.TIMESTAMP):
            node.set("this", T.TIMESTAMPNTZ)
        elif node.this == T.DECIMAL:  # each engine widens sums and products its own way
            params = [p.name for p in node.expressions] or ["18", "3"]
            scale = params[1] if len(params) == 2 else "0"
            node.set(
                "expressions",
                [exp.DataTypeParam(this=exp.Literal.number(n)) for n in ("38", scale)],
            )
    return _duckdb_names(parsed.sql(dialect="duckdb"))


def type_tree(type_sql: str, dialect: str = "duckdb") -> Any:
    """A type as a small tree, parsed by sqlglot (the one type parser): a scalar's DuckDB name
    (``BIGINT``, ``DECIMAL(10,2)``), ``("LIST", t)``, ``("MAP", key, value)`` or ``("STRUCT",
    ((name, t), ...))``. Text that is no type stays a scalar, upper-cased."""
    from sqlglot import exp

    parsed = _parse_type(type_sql, dialect)
    if parsed is None:
        return type_sql.strip().upper()
    T = exp.DataType.Type

    def tree(node: exp.DataType) -> Any:
        kids = node.expressions
        if node.this == T.ARRAY and kids:
            return ("LIST", tree(kids[0]))
        if node.this == T.MAP and len(kids) == 2:
            return ("MAP", tree(kids[0]), tree(kids[1]))
        if node.this == T.STRUCT:
            return ("STRUCT", tuple((f.name, tree(f.args["kind"])) for f in kids))
        if node.this == T.DECIMAL:
            params = [p.name for p in kids] or ["18", "3"]
            return f"DECIMAL({params[0]},{params[1] if len(params) == 2 else 0})"
        text = node.sql(dialect="duckdb")
        return _DUCKDB_SPELLING.get(text, text)

    return tree(parsed)


# The scalar types DuckDB's DESCRIBE reports, as the sqlglot path above spells them:
# (normalize_type, storage_type, type_sql in DuckDB). A DuckDB run meets almost only these, and
# answering them without sqlglot keeps a cached run from loading it; any other spelling (nested
# types, lower case, aliases) takes the sqlglot path. tests/test_sql_fast_paths.py checks each
# entry against that path, so a sqlglot upgrade that changes one fails there.
_DUCKDB_SCALARS = {
    "BOOLEAN": ("BOOLEAN", "BOOLEAN", "BOOLEAN"),
    "TINYINT": ("TINYINT", "BIGINT", "TINYINT"),
    "SMALLINT": ("SMALLINT", "BIGINT", "SMALLINT"),
    "INTEGER": ("INTEGER", "BIGINT", "INT"),
    "BIGINT": ("BIGINT", "BIGINT", "BIGINT"),
    "HUGEINT": ("INT128", "BIGINT", "INT128"),
    "FLOAT": ("REAL", "DOUBLE", "REAL"),
    "DOUBLE": ("DOUBLE", "DOUBLE", "DOUBLE"),
    "VARCHAR": ("VARCHAR", "VARCHAR", "TEXT"),
    "BLOB": ("BLOB", "BLOB", "BLOB"),
    "DATE": ("DATE", "DATE", "DATE"),
    "TIME": ("TIME", "TIME", "TIME"),
    "TIMESTAMP": ("TIMESTAMP", "TIMESTAMP", "TIMESTAMP"),
    "TIMESTAMP WITH TIME ZONE": ("TIMESTAMPTZ", "TIMESTAMP", "TIMESTAMPTZ"),
    "INTERVAL": ("INTERVAL", "INTERVAL", "INTERVAL"),
    "UUID": ("UUID", "UUID", "UUID"),
}
# sqlglot's names that DuckDB spells otherwise (what DuckDB reports, and the crawler writes)
_DUCKDB_SPELLING = {glot: duck for duck, (_, _, glot) in _DUCKDB_SCALARS.items() if glot != duck}


def _duckdb_scalar(type_sql: str) -> tuple[str, str, str] | None:
    known = _DUCKDB_SCALARS.get(type_sql)
    if known is not None or not type_sql.startswith("DECIMAL("):
        return known
    import re

    found = re.fullmatch(r"DECIMAL\(([1-9]\d?), ?(0|[1-9]\d?)\)", type_sql, re.ASCII)
    if found is None or not int(found[2]) <= int(found[1]) <= 38:
        return None
    spelt = f"DECIMAL({found[1]}, {found[2]})"
    return spelt, f"DECIMAL(38, {found[2]})", spelt


def stored_types(
    columns: Iterable[tuple[str, str]], declared: Mapping[str, str], dialect: str = "duckdb"
) -> dict[str, str]:
    """Each column's type on disk (DuckDB's names): the declared one, else its storage type."""
    return {name: declared.get(name) or storage_type(type_, dialect) for name, type_ in columns}


def _parse_type(type_sql: str, dialect: str) -> exp.DataType | None:
    """A type's tree, with struct field names unquoted so that equal types print equally."""
    from sqlglot import exp

    try:
        parsed = exp.DataType.build(type_sql, dialect=dialect)
    except Exception:
        return None
    for ident in parsed.find_all(exp.Identifier):
        ident.set("quoted", False)
    return parsed


def cast_columns(
    columns: list[tuple[str, str]], wanted: dict[str, str], dialect: str
) -> list[str] | None:
    """Select expressions (in ``dialect``) casting each column to its wanted type (DuckDB type
    names), or None when every column already has it."""
    exprs, changed = [], False
    for name, actual in columns:
        ident = quote_identifier(name, dialect)
        want = wanted.get(name)
        if want is None or normalize_type(want, "duckdb") == normalize_type(
            actual, dialect, to="duckdb"
        ):
            exprs.append(ident)
            continue
        changed = True
        exprs.append(f"CAST({ident} AS {type_sql(want, dialect)}) AS {ident}")
    return exprs if changed else None


def type_sql(type_duckdb: str, dialect: str) -> str:
    """A DuckDB type name (the catalog's) spelt in ``dialect``."""
    if dialect == "duckdb" and (known := _duckdb_scalar(type_duckdb)):
        return known[2]
    from sqlglot import exp

    return exp.DataType.build(type_duckdb, dialect="duckdb").sql(dialect=dialect)
