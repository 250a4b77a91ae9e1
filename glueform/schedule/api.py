"""What the CLI calls: jobs, runs, logs and the scheduler of one :class:`Workspace`.

Each function checks the project's jobs first (as ``glueform validate`` does), so a bad cron or
an unknown job is the same clear error everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from glueform.errors import UserError
from glueform.schedule.daemon import EventSink, Scheduler, SchedulerOptions
from glueform.schedule.jobs import JobEnv, JobOutcome, lineage_inputs, run_job
from glueform.schedule.lineage_events import Lineage, require_client
from glueform.schedule.logs import read_log
from glueform.schedule.triggers import next_fire

if TYPE_CHECKING:
    from glueform.schedule.clock import Clock
    from glueform.workspace import Workspace


def job_env(ws: Workspace, lineage: str | None = None, isolate: bool = True) -> JobEnv:
    from glueform.secrets import url_secrets

    if lineage:
        require_client()
    ws.validate()
    project = ws.project
    secrets = ws.secrets | url_secrets("lineage password", lineage)
    return JobEnv(
        root=project.root,
        project_name=project.name,
        state_dir=ws.target.state_dir,
        target=ws.target_name,
        vars=ws.vars,
        isolate=isolate,
        lineage=Lineage(lineage, project.name, secrets) if lineage else None,
        lineage_inputs=lineage_inputs(project, ws.graph) if lineage else {},
        secrets=secrets,
    )


def list_jobs(ws: Workspace, now: float) -> list[dict[str, Any]]:
    """Every job with what starts it and, for schedules, when next."""
    ws.validate()
    project = ws.project
    out = []
    for job in project.jobs.values():
        triggers = [t for t in project.triggers.values() if job.name in t.jobs]
        nexts = [next_fire(t, now) for t in triggers if t.type == "schedule" and t.enabled]
        nexts = [n for n in nexts if n != float("inf")]
        out.append(
            {
                "name": job.name,
                "description": job.description,
                "crawlers": list(job.crawlers),
                "select": list(job.select),
                "exclude": list(job.exclude),
                "triggers": [f"{t.name} ({t.type})" for t in triggers],
                "next_run": min(nexts) if nexts else None,
                "timeout": job.timeout,
                "max_retries": job.max_retries,
                "max_concurrent_runs": job.max_concurrent_runs,
                "bookmark": job.bookmark,
                "tags": dict(job.tags),
            }
        )
    return out


def run_now(
    ws: Workspace, name: str, vars: Mapping[str, Any] | None = None, lineage: str | None = None
) -> JobOutcome:
    """``glueform jobs run NAME``: one run, in the foreground, with the job's retries and timeout."""
    env = job_env(ws, lineage)
    job = ws.project.jobs.get(name)
    if job is None:
        import difflib

        close = difflib.get_close_matches(name, list(ws.project.jobs), n=1)
        raise UserError(
            f"unknown job '{name}'",
            hint=f"did you mean '{close[0]}'?" if close else "list jobs with 'glueform jobs ls'",
        )
    with ws.catalog() as store:
        return run_job(env, store, job, vars=vars)


def list_runs(
    ws: Workspace, job: str | None = None, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    from glueform.catalog.jobruns import JobRuns

    with ws.catalog() as store:
        return JobRuns(store).list(job, status, limit)


def list_workflow_runs(
    ws: Workspace, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    from glueform.catalog.jobruns import JobRuns

    with ws.catalog() as store:
        return JobRuns(store).workflow_runs(status=status, limit=limit)


def run_log(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    """A job run's log file; for a transform run (``glueform run``), its node records."""
    try:
        return read_log(ws.target.state_dir, run_id)
    except UserError:
        with ws.catalog() as store:
            nodes = store.node_runs([run_id])
        if not nodes:
            raise
        return [
            {"ts": "", "run_id": run_id, "event": "node_finished", "node": n["node"],
             "status": n["status"], "rows": n["rows"], "seconds": n["seconds"], "message": n["message"]}
            for n in nodes
        ]  # fmt: skip


@contextmanager
def scheduler(
    ws: Workspace,
    options: SchedulerOptions,
    metrics_port: int | None = None,
    lineage: str | None = None,
    on_event: EventSink | None = None,
    clock: Clock | None = None,
) -> Iterator[Scheduler]:
    """A scheduler over the workspace's catalog, with its metrics endpoint while it lives."""
    from glueform.catalog.jobruns import JobRuns
    from glueform.schedule.metrics import MetricsServer, Snapshot

    env = job_env(ws, lineage)
    with ws.catalog() as store:
        sched = Scheduler(ws.project, store, env, options, clock, on_event)
        server = None
        if metrics_port is not None:
            runs = JobRuns(store)
            try:
                server = MetricsServer(
                    metrics_port,
                    lambda: Snapshot(
                        runs.summary(), len(sched.running), dict(sched.fired), runs.node_summary()
                    ),
                ).start()
            except OSError as exc:
                raise UserError(
                    f"cannot serve metrics on 127.0.0.1:{metrics_port}: {exc.strerror or exc}",
                    hint="pick another --metrics-port, or 0 for any free port",
                ) from None
            sched.metrics_port = server.port
            if on_event is not None:
                on_event("metrics", {"url": f"http://127.0.0.1:{server.port}/metrics"})
        try:
            yield sched
        finally:
            if server is not None:
                server.close()
