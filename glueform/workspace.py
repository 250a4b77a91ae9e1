"""The library façade: a project bound to a target. It coordinates; the modules do the work.

from glueform import Workspace
ws = Workspace("example_project")
result = ws.run(select=["stg_orders+"])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from glueform import __version__
from glueform.cache import CompileCache, digest
from glueform.catalog import CatalogStore
from glueform.compiler import compile_project, sql_for
from glueform.dag import Graph, Node
from glueform.errors import SourceLocation, UserError
from glueform.plan import Plan, build_plan
from glueform.project import Project, Target, load_project
from glueform.project.loader import input_files
from glueform.retention import expire_versions
from glueform.runner import Reporter, RunContext, RunResult, SilentReporter, run_nodes

CATALOG_FILE = "catalog.db"


class Workspace:
    """One project and one target; every CLI command is one method here."""

    def __init__(
        self,
        root: Path | str = ".",
        target: str | None = None,
        vars: Mapping[str, Any] | None = None,
        use_cache: bool = True,
    ) -> None:
        self.root = Path(root)
        self.target_name = target
        self.vars = dict(vars or {})
        self.use_cache = use_cache

    @cached_property
    def _compiled(self) -> tuple[Project, Graph]:
        """Load and compile through the content-keyed cache (see ``cache.py``)."""
        root = self.root.resolve()
        if not self.use_cache:
            project = load_project(root, self.vars)
            return project, compile_project(project)
        cache = CompileCache.load(root)
        key = digest(
            __version__,
            self.vars,
            *[part for f in input_files(root) if f.is_file() for part in (str(f), f.read_bytes())],
        )
        reused = cache.reuse(key)
        if reused is not None:
            return reused
        project = load_project(root, self.vars, cache.validated)
        graph = compile_project(project, cache)
        env_used = {k: v for r in cache.rendered.values() for k, v in r.env.items()}
        cache.remember(key, project, graph, env_used)
        cache.save()
        return project, graph

    @property
    def project(self) -> Project:
        return self._compiled[0]

    @property
    def graph(self) -> Graph:
        return self._compiled[1]

    @cached_property
    def target(self) -> Target:
        return self.project.target(self.target_name)

    def validate(self) -> Graph:
        """Everything compile checks, writing nothing but the cache."""
        return self.graph

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
        for node in self.select(select, exclude):
            path = out_root / node.rel_path
            path.parent.mkdir(parents=True, exist_ok=True)
            text = sql_for(node, self.graph, dialect).rstrip() + "\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            written.append(path)
        return written

    @contextmanager
    def catalog(self) -> Iterator[CatalogStore]:
        """The target's catalog: its ``catalog:`` URL, or a SQLite file in its state folder."""
        target = self.target
        store = (
            CatalogStore(target.catalog)
            if target.catalog
            else CatalogStore.for_path(target.state_dir / CATALOG_FILE)
        )
        try:
            yield store
        finally:
            store.close()

    def plan(
        self, select: Sequence[str] | None = None, exclude: Sequence[str] | None = None
    ) -> Plan:
        names = self.graph.select(select, exclude)
        with self.catalog() as catalog:
            return build_plan(self.graph, names, catalog.node_states())

    def run(
        self,
        select: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        threads: int | None = None,
        reporter: Reporter | None = None,
    ) -> RunResult:
        """Build the selected nodes; each output is committed to the catalog as it succeeds."""
        from glueform.engines import create_engine

        names = self.graph.select(select, exclude)
        engine = create_engine(self.target, self.project.root)
        with self.catalog() as catalog, catalog.lock(f"run:{self.project.name}"):
            ctx = RunContext(
                engine=engine,
                catalog=catalog,
                warehouse=self._warehouse(),
                target_name=self.target.name,
                threads=threads or self.target.threads,
                reporter=reporter or SilentReporter(),
            )
            result = run_nodes(self.graph, names, ctx)
            built = [self.graph.nodes[r.name] for r in result.results if r.status == "success"]
            tables = [(n.database, n.name) for n in built if n.materialized == "table"]
            expire_versions(catalog, tables, self.target.keep_versions)
            return result

    def _warehouse(self) -> Path:
        raw = self.target.warehouse
        if "://" in raw:
            raise UserError(
                f"target '{self.target.name}': remote warehouse '{raw}' is not supported by this version",
                SourceLocation(self.project.config_path, 1, 1),
                hint="use a local folder for warehouse:",
            )
        return (self.project.root / raw).resolve()
