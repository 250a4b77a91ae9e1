#!/usr/bin/env python3
"""Parquet footers of many small files: glueform's reader (glueform/parquet.py) against DuckDB's
parquet_file_metadata() and parquet_metadata(), in the same run on the same files.

    python bench/footer_bench.py [--files 100000] [--repeat 3]

Each figure is the median of --repeat passes reading the row count of every file (glueform: the
footer's FileMetaData, plus the columns; DuckDB: one query over the glob). Prints seconds and
the ratio of each DuckDB figure to glueform's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def make_files(folder: Path, count: int) -> list[Path]:
    """``count`` small Parquet files (three columns, a few rows) written by DuckDB, in folders
    of 1,000 (one written, then copied: writing 100,000 with DuckDB alone takes minutes)."""
    import shutil

    import duckdb

    seed = folder / "seed.parquet"
    duckdb.sql(
        "COPY (SELECT i AS id, 'name ' || i AS name, i * 1.5 AS amount FROM range(5) t(i)) "
        f"TO '{seed}' (FORMAT parquet)"
    )
    files = []
    for i in range(count):
        sub = folder / f"part={i // 1000}"
        sub.mkdir(exist_ok=True)
        path = sub / f"f{i}.parquet"
        shutil.copyfile(seed, path)
        files.append(path)
    seed.unlink()
    return files


def time_ours(files: list[Path]) -> tuple[float, int]:
    from glueform.parquet import footer_columns, footer_length

    started = time.perf_counter()
    total = 0
    for path in files:
        with path.open("rb") as f:
            f.seek(-8, 2)
            length = footer_length(f.read(8))
            f.seek(-8 - length, 2)
            total += footer_columns(f.read(length))[1]
    return time.perf_counter() - started, total


def time_duckdb(folder: Path, function: str) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    glob = f"{folder}/**/*.parquet"
    query = {
        "parquet_file_metadata": f"SELECT sum(num_rows) FROM parquet_file_metadata('{glob}')",
        # one row per row group and column: the rows of each row group, once
        "parquet_metadata": "SELECT sum(row_group_num_rows) FROM (SELECT DISTINCT file_name, "
        f"row_group_id, row_group_num_rows FROM parquet_metadata('{glob}'))",
    }[function]
    started = time.perf_counter()
    (total,) = con.sql(query).fetchone()
    seconds = time.perf_counter() - started
    con.close()
    return seconds, int(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="glueform-footers-") as tmp:
        folder = Path(tmp)
        files = make_files(folder, args.files)
        figures: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            runs = {
                "glueform": time_ours(files),
                "parquet_file_metadata": time_duckdb(folder, "parquet_file_metadata"),
                "parquet_metadata": time_duckdb(folder, "parquet_metadata"),
            }
            rows = {total for _, total in runs.values()}
            assert rows == {5 * args.files}, runs  # every reader counted every row
            for name, (seconds, _) in runs.items():
                figures.setdefault(name, []).append(seconds)
    base = statistics.median(figures["glueform"])
    print(f"Parquet footers of {args.files:,} files, median of {args.repeat}:")
    for name, values in figures.items():
        seconds = statistics.median(values)
        print(f"  {name:<22} {seconds:8.2f} s   {seconds / base:5.2f}x glueform's time")


if __name__ == "__main__":
    main()
