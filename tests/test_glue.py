"""Sync to the AWS Glue Data Catalog, through boto3, against a local moto server over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import basic_files, glueform, glueform_json, write_project

from glueform import Workspace
from glueform.catalog import ColumnDef, Partition

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_env")]


def glue_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("glue", region_name="eu-west-1", endpoint_url=endpoint)


def glue_project(tmp_path: Path, endpoint: str, suffix: str) -> Path:
    files = basic_files()
    glue = f"    glue:\n      region: eu-west-1\n      endpoint_url: {endpoint}\n      databases: {{shop: shop_{suffix}, raw: raw_{suffix}}}\n"
    files["glueform.yml"] = files["glueform.yml"].replace(
        "    threads: 2\n", "    threads: 2\n" + glue
    )
    return write_project(tmp_path / f"p_{suffix}", files)


def remote_tables(endpoint: str, database: str) -> dict[str, Any]:
    pages = glue_client(endpoint).get_paginator("get_tables").paginate(DatabaseName=database)
    return {t["Name"]: t for page in pages for t in page["TableList"]}


def test_run_syncs_tables_with_serdes_and_types(tmp_path: Path, moto_endpoint: str) -> None:
    root = glue_project(tmp_path, moto_endpoint, "a")
    assert glueform_json("run", "-p", str(root))["ok"]
    shop = remote_tables(moto_endpoint, "shop_a")
    assert set(shop) == {"stg_orders", "stg_customers", "customer_totals"}
    totals = shop["customer_totals"]
    sd = totals["StorageDescriptor"]
    assert (
        sd["SerdeInfo"]["SerializationLibrary"]
        == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
        ("name", "string"),
        ("total", "bigint"),
    ]
    assert totals["Parameters"]["classification"] == "parquet"
    with Workspace(root).catalog() as catalog:
        assert sd["Location"] == catalog.table("shop", "customer_totals").location  # type: ignore[union-attr]
    assert (
        shop["stg_orders"]["TableType"] == "VIRTUAL_VIEW"
        and "select" in shop["stg_orders"]["ViewOriginalText"]
    )
    raw = remote_tables(moto_endpoint, "raw_a")
    orders = raw["orders"]["StorageDescriptor"]
    assert orders["SerdeInfo"]["SerializationLibrary"].endswith("LazySimpleSerDe")
    assert orders["SerdeInfo"]["Parameters"]["field.delim"] == ","
    assert raw["orders"]["Parameters"]["skip.header.line.count"] == "1"
    assert (
        raw["customers"]["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        == "org.openx.data.jsonserde.JsonSerDe"
    )
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 0
    assert glueform_json("catalog", "sync", "-p", str(root)) == []


def test_changes_and_deletes_follow(tmp_path: Path, moto_endpoint: str) -> None:
    root = glue_project(tmp_path, moto_endpoint, "b")
    assert glueform_json("run", "-p", str(root))["ok"]
    mart = root / "transforms/marts/customer_totals.sql"
    mart.write_text(
        mart.read_text().replace("sum(o.amount) as total", "sum(o.amount) as total, count(*) as n")
    )
    assert glueform_json("run", "-p", str(root))["ok"]
    columns = remote_tables(moto_endpoint, "shop_b")["customer_totals"]["StorageDescriptor"][
        "Columns"
    ]
    assert [c["Name"] for c in columns] == ["name", "total", "n"]
    mart.unlink()
    plan_file = tmp_path / "plan.json"
    glueform("plan", "-p", str(root), "--out", str(plan_file))
    assert glueform("apply", str(plan_file), "-p", str(root)).exit_code == 0
    assert "customer_totals" not in remote_tables(moto_endpoint, "shop_b")


def test_partitions_go_in_batches(tmp_path: Path, moto_endpoint: str) -> None:
    root = glue_project(tmp_path, moto_endpoint, "c")
    assert glueform_json("run", "-p", str(root))["ok"]
    from dataclasses import replace

    with Workspace(root).catalog() as catalog:
        table = catalog.table("shop", "customer_totals")
        assert table is not None
        catalog.put_table(replace(table, partition_keys=(ColumnDef("dt", "DATE"),)), table.version)
        parts = [
            Partition((f"2024-01-{d:02}-{h:02}",), f"{table.location}/dt={d}-{h}", 1, 10)
            for d in range(1, 11)
            for h in range(25)
        ]
        catalog.replace_partitions("shop", "customer_totals", parts)
        changes = Workspace(root).sync_glue(catalog)
    assert [c.action for c in changes] == ["update"]
    client = glue_client(moto_endpoint)
    pages = client.get_paginator("get_partitions").paginate(
        DatabaseName="shop_c", TableName="customer_totals"
    )
    assert sum(len(p["Partitions"]) for p in pages) == 250
    assert remote_tables(moto_endpoint, "shop_c")["customer_totals"]["PartitionKeys"] == [
        {"Name": "dt", "Type": "date", "Comment": ""}
    ]


def test_unreachable_glue_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    root = glue_project(tmp_path, "http://127.0.0.1:9", "d")
    result = glueform("plan", "-p", str(root))
    assert result.exit_code == 2
    assert "cannot sync to http://127.0.0.1:9" in result.stderr and "Traceback" not in result.output
