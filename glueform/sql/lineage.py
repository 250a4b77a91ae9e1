"""What a query outputs: its columns' types (inference) and the upstream columns each reads
(column lineage), from the known schemas of its inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from glueform.sql.parsing import Schema, qualified
from glueform.sql.types import normalize_type

if TYPE_CHECKING:
    from sqlglot import exp


def infer_columns(sql: str, dialect: str, schema: Schema) -> list[tuple[str, str]] | None:
    """Output columns and types of a query, from the known schemas; None when they cannot be known."""
    from sqlglot import exp
    from sqlglot.optimizer.annotate_types import annotate_types

    try:
        query = annotate_types(qualified(sql, dialect, schema), schema=schema, dialect=dialect)
    except Exception:  # an inference gap is not an error: the run tells the real types
        return None
    unexpanded = any(isinstance(s, exp.Star) or isinstance(s.this, exp.Star) for s in query.selects)
    if not isinstance(query, exp.Query) or unexpanded:  # a * over a table of unknown columns
        return None
    columns = [
        (s.alias_or_name, normalize_type(s.type.sql(dialect), dialect)) for s in query.selects
    ]
    if any(t in ("UNKNOWN", "NULL", "") for _, t in columns):
        return None
    names = _engine_names(sql, dialect, schema, [n for n, _ in columns])
    return [(name, type_) for name, (_, type_) in zip(names, columns, strict=True)]


def _engine_names(sql: str, dialect: str, schema: Schema, qualified_names: list[str]) -> list[str]:
    """The output names as the engine gives them: an alias as written (qualify() folds its
    case), an unnamed expression's as DuckDB names it (``count_star()``, not ``_col_1``)."""
    import sqlglot
    from sqlglot import exp

    from glueform.sql.parsing import referenced_tables

    query = sqlglot.parse_one(sql, dialect=dialect)
    first = query
    while isinstance(first, exp.SetOperation):
        first = first.left
    selects = first.selects if isinstance(first, exp.Select) else []
    if len(selects) != len(qualified_names):
        return qualified_names
    names, unnamed = [], False
    for select, name in zip(selects, qualified_names, strict=True):
        if isinstance(select, exp.Alias):
            names.append(select.alias)
        else:
            unnamed = unnamed or not isinstance(select, exp.Column)
            names.append(name)
    if unnamed and dialect == "duckdb":
        from glueform.sql.naming import duckdb_names

        used = {(t.db, t.name) for t in referenced_tables(query)}
        inputs: Schema = {}
        for db, tables in schema.items():
            for table, cols in tables.items():
                if (db, table) in used:
                    inputs.setdefault(db, {})[table] = cols
        bound = duckdb_names(sql, inputs)
        if bound and len(bound) == len(names):
            return bound
    return names


@dataclass(frozen=True)
class ColumnRef:
    """One column of a table: where a model's output column comes from."""

    db: str
    table: str
    column: str


@dataclass(frozen=True)
class QueryColumns:
    """A query's output columns (types empty when unknown) and, per column, the upstream
    columns that feed it (through CTEs, subqueries, joins, expressions and window clauses)."""

    columns: tuple[tuple[str, str], ...]
    lineage: dict[str, tuple[ColumnRef, ...]]


def column_lineage(
    sql: str,
    dialect: str,
    schema: dict[str, dict[str, dict[str, str]]],
    infer_types: bool = True,
) -> QueryColumns | None:
    """Qualify the query once against the known schemas, then walk every output column down to
    the table columns it reads (sqlglot.lineage). None when the query cannot be qualified.
    Without ``infer_types`` (the caller knows them) the types are left empty: a third less work."""
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.scope import build_scope

    try:
        query = qualified(sql, dialect, schema)
    except Exception:  # a gap in lineage is not an error: the page says it is unknown
        return None
    if any(isinstance(s, exp.Star) or isinstance(s.this, exp.Star) for s in query.selects):
        return None  # a * over a table of unknown columns
    types: dict[str, str] = {}
    try:
        if infer_types:
            annotate_types(query, schema=schema, dialect=dialect)
            types = {s.alias_or_name: _known_type(s.type, dialect) for s in query.selects}
    except Exception:
        pass
    try:
        nodes = lineage(
            None,
            query,
            schema,
            dialect=dialect,
            scope=build_scope(query),
            trim_selects=False,
            copy=False,
        )
    except Exception:
        return None
    out: dict[str, tuple[ColumnRef, ...]] = {}
    for name, node in nodes.items():
        found: dict[ColumnRef, None] = {}
        for leaf in node.walk():
            table = leaf.source
            if leaf.downstream or not isinstance(table, exp.Table):
                continue
            if isinstance(table.this, exp.Identifier):  # not a table function
                column = leaf.name.rsplit(".", 1)[-1].strip('"`')
                found[ColumnRef(table.db, table.name, column)] = None
        out[name] = tuple(sorted(found, key=lambda r: (r.db, r.table, r.column)))
    return QueryColumns(tuple((name, types.get(name, "")) for name in nodes), out)


def _known_type(type_: exp.DataType | None, dialect: str) -> str:
    text = type_.sql(dialect) if type_ is not None else ""
    return "" if text.upper() in ("", "UNKNOWN", "NULL") else normalize_type(text, dialect)
