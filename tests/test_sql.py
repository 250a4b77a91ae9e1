"""Transpiling the project's SQL: rewrites that keep a query's meaning on another engine."""

from __future__ import annotations

from pathlib import Path

from glueform.sql import infer_columns, normalize_type, parse_query, transpile


def spark(sql: str) -> str:
    return transpile(parse_query(sql, "duckdb", Path("m.sql"), sql), "spark")


def test_date_diff_counts_boundaries_on_spark_as_on_duckdb() -> None:
    out = spark("select date_diff('day', a, b) as d from t")
    assert out == "SELECT DATEDIFF(DAY, DATE_TRUNC('DAY', a), DATE_TRUNC('DAY', b)) AS d FROM t"


def test_ranking_functions_are_bigint_on_spark() -> None:
    out = spark(
        "select row_number() over (order by a) as rn, cast(rank() over (order by a) as int) as r from t"
    )
    assert out.startswith("SELECT CAST(ROW_NUMBER() OVER (ORDER BY a NULLS LAST) AS BIGINT) AS rn")
    assert "CAST(RANK() OVER (ORDER BY a NULLS LAST) AS INT) AS r" in out, (
        "an explicit cast is kept"
    )


def test_duckdb_sql_is_left_as_written() -> None:
    sql = "select date_diff('day', a, b) as d from t"
    assert (
        transpile(parse_query(sql, "duckdb", Path("m.sql"), sql), "duckdb")
        == "SELECT DATE_DIFF('DAY', a, b) AS d FROM t"
    )


def test_type_names_follow_duckdb() -> None:
    assert normalize_type("string", "spark", to="duckdb") == "VARCHAR"
    assert normalize_type("int", "spark", to="duckdb") == "INTEGER"
    assert normalize_type("DECIMAL(18,2)", "duckdb") == "DECIMAL(18, 2)"


def test_infer_columns() -> None:
    schema = {"raw": {"orders": {"id": "BIGINT", "amount": "DOUBLE", "who": "VARCHAR"}}}
    sql = 'select who, count(*) as n, sum(amount) as total from "raw"."orders" group by who'
    assert infer_columns(sql, "duckdb", schema) == [
        ("who", "VARCHAR"),
        ("n", "BIGINT"),
        ("total", "DOUBLE"),
    ]
    assert infer_columns('select * from "raw"."unknown"', "duckdb", schema) is None
