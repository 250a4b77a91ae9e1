#!/usr/bin/env python3
"""Fault benchmark: faults in a loop for a fixed time; trials and survivals per fault type.

Each trial works on a small project (CSV event files; a view, a table of totals, an incremental
`append` model with file bookmarks, and a model slow enough to be killed in flight) and checks
the rule of the whole tool: after the fault, the next ordinary run succeeds and every table
equals what a full rebuild from the files gives (nothing lost, nothing read twice), no run is
left RUNNING, and errors are clean (exit 1 or 2, never a traceback). Fault types:

  kill-sqlite, kill-postgres  kill -9 a `glueform run` at a random moment, then run again
  open-sqlite, open-postgres  6 processes open a new catalog at the same moment
  concurrent-runs             3 runs at once: each succeeds or exits 1 naming the lock holder;
                              then 3 at once with --lock-wait: all succeed
  lease-takeover              a run killed -9 "on another host" (its lock row rewritten): the
                              next run with --lock-wait takes the lock once the lease expired
  copy-project                cp -a, then runs in the copy with keep_versions 1: the original
                              still reads its tables, equal to its own rebuild
  move-project                mv, then a new file: every table equals a rebuild (no row twice)

The baseline is the same check after an ordinary run with no fault (the "control" row): a fault
type survives when its checks pass as often as the control's.

Usage: python bench/fault_bench.py --minutes 10 [--seed 1] [--postgres URL]
(PostgreSQL: $GLUEFORM_TEST_POSTGRES or postgresql://postgres@127.0.0.1:5432/test; a database
of the bench's own is created on that server and dropped after; without a server the PostgreSQL
rows are skipped.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

GLUEFORM = [sys.executable, "-m", "glueform.cli.main"]
OTHER_HOST = "bench-runner-elsewhere"

CONFIG = """\
name: shop
targets:
  dev:
    engine: duckdb
    threads: 2
    keep_versions: {keep}
    lock_lease_minutes: {lease}
{catalog}transforms:
  folders:
    staging: {{materialized: view}}
"""
SOURCES = "sources:\n  - name: raw\n    tables:\n      - {name: events, path: data/events/*.csv}\n"
MODELS = {
    "transforms/staging/stg_events.sql": "select id, amount from {{ source('raw', 'events') }}\n",
    "transforms/marts/totals.sql": (
        "{{ config(materialized='table') }}\n"
        "select count(*) as n, sum(amount) as s from {{ ref('stg_events') }}\n"
    ),
    "transforms/marts/ev.sql": (
        "{{ config(materialized='incremental', bookmark='enable') }}\n"
        "select id, amount from {{ source('raw', 'events') }}\n"
    ),
    "transforms/marts/slow.sql": (
        "{{ config(materialized='table') }}\n"
        "select count(*) as n from range({slow}) r(i) where i % 7 = 3\n"
    ),
}


@dataclass
class Tally:
    trials: int = 0
    survived: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, ok: bool, note: str = "") -> None:
        self.trials += 1
        self.survived += ok
        if not ok and note and len(self.notes) < 3:
            self.notes.append(note[:300])


class Bench:
    """One bench run: a scratch folder, a PostgreSQL server (or none), a random generator."""

    def __init__(self, work: Path, pg_server: str | None, rng: random.Random, slow: int) -> None:
        self.work, self.pg_server, self.rng, self.slow = work, pg_server, rng, slow
        self.batch = 0

    # -- projects ------------------------------------------------------------------------------

    def project(self, catalog: str | None = None, keep: int = 3, lease: float = 5) -> Path:
        root = self.work / f"p{uuid.uuid4().hex[:8]}"
        files = {
            "glueform.yml": CONFIG.format(
                keep=keep, lease=lease, catalog=f"    catalog: {catalog}\n" if catalog else ""
            ),
            "sources/raw.yml": SOURCES,
            **{k: v.replace("{slow}", str(self.slow)) for k, v in MODELS.items()},
        }
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        (root / "data" / "events").mkdir(parents=True)
        self.add_file(root)
        return root

    def add_file(self, root: Path) -> None:
        self.batch += 1
        rows = [(self.batch * 1000 + i, self.rng.randint(1, 100)) for i in range(50)]
        body = "id,amount\n" + "".join(f"{a},{b}\n" for a, b in rows)
        (root / "data" / "events" / f"b{self.batch:05}.csv").write_text(body)

    @contextmanager
    def pg_catalog(self) -> Iterator[str | None]:
        """A PostgreSQL database of its own (None without a server)."""
        if self.pg_server is None:
            yield None
            return
        from sqlalchemy import create_engine

        name = f"fault_{uuid.uuid4().hex[:10]}"
        server = create_engine(self.pg_server.replace("postgresql://", "postgresql+psycopg://"))
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield self.pg_server.rsplit("/", 1)[0] + "/" + name
        finally:
            with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            server.dispose()

    # -- processes -----------------------------------------------------------------------------

    def glueform(self, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*GLUEFORM, *args, "-p", str(root)], capture_output=True, text=True, timeout=600
        )

    def start(self, root: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*GLUEFORM, "run", "-p", str(root), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def kill_at_random(self, root: Path, window: float) -> None:
        proc = self.start(root)
        time.sleep(self.rng.uniform(0.0, window))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()

    # -- checks --------------------------------------------------------------------------------

    def check(self, root: Path, *run_args: str) -> tuple[bool, str]:
        """An ordinary run succeeds, and then every table equals a rebuild from the files."""
        done = self.glueform(root, "run", *run_args)
        if done.returncode != 0:
            return False, f"rerun exit {done.returncode}: {done.stderr.strip()[-300:]}"
        return self.equal_to_rebuild(root)

    def equal_to_rebuild(self, root: Path) -> tuple[bool, str]:
        import duckdb

        from glueform.catalog.leases import read_all
        from glueform.workspace import Workspace

        files = str(root / "data" / "events" / "*.csv")
        with duckdb.connect() as con:
            expected_ev = con.execute(
                f"select count(*), sum(amount), count(distinct id) from read_csv('{files}')"
            ).fetchone()
            ws = Workspace(root)
            with ws.catalog() as store:
                runs = [r for r in store.runs(1000) if r["status"] == "running"]
                locks = [x.name for x in read_all(store.engine)]
                ev = store.table("shop", "ev")
                totals = store.table("shop", "totals")
            if ev is None or totals is None:
                return False, "a table is missing from the catalog"
            got_ev = con.execute(
                f"select count(*), sum(amount), count(distinct id) from read_parquet('{ev.location}/**/*.parquet')"
            ).fetchone()
            got_totals = con.execute(
                f"select n, s from read_parquet('{totals.location}/**/*.parquet')"
            ).fetchone()
        if got_ev != expected_ev:
            return False, f"ev {got_ev} != files {expected_ev} (lost or duplicated rows)"
        if got_totals != expected_ev[:2]:
            return False, f"totals {got_totals} != files {expected_ev[:2]}"
        if runs:
            return False, f"{len(runs)} runs left RUNNING"
        if locks:
            return False, f"locks left: {locks}"
        return True, ""

    @staticmethod
    def clean_error(done: subprocess.CompletedProcess[str] | tuple[int, str]) -> bool:
        code, err = (done.returncode, done.stderr) if not isinstance(done, tuple) else done
        return code in (1, 2) and "Traceback" not in err and "internal error" not in err

    # -- fault types ---------------------------------------------------------------------------

    def control(self) -> tuple[bool, str]:
        root = self.project()
        self.add_file(root)
        try:
            return self.check(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def kill(self, catalog: str | None) -> tuple[bool, str]:
        root = self.project(catalog)
        try:
            if self.glueform(root, "run").returncode != 0:
                return False, "first run failed"
            self.add_file(root)
            self.kill_at_random(root, self.window)
            self.add_file(root)
            return self.check(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def kill_sqlite(self) -> tuple[bool, str]:
        return self.kill(None)

    def kill_postgres(self) -> tuple[bool, str]:
        with self.pg_catalog() as url:
            return self.kill(url) if url else (False, "skipped")

    def open_at_once(self, url: str) -> tuple[bool, str]:
        at = time.time() + 1.5
        code = (
            "import sys, time\nfrom glueform.catalog.store import CatalogStore\n"
            f"while time.time() < {at}: pass\nCatalogStore(sys.argv[1]).close()\n"
        )
        procs = [
            subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        errors = [p.communicate()[1] for p in procs if p.wait() != 0]
        return (not errors), (errors[0].strip()[-300:] if errors else "")

    def open_sqlite(self) -> tuple[bool, str]:
        path = self.work / f"new{uuid.uuid4().hex[:8]}.db"
        try:
            return self.open_at_once(f"sqlite:///{path}")
        finally:
            for p in self.work.glob(path.name + "*"):
                p.unlink()

    def open_postgres(self) -> tuple[bool, str]:
        with self.pg_catalog() as url:
            return self.open_at_once(url) if url else (False, "skipped")

    def concurrent_runs(self) -> tuple[bool, str]:
        root = self.project()
        try:
            self.add_file(root)
            procs = [self.start(root) for _ in range(3)]
            outcomes = [(p.communicate()[1], p.returncode)[::-1] for p in procs]
            for code, err in outcomes:
                if code != 0 and not (code == 1 and "holds the lock" in err):
                    return False, f"a concurrent run exit {code}: {err.strip()[-300:]}"
            if not any(code == 0 for code, _ in outcomes):
                return False, "no run of three succeeded"
            self.add_file(root)
            procs = [self.start(root, "--lock-wait", "120") for _ in range(3)]
            outcomes = [(p.communicate()[1], p.returncode)[::-1] for p in procs]
            if any(code != 0 for code, _ in outcomes):
                return False, f"with --lock-wait: {[c for c, _ in outcomes]}"
            return self.equal_to_rebuild(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def lease_takeover(self) -> tuple[bool, str]:
        from sqlalchemy import update

        from glueform.catalog import schema as s
        from glueform.catalog.store import CatalogStore

        root = self.project(lease=0.02)  # 1.2 s
        try:
            if self.glueform(root, "run").returncode != 0:
                return False, "first run failed"
            self.add_file(root)
            marker = root / "warehouse" / "shop" / "slow"
            before = {p.name for p in marker.iterdir()}
            proc = self.start(root)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if {p.name for p in marker.iterdir()} - before:
                    break  # the slow model is being written: mid-run, the lock held
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            store = CatalogStore.for_path(root / ".glueform" / "catalog.db")
            with store.engine.begin() as conn:  # as if it ran in a container
                conn.execute(update(s.locks).values(host=OTHER_HOST))
                conn.execute(update(s.runs).values(host=OTHER_HOST))
            store.close()
            return self.check(root, "--lock-wait", "60")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def copy_project(self) -> tuple[bool, str]:
        root = self.project(keep=1)
        copy = root.with_name(root.name + "-copy")
        try:
            if self.glueform(root, "run").returncode != 0:
                return False, "first run failed"
            subprocess.run(["cp", "-a", str(root), str(copy)], check=True)
            for _ in range(2):
                self.add_file(copy)
                ok, why = self.check(copy)
                if not ok:
                    return False, f"copy: {why}"
            ok, why = self.equal_to_rebuild(root)
            if not ok:
                return False, f"original after the copy ran: {why}"
            self.add_file(root)
            ok, why = self.check(root)
            return ok, (f"original: {why}" if why else "")
        finally:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(copy, ignore_errors=True)

    def move_project(self) -> tuple[bool, str]:
        root = self.project()
        moved = root.with_name(root.name + "-moved")
        try:
            if self.glueform(root, "run").returncode != 0:
                return False, "first run failed"
            root.rename(moved)
            self.add_file(moved)
            return self.check(moved)
        finally:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(moved, ignore_errors=True)

    def calibrate(self) -> None:
        """How long one run of a fresh project takes: the window a kill is drawn in."""
        root = self.project()
        started = time.perf_counter()
        self.glueform(root, "run")
        self.window = (time.perf_counter() - started) * 1.2
        shutil.rmtree(root, ignore_errors=True)


FAULTS: dict[str, Callable[[Bench], tuple[bool, str]]] = {
    "control": Bench.control,
    "kill-sqlite": Bench.kill_sqlite,
    "kill-postgres": Bench.kill_postgres,
    "open-sqlite": Bench.open_sqlite,
    "open-postgres": Bench.open_postgres,
    "concurrent-runs": Bench.concurrent_runs,
    "lease-takeover": Bench.lease_takeover,
    "copy-project": Bench.copy_project,
    "move-project": Bench.move_project,
}


def postgres_server(url: str) -> str | None:
    from sqlalchemy import create_engine

    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect():
            pass
        engine.dispose()
        return url
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL rows are skipped
        return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow", type=int, default=60_000_000, help="rows the slow model scans")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "GLUEFORM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON too")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pg = postgres_server(args.postgres)
    faults = {k: f for k, f in FAULTS.items() if pg or "postgres" not in k}
    tallies = {k: Tally() for k in faults}
    with tempfile.TemporaryDirectory(prefix="glueform-fault-") as tmp:
        bench = Bench(Path(tmp), pg, rng, args.slow)
        bench.calibrate()
        print(f"one run takes ~{bench.window / 1.2:.1f}s; kills land in [0, {bench.window:.1f}s]")
        deadline = time.monotonic() + args.minutes * 60
        while time.monotonic() < deadline:
            for name, fault in faults.items():
                if time.monotonic() >= deadline:
                    break
                try:
                    ok, why = fault(bench)
                except Exception as exc:  # noqa: BLE001 - a trial that crashes did not survive
                    ok, why = False, f"{type(exc).__name__}: {exc}"
                tallies[name].add(ok, why)
    print(f"\n{'fault':<18}{'trials':>8}{'survived':>10}{'rate':>8}")
    for name, t in tallies.items():
        rate = t.survived / t.trials if t.trials else 0.0
        print(f"{name:<18}{t.trials:>8}{t.survived:>10}{rate:>8.0%}")
        for note in t.notes:
            print(f"    {note}")
    control = tallies["control"]
    base = control.survived / control.trials if control.trials else 0.0
    faulted = [t for k, t in tallies.items() if k != "control"]
    total, alive = sum(t.trials for t in faulted), sum(t.survived for t in faulted)
    ratio = (alive / total) / base if total and base else 0.0
    print(f"\nall faults: {alive}/{total} survived; ratio to the control's rate: {ratio:.2f}")
    if args.json:
        print(json.dumps({k: t.__dict__ for k, t in tallies.items()}, indent=2))
    return 0 if total and alive == total else 1


if __name__ == "__main__":
    sys.exit(main())
