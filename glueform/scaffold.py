"""``glueform init``: copy the scaffold shipped in ``templates/init`` into a new folder."""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from glueform.errors import UserError

NAME_PLACEHOLDER = "__PROJECT_NAME__"
# the schema of each kind of YAML file, by its first folder (glueform.yml: the project's)
SCHEMA_BY_FOLDER = {
    "sources": "sources",
    "transforms": "transforms",
    "jobs": "jobs",
    "crawlers": "crawlers",
}


def schema_line(rel: Path) -> str | None:
    """The ``# yaml-language-server: $schema=...`` line for a project file (None: not YAML),
    pointing at the installed schema files, so an editor checks and completes it offline."""
    if rel.suffix not in (".yml", ".yaml"):
        return None
    kind = "project" if rel.parts == ("glueform.yml",) else SCHEMA_BY_FOLDER.get(rel.parts[0])
    if kind is None:
        return None
    schema = Path(str(resources.files("glueform.schemas") / f"{kind}.schema.json")).resolve()
    return f"# yaml-language-server: $schema={schema.as_uri()}"


def create_project(directory: Path, name: str | None = None) -> list[Path]:
    """Write the scaffold into ``directory``; refuse to overwrite an existing project."""
    if (directory / "glueform.yml").exists():
        raise UserError(
            f"{directory} already holds a glueform project", hint="choose an empty folder"
        )
    name = name or re.sub(r"\W+", "_", directory.resolve().name).strip("_").lower() or "my_project"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UserError(
            f"'{name}' is not a valid project name", hint="use --name with letters, digits and _"
        )
    written: list[Path] = []
    _copy(resources.files("glueform.templates") / "init", directory, name, written)
    for path in written:
        line = schema_line(path.relative_to(directory))
        if line is not None:
            path.write_text(f"{line}\n{path.read_text(encoding='utf-8')}", encoding="utf-8")
    return written


def _copy(src: Traversable, dest: Path, name: str, written: list[Path]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir(), key=lambda t: t.name):
        if item.name == "__pycache__":
            continue
        target = dest / item.name.replace("dot.", ".")
        if item.is_dir():
            _copy(item, target, name, written)
        elif item.name.endswith((".parquet",)):
            target.write_bytes(item.read_bytes())
            written.append(target)
        else:
            target.write_text(
                item.read_text(encoding="utf-8").replace(NAME_PLACEHOLDER, name), encoding="utf-8"
            )
            written.append(target)
