"""Running one job: its steps, retries with exponential backoff, a timeout, concurrency slots.

A job is a sequence of typed steps (crawl, then transforms). Each attempt runs in a child
process (``python -m glueform.schedule.worker``) by default: a timeout or a stopping scheduler
sends it SIGTERM, which the runner turns into a clean stop (in-flight builds are interrupted,
finished ones committed, the transform run marked cancelled, its lock released), and SIGKILL
after a grace period, which the catalog survives too. ``isolate=False`` runs steps in the
calling thread instead (embedding, simulated time); there a timeout can only be noticed after
the attempt returns.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from glueform.catalog.jobruns import JobRuns
from glueform.errors import GlueformError
from glueform.project.model import JobSpec
from glueform.schedule.clock import Clock, SystemClock
from glueform.schedule.logs import RunLog, log_path
from glueform.secrets import Secrets

if TYPE_CHECKING:
    from glueform.build.runner import RunResult
    from glueform.catalog.store import CatalogStore
    from glueform.compile.dag import Graph
    from glueform.project.model import Project
    from glueform.schedule.lineage_events import Lineage
    from glueform.workspace import Workspace

RESULT_MARK = "GLUEFORM_RESULT "


class ConcurrentRunsExceeded(GlueformError):
    """The job already runs ``max_concurrent_runs`` times (Glue's ConcurrentRunsExceededException)."""


# -- steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    ok: bool
    error: str | None = None
    run_id: str | None = None


class Step(Protocol):
    name: str

    def run(self, ws: Workspace, log: RunLog, command: str) -> StepResult: ...


@dataclass(frozen=True)
class TransformStep:
    """Build the job's selection, as ``glueform run -s ... --exclude ...``."""

    select: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    bookmark: str = "enable"  # the job's option: disable or pause overrides each model's own
    lock_wait: float | None = None  # seconds to wait for the run lock (None: one lease)
    name: str = "transforms"

    def run(self, ws: Workspace, log: RunLog, command: str) -> StepResult:
        from glueform.catalog.store import LockHeldError

        bookmark = None if self.bookmark == "enable" else self.bookmark

        def attempt(wait: float) -> RunResult:
            return ws.run(
                self.select, self.exclude, reporter=log, command=command, bookmark=bookmark,
                lock_wait=wait,
            )  # fmt: skip

        # another run of this project holds its run lock: wait for it, but not forever (the
        # job's timeout, else one lease: by then a dead holder's lock has been taken over)
        wait = self.lock_wait if self.lock_wait is not None else ws.target.lock_lease_minutes * 60
        try:
            result = attempt(0.0)
        except LockHeldError as exc:
            log.write("waiting_for_lock", message=exc.message, seconds=wait)
            try:
                result = attempt(wait)
            except LockHeldError as again:
                return StepResult(False, f"gave up waiting {wait:g}s for the lock: {again.message}")
        failed = [r for r in result.results if r.status == "error"]
        error = f"{failed[0].name}: {failed[0].message}" if failed else None
        return StepResult(result.ok, error, result.run_id)


@dataclass(frozen=True)
class CrawlStep:
    """Run the job's crawlers, as ``glueform crawl NAME...``: a target that cannot be listed
    fails the step (skipped files do not)."""

    crawlers: tuple[str, ...]
    name: str = "crawl"

    def run(self, ws: Workspace, log: RunLog, command: str) -> StepResult:
        results = ws.crawl(self.crawlers)
        for r in results:
            log.write(
                "crawled",
                crawler=r.crawler,
                crawl_id=r.crawl_id,
                ok=r.ok,
                tables={a: r.count(a) for a in ("created", "updated", "deleted")},
                partitions_added=r.partitions_added,
                files_read=r.files_read,
                files_skipped=len(r.skipped),
            )
        failed = [r for r in results if not r.ok]
        error = (
            f"crawler {failed[0].crawler}: {failed[0].failed_targets[0].reason}" if failed else None
        )
        return StepResult(not failed, error)


def steps_for(job: JobSpec) -> list[Step]:
    """The job's steps in order: crawlers first (their tables are the transforms' sources)."""
    steps: list[Step] = []
    if job.crawlers:
        steps.append(CrawlStep(job.crawlers))
    if job.select:
        steps.append(TransformStep(job.select, job.exclude, job.bookmark, job.timeout))
    return steps


def execute_steps(ws: Workspace, job: JobSpec, log: RunLog, command: str) -> StepResult:
    """One attempt: every step in order, stopping at the first that fails."""
    last = StepResult(True)
    for step in steps_for(job):
        log.write("step_started", step=step.name)
        last = step.run(ws, log, command)
        log.write(
            "step_finished",
            step=step.name,
            ok=last.ok,
            error=last.error,
            transform_run_id=last.run_id,
        )
        if not last.ok:
            return last
    return last


# -- one job run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobEnv:
    """What running jobs needs: where the project is, the clock, and the signal to stop."""

    root: Path
    project_name: str
    state_dir: Path
    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)  # the project vars given on the CLI
    clock: Clock = field(default_factory=SystemClock)
    isolate: bool = True
    stop: threading.Event = field(default_factory=threading.Event)
    kill_grace: float = 10.0  # seconds between SIGTERM and SIGKILL of an attempt
    lineage: Lineage | None = None
    lineage_inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # job -> datasets
    secrets: Secrets = field(default_factory=Secrets)  # masked in records, logs and events


@dataclass(frozen=True)
class JobOutcome:
    run_id: str
    job: str
    status: str  # SUCCEEDED | FAILED | TIMEOUT | STOPPED
    attempts: int
    error: str | None = None
    transform_run_ids: tuple[str, ...] = ()
    rows_written: int | None = None
    bytes_written: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_job(
    env: JobEnv,
    store: CatalogStore,
    job: JobSpec,
    vars: Mapping[str, Any] | None = None,
    trigger: str | None = None,
    workflow_run_id: str | None = None,
    fire_time: float | None = None,
) -> JobOutcome:
    """Run ``job`` to its end: take a concurrency slot, record the run, attempt with retries."""
    runs = JobRuns(store)
    merged = {**job.vars, **env.vars, **(vars or {})}  # project < job < command line < this run
    with job_slot(store, env.project_name, job):
        run_id = runs.start(job.name, env.clock.now(), trigger, workflow_run_id, fire_time, merged)
        log = RunLog(log_path(env.state_dir, run_id), run_id, env.secrets)
        log.write(
            "job_started",
            job=job.name,
            trigger=trigger,
            workflow_run_id=workflow_run_id,
            vars=merged,
        )
        _lineage(env, "START", run_id, job, store, (), log)
        status, error, attempts = "FAILED", None, 0
        try:
            status, error, attempts = _attempts(env, runs, job, run_id, merged, log)
        except BaseException as exc:
            status, error = "STOPPED", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            outcome = _finish(env, runs, job, run_id, status, error, attempts, log)
            _lineage(
                env,
                _LINEAGE_TYPES[status],
                run_id,
                job,
                store,
                outcome.transform_run_ids,
                log,
                error,
            )
    return outcome


def _attempts(
    env: JobEnv, runs: JobRuns, job: JobSpec, run_id: str, merged: Mapping[str, Any], log: RunLog
) -> tuple[str, str | None, int]:
    status, error = "FAILED", None
    for attempt in range(1, job.max_retries + 2):
        if attempt > 1:
            delay = job.retry_backoff * 2 ** (attempt - 2)
            log.write("retry_wait", attempt=attempt, seconds=delay, after=error)
            env.clock.sleep(delay)
        if env.stop.is_set():
            return "STOPPED", "the scheduler stopped", attempt - 1
        log.write("attempt_started", attempt=attempt)
        runs.update(run_id, attempts=attempt)
        status, error = (_child_attempt if env.isolate else _inline_attempt)(
            env, job, run_id, merged, log
        )
        log.write("attempt_finished", attempt=attempt, status=status, error=error)
        if status != "FAILED":  # success, timeout and stop are final; failures are retried
            return status, error, attempt
    return status, error, job.max_retries + 1


def _inline_attempt(
    env: JobEnv, job: JobSpec, run_id: str, merged: Mapping[str, Any], log: RunLog
) -> tuple[str, str | None]:
    from glueform.workspace import Workspace

    started = time.monotonic()
    ws = Workspace(env.root, target=env.target, vars=dict(merged))
    try:
        result = execute_steps(ws, job, log, command=f"job {run_id}")
    except GlueformError as exc:
        return "FAILED", exc.message
    if job.timeout is not None and time.monotonic() - started > job.timeout:
        why = f": {result.error}" if not result.ok and result.error else ""
        return "TIMEOUT", f"the run took longer than its timeout ({job.timeout:g}s){why}"
    return ("SUCCEEDED", None) if result.ok else ("FAILED", result.error)


def _child_attempt(
    env: JobEnv, job: JobSpec, run_id: str, merged: Mapping[str, Any], log: RunLog
) -> tuple[str, str | None]:
    """The attempt in a child process, stopped by SIGTERM on timeout or when the scheduler stops."""
    payload = {
        "root": str(env.root), "target": env.target, "job": job.name, "run_id": run_id,
        "vars": dict(merged), "log": str(log.path),
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "glueform.schedule.worker", json.dumps(payload, default=str)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a Ctrl-C at the terminal reaches the scheduler, which decides
    )
    log.write("attempt_process", pid=proc.pid)
    deadline = None if job.timeout is None else time.monotonic() + job.timeout
    ending: str | None = None
    kill_at = 0.0
    while True:
        try:
            output, _ = proc.communicate(timeout=0.05)
            break
        except BaseException as exc:
            if not isinstance(exc, subprocess.TimeoutExpired):  # Ctrl-C here: stop the child too
                _end_child(proc, env.kill_grace)
                raise
            now = time.monotonic()
            if ending is None and deadline is not None and now > deadline:
                ending = "TIMEOUT"
            elif ending is None and env.stop.is_set():
                ending = "STOPPED"
            else:
                if ending is not None and now > kill_at:
                    proc.kill()
                continue
            log.write("attempt_signal", signal="SIGTERM", reason=ending)
            proc.send_signal(signal.SIGTERM)
            kill_at = now + env.kill_grace
    if ending == "TIMEOUT":
        return "TIMEOUT", f"the run took longer than its timeout ({job.timeout:g}s) and was stopped"
    if ending == "STOPPED":
        return "STOPPED", "the scheduler stopped; the run was stopped cleanly"
    result = _child_result(output)
    if result is None:
        tail = output.strip().splitlines()[-3:]
        return "FAILED", f"the job process exited with code {proc.returncode}: {' / '.join(tail)}"
    return ("SUCCEEDED", None) if result["ok"] else ("FAILED", result.get("error"))


def _end_child(proc: subprocess.Popen[str], grace: float) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _child_result(output: str) -> dict[str, Any] | None:
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return result
    return None


def _finish(
    env: JobEnv,
    runs: JobRuns,
    job: JobSpec,
    run_id: str,
    status: str,
    error: str | None,
    attempts: int,
    log: RunLog,
) -> JobOutcome:
    """Record the end of the run with the transform runs it started and what they wrote
    (its error masked of secrets: it may quote an engine's message or a child's output)."""
    error = env.secrets.redact(error) if error else error
    linked = runs.linked_transform_runs(f"job {run_id}")
    rows, nbytes = runs.written(linked)
    runs.finish(
        run_id, status, env.clock.now(), error=error, attempts=attempts,
        transform_run_ids=linked, rows_written=rows, bytes_written=nbytes,
    )  # fmt: skip
    log.write(
        "job_finished",
        status=status,
        error=error,
        attempts=attempts,
        rows_written=rows,
        bytes_written=nbytes,
        transform_run_ids=linked,
    )
    return JobOutcome(run_id, job.name, status, attempts, error, tuple(linked), rows, nbytes)


_LINEAGE_TYPES = {"SUCCEEDED": "COMPLETE", "FAILED": "FAIL", "TIMEOUT": "FAIL", "STOPPED": "ABORT"}


def _lineage(
    env: JobEnv,
    event_type: str,
    run_id: str,
    job: JobSpec,
    store: CatalogStore,
    transform_run_ids: tuple[str, ...] | list[str],
    log: RunLog,
    error: str | None = None,
) -> None:
    if env.lineage is None:
        return
    outputs = JobRuns(store).written_tables(transform_run_ids) if transform_run_ids else []
    inputs = env.lineage_inputs.get(job.name, ())
    failure = env.lineage.emit(
        event_type, run_id, job.name, inputs, outputs, env.clock.now(), error
    )
    if failure:
        log.write("lineage_error", message=failure)


def lineage_inputs(project: Project, graph: Graph) -> dict[str, tuple[str, ...]]:
    """The source tables each job's transforms read: the inputs of its lineage events."""
    out: dict[str, tuple[str, ...]] = {}
    for job in project.jobs.values():
        if job.select:
            names = graph.select(job.select, job.exclude)
            out[job.name] = tuple(sorted({k for n in names for k in graph.nodes[n].sources}))
    return out


@contextmanager
def job_slot(store: CatalogStore, project: str, job: JobSpec) -> Iterator[int]:
    """One of the job's ``max_concurrent_runs`` slots, held as a catalog lock row: however many
    schedulers or ``jobs run`` share the catalog, no more runs than that start at once."""
    from glueform.catalog.store import LockHeldError

    for slot in range(job.max_concurrent_runs):
        held = store.lock(f"job:{project}:{job.name}:{slot}")
        try:
            held.__enter__()
        except LockHeldError:
            continue
        try:
            yield slot
        finally:
            held.__exit__(*sys.exc_info())
        return
    raise ConcurrentRunsExceeded(
        f"job '{job.name}' already runs {job.max_concurrent_runs} time(s) at once",
        job.location,
        hint="wait for the running one to finish, or raise max_concurrent_runs",
    )
