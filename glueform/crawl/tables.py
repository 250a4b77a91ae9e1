"""Grouping leaf folders into tables and partitions, as Glue does.

Files of one folder are one table unless its folders below are partitions: Hive-style folders
(``dt=2024-01-01/``) always are, and so are unnamed folders (``2024/01/02/``) whose files share a
format and a compatible schema (they become ``partition_0``, ``partition_1``...) when there are
two or more of them, or their names hold digits: a lone ``orders/`` stays a table of its own. Folders whose
schemas do not fit together become separate tables. ``table_level`` fixes the depth of tables
instead; ``single_schema`` makes one table of a whole target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from glueform.crawl.listing import FileEntry
from glueform.crawl.schema import Columns, similar

_HIVE = re.compile(r"([^=/]+)=(.*)")


@dataclass(frozen=True)
class Leaf:
    """A folder with files, classified from its samples."""

    folder: str  # rel path below the target ('' is the target itself)
    files: tuple[FileEntry, ...]
    format: str
    columns: Columns  # merged over the folder's samples
    samples: tuple[tuple[str, Columns], ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    compression: str | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.folder.split("/")) if self.folder else ()


@dataclass(frozen=True)
class Group:
    """One table: its root folder, its partition keys and its leaf folders with their values."""

    root: str
    partition_keys: tuple[str, ...]
    leaves: tuple[tuple[tuple[str, ...], Leaf], ...]

    @property
    def hive(self) -> bool:
        return all(_HIVE.fullmatch(p) for _, leaf in self.leaves[:1] for p in _below(self, leaf))


def _below(group: Group, leaf: Leaf) -> tuple[str, ...]:
    depth = len(group.root.split("/")) if group.root else 0
    return leaf.parts[depth:]


def group_leaves(
    leaves: Sequence[Leaf], table_level: int | None = None, single_schema: bool = False
) -> list[Group]:
    roots: list[tuple[tuple[str, ...], list[Leaf]]] = []
    if single_schema:
        roots.append(((), list(leaves)))
    elif table_level:
        by_root: dict[tuple[str, ...], list[Leaf]] = {}
        for leaf in leaves:
            by_root.setdefault(leaf.parts[: table_level - 1], []).append(leaf)
        roots.extend(by_root.items())
    else:
        _place((), list(leaves), roots)
    out = []
    for root, members in roots:
        depths = {len(m.parts) for m in members}
        if len(depths) != 1:  # mixed depths (single_schema, table_level): no partitions
            out.append(Group("/".join(root), (), tuple(((), m) for m in members)))
            continue
        out.append(_group(root, members))
    return sorted(out, key=lambda g: g.root)


def _place(
    prefix: tuple[str, ...], leaves: list[Leaf], out: list[tuple[tuple[str, ...], list[Leaf]]]
) -> None:
    if _mergeable(prefix, leaves):
        out.append((prefix, leaves))
        return
    n = len(prefix)
    direct = [leaf for leaf in leaves if len(leaf.parts) == n]
    if direct:
        out.append((prefix, direct))
    children: dict[str, list[Leaf]] = {}
    for leaf in leaves:
        if len(leaf.parts) > n:
            children.setdefault(leaf.parts[n], []).append(leaf)
    for child, members in sorted(children.items()):
        _place((*prefix, child), members, out)


def _mergeable(prefix: tuple[str, ...], leaves: list[Leaf]) -> bool:
    depths = {len(leaf.parts) for leaf in leaves}
    if len(depths) != 1:
        return False
    if depths == {len(prefix)}:
        return True
    if any(_HIVE.fullmatch(leaf.parts[len(prefix)]) for leaf in leaves):
        return True  # Hive folders are partitions, never tables
    names = {leaf.parts[len(prefix)] for leaf in leaves}
    if len(names) < 2 and not any(ch.isdigit() for name in names for ch in name):
        return False  # one named folder ('orders/') is a table of its own, not a partition
    first = leaves[0]
    return all(
        leaf.format == first.format and similar(leaf.columns, first.columns) for leaf in leaves
    )


def _group(root: tuple[str, ...], members: list[Leaf]) -> Group:
    n = len(root)
    depth = len(members[0].parts) - n
    keys = []
    for i in range(depth):
        names = {
            m.group(1) if (m := _HIVE.fullmatch(leaf.parts[n + i])) else None for leaf in members
        }
        only = next(iter(names))
        keys.append(only if len(names) == 1 and only else f"partition_{i}")
    leaves = []
    for leaf in sorted(members, key=lambda x: x.folder):
        values = tuple(partition_value(p) for p in leaf.parts[n:])
        leaves.append((values, leaf))
    return Group("/".join(root), tuple(keys), tuple(leaves))


def partition_value(part: str) -> str:
    m = _HIVE.fullmatch(part)
    return unquote(m.group(2)) if m else part
