"""File bookmarks are keyed by the path below the source's folder: a copied project, a moved one
or two checkouts sharing one catalog read nothing twice, and plan says when the folder moved."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from catalogs import KINDS, catalog_url
from conftest import glueform, glueform_json
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
