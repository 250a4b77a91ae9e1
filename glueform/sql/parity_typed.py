"""Rewrites for Spark that keep DuckDB's arithmetic: division and averages.

The documented semantics are DuckDB's: ``/`` is a DOUBLE division whatever the operands
(DECIMAL / DECIMAL too, where Spark keeps a DECIMAL rounded to 6 places), and division by zero
gives what a DOUBLE division gives (``x/0`` is +inf or -inf, ``0/0`` NaN, NULL stays NULL)
where Spark in ANSI mode fails; ``//`` and ``%`` by zero are NULL. An average is a DOUBLE, of a
cast too. Types come from the query typed against its inputs (``parity._typed``) where known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


class ParityError(Exception):
    """A construct that cannot be made to mean the same on the engine: the caller names the
    model's file (a user error, at compile time, not a silent difference)."""

    def __init__(self, message: str, hint: str, near: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.near = near  # a pattern that finds the construct in the model's SQL, for its line


def _type_names(node: exp.Expression) -> set[str]:
    from sqlglot import exp

    t = node.type
    return {t.this.name} if isinstance(t, exp.DataType) else set()


def _as_double(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    if _type_names(node) == {"DOUBLE"} or (
        isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DOUBLE
    ):
        return node.copy()
    return exp.cast(node.copy(), "DOUBLE")


def _nonzero_literal(node: exp.Expression) -> bool:
    from sqlglot import exp

    inner = node.unnest()
    if isinstance(inner, exp.Neg):
        inner = inner.this
    return isinstance(inner, exp.Literal) and inner.is_number and float(inner.name) != 0


def double_division(node: exp.Expression) -> exp.Expression:
    """``x / y`` as DuckDB computes it: in DOUBLE, with IEEE results for a zero divisor."""
    import sqlglot
    from sqlglot import exp

    if not isinstance(node, exp.Div) or node.args.get("typed") or node.args.get("safe"):
        return node
    if {"INTERVAL"} & (_type_names(node.this) | _type_names(node.expression)):
        return node
    x, y = _as_double(node.this), _as_double(node.expression)
    if _nonzero_literal(node.expression):
        return exp.paren(exp.Div(this=x, expression=y, typed=True))
    template = sqlglot.parse_one(
        "CASE WHEN __y = 0 THEN CASE WHEN ISNAN(__x) THEN __x"
        " WHEN __x > 0 THEN CAST('Infinity' AS DOUBLE)"
        " WHEN __x < 0 THEN CAST('-Infinity' AS DOUBLE)"
        " WHEN __x = 0 THEN CAST('NaN' AS DOUBLE) END"
        " ELSE __x / NULLIF(__y, 0) END",
        read="spark",
    )
    values = {"__x": x, "__y": y}
    for column in list(template.find_all(exp.Column)):
        if column.name in values:
            column.replace(values[column.name].copy())
    for div in template.find_all(exp.Div):
        div.set("typed", True)  # not rewritten again
    return exp.paren(template)


def null_on_zero(node: exp.Expression) -> exp.Expression:
    """``x // 0`` and ``x % 0`` are NULL on DuckDB; Spark in ANSI mode fails."""
    from sqlglot import exp

    if not isinstance(node, (exp.IntDiv, exp.Mod)) or _nonzero_literal(node.expression):
        return node
    if isinstance(node.expression, exp.Nullif):
        return node
    divisor = exp.Nullif(this=node.expression.copy(), expression=exp.Literal.number(0))
    return node.__class__(this=node.this.copy(), expression=divisor)


def double_avg(node: exp.Expression) -> exp.Expression:
    """DuckDB averages are DOUBLE, of DECIMALs too (a cast's among them), from an exact sum;
    Spark's average of a DECIMAL is a DECIMAL rounded to 4 more places. Averaging DOUBLEs
    gives DuckDB's answer."""
    from sqlglot import exp

    if not isinstance(node, exp.Avg):
        return node
    arg = node.this
    if isinstance(arg, exp.Distinct):  # avg(DISTINCT x)
        inner = [_as_double(e) for e in arg.expressions]
        return exp.Avg(this=exp.Distinct(expressions=inner))
    return exp.Avg(this=_as_double(arg))


def percentiles(node: exp.Expression) -> exp.Expression:
    """Spark has percentile() and percentile_disc ... WITHIN GROUP, which sqlglot does not
    write for DuckDB's quantile_cont/quantile_disc. quantile_disc is one of the values (of
    their type); an interpolated quantile or median of DECIMALs is refused (see below)."""
    from sqlglot import exp

    if not isinstance(node, (exp.PercentileCont, exp.PercentileDisc, exp.Median)):
        return node
    arg = node.this
    if not isinstance(node, exp.PercentileDisc) and _is(arg, "DECIMAL"):
        raise ParityError(
            f"{node.sql('duckdb')} of a DECIMAL cannot be made equal on Spark (DuckDB "
            "interpolates in DECIMAL and rounds down; Spark interpolates in DOUBLE)",
            "interpolate DOUBLEs on both engines: quantile_cont(cast(x as double), p)",
            r"\b(quantile_cont|quantile_disc|quantile|median|percentile_cont|percentile_disc)\s*\(",
        )
    if isinstance(node, exp.PercentileCont):
        out: exp.Expression = exp.Anonymous(
            this="PERCENTILE", expressions=[arg.copy(), node.expression.copy()]
        )
    elif isinstance(node, exp.PercentileDisc):
        out = exp.WithinGroup(
            this=exp.Anonymous(this="PERCENTILE_DISC", expressions=[node.expression.copy()]),
            expression=exp.Order(expressions=[exp.Ordered(this=arg.copy(), nulls_first=False)]),
        )
    else:
        out = node
    kind = arg.type if isinstance(arg.type, exp.DataType) else None
    if isinstance(node, exp.PercentileDisc) and kind is not None and kind.this.name != "UNKNOWN":
        return exp.Cast(this=out, to=kind.copy())  # one of the values: of their type
    return out


def _is(node: exp.Expression, *names: str) -> bool:
    return bool(_type_names(node) & set(names))


def date_arithmetic(node: exp.Expression) -> exp.Expression:
    """DuckDB: ``DATE ± INTERVAL`` is a TIMESTAMP and ``DATE - DATE`` a BIGINT of days; Spark
    gives a DATE and an INTERVAL DAY."""
    from sqlglot import exp

    if not isinstance(node, (exp.Add, exp.Sub)):
        return node
    left, right = node.this, node.expression
    if isinstance(node, exp.Sub) and _is(left, "DATE") and _is(right, "DATE"):
        days = exp.Anonymous(this="DATEDIFF", expressions=[left.copy(), right.copy()])
        return exp.cast(days, "BIGINT")
    if _is(left, "DATE") and isinstance(right, exp.Interval):
        return node.__class__(this=exp.cast(left.copy(), "TIMESTAMP"), expression=right.copy())
    if isinstance(node, exp.Add) and isinstance(left, exp.Interval) and _is(right, "DATE"):
        return exp.Add(this=left.copy(), expression=exp.cast(right.copy(), "TIMESTAMP"))
    return node


def decimal_floor_division(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``//`` divides integers only; of a DECIMAL or a DOUBLE it is ``/`` (NULL by
    zero)."""
    from sqlglot import exp

    if isinstance(node, exp.IntDiv) and (
        _is(node.this, "DECIMAL", "DOUBLE", "FLOAT")
        or _is(node.expression, "DECIMAL", "DOUBLE", "FLOAT")
    ):
        divisor = node.expression.copy()
        if not _nonzero_literal(divisor):  # by zero it is NULL, not inf
            divisor = exp.Nullif(this=divisor, expression=exp.Literal.number(0))
        return exp.Div(this=node.this.copy(), expression=divisor)
    return node
