"""Locks as leases (heartbeat, expiry, takeover from any host), dead runs marked at open,
``catalog locks`` / ``unlock``, ``run --lock-wait``, and a new catalog opened by many processes
at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, write_project
from sqlalchemy import insert, select, update
from test_catalog import state, table

from glueform.catalog import leases
from glueform.catalog import schema as s
from glueform.catalog.jobruns import JobRuns
from glueform.catalog.model import Build
from glueform.catalog.store import CatalogStore, LeaseLostError, LockHeldError

OTHER_HOST = "ci-runner-7"


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own (empty, dropped after)."""
    from sqlalchemy import create_engine

    name = f"glueform_t{uuid.uuid4().hex[:10]}"
    server = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        yield request.getfixturevalue("pg_database")


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def _foreign_lock(store: CatalogStore, name: str, host: str, pid: int, expires_in: float) -> None:
    now = time.time()
    with store.engine.begin() as conn:
        conn.execute(
            insert(s.locks).values(
                name=name, host=host, pid=pid, since=now - 60, heartbeat_at=now - 30,
                expires_at=now + expires_in, token=uuid.uuid4().hex,
            )
        )  # fmt: skip


def test_a_live_lease_of_another_host_blocks_and_an_expired_one_is_taken_over(url: str) -> None:
    store = CatalogStore(url)
    _foreign_lock(store, "run:shop", OTHER_HOST, 4242, expires_in=60)
    with pytest.raises(LockHeldError) as held, store.lock("run:shop"):
        pass
    assert held.value.exit_code == 1
    assert f"pid 4242 on {OTHER_HOST}" in held.value.message
    assert "glueform catalog unlock run:shop" in (held.value.hint or "")
    with store.engine.begin() as conn:  # its heartbeat stopped long ago
        conn.execute(update(s.locks).values(expires_at=time.time() - 1))
    with store.lock("run:shop"):
        (mine,) = leases.read_all(store.engine)
        assert (mine.host, mine.pid) == (socket.gethostname(), os.getpid())
    assert leases.read_all(store.engine) == []
    store.close()


def test_the_heartbeat_keeps_a_lease_and_a_commit_after_a_takeover_is_refused(url: str) -> None:
    store = CatalogStore(url, lease_seconds=0.6)
    other = CatalogStore(url, lease_seconds=0.6)
    with store.lock("run:shop"):
        time.sleep(1.5)  # more than two leases: only the heartbeat keeps it
        with pytest.raises(LockHeldError), other.lock("run:shop"):
            pass
        store.commit_builds("r1", [], [])  # still ours: commits
        with store.engine.begin() as conn:  # as if this process stalled and was taken over
            conn.execute(update(s.locks).values(token="someone-else"))
        with pytest.raises(LeaseLostError, match="taken over") as lost:
            store.commit_builds("r2", [Build(table(), None, state("orders", "r2"))], [])
        assert lost.value.exit_code == 1
        assert store.table("shop", "orders") is None, "nothing of the refused commit is written"
    store.close()
    other.close()


def test_lock_wait_waits_for_a_release_and_gives_up_after_its_time(url: str) -> None:
    store = CatalogStore(url)
    other = CatalogStore(url)
    released = threading.Event()

    def hold() -> None:
        with other.lock("run:shop"):
            time.sleep(0.8)
        released.set()

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.2)
    with pytest.raises(LockHeldError, match="waited 0.2s"), store.lock("run:shop", wait=0.2):
        pass
    with store.lock("run:shop", wait=10):
        assert released.is_set()
    thread.join()
    store.close()
    other.close()


def test_runs_and_job_runs_of_dead_processes_are_ended_when_the_catalog_opens(url: str) -> None:
    store = CatalogStore(url)
    dead, now = _dead_pid(), time.time()
    rows = {
        "here-dead": (socket.gethostname(), dead),
        "elsewhere-expired": (OTHER_HOST, 77),
        "elsewhere-alive": (OTHER_HOST, 78),
        "here-alive": (socket.gethostname(), os.getpid()),
    }
    _foreign_lock(store, "run:shop", OTHER_HOST, 78, expires_in=60)
    _foreign_lock(store, "run:other", OTHER_HOST, 77, expires_in=-1)
    with store.engine.begin() as conn:
        for run_id, (host, pid) in rows.items():
            conn.execute(
                insert(s.runs).values(
                    id=run_id, target="dev", command="run", status="running", started_at=now,
                    host=host, pid=pid,
                )
            )  # fmt: skip
    runs = JobRuns(store)
    job_ids = {key: runs.start("nightly", now) for key in rows}
    with store.engine.begin() as conn:
        for key, (host, pid) in rows.items():
            conn.execute(
                update(s.job_runs).where(s.job_runs.c.id == job_ids[key]).values(host=host, pid=pid)
            )
    store.close()

    again = CatalogStore(url)  # ends the transform runs; job runs end as Workspace.catalog opens
    JobRuns(again).stop_orphans(time.time())
    with again.engine.connect() as conn:
        status = dict(conn.execute(select(s.runs.c.id, s.runs.c.status)).all())
        jobs = dict(conn.execute(select(s.job_runs.c.id, s.job_runs.c.status)).all())
    assert status == {
        "here-dead": "error", "elsewhere-expired": "error",
        "elsewhere-alive": "running", "here-alive": "running",
    }  # fmt: skip
    assert {k: jobs[v] for k, v in job_ids.items()} == {
        "here-dead": "STOPPED", "elsewhere-expired": "STOPPED",
        "elsewhere-alive": "RUNNING", "here-alive": "RUNNING",
    }  # fmt: skip
    again.close()


def test_catalog_locks_and_unlock_with_confirmation(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", basic_files())
    assert glueform("run", "-p", str(root)).exit_code == 0
    assert glueform_json("catalog", "locks", "-p", str(root)) == []
    store = CatalogStore.for_path(root / ".glueform" / "catalog.db")
    _foreign_lock(store, "run:shop", OTHER_HOST, 4242, expires_in=60)
    store.close()
    (listed,) = glueform_json("catalog", "locks", "-p", str(root))
    assert (listed["name"], listed["host"], listed["pid"], listed["state"]) == (
        "run:shop", OTHER_HOST, 4242, "held",
    )  # fmt: skip
    blocked = glueform("run", "-p", str(root))
    assert blocked.exit_code == 1 and "another run holds the lock run:shop" in blocked.stderr
    assert "Traceback" not in blocked.output

    from click.testing import CliRunner

    from glueform.cli.main import cli

    kept = CliRunner().invoke(cli, ["catalog", "unlock", "run:shop", "-p", str(root)], input="n\n")
    assert kept.exit_code == 1 and "nothing released" in kept.output
    assert len(glueform_json("catalog", "locks", "-p", str(root))) == 1
    unknown = glueform("catalog", "unlock", "run:nope", "--yes", "-p", str(root))
    assert unknown.exit_code == 2 and "run:shop" in unknown.stderr  # the hint lists the locks
    freed = CliRunner().invoke(cli, ["catalog", "unlock", "run:shop", "-p", str(root)], input="y\n")
    assert freed.exit_code == 0, freed.output
    assert glueform_json("catalog", "locks", "-p", str(root)) == []
    assert glueform("run", "-p", str(root)).exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_new_catalog_opened_by_many_processes_at_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'new.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("pg_database")
    )
    at = time.time() + 2.0  # every process past its imports, then all open at once
    code = (
        "import sys, time\nfrom glueform.catalog.store import CatalogStore\n"
        f"while time.time() < {at}: pass\nCatalogStore(sys.argv[1]).close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    errors = [p.communicate()[1] for p in procs if p.wait() != 0]
    assert errors == []
    store = CatalogStore(url)
    with store.engine.connect() as conn:
        assert conn.execute(select(s.meta.c.value)).scalars().all() == [str(s.SCHEMA_VERSION)]
    store.close()


SLOW_MODEL = "select count(*) as n from range(100000000000)\n"


@pytest.mark.slow
def test_a_run_killed_on_another_host_is_taken_over_after_its_lease(tmp_path: Path) -> None:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace(
        "    threads: 2\n", "    threads: 2\n    lock_lease_minutes: 0.02\n"
    )
    files["transforms/slow.sql"] = SLOW_MODEL
    root = write_project(tmp_path / "p", files)
    first = subprocess.Popen(
        [sys.executable, "-m", "glueform.cli.main", "run", "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (root / "warehouse" / "shop" / "slow").exists():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    store = CatalogStore.for_path(root / ".glueform" / "catalog.db")
    with (
        store.engine.begin() as conn
    ):  # as if it had run in a container: its pid means nothing here
        conn.execute(update(s.locks).values(host=OTHER_HOST))
        conn.execute(update(s.runs).values(host=OTHER_HOST))
    store.close()
    second = glueform("run", "-p", str(root), "-s", "stg_orders", "--lock-wait", "30")
    assert second.exit_code == 0, second.output
    store = CatalogStore.for_path(root / ".glueform" / "catalog.db")  # opening ends the dead run
    assert sorted(r["status"] for r in store.runs()) == ["error", "success"]
    store.close()


def test_a_job_waiting_for_a_held_lock_gives_up_at_its_timeout(tmp_path: Path) -> None:
    from test_schedule import jobs_project

    from glueform.schedule.jobs import JobEnv, run_job
    from glueform.workspace import Workspace

    jobs_yml = "jobs:\n  - {name: nightly, select: [one], timeout: 1s}\n"
    root = jobs_project(tmp_path, jobs_yml, {"one": "select 1 as x\n"})
    ws = Workspace(root)
    env = JobEnv(ws.project.root, ws.project.name, ws.target.state_dir, isolate=False)
    with ws.catalog() as store:
        _foreign_lock(store, "run:shop", OTHER_HOST, 4242, expires_in=600)
        started = time.monotonic()
        outcome = run_job(env, store, ws.project.jobs["nightly"])
    assert time.monotonic() - started < 10
    assert outcome.status == "TIMEOUT"  # not RUNNING forever
    assert outcome.error and "gave up waiting 1s for the lock" in outcome.error
    assert f"pid 4242 on {OTHER_HOST}" in outcome.error


def test_orphan_version_folders_go_by_cleanup_and_by_the_next_run(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", basic_files())
    assert glueform("run", "-p", str(root)).exit_code == 0
    folder = root / "warehouse" / "shop" / "customer_totals"
    (current,) = [p for p in folder.iterdir()]
    orphan = folder / "20260101T000000-abcdef"  # as a run killed before its commit leaves it
    (orphan / "part-0.parquet").parent.mkdir()
    (orphan / "part-0.parquet").write_bytes(b"half")
    other = folder / "notes"  # not a version folder: never touched
    other.mkdir()
    listed = glueform_json("catalog", "cleanup", "--dry-run", "-p", str(root))
    assert listed == {"dry_run": True, "folders": [str(orphan)]}
    assert orphan.exists()
    assert glueform_json("catalog", "cleanup", "-p", str(root))["folders"] == [str(orphan)]
    assert sorted(p.name for p in folder.iterdir()) == sorted([current.name, "notes"])
    orphan.mkdir()
    assert glueform("run", "-p", str(root), "-s", "customer_totals").exit_code == 0
    assert not orphan.exists() and other.exists(), "the run's retention removed the orphan"
    history = glueform_json("catalog", "history", "shop.customer_totals", "-p", str(root))
    assert all((root / "warehouse" / v["location"]).is_dir() for v in history)
