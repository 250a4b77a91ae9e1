"""Per-run logs: structured JSON lines in ``<state>/logs/<run_id>.jsonl``.

The scheduler, the job's child process and the runner's progress all append to one file, so
``glueform logs RUN_ID`` tells the whole story of a run; each line is a small JSON object.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from glueform.errors import UserError
from glueform.secrets import Secrets


def log_path(state_dir: Path, run_id: str) -> Path:
    return state_dir / "logs" / f"{run_id}.jsonl"


class RunLog:
    """Appends events to one run's log (one write per line, so writers do not interleave),
    every line masked of ``secrets`` (what the run's models read with env_var(), credentials)."""

    def __init__(self, path: Path, run_id: str, secrets: Secrets | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self.secrets = secrets or Secrets()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: str, **fields: Any) -> None:
        now = time.time()
        record = {
            "ts": iso_ms(now),
            "run_id": self.run_id,
            "event": event,
            **fields,
        }
        line = self.secrets.redact_json(record) + "\n"
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)

    # the runner's Reporter: a transform run's progress goes to the log
    def run_started(self, total: int) -> None:
        self.write("transforms_started", nodes=total)

    def node_finished(self, result: Any) -> None:
        self.write(
            "node_finished",
            node=result.name,
            status=result.status,
            rows=result.rows,
            seconds=round(result.seconds, 3),
            message=result.message,
        )


def iso_ms(ts: float) -> str:
    """UTC ISO 8601 with milliseconds, as logs and OpenLineage events write times."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def read_log(state_dir: Path, run_id: str) -> list[dict[str, Any]]:
    path = log_path(state_dir, run_id)
    if not path.is_file():
        known = (
            sorted(p.stem for p in path.parent.glob("*.jsonl"))[-5:] if path.parent.is_dir() else []
        )
        raise UserError(
            f"no log for run '{run_id}'",
            hint=f"recent runs: {', '.join(known)}" if known else "list runs with 'glueform runs'",
        )
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a killed attempt
            continue
    return out
