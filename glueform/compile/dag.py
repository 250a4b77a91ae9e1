"""The compiled project as a DAG of nodes, and dbt-style selectors over it.

A thin typed wrapper over networkx: nodes are compiled models keyed by name; an edge ``a -> b``
means ``b`` reads ``a``.
"""

from __future__ import annotations

import difflib
import fnmatch
import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from glueform.errors import SourceLocation, UserError, locate, quoted
from glueform.project.incremental import IncrementalConfig
from glueform.project.model import Column, SourceTable


@dataclass(frozen=True)
class Node:
    """A compiled model: what to build, from what, and its fingerprints."""

    name: str
    path: Path
    rel_path: str
    database: str
    materialized: str
    tags: tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    refs: tuple[str, ...]
    sources: tuple[str, ...]
    sql: str  # rendered, in the project's dialect, relations fully quoted
    sql_hash: str
    config_hash: str
    partition_by: tuple[str, ...] = ()  # Hive-style partition folders of a table's data
    language: str = "sql"  # "python": ``sql`` holds the transform's source
    # materialized='incremental': how a run extends the table, and the SQL rendered with
    # is_incremental() true (``sql`` is the full build's)
    incremental: IncrementalConfig | None = None
    incremental_sql: str = ""
    env: tuple[str, ...] = ()  # the variables env_var() read: their values are secrets

    @property
    def declared_types(self) -> dict[str, str]:
        """The column types its YAML or ``@transform(columns=...)`` declares."""
        return {c.name: c.type for c in self.columns if c.type}

    @property
    def fingerprint(self) -> str:
        return f"{self.sql_hash[:16]}{self.config_hash[:16]}"

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.path, 1, 1)


def source_relation(key: str) -> tuple[str, str]:
    """``source.table`` as (database, name): a declared source's, or a crawled table's, which
    ``graph.sources`` does not hold."""
    database, _, name = key.partition(".")
    return database, name


def input_relations(graph: Graph, node: Node) -> list[tuple[str, str]]:
    """The (database, name) of every relation ``node`` reads: the models it refs, then its
    sources."""
    keys = [(graph.nodes[r].database, r) for r in node.refs if r in graph.nodes]
    return keys + [source_relation(s) for s in node.sources]


def input_schema(
    graph: Graph, name: str, schema: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The part of ``schema`` (database -> table -> columns) that model ``name`` reads: sqlglot
    copies and normalises the whole schema it is given on every call, which costs a second per
    model in a project of 1,000 tables."""
    out: dict[str, dict[str, Any]] = {}
    for database, table in input_relations(graph, graph.nodes[name]):
        if table in schema.get(database, {}):
            out.setdefault(database, {})[table] = schema[database][table]
    return out


@dataclass(frozen=True)
class Graph:
    """Nodes by name, the dependency edges between them, and a stable build order.

    Ordering and reachability are plain dict walks (the run path never pays networkx's import);
    networkx finds and prints the path of a cycle.
    """

    nodes: Mapping[str, Node]
    sources: Mapping[str, SourceTable]
    dialect: str
    order: tuple[str, ...]

    @classmethod
    def build(
        cls, nodes: Mapping[str, Node], sources: Mapping[str, SourceTable], dialect: str
    ) -> Graph:
        """A checked graph: every ref names a node and there is no cycle."""
        return cls(nodes, sources, dialect, _build_order(nodes))

    @property
    def env_names(self) -> set[str]:
        """The environment variables the models read with ``env_var()`` (secrets, all)."""
        return {name for node in self.nodes.values() for name in node.env}

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for ref in node.refs:
                children[ref].append(node.name)
        return children

    def topological(self, names: Iterable[str] | None = None) -> list[str]:
        """Names in build order (ties broken by name, so the order is stable)."""
        if names is None:
            return list(self.order)
        wanted = set(names)
        return [n for n in self.order if n in wanted]

    def downstream(self, name: str, depth: int | None = None) -> set[str]:
        return _reach(self.children, [name], depth)

    def upstream(self, name: str, depth: int | None = None) -> set[str]:
        return _reach(self.parents, [name], depth)

    def upstream_of(self, names: Iterable[str]) -> set[str]:
        """Everything ``names`` read, directly or not (one walk for the whole set)."""
        return _reach(self.parents, list(names), None)

    def parents(self, name: str) -> list[str]:
        return list(self.nodes[name].refs)

    def children(self, name: str) -> list[str]:
        return self._children[name]

    def select(
        self, select: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> list[str]:
        """dbt selector syntax: ``name``, ``name+``, ``+name``, ``2+name``, ``tag:x``, ``path:dir``.

        Space-separated terms are a union, comma-joined terms an intersection; ``exclude`` removes.
        """
        chosen = set(self.nodes) if not select else self._union(select)
        if exclude:
            chosen -= self._union(exclude)
        return self.topological(chosen)

    def _union(self, terms: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for term in (t for arg in terms for t in arg.split()):
            parts = [self._term(p) for p in term.split(",") if p]
            out |= set.intersection(*parts) if parts else set()
        return out

    def _term(self, term: str) -> set[str]:
        m = _SELECTOR.fullmatch(term)
        if not m:
            raise UserError(
                f"cannot read selector '{term}'",
                hint="examples: stg_orders+, +fct_orders, 2+x, tag:nightly, path:transforms/marts",
            )
        base = self._base(m["method"], m["value"], term)
        out = set(base)
        for name in base:
            if m["up"]:
                out |= self.upstream(name, int(m["up_n"]) if m["up_n"] else None)
            if m["down"]:
                out |= self.downstream(name, int(m["down_n"]) if m["down_n"] else None)
        return out

    def _base(self, method: str | None, value: str, term: str) -> set[str]:
        if method == "tag":
            found = {n for n, node in self.nodes.items() if value in node.tags}
        elif method == "path":
            prefix = value.rstrip("/")
            found = {
                n
                for n, node in self.nodes.items()
                for rel in (node.rel_path, node.rel_path.removeprefix("transforms/"))
                if rel == prefix or rel.startswith(prefix + "/") or fnmatch.fnmatch(rel, prefix)
            }
        elif method in (None, "model", "fqn"):
            found = {n for n in self.nodes if fnmatch.fnmatchcase(n, value)}
        else:
            raise UserError(
                f"unknown selector method '{method}:' in '{term}'",
                hint="use tag:, path: or a model name",
            )
        if not found:
            pool = (
                list(self.nodes)
                if method in (None, "model", "fqn")
                else sorted({t for n in self.nodes.values() for t in n.tags})
            )
            close = difflib.get_close_matches(value, pool, n=1)
            raise UserError(
                f"selector '{term}' matches no model",
                hint=f"did you mean '{close[0]}'?" if close else "list models with 'glueform ls'",
            )
        return found


_SELECTOR = re.compile(
    r"(?P<up>(?P<up_n>\d*)\+)?(?:(?P<method>[a-z]+):)?(?P<value>[^+:]+)(?P<down>\+(?P<down_n>\d*))?"
)


def _ref_location(node: Node, ref: str) -> SourceLocation:
    text = node.path.read_text(encoding="utf-8") if node.path.is_file() else ""
    return locate(text, node.path, *(f"ref({q}" for q in quoted(ref)))


def _build_order(nodes: Mapping[str, Node]) -> tuple[str, ...]:
    """Kahn's algorithm, smallest name first among the ready: the same order on every run."""
    pending = {name: len(node.refs) for name, node in nodes.items()}
    children: dict[str, list[str]] = {name: [] for name in nodes}
    for node in nodes.values():
        for ref in node.refs:
            children[ref].append(node.name)
    ready = [name for name, count in pending.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for child in children[name]:
            pending[child] -= 1
            if pending[child] == 0:
                heapq.heappush(ready, child)
    if len(order) < len(nodes):
        _raise_cycle(nodes, {n for n in nodes if n not in set(order)})
    return tuple(order)


def _raise_cycle(nodes: Mapping[str, Node], stuck: set[str]) -> None:
    import networkx as nx

    g = nx.DiGraph(
        (ref, node.name) for node in nodes.values() for ref in node.refs if node.name in stuck
    )
    cycle = [edge[0] for edge in nx.find_cycle(g)][::-1]  # in the direction of ref()
    start = cycle.index(min(cycle))
    cycle = cycle[start:] + cycle[:start]
    raise UserError(
        "dependency cycle: " + " -> ".join([*cycle, cycle[0]]) + " (each model refs the next)",
        _ref_location(nodes[cycle[0]], cycle[1 % len(cycle)]),
        hint="a model cannot read itself through its own downstream; break one ref()",
    )


def _reach(step: Any, starts: list[str], depth: int | None) -> set[str]:
    seen: set[str] = set()
    frontier = starts
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        nxt = [m for n in frontier for m in step(n) if m not in seen]
        seen.update(nxt)
        frontier = nxt
    return seen
