"""One crawl of one crawler: list each target, classify samples, group into tables, diff against
the catalog per the policies, and commit it all (with the crawl's record and state) at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from glueform.catalog.crawls import (
    CRAWLER_PARAM,
    ROOT_PARAM,
    CatalogChanges,
    SeenFolder,
    commit_crawl,
    partition_sets,
    seen_folders,
)
from glueform.catalog.model import CatalogTable
from glueform.crawl.classify import CsvOptions
from glueform.crawl.listing import Filter, Problem, S3Store, open_store
from glueform.crawl.policy import (
    Found,
    TableReport,
    diff,
    extended,
    found_table,
    unique_name,
    unique_names,
)
from glueform.crawl.scan import Sampling, scan
from glueform.crawl.sqltargets import is_sql_url, reflect
from glueform.crawl.tables import Leaf, group_leaves, partition_value
from glueform.project.model import CrawlerSpec, S3Target

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore

S3_THREADS = 16  # S3 reads wait on the network; local reads are quick and stay on one thread
MAX_RECORDED_PROBLEMS = 1000  # per crawl record (the result itself keeps them all)


@dataclass(frozen=True)
class CrawlResult:
    """What one crawl found and changed: the value ``glueform crawl`` prints."""

    crawler: str
    database: str
    crawl_id: str
    dry_run: bool
    incremental: bool
    tables: tuple[TableReport, ...]
    files_listed: int
    files_read: int
    skipped: tuple[Problem, ...]
    warnings: tuple[str, ...]
    failed_targets: tuple[Problem, ...]
    partitions_added: int
    partitions_removed: int
    seconds: float

    @property
    def ok(self) -> bool:
        """Every target could be listed (skipped files are results, not failures)."""
        return not self.failed_targets

    def count(self, action: str) -> int:
        return sum(1 for t in self.tables if t.action == action)

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        if limit is not None:
            data["skipped"] = data["skipped"][:limit]
            data["warnings"] = data["warnings"][:limit]
        return data


def run_crawler(
    spec: CrawlerSpec, catalog: CatalogStore, s3: S3Target, dry_run: bool = False
) -> CrawlResult:
    started, clock = time.time(), time.perf_counter()
    crawl_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
    seen = seen_folders(catalog, spec.name)
    incremental = spec.recrawl == "crawl_new_folders_only" and bool(seen)
    tables = catalog.tables(spec.database)  # read once: the crawler's own, and the others
    owned = {t.name: t for t in tables if t.parameters.get(CRAWLER_PARAM) == spec.name}
    others = {t.name: t for t in tables if t.name not in owned}
    run = _Run(spec, s3, incremental, owned, seen)
    for target in spec.targets:
        run.target(target)
    gone: list[CatalogTable] = []
    if not incremental:
        names = {f.table.name for f in run.found}
        gone = [
            t for name, t in sorted(owned.items())
            if name not in names and not _under(t.parameters.get(ROOT_PARAM, ""), run.failed_roots)
        ]  # fmt: skip
    parts = partition_sets(catalog, spec.database, [f.table.name for f in run.found])
    changes = diff(spec, run.found, owned, others, parts, gone, incremental)
    result = CrawlResult(
        crawler=spec.name,
        database=spec.database,
        crawl_id=crawl_id,
        dry_run=dry_run,
        incremental=incremental,
        tables=tuple(changes.reports),
        files_listed=run.listed,
        files_read=run.read,
        skipped=tuple(run.skipped),
        warnings=tuple(run.warnings),
        failed_targets=tuple(run.failed),
        partitions_added=sum(r.partitions_added for r in changes.reports),
        partitions_removed=sum(r.partitions_removed for r in changes.reports),
        seconds=time.perf_counter() - clock,
    )
    if not dry_run:
        conflicts = {r.name for r in changes.reports if r.action == "conflict"}
        commit_crawl(
            catalog,
            CatalogChanges(
                crawler=spec.name,
                tables=changes.tables,
                deletes=changes.deletes,
                partitions_added=changes.added,
                partitions_removed=changes.removed,
                folders=[f for f in run.folders if f.table not in conflicts],
                replace_folders=not incremental,
                databases=[spec.database],
                summary=result.to_dict(limit=MAX_RECORDED_PROBLEMS),
            ),
            started,
            crawl_id,
        )
    return result


def _under(location: str, roots: Sequence[str]) -> bool:
    """Whether a table's root lies under a target (a folder, or a SQL URL: ``url#schema.table``)."""
    return any(location == r or location.startswith((r.rstrip("/") + "/", r + "#")) for r in roots)


class _Run:
    """The findings of one crawl as its targets are listed."""

    def __init__(
        self,
        spec: CrawlerSpec,
        s3: S3Target,
        incremental: bool,
        owned: dict[str, CatalogTable],
        seen: dict[str, SeenFolder],
    ) -> None:
        self.spec, self.s3, self.incremental, self.owned, self.seen = (
            spec,
            s3,
            incremental,
            owned,
            seen,
        )
        self.keep = Filter(spec.include, spec.exclude)
        c = spec.csv
        self.sampling = Sampling(
            spec.sample_size, spec.classifiers, CsvOptions(c.delimiter, c.quote, c.header)
        )
        self.found: list[Found] = []
        self.folders: list[SeenFolder] = []
        self.failed: list[Problem] = []
        self.failed_roots: list[str] = []
        self.skipped: list[Problem] = []
        self.warnings: list[str] = []
        self.listed = self.read = 0
        self.names = {name: t.parameters.get(ROOT_PARAM, "") for name, t in owned.items()}

    def target(self, target: str) -> None:
        if is_sql_url(target):
            reflected = reflect(self.spec, target, self.keep)
            if reflected.failed:
                self._fail(reflected.location or target, reflected.failed)
            for found in reflected.found:  # two databases may both hold main.users
                root = found.table.parameters[ROOT_PARAM]
                name = unique_name(found.table.name, root, self.names)
                self.names[name] = root
                self.found.append(replace(found, table=replace(found.table, name=name)))
            return
        store = open_store(target, self.keep, self.s3)
        root = store.location("")
        known = (
            {f[len(root) + 1 :] for f in self.seen if f.startswith(root + "/")}
            if self.incremental
            else set()
        )
        listing = store.list(known)
        if listing.failed:
            self._fail(root, listing.failed)
            return
        self.listed += len(listing.files)
        self.skipped.extend(listing.problems)
        threads = S3_THREADS if isinstance(store, S3Store) else 1
        scanned = scan(store, listing.files, self.sampling, threads)
        self.read += scanned.files_read
        self.skipped.extend(scanned.skipped)
        self.warnings.extend(scanned.warnings)
        leaves = scanned.leaves
        if self.incremental:
            leaves = self._extend_owned(store, leaves)
        groups = group_leaves(leaves, self.spec.table_level, self.spec.single_schema)
        roots = [store.location(g.root) for g in groups]
        by_root = {r: n for n, r in self.names.items()}
        names = [by_root.get(r) or unique_names(self.spec, [r], self.names)[0] for r in roots]
        for group, name, location in zip(groups, names, roots, strict=True):
            self.names[name] = location
            self._add(found_table(self.spec, name, location, group, store.location), store)

    def _fail(self, where: str, reason: str) -> None:
        self.failed.append(Problem(where, reason))
        self.failed_roots.append(where)

    def _add(self, found: Found, store: Any) -> None:
        self.found.append(found)
        self.warnings.extend(f"{found.table.name}: {w}" for w in found.warnings)
        for leaf in found.leaves:
            self.folders.append(
                SeenFolder(store.location(leaf.folder), found.table.database, found.table.name,
                           len(leaf.files), sum(f.size for f in leaf.files))
            )  # fmt: skip

    def _extend_owned(self, store: Any, leaves: list[Leaf]) -> list[Leaf]:
        """Put new folders into the tables they belong to; return the others."""
        roots = [(t.parameters.get(ROOT_PARAM, ""), t) for t in self.owned.values()]
        matched: dict[str, list[tuple[tuple[str, ...], Leaf]]] = {}
        rest = []
        for leaf in leaves:
            location = store.location(leaf.folder)
            table = None
            for root, t in roots:
                below = (
                    location[len(root) + 1 :].split("/")
                    if location.startswith(root + "/")
                    else None
                )
                if below is not None and len(below) == len(t.partition_keys):
                    table = t
                    values = tuple(partition_value(p) for p in below)
                    break
            if table is None:
                rest.append(leaf)
            else:
                matched.setdefault(table.name, []).append((values, leaf))
        for name, items in sorted(matched.items()):
            self._add(extended(self.owned[name], items, store.location), store)
        return rest
