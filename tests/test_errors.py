"""Bad input: one clear message with path:line:col and a hint, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import basic_files, glueform, write_project


def check_error(root: Path, *fragments: str, command: str = "validate") -> str:
    result = glueform(command, "-p", str(root))
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in err, err
    return err


def project_with(tmp_path: Path, **files: str) -> Path:
    all_files = basic_files()
    all_files.update(files)
    return write_project(tmp_path / "p", all_files)


def test_malformed_yaml(tmp_path: Path) -> None:
    root = project_with(tmp_path, **{"sources/raw.yml": "sources:\n  - name: raw\n    tables: [\n"})
    check_error(root, "raw.yml:4:1", "invalid YAML", "hint:")


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    config = "name: shop\ntargets:\n  dev:\n    engine: duckdb\n    treads: 2\n"
    root = project_with(tmp_path, **{"glueform.yml": config})
    check_error(root, "glueform.yml:5:5", "unknown key 'treads'", "did you mean 'threads'?")


def test_wrong_type(tmp_path: Path) -> None:
    config = "name: shop\ntargets:\n  dev:\n    engine: duckdb\n    threads: many\n"
    root = project_with(tmp_path, **{"glueform.yml": config})
    check_error(
        root, "glueform.yml:5:14", "targets.dev.threads must be an integer", '"many"', "hint:"
    )


def test_missing_required_key(tmp_path: Path) -> None:
    sources = "sources:\n  - name: raw\n    tables:\n      - name: orders\n"
    root = project_with(tmp_path, **{"sources/raw.yml": sources})
    check_error(root, "raw.yml:4:9", "missing required key 'path'")


def test_enum_did_you_mean(tmp_path: Path) -> None:
    yml = "transforms:\n  - name: stg_orders\n    config: {materialized: tabel}\n"
    root = project_with(tmp_path, **{"transforms/staging/docs.yml": yml})
    check_error(root, "docs.yml:3:28", "must be one of view, table", "did you mean 'table'?")


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    root = project_with(tmp_path, **{"glueform.yml": "name: shop\nname: other\n"})
    check_error(root, "glueform.yml:2:1", "duplicate key 'name'")


def test_ref_to_missing_model(tmp_path: Path) -> None:
    sql = "select *\nfrom {{ ref('stg_order') }}\n"
    root = project_with(tmp_path, **{"transforms/marts/bad.sql": sql})
    check_error(
        root, "bad.sql:2:14", "ref('stg_order') names a missing model", "did you mean 'stg_orders'?"
    )


def test_undeclared_source(tmp_path: Path) -> None:
    sql = "select 1 as x,\n  2 as y\nfrom {{ source('raw', 'refunds') }}\n"
    root = project_with(tmp_path, **{"transforms/marts/bad.sql": sql})
    check_error(root, "bad.sql:3:24", "source('raw', 'refunds') is not declared", "sources/*.yml")


def test_cycle_prints_path(tmp_path: Path) -> None:
    root = project_with(
        tmp_path,
        **{
            "transforms/a.sql": "select * from {{ ref('b') }}\n",
            "transforms/b.sql": "select * from {{ ref('c') }}\n",
            "transforms/c.sql": "select * from {{ ref('a') }}\n",
        },
    )
    err = check_error(root, "a.sql:1:18", "dependency cycle")
    assert "a -> b -> c -> a" in err


def test_jinja_syntax_error(tmp_path: Path) -> None:
    sql = "select 1 as x\n{% if var('min_amount') > 1 %}\nwhere true\n"
    root = project_with(tmp_path, **{"transforms/bad.sql": sql})
    check_error(root, "bad.sql:", "template error", "hint:")


def test_jinja_undefined_name_points_at_line(tmp_path: Path) -> None:
    sql = "select 1 as x\n-- a comment\nwhere {{ not_a_thing }} > 1\n"
    root = project_with(tmp_path, **{"transforms/bad.sql": sql})
    check_error(root, "bad.sql:3:1", "'not_a_thing' is undefined")


def test_sql_syntax_error_points_at_original_line(tmp_path: Path) -> None:
    sql = "{{ config(materialized='table') }}\nselect customer_id,\n  sum(amount as total\nfrom {{ ref('stg_orders') }}\n"
    root = project_with(tmp_path, **{"transforms/bad.sql": sql})
    err = check_error(root, "bad.sql:3:", "SQL syntax error")
    assert "sum(amount as total" in err


def test_hard_coded_table_must_use_ref(tmp_path: Path) -> None:
    sql = 'select * from "shop"."stg_orders"\n'
    root = project_with(tmp_path, **{"transforms/bad.sql": sql})
    check_error(root, "bad.sql:1:", "reads table shop.stg_orders directly", "ref('stg_orders')")


def test_duplicate_model_names(tmp_path: Path) -> None:
    root = project_with(tmp_path, **{"transforms/marts/stg_orders.sql": "select 1 as x\n"})
    err = check_error(root, "two models are named 'stg_orders'")
    assert "transforms/marts/stg_orders.sql" in err and "transforms/staging/stg_orders.sql" in err


def test_missing_source_file(tmp_path: Path) -> None:
    files = basic_files()
    del files["data/orders.csv"]
    root = write_project(tmp_path / "p", files)
    check_error(root, "raw.yml:5:15", "source file not found: data/orders.csv")


def test_documented_model_that_does_not_exist(tmp_path: Path) -> None:
    yml = "transforms:\n  - name: stg_order\n"
    root = project_with(tmp_path, **{"transforms/docs.yml": yml})
    check_error(
        root, "docs.yml:2:11", "no transforms/**/stg_order.sql", "did you mean 'stg_orders'?"
    )


def test_unknown_config_key_in_sql(tmp_path: Path) -> None:
    sql = "select 1 as x\n{{ config(materialised='table') }}\n"
    root = project_with(tmp_path, **{"transforms/bad.sql": sql})
    check_error(
        root, "bad.sql:2:4", "unknown config key 'materialised'", "did you mean 'materialized'?"
    )


def test_two_statements_refused(tmp_path: Path) -> None:
    root = project_with(tmp_path, **{"transforms/bad.sql": "select 1 as x; drop table y\n"})
    check_error(root, "bad.sql:1:1", "exactly one SELECT")


def test_missing_project_file(tmp_path: Path) -> None:
    result = glueform("validate", "-p", str(tmp_path))
    assert result.exit_code == 2
    assert "no glueform.yml" in result.stderr and "glueform init" in result.stderr


def test_unknown_selector_is_a_user_error(project: Path) -> None:
    result = glueform("ls", "-p", str(project), "-s", "stg_order")
    assert result.exit_code == 2
    assert "matches no model" in result.stderr and "stg_orders" in result.stderr


def test_unknown_target(project: Path) -> None:
    result = glueform("run", "-p", str(project), "-t", "prod")
    assert result.exit_code == 2
    assert "unknown target 'prod'" in result.stderr


@pytest.mark.parametrize("command", ["compile", "plan", "run", "ls"])
def test_every_command_reports_user_errors_the_same_way(tmp_path: Path, command: str) -> None:
    root = project_with(tmp_path, **{"transforms/bad.sql": "select * from {{ ref('nope') }}\n"})
    check_error(root, "bad.sql:1:", "ref('nope')", command=command)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from glueform.errors import UserError

    root = project_with(tmp_path, **{"transforms/bad.sql": "select * from {{ ref('nope') }}\n"})
    with pytest.raises(UserError):
        glueform("validate", "-p", str(root), "--debug")


def test_bad_reader_option_points_at_the_source(tmp_path: Path) -> None:
    sources = (
        "sources:\n  - name: raw\n    tables:\n"
        "      - name: orders\n        path: data/orders.csv\n        options: {delimiter: ','}\n"
        "      - name: customers\n        path: data/customers.ndjson\n"
    )
    root = project_with(tmp_path, **{"sources/raw.yml": sources})
    err = check_error(
        root, "raw.yml:4:9", "cannot read source raw.orders", "delimiter", command="run"
    )
    assert "reader options" in err


def test_deleted_table_data_is_a_clear_error(tmp_path: Path) -> None:
    import shutil

    root = project_with(
        tmp_path, **{"transforms/top.sql": "select * from {{ ref('customer_totals') }}"}
    )
    assert glueform("run", "-p", str(root)).exit_code == 0
    shutil.rmtree(root / "warehouse")
    result = glueform("run", "-p", str(root), "-s", "top")
    assert result.exit_code == 1  # a run failure (the data is gone), not a mistake in the project
    assert "shop.customer_totals cannot be read" in result.stderr
    assert "glueform run -s customer_totals" in result.stderr


@pytest.mark.parametrize("stem", ["my-model", "2nd_model", "a b", "drop;table"])
def test_model_names_that_would_break_paths_or_sql(tmp_path: Path, stem: str) -> None:
    root = project_with(tmp_path, **{f"transforms/{stem}.sql": "select 1 as x\n"})
    check_error(root, f"{stem}.sql:1:1", "does not make a valid model name")
