"""Crawling S3 for real: boto3 against a local moto server over HTTP (listing, ranged reads)."""

from __future__ import annotations

import gzip
import io
import json
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import query, write_project

from glueform import Workspace
from glueform.catalog import CatalogStore

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_env")]


def parquet_bytes(sql: str, tmp: Path) -> bytes:
    path = tmp / "x.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
    return path.read_bytes()


def put(client: Any, bucket: str, objects: dict[str, bytes]) -> None:
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)


def s3_project(tmp_path: Path, moto_endpoint: str, bucket: str, **options: Any) -> Path:
    config = (
        "name: lakehouse\ntargets:\n  dev:\n    engine: duckdb\n"
        f"    s3: {{region: eu-west-1, endpoint_url: '{moto_endpoint}'}}\n"
    )
    crawler = {
        "name": "s3lake",
        "database": "landing",
        "targets": [f"s3://{bucket}/lake"],
        **options,
    }
    return write_project(
        tmp_path / "p",
        {"glueform.yml": config, "crawlers/s3.yml": json.dumps({"crawlers": [crawler]})},
    )


def test_an_s3_lake_is_crawled_with_partitions_and_bad_files_reported(
    tmp_path: Path, moto_endpoint: str
) -> None:
    import boto3

    client = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto_endpoint)
    client.create_bucket(
        Bucket="lake-a", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    big = "".join(f"{i},name {i},{i * 1.5}\n" for i in range(20000)).encode()  # > one ranged read
    objects = {
        f"lake/orders/dt=2024-01-0{d}/part-0.parquet": parquet_bytes(
            f"select range as id, range * 2.5 as amount from range({d * 10})", tmp_path
        )
        for d in (1, 2)
    }
    objects["lake/orders/dt=2024-01-02/_SUCCESS"] = b""
    objects["lake/orders/dt=2024-01-03/part-0.parquet"] = b"PAR1" + b"\x00" * 64 + b"PAR1"
    objects["lake/people/p.csv.gz"] = gzip.compress(b"id,name,score\n" + big)
    buf = io.StringIO()
    for i in range(3):
        buf.write(json.dumps({"id": i, "tags": ["a"], "who": {"n": "x"}}) + "\n")
    objects["lake/events/2024/01/e.json"] = buf.getvalue().encode()
    objects["lake/events/2024/02/e.json"] = buf.getvalue().encode()
    put(client, "lake-a", objects)
    root = s3_project(tmp_path, moto_endpoint, "lake-a", recrawl_policy="crawl_new_folders_only",
                      schema_change_policy={"delete_behavior": "log"})  # fmt: skip
    (result,) = Workspace(root).crawl()
    assert {t.name: t.action for t in result.tables} == {
        "orders": "created", "people": "created", "events": "created",
    }  # fmt: skip
    assert [(p.path, p.reason.split(":")[0]) for p in result.skipped] == [
        ("s3://lake-a/lake/orders/dt=2024-01-03/part-0.parquet", "corrupt Parquet footer")
    ]
    store = CatalogStore.for_path(root / ".glueform/catalog.db")
    orders = store.table("landing", "orders")
    assert orders.location == "s3://lake-a/lake/orders/*/*.parquet"
    assert [(c.name, c.type) for c in orders.columns] == [
        ("id", "BIGINT"),
        ("amount", "DECIMAL(21,1)"),
    ]
    assert [p.location for p in store.partitions("landing", "orders")] == [
        "s3://lake-a/lake/orders/dt=2024-01-01", "s3://lake-a/lake/orders/dt=2024-01-02",
    ]  # fmt: skip
    people = store.table("landing", "people")
    assert [c.type for c in people.columns] == ["BIGINT", "VARCHAR", "DOUBLE"]
    assert people.parameters["compressionType"] == "gzip"
    events = store.table("landing", "events")
    assert [c.name for c in events.partition_keys] == ["partition_0", "partition_1"]
    assert events.columns[2].type == "STRUCT(n VARCHAR)"

    put(
        client,
        "lake-a",
        {
            "lake/orders/dt=2024-01-04/part-0.parquet": objects[
                "lake/orders/dt=2024-01-01/part-0.parquet"
            ]
        },
    )
    (again,) = Workspace(root).crawl()
    # the new partition, and the folder that held only a corrupt file (tried again until it is fixed)
    assert again.incremental and again.files_read == 2 and again.files_listed == 2
    assert {t.name: t.partitions_added for t in again.tables} == {"orders": 1}
    assert len(store.partitions("landing", "orders")) == 3


def test_an_s3_endpoint_that_is_down_is_reported_within_seconds(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = s3_project(tmp_path, f"http://127.0.0.1:{port}", "nowhere")
    started = time.perf_counter()
    (result,) = Workspace(root).crawl()
    assert time.perf_counter() - started < 15
    (failed,) = result.failed_targets
    assert failed.path == "s3://nowhere/lake" and "cannot be reached" in failed.reason
    assert result.tables == () and not result.ok


def test_a_missing_bucket_is_a_failed_target(tmp_path: Path, moto_endpoint: str) -> None:
    root = s3_project(tmp_path, moto_endpoint, "no-such-bucket")
    (result,) = Workspace(root).crawl()
    assert "NoSuchBucket" in result.failed_targets[0].reason


def test_crawled_s3_tables_are_sources_that_a_run_reads(tmp_path: Path, moto_endpoint: str) -> None:
    import boto3

    client = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto_endpoint)
    client.create_bucket(
        Bucket="lake-b", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    objects = {
        f"lake/orders/dt=2024-01-0{d}/part-0.parquet": parquet_bytes(
            f"select range as id, range * 2 as amount from range({d * 10})", tmp_path
        )
        for d in (1, 2)
    }
    objects["lake/people/p.csv.gz"] = gzip.compress(b"id,name\n1,ada\n2,grace\n3,linus\n")
    put(client, "lake-b", objects)
    root = s3_project(tmp_path, moto_endpoint, "lake-b")
    (root / "transforms").mkdir()
    (root / "transforms/daily.sql").write_text(
        "select dt, count(*) as orders, sum(amount) as amount\n"
        "from {{ source('landing', 'orders') }} group by dt\n"
    )
    (root / "transforms/people_count.sql").write_text(
        "select count(*) as people from {{ source('landing', 'people') }}\n"
    )
    (crawled,) = Workspace(root).crawl()
    assert crawled.ok
    result = Workspace(root).run()  # DuckDB reads s3:// through httpfs, at the target's endpoint
    assert result.ok, [r.message for r in result.results]
    with Workspace(root).catalog() as catalog:
        daily, people = (
            catalog.table("lakehouse", "daily"),
            catalog.table("lakehouse", "people_count"),
        )
    assert daily is not None and people is not None
    rows = query(
        f"select dt, orders, amount from read_parquet('{daily.location}/*.parquet') order by dt"
    )
    assert [(str(d), n, a) for d, n, a in rows] == [("2024-01-01", 10, 90), ("2024-01-02", 20, 380)]
    assert query(f"select people from read_parquet('{people.location}/*.parquet')") == [(3,)]
