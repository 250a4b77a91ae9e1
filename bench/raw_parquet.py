#!/usr/bin/env python3
"""Raw DuckDB baseline that does the same work as `glueform run`, without a framework.

One process, one in-memory DuckDB connection:

1. a view per spec source: ``CREATE VIEW "anchor"."<source>" AS SELECT * FROM read_parquet(...)``
   (glueform renders ``source('anchor', 'x')`` as ``"anchor"."x"``);
2. for each model, in spec (topological) order:
   ``COPY (<sql>) TO '<warehouse>/<db>/<model>/data_0.parquet' (FORMAT parquet)`` then
   ``CREATE VIEW "<db>"."<model>" AS SELECT * FROM read_parquet(that file)``,
   where ``<db>`` is the project default database (the spec name) and refs are rendered as
   ``"<db>"."<model>"``, as glueform renders them.

So it executes the same SQL and writes the same Parquet files as glueform; the difference
in wall time is glueform's own overhead (start-up, parse, compile, scheduling, state).

Usage: python bench/raw_parquet.py CASE [--out DIR]
(CASE holds spec.json and data/; default output CASE/raw_parquet/warehouse, wiped first.)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

PLACEHOLDER_RE = re.compile(r"\{\{(source|ref):([a-z0-9_]+)\}\}")
SOURCE_NAME = "anchor"


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Raw DuckDB + Parquet baseline for glueform run.")
    ap.add_argument("case", help="folder holding spec.json and data/")
    ap.add_argument(
        "--out", help="warehouse folder (default CASE/raw_parquet/warehouse); wiped first"
    )
    ap.add_argument(
        "--compression",
        default=None,
        help="Parquet COMPRESSION option for COPY (default: DuckDB's default)",
    )
    args = ap.parse_args(argv)

    import duckdb

    case = Path(args.case).resolve()
    spec = json.loads((case / "spec.json").read_text(encoding="utf-8"))
    db = spec["name"]
    out = Path(args.out).resolve() if args.out else case / "raw_parquet" / "warehouse"
    shutil.rmtree(out, ignore_errors=True)

    def render(sql: str) -> str:
        def sub(m: re.Match) -> str:
            if m.group(1) == "source":
                return f"{_q(SOURCE_NAME)}.{_q(m.group(2))}"
            return f"{_q(db)}.{_q(m.group(2))}"

        return PLACEHOLDER_RE.sub(sub, sql)

    copy_opts = "FORMAT parquet"
    if args.compression:
        copy_opts += f", COMPRESSION {args.compression}"

    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(SOURCE_NAME)}")
    for s in spec["sources"]:
        path = case / s.get("path", f"data/{s['name']}.parquet")
        con.execute(
            f"CREATE VIEW {_q(SOURCE_NAME)}.{_q(s['name'])} AS "
            f"SELECT * FROM read_parquet({_lit(str(path))})"
        )
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(db)}")
    for m in spec["models"]:
        target_dir = out / db / m["name"]
        target_dir.mkdir(parents=True, exist_ok=True)
        target = str(target_dir / "data_0.parquet")
        con.execute(f"COPY ({render(m['sql'])}) TO {_lit(target)} ({copy_opts})")
        con.execute(
            f"CREATE VIEW {_q(db)}.{_q(m['name'])} AS SELECT * FROM read_parquet({_lit(target)})"
        )
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
