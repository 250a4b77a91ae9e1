"""What a crawl found, as catalog tables and partitions; and what that changes in the catalog,
per the crawler's schema-change policy (update_in_database | log) and deletion policy
(delete_from_database | deprecate_in_database | log).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from glueform.catalog.crawls import CRAWLER_PARAM, ROOT_PARAM
from glueform.catalog.model import EXTERNAL_TABLE, CatalogTable, ColumnDef, Partition
from glueform.crawl.scan import common_suffix
from glueform.crawl.schema import Columns, merge, parse, render
from glueform.crawl.tables import Group, Leaf
from glueform.project.model import CrawlerSpec

DEPRECATED_PARAM = "deprecated_by_crawler"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INT = re.compile(r"-?\d{1,18}")


@dataclass(frozen=True)
class Found:
    """A table as the crawl found it: its definition, partitions and leaf folders."""

    table: CatalogTable
    partitions: tuple[Partition, ...]
    leaves: tuple[Leaf, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableReport:
    name: str
    action: str  # created | updated | unchanged | deleted | deprecated | logged | conflict
    format: str = ""
    location: str = ""
    columns: int = 0
    partitions_added: int = 0
    partitions_removed: int = 0
    changes: tuple[str, ...] = ()  # column changes (+ name TYPE, - name, ~ name: A -> B)
    note: str = ""


@dataclass
class Diff:
    tables: list[tuple[CatalogTable, int | None]] = field(default_factory=list)
    deletes: list[tuple[str, str, int]] = field(default_factory=list)
    added: list[tuple[str, str, Partition]] = field(default_factory=list)
    removed: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    reports: list[TableReport] = field(default_factory=list)


def table_name(spec: CrawlerSpec, root_location: str) -> str:
    """Glue's naming: the root folder's name, lower-cased, made safe, with the crawler's prefix."""
    base = root_location.rstrip("/").rpartition("/")[2] or "table"
    name = re.sub(r"[^a-z0-9_]", "_", (spec.table_prefix + base).lower())
    return f"t_{name}" if name[0].isdigit() else name


def unique_names(spec: CrawlerSpec, roots: Sequence[str], taken: Mapping[str, str]) -> list[str]:
    """Names for ``roots``; a clash gets a short hash of the root (as Glue appends one).
    ``taken`` maps names already used to their root."""
    used = dict(taken)
    out = []
    for root in roots:
        name = unique_name(table_name(spec, root), root, used)
        used[name] = root
        out.append(name)
    return out


def unique_name(name: str, root: str, taken: Mapping[str, str]) -> str:
    """``name``, or with a short hash of ``root`` when another root already has it."""
    if name in taken and taken[name] != root:
        return f"{name}_{hashlib.sha1(root.encode()).hexdigest()[:6]}"
    return name


def found_table(
    spec: CrawlerSpec, name: str, root_location: str, group: Group, location: Any
) -> Found:
    """The catalog table of a group of leaves (``location(rel)`` gives a leaf's location)."""
    leaves = tuple(leaf for _, leaf in group.leaves)
    merged = merge(s for leaf in leaves for s in leaf.samples)
    keys = group.partition_keys
    key_types = [
        _key_type([values[i] for values, _ in group.leaves]) if group.hive else "VARCHAR"
        for i in range(len(keys))
    ]
    columns = tuple(ColumnDef(n, render(t)) for n, t in merged.columns if n not in keys)
    depth = len(keys)
    location_glob = root_location + "/*" * depth + "/*" + common_suffix(leaves)
    first = leaves[0]
    options = dict(first.options)
    if any(leaf.options.get("null_padding") for leaf in leaves):
        options["null_padding"] = True
    if len({tuple(n for n, _ in leaf.columns) for leaf in leaves}) > 1:
        options["union_by_name"] = True
    if keys and not group.hive:
        options["hive_partitioning"] = False  # partition_N folders carry no names to read
    parameters = {
        "classification": first.format,
        CRAWLER_PARAM: spec.name,
        ROOT_PARAM: root_location,
    }
    if first.compression:
        parameters["compressionType"] = first.compression
    table = CatalogTable(
        database=spec.database,
        name=name,
        table_type=EXTERNAL_TABLE,
        columns=columns,
        partition_keys=tuple(ColumnDef(k, t) for k, t in zip(keys, key_types, strict=True)),
        location=location_glob,
        format=first.format,
        options=options,
        parameters=parameters,
        description=f"crawled by {spec.name}",
    )
    partitions = tuple(
        Partition(values, location(leaf.folder), None, sum(f.size for f in leaf.files))
        for values, leaf in group.leaves
        if keys
    )
    return Found(table, partitions, leaves, merged.warnings)


def _key_type(values: Sequence[str]) -> str:
    if all(_DATE.fullmatch(v) for v in values):
        return "DATE"
    if all(_INT.fullmatch(v) for v in values):
        return "BIGINT"
    return "VARCHAR"


def extended(
    current: CatalogTable, leaves: Sequence[tuple[tuple[str, ...], Leaf]], location: Any
) -> Found:
    """An existing table with new leaf folders (an incremental crawl): their columns merged in,
    their partitions added; nothing else about it changes."""
    keys = {c.name for c in current.partition_keys}
    old: Columns = tuple((c.name, parse(c.type)) for c in current.columns)
    merged = merge([("catalog", old), *(s for _, leaf in leaves for s in leaf.samples)])
    columns = tuple(ColumnDef(n, render(t)) for n, t in merged.columns if n not in keys)
    options = dict(current.options)
    if [c.name for c in columns] != [c.name for c in current.columns]:
        options["union_by_name"] = True
    table = replace(current, columns=columns, options=options)
    partitions = tuple(
        Partition(values, location(leaf.folder), None, sum(f.size for f in leaf.files))
        for values, leaf in leaves
    )
    return Found(table, partitions, tuple(leaf for _, leaf in leaves), merged.warnings)


def column_changes(old: CatalogTable, new: CatalogTable) -> tuple[str, ...]:
    before = {c.name: c.type for c in (*old.columns, *old.partition_keys)}
    after = {c.name: c.type for c in (*new.columns, *new.partition_keys)}
    out = [f"+ {n} {t}" for n, t in after.items() if n not in before]
    out += [f"- {n}" for n in before if n not in after]
    out += [
        f"~ {n}: {before[n]} -> {t}" for n, t in after.items() if n in before and before[n] != t
    ]
    return tuple(out)


def _shape(t: CatalogTable) -> tuple[Any, ...]:
    return (
        t.columns,
        t.partition_keys,
        t.location,
        t.format,
        dict(t.options),
        t.parameters.get(DEPRECATED_PARAM),
    )


def diff(
    spec: CrawlerSpec,
    found: Sequence[Found],
    owned: Mapping[str, CatalogTable],
    others: Mapping[str, CatalogTable],
    current_parts: Mapping[str, Mapping[tuple[str, ...], Partition]],
    gone: Sequence[CatalogTable],
    incremental: bool,
) -> Diff:
    """The catalog changes of a crawl. ``gone``: owned tables the crawl did not find again
    (only where their target was listed; an unreachable target deletes nothing)."""
    out = Diff()
    db = spec.database
    for f in found:
        t = f.table
        if t.name in others:
            out.reports.append(
                TableReport(t.name, "conflict", t.format or "", t.location or "",
                            note=f"{db}.{t.name} exists and was not made by this crawler: left as is")
            )  # fmt: skip
            continue
        cur = owned.get(t.name)
        parts = current_parts.get(t.name, {})
        wanted = {p.values for p in f.partitions}
        fresh = [p for p in f.partitions if p.values not in parts]
        changed = [p for p in f.partitions if p.values in parts and parts[p.values] != p]
        vanished = []
        if not incremental and spec.delete_behavior == "delete_from_database":
            vanished = [v for v in parts if v not in wanted]
        out.added += [(db, t.name, p) for p in (*fresh, *changed)]
        out.removed += [(db, t.name, v) for v in (*(p.values for p in changed), *vanished)]
        counts = {"partitions_added": len(fresh), "partitions_removed": len(vanished)}
        base = {
            "format": t.format or "",
            "location": t.location or "",
            "columns": len(t.columns),
            **counts,
        }
        if cur is None:
            out.tables.append((t, None))
            out.reports.append(
                TableReport(
                    t.name,
                    "created",
                    changes=column_changes(replace(t, columns=(), partition_keys=()), t),
                    **base,
                )
            )
        elif _shape(cur) == _shape(t):
            out.reports.append(TableReport(t.name, "unchanged", **base))
        elif spec.update_behavior == "log":
            out.reports.append(
                TableReport(
                    t.name,
                    "logged",
                    changes=column_changes(cur, t),
                    note="schema change not applied (update_behavior: log)",
                    **base,
                )
            )
        else:
            new = replace(
                t, parameters={k: v for k, v in t.parameters.items() if k != DEPRECATED_PARAM}
            )
            out.tables.append((new, cur.version))
            out.reports.append(
                TableReport(t.name, "updated", changes=column_changes(cur, t), **base)
            )
    for cur in gone:
        _gone(spec, cur, out)
    return out


def _gone(spec: CrawlerSpec, cur: CatalogTable, out: Diff) -> None:
    behavior = spec.delete_behavior
    if behavior == "delete_from_database":
        out.deletes.append((cur.database, cur.name, cur.version))
        out.reports.append(
            TableReport(
                cur.name, "deleted", cur.format or "", cur.location or "", note="no files found"
            )
        )
    elif behavior == "deprecate_in_database" and DEPRECATED_PARAM not in cur.parameters:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        params = {**cur.parameters, DEPRECATED_PARAM: stamp}
        out.tables.append((replace(cur, parameters=params), cur.version))
        out.reports.append(
            TableReport(
                cur.name, "deprecated", cur.format or "", cur.location or "", note="no files found"
            )
        )
    elif behavior == "log":
        out.reports.append(
            TableReport(
                cur.name,
                "logged",
                cur.format or "",
                cur.location or "",
                note="no files found; kept (delete_behavior: log)",
            )
        )
