"""The child process of one job attempt: ``python -m glueform.schedule.worker '<json>'``.

It runs the job's steps and prints one result line. SIGTERM stops it like Ctrl-C: the runner
interrupts in-flight builds, commits what finished and marks its run cancelled.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from glueform.build.runner import stop_on_sigterm
from glueform.errors import GlueformError
from glueform.schedule.jobs import RESULT_MARK, execute_steps
from glueform.schedule.logs import RunLog


def main(argv: list[str]) -> int:
    payload = json.loads(argv[0])
    log = RunLog(Path(payload["log"]), payload["run_id"])
    stop_on_sigterm()
    try:
        result = _run(payload, log)
    except KeyboardInterrupt:
        log.write("attempt_stopped", message="stopped by signal; finished builds were committed")
        return 130
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


def _run(payload: dict[str, Any], log: RunLog) -> dict[str, Any]:
    from glueform.workspace import Workspace

    ws = Workspace(payload["root"], target=payload["target"], vars=payload["vars"])
    try:
        job = ws.project.jobs[payload["job"]]
        ws.validate()  # compiled first: the log then masks what the models read
        log.secrets = ws.secrets
        step = execute_steps(ws, job, log, command=f"job {payload['run_id']}")
    except GlueformError as exc:
        log.secrets = ws.secrets
        log.write("error", message=str(exc))
        return {"ok": False, "error": log.secrets.redact(exc.message)}
    except Exception as exc:  # a bug: say what, the log keeps it
        log.secrets = ws.secrets
        log.write("error", message=f"{type(exc).__name__}: {exc}")
        message = f"internal error: {type(exc).__name__}: {exc}"
        return {"ok": False, "error": log.secrets.redact(message)}
    return {"ok": step.ok, "error": log.secrets.redact(step.error) if step.error else None}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
