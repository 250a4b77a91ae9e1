"""Project -> Graph: render every model, resolve refs and sources, parse, cross-check, fingerprint.

Rendering and parsing are cached by content (see ``cache.py``).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from glueform import __version__
from glueform.compile.cache import CompileCache, env_unchanged
from glueform.compile.dag import Graph, Node
from glueform.compile.templating import TOKEN_RE, Rendered, Renderer
from glueform.errors import SourceLocation, UserError, locate, quoted, snippet_at
from glueform.fingerprint import digest
from glueform.project.incremental import incremental_config
from glueform.project.model import Column, ModelSpec, Project, merge_config
from glueform.sql import (
    Schema,
    TableRef,
    output_names,
    parse_query,
    referenced_tables,
    transpile,
)

if TYPE_CHECKING:
    from glueform.sql.parity_typed import ParityError


def compile_project(project: Project, cache: CompileCache | None = None) -> Graph:
    """Compile every enabled model of ``project`` into a checked :class:`Graph`. An error
    never shows the value of a variable a model read with ``env_var()``."""
    cache = cache if cache is not None else CompileCache()
    renderer = Renderer(project.vars, project.macros)
    render_key = digest(
        project.vars, [m.text for m in project.macros], project.dialect, __version__
    )
    rendered: dict[str, tuple[ModelSpec, Rendered, dict[str, Any]]] = {}
    used_keys: set[str] = set()
    for spec in project.models.values():
        out, config = _render_model(project, spec, renderer, render_key, cache, used_keys)
        if config.get("enabled", True):
            for name in out.outputs or [spec.name]:  # a Python transform may return several
                _check_output_name(rendered, project, spec, name)
                rendered[name] = (spec, out, config)

    relations = {
        name: cache.relation(config.get("database", project.database), name, project.dialect)
        for name, (_, _, config) in rendered.items()
    }
    source_relations = {
        key: cache.relation(t.source, t.name, project.dialect) for key, t in project.sources.items()
    }
    for _, out, _ in rendered.values():  # crawled tables: known to the catalog, not the files
        for key in out.sources:
            if key not in source_relations:
                database, table = key.split(".", 1)
                source_relations[key] = cache.relation(database, table, project.dialect)
    with _redacting({n for _, out, _ in rendered.values() for n in out.env}):
        _check_database_names(project, rendered)
        _check_relation_clashes(rendered, relations, source_relations)
    resolved = {}
    for name, (spec, out, _) in rendered.items():
        with _redacting(out.env):
            resolved[name] = _resolve(project, spec, out, relations, source_relations)
    _parse_new(project, rendered, resolved, cache)
    nodes = {}
    for name, (spec, out, config) in rendered.items():
        with _redacting(out.env):
            nodes[name] = _node(
                project, name, spec, out, config, resolved[name], relations, source_relations,
                cache,
            )  # fmt: skip
    graph = Graph.build(nodes, project.sources, project.dialect)
    bind_keys = (
        _bind(project, graph, rendered, relations, source_relations, cache)
        if project.dialect == "duckdb"
        else None
    )
    cache.keep_only(used_keys, {n.sql_hash for n in nodes.values()}, bind_keys)
    return graph


def _resolve(
    project: Project,
    spec: ModelSpec,
    out: Rendered,
    relations: dict[str, str],
    source_relations: dict[str, str],
) -> tuple[str, str, str]:
    """The model's SQL and incremental SQL with relations in place of ref()/source(), and
    their digest."""
    for ref in out.refs:
        if ref not in relations:
            _unknown_ref(project, spec, ref)

    def resolve(match: Any) -> str:
        kind, value = match.group(1), match.group(2)
        return relations[value] if kind == "ref" else source_relations[value]

    sql = TOKEN_RE.sub(resolve, out.sql) if spec.language == "sql" else out.sql
    incremental_sql = TOKEN_RE.sub(resolve, out.incremental_sql) if out.incremental_sql else ""
    sql_hash = digest(sql, incremental_sql) if incremental_sql else digest(sql)
    return sql, incremental_sql, sql_hash


def _parse_new(
    project: Project,
    rendered: dict[str, tuple[ModelSpec, Rendered, dict[str, Any]]],
    resolved: dict[str, tuple[str, str, str]],
    cache: CompileCache,
) -> None:
    """Parse the queries the cache does not know (DuckDB's parser, in one batch, for a DuckDB
    project), check them and cache the tables they read."""
    todo = [
        (name, text)
        for name, (spec, _, _) in rendered.items()
        if spec.language == "sql" and resolved[name][2] not in cache.tables
        for i, text in enumerate(resolved[name][:2])
        if text or i == 0  # an empty model is parsed too: it is an error
    ]
    if not todo:
        return
    if project.dialect != "duckdb":
        for name, _ in todo:
            spec, out, _ = rendered[name]
            sql, incremental_sql, sql_hash = resolved[name]
            with _redacting(out.env):
                queries = [
                    parse_query(text, project.dialect, spec.path, spec.sql)
                    for text in (sql, incremental_sql)
                    if text
                ]
                _check_output_columns(spec, [output_names(q) for q in queries])
            cache.tables[sql_hash] = frozenset(t for q in queries for t in referenced_tables(q))
            cache.functions.discard(sql_hash)
            cache.dirty = True
        return
    from glueform.compile.binding import Parsed, parse_many

    parsed = parse_many([text for _, text in todo])
    found: dict[str, list[Parsed]] = {}
    for (name, text), result in zip(todo, parsed, strict=True):
        spec, out, _ = rendered[name]
        with _redacting(out.env):
            found.setdefault(name, []).append(_checked(project, spec, text, result))
    _check_literals(rendered, resolved, found)
    for name, results in found.items():
        spec, out, _ = rendered[name]
        with _redacting(out.env):
            _check_output_columns(spec, [r.names for r in results])
        sql_hash = resolved[name][2]
        cache.tables[sql_hash] = frozenset(t for r in results for t in r.tables)
        if any(r.table_functions for r in results):
            cache.functions.add(sql_hash)
        else:
            cache.functions.discard(sql_hash)
        cache.dirty = True


def _check_literals(
    rendered: dict[str, tuple[ModelSpec, Rendered, dict[str, Any]]],
    resolved: dict[str, tuple[str, str, str]],
    found: dict[str, list[Any]],
) -> None:
    """Typed literals the engine cannot read (``date '2024-13-45'``), all in one call."""
    from glueform.compile.binding import bad_literals
    from glueform.compile.positions import ModelText

    spots = [
        (name, sql, literal)
        for name, results in found.items()
        for sql, result in zip(
            [t for i, t in enumerate(resolved[name][:2]) if t or i == 0], results, strict=False
        )
        for literal in result.literals
    ]
    for (name, sql, (offset, text, type_)), bad in zip(
        spots, bad_literals([(t, ty) for _, _, (_, t, ty) in spots]), strict=True
    ):
        if bad:
            spec, out, _ = rendered[name]
            with _redacting(out.env):
                raise ModelText(spec.path, spec.sql, sql).error(
                    f"'{text}' is not a valid {type_}",
                    offset,
                    f"write a value the engine reads as {type_} (for a DATE: 'YYYY-MM-DD')",
                    len(text) + 2,
                )


def _checked(project: Project, spec: ModelSpec, sql: str, result: Any) -> Any:
    """A parse result, or the user error it is."""
    from glueform.compile.binding import Parsed, trailing_semicolon
    from glueform.compile.positions import ModelText

    text = ModelText(spec.path, spec.sql, sql)
    end = trailing_semicolon(sql)
    if end is not None:
        raise text.error(
            "the model's SQL ends with ';'",
            end,
            "remove the ';': a model is one query, which glueform wraps to build its output",
        )
    if isinstance(result, Parsed):
        return result
    if result.unsupported:  # valid SQL DuckDB cannot serialise (PIVOT ...): sqlglot reads it
        query = parse_query(sql, project.dialect, spec.path, spec.sql)
        return Parsed(frozenset(referenced_tables(query)), tuple(output_names(query)), False)
    if "expression depth" in result.message:
        raise UserError(
            "the SQL nests too deeply for the SQL parser",
            SourceLocation(spec.path, 1, 1),
            hint="name the inner parts with CTEs (with x as (...)) instead of nesting them",
        )
    if result.offset is None:
        if not sql.strip() or result.message.endswith("has nothing"):
            raise UserError(
                "the model's file holds no query",
                SourceLocation(spec.path, 1, 1),
                hint="write one SELECT query, or delete the file",
            )
        raise UserError(
            result.message,
            SourceLocation(spec.path, 1, 1),
            hint="remove trailing statements, DDL and extra semicolons; glueform writes the output",
        )
    near = _NEAR.search(result.message)
    return_width = len(near.group(1)) if near else 1
    raise text.error(
        f"SQL syntax error: {result.message}",
        result.offset,
        "the model's SQL is parsed after Jinja rendering; run 'glueform compile' to see it",
        return_width,
    )


_NEAR = re.compile(r'at or near "([^"]+)"')


def _bind(
    project: Project,
    graph: Graph,
    rendered: dict[str, tuple[ModelSpec, Rendered, dict[str, Any]]],
    relations: dict[str, str],
    source_relations: dict[str, str],
    cache: CompileCache,
) -> set[str]:
    """Bind every SQL model in DAG order against its inputs' columns (``binding.py``);
    returns the binding cache's keys it used."""
    from glueform.compile.binding import Binder, BindInput
    from glueform.compile.positions import ModelText
    from glueform.sql import quote_identifier

    databases = {project.database, *(n.database for n in graph.nodes.values())}
    databases |= {t.source for t in project.sources.values()}
    binder = Binder(
        schemas=tuple(sorted(quote_identifier(d, "duckdb") for d in databases)),
        sources={source_relations[k]: t for k, t in project.sources.items()},
        bound=cache.bound,
        source_cache=cache.source_columns,
    )
    models = []
    for name in graph.topological():
        node = graph.nodes[name]
        spec = rendered[name][0]
        models.append(
            BindInput(
                name=name,
                database=node.database,
                table=name,
                relation=relations[name],
                sql=node.sql,
                incremental_sql=node.incremental_sql,
                reads=(
                    *(relations[r] for r in node.refs),
                    *(source_relations[s] for s in node.sources),
                ),
                text=ModelText(spec.path, spec.sql, node.sql),
                bindable=node.language == "sql" and node.sql_hash not in cache.functions,
            )
        )
    before = set(cache.bound)
    try:
        with _redacting({n for _, out, _ in rendered.values() for n in out.env}):
            binder.bind_all(models)
    finally:
        binder.close()
    if set(cache.bound) != before:
        cache.dirty = True
    return binder.used


def _render_model(
    project: Project,
    spec: ModelSpec,
    renderer: Renderer,
    render_key: str,
    cache: CompileCache,
    used_keys: set[str],
) -> tuple[Rendered, dict[str, Any]]:
    """A model rendered (through the cache; an incremental one both ways) and its config."""
    key = digest(render_key, spec.sql, spec.base_config, str(spec.path))
    used_keys.add(key)
    out = cache.rendered.get(key)
    if spec.language == "python":
        from glueform.transforms.compile import python_model

        crawled = {c.database for c in project.crawlers}  # any table a crawl makes there
        out = python_model(spec.sql, spec.path, project.models, {*project.sources, *crawled})
    elif out is None or not env_unchanged(out.env):
        out = renderer.render(
            spec.sql, spec.path, spec.name, lambda s, t: _source_exists(project, s, t)
        )
        cache.rendered[key] = out
        cache.dirty = True
    with _redacting(out.env):
        config = _config(spec, out)
    if config.get("materialized") == "incremental" and spec.language == "sql":
        inc_key = digest(key, "is_incremental")
        used_keys.add(inc_key)
        inc_out = cache.rendered.get(inc_key)
        if inc_out is None or not env_unchanged(inc_out.env):
            inc_out = renderer.render(
                spec.sql, spec.path, spec.name, lambda s, t: _source_exists(project, s, t), True
            )
            cache.rendered[inc_key] = inc_out
            cache.dirty = True
        out = replace(
            out,
            incremental_sql=inc_out.sql,
            refs=[*out.refs, *(r for r in inc_out.refs if r not in out.refs)],
            sources=[*out.sources, *(s for s in inc_out.sources if s not in out.sources)],
            env={**out.env, **inc_out.env},
        )
    return out, config


@contextmanager
def _redacting(env_names: Iterable[str]) -> Iterator[None]:
    """A user error raised inside shows no value of the variables ``env_names``."""
    try:
        yield
    except UserError as exc:
        from glueform.secrets import Secrets

        raise Secrets.from_environ(os.environ, env_names).redact_error(exc) from None


def _source_exists(project: Project, source: str, table: str) -> bool:
    """A declared source table, or any table of a crawler's database (the crawl makes it)."""
    return f"{source}.{table}" in project.sources or any(
        c.database == source for c in project.crawlers
    )


def sql_for(node: Node, graph: Graph, dialect: str, schema: Schema | None = None) -> str:
    """The node's SQL in an engine's dialect (the rendered text itself when they agree).
    ``schema`` (the input tables' columns) lets the rewrites that depend on types apply."""
    if dialect == graph.dialect:
        return node.sql
    from glueform.sql.parity import ParityError

    query = parse_query(node.sql, graph.dialect, node.path, node.sql)
    try:
        return transpile(query, dialect, graph.dialect, schema)
    except ParityError as exc:
        raise _refused(node, exc) from None


def _refused(node: Node, exc: ParityError) -> UserError:
    """A construct refused for the engine, at its line in the model's file where it is found."""
    import re

    found = re.search(exc.near, node.sql, re.IGNORECASE) if exc.near else None
    if found is None or not node.path.is_file():
        return UserError(str(exc), node.location, hint=exc.hint)
    from glueform.compile.positions import ModelText
    from glueform.project.files import read_text

    text = ModelText(node.path, read_text(node.path), node.sql)
    return text.error(str(exc), found.start(), exc.hint, width=len(found.group(1)))


def known_inputs(node: Node, graph: Graph, known: Schema) -> Schema | None:
    """The part of ``known`` that ``node`` reads, or None unless every input's columns are known
    (the SQL is then shown as transpiled, untyped)."""
    from glueform.compile.dag import input_relations, input_schema

    wanted = set(input_relations(graph, node))
    schema = input_schema(graph, node.name, known)
    found = {(db, name) for db, tables in schema.items() for name, cols in tables.items() if cols}
    return schema if found >= wanted else None


def _config(spec: ModelSpec, out: Rendered) -> dict[str, Any]:
    if out.config:
        from glueform.project.validate import validate_config

        validate_config(out.config, locate(spec.sql, spec.path, "config("))
    return merge_config(spec.base_config, out.config)


def _check_relation_clashes(
    rendered: dict[str, Any], relations: dict[str, str], source_relations: dict[str, str]
) -> None:
    """Relations are compared without case: the engines do not tell ``Raw.Orders`` from
    ``raw.orders``."""
    by_relation = {rel.casefold(): key for key, rel in source_relations.items()}
    for name, (spec, _, _) in rendered.items():
        rel = relations[name].casefold()
        if rel in by_relation:
            raise UserError(
                f"model '{name}' would overwrite source table {by_relation[rel]}",
                spec.location,
                hint="give the model another database (config(database=...)) or another name",
            )


def _check_database_names(
    project: Project, rendered: dict[str, tuple[ModelSpec, Rendered, dict[str, Any]]]
) -> None:
    """Two databases whose names are equal without case are one database on the engines."""
    seen: dict[str, tuple[str, Any]] = {}  # folded -> (as written, where)
    named: list[tuple[str, Any]] = [(project.database, project.config_path)]
    named += [(t.source, t.location) for t in project.sources.values()]
    named += [(c.database, c.location) for c in project.crawlers]
    named += [
        (config.get("database", project.database), spec.location)
        for spec, _, config in rendered.values()
    ]
    for database, where in named:  # places are spelt only for the error
        first = seen.setdefault(database.casefold(), (database, where))
        if first[0] != database:
            raise UserError(
                f"databases '{first[0]}' ({first[1]}) and '{database}' ({where}) differ only "
                "in case: the engines would make them one",
                hint="spell the database the same way everywhere",
            )


def _check_output_name(
    rendered: dict[str, Any], project: Project, spec: ModelSpec, name: str
) -> None:
    """An output of a multi-output Python transform is a model name like any other."""
    if name == spec.name:  # model files among themselves: checked by the loader
        return
    folded = name.casefold()
    other = next(
        (
            s
            for n, s in [*((n, r[0]) for n, r in rendered.items()), *project.models.items()]
            if n.casefold() == folded and s is not spec
        ),
        None,
    )
    if other is not None:
        raise UserError(
            f"two models are named '{name}' (names are not case-sensitive): {other.path} "
            f"and an output of {spec.path}",
            spec.location,
            hint="a model's name must be unique; rename the output or the file",
        )


def _node(
    project: Project,
    name: str,
    spec: ModelSpec,
    out: Rendered,
    config: dict[str, Any],
    resolved: tuple[str, str, str],
    relations: dict[str, str],
    source_relations: dict[str, str],
    cache: CompileCache,
) -> Node:
    sql, incremental_sql, sql_hash = resolved
    tables = cache.tables.get(sql_hash, frozenset()) if spec.language == "sql" else frozenset()
    declared = {relations[r] for r in out.refs} | {source_relations[s] for s in out.sources}
    if incremental_sql:
        declared.add(relations[name])  # {{ this }}: the model's current version
    for table in tables:
        rel = cache.relation(table.db, table.name, project.dialect)
        if rel not in declared:
            _undeclared_table(spec, table, rel, relations, source_relations)
    materialized = config.get("materialized", "table")
    columns = spec.columns
    if out.column_types:  # a Python transform's @transform(columns={...})
        documented = {c.name: c for c in columns}
        columns = tuple(
            replace(documented.get(n, Column(n)), type=t) for n, t in out.column_types.items()
        ) + tuple(c for c in columns if c.name not in out.column_types)
    partition_by = tuple(config.get("partition_by", ()))
    if partition_by and materialized not in ("table", "incremental"):
        raise UserError(
            f"partition_by needs materialized='table' ('{spec.name}' is a {materialized})",
            spec.location,
            hint="partitions are folders of a table's data; a view has none",
        )
    incremental = incremental_config(config, partition_by, out.sources, spec.location)
    if incremental is not None and spec.language != "sql":
        raise UserError(
            "materialized='incremental' is for SQL models",
            spec.location,
            hint="a Python transform is built as a table",
        )
    return Node(
        name=name,
        path=spec.path,
        rel_path=spec.rel_path,
        database=config.get("database", project.database),
        materialized=materialized,
        tags=tuple(config.get("tags", ())),
        description=config.get("description") or spec.description,
        columns=columns,
        refs=tuple(out.refs),
        sources=tuple(out.sources),
        sql=sql,
        sql_hash=sql_hash,
        config_hash=digest(
            materialized,
            config.get("database", project.database),
            [(c.name, c.type) for c in columns],
            partition_by,
            *((incremental.key(),) if incremental else ()),
        ),
        partition_by=partition_by,
        language=spec.language,
        incremental=incremental,
        incremental_sql=incremental_sql,
        env=tuple(sorted(out.env)),
    )


def _check_output_columns(spec: ModelSpec, queries: Iterable[Iterable[str]]) -> None:
    """Output columns equal without case would be one column on the engines (DuckDB renames
    the second ``x_1``, Spark refuses it): known from the SQL alone where it names them
    (``queries``: each query's spelled-out output names)."""
    for names in queries:
        seen: dict[str, str] = {}
        for name in names:
            first = seen.get(name.casefold())
            seen.setdefault(name.casefold(), name)
            if first is None:
                continue
            alike = "twice" if first == name else f"twice ('{first}' and '{name}')"
            spots = list(re.finditer(rf"\b{re.escape(name)}\b", spec.sql))
            offset = spots[-1].start() if spots else 0
            line = spec.sql.count("\n", 0, offset) + 1
            col = offset - spec.sql.rfind("\n", 0, offset)
            raise UserError(
                f"the model names output column '{name}' {alike}",
                SourceLocation(spec.path, line, col),
                hint="column names are not case-sensitive on the engines: give one of them "
                "another name (as ...)",
                snippet=snippet_at(spec.sql, line, col, len(name)),
            )


def _unknown_ref(project: Project, spec: ModelSpec, ref: str) -> None:
    loc = locate(spec.sql, spec.path, *quoted(ref), skip=1)  # past the opening quote
    # names are matched exactly: a ref in another case is a typo to fix, not a second spelling
    same = [m for m in project.models if m.casefold() == ref.casefold()]
    close = same or difflib.get_close_matches(ref, list(project.models), n=1)
    disabled = ref in project.models
    raise UserError(
        f"ref('{ref}') names a {'disabled' if disabled else 'missing'} model",
        loc,
        hint=(
            f"'{ref}' has enabled=false"
            if disabled
            else f"did you mean '{close[0]}'? (a ref names a model in its file's case)"
            if same
            else f"did you mean '{close[0]}'?"
            if close
            else "models are the .sql files under transforms/ (name = file stem)"
        ),
        snippet=snippet_at(spec.sql, loc.line, loc.col, len(ref)),
    )


def _undeclared_table(
    spec: ModelSpec,
    table: TableRef,
    rel: str,
    relations: dict[str, str],
    source_relations: dict[str, str],
) -> None:
    model = next((n for n, r in relations.items() if r == rel), None)
    source = next((s for s, r in source_relations.items() if r == rel), None)
    if model:
        hint = f"write {{{{ ref('{model}') }}}} so the dependency is known"
    elif source:
        src, tbl = source.split(".", 1)
        hint = f"write {{{{ source('{src}', '{tbl}') }}}} so the dependency is known"
    else:
        hint = "read other tables through ref() or source() (declare raw data in sources/*.yml)"
    loc = locate(spec.sql, spec.path, table.name)
    raise UserError(
        f"the SQL reads table {table} directly, not through ref() or source()",
        loc,
        hint=hint,
        snippet=snippet_at(spec.sql, loc.line, loc.col, len(table.name)),
    )
