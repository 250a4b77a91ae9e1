"""The scheduler as real processes: two at once, SIGTERM mid-run then restart, metrics over
HTTP, and a timeout that ends a slow job. The catalog must stay consistent throughout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import basic_files, glueform_json, write_project

from glueform import Workspace
from glueform.catalog import schema as s
from glueform.catalog.jobruns import JobRuns

pytestmark = pytest.mark.slow

SLOW = "select count(*) as n from range(100000000000) a\n"
FAST = "select 1 as n\n"
JOBS = """\
jobs:
  - name: nightly
    select: [work]
    timeout: {timeout}
triggers:
  - name: at_two
    type: schedule
    schedule: "cron(0 2 * * ? *)"
    jobs: [nightly]
"""
DAY = 86400.0


def project(tmp_path: Path, sql: str, timeout: str = "1h") -> Path:
    files = {**basic_files(), "jobs/nightly.yml": JOBS.format(timeout=timeout)}
    files["transforms/jobs/work.sql"] = sql
    root = write_project(tmp_path / "shop", files)
    assert glueform_json("validate", "-p", str(root))["jobs"] == 1
    return root


def last_two_am(before: float) -> float:
    return (before - 2 * 3600) // DAY * DAY + 2 * 3600


def seed_missed_fire(root: Path) -> float:
    """The trigger last fired two days ago: a scheduler starting now has missed fires."""
    now = time.time()
    with Workspace(root).catalog() as store:
        assert JobRuns(store).claim_fire("at_two", last_two_am(now) - 2 * DAY, None)
    return last_two_am(now)


class Scheduler:
    """``glueform scheduler --json`` in a child process; its events read as they come."""

    def __init__(self, root: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "glueform.cli.main", "scheduler", "-p", str(root), "--json",
             "--poll", "0.1", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def wait_for(self, kind: str, timeout: float = 30, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if event["event"] == kind and all(event.get(k) == v for k, v in match.items()):
                    return event
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        stderr = (
            self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
        )
        raise AssertionError(f"no {kind} event; saw {[e['event'] for e in self.events]} {stderr}")

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code


def catalog_rows(root: Path, table: Any) -> list[dict[str, Any]]:
    with Workspace(root).catalog() as store, store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(table.select()).mappings()]


def test_two_schedulers_run_one_job_once(tmp_path: Path) -> None:
    root = project(tmp_path, FAST)
    due = seed_missed_fire(root)
    first = Scheduler(root, "--metrics-port", "0")
    second = Scheduler(root)
    try:
        first.wait_for("scheduler_started")
        second.wait_for("scheduler_started")
        # exactly one of them serves the missed fire; wait until it is done
        finished: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not finished:
            finished = [
                e for sch in (first, second) for e in sch.events if e["event"] == "finished"
            ]
            time.sleep(0.05)
        assert finished and finished[0]["status"] == "SUCCEEDED"
        time.sleep(1.0)  # give the other scheduler time to (wrongly) run it too

        url = first.wait_for("metrics")["url"]
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        assert 'glueform_job_runs_total{job="nightly",status="SUCCEEDED"} 1.0' in text
        assert "glueform_scheduler_running_jobs 0.0" in text
        assert 'glueform_node_runs_total{status="success"} 1.0' in text
    finally:
        assert first.terminate() == 0
        assert second.terminate() == 0
    runs = catalog_rows(root, s.job_runs)
    assert len(runs) == 1 and runs[0]["status"] == "SUCCEEDED"
    assert runs[0]["fire_time"] == due  # run once for the newest missed time
    fired = [e for sch in (first, second) for e in sch.events if e["event"] == "fired"]
    assert len(fired) == 1
    assert catalog_rows(root, s.locks) == []


def test_sigterm_mid_run_then_restart_catches_up(tmp_path: Path) -> None:
    root = project(tmp_path, SLOW)
    due = seed_missed_fire(root)
    sched = Scheduler(root, "--grace", "0.2")
    try:
        sched.wait_for("fired")
        _wait_for_build(root)
        started = time.monotonic()
    finally:
        code = sched.terminate()
    assert code == 0
    assert time.monotonic() - started < 15, "in-flight runs are stopped after the grace period"
    runs = catalog_rows(root, s.job_runs)
    assert [r["status"] for r in runs] == ["STOPPED"]
    transform_runs = catalog_rows(root, s.runs)
    assert [r["status"] for r in transform_runs] == ["cancelled"]  # stopped cleanly, not killed
    assert catalog_rows(root, s.locks) == []
    assert not any(t["name"] == "work" for t in catalog_rows(root, s.tables))
    assert sched.wait_for("fire_released")
    with Workspace(root).catalog() as store:
        assert JobRuns(store).last_fire("at_two") == due - 2 * DAY  # given back: still missed

    (root / "transforms/jobs/work.sql").write_text(FAST)
    again = Scheduler(root)
    try:
        done = again.wait_for("finished")
    finally:
        assert again.terminate() == 0
    assert done["status"] == "SUCCEEDED"
    runs = sorted(catalog_rows(root, s.job_runs), key=lambda r: r["started_at"])
    assert [r["status"] for r in runs] == ["STOPPED", "SUCCEEDED"]
    assert runs[1]["fire_time"] == due  # the missed fire, caught up once
    with Workspace(root).catalog() as store:
        assert JobRuns(store).last_fire("at_two") == due
        assert store.table("shop", "work") is not None


def _wait_for_build(root: Path, timeout: float = 30) -> None:
    """Until the slow model is building (its version folder exists)."""
    deadline = time.monotonic() + timeout
    folder = root / "warehouse" / "shop" / "work"
    while time.monotonic() < deadline:
        if folder.is_dir() and any(folder.iterdir()):
            time.sleep(0.3)
            return
        time.sleep(0.05)
    raise AssertionError("the job never started building")


def test_timeout_ends_a_slow_job_with_status_timeout(tmp_path: Path) -> None:
    root = project(tmp_path, SLOW, timeout="2s")
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "glueform.cli.main", "jobs", "run", "nightly", "-p", str(root), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert out.returncode == 1, out.stderr
    outcome = json.loads(out.stdout)
    assert outcome["status"] == "TIMEOUT" and "timeout (2s)" in outcome["error"]
    assert elapsed < 15
    runs = catalog_rows(root, s.job_runs)
    assert [r["status"] for r in runs] == ["TIMEOUT"]
    assert [r["status"] for r in catalog_rows(root, s.runs)] == ["cancelled"]
    assert catalog_rows(root, s.locks) == []
    events = [
        json.loads(line)["event"]
        for line in (root / ".glueform/logs" / f"{runs[0]['id']}.jsonl").read_text().splitlines()
    ]
    assert "attempt_signal" in events and "attempt_stopped" in events


def test_max_concurrent_runs_across_processes(tmp_path: Path) -> None:
    root = project(tmp_path, SLOW, timeout="20s")
    cmd = [
        sys.executable,
        "-m",
        "glueform.cli.main",
        "jobs",
        "run",
        "nightly",
        "-p",
        str(root),
        "--json",
    ]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_build(root)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "already runs 1 time(s) at once" in second.stdout
    finally:
        os.kill(first.pid, signal.SIGTERM)
        first.wait(30)
    assert [r["status"] for r in catalog_rows(root, s.job_runs)] == ["STOPPED"]
    assert catalog_rows(root, s.locks) == []


def _run_waiting_for_the_run_lock(root: Path, end: str) -> tuple[dict[str, Any], float]:
    """Run the job (its attempt in a child process, as the scheduler does) while this process
    holds the project's run lock; once the attempt says it waits, ``end`` it: "stop" sets the
    scheduler's stop signal, "timeout" lets the job's timeout end it. Returns the outcome and
    the seconds from the wait's start to the outcome."""
    from glueform.schedule.jobs import JobEnv, run_job

    ws = Workspace(root)
    env = JobEnv(ws.project.root, ws.project.name, ws.target.state_dir, kill_grace=30.0)
    logs = ws.target.state_dir / "logs"
    outcome: dict[str, Any] = {}
    with ws.catalog() as store, store.lock(f"run:{ws.project.name}"):
        runner = threading.Thread(
            target=lambda: outcome.update(run_job(env, store, ws.project.jobs["nightly"]).to_dict())
        )
        runner.start()
        deadline = time.monotonic() + 60
        while not any(
            "waiting_for_lock" in p.read_text() for p in logs.glob("*.jsonl")
        ):  # the child started and met the held lock
            assert time.monotonic() < deadline and runner.is_alive(), outcome
            time.sleep(0.05)
        waiting = time.monotonic()
        if end == "stop":
            env.stop.set()
        runner.join(60)
        assert not runner.is_alive()
        held = catalog_rows(root, s.locks)
    assert [r["name"] for r in held] == ["run:shop"]  # the test's lock was never taken away
    seconds = time.monotonic() - waiting
    (log,) = logs.glob("*.jsonl")
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "attempt_stopped" in events  # ended by SIGTERM, not killed after the grace
    return outcome, seconds


def test_a_job_waiting_for_the_run_lock_stops_when_the_scheduler_stops(tmp_path: Path) -> None:
    root = project(tmp_path, FAST)
    outcome, seconds = _run_waiting_for_the_run_lock(root, "stop")
    assert outcome["status"] == "STOPPED"
    assert seconds < 8
    assert [r["status"] for r in catalog_rows(root, s.job_runs)] == ["STOPPED"]
    assert catalog_rows(root, s.runs) == []  # it never began a transform run
    assert catalog_rows(root, s.locks) == []


def test_a_job_waiting_for_the_run_lock_ends_at_its_timeout(tmp_path: Path) -> None:
    root = project(tmp_path, FAST, timeout="2s")
    outcome, seconds = _run_waiting_for_the_run_lock(root, "timeout")
    assert outcome["status"] == "TIMEOUT" and "2s" in outcome["error"]
    assert seconds < 8
    assert [r["status"] for r in catalog_rows(root, s.job_runs)] == ["TIMEOUT"]
    assert catalog_rows(root, s.locks) == []
