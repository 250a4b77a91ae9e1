"""The example project doubles as the end-to-end fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import glueform, glueform_json, query

from glueform import Workspace

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example") / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", ".glueform", "target")
    )
    return root


def test_example_project_runs_and_is_then_up_to_date(shop: Path) -> None:
    payload = glueform_json("run", "-p", str(shop))
    assert payload["ok"], [n for n in payload["nodes"] if n["status"] != "success"]
    assert len(payload["nodes"]) >= 12
    assert glueform("plan", "-p", str(shop), "--detailed-exitcode").exit_code == 0


def test_example_marts_have_the_expected_shape(shop: Path) -> None:
    with Workspace(shop).catalog() as catalog:
        tables = {t.name: t for t in catalog.tables()}
    fct = tables["fct_orders"]
    assert fct.database == "marts" and fct.table_type == "MANAGED_TABLE"
    (orders, distinct_ids) = query(
        f"select count(*), count(distinct order_id) from read_parquet('{fct.location}/**/*.parquet', hive_partitioning = true)"
    )[0]
    assert orders == distinct_ids == 3000
    customers = tables["dim_customers"]
    rows = query(f"select count(*) from read_parquet('{customers.location}/*.parquet')")
    assert rows == [(500,)]
    assert tables["stg_orders"].is_view


def test_example_selectors(shop: Path) -> None:
    names = [r["name"] for r in glueform_json("ls", "-p", str(shop), "-s", "+fct_orders")]
    assert names[-1] == "fct_orders" and "stg_orders" in names and "dim_customers" not in names
    assert all(
        "staging" in r["tags"] for r in glueform_json("ls", "-p", str(shop), "-s", "tag:staging")
    )


def test_example_nightly_workflow(shop: Path) -> None:
    listed = {j["name"]: j for j in glueform_json("jobs", "ls", "-p", str(shop))}
    assert set(listed) == {"nightly", "marketing", "crawler:landing"}  # the crawler's schedule
    assert listed["nightly"]["crawlers"] == ["landing"]
    assert listed["nightly"]["next_run"] is not None
    assert glueform("jobs", "trigger", "nightly_2am", "-p", str(shop)).exit_code == 0
    runs = glueform_json("runs", "-p", str(shop))
    assert [(r["job"], r["status"]) for r in reversed(runs)] == [
        ("nightly", "SUCCEEDED"),
        ("marketing", "SUCCEEDED"),
    ]
    assert runs[0]["workflow_run_id"] == runs[1]["workflow_run_id"] is not None
    assert runs[1]["rows_written"] > 0
    (flow,) = glueform_json("runs", "--workflows", "-p", str(shop))
    assert flow["id"] == runs[0]["workflow_run_id"] and flow["status"] == "COMPLETED"
    assert flow["statistics"] == {"total": 2, "succeeded": 2}


def test_a_typo_in_a_mart_over_json_sources_is_caught_at_validate(tmp_path: Path) -> None:
    """The marts read NDJSON sources through their staging models: those are bound too."""
    root = tmp_path / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", ".glueform", "target")
    )
    mart = root / "transforms" / "marts" / "daily_revenue.sql"
    typo = mart.read_text().replace("count(distinct customer_id)", "count(distinct custmer_id)")
    mart.write_text(typo)
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2
    assert "daily_revenue.sql:18:24" in result.stderr
    assert "did you mean 'customer_id'" in result.stderr


def test_compile_for_spark_keeps_the_python_model_as_written(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", ".glueform", "target")
    )
    result = glueform("compile", "-p", str(root), "-t", "spark")
    assert result.exit_code == 0, result.output
    python = root / "target" / "compiled" / "transforms" / "marts" / "category_summary.py"
    assert (
        python.read_text().strip()
        == (root / "transforms" / "marts" / "category_summary.py").read_text().strip()
    )
