"""The library façade: a project bound to a target. It coordinates; the modules do the work.

from glueform import Workspace
ws = Workspace("example_project")
result = ws.run(select=["stg_orders+"])
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform import __version__
from glueform.build.retention import expire_versions, orphan_folders, remove_folders
from glueform.build.runner import Reporter, RunContext, RunResult, SilentReporter, run_nodes
from glueform.catalog.glue import GlueCatalog, GlueChange
from glueform.catalog.glue import diff as glue_diff
from glueform.compile.cache import CompileCache
from glueform.compile.compiler import compile_project, known_inputs, sql_for
from glueform.compile.dag import Graph, Node
from glueform.errors import SourceLocation, UserError
from glueform.fingerprint import digest
from glueform.plan.apply import apply_table_changes
from glueform.plan.builder import (
    Plan,
    TableChange,
    build_plan,
    crawler_status,
    root_changes,
    source_changes,
)
from glueform.plan.desired import source_partitions
from glueform.plan.saved import check_plan, read_plan, write_plan
from glueform.project import Project, Target, load_project
from glueform.project.files import read_bytes
from glueform.project.loader import input_files, select_crawlers

CATALOG_FILE = "catalog.db"

if TYPE_CHECKING:
    from glueform.catalog.model import CatalogTable
    from glueform.catalog.rollback import RollbackResult
    from glueform.catalog.store import CatalogStore
    from glueform.crawl.crawler import CrawlResult
    from glueform.secrets import Secrets
    from glueform.sql import Schema


class Workspace:
    """One project and one target; every CLI command is one method here."""

    def __init__(
        self,
        root: Path | str = ".",
        target: str | None = None,
        vars: Mapping[str, Any] | None = None,
        use_cache: bool = True,
        scratch: Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.target_name = target
        self.vars = dict(vars or {})
        self.use_cache = use_cache
        self.scratch = scratch  # run into this folder, with a catalog of its own (verify)

    @cached_property
    def _compiled(self) -> tuple[Project, Graph]:
        """Load and compile through the content-keyed cache (see ``cache.py``)."""
        root = self.root.resolve()
        if not self.use_cache:
            project = load_project(root, self.vars)
            return project, compile_project(project)
        cache = CompileCache.load(root)
        key = self.input_key
        reused = cache.reuse(key)
        if reused is not None:
            return reused
        project = load_project(root, self.vars, cache.validated)
        graph = compile_project(project, cache)
        env_used = {k: v for r in cache.rendered.values() for k, v in r.env.items()}
        cache.remember(key, project, graph, env_used)
        cache.save()
        return project, graph

    @cached_property
    def input_key(self) -> str:
        """Digest of every input file and var: the project's identity for caches and saved plans."""
        root = self.root.resolve()
        files = [part for f in input_files(root) if f.is_file() for part in (str(f), read_bytes(f))]
        return digest(__version__, self.vars, *files)

    @property
    def project(self) -> Project:
        return self._compiled[0]

    @property
    def graph(self) -> Graph:
        return self._compiled[1]

    @cached_property
    def target(self) -> Target:
        target = self.project.target(self.target_name)
        if self.scratch is None:
            return target
        return replace(
            target,
            state_dir=self.scratch / "state",
            warehouse=str(self.scratch / "warehouse"),
            catalog=None,
            glue=None,
        )

    @property
    def secrets(self) -> Secrets:
        """Every value that must not leave the process: what the models read with env_var(),
        the target's and the crawlers' credentials, variables named like secrets. Best effort
        before the project compiled (an error then is already clean of what it read)."""
        import os

        from glueform.secrets import Secrets, url_secrets

        compiled = "_compiled" in self.__dict__
        cached = self.__dict__.get("_secrets")
        if cached is not None and cached[0] == compiled:
            return cached[1]  # type: ignore[no-any-return]
        found = Secrets.from_environ(os.environ, self._env_names())
        try:
            target = self.target if compiled else None
        except UserError:
            target = None
        if target is not None:
            found |= target.credentials()
            for crawler in self.project.crawlers:  # SQL targets: postgresql://me:pw@host/db
                for url in crawler.targets:
                    found |= url_secrets(f"crawler {crawler.name} password", url)
        self.__dict__["_secrets"] = (compiled, found)
        return found

    def _env_names(self) -> set[str]:
        return self.graph.env_names if "_compiled" in self.__dict__ else set()

    def validate(self) -> Graph:
        """Everything compile checks, and jobs and triggers, writing nothing but the cache."""
        from glueform.schedule.checks import check_jobs

        check_jobs(self.project, self.graph)
        for dialect in self._other_dialects():  # what an engine would refuse is refused now
            for _ in self._engine_sql(list(self.graph.nodes.values()), dialect):
                pass
        return self.graph

    def _other_dialects(self) -> list[str]:
        """The dialects of the project's targets' engines other than the project's own."""
        from glueform.engines import engine_spec

        dialects = {engine_spec(t).dialect for t in self.project.targets.values()}
        return sorted(dialects - {self.graph.dialect})

    def _engine_sql(self, nodes: Sequence[Node], dialect: str) -> Iterator[tuple[Node, str]]:
        """Each node's SQL as it runs on an engine of ``dialect`` (typed rewrites where its
        inputs' columns are known); a construct that cannot be equal there is a UserError."""
        known = self._known_schema() if dialect != self.graph.dialect else {}
        for node in nodes:
            if node.language != "sql":  # a Python transform runs as written on every engine
                yield node, node.sql
                continue
            schema = known_inputs(node, self.graph, known) if known else None
            yield node, sql_for(node, self.graph, dialect, schema)

    def select(
        self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None
    ) -> list[Node]:
        graph = self.graph
        return [graph.nodes[n] for n in graph.select(select, exclude)]

    def compile(
        self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None
    ) -> list[Path]:
        """Write each selected model's SQL, in the target engine's dialect, under ``target/compiled``."""
        from glueform.engines import engine_spec

        dialect = engine_spec(self.target).dialect
        out_root = self.project.root / "target" / "compiled"
        written = []
        folders: set[Path] = set()
        secrets = self.secrets  # the files are for reading: env_var() values are masked
        files = []
        for node, sql in self._engine_sql(self.select(select, exclude), dialect):
            path = out_root / node.rel_path
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            text = secrets.redact(sql.rstrip()) + "\n"
            files.append((path, text))
            written.append(path)
        _write_changed(files)
        return written

    def _known_schema(self) -> Schema:
        """The columns of every source and model as far as known without running (the
        catalog's, if the target has one, else declared or inferred): the SQL shown for
        another engine is then the typed SQL that runs there."""
        from glueform.plan.desired import known_schema

        tables: dict[tuple[str, str], Any] = {}
        if self.target.catalog or (self.target.state_dir / CATALOG_FILE).is_file():
            with self.catalog() as catalog:
                tables = {(t.database, t.name): t for t in catalog.tables()}
        return known_schema(self.graph, tables)

    def docs(self, out: Path | None = None) -> Path:
        """Write the static docs site (default ``target/docs/``); returns its ``index.html``.

        A project that never ran has no catalog yet: the site then shows the project alone
        (and no empty catalog file is created for it)."""
        from glueform.docs.build import CatalogSnapshot, build_docs
        from glueform.docs.site import default_folder, write_site
        from glueform.engines import ENGINES

        snapshot = CatalogSnapshot()
        if self.target.catalog or (self.target.state_dir / CATALOG_FILE).is_file():
            with self.catalog() as catalog:
                snapshot = CatalogSnapshot.read(catalog)
        dialects = sorted({self.graph.dialect, *(spec.dialect for spec in ENGINES.values())})
        document = build_docs(
            self.project, self.graph, self.target, snapshot, dialects, self.secrets
        )
        return write_site(document, out or default_folder(self.project.root))

    @contextmanager
    def catalog(self) -> Iterator[CatalogStore]:
        """The target's catalog: its ``catalog:`` URL, or a SQLite file in its state folder."""
        from glueform.catalog.store import CatalogStore

        target = self.target
        root = None if "://" in target.warehouse else self._warehouse()
        lease = target.lock_lease_minutes * 60
        store = (
            CatalogStore(target.catalog, root, lease)
            if target.catalog
            else CatalogStore.for_path(target.state_dir / CATALOG_FILE, root, lease)
        )
        try:
            from glueform.catalog.jobruns import JobRuns

            JobRuns(store).stop_orphans(time.time())  # job runs whose process died end now
            yield store
        except Exception as exc:  # a damaged, full or read-only catalog: say so (exit 2)
            from glueform.catalog.failures import catalog_failure

            failure = None if isinstance(exc, UserError) else catalog_failure(store.url, exc)
            if failure is None:
                raise
            raise failure from exc
        finally:
            store.close()

    def plan(
        self,
        select: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        out: Path | None = None,
    ) -> Plan:
        """What a run would build and why, and the catalog changes; ``out`` saves it for apply."""
        from glueform.catalog.bookmarks import bookmark_roots

        names = self.graph.select(select, exclude)
        with self.catalog() as catalog:
            plan = build_plan(self.graph, names, catalog.node_states(), catalog.tables())
            plan = replace(
                plan,
                glue=tuple(self.glue_changes(catalog)),
                crawlers=tuple(crawler_status(self.project.crawlers, catalog)),
                roots=tuple(root_changes(bookmark_roots(catalog), self.graph.sources)),
            )
            if out is not None:
                write_plan(
                    out, plan, self.project.name, self.target.name, self.input_key, catalog.serial()
                )
        return plan

    def apply(
        self, path: Path, threads: int | None = None, reporter: Reporter | None = None
    ) -> RunResult:
        """Execute a saved plan, refusing it if the project or the catalog changed since."""
        saved = read_plan(path)
        with self.catalog() as catalog:
            check_plan(
                saved, path, self.project.name, self.target.name, self.input_key, catalog.serial()
            )
        return self._execute(list(saved.to_build), saved.tables, threads, reporter, "apply")

    def run(
        self,
        select: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        threads: int | None = None,
        reporter: Reporter | None = None,
        command: str = "run",
        full_refresh: bool = False,
        bookmark: str | None = None,
        lock_wait: float = 0.0,
    ) -> RunResult:
        """Build the selected nodes (declaring sources first); outputs commit as they succeed.
        ``command`` is what the run record says started it (a job run names itself there);
        ``full_refresh`` rebuilds incremental models from all their input; ``bookmark`` is a
        job's bookmark option (``disable`` or ``pause`` turns the models' bookmarks down);
        ``lock_wait``: seconds to wait for another run's lock."""
        names = self.graph.select(select, exclude)
        options = {"full_refresh": full_refresh, "bookmark": bookmark}
        return self._execute(names, None, threads, reporter, command, options, lock_wait)

    def _execute(
        self,
        names: Sequence[str],
        table_changes: Sequence[TableChange] | None,
        threads: int | None,
        reporter: Reporter | None,
        command: str,
        options: Mapping[str, Any] | None = None,
        lock_wait: float = 0.0,
    ) -> RunResult:
        """Apply catalog changes (by default: the sources' declarations), then build ``names``."""
        from glueform.engines import create_engine

        engine = create_engine(self.target, self.project.root)
        warehouse = self._warehouse()
        with self.catalog() as catalog, catalog.lock(f"run:{self.project.name}", lock_wait):
            if table_changes is None:
                table_changes = source_changes(self.graph, catalog.tables())
            apply_table_changes(catalog, self.graph, table_changes)
            for source in self.graph.sources.values():
                if source.partition_keys:
                    catalog.replace_partitions(
                        source.source, source.name, source_partitions(source)
                    )
            ctx = RunContext(
                engine=engine,
                catalog=catalog,
                warehouse=warehouse,
                target_name=self.target.name,
                threads=threads or self.target.threads,
                reporter=reporter or SilentReporter(),
                command=command,
                vars=self.project.vars,
                secrets=self.secrets,
                **(options or {}),
            )
            result = run_nodes(self.graph, names, ctx)
            built = [self.graph.nodes[r.name] for r in result.results if r.status == "success"]
            tables = [(n.database, n.name) for n in built if n.materialized != "view"]
            expire_versions(catalog, tables, self.target.keep_versions)
            selected = [self.graph.nodes[n] for n in names]
            attempted = [(n.database, n.name) for n in selected if n.materialized != "view"]
            remove_folders(orphan_folders(catalog, warehouse, attempted))  # a killed run's
            self.sync_glue(catalog)
            return result

    def cleanup(self, dry_run: bool = False) -> list[str]:
        """Remove the version folders no catalog record points at (left by killed runs), under
        the run lock so that no run's uncommitted folder is taken; return them."""
        warehouse = self._warehouse()
        with self.catalog() as catalog, catalog.lock(f"run:{self.project.name}"):
            orphans = orphan_folders(catalog, warehouse)
            return [str(p) for p in orphans] if dry_run else remove_folders(orphans)

    def bookmarks(self) -> list[dict[str, Any]]:
        """Every incremental model's bookmarks: per source, what it has read and when."""
        from glueform.catalog.bookmarks import load_bookmarks

        with self.catalog() as catalog:
            marks = load_bookmarks(catalog)
        return [m.to_dict() for _, m in sorted(marks.items())]

    def reset_bookmarks(self, name: str | None = None) -> int:
        """Forget what ``name`` (or every model) has read; its next run rebuilds from all input."""
        from glueform.catalog.bookmarks import reset_bookmarks

        if name is not None:
            self._incremental_node(name)
        with self.catalog() as catalog, catalog.lock(f"run:{self.project.name}"):
            return reset_bookmarks(catalog, name)

    def rewind_bookmark(self, name: str, run_id: str) -> CatalogTable:
        """Put ``name``'s bookmarks and table back as they were after run ``run_id``."""
        from glueform.catalog.rollback import rollback

        node = self._incremental_node(name)
        with self.catalog() as catalog, catalog.lock(f"run:{self.project.name}"):
            return rollback(catalog, node.database, name, run_id=run_id).table

    def rollback(self, database: str, name: str, to_version: int) -> RollbackResult:
        """Make version ``to_version`` of a table current again, with its model's bookmarks as
        they were then; under the run lock, so no run commits meanwhile."""
        from glueform.catalog.rollback import rollback

        with self.catalog() as catalog, catalog.lock(f"run:{self.project.name}"):
            return rollback(catalog, database, name, to_version)

    def _incremental_node(self, name: str) -> Node:
        node = self.graph.nodes.get(name)
        if node is None or node.incremental is None:
            import difflib

            names = [n for n, x in self.graph.nodes.items() if x.incremental is not None]
            close = difflib.get_close_matches(name, names, n=1)
            raise UserError(
                f"'{name}' is not an incremental model of the project",
                hint=f"did you mean '{close[0]}'?"
                if close
                else f"incremental models: {', '.join(sorted(names)) or 'none'}",
            )
        return node

    def crawl(self, names: Sequence[str] = (), dry_run: bool = False) -> list[CrawlResult]:
        """Run the named crawlers (all when none is named), one after the other; each commits
        what it found in one catalog transaction (nothing with ``dry_run``)."""
        from glueform.crawl.crawler import run_crawler

        chosen = select_crawlers(self.project, names)
        with self.catalog() as catalog:
            results = []
            for spec in chosen:
                with catalog.lock(f"crawl:{spec.name}"):
                    results.append(run_crawler(spec, catalog, self.target.s3, dry_run))
        return results

    def glue_changes(self, catalog: CatalogStore) -> list[GlueChange]:
        """What a sync to the target's AWS Glue catalog would change (nothing without ``glue:``)."""
        glue = self.target.glue
        if glue is None:
            return []
        local = catalog.tables()
        databases = sorted({glue.remote(t.database) for t in local} | set(glue.databases.values()))
        remote = self._glue.fetch(databases)
        parts = {
            (t.database, t.name): catalog.partitions(t.database, t.name)
            for t in local
            if t.partition_keys
        }
        return glue_diff(glue, local, parts, remote)

    def sync_glue(self, catalog: CatalogStore, dry_run: bool = False) -> list[GlueChange]:
        changes = self.glue_changes(catalog)
        if changes and not dry_run:
            self._glue.push(changes)
        return changes

    @cached_property
    def _glue(self) -> GlueCatalog:
        """One Glue client per workspace (plan fetches, run and sync fetch then push)."""
        assert self.target.glue is not None
        return GlueCatalog(self.target.glue)

    def _warehouse(self) -> Path:
        raw = self.target.warehouse
        if "://" in raw:
            raise UserError(
                f"target '{self.target.name}': remote warehouse '{raw}' is not supported by this version",
                SourceLocation(self.project.config_path, 1, 1),
                hint="use a local folder for warehouse:",
            )
        return (self.project.root / raw).resolve()


def _write_changed(files: Sequence[tuple[Path, str]]) -> None:
    """Write each file whose text differs, a few at a time: creating a thousand small files
    is the file system's latency, which threads overlap (the GIL is free meanwhile)."""
    from concurrent.futures import ThreadPoolExecutor

    def write(item: tuple[Path, str]) -> None:
        path, text = item
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")

    if len(files) < 50:
        for item in files:
            write(item)
        return
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, files))
