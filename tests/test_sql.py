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


def spark_sql(sql: str, schema: dict[str, dict[str, dict[str, str]]] | None = None) -> str:
    import sqlglot

    from glueform.sql import transpile

    return transpile(sqlglot.parse_one(sql, read="duckdb"), "spark", "duckdb", schema)


def test_parity_rewrites_keep_duckdb_meaning_on_spark() -> None:
    schema = {"db": {"t": {"x": "DOUBLE", "d": "DECIMAL(10,2)", "s": "VARCHAR", "a": "VARCHAR[]"}}}
    out = spark_sql(
        "select cast(x as int) as i, cast(d as bigint) as b, try_cast(s as int) as n,"
        " len(a) as la, a[1] as first, dayofweek(s) as dow, avg(d) as m from db.t",
        schema,
    )
    assert "CAST(BROUND(`t`.`x`) AS INT)" in out  # half to even, as DuckDB casts a DOUBLE
    assert "CAST(ROUND(`t`.`d`) AS BIGINT)" in out  # half away from zero, as from a DECIMAL
    assert "TRY_CAST(ROUND(TRY_CAST(`t`.`s` AS DECIMAL(38, 10))) AS INT)" in out
    assert "SIZE(`t`.`a`)" in out and "TRY_ELEMENT_AT(`t`.`a`, 1)" in out
    assert "((WEEKDAY(`t`.`s`) + 1) % 7)" in out  # Sunday is 0, as on DuckDB
    assert "AVG(CAST(`t`.`d` AS DOUBLE))" in out


def test_untyped_queries_get_only_the_rewrites_that_need_no_types() -> None:
    out = spark_sql("select cast(x as int) as i, list(x order by y) as xs from t")
    assert "CAST(x AS INT)" in out
    assert "TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(y AS k0, x AS v))), s -> s.v)" in out


def test_storage_types_are_the_same_on_both_engines() -> None:
    from glueform.sql import storage_type

    assert storage_type("HUGEINT") == storage_type("int", "spark") == "BIGINT"
    assert storage_type("DECIMAL(38,2)") == storage_type("decimal(28,2)", "spark")  # SUMs
    assert storage_type("DECIMAL(18,2)") == storage_type("decimal(21,2)", "spark")  # products
    assert storage_type("TIMESTAMP WITH TIME ZONE") == storage_type("timestamp", "spark")
    assert storage_type('STRUCT(id INTEGER, "name" VARCHAR)') == storage_type(
        "struct<id:int,name:string>", "spark"
    )
