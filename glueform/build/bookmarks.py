"""Job bookmarks at run time: what an incremental model reads of each source this run.

For a file source, the files not in the bookmark, or changed since (size or modification time
differ: a changed file is read again, whole — its rows come in as new rows, so a model that
expects rewritten files should merge on a unique_key). For a table source, the rows above the
high-watermark of a declared column, or the catalog partitions added since. Each bookmarked
source is read through a relation of its own (over the listed files, or filtered), so what a
build reads is exactly what its bookmark update records.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform.catalog.locations import files_root, key_under
from glueform.catalog.model import BookmarkUpdate, CatalogTable, FileMark, Partition
from glueform.errors import UserError
from glueform.project.incremental import SourceBookmark

if TYPE_CHECKING:
    from glueform.catalog.bookmarks import Bookmark
    from glueform.catalog.store import CatalogStore
    from glueform.compile.dag import Graph, Node
    from glueform.engines import Engine


@dataclass(frozen=True)
class SourceRead:
    """What one bookmarked source gives this build."""

    mark: SourceBookmark
    table: CatalogTable
    files: tuple[FileMark, ...] = ()  # what the bookmark records: files / partition folders read,
    # keyed by their path below ``root`` (after the root moved: every file, as now found)
    paths: tuple[str, ...] = ()  # the data files to read (a partition's files, for partitions)
    watermark: Any = None  # kind column: the committed watermark (None: read every row)
    root: str | None = None  # the folder the source's files are named under


@dataclass(frozen=True)
class ReadPlan:
    """How one build of an incremental model reads: ``incremental`` is what is_incremental()
    says; ``advance``: whether the bookmark moves (not when paused or disabled)."""

    incremental: bool
    reads: tuple[SourceRead, ...] = ()
    advance: bool = False

    @property
    def nothing_new(self) -> bool:
        """An increment over file or partition bookmarks only, none of which has anything new."""
        return (
            self.incremental
            and bool(self.reads)
            and all(r.mark.kind != "column" and not r.files for r in self.reads)
        )

    @property
    def files_read(self) -> int | None:
        kinds = [r for r in self.reads if r.mark.kind != "column"]
        return sum(len(r.paths) for r in kinds) if kinds else None


def effective_mode(node: Node, override: str | None) -> str:
    """The model's bookmark option; a job's ``bookmark: disable | pause`` turns it down for the
    job's runs (a job's ``enable``, Glue's default, keeps the model's own)."""
    assert node.incremental is not None
    mode = node.incremental.bookmark
    if override in ("disable", "pause") and mode != "disable":
        return override
    return mode


def plan_reads(
    node: Node,
    graph: Graph,
    sources: Mapping[str, CatalogTable],
    current: CatalogTable | None,
    marks: Mapping[tuple[str, str], Bookmark],
    full_refresh: bool,
    override: str | None = None,
    partitions: Mapping[str, list[Partition]] | None = None,
) -> ReadPlan:
    """Decide is_incremental() and list what each bookmarked source gives. A model whose
    bookmarks are missing (never run, or reset) is built in full from everything."""
    assert node.incremental is not None
    exists = current is not None and current.location is not None and not current.is_view
    mode = effective_mode(node, override)
    if mode == "disable":
        return ReadPlan(exists and not full_refresh)
    chosen = []
    for key in node.sources:
        table = sources[key]
        mark = node.incremental.bookmarked(key, _is_file_source(table))
        if mark is not None:
            chosen.append((mark, table))
    _check_stale(node, {m.source for m, _ in chosen}, marks)
    have = all(
        (node.name, m.source) in marks and marks[(node.name, m.source)].kind == m.kind
        for m, _ in chosen
    )
    incremental = exists and not full_refresh and have
    reads = []
    for mark, table in chosen:
        previous = marks.get((node.name, mark.source)) if incremental else None
        reads.append(_source_read(node, mark, table, previous, (partitions or {}).get(mark.source)))
    return ReadPlan(incremental, tuple(reads), advance=mode == "enable")


def _check_stale(node: Node, reading: set[str], marks: Mapping[tuple[str, str], Bookmark]) -> None:
    stale = sorted(source for (n, source) in marks if n == node.name and source not in reading)
    if stale:
        raise UserError(
            f"{node.name} has a bookmark of source {stale[0]}, which it no longer reads "
            "(renamed or removed?)",
            node.location,
            hint=f"reset it, and the next run reads all of its sources again: "
            f"glueform bookmarks reset {node.name}",
        )


def _is_file_source(table: CatalogTable) -> bool:
    return table.table_type == "EXTERNAL_TABLE" and table.location is not None


def _source_read(
    node: Node,
    mark: SourceBookmark,
    table: CatalogTable,
    previous: Bookmark | None,
    partitions: list[Partition] | None,
) -> SourceRead:
    if mark.kind == "column":
        return SourceRead(mark, table, watermark=previous.watermark if previous else None)
    if table.location is None or "://" in table.location:
        raise UserError(
            f"{node.name}: a {mark.kind} bookmark needs a local source; {table.key} is at "
            f"{table.location}",
            node.location,
            hint="use a column bookmark (bookmark: {sources: {SOURCE: {column: ...}}}) "
            "or bookmark: disable",
        )
    seen = previous.files if previous else {}
    root = files_root(table.location)
    # a moved or cloned checkout: its files' times are new, so a file is the same by size
    moved = previous is not None and previous.root is not None and previous.root != root
    if mark.kind == "files":
        found = [(f, replace(f, path=key_under(f.path, root))) for f in list_files(table.location)]
        new = [(f, k) for f, k in found if not _seen(seen.get(k.path), k, moved)]
        marks = [k for _, k in (found if moved else new)]
        return SourceRead(mark, table, tuple(marks), tuple(f.path for f, _ in new), root=root)
    if not table.partition_keys:  # no folders to follow: every run would find nothing new
        raise UserError(
            f"{node.name}: a partitions bookmark needs a partitioned source; {table.key} has no "
            "partition keys",
            node.location,
            hint="bookmark it by its files (the default) or by a column: {column: updated_at}",
        )
    folders = [
        (p.location, FileMark(key_under(p.location, root), p.bytes or 0, 0.0))
        for p in (partitions or [])
    ]
    new = [(d, k) for d, k in folders if k.path not in seen]
    paths = tuple(str(f) for d, _ in new for f in sorted(Path(d).rglob("*")) if _data(f))
    marks = [k for _, k in (folders if moved else new)]
    return SourceRead(mark, table, tuple(marks), paths, root=root)


def _seen(before: FileMark | None, now: FileMark, moved: bool) -> bool:
    """Whether the bookmark has read this file as it is now (after a move: of the same size)."""
    if before is None:
        return False
    return before.size == now.size if moved else before == now


def _data(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "_"))


def list_files(pattern: str) -> list[FileMark]:
    """The files a source's path (a file or a glob) names now, with size and mtime."""
    out = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        try:
            st = os.stat(path)
        except OSError:  # gone between listing and stat: not there
            continue
        if not os.path.isdir(path):
            out.append(FileMark(path, st.st_size, st.st_mtime))
    return out


@dataclass
class Registered:
    """The relations a build reads instead of its bookmarked sources, and the updates its
    commit makes to the bookmarks."""

    relations: dict[tuple[str, str], str] = field(default_factory=dict)  # -> relation SQL
    updates: list[BookmarkUpdate] = field(default_factory=list)


def register_reads(node: Node, plan: ReadPlan, engine: Engine) -> Registered:
    """Register each bookmarked source's share of this run under a relation of the node's own."""
    from glueform.sql import literal, quote_identifier, quote_relation, type_sql

    out = Registered()
    for read in plan.reads:
        table = read.table
        name = f"glueform_read__{node.name}__{table.database}__{table.name}"
        source = quote_relation(table.database, table.name, engine.dialect)
        watermark = None
        if read.mark.kind == "column":
            column = read.mark.column or ""
            types = {c.name: c.type for c in engine.columns(table.database, table.name)}
            if column not in types:
                raise UserError(
                    f"bookmark column '{column}' is not a column of {table.key}",
                    node.location,
                    hint=f"its columns: {', '.join(types)}",
                )
            col = quote_identifier(column, engine.dialect)
            where = ""
            if read.watermark is not None:
                bound = f"CAST({literal(read.watermark, engine.dialect)} AS {type_sql(types[column], engine.dialect)})"
                where = f" WHERE {col} > {bound}"
            rel = engine.register_view(name, f"SELECT * FROM {source}{where}")
            found = engine.value(f"SELECT CAST(max({col}) AS STRING) FROM {rel}")
            watermark = read.watermark if found is None else found
        elif read.paths:
            rel = engine.register_files(name, table, list(read.paths))
        else:
            rel = engine.register_view(name, f"SELECT * FROM {source} WHERE 1 = 0")
        out.relations[(table.database, table.name)] = rel
        if plan.advance:
            out.updates.append(
                BookmarkUpdate(
                    node.name, read.mark.source, read.mark.kind, read.files, watermark, read.root
                )
            )
    return out


@dataclass(frozen=True)
class RunInputs:
    """What a run's incremental builds read besides the graph: the sources' catalog tables,
    the bookmarks, the partitions of partition-bookmarked sources."""

    sources: Mapping[str, CatalogTable] = field(default_factory=dict)
    marks: Mapping[tuple[str, str], Bookmark] = field(default_factory=dict)
    partitions: Mapping[str, list[Partition]] = field(default_factory=dict)
    # sources only bookmarked models read, by file: registered whole only if a build needs it
    # (scanning a large source for its schema is what an increment is meant not to pay)
    deferred: frozenset[str] = frozenset()
    lock: threading.Lock = field(default_factory=threading.Lock)
    registered: set[str] = field(default_factory=set)

    def ensure(self, key: str, register: Callable[[CatalogTable], None]) -> None:
        """Register a deferred source whole (once, whichever build asks first)."""
        with self.lock:
            if key in self.deferred and key not in self.registered:
                register(self.sources[key])  # a failure is reported again by the next build
                self.registered.add(key)


def run_inputs(
    graph: Graph,
    todo: set[str],
    sources: dict[str, CatalogTable],
    catalog: CatalogStore,
    override: str | None,
) -> RunInputs:
    """Bookmarks (and partitions of partition-bookmarked sources) of the incremental models."""
    incremental = [graph.nodes[n] for n in todo if graph.nodes[n].incremental is not None]
    if not incremental:
        return RunInputs(sources)
    from glueform.catalog.bookmarks import load_bookmarks

    partitioned = {
        s.source
        for node in incremental
        if node.incremental is not None
        for s in node.incremental.sources
        if s.kind == "partitions"
    }
    partitions = {
        key: catalog.partitions(sources[key].database, sources[key].name)
        for key in partitioned
        if key in sources
    }
    deferred = deferred_sources(graph, todo, sources, override)
    return RunInputs(sources, load_bookmarks(catalog), partitions, deferred)


def deferred_sources(
    graph: Graph, todo: set[str], sources: Mapping[str, CatalogTable], override: str | None
) -> frozenset[str]:
    """Sources whose every reader in this run is an incremental model that bookmarks its files."""
    readers: dict[str, list[Node]] = {}
    for name in todo | graph.upstream_of(todo):
        for key in graph.nodes[name].sources:
            readers.setdefault(key, []).append(graph.nodes[name])

    def by_files(node: Node, key: str) -> bool:
        inc = node.incremental
        if node.name not in todo or inc is None or key not in sources:
            return False
        if effective_mode(node, override) == "disable":
            return False
        mark = inc.bookmarked(key, _is_file_source(sources[key]))
        return mark is not None and mark.kind != "column"

    return frozenset(k for k, nodes in readers.items() if all(by_files(n, k) for n in nodes))
