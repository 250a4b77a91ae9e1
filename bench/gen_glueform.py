#!/usr/bin/env python3
"""Render an anchor benchmark spec (spec.json) as a glueform project.

Input: an output folder written by the shared anchor generator
(``gen_anchor_projects.py --out CASE``), which holds ``CASE/spec.json`` and ``CASE/data/``.
Output: ``CASE/glueform/``, beside ``CASE/dbt/`` and ``CASE/raw/``::

    glueform/
      glueform.yml                 name from the spec; target dev (duckdb), 2 threads
      sources/anchor.yml           source `anchor`, one table per spec source (../data/<name>.parquet)
      transforms/<layer>/<model>.sql

The spec's placeholders become glueform Jinja: ``{{source:X}}`` -> ``{{ source('anchor', 'X') }}``
and ``{{ref:X}}`` -> ``{{ ref('X') }}``. Models keep the project default database (the project
name), so a ref renders as ``"<name>"."<model>"``.

Usage: python bench/gen_glueform.py CASE [CASE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

# The spec's placeholder syntax (documented in the anchor generator's docstring).
PLACEHOLDER_RE = re.compile(r"\{\{(source|ref):([a-z0-9_]+)\}\}")
SOURCE_NAME = "anchor"


def render_model_sql(sql: str) -> str:
    def sub(m: re.Match) -> str:
        kind, name = m.group(1), m.group(2)
        if kind == "source":
            return "{{ source('" + SOURCE_NAME + "', '" + name + "') }}"
        return "{{ ref('" + name + "') }}"

    return PLACEHOLDER_RE.sub(sub, sql)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def project_yml(spec: dict) -> str:
    return f"""# generated from {spec["name"]} (neutral spec v{spec["spec_version"]})
name: {spec["name"]}
dialect: duckdb
default_target: dev
targets:
  dev:
    engine: duckdb
    warehouse: warehouse
    state: .glueform
    threads: 2
transforms:
  defaults: {{materialized: table}}
"""


def sources_yml(spec: dict) -> str:
    lines = [
        "sources:",
        f"  - name: {SOURCE_NAME}",
        "    description: Anchor benchmark source tables (Parquet)",
        "    tables:",
    ]
    for s in spec["sources"]:
        name = s["name"]
        # spec paths are relative to the case folder (data/x.parquet); the project is one level down
        path = "../" + s.get("path", f"data/{name}.parquet")
        lines += [
            f"      - name: {name}",
            f"        path: {path}",
            f"        format: {s.get('format', 'parquet')}",
        ]
        if s.get("columns"):
            lines.append("        columns:")
            lines += [f"          - {{name: {c['name']}, type: {c['type']}}}" for c in s["columns"]]
    return "\n".join(lines) + "\n"


def write_glueform(case_dir: Path) -> Path:
    case_dir = Path(case_dir)
    spec = json.loads((case_dir / "spec.json").read_text(encoding="utf-8"))
    root = case_dir / "glueform"
    shutil.rmtree(root, ignore_errors=True)
    _write(root / "glueform.yml", project_yml(spec))
    _write(root / "sources" / f"{SOURCE_NAME}.yml", sources_yml(spec))
    for m in spec["models"]:
        _write(
            root / "transforms" / m["layer"] / f"{m['name']}.sql", render_model_sql(m["sql"]) + "\n"
        )
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Render an anchor spec.json as a glueform project.")
    ap.add_argument("cases", nargs="+", help="folder(s) holding spec.json and data/")
    args = ap.parse_args(argv)
    for case in args.cases:
        root = write_glueform(Path(case))
        n = sum(1 for _ in (root / "transforms").rglob("*.sql"))
        print(f"{root}: {n} models", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
