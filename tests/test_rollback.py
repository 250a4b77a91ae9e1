"""A rollback moves a table and its model's bookmarks together, under the run lock: after it,
the next run reads again what the undone runs had read, and nothing twice."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from catalogs import KINDS, catalog_url
from conftest import glueform, glueform_json
from test_incremental import CONFIG, MODELS, add_batch, csv, make, node, rows, run

from glueform import Workspace

EXTRA = [(8, "e", "d5", 4, 80), (9, "e", "d5", 4, 90)]


def on_catalog(root: Path, url: str) -> Path:
    (root / "glueform.yml").write_text(CONFIG + f"    catalog: '{url}'\n")
    return root


def oracle(tmp_path: Path, root: Path) -> list[tuple[Any, ...]]:
    """The same files built once, from nothing, on a catalog of its own."""
    copy = tmp_path / "oracle"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("warehouse", ".glueform"))
    (copy / "glueform.yml").write_text(CONFIG)
    assert run(copy)["ok"]
    return rows(copy)


def three_runs(tmp_path: Path, url: str, model: str = MODELS["append"]) -> Path:
    root = on_catalog(make(tmp_path / "p", model), url)
    assert run(root)["ok"]
    for i in (1, 2):
        add_batch(root, i)
        assert run(root)["ok"]
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_rollback_moves_the_bookmarks_with_the_table(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    with catalog_url(kind, tmp_path, request) as url:
        rollback_then_run(tmp_path, url)


def rollback_then_run(tmp_path: Path, url: str) -> None:
    """The issue's case: three runs, back one, a new file: the table holds every file's rows."""
    root = three_runs(tmp_path, url)
    out = glueform_json("catalog", "rollback", "shop.ev", "--to", "2", "-p", str(root))
    assert out["version"] == 4 and out["undone_bookmark_commits"] == 1
    [mark] = Workspace(root).bookmarks()
    assert mark["files"] == 2 and mark["commits"] == 2
    (root / "data/events/b4.csv").write_text(csv(EXTRA))
    result = node(run(root))
    assert result["incremental"] is True and result["files_read"] == 2  # b3 again, and b4
    assert rows(root) == oracle(tmp_path, root)


@pytest.mark.parametrize("kind", KINDS)
def test_rollback_to_a_version_an_earlier_rollback_undid_is_refused(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    with catalog_url(kind, tmp_path, request) as url:
        refuse_an_undone_version(tmp_path, url)


def refuse_an_undone_version(tmp_path: Path, url: str) -> None:
    root = three_runs(tmp_path, url)
    assert glueform_json("catalog", "rollback", "shop.ev", "--to", "1", "-p", str(root))
    before = (Workspace(root).bookmarks(), rows(root))
    out = glueform("catalog", "rollback", "shop.ev", "--to", "2", "-p", str(root))
    assert out.exit_code == 2, out.output
    assert "version 2 of shop.ev was undone by an earlier rollback" in out.output
    assert "glueform bookmarks reset ev" in out.output and "Traceback" not in out.output
    assert "versions with their bookmarks: 1, 4" in out.output
    assert (Workspace(root).bookmarks(), rows(root)) == before
    back = glueform_json("catalog", "rollback", "shop.ev", "--to", "4", "-p", str(root))
    assert back["version"] == 4  # version 4 is current: nothing to move, nothing undone
    add_batch(root, 2)
    assert run(root)["ok"]
    assert rows(root) == oracle(tmp_path, root)


def test_rewind_and_rollback_are_one_operation(tmp_path: Path) -> None:
    root = three_runs(tmp_path, f"sqlite:///{tmp_path / 'cat.db'}", MODELS["insert_overwrite"])
    with Workspace(root).catalog() as catalog:
        first = next(v for v in catalog.table_versions("shop", "ev") if v.version == 1)
        parts = [p.values for p in catalog.partitions("shop", "ev")]
    assert parts == [("d1",), ("d2",), ("d3",), ("d4",)]
    glueform_json("catalog", "rollback", "shop.ev", "--to", "1", "-p", str(root))
    with Workspace(root).catalog() as catalog:  # the partitions went back with the table
        assert [p.values for p in catalog.partitions("shop", "ev")] == [("d1",), ("d2",)]
    assert Workspace(root).bookmarks()[0]["files"] == 1
    out = glueform_json("bookmarks", "rewind", "ev", "--to", first.run_id, "-p", str(root))
    assert out["version"] == 4  # already there: the same state, no new version
    assert run(root)["ok"]
    assert rows(root) == oracle(tmp_path, root)


def test_rollback_takes_the_run_lock(tmp_path: Path) -> None:
    root = three_runs(tmp_path, f"sqlite:///{tmp_path / 'cat.db'}")
    before = (Workspace(root).bookmarks(), rows(root))
    with Workspace(root).catalog() as catalog, catalog.lock("run:shop"):
        out = glueform("catalog", "rollback", "shop.ev", "--to", "2", "-p", str(root))
        rewound = glueform("bookmarks", "rewind", "ev", "--to", "x", "-p", str(root))
    assert out.exit_code == 1 and "another run holds the lock" in out.output  # a run failure
    assert rewound.exit_code == 1 and "another run holds the lock" in rewound.output
    assert (Workspace(root).bookmarks(), rows(root)) == before
