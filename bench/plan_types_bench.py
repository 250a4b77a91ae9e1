#!/usr/bin/env python3
"""Time the type inference `plan` and `docs` share (plan.desired.model_columns) on 1,000 models.

Baseline, measured in the same run on the same project: the same inference given the whole
project's schema for every model (what it did before compile.dag.input_schema), instead of the
tables the model reads. Nothing has run, so every model is inferred. Wall and CPU seconds are
printed (CPU is the figure to trust on a shared machine); the median of `--repeat` runs, and
both results must be equal.

Usage: python bench/plan_types_bench.py [--models 1000] [--repeat 3] [--anchors PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import run as bench_run  # noqa: E402  (project generation)


def timed(fn: Any, repeat: int) -> tuple[list[float], list[float], Any]:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--anchors", help="path to gen_anchor_projects.py or its folder")
    args = ap.parse_args(argv)

    case = bench_run.ensure_case(
        bench_run.find_anchor_script(args.anchors), args.models, args.rows, args.seed, False
    )
    from glueform import Workspace
    from glueform.plan import desired

    graph = Workspace(case / "glueform").graph
    everything = set(graph.nodes)
    own = desired.input_schema

    def whole_schema() -> Any:
        desired.input_schema = lambda graph, name, schema: schema  # type: ignore[assignment]
        try:
            return desired.model_columns(graph, everything, {})
        finally:
            desired.input_schema = own

    cases = {
        "model_columns, each model's inputs (now)": lambda: desired.model_columns(
            graph, everything, {}
        ),
        "model_columns, the whole schema (baseline)": whole_schema,
    }
    medians, results = {}, []
    print(f"\n{len(graph.nodes)} models ({case}), median of {args.repeat} runs")
    for name, fn in cases.items():
        walls, cpus, result = timed(fn, args.repeat)
        results.append(result)
        medians[name] = statistics.median(cpus)
        known = sum(1 for v in result.values() if v)
        print(
            f"  {name:<44} wall {statistics.median(walls):6.2f} s  "
            f"cpu {medians[name]:6.2f} s  ({known} models typed)"
        )
    now, base = medians.values()
    print(f"  ratio now / baseline (cpu): {now / base:.3f}")
    same = results[0] == results[1]
    print(f"  same columns and types: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
