"""One catalog behaviour suite, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, write_project

from glueform.catalog import (
    MANAGED_TABLE,
    Build,
    CatalogError,
    CatalogStore,
    CatalogTable,
    ColumnDef,
    LockHeldError,
    NodeState,
    Partition,
    StaleVersionError,
)
from glueform.catalog import schema as catalog_schema
from glueform.catalog.locations import Locations
from glueform.catalog.rollback import rollback


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogStore]:
    sqlite = f"sqlite:///{tmp_path / 'catalog.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    catalog = CatalogStore(url)
    yield catalog
    catalog.close()


def table(name: str = "orders", location: str = "/data/orders/v1", **kw: object) -> CatalogTable:
    columns = (ColumnDef("order_id", "BIGINT", "order key"), ColumnDef("amount", "DOUBLE"))
    return CatalogTable(
        "shop", name, MANAGED_TABLE, columns=columns, location=location, format="parquet", **kw
    )  # type: ignore[arg-type]


def state(node: str, run_id: str = "r1") -> NodeState:
    return NodeState(
        node,
        "shop",
        "table",
        "fp",
        "sql",
        "cfg",
        {"source:raw.orders": "x"},
        run_id,
        time.time(),
        3,
    )


class Result:
    def __init__(self, name: str, status: str = "success") -> None:
        self.name, self.status, self.rows, self.seconds, self.message = name, status, 3, 0.1, None


def test_tables_versions_and_optimistic_updates(store: CatalogStore) -> None:
    created = store.put_table(table(), None)
    assert created.version == 1
    updated = store.put_table(table(location="/data/orders/v2"), expected_version=1)
    assert updated.version == 2 and updated.location == "/data/orders/v2"
    assert updated.created_at == created.created_at
    with pytest.raises(StaleVersionError, match="expected version 1"):
        store.put_table(table(location="/data/orders/v3"), expected_version=1)
    with pytest.raises(StaleVersionError):
        store.put_table(table(), None)
    history = store.table_versions("shop", "orders")
    assert [v.version for v in history] == [2, 1]
    assert history[1].table.location == "/data/orders/v1"
    shown = store.table("shop", "orders")
    assert shown is not None and shown.columns[0] == ColumnDef("order_id", "BIGINT", "order key")
    assert [t.key for t in store.tables("shop")] == ["shop.orders"] and store.tables("other") == []


def test_commit_builds_is_all_or_nothing(store: CatalogStore) -> None:
    run_id = store.begin_run("dev", "run")
    store.commit_builds(run_id, [Build(table("a"), None, state("a", run_id))], [Result("a")])
    with pytest.raises(StaleVersionError):
        store.commit_builds(
            run_id,
            [
                Build(table("b"), None, state("b", run_id)),
                Build(table("a", location="/x"), 7, state("a", run_id)),
            ],
            [Result("b")],
        )
    assert store.table("shop", "b") is None, "a failed batch commits nothing"
    assert set(store.node_states()) == {"a"}
    store.commit_builds(run_id, [Build(None, 1, state("a", run_id))], [Result("c", "error")])
    assert store.table("shop", "a").version == 1  # type: ignore[union-attr]
    store.finish_run(run_id, "error")
    assert store.runs()[0]["status"] == "error"


def test_partitions(store: CatalogStore) -> None:
    store.put_table(table(partition_keys=(ColumnDef("dt", "DATE"),)), None)
    parts = [
        Partition(("2024-01-02",), "/d/dt=2024-01-02", 10, 100),
        Partition(("2024-01-01",), "/d/dt=2024-01-01", 5, 50),
    ]
    store.replace_partitions("shop", "orders", parts)
    assert [p.values for p in store.partitions("shop", "orders")] == [
        ("2024-01-01",),
        ("2024-01-02",),
    ]
    store.replace_partitions("shop", "orders", parts[:1])
    assert len(store.partitions("shop", "orders")) == 1


def test_search_databases_and_rollback(store: CatalogStore, tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    store.ensure_databases(["shop", "raw", "shop"])
    assert store.databases() == ["raw", "shop"]
    store.put_table(table(location=str(v1), description="All orders"), None)
    store.put_table(table("customers", location=str(v2)), None)
    assert [t.name for t in store.search("ORDER KEY")] == ["customers", "orders"]
    assert [t.name for t in store.search("all orders")] == ["orders"]
    store.put_table(table(location=str(v2)), 1)
    restored = rollback(store, "shop", "orders", 1).table
    assert restored.version == 3 and restored.location == str(v1)
    with pytest.raises(CatalogError, match="has no version 9"):
        rollback(store, "shop", "orders", 9)
    with pytest.raises(CatalogError, match="no table shop.nope"):
        rollback(store, "shop", "nope", 1)


def test_lock_is_exclusive_and_a_dead_holder_is_taken_over(store: CatalogStore) -> None:
    with (
        store.lock("run:shop"),
        pytest.raises(LockHeldError, match=f"pid {os.getpid()}"),
        store.lock("run:shop"),
    ):
        pass
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    from sqlalchemy import insert

    with store.engine.begin() as conn:
        conn.execute(
            insert(catalog_schema.locks).values(
                name="run:shop", host=os.uname().nodename, pid=int(dead.stdout), since=0.0
            )
        )
    with store.lock("run:shop"):
        pass


def test_reopening_migrates_nothing_twice(store: CatalogStore) -> None:
    store.put_table(table(), None)
    again = CatalogStore(store.url)
    assert again.table("shop", "orders") is not None
    again.close()


def test_foreign_corrupt_and_newer_sqlite_files_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("create table tables (x int)")
    with pytest.raises(CatalogError, match="did not create"):
        CatalogStore.for_path(foreign)
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CatalogError, match="the catalog file is damaged"):
        CatalogStore.for_path(corrupt)
    newer = tmp_path / "newer.db"
    CatalogStore.for_path(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("update glueform_meta set value = '99' where key = 'schema_version'")
    with pytest.raises(CatalogError, match="newer glueform"):
        CatalogStore.for_path(newer)


def test_unreachable_catalog_url_is_a_clear_error(tmp_path: Path) -> None:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace(
        "    threads: 2\n",
        "    threads: 2\n    catalog: postgresql://nobody:secret@127.0.0.1:1/nothing\n",
    )
    root = write_project(tmp_path / "p", files)
    result = glueform("plan", "-p", str(root))
    assert result.exit_code == 2
    assert "cannot open the catalog" in result.stderr and "secret" not in result.stderr


def test_project_on_a_postgresql_catalog(tmp_path: Path, fresh_postgres: str) -> None:
    url = fresh_postgres
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace(
        "    threads: 2\n", f"    threads: 2\n    catalog: {url}\n"
    )
    root = write_project(tmp_path / "p", files)
    assert glueform_json("run", "-p", str(root))["ok"]
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 0
    tables = glueform_json("catalog", "ls", "-p", str(root))
    assert {t["name"] for t in tables} == {
        "orders",
        "customers",
        "stg_orders",
        "stg_customers",
        "customer_totals",
    }


def test_catalog_commands(project: Path) -> None:
    assert glueform_json("run", "-p", str(project))["ok"]
    assert glueform_json("run", "-p", str(project))["ok"]
    shown = glueform_json("catalog", "show", "shop.customer_totals", "-p", str(project))
    assert shown["database"] == "shop" and shown["version"] == 2 and shown["format"] == "parquet"
    assert shown["columns"] == [
        {"name": "name", "type": "VARCHAR", "comment": ""},
        {
            "name": "total",
            "type": "BIGINT",
            "comment": "",
        },  # DuckDB's HUGEINT sum, stored as BIGINT
    ]
    assert shown["partition_keys"] == []
    history = glueform_json("catalog", "history", "shop.customer_totals", "-p", str(project))
    assert [v["version"] for v in history] == [2, 1] and history[0]["current"]
    view = glueform_json("catalog", "show", "shop.stg_orders", "-p", str(project))
    assert view["version"] == 1 and view["table_type"] == "VIRTUAL_VIEW", (
        "an unchanged view keeps its version"
    )
    assert glueform_json("catalog", "partitions", "shop.customer_totals", "-p", str(project)) == []
    found = glueform_json("catalog", "search", "total", "-p", str(project))
    assert [f["name"] for f in found] == ["customer_totals"]
    rolled = glueform_json(
        "catalog", "rollback", "shop.customer_totals", "--to", "1", "-p", str(project)
    )
    assert rolled["version"] == 3 and rolled["location"] == history[1]["location"]
    reasons = {
        c["name"]: c["reasons"] for c in glueform_json("plan", "-p", str(project))["changes"]
    }
    assert reasons["customer_totals"] == ["new"]
    for bad in (
        ["show", "nodot"],
        ["show", "shop.nope"],
        ["rollback", "shop.customer_totals", "--to", "42"],
    ):
        result = glueform("catalog", *bad, "-p", str(project))
        assert result.exit_code == 2, bad
        assert "Traceback" not in result.output


@pytest.mark.slow
def test_second_run_reports_the_lock(tmp_path: Path) -> None:
    files = basic_files()
    files["transforms/slow.sql"] = "select count(*) as n from range(100000000000)\n"
    root = write_project(tmp_path / f"p{uuid.uuid4().hex[:4]}", files)
    first = subprocess.Popen(
        [sys.executable, "-m", "glueform.cli.main", "run", "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (root / "warehouse" / "shop" / "slow").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = glueform("run", "-p", str(root), "-s", "stg_orders")
        assert second.exit_code == 1  # a run failure, not a mistake
        assert "another run holds the lock" in second.stderr and str(first.pid) in second.stderr
    finally:
        first.terminate()
        first.wait(timeout=60)


def test_retention_keeps_the_newest_versions(project: Path) -> None:
    config = project / "glueform.yml"
    config.write_text(
        config.read_text().replace("    threads: 2\n", "    threads: 2\n    keep_versions: 2\n")
    )
    for _ in range(4):
        assert glueform_json("run", "-p", str(project))["ok"]
    folder = project / "warehouse" / "shop" / "customer_totals"
    history = glueform_json("catalog", "history", "shop.customer_totals", "-p", str(project))
    assert [v["version"] for v in history] == [4, 3, 2, 1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        Path(v["location"]).name for v in history[:2]
    )
    result = glueform(
        "catalog", "rollback", "shop.customer_totals", "--to", "1", "-p", str(project)
    )
    assert result.exit_code == 2 and "removed by retention" in result.stderr
    result = glueform(
        "catalog", "rollback", "other.customer_totals", "--to", "3", "-p", str(project)
    )
    assert result.exit_code == 2 and "did you mean shop.customer_totals?" in result.stderr
    assert (
        glueform_json(
            "catalog", "rollback", "shop.customer_totals", "--to", "3", "-p", str(project)
        )["version"]
        == 5
    )


def test_an_older_catalog_upgrades(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, insert, inspect

    path = tmp_path / "v1.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # a catalog as schema version 1 left it
        catalog_schema.MIGRATIONS[0](conn, Locations())
        conn.execute(insert(catalog_schema.meta).values(key="schema_version", value="1"))
        conn.execute(
            insert(catalog_schema.runs).values(
                id="r0", target="dev", command="run", status="success", started_at=1.0
            )
        )
    assert "node_runs_by_node" not in {i["name"] for i in inspect(engine).get_indexes("node_runs")}
    engine.dispose()
    store = CatalogStore.for_path(path)
    assert store.runs()[0]["id"] == "r0", "the data survives the upgrade"
    assert "node_runs_by_node" in {
        i["name"] for i in inspect(store.engine).get_indexes("node_runs")
    }
    store.close()


def test_detailed_exitcode_reports_errors_as_1(tmp_path: Path) -> None:
    files = basic_files()
    files["transforms/bad.sql"] = "select * from {{ ref('nope') }}\n"
    root = write_project(tmp_path / "p", files)
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 1
    assert glueform("plan", "-p", str(root)).exit_code == 2
