"""File bookmarks are keyed by the path below the source's folder: a copied project, a moved one
or two checkouts sharing one catalog read nothing twice, and plan says when the folder moved."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from catalogs import KINDS, catalog_url
from conftest import glueform, glueform_json, write_project
from sqlalchemy import create_engine, select
from test_incremental import CONFIG, MODELS, add_batch, make, node, rows, run
from test_rollback import oracle

from glueform import Workspace
from glueform.catalog import schema as catalog_schema


def clone(src: Path, dst: Path) -> Path:
    """What a second checkout holds: the project's files (new times), no state, no warehouse."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("warehouse", ".glueform"))
    for folder, _, files in os.walk(dst):
        for f in files:
            os.utime(Path(folder) / f, (1e9, 1e9))
    return dst


def test_a_copied_project_reads_nothing_twice(tmp_path: Path) -> None:
    orig = make(tmp_path / "orig", MODELS["append"])
    assert run(orig)["ok"]
    add_batch(orig, 1)
    assert run(orig)["ok"]
    expected = rows(orig)
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(orig), str(copy)], check=True)
    plan = glueform_json("plan", "-p", str(copy))
    [moved] = plan["bookmark_roots"]
    assert moved["before"] == str(orig / "data/events") and moved["now"] == str(
        copy / "data/events"
    )
    assert "nothing it has read is read again" in glueform("plan", "-p", str(copy)).stdout
    result = node(run(copy))
    assert result["incremental"] is True and result["files_read"] == 0
    add_batch(copy, 2)
    assert node(run(copy))["files_read"] == 1
    assert rows(copy) == oracle(tmp_path, copy)
    assert rows(orig) == expected
    assert glueform_json("plan", "-p", str(copy))["bookmark_roots"] == []


@pytest.mark.parametrize("kind", KINDS)
def test_two_checkouts_sharing_a_catalog_read_nothing_twice(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    warehouse = tmp_path / "shared-warehouse"
    with catalog_url(kind, tmp_path, request) as url:
        config = CONFIG + f"    warehouse: '{warehouse}'\n    catalog: '{url}'\n"
        a = make(tmp_path / "a", MODELS["append"])
        (a / "glueform.yml").write_text(config)
        assert run(a)["ok"]
        b = clone(a, tmp_path / "b")
        add_batch(b, 1)
        assert node(run(b))["files_read"] == 1  # only the new file
        add_batch(a, 1)  # the same file reaches the first checkout
        assert node(run(a))["files_read"] == 0
        add_batch(a, 2)
        assert node(run(a))["files_read"] == 1
        assert rows(a) == rows(b) == oracle(tmp_path, a)


def test_older_bookmarks_are_migrated_to_relative_keys(tmp_path: Path) -> None:
    orig = make(tmp_path / "orig", MODELS["append"])
    assert run(orig)["ok"]
    db = orig / ".glueform" / "catalog.db"
    engine = create_engine(f"sqlite:///{db}")
    c, f, m = catalog_schema.bookmark_commits, catalog_schema.bookmark_files, catalog_schema.meta
    root = str(orig / "data/events")
    with engine.begin() as conn:  # as schema 6 left them: absolute paths, no root
        for (path,) in conn.execute(select(f.c.path)).all():
            conn.execute(f.update().where(f.c.path == path).values(path=f"{root}/{path}"))
        conn.execute(c.update().values(root=None))
        conn.execute(m.update().where(m.c.key == "schema_version").values(value="6"))
    engine.dispose()
    with Workspace(orig).catalog() as catalog, catalog.engine.connect() as conn:
        assert conn.execute(select(f.c.path)).scalars().all() == ["b1.csv"]
        assert conn.execute(select(c.c.root)).scalars().all() == [root]
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(orig), str(copy)], check=True)
    add_batch(copy, 1)
    assert node(run(copy))["files_read"] == 1
    assert rows(copy) == oracle(tmp_path, copy)


@pytest.mark.parametrize("kind", KINDS)
def test_a_schema_5_catalog_upgrades_then_the_project_moves(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """A catalog as schema 5 wrote it (absolute locations and bookmark paths, no roots) is
    upgraded at open; the project then moves, and its next run reads only the new file."""
    from sqlalchemy import text

    with catalog_url(kind, tmp_path / "cat", request) as url:
        (tmp_path / "cat").mkdir()
        orig = make(tmp_path / "orig", MODELS["append"])
        (orig / "glueform.yml").write_text(CONFIG + f"    catalog: '{url}'\n")
        assert run(orig)["ok"]
        add_batch(orig, 1)
        assert run(orig)["ok"]
        with Workspace(orig).catalog() as catalog:
            warehouse = catalog.locations.root
            assert warehouse is not None
            with catalog.engine.begin() as conn:
                _as_schema_5(conn, warehouse, str(orig / "data/events"))
                conn.execute(text("ALTER TABLE bookmark_commits DROP COLUMN root"))
        with Workspace(orig).catalog() as catalog:  # upgraded here
            table = catalog.table("shop", "ev")
            assert table is not None and str(table.location).startswith(str(warehouse))
        moved = tmp_path / "moved"
        subprocess.run(["mv", str(orig), str(moved)], check=True)
        add_batch(moved, 2)
        result = node(run(moved))
        assert result["incremental"] is True and result["files_read"] == 1
        assert rows(moved) == oracle(tmp_path, moved)


def _as_schema_5(conn: Any, warehouse: Path, root: str) -> None:
    """Rewrite a catalog's rows as schema 5 held them."""
    s = catalog_schema
    for table in (s.tables, s.table_versions):
        for row in conn.execute(select(table)).mappings().all():
            d = row["definition"]
            if d.get("location") and not d["location"].startswith("/"):
                keys = [c == row[c.name] for c in table.primary_key.columns]
                d = {**d, "location": str(warehouse / d["location"])}
                conn.execute(table.update().where(*keys).values(definition=d))
    f = s.bookmark_files
    for (path,) in conn.execute(select(f.c.path).distinct()).all():
        conn.execute(f.update().where(f.c.path == path).values(path=f"{root}/{path}"))
    m = s.meta
    conn.execute(m.update().where(m.c.key == "schema_version").values(value="5"))


def test_a_moved_partitions_bookmark_reads_only_new_partitions(tmp_path: Path) -> None:
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
        "transforms/ev.sql": model,
    }
    orig = write_project(tmp_path / "orig", files)
    assert node(run(orig))["files_read"] == 1
    moved = tmp_path / "moved"
    subprocess.run(["mv", str(orig), str(moved)], check=True)
    (moved / "data/daily/dt=d2").mkdir()
    (moved / "data/daily/dt=d2/part.csv").write_text("id\n3\n")
    result = node(run(moved))
    assert result["incremental"] is True and result["files_read"] == 1
    assert rows(moved) == [(1, "d1"), (2, "d1"), (3, "d2")]


def test_a_source_path_edited_in_place_reads_nothing_twice(tmp_path: Path) -> None:
    root = make(tmp_path / "p", MODELS["append"])
    assert run(root)["ok"]
    sources = root / "sources/raw.yml"
    sources.write_text(sources.read_text().replace("data/events/*.csv", "data/*/*.csv"))
    add_batch(root, 1)
    result = node(run(root))
    assert result["incremental"] is True and result["files_read"] == 1
    assert rows(root) == oracle(tmp_path, root)
