"""Rewrites that keep a query's meaning when it runs on another engine.

sqlglot translates syntax; these fix semantics that the same syntax does not carry over: day
numbering, rounding in casts, the type of an average. Some depend on the types of
expressions, so the query is typed first against its inputs' columns when they are known.
The parity suite (tests/test_parity.py) is what finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from glueform.sql.parity_typed import (
    ParityError,
    date_arithmetic,
    decimal_floor_division,
    double_avg,
    double_division,
    null_on_zero,
    percentiles,
)

if TYPE_CHECKING:
    from sqlglot import exp

    from glueform.sql.parsing import Schema

Rewrite = Callable[["exp.Expression"], "exp.Expression"]


def transpile(
    query: exp.Expression, dialect: str, source: str = "duckdb", schema: Schema | None = None
) -> str:
    """The query in ``dialect``, with the rewrites that keep its meaning the same there; with
    its inputs' columns known (``schema``), typed and with the output names of ``source``."""
    from glueform.sql.naming import duckdb_names, renamed

    if not REWRITES.get(dialect):
        return query.sql(dialect=dialect)
    names = duckdb_names(query.sql(source), schema) if schema and source == "duckdb" else None
    sql = rewrite_for(query, dialect, source, schema, named=names is not None).sql(dialect=dialect)
    return renamed(sql, names, dialect) if names else sql


def rewrite_for(
    query: exp.Expression,
    dialect: str,
    source: str,
    schema: Schema | None,
    named: bool = False,
) -> exp.Expression:
    """``named``: the output is renamed afterwards (``naming.renamed``), so the names qualify()
    gives unnamed expressions may stay (ORDER BY may point at them)."""
    rewrites = REWRITES.get(dialect, ())
    if not rewrites:
        return query
    query = _typed(query, source, schema, named) if schema is not None else query
    for rewrite in rewrites:
        query = query.transform(rewrite)
    return query


def _typed(
    query: exp.Expression, source: str, schema: Schema, named: bool = False
) -> exp.Expression:
    """The query with each expression's type annotated (unchanged when it cannot be typed)."""
    from sqlglot.optimizer.annotate_types import annotate_types

    from glueform.sql.parsing import qualified

    try:
        typed = annotate_types(qualified(query, source, schema), schema=schema, dialect=source)
        return typed if named else _unnamed_as_written(query, typed)
    except Exception:  # a gap in typing only means the typed rewrites do not apply
        return query


def _unnamed_as_written(original: exp.Expression, typed: exp.Expression) -> exp.Expression:
    """qualify() names unnamed output expressions _col_0, _col_1...; keep them as written
    (and an ORDER BY that qualify() pointed at such a name points at the expression again)."""
    from sqlglot import exp

    if isinstance(original, exp.Select) and isinstance(typed, exp.Select):
        removed: dict[str, exp.Expression] = {}
        for before, after in zip(original.selects, typed.selects, strict=False):
            if (
                isinstance(after, exp.Alias)
                and not before.alias
                and after.alias.startswith("_col_")
            ):
                removed[after.alias] = after.this
                after.replace(after.this)
        order = typed.args.get("order")
        for column in list(order.find_all(exp.Column)) if order and removed else []:
            if not column.table and column.name in removed:
                column.replace(removed[column.name].copy())
    return typed


def _types(node: exp.Expression) -> set[str]:
    from sqlglot import exp

    t = node.type
    return {t.this.name} if isinstance(t, exp.DataType) else set()


_INTEGERS = {"TINYINT", "SMALLINT", "INT", "BIGINT"}
_FLOATS = {"DOUBLE", "FLOAT"}
_TEXT = {"TEXT", "VARCHAR", "CHAR"}


def _weekdays(node: exp.Expression) -> exp.Expression:
    """DuckDB numbers Sunday 0 (dayofweek) and Monday 1..Sunday 7 (isodow); Spark's dayofweek
    numbers Sunday 1. Spark's weekday() (Monday 0) gives both."""
    from sqlglot import exp

    if isinstance(node, exp.Extract) and node.name.upper() in ("DOW", "DAYOFWEEK", "ISODOW"):
        kind = exp.DayOfWeekIso if node.name.upper() == "ISODOW" else exp.DayOfWeek
        node = kind(this=node.expression.copy())
    if isinstance(node, exp.DayOfWeekIso):
        return exp.paren(exp.Anonymous(this="WEEKDAY", expressions=[node.this.copy()]) + 1)
    if isinstance(node, exp.DayOfWeek):
        weekday = exp.Anonymous(this="WEEKDAY", expressions=[node.this.copy()])
        return exp.paren(exp.Mod(this=exp.paren(weekday + 1), expression=exp.Literal.number(7)))
    return node


def _names_of_days(node: exp.Expression) -> exp.Expression:
    """DuckDB's dayname()/monthname() are full English names; Spark's are abbreviated. The
    sign of a number is a TINYINT on DuckDB and a DOUBLE on Spark."""
    from sqlglot import exp

    formats = {exp.Dayname: "EEEE", exp.Monthname: "MMMM"}
    for kind, pattern in formats.items():
        if isinstance(node, kind):
            return exp.Anonymous(
                this="DATE_FORMAT", expressions=[node.this.copy(), exp.Literal.string(pattern)]
            )
    if isinstance(node, exp.Sign) and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), "BIGINT")
    return node


def _quantified_subqueries(node: exp.Expression) -> exp.Expression:
    """``x > ALL (SELECT ...)`` and ``x = ANY (SELECT ...)`` have no Spark SQL form: refused."""
    from sqlglot import exp

    if isinstance(node, (exp.All, exp.Any)) and isinstance(node.this, (exp.Subquery, exp.Query)):
        raise ParityError(
            f"a comparison with {node.key.upper()} (subquery) cannot run on Spark: "
            f"{node.parent.sql('duckdb') if node.parent else node.sql('duckdb')}",
            "compare with the subquery's max() or min() (x > (select max(y) ...)), or use "
            "IN / NOT EXISTS",
            r"\b(all|any|some)\s*\(\s*select\b",
        )
    return node


def _distinct_order_by_output(node: exp.Expression) -> exp.Expression:
    """After SELECT DISTINCT, Spark resolves ORDER BY against the output only: ``t1.a`` there
    fails where DuckDB takes it for the output column ``a``. Point it at the output's name."""
    from sqlglot import exp

    if not isinstance(node, exp.Select) or not node.args.get("distinct"):
        return node
    order = node.args.get("order")
    if order is None:
        return node
    outputs = {}
    for select in node.selects:
        if isinstance(select, exp.Alias):
            outputs.setdefault(select.this.unnest(), select.alias)
        elif isinstance(select, exp.Column):
            outputs.setdefault(select, select.name)
    for ordered in order.expressions:
        name = outputs.get(ordered.this.unnest())
        if name is not None and ordered.this.unnest().find(exp.Column) is not None:
            ordered.set("this", exp.column(name, quoted=True))
    return node


def _lists(node: exp.Expression) -> exp.Expression:
    """DuckDB's list()/array_agg() keep NULLs and honour ORDER BY; Spark's collect_list drops
    NULLs and ignores the order. Collecting structs keeps NULLs; sorting them by their leading
    key fields gives the order. A descending order has no such form: refused."""
    import sqlglot
    from sqlglot import exp

    if not isinstance(node, exp.ArrayAgg):
        return node
    value, keys = node.this, []
    if isinstance(value.this if isinstance(value, exp.Order) else value, exp.Distinct):
        raise ParityError(
            f"list()/array_agg() of DISTINCT values cannot be made equal on Spark: "
            f"{node.sql('duckdb')}",
            "select the distinct values in a subquery first, then list(x ORDER BY x) them",
            r"\b(list|array_agg)\s*\(\s*distinct\b",
        )
    if isinstance(value, exp.Order):
        for ordered in value.expressions:
            if ordered.args.get("desc"):
                raise ParityError(
                    f"list()/array_agg() with ORDER BY ... DESC cannot be made equal on Spark: "
                    f"{node.sql('duckdb')}",
                    "order ascending and reverse the list: list_reverse(list(x ORDER BY k))",
                    r"\b(list|array_agg)\s*\(",
                )
            keys.append(ordered.this)
        value = value.this
    fields = [f"'k{i}', __k{i}" for i in range(len(keys))] + ["'v', __v"]
    collected = f"COLLECT_LIST(NAMED_STRUCT({', '.join(fields)}))"
    template = sqlglot.parse_one(
        f"TRANSFORM({'ARRAY_SORT(' + collected + ')' if keys else collected}, s -> s.v)",
        read="spark",
    )
    values = {f"__k{i}": k for i, k in enumerate(keys)} | {"__v": value}
    for column in list(template.find_all(exp.Column)):
        if column.name in values:
            column.replace(values[column.name].copy())
    for agg in list(template.find_all(exp.ArrayAgg)):  # not rewritten again
        agg.replace(exp.Anonymous(this="COLLECT_LIST", expressions=[agg.this]))
    return template


def _tables_of_values(node: exp.Expression) -> exp.Expression:
    """range()/generate_series() as a table has no Spark SQL form that sqlglot writes: refused."""
    from sqlglot import exp

    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        raise ParityError(
            f"{node.sql('duckdb')} as a table is not supported on Spark",
            "select unnest(range(a, b)) AS x instead, which runs on both engines",
            r"\b(range|generate_series)\s*\(",
        )
    return node


def _first_match_replace(node: exp.Expression) -> exp.Expression:
    """DuckDB's regexp_replace replaces the first match unless given 'g'; Spark's replaces
    every match. An anchored pattern matches once on both; other first-only uses are refused."""
    from sqlglot import exp

    if not isinstance(node, exp.RegexpReplace):
        return node
    modifiers, pattern = node.args.get("modifiers"), node.expression
    if modifiers is not None and "g" in modifiers.name:
        return node
    if isinstance(pattern, exp.Literal) and (
        pattern.name.startswith("^") or pattern.name.endswith("$")
    ):
        return node
    raise ParityError(
        f"{node.sql('duckdb')} replaces the first match on DuckDB and every match on Spark",
        "pass 'g' to replace every match, or anchor the pattern with ^ or $",
        r"\bregexp_replace\s*\(",
    )


def _array_index(node: exp.Expression) -> exp.Expression:
    """DuckDB's list[i] is NULL past the end (and 1-based); Spark's arr[i] fails. Spark's
    try_element_at is 1-based and NULL past the end. Typed queries only (maps and structs use
    brackets too)."""
    from sqlglot import exp

    if (
        isinstance(node, exp.Bracket)
        and len(node.expressions) == 1
        and _types(node.this) & {"ARRAY", "LIST"}
    ):
        index = node.expressions[0].copy()
        if index.is_int:  # sqlglot made a literal index 0-based; try_element_at is 1-based
            index = exp.Literal.number(int(index.sql()) + 1)
        return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[node.this.copy(), index])
    return node


def _epoch_seconds(node: exp.Expression) -> exp.Expression:
    """DuckDB's epoch() is fractional seconds of the wall-clock time read as UTC (a DOUBLE);
    Spark's unix_timestamp() is whole seconds in the session's zone."""
    import sqlglot
    from sqlglot import exp

    if not isinstance(node, exp.TimeToUnix):
        return node
    template = sqlglot.parse_one(
        "CAST(TIMESTAMPDIFF(MICROSECOND, TIMESTAMP_NTZ '1970-01-01 00:00:00',"
        " CAST(__value AS TIMESTAMP_NTZ)) AS DOUBLE) / 1000000",
        read="spark",
    )
    for column in template.find_all(exp.Column):
        if column.name == "__value":
            column.replace(node.this.copy())
    return exp.paren(template)


def _rounding_casts(node: exp.Expression) -> exp.Expression:
    """A cast to an integer rounds on DuckDB (half to even from a DOUBLE, half away from zero
    from a DECIMAL or a string) and truncates on Spark. Typed queries only."""
    from sqlglot import exp

    if not isinstance(node, exp.Cast) or node.to.this.name not in _INTEGERS:
        return node
    arg, kinds = node.this, _types(node.this)
    safe = isinstance(node, exp.TryCast)

    def make(this: exp.Expression, to: exp.DataType) -> exp.Expression:
        return exp.TryCast(this=this, to=to, safe=True) if safe else exp.Cast(this=this, to=to)

    if kinds & _FLOATS:
        rounded: exp.Expression = exp.Anonymous(this="BROUND", expressions=[arg.copy()])
    elif kinds & {"DECIMAL"}:
        rounded = exp.Round(this=arg.copy())
    elif kinds & _TEXT:
        as_decimal = make(this=arg.copy(), to=exp.DataType.build("DECIMAL(38, 10)"))
        rounded = exp.Round(this=as_decimal)
    else:
        return node
    return make(this=rounded, to=node.to.copy())


def _array_length(node: exp.Expression) -> exp.Expression:
    """DuckDB's len()/length() also count a list's elements; Spark's length() takes text only."""
    from sqlglot import exp

    if isinstance(node, exp.Length) and _types(node.this) & {"ARRAY", "LIST"}:
        return exp.ArraySize(this=node.this.copy())
    return node


def _boundary_date_diff(node: exp.Expression) -> exp.Expression:
    """DuckDB's date_diff counts unit boundaries crossed (23:59 -> 00:01 is one day); Spark's
    counts whole units elapsed. Truncating both ends to the unit gives DuckDB's answer on Spark."""
    from sqlglot import exp

    unit = node.args.get("unit") if isinstance(node, exp.DateDiff) else None
    if unit is None or unit.name.upper() not in _TRUNCATABLE_UNITS:
        return node
    var = exp.Var(this=unit.name.upper())
    return node.__class__(
        this=exp.TimestampTrunc(this=node.this.copy(), unit=var.copy()),
        expression=exp.TimestampTrunc(this=node.expression.copy(), unit=var.copy()),
        unit=unit.copy(),
    )


def _bigint_ranks(node: exp.Expression) -> exp.Expression:
    """Ranking functions are BIGINT on DuckDB and INT on Spark: make them BIGINT on disk too."""
    from sqlglot import exp

    ranking = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, ranking)
        and not isinstance(node.parent, exp.Cast)
    ):
        return exp.cast(node.copy(), "BIGINT")
    return node


_TRUNCATABLE_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND"}

# Per engine dialect, applied in order to the project's parsed (and, when possible, typed) SQL.
REWRITES: dict[str, tuple[Rewrite, ...]] = {
    "spark": (
        _tables_of_values,
        _quantified_subqueries,
        _lists,
        _first_match_replace,
        _rounding_casts,
        _array_length,
        _array_index,
        _weekdays,
        _names_of_days,
        date_arithmetic,
        _distinct_order_by_output,
        decimal_floor_division,
        null_on_zero,
        double_division,
        double_avg,
        percentiles,
        _epoch_seconds,
        _boundary_date_diff,
        _bigint_ranks,
    )
}
