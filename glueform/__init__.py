"""glueform: AWS Glue as config-as-code, run on DuckDB or Spark.

The library façade is :class:`glueform.workspace.Workspace`; it is imported lazily so that
``import glueform`` (and the CLI's ``--help``) stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from glueform.workspace import Workspace

__all__ = ["Workspace", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from glueform.workspace import Workspace

        return Workspace
    raise AttributeError(name)
