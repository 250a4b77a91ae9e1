"""The catalog: databases, tables and their versions, partitions, and the record of runs.

By default a SQLite file (WAL) in the target's state folder; a ``postgresql://`` URL gives a
team one shared catalog. An output becomes current only when its new version is committed here,
in one transaction with the fingerprints it was built from: a failed or killed run loses nothing.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from glueform.catalog.store import (
        CatalogError,
        CatalogStore,
        LockHeldError,
        StaleVersionError,
    )

_STORE_NAMES = {"CatalogError", "CatalogStore", "LockHeldError", "StaleVersionError"}


def __getattr__(name: str) -> Any:
    """The store (and SQLAlchemy under it) is imported only when a command opens the catalog."""
    if name in _STORE_NAMES:
        from glueform.catalog import store

        return getattr(store, name)
    raise AttributeError(name)


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
