"""Catalog locks as leases: a lock row names its holder (host, pid, a token) and lasts until its
expiry, which a heartbeat thread pushes forward while the holder lives.

A holder killed on another host (a container, a CI runner) stops renewing; once its lease has
expired any process takes the lock over. On the holder's own host a lock whose pid is gone is
taken over at once. A holder that lost its lease (it stalled past the expiry and was taken
over) learns it at its next commit, which renews the lease in the commit's own transaction.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from glueform.catalog import schema as s

# How often a waiting process looks at the lock again.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Lease:
    """One lock row as read: who holds it, since when, renewed when, valid until when."""

    name: str
    host: str
    pid: int
    since: float
    heartbeat_at: float
    expires_at: float
    token: str

    def state(self, now: float) -> str:
        """``held``; ``expired`` (no heartbeat within the lease); ``dead`` (its pid is gone
        from this host). An expired or dead lease is taken over by the next process asking."""
        if self.host == socket.gethostname() and not pid_alive(self.pid):
            return "dead"
        return "expired" if self.expires_at < now else "held"

    def to_dict(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name, "host": self.host, "pid": self.pid, "since": self.since,
            "heartbeat_at": self.heartbeat_at, "expires_at": self.expires_at,
            "state": self.state(now),
        }  # fmt: skip


@dataclass(frozen=True)
class Held:
    """A lease this process holds: its name, its token and its length in seconds."""

    name: str
    token: str
    seconds: float


def try_acquire(engine: Engine, name: str, seconds: float) -> Held | Lease:
    """Take ``name`` (over from an expired or dead holder too): the :class:`Held` lease, or the
    live :class:`Lease` of whoever holds it."""
    host, pid = socket.gethostname(), os.getpid()
    for _attempt in range(3):
        now = time.time()
        token = uuid.uuid4().hex
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(s.locks).values(
                        name=name, host=host, pid=pid, since=now, heartbeat_at=now,
                        expires_at=now + seconds, token=token,
                    )
                )  # fmt: skip
            return Held(name, token, seconds)
        except IntegrityError:
            holder = read(engine, name)
            if holder is None:
                continue  # released meanwhile
            if holder.state(time.time()) == "held":
                return holder
            with engine.begin() as conn:  # only that holder's row: a racing taker wins once
                conn.execute(
                    s.locks.delete().where(s.locks.c.name == name, s.locks.c.token == holder.token)
                )
    holder = read(engine, name)
    assert holder is not None, "a lock row that comes and goes three times"
    return holder


def renew(conn: Any, held: Held, now: float) -> bool:
    """Push ``held``'s expiry forward inside ``conn``'s transaction; False if it is no longer ours."""
    result = conn.execute(
        update(s.locks)
        .where(s.locks.c.name == held.name, s.locks.c.token == held.token)
        .values(heartbeat_at=now, expires_at=now + held.seconds)
    )
    return bool(result.rowcount == 1)


def release(engine: Engine, held: Held) -> None:
    with engine.begin() as conn:
        conn.execute(
            s.locks.delete().where(s.locks.c.name == held.name, s.locks.c.token == held.token)
        )


def read(engine: Engine, name: str | None = None) -> Lease | None:
    found = read_all(engine, name)
    return found[0] if found else None


def read_all(engine: Engine, name: str | None = None) -> list[Lease]:
    query = select(s.locks).order_by(s.locks.c.name)
    if name is not None:
        query = query.where(s.locks.c.name == name)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        Lease(r["name"], r["host"], r["pid"], r["since"], r["heartbeat_at"], r["expires_at"], r["token"])
        for r in rows
    ]  # fmt: skip


def force_release(engine: Engine, name: str) -> bool:
    """Remove ``name``'s lock whoever holds it (``glueform catalog unlock``)."""
    with engine.begin() as conn:
        return bool(conn.execute(s.locks.delete().where(s.locks.c.name == name)).rowcount)


class Heartbeat:
    """Renews a lease every third of its length until stopped; ``lost`` is set if it was taken
    over. A failed renewal (the catalog briefly unreachable) is tried again at the next beat."""

    def __init__(self, engine: Engine, held: Held) -> None:
        self.engine, self.held = engine, held
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"glueform-lease-{held.name}", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.held.seconds / 3):
            try:
                with self.engine.begin() as conn:
                    if not renew(conn, self.held, time.time()):
                        self.lost.set()
                        return
            except Exception:  # noqa: BLE001 - the next beat (or the commit) tries again
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_alive(leases: list[Lease], host: str | None, pid: int | None, now: float) -> bool:
    """Is the process that wrote a record (``host``, ``pid``) alive? On this host: its pid
    exists. On another host: it holds an unexpired lease (every run and job run holds one).
    A record without a holder (written before leases) counts as alive: nothing is known."""
    if host is None or pid is None:
        return True
    if host == socket.gethostname():
        return pid_alive(pid)
    return any(x.host == host and x.pid == pid and x.expires_at >= now for x in leases)


def mark_dead_runs(engine: Engine, now: float) -> list[str]:
    """Transform runs left ``running`` by a process that died end as ``error``; returns their ids.
    Cheap when nothing runs: one query."""
    r = s.runs
    with engine.connect() as conn:
        running = conn.execute(
            select(r.c.id, r.c.host, r.c.pid).where(r.c.status == "running")
        ).all()
    if not running:
        return []
    leases = read_all(engine)
    dead = [x.id for x in running if not holder_alive(leases, x.host, x.pid, now)]
    if dead:
        with engine.begin() as conn:
            conn.execute(
                update(r)
                .where(r.c.id.in_(dead), r.c.status == "running")
                .values(status="error", finished_at=now)
            )
    return dead
