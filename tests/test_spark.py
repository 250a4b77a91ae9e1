"""The same project on Spark: one Spark session for the whole test run (started on first use)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, write_project

from glueform import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.spark]
pytest.importorskip("pyspark", reason="the spark extra is part of the dev extras")

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
SPARK_TARGET = "  spark:\n    engine: spark\n    warehouse: warehouse-spark\n    state: .glueform-spark\n    spark: {master: 'local[2]'}\n"


def outputs(root: Path, target: str) -> dict[str, list[tuple[object, ...]]]:
    """Every output table's rows, sorted, read back with DuckDB from its current version."""
    import duckdb

    out = {}
    with Workspace(root, target=target).catalog() as catalog:
        tables = [t for t in catalog.tables() if t.table_type == "MANAGED_TABLE"]
    with duckdb.connect() as con:
        for t in tables:
            columns = ", ".join(f'"{c.name}"' for c in t.columns + t.partition_keys)
            scan = f"read_parquet('{t.location}/**/*.parquet', hive_partitioning = true)"
            rows = con.execute(f"select {columns} from {scan}").fetchall()
            out[t.name] = sorted(rows, key=repr)
    return out


def column_names(root: Path, target: str) -> dict[str, list[str]]:
    """Column names per output. (Types may still differ where sources declare none: each
    engine infers CSV types its own way. Casting to declared types is parity work to come.)"""
    with Workspace(root, target=target).catalog() as catalog:
        tables = [t for t in catalog.tables() if t.table_type != "EXTERNAL_TABLE"]
    return {t.name: [c.name for c in t.columns] for t in tables}


def test_basic_project_gives_the_same_tables_on_both_engines(tmp_path: Path) -> None:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace("vars:", SPARK_TARGET + "vars:")
    root = write_project(tmp_path / "p", files)
    assert glueform_json("run", "-p", str(root))["ok"]
    spark = glueform_json("run", "-p", str(root), "-t", "spark")
    assert spark["ok"], spark
    assert outputs(root, "dev") == outputs(root, "spark")
    assert column_names(root, "dev") == column_names(root, "spark")
    assert glueform("plan", "-p", str(root), "-t", "spark", "--detailed-exitcode").exit_code == 0


def parity_types(root: Path, target: str) -> dict[str, list[tuple[str, str]]]:
    """Column types as the catalog records them: the same storage types on both engines."""
    with Workspace(root, target=target).catalog() as catalog:
        tables = [t for t in catalog.tables() if t.table_type != "EXTERNAL_TABLE"]
    return {t.name: [(c.name, c.type) for c in t.columns] for t in tables}


def test_example_project_gives_the_same_tables_on_both_engines(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse*", ".glueform*", "target")
    )
    assert glueform_json("run", "-p", str(root))["ok"]
    spark = glueform_json("run", "-p", str(root), "-t", "spark")
    assert spark["ok"], [
        (n["name"], n["message"]) for n in spark["nodes"] if n["status"] != "success"
    ]
    duck, on_spark = outputs(root, "dev"), outputs(root, "spark")
    assert set(duck) == set(on_spark) and len(duck) == 11
    for name in duck:
        assert duck[name] == on_spark[name], name
    assert parity_types(root, "dev") == parity_types(root, "spark")
    partitions = glueform_json(
        "catalog", "partitions", "marts.fct_orders", "-p", str(root), "-t", "spark"
    )
    assert len(partitions) == 6
    assert glueform("plan", "-p", str(root), "-t", "spark", "--detailed-exitcode").exit_code == 0


def test_unknown_engine_settings_are_refused(tmp_path: Path) -> None:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace(
        "vars:", SPARK_TARGET.replace("master:", "mastr:") + "vars:"
    )
    root = write_project(tmp_path / "p", files)
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2 and "did you mean 'master'?" in result.stderr


def spark_project(tmp_path: Path) -> Path:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace("vars:", SPARK_TARGET + "vars:")
    return write_project(tmp_path / "p", files)


def run_in_subprocess(
    code: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_missing_pyspark_says_what_to_install(tmp_path: Path) -> None:
    root = spark_project(tmp_path)
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from glueform.cli.main import main\n"
        f"sys.argv = ['glueform', 'run', '-p', {str(root)!r}, '-t', 'spark']\n"
        "main()\n"
    )
    out = run_in_subprocess(code)
    assert out.returncode == 2, out.stderr
    assert "pip install 'glueform[spark]'" in out.stderr and "Traceback" not in out.stderr


def test_missing_java_says_what_to_install(tmp_path: Path) -> None:
    root = spark_project(tmp_path)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "JAVA_HOME": ""}
    code = f"import sys\nfrom glueform.cli.main import main\nsys.argv = ['glueform', 'run', '-p', {str(root)!r}, '-t', 'spark']\nmain()\n"
    out = run_in_subprocess(code, env)
    assert out.returncode == 2, out.stderr
    assert "needs Java" in out.stderr and "Traceback" not in out.stderr
    with Workspace(root, target="spark").catalog() as catalog:
        assert [t for t in catalog.tables() if t.table_type != "EXTERNAL_TABLE"] == [], (
            "nothing was built"
        )


def test_too_old_java_says_what_to_install(tmp_path: Path) -> None:
    """A JAVA_HOME whose java is 11 (a script that answers -version as Java 11 does)."""
    root = spark_project(tmp_path)
    java = tmp_path / "jdk11/bin/java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    java.chmod(0o755)
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "jdk11")}
    code = f"import sys\nfrom glueform.cli.main import main\nsys.argv = ['glueform', 'run', '-p', {str(root)!r}, '-t', 'spark']\nmain()\n"
    out = run_in_subprocess(code, env)
    assert out.returncode == 2, out.stderr
    assert "needs Java 17 or newer" in out.stderr and "is Java 11" in out.stderr
    assert "openjdk-17" in out.stderr and "Traceback" not in out.stderr


def test_unreachable_master_fails_in_seconds(tmp_path: Path) -> None:
    files = basic_files()
    target = SPARK_TARGET.replace("local[2]", "spark://127.0.0.1:1")
    files["glueform.yml"] = files["glueform.yml"].replace("vars:", target + "vars:")
    root = write_project(tmp_path / "p", files)
    result = glueform("run", "-p", str(root), "-t", "spark")
    assert result.exit_code == 2
    assert "the Spark master at spark://127.0.0.1:1 does not answer" in result.stderr


def test_verify_reports_equal_and_different_tables(tmp_path: Path) -> None:
    root = spark_project(tmp_path)
    (root / "transforms/marts/names.sql").write_text(
        "select upper(name) as name from {{ ref('stg_customers') }}\n"
    )
    same = glueform_json("verify", "-p", str(root), "-s", "names")
    assert same["ok"] and same["base"] == "dev" and same["other"] == "spark"
    assert [t["name"] for t in same["tables"]] == ["names"]
    # an unnamed expression: DuckDB calls it count_star(), and so does Spark's table
    (root / "transforms/marts/counted.sql").write_text(
        "select count(*) from {{ ref('stg_customers') }}\n"
    )
    unnamed = glueform_json("verify", "-p", str(root), "-s", "counted")
    assert unnamed["ok"], unnamed
    # a DOUBLE as text: DuckDB writes 1e+20, Spark 1.0E20
    (root / "transforms/marts/as_text.sql").write_text("select cast(1e20 as varchar) as big\n")
    result = glueform("verify", "-p", str(root), "-s", "as_text")
    assert result.exit_code == 1
    assert "differs  as_text: 1 rows only on dev, 1 only on spark" in result.stdout
    assert "- ('1e+20',)" in result.stdout and "+ ('1.0E20',)" in result.stdout
    assert not (root / "warehouse").exists(), "verify runs in scratch folders, not the warehouse"


def test_crawled_tables_read_the_same_on_both_engines(tmp_path: Path) -> None:
    """The example's landing crawler: Hive-style dt= folders of CSV, and unnamed year/month
    folders of gzipped NDJSON with a nested struct (partition_0, partition_1)."""
    root = tmp_path / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse*", ".glueform*", "target")
    )
    (root / "transforms/marts/refunds_daily.sql").write_text(
        "select dt, count(*) as refunds, sum(amount_cents) as cents\n"
        "from {{ source('landing', 'refunds') }} group by dt\n"
    )
    (root / "transforms/marts/app_months.sql").write_text(
        "select partition_0 as year, partition_1 as month, count(*) as events,\n"
        "       count(distinct device.os) as systems\n"
        "from {{ source('landing', 'app_events') }} group by all\n"
    )
    assert glueform("crawl", "-p", str(root)).exit_code == 0
    report = glueform_json("verify", "-p", str(root), "-s", "refunds_daily", "-s", "app_months")
    assert report["ok"], report
    assert {t["name"]: t["rows"][0] for t in report["tables"]} == {
        "refunds_daily": 3,
        "app_months": 2,
    }
