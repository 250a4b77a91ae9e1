"""The scheduler's record in the catalog: job runs, workflow runs and when each trigger last fired.

Kept apart from ``store.py``: it takes an open :class:`CatalogStore` and uses its engine, so it
works alike on SQLite and PostgreSQL. Times are given by the caller (the scheduler's clock), so
a simulated day is recorded as the day it simulated.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from glueform.catalog import schema as s
from glueform.catalog.leases import holder_alive, read_all
from glueform.catalog.store import CatalogStore, _json
from glueform.project.model import CRAWLER_KEY

RUNNING = "RUNNING"
_CRAWL_STATES = {"success": "SUCCEEDED", "failed": "FAILED"}


def new_id(prefix: str) -> str:
    """``jr_…`` / ``wr_…`` as Glue names its runs; sortable by start time."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}"
    return f"{prefix}_{stamp}_{uuid.uuid4().hex[:4]}"


@dataclass(frozen=True)
class Outcome:
    """How one job run ended: what conditional triggers look at."""

    job: str
    status: str
    finished_at: float
    run_id: str
    workflow_run_id: str | None


class JobRuns:
    """Job runs, workflow runs and trigger state in one catalog."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self.engine = store.engine

    # -- job runs ------------------------------------------------------------------------------

    def start(
        self,
        job: str,
        now: float,
        trigger: str | None = None,
        workflow_run_id: str | None = None,
        fire_time: float | None = None,
        vars: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> str:
        run_id = run_id or new_id("jr")
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.job_runs).values(
                    id=run_id, job=job, status=RUNNING, trigger=trigger,
                    workflow_run_id=workflow_run_id, fire_time=fire_time, started_at=now,
                    attempts=0, transform_run_ids=[], vars=vars or {},
                    host=socket.gethostname(), pid=os.getpid(),
                )
            )  # fmt: skip
        return run_id

    def update(self, run_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(s.job_runs).where(s.job_runs.c.id == run_id).values(**values))

    def finish(self, run_id: str, status: str, now: float, **values: Any) -> None:
        """Only a RUNNING run is finished: a run already ended stays as it ended."""
        with self.engine.begin() as conn:
            conn.execute(
                update(s.job_runs)
                .where(s.job_runs.c.id == run_id, s.job_runs.c.status == RUNNING)
                .values(status=status, finished_at=now, **values)
            )

    def list(
        self, job: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        j = s.job_runs
        query = select(j).order_by(j.c.started_at.desc(), j.c.id.desc()).limit(limit)
        if job:
            query = query.where(j.c.job == job)
        if status:
            query = query.where(j.c.status == status.upper())
        with self.engine.connect() as conn:
            return [_run(r) for r in conn.execute(query).mappings()]

    def running(self, job: str | None = None) -> list[dict[str, Any]]:
        return self.list(job, RUNNING, limit=1000)

    def outcomes_since(
        self, jobs: Iterable[str], since: float, workflow_run_id: str | None = None
    ) -> list[Outcome]:
        """Finished runs of ``jobs`` after ``since`` (within one workflow run if given), oldest
        first. ``crawler:NAME`` keys give that crawler's crawls (within a workflow run: those
        that ended after it started), as SUCCEEDED or FAILED."""
        names = list(jobs)
        crawlers = [n.removeprefix(CRAWLER_KEY) for n in names if n.startswith(CRAWLER_KEY)]
        j = s.job_runs
        query = (
            select(j.c.job, j.c.status, j.c.finished_at, j.c.id, j.c.workflow_run_id)
            .where(j.c.job.in_(names), j.c.status != RUNNING, j.c.finished_at > since)
            .order_by(j.c.finished_at, j.c.id)
        )
        if workflow_run_id is not None:
            query = query.where(j.c.workflow_run_id == workflow_run_id)
        with self.engine.connect() as conn:
            out = [Outcome(*row) for row in conn.execute(query)]
            if crawlers:
                if workflow_run_id is not None:
                    w = s.workflow_runs
                    started = conn.execute(
                        select(w.c.started_at).where(w.c.id == workflow_run_id)
                    ).scalar()
                    since = max(since, started or 0.0)
                c = s.crawls
                rows = conn.execute(
                    select(c.c.crawler, c.c.status, c.c.finished_at, c.c.id)
                    .where(c.c.crawler.in_(crawlers), c.c.finished_at > since)
                    .order_by(c.c.finished_at, c.c.id)
                )
                out += [
                    Outcome(CRAWLER_KEY + name, _CRAWL_STATES.get(status, "FAILED"), at, id_, None)
                    for name, status, at, id_ in rows
                ]
        return sorted(out, key=lambda o: (o.finished_at, o.run_id))

    def stop_orphans(self, now: float) -> list[dict[str, Any]]:
        """Runs left RUNNING by a process that died (on this host: its pid is gone; on another:
        its lease expired) end as STOPPED; the schedule time such a run served is given back,
        so catch-up runs it again."""
        running = self.running()
        if not running:
            return []
        leases = read_all(self.engine)
        orphans = [
            r
            for r in running
            if r["pid"] != os.getpid() and not holder_alive(leases, r["host"], r["pid"], now)
        ]
        for run in orphans:
            self.finish(
                run["id"],
                "STOPPED",
                now,
                error=f"the process running it (pid {run['pid']} on {run['host']}) died",
            )
            if run["trigger"] and run["fire_time"] is not None:
                self.release_fire(run["trigger"], run["fire_time"], run["fire_time"] - 1.0)
        return orphans

    def summary(self) -> list[dict[str, Any]]:
        """Per job and status: runs, total seconds, rows and bytes written (for metrics)."""
        j = s.job_runs
        query = select(
            j.c.job,
            j.c.status,
            func.count(),
            func.sum(j.c.finished_at - j.c.started_at),
            func.sum(j.c.rows_written),
            func.sum(j.c.bytes_written),
        ).group_by(j.c.job, j.c.status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        keys = ("job", "status", "runs", "seconds", "rows_written", "bytes_written")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def linked_transform_runs(self, command: str) -> list[str]:
        """The transform runs a job run started (recorded with ``command`` = ``job <run id>``)."""
        return _linked(self, command)

    def written(self, transform_run_ids: Sequence[str]) -> tuple[int | None, int | None]:
        """Rows and bytes the transform runs wrote (bytes of local table folders only)."""
        if not transform_run_ids:
            return None, None
        n = s.node_runs
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(func.sum(n.c.rows)).where(
                    n.c.run_id.in_(list(transform_run_ids)), n.c.status == "success"
                )
            ).scalar()
        nbytes = 0
        for _, location in self._versions(transform_run_ids):
            if location and "://" not in location and os.path.isdir(location):
                nbytes += sum(
                    os.path.getsize(os.path.join(folder, f))
                    for folder, _, files in os.walk(location)
                    for f in files
                )
        return (int(rows) if rows is not None else None), nbytes

    def written_tables(self, transform_run_ids: Sequence[str]) -> list[str]:
        return sorted({key for key, _ in self._versions(transform_run_ids)})

    def _versions(self, transform_run_ids: Sequence[str]) -> list[tuple[str, str | None]]:
        v = s.table_versions
        query = select(v.c.database, v.c.name, v.c.definition).where(
            v.c.run_id.in_(list(transform_run_ids))
        )
        with self.engine.connect() as conn:
            return [
                (
                    f"{r.database}.{r.name}",
                    self.store.locations.resolved(_json(r.definition).get("location")),
                )
                for r in conn.execute(query)
            ]

    def node_summary(self) -> dict[str, int]:
        """Transform node runs by status (every run, whoever started it)."""
        n = s.node_runs
        with self.engine.connect() as conn:
            return dict(conn.execute(select(n.c.status, func.count()).group_by(n.c.status)).all())

    # -- triggers ------------------------------------------------------------------------------

    def last_fire(self, trigger: str) -> float | None:
        t = s.trigger_state
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.last_fire).where(t.c.trigger == trigger)).first()
        return row[0] if row else None

    def claim_fire(self, trigger: str, fire_time: float, previous: float | None) -> bool:
        """Move the trigger's last fire from ``previous`` to ``fire_time``; False if another
        scheduler moved it first (so each fire is served once, however many schedulers run)."""
        t = s.trigger_state
        try:
            with self.engine.begin() as conn:
                if previous is None:
                    conn.execute(
                        insert(t).values(
                            trigger=trigger, last_fire=fire_time, updated_at=time.time()
                        )
                    )
                    return True
                result = conn.execute(
                    update(t)
                    .where(t.c.trigger == trigger, t.c.last_fire == previous)
                    .values(last_fire=fire_time, updated_at=time.time())
                )
                return bool(result.rowcount == 1)
        except IntegrityError:
            return False

    def release_fire(self, trigger: str, fire_time: float, previous: float | None) -> None:
        """Give back a claimed fire that was not served (the scheduler stopped it): catch-up
        will see it as missed."""
        t = s.trigger_state
        with self.engine.begin() as conn:
            where = (t.c.trigger == trigger) & (t.c.last_fire == fire_time)
            if previous is None:
                conn.execute(t.delete().where(where))
            else:
                conn.execute(
                    update(t).where(where).values(last_fire=previous, updated_at=time.time())
                )

    # -- workflow runs -------------------------------------------------------------------------

    def start_workflow(self, workflow: str, trigger: str | None, now: float) -> str:
        run_id = new_id("wr")
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.workflow_runs).values(
                    id=run_id, workflow=workflow, status=RUNNING, trigger=trigger, started_at=now
                )
            )
        return run_id

    def finish_workflow(self, run_id: str, status: str, now: float) -> None:
        w = s.workflow_runs
        with self.engine.begin() as conn:
            conn.execute(
                update(w)
                .where(w.c.id == run_id, w.c.status == RUNNING)
                .values(status=status, finished_at=now)
            )

    def workflow_runs(
        self, workflow: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        w = s.workflow_runs
        query = select(w).order_by(w.c.started_at.desc(), w.c.id.desc()).limit(limit)
        if workflow:
            query = query.where(w.c.workflow == workflow)
        if status:
            query = query.where(w.c.status == status.upper())
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["statistics"] = self.workflow_statistics(row["id"])
        return rows

    def workflow_statistics(self, workflow_run_id: str) -> dict[str, int]:
        """Counts of its job runs by state, as Glue's WorkflowRunStatistics."""
        j = s.job_runs
        query = (
            select(j.c.status, func.count())
            .where(j.c.workflow_run_id == workflow_run_id)
            .group_by(j.c.status)
        )
        with self.engine.connect() as conn:
            counts = {status: n for status, n in conn.execute(query)}
        return {"total": sum(counts.values()), **{k.lower(): v for k, v in counts.items()}}


def _linked(self: JobRuns, command: str) -> list[str]:
    r = s.runs
    with self.engine.connect() as conn:
        return list(
            conn.execute(
                select(r.c.id).where(r.c.command == command).order_by(r.c.started_at)
            ).scalars()
        )


def _run(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["transform_run_ids"] = list(_json(out["transform_run_ids"]) or [])
    out["vars"] = dict(_json(out["vars"]) or {})
    end = out["finished_at"]
    out["seconds"] = None if end is None else round(end - out["started_at"], 3)
    return out
