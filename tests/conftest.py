"""Test helpers: tiny projects written from dicts, and the CLI run in-process."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import services
from click.testing import CliRunner, Result

from glueform.cli.main import cli

BASIC_CONFIG = """\
name: shop
targets:
  dev:
    engine: duckdb
    threads: 2
vars:
  min_amount: 10
transforms:
  folders:
    staging: {materialized: view, tags: [staging]}
"""

ORDERS_CSV = "order_id,customer_id,amount\n1,1,5\n2,1,20\n3,2,30\n4,3,40\n"
CUSTOMERS_NDJSON = '{"customer_id": 1, "name": "ada"}\n{"customer_id": 2, "name": "grace"}\n{"customer_id": 3, "name": "linus"}\n'

SOURCES = """\
sources:
  - name: raw
    tables:
      - name: orders
        path: data/orders.csv
      - name: customers
        path: data/customers.ndjson
"""

BASIC_MODELS = {
    "transforms/staging/stg_orders.sql": "select order_id, customer_id, amount from {{ source('raw', 'orders') }} where amount >= {{ var('min_amount') }}\n",
    "transforms/staging/stg_customers.sql": "select customer_id, name from {{ source('raw', 'customers') }}\n",
    "transforms/marts/customer_totals.sql": (
        "{{ config(materialized='table', tags=['nightly']) }}\n"
        "select c.name, sum(o.amount) as total\n"
        "from {{ ref('stg_orders') }} o\n"
        "join {{ ref('stg_customers') }} c using (customer_id)\n"
        "group by c.name\n"
    ),
}


def write_project(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text) under ``root`` and return ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content) if content.startswith("\n") else content)
    return root


def basic_files() -> dict[str, str]:
    """A small valid shop project: two sources, two staging views, one mart."""
    return {
        "glueform.yml": BASIC_CONFIG,
        "sources/raw.yml": SOURCES,
        "data/orders.csv": ORDERS_CSV,
        "data/customers.ndjson": CUSTOMERS_NDJSON,
        **BASIC_MODELS,
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", basic_files())


def glueform(*args: str) -> Result:
    """Run the CLI in-process, like a shell session."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def glueform_json(*args: str) -> Any:
    result = glueform(*args, "--json")
    return json.loads(result.stdout)


def query(sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A local moto server (S3 and the Glue API over their real wire protocols), per module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server._server.server_port}"  # type: ignore[attr-defined]
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and a region for boto3 against moto (never a real account)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)


# -- servers: running ones when they answer, else started for the session (tests/services.py) ----

SERVICES = pytest.StashKey[dict[str, services.Service]]()


def _note(config: pytest.Config, service: services.Service) -> services.Service:
    config.stash.setdefault(SERVICES, {})[service.name] = service
    return service


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say which servers the tests used, and what to install for the ones that were missing."""
    used = config.stash.get(SERVICES, {})
    if used:
        terminalreporter.section("servers")
        for service in used.values():
            mark = "" if service.url else "SKIPPED, "
            terminalreporter.write_line(f"{service.name}: {mark}{service.origin}")


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL server's URL with a `test` database and trust auth (see tests/services.py)."""
    with services.postgres() as service:
        _note(request.config, service)
        if service.url is None:
            pytest.skip(f"PostgreSQL {service.origin}")
        yield service.url


@pytest.fixture
def fresh_postgres(postgres_url: str) -> str:
    """The PostgreSQL URL, with no catalog tables left by an earlier test."""
    from sqlalchemy import create_engine

    from glueform.catalog import schema as catalog_schema

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    catalog_schema.metadata.drop_all(engine)
    engine.dispose()
    return postgres_url


@pytest.fixture(scope="session")
def mariadb_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A MariaDB server's SQLAlchemy URL (root, no password) with a `test` database."""
    with services.mariadb() as service:
        _note(request.config, service)
        if service.url is None:
            pytest.skip(f"MariaDB {service.origin}")
        yield service.url


@pytest.fixture(scope="session")
def chromium_path(request: pytest.FixtureRequest) -> str:
    service = _note(request.config, services.chromium())
    if service.url is None:
        pytest.skip(f"Chromium {service.origin}")
    return service.url
