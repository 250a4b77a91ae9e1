"""A catalog that cannot be used (damaged, full disk, read-only) and settings that cannot work
(an engine setting DuckDB refuses, an unsupported catalog scheme) are clear errors with the
documented exit code, and leave the catalog as it was; run failures exit 1."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, write_project

from glueform.catalog.store import LeaseLostError, LockHeldError, StaleVersionError


def _project(tmp_path: Path, extra: str = "", state: str | None = None) -> Path:
    files = basic_files()
    target = "    threads: 2\n" + extra
    if state:
        target += f"    state: {state}\n"
    files["glueform.yml"] = files["glueform.yml"].replace("    threads: 2\n", target)
    return write_project(tmp_path / "shop", files)


def _no_traceback(result: object) -> None:
    output = getattr(result, "output", "")
    assert "Traceback" not in output and "internal error" not in output


def test_a_damaged_catalog_file_is_exit_2_when_opened_and_when_found_later(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert glueform("run", "-p", str(root)).exit_code == 0
    db = root / ".glueform" / "catalog.db"
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db}")  # fold the WAL in: every page is in the file
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    data = bytearray(db.read_bytes())
    page = 4096
    data[-page * 3 :] = b"\x5a" * (page * 3)  # the last pages: the schema page (1) still reads
    db.write_bytes(bytes(data))
    result = glueform("run", "-p", str(root))
    assert result.exit_code == 2, result.output
    assert "the catalog file is damaged" in result.stderr and "restore it" in result.stderr
    _no_traceback(result)
    db.write_bytes(b"not a database at all" * 200)  # the header too
    result = glueform("catalog", "ls", "-p", str(root))
    assert result.exit_code == 2 and "the catalog file is damaged" in result.stderr
    _no_traceback(result)


def test_an_engine_setting_duckdb_refuses_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = _project(tmp_path, "    settings:\n      memory_limit: banana\n")
    result = glueform("run", "-p", str(root))
    assert result.exit_code == 2
    assert "glueform.yml:7:21: engine setting memory_limit: 'banana' is refused" in result.stderr
    _no_traceback(result)


def test_an_unsupported_catalog_scheme_says_so_without_its_password(tmp_path: Path) -> None:
    root = _project(tmp_path, "    catalog: mysql://app:hunter2@db.internal/glue\n")
    for command in ("validate", "run"):
        result = glueform(command, "-p", str(root))
        assert result.exit_code == 2
        assert "glueform.yml:6:14" in result.stderr
        assert "unsupported catalog URL scheme 'mysql'" in result.stderr
        assert "hunter2" not in result.output
        _no_traceback(result)


def test_run_failures_exit_1_and_mistakes_exit_2() -> None:
    assert StaleVersionError("x").exit_code == 1
    assert LockHeldError("x").exit_code == 1
    assert LeaseLostError("x").exit_code == 1


def _unshare_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not _unshare_available(),
    reason="needs 'unshare -m' with mount rights (root or user namespaces) for a small tmpfs",
)


def _in_namespace(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a mount namespace of its own: its mounts vanish when it ends."""
    glueform_cmd = f"{shlex.quote(sys.executable)} -m glueform.cli.main"
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script.replace("GLUEFORM", glueform_cmd)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@needs_mounts
def test_a_full_disk_under_the_catalog_is_exit_2_and_loses_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path, state="state")
    (root / "state").mkdir()
    p = shlex.quote(str(root))
    done = _in_namespace(
        f"cd {p} && mount -t tmpfs -o size=400k tmpfs state && GLUEFORM run -p . >/dev/null"
        " && GLUEFORM catalog ls -p . --json > before.json"
        " && (dd if=/dev/zero of=state/filler bs=4k 2>/dev/null; true)"
        " && echo 'select 42 as x' > transforms/extra.sql"
        " && (GLUEFORM run -p . 2> full.err; echo $? > full.rc)"
        " && rm state/filler transforms/extra.sql"
        " && GLUEFORM catalog ls -p . --json > after.json"
    )
    assert done.returncode == 0, done.stderr
    assert (root / "full.rc").read_text().strip() == "2"
    err = (root / "full.err").read_text()
    assert "the disk under the catalog is full" in err and "Traceback" not in err
    assert (root / "before.json").read_text() == (root / "after.json").read_text()


@pytest.mark.slow
@needs_mounts
def test_a_read_only_catalog_is_exit_2(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert glueform("run", "-p", str(root)).exit_code == 0
    before = glueform_json("catalog", "ls", "-p", str(root))
    p = shlex.quote(str(root))
    done = _in_namespace(
        f"cd {p} && mount --bind .glueform .glueform && mount -o remount,ro,bind .glueform"
        " && echo 'select 42 as x' > transforms/extra.sql"
        " && (GLUEFORM run -p . 2> ro.err; echo $? > ro.rc) && rm transforms/extra.sql"
    )
    assert done.returncode == 0, done.stderr
    assert (root / "ro.rc").read_text().strip() == "2"
    err = (root / "ro.err").read_text()
    assert "the catalog cannot be written" in err and "Traceback" not in err
    assert glueform_json("catalog", "ls", "-p", str(root)) == before
