"""SQL database targets (Glue's JDBC crawler): tables and columns reflected with SQLAlchemy's
inspector. Include/exclude globs match ``schema/table``; tables are named ``schema_table``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glueform.catalog.crawls import CRAWLER_PARAM, ROOT_PARAM
from glueform.catalog.model import EXTERNAL_TABLE, CatalogTable, ColumnDef
from glueform.crawl.listing import Filter
from glueform.crawl.policy import Found, table_name
from glueform.project.model import CrawlerSpec

SYSTEM_SCHEMAS = {
    "information_schema",
    "pg_catalog",
    "pg_toast",
    "mysql",
    "performance_schema",
    "sys",
}


@dataclass
class Reflected:
    found: list[Found] = field(default_factory=list)
    failed: str | None = None
    location: str = ""


def is_sql_url(target: str) -> bool:
    scheme = target.partition("://")[0] if "://" in target else target.partition(":")[0]
    return scheme.split("+")[0] in {
        "postgresql",
        "postgres",
        "mysql",
        "mariadb",
        "sqlite",
        "mssql",
        "oracle",
    }


def reflect(spec: CrawlerSpec, url: str, keep: Filter) -> Reflected:
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    out = Reflected()
    try:
        parsed = make_url(url)
        out.location = parsed.render_as_string(hide_password=True).replace("***", "")
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, connect_args=_timeout(parsed.get_backend_name()))
    except Exception as exc:  # bad URL, missing driver: never its password in a report
        scheme, _, rest = url.partition("://")
        out.location = f"{scheme}://{rest.rsplit('@', 1)[-1]}" if rest else url.split("@")[-1]
        out.failed = f"cannot use {out.location}: {exc}"
        return out
    try:
        inspector = inspect(engine)
        for schema in inspector.get_schema_names():
            if schema in SYSTEM_SCHEMAS:
                continue
            for name in inspector.get_table_names(schema=schema):
                if keep(f"{schema}/{name}"):
                    out.found.append(
                        _found(
                            spec,
                            out.location,
                            schema,
                            name,
                            inspector.get_columns(name, schema=schema),
                        )
                    )
    except SQLAlchemyError as exc:
        out.failed = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    finally:
        engine.dispose()
    return out


def _timeout(backend: str) -> dict[str, Any]:
    return {"connect_timeout": 3} if backend in ("postgresql", "mysql", "mariadb") else {}


def _found(
    spec: CrawlerSpec, location: str, schema: str, name: str, columns: list[dict[str, Any]]
) -> Found:
    table = CatalogTable(
        database=spec.database,
        name=table_name(spec, f"{schema}_{name}"),
        table_type=EXTERNAL_TABLE,
        columns=tuple(
            ColumnDef(c["name"], _type(c["type"]), c.get("comment") or "") for c in columns
        ),
        location=location,
        format="jdbc",
        options={"schema": schema, "table": name},
        parameters={
            "classification": "jdbc",
            CRAWLER_PARAM: spec.name,
            ROOT_PARAM: f"{location}#{schema}.{name}",
        },
        description=f"crawled by {spec.name}",
    )
    return Found(table, (), ())


def _type(t: Any) -> str:
    from sqlalchemy import types as st

    if isinstance(t, st.Boolean):
        return "BOOLEAN"
    if isinstance(t, st.SmallInteger):
        return "SMALLINT"
    if isinstance(t, st.BigInteger):
        return "BIGINT"
    if isinstance(t, st.Integer):
        return "INTEGER"
    if isinstance(t, st.Float):
        return "DOUBLE"
    if isinstance(t, st.Numeric):
        return f"DECIMAL({t.precision or 38},{t.scale or 0})"
    if isinstance(t, st.DateTime):
        return "TIMESTAMP WITH TIME ZONE" if getattr(t, "timezone", False) else "TIMESTAMP"
    if isinstance(t, st.Date):
        return "DATE"
    if isinstance(t, st.Time):
        return "TIME"
    if isinstance(t, st.LargeBinary):
        return "BLOB"
    if isinstance(t, st.JSON):
        return "JSON"
    return "VARCHAR"
