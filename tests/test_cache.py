"""The compile cache: reused when nothing changed, invalidated by anything that matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import basic_files, glueform, write_project

from glueform import Workspace
from glueform.compile.cache import CompileCache


def test_unchanged_project_reuses_the_snapshot(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace(project).validate()
    import glueform.workspace as ws_module

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again although nothing changed")

    monkeypatch.setattr(ws_module, "compile_project", boom)
    monkeypatch.setattr(ws_module, "load_project", boom)
    graph = Workspace(project).graph
    assert set(graph.nodes) == {"stg_orders", "stg_customers", "customer_totals"}
    assert graph.select(["customer_totals+"]) == ["customer_totals"]


def test_changed_model_is_recompiled(project: Path) -> None:
    Workspace(project).validate()
    mart = project / "transforms/marts/customer_totals.sql"
    mart.write_text(mart.read_text().replace("as total", "as total_amount"))
    assert "total_amount" in Workspace(project).graph.nodes["customer_totals"].sql


def test_var_override_is_part_of_the_key(project: Path) -> None:
    assert ">= 10" in Workspace(project).graph.nodes["stg_orders"].sql
    assert ">= 99" in Workspace(project, vars={"min_amount": 99}).graph.nodes["stg_orders"].sql


def test_env_var_change_rerenders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = basic_files()
    files["transforms/env_model.sql"] = "select '{{ env_var('SHOP_REGION', 'eu') }}' as region\n"
    root = write_project(tmp_path / "p", files)
    monkeypatch.setenv("SHOP_REGION", "us")
    assert "'us'" in Workspace(root).graph.nodes["env_model"].sql
    monkeypatch.setenv("SHOP_REGION", "ap")
    assert "'ap'" in Workspace(root).graph.nodes["env_model"].sql
    monkeypatch.delenv("SHOP_REGION")
    assert "'eu'" in Workspace(root).graph.nodes["env_model"].sql


def test_cached_project_still_reports_a_vanished_source_file(project: Path) -> None:
    Workspace(project).validate()
    (project / "data/orders.csv").unlink()
    result = glueform("validate", "-p", str(project))
    assert result.exit_code == 2 and "source file not found" in result.stderr


def test_cached_errors_are_not_cached(tmp_path: Path) -> None:
    files = basic_files()
    files["transforms/bad.sql"] = "select * from {{ ref('nope') }}\n"
    root = write_project(tmp_path / "p", files)
    assert glueform("validate", "-p", str(root)).exit_code == 2
    assert glueform("validate", "-p", str(root)).exit_code == 2


def test_corrupt_cache_is_rebuilt(project: Path) -> None:
    Workspace(project).validate()
    cache_file = project / "target/cache/compile.pickle"
    cache_file.write_bytes(b"not a pickle")
    assert "customer_totals" in Workspace(project).graph.nodes
    assert CompileCache.load(project).snapshot is not None


def test_stale_entries_are_dropped(project: Path) -> None:
    Workspace(project).validate()
    mart = project / "transforms/marts/customer_totals.sql"
    for i in range(3):
        mart.write_text(mart.read_text() + f"\n-- edit {i}\n")
        Workspace(project).validate()
    assert len(CompileCache.load(project).rendered) == 3
