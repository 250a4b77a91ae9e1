"""The CLI starts fast: --help imports click and nothing heavy."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "duckdb",
    "sqlglot",
    "jinja2",
    "jsonschema",
    "networkx",
    "rich",
    "pyspark",
    "boto3",
    "yaml",
)


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from glueform.cli.main import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='glueform')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: glueform" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    from glueform.cli.main import cli

    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "--help" in result.output


def test_version() -> None:
    from conftest import glueform

    from glueform import __version__

    assert __version__ in glueform("--version").stdout


def test_bad_var_syntax_is_a_usage_error(project) -> None:  # type: ignore[no-untyped-def]
    from conftest import glueform

    result = glueform("plan", "-p", str(project), "--var", "novalue")
    assert result.exit_code == 2
    assert "NAME=VALUE" in result.output


def test_compiling_does_not_import_the_catalog_store() -> None:
    code = "import sys, glueform.workspace; print('sqlalchemy' in sys.modules, 'duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_an_unexpected_failure_is_one_line_without_debug(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conftest import glueform

    import glueform.workspace as workspace

    def broken(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workspace.Workspace, "validate", broken)
    result = glueform("validate", "-p", str(project))
    assert result.exit_code == 1
    assert (
        "internal error: RuntimeError: disk on fire" in result.stderr
        and "Traceback" not in result.output
    )
