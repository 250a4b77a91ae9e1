"""The desired state of the catalog: what the project says its tables should be.

Sources become EXTERNAL tables as declared; a model's table gets the columns it had when its
fingerprint is unchanged, or the columns sqlglot infers from its SQL when it would be rebuilt
(so a plan can show column-level changes before anything runs).
"""

from __future__ import annotations

import glob
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from glueform.catalog.model import (
    EXTERNAL_TABLE,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    CatalogTable,
    ColumnDef,
    Partition,
)
from glueform.compile.dag import Graph, input_schema
from glueform.project.model import SourceTable

SOURCE_MARK = (
    "glueform_source"  # parameter on EXTERNAL tables that glueform declared (and may delete)
)


def source_table(table: SourceTable) -> CatalogTable:
    return CatalogTable(
        database=table.source,
        name=table.name,
        table_type=EXTERNAL_TABLE,
        columns=tuple(ColumnDef(c.name, c.type or "", c.description) for c in table.columns),
        partition_keys=tuple(
            ColumnDef(c.name, c.type or "", c.description) for c in table.partition_keys
        ),
        location=table.path,
        format=table.format,
        options=dict(table.options),
        parameters={"classification": table.format, SOURCE_MARK: "true"},
        description=table.description,
    )


def source_partitions(table: SourceTable) -> list[Partition]:
    """The Hive-style partition folders under a local source's files, with their bytes."""
    if not table.partition_keys or "://" in table.path:
        return []
    keys = [c.name for c in table.partition_keys]
    folders: dict[tuple[str, ...], list[Any]] = {}
    for file in glob.glob(table.path, recursive=True):
        parts = dict(p.split("=", 1) for p in Path(file).parent.parts if "=" in p)
        if all(k in parts for k in keys):
            values = tuple(unquote(parts[k]) for k in keys)
            entry = folders.setdefault(values, [str(Path(file).parent), 0])
            entry[1] += Path(file).stat().st_size
    return [Partition(v, location, None, size) for v, (location, size) in sorted(folders.items())]


def model_columns(
    graph: Graph, rebuilt: Collection[str], actual: Mapping[tuple[str, str], CatalogTable]
) -> dict[str, tuple[ColumnDef, ...] | None]:
    """Each model's columns: as built when unchanged, as inferred when it would be rebuilt.
    The docs show these too, so a page before the first run says what ``plan`` says."""
    from glueform.sql import infer_columns, stored_types

    schema: dict[str, dict[str, dict[str, str]]] = {}

    def add(database: str, name: str, columns: tuple[ColumnDef, ...] | None) -> None:
        if columns and all(c.type for c in columns):
            schema.setdefault(database, {})[name] = {c.name: c.type for c in columns}

    for table in graph.sources.values():
        declared = tuple(ColumnDef(c.name, c.type or "") for c in table.columns)
        current = actual.get((table.source, table.name))
        add(table.source, table.name, declared or (current.columns if current else None))
    out: dict[str, tuple[ColumnDef, ...] | None] = {}
    for name in graph.topological():
        node = graph.nodes[name]
        current = actual.get((node.database, name))
        if name in rebuilt or current is None:
            inferred = infer_columns(node.sql, graph.dialect, input_schema(graph, name, schema))
            columns = tuple(ColumnDef(n, t) for n, t in inferred) if inferred else None
            if columns and node.materialized != "view":  # as the engine will write them
                pairs = [(c.name, c.type) for c in columns]
                stored = stored_types(pairs, node.declared_types, graph.dialect)
                columns = tuple(ColumnDef(name, type_) for name, type_ in stored.items())
        else:
            columns = current.columns
        out[name] = columns
        add(node.database, name, columns)
    return out


def known_schema(
    graph: Graph, actual: Mapping[tuple[str, str], CatalogTable]
) -> dict[str, dict[str, dict[str, str]]]:
    """Every source's and model's columns as known without running anything (as built, else
    declared or inferred): what the typed rewrites for another engine need to show the SQL
    that will run there."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for table in graph.sources.values():
        declared = {c.name: c.type for c in table.columns if c.type}
        current = actual.get((table.source, table.name))
        columns = declared or ({c.name: c.type for c in current.columns} if current else {})
        if columns and all(columns.values()):
            schema.setdefault(table.source, {})[table.name] = columns
    for name, model in model_columns(graph, (), actual).items():
        if model and all(c.type for c in model):
            schema.setdefault(graph.nodes[name].database, {})[name] = {
                c.name: c.type for c in model
            }
    return schema


def table_type(materialized: str) -> str:
    return VIRTUAL_VIEW if materialized == "view" else MANAGED_TABLE
