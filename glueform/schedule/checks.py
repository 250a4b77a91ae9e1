"""The checks ``glueform validate`` runs over jobs and triggers once the project is compiled:
cron expressions and time zones, the names a trigger uses, cycles, selectors matching nothing.
Each failure is a :class:`UserError` at the file:line:col where the mistake is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from glueform.compile.dag import Graph
from glueform.errors import SourceLocation, UserError
from glueform.project.model import JobSpec, Project, TriggerSpec
from glueform.schedule import cron
from glueform.schedule.triggers import find_cycle


def check_jobs(project: Project, graph: Graph) -> None:
    for job in project.jobs.values():
        _check_crawlers(project, job.crawlers, job.crawlers_location or job.location)
        _check_selection(graph, job)
    for trigger in project.triggers.values():
        where = trigger.jobs_location or trigger.location
        _known(trigger.jobs, project.jobs, "job", where)
        for condition in trigger.conditions:
            if condition.kind == "job":
                _known([condition.name], project.jobs, "job", condition.location)
            else:
                _check_crawlers(project, [condition.name], condition.location)
        if trigger.workflow is not None:
            _known([trigger.workflow], project.workflows, "workflow", trigger.location)
        if trigger.type == "schedule":
            _check_schedule(trigger)
    cycle = find_cycle(project.triggers)
    if cycle:
        jobs = " -> ".join([*(job for job, _ in cycle), cycle[0][0]])
        via = ", ".join(trigger for _, trigger in cycle)
        first = project.triggers[cycle[0][1]]
        raise UserError(
            f"conditional triggers form a cycle: {jobs} (triggers {via})",
            first.location,
            hint="a job cannot start itself through conditional triggers; remove one condition",
        )


def _check_crawlers(project: Project, names: Iterable[str], where: SourceLocation) -> None:
    """The one place crawler names are checked: against the project's crawlers."""
    _known(names, {c.name: c for c in project.crawlers}, "crawler", where)


def _known(
    names: Iterable[str], known: Mapping[str, object], kind: str, where: SourceLocation
) -> None:
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else (
                    f"{kind}s: {', '.join(sorted(known))}"
                    if known
                    else f"the project declares no {kind}s"
                )
            )
            raise UserError(f"unknown {kind} '{name}'", where, hint=hint)


def _check_selection(graph: Graph, job: JobSpec) -> None:
    if not job.select:
        return
    where = job.select_location or job.location
    try:
        chosen = graph.select(job.select, job.exclude)
    except UserError as exc:
        raise UserError(f"job '{job.name}': {exc.message}", where, hint=exc.hint) from None
    if not chosen:
        raise UserError(
            f"job '{job.name}' selects no transform once 'exclude' is applied",
            where,
            hint="check select and exclude with 'glueform ls -s ... --exclude ...'",
        )


def _check_schedule(trigger: TriggerSpec) -> None:
    where = trigger.schedule_location or trigger.location
    expression = trigger.schedule or ""
    try:
        cron.parse(expression)
    except cron.CronError as exc:
        # the value starts after a quote when it is quoted in the file
        col = where.col + exc.column + (1 if _quoted(where) else 0)
        raise UserError(
            f"invalid cron expression '{expression}': {exc}",
            SourceLocation(where.path, where.line, col),
            hint="5 fields (min hour day-of-month month day-of-week) or AWS "
            "cron(min hour day-of-month month day-of-week year), e.g. cron(0 2 * * ? *)",
        ) from None
    try:
        cron.zone(trigger.timezone)
    except ValueError as exc:
        raise UserError(
            f"trigger '{trigger.name}': {exc}",
            trigger.timezone_location or trigger.location,
            hint="an IANA time zone name, e.g. UTC, Europe/Berlin, America/New_York",
        ) from None


def _quoted(where: SourceLocation) -> bool:
    try:
        line = where.path.read_text(encoding="utf-8").splitlines()[where.line - 1]
    except (OSError, IndexError):
        return False
    return line[where.col - 1 : where.col] in ("'", '"')
