"""The package's layout: what the wheel ships matches the folders, and the layers import only
downward (files -> Project -> Graph -> Plan -> Engine + Catalog)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "glueform").rglob("__init__.py")
    }
    mapped = set(config["package-dir"])
    assert set(config["packages"]) == folders | mapped
    for package, folder in config["package-dir"].items():
        assert (ROOT / folder / "__init__.py").is_file(), package


def test_templates_and_schemas_are_found_as_package_resources() -> None:
    from importlib import resources

    assert (resources.files("glueform.schemas") / "project.schema.json").is_file()
    assert (resources.files("glueform.templates") / "init" / "glueform.yml").is_file()


# Each layer may import itself and the layers named after it, never one above it.
LAYERS = {
    "errors": set(),
    "secrets": set(),
    "fingerprint": set(),
    "project": {"errors", "secrets", "fingerprint"},
    "sql": {"fingerprint", "errors", "secrets"},
    # transforms/ spans the stages: compile.py reads a transform's file, runtime.py runs it
    "compile": {"fingerprint", "errors", "secrets", "project", "sql", "transforms"},
    "catalog": {"fingerprint", "errors", "secrets", "project", "sql", "compile"},
    "plan": {"fingerprint", "errors", "secrets", "project", "sql", "compile", "catalog"},
    "engines": {
        "fingerprint",
        "errors",
        "secrets",
        "project",
        "sql",
        "compile",
        "catalog",
        "transforms",
        "crawl",
    },
    "build": {
        "fingerprint",
        "errors",
        "secrets",
        "project",
        "sql",
        "compile",
        "catalog",
        "plan",
        "engines",
    },
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("glueform."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("glueform.")}
    return found


def test_layers_import_only_downward() -> None:
    wrong = []
    for layer, allowed in LAYERS.items():
        package = ROOT / "glueform" / layer
        files = list(package.rglob("*.py")) if package.is_dir() else [package.with_suffix(".py")]
        for file in files:
            above = _imports(file) - allowed - {layer}
            if above:
                wrong.append(f"{file.relative_to(ROOT)} imports {sorted(above)}")
    assert wrong == []


def test_nothing_imports_the_cli() -> None:
    offenders = [
        str(f.relative_to(ROOT))
        for f in (ROOT / "glueform").rglob("*.py")
        if "cli" not in f.relative_to(ROOT / "glueform").parts and "cli" in _imports(f)
    ]
    assert offenders == []
