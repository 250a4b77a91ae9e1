"""``glueform jobs ls|run|trigger``, ``glueform runs``, ``glueform logs`` and ``glueform scheduler``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from glueform.cli.base import Context, cli, common, local_time

STATES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "COMPLETED"]
lineage_option = click.option(
    "--lineage",
    metavar="FILE|URL",
    help="Send OpenLineage events to a JSON-lines file or an HTTP URL.",
)


@cli.group()
def jobs() -> None:
    """Jobs (jobs/*.yml): list them, run one now, fire a trigger."""


@jobs.command(name="ls")
@common(json_flag=True)
def jobs_ls(ctx: Context) -> int:
    """List jobs, their triggers and their next scheduled run."""
    from glueform.schedule import api

    rows = api.list_jobs(ctx.workspace(), time.time())
    console = ctx.console()
    console.data(rows)
    columns = ["name", "runs", "triggers", "next run", "timeout", "retries"]
    table = [
        [r["name"], " ".join([*(f"crawl:{c}" for c in r["crawlers"]), *r["select"]]), ", ".join(r["triggers"]),
         local_time(r["next_run"]), "" if r["timeout"] is None else f"{r['timeout']:g}s", r["max_retries"]]
        for r in rows
    ]  # fmt: skip
    console.table(f"{len(rows)} jobs", columns, table)
    return 0


@jobs.command(name="run")
@common(json_flag=True)
@click.argument("name")
@lineage_option
def jobs_run(ctx: Context, name: str, lineage: str | None) -> int:
    """Run job NAME now, in the foreground (its retries and timeout apply)."""
    from glueform.cli.base import stop_on_sigterm
    from glueform.schedule import api

    stop_on_sigterm()
    outcome = api.run_now(ctx.workspace(), name, lineage=lineage)
    console = ctx.console()
    console.data(outcome.to_dict())
    style = "green" if outcome.status == "SUCCEEDED" else "red"
    console.markup(
        f"job {name}: [{style}]{outcome.status}[/] after {outcome.attempts} attempt(s), run {outcome.run_id}"
    )
    if outcome.error:
        console.lines([f"  {outcome.error}"])
    console.markup(f"log: glueform logs {outcome.run_id}")
    return 0 if outcome.status == "SUCCEEDED" else 1


@jobs.command(name="trigger")
@common(json_flag=True)
@click.argument("name")
@lineage_option
def jobs_trigger(ctx: Context, name: str, lineage: str | None) -> int:
    """Fire trigger NAME now and follow what it starts (its workflow's conditional triggers too)."""
    from glueform.schedule import api
    from glueform.schedule.daemon import SchedulerOptions

    console = ctx.console()
    options = SchedulerOptions(schedules=False, poll=0.2)
    with api.scheduler(ctx.workspace(), options, lineage=lineage, on_event=console.event) as sched:
        sched.start_trigger(name)
        with _stop_on_signals(sched):
            sched.run(until_idle=True)
    return 0


@cli.command()
@common(json_flag=True)
@click.option("--job", help="Only runs of this job.")
@click.option(
    "--status", type=click.Choice(STATES, case_sensitive=False), help="Only runs in this state."
)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option(
    "--workflows", is_flag=True, help="List workflow runs (with their job counts) instead."
)
def runs(ctx: Context, job: str | None, status: str | None, limit: int, workflows: bool) -> int:
    """Job runs, newest first: status, times, rows and bytes written, error."""
    from glueform.schedule import api

    console = ctx.console()
    if workflows:
        flows = api.list_workflow_runs(ctx.workspace(), status, limit)
        console.data(flows)
        console.table(
            f"{len(flows)} workflow runs",
            ["run id", "workflow", "status", "trigger", "started", "finished", "job runs"],
            [[f["id"], f["workflow"], f["status"], f["trigger"], local_time(f["started_at"]), local_time(f["finished_at"]),
              ", ".join(f"{k} {v}" for k, v in f["statistics"].items())] for f in flows],
        )  # fmt: skip
        return 0
    rows = api.list_runs(ctx.workspace(), job, status, limit)
    console.data(rows)
    columns = ["run id", "job", "status", "trigger", "started", "seconds", "rows", "bytes", "error"]
    table = [
        [r["id"], r["job"], r["status"], r["trigger"], local_time(r["started_at"]), r["seconds"],
         r["rows_written"], r["bytes_written"], (r["error"] or "")[:60]]
        for r in rows
    ]  # fmt: skip
    console.table(f"{len(rows)} runs", columns, table)
    return 0


@cli.command()
@common(json_flag=True)
@click.argument("run_id")
def logs(ctx: Context, run_id: str) -> int:
    """The structured log of a job run (JSON lines kept in the state folder)."""
    from glueform.schedule import api

    records = api.run_log(ctx.workspace(), run_id)
    console = ctx.console()
    console.data(records)
    skip = {"ts", "run_id", "event"}
    console.lines(
        [
            f"{r['ts']} {r['event']:<18} "
            + " ".join(f"{k}={v}" for k, v in r.items() if k not in skip and v is not None)
            for r in records
        ]
    )
    return 0


@cli.command()
@common(json_flag=True)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=4, show_default=True, help="Job runs at once."
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics on 127.0.0.1:PORT (0: any).",
)
@click.option(
    "--catch-up",
    type=click.Choice(["run_once", "skip"]),
    default="run_once",
    show_default=True,
    help="Schedule times missed while no scheduler ran.",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds in-flight runs get to finish on SIGTERM.",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the catalog when idle.",
)
@lineage_option
def scheduler(
    ctx: Context,
    workers: int,
    metrics_port: int | None,
    catch_up: str,
    grace: float,
    poll: float,
    lineage: str | None,
) -> int:
    """Fire the project's triggers and run its jobs until SIGTERM or Ctrl-C (stops gracefully)."""
    from glueform.schedule import api
    from glueform.schedule.daemon import SchedulerOptions

    console = ctx.console()
    options = SchedulerOptions(workers=workers, catch_up=catch_up, poll=poll, grace=grace)
    ws = ctx.workspace()
    with (
        api.scheduler(ws, options, metrics_port, lineage, on_event=console.event) as sched,
        _stop_on_signals(sched),
    ):
        sched.run()
    return 0


@contextmanager
def _stop_on_signals(sched: Any) -> Iterator[None]:
    """SIGTERM and Ctrl-C stop the scheduler gracefully while it runs."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        sched.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
