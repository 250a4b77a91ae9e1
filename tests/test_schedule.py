"""Jobs, triggers, workflows and the scheduler, in process, with a virtual clock.

The clock is the scheduler's injection point: a day of schedules runs in seconds while every
job really builds its transforms on DuckDB against a real catalog.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import basic_files, glueform, glueform_json, query, write_project

from glueform import Workspace
from glueform.catalog.jobruns import JobRuns, Outcome
from glueform.errors import SourceLocation
from glueform.project.model import Condition, TriggerSpec
from glueform.schedule import cron
from glueform.schedule.clock import VirtualClock
from glueform.schedule.daemon import Scheduler, SchedulerOptions
from glueform.schedule.jobs import JobEnv, run_job
from glueform.schedule.metrics import render
from glueform.schedule.triggers import conditions_met

UTC_ZONE = cron.zone("UTC")
BERLIN = cron.zone("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def nexts(expr: str, start: str, n: int = 3, tz: Any = UTC_ZONE) -> list[str]:
    parsed, out, when = cron.parse(expr), [], at(start)
    for _ in range(n):
        when = parsed.next_after(when, tz)
        out.append(when.strftime("%Y-%m-%d %H:%M"))
    return out


# -- cron -------------------------------------------------------------------------------------


def test_five_field_cron() -> None:
    assert nexts("*/15 * * * *", "2026-01-01T00:07") == [
        "2026-01-01 00:15",
        "2026-01-01 00:30",
        "2026-01-01 00:45",
    ]
    # 2026-01-02 is a Friday: the next weekday 09:00 after it is Monday the 5th
    assert nexts("0 9 * * MON-FRI", "2026-01-02T10:00", 2) == [
        "2026-01-05 09:00",
        "2026-01-06 09:00",
    ]
    assert nexts("0 0 1,15 * *", "2026-01-01T00:00", 2) == ["2026-01-15 00:00", "2026-02-01 00:00"]
    assert nexts("0 0 * * 7", "2026-01-01T00:00", 1) == ["2026-01-04 00:00"]  # 7 is Sunday too
    # day-of-month and day-of-week both restricted: either matches (Vixie cron)
    assert nexts("0 0 13 * FRI", "2026-02-01T00:00", 3) == [
        "2026-02-06 00:00",
        "2026-02-13 00:00",
        "2026-02-20 00:00",
    ]


def test_aws_cron_form() -> None:
    assert nexts("cron(0 12 * * ? *)", "2026-03-01T13:00", 2) == [
        "2026-03-02 12:00",
        "2026-03-03 12:00",
    ]
    # AWS numbers weekdays 1-7 from Sunday: 2-6 is Monday to Friday
    assert nexts("cron(0 18 ? * 2-6 *)", "2026-01-02T19:00", 1) == ["2026-01-05 18:00"]
    assert nexts("cron(0 18 ? * MON-FRI *)", "2026-01-02T19:00", 1) == ["2026-01-05 18:00"]
    assert nexts("cron(0 0 L * ? *)", "2026-02-01T00:00", 2) == [
        "2026-02-28 00:00",
        "2026-03-31 00:00",
    ]
    # 15W: the weekday nearest the 15th (2026-03-15 is a Sunday: Monday the 16th)
    assert nexts("cron(0 0 15W * ? *)", "2026-03-01T00:00", 1) == ["2026-03-16 00:00"]
    assert nexts("cron(0 0 ? * FRI#2 *)", "2026-01-01T00:00", 1) == ["2026-01-09 00:00"]
    assert nexts("cron(0 0 ? * 6L *)", "2026-01-01T00:00", 1) == ["2026-01-30 00:00"]
    assert nexts("cron(0 0 1 1 ? 2028-2029)", "2026-01-01T00:00", 2) == [
        "2028-01-01 00:00",
        "2029-01-01 00:00",
    ]


def test_time_zones_and_dst() -> None:
    # 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer
    assert nexts("0 2 * * *", "2026-01-10T12:00", 1, BERLIN) == ["2026-01-11 01:00"]
    assert nexts("0 2 * * *", "2026-07-10T12:00", 1, BERLIN) == ["2026-07-11 00:00"]
    # 2026-03-29: 02:30 does not exist in Berlin; it fires at 03:30 CEST (01:30 UTC), once
    assert nexts("30 2 * * *", "2026-03-28T12:00", 2, BERLIN) == [
        "2026-03-29 01:30",
        "2026-03-30 00:30",
    ]
    # 2026-10-25: 02:30 happens twice; it fires once, at the first (00:30 UTC)
    assert nexts("30 2 * * *", "2026-10-24T12:00", 2, BERLIN) == [
        "2026-10-25 00:30",
        "2026-10-26 01:30",
    ]
    hourly = cron.parse("0 * * * *").fires_between(
        at("2026-10-24T22:00"), at("2026-10-25T04:00"), BERLIN
    )
    assert len(hourly) == 5  # the repeated 02:00 wall hour fires once


@pytest.mark.parametrize(
    ("expr", "message", "column"),
    [
        ("* * * *", "expected 5 fields", 0),
        ("61 * * * *", "61 is out of range 0-59", 0),
        ("0 0 * * FUNDAY", "'FUNDAY' is not a number", 8),
        ("*/0 * * * *", "step after '/'", 0),
        ("0 5-1 * * *", "runs backwards", 2),
        ("cron(0 12 * * * *)", "'?' in exactly one", 10),
        ("cron(0 12 * * ?)", "expected 6 fields", 0),
    ],
)
def test_invalid_cron(expr: str, message: str, column: int) -> None:
    with pytest.raises(cron.CronError, match=message.replace("(", r"\(")) as info:
        cron.parse(expr)
    assert info.value.column == column


# -- conditions -------------------------------------------------------------------------------


def _trigger(logic: str, *conds: tuple[str, str]) -> TriggerSpec:
    loc = SourceLocation(Path("jobs/x.yml"))
    conditions = tuple(Condition("job", j, s, loc) for j, s in conds)
    return TriggerSpec("t", "conditional", ("c",), loc, conditions=conditions, logic=logic)


def _out(job: str, status: str, t: float) -> Outcome:
    return Outcome(job, status, t, f"jr_{job}_{t}", None)


def test_conditions_any_and_all() -> None:
    both = _trigger("all", ("a", "SUCCEEDED"), ("b", "SUCCEEDED"))
    assert not conditions_met(both, [_out("a", "SUCCEEDED", 1)])
    assert conditions_met(both, [_out("a", "SUCCEEDED", 1), _out("b", "SUCCEEDED", 2)])
    # the latest outcome of each job counts
    assert not conditions_met(
        both, [_out("a", "SUCCEEDED", 1), _out("b", "SUCCEEDED", 2), _out("a", "FAILED", 3)]
    )
    either = _trigger("any", ("a", "FAILED"), ("b", "TIMEOUT"))
    assert not conditions_met(either, [_out("a", "SUCCEEDED", 1)])
    assert conditions_met(either, [_out("a", "SUCCEEDED", 1), _out("b", "TIMEOUT", 2)])


# -- projects with jobs -----------------------------------------------------------------------

ONE_MODEL = "select 1 as x\n"
MAYBE_FAILS = (
    "select case when {{ var('a_fails', false) }} then cast(error('a failed on purpose') as int)"
    " else 1 end as x\n"
)


def jobs_project(tmp_path: Path, jobs_yml: str, models: dict[str, str] | None = None) -> Path:
    files: dict[str, str] = {**basic_files(), "jobs/jobs.yml": jobs_yml}
    for name, sql in (models or {}).items():
        files[f"transforms/jobs/{name}.sql"] = sql
    return write_project(tmp_path / "shop", files)


def scheduler(root: Path, clock: VirtualClock, **options: Any) -> tuple[Scheduler, Any]:
    ws = Workspace(root, vars=options.pop("vars", None))
    ws.validate()
    env = JobEnv(
        root=ws.project.root,
        project_name=ws.project.name,
        state_dir=ws.target.state_dir,
        vars=ws.vars,
        isolate=False,
    )
    store_cm = ws.catalog()
    store = store_cm.__enter__()
    opts = SchedulerOptions(**{"poll": 3600.0, "workers": 2, **options})
    return Scheduler(ws.project, store, env, opts, clock), store_cm


def job_runs(root: Path, job: str | None = None) -> list[dict[str, Any]]:
    with Workspace(root).catalog() as store:
        return sorted(
            JobRuns(store).list(job, limit=10000), key=lambda r: (r["started_at"], r["id"])
        )


def fire_times(runs: list[dict[str, Any]]) -> list[str]:
    return [datetime.fromtimestamp(r["started_at"], UTC).strftime("%a %H:%M") for r in runs]


DAY_JOBS = """\
jobs:
  - name: every_two_hours
    select: [one]
  - name: business
    select: [one]
  - name: after_business
    select: [one]
triggers:
  - name: two_hourly
    type: schedule
    schedule: "0 */2 * * *"
    jobs: [every_two_hours]
  - name: business_hours
    type: schedule
    schedule: "cron(30 9-17/4 ? * MON-FRI *)"
    timezone: Europe/Berlin
    jobs: [business]
  - name: chain
    type: conditional
    conditions: [{job: business, state: SUCCEEDED}]
    jobs: [after_business]
"""


def test_a_day_of_schedules_fires_exactly_the_expected_runs(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, DAY_JOBS, {"one": ONE_MODEL})
    start = at("2026-01-05T00:00").timestamp()  # a Monday
    clock = VirtualClock(start)
    sched, store_cm = scheduler(root, clock)
    began = time.perf_counter()
    try:
        sched.run(until=start + 86400 + 1)
    finally:
        store_cm.__exit__(None, None, None)
    elapsed = time.perf_counter() - began

    two_hourly = job_runs(root, "every_two_hours")
    assert fire_times(two_hourly) == [f"Mon {h:02d}:00" for h in range(2, 24, 2)] + ["Tue 00:00"]
    assert all(r["status"] == "SUCCEEDED" and r["trigger"] == "two_hourly" for r in two_hourly)
    assert all(r["fire_time"] == r["started_at"] for r in two_hourly)
    # 09:30, 13:30, 17:30 in Berlin are 08:30, 12:30, 16:30 UTC in January
    assert fire_times(job_runs(root, "business")) == ["Mon 08:30", "Mon 12:30", "Mon 16:30"]
    chained = job_runs(root, "after_business")
    assert fire_times(chained) == ["Mon 08:30", "Mon 12:30", "Mon 16:30"]
    assert all(r["trigger"] == "chain" for r in chained)
    assert len(job_runs(root)) == 18
    # each job run started its own transform run, which built the model
    assert all(len(r["transform_run_ids"]) == 1 and r["rows_written"] == 1 for r in two_hourly)
    print(f"a simulated day of 18 job runs took {elapsed:.2f}s")


CHAIN_JOBS = """\
jobs:
  - name: a
    select: [maybe_fails]
  - name: b
    select: [one]
  - name: c
    select: [one]
  - name: p1
    select: [one]
  - name: p2
    select: [one]
  - name: d
    select: [one]
triggers:
  - name: start_a
    type: on_demand
    jobs: [a]
  - name: a_ok
    type: conditional
    conditions: [{job: a, state: SUCCEEDED}]
    jobs: [b]
  - name: a_failed
    type: conditional
    conditions: [{job: a, state: FAILED}]
    jobs: [c]
  - name: start_parents
    type: on_demand
    jobs: [p1, p2]
  - name: after_both
    type: conditional
    logic: all
    conditions:
      - {job: p1, state: SUCCEEDED}
      - {job: p2, state: SUCCEEDED}
    jobs: [d]
"""


def run_trigger(root: Path, clock: VirtualClock, name: str, **kw: Any) -> None:
    sched, store_cm = scheduler(root, clock, schedules=False, **kw)
    try:
        sched.start_trigger(name)
        sched.run(until_idle=True)
    finally:
        store_cm.__exit__(None, None, None)


def statuses(root: Path) -> list[tuple[str, str]]:
    return [(r["job"], r["status"]) for r in job_runs(root)]


def test_conditional_chains(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, CHAIN_JOBS, {"one": ONE_MODEL, "maybe_fails": MAYBE_FAILS})
    clock = VirtualClock(at("2026-01-05T00:00").timestamp())
    run_trigger(root, clock, "start_a")
    assert statuses(root) == [("a", "SUCCEEDED"), ("b", "SUCCEEDED")]

    clock.sleep(60)
    run_trigger(root, clock, "start_a", vars={"a_fails": True})
    assert statuses(root)[2:] == [("a", "FAILED"), ("c", "SUCCEEDED")]
    failed = job_runs(root, "a")[-1]
    assert "a failed on purpose" in failed["error"]

    clock.sleep(60)
    run_trigger(root, clock, "start_parents")
    after = statuses(root)[4:]
    assert sorted(after[:2]) == [("p1", "SUCCEEDED"), ("p2", "SUCCEEDED")]
    assert after[2:] == [("d", "SUCCEEDED")]  # once, after both parents


def test_all_waits_for_every_parent(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, CHAIN_JOBS, {"one": ONE_MODEL, "maybe_fails": MAYBE_FAILS})
    (root / "jobs/more.yml").write_text(
        "triggers:\n  - {name: start_p1, type: on_demand, jobs: [p1]}\n"
        "  - {name: start_p2, type: on_demand, jobs: [p2]}\n"
    )
    clock = VirtualClock(at("2026-01-05T00:00").timestamp())
    run_trigger(root, clock, "start_p1")
    assert statuses(root) == [("p1", "SUCCEEDED")]  # p2 has not run: d waits
    clock.sleep(60)
    run_trigger(root, clock, "start_p2")
    assert statuses(root) == [("p1", "SUCCEEDED"), ("p2", "SUCCEEDED"), ("d", "SUCCEEDED")]


WORKFLOW_JOBS = """\
workflows:
  - name: nightly_flow
jobs:
  - {name: load, select: [one]}
  - {name: report, select: [one]}
triggers:
  - {name: start_flow, type: on_demand, jobs: [load], workflow: nightly_flow}
  - name: then_report
    type: conditional
    workflow: nightly_flow
    conditions: [{job: load, state: SUCCEEDED}]
    jobs: [report]
"""


def test_workflow_run_groups_its_job_runs(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, WORKFLOW_JOBS, {"one": ONE_MODEL})
    clock = VirtualClock(at("2026-01-05T00:00").timestamp())
    for _ in range(2):
        run_trigger(root, clock, "start_flow")
        clock.sleep(60)
    with Workspace(root).catalog() as store:
        flows = JobRuns(store).workflow_runs("nightly_flow")
    assert [f["status"] for f in flows] == ["COMPLETED", "COMPLETED"]
    assert all(f["statistics"] == {"total": 2, "succeeded": 2} for f in flows)
    runs = job_runs(root)
    assert [r["job"] for r in runs] == ["load", "report", "load", "report"]
    # each workflow run's conditional fired once, within its own run
    assert runs[0]["workflow_run_id"] == runs[1]["workflow_run_id"] != runs[2]["workflow_run_id"]


def test_retries_with_exponential_backoff(tmp_path: Path) -> None:
    jobs_yml = (
        "jobs:\n  - {name: flaky, select: [maybe_fails], max_retries: 2, retry_backoff: 10s}\n"
    )
    root = jobs_project(tmp_path, jobs_yml, {"maybe_fails": MAYBE_FAILS})
    ws = Workspace(root, vars={"a_fails": True})
    clock = VirtualClock(at("2026-01-05T00:00").timestamp())
    env = JobEnv(
        ws.project.root,
        ws.project.name,
        ws.target.state_dir,
        vars=ws.vars,
        clock=clock,
        isolate=False,
    )
    with ws.catalog() as store:
        outcome = run_job(env, store, ws.project.jobs["flaky"])
    assert (outcome.status, outcome.attempts) == ("FAILED", 3)
    assert clock.slept == [10.0, 20.0]  # 10 s, then twice that
    run = job_runs(root)[0]
    assert run["attempts"] == 3 and run["status"] == "FAILED"
    assert len(run["transform_run_ids"]) == 3  # one transform run per attempt
    events = [r["event"] for r in _log(root, outcome.run_id)]
    assert events.count("attempt_started") == 3 and events.count("retry_wait") == 2


def _log(root: Path, run_id: str) -> list[dict[str, Any]]:
    path = root / ".glueform" / "logs" / f"{run_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


HOURLY = """\
jobs:
  - {name: hourly, select: [one]}
triggers:
  - {name: every_hour, type: schedule, schedule: "0 * * * *", jobs: [hourly]}
"""


@pytest.mark.parametrize(("policy", "expected"), [("run_once", 1), ("skip", 0)])
def test_catch_up_after_downtime(tmp_path: Path, policy: str, expected: int) -> None:
    root = jobs_project(tmp_path, HOURLY, {"one": ONE_MODEL})
    start = at("2026-01-05T00:00").timestamp()
    clock = VirtualClock(start)
    sched, store_cm = scheduler(root, clock, catch_up=policy)
    sched.run(until=start + 2 * 3600 + 1)  # fires 01:00 and 02:00
    store_cm.__exit__(None, None, None)
    assert len(job_runs(root)) == 2

    clock.sleep(5 * 3600 + 600)  # down from 02:00 to 07:10: 03:00..07:00 were missed
    sched, store_cm = scheduler(root, clock, catch_up=policy)
    sched.run(until=clock.now() + 1)
    with Workspace(root).catalog() as store:
        last = JobRuns(store).last_fire("every_hour")
    store_cm.__exit__(None, None, None)
    caught = job_runs(root)[2:]
    assert len(caught) == expected
    assert last == at("2026-01-05T07:00").timestamp()  # the missed times are behind it either way
    if caught:
        assert caught[0]["fire_time"] == at("2026-01-05T07:00").timestamp()


# -- validation -------------------------------------------------------------------------------


def invalid(tmp_path: Path, jobs_yml: str) -> tuple[int, str]:
    root = jobs_project(tmp_path, jobs_yml, {"one": ONE_MODEL})
    result = glueform("validate", "-p", str(root))
    return result.exit_code, result.stderr


def test_invalid_cron_points_at_file_line_and_column(tmp_path: Path) -> None:
    jobs_yml = (
        "jobs:\n  - {name: j, select: [one]}\ntriggers:\n  - name: t\n    type: schedule\n"
        '    schedule: "0 25 * * *"\n    jobs: [j]\n'
    )
    code, err = invalid(tmp_path, jobs_yml)
    assert code == 2
    assert "jobs/jobs.yml:6:18" in err and "25 is out of range 0-23" in err


def test_trigger_naming_an_unknown_job(tmp_path: Path) -> None:
    jobs_yml = (
        "jobs:\n  - {name: nightly, select: [one]}\ntriggers:\n"
        "  - {name: t, type: on_demand, jobs: [nightyl]}\n"
    )
    code, err = invalid(tmp_path, jobs_yml)
    assert code == 2 and "jobs/jobs.yml:4:" in err
    assert "unknown job 'nightyl'" in err and "did you mean 'nightly'" in err


def test_conditional_cycle_between_triggers(tmp_path: Path) -> None:
    jobs_yml = (
        "jobs:\n  - {name: a, select: [one]}\n  - {name: b, select: [one]}\ntriggers:\n"
        "  - {name: a_then_b, type: conditional, conditions: [{job: a, state: SUCCEEDED}], jobs: [b]}\n"
        "  - {name: b_then_a, type: conditional, conditions: [{job: b, state: FAILED}], jobs: [a]}\n"
    )
    code, err = invalid(tmp_path, jobs_yml)
    assert code == 2 and "jobs/jobs.yml:5:" in err
    assert "cycle: a -> b -> a" in err and "a_then_b, b_then_a" in err


def test_selector_matching_nothing(tmp_path: Path) -> None:
    jobs_yml = "jobs:\n  - name: j\n    select: ['tag:nighty']\n"
    code, err = invalid(tmp_path, jobs_yml)
    assert code == 2 and "jobs/jobs.yml:3:13" in err
    assert "matches no model" in err and "did you mean 'nightly'" in err


def test_schema_errors_and_unknown_crawler(tmp_path: Path) -> None:
    code, err = invalid(tmp_path, "jobs:\n  - {name: j, select: [one], retries: 2}\n")
    assert code == 2 and "unknown key 'retries'" in err and "did you mean 'max_retries'" in err
    code, err = invalid(tmp_path / "2", "jobs:\n  - {name: j, crawlers: [raw_files]}\n")
    assert code == 2 and "unknown crawler 'raw_files'" in err
    code, err = invalid(tmp_path / "3", "triggers:\n  - {name: t, type: schedule, jobs: []}\n")
    assert code == 2
    bad_zone = (
        "jobs:\n  - {name: j, select: [one]}\ntriggers:\n  - name: t\n    type: schedule\n"
        "    schedule: '0 2 * * *'\n    timezone: Europe/Berlim\n    jobs: [j]\n"
    )
    code, err = invalid(tmp_path / "4", bad_zone)
    assert code == 2 and "jobs/jobs.yml:7:15" in err and "unknown time zone 'Europe/Berlim'" in err


# -- CLI, metrics, lineage --------------------------------------------------------------------


def test_jobs_cli_runs_logs_and_lineage(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, HOURLY, {"one": ONE_MODEL})
    listed = glueform_json("jobs", "ls", "-p", str(root))
    assert listed[0]["name"] == "hourly" and listed[0]["triggers"] == ["every_hour (schedule)"]
    assert listed[0]["next_run"] > time.time()

    lineage = tmp_path / "lineage.jsonl"
    outcome = glueform_json("jobs", "run", "hourly", "-p", str(root), "--lineage", str(lineage))
    assert outcome["status"] == "SUCCEEDED" and outcome["rows_written"] == 1
    events = [json.loads(line) for line in lineage.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert events[1]["outputs"] == [{"namespace": "shop", "name": "shop.one"}]
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"]

    runs = glueform_json("runs", "-p", str(root), "--status", "succeeded")
    assert [r["id"] for r in runs] == [outcome["run_id"]]
    assert glueform_json("runs", "-p", str(root), "--job", "other") == []
    log = glueform_json("logs", outcome["run_id"], "-p", str(root))
    assert log[0]["event"] == "job_started" and log[-1]["event"] == "job_finished"
    assert any(r["event"] == "node_finished" and r["node"] == "one" for r in log)
    assert glueform("logs", "jr_nope", "-p", str(root)).exit_code == 2


def test_metrics_text() -> None:
    summary = [
        {
            "job": "a",
            "status": "SUCCEEDED",
            "runs": 3,
            "seconds": 1.5,
            "rows_written": 30,
            "bytes_written": 900,
        },
        {
            "job": "a",
            "status": "FAILED",
            "runs": 1,
            "seconds": 0.2,
            "rows_written": None,
            "bytes_written": None,
        },
    ]
    text = render(summary, running=2, fired={"t": 4})
    assert 'glueform_job_runs_total{job="a",status="SUCCEEDED"} 3' in text
    assert 'glueform_job_runs_total{job="a",status="FAILED"} 1' in text
    assert 'glueform_rows_written_total{job="a",status="SUCCEEDED"} 30' in text
    assert "glueform_scheduler_running_jobs 2" in text
    assert 'glueform_trigger_fires_total{trigger="t"} 4' in text


# -- the catalog's scheduler record, on SQLite and PostgreSQL ---------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    from glueform.catalog.store import CatalogStore

    sqlite = f"sqlite:///{tmp_path / 'catalog.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    catalog = CatalogStore(url)
    yield catalog
    catalog.close()


def test_fire_claims_are_served_once(store: Any) -> None:
    runs = JobRuns(store)
    assert runs.claim_fire("t", 100.0, None)
    assert not runs.claim_fire("t", 100.0, None)  # a second scheduler's baseline loses
    assert runs.claim_fire("t", 200.0, 100.0)
    assert not runs.claim_fire("t", 200.0, 100.0)  # the same fire, claimed again: refused
    runs.release_fire("t", 200.0, 100.0)  # stopped before it was served
    assert runs.last_fire("t") == 100.0
    assert runs.claim_fire("t", 200.0, 100.0)


def test_job_slots_bound_concurrent_runs(store: Any) -> None:
    from glueform.project.model import JobSpec
    from glueform.schedule.jobs import ConcurrentRunsExceeded, job_slot

    job = JobSpec("j", SourceLocation(Path("jobs/j.yml")), select=("x",), max_concurrent_runs=2)
    with job_slot(store, "shop", job) as first, job_slot(store, "shop", job) as second:
        assert (first, second) == (0, 1)
        with pytest.raises(ConcurrentRunsExceeded), job_slot(store, "shop", job):
            pass
    with job_slot(store, "shop", job) as again:
        assert again == 0  # released


def test_outcomes_and_workflow_statistics(store: Any) -> None:
    runs = JobRuns(store)
    flow = runs.start_workflow("w", "t", 10.0)
    a = runs.start("a", 10.0, "t", flow)
    b = runs.start("b", 11.0, "t", flow)
    runs.finish(a, "SUCCEEDED", 12.0, rows_written=5)
    runs.finish(a, "FAILED", 13.0)  # an ended run stays as it ended
    assert [o.status for o in runs.outcomes_since(["a", "b"], 0.0, flow)] == ["SUCCEEDED"]
    assert runs.workflow_statistics(flow) == {"total": 2, "succeeded": 1, "running": 1}
    runs.finish(b, "TIMEOUT", 14.0)
    assert [(o.job, o.status) for o in runs.outcomes_since(["a", "b"], 12.0)] == [("b", "TIMEOUT")]
    summary = {(r["job"], r["status"]): r for r in runs.summary()}
    assert (
        summary[("a", "SUCCEEDED")]["runs"] == 1
        and summary[("a", "SUCCEEDED")]["rows_written"] == 5
    )


def test_a_version_2_catalog_gains_the_scheduler_tables(tmp_path: Path) -> None:
    from sqlalchemy import text

    from glueform.catalog.store import CatalogStore

    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    old = CatalogStore(url)
    with old.engine.begin() as conn:
        for name in ("job_runs", "workflow_runs", "trigger_state"):
            conn.execute(text(f"DROP TABLE {name}"))
        conn.execute(text("UPDATE glueform_meta SET value = '2' WHERE key = 'schema_version'"))
    old.close()
    migrated = CatalogStore(url)
    try:
        assert JobRuns(migrated).claim_fire("t", 1.0, None)
        assert JobRuns(migrated).list() == []
    finally:
        migrated.close()


def test_a_run_left_by_a_killed_scheduler_is_stopped_and_caught_up(tmp_path: Path) -> None:
    import subprocess
    import sys

    from sqlalchemy import update

    from glueform.catalog import schema as s

    root = jobs_project(tmp_path, HOURLY, {"one": ONE_MODEL})
    fire = at("2026-01-05T03:00").timestamp()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with Workspace(root).catalog() as store:  # as a SIGKILLed scheduler leaves it
        runs = JobRuns(store)
        assert runs.claim_fire("every_hour", fire, None)
        run_id = runs.start("hourly", fire, "every_hour", fire_time=fire)
        with store.engine.begin() as conn:
            conn.execute(
                update(s.job_runs).where(s.job_runs.c.id == run_id).values(pid=int(dead.stdout))
            )
    clock = VirtualClock(fire + 1800)
    sched, store_cm = scheduler(root, clock)
    sched.run(until=clock.now() + 1)
    store_cm.__exit__(None, None, None)
    first, again = job_runs(root)
    assert (first["id"], first["status"]) == (run_id, "STOPPED")
    assert (again["status"], again["fire_time"]) == ("SUCCEEDED", fire)


def test_logs_of_a_transform_run(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, HOURLY, {"one": ONE_MODEL})
    run = glueform_json("run", "-p", str(root), "-s", "one")
    log = glueform_json("logs", run["run_id"], "-p", str(root))
    assert [(r["node"], r["status"]) for r in log] == [("one", "success")]


def test_a_schedule_whose_years_are_over_never_fires(tmp_path: Path) -> None:
    jobs_yml = (
        "jobs:\n  - {name: once, select: [one]}\ntriggers:\n"
        '  - {name: new_year_2025, type: schedule, schedule: "cron(0 0 1 1 ? 2025)", jobs: [once]}\n'
    )
    root = jobs_project(tmp_path, jobs_yml, {"one": ONE_MODEL})
    assert glueform_json("jobs", "ls", "-p", str(root))[0]["next_run"] is None
    clock = VirtualClock(at("2026-01-05T00:00").timestamp())
    sched, store_cm = scheduler(root, clock)
    sched.run(until=clock.now() + 3 * 86400)
    store_cm.__exit__(None, None, None)
    assert job_runs(root) == []


def test_lineage_events_posted_to_a_url() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from glueform.schedule.lineage_events import Lineage

    received: list[dict[str, Any]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        lineage = Lineage(f"http://127.0.0.1:{server.server_address[1]}/api/v1/lineage", "shop")
        error = lineage.emit("FAIL", "jr_1", "nightly", ["raw.orders"], ["shop.x"], 0.0, "boom")
    finally:
        server.shutdown()
        server.server_close()
    assert error is None
    (event,) = received
    assert event["eventType"] == "FAIL" and event["job"] == {"namespace": "shop", "name": "nightly"}
    assert event["inputs"] == [{"namespace": "shop", "name": "raw.orders"}]
    assert event["run"]["facets"]["errorMessage"]["message"] == "boom"
    assert event["eventTime"] == "1970-01-01T00:00:00.000Z"
    down = Lineage(f"http://127.0.0.1:{server.server_address[1]}/", "shop").emit(
        "START", "jr_1", "j", [], [], 0.0
    )
    assert down is not None and "not sent" in down  # a lineage backend that is down fails nothing
    malformed = Lineage("http://localhost:abc/", "shop").emit("START", "jr_1", "j", [], [], 0.0)
    assert malformed is not None and "not sent" in malformed  # a bad URL fails nothing either


CRAWL_JOBS = """\
jobs:
  - name: ingest
    crawlers: [landing]
    select: [landing_totals]
  - name: after_crawl
    select: [one]
triggers:
  - name: start_ingest
    type: on_demand
    jobs: [ingest]
  - name: when_crawled
    type: conditional
    conditions: [{crawler: landing, state: SUCCEEDED}]
    jobs: [after_crawl]
"""
CRAWLERS = "crawlers:\n  - {name: landing, database: landing, targets: [data/landing]}\n"


def test_a_job_crawls_first_and_a_trigger_watches_the_crawler(tmp_path: Path) -> None:
    files: dict[str, Any] = {
        **basic_files(),
        "jobs/jobs.yml": CRAWL_JOBS,
        "crawlers/landing.yml": CRAWLERS,
        "data/landing/refunds/dt=2024-01-01/part.csv": "refund_id,cents\n1,250\n2,100\n",
        "data/landing/refunds/dt=2024-01-02/part.csv": "refund_id,cents\n3,75\n",
        "transforms/jobs/one.sql": ONE_MODEL,
        "transforms/jobs/landing_totals.sql": (
            "select dt, sum(cents) as cents from {{ source('landing', 'refunds') }} group by dt\n"
        ),
    }
    root = write_project(tmp_path / "shop", files)
    clock = VirtualClock(at("2026-01-05T00:00").timestamp())
    # the scheduler notices crawls that end after it last looked (the baseline of its trigger)
    sched, store_cm = scheduler(root, clock, schedules=False)
    store_cm.__exit__(None, None, None)
    clock.sleep(60)
    run_trigger(root, clock, "start_ingest")
    assert statuses(root) == [("ingest", "SUCCEEDED"), ("after_crawl", "SUCCEEDED")]
    ingest = job_runs(root, "ingest")[0]
    events = [e["event"] for e in _log(root, ingest["id"])]
    assert events.index("crawled") < events.index("step_started", events.index("crawled"))
    with Workspace(root).catalog() as store:
        table = store.table("shop", "landing_totals")
        assert table is not None and table.location
    rows = query(f"select * from read_parquet('{table.location}/*.parquet') order by dt")
    assert [(str(d), c) for d, c in rows] == [("2024-01-01", 350), ("2024-01-02", 75)]
