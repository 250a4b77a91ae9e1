"""``glueform <verb>``: each command parses options, calls one Workspace method, renders the result.

Only click is imported at start-up; the library is imported inside the commands so that
``glueform --help`` stays instant. The group, the shared options and the error handling live in
``base.py``; importing this module registers every command on that group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from glueform.cli import bookmarks as _bookmarks  # noqa: F401  (registers `glueform bookmarks`)
from glueform.cli import catalog as _catalog  # noqa: F401  (registers `glueform catalog`)
from glueform.cli import crawl as _crawl  # noqa: F401  (registers `glueform crawl`)
from glueform.cli import docs as _docs  # noqa: F401  (registers `glueform docs`)
from glueform.cli import jobs as _jobs  # noqa: F401  (registers `glueform jobs`, `runs`, `logs`, `scheduler`)
from glueform.cli.base import Context, cli, closed_stdout, common, selection
from glueform.cli.base import stop_on_sigterm as _stop_on_sigterm
from glueform.console import count

__all__ = ["cli", "main"]


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--name", help="Project name (default: the folder's name).")
def init(directory: str, name: str | None) -> None:
    """Create a new project in DIRECTORY from the built-in scaffold."""
    from glueform.errors import GlueformError
    from glueform.scaffold import create_project

    ctx = click.get_current_context().ensure_object(Context)
    try:
        written = create_project(Path(directory), name)
    except GlueformError as exc:
        ctx.console().error(exc)
        sys.exit(exc.exit_code)
    click.echo(
        f"created {count(len(written), 'file')} in {directory}; next: glueform run -p {directory}"
    )


@cli.command()
@common(json_flag=True)
def validate(ctx: Context) -> int:
    """Check the whole project (YAML, Jinja, SQL, refs, cycles) without writing anything."""
    ws = ctx.workspace()
    graph = ws.validate()
    summary = {
        "ok": True,
        "models": len(graph.nodes),
        "sources": len(graph.sources),
        "jobs": len(ws.project.jobs),
        "triggers": len(ws.project.triggers),
    }
    ctx.console().data(summary)
    ctx.console().markup(
        "[green]ok[/]: "
        + ", ".join(count(summary[k], k[:-1]) for k in ("models", "sources", "jobs", "triggers"))
    )
    return 0


@cli.command(name="compile")
@common(json_flag=True)
@selection
def compile_(ctx: Context, select: tuple[str, ...], exclude: tuple[str, ...]) -> int:
    """Render, check and write each model's SQL under target/compiled/."""
    paths = ctx.workspace().compile(select, exclude)
    console = ctx.console()
    console.data([str(p) for p in paths])
    console.markup(f"compiled {count(len(paths), 'model')} into target/compiled/")
    return 0


@cli.command(name="ls")
@common(json_flag=True)
@selection
def ls(ctx: Context, select: tuple[str, ...], exclude: tuple[str, ...]) -> int:
    """List the models a selector picks, in build order."""
    nodes = ctx.workspace().select(select, exclude)
    console = ctx.console()
    columns = ["name", "materialized", "database", "tags", "path"]
    rows = [[n.name, n.materialized, n.database, list(n.tags), n.rel_path] for n in nodes]
    console.data([dict(zip(columns, row, strict=True)) for row in rows])
    console.table(
        count(len(rows), "model"),
        columns,
        [[*r[:3], ", ".join(r[3]), r[4]] for r in rows],
        empty="no model matches; glueform ls without -s/--exclude lists them all",
    )
    return 0


@cli.command()
@common(json_flag=True)
@selection
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when not."
)
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan for 'glueform apply'.")
def plan(
    ctx: Context,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    detailed_exitcode: bool,
    out: str | None,
) -> int:
    """Show catalog changes (+ create, ~ update, - delete) and what a run would build, and why."""
    from glueform.cli.render import render_plan

    result = ctx.workspace().plan(select, exclude, out=Path(out) if out else None)
    console = ctx.console()
    render_plan(console, result)
    if out:
        console.markup(f"saved to {out}; apply it with: glueform apply {out}")
    return 2 if detailed_exitcode and result.has_changes else 0


@cli.command()
@common(json_flag=True)
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option("--threads", type=click.IntRange(1, 64), help="Models built at once.")
def apply(ctx: Context, plan_file: str, threads: int | None) -> int:
    """Execute a plan saved with 'plan --out' (refused if the project or catalog changed since)."""
    _stop_on_sigterm()
    console = ctx.console()
    result = ctx.workspace().apply(Path(plan_file), threads=threads, reporter=console)
    console.run_result(result)
    return 0 if result.ok else 1


@cli.command()
@common(json_flag=True)
@selection
@click.option(
    "--threads", type=click.IntRange(1, 64), help="Models built at once (default: the target's)."
)
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild incremental models from all of their input."
)
@click.option(
    "--lock-wait",
    type=click.FloatRange(0),
    default=0.0,
    metavar="SECONDS",
    help="Wait this long for another run's lock (default: fail at once, exit 1).",
)
def run(
    ctx: Context,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    threads: int | None,
    full_refresh: bool,
    lock_wait: float,
) -> int:
    """Build the selected models in dependency order, independent ones in parallel."""
    _stop_on_sigterm()
    console = ctx.console()
    result = ctx.workspace().run(
        select,
        exclude,
        threads=threads,
        reporter=console,
        full_refresh=full_refresh,
        lock_wait=lock_wait,
    )
    console.run_result(result)
    return 0 if result.ok else 1


@cli.command()
@common(json_flag=True)
@selection
@click.option(
    "--against", help="The target to compare with (default: the first on another engine)."
)
def verify(
    ctx: Context, select: tuple[str, ...], exclude: tuple[str, ...], against: str | None
) -> int:
    """Build the selected tables on two engines and compare them row for row."""
    from glueform.verify import verify as run_verify

    report = run_verify(ctx.project, ctx.target, against, select, exclude, ctx.vars)
    console = ctx.console()
    console.data(report.to_dict())
    for failure in report.failures:
        console.markup(f"[red]failed[/]: {failure}")
    for t in report.tables:
        if t.equal:
            console.markup(f"[green]equal[/]    {t.name} ({t.rows[0]:,} rows)")
        else:
            rows = f"{t.only_in_base} rows only on {report.base}, {t.only_in_other} only on {report.other}"
            detail = "; ".join([*t.columns, rows])
            console.markup(f"[red]differs[/]  {t.name}: {detail}")
            console.lines([f"    {row}" for row in t.sample])
    verdict = "the same" if report.ok else "NOT the same"
    console.markup(f"\n{report.base} and {report.other} give {verdict} tables.")
    return 0 if report.ok else 1


def main() -> None:
    try:
        cli(prog_name="glueform")
    except BrokenPipeError:  # while click printed help or usage
        closed_stdout()


if __name__ == "__main__":
    main()
