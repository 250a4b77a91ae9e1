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
    import duckdb

    a, b = _table(base, name), _table(other, name)
    mismatched = tuple(
        f"{x[0]} {x[1]} vs {y[0]} {y[1]}"
        for x, y in zip(_columns(a), _columns(b), strict=False)
        if x != y
    ) + (("column counts differ",) if len(a.columns) != len(b.columns) else ())
    if mismatched:
        return TableDiff(name, False, columns=mismatched)
    with duckdb.connect() as con:
        left, right = _rows(con, a), _rows(con, b)
        counts = con.execute(
            f"select (select count(*) from ({left})), (select count(*) from ({right}))"
        ).fetchone()
        only_a = con.execute(f"select * from (({left}) except all ({right})) limit 3").fetchall()
        n_a = con.execute(f"select count(*) from (({left}) except all ({right}))").fetchone()[0]
        n_b = con.execute(f"select count(*) from (({right}) except all ({left}))").fetchone()[0]
    sample = tuple(repr(r) for r in only_a)
    return TableDiff(name, n_a == 0 and n_b == 0, (counts[0], counts[1]), n_a, n_b, (), sample)


def _table(ws: Workspace, name: str) -> Any:
    node = ws.graph.nodes[name]
    with ws.catalog() as catalog:
        table = catalog.table(node.database, name)
    assert table is not None
    return table


def _columns(table: Any) -> list[tuple[str, str]]:
    """Names and types: both engines write the same storage types (``sql.storage_type``)."""
    return [(c.name, c.type) for c in table.columns]


def _rows(con: Any, table: Any) -> str:
    from glueform.sql import quote_identifier, string_literal

    columns = []
    for c in [*table.columns, *table.partition_keys]:
        ident = quote_identifier(c.name, "duckdb")
        columns.append(
            f"round({ident}, {FLOAT_DIGITS} - 1 - cast(floor(log10(abs({ident}) + 1e-300)) as integer))"
            if c.type in ("DOUBLE", "FLOAT", "REAL")
            else ident
        )
    files = string_literal(f"{table.location}/**/*.parquet", "duckdb")
    return f"select {', '.join(columns)} from read_parquet({files}, hive_partitioning = true)"
