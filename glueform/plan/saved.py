"""Saved plans (``plan --out``): what ``apply`` executes, and the checks that refuse a stale one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glueform.errors import SourceLocation, UserError
from glueform.plan.builder import Plan, TableChange

FORMAT = 1


@dataclass(frozen=True)
class SavedPlan:
    project: str
    target: str
    project_key: str  # digest of every input file and var: the project as planned
    catalog_serial: str  # the catalog as planned
    to_build: tuple[str, ...]
    tables: tuple[TableChange, ...]


def write_plan(
    path: Path, plan: Plan, project: str, target: str, project_key: str, serial: str
) -> None:
    document = {
        "format": FORMAT,
        "project": project,
        "target": target,
        "project_key": project_key,
        "catalog_serial": serial,
        **plan.to_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def read_plan(path: Path) -> SavedPlan:
    where = SourceLocation(path, 1, 1)
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            raise ValueError("unknown plan format")
        return SavedPlan(
            project=document["project"],
            target=document["target"],
            project_key=document["project_key"],
            catalog_serial=document["catalog_serial"],
            to_build=tuple(c["name"] for c in document["changes"] if c["action"] == "build"),
            tables=tuple(
                TableChange(**{k: tuple(v) if isinstance(v, list) else v for k, v in t.items()})
                for t in document["tables"]
            ),
        )
    except FileNotFoundError:
        raise UserError(
            f"no plan file {path}", hint="write one with 'glueform plan --out FILE'"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(
            f"{path} is not a glueform plan ({exc})",
            where,
            hint="write one with 'glueform plan --out FILE'",
        ) from None


def check_plan(
    saved: SavedPlan, path: Path, project: str, target: str, project_key: str, serial: str
) -> None:
    """Refuse a plan made for another project or target, or before the project or catalog changed."""
    where = SourceLocation(path, 1, 1)
    if saved.project != project or saved.target != target:
        raise UserError(
            f"the plan is for project '{saved.project}', target '{saved.target}'; this is '{project}', '{target}'",
            where,
            hint="apply it in its own project, or plan again here",
        )
    if saved.project_key != project_key:
        raise UserError(
            "the project changed since the plan was made",
            where,
            hint="plan again: glueform plan --out FILE",
        )
    if saved.catalog_serial != serial:
        raise UserError(
            "the catalog changed since the plan was made (a run or apply happened)",
            where,
            hint="plan again: glueform plan --out FILE",
        )
