"""Sync of the catalog to the AWS Glue Data Catalog (boto3; any endpoint, e.g. a local moto server).

``fetch`` reads the remote state, ``diff`` (pure) compares it with the local catalog, ``push``
applies the differences idempotently: databases, tables (StorageDescriptor with the SerDe and
input/output formats of Parquet, CSV and JSON, partition keys, parameters) and partitions.
Only tables glueform created (parameter ``glueform_managed``) are ever deleted remotely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glueform.catalog.model import VIRTUAL_VIEW, CatalogTable, ColumnDef, Partition
from glueform.errors import UserError
from glueform.project.model import GlueTarget

MANAGED_MARK = "glueform_managed"
PARTITION_BATCH = 100  # BatchCreatePartition accepts at most 100 partitions per call

_TEXT_IN = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
FORMATS: dict[str, tuple[str, str, str]] = {  # format -> (input format, output format, SerDe)
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
    "csv": (_TEXT_IN, _TEXT_OUT, "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
    "json": (_TEXT_IN, _TEXT_OUT, "org.openx.data.jsonserde.JsonSerDe"),
    "ndjson": (_TEXT_IN, _TEXT_OUT, "org.openx.data.jsonserde.JsonSerDe"),
}


@dataclass(frozen=True)
class GlueChange:
    action: str  # create_database | create | update | delete
    database: str  # the Glue database
    name: str = ""
    table_input: Mapping[str, Any] | None = None
    partitions: tuple[Partition, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.database}.{self.name}" if self.name else self.database


def glue_type(duckdb_type: str) -> str:
    """A DuckDB type in Hive's spelling, as Glue, Athena and Spark read it."""
    from sqlglot import exp

    try:
        return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="hive").lower()
    except Exception:
        return "string"


def table_input(table: CatalogTable, name: str | None = None) -> dict[str, Any]:
    """Glue's TableInput for a catalog table."""
    columns = [_column(c) for c in table.columns]
    parameters = {**{k: str(v) for k, v in table.parameters.items()}, MANAGED_MARK: "true"}
    out: dict[str, Any] = {
        "Name": name or table.name,
        "Description": table.description,
        "TableType": "VIRTUAL_VIEW" if table.table_type == VIRTUAL_VIEW else "EXTERNAL_TABLE",
        "PartitionKeys": [_column(c) for c in table.partition_keys],
        "Parameters": parameters,
        "StorageDescriptor": {"Columns": columns, "Location": table.location or ""},
    }
    if table.view_sql:
        out["ViewOriginalText"] = table.view_sql
    if table.format in FORMATS:
        input_format, output_format, serde = FORMATS[table.format]
        serde_params = {}
        if table.format == "csv":
            serde_params["field.delim"] = str(
                table.options.get("delim", table.options.get("sep", ","))
            )
            if table.options.get("header", True):
                parameters["skip.header.line.count"] = "1"
        out["StorageDescriptor"].update(
            InputFormat=input_format,
            OutputFormat=output_format,
            SerdeInfo={"SerializationLibrary": serde, "Parameters": serde_params},
        )
        parameters.setdefault(
            "classification", table.format if table.format != "ndjson" else "json"
        )
    return out


def _column(c: ColumnDef) -> dict[str, str]:
    return {"Name": c.name, "Type": glue_type(c.type), "Comment": c.comment}


def diff(
    settings: GlueTarget,
    local: Sequence[CatalogTable],
    partitions: Mapping[tuple[str, str], Sequence[Partition]],
    remote: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> list[GlueChange]:
    """What makes Glue match the local catalog. ``remote``: Glue database -> table -> Table."""
    changes: list[GlueChange] = []
    wanted: dict[str, set[str]] = {}
    for table in local:
        database = settings.remote(table.database)
        if database not in remote and database not in wanted:
            changes.append(GlueChange("create_database", database))
        wanted.setdefault(database, set()).add(table.name)
        desired = table_input(table)
        current = remote.get(database, {}).get(table.name)
        parts = tuple(partitions.get((table.database, table.name), ()))
        if current is None:
            changes.append(GlueChange("create", database, table.name, desired, parts))
        elif _comparable(current) != _comparable(desired):
            changes.append(GlueChange("update", database, table.name, desired, parts))
    for database, tables in sorted(remote.items()):
        for name, current in sorted(tables.items()):
            if current.get("Parameters", {}).get(MANAGED_MARK) and name not in wanted.get(
                database, set()
            ):
                changes.append(GlueChange("delete", database, name))
    return changes


def _comparable(table: Mapping[str, Any]) -> tuple[Any, ...]:
    sd = table.get("StorageDescriptor", {})
    serde = sd.get("SerdeInfo", {})
    return (
        table.get("TableType"),
        table.get("Description", ""),
        [(c["Name"], c["Type"]) for c in sd.get("Columns", [])],
        sd.get("Location", ""),
        sd.get("InputFormat"),
        serde.get("SerializationLibrary"),
        [(c["Name"], c["Type"]) for c in table.get("PartitionKeys", [])],
        {k: v for k, v in table.get("Parameters", {}).items()},
        table.get("ViewOriginalText"),
    )


class GlueCatalog:
    """A boto3 Glue client for one target's settings (boto3 is imported only here, lazily)."""

    def __init__(self, settings: GlueTarget) -> None:
        self.settings = settings
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise UserError(
                "syncing to AWS Glue needs boto3", hint="pip install 'glueform[glue]'"
            ) from None
        config = Config(
            retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30
        )
        self.client = boto3.client(
            "glue", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
        )

    def fetch(self, databases: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """The Glue tables of ``databases`` (those that exist)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for database in databases:
            try:
                pages = self.client.get_paginator("get_tables").paginate(DatabaseName=database)
                out[database] = {t["Name"]: t for page in pages for t in page["TableList"]}
            except self.client.exceptions.EntityNotFoundException:
                continue
            except Exception as exc:
                raise _unreachable(self.settings, exc) from None
        return out

    def push(self, changes: Sequence[GlueChange]) -> None:
        try:
            for change in changes:
                self._apply(change)
        except UserError:
            raise
        except Exception as exc:
            raise _unreachable(self.settings, exc) from None

    def _apply(self, change: GlueChange) -> None:
        glue = self.client
        if change.action == "create_database":
            glue.create_database(
                DatabaseInput={"Name": change.database, "Parameters": {MANAGED_MARK: "true"}}
            )
        elif change.action == "delete":
            glue.delete_table(DatabaseName=change.database, Name=change.name)
        else:
            if change.action == "create":
                glue.create_table(DatabaseName=change.database, TableInput=change.table_input)
            else:
                glue.update_table(DatabaseName=change.database, TableInput=change.table_input)
            self._replace_partitions(change)

    def _replace_partitions(self, change: GlueChange) -> None:
        glue = self.client
        existing = [
            p["Values"]
            for page in glue.get_paginator("get_partitions").paginate(
                DatabaseName=change.database, TableName=change.name
            )
            for p in page["Partitions"]
        ]
        for i in range(0, len(existing), 25):  # BatchDeletePartition takes at most 25
            batch = [{"Values": v} for v in existing[i : i + 25]]
            glue.batch_delete_partition(
                DatabaseName=change.database, TableName=change.name, PartitionsToDelete=batch
            )
        sd = (change.table_input or {}).get("StorageDescriptor", {})
        inputs = [
            {
                "Values": list(p.values),
                "StorageDescriptor": {**sd, "Location": p.location},
                "Parameters": {"numRows": str(p.rows or 0)},
            }
            for p in change.partitions
        ]
        for i in range(0, len(inputs), PARTITION_BATCH):
            result = glue.batch_create_partition(
                DatabaseName=change.database,
                TableName=change.name,
                PartitionInputList=inputs[i : i + PARTITION_BATCH],
            )
            if result.get("Errors"):
                raise UserError(f"Glue refused partitions of {change.key}: {result['Errors'][0]}")


def _unreachable(settings: GlueTarget, exc: Exception) -> UserError:
    where = settings.endpoint_url or f"AWS Glue in {settings.region}"
    return UserError(
        f"cannot sync to {where}: {exc}",
        hint="check the target's glue: settings, the endpoint and AWS credentials",
    )
