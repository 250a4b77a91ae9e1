"""DuckDB's quoting and scalar types are answered without sqlglot: the same text as sqlglot's,
and a DuckDB run whose compile is cached never imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from glueform.sql import literal, quote_identifier, quote_relation, string_literal
from glueform.sql import types as sql_types

NAMES = ["a", "Order Id", 'a"b', '""', "it's", "back\\slash", "new\nline", "ünï", "", "{}", "`x`"]


def _sqlglot(expression: object) -> str:
    from sqlglot.dialects.dialect import Dialect

    return str(Dialect.get_or_raise("duckdb").generate(expression))


@pytest.mark.parametrize("name", NAMES)
def test_duckdb_quoting_equals_sqlglots(name: str) -> None:
    from sqlglot import exp

    assert quote_identifier(name, "duckdb") == _sqlglot(exp.to_identifier(name, quoted=True))
    assert quote_relation(name, "t", "duckdb") == _sqlglot(exp.table_("t", db=name, quoted=True))
    assert string_literal(name, "duckdb") == _sqlglot(exp.Literal.string(name))


@pytest.mark.parametrize("value", ["x", "it's", True, False, 0, -5, 10**30, None])
def test_duckdb_literals_equal_sqlglots(value: object) -> None:
    from sqlglot import exp

    assert literal(value, "duckdb") == _sqlglot(exp.convert(value))


DESCRIBED = [*sql_types._DUCKDB_SCALARS, "DECIMAL(15,2)", "DECIMAL(15, 2)", "DECIMAL(38,0)",
             "DECIMAL(1,1)", "DECIMAL(18,3)"]  # fmt: skip


@pytest.mark.parametrize("type_", DESCRIBED)
def test_duckdb_scalar_types_equal_the_sqlglot_path(
    type_: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = sql_types._duckdb_scalar(type_)
    assert fast is not None
    monkeypatch.setattr(sql_types, "_duckdb_scalar", lambda _: None)
    slow = (
        sql_types.normalize_type.__wrapped__(type_, "duckdb"),
        sql_types.storage_type.__wrapped__(type_, "duckdb"),
        sql_types.type_sql(type_, "duckdb"),
    )
    assert fast == slow
    assert sql_types.normalize_type.__wrapped__(type_, "duckdb", to="duckdb") == fast[0]


@pytest.mark.parametrize(
    "type_", ["decimal(15,2)", "DECIMAL(40,2)", "DECIMAL(5,6)", "DECIMAL(015,2)", "INTEGER[]"]
)
def test_other_spellings_take_the_sqlglot_path(type_: str) -> None:
    assert sql_types._duckdb_scalar(type_) is None


def test_a_cached_duckdb_run_does_not_import_sqlglot(project: Path) -> None:
    """The second run of an unchanged project: compile from the cache, build, commit."""
    code = (
        "import sys\n"
        "from glueform import Workspace\n"
        f"result = Workspace({str(project)!r}).run()\n"
        "assert result.ok, result.to_dict()\n"
        "print('sqlglot' in sys.modules, len(result.results))\n"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    assert first.stdout.split()[1] == "3"  # (DuckDB's own parser reads DuckDB models)
    second = subprocess.run(run, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["False", "3"]
