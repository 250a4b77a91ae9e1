"""Selectors as dbt users know them, over a compiled graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_project

from glueform import Workspace

CHAIN = {
    "glueform.yml": "name: g\n",
    "transforms/staging/a.sql": "select 1 as x",
    "transforms/staging/b.sql": "select * from {{ ref('a') }}",
    "transforms/int/c.sql": "select * from {{ ref('b') }}",
    "transforms/marts/d.sql": "{{ config(tags=['nightly']) }} select * from {{ ref('c') }}",
    "transforms/marts/e.sql": "{{ config(tags=['nightly', 'finance']) }} select * from {{ ref('a') }}",
}


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = write_project(tmp_path_factory.mktemp("dag"), CHAIN)
    return Workspace(root, use_cache=False).graph


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        (None, None, ["a", "b", "c", "d", "e"]),
        (["b"], None, ["b"]),
        (["b+"], None, ["b", "c", "d"]),
        (["+c"], None, ["a", "b", "c"]),
        (["1+c"], None, ["b", "c"]),
        (["b+1"], None, ["b", "c"]),
        (["+c+"], None, ["a", "b", "c", "d"]),
        (["tag:nightly"], None, ["d", "e"]),
        (["tag:nightly,tag:finance"], None, ["e"]),
        (["path:staging"], None, ["a", "b"]),
        (["path:transforms/marts"], None, ["d", "e"]),
        (["a+"], ["tag:nightly"], ["a", "b", "c"]),
        (["b d"], None, ["b", "d"]),
        (["*"], ["e"], ["a", "b", "c", "d"]),
    ],
)
def test_selectors(graph, select, exclude, expected) -> None:  # type: ignore[no-untyped-def]
    assert graph.select(select, exclude) == expected


def test_topological_order_is_stable(graph) -> None:  # type: ignore[no-untyped-def]
    order = graph.topological()
    assert order.index("a") < order.index("b") < order.index("c") < order.index("d")
    assert graph.topological() == order


def test_ls_json(tmp_path: Path) -> None:
    from conftest import glueform_json

    root = write_project(tmp_path / "g", CHAIN)
    rows = glueform_json("ls", "-p", str(root), "-s", "tag:nightly")
    assert [r["name"] for r in rows] == ["d", "e"]
    assert rows[1]["tags"] == ["nightly", "finance"]
    assert rows[0]["path"] == "transforms/marts/d.sql"
