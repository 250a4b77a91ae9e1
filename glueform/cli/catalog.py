"""``glueform catalog ...``: look into the catalog, roll a table back, see and release locks, clean up."""

from __future__ import annotations

from typing import Any

import click

from glueform.cli.base import Context, cli, common, local_time
from glueform.console import count


def _split(qualified: str) -> tuple[str, str]:
    from glueform.errors import UserError

    database, dot, name = qualified.partition(".")
    if not dot or not database or not name:
        raise UserError(
            f"'{qualified}' is not DATABASE.TABLE",
            hint="e.g. marts.fct_orders; list them with 'glueform catalog ls'",
        )
    return database, name


def _table(catalog: Any, qualified: str) -> Any:
    from glueform.errors import UserError

    database, name = _split(qualified)
    table = catalog.table(database, name)
    if table is None:
        import difflib

        names = [t.key for t in catalog.tables()]
        same = [k for k in names if k.partition(".")[2].casefold() == name.casefold()]
        close = same or difflib.get_close_matches(qualified, names, n=1)
        raise UserError(
            f"no table {qualified} in the catalog",
            hint=f"did you mean {close[0]}?" if close else "list tables with 'glueform catalog ls'",
        )
    return table


@cli.group()
def catalog() -> None:
    """Databases, tables, versions and partitions in the target's catalog, and its locks."""


@catalog.command(name="ls")
@common(json_flag=True)
@click.argument("database", required=False)
def ls(ctx: Context, database: str | None) -> int:
    """List tables (of one DATABASE, or all)."""
    with ctx.workspace().catalog() as store:
        tables = store.tables(database)
    console = ctx.console()
    console.data(
        [
            {
                "database": t.database,
                "name": t.name,
                "table_type": t.table_type,
                "version": t.version,
                "location": t.location,
                "columns": len(t.columns),
            }
            for t in tables
        ]
    )
    console.table(
        count(len(tables), "table"),
        ["table", "type", "version", "columns", "updated"],
        [
            [t.key, t.table_type, t.version, len(t.columns), local_time(t.updated_at)]
            for t in tables
        ],
        empty="glueform run builds the models' tables; glueform crawl catalogs the crawlers' data",
        right={"version", "columns"},
    )
    return 0


@catalog.command()
@common(json_flag=True)
@click.argument("table")
def show(ctx: Context, table: str) -> int:
    """Show one table: columns, partition keys, location, format, version."""
    with ctx.workspace().catalog() as store:
        found = _table(store, table)
    console = ctx.console()
    console.data(found.to_dict())
    console.markup(f"[bold]{found.key}[/] ({found.table_type}, version {found.version})")
    if found.description:
        console.lines([found.description])
    console.lines([f"location: {found.location or '-'}", f"format:   {found.format or '-'}"])
    console.table(
        "columns", ["name", "type", "comment"], [[c.name, c.type, c.comment] for c in found.columns]
    )
    if found.partition_keys:
        console.table(
            "partition keys",
            ["name", "type", "comment"],
            [[c.name, c.type, c.comment] for c in found.partition_keys],
        )
    if found.view_sql:
        console.lines(["view SQL:", found.view_sql])
    return 0


@catalog.command()
@common(json_flag=True)
@click.argument("table")
def partitions(ctx: Context, table: str) -> int:
    """List a table's partitions."""
    with ctx.workspace().catalog() as store:
        found = _table(store, table)
        parts = store.partitions(found.database, found.name)
    console = ctx.console()
    console.data(
        [
            {"values": list(p.values), "location": p.location, "rows": p.rows, "bytes": p.bytes}
            for p in parts
        ]
    )
    console.table(
        f"{count(len(parts), 'partition')} of {found.key}",
        ["values", "location", "rows"],
        [["/".join(p.values), p.location, p.rows] for p in parts],
        empty="the table has no partition keys, or no partition was added yet",
        right={"rows"},
    )
    return 0


@catalog.command()
@common(json_flag=True)
@click.argument("table")
def history(ctx: Context, table: str) -> int:
    """List a table's versions, newest first (as Glue's GetTableVersions)."""
    with ctx.workspace().catalog() as store:
        found = _table(store, table)
        versions = store.table_versions(found.database, found.name)
    console = ctx.console()
    console.data(
        [
            {
                "version": v.version,
                "created_at": v.created_at,
                "run_id": v.run_id,
                "location": v.table.location,
                "columns": [c.name for c in v.table.columns],
                "current": v.version == found.version,
            }
            for v in versions
        ]
    )
    console.table(
        f"versions of {found.key}",
        ["version", "created", "run", "location"],
        [
            [
                f"{v.version}{' *' if v.version == found.version else ''}",
                local_time(v.created_at),
                v.run_id or "-",
                v.table.location or "(view)",
            ]
            for v in versions
        ],
    )
    return 0


@catalog.command()
@common(json_flag=True)
@click.argument("text")
def search(ctx: Context, text: str) -> int:
    """Find tables by name, description, column name or comment."""
    with ctx.workspace().catalog() as store:
        found = store.search(text)
    needle = text.lower()
    matches = [[c.name for c in t.columns if needle in (c.name + c.comment).lower()] for t in found]
    console = ctx.console()
    console.data(
        [
            {"database": t.database, "name": t.name, "table_type": t.table_type, "columns": m}
            for t, m in zip(found, matches, strict=True)
        ]
    )
    console.table(
        f"{count(len(found), 'table')} match '{text}'",
        ["table", "type", "matching columns"],
        [[t.key, t.table_type, ", ".join(m)] for t, m in zip(found, matches, strict=True)],
        empty="search looks in table names, descriptions, column names and comments",
    )
    return 0


@catalog.command()
@common(json_flag=True)
@click.argument("table")
@click.option(
    "--to", "to_version", type=int, required=True, help="The version to make current again."
)
def rollback(ctx: Context, table: str, to_version: int) -> int:
    """Make an earlier version of a table current again (recorded as a new version)."""
    workspace = ctx.workspace()
    with workspace.catalog() as store:
        found = _table(store, table)
    done = workspace.rollback(found.database, found.name, to_version)
    restored = done.table
    console = ctx.console()
    console.data({**restored.to_dict(), "undone_bookmark_commits": done.undone_commits})
    console.markup(
        f"{restored.key}: version {to_version} is current again (as version {restored.version})"
    )
    if done.undone_commits:
        console.markup(
            f"its bookmarks went back too ({count(done.undone_commits, 'later commit')} undone): "
            "the next run reads again what the undone runs had read"
        )
    return 0


@catalog.command()
@common(json_flag=True)
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
def sync(ctx: Context, dry_run: bool) -> int:
    """Push the catalog to the target's AWS Glue Data Catalog (its glue: settings)."""
    from glueform.errors import UserError

    workspace = ctx.workspace()
    if workspace.target.glue is None:
        raise UserError(
            f"target '{workspace.target.name}' has no glue: settings",
            hint="add glue: {region: ..., endpoint_url: ...} to the target",
        )
    with workspace.catalog() as store:
        changes = workspace.sync_glue(store, dry_run=dry_run)
    console = ctx.console()
    console.data([{"action": c.action, "database": c.database, "name": c.name} for c in changes])
    verb = "would change" if dry_run else "changed"
    console.lines(
        [f"{c.action.replace('_', ' ')} {c.key}" for c in changes] or ["AWS Glue is in sync."]
    )
    if changes:
        console.markup(f"{len(changes)} {verb} in AWS Glue")
    return 0


@catalog.command()
@common(json_flag=True)
def locks(ctx: Context) -> int:
    """List the catalog's locks (leases): who holds each, since when, until when."""
    import time

    from glueform.catalog.leases import read_all

    with ctx.workspace().catalog() as store:
        found = read_all(store.engine)
    now = time.time()
    console = ctx.console()
    console.data([lease.to_dict(now) for lease in found])
    console.table(
        f"{len(found)} locks",
        ["name", "holder", "since", "renewed", "expires", "state"],
        [
            [x.name, f"pid {x.pid} on {x.host}", local_time(x.since), local_time(x.heartbeat_at),
             local_time(x.expires_at), x.state(now)]
            for x in found
        ],
    )  # fmt: skip
    return 0


@catalog.command()
@common(json_flag=True)
@click.argument("name")
@click.option("--yes", is_flag=True, help="Release without asking.")
def unlock(ctx: Context, name: str, yes: bool) -> int:
    """Release lock NAME whoever holds it (after a confirmation): for a holder known to be gone
    before its lease expires. A run that still holds it fails at its next commit."""
    import time

    from glueform.catalog.leases import force_release, read, read_all
    from glueform.errors import UserError

    with ctx.workspace().catalog() as store:
        lease = read(store.engine, name)
        if lease is None:
            names = [x.name for x in read_all(store.engine)]
            raise UserError(
                f"no lock named {name}",
                hint=f"locks: {', '.join(names)}" if names else "the catalog holds no locks",
            )
        console = ctx.console()
        prompt = (
            f"release {name}, held by pid {lease.pid} on {lease.host} since "
            f"{local_time(lease.since)} ({lease.state(time.time())})?"
        )
        if not yes and not click.confirm(prompt, default=False, err=True):
            console.data({"released": False, "name": name})
            console.lines(["nothing released"])
            return 1
        released = force_release(store.engine, name)
    console.data({"released": released, "name": name})
    console.markup(f"released {name}" if released else f"{name} was released meanwhile")
    return 0


@catalog.command()
@common(json_flag=True)
@click.option("--dry-run", is_flag=True, help="List what would be removed, remove nothing.")
def cleanup(ctx: Context, dry_run: bool) -> int:
    """Remove version folders no catalog record points at (what killed runs wrote)."""
    removed = ctx.workspace().cleanup(dry_run=dry_run)
    console = ctx.console()
    console.data({"dry_run": dry_run, "folders": removed})
    verb = "would remove" if dry_run else "removed"
    console.lines([f"{verb} {path}" for path in removed] or ["no orphan version folders"])
    return 0
