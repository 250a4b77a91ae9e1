"""The docs site's data: one JSON-able document built from the Project, its Graph and the catalog.

The page renders only from this document, so its shape is the contract between Python and
``templates/docs/docs.js``. Tables are keyed ``database.name``, for sources (``raw.orders``) and
models (``marts.fct_orders``) alike. Object kinds that only some projects have (crawlers, jobs)
go in ``sections``: each is a list of items rendered by one generic page, and a kind appears in
the site only when the project has some; adding one is a function in ``SECTIONS``.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glueform import __version__
from glueform.catalog.model import (
    MANAGED_TABLE,
    CatalogTable,
    NodeState,
    Partition,
    TableVersion,
)
from glueform.compile.compiler import known_inputs, sql_for
from glueform.compile.dag import Graph, Node, source_relation
from glueform.docs.lineage import ModelColumns, project_lineage
from glueform.docs.runs import node_runs_by_node, run_summaries
from glueform.plan.desired import known_schema, table_type
from glueform.project.model import Column, Project, SourceTable, Target
from glueform.secrets import Secrets, mask_url
from glueform.sql import ColumnRef, Schema

DOC_FORMAT = 1  # bumped when the document's shape changes incompatibly
MAX_PARTITIONS = 200  # per table in the page; the count is always exact
MAX_VERSIONS = 20
MAX_NODE_RUNS = 10  # per table

TableKey = tuple[str, str]


@dataclass(frozen=True)
class CatalogSnapshot:
    """What the docs read from the catalog, read once (an empty one when nothing has run yet)."""

    tables: Mapping[TableKey, CatalogTable] = field(default_factory=dict)
    versions: Mapping[TableKey, Sequence[TableVersion]] = field(default_factory=dict)
    partitions: Mapping[TableKey, Sequence[Partition]] = field(default_factory=dict)
    states: Mapping[str, NodeState] = field(default_factory=dict)
    runs: Sequence[Mapping[str, Any]] = ()
    node_runs: Sequence[Mapping[str, Any]] = ()
    crawls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # that made versions

    @classmethod
    def read(cls, store: Any, runs: int = 30) -> CatalogSnapshot:
        """Tables, their versions and partitions, build states, the latest ``runs`` runs and
        the crawls that made the versions shown."""
        from glueform.catalog.crawls import crawls_by_id

        tables = {(t.database, t.name): t for t in store.tables()}
        recent = store.runs(limit=runs)
        versions = {k: store.table_versions(*k)[:MAX_VERSIONS] for k in tables}
        made_by = {v.run_id for vs in versions.values() for v in vs if v.run_id}
        return cls(
            tables=tables,
            versions=versions,
            crawls=crawls_by_id(store, made_by),
            partitions={k: store.partitions(*k) for k, t in tables.items() if t.partition_keys},
            states=store.node_states(),
            runs=recent,
            node_runs=store.node_runs([r["id"] for r in recent]) if recent else [],
        )


def build_docs(
    project: Project,
    graph: Graph,
    target: Target,
    catalog: CatalogSnapshot,
    dialects: Sequence[str],
    secrets: Secrets | None = None,
) -> dict[str, Any]:
    """The whole site as one document (see the module docstring), with every secret masked:
    the site is meant for a static host (``secrets``: the workspace's, see glueform.secrets)."""
    secrets = secrets if secrets is not None else Secrets.from_environ(os.environ)
    lineage = project_lineage(graph, catalog.tables)
    node_runs = node_runs_by_node(catalog.runs, catalog.node_runs)
    tables: dict[str, dict[str, Any]] = {}
    known = known_schema(graph, catalog.tables)  # the SQL shown is the typed SQL that runs
    for source in graph.sources.values():
        key = (source.source, source.name)
        tables[_id(key)] = _source_table(source, catalog, key, project.root)
    for name in graph.topological():
        node = graph.nodes[name]
        key = (node.database, name)
        entry = _model_table(project, graph, node, lineage[name], catalog, key, dialects, known)
        entry["runs"] = node_runs.get(name, [])[:MAX_NODE_RUNS]
        tables[_id(key)] = entry
    for key, table in catalog.tables.items():  # in the catalog only (dropped models, crawled)
        tables.setdefault(_id(key), _catalog_only_table(table, catalog, key))
    _link_lineage(graph, tables)
    databases = _databases(tables, project.database)
    document = {
        "format": DOC_FORMAT,
        "glueform_version": __version__,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "project": {
            "name": project.name,
            "dialect": project.dialect,
            "database": project.database,
            "target": target.name,
            "engine": target.engine,
            "dialects": list(dialects),
            "models": len(graph.nodes),
            "sources": len(graph.sources),
            "tags": sorted({t for n in graph.nodes.values() for t in n.tags}),
        },
        "databases": databases,
        "tables": list(tables.values()),
        "runs": run_summaries(catalog.runs, catalog.node_runs),
        "crawls": [_crawl(c) for c in catalog.crawls.values()],
        "sections": [
            s for s in (collect(project, graph, catalog) for collect in SECTIONS) if s["items"]
        ],
    }
    return secrets.redact_data(document)  # type: ignore[no-any-return]


# Object kinds some projects have. Each is a function (project, graph, catalog) returning
# {"id": "crawlers", "title": "Crawlers", "items": [...]}, where an item is
#   {"name", "description", "properties": {label: value}, "tables": [table ids it reads or
#    writes], "triggers": [{"type": "schedule", "schedule": "cron(0 3 * * ? *)"}, ...]}
# The site lists a kind in its navigation, overview, search and a page of its own only when
# its items are not empty.
Section = Callable[[Project, Graph, CatalogSnapshot], dict[str, Any]]


def _crawlers(project: Project, graph: Graph, catalog: CatalogSnapshot) -> dict[str, Any]:
    """Each crawler: what it crawls, its policies, its schedule and the tables it made."""
    items = []
    for c in project.crawlers:
        made = sorted(_id(k) for k, t in catalog.tables.items() if k[0] == c.database)
        items.append(
            {
                "name": c.name,
                "description": c.description,
                "properties": {
                    "database": c.database,
                    "targets": ", ".join(_display(t) for t in c.targets),
                    "recrawl": c.recrawl,
                    "schema changes": f"{c.update_behavior}; deletions: {c.delete_behavior}",
                    "sample size": str(c.sample_size),
                },
                "tables": made,
                "triggers": [{"type": "schedule", "schedule": c.schedule}] if c.schedule else [],
            }
        )
    return {"id": "crawlers", "title": "Crawlers", "items": items}


def _jobs(project: Project, graph: Graph, catalog: CatalogSnapshot) -> dict[str, Any]:
    """Each job: what it runs and the triggers that start it (as Glue's console shows them)."""
    items = []
    for job in project.jobs.values():
        names = graph.select(list(job.select), list(job.exclude)) if job.select else []
        starts = [t for t in project.triggers.values() if job.name in t.jobs]
        items.append(
            {
                "name": job.name,
                "description": job.description,
                "properties": {
                    k: v
                    for k, v in {
                        "crawlers": ", ".join(job.crawlers),
                        "select": " ".join(job.select),
                        "exclude": " ".join(job.exclude),
                        "retries": str(job.max_retries) if job.max_retries else "",
                        "timeout": f"{job.timeout:g}s" if job.timeout else "",
                        "bookmark": job.bookmark,
                    }.items()
                    if v
                },
                "tables": sorted(f"{graph.nodes[n].database}.{n}" for n in names),
                "triggers": [_trigger(t) for t in starts],
            }
        )
    return {"id": "jobs", "title": "Jobs", "items": items}


def _crawl(record: Mapping[str, Any]) -> dict[str, Any]:
    """One crawl as its page shows it: when, what it read and what it changed per table."""
    summary = record.get("summary") or {}
    return {
        "id": record["id"],
        "crawler": record["crawler"],
        "status": record["status"],
        "started_at": record["started_at"],
        "finished_at": record["finished_at"],
        "seconds": record["finished_at"] - record["started_at"],
        "incremental": bool(summary.get("incremental")),
        "files_listed": summary.get("files_listed"),
        "files_read": summary.get("files_read"),
        "tables": [
            {k: t.get(k) for k in ("name", "action", "format", "location", "changes", "note")}
            for t in summary.get("tables", ())
        ],
        "database": summary.get("database", ""),
        "warnings": list(summary.get("warnings", ())),
    }


def _trigger(trigger: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": trigger.name, "type": trigger.type}
    if trigger.schedule:
        out["schedule"] = f"{trigger.schedule} ({trigger.timezone})"
    if trigger.conditions:
        out["conditions"] = f" {trigger.logic} ".join(
            f"{c.kind} {c.name} {c.state}" for c in trigger.conditions
        )
    if trigger.workflow:
        out["workflow"] = trigger.workflow
    return out


def _display(target: str) -> str:
    """A crawl target as the project spells it (no password in a database URL)."""
    return mask_url(target)


SECTIONS: tuple[Section, ...] = (_crawlers, _jobs)


def _id(key: TableKey) -> str:
    return f"{key[0]}.{key[1]}"


def _ref(ref: ColumnRef) -> list[str]:
    return [f"{ref.db}.{ref.table}", ref.column]


def _columns(columns: Iterable[Column]) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "type": c.type or "", "description": c.description, "tags": list(c.tags)}
        for c in columns
    ]


def _catalog_part(
    table: CatalogTable | None, catalog: CatalogSnapshot, key: TableKey
) -> dict[str, Any]:
    """Location, format, owner, versions and partitions as the catalog holds them."""
    if table is None:
        return {"in_catalog": False, "versions": [], "partitions": {"count": 0, "items": []}}
    parts = catalog.partitions.get(key, ())
    return {
        "in_catalog": True,
        "table_type": table.table_type,
        "location": table.location,
        "format": table.format or ("parquet" if table.table_type == MANAGED_TABLE else None),
        "owner": table.owner,
        "version": table.version,
        "created_at": table.created_at,
        "updated_at": table.updated_at,
        "parameters": dict(table.parameters),
        "versions": [
            {
                "version": v.version,
                "created_at": v.created_at,
                "run_id": v.run_id if v.run_id not in catalog.crawls else None,
                "crawl_id": v.run_id if v.run_id in catalog.crawls else None,
                "location": v.table.location,
                "columns": len(v.table.columns),
            }
            for v in catalog.versions.get(key, ())
        ],
        "partitions": {
            "count": len(parts),
            "items": [
                {"values": list(p.values), "location": p.location, "rows": p.rows, "bytes": p.bytes}
                for p in parts[:MAX_PARTITIONS]
            ],
        },
    }


def _source_table(
    source: SourceTable, catalog: CatalogSnapshot, key: TableKey, root: Path
) -> dict[str, Any]:
    current = catalog.tables.get(key)
    columns = _columns(source.columns)
    if not columns and current is not None:
        columns = [
            {"name": c.name, "type": c.type, "description": c.comment} for c in current.columns
        ]
    parts = catalog.partitions.get(key, ())
    return {
        "id": _id(key),
        "database": source.source,
        "name": source.name,
        "kind": "source",
        "materialized": "external",
        "description": source.description,
        "tags": [],
        "columns": columns,
        "partition_keys": _columns(source.partition_keys),
        "file": _rel(source.location.path, root),
        "line": source.location.line,
        "source": {"path": source.path, "format": source.format, "options": dict(source.options)},
        "stats": {"bytes": sum(p.bytes or 0 for p in parts) or local_bytes(source.path)},
        "quality": [],
        **_catalog_part(current, catalog, key),
        "location": source.path,
        "format": source.format,
    }


def _model_table(
    project: Project,
    graph: Graph,
    node: Node,
    columns: ModelColumns,
    catalog: CatalogSnapshot,
    key: TableKey,
    dialects: Sequence[str],
    known: Schema | None = None,
) -> dict[str, Any]:
    current = catalog.tables.get(key)
    documented = {c.name: c for c in node.columns}
    out_columns = []
    for name, type_ in columns.columns:
        doc = documented.pop(name, None)
        out_columns.append(
            {
                "name": name,
                "type": type_ or (doc.type if doc else "") or "",
                "description": doc.description if doc else "",
                "tags": list(doc.tags) if doc else [],
                "upstream": [_ref(r) for r in columns.upstream.get(name, ())],
                "origins": [_ref(r) for r in columns.origins.get(name, ())],
            }
        )
    for doc in documented.values():  # documented in YAML but not found in the SQL
        out_columns.append({**_columns([doc])[0], "missing": True})
    state = catalog.states.get(node.name)
    parts = catalog.partitions.get(key, ())
    spec = project.models.get(node.name)
    return {
        "id": _id(key),
        "database": node.database,
        "name": node.name,
        "kind": "model",
        "materialized": node.materialized,
        "description": node.description,
        "tags": list(node.tags),
        "columns": out_columns,
        "lineage_known": columns.known,
        "partition_keys": [
            {"name": p, "type": dict(columns.columns).get(p, ""), "description": ""}
            for p in node.partition_by
        ],
        "file": node.rel_path,
        "transform": {
            "path": node.rel_path,
            "raw_sql": spec.sql if spec else "",
            "sql": {d: _sql(node, graph, d, known) for d in dialects},
            "config": {
                "materialized": node.materialized,
                "database": node.database,
                "tags": list(node.tags),
                "partition_by": list(node.partition_by),
                "table_type": table_type(node.materialized),
            },
            "refs": list(node.refs),
            "sources": list(node.sources),
        },
        "stats": {
            "rows": state.rows if state else None,
            "built_at": state.built_at if state else None,
            "run_id": state.run_id if state else None,
            "bytes": sum(p.bytes or 0 for p in parts) or local_bytes(current and current.location),
            "up_to_date": bool(state and state.fingerprint == node.fingerprint),
        },
        "quality": [],
        **_catalog_part(current, catalog, key),
    }


def _catalog_only_table(
    table: CatalogTable, catalog: CatalogSnapshot, key: TableKey
) -> dict[str, Any]:
    return {
        "id": _id(key),
        "database": table.database,
        "name": table.name,
        "kind": "catalog",
        "materialized": table.table_type.lower(),
        "description": table.description,
        "tags": [],
        "columns": [
            {"name": c.name, "type": c.type, "description": c.comment} for c in table.columns
        ],
        "partition_keys": [
            {"name": c.name, "type": c.type, "description": c.comment} for c in table.partition_keys
        ],
        "stats": {},
        "quality": [],
        **_catalog_part(table, catalog, key),
    }


def _sql(node: Node, graph: Graph, dialect: str, known: Schema | None = None) -> str:
    """The SQL that runs on ``dialect``'s engine: typed against the inputs' known columns."""
    schema = known_inputs(node, graph, known) if known and dialect != graph.dialect else None
    try:
        return sql_for(node, graph, dialect, schema)
    except Exception as exc:  # one model sqlglot cannot transpile must not stop the site
        return f"-- cannot transpile to {dialect}: {exc}"


def _link_lineage(graph: Graph, tables: dict[str, dict[str, Any]]) -> None:
    """Table-level upstream/downstream ids, and each column's downstream columns."""
    by_name = {n: _id((node.database, n)) for n, node in graph.nodes.items()}
    for name, node in graph.nodes.items():
        entry = tables[by_name[name]]
        entry["upstream"] = [by_name[r] for r in node.refs] + [
            _id(source_relation(s)) for s in node.sources
        ]
    for entry in tables.values():
        entry.setdefault("upstream", [])
        entry["downstream"] = []
    for name in graph.topological():
        entry = tables[by_name[name]]
        for parent in entry["upstream"]:
            tables[parent]["downstream"].append(entry["id"])
        for column in entry["columns"]:
            for table_id, col in column.get("upstream", ()):
                target = tables.get(table_id)
                for c in target["columns"] if target else ():
                    if c["name"] == col:
                        c.setdefault("downstream", []).append([entry["id"], column["name"]])


def _databases(tables: Mapping[str, Mapping[str, Any]], default: str) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in tables.values():
        db = out.setdefault(
            entry["database"], {"name": entry["database"], "tables": [], "kinds": []}
        )
        db["tables"].append(entry["id"])
        if entry["kind"] not in db["kinds"]:
            db["kinds"].append(entry["kind"])
    for db in out.values():
        db["default"] = db["name"] == default
    return sorted(out.values(), key=lambda d: d["name"])


def local_bytes(location: str | None) -> int | None:
    """Size of a local table's files (a folder or a glob); None when remote or missing."""
    if not location or "://" in location:
        return None
    paths = [Path(p) for p in glob.glob(location, recursive=True)]
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return sum(f.stat().st_size for f in files) or None


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
