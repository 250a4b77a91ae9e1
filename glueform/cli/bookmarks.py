"""``glueform bookmarks show | reset | rewind``: what incremental models have read, and undoing it."""

from __future__ import annotations

import time

import click

from glueform.cli.base import Context, cli, common


@cli.group()
def bookmarks() -> None:
    """Job bookmarks: per incremental model and source, what has been read."""


@bookmarks.command()
@common(json_flag=True)
def show(ctx: Context) -> int:
    """Each bookmark: its source, kind, files read or watermark, and the run that last moved it."""
    marks = ctx.workspace().bookmarks()
    console = ctx.console()
    console.data(marks)
    rows = [
        [
            m["node"],
            m["source"],
            m["kind"],
            m["watermark"] if m["kind"] == "column" else f"{m['files']:,}",
            m["run_id"],
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m["committed_at"])),
        ]
        for m in marks
    ]
    columns = ["model", "source", "kind", "files / watermark", "last run", "committed"]
    console.table(f"{len(rows)} bookmarks", columns, rows)
    return 0


@bookmarks.command()
@common(json_flag=True)
@click.argument("name", required=False)
def reset(ctx: Context, name: str | None) -> int:
    """Forget what NAME (every model without NAME) has read: its next run reads all its input
    again and rebuilds its table from it."""
    dropped = ctx.workspace().reset_bookmarks(name)
    console = ctx.console()
    console.data({"reset": name or "all", "bookmarks": dropped})
    console.markup(f"reset {dropped} bookmark(s) of {name or 'every model'}")
    return 0


@bookmarks.command()
@common(json_flag=True)
@click.argument("name")
@click.option("--to", "run_id", required=True, help="The run to go back to (see bookmarks show).")
def rewind(ctx: Context, name: str, run_id: str) -> int:
    """Put NAME's bookmarks and table back as they were after run RUN_ID: the next run reads
    again what later runs had read."""
    table = ctx.workspace().rewind_bookmark(name, run_id)
    console = ctx.console()
    console.data({"model": name, "run_id": run_id, "version": table.version})
    console.markup(f"{name} is back at run {run_id} (table {table.key} version {table.version})")
    return 0
