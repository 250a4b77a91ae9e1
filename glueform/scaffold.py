"""``glueform init``: copy the scaffold shipped in ``templates/init`` into a new folder."""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from glueform.errors import UserError

NAME_PLACEHOLDER = "__PROJECT_NAME__"


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
