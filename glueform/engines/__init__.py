"""Compute engines: a small protocol, capability flags, and a lazy registry.

An engine registers sources and committed outputs as relations, builds one node at a time
(possibly on several threads) and never touches the catalog: the runner commits.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from glueform.catalog.model import CatalogTable, ColumnDef, Partition
from glueform.compile.dag import Graph, Node
from glueform.engines.incremental import Increment
from glueform.errors import UserError
from glueform.project.model import Target


@dataclass(frozen=True)
class BuildOutput:
    """What a build wrote: rows, where (tables) or the SQL kept (views), and the output's columns."""

    rows: int | None
    location: str | None
    view_sql: str | None
    columns: tuple[ColumnDef, ...] = ()
    partition_keys: tuple[ColumnDef, ...] = ()
    partitions: tuple[Partition, ...] = ()
    added: int | None = None  # an incremental build: the new rows it merged in


class Engine(Protocol):
    name: str
    dialect: str
    SUPPORTS_PARALLEL_BUILDS: bool

    def open(self) -> None: ...
    def close(self) -> None: ...
    def interrupt(self) -> None: ...
    def create_databases(self, names: set[str]) -> None: ...
    def register(self, table: CatalogTable) -> None: ...
    def build(self, node: Node, sql: str, location: str) -> BuildOutput: ...
    def columns(self, database: str, name: str) -> tuple[ColumnDef, ...]: ...
    def build_python(
        self, node: Node, graph: Graph, location: str, vars: Mapping[str, Any]
    ) -> BuildOutput: ...
    def discard(self, location: str) -> None: ...
    # incremental models: the next version from the current one and the new rows (one write)
    def build_incremental(
        self, node: Node, sql: str, location: str, increment: Increment
    ) -> BuildOutput: ...
    # a bookmarked source's share of a run: registered under ``name``; returns the relation to
    # read it by (in the engine's dialect)
    def register_files(self, name: str, table: CatalogTable, files: list[str]) -> str: ...
    def register_view(self, name: str, select_sql: str) -> str: ...
    def value(self, sql: str) -> Any: ...


@dataclass(frozen=True)
class EngineSpec:
    """Where an engine lives, its SQL dialect, and the pip extra that provides it."""

    module: str
    cls: str
    dialect: str
    extra: str | None = None


ENGINES: dict[str, EngineSpec] = {
    "duckdb": EngineSpec("glueform.engines.duckdb", "DuckDBEngine", "duckdb"),
    "spark": EngineSpec("glueform.engines.spark", "SparkEngine", "spark", extra="spark"),
}


def engine_spec(target: Target) -> EngineSpec:
    try:
        return ENGINES[target.engine]
    except KeyError:
        raise UserError(
            f"target '{target.name}' uses unknown engine '{target.engine}'",
            hint=f"engines: {', '.join(ENGINES)}",
        ) from None


def create_engine(target: Target, project_root: Path) -> Engine:
    """Import the engine's module only now, so a missing extra fails with a fix, not at import."""
    spec = engine_spec(target)
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        raise UserError(
            f"engine '{target.engine}' needs a package that is not installed ({exc.name})",
            hint=f"pip install 'glueform[{spec.extra}]'" if spec.extra else "reinstall glueform",
        ) from None
    engine: Engine = getattr(module, spec.cls)(target, project_root)
    return engine
