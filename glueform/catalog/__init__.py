"""The catalog: which version of every output is current, how it was built, and the runs.

The store is a SQLite file (WAL) in the target's state folder. A build's output becomes current
only when its record is committed here, in one transaction: until then readers see the previous
version, so a failed or killed run loses nothing.
"""

from glueform.catalog.store import CatalogStore, TableRecord

__all__ = ["CatalogStore", "TableRecord"]
