"""verify's comparison: values are compared even when types differ, and both sides' first
differing rows are shown (two DuckDB builds of one model, written apart)."""

from __future__ import annotations

from pathlib import Path

from conftest import write_project

from glueform import Workspace
from glueform.verify import _compare

CONFIG = """\
name: cmp
targets:
  dev: {engine: duckdb}
  other: {engine: duckdb, warehouse: warehouse-other, state: .glueform-other}
transforms:
  defaults: {materialized: table}
"""


def _built(root: Path, target: str, sql: str) -> Workspace:
    (root / "transforms/m.sql").write_text(sql)
    ws = Workspace(root, target=target)
    result = ws.run()
    assert all(r.status == "success" for r in result.results), result.results
    return Workspace(root, target=target)


def test_types_and_values_are_reported_together(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"glueform.yml": CONFIG, "transforms/m.sql": ""})
    base = _built(
        root, "dev", "select * from (values (1, 0.5::double), (2, 1.0), (3, 1.5)) t(id, x)\n"
    )
    other = _built(
        root,
        "other",
        "select * from (values (1, 0.5::decimal(10, 2)), (2, 1.25), (3, 1.5)) t(id, x)\n",
    )
    diff = _compare("m", base, other)
    assert not diff.equal
    assert diff.columns == ("x DOUBLE vs x DECIMAL(38, 2)",)
    assert (diff.rows, diff.only_in_base, diff.only_in_other) == ((3, 3), 1, 1)
    assert diff.sample == ("- (2, 1.0)", "+ (2, 1.25)")


def test_infinities_and_nan_compare_equal(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"glueform.yml": CONFIG, "transforms/m.sql": ""})
    sql = "select 1 / 0 as inf_, 0 / 0 as nan_, -1 / 0 as neg, 1 / 3 as third\n"
    base, other = _built(root, "dev", sql), _built(root, "other", sql)
    assert _compare("m", base, other).equal
