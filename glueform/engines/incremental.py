"""Incremental models on an engine: the SQL that makes a table's next version.

An incremental run never changes the current version's files: the engine writes a new version
folder holding the whole next table, made from the current version and the new rows by the
model's strategy, and the catalog flips the table to it in the same transaction that advances
the model's bookmarks. Readers see the old table or the new one, never half of an increment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from glueform.errors import SourceLocation, UserError
from glueform.project.incremental import KEYED

if TYPE_CHECKING:
    from glueform.engines import BuildOutput


@dataclass(frozen=True)
class Increment:
    """What the engine needs to make the next version: the strategy, and the current version's
    relation and columns (catalog types, partition keys included)."""

    name: str  # the model, for messages
    strategy: str
    unique_key: tuple[str, ...]
    partition_by: tuple[str, ...]
    on_schema_change: str
    this: str  # the current version's relation, quoted in the engine's dialect
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) of the current version
    location: SourceLocation
    previous: str | None = None  # the current version's folder


@dataclass(frozen=True)
class NewRows:
    """An increment's new rows, materialised once on the engine (the checks and the next
    version both read them, the sources only once)."""

    relation: str  # quoted in the engine's dialect
    columns: Sequence[tuple[str, str]]  # (name, engine type), as stored
    count: Callable[[], int]


def build_next_version(
    inc: Increment,
    location: str,
    dialect: str,
    new_rows: AbstractContextManager[NewRows],
    query: Callable[[str], Sequence[Sequence[Any]]],
    write: Callable[[str, Callable[[], Any] | None], BuildOutput],
) -> BuildOutput:
    """The one body of every engine's ``build_incremental``; the engine passes how it holds the
    new rows (``new_rows``, dropped at the end), runs a query (``query``) and writes a query's
    rows as the next version (``write(sql, link)``; ``link`` adds the previous version's files).

    Merge refuses a key twice in the new rows; the next version is the strategy's combination,
    written once, or only the new rows beside hard links of the previous files."""
    with new_rows as new:
        if inc.strategy == "merge":
            found = query(duplicate_key_sql(inc, new.relation, dialect))
            if found:
                raise duplicate_key_error(inc, tuple(found[0]))
        added = new.count()
        link = None
        if links_previous(inc, new.columns):
            assert inc.previous is not None
            previous, overwrite = inc.previous, inc.strategy == "insert_overwrite"
            link = lambda: link_previous(previous, location, overwrite)  # noqa: E731
        output = write(combine_sql(inc, new.relation, new.columns, dialect), link)
    return replace(output, added=int(added))


def links_previous(inc: Increment, new: Sequence[tuple[str, str]]) -> bool:
    """Whether the next version can take the current version's files as they are (hard links)
    and add files of the new rows only: append, and insert_overwrite of partitioned tables,
    when the columns did not change. Parquet files are never modified, so a file shared by two
    version folders is as safe as a copy, and each folder stays a whole table for any reader."""
    if inc.strategy not in ("append", "insert_overwrite") or inc.previous is None:
        return False
    if "://" in inc.previous:
        return False
    return all(in_old and in_new for _, _, in_old, in_new in final_columns(inc, new))


def link_previous(previous: str, location: str, keep_written_partitions: bool) -> int:
    """Hard-link the previous version's data files into the new version's folder (a copy where
    the filesystem cannot link). With ``keep_written_partitions``, partition folders the new rows
    wrote are left as written (insert_overwrite). Returns the number of files taken over."""
    import os
    import shutil
    from pathlib import Path

    old, new = Path(previous), Path(location)
    written = (
        {p.parent.relative_to(new) for p in new.rglob("*") if p.is_file()}
        if keep_written_partitions
        else set()
    )
    taken = 0
    for file in sorted(old.rglob("*")):
        if not file.is_file() or file.name.startswith((".", "_")):
            continue  # Spark's _SUCCESS and .crc files
        rel = file.relative_to(old)
        if rel.parent in written:
            continue
        dest = new / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, dest)
        except OSError:
            shutil.copy2(file, dest)
        taken += 1
    return taken


def final_columns(
    inc: Increment, new: Sequence[tuple[str, str]]
) -> list[tuple[str, str, bool, bool]]:
    """The next version's columns: (name, type, in the old rows, in the new rows), per
    ``on_schema_change``; raises when the columns changed and the model says fail."""
    from glueform.sql import normalize_type

    old = dict(inc.columns)
    fresh = {n: normalize_type(t, "duckdb") for n, t in new}
    added = [n for n in fresh if n not in old]
    removed = [n for n in old if n not in fresh]
    # partition keys are typed by their folder names when read back: the new rows' type wins
    old.update({k: fresh[k] for k in inc.partition_by if k in old and k in fresh})
    retyped = [n for n in fresh if n in old and normalize_type(old[n], "duckdb") != fresh[n]]
    if inc.on_schema_change == "fail" and (added or removed or retyped):
        parts = [
            f"{what}: {', '.join(cols)}"
            for what, cols in (("added", added), ("removed", removed), ("retyped", retyped))
            if cols
        ]
        raise UserError(
            f"the new rows of {inc.name} have other columns than the table ({'; '.join(parts)})",
            inc.location,
            hint="set on_schema_change='append_new_columns' or 'sync_all_columns', "
            "or rebuild with: glueform run --full-refresh -s " + inc.name,
        )
    for key in (*inc.unique_key, *inc.partition_by):
        if key not in fresh:
            raise UserError(
                f"column '{key}' (unique_key or partition_by) is not in the new rows of {inc.name}",
                inc.location,
                hint="select it in the model's SQL",
            )
    if inc.on_schema_change == "sync_all_columns":
        return [(n, t, n in old, True) for n, t in fresh.items()]
    return [(n, t, True, n in fresh) for n, t in old.items()] + [
        (n, fresh[n], False, True) for n in added
    ]


def duplicate_key_sql(inc: Increment, new_relation: str, dialect: str) -> str:
    """A query for one key that occurs twice in the new rows (merge needs them unique)."""
    from glueform.sql import quote_identifier

    keys = ", ".join(quote_identifier(k, dialect) for k in inc.unique_key)
    return (
        f"SELECT {keys}, count(*) AS n FROM {new_relation} GROUP BY {keys} "
        "HAVING count(*) > 1 LIMIT 1"
    )


def duplicate_key_error(inc: Increment, row: Sequence[Any]) -> UserError:
    values = ", ".join(f"{k}={v!r}" for k, v in zip(inc.unique_key, row, strict=False))
    return UserError(
        f"unique_key of {inc.name} is not unique in the new rows: {values} occurs {row[-1]} times",
        inc.location,
        hint="deduplicate the new rows in the model's SQL (e.g. qualify row_number() ... = 1), "
        "or use incremental_strategy='delete+insert', which keeps every new row of a key",
    )


def combine_sql(
    inc: Increment, new_relation: str, new_columns: Sequence[tuple[str, str]], dialect: str
) -> str:
    """The next version's rows: the current version's rows that the strategy keeps, and every
    new row, each cast to the next version's column types (only the new rows when the previous
    version's files are linked, see ``links_previous``).

    - append: every old row;
    - merge and delete+insert: the old rows whose unique_key is not among the new rows' (so a
      new row replaces the old one with its key; delete+insert also accepts several new rows
      per key, merge refuses them);
    - insert_overwrite: the old rows of partitions that the new rows do not touch.
    """
    from glueform.sql import null_safe_equal, quote_identifier, type_sql

    columns = final_columns(inc, new_columns)
    only_new = links_previous(inc, new_columns)

    def select(alias: str, present: int) -> str:
        exprs = []
        for name, type_, *where in columns:
            col = quote_identifier(name, dialect)
            value = f"{alias}.{col}" if where[present] else "NULL"
            exprs.append(f"CAST({value} AS {type_sql(type_, dialect)}) AS {col}")
        return ", ".join(exprs)

    if only_new:  # the previous version's files are linked, not rewritten
        return f"SELECT {select('n', 1)} FROM {new_relation} AS n"
    match_on = inc.unique_key if inc.strategy in KEYED else inc.partition_by
    old = f"SELECT {select('o', 0)} FROM {inc.this} AS o"
    if inc.strategy != "append":
        cond = " AND ".join(
            null_safe_equal(f"n.{c}", f"o.{c}", dialect)
            for c in (quote_identifier(k, dialect) for k in match_on)
        )
        old += f" WHERE NOT EXISTS (SELECT 1 FROM {new_relation} AS n WHERE {cond})"
    return f"{old} UNION ALL SELECT {select('n', 1)} FROM {new_relation} AS n"
