"""The catalog's objects, named as in AWS Glue: databases, tables, table versions, partitions.

Plus what glueform needs to plan: the fingerprints each node was last built with (NodeState).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

EXTERNAL_TABLE = "EXTERNAL_TABLE"  # declared in sources/*.yml; glueform reads it, never writes it
MANAGED_TABLE = "MANAGED_TABLE"  # a transform's output, written by glueform as Parquet
VIRTUAL_VIEW = "VIRTUAL_VIEW"  # a transform kept as SQL


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str
    comment: str = ""


@dataclass(frozen=True)
class CatalogTable:
    """A table as the catalog holds it; ``version`` counts its schema and location changes."""

    database: str
    name: str
    table_type: str
    columns: tuple[ColumnDef, ...] = ()
    partition_keys: tuple[ColumnDef, ...] = ()
    location: str | None = None
    format: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    owner: str = ""
    view_sql: str | None = None
    version: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def declared_types(self) -> dict[str, str]:
        """Column name -> type, for the columns whose type is known (a source may declare none)."""
        return {c.name: c.type for c in self.columns if c.type}

    @property
    def is_view(self) -> bool:
        return self.table_type == VIRTUAL_VIEW

    def definition(self) -> dict[str, Any]:
        """What a new table version records (everything but bookkeeping), as JSON-ready data."""
        return {
            "database": self.database,
            "name": self.name,
            "table_type": self.table_type,
            "columns": [_column(c) for c in self.columns],
            "partition_keys": [_column(c) for c in self.partition_keys],
            "location": self.location,
            "format": self.format,
            "options": dict(self.options),
            "parameters": dict(self.parameters),
            "description": self.description,
            "owner": self.owner,
            "view_sql": self.view_sql,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_definition(cls, data: Mapping[str, Any], **extra: Any) -> CatalogTable:
        values = dict(data)
        values["columns"] = tuple(ColumnDef(**c) for c in values.get("columns", ()))
        values["partition_keys"] = tuple(ColumnDef(**c) for c in values.get("partition_keys", ()))
        return cls(**values, **extra)


def _column(c: ColumnDef) -> dict[str, str]:
    return {"name": c.name, "type": c.type, "comment": c.comment}


@dataclass(frozen=True)
class TableVersion:
    version: int
    table: CatalogTable
    created_at: float
    run_id: str | None


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]
    location: str
    rows: int | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class NodeState:
    """How a node's current output was built: what ``plan`` compares the project against."""

    node: str
    database: str
    kind: str  # table | view
    fingerprint: str
    sql_hash: str
    config_hash: str
    upstream: Mapping[str, str]
    run_id: str
    built_at: float
    rows: int | None = None


@dataclass(frozen=True)
class Build:
    """One finished build to commit: the table's new version, its fingerprints, its partitions."""

    table: CatalogTable | None  # None: the table is unchanged (a view with the same SQL)
    expected_version: int | None  # the version the build replaced (None: a new table)
    state: NodeState
    partitions: tuple[Partition, ...] | None = None  # None: no partitions to record
    bookmarks: tuple[BookmarkUpdate, ...] = ()  # advanced in the same transaction as the table


@dataclass(frozen=True)
class FileMark:
    """A file (or partition folder) as a bookmark remembers it: changed when size or mtime is."""

    path: str
    size: int
    mtime: float


@dataclass(frozen=True)
class BookmarkUpdate:
    """What one build read of one source: files added to the bookmark, or its new watermark."""

    node: str
    source: str
    kind: str  # files | column | partitions
    files: tuple[FileMark, ...] = ()  # keyed by the path below ``root``
    watermark: Any = None
    root: str | None = (
        None  # the folder the source's files are named under (kinds files, partitions)
    )
