"""Find and load a project's files into a validated, typed :class:`Project`."""

from __future__ import annotations

import difflib
import glob
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glueform.errors import SourceLocation, UserError, snippet_at
from glueform.project.files import check_folder, read_text
from glueform.project.model import (
    CRAWLER_KEY,
    Column,
    Condition,
    CrawlerSpec,
    CsvClassifier,
    GlueTarget,
    JobSpec,
    MacroFile,
    ModelSpec,
    Project,
    S3Target,
    SourceTable,
    SparkTarget,
    Target,
    TriggerSpec,
    WorkflowSpec,
    merge_config,
)
from glueform.project.validate import validate
from glueform.project.yaml_load import YamlDoc, load_yaml

PROJECT_FILE = "glueform.yml"
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # safe in paths and SQL alike
FORMATS_BY_SUFFIX = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
COMPRESSION_SUFFIXES = (".gz", ".zst", ".zstd", ".bz2")


SOURCE_GLOBS = ("sources/*.yml", "sources/*.yaml")
TRANSFORM_DOC_GLOBS = ("transforms/**/*.yml", "transforms/**/*.yaml")
MODEL_GLOB = "transforms/**/*.sql"
PYTHON_MODEL_GLOB = "transforms/**/[!_]*.py"  # _helpers.py are modules, not transforms
MACRO_GLOB = "macros/*.sql"
JOB_GLOBS = ("jobs/*.yml", "jobs/*.yaml")
DURATION_RE = re.compile(r"(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<unit>ms|s|m|h)")
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
CRAWLER_GLOBS = ("crawlers/*.yml", "crawlers/*.yaml")


def _glob(root: Path, *patterns: str) -> list[Path]:
    for pattern in patterns:  # a folder that cannot be listed is an error, not an empty one
        check_folder(root / pattern.split("/", 1)[0], recursive="**" in pattern)
    found = (p for pattern in patterns for p in root.glob(pattern) if p.is_file())
    return sorted(found, key=lambda p: p.parts)  # Path's own order, without its __lt__


def input_files(root: Path) -> list[Path]:
    """Every file a project is loaded from (what the compile cache keys on)."""
    check_folder(root)
    return [
        root / PROJECT_FILE,
        *_glob(root, *SOURCE_GLOBS),
        *_glob(root, MODEL_GLOB, PYTHON_MODEL_GLOB, *TRANSFORM_DOC_GLOBS),
        *_glob(root, MACRO_GLOB),
        *_glob(root, *JOB_GLOBS),
        *_glob(root, *CRAWLER_GLOBS),
    ]


def load_project(
    root: Path | str,
    vars: Mapping[str, Any] | None = None,
    validated: set[str] | None = None,
) -> Project:
    """Read ``glueform.yml`` and every file it implies; raise :class:`UserError` on mistakes.

    ``validated`` holds digests of YAML texts that already passed their schema (the cache's);
    they are not validated again, and newly validated ones are added.
    """
    root = Path(root).resolve()
    checked = _Checker(validated if validated is not None else set())
    config_path = root / PROJECT_FILE
    check_folder(root)
    if config_path.is_dir():
        read_text(config_path)  # the error that says it is a folder
    if not config_path.is_file():
        raise UserError(
            f"no {PROJECT_FILE} in {root}",
            hint="run glueform in a project folder, pass -p DIR, or create one with 'glueform init DIR'",
        )
    doc = load_yaml(config_path)
    checked(doc, "project")
    data = doc.data
    name = data["name"]
    targets = _targets(root, doc)
    default_target = data.get("default_target") or next(iter(targets))
    if default_target not in targets:
        raise UserError(
            f"default_target '{default_target}' is not a target",
            doc.location(("default_target",)),
            hint=f"targets: {', '.join(targets)}",
        )
    transforms_cfg = data.get("transforms", {})
    models = _models(root, transforms_cfg.get("defaults", {}), transforms_cfg.get("folders", {}))
    _apply_transform_docs(root, models, checked)
    jobs, triggers, workflows = _jobs(root, checked)
    crawlers = _crawlers(root, checked)
    jobs, triggers = _with_crawler_schedules(crawlers, jobs, triggers)
    return Project(
        root=root,
        name=name,
        dialect=str(data.get("dialect", "duckdb")).lower(),
        database=data.get("database", name),
        targets=targets,
        default_target=default_target,
        vars={**data.get("vars", {}), **(vars or {})},
        sources=_sources(root, checked),
        models=models,
        macros=tuple(MacroFile(p, read_text(p)) for p in _glob(root, MACRO_GLOB)),
        config_path=config_path,
        jobs=jobs,
        triggers=triggers,
        workflows=workflows,
        crawlers=crawlers,
    )


def load_targets(root: Path) -> dict[str, Target]:
    """The targets of ``glueform.yml`` alone (the compile cache does not keep them: they hold
    credentials). The file was validated when the project was loaded."""
    return _targets(root, load_yaml(root / PROJECT_FILE))


def load_crawlers(root: Path, validated: set[str]) -> tuple[CrawlerSpec, ...]:
    """The crawlers alone, as :func:`load_targets` (their SQL URLs may hold passwords)."""
    return _crawlers(root, _Checker(validated))


def _targets(root: Path, doc: YamlDoc) -> dict[str, Target]:
    raw = doc.data.get("targets") or {"dev": {"engine": "duckdb"}}
    return {
        name: Target(
            name=name,
            engine=spec["engine"],
            warehouse=spec.get("warehouse", "warehouse"),
            state_dir=root / spec.get("state", ".glueform"),
            threads=spec.get("threads", 4),
            settings=spec.get("settings", {}),
            catalog=_catalog_url(root, spec.get("catalog")),
            keep_versions=spec.get("keep_versions", 3),
            lock_lease_minutes=float(spec.get("lock_lease_minutes", 5)),
            glue=GlueTarget(**spec["glue"]) if "glue" in spec else None,
            timezone=spec.get("timezone", "UTC"),
            spark=SparkTarget(**spec.get("spark", {})),
            s3=S3Target(**spec.get("s3", {})),
            setting_locations={
                key: doc.location(("targets", name, "settings", key))
                for key in spec.get("settings", {})
            },
        )
        for name, spec in raw.items()
    }


class _Checker:
    """Schema validation that skips YAML texts validated before."""

    def __init__(self, validated: set[str]) -> None:
        self.validated = validated

    def __call__(self, doc: YamlDoc, kind: str) -> None:
        from glueform.fingerprint import digest

        key = digest(kind, doc.text)
        if key not in self.validated:
            validate(doc, kind)
            self.validated.add(key)


def _catalog_url(root: Path, raw: str | None) -> str | None:
    """``sqlite:///relative.db`` is relative to the project; other URLs pass through."""
    if raw and raw.startswith("sqlite:///") and not raw.startswith("sqlite:////"):
        return f"sqlite:///{(root / raw.removeprefix('sqlite:///')).resolve()}"
    return raw


def _sources(root: Path, checked: _Checker) -> dict[str, SourceTable]:
    tables: dict[str, SourceTable] = {}
    folded: dict[str, SourceTable] = {}  # by the key without case, as the engines see it
    for path in _glob(root, *SOURCE_GLOBS):
        doc = load_yaml(path)
        checked(doc, "sources")
        for i, source in enumerate(doc.data["sources"]):
            for j, table in enumerate(source["tables"]):
                at = ("sources", i, "tables", j)
                entry = _source_table(root, doc, at, source, table)
                other = folded.get(entry.key.casefold())
                if other is not None:
                    alike = "" if other.key == entry.key else f" (as '{other.key}')"
                    raise UserError(
                        f"source table '{entry.key}' is declared twice{alike}",
                        entry.location,
                        hint=f"it is also declared at {other.location}; names are not "
                        "case-sensitive on the engines",
                    )
                tables[entry.key] = folded[entry.key.casefold()] = entry
    return tables


def _source_table(
    root: Path, doc: YamlDoc, at: tuple[Any, ...], source: dict[str, Any], table: dict[str, Any]
) -> SourceTable:
    raw_path = table["path"]
    is_remote = "://" in raw_path
    path = raw_path if is_remote else str((root / raw_path).resolve())  # absolute stays absolute
    fmt = table.get("format") or _format_from_path(raw_path)
    if fmt is None:
        loc = doc.location((*at, "path"))
        raise UserError(
            f"cannot tell the format of '{raw_path}' from its extension",
            loc,
            hint="add 'format: parquet | csv | json | ndjson'",
            snippet=snippet_at(doc.text, loc.line, loc.col),
        )
    if not is_remote and not glob.glob(path, recursive=True):
        loc = doc.location((*at, "path"))
        raise UserError(
            f"source file not found: {raw_path}",
            loc,
            hint=f"no file matches {path}; paths are relative to the project folder",
            snippet=snippet_at(doc.text, loc.line, loc.col, len(raw_path)),
        )
    options = dict(table.get("options", {}))
    if fmt == "csv" and raw_path.removesuffix(".gz").endswith(".tsv"):
        options.setdefault("delim", "\t")
    entry = SourceTable(
        source=source["name"],
        name=table["name"],
        path=path,
        format=fmt,
        options=options,
        description=table.get("description", ""),
        columns=_columns(table.get("columns", [])),
        location=doc.location(at),
        partition_keys=_columns(table.get("partition_keys", [])),
    )
    _unique_columns(
        doc,
        [(*at, "columns", k) for k in range(len(table.get("columns", [])))]
        + [(*at, "partition_keys", k) for k in range(len(table.get("partition_keys", [])))],
    )
    return entry


def _format_from_path(path: str) -> str | None:
    name = path.lower()
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    return next((fmt for sfx, fmt in FORMATS_BY_SUFFIX.items() if name.endswith(sfx)), None)


def _unique_columns(doc: YamlDoc, ats: list[tuple[Any, ...]]) -> None:
    """Declared columns (at these paths of ``doc``) whose names are equal without case would
    be one column on the engines."""
    seen: dict[str, tuple[str, SourceLocation]] = {}
    for at in ats:
        name = str(doc.data_at((*at, "name")))
        loc = doc.location((*at, "name"))
        first = seen.setdefault(name.casefold(), (name, loc))
        if first[1] != loc:
            raise UserError(
                f"column '{name}' is declared twice"
                + ("" if first[0] == name else f" (as '{first[0]}' at line {first[1].line})"),
                loc,
                hint=f"it is also declared at {first[1]}; column names are not case-sensitive "
                "on the engines",
                snippet=snippet_at(doc.text, loc.line, loc.col, len(name)),
            )


def _columns(raw: list[dict[str, Any]]) -> tuple[Column, ...]:
    return tuple(
        Column(c["name"], c.get("type"), c.get("description", ""), tuple(c.get("tags", [])))
        for c in raw
    )


def _models(
    root: Path, defaults: Mapping[str, Any], folders: Mapping[str, Mapping[str, Any]]
) -> dict[str, ModelSpec]:
    models: dict[str, ModelSpec] = {}
    folded: dict[str, ModelSpec] = {}  # name without case -> model: one look-up per file
    base = root / "transforms"
    ordered_folders = sorted(folders, key=len)
    for path in _glob(root, MODEL_GLOB, PYTHON_MODEL_GLOB):
        rel = path.relative_to(base).as_posix()
        name = path.stem
        if not NAME_RE.fullmatch(name):
            raise UserError(
                f"'{path.name}' does not make a valid model name",
                SourceLocation(path, 1, 1),
                hint="a model's name is its file's stem: use letters, digits and _, not starting with a digit",
            )
        other = folded.get(name.casefold())
        if other is not None:
            alike = "" if other.name == name else f" ('{other.name}' without case)"
            raise UserError(
                f"two models are named '{name}'{alike}: {other.path} and {path}",
                SourceLocation(path, 1, 1),
                hint="a model's name is its file's stem and must be unique, whatever its case "
                "(the engines do not tell 'Totals' from 'totals'); rename one file",
            )
        layers = [defaults] + [
            folders[f] for f in ordered_folders if rel.startswith(f.strip("/") + "/")
        ]
        config = merge_config(*layers)
        models[name] = folded[name.casefold()] = ModelSpec(
            name=name,
            path=path,
            rel_path=f"transforms/{rel}",
            sql=read_text(path),
            base_config=config,
            language="python" if path.suffix == ".py" else "sql",
        )
    return models


def _apply_transform_docs(root: Path, models: dict[str, ModelSpec], checked: _Checker) -> None:
    """Merge ``transforms/**/*.yml`` (descriptions, columns, config) into the model specs."""
    from dataclasses import replace

    seen: dict[str, SourceLocation] = {}
    for path in _glob(root, *TRANSFORM_DOC_GLOBS):
        doc = load_yaml(path)
        checked(doc, "transforms")
        for i, entry in enumerate(doc.data["transforms"]):
            name = entry["name"]
            loc = doc.location(("transforms", i, "name"))
            if name not in models:
                close = difflib.get_close_matches(name, list(models), n=1)
                raise UserError(
                    f"'{name}' is documented here but there is no transforms/**/{name}.sql",
                    loc,
                    hint=f"did you mean '{close[0]}'?"
                    if close
                    else "create the .sql file or fix the name",
                    snippet=snippet_at(doc.text, loc.line, loc.col, len(name)),
                )
            if name in seen:
                raise UserError(
                    f"'{name}' is documented twice",
                    loc,
                    hint=f"it is also documented at {seen[name]}",
                )
            seen[name] = loc
            _unique_columns(
                doc, [("transforms", i, "columns", k) for k in range(len(entry.get("columns", [])))]
            )
            spec = models[name]
            cfg = entry.get("config", {})
            merged = merge_config(spec.base_config, cfg)
            models[name] = replace(
                spec,
                base_config=merged,
                description=entry.get("description", ""),
                columns=_columns(entry.get("columns", [])),
                yaml_location=doc.location(("transforms", i)),
            )


def _jobs(
    root: Path, checked: _Checker
) -> tuple[dict[str, JobSpec], dict[str, TriggerSpec], dict[str, WorkflowSpec]]:
    """``jobs/*.yml``: jobs, triggers and workflows, each name unique across the files.
    Cross-references (a trigger's jobs, cron expressions, selectors) are checked by
    ``glueform.schedule.checks`` once the project is compiled."""
    jobs: dict[str, JobSpec] = {}
    triggers: dict[str, TriggerSpec] = {}
    workflows: dict[str, WorkflowSpec] = {}
    for path in _glob(root, *JOB_GLOBS):
        doc = load_yaml(path)
        checked(doc, "jobs")
        for i, raw in enumerate(doc.data.get("jobs") or []):
            _add_unique(jobs, _job(doc, ("jobs", i), raw), "job")
        for i, raw in enumerate(doc.data.get("triggers") or []):
            _add_unique(triggers, _trigger(doc, ("triggers", i), raw), "trigger")
        for i, raw in enumerate(doc.data.get("workflows") or []):
            spec = WorkflowSpec(
                name=raw["name"],
                location=doc.location(("workflows", i, "name")),
                description=raw.get("description", ""),
                max_concurrent_runs=raw.get("max_concurrent_runs", 1),
            )
            _add_unique(workflows, spec, "workflow")
    return jobs, triggers, workflows


def _add_unique(into: dict[str, Any], spec: Any, kind: str) -> None:
    if spec.name in into:
        raise UserError(
            f"{kind} '{spec.name}' is declared twice",
            spec.location,
            hint=f"it is also declared at {into[spec.name].location}",
        )
    into[spec.name] = spec


def _job(doc: YamlDoc, at: tuple[Any, ...], raw: dict[str, Any]) -> JobSpec:
    location = doc.location((*at, "name"))
    if not raw.get("select") and not raw.get("crawlers"):
        raise UserError(
            f"job '{raw['name']}' runs nothing",
            location,
            hint="give it 'select: [...]' (transforms, e.g. tag:nightly or '*') and/or 'crawlers: [...]'",
        )
    return JobSpec(
        name=raw["name"],
        location=location,
        description=raw.get("description", ""),
        crawlers=tuple(raw.get("crawlers", ())),
        select=tuple(raw.get("select", ())),
        exclude=tuple(raw.get("exclude", ())),
        vars=dict(raw.get("vars", {})),
        max_retries=raw.get("max_retries", 0),
        retry_backoff=_seconds(doc, (*at, "retry_backoff"), raw.get("retry_backoff", 30)),
        timeout=_seconds(doc, (*at, "timeout"), raw["timeout"]) if "timeout" in raw else None,
        max_concurrent_runs=raw.get("max_concurrent_runs", 1),
        bookmark=raw.get("bookmark", "enable"),
        tags=dict(raw.get("tags", {})),
        select_location=doc.location((*at, "select")) if "select" in raw else None,
        crawlers_location=doc.location((*at, "crawlers")) if "crawlers" in raw else None,
    )


def _trigger(doc: YamlDoc, at: tuple[Any, ...], raw: dict[str, Any]) -> TriggerSpec:
    location = doc.location((*at, "name"))
    kind = raw["type"]
    needs = {"schedule": "schedule", "conditional": "conditions"}.get(kind)
    if needs and needs not in raw:
        raise UserError(
            f"{kind} trigger '{raw['name']}' has no '{needs}'",
            location,
            hint="e.g. schedule: 'cron(0 2 * * ? *)'"
            if needs == "schedule"
            else "e.g. conditions: [{job: nightly, state: SUCCEEDED}]",
        )
    conditions = []
    for j, cond in enumerate(raw.get("conditions") or []):
        where = doc.location((*at, "conditions", j))
        if ("job" in cond) == ("crawler" in cond):
            raise UserError(
                "a condition names exactly one job or one crawler",
                where,
                hint="write {job: NAME, state: SUCCEEDED} or {crawler: NAME, state: SUCCEEDED}",
            )
        kind_of = "job" if "job" in cond else "crawler"
        conditions.append(
            Condition(
                kind_of, cond[kind_of], cond["state"], doc.location((*at, "conditions", j, kind_of))
            )
        )
    return TriggerSpec(
        name=raw["name"],
        type=kind,
        jobs=tuple(raw["jobs"]),
        location=location,
        schedule=raw.get("schedule"),
        timezone=raw.get("timezone", "UTC"),
        conditions=tuple(conditions),
        logic=raw.get("logic", "all"),
        workflow=raw.get("workflow"),
        enabled=raw.get("enabled", True),
        description=raw.get("description", ""),
        schedule_location=doc.location((*at, "schedule")) if "schedule" in raw else None,
        jobs_location=doc.location((*at, "jobs")),
        timezone_location=doc.location((*at, "timezone")) if "timezone" in raw else None,
    )


def _seconds(doc: YamlDoc, at: tuple[Any, ...], value: Any) -> float:
    """A duration: a number of seconds, or ``500ms``/``90s``/``30m``/``2h`` (the schema checked it)."""
    if isinstance(value, int | float):
        return float(value)
    m = DURATION_RE.fullmatch(str(value))
    if m is None:  # pragma: no cover - the schema's pattern refuses it first
        raise UserError(f"'{value}' is not a duration", doc.location(at), hint="e.g. 90s, 30m, 2h")
    return float(m["n"]) * DURATION_UNITS[m["unit"]]


def _crawlers(root: Path, checked: _Checker) -> tuple[CrawlerSpec, ...]:
    crawlers: dict[str, CrawlerSpec] = {}
    for path in _glob(root, *CRAWLER_GLOBS):
        doc = load_yaml(path)
        checked(doc, "crawlers")
        for i, raw in enumerate(doc.data["crawlers"]):
            at = ("crawlers", i)
            if raw["name"] in crawlers:
                raise UserError(
                    f"crawler '{raw['name']}' is defined twice",
                    doc.location((*at, "name")),
                    hint=f"it is also defined at {crawlers[raw['name']].location}",
                )
            policy = raw.get("schema_change_policy", {})
            grouping = raw.get("grouping", {})
            crawlers[raw["name"]] = CrawlerSpec(
                name=raw["name"],
                database=raw["database"],
                targets=tuple(_crawl_target(root, t) for t in raw["targets"]),
                location=doc.location(at),
                include=tuple(raw.get("include", ())),
                exclude=tuple(raw.get("exclude", ())),
                table_prefix=raw.get("table_prefix", ""),
                sample_size=raw.get("sample_size", 1),
                classifiers=tuple(raw.get("classifiers", ())),
                csv=CsvClassifier(**raw.get("csv", {})),
                update_behavior=policy.get("update_behavior", "update_in_database"),
                delete_behavior=policy.get("delete_behavior", "deprecate_in_database"),
                recrawl=raw.get("recrawl_policy", "crawl_everything"),
                table_level=grouping.get("table_level"),
                single_schema=grouping.get("single_schema", False),
                schedule=raw.get("schedule"),
                schedule_location=doc.location((*at, "schedule")) if "schedule" in raw else None,
                description=raw.get("description", ""),
            )
    return tuple(crawlers.values())


def _with_crawler_schedules(
    crawlers: tuple[CrawlerSpec, ...], jobs: dict[str, JobSpec], triggers: dict[str, TriggerSpec]
) -> tuple[dict[str, JobSpec], dict[str, TriggerSpec]]:
    """A crawler's ``schedule`` is, as in Glue, a schedule of its own: the scheduler sees a job
    ``crawler:NAME`` that runs only that crawler, and its schedule trigger (cron checked with
    the others at validate time)."""
    jobs, triggers = dict(jobs), dict(triggers)
    for crawler in crawlers:
        if crawler.schedule:
            name = CRAWLER_KEY + crawler.name
            jobs[name] = JobSpec(
                name=name,
                location=crawler.location,
                description=f"the {crawler.name} crawler on its schedule",
                crawlers=(crawler.name,),
            )
            triggers[name] = TriggerSpec(
                name=name,
                type="schedule",
                jobs=(name,),
                location=crawler.location,
                schedule=crawler.schedule,
                schedule_location=crawler.schedule_location,
            )
    return jobs, triggers


def _crawl_target(root: Path, raw: str) -> str:
    """URLs (s3://, SQLAlchemy) pass through; a folder becomes absolute (relative to the project)."""
    if "://" in raw or raw.startswith("sqlite:"):
        return _catalog_url(root, raw) or raw
    return str((root / raw).resolve()) if not Path(raw).is_absolute() else raw


def select_crawlers(project: Project, names: Sequence[str]) -> list[CrawlerSpec]:
    """The named crawlers (all of them when none is named); an unknown name is a user error."""
    by_name = {c.name: c for c in project.crawlers}
    if not by_name:
        raise UserError(
            "this project defines no crawlers",
            SourceLocation(project.config_path, 1, 1),
            hint="add crawlers/*.yml with a 'crawlers:' list (name, database, targets)",
        )
    for name in names:
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            raise UserError(
                f"no crawler named '{name}'",
                hint=f"did you mean '{close[0]}'?" if close else f"crawlers: {', '.join(by_name)}",
            )
    return [by_name[n] for n in dict.fromkeys(names)] if names else list(by_name.values())
