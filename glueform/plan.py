"""Plan: which nodes a run would build, and why, from fingerprints the catalog recorded.

``build_plan`` is pure: the graph, the selection and the catalog's records in, a frozen
:class:`Plan` out. It can be printed, compared in golden tests and written as JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from glueform.catalog.model import NodeState
from glueform.dag import Graph
from glueform.project.model import SourceTable


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
class Plan:
    changes: tuple[NodeChange, ...]
    orphans: tuple[str, ...]  # outputs in the catalog that the project no longer defines

    @property
    def to_build(self) -> list[str]:
        return [c.name for c in self.changes if c.action == "build"]

    @property
    def has_changes(self) -> bool:
        return bool(self.to_build or self.orphans)

    def to_dict(self) -> dict[str, object]:
        return {
            "changes": [asdict(c) for c in self.changes],
            "orphans": list(self.orphans),
            "summary": {
                "build": len(self.to_build),
                "unchanged": len(self.changes) - len(self.to_build),
            },
        }


def source_fingerprint(table: SourceTable) -> str:
    """Changes when a source's declaration changes (not its data: bookmarks track that)."""
    payload = [
        table.path,
        table.format,
        dict(table.options),
        [(c.name, c.type) for c in table.columns],
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[
        :32
    ]


def upstream_fingerprints(graph: Graph, name: str) -> dict[str, str]:
    node = graph.nodes[name]
    fps = {ref: graph.nodes[ref].fingerprint for ref in node.refs}
    fps.update({f"source:{s}": source_fingerprint(graph.sources[s]) for s in node.sources})
    return fps


def build_plan(graph: Graph, selected: Sequence[str], built: Mapping[str, NodeState]) -> Plan:
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
    orphans = tuple(sorted(set(built) - set(graph.nodes)))
    return Plan(tuple(changes), orphans)


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
