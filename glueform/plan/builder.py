"""Plan: which nodes a run would build, and why, from fingerprints the catalog recorded.

``build_plan`` is pure: the graph, the selection and the catalog's records in, a frozen
:class:`Plan` out. It can be printed, compared in golden tests and written as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from glueform.catalog.glue import GlueChange
from glueform.catalog.model import EXTERNAL_TABLE, CatalogTable, ColumnDef, NodeState
from glueform.compile.dag import Graph
from glueform.fingerprint import digest
from glueform.plan.desired import SOURCE_MARK, model_columns, source_table, table_type
from glueform.project.model import CrawlerSpec, SourceTable


@dataclass(frozen=True)
class NodeChange:
    """One selected node: ``build`` with its reasons, or ``unchanged``."""

    name: str
    action: str  # build | unchanged
    reasons: tuple[str, ...]
    materialized: str
    database: str
    path: str


@dataclass(frozen=True)
class TableChange:
    """A change to one catalog table, Terraform-style: create, update (column-level) or delete."""

    action: str  # create | update | delete
    database: str
    name: str
    table_type: str
    added: tuple[str, ...] = ()  # "name TYPE"
    removed: tuple[str, ...] = ()
    retyped: tuple[str, ...] = ()  # "name: OLD -> NEW"
    changed: tuple[str, ...] = ()  # other fields: location, format, options, ...
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.database}.{self.name}"


@dataclass(frozen=True)
class CrawlerStatus:
    """A crawler of the project: when it last crawled, and why it would run (``glueform crawl``
    runs it; the scheduler runs it on its ``schedule``)."""

    name: str
    database: str
    schedule: str | None
    last_crawl: float | None
    would_run: str  # never crawled | scheduled: CRON | on demand


@dataclass(frozen=True)
class RootChange:
    """A bookmarked source whose files are now under another folder (a moved or cloned
    checkout): what its model's bookmark makes of it."""

    node: str
    source: str
    before: str
    now: str

    @property
    def meaning(self) -> str:
        return (
            f"{self.source} moved from {self.before} to {self.now}: {self.node}'s bookmark "
            "matches its files by their path below the folder and their size, so nothing it "
            "has read is read again; its next run records them under the new folder"
        )


@dataclass(frozen=True)
class Plan:
    changes: tuple[NodeChange, ...]
    tables: tuple[TableChange, ...] = ()
    glue: tuple[GlueChange, ...] = ()  # what a sync to AWS Glue would change now
    crawlers: tuple[CrawlerStatus, ...] = ()  # crawlers defined, and whether they would run
    roots: tuple[RootChange, ...] = ()  # bookmarked sources whose folder changed

    @property
    def to_build(self) -> list[str]:
        return [c.name for c in self.changes if c.action == "build"]

    @property
    def orphans(self) -> list[str]:
        """Outputs in the catalog that the project no longer defines."""
        return [
            t.name for t in self.tables if t.action == "delete" and t.table_type != EXTERNAL_TABLE
        ]

    @property
    def has_changes(self) -> bool:
        return bool(self.to_build or self.tables or self.glue)

    def to_dict(self) -> dict[str, object]:
        counts = {
            a: sum(1 for t in self.tables if t.action == a) for a in ("create", "update", "delete")
        }
        return {
            "changes": [asdict(c) for c in self.changes],
            "tables": [asdict(t) for t in self.tables],
            "orphans": self.orphans,
            "glue": [
                {"action": g.action, "database": g.database, "name": g.name} for g in self.glue
            ],
            "crawlers": [asdict(c) for c in self.crawlers],
            "bookmark_roots": [{**asdict(r), "meaning": r.meaning} for r in self.roots],
            "summary": {
                "build": len(self.to_build),
                "unchanged": len(self.changes) - len(self.to_build),
                **counts,
            },
        }


def root_changes(
    roots: Mapping[tuple[str, str], str | None], sources: Mapping[str, SourceTable]
) -> list[RootChange]:
    """Bookmarks (``(node, source) -> root`` at their latest commit) whose source's files are
    now named under another folder."""
    from glueform.catalog.locations import files_root

    out = []
    for (node, key), before in sorted(roots.items()):
        source = sources.get(key)
        if before is None or source is None or "://" in source.path:
            continue
        now = files_root(source.path)
        if now != before:
            out.append(RootChange(node, key, before, now))
    return out


def source_fingerprint(table: SourceTable) -> str:
    """Changes when a source's declaration changes (not its data: bookmarks track that)."""
    columns = [(c.name, c.type) for c in table.columns]
    return digest(table.path, table.format, dict(table.options), columns)[:32]


def upstream_fingerprints(graph: Graph, name: str) -> dict[str, str]:
    node = graph.nodes[name]
    fps = {ref: graph.nodes[ref].fingerprint for ref in node.refs}
    fps.update(
        {
            f"source:{s}": source_fingerprint(graph.sources[s]) if s in graph.sources else "crawled"
            for s in node.sources
        }
    )
    return fps


def build_plan(
    graph: Graph,
    selected: Sequence[str],
    built: Mapping[str, NodeState],
    tables: Sequence[CatalogTable] = (),
) -> Plan:
    """Nodes to build (and why) and catalog changes, from the graph and the catalog's state."""
    nodes = _node_changes(graph, selected, built)
    actual = {(t.database, t.name): t for t in tables}
    rebuilt = {c.name for c in nodes if c.action == "build"}
    table_changes = [
        *_source_changes(graph, actual),
        *_model_changes(graph, rebuilt, actual),
        *_orphan_changes(graph, built, actual),
    ]
    return Plan(tuple(nodes), tuple(table_changes))


def _node_changes(
    graph: Graph, selected: Sequence[str], built: Mapping[str, NodeState]
) -> list[NodeChange]:
    changes = []
    for name in selected:
        node = graph.nodes[name]
        reasons = _reasons(graph, name, built.get(name))
        changes.append(
            NodeChange(
                name=name,
                action="build" if reasons else "unchanged",
                reasons=tuple(reasons),
                materialized=node.materialized,
                database=node.database,
                path=node.rel_path,
            )
        )
    return changes


def source_changes(graph: Graph, tables: Sequence[CatalogTable]) -> list[TableChange]:
    """Only the sources' changes: what a run applies before it builds."""
    return _source_changes(graph, {(t.database, t.name): t for t in tables})


def _source_changes(
    graph: Graph, actual: Mapping[tuple[str, str], CatalogTable]
) -> list[TableChange]:
    out = []
    for table in graph.sources.values():
        desired = source_table(table)
        current = actual.get((desired.database, desired.name))
        if current is None:
            out.append(_created(desired, desired.columns))
            continue
        change = _diff(desired, current, desired.columns)
        if change:
            out.append(change)
    declared = {(t.source, t.name) for t in graph.sources.values()}
    for key, current in sorted(actual.items()):
        if current.parameters.get(SOURCE_MARK) and key not in declared:
            out.append(
                TableChange(
                    "delete",
                    current.database,
                    current.name,
                    current.table_type,
                    note="no longer declared",
                )
            )
    return out


def _model_changes(
    graph: Graph, rebuilt: set[str], actual: Mapping[tuple[str, str], CatalogTable]
) -> list[TableChange]:
    if not rebuilt:
        return []
    columns = model_columns(graph, rebuilt, actual)
    out = []
    for name in graph.topological(rebuilt):
        node = graph.nodes[name]
        desired = CatalogTable(node.database, name, table_type(node.materialized))
        current = actual.get((node.database, name))
        if current is None:
            out.append(_created(desired, columns[name]))
        elif columns[name] is not None or current.table_type != desired.table_type:
            change = _diff(replace(current, table_type=desired.table_type), current, columns[name])
            if change:
                out.append(change)
    return out


def _orphan_changes(
    graph: Graph, built: Mapping[str, NodeState], actual: Mapping[tuple[str, str], CatalogTable]
) -> list[TableChange]:
    out = []
    for name in sorted(set(built) - set(graph.nodes)):
        state = built[name]
        current = actual.get((state.database, name))
        kind = current.table_type if current else table_type(state.kind)
        out.append(
            TableChange("delete", state.database, name, kind, note="no longer in the project")
        )
    return out


def _created(desired: CatalogTable, columns: tuple[ColumnDef, ...] | None) -> TableChange:
    if columns is None:
        return TableChange(
            "create",
            desired.database,
            desired.name,
            desired.table_type,
            note="columns known after the run",
        )
    return TableChange(
        "create",
        desired.database,
        desired.name,
        desired.table_type,
        added=tuple(f"{c.name} {c.type}".strip() for c in columns),
    )


def _diff(
    desired: CatalogTable, current: CatalogTable, columns: tuple[ColumnDef, ...] | None
) -> TableChange | None:
    """Column-level and field-level differences, or None when the table is as desired."""
    added: list[str] = []
    removed: list[str] = []
    retyped: list[str] = []
    if columns is not None and columns:
        have = {c.name: c.type for c in current.columns}
        want = {c.name: c.type for c in columns}
        added = [f"{n} {t}".strip() for n, t in want.items() if n not in have]
        removed = [f"{n} {t}".strip() for n, t in have.items() if n not in want]
        retyped = [
            f"{n}: {have[n]} -> {t}"
            for n, t in want.items()
            if n in have and t and have[n] and _type(t) != _type(have[n])
        ]
    # a source's whole declaration is desired state; a model's location is the run's to choose
    fields = ("table_type", "location", "format", "options", "description", "partition_keys")
    if desired.table_type != EXTERNAL_TABLE:
        fields = ("table_type",)
    changed = [f for f in fields if getattr(desired, f) != getattr(current, f)]
    if not (added or removed or retyped or changed):
        return None
    return TableChange(
        "update",
        desired.database,
        desired.name,
        desired.table_type,
        tuple(added),
        tuple(removed),
        tuple(retyped),
        tuple(changed),
    )


def _type(type_sql: str) -> str:
    from glueform.sql import normalize_type

    return normalize_type(type_sql, "duckdb")


def _reasons(graph: Graph, name: str, record: NodeState | None) -> list[str]:
    node = graph.nodes[name]
    if record is None:
        return ["new"]
    reasons = []
    if record.sql_hash != node.sql_hash:
        reasons.append("sql changed")
    if record.config_hash != node.config_hash or record.kind != node.materialized:
        reasons.append("config changed")
    current = upstream_fingerprints(graph, name)
    changed = sorted(
        k for k in set(current) | set(record.upstream) if current.get(k) != record.upstream.get(k)
    )
    if changed:
        reasons.append("upstream changed: " + ", ".join(k.removeprefix("source:") for k in changed))
    return reasons


def crawler_status(crawlers: Sequence[CrawlerSpec], catalog: Any) -> list[CrawlerStatus]:
    """Each crawler with its last crawl (from the catalog) and whether it would run."""
    if not crawlers:
        return []
    from glueform.catalog.crawls import last_crawls

    last = last_crawls(catalog)
    out = []
    for c in crawlers:
        done = last.get(c.name)
        reason = (
            "never crawled"
            if done is None
            else f"scheduled: {c.schedule}"
            if c.schedule
            else "on demand"
        )
        out.append(
            CrawlerStatus(
                c.name, c.database, c.schedule, done["finished_at"] if done else None, reason
            )
        )
    return out
