"""Column-level lineage of a whole project: for each model's output column, the upstream columns
that feed it, and the source columns it comes from in the end.

Models are analysed in build order, so each one is qualified against the columns its upstream
models were found to have. Their types are the ones ``plan`` shows (plan.desired.model_columns):
the catalog's when it knows the table (a column added since the last build shows no type until
the next one), else the types the engine will store, as sqlglot infers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from glueform.catalog.model import CatalogTable
from glueform.compile.dag import Graph, input_schema
from glueform.plan.desired import model_columns
from glueform.sql import ColumnRef, column_lineage

UNKNOWN = "UNKNOWN"  # a type sqlglot accepts in a schema when the real one is not known


@dataclass(frozen=True)
class ModelColumns:
    """What the docs know of one model's output: its columns and where each comes from."""

    columns: tuple[tuple[str, str], ...]  # (name, type); type "" when unknown
    upstream: Mapping[str, tuple[ColumnRef, ...]]  # direct: columns of the tables it reads
    origins: Mapping[str, tuple[ColumnRef, ...]]  # transitive: the source columns in the end
    known: bool = True  # False: sqlglot could not analyse the SQL


def project_lineage(
    graph: Graph, catalog: Mapping[tuple[str, str], CatalogTable]
) -> dict[str, ModelColumns]:
    """Every model's columns and column lineage, in one pass over the build order."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    source_keys: set[tuple[str, str]] = set()
    for table in graph.sources.values():
        columns = [(c.name, c.type or "") for c in table.columns]
        current = catalog.get((table.source, table.name))
        if not columns and current is not None:
            columns = [(c.name, c.type) for c in current.columns]
        _add(schema, table.source, table.name, columns)
        source_keys.add((table.source, table.name))
    out: dict[str, ModelColumns] = {}
    origins_by_table: dict[tuple[str, str], Mapping[str, tuple[ColumnRef, ...]]] = {}
    desired = model_columns(graph, (), catalog)  # the types `plan` shows, inferred once
    for name in graph.topological():
        node = graph.nodes[name]
        types = {c.name: c.type for c in desired[name] or ()}
        reads = input_schema(graph, name, schema)
        result = (  # a Python transform's columns are known once built; its lineage is not
            None
            if node.language == "python"
            else column_lineage(node.sql, graph.dialect, reads, infer_types=False)
        )
        if result is None:
            columns = tuple(types.items()) or tuple((c.name, c.type or "") for c in node.columns)
            out[name] = ModelColumns(columns, {}, {}, known=False)
        else:
            columns = tuple((c, types.get(c, "")) for c, _ in result.columns)
            origins = {
                col: _origins(refs, source_keys, origins_by_table)
                for col, refs in result.lineage.items()
            }
            out[name] = ModelColumns(columns, result.lineage, origins)
            origins_by_table[(node.database, name)] = origins
        _add(schema, node.database, name, list(columns))
    return out


def _origins(
    refs: tuple[ColumnRef, ...],
    source_keys: set[tuple[str, str]],
    origins_by_table: Mapping[tuple[str, str], Mapping[str, tuple[ColumnRef, ...]]],
) -> tuple[ColumnRef, ...]:
    """Follow direct upstream columns through models down to source columns (already known for
    every upstream model, since models are visited in build order)."""
    found: dict[ColumnRef, None] = {}
    for ref in refs:
        key = (ref.db, ref.table)
        if key in source_keys:
            found[ref] = None
        else:
            found.update(dict.fromkeys(origins_by_table.get(key, {}).get(ref.column, ())))
    return tuple(sorted(found, key=lambda r: (r.db, r.table, r.column)))


def _add(
    schema: dict[str, dict[str, dict[str, str]]],
    database: str,
    name: str,
    columns: list[tuple[str, str]],
) -> None:
    if columns:
        schema.setdefault(database, {})[name] = {c: t or UNKNOWN for c, t in columns}
