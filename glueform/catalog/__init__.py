"""The catalog: databases, tables and their versions, partitions, and the record of runs.

By default a SQLite file (WAL) in the target's state folder; a ``postgresql://`` URL gives a
team one shared catalog. An output becomes current only when its new version is committed here,
in one transaction with the fingerprints it was built from: a failed or killed run loses nothing.
"""

from glueform.catalog.model import (
    EXTERNAL_TABLE,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Build,
    CatalogTable,
    ColumnDef,
    NodeState,
    Partition,
    TableVersion,
)
from glueform.catalog.store import CatalogError, CatalogStore, LockHeldError, StaleVersionError

__all__ = [
    "EXTERNAL_TABLE",
    "MANAGED_TABLE",
    "VIRTUAL_VIEW",
    "Build",
    "CatalogError",
    "CatalogStore",
    "CatalogTable",
    "ColumnDef",
    "LockHeldError",
    "NodeState",
    "Partition",
    "StaleVersionError",
    "TableVersion",
]
