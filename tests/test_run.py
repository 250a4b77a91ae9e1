"""Running on DuckDB: Parquet outputs, parallel walk, failures, plan after run, atomic flips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, query, write_project

from glueform import Workspace


def current_location(root: Path, name: str) -> str:
    with Workspace(root).catalog() as catalog:
        location = {t.name: t for t in catalog.tables()}[name].location
    assert location is not None
    return location


def test_run_builds_views_and_parquet_tables(project: Path) -> None:
    payload = glueform_json("run", "-p", str(project))
    assert payload["ok"] is True
    by_name = {n["name"]: n for n in payload["nodes"]}
    assert by_name["customer_totals"]["rows"] == 3
    assert by_name["stg_orders"]["materialized"] == "view"
    location = current_location(project, "customer_totals")
    assert location.startswith(str(project / "warehouse" / "shop" / "customer_totals"))
    rows = query(f"select name, total from read_parquet('{location}/*.parquet') order by name")
    assert rows == [("ada", 20), ("grace", 30), ("linus", 40)]


def test_human_output_has_a_summary_table(project: Path) -> None:
    result = glueform("run", "-p", str(project))
    assert result.exit_code == 0
    assert "customer_totals" in result.stdout and "3 succeeded" in result.stdout


def test_plan_after_run_has_no_changes_and_explains_changes(project: Path) -> None:
    plan = glueform_json("plan", "-p", str(project))
    assert {c["name"]: c["reasons"] for c in plan["changes"]}["customer_totals"] == ["new"]
    assert glueform("plan", "-p", str(project), "--detailed-exitcode").exit_code == 2
    glueform("run", "-p", str(project))
    assert glueform("plan", "-p", str(project), "--detailed-exitcode").exit_code == 0
    assert "No changes" in glueform("plan", "-p", str(project)).stdout

    stg = project / "transforms/staging/stg_orders.sql"
    stg.write_text(stg.read_text().replace("select order_id", "select distinct order_id"))
    reasons = {
        c["name"]: c["reasons"] for c in glueform_json("plan", "-p", str(project))["changes"]
    }
    assert reasons["stg_orders"] == ["sql changed"]
    assert reasons["customer_totals"] == ["upstream changed: stg_orders"]
    assert reasons["stg_customers"] == []

    yml = project / "transforms/marts/docs.yml"
    yml.write_text("transforms:\n  - name: stg_customers\n    config: {materialized: table}\n")
    reasons = {
        c["name"]: c["reasons"] for c in glueform_json("plan", "-p", str(project))["changes"]
    }
    assert reasons["stg_customers"] == ["config changed"]


def test_var_override_changes_the_plan_and_the_data(project: Path) -> None:
    glueform("run", "-p", str(project))
    reasons = {
        c["name"]: c["reasons"]
        for c in glueform_json("plan", "-p", str(project), "--var", "min_amount=25")["changes"]
    }
    assert reasons["stg_orders"] == ["sql changed"]
    glueform("run", "-p", str(project), "--var", "min_amount=25")
    rows = query(
        f"select name from read_parquet('{current_location(project, 'customer_totals')}/*.parquet') order by 1"
    )
    assert rows == [("grace",), ("linus",)]


def test_failing_node_skips_descendants_not_siblings(tmp_path: Path) -> None:
    files = basic_files()
    files["transforms/marts/broken.sql"] = (
        "select cast(name as integer) as n from {{ ref('stg_customers') }}\n"
    )
    files["transforms/marts/after_broken.sql"] = "select * from {{ ref('broken') }}\n"
    root = write_project(tmp_path / "p", files)
    result = glueform("run", "-p", str(root))
    assert result.exit_code == 1
    assert "broken" in result.stderr and "transforms/marts/broken.sql" in result.stderr
    assert "Conversion Error" in result.stderr
    payload = glueform_json("run", "-p", str(root))
    status = {n["name"]: n["status"] for n in payload["nodes"]}
    assert status == {
        "stg_orders": "success",
        "stg_customers": "success",
        "customer_totals": "success",
        "broken": "error",
        "after_broken": "skipped",
    }


def test_failed_rebuild_keeps_the_previous_version(project: Path) -> None:
    glueform("run", "-p", str(project))
    before = current_location(project, "customer_totals")
    mart = project / "transforms/marts/customer_totals.sql"
    mart.write_text(mart.read_text().replace("sum(o.amount)", "sum(cast(c.name as integer))"))
    assert glueform("run", "-p", str(project)).exit_code == 1
    assert current_location(project, "customer_totals") == before
    rows = query(f"select count(*) from read_parquet('{before}/*.parquet')")
    assert rows == [(3,)]
    versions = sorted(p.name for p in Path(before).parent.iterdir())
    assert len(versions) == 1, "the failed build's folder is removed"


def test_select_builds_only_the_selection_and_reads_committed_upstreams(project: Path) -> None:
    glueform("run", "-p", str(project))
    payload = glueform_json("run", "-p", str(project), "-s", "customer_totals")
    assert [n["name"] for n in payload["nodes"]] == ["customer_totals"]
    assert payload["ok"]


def test_selected_node_whose_upstream_was_never_built_fails_clearly(project: Path) -> None:
    payload = glueform_json("run", "-p", str(project), "-s", "customer_totals")
    assert payload["ok"] is False
    assert "never been built" in payload["nodes"][0]["message"]


@pytest.mark.parametrize("threads", ["1", "4"])
def test_wide_dag_in_parallel(tmp_path: Path, threads: str) -> None:
    files = {
        "glueform.yml": "name: w\n",
        "transforms/base.sql": "select range as i from range(1000)\n",
    }
    for i in range(20):
        files[f"transforms/leaf_{i:02}.sql"] = (
            f"select i * {i} as v from {{{{ ref('base') }}}} where i % 20 = {i}\n"
        )
    files["transforms/total.sql"] = " union all ".join(
        f"select * from {{{{ ref('leaf_{i:02}') }}}}" for i in range(20)
    )
    root = write_project(tmp_path / "w", files)
    payload = glueform_json("run", "-p", str(root), "--threads", threads)
    assert payload["ok"]
    rows = {n["name"]: n["rows"] for n in payload["nodes"]}
    assert rows["total"] == 1000 and rows["leaf_00"] == 50


def test_source_formats(tmp_path: Path) -> None:
    import duckdb

    data = tmp_path / "f" / "data"
    data.mkdir(parents=True)
    (data / "a.json").write_text(json.dumps([{"k": 1, "tags": ["x", "y"]}, {"k": 2, "tags": []}]))
    (data / "b.tsv").write_text("k\tname\n1\tone\n2\ttwo\n")
    for part in ("p1", "p2"):
        (data / "events").mkdir(exist_ok=True)
        (data / "events" / f"{part}.ndjson").write_text('{"k": 1, "nested": {"a": 1}}\n')
    duckdb.sql(f"copy (select 1 as k, 'pq' as s) to '{data}/c.parquet' (format parquet)")
    sources = """\
sources:
  - name: raw
    tables:
      - {name: a, path: data/a.json}
      - {name: b, path: data/b.tsv}
      - {name: events, path: 'data/events/*.ndjson'}
      - {name: c, path: data/c.parquet}
"""
    model = (
        "select a.k, len(a.tags) as n_tags, b.name, c.s,\n"
        "  (select count(*) from {{ source('raw', 'events') }} e where e.nested.a = a.k) as events\n"
        "from {{ source('raw', 'a') }} a\n"
        "join {{ source('raw', 'b') }} b on a.k = b.k\n"
        "left join {{ source('raw', 'c') }} c on c.k = a.k\n"
    )
    root = write_project(
        tmp_path / "f",
        {"glueform.yml": "name: f\n", "sources/raw.yml": sources, "transforms/m.sql": model},
    )
    payload = glueform_json("run", "-p", str(root))
    assert payload["ok"], payload
    rows = query(
        f"select * from read_parquet('{current_location(root, 'm')}/*.parquet') order by k"
    )
    assert rows == [(1, 2, "one", "pq", 2), (2, 0, "two", None, 0)]


def test_compile_writes_sql_under_target(project: Path) -> None:
    result = glueform("compile", "-p", str(project))
    assert result.exit_code == 0
    compiled = (project / "target/compiled/transforms/marts/customer_totals.sql").read_text()
    assert '"shop"."stg_orders"' in compiled and "{{" not in compiled
    assert glueform("validate", "-p", str(project)).exit_code == 0


def test_init_scaffold_runs(tmp_path: Path) -> None:
    root = tmp_path / "new_project"
    assert glueform("init", str(root)).exit_code == 0
    assert (root / ".gitignore").is_file()
    payload = glueform_json("run", "-p", str(root))
    assert payload["ok"] and len(payload["nodes"]) == 2
    assert glueform("init", str(root)).exit_code == 2


def test_partitioned_table(tmp_path: Path) -> None:
    files = {
        "glueform.yml": "name: p\n",
        "transforms/events.sql": (
            "{{ config(partition_by=['dt', 'kind']) }}\n"
            "select i as id, date '2024-01-01' + cast(i % 3 as integer) as dt,\n"
            "  case when i % 2 = 0 then 'a/b' else 'c' end as kind\n"
            "from range(30) t(i)\n"
        ),
        "transforms/first_day.sql": "select count(*) as n from {{ ref('events') }} where dt = date '2024-01-01'\n",
    }
    root = write_project(tmp_path / "p", files)
    payload = glueform_json("run", "-p", str(root))
    assert payload["ok"], payload
    rows = {n["name"]: n["rows"] for n in payload["nodes"]}
    assert rows["events"] == 30 and rows["first_day"] == 1
    shown = glueform_json("catalog", "show", "p.events", "-p", str(root))
    assert [c["name"] for c in shown["columns"]] == ["id"]
    assert [(c["name"], c["type"]) for c in shown["partition_keys"]] == [
        ("dt", "DATE"),
        ("kind", "VARCHAR"),
    ]
    parts = glueform_json("catalog", "partitions", "p.events", "-p", str(root))
    assert len(parts) == 6 and sum(p["rows"] for p in parts) == 30
    assert ["2024-01-01", "a/b"] in [p["values"] for p in parts]
    first = current_location(root, "first_day")
    assert query(f"select n from read_parquet('{first}/*.parquet')") == [(10,)]
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 0
    # a downstream run that reads the committed partitioned table from the catalog
    assert glueform_json("run", "-p", str(root), "-s", "first_day")["ok"]


def test_partition_by_on_a_view_is_refused(tmp_path: Path) -> None:
    files = {
        "glueform.yml": "name: p\n",
        "transforms/v.sql": "{{ config(materialized='view', partition_by=['x']) }}\nselect 1 as x\n",
    }
    root = write_project(tmp_path / "p", files)
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2 and "partition_by needs materialized='table'" in result.stderr


def test_partitioned_source(tmp_path: Path) -> None:
    import duckdb

    data = tmp_path / "s" / "data" / "events"
    for day, n in (("2024-01-01", 3), ("2024-01-02", 5)):
        (data / f"dt={day}").mkdir(parents=True)
        duckdb.sql(
            f"copy (select range as id from range({n})) to '{data}/dt={day}/part-0.parquet' (format parquet)"
        )
    sources = (
        "sources:\n  - name: raw\n    tables:\n"
        "      - name: events\n        path: 'data/events/*/*.parquet'\n"
        "        columns: [{name: id, type: BIGINT}]\n"
        "        partition_keys: [{name: dt, type: DATE}]\n"
    )
    files = {
        "glueform.yml": "name: s\n",
        "sources/raw.yml": sources,
        "transforms/day_two.sql": "select count(*) as n, min(dt) as dt from {{ source('raw', 'events') }} where dt = date '2024-01-02'\n",
    }
    root = write_project(tmp_path / "s", files)
    assert glueform_json("run", "-p", str(root))["ok"]
    assert query(
        f"select n, cast(dt as varchar) from read_parquet('{current_location(root, 'day_two')}/*.parquet')"
    ) == [(5, "2024-01-02")]
    parts = glueform_json("catalog", "partitions", "raw.events", "-p", str(root))
    assert [p["values"] for p in parts] == [["2024-01-01"], ["2024-01-02"]]
    shown = glueform_json("catalog", "show", "raw.events", "-p", str(root))
    assert shown["partition_keys"] == [{"name": "dt", "type": "DATE", "comment": ""}]
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 0
