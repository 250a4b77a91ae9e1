"""The typed, frozen model of a project as written: what the files say, each with its location."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform.errors import SourceLocation

if TYPE_CHECKING:
    from glueform.secrets import Secrets


@dataclass(frozen=True)
class GlueTarget:
    """Where the catalog is synced in AWS Glue: a region, an optional endpoint, database names."""

    region: str
    endpoint_url: str | None = None
    databases: Mapping[str, str] = field(default_factory=dict)  # local name -> Glue name

    def remote(self, database: str) -> str:
        return self.databases.get(database, database)


@dataclass(frozen=True)
class S3Target:
    """How crawlers reach S3: a region and an optional endpoint (a local moto server, MinIO)."""

    region: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class SparkTarget:
    """How a Spark target reaches Spark: a master URL, or Spark Connect, plus conf passthrough."""

    master: str = "local[*]"
    remote: str | None = None  # sc://host:port
    conf: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """Where and how a project runs: an engine, a warehouse root and a state folder."""

    name: str
    engine: str
    warehouse: str
    state_dir: Path
    threads: int = 4
    settings: Mapping[str, Any] = field(default_factory=dict)
    catalog: str | None = None  # a SQLAlchemy URL; None: a SQLite file in state_dir
    keep_versions: int = 3  # data versions kept per table (older folders are removed)
    lock_lease_minutes: float = 5.0  # a lock not renewed for this long is taken over
    glue: GlueTarget | None = None  # sync the catalog to the AWS Glue Data Catalog
    timezone: str = "UTC"  # pinned on every engine, so timestamps mean the same everywhere
    spark: SparkTarget = field(default_factory=SparkTarget)
    s3: S3Target = field(default_factory=S3Target)  # crawlers' S3 targets
    # where each engine setting is written (a value the engine refuses is shown at its line)
    setting_locations: Mapping[str, SourceLocation] = field(default_factory=dict)

    def credentials(self) -> Secrets:
        """What of the target is a secret: its catalog URL's password, settings and Spark conf
        named like secrets (``s3_secret_access_key``, ``spark.hadoop.fs.s3a.secret.key``)."""
        from glueform.secrets import SECRET_NAME, Secrets, url_secrets

        named = [(f"setting {k}", v) for k, v in self.settings.items()]
        named += [(f"spark conf {k}", v) for k, v in self.spark.conf.items()]
        return (
            url_secrets("catalog password", self.catalog)
            | url_secrets("spark remote password", self.spark.remote)
            | Secrets.of((label, str(v)) for label, v in named if SECRET_NAME.search(label))
        )


@dataclass(frozen=True)
class Column:
    name: str
    type: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceTable:
    """A declared raw table: ``source(source, name)`` reads the files at ``path``."""

    source: str
    name: str
    path: str
    format: str
    options: Mapping[str, Any]
    description: str
    columns: tuple[Column, ...]
    location: SourceLocation
    partition_keys: tuple[Column, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.source}.{self.name}"


@dataclass(frozen=True)
class CsvClassifier:
    """A custom CSV classifier: what the sniffer would otherwise guess."""

    delimiter: str | None = None
    quote: str | None = None
    header: bool | None = None


@dataclass(frozen=True)
class CrawlerSpec:
    """A crawler as written in ``crawlers/*.yml``: what to list, how to classify and group it,
    and what to do to the catalog (Glue's SchemaChangePolicy and RecrawlPolicy)."""

    name: str
    database: str
    targets: tuple[str, ...]  # absolute folders, s3:// URLs or SQLAlchemy URLs
    location: SourceLocation
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    table_prefix: str = ""
    sample_size: int = 1  # files read per leaf folder; 0: every file
    classifiers: tuple[str, ...] = ()  # empty: every built-in classifier
    csv: CsvClassifier = field(default_factory=CsvClassifier)
    update_behavior: str = "update_in_database"  # or log
    delete_behavior: str = "deprecate_in_database"  # delete_from_database | log
    recrawl: str = "crawl_everything"  # or crawl_new_folders_only
    table_level: int | None = None  # absolute depth of tables; the target folder is level 1
    single_schema: bool = False  # one table per target, whatever the schemas
    schedule: str | None = None
    schedule_location: SourceLocation | None = None
    description: str = ""


def merge_config(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """A model's config from its layers (defaults, folder, YAML, ``config()``): later layers win,
    tags accumulate (as in dbt), and ``schema`` is an alias of ``database``. The keys are those of
    ``schemas/config.schema.json``."""
    out: dict[str, Any] = {}
    tags: list[str] = []
    for layer in layers:
        for key, value in layer.items():
            if key == "tags":
                tags.extend(t for t in value if t not in tags)
            else:
                out["database" if key == "schema" else key] = value
    if tags:
        out["tags"] = tuple(tags)
    return out


@dataclass(frozen=True)
class ModelSpec:
    """A model as written: its .sql file and what YAML says about it (config not yet rendered)."""

    name: str
    path: Path
    rel_path: str
    sql: str
    base_config: Mapping[str, Any]
    description: str = ""
    columns: tuple[Column, ...] = ()
    yaml_location: SourceLocation | None = None
    language: str = "sql"  # or "python": a function over DataFrames (glueform.transforms)

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.path, 1, 1)


@dataclass(frozen=True)
class MacroFile:
    path: Path
    text: str


@dataclass(frozen=True)
class JobSpec:
    """A job (``jobs/*.yml``): a named selection of crawlers and transforms, and how to run it."""

    name: str
    location: SourceLocation
    description: str = ""
    crawlers: tuple[str, ...] = ()
    select: tuple[str, ...] = ()  # transform selectors, as in `glueform run -s`; () = no transforms
    exclude: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=dict)
    max_retries: int = 0
    retry_backoff: float = 30.0  # seconds before the first retry; doubles after each
    timeout: float | None = None  # seconds; a run still going then ends as TIMEOUT
    max_concurrent_runs: int = 1
    bookmark: str = "enable"  # enable | disable | pause, as Glue's job-bookmark-option
    tags: Mapping[str, str] = field(default_factory=dict)
    select_location: SourceLocation | None = None
    crawlers_location: SourceLocation | None = None


@dataclass(frozen=True)
class Condition:
    """Part of a conditional trigger: a job (or crawler) reaching a state."""

    kind: str  # job | crawler
    name: str
    state: str  # SUCCEEDED | FAILED | TIMEOUT | STOPPED
    location: SourceLocation

    @property
    def key(self) -> str:
        """What the run record calls it: a job's name, ``crawler:NAME`` for a crawler."""
        return self.name if self.kind == "job" else CRAWLER_KEY + self.name


CRAWLER_KEY = "crawler:"


@dataclass(frozen=True)
class TriggerSpec:
    """When jobs start: on a ``schedule``, on ``conditional`` outcomes, or ``on_demand``."""

    name: str
    type: str  # schedule | conditional | on_demand
    jobs: tuple[str, ...]
    location: SourceLocation
    schedule: str | None = None
    timezone: str = "UTC"
    conditions: tuple[Condition, ...] = ()
    logic: str = "all"  # all | any
    workflow: str | None = None
    enabled: bool = True
    description: str = ""
    schedule_location: SourceLocation | None = None
    jobs_location: SourceLocation | None = None
    timezone_location: SourceLocation | None = None


@dataclass(frozen=True)
class WorkflowSpec:
    """A named graph of triggers and jobs whose runs are tracked together as one workflow run."""

    name: str
    location: SourceLocation
    description: str = ""
    max_concurrent_runs: int = 1


@dataclass(frozen=True)
class Project:
    """Everything the files of one project say, validated and typed."""

    root: Path
    name: str
    dialect: str
    database: str
    targets: Mapping[str, Target]
    default_target: str
    vars: Mapping[str, Any]
    sources: Mapping[str, SourceTable]
    models: Mapping[str, ModelSpec]
    macros: tuple[MacroFile, ...]
    config_path: Path
    jobs: Mapping[str, JobSpec] = field(default_factory=dict)
    triggers: Mapping[str, TriggerSpec] = field(default_factory=dict)
    workflows: Mapping[str, WorkflowSpec] = field(default_factory=dict)
    crawlers: tuple[CrawlerSpec, ...] = ()

    def target(self, name: str | None) -> Target:
        from glueform.errors import UserError

        chosen = name or self.default_target
        if chosen not in self.targets:
            raise UserError(
                f"unknown target '{chosen}'",
                SourceLocation(self.config_path, 1, 1),
                hint=f"targets in glueform.yml: {', '.join(self.targets)}",
            )
        return self.targets[chosen]
