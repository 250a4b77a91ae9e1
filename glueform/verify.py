"""``glueform verify``: build a selection on two engines and compare the tables, row for row.

Both runs go to scratch folders under ``target/verify/`` with catalogs of their own, so the
real catalogs and warehouses are untouched. The comparison reads both outputs with DuckDB.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glueform.build.runner import RunResult
from glueform.errors import UserError
from glueform.workspace import Workspace

FLOAT_DIGITS = 9  # floats compare to 9 significant digits (engines sum in different orders)


@dataclass(frozen=True)
class TableDiff:
    name: str
    equal: bool
    rows: tuple[int, int] = (0, 0)
    only_in_base: int = 0
    only_in_other: int = 0
    columns: tuple[str, ...] = ()  # column name/type mismatches
    sample: tuple[str, ...] = ()  # a few differing rows


@dataclass
class VerifyReport:
    base: str
    other: str
    tables: list[TableDiff] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # nodes that did not build

    @property
    def ok(self) -> bool:
        return not self.failures and all(t.equal for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "base": self.base,
            "other": self.other,
            "failures": self.failures,
            "tables": [t.__dict__ for t in self.tables],
        }


def verify(
    root: Path,
    base: str | None,
    other: str | None,
    select: Sequence[str],
    exclude: Sequence[str],
    vars: dict[str, Any],
) -> VerifyReport:
    first = Workspace(root, target=base, vars=vars)
    base_name = first.target.name
    other_name = other or _other_engine_target(first)
    names = [
        n
        for n in first.graph.select(select or None, exclude or None)
        if first.graph.nodes[n].materialized != "view"
    ]
    if not names:
        raise UserError(
            "verify compares tables, and the selection has none",
            hint="select models materialized as tables",
        )
    upstream = sorted(first.graph.upstream_of(names) | set(names))
    scratch = first.project.root / "target" / "verify"
    shutil.rmtree(scratch, ignore_errors=True)
    crawled = _crawled_tables(first)
    runs: dict[str, tuple[Workspace, RunResult]] = {}
    for target in (base_name, other_name):
        ws = Workspace(root, target=target, vars=vars, scratch=scratch / target)
        _declare(ws, crawled)
        runs[target] = (ws, ws.run(select=upstream))
    report = VerifyReport(base_name, other_name)
    built = set(names)
    for target, (_, result) in runs.items():
        failed = [r for r in result.results if r.status != "success"]
        report.failures += [f"{r.name} on {target}: {r.message}" for r in failed]
        built -= {r.name for r in failed}
    report.tables = [
        _compare(name, runs[base_name][0], runs[other_name][0]) for name in names if name in built
    ]
    return report


def _crawled_tables(ws: Workspace) -> list[tuple[Any, list[Any]]]:
    """The base target's crawled tables (external tables no sources/*.yml declares), with their
    partitions: both scratch runs read the same files as the real one would."""
    if not ws.project.crawlers:
        return []
    crawled = {c.database for c in ws.project.crawlers}
    with ws.catalog() as catalog:
        return [
            (t, catalog.partitions(t.database, t.name))
            for t in catalog.tables()
            if t.database in crawled and f"{t.database}.{t.name}" not in ws.project.sources
        ]


def _declare(ws: Workspace, tables: list[tuple[Any, list[Any]]]) -> None:
    if not tables:
        return
    with ws.catalog() as catalog:
        catalog.ensure_databases({t.database for t, _ in tables})
        for table, partitions in tables:
            catalog.put_table(table, None)
            catalog.replace_partitions(table.database, table.name, partitions)


def _other_engine_target(ws: Workspace) -> str:
    engine = ws.target.engine
    for name, target in ws.project.targets.items():
        if target.engine != engine:
            return name
    raise UserError(
        f"verify compares two engines, and every target of this project runs {engine}",
        hint="add a target with engine: spark (or pass --against TARGET)",
    )


def _compare(name: str, base: Workspace, other: Workspace) -> TableDiff:
    """Names and types, and the values always (a type difference hides no row difference):
    columns are paired by position, and compared in a common type where theirs differ."""
    import duckdb

    a, b = _table(base, name), _table(other, name)
    left_cols, right_cols = _columns(a), _columns(b)
    mismatched = tuple(
        f"{x[0]} {x[1]} vs {y[0]} {y[1]}"
        for x, y in zip(left_cols, right_cols, strict=False)
        if x != y
    ) + (("column counts differ",) if len(left_cols) != len(right_cols) else ())
    n = min(len(left_cols), len(right_cols))
    common = [_common_type(x[1], y[1]) for x, y in zip(left_cols[:n], right_cols[:n], strict=True)]
    with duckdb.connect() as con:
        left, right = _rows(a, common), _rows(b, common)
        counts = con.execute(
            f"select (select count(*) from ({left})), (select count(*) from ({right}))"
        ).fetchone()
        diff_a = f"(({left}) except all ({right}))"
        diff_b = f"(({right}) except all ({left}))"
        only_a = con.execute(f"select * from {diff_a} order by all limit 3").fetchall()
        only_b = con.execute(f"select * from {diff_b} order by all limit 3").fetchall()
        n_a = con.execute(f"select count(*) from {diff_a}").fetchone()[0]
        n_b = con.execute(f"select count(*) from {diff_b}").fetchone()[0]
    sample = tuple(f"- {r!r}" for r in only_a) + tuple(f"+ {r!r}" for r in only_b)
    equal = not mismatched and n_a == 0 and n_b == 0
    return TableDiff(name, equal, (counts[0], counts[1]), n_a, n_b, mismatched, sample)


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DECIMAL", "DOUBLE", "FLOAT")


def _common_type(x: str, y: str) -> str | None:
    """The type two differing columns are compared in (None: their own, which is equal)."""
    if x == y:
        return None
    if x.startswith(_NUMERIC) and y.startswith(_NUMERIC):
        return "DOUBLE"
    return "VARCHAR"


def _table(ws: Workspace, name: str) -> Any:
    node = ws.graph.nodes[name]
    with ws.catalog() as catalog:
        table = catalog.table(node.database, name)
    assert table is not None
    return table


def _columns(table: Any) -> list[tuple[str, str]]:
    """Names and types: both engines write the same storage types (``sql.storage_type``)."""
    return [(c.name, c.type) for c in [*table.columns, *table.partition_keys]]


def _rows(table: Any, common: list[str | None]) -> str:
    """The first ``len(common)`` columns of the table's files, each in its common type (if
    any), floats rounded to ``FLOAT_DIGITS`` significant digits (inf and NaN as they are)."""
    from glueform.sql import quote_identifier, string_literal

    columns = []
    every = [*table.columns, *table.partition_keys]
    for i, (c, cast) in enumerate(zip(every, common, strict=False)):
        ident = quote_identifier(c.name, "duckdb")
        kind = cast or c.type
        if cast:
            ident = f"cast({ident} as {cast})"
        if kind in ("DOUBLE", "FLOAT", "REAL"):
            finite = f"case when isfinite({ident}) then {ident} else 1 end"  # inf, NaN: as is
            digits = f"{FLOAT_DIGITS} - 1 - cast(floor(log10(abs({finite}) + 1e-300)) as integer)"
            ident = f"round({ident}, {digits})"
        columns.append(f"{ident} as c{i}")
    files = string_literal(f"{table.location}/**/*.parquet", "duckdb")
    select = ", ".join(columns) or "1 as c0"
    return f"select {select} from read_parquet({files}, hive_partitioning = true)"
