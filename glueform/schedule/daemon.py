"""The scheduler: one loop that fires triggers and runs jobs on a bounded pool of threads.

Each loop: collect finished runs, fire schedule triggers that are due (claiming each fire in
the catalog first, so two schedulers never serve one fire twice), fire conditional triggers
whose conditions hold, complete idle workflow runs; then wait for a run to finish, or sleep
until the next schedule time. With a virtual clock time moves only while nothing runs, so a
simulated day is exact and fast.

Stopping (SIGTERM): no new fire; in-flight runs get ``grace`` seconds to finish, then are
stopped cleanly (their child gets SIGTERM); a schedule fire whose run was stopped is given back
to the catalog, so the next start catches it up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

from glueform.catalog.jobruns import JobRuns
from glueform.catalog.store import CatalogStore
from glueform.errors import UserError
from glueform.project.model import Project, TriggerSpec
from glueform.schedule.clock import Clock, SystemClock
from glueform.schedule.jobs import ConcurrentRunsExceeded, JobEnv, JobOutcome, run_job
from glueform.schedule.logs import RunLog, log_path
from glueform.schedule.triggers import (
    CATCH_UP_POLICIES,
    conditions_met,
    due,
    next_fire,
    watched_jobs,
)
from glueform.schedule.workflows import ActiveWorkflows, fired_key

EventSink = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class SchedulerOptions:
    workers: int = 4
    catch_up: str = "run_once"  # run_once | skip: schedule times missed while no scheduler ran
    poll: float = 1.0  # longest sleep: how soon runs of other processes are noticed
    grace: float = 30.0  # on stop, seconds in-flight runs get to finish before being stopped
    schedules: bool = True  # False: fire only what start_trigger() starts (and what follows)


@dataclass(frozen=True)
class Launch:
    """One job run the scheduler started, and the fire it serves (to give back if stopped)."""

    job: str
    trigger: str
    workflow_run_id: str | None = None
    fire_time: float | None = None
    previous_fire: float | None = None


class Scheduler:
    """Fires a project's triggers and runs its jobs against one catalog."""

    def __init__(
        self,
        project: Project,
        store: CatalogStore,
        env: JobEnv,
        options: SchedulerOptions | None = None,
        clock: Clock | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.options = options or SchedulerOptions()
        if self.options.catch_up not in CATCH_UP_POLICIES:
            raise UserError(
                f"unknown catch-up policy '{self.options.catch_up}'",
                hint=f"use one of {', '.join(CATCH_UP_POLICIES)}",
            )
        self.project = project
        self.store = store
        self.runs = JobRuns(store)
        self.stopping = threading.Event()
        self.clock = clock or SystemClock(self.stopping)
        self.env = replace(env, clock=self.clock, stop=threading.Event())
        self.on_event = on_event
        self.log = RunLog(log_path(env.state_dir, "scheduler"), "scheduler", env.secrets)
        self.running: dict[Future[JobOutcome | None], Launch] = {}
        self.workflows = ActiveWorkflows()
        self.fired: dict[str, int] = {}
        self.metrics_port: int | None = None  # set when a metrics endpoint serves this scheduler
        self._pool = ThreadPoolExecutor(self.options.workers, thread_name_prefix="glueform-job")
        self._lock = threading.Lock()

    # -- public --------------------------------------------------------------------------------

    def run(self, until: float | None = None, until_idle: bool = False) -> None:
        """Loop until :meth:`stop` (or the clock reaches ``until``, or nothing is left to do)."""
        now = self.clock.now()
        for orphan in self.runs.stop_orphans(now):
            self._event("orphan_stopped", run_id=orphan["id"], job=orphan["job"])
        self._baseline(now)
        self._event(
            "scheduler_started", triggers=len(self.project.triggers), workers=self.options.workers
        )
        try:
            while not self.stopping.is_set():
                now = self.clock.now()
                if until is not None and now >= until:
                    break
                self._reap()
                started = self._fire_schedules(now) if self.options.schedules else 0
                started += self._fire_conditionals(now)
                self.workflows.finish_idle(self.runs, self._busy_workflows(), now)
                if self.running:
                    wait(list(self.running), timeout=self.options.poll, return_when=FIRST_COMPLETED)
                elif not started:
                    if until_idle and not self.workflows.runs:
                        break
                    self.clock.sleep(self._idle_seconds(now, until))
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Ask the loop to end (safe from a signal handler)."""
        self.stopping.set()

    def start_trigger(self, name: str) -> None:
        """Fire a trigger now (Glue's StartTrigger / StartWorkflowRun); :meth:`run` follows it."""
        trigger = self.project.triggers.get(name)
        if trigger is None:
            raise UserError(
                f"unknown trigger '{name}'", hint=f"triggers: {', '.join(self.project.triggers)}"
            )
        self._launch(trigger, self.clock.now())

    # -- firing --------------------------------------------------------------------------------

    def _baseline(self, now: float) -> None:
        """A trigger seen for the first time starts counting now: nothing before it is missed."""
        for trigger in self.project.triggers.values():
            watched = trigger.type == "schedule" or (
                trigger.type == "conditional" and trigger.workflow is None
            )
            if watched and self.runs.last_fire(trigger.name) is None:
                # a conditional counts from just before now: a run ending at this very instant
                # (virtual time) is seen
                start = now if trigger.type == "schedule" else now - 0.001
                self.runs.claim_fire(trigger.name, start, None)

    def _fire_schedules(self, now: float) -> int:
        started = 0
        for trigger in self._triggers("schedule"):
            last = self.runs.last_fire(trigger.name)
            if last is None:
                continue
            decision = due(trigger, last, now, self.options.catch_up)
            if decision is None or not self.runs.claim_fire(trigger.name, decision.fire_time, last):
                continue  # not due, or another scheduler serves this fire
            if decision.missed:
                self._event(
                    "missed",
                    trigger=trigger.name,
                    count=decision.missed,
                    catch_up=self.options.catch_up,
                )
            if decision.run:
                self._launch(trigger, now, decision.fire_time, last)
                started += 1
        return started

    def _fire_conditionals(self, now: float) -> int:
        started = 0
        for trigger in self._triggers("conditional"):
            if trigger.workflow is not None:
                continue
            last = self.runs.last_fire(trigger.name)
            if last is None:
                continue
            outcomes = self.runs.outcomes_since(watched_jobs(trigger), last)
            if outcomes and conditions_met(trigger, outcomes):
                newest = max(o.finished_at for o in outcomes)
                if self.runs.claim_fire(trigger.name, newest, last):
                    self._launch(trigger, now)
                    started += 1
        for trigger, workflow_run_id in self.workflows.ready_triggers(
            self.runs, self.project.triggers
        ):
            if self.runs.claim_fire(fired_key(trigger.name, workflow_run_id), now, None):
                self._launch(trigger, now, workflow_run_id=workflow_run_id)
                started += 1
        return started

    def _launch(
        self,
        trigger: TriggerSpec,
        now: float,
        fire_time: float | None = None,
        previous: float | None = None,
        workflow_run_id: str | None = None,
    ) -> None:
        if trigger.workflow is not None and workflow_run_id is None:
            workflow_run_id = self.workflows.start(self.runs, trigger.workflow, trigger.name, now)
            self._event(
                "workflow_started", workflow=trigger.workflow, workflow_run_id=workflow_run_id
            )
        self.fired[trigger.name] = self.fired.get(trigger.name, 0) + 1
        self._event("fired", trigger=trigger.name, jobs=list(trigger.jobs), fire_time=fire_time)
        for job in trigger.jobs:
            launch = Launch(job, trigger.name, workflow_run_id, fire_time, previous)
            with self._lock:
                self.running[self._pool.submit(self._run_one, launch)] = launch

    def _run_one(self, launch: Launch) -> JobOutcome | None:
        if self.stopping.is_set():
            return None  # queued when the scheduler stopped: never started
        job = self.project.jobs[launch.job]
        try:
            return run_job(
                self.env, self.store, job, trigger=launch.trigger,
                workflow_run_id=launch.workflow_run_id, fire_time=launch.fire_time,
            )  # fmt: skip
        except ConcurrentRunsExceeded as exc:
            self._event("skipped", job=launch.job, trigger=launch.trigger, reason=exc.message)
            return None

    # -- bookkeeping ---------------------------------------------------------------------------

    def _reap(self) -> None:
        with self._lock:
            done = [f for f in self.running if f.done()]
            launches = [self.running.pop(f) for f in done]
        for future, launch in zip(done, launches, strict=True):
            error = future.exception()
            outcome = None if error else future.result()
            if error is not None:
                self._event("job_error", job=launch.job, error=f"{type(error).__name__}: {error}")
            elif outcome is not None:
                self._event(
                    "finished",
                    job=launch.job,
                    run_id=outcome.run_id,
                    status=outcome.status,
                    error=outcome.error,
                )
            stopped = outcome is None or outcome.status == "STOPPED"
            if stopped and self.stopping.is_set() and launch.fire_time is not None:
                self.runs.release_fire(launch.trigger, launch.fire_time, launch.previous_fire)
                self._event("fire_released", trigger=launch.trigger, fire_time=launch.fire_time)

    def _busy_workflows(self) -> set[str]:
        with self._lock:
            return {
                launch.workflow_run_id for launch in self.running.values() if launch.workflow_run_id
            }

    def _triggers(self, kind: str) -> list[TriggerSpec]:
        return [t for t in self.project.triggers.values() if t.type == kind and t.enabled]

    def _idle_seconds(self, now: float, until: float | None) -> float:
        seconds = self.options.poll
        nexts = (
            [next_fire(t, now) for t in self._triggers("schedule")]
            if self.options.schedules
            else []
        )
        if nexts:
            seconds = min(seconds, min(nexts) - now)
        if until is not None:
            seconds = min(seconds, until - now)
        return max(seconds, 0.0)

    def _shutdown(self) -> None:
        """Let in-flight runs finish for ``grace`` seconds, then stop them cleanly."""
        self.stopping.set()
        pending = list(self.running)
        if pending:
            self._event("stopping", running=len(pending), grace=self.options.grace)
            _, not_done = wait(pending, timeout=self.options.grace)
            if not_done:
                self.env.stop.set()  # attempts send SIGTERM to their child and end STOPPED
                wait(not_done)
        self._pool.shutdown(wait=True)
        self._reap()
        self.workflows.stop_all(self.runs, self.clock.now())  # what would have followed never will
        self._event("scheduler_stopped")

    def _event(self, kind: str, **fields: Any) -> None:
        self.log.write(kind, **fields)
        if self.on_event is not None:
            self.on_event(kind, fields)
