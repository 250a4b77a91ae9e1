"""The JSON Schemas as an editor uses them: standalone files whose $refs resolve offline, that
accept every YAML file of the example project and of `glueform init`'s scaffold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import glueform

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"


def _offline_registry() -> Any:
    """Every schema file by its name; anything else asked for is an error (never a download)."""
    from referencing import Registry, Resource
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str) -> Resource:
        raise NoSuchResource(ref=uri)

    resources = [
        (p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.json")
    ]
    return Registry(retrieve=refuse).with_resources(resources)  # type: ignore[call-arg]


def _kind(rel: Path) -> str | None:
    from glueform.scaffold import SCHEMA_BY_FOLDER

    if rel.suffix not in (".yml", ".yaml"):
        return None
    return "project" if rel.parts == ("glueform.yml",) else SCHEMA_BY_FOLDER.get(rel.parts[0])


def _check_project(root: Path) -> list[str]:
    from jsonschema import Draft202012Validator

    registry = _offline_registry()
    checked = []
    for path in sorted(root.rglob("*.y*ml")):
        rel = path.relative_to(root)
        kind = _kind(rel)
        if kind is None or rel.parts[0] in ("target", "warehouse", "data"):
            continue
        schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
        validator = Draft202012Validator(schema, registry=registry)
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], (str(rel), errors)
        checked.append(rel.as_posix())
    return checked


def test_the_schemas_carry_no_url_to_fetch_and_refer_only_to_each_other() -> None:
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        assert "$id" not in schema, path.name
        refs = [r for r in _refs(schema) if not r.startswith("#")]
        for ref in refs:
            assert (SCHEMAS / ref.split("#")[0]).is_file(), (path.name, ref)


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_every_example_file_is_valid_against_its_schema_offline() -> None:
    checked = _check_project(ROOT / "example_project")
    assert {"glueform.yml", "sources/shop.yml", "jobs/nightly.yml", "crawlers/landing.yml"} <= set(
        checked
    )
    assert any(c.startswith("transforms/") for c in checked)


def test_init_writes_a_schema_line_an_editor_resolves_offline(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert glueform("init", str(root)).exit_code == 0
    checked = _check_project(root)
    assert "glueform.yml" in checked and "sources/raw.yml" in checked
    for rel in checked:
        first = (root / rel).read_text().splitlines()[0]
        prefix = "# yaml-language-server: $schema=file://"
        assert first.startswith(prefix), rel
        schema = Path(first[len(prefix) :])
        assert schema.is_file() and schema.name == f"{_kind(Path(rel))}.schema.json"
    assert glueform("validate", "-p", str(root)).exit_code == 0


@pytest.mark.parametrize("kind", ["project", "sources", "transforms", "jobs", "crawlers"])
def test_a_schema_refuses_an_unknown_key(kind: str) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    validator = Draft202012Validator(schema, registry=_offline_registry())
    assert list(validator.iter_errors({"name": "x", "no_such_key": 1}))
