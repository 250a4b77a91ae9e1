"""Python transforms: the PySpark DataFrame API on DuckDB (sqlframe) and on Spark."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, query, write_project

from glueform import Workspace

STATS = """\
from glueform.transforms import F, transform


@transform(tags=["python"], columns={"orders": "BIGINT"})
def order_stats(stg_orders, raw__customers, ctx):
    named = stg_orders.join(raw__customers, "customer_id")
    return (
        named.where(F.col("amount") >= ctx.vars["min_amount"])
        .groupBy("name")
        .agg(F.count("*").alias("orders"), F.sum("amount").alias("total"))
    )
"""


def rows(root: Path, name: str, columns: str = "*") -> list[tuple[object, ...]]:
    """A table's current version, read from its files."""
    with Workspace(root).catalog() as catalog:
        table = catalog.table("shop", name)
    assert table is not None
    return query(f"select {columns} from read_parquet('{table.location}/*.parquet') order by 1")


def project(tmp_path: Path, body: str = STATS) -> Path:
    files = basic_files()
    files["transforms/marts/order_stats.py"] = body
    return write_project(tmp_path / "p", files)


def test_a_python_transform_runs_on_duckdb_like_its_sql(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = glueform_json("run", "-p", str(root))
    assert result["ok"], result
    python = rows(root, "order_stats", "name, orders, total")
    sql = rows(root, "customer_totals", "name, total")
    assert [(n, t) for n, _, t in python] == sql == [("ada", 20), ("grace", 30), ("linus", 40)]
    with Workspace(root).catalog() as catalog:
        table = catalog.table("shop", "order_stats")
    assert table is not None and [c.name for c in table.columns] == ["name", "orders", "total"]
    listed = glueform_json("ls", "-p", str(root), "-s", "tag:python")
    assert [n["name"] for n in listed] == ["order_stats"]
    # its dependencies are its parameters: upstream selection works as for SQL
    assert glueform_json("ls", "-p", str(root), "-s", "+order_stats", "--exclude", "order_stats")


def test_a_parameter_that_names_nothing_is_a_compile_error(tmp_path: Path) -> None:
    root = project(
        tmp_path, STATS.replace("def order_stats(stg_orders,", "def order_stats(stg_order,")
    )
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2
    assert (
        "order_stats.py:5:17: parameter 'stg_order' names no model or source table" in result.stderr
    )
    assert "did you mean 'stg_orders'?" in result.stderr and "Traceback" not in result.stderr


def test_functions_sqlframe_lacks_are_found_at_compile_time(tmp_path: Path) -> None:
    body = STATS.replace("named.where(", 'named.select(F.explode_outer(F.array("name"))).where(')
    result = glueform("compile", "-p", str(project(tmp_path, body)))
    assert result.exit_code == 2
    assert (
        "order_stats.py:8:" in result.stderr
        and "F.explode_outer does not run on DuckDB" in result.stderr
    )


def test_importing_pyspark_functions_is_refused(tmp_path: Path) -> None:
    body = "from pyspark.sql import functions as F\n" + STATS
    result = glueform("compile", "-p", str(project(tmp_path, body)))
    assert result.exit_code == 2 and "order_stats.py:1:1" in result.stderr
    assert "from glueform.transforms import F" in result.stderr


def test_returning_something_else_fails_the_node_and_writes_nothing(tmp_path: Path) -> None:
    body = STATS.replace("    return (\n", "    return {'not': 'a frame'}\n    return (\n")
    root = project(tmp_path, body)
    result = glueform_json("run", "-p", str(root))
    failed = {n["name"]: n for n in result["nodes"]}["order_stats"]
    assert failed["status"] == "error"
    assert "order_stats.py:5:1: the transform returned dict, not a DataFrame" in failed["message"]
    assert not (root / "warehouse/shop/order_stats").exists()
    with Workspace(root).catalog() as catalog:
        assert catalog.table("shop", "order_stats") is None


def test_an_exception_names_the_line_and_keeps_the_previous_version(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert glueform_json("run", "-p", str(root))["ok"]
    before = rows(root, "order_stats")
    path = root / "transforms/marts/order_stats.py"
    path.write_text(
        STATS.replace("    named = ", "    raise ValueError('bad input')\n    named = ")
    )
    result = glueform_json("run", "-p", str(root), "-s", "order_stats")
    message = result["nodes"][0]["message"]
    assert "order_stats.py:6:1: the transform raised ValueError: bad input" in message
    assert rows(root, "order_stats") == before
    assert len(list((root / "warehouse/shop/order_stats").iterdir())) == 1


@pytest.mark.slow
@pytest.mark.spark
def test_a_python_transform_gives_the_same_table_on_spark(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    from test_spark import SPARK_TARGET

    root = project(tmp_path)
    config = root / "glueform.yml"
    config.write_text(config.read_text().replace("vars:", SPARK_TARGET + "vars:"))
    report = glueform_json("verify", "-p", str(root), "-s", "order_stats")
    assert report["ok"], report
    assert report["tables"][0]["rows"] == [3, 3]


SPLIT = """\
from glueform.transforms import F, transform


@transform(outputs=["big_orders", "small_orders"])
def split_orders(stg_orders):
    return {
        "big_orders": stg_orders.where(F.col("amount") >= 30),
        "small_orders": stg_orders.where(F.col("amount") < 30),
    }
"""


def test_a_transform_with_several_outputs_makes_one_table_each(tmp_path: Path) -> None:
    files = basic_files()
    files["transforms/marts/split_orders.py"] = SPLIT
    files["transforms/marts/big_count.sql"] = "select count(*) as n from {{ ref('big_orders') }}\n"
    root = write_project(tmp_path / "p", files)
    result = glueform_json("run", "-p", str(root))
    assert result["ok"], result
    with Workspace(root).catalog() as catalog:
        tables = {t.name: t for t in catalog.tables("shop")}
    assert {"big_orders", "small_orders", "big_count"} <= set(tables)
    assert rows(root, "big_orders", "order_id") == [(3,), (4,)]
    assert rows(root, "small_orders", "order_id") == [(2,)]  # amount >= min_amount (10)
    assert rows(root, "big_count", "n") == [(2,)]


def test_decorator_arguments_of_the_wrong_shape_are_user_errors(tmp_path: Path) -> None:
    body = STATS.replace('columns={"orders": "BIGINT"}', 'columns=["orders"]')
    result = glueform("validate", "-p", str(project(tmp_path, body)))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "order_stats.py:4:29: @transform(columns=...) must be a dict" in result.stderr
