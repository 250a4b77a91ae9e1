"""Parse one model's SQL, find the tables it reads, qualify its columns; syntax errors are
mapped back to the line of the original .sql file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def parse_query(sql: str, dialect: str, path: Path, original: str) -> exp.Query:
    """Parse one model's rendered SQL; it must be exactly one query (SELECT/WITH/UNION...)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise _syntax_error(exc, sql, path, original) from None
    except RecursionError:  # nesting the bracket check does not see (CASE in CASE ...)
        raise UserError(
            "the SQL nests too deeply for the SQL parser",
            SourceLocation(path, 1, 1),
            hint="name the inner parts with CTEs (with x as (...)) instead of nesting them",
        ) from None
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


def output_names(query: exp.Expression) -> list[str]:
    """The output columns' names that the query spells out (aliases and plain columns; not
    ``*`` nor unnamed expressions): what is known of them before any input is."""
    from sqlglot import exp

    while isinstance(query, exp.SetOperation):  # a UNION is named by its first query
        query = query.left
    selects = query.selects if isinstance(query, exp.Query) else []
    return [s.alias_or_name for s in selects if not isinstance(s, exp.Star) and s.alias_or_name]


def qualified(query: exp.Expression | str, dialect: str, schema: Schema) -> exp.Expression:
    """The query (a copy) with every column qualified against ``schema``, which may be partial;
    raises what sqlglot raises (callers treat that as "cannot be known")."""
    import sqlglot
    from sqlglot.optimizer.qualify import qualify

    parsed = sqlglot.parse_one(query, dialect=dialect) if isinstance(query, str) else query.copy()
    return qualify(parsed, schema=schema, dialect=dialect, validate_qualify_columns=False)


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
