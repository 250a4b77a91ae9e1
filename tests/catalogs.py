"""A catalog URL on SQLite or PostgreSQL for a test: the same test runs on both stores.

PostgreSQL gets a schema of its own per use (other suites share the database), dropped after.
The server is the session's (conftest's `postgres_url`: a running one, else one started for the
tests); tests take the `catalog_url` fixture, which passes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KINDS = ["sqlite", "postgresql"]


@contextmanager
def catalog_url(kind: str, folder: Path, server: str | None = None) -> Iterator[str]:
    """A URL of an empty catalog: a SQLite file in ``folder``, or a fresh PostgreSQL schema on
    ``server`` (the session's PostgreSQL URL)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'catalog.db'}"
        return
    assert server, "the PostgreSQL half takes the session's server: use the catalog_url fixture"
    from sqlalchemy import create_engine, text

    engine = create_engine(server.replace("postgresql://", "postgresql+psycopg://"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        engine.dispose()
