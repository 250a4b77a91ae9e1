"""An incremental model's config: its strategy, unique key, schema-change policy and bookmarks,
checked where the model's config is read (``config(materialized='incremental', ...)``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glueform.errors import SourceLocation, UserError

KEYED = ("merge", "delete+insert")  # strategies that need unique_key


@dataclass(frozen=True)
class SourceBookmark:
    """How one source of a model is bookmarked: by its ``files``, by a high-watermark
    ``column``, or by its catalog ``partitions``."""

    source: str  # "source_name.table_name"
    kind: str  # files | column | partitions
    column: str | None = None


@dataclass(frozen=True)
class IncrementalConfig:
    """An incremental model's config (``config(materialized='incremental', ...)``)."""

    strategy: str = "append"
    unique_key: tuple[str, ...] = ()
    on_schema_change: str = "fail"
    bookmark: str = "disable"  # enable | disable | pause
    sources: tuple[SourceBookmark, ...] = ()  # explicit per-source bookmark options

    def bookmarked(self, source: str, is_file_source: bool) -> SourceBookmark | None:
        """The bookmark of ``source`` (a file source is bookmarked by its files by default)."""
        for s in self.sources:
            if s.source == source:
                return s
        return SourceBookmark(source, "files") if is_file_source else None

    def key(self) -> tuple[Any, ...]:
        """What the node's config fingerprint takes from it."""
        return (self.strategy, self.unique_key, self.on_schema_change, self.bookmark, self.sources)


def incremental_config(
    config: Mapping[str, Any],
    partition_by: Sequence[str],
    sources: Sequence[str],
    location: SourceLocation,
) -> IncrementalConfig | None:
    """The checked incremental config of a model, or None when it is not incremental."""
    if config.get("materialized") != "incremental":
        extra = [k for k in ("incremental_strategy", "unique_key", "bookmark") if k in config]
        if extra:
            raise UserError(
                f"{extra[0]} needs materialized='incremental'",
                location,
                hint="make the model incremental, or remove the key",
            )
        return None
    strategy = config.get("incremental_strategy", "append")
    key = config.get("unique_key") or ()
    keys = (key,) if isinstance(key, str) else tuple(key)
    if strategy in KEYED and not keys:
        raise UserError(
            f"incremental_strategy '{strategy}' needs unique_key",
            location,
            hint="config(unique_key='id') names the column(s) that identify a row",
        )
    if strategy == "insert_overwrite" and not partition_by:
        raise UserError(
            "incremental_strategy 'insert_overwrite' needs partition_by",
            location,
            hint="it replaces the partitions present in the new rows: config(partition_by=['dt'])",
        )
    mode, per_source = _bookmark(config.get("bookmark", "disable"))
    for s in per_source:
        if s.source not in sources:
            raise UserError(
                f"bookmark options name source {s.source}, which the model does not read",
                location,
                hint="was it renamed? name a source the model reads with source(): "
                + (", ".join(sources) or "it reads none"),
            )
    return IncrementalConfig(
        strategy, keys, config.get("on_schema_change", "fail"), mode, per_source
    )


def _bookmark(value: Any) -> tuple[str, tuple[SourceBookmark, ...]]:
    if isinstance(value, str):
        return value, ()
    out = []
    for source, options in sorted((value.get("sources") or {}).items()):
        if options.get("column"):
            out.append(SourceBookmark(source, "column", options["column"]))
        elif options.get("partitions"):
            out.append(SourceBookmark(source, "partitions"))
        else:
            out.append(SourceBookmark(source, "files"))
    return value.get("mode", "enable"), tuple(out)
