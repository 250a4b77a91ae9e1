"""A Spark run asks Spark for each relation's columns once, not once per model that reads it
(each ask is an analysis: the fixed cost of a run of many small models)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import write_project

from glueform import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.spark]
pytest.importorskip("pyspark", reason="the spark extra is part of the dev extras")

CONFIG = """\
name: shop
targets:
  spark: {engine: spark, warehouse: warehouse-spark, state: .glueform-spark, spark: {master: 'local[2]'}}
transforms:
  defaults: {materialized: table}
"""
SOURCES = """\
sources:
  - name: raw
    tables:
      - {name: orders, path: data/orders.csv, columns: [{name: id, type: bigint}, {name: amount, type: bigint}]}
"""
MODELS = {
    f"transforms/m{i}.sql": f"select id, amount * {i} as amount from {{{{ source('raw', 'orders') }}}}\n"
    for i in range(4)
}
MODELS["transforms/total.sql"] = (
    "select sum(a.amount) as amount from {{ ref('m1') }} a join {{ ref('m2') }} b using (id)\n"
)


def test_each_relations_columns_are_looked_up_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql import SparkSession

    files = {
        "glueform.yml": CONFIG,
        "sources/raw.yml": SOURCES,
        "data/orders.csv": "id,amount\n1,5\n2,7\n",
    }
    root = write_project(tmp_path / "p", {**files, **MODELS})
    looked_up: Counter[str] = Counter()
    table = SparkSession.table

    def counted(self: SparkSession, name: str):  # type: ignore[no-untyped-def]
        looked_up[name] += 1
        return table(self, name)

    monkeypatch.setattr(SparkSession, "table", counted)
    for _ in range(2):  # a second run in the same process (and session) looks them up again
        result = Workspace(root, target="spark").run()
        assert result.ok, [r.message for r in result.results]
    assert looked_up["`raw`.`orders`"] == 2  # read by four models
    assert looked_up["`shop`.`m1`"] == 2  # read by one model, after it was built
    with Workspace(root, target="spark").catalog() as catalog:
        total = catalog.table("shop", "total")
    assert total is not None and total.location is not None
    import duckdb

    rows = duckdb.sql(f"select * from read_parquet('{total.location}/*.parquet')").fetchall()
    assert rows == [(12,)]  # (5 + 7) * 1, read through the looked-up columns
