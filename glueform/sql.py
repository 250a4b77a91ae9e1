"""The one module that knows sqlglot: parse, find tables, quote names, transpile.

Errors in a model's SQL are mapped back to the line of the original .sql file. sqlglot is
imported inside the functions: a fully cached compile never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform.errors import SourceLocation, UserError, snippet_at

if TYPE_CHECKING:
    from sqlglot import exp


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


def infer_columns(
    sql: str, dialect: str, schema: dict[str, dict[str, dict[str, str]]]
) -> list[tuple[str, str]] | None:
    """Output columns and types of a query, from the known schemas; None when they cannot be known."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    try:
        query = qualify(
            sqlglot.parse_one(sql, dialect=dialect),
            schema=schema,
            dialect=dialect,
            validate_qualify_columns=False,
        )
        query = annotate_types(query, schema=schema, dialect=dialect)
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
    from sqlglot import exp

    out = to or dialect
    try:
        text = exp.DataType.build(type_sql, dialect=dialect).sql(dialect=out).upper()
    except Exception:
        text = type_sql.upper()
    return _TYPE_NAMES.get(out, {}).get(text, text)


_TYPE_NAMES = {"duckdb": {"TEXT": "VARCHAR", "INT": "INTEGER"}}  # the names DuckDB itself reports


def transpile(query: exp.Expression, dialect: str) -> str:
    """The query in ``dialect``, with the rewrites that keep its meaning the same there."""
    for rewrite in PARITY_REWRITES.get(dialect, ()):
        query = query.transform(rewrite)
    return query.sql(dialect=dialect)


def _boundary_date_diff(node: exp.Expression) -> exp.Expression:
    """DuckDB's date_diff counts unit boundaries crossed (23:59 -> 00:01 is one day); Spark's
    counts whole units elapsed. Truncating both ends to the unit gives DuckDB's answer on Spark."""
    from sqlglot import exp

    unit = node.args.get("unit") if isinstance(node, exp.DateDiff) else None
    if unit is None or unit.name.upper() not in _TRUNCATABLE_UNITS:
        return node
    var = exp.Var(this=unit.name.upper())
    return node.__class__(
        this=exp.TimestampTrunc(this=node.this.copy(), unit=var.copy()),
        expression=exp.TimestampTrunc(this=node.expression.copy(), unit=var.copy()),
        unit=unit.copy(),
    )


def _bigint_ranks(node: exp.Expression) -> exp.Expression:
    """Ranking functions are BIGINT on DuckDB and INT on Spark: make them BIGINT on disk too."""
    from sqlglot import exp

    ranking = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, ranking)
        and not isinstance(node.parent, exp.Cast)
    ):
        return exp.cast(node.copy(), "BIGINT")
    return node


_TRUNCATABLE_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND"}
# Per target dialect: rewrites of the project's parsed SQL whose plain transpilation would mean
# something else there. The parity tests are what find them.
PARITY_REWRITES = {"spark": (_boundary_date_diff, _bigint_ranks)}


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
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    try:
        query = qualify(
            sqlglot.parse_one(sql, dialect=dialect),
            schema=schema,
            dialect=dialect,
            validate_qualify_columns=False,
        )
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
