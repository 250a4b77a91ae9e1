#!/usr/bin/env python3
"""Spark and Python-transform benchmarks, each against its baseline measured in the same run.

A generated shop (orders with customers, ROWS orders) and a four-model pipeline: a staging
view, an order fact joined to customers, a daily revenue rollup, a customer rollup.

1. glueform on Spark (``local[2]``) vs a hand-written PySpark script doing the same work in
   the same Spark session (read, transform, write Parquet);
2. glueform on DuckDB vs the same SQL run raw on DuckDB (COPY ... TO Parquet);
3. a Python transform on DuckDB (sqlframe) vs its SQL twin, in one glueform run each.

Usage: python bench/spark_bench.py [--rows 5000000] [--skip-spark]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "spark_bench"

MODELS = {
    "stg_orders.sql": "select order_id, customer_id, cast(ordered_at as date) as day, amount_cents / 100 as amount, status from {{ source('raw', 'orders') }} where status <> 'cancelled'",
    "fct_orders.sql": "select o.order_id, o.day, o.amount, c.country from {{ ref('stg_orders') }} o join {{ source('raw', 'customers') }} c using (customer_id)",
    "daily_revenue.sql": "select day, country, count(*) as orders, sum(amount) as revenue from {{ ref('fct_orders') }} group by day, country",
    "customer_value.sql": "select customer_id, count(*) as orders, sum(amount) as value, max(day) as last_day from {{ ref('stg_orders') }} group by customer_id",
}
PYTHON_TWIN = """from glueform.transforms import F, transform


@transform()
def customer_value_py(stg_orders):
    return stg_orders.groupBy("customer_id").agg(
        F.count("*").alias("orders"), F.sum("amount").alias("value"), F.max("day").alias("last_day")
    )
"""
CONFIG = """\
name: bench
targets:
  dev: {engine: duckdb, threads: 2}
  spark: {engine: spark, warehouse: warehouse-spark, state: .glueform-spark, spark: {master: 'local[2]'}}
transforms:
  defaults: {materialized: table}
  folders:
    staging: {materialized: view}
"""
SOURCES = """\
sources:
  - name: raw
    tables:
      - {name: orders, path: data/orders.parquet, format: parquet}
      - {name: customers, path: data/customers.parquet, format: parquet}
"""


def generate(root: Path, rows: int) -> None:
    import duckdb

    if root.exists():
        shutil.rmtree(root)
    (root / "data").mkdir(parents=True)
    (root / "transforms/staging").mkdir(parents=True)
    (root / "transforms/marts").mkdir(parents=True)
    (root / "glueform.yml").write_text(CONFIG)
    (root / "sources").mkdir()
    (root / "sources/raw.yml").write_text(SOURCES)
    for name, sql in MODELS.items():
        folder = "staging" if name.startswith("stg_") else "marts"
        (root / "transforms" / folder / name).write_text(sql + "\n")
    customers = max(rows // 50, 10)
    with duckdb.connect() as con:
        con.execute(f"""copy (select range as customer_id, ['DE','FR','GB','US','NL'][1 + range % 5] as country
                        from range({customers})) to '{root}/data/customers.parquet'""")
        con.execute(f"""copy (select range as order_id, cast(hash(range) % {customers} as bigint) as customer_id,
                        timestamp '2024-01-01' + to_seconds(cast(hash(range * 7) % 31536000 as bigint)) as ordered_at,
                        cast(hash(range * 13) % 20000 as bigint) as amount_cents,
                        ['placed','shipped','completed','cancelled'][1 + range % 4] as status
                        from range({rows})) to '{root}/data/orders.parquet'""")


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def glueform_run(root: Path, target: str, select: list[str] | None = None) -> None:
    from glueform import Workspace

    result = Workspace(root, target=target).run(select=select)
    assert result.ok, [r.message for r in result.results if r.status != "success"]


def raw_duckdb(root: Path) -> None:
    """The same SQL, by hand: views over the sources, COPY each table's query to Parquet."""
    import duckdb

    out = root / "raw-duckdb"
    shutil.rmtree(out, ignore_errors=True)
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    con.execute("create schema raw; create schema bench")
    for t in ("orders", "customers"):
        con.execute(f"create view raw.{t} as select * from read_parquet('{root}/data/{t}.parquet')")
    for name, sql in MODELS.items():
        model = name.removesuffix(".sql")
        text = sql.replace("{{ source('raw', 'orders') }}", "raw.orders")
        text = text.replace("{{ source('raw', 'customers') }}", "raw.customers")
        text = text.replace("{{ ref('stg_orders') }}", "bench.stg_orders")
        text = text.replace("{{ ref('fct_orders') }}", "bench.fct_orders")
        if model.startswith("stg_"):
            con.execute(f"create view bench.{model} as {text}")
            continue
        (out / model).mkdir(parents=True)
        con.execute(f"copy ({text}) to '{out}/{model}/data_0.parquet' (format parquet)")
        con.execute(
            f"create view bench.{model} as select * from read_parquet('{out}/{model}/*.parquet')"
        )
    con.close()


def hand_pyspark(root: Path) -> None:
    """What a Glue developer would write: DataFrame reads, transforms and Parquet writes."""
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.getOrCreate()  # glueform's session, already started
    out = root / "raw-spark"
    shutil.rmtree(out, ignore_errors=True)
    orders = spark.read.parquet(f"{root}/data/orders.parquet")
    customers = spark.read.parquet(f"{root}/data/customers.parquet")
    stg = orders.where(F.col("status") != "cancelled").select(
        "order_id", "customer_id", F.to_date("ordered_at").alias("day"),
        (F.col("amount_cents") / 100).alias("amount"), "status",
    )  # fmt: skip
    fct = stg.join(customers, "customer_id").select("order_id", "day", "amount", "country")
    fct.write.parquet(f"{out}/fct_orders")
    fct = spark.read.parquet(f"{out}/fct_orders")
    fct.groupBy("day", "country").agg(
        F.count("*").alias("orders"), F.sum("amount").alias("revenue")
    ).write.parquet(f"{out}/daily_revenue")
    stg.groupBy("customer_id").agg(
        F.count("*").alias("orders"), F.sum("amount").alias("value"), F.max("day").alias("last_day")
    ).write.parquet(f"{out}/customer_value")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-spark", action="store_true")
    args = parser.parse_args()
    root = OUT / f"rows-{args.rows}"
    generate(root, args.rows)
    print(f"{args.rows:,} orders, 4 models (1 view, 3 tables)")

    duck = timed(lambda: glueform_run(root, "dev"), args.repeat)
    raw = timed(lambda: raw_duckdb(root), args.repeat)
    print(
        f"DuckDB: glueform {duck:.2f}s  raw DuckDB {raw:.2f}s  ratio {duck / raw:.2f} (target < 1.1)"
    )

    (root / "transforms/marts/customer_value_py.py").write_text(PYTHON_TWIN)
    py = timed(lambda: glueform_run(root, "dev", ["customer_value_py"]), args.repeat)
    sql = timed(lambda: glueform_run(root, "dev", ["customer_value"]), args.repeat)
    print(
        f"Python transform on DuckDB {py:.2f}s  its SQL twin {sql:.2f}s  ratio {py / sql:.2f} (target < 1.2)"
    )
    (root / "transforms/marts/customer_value_py.py").unlink()

    if not args.skip_spark:
        glueform_run(root, "spark")  # starts the session (6-15 s), not part of either figure
        spark = timed(lambda: glueform_run(root, "spark"), args.repeat)
        hand = timed(lambda: hand_pyspark(root), args.repeat)
        print(
            f"Spark: glueform {spark:.2f}s  hand-written PySpark {hand:.2f}s  ratio {spark / hand:.2f} (target < 1.2)"
        )


if __name__ == "__main__":
    main()
