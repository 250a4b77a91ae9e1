#!/usr/bin/env python3
"""Incremental benchmark: an incremental model with file bookmarks over a growing NDJSON source.

1,000 input files, a full run; then 10 new files and an incremental run, which reads only the
new files (target: under 5% of the full run's time; the median of --repeat increments, each
over 10 more files). Both runs are timed in this process (the project compiled beforehand, so
both pay the same fixed costs), on DuckDB. The incremental run writes the new rows only: the
previous version's files are hard-linked into the new version folder (append), so the table's
size costs one link per file, not a rewrite. An increment has a fixed cost of about 0.1 s
(DuckDB's per-query start, the catalog's transactions, listing the files), so the ratio
depends on how much a full run reads: with --rows 2000 (a 1.6 s full run) it is about 7%.

Usage: python bench/incremental_bench.py [--files 1000] [--rows 10000] [--new 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "incremental"

MODEL = """\
{{ config(materialized='incremental', bookmark='enable') }}
select
    event_id,
    session_id,
    lower(event_type) as event_type,
    regexp_replace(url, '\\?.*$', '') as page,
    regexp_extract(url, 'utm_source=([a-z]+)', 1) as utm_source,
    occurred_at,
    cast(occurred_at as date) as event_date,
    payload.device as device,
    payload.ms as ms
from {{ source('raw', 'events') }}
"""

SOURCES = """\
sources:
  - name: raw
    tables:
      - name: events
        path: data/events/*.ndjson
        format: ndjson
        options: {sample_size: 2000}   # the columns are declared: sniff one file's worth of rows
        columns:
          - {name: event_id, type: BIGINT}
          - {name: session_id, type: VARCHAR}
          - {name: event_type, type: VARCHAR}
          - {name: url, type: VARCHAR}
          - {name: occurred_at, type: TIMESTAMP}
          - {name: payload, type: 'STRUCT(device VARCHAR, ms BIGINT)'}
"""


def write_files(folder: Path, start: int, count: int, rows: int) -> None:
    rng = random.Random(start)
    types = ["PAGE_VIEW", "add_to_cart", "Checkout"]
    for f in range(start, start + count):
        lines = []
        for r in range(rows):
            i = f * rows + r
            url = f"/p/{rng.randrange(500)}" + ("?utm_source=news" if i % 7 == 0 else "")
            lines.append(
                json.dumps(
                    {
                        "event_id": i,
                        "session_id": f"s{i // 20}",
                        "event_type": types[i % 3],
                        "url": url,
                        "occurred_at": f"2024-{1 + f % 12:02}-{1 + r % 28:02} 12:{r % 60:02}:00",
                        "payload": {"device": ["ios", "android", "web"][i % 3], "ms": i % 997},
                    }
                )
            )
        (folder / f"events-{f:05}.ndjson").write_text("\n".join(lines) + "\n")


def timed_run(root: Path) -> tuple[float, dict[str, object]]:
    from glueform import Workspace

    ws = Workspace(root)
    ws.graph  # noqa: B018 - compile before the clock starts
    start = time.perf_counter()
    result = ws.run()
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"run failed: {result.to_dict()}")
    return elapsed, result.results[0].__dict__


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=10000, help="rows per file")
    parser.add_argument("--new", type=int, default=10, help="files added before the increment")
    parser.add_argument("--repeat", type=int, default=3, help="increments timed (median)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    root = args.out / "project"
    shutil.rmtree(root, ignore_errors=True)
    (root / "data" / "events").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "transforms").mkdir()
    (root / "glueform.yml").write_text("name: bench\ntargets:\n  dev:\n    engine: duckdb\n")
    (root / "sources" / "raw.yml").write_text(SOURCES)
    (root / "transforms" / "events.sql").write_text(MODEL)
    write_files(root / "data" / "events", 0, args.files, args.rows)

    full, full_node = timed_run(root)
    times = []
    for i in range(args.repeat):  # each time, `new` more files
        write_files(root / "data" / "events", args.files + i * args.new, args.new, args.rows)
        seconds, inc_node = timed_run(root)
        times.append(seconds)
    incremental = statistics.median(times)
    ratio = incremental / full
    print(f"input: {args.files:,} files x {args.rows:,} rows, then {args.new} new files")
    print(
        f"full run:        {full:7.3f} s  ({full_node['files_read']} files read, "
        f"{full_node['rows']:,} rows written)"
    )
    print(f"incremental runs: {', '.join(f'{s:.3f}' for s in times)} s; the median:")
    print(
        f"incremental run: {incremental:7.3f} s  ({inc_node['files_read']} files read, "
        f"{inc_node['new_rows']:,} new rows written; the table: {inc_node['rows']:,} rows)"
    )
    verdict = "ok" if ratio < 0.05 else "ABOVE TARGET"
    print(f"ratio:           {ratio:7.2%}  (target < 5%: {verdict})")
    return 0 if ratio < 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
