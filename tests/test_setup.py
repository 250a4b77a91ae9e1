"""A fresh machine: the pins that keep `pip install -e '.[dev]'` from swapping DuckDB, and the
servers the tests start themselves when none answers."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENSIONS = ("duckdb-extension-avro", "duckdb-extension-httpfs")


def _pins() -> dict[str, str]:
    """Every `name==version` requirement of the project and its extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += extra
    pins: dict[str, str] = {}
    for requirement in requirements:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*])?\s*(.*)", requirement)
        assert found, requirement
        name, spec = found.groups()
        if name.startswith("duckdb"):
            assert spec.startswith("=="), (
                f"{requirement}: DuckDB and its extensions pin one version"
            )
            assert pins.setdefault(name, spec[2:]) == spec[2:], requirement
    return pins


def test_duckdb_and_its_extension_wheels_are_pinned_to_one_version() -> None:
    pins = _pins()
    assert set(pins) == {"duckdb", *EXTENSIONS}
    assert len(set(pins.values())) == 1, pins


def test_the_installed_duckdb_is_the_pinned_one_and_the_extensions_match_it() -> None:
    import duckdb

    pinned = _pins()["duckdb"]
    assert duckdb.__version__ == metadata.version("duckdb") == pinned
    for extension in EXTENSIONS:
        assert metadata.version(extension) == pinned, extension
        required = [r for r in metadata.requires(extension) or [] if r.startswith("duckdb")]
        assert required == [f"duckdb=={pinned}"], (extension, required)


def test_the_postgresql_server_takes_a_catalog(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            assert conn.execute(text("select current_database()")).scalar() == "test"
    finally:
        engine.dispose()


def test_a_missing_browser_names_its_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import services

    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("GLUEFORM_TEST_CHROMIUM", raising=False)
    service = services.chromium()
    assert service.url is None and "apt-get install chromium" in service.origin
