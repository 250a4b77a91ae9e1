#!/usr/bin/env python3
"""Crawler benchmark: a generated lake of 100,000 small files in 10,000 Hive partitions across
20 tables of mixed formats (Parquet, CSV, gzipped CSV, NDJSON).

Times, in this process:
  - a full crawl (targets: under 60 s on 2 cores, peak RSS under 1 GiB);
  - after adding 1% new partitions, an incremental recrawl (crawl_new_folders_only; target: under
    10% of the full crawl's time);
  - a baseline in the same run: os.walk over the lake plus one DuckDB glob query per table that
    reads every file (what a crawl without sampling or footers-only reads would cost).

Usage: python bench/crawl_bench.py [--tables 20] [--partitions 500] [--files 10] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

FORMATS = ("parquet", "csv", "csv.gz", "ndjson")


def table_bytes(t: int, fmt: str, tmp: Path) -> bytes:
    """One small file of table ``t``: its own columns, so that tables do not merge."""
    import duckdb

    rows = f"select range as id, range * 1.5 as t{t}_amount, 'name ' || range as t{t}_name, timestamp '2024-01-01' + to_seconds(range) as ts from range(20)"
    path = tmp / f"sample.{fmt}"
    with duckdb.connect() as con:
        if fmt == "parquet":
            con.execute(f"COPY ({rows}) TO '{path}' (FORMAT parquet)")
        elif fmt == "ndjson":
            con.execute(f"COPY ({rows}) TO '{path}' (FORMAT json)")
        else:
            con.execute(f"COPY ({rows}) TO '{tmp / 'sample.csv'}' (FORMAT csv, HEADER true)")
            path = tmp / "sample.csv"
    data = path.read_bytes()
    return gzip.compress(data) if fmt == "csv.gz" else data


def write_partitions(
    lake: Path, tables: int, start: int, count: int, files: int, blobs: dict[int, bytes]
) -> int:
    written = 0
    for t in range(tables):
        fmt = FORMATS[t % len(FORMATS)]
        for p in range(start, start + count):
            folder = lake / f"table_{t:02}" / f"dt={p:05}"
            folder.mkdir(parents=True, exist_ok=True)
            for f in range(files):
                (folder / f"part-{f:03}.{fmt}").write_bytes(blobs[t])
                written += 1
    return written


def project(root: Path) -> None:
    (root / "crawlers").mkdir(parents=True, exist_ok=True)
    (root / "glueform.yml").write_text("name: crawl_bench\ntargets:\n  dev: {engine: duckdb}\n")
    crawler = {
        "name": "lake",
        "database": "landing",
        "targets": ["lake"],
        "recrawl_policy": "crawl_new_folders_only",
        "schema_change_policy": {"delete_behavior": "log"},
    }
    (root / "crawlers" / "lake.yml").write_text(json.dumps({"crawlers": [crawler]}))


def baseline(lake: Path, tables: int) -> float:
    import duckdb

    started = time.perf_counter()
    files = sum(len(names) for _, _, names in os.walk(lake))
    readers = {
        "parquet": "read_parquet",
        "csv": "read_csv",
        "csv.gz": "read_csv",
        "ndjson": "read_json",
    }
    with duckdb.connect() as con:
        for t in range(tables):
            fmt = FORMATS[t % len(FORMATS)]
            glob = f"{lake}/table_{t:02}/*/*.{fmt}"
            con.execute(f"SELECT count(*) FROM {readers[fmt]}('{glob}')").fetchall()
    seconds = time.perf_counter() - started
    print(f"baseline   os.walk ({files:,} files) + one DuckDB glob read per table: {seconds:.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=500, help="per table")
    parser.add_argument("--files", type=int, default=10, help="per partition")
    parser.add_argument("--out", type=Path, help="where to generate the lake (default: a temp dir)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from glueform import Workspace

    root = args.out or Path(tempfile.mkdtemp(prefix="glueform-crawl-bench-"))
    shutil.rmtree(root, ignore_errors=True)
    project(root)
    lake = root / "lake"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        blobs = {
            t: table_bytes(t, FORMATS[t % len(FORMATS)], Path(tmp)) for t in range(args.tables)
        }
    total = write_partitions(lake, args.tables, 0, args.partitions, args.files, blobs)
    print(
        f"generated  {total:,} files in {args.tables * args.partitions:,} partitions, {args.tables} tables in {time.perf_counter() - t0:.1f} s ({root})"
    )

    ws = Workspace(root)
    (full,) = ws.crawl()
    assert full.count("created") == args.tables, [(t.name, t.action) for t in full.tables]
    print(f"full crawl {full.seconds:.2f} s: {full.files_listed / full.seconds:,.0f} files/s "
          f"({full.files_listed:,} listed, {full.files_read:,} read, {full.partitions_added:,} partitions)")  # fmt: skip

    new_parts = max(1, args.partitions // 100)
    added = write_partitions(lake, args.tables, args.partitions, new_parts, args.files, blobs)
    (inc,) = Workspace(root).crawl()
    assert inc.incremental and inc.partitions_added == args.tables * new_parts, inc.partitions_added
    ratio = inc.seconds / full.seconds
    print(f"incremental {inc.seconds:.2f} s after adding {added:,} files in {args.tables * new_parts} partitions "
          f"({inc.files_read:,} read): {ratio:.1%} of the full crawl")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS   {peak:,.0f} MiB")
    if not args.no_baseline:
        base = baseline(lake, args.tables)
        print(f"ratio      full crawl / baseline: {full.seconds / base:.2f}")
    ok = full.seconds < 60 and peak < 1024 and ratio < 0.10
    print(
        "targets    full < 60 s, peak < 1 GiB, incremental < 10% of full:",
        "met" if ok else "NOT met",
    )
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
