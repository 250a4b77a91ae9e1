"""Incremental models and job bookmarks on DuckDB: each strategy against a full rebuild, what a
run reads, schema changes, reset and rewind, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import glueform, glueform_json, query, write_project

from glueform import Workspace

CONFIG = "name: shop\ntargets:\n  dev:\n    engine: duckdb\n    threads: 2\n"
SOURCES = """\
sources:
  - name: raw
    tables:
      - name: events
        path: data/events/*.csv
        format: csv
        columns:
          - {name: id, type: BIGINT}
          - {name: k, type: VARCHAR}
          - {name: dt, type: VARCHAR}
          - {name: batch, type: BIGINT}
          - {name: v, type: BIGINT}
      - name: orders
        path: data/orders.csv
        format: csv
        columns:
          - {name: order_id, type: BIGINT}
          - {name: updated_at, type: TIMESTAMP}
          - {name: amount, type: BIGINT}
"""
ORDERS = "order_id,updated_at,amount\n1,2024-01-01 10:00:00,5\n2,2024-01-02 10:00:00,7\n"

# Each batch is one new file. Later batches update ids 3-4 (merge), replace groups k (delete+insert)
# and partitions dt (insert_overwrite).
BATCHES = [
    [(1, "a", "d1", 1, 10), (2, "a", "d1", 1, 20), (3, "b", "d2", 1, 30), (4, "b", "d2", 1, 40)],
    [(3, "b", "d2", 2, 31), (4, "b", "d2", 2, 41), (5, "c", "d3", 2, 50)],
    [(6, "c", "d3", 3, 60), (7, "d", "d4", 3, 70), (1, "a", "d1", 3, 11)],
]

MODELS = {
    "append": "{{ config(materialized='incremental', bookmark='enable') }}\n"
    "select id, k, dt, batch, v from {{ source('raw', 'events') }}\n",
    "merge": "{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id', bookmark='enable') }}\n"
    "select id, k, dt, batch, v from {{ source('raw', 'events') }}\n"
    "qualify row_number() over (partition by id order by batch desc) = 1\n",
    "delete+insert": "{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='k', bookmark='enable') }}\n"
    "select id, k, dt, batch, v from (select *, max(batch) over (partition by k) as last\n"
    "from {{ source('raw', 'events') }}) where batch = last\n",
    "insert_overwrite": "{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['dt'], bookmark='enable') }}\n"
    "select id, k, dt, batch, v from (select *, max(batch) over (partition by dt) as last\n"
    "from {{ source('raw', 'events') }}) where batch = last\n",
}


def csv(rows: list[tuple[Any, ...]]) -> str:
    return "id,k,dt,batch,v\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def make(root: Path, model: str, batches: int = 1) -> Path:
    files: dict[str, str] = {
        "glueform.yml": CONFIG,
        "sources/raw.yml": SOURCES,
        "data/orders.csv": ORDERS,
        "transforms/ev.sql": model,
    }
    for i in range(batches):
        files[f"data/events/b{i + 1}.csv"] = csv(BATCHES[i])
    return write_project(root, files)


def add_batch(root: Path, i: int) -> None:
    (root / f"data/events/b{i + 1}.csv").write_text(csv(BATCHES[i]))


def rows(root: Path, name: str = "ev") -> list[tuple[Any, ...]]:
    """The current version's rows (sorted), read back from its Parquet files."""
    with Workspace(root).catalog() as catalog:
        table = next(t for t in catalog.tables() if t.name == name)
    cols = ", ".join(f'"{c.name}"' for c in (*table.columns, *table.partition_keys))
    scan = f"read_parquet('{table.location}/**/*.parquet', hive_partitioning = true)"
    return sorted(query(f"select {cols} from {scan}"), key=repr)


def node(result: dict[str, Any], name: str = "ev") -> dict[str, Any]:
    return next(n for n in result["nodes"] if n["name"] == name)


def run(root: Path, *args: str) -> dict[str, Any]:
    result = glueform_json("run", "-p", str(root), *args)
    return result  # type: ignore[no-any-return]


def full_rebuild(tmp_path: Path, root: Path, label: str = "oracle") -> list[tuple[Any, ...]]:
    """The oracle: the same project, built once from every file."""
    oracle = tmp_path / label
    shutil.copytree(root, oracle, ignore=shutil.ignore_patterns("warehouse", ".glueform"))
    assert run(oracle)["ok"]
    return rows(oracle)


def state(root: Path) -> tuple[Any, ...]:
    """The table's current version and the bookmarks: what a failed run must leave alone."""
    with Workspace(root).catalog() as catalog:
        table = next(t for t in catalog.tables() if t.name == "ev")
    return (table.version, table.location, Workspace(root).bookmarks())


@pytest.mark.parametrize("strategy", list(MODELS))
def test_each_strategy_equals_a_full_rebuild(tmp_path: Path, strategy: str) -> None:
    root = make(tmp_path / "p", MODELS[strategy])
    first = node(run(root))
    assert first["incremental"] is False and first["files_read"] == 1
    for i in (1, 2):
        add_batch(root, i)
        result = node(run(root))
        assert result["status"] == "success", result
        assert result["incremental"] is True
        assert result["files_read"] == 1, "only the new file is read"
        assert result["new_rows"] == len(BATCHES[i])
    assert rows(root) == full_rebuild(tmp_path, root)
    if strategy != "append":  # the strategies replace: no key appears twice
        assert len(rows(root)) < sum(len(b) for b in BATCHES)
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 0


def test_nothing_new_writes_nothing(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    before = state(root)
    result = node(run(root))
    assert result["status"] == "success" and result["message"] == "no new data"
    assert result["files_read"] == 0
    assert state(root) == before


def test_is_incremental_and_this_without_bookmarks(tmp_path: Path) -> None:
    """dbt's way: the model filters on its own table; every file is read, only new ids added."""
    model = (
        "{{ config(materialized='incremental') }}\n"
        "select id, v from {{ source('raw', 'events') }}\n"
        "{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}\n"
    )
    root = make(tmp_path / "p", model)
    assert node(run(root))["incremental"] is False
    (root / "data/events/b2.csv").write_text(csv([(5, "c", "d3", 2, 50), (6, "c", "d3", 2, 60)]))
    result = node(run(root))
    assert result["incremental"] is True and result["new_rows"] == 2
    assert result["files_read"] is None  # no bookmark: the whole source was read
    assert [r[0] for r in rows(root)] == [1, 2, 3, 4, 5, 6]
    compiled = Workspace(root).graph.nodes["ev"]
    assert '"shop"."ev"' in compiled.incremental_sql and "max(id)" not in compiled.sql


def test_full_refresh_rebuilds_from_everything(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    add_batch(root, 1)
    assert run(root)["ok"]
    result = node(run(root, "--full-refresh"))
    assert result["incremental"] is False and result["files_read"] == 2
    assert rows(root) == full_rebuild(tmp_path, root)
    add_batch(root, 2)  # and the bookmark was re-recorded: the next run reads only the new file
    assert node(run(root))["files_read"] == 1
    assert rows(root) == full_rebuild(tmp_path, root, "oracle2")


def test_changed_file_is_read_again_and_merged(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["merge"], batches=2)
    assert run(root)["ok"]
    changed = [*BATCHES[0], (8, "e", "d5", 1, 80)]
    changed[0] = (1, "a", "d1", 1, 99)
    (root / "data/events/b1.csv").write_text(csv(changed))
    result = node(run(root))
    assert result["files_read"] == 1 and result["new_rows"] == len(changed)
    by_id = {r[0]: r[4] for r in rows(root)}
    assert by_id[1] == 99 and by_id[8] == 80
    assert by_id[3] == 30  # the re-read file's rows are the newest read: they win on merge
    assert len(by_id) == len(rows(root))  # no duplicates


def test_changed_file_with_append_adds_its_rows_again(tmp_path: Path) -> None:
    """The documented policy: a changed file is read again whole; append keeps both copies."""
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    (root / "data/events/b1.csv").write_text(csv([*BATCHES[0], (9, "z", "d9", 1, 90)]))
    assert node(run(root))["new_rows"] == 5
    assert len(rows(root)) == 9


@pytest.mark.parametrize(
    ("mode", "columns"),
    [("append_new_columns", ["id", "v", "v2"]), ("sync_all_columns", ["id", "v2"])],
)
def test_on_schema_change(tmp_path: Path, mode: str, columns: list[str]) -> None:
    head = f"{{{{ config(materialized='incremental', bookmark='enable', on_schema_change='{mode}') }}}}\n"
    root = make(tmp_path / "p", head + "select id, v from {{ source('raw', 'events') }}\n")
    assert run(root)["ok"]
    select = "id, v, v * 2 as v2" if mode == "append_new_columns" else "id, v * 2 as v2"
    (root / "transforms/ev.sql").write_text(
        head + f"select {select} from {{{{ source('raw', 'events') }}}}\n"
    )
    add_batch(root, 1)
    assert node(run(root))["status"] == "success"
    with Workspace(root).catalog() as catalog:
        assert [c.name for c in catalog.table("shop", "ev").columns] == columns  # type: ignore[union-attr]
    got = {r[0]: r for r in rows(root)}
    if mode == "append_new_columns":
        assert got[1] == (1, 10, None) and got[5] == (5, 50, 100)  # old rows: NULL in v2
    else:
        assert got[1] == (1, None) and got[5] == (5, 100)


def test_on_schema_change_fail_changes_nothing(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    before = state(root)
    (root / "transforms/ev.sql").write_text(MODELS["append"].replace("v from", "v, 1 as w from"))
    add_batch(root, 1)
    result = node(run(root))
    assert result["status"] == "error"
    assert "other columns than the table (added: w)" in result["message"]
    assert "--full-refresh" in result["message"]
    assert state(root) == before
    assert node(run(root, "--full-refresh"))["status"] == "success"


def test_high_watermark_reads_only_newer_rows(tmp_path: Path) -> None:
    model = (
        "{{ config(materialized='incremental', incremental_strategy='merge', unique_key='order_id',"
        " bookmark={'sources': {'raw.orders': {'column': 'updated_at'}}}) }}\n"
        "select order_id, updated_at, amount from {{ source('raw', 'orders') }}\n"
    )
    root = make(tmp_path / "p", model)
    assert node(run(root))["new_rows"] == 2
    marks = Workspace(root).bookmarks()
    assert [(m["kind"], m["watermark"]) for m in marks] == [("column", "2024-01-02 10:00:00")]
    (root / "data/orders.csv").write_text(
        ORDERS + "2,2024-01-03 09:00:00,8\n3,2024-01-03 10:00:00,9\n"
    )
    result = node(run(root))
    assert result["incremental"] is True and result["new_rows"] == 2
    assert [(r[0], r[2]) for r in rows(root)] == [(1, 5), (2, 8), (3, 9)]
    assert node(run(root))["new_rows"] == 0  # nothing above the watermark
    assert Workspace(root).bookmarks()[0]["watermark"] == "2024-01-03 10:00:00"


def test_unknown_watermark_column_changes_nothing(tmp_path: Path) -> None:
    model = (
        "{{ config(materialized='incremental', bookmark={'sources': {'raw.orders': {'column': 'changed_at'}}}) }}\n"
        "select order_id, amount from {{ source('raw', 'orders') }}\n"
    )
    root = make(tmp_path / "p", model)
    result = node(run(root))
    assert result["status"] == "error"
    assert "bookmark column 'changed_at' is not a column of raw.orders" in result["message"]
    assert "updated_at" in result["message"]  # the hint lists the columns
    assert Workspace(root).bookmarks() == []


def test_reset_reads_everything_again(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    add_batch(root, 1)
    assert run(root)["ok"]
    out = glueform_json("bookmarks", "reset", "ev", "-p", str(root))
    assert out == {"reset": "ev", "bookmarks": 1}
    assert Workspace(root).bookmarks() == []
    result = node(run(root))
    assert result["incremental"] is False and result["files_read"] == 2
    assert rows(root) == full_rebuild(tmp_path, root)  # rebuilt, not appended twice


def test_rewind_restores_bookmark_and_table(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    first = run(root)
    first_rows = rows(root)
    for i in (1, 2):
        add_batch(root, i)
        assert run(root)["ok"]
    out = glueform_json("bookmarks", "rewind", "ev", "--to", first["run_id"], "-p", str(root))
    assert out["run_id"] == first["run_id"]
    assert rows(root) == first_rows
    [mark] = Workspace(root).bookmarks()
    assert mark["run_id"] == first["run_id"] and mark["files"] == 1
    result = node(run(root))
    assert result["incremental"] is True and result["files_read"] == 2
    assert rows(root) == full_rebuild(tmp_path, root)


def test_rewind_to_an_unknown_run_changes_nothing(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    before = state(root)
    out = glueform("bookmarks", "rewind", "ev", "--to", "20200101T000000-abcdef", "-p", str(root))
    assert out.exit_code == 2
    assert "run 20200101T000000-abcdef wrote no version of shop.ev" in out.output
    assert state(root) == before
    out = glueform("bookmarks", "rewind", "nope", "--to", "x", "-p", str(root))
    assert out.exit_code == 2 and "'nope' is not an incremental model" in out.output


def test_merge_refuses_duplicate_keys_in_new_rows(tmp_path: Path) -> None:
    model = MODELS["merge"].replace(
        "qualify row_number() over (partition by id order by batch desc) = 1\n", ""
    )
    root = make(tmp_path / "p", model)
    assert run(root)["ok"]
    before = state(root)
    (root / "data/events/b2.csv").write_text(csv([(5, "c", "d3", 2, 50), (5, "c", "d3", 2, 51)]))
    result = node(run(root))
    assert result["status"] == "error"
    assert (
        "unique_key of ev is not unique in the new rows: id=5 occurs 2 times" in result["message"]
    )
    assert state(root) == before  # neither the table nor the bookmark moved
    assert node(run(root))["status"] == "error"  # the same file is read again


def test_bookmark_of_a_renamed_source(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    before = state(root)
    (root / "sources/raw.yml").write_text(SOURCES.replace("name: events", "name: clicks"))
    (root / "transforms/ev.sql").write_text(MODELS["append"].replace("'events'", "'clicks'"))
    result = node(run(root))
    assert result["status"] == "error"
    assert "bookmark of source raw.events, which it no longer reads" in result["message"]
    assert "glueform bookmarks reset ev" in result["message"]
    assert state(root) == before
    assert glueform("bookmarks", "reset", "ev", "-p", str(root)).exit_code == 0
    assert node(run(root))["status"] == "success"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("materialized='incremental', incremental_strategy='merge'", "needs unique_key"),
        (
            "materialized='incremental', incremental_strategy='insert_overwrite'",
            "needs partition_by",
        ),
        ("materialized='table', unique_key='id'", "unique_key needs materialized='incremental'"),
        (
            "materialized='incremental', bookmark={'sources': {'raw.old_events': {'column': 'x'}}}",
            "options name source raw.old_events, which the model does not read",
        ),
        ("materialized='incremental', incremental_strategy='upsert'", "incremental_strategy"),
    ],
)
def test_bad_config_is_a_user_error(tmp_path: Path, config: str, message: str) -> None:
    root = make(
        tmp_path / "p",
        f"{{{{ config({config}) }}}}\nselect id from {{{{ source('raw', 'events') }}}}\n",
    )
    out = glueform("validate", "-p", str(root))
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert "Traceback" not in out.output


def test_bookmarks_show_json(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"], batches=2)
    result = run(root)
    [mark] = glueform_json("bookmarks", "show", "-p", str(root))
    assert mark["node"] == "ev" and mark["source"] == "raw.events" and mark["kind"] == "files"
    assert mark["files"] == 2 and mark["run_id"] == result["run_id"]
    assert "raw.events" in glueform("bookmarks", "show", "-p", str(root)).output


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_killed_incremental_run_then_rerun_equals_a_full_rebuild(tmp_path: Path, sig: str) -> None:
    """kill -9 (or SIGTERM) in the middle of an increment: nothing moves; the rerun reads exactly
    the files the killed run had not committed, and the table equals a full rebuild."""
    import os
    import signal
    import subprocess
    import sys
    import time

    model = MODELS["append"] + (
        "{% if var('slow', false) %}where (select count(*) from range(100000000000)) > 0{% endif %}\n"
    )
    root = make(tmp_path / "p", model)
    assert run(root)["ok"]
    before = state(root)
    add_batch(root, 1)
    add_batch(root, 2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "glueform.cli.main", "run", "-p", str(root), "--var", "slow=true"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Workspace(root).catalog() as catalog:
            if any(r["status"] == "running" for r in catalog.runs()):
                break
        time.sleep(0.05)
    time.sleep(1.5)  # well inside the (endless) build of the increment
    os.kill(proc.pid, getattr(signal, sig))
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert state(root) == before, "the killed increment must not move the table or the bookmark"

    result = node(run(root))
    assert result["incremental"] is True and result["files_read"] == 2
    assert rows(root) == full_rebuild(tmp_path, root)
    ids = [r[0] for r in rows(root)]
    assert len(ids) == sum(len(b) for b in BATCHES)  # no duplicate, no missing row


@pytest.mark.parametrize("strategy", ["append", "insert_overwrite"])
def test_increment_links_the_files_it_keeps(tmp_path: Path, strategy: str) -> None:
    """append and insert_overwrite take the previous version's files over as hard links (no
    rewrite); the new folder is still a whole table, and deleting the old one loses nothing."""
    root = make(tmp_path / "p", MODELS[strategy])
    first = run(root)
    old = root / "warehouse/shop/ev" / first["run_id"]
    add_batch(root, 1)
    second = run(root)
    new = root / "warehouse/shop/ev" / second["run_id"]
    old_files = {f.relative_to(old): f.stat().st_ino for f in old.rglob("*.parquet")}
    new_files = {f.relative_to(new): f.stat().st_ino for f in new.rglob("*.parquet")}
    kept = {rel for rel, ino in old_files.items() if new_files.get(rel) == ino}
    if strategy == "append":
        assert kept == set(old_files)
    else:  # batch 2 rewrote partition d2 only
        assert kept == {rel for rel in old_files if "dt=d2" not in str(rel)}
    shutil.rmtree(old)
    assert rows(root) == full_rebuild(tmp_path, root)


def test_partition_bookmark_reads_only_new_partitions(tmp_path: Path) -> None:
    model = (
        "{{ config(materialized='incremental', bookmark={'sources': {'raw.daily': {'partitions': true}}}) }}\n"
        "select id, dt from {{ source('raw', 'daily') }}\n"
    )
    files = {
        "glueform.yml": CONFIG,
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - name: daily\n"
        "        path: data/daily/*/*.csv\n        format: csv\n"
        "        columns: [{name: id, type: BIGINT}]\n"
        "        partition_keys: [{name: dt, type: VARCHAR}]\n",
        "data/daily/dt=d1/part.csv": "id\n1\n2\n",
        "data/daily/dt=d2/part.csv": "id\n3\n",
        "transforms/ev.sql": model,
    }
    root = write_project(tmp_path / "p", files)
    assert node(run(root))["files_read"] == 2
    (root / "data/daily/dt=d3").mkdir()
    (root / "data/daily/dt=d3/part.csv").write_text("id\n4\n5\n")
    result = node(run(root))
    assert result["incremental"] is True and result["files_read"] == 1 and result["new_rows"] == 2
    assert rows(root) == [(1, "d1"), (2, "d1"), (3, "d2"), (4, "d3"), (5, "d3")]
    [mark] = Workspace(root).bookmarks()
    assert mark["kind"] == "partitions" and mark["files"] == 3


def test_pause_reads_new_files_without_advancing(tmp_path: Path) -> None:
    """Glue's pause: what is new since the bookmark is read, the bookmark stays; a job's
    bookmark option (Workspace.run(bookmark=...)) turns a model's down for its run."""
    model = MODELS["merge"]
    root = make(tmp_path / "p", model)
    assert run(root)["ok"]
    add_batch(root, 1)
    marks = Workspace(root).bookmarks()
    paused = Workspace(root).run(bookmark="pause").results[0]
    assert paused.incremental is True and paused.files_read == 1
    assert Workspace(root).bookmarks() == marks  # not advanced
    assert node(run(root))["files_read"] == 1  # read again, now committed
    assert node(run(root))["files_read"] == 0
    add_batch(root, 2)
    disabled = Workspace(root).run(bookmark="disable").results[0]
    assert (
        disabled.status == "success" and disabled.files_read is None
    )  # everything read: merge keeps the result exact
    assert rows(root) == full_rebuild(tmp_path, root)


def test_python_transform_cannot_be_incremental(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    (root / "transforms/py_ev.py").write_text(
        "from glueform.transforms import transform\n\n\n"
        "@transform(materialized='incremental')\n"
        "def py_ev(raw__events):\n    return raw__events\n"
    )
    out = glueform("validate", "-p", str(root))
    assert out.exit_code == 2 and "a Python transform is materialized as a table" in out.output


def test_yaml_config_with_per_source_bookmarks(tmp_path: Path) -> None:
    root = make(tmp_path / "p", "select order_id, updated_at from {{ source('raw', 'orders') }}\n")
    (root / "transforms/_ev.yml").write_text(
        "transforms:\n  - name: ev\n    config:\n      materialized: incremental\n"
        "      bookmark: {mode: enable, sources: {raw.orders: {column: updated_at}}}\n"
    )
    assert node(run(root))["new_rows"] == 2
    assert Workspace(root).bookmarks()[0]["kind"] == "column"
    (root / "transforms/_ev.yml").write_text(
        "transforms:\n  - name: ev\n    config:\n      materialized: incremental\n"
        "      bookmark: {mode: sometimes}\n"
    )
    out = glueform("validate", "-p", str(root))
    assert out.exit_code == 2 and "_ev.yml" in out.output


def test_rewind_of_a_partitioned_table_restores_its_partitions(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["insert_overwrite"])
    first = run(root)
    with Workspace(root).catalog() as catalog:
        before = [p.values for p in catalog.partitions("shop", "ev")]
    add_batch(root, 1)
    assert run(root)["ok"]
    glueform_json("bookmarks", "rewind", "ev", "--to", first["run_id"], "-p", str(root))
    with Workspace(root).catalog() as catalog:
        assert [p.values for p in catalog.partitions("shop", "ev")] == before == [("d1",), ("d2",)]


def test_a_jobs_bookmark_option_reaches_its_runs(tmp_path: Path) -> None:
    """jobs/*.yml `bookmark: pause` on a job: its run reads the new file, the bookmark stays."""
    root = make(tmp_path / "p", MODELS["merge"])
    (root / "jobs").mkdir()
    (root / "jobs/jobs.yml").write_text(
        "jobs:\n  - {name: paused, select: [ev], bookmark: pause}\n"
        "  - {name: normal, select: [ev]}\n"
    )
    assert glueform("jobs", "run", "normal", "-p", str(root)).exit_code == 0
    add_batch(root, 1)
    marks = Workspace(root).bookmarks()
    assert glueform("jobs", "run", "paused", "-p", str(root)).exit_code == 0
    assert Workspace(root).bookmarks() == marks  # read, not advanced
    assert glueform("jobs", "run", "normal", "-p", str(root)).exit_code == 0
    assert Workspace(root).bookmarks() != marks
    assert rows(root) == full_rebuild(tmp_path, root)


def test_a_partitions_bookmark_on_an_unpartitioned_source_is_refused(tmp_path: Path) -> None:
    model = (
        "{{ config(materialized='incremental', "
        "bookmark={'sources': {'raw.orders': {'partitions': true}}}) }}\n"
        "select order_id, amount from {{ source('raw', 'orders') }}\n"
    )
    root = make(tmp_path / "p", model)
    failed = node(run(root), "ev")
    assert failed["status"] == "error"
    assert "a partitions bookmark needs a partitioned source; raw.orders" in failed["message"]


def test_a_lost_current_version_is_rebuilt_with_full_refresh(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    with Workspace(root).catalog() as catalog:
        table = next(t for t in catalog.tables() if t.name == "ev")
    shutil.rmtree(table.location)  # the table's files are gone
    stuck = glueform("run", "-p", str(root))
    assert stuck.exit_code == 1 and "glueform run -s ev --full-refresh" in stuck.stderr
    rebuilt = run(root, "--full-refresh")
    assert rebuilt["ok"] and node(rebuilt)["incremental"] is False
    assert len(rows(root)) == len(BATCHES[0])
