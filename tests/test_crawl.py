"""Crawlers: classification by content, schema merging, Glue-style tables and partitions, the
policies, incremental recrawls, bad input, and the atomic catalog write."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import struct
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import glueform, glueform_json, write_project

from glueform import Workspace
from glueform.catalog import CatalogStore
from glueform.crawl.classify import CsvOptions, Skip, classify
from glueform.crawl.schema import merge, parse, render, widen
from glueform.errors import UserError

CONFIG = "name: lakehouse\ntargets:\n  dev: {engine: duckdb}\n"


def crawler_yaml(**options: Any) -> str:
    crawler = {"name": "lake", "database": "landing", "targets": ["lake"], **options}
    return json.dumps({"crawlers": [crawler]})


def lake_project(tmp_path: Path, files: dict[str, Any], **options: Any) -> Path:
    root = write_project(
        tmp_path / "p", {"glueform.yml": CONFIG, "crawlers/lake.yml": crawler_yaml(**options)}
    )
    write_lake(root / "lake", files)
    return root


def write_lake(base: Path, files: dict[str, Any]) -> None:
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple) and content[0] == "parquet":
            with duckdb.connect() as con:
                con.execute(f"COPY ({content[1]}) TO '{path}' (FORMAT parquet)")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def read(data: bytes) -> Any:
    return lambda offset, length: data[offset : offset + length]


def columns_of(data: bytes, **kw: Any) -> dict[str, str]:
    found = classify(len(data), read(data), **kw)
    return {n: render(t) for n, t in found.columns}


def crawl(root: Path, *names: str, dry_run: bool = False) -> Any:
    (result,) = Workspace(root).crawl(names, dry_run=dry_run)
    return result


def catalog(root: Path) -> CatalogStore:
    return CatalogStore.for_path(root / ".glueform" / "catalog.db")


# -- classification -----------------------------------------------------------------------------


def test_parquet_schema_is_read_from_the_footer_as_duckdb_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    sql = (
        "select 1::tinyint a, 2::bigint b, 2.5::double c, 3.25::decimal(10,2) d, 'x' e, "
        "date '2024-01-01' f, timestamp '2024-01-01 10:00:00' g, true h, [1,2] i, "
        "{'x': 1, 'y': 'z'} j, map(['k'], [1]) k, [{'q': [1.5]}] l, 10::ubigint m"
    )
    with duckdb.connect() as con:
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
        expected = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    data = path.read_bytes()
    found = classify(len(data), read(data))
    assert found.format == "parquet" and found.rows == 1
    assert {n: render(t) for n, t in found.columns} == expected


@pytest.mark.parametrize(
    ("text", "delim", "header"),
    [
        ("id,name,amount\n1,ada,2.5\n2,bob,3\n", ",", True),
        ("id\tname\n1\tada\n2\tbob\n", "\t", True),
        ("id|name\n1|ada\n2|bob\n", "|", True),
        ("1;ada\n2;bob\n", ";", False),
    ],
)
def test_csv_delimiter_and_header_are_detected(text: str, delim: str, header: bool) -> None:
    found = classify(len(text), read(text.encode()))
    assert found.format == "csv"
    assert found.options["delim"] == delim and found.options["header"] is header
    names = [n for n, _ in found.columns]
    assert names[0] == ("id" if header else "column0")
    assert render(found.columns[0][1]) == "BIGINT"


def test_a_delimiter_inside_quotes_does_not_split_a_field() -> None:
    text = 'id,comment,price\n1,"hello, world",2.5\n2,"a, b, c",3.5\n3,plain,4\n'
    found = classify(len(text), read(text.encode()))
    assert found.options["delim"] == ","
    assert columns_of(text.encode()) == {"id": "BIGINT", "comment": "VARCHAR", "price": "DOUBLE"}
    pipe = 'a|b\n"x|y"|1\n"z"|2\n'
    assert columns_of(pipe.encode()) == {"a": "VARCHAR", "b": "BIGINT"}


def test_a_custom_csv_classifier_overrides_the_sniffer() -> None:
    text = "a;b\n1;2\n"
    found = classify(len(text), read(text.encode()), csv_options=CsvOptions(",", None, False))
    assert found.options["delim"] == "," and [n for n, _ in found.columns] == ["column0"]


def test_nested_json_becomes_structs_and_arrays() -> None:
    rows = [
        {"id": 1, "user": {"name": "ada", "tags": ["a"]}, "items": [{"sku": "x", "qty": 1}]},
        {"id": 2, "user": {"name": "bob", "age": 3}, "items": [{"sku": "y", "qty": 2.5}], "d": "2024-01-02"},
    ]  # fmt: skip
    ndjson = "".join(json.dumps(r) + "\n" for r in rows).encode()
    found = classify(len(ndjson), read(ndjson))
    assert found.format == "ndjson"
    assert {n: render(t) for n, t in found.columns} == {
        "id": "BIGINT",
        "user": "STRUCT(name VARCHAR, tags VARCHAR[], age BIGINT)",
        "items": "STRUCT(sku VARCHAR, qty DOUBLE)[]",
        "d": "DATE",
    }
    array = json.dumps(rows, indent=2).encode()
    assert classify(len(array), read(array)).format == "json"


def test_compressed_files_are_classified_by_magic_bytes(tmp_path: Path) -> None:
    text = b"id,name\n1,ada\n2,bob\n"
    for data in (gzip.compress(text), bz2.compress(text)):
        found = classify(len(data), read(data))
        assert found.format == "csv" and found.compression in ("gzip", "bz2")
        assert [n for n, _ in found.columns] == ["id", "name"]
    root = lake_project(tmp_path, {"z/a.json.zst": b""})
    with duckdb.connect() as con:
        con.execute(
            f"COPY (select 1 as id, 'x' as v) TO '{root}/lake/z/a.json.zst' (FORMAT json, COMPRESSION zstd)"
        )
    result = crawl(root)
    (table,) = result.tables
    assert table.format == "ndjson" and table.columns == 2
    assert catalog(root).table("landing", "z").parameters["compressionType"] == "zstd"


def avro_long(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = b""
    while n & ~0x7F:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def avro_string(b: bytes) -> bytes:
    return avro_long(len(b)) + b


def avro_file(schema: dict[str, Any], block: bytes = b"", count: int = 0) -> bytes:
    """An Avro object container file (null codec) with one block of ``count`` encoded records."""
    meta = {b"avro.schema": json.dumps(schema).encode(), b"avro.codec": b"null"}
    header = b"Obj\x01" + avro_long(len(meta))
    header += b"".join(avro_string(k) + avro_string(v) for k, v in meta.items()) + avro_long(0)
    sync = b"S" * 16
    return header + sync + avro_long(count) + avro_long(len(block)) + block + sync


def test_avro_columns_come_from_the_header_schema() -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": ["null", "string"]},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "addr", "type": {"type": "record", "name": "a", "fields": [{"name": "city", "type": "string"}]}},
        ],
    }  # fmt: skip
    data = avro_file(schema)
    found = classify(len(data), read(data))
    assert found.format == "avro"
    assert {n: render(t) for n, t in found.columns} == {
        "id": "BIGINT", "name": "VARCHAR", "day": "DATE", "tags": "VARCHAR[]",
        "addr": "STRUCT(city VARCHAR)",
    }  # fmt: skip


def test_crawled_avro_files_are_read_through_the_avro_extension(tmp_path: Path) -> None:
    pytest.importorskip("duckdb_extension_avro")
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
    }
    files = {}
    for day, rows in {"2024-01-01": [(1, b"ada"), (2, b"bob")], "2024-01-02": [(3, b"cy")]}.items():
        block = b"".join(avro_long(i) + avro_string(n) for i, n in rows)
        files[f"people/dt={day}/p.avro"] = avro_file(schema, block, len(rows))
    root = lake_project(tmp_path, files)
    (table,) = crawl(root).tables
    assert (table.name, table.format, table.partitions_added) == ("people", "avro", 2)
    write_project(
        root,
        {
            "transforms/names.sql": "select dt, string_agg(name, ',' order by id) as names from {{ source('landing', 'people') }} group by dt\n"
        },
    )
    assert glueform_json("run", "-p", str(root))["ok"]
    rows = duckdb.sql(
        f"select dt::varchar, names from read_parquet('{root}/warehouse/lakehouse/names/*/*.parquet') order by 1"
    ).fetchall()
    assert rows == [("2024-01-01", "ada,bob"), ("2024-01-02", "cy")]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"PAR1" + b"\x00" * 40 + b"garbage!", "corrupt Parquet"),
        (b"PAR1" + b"\x00" * 20 + struct.pack("<i", 9999) + b"PAR1", "corrupt Parquet footer"),
        (b"\x00\x01\x02\x03binary", "binary content"),
        (b'{"a": 1}\n{"a": 2}\n{"a": 3,,}\n{"a": 4}\n', "JSON syntax error at line 3"),
        (b'[{"a": 1},\n {"a": 2},\n {"a" 3}]', "JSON syntax error at line 3"),
        (b"just some words\nwithout delimiters\n", "unclassifiable"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(Skip, match=reason):
        classify(len(data), read(data))


def test_ragged_csv_rows_are_noted_and_read_with_padding() -> None:
    text = b"a,b,c\n1,2,3\n4,5\n6,7,8\n"
    found = classify(len(text), read(text))
    assert found.options["null_padding"] is True
    assert "ragged rows" in found.notes[0] and "row 3 has 2" in found.notes[0]


# -- schemas ------------------------------------------------------------------------------------


def test_types_widen_and_conflicts_become_strings_naming_the_files() -> None:
    assert widen("INTEGER", "BIGINT") == "BIGINT"
    assert widen("BIGINT", "DOUBLE") == "DOUBLE"
    assert widen("DECIMAL(10,2)", "BIGINT") == "DECIMAL(21,2)"
    assert widen("DATE", "TIMESTAMP") == "TIMESTAMP"
    assert widen("NULL", "VARCHAR") == "VARCHAR"
    assert widen("BIGINT", "VARCHAR") is None
    assert (
        render(parse('STRUCT(a BIGINT, "b c" VARCHAR[])[]'))
        == 'STRUCT(a BIGINT, "b c" VARCHAR[])[]'
    )
    for spelled in (
        'STRUCT("x""y" MAP(VARCHAR, DECIMAL(10,2)), z TIMESTAMP WITH TIME ZONE[])',
        "HUGEINT",
        "FLOAT",
        "BLOB",
        "DATE[][]",
    ):
        assert render(parse(spelled)) == spelled  # the crawler's spelling survives the catalog
    assert parse("map(text, int)") == ("MAP", "VARCHAR", "INTEGER")  # one name per type
    merged = merge(
        [
            ("a.csv", (("id", "INTEGER"), ("code", "BIGINT"))),
            ("b.csv", (("id", "BIGINT"), ("code", "VARCHAR"), ("extra", "DATE"))),
        ]
    )
    assert merged.columns == (("id", "BIGINT"), ("code", "VARCHAR"), ("extra", "DATE"))
    (warning,) = merged.warnings
    assert "'code'" in warning and "a.csv" in warning and "b.csv" in warning


# -- tables and partitions ----------------------------------------------------------------------


def test_hive_partitions_unnamed_partitions_and_separate_tables(tmp_path: Path) -> None:
    root = lake_project(
        tmp_path,
        {
            "orders/dt=2024-01-01/p0.parquet": ("parquet", "select 1 as id, 2.5 as amount"),
            "orders/dt=2024-01-02/p0.parquet": ("parquet", "select 2 as id, 3.5 as amount"),
            "orders/dt=2024-01-02/_SUCCESS": "",
            "events/2024/01/01/e.json": '{"id": 1, "kind": "click"}\n',
            "events/2024/01/02/e.json": '{"id": 2, "kind": "view", "extra": true}\n',
            "customers/c.csv": "customer_id,name,city\n1,ada,london\n",
            "customers/d.csv": "customer_id,name,city\n2,bob,paris\n",
        },
    )
    result = crawl(root)
    assert {t.name: t.action for t in result.tables} == {
        "orders": "created", "events": "created", "customers": "created",
    }  # fmt: skip
    store = catalog(root)
    orders = store.table("landing", "orders")
    assert [(c.name, c.type) for c in orders.partition_keys] == [("dt", "DATE")]
    assert [c.name for c in orders.columns] == ["id", "amount"]
    assert [p.values for p in store.partitions("landing", "orders")] == [
        ("2024-01-01",),
        ("2024-01-02",),
    ]
    events = store.table("landing", "events")
    assert [c.name for c in events.partition_keys] == ["partition_0", "partition_1", "partition_2"]
    assert [c.name for c in events.columns] == ["id", "kind", "extra"]
    assert events.options["union_by_name"] is True
    assert [p.values for p in store.partitions("landing", "events")][0] == ("2024", "01", "01")
    assert store.table("landing", "customers").partition_keys == ()
    assert result.files_listed == 6 and not result.skipped


def test_folders_with_incompatible_schemas_become_separate_tables(tmp_path: Path) -> None:
    root = lake_project(
        tmp_path,
        {
            "a/x.csv": "id,name\n1,ada\n",
            "b/x.csv": "sku,price,qty\nq,1.5,2\n",
        },
    )
    assert sorted(t.name for t in crawl(root).tables) == ["a", "b"]
    same = lake_project(
        tmp_path / "same", {"2023/x.csv": "id,name\n1,a\n", "2024/x.csv": "id,name\n2,b\n"}
    )
    (table,) = crawl(same).tables
    assert table.name == "lake" and table.partitions_added == 2


def test_table_level_and_single_schema_fix_the_grouping(tmp_path: Path) -> None:
    files = {"sales/eu/x.csv": "id,v\n1,2\n", "sales/us/x.csv": "id,v\n3,4\n"}
    root = lake_project(tmp_path, files, grouping={"table_level": 3}, table_prefix="raw_")
    assert sorted(t.name for t in crawl(root).tables) == ["raw_eu", "raw_us"]
    single = lake_project(
        tmp_path / "s", {**files, "other/y.json": '{"q": 1}\n'}, grouping={"single_schema": True}
    )
    (table,) = crawl(single).tables
    assert table.name == "lake"


def test_crawled_tables_are_sources_of_transforms_at_once(tmp_path: Path) -> None:
    root = lake_project(
        tmp_path,
        {
            "orders/dt=2024-01-01/p.parquet": ("parquet", "select 1 as id, 10 as amount"),
            "orders/dt=2024-01-02/p.parquet": ("parquet", "select 2 as id, 20 as amount"),
        },
    )
    write_project(
        root,
        {
            "transforms/daily.sql": "select dt, sum(amount) as total from {{ source('landing', 'orders') }} group by dt\n"
        },
    )
    early = glueform("run", "-p", str(root))  # not crawled yet: the source is not in the catalog
    assert early.exit_code == 2 and "run 'glueform crawl' first" in early.stderr
    assert glueform("crawl", "-p", str(root)).exit_code == 0
    assert glueform_json("run", "-p", str(root))["ok"]
    rows = duckdb.sql(
        f"select dt::varchar, total from read_parquet('{root}/warehouse/lakehouse/daily/*/*.parquet') order by 1"
    ).fetchall()
    assert rows == [("2024-01-01", 10), ("2024-01-02", 20)]


# -- policies, records, incremental -------------------------------------------------------------


def test_schema_change_and_deletion_policies(tmp_path: Path) -> None:
    files = {"t/a.csv": "id,name\n1,ada\n", "gone/b.csv": "x,y,z\n1,2,3\n"}
    root = lake_project(
        tmp_path, files, schema_change_policy={"update_behavior": "log", "delete_behavior": "log"}
    )
    crawl(root)
    (root / "lake/t/a.csv").write_text("id,name,age\n1,ada,3\n")
    (root / "lake/gone/b.csv").unlink()
    result = crawl(root)
    assert {t.name: t.action for t in result.tables} == {"t": "logged", "gone": "logged"}
    assert "+ age BIGINT" in next(t for t in result.tables if t.name == "t").changes
    store = catalog(root)
    assert store.table("landing", "t").version == 1 and store.table("landing", "gone")

    for behavior, expected in (
        ("deprecate_in_database", "deprecated"),
        ("delete_from_database", "deleted"),
    ):
        r = lake_project(
            tmp_path / behavior, files, schema_change_policy={"delete_behavior": behavior}
        )
        crawl(r)
        (r / "lake/t/a.csv").write_text("id,name,age\n1,ada,3\n")
        (r / "lake/gone/b.csv").unlink()
        result = crawl(r)
        assert {t.name: t.action for t in result.tables} == {"t": "updated", "gone": expected}
        s = catalog(r)
        assert [c.name for c in s.table("landing", "t").columns] == ["id", "name", "age"]
        assert [v.version for v in s.table_versions("landing", "t")] == [2, 1]
        gone = s.table("landing", "gone")
        if behavior == "delete_from_database":
            assert gone is None
        else:
            assert "deprecated_by_crawler" in gone.parameters


def test_every_crawl_is_recorded_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = lake_project(tmp_path, {"t/dt=1/a.csv": "id,v\n1,2\n", "t/dt=1/empty.csv": ""})
    dry = glueform_json("crawl", "-p", str(root), "--dry-run")
    assert dry[0]["dry_run"] and dry[0]["tables"][0]["action"] == "created"
    assert catalog(root).tables() == []
    crawl(root)
    from glueform.catalog.crawls import last_crawls

    record = last_crawls(catalog(root))["lake"]
    summary = record["summary"]
    assert summary["tables"][0]["name"] == "t" and summary["partitions_added"] == 1
    assert summary["skipped"] == [
        {"path": str(root / "lake/t/dt=1/empty.csv"), "reason": "empty file"}
    ]
    assert summary["files_listed"] == 2 and summary["seconds"] >= 0
    plan = glueform_json("plan", "-p", str(root))
    assert plan["crawlers"][0]["name"] == "lake" and plan["crawlers"][0]["would_run"] == "on demand"


def test_incremental_recrawl_reads_only_new_folders(tmp_path: Path) -> None:
    files = {
        f"t/dt=2024-01-0{d}/f{i}.csv": f"id,v\n{i},{d}\n" for d in range(1, 4) for i in range(3)
    }
    root = lake_project(tmp_path, files, recrawl_policy="crawl_new_folders_only",
                        schema_change_policy={"delete_behavior": "log"})  # fmt: skip
    first = crawl(root)
    assert not first.incremental and first.files_read == 3 and first.partitions_added == 3
    write_lake(
        root / "lake",
        {
            "t/dt=2024-01-04/f0.csv": "id,v,note\n9,9,new\n",
            "t/dt=2024-01-01/late.csv": "id,v\n1,1\n",
        },
    )
    second = crawl(root)
    assert second.incremental
    assert second.files_listed == 1 and second.files_read == 1  # old folders were not entered
    (table,) = second.tables
    assert (
        table.action == "updated"
        and table.partitions_added == 1
        and "+ note VARCHAR" in table.changes
    )
    store = catalog(root)
    assert len(store.partitions("landing", "t")) == 4
    third = crawl(root)
    assert third.files_listed == 0 and third.tables == ()


# -- bad input ----------------------------------------------------------------------------------


def test_bad_targets_and_files_are_reported_and_the_crawl_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = lake_project(
        tmp_path,
        {
            "good/a.csv": "id,name\n1,ada\n",
            "bad/corrupt.parquet": b"PAR1" + b"\x00" * 30 + b"PAR1",
            "json/x.json": '{"a": 1}\n{"a": oops}\n',
            "ragged/r.csv": "a,b,c\n1,2\n3,4,5\n",
            "secret/s.csv": "id,v\n1,2\n",
        },
        targets=["lake", "missing_folder"],
        sample_size=0,
    )
    (root / "lake/good/loop").symlink_to(root / "lake")
    secret = str(root / "lake/secret")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:  # root may read anything: deny one folder as chmod 000 would
        if str(path) == secret:
            raise PermissionError(13, "Permission denied", secret)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = crawl(root)
    reasons = {Path(p.path).relative_to(root).as_posix(): p.reason for p in result.skipped}
    assert reasons["lake/secret"] == "permission denied"
    assert reasons["lake/good/loop"].startswith("symlink loop")
    assert reasons["lake/bad/corrupt.parquet"].startswith("corrupt Parquet footer")
    assert reasons["lake/json/x.json"].startswith("JSON syntax error at line 2")
    assert [(Path(p.path).name, p.reason) for p in result.failed_targets] == [
        ("missing_folder", "does not exist")
    ]
    assert any("ragged rows" in w for w in result.warnings)
    assert sorted(t.name for t in result.tables) == ["good", "ragged"]
    assert not result.ok
    cli = glueform("crawl", "-p", str(root))
    assert cli.exit_code == 1 and "does not exist" in cli.stderr


def test_an_unreachable_target_deletes_nothing(tmp_path: Path) -> None:
    root = lake_project(
        tmp_path,
        {"t/a.csv": "id,v\n1,2\n"},
        schema_change_policy={"delete_behavior": "delete_from_database"},
    )
    crawl(root)
    (root / "lake").rename(root / "moved")
    result = crawl(root)
    assert result.failed_targets and result.tables == ()
    assert catalog(root).table("landing", "t") is not None


def test_a_failed_catalog_write_leaves_the_catalog_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = lake_project(tmp_path, {"t/dt=1/a.csv": "id,v\n1,2\n"})
    crawl(root)
    write_lake(root / "lake", {"t/dt=2/a.csv": "id,v,extra\n1,2,x\n", "u/b.csv": "q,r\nz,y\n"})
    store = catalog(root)
    before = (store.tables(), store.partitions("landing", "t"), store.serial())
    from glueform.catalog import crawls

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    real_insert = crawls.insert
    monkeypatch.setattr(
        crawls, "insert", lambda table: broken() if table.name == "crawls" else real_insert(table)
    )
    with pytest.raises(RuntimeError, match="disk full"):
        crawl(root)
    store = catalog(root)
    assert (store.tables(), store.partitions("landing", "t"), store.serial()) == before
    from glueform.catalog.crawls import last_crawls, seen_folders

    assert len(seen_folders(store, "lake")) == 1 and len(last_crawls(store)) == 1


# -- definitions --------------------------------------------------------------------------------


def test_crawler_yaml_errors_point_at_the_line(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        {
            "glueform.yml": CONFIG,
            "crawlers/lake.yml": "crawlers:\n  - name: lake\n    database: landing\n    targets: [lake]\n    sample_sise: 3\n",
        },
    )
    with pytest.raises(UserError) as err:
        Workspace(root).crawl()
    assert err.value.location.line == 5 and "did you mean 'sample_size'" in str(err.value.hint)
    (root / "crawlers/lake.yml").write_text(
        "crawlers:\n  - name: lake\n    database: landing\n    targets: [lake]\n    schedule: 'every day'\n"
    )
    with pytest.raises(UserError, match="invalid cron expression 'every day'") as err:
        Workspace(root, use_cache=False).validate()  # a crawler's schedule is a trigger's
    assert err.value.location.line == 5
    (root / "crawlers/lake.yml").write_text(
        "crawlers:\n  - name: lake\n    database: landing\n    targets: [lake]\n    schedule: cron(0 3 * * ? *)\n"
    )
    assert Workspace(root, use_cache=False).project.crawlers[0].schedule == "cron(0 3 * * ? *)"
    with pytest.raises(UserError, match="no crawler named 'laek'") as err:
        Workspace(root, use_cache=False).crawl(["laek"])
    assert "did you mean 'lake'" in str(err.value.hint)


# -- SQL database targets -----------------------------------------------------------------------


def test_a_sqlite_database_is_crawled_like_a_jdbc_target(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "create table orders (id integer primary key, amount numeric(10,2), at timestamp, note text)"
        )
    root = lake_project(tmp_path, {}, targets=[f"sqlite:///{db}"])
    (table,) = crawl(root).tables
    assert table.name == "main_orders" and table.format == "jdbc"
    t = catalog(root).table("landing", "main_orders")
    assert [(c.name, c.type) for c in t.columns] == [
        ("id", "INTEGER"), ("amount", "DECIMAL(10,2)"), ("at", "TIMESTAMP"), ("note", "VARCHAR"),
    ]  # fmt: skip


def test_an_unreachable_database_deletes_nothing(tmp_path: Path) -> None:
    import sqlite3

    (tmp_path / "dbs").mkdir()
    with sqlite3.connect(tmp_path / "dbs" / "shop.db") as con:
        con.execute("create table orders (id integer, note text)")
    root = lake_project(tmp_path, {}, targets=[f"sqlite:///{tmp_path}/dbs/shop.db"],
                        schema_change_policy={"delete_behavior": "delete_from_database"})  # fmt: skip
    assert crawl(root).tables[0].action == "created"
    (tmp_path / "dbs").rename(tmp_path / "moved")
    result = crawl(root)
    (failed,) = result.failed_targets
    assert "unable to open database file" in failed.reason and result.tables == ()
    assert catalog(root).table("landing", "main_orders") is not None


def _server(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url, connect_args={"connect_timeout": 5})


@pytest.mark.parametrize("server", ["postgres_url", "mariadb_url"])
def test_postgresql_and_mariadb_are_crawled(
    tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    from sqlalchemy import text

    url = request.getfixturevalue(server)
    driver_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = _server(driver_url)
    schema = f"crawl_{os.getpid()}"
    mysql = "mysql" in url
    with engine.begin() as conn:
        conn.execute(text(f"create {'database' if mysql else 'schema'} {schema}"))
        conn.execute(
            text(
                f"create table {schema}.items (id bigint primary key, price decimal(8,2), name varchar(20))"
            )
        )
    try:
        target = url.rsplit("/", 1)[0] + f"/{schema}" if mysql else url
        root = lake_project(tmp_path, {}, targets=[target], include=[f"{schema}/*"])
        (table,) = crawl(root).tables
        assert table.name == f"{schema}_items"
        t = catalog(root).table("landing", table.name)
        assert [(c.name, c.type) for c in t.columns] == [
            ("id", "BIGINT"),
            ("price", "DECIMAL(8,2)"),
            ("name", "VARCHAR"),
        ]
        assert t.options == {"schema": schema, "table": "items"} and "@" in (t.location or "")
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"drop {'database' if mysql else 'schema'} {schema}{'' if mysql else ' cascade'}"
                )
            )
        engine.dispose()


def test_the_example_projects_landing_crawler(tmp_path: Path) -> None:
    import shutil

    example = Path(__file__).resolve().parents[1] / "example_project"
    root = tmp_path / "shop"
    shutil.copytree(
        example, root, ignore=shutil.ignore_patterns("warehouse*", ".glueform*", "target")
    )
    result = crawl(root, "landing")
    assert {t.name: (t.action, t.partitions_added) for t in result.tables} == {
        "refunds": ("created", 3), "app_events": ("created", 2),
    }  # fmt: skip
    from glueform.engines.duckdb import external_scan

    store = catalog(root)
    refunds = store.table("landing", "refunds")
    rows = duckdb.sql(
        f"select count(*), sum(amount_cents), count(distinct dt) from ({external_scan(refunds)})"
    ).fetchall()
    assert rows == [(5, 7098, 3)]
    events = store.table("landing", "app_events")
    assert duckdb.sql(
        f"select count(*), max(order_id) from ({external_scan(events)})"
    ).fetchall() == [(3, 2999)]
    months = duckdb.sql(
        f"select partition_0, partition_1, count(*) from ({external_scan(events)}) group by all order by all"
    )
    assert months.fetchall() == [("2024", "05", 1), ("2024", "06", 2)]
    plan = glueform_json("plan", "-p", str(root))
    assert plan["crawlers"] == [
        {"name": "landing", "database": "landing", "schedule": "0 6 * * *",
         "last_crawl": plan["crawlers"][0]["last_crawl"], "would_run": "scheduled: 0 6 * * *"}
    ]  # fmt: skip


def test_every_crawler_key_is_documented_in_the_readme() -> None:
    from importlib import resources

    schema = json.loads((resources.files("glueform.schemas") / "crawlers.schema.json").read_text())
    crawler = schema["$defs"]["crawler"]["properties"]
    nested = [
        k for key in ("schema_change_policy", "grouping", "csv") for k in crawler[key]["properties"]
    ]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [k for k in [*crawler, *nested] if f"{k}:" not in readme]
    assert not missing


def test_the_human_output_names_every_action(tmp_path: Path) -> None:
    root = lake_project(tmp_path, {"t/a.csv": "id,v\n1,2\n", "u/b.csv": "q,r\nx,y\n"})
    first = glueform("crawl", "-p", str(root))
    assert first.exit_code == 0 and "created" in first.stdout and "2 created" in first.stdout
    (root / "lake/t/a.csv").write_text("id,v,w\n1,2,3\n")
    (root / "lake/u/b.csv").unlink()
    second = glueform("crawl", "-p", str(root))
    assert second.exit_code == 0
    assert "t: + w BIGINT" in second.stdout and "deprecated" in second.stdout
    assert "1 updated" in second.stdout and "files/s" in second.stdout


def test_a_crawl_commits_to_a_postgresql_catalog(tmp_path: Path, postgres_url: str) -> None:
    from sqlalchemy import text

    engine = _server(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    schema = f"crawlcat_{os.getpid()}"  # a schema of its own: other suites share the database
    with engine.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    try:
        url = f"{postgres_url}?options=-csearch_path%3D{schema}"
        files = {f"t/dt={d}/a.csv": f"id,v\n{d},1\n" for d in (1, 2, 3)}
        root = lake_project(
            tmp_path, files, schema_change_policy={"delete_behavior": "delete_from_database"}
        )
        (root / "glueform.yml").write_text(
            f"name: lakehouse\ntargets:\n  dev: {{engine: duckdb, catalog: '{url}'}}\n"
        )
        assert crawl(root).partitions_added == 3
        import shutil

        shutil.rmtree(root / "lake/t/dt=2")
        again = crawl(root)
        assert again.partitions_removed == 1
        with Workspace(root).catalog() as store:
            assert [p.values for p in store.partitions("landing", "t")] == [("1",), ("3",)]
            from glueform.catalog.crawls import last_crawls, seen_folders

            assert len(seen_folders(store, "lake")) == 2
            assert last_crawls(store)["lake"]["summary"]["partitions_removed"] == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        engine.dispose()


def test_a_database_url_that_cannot_be_used_never_shows_its_password(tmp_path: Path) -> None:
    root = lake_project(tmp_path, {}, targets=["postgresql://u:s3cret@host:notaport/db"])
    (failed,) = crawl(root).failed_targets
    assert failed.path == "postgresql://host:notaport/db" and "s3cret" not in failed.reason


def test_two_databases_with_the_same_table_give_two_tables(tmp_path: Path) -> None:
    import sqlite3

    (tmp_path / "dbs").mkdir()
    for db in ("eu", "us"):
        with sqlite3.connect(tmp_path / "dbs" / f"{db}.db") as con:
            con.execute("create table users (id integer, name text)")
    targets = [f"sqlite:///{tmp_path}/dbs/eu.db", f"sqlite:///{tmp_path}/dbs/us.db"]
    root = lake_project(tmp_path, {}, targets=targets)
    first = crawl(root)
    assert first.ok and sorted(t.action for t in first.tables) == ["created", "created"]
    names = sorted(t.name for t in first.tables)
    assert names[0] == "main_users" and names[1].startswith("main_users_")
    again = crawl(root)  # stable: the same names, nothing to change
    assert again.ok and sorted(t.name for t in again.tables) == names
    assert {t.action for t in again.tables} == {"unchanged"}
