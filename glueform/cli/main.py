"""``glueform <verb>``: each command parses options, calls one Workspace method, renders the result.

Only click is imported at start-up; the library is imported inside the commands so that
``glueform --help`` stays instant.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from glueform import __version__


class Context:
    """Options shared by every command, set on the group or on the command itself."""

    def __init__(self) -> None:
        self.project = Path(".")
        self.target: str | None = None
        self.vars: dict[str, Any] = {}
        self.debug = False
        self.json = False
        self._workspace: Any = None

    def workspace(self) -> Any:
        from glueform.workspace import Workspace

        self._workspace = Workspace(self.project, target=self.target, vars=self.vars)
        return self._workspace

    def console(self) -> Any:
        from glueform.console import JsonConsole, RichConsole

        return JsonConsole(secrets=self.secrets) if self.json else RichConsole(secrets=self.secrets)

    def secrets(self) -> Any:
        """The secrets of the command's workspace (before there is one: the environment's
        variables named like secrets), for the console to mask."""
        import os

        from glueform.secrets import Secrets

        ws = self._workspace
        return ws.secrets if ws is not None else Secrets.from_environ(os.environ)


def local_time(ts: float | None) -> str:
    """A catalog timestamp as the user's wall clock (empty when there is none)."""
    import time

    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _parse_vars(values: tuple[str, ...]) -> dict[str, Any]:
    from glueform.errors import UserError
    from glueform.project.yaml_load import load_value

    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--var")
        try:
            out[key.strip()] = load_value(value, f"--var {key.strip()}")
        except UserError as exc:
            raise click.BadParameter(f"'{item}': {exc.message}", param_hint="--var") from None
    return out


def common(json_flag: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add -p/-t/--var/--debug (and optionally --json) to a command, and error handling."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(
            *args: Any,
            project: str | None,
            target: str | None,
            var: tuple[str, ...],
            debug: bool,
            **kwargs: Any,
        ) -> Any:
            ctx: Context = click.get_current_context().ensure_object(Context)
            if project:
                ctx.project = Path(project)
            ctx.target = target or ctx.target
            ctx.vars.update(_parse_vars(var))
            ctx.debug = ctx.debug or debug
            if json_flag:
                ctx.json = kwargs.pop("as_json")
            return _guarded(ctx, fn, *args, **kwargs)

        options = [
            click.option(
                "-p",
                "--project",
                type=click.Path(file_okay=False),
                help="Project folder (default: current).",
            ),
            click.option(
                "-t", "--target", help="Target from glueform.yml (default: its default_target)."
            ),
            click.option(
                "--var",
                multiple=True,
                metavar="NAME=VALUE",
                help="Override a project var (repeatable).",
            ),
            click.option("--debug", is_flag=True, help="Show tracebacks."),
        ]
        if json_flag:
            options.append(
                click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
            )
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def _guarded(ctx: Context, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    from glueform.errors import GlueformError

    try:
        code = fn(ctx, *args, **kwargs)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        closed_stdout()
    except GlueformError as exc:
        if ctx.debug:
            raise
        ctx.console().error(exc)
        # with --detailed-exitcode, 2 means "changes": any error is 1 (as in Terraform)
        sys.exit(1 if kwargs.get("detailed_exitcode") else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing half-written was committed", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, or a failure glueform does not know yet
        if ctx.debug:
            raise
        from glueform.catalog.failures import os_failure

        failure = os_failure(exc) if isinstance(exc, OSError) else None  # a full disk is no bug
        if failure is not None:
            ctx.console().error(failure)
            sys.exit(failure.exit_code)
        click.echo(ctx.secrets().redact(f"internal error: {type(exc).__name__}: {exc}"), err=True)
        click.echo("  hint: run again with --debug for the traceback, and report it", err=True)
        sys.exit(1)
    sys.exit(code or 0)


select_options = [
    click.option(
        "-s",
        "--select",
        multiple=True,
        help="Selector: name, name+, +name, 2+name, tag:x, path:dir.",
    ),
    click.option("--exclude", multiple=True, help="Selector of nodes to leave out."),
]


def selection(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(select_options):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glueform")
@click.option(
    "-p", "--project", type=click.Path(file_okay=False), help="Project folder (default: current)."
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(click_ctx: click.Context, project: str | None, debug: bool) -> None:
    """glueform: AWS Glue as config-as-code, run on DuckDB (and Spark).

    A project of YAML and Jinja-SQL files is compiled into a DAG, planned and run.
    """
    ctx = click_ctx.ensure_object(Context)
    if project:
        ctx.project = Path(project)
    ctx.debug = debug


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
    click.echo(f"created {len(written)} files in {directory}; next: glueform run -p {directory}")


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
        f"[green]ok[/]: {summary['models']} models, {summary['sources']} sources, "
        f"{summary['jobs']} jobs, {summary['triggers']} triggers"
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
    console.markup(f"compiled {len(paths)} models into target/compiled/")
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
    console.table(f"{len(rows)} models", columns, [[*r[:3], ", ".join(r[3]), r[4]] for r in rows])
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


def _stop_on_sigterm() -> None:
    from glueform.build.runner import stop_on_sigterm

    stop_on_sigterm()


def closed_stdout() -> None:
    """The reader of our output went away (``| head``): stop quietly, as rich does (exit 1).
    Output still buffered goes to /dev/null, so the exit prints no second error."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(1)


def main() -> None:
    try:
        cli(prog_name="glueform")
    except BrokenPipeError:  # while click printed help or usage
        closed_stdout()


from glueform.cli import bookmarks as _bookmarks  # noqa: E402,F401  (registers `glueform bookmarks`)
from glueform.cli import catalog as _catalog  # noqa: E402,F401  (registers `glueform catalog`)
from glueform.cli import crawl as _crawl  # noqa: E402,F401  (registers `glueform crawl`)
from glueform.cli import docs as _docs  # noqa: E402,F401  (registers `glueform docs`)
from glueform.cli import jobs as _jobs  # noqa: E402,F401  (registers `glueform jobs`, `runs`, `logs`, `scheduler`)

if __name__ == "__main__":
    # run as a module, this file is __main__: the sub-command modules registered themselves on
    # the group of the imported glueform.cli.main, so start that one
    from glueform.cli.main import main as _main

    _main()
