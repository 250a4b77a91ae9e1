"""Output column names exactly as DuckDB gives them, on every engine.

DuckDB keeps an alias's case and names an unaliased expression after its text
(``count_star()``, ``(a + 1)``); Spark folds the case of identifiers and names expressions its
own way, and refuses a view with an unnamed one. The names are DuckDB's (the project's
dialect), found by binding the query against empty tables of its inputs' columns (no data is
read); the query on the other engine is then renamed by position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glueform.sql.quoting import quote_identifier, quote_relation

if TYPE_CHECKING:
    from glueform.sql.parsing import Schema

OUTPUT_ALIAS = "glueform_output"


def duckdb_names(sql: str, schema: Schema) -> list[str] | None:
    """The output names DuckDB gives ``sql`` over inputs of ``schema``'s columns; None when it
    cannot bind it so (the query then fails on DuckDB too, or reads what the schema lacks)."""
    import duckdb

    with duckdb.connect() as con:
        try:
            for database, tables in schema.items():
                if database:
                    con.execute(
                        f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(database, 'duckdb')}"
                    )
                for name, columns in tables.items():
                    if not columns:
                        return None
                    defs = ", ".join(
                        f"{quote_identifier(c, 'duckdb')} {t}" for c, t in columns.items()
                    )
                    relation = (
                        quote_relation(database, name, "duckdb")
                        if database
                        else quote_identifier(name, "duckdb")
                    )
                    con.execute(f"CREATE TABLE {relation} ({defs})")
            return list(con.sql(sql).columns)
        except duckdb.Error:
            return None


def renamed(sql: str, names: list[str], dialect: str) -> str:
    """``sql`` (in ``dialect``) with its output columns renamed, by position, to ``names``."""
    columns = ", ".join(quote_identifier(n, dialect) for n in names)
    alias = quote_identifier(OUTPUT_ALIAS, dialect)
    return f"SELECT * FROM ({sql}) AS {alias}({columns})"
