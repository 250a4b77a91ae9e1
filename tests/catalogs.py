"""A catalog URL on SQLite or PostgreSQL for a test: the same test runs on both stores.

PostgreSQL gets a schema of its own per use (other suites share the database), dropped after.
Set GLUEFORM_TEST_POSTGRES to the server's URL (a database the tests may create schemas in).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_SERVER = os.environ.get("GLUEFORM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
KINDS = ["sqlite", "postgresql"]


@contextmanager
def catalog_url(kind: str, folder: Path) -> Iterator[str]:
    """A URL of an empty catalog: a SQLite file in ``folder``, or a fresh PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'catalog.db'}"
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_SERVER.replace("postgresql://", "postgresql+psycopg://"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
    except Exception as exc:  # no server: the PostgreSQL half cannot run here
        engine.dispose()
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}: {type(exc).__name__}")
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        engine.dispose()
