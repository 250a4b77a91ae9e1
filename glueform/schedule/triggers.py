"""What fires: schedule times due (with the catch-up policy), conditional triggers over run
outcomes, and the job graph that conditional triggers draw (which must have no cycle).

Pure functions over the model and outcomes; the daemon claims and starts what they return.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from glueform.project.model import TriggerSpec
from glueform.schedule import cron

if TYPE_CHECKING:
    from glueform.catalog.jobruns import Outcome

CATCH_UP_POLICIES = ("run_once", "skip")
# A fire found later than this after its time was missed (the scheduler was down or busy).
MISSED_AFTER = 60.0


@cache
def _compiled(expression: str, timezone: str) -> tuple[cron.Cron, cron.ZoneInfo]:
    return cron.parse(expression), cron.zone(timezone)


def next_fire(trigger: TriggerSpec, after: float) -> float:
    """The trigger's first schedule time after ``after`` (epoch seconds); inf if it never fires
    again (a year field in the past)."""
    assert trigger.schedule is not None
    expr, tz = _compiled(trigger.schedule, trigger.timezone)
    try:
        return expr.next_after(datetime.fromtimestamp(after, UTC), tz).timestamp()
    except cron.CronError:
        return math.inf


def fires_between(trigger: TriggerSpec, start: float, end: float) -> list[float]:
    """Schedule times in ``(start, end]``."""
    assert trigger.schedule is not None
    expr, tz = _compiled(trigger.schedule, trigger.timezone)
    as_dt = [datetime.fromtimestamp(t, UTC) for t in (start, end)]
    return [d.timestamp() for d in expr.fires_between(as_dt[0], as_dt[1], tz)]


@dataclass(frozen=True)
class Due:
    """What a schedule trigger should do now: run for ``fire_time``, or only move past it."""

    fire_time: float
    run: bool
    missed: int  # schedule times that passed unserved (0 when on time)


def due(trigger: TriggerSpec, last: float, now: float, catch_up: str) -> Due | None:
    """A schedule trigger's decision, given the last time it fired (or its baseline).

    On time: run for the newest fire. Missed (the scheduler was down): ``run_once`` runs once for
    the newest missed time, ``skip`` moves past them without running.
    """
    fires = fires_between(trigger, last, now)
    if not fires:
        return None
    newest = fires[-1]
    if now - newest <= MISSED_AFTER:
        return Due(newest, True, len(fires) - 1)
    return Due(newest, catch_up == "run_once", len(fires))


def conditions_met(trigger: TriggerSpec, outcomes: Sequence[Outcome]) -> bool:
    """``any``: one watched run ended in its wanted state. ``all``: the latest run of every
    watched job ended in its wanted state. ``outcomes`` are oldest first, since the trigger
    last fired (or within one workflow run)."""
    latest: dict[str, Outcome] = {}
    for outcome in outcomes:
        latest[outcome.job] = outcome
    wanted = [(c.key, c.state) for c in trigger.conditions]
    if trigger.logic == "any":
        return any(o.job == key and o.status == state for key, state in wanted for o in outcomes)
    return all(key in latest and latest[key].status == state for key, state in wanted)


def watched_jobs(trigger: TriggerSpec) -> list[str]:
    """What a conditional trigger watches: job names and ``crawler:NAME`` keys."""
    return sorted({c.key for c in trigger.conditions})


def job_edges(triggers: Iterable[TriggerSpec]) -> dict[str, list[tuple[str, str]]]:
    """Job -> [(job it starts, through which trigger)] for every conditional trigger."""
    edges: dict[str, list[tuple[str, str]]] = {}
    for trigger in triggers:
        if trigger.type != "conditional":
            continue
        for name in watched_jobs(trigger):
            edges.setdefault(name, []).extend((job, trigger.name) for job in trigger.jobs)
    return edges


def find_cycle(triggers: Mapping[str, TriggerSpec]) -> list[tuple[str, str]] | None:
    """A cycle of conditional triggers as [(job, trigger that starts the next job)], or None."""
    edges = job_edges(triggers.values())
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[tuple[str, str]] = []

    def visit(job: str) -> list[tuple[str, str]] | None:
        state[job] = 1
        for child, trigger in sorted(edges.get(job, [])):
            path.append((job, trigger))
            if state.get(child) == 1:
                start = next(i for i, (j, _) in enumerate(path) if j == child)
                return path[start:]
            if child not in state and (found := visit(child)):
                return found
            path.pop()
        state[job] = 2
        return None

    for job in sorted(edges):
        if job not in state and (found := visit(job)):
            return found
    return None
