"""Terraform-style plan of catalog changes, saved plans, and apply refusing stale ones."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import basic_files, glueform, glueform_json, write_project


def table_changes(root: Path) -> dict[str, dict[str, object]]:
    return {
        f"{t['database']}.{t['name']}": t for t in glueform_json("plan", "-p", str(root))["tables"]
    }


def test_first_plan_creates_sources_and_outputs_with_inferred_columns(project: Path) -> None:
    changes = table_changes(project)
    assert changes["raw.orders"]["action"] == "create"
    assert changes["raw.orders"]["table_type"] == "EXTERNAL_TABLE"
    assert changes["shop.customer_totals"]["action"] == "create"
    assert changes["shop.stg_customers"]["table_type"] == "VIRTUAL_VIEW"
    human = glueform("plan", "-p", str(project)).stdout
    assert "+ raw.orders" in human and "+ shop.customer_totals" in human
    assert "Plan: 5 to create, 0 to update, 0 to delete; 3 to build" in human


def test_column_level_update_and_no_changes_after_run(project: Path) -> None:
    assert glueform_json("run", "-p", str(project))["ok"]
    assert table_changes(project) == {}
    mart = project / "transforms/marts/customer_totals.sql"
    mart.write_text(
        "select c.name, count(*) as orders, cast(sum(o.amount) as varchar) as total\n"
        "from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c using (customer_id)\n"
        "group by c.name\n"
    )
    change = table_changes(project)["shop.customer_totals"]
    assert change["action"] == "update"
    assert change["added"] == ["orders BIGINT"]
    assert change["retyped"] == ["total: BIGINT -> VARCHAR"]
    human = glueform("plan", "-p", str(project)).stdout
    assert "~ shop.customer_totals" in human and "+ orders BIGINT" in human


def test_source_declaration_change_is_an_update(project: Path) -> None:
    assert glueform_json("run", "-p", str(project))["ok"]
    (project / "data/orders2.csv").write_text((project / "data/orders.csv").read_text())
    sources = project / "sources/raw.yml"
    sources.write_text(sources.read_text().replace("data/orders.csv", "data/orders2.csv"))
    change = table_changes(project)["raw.orders"]
    assert change["action"] == "update" and change["changed"] == ["location"]
    assert glueform_json("run", "-p", str(project))["ok"]
    assert table_changes(project) == {}


def test_removed_model_is_deleted_by_apply(project: Path, tmp_path: Path) -> None:
    assert glueform_json("run", "-p", str(project))["ok"]
    data = project / "warehouse/shop/customer_totals"
    assert data.is_dir()
    (project / "transforms/marts/customer_totals.sql").unlink()
    change = table_changes(project)["shop.customer_totals"]
    assert change["action"] == "delete" and change["note"] == "no longer in the project"
    plan_file = tmp_path / "plan.json"
    assert glueform("plan", "-p", str(project), "--out", str(plan_file)).exit_code == 0
    result = glueform("apply", str(plan_file), "-p", str(project))
    assert result.exit_code == 0, result.output
    assert not data.exists()
    assert "customer_totals" not in {
        t["name"] for t in glueform_json("catalog", "ls", "-p", str(project))
    }
    assert glueform("plan", "-p", str(project), "--detailed-exitcode").exit_code == 0


def test_apply_runs_the_saved_plan_and_refuses_a_stale_one(project: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert (
        glueform(
            "plan", "-p", str(project), "--out", str(plan_file), "--detailed-exitcode"
        ).exit_code
        == 2
    )
    payload = glueform_json("apply", str(plan_file), "-p", str(project))
    assert payload["ok"] and len(payload["nodes"]) == 3
    again = glueform("apply", str(plan_file), "-p", str(project))
    assert again.exit_code == 2 and "the catalog changed since the plan was made" in again.stderr
    assert glueform("plan", "-p", str(project), "--out", str(plan_file)).exit_code == 0
    mart = project / "transforms/marts/customer_totals.sql"
    mart.write_text(mart.read_text() + "\n-- edited\n")
    edited = glueform("apply", str(plan_file), "-p", str(project))
    assert edited.exit_code == 2 and "the project changed since the plan was made" in edited.stderr


def test_apply_refuses_foreign_and_broken_plan_files(project: Path, tmp_path: Path) -> None:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace("name: shop", "name: other")
    other = write_project(tmp_path / "other", files)
    plan_file = tmp_path / "other-plan.json"
    assert glueform("plan", "-p", str(other), "--out", str(plan_file)).exit_code == 0
    foreign = glueform("apply", str(plan_file), "-p", str(project))
    assert foreign.exit_code == 2 and "the plan is for project 'other'" in foreign.stderr
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"hello": 1}))
    result = glueform("apply", str(broken), "-p", str(project))
    assert result.exit_code == 2 and "is not a glueform plan" in result.stderr
    missing = glueform("apply", str(tmp_path / "none.json"), "-p", str(project))
    assert missing.exit_code == 2 and "no plan file" in missing.stderr
