"""A killed or interrupted run leaves the catalog and every table as they were before it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, query, write_project

from glueform import Workspace

SLOW = "select count(*) as n from range(100000000000) a\n"


def tables(root: Path) -> dict[str, tuple[str | None, int]]:
    with Workspace(root).catalog() as catalog:
        return {
            name: (r.location, r.version)
            for name, r in {
                t.name: t for t in catalog.tables() if t.table_type != "EXTERNAL_TABLE"
            }.items()
        }


def start_run(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "glueform.cli.main", "run", "-p", str(root), "--threads", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_version_folder(root: Path, name: str, before: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    folder = root / "warehouse" / "shop" / name
    while time.monotonic() < deadline:
        if folder.is_dir() and len(list(folder.iterdir())) > before:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never started building")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_run_changes_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    files = basic_files()
    files["transforms/marts/slow.sql"] = "select 1 as n from {{ ref('customer_totals') }} limit 1\n"
    root = write_project(tmp_path / "p", files)
    assert glueform_json("run", "-p", str(root))["ok"]
    before = tables(root)

    (root / "transforms/marts/slow.sql").write_text(SLOW)
    proc = start_run(root)
    wait_for_version_folder(root, "slow", before=1)
    time.sleep(0.3)
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0

    after = tables(root)
    assert after["slow"] == before["slow"], "the killed build must not become current"
    for location, _ in after.values():
        if location:
            assert query(f"select count(*) from read_parquet('{location}/*.parquet')")[0][0] > 0
    # the run finished what it could before the signal, and nothing half-done is current
    assert set(after) == set(before)

    (root / "transforms/marts/slow.sql").write_text("select 2 as n\n")
    assert glueform_json("run", "-p", str(root))["ok"]
    assert glueform("plan", "-p", str(root), "--detailed-exitcode").exit_code == 0


def test_module_entry_point(project: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "glueform.cli.main", "validate", "-p", str(project)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
