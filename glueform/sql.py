"""The one module that knows sqlglot: parse, find tables, quote names, transpile.

Errors in a model's SQL are mapped back to the line of the original .sql file. sqlglot is
imported inside the functions: a fully cached compile never needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform.errors import SourceLocation, UserError, snippet_at

if TYPE_CHECKING:
    from sqlglot import exp


# database -> table -> column -> type (DuckDB's names), as sqlglot's optimizer takes it
Schema = dict[str, dict[str, dict[str, str]]]


@dataclass(frozen=True)
class TableRef:
    """A table named in a query: ``db.name`` (db may be empty)."""

    db: str
    name: str

    def __str__(self) -> str:
        return f"{self.db}.{self.name}" if self.db else self.name


@cache
def _dialect(name: str) -> Any:
    """One sqlglot Dialect object per name: building one per call is the cost of small quotes."""
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise(name)


@lru_cache(maxsize=8192)  # a run quotes the same relations again and again
def quote_relation(database: str, name: str, dialect: str) -> str:
    """A fully quoted ``database.name`` in ``dialect``."""
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.table_(name, db=database, quoted=True)))


@lru_cache(maxsize=8192)
def quote_identifier(name: str, dialect: str) -> str:
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.to_identifier(name, quoted=True)))


def string_literal(value: str, dialect: str) -> str:
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.Literal.string(value)))


def literal(value: object, dialect: str) -> str:
    """A Python value (str, number, bool, list, dict) as a SQL literal."""
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.convert(value)))


def parse_query(sql: str, dialect: str, path: Path, original: str) -> exp.Query:
    """Parse one model's rendered SQL; it must be exactly one query (SELECT/WITH/UNION...)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise _syntax_error(exc, sql, path, original) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kind = "nothing" if not statements else f"{len(statements)} statements"
        if len(statements) == 1:
            kind = f"a {statements[0].key.upper()} statement"
        raise UserError(
            f"a model must be exactly one SELECT query; this file has {kind}",
            SourceLocation(path, 1, 1),
            hint="remove trailing statements, DDL and extra semicolons; glueform writes the output",
        )
    return statements[0]


def referenced_tables(query: exp.Expression) -> set[TableRef]:
    """Tables the query reads, leaving out its own CTEs and table functions."""
    from sqlglot import exp

    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    found: set[TableRef] = set()
    for table in query.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # read_parquet('...') and other table functions
        if not table.db and table.name.lower() in ctes:
            continue
        found.add(TableRef(table.db, table.name))
    return found


def qualified(query: exp.Expression | str, dialect: str, schema: Schema) -> exp.Expression:
    """The query (a copy) with every column qualified against ``schema``, which may be partial;
    raises what sqlglot raises (callers treat that as "cannot be known")."""
    import sqlglot
    from sqlglot.optimizer.qualify import qualify

    parsed = sqlglot.parse_one(query, dialect=dialect) if isinstance(query, str) else query.copy()
    return qualify(parsed, schema=schema, dialect=dialect, validate_qualify_columns=False)


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
    return columns


@lru_cache(maxsize=4096)  # a pure function of short strings, called for every column of every build
def normalize_type(type_sql: str, dialect: str, to: str | None = None) -> str:
    """One spelling per type (DuckDB says VARCHAR, sqlglot TEXT), so types compare equal;
    ``to`` converts to another dialect's names (Spark's ``string`` is DuckDB's VARCHAR)."""
    out = to or dialect
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


def transpile(
    query: exp.Expression, dialect: str, source: str = "duckdb", schema: Schema | None = None
) -> str:
    """The query in ``dialect``, with the rewrites that keep its meaning the same there."""
    from glueform.parity import rewrite_for

    return rewrite_for(query, dialect, source, schema).sql(dialect=dialect)


def _syntax_error(exc: Exception, sql: str, path: Path, original: str) -> UserError:
    errors = getattr(exc, "errors", None) or [{}]
    first = errors[0]
    line, col = int(first.get("line") or 1), int(first.get("col") or 1)
    description = first.get("description") or str(exc).splitlines()[0]
    line = _original_line(sql, original, line)
    highlight = str(first.get("highlight") or "")
    text_line = original.splitlines()[line - 1] if 0 < line <= len(original.splitlines()) else ""
    start = col - len(highlight)  # sqlglot reports the column where the bad token ends
    if highlight and text_line[start : start + len(highlight)] == highlight:
        col = start + 1
    elif highlight and highlight in text_line:
        col = text_line.find(highlight) + 1
    return UserError(
        f"SQL syntax error: {description}",
        SourceLocation(path, line, max(col, 1)),
        hint="the model's SQL is parsed after Jinja rendering; run 'glueform compile' to see it",
        snippet=snippet_at(original, line, max(col, 1), max(len(highlight), 1)),
    )


def _original_line(rendered: str, original: str, line: int) -> int:
    """Map a line of the rendered SQL to the .sql file (same line, or the line with that text)."""
    rendered_lines = rendered.splitlines()
    original_lines = original.splitlines()
    if len(rendered_lines) == len(original_lines):
        return line
    wanted = rendered_lines[line - 1].strip() if 0 < line <= len(rendered_lines) else ""
    for i, text in enumerate(original_lines, start=1):
        if wanted and text.strip() == wanted:
            return i
    return min(line, max(len(original_lines), 1))


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


def type_sql(type_duckdb: str, dialect: str) -> str:
    """A DuckDB type name (the catalog's) spelt in ``dialect``."""
    from sqlglot import exp

    return exp.DataType.build(type_duckdb, dialect="duckdb").sql(dialect=dialect)


def null_safe_equal(left: str, right: str, dialect: str) -> str:
    """``left`` equals ``right``, NULL equal to NULL (``IS NOT DISTINCT FROM``, Spark's ``<=>``)."""
    from sqlglot import exp

    return exp.NullSafeEQ(
        this=exp.maybe_parse(left, dialect=dialect),
        expression=exp.maybe_parse(right, dialect=dialect),
    ).sql(dialect=dialect)


def replace_relations(sql: str, mapping: dict[tuple[str, str], str], dialect: str) -> str:
    """``sql`` reading the relations of ``mapping`` ((database, name) -> the SQL of a relation:
    a view's quoted name or a table function's call) instead; each keeps its alias, or gets its
    old name as one."""
    from sqlglot import exp, parse_one

    targets = {
        key: parse_one(f"SELECT * FROM {text}", dialect=dialect).find(exp.From).this  # type: ignore[union-attr]
        for key, text in mapping.items()
    }

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and (node.db, node.name) in targets:
            alias = node.args.get("alias") or exp.TableAlias(
                this=exp.to_identifier(node.name, quoted=True)
            )
            target = targets[(node.db, node.name)].copy()
            target.set("alias", alias)
            return target
        return node

    return parse_one(sql, dialect=dialect).transform(swap).sql(dialect=dialect)
