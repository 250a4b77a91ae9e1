"""A catalog URL on SQLite or PostgreSQL for a test: the same test runs on both stores.

PostgreSQL (the session's server, see ``postgres_url`` in conftest.py) gets a schema of its own
per use, dropped after: other tests and suites share its database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

KINDS = ["sqlite", "postgresql"]


@contextmanager
def catalog_url(kind: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL of an empty catalog: a SQLite file in ``folder``, or a fresh PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'catalog.db'}"
        return
    from sqlalchemy import create_engine, text

    server = str(request.getfixturevalue("postgres_url")).split("?", 1)[0]
    engine = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        engine.dispose()
