"""Incremental models on Spark give the same tables as on DuckDB and as a full rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_incremental import BATCHES, CONFIG, MODELS, add_batch, full_rebuild, make, node, run
from test_spark import SPARK_TARGET, outputs

pytestmark = [pytest.mark.slow, pytest.mark.spark]
pytest.importorskip("pyspark", reason="the spark extra is part of the dev extras")


@pytest.mark.parametrize("strategy", list(MODELS))
def test_each_strategy_on_spark_equals_duckdb_and_a_full_rebuild(
    tmp_path: Path, strategy: str
) -> None:
    root = make(tmp_path / "p", MODELS[strategy])
    (root / "glueform.yml").write_text(CONFIG + SPARK_TARGET)
    for target in ("dev", "spark"):
        assert node(run(root, "-t", target))["status"] == "success"
    for i in (1, 2):
        add_batch(root, i)
        for target in ("dev", "spark"):
            result = node(run(root, "-t", target))
            assert result["status"] == "success", result
            assert result["incremental"] is True and result["files_read"] == 1
            assert result["new_rows"] == len(BATCHES[i])
    on_spark = outputs(root, "spark")["ev"]
    assert on_spark == outputs(root, "dev")["ev"]
    assert sorted(on_spark, key=repr) == full_rebuild(tmp_path, root)
