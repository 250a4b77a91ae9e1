"""Runs as the docs show them: the catalog's run records joined with their node records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def node_runs_by_node(
    runs: Sequence[Mapping[str, Any]], node_runs: Sequence[Mapping[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Each model's builds in the given runs, newest first."""
    started = {r["id"]: r["started_at"] for r in runs}
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(node_runs, key=lambda r: -started.get(r["run_id"], 0)):
        out.setdefault(r["node"], []).append(
            {
                "run_id": r["run_id"],
                "status": r["status"],
                "rows": r["rows"],
                "seconds": r["seconds"],
                "started_at": started.get(r["run_id"]),
                "message": r["message"],
            }
        )
    return out


def run_summaries(
    runs: Sequence[Mapping[str, Any]], node_runs: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The runs (newest first) with their duration, counts by status and node records."""
    by_run: dict[str, list[Mapping[str, Any]]] = {}
    for r in node_runs:
        by_run.setdefault(r["run_id"], []).append(r)
    out = []
    for run in runs:
        nodes = by_run.get(run["id"], [])
        finished = run.get("finished_at")
        out.append(
            {
                "id": run["id"],
                "target": run["target"],
                "command": run["command"],
                "status": run["status"],
                "started_at": run["started_at"],
                "finished_at": finished,
                "seconds": finished - run["started_at"] if finished else None,
                "counts": {
                    s: sum(1 for n in nodes if n["status"] == s)
                    for s in ("success", "error", "skipped")
                },
                "nodes": [
                    {k: n[k] for k in ("node", "status", "rows", "seconds", "message")}
                    for n in sorted(nodes, key=lambda n: n["node"])
                ],
            }
        )
    return out
