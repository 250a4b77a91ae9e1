"""The CLI's shared parts: the ``glueform`` group, the options every command takes, and the one
error handling that turns a user mistake into ``path:line:col`` + hint and exit 2.

The command modules (``main.py`` and the sub-command groups) import this one; it imports none
of them, so the CLI has no import cycle.
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
    """A catalog timestamp as the user's wall clock, with its zone (empty when there is none)."""
    import time

    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(ts))


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
            if ctx.debug:  # the Spark engine then leaves the JVM's output on the terminal
                import os

                os.environ["GLUEFORM_DEBUG"] = "1"
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


def stop_on_sigterm() -> None:
    """Turn SIGTERM into the run's stop, so a killed run commits nothing half-written."""
    from glueform.build.runner import stop_on_sigterm as install

    install()


def closed_stdout() -> None:
    """The reader of our output went away (``| head``): stop quietly, as rich does (exit 1).
    Output still buffered goes to /dev/null, so the exit prints no second error."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(1)
