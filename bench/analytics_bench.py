#!/usr/bin/env python3
"""The fixed cost of a small analytical run: 22 TPC-H queries as glueform models.

A generated project (the 22 TPC-H queries as 22 table models over the eight TPC-H tables,
written as Parquet by DuckDB's ``tpch`` extension at ``--sf``, default 0.1) is run as a user runs
it, one whole process each (start-up, imports, work, exit), from a clean state each time:

1. ``glueform run`` (DuckDB) vs raw DuckDB running the same queries in one process (views over
   the sources, ``COPY (query) TO`` Parquet per model, a view over each output); target <= 1.3x;
2. ``glueform run -t spark`` (``local[2]``) vs a hand-written PySpark script doing the same
   reads and writes in a session with the same settings (``--skip-spark`` to leave it out).

Cases run in rounds (each case once per round), the median of ``--repeat`` counted runs is
reported after one untimed warm-up round; then every model's row count is compared with the
raw baseline's. Needs the ``duckdb-extension-tpch`` wheel of the installed DuckDB version.

Usage: python bench/analytics_bench.py [--sf 0.1] [--repeat 3] [--skip-spark]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out" / "analytics"
TABLES = ("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier")
CONFIG = """\
name: tpch
default_target: dev
targets:
  dev: {engine: duckdb, warehouse: warehouse, state: .glueform, threads: 2}
  spark:
    engine: spark
    warehouse: warehouse-spark
    state: .glueform-spark
    spark: {master: 'local[2]'}
transforms:
  defaults: {materialized: table}
"""
# The session settings glueform gives a local Spark (engines/spark.py), so that the hand-written
# script differs only in not being glueform.
SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    " -XX:ReservedCodeCacheSize=256m",
    "spark.sql.session.timeZone": "UTC",
}


def _tpch(con) -> None:
    """LOAD tpch from its PyPI wheel (no download)."""
    import importlib.util

    spec = importlib.util.find_spec("duckdb_extension_tpch")
    found = (
        sorted(Path(spec.origin).parent.glob("extensions/*/tpch.duckdb_extension")) if spec else []
    )
    if not found:
        import duckdb

        raise SystemExit(
            f"needs the tpch extension: pip install duckdb-extension-tpch=={duckdb.__version__}"
        )
    con.execute(f"INSTALL '{found[-1]}'")
    con.execute("LOAD tpch")


def queries(con) -> dict[str, str]:
    """The 22 TPC-H queries (DuckDB's spelling), without their trailing semicolons."""
    rows = con.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY 1").fetchall()
    return {f"q{n:02d}": q.strip().rstrip(";") for n, q in rows}


def with_sources(sql: str) -> str:
    """The query with each table it reads as ``{{ source('tpch', name) }}``, edited in place
    (the positions sqlglot's parser records), so both runs execute the same text."""
    import sqlglot
    from sqlglot import exp

    tables = sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table)
    spans = [t.this.meta for t in tables if t.name in TABLES]  # not a CTE
    for span in sorted(spans, key=lambda m: -m["start"]):
        name = sql[span["start"] : span["end"] + 1]
        sql = sql[: span["start"]] + "{{ source('tpch', '" + name + "') }}" + sql[span["end"] + 1 :]
    return sql


def generate(root: Path, sf: float) -> None:
    """The project, its data and the raw baseline's inputs (cached per scale factor)."""
    import duckdb

    if (root / "glueform.yml").exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "transforms" / "tpch").mkdir(parents=True)
    with duckdb.connect() as con:
        _tpch(con)
        con.execute(f"CALL dbgen(sf = {sf})")
        for t in TABLES:
            con.execute(f"COPY {t} TO '{root}/data/{t}.parquet' (FORMAT parquet)")
        for name, sql in queries(con).items():
            text = with_sources(sql)
            (root / "transforms" / "tpch" / f"{name}.sql").write_text(text + "\n")
            (root / "data" / f"{name}.sql").write_text(sql + "\n")  # the raw baselines' text
    lines = ["sources:", "  - name: tpch", "    tables:"]
    lines += [f"      - {{name: {t}, path: data/{t}.parquet, format: parquet}}" for t in TABLES]
    (root / "sources" / "tpch.yml").write_text("\n".join(lines) + "\n")
    (root / "glueform.yml").write_text(CONFIG)


def raw_duckdb(root: Path) -> None:
    """The baseline: the same queries over the same files in one DuckDB connection."""
    import duckdb

    out = root / "raw-duckdb"
    shutil.rmtree(out, ignore_errors=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # as glueform sets it
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{root}/data/{t}.parquet')")
    for path in sorted((root / "data").glob("q*.sql")):
        (out / path.stem).mkdir(parents=True)
        target = f"{out}/{path.stem}/data_0.parquet"
        con.execute(f"COPY ({path.read_text()}) TO '{target}' (FORMAT parquet)")
        con.execute(f"CREATE VIEW {path.stem} AS SELECT * FROM read_parquet('{target}')")
    con.close()


def raw_spark(root: Path) -> None:
    """What a Glue developer would write: a session, the sources as views, each query written."""
    from pyspark.sql import SparkSession

    out = root / "raw-spark"
    shutil.rmtree(out, ignore_errors=True)
    builder = SparkSession.builder.master("local[2]").appName("hand-written")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("OFF")
    for t in TABLES:
        spark.read.parquet(f"{root}/data/{t}.parquet").createOrReplaceTempView(t)
    for path in sorted((root / "data").glob("q*.sql")):
        spark.sql(path.read_text()).write.parquet(f"{out}/{path.stem}")
    spark.stop()


def row_counts(folder: Path, pattern: str) -> dict[str, int]:
    import duckdb

    counts = {}
    with duckdb.connect() as con:
        for model in sorted(p for p in folder.iterdir() if p.is_dir()):
            files = f"{model}/{pattern}"
            counts[model.name] = con.execute(
                f"SELECT count(*) FROM read_parquet('{files}')"
            ).fetchone()[0]
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--raw", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw:  # one baseline process, started by the benchmark
        (raw_duckdb if args.raw == "duckdb" else raw_spark)(args.root)
        return 0

    sys.path.insert(0, str(BENCH))
    from run import Case, rm, run_once

    root = OUT / f"sf{args.sf:g}"
    generate(root, args.sf)
    glueform = str(Path(sys.executable).parent / "glueform")
    me = [sys.executable, str(Path(__file__).resolve()), "--root", str(root), "--raw"]

    def clean(*names: str):
        return lambda: rm(*(root / n for n in names))

    cases = [
        Case("glueform run", [glueform, "run"], root, clean("warehouse", ".glueform"), "run", "", "raw DuckDB"),
        Case("raw DuckDB", [*me, "duckdb"], root, clean("raw-duckdb"), "run", ""),
    ]  # fmt: skip
    if not args.skip_spark:
        cases += [
            Case("glueform run -t spark", [glueform, "run", "-t", "spark"], root,
                 clean("warehouse-spark", ".glueform-spark"), "run", "", "hand-written PySpark"),
            Case("hand-written PySpark", [*me, "spark"], root, clean("raw-spark"), "run", ""),
        ]  # fmt: skip
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for round_ in range(args.repeat + 1):  # round 0: warm-up (page cache, JIT-free start-up)
        for case in cases:
            wall, cpu, _ = run_once(case, logs / f"{re.sub(r'[^a-z]+', '_', case.name)}.log")
            if round_:
                case.times.append(wall)
                case.cpu.append(cpu)

    by_name = {c.name: c for c in cases}
    print(f"TPC-H sf {args.sf:g}: 22 models over 8 Parquet sources; median of {args.repeat} (s)")
    for case in cases:
        line = f"  {case.name:<24} {case.median:6.2f} s  (cpu {sorted(case.cpu)[len(case.cpu) // 2]:5.2f} s)"
        if case.baseline:
            base = by_name[case.baseline]
            line += f"  {case.median / base.median:4.2f}x {case.baseline}"
        print(line)

    expected = row_counts(root / "raw-duckdb", "*.parquet")
    got = row_counts(root / "warehouse" / "tpch", "**/*.parquet")
    wrong = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    print(
        f"rows: {len(expected) - len(wrong)} of {len(expected)} models equal to raw DuckDB",
        wrong or "",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
