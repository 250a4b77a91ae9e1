"""CSV sources never lose rows silently: a file that cannot be read as declared is an error that
names the file and the row; a well-formed one is read whole, on DuckDB and on Spark."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, query, write_project

from glueform import Workspace

RAGGED = "order_id,customer_id,amount\n1,1\n2,1,20,x,y,z\n3,2,30\n4,3,40\n"
DECLARED = (
    "sources:\n  - name: raw\n    tables:\n      - name: orders\n        path: data/orders.csv\n"
    "        columns:\n          - {name: order_id, type: BIGINT}\n"
    "          - {name: amount, type: BIGINT}\n"
    "      - {name: customers, path: data/customers.ndjson}\n"
)
SPARK_TARGET = (
    "  spark:\n    engine: spark\n    warehouse: warehouse-spark\n    state: .glueform-spark\n"
    "    spark: {master: 'local[2]'}\n"
)


def shop(tmp_path: Path, orders: str | bytes, sources: str | None = None) -> Path:
    files: dict[str, str | bytes] = {**basic_files(), "data/orders.csv": orders}
    if sources is not None:
        files["sources/raw.yml"] = sources
    return write_project(tmp_path / "shop", files)


def built(root: Path) -> list[str]:
    with Workspace(root).catalog() as catalog:
        return sorted(t.name for t in catalog.tables() if t.table_type != "EXTERNAL_TABLE")


@pytest.mark.parametrize("sources", [None, DECLARED], ids=["no columns", "declared columns"])
def test_a_ragged_file_is_an_error_naming_the_file_and_the_row(
    tmp_path: Path, sources: str | None
) -> None:
    root = shop(tmp_path, RAGGED, sources)
    result = glueform("run", "-p", str(root))
    assert result.exit_code == 2, result.output
    assert "data/orders.csv:2: row of 2 fields where the header has 3" in result.stderr
    assert "REPLACE list" not in result.stderr and "Traceback" not in result.stderr
    assert built(root) == []  # nothing was built from fewer rows


def test_an_empty_file_with_declared_columns_is_named(tmp_path: Path) -> None:
    root = shop(tmp_path, b"", DECLARED)
    result = glueform("run", "-p", str(root))
    assert result.exit_code == 2
    assert "data/orders.csv is empty: it has no header row" in result.stderr
    assert "REPLACE list" not in result.stderr


def test_a_ragged_row_past_the_sniffed_rows_fails_the_build_with_file_and_line(
    tmp_path: Path,
) -> None:
    rows = "".join(f"{i},{i % 3 + 1},{i}\n" for i in range(30_000))  # DuckDB sniffs 20,480
    root = shop(tmp_path, "order_id,customer_id,amount\n" + rows + "7,1\n")
    result = glueform_json("run", "-p", str(root))
    failed = {n["name"]: n["message"] for n in result["nodes"] if n["status"] == "error"}
    assert not result["ok"] and "customer_totals" in failed
    message = failed["customer_totals"]
    assert "Line: 30002" in message and "orders.csv" in message, message


@pytest.mark.parametrize(
    ("text", "options", "rows"),
    [
        ('order_id,customer_id,amount\n1,1,"5,5"\n2,1,"a ""quoted"" b"\n', None, 2),
        ("1,1,5\n2,1,20\n3,2,30\n", None, 3),  # no header: every row is data
        ("order_id;customer_id;amount\n1;1;5\n2;1;20\n", None, 2),
        ("order_id|customer_id|amount\n1|1|5\n", "{delim: '|', header: true}", 1),
    ],
    ids=["quoted", "no header", "semicolons", "options"],
)
def test_well_formed_files_are_read_whole(
    tmp_path: Path, text: str, options: str | None, rows: int
) -> None:
    sources = "sources:\n  - name: raw\n    tables:\n      - name: orders\n        path: data/orders.csv\n"
    if options:
        sources += f"        options: {options}\n"
    sources += "      - {name: customers, path: data/customers.ndjson}\n"
    root = shop(tmp_path, text, sources)
    (root / "transforms/marts/all_orders.sql").write_text(
        "select * from {{ source('raw', 'orders') }}\n"
    )
    result = glueform_json("run", "-p", str(root), "-s", "all_orders")
    assert result["ok"], result
    (node,) = result["nodes"]
    assert node["rows"] == rows
    if "quoted" in text:
        with Workspace(root).catalog() as catalog:
            location = catalog.table("shop", "all_orders").location
        amounts = {r[2] for r in query(f"select * from '{location}/*.parquet'")}
        assert amounts == {"5,5", 'a "quoted" b'}


def test_null_padding_reads_short_rows_when_asked(tmp_path: Path) -> None:
    sources = (
        "sources:\n  - name: raw\n    tables:\n      - name: orders\n"
        "        path: data/orders.csv\n        options: {null_padding: true}\n"
        "      - {name: customers, path: data/customers.ndjson}\n"
    )
    root = shop(tmp_path, "order_id,customer_id,amount\n1,1\n2,1,20\n3,2,30\n", sources)
    (root / "transforms/marts/all_orders.sql").write_text(
        "select * from {{ source('raw', 'orders') }}\n"
    )
    result = glueform_json("run", "-p", str(root), "-s", "all_orders")
    assert result["ok"] and result["nodes"][0]["rows"] == 3


@pytest.mark.slow
@pytest.mark.spark
def test_spark_reads_csv_sources_as_strictly_and_the_same(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    files: dict[str, str | bytes] = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace("vars:", SPARK_TARGET + "vars:")
    files["data/orders.csv"] = 'order_id,customer_id,amount\n1,1,5\n2,1,"2""0"\n3,2,30\n4,3,40\n'
    files["transforms/marts/all_orders.sql"] = "select * from {{ source('raw', 'orders') }}\n"
    root = write_project(tmp_path / "shop", files)
    for target in ("dev", "spark"):
        result = glueform_json("run", "-p", str(root), "-t", target, "-s", "all_orders")
        assert result["ok"], result
    rows = {}
    for target in ("dev", "spark"):
        with Workspace(root, target=target).catalog() as catalog:
            location = catalog.table("shop", "all_orders").location
        rows[target] = sorted(
            tuple(str(v) for v in r) for r in query(f"select * from '{location}/*.parquet'")
        )
    assert rows["dev"] == rows["spark"] and ("2", "1", '2"0') in rows["spark"]
    (root / "data/orders.csv").write_text(RAGGED)
    result = glueform("run", "-p", str(root), "-t", "spark", "-s", "all_orders", "--json")
    text = result.stdout + result.stderr
    assert result.exit_code in (1, 2) and "data/orders.csv:2: row of 2 fields" in text, text
