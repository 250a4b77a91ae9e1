"""The executor: walk the DAG in parallel, build each node, commit each output atomically.

Workers only build; the main thread owns the catalog and commits a node's new version only after
its build succeeded. A failing node skips its descendants, never its siblings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from glueform.build.bookmarks import RunInputs, run_inputs
from glueform.catalog.model import (
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    BookmarkUpdate,
    Build,
    CatalogTable,
    NodeState,
)
from glueform.compile.compiler import sql_for
from glueform.compile.dag import Graph, Node, input_relations
from glueform.engines import BuildOutput, Engine
from glueform.errors import GlueformError, RunFailure, UserError
from glueform.plan.builder import upstream_fingerprints
from glueform.plan.desired import source_table
from glueform.project.model import SourceTable
from glueform.secrets import Secrets
from glueform.sql import Schema

if TYPE_CHECKING:
    from glueform.catalog.store import CatalogStore


@dataclass(frozen=True)
class NodeResult:
    name: str
    status: str  # success | error | skipped
    rows: int | None = None
    seconds: float = 0.0
    message: str | None = None
    path: str = ""
    materialized: str = ""
    incremental: bool | None = None  # an incremental model: was this run an increment?
    new_rows: int | None = None  # an incremental model: the rows this run added or replaced
    files_read: int | None = None  # bookmarked file sources: how many files this run read


@dataclass
class RunResult:
    run_id: str
    results: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.status == "success" for r in self.results)

    def to_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "nodes": [r.__dict__ for r in self.results],
        }


class Reporter(Protocol):
    """Progress callbacks; the console implements them, the library never prints."""

    def run_started(self, total: int) -> None: ...
    def node_finished(self, result: NodeResult) -> None: ...


class SilentReporter:
    def run_started(self, total: int) -> None:
        pass

    def node_finished(self, result: NodeResult) -> None:
        pass


@dataclass(frozen=True)
class RunContext:
    """What one run needs besides the graph: where, with what, and who listens."""

    engine: Engine
    catalog: CatalogStore
    warehouse: Path
    target_name: str
    threads: int = 4
    reporter: Reporter = field(default_factory=SilentReporter)
    command: str = "run"
    vars: Mapping[str, Any] = field(default_factory=dict)  # the project's, for Python transforms
    full_refresh: bool = False  # rebuild incremental models from all of their input
    bookmark: str | None = None  # a job's bookmark option: disable or pause turns models' down
    secrets: Secrets = field(default_factory=Secrets)  # masked in every message and record


def stop_on_sigterm() -> None:
    """SIGTERM ends a run like Ctrl-C: in-flight builds stop, finished ones are committed."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def run_nodes(graph: Graph, names: Sequence[str], ctx: RunContext) -> RunResult:
    """Build ``names`` (in any order; dependencies among them are respected)."""
    started = time.perf_counter()
    catalog, engine = ctx.catalog, ctx.engine
    run_id = catalog.begin_run(ctx.target_name, ctx.command)
    result = RunResult(run_id)
    ctx.reporter.run_started(len(names))
    todo = set(names)
    tables = {(t.database, t.name): t for t in catalog.tables()}
    built = {
        n: tables[(node.database, n)]
        for n, node in graph.nodes.items()
        if (node.database, n) in tables
    }
    sources = {
        k: tables.get((t.source, t.name)) or source_table(t) for k, t in graph.sources.items()
    }
    crawled = {k for n in graph.nodes.values() for k in n.sources if k not in graph.sources}
    sources.update({k: tables[t] for k in crawled if (t := tuple(k.split(".", 1))) in tables})
    inputs = run_inputs(graph, todo, sources, catalog, ctx.bookmark)
    try:
        engine.open()
        _prepare(graph, todo, built, sources, engine, inputs.deferred, ctx.full_refresh)
        _Walk(graph, todo, built, run_id, ctx, result, inputs).run()
    except BaseException as exc:
        catalog.finish_run(run_id, "error" if isinstance(exc, Exception) else "cancelled")
        if isinstance(exc, GlueformError):  # an engine's message may quote what a model read
            raise ctx.secrets.redact_error(exc) from None
        raise
    finally:
        engine.close()
    catalog.finish_run(run_id, "success" if result.ok else "error")
    result.seconds = time.perf_counter() - started
    return result


def _prepare(
    graph: Graph,
    todo: set[str],
    built: dict[str, CatalogTable],
    sources: dict[str, CatalogTable],
    engine: Engine,
    deferred: frozenset[str] = frozenset(),
    full_refresh: bool = False,
) -> None:
    """Register what the selected nodes read but this run does not build, from the catalog
    (``deferred`` sources only when a build needs them whole)."""
    databases = {graph.nodes[n].database for n in todo} | {r.database for r in built.values()}
    engine.create_databases(databases | {t.database for t in sources.values()})
    outside = graph.upstream_of(todo) - todo
    registered: set[str] = set()
    for name in [*graph.topological(outside), *sorted(todo)]:
        for key in graph.nodes[name].sources:
            if key not in registered and key not in deferred:
                registered.add(key)
                if key not in sources:
                    raise UserError(
                        "source('{}', '{}') is not in the catalog yet".format(*key.split(".", 1)),
                        graph.nodes[name].location,
                        hint="it is a crawled table: run 'glueform crawl' first",
                    )
                _register_source(engine, sources[key], graph.sources.get(key))
        # an incremental model reads its own current version ({{ this }}) while it builds,
        # unless it is rebuilt from everything (which is also the way out when that is lost)
        increment = graph.nodes[name].incremental is not None and not full_refresh
        if name in built and (name in outside or increment):
            _register_output(engine, built[name], graph, full_refresh=name not in outside)


def _register_source(engine: Engine, table: CatalogTable, declared: SourceTable | None) -> None:
    try:
        engine.register(table)
    except Exception as exc:
        raise UserError(
            f"cannot read source {table.key}: {_engine_message(exc)}",
            declared.location if declared else None,
            hint="check the table's path, format and reader options in its sources/*.yml"
            if declared
            else "it is a crawled table: crawl again, or check its files",
        ) from exc


def _register_output(
    engine: Engine, table: CatalogTable, graph: Graph, full_refresh: bool = False
) -> None:
    """A committed output; a view is made again from its SQL, in this engine's dialect (the one
    kept in the catalog is that of the engine that built it)."""
    if table.is_view:  # its inputs are registered before it (DuckDB's names need their columns)
        node = graph.nodes[table.name]
        schema = _input_schema(graph, node, engine)
        table = replace(table, view_sql=sql_for(node, graph, engine.dialect, schema))
    try:
        engine.register(table)
    except Exception as exc:
        raise RunFailure(
            f"the current version of {table.key} cannot be read: {_engine_message(exc)}",
            hint=f"rebuild it: glueform run -s {table.name}"
            + (" --full-refresh" if full_refresh else ""),
        ) from exc


# Finished outputs are committed in batches at most this far apart: one catalog transaction per
# node would cost more than building a small model. A kill loses at most this much finished work.
FLUSH_SECONDS = 0.5


class _Walk:
    """One parallel walk of the DAG: the main thread schedules, commits and records."""

    def __init__(
        self,
        graph: Graph,
        todo: set[str],
        built: dict[str, CatalogTable],
        run_id: str,
        ctx: RunContext,
        result: RunResult,
        inputs: RunInputs,
    ) -> None:
        self.graph, self.todo, self.built, self.inputs = graph, todo, built, inputs
        self.run_id, self.ctx, self.result = run_id, ctx, result
        self.waiting = {n: {p for p in graph.parents(n) if p in todo} for n in todo}
        self.ready = sorted(n for n, deps in self.waiting.items() if not deps)
        self.finished: set[str] = set()
        self.pending: list[Build] = []
        self.pending_results: list[NodeResult] = []
        self.last_flush = time.monotonic()

    def run(self) -> None:
        threads = self.ctx.threads if self.ctx.engine.SUPPORTS_PARALLEL_BUILDS else 1
        running: dict[Future[_Built], str] = {}
        with ThreadPoolExecutor(max_workers=max(threads, 1), thread_name_prefix="glueform") as pool:
            try:
                while self.ready or running:
                    for name in self._take_ready():
                        node = self.graph.nodes[name]
                        current = self.built.get(name)
                        job = (self.graph, node, self.run_id, self.ctx, current, self.inputs)
                        running[pool.submit(_build, *job)] = name
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        self._done(running.pop(future), future.result())
                    if time.monotonic() - self.last_flush > FLUSH_SECONDS:
                        self._flush()
            except BaseException:
                for future in running:
                    future.cancel()
                self.ctx.engine.interrupt()
                raise
            finally:
                self._flush()  # what finished is committed, even when the run is stopped

    def _flush(self) -> None:
        """Commit finished outputs and node records in one transaction (each output stays atomic)."""
        if self.pending or self.pending_results:
            self.ctx.catalog.commit_builds(self.run_id, self.pending, self.pending_results)
            self.pending, self.pending_results = [], []
        self.last_flush = time.monotonic()

    def _take_ready(self) -> list[str]:
        """Ready nodes to submit; one whose upstream was never built fails here instead."""
        ready, self.ready = self.ready, []
        out = []
        for name in ready:
            missing = [
                p for p in self.graph.parents(name) if p not in self.todo and p not in self.built
            ]
            if missing:
                message = (
                    f"upstream {missing[0]} has never been built; select it too (e.g. +{name})"
                )
                self._record(_failed(self.graph.nodes[name], message, 0.0))
                self._skip_descendants(name)
            else:
                out.append(name)
        return out

    def _done(self, name: str, built: _Built) -> None:
        if built.output is not None:
            node = self.graph.nodes[name]
            previous = self.built.get(name)
            table, state = _output_records(self.graph, node, built.output, self.run_id)
            if table.view_sql:  # kept for reading (views are made again from the graph)
                table = replace(table, view_sql=self.ctx.secrets.redact(table.view_sql))
            expected = previous.version if previous else None
            if previous is not None and previous.definition() == table.definition():
                table = None  # the same view again: no new version
            partitions = built.output.partitions if node.partition_by else None
            self.pending.append(Build(table, expected, state, partitions, built.bookmarks))
        self._record(built.result)
        if built.result.status != "success":
            self._skip_descendants(name)
            return
        for child in self.graph.children(name):
            if child in self.waiting and child not in self.finished:
                self.waiting[child].discard(name)
                if not self.waiting[child]:
                    self.ready.append(child)
        self.ready.sort()

    def _record(self, res: NodeResult) -> None:
        """The one way a node's result goes out (reporter, catalog, result): its message
        masked of secrets (an engine's error may quote the SQL, values and all)."""
        if res.message:
            res = replace(res, message=self.ctx.secrets.redact(res.message))
        self.finished.add(res.name)
        self.result.results.append(res)
        self.pending_results.append(res)
        self.ctx.reporter.node_finished(res)

    def _skip_descendants(self, name: str) -> None:
        for child in self.graph.topological(self.graph.downstream(name) & self.todo):
            if child not in self.finished:
                node = self.graph.nodes[child]
                message = f"upstream {name} failed"
                self._record(
                    NodeResult(
                        child,
                        "skipped",
                        message=message,
                        path=node.rel_path,
                        materialized=node.materialized,
                    )
                )


@dataclass(frozen=True)
class _Built:
    """A worker's answer: the public result and, on success, what the engine wrote."""

    result: NodeResult
    output: BuildOutput | None = None
    bookmarks: tuple[BookmarkUpdate, ...] = ()


def _build(
    graph: Graph,
    node: Node,
    run_id: str,
    ctx: RunContext,
    current: CatalogTable | None = None,
    inputs: RunInputs | None = None,
) -> _Built:
    started = time.perf_counter()
    location = str(ctx.warehouse / node.database / node.name / run_id)
    sql: str | None = None
    try:
        if node.incremental is not None:
            return _build_incremental(graph, node, location, ctx, current, inputs or RunInputs())
        if node.language == "python":
            output = ctx.engine.build_python(node, graph, location, ctx.vars)
        else:
            sql = sql_for(node, graph, ctx.engine.dialect, _input_schema(graph, node, ctx.engine))
            output = ctx.engine.build(node, sql, location)
    except Exception as exc:  # a transform's own mistake (file and line) or the engine's message
        if node.materialized != "view":
            ctx.engine.discard(location)
        message = str(exc) if isinstance(exc, UserError) else _engine_message(exc)
        if sql is not None and sql != node.sql and not isinstance(exc, UserError):
            message = _translated_sql_error(node, ctx.engine.name, message, sql)
        return _Built(_failed(node, message, time.perf_counter() - started))
    seconds = time.perf_counter() - started
    result = NodeResult(
        node.name, "success", output.rows, seconds, None, node.rel_path, node.materialized
    )
    return _Built(result, output)


def _build_incremental(
    graph: Graph,
    node: Node,
    location: str,
    ctx: RunContext,
    current: CatalogTable | None,
    inputs: RunInputs,
) -> _Built:
    """An incremental model: read what its bookmarks say is new (or everything, on its first
    run, after a reset, with --full-refresh), then write the next version per its strategy."""
    from glueform.build.bookmarks import plan_reads, register_reads
    from glueform.engines.incremental import Increment
    from glueform.sql import quote_relation, replace_relations

    assert node.incremental is not None
    started = time.perf_counter()
    engine = ctx.engine
    plan = plan_reads(
        node, graph, inputs.sources, current, inputs.marks, ctx.full_refresh, ctx.bookmark,
        inputs.partitions,
    )  # fmt: skip

    def result(rows: int | None, new_rows: int | None, message: str | None = None) -> NodeResult:
        return NodeResult(
            node.name, "success", rows, time.perf_counter() - started, message, node.rel_path,
            node.materialized, plan.incremental, new_rows, plan.files_read,
        )  # fmt: skip

    if plan.nothing_new:
        return _Built(result(None, 0, "no new data"))
    by_list = {r.mark.source for r in plan.reads if r.mark.kind != "column" and r.paths}
    whole = set(node.sources) - by_list
    if engine.dialect != graph.dialect:  # the transpile needs every input's column types
        whole = set(node.sources)
    for key in sorted(whole):
        declared = graph.sources.get(key)
        inputs.ensure(key, lambda table, d=declared: _register_source(engine, table, d))
    source = replace(node, sql=node.incremental_sql if plan.incremental else node.sql)
    sql = sql_for(source, graph, engine.dialect, _input_schema(graph, node, engine))
    registered = register_reads(node, plan, engine)
    if registered.relations:
        sql = replace_relations(sql, registered.relations, engine.dialect)
    if not plan.incremental:
        output = engine.build(node, sql, location)
        output = replace(output, added=output.rows)
    else:
        assert current is not None
        increment = Increment(
            node.name,
            node.incremental.strategy,
            node.incremental.unique_key,
            node.partition_by,
            node.incremental.on_schema_change,
            quote_relation(node.database, node.name, engine.dialect),
            tuple((c.name, c.type) for c in (*current.columns, *current.partition_keys)),
            node.location,
            current.location,
        )
        output = engine.build_incremental(node, sql, location, increment)
    return _Built(result(output.rows, output.added), output, tuple(registered.updates))


def _input_schema(graph: Graph, node: Node, engine: Engine) -> Schema | None:
    """The columns of what ``node`` reads, as the engine sees them: the rewrites for another
    dialect than the project's need types. (None when the SQL runs as written.)"""
    if engine.dialect == graph.dialect:
        return None
    schema: Schema = {}
    for database, name in input_relations(graph, node):
        schema.setdefault(database, {})[name] = {
            c.name: c.type for c in engine.columns(database, name)
        }
    return schema


def _output_records(
    graph: Graph, node: Node, output: BuildOutput, run_id: str
) -> tuple[CatalogTable, NodeState]:
    """What the catalog records of a finished build: the table's new version and its fingerprints."""
    comments = {c.name: c.description for c in node.columns}
    is_view = node.materialized == "view"
    table = CatalogTable(
        database=node.database,
        name=node.name,
        table_type=VIRTUAL_VIEW if is_view else MANAGED_TABLE,
        columns=tuple(replace(c, comment=comments.get(c.name, "")) for c in output.columns),
        partition_keys=tuple(
            replace(c, comment=comments.get(c.name, "")) for c in output.partition_keys
        ),
        location=output.location,
        format=None if is_view else "parquet",
        parameters={"classification": "parquet"} if not is_view else {},
        description=node.description,
        view_sql=output.view_sql,
    )
    state = NodeState(
        node=node.name,
        database=node.database,
        kind=node.materialized,
        fingerprint=node.fingerprint,
        sql_hash=node.sql_hash,
        config_hash=node.config_hash,
        upstream=upstream_fingerprints(graph, node.name),
        run_id=run_id,
        built_at=time.time(),
        rows=output.rows,
    )
    return table, state


def _failed(node: Node, message: str, seconds: float) -> NodeResult:
    return NodeResult(
        node.name,
        "error",
        seconds=seconds,
        message=message,
        path=node.rel_path,
        materialized=node.materialized,
    )


def _engine_message(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


MAX_SQL_SHOWN = 4000  # characters of the SQL that ran, in a failed build's message


def _translated_sql_error(node: Node, engine: str, message: str, sql: str) -> str:
    """An engine's error on SQL the user did not write (translated for that engine, renamed):
    it names the model, its file, and shows the SQL that ran; only the first line of the
    engine's message (Spark follows it with its plans)."""
    first = message.splitlines()[0] if message else ""
    shown = sql if len(sql) <= MAX_SQL_SHOWN else sql[:MAX_SQL_SHOWN] + " ..."
    return (
        f"model {node.name} ({node.rel_path}) failed on {engine}: {first}\n"
        f"the SQL that ran on {engine} (translated from the model): {shown}"
    )
