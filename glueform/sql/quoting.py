"""Names and values spelt as SQL of a dialect: every identifier and literal is quoted here,
never by hand.

DuckDB's identifiers and strings have one escape rule each (the quote character doubled), so
they are spelt here without sqlglot: a DuckDB run whose compile is cached then never loads it
(0.15-0.3 s of a small run). ``tests/test_sql_fast_paths.py`` checks they equal sqlglot's spelling.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any


@cache
def _dialect(name: str) -> Any:
    """One sqlglot Dialect object per name: building one per call is the cost of small quotes."""
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise(name)


@lru_cache(maxsize=8192)  # a run quotes the same relations again and again
def quote_relation(database: str, name: str, dialect: str) -> str:
    """A fully quoted ``database.name`` in ``dialect``."""
    if dialect == "duckdb":  # (no database: the name alone, as sqlglot spells it)
        table = _duckdb_identifier(name)
        return f"{_duckdb_identifier(database)}.{table}" if database else table
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.table_(name, db=database, quoted=True)))


@lru_cache(maxsize=8192)
def quote_identifier(name: str, dialect: str) -> str:
    if dialect == "duckdb":
        return _duckdb_identifier(name)
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.to_identifier(name, quoted=True)))


def string_literal(value: str, dialect: str) -> str:
    if dialect == "duckdb":
        return _duckdb_string(value)
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.Literal.string(value)))


def literal(value: object, dialect: str) -> str:
    """A Python value (str, number, bool, list, dict) as a SQL literal."""
    if dialect == "duckdb":
        if isinstance(value, str):
            return _duckdb_string(value)
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int) or value is None:
            return "NULL" if value is None else str(value)
    from sqlglot import exp

    return str(_dialect(dialect).generate(exp.convert(value)))


def _duckdb_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def null_safe_equal(left: str, right: str, dialect: str) -> str:
    """``left`` equals ``right``, NULL equal to NULL (``IS NOT DISTINCT FROM``, Spark's ``<=>``)."""
    from sqlglot import exp

    return exp.NullSafeEQ(
        this=exp.maybe_parse(left, dialect=dialect),
        expression=exp.maybe_parse(right, dialect=dialect),
    ).sql(dialect=dialect)
