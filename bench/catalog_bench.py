#!/usr/bin/env python3
"""Catalog benchmark: 1,000 tables of 20 columns and 10,000 partitions.

Builds a generated project whose 1,000 models each write a 20-column table partitioned into 10
folders, then times, as whole processes (median of --repeat):
  - a no-change `glueform plan` (target: under 5 s), against `glueform --help` as the floor;
  - a sync of the whole catalog to the AWS Glue API of a local moto server (`glueform catalog
    sync`: 1,000 CreateTable calls and 10,000 partitions in BatchCreatePartition calls of 100).

Usage: python bench/catalog_bench.py [--tables 1000] [--partitions-per-table 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "catalog"
GLUEFORM = str(Path(sys.executable).parent / "glueform")


def generate(root: Path, tables: int, parts: int, endpoint: str) -> None:
    shutil.rmtree(root, ignore_errors=True)
    (root / "transforms").mkdir(parents=True)
    (root / "glueform.yml").write_text(
        "name: catalog_bench\n"
        "targets:\n  dev:\n    engine: duckdb\n    threads: 2\n"
        f"    glue: {{region: eu-west-1, endpoint_url: '{endpoint}'}}\n"
        "transforms:\n  defaults: {materialized: table}\n"
    )
    extra = ", ".join(f"i * {c} as c{c:02}" for c in range(1, 19))
    for t in range(tables):
        (root / "transforms" / f"t{t:04}.sql").write_text(
            f"{{{{ config(partition_by=['part']) }}}}\n"
            f"select i as id, i % {parts} as part, {extra}\nfrom range({parts * 2}) r(i)\n"
        )


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--partitions-per-table", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    root = OUT / f"t{args.tables}_p{args.partitions_per_table}"
    try:
        generate(root, args.tables, args.partitions_per_table, endpoint)
        # Build once without the glue: settings, so that the timed sync is the first one.
        build_env = {**env}
        yml = root / "glueform.yml"
        text = yml.read_text()
        yml.write_text(
            text.replace(f"    glue: {{region: eu-west-1, endpoint_url: '{endpoint}'}}\n", "")
        )
        start = time.perf_counter()
        run = subprocess.run(
            [GLUEFORM, "run", "-p", str(root), "--json"],
            env=build_env,
            capture_output=True,
            text=True,
        )
        build_s = time.perf_counter() - start
        if run.returncode != 0:
            raise SystemExit(run.stderr[-2000:])
        yml.write_text(text)
        help_s = statistics.median(
            timed([GLUEFORM, "--help"], root, env) for _ in range(args.repeat)
        )
        sync_s = timed([GLUEFORM, "catalog", "sync", "-p", str(root)], root, env)
        plans = [
            timed([GLUEFORM, "plan", "-p", str(root), "--detailed-exitcode"], root, env)
            for _ in range(args.repeat)
        ]
        check = subprocess.run(
            [GLUEFORM, "plan", "-p", str(root), "--detailed-exitcode"],
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        server.stop()
    plan_s = statistics.median(plans)
    partitions = args.tables * args.partitions_per_table
    print(
        f"catalog: {args.tables} tables x 20 columns, {partitions} partitions (built in {build_s:.1f} s)"
    )
    print(f"{'case':44} {'median s':>9} {'min-max s':>13}")
    print(f"{'glueform --help (floor)':44} {help_s:9.2f}")
    print(
        f"{'glueform plan, no change (target < 5 s)':44} {plan_s:9.2f} {min(plans):6.2f}-{max(plans):.2f}   {'PASS' if plan_s < 5 else 'FAIL'}  ({plan_s / help_s:.1f}x --help)"
    )
    print(
        f"{'glueform catalog sync to moto Glue (1 run)':44} {sync_s:9.2f}   ({args.tables / sync_s:.0f} tables/s, {partitions / sync_s:.0f} partitions/s)"
    )
    print(
        f"plan after the sync reports no changes: {'yes' if check.returncode == 0 else f'NO (exit {check.returncode})'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
